#!/usr/bin/env python3
"""Integration: restarts with --state.file across rotations lose nothing
still on disk and count nothing twice (issue 18).

- the minimal case: checkpoint with access.log at 10 lines, kill -9, two
  rename rotations while down (A -> access.log.2, B with 5 lines ->
  access.log.1, C with 3 lines): 18 counted (the rotated B was never found
  before: 13);
- the checkpointed file compressed while down (access.log.2.gz) with
  lines written after the checkpoint: read through zlib from the offset;
- a glob over compressed rotations: no gzip data read as lines, the
  skipped files counted in accesslog_log_files_skipped_total;
- the catch-up limit: files over --state.catch-up-max-bytes are skipped
  and logged with the reason;
- a long outage over five rotations (compress + delaycompress);
- --once over rotations: gzip read through zlib, bzip2 reported (exit 1);
- real `logrotate -f` in every style (create, copytruncate, dateext,
  compress, delaycompress; copytruncate and delaycompress also with the
  glob access.log* as the source, copytruncate once with the writer paused
  during logrotate so that nothing is lost and the counts are exact) while
  a writer appends, the exporter killed with
  -9 and restarted at random points: the counters equal the lines on disk
  (every file, decompressed), exactly; with copytruncate, at least the lines
  on disk and at most the lines written (the documented window: lines
  written between logrotate's copy and its truncate are on disk nowhere,
  counted only if the exporter read them in time)."""
import contextlib
import glob
import gzip
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from tailkit import (CODES, Writer, append_lines as append, assert_exact,  # noqa: E402
                     killed_after_checkpoint, line, start, run_cases, with_state)
from harness import value  # noqa: E402

SKIPPED = "accesslog_log_files_skipped_total"


def gzip_file(path, dst):
    with open(path, "rb") as f, gzip.open(dst, "wb") as g:
        g.write(f.read())
    shutil.copystat(path, dst)
    os.unlink(path)


def minimal(tmp):
    log, args = with_state(tmp)
    with start(args) as exp:
        append(log, 0, 10)
        assert_exact(exp, 10)
        killed_after_checkpoint(exp)
    os.rename(log, log + ".1")          # A -> access.log.1
    append(log, 10, 5)                  # B
    os.rename(log + ".1", log + ".2")   # A -> access.log.2
    os.rename(log, log + ".1")          # B -> access.log.1
    append(log, 15, 3)                  # C
    with start(args) as exp:
        s = assert_exact(exp, 18)
        assert value(s, "accesslog_log_rotations_total", source="t") == 2
        assert "caught up with rotated files" in exp.log(), exp.log()
        assert "lines=5" in exp.log(), exp.log()
    print("ok minimal: 18 of 18 lines after two rotations while down")


def compressed_while_down(tmp):
    log, args = with_state(tmp)
    with start(args) as exp:
        append(log, 0, 40)
        assert_exact(exp, 40)
    append(log, 40, 7)                 # after the checkpoint, to A
    os.rename(log, log + ".1")
    append(log, 47, 5)                 # B
    gzip_file(log + ".1", log + ".2.gz")
    os.rename(log, log + ".1")
    append(log, 52, 3)                 # C
    with start(args) as exp:
        s = assert_exact(exp, 55)
        assert value(s, "accesslog_log_parse_errors_total", source="t") == 0
        assert "compression=gzip" in exp.log(), exp.log()
    # Down again, nothing new: nothing counted twice, nothing caught up.
    with start(args) as exp:
        assert_exact(exp, 55)
        assert "catching up with" not in exp.log(), exp.log()
    print("ok checkpointed file compressed while down: resumed inside the gzip data")


def glob_over_gzip(tmp):
    log = os.path.join(tmp, "access.log")
    state = os.path.join(tmp, "state")
    append(log, 0, 20)
    gzip_file(log, log + ".3.gz")
    with open(log + ".zz", "wb") as f:       # gzip data under another name: by magic
        f.write(gzip.compress(b"".join(line(i).encode() for i in range(50))))
    open(log, "w").close()
    args = ["--state.file", state, os.path.join(tmp, "access.log*")]
    with start(args) as exp:
        append(log, 0, 10)
        s = assert_exact(exp, 10)
        assert value(s, SKIPPED, source="t") == 2, exp.log()
        assert "skipping compressed files" in exp.log(), exp.log()
        # logrotate's compress while running: access.log -> .1 -> .1.gz
        os.rename(log, log + ".1")
        append(log, 10, 5)
        time.sleep(0.5)
        gzip_file(log + ".1", log + ".1.gz")
        s = assert_exact(exp, 15, settle=6.0)  # a glob rescan (5 s) sees the .gz
        assert value(s, SKIPPED, source="t") == 3, exp.log()
        assert exp.log().count("skipping compressed files") == 1, exp.log()
    print("ok glob over gzip rotations: no gzip data read as lines, skipped files counted")


