#!/usr/bin/env python3
"""e2e: Debian's Prometheus (2.42, --enable-feature=native-histograms) scrapes
the exporter's native histograms over protobuf.

The exporter (--metrics.native-histograms, schema 3: buckets 2^(1/8) wide)
follows an empty log; a fixed log of request times (zeros, 1 ms to 30 s,
log-normal around 80 ms) is appended at once.  A 3 s new-series hold makes
Prometheus see each histogram at 0 before its counts, so rate() over a
minute covers every line.  Checks:
- Prometheus stores the duration families as native histograms (the query
  API answers "histogram", not "value"), sample count = the log's lines;
- histogram_quantile(0.99, sum(rate(...[1m]))) on the native series agrees
  with the exact p99 of the log (nearest rank) within the schema's relative
  error 2^(1/8) - 1 (9.05%); the same for p50 and p90, and for the upstream
  times.  (Prometheus 2.42 interpolates linearly inside the bucket, so the
  estimate and the exact value lie in the same bucket.)
Bounded: every wait has a deadline; processes are stopped on exit."""
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2ekit import free_ports, get, query, wait_for  # noqa: E402
import e2ekit  # noqa: E402

FORMAT = ('$host $remote_addr [$time_local] "$request" $status $body_bytes_sent '
          '$request_time $upstream_response_time')
LINE = 'a.example 203.0.113.9 [25/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 100 %s %s\n'
SCHEMA = 3
N = 4000


def times():
    rnd = random.Random(16)
    req, up = [], []
    for i in range(N):
        t = 0.0 if i % 40 == 0 else min(30.0, rnd.lognormvariate(math.log(0.08), 1.3))
        req.append("%.3f" % t)
        up.append("-" if i % 7 == 0 else "%.3f" % (t * 0.7))
    return req, up


def exact(values, q):
    """Nearest-rank quantile: the ceil(q * n)-th smallest."""
    v = sorted(float(x) for x in values if x != "-")
    return v[max(0, math.ceil(q * len(v)) - 1)]


def run(e2e):
    p_exp, p_prom = free_ports(2)
    log = e2ekit.write_file(e2e, "access.log")
    metrics = e2ekit.start_exporter(e2e, p_exp, [
        "--format", "nginx", "--log-format", FORMAT, "--metrics.native-histograms",
        "--metrics.new-series-hold", "3s", log])
    wait_for("the exporter to follow the log", 10,
             lambda: b'accesslog_log_file_open{source="access",path=' in get(metrics))
    e2ekit.start_prometheus(e2e, p_prom, p_exp, rules=False, features="native-histograms")
    e2ekit.wait_scraping(p_prom, 40)
    req, up = times()
    with open(log, "a") as f:
        f.writelines(LINE % (a, b) for a, b in zip(req, up))
    fam = "accesslog_http_request_duration_seconds"
    # Held at 0 for 3 s, then the counts: wait until Prometheus has the full count.
    r = wait_for("the native histogram in Prometheus", 40, lambda: [
        x for x in query(p_prom, '%s{job="accesslog"}' % fam)
        if "histogram" in x and float(x["histogram"][1]["count"]) == N])
    assert "value" not in r[0], r[0]
    e2e.say("Prometheus stores %s as a native histogram: count %s, %d buckets"
            % (fam, r[0]["histogram"][1]["count"], len(r[0]["histogram"][1]["buckets"])))
    time.sleep(2)  # rate() over [1m] now spans the 0 and the full histogram
    err = 2 ** (2 ** -SCHEMA) - 1
    for name, values in ((fam, req), ("accesslog_http_upstream_duration_seconds", up)):
        for q in (0.5, 0.9, 0.99):
            got = wait_for("histogram_quantile", 20, lambda: query(
                p_prom, 'histogram_quantile(%g, sum(rate(%s{job="accesslog"}[1m])))'
                % (q, name)))
            est, want = float(got[0]["value"][1]), exact(values, q)
            rel = abs(est - want) / want
            assert rel <= err, (name, q, est, want, rel, err)
            e2e.say("%s p%g: Prometheus %.6f, exact %.3f, relative error %.4f <= %.4f"
                    % (name, q * 100, est, want, rel, err))


def main():
    e2ekit.main("native_histograms", run, 150)


if __name__ == "__main__":
    main()
