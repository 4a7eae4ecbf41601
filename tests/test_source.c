/*
 * test_source.c - one source end to end on real files: lines are counted
 * once, a checkpoint (source_checkpoint -> state_parse -> source_restore)
 * resumes counters and offsets exactly, and source_start_from hands a
 * replaced source's positions to its successor (config reload).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "exporter/metrics.h"
#include "exporter/source.h"
#include "exporter/state.h"

static char dir[64];
static char logpath[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_source.XXXXXX");
	if (!mkdtemp(dir)) {
		return -1;
	}
	snprintf(logpath, sizeof(logpath), "%s/access.log", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void append(unsigned from, unsigned n, const char *tail)
{
	FILE *f = fopen(logpath, "a");
	assert_non_null(f);
	for (unsigned i = from; i < from + n; i++) {
		fprintf(f,
		        "192.0.2.%u - - [25/Nov/2026:10:00:00 +0000] \"GET /%u HTTP/1.1\" %s 10 "
		        "\"-\" \"t\"\n",
		        i % 250, i, i % 2 ? "404" : "200");
	}
	fputs(tail, f);
	assert_int_equal(fclose(f), 0);
}

struct fixture {
	struct config *c;
	struct metrics *m;
};

static struct source *new_source(struct fixture *fx, const char *name)
{
	static const double buckets[] = {0.1, 1};
	struct metrics_options mo = {.request_buckets = buckets,
	                             .n_request_buckets = 2,
	                             .upstream_buckets = buckets,
	                             .n_upstream_buckets = 2};
	struct config_source *cs;
	struct source *s;
	char err[256];

	if (!fx->c) {
		fx->c = config_create();
		fx->m = metrics_create(&mo);
		assert_non_null(fx->c);
		assert_non_null(fx->m);
	}
	assert_int_equal(config_add_source(fx->c, name, LOGPARSE_PRESET, "combined", &cs), 0);
	assert_int_equal(config_source_add_path(cs, logpath), 0);
	assert_int_equal(source_create(cs, fx->m, false, &s, err, sizeof(err)), 0);
	return s;
}

static void finish(struct fixture *fx)
{
	metrics_destroy(fx->m);
	config_destroy(fx->c);
}

static uint64_t lines(struct source *s)
{
	return metrics_get(source_metrics(s), METRICS_LINES);
}

static void t_checkpoint_resume(void **state)
{
	struct fixture a = {0}, b = {0};
	struct strbuf buf;
	struct state *st;
	(void)state;

	append(0, 5, ""); /* present at start: not counted */
	struct source *s = new_source(&a, "web");
	(void)source_poll(s, false);
	append(5, 10, "192.0.2.1 - - [25/Nov/2026:10:00:00 +0000] \"GET /half");
	(void)source_poll(s, false);
	assert_int_equal(lines(s), 10);

	strbuf_init(&buf, STATE_MAX_BYTES);
	state_begin(&buf);
	assert_int_equal(source_checkpoint(s, &buf), 0);
	assert_int_equal(state_finish(&buf), 0);
	append(15, 7, ""); /* completes the half line (a parse error) + 7 */
	(void)source_poll(s, false);
	assert_int_equal(lines(s), 17); /* then "kill -9": all of this is lost */
	source_destroy(s);
	finish(&a);

	assert_int_equal(state_parse(buf.data, buf.len, &st), 0);
	s = new_source(&b, "web");
	assert_int_equal(source_restore(s, state_find_source(st, "web")), 0);
	state_destroy(st);
	append(22, 3, "");
	(void)source_poll(s, false);
	assert_int_equal(lines(s), 10 + 7 + 3);
	assert_int_equal(metrics_get(source_metrics(s), METRICS_PARSE_ERRORS), 1);
	assert_int_equal(source_restore(s, NULL), -EBUSY);
	source_destroy(s);
	finish(&b);
	strbuf_finish(&buf);
}

static void t_start_from(void **state)
{
	struct fixture fx = {0};
	(void)state;

	append(0, 5, "");
	struct source *old = new_source(&fx, "old");
	(void)source_poll(old, false);
	append(5, 4, "");
	(void)source_poll(old, false);
	assert_int_equal(lines(old), 4);
	append(9, 6, ""); /* written while the config is reloaded */
	struct source *next = new_source(&fx, "new");
	assert_int_equal(source_start_from(next, old), 0);
	source_destroy(old);
	(void)source_poll(next, false);
	assert_int_equal(lines(next), 6); /* exactly the lines after the handover */
	assert_int_equal(source_start_from(next, next), -EBUSY);
	source_destroy(next);
	finish(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_checkpoint_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_start_from, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
