#!/usr/bin/env python3
"""Integration: open log files outlive a kill -9 (issue 11, part 6).

The loss the soak found with delete rotation: the exporter is killed, the
writer appends to the log, deletes it and closes it while the exporter is
down.  Nobody holds the deleted file any more, so the lines written after
the last checkpoint are gone -- unless a descriptor of it was kept outside
the exporter (input/fdstore.c):
- with --state.fd-store off the loss is reproduced (15 of 25 lines);
- with the keeper process (the default with a state file) all 25 count,
  the socket beside the state file is 0600, a clean stop ends the keeper;
- no doubles when the kept file is still at its path or renamed (it is read
  once, from the checkpoint), over two crashes in a row;
- a keeper nobody comes back to exits after --state.fd-keeper-linger and
  lets the deleted file go;
- something else at STATE.fds is left alone (a warning; counting goes on);
- the systemd protocol, against a receiver that follows sd_notify(3) and
  the manager's file descriptor store (FDSTORE=1 / FDNAME= with SCM_RIGHTS,
  given back as LISTEN_FDS / LISTEN_FDNAMES with LISTEN_PID): the same 25."""
import array
import os
import signal
import socket
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from tailkit import (assert_exact, killed_after_checkpoint, line, lines, start,  # noqa: E402
                     run_cases)
from harness import Exporter  # noqa: E402

KEPT = "resuming a file through its kept descriptor"


def append(f, first, n):
    f.write("".join(line(first + i) for i in range(n)))
    f.flush()


def wait_gone(path, timeout=5.0):
    deadline = time.time() + timeout
    while os.path.exists(path):
        assert time.time() < deadline, "%s still there" % path
        time.sleep(0.05)


def delete_while_down(tmp, starter):
    """10 lines, checkpoint, kill -9; the writer appends 5, deletes the log,
    appends 5 and closes it; a new log gets 5; restart.  Returns the
    restarted exporter (25 lines were written)."""
    log = os.path.join(tmp, "access.log")
    held = open(log, "a")  # the web server's descriptor
    exp = starter()
    append(held, 0, 10)
    assert_exact(exp, 10)
    killed_after_checkpoint(exp)
    append(held, 10, 5)
    os.unlink(log)
    append(held, 15, 5)
    held.close()  # the server reopened its log: nobody has the old file now
    with open(log, "a") as f:
        append(f, 20, 5)
    return starter()


def loss_without_store(tmp):
    args = ["--state.fd-store", "off", "--state.file", os.path.join(tmp, "state"),
            os.path.join(tmp, "access.log")]
    exp = delete_while_down(tmp, lambda: start(args))
    try:
        # deterministic: the 10 lines after the checkpoint died with the file
        exp.wait_for(lambda s: lines(s) >= 15)
        time.sleep(0.4)
        assert lines(exp.scrape()) == 15, exp.scrape()
        assert KEPT not in exp.log(), exp.log()
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
    print("ok --state.fd-store off: the loss reproduced (15 of 25 counted)")


def keeper(tmp):
    state = os.path.join(tmp, "state")
    args = ["--state.file", state, os.path.join(tmp, "access.log")]
    exp = delete_while_down(tmp, lambda: start(args))
    try:
        assert_exact(exp, 25)
        assert KEPT in exp.log() and "none (deleted)" in exp.log(), exp.log()
        assert "holder=keeper given_back=1" in exp.log(), exp.log()
        st = os.lstat(state + ".fds")
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        assert exp.stop() == 0, exp.log()
        wait_gone(state + ".fds")  # a clean stop ends the keeper
    finally:
        exp.stop()
    print("ok keeper: deleted and closed while down, all 25 lines counted")


def no_doubles(tmp):
    """The kept descriptor of a file that is still at its path (or renamed
    in its directory) is dropped: the file is read once, from the checkpoint."""
    log = os.path.join(tmp, "access.log")
    args = ["--state.file", os.path.join(tmp, "state"), log]
    f = open(log, "a")
    exp = start(args)
    try:
        append(f, 0, 10)
        assert_exact(exp, 10)
        killed_after_checkpoint(exp)
        append(f, 10, 5)
        exp = start(args)  # the kept copy of access.log given back, not used
        append(f, 15, 5)
        assert_exact(exp, 20)
        assert "given_back=1" in exp.log() and KEPT not in exp.log(), exp.log()
        killed_after_checkpoint(exp)
        os.rename(log, log + ".1")  # renamed while down: found in its directory
        append(f, 20, 5)
        f.close()
        exp = start(args)
        assert_exact(exp, 25)
        exp.stop(signal.SIGKILL)  # killed again at once, before any new checkpoint
        exp = start(args)
        assert_exact(exp, 25)
        assert exp.stop() == 0, exp.log()
    finally:
        f.close()
        exp.stop()
    print("ok no doubles: kept file still at its path, renamed, two crashes: 25 lines")


