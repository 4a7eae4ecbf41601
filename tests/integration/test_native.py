#!/usr/bin/env python3
"""Integration: native histograms of the real binary (protobuf scrape).

The exporter reads a log of known request and upstream times (zeros, 1 ms
to 60 s) with --metrics.native-histograms; the protobuf scrape decoded by
Debian's python3-protobuf (tests/protobuf/decode.py) must show, for every
duration series:
- the native buckets computed here independently from the log (bucket i
  of schema s holds (2^((i-1)/2^s), 2^(i/2^s)], checked with exact
  rational comparisons), the zero bucket for the 0.000 times, and
  sample_count equal to the number of lines;
- the schema: the configured one, or with a small bucket cap the highest
  schema whose populated range fits the cap (resolution halved);
- the classic buckets unchanged: the text and OpenMetrics scrapes are
  byte-identical to an exporter without native histograms;
- after a restart with the state file, the same native histograms exactly;
- with the new-series hold, a held series is an empty native histogram
  (count 0, no buckets, schema and zero threshold set).
Config file (metrics.native_histograms with bucket_factor) and flags."""
import fractions
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, value  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DECODE = os.path.join(HERE, "..", "protobuf", "decode.py")
PB = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
      "encoding=delimited")
FORMAT = ('$host $remote_addr [$time_local] "$request" $status $body_bytes_sent '
          '$request_time $upstream_response_time')
LINE = '%s 203.0.113.9 [25/Nov/2026:10:00:00 +0000] "%s / HTTP/1.1" %d 100 %s %s\n'
FAMS = ("accesslog_http_request_duration_seconds", "accesslog_http_upstream_duration_seconds")


def rows():
    out = []
    for i in range(3000):
        method = ("GET", "POST")[i % 2]
        status = (200, 200, 404, 503)[i % 4]
        t = 0 if i % 23 == 0 else (i * 7919 % 60000) / 1000.0 ** (1 + i % 3)
        t = min(t, 60.0)
        up = "-" if i % 5 == 0 else "%.3f" % (t / 3)
        out.append(("h%d.example" % (i % 2), method, status, "%.3f" % t, up))
    return out


def le(v, bound_exp):
    """v <= 2^bound_exp exactly, for a rational exponent (v a decimal string)."""
    v = fractions.Fraction(v)
    num, den = bound_exp.numerator, bound_exp.denominator
    # v <= 2^(num/den)  <=>  v^den <= 2^num (both sides positive)
    return v ** den <= fractions.Fraction(2) ** num


def index(v, schema):
    """The bucket of decimal string v at schema: the i with
    2^((i-1)/2^s) < v <= 2^(i/2^s), found exactly."""
    i = math.ceil(math.log2(float(v)) * 2 ** schema)
    step = fractions.Fraction(1, 2 ** schema) if schema >= 0 else fractions.Fraction(2 ** -schema)
    while not le(v, i * step):
        i += 1
    while le(v, (i - 1) * step):
        i -= 1
    return i


def expected(values, schema, cap):
    """{index: count}, zero count and the schema after the cap's reductions."""
    nz = [v for v in values if float(v) > 0]
    while True:
        idx = [index(v, schema) for v in nz]
        if not idx or max(idx) - min(idx) < cap or schema == -4:
            break
        schema -= 1
    buckets = {}
    for i in idx:
        buckets[i] = buckets.get(i, 0) + 1
    return buckets, len(values) - len(nz), schema


def decode(body):
    out = subprocess.run(["/usr/bin/python3", DECODE], input=body, capture_output=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)


def natives(exp):
    status, _, body = exp.get(headers={"Accept": PB})
    assert status == 200
    out = {}
    for fam in decode(body):
        if fam["name"] in FAMS:
            for m in fam["metrics"]:
                out[(fam["name"], tuple(sorted(m["labels"].items())))] = m["histogram"]
    return out


