#!/usr/bin/env python3
"""Integration: the YAML configuration with the real binary.
--help/--version/--config.check and their exit codes, error messages naming
FILE:LINE:COLUMN and key, flags overriding the file, reload by SIGHUP and by
POST /-/reload (kept sources keep counters and file positions, new sources
appear, removed ones disappear, a bad config keeps the old one running and
sets the reload gauges), logging in JSON with levels, and the shared
reserved-label list and listen-address parser (--config.check and --once
refuse the same labels; bad addresses fail at check time), the checks on
text that becomes a label value, a checkpoint line or the HTTP path (source
names, static label values, telemetry path), and the bounds on values from
the log (absurd times and byte counts are absent, byte counters saturate,
histogram sums stay finite) in every format and unit."""
import glob
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, binary, landing_sources, value, write_atomic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "config")
LINE = '203.0.113.%d - - [25/Nov/2026:10:00:00 +0000] "GET /p HTTP/1.1" %s 512 "-" "curl/8"\n'


def run(*args):
    p = subprocess.run([binary()] + list(args), capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def check_cli():
    rc, out, _ = run("--help")
    assert rc == 0 and "--config.file" in out and "--web.config.file" in out, out
    rc, out, _ = run("--version")
    assert rc == 0 and re.match(r"accesslog_exporter \d+\.\d+\.\d+ \(revision ", out), out
    rc, out, _ = run("--config.file", os.path.join(DATA, "good", "anchors.yml"), "--config.check")
    assert rc == 0 and "configuration OK" in out and "2 sources" in out, (rc, out)
    # ordered rules, a default, labels from the format's own variables
    rc, out, _ = run("--config.file", os.path.join(DATA, "good", "rules.yml"), "--config.check")
    assert rc == 0 and "configuration OK" in out and "1 source" in out, (rc, out)
    # Every bad fixture: exit 2 and the FILE:LINE:COLUMN: key message on stderr.
    n = 0
    for path in sorted(glob.glob(os.path.join(DATA, "bad", "*.yml"))):
        with open(path) as f:
            want = f.readline()[len("# expect: "):].rstrip("\n")
        rc, out, err = run("--config.file", path, "--config.check")
        assert rc == 2, (path, rc, out)
        assert ("accesslog_exporter: %s:%s" % (path, want)) in err, (path, err, want)
        n += 1
    assert n >= 40, n
    for args, want in (
            (["--config.file", "/nonexistent/c.yml", "--config.check"], "cannot open"),
            (["--config.file", os.path.join(DATA, "good", "minimal.yml"), "x.log"],
             "log FILEs cannot be given too"),
            (["--bogus"], "unknown option"),
            (["--log.level", "loud", "x.log"], "unknown level 'loud'"),
            (["--web.config.file", os.path.join(DATA, "web", "bad", "tls10.yml"),
              "--config.check", "x.log"], "unsupported TLS version 'TLS10'"),
            # the same with --once: --config.check checks what a start would
            (["--web.config.file", os.path.join(DATA, "web", "bad", "tls10.yml"),
              "--config.check", "--once", "x.log"], "unsupported TLS version 'TLS10'"),
            (["--formt", "combined", "x.log"], "(did you mean --format?)"),
            (["--format", "common", "--format=combined", "x.log"],
             "--format given twice ('common' and 'combined')"),
            (["--label", "instance=a", "x.log"], "'instance' is not a usable label name"),
            ([], "no log file given")):
        rc, _, err = run(*args)
        assert rc == 2 and want in err, (args, rc, err)
    return n


def append(path, code, count):
    with open(path, "a") as f:
        for i in range(count):
            f.write(LINE % (i % 250, code))


CONFIG = """
global:
  telemetry_path: /prom
  listen_address: "127.0.0.1:1"   # overridden by --web.listen-address
metrics:
  status_labels: [code, class, reason]
sources:
%s
"""
SRC = """  - name: %s
    format: combined
    paths: [%s]
    labels: {team: %s}
"""


def responses(samples, source, code):
    return value(samples, "accesslog_http_responses_total", source=source, code=code)


def check_reload(tmp):
    a, b = os.path.join(tmp, "a.log"), os.path.join(tmp, "b.log")
    open(a, "w").close()
    open(b, "w").close()
    cfg = os.path.join(tmp, "c.yml")
    write_atomic(cfg, CONFIG % (SRC % ("a", "a.log", "x")))
    with Exporter(["--config.file", cfg, "--web.enable-lifecycle"], path="/prom") as exp:
        append(a, "200", 10)
        s = exp.wait_for(lambda s: responses(s, "a", "200") == 10)
        assert value(s, "accesslog_config_last_reload_successful") == 1
        t_start = value(s, "accesslog_config_last_reload_success_timestamp_seconds")
        assert t_start > 1e9, t_start

        # 1. SIGHUP with a new source b: a keeps its counters and position.
        write_atomic(cfg, CONFIG % (SRC % ("a", "a.log", "x") + SRC % ("b", "b.log", "y")))
        exp.proc.send_signal(signal.SIGHUP)
        s = exp.wait_for(lambda s: value(
            s, "accesslog_config_last_reload_success_timestamp_seconds") > t_start)
        assert value(s, "accesslog_config_last_reload_successful") == 1
        assert responses(s, "a", "200") == 10, "kept source was reset"
        append(a, "200", 5)
        append(b, "404", 3)
        s = exp.wait_for(lambda s: responses(s, "a", "200") == 15 and
                     responses(s, "b", "404") == 3)
        # a was not re-read from the start (15, not 25) and b has its static label
        assert value(s, "accesslog_http_responses_total", source="b", team="y") == 3
        # the landing page lists the new source with its path
        landing = landing_sources(exp.get("/")[2].decode())
        assert landing.get("b") == ("combined", [(b, "open")]), landing

        # 2. A bad config: reload fails, everything keeps running as before.
        t_ok = value(s, "accesslog_config_last_reload_success_timestamp_seconds")
        write_atomic(cfg, CONFIG % (SRC % ("a", "a.log", "x")).replace("combined", "combind"))
        exp.proc.send_signal(signal.SIGHUP)
        s = exp.wait_for(lambda s: value(s, "accesslog_config_last_reload_successful") == 0)
        assert value(s, "accesslog_config_last_reload_success_timestamp_seconds") == t_ok
        wait_log(exp, "reload failed")
        assert re.search(r"c\.yml:\d+:\d+: key 'sources\[0\]\.format': unknown format 'combind'",
                         exp.log()), exp.log()
        append(b, "404", 1)
        s = exp.wait_for(lambda s: responses(s, "b", "404") == 4)

        # 3. POST /-/reload with the bad file: 400 and the error text.
        status, _, body = exp.get("/-/reload", method="POST")
        assert status == 400 and b"unknown format 'combind'" in body, (status, body)

        # 4. POST /-/reload removing b and changing a's labels: 200; b disappears,
        #    a is rebuilt (new label, counters from zero).
        write_atomic(cfg, CONFIG % (SRC % ("a", "a.log", "z")))
        status, _, body = exp.get("/-/reload", method="POST")
        assert status == 200, (status, body)
        s = exp.scrape()
        assert value(s, "accesslog_config_last_reload_successful") == 1
        assert not any(dict(k[1]).get("source") == "b" for k in s), "removed source still there"
        assert "b" not in landing_sources(exp.get("/")[2].decode())
        assert responses(s, "a", "200") == 0
        append(a, "200", 2)
        s = exp.wait_for(lambda s: value(
            s, "accesslog_http_responses_total", source="a", team="z", code="200") == 2)

        # 5. Concurrent POST /-/reload and SIGHUP: every request gets its answer,
        #    the kept source is untouched.
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            exp.get("/-/reload", method="POST")[0])) for _ in range(4)]
        for t in threads:
            t.start()
        exp.proc.send_signal(signal.SIGHUP)
        for t in threads:
            t.join()
        assert results == [200] * 4, results
        assert responses(exp.scrape(), "a", "200") == 2


