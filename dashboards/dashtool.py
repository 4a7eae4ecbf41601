#!/usr/bin/env python3
"""dashtool.py - offline checks of the Grafana dashboard and the alert rules.

Used by dashboards/check (meson suite 'rules') and tests/e2e/run.

  dashtool.py validate DASHBOARD.json     structure of the dashboard: JSON,
                                          stable uid, datasource variable,
                                          unique panel ids and refIds, every
                                          target on ${datasource} with an expr
  dashtool.py rules DASHBOARD.json        every target expr (variables
                                          substituted) as a recording rule,
                                          so `promtool check rules` parses it
  dashtool.py exprs DASHBOARD.json [RATE] one JSON object per target:
                                          {"panel", "ref", "expr"}, variables
                                          substituted ($__rate_interval=RATE)
  dashtool.py variables DASHBOARD.json    one JSON object per label_values()
                                          variable: {"name", "metric", "label"}
  dashtool.py coverage RULES.yml TEST.yml...
                                          every alert has severity, summary and
                                          description, and at least one unit
                                          test where it fires and one where it
                                          does not

Substitution: $job, $instance, $source, $vhost, $path and $field_value become ".*" (what Grafana sends
for "All"), $field_label becomes "source" (a label every series has: the
field-label row groups by the label chosen), $__rate_interval becomes RATE
(default 1m).  A PromQL parser
in Python was rejected: promtool is the reference parser, so expressions are
handed to it wrapped in a rules file.
"""

import json
import re
import sys

UID = "accesslog-overview"
VARIABLES = ("job", "instance", "source", "vhost", "path")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def all_panels(dash):
    for p in dash.get("panels", []):
        yield p
        for sub in p.get("panels", []):
            yield sub


def substitute(expr, rate):
    out = expr.replace("$__rate_interval", rate).replace("${__rate_interval}", rate)
    # the field-label row: grouped by the chosen label name ("source" stands
    # for any: a label every selected series has), filtered by its values
    for name, value in (("field_label", "source"), ("field_value", ".*")):
        out = out.replace("${%s}" % name, value).replace("$" + name, value)
    for v in VARIABLES:
        out = out.replace("${%s}" % v, ".*").replace("$" + v, ".*")
    return out


# Series of one source carry a source label; the others only job/instance.
PER_SOURCE = re.compile(r"^accesslog_(http|log)_")
NOT_PER_SOURCE = ("accesslog_http_status_info",)
SELECTOR = re.compile(r"\b(accesslog_\w+|process_\w+|up)\b(\{[^}]*\})?")


def selector_errors(expr):
    """Every series selector must follow the dashboard variables, so that
    choosing a job, instance or source filters every panel."""
    errors = []
    for m in SELECTOR.finditer(expr):
        name, sel = m.group(1), m.group(2) or ""
        if re.match(r"\s*\(", expr[m.end():]):
            continue  # a function name, not a metric
        need = ['job=~"$job"', 'instance=~"$instance"']
        if PER_SOURCE.match(name) and name not in NOT_PER_SOURCE:
            need.append('source=~"$source"')
        for n in need:
            if n not in sel:
                errors.append("selector %s%s lacks %s" % (name, sel, n))
    return errors


def validate(dash):
    errors = []
    if dash.get("uid") != UID:
        errors.append("uid is %r, expected %r (keep it stable)" % (dash.get("uid"), UID))
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        errors.append("schemaVersion missing or older than 36")
    if not dash.get("title"):
        errors.append("dashboard has no title")
    tvars = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = tvars.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append("templating variable 'datasource' of type datasource/prometheus missing")
    for name in VARIABLES:
        v = tvars.get(name)
        if not v:
            errors.append("templating variable %r missing" % name)
            continue
        if v.get("datasource", {}).get("uid") != "${datasource}":
            errors.append("variable %r does not use ${datasource}" % name)
        if not re.match(r"^label_values\(.+,\s*%s\)$" % name, v.get("definition", "")):
            errors.append("variable %r is not label_values(..., %s)" % (name, name))
    fl, fv = tvars.get("field_label"), tvars.get("field_value")
    if not fl or not re.match(r"^label_names\(accesslog_http_responses_total\{.+\}\)$",
                              fl.get("definition", "")):
        errors.append("variable 'field_label' is not label_names(accesslog_http_responses_total{...})")
    if not fv or not re.match(r"^label_values\(.+,\s*\$field_label\)$", fv.get("definition", "")):
        errors.append("variable 'field_value' is not label_values(..., $field_label)")
    ids = set()
    count = 0
    for p in all_panels(dash):
        pid = p.get("id")
        where = "panel %r (%s)" % (pid, p.get("title"))
        if not isinstance(pid, int):
            errors.append(where + ": id is not an integer")
        elif pid in ids:
            errors.append(where + ": duplicate panel id")
        ids.add(pid)
        gp = p.get("gridPos", {})
        if not all(isinstance(gp.get(k), int) for k in ("x", "y", "w", "h")) or gp["x"] + gp["w"] > 24:
            errors.append(where + ": bad gridPos")
        if p.get("type") == "row":
            continue
        if not p.get("title") or not p.get("description"):
            errors.append(where + ": needs a title and a description")
        if p.get("datasource", {}).get("uid") != "${datasource}":
            errors.append(where + ": panel datasource is not ${datasource}")
        targets = p.get("targets", [])
        if not targets:
            errors.append(where + ": no targets")
        refs = set()
        for t in targets:
            ref = t.get("refId")
            if not ref or ref in refs:
                errors.append(where + ": missing or duplicate refId %r" % ref)
            refs.add(ref)
            if t.get("datasource", {}).get("uid") != "${datasource}":
                errors.append(where + " target %s: datasource is not ${datasource}" % ref)
            if not t.get("expr", "").strip():
                errors.append(where + " target %s: empty expr" % ref)
            for e in selector_errors(t.get("expr", "")):
                errors.append(where + " target %s: %s" % (ref, e))
            count += 1
    if count == 0:
        errors.append("no targets at all")
    return errors


