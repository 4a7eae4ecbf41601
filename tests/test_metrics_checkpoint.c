/*
 * test_metrics_checkpoint.c - creation times through a checkpoint: saved
 * with every series and the source, restored as they were (so a restored
 * series is not new), and absent in older checkpoints (unknown: never
 * held, no _created); native histograms kept exactly (schema, buckets,
 * zero bucket), their lines checked strictly and skipped by a registry
 * without them; exemplars kept exactly (id, value, time; response
 * counters and classic buckets, flat and field-label series), skipped with
 * exemplars off, their lines checked strictly.
 */
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
#include "parsers/record.h"
#include "parsers/status.h"
#include "tests/fakeclock.h"
#include "tests/fieldlabel.h"

/* Held for a minute, with _created samples. */
static struct metrics *registry(struct fake_clock *c)
{
	return fake_registry(c, 60000, true);
}

static const struct config_field_label vhost_label[] = {
    FIELD_LABEL("vhost", VHOST),
};

static void observe(struct metrics_source *s, unsigned code, const char *vhost, int n)
{
	for (int i = 0; i < n; i++) {
		struct log_record r;
		memset(&r, 0, sizeof(r));
		r.method = (struct str_view){"GET", 3};
		r.status_slot = status_slot_from_code(code);
		r.bytes_sent = 10;
		r.has_bytes = true;
		r.request_time = 0.05;
		r.has_request_time = true;
		if (vhost) {
			r.vhost = (struct str_view){vhost, strlen(vhost)};
		}
		metrics_observe(s, &r);
	}
}

static char *render(struct metrics *m)
{
	struct strbuf b;

	strbuf_init(&b, 1 << 24);
	assert_int_equal(metrics_render(m, EXPO_OPENMETRICS, &b), 0);
	return strbuf_steal(&b, NULL);
}

static char *save(struct metrics_source *s)
{
	struct strbuf b;

	strbuf_init(&b, 1 << 20);
	assert_int_equal(metrics_source_save(s, &b), 0);
	return strbuf_steal(&b, NULL);
}

/* A source "web" in m, with the vhost field label when field_labels. */
static struct metrics_source *add_web(struct metrics *m, bool field_labels)
{
	struct metrics_source *s = NULL;

	assert_int_equal(metrics_add_source(m, "web", NULL, 0, field_labels ? vhost_label : NULL,
	                                    field_labels, &s, NULL, 0),
	                 0);
	return s;
}

/* Every line of bad[n] is refused by a restore into s. */
static void refused(struct metrics_source *s, const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (metrics_source_restore(s, bad[i], strlen(bad[i])) == 0) {
			fail_msg("accepted: %s", bad[i]);
		}
	}
}

