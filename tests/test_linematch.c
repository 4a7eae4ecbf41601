/*
 * test_linematch.c - the one-pass program against pcre2, line by line.
 *
 * Generated formats match with linematch (parsers/linematch.c) instead of
 * pcre2 when they can.  The program must give exactly what the pcre2
 * pattern gives: the same lines are parse errors, the same bytes land in
 * every field.  Every real log in tests/data (the parser goldens with their
 * formats, the golden and demo logs read as combined) is parsed three ways
 * (the program, pcre2's JIT, pcre2's interpreter) and compared; the error
 * set of each file must be the same for all three.  Then the first lines
 * of each file are mutated (cut at every byte, every byte replaced by each
 * of the bytes the pieces care about) and compared again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/logparse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FILE_MAX (512 * 1024)
#define MUTATE_LINES 12

struct logfile {
	const char *log;    /* under tests/ */
	const char *fmt;    /* data/parser/X.fmt, or NULL: the format below */
	const char *preset; /* a preset name, or an nginx log_format ('$...') */
};

#define MIGRATION_FORMAT                                                                           \
	"$host $remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "   \
	"\"$http_referer\" \"$http_user_agent\" $request_time $upstream_response_time \"$tier\""

static const struct logfile files[] = {
    {"data/parser/beats_nginx_ingress.log", "data/parser/beats_nginx_ingress.fmt", NULL},
    {"data/parser/beats_nginx_access.log", "data/parser/beats_nginx_access.fmt", NULL},
    {"data/parser/beats_nginx_with_host.log", "data/parser/beats_nginx_with_host.fmt", NULL},
    {"data/parser/beats_apache_darwin.log", "data/parser/beats_apache_darwin.fmt", NULL},
    {"data/parser/crowdsec_nginx_malformed.log", "data/parser/crowdsec_nginx_malformed.fmt", NULL},
    {"data/parser/crowdsec_apache_malformed.log", "data/parser/crowdsec_apache_malformed.fmt",
     NULL},
    {"data/parser/crowdsec_npm.log", "data/parser/crowdsec_npm.fmt", NULL},
    {"data/parser/crowdsec_npm_proxy.log", "data/parser/crowdsec_npm_proxy.fmt", NULL},
    {"data/parser/crowdsec_npm_malformed.log", "data/parser/crowdsec_npm_malformed.fmt", NULL},
    {"data/parser/mtail_apache_d.log", "data/parser/mtail_apache_d.fmt", NULL},
    {"data/parser/lnav_bad_access.log", "data/parser/lnav_bad_access.fmt", NULL},
    {"data/parser/examples_apache_crlf.log", "data/parser/examples_apache_crlf.fmt", NULL},
    {"data/golden/apache_combined.log", NULL, "combined"},
    {"data/golden/mixed_combined.log", NULL, "combined"},
    {"data/golden/mixed_combined.log", NULL, "main"},
    {"data/golden/mixed_combined.log", NULL, "vhost_combined"},
    {"data/golden/migration.log", NULL, "combined"},
    {"data/golden/migration.log", NULL, MIGRATION_FORMAT},
    {"data/golden/route_mapping.log", NULL, "combined"},
    {"data/demo.log", NULL, "combined"},
    {"data/demo.log", NULL, "common"},
    {"data/demo.log", NULL, "ingress"},
};

