#!/usr/bin/env python3
"""Integration: container logs (CRI and Docker json-file) with the real binary,
counts exact.

- CRI files the way containerd and kubelet lay them out: a glob over
  /var/log/containers-style symlinks (ingress-nginx-controller-*_ingress-nginx_*.log)
  to pods/<pod>/<container>/0.log, lines split in P/F pieces, stderr lines
  (valid access lines: counted only if the filter failed), a symlink of
  another pod the glob does not match, kubelet-style rotation (0.log renamed
  to 0.log.<timestamp>, a new 0.log, then the old one gzipped), a new pod
  appearing, and wrapper lines that are not CRI (parse errors);
- Docker json-file: quotes and unicode escapes, lines split in 16 KiB-style
  pieces, stderr lines, followed live;
- --once with --container auto over the pods' history: plain rotated files,
  .gz rotations and the live files, CRI and Docker side by side; stderr
  counted with --container.stream all; CRI lines on standard input;
- the YAML keys container / container_stream, and bad values refused
  (exit 2, file and key named); --backfill unwraps too; the configuration
  inside the DaemonSet
  example (packaging/kubernetes/daemonset.yaml) passes --config.check."""
import gzip
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from tailkit import CODES, assert_exact, line, start, run_cases  # noqa: E402
from harness import binary, parse_exposition, value  # noqa: E402

TS = "2026-12-03T10:00:%02d.123456789Z"


