#!/usr/bin/env python3
"""Integration: --threads gives the same bytes as one thread.

Three files (one of 150,000 lines: dozens of parser batches), with
unparsable lines, a line over the line cap, CRLF endings, a final line
without a newline, lines out of time order, request times (histogram sums
depend on the order of additions) and a gzip rotation:
- --once with --threads 1, 2, 3 and 8 prints identical text (but for the
  last-read wall-clock gauge), and the counts are those of the generator;
- --backfill - with --threads 1, 2 and 8 writes identical bytes;
- a JSON source (parsed on one thread) and bad --threads values."""
import gzip
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import binary, parse_exposition, value  # noqa: E402

FMT = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
       '"$http_referer" "$http_user_agent" $request_time')
CODES = [200, 200, 200, 404, 500, 301, 503, 206]


def make_logs(tmp):
    rnd = random.Random(15)
    counts = {}

    def line(i):
        code = rnd.choice(CODES)
        counts[code] = counts.get(code, 0) + 1
        sec = i // 20 + (rnd.randrange(5) if i % 7 == 0 else 0)
        return '10.0.%d.%d - - [03/Dec/2026:%02d:%02d:%02d +0000] "GET /p%d HTTP/1.1" %d %d "-" "t" %d.%03d' % (
            i % 256, i % 7, sec // 3600 % 24, sec // 60 % 60, sec % 60, i % 13, code,
            rnd.randrange(9999), rnd.randrange(3), rnd.randrange(1000))

    big = os.path.join(tmp, "big.log")
    with open(big, "w", newline="") as f:
        for i in range(150000):
            if i % 997 == 0:
                f.write("garbage %d\n" % i)
            elif i == 5000:
                f.write("x" * 70000 + "\n")
            else:
                f.write(line(i) + ("\r\n" if i % 11 == 0 else "\n"))
        f.write(line(150000))  # no final newline
    small = os.path.join(tmp, "small.log")
    with open(small, "w") as f:
        for i in range(150001, 152000):
            f.write(line(i) + "\n")
    old = os.path.join(tmp, "old.log.1.gz")
    with gzip.open(old, "wt") as f:
        for i in range(0, 3000):
            f.write(line(i).replace("03/Dec", "02/Dec") + "\n")
    os.utime(old, (1, 1))
    return [old, big, small], counts


def run(args):
    p = subprocess.run([binary()] + args, capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode()


def without_wall_clock(text):
    return "\n".join(l for l in text.split("\n")
                     if not l.startswith("accesslog_log_last_read_timestamp_seconds"))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        files, counts = make_logs(tmp)
        base = ["--format", "nginx", "--log-format", FMT]
        once = {n: run(["--once", "--threads", str(n)] + base + files) for n in (1, 2, 3, 8)}
        for n, text in once.items():
            assert without_wall_clock(text) == without_wall_clock(once[1]), \
                "--once --threads %d differs from one thread" % n
        s = parse_exposition(once[1])
        for code, n in counts.items():
            assert value(s, "accesslog_http_responses_total", code=code) == n, code
        assert value(s, "accesslog_log_lines_too_long_total") == 1
        assert value(s, "accesslog_log_parse_errors_total") == 151
        print("ok --once: threads 1, 2, 3, 8 identical, counts exact")

        bf = {n: run(["--backfill", "-", "--threads", str(n)] + base + files) for n in (1, 2, 8)}
        for n, text in bf.items():
            assert text == bf[1], "--backfill --threads %d differs from one thread" % n
        assert bf[1].endswith("# EOF\n") and len(bf[1]) > 100000
        print("ok --backfill: threads 1, 2, 8 byte-identical")

        js = os.path.join(tmp, "j.log")
        with open(js, "w") as f:
            f.write('{"status":200,"time":"2026-12-03T10:00:00Z"}\n' * 10)
        a = run(["--once", "--threads", "4", "--format", "json", js])
        assert value(parse_exposition(a), "accesslog_http_responses_total", code="200") == 10
        for bad in ("0", "x", "257", ""):
            p = subprocess.run([binary(), "--once", "--threads", bad, js], capture_output=True)
            assert p.returncode == 2 and b"--threads" in p.stderr, (bad, p.stderr)
        print("ok JSON source on one thread; bad --threads values refused")


if __name__ == "__main__":
    main()
