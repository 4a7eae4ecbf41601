/*
 * test_routecache.c - the route cache: routes found by key and tag, keys
 * that share a hash told apart by their bytes, short (inline) and long
 * (arena) keys, clearing when full, the generation, prefetch hints on
 * anything, and every key length read the same wherever the key sits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/metrics/routecache.h"

static void t_find_add(void **state)
{
	struct routecache *rc = routecache_create(100000);
	char key[64];
	(void)state;

	assert_non_null(rc);
	for (uint32_t i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof(key), "/path/%u", i);
		uint64_t h = routecache_hash(key, (size_t)n, i % 7);
		assert_null(routecache_find(rc, h, key, (size_t)n, i % 7));
		struct route *r = routecache_add(rc, h, key, (size_t)n, i % 7);
		assert_non_null(r);
		assert_int_equal(r->resolved, 0);
		r->tuple = i;
	}
	assert_int_equal(routecache_count(rc), 5000);
	for (uint32_t i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof(key), "/path/%u", i);
		struct route *r = routecache_find(rc, routecache_hash(key, (size_t)n, i % 7), key,
		                                  (size_t)n, i % 7);
		assert_non_null(r);
		assert_int_equal(r->tuple, i);
		/* another tag is another route */
		uint32_t other = (i + 1) % 7;
		assert_null(routecache_find(rc, routecache_hash(key, (size_t)n, other), key,
		                            (size_t)n, other));
	}
	routecache_destroy(rc);
	routecache_destroy(NULL);
}

/* Routes are told apart by their bytes, not their hash: the same h for
 * different keys (and lengths) gives different routes. */
static void t_same_hash(void **state)
{
	struct routecache *rc = routecache_create(64);
	static const char *const keys[] = {"a", "b", "ab", "", "ba"};
	(void)state;

	for (uint32_t i = 0; i < 5; i++) {
		struct route *r = routecache_add(rc, 42, keys[i], strlen(keys[i]), 1);
		assert_non_null(r);
		r->tuple = i + 10;
	}
	for (uint32_t i = 0; i < 5; i++) {
		struct route *r = routecache_find(rc, 42, keys[i], strlen(keys[i]), 1);
		assert_non_null(r);
		assert_int_equal(r->tuple, i + 10);
	}
	assert_null(routecache_find(rc, 42, "c", 1, 1));
	routecache_destroy(rc);
}

/* Keys too long to sit in the route go to the arena; both kinds are found. */
static void t_long_keys(void **state)
{
	struct routecache *rc = routecache_create(1000);
	char key[3000];
	(void)state;

	for (uint32_t i = 0; i < 300; i++) {
		size_t n = 1 + (i * 37) % sizeof(key);
		memset(key, 'a' + (int)(i % 26), n);
		(void)snprintf(key, n < 12 ? n : 12, "%u-", i);
		struct route *r = routecache_add(rc, routecache_hash(key, n, 0), key, n, 0);
		assert_non_null(r);
		r->tuple = i;
	}
	for (uint32_t i = 0; i < 300; i++) {
		size_t n = 1 + (i * 37) % sizeof(key);
		memset(key, 'a' + (int)(i % 26), n);
		(void)snprintf(key, n < 12 ? n : 12, "%u-", i);
		uint64_t h = routecache_hash(key, n, 0);
		routecache_prefetch(rc, h, 1);
		routecache_prefetch(rc, h, 2);
		routecache_prefetch(rc, h, 3);
		struct route *r = routecache_find(rc, h, key, n, 0);
		assert_non_null(r);
		assert_int_equal(r->tuple, i);
		key[n - 1] ^= 1; /* one byte off: not found */
		assert_null(routecache_find(rc, h, key, n, 0));
	}
	routecache_destroy(rc);
}

/* The bytes of t_every_length's key of length n (and what follows it). */
static void fill_key(char *key, size_t size, size_t n)
{
	for (size_t i = 0; i < size; i++) {
		key[i] = (char)('A' + (i * 7 + n) % 50);
	}
}

