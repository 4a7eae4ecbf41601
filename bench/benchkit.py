"""Shared pieces of the Python benchmarks (follow_latency.py,
scrape_latency.py), the twin of benchkit.c: the exporter started on a
kernel-chosen loopback port with its standard error in a file, the
--against OLD_EXPORTER option, and the machine line a report starts with.
Standard library only."""
import os
import re
import subprocess
import sys
import time


def start_exporter(exe, args, d):
    """exe listening on 127.0.0.1 (kernel-chosen port) with args, its
    standard error in d/err.log: (process, port) once it listens.  Ends the
    benchmark with the log when it does not within 10 s."""
    err = os.path.join(d, "err.log")
    with open(err, "wb") as f:
        proc = subprocess.Popen([exe, "--web.listen-address", "127.0.0.1:0"] + args,
                                stdout=subprocess.DEVNULL, stderr=f)
    for _ in range(500):
        with open(err) as f:
            m = re.search(r"msg=listening .*port=(\d+)", f.read())
        if m:
            return proc, int(m.group(1))
        time.sleep(0.02)
    proc.kill()
    with open(err) as f:
        sys.exit("exporter did not start: " + f.read())


def against(args):
    """Takes --against OLD_EXPORTER out of args (a list): the old binary,
    or None."""
    if "--against" not in args:
        return None
    i = args.index("--against")
    old = args[i + 1]
    del args[i:i + 2]
    return old


def print_machine():
    """The cores and the load average, first line of every report."""
    with open("/proc/loadavg") as f:
        print("machine: %d cores, load average %s" % (os.cpu_count(), f.read().split()[:3]))
