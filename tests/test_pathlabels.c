/*
 * test_pathlabels.c - labels from a file's path: named groups in group
 * order, unanchored search, empty values for a path that does not match or
 * a group that did not take part, caps, and bad patterns.
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

#include "exporter/pathlabels.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct row {
	const char *path;
	const char *want[3];
};

/* The pod, namespace and container of a Kubernetes container log name;
 * groups named out of alphabetical order come back in group order. */
#define K8S                                                                                        \
	"/var/log/containers/"                                                                     \
	"(?<pod>[^_]+)_(?<namespace>[^_]+)_(?<container>.+)-[0-9a-f]{64}\\.log$"

static const struct row k8s_rows[] = {
    {"/var/log/containers/web-7d9f_shop_nginx-" /* 64 hex digits */
     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log",
     {"web-7d9f", "shop", "nginx"}},
    {"/var/log/nginx/access.log", {"", "", ""}}, /* no match: empty values */
};

static void t_kubernetes(void **state)
{
	struct pathlabels *pl = NULL;
	char err[256] = "";
	(void)state;

	assert_int_equal(pathlabels_create(K8S, &pl, err, sizeof(err)), 0);
	assert_int_equal(pathlabels_count(pl), 3);
	for (int round = 0; round < 2; round++) { /* again: the cached last path */
		for (size_t i = 0; i < ARRAY_SIZE(k8s_rows); i++) {
			const struct str_view *v = pathlabels_values(pl, k8s_rows[i].path);
			for (size_t k = 0; k < 3; k++) {
				const char *w = k8s_rows[i].want[k];
				if (v[k].len != strlen(w) || memcmp(v[k].ptr, w, v[k].len) != 0) {
					fail_msg("row %zu label %zu: '%.*s' want '%s'", i, k,
					         (int)v[k].len, v[k].ptr, w);
				}
			}
		}
	}
	pathlabels_destroy(pl);
	pathlabels_destroy(NULL);
	assert_int_equal(pathlabels_count(NULL), 0);
}

/* Not anchored: a rotated file still matches; an optional group that did
 * not take part is empty; long values are cut at the cap. */
static void t_search_optional_cap(void **state)
{
	struct pathlabels *pl = NULL;
	char path[600];
	(void)state;

	assert_int_equal(pathlabels_create("/(?<vhost>[^/]+)\\.access\\.log(?:\\.(?<gen>[0-9]+))?",
	                                   &pl, NULL, 0),
	                 0);
	const struct str_view *v = pathlabels_values(pl, "/var/log/nginx/shop.access.log.1");
	assert_int_equal(v[0].len, 4);
	assert_memory_equal(v[0].ptr, "shop", 4);
	assert_memory_equal(v[1].ptr, "1", 1);
	v = pathlabels_values(pl, "/var/log/nginx/shop.access.log");
	assert_int_equal(v[1].len, 0);
	(void)snprintf(path, sizeof(path), "/%0500d.access.log", 7);
	v = pathlabels_values(pl, path);
	assert_int_equal(v[0].len, PATHLABELS_VALUE_CAP);
	pathlabels_destroy(pl);
}

static void t_bad(void **state)
{
	struct pathlabels *pl = (struct pathlabels *)0x1;
	char err[256] = "";
	(void)state;

	assert_int_equal(pathlabels_create("/(x", &pl, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "path_labels: bad pattern"));
	assert_int_equal(pathlabels_create("/(x)", &pl, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "named groups"));
	assert_int_equal(
	    pathlabels_create("(?<a>.)(?<b>.)(?<c>.)(?<d>.)(?<e>.)", &pl, err, sizeof(err)),
	    -EINVAL);
	assert_ptr_equal(pl, (struct pathlabels *)0x1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_kubernetes),
	    cmocka_unit_test(t_search_optional_cap),
	    cmocka_unit_test(t_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
