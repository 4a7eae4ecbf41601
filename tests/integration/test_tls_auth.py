#!/usr/bin/env python3
"""Integration: --web.config.file with a real client (curl).  Certificates
are made at run time with openssl (a throw-away CA, a server certificate for
127.0.0.1, a client certificate from that CA and one from another CA);
bcrypt hashes come from htpasswd -B (apache2-utils) or Python's crypt.

Checks: HTTPS with the right CA and password works; wrong or missing
password is 401 with WWW-Authenticate; TLS 1.1 is refused (and TLS 1.2 with
min_version TLS13); plain HTTP on the TLS port gets no metrics; configured
headers are sent; RequireAndVerifyClientCert drops clients without a
certificate or with one from another CA; the bcrypt cache makes repeated
scrapes cheap; inline cert/key and the exporter-toolkit keys we ignore
(one warning each) work; many requests on one kept-alive TLS connection;
--config.check reports a bad key."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from harness import Exporter, binary  # noqa: E402


def sh(*args, cwd):
    subprocess.run(list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(d):
    def ca(name):
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
           "-out", name + ".crt", "-days", "2", "-subj", "/CN=" + name, cwd=d)

    def leaf(name, ca_name, ext=None):
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
           name + ".csr", "-subj", "/CN=" + name, cwd=d)
        args = ["openssl", "x509", "-req", "-in", name + ".csr", "-CA", ca_name + ".crt",
                "-CAkey", ca_name + ".key", "-CAcreateserial", "-out", name + ".crt",
                "-days", "2"]
        if ext:
            with open(os.path.join(d, name + ".ext"), "w") as f:
                f.write(ext)
            args += ["-extfile", name + ".ext"]
        sh(*args, cwd=d)

    ca("ca")
    ca("otherca")
    leaf("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    leaf("client", "ca")
    leaf("intruder", "otherca")


def bcrypt(password, cost):
    htpasswd = shutil.which("htpasswd")
    if htpasswd:
        out = subprocess.run([htpasswd, "-nbBC", str(cost), "u", password], check=True,
                             capture_output=True).stdout.decode()
        return out.strip().split(":", 1)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import crypt
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2 ** cost))


def curl(port, d, *extra, path="/metrics"):
    """Return (exit code, http status or 0, headers text)."""
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-D", "-", "-w", "%{http_code}",
                        "--max-time", "10", "--cacert", os.path.join(d, "ca.crt")] +
                       list(extra) + ["https://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, timeout=30)
    out = p.stdout.decode("latin-1")
    code = int(out[-3:]) if out[-3:].isdigit() else 0
    return p.returncode, code, out


def start(d, web, log):
    path = os.path.join(d, "web.yml")
    with open(path, "w") as f:
        f.write(web)
    exp = Exporter(["--web.config.file", path, log])
    return exp


def check_tls_and_auth(d, log):
    hash_ = bcrypt("s3cret", 12)  # cost 12: ~0.2-0.3 s per bcrypt run
    with start(d, """
tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  alice: '%s'
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
""" % hash_, log) as exp:
        rc, code, head = curl(exp.port, d, "-u", "alice:s3cret")
        assert rc == 0 and code == 200, (rc, code, head)
        assert "X-Content-Type-Options: nosniff" in head, head
        rc, code, head = curl(exp.port, d, "-u", "alice:s3cret", path="/")
        assert code == 200 and "X-Content-Type-Options: nosniff" in head, head
        for creds in (["-u", "alice:wrong"], ["-u", "bob:s3cret"], []):
            rc, code, head = curl(exp.port, d, *creds)
            assert code == 401, (creds, code, head)
            assert 'WWW-Authenticate: Basic realm="accesslog_exporter"' in head, head
        # After a success, a wrong password for the same user still fails (the cache
        # is keyed on the password too).
        rc, code, _ = curl(exp.port, d, "-u", "alice:s3cre")
        assert code == 401, code
        # Cached: many scrapes with the right password cost far less than a bcrypt
        # run each (cost 12 is ~0.25 s per run on this class of machine).
        t0 = time.time()
        for _ in range(10):
            rc, code, _ = curl(exp.port, d, "-u", "alice:s3cret")
            assert code == 200
        cached = time.time() - t0
        t0 = time.time()
        for _ in range(3):
            rc, code, _ = curl(exp.port, d, "-u", "alice:wrong-%d" % _)
            assert code == 401
        uncached = (time.time() - t0) / 3
        assert cached / 10 < uncached, (cached, uncached)
        # TLS 1.1 and older are refused; TLS 1.2 and 1.3 work.
        rc, code, _ = curl(exp.port, d, "-u", "alice:s3cret", "--tls-max", "1.1")
        assert rc != 0 and code == 0, (rc, code)
        for v in (["--tlsv1.2", "--tls-max", "1.2"], ["--tlsv1.3"]):
            rc, code, _ = curl(exp.port, d, "-u", "alice:s3cret", *v)
            assert rc == 0 and code == 200, (v, rc, code)
        # Without our CA the client refuses the server; plain HTTP gets no metrics.
        p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "5",
                            "https://127.0.0.1:%d/metrics" % exp.port], capture_output=True)
        assert p.returncode != 0
        p = subprocess.run(["curl", "-s", "--max-time", "5", "-u", "alice:s3cret",
                            "http://127.0.0.1:%d/metrics" % exp.port], capture_output=True)
        assert b"accesslog_" not in p.stdout
    return cached / 10, uncached


def check_client_certs(d, log):
    with start(d, """
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS13
""", log) as exp:
        ok = ["--cert", os.path.join(d, "client.crt"), "--key", os.path.join(d, "client.key")]
        rc, code, _ = curl(exp.port, d, *ok)
        assert rc == 0 and code == 200, (rc, code)
        rc, code, _ = curl(exp.port, d)  # no client certificate
        assert code != 200, (rc, code)
        bad = ["--cert", os.path.join(d, "intruder.crt"), "--key",
               os.path.join(d, "intruder.key")]
        rc, code, _ = curl(exp.port, d, *bad)  # certificate from another CA
        assert code != 200, (rc, code)
        rc, code, _ = curl(exp.port, d, *ok, "--tls-max", "1.2")  # below min_version
        assert rc != 0 and code == 0, (rc, code)


def indented(path, spaces):
    with open(path) as f:
        return "".join(" " * spaces + line for line in f)


def check_keepalive_tls(d, log):
    """exporter-toolkit compatibility and keep-alive over TLS: inline cert and
    key, the Go-only tuning keys (accepted, one warning each at start-up),
    then many requests, pipelining and 401/200 on one TLS connection."""
    import socket
    import ssl
    from test_http import check_keepalive, read_response, req
    exp = start(d, """
