#!/usr/bin/env python3
"""Soak: the exporter under every rotation kind, reloads, scrapes and kill -9
restarts for a bounded time; counts checked against what was written.

    bench/soak.py [--minutes 30] [--rate 50000] [--out DIR] [--binary PATH]
                  [--kill-at any|delete] [--fd-store auto|off]

A writer appends numbered access-log lines at --rate lines/s over 20 files,
4 per source, one source per rotation kind, each rotated by the real
logrotate every 10 s (one kind after the other, so every file rotates
every 50 s):
  create        rename + create, the writer reopens on postrotate (as nginx
                on USR1), literal paths
  dateext       the same with dateext, glob dir/*.log
  delaycompress rename + compress + delaycompress, glob dir/*.log* (it
                matches access.log.1 and skips the .gz)
  delete        no logrotate: the file is deleted and the writer recreates it
  copytruncate  copytruncate, glob dir/*.log* (it matches the copies)
Meanwhile: SIGHUP (config reload) every 10 s, a scrape every 100 ms (its
latency kept), kill -9 and an immediate restart (same --state.file) every 2
minutes (every half of a run shorter than 4 minutes), and every 5 s the
exporter's RSS and open descriptors, and those of its descriptor keeper
(--state.fd-store's keeper process; input/fdstore.c).  --kill-at delete
aims every kill at the loss the keeper is for: the first delete rotation
after the 2 minutes are up, 0-30 ms after the delete (the writer has closed
the deleted files already, lines in them may be unread).  --fd-store off
runs without a keeper (the loss comes back).  After the final SIGTERM the
keeper must be gone.

At the end the writer stops and the counters must equal the lines written
for every source but copytruncate, exactly; for copytruncate they must lie
between the lines that are on disk (counted in every copy right after
logrotate made it, and in the live files) and the lines written: the lines
written between logrotate's copy and its truncate are on disk nowhere (the
documented window), and how many of them were lost is reported.  RSS and
descriptor curves go to DIR/soak.csv with the exporter's log (and a per-minute
summary to stdout).
Exit 0 when every check holds.  Only 127.0.0.1 is used; everything lives in
a temp dir removed at the end.  scripts/test runs the 2-minute version
(--minutes 2) as the `soak` suite; the 30-minute run is by hand.
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

KINDS = ("create", "dateext", "delaycompress", "delete", "copytruncate")
FILES_PER_KIND = 4
LINE = ('198.51.100.%d - - [25/Nov/2026:10:00:00 +0000] "GET /s/%d HTTP/1.1" 200 %d "-" '
        '"soak/1"\n')
LOGROTATE = {
    "create": "create\n",
    "dateext": "create\ndateext\ndateformat -%Y%m%d-%s\n",
    "delaycompress": "create\ncompress\ndelaycompress\n",
    "copytruncate": "copytruncate\n",
}


def binary(args):
    return args.binary or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                       "build", "accesslog_exporter")


class LogFile:
    def __init__(self, kind, path):
        self.kind, self.path = kind, path
        self.flag = path + ".reopen"
        self.f = open(path, "a")
        self.written = 0

    def reopen(self):
        self.f.close()
        self.f = open(self.path, "a")


class Writer(threading.Thread):
    """rate lines/s spread over the files, in 10 ms ticks; reopens a file
    when postrotate's flag appears; holds lock while writing a tick."""

    def __init__(self, files, rate):
        super().__init__(daemon=True)
        self.files, self.rate = files, rate
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.n = 0
        self.behind = 0.0
        self.error = None

    def run(self):
        try:
            start = time.monotonic()
            while not self.stop_flag.is_set():
                due = int((time.monotonic() - start) * self.rate)
                with self.lock:
                    for lf in self.files:
                        if os.path.exists(lf.flag):
                            lf.reopen()
                            os.unlink(lf.flag)
                    k = due - self.n
                    per = k // len(self.files)
                    for i, lf in enumerate(self.files):
                        m = per + (1 if i < k - per * len(self.files) else 0)
                        if m:
                            lf.f.write("".join(LINE % ((self.n + j) % 250, self.n + j,
                                                       (self.n + j) % 5000) for j in range(m)))
                            lf.f.flush()
                            lf.written += m
                            self.n += m
                self.behind = max(self.behind, due - self.n)
                time.sleep(0.01)
        except Exception as e:  # reported by stop()
            self.error = e

    def stop(self):
        self.stop_flag.set()
        self.join(timeout=20)
        for lf in self.files:
            lf.f.close()
        if self.error:
            raise self.error