def wait_log(exp, text, timeout=10.0):
    deadline = time.time() + timeout
    while text not in exp.log():
        assert time.time() < deadline, "no %r in log:\n%s" % (text, exp.log())
        time.sleep(0.05)


def check_json_logging(tmp):
    """--log.format json: every stderr line is a JSON object with ts/level/msg;
    --log.level filters."""
    log = os.path.join(tmp, "j.log")
    open(log, "w").close()
    for level, want_info in (("debug", True), ("error", False)):
        errf = tempfile.TemporaryFile()
        p = subprocess.Popen([binary(), "--web.listen-address", "127.0.0.1:0", "--log.format",
                              "json", "--log.level", level, log],
                             stdout=subprocess.DEVNULL, stderr=errf)
        time.sleep(0.5)
        p.send_signal(signal.SIGHUP)  # a reload logs at info level
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
        errf.seek(0)
        lines = errf.read().decode().splitlines()
        msgs = []
        for line in lines:
            obj = json.loads(line)  # every line is valid JSON
            assert set(("ts", "level", "msg")) <= set(obj), obj
            assert obj["level"] in ("debug", "info", "warn", "error"), obj
            msgs.append(obj["msg"])
        if want_info:
            assert "listening" in msgs and "configuration reloaded" in msgs, msgs
        else:
            assert msgs == [], msgs


