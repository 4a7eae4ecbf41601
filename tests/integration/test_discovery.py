#!/usr/bin/env python3
"""Integration: files that appear under a glob are found at once from the
directory's inotify events, not at the next 5 s rescan.

- short-lived files: three writers each create a file, write it in a few
  bursts and remove it, all within 0.2-0.7 s, 48 files in all; every line
  is counted (before dirwatch.c most of them were never opened);
- files moved into the directory (written under another name, renamed to
  a matching one) and files created under a name the glob does not match
  (not read);
- a pattern whose directory has glob characters is not watched: its new
  files are still found, by the rescan."""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from tailkit import assert_exact, line, start, run_cases  # noqa: E402


def short_lived(tmp):
    d = os.path.join(tmp, "logs")
    os.makedirs(d)
    exp = start([os.path.join(d, "*.log")])
    written = [0, 0, 0]
    errors = []

    def writer(k):
        rnd = random.Random(k)
        try:
            for f in range(16):
                path = os.path.join(d, "w%d-%d.log" % (k, f))
                first = k * 100000 + f * 1000
                n = 0
                with open(path, "w", buffering=1) as fh:
                    for _ in range(3):
                        burst = rnd.randint(5, 40)
                        fh.write("".join(line(first + n + i) for i in range(burst)))
                        n += burst
                        time.sleep(rnd.uniform(0.05, 0.2))
                os.unlink(path)
                written[k] += n
                time.sleep(rnd.uniform(0.0, 0.1))
        except Exception as e:  # surfaced below
            errors.append(e)

    try:
        threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        took = time.time() - t0
        # codes cycle per line number: count what was written per code
        total = sum(written)
        s = exp.wait_for(lambda s: sum(v for (n, _), v in s.items()
                                       if n == "accesslog_log_lines_total") >= total,
                         timeout=10)
        time.sleep(0.3)
        s = exp.scrape()
        got = sum(v for (n, _), v in s.items() if n == "accesslog_log_lines_total")
        errs = sum(v for (n, _), v in s.items() if n == "accesslog_log_parse_errors_total")
        assert got == total and errs == 0, (got, total, errs)
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
    print("ok 48 files living 0.2-0.7 s each (%.1f s in all): %d lines, every one counted"
          % (took, total))


def moved_in(tmp):
    d = os.path.join(tmp, "logs")
    os.makedirs(d)
    with start([os.path.join(d, "*.log")]) as exp:
        n = 0
        for f in range(5):
            tmpname = os.path.join(d, "part-%d.tmp" % f)   # not matched: never read
            with open(tmpname, "w") as fh:
                fh.write("".join(line(n + i) for i in range(10)))
            final = os.path.join(d, "part-%d.log" % f)
            os.rename(tmpname, final)
            n += 10
            # appended after the rename, removed soon after: counted only if
            # the file was opened when it appeared
            with open(final, "a") as fh:
                fh.write("".join(line(n + i) for i in range(5)))
            n += 5
            time.sleep(0.3)
            os.unlink(final)
        assert_exact(exp, n, timeout=3.0)
    print("ok files renamed into the directory found from IN_MOVED_TO")


def unwatched_dir(tmp):
    d = os.path.join(tmp, "site-a")
    os.makedirs(d)
    with start([os.path.join(tmp, "site-*", "*.log")]) as exp:
        with open(os.path.join(d, "new.log"), "w") as fh:
            fh.write("".join(line(i) for i in range(12)))
        assert_exact(exp, 12, timeout=12.0)   # the rescan (every 5 s) finds it
    print("ok a glob directory with wildcards: new files found by the rescan")


def main():
    cases = (short_lived, moved_in, unwatched_dir)
    run_cases(cases, 100)


if __name__ == "__main__":
    main()