/* m and m2 render the same protobuf scrape, byte for byte. */
static void same_protobuf(struct metrics *m, struct metrics *m2)
{
	struct strbuf a, b;

	strbuf_init(&a, 1 << 24);
	strbuf_init(&b, 1 << 24);
	assert_int_equal(metrics_render(m, EXPO_PROTOBUF, &a), 0);
	assert_int_equal(metrics_render(m2, EXPO_PROTOBUF, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	strbuf_finish(&a);
	strbuf_finish(&b);
}

/* Source created at T0, 200s born at T0+1s, 503s at T0+100s; saved at
 * T0+110s and restored into a new registry at T0+120s: the 200 series is
 * old (not held), the 503 still inside its hold (held until T0+160s), and
 * every _created sample is the original creation time. */
static void round_trip(bool field_labels)
{
	struct fake_clock c = {T0}, c2 = {T0};
	struct metrics *m = registry(&c), *m2 = registry(&c2);
	struct metrics_source *s, *s2;
	const char *vh = field_labels ? "a" : NULL;

	s = add_web(m, field_labels);
	c.now = T0 + 1000;
	observe(s, 200, vh, 4);
	c.now = T0 + 100000;
	observe(s, 503, vh, 9);
	c.now = T0 + 110000;
	char *saved = save(s);
	assert_non_null(strstr(saved, "t 1764756000000\n"));
	assert_non_null(strstr(saved, " @1764756001000"));
	assert_non_null(strstr(saved, " @1764756100000"));

	c2.now = T0 + 120000;
	s2 = add_web(m2, field_labels);
	assert_int_equal(metrics_source_restore(s2, saved, strlen(saved)), 0);
	char *text = render(m2);
	const char *lbl = field_labels ? "vhost=\"a\"," : "";
	char want[512];
	(void)snprintf(want, sizeof(want),
	               "accesslog_http_responses_total{source=\"web\",%scode=\"200\",class=\"2xx\","
	               "reason=\"OK\",method=\"GET\"} 4\n"
	               "accesslog_http_responses_created{source=\"web\",%scode=\"200\",class="
	               "\"2xx\",reason=\"OK\",method=\"GET\"} 1764756001.000\n",
	               lbl, lbl);
	if (!strstr(text, want)) {
		fail_msg("want\n%s\nin\n%s", want, text);
	}
	(void)snprintf(want, sizeof(want),
	               "accesslog_http_responses_total{source=\"web\",%scode=\"503\",class=\"5xx\","
	               "reason=\"Service Unavailable\",method=\"GET\"} 0\n",
	               lbl);
	assert_non_null(strstr(text, want));
	/* The source is old: its lines and class totals are not held. */
	assert_non_null(strstr(text, "accesslog_http_responses_by_class_total{source=\"web\","
	                             "class=\"5xx\"} 9\naccesslog_http_responses_by_class_created{"
	                             "source=\"web\",class=\"5xx\"} 1764756000.000\n"));
	free(text);
	c2.now = T0 + 160000;
	text = render(m2);
	(void)snprintf(want, sizeof(want),
	               "accesslog_http_responses_total{source=\"web\",%scode=\"503\",class=\"5xx\","
	               "reason=\"Service Unavailable\",method=\"GET\"} 9\n",
	               lbl);
	assert_non_null(strstr(text, want));
	/* A checkpoint of the restored source says the same again. */
	char *again = save(s2);
	assert_string_equal(again, saved);
	free(again);
	free(text);
	free(saved);
	metrics_destroy(m);
	metrics_destroy(m2);
}

static void t_round_trip_flat(void **state)
{
	(void)state;
	round_trip(false);
}

static void t_round_trip_field_labels(void **state)
{
	(void)state;
	round_trip(true);
}

/* A checkpoint without creation times (written by an older version):
 * restored series are not new, so nothing is held and no _created shows. */
static void t_older_checkpoint(void **state)
{
	static const char old[] = "c lines 7\nr GET 503 7\nb GET 5xx 70\n";
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c);
	struct metrics_source *s;
	(void)state;

	s = add_web(m, false);
	assert_int_equal(metrics_source_restore(s, old, strlen(old)), 0);
	char *text = render(m);
	assert_non_null(strstr(text, "reason=\"Service Unavailable\",method=\"GET\"} 7\n"));
	assert_non_null(strstr(text, "accesslog_log_lines_total{source=\"web\"} 7\n"));
	assert_null(strstr(text, "_created"));
	free(text);
	/* A new series born after the restore is held as usual. */
	observe(s, 404, NULL, 2);
	text = render(m);
	assert_non_null(strstr(text, "reason=\"Not Found\",method=\"GET\"} 0\n"));
	free(text);
	metrics_destroy(m);
}

static void t_malformed_created(void **state)
{
	static const char *const bad[] = {
	    "r GET 200 5 @\n",
	    "r GET 200 5 @x\n",
	    "r GET 200 5 @0\n",
	    "r GET 200 5 @1 @2\n",
	    "c lines 5 @17\n",
	    "t\n",
	    "t 0\n",
	    "t 12 13\n",
	    "t 99999999999999999999\n",
	    "r GET 200 5 @-1\n",
	    "l @1 vhost - -\n",
	};
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c);
	struct metrics_source *s;
	(void)state;

	s = add_web(m, false);
	refused(s, bad, sizeof(bad) / sizeof(bad[0]));
	metrics_destroy(m);
}

/* Request times over a wide range (the 16-bucket cap lowers the schema) and zeros. */
static void observe_times(struct metrics_source *s, const char *vhost, int n)
{
	for (int i = 0; i < n; i++) {
		struct log_record r;
		memset(&r, 0, sizeof(r));
		r.method = (struct str_view){"GET", 3};
		r.status_slot = status_slot_from_code(200);
		r.request_time = i % 10 ? 0.001 * (double)(i * 37 % 5000) : 0.0;
		r.has_request_time = true;
		r.upstream_time = 0.002 * (double)(i % 50);
		r.has_upstream_time = true;
		if (vhost) {
			r.vhost = (struct str_view){vhost, strlen(vhost)};
		}
		metrics_observe(s, &r);
	}
}