/* Every key length from 0 to 130 (the 64-byte loads up to 64, the word
 * loop beyond): found, told apart from the same key one byte longer or
 * shorter and from one byte off anywhere, and the hash depends only on the
 * key's bytes - not on what follows them or where they sit, even at the
 * end of a page whose next page cannot be read. */
static void t_every_length(void **state)
{
	struct routecache *rc = routecache_create(1000);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *map =
	    mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char key[160], other[160];
	(void)state;

	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
	for (size_t n = 0; n <= 130; n++) {
		fill_key(key, sizeof(key), n);
		uint64_t h = routecache_hash(key, n, 3);
		struct route *r = routecache_add(rc, h, key, n, 3);
		assert_non_null(r);
		r->tuple = (uint32_t)n;
		char *end = map + page - n; /* the same bytes ending at the page */
		memcpy(end, key, n);
		assert_true(routecache_hash(end, n, 3) == h);
		memcpy(other, key, sizeof(other));
		other[n] ^= 0x55; /* what follows the key does not count */
		assert_true(routecache_hash(other, n, 3) == h);
		r = routecache_find(rc, h, end, n, 3);
		assert_non_null(r);
		assert_int_equal(r->tuple, n);
	}
	for (size_t n = 0; n <= 130; n++) {
		fill_key(key, sizeof(key), n);
		uint64_t h = routecache_hash(key, n, 3);
		for (size_t i = 0; i < n; i++) {
			key[i] ^= 0x01;
			assert_null(routecache_find(rc, routecache_hash(key, n, 3), key, n, 3));
			/* under the stored key's hash: the compare tells them apart */
			assert_null(routecache_find(rc, h, key, n, 3));
			key[i] ^= 0x01;
		}
	}
	/* the same bytes under another's hash and length: not that route */
	for (size_t n = 1; n <= 130; n++) {
		fill_key(key, sizeof(key), n);
		assert_null(routecache_find(rc, routecache_hash(key, n, 3), key, n - 1, 3));
	}
	(void)munmap(map, 2 * page);
	routecache_destroy(rc);
}

/* A full cache clears itself and starts again; the generation says that
 * route pointers from before may be stale. */
static void t_clear_when_full(void **state)
{
	struct routecache *rc = routecache_create(16);
	char key[16];
	uint64_t gen = routecache_generation(rc);
	(void)state;

	assert_null(routecache_create(15));
	for (uint32_t i = 0; i < 16; i++) {
		int n = snprintf(key, sizeof(key), "k%u", i);
		assert_non_null(
		    routecache_add(rc, routecache_hash(key, (size_t)n, 0), key, (size_t)n, 0));
	}
	assert_true(routecache_generation(rc) != gen);
	assert_int_equal(routecache_count(rc), 16);
	gen = routecache_generation(rc);
	assert_non_null(routecache_add(rc, routecache_hash("k16", 3, 0), "k16", 3, 0));
	assert_int_equal(routecache_count(rc), 1);
	assert_true(routecache_generation(rc) != gen);
	assert_null(routecache_find(rc, routecache_hash("k0", 2, 0), "k0", 2, 0));
	assert_non_null(routecache_find(rc, routecache_hash("k16", 3, 0), "k16", 3, 0));
	gen = routecache_generation(rc);
	routecache_clear(rc);
	assert_true(routecache_generation(rc) != gen);
	assert_int_equal(routecache_count(rc), 0);
	assert_null(routecache_find(rc, routecache_hash("k16", 3, 0), "k16", 3, 0));
	routecache_prefetch(rc, 0, 1);
	routecache_prefetch(rc, 0, 2);
	routecache_prefetch(rc, 0, 3);
	routecache_destroy(rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_find_add),     cmocka_unit_test(t_same_hash),
	    cmocka_unit_test(t_long_keys),    cmocka_unit_test(t_clear_when_full),
	    cmocka_unit_test(t_every_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
