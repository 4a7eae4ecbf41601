#!/usr/bin/env python3
"""--once on a file larger than one poll's read budget (64 MiB) counts every
line exactly once, and a final line without newline counts as a line at EOF
(but never a budget boundary in the middle of the file)."""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import binary  # noqa: E402


def main():
    loggen = os.environ.get("ACCESSLOG_LOGGEN", os.path.join(
        os.path.dirname(binary()), "bench", "loggen"))
    tmp = tempfile.mkdtemp()
    try:
        log = os.path.join(tmp, "big.log")
        with open(log, "wb") as f:
            gen = subprocess.run([loggen, "--lines", "480000", "--seed", "7"], stdout=f,
                                 stderr=subprocess.PIPE, check=True)
            # a last line with no newline
            f.write(b'1.2.3.4 - - [25/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 418 1 "-" "x"')
        assert os.path.getsize(log) > 64 * 1024 * 1024, "input must exceed one poll's budget"
        want = collections.Counter({a: int(b) for a, b in
                                    (l.split() for l in gen.stderr.decode().splitlines())})
        want["418"] += 1
        out = subprocess.run([binary(), "--once", log], capture_output=True, check=True)
        got = collections.Counter()
        lines = errors = None
        for line in out.stdout.decode().splitlines():
            m = re.match(r'accesslog_http_responses_total\{.*code="(\w+)".* (\d+)$', line)
            if m:
                got[m.group(1)] += int(m.group(2))
            m = re.match(r'accesslog_log_lines_total\{.*\} (\d+)$', line)
            if m:
                lines = int(m.group(1))
            m = re.match(r'accesslog_log_parse_errors_total\{.*\} (\d+)$', line)
            if m:
                errors = int(m.group(1))
        assert errors == 0, "parse errors: %s" % errors
        assert lines == 480001, lines
        assert got == want, (got, want)
    finally:
        shutil.rmtree(tmp)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
