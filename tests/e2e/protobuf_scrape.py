#!/usr/bin/env python3
"""e2e: Debian's Prometheus scrapes the protobuf exposition.

Prometheus runs with --enable-feature=native-histograms, which makes it ask
for the protobuf format first.  It scrapes the exporter through a small
recording proxy (both on 127.0.0.1) that proves the format on the wire:
the Accept header named protobuf and every answer was
application/vnd.google.protobuf.  The exporter has read a fixed log
(status codes, methods, field labels, static labels with quotes and
non-ASCII, request and upstream times), so nothing changes between
scrapes.  Checks: every accesslog_* series Prometheus stored (job and
instance labels aside) equals the text scrape of the same exporter, same
label sets and same values, histograms included; and histogram_quantile
over the classic buckets gives the same answer from Prometheus as from the
text scrape's buckets.  Bounded: every wait has a deadline, processes are
stopped on exit."""
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2ekit import ROOT, free_ports, get, query, wait_for  # noqa: E402
import e2ekit  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import parse_exposition  # noqa: E402

FORMAT = ('$host $remote_addr [$time_local] "$request" $status $body_bytes_sent '
          '$request_time $upstream_response_time')
LINE = '%s 203.0.113.9 [25/Nov/2026:10:00:00 +0000] "%s / HTTP/1.1" %d 100 %.3f %s\n'
PB = "application/vnd.google.protobuf"
seen = []  # (Accept, Content-Type) of every scrape through the proxy


def say(msg):
    print("protobuf_scrape: %s" % msg, flush=True)


def proxy(listen, target):
    """Forward GET /metrics to the exporter, recording the negotiation."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() in ("accept", "accept-encoding")}
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (target, self.path),
                                         headers=headers)
            with urllib.request.urlopen(req, timeout=5) as r:
                body, ct = r.read(), r.headers["Content-Type"]
                enc = r.headers.get("Content-Encoding")
            seen.append((self.headers.get("Accept", ""), ct))
            self.send_response(200)
            self.send_header("Content-Type", ct)
            if enc:
                self.send_header("Content-Encoding", enc)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", listen), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def write_log(path):
    """A fixed log: (host, method, status, request time, upstream time)."""
    rows = []
    for i in range(200):
        host = ("a.example", "b.example", "c.example")[i % 3]
        method = ("GET", "GET", "POST", "PUT")[i % 4]
        status = (200, 200, 200, 404, 503, 301, 500)[i % 7]
        t = 0.001 * (i * 37 % 1000) + (2.0 if i % 11 == 0 else 0.0)
        up = "-" if i % 5 == 0 else "%.3f" % (t * 0.8)
        rows.append(LINE % (host, method, status, t, up))
    with open(path, "a") as f:
        f.writelines(rows)
    return len(rows)


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def run(e2e):
    p_exp, p_proxy, p_prom = free_ports(3)
    log = e2ekit.write_file(e2e, "access.log")
    cfg = e2ekit.write_file(e2e, "config.yml", """sources:
  - name: web
    format: nginx
    log_format: '%(fmt)s'
    paths: [%(log)s]
    labels: {env: 'q"uo\\\\te café'}
    field_labels:
      - name: vhost
        field: vhost
  - name: flat
    format: nginx
    log_format: '%(fmt)s'
    paths: [%(log)s]
""" % {"fmt": FORMAT, "log": json.dumps(log)})
    metrics = e2ekit.start_exporter(e2e, p_exp, ["--metrics.new-series-hold", "0",
                                                 "--config.file", cfg])
    wait_for("the exporter to follow the log", 10, lambda: b"accesslog_log_file_open" in get(
        metrics) and all(line.endswith(b" 1") for line in get(metrics).splitlines()
                         if line.startswith(b"accesslog_log_file_open{")))
    n = write_log(log)
    wait_for("the exporter to read the log", 10, lambda: sum(
        v for (name, _), v in parse_exposition(get(metrics).decode()).items()
        if name == "accesslog_log_lines_total") == 2 * n)
    text = get(metrics).decode()
    say("exporter read %d lines per source" % n)

    srv = proxy(p_proxy, p_exp)
    e2ekit.start_prometheus(e2e, p_prom, p_proxy, rules=False, features="native-histograms")
    try:
        wait_for("prometheus to scrape", 40, lambda: query(p_prom, 'up{job="accesslog"}') and
                 query(p_prom, 'count({job="accesslog",__name__=~"accesslog_.+"})'))
        time.sleep(2)  # a few more scrapes
        got = query(p_prom, '{job="accesslog",__name__=~"accesslog_.+"}')
        check_bucket_quantile(p_prom, text)
    finally:
        srv.shutdown()
    assert seen, "no scrape went through the proxy"
    assert all(a.startswith(PB + ";") for a, _ in seen), set(a for a, _ in seen)
    assert all(ct.startswith(PB + ";") for _, ct in seen), set(ct for _, ct in seen)
    say("%d scrapes, all asked for and answered in protobuf" % len(seen))

    want = {}
    for (name, labels), v in parse_exposition(text).items():
        if name.startswith("accesslog_"):
            want[(name, frozenset((k, unescape(x)) for k, x in labels))] = v
    have = {}
    for r in got:
        m = dict(r["metric"])
        name = m.pop("__name__")
        assert m.pop("job") == "accesslog"
        m.pop("instance")
        have[(name, frozenset(m.items()))] = float(r["value"][1])
    missing, extra = want.keys() - have.keys(), have.keys() - want.keys()
    assert not missing and not extra, ("missing in Prometheus", sorted(missing)[:5],
                                       "not in the text scrape", sorted(extra)[:5])
    diff = [(k, want[k], have[k]) for k in want if want[k] != have[k]]
    assert not diff, diff[:5]
    hist = [k for k in want if k[0].endswith("_bucket")]
    say("Prometheus holds the %d series of the text scrape (%d histogram buckets), "
        "values equal" % (len(want), len(hist)))


def check_bucket_quantile(prom, text):
    """histogram_quantile from Prometheus equals the same interpolation over
    the text scrape's cumulative buckets (all sources and labels summed)."""
    buckets = {}
    for (name, labels), v in parse_exposition(text).items():
        if name == "accesslog_http_request_duration_seconds_bucket":
            le = float(dict(labels)["le"])
            buckets[le] = buckets.get(le, 0.0) + v
    les = sorted(buckets)
    total, q = buckets[les[-1]], 0.9
    rank, prev_le, prev = q * total, 0.0, 0.0
    for le in les:
        if buckets[le] >= rank:
            want = prev_le + (le - prev_le) * (rank - prev) / (buckets[le] - prev)
            break
        prev_le, prev = le, buckets[le]
    r = query(prom, 'histogram_quantile(0.9, sum by (le) '
                    '(accesslog_http_request_duration_seconds_bucket{job="accesslog"}))')
    got = float(r[0]["value"][1])
    assert abs(got - want) < 1e-9, (got, want)
    say("histogram_quantile(0.9) over the classic buckets: %.6f, as from the text" % got)


def main():
    e2ekit.main("protobuf_scrape", run, 180)


if __name__ == "__main__":
    main()
