#!/usr/bin/env python3
"""Packaging checks (meson test --suite packaging):
- the man page renders with `man --warnings` and no warnings;
- every long option that --help lists is documented in the man page, and
  every option the man page documents exists in --help;
- the systemd unit passes `systemd-analyze verify` (ExecStart pointed at the
  built binary in a temporary copy) with nothing on stderr, and keeps its
  hardening settings."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MAN = os.path.join(HERE, "accesslog_exporter.1")
UNIT = os.path.join(HERE, "accesslog_exporter.service")
HARDENING = ("DynamicUser=yes", "SupplementaryGroups=adm", "ProtectSystem=strict",
             "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
             "CapabilityBoundingSet=\n", "StateDirectory=accesslog_exporter",
             "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
             "SystemCallFilter=@system-service", "ExecReload=/bin/kill -HUP $MAINPID")


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
    help_flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z.-]*[a-z])", help_text))
    man_flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z.-]*[a-z])", src))
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


def main():
    n = check_man()
    check_unit()
    print("ok - man page documents all %d flags of --help; unit verified" % n)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