tls_server_config:
  cert: |
%s  key: |
%s  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519]
basic_auth_users:
  alice: '%s'
http_server_config:
  http2: true
rate_limit:
  interval: 1s
  burst: 10
""" % (indented(os.path.join(d, "server.crt"), 4), indented(os.path.join(d, "server.key"), 4),
       bcrypt("pw", 4)), log)
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
    ctx.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)

    def connect():
        s = socket.create_connection(("127.0.0.1", exp.port), timeout=10)
        return ctx.wrap_socket(s, server_hostname="127.0.0.1")

    try:
        ignored = ("tls_server_config.cipher_suites",
                   "tls_server_config.prefer_server_cipher_suites",
                   "tls_server_config.curve_preferences", "http_server_config.http2",
                   "rate_limit")
        text = exp.log()
        for key in ignored:
            assert text.count("key=" + key + "\n") == 1, (key, text)
        auth = b"Authorization: Basic YWxpY2U6cHc=\r\n"  # alice:pw
        n = check_keepalive(connect, auth)
        with connect() as s:
            f = s.makefile("rb")
            for hdr, want in ((b"", 401), (auth, 200), (b"", 401), (auth, 200)):
                s.sendall(req("GET", "/metrics", hdr))
                status, headers, _ = read_response(f)
                assert status == want, (hdr, status)
                assert headers.get("connection", "").lower() != "close", headers
            f.close()
        assert exp.stop() == 0, exp.log()
    finally:
        exp.stop()
    return n


def check_config_errors(d, log):
    with open(os.path.join(d, "garbage.key"), "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    path = os.path.join(d, "badkey.yml")
    with open(path, "w") as f:
        f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: garbage.key\n")
    p = subprocess.run([binary(), "--web.config.file", path, "--config.check", log],
                       capture_output=True, timeout=30)
    assert p.returncode == 2 and b"cert_file/key_file" in p.stderr, p.stderr
    # The same file at start-up: exit 2, nothing served.
    p = subprocess.run([binary(), "--web.config.file", path, "--web.listen-address",
                        "127.0.0.1:0", log], capture_output=True, timeout=30)
    assert p.returncode == 2, (p.returncode, p.stderr)
    path = os.path.join(d, "good.yml")
    with open(path, "w") as f:
        f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
    p = subprocess.run([binary(), "--web.config.file", path, "--config.check", log],
                       capture_output=True, timeout=30)
    assert p.returncode == 0 and b"configuration OK" in p.stdout, p


def main():
    for tool in ("openssl", "curl"):
        assert shutil.which(tool), tool + " not installed (scripts/deps installs it)"
    d = tempfile.mkdtemp()
    try:
        make_certs(d)
        log = os.path.join(d, "access.log")
        open(log, "w").close()
        per_cached, per_uncached = check_tls_and_auth(d, log)
        check_client_certs(d, log)
        n_ka = check_keepalive_tls(d, log)
        check_config_errors(d, log)
    finally:
        shutil.rmtree(d)
    print("ok - cached auth %.3f s/scrape, bcrypt-checked %.3f s/scrape" %
          (per_cached, per_uncached))
    print("ok - %d answers on one kept-alive TLS connection; toolkit-only keys warned about"
          % n_ka)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
