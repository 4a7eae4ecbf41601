#!/usr/bin/env python3
"""Integration: restarts with --state.file count every line exactly once.

- kill -9 at a random moment after a few checkpoints while a writer keeps
  appending (also while the exporter is down), restart: counters equal the
  lines written, exactly;
- the same with a rename rotation while the exporter is down (the old
  file is found by identity and drained from the checkpoint);
- SIGTERM + restart (checkpoint on exit);
- rotated while down, then down again while the old file still drains: the
  late lines of the old file are counted once, the rotation once;
- restart with the source on another path (a.log -> b.log): the
  checkpointed a.log is no longer followed, no rotation is counted;
- a corrupt state file is reported and ignored (fresh start), never fatal;
- field labels reordered in the config between runs: restored series keep
  their values under the right label names; a label whose rewrite changed
  restores with the empty value (totals kept);
- kill -9, then the log is deleted while the writer still holds it open and
  appends (delete + recreate rotation): the deleted file is found among the
  writer's open descriptors (/proc/PID/fd) and drained from the checkpoint."""
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from tailkit import (CKPT, Writer, append_lines as append, assert_exact,  # noqa: E402
                     killed_after_checkpoint, line, next_checkpoint, start, run_cases, with_state)
from harness import Exporter, value, write_atomic  # noqa: E402


def kill9(tmp, rotate_while_down):
    log, args = with_state(tmp)
    exp = start(args)
    with exp, Writer(log, burst=30) as w:
        w.start()
        first = exp.scrape()[(CKPT, frozenset())]
        assert first > 0, "no checkpoint at start"
        # run past at least one timed checkpoint, then die at a random moment
        next_checkpoint(exp, first)
        time.sleep(random.uniform(0.0, 2.0))
        exp.stop(signal.SIGKILL)
        time.sleep(0.3)  # lines written while down must count too
        if rotate_while_down:
            def rotate(wr):
                os.rename(log, log + ".1")
                wr.reopen()
            w.locked(rotate)
            time.sleep(0.2)
        with start(args) as exp:
            time.sleep(0.5)
            n = w.stop()
            s = assert_exact(exp, n)
            if rotate_while_down:
                assert value(s, "accesslog_log_rotations_total", source="t") == 1
    print("ok kill -9%s: %d lines" % (" + rotation while down" if rotate_while_down else "", n))


def sigterm(tmp):
    log, args = with_state(tmp)
    with open(log, "w") as f:
        f.write("not counted: before the first start\n")
    with Writer(log, burst=30) as w:
        with start(args):
            w.start()
            time.sleep(0.5)
        time.sleep(0.3)
        with start(args) as exp:
            assert "resumed from the state file" in exp.log(), exp.log()
            time.sleep(0.3)
            n = w.stop()
            assert_exact(exp, n)
    print("ok SIGTERM: %d lines" % n)


def deleted_still_open(tmp):
    # the keeper would hand the file back first (test_fdstore): this is the
    # writer's /proc/PID/fd path, used without a keeper
    log, args = with_state(tmp, "--state.fd-store", "off")
    exp = start(args)
    held = open(log, "a")  # the server's descriptor: it writes on after the delete
    with exp, held:
        held.write("".join(line(i) for i in range(10)))
        held.flush()
        s = assert_exact(exp, 10)
        # a checkpoint that holds the 10 lines, then die without another
        killed_after_checkpoint(exp, s[(CKPT, frozenset())])
        held.write("".join(line(i) for i in range(10, 15)))
        held.flush()
        os.unlink(log)  # delete + recreate: the old file has no name now
        held.write("".join(line(i) for i in range(15, 20)))
        held.flush()
        append(log, 20, 5)  # the new file, after the delete
        with start(args) as exp:
            s = assert_exact(exp, 25)
            assert "resuming a deleted file still open by a writer" in exp.log(), exp.log()
            # the writer goes on appending until it reopens: still counted
            held.write("".join(line(i) for i in range(25, 28)))
            held.flush()
            assert_exact(exp, 28)
    print("ok kill -9, deleted while down and still open: 28 lines")


def rotated_twice(tmp):
    log, args = with_state(tmp)
    with start(args) as exp:
        append(log, 0, 10)
        assert_exact(exp, 10)
    # down: rotated by rename, the old file gets more lines, a new one starts
    append(log, 10, 5)
    os.rename(log, log + ".1")
    append(log, 15, 5)
    with start(args) as exp:
        assert_exact(exp, 20)
    # down again while access.log.1 still drains (60 s grace): a late
    # write to it (a long request finishing) must still be counted
    append(log + ".1", 20, 3)
    append(log, 23, 2)
    with start(args) as exp:
        s = assert_exact(exp, 25)
        assert value(s, "accesslog_log_rotations_total", source="t") == 1
    print("ok rotated while down, restarted again while draining")


