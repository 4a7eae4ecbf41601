/*
 * test_metrics.c - the registry: counting, rendering, histograms and the
 * checkpoint save/restore round trip.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "tests/fieldlabel.h"
#include "tests/textcheck.h"

static const double buckets[] = {0.1, 0.5, 1};

static struct metrics *new_registry(void)
{
	struct metrics_options o = {.request_buckets = buckets,
	                            .n_request_buckets = 3,
	                            .upstream_buckets = buckets,
	                            .n_upstream_buckets = 3};
	struct metrics *m = metrics_create(&o);
	assert_non_null(m);
	return m;
}

static struct log_record rec(const char *method, unsigned code, double t)
{
	struct log_record r;
	memset(&r, 0, sizeof(r));
	r.method.ptr = method;
	r.method.len = strlen(method);
	r.status_slot = status_slot_from_code(code);
	r.bytes_sent = 100;
	r.has_bytes = true;
	if (t >= 0) {
		r.request_time = t;
		r.has_request_time = true;
	}
	return r;
}

static char *render(struct metrics *m, enum expo_format f)
{
	struct strbuf b;
	strbuf_init(&b, 1 << 26);
	assert_int_equal(metrics_render(m, f, &b), 0);
	return strbuf_steal(&b, NULL);
}

static void t_counts_and_labels(void **state)
{
	struct metrics *m = new_registry();
	struct metrics_source *s;
	struct config_label l = {(char *)"env", (char *)"prod"};
	(void)state;

	assert_int_equal(metrics_add_source(m, "web", &l, 1, NULL, 0, &s, NULL, 0), 0);
	assert_int_equal(metrics_add_source(m, "web", NULL, 0, NULL, 0, &s, NULL, 0), -EEXIST);
	for (int i = 0; i < 5; i++) {
		struct log_record r = rec("GET", 404, -1);
		metrics_observe(s, &r);
	}
	struct log_record r = rec("BREW", 499, -1);
	metrics_observe(s, &r);
	r = rec("", 600, -1);
	metrics_observe(s, &r);
	metrics_count(s, METRICS_LINES, 8);
	metrics_count(s, METRICS_PARSE_ERRORS, 1);
	assert_int_equal(metrics_get_responses(s, status_slot_from_code(404)), 5);
	assert_int_equal(metrics_get(s, METRICS_LINES), 8);

	char *out = render(m, EXPO_TEXT);
	assert_non_null(strstr(out, "accesslog_http_responses_total{source=\"web\",env=\"prod\","
	                            "code=\"404\",class=\"4xx\",reason=\"Not Found\","
	                            "method=\"GET\"} 5\n"));
	assert_non_null(strstr(out, "code=\"499\",class=\"4xx\",reason=\"Client Closed Request\","
	                            "method=\"other\"} 1\n"));
	assert_non_null(strstr(out, "code=\"invalid\",class=\"invalid\",reason=\"Invalid\","
	                            "method=\"other\"} 1\n"));
	assert_non_null(strstr(out, "accesslog_log_lines_total{source=\"web\",env=\"prod\"} 8\n"));
	assert_non_null(strstr(out, "accesslog_http_status_info{code=\"444\",class=\"4xx\","
	                            "reason=\"No Response\",origin=\"nginx\"} 1\n"));
	assert_non_null(strstr(out, "# TYPE accesslog_http_responses_total counter\n"));
	assert_null(strstr(out, "code=\"200\",class=\"2xx\",reason=\"OK\",method="));
	free(out);
	metrics_destroy(m);
	metrics_destroy(NULL);
}

static void t_histogram_consistent(void **state)
{
	struct metrics *m = new_registry();
	struct metrics_source *s;
	static const double times[] = {0.05, 0.1, 0.2, 0.7, 3, 0};
	(void)state;

	assert_int_equal(metrics_add_source(m, "h", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		struct log_record r = rec("POST", 200, times[i]);
		metrics_observe(s, &r);
	}
	char *out = render(m, EXPO_TEXT);
	const char *p =
	    "accesslog_http_request_duration_seconds_bucket{source=\"h\",method=\"POST\","
	    "class=\"2xx\",le=";
	char want[512];
	static const struct {
		const char *le;
		int n;
	} b[] = {{"0.1", 3}, {"0.5", 4}, {"1.0", 5}, {"+Inf", 6}};
	for (size_t i = 0; i < 4; i++) {
		(void)snprintf(want, sizeof(want), "%s\"%s\"} %d\n", p, b[i].le, b[i].n);
		assert_non_null(strstr(out, want));
	}
	assert_non_null(strstr(out, "accesslog_http_request_duration_seconds_count{source=\"h\","
	                            "method=\"POST\",class=\"2xx\"} 6\n"));
	assert_non_null(strstr(out, "accesslog_http_request_duration_seconds_sum{source=\"h\","
	                            "method=\"POST\",class=\"2xx\"} 4.05\n"));
	assert_non_null(strstr(out, "accesslog_http_response_bytes_total{source=\"h\","
	                            "method=\"POST\",class=\"2xx\"} 600\n"));
	free(out);
	metrics_destroy(m);
}

static void t_save_restore(void **state)
{
	struct metrics *a = new_registry(), *b = new_registry();
	struct metrics_source *sa, *sb;
	struct strbuf saved, again;
	(void)state;

	assert_int_equal(metrics_add_source(a, "x", NULL, 0, NULL, 0, &sa, NULL, 0), 0);
	assert_int_equal(metrics_add_source(b, "x", NULL, 0, NULL, 0, &sb, NULL, 0), 0);
	for (unsigned i = 0; i < 1000; i++) {
		struct log_record r = rec(i % 2 ? "GET" : "PUT", 100 + i % 500, (i % 17) * 0.1);
		r.upstream_time = 0.01 * (i % 7);
		r.has_upstream_time = i % 3 == 0;
		metrics_observe(sa, &r);
	}
	metrics_count(sa, METRICS_LINES, 1234);
	metrics_count(sa, METRICS_ROTATIONS, 2);
	strbuf_init(&saved, 1 << 24);
	strbuf_init(&again, 1 << 24);
	assert_int_equal(metrics_source_save(sa, &saved), 0);
	assert_int_equal(metrics_source_restore(sb, saved.data, saved.len), 0);
	assert_int_equal(metrics_source_save(sb, &again), 0);
	assert_int_equal(saved.len, again.len);
	assert_memory_equal(saved.data, again.data, saved.len);
	char *ra = render(a, EXPO_TEXT), *rb = render(b, EXPO_TEXT);
	assert_string_equal(ra, rb);
	free(ra);
	free(rb);

	/* a malformed file restores nothing */
	static const char *const bad[] = {"c lines x\n",
	                                  "r GET 700 1\n",
	                                  "c nosuch 1\n",
	                                  "r GET 200\n",
	                                  "c lines 99999999999999999999999\n",
	                                  "h req GET 2xx i zz 1\n",
	                                  "q\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		int n = snprintf(text, sizeof(text), "c lines 5\n%s", bad[i]);
		assert_int_equal(metrics_source_restore(sb, text, (size_t)n), -EINVAL);
	}
	assert_int_equal(metrics_get(sb, METRICS_LINES), 1234);
	strbuf_finish(&saved);
	strbuf_finish(&again);
	metrics_destroy(a);
	metrics_destroy(b);
}

static void t_method_labels(void **state)
{
	(void)state;
	static const char *const known[] = {
	    "GET",   "HEAD",     "POST",      "PUT",   "DELETE", "CONNECT", "OPTIONS", "TRACE",
	    "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY",   "MOVE",    "LOCK",    "UNLOCK"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		assert_string_equal(metrics_method_label(known[i], strlen(known[i])), known[i]);
	}
	assert_string_equal(metrics_method_label("GET", 3), "GET");
	assert_string_equal(metrics_method_label("PROPFIND", 8), "PROPFIND");
	assert_string_equal(metrics_method_label("get", 3), "other");
	assert_string_equal(metrics_method_label("GETX", 4), "other");
	assert_string_equal(metrics_method_label("", 0), "other");
}

static void t_bad_buckets(void **state)
{
	static const double unsorted[] = {1, 0.5};
	struct metrics_options o = {.request_buckets = unsorted,
	                            .n_request_buckets = 2,
	                            .upstream_buckets = buckets,
	                            .n_upstream_buckets = 3};
	(void)state;
	assert_null(metrics_create(&o));
}

/* ---- helpers for the label-set tests ------------------------------------- */

static struct metrics *registry_with(bool no_class, bool no_reason, size_t limit)
{
	struct metrics_options o = {.request_buckets = buckets,
	                            .n_request_buckets = 3,
	                            .upstream_buckets = buckets,
	                            .n_upstream_buckets = 3,
	                            .no_class_label = no_class,
	                            .no_reason_label = no_reason,
	                            .series_limit = limit};
	struct metrics *m = metrics_create(&o);
	assert_non_null(m);
	return m;
}

