/*
 * test_metrics_render.c - what a scrape shows of young series: the
 * new-series hold (clock injected), the per-class totals that exist from
 * the start, and the OpenMetrics _created samples, against golden files in
 * tests/data/render/ (ACCESSLOG_UPDATE_GOLDEN=1 rewrites them).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/metrics/metrics.h"
#include "parsers/status.h"
#include "tests/fakeclock.h"
#include "tests/fieldlabel.h"

static struct metrics *registry(struct fake_clock *c, uint64_t hold_ms, bool created)
{
	return fake_registry(c, hold_ms, created);
}

static struct log_record rec(const char *method, unsigned code, const char *vhost, double t)
{
	struct log_record r;

	memset(&r, 0, sizeof(r));
	r.method = (struct str_view){method, strlen(method)};
	r.status_slot = status_slot_from_code(code);
	r.bytes_sent = 10;
	r.has_bytes = true;
	r.request_time = t;
	r.has_request_time = true;
	if (vhost) {
		r.vhost = (struct str_view){vhost, strlen(vhost)};
	}
	return r;
}

static void observe(struct metrics_source *s, const char *method, unsigned code, const char *vhost,
                    int n)
{
	for (int i = 0; i < n; i++) {
		struct log_record r = rec(method, code, vhost, 0.25);
		metrics_observe(s, &r);
	}
}

static char *render(struct metrics *m, enum expo_format f)
{
	struct strbuf b;

	strbuf_init(&b, 1 << 24);
	assert_int_equal(metrics_render(m, f, &b), 0);
	return strbuf_steal(&b, NULL);
}

/* The value of the sample whose line starts with head ("name{labels}"), or -1. */
static double sample(const char *text, const char *head)
{
	size_t n = strlen(head);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, head, n) == 0 && p[n] == ' ') {
			return strtod(p + n + 1, NULL);
		}
	}
	return -1;
}

#define R503                                                                                       \
	"accesslog_http_responses_total{source=\"web\",code=\"503\",class=\"5xx\","                \
	"reason=\"Service Unavailable\",method=\"GET\"}"
#define R200                                                                                       \
	"accesslog_http_responses_total{source=\"web\",code=\"200\",class=\"2xx\","                \
	"reason=\"OK\",method=\"GET\"}"
#define C5XX "accesslog_http_responses_by_class_total{source=\"web\",class=\"5xx\"}"
#define C2XX "accesslog_http_responses_by_class_total{source=\"web\",class=\"2xx\"}"
#define LINES "accesslog_log_lines_total{source=\"web\"}"
#define H5XX_INF                                                                                   \
	"accesslog_http_request_duration_seconds_bucket{source=\"web\",method=\"GET\",class="      \
	"\"5xx\",le=\"+Inf\"}"
#define H5XX_SUM                                                                                   \
	"accesslog_http_request_duration_seconds_sum{source=\"web\",method=\"GET\",class=\"5xx\"}"
#define B5XX "accesslog_http_response_bytes_total{source=\"web\",method=\"GET\",class=\"5xx\"}"

struct expect {
	const char *head;
	double value;
};

static void check(struct metrics *m, const struct expect *e, size_t n)
{
	char *text = render(m, EXPO_TEXT);

	for (size_t i = 0; i < n; i++) {
		double got = sample(text, e[i].head);
		if (got != e[i].value) {
			fail_msg("%s: want %g, got %g", e[i].head, e[i].value, got);
		}
	}
	free(text);
}

/* A source created at T0 with 200s, then a first burst of 503s at T0+70s:
 * each series reads 0 for the hold after its own creation, then its value. */