static char *read_all(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(FILE_MAX + 1);
	size_t n;

	if (fp == NULL || buf == NULL) {
		print_error("cannot read %s\n", path);
		fail();
	}
	n = fread(buf, 1, FILE_MAX, fp);
	fclose(fp);
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

/* mode 0: the program, 1: pcre2 JIT, 2: pcre2 interpreter */
static struct log_parser *make(enum logparse_kind kind, const char *text, int mode)
{
	struct logparse_opts o = {.no_linematch = mode >= 1, .no_jit = mode == 2};
	struct log_parser *p = NULL;
	struct logparse_error err;

	if (logparse_create_opts(kind, text, &o, &p, &err) < 0) {
		print_error("format: %s\n", err.message);
		fail();
	}
	return p;
}

static void parsers_for(const struct logfile *f, struct log_parser *ret[3])
{
	enum logparse_kind kind =
	    f->preset && f->preset[0] == '$' ? LOGPARSE_NGINX : LOGPARSE_PRESET;
	const char *text = f->preset;
	char *fmt = NULL;

	if (f->fmt != NULL) {
		size_t len;
		fmt = read_all(f->fmt, &len);
		char *nl = strchr(fmt, '\n');
		assert_non_null(nl);
		*nl = '\0';
		assert_int_equal(logparse_kind_from_name(fmt, &kind), 0);
		text = fmt;
		if (kind != LOGPARSE_PRESET) {
			text = nl + 1;
			char *nl2 = strchr(nl + 1, '\n');
			if (nl2 != NULL) {
				*nl2 = '\0';
			}
		}
	}
	for (int m = 0; m < 3; m++) {
		ret[m] = make(kind, text, m);
	}
	free(fmt);
}

static bool same_view(struct str_view a, struct str_view b)
{
	return a.len == b.len && (a.len == 0 || a.ptr == b.ptr);
}

static bool same_record(const struct log_record *a, const struct log_record *b)
{
	if (!same_view(a->method, b->method) || !same_view(a->path, b->path) ||
	    !same_view(a->protocol, b->protocol) || !same_view(a->vhost, b->vhost) ||
	    !same_view(a->remote_addr, b->remote_addr) || !same_view(a->log_time, b->log_time)) {
		return false;
	}
	if (a->status_slot != b->status_slot || a->bytes_sent != b->bytes_sent ||
	    a->has_bytes != b->has_bytes || a->has_request_time != b->has_request_time ||
	    a->request_time != b->request_time || a->has_upstream_time != b->has_upstream_time ||
	    a->upstream_time != b->upstream_time || a->upstream_attempts != b->upstream_attempts ||
	    a->upstream_status_slot != b->upstream_status_slot ||
	    a->log_time_form != b->log_time_form || a->n_extra != b->n_extra) {
		return false;
	}
	for (unsigned k = 0; k < a->n_extra; k++) {
		if (!same_view(a->extra[k], b->extra[k])) {
			return false;
		}
	}
	return true;
}

/* Parse one line three ways; fail with the line when they differ.  Returns
 * the program's rc. */
static int compare(struct log_parser *p[3], const char *where, const char *line, size_t len)
{
	struct log_record r[3];
	int rc[3];
	size_t ml[3] = {0, 0, 0};

	for (int m = 0; m < 3; m++) {
		rc[m] = logparse_line(p[m], line, len, &r[m]);
		if (rc[m] == 0) {
			ml[m] = logparse_matched_len(p[m]);
		}
	}
	for (int m = 1; m < 3; m++) {
		if (rc[m] != rc[0] ||
		    (rc[0] == 0 && (ml[m] != ml[0] || !same_record(&r[0], &r[m])))) {
			print_error(
			    "%s: mode %d differs from the program (rc %d vs %d, matched %zu "
			    "vs %zu): %.*s\n",
			    where, m, rc[m], rc[0], ml[m], ml[0], (int)(len > 300 ? 300 : len),
			    line);
			fail();
		}
	}
	return rc[0];
}

/* The real logs: identical error sets (and fields) with and without the
 * program; and the program is what runs for these formats. */
static void t_real_logs(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct log_parser *p[3];
		size_t len, pos = 0, lines = 0, errors = 0;
		char *log = read_all(files[i].log, &len);
		parsers_for(&files[i], p);
		while (pos < len) {
			const char *nl = memchr(log + pos, '\n', len - pos);
			size_t end = nl != NULL ? (size_t)(nl - log) : len;
			errors += compare(p, files[i].log, log + pos, end - pos) != 0;
			lines++;
			pos = end + 1;
		}
		print_message("# %s (%s): %zu lines, %zu parse errors, program %s\n", files[i].log,
		              files[i].preset ? files[i].preset : files[i].fmt, lines, errors,
		              logparse_is_linematch(p[0]) ? "used" : "not used (lazy piece)");
		for (int m = 0; m < 3; m++) {
			logparse_destroy(p[m]);
		}
		free(log);
	}
}

/* Cut every line at every byte and replace every byte by each byte some
 * piece stops at or branches on. */
static void t_mutations(void **state)
{
	static const char subst[] = "\"\\ ,][-\t.0:/H+\n";
	char buf[4096];
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct log_parser *p[3];
		size_t len, pos = 0;
		char *log = read_all(files[i].log, &len);
		parsers_for(&files[i], p);
		for (int n = 0; n < MUTATE_LINES && pos < len; n++) {
			const char *nl = memchr(log + pos, '\n', len - pos);
			size_t end = nl != NULL ? (size_t)(nl - log) : len;
			size_t ll = end - pos < sizeof(buf) ? end - pos : sizeof(buf);
			memcpy(buf, log + pos, ll);
			for (size_t cut = 0; cut <= ll; cut++) {
				(void)compare(p, "cut", buf, cut);
			}
			for (size_t at = 0; at < ll; at++) {
				char keep = buf[at];
				for (size_t s = 0; s < sizeof(subst) - 1; s++) {
					buf[at] = subst[s];
					(void)compare(p, "replaced", buf, ll);
				}
				buf[at] = keep;
			}
			pos = end + 1;
		}
		for (int m = 0; m < 3; m++) {
			logparse_destroy(p[m]);
		}
		free(log);
	}
}

/* Hand-made lines for the pieces the real logs rarely reach: lists with
 * half separators, HTTP/ without a version, escapes at the end, times
 * without a zone, requests that are not requests. */
