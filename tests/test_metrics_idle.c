/*
 * test_metrics_idle.c - series_idle_timeout (metrics_idle.c) on a fake
 * clock: idle field-label series disappear from the scrape with their
 * histograms, native histograms and exemplars (LeakSanitizer checks the
 * frees), busy ones and the overflow series stay; a returning label set
 * starts from 0 with a fresh creation time; removed room counts back
 * against series_limit; the route cache never writes through a stale
 * pointer; checkpoints hold no removed series and restored series start
 * their idle time at restore; a sweep while another thread renders.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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

#define IDLE_MS 60000u

static const struct config_field_label path_label[] = {
    FIELD_LABEL("route", PATH),
};

struct line {
	const char *path;
	unsigned code;
	const char *id; /* exemplar id, NULL: none */
};

static struct log_record record(const struct line *l)
{
	struct log_record r;

	memset(&r, 0, sizeof(r));
	r.method = (struct str_view){"GET", 3};
	r.path = (struct str_view){l->path, strlen(l->path)};
	r.status_slot = status_slot_from_code(l->code);
	r.bytes_sent = 10;
	r.has_bytes = true;
	r.request_time = 0.05;
	r.has_request_time = true;
	r.upstream_time = 0.5;
	r.has_upstream_time = true;
	if (l->id) {
		r.trace_id = (struct str_view){l->id, strlen(l->id)};
		r.trace_kind = LOG_TRACE_REQUEST_ID;
	}
	return r;
}

/* n lines of path through the batch path (the daemon's). */
static void feed(struct metrics_source *s, const char *path, unsigned code, int n)
{
	struct log_record r[64];
	const struct log_record *p[64];
	struct line l = {path, code, n % 2 ? "req-1" : NULL};

	assert_true(n <= 64);
	for (int i = 0; i < n; i++) {
		r[i] = record(&l);
		p[i] = &r[i];
	}
	metrics_observe_batch(s, p, (size_t)n);
}

/* _created samples, no hold. */
static struct metrics *registry(struct fake_clock *c, size_t limit, bool native)
{
	return fake_registry_with(c, 0, true, native, limit);
}

static struct metrics_source *add(struct metrics *m, uint64_t idle_ms)
{
	struct metrics_source *s = NULL;

	assert_int_equal(metrics_add_source(m, "web", NULL, 0, path_label, 1, &s, NULL, 0), 0);
	assert_int_equal(metrics_source_set_idle_timeout(s, idle_ms), 0);
	return s;
}

static char *render(struct metrics *m, enum expo_format f)
{
	struct strbuf b;

	strbuf_init(&b, 1 << 24);
	assert_int_equal(metrics_render(m, f, &b), 0);
	return strbuf_steal(&b, NULL);
}

/* The value of the first sample line starting with prefix, -1: none. */
static long long sample(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, prefix, n) == 0) {
			long long v = 0;
			for (p += n; *p >= '0' && *p <= '9'; p++) {
				v = v * 10 + (*p - '0');
			}
			return v;
		}
	}
	return -1;
}

#define RESP(path) "accesslog_http_responses_total{source=\"web\",route=\"" path "\",code=\"200\""
#define RESP_TOTAL(path)                                                                           \
	"accesslog_http_responses_total{source=\"web\",route=\"" path                              \
	"\",code=\"200\",class=\"2xx\",reason=\"OK\",method=\"GET\"} "
#define HIST(path) "accesslog_http_request_duration_seconds_count{source=\"web\",route=\"" path "\""
#define REMOVED "accesslog_series_removed_total{source=\"web\"} "

static bool has(struct metrics *m, const char *what)
{
	char *t = render(m, EXPO_OPENMETRICS);
	bool yes = strstr(t, what) != NULL;

	free(t);
	return yes;
}

/* Idle series go with every family (responses, bytes, both histograms),
 * busy ones stay, and only when the sweep is due. */
static void t_removal(void **state)
{
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 0, true);
	struct metrics_source *s = add(m, IDLE_MS);
	(void)state;

	feed(s, "/old", 200, 3);
	feed(s, "/busy", 200, 3);
	assert_true(has(m, RESP("/old")));
	assert_int_equal(metrics_source_sweep(s), 0); /* nothing idle yet */
	for (int k = 1; k <= 12; k++) {
		c.now = T0 + (int64_t)k * 10000; /* /busy sees a line every 10s */
		feed(s, "/busy", 200, 1);
		int r = metrics_source_sweep(s);
		/* due every 7.5s (an eighth); /old goes at the first sweep at or after 60s,
		 * with its 4 series */
		assert_int_equal(r, k == 6 ? 4 : 0);
	}
	char *t = render(m, EXPO_OPENMETRICS);
	assert_null(strstr(t, "/old"));
	assert_int_equal(sample(t, RESP_TOTAL("/busy")), 15);
	assert_non_null(strstr(t, HIST("/busy")));
	assert_int_equal(sample(t, REMOVED), 4);
	assert_int_equal(metrics_get(s, METRICS_SERIES_REMOVED), 4);
	free(t);
	metrics_destroy(m);
}