class Exporter:
    def __init__(self, exe, config, log_path, extra=()):
        self.exe, self.config, self.log_path = exe, config, log_path
        self.extra = list(extra)
        self.proc, self.port = None, None

    def start(self):
        with open(self.log_path, "a") as err:
            self.proc = subprocess.Popen([self.exe, "--config.file", self.config,
                                          "--metrics.new-series-hold", "0"] + self.extra,
                                         stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(self.log_path) as f:
                ports = re.findall(r'msg=listening .*port=(\d+)', f.read())
            if len(ports) > self.starts:
                self.port = int(ports[-1])
                self.starts += 1
                return
            assert self.proc.poll() is None, "exporter exited: %d" % self.proc.returncode
            time.sleep(0.05)
        raise AssertionError("exporter did not start")

    starts = 0

    def scrape(self, timeout=10):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port,
                                    timeout=timeout) as r:
            return r.read().decode()

    def lines(self):
        out = {}
        for m in re.finditer(r'^accesslog_log_lines_total\{source="(\w+)"\} (\S+)$',
                             self.scrape(), re.M):
            out[m.group(1)] = int(float(m.group(2)))
        return out

    def sample(self):
        return proc_sample(self.proc.pid)

    def keepers(self):
        """Pids of other processes of this run (the keeper: a fork, same
        command line)."""
        out = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if int(pid) != self.proc.pid and self.config.encode() in cmd and \
                    cmd.startswith(self.exe.encode()):
                out.append(int(pid))
        return out


