/*
 * detect.c - format detection (see detect.h).
 *
 * Every candidate is a real parser built by logparse_create, so what
 * --detect reports is exactly what the exporter will do with the lines.
 * Candidates are a table: the presets, combined with the request and
 * upstream times nginx users commonly append, Apache combined with %D, and
 * JSON lines.  The rate is parsed lines / sampled lines; among candidates
 * with the same rate the one that describes more of the lines wins (then
 * the one with more items), because a line with extra trailing fields also
 * parses with a shorter format (combined parses "main" lines: the pattern
 * accepts more fields after a blank).  The
 * sample is the first DETECT_MAX_LINES lines or DETECT_MAX_BYTES bytes;
 * blank lines are skipped; a last line cut by the byte cap is dropped.
 *
 * Rejected: guessing from a single line (one odd line decides), and
 * generating a format from the line's shape (a user gets a regex they
 * cannot maintain; a named preset or a server format is what they paste).
 */
#include "exporter/detect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporter/parsefail.h"
#include "exporter/strbuf.h"
#include "parsers/logformat.h"
#include "parsers/logparse.h"

struct candidate {
	const char *label;     /* as printed in the table */
	const char *kind_name; /* --format value */
	enum logparse_kind kind;
	const char *text;      /* preset name or --log-format text; NULL for json */
	const char *time_hint; /* how to add a request time when it has none */
};

static const struct candidate candidates[] = {
    {"combined", "combined", LOGPARSE_PRESET, "combined",
     "$request_time to the nginx log_format (or %D to the Apache LogFormat)"},
    {"common", "common", LOGPARSE_PRESET, "common",
     "$request_time to the nginx log_format (or %D to the Apache LogFormat)"},
    {"vhost_combined", "vhost_combined", LOGPARSE_PRESET, "vhost_combined",
     "%D to the Apache LogFormat"},
    {"main", "main", LOGPARSE_PRESET, "main", "$request_time to the nginx log_format"},
    {"ingress", "ingress", LOGPARSE_PRESET, "ingress", NULL},
    {"nginx combined + times", "nginx", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
     "\"$http_referer\" \"$http_user_agent\" $request_time $upstream_response_time",
     NULL},
    {"nginx combined + $request_time", "nginx", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
     "\"$http_referer\" \"$http_user_agent\" $request_time",
     NULL},
    {"apache combined + %D", "apache", LOGPARSE_APACHE,
     "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D", NULL},
    {"json", "json", LOGPARSE_JSON, NULL, NULL},
};

#define N_CANDIDATES (sizeof(candidates) / sizeof(candidates[0]))

struct sample {
	char *buf;
	size_t len;
	size_t starts[DETECT_MAX_LINES];
	size_t lens[DETECT_MAX_LINES];
	size_t n;
};

