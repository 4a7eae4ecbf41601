#!/usr/bin/env python3
"""Integration: the exporter says what is wrong (issue 10).

- start-up: version, each source's format, fields, files followed and
  missing, and a note when the format has no request time;
- a missing literal path and a glob matching nothing are warned once, then
  announced when a file appears; a file deleted is warned once (state
  changes only, never once per poll);
- a combined source fed Common Log Format lines: a warning naming the
  referer piece (%{Referer}i) and the column, rate-limited (one per minute
  with the count since the last), the same diagnosis and the line on
  /debug/parse-errors, which sits behind basic auth like /metrics;
- --once over lines that all fail: the diagnosis on stderr, exit status 3;
  some parse: exit 0 with the counts; a glob in an unreadable directory:
  exit 1 like an unreadable literal path."""
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Exporter, as_user, binary, value  # noqa: E402
from test_tls_auth import bcrypt  # noqa: E402

CLF = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326\n'
COMBINED = ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 404 5 "-" '
            '"curl/8.0"\n')
NOBODY = 65534


def wait_log(exp, pattern, timeout=10.0, count=1):
    deadline = time.time() + timeout
    while len(re.findall(pattern, exp.log())) < count:
        assert time.time() < deadline, "no %r in the log:\n%s" % (pattern, exp.log())
        time.sleep(0.05)


def check_startup_and_missing(d):
    log = os.path.join(d, "access.log")
    glob = os.path.join(d, "vhosts", "*.log")
    os.mkdir(os.path.join(d, "vhosts"))
    exp = Exporter(["--format", "combined", "--source", "web", log, glob])
    try:
        text = exp.log()
        assert re.search(r'msg="starting accesslog_exporter" version=\S+ revision=\S+', text), text
        assert re.search(r'msg=source source=web format=combined '
                         r'fields=status,method,path,protocol,remote_addr,bytes,time_local files=0', text), text
        assert 'missing="%s (missing or matching nothing),%s' % (log, glob) in text, text
        assert ('msg="the format has no request time: accesslog_http_request_duration_seconds '
                'stays empty" source=web fix="add $request_time') in text, text
        assert 'msg="log file missing; following it when it appears" source=web path=%s' % log \
            in text, text
        assert 'msg="no file matches the pattern (rescanned every 5 s)" source=web' in text, text
        time.sleep(1.5)  # many polls: still one warning each
        assert exp.log().count("log file missing") == 1, exp.log()
        with open(log, "w") as f:
            f.write(COMBINED)
        wait_log(exp, r'msg="log file appeared" source=web path=%s' % re.escape(log))
        with open(os.path.join(d, "vhosts", "a.log"), "w") as f:
            f.write(COMBINED)
        wait_log(exp, r'msg="files match the pattern now" source=web', timeout=12)
        exp.wait_for(lambda s: value(s, "accesslog_log_lines_total", source="web") == 2)
        os.unlink(log)
        wait_log(exp, r'msg="log file gone; following it again when it reappears" source=web')
        time.sleep(1.5)
        assert exp.log().count("log file gone") == 1, exp.log()
        # nothing parse-related was said: every line parsed
        assert "do not match" not in exp.log(), exp.log()
    finally:
        exp.stop()


def check_parse_failures_and_page(d):
    log = os.path.join(d, "clf.log")
    open(log, "w").close()
    web = os.path.join(d, "web.yml")
    with open(web, "w") as f:
        f.write("basic_auth_users:\n  alice: '%s'\n" % bcrypt("s3cret", 4))
    exp = Exporter(["--format", "combined", "--web.config.file", web, log])
    auth = {"Authorization": "Basic " + base64.b64encode(b"alice:s3cret").decode()}
    try:
        with open(log, "a") as f:
            f.write(CLF * 3)
        wait_log(exp, r'level=warn msg="lines do not match')
        text = exp.log()
        line = [ln for ln in text.splitlines() if "lines do not match" in ln][0]
        assert "source=access format=combined errors_since_last=3" in line, line
        assert "at column 86 (' \\\"' before %{Referer}i)" in line, line
        assert "found end of line" in line, line
        # rate-limited: more failures within the minute say nothing more
        with open(log, "a") as f:
            f.write(CLF * 2)
        deadline = time.time() + 10
        while True:
            status, _, body = exp.get("/metrics", headers=auth)
            assert status == 200, status
            if b'accesslog_log_parse_errors_total{source="access"} 5' in body:
                break
            assert time.time() < deadline, body
            time.sleep(0.05)
        time.sleep(0.3)
        assert exp.log().count("lines do not match") == 1, exp.log()
        # the debug page: behind the same auth
        status, _, _ = exp.get("/debug/parse-errors")
        assert status == 401, status
        status, headers, body = exp.get("/debug/parse-errors",
                                        headers={"Authorization": "Basic " + base64.b64encode(
                                            b"alice:wrong").decode()})
        assert status == 401, status
        status, headers, body = exp.get("/debug/parse-errors", headers=auth)
        assert status == 200, status
        assert headers["Content-Type"].startswith("text/plain"), headers
        page = body.decode()
        assert "source access (format combined): 5 lines, 5 parse errors" in page, page
        assert page.count("at column 86 (' \"' before %{Referer}i)") == 5, page
        assert "    line: " + CLF.strip() in page, page
        status, _, _ = exp.get("/debug/parse-errors", method="POST", headers=auth)
        assert status == 405, status
    finally:
        exp.stop()


