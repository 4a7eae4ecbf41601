#!/usr/bin/env python3
"""Scrape latency and memory under ingestion (see bench/run-scrape).

Usage: scrape_latency.py EXPORTER [SCRAPES] [LINES_PER_S] [--against OLD_EXPORTER]

Starts the exporter on 127.0.0.1 (kernel-chosen port) following 20 nginx log
files, one source each, with $request_time so every source has two
histograms.  A writer thread appends LINES_PER_S lines/s (default 500,000)
spread over the files, cycling through 6 methods x 100 status codes per file:
12,000 response series, about 20,600 samples per scrape in all (the goal names
20k samples; 5 methods, 10,000 series, gave 17,223).  When every
series exists, before the writer starts, the RSS is read ("before the first
scrape"), SCRAPES scrapes of every variant are made and the RSS is read again:
the memory scrapes keep, the goal's figure, with nothing else growing.  Then
the writer runs for 4 s (ingestion's own buffers reach their size) and
SCRAPES (default 500) sequential scrapes per variant are timed, the variants
interleaved (text, OpenMetrics, text + gzip), each from the request to the
last body byte over one keep-alive connection.  Prints p50/p90/p99/max per
variant, both memory figures, and the RSS change over the timed scrapes
(which includes whatever ingestion itself grows while the writer runs).
With --against, the old binary runs at the same time on its own files with
its own writer, its scrapes interleaved with the new one's: a before/after
pair from one invocation under the same load.  The exporter's CPU time per
scrape (from /proc, ingestion included when the writer runs) is printed as a
figure that holds on a loaded machine, where latency does not.
"""
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

N_FILES = 20
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]
CODES = [c for c in range(200, 600) if c % 4 == 0][:100]
FMT = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
       '"$http_referer" "$http_user_agent" $request_time')
SERIES_PER_FILE = len(METHODS) * len(CODES)  # one block makes every series of a file
VARIANTS = [("text", {}), ("openmetrics", {"Accept": "application/openmetrics-text; "
                                                    "version=1.0.0; charset=utf-8"}),
            ("text+gzip", {"Accept-Encoding": "gzip"})]