def limit(tmp):
    log, args = with_state(tmp, "--state.catch-up-max-bytes", "4KB")
    with start(args):
        pass
    n = 0
    for _ in range(3):                   # three rotations while down, 20 lines each
        append(log, n, 20)
        n += 20
        rotate_numbered(log)
    append(log, n, 4)
    # access.log.3 (the oldest, 1.9 KB) is over the 4 KB left after .1 and .2
    with start(args) as exp:
        s = assert_exact(exp, 44)
        assert value(s, SKIPPED, source="t") == 1, exp.log()
        assert "over the catch-up limit" in exp.log(), exp.log()
    print("ok catch-up limit: the oldest file skipped with the reason")


def long_outage(tmp):
    """Five logrotate-style rotations (delaycompress + compress) while down."""
    log, args = with_state(tmp)
    n = 0
    with start(args) as exp:
        append(log, n, 30)
        n += 30
        assert_exact(exp, n)
        exp.stop(signal.SIGKILL)
    for _ in range(5):
        append(log, n, 17)
        n += 17
        rotate_delaycompress(log)
    append(log, n, 9)
    n += 9
    with start(args) as exp:
        s = assert_exact(exp, n)
        assert value(s, "accesslog_log_rotations_total", source="t") == 5
        assert "files=5" in exp.log(), exp.log()
    print("ok long outage: five rotations while down, %d lines" % n)


def rotate_numbered(log):
    """access.log.N -> N+1, access.log -> access.log.1 (rename, no create)."""
    nums = sorted((int(p[len(log) + 1:]) for p in glob.glob(log + ".[0-9]*")), reverse=True)
    for k in nums:
        os.rename("%s.%d" % (log, k), "%s.%d" % (log, k + 1))
    os.rename(log, log + ".1")


def rotate_delaycompress(log):
    """access.log.N.gz -> N+1, access.log.1 -> access.log.2.gz, access.log -> .1."""
    gz = sorted(glob.glob(log + ".*.gz"), key=lambda p: -int(p[len(log) + 1:-3]))
    for p in gz:
        k = int(p[len(log) + 1:-3])
        os.rename(p, "%s.%d.gz" % (log, k + 1))
    if os.path.exists(log + ".1"):
        gzip_file(log + ".1", log + ".2.gz")
    os.rename(log, log + ".1")
    open(log, "w").close()


