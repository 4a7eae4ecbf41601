/*
 * test_series.c - field-label tuples and series tables: interning, the raw
 * value cache (including flushes), caps, the per-family limit with its
 * overflow series, and that restores do not count as dropped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/metrics/series.h"
#include "parsers/status.h"
#include "tests/fieldlabel.h"

static const struct config_field_label host_rule[] = {
    FIELD_LABEL_RULE("vhost", VHOST, "(?:www\\.)?(.*)", "$1"),
};

static struct log_record host_rec(const char *host)
{
	struct log_record r;
	memset(&r, 0, sizeof(r));
	r.vhost = (struct str_view){host, strlen(host)};
	return r;
}

static void t_tuples_intern_and_cache(void **state)
{
	struct series_tuples *t;
	char host[64], err[128];
	uint32_t first[10000];
	(void)state;

	assert_int_equal(series_tuples_create(host_rule, 1, 20000, &t, err, sizeof(err)), 0);
	assert_int_equal(series_tuples_width(t), 1);
	assert_string_equal(series_tuples_name(t, 0), "vhost");
	/* 10000 distinct raw values overflow the 4096-entry cache twice over. */
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < 10000; i++) {
			(void)snprintf(host, sizeof(host), "%sh%u", i % 2 ? "www." : "", i);
			struct log_record r = host_rec(host);
			uint32_t id = series_tuples_lookup(t, &r);
			assert_true(id != SERIES_OVERFLOW);
			if (round == 0) {
				first[i] = id;
			} else {
				assert_int_equal(id, first[i]); /* stable across cache flushes */
			}
		}
	}
	/* "www.h1" and "h1" rewrite to the same value: one tuple. */
	struct log_record a = host_rec("www.h7"), b = host_rec("h7");
	assert_int_equal(series_tuples_lookup(t, &a), series_tuples_lookup(t, &b));
	struct str_view v;
	series_tuples_values(t, first[42], &v);
	assert_int_equal(v.len, 3);
	assert_memory_equal(v.ptr, "h42", 3);
	/* Intern by value finds the same id; the overflow tuple is found by its value. */
	struct str_view h42 = {"h42", 3},
	                over = {SERIES_OVERFLOW_VALUE, strlen(SERIES_OVERFLOW_VALUE)};
	assert_int_equal(series_tuples_intern(t, &h42, 1), first[42]);
	assert_int_equal(series_tuples_intern(t, &over, 1), SERIES_OVERFLOW);
	assert_int_equal(series_tuples_intern(t, &h42, 2), SERIES_OVERFLOW); /* wrong width */
	series_tuples_destroy(t);
	series_tuples_destroy(NULL);
}

