#!/usr/bin/env python3
"""Integration: inputs other than files - standard input and syslog.

- standard input in follow mode: lines written to the pipe are counted as
  they come; at EOF the exporter keeps serving the counts (it stays up);
- standard input with --once (a last line without newline counts), and
  behind `tail -F` (a shell pipeline);
- util-linux `logger` over UDP, TCP (octet counting and newline framing)
  and a unix datagram socket, in RFC 3164 and RFC 5424: every line counted;
- invalid datagrams (no <PRI>, broken RFC 5424 header) counted in
  accesslog_syslog_messages_invalid_total and never logged one by one;
  oversized ones (over the line cap, UDP and TCP) in
  accesslog_log_lines_too_long_total; a broken octet count closes that TCP
  connection only; the tag filter counts other tags as filtered;
- the configuration: a bad address, "-" twice, a listener with --once,
  syslog_tag without a listener all exit 2 with a message; a YAML
  `listen:` entry works and --config.check accepts it.
All sockets on 127.0.0.1 or in a temp dir; every wait is bounded."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Exporter, binary, parse_exposition, value  # noqa: E402

LINE = '127.0.0.1 - - [03/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" %d 5 "-" "curl"'


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def lines(s, source="access"):
    return value(s, "accesslog_log_lines_total", source=source)


def code(s, c, source="access"):
    return value(s, "accesslog_http_responses_total", source=source, code=str(c))


def syslog(s, what, source="access"):
    name = "accesslog_syslog_messages_total" if what == "" else \
        "accesslog_syslog_messages_%s_total" % what
    return value(s, name, source=source)


def test_stdin_follow():
    e = Exporter(["-"], stdin=subprocess.PIPE)
    try:
        e.proc.stdin.write(("\n".join(LINE % 200 for _ in range(5)) + "\n").encode())
        e.proc.stdin.flush()
        s = e.wait_for(lambda s: code(s, 200) == 5)
        assert value(s, "accesslog_log_file_open", path="-") == 1, s
        # a partial line waits for its newline
        e.proc.stdin.write((LINE % 404).encode())
        e.proc.stdin.flush()
        time.sleep(0.3)
        assert code(e.scrape(), 404) == 0
        e.proc.stdin.write(b"\n" + (LINE % 500).encode() + b"\n")
        e.proc.stdin.flush()
        e.wait_for(lambda s: code(s, 404) == 1 and code(s, 500) == 1)
        e.proc.stdin.close()  # EOF: the exporter stays and keeps the counts
        e.wait_for(lambda s: True)
        deadline = time.time() + 5
        while "standard input ended" not in e.log():
            assert time.time() < deadline, e.log()
            time.sleep(0.05)
        time.sleep(0.3)
        assert e.proc.poll() is None, "the exporter exited at EOF"
        s = e.scrape()
        assert lines(s) == 7 and code(s, 200) == 5, s
        assert value(s, "accesslog_log_file_open", path="-") == 0, s
    finally:
        assert e.stop() == 0, e.log()


def test_stdin_once():
    data = "\n".join(LINE % 200 for _ in range(3)) + "\n" + LINE % 301  # no final newline
    p = subprocess.run([binary(), "--once", "-"], input=data.encode(), capture_output=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    s = parse_exposition(p.stdout.decode())
    assert code(s, 200) == 3 and code(s, 301) == 1 and lines(s) == 4, s


def test_stdin_behind_tail_f():
    tmp = tempfile.mkdtemp()
    try:
        log = os.path.join(tmp, "access.log")
        with open(log, "w") as f:
            f.write(LINE % 200 + "\n")
        tail = subprocess.Popen(["tail", "-n", "0", "-F", log], stdout=subprocess.PIPE)
        e = Exporter(["-"], stdin=tail.stdout)
        tail.stdout.close()
        try:
            time.sleep(0.3)
            with open(log, "a") as f:
                for _ in range(4):
                    f.write(LINE % 418 + "\n")
            e.wait_for(lambda s: code(s, 418) == 4)
            os.rename(log, log + ".1")  # rotation: tail -F follows the new file
            with open(log, "w") as f:
                f.write(LINE % 201 + "\n")
            e.wait_for(lambda s: code(s, 201) == 1, timeout=15)
            assert code(e.scrape(), 200) == 0  # before tail started
        finally:
            tail.terminate()
            tail.wait(timeout=10)
            assert e.stop() == 0, e.log()
    finally:
        shutil.rmtree(tmp)


def logger(*args):
    subprocess.run(["logger"] + list(args), check=True, timeout=10)


def test_logger_all_transports():
    tmp = tempfile.mkdtemp()
    try:
        udp, tcp = free_port(socket.SOCK_DGRAM), free_port()
        sock = os.path.join(tmp, "syslog.sock")
        e = Exporter(["udp://127.0.0.1:%d" % udp, "tcp://127.0.0.1:%d" % tcp,
                      "unixgram://" + sock])
        try:
            sent = 0
            for rfc in ("--rfc3164", "--rfc5424"):
                for i in range(3):
                    logger("-d", "-n", "127.0.0.1", "-P", str(udp), rfc, "-t", "nginx",
                           LINE % 200)
                    logger("-T", "-n", "127.0.0.1", "-P", str(tcp), rfc, "-t", "nginx",
                           "--octet-count", LINE % 201)
                    logger("-T", "-n", "127.0.0.1", "-P", str(tcp), rfc, "-t", "nginx",
                           LINE % 202)
                    logger("-u", sock, rfc, "-t", "web", "--id=42", LINE % 203)
                    sent += 4
            s = e.wait_for(lambda s: lines(s) == sent)
            for c in (200, 201, 202, 203):
                assert code(s, c) == 6, (c, s)
            assert value(s, "accesslog_log_parse_errors_total") == 0
            assert syslog(s, "") == sent and syslog(s, "invalid") == 0, s
            assert value(s, "accesslog_syslog_connections_total") == 12
            assert value(s, "accesslog_log_bytes_read_total") > sent * len(LINE)
            for spec in ("udp://127.0.0.1:%d" % udp, "tcp://127.0.0.1:%d" % tcp,
                         "unixgram://" + sock):
                assert value(s, "accesslog_log_file_open", path=spec) == 1, (spec, s)
            status, _, body = e.get("/")
            assert status == 200 and b"udp://127.0.0.1" in body, body[:2000]
        finally:
            assert e.stop() == 0, e.log()
        assert not os.path.exists(sock), "the unixgram socket file was left behind"
    finally:
        shutil.rmtree(tmp)


def test_invalid_oversized_and_tags():
    udp, tcp = free_port(socket.SOCK_DGRAM), free_port()
    cfg_dir = tempfile.mkdtemp()
    try:
        cfg = os.path.join(cfg_dir, "c.yml")
        with open(cfg, "w") as f:
            f.write("sources:\n"
                    "  - name: web\n"
                    "    format: combined\n"
                    "    listen: [udp://127.0.0.1:%d, tcp://127.0.0.1:%d]\n"
                    "    syslog_tag: nginx\n" % (udp, tcp))
        p = subprocess.run([binary(), "--config.file", cfg, "--config.check"],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        e = Exporter(["--config.file", cfg])
        try:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            good = ("<190>Dec  3 10:00:00 host nginx: " + LINE % 200).encode()
            other = ("<190>Dec  3 10:00:00 host other: " + LINE % 200).encode()
            bad = [b"no pri at all", b"<999>x", b"<13>1 2026-12-03T10:00:00Z host"]
            # the largest datagram is below the default line cap (64 KiB): a line
            big = b"<190>Dec  3 10:00:00 host nginx: " + b"x" * 65000
            for _ in range(50):
                for d in [good, other, big] + bad:
                    u.sendto(d, ("127.0.0.1", udp))
            # over TCP a message can be longer than the cap: skipped whole, both framings
            huge = b"<190>Dec  3 10:00:00 host nginx: " + b"x" * 70000
            t = socket.create_connection(("127.0.0.1", tcp), timeout=5)
            t.sendall(b"%d %s" % (len(good), good) + good + b"\n" + b"%d " % len(huge) + huge +
                      huge + b"\n" + good + b"\n")
            t.close()
            t = socket.create_connection(("127.0.0.1", tcp), timeout=5)
            t.sendall(good + b"\n12x " + good + b"\n")  # broken octet count: closed
            t.close()
            s = e.wait_for(lambda s: lines(s, "web") == 104 and
                           syslog(s, "", "web") == 50 * 6 + 7, timeout=15)
            assert syslog(s, "invalid", "web") == 150 + 1, s
            assert syslog(s, "filtered", "web") == 50, s
            assert value(s, "accesslog_log_lines_too_long_total", source="web") == 2, s
            assert value(s, "accesslog_log_parse_errors_total", source="web") == 50, s
            assert code(s, 200, "web") == 54
            log = e.log()
            assert "no pri" not in log and log.count("level=warn") <= 2, log
        finally:
            assert e.stop() == 0, e.log()
    finally:
        shutil.rmtree(cfg_dir)


def test_reload_keeps_listening():
    """Reloads that change a source with a UDP and a unixgram listener (a new
    label, back and forth): the new source shares the old one's sockets, so
    the reload succeeds (a unix socket path cannot be bound twice), datagrams
    after each reload are counted by the new source, the socket file stays
    while the exporter runs and is removed at exit; a TCP listener binds
    anew beside the old one (SO_REUSEPORT)."""
    udp, tcp = free_port(socket.SOCK_DGRAM), free_port()
    tmp = tempfile.mkdtemp()
    try:
        cfg = os.path.join(tmp, "c.yml")
        sock = os.path.join(tmp, "s.sock")
        def write(env):
            with open(cfg + ".tmp", "w") as f:
                f.write("sources:\n  - name: web\n    format: combined\n"
                        "    listen: [udp://127.0.0.1:%d, tcp://127.0.0.1:%d, unixgram://%s]\n"
                        "    labels: {env: %s}\n" % (udp, tcp, sock, env))
            os.rename(cfg + ".tmp", cfg)
        write("a")
        e = Exporter(["--config.file", cfg])
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        x = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        msg = ("<190>Dec  3 10:00:00 host nginx: " + LINE % 200).encode()
        def send(n):
            for _ in range(n):
                u.sendto(msg, ("127.0.0.1", udp))
                x.sendto(msg, sock)
            with socket.create_connection(("127.0.0.1", tcp), timeout=10) as t:
                t.sendall(msg + b"\n")
        try:
            send(3)
            e.wait_for(lambda s: value(s, "accesslog_log_lines_total", env="a") == 7)
            def envs(s):
                return {dict(ls).get("env") for (n, ls) in s if n == "accesslog_log_lines_total"}
            for env in ("b", "a", "b"):
                write(env)
                e.proc.send_signal(signal.SIGHUP)
                s = e.wait_for(lambda s: envs(s) == {env})
                assert value(s, "accesslog_config_last_reload_successful") == 1, e.log()
                assert value(s, "accesslog_log_lines_total") == 0, s
                assert os.path.exists(sock), "the socket file went with the old source"
                send(4)
                s = e.wait_for(lambda s: value(s, "accesslog_log_lines_total", env=env) == 9)
                assert value(s, "accesslog_syslog_messages_dropped_total") == 0, s
        finally:
            assert e.stop() == 0, e.log()
        assert not os.path.exists(sock), "the unixgram socket file was left behind"
    finally:
        shutil.rmtree(tmp)


def test_tcp_connection_cap():
    tcp = free_port()
    e = Exporter(["tcp://127.0.0.1:%d" % tcp])
    conns = []
    try:
        for _ in range(70):
            conns.append(socket.create_connection(("127.0.0.1", tcp), timeout=5))
        s = e.wait_for(lambda s: value(s, "accesslog_syslog_connections_total") +
                       value(s, "accesslog_syslog_connections_refused_total") == 70)
        assert value(s, "accesslog_syslog_connections_total") == 64, s
        # the kept ones still work
        conns[0].sendall(("<13>web: " + LINE % 200 + "\n").encode())
        e.wait_for(lambda s: code(s, 200) == 1)
    finally:
        for c in conns:
            c.close()
        assert e.stop() == 0, e.log()


def test_tcp_idle_timeout():
    """A TCP connection that sends nothing for --syslog.idle-timeout is closed
    (the sender sees the end) and counted; one that keeps sending is kept."""
    tcp = free_port()
    e = Exporter(["--syslog.idle-timeout", "1s", "tcp://127.0.0.1:%d" % tcp])
    try:
        quiet = socket.create_connection(("127.0.0.1", tcp), timeout=10)
        busy = socket.create_connection(("127.0.0.1", tcp), timeout=10)
        quiet.sendall(("<13>web: " + LINE % 200 + "\n").encode())
        for _ in range(8):  # 2 s of lines every 0.25 s
            busy.sendall(("<13>web: " + LINE % 201 + "\n").encode())
            time.sleep(0.25)
        assert quiet.recv(1) == b"", "the idle connection is still open"
        s = e.wait_for(lambda s: code(s, 201) == 8)
        assert value(s, "accesslog_syslog_connections_idle_closed_total") == 1, s
        assert code(s, 200) == 1 and value(s, "accesslog_syslog_connections_total") == 2
        busy.sendall(("<13>web: " + LINE % 201 + "\n").encode())
        e.wait_for(lambda s: code(s, 201) == 9)
        quiet.close()
        busy.close()
    finally:
        assert e.stop() == 0, e.log()


def test_bad_configs():
    tmp = tempfile.mkdtemp()
    try:
        cases = [
            (["upd://127.0.0.1:1"], "unknown input scheme"),
            (["udp://127.0.0.1"], "udp://127.0.0.1"),
            (["unixgram://relative"], "absolute"),
            (["-", "-"], "also an input"),
            (["--once", "udp://127.0.0.1:5514"], "a syslog listener has none"),
            (["--backfill", os.path.join(tmp, "out"), "-"], "standard input (-) is not one"),
            (["--syslog.tag", "nginx", "/tmp/x.log"], "syslog_tag needs"),
            (["--syslog.tag", "a b", "udp://127.0.0.1:5514"], "not a syslog tag"),
            (["--syslog.idle-timeout", "5m", "/tmp/x.log"], "syslog_idle_timeout needs"),
            (["--syslog.idle-timeout", "2d", "tcp://127.0.0.1:5514"], "longer than 24h"),
            (["--syslog.idle-timeout", "soon", "tcp://127.0.0.1:5514"], "not a duration"),
        ]
        for args, msg in cases:
            p = subprocess.run([binary(), "--config.check"] + args, capture_output=True,
                               timeout=30)
            assert p.returncode == 2 and msg in p.stderr.decode(), (args, p.stderr)
        cfg = os.path.join(tmp, "c.yml")
        with open(cfg, "w") as f:
            f.write("sources:\n  - name: a\n    format: combined\n"
                    "    listen:\n      - /var/log/x.log\n")
        p = subprocess.run([binary(), "--config.file", cfg, "--config.check"],
                           capture_output=True, timeout=30)
        err = p.stderr.decode()
        assert p.returncode == 2 and "c.yml:5" in err and "listen[0]" in err, err
        with open(cfg, "w") as f:
            f.write("sources:\n  - name: a\n    format: combined\n"
                    "    listen: [tcp://127.0.0.1:5514]\n    syslog_idle_timeout: 10 minutes\n")
        p = subprocess.run([binary(), "--config.file", cfg, "--config.check"],
                           capture_output=True, timeout=30)
        err = p.stderr.decode()
        assert p.returncode == 2 and "c.yml:5" in err and "not a duration" in err, err
        # an address in use, a path that is not a socket: exit at start-up, naming it
        busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        busy.bind(("127.0.0.1", 0))
        addr = "udp://127.0.0.1:%d" % busy.getsockname()[1]
        for spec, msg in ((addr, "Address already in use"), ("unixgram://" + tmp, "not a socket")):
            p = subprocess.run([binary(), "--web.listen-address", "127.0.0.1:0", spec],
                               capture_output=True, timeout=30)
            err = p.stderr.decode()
            assert p.returncode == 1 and spec in err and msg in err, err
        busy.close()
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            fn()
            print("ok", name)
