/*
 * test_birthmap.c - creation times of flat series: first put wins, bounds,
 * growth up to the whole id range.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exporter/birthmap.h"

static void t_put_get(void **state)
{
	struct birthmap *m = birthmap_create(100);
	(void)state;

	assert_non_null(m);
	assert_int_equal(birthmap_get(m, 7), 0);
	assert_int_equal(birthmap_put(m, 7, 1000), 0);
	assert_int_equal(birthmap_put(m, 7, 2000), -EEXIST);
	assert_int_equal(birthmap_get(m, 7), 1000);
	assert_int_equal(birthmap_get(m, 8), 0);
	assert_int_equal(birthmap_put(m, 100, 5), -EINVAL);
	assert_int_equal(birthmap_put(m, 1, 0), -EINVAL);
	assert_int_equal(birthmap_put(m, 1, -5), -EINVAL);
	assert_int_equal(birthmap_count(m), 1);
	birthmap_destroy(m);
	birthmap_destroy(NULL);
}

static void t_whole_range(void **state)
{
	enum { N = 8823 }; /* a source's flat series */
	struct birthmap *m = birthmap_create(N);
	(void)state;

	for (uint32_t id = 0; id < N; id++) {
		assert_int_equal(birthmap_put(m, id, 1000 + id), 0);
	}
	assert_int_equal(birthmap_count(m), N);
	for (uint32_t id = 0; id < N; id++) {
		assert_int_equal(birthmap_get(m, id), 1000 + id);
	}
	birthmap_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_put_get),
	    cmocka_unit_test(t_whole_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
