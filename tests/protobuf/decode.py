#!/usr/bin/python3
"""decode.py - decode a protobuf exposition (delimited MetricFamily messages)
with Debian's python3-protobuf and the schema metrics.proto next to this
file (compiled by protoc at each run), independently of the exporter's
encoder.  Prints JSON: a list of families
  {"name", "help", "type", "metrics": [{"labels": {...}, one of
   "counter": {"value", "created"}, "gauge": value,
   "histogram": {"count", "sum", "buckets": [[upper_bound, cumulative]],
                 "created", "native": {"schema", "zero_threshold",
                 "zero_count", "spans", "deltas", "buckets": {index: count}}
                 (native only when the histogram has one),
                 "exemplars": [[upper_bound, exemplar]] (only when some bucket has one)},
   counters: "exemplar": {"labels", "value", "timestamp"} when they have one}]}
(an explicit +Inf bucket, written only for its exemplar, is not in "buckets")
where created is Unix seconds as a float (or null).  Fails (exit 1) on a
malformed stream, on unknown fields, or when a message does not re-encode
to exactly the bytes read (non-minimal varints, fields out of order).

Usage: decode.py [--samples] [FILE]   (standard input by default; gzip is
detected).  --samples prints the samples as the text formats would list
them instead: [[name, labels, value]] (see expand).
Also usable as a module: decode(data) -> the list above."""
import gzip
import importlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
_pb = None


def schema():
    global _pb
    if _pb is None:
        out = tempfile.mkdtemp(prefix="pbschema.")
        subprocess.run(["protoc", "-I", HERE, "--python_out=" + out,
                        os.path.join(HERE, "metrics.proto")], check=True)
        sys.path.insert(0, out)
        _pb = importlib.import_module("metrics_pb2")
    return _pb


def varint(data, pos):
    shift = result = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated or overlong varint at %d" % pos)
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def no_unknown(msg, where):
    if len(msg.UnknownFields()):
        raise ValueError("unknown fields in %s" % where)
    for fd, value in msg.ListFields():
        if fd.type != fd.TYPE_MESSAGE:
            continue
        for sub in (value if fd.label == fd.LABEL_REPEATED else [value]):
            no_unknown(sub, where + "." + fd.name)


def ts(msg, field):
    if not msg.HasField(field):
        return None
    t = getattr(msg, field)
    return t.seconds + t.nanos / 1e9


def native(h):
    """A native histogram's fields, and its buckets as {index: count}
    (spans and deltas resolved)."""
    buckets, idx, count, k = {}, 0, 0, 0
    spans = [[sp.offset, sp.length] for sp in h.positive_span]
    for i, (off, length) in enumerate(spans):
        idx = off if i == 0 else idx + off
        for _ in range(length):
            count += h.positive_delta[k]
            k += 1
            if count < 0:
                raise ValueError("negative native bucket count")
            if count:
                buckets[idx] = count
            idx += 1
    if k != len(h.positive_delta) or h.negative_span or h.negative_delta:
        raise ValueError("native spans and deltas disagree")
    return {"schema": h.schema, "zero_threshold": h.zero_threshold,
            "zero_count": h.zero_count, "spans": spans,
            "deltas": list(h.positive_delta), "buckets": buckets}


def exemplar(e):
    """An Exemplar as {"labels", "value", "timestamp"} (Unix seconds or None)."""
    return {"labels": {lp.name: lp.value for lp in e.label}, "value": e.value,
            "timestamp": ts(e, "timestamp")}