def once_compressed(tmp):
    """--once over rotations: gzip read through zlib, bzip2 reported (exit 1)."""
    import bz2
    from harness import binary, parse_exposition
    log = os.path.join(tmp, "access.log")
    append(log, 0, 3)
    with gzip.open(log + ".1.gz", "wt") as g:
        g.write("".join(line(i) for i in range(3, 8)))
    run = [binary(), "--once", "--source", "t", log + "*"]
    p = subprocess.run(run, capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr
    s = parse_exposition(p.stdout.decode())
    assert value(s, "accesslog_log_lines_total", source="t") == 8
    assert value(s, "accesslog_log_parse_errors_total", source="t") == 0
    with open(log + ".2.bz2", "wb") as f:
        f.write(bz2.compress(b"x\n"))
    p = subprocess.run(run, capture_output=True, timeout=20)
    assert p.returncode == 1, p.stderr
    s = parse_exposition(p.stdout.decode())
    assert value(s, "accesslog_log_lines_total", source="t") == 8
    assert value(s, SKIPPED, source="t") == 1
    assert b"only gzip is" in p.stderr, p.stderr
    print("ok --once: gzip rotations read through zlib, bzip2 reported")


# ---- real logrotate ------------------------------------------------------------

STYLES = {
    "create": "create\n",
    "copytruncate": "copytruncate\n",
    "dateext": "create\ndateext\ndateformat -%Y%m%d-%s\n",
    "compress": "create\ncompress\n",
    "delaycompress": "create\ncompress\ndelaycompress\n",
    # +glob: the source is the glob access.log* (the rotations are matched
    # too); +paused: the writer waits while logrotate runs, so copytruncate
    # loses nothing and the counts must be exact (nothing counted twice)
    "copytruncate+glob+paused": "copytruncate\n",
    "delaycompress+glob": "create\ncompress\ndelaycompress\n",
}
CONF = """%(log)s {
  rotate 100
  missingok
  notifempty
%(style)s}
"""
# create: the writer reopens its file when postrotate asks (as nginx on USR1)
REOPEN = """postrotate
  touch %(flag)s
  for i in $(seq 200); do [ -e %(flag)s ] || exit 0; sleep 0.01; done
endscript
"""


class ReopeningWriter(Writer):
    """Appends numbered lines like a web server (tailkit.Writer, in random
    bursts): to the file it opened, and reopens the path when logrotate's
    postrotate asks (the flag file), as nginx does on SIGUSR1."""

    def __init__(self, path, flag):
        super().__init__(path)
        self.flag = flag

    def run(self):
        try:
            while not self.stop_flag.is_set():
                if os.path.exists(self.flag):
                    self.reopen()
                    os.unlink(self.flag)
                self.write_lines(random.randint(1, 40))
                time.sleep(random.uniform(0.001, 0.01))
        except Exception as e:  # surfaced by stop()
            self.error = e


def on_disk(log):
    """Lines in every file of the chain (decompressed), by status code."""
    codes = {}
    for p in glob.glob(log + "*"):
        opener = gzip.open if p.endswith(".gz") else open
        with opener(p, "rb") as f:
            for m in re.finditer(rb'HTTP/1.1" (\d+) ', f.read()):
                codes[m.group(1).decode()] = codes.get(m.group(1).decode(), 0) + 1
    return codes


def assert_on_disk(exp, log, written, window):
    """The counters equal what is on disk: every line once, by code.  With
    window (copytruncate): at least what is on disk, at most what was
    written -- lines the exporter read before logrotate's truncate destroyed
    them (written between its copy and its truncate) count, yet are on disk
    nowhere."""
    codes = on_disk(log)
    want = sum(codes.values())
    s = exp.wait_for(lambda s: value(s, "accesslog_log_lines_total", source="t") >= want,
                     timeout=15)
    time.sleep(0.6)
    s = exp.scrape()
    got = value(s, "accesslog_log_lines_total", source="t")
    top = sum(written.values()) if window else want
    assert want <= got <= top, "lines: got %d, %d on disk, %d written\n%s" % (
        got, want, sum(written.values()), exp.log())
    assert value(s, "accesslog_log_parse_errors_total", source="t") == 0
    for code, n in codes.items():
        got = value(s, "accesslog_http_responses_total", source="t", code=code)
        assert n <= got <= (written[code] if window else n), \
            "code %s: got %d, %d on disk, %d written" % (code, got, n, written[code])
    return want, value(s, "accesslog_log_lines_total", source="t")


def logrotate_style(tmp, style):
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)  # printed with the result, to replay a failure
    logdir = os.path.join(tmp, "logs")
    os.mkdir(logdir)
    log = os.path.join(logdir, "access.log")
    state = os.path.join(tmp, "state")
    conf = os.path.join(tmp, "logrotate.conf")
    flag = os.path.join(tmp, "reopen")
    text = STYLES[style] + ("" if "copytruncate" in STYLES[style] else REOPEN % {"flag": flag})
    with open(conf, "w") as f:
        f.write(CONF % {"log": log, "style": "".join("  %s\n" % x for x in text.splitlines())})
    open(log, "w").close()
    args = ["--state.file", state, log + "*" if "+glob" in style else log]
    exp = start(args)
    w = ReopeningWriter(log, flag)
    w.start()
    up = True
    try:
        for _ in range(4):
            time.sleep(rng.uniform(0.05, 0.25))
            if up and rng.random() < 0.6:
                exp.stop(signal.SIGKILL)
                up = False
            time.sleep(rng.uniform(0.0, 0.15))
            with w.lock if "+paused" in style else contextlib.nullcontext():
                subprocess.run(["logrotate", "-f", "-s", os.path.join(tmp, "lr.status"), conf],
                               check=True, timeout=20)
            if style == "dateext":
                time.sleep(1.0)  # dateformat has one-second resolution
            time.sleep(rng.uniform(0.0, 0.15))
            if not up and rng.random() < 0.5:
                exp = start(args)
                up = True
        if not up:
            exp = start(args)
        time.sleep(rng.uniform(0.05, 0.3))
        w.stop()
        written = {}
        for i in range(w.written):
            code = CODES[i % len(CODES)]
            written[code] = written.get(code, 0) + 1
        try:
            want, got = assert_on_disk(exp, log, written, style == "copytruncate")
        except AssertionError:
            print("logrotate %s failed with seed %d" % (style, seed))
            raise
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
        if w.is_alive():
            w.stop()
    print("ok logrotate %s: %d lines written, %d on disk, %d counted (%d files)" % (
        style, w.written, want, got, len(glob.glob(log + "*"))))


def main():
    cases = [minimal, compressed_while_down, glob_over_gzip, limit, long_outage, once_compressed]
    if shutil.which("logrotate"):
        cases += [(logrotate_style, s) for s in STYLES]
    else:
        print("logrotate not installed (scripts/deps installs it)")
        sys.exit(1)
    run_cases(cases, 110)


if __name__ == "__main__":
    main()
