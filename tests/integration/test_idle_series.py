#!/usr/bin/env python3
"""Integration: series_idle_timeout with the real binary (2s, so it stays short).

1. Two routes; one keeps getting lines, the other stops: within the timeout
   plus a sweep interval (1s) the idle one disappears from /metrics (both its
   families), the busy one stays with its count, and
   accesslog_series_removed_total counts the removed series.
2. A checkpoint written after the removal (SIGTERM) restores no removed
   series; the removed counter survives the restart.
3. The idle route returns: a fresh series from 1 with a new _created
   (OpenMetrics), i.e. a counter restart to rate().
4. --config.check: a bad series_idle_timeout is an error naming file, line
   and key, exit 2; --series.idle-timeout without --config.file is refused."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, binary, value, write_atomic  # noqa: E402

LINE = '192.0.2.1 - - [03/Dec/2026:10:00:00 +0000] "GET %s HTTP/1.1" 200 100 "-" "t"\n'
CONFIG = """
global:
  state_file: %(state)s
sources:
  - name: web
    format: combined
    paths: [%(log)s]
    field_labels:
      - {name: route, field: path}
    series_idle_timeout: %(timeout)s
"""
OM = {"Accept": "application/openmetrics-text; version=1.0.0"}


def append(tmp, *paths):
    with open(os.path.join(tmp, "a.log"), "a") as f:
        for p in paths:
            f.write(LINE % p)


def responses(s, **labels):
    return value(s, "accesslog_http_responses_total", source="web", **labels)


def has_route(s, route):
    return any(("route", route) in ls for (_, ls) in s)


def created(exp, route):
    """The _created of the route's response counter (OpenMetrics)."""
    status, _, body = exp.get(headers=OM)
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith("accesslog_http_responses_created{") and \
                'route="%s"' % route in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no _created for %s" % route)


def check_errors(tmp):
    cfg = os.path.join(tmp, "bad.yml")
    write_atomic(cfg, CONFIG % {"state": os.path.join(tmp, "s2"),
                                "log": os.path.join(tmp, "a.log"), "timeout": "soon"})
    r = subprocess.run([binary(), "--config.file", cfg, "--config.check"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, r
    want = "%s:10:26: key 'sources[0].series_idle_timeout': 'soon' is not a duration" % cfg
    assert want in r.stderr, r.stderr
    r = subprocess.run([binary(), "--series.idle-timeout", "2s", os.path.join(tmp, "a.log")],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "needs --config.file" in r.stderr, r


def main():
    tmp = tempfile.mkdtemp(prefix="idle_series.")
    cfg = os.path.join(tmp, "c.yml")
    try:
        check_errors(tmp)
        open(os.path.join(tmp, "a.log"), "w").close()
        write_atomic(cfg, CONFIG % {"state": os.path.join(tmp, "state"),
                                    "log": os.path.join(tmp, "a.log"), "timeout": "2s"})
        exp = Exporter(["--config.file", cfg, "--metrics.created-timestamps"])
        try:
            append(tmp, "/busy", "/idle", "/idle")
            s = exp.wait_for(lambda s: responses(s) == 3)
            assert responses(s, route="/idle") == 2
            first_created = created(exp, "/idle")
            # /busy gets a line every 0.3s; /idle none: gone after 2s + up to a 1s sweep
            start = time.time()
            sent = 1
            while has_route(s, "/idle"):
                assert time.time() - start < 8, "idle series still there: %r" % s
                append(tmp, "/busy")
                sent += 1
                time.sleep(0.3)
                s = exp.scrape()
            gone_after = time.time() - start
            assert gone_after >= 1.5, gone_after  # not before the timeout
            s = exp.wait_for(lambda s: responses(s, route="/busy") == sent)
            assert value(s, "accesslog_http_response_bytes_total", route="/busy") == 100 * sent
            assert not has_route(s, "/idle")
            # responses and bytes: the two families of a combined-format route
            assert value(s, "accesslog_series_removed_total", source="web") == 2, s
            assert exp.stop() == 0, exp.log()  # checkpoint written without /idle
        finally:
            exp.stop()

        exp = Exporter(["--config.file", cfg, "--metrics.created-timestamps"])
        try:
            s = exp.wait_for(lambda s: responses(s, route="/busy") == sent)
            assert not has_route(s, "/idle"), s
            assert value(s, "accesslog_series_removed_total", source="web") == 2, s
            # the route returns: a new series, counting from 1, created now
            time.sleep(1.1)  # _created has millisecond resolution; make the gap plain
            append(tmp, "/idle")
            s = exp.wait_for(lambda s: responses(s, route="/idle") == 1)
            assert created(exp, "/idle") > first_created + 1
            assert exp.stop() == 0, exp.log()
        finally:
            exp.stop()
    finally:
        shutil.rmtree(tmp)
    print("ok - idle series removed after series_idle_timeout (gone after %.1fs)" % gone_after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