def metric_dict(pb, fam, m):
    d = {"labels": {lp.name: lp.value for lp in m.label}}
    if len(d["labels"]) != len(m.label):
        raise ValueError("label name twice in %s" % fam.name)
    if m.HasField("counter"):
        d["counter"] = {"value": m.counter.value, "created": ts(m.counter, "created_timestamp")}
        if m.counter.HasField("exemplar"):
            d["counter"]["exemplar"] = exemplar(m.counter.exemplar)
    if m.HasField("gauge"):
        d["gauge"] = m.gauge.value
    if m.HasField("histogram"):
        h = m.histogram
        d["histogram"] = {"count": h.sample_count, "sum": h.sample_sum,
                          "buckets": [[b.upper_bound, b.cumulative_count] for b in h.bucket
                                      if b.upper_bound != float("inf")],
                          "created": ts(h, "created_timestamp")}
        exs = [[b.upper_bound, exemplar(b.exemplar)] for b in h.bucket if b.HasField("exemplar")]
        if exs:
            d["histogram"]["exemplars"] = exs
        for b in h.bucket:
            if b.upper_bound == float("inf") and (b.cumulative_count != h.sample_count or
                                                  not b.HasField("exemplar")):
                raise ValueError("an explicit +Inf bucket is the count and has an exemplar")
        if h.HasField("schema") or h.HasField("zero_threshold"):
            d["histogram"]["native"] = native(h)
    want = {pb.COUNTER: "counter", pb.GAUGE: "gauge", pb.HISTOGRAM: "histogram"}[fam.type]
    if [k for k in ("counter", "gauge", "histogram") if k in d] != [want]:
        raise ValueError("%s: metric of the wrong kind for %s" % (fam.name, want))
    return d


def decode(data):
    pb = schema()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    pos, fams = 0, []
    while pos < len(data):
        n, pos = varint(data, pos)
        raw = data[pos:pos + n]
        if len(raw) != n:
            raise ValueError("truncated message at %d" % pos)
        pos += n
        fam = pb.MetricFamily()
        fam.ParseFromString(raw)
        no_unknown(fam, fam.name)
        if fam.SerializeToString() != raw:
            raise ValueError("%s does not re-encode to the same bytes" % fam.name)
        fams.append({"name": fam.name, "help": fam.help,
                     "type": pb.MetricType.Name(fam.type),
                     "metrics": [metric_dict(pb, fam, m) for m in fam.metric]})
    return fams


def expand(fam):
    """A decoded family as OpenMetrics samples [name, labels, value] in the
    text order: counters with their _created (Unix seconds) when known,
    histograms as buckets (+Inf = sample_count, le a number), _sum, _count,
    _created."""
    name, out = fam["name"], []
    base = name[:-6] if fam["type"] == "COUNTER" and name.endswith("_total") else name
    for m in fam["metrics"]:
        lab = m["labels"]
        if "counter" in m:
            out.append((name, lab, m["counter"]["value"]))
            if m["counter"]["created"] is not None:
                out.append((base + "_created", lab, m["counter"]["created"]))
        elif "gauge" in m:
            out.append((name, lab, m["gauge"]))
        else:
            h = m["histogram"]
            for ub, cum in h["buckets"]:
                out.append((name + "_bucket", dict(lab, le=ub), float(cum)))
            out.append((name + "_bucket", dict(lab, le=float("inf")), float(h["count"])))
            out.append((name + "_sum", lab, h["sum"]))
            out.append((name + "_count", lab, float(h["count"])))
            if h["created"] is not None:
                out.append((name + "_created", lab, h["created"]))
    return out


def main():
    args = sys.argv[1:]
    samples = "--samples" in args
    args = [a for a in args if a != "--samples"]
    data = open(args[0], "rb").read() if args else sys.stdin.buffer.read()
    try:
        fams = decode(data)
    except Exception as e:  # noqa: BLE001 - any decoding failure is the answer
        print("decode.py: %s" % e, file=sys.stderr)
        return 1
    if samples:
        # le as a string JSON can carry: "+Inf" or the float's repr.
        out = [[n, dict(lab, le="+Inf" if lab["le"] == float("inf") else repr(lab["le"]))
                if "le" in lab else lab, v] for f in fams for n, lab, v in expand(f)]
        json.dump(out, sys.stdout)
    else:
        json.dump(fams, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
