#!/usr/bin/env python3
"""e2e: real nginx logs request and response sizes and upstream phases.

nginx on 127.0.0.1 (free ports, a temp dir) with two server blocks: a front
that proxies /app/ to a second server block (the upstream) and answers
/local itself, logging

    $request_length $bytes_sent $request_time $upstream_response_time
    $upstream_connect_time $upstream_header_time

and the exporter following that log with the format pasted as is and
response size buckets set.  Sends GETs and POSTs with bodies through the
proxy and to /local, then checks on the exporter's scrape:
  - accesslog_http_request_size_bytes and accesslog_http_response_size_bytes
    count every line (their _count sums equal accesslog_log_lines_total), the
    request sizes sum to at least the bodies sent, the response sizes to at
    least the bodies received;
  - accesslog_http_upstream_connect_duration_seconds and
    accesslog_http_upstream_header_duration_seconds count exactly the
    proxied lines (nginx writes "-" for /local: not observed);
  - no parse errors.
Bounded: 60 requests, every wait has a deadline, processes stopped on exit."""
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from e2ekit import free_ports, get, wait_for  # noqa: E402
import e2ekit  # noqa: E402
from harness import parse_exposition  # noqa: E402

FORMAT = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
          '$request_length $bytes_sent $request_time $upstream_response_time '
          '$upstream_connect_time $upstream_header_time')
PROXIED_GET, PROXIED_POST, LOCAL = 25, 15, 20
BODY = b"x" * 3000


def request(port, path, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return len(r.read())
    except urllib.error.HTTPError as e:
        return len(e.read())


def total(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


def run(e2e):
    p_front, p_up, p_exp = free_ports(3)
    log = e2ekit.write_file(e2e, "access.log")
    cfg = e2ekit.write_file(e2e, "config.yml", """metrics:
  response_size_buckets: [100, 1000, 10000]
sources:
  - name: front
    format: nginx
    log_format: '%s'
    paths: [%s]
""" % (FORMAT, log))
    metrics = e2ekit.start_exporter(e2e, p_exp, ["--metrics.new-series-hold", "0",
                                                 "--config.file", cfg])
    e2ekit.start_nginx(e2e, p_front, """	log_format phases '%(fmt)s';
	server {
		listen 127.0.0.1:%(front)d;
		access_log %(log)s phases;
		location /app/ { proxy_pass http://127.0.0.1:%(up)d; }
		location = /local { return 200 "local\\n"; }
	}
	server {
		listen 127.0.0.1:%(up)d;
		access_log off;
		location /app/ { return 200 "upstream answer with some bytes in it\\n"; }
	}""" % {"fmt": FORMAT, "log": log, "front": p_front, "up": p_up})
    e2ekit.wait_following(metrics)

    received = 0
    for i in range(PROXIED_GET):
        received += request(p_front, "/app/get%d" % i)
    for i in range(PROXIED_POST):
        received += request(p_front, "/app/post%d" % i, BODY)
    for _ in range(LOCAL):
        received += request(p_front, "/local")
    lines = PROXIED_GET + PROXIED_POST + LOCAL
    s = wait_for("the exporter to count %d lines" % lines, 15, lambda: (lambda s: s if total(
        s, "accesslog_log_lines_total") == lines else None)(parse_exposition(get(
            metrics).decode())))
    assert total(s, "accesslog_log_parse_errors_total") == 0, open(log).read()[:2000]
    for fam in ("accesslog_http_request_size_bytes", "accesslog_http_response_size_bytes"):
        assert total(s, fam + "_count") == lines, (fam, total(s, fam + "_count"))
    assert total(s, "accesslog_http_request_size_bytes_sum") >= PROXIED_POST * len(BODY)
    # $bytes_sent counts the headers too: at least the bodies the client read
    assert total(s, "accesslog_http_response_size_bytes_sum") >= received
    proxied = PROXIED_GET + PROXIED_POST
    for fam in ("accesslog_http_upstream_connect_duration_seconds",
                "accesslog_http_upstream_header_duration_seconds",
                "accesslog_http_upstream_duration_seconds"):
        assert total(s, fam + "_count") == proxied, (fam, total(s, fam + "_count"))
    post = [v for (n, lb), v in s.items() if n == "accesslog_http_upstream_header_duration_seconds"
            "_count" and ("method", "POST") in lb]
    assert post == [PROXIED_POST], post
    e2e.say("%d lines: sizes on every line, upstream phases on the %d proxied" % (
        lines, proxied))


def main():
    e2ekit.main("upstream_phases", run, 120)


if __name__ == "__main__":
    main()
