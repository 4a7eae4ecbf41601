"""Helpers for the tailing integration tests: a writer thread that appends
numbered access-log lines (and can rotate under the exporter's feet),
exact-count assertions, a log followed with a state file, waiting for a
timed checkpoint, and a test's cases run in a temp dir each.  Standard
library only; every wait has a deadline."""
import os
import shutil
import signal
import tempfile
import threading
import time

from harness import Exporter, value

LINE = ('198.51.100.%d - - [25/Nov/2026:10:00:00 +0000] "GET /item/%d HTTP/1.1" %s %d '
        '"-" "writer/1"\n')
CODES = ("200", "404", "503", "301")


CKPT = "accesslog_checkpoint_last_success_timestamp_seconds"


def line(n):
    return LINE % (n % 250, n, CODES[n % len(CODES)], n % 5000)


def append_lines(path, first, n):
    """Append lines first .. first+n-1 to path in one write."""
    with open(path, "a") as f:
        f.write("".join(line(first + i) for i in range(n)))


class Writer(threading.Thread):
    """Appends numbered lines to path in small bursts until stopped; counts
    what it wrote.  rotate(fn) runs fn(writer) between two bursts, with the
    writer's file object in self.f (fn may reopen it)."""

    def __init__(self, path, burst=50, pause=0.002, limit=None):
        super().__init__(daemon=True)
        self.path = path
        self.burst = burst
        self.pause = pause
        self.limit = limit
        self.written = 0
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.paused = threading.Event()
        self.error = None

    def write_lines(self, n):
        with self.lock:
            buf = "".join(line(self.written + i) for i in range(n))
            self.f.write(buf)
            self.f.flush()
            self.written += n

    def run(self):
        try:
            while not self.stop_flag.is_set():
                if self.limit is not None and self.written >= self.limit:
                    break
                if not self.paused.is_set():
                    self.write_lines(self.burst)
                time.sleep(self.pause)
        except Exception as e:  # surfaced by stop()
            self.error = e

    def locked(self, fn):
        with self.lock:
            return fn(self)

    def reopen(self):
        self.f.close()
        self.f = open(self.path, "a", buffering=1)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        """Whatever happened in the block, a running writer is stopped."""
        if self.is_alive():
            self.stop()

    def stop(self):
        self.stop_flag.set()
        self.join(timeout=10)
        assert not self.is_alive(), "writer did not stop"
        self.f.close()
        if self.error:
            raise self.error
        return self.written


def lines(samples, source="t"):
    return value(samples, "accesslog_log_lines_total", source=source)


def assert_exact(exp, want, source="t", timeout=15.0, settle=0.4):
    """Wait until the exporter has counted want lines, then check it stays
    there (nothing counted twice later) and that every line parsed."""
    s = exp.wait_for(lambda s: lines(s, source) >= want, timeout=timeout)
    time.sleep(settle)
    s = exp.scrape()
    got = lines(s, source)
    assert got == want, "lines: got %d want %d" % (got, want)
    responses = value(s, "accesslog_http_responses_total", source=source)
    assert responses == want, "responses: got %d want %d" % (responses, want)
    assert value(s, "accesslog_log_parse_errors_total", source=source) == 0, "parse errors"
    for i, code in enumerate(CODES):
        n = len(range(i, want, len(CODES)))
        got = value(s, "accesslog_http_responses_total", source=source, code=code)
        assert got == n, "code %s: got %d want %d" % (code, got, n)
    return s


def start(args, user=None):
    """Start the exporter (source "t"); as another uid when user is given
    (for permission tests when running as root).  A context manager: see
    harness.Exporter."""
    return Exporter(["--source", "t"] + args, user=user)


def with_state(tmp, *extra):
    """An empty tmp/access.log and the args that follow it with the state
    file tmp/state (extra args before the path): (log, args)."""
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()
    return log, ["--state.file", os.path.join(tmp, "state")] + list(extra) + [log]


def next_checkpoint(exp, first=None):
    """Wait (12 s at most) until a timed checkpoint is newer than first
    (default: the last one at this call)."""
    if first is None:
        first = exp.scrape()[(CKPT, frozenset())]
    exp.wait_for(lambda s: s[(CKPT, frozenset())] > first, timeout=12)


def killed_after_checkpoint(exp, first=None):
    """kill -9 once a timed checkpoint is newer than first (see
    next_checkpoint)."""
    next_checkpoint(exp, first)
    exp.stop(signal.SIGKILL)


def run_cases(cases, seconds=None):
    """Run each case in a temp dir of its own, removed after it: a case is a
    function of the dir, or (function, arg) for function(dir, arg).  Within
    seconds in all when given (checked after each case).  Prints the closing
    line of a passed run."""
    deadline = Deadline(seconds) if seconds else None
    for case in cases:
        fn, args = (case[0], case[1:]) if isinstance(case, tuple) else (case, ())
        tmp = tempfile.mkdtemp()
        try:
            fn(tmp, *args)
        finally:
            shutil.rmtree(tmp)
        if deadline:
            deadline.check()
    print("%d passed, 0 failed" % len(cases))


class Deadline:
    """Whole-test time bound: call check() in loops."""

    def __init__(self, seconds):
        self.end = time.time() + seconds

    def check(self):
        assert time.time() < self.end, "test took too long"
