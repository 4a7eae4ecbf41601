#!/usr/bin/env python3
"""Integration: hardening against unlucky operators and odd clients (issue 11).
Each case reproduces a defect the exporter had:

- a path holding a newline is checkpointed (escaped), so a restart resumes
  it instead of re-reading it from 0 (10 lines: 10, 20, 30 over 3 runs);
- a FIFO (or directory, socket...) given as --state.file is refused at
  start with a message (exit 2) instead of blocking the start for ever;
- GET /metrics with ~1,000 query arguments is answered at once (414)
  instead of hanging until the connection timeout, and the server keeps
  answering scrapes."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, binary  # noqa: E402
from tailkit import Deadline, line, lines  # noqa: E402


def newline_path(tmp):
    """10 lines in a file whose name holds a newline, matched by a glob;
    three runs with a state file count 10 each time, not 10, 20, 30."""
    log = os.path.join(tmp, "a\nb.log")
    state = os.path.join(tmp, "state")
    open(log, "w").close()
    for run in range(3):
        exp = Exporter(["--source", "t", "--state.file", state, os.path.join(tmp, "*.log")])
        try:
            if run == 0:
                with open(log, "a") as f:
                    f.write("".join(line(i) for i in range(10)))
            exp.wait_for(lambda s: lines(s) >= 10)
            time.sleep(0.5)  # a wrong restart would re-read the file now
            got = lines(exp.scrape())
            assert got == 10, "run %d: %d lines counted, 10 written" % (run, got)
            assert exp.stop() == 0, exp.log()
        finally:
            exp.stop()
        with open(state) as f:
            text = f.read()
        assert text.startswith("accesslog-state 2\n"), text[:40]
        assert "/a\\nb.log\n" in text, "newline path not in the checkpoint:\n" + text
    print("ok newline path: 10 lines counted once over 3 runs")


def state_not_regular(tmp):
    """A FIFO, a directory and a socket as --state.file: exit 2 at once,
    naming what the path is."""
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    sock_path = os.path.join(tmp, "sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(sock_path)
    try:
        for path, kind in ((fifo, "a FIFO"), (tmp, "a directory"), (sock_path, "a socket")):
            t = time.time()
            p = subprocess.run([binary(), "--web.listen-address", "127.0.0.1:0",
                                "--state.file", path, log],
                               capture_output=True, text=True, timeout=10)
            took = time.time() - t
            assert p.returncode == 2, (path, p.returncode, p.stderr)
            assert "cannot use the state file" in p.stderr and kind in p.stderr, p.stderr
            assert took < 5, took
    finally:
        sock.close()
    print("ok state file not regular: refused with exit 2 (FIFO, directory, socket)")


def query_args(tmp):
    """~1,000 query arguments: 414 at once; a few are fine; scrapes go on."""
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()
    exp = Exporter(["--source", "t", "--web.connection-timeout", "5", log])
    try:
        for n, want in ((1000, b"414"), (3000, b"414"), (10, b"200"), (64, b"200")):
            q = "&".join("a%d=%d" % (i, i) for i in range(n))
            with socket.create_connection(("127.0.0.1", exp.port), timeout=10) as s:
                t = time.time()
                s.sendall(("GET /metrics?%s HTTP/1.1\r\nHost: x\r\n\r\n" % q).encode())
                head = s.recv(64)
                took = time.time() - t
            assert head.startswith(b"HTTP/1.1 " + want), (n, head)
            assert took < 2, "%d arguments answered after %.1f s" % (n, took)
        assert exp.get("/metrics")[0] == 200
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
    print("ok query arguments: 1,000 and 3,000 answered 414 at once, scrapes go on")


CASES = (newline_path, state_not_regular, query_args)


def main():
    deadline = Deadline(110)
    only = sys.argv[1:]
    n = 0
    for case in CASES:
        if only and case.__name__ not in only:
            continue
        tmp = tempfile.mkdtemp()
        try:
            case(tmp)
            n += 1
        finally:
            shutil.rmtree(tmp)
        deadline.check()
    print("%d passed, 0 failed" % n)


if __name__ == "__main__":
    main()
