#!/usr/bin/env python3
"""The Debian package, installed for real (meson suite 'deb'; root, or
passwordless sudo, else skipped):

1. scripts/package --lintian builds build-deb/accesslog-exporter_*.deb with
   debhelper and lintian passes it (every remaining tag overridden with a
   reason in packaging/debian/accesslog-exporter.lintian-overrides);
2. `apt-get install ./...deb` installs it, with a policy-rc.d that forbids
   starting services for the duration (so even on a machine running systemd
   no system-wide daemon is started); the unit is enabled (multi-user
   wants-symlink) and passes `systemd-analyze verify`, the configuration
   files are conffiles, the man page and completion are where man and bash
   look;
3. the installed binary runs the unit's ExecStart line (the installed
   default configuration, with the listen address and state file moved to a
   loopback port and a temp dir) and serves /metrics with the stock nginx
   path, and counts a temp log exactly;
4. `apt-get remove` leaves only the conffiles (and systemd's enablement
   state, which Debian keeps until purge), `apt-get purge` leaves nothing.

The package must not be installed before the test (it refuses to touch an
administrator's installation); it is purged afterwards whatever happens."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PKG = "accesslog-exporter"
UNIT = "/lib/systemd/system/accesslog_exporter.service"
WANTS = "/etc/systemd/system/multi-user.target.wants/accesslog_exporter.service"
POLICY = "/usr/sbin/policy-rc.d"
LINE = '192.0.2.1 - - [03/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" %d 10 "-" "t"\n'

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

SUDO = [] if os.geteuid() == 0 else ["sudo", "-n"]


def run(cmd, timeout=300, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode,
                                                    p.stdout[-3000:], p.stderr[-3000:]))
    return p


def status():
    p = run(["dpkg-query", "-W", "-f=${Status}", PKG], check=False)
    return p.stdout.strip() if p.returncode == 0 else "not-installed"


def apt(*args):
    return run(SUDO + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q",
                       "--no-install-recommends"] + list(args))


def deb_files(deb):
    """Paths of regular files and symlinks the package ships."""
    lst = run(["dpkg-deb", "-c", deb]).stdout
    files = []
    for line in lst.splitlines():
        parts = line.split()
        if parts[0].startswith("d"):
            continue
        files.append(parts[5][1:] if parts[5].startswith("./") else parts[5])
    return files


def serve_default_config(tmp):
    """The unit's ExecStart with the installed config, on a loopback port."""
    with open(UNIT) as f:
        unit = f.read()
    m = re.search(r"^ExecStart=(.*)$", unit, re.M)
    argv = shlex.split(m.group(1).replace("$ARGS", ""))
    assert argv[0] == "/usr/bin/accesslog_exporter", argv
    os.environ["ACCESSLOG_EXPORTER"] = argv[0]
    e = harness.Exporter(argv[1:] + ["--state.file", os.path.join(tmp, "state")])
    try:
        s = e.scrape()
        assert harness.value(s, "accesslog_build_info") == 1, s
        paths = {dict(l).get("path") for (n, l) in s if n == "accesslog_log_file_open"}
        assert paths == {"/var/log/nginx/access.log"}, paths
        status_, _, body = e.get("/")
        assert status_ == 200 and b"/var/log/nginx/access.log" in body
    finally:
        assert e.stop() == 0, e.log()


def count_temp_log(tmp):
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()
    hold = ["--metrics.new-series-hold", "0"] if "new-series-hold" in run(
        ["/usr/bin/accesslog_exporter", "--help"]).stdout else []
    e = harness.Exporter(["--source", "pkg"] + hold + [log])
    try:
        with open(log, "a") as f:
            f.write((LINE % 200) * 5 + (LINE % 503) * 2 + "junk\n")
        s = e.wait_for(lambda s: harness.value(s, "accesslog_log_lines_total") == 8)
        assert harness.value(s, "accesslog_http_responses_total", code="200") == 5, s
        assert harness.value(s, "accesslog_http_responses_total", code="503") == 2, s
        assert harness.value(s, "accesslog_log_parse_errors_total") == 1, s
    finally:
        assert e.stop() == 0, e.log()