def observed(log_rows):
    """(family, labels) -> [duration strings] as the exporter groups them."""
    groups = {}
    for host, method, status, t, up in log_rows:
        cls = "%dxx" % (status // 100)
        for fam, v in ((FAMS[0], t), (FAMS[1], up)):
            if v == "-":
                continue
            lab = (("class", cls), ("method", method), ("source", "access"))
            groups.setdefault((fam, lab), []).append(v)
    return groups


def check(exp, log_rows, schema, cap):
    got = natives(exp)
    want = observed(log_rows)
    assert set(got) == set(want), (set(got) ^ set(want))
    schemas = set()
    for k, values in want.items():
        h = got[k]
        buckets, zero, s = expected(values, schema, cap)
        n = h["native"]
        assert n["schema"] == s, (k, n["schema"], s)
        assert n["zero_count"] == zero and n["zero_threshold"] > 0, (k, n)
        got_b = {int(i): c for i, c in n["buckets"].items()}
        assert got_b == buckets, (k, sorted(set(got_b.items()) ^ set(buckets.items()))[:5])
        assert h["count"] == len(values), (k, h["count"], len(values))
        assert abs(h["sum"] - sum(float(v) for v in values)) < 1e-6 * len(values)
        assert len(n["spans"]) >= 1 and sum(n["buckets"].values()) + zero == h["count"]
        schemas.add(s)
    return got, schemas


def same_text(exp, plain):
    """Text and OpenMetrics of exp equal those of plain (no native histograms)."""
    def strip(t):
        return [ln for ln in t.decode().splitlines()
                if not ln.startswith(("process_", "accesslog_log_last_read", "accesslog_log_file",
                                      "accesslog_checkpoint", "accesslog_config_last"))]
    for accept in ("text/plain", "application/openmetrics-text;version=1.0.0"):
        a = exp.get(headers={"Accept": accept})[2]
        b = plain.get(headers={"Accept": accept})[2]
        diff = [x for x in zip(strip(a), strip(b)) if x[0] != x[1]]
        assert strip(a) == strip(b), (accept, diff[:3], len(strip(a)), len(strip(b)))


def run_case(tmp, args, schema, cap, log_rows):
    log = os.path.join(tmp, "access.log")
    state = os.path.join(tmp, "state")
    open(log, "w").close()
    base = ["--state.file", state]
    if "--config.file" not in args:
        base += ["--format", "nginx", "--log-format", FORMAT, log]
    exp = Exporter(base + args)
    plain = Exporter(["--format", "nginx", "--log-format", FORMAT, log])
    try:
        # Both follow the log from its end once open: append only then.
        for e in (exp, plain):
            e.wait_for(lambda s: value(s, "accesslog_log_file_open") == 1)
        with open(log, "a") as f:
            for r in log_rows:
                f.write(LINE % r)
        for e in (exp, plain):
            e.wait_for(lambda s: value(s, "accesslog_log_lines_total") == len(log_rows))
        before, schemas = check(exp, log_rows, schema, cap)
        same_text(exp, plain)
    finally:
        plain.stop()
        assert exp.stop() == 0, exp.log()
    # A restart from the state file: the same native histograms exactly.
    exp = Exporter(base + args)
    try:
        exp.wait_for(lambda s: value(s, "accesslog_log_lines_total") == len(log_rows))
        assert natives(exp) == before
    finally:
        assert exp.stop() == 0, exp.log()
    os.unlink(state)
    return schemas


def test_hold(tmp, log_rows):
    log = os.path.join(tmp, "held.log")
    open(log, "w").close()
    exp = Exporter(["--format", "nginx", "--log-format", FORMAT, log,
                    "--metrics.native-histograms"], hold="1h")
    try:
        exp.wait_for(lambda s: value(s, "accesslog_log_file_open") == 1)
        fed = time.time()
        with open(log, "a") as f:
            for r in log_rows[:50]:
                f.write(LINE % r)
        # Every series is held (even lines_total): the last-read gauge says when.
        exp.wait_for(lambda s: value(s, "accesslog_log_last_read_timestamp_seconds") >= fed)
        time.sleep(0.3)
        got = natives(exp)
        assert got
        for k, h in got.items():
            n = h["native"]
            assert h["count"] == 0 and n["buckets"] == {} and n["zero_count"] == 0, (k, h)
            assert n["schema"] == 3 and n["zero_threshold"] > 0 and n["spans"] == [[0, 0]]
    finally:
        assert exp.stop() == 0, exp.log()
    print("ok hold: held series are empty native histograms")


def main():
    tmp = tempfile.mkdtemp()
    log_rows = rows()
    try:
        s = run_case(tmp, ["--metrics.native-histograms"], 3, 160, log_rows)
        assert s == {3}, s
        print("ok flags: schema 3, 160 buckets: every bucket as computed from the log")
        s = run_case(tmp, ["--metrics.native-histograms",
                           "--metrics.native-histogram-bucket-factor", "1.01",
                           "--metrics.native-histogram-max-buckets", "20"], 6, 20, log_rows)
        assert max(s) < 6, s
        print("ok cap: 20 buckets from factor 1.01 (schema 6) reduced to schemas %s" % sorted(s))
        cfg = os.path.join(tmp, "c.yml")
        with open(cfg, "w") as f:
            f.write("metrics:\n  native_histograms:\n    bucket_factor: 1.05\n"
                    "    max_buckets: 500\nsources:\n  - name: access\n    format: nginx\n"
                    "    log_format: '%s'\n    paths: [%s]\n"
                    % (FORMAT, json.dumps(os.path.join(tmp, "access.log"))))
        s = run_case(tmp, ["--config.file", cfg], 4, 500, log_rows)
        assert s == {4}, s
        print("ok config file: bucket_factor 1.05 is schema 4")
        test_hold(tmp, log_rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok test_native")


if __name__ == "__main__":
    main()
