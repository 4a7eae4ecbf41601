#!/usr/bin/env python3
"""Integration: route mapping and user-defined nginx variables in the daemon.

1. A log_format with two variables the exporter does not know ($tier from a
   map, $process_time from a module) parses; the exporter warns once at
   start naming both and their columns; a field label takes its value from
   one of them ($tier) and another maps paths with ordered rules.  A reload
   with the same text keeps the source and its counts.
2. A restart with a state file and the same rules restores every series
   under the same labels.
3. A restart after the rules were only reordered is a changed rewrite: the
   restored counts move to the empty route value (totals exact, the tier
   label unchanged), new lines use the new order."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, value, write_atomic  # noqa: E402

FORMAT = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
          '$request_time "$tier" $process_time')
LINE = ('192.0.2.1 - - [03/Dec/2026:10:00:00 +0000] "GET %s HTTP/1.1" %d 100 0.010 '
        '"%s" 0.009\n')
RULES = {
    "users_first": """
          - {match: '/users/[0-9]+', replacement: '/users/:id'}
          - {match: '/users/.*', replacement: '/users/*'}""",
    "catch_all_first": """
          - {match: '/users/.*', replacement: '/users/*'}
          - {match: '/users/[0-9]+', replacement: '/users/:id'}""",
}
CONFIG = """
global:
  state_file: %(state)s
sources:
  - name: shop
    format: nginx
    log_format: '%(format)s'
    paths: [%(log)s]
    field_labels:
      - name: route
        field: path
        default: unmapped
        rules: %(rules)s
      - name: tier
        field: $tier
"""


def config(tmp, rules):
    return CONFIG % {"state": os.path.join(tmp, "state"), "format": FORMAT,
                     "log": os.path.join(tmp, "a.log"), "rules": RULES[rules]}


def append(tmp, lines):
    with open(os.path.join(tmp, "a.log"), "a") as f:
        for path, code, tier in lines:
            f.write(LINE % (path, code, tier))


def responses(s, **labels):
    return value(s, "accesslog_http_responses_total", source="shop", **labels)


def main():
    tmp = tempfile.mkdtemp(prefix="route_mapping.")
    cfg = os.path.join(tmp, "c.yml")
    try:
        open(os.path.join(tmp, "a.log"), "w").close()
        write_atomic(cfg, config(tmp, "users_first"))
        with Exporter(["--config.file", cfg, "--web.enable-lifecycle"]) as exp:
            append(tmp, [("/users/4711", 200, "gold"), ("/users/12", 404, "silver"),
                         ("/users/me", 200, "gold"), ("/about", 200, "free trial")])
            s = exp.wait_for(lambda s: responses(s) == 4)
            assert responses(s, route="/users/:id", tier="gold", code="200") == 1
            assert responses(s, route="/users/:id", tier="silver", code="404") == 1
            assert responses(s, route="/users/*", tier="gold") == 1
            assert responses(s, route="unmapped", tier="free trial") == 1
            log = exp.log()
            warned = [l for l in log.splitlines() if "variables the exporter does not know" in l]
            assert len(warned) == 1, log
            assert "$tier (column 94 of the format)" in warned[0], warned[0]
            assert "$process_time (column 101 of the format)" in warned[0], warned[0]

            # Same text: the source is kept with its counts.
            status, _, body = exp.get("/-/reload", method="POST")
            assert status == 200, body
            s = exp.scrape()
            assert responses(s, route="/users/:id") == 2

        # Restart with the same rules: the checkpoint restores every label.
        with Exporter(["--config.file", cfg]) as exp:
            s = exp.wait_for(lambda s: responses(s) == 4)
            assert responses(s, route="/users/:id", tier="gold", code="200") == 1
            assert responses(s, route="unmapped", tier="free trial") == 1

        # Reordered rules: a changed rewrite, values reset, totals kept.
        write_atomic(cfg, config(tmp, "catch_all_first"))
        with Exporter(["--config.file", cfg]) as exp:
            s = exp.wait_for(lambda s: responses(s) == 4)
            assert responses(s, route="") == 4, s
            assert responses(s, route="", tier="gold") == 2  # tier unchanged: kept
            assert responses(s, route="/users/:id") == 0
            append(tmp, [("/users/99", 200, "gold")])
            s = exp.wait_for(lambda s: responses(s) == 5)
            assert responses(s, route="/users/*", tier="gold") == 1  # the new order
    finally:
        shutil.rmtree(tmp)
    print("ok - route mapping and user-defined variables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
