"""Shared helpers for the integration tests: start the real binary on a
loopback port, scrape it, parse the text exposition.  Standard library only."""
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
import urllib.error
from html.parser import HTMLParser

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def binary():
    return os.environ.get("ACCESSLOG_EXPORTER", os.path.join(
        os.path.dirname(__file__), "..", "..", "build", "accesslog_exporter"))


def parse_exposition(text):
    """Return {(name, frozenset(labels.items())): float} and fail on duplicates."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, "unparsable exposition line: %r" % line
        labels = dict(LABEL_RE.findall(m.group(3) or ""))
        key = (m.group(1), frozenset(labels.items()))
        assert key not in out, "duplicate series: %r" % line
        out[key] = float(m.group(4))
    return out


def as_user(uid):
    """preexec_fn that runs a child as uid (for permission tests run as root);
    None when uid is None."""
    if uid is None:
        return None

    def demote():
        os.setgid(uid)
        os.setuid(uid)
    return demote


def write_atomic(path, text):
    """Replace path with text the way editors and config management do."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def value(samples, name, **labels):
    """Sum of the samples of name whose labels include the given ones."""
    total = 0.0
    for (n, ls), v in samples.items():
        if n == name and all((k, str(val)) in ls for k, val in labels.items()):
            total += v
    return total


class _SourcesTable(HTMLParser):
    """Cells of the landing page's table id="sources", row by row (text,
    entities decoded), with the rowspan of each cell."""

    def __init__(self):
        super().__init__()
        self.rows, self.inside, self.cell = [], False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "sources":
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = ["", int(a.get("rowspan", "1")), a.get("class", "")]

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag == "td" and self.cell:
            self.rows[-1].append(tuple(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[0] += data


def landing_sources(html):
    """{source name: (format, [(file path, state), ...])} from the landing
    page's sources table."""
    t = _SourcesTable()
    t.feed(html)
    out, current, left = {}, None, 0
    for row in t.rows:
        if not row:
            continue  # header
        if left == 0:
            name, fmt = row[0][0], row[1][0]
            current, left = name, row[0][1]
            out[name] = (fmt, [])
            row = row[5:]
        left -= 1
        if len(row) >= 2 and "path" in row[0][2]:
            out[current][1].append((row[0][0], row[1][0]))
    return out


class Exporter:
    """Runs the exporter with the given args; port chosen by the kernel.
    path: the telemetry path scrape() and wait_for() read; user: a uid to
    run as; hold: --metrics.new-series-hold (default "0", so that counts
    show at once; None: the exporter's default, 1m); stdin: the child's
    standard input (subprocess.PIPE: write to self.proc.stdin); preexec: a
    function run in the child before exec (e.g. to set a resource limit);
    launcher: argv words run before the binary (a program that execs it,
    keeping the pid), with pass_fds left open for it."""

    def __init__(self, args, cwd=None, env=None, path="/metrics", user=None, hold="0",
                 stdin=None, preexec=None, launcher=None, pass_fds=()):
        self.path = path
        # The child writes its log through its own O_APPEND description and
        # log() reads through another: a shared description (one
        # TemporaryFile for both) lets log()'s seek(0) move the child's write
        # position, and lines written meanwhile overwrite the start of the log.
        fd, log_path = tempfile.mkstemp(prefix="exporter-", suffix=".log")
        os.close(fd)
        child_err = open(log_path, "ab")
        self.stderr = open(log_path, "rb")
        os.unlink(log_path)
        def given(flag):  # a flag taking a value may be given once
            return any(a == flag or a.startswith(flag + "=") for a in args)
        extra = []
        if not given("--web.listen-address"):
            extra += ["--web.listen-address", "127.0.0.1:0"]
        if hold is not None and not given("--metrics.new-series-hold"):
            extra += ["--metrics.new-series-hold", hold]
        self.proc = subprocess.Popen(
            list(launcher or []) + [binary()] + extra + args,
            stdin=stdin, stdout=subprocess.DEVNULL, stderr=child_err, cwd=cwd, env=env,
            preexec_fn=preexec or as_user(user), pass_fds=pass_fds)
        child_err.close()
        self.port = None
        deadline = time.time() + 10
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise AssertionError("exporter exited early: " + self.log())
            m = re.search(r'msg=listening .*port=(\d+)', self.log())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.02)
        assert self.port, "exporter did not start: " + self.log()

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def url(self, path="/metrics"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def get(self, path="/metrics", method="GET", headers=None):
        req = urllib.request.Request(self.url(path), method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def scrape(self):
        status, _, body = self.get(self.path)
        assert status == 200, status
        return parse_exposition(body.decode("utf-8"))

    def wait_for(self, pred, timeout=10.0):
        """Scrape until pred(samples) is true; return the samples."""
        deadline = time.time() + timeout
        samples = self.scrape()
        while not pred(samples):
            assert time.time() < deadline, "timed out waiting; last scrape: %r; log:\n%s" % (
                {k: v for k, v in samples.items() if k[0].startswith("accesslog_log")},
                self.log())
            time.sleep(0.05)
            samples = self.scrape()
        return samples

    stopped = False  # stop() was called (its caller saw the status)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        """`with Exporter(args) as exp:` stops it when the block ends; a
        block that ends normally without stopping it itself checks that it
        exits with status 0 (the log in the message)."""
        if exc_type is None and not self.stopped:
            assert self.stop() == 0, self.log()
        self.stop()

    def stop(self, sig=signal.SIGTERM):
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