/* A returning label set starts from 0 with a fresh _created; without a
 * timeout nothing is stamped or removed, and no removed counter shows. */
static void t_return_and_off(void **state)
{
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 0, false);
	struct metrics_source *s = add(m, IDLE_MS), *plain = NULL;
	(void)state;

	feed(s, "/a", 200, 5);
	c.now = T0 + IDLE_MS;
	assert_int_equal(metrics_source_sweep(s), 4);
	c.now = T0 + IDLE_MS + 5000;
	feed(s, "/a", 200, 2);
	char *t = render(m, EXPO_OPENMETRICS);
	assert_int_equal(sample(t, RESP_TOTAL("/a")), 2);
	char created[256];
	(void)snprintf(created, sizeof(created),
	               "accesslog_http_responses_created{source=\"web\",route=\"/a\","
	               "code=\"200\",class=\"2xx\",reason=\"OK\",method=\"GET\"} %lld.",
	               (long long)(T0 + IDLE_MS + 5000) / 1000);
	assert_non_null(strstr(t, created));
	free(t);

	/* off: the default; a source without field labels has nothing to remove */
	assert_int_equal(metrics_add_source(m, "flat", NULL, 0, NULL, 0, &plain, NULL, 0), 0);
	assert_int_equal(metrics_source_set_idle_timeout(plain, IDLE_MS), 0);
	assert_int_equal(metrics_source_sweep(plain), 0);
	t = render(m, EXPO_OPENMETRICS);
	assert_null(strstr(t, "accesslog_series_removed_total{source=\"flat\"}"));
	free(t);
	/* too late once there are series */
	assert_int_equal(metrics_source_set_idle_timeout(s, 0), -EBUSY);
	metrics_destroy(m);

	m = registry(&c, 0, false);
	assert_int_equal(metrics_add_source(m, "web", NULL, 0, path_label, 1, &s, NULL, 0), 0);
	feed(s, "/a", 200, 1);
	assert_int_equal(metrics_source_set_idle_timeout(s, IDLE_MS), -EBUSY);
	c.now += 10 * IDLE_MS;
	assert_int_equal(metrics_source_sweep(s), 0);
	assert_true(has(m, RESP("/a")));
	assert_false(has(m, "accesslog_series_removed_total"));
	metrics_destroy(m);
}

/* limit 2: /c overflows while /a and /b hold the room; once they are
 * removed, /c gets a series of its own (its route no longer counts drops)
 * and the overflow series, never removed, keeps its count. */
static void t_limit(void **state)
{
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 2, false);
	struct metrics_source *s = add(m, IDLE_MS);
	(void)state;

	feed(s, "/a", 200, 1);
	feed(s, "/b", 200, 1);
	feed(s, "/c", 200, 3);
	char *t = render(m, EXPO_OPENMETRICS);
	assert_int_equal(sample(t, RESP_TOTAL("__overflow__")), 3);
	assert_null(strstr(t, RESP("/c")));
	free(t);
	c.now = T0 + IDLE_MS;
	feed(s, "/c", 200, 1); /* keeps the overflow series busy: it is not removed anyway */
	c.now = T0 + 3 * IDLE_MS;
	assert_int_equal(metrics_source_sweep(s), 8); /* /a and /b in 4 families */
	feed(s, "/c", 200, 2);
	t = render(m, EXPO_OPENMETRICS);
	assert_int_equal(sample(t, RESP_TOTAL("__overflow__")), 4);
	assert_int_equal(sample(t, RESP_TOTAL("/c")), 2);
	assert_int_equal(sample(t, "accesslog_series_dropped_total{source=\"web\",metric="
	                           "\"accesslog_http_responses_total\"} "),
	                 4);
	free(t);
	/* new label sets fill the room again, then overflow again */
	feed(s, "/d", 200, 1);
	feed(s, "/e", 200, 1);
	t = render(m, EXPO_OPENMETRICS);
	assert_int_equal(sample(t, RESP_TOTAL("/d")), 1);
	assert_null(strstr(t, RESP("/e")));
	assert_int_equal(sample(t, RESP_TOTAL("__overflow__")), 5);
	free(t);
	metrics_destroy(m);
}

/* Many label sets, every other one idle: the survivors move (compaction)
 * and the cached routes must follow them: each keeps its own count. */