def check_reserved_and_listen(tmp):
    """One reserved-label list and one listen-address parser: --config.check
    refuses what the exporter would refuse at start (exit 2, message naming
    the key), and accepts what it can actually serve."""
    log = os.path.join(tmp, "r.log")
    with open(log, "w") as f:
        f.write(LINE % (1, "200"))
    n = 0
    for name in ("metric", "origin", "path", "le"):
        for mode in ("--config.check", "--once"):
            rc, out, err = run("--label", name + "=x", mode, log)
            want = "--label %s=x: '%s' is not a usable label name: the exporter sets it" % (
                name, name)
            assert rc == 2 and want in err and not out, (name, mode, rc, out, err)
            n += 1
    cfg = os.path.join(tmp, "reserved.yml")
    for name in ("metric", "origin"):
        write_atomic(cfg, "sources:\n  - name: web\n    format: combined\n    paths: [%s]\n"
              "    labels: {env: prod, %s: x}\n" % (log, name))
        for mode in ("--config.check", "--once"):
            rc, out, err = run("--config.file", cfg, mode)
            want = "%s:5:25: key 'sources[0].labels.%s': '%s' is not a usable label name" % (
                cfg, name, name)
            assert rc == 2 and want in err, (name, mode, rc, err)
            n += 1
    # A field label may be named path (no family carrying field labels has path).
    write_atomic(cfg, "sources:\n  - name: web\n    format: combined\n    paths: [%s]\n"
          "    field_labels:\n      - {name: path, field: path}\n" % log)
    rc, out, err = run("--config.file", cfg, "--config.check")
    assert rc == 0 and "configuration OK" in out, (rc, out, err)
    rc, out, err = run("--config.file", cfg, "--once")
    assert rc == 0 and re.search(
        r'^accesslog_http_responses_total\{[^}]*path="/p"[^}]*\} 1$', out, re.M), (rc, err, out)
    # Listen addresses: refused at check time (exit 2) by the parser the server uses.
    for addr, why in (("::1:80", "IPv6 addresses go in brackets"),
                      ("example.com:80", "host names other than localhost are not resolved"),
                      ("[127.0.0.1]:80", "not an IPv6 address in brackets"),
                      ("[::1]80", "missing :port after ']'"),
                      ("localhost", "missing :port"),
                      ("1.2.3.4:70000", "the port must be a number from 0 to 65535")):
        rc, out, err = run("--web.listen-address", addr, "--config.check", log)
        want = "--web.listen-address: '%s' is not host:port" % addr
        assert rc == 2 and want in err and why in err, (addr, rc, out, err)
        write_atomic(cfg, "global:\n  listen_address: '%s'\nsources:\n  - name: web\n"
              "    format: combined\n    paths: [%s]\n" % (addr, log))
        rc, out, err = run("--config.file", cfg, "--config.check")
        want = "key 'global.listen_address': '%s' is not host:port" % addr
        assert rc == 2 and want in err and why in err, (addr, rc, out, err)
        n += 2
    for addr in ("[::1]:0", "[::ffff:127.0.0.1]:0", "localhost:0", ":0"):
        rc, out, err = run("--web.listen-address", addr, "--config.check", log)
        assert rc == 0 and "configuration OK" in out, (addr, rc, out, err)
        n += 1
    return n


