#!/usr/bin/env python3
"""Packaging checks (meson test --suite packaging):
- the man page renders with `man --warnings` and no warnings;
- every long option that --help lists is documented in the man page, and
  every option the man page documents exists in --help;
- the systemd unit passes `systemd-analyze verify` (ExecStart pointed at the
  built binary in a temporary copy) with nothing on stderr, and keeps its
  hardening settings; its paths are those of the configured prefix;
- the installed default configuration passes --config.check;
- the METRICS section of the man page names every family a running
  exporter serves and every label of each (field and static labels aside),
  and --web.disable-exporter-metrics drops the process_* families;
- the bash completion offers exactly the flags of --help and the format
  names the configuration reader knows, and completes them in a real bash
  with bash-completion loaded."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MAN = os.path.join(HERE, "accesslog_exporter.1")
UNIT = os.environ.get("ACCESSLOG_UNIT",
                      os.path.join(HERE, "..", "build", "packaging", "accesslog_exporter.service"))
CONFIG = os.path.join(HERE, "config.yml")
COMPLETION = os.path.join(HERE, "accesslog_exporter.bash-completion")
FLAG_RE = r"(?<![\w-])(--[a-z][a-z.-]*[a-z])"
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness  # noqa: E402
HARDENING = ("DynamicUser=yes", "SupplementaryGroups=adm", "ProtectSystem=strict",
             "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
             "CapabilityBoundingSet=\n", "StateDirectory=accesslog_exporter",
             "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
             "SystemCallFilter=@system-service", "ExecReload=/bin/kill -HUP $MAINPID",
             "NotifyAccess=main", "FileDescriptorStoreMax=")


def binary():
    return os.environ.get("ACCESSLOG_EXPORTER",
                          os.path.join(HERE, "..", "build", "accesslog_exporter"))


def check_man():
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    p = subprocess.run(["man", "--warnings", "-l", MAN], capture_output=True, env=env,
                       timeout=60)
    assert p.returncode == 0 and p.stdout, p.stderr.decode()
    assert p.stderr == b"", "man page warnings:\n" + p.stderr.decode()
    with open(MAN) as f:
        src = f.read().replace("\\-", "-")
    help_text = subprocess.run([binary(), "--help"], capture_output=True,
                               check=True).stdout.decode()
    help_flags = set(re.findall(FLAG_RE, help_text))
    man_flags = set(re.findall(FLAG_RE, src))
    assert len(help_flags) >= 17, help_flags
    missing = sorted(help_flags - man_flags)
    assert not missing, "in --help but not in the man page: %s" % missing
    unknown = sorted(man_flags - help_flags)
    assert not unknown, "in the man page but not in --help: %s" % unknown
    return len(help_flags)


def check_unit():
    with open(UNIT) as f:
        unit = f.read()
    for want in HARDENING:
        assert want in unit, "unit lost %r" % want
    assert "@" not in re.sub(r"(?m)^#.*$", "", unit).replace("@system-service", "").replace(
        "@privileged", "").replace("@resources", ""), "unsubstituted @var@ in the unit"
    bindir = os.environ.get("ACCESSLOG_BINDIR", "/usr/local/bin")
    sysconfdir = os.environ.get("ACCESSLOG_SYSCONFDIR", "/usr/local/etc")
    want = ("ExecStart=%s/accesslog_exporter --state.fd-store=systemd "
            "--config.file=%s/accesslog_exporter/config.yml $ARGS") % (
        bindir, sysconfdir)
    assert want in unit, "unit does not run %r:\n%s" % (want, unit)
    assert "EnvironmentFile=-%s/default/accesslog_exporter" % sysconfdir in unit
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze not installed (scripts/deps installs systemd)"
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, "accesslog_exporter.service")
        text, n = re.subn(r"^ExecStart=\S+", "ExecStart=" + os.path.abspath(binary()), unit,
                          flags=re.M)
        assert n == 1
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([analyze, "verify", "--man=no", path], capture_output=True,
                           timeout=60)
        assert p.returncode == 0 and p.stderr == b"", p.stderr.decode()
        # The check can fail: an unknown key is reported.
        with open(path, "a") as f:
            f.write("ProtectSytem=strict\n")
        p = subprocess.run([analyze, "verify", "--man=no", path], capture_output=True,
                           timeout=60)
        assert b"Unknown key" in p.stderr, p.stderr
    finally:
        shutil.rmtree(d)


def check_default_config():
    p = subprocess.run([binary(), "--config.file", CONFIG, "--config.check"],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    with open(CONFIG) as f:
        text = f.read()
    assert "/var/log/nginx/access.log" in text and "format: combined" in text


def man_section(name):
    with open(MAN) as f:
        src = f.read().replace("\\-", "-")
    m = re.search(r"^\.SH %s\n(.*?)^\.SH " % name, src, re.M | re.S)
    assert m, "no %s section" % name
    return m.group(1)


def scrape_families(extra_args):
    """{family: set of label names} of a running exporter with field and
    static labels and a state file (every family present)."""
    d = tempfile.mkdtemp()
    try:
        log = os.path.join(d, "a.log")
        with open(log, "w") as f:
            f.write('1.2.3.4 - - [03/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 5 "-" "c"\n')
        cfg = os.path.join(d, "c.yml")
        with open(cfg, "w") as f:
            f.write("global: {state_file: %s/state}\nsources:\n"
                    "  - {name: s, format: combined, paths: [%s], labels: {zzstatic: x},\n"
                    "     field_labels: [{name: zzfield, field: path}]}\n" % (d, log))
        hold = ["--metrics.new-series-hold", "0"] if "--metrics.new-series-hold" in help_text() \
            else []
        e = harness.Exporter(["--config.file", cfg] + hold + extra_args)
        try:
            with open(log, "a") as f:
                f.write('1.2.3.4 - - [03/Dec/2026:10:00:01 +0000] "GET /y HTTP/1.1" 404 5 "-" "c"\n')
            e.wait_for(lambda s: harness.value(s, "accesslog_log_lines_total") >= 1)
            time.sleep(0.2)
            samples = e.scrape()
        finally:
            e.stop()
    finally:
        shutil.rmtree(d)
    fams = {}
    for (name, labels) in samples:
        fam = re.sub(r"_(bucket|sum|count)$", "", name) if name.endswith(
            ("_bucket", "_sum", "_count")) and "duration" in name else name
        fams.setdefault(fam, set()).update(k for k, _ in labels)
    return fams


_help = []


def help_text():
    if not _help:
        _help.append(subprocess.run([binary(), "--help"], capture_output=True,
                                    check=True).stdout.decode())
    return _help[0]


def check_metrics_section():
    section = man_section("METRICS")
    fams = scrape_families([])
    assert any(f.startswith("process_") for f in fams), sorted(fams)
    missing = []
    for fam, labels in sorted(fams.items()):
        if fam not in section:
            missing.append(fam)
        for label in sorted(labels - {"zzstatic", "zzfield"}):
            if not re.search(r"^\.BR? %s\b" % re.escape(label), section, re.M):
                missing.append("%s label %s" % (fam, label))
    assert not missing, "METRICS section of the man page lacks: %s" % missing
    without = scrape_families(["--web.disable-exporter-metrics"])
    assert not any(f.startswith("process_") for f in without), sorted(without)
    assert set(fams) - set(without) == {f for f in fams if f.startswith("process_")}
    return len(fams)


def format_names():
    """The format names the configuration reader lists for a bad one."""
    d = tempfile.mkdtemp()
    try:
        cfg = os.path.join(d, "c.yml")
        with open(cfg, "w") as f:
            f.write("sources:\n  - {name: s, format: nosuchformat, paths: [/x.log]}\n")
        p = subprocess.run([binary(), "--config.file", cfg, "--config.check"],
                           capture_output=True, timeout=30)
    finally:
        shutil.rmtree(d)
    m = re.search(r"unknown format 'nosuchformat' \(([^)]*)\)", p.stderr.decode())
    assert p.returncode == 2 and m, p.stderr
    return set(x.strip() for x in m.group(1).split(","))


def complete(words):
    """COMPREPLY of the completion for the command line words (last: current)."""
    script = ('source /usr/share/bash-completion/bash_completion; source "$0"; '
              'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
              'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; '
              '_accesslog_exporter accesslog_exporter "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "-c", script, COMPLETION] + words, capture_output=True,
                       timeout=30, cwd=tempfile.gettempdir())
    assert p.returncode == 0, p.stderr.decode()
    return set(w for w in p.stdout.decode().split("\n") if w)


def check_completion():
    assert os.path.exists("/usr/share/bash-completion/bash_completion"), \
        "bash-completion not installed (scripts/deps installs it)"
    with open(COMPLETION) as f:
        text = f.read()
    help_flags = set(re.findall(FLAG_RE, help_text()))
    comp_flags = set(re.findall(FLAG_RE, text.split("local flags=", 1)[1]))
    assert comp_flags == help_flags, "completion flags differ from --help: only in completion " \
        "%s, only in --help %s" % (sorted(comp_flags - help_flags), sorted(help_flags - comp_flags))
    offered = complete(["accesslog_exporter", "--"])
    assert {f.rstrip("=") for f in offered} == help_flags, sorted(offered)
    formats = format_names()
    got = complete(["accesslog_exporter", "--format", ""])
    assert got == formats, "completion formats %s, exporter knows %s" % (sorted(got), sorted(formats))
    assert complete(["accesslog_exporter", "--log.level", "w"]) == {"warn"}
    return len(help_flags), len(formats)


def main():
    n = check_man()
    check_unit()
    check_default_config()
    fams = check_metrics_section()
    nflags, nformats = check_completion()
    print("ok - man page documents all %d flags of --help; unit verified; default config "
          "checks; METRICS names all %d families and their labels; completion offers %d flags "
          "and %d formats" % (n, fams, nflags, nformats))
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
