#!/usr/bin/env python3
"""Golden tests: every tests/data/golden/NAME.log run through
`accesslog_exporter --once` (flags from NAME.args, if present; or, when
NAME.yml exists, `--once --config.file NAME.yml`, whose source reads
NAME.log) must print exactly NAME.prom, except the lines that legitimately
vary between builds and runs (build revision, timestamps).
`golden.py --update` rewrites the .prom files; review the diff before
committing."""
import difflib
import glob
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Samples whose values depend on the build, the clock or the process, not on the log.
VARYING = ("accesslog_build_info{", "accesslog_log_last_read_timestamp_seconds{",
           "accesslog_config_last_reload_success_timestamp_seconds", "process_")


def render(binary, log):
    args_file = log[:-4] + ".args"
    config_file = log[:-4] + ".yml"
    args = []
    if os.path.exists(config_file):
        args = ["--config.file", os.path.basename(config_file)]
    else:
        if os.path.exists(args_file):
            with open(args_file) as f:
                args = shlex.split(f.read())
        args.append(os.path.basename(log))
    out = subprocess.run([binary, "--once"] + args,
                         cwd=os.path.dirname(log), capture_output=True, check=True)
    lines = out.stdout.decode("utf-8").splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith(VARYING))


def main():
    binary = os.environ.get("ACCESSLOG_EXPORTER", os.path.join(HERE, "..", "build",
                                                               "accesslog_exporter"))
    update = "--update" in sys.argv
    logs = sorted(glob.glob(os.path.join(HERE, "data", "golden", "*.log")))
    assert logs, "no golden files found"
    failed = 0
    for log in logs:
        want_file = log[:-4] + ".prom"
        got = render(binary, log)
        if update:
            with open(want_file, "w") as f:
                f.write(got)
            continue
        with open(want_file) as f:
            want = f.read()
        if got != want:
            failed += 1
            sys.stdout.writelines(difflib.unified_diff(
                want.splitlines(True), got.splitlines(True), want_file, "got"))
            print("not ok - %s" % os.path.basename(log))
        else:
            print("ok - %s" % os.path.basename(log))
    print("%d passed, %d failed" % (len(logs) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