static struct log_record vrec(const char *method, unsigned code, const char *vhost,
                              const char *path)
{
	struct log_record r = rec(method, code, 0.2);
	r.vhost = (struct str_view){vhost, strlen(vhost)};
	r.path = (struct str_view){path, strlen(path)};
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fail on any sample (name + labels) that appears twice; returns the sample count. */
static size_t assert_no_duplicates(const char *text)
{
	size_t n = 0, cap = 1024;
	char **keys = malloc(cap * sizeof(*keys));
	const char *p = text;

	assert_non_null(keys);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len && p[0] != '#') {
			const char *sp = p + len;
			while (sp > p && sp[-1] != ' ') {
				sp--;
			}
			assert_true(sp > p);
			if (n == cap) {
				cap *= 2;
				keys = realloc(keys, cap * sizeof(*keys));
				assert_non_null(keys);
			}
			keys[n] = strndup(p, (size_t)(sp - p - 1));
			assert_non_null(keys[n]);
			n++;
		}
		p += len + (nl ? 1 : 0);
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i - 1], keys[i]) == 0) {
			fail_msg("duplicate series: %s", keys[i]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
	}
	free(keys);
	return n;
}

static void t_drop_class_reason(void **state)
{
	struct metrics *m = registry_with(true, true, 0);
	struct metrics_source *s;
	struct log_record r = rec("GET", 503, -1);
	(void)state;

	assert_int_equal(metrics_add_source(m, "w", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	metrics_observe(s, &r);
	char *out = render(m, EXPO_TEXT);
	assert_non_null(strstr(out, "accesslog_http_responses_total{source=\"w\",code=\"503\","
	                            "method=\"GET\"} 1\n"));
	assert_null(strstr(out, "reason=\"Service Unavailable\",method"));
	free(out);
	metrics_destroy(m);

	m = registry_with(false, true, 0);
	assert_int_equal(metrics_add_source(m, "w", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	metrics_observe(s, &r);
	out = render(m, EXPO_TEXT);
	assert_non_null(strstr(out, "accesslog_http_responses_total{source=\"w\",code=\"503\","
	                            "class=\"5xx\",method=\"GET\"} 1\n"));
	free(out);
	metrics_destroy(m);
}

static const struct config_field_label vhost_path[] = {
    FIELD_LABEL_RULE("vhost", VHOST, "(?:www\\.)?([a-z.]+)", "$1"),
    FIELD_LABEL_RULE("route", PATH, "/(api|static)/.*", "/$1"),
};

struct field_case {
	const char *vhost, *path;
	const char *want; /* the label pair text expected in the output */
};

/* metrics_source_merge gives what save + restore give (the same additions,
 * histogram sums included), zeroes the source, refuses field labels. */
static void t_merge(void **state)
{
	struct metrics *a = new_registry(), *b = new_registry(), *c = new_registry();
	struct metrics_source *sa, *sb, *sc, *sf;
	struct strbuf saved;
	(void)state;

	assert_int_equal(metrics_add_source(a, "x", NULL, 0, NULL, 0, &sa, NULL, 0), 0);
	assert_int_equal(metrics_add_source(b, "x", NULL, 0, NULL, 0, &sb, NULL, 0), 0);
	assert_int_equal(metrics_add_source(c, "x", NULL, 0, NULL, 0, &sc, NULL, 0), 0);
	strbuf_init(&saved, 1 << 24);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 500; i++) {
			struct log_record r =
			    rec(i % 3 ? "GET" : "POST", 100 + (i * 7 + round) % 500,
			        (i % 13) * 0.037 + round);
			r.upstream_time = 0.013 * (i % 5);
			r.has_upstream_time = i % 4 == 0;
			metrics_observe(sa, &r);
		}
		metrics_count(sa, METRICS_LINES, 500);
		strbuf_reset(&saved);
		assert_int_equal(metrics_source_save(sa, &saved), 0);
		assert_int_equal(metrics_source_restore(sc, saved.data, saved.len), 0);
		assert_int_equal(metrics_source_merge(sb, sa), 0);
		/* sa is zero again: nothing renders for it but zeros */
		assert_int_equal(metrics_get(sa, METRICS_LINES), 0);
		assert_int_equal(metrics_get_responses(sa, 200), 0);
	}
	char *rb = render(b, EXPO_TEXT), *rc = render(c, EXPO_TEXT);
	assert_string_equal(rb, rc);
	assert_int_equal(metrics_get(sb, METRICS_LINES), 1500);
	free(rb);
	free(rc);
	assert_int_equal(metrics_add_source(a, "f", NULL, 0, vhost_path, 2, &sf, NULL, 0), 0);
	assert_int_equal(metrics_source_merge(sb, sf), -ENOTSUP);
	assert_int_equal(metrics_source_merge(sf, sb), -ENOTSUP);
	strbuf_finish(&saved);
	metrics_destroy(a);
	metrics_destroy(b);
	metrics_destroy(c);
}

/* Counting a stream in pieces into journaled sources and merging them in
 * order gives the bytes of counting it in one source: histogram sums are
 * floating-point and depend on the order of additions (merging plain
 * per-piece sums does not give them, checked too).  Field labels refused. */
static void t_merge_journal(void **state)
{
	struct metrics *one = new_registry(), *merged = new_registry(), *plain = new_registry();
	struct metrics *pieces = new_registry();
	struct metrics_source *so, *sm, *sp, *sj, *spl, *sf;
	(void)state;

	assert_int_equal(metrics_add_source(one, "x", NULL, 0, NULL, 0, &so, NULL, 0), 0);
	assert_int_equal(metrics_add_source(merged, "x", NULL, 0, NULL, 0, &sm, NULL, 0), 0);
	assert_int_equal(metrics_add_source(plain, "x", NULL, 0, NULL, 0, &sp, NULL, 0), 0);
	assert_int_equal(metrics_add_source(pieces, "j", NULL, 0, NULL, 0, &sj, NULL, 0), 0);
	assert_int_equal(metrics_add_source(pieces, "p", NULL, 0, NULL, 0, &spl, NULL, 0), 0);
	assert_int_equal(metrics_source_journal_sums(sj), 0);
	for (unsigned i = 0; i < 5000; i++) {
		struct log_record r =
		    rec(i % 3 ? "GET" : "POST", i % 5 ? 200 : 404,
		        (i % 997) * 0.001 + (i % 7) * 1e-9 + 1e3 * (i % 500 == 0));
		r.upstream_time = 0.0131 * (i % 5);
		r.has_upstream_time = i % 4 != 0;
		metrics_observe(so, &r);
		metrics_observe(sj, &r);
		metrics_observe(spl, &r);
		if (i % 97 == 96 || i == 4999) {
			assert_int_equal(metrics_source_merge(sm, sj), 0);
			assert_int_equal(metrics_source_merge(sp, spl), 0);
		}
	}
	char *ro = render(one, EXPO_TEXT), *rm = render(merged, EXPO_TEXT);
	char *rp = render(plain, EXPO_TEXT);
	assert_string_equal(ro, rm);
	assert_string_not_equal(ro, rp); /* the journal is what makes them equal */
	free(ro);
	free(rm);
	free(rp);
	assert_int_equal(metrics_add_source(pieces, "f", NULL, 0, vhost_path, 2, &sf, NULL, 0), 0);
	assert_int_equal(metrics_source_journal_sums(sf), -ENOTSUP);
	metrics_destroy(one);
	metrics_destroy(merged);
	metrics_destroy(plain);
	metrics_destroy(pieces);
}

/* The optional histograms (request and response size, upstream connect and
 * header time): shown only by sources whose format captures their field
 * and only when the registry has their buckets; absent values are not
 * observed; a checkpoint restores them exactly, a merge of journaled pieces
 * (--threads) gives the bytes of one source, and a registry without them
 * skips their checkpoint lines. */
static const double size_b[] = {256, 4096};
static const double phase_b[] = {0.001, 0.01, 0.1};

static struct metrics *opt_registry(bool on)
{
	struct metrics_options o = {.request_buckets = buckets,
	                            .n_request_buckets = 3,
	                            .upstream_buckets = buckets,
	                            .n_upstream_buckets = 3,
	                            .request_size_buckets = size_b,
	                            .n_request_size_buckets = on ? 2 : 0,
	                            .response_size_buckets = size_b,
	                            .n_response_size_buckets = on ? 2 : 0,
	                            .upstream_connect_buckets = phase_b,
	                            .n_upstream_connect_buckets = on ? 3 : 0,
	                            .upstream_header_buckets = phase_b,
	                            .n_upstream_header_buckets = on ? 3 : 0,
	                            /* beside native duration histograms: these stay classic */
	                            .native_histograms = true,
	                            .native_schema = 3,
	                            .native_max_buckets = 32,
	                            .native_zero_threshold = 1e-9};
	struct metrics *m = metrics_create(&o);
	assert_non_null(m);
	return m;
}

#define ALL_CAPTURES                                                                               \
	(METRICS_CAPTURES_REQUEST_LENGTH | METRICS_CAPTURES_RESPONSE_BYTES |                       \
	 METRICS_CAPTURES_UPSTREAM_CONNECT | METRICS_CAPTURES_UPSTREAM_HEADER)

static struct log_record opt_rec(unsigned i)
{
	struct log_record r = rec(i % 3 ? "GET" : "POST", i % 7 ? 200 : 502, (i % 11) * 0.01);
	r.request_length = 100 + (i * 37) % 9000;
	r.has_request_length = i % 5 != 0;
	r.bytes_sent = (i * 131) % 20000;
	r.upstream_connect_time = (i % 13) * 0.0007 + 1e-9 * (i % 3);
	r.has_upstream_connect_time = i % 4 != 0;
	r.upstream_header_time = (i % 17) * 0.0031;
	r.has_upstream_header_time = i % 6 != 0;
	return r;
}

static void t_optional_histograms(void **state)
{
	static const char *const fams[] = {
	    "# TYPE accesslog_http_request_size_bytes histogram\n",
	    "# TYPE accesslog_http_response_size_bytes histogram\n",
	    "# TYPE accesslog_http_upstream_connect_duration_seconds histogram\n",
	    "# TYPE accesslog_http_upstream_header_duration_seconds histogram\n",
	};
	struct metrics *m = opt_registry(true), *m2 = opt_registry(true),
	               *off = opt_registry(false);
	struct metrics *one = opt_registry(true), *merged = opt_registry(true);
	struct metrics_source *s, *f, *n, *s2, *f2, *so, *sm, *sj, *soff;
	struct strbuf saved;
	(void)state;

	assert_int_equal(metrics_add_source(m, "x", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	assert_int_equal(metrics_add_source(m, "f", NULL, 0, vhost_path, 2, &f, NULL, 0), 0);
	assert_int_equal(metrics_add_source(m, "n", NULL, 0, NULL, 0, &n, NULL, 0), 0);
	/* no source captures anything yet: no family lines at all */
	char *text = render(m, EXPO_TEXT);
	for (size_t k = 0; k < 4; k++) {
		assert_null(strstr(text, fams[k]));
	}
	free(text);
	metrics_source_set_captures(s, ALL_CAPTURES);
	metrics_source_set_captures(f, ALL_CAPTURES);
	metrics_source_set_captures(n, METRICS_CAPTURES_REQUEST_LENGTH);
	for (unsigned i = 0; i < 700; i++) {
		struct log_record r = opt_rec(i);
		r.vhost = (struct str_view){i % 2 ? "a.example" : "b.example", 9};
		metrics_observe(s, &r);
		metrics_observe(f, &r);
		metrics_observe(n, &r);
	}
	text = render(m, EXPO_TEXT);
	for (size_t k = 0; k < 4; k++) {
		assert_int_equal(textcheck_count(text, fams[k]), 1);
	}
	/* source n shows the request size only */
	assert_non_null(strstr(text, "accesslog_http_request_size_bytes_count{source=\"n\""));
	assert_null(strstr(text, "accesslog_http_response_size_bytes_count{source=\"n\""));
	assert_null(strstr(text, "upstream_connect_duration_seconds_count{source=\"n\""));
	/* counts: 700 lines, request length absent on every 5th, connect on every 4th */
	assert_non_null(strstr(text, "accesslog_http_request_size_bytes_count{source=\"x\","
	                             "method=\"GET\",class=\"2xx\"} "));
	unsigned want = 0;
	for (unsigned i = 0; i < 700; i++) {
		want += i % 3 && i % 7 && i % 5;
	}
	char line[160];
	(void)snprintf(line, sizeof(line),
	               "accesslog_http_request_size_bytes_bucket{source=\"x\",method=\"GET\","
	               "class=\"2xx\",le=\"+Inf\"} %u\n",
	               want);
	assert_non_null(strstr(text, line));
	/* field labels: the series tables carry them, the dropped family names them */
	assert_non_null(strstr(text, "accesslog_http_upstream_header_duration_seconds_count{"
	                             "source=\"f\",vhost=\"a.example\","));
	assert_non_null(strstr(text, "accesslog_series_dropped_total{source=\"f\",metric="
	                             "\"accesslog_http_upstream_connect_duration_seconds\"} 0\n"));

	free(text);

	/* checkpoint round trip: the same text, and the same checkpoint again */
	strbuf_init(&saved, 1 << 24);
	assert_int_equal(metrics_add_source(m2, "x", NULL, 0, NULL, 0, &s2, NULL, 0), 0);
	assert_int_equal(metrics_add_source(m2, "f", NULL, 0, vhost_path, 2, &f2, NULL, 0), 0);
	metrics_source_set_captures(s2, ALL_CAPTURES);
	metrics_source_set_captures(f2, ALL_CAPTURES);
	struct metrics_source *from[2] = {s, f}, *to[2] = {s2, f2};
	for (size_t k = 0; k < 2; k++) {
		strbuf_reset(&saved);
		assert_int_equal(metrics_source_save(from[k], &saved), 0);
		assert_non_null(strstr(saved.data, k ? "H upconnect " : "h upconnect "));
		assert_non_null(strstr(saved.data, k ? "S reqsize " : "s respsize "));
		assert_int_equal(metrics_source_restore(to[k], saved.data, saved.len), 0);
		struct strbuf again;
		strbuf_init(&again, 1 << 24);
		assert_int_equal(metrics_source_save(to[k], &again), 0);
		assert_string_equal(again.data, saved.data);
		strbuf_finish(&again);
	}
	metrics_remove_source(m, n);
	for (enum expo_format fmt = EXPO_TEXT; fmt <= EXPO_PROTOBUF; fmt++) {
		struct strbuf b1, b2;
		strbuf_init(&b1, 1 << 24);
		strbuf_init(&b2, 1 << 24);
		assert_int_equal(metrics_render(m, fmt, &b1), 0);
		assert_int_equal(metrics_render(m2, fmt, &b2), 0);
		assert_int_equal(b1.len, b2.len);
		assert_memory_equal(b1.data, b2.data, b1.len);
		strbuf_finish(&b1);
		strbuf_finish(&b2);
	}
	char *t1, *t2;

	/* a registry without them reads the checkpoint and shows nothing of them */
	assert_int_equal(metrics_add_source(off, "f", NULL, 0, vhost_path, 2, &soff, NULL, 0), 0);
	metrics_source_set_captures(soff, ALL_CAPTURES);
	assert_int_equal(metrics_source_restore(soff, saved.data, saved.len), 0);
	t1 = render(off, EXPO_TEXT);
	for (size_t k = 0; k < 4; k++) {
		assert_null(strstr(t1, fams[k]));
	}
	free(t1);

	/* --threads: journaled pieces merged in order give one source's bytes */
	assert_int_equal(metrics_add_source(one, "x", NULL, 0, NULL, 0, &so, NULL, 0), 0);
	assert_int_equal(metrics_add_source(merged, "x", NULL, 0, NULL, 0, &sm, NULL, 0), 0);
	assert_int_equal(metrics_add_source(m2, "j", NULL, 0, NULL, 0, &sj, NULL, 0), 0);
	metrics_source_set_captures(so, ALL_CAPTURES);
	metrics_source_set_captures(sm, ALL_CAPTURES);
	assert_int_equal(metrics_source_journal_sums(sj), 0);
	for (unsigned i = 0; i < 3000; i++) {
		struct log_record r = opt_rec(i);
		metrics_observe(so, &r);
		metrics_observe(sj, &r);
		if (i % 89 == 88 || i == 2999) {
			assert_int_equal(metrics_source_merge(sm, sj), 0);
		}
	}
	t1 = render(one, EXPO_TEXT);
	t2 = render(merged, EXPO_TEXT);
	assert_string_equal(t1, t2);
	assert_non_null(strstr(t1, "accesslog_http_upstream_connect_duration_seconds_sum"));
	free(t1);
	free(t2);
	/* sources of registries with and without them do not merge */
	assert_int_equal(metrics_source_merge(soff, sj), -ENOTSUP);
	strbuf_finish(&saved);
	metrics_destroy(m);
	metrics_destroy(m2);
	metrics_destroy(off);
	metrics_destroy(one);
	metrics_destroy(merged);
}

static void t_field_labels(void **state)
{
	static const struct field_case cases[] = {
	    {"www.example.com", "/api/v1/users?id=3", "vhost=\"example.com\",route=\"/api\""},
	    {"example.com", "/api/v2", "vhost=\"example.com\",route=\"/api\""},
	    {"EXAMPLE.COM", "/", "vhost=\"other\",route=\"other\""},
	    {"shop.example.org", "/api/x", "vhost=\"shop.example.org\",route=\"/api\""},
	};
	struct metrics *m = registry_with(false, false, 0);
	struct metrics_source *s;
	char err[256];
	(void)state;

	assert_int_equal(metrics_add_source(m, "f", NULL, 0, vhost_path, 2, &s, err, sizeof(err)),
	                 0);
	/* Every case 3 times, interleaved, so the cache is hit and missed. */
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct log_record r = vrec("GET", 200, cases[i].vhost, cases[i].path);
			metrics_observe(s, &r);
		}
	}
	char *out = render(m, EXPO_TEXT);
	char want[512];
	/* The first two cases share a label set: 6 observations. */
	(void)snprintf(want, sizeof(want),
	               "accesslog_http_responses_total{source=\"f\",%s,code=\"200\",class=\"2xx\","
	               "reason=\"OK\",method=\"GET\"} 6\n",
	               cases[0].want);
	assert_non_null(strstr(out, want));
	for (size_t i = 2; i < 4; i++) {
		(void)snprintf(want, sizeof(want),
		               "accesslog_http_responses_total{source=\"f\",%s,code=\"200\","
		               "class=\"2xx\",reason=\"OK\",method=\"GET\"} 3\n",
		               cases[i].want);
		assert_non_null(strstr(out, want));
	}
	(void)snprintf(want, sizeof(want),
	               "accesslog_http_request_duration_seconds_count{source=\"f\",%s,"
	               "method=\"GET\",class=\"2xx\"} 3\n",
	               cases[3].want);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "accesslog_series_dropped_total{source=\"f\","
	                            "metric=\"accesslog_http_responses_total\"} 0\n"));
	assert_int_equal(metrics_get_responses(s, status_slot_from_code(200)), 12);
	assert_no_duplicates(out);
	free(out);

	/* Bad pattern and clashing names are refused with a message. */
	struct config_field_label bad = FIELD_LABEL_RULE("vhost", VHOST, "(", NULL);
	assert_int_equal(metrics_add_source(m, "g", NULL, 0, &bad, 1, &s, err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "vhost"));
	struct config_field_label clash = FIELD_LABEL("code", VHOST);
	assert_int_equal(metrics_add_source(m, "g", NULL, 0, &clash, 1, &s, err, sizeof(err)),
	                 -EINVAL);
	struct config_label st = {(char *)"vhost", (char *)"x"};
	assert_int_equal(metrics_add_source(m, "g", &st, 1, vhost_path, 1, &s, err, sizeof(err)),
	                 -EINVAL);
	metrics_destroy(m);
}

