#!/usr/bin/env python3
"""Integration: what a scrape looks like on the wire.

- content negotiation with the exact Accept headers Prometheus 2.x and 3.x
  send: OpenMetrics 1.0.0 (family names without _total, '# EOF'), text 0.0.4
  otherwise, Content-Type matching the body;
- gzip when Accept-Encoding allows it (q-values), Vary: Accept-Encoding,
  HEAD without a body;
- label values escaped exactly and valid UTF-8 (a log path with a quote, a
  backslash, a newline and an invalid byte; field-label values from the log);
- field labels with regex rewriting, dropped class/reason labels, the series
  limit with its overflow series and dropped counter;
- no duplicate series, the same series order on every scrape, process_*;
- promtool check metrics on the text format, and a real Prometheus scraping
  the OpenMetrics format (when the binaries are installed)."""
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, parse_exposition, value  # noqa: E402

PROM2 = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
         "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
PROM3 = ("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
         "application/openmetrics-text;version=0.0.1;q=0.4,"
         "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,"
         "text/plain;version=0.0.4;q=0.2,*/*;q=0.1")
TEXT_CT = "text/plain; version=0.0.4; charset=utf-8"
OM_CT = "application/openmetrics-text; version=1.0.0; charset=utf-8"

VLINE = ('%s:80 203.0.113.9 - - [25/Nov/2026:10:00:00 +0000] "%s %s HTTP/1.1" %s 100 "-" "t"\n')


def keys_in_order(text):
    out = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            out.append(line.rsplit(" ", 1)[0])
    return out


def check_openmetrics(body):
    text = body.decode("utf-8")  # strict: must be valid UTF-8
    assert text.endswith("# EOF\n"), text[-200:]
    assert text.count("# EOF") == 1
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            if typ == "counter":
                assert not name.endswith("_total"), line
            if typ == "info":
                assert not name.endswith("_info"), line
    # The sample lines parse like the text format (plus # EOF) and have no duplicates.
    return parse_exposition(text.replace("# EOF\n", ""))


def test_negotiation(exp):
    for accept, ct in [(None, TEXT_CT), ("*/*", TEXT_CT), (PROM2, OM_CT), (PROM3, OM_CT),
                       ("text/plain;version=0.0.4", TEXT_CT),
                       ("application/openmetrics-text;q=0,*/*", TEXT_CT)]:
        headers = {"Accept": accept} if accept else {}
        status, h, body = exp.get(headers=headers)
        assert status == 200
        assert h["Content-Type"] == ct, (accept, h["Content-Type"])
        vary = {v.strip() for v in h.get("Vary", "").split(",")}
        assert {"Accept", "Accept-Encoding"} <= vary, h
        if ct == OM_CT:
            s = check_openmetrics(body)
        else:
            assert b"# EOF" not in body
            s = parse_exposition(body.decode("utf-8"))
        assert value(s, "accesslog_log_lines_total", source="web") > 0
        assert value(s, "process_start_time_seconds") > time.time() - 600
        assert value(s, "process_open_fds") > 0
        assert value(s, "process_resident_memory_bytes") > 0
    print("ok negotiation")


def test_gzip(exp):
    status, h, body = exp.get(headers={"Accept-Encoding": "gzip", "Accept": PROM2})
    assert status == 200 and h.get("Content-Encoding") == "gzip", h
    assert h["Content-Type"] == OM_CT
    check_openmetrics(gzip.decompress(body))
    for enc in ["gzip;q=0", "identity", "br", "gzip;q=0, *"]:
        status, h, body = exp.get(headers={"Accept-Encoding": enc})
        assert "Content-Encoding" not in h, (enc, h)
        parse_exposition(body.decode("utf-8"))
    status, h, body = exp.get(headers={"Accept-Encoding": "*;q=0.5"})
    assert h.get("Content-Encoding") == "gzip"
    gzip.decompress(body)
    # HEAD: headers, no body (compressed or not).
    for enc in [None, "gzip"]:
        status, h, body = exp.get(method="HEAD", headers={"Accept-Encoding": enc} if enc else {})
        assert status == 200 and body == b"", (enc, status, body[:50])
        assert h["Content-Type"] == TEXT_CT
    print("ok gzip")


def test_stable_and_unique(exp):
    _, _, a = exp.get()
    _, _, b = exp.get()
    ka, kb = keys_in_order(a.decode()), keys_in_order(b.decode())
    assert ka == kb, "series order changed between scrapes"
    assert len(ka) == len(set(ka)), "duplicate series"
    parse_exposition(a.decode())
    print("ok stable order, %d series" % len(ka))


def test_labels(exp, odd_path):
    _, _, body = exp.get()
    text = body.decode("utf-8")  # strict: invalid bytes must have been repaired
    s = parse_exposition(text)
    # The odd file name: quote and newline escaped.
    want = 'path="%s"' % odd_path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    assert want in text, want
    # Static label with a quote and a backslash.
    assert 'env="q\\"uo\\\\te"' in text
    # Field labels rewritten, class kept, reason dropped (config).
    assert value(s, "accesslog_http_responses_total", vhost="a.example", code="200",
                 method="GET", **{"class": "2xx"}) == 3
    assert value(s, "accesslog_http_responses_total", vhost="b.example", code="404") == 1
    assert value(s, "accesslog_http_responses_total", vhost="other") == 1
    # Limit 3: the 4th and 5th vhost, and a 4th series of a known vhost, overflow.
    assert value(s, "accesslog_http_responses_total", vhost="__overflow__") == 3
    assert value(s, "accesslog_http_responses_total", vhost="c.example") == 0
    assert value(s, "accesslog_series_dropped_total", source="web",
                 metric="accesslog_http_responses_total") == 3
    assert value(s, "accesslog_http_responses_total", source="web") == 8
    assert value(s, "accesslog_http_response_bytes_total", source="web") == 800
    resp = [line for line in text.splitlines()
            if line.startswith("accesslog_http_responses_total{")]
    assert resp and not any('reason="' in line for line in resp), resp[:3]
    # Raw field values: invalid UTF-8 repaired to U+FFFD, backslash escaped.
    assert value(s, "accesslog_http_responses_total", source="raw",
                 vhost='b\ufffdad\\\\ost') == 1, [k for k in s if ("raw" in str(k))]
    print("ok labels")


