#!/usr/bin/env python3
"""Integration: --threads gives the same bytes as one thread.

Three files (one of 150,000 lines: dozens of parser batches), with
unparsable lines, a line over the line cap, CRLF endings, a final line
without a newline, lines out of time order, request times (histogram sums
depend on the order of additions) and a gzip rotation:
- --once with --threads 1, 2, 3 and 8 prints identical text (but for the
  last-read wall-clock gauge), and the counts are those of the generator;
- --backfill - with --threads 1, 2 and 8 writes identical bytes, also with
  late lines, unreadable times, short steps and --backfill.until;
- the failing lines sampled for --once's report on stderr are the same;
- a source with field labels (its lines parsed on several cores, counted
  in order: parsepool) and a JSON source with unparsable and over-long
  lines (counted per batch like the others: countpool) give the same
  output for every thread count; bad --threads values are refused;
- a file longer than one read poll (64 MiB: where a poll ends depends on
  the read sizes, which differ with threads): --backfill byte-identical,
  bytes read at the last step equal to --once's;
- a format with the request and response size and the upstream connect
  and header times (lists of attempts, "-"): --once with --threads 1, 2, 8
  identical, --backfill with 1 and 2 byte-identical, its last step equal to
  --once in the four families, each histogram's count that of the lines
  that have the value."""
import gzip
import re
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


def run(args, want_rc=0):
    p = subprocess.run([binary()] + args, capture_output=True, timeout=300)
    assert p.returncode == want_rc, p.stderr.decode()
    run.stderr = p.stderr.decode()
    return p.stdout.decode()


def samples(stderr):
    """The failing lines --once reports (msg order, without timestamps)."""
    return [re.sub(r'\bts=\S+ ', '', l) for l in stderr.splitlines() if 'line=' in l]


def without_wall_clock(text):
    return "\n".join(l for l in text.split("\n")
                     if not l.startswith("accesslog_log_last_read_timestamp_seconds"))


SIZES_FMT = ('$remote_addr [$time_local] "$request" $status $bytes_sent $request_length '
             '$request_time $upstream_response_time $upstream_connect_time $upstream_header_time')
SIZE_FAMS = ("accesslog_http_request_size_bytes", "accesslog_http_response_size_bytes",
             "accesslog_http_upstream_connect_duration_seconds",
             "accesslog_http_upstream_header_duration_seconds")


def sizes(tmp):
    rnd = random.Random(13)
    log = os.path.join(tmp, "sizes.log")
    has = dict.fromkeys(SIZE_FAMS, 0)

    def phase(fam):
        if rnd.randrange(5) == 0:
            return "-"
        has[fam] += 1
        n = 1 + (rnd.randrange(4) == 0)
        return ", ".join("0.%03d" % rnd.randrange(300) for _ in range(n))

    with open(log, "w") as f:
        for i in range(40000):
            sec = i // 40
            up = phase(SIZE_FAMS[2])
            hdr = phase(SIZE_FAMS[3])
            has[SIZE_FAMS[0]] += 1
            has[SIZE_FAMS[1]] += 1
            f.write('10.0.0.%d [03/Dec/2026:10:%02d:%02d +0000] "%s /p%d HTTP/1.1" %d %d %d '
                    '0.%03d 0.%03d %s %s\n' % (
                        i % 200, sec // 60 % 60, sec % 60, rnd.choice(["GET", "POST"]), i % 9,
                        rnd.choice(CODES), rnd.randrange(200000), 100 + rnd.randrange(5000),
                        rnd.randrange(999), rnd.randrange(999), up, hdr))
    cfg = os.path.join(tmp, "sizes.yml")
    with open(cfg, "w") as f:
        f.write("metrics:\n  response_size_buckets: [1024, 65536]\nsources:\n"
                "  - name: s\n    format: nginx\n    log_format: '%s'\n    paths: [%s]\n"
                % (SIZES_FMT, log))
    once = {n: run(["--once", "--threads", str(n), "--config.file", cfg]) for n in (1, 2, 8)}
    for n, text in once.items():
        assert without_wall_clock(text) == without_wall_clock(once[1]), n
    s = parse_exposition(once[1])
    for fam in SIZE_FAMS:
        total = sum(v for k, v in s.items() if k[0] == fam + "_count")
        assert total == has[fam], (fam, total, has[fam])
    bf = {n: run(["--backfill", "-", "--threads", str(n), "--config.file", cfg]) for n in (1, 2)}
    assert bf[1] == bf[2], "--backfill --threads 2 differs"
    last = {}
    for line in bf[1].splitlines():
        if line.startswith(SIZE_FAMS) and not line.startswith("#"):
            key, v, _ = line.rsplit(" ", 2)
            last[key] = float(v)
    for line in once[1].splitlines():
        if line.startswith(SIZE_FAMS):
            key, v = line.rsplit(" ", 1)
            if key.split("{")[0].endswith("_sum"):
                assert abs(last[key] - float(v)) <= 1e-9 * max(1, float(v)), key
            else:
                assert last[key] == float(v), (key, last.get(key), v)
    for fam in SIZE_FAMS:
        assert "# TYPE %s histogram" % fam in bf[1], fam
    print("ok sizes and upstream phases: threads 1, 2, 8 identical, counts exact, in backfill")


