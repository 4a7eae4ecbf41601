#!/usr/bin/env python3
"""The landing page in a real browser (headless Chromium, Debian's chromium):
--dump-dom gives the DOM Chromium built from the page; its links resolve to
the metrics and health endpoints (fetched); the sources table has one row
per file with state, offset, size, bytes behind, lines and parse errors
matching what was written; names with HTML metacharacters arrive as text.
A screenshot is kept in the build directory (landing.png) as an artefact.
Also: the root warning (when run as root) and its absence for another user."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LINE = '10.0.0.1 - - [03/Dec/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "t"\n'


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("chromium not installed (scripts/deps installs it)")


def browse(url, extra, profile):
    cmd = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--disable-sync",
           "--disable-dev-shm-usage", "--user-data-dir=" + profile] + extra + [url]
    p = subprocess.run(cmd, capture_output=True, timeout=90)
    assert p.returncode == 0, "chromium failed: %s" % p.stderr.decode()[-2000:]
    return p.stdout.decode("utf-8", "replace")


class Dom(HTMLParser):
    """Links, script tags and the sources table (rows of cell texts)."""

    def __init__(self):
        super().__init__()
        self.links, self.scripts, self.rows = {}, 0, []
        self.in_table = self.in_cell = False
        self.cell = ""
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "script":
            self.scripts += 1
        if tag == "a" and a.get("id"):
            self.links[a["id"]] = a.get("href")
        if tag == "table" and a.get("id") == "sources":
            self.in_table = True
        if self.in_table and tag == "tr":
            self.rows.append([])
        if self.in_table and tag in ("td", "th"):
            self.in_cell, self.cell = True, ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_table = False
        if self.in_table and tag in ("td", "th") and self.in_cell:
            self.rows[-1].append(self.cell.strip())
            self.in_cell = False

    def handle_data(self, data):
        if self.in_cell:
            self.cell += data


def main():
    d = tempfile.mkdtemp()
    shots = os.environ.get("ACCESSLOG_ARTIFACTS", d)
    try:
        good = os.path.join(d, "a&<b>.log")
        with open(good, "w") as f:
            f.write(LINE)
        missing = os.path.join(d, "missing.log")
        cfg = os.path.join(d, "c.yml")
        with open(cfg, "w") as f:
            f.write("sources:\n"
                    "  - name: web\n    format: combined\n"
                    "    paths: ['%s', '%s', '%s/*.gz']\n"
                    "  - name: other\n    format: common\n    paths: ['%s']\n"
                    % (good, missing, d, missing))
        e = harness.Exporter(["--config.file", cfg, "--web.telemetry-path", "/m"], path="/m")
        try:
            with open(good, "a") as f:
                f.write(LINE * 3 + "junk\n" + LINE[:20])  # 4 lines + a partial one
            e.wait_for(lambda s: harness.value(s, "accesslog_log_lines_total", source="web") == 4)
            time.sleep(1.3)  # the next landing-page snapshot (one per second)
            size = os.path.getsize(good)
            profile = os.path.join(d, "profile")
            dom_text = browse(e.url("/"), ["--dump-dom"], profile)
            dom = Dom()
            dom.feed(dom_text)
            assert dom.scripts == 0, "the page has scripts"
            assert {"description", "version", "sources", "taken"} <= dom.ids, dom.ids
            assert dom.links == {"metrics": "m", "healthy": "-/healthy", "ready": "-/ready",
                                 "parse-errors": "debug/parse-errors"}, dom.links
            for name, href in dom.links.items():
                url = urllib.parse.urljoin(e.url("/"), href)
                status, _, body = e.get(urllib.parse.urlparse(url).path)
                assert status == 200, (name, url, status)
            assert b"accesslog_log_lines_total" in e.get("/m")[2]
            header, rows = dom.rows[0], dom.rows[1:]
            assert header == ["Source", "Format", "Lines", "Parse errors", "Last line", "File",
                              "State", "Offset", "Size", "Behind", "Last data"], header
            # web: its file, the missing path, the glob; other: the missing path.
            assert len(rows) == 4, rows
            web = rows[0]
            assert web[:4] == ["web", "combined", "4", "1"], web
            assert web[5] == good and web[6] == "open", web  # escaped name arrives as text
            offset = size - 20
            assert web[7:10] == [str(offset), str(size), "20"], (web, size)
            assert web[4].endswith("s ago)") and web[10].endswith("s ago)"), web
            assert rows[1][:2] == [missing, "missing: No such file or directory"], rows[1]
            assert rows[2][:2] == [d + "/*.gz", "no match"], rows[2]
            assert rows[3][:6] == ["other", "common", "0", "0", "-", missing], rows[3]
            # A screenshot for people: kept in the build directory.
            shot = os.path.join(shots, "landing.png")
            browse(e.url("/"), ["--screenshot=" + shot, "--window-size=1280,720",
                                "--hide-scrollbars"], profile)
            with open(shot, "rb") as f:
                png = f.read()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000, len(png)
            root_warned = "running as root" in e.log()
        finally:
            assert e.stop() == 0, e.log()
        assert root_warned == (os.geteuid() == 0), e.log()
        if os.geteuid() == 0:
            os.chmod(d, 0o755)
            os.chmod(good, 0o644)
            u = harness.Exporter([good], user=65534)
            try:
                assert "running as root" not in u.log(), u.log()
            finally:
                u.stop()
        print("ok - landing page in Chromium: links, %d table rows, escaped names; screenshot "
              "%s (%d bytes)" % (len(rows), shot, len(png)))
        print("1 passed, 0 failed")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