def targets(dash, rate):
    for p in all_panels(dash):
        for t in p.get("targets", []):
            if t.get("expr"):
                yield {"panel": "%s (id %s)" % (p.get("title"), p.get("id")), "ref": t.get("refId"),
                       "expr": substitute(t["expr"], rate)}


def cmd_rules(dash):
    print("# generated by dashtool.py: every dashboard expression as a recording rule")
    print("groups:\n  - name: dashboard\n    rules:")
    for i, t in enumerate(targets(dash, "1m")):
        print("      # %s %s" % (t["panel"], t["ref"]))
        print("      - record: dashboard:expr_%d" % i)
        print("        expr: %s" % json.dumps(t["expr"]))


def cmd_variables(dash):
    for v in dash.get("templating", {}).get("list", []):
        m = re.match(r"^label_values\((.+),\s*(\w+)\)$", v.get("definition", ""))
        if m:
            print(json.dumps({"name": v["name"], "metric": substitute(m.group(1), "1m"),
                              "label": m.group(2)}))


def cmd_coverage(rules_path, test_paths):
    import yaml  # Debian: python3-yaml

    errors = []
    with open(rules_path, encoding="utf-8") as f:
        rules = yaml.safe_load(f)
    alerts = {}
    for g in rules.get("groups", []):
        for r in g.get("rules", []):
            if "alert" not in r:
                continue
            name = r["alert"]
            alerts[name] = {"fires": False, "quiet": False}
            if not r.get("labels", {}).get("severity"):
                errors.append("%s: no severity label" % name)
            ann = r.get("annotations", {})
            for key in ("summary", "description"):
                if not ann.get(key, "").strip():
                    errors.append("%s: no %s annotation" % (name, key))
            if "$labels" not in ann.get("summary", "") + ann.get("description", "") and \
                    "absent(" not in r.get("expr", ""):
                errors.append("%s: annotations do not use $labels" % name)
    for path in test_paths:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        for t in doc.get("tests", []):
            for a in t.get("alert_rule_test", []) or []:
                name = a.get("alertname")
                if name not in alerts:
                    errors.append("%s: test for unknown alert %r" % (path, name))
                    continue
                if a.get("exp_alerts"):
                    alerts[name]["fires"] = True
                else:
                    alerts[name]["quiet"] = True
    for name, seen in sorted(alerts.items()):
        if not seen["fires"]:
            errors.append("%s: no unit test where it fires" % name)
        if not seen["quiet"]:
            errors.append("%s: no unit test where it does not fire" % name)
    if not alerts:
        errors.append("no alerts in " + rules_path)
    return errors, len(alerts)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd = argv[1]
    if cmd == "coverage":
        errors, n = cmd_coverage(argv[2], argv[3:])
        for e in errors:
            print("dashtool: " + e, file=sys.stderr)
        if not errors:
            print("dashtool: %d alerts, each with firing and non-firing tests" % n)
        return 1 if errors else 0
    try:
        dash = load(argv[2])
    except (OSError, ValueError) as e:
        print("dashtool: %s: %s" % (argv[2], e), file=sys.stderr)
        return 1
    if cmd == "validate":
        errors = validate(dash)
        for e in errors:
            print("dashtool: " + e, file=sys.stderr)
        if not errors:
            n = sum(1 for _ in targets(dash, "1m"))
            print("dashtool: %s valid, %d panels, %d expressions" %
                  (argv[2], sum(1 for _ in all_panels(dash)), n))
        return 1 if errors else 0
    if cmd == "rules":
        cmd_rules(dash)
    elif cmd == "exprs":
        rate = argv[3] if len(argv) > 3 else "1m"
        for t in targets(dash, rate):
            print(json.dumps(t))
    elif cmd == "variables":
        cmd_variables(dash)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
