#!/usr/bin/env python3
"""Integration: scrapes and ingestion do not block each other.

A writer appends access-log lines to the followed file as fast as it can,
so the exporter ingests a backlog at full speed, while a scraper scrapes
/metrics in a loop until every line is counted.  Both must make progress:
many scrapes with a bounded worst-case latency, and the exporter's line
response counter growing across every span of WINDOW seconds between two
scrapes of the ingestion period (no stall behind the scrapes); at the end
every line is counted exactly once."""
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, value  # noqa: E402

MAX_LINES = 3000000       # about 250 MB of log
MIN_SCRAPES = 20
MAX_SCRAPE_SECONDS = 2.0  # worst single scrape
WINDOW = 0.2              # seconds in which the line counter must grow
TIMEOUT = 90.0
LINE = ('203.0.113.%d - - [25/Nov/2026:10:00:00 +0000] "GET /p%d HTTP/1.1" %d 512 '
        '"-" "load/1"\n')


def writer(path, written):
    block = "".join(LINE % (i % 250, i, (200, 404, 503, 301)[i % 4]) for i in range(2000))
    block = block.encode()
    n = 0
    with open(path, "ab", buffering=0) as f:
        while n < MAX_LINES:
            f.write(block)
            n += 2000
    written.append(n)


def stalled_windows(seen, start, end):
    """Spans of at least WINDOW seconds between two scrapes inside the
    ingestion period [start, end) across which the counter did not grow:
    ingestion waited (on a scrape, or on anything else).  A window in which
    no scrape finished is not a stall by itself: the scraper is one thread
    and may be slow on a loaded machine or a sanitizer build, and the next
    scrape shows whether the counter kept growing meanwhile."""
    pts = [(at, n) for at, n in seen if start <= at < end]
    bad = []
    j = 0
    for i, (at, n) in enumerate(pts):
        j = max(j, i + 1)
        while j < len(pts) and pts[j][0] - at < WINDOW:
            j += 1
        if j < len(pts) and pts[j][1] <= n:
            bad.append((round(at, 2), round(pts[j][0] - at, 2)))
    return bad


def main():
    tmp = tempfile.mkdtemp()
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()
    exp = Exporter(["--source", "load", log])
    try:
        written, latencies, seen = [], [], []
        t0 = time.time()
        t = threading.Thread(target=writer, args=(log, written))
        t.start()
        while time.time() - t0 < TIMEOUT:
            s0 = time.time()
            s = exp.scrape()  # also asserts: parseable, no duplicate series
            latencies.append(time.time() - s0)
            # Responses are counted per line (lines_total once per poll of the file).
            n = value(s, "accesslog_http_responses_total", source="load")
            seen.append((time.time() - t0, n))
            if written and n >= written[0]:
                break
        t.join()
        total = written[0]
        final = exp.wait_for(
            lambda s: value(s, "accesslog_log_lines_total", source="load") >= total)
        assert value(final, "accesslog_log_lines_total", source="load") == total, "lines"
        assert value(final, "accesslog_log_parse_errors_total", source="load") == 0
        for code in (200, 404, 503, 301):
            assert value(final, "accesslog_http_responses_total", code=str(code)) == total / 4
        counts = [n for _, n in seen]
        assert all(b >= a for a, b in zip(counts, counts[1:])), "counter went back"
        # The ingestion period: from the first counted line to the last.
        start = next(at for at, n in seen if n > 0)
        end = next(at for at, n in seen if n >= total)
        scrapes = [at for at, _ in seen if start <= at <= end]
        assert len(scrapes) >= MIN_SCRAPES, "only %d scrapes while ingesting" % len(scrapes)
        assert max(latencies) < MAX_SCRAPE_SECONDS, "slowest scrape %.3fs" % max(latencies)
        bad = stalled_windows(seen, start, end)
        assert not bad, "ingestion or scraping stalled in windows %r" % bad
        lat = sorted(latencies)
        print("ok %d lines ingested in %.2fs (%.0f lines/s) during %d scrapes; scrape median "
              "%.1f ms, max %.1f ms" % (total, end - start, total / (end - start), len(scrapes),
                                          1000 * lat[len(lat) // 2], 1000 * lat[-1]))
    finally:
        rc = exp.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    assert rc == 0, "exporter exit code %s: %s" % (rc, exp.log())


if __name__ == "__main__":
    main()
