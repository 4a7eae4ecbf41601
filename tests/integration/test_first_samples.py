#!/usr/bin/env python3
"""Integration: series start at zero, as Prometheus needs them to.

- with --metrics.new-series-hold 2s, a series born by a first line reads 0
  (every histogram bucket too) until 2 s after its birth, then its value;
  the per-class totals exist from the start; a second burst on an old series
  is never held;
- with --metrics.created-timestamps, OpenMetrics scrapes carry a _created
  sample per counter and histogram series (none in the text format), and an
  independent parser (python3-prometheus-client) and promtool accept both
  formats;
- a restart on the state file is not a birth: restored series show their
  value at once and keep their _created time; a restart without it holds
  everything again (Prometheus sees the counter reset as a 0)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, parse_exposition, value  # noqa: E402

HOLD = 2.0
LINE = '127.0.0.1 - - [03/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" %d 10 "-" "t" 0.050\n'
OM = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
FMT = ["--format", "nginx", "--log-format",
       '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
       '"$http_referer" "$http_user_agent" $request_time']


def write(path, code, n):
    with open(path, "a") as f:
        f.write((LINE % code) * n)


def scrape_om(exp):
    status, headers, body = exp.get(headers={"Accept": OM})
    assert status == 200 and headers["Content-Type"].startswith("application/openmetrics"), \
        (status, headers)
    return body.decode()


# Debian's python3-prometheus-client, run by Debian's python (the python3 on
# PATH may be another installation without it).
PARSE = r"""
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))
"""


def om_samples(text):
    """{(name, frozenset(labels)): value} from OpenMetrics text, via the
    independent parser (it also validates the format: _created placement,
    # EOF, counter naming)."""
    import json
    p = subprocess.run(["/usr/bin/python3", "-c", PARSE], input=text.encode(),
                       capture_output=True)
    assert p.returncode == 0, p.stderr.decode()
    return {(n, frozenset(l.items())): v for n, l, v in json.loads(p.stdout)}


def promtool_ok(text):
    """promtool check metrics parses the text format 0.0.4 (not OpenMetrics)."""
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       capture_output=True)
    # The linter's advice is not an error; a parse error says "error".
    assert b"error" not in p.stderr.lower() and b"error" not in p.stdout.lower(), \
        p.stdout + p.stderr


def holds_then_counts(tmp):
    log = os.path.join(tmp, "access.log")
    state = os.path.join(tmp, "state")
    open(log, "w").close()
    exp = Exporter(FMT + ["--metrics.created-timestamps", "--state.file", state, log],
                   hold="2s")
    try:
        t0 = time.time()
        # Every class exists at once, at 0, and so do the source's counters.
        s = exp.scrape()
        for cls in ("1xx", "2xx", "3xx", "4xx", "5xx", "invalid"):
            assert ("accesslog_http_responses_by_class_total",
                    frozenset({("source", "access"), ("class", cls)})) in s, cls
        write(log, 200, 10)
        born = time.time()
        s = exp.wait_for(lambda s: value(s, "accesslog_http_responses_total", code="200") == 0
                         and ("accesslog_http_responses_total", frozenset({
                             ("source", "access"), ("code", "200"), ("class", "2xx"),
                             ("reason", "OK"), ("method", "GET")})) in s, timeout=HOLD)
        assert time.time() - born < HOLD, "the series was not seen while held"
        assert value(s, "accesslog_http_request_duration_seconds_count", **{"class": "2xx"}) == 0
        assert value(s, "accesslog_http_request_duration_seconds_bucket", le="+Inf") == 0
        assert value(s, "accesslog_http_response_bytes_total") == 0
        promtool_ok(exp.get()[2].decode())
        om = om_samples(scrape_om(exp))
        created = [v for (n, _), v in om.items()
                   if n == "accesslog_http_responses_created"]
        assert len(created) == 1 and abs(created[0] - born) < 1.5, (created, born)
        assert "_created" not in exp.get()[2].decode()  # text 0.0.4: never
        s = exp.wait_for(lambda s: value(s, "accesslog_http_responses_total", code="200") == 10,
                         timeout=HOLD + 3)
        assert time.time() - born >= HOLD - 0.2
        assert value(s, "accesslog_http_request_duration_seconds_count") == 10
        assert value(s, "accesslog_http_responses_by_class_total", **{"class": "2xx"}) == 10
        # More lines on an old series: shown at once.
        write(log, 200, 5)
        exp.wait_for(lambda s: value(s, "accesslog_http_responses_total", code="200") == 15,
                     timeout=1.5)
        # A first 503: held, while the 5xx class total (old) shows it at once.
        assert time.time() - t0 > HOLD
        write(log, 503, 7)
        exp.wait_for(lambda s: value(s, "accesslog_http_responses_by_class_total",
                                     **{"class": "5xx"}) == 7 and
                     value(s, "accesslog_http_responses_total", code="503") == 0, timeout=1.5)
        before = om_samples(scrape_om(exp))
    finally:
        exp.stop()
    # Restart on the state file: nothing is new, nothing dips to 0, and the
    # creation times are the same (the 503 is still within its hold).
    exp = Exporter(FMT + ["--metrics.created-timestamps", "--state.file", state, log],
                   hold="2s")
    try:
        s = exp.scrape()
        assert value(s, "accesslog_http_responses_total", code="200") == 15, s
        assert value(s, "accesslog_log_lines_total") == 22
        after = om_samples(scrape_om(exp))
        for key, v in before.items():
            if key[0].endswith("_created"):
                assert after.get(key) == v, (key, v, after.get(key))
        exp.wait_for(lambda s: value(s, "accesslog_http_responses_total", code="503") == 7,
                     timeout=HOLD + 2)
    finally:
        exp.stop()
    # Without the state file everything is new again: held.
    exp = Exporter(FMT + [log], hold="2s")
    try:
        write(log, 200, 1)
        s = exp.wait_for(lambda s: value(s, "accesslog_log_lines_total") == 0 and
                         value(s, "accesslog_http_responses_by_class_total",
                               **{"class": "2xx"}) == 0, timeout=1)
        exp.wait_for(lambda s: value(s, "accesslog_http_responses_total", code="200") == 1,
                     timeout=HOLD + 3)
    finally:
        exp.stop()


def hold_zero_and_once(tmp):
    log = os.path.join(tmp, "z.log")
    write(log, 404, 3)
    out = subprocess.run([os.environ.get("ACCESSLOG_EXPORTER", "build/accesslog_exporter"),
                          "--once", "--metrics.new-series-hold", "1h"] + FMT + [log],
                         capture_output=True, check=True).stdout.decode()
    s = parse_exposition(out)
    assert value(s, "accesslog_http_responses_total", code="404") == 3, out
    exp = Exporter(FMT + [log], hold="0")
    try:
        write(log, 500, 2)
        exp.wait_for(lambda s: value(s, "accesslog_http_responses_total", code="500") == 2,
                     timeout=2)
    finally:
        exp.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="first-samples-")
    try:
        holds_then_counts(tmp)
        hold_zero_and_once(tmp)
    finally:
        shutil.rmtree(tmp)
    print("test_first_samples: ok")


if __name__ == "__main__":
    main()
