#!/usr/bin/env python3
"""Integration: tailing edge cases with the real binary, counts exact.

- a half-written line (present at start, and written later) is counted
  once, when its newline arrives;
- a file missing at start that appears later is read from offset 0;
- a glob matching two files, a symlink and a second pattern naming one of
  them (read once), and a third file appearing later (read from 0);
- dated rotations under a glob (access.log -> access.log-N, the oldest
  deleted), many more than stay on disk: every line counted once and
  accesslog_log_file_open keeps one series per file still there, not one
  per file ever seen;
- a permission error: a rotated-in file created unreadable is counted as
  read errors and picked up from 0 once readable (run as an unprivileged
  uid when the tests run as root, since root ignores file permissions)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from tailkit import append_lines, assert_exact, line, lines, start, run_cases  # noqa: E402
from harness import value  # noqa: E402

NOBODY = 65534


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def half_line(tmp):
    log = os.path.join(tmp, "access.log")
    with open(log, "w") as f:
        f.write("old line, not counted\n" + line(0)[:30])  # half a line at start
    with start([log]) as exp:
        time.sleep(0.3)
        assert lines(exp.scrape()) == 0
        append(log, line(0)[30:] + line(1)[:10])
        exp.wait_for(lambda s: lines(s) >= 1)
        time.sleep(0.3)
        assert lines(exp.scrape()) == 1, "half line counted early"
        append(log, line(1)[10:-1])
        time.sleep(0.3)
        assert lines(exp.scrape()) == 1, "line without newline counted"
        # waiting for a newline is idle time, not a busy loop
        before = cpu_seconds(exp.proc.pid)
        time.sleep(1.0)
        used = cpu_seconds(exp.proc.pid) - before
        assert used < 0.3, "busy while a half line is pending: %.2f s CPU in 1 s" % used
        append(log, "\n")
        s = assert_exact(exp, 2)
        assert value(s, "accesslog_log_bytes_read_total", source="t") == len(line(0) + line(1))
    print("ok half-written lines")


def missing_then_appears(tmp):
    log = os.path.join(tmp, "later.log")
    with start([log]) as exp:
        s = exp.scrape()
        assert value(s, "accesslog_log_file_open", source="t", path=log) == 0
        assert value(s, "accesslog_log_read_errors_total", source="t") == 0  # ENOENT is not an error
        append_lines(log, 0, 300)
        s = assert_exact(exp, 300)
        assert value(s, "accesslog_log_file_open", source="t", path=log) == 1
        append_lines(log, 300, 100)
        assert_exact(exp, 400)
    print("ok missing at start, appears later")


def globs(tmp):
    a = os.path.join(tmp, "a.log")
    b = os.path.join(tmp, "b.log")
    c = os.path.join(tmp, "c.log")
    for p in (a, b):
        append(p, "present at start, not counted\n")
    os.symlink(a, os.path.join(tmp, "link.log"))
    with start([os.path.join(tmp, "*.log"), a]) as exp:
        n = 0
        for p in (a, b, a, b):
            append_lines(p, n, 100)
            n += 100
        assert_exact(exp, n)
        append_lines(c, n, 100)  # appears later: from 0
        n += 100
        s = assert_exact(exp, n, timeout=15)  # the glob is rescanned every 5 s
        for p in (a, b, c):
            assert value(s, "accesslog_log_file_open", source="t", path=p) == 1, p
    print("ok globs: two files, a duplicate, a symlink, a late third file")


def file_gauges(s):
    return {dict(k[1])["path"]: v for k, v in s.items() if k[0] == "accesslog_log_file_open"}


def dated_rotations(tmp):
    log = os.path.join(tmp, "access.log")
    append(log, "")
    with start([log + "*"]) as exp:
        n = 0
        keep = 2
        for k in range(1, 16):
            append_lines(log, n, 10)
            n += 10
            assert_exact(exp, n, settle=0)
            os.rename(log, "%s-%d" % (log, k))
            append(log, line(n))  # the new file, read from 0
            n += 1
            if k > keep:
                os.unlink("%s-%d" % (log, k - keep))
            want = {log} | {"%s-%d" % (log, j) for j in range(max(1, k - keep + 1), k + 1)}
            s = exp.wait_for(lambda s: set(file_gauges(s)) == want, timeout=10)
            assert all(v == 1 for v in file_gauges(s).values()), file_gauges(s)
        s = assert_exact(exp, n)
        assert len(file_gauges(s)) == keep + 1, file_gauges(s)
        # renames and deletions each stop a followed path from naming its file
        assert value(s, "accesslog_log_rotations_total", source="t") == 15 + 15 - keep
    print("ok dated rotations under a glob: %d lines, gauges bounded" % n)


def permission(tmp):
    log = os.path.join(tmp, "access.log")
    append(log, "")
    user = None
    if os.geteuid() == 0:
        user = NOBODY  # root reads anything: drop to nobody for this case
        os.chmod(tmp, 0o777)
        os.chown(log, NOBODY, NOBODY)
    with start([log], user=user) as exp:
        append_lines(log, 0, 50)
        assert_exact(exp, 50)
        # rotation to a new file created unreadable (a bad "create" mode)
        os.rename(log, log + ".1")
        fd = os.open(log, os.O_CREAT | os.O_WRONLY, 0o000)
        os.write(fd, "".join(line(i) for i in range(50, 80)).encode())
        os.close(fd)
        os.chmod(log, 0o000)
        s = exp.wait_for(lambda s: value(s, "accesslog_log_read_errors_total", source="t") >= 2)
        assert lines(s) == 50
        assert value(s, "accesslog_log_file_open", source="t", path=log) == 0
        os.chmod(log, 0o644)
        s = assert_exact(exp, 80)
        assert "cannot read log file" in exp.log(), exp.log()
        assert exp.log().count("cannot read log file") == 1, "error log not rate-limited"
        assert value(s, "accesslog_log_rotations_total", source="t") == 1
    print("ok permission error counted, retried, recovered%s" % (" (as nobody)" if user else ""))


def main():
    cases = (half_line, missing_then_appears, globs, dated_rotations, permission)
    run_cases(cases, 100)


if __name__ == "__main__":
    main()
