/*
 * test_exemplar.c - one exemplar slot: empty until stored, the last store
 * wins, ids cut at the cap, labels by kind, and readers racing a writer
 * never see an id mixed from two stores.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/metrics/exemplar.h"
#include "parsers/record.h"

static void t_store_load(void **state)
{
	struct exemplar e;
	struct expo_exemplar x;
	char long_id[100];
	(void)state;

	memset(&e, 0, sizeof(e));
	assert_false(exemplar_load(&e, &x));
	assert_null(x.label);
	exemplar_store(&e, LOG_TRACE_REQUEST_ID, "abc", 3, 0.25, 1764756000123);
	assert_true(exemplar_load(&e, &x));
	assert_string_equal(x.label, "request_id");
	assert_int_equal(x.id_len, 3);
	assert_memory_equal(x.id, "abc", 3);
	assert_true(x.value == 0.25);
	assert_int_equal(x.ts_ms, 1764756000123);
	/* the last store wins, a shorter id leaves nothing of the longer one */
	exemplar_store(&e, LOG_TRACE_TRACE_ID, "4bf92f3577b34da6a3ce929d0e0e4736", 32, 1.0, 5);
	exemplar_store(&e, LOG_TRACE_TRACE_ID, "z", 1, 2.0, 6);
	assert_true(exemplar_load(&e, &x));
	assert_string_equal(x.label, "trace_id");
	assert_int_equal(x.id_len, 1);
	assert_int_equal(x.id[0], 'z');
	memset(long_id, 'q', sizeof(long_id));
	exemplar_store(&e, LOG_TRACE_REQUEST_ID, long_id, sizeof(long_id), 3.0, 7);
	assert_true(exemplar_load(&e, &x));
	assert_int_equal(x.id_len, EXPO_EXEMPLAR_ID_MAX);
}

/* One prepared id put into several slots (as a line's response counter
 * and its buckets get it), every length from 1 to past the cap: each slot
 * reads back exactly the id's bytes, whichever id it held before. */
static void t_put_lengths(void **state)
{
	struct exemplar e[3];
	struct expo_exemplar x;
	char id[80];
	(void)state;

	memset(e, 0, sizeof(e));
	for (size_t n = 0; n < sizeof(id); n++) {
		id[n] = (char)('a' + n % 26);
	}
	for (size_t round = 1; round <= sizeof(id); round++) {
		/* long and short ids in turn: a shorter id follows a longer one */
		size_t off = round % 3, len = round % 2 ? sizeof(id) + 1 - round : round;
		len = off + len > sizeof(id) ? sizeof(id) - off : len;
		size_t want = len > EXPO_EXEMPLAR_ID_MAX ? EXPO_EXEMPLAR_ID_MAX : len;
		struct exemplar_id xi;

		exemplar_id_init(&xi, LOG_TRACE_REQUEST_ID, id + off, len);
		for (size_t k = 0; k < 3; k++) {
			exemplar_put(&e[k], &xi, (double)round + (double)k, (int64_t)round);
			assert_true(exemplar_load(&e[k], &x));
			assert_int_equal(x.id_len, want);
			assert_memory_equal(x.id, id + off, want);
			assert_true(x.value == (double)round + (double)k);
			assert_int_equal(x.ts_ms, (int64_t)round);
		}
	}
}

struct race {
	struct exemplar e;
	atomic_bool done;
};

/* Ids "iiii...i" of length 1 + i % 40 with value i: a torn read would mix. */
static void *writer(void *arg)
{
	struct race *r = arg;
	char id[64];

	for (int i = 0; i < 300000; i++) {
		memset(id, 'a' + i % 26, sizeof(id));
		exemplar_store(&r->e, LOG_TRACE_REQUEST_ID, id, 1 + (size_t)(i % 40), (double)i, i);
	}
	atomic_store(&r->done, true);
	return NULL;
}

static void t_race(void **state)
{
	struct race r;
	pthread_t t;
	int reads = 0;
	(void)state;

	memset(&r, 0, sizeof(r));
	assert_int_equal(pthread_create(&t, NULL, writer, &r), 0);
	while (!atomic_load(&r.done) || reads == 0) {
		struct expo_exemplar x;
		if (!exemplar_load(&r.e, &x)) {
			continue;
		}
		int i = (int)x.value;
		assert_int_equal(x.ts_ms, i);
		assert_int_equal(x.id_len, 1 + (size_t)(i % 40));
		for (size_t k = 0; k < x.id_len; k++) {
			assert_int_equal(x.id[k], 'a' + i % 26);
		}
		reads++;
	}
	pthread_join(t, NULL);
	assert_true(reads > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_store_load),
	    cmocka_unit_test(t_put_lengths),
	    cmocka_unit_test(t_race),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