static void t_edges(void **state)
{
	static const struct {
		enum logparse_kind kind;
		const char *format;
		const char *lines[12];
	} cases[] = {
	    {LOGPARSE_NGINX,
	     "$remote_addr [$time_local] $request $status $upstream_response_time "
	     "$upstream_status $request_time x",
	     {"1.2.3.4 [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.1 200 0.1, 0.2 : 0.3 200, 502 .5 "
	      "x",
	      "1.2.3.4, 5.6.7.8 [10/Oct/2000:13:55:36] GET / HTTP/ 200 - - - x",
	      "1.2.3.4 [10/Oct/2000:13:55:36 +07] - 200 0.1, 200 1. x",
	      "1.2.3.4 [10/Oct/2000:13:55:36 -0700] GET /a 200 0.1 : 200 : 404 0 x",
	      "1.2.3.4 : 5.6.7.8 [1/Oct/2000:13:55:36 -0700] GET /a 200 1 2 3 x",
	      "[::1]:80, unix:/x [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.1.1 200 . - . x",
	      "1.2.3.4 [10/Oct/2000:13:55:36 -0700] GET  / 200 0.1,0.2 200 1 x",
	      "1.2.3.4 [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.1 200 0.1, - 200, - 1 x y",
	      "1.2.3.4 [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.1 200 0.1,  0.2 200 1 x",
	      "1.2.3.4 [10/Oct/2000:13:55:36 -0700]  200 1 200 1 x", NULL}},
	    {LOGPARSE_APACHE,
	     "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D %{Host}i",
	     {"h - - [x] \"GET / HTTP/1.1\" 200 1 \"a\\\"b\" \"c\\\\\" 12 example.com",
	      "h - - [x] \"GET / HTTP/1.1\" 200 1 \"a\\\" \"c\" 12 example.com",
	      "h - - [x] \"GET / HTTP/1.1\" 200 1 \"a\" \"c\\",
	      "h - - [] \"\" 200 - \"\" \"\" - ex/ample",
	      "h - - [x] \"GET / HTTP/1.1\" 200 1 \"a\" \"c\" 12 example.com\textra",
	      "h - - [x] \"GET / HTTP/1.1\" 200 1 \"a\" \"c\" 12 example.com?",
	      "h - - [x \"GET / HTTP/1.1\" 200 1 \"a\" \"c\" 12 example.com", NULL}},
	    {LOGPARSE_NGINX,
	     "[$time_local] $status $request_time $http_user_agent",
	     {"[10/Oct/2000:13:55:36 -0700] 200 0.1 curl/8 (x y)", "[10/Oct/2000:13:55:36] 200 - ",
	      "[10/Oct/2000:13:55:36 -07001] 200 .1 a", NULL}},
	};
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct log_parser *p[3];
		for (int m = 0; m < 3; m++) {
			p[m] = make(cases[c].kind, cases[c].format, m);
		}
		assert_true(logparse_is_linematch(p[0]));
		for (size_t l = 0; cases[c].lines[l] != NULL; l++) {
			const char *line = cases[c].lines[l];
			size_t len = strlen(line);
			for (size_t cut = 0; cut <= len; cut++) {
				(void)compare(p, cases[c].format, line, cut);
			}
		}
		for (int m = 0; m < 3; m++) {
			logparse_destroy(p[m]);
		}
	}
}

/* Which formats get a program: every preset; not a format with a lazy
 * piece (free text before a blank, a token glued to the next item). */
static void t_which_formats(void **state)
{
	static const struct {
		enum logparse_kind kind;
		const char *text;
		bool program;
	} cases[] = {
	    {LOGPARSE_PRESET, "combined", true},
	    {LOGPARSE_PRESET, "common", true},
	    {LOGPARSE_PRESET, "vhost_combined", true},
	    {LOGPARSE_PRESET, "main", true},
	    {LOGPARSE_PRESET, "ingress", true},
	    {LOGPARSE_NGINX, "$status $http_user_agent $request_time", false},
	    {LOGPARSE_NGINX, "$status $tier$request_time", false},
	    {LOGPARSE_NGINX, "$status \"$http_user_agent\" $request_time", true},
	    {LOGPARSE_REGEX, "^(?<status>\\d+)", false},
	    {LOGPARSE_JSON, NULL, false},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct log_parser *p = NULL;
		assert_int_equal(logparse_create(cases[i].kind, cases[i].text, &p, NULL), 0);
		if (logparse_is_linematch(p) != cases[i].program) {
			print_error("%s: program %d\n", cases[i].text ? cases[i].text : "json",
			            cases[i].program);
			fail();
		}
		logparse_destroy(p);
		struct logparse_opts o = {.no_linematch = true};
		assert_int_equal(logparse_create_opts(cases[i].kind, cases[i].text, &o, &p, NULL),
		                 0);
		assert_false(logparse_is_linematch(p));
		logparse_destroy(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_real_logs),
	    cmocka_unit_test(t_mutations),
	    cmocka_unit_test(t_edges),
	    cmocka_unit_test(t_which_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