static void t_label_values_capped_and_escaped(void **state)
{
	static const struct config_field_label raw[] = {
	    FIELD_LABEL("vhost", VHOST),
	};
	struct metrics *m = registry_with(false, false, 0);
	struct metrics_source *s;
	char longv[2000];
	(void)state;

	assert_int_equal(metrics_add_source(m, "e", NULL, 0, raw, 1, &s, NULL, 0), 0);
	struct log_record r = vrec("GET", 200, "a\"b\\c\nd\xff", "/");
	metrics_observe(s, &r);
	memset(longv, 'x', sizeof(longv));
	r.vhost = (struct str_view){longv, sizeof(longv)};
	metrics_observe(s, &r);
	char *out = render(m, EXPO_TEXT);
	assert_non_null(strstr(out, "vhost=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\",code=\"200\""));
	char want[300];
	memset(want, 'x', 256);
	(void)snprintf(want + 256, sizeof(want) - 256, "\",code=");
	assert_non_null(strstr(out, want)); /* exactly 256 x then the closing quote */
	assert_null(strstr(out,
	                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
	free(out);
	metrics_destroy(m);
}

static void t_series_limit(void **state)
{
	static const struct config_field_label raw[] = {
	    FIELD_LABEL("vhost", VHOST),
	};
	struct metrics *m = registry_with(false, false, 3);
	struct metrics_source *s;
	char host[32];
	(void)state;

	assert_int_equal(metrics_add_source(m, "l", NULL, 0, raw, 1, &s, NULL, 0), 0);
	/* 10 hosts x 2 lines each: 3 get their own series, 7 x 2 = 14 go to overflow. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 10; i++) {
			(void)snprintf(host, sizeof(host), "h%d", i);
			struct log_record r = vrec("GET", 200, host, "/");
			metrics_observe(s, &r);
		}
	}
	char *out = render(m, EXPO_TEXT);
	for (int i = 0; i < 3; i++) {
		char want[256];
		(void)snprintf(want, sizeof(want),
		               "{source=\"l\",vhost=\"h%d\",code=\"200\",class=\"2xx\","
		               "reason=\"OK\",method=\"GET\"} 2\n",
		               i);
		assert_non_null(strstr(out, want));
	}
	assert_null(strstr(out, "vhost=\"h3\""));
	assert_non_null(strstr(out, "accesslog_http_responses_total{source=\"l\","
	                            "vhost=\"__overflow__\",code=\"200\",class=\"2xx\","
	                            "reason=\"OK\",method=\"GET\"} 14\n"));
	assert_non_null(strstr(out, "accesslog_series_dropped_total{source=\"l\","
	                            "metric=\"accesslog_http_responses_total\"} 14\n"));
	assert_int_equal(metrics_get_responses(s, status_slot_from_code(200)), 20);
	assert_no_duplicates(out);
	free(out);
	metrics_destroy(m);
}

static void t_no_duplicates_and_stable(void **state)
{
	struct metrics *m = registry_with(false, false, 50);
	struct metrics_source *a, *b;
	struct config_label env = {(char *)"env", (char *)"prod"};
	(void)state;

	assert_int_equal(metrics_add_source(m, "a", &env, 1, NULL, 0, &a, NULL, 0), 0);
	assert_int_equal(metrics_add_source(m, "b", &env, 1, vhost_path, 2, &b, NULL, 0), 0);
	for (unsigned i = 0; i < 20000; i++) {
		static const char *const methods[] = {"GET", "POST", "BREW", "", "DELETE"};
		char host[32], path[32];
		(void)snprintf(host, sizeof(host), "h%u.example.com", i % 97);
		(void)snprintf(path, sizeof(path), "/%s/%u", i % 3 ? "api" : "x", i);
		struct log_record r = vrec(methods[i % 5], 100 + (i * 7) % 520, host, path);
		r.upstream_time = 0.001 * (i % 1000);
		r.has_upstream_time = i % 2;
		metrics_observe(a, &r);
		metrics_observe(b, &r);
	}
	for (int f = 0; f < 2; f++) {
		char *one = render(m, (enum expo_format)f), *two = render(m, (enum expo_format)f);
		assert_string_equal(one, two); /* stable order */
		assert_true(assert_no_duplicates(one) > 1000);
		free(one);
		free(two);
	}
	metrics_destroy(m);
}

static void t_openmetrics_families(void **state)
{
	struct metrics *m = new_registry();
	struct metrics_source *s;
	struct log_record r = rec("GET", 200, 0.3);
	(void)state;

	assert_int_equal(metrics_add_source(m, "o", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	metrics_observe(s, &r);
	char *out = render(m, EXPO_OPENMETRICS);
	assert_non_null(strstr(out, "# TYPE accesslog_http_responses counter\n"));
	assert_non_null(strstr(out, "\naccesslog_http_responses_total{source=\"o\","));
	assert_non_null(strstr(out, "# TYPE accesslog_http_request_duration_seconds histogram\n"));
	assert_non_null(strstr(out, "# TYPE accesslog_build info\n"));
	assert_null(strstr(out, "# TYPE accesslog_http_responses_total"));
	free(out);
	metrics_destroy(m);
}

static void t_save_restore_field_labels(void **state)
{
	struct metrics *a = registry_with(false, false, 5), *b = registry_with(false, false, 5);
	struct metrics *flat = new_registry();
	struct metrics_source *sa, *sb, *sf;
	struct strbuf saved, again;
	char host[32];
	(void)state;

	const struct config_field_label raw_path[] = {
	    FIELD_LABEL("vhost", VHOST),
	    FIELD_LABEL_RULE("route", PATH, "/(api|static)/.*", "/$1"),
	};
	assert_int_equal(metrics_add_source(a, "x", NULL, 0, raw_path, 2, &sa, NULL, 0), 0);
	assert_int_equal(metrics_add_source(b, "x", NULL, 0, raw_path, 2, &sb, NULL, 0), 0);
	assert_int_equal(metrics_add_source(flat, "x", NULL, 0, NULL, 0, &sf, NULL, 0), 0);
	for (unsigned i = 0; i < 300; i++) {
		(void)snprintf(host, sizeof(host), "h%u %%\xc3\xa9", i % 9);
		struct log_record r = vrec(i % 2 ? "GET" : "PUT", 200 + i % 3, host, "/api/1");
		r.upstream_time = 0.01 * (i % 7);
		r.has_upstream_time = i % 3 == 0;
		metrics_observe(sa, &r);
	}
	strbuf_init(&saved, 1 << 24);
	strbuf_init(&again, 1 << 24);
	assert_int_equal(metrics_source_save(sa, &saved), 0);
	assert_non_null(strstr(saved.data, "\nd responses "));
	assert_non_null(strstr(saved.data, " =h1%20%25%C3%A9 =/api\n"));
	assert_int_equal(metrics_source_restore(sb, saved.data, saved.len), 0);
	assert_int_equal(metrics_source_save(sb, &again), 0);
	assert_string_equal(saved.data, again.data);
	char *ra = render(a, EXPO_TEXT), *rb = render(b, EXPO_TEXT);
	assert_string_equal(ra, rb);
	free(ra);
	free(rb);
	/* Into a source without field labels: totals survive. */
	assert_int_equal(metrics_source_restore(sf, saved.data, saved.len), 0);
	for (unsigned code = 200; code < 203; code++) {
		assert_int_equal(metrics_get_responses(sf, status_slot_from_code(code)),
		                 metrics_get_responses(sa, status_slot_from_code(code)));
	}
	/* Bad value encodings restore nothing. */
	static const char *const bad[] = {"R GET 200 1 x\n", "R GET 200 1 =%G0\n",
	                                  "R GET 200 1 =%4\n", "r GET 200 1 =a\n", "d nosuch 1\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(metrics_source_restore(sb, bad[i], strlen(bad[i])), -EINVAL);
	}
	strbuf_finish(&saved);
	strbuf_finish(&again);
	metrics_destroy(a);
	metrics_destroy(b);
	metrics_destroy(flat);
}

/* ---- field-label schema changes between save and restore ---------------- */

/* The saved source: the rewrite has a space and a '%' (escaped in the schema). */
#define P_MATCH "/(login|api)[ %]?.*"

static const struct config_field_label saved_schema[] = {
    FIELD_LABEL("vhost", VHOST),
    FIELD_LABEL_RULE("p", PATH, P_MATCH, "/$1"),
};

/* P_MATCH as a one-rule list: the same rewrite as match/replacement. */
static const struct config_rule p_list[] = {{(char *)P_MATCH, (char *)"/$1"}};
static const struct config_rule p_more[] = {{(char *)P_MATCH, (char *)"/$1"},
                                            {(char *)"/.*", (char *)"/rest"}};

struct schema_case {
	const char *what;
	struct config_field_label labels[3];
	size_t n;
	bool legacy;               /* restore the text without its "l" lines */
	const char *const want[3]; /* every response series of the source, exactly */
};

#define GET_200 ",code=\"200\",method=\"GET\"} 3\n"
#define POST_404 ",code=\"404\",method=\"POST\"} 2\n"
#define SERIES "accesslog_http_responses_total{source=\"x\","

static const struct schema_case schema_cases[] = {
    {"same",
     {FIELD_LABEL("vhost", VHOST), FIELD_LABEL_RULE("p", PATH, P_MATCH, "/$1")},
     2,
     false,
     {SERIES "vhost=\"a.example\",p=\"/login\"" GET_200,
      SERIES "vhost=\"b.example\",p=\"/api\"" POST_404}},
    {"reordered",
     {FIELD_LABEL_RULE("p", PATH, P_MATCH, "/$1"), FIELD_LABEL("vhost", VHOST)},
     2,
     false,
     {SERIES "p=\"/login\",vhost=\"a.example\"" GET_200,
      SERIES "p=\"/api\",vhost=\"b.example\"" POST_404}},
    {"renamed",
     {FIELD_LABEL("host", VHOST), FIELD_LABEL_RULE("p", PATH, P_MATCH, "/$1")},
     2,
     false,
     {SERIES "host=\"\",p=\"/login\"" GET_200, SERIES "host=\"\",p=\"/api\"" POST_404}},
    {"removed",
     {FIELD_LABEL_RULE("p", PATH, P_MATCH, "/$1")},
     1,
     false,
     {SERIES "p=\"/login\"" GET_200, SERIES "p=\"/api\"" POST_404}},
    {"added",
     {FIELD_LABEL("u", UPSTREAM_STATUS), FIELD_LABEL("vhost", VHOST),
      FIELD_LABEL_RULE("p", PATH, P_MATCH, "/$1")},
     3,
     false,
     {SERIES "u=\"\",vhost=\"a.example\",p=\"/login\"" GET_200,
      SERIES "u=\"\",vhost=\"b.example\",p=\"/api\"" POST_404}},
    {"match changed",
     {FIELD_LABEL("vhost", VHOST), FIELD_LABEL_RULE("p", PATH, "/(login).*", "/$1")},
     2,
     false,
     {SERIES "vhost=\"a.example\",p=\"\"" GET_200, SERIES "vhost=\"b.example\",p=\"\"" POST_404}},
    {"replacement changed",
     {FIELD_LABEL("vhost", VHOST), FIELD_LABEL_RULE("p", PATH, P_MATCH, "$1")},
     2,
     false,
     {SERIES "vhost=\"a.example\",p=\"\"" GET_200, SERIES "vhost=\"b.example\",p=\"\"" POST_404}},
    {"rewrite dropped",
     {FIELD_LABEL("vhost", VHOST), FIELD_LABEL("p", PATH)},
     2,
     false,
     {SERIES "vhost=\"a.example\",p=\"\"" GET_200, SERIES "vhost=\"b.example\",p=\"\"" POST_404}},
    {"fields swapped",
     {FIELD_LABEL("vhost", PATH), FIELD_LABEL("p", VHOST)},
     2,
     false,
     {SERIES "vhost=\"\",p=\"\"" GET_200, SERIES "vhost=\"\",p=\"\"" POST_404}},
    {"the rule as a one-rule list",
     {FIELD_LABEL("vhost", VHOST), FIELD_LABEL_RULES("p", PATH, p_list, NULL)},
     2,
     false,
     {SERIES "vhost=\"a.example\",p=\"/login\"" GET_200,
      SERIES "vhost=\"b.example\",p=\"/api\"" POST_404}},
    {"the default spelled out",
     {FIELD_LABEL("vhost", VHOST), FIELD_LABEL_RULES("p", PATH, p_list, "other")},
     2,
     false,
     {SERIES "vhost=\"a.example\",p=\"/login\"" GET_200,
      SERIES "vhost=\"b.example\",p=\"/api\"" POST_404}},
    {"rule appended",
     {FIELD_LABEL("vhost", VHOST), FIELD_LABEL_RULES("p", PATH, p_more, NULL)},
     2,
     false,
     {SERIES "vhost=\"a.example\",p=\"\"" GET_200, SERIES "vhost=\"b.example\",p=\"\"" POST_404}},
    {"default changed",
     {FIELD_LABEL("vhost", VHOST), FIELD_LABEL_RULES("p", PATH, p_list, "unmapped")},
     2,
     false,
     {SERIES "vhost=\"a.example\",p=\"\"" GET_200, SERIES "vhost=\"b.example\",p=\"\"" POST_404}},
    {"no schema (older checkpoint)",
     {FIELD_LABEL("vhost", VHOST), FIELD_LABEL_RULE("p", PATH, P_MATCH, "/$1")},
     2,
     true,
     {SERIES "vhost=\"\",p=\"\"" GET_200, SERIES "vhost=\"\",p=\"\"" POST_404}},
};

/* The saved text with its "l" lines removed (what older versions wrote). */
static char *without_schema(const char *text)
{
	char *out = strdup(text), *o = out;
	const char *p = text;

	assert_non_null(out);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (p[0] != 'l') {
			memcpy(o, p, len);
			o += len;
		}
		p += len;
	}
	*o = '\0';
	return out;
}

/* Totals of a source: its checkpoint restored into a source without field
 * labels (every series summed into the flat cells), saved again. */
static char *totals(const char *saved, size_t len)
{
	struct metrics *m = registry_with(true, true, 0);
	struct metrics_source *s;
	struct strbuf b;

	assert_int_equal(metrics_add_source(m, "x", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	assert_int_equal(metrics_source_restore(s, saved, len), 0);
	strbuf_init(&b, 1 << 24);
	assert_int_equal(metrics_source_save(s, &b), 0);
	metrics_destroy(m);
	return strbuf_steal(&b, NULL);
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0;

	for (const char *p = strstr(text, prefix); p; p = strstr(p + 1, prefix)) {
		n += p == text || p[-1] == '\n';
	}
	return n;
}

static void t_restore_schema_changes(void **state)
{
	struct metrics *a = registry_with(true, true, 0);
	struct metrics_source *sa;
	struct strbuf saved;
	(void)state;

	assert_int_equal(metrics_add_source(a, "x", NULL, 0, saved_schema, 2, &sa, NULL, 0), 0);
	for (unsigned i = 0; i < 5; i++) {
		struct log_record r = i < 3 ? vrec("GET", 200, "a.example", "/login/form")
		                            : vrec("POST", 404, "b.example", "/api/v1");
		r.upstream_time = 0.3;
		r.has_upstream_time = true;
		metrics_observe(sa, &r);
	}
	strbuf_init(&saved, 1 << 24);
	assert_int_equal(metrics_source_save(sa, &saved), 0);
	assert_non_null(strstr(saved.data, "\nl =vhost vhost - -\nl =p path "
	                                   "=/(login|api)[%20%25]?.* =/$1\nR "));
	char *want_totals = totals(saved.data, saved.len);

	for (size_t c = 0; c < sizeof(schema_cases) / sizeof(schema_cases[0]); c++) {
		const struct schema_case *sc = &schema_cases[c];
		struct metrics *b = registry_with(true, true, 0);
		struct metrics_source *sb;
		struct strbuf again;
		char *text = sc->legacy ? without_schema(saved.data) : strdup(saved.data);
		assert_non_null(text);
		assert_int_equal(
		    metrics_add_source(b, "x", NULL, 0, sc->labels, sc->n, &sb, NULL, 0), 0);
		assert_int_equal(metrics_source_restore(sb, text, strlen(text)), 0);
		char *out = render(b, EXPO_TEXT);
		size_t n_want = 0;
		for (size_t i = 0; i < 3 && sc->want[i]; i++, n_want++) {
			if (!strstr(out, sc->want[i])) {
				fail_msg("%s: missing %s in\n%s", sc->what, sc->want[i], out);
			}
		}
		/* Nothing else: no series under a wrong label set. */
		assert_int_equal(count_lines(out, "accesslog_http_responses_total{source=\"x\""),
		                 n_want);
		assert_no_duplicates(out);
		/* Totals are exact: responses, bytes, both histograms, counters. */
		strbuf_init(&again, 1 << 24);
		assert_int_equal(metrics_source_save(sb, &again), 0);
		char *got_totals = totals(again.data, again.len);
		if (strcmp(got_totals, want_totals) != 0) {
			fail_msg("%s: totals differ:\n%s\nwant\n%s", sc->what, got_totals,
			         want_totals);
		}
		free(got_totals);
		free(out);
		free(text);
		strbuf_finish(&again);
		metrics_destroy(b);
	}
	free(want_totals);
	strbuf_finish(&saved);
	metrics_destroy(a);
}

/* Ordered rules with a default and a label from a format variable: the
 * "l" lines carry every rule in order, the default and "$NAME"; restoring
 * into the same definitions keeps the values, a reordered rule list or
 * another variable resets them (totals kept, as for any changed rewrite). */
static const struct config_rule route_rules[] = {
    {(char *)"/users/[0-9]+", (char *)"/users/:id"},
    {(char *)"/static/.*", (char *)"/static"},
};
static const struct config_rule route_reordered[] = {
    {(char *)"/static/.*", (char *)"/static"},
    {(char *)"/users/[0-9]+", (char *)"/users/:id"},
};

static struct log_record tier_rec(const char *method, unsigned code, const char *path,
                                  const char *tier)
{
	struct log_record r = vrec(method, code, "", path);
	r.n_extra = 2;
	r.extra[0] = (struct str_view){"0.5", 3};
	r.extra[1] = (struct str_view){tier, strlen(tier)};
	return r;
}

static char *restored_render(const char *saved, const struct config_field_label *fl)
{
	struct metrics *b = registry_with(true, true, 0);
	struct metrics_source *sb;

	assert_int_equal(metrics_add_source(b, "x", NULL, 0, fl, 2, &sb, NULL, 0), 0);
	assert_int_equal(metrics_source_restore(sb, saved, strlen(saved)), 0);
	char *out = render(b, EXPO_TEXT);
	metrics_destroy(b);
	return out;
}

static void t_restore_rules_and_variable(void **state)
{
	struct metrics *a = registry_with(true, true, 0);
	struct metrics_source *sa;
	struct strbuf saved;
	struct config_field_label fl[2] = {
	    FIELD_LABEL_RULES("route", PATH, route_rules, "unmapped"),
	    FIELD_LABEL("tier", VARIABLE),
	};
	(void)state;

	fl[1].variable = (char *)"tier";
	fl[1].variable_index = 1;
	assert_int_equal(metrics_add_source(a, "x", NULL, 0, fl, 2, &sa, NULL, 0), 0);
	struct log_record r1 = tier_rec("GET", 200, "/users/4711", "gold");
	struct log_record r2 = tier_rec("GET", 200, "/checkout", "silver");
	metrics_observe(sa, &r1);
	metrics_observe(sa, &r2);
	strbuf_init(&saved, 1 << 24);
	assert_int_equal(metrics_source_save(sa, &saved), 0);
	assert_non_null(strstr(saved.data, "\nl =route path =/users/[0-9]+ =/users/:id "
	                                   "=/static/.* =/static =unmapped\nl =tier $tier - -\n"));
	char *out = restored_render(saved.data, fl);
	assert_non_null(strstr(out, SERIES "route=\"/users/:id\",tier=\"gold\",code=\"200\""));
	assert_non_null(strstr(out, SERIES "route=\"unmapped\",tier=\"silver\",code=\"200\""));
	free(out);

	struct config_field_label changed[2] = {
	    FIELD_LABEL_RULES("route", PATH, route_reordered, "unmapped"),
	    FIELD_LABEL("tier", VARIABLE),
	};
	changed[1].variable = (char *)"plan"; /* another variable, same index */
	changed[1].variable_index = 1;
	out = restored_render(saved.data, changed);
	assert_non_null(
	    strstr(out, SERIES "route=\"\",tier=\"\",code=\"200\",method=\"GET\"} 2\n"));
	free(out);
	/* a bad field token in an "l" line refuses the checkpoint: a path
	 * label ("^") is a name; a format field ("$") any printable text */
	static const char *const bad[] = {"l =tier ^ti-er - -\n", "l =tier $ - -\n",
	                                  "l =tier nofield - -\n"};
	struct metrics *b = registry_with(true, true, 0);
	struct metrics_source *sb;
	assert_int_equal(metrics_add_source(b, "x", NULL, 0, fl, 2, &sb, NULL, 0), 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(metrics_source_restore(sb, bad[i], strlen(bad[i])), -EINVAL);
	}
	static const char apache[] = "l =tier $%{X-Tier}i - -\nl =route ^site - -\n";
	assert_int_equal(metrics_source_restore(sb, apache, strlen(apache)), 0);
	metrics_destroy(b);
	strbuf_finish(&saved);
	metrics_destroy(a);
}

/* The most rules a label may have, with long patterns: the "l" line holds
 * them all and restores as the same definition. */
static void t_restore_max_rules(void **state)
{
	static char pat[CONFIG_MAX_RULES][300];
	static struct config_rule rules[CONFIG_MAX_RULES];
	struct metrics *a = registry_with(true, true, 0);
	struct metrics_source *sa;
	struct strbuf saved;
	(void)state;

	for (size_t k = 0; k < CONFIG_MAX_RULES; k++) {
		int n = snprintf(pat[k], sizeof(pat[k]), "/r%zu/(a|b)%0250d", k, 0);
		assert_true(n > 0 && (size_t)n < sizeof(pat[k]));
		rules[k] = (struct config_rule){pat[k], (char *)"/r/$1"};
	}
	rules[CONFIG_MAX_RULES - 1] = (struct config_rule){(char *)"/last/.*", (char *)"/last"};
	const struct config_field_label fl[1] = {FIELD_LABEL_RULES("p", PATH, rules, "none")};
	assert_int_equal(metrics_add_source(a, "x", NULL, 0, fl, 1, &sa, NULL, 0), 0);
	struct log_record r = vrec("GET", 200, "", "/last/one");
	metrics_observe(sa, &r);
	strbuf_init(&saved, 1 << 24);
	assert_int_equal(metrics_source_save(sa, &saved), 0);
	assert_true(saved.len > CONFIG_MAX_RULES * 250);
	struct metrics *b = registry_with(true, true, 0);
	struct metrics_source *sb;
	assert_int_equal(metrics_add_source(b, "x", NULL, 0, fl, 1, &sb, NULL, 0), 0);
	assert_int_equal(metrics_source_restore(sb, saved.data, saved.len), 0);
	char *out = render(b, EXPO_TEXT);
	assert_non_null(strstr(out, SERIES "p=\"/last\",code=\"200\""));
	free(out);
	metrics_destroy(b);
	strbuf_finish(&saved);
	metrics_destroy(a);
}

/* After a schema change (a label renamed: its values are unknown), the
 * overflow series (label sets refused by the limit) stays the overflow
 * series instead of becoming an ordinary label set. */
static void t_restore_schema_overflow(void **state)
{
	struct metrics *a = registry_with(true, true, 1), *b = registry_with(true, true, 10);
	struct metrics_source *sa, *sb;
	struct strbuf saved;
	const struct config_field_label renamed[] = {FIELD_LABEL("host", VHOST),
	                                             FIELD_LABEL_RULE("p", PATH, P_MATCH, "/$1")};
	(void)state;

	assert_int_equal(metrics_add_source(a, "x", NULL, 0, saved_schema, 2, &sa, NULL, 0), 0);
	assert_int_equal(metrics_add_source(b, "x", NULL, 0, renamed, 2, &sb, NULL, 0), 0);
	for (unsigned i = 0; i < 5; i++) {
		struct log_record r = i < 3 ? vrec("GET", 200, "a.example", "/login")
		                            : vrec("POST", 404, "b.example", "/api");
		metrics_observe(sa, &r);
	}
	strbuf_init(&saved, 1 << 24);
	assert_int_equal(metrics_source_save(sa, &saved), 0);
	assert_non_null(strstr(saved.data, " =__overflow__ =__overflow__\n"));
	assert_int_equal(metrics_source_restore(sb, saved.data, saved.len), 0);
	char *out = render(b, EXPO_TEXT);
	assert_non_null(strstr(out, SERIES "host=\"\",p=\"/login\"" GET_200));
	assert_non_null(strstr(out, SERIES "host=\"__overflow__\",p=\"__overflow__\"" POST_404));
	free(out);
	strbuf_finish(&saved);
	metrics_destroy(a);
	metrics_destroy(b);
}

/* Malformed schema lines restore nothing, into sources with and without
 * field labels. */
static void t_restore_schema_malformed(void **state)
{
	struct metrics *m = registry_with(true, true, 0);
	struct metrics_source *sf, *sd;
	static const char *const bad[] = {
	    "l =vhost vhost - -\nR GET 200 1 =a =b\n", /* series wider than the schema */
	    "R GET 200 1 =a\nl =vhost vhost - -\nl =p path - -\n", /* narrower (any order) */
	    "l =vhost nosuch - -\n",
	    "l vhost vhost - -\n",
	    "l =vhost vhost =x -\n", /* a match needs its replacement */
	    "l =vhost vhost - =x\n",
	    "l =vhost vhost - - -\n",
	    "l =vhost vhost -\n",
	    "l =vhost vhost - -\nl =vhost path - -\n", /* one name twice */
	    "l =%76host vhost - -\n",                  /* not as save writes it */
	    "l =a%2 vhost - -\n",
	    "l =a%2f vhost - -\n",
	    "l =a\tb vhost - -\n",
	    "l = vhost - -\nl =a vhost - -\nl =b vhost - -\nl =c vhost - -\nl =d vhost - -\n"
	    "l =e vhost - -\nl =f vhost - -\nl =g vhost - -\nl =h vhost - -\n", /* too many */
	};
	static const char *const good[] = {
	    "l = vhost - -\nR GET 200 1 =a\n",
	    "l =a%20b path =%25 =$0\nl =u upstream_status - -\nR GET 200 1 =x =y\nr GET 200 1\n",
	};
	(void)state;

	assert_int_equal(metrics_add_source(m, "f", NULL, 0, NULL, 0, &sf, NULL, 0), 0);
	assert_int_equal(metrics_add_source(m, "d", NULL, 0, saved_schema, 2, &sd, NULL, 0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[1024];
		int n = snprintf(text, sizeof(text), "c lines 5\n%s", bad[i]);
		assert_true(n > 0 && (size_t)n < sizeof(text));
		assert_int_equal(metrics_source_restore(sf, text, (size_t)n), -EINVAL);
		assert_int_equal(metrics_source_restore(sd, text, (size_t)n), -EINVAL);
	}
	assert_int_equal(metrics_get(sf, METRICS_LINES), 0);
	assert_int_equal(metrics_get(sd, METRICS_LINES), 0);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(metrics_source_restore(sf, good[i], strlen(good[i])), 0);
		assert_int_equal(metrics_source_restore(sd, good[i], strlen(good[i])), 0);
	}
	assert_int_equal(metrics_get_responses(sf, status_slot_from_code(200)), 3);
	assert_int_equal(metrics_get_responses(sd, status_slot_from_code(200)), 3);
	char *out = render(m, EXPO_TEXT);
	/* Neither "l" set names vhost/p with the same definitions: empty values. */
	assert_non_null(
	    strstr(out, "{source=\"d\",vhost=\"\",p=\"\",code=\"200\",method=\"GET\"} 3\n"));
	free(out);
	metrics_destroy(m);
}

struct writer_arg {
	struct metrics_source *s;
	unsigned n;
	atomic_bool done;
};

static void *writer_main(void *p)
{
	struct writer_arg *a = p;
	char host[32];

	for (unsigned i = 0; i < a->n; i++) {
		int len = snprintf(host, sizeof(host), "h%u", i % 3000);
		struct log_record r = vrec(i % 2 ? "GET" : "POST", 200 + i % 7, "", "/");
		r.vhost = (struct str_view){host, (size_t)len};
		metrics_observe(a->s, &r);
	}
	atomic_store(&a->done, true);
	return NULL;
}

/* A scrape walks the series tables while the single writer grows them. */
static void t_concurrent_render(void **state)
{
	static const struct config_field_label raw[] = {
	    FIELD_LABEL("vhost", VHOST),
	};
	struct metrics *m = registry_with(false, false, 5000);
	struct writer_arg a = {.n = 300000};
	pthread_t t;
	unsigned renders = 0;
	(void)state;

	assert_int_equal(metrics_add_source(m, "c", NULL, 0, raw, 1, &a.s, NULL, 0), 0);
	atomic_init(&a.done, false);
	assert_int_equal(pthread_create(&t, NULL, writer_main, &a), 0);
	while (!atomic_load(&a.done) || renders == 0) {
		char *out = render(m, renders % 2 ? EXPO_OPENMETRICS : EXPO_TEXT);
		assert_no_duplicates(out);
		free(out);
		renders++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	uint64_t total = 0;
	for (unsigned c = 200; c < 207; c++) {
		total += metrics_get_responses(a.s, status_slot_from_code(c));
	}
	assert_int_equal(total, a.n);
	char *out = render(m, EXPO_TEXT);
	assert_non_null(strstr(out, "accesslog_http_responses_total{source=\"c\",vhost=\"h0\","));
	free(out);
	metrics_destroy(m);
}

/* Each field kind: path loses its query string, upstream_status is the code
 * of the last upstream (empty when the line has none, "invalid" for junk). */
static void t_field_kinds(void **state)
{
	static const struct config_field_label kinds[] = {
	    FIELD_LABEL("path", PATH),
	    FIELD_LABEL("upstream", UPSTREAM_STATUS),
	};
	struct metrics *m = registry_with(true, true, 0);
	struct metrics_source *s;
	(void)state;

	assert_int_equal(metrics_add_source(m, "k", NULL, 0, kinds, 2, &s, NULL, 0), 0);
	struct log_record r = vrec("GET", 502, "", "/a/b?x=1&y=2");
	r.has_upstream_status = true;
	r.upstream_status_slot = status_slot_from_code(503);
	metrics_observe(s, &r);
	r.upstream_status_slot = STATUS_SLOT_INVALID;
	metrics_observe(s, &r);
	r = vrec("GET", 200, "", "/");
	metrics_observe(s, &r);
	char *out = render(m, EXPO_TEXT);
	assert_non_null(strstr(out, "accesslog_http_responses_total{source=\"k\",path=\"/a/b\","
	                            "upstream=\"503\",code=\"502\",method=\"GET\"} 1\n"));
	assert_non_null(strstr(out, "accesslog_http_responses_total{source=\"k\",path=\"/a/b\","
	                            "upstream=\"invalid\",code=\"502\",method=\"GET\"} 1\n"));
	assert_non_null(strstr(out, "accesslog_http_responses_total{source=\"k\",path=\"/\","
	                            "upstream=\"\",code=\"200\",method=\"GET\"} 1\n"));
	free(out);
	metrics_destroy(m);
}

/* An optional group that did not take part substitutes as empty. */
static void t_rewrite_unset_group(void **state)
{
	const struct config_field_label fl[] = {
	    FIELD_LABEL_RULE("vhost", VHOST, "(www\\.)?([a-z]+)\\.com", "[$1|$2]"),
	};
	struct metrics *m = registry_with(true, true, 0);
	struct metrics_source *s;
	(void)state;

	assert_int_equal(metrics_add_source(m, "u", NULL, 0, fl, 1, &s, NULL, 0), 0);
	struct log_record r = vrec("GET", 200, "shop.com", "/");
	metrics_observe(s, &r);
	r = vrec("GET", 200, "www.shop.com", "/");
	metrics_observe(s, &r);
	char *out = render(m, EXPO_TEXT);
	assert_non_null(strstr(out, "{source=\"u\",vhost=\"[|shop]\",code=\"200\""));
	assert_non_null(strstr(out, "{source=\"u\",vhost=\"[www.|shop]\",code=\"200\""));
	free(out);
	metrics_destroy(m);
}

/* metrics.histograms: false - no duration families at all, the rest unchanged. */
static void t_no_histograms(void **state)
{
	struct metrics_options o = {.request_buckets = buckets,
	                            .n_request_buckets = 3,
	                            .upstream_buckets = buckets,
	                            .n_upstream_buckets = 3,
	                            .no_histograms = true};
	struct metrics *m = metrics_create(&o);
	struct metrics_source *s;
	(void)state;

	assert_non_null(m);
	assert_int_equal(metrics_add_source(m, "h", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	for (int i = 0; i < 4; i++) {
		struct log_record r = rec("GET", 200, 0.3);
		r.upstream_time = 0.2;
		r.has_upstream_time = true;
		metrics_observe(s, &r);
	}
	char *out = render(m, EXPO_TEXT);
	assert_null(strstr(out, "duration_seconds"));
	assert_non_null(strstr(out, "accesslog_http_responses_total{source=\"h\",code=\"200\","
	                            "class=\"2xx\",reason=\"OK\",method=\"GET\"} 4\n"));
	assert_non_null(strstr(out, "accesslog_http_response_bytes_total{source=\"h\","
	                            "method=\"GET\",class=\"2xx\"} 400\n"));
	free(out);
	metrics_destroy(m);
}

/* Number of accesslog_log_file_open samples in a text render. */
static size_t file_gauges(const char *out)
{
	size_t n = 0;

	for (const char *p = out; (p = strstr(p, "\naccesslog_log_file_open{")) != NULL; p++) {
		n++;
	}
	return n;
}

/* File gauges: set, remove, re-add (at the end: render order is the order
 * of addition), the cap, and that removing frees a slot. */
static void t_file_gauges(void **state)
{
	struct metrics *m = new_registry();
	struct metrics_source *s;
	char path[64];
	(void)state;

	assert_int_equal(metrics_add_source(m, "f", NULL, 0, NULL, 0, &s, NULL, 0), 0);
	assert_int_equal(metrics_set_file_open(s, "/l/a.log", true), 0);
	assert_int_equal(metrics_set_file_open(s, "/l/b.log", true), 0);
	assert_int_equal(metrics_set_file_open(s, "/l/c.log", false), 0);
	char *out = render(m, EXPO_TEXT);
	assert_non_null(strstr(out, "accesslog_log_file_open{source=\"f\",path=\"/l/a.log\"} 1\n"
	                            "accesslog_log_file_open{source=\"f\",path=\"/l/b.log\"} 1\n"
	                            "accesslog_log_file_open{source=\"f\",path=\"/l/c.log\"} 0\n"));
	free(out);

	assert_int_equal(metrics_remove_file(s, "/l/b.log"), 0);
	assert_int_equal(metrics_remove_file(s, "/l/b.log"), -ENOENT);
	assert_int_equal(metrics_remove_file(s, "/l/none.log"), -ENOENT);
	out = render(m, EXPO_TEXT);
	assert_null(strstr(out, "b.log"));
	assert_non_null(strstr(out, "accesslog_log_file_open{source=\"f\",path=\"/l/a.log\"} 1\n"
	                            "accesslog_log_file_open{source=\"f\",path=\"/l/c.log\"} 0\n"));
	assert_int_equal(file_gauges(out), 2);
	free(out);

	assert_int_equal(metrics_set_file_open(s, "/l/b.log", false), 0); /* re-added, last */
	assert_int_equal(metrics_set_file_open(s, "/l/a.log", false), 0); /* updated in place */
	out = render(m, EXPO_TEXT);
	assert_non_null(strstr(out, "accesslog_log_file_open{source=\"f\",path=\"/l/a.log\"} 0\n"
	                            "accesslog_log_file_open{source=\"f\",path=\"/l/c.log\"} 0\n"
	                            "accesslog_log_file_open{source=\"f\",path=\"/l/b.log\"} 0\n"));
	assert_int_equal(file_gauges(out), 3);
	free(out);

	/* The cap: the fileset's 1024 files plus one per configured path. */
	assert_true(METRICS_MAX_FILES >= 1024 + CONFIG_MAX_PATHS);
	for (unsigned i = 3; i < METRICS_MAX_FILES; i++) {
		(void)snprintf(path, sizeof(path), "/l/x%u.log", i);
		assert_int_equal(metrics_set_file_open(s, path, true), 0);
	}
	assert_int_equal(metrics_set_file_open(s, "/l/over.log", true), -ENOSPC);
	assert_int_equal(metrics_set_file_open(s, "/l/a.log", true), 0); /* existing: fine */
	assert_int_equal(metrics_remove_file(s, "/l/x3.log"), 0);
	assert_int_equal(metrics_set_file_open(s, "/l/over.log", true), 0);
	assert_int_equal(metrics_set_file_open(s, "/l/over2.log", true), -ENOSPC);
	out = render(m, EXPO_TEXT);
	assert_int_equal(file_gauges(out), METRICS_MAX_FILES);
	assert_null(strstr(out, "x3.log"));
	free(out);
	metrics_destroy(m);
}

struct gauge_writer {
	struct metrics_source *s;
	atomic_bool done;
};

/* The source's writer: adds, updates and removes gauges in a rolling window. */
static void *gauge_writer_main(void *ud)
{
	struct gauge_writer *g = ud;
	char path[64];

	for (unsigned i = 0; i < 20000; i++) {
		(void)snprintf(path, sizeof(path), "/l/access.log-%u", i);
		assert_int_equal(metrics_set_file_open(g->s, path, true), 0);
		if (i >= 8) {
			(void)snprintf(path, sizeof(path), "/l/access.log-%u", i - 8);
			assert_int_equal(metrics_remove_file(g->s, path), 0);
		}
	}
	atomic_store(&g->done, true);
	return NULL;
}

/* Removing gauges while scrapes render: never more than the window, no
 * duplicates, no freed path read (ASan). */
static void t_file_gauges_concurrent(void **state)
{
	struct metrics *m = new_registry();
	struct gauge_writer g;
	pthread_t t;
	unsigned renders = 0;
	(void)state;

	assert_int_equal(metrics_add_source(m, "r", NULL, 0, NULL, 0, &g.s, NULL, 0), 0);
	atomic_init(&g.done, false);
	assert_int_equal(pthread_create(&t, NULL, gauge_writer_main, &g), 0);
	while (!atomic_load(&g.done) || renders == 0) {
		char *out = render(m, EXPO_TEXT);
		assert_true(file_gauges(out) <= 9);
		assert_no_duplicates(out);
		free(out);
		renders++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	char *out = render(m, EXPO_TEXT);
	assert_int_equal(file_gauges(out), 8);
	assert_non_null(strstr(out, "path=\"/l/access.log-19999\"} 1\n"));
	assert_null(strstr(out, "path=\"/l/access.log-19991\""));
	free(out);
	metrics_destroy(m);
}

/* metrics_observe_batch counts exactly what metrics_observe does line by
 * line, in any batch sizes (longer than METRICS_BATCH_MAX too): the same
 * series, the same overflow series and the same dropped counts once the
 * series limit is reached, and the routes survive their cache clearing
 * (the values cycle through more routes than a source of limit 40 keeps).
 * Then with room for every series and long paths: more routes than the
 * batch counts without prefetching, and more key bytes than a batch keeps
 * (those lines' keys are built again). */
static const struct config_field_label batch_labels[] = {
    FIELD_LABEL_RULE("site", VHOST, "(?:www\\.)?(.*)", "$1"),
    FIELD_LABEL("route", PATH),
};

static void batch_case(size_t limit, size_t distinct, size_t pad, size_t n_lines)
{
	const struct config_field_label *fl = batch_labels;
	static const char *const methods[] = {"GET", "POST", "HEAD", "BREW"};
	static const unsigned codes[] = {200, 201, 304, 404, 500, 502, 999};
	enum { N = 20000 };
	static struct log_record recs[N];
	static char hosts[N][32], paths[N][300];
	const struct log_record *ptr[N];
	struct metrics *a = registry_with(false, false, limit),
	               *b = registry_with(false, false, limit);
	struct metrics_source *sa, *sb;
	uint64_t x = 12345;

	assert_int_equal(metrics_add_source(a, "s", NULL, 0, fl, 2, &sa, NULL, 0), 0);
	assert_int_equal(metrics_add_source(b, "s", NULL, 0, fl, 2, &sb, NULL, 0), 0);
	for (size_t i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		unsigned v = (unsigned)(x >> 33);
		(void)snprintf(hosts[i], sizeof(hosts[i]), "%ssite%u", v & 1 ? "www." : "", v % 7);
		(void)snprintf(paths[i], sizeof(paths[i]), "/p/%0*u?q=%u", (int)pad,
		               (unsigned)((v >> 3) % distinct), v);
		recs[i] = vrec(methods[(v >> 8) % 4], codes[(v >> 12) % 7], hosts[i], paths[i]);
		recs[i].has_request_time = (v >> 16) % 3 != 0;
		recs[i].upstream_time = 0.01 * (double)((v >> 18) % 100);
		recs[i].has_upstream_time = (v >> 20) % 2 != 0;
		recs[i].has_bytes = (v >> 21) % 5 != 0;
		ptr[i] = &recs[i];
	}
	for (size_t i = 0; i < n_lines; i++) {
		metrics_observe(sa, &recs[i]);
	}
	for (size_t i = 0, n; i < n_lines; i += n) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		n = 1 + (size_t)(x >> 33) % 300;
		n = n > n_lines - i ? n_lines - i : n;
		metrics_observe_batch(sb, ptr + i, n);
	}
	char *ta = render(a, EXPO_TEXT), *tb = render(b, EXPO_TEXT);
	if (limit < distinct) {
		assert_non_null(strstr(ta, "=\"__overflow__\""));
		assert_non_null(strstr(ta, "accesslog_series_dropped_total{source=\"s\",metric="));
	} else {
		assert_null(strstr(ta, "=\"__overflow__\""));
	}
	assert_string_equal(ta, tb);
	free(ta);
	free(tb);
	metrics_destroy(a);
	metrics_destroy(b);
}

static void t_batch_same_as_one(void **state)
{
	(void)state;
	batch_case(40, 900, 1, 20000);
	batch_case(100000, 3000, 100, 4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_counts_and_labels),
	    cmocka_unit_test(t_histogram_consistent),
	    cmocka_unit_test(t_save_restore),
	    cmocka_unit_test(t_merge),
	    cmocka_unit_test(t_merge_journal),
	    cmocka_unit_test(t_optional_histograms),
	    cmocka_unit_test(t_method_labels),
	    cmocka_unit_test(t_bad_buckets),
	    cmocka_unit_test(t_no_histograms),
	    cmocka_unit_test(t_drop_class_reason),
	    cmocka_unit_test(t_field_labels),
	    cmocka_unit_test(t_label_values_capped_and_escaped),
	    cmocka_unit_test(t_series_limit),
	    cmocka_unit_test(t_no_duplicates_and_stable),
	    cmocka_unit_test(t_openmetrics_families),
	    cmocka_unit_test(t_save_restore_field_labels),
	    cmocka_unit_test(t_restore_schema_changes),
	    cmocka_unit_test(t_restore_schema_overflow),
	    cmocka_unit_test(t_restore_rules_and_variable),
	    cmocka_unit_test(t_restore_max_rules),
	    cmocka_unit_test(t_restore_schema_malformed),
	    cmocka_unit_test(t_concurrent_render),
	    cmocka_unit_test(t_file_gauges),
	    cmocka_unit_test(t_file_gauges_concurrent),
	    cmocka_unit_test(t_field_kinds),
	    cmocka_unit_test(t_rewrite_unset_group),
	    cmocka_unit_test(t_batch_same_as_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
