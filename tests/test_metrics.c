/*
 * test_metrics.c - the registry: counting, rendering, histograms and the
 * checkpoint save/restore round trip.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/metrics.h"
#include "parsers/status.h"

static const double buckets[] = {0.1, 0.5, 1};

static struct metrics *new_registry(void)
{
	struct metrics_options o = {buckets, 3, buckets, 3};
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
	strbuf_init(&b, 1 << 24);
	assert_int_equal(metrics_render(m, f, &b), 0);
	return strbuf_steal(&b, NULL);
}

static void t_counts_and_labels(void **state)
{
	struct metrics *m = new_registry();
	struct metrics_source *s;
	struct config_label l = {(char *)"env", (char *)"prod"};
	(void)state;

	assert_int_equal(metrics_add_source(m, "web", &l, 1, &s), 0);
	assert_int_equal(metrics_add_source(m, "web", NULL, 0, &s), -EEXIST);
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

	assert_int_equal(metrics_add_source(m, "h", NULL, 0, &s), 0);
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

	assert_int_equal(metrics_add_source(a, "x", NULL, 0, &sa), 0);
	assert_int_equal(metrics_add_source(b, "x", NULL, 0, &sb), 0);
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
	assert_string_equal(metrics_method_label("GET", 3), "GET");
	assert_string_equal(metrics_method_label("PROPFIND", 8), "PROPFIND");
	assert_string_equal(metrics_method_label("get", 3), "other");
	assert_string_equal(metrics_method_label("GETX", 4), "other");
	assert_string_equal(metrics_method_label("", 0), "other");
}

static void t_bad_buckets(void **state)
{
	static const double unsorted[] = {1, 0.5};
	struct metrics_options o = {unsorted, 2, buckets, 3};
	(void)state;
	assert_null(metrics_create(&o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_counts_and_labels), cmocka_unit_test(t_histogram_consistent),
	    cmocka_unit_test(t_save_restore),      cmocka_unit_test(t_method_labels),
	    cmocka_unit_test(t_bad_buckets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
