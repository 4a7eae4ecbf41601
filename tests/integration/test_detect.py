#!/usr/bin/env python3
"""Integration: accesslog_exporter --detect FILE... (issue 10, part 4).

On logs in Common Log Format, combined, nginx's "main", Apache's
vhost_combined, JSON lines and a format no preset knows: the match rate of
every candidate, the best one as a command line and a YAML source, exit 0
when one fits; for the unknown format exit 1 and the closest preset's
diagnosis.  The printed command is run with --once: it must parse every
line (a working command in one step).  Real lines come from
tests/data/parser and tests/data/golden (see ATTRIBUTION.md); the others are written here."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import binary, parse_exposition, value  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "parser")
T = "[25/Nov/2026:10:00:0%d +0000]"
MAIN = ('203.0.113.%d - - ' + T + ' "GET /a?b=1 HTTP/1.1" 200 612 "-" "Mozilla/5.0 (X11)" '
        '"198.51.100.7, 10.0.0.1"\n')
VHOST = ('www.example.org:443 203.0.113.%d - - ' + T + ' "POST /login HTTP/2.0" 302 0 '
         '"https://www.example.org/" "curl/8.5.0"\n')
JSON = ('{"time":"2026-11-25T10:00:0%dZ","remote_addr":"203.0.113.%d","request":"GET / HTTP/1.1",'
        '"status":"404","body_bytes_sent":"153","request_time":"0.004"}\n')
UNKNOWN = '2026-11-25T10:00:0%dZ GET /x 200 0.003\n'


def detect(*paths):
    p = subprocess.run([binary(), "--detect"] + list(paths), capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def check_best(path, label, n):
    rc, out, err = detect(path)
    assert rc == 0, (rc, out, err)
    assert "%s: %d line%s sampled" % (path, n, "" if n == 1 else "s") in out, out
    assert re.search(r"^best: %s \(%d of %d lines, 100\.0%%\)$" % (re.escape(label), n, n),
                     out, re.M), out
    # every candidate has its row
    for row in ("combined", "common", "vhost_combined", "main", "ingress", "json"):
        assert re.search(r"^  %s +\d+\.\d%% \(\d+/%d\)$" % (row, n), out, re.M), (row, out)
    cmd = re.search(r"^  command:  (.*)$", out, re.M).group(1)
    assert "paths: ['%s']" % path.replace("'", "''") in out, out
    args = shlex.split(cmd)
    assert args[0] == "accesslog_exporter", cmd
    p = subprocess.run([binary(), "--once"] + args[1:], capture_output=True, timeout=60)
    assert p.returncode == 0, (cmd, p.stderr.decode())
    s = parse_exposition(p.stdout.decode())
    assert value(s, "accesslog_log_lines_total") == n, (cmd, s)
    assert value(s, "accesslog_log_parse_errors_total") == 0, (cmd, p.stderr.decode())
    return out


def write(d, name, template, n, two=False):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        for i in range(n):
            f.write(template % ((i, i) if two else (i % 10, i % 10)[:template.count("%d")]))
    return path


def main():
    d = tempfile.mkdtemp(prefix="detect-")
    try:
        out = check_best(os.path.join(DATA, "beats_apache_darwin.log"), "common", 6)
        assert "note: this format has no request time" in out, out
        check_best(os.path.join(DATA, "..", "golden", "apache_combined.log"), "combined", 300)
        check_best(write(d, "main.log", MAIN, 8), "main", 8)
        check_best(write(d, "vhost.log", VHOST, 8), "vhost_combined", 8)
        out = check_best(write(d, "json.log", JSON, 8), "json", 8)
        assert "note:" not in out, out
        # a path that needs quoting is quoted for the shell
        spaced = os.path.join(d, "my log's.log")
        shutil.copy(os.path.join(d, "main.log"), spaced)
        check_best(spaced, "main", 8)
        # an unknown format: exit 1, the closest preset explains the first line
        unk = write(d, "unknown.log", UNKNOWN, 5)
        rc, out, _ = detect(unk)
        assert rc == 1, (rc, out)
        assert "no format fits: no line parsed with any of them." in out, out
        assert re.search(r"why \S+ fails line 1: at column \d+ \(%t\): expected a time in "
                         r"brackets", out), out
        assert "line: 2026-11-25T10:00:00Z GET /x 200 0.003" in out, out
        # several files: each gets its answer; one bad one makes the exit status 1
        rc, out, _ = detect(os.path.join(d, "main.log"), unk)
        assert rc == 1 and "best: main" in out and "no format fits" in out, out
        # unreadable and empty files
        rc, _, err = detect(os.path.join(d, "nope.log"))
        assert rc == 1 and "nope.log: No such file or directory" in err, err
        empty = os.path.join(d, "empty.log")
        open(empty, "w").close()
        rc, _, err = detect(empty)
        assert rc == 1 and "no lines to look at (empty file)" in err, err
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