/* Read up to DETECT_MAX_BYTES of path and cut it into non-blank lines. */
static int read_sample(const char *path, struct sample *s)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0) {
		return -errno;
	}
	s->buf = malloc(DETECT_MAX_BYTES);
	if (!s->buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < DETECT_MAX_BYTES) {
		ssize_t r = read(fd, s->buf + got, DETECT_MAX_BYTES - got);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (r == 0) {
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	s->len = got;
	for (size_t i = 0; i < got && s->n < DETECT_MAX_LINES;) {
		char *nl = memchr(s->buf + i, '\n', got - i);
		if (!nl && got == DETECT_MAX_BYTES) {
			break; /* cut by the cap */
		}
		size_t end = nl ? (size_t)(nl - s->buf) : got, len = end - i;
		if (len > 0 && s->buf[i + len - 1] == '\r') {
			len--;
		}
		if (len > 0) {
			s->starts[s->n] = i;
			s->lens[s->n++] = len;
		}
		i = end + 1;
	}
	return 0;
}

struct result {
	size_t parsed;
	size_t covered; /* bytes of the parsed lines the format described */
	size_t items;
	long first_failed; /* index of the first line that failed, -1: none */
	bool has_time;
	bool ok; /* the parser could be built */
};

static void try_candidate(const struct candidate *c, const struct sample *s, struct result *res)
{
	struct log_parser *p = NULL;
	struct log_record rec;

	memset(res, 0, sizeof(*res));
	res->first_failed = -1;
	if (logparse_create(c->kind, c->text, &p, NULL) < 0) {
		return;
	}
	res->ok = true;
	res->items = logparse_item_count(p);
	res->has_time = logparse_has_field(p, LOGFORMAT_FIELD_TIME_S) ||
	                logparse_has_field(p, LOGFORMAT_FIELD_TIME_MS) ||
	                logparse_has_field(p, LOGFORMAT_FIELD_TIME_US);
	for (size_t i = 0; i < s->n; i++) {
		if (logparse_line(p, s->buf + s->starts[i], s->lens[i], &rec) == 0) {
			res->parsed++;
			res->covered += logparse_matched_len(p);
		} else if (res->first_failed < 0) {
			res->first_failed = (long)i;
		}
	}
	logparse_destroy(p);
}

/* Single-quote s for a POSIX shell. */
static void put_shell(struct strbuf *b, const char *s)
{
	if (s[strspn(s,
	             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,+@%")] ==
	        '\0' &&
	    s[0] != '\0') {
		(void)strbuf_puts(b, s);
		return;
	}
	(void)strbuf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'') {
			(void)strbuf_puts(b, "'\\''");
		} else {
			(void)strbuf_putc(b, *s);
		}
	}
	(void)strbuf_putc(b, '\'');
}

/* Single-quoted YAML scalar. */
static void put_yaml(struct strbuf *b, const char *s)
{
	(void)strbuf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'') {
			(void)strbuf_puts(b, "''");
		} else {
			(void)strbuf_putc(b, *s);
		}
	}
	(void)strbuf_putc(b, '\'');
}

static void print_best(FILE *out, const char *path, const struct candidate *c,
                       const struct result *r)
{
	struct strbuf b;

	strbuf_init(&b, 64 * 1024);
	(void)strbuf_puts(&b, "  command:  accesslog_exporter --format ");
	(void)strbuf_puts(&b, c->kind_name);
	if (c->kind != LOGPARSE_PRESET && c->text) {
		(void)strbuf_puts(&b, " --log-format ");
		put_shell(&b, c->text);
	}
	(void)strbuf_putc(&b, ' ');
	put_shell(&b, path);
	(void)strbuf_puts(&b, "\n  YAML (config file):\n    sources:\n      - name: access\n"
	                      "        format: ");
	(void)strbuf_puts(&b, c->kind_name);
	if (c->kind != LOGPARSE_PRESET && c->text) {
		(void)strbuf_puts(&b, "\n        log_format: ");
		put_yaml(&b, c->text);
	}
	(void)strbuf_puts(&b, "\n        paths: [");
	put_yaml(&b, path);
	(void)strbuf_puts(&b, "]\n");
	if (!r->has_time && c->time_hint) {
		(void)strbuf_printf(&b,
		                    "  note: this format has no request time, so "
		                    "accesslog_http_request_duration_seconds stays empty; add %s\n",
		                    c->time_hint);
	}
	if (b.data) {
		fputs(b.data, out);
	}
	strbuf_finish(&b);
}

/* The diagnosis of the first line c failed. */
static void print_diagnosis(FILE *out, const struct candidate *c, const struct sample *s,
                            const struct result *r)
{
	struct log_parser *p = NULL;
	struct logparse_diag d;
	struct strbuf b;
	size_t i = (size_t)r->first_failed;

	if (r->first_failed < 0 || logparse_create(c->kind, c->text, &p, NULL) < 0) {
		return;
	}
	if (logparse_diagnose(p, s->buf + s->starts[i], s->lens[i], &d) == 0) {
		strbuf_init(&b, 4 * PARSEFAIL_LINE_MAX + 16);
		(void)parsefail_put_line(&b, s->buf + s->starts[i],
		                         s->lens[i] < PARSEFAIL_LINE_MAX ? s->lens[i]
		                                                         : PARSEFAIL_LINE_MAX);
		fprintf(out, "  why %s fails line %zu: %s\n    line: %s\n", c->label, i + 1,
		        d.message, b.data ? b.data : "");
		strbuf_finish(&b);
	}
	logparse_destroy(p);
}