def over_one_poll(tmp, base):
    """A 74 MB file: more than one 64 MiB read poll."""
    big = os.path.join(tmp, "poll.log")
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " * 2
    with open(big, "w") as f:
        for blk in range(330):
            f.write("".join(
                '10.1.%d.%d - - [03/Dec/2026:%02d:%02d:%02d +0000] "GET /q%d HTTP/1.1" %d 9 "-" "%s" 0.%03d\n'
                % (blk, i % 250, blk // 60 % 24, blk % 60, i // 20, i % 5, CODES[i % 8], ua, i % 1000)
                for i in range(1000)))
    assert os.path.getsize(big) > 68 << 20
    bf = {n: run(["--backfill", "-", "--threads", str(n)] + base + [big]) for n in (1, 2)}
    assert bf[1] == bf[2], "--backfill --threads 2 differs from one thread on a file over one poll"
    once = parse_exposition(run(["--once"] + base + [big]))
    last = [l for l in bf[1].splitlines() if l.startswith("accesslog_log_bytes_read_total")][-1]
    assert int(last.split()[1]) == os.path.getsize(big) == value(
        once, "accesslog_log_bytes_read_total"), last
    print("ok --backfill over one 64 MiB poll: threads 1, 2 byte-identical, bytes read exact")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        files, counts = make_logs(tmp)
        base = ["--format", "nginx", "--log-format", FMT]
        once, reports = {}, {}
        for n in (1, 2, 3, 8):
            once[n] = run(["--once", "--threads", str(n)] + base + files)
            reports[n] = samples(run.stderr)
        for n, text in once.items():
            assert without_wall_clock(text) == without_wall_clock(once[1]), \
                "--once --threads %d differs from one thread" % n
            assert reports[n] == reports[1] and len(reports[1]) == 5, (n, reports[n], reports[1])
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

        # Lines six and ten minutes older than those around them (counted in the
        # oldest open step: the step pool hands such batches back to be
        # counted line by line), unreadable times, short steps (more steps
        # per batch than a batch has registries), --backfill.until.
        late = os.path.join(tmp, "late.log")
        rnd2 = random.Random(5)
        with open(late, "w") as f:
            for i in range(60000):
                # six minutes: a step the same batch also counts on time
                t = i // 30 - (360 if i in (26000, 26005) else 600 if i == 50000 else 0)
                t += rnd2.randrange(3)
                l = '10.0.0.1 - - [03/Dec/2026:%02d:%02d:%02d +0000] "GET /p%d HTTP/1.1" %d 5 "-" "t" 0.%03d' % (
                    t // 3600, t // 60 % 60, t % 60, i % 13, rnd2.choice(CODES), rnd2.randrange(1000))
                if i % 7001 == 5:
                    l = l.replace("[03/Dec/2026:00:", "[03/Dec/2026:99:")
                f.write(l + "\n")
        for extra in ([], ["--backfill.step", "10s"], ["--backfill.until", "2026-12-03T00:20:00Z"]):
            b = {}
            for n in (1, 2, 3):
                b[n] = run(["--backfill", "-", "--threads", str(n)] + extra + base + [late])
                if n == 1 and not extra:
                    assert "older than lines before them" in run.stderr, run.stderr
                    assert "without a readable time" in run.stderr, run.stderr
            for n, text in b.items():
                assert text == b[1], "--backfill %r --threads %d differs from one thread" % (extra, n)
            assert b[1].endswith("# EOF\n")
        print("ok --backfill: late lines, unreadable times, 10s steps, until: identical")

        cfg = os.path.join(tmp, "fl.yml")
        with open(cfg, "w") as f:
            f.write("sources:\n  - name: fl\n    format: nginx\n    log_format: '%s'\n"
                    "    paths: [%s]\n    field_labels:\n      - name: route\n"
                    "        field: path\n        match: '^/p([0-9])'\n"
                    "        replacement: '$1'\n" % (FMT, files[1]))
        fl = {n: run(["--once", "--threads", str(n), "--config.file", cfg]) for n in (1, 2, 8)}
        for n, text in fl.items():
            assert without_wall_clock(text) == without_wall_clock(fl[1]), n
        assert 'route="3"' in fl[1]
        print("ok field labels: threads 1, 2, 8 identical")

        js = os.path.join(tmp, "j.log")
        rnd = random.Random(7)
        with open(js, "w") as f:
            for i in range(60000):
                if i % 1000 == 999:
                    f.write('{"status":\n' if i % 2000 == 999 else '{"x":"%s"}\n' % ("y" * 70000))
                else:
                    f.write('{"status":%d,"request_time":%d.%03d,"time":"2026-12-03T10:00:00Z"}\n'
                            % (rnd.choice(CODES), rnd.randrange(3), rnd.randrange(1000)))
        jo = {n: run(["--once", "--threads", str(n), "--format", "json", js]) for n in (1, 2, 4)}
        for n, text in jo.items():
            assert without_wall_clock(text) == without_wall_clock(jo[1]), n
        sj = parse_exposition(jo[1])
        assert value(sj, "accesslog_log_lines_too_long_total") == 30
        assert value(sj, "accesslog_log_parse_errors_total") == 30
        print("ok JSON: threads 1, 2, 4 identical")
        sizes(tmp)
        over_one_poll(tmp, base)
        for bad in ("0", "x", "257", ""):
            p = subprocess.run([binary(), "--once", "--threads", bad, js], capture_output=True)
            assert p.returncode == 2 and b"--threads" in p.stderr, (bad, p.stderr)
        print("ok bad --threads values refused")


if __name__ == "__main__":
    main()
