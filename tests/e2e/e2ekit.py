"""Shared pieces of the Python e2e tests (first_burst.py, field_labels.py,
syslog_inputs.py, protobuf_scrape.py...): free loopback ports, files in the
temp dir, processes started with their output in the temp dir and stopped by
PID, bounded waits, the exporter, nginx and Prometheus configured in the temp
dir and started on loopback, the Prometheus HTTP API, and a main() that
bounds the whole run, prints the logs of a failed one and cleans up."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
EXPORTER = os.environ.get("ACCESSLOG_EXPORTER", os.path.join(ROOT, "build", "accesslog_exporter"))


class Run:
    """One e2e run: its name (for messages), temp dir and processes."""

    def __init__(self, name):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix=name + "-")
        self.procs = []

    def say(self, msg):
        print("%s: %s" % (self.name, msg), flush=True)

    def start(self, name, argv):
        log = open(os.path.join(self.tmp, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for _, p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

    def dump_logs(self):
        for name, _ in self.procs:
            self.say("--- %s log (tail)" % name)
            with open(os.path.join(self.tmp, name + ".log"), "rb") as f:
                sys.stdout.write(f.read()[-3000:].decode("utf-8", "replace"))


def write_file(run, name, text=""):
    """run.tmp/name with text (by default empty: a log the exporter follows
    from its start); its path."""
    path = os.path.join(run.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def start_exporter(run, port, args, name="exporter"):
    """The exporter on 127.0.0.1:port with args, its output in
    run.tmp/name.log; its /metrics URL.  Does not wait: see
    wait_following."""
    run.start(name, [EXPORTER, "--web.listen-address", "127.0.0.1:%d" % port] + args)
    return "http://127.0.0.1:%d/metrics" % port


def wait_following(metrics):
    """Until the exporter at the /metrics URL metrics has a log file open."""
    wait_for("the exporter to follow the log", 10,
             lambda: b'accesslog_log_file_open{' in get(metrics))


def free_ports(n, kind=socket.SOCK_STREAM):
    socks = [socket.socket(socket.AF_INET, kind) for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_for(what, timeout, pred):
    """Call pred until it returns something true (OSError/ValueError: a server
    not listening yet, or a half-written answer, count as not yet)."""
    deadline = time.time() + timeout
    while True:
        try:
            v = pred()
        except (OSError, ValueError):
            v = None
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


def get(url, headers=None, timeout=5):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def query(prom, expr):
    """An instant query against the Prometheus on 127.0.0.1:prom."""
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (prom, urllib.parse.urlencode({"query": expr}))
    out = json.loads(get(url))
    assert out["status"] == "success", out
    return out["data"]["result"]


def scalar(prom, expr):
    r = query(prom, expr)
    return float(r[0]["value"][1]) if r else None


def is_listening(port):
    """Whether something accepts TCP connections on 127.0.0.1:port (OSError
    when nothing does: wait_for counts that as not yet)."""
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


NGINX_CONF = """worker_processes 1;
pid %(t)s/nginx.pid;
error_log %(t)s/nginx-error.log warn;
events { worker_connections 256; }
http {
	client_body_temp_path %(t)s/nginx/body;
	proxy_temp_path %(t)s/nginx/proxy;
	fastcgi_temp_path %(t)s/nginx/fastcgi;
	uwsgi_temp_path %(t)s/nginx/uwsgi;
	scgi_temp_path %(t)s/nginx/scgi;
%(http)s
}
"""


def start_nginx(run, port, http):
    """nginx on run.tmp/nginx.conf: one worker, its pid, error log and temp
    files in run.tmp, and http (the http block's log formats, access logs and
    servers, listening on 127.0.0.1:port).  Returns once it accepts
    connections on port."""
    os.makedirs(os.path.join(run.tmp, "nginx"), exist_ok=True)
    conf = os.path.join(run.tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF % {"t": run.tmp, "http": http})
    run.start("nginx", ["nginx", "-g", "daemon off;", "-e", os.path.join(run.tmp, "nginx-error.log"),
                        "-p", run.tmp, "-c", conf])
    wait_for("nginx", 10, lambda: is_listening(port))


PROMETHEUS_YML = """global:
  scrape_interval: 1s
  scrape_timeout: 1s
%(rules)sscrape_configs:
  - job_name: accesslog
    static_configs:
      - targets: ['127.0.0.1:%(target)d']
"""
PROMETHEUS_RULES = """  evaluation_interval: 1s
rule_files:
  - %s
"""


def start_prometheus(run, port, exporter_port, rules=True, features=None, name="prometheus"):
    """Debian's Prometheus on 127.0.0.1:port, its config in run.tmp/name.yml
    and data in run.tmp/name-data, scraping 127.0.0.1:exporter_port every
    second, and with rules evaluating dashboards/rules.yml every second;
    features: its --enable-feature value.  Does not wait: see
    wait_scraping."""
    yml = os.path.join(run.tmp, name + ".yml")
    with open(yml, "w") as f:
        f.write(PROMETHEUS_YML % {
            "rules": PROMETHEUS_RULES % os.path.join(ROOT, "dashboards", "rules.yml")
            if rules else "", "target": exporter_port})
    run.start(name, ["prometheus", "--config.file=" + yml,
                     "--storage.tsdb.path=" + os.path.join(run.tmp, name + "-data"),
                     "--web.listen-address=127.0.0.1:%d" % port] +
              (["--enable-feature=" + features] if features else []))


def wait_scraping(prom, timeout=30):
    """Until the Prometheus on 127.0.0.1:prom has scraped the exporter."""
    wait_for("prometheus scraping the exporter", timeout,
             lambda: scalar(prom, 'up{job="accesslog"}') == 1)


def main(name, body, limit):
    """Run body(run) at most limit seconds; stop every process it started,
    show their logs when it failed, remove the temp dir (E2E_KEEP=1 keeps it)."""
    os.environ["PATH"] += ":/usr/sbin:/sbin"  # nginx (scripts/deps installs it)
    run = Run(name)
    deadline = threading.Timer(limit, lambda: os.kill(os.getpid(), signal.SIGTERM))
    deadline.start()
    ok = False
    try:
        body(run)
        ok = True
    finally:
        deadline.cancel()
        run.stop_all()
        if not ok:
            run.dump_logs()
        if os.environ.get("E2E_KEEP"):
            run.say("kept " + run.tmp)
        else:
            shutil.rmtree(run.tmp, ignore_errors=True)
    run.say("PASS")