def cri(text, stream="stdout", pieces=1):
    """One access-log line as containerd writes it, in pieces P...P F."""
    text = text.rstrip("\n")
    step = max(1, -(-len(text) // pieces))
    parts = [text[i:i + step] for i in range(0, len(text), step)] or [""]
    out = []
    for i, p in enumerate(parts):
        tag = "F" if i == len(parts) - 1 else "P"
        out.append("%s %s %s %s\n" % (TS % (i % 60), stream, tag, p))
    return "".join(out)


def docker(text, stream="stdout", pieces=1):
    """One line as Docker's json-file driver writes it; only the last piece
    of a split line ends in \\n."""
    step = max(1, -(-len(text) // pieces))
    parts = [text[i:i + step] for i in range(0, len(text), step)]
    return "".join(json.dumps({"log": p, "stream": stream, "time": "2026-12-03T10:00:00Z"},
                              separators=(",", ":")) + "\n" for p in parts)


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


def write_cri(path, first, n, stderr_every=5):
    """Lines first..first+n-1 of stdout (every third one in pieces) with a
    stderr access line after every stderr_every-th."""
    buf = []
    for i in range(first, first + n):
        buf.append(cri(line(i), pieces=1 + (i % 3 == 0) * 3))
        if i % stderr_every == 0:
            buf.append(cri(line(i), stream="stderr", pieces=1 + i % 2))
    append(path, "".join(buf))


def pod(tmp, name):
    """pods/<name>/controller/0.log and its containers/ symlink."""
    d = os.path.join(tmp, "pods", name, "controller")
    os.makedirs(d, exist_ok=True)
    log = os.path.join(d, "0.log")
    open(log, "a").close()
    link = os.path.join(tmp, "containers", "%s_ingress-nginx_controller-%s.log" % (name, "f00d"))
    os.symlink(log, link)
    return log


def cri_kubelet(tmp):
    os.makedirs(os.path.join(tmp, "containers"))
    log = pod(tmp, "ingress-nginx-controller-abc12")
    other = os.path.join(tmp, "pods", "web", "0.log")
    os.makedirs(os.path.dirname(other))
    write_cri(other, 0, 7)
    os.symlink(other, os.path.join(tmp, "containers", "web-1_default_nginx-beef.log"))
    glob = os.path.join(tmp, "containers", "ingress-nginx-controller-*_ingress-nginx_*.log")
    with start(["--container", "cri", glob]) as exp:
        n = 0
        write_cri(log, n, 40)
        n += 40
        assert_exact(exp, n)
        # kubelet rotation: rename to 0.log.<timestamp>, new 0.log, gzip later
        rotated = log + ".20261203-100000"
        os.rename(log, rotated)
        append(rotated, cri(line(n)))          # containerd writes on until it reopens
        n += 1
        open(log, "w").close()
        write_cri(log, n, 30)
        n += 30
        assert_exact(exp, n)
        with open(rotated, "rb") as f, gzip.open(rotated + ".gz", "wb") as g:
            g.write(f.read())
        os.unlink(rotated)
        write_cri(log, n, 10)
        n += 10
        s = assert_exact(exp, n)
        assert value(s, "accesslog_log_rotations_total", source="t") >= 1, exp.log()
        # a second controller pod appears: found from the directory's events
        log2 = pod(tmp, "ingress-nginx-controller-xyz98")
        write_cri(log2, n, 20)
        n += 20
        assert_exact(exp, n, timeout=4.0)
        # lines that are not CRI: parse errors, nothing else
        append(log, "not a cri line\n2026-12-03T10:00:00Z stdin F x\n")
        s = exp.wait_for(lambda s: value(s, "accesslog_log_parse_errors_total", source="t") == 2)
        assert value(s, "accesslog_http_responses_total", source="t") == n
    print("ok CRI: pieces, stderr filtered, kubelet rotation and gzip, new pod, bad wrappers")


def docker_follow(tmp):
    d = os.path.join(tmp, "c0ffee")
    os.makedirs(d)
    log = os.path.join(d, "c0ffee-json.log")
    open(log, "w").close()
    with start(["--container", "docker", os.path.join(tmp, "*", "*-json.log")]) as exp:
        buf = []
        for i in range(60):
            text = line(i)
            if i % 4 == 0:   # a user agent with unicode and a backslash
                text = text.replace('"writer/1"', '"w\u00e9t\u20ac\U0001F600 \\x22"')
            buf.append(docker(text, pieces=1 + (i % 5 == 0) * 2))
            if i % 6 == 0:
                buf.append(docker(line(i), stream="stderr"))
        append(log, "".join(buf))
        s = assert_exact(exp, 60)
        assert value(s, "accesslog_log_lines_too_long_total", source="t") == 0
    print("ok Docker json-file: escapes, pieces, stderr filtered")


def once_history(tmp):
    """--once --container auto over every pod's files: plain, .gz, CRI, Docker."""
    n = 0
    pods = os.path.join(tmp, "pods")
    a = os.path.join(pods, "a", "controller")
    b = os.path.join(pods, "b", "controller")
    os.makedirs(a)
    os.makedirs(b)
    stderr_lines = 0
    # pod a (CRI): two gzipped rotations, one plain rotation, the live file
    for k, name in enumerate(("0.log.20261201-000000.gz", "0.log.20261202-000000.gz")):
        text = "".join(cri(line(n + i)) for i in range(25)) + cri(line(0), "stderr")
        stderr_lines += 1
        n += 25
        with gzip.open(os.path.join(a, name), "wt") as g:
            g.write(text)
    write_cri(os.path.join(a, "0.log.20261203-000000"), n, 30, stderr_every=10)
    stderr_lines += 3
    n += 30
    write_cri(os.path.join(a, "0.log"), n, 15, stderr_every=100)  # i % 100 == 0: none
    n += 15
    # pod b (Docker): a gzipped rotation and the live file
    with gzip.open(os.path.join(b, "0.log.20261202-000000.gz"), "wt") as g:
        g.write("".join(docker(line(n + i), pieces=2) for i in range(12)))
    n += 12
    append(os.path.join(b, "0.log"),
           "".join(docker(line(n + i)) for i in range(8)) + docker(line(0), "stderr"))
    stderr_lines += 1
    n += 8
    glob = os.path.join(pods, "*", "controller", "0.log*")
    for stream, want in (("stdout", n), ("all", n + stderr_lines)):
        p = subprocess.run([binary(), "--once", "--source", "t", "--container", "auto",
                            "--container.stream", stream, glob],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        s = parse_exposition(p.stdout.decode())
        assert value(s, "accesslog_log_lines_total", source="t") == want, (stream, p.stderr)
        assert value(s, "accesslog_log_parse_errors_total", source="t") == 0, p.stderr
        assert value(s, "accesslog_http_responses_total", source="t") == want
    # a literal .gz path reads through zlib too
    p = subprocess.run([binary(), "--once", "--source", "t", "--container", "cri",
                        os.path.join(a, "0.log.20261201-000000.gz")],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    s = parse_exposition(p.stdout.decode())
    assert value(s, "accesslog_log_lines_total", source="t") == 25, p.stderr
    # standard input (tail -F 0.log | accesslog_exporter --container cri -)
    text = "".join(cri(line(i), pieces=1 + i % 2) + cri(line(i), "stderr") for i in range(9))
    p = subprocess.run([binary(), "--once", "--source", "t", "--container", "cri", "-"],
                       input=text.encode(), capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    s = parse_exposition(p.stdout.decode())
    assert value(s, "accesslog_log_lines_total", source="t") == 9, p.stderr
    assert value(s, "accesslog_http_responses_total", source="t") == 9, p.stderr
    print("ok --once --container auto: CRI and Docker history, gzip and plain, stdout/all; "
          "CRI on standard input")


def yaml_config(tmp):
    log = os.path.join(tmp, "0.log")
    append(log, "".join(cri(line(i)) + cri(line(i), "stderr") for i in range(10)))
    cfg = os.path.join(tmp, "c.yml")
    with open(cfg, "w") as f:
        f.write("sources:\n  - name: t\n    format: combined\n    paths: [%s]\n"
                "    container: cri\n    container_stream: all\n" % log)
    p = subprocess.run([binary(), "--once", "--config.file", cfg], capture_output=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    s = parse_exposition(p.stdout.decode())
    assert value(s, "accesslog_log_lines_total", source="t") == 20, p.stderr
    for i, code in enumerate(CODES):
        assert value(s, "accesslog_http_responses_total", source="t", code=code) == \
            2 * len(range(i, 10, len(CODES)))
    p = subprocess.run([binary(), "--config.check", "--config.file", cfg], capture_output=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    # --backfill unwraps as the daemon does (stdout only by default)
    p = subprocess.run([binary(), "--backfill", "-", "--source", "t", "--container", "cri", log],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    last = [l for l in p.stdout.decode().splitlines()
            if l.startswith('accesslog_log_lines_total{source="t"}')][-1]
    assert last.split()[1] == "10", last
    bad = [("    container: podman\n", "sources[0].container", "podman"),
           ("    container_stream: stdin\n", "sources[0].container_stream", "stdin"),
           ("    container_stream: stderr\n", "sources[0].container_stream", "needs container")]
    for text, key, what in bad:
        with open(cfg, "w") as f:
            f.write("sources:\n  - name: t\n    format: combined\n    paths: [%s]\n%s"
                    % (log, text))
        p = subprocess.run([binary(), "--config.check", "--config.file", cfg],
                           capture_output=True, timeout=30)
        err = p.stderr.decode()
        assert p.returncode == 2, err
        assert cfg + ":5" in err and key in err and what in err, err
    for args, what in ((["--container", "podman", log], "--container"),
                       (["--container.stream", "all", log], "needs --container")):
        p = subprocess.run([binary(), "--once"] + args, capture_output=True, timeout=30)
        assert p.returncode == 2 and what in p.stderr.decode(), p.stderr
    # the DaemonSet example's configuration (packaging/kubernetes) is valid
    ds = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "kubernetes",
                      "daemonset.yaml")
    text = open(ds).read().split("config.yml: |\n", 1)[1].split("---", 1)[0]
    with open(cfg, "w") as f:
        f.write("".join(l[4:] + "\n" for l in text.splitlines()))
    p = subprocess.run([binary(), "--config.check", "--config.file", cfg], capture_output=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    print("ok YAML container keys; bad values refused with file, line and key; "
          "the DaemonSet example's config checks")


def main():
    cases = (cri_kubelet, docker_follow, once_history, yaml_config)
    run_cases(cases, 100)


if __name__ == "__main__":
    main()