def check_debug_level(d):
    log = os.path.join(d, "access.log")
    with open(log, "w") as f:
        f.write(COMBINED)
    state = os.path.join(d, "state")
    exp = Exporter(["--log.level", "debug", "--state.file", state, log,
                    os.path.join(d, "*.vhost.log")])
    try:
        wait_log(exp, r'level=debug msg="file opened" source=access path=%s offset=\d+'
                 % re.escape(log))
        wait_log(exp, r'level=debug msg="glob rescanned" source=access pattern=\S+ matches=0')
        wait_log(exp, r'level=debug msg="checkpoint written" path=%s bytes=\d+ ms=\d+'
                 % re.escape(state))
        os.rename(log, log + ".1")
        wait_log(exp, r'level=debug msg="file rotated away \(renamed or deleted\); draining it '
                 r'until idle" source=access path=%s' % re.escape(log))
        with open(log, "w") as f:
            f.write(COMBINED)
        with open(os.path.join(d, "a.vhost.log"), "w") as f:
            f.write(COMBINED)
        wait_log(exp, r'msg="glob rescanned" source=access pattern=\S+ matches=1', timeout=12)
        # every line is logfmt: ts, level, msg first
        for line in exp.log().splitlines():
            assert re.match(r'^ts=\S+ level=(debug|info|warn|error) msg=', line), line
    finally:
        exp.stop()
    rc, _, err = once(["--log.level", "debug", "--log.format", "json", log])
    assert rc == 0, (rc, err)
    assert re.search(r'"level":"debug","msg":"file opened","source":"access","path":"%s"'
                     % re.escape(log), err), err
    assert '"msg":"--once: source read","source":"access","format":"combined","lines":"1"' \
        in err, err


def once(args, user=None):
    p = subprocess.run([binary(), "--once"] + args, capture_output=True, timeout=60,
                       preexec_fn=as_user(user))
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def check_once(d):
    bad = os.path.join(d, "bad.log")
    with open(bad, "w") as f:
        f.write(CLF * 50)
    rc, out, err = once(["--format", "combined", bad])
    assert rc == 3, (rc, err)
    assert 'accesslog_log_parse_errors_total{source="access"} 50' in out, out
    assert ('msg="--once: lines did not match the source\'s format" source=access '
            'format=combined lines=50 parse_errors=50') in err, err
    # the sample is bounded: 5 lines with their diagnoses
    assert err.count('msg="--once: parse failure"') == 5, err
    assert "at column 86 (' \\\"' before %{Referer}i)" in err, err
    assert "no line of the source matched its format" in err and "--detect" in err, err
    # one good line: not "none parsed", exit 0, the failures still reported
    with open(bad, "a") as f:
        f.write(COMBINED)
    rc, out, err = once(["--format", "combined", bad])
    assert rc == 0, (rc, err)
    assert "lines=51 parse_errors=50" in err, err
    rc, out, err = once(["--format", "common", bad])
    assert rc == 0 and "lines=51 parse_errors=0" in err, (rc, err)
    # an empty file is not "none parsed"
    empty = os.path.join(d, "empty.log")
    open(empty, "w").close()
    rc, _, err = once(["--format", "combined", empty])
    assert rc == 0, (rc, err)


def check_once_unreadable_glob_dir(d):
    sub = os.path.join(d, "locked")
    os.mkdir(sub)
    with open(os.path.join(sub, "a.log"), "w") as f:
        f.write(COMBINED)
    os.chmod(sub, 0o300)  # no read: glob cannot list it
    user = NOBODY if os.getuid() == 0 else None
    if user is not None:
        os.chown(sub, NOBODY, NOBODY)
        os.chmod(d, 0o755)
    try:
        rc, _, err = once([os.path.join(sub, "*.log")], user=user)
        assert rc == 1, (rc, err)
        assert ('msg="cannot read the directory of the pattern" source=access pattern=%s'
                % os.path.join(sub, "*.log")) in err, err
        assert "Permission denied" in err, err
    finally:
        os.chmod(sub, 0o700)


def main():
    d = tempfile.mkdtemp(prefix="diag-")
    try:
        check_startup_and_missing(os.path.join(d))
        for name, fn in (("p", check_parse_failures_and_page), ("o", check_once),
                         ("dbg", check_debug_level),
                         ("g", check_once_unreadable_glob_dir)):
            sub = os.path.join(d, name)
            os.mkdir(sub)
            fn(sub)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
