#!/usr/bin/env python3
"""Integration: exemplars of the real binary.

Four sources read logs that carry a request or trace id: nginx with
$request_id (flat series), nginx with $http_traceparent and a field label
(series tables), Apache with %{X-Request-ID}i, and JSON with a trace_id key.
For every response counter and every histogram bucket the OpenMetrics scrape
must show, as its exemplar, the id of the last line of the log that counted
in it (lines whose id is "-" leave none), with the line's request time (1 for
counters) and the line's own time; the protobuf scrape, decoded by Debian's
python3-protobuf, must carry the same exemplars; the text format 0.0.4 has
none; a held series shows none; metrics.exemplars: false turns them off."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, value  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DECODE = os.path.join(HERE, "..", "protobuf", "decode.py")
PB = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
      "encoding=delimited")
OM = "application/openmetrics-text;version=1.0.0"
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
NGINX = ('$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time '
         '$request_id')
TRACED = '$host [$time_local] "$request" $status $body_bytes_sent $request_time "$http_traceparent"'
APACHE = '%h %t "%r" %>s %b %D "%{X-Request-ID}i"'
T0 = 1796330000  # 2026-12-03T20:33:20Z


def rows(n, seed):
    out = []
    for i in range(n):
        k = i * 7919 + seed
        method = ("GET", "POST")[k % 2]
        status = (200, 200, 404, 503)[k % 4]
        t = (k % 9000) / 1000.0 ** (1 + k % 2)
        rid = "-" if k % 9 == 0 else "%032x" % (k * 2654435761 % 2 ** 128)
        out.append((T0 + i, method, status, t, rid))
    return out


def clf(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")


def line(kind, r):
    ts, method, status, t, rid = r
    if kind == "nginx":
        return '10.0.0.1 [%s] "%s / HTTP/1.1" %d 5 %.3f %s\n' % (clf(ts), method, status, t, rid)
    if kind == "traced":
        tp = "-" if rid == "-" else "00-%s-00f067aa0ba902b7-01" % rid
        return 'a.example [%s] "%s / HTTP/1.1" %d 5 %.3f "%s"\n' % (clf(ts), method, status, t, tp)
    if kind == "apache":
        return '10.0.0.1 [%s] "%s / HTTP/1.1" %d 5 %d "%s"\n' % (
            clf(ts), method, status, round(t * 1e6), rid)
    d = {"time": ts, "request_method": method, "status": status, "request_time": t}
    if rid != "-":
        d["trace_id"] = rid
    return json.dumps(d) + "\n"


def expected(kind, log_rows):
    """{(family, method, code-or-class, le-or-None): (id, value, ts)}: the last line."""
    label = "request_id" if kind in ("nginx", "apache") else "trace_id"
    want = {}
    for ts, method, status, t, rid in log_rows:
        if rid == "-":
            continue
        if kind == "apache":
            t = round(t * 1e6) / 1e6
        elif kind != "json":
            t = float("%.3f" % t)  # as logged
        le = next(b for b in BUCKETS + [float("inf")] if t <= b)
        want[("responses", method, str(status), None)] = (label, rid, 1.0, float(ts))
        want[("request", method, "%dxx" % (status // 100), le)] = (label, rid, t, float(ts))
    return want


OM_EX = re.compile(r'^accesslog_http_(responses_total|request_duration_seconds_bucket)\{(.*)\} '
                   r'\S+ # \{(\w+)="([^"]*)"\} (\S+) (\S+)$')


def om_exemplars(body, source):
    got = {}
    for ln in body.decode().splitlines():
        m = OM_EX.match(ln)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        if labels["source"] != source:
            continue
        fam = "responses" if m.group(1) == "responses_total" else "request"
        key = (fam, labels["method"], labels.get("code") or labels["class"],
               float(labels["le"]) if "le" in labels else None)
        got[key] = (m.group(3), m.group(4), float(m.group(5)), float(m.group(6)))
    return got


def pb_exemplars(body, source):
    out = subprocess.run(["/usr/bin/python3", DECODE], input=body, capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    got = {}
    for fam in json.loads(out.stdout):
        for m in fam["metrics"]:
            lab = m["labels"]
            if lab.get("source") != source:
                continue
            exs = []
            if fam["name"] == "accesslog_http_responses_total" and "exemplar" in m["counter"]:
                exs = [("responses", lab["code"], None, m["counter"]["exemplar"])]
            elif fam["name"] == "accesslog_http_request_duration_seconds":
                exs = [("request", lab["class"], ub, e)
                       for ub, e in m["histogram"].get("exemplars", [])]
            for f, k, le, e in exs:
                (name, v), = e["labels"].items()
                got[(f, lab["method"], k, le)] = (name, v, e["value"], e["timestamp"])
    return got


def config(tmp, ex=True):
    srcs = [("nginx", "nginx", NGINX), ("traced", "nginx", TRACED), ("apache", "apache", APACHE),
            ("json", "json", None)]
    cfg = "metrics:\n  exemplars: %s\nsources:\n" % ("true" if ex else "false")
    for name, fmt, lf in srcs:
        cfg += "  - name: %s\n    format: %s\n    paths: [%s]\n" % (
            name, fmt, json.dumps(os.path.join(tmp, name + ".log")))
        if lf:
            cfg += "    log_format: '%s'\n" % lf
        if name == "traced":
            cfg += "    field_labels:\n      - name: vhost\n        field: vhost\n"
    path = os.path.join(tmp, "config%s.yml" % ("" if ex else "-off"))
    with open(path, "w") as f:
        f.write(cfg)
    return path


def feed(tmp, n):
    data = {}
    for k, kind in enumerate(("nginx", "traced", "apache", "json")):
        data[kind] = rows(n, 17 * k)
        with open(os.path.join(tmp, kind + ".log"), "a") as f:
            f.writelines(line(kind, r) for r in data[kind])
    return data


def main():
    tmp = tempfile.mkdtemp()
    for kind in ("nginx", "traced", "apache", "json"):
        open(os.path.join(tmp, kind + ".log"), "w").close()
    exp = Exporter(["--config.file", config(tmp)])
    off = Exporter(["--config.file", config(tmp, False)])
    held = Exporter(["--config.file", config(tmp)], hold="1h")
    try:
        for e in (exp, off, held):
            e.wait_for(lambda s: sum(v for (n, _), v in s.items()
                                     if n == "accesslog_log_file_open") == 4)
        fed = time.time()
        data = feed(tmp, 400)
        for e in (exp, off):
            e.wait_for(lambda s: sum(v for (n, _), v in s.items()
                                     if n == "accesslog_log_lines_total") == 1600)
        om = exp.get(headers={"Accept": OM})[2]
        pb = exp.get(headers={"Accept": PB})[2]
        for kind in data:
            want = expected(kind, data[kind])
            got = om_exemplars(om, kind)
            assert got == want, (kind, sorted(set(got.items()) ^ set(want.items()))[:4])
            assert pb_exemplars(pb, kind) == want, kind
            print("ok %s: %d exemplars (counters and buckets) are the last ids of the log, "
                  "OpenMetrics and protobuf alike" % (kind, len(want)))
        assert b" # {" not in exp.get()[2], "text 0.0.4 has no exemplars"
        assert b" # {" not in off.get(headers={"Accept": OM})[2]
        assert not pb_exemplars(off.get(headers={"Accept": PB})[2], "nginx")
        print("ok no exemplars in text 0.0.4, none with metrics.exemplars: false")
        held.wait_for(lambda s: min(v for (n, _), v in s.items()
                                    if n == "accesslog_log_last_read_timestamp_seconds") >= fed)
        time.sleep(0.3)
        body = held.get(headers={"Accept": OM})[2]
        assert b'accesslog_http_responses_total{source="nginx"' in body
        assert b" # {" not in body, "a held series shows no exemplar"
        print("ok held series carry no exemplar")
    finally:
        for e in (held, off):
            e.stop()
        rc = exp.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    assert rc == 0, exp.log()
    print("ok test_exemplars")


if __name__ == "__main__":
    main()