static void t_tuples_cap_and_limit(void **state)
{
	static const struct config_field_label raw[] = {
	    FIELD_LABEL("vhost", VHOST),
	};
	struct series_tuples *t;
	char longv[600], err[128];
	(void)state;

	assert_int_equal(series_tuples_create(raw, 1, 2, &t, err, sizeof(err)), 0);
	/* 300 x "é" (2 bytes): cut to 256 bytes = 128 characters, never mid-character. */
	for (int i = 0; i < 300; i++) {
		longv[2 * i] = (char)0xc3;
		longv[2 * i + 1] = (char)0xa9;
	}
	struct log_record r = host_rec("");
	r.vhost = (struct str_view){longv, 600};
	uint32_t id = series_tuples_lookup(t, &r);
	struct str_view v;
	series_tuples_values(t, id, &v);
	assert_int_equal(v.len, 256);
	/* Shifted by one byte, 256 falls inside a character: 1 + 127 * 2 = 255 bytes. */
	longv[0] = 'x';
	for (int i = 0; i < 299; i++) {
		longv[1 + 2 * i] = (char)0xc3;
		longv[2 + 2 * i] = (char)0xa9;
	}
	id = series_tuples_lookup(t, &r);
	series_tuples_values(t, id, &v);
	assert_int_equal(v.len, 255);
	/* The limit (2) is reached: a third value is refused. */
	r = host_rec("third");
	assert_int_equal(series_tuples_lookup(t, &r), SERIES_OVERFLOW);
	series_tuples_destroy(t);

	struct config_field_label bad = FIELD_LABEL_RULE("x", PATH, "(", NULL);
	assert_int_equal(series_tuples_create(&bad, 1, 10, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "field label x"));
	assert_int_equal(series_tuples_create(raw, 0, 10, &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(series_tuples_create(raw, 1, 0, &t, err, sizeof(err)), -EINVAL);
}

static struct log_record path_rec(const char *path)
{
	struct log_record r;
	memset(&r, 0, sizeof(r));
	r.path = (struct str_view){path, strlen(path)};
	return r;
}

/* The value a one-label tuples object gives a path. */
static void expect_path(struct series_tuples *t, const char *path, const char *want)
{
	struct log_record r = path_rec(path);
	struct str_view v;
	series_tuples_values(t, series_tuples_lookup(t, &r), &v);
	if (v.len != strlen(want) || memcmp(v.ptr, want, v.len) != 0) {
		fail_msg("%s: got '%.*s', want '%s'", path, (int)v.len, v.ptr, want);
	}
}

static const struct config_rule routes[] = {
    {(char *)"/users/[0-9]+/orders/[0-9]+", (char *)"/users/:id/orders/:id"},
    {(char *)"/users/[0-9]+(/.*)?", (char *)"/users/:id$1"},
    {(char *)"/users/.*", (char *)"/users/*"},
    {(char *)"/(static|assets)/.*", NULL}, /* no replacement: the value itself ($0) */
};

/* Rules are tried in order, the first anchored match wins; no match: the default. */
static void t_rules_order_and_default(void **state)
{
	const struct config_field_label other = FIELD_LABEL_RULES("route", PATH, routes, NULL);
	const struct config_field_label named =
	    FIELD_LABEL_RULES("route", PATH, routes, "unmapped");
	const struct config_field_label empty = FIELD_LABEL_RULES("route", PATH, routes, "");
	struct series_tuples *t;
	char err[128];
	(void)state;

	assert_int_equal(series_tuples_create(&other, 1, 100, &t, err, sizeof(err)), 0);
	/* rules 1, 2 and 3 all match: the first wins */
	expect_path(t, "/users/4711/orders/9", "/users/:id/orders/:id");
	/* rules 2 and 3 match */
	expect_path(t, "/users/4711/profile", "/users/:id/profile");
	expect_path(t, "/users/4711", "/users/:id"); /* unset optional group: empty */
	expect_path(t, "/users/me", "/users/*");
	expect_path(t, "/static/app.js", "/static/app.js");
	/* anchored at both ends: a rule matching only inside the value does not apply */
	expect_path(t, "/api/users/12", "other");
	expect_path(t, "/users", "other");
	expect_path(t, "/users/4711?x=1", "/users/:id"); /* the query string is not part of path */
	series_tuples_destroy(t);

	assert_int_equal(series_tuples_create(&named, 1, 100, &t, err, sizeof(err)), 0);
	expect_path(t, "/api/users/12", "unmapped");
	expect_path(t, "/users/me", "/users/*");
	struct series_label_def d;
	series_tuples_def(t, 0, &d);
	assert_int_equal(d.n_rules, 4);
	assert_string_equal(d.default_value, "unmapped");
	const char *m, *rep;
	series_tuples_rule(t, 0, 3, &m, &rep);
	assert_string_equal(m, "/(static|assets)/.*");
	assert_string_equal(rep, "$0");
	series_tuples_destroy(t);

	assert_int_equal(series_tuples_create(&empty, 1, 100, &t, err, sizeof(err)), 0);
	expect_path(t, "/nope", "");
	series_tuples_destroy(t);

	/* a label without rules keeps the value and reports no default */
	const struct config_field_label raw = FIELD_LABEL("route", PATH);
	assert_int_equal(series_tuples_create(&raw, 1, 100, &t, err, sizeof(err)), 0);
	expect_path(t, "/api/users/12", "/api/users/12");
	series_tuples_def(t, 0, &d);
	assert_int_equal(d.n_rules, 0);
	assert_null(d.default_value);
	series_tuples_destroy(t);
}

/* A rule that hits the match limit decides (the default), even when a later
 * rule would match: it may have matched, so the order would be broken. */
static void t_rule_error_stops(void **state)
{
	static const struct config_rule rules[] = {
	    {(char *)"(a+)+[bc]", (char *)"first"},
	    {(char *)"a+d", (char *)"second"},
	};
	const struct config_field_label fl = FIELD_LABEL_RULES("p", PATH, rules, "limit");
	struct series_tuples *t;
	char err[128], path[64];
	(void)state;

	assert_int_equal(series_tuples_create(&fl, 1, 100, &t, err, sizeof(err)), 0);
	expect_path(t, "aad", "second");
	memset(path, 'a', 40);
	(void)snprintf(path + 40, sizeof(path) - 40, "d");
	expect_path(t, path, "limit");
	series_tuples_destroy(t);
}

/* The rules run once per distinct raw value: repeated values hit the cache,
 * distinct values rewritten alike share one tuple. */
static void t_rules_cached(void **state)
{
	const struct config_field_label fl = FIELD_LABEL_RULES("route", PATH, routes, NULL);
	struct series_tuples *t;
	char err[128], path[64];
	(void)state;

	assert_int_equal(series_tuples_create(&fl, 1, 100, &t, err, sizeof(err)), 0);
	for (int round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 50; i++) {
			(void)snprintf(path, sizeof(path), "/users/%u/orders/%u", i, i * 7);
			struct log_record r = path_rec(path);
			uint32_t id = series_tuples_lookup(t, &r);
			struct str_view v;
			series_tuples_values(t, id, &v);
			assert_int_equal(v.len, strlen("/users/:id/orders/:id"));
		}
	}
	assert_int_equal(series_tuples_misses(t), 50); /* not 150 */
	/* the overflow tuple and one route: 50 raw values, 2 tuples */
	struct str_view over = {SERIES_OVERFLOW_VALUE, strlen(SERIES_OVERFLOW_VALUE)};
	assert_int_equal(series_tuples_intern(t, &over, 1), SERIES_OVERFLOW);
	struct str_view route = {"/users/:id/orders/:id", strlen("/users/:id/orders/:id")};
	assert_int_equal(series_tuples_intern(t, &route, 1), 1);
	series_tuples_destroy(t);
}

/* A label can read one of the parser's extra captures by index. */
static void t_variable_field(void **state)
{
	static const struct config_rule tiers[] = {{(char *)"gold|silver", NULL}};
	struct config_field_label fl[2] = {FIELD_LABEL("city", VARIABLE),
	                                   FIELD_LABEL_RULES("tier", VARIABLE, tiers, "basic")};
	struct series_tuples *t;
	char err[128];
	struct str_view v[2];
	(void)state;

	fl[0].variable = (char *)"geo_city";
	fl[0].variable_index = 0;
	fl[1].variable = (char *)"tier";
	fl[1].variable_index = 1;
	assert_int_equal(series_tuples_create(fl, 2, 100, &t, err, sizeof(err)), 0);
	struct log_record r = path_rec("/");
	r.n_extra = 2;
	r.extra[0] = (struct str_view){"Sankt Gallen", 12};
	r.extra[1] = (struct str_view){"gold", 4};
	series_tuples_values(t, series_tuples_lookup(t, &r), v);
	assert_int_equal(v[0].len, 12);
	assert_memory_equal(v[0].ptr, "Sankt Gallen", 12);
	assert_int_equal(v[1].len, 4);
	r.extra[1] = (struct str_view){"platinum", 8};
	series_tuples_values(t, series_tuples_lookup(t, &r), v);
	assert_memory_equal(v[1].ptr, "basic", 5);
	/* a record without extras (another parser) reads empty values */
	r.n_extra = 0;
	series_tuples_values(t, series_tuples_lookup(t, &r), v);
	assert_int_equal(v[0].len, 0);
	assert_memory_equal(v[1].ptr, "basic", 5);
	struct series_label_def d;
	series_tuples_def(t, 1, &d);
	assert_int_equal(d.field, CONFIG_FIELD_VARIABLE);
	assert_string_equal(d.variable, "tier");
	series_tuples_destroy(t);
	/* a variable label without a name is refused */
	fl[0].variable = NULL;
	assert_int_equal(series_tuples_create(fl, 1, 100, &t, err, sizeof(err)), -EINVAL);
}

static void t_family_limit(void **state)
{
	struct series_family *f = series_family_create(3, 100, 17, NULL);
	(void)state;

	assert_non_null(f);
	/* 300 tuples x method 1: the first 100 get series, the rest share the overflow one. */
	for (uint32_t t = 1; t <= 300; t++) {
		_Atomic uint64_t *v = series_family_get(f, t, 1, 7);
		assert_non_null(v);
		atomic_store(&v[0], atomic_load(&v[0]) + 1);
	}
	assert_int_equal(series_family_count(f), 101);
	assert_int_equal(series_family_dropped(f), 200);
	struct series_key k;
	_Atomic uint64_t *v;
	series_family_entry(f, 100, &k, &v);
	assert_int_equal(k.tuple, SERIES_OVERFLOW);
	assert_int_equal(k.method, 1);
	assert_int_equal(k.slot, 7);
	assert_int_equal(atomic_load(&v[0]), 200);
	series_family_entry(f, 5, &k, &v);
	assert_int_equal(k.tuple, 6); /* creation order */
	/* Existing series keep counting; a refused tuple counts as dropped each time. */
	assert_ptr_equal(series_family_get(f, 6, 1, 7), v);
	assert_non_null(series_family_get(f, SERIES_OVERFLOW, 2, 7));
	assert_int_equal(series_family_dropped(f), 201);
	/* Restores obey the limit but drop nothing. */
	assert_non_null(series_family_restore(f, 999, 3, 7, 0));
	assert_int_equal(series_family_dropped(f), 201);
	series_family_add_dropped(f, 9);
	assert_int_equal(series_family_dropped(f), 210);
	/* The overflow reserve (17) is a hard cap too. */
	for (unsigned me = 4; me < 40; me++) {
		(void)series_family_get(f, 1000 + me, me, 7);
	}
	assert_true(series_family_count(f) <= 117);
	series_family_destroy(f);
	series_family_destroy(NULL);
	assert_null(series_family_create(0, 10, 10, NULL));
}

/* A series that cannot be added (the table is full: the same path as out of
 * memory) loses the observation: series_family_get returns NULL and counts
 * it as dropped exactly once, whether or not the limit already counted it;
 * callers (metrics.c) add nothing. */
static void t_null_counted_once(void **state)
{
	/* limit 2, no overflow reserve: two series in all */
	struct series_family *f = series_family_create(1, 2, 0, NULL);
	(void)state;

	assert_non_null(f);
	assert_non_null(series_family_get(f, SERIES_OVERFLOW, 0, 7)); /* refused tuple: 1 */
	assert_int_equal(series_family_dropped(f), 1);
	assert_non_null(series_family_get(f, 1, 0, 7));
	assert_int_equal(series_family_count(f), 2);
	assert_int_equal(series_family_dropped(f), 1);
	/* under the limit but no room: NULL, one drop (the caller counted it before) */
	assert_null(series_family_get(f, 2, 0, 7));
	assert_int_equal(series_family_dropped(f), 2);
	/* a refused tuple with no room: one drop, not two */
	assert_null(series_family_get(f, SERIES_OVERFLOW, 1, 7));
	assert_int_equal(series_family_dropped(f), 3);
	/* existing series still count and drop nothing */
	assert_non_null(series_family_get(f, 1, 0, 7));
	assert_int_equal(series_family_dropped(f), 3);
	/* restores drop nothing, even when refused */
	assert_null(series_family_restore(f, 3, 0, 7, 0));
	assert_int_equal(series_family_dropped(f), 3);
	series_family_destroy(f);

	/* over the limit and no overflow series left: one drop, not two */
	f = series_family_create(1, 1, 0, NULL);
	assert_non_null(f);
	assert_non_null(series_family_get(f, 1, 0, 7));
	assert_null(series_family_get(f, 2, 0, 7));
	assert_int_equal(series_family_dropped(f), 1);
	series_family_destroy(f);
}

static bool gone_odd(const struct series_key *key, _Atomic uint64_t *values, void *ctx)
{
	(void)values;
	(*(int *)ctx)++;
	return key->tuple % 2 == 1;
}

/* Sweeping keeps the survivors' keys, values and order, makes room under
 * the limit, never removes the overflow series, and frees label sets no
 * series has (their ids reused, the raw-value cache flushed). */
static void t_sweep_and_collect(void **state)
{
	struct series_family *f = series_family_create(1, 2000, 17, NULL);
	struct series_tuples *t;
	char err[128], host[16];
	size_t first = 0, freed = 0;
	int calls = 0;
	(void)state;

	assert_non_null(f);
	assert_int_equal(series_family_add_cells(f, 2, &first), 0);
	assert_int_equal(first, 1);
	for (uint32_t k = 1; k <= 2000; k++) { /* two chunks */
		_Atomic uint64_t *v = series_family_get(f, k, 1, 7);
		atomic_store(&v[0], k);
		atomic_store(&v[2], 100 + k);
	}
	assert_int_equal(series_family_add_cells(f, 1, &first), -EBUSY);
	assert_non_null(series_family_get(f, 5000, 1, 7)); /* over the limit: overflow */
	assert_int_equal(series_family_dropped(f), 1);
	assert_int_equal(series_family_sweep(f, gone_odd, &calls), 1000);
	assert_int_equal(calls, 2000); /* never asked about the overflow series */
	assert_int_equal(series_family_count(f), 1001);
	for (size_t i = 0; i < 1000; i++) {
		struct series_key k;
		_Atomic uint64_t *v;
		series_family_entry(f, i, &k, &v);
		assert_int_equal(k.tuple, 2 * (i + 1));
		assert_int_equal(atomic_load(&v[0]), 2 * (i + 1));
		assert_int_equal(atomic_load(&v[2]), 100 + 2 * (i + 1));
		assert_ptr_equal(series_family_get(f, k.tuple, 1, 7), v); /* index rebuilt */
	}
	struct series_key ok;
	_Atomic uint64_t *ov;
	series_family_entry(f, 1000, &ok, &ov);
	assert_int_equal(ok.tuple, SERIES_OVERFLOW);
	/* room again: a new key gets its own zeroed series, the limit holds */
	for (uint32_t k = 3001; k <= 4100; k++) {
		_Atomic uint64_t *v = series_family_get(f, k, 1, 7);
		if (k <= 4000) {
			assert_int_equal(atomic_load(&v[0]), 0);
			assert_int_equal(atomic_load(&v[2]), 0);
		} else {
			assert_ptr_equal(v, ov);
		}
	}
	assert_int_equal(series_family_count(f), 2001);

	/* tuples: limit 3; after a collect, freed ids are reused and room exists */
	assert_int_equal(series_tuples_create(host_rule, 1, 3, &t, err, sizeof(err)), 0);
	uint32_t id[4];
	for (int i = 0; i < 4; i++) {
		(void)snprintf(host, sizeof(host), "h%d", i);
		struct log_record r = host_rec(host);
		id[i] = series_tuples_lookup(t, &r);
	}
	assert_int_equal(id[3], SERIES_OVERFLOW); /* full */
	assert_int_equal(series_tuples_count(t), 3);
	struct series_family *g = series_family_create(1, 10, 17, NULL);
	assert_non_null(series_family_get(g, id[1], 0, 0));
	struct series_family *fams[] = {g, NULL};
	assert_int_equal(series_tuples_collect(t, fams, 2, &freed), 0);
	assert_int_equal(freed, 2);
	assert_int_equal(series_tuples_count(t), 1);
	struct log_record r3 = host_rec("h3"), r1 = host_rec("h1"), r0 = host_rec("h0");
	uint32_t n3 = series_tuples_lookup(t, &r3); /* was refused: the cache forgot */
	assert_true(n3 == id[0] || n3 == id[2]);
	assert_int_equal(series_tuples_lookup(t, &r1), id[1]);
	uint32_t n0 = series_tuples_lookup(t, &r0);
	assert_true(n0 != n3 && n0 != id[1] && n0 != SERIES_OVERFLOW);
	struct str_view v;
	series_tuples_values(t, n3, &v);
	assert_int_equal(v.len, 2);
	assert_memory_equal(v.ptr, "h3", 2);
	series_family_destroy(g);
	series_tuples_destroy(t);
	series_family_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_tuples_intern_and_cache),
	    cmocka_unit_test(t_tuples_cap_and_limit),
	    cmocka_unit_test(t_rules_order_and_default),
	    cmocka_unit_test(t_rule_error_stops),
	    cmocka_unit_test(t_rules_cached),
	    cmocka_unit_test(t_variable_field),
	    cmocka_unit_test(t_family_limit),
	    cmocka_unit_test(t_null_counted_once),
	    cmocka_unit_test(t_sweep_and_collect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