/* More lines parsed; then more of each line described (main over
 * combined on lines with the X-Forwarded-For field); then more items. */
static bool better(const struct result *a, const struct result *b)
{
	if (a->parsed != b->parsed) {
		return a->parsed > b->parsed;
	}
	if (a->covered != b->covered) {
		return a->covered > b->covered;
	}
	return a->items > b->items;
}

/* When nothing parses: the text format whose match got furthest into the
 * first line (the largest diagnosis column) is the closest. */
static size_t closest_by_column(const struct sample *s)
{
	size_t best = 0, best_col = 0;

	for (size_t i = 0; i < N_CANDIDATES; i++) {
		struct log_parser *p = NULL;
		struct logparse_diag d;
		if (candidates[i].kind == LOGPARSE_JSON ||
		    logparse_create(candidates[i].kind, candidates[i].text, &p, NULL) < 0) {
			continue;
		}
		if (logparse_diagnose(p, s->buf + s->starts[0], s->lens[0], &d) == 0 &&
		    d.column > best_col) {
			best_col = d.column;
			best = i;
		}
		logparse_destroy(p);
	}
	return best;
}

static int detect_file(const char *path, FILE *out, FILE *err)
{
	struct sample *s = calloc(1, sizeof(*s));
	struct result res[N_CANDIDATES];
	size_t best = 0;
	int r;

	if (!s) {
		return 1;
	}
	r = read_sample(path, s);
	if (r == -ENOMEM) {
		fprintf(err, "accesslog_exporter: --detect: %s\n", strerror(ENOMEM));
		free(s->buf);
		free(s);
		return 1;
	}
	if (r < 0 || s->n == 0) {
		fprintf(err, "accesslog_exporter: --detect: %s: %s\n", path,
		        r < 0 ? strerror(-r) : "no lines to look at (empty file)");
		free(s->buf);
		free(s);
		return 1;
	}
	fprintf(out, "%s: %zu line%s sampled\n  %-32s %s\n", path, s->n, s->n == 1 ? "" : "s",
	        "format", "parsed");
	for (size_t i = 0; i < N_CANDIDATES; i++) {
		try_candidate(&candidates[i], s, &res[i]);
		fprintf(out, "  %-32s %5.1f%% (%zu/%zu)\n", candidates[i].label,
		        100.0 * (double)res[i].parsed / (double)s->n, res[i].parsed, s->n);
		if (better(&res[i], &res[best])) {
			best = i;
		}
	}
	bool fits = res[best].parsed * 100 >= (size_t)DETECT_GOOD_PERCENT * s->n;
	if (res[best].parsed == 0) {
		fprintf(out, "no format fits: no line parsed with any of them.\n");
	} else {
		fprintf(out, "%s: %s (%zu of %zu lines, %.1f%%)\n", fits ? "best" : "closest",
		        candidates[best].label, res[best].parsed, s->n,
		        100.0 * (double)res[best].parsed / (double)s->n);
		print_best(out, path, &candidates[best], &res[best]);
	}
	if (!fits) {
		/* the closest text format explains itself (JSON only if it came first) */
		size_t closest = res[best].parsed ? best : closest_by_column(s);
		print_diagnosis(out, &candidates[closest], s, &res[closest]);
		fprintf(out, "  none fits: paste your server's log_format / LogFormat with "
		             "--format nginx|apache --log-format '...', or describe the lines with "
		             "--format regex (named groups)\n");
	} else if (res[best].first_failed >= 0) {
		print_diagnosis(out, &candidates[best], s, &res[best]);
	}
	free(s->buf);
	free(s);
	return fits ? 0 : 1;
}

int detect_run(char *const *files, size_t n, FILE *out, FILE *err)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			fputc('\n', out);
		}
		if (detect_file(files[i], out, err) != 0) {
			rc = 1;
		}
	}
	(void)fflush(out);
	return rc;
}