def test_promtool(exp):
    promtool = shutil.which("promtool")
    if not promtool:
        print("skip promtool: not installed")
        return
    _, _, body = exp.get()
    r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
    # promtool exits 1 on lint findings too; only errors (not lint) fail the test.
    out = (r.stdout + r.stderr).decode()
    assert "error" not in out.lower(), out
    print("ok promtool check metrics")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_prometheus_scrape(exp, tmp):
    """A real Prometheus scrapes the OpenMetrics format and stores the counters."""
    prom = shutil.which("prometheus")
    if not prom:
        print("skip prometheus scrape: not installed")
        return
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: accesslog\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%d']\n" % exp.port)
    log = open(os.path.join(tmp, "prometheus.log"), "w")
    p = subprocess.Popen([prom, "--config.file=" + cfg,
                          "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                          "--web.listen-address=127.0.0.1:%d" % port],
                         stdout=log, stderr=log)
    try:
        deadline = time.time() + 40
        result = None
        while time.time() < deadline:
            time.sleep(0.5)
            q = urllib.request.quote(
                'sum(accesslog_http_responses_total{job="accesslog",source="web"})')
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/query?query=%s" % (
                        port, q), timeout=2) as r:
                    data = json.load(r)
            except OSError:
                continue
            if data["data"]["result"]:
                result = float(data["data"]["result"][0]["value"][1])
                break
        assert result == 8, "prometheus did not store the counter: %r" % result
        q = urllib.request.quote('accesslog_build_info{job="accesslog"}')
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/query?query=%s" % (port, q),
                                    timeout=2) as r:
            assert json.load(r)["data"]["result"], "accesslog_build_info missing"
        # Only the OpenMetrics parser knows the info type: proof of the negotiated format.
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/metadata" % port,
                                    timeout=2) as r:
            meta = json.load(r)["data"]
        types = {m["type"] for name, ms in meta.items() if name.startswith("accesslog_build")
                 for m in ms}
        assert types == {"info"}, meta.get("accesslog_build_info", meta.keys())
        q = urllib.request.quote('up{job="accesslog"}')
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/query?query=%s" % (port, q),
                                    timeout=2) as r:
            assert json.load(r)["data"]["result"][0]["value"][1] == "1"
        print("ok prometheus scraped OpenMetrics")
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
        log.close()


def main():
    tmp = tempfile.mkdtemp()
    log = os.path.join(tmp, "access.log")
    raw_log = os.path.join(tmp, "raw.log")
    odd = os.path.join(tmp, 'we"ird\nname.log')
    for path in (log, raw_log, odd):
        open(path, "w").close()
    cfg = os.path.join(tmp, "config.yml")
    with open(cfg, "w") as f:
        f.write("""metrics:
  status_labels: [code, class]
  series_limit: 3
sources:
  - name: web
    format: vhost_combined
    paths: [%s, %s]
    labels: {env: 'q"uo\\te'}
    field_labels:
      - name: vhost
        field: vhost
        match: '(?:www\\.)?([a-z]+\\.example)'
        replacement: '$1'
  - name: raw
    format: vhost_combined
    paths: [%s]
    field_labels:
      - name: vhost
        field: vhost
""" % (json.dumps(log), json.dumps(odd), json.dumps(raw_log)))
    exp = Exporter(["--config.file", cfg])
    try:
        lines = [("www.a.example", "GET", "200"), ("a.example", "GET", "200"),
                 ("a.example", "GET", "200"), ("b.example", "POST", "404"),
                 ("UPPER.example", "GET", "200"),  # no match: "other"
                 ("c.example", "GET", "200"),      # 4th label set: overflow
                 ("d.example", "GET", "500"),      # 5th: overflow
                 ("www.a.example", "PUT", "301")]  # 4th series of the family: overflow
        with open(log, "a") as f:
            for vh, m, c in lines:
                f.write(VLINE % (vh, m, "/", c))
        with open(raw_log, "ab") as f:
            f.write((VLINE % ("b\xffad\\ost", "GET", "/", "200")).encode(
                "utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
        exp.wait_for(lambda s: value(s, "accesslog_log_lines_total", source="web") == 8 and
                     value(s, "accesslog_log_lines_total", source="raw") == 1)
        test_negotiation(exp)
        test_gzip(exp)
        test_stable_and_unique(exp)
        test_labels(exp, odd)
        test_promtool(exp)
        test_prometheus_scrape(exp, tmp)
    finally:
        rc = exp.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    assert rc == 0, "exporter exit code %s: %s" % (rc, exp.log())
    print("ok test_exposition")


if __name__ == "__main__":
    main()
