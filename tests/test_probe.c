/*
 * test_probe.c - the shared open-addressing index: every id found under its
 * hash through many doublings, hashes that share their top half (and so
 * their home slot) all kept as candidates, an absent hash ends at an empty
 * slot, clearing, and a full-width table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/metrics/probe.h"

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* How many times id comes back as a candidate for h. */
static unsigned found(const struct probe_index *ix, uint64_t h, uint32_t want)
{
	size_t pos = probe_home(ix, h);
	unsigned n = 0;

	for (uint32_t id; probe_next(ix, h, &pos, &id);) {
		n += id == want;
	}
	return n;
}

static void t_grow(void **state)
{
	struct probe_index ix;
	(void)state;

	assert_int_equal(probe_init(&ix, 2), 0);
	for (uint32_t i = 0; i < 100000; i++) {
		assert_int_equal(probe_put(&ix, mix(i + 1), i), 0);
		assert_true((ix.used) * 2 <= ix.mask + 1);
	}
	assert_int_equal(ix.used, 100000);
	for (uint32_t i = 0; i < 100000; i++) {
		assert_int_equal(found(&ix, mix(i + 1), i), 1);
	}
	/* absent hashes: the probe ends, no id matches */
	for (uint32_t i = 100000; i < 101000; i++) {
		size_t pos = probe_home(&ix, mix(i + 1));
		uint32_t id, n = 0;
		while (probe_next(&ix, mix(i + 1), &pos, &id)) {
			n++; /* a top-half twin: the caller's key compare says no */
		}
		assert_true(n <= 1);
	}
	probe_finish(&ix);
}

static void t_same_top_half(void **state)
{
	struct probe_index ix;
	(void)state;

	/* Hashes equal in their top 32 bits are candidates of each other, in
	 * one probe run, and survive doubling. */
	assert_int_equal(probe_init(&ix, 4), 0);
	for (uint32_t i = 0; i < 50; i++) {
		assert_int_equal(probe_put(&ix, 0xabcdef0100000000ull | i, i), 0);
	}
	size_t pos = probe_home(&ix, 0xabcdef01ffffffffull);
	unsigned n = 0;
	for (uint32_t id; probe_next(&ix, 0xabcdef01ffffffffull, &pos, &id);) {
		assert_true(id < 50);
		n++;
	}
	assert_int_equal(n, 50);
	assert_int_equal(found(&ix, 0x1bcdef0100000000ull, 3), 0);
	probe_clear(&ix);
	assert_int_equal(ix.used, 0);
	assert_int_equal(found(&ix, 0xabcdef0100000003ull, 3), 0);
	assert_int_equal(probe_put(&ix, 7, 9), 0);
	assert_int_equal(found(&ix, 7, 9), 1);
	probe_finish(&ix);
	probe_finish(&ix); /* twice: NULL-safe */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_grow),
	    cmocka_unit_test(t_same_top_half),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
