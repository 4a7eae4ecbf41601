#!/usr/bin/env python3
"""Integration: the HTTP surface of the real binary.  Landing page, health
endpoints, 404 for unknown paths, 405 (with Allow) for wrong methods, 400 for
malformed requests, /-/reload gated by --web.enable-lifecycle, IPv6 listen
addresses ([::1] and the v4-mapped [::ffff:127.0.0.1]) that start and serve,
the landing page HTML-escaping the telemetry path and the source list, the
web config's headers on every response (200, 401 with WWW-Authenticate,
404, 405 with Allow, 403, gzip with Vary), an empty web config meaning
plain HTTP, whole /metrics documents while the render buffer is reused
(two connections, documents in flight), keep-alive (every kind of answer, pipelining, 401 then 200 on
one connection, Connection: close honoured, idle connections closed after
the timeout, a trickled request body cut off), and the
connection timeout: slow clients trickling a request byte by byte do not stop
scrapes from another client, and are cut off once they stall for longer than
--web.connection-timeout."""
import gzip
import http.client
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, landing_sources  # noqa: E402
from test_tls_auth import bcrypt  # noqa: E402

TIMEOUT_S = 2


def raw(port, data, timeout=5.0):
    """Send raw bytes, return the whole response (server closes or timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        except socket.timeout:
            pass
        return b"".join(chunks)


def status_line(resp):
    return resp.split(b"\r\n", 1)[0].decode("latin-1")


def read_response(f, head=False):
    """One response from the buffered socket file f: (status, headers with
    lower-case names, body); the body is read by Content-Length."""
    line = f.readline()
    assert line.startswith(b"HTTP/1.1 "), line
    headers = {}
    while True:
        h = f.readline().decode("latin-1")
        if h in ("\r\n", ""):
            break
        k, v = h.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    assert "transfer-encoding" not in headers, headers
    n = 0 if head else int(headers["content-length"])
    body = f.read(n)
    assert len(body) == n, (n, len(body))
    return int(line.split()[1]), headers, body


def req(method, path, extra=b"", body=b""):
    head = b"%s %s HTTP/1.1\r\nHost: x\r\n" % (method.encode(), path.encode()) + extra
    if body:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


# (method, path, extra headers, body, status, check(headers, body)) for
# check_keepalive: every kind of answer, all on one connection.
KEEPALIVE_ROWS = (
    ("GET", "/metrics", b"", b"", 200, lambda h, b: b"accesslog_build_info" in b),
    ("HEAD", "/metrics", b"", b"", 200, lambda h, b: int(h["content-length"]) > 1000),
    ("GET", "/metrics", b"Accept-Encoding: gzip\r\n", b"", 200,
     lambda h, b: h.get("content-encoding") == "gzip" and
     b"accesslog_build_info" in gzip.decompress(b)),
    ("GET", "/nope", b"", b"", 404, lambda h, b: b"404" in b),
    ("DELETE", "/metrics", b"", b"", 405, lambda h, b: h.get("allow") == "GET, HEAD"),
    ("POST", "/-/reload", b"", b"reload=please", 403, lambda h, b: b"lifecycle" in b),
    ("PUT", "/-/healthy", b"", b"x" * 5000, 405, lambda h, b: h.get("allow") == "GET, HEAD"),
    ("GET", "/-/healthy", b"", b"", 200, lambda h, b: b == b"Healthy.\n"),
    ("GET", "/", b"", b"", 200, lambda h, b: b"<h1>accesslog_exporter</h1>" in b),
)


def check_keepalive(connect, auth=b""):
    """Many requests on one connection (connect() returns a connected socket,
    plain or TLS): each gets its answer, none is 'Connection: close';
    pipelined requests are answered in order; a client's 'Connection: close'
    is honoured.  auth: an Authorization header line for every request.
    Returns the number of answers read on the first connection."""
    s = connect()
    f = s.makefile("rb")
    n = 0
    try:
        for method, path, extra, body, want, ok in KEEPALIVE_ROWS * 2:
            s.sendall(req(method, path, auth + extra, body))
            status, headers, got = read_response(f, head=method == "HEAD")
            assert status == want, (method, path, status, got[:200])
            assert ok(headers, got), (method, path, headers, got[:200])
            assert headers.get("connection", "").lower() != "close", (method, path, headers)
            n += 1
        # Pipelined: three requests in one write, three answers in order.
        s.sendall(req("GET", "/-/ready", auth) + req("GET", "/nope", auth) +
                  req("HEAD", "/-/healthy", auth))
        for want, head in ((200, False), (404, False), (200, True)):
            status, headers, _ = read_response(f, head=head)
            assert status == want, (want, status)
            n += 1
        # The client asks to close: answered, then closed by the server.
        s.sendall(req("GET", "/-/ready", auth + b"Connection: close\r\n"))
        status, headers, _ = read_response(f)
        assert status == 200 and headers.get("connection", "").lower() == "close", headers
        assert f.read() == b"", "connection still open after Connection: close"
        n += 1
    finally:
        f.close()
        s.close()
    return n


def check_keepalive_idle(connect):
    """An idle kept-alive connection is closed once the request deadline
    (--web.connection-timeout) passes after the last answer."""
    s = connect()
    s.settimeout(TIMEOUT_S * 4)
    f = s.makefile("rb")
    try:
        s.sendall(req("GET", "/-/healthy"))
        assert read_response(f)[0] == 200
        t0 = time.time()
        try:
            rest = f.read()
        except (ConnectionResetError, OSError):
            rest = b""
        idle = time.time() - t0
    finally:
        f.close()
        s.close()
    assert rest == b"", rest[:80]
    assert TIMEOUT_S * 0.8 <= idle < TIMEOUT_S + 1.5, "idle connection closed after %.1f s" % idle
    return idle


def check_slow_body(port):
    """The request deadline covers the body too: a POST whose body trickles
    in byte by byte is cut off like a slow request head."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S * 4)
    t0 = time.time()
    closed = None
    try:
        s.sendall(b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        while time.time() - t0 < TIMEOUT_S + 3:
            try:
                s.sendall(b"x")
                s.setblocking(False)
                try:
                    if s.recv(65536) == b"":
                        closed = time.time() - t0
                        break
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
            except OSError:
                closed = time.time() - t0
                break
            time.sleep(0.3)
    finally:
        s.close()
    assert closed is not None, "slow body not cut off"
    assert TIMEOUT_S * 0.8 <= closed < TIMEOUT_S + 1.5, "slow body cut off after %.1f s" % closed
    return closed


def check_routes(exp, log):
    status, headers, body = exp.get("/")
    assert status == 200, status
    assert headers["Content-Type"].startswith("text/html"), headers
    html = body.decode()
    for want in ("accesslog_exporter", '<span id="version">0.', 'href="metrics"',
                 'href="-/healthy"', 'href="-/ready"'):
        assert want in html, (want, html)
    assert landing_sources(html) == {"web": ("combined", [(log, "open")])}, html

    assert exp.get("/-/healthy")[0] == 200
    assert exp.get("/-/ready")[0] == 200
    status, _, body = exp.get("/nope")
    assert status == 404 and b"404" in body, (status, body)
    assert exp.get("/metrics/extra")[0] == 404

    for path in ("/metrics", "/", "/-/healthy", "/-/ready"):
        for method in ("POST", "PUT", "DELETE"):
            status, headers, _ = exp.get(path, method=method)
            assert status == 405, (path, method, status)
            assert headers.get("Allow") == "GET, HEAD", headers

    status, headers, body = exp.get("/metrics", method="HEAD")
    assert status == 200 and body == b"", (status, body)

    # /-/reload: GET is the wrong method; POST without --web.enable-lifecycle is 403.
    status, headers, _ = exp.get("/-/reload")
    assert status == 405 and headers.get("Allow") == "POST", (status, headers)
    status, _, body = exp.get("/-/reload", method="POST")
    assert status == 403 and b"web.enable-lifecycle" in body, (status, body)


def check_malformed(port):
    # Not HTTP at all: the connection is closed (no response) or answered with 400.
    resp = raw(port, b"GARBAGE\r\n\r\n")
    assert resp == b"" or status_line(resp).startswith("HTTP/1.1 400"), resp[:80]
    for bad, want in ((b"GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n", "400"),
                      (b"GET /metrics HTTP/1.1\r\n\r\n", "400"),  # no Host
                      (b"GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n", "505")):
        code = status_line(raw(port, bad))
        assert code.startswith("HTTP/1.1 " + want), (bad, code)
    # A header block larger than the per-connection memory limit is refused.
    huge = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"
    try:
        resp = raw(port, huge)
        assert status_line(resp).split(" ")[1] in ("400", "413", "431"), status_line(resp)
    except (ConnectionResetError, BrokenPipeError):
        pass  # closed while we were still sending: also a refusal


def check_slowloris(exp):
    """Slow clients trickle a request head byte by byte, never idle for long:
    scrapes from another client still go through quickly, and every slow
    connection is cut off once its request head is overdue (the timeout
    counts from the connection's start, not from its last byte)."""
    slow = []
    t_open = time.time()
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", exp.port), timeout=10)
        s.sendall(b"GET /metrics HTTP/1.1\r\n")
        slow.append(s)
    closed_at = {}
    stop = threading.Event()

    def trickle():
        while not stop.is_set() and len(closed_at) < len(slow):
            for k, s in enumerate(slow):
                if k in closed_at:
                    continue
                try:
                    s.sendall(b"X")  # one byte of a header name every 0.3 s
                    s.setblocking(False)
                    try:
                        if s.recv(65536) == b"":
                            closed_at[k] = time.time()
                    except BlockingIOError:
                        pass
                    finally:
                        s.setblocking(True)
                except OSError:
                    closed_at[k] = time.time()
            stop.wait(0.3)

    t = threading.Thread(target=trickle)
    t.start()
    try:
        worst = 0.0
        n = 0
        deadline = time.time() + 3 * TIMEOUT_S
        while time.time() < deadline and len(closed_at) < len(slow):
            t0 = time.time()
            status, _, body = exp.get("/metrics")
            worst = max(worst, time.time() - t0)
            assert status == 200 and b"accesslog_" in body
            n += 1
        assert worst < 1.0, "a scrape took %.2f s while slow clients were connected" % worst
    finally:
        stop.set()
        t.join()
        for s in slow:
            s.close()
    assert len(closed_at) == len(slow), "only %d of %d trickling connections were cut off" % (
        len(closed_at), len(slow))
    latest = max(closed_at.values()) - t_open
    assert TIMEOUT_S * 0.9 <= latest < TIMEOUT_S + 1.5, "cut off after %.1f s" % latest
    # A stalled connection (no bytes at all) is closed too.
    s = socket.create_connection(("127.0.0.1", exp.port), timeout=TIMEOUT_S * 4)
    s.sendall(b"GET /metri")
    t0 = time.time()
    try:
        data = s.recv(65536)
        assert data == b"" or data.startswith(b"HTTP/1.1 4"), data[:80]
    except ConnectionResetError:
        pass
    stalled = time.time() - t0
    s.close()
    assert stalled < TIMEOUT_S + 1.5, "stalled connection closed after %.1f s" % stalled
    return n, worst, latest


def request(host, port, path="/metrics", method="GET", headers=None):
    """One request to host (an IPv4 or IPv6 literal); (status, headers, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def refused(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.settimeout(5)
        try:
            s.connect((host, port))
        except ConnectionRefusedError:
            return True
    return False


def check_listen_ipv6(log):
    """[v6]:port listens on exactly that address; a v4-mapped address serves
    IPv4 clients (it needs a dual-stack socket)."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError as e:
        print("# skipping the IPv6 listen checks: no IPv6 loopback here (%s)" % e)
        return 0
    n = 0
    for addr, host, other in (("[::1]:0", "::1", "127.0.0.1"),
                              ("[::ffff:127.0.0.1]:0", "127.0.0.1", "::1")):
        exp = Exporter(["--web.listen-address", addr, log])
        try:
            status, headers, body = request(host, exp.port)
            assert status == 200 and b"accesslog_build_info" in body, (addr, status, body[:200])
            assert headers["Content-Type"].startswith("text/plain"), headers
            assert request(host, exp.port, "/-/healthy")[0] == 200
            assert refused(other, exp.port), "%s also answers on %s" % (addr, other)
            assert exp.stop() == 0, exp.log()
            n += 1
        finally:
            exp.stop()
    return n


def check_landing_escaping(tmp):
    """Every text on the landing page is HTML-escaped: the telemetry path in
    the href attribute, and source names and paths in the list."""
    odd_log = os.path.join(tmp, "a&b<c>'d\"e.log")
    open(odd_log, "w").close()
    path = "/m\"x<y>&z'"
    with Exporter(["--source", "s<b>&'\"", "--web.telemetry-path", path, odd_log]) as exp:
        status, headers, body = exp.get("/")
        assert status == 200, status
        html = body.decode()
        href = 'href="m&quot;x&lt;y&gt;&amp;z&#39;"'  # relative to "/"
        assert href in html, html
        listed = '<td rowspan="1" class="source">s&lt;b&gt;&amp;&#39;&quot;</td>'
        assert listed in html, (listed, html)
        escaped = (odd_log.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                   .replace('"', "&quot;").replace("'", "&#39;"))
        assert '<td class="path">%s</td>' % escaped in html, (escaped, html)
        assert landing_sources(html) == {"s<b>&'\"": ("combined", [(odd_log, "open")])}, html
        # Outside tags, no raw special character is left; every & starts an entity.
        text = re.sub(r"<[^<>]*>", "", html.split("<body>", 1)[1])
        assert not re.search(r"[<>\"']|&(?!(amp|lt|gt|quot|#39);)", text), text
        # The path still serves the metrics (percent-encoded on the wire).
        status, _, body = request("127.0.0.1", exp.port, "/m%22x%3Cy%3E%26z%27")
        assert status == 200 and b"accesslog_build_info" in body, (status, body[:200])


def check_config_headers(tmp, log):
    """The web config's headers go on every kind of response, next to the
    headers each status needs."""
    web = os.path.join(tmp, "web.yml")
    with open(web, "w") as f:
        f.write("basic_auth_users:\n  alice: '%s'\n"
                "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                % bcrypt("pw", 4))
    exp = Exporter(["--web.config.file", web, log])
    auth = {"Authorization": "Basic YWxpY2U6cHc="}  # alice:pw
    rows = (
        # (path, method, headers, status, {header: value})
        ("/metrics", "GET", {}, 401,
         {"WWW-Authenticate": 'Basic realm="accesslog_exporter"',
          "Content-Type": "text/plain; charset=utf-8"}),
        ("/metrics", "GET", auth, 200, {"Vary": "Accept, Accept-Encoding"}),
        ("/metrics", "GET", dict(auth, **{"Accept-Encoding": "gzip"}), 200,
         {"Content-Encoding": "gzip", "Vary": "Accept, Accept-Encoding"}),
        ("/", "GET", auth, 200, {"Content-Type": "text/html; charset=utf-8"}),
        ("/-/healthy", "GET", auth, 200, {"Content-Type": "text/plain; charset=utf-8"}),
        ("/nope", "GET", auth, 404, {"Content-Type": "text/plain; charset=utf-8"}),
        ("/metrics", "POST", auth, 405, {"Allow": "GET, HEAD"}),
        ("/-/reload", "GET", auth, 405, {"Allow": "POST"}),
        ("/-/reload", "POST", auth, 403, {}),
    )
    try:
        for path, method, hdrs, want, want_headers in rows:
            status, headers, body = request("127.0.0.1", exp.port, path, method, hdrs)
            assert status == want, (path, method, status, body)
            assert headers.get("X-Frame-Options") == "deny", (path, method, headers)
            for k, v in want_headers.items():
                assert headers.get(k) == v, (path, method, k, headers)
            if "Allow" not in want_headers:
                assert "Allow" not in headers, (path, method, headers)
            if headers.get("Content-Encoding") == "gzip":
                assert b"accesslog_build_info" in gzip.decompress(body)
        # 401 and 200 on one kept-alive connection.
        with socket.create_connection(("127.0.0.1", exp.port), timeout=10) as s:
            f = s.makefile("rb")
            for hdr, want in ((b"", 401), (b"Authorization: Basic YWxpY2U6d3Jvbmc=\r\n", 401),
                              (b"Authorization: Basic YWxpY2U6cHc=\r\n", 200), (b"", 401)):
                s.sendall(req("GET", "/metrics", hdr))
                status, headers, _ = read_response(f)
                assert status == want and headers.get("x-frame-options") == "deny", (
                    hdr, status, headers)
                assert headers.get("connection", "").lower() != "close", headers
            f.close()
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
    return len(rows)


def check_empty_web_config(tmp, log):
    """An empty or comment-only web config means plain HTTP without auth
    (as in exporter-toolkit), also for --config.check."""
    for text in ("", "# tls_server_config:\n#   cert_file: x.crt\n"):
        web = os.path.join(tmp, "empty-web.yml")
        with open(web, "w") as f:
            f.write(text)
        exp = Exporter(["--web.config.file", web, log])
        try:
            status, _, body = exp.get("/metrics")
            assert status == 200 and b"accesslog_build_info" in body, (text, status)
            assert exp.stop() == 0, exp.log()
            warnings = [l for l in exp.log().splitlines()
                        if "level=warn" in l and "running as root" not in l]
            assert not warnings, exp.log()  # nothing about the web config
        finally:
            exp.stop()


def check_reused_documents(exp, log):
    """/metrics renders into the previous scrape's buffer when it is spare:
    on one connection and on two at once, text, OpenMetrics, gzip and HEAD
    in turn, every body is whole and the counters are the log's."""
    def responses(samples):
        return sum(v for (n, l), v in samples.items() if n == "accesslog_http_responses_total")
    want = responses(exp.scrape()) + 300
    with open(log, "a") as f:
        for i in range(300):
            f.write('192.0.2.%d - - [03/Dec/2026:10:00:00 +0000] "GET /r/%d HTTP/1.1" %d 5 '
                    '"-" "t"\n' % (i % 200, i, 200 + i % 7))
    exp.wait_for(lambda s: responses(s) == want)
    variants = [({}, False), ({"Accept": "application/openmetrics-text; version=1.0.0"}, False),
                ({"Accept-Encoding": "gzip"}, False), ({}, True)]
    conns = [http.client.HTTPConnection("127.0.0.1", exp.port, timeout=10) for _ in range(2)]
    n = 0
    for i in range(24):
        hdrs, head = variants[i % len(variants)]
        # both connections ask before either answer is read: two documents in flight
        for c in conns:
            c.request("HEAD" if head else "GET", "/metrics", headers=hdrs)
        for c in conns:
            r = c.getresponse()
            body = r.read()
            assert r.status == 200
            if head:
                assert body == b""
                continue
            if r.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            text = body.decode()
            total = sum(int(float(m)) for m in re.findall(
                r'^accesslog_http_responses_total\{[^}]*\} (\S+)$', text, re.M))
            assert total == want, (i, total, want)
            if "openmetrics" in str(hdrs):
                assert text.endswith("# EOF\n"), text[-200:]
            else:
                assert text.endswith("\n") and "# EOF" not in text
            n += 1
    for c in conns:
        c.close()
    return n


def main():
    tmp = tempfile.mkdtemp()
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()
    exp = Exporter(["--source", "web", "--web.connection-timeout", str(TIMEOUT_S), log])
    try:
        check_routes(exp, log)
        n_docs = check_reused_documents(exp, log)
        check_malformed(exp.port)
        n_ka = check_keepalive(lambda: socket.create_connection(("127.0.0.1", exp.port),
                                                                 timeout=10))
        idle = check_keepalive_idle(lambda: socket.create_connection(("127.0.0.1", exp.port)))
        slow_body = check_slow_body(exp.port)
        n, worst, latest = check_slowloris(exp)
        # The exporter is still healthy afterwards.
        assert exp.get("/-/healthy")[0] == 200
        assert exp.stop() == 0, exp.log()
        n_v6 = check_listen_ipv6(log)
        check_landing_escaping(tmp)
        n_hdr = check_config_headers(tmp, log)
        check_empty_web_config(tmp, log)
    finally:
        exp.stop()
        shutil.rmtree(tmp)
    print("ok - %d IPv6 listen addresses served; landing page escaped; web config headers on "
          "%d kinds of response" % (n_v6, n_hdr))
    print("ok - %d scrapes during slowloris, slowest %.3f s; slow clients cut off after %.1f s"
          % (n, worst, latest))
    print("ok - %d answers on one kept-alive connection; idle connection closed after %.1f s; "
          "slow request body cut off after %.1f s" % (n_ka, idle, slow_body))
    print("ok - empty and comment-only web config: plain HTTP, no auth")
    print("ok - %d whole /metrics documents on two connections with documents in flight "
          "(buffer reuse)" % n_docs)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
