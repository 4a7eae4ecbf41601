/*
 * test_birthmap.c - creation times of flat series: first put wins, bounds,
 * growth up to the whole id range, lookups under one lock for a render.
 */
#define _DEFAULT_SOURCE /* usleep */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/metrics/birthmap.h"

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

/* Puts in a scrambled order (each lands between earlier ones, across
 * word boundaries of the rank directory): after every put, every id reads
 * back its own time or 0, as a plain array says. */
static void t_scrambled(void **state)
{
	enum { N = 1000 };
	static int64_t want[N];
	struct birthmap *m = birthmap_create(N);
	(void)state;

	memset(want, 0, sizeof(want));
	for (uint32_t k = 0; k < 600; k++) {
		uint32_t id = (k * 7919u) % N; /* 7919 is prime: no repeats */
		assert_int_equal(birthmap_put(m, id, 5000 + k), 0);
		want[id] = 5000 + k;
		if (k % 37 == 0 || k > 590) {
			for (uint32_t i = 0; i < N; i++) {
				assert_int_equal(birthmap_get(m, i), want[i]);
			}
		}
	}
	assert_int_equal(birthmap_put(m, N, 1), -EINVAL);
	assert_int_equal(birthmap_get(m, N + 5), 0);
	assert_int_equal(birthmap_count(m), 600);
	birthmap_destroy(m);
}

struct putter {
	struct birthmap *m;
	atomic_int rc;
};

static void *put_one(void *arg)
{
	struct putter *p = arg;
	atomic_store(&p->rc, birthmap_put(p->m, 3, 3000));
	return NULL;
}

/* A render's walk: lookups under one lock (empty map included), and a put
 * from the writer's thread waits until the walk ends. */
static void t_locked(void **state)
{
	struct birthmap *m = birthmap_create(100);
	struct putter p = {m, 1};
	pthread_t t;
	(void)state;

	birthmap_lock(m);
	assert_int_equal(birthmap_get_locked(m, 5), 0); /* nothing allocated yet */
	birthmap_unlock(m);
	assert_int_equal(birthmap_put(m, 5, 500), 0);
	birthmap_lock(m);
	assert_int_equal(birthmap_get_locked(m, 5), 500);
	assert_int_equal(birthmap_get_locked(m, 6), 0);
	assert_int_equal(pthread_create(&t, NULL, put_one, &p), 0);
	usleep(50000);
	assert_int_equal(atomic_load(&p.rc), 1); /* still waiting for the lock */
	assert_int_equal(birthmap_get_locked(m, 3), 0);
	birthmap_unlock(m);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&p.rc), 0);
	assert_int_equal(birthmap_get(m, 3), 3000);
	birthmap_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_put_get),
	    cmocka_unit_test(t_whole_range),
	    cmocka_unit_test(t_scrambled),
	    cmocka_unit_test(t_locked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
