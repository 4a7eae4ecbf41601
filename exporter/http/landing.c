/*
 * landing.c - the landing page (see landing.h).
 *
 * One table, one row per file: the source's cells (name, format, lines,
 * parse errors, last line) span the rows of its files, so the page reads
 * like the configuration.  A source with no file row (no paths matched
 * and nothing tracked cannot happen: a literal path shows as missing, a
 * glob as "no match") still gets one row.  Links are relative ("metrics",
 * "-/healthy"), so the page works behind a reverse proxy that mounts the
 * exporter under a prefix.  Times are UTC with their age, so the page
 * needs no script to be read anywhere.
 *
 * Rejected: a page built by JavaScript from a JSON endpoint (the brief of
 * the page is to work in any browser and in curl), and templates (one
 * page does not pay for a template engine).
 */
#include "exporter/http/landing.h"

#include <string.h>
#include <time.h>

#define DESCRIPTION                                                                                \
	"Prometheus exporter for web server access logs: follows nginx and Apache logs and "       \
	"counts responses by status code, class and reason."

static const char style[] =
    "body{font-family:-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif;"
    "margin:0;color:#212529}"
    "header{background:#e6522c;color:#fff;padding:.6em 1.2em}"
    "header h1{margin:0;font-size:1.5em}"
    "main{padding:0 1.2em 1.2em}"
    "ul.links{padding-left:1.2em}"
    "table{border-collapse:collapse;font-size:.9em}"
    "th,td{border:1px solid #dee2e6;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#f1f3f5}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "td.path{font-family:monospace;word-break:break-all}"
    ".open{color:#2b8a3e}.rotated{color:#e67700}.missing,.error{color:#c92a2a;font-weight:bold}"
    ".muted{color:#868e96}";

void landing_escape(struct strbuf *b, const char *text)
{
	static const char *const entity[256] = {
	    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
	};

	for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
		if (entity[*p]) {
			(void)strbuf_puts(b, entity[*p]);
		} else {
			(void)strbuf_putc(b, (char)*p);
		}
	}
}

/* "2026-12-03 18:50:01 UTC (12 s ago)", or a muted dash for 0. */
static void put_time(struct strbuf *b, double t, double now)
{
	char text[64];
	struct tm tm;
	time_t s = (time_t)t;
	double age = now - t;

	if (t <= 0 || !gmtime_r(&s, &tm) ||
	    strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		(void)strbuf_puts(b, "<span class=\"muted\">-</span>");
		return;
	}
	(void)strbuf_puts(b, text);
	if (age >= 0) {
		(void)strbuf_printf(b, " (%.0f s ago)", age);
	}
}

static void put_links(struct strbuf *b, const struct landing_info *li)
{
	const char *metrics = li->telemetry_path ? li->telemetry_path : "/metrics";

	(void)strbuf_puts(b, "<h2>Links</h2>\n<ul class=\"links\">\n<li><a id=\"metrics\" href=\"");
	landing_escape(b, metrics[0] == '/' ? metrics + 1 : metrics);
	(void)strbuf_puts(b, "\">Metrics</a> (<code>");
	landing_escape(b, metrics);
	(void)strbuf_puts(b, "</code>)</li>\n"
	                     "<li><a id=\"healthy\" href=\"-/healthy\">Health</a> "
	                     "(<code>/-/healthy</code>)</li>\n"
	                     "<li><a id=\"ready\" href=\"-/ready\">Readiness</a> "
	                     "(<code>/-/ready</code>)</li>\n"
	                     "<li><a id=\"parse-errors\" href=\"debug/parse-errors\">Parse "
	                     "failures</a> (<code>/debug/parse-errors</code>: recent lines that "
	                     "did not match their format, and where they stopped)</li>\n</ul>\n");
	(void)strbuf_puts(b, li->lifecycle
	                         ? "<p>Reload: <code>POST /-/reload</code> (enabled).</p>\n"
	                         : "<p>Reload: <code>SIGHUP</code> "
	                           "(<code>POST /-/reload</code> needs "
	                           "<code>--web.enable-lifecycle</code>).</p>\n");
}

static const char table_head[] =
    "<table id=\"sources\">\n<thead><tr><th>Source</th><th>Format</th><th>Lines</th>"
    "<th>Parse errors</th><th>Last line</th><th>File</th><th>State</th><th>Offset</th>"
    "<th>Size</th><th>Behind</th><th>Last data</th></tr></thead>\n<tbody>\n";

static void put_source_cells(struct strbuf *b, const struct snapshot_source *s, size_t rows,
                             double now)
{
	(void)strbuf_printf(b, "<td rowspan=\"%zu\" class=\"source\">", rows);
	landing_escape(b, s->name);
	(void)strbuf_printf(b, "</td><td rowspan=\"%zu\">", rows);
	landing_escape(b, s->format);
	(void)strbuf_printf(b, "</td><td rowspan=\"%zu\" class=\"num lines\">", rows);
	(void)strbuf_put_u64(b, s->lines);
	(void)strbuf_printf(b, "</td><td rowspan=\"%zu\" class=\"num errors\">", rows);
	(void)strbuf_put_u64(b, s->parse_errors);
	(void)strbuf_printf(b, "</td><td rowspan=\"%zu\">", rows);
	put_time(b, s->last_read, now);
	(void)strbuf_puts(b, "</td>");
}

