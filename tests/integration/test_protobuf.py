#!/usr/bin/env python3
"""Integration: the protobuf exposition of the real binary.

- negotiation: the Accept headers Prometheus 2.x (native histograms on) and
  3.x (PrometheusProto first) send get the delimited MetricFamily format
  with its Content-Type; gzip as for the text formats; HEAD has no body;
- the protobuf scrape, decoded by Debian's python3-protobuf with our own
  schema (tests/protobuf/decode.py), lists exactly the series of the text
  scrape, in the same order, with the same labels and values (label values
  with quotes, backslashes, tabs and non-ASCII; field labels; histograms);
- every counter and histogram carries the created_timestamp that the
  OpenMetrics scrape shows as _created;
- with the new-series hold (1h), protobuf holds exactly the series that text
  holds: both agree while every new series reads 0."""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, parse_exposition, value  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DECODE = os.path.join(HERE, "..", "protobuf", "decode.py")
PB_CT = ("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
         "encoding=delimited")
PROM2_PROTO = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
               "encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,"
               "application/openmetrics-text;version=0.0.1;q=0.75,"
               "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
PROM3_PROTO = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
               "encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0;"
               "escaping=allow-utf-8;q=0.4,application/openmetrics-text;version=0.0.1;q=0.3,"
               "text/plain;version=0.0.4;q=0.2,*/*;q=0.1")
OM = "application/openmetrics-text;version=1.0.0"
FORMAT = ('$host $remote_addr [$time_local] "$request" $status $body_bytes_sent '
          '$request_time $upstream_response_time')
LINE = '%s 203.0.113.9 [25/Nov/2026:10:00:00 +0000] "%s / HTTP/1.1" %s 100 %s %s\n'
LINES = [("a.example", "GET", "200", "0.004", "0.003"), ("a.example", "GET", "200", "0.2", "0.1"),
         ("b.example", "POST", "404", "1.5", "-"), ("b.example", "GET", "503", "12", "11.9"),
         ("c.example", "PUT", "301", "0.000", "0.000"), ("c.example", "DELETE", "500", "0.7", "0.6")]
VARYING = ("process_",)


def decode(body):
    """[[name, labels, value]] from Debian's python (python3-protobuf)."""
    out = subprocess.run(["/usr/bin/python3", DECODE, "--samples"], input=body,
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)


def key(name, labels):
    labels = dict(labels)
    if "le" in labels:
        labels["le"] = float(labels["le"])  # "1.0" in text, 1.0 decoded
    return (name, frozenset(labels.items()))


def unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def text_series(body):
    """Ordered [(key, value)] of a text scrape, label values unescaped."""
    parsed = parse_exposition(body.decode("utf-8"))
    return [(key(n, {k: unescape(v) for k, v in ls}), v) for (n, ls), v in parsed.items()]


def pb_series(body, created=False):
    return [(key(n, ls), v) for n, ls, v in decode(body)
            if created or not n.endswith("_created")]


def stable(series):
    return [(k, v) for k, v in series if not k[0].startswith(VARYING)]


def scrape(exp, accept=None, encoding=None):
    headers = {}
    if accept:
        headers["Accept"] = accept
    if encoding:
        headers["Accept-Encoding"] = encoding
    status, h, body = exp.get(headers=headers)
    assert status == 200, status
    return h, body


