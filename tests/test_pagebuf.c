/*
 * test_pagebuf.c - a document buffer of whole 2 MiB units: aligned, grown
 * on demand, and (with give_back) its pages handed back to the kernel:
 * the resident size drops after pagebuf_release and the memory reads as
 * zeros, and without give_back the content stays.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/http/pagebuf.h"

#define UNIT (2u * 1024u * 1024u)

/* Resident pages of [p, p + len) (mincore). */
static size_t resident(const char *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = len / page, r = 0;
	unsigned char *v = malloc(n);

	assert_non_null(v);
	assert_int_equal(mincore((void *)(uintptr_t)p, len, v), 0);
	for (size_t i = 0; i < n; i++) {
		r += v[i] & 1;
	}
	free(v);
	return r * page;
}

static void t_reserve_and_grow(void **state)
{
	struct pagebuf *pb = pagebuf_create(false);
	(void)state;

	assert_non_null(pb);
	assert_null(pagebuf_data(pb));
	assert_int_equal(pagebuf_size(pb), 0);
	assert_int_equal(pagebuf_reserve(pb, 1), 0);
	assert_int_equal(pagebuf_size(pb), UNIT);
	assert_int_equal((uintptr_t)pagebuf_data(pb) % UNIT, 0);
	memset(pagebuf_data(pb), 'x', UNIT);
	/* within the size: nothing moves */
	char *before = pagebuf_data(pb);
	assert_int_equal(pagebuf_reserve(pb, UNIT), 0);
	assert_ptr_equal(pagebuf_data(pb), before);
	assert_int_equal(pagebuf_reserve(pb, UNIT + 1), 0);
	assert_int_equal(pagebuf_size(pb), 2 * UNIT);
	assert_int_equal((uintptr_t)pagebuf_data(pb) % UNIT, 0);
	memset(pagebuf_data(pb), 'y', 2 * UNIT);
	assert_int_equal(pagebuf_reserve(pb, SIZE_MAX - 1), -ENOMEM);
	assert_int_equal(pagebuf_size(pb), 2 * UNIT);
	pagebuf_destroy(pb);
	pagebuf_destroy(NULL);
}

static void t_release(void **state)
{
	struct pagebuf *keep = pagebuf_create(false), *give = pagebuf_create(true);
	(void)state;

	assert_non_null(keep);
	assert_non_null(give);
	pagebuf_release(give); /* nothing mapped yet: a no-op */
	assert_int_equal(pagebuf_reserve(keep, UNIT), 0);
	assert_int_equal(pagebuf_reserve(give, UNIT), 0);
	memset(pagebuf_data(keep), 'k', UNIT);
	memset(pagebuf_data(give), 'g', UNIT);
	assert_int_equal(resident(pagebuf_data(give), UNIT), UNIT);
	pagebuf_release(keep);
	pagebuf_release(give);
	/* kept: resident, content intact */
	assert_int_equal(resident(pagebuf_data(keep), UNIT), UNIT);
	assert_int_equal(pagebuf_data(keep)[UNIT - 1], 'k');
	/* given back: nothing resident, zeros when touched again */
	assert_int_equal(resident(pagebuf_data(give), UNIT), 0);
	assert_int_equal(pagebuf_data(give)[12345], 0);
	memset(pagebuf_data(give), 'h', 4096);
	assert_int_equal(pagebuf_data(give)[4095], 'h');
	pagebuf_destroy(keep);
	pagebuf_destroy(give);
}

static void t_huge_pages_setting(void **state)
{
	(void)state;
	/* whatever the kernel says, asking twice gives the same answer */
	assert_int_equal(pagebuf_huge_pages(), pagebuf_huge_pages());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_reserve_and_grow),
	    cmocka_unit_test(t_release),
	    cmocka_unit_test(t_huge_pages_setting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