def block(lines, seed):
    out = []
    for i in range(lines):
        k = (i + seed) % (len(METHODS) * len(CODES))
        m, c = METHODS[k % len(METHODS)], CODES[k // len(METHODS)]
        out.append('10.0.%d.%d - - [03/Dec/2026:10:00:00 +0000] "%s /p/%d HTTP/1.1" %d %d "-" '
                   '"bench/1.0" 0.%03d\n' % (seed, i % 250, m, i % 97, c, i % 5000, i % 1000))
    return "".join(out).encode()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Target:
    """One exporter on its own 20 files, with its own writer thread."""

    def __init__(self, exe, rate):
        self.exe, self.rate = exe, rate
        self.d = tempfile.mkdtemp(prefix="scrape-bench.")
        self.blocks = [block(SERIES_PER_FILE, s) for s in range(N_FILES)]
        self.paths = [os.path.join(self.d, "a%02d.log" % i) for i in range(N_FILES)]
        for p in self.paths:
            open(p, "wb").close()  # empty: read from its end, which is its start
        cfg = os.path.join(self.d, "c.yml")
        with open(cfg, "w") as f:
            f.write("metrics:\n  new_series_hold: 0s\nsources:\n")
            for i, p in enumerate(self.paths):
                f.write("  - name: s%02d\n    format: nginx\n    log_format: '%s'\n"
                        "    paths: ['%s']\n" % (i, FMT, p))
        self.proc, self.port = benchkit.start_exporter(exe, ["--config.file", cfg], self.d)
        for p, b in zip(self.paths, self.blocks):
            with open(p, "ab") as f:
                f.write(b)  # every series exists once this block is read
        self.stop = threading.Event()
        self.written = 0
        self.times = {v[0]: [] for v in VARIANTS}
        self.samples = {}

    def writer(self):
        fds = [open(p, "ab", buffering=0) for p in self.paths]
        per_tick = self.rate // 100 // N_FILES  # 100 ticks/s
        if per_tick == 0:
            return
        chunk = [b"".join(b.splitlines(True)[:per_tick]) for b in self.blocks]
        t0 = time.monotonic()
        tick = 0
        while not self.stop.is_set():
            for f, c in zip(fds, chunk):
                f.write(c)
            self.written += per_tick * N_FILES
            tick += 1
            delay = t0 + tick / 100.0 - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def start_writer(self):
        self.wt = threading.Thread(target=self.writer, daemon=True)
        self.wt.start()

    def idle_scrapes(self, scrapes):
        """The memory goal: RSS before the first scrape (every series exists,
        no writer yet) and after SCRAPES scrapes of every variant."""
        self.idle_before = rss_kib(self.proc.pid)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        for _ in range(scrapes):
            for _, hdrs in VARIANTS:
                conn.request("GET", "/metrics", headers=hdrs)
                conn.getresponse().read()
        conn.close()
        time.sleep(0.3)
        self.idle_after = rss_kib(self.proc.pid)
        self.idle_n = scrapes

    def start(self):
        self.before = rss_kib(self.proc.pid)
        self.cpu0 = cpu_s(self.proc.pid)
        self.written0 = self.written
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.t_start = time.monotonic()

    def scrape(self, first, name, hdrs):
        t0 = time.perf_counter()
        self.conn.request("GET", "/metrics", headers=hdrs)
        body = self.conn.getresponse().read()
        self.times[name].append((time.perf_counter() - t0) * 1000)
        if first and name != "text+gzip":
            self.samples[name] = sum(1 for l in body.decode().splitlines()
                                     if l and not l.startswith("#"))

    def finish(self, scrapes):
        elapsed = time.monotonic() - self.t_start
        self.stop.set()
        self.wt.join()
        cpu = cpu_s(self.proc.pid) - self.cpu0
        time.sleep(0.5)
        after = rss_kib(self.proc.pid)
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.d, ignore_errors=True)
        print("%s: %d scrapes per variant while writing %.0f lines/s (%.1f s)" % (
            self.exe, scrapes, (self.written - self.written0) / elapsed, elapsed))
        print("  samples per scrape: text %d, OpenMetrics %d%s" % (
            self.samples["text"], self.samples["openmetrics"],
            "" if min(self.samples.values()) >= 20000 else " (fewer than the goal's 20,000!)"))
        for name, _ in VARIANTS:
            t = sorted(self.times[name])
            q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
            print("  %-12s p50 %6.2f ms  p90 %6.2f  p99 %6.2f  max %6.2f" % (
                name, statistics.median(t), q(0.90), q(0.99), t[-1]))
        print("  exporter CPU during the scrapes: %.2f s (%.2f ms per scrape%s)" % (
            cpu, 1000 * cpu / (3 * scrapes), ", ingestion included" if self.rate else ""))
        print("  RSS before the first scrape %.1f MiB (%d response series, no writer), after %d"
              " scrapes %.1f MiB: kept %.2f MiB (goal: at most 2 MiB)" % (
                  self.idle_before / 1024, N_FILES * SERIES_PER_FILE, 3 * self.idle_n, self.idle_after / 1024,
                  (self.idle_after - self.idle_before) / 1024))
        print("  RSS while writing: at the first timed scrape %.1f MiB, after %d more scrapes %.1f MiB:"
              " %+.2f MiB (ingestion's own growth included)" % (
                  self.before / 1024, 3 * scrapes, after / 1024, (after - self.before) / 1024))


def run(exes, scrapes, rate):
    targets = [Target(e, rate) for e in exes]
    time.sleep(2.0)  # every series exists once its block is read
    for t in targets:
        t.idle_scrapes(scrapes)
    for t in targets:
        t.start_writer()
    time.sleep(4.0)  # ingestion's own memory (read buffers) settles first
    for t in targets:
        t.start()
    for i in range(scrapes):  # interleaved: every exporter and variant in turn
        for name, hdrs in VARIANTS:
            for t in targets:
                t.scrape(i == 0, name, hdrs)
    for t in targets:
        t.finish(scrapes)


def main():
    args = sys.argv[1:]
    old = benchkit.against(args)
    exe = args[0]
    scrapes = int(args[1]) if len(args) > 1 else 500
    rate = int(args[2]) if len(args) > 2 else 500000
    benchkit.print_machine()
    run([exe] + ([old] if old else []), scrapes, rate)

main()