static void native_round_trip(bool field_labels)
{
	struct fake_clock c = {T0};
	struct metrics *m = fake_registry_native(&c, 0, false),
	               *m2 = fake_registry_native(&c, 0, false);
	struct metrics *plain = fake_registry(&c, 0, false);
	struct metrics_source *s, *s2, *s3;

	s = add_web(m, field_labels);
	s2 = add_web(m2, field_labels);
	s3 = add_web(plain, field_labels);
	observe_times(s, field_labels ? "a" : NULL, 500);
	char *saved = save(s);
	assert_non_null(strstr(saved, field_labels ? "\nN req GET 2xx " : "\nn req GET 2xx "));
	assert_non_null(strstr(saved, " z 50")); /* the zero durations */
	assert_int_equal(metrics_source_restore(s2, saved, strlen(saved)), 0);
	char *again = save(s2);
	assert_string_equal(again, saved);
	same_protobuf(m, m2); /* classic and native */
	/* Without native histograms the lines are skipped, the rest restored. */
	assert_int_equal(metrics_source_restore(s3, saved, strlen(saved)), 0);
	char *flat = save(s3);
	assert_null(strstr(flat, "n req"));
	assert_null(strstr(flat, "N req"));
	assert_non_null(strstr(flat, field_labels ? "\nS req GET 2xx " : "\ns req GET 2xx "));
	free(flat);
	free(again);
	free(saved);
	metrics_destroy(m);
	metrics_destroy(m2);
	metrics_destroy(plain);
}

static void t_native_round_trip(void **state)
{
	(void)state;
	native_round_trip(false);
	native_round_trip(true);
}

static void t_native_malformed(void **state)
{
	static const char *const bad[] = {
	    "n req GET 2xx 9 0 1\n",        "n req GET 2xx -5 0 1\n",
	    "n req GET 2xx 3 x 1\n",        "n req GET 2xx 3 1048577 1\n",
	    "n req GET 2xx 3 -1048577 1\n", "n req GET 2xx 3 2147483648 1\n",
	    "n req GET 2xx 3 z\n",          "n foo GET 2xx 3 1 1\n",
	    "n req GET 2xx 3 1 1 =a\n",     "n req GET 2xx 3 1 -1\n",
	    "n req GET 9xx 3 1 1\n",        "n req GET 2xx 3 - 1\n",
	    "n req GET 2xx +3 1 1\n",       "N req GET 2xx 3 1 1 a\n",
	};
	struct fake_clock c = {T0};
	struct metrics *m = fake_registry_native(&c, 0, false);
	struct metrics_source *s;
	(void)state;

	s = add_web(m, false);
	refused(s, bad, sizeof(bad) / sizeof(bad[0]));
	static const char good[] = "h req GET 2xx inf 0000000000000000 5 @1764756000000\n"
	                           "n req GET 2xx 3 -8 2\nn req GET 2xx 0 z 3 @1764756000000\n";
	assert_int_equal(metrics_source_restore(s, good, strlen(good)), 0);
	char *saved = save(s);
	/* the schema-0 zero line lowered the histogram: bucket -8 at 3 is -1 at 0 */
	assert_non_null(strstr(saved, "n req GET 2xx 0 -1 2 @1764756000000\n"));
	assert_non_null(strstr(saved, "n req GET 2xx 0 z 3 @1764756000000\n"));
	free(saved);
	metrics_destroy(m);
}

/* Lines with ids of every shape (short, 64 bytes and longer, bytes the
 * checkpoint escapes), both kinds, times over both buckets and +Inf, at
 * changing clock times. */