def changed_path(tmp):
    a = os.path.join(tmp, "a.log")
    b = os.path.join(tmp, "b.log")
    state = os.path.join(tmp, "state")
    open(a, "w").close()
    open(b, "w").close()
    with start(["--state.file", state, a]) as exp:
        append(a, 0, 1)
        assert_exact(exp, 1)
    with start(["--state.file", state, b]) as exp:
        append(a, 100, 3)  # the old path: no longer configured
        append(b, 1, 2)
        s = assert_exact(exp, 3, settle=1.0)
        assert value(s, "accesslog_log_rotations_total", source="t") == 0
        assert not [k for k in s if k[0] == "accesslog_log_file_open" and ("path", a) in k[1]]
        assert value(s, "accesslog_log_file_open", source="t", path=b) == 1
        assert "not resuming checkpointed files" in exp.log(), exp.log()
    print("ok restart on another path: the old file is not followed")


def corrupt(tmp):
    log, args = with_state(tmp)
    with open(os.path.join(tmp, "state"), "w") as f:
        f.write("accesslog-state 1\nsource t\ngarbage\n")
    with start(args) as exp:
        assert "ignoring unreadable or corrupt state file" in exp.log(), exp.log()
        # the reason, not "Invalid argument"
        assert 'reason="truncated: no checksum line at the end' in exp.log(), exp.log()
        w = Writer(log, limit=500)
        w.start()
        w.join(timeout=10)
        assert_exact(exp, w.stop())
    with open(os.path.join(tmp, "state")) as f:
        assert f.read().startswith("accesslog-state 2\n")  # replaced by a good one
    print("ok corrupt state file ignored")


FL_CONFIG = """sources:
  - name: web
    format: vhost_combined
    paths: [%s]
    field_labels:
%s"""
FL_VHOST = "      - {name: vhost, field: vhost}\n"
FL_PATH = "      - {name: p, field: path}\n"
FL_PATH_REWRITE = "      - {name: p, field: path, match: '/([a-z]+).*', replacement: '/$1/'}\n"
VLINE = '%s:80 203.0.113.9 - - [25/Nov/2026:10:00:00 +0000] "GET %s HTTP/1.1" %s 100 "-" "t"\n'
RESP = "accesslog_http_responses_total"


def field_labels_reordered(tmp):
    log = os.path.join(tmp, "access.log")
    cfg = os.path.join(tmp, "config.yml")
    state = os.path.join(tmp, "state")
    open(log, "w").close()

    def run(labels):
        write_atomic(cfg, FL_CONFIG % (log, labels))
        return Exporter(["--config.file", cfg, "--state.file", state])

    def add(vhost, path, code, n):
        with open(log, "a") as f:
            f.write(VLINE % (vhost, path, code) * n)

    def series(s):
        return {tuple(sorted(k[1])): v for k, v in s.items() if k[0] == RESP}

    with run(FL_VHOST + FL_PATH) as exp:
        add("example.com", "/login", "200", 1)
        add("shop.example", "/cart", "404", 2)
        exp.wait_for(lambda s: value(s, RESP, source="web") == 3)
    # the reviewer's case: the two field labels swapped in the YAML
    with run(FL_PATH + FL_VHOST) as exp:
        assert "resumed from the state file" in exp.log(), exp.log()
        s = exp.scrape()
        assert value(s, RESP, source="web", vhost="example.com", p="/login", code="200") == 1, \
            series(s)
        assert value(s, RESP, source="web", vhost="shop.example", p="/cart", code="404") == 2, \
            series(s)
        assert value(s, RESP, source="web") == 3, series(s)
        assert not [k for k in s if ("p", "example.com") in k[1] or ("vhost", "/login") in k[1]]
        # new lines join the restored series
        add("example.com", "/login", "200", 1)
        s = exp.wait_for(lambda s: value(s, RESP, source="web") == 4)
        assert value(s, RESP, source="web", vhost="example.com", p="/login") == 2, series(s)
    # p gets a rewrite: its old values are not what it means now: empty,
    # vhost keeps its values, totals exact
    with run(FL_VHOST + FL_PATH_REWRITE) as exp:
        s = exp.scrape()
        assert value(s, RESP, source="web", vhost="example.com", p="", code="200") == 2, series(s)
        assert value(s, RESP, source="web", vhost="shop.example", p="", code="404") == 2, series(s)
        assert value(s, RESP, source="web") == 4, series(s)
        assert value(s, "accesslog_http_response_bytes_total", source="web") == 400, series(s)
        add("example.com", "/login/x", "200", 1)
        s = exp.wait_for(lambda s: value(s, RESP, source="web") == 5)
        assert value(s, RESP, source="web", vhost="example.com", p="/login/") == 1, series(s)
    print("ok field labels reordered / rewritten between runs: restored by name")


def main():
    cases = ((kill9, False), (kill9, True), sigterm, rotated_twice, changed_path, corrupt,
             field_labels_reordered, deleted_still_open)
    run_cases(cases, 110)


if __name__ == "__main__":
    main()