def proc_sample(pid):
    """(RSS KiB, open descriptors) of pid; (0, 0) when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        return rss, len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, AttributeError):
        return 0, 0


def lines_in(path):
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def setup(tmp):
    files, sources = [], []
    for kind in KINDS:
        d = os.path.join(tmp, kind)
        os.mkdir(d)
        paths = [os.path.join(d, "site%d.log" % i) for i in range(FILES_PER_KIND)]
        for p in paths:
            files.append(LogFile(kind, p))
        pattern = {"create": None, "dateext": d + "/*.log", "delete": d + "/*.log",
                   "delaycompress": d + "/*.log*", "copytruncate": d + "/*.log*"}[kind]
        sources.append("  - name: %s\n    format: combined\n    paths: [%s]\n" % (
            kind, ", ".join('"%s"' % p for p in ([pattern] if pattern else paths))))
        if kind in LOGROTATE:
            body = LOGROTATE[kind]
            if kind != "copytruncate":
                body += "postrotate\n  touch \"$1.reopen\"\nendscript\n"
            with open(os.path.join(tmp, kind + ".conf"), "w") as f:
                f.write("%s {\n  rotate 2\n  missingok\n  notifempty\n%s}\n" % (
                    " ".join(paths), "".join("  %s\n" % x for x in body.splitlines())))
    config = os.path.join(tmp, "soak.yml")
    with open(config, "w") as f:
        f.write("global:\n  listen_address: 127.0.0.1:0\n  state_file: %s\n  log_level: info\n"
                "sources:\n%s" % (os.path.join(tmp, "state"), "".join(sources)))
    return files, config


def rotate(tmp, kind, files, writer, copies):
    mine = [lf for lf in files if lf.kind == kind]
    if kind == "delete":
        with writer.lock:
            for lf in mine:
                os.unlink(lf.path)
                lf.reopen()
        return
    subprocess.run(["logrotate", "-f", "-s", os.path.join(tmp, "lr.status"),
                    os.path.join(tmp, kind + ".conf")], check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kind == "copytruncate":
        for lf in mine:  # the copy is final once logrotate returns
            copies[lf.path] = copies.get(lf.path, 0) + lines_in(lf.path + ".1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--rate", type=int, default=50000)
    ap.add_argument("--out", default=None)
    ap.add_argument("--binary", default=os.environ.get("ACCESSLOG_EXPORTER"))
    ap.add_argument("--kill-at", choices=("any", "delete"), default="any")
    ap.add_argument("--fd-store", choices=("auto", "off"), default="auto")
    args = ap.parse_args()
    if not shutil.which("logrotate"):
        print("soak: logrotate not installed (scripts/deps installs it)")
        return 1
    tmp = tempfile.mkdtemp(prefix="soak-")
    out = args.out or tmp
    os.makedirs(out, exist_ok=True)
    files, config = setup(tmp)
    exp = Exporter(os.path.abspath(binary(args)), config, os.path.join(tmp, "exporter.log"),
                   ["--state.fd-store", args.fd_store])
    exp.start()
    writer = Writer(files, args.rate)
    writer.start()
    copies, samples, latencies = {}, [], []
    stop_scraping = threading.Event()

    def scraper():
        while not stop_scraping.is_set():
            t = time.monotonic()
            try:
                exp.scrape(timeout=5)
                latencies.append(time.monotonic() - t)
            except Exception:
                pass  # the exporter is being restarted
            time.sleep(0.1)
    th = threading.Thread(target=scraper, daemon=True)
    th.start()
    t0 = time.monotonic()
    end = t0 + args.minutes * 60
    next_rotate = next_reload = t0 + 10
    # kill -9 every 2 minutes (every half of a shorter run: at least once)
    kill_every = min(120.0, args.minutes * 30)
    next_kill, next_sample, k = t0 + kill_every, t0, 0
    kills = reloads = 0
    aimed = False
    csv = open(os.path.join(out, "soak.csv"), "w")
    csv.write("seconds,rss_kib,fds,lines_written,keeper_rss_kib,keeper_fds\n")
    try:
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_sample:
                rss, fds = exp.sample()
                kp = exp.keepers()
                krss, kfds = proc_sample(kp[0]) if len(kp) == 1 else (0, 0)
                samples.append((now - t0, rss, fds, krss, kfds))
                csv.write("%.0f,%d,%d,%d,%d,%d\n" % (now - t0, rss, fds, writer.n, krss, kfds))
                csv.flush()
                next_sample += 5
            if now >= next_rotate:
                kind = KINDS[k % len(KINDS)]
                rotate(tmp, kind, files, writer, copies)
                k += 1
                next_rotate += 10
                if args.kill_at == "delete" and kind == "delete" and now >= next_kill:
                    time.sleep(random.uniform(0.0, 0.03))
                    aimed = True  # the kill below, right after the delete
            if now >= next_reload:
                exp.proc.send_signal(signal.SIGHUP)
                reloads += 1
                next_reload += 10
            if now >= next_kill and (args.kill_at == "any" or aimed):
                aimed = False
                exp.proc.kill()
                exp.proc.wait()
                kills += 1
                exp.start()
                next_kill += kill_every
            time.sleep(0.05)
        writer.stop()
        written = {kind: sum(lf.written for lf in files if lf.kind == kind) for kind in KINDS}
        on_disk = sum(copies.values()) + sum(lines_in(lf.path) for lf in files
                                             if lf.kind == "copytruncate")
        deadline, last = time.time() + 120, None
        while time.time() < deadline:
            got = exp.lines()
            if all(got.get(kd, 0) >= written[kd] for kd in KINDS if kd != "copytruncate") \
                    and got == last:
                break
            last = got
            time.sleep(2)
        stop_scraping.set()
        th.join(timeout=10)
        got = exp.lines()
    finally:
        stop_scraping.set()
        csv.close()
        if exp.proc.poll() is None:
            exp.proc.terminate()
            exp.proc.wait(timeout=20)
    deadline = time.time() + 5
    while exp.keepers() and time.time() < deadline:
        time.sleep(0.1)
    keepers_left = exp.keepers()
    ok = True
    total = sum(written.values())
    print("soak: %.1f min, %d lines written (%.0f/s, writer at most %d behind), %d rotations, "
          "%d reloads, %d kill -9 restarts, %d scrapes (slowest %.3f s, median %.3f s)" % (
              args.minutes, total, total / (args.minutes * 60), writer.behind, k, reloads,
              kills, len(latencies), max(latencies or [0]),
              sorted(latencies)[len(latencies) // 2] if latencies else 0))
    for kind in KINDS:
        c, w = got.get(kind, 0), written[kind]
        if kind == "copytruncate":
            good = on_disk <= c <= w
            print("  %-13s written %9d  on disk %9d  counted %9d  window (written - on disk) "
                  "%d, of it lost %d (%.4f %% of written)%s" % (
                      kind, w, on_disk, c, w - on_disk, w - c, 100.0 * (w - c) / max(w, 1),
                      "" if good else "  <-- FAIL"))
        else:
            good = c == w
            print("  %-13s written %9d  counted %9d%s" % (kind, w, c,
                                                             "" if good else "  <-- FAIL"))
        ok = ok and good
    # The curves: one row per 2 minutes (the first sample after each restart
    # settles); flat means the last row is within bounds of the second.
    print("  minute  rss_MiB  fds   keeper: rss_MiB  fds   (peak of each minute)")
    for minute in range(int(args.minutes + 0.999)):
        row = [s for s in samples if minute * 60 <= s[0] < (minute + 1) * 60]
        if row:
            print("  %6d  %7.1f  %3d           %7.1f  %3d" % (
                minute + 1, max(s[1] for s in row) / 1024, max(s[2] for s in row),
                max(s[3] for s in row) / 1024, max(s[4] for s in row)))
    if len(samples) > 8:
        # Flat: the last quarter peaks no higher than the second quarter
        # (the first holds the start-up and the first rotations).
        q = len(samples) // 4
        rss2, rss4 = max(s[1] for s in samples[q:2 * q]), max(s[1] for s in samples[-q:])
        fd2, fd4 = max(s[2] for s in samples[q:2 * q]), max(s[2] for s in samples[-q:])
        print("  peak in the 2nd quarter: RSS %.1f MiB, %d fds; in the 4th: RSS %.1f MiB, "
              "%d fds" % (rss2 / 1024, fd2, rss4 / 1024, fd4))
        # Descriptors: 20 live files, the rotations the globs match (8
        # copytruncate copies, 4 delaycompress .1), rotated files kept open
        # for the 60 s grace (4 per 10 s rotation), some catch-up: bounded
        # by the first sample + 64 in a run of any length; and no higher
        # at the end than in the 2nd quarter once a run is long enough
        # (10 min) for the grace and the rotations to reach steady state.
        grew = rss4 > rss2 * 1.2 + 2048 or max(s[2] for s in samples) > samples[0][2] + 64
        if args.minutes >= 10 and fd4 > fd2 + 8:
            grew = True
        if grew:
            print("  RSS or descriptors grew  <-- FAIL")
            ok = False
    if keepers_left:
        print("  the descriptor keeper is still running after a clean stop: %s  <-- FAIL" %
              keepers_left)
        ok = False
    if latencies and max(latencies) >= 1.0:
        print("  a scrape took %.2f s  <-- FAIL" % max(latencies))
        ok = False
    with open(exp.log_path) as f:
        errors = [ln for ln in f if "level=error" in ln]
    if errors:
        print("  exporter errors:\n" + "".join(errors[:10]))
        ok = False
    if args.out is not None:
        shutil.copy(exp.log_path, os.path.join(out, "exporter.log"))
    shutil.rmtree(tmp, ignore_errors=True)  # the logs: gigabytes after 30 minutes
    print("soak: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
