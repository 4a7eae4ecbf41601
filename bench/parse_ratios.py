#!/usr/bin/env python3
"""Interleaved CPU-time ratios for bench/run-parse (see there).

Usage: parse_ratios.py OUTDIR LINES ROUNDS CALLGRIND_LINES EXPORTER [OLD_EXPORTER]
"""
import collections
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

out, lines, rounds, cg_lines, exe = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(
    sys.argv[4]), sys.argv[5]
old = sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else None
here = os.path.dirname(os.path.abspath(__file__))

NGINX_TIMES = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
               '"$http_referer" "$http_user_agent" $request_time $upstream_response_time')
APACHE_D = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D'

# name -> (log, exporter format args, strict regex file or None)
CASES = [
    ("combined", "combined", ["--format", "combined"], "combined.re"),
    ("nginx + times", "timed", ["--format", "nginx", "--log-format", NGINX_TIMES],
     "nginx_times.re"),
    ("apache + %D", "apache_d", ["--format", "apache", "--log-format", APACHE_D], "apache_d.re"),
    ("json lines", "json", ["--format", "json"], None),
]


def run(cmd):
    """CPU seconds (user + sys), wall seconds and stdout of one pinned run."""
    with tempfile.TemporaryFile() as fo:
        t0 = time.perf_counter()
        p = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=fo, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit("failed (%d): %s" % (p.returncode, " ".join(cmd)))
        fo.seek(0)
        return ru.ru_utime + ru.ru_stime, wall, fo.read().decode()


def check_counts(name, text, counts_file):
    got = collections.Counter()
    for m in re.finditer(r'^accesslog_http_responses_total\{.*code="(\w+)".*\} (\d+)$', text,
                         re.M):
        got[m.group(1)] += int(m.group(2))
    want = collections.Counter()
    for l in open(counts_file):
        a, b = l.split()
        want[a] = int(b)
    if got != want:
        sys.exit("%s: counts differ from the generator's: %r vs %r" % (name, got, want))


def commands():
    cmds = collections.OrderedDict()
    cmds["wc -l"] = (["wc", "-l", out + "/combined.log"], None)
    for name, log, args, strict in CASES:
        path = "%s/%s.log" % (out, log)
        if strict:
            cmds["pcre2grep " + name] = (["pcre2grep", "-c", "-f", here + "/strict/" + strict,
                                          path], None)
        cmds["exporter " + name] = ([exe, "--once", "--threads", "1"] + args + [path], log)
        if old:
            cmds["old " + name] = ([old, "--once", "--threads", "1"] + args + [path], log)
    return cmds


cmds = commands()
cpu = collections.defaultdict(list)
wall = collections.defaultdict(list)
for r in range(rounds + 1):  # round 0 warms the page cache and is not counted
    for key, (cmd, log) in cmds.items():
        c, w, text = run(cmd)
        if r == 0:
            if log:
                check_counts(key, text, "%s/%s.counts" % (out, log))
            elif key.startswith("pcre2grep") and int(text.split()[0]) != lines:
                sys.exit("%s matched %s of %d lines: the strict regex must match every line" %
                         (key, text.split()[0], lines))
            continue
        cpu[key].append(c)
        wall[key].append(w)

med = {k: statistics.median(v) for k, v in cpu.items()}
print("%d lines per file, %d interleaved rounds, pinned to core 0, median CPU s (wall s)" %
      (lines, rounds))
for k in cmds:
    print("  %-26s %7.3f s  %6.2f M lines/s  (wall %.3f s, CPU min %.3f max %.3f)" %
          (k, med[k], lines / med[k] / 1e6, statistics.median(wall[k]), min(cpu[k]), max(cpu[k])))
print("ratios (speed, higher is faster; from the medians above):")
for name, log, args, strict in CASES:
    e = med["exporter " + name]
    if strict:
        print("  %-16s exporter / pcre2grep strict regex   %.2fx" %
              (name, med["pcre2grep " + name] / e))
    if old:
        print("  %-16s exporter / old exporter             %.2fx  (%.3f -> %.3f s)" %
              (name, med["old " + name] / e, med["old " + name], e))
print("  %-16s exporter time / wc -l time           %.2fx  (goal: at most 4x)" %
      ("combined", med["exporter combined"] / med["wc -l"]))
print("  %-16s json lines / combined                %.2fx  (goal: at least 0.9x)" %
      ("json", med["exporter combined"] / med["exporter json lines"]))

if cg_lines > 0:
    print("instructions per line, valgrind --tool=callgrind, first %d lines:" % cg_lines)
    with tempfile.TemporaryDirectory() as td:
        base = None
        for key, (cmd, log) in cmds.items():
            path = cmd[-1]
            small = os.path.join(td, os.path.basename(path))
            if not os.path.exists(small):
                with open(path, "rb") as src, open(small, "wb") as dst:
                    for i, l in enumerate(src):
                        if i == cg_lines:
                            break
                        dst.write(l)
            p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] +
                               cmd[:-1] + [small], capture_output=True, text=True)
            m = re.search(r'Collected : (\d+)', p.stderr)
            ir = int(m.group(1)) if m else 0
            if key == "wc -l":
                base = ir
            print("  %-26s %8.0f instructions/line%s" %
                  (key, ir / cg_lines, "  (%.2fx wc -l)" % (ir / base) if base else ""))
