#!/usr/bin/env python3
"""Integration: the exit status and messages of --once.

- all files read: exit 0;
- a literal path missing, a directory in place of a file, a file that
  cannot be opened (as uid 65534 when the tests run as root, since root
  reads anything): exit 1, the metrics of what could be read still printed
  on stdout, an error naming the source and the path on stderr;
- a glob that matches nothing: a warning, exit 0;
- a glob matching more files than the per-source cap (1024): exit 1, an
  error naming the source and how many files were ignored; the files read
  are the first 1024 in sorted order (accesslog_log_file_open);
- libmicrohttpd and GnuTLS are not loaded (they are dlopened to serve)."""
import os
import resource
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import as_user, binary, parse_exposition, value  # noqa: E402
from tailkit import run_cases  # noqa: E402

NOBODY = 65534
CAP = 1024
LINE = '1.2.3.4 - - [25/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" %d 5 "-" "curl"\n'


def write(path, n, code=200):
    with open(path, "w") as f:
        f.write("".join(LINE % code for _ in range(n)))


def once(paths, user=None):
    p = subprocess.run([binary(), "--once", "--source", "t"] + paths, capture_output=True,
                       preexec_fn=as_user(user), timeout=60)
    return p.returncode, parse_exposition(p.stdout.decode()), p.stderr.decode()


def lines(s):
    return value(s, "accesslog_log_lines_total", source="t")


def all_read(tmp):
    a, b = os.path.join(tmp, "a.log"), os.path.join(tmp, "b.log")
    write(a, 3)
    write(b, 4, 404)
    rc, s, err = once([a, os.path.join(tmp, "*.log")])
    assert rc == 0, err
    assert lines(s) == 7, s
    assert value(s, "accesslog_http_responses_total", code="404") == 4
    assert "level=error" not in err, err
    print("ok all files read: exit 0")


def missing(tmp):
    a, gone = os.path.join(tmp, "a.log"), os.path.join(tmp, "gone.log")
    write(a, 3)
    rc, s, err = once([a, gone])
    assert rc == 1, (rc, err)
    assert lines(s) == 3, "the metrics of what was read are printed"
    assert value(s, "accesslog_log_file_open", source="t", path=gone) == 0
    assert 'msg="log file missing" source=t path=%s' % gone in err, err
    assert "exit status 1" in err, err
    print("ok missing file: exit 1, metrics printed, message")


def directory(tmp):
    a, d = os.path.join(tmp, "a.log"), os.path.join(tmp, "dir.log")
    write(a, 2)
    os.mkdir(d)
    rc, s, err = once([d, a])
    assert rc == 1, (rc, err)
    assert lines(s) == 2
    assert value(s, "accesslog_log_read_errors_total", source="t") == 1
    assert 'msg="cannot read log file" source=t path=%s error="Is a directory"' % d in err, err
    print("ok directory in place of a file: exit 1")


def unreadable(tmp):
    a, locked = os.path.join(tmp, "a.log"), os.path.join(tmp, "locked.log")
    write(a, 5)
    write(locked, 7)
    os.chmod(locked, 0)
    user = None
    if os.geteuid() == 0:
        user = NOBODY  # root ignores file permissions
        os.chmod(tmp, 0o755)
        os.chmod(a, 0o644)
    for pattern in (locked, os.path.join(tmp, "lock*.log")):
        rc, s, err = once([a, pattern], user=user)
        assert rc == 1, (rc, err)
        assert lines(s) == 5
        assert value(s, "accesslog_log_read_errors_total", source="t") == 1
        assert "source=t" in err and locked in err and "Permission denied" in err, err
    print("ok unreadable file (literal and glob): exit 1%s" % (" (as nobody)" if user else ""))


def empty_glob(tmp):
    a = os.path.join(tmp, "a.log")
    write(a, 1)
    pattern = os.path.join(tmp, "nothing*.log")
    rc, s, err = once([a, pattern])
    assert rc == 0, err
    assert lines(s) == 1
    assert 'level=warn msg="no file matches the pattern" source=t pattern=%s' % pattern in err, err
    print("ok glob matching nothing: warning, exit 0")


def over_cap(tmp):
    n = CAP + 6
    names = ["f%04d.log" % i for i in range(n)]
    # created in reverse order so directory order is unlikely to be sorted
    for name in reversed(names):
        write(os.path.join(tmp, name), 1)
    rc, s, err = once([os.path.join(tmp, "f*.log")])
    assert rc == 1, (rc, err)
    assert lines(s) == CAP
    open_paths = sorted(dict(k[1])["path"] for k, v in s.items()
                        if k[0] == "accesslog_log_file_open" and v == 1)
    want = [os.path.join(tmp, name) for name in names[:CAP]]
    assert open_paths == want, "not the first %d names in sorted order" % CAP
    first = os.path.join(tmp, names[CAP])
    assert ('msg="too many files: files over the limit were not read" source=t ignored=6 '
            'limit=1024 first_ignored=%s' % first) in err, err
    assert err.count("too many files, ignoring some") == 1, err
    print("ok glob over the cap: exit 1, 6 ignored, the first %d sorted names read" % CAP)


def no_http_libraries(tmp):
    """--once never serves: libmicrohttpd and GnuTLS (with p11-kit, nettle...)
    are not loaded at all (exporter/http/mhdlib.c dlopens them for the server)."""
    a = os.path.join(tmp, "a.log")
    write(a, 3)
    env = dict(os.environ, LD_DEBUG="files")
    p = subprocess.run([binary(), "--once", "--source", "t", a], capture_output=True, env=env,
                       timeout=60)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert lines(parse_exposition(p.stdout.decode())) == 3
    assert "file=libpcre2-8.so" in err, err  # LD_DEBUG works here
    for lib in ("libmicrohttpd", "libgnutls", "libp11-kit"):
        assert "file=" + lib not in err, lib + " loaded by --once"
    print("ok --once loads neither libmicrohttpd nor GnuTLS")


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # 1024 files + stdio
    cases = (all_read, missing, directory, unreadable, empty_glob, over_cap, no_http_libraries)
    run_cases(cases)


if __name__ == "__main__":
    main()