def check_installed(deb):
    assert status() == "install ok installed", status()
    conf = run(["dpkg-query", "-W", "-f=${Conffiles}", PKG]).stdout
    conffiles = sorted(l.split()[0] for l in conf.splitlines() if l.strip())
    assert conffiles == ["/etc/accesslog_exporter/config.yml",
                         "/etc/default/accesslog_exporter"], conffiles
    assert os.path.islink(WANTS) and os.readlink(WANTS) == UNIT, "unit not enabled"
    p = run(["systemd-analyze", "verify", "--man=no", UNIT], check=False)
    assert p.returncode == 0 and not p.stderr.strip(), p.stderr
    assert run(["man", "-w", "accesslog_exporter"]).stdout.strip().startswith("/usr/share/man/")
    assert os.path.exists("/usr/share/bash-completion/completions/accesslog_exporter")
    for f in ("accesslog.json", "rules.yml"):
        assert os.path.exists("/usr/share/accesslog_exporter/dashboards/" + f)
    v = run(["/usr/bin/accesslog_exporter", "--version"]).stdout
    assert re.search(r"accesslog_exporter %s " % re.escape(
        re.search(r"_([^_]+)_[^_]+\.deb$", deb).group(1)), v), v
    run(["/usr/bin/accesslog_exporter", "--config.file", "/etc/accesslog_exporter/config.yml",
         "--config.check"])
    return conffiles


def main():
    if SUDO and run(["sudo", "-n", "true"], check=False).returncode != 0:
        print("SKIP: needs root or passwordless sudo to install a package")
        return 77
    assert status() in ("not-installed", "unknown ok not-installed"), \
        "%s is already installed (%s): not touching it" % (PKG, status())
    p = run([os.path.join(ROOT, "scripts", "package"), "--lintian"], timeout=600)
    deb = p.stdout.strip().splitlines()[-1]
    assert deb.endswith(".deb") and os.path.exists(deb), p.stdout
    shipped = deb_files(deb)
    # the daemon dlopens these (exporter/http/mhdlib.c): debian/rules must
    # still get them into Depends through the dlopen-deps probe
    depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    for lib in ("libmicrohttpd12", "libgnutls30"):
        assert lib in depends, "Depends lacks %s: %s" % (lib, depends)
    own_policy = not os.path.exists(POLICY)
    tmp = tempfile.mkdtemp()
    try:
        if own_policy:
            with open(os.path.join(tmp, "policy-rc.d"), "w") as f:
                f.write("#!/bin/sh\n# accesslog_exporter packaging test: start nothing\nexit 101\n")
            run(SUDO + ["install", "-m", "755", os.path.join(tmp, "policy-rc.d"), POLICY])
        apt("install", deb)
        conffiles = check_installed(deb)
        serve_default_config(tmp)
        count_temp_log(tmp)

        apt("remove", PKG)
        assert status() == "deinstall ok config-files", status()
        left = [f for f in shipped if os.path.lexists(f)]
        assert sorted(left) == conffiles, "left after remove: %s" % left
        apt("purge", PKG)
        assert status() in ("not-installed", "unknown ok not-installed"), status()
        left = [f for f in shipped + [WANTS, "/etc/accesslog_exporter",
                                      "/var/lib/private/accesslog_exporter"]
                if os.path.lexists(f)]
        assert not left, "left after purge: %s" % left
    finally:
        if status() not in ("not-installed", "unknown ok not-installed"):
            run(SUDO + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q",
                        "purge", PKG], check=False)
        if own_policy:
            run(SUDO + ["rm", "-f", POLICY], check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok - %s: lintian clean, installed with apt-get, unit enabled, default config served, "
          "temp log counted, remove kept %d conffiles, purge left nothing" %
          (os.path.basename(deb), len(conffiles)))
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