static void put_file_cells(struct strbuf *b, const struct snapshot_file *f, double now)
{
	static const char *const state[] = {
	    [SNAPSHOT_FILE_OPEN] = "open",
	    [SNAPSHOT_FILE_ROTATED] = "rotated",
	    [SNAPSHOT_FILE_MISSING] = "missing",
	    [SNAPSHOT_FILE_NO_MATCH] = "no match",
	};
	bool tracked = f->state == SNAPSHOT_FILE_OPEN || f->state == SNAPSHOT_FILE_ROTATED;
	const char *cls = f->error && tracked                  ? "error"
	                  : f->state == SNAPSHOT_FILE_NO_MATCH ? "missing"
	                                                       : state[f->state];

	(void)strbuf_puts(b, "<td class=\"path\">");
	landing_escape(b, f->path);
	(void)strbuf_printf(b, "</td><td class=\"state %s\">%s", cls, state[f->state]);
	if (f->error) {
		(void)strbuf_puts(b, ": ");
		landing_escape(b, strerror(f->error));
	}
	(void)strbuf_puts(b, "</td>");
	if (!tracked) {
		(void)strbuf_puts(b, "<td class=\"num offset\"></td><td class=\"num size\"></td>"
		                     "<td class=\"num behind\"></td><td></td>");
		return;
	}
	(void)strbuf_puts(b, "<td class=\"num offset\">");
	(void)strbuf_put_u64(b, f->offset);
	(void)strbuf_puts(b, "</td><td class=\"num size\">");
	(void)strbuf_put_u64(b, f->size);
	(void)strbuf_puts(b, "</td><td class=\"num behind\">");
	(void)strbuf_put_u64(b, f->size > f->offset ? f->size - f->offset : 0);
	(void)strbuf_puts(b, "</td><td>");
	put_time(b, f->last_data, now);
	(void)strbuf_puts(b, "</td>");
}

static void put_source(struct strbuf *b, const struct snapshot_source *s, double now)
{
	size_t rows = s->n_files + (s->n_more ? 1 : 0);

	if (rows == 0) {
		(void)strbuf_puts(b, "<tr>");
		put_source_cells(b, s, 1, now);
		(void)strbuf_puts(b, "<td colspan=\"6\" class=\"muted\">no files</td></tr>\n");
		return;
	}
	for (size_t k = 0; k < s->n_files; k++) {
		(void)strbuf_puts(b, "<tr>");
		if (k == 0) {
			put_source_cells(b, s, rows, now);
		}
		put_file_cells(b, &s->files[k], now);
		(void)strbuf_puts(b, "</tr>\n");
	}
	if (s->n_more) {
		(void)strbuf_puts(b, "<tr>");
		if (s->n_files == 0) {
			put_source_cells(b, s, rows, now);
		}
		(void)strbuf_printf(b,
		                    "<td colspan=\"6\" class=\"muted\">and %zu more files "
		                    "(see accesslog_log_file_open)</td></tr>\n",
		                    s->n_more);
	}
}

int landing_render(const struct landing_info *li, const struct snapshot *snap, struct strbuf *b)
{
	(void)strbuf_puts(b,
	                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                  "<meta name=\"viewport\" content=\"width=device-width, "
	                  "initial-scale=1\">\n<title>accesslog_exporter</title>\n<style>");
	(void)strbuf_puts(b, style);
	(void)strbuf_puts(
	    b, "</style>\n</head>\n<body>\n<header><h1>accesslog_exporter</h1></header>\n"
	       "<main>\n<p id=\"description\">" DESCRIPTION "</p>\n"
	       "<p>Version: <span id=\"version\">");
	landing_escape(b, li->version);
	(void)strbuf_puts(b, "</span> (revision ");
	landing_escape(b, li->revision);
	(void)strbuf_puts(b, ")</p>\n");
	put_links(b, li);
	(void)strbuf_puts(b, "<h2>Sources</h2>\n");
	if (!snap) {
		(void)strbuf_puts(b, "<p class=\"muted\">Starting: no status yet.</p>\n");
	} else {
		(void)strbuf_puts(b, "<p>As of <span id=\"taken\">");
		put_time(b, snap->taken, 0); /* no age */
		(void)strbuf_puts(b, "</span>; offsets are where the next line starts, "
		                     "<em>behind</em> is what is still to read.</p>\n");
		(void)strbuf_puts(b, table_head);
		for (size_t i = 0; i < snap->n_sources; i++) {
			put_source(b, &snap->sources[i], snap->taken);
		}
		(void)strbuf_puts(b, "</tbody>\n</table>\n");
	}
	(void)strbuf_puts(b, "</main>\n</body>\n</html>\n");
	return b->error;
}