static void t_hold_flat(void **state)
{
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 60000, false);
	struct metrics_source *s;
	(void)state;

	assert_int_equal(metrics_add_source(m, "web", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	metrics_count(s, METRICS_LINES, 5);
	c.now = T0 + 1000;
	observe(s, "GET", 200, NULL, 5);
	/* Everything is young: the source's families and the 200 series. */
	const struct expect young[] = {{R200, 0}, {C2XX, 0}, {C5XX, 0}, {LINES, 0}, {R503, -1}};
	check(m, young, sizeof(young) / sizeof(young[0]));
	c.now = T0 + 60000; /* the source's hold is over, the 200's not yet */
	const struct expect t60[] = {{R200, 0}, {C2XX, 5}, {C5XX, 0}, {LINES, 5}};
	check(m, t60, sizeof(t60) / sizeof(t60[0]));
	c.now = T0 + 61000;
	const struct expect t61[] = {{R200, 5}, {C2XX, 5}};
	check(m, t61, sizeof(t61) / sizeof(t61[0]));
	/* The burst: a new series, held with its bytes and histogram series; the
	 * class total existed at 0 and shows it at once. */
	c.now = T0 + 70000;
	observe(s, "GET", 503, NULL, 1000);
	const struct expect burst[] = {{R503, 0},     {C5XX, 1000},  {B5XX, 0},
	                               {H5XX_INF, 0}, {H5XX_SUM, 0}, {R200, 5}};
	check(m, burst, sizeof(burst) / sizeof(burst[0]));
	c.now = T0 + 129999;
	check(m, burst, sizeof(burst) / sizeof(burst[0]));
	c.now = T0 + 130000;
	const struct expect after[] = {
	    {R503, 1000}, {B5XX, 10000}, {H5XX_INF, 1000}, {H5XX_SUM, 250}};
	check(m, after, sizeof(after) / sizeof(after[0]));
	/* The counting itself never waited. */
	assert_int_equal(metrics_get_responses(s, status_slot_from_code(503)), 1000);
	metrics_destroy(m);
}

static void t_hold_off(void **state)
{
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 0, false);
	struct metrics_source *s;
	(void)state;

	assert_int_equal(metrics_add_source(m, "web", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	observe(s, "GET", 503, NULL, 3);
	const struct expect e[] = {{R503, 3}, {C5XX, 3}, {H5XX_INF, 3}};
	check(m, e, sizeof(e) / sizeof(e[0]));
	metrics_destroy(m);
}

static const struct config_field_label vhost_label[] = {
    FIELD_LABEL("vhost", VHOST),
};

/* Field-label series carry their creation time: a new vhost is held, an
 * old one is not, and the class totals (no field labels) sum both. */
static void t_hold_field_labels(void **state)
{
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 10000, false);
	struct metrics_source *s;
	(void)state;

	assert_int_equal(metrics_add_source(m, "web", NULL, 0, vhost_label, 1, &s, NULL, 0), 0);
	observe(s, "GET", 200, "a.example", 4);
	c.now = T0 + 20000;
	observe(s, "GET", 200, "b.example", 6);
	const char *a = "accesslog_http_responses_total{source=\"web\",vhost=\"a.example\",code="
	                "\"200\",class=\"2xx\",reason=\"OK\",method=\"GET\"}";
	const char *b = "accesslog_http_responses_total{source=\"web\",vhost=\"b.example\",code="
	                "\"200\",class=\"2xx\",reason=\"OK\",method=\"GET\"}";
	const struct expect e[] = {{a, 4}, {b, 0}, {C2XX, 10}};
	check(m, e, sizeof(e) / sizeof(e[0]));
	c.now = T0 + 30000;
	const struct expect e2[] = {{a, 4}, {b, 6}};
	check(m, e2, sizeof(e2) / sizeof(e2[0]));
	metrics_destroy(m);
}

/* Every class of every source from the start, equal to the per-code sums. */
static void t_class_totals(void **state)
{
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 0, false);
	struct metrics_source *s;
	(void)state;

	assert_int_equal(metrics_add_source(m, "web", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	char *text = render(m, EXPO_TEXT);
	static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "invalid"};
	for (size_t i = 0; i < 6; i++) {
		char head[128];
		(void)snprintf(
		    head, sizeof(head),
		    "accesslog_http_responses_by_class_total{source=\"web\",class=\"%s\"}",
		    classes[i]);
		assert_true(sample(text, head) == 0);
	}
	free(text);
	observe(s, "GET", 200, NULL, 2);
	observe(s, "POST", 201, NULL, 3);
	observe(s, "GET", 999, NULL, 1);
	const struct expect e[] = {
	    {C2XX, 5},
	    {"accesslog_http_responses_by_class_total{source=\"web\",class=\"invalid\"}", 1}};
	check(m, e, sizeof(e) / sizeof(e[0]));
	metrics_destroy(m);
}

/* The responses walk skips codes without counts after a pass over the
 * cells in memory order (four at a time, then the tail: slot 500 is the
 * invalid code): codes at both ends of a group of four, the last slots and
 * methods far apart render with their values, nothing else does, and the
 * class totals add up; the label fragments are made by the first render
 * and the second render is the same. */
static void t_sparse_codes(void **state)
{
	static const struct {
		const char *method;
		unsigned code, n;
	} cells[] = {{"GET", 100, 1},  {"DELETE", 103, 2}, {"PATCH", 104, 3}, {"GET", 598, 4},
	             {"POST", 599, 5}, {"GET", 999, 6},    {"HEAD", 999, 7},  {"OPTIONS", 404, 8}};
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 0, false);
	struct metrics_source *s;
	(void)state;

	assert_int_equal(metrics_add_source(m, "web", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		observe(s, cells[i].method, cells[i].code, NULL, (int)cells[i].n);
	}
	char *text = render(m, EXPO_TEXT), *again = render(m, EXPO_TEXT);
	assert_string_equal(text, again);
	size_t lines = 0;
	for (const char *p = strstr(text, "accesslog_http_responses_total{"); p;
	     p = strstr(p + 1, "accesslog_http_responses_total{")) {
		lines++;
	}
	assert_int_equal(lines, sizeof(cells) / sizeof(cells[0]));
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		char code[8], needle[160];
		(void)snprintf(code, sizeof(code), "%u", cells[i].code);
		(void)snprintf(needle, sizeof(needle), "code=\"%s\"",
		               cells[i].code == 999 ? "invalid" : code);
		const char *p = strstr(text, needle);
		bool found = false;
		for (; p; p = strstr(p + 1, needle)) {
			const char *eol = strchr(p, '\n');
			char meth[48];
			(void)snprintf(meth, sizeof(meth), "method=\"%s\"} %u", cells[i].method,
			               cells[i].n);
			const char *mp = strstr(p, meth);
			found = found || (mp && mp < eol);
		}
		if (!found) {
			fail_msg("%s %u not rendered as %u", cells[i].method, cells[i].code,
			         cells[i].n);
		}
	}
	const struct expect e[] = {
	    {"accesslog_http_responses_by_class_total{source=\"web\",class=\"1xx\"}", 6},
	    {"accesslog_http_responses_by_class_total{source=\"web\",class=\"4xx\"}", 8},
	    {C5XX, 9},
	    {"accesslog_http_responses_by_class_total{source=\"web\",class=\"invalid\"}", 13}};
	check(m, e, sizeof(e) / sizeof(e[0]));
	free(text);
	free(again);
	metrics_destroy(m);
}

