#!/usr/bin/env python3
"""e2e: labels from any field and from the file path, and filters, in Prometheus.

Real nginx serves two virtual hosts over TLS (a throwaway self-signed
certificate made with openssl in the temp dir) and writes each to its own
file (shop.access.log, blog.access.log) with a log_format carrying $host
and $ssl_protocol; the exporter reads both files with one source whose
path_labels take the site from the file name, whose field labels are
$ssl_protocol and $host, and whose filter drops /healthz.  Debian's
Prometheus scrapes it.  Checks, in Prometheus:
  - the counted requests per site, TLS protocol and host are exactly the
    requests sent (tls="TLSv1.2" and "TLSv1.3": the client forces each);
  - /healthz is in accesslog_log_lines_dropped_total, not in the responses;
  - the recording rule for the 5xx ratio aggregates the field labels away:
    one series per source, not one per host or site.
Bounded: every wait has a deadline, processes are stopped on exit."""
import os
import ssl
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2ekit import free_ports, query, scalar, wait_for  # noqa: E402
import e2ekit  # noqa: E402

FORMAT = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
          '"$http_referer" "$http_user_agent" $request_time $host $ssl_protocol')
SITES = {"shop": "shop.example", "blog": "blog.example"}


def https(port, host, path, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, path), headers={"Host": host})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
            r.read()
    except urllib.error.HTTPError:
        pass


def run(e2e):
    tmp = e2e.tmp
    p_nginx, p_exp, p_prom = free_ports(3)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", os.path.join(tmp, "key.pem"),
                    "-out", os.path.join(tmp, "cert.pem")], check=True, capture_output=True)
    servers = ""
    for site, host in SITES.items():
        log = os.path.join(tmp, site + ".access.log")
        open(log, "w").close()
        servers += """
	server {
		listen 127.0.0.1:%(p)d ssl;
		server_name %(host)s;
		ssl_certificate %(t)s/cert.pem;
		ssl_certificate_key %(t)s/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		access_log %(log)s fields;
		location = /ok { return 200 "ok\\n"; }
		location = /healthz { return 200 "healthy\\n"; }
		location = /fail { return 502; }
	}""" % {"p": p_nginx, "host": host, "t": tmp, "log": log}
    cfg = e2ekit.write_file(e2e, "exporter.yml", """sources:
  - name: web
    format: nginx
    log_format: '%s'
    paths: ['%s/*.access.log']
    path_labels: '/(?<site>[^/]+)\\.access\\.log$'
    field_labels:
      - {name: tls, field: ssl_protocol}
      - {name: host, field: $host}
    filters:
      - {action: drop, field: path, match: '/healthz'}
""" % (FORMAT, tmp))
    e2ekit.start_exporter(e2e, p_exp, ["--metrics.new-series-hold", "3s", "--config.file", cfg])
    e2ekit.start_prometheus(e2e, p_prom, p_exp)
    e2ekit.start_nginx(e2e, p_nginx, "\tlog_format fields '%s';%s" % (FORMAT, servers))
    e2ekit.wait_scraping(p_prom)

    sent = {}  # (site, tls, code) -> requests
    plan = [("shop", ssl.TLSVersion.TLSv1_3, "/ok", "200", 5),
            ("shop", ssl.TLSVersion.TLSv1_2, "/ok", "200", 3),
            ("shop", ssl.TLSVersion.TLSv1_3, "/fail", "502", 2),
            ("blog", ssl.TLSVersion.TLSv1_2, "/ok", "200", 4),
            ("blog", ssl.TLSVersion.TLSv1_3, "/healthz", None, 6)]
    for site, version, path, code, n in plan:
        for _ in range(n):
            https(p_nginx, SITES[site], path, version)
        if code:
            tls = "TLSv1.3" if version == ssl.TLSVersion.TLSv1_3 else "TLSv1.2"
            sent[(site, tls, code)] = sent.get((site, tls, code), 0) + n
    e2e.say("sent over TLS: %r and 6 x /healthz" % sent)
    total = sum(sent.values())
    wait_for("every counted request in Prometheus", 40, lambda: scalar(
        p_prom, 'sum(accesslog_http_responses_total{source="web"})') == total)
    for (site, tls, code), n in sent.items():
        expr = ('sum(accesslog_http_responses_total{source="web",site="%s",tls="%s",'
                'host="%s",code="%s"})' % (site, tls, SITES[site], code))
        got = scalar(p_prom, expr)
        e2e.say("%s = %s" % (expr, got))
        assert got == n, (expr, got, n)
    dropped = scalar(p_prom, 'accesslog_log_lines_dropped_total{source="web"}')
    lines = scalar(p_prom, 'accesslog_log_lines_total{source="web"}')
    e2e.say("dropped %s, lines %s" % (dropped, lines))
    assert dropped == 6 and lines == total + 6, (dropped, lines)
    assert scalar(p_prom, 'count(accesslog_http_responses_total{source="web",'
                          'path=~".+"})') is None  # no path label: the filter took /healthz
    # The recording rules sum the field and path labels away: one series per source.
    rule = "source:accesslog_http_5xx:ratio_rate5m"
    wait_for("the 5xx ratio rule", 40, lambda: query(p_prom, rule))
    rows = query(p_prom, rule)
    e2e.say("%s: %r" % (rule, [(r["metric"], r["value"][1]) for r in rows]))
    assert len(rows) == 1 and "host" not in rows[0]["metric"] and \
        "site" not in rows[0]["metric"] and "tls" not in rows[0]["metric"], rows


def main():
    e2ekit.main("field_labels", run, 240)


if __name__ == "__main__":
    main()