static void observe_ids(struct metrics_source *s, struct fake_clock *c, const char *vhost)
{
	static const char *const ids[] = {
	    "req-1", "4bf92f3577b34da6a3ce929d0e0e4736", "a b%c=d@e",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXYZ"};
	static const unsigned codes[] = {200, 200, 404, 503};
	for (int i = 0; i < 40; i++) {
		struct log_record r;
		const char *id = ids[i % 4];
		memset(&r, 0, sizeof(r));
		c->now = T0 + 1000 * i + 7;
		r.method = (struct str_view){i % 3 ? "GET" : "POST", i % 3 ? 3u : 4u};
		r.status_slot = status_slot_from_code(codes[i % 4]);
		r.request_time = 0.03 * (double)(i % 7) + (i % 5 == 0 ? 2.5 : 0.0);
		r.has_request_time = true;
		r.upstream_time = 0.02 * (double)(i % 9);
		r.has_upstream_time = i % 2 == 0;
		r.trace_id = (struct str_view){id, strlen(id)};
		r.trace_kind = i % 4 == 1 ? LOG_TRACE_TRACE_ID : LOG_TRACE_REQUEST_ID;
		if (vhost) {
			r.vhost = (struct str_view){vhost, strlen(vhost)};
		}
		metrics_observe(s, &r);
	}
}

static void exemplar_round_trip(bool field_labels)
{
	struct fake_clock c = {T0}, c2 = {T0 + 3600000};
	struct metrics *m = fake_registry(&c, 0, false), *m2 = fake_registry(&c2, 0, false);
	static const double buckets[] = {0.1, 1};
	struct metrics_options off = {.request_buckets = buckets,
	                              .n_request_buckets = 2,
	                              .upstream_buckets = buckets,
	                              .n_upstream_buckets = 2,
	                              .no_exemplars = true};
	struct metrics *plain = metrics_create(&off);
	struct metrics_source *s, *s2, *s3;

	assert_non_null(plain);
	s = add_web(m, field_labels);
	s2 = add_web(m2, field_labels);
	s3 = add_web(plain, field_labels);
	observe_ids(s, &c, field_labels ? "a" : NULL);
	char *saved = save(s);
	assert_non_null(strstr(saved, field_labels ? "\nE r POST 200 request_id "
	                                           : "\ne r POST 200 request_id "));
	assert_non_null(
	    strstr(saved, field_labels ? "\nE h req GET 2xx i " : "\ne h req GET 2xx i "));
	assert_non_null(strstr(saved, " =a%20b%25c=d@e"));
	assert_non_null(strstr(saved, " trace_id "));
	assert_int_equal(metrics_source_restore(s2, saved, strlen(saved)), 0);
	char *again = save(s2);
	assert_string_equal(again, saved);
	/* The scrapes that carry exemplars are the same bytes. */
	char *t1 = render(m), *t2 = render(m2);
	assert_non_null(strstr(t1, "# {request_id=\"a b%c=d@e\"}"));
	assert_string_equal(t1, t2);
	same_protobuf(m, m2);
	/* With exemplars off the lines are checked and skipped, the rest restored. */
	assert_int_equal(metrics_source_restore(s3, saved, strlen(saved)), 0);
	char *noex = save(s3);
	assert_null(strstr(noex, "e r "));
	assert_null(strstr(noex, "E r "));
	assert_non_null(strstr(noex, field_labels ? "\nR GET 200 " : "\nr GET 200 "));
	free(noex);
	free(t1);
	free(t2);
	free(again);
	free(saved);
	metrics_destroy(m);
	metrics_destroy(m2);
	metrics_destroy(plain);
}

static void t_exemplar_round_trip(void **state)
{
	(void)state;
	exemplar_round_trip(false);
	exemplar_round_trip(true);
}

static void t_exemplar_malformed(void **state)
{
	static const char *const bad[] = {
	    "e r GET 200 request_id 5 3ff0000000000000\n",
	    "e r GET 200 span_id 5 3ff0000000000000 =x\n",
	    "e r GET 200 request_id x 3ff0000000000000 =x\n",
	    "e r GET 200 request_id 5 zz =x\n",
	    "e r GET 200 request_id 5 3ff0000000000000 x\n",
	    "e r GET 200 request_id 5 3ff0000000000000 =\n",
	    "e r GET 200 request_id 5 3ff0000000000000 =x =y\n",
	    "e r FOO 200 request_id 5 3ff0000000000000 =x\n",
	    "e r GET 999 request_id 5 3ff0000000000000 =x\n",
	    "e x GET 200 request_id 5 3ff0000000000000 =x\n",
	    "e h req GET 2xx j 0000000000000000 request_id 5 3ff0000000000000 =x\n",
	    "e h foo GET 2xx inf 0000000000000000 request_id 5 3ff0000000000000 =x\n",
	    "e h req GET 9xx inf 0000000000000000 request_id 5 3ff0000000000000 =x\n",
	    "e h req GET 2xx inf 0000000000000000 request_id 5 3ff0000000000000\n",
	    "e r GET 200 request_id 5 3ff0000000000000 "
	    "=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX\n",
	    "E r GET 200 request_id 5 3ff0000000000000 =x y\n",
	};
	struct fake_clock c = {T0};
	struct metrics *m = fake_registry(&c, 0, false);
	struct metrics_source *s;
	(void)state;

	s = add_web(m, false);
	refused(s, bad, sizeof(bad) / sizeof(bad[0]));
	/* A bucket whose bound is gone loses its exemplar (as it loses its count). */
	static const char good[] =
	    "h req GET 2xx i 3fb999999999999a 1\n"
	    "e h req GET 2xx i 3fb999999999999a request_id -5 3fa999999999999a =kept\n"
	    "e h req GET 2xx i 3fe0000000000000 request_id 5 3fa999999999999a =gone\n";
	assert_int_equal(metrics_source_restore(s, good, strlen(good)), 0);
	char *saved = save(s);
	assert_non_null(strstr(saved, "e h req GET 2xx i 3fb999999999999a request_id -5 "
	                              "3fa999999999999a =kept\n"));
	assert_null(strstr(saved, "=gone"));
	free(saved);
	metrics_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_round_trip_flat),     cmocka_unit_test(t_round_trip_field_labels),
	    cmocka_unit_test(t_older_checkpoint),    cmocka_unit_test(t_malformed_created),
	    cmocka_unit_test(t_native_round_trip),   cmocka_unit_test(t_native_malformed),
	    cmocka_unit_test(t_exemplar_round_trip), cmocka_unit_test(t_exemplar_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
