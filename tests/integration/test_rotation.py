#!/usr/bin/env python3
"""Integration: rotation while a writer appends continuously; the counts
are exact every time.

- rename + create (logrotate's default): the writer keeps writing to the
  renamed file for a while (as nginx does until it reopens), then reopens;
- delete + recreate;
- copytruncate with the writer paused around the copy (exact), and
  copytruncate under a running writer (logrotate's own race may lose lines
  written between copy and truncate, but nothing may be counted twice and
  nothing may be read from a stale offset: no parse errors)."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from tailkit import Writer, assert_exact, lines, start, run_cases  # noqa: E402
from harness import value  # noqa: E402


def rotated_thrice(log, rotate):
    """Follow log while a writer appends; three times, 0.4 s apart, call
    rotate(writer, k, exp) (k = 0, 1, 2; it takes the writer's lock itself,
    see Writer.locked); then stop the writer and check the counts are exact.
    Returns (samples, lines written)."""
    with start([log]) as exp, Writer(log) as w:
        w.start()
        for k in range(3):
            time.sleep(0.4)
            rotate(w, k, exp)
        time.sleep(0.3)
        n = w.stop()
        return assert_exact(exp, n), n


def rename_create(tmp):
    log = os.path.join(tmp, "access.log")
    with open(log, "w") as f:
        f.write("".join(line_before(i) for i in range(100)))  # before start: not counted

    def rotate(w, k, exp):
        def rename(wr):
            os.rename(log, "%s.%d" % (log, k + 1))
            open(log, "w").close()
        w.locked(rename)
        time.sleep(0.2)  # still writing to the renamed file
        w.locked(lambda wr: wr.reopen())
    s, n = rotated_thrice(log, rotate)
    assert value(s, "accesslog_log_rotations_total", source="t") == 3
    assert value(s, "accesslog_log_file_open", source="t", path=log) == 1
    print("ok rename+create: %d lines" % n)


def delete_recreate(tmp):
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()

    def recreate(wr):
        os.unlink(log)
        wr.reopen()  # O_APPEND|O_CREAT: a new file
    s, n = rotated_thrice(log, lambda w, k, exp: w.locked(recreate))
    assert value(s, "accesslog_log_rotations_total", source="t") == 3
    print("ok delete+recreate: %d lines" % n)


def copytruncate_paused(tmp):
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()

    def rotate(w, k, exp):
        def copy_truncate(wr):
            # the writer is blocked: wait until everything is read
            exp.wait_for(lambda s: lines(s) >= wr.written)
            shutil.copyfile(log, "%s.%d" % (log, k + 1))
            os.truncate(log, 0)
        w.locked(copy_truncate)
    s, n = rotated_thrice(log, rotate)
    assert value(s, "accesslog_log_truncations_total", source="t") == 3
    assert value(s, "accesslog_log_rotations_total", source="t") == 0
    print("ok copytruncate (paused writer): %d lines" % n)


def copytruncate_running(tmp):
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()
    with start([log]) as exp, Writer(log, burst=20) as w:
        w.start()
        for k in range(5):
            time.sleep(0.3)
            shutil.copyfile(log, "%s.%d" % (log, k + 1))
            os.truncate(log, 0)
        time.sleep(0.3)
        n = w.stop()
        time.sleep(1.0)
        s = exp.scrape()
        got = lines(s)
        assert 0 < got <= n, "counted %d of %d written" % (got, n)
        assert value(s, "accesslog_log_parse_errors_total", source="t") == 0, "stale offset read"
        assert value(s, "accesslog_log_truncations_total", source="t") >= 1
    print("ok copytruncate (running writer): %d of %d lines" % (got, n))


def line_before(i):
    return ('192.0.2.1 - - [25/Nov/2026:09:00:00 +0000] "GET /old/%d HTTP/1.1" 500 1 "-" "-"\n'
            % i)


def main():
    run_cases((rename_create, delete_recreate, copytruncate_paused, copytruncate_running), 100)


if __name__ == "__main__":
    main()
