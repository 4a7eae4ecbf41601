/*
 * test_keyload.c - short keys loaded as zero-padded words: every length
 * from 0 to 64, keys that end at a page whose next page is unreadable (the
 * 64-byte loads must not touch it), bytes past the key never seen, the
 * 64-byte compare and the byte search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/metrics/keyload.h"

/* Two pages, the second unreadable: a key placed to end at the first
 * page's end faults if anything reads past it. */
struct guarded {
	char *page;
	size_t size;
};

static void guarded_map(struct guarded *g)
{
	g->size = (size_t)sysconf(_SC_PAGESIZE);
	g->page =
	    mmap(NULL, 2 * g->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->page != MAP_FAILED);
	assert_int_equal(mprotect(g->page + g->size, g->size, PROT_NONE), 0);
}

static void guarded_unmap(struct guarded *g)
{
	(void)munmap(g->page, 2 * g->size);
}

/* The words hold the key's bytes and zeros after them, wherever the key
 * sits: in the middle of a page with other bytes after it, or ending at a
 * page that cannot be read. */
static void t_load_every_length(void **state)
{
	struct guarded g;
	char buf[256];
	(void)state;

	guarded_map(&g);
	memset(buf, 'z', sizeof(buf));
	for (size_t len = 0; len <= KEYLOAD_MAX; len++) {
		char want[KEYLOAD_MAX] = {0};
		struct keyload a, b;
		for (size_t i = 0; i < len; i++) {
			want[i] = (char)('a' + i % 26);
		}
		memcpy(buf + 7, want, len); /* 'z' bytes follow */
		keyload(&a, buf + 7, len);
		assert_memory_equal(&a, want, KEYLOAD_MAX);
		char *end = g.page + g.size - len; /* ends at the unreadable page */
		memcpy(end, want, len);
		keyload(&b, end, len);
		assert_memory_equal(&b, want, KEYLOAD_MAX);
		assert_true(keyload_equal(&a, want));
	}
	guarded_unmap(&g);
}

/* A stored key (zero past its end) equals only the same bytes and length. */
static void t_equal(void **state)
{
	char stored[KEYLOAD_MAX] = "/api/v1/items";
	char line[KEYLOAD_MAX + 16];
	struct keyload k;
	size_t n = strlen(stored);
	(void)state;

	memset(line, '/', sizeof(line));
	memcpy(line, stored, n);
	keyload(&k, line, n);
	assert_true(keyload_equal(&k, stored));
	keyload(&k, line, n + 1); /* one byte longer: "/api/v1/items/" */
	assert_false(keyload_equal(&k, stored));
	keyload(&k, line, n - 1);
	assert_false(keyload_equal(&k, stored));
	for (size_t i = 0; i < n; i++) {
		line[i] ^= 0x20;
		keyload(&k, line, n);
		assert_false(keyload_equal(&k, stored));
		line[i] ^= 0x20;
	}
	stored[KEYLOAD_MAX - 1] = 'x'; /* a 64-byte key differs in its last byte */
	memset(line, 'y', KEYLOAD_MAX);
	memcpy(line, stored, KEYLOAD_MAX);
	keyload(&k, line, KEYLOAD_MAX);
	assert_true(keyload_equal(&k, stored));
	line[KEYLOAD_MAX - 1] = 'w';
	keyload(&k, line, KEYLOAD_MAX);
	assert_false(keyload_equal(&k, stored));
}

/* keyload_find: the first c in the key, never one past its end. */
static void t_find(void **state)
{
	char line[KEYLOAD_MAX + 8];
	struct keyload k;
	(void)state;

	memset(line, '?', sizeof(line));
	memcpy(line, "/search", 7);
	keyload(&k, line, 7); /* '?' right after the key: not in it */
	assert_int_equal(keyload_find(&k, '?'), KEYLOAD_MAX);
	keyload(&k, line, 8);
	assert_int_equal(keyload_find(&k, '?'), 7);
	for (size_t at = 0; at < KEYLOAD_MAX; at++) {
		memset(line, 'p', sizeof(line));
		line[at] = '?';
		line[KEYLOAD_MAX - 1 > at ? KEYLOAD_MAX - 1 : at] = '?';
		keyload(&k, line, KEYLOAD_MAX);
		assert_int_equal(keyload_find(&k, '?'), at);
	}
	keyload(&k, line, 0);
	assert_int_equal(keyload_find(&k, '?'), KEYLOAD_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_load_every_length),
	    cmocka_unit_test(t_equal),
	    cmocka_unit_test(t_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