def check_label_values_and_path(tmp):
    """Source names, static label values and the telemetry path are refused at
    load (exit 2, message naming the flag or key) by --config.check and --once
    alike; the same values at the limit are accepted."""
    log = os.path.join(tmp, "v.log")
    with open(log, "w") as f:
        f.write(LINE % (1, "200"))
    n = 0
    for args, want in (
            (["--source", "we\nb"], "--source: the name contains control character 0x0a"),
            (["--source", "a" * 257], "--source: the name is 257 bytes long (at most 256)"),
            (["--label", "env=" + "v" * 257],
             "--label env: label value is 257 bytes long (at most 256)"),
            (["--label", b"env=ab\xff"], "--label env: label value is not valid UTF-8 (byte 2)"),
            (["--label", "env=prod\n"], "label value contains control character 0x0a at byte 4"),
            (["--web.telemetry-path", "/m?x"], "'/m?x' must not contain '?', '#' or spaces"),
            (["--web.telemetry-path", "/m#x"], "'/m#x' must not contain '?', '#' or spaces"),
            (["--web.telemetry-path", "/m x"], "'/m x' must not contain '?', '#' or spaces"),
            (["--web.telemetry-path", "m"], "must start with '/'")):
        for mode in ("--config.check", "--once"):
            rc, out, err = run(*(args + [mode, log]))
            assert rc == 2 and want in err and not out, (args, mode, rc, out, err)
            n += 1
    cfg = os.path.join(tmp, "values.yml")
    for global_, source, want in (
            ("", "name: \"we\\nb\"", "2:11: key 'sources[0].name': source name contains "
             "control character 0x0a at byte 2"),
            ("", "name: web\n    labels: {env: %s}" % ("v" * 257),
             "3:19: key 'sources[0].labels.env': label value is 257 bytes long"),
            ("global: {telemetry_path: '/m?x'}\n", "name: web",
             "1:26: key 'global.telemetry_path': '/m?x' must not contain")):
        write_atomic(cfg, global_ + "sources:\n  - %s\n    format: combined\n    paths: [%s]\n" % (
            source, log))
        for mode in ("--config.check", "--once"):
            rc, out, err = run("--config.file", cfg, mode)
            assert rc == 2 and (cfg + ":" + want) in err, (source, mode, rc, err)
            n += 1
    # At the limits: 256 bytes, multi-byte UTF-8, an escaped '?' in the path.
    rc, out, err = run("--source", "caf\u00e9", "--label", "env=" + "v" * 256,
                       "--web.telemetry-path", "/m%3Fx", "--once", log)
    assert rc == 0 and 'source="caf\u00e9",env="%s"' % ("v" * 256) in out, (rc, err)
    return n