static void t_routes(void **state)
{
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 0, false);
	struct metrics_source *s = add(m, IDLE_MS);
	char path[32], want[128];
	(void)state;

	for (int i = 0; i < 300; i++) {
		(void)snprintf(path, sizeof(path), "/p%d", i);
		feed(s, path, 200, 1 + i % 3);
	}
	c.now = T0 + IDLE_MS / 2;
	for (int i = 1; i < 300; i += 2) {
		(void)snprintf(path, sizeof(path), "/p%d", i);
		feed(s, path, 200, 1);
	}
	c.now = T0 + IDLE_MS;
	assert_int_equal(metrics_source_sweep(s), 150 * 4);
	for (int i = 0; i < 300; i++) {
		(void)snprintf(path, sizeof(path), "/p%d", i);
		feed(s, path, 200, 10);
	}
	char *t = render(m, EXPO_OPENMETRICS);
	for (int i = 0; i < 300; i++) {
		(void)snprintf(want, sizeof(want), RESP_TOTAL("/p%d"), i);
		/* removed: 10 again; kept: its lines before, the one at 30s, then 10 */
		assert_int_equal(sample(t, want), i % 2 ? 1 + i % 3 + 1 + 10 : 10);
	}
	free(t);
	metrics_destroy(m);
}

/* A checkpoint after a sweep has no removed series; restored series start
 * their idle time at the first sweep after the restore, whatever the
 * clock says. */
static void t_checkpoint(void **state)
{
	struct fake_clock c = {T0};
	struct metrics *m = registry(&c, 0, true), *m2;
	struct metrics_source *s = add(m, IDLE_MS), *s2;
	struct strbuf b;
	char *saved;
	(void)state;

	feed(s, "/gone", 200, 3);
	c.now = T0 + IDLE_MS / 2;
	feed(s, "/kept", 200, 3);
	c.now = T0 + IDLE_MS;
	assert_int_equal(metrics_source_sweep(s), 4);
	strbuf_init(&b, 1 << 20);
	assert_int_equal(metrics_source_save(s, &b), 0);
	saved = strbuf_steal(&b, NULL);
	assert_null(strstr(saved, "/gone"));
	assert_non_null(strstr(saved, "/kept"));
	assert_non_null(strstr(saved, "c series_removed 4\n"));

	c.now = T0 + 100 * (int64_t)IDLE_MS;
	m2 = registry(&c, 0, true);
	s2 = add(m2, IDLE_MS);
	assert_int_equal(metrics_source_restore(s2, saved, strlen(saved)), 0);
	free(saved);
	assert_int_equal(metrics_source_sweep(s2), 0); /* starts their clocks */
	char *t = render(m2, EXPO_OPENMETRICS);
	assert_int_equal(sample(t, RESP_TOTAL("/kept")), 3);
	assert_null(strstr(t, "/gone"));
	assert_int_equal(sample(t, REMOVED), 4);
	free(t);
	c.now += IDLE_MS - 1;
	assert_int_equal(metrics_source_sweep(s2), 0); /* due, not idle long enough */
	c.now += IDLE_MS / 8;                          /* the next sweep */
	assert_int_equal(metrics_source_sweep(s2), 4);
	assert_false(has(m2, "/kept"));
	metrics_destroy(m);
	metrics_destroy(m2);
}

struct race {
	struct metrics *m;
	atomic_bool stop;
	atomic_uint renders;
};

static void *render_loop(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		char *t =
		    render(r->m, atomic_load(&r->renders) % 2 ? EXPO_PROTOBUF : EXPO_OPENMETRICS);
		/* a label set is seen whole or not at all: every series a route */
		assert_non_null(t);
		free(t);
		atomic_fetch_add(&r->renders, 1);
	}
	return NULL;
}

/* Scrapes on another thread while the writer counts, removes and
 * re-creates series (ASan/UBSan in CI; a sweep that finds a render
 * holding the lock is refused and tried again). */
static void t_scrape_while_sweeping(void **state)
{
	struct fake_clock c = {T0};
	struct race r = {registry(&c, 50, true), false, 0};
	struct metrics_source *s = add(r.m, 1000);
	pthread_t th;
	char path[32];
	int removed = 0, busy = 0;
	(void)state;

	assert_int_equal(pthread_create(&th, NULL, render_loop, &r), 0);
	/* until a sweep removed series while renders ran: on a loaded machine
	 * the renderer can hold the registry through a whole run of sweeps */
	for (int round = 0; round < 400 || atomic_load(&r.renders) < 20 || removed == 0; round++) {
		for (int i = 0; i < 20; i++) {
			(void)snprintf(path, sizeof(path), "/r%d", (round * 7 + i) % 90);
			feed(s, path, 200 + (unsigned)(i % 3), 2);
		}
		c.now += 400;
		int n = metrics_source_sweep(s);
		assert_true(n >= 0 || n == -EBUSY);
		removed += n > 0 ? n : 0;
		busy += n == -EBUSY;
		assert_true(round < 100000);
	}
	atomic_store(&r.stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(removed > 0);
	assert_int_equal(metrics_get(s, METRICS_SERIES_REMOVED), (uint64_t)removed);
	(void)busy;
	metrics_destroy(r.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_removal),    cmocka_unit_test(t_return_and_off),
	    cmocka_unit_test(t_limit),      cmocka_unit_test(t_routes),
	    cmocka_unit_test(t_checkpoint), cmocka_unit_test(t_scrape_while_sweeping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
