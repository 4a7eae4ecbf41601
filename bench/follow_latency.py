#!/usr/bin/env python3
"""How far /metrics trails a writer in follow mode (see bench/run-follow).

Usage: follow_latency.py EXPORTER [SECONDS] [LINES_PER_S] [--against OLD_EXPORTER]

Starts the exporter (127.0.0.1, kernel-chosen port, --metrics.new-series-hold
0s) following one empty log file, read as combined.  A writer thread appends
LINES_PER_S lines/s (default 1,000,000) in 100 ticks per second and notes,
for every tick, the time its write() returned and the lines written so far.
A prober scrapes /metrics back to back on one keep-alive connection; for each
scrape, the lag is the time the answer arrived minus the time the writer had
finished writing the count the answer shows (the count's line was on disk
since then; a count between ticks is charged from the tick that completed
it).  Prints the distribution of the lag and the writer's achieved rate.
With --against, the old binary runs the same way right after (two
exporters at 1M lines/s each at once would need more than 2 cores).
"""
import bisect
import http.client
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time

import benchkit

LINE = ('192.0.2.%d - - [03/Dec/2026:10:00:00 +0000] "GET /item/%d HTTP/1.1" %d 512 '
        '"https://example.com/" "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0"\n')
TOTAL_RE = re.compile(r'^accesslog_http_responses_total\{[^}]*\} (\S+)$', re.M)


def run(exe, seconds, rate):
    d = tempfile.mkdtemp(prefix="follow-bench.")
    path = os.path.join(d, "access.log")
    open(path, "wb").close()
    proc, port = benchkit.start_exporter(exe, ["--metrics.new-series-hold", "0s",
                                               "--format", "combined", path], d)
    per_tick = max(1, rate // 100)
    blob = "".join(LINE % (i % 250, i, (200, 404, 500)[i % 3]) for i in range(per_tick)).encode()
    marks_t, marks_n = [0.0], [0]  # writer: time each tick's write returned, lines so far
    stop = threading.Event()

    def writer():
        with open(path, "ab", buffering=0) as f:
            t0 = time.monotonic()
            tick = 0
            while not stop.is_set():
                f.write(blob)
                tick += 1
                marks_n.append(tick * per_tick)
                marks_t.append(time.monotonic())
                delay = t0 + tick / 100.0 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    wt = threading.Thread(target=writer, daemon=True)
    t_start = time.monotonic()
    wt.start()
    lags = []
    while time.monotonic() - t_start < seconds:
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode()
        t_recv = time.monotonic()
        count = int(sum(float(v) for v in TOTAL_RE.findall(body)))
        n_marks = len(marks_n)  # the writer appends; read a consistent prefix
        i = bisect.bisect_left(marks_n, count, 0, n_marks)
        if i >= n_marks or count == 0:
            continue
        lags.append((t_recv - marks_t[i]) * 1000)
    stop.set()
    wt.join()
    elapsed = time.monotonic() - t_start
    proc.terminate()
    proc.wait()
    shutil.rmtree(d, ignore_errors=True)
    lags.sort()
    q = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))]
    print("%s: writer %.0f lines/s for %.1f s, %d scrapes" % (
        exe, marks_n[-1] / elapsed, elapsed, len(lags)))
    print("  lag of /metrics behind the writer: p50 %.1f ms  p90 %.1f  p99 %.1f  max %.1f" % (
        statistics.median(lags), q(0.90), q(0.99), lags[-1]))
    hist = [(5, 0), (10, 0), (25, 0), (50, 0), (100, 0), (250, 0), (float("inf"), 0)]
    counts = [sum(1 for l in lags if l <= b) for b, _ in hist]
    print("  share at most 5/10/25/50/100/250 ms: " + " / ".join(
        "%.1f%%" % (100.0 * c / len(lags)) for c in counts[:-1]))


def main():
    args = sys.argv[1:]
    old = benchkit.against(args)
    seconds = float(args[1]) if len(args) > 1 else 10
    rate = int(args[2]) if len(args) > 2 else 1000000
    benchkit.print_machine()
    run(args[0], seconds, rate)
    if old:
        run(old, seconds, rate)

main()