def check_absurd_values(tmp):
    """Values no server writes (400-digit times, timestamps in the duration
    field, 'inf'/'nan', byte counts above 2^53) are absent in every format
    and unit: the line counts, the value lands nowhere; values exactly at the
    bounds (1e7 s, 2^53 bytes) are kept.  Byte counters saturate instead of
    wrapping (flat arrays and field-label series), and every histogram _sum
    stays finite."""
    big = "9" * 400
    req = '"GET / HTTP/1.1"'
    logs = {
        # $request_time $upstream_response_time $body_bytes_sent $status "$request"
        "n": ['0.250 0.200 512 200 ' + req,
              big + ' 0.100 100 200 ' + req,
              '10000000 - 9007199254740992 200 ' + req,
              '10000000.001 10000001 9007199254740993 500 "POST /x HTTP/1.1"',
              '1734162037.389 0.100, %s 18446744073709551615 200 %s' % (big, req),
              '0.5 5000000, - : 5000000.001 %s 404 %s' % (big, req),
              '0.001 0.001 - 200 ' + req],
        "j": [json.dumps({"status": 200, "request_time": 0.25, "bytes_sent": 512}),
              json.dumps({"status": 200, "request_time": "inf", "bytes_sent": "nan"}),
              json.dumps({"status": 200, "request_time": "NaN",
                          "upstream_response_time": "Infinity"}),
              json.dumps({"status": 500, "request_time": -1, "bytes_sent": -5}),
              json.dumps({"status": 200, "request_time": 10000000,
                          "bytes_sent": 9007199254740992}),
              json.dumps({"status": 200, "request_time": 10000000.001,
                          "bytes_sent": 9007199254740993}),
              '{"status":200,"request_time":1e400,"bytes_sent":1E3}',
              '{"status":200,"request_time":%s,"bytes_sent":%s}' % (big, big),
              '{"status":200,"request_time":"%s","upstream_response_time":"0.1, %s"}' % (
                  big, big)],
        # "%r" %>s %b %D (microseconds)
        "u": [req + ' 200 512 250000', req + ' 200 512 10000000000000',
              req + ' 200 512 10000000000001', req + ' 200 - 18446744073709551615',
              req + ' 200 %s %s' % (big, big), req + ' 200 9007199254740993 1'],
        # "%r" %>s %{ms}T
        "m": [req + ' 200 250', req + ' 200 10000000000', req + ' 200 10000000001',
              req + ' 200 ' + big],
        # 2049 x 2^53 bytes overflow 64 bits: the counter stops at 2^64-1
        "s": ['example.com %s 200 9007199254740992' % req] * 2049 + [
            'example.com %s 200 5' % req],
        "f": ['example.com %s 200 9007199254740992' % req] * 2049 + [
            'example.com %s 200 5' % req],
    }
    for name, lines in logs.items():
        with open(os.path.join(tmp, name + ".log"), "w") as f:
            f.write("\n".join(lines) + "\n")
    src = "  - name: %s\n    format: %s\n    paths: [%s]\n"
    cfg = os.path.join(tmp, "absurd.yml")
    write_atomic(cfg, "sources:\n" +
          src % ("nginx", "nginx", "n.log") + "    log_format: '$request_time "
          "$upstream_response_time $body_bytes_sent $status \"$request\"'\n" +
          src % ("json", "json", "j.log") +
          src % ("apache_us", "apache", "u.log") + "    log_format: '\"%r\" %>s %b %D'\n" +
          src % ("apache_ms", "apache", "m.log") + "    log_format: '\"%r\" %>s %{ms}T'\n" +
          src % ("sat", "nginx", "s.log") +
          "    log_format: '$host \"$request\" $status $body_bytes_sent'\n" +
          src % ("sat_fields", "nginx", "f.log") +
          "    log_format: '$host \"$request\" $status $body_bytes_sent'\n"
          "    field_labels: [{name: vhost, field: vhost}]\n")
    rc, out, err = run("--config.file", cfg, "--once")
    assert rc == 0, (rc, err)
    from harness import parse_exposition
    s = parse_exposition(out)
    for (name, labels), v in s.items():
        assert math.isfinite(v), (name, labels, v)
    req_sum = "accesslog_http_request_duration_seconds_sum"
    req_count = "accesslog_http_request_duration_seconds_count"
    up_sum = "accesslog_http_upstream_duration_seconds_sum"
    up_count = "accesslog_http_upstream_duration_seconds_count"
    bytes_ = "accesslog_http_response_bytes_total"
    want = {
        # source: lines, responses, bytes, request sum, request count, upstream sum, count
        "nginx": (7, 7, 2 ** 53 + 612, 1e7 + 0.751, 4, 0.301, 3),
        "json": (9, 9, 2 ** 53 + 512, 1e7 + 0.25, 2, 0, 0),
        "apache_us": (6, 6, 1536, 1e7 + 0.250001, 3, 0, 0),
        "apache_ms": (4, 4, 0, 1e7 + 0.25, 2, 0, 0),
    }
    for source, (lines, resp, nbytes, rsum, rcount, usum, ucount) in want.items():
        got = (value(s, "accesslog_log_lines_total", source=source),
               value(s, "accesslog_http_responses_total", source=source),
               value(s, bytes_, source=source),
               value(s, req_sum, source=source), value(s, req_count, source=source),
               value(s, up_sum, source=source), value(s, up_count, source=source))
        assert value(s, "accesslog_log_parse_errors_total", source=source) == 0, source
        assert got[:3] == (lines, resp, nbytes), (source, got)
        assert abs(got[3] - rsum) < 1e-6 and got[4] == rcount, (source, got)
        assert abs(got[5] - usum) < 1e-9 and got[6] == ucount, (source, got)
    # exact integers: read the text, floats cannot tell 2^64-1 from 2^64
    for source, extra in (("sat", ""), ("sat_fields", ',vhost="example.com"')):
        line = ('accesslog_http_response_bytes_total{source="%s"%s,method="GET",class="2xx"} '
                '18446744073709551615' % (source, extra))
        assert line in out.splitlines(), (source, [x for x in out.splitlines()
                                                   if x.startswith(bytes_)])
        assert value(s, "accesslog_http_responses_total", source=source) == 2050
    return len(want) + 2


def main():
    tmp = tempfile.mkdtemp()
    try:
        n = check_cli()
        check_reload(tmp)
        check_json_logging(tmp)
        n_rl = check_reserved_and_listen(tmp)
        n_lv = check_label_values_and_path(tmp)
        n_av = check_absurd_values(tmp)
    finally:
        shutil.rmtree(tmp)
    print("ok - %d bad config fixtures rejected with exit 2" % n)
    print("ok - %d reserved-label and listen-address checks agree with the running exporter"
          % n_rl)
    print("ok - %d source-name, label-value and telemetry-path checks refuse at load" % n_lv)
    print("ok - %d sources with absurd values: counted lines, no observation, finite sums, "
          "saturated byte counters" % n_av)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
