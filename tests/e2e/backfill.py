#!/usr/bin/env python3
"""e2e: a real log backfilled into Debian's Prometheus.

The path of the README, step by step, on 127.0.0.1 in a temp dir:
  1. accesslog_exporter --backfill history.om tests/data/demo.log (a real
     Apache combined log of May 2015, 2,000 lines);
  2. promtool tsdb create-blocks-from openmetrics history.om blocks/;
  3. the blocks moved into the data directory of a Prometheus started on it
     (retention long enough for 2015);
then, through the HTTP API:
  - sum by (code) (increase(accesslog_http_responses_total[whole range])) at
    the last sample equals the number of lines of each code in the log;
  - at a mid-range step, sum by (code) (accesslog_http_responses_total) and
    increase() from the start equal the counts of the lines logged before
    that step's end;
  - the same for accesslog_http_responses_by_class_total per class.
Expected counts come from the log itself (Python's own reading of each
line's time and status).  Bounded: every wait has a deadline; Prometheus is
stopped on exit."""
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
EXPORTER = os.environ.get("ACCESSLOG_EXPORTER", os.path.join(ROOT, "build", "accesslog_exporter"))
LOG = os.path.join(ROOT, "tests", "data", "demo.log")
LINE = re.compile(r'^\S+ \S+ \S+ \[([^\]]+)\] "[^"]*" (\d{3}) ')
STEP = 60


def say(msg):
    print("e2e_backfill: %s" % msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def log_counts():
    """[(unix seconds, code)] of every line, from the log itself."""
    out = []
    with open(LOG, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            assert m, line
            t = datetime.datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S %z")
            out.append((t.timestamp(), m.group(2)))
    return out


def count(lines, before=None, key=lambda code: code):
    c = {}
    for t, code in lines:
        if before is None or t < before:
            c[key(code)] = c.get(key(code), 0) + 1
    return c


def query(port, expr, at):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode(
        {"query": expr, "time": "%.3f" % at}))
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    return body["data"]["result"]


def by_label(result, label):
    return {r["metric"][label]: float(r["value"][1]) for r in result}


def same(got, want, what):
    bad = {k: (got.get(k), v) for k, v in want.items() if abs(got.get(k, -1) - v) > 1e-6}
    extra = {k: v for k, v in got.items() if k not in want and v != 0}
    assert not bad and not extra, "%s: (got, want) %r, extra %r" % (what, bad, extra)


def wait_ready(port, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "prometheus exited"
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("prometheus not ready")


def sample_times(path):
    ts = set()
    with open(path) as f:
        for line in f:
            if line.startswith("accesslog_http_responses_total{"):
                ts.add(float(line.rsplit(" ", 1)[1]))
    return sorted(ts)


def run(tmp):
    om = os.path.join(tmp, "history.om")
    p = subprocess.run([EXPORTER, "--backfill", om, LOG], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    say("backfilled %d bytes" % os.path.getsize(om))
    blocks = os.path.join(tmp, "blocks")
    p = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", om, blocks],
                       capture_output=True, timeout=240)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    data = os.path.join(tmp, "data")
    os.mkdir(data)
    for b in os.listdir(blocks):
        shutil.move(os.path.join(blocks, b), os.path.join(data, b))
    say("%d blocks moved into the data directory" % len(os.listdir(data)))

    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 15s\n")
    port = free_port()
    log = open(os.path.join(tmp, "prometheus.log"), "wb")
    prom = subprocess.Popen(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + data,
                             "--storage.tsdb.retention.time=40y",
                             "--web.listen-address=127.0.0.1:%d" % port],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(port, prom)
        check(port, sample_times(om))
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=20)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()


def check(port, times):
    lines = log_counts()
    first, last = times[0], times[-1]
    whole = int(last - first) + STEP
    got = by_label(query(port, "sum by (code) (increase(accesslog_http_responses_total[%ds]))"
                         % whole, last), "code")
    same(got, count(lines), "increase over the whole range")
    say("increase() over the whole range per code = the log's counts: %r" % got)

    mid = times[len(times) // 2]
    want_mid = count(lines, before=mid)
    got = by_label(query(port, "sum by (code) (accesslog_http_responses_total)", mid), "code")
    same(got, want_mid, "value at mid-range")
    got = by_label(query(port, "sum by (code) (increase(accesslog_http_responses_total[%ds]))"
                         % (int(mid - first) + STEP), mid), "code")
    same(got, want_mid, "increase up to mid-range")
    say("mid-range (%s): %r" % (datetime.datetime.fromtimestamp(
        mid, datetime.timezone.utc).isoformat(), got))
    assert sum(want_mid.values()) < len(lines), "mid-range must be partial"

    klass = count(lines, before=mid, key=lambda code: code[0] + "xx")
    got = by_label(query(port, "sum by (class) (accesslog_http_responses_by_class_total)", mid),
                   "class")
    same(got, klass, "class totals at mid-range")
    say("class totals at mid-range: %r" % got)


def main():
    for tool in ("promtool", "prometheus"):
        if not shutil.which(tool):
            subprocess.run([os.path.join(ROOT, "scripts", "deps")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        run(tmp)
    say("ok")


if __name__ == "__main__":
    main()
