#!/usr/bin/env python3
"""Integration: filters, path labels and labels from any field in the daemon.

1. An nginx source reading two files (shop.access.log, blog.access.log)
   labels series by the file's site (path_labels), $ssl_protocol and
   $host, and drops
   probes (by path) and bots (by $http_user_agent) before counting: the
   dropped lines are in accesslog_log_lines_dropped_total and still in
   accesslog_log_lines_total; lines = parsed + parse errors and
   parsed = counted + dropped hold.
2. A restart with a state file restores the labelled series (path labels
   included) and the dropped counter (checkpoint round trip with path
   labels and filters).
3. A reload that changes a filter is a changed source: new counters, the
   file position kept, the new filter applied to new lines."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, value, write_atomic  # noqa: E402

FORMAT = ('$remote_addr [$time_local] "$request" $status $body_bytes_sent '
          '"$http_user_agent" $request_time $host $ssl_protocol')
LINE = ('192.0.2.1 [03/Dec/2026:10:00:00 +0000] "GET %s HTTP/1.1" %d 10 "%s" 0.010 %s %s\n')
CONFIG = """
global:
  state_file: %(state)s
sources:
  - name: edge
    format: nginx
    log_format: '%(format)s'
    paths: ["%(dir)s/*.access.log"]
    path_labels: '/(?<site>[^/]+)\.access\.log$'
    field_labels:
      - {name: tls, field: ssl_protocol}
      - {name: host, field: $host}
    filters:
      - {action: drop, field: path, match: '%(probe)s'}
      - {action: drop, field: http_user_agent, match: '.*bot.*'}
"""


def config(tmp, probe="/healthz"):
    return CONFIG % {"state": os.path.join(tmp, "state"), "format": FORMAT,
                     "dir": tmp, "probe": probe}


def append(tmp, lines, site="shop"):
    with open(os.path.join(tmp, site + ".access.log"), "a") as f:
        for line in lines:
            f.write(line if isinstance(line, str) else LINE % line)


def v(s, name, **labels):
    return value(s, name, source="edge", **labels)


def check_invariants(s):
    lines = v(s, "accesslog_log_lines_total")
    errors = v(s, "accesslog_log_parse_errors_total")
    dropped = v(s, "accesslog_log_lines_dropped_total")
    counted = v(s, "accesslog_http_responses_total")
    assert lines == counted + dropped + errors, (lines, counted, dropped, errors)


def main():
    tmp = tempfile.mkdtemp(prefix="filters.")
    cfg = os.path.join(tmp, "c.yml")
    try:
        open(os.path.join(tmp, "shop.access.log"), "w").close()
        open(os.path.join(tmp, "blog.access.log"), "w").close()
        write_atomic(cfg, config(tmp))
        with Exporter(["--config.file", cfg, "--web.enable-lifecycle"]) as exp:
            append(tmp, [("/", 200, "curl/8", "a.example", "TLSv1.3"),
                         ("/healthz", 200, "kube-probe/1.29", "a.example", "-"),
                         ("/", 200, "Googlebot/2.1", "a.example", "TLSv1.3"),
                         "not a log line\n"])
            append(tmp, [("/x", 503, "curl/8", "b.example", "TLSv1.2")], site="blog")
            s = exp.wait_for(lambda s: v(s, "accesslog_log_lines_total") == 5)
            assert v(s, "accesslog_log_lines_dropped_total") == 2, s
            assert v(s, "accesslog_log_parse_errors_total") == 1
            assert v(s, "accesslog_http_responses_total", site="shop", tls="TLSv1.3",
                     host="a.example") == 1
            assert v(s, "accesslog_http_responses_total", site="blog", tls="TLSv1.2",
                     host="b.example", code="503") == 1
            assert v(s, "accesslog_http_responses_total") == 2
            check_invariants(s)

        # Restart: the checkpoint restores labelled series and the dropped count.
        with Exporter(["--config.file", cfg, "--web.enable-lifecycle"]) as exp:
            s = exp.wait_for(lambda s: v(s, "accesslog_log_lines_total") == 5)
            assert v(s, "accesslog_log_lines_dropped_total") == 2, s
            assert v(s, "accesslog_http_responses_total", site="blog", tls="TLSv1.2",
                     host="b.example") == 1
            assert v(s, "accesslog_http_responses_total", site="shop") == 1
            check_invariants(s)

            # Reload with another probe path: a changed source (new counters).
            write_atomic(cfg, config(tmp, probe="/ready"))
            status, _, body = exp.get("/-/reload", method="POST")
            assert status == 200, body
            append(tmp, [("/healthz", 200, "curl/8", "a.example", "TLSv1.3"),
                         ("/ready", 200, "curl/8", "a.example", "TLSv1.3")])
            s = exp.wait_for(lambda s: v(s, "accesslog_log_lines_total") == 2)
            assert v(s, "accesslog_log_lines_dropped_total") == 1, s
            assert v(s, "accesslog_http_responses_total", site="shop", tls="TLSv1.3",
                     host="a.example") == 1
            check_invariants(s)
    finally:
        shutil.rmtree(tmp)
    print("ok - filters, path labels and labels from any field, across restart and reload")
    return 0


if __name__ == "__main__":
    sys.exit(main())
