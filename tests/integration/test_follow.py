#!/usr/bin/env python3
"""Integration: the real binary follows a file on a loopback port and counts
exactly what is appended (lines present at start are skipped, junk lines are
parse errors, a half-written line waits for its newline)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, value  # noqa: E402

LINE = ('203.0.113.%d - - [25/Nov/2026:10:00:00 +0000] "%s /p%d HTTP/1.1" %s 512 '
        '"-" "curl/8"\n')


def main():
    tmp = tempfile.mkdtemp()
    log = os.path.join(tmp, "access.log")
    with open(log, "w") as f:
        for i in range(50):  # already there at start: must not be counted
            f.write(LINE % (i, "GET", i, "200"))
    exp = Exporter(["--source", "web", "--label", "env=test", log])
    try:
        expected = {}
        plan = [("200", 300), ("404", 40), ("499", 7), ("444", 3), ("509", 2),
                ("299", 1), ("-", 4), ("000", 2)]
        with open(log, "ab") as f:
            n = 0
            for code, count in plan:
                for _ in range(count):
                    f.write((LINE % (n % 250, "POST" if n % 3 else "GET", n, code)).encode())
                    n += 1
                key = code if code not in ("-", "000") else "invalid"
                expected[key] = expected.get(key, 0) + count
            f.write(b"this is not an access log line\n")
            f.write(b'\xff\xfe broken "utf-8 \\" junk\n')
            f.write((LINE % (1, "GET", 1, "201")).encode()[:40])  # half a line, no newline
            f.flush()
        total = sum(c for _, c in plan) + 2
        s = exp.wait_for(lambda s: value(s, "accesslog_log_lines_total", source="web") >= total)
        assert value(s, "accesslog_log_lines_total", source="web") == total, "lines"
        assert value(s, "accesslog_log_parse_errors_total", source="web") == 2, "parse errors"
        for code, count in expected.items():
            got = value(s, "accesslog_http_responses_total", source="web", code=code)
            assert got == count, "code %s: got %s want %s" % (code, got, count)
        assert value(s, "accesslog_http_responses_total", code="201") == 0
        assert value(s, "accesslog_http_responses_total", code="499",
                     reason="Client Closed Request", **{"class": "4xx"}) == 7
        assert value(s, "accesslog_http_responses_total", code="299",
                     reason="Unassigned") == 1
        assert value(s, "accesslog_http_responses_total", env="test") == total - 2
        # complete the half line: now it counts
        with open(log, "ab") as f:
            f.write((LINE % (1, "GET", 1, "201")).encode()[40:])
        s = exp.wait_for(lambda s: value(s, "accesslog_http_responses_total", code="201") == 1)
        assert value(s, "accesslog_log_lines_total") == total + 1

        # HTTP edge cases
        assert exp.get("/nope")[0] == 404
        status, headers, _ = exp.get("/metrics", method="POST")
        assert status == 405 and "GET" in headers.get("Allow", ""), (status, headers)
        assert exp.get("/-/healthy")[0] == 200
        status, _, body = exp.get("/")
        assert status == 200 and b"/metrics" in body and log.encode() in body

        # the exposition is valid for promtool
        promtool = shutil.which("promtool")
        if promtool:
            body = exp.get()[2]
            p = subprocess.run([promtool, "check", "metrics"], input=body,
                               capture_output=True)
            # promtool prints lint warnings (exit 3) for style nits; exit 1 is an error
            assert p.returncode in (0, 3) and b"error" not in p.stderr.lower(), p.stderr
            assert p.returncode == 0, "promtool lint: " + p.stdout.decode() + p.stderr.decode()
        else:
            raise AssertionError("promtool not installed (scripts/deps installs prometheus)")
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
        shutil.rmtree(tmp)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
