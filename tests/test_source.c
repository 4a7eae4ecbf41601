/*
 * test_source.c - one source end to end on real files: lines are counted
 * once, a checkpoint (source_checkpoint -> state_parse -> source_restore)
 * resumes counters and offsets exactly, source_start_from hands a
 * replaced source's positions to its successor (config reload), a source
 * failing half-way through creation leaves nothing registered, and
 * source_set_replace (config reload) is all or nothing: a config failing in
 * the registry's checks, or a swap failing half-way, leaves the running
 * sources and their counters as they were.
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
#include "exporter/metrics/metrics.h"
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

static const struct metrics_options test_mo = {
    .request_buckets = (const double[]){0.1, 1},
    .n_request_buckets = 2,
    .upstream_buckets = (const double[]){0.1, 1},
    .n_upstream_buckets = 2,
};

/* Whether the rendered registry contains needle. */
static bool rendered(struct metrics *m, const char *needle)
{
	struct strbuf b;
	bool found;

	strbuf_init(&b, 1u << 24);
	assert_int_equal(metrics_render(m, EXPO_TEXT, &b), 0);
	assert_non_null(b.data);
	found = strstr(b.data, needle) != NULL;
	strbuf_finish(&b);
	return found;
}

/* A source on logpath (or on no file when path is NULL) with label team. */
static struct config_source *add_cfg(struct config *c, const char *name, const char *path,
                                     const char *team)
{
	struct config_source *cs;

	assert_int_equal(config_add_source(c, name, LOGPARSE_PRESET, "combined", &cs), 0);
	if (path) {
		assert_int_equal(config_source_add_path(cs, path), 0);
	}
	assert_int_equal(config_source_add_label(cs, "team", team), 0);
	return cs;
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
	assert_int_equal(source_restore(s, state_find_source(st, "web"), 1u << 20), 0);
	state_destroy(st);
	append(22, 3, "");
	(void)source_poll(s, false);
	assert_int_equal(lines(s), 10 + 7 + 3);
	assert_int_equal(metrics_get(source_metrics(s), METRICS_PARSE_ERRORS), 1);
	assert_int_equal(source_restore(s, NULL, 0), -EBUSY);
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

/* Item 5 of the review: metrics_add_source succeeded, a later step failed. */
static void t_failed_create_unregisters(void **state)
{
	struct metrics *m = metrics_create(&test_mo);
	struct config *c = config_create(), *c2 = config_create();
	struct source *s = NULL;
	char err[256] = "";
	(void)state;

	assert_non_null(m);
	assert_non_null(c);
	assert_non_null(c2);
	/* No path: fileset_create fails after the source was registered. */
	struct config_source *bad = add_cfg(c, "web", NULL, "x");
	assert_int_equal(source_create(bad, m, false, &s, err, sizeof(err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, "no files given"));
	assert_false(rendered(m, "source=\"web\""));
	/* The name is free again; destroying a working source frees it too. */
	struct config_source *good = add_cfg(c2, "web", logpath, "x");
	assert_int_equal(source_create(good, m, false, &s, err, sizeof(err)), 0);
	assert_true(rendered(m, "source=\"web\""));
	source_destroy(s);
	assert_false(rendered(m, "source=\"web\""));
	assert_int_equal(source_create(good, m, false, &s, err, sizeof(err)), 0);
	source_destroy(s);
	source_destroy(NULL);
	metrics_destroy(m);
	config_destroy(c);
	config_destroy(c2);
}

/* A field label reading a format variable must find it in the source's
 * parser at the index the config reader resolved; otherwise the source is
 * refused with a message naming the label and the variable. */
static void t_variable_label_checked(void **state)
{
	struct metrics *m = metrics_create(&test_mo);
	struct config *c = config_create();
	struct source *s = NULL;
	char err[256] = "";
	(void)state;

	assert_non_null(m);
	assert_non_null(c);
	struct config_source *cs = NULL;
	assert_int_equal(config_add_source(c, "app", LOGPARSE_NGINX,
	                                   "$remote_addr [$time_local] \"$request\" $status "
	                                   "\"$tier\" $zone",
	                                   &cs),
	                 0);
	assert_int_equal(config_source_add_path(cs, logpath), 0);
	assert_int_equal(config_source_add_field_label(cs, "zone", CONFIG_FIELD_VHOST, NULL, NULL),
	                 0);
	struct config_field_label *f = &cs->field_labels[0];
	/* the fields labels read are captured first: zone is extra 0 */
	assert_int_equal(config_field_label_set_variable(f, "zone", 1), 0);
	assert_int_equal(source_create(cs, m, false, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(
	    strstr(err, "field label zone: the log format does not capture the field 'zone'"));
	assert_false(rendered(m, "source=\"app\""));
	assert_int_equal(config_field_label_set_variable(f, "nope", 0), 0);
	assert_int_equal(source_create(cs, m, false, &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(config_field_label_set_variable(f, "zone", 0), 0);
	assert_int_equal(source_create(cs, m, false, &s, err, sizeof(err)), 0);
	source_destroy(s);
	/* a filter on a field the format lacks is refused the same way */
	assert_int_equal(
	    config_source_add_filter(cs, CONFIG_FILTER_DROP, CONFIG_FIELD_VARIABLE, "nope", "x"),
	    0);
	cs->filters[0].variable_index = 1;
	assert_int_equal(source_create(cs, m, false, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "filter 0: the log format does not capture the field 'nope'"));
	/* and a bad pattern names the filter */
	free(cs->filters[0].variable);
	cs->filters[0].variable = NULL;
	cs->filters[0].field = CONFIG_FIELD_PATH;
	free(cs->filters[0].match);
	cs->filters[0].match = strdup("(");
	assert_int_equal(source_create(cs, m, false, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "filter 0: bad match pattern"));
	metrics_destroy(m);
	config_destroy(c);
}

struct reload_fixture {
	struct metrics *m;
	struct config *running;
	struct source_set set;
	uint64_t bytes; /* web's bytes_read after setup */
};

/* One running source "web" on logpath that has counted 4 lines. */
static void reload_setup(struct reload_fixture *fx)
{
	char err[256];

	fx->m = metrics_create(&test_mo);
	fx->running = config_create();
	assert_non_null(fx->m);
	assert_non_null(fx->running);
	append(0, 3, "");
	const struct config_source *cs = add_cfg(fx->running, "web", logpath, "x");
	assert_int_equal(source_create(cs, fx->m, false, &fx->set.sources[0], err, sizeof(err)), 0);
	fx->set.cfg[0] = cs;
	fx->set.n = 1;
	(void)source_poll(fx->set.sources[0], false);
	append(3, 4, "");
	(void)source_poll(fx->set.sources[0], false);
	assert_int_equal(lines(fx->set.sources[0]), 4);
	fx->bytes = metrics_get(source_metrics(fx->set.sources[0]), METRICS_BYTES_READ);
	assert_true(fx->bytes > 0);
}

static void reload_teardown(struct reload_fixture *fx)
{
	for (size_t i = 0; i < fx->set.n; i++) {
		source_destroy(fx->set.sources[i]);
	}
	metrics_destroy(fx->m);
	config_destroy(fx->running);
}

/* The running set is exactly as reload_setup left it, and still counts. */
static void assert_untouched(struct reload_fixture *fx, struct source *web, unsigned from)
{
	assert_int_equal(fx->set.n, 1);
	assert_ptr_equal(fx->set.sources[0], web);
	assert_ptr_equal(fx->set.cfg[0], &fx->running->sources[0]);
	assert_int_equal(lines(web), 4);
	assert_int_equal(metrics_get(source_metrics(web), METRICS_BYTES_READ), fx->bytes);
	assert_true(rendered(fx->m, "source=\"web\",team=\"x\""));
	assert_false(rendered(fx->m, "team=\"z\""));
	append(from, 2, "");
	(void)source_poll(web, false);
	assert_int_equal(lines(web), 6);
}

static void t_replace_fails_in_prepare(void **state)
{
	struct reload_fixture fx = {0};
	struct config *next = config_create();
	char err[256] = "";
	(void)state;

	reload_setup(&fx);
	struct source *web = fx.set.sources[0];
	assert_non_null(next);
	(void)add_cfg(next, "web", logpath, "z"); /* changed: would replace web */
	struct config_source *bad = add_cfg(next, "new", logpath, "y");
	/* Accepted by config_source_add_field_label (patterns are compiled later),
	 * rejected by the registry when the source is created. */
	assert_int_equal(config_source_add_field_label(bad, "vh", CONFIG_FIELD_VHOST, "(", "$1"),
	                 0);
	assert_int_equal(source_set_replace(&fx.set, fx.m, &test_mo, next->sources, next->n_sources,
	                                    err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "bad match pattern"));
	assert_false(rendered(fx.m, "source=\"new\""));
	assert_untouched(&fx, web, 7);
	config_destroy(next);
	reload_teardown(&fx);
}

/* The swap itself fails after web's old metrics were parked and its
 * replacement moved in: everything is undone, counters included. */
static void t_replace_fails_in_commit(void **state)
{
	struct reload_fixture fx = {0};
	struct config *next = config_create();
	struct metrics_source *squatter;
	char err[256] = "";
	(void)state;

	reload_setup(&fx);
	struct source *web = fx.set.sources[0];
	assert_non_null(next);
	(void)add_cfg(next, "web", logpath, "z");
	(void)add_cfg(next, "taken", logpath, "y");
	/* A name the scratch registry accepts but the running one refuses. */
	assert_int_equal(
	    metrics_add_source(fx.m, "taken", NULL, 0, NULL, 0, &squatter, err, sizeof(err)), 0);
	assert_int_equal(source_set_replace(&fx.set, fx.m, &test_mo, next->sources, next->n_sources,
	                                    err, sizeof(err)),
	                 -EEXIST);
	assert_non_null(strstr(err, "duplicate source name"));
	assert_untouched(&fx, web, 7);
	/* The counters survived the round trip, by status too. */
	assert_true(rendered(fx.m, "accesslog_http_responses_total{source=\"web\",team=\"x\","));
	metrics_remove_source(fx.m, squatter);
	config_destroy(next);
	reload_teardown(&fx);
}

/* Success: changed web continues from the old positions, new "other" on
 * another file starts at its end, unchanged ones would be kept. */
static void t_replace_hands_over(void **state)
{
	struct reload_fixture fx = {0};
	struct config *next = config_create();
	char other[160], err[256] = "";
	(void)state;

	reload_setup(&fx);
	struct source *old = fx.set.sources[0];
	snprintf(other, sizeof(other), "%s/other.log", dir);
	FILE *f = fopen(other, "w");
	assert_non_null(f);
	fputs("192.0.2.1 - - [25/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"t\"\n",
	      f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(next);
	(void)add_cfg(next, "web", logpath, "z");
	(void)add_cfg(next, "other", other, "y");
	append(7, 5, ""); /* written after old's last poll, before the reload */
	assert_int_equal(source_set_replace(&fx.set, fx.m, &test_mo, next->sources, next->n_sources,
	                                    err, sizeof(err)),
	                 0);
	assert_int_equal(fx.set.n, 2);
	assert_ptr_not_equal(fx.set.sources[0], old);
	assert_ptr_equal(fx.set.cfg[0], &next->sources[0]);
	assert_ptr_equal(fx.set.cfg[1], &next->sources[1]);
	assert_false(rendered(fx.m, "team=\"x\""));
	append(12, 2, "");
	(void)source_poll(fx.set.sources[0], false);
	(void)source_poll(fx.set.sources[1], false);
	assert_int_equal(lines(fx.set.sources[0]), 5 + 2); /* none lost, none twice */
	assert_int_equal(lines(fx.set.sources[1]), 0);     /* other.log: from its end */
	/* Reloading the same config again keeps both sources as they are. */
	struct source *kept[2] = {fx.set.sources[0], fx.set.sources[1]};
	assert_int_equal(source_set_replace(&fx.set, fx.m, &test_mo, next->sources, next->n_sources,
	                                    err, sizeof(err)),
	                 0);
	assert_ptr_equal(fx.set.sources[0], kept[0]);
	assert_ptr_equal(fx.set.sources[1], kept[1]);
	assert_int_equal(lines(kept[0]), 7);
	reload_teardown(&fx);
	config_destroy(next);
}

/* Review item 12: after --once delivered an unterminated last line, a
 * shorter line appended later must still be read. */
static void t_last_line_then_short_line(void **state)
{
	struct fixture fx = {0};
	(void)state;

	append(0, 0, "");
	struct source *s = new_source(&fx, "web");
	(void)source_poll(s, false); /* positions at the (empty) file's end */
	append(0, 2, "192.0.2.1 - - [25/Nov/2026:10:00:00 +0000] \"GET /unterminated");
	(void)source_poll(s, true);
	assert_int_equal(lines(s), 3);
	FILE *f = fopen(logpath, "a");
	assert_non_null(f);
	fputs("x\n", f); /* shorter than the delivered line: a junk line */
	assert_int_equal(fclose(f), 0);
	(void)source_poll(s, false);
	assert_int_equal(lines(s), 4);
	source_destroy(s);
	finish(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_checkpoint_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_start_from, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_failed_create_unregisters, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_variable_label_checked, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_replace_fails_in_prepare, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_replace_fails_in_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_replace_hands_over, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_last_line_then_short_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
