#!/usr/bin/env python3
"""Integration: --backfill writes the history of old logs as OpenMetrics.

- a real log (tests/data/demo.log): one "# EOF" at the end, each family in
  one piece, a timestamp on every sample, every series starting at 0 and
  never decreasing, timestamps increasing per series, steps aligned; the
  last step equals --once (counters exactly, histogram _sum to float
  rounding); process-level families left out;
- lines a little out of order land in their own step; lines more than the
  window late land in the oldest open step (warned), totals still exact;
- lines without a readable time are parse errors, reported with an example;
- --backfill.until leaves out later lines and stamps nothing after it;
- rotated files are read oldest first (by mtime) whatever their names sort to,
  a gzip-compressed one through zlib;
- a format without a time: exit 2; bad flags: exit 2;
- a failed write (standard output on /dev/full, a missing directory) exits 1
  with the reason, and leaves nothing behind (an older output stays)."""
import gzip
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import binary, parse_exposition  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "data", "demo.log")
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+) (\S+)$')
SKIPPED = ("accesslog_log_file_open", "accesslog_build_info", "accesslog_http_status_info",
           "accesslog_log_last_read_timestamp_seconds", "accesslog_config_last_reload")


def run(args, stdout=subprocess.PIPE):
    p = subprocess.run([binary()] + args, stdout=stdout, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, (p.stdout or b"").decode(), p.stderr.decode()


def parse_om(text):
    """{series: [(ts, value)]} in file order; checks the document's shape."""
    lines = text.split("\n")
    assert lines[-1] == "" and lines[-2] == "# EOF", lines[-3:]
    assert text.count("# EOF") == 1
    series, fams, cur = {}, [], None
    for line in lines[:-2]:
        if line.startswith("# HELP "):
            cur = line.split(" ")[2]
            assert cur not in fams, "family %s appears twice" % cur
            fams.append(cur)
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "sample without a timestamp: %r" % line
        assert m.group(1).startswith(cur), (cur, line)
        series.setdefault(m.group(1), []).append((float(m.group(3)), float(m.group(2))))
    return series, fams


def check_shape(series, step):
    for key, pts in series.items():
        assert pts[0][1] == 0, "series does not start at 0: %s %r" % (key, pts[:2])
        for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
            assert t1 > t0, "timestamps not increasing: %s" % key
            assert v1 >= v0, "value decreases: %s %r %r" % (key, (t0, v0), (t1, v1))
        for t, _ in pts[1:]:
            assert (t * 1000) % (step * 1000) == 0, (key, t)


def last_values(series):
    out = {}
    for key, pts in series.items():
        out[key] = pts[-1][1]
    return out


def as_key(name, labels):
    return name + ("{" + ",".join('%s="%s"' % kv for kv in labels) + "}" if labels else "")


def once_values(args):
    rc, out, err = run(["--once"] + args)
    assert rc == 0, err
    vals = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^(\S+?(?:\{.*\})?) (\S+)$', line)
        vals[m.group(1)] = float(m.group(2))
    return vals


def real_log(tmp):
    out = os.path.join(tmp, "demo.om")
    rc, _, err = run(["--backfill", out, DEMO])
    assert rc == 0, err
    text = open(out).read()
    series, fams = parse_om(text)
    check_shape(series, 60)
    for f in fams:
        assert not any(f.startswith(s.replace("_info", "")) for s in SKIPPED), f
    got = last_values(series)
    want = once_values([DEMO])
    for key, v in want.items():
        if any(key.startswith(s) for s in SKIPPED):
            continue
        if key.split("{")[0].endswith("_sum"):
            assert abs(got.get(key, 0) - v) <= 1e-9 * max(1, v), (key, got.get(key), v)
        elif v != 0 or key in got:
            assert got.get(key) == v, (key, got.get(key), v)
    assert got['accesslog_log_lines_total{source="access"}'] == 2000
    assert "level=error" not in err, err
    # stdout gives the same bytes
    rc, text2, err = run(["--backfill", "-", DEMO])
    assert rc == 0 and text2 == text, err
    print("ok real log: shape, last step equals --once, stdout identical")


LINE = '10.0.0.1 - - [%s +0000] "GET /%s HTTP/1.1" %d 10 "-" "t"\n'


def at(minute, second):
    return "03/Dec/2026:10:%02d:%02d" % (minute, second)


def step_values(series, code):
    key = [k for k in series if 'code="%d"' % code in k and k.startswith(
        "accesslog_http_responses_total")]
    assert len(key) == 1, key
    return dict(series[key[0]])


def out_of_order(tmp):
    log = os.path.join(tmp, "ooo.log")
    with open(log, "w") as f:
        f.write(LINE % (at(0, 10), "a", 200) + LINE % (at(0, 50), "a", 200))
        f.write(LINE % (at(1, 5), "a", 200))
        f.write(LINE % (at(0, 59), "late", 200))  # 6 s late: its own step (10:00)
        f.write(LINE % (at(2, 0), "a", 200))
        f.write(LINE % (at(9, 0), "a", 200))
        f.write(LINE % (at(1, 30), "very-late", 200))  # 7.5 min late: oldest open step
    out = os.path.join(tmp, "ooo.om")
    rc, _, err = run(["--backfill", out, log])
    assert rc == 0, err
    series, _ = parse_om(open(out).read())
    check_shape(series, 60)
    v = step_values(series, 200)
    t0 = 1796292000  # 2026-12-03T10:00:00Z
    assert v[t0 + 60] == 3, v      # 10:00 step: three lines incl. the late one
    assert v[t0 + 120] == 4, v     # 10:01
    assert v[t0 + 600] == 7, v     # the end: every line
    assert "older than lines before them" in err and "lines=1" in err, err
    print("ok out-of-order lines land in their own step; very late ones reported")


def bad_times(tmp):
    log = os.path.join(tmp, "bad.log")
    with open(log, "w") as f:
        f.write(LINE % (at(0, 1), "a", 200))
        f.write(LINE.replace("Dec", "Feb") % ("31/Feb/2026:10:00:02", "b", 200))
        f.write(LINE % (at(0, 3), "a", 404))
        f.write("garbage\n")
    out = os.path.join(tmp, "bad.om")
    rc, _, err = run(["--backfill", out, log])
    assert rc == 0, err
    series, _ = parse_om(open(out).read())
    last = last_values(series)
    assert last['accesslog_log_parse_errors_total{source="access"}'] == 2, last
    assert last['accesslog_log_lines_total{source="access"}'] == 4, last
    assert "without a readable time" in err and "31/Feb/2026" in err, err
    print("ok lines without a readable time are parse errors, reported")


def until(tmp):
    log = os.path.join(tmp, "until.log")
    with open(log, "w") as f:
        for m in range(10):
            f.write(LINE % (at(m, 30), "a", 200))
    out = os.path.join(tmp, "until.om")
    rc, _, err = run(["--backfill", out, "--backfill.until", "2026-12-03T10:05:45Z", log])
    assert rc == 0, err
    series, _ = parse_om(open(out).read())
    v = step_values(series, 200)
    assert max(v) == 1796292345, v  # the last step is clamped to the until time
    assert v[max(v)] == 6, v
    assert "left out" in err and "lines=4" in err, err
    print("ok --backfill.until")


def rotated(tmp):
    d = os.path.join(tmp, "rot")
    os.mkdir(d)
    # names sort newest first (access.log < access.log.1 < access.log.2)
    for i, name in enumerate(["access.log.2.gz", "access.log.1", "access.log"]):
        p = os.path.join(d, name)
        text = "".join(LINE % (at(i * 10, s), "a", 200) for s in range(3))
        with (gzip.open(p, "wt") if name.endswith(".gz") else open(p, "w")) as f:
            f.write(text)
        os.utime(p, (1764756000 + i * 600, 1764756000 + i * 600))
    out = os.path.join(tmp, "rot.om")
    rc, _, err = run(["--backfill", out, os.path.join(d, "access.log*")])
    assert rc == 0, err
    assert "older than" not in err, err
    series, _ = parse_om(open(out).read())
    v = step_values(series, 200)
    assert v[1796292060] == 3 and v[1796292660] == 6 and v[1796293260] == 9, v
    print("ok rotated files read oldest first, gzip ones through zlib")


def field_labels(tmp):
    """A source with field labels (series tables): the same checks as flat."""
    cfg = os.path.join(tmp, "fl.yml")
    with open(cfg, "w") as f:
        f.write("sources:\n  - name: fl\n    format: combined\n    paths: [%s]\n"
                "    field_labels:\n      - name: path\n        field: path\n"
                "        match: '^(/[^/?]*).*$'\n        replacement: '$1'\n" % DEMO)
    out = os.path.join(tmp, "fl.om")
    rc, _, err = run(["--backfill", out, "--config.file", cfg])
    assert rc == 0, err
    series, _ = parse_om(open(out).read())
    check_shape(series, 60)
    got = last_values(series)
    want = once_values(["--config.file", cfg])
    for key, v in want.items():
        if key.startswith("accesslog_http_responses_total"):
            assert got.get(key) == v, (key, got.get(key), v)
    assert sum(v for k, v in got.items() if k.startswith("accesslog_http_responses_total")) == 2000
    print("ok field-label source: last step equals --once")


def failures(tmp):
    rc, _, err = run(["--backfill", os.path.join(tmp, "x.om"), "--format", "nginx",
                      "--log-format", "$status $request_time", DEMO])
    assert rc == 2 and "no log time" in err, (rc, err)
    for bad in (["--backfill.step", "0"], ["--backfill.step", "2d"],
                ["--backfill.until", "soon"], ["--once"]):
        rc, _, err = run(["--backfill", os.path.join(tmp, "x.om")] + bad + [DEMO])
        assert rc == 2, (bad, rc, err)
    rc, _, err = run(["--backfill.step", "5m", DEMO])
    assert rc == 2 and "need --backfill" in err, err
    with open("/dev/full", "w") as full:
        rc, _, err = run(["--backfill", "-", DEMO], stdout=full)
    assert rc == 1 and "No space left on device" in err, (rc, err)
    rc, _, err = run(["--backfill", os.path.join(tmp, "nodir", "x.om"), DEMO])
    assert rc == 1 and "cannot write" in err, (rc, err)
    keep = os.path.join(tmp, "keep.om")
    with open(keep, "w") as f:
        f.write("old\n")
    rc, _, err = run(["--backfill", keep, os.path.join(tmp, "missing.log")])
    assert rc == 1 and open(keep).read() == "old\n", err
    leftovers = [n for n in os.listdir(tmp) if ".tmp." in n or n.startswith(".accesslog")]
    assert not leftovers, leftovers
    print("ok failures: exit codes, clear errors, nothing left behind")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        real_log(tmp)
        out_of_order(tmp)
        bad_times(tmp)
        until(tmp)
        rotated(tmp)
        field_labels(tmp)
        failures(tmp)


if __name__ == "__main__":
    main()
