#!/usr/bin/python3
"""check_golden.py - the protobuf goldens decoded by an independent decoder
(decode.py: Debian's python3-protobuf and our metrics.proto) must say
exactly what their OpenMetrics twins say, rendered from the same registry
(tests/test_metrics_render.c): the same families (name, type, help) in the
same order, the same series in the same order with the same labels and
values, held series at 0 alike, and every _created sample equal to the
counter's or histogram's created_timestamp.  A histogram's +Inf bucket is
its sample_count (protobuf leaves it out), le compares as a number.

Usage: check_golden.py   (exit 0 when every pair agrees)"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import decode  # noqa: E402

RENDER = os.path.join(HERE, "..", "data", "render")
PAIRS = [("hold.pb", "hold_created.om"), ("labels.pb", "labels.om")]
UNESCAPE = {"\\": "\\", '"': '"', "n": "\n"}


def parse_labels(s, i):
    """Labels from s[i] == '{' to the closing brace: (dict, index after)."""
    labels, i = {}, i + 1
    while s[i] != "}":
        eq = s.index("=", i)
        name, i, value = s[i:eq], eq + 2, []
        while s[i] != '"':
            if s[i] == "\\":
                value.append(UNESCAPE[s[i + 1]])
                i += 2
            else:
                value.append(s[i])
                i += 1
        labels[name] = "".join(value)
        i += 1
        if s[i] == ",":
            i += 1
    return labels, i + 1


def parse_om(text):
    """OpenMetrics text: [{name, type, help, samples: [(name, labels, value)]}]."""
    fams = []
    for line in text.splitlines():
        if line == "# EOF":
            break
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            fams.append({"name": name, "help": help_, "samples": []})
        elif line.startswith("# TYPE "):
            fams[-1]["type"] = line[7:].partition(" ")[2]
        else:
            brace = line.find("{")
            space = line.index(" ") if brace < 0 else None
            if brace >= 0 and brace < line.index(" "):
                labels, end = parse_labels(line, brace)
                name = line[:brace]
            else:
                labels, end, name = {}, space, line[:space]
            fams[-1]["samples"].append((name, labels, float(line[end:].strip())))
    return [f for f in fams if f["samples"]]


def le(labels):
    if "le" in labels:
        labels = dict(labels)
        labels["le"] = float(labels["le"])
    return labels


def om_family(fam):
    """The OpenMetrics family name and type a decoded family must have."""
    name, t = fam["name"], fam["type"]
    if t == "COUNTER":
        return name[:-6], "counter"
    if t == "GAUGE" and name.endswith("_info"):
        return name[:-5], "info"
    return name, t.lower()


def compare(pb_path, om_path):
    with open(pb_path, "rb") as f:
        pb = decode.decode(f.read())
    with open(om_path, encoding="utf-8") as f:
        om = parse_om(f.read())
    # The OpenMetrics twin keeps build_info; the protobuf golden leaves it out.
    om = [f for f in om if f["name"] != "accesslog_build"]
    errors = []
    if [om_family(f) for f in pb] != [(f["name"], f["type"]) for f in om]:
        errors.append("families differ: %s vs %s" % ([om_family(f) for f in pb],
                                                      [(f["name"], f["type"]) for f in om]))
        return errors
    for p, o in zip(pb, om):
        if p["help"] != o["help"]:
            errors.append("%s: help differs" % p["name"])
        got = [(n, le(lab), v) for n, lab, v in decode.expand(p)]
        want = [(n, le(lab), v) for n, lab, v in o["samples"]]
        if got != want:
            for g, w in zip(got, want):
                if g != w:
                    errors.append("%s: %r != %r" % (p["name"], g, w))
                    break
            else:
                errors.append("%s: %d samples vs %d" % (p["name"], len(got), len(want)))
    return errors


def main():
    failed = 0
    for pb, om in PAIRS:
        errors = compare(os.path.join(RENDER, pb), os.path.join(RENDER, om))
        for e in errors:
            print("# %s" % e)
        print("%s - %s equals %s" % ("not ok" if errors else "ok", pb, om))
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
