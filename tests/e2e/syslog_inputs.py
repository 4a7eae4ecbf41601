#!/usr/bin/env python3
"""e2e: the exporter fed by real servers through inputs other than files.

1. nginx logs every request twice: to a file and to the exporter's UDP
   syslog listener (access_log syslog:server=127.0.0.1:PORT,tag=nginx), and
   a third time with another tag and nohostname.  After a fixed load the
   exporter's counts per status code equal the lines of the file, the
   other tag's messages are all counted as filtered, none is invalid.
2. Apache httpd (Debian apache2, a temp config on a free loopback port)
   logs to a file and through a piped CustomLog "|accesslog_exporter ... -"
   into an exporter it starts itself; its counts equal the file's lines.
Everything on 127.0.0.1 in a temp dir, bounded in count and time."""
import collections
import http.client
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2ekit import (EXPORTER, free_ports, get, main, start_exporter, start_nginx,  # noqa: E402
                    wait_for)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import parse_exposition, value  # noqa: E402

N = int(os.environ.get("E2E_COUNT", "40"))
PATHS = {"/ok": 200, "/missing": 404, "/boom": 500, "/moved": 301}
COMBINED = "%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\""


def load(port, paths):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(N):
        for p in paths:
            c.request("GET", p)
            c.getresponse().read()
    c.close()


def file_codes(path):
    codes = collections.Counter()
    with open(path) as f:
        for line in f:
            m = re.search(r'" (\d{3}) ', line)
            codes[m.group(1)] += 1
    return codes


def scrape(port):
    return parse_exposition(get("http://127.0.0.1:%d/metrics" % port).decode())


def counts_equal(port, source, codes):
    s = scrape(port)
    got = {c: value(s, "accesslog_http_responses_total", source=source, code=c) for c in codes}
    return s if got == {c: float(n) for c, n in codes.items()} else None


def nginx_part(e2e):
    p_nginx, p_exp = free_ports(2)
    p_udp, = free_ports(1, socket.SOCK_DGRAM)
    log = os.path.join(e2e.tmp, "nginx-access.log")
    start_exporter(e2e, p_exp, ["--metrics.new-series-hold", "0", "--source", "nginx",
                                "--syslog.tag", "nginx", "udp://127.0.0.1:%d" % p_udp],
                   name="exporter-syslog")
    wait_for("the exporter", 10, lambda: scrape(p_exp) is not None)
    start_nginx(e2e, p_nginx, """\
	access_log %(log)s combined;
	access_log syslog:server=127.0.0.1:%(u)d,tag=nginx combined;
	access_log syslog:server=127.0.0.1:%(u)d,tag=other,nohostname combined;
	server {
		listen 127.0.0.1:%(p)d;
		location = /ok { return 200 "ok\\n"; }
		location = /boom { return 500; }
		location = /moved { return 301 /ok; }
	}""" % {"log": log, "p": p_nginx, "u": p_udp})
    load(p_nginx, list(PATHS))
    wait_for("nginx to write %d lines" % (N * len(PATHS)), 10,
             lambda: sum(file_codes(log).values()) == N * len(PATHS))
    codes = file_codes(log)
    s = wait_for("the exporter's counts to equal nginx's file", 15,
                 lambda: counts_equal(p_exp, "nginx", codes))
    total = N * len(PATHS)
    assert value(s, "accesslog_log_lines_total", source="nginx") == total, s
    assert value(s, "accesslog_syslog_messages_total", source="nginx") == 2 * total
    assert value(s, "accesslog_syslog_messages_filtered_total", source="nginx") == total
    assert value(s, "accesslog_syslog_messages_invalid_total", source="nginx") == 0
    assert value(s, "accesslog_log_parse_errors_total", source="nginx") == 0
    e2e.say("nginx -> udp syslog: %d lines, counts equal the file %s" % (total, dict(codes)))


def apache_part(e2e):
    tmp = os.path.join(e2e.tmp, "apache")
    os.makedirs(os.path.join(tmp, "htdocs"))
    os.makedirs(os.path.join(tmp, "run"))
    os.chmod(e2e.tmp, 0o755)
    with open(os.path.join(tmp, "htdocs", "ok"), "w") as f:
        f.write("ok\n")
    p_apache, p_exp = free_ports(2)
    log = os.path.join(tmp, "access.log")
    mods = "/usr/lib/apache2/modules"
    pipe = "|%s --web.listen-address 127.0.0.1:%d --metrics.new-series-hold 0 --source apache -" % (
        EXPORTER, p_exp)
    with open(os.path.join(tmp, "httpd.conf"), "w") as f:
        f.write("""ServerRoot %(t)s
ServerName 127.0.0.1
Listen 127.0.0.1:%(p)d
PidFile %(t)s/httpd.pid
DefaultRuntimeDir %(t)s/run
ErrorLog %(t)s/error.log
LogLevel warn
LoadModule mpm_event_module %(m)s/mod_mpm_event.so
LoadModule authz_core_module %(m)s/mod_authz_core.so
LoadModule alias_module %(m)s/mod_alias.so
LoadModule rewrite_module %(m)s/mod_rewrite.so
<IfModule unixd_module>
	User nobody
	Group nogroup
</IfModule>
DocumentRoot %(t)s/htdocs
<Directory %(t)s/htdocs>
	Require all granted
</Directory>
Redirect 301 /moved /ok
RewriteEngine On
RewriteRule ^/boom$ - [R=500]
LogFormat "%(fmt)s" combined
CustomLog %(log)s combined
CustomLog "%(pipe)s" combined
""" % {"t": tmp, "p": p_apache, "m": mods, "fmt": COMBINED, "log": log, "pipe": pipe})
    check = subprocess.run(["apache2", "-t", "-f", os.path.join(tmp, "httpd.conf")],
                           capture_output=True)
    assert check.returncode == 0, check.stderr
    e2e.start("apache", ["apache2", "-f", os.path.join(tmp, "httpd.conf"), "-DFOREGROUND"])
    wait_for("apache's piped exporter", 15, lambda: scrape(p_exp) is not None)
    load(p_apache, list(PATHS))
    wait_for("apache to write %d lines" % (N * len(PATHS)), 10,
             lambda: os.path.exists(log) and sum(file_codes(log).values()) == N * len(PATHS))
    codes = file_codes(log)
    s = wait_for("the piped exporter's counts to equal Apache's file", 15,
                 lambda: counts_equal(p_exp, "apache", codes))
    assert value(s, "accesslog_log_parse_errors_total", source="apache") == 0
    e2e.say("apache -> CustomLog pipe: %d lines, counts equal the file %s" % (
        sum(codes.values()), dict(codes)))
    # Apache stops its piped loggers with it.
    for name, p in e2e.procs:
        if name == "apache":
            p.terminate()
            p.wait(timeout=15)
    wait_for("the piped exporter to stop with Apache", 15,
             lambda: subprocess.run(["pgrep", "-f", "127.0.0.1:%d" % p_exp],
                                    capture_output=True).returncode == 1)


def body(e2e):
    nginx_part(e2e)
    apache_part(e2e)


if __name__ == "__main__":
    main("syslog_inputs", body, 120)