def test_negotiation(exp):
    for accept in (PROM2_PROTO, PROM3_PROTO):
        h, body = scrape(exp, accept)
        assert h["Content-Type"] == PB_CT, h
        assert "Content-Encoding" not in h
        assert decode(body)
    h, body = scrape(exp, PROM2_PROTO, "gzip")
    assert h["Content-Type"] == PB_CT and h["Content-Encoding"] == "gzip", h
    assert stable(pb_series(gzip.decompress(body))) == stable(pb_series(scrape(exp, PROM2_PROTO)[1]))
    for accept in ("application/vnd.google.protobuf",
                   "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                   "encoding=text", "*/*", "application/*;q=0.9"):
        h, _ = scrape(exp, accept)
        assert not h["Content-Type"].startswith("application/vnd.google.protobuf"), accept
    status, h, body = exp.get(method="HEAD", headers={"Accept": PROM2_PROTO})
    assert status == 200 and h["Content-Type"] == PB_CT and body == b"", (status, h)
    print("ok negotiation (Prometheus 2 and 3 protobuf headers, gzip, HEAD)")


def test_same_as_text(exp, observations):
    _, text = scrape(exp)
    _, pb = scrape(exp, PROM2_PROTO)
    t, p = stable(text_series(text)), stable(pb_series(pb))
    if t != p:
        for a, b in zip(t, p):
            assert a == b, "first difference: text %r, protobuf %r" % (a, b)
        raise AssertionError("%d text series, %d protobuf series" % (len(t), len(p)))
    names = {k[0] for k, _ in pb_series(pb)}
    assert {"process_cpu_seconds_total", "process_start_time_seconds"} <= names, names
    hist = [v for k, v in p if k[0] == "accesslog_http_request_duration_seconds_count"]
    assert len(hist) == 10 and sum(hist) == observations, hist
    print("ok protobuf == text: %d series in the same order" % len(p))


def test_created(exp):
    _, om = scrape(exp, OM)
    _, pb = scrape(exp, PROM2_PROTO)
    om_created = {}
    for line in om.decode("utf-8").splitlines():
        head, _, v = line.rpartition(" ")
        name = head.split("{", 1)[0]
        if name.endswith("_created"):
            parsed = parse_exposition(line + "\n")
            (n, ls), = parsed.keys()
            om_created[key(n, {k: unescape(x) for k, x in ls})] = float(v)
    pb_created = {k: v for k, v in pb_series(pb, created=True) if k[0].endswith("_created")}
    assert om_created, "no _created in OpenMetrics"
    assert pb_created.keys() == om_created.keys(), (
        set(pb_created) ^ set(om_created))
    for k, v in om_created.items():
        assert abs(pb_created[k] - v) < 1e-6, (k, pb_created[k], v)
    print("ok created_timestamp == _created for %d series" % len(pb_created))


def config(tmp, log):
    cfg = os.path.join(tmp, "config.yml")
    with open(cfg, "w") as f:
        f.write("""metrics:
  series_limit: 50
sources:
  - name: web
    format: nginx
    log_format: '%(fmt)s'
    paths: [%(log)s]
    labels: {env: 'q"uo\\\\te\\tcafé'}
    field_labels:
      - name: vhost
        field: vhost
  - name: flat
    format: nginx
    log_format: '%(fmt)s'
    paths: [%(log)s]
""" % {"fmt": FORMAT, "log": json.dumps(log)})
    return cfg


def feed(log):
    with open(log, "a") as f:
        for line in LINES:
            f.write(LINE % line)


def main():
    tmp = tempfile.mkdtemp()
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()
    cfg = config(tmp, log)
    exp = Exporter(["--config.file", cfg, "--metrics.created-timestamps"])
    held = None
    try:
        feed(log)
        exp.wait_for(lambda s: value(s, "accesslog_log_lines_total") == 2 * len(LINES))
        test_negotiation(exp)
        test_same_as_text(exp, 2 * len(LINES))  # two sources
        test_created(exp)
        # The hold: every series born after start reads 0 in both formats.
        held = Exporter(["--config.file", cfg], hold="1h")
        # Followed from its end once open: append only then.
        held.wait_for(lambda s: value(s, "accesslog_log_file_open") == 2)
        # Without a state file every series is new to Prometheus, so all are
        # held: the last-read gauges show when both sources have read the lines.
        fed = time.time()
        feed(log)
        held.wait_for(lambda s: min(v for (n, _), v in s.items()
                                    if n == "accesslog_log_last_read_timestamp_seconds") >= fed)
        time.sleep(0.3)
        _, text = scrape(held)
        assert value(parse_exposition(text.decode()), "accesslog_http_responses_total") == 0
        test_same_as_text(held, 0)
        print("ok hold: protobuf holds what text holds")
    finally:
        rc = exp.stop()
        if held:
            held.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    assert rc == 0, "exporter exit code %s: %s" % (rc, exp.log())
    print("ok test_protobuf")


if __name__ == "__main__":
    main()