def deleted_open_by(name):
    """Pids that hold a deleted file whose path ends in name."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.endswith(name + " (deleted)"):
                pids.append(pid)
    return pids


def linger(tmp):
    """Nobody restarts: the keeper exits after the linger and the deleted
    file's space is freed."""
    state = os.path.join(tmp, "state")
    log = os.path.join(tmp, "linger-access.log")
    exp = start(["--state.file", state, "--state.fd-keeper-linger", "1s", log])
    with open(log, "a") as f:
        append(f, 0, 3)
    assert_exact(exp, 3)
    exp.stop(signal.SIGKILL)
    os.unlink(log)
    assert len(deleted_open_by("/linger-access.log")) == 1, "the keeper holds the deleted file"
    wait_gone(state + ".fds", timeout=6)
    deadline = time.time() + 3
    while deleted_open_by("/linger-access.log"):
        assert time.time() < deadline, "the deleted file is still held"
        time.sleep(0.05)
    print("ok keeper linger: exits 1 s after its exporter died, deleted file freed")


def foreign_path(tmp):
    state = os.path.join(tmp, "state")
    with open(state + ".fds", "w") as f:
        f.write("not a socket\n")
    log = os.path.join(tmp, "access.log")
    with open(log, "a") as f:
        exp = start(["--state.file", state, log])
        try:
            append(f, 0, 4)
            assert_exact(exp, 4)
            assert "cannot keep log file descriptors" in exp.log(), exp.log()
            assert exp.stop() == 0, exp.log()
        finally:
            exp.stop()
    with open(state + ".fds") as f:
        assert f.read() == "not a socket\n"
    print("ok something else at STATE.fds: left alone, warned, counting goes on")


class FdStore(threading.Thread):
    """systemd's side of the file descriptor store, as sd_notify(3) and
    systemd.service(5) describe it: datagrams of NAME=VALUE lines on
    $NOTIFY_SOCKET; FDSTORE=1 keeps the SCM_RIGHTS descriptors under FDNAME
    (a second one of the same open file is dropped, as the manager does),
    FDSTOREREMOVE=1 closes every descriptor of FDNAME."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.fds = {}  # name -> [fd]
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.messages = []

    def run(self):
        while not self.done.is_set():
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
            except socket.timeout:
                continue
            fds = array.array("i")
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
            kv = dict(l.split("=", 1) for l in data.decode().split("\n") if "=" in l)
            with self.lock:
                self.messages.append(kv)
                self.apply(kv, list(fds))

    def apply(self, kv, fds):
        name = kv.get("FDNAME", "stored")
        if kv.get("FDSTORE") == "1":
            kept = self.fds.setdefault(name, [])
            for fd in fds:
                st = os.fstat(fd)
                if any(os.path.samestat(st, os.fstat(k)) for k in kept):
                    os.close(fd)  # same file stored already (the manager compares too)
                else:
                    kept.append(fd)
            return
        for fd in fds:
            os.close(fd)
        if kv.get("FDSTOREREMOVE") == "1":
            for fd in self.fds.pop(name, []):
                os.close(fd)

    def stored(self):
        with self.lock:
            return [(n, fd) for n, fds in self.fds.items() for fd in fds]

    def stop(self):
        self.done.set()
        self.join(timeout=5)
        self.sock.close()
        for _, fd in self.stored():
            os.close(fd)


# Execs the exporter the way the manager does: the stored descriptors at 3,
# 4, ... named by LISTEN_FDNAMES, LISTEN_PID the exporter's own pid.
LAUNCH = r"""
import os, sys
n = int(sys.argv[1]); fds = [int(x) for x in sys.argv[2:2 + n]]
high = [os.dup(fd) for fd in fds]
high = [os.dup2(fd, 100 + i) or 100 + i for i, fd in enumerate(high)]
for i, fd in enumerate(high):
    os.dup2(fd, 3 + i)
    os.set_inheritable(3 + i, True)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS=str(n))
os.execv(sys.argv[2 + n], sys.argv[2 + n:])
"""


def systemd_protocol(tmp):
    state = os.path.join(tmp, "state")
    log = os.path.join(tmp, "access.log")
    store = FdStore(os.path.join(tmp, "notify"))
    store.start()
    env = dict(os.environ, NOTIFY_SOCKET=os.path.join(tmp, "notify"), FDSTORE="64")
    args = ["--source", "t", "--state.file", state, log]

    def starter():
        items = store.stored()
        env["LISTEN_FDNAMES"] = ":".join(n for n, _ in items)
        fds = [fd for _, fd in items]
        return Exporter(args, env=env, pass_fds=fds,
                        launcher=[sys.executable, "-c", LAUNCH, str(len(fds))] +
                        [str(fd) for fd in fds])
    exp = None
    try:
        exp = delete_while_down(tmp, starter)
        assert_exact(exp, 25)
        assert "holder=systemd given_back=1" in exp.log() and KEPT in exp.log(), exp.log()
        assert not os.path.exists(state + ".fds"), "no keeper under systemd"
        names = [n for n, _ in store.stored()]
        assert len(names) == 2 and all(n.startswith("alx-") for n in names), names
        st = os.stat(log)
        assert "alx-%d-%d" % (st.st_dev, st.st_ino) in names, names
        assert exp.stop() == 0, exp.log()
    finally:
        if exp:
            exp.stop()
        store.stop()
    print("ok systemd fd store protocol: deleted and closed while down, all 25 lines counted")


def main():
    cases = (loss_without_store, keeper, no_doubles, linger, foreign_path, systemd_protocol)
    run_cases(cases, 110)


if __name__ == "__main__":
    main()
