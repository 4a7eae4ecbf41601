/*
 * test_filter.c - line filters: drop and keep in order, anchored patterns,
 * the fields they read (path without its query, format fields by index),
 * and bad patterns.
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

#include "exporter/metrics/fieldvalue.h"
#include "exporter/filter.h"
#include "parsers/status.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct log_record rec(const char *path, const char *vhost, const char *ua)
{
	struct log_record r;

	memset(&r, 0, sizeof(r));
	r.status_slot = STATUS_SLOT_INVALID;
	r.upstream_status_slot = STATUS_SLOT_INVALID;
	r.path = (struct str_view){path, strlen(path)};
	r.vhost = (struct str_view){vhost, strlen(vhost)};
	r.n_extra = 1;
	r.extra[0] = (struct str_view){ua, strlen(ua)};
	return r;
}

#define DROP(f, v, m)                                                                              \
	{                                                                                          \
		CONFIG_FILTER_DROP, CONFIG_FIELD_##f, (char *)(v), 0, (char *)(m)                  \
	}
#define KEEP(f, v, m)                                                                              \
	{                                                                                          \
		CONFIG_FILTER_KEEP, CONFIG_FIELD_##f, (char *)(v), 0, (char *)(m)                  \
	}

/* The filters of a typical site: probes, bots, one vhost only. */
static struct config_filter site[] = {
    DROP(PATH, NULL, "/healthz|/ready"),
    DROP(VARIABLE, "ua", ".*(bot|crawler).*"),
    KEEP(VHOST, NULL, "(www\\.)?example\\.com"),
};

struct row {
	const char *path, *vhost, *ua;
	bool dropped;
};

static const struct row rows[] = {
    {"/", "example.com", "curl/8", false},
    {"/healthz", "example.com", "kube-probe/1.29", true},
    {"/healthz?full=1", "example.com", "curl", true}, /* path: query string not included */
    {"/healthzz", "example.com", "curl", false},      /* anchored: not a prefix match */
    {"/x/healthz", "example.com", "curl", false},
    {"/", "www.example.com", "Googlebot/2.1", true},
    {"/", "www.example.com", "bot", true},
    {"/", "api.example.com", "curl", true}, /* keep: anything else goes */
    {"/", "", "curl", true},                /* an empty value is a value */
    {"/ready", "other.org", "x", true},
};

static void t_site(void **state)
{
	struct filter_set *fs = NULL;
	char err[256] = "";
	(void)state;

	assert_int_equal(filter_set_create(site, ARRAY_SIZE(site), &fs, err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct log_record r = rec(rows[i].path, rows[i].vhost, rows[i].ua);
		if (filter_set_drops(fs, &r) != rows[i].dropped) {
			fail_msg("row %zu (%s %s %s): want dropped=%d", i, rows[i].path,
			         rows[i].vhost, rows[i].ua, rows[i].dropped);
		}
	}
	filter_set_destroy(fs);
	filter_set_destroy(NULL);
	assert_false(filter_set_drops(NULL, NULL));
}

/* No filters: nothing dropped; keep alone: a whitelist. */
static void t_empty_and_keep(void **state)
{
	struct config_filter keep[] = {KEEP(UPSTREAM_STATUS, NULL, "5..")};
	struct filter_set *fs = NULL;
	struct log_record r = rec("/", "a", "b");
	(void)state;

	assert_int_equal(filter_set_create(NULL, 0, &fs, NULL, 0), 0);
	assert_false(filter_set_drops(fs, &r));
	filter_set_destroy(fs);
	assert_int_equal(filter_set_create(keep, 1, &fs, NULL, 0), 0);
	assert_true(filter_set_drops(fs, &r)); /* no upstream status: "" */
	r.has_upstream_status = true;
	r.upstream_status_slot = status_slot_from_code(502);
	assert_false(filter_set_drops(fs, &r));
	r.upstream_status_slot = status_slot_from_code(200);
	assert_true(filter_set_drops(fs, &r));
	/* a record with fewer extras than the filter's index reads "" */
	struct config_filter far[] = {DROP(VARIABLE, "x", "")};
	far[0].variable_index = 5;
	filter_set_destroy(fs);
	assert_int_equal(filter_set_create(far, 1, &fs, NULL, 0), 0);
	assert_true(filter_set_drops(fs, &r));
	filter_set_destroy(fs);
}

static void t_bad_pattern(void **state)
{
	struct config_filter bad[] = {DROP(PATH, NULL, "x"), DROP(PATH, NULL, "(")};
	struct filter_set *fs = (struct filter_set *)0x1;
	char err[256] = "";
	(void)state;

	assert_int_equal(filter_set_create(bad, 2, &fs, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "filter 1: bad match pattern"));
	assert_ptr_equal(fs, (struct filter_set *)0x1);
	assert_int_equal(filter_set_create(bad, CONFIG_MAX_FILTERS + 1, &fs, err, sizeof(err)),
	                 -EINVAL);
}

/* A hostile pattern hits the match limit: the line counts as not matching. */
static void t_match_limit(void **state)
{
	struct config_filter evil[] = {DROP(PATH, NULL, "(a+)+b")};
	struct filter_set *fs = NULL;
	char path[64];
	(void)state;

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	struct log_record r = rec(path, "", "");
	assert_int_equal(filter_set_create(evil, 1, &fs, NULL, 0), 0);
	assert_false(filter_set_drops(fs, &r));
	filter_set_destroy(fs);
}

/* fieldvalue: the one definition labels and filters share. */
static void t_fieldvalue(void **state)
{
	struct log_record r = rec("/a?b=1", "h", "ua");
	char big[FIELDVALUE_CAP + 10];
	(void)state;

	struct str_view v = fieldvalue_get(&r, CONFIG_FIELD_PATH, 0);
	assert_int_equal(v.len, 2);
	v = fieldvalue_get(&r, CONFIG_FIELD_VARIABLE, 0);
	assert_memory_equal(v.ptr, "ua", 2);
	v = fieldvalue_get(&r, CONFIG_FIELD_VARIABLE, 3);
	assert_int_equal(v.len, 0);
	assert_non_null(v.ptr);
	memset(big, 'x', sizeof(big));
	big[FIELDVALUE_CAP - 1] = (char)0xc3; /* a 2-byte sequence across the cap */
	big[FIELDVALUE_CAP] = (char)0xa9;
	r.vhost = (struct str_view){big, sizeof(big)};
	v = fieldvalue_get(&r, CONFIG_FIELD_VHOST, 0);
	assert_int_equal(v.len, FIELDVALUE_CAP - 1);
	/* the query is cut at the first '?', for paths of every length around
	 * the 64 bytes read at once; a '?' just past the path is not in it */
	for (size_t n = 1; n <= 80; n++) {
		memset(big, '?', sizeof(big));
		memset(big, 'p', n);
		r.path = (struct str_view){big, n};
		assert_int_equal(fieldvalue_get(&r, CONFIG_FIELD_PATH, 0).len, n);
		for (size_t at = 0; at < n; at += 7) {
			big[at] = '?';
			assert_int_equal(fieldvalue_get(&r, CONFIG_FIELD_PATH, 0).len, at);
			big[at] = 'p';
		}
	}
	r.path = (struct str_view){NULL, 0};
	assert_int_equal(fieldvalue_get(&r, CONFIG_FIELD_PATH, 0).len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_site),        cmocka_unit_test(t_empty_and_keep),
	    cmocka_unit_test(t_bad_pattern), cmocka_unit_test(t_match_limit),
	    cmocka_unit_test(t_fieldvalue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
