#!/usr/bin/env python3
"""Integration: restarts with --state.file count every line exactly once.

- kill -9 at a random moment after a few checkpoints while a writer keeps
  appending (also while the exporter is down), restart: counters equal the
  lines written, exactly;
- the same with a rename rotation while the exporter is down (the old
  file is found by identity and drained from the checkpoint);
- SIGTERM + restart (checkpoint on exit);
- a corrupt state file is reported and ignored (fresh start), never fatal."""
import os
import random
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from tailkit import Deadline, Writer, assert_exact, start  # noqa: E402
from harness import value  # noqa: E402

CKPT = "accesslog_checkpoint_last_success_timestamp_seconds"


def kill9(tmp, rotate_while_down):
    log = os.path.join(tmp, "access.log")
    state = os.path.join(tmp, "state")
    open(log, "w").close()
    args = ["--state.file", state, log]
    exp = start(args)
    w = Writer(log, burst=30)
    w.start()
    try:
        first = exp.scrape()[(CKPT, frozenset())]
        assert first > 0, "no checkpoint at start"
        # run past at least one timed checkpoint, then die at a random moment
        exp.wait_for(lambda s: s[(CKPT, frozenset())] > first, timeout=12)
        time.sleep(random.uniform(0.0, 2.0))
        exp.stop(signal.SIGKILL)
        time.sleep(0.3)  # lines written while down must count too
        if rotate_while_down:
            def rotate(wr):
                os.rename(log, log + ".1")
                wr.reopen()
            w.locked(rotate)
            time.sleep(0.2)
        exp = start(args)
        time.sleep(0.5)
        n = w.stop()
        s = assert_exact(exp, n)
        if rotate_while_down:
            assert value(s, "accesslog_log_rotations_total", source="t") == 1
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
        if w.is_alive():
            w.stop()
    print("ok kill -9%s: %d lines" % (" + rotation while down" if rotate_while_down else "", n))


def sigterm(tmp):
    log = os.path.join(tmp, "access.log")
    state = os.path.join(tmp, "state")
    with open(log, "w") as f:
        f.write("not counted: before the first start\n")
    args = ["--state.file", state, log]
    w = Writer(log, burst=30)
    exp = start(args)
    try:
        w.start()
        time.sleep(0.5)
        assert exp.stop() == 0, exp.log()
        time.sleep(0.3)
        exp = start(args)
        assert "resumed from the state file" in exp.log(), exp.log()
        time.sleep(0.3)
        n = w.stop()
        assert_exact(exp, n)
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
        if w.is_alive():
            w.stop()
    print("ok SIGTERM: %d lines" % n)


def corrupt(tmp):
    log = os.path.join(tmp, "access.log")
    state = os.path.join(tmp, "state")
    open(log, "w").close()
    with open(state, "w") as f:
        f.write("accesslog-state 1\nsource t\ngarbage\n")
    exp = start(["--state.file", state, log])
    try:
        assert "ignoring unreadable or corrupt state file" in exp.log(), exp.log()
        w = Writer(log, limit=500)
        w.start()
        w.join(timeout=10)
        assert_exact(exp, w.stop())
        assert exp.stop() == 0, exp.log()
        with open(state) as f:
            assert f.read().startswith("accesslog-state 1\n")  # replaced by a good one
    finally:
        exp.stop()
    print("ok corrupt state file ignored")


def main():
    deadline = Deadline(110)
    for case, arg in ((kill9, False), (kill9, True), (sigterm, None), (corrupt, None)):
        tmp = tempfile.mkdtemp()
        try:
            case(tmp, arg) if arg is not None else case(tmp)
        finally:
            shutil.rmtree(tmp)
        deadline.check()
    print("4 passed, 0 failed")


if __name__ == "__main__":
    main()
