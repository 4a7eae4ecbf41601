#!/usr/bin/env python3
"""End-to-end: a real nginx whose log_format uses two variables of its own
config ($tier from a map, $route_hint from set), read by the exporter.

Starts nginx on 127.0.0.1 (a free port, a temp dir, nothing else touched)
with

    map $arg_plan $tier { default "free trial"; gold gold; silver silver; }
    log_format uv '... $status ... "$tier" $route_hint $request_time';
    location / { set $route_hint "$request_method:$uri"; ... }

and the exporter (the real daemon, harness.Exporter) following its access
log with a route label mapped by ordered rules and a tier label taken from
$tier.  Sends 40 requests over loopback and checks every count by label,
that no line failed to parse, and the start-up warning naming both
variables.  Bounded: 40 requests, timeouts of seconds; every process
stopped on exit (e2ekit)."""
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2ekit import ROOT, free_ports, main, start_nginx  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Exporter, value  # noqa: E402

HTTP = """\
	map $arg_plan $tier {
		default "free trial";
		gold gold;
		silver silver;
	}
	log_format uv '$remote_addr - $remote_user [$time_local] "$request" $status '
	              '$body_bytes_sent "$tier" $route_hint $request_time';
	access_log %(t)s/access.log uv;
	server {
		listen 127.0.0.1:%(p)d;
		location / {
			set $route_hint "$request_method:$uri";
			return 200 "ok\\n";
		}
		location /users/ {
			set $route_hint "$request_method:$uri";
			return 404;
		}
	}"""

CONFIG = """
sources:
  - name: nginx
    format: nginx
    log_format: >-
      log_format uv '$remote_addr - $remote_user [$time_local] "$request" $status '
                    '$body_bytes_sent "$tier" $route_hint $request_time';
    paths: [{tmp}/access.log]
    field_labels:
      - name: route
        field: path
        rules:
          - {{match: '/users/[0-9]+/orders/[0-9]+', replacement: '/users/:id/orders/:id'}}
          - {{match: '/users/[0-9]+', replacement: '/users/:id'}}
          - {{match: '/'}}
      - name: tier
        field: $tier
"""

# (path, plan, expected route, expected tier, code, count)
REQUESTS = [
    ("/users/4711?plan=gold", "/users/:id", "gold", "404", 7),
    ("/users/12/orders/9?plan=silver", "/users/:id/orders/:id", "silver", "404", 11),
    ("/users/12/orders/9", "/users/:id/orders/:id", "free trial", "404", 5),
    ("/?plan=gold", "/", "gold", "200", 9),
    ("/about?plan=platinum", "other", "free trial", "200", 8),
]


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def body(e2e):
    tmp = e2e.tmp
    if not shutil.which("nginx"):
        subprocess.run([os.path.join(ROOT, "scripts", "deps")], check=True)
    os.chmod(tmp, 0o755)  # nginx workers may run as nobody
    port, = free_ports(1)
    open(os.path.join(tmp, "access.log"), "w").close()
    with open(os.path.join(tmp, "c.yml"), "w") as f:
        f.write(CONFIG.format(tmp=tmp))
    start_nginx(e2e, port, HTTP % {"t": tmp, "p": port})
    exp = Exporter(["--config.file", os.path.join(tmp, "c.yml")])
    try:
        total = 0
        for path, _, _, code, count in REQUESTS:
            for _ in range(count):
                assert get(port, path) == int(code), path
            total += count

        def done(s):
            return value(s, "accesslog_http_responses_total", source="nginx") == total

        s = exp.wait_for(done, timeout=20)
        for path, route, tier, code, count in REQUESTS:
            got = value(s, "accesslog_http_responses_total", source="nginx", route=route,
                        tier=tier, code=code)
            want = sum(c for _, r, t, k, c in REQUESTS if (r, t, k) == (route, tier, code))
            assert got == want, (path, route, tier, code, got, want)
        assert value(s, "accesslog_log_parse_errors_total", source="nginx") == 0
        warned = [l for l in exp.log().splitlines() if "variables the exporter does not know" in l]
        assert len(warned) == 1 and "$tier (column" in warned[0] and \
            "$route_hint (column" in warned[0], exp.log()
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
    e2e.say("real nginx with map and set variables, labelled by one of them")


if __name__ == "__main__":
    main("user_variables", body, 60)