/* A journaled piece (--threads, --backfill steps) keeps no birth times;
 * merged, its series are born in the destination at the merge, as if
 * counted there: _created is the destination's clock at the merge. */
static void t_merge_births(void **state)
{
	struct fake_clock c = {T0}, cp = {T0 + 5000};
	struct metrics *m = registry(&c, 0, true), *pieces = registry(&cp, 0, false);
	struct metrics_source *s, *sj;
	(void)state;

	assert_int_equal(metrics_add_source(m, "web", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	assert_int_equal(metrics_add_source(pieces, "web", NULL, 0, NULL, 0, &sj, NULL, 0), 0);
	assert_int_equal(metrics_source_journal_sums(sj), 0);
	observe(sj, "GET", 200, NULL, 3);
	c.now = T0 + 1234;
	assert_int_equal(metrics_source_merge(s, sj), 0);
	observe(sj, "GET", 200, NULL, 2);
	c.now = T0 + 9000;
	assert_int_equal(metrics_source_merge(s, sj), 0);
	char *text = render(m, EXPO_OPENMETRICS);
	const char *head = "accesslog_http_responses_created{source=\"web\",code=\"200\","
	                   "class=\"2xx\",reason=\"OK\",method=\"GET\"}";
	assert_true(sample(text, head) == (double)(T0 + 1234) / 1000.0);
	assert_true(sample(text, R200) == 5);
	free(text);
	metrics_destroy(m);
	metrics_destroy(pieces);
}

static size_t get_varint(const char *d, size_t len, size_t *pos)
{
	size_t v = 0;

	for (unsigned shift = 0; *pos < len && shift < 64; shift += 7) {
		unsigned char c = (unsigned char)d[(*pos)++];
		v |= (size_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			return v;
		}
	}
	fail_msg("bad varint");
	return 0;
}

/* Drop what varies with the build: the build-info line of the text formats,
 * the build-info family (its delimited message) of protobuf. */
static size_t keep_stable(const char *in, size_t len, char *kept, enum expo_format f)
{
	static const char info[] = "accesslog_build_info";
	size_t n = 0;

	for (size_t pos = 0; pos < len;) {
		size_t start = pos, end;
		if (f == EXPO_PROTOBUF) {
			size_t body = get_varint(in, len, &pos);
			end = pos + body;
			assert_true(end <= len);
			/* The family's first field is its name: tag 0x0a, length, bytes. */
			bool skip = body > 2 + strlen(info) && in[pos] == 0x0a &&
			            (size_t)in[pos + 1] == strlen(info) &&
			            memcmp(in + pos + 2, info, strlen(info)) == 0;
			if (!skip) {
				memcpy(kept + n, in + start, end - start);
				n += end - start;
			}
		} else {
			const char *nl = memchr(in + pos, '\n', len - pos);
			end = nl ? (size_t)(nl - in) + 1 : len;
			if (strncmp(in + pos, info, strlen(info)) != 0) {
				memcpy(kept + n, in + start, end - start);
				n += end - start;
			}
		}
		pos = end;
	}
	return n;
}

/* Render with a fixed clock and compare with a golden file (what varies
 * with the build is left out). */
static void golden(struct metrics *m, enum expo_format f, const char *path)
{
	struct strbuf b;
	char *kept;
	size_t n;

	strbuf_init(&b, 1 << 24);
	assert_int_equal(metrics_render(m, f, &b), 0);
	kept = calloc(1, b.len + 1);
	assert_non_null(kept);
	n = keep_stable(b.data, b.len, kept, f);
	strbuf_finish(&b);
	if (getenv("ACCESSLOG_UPDATE_GOLDEN")) {
		FILE *out = fopen(path, "wb");
		assert_non_null(out);
		assert_int_equal(fwrite(kept, 1, n, out), n);
		assert_int_equal(fclose(out), 0);
	}
	FILE *in = fopen(path, "rb");
	assert_non_null(in);
	char *want = calloc(1, n + 2);
	size_t got = fread(want, 1, n + 1, in);
	fclose(in);
	if (got != n || memcmp(want, kept, n) != 0) {
		fail_msg("%s differs from the render (%zu bytes, file %zu)%s%s", path, n, got,
		         f == EXPO_PROTOBUF ? "" : ":\n", f == EXPO_PROTOBUF ? "" : kept);
	}
	free(want);
	free(kept);
}

/* One source with a young and an old series, one with field labels. */
static struct metrics *golden_registry(struct fake_clock *c, bool created)
{
	struct metrics *m = registry(c, 60000, created);
	struct metrics_source *s, *v;

	assert_int_equal(metrics_add_source(m, "web", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	assert_int_equal(metrics_add_source(m, "vh", NULL, 0, vhost_label, 1, &v, NULL, 0), 0);
	c->now = T0 + 1234;
	observe(s, "GET", 200, NULL, 3);
	observe(v, "GET", 200, "a.example", 2);
	metrics_count(s, METRICS_LINES, 3);
	metrics_count(v, METRICS_LINES, 2);
	c->now = T0 + 90000;
	observe(s, "POST", 502, NULL, 7);
	metrics_count(s, METRICS_LINES, 7);
	c->now = T0 + 100000; /* the 502 series is 10 s old: held */
	return m;
}

static void t_golden_openmetrics(void **state)
{
	static const struct {
		bool created;
		enum expo_format f;
		const char *path;
	} cases[] = {
	    {true, EXPO_OPENMETRICS, "data/render/hold_created.om"},
	    {false, EXPO_OPENMETRICS, "data/render/hold.om"},
	    {true, EXPO_TEXT, "data/render/hold.prom"}, /* text 0.0.4: never _created */
	    /* Protobuf always carries the creation times (created or not); its
	     * decoded content must equal hold_created.om: tests/protobuf/check_golden. */
	    {false, EXPO_PROTOBUF, "data/render/hold.pb"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_clock c = {T0};
		struct metrics *m = golden_registry(&c, cases[i].created);
		golden(m, cases[i].f, cases[i].path);
		metrics_destroy(m);
	}
}

/* Label values protobuf writes raw and the text formats escape: quotes,
 * backslashes, newlines, non-ASCII, invalid UTF-8 (U+FFFD in both), and a
 * value long enough for two-byte lengths; static labels next to field
 * labels.  labels.pb decoded must equal labels.om (check_golden). */
static void t_golden_labels(void **state)
{
	static const struct config_label statics[] = {
	    {(char *)"env", (char *)"prod \"eu\"\\1"},
	    {(char *)"team", (char *)"caf\xc3\xa9"},
	};
	static const enum expo_format formats[] = {EXPO_OPENMETRICS, EXPO_PROTOBUF};
	static const char *const paths[] = {"data/render/labels.om", "data/render/labels.pb"};
	char long_value[301];
	(void)state;

	memset(long_value, 'v', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	for (size_t i = 0; i < 2; i++) {
		struct fake_clock c = {T0};
		struct metrics *m = registry(&c, 0, true);
		struct metrics_source *s;
		assert_int_equal(
		    metrics_add_source(m, "st", statics, 2, vhost_label, 1, &s, NULL, 0), 0);
		c.now = T0 + 1;
		observe(s, "GET", 200, "a\nb\\c\"d", 1);
		c.now = T0 + 999;
		observe(s, "PUT", 404, "bad\xff\xfe\xc3(", 2);
		c.now = T0 + 1000;
		observe(s, "DELETE", 500, long_value, 3);
		golden(m, formats[i], paths[i]);
		metrics_destroy(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_hold_flat),          cmocka_unit_test(t_hold_off),
	    cmocka_unit_test(t_hold_field_labels),  cmocka_unit_test(t_class_totals),
	    cmocka_unit_test(t_sparse_codes),       cmocka_unit_test(t_merge_births),
	    cmocka_unit_test(t_golden_openmetrics), cmocka_unit_test(t_golden_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
