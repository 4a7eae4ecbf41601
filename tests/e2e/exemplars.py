#!/usr/bin/env python3
"""e2e: Debian's Prometheus (2.42) with --enable-feature=exemplar-storage stores
the exporter's exemplars; /api/v1/query_exemplars returns the request ids the
log carried.

Two Prometheus servers scrape the same exporter every second: one with
exemplar storage only (it negotiates OpenMetrics text), one with exemplar
storage and native histograms (protobuf, exemplars on the classic buckets
and the counters).  The log (nginx log_format with $request_id, times of
now) gets two waves of 8 lines, each line alone in its response series, its
histogram series (method and class) and its bucket, so each id is the newest
exemplar of all three when Prometheus scrapes.  (Prometheus 2.42 takes one
exemplar per native histogram per scrape, the lowest bucket's: with two
lines in one series it would store only one of their ids.)  Checks, on both servers: every id of the log is among
the exemplars of accesslog_http_responses_total and of the request duration
histogram, with the line's request time as the value and the line's time as
the timestamp.  Bounded: every wait has a deadline; processes are stopped on
exit."""
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2ekit import free_ports, get, wait_for  # noqa: E402
import e2ekit  # noqa: E402

FORMAT = ('$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time '
          '$request_id')
CODES = (200, 201, 204, 301, 404, 500, 502, 503)
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "PROPFIND")
TIMES = (0.003, 0.007, 0.02, 0.04, 0.08, 0.2, 0.4, 0.8)  # one default bucket each


def wave(log, n):
    now = time.time()
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
    rows = []
    for code, t in zip(CODES, TIMES):
        rid = "%08x%024x" % (n, code * 1000 + int(t * 1000))
        rows.append((rid, t, int(now)))
    with open(log, "a") as f:
        for (rid, t, _), code, method in zip(rows, CODES, METHODS):
            f.write('10.0.0.1 [%s] "%s / HTTP/1.1" %d 5 %.3f %s\n' % (stamp, method, code, t,
                                                                      rid))
    return rows


def exemplars(prom, selector, start, end):
    url = "http://127.0.0.1:%d/api/v1/query_exemplars?%s" % (prom, urllib.parse.urlencode(
        {"query": selector, "start": start, "end": end}))
    out = json.loads(get(url))
    assert out["status"] == "success", out
    got = {}
    for series in out["data"]:
        for e in series["exemplars"]:
            got[e["labels"]["request_id"]] = (float(e["value"]), float(e["timestamp"]))
    return got


def run(e2e):
    p_exp, p_om, p_pb = free_ports(3)
    log = e2ekit.write_file(e2e, "access.log")
    e2ekit.wait_following(e2ekit.start_exporter(e2e, p_exp, [
        "--format", "nginx", "--log-format", FORMAT, "--metrics.native-histograms",
        "--metrics.new-series-hold", "0", log]))
    for name, port, features in (("om", p_om, "exemplar-storage"),
                                 ("pb", p_pb, "exemplar-storage,native-histograms")):
        e2ekit.start_prometheus(e2e, port, p_exp, rules=False, features=features,
                                name="prometheus-" + name)
    for port in (p_om, p_pb):
        e2ekit.wait_scraping(port, 40)
    start = time.time() - 60
    want = {}
    for n in range(2):
        for rid, t, ts in wave(log, n):
            want[rid] = (t, ts)
        time.sleep(3)  # scrapes of this wave before the next one replaces its exemplars
    for name, port in (("OpenMetrics", p_om), ("protobuf", p_pb)):
        for sel in ('accesslog_http_responses_total{job="accesslog"}',
                    '{__name__=~"accesslog_http_request_duration_seconds(_bucket)?",'
                    'job="accesslog"}'):
            last = {}

            def complete():
                last.update(exemplars(port, sel, start, time.time() + 60))
                return want.keys() <= last.keys()
            try:
                wait_for("exemplars of " + sel, 30, complete)
            except AssertionError:
                e2e.say("%s %s: missing %s, got %s" % (name, sel, sorted(want.keys() - last.keys()),
                                                     last))
                raise
            got = last
            for rid, (t, ts) in want.items():
                value, stamp = got[rid]
                assert stamp == ts, (name, sel, rid, stamp, ts)
                assert value == (1.0 if "responses" in sel else t), (name, sel, rid, value)
            e2e.say("%s: query_exemplars(%s) returns all %d request ids of the log, with "
                    "their values and line times" % (name, sel.split("{")[0] or "duration",
                                                     len(want)))


def main():
    e2ekit.main("exemplars", run, 150)


if __name__ == "__main__":
    main()
