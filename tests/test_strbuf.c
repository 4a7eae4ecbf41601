/*
 * test_strbuf.c - the capped buffer: growth, the cap, and borrowed storage
 * that is never grown or freed (-ENOSPC when full).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/strbuf.h"

static void t_grow_and_cap(void **state)
{
	struct strbuf b;
	size_t len;
	(void)state;

	strbuf_init(&b, 10);
	assert_int_equal(strbuf_puts(&b, "0123456789"), 0);
	assert_int_equal(strbuf_putc(&b, 'x'), -E2BIG);
	assert_int_equal(b.error, -E2BIG);
	strbuf_reset(&b);
	assert_int_equal(strbuf_puts(&b, "abc"), 0);
	char *p = strbuf_steal(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "abc");
	assert_int_equal(len, 3);
	free(p);
	strbuf_finish(&b);
	strbuf_finish(NULL);
}

static void t_borrowed(void **state)
{
	char mem[8];
	struct strbuf b;
	(void)state;

	strbuf_init_borrowed(&b, mem, sizeof(mem), 100);
	assert_int_equal(b.len, 0);
	assert_int_equal(mem[0], '\0');
	assert_int_equal(strbuf_puts(&b, "1234567"), 0); /* 7 bytes and the NUL */
	assert_string_equal(mem, "1234567");
	assert_ptr_equal(b.data, mem);
	/* full: no realloc of the caller's memory, the error sticks */
	assert_int_equal(strbuf_putc(&b, '8'), -ENOSPC);
	assert_int_equal(b.error, -ENOSPC);
	assert_int_equal(strbuf_reserve(&b, 1), -ENOSPC);
	assert_ptr_equal(b.data, mem);
	assert_null(strbuf_steal(&b, NULL));
	/* reset: the same memory again */
	strbuf_reset(&b);
	assert_int_equal(strbuf_puts(&b, "ab"), 0);
	assert_string_equal(mem, "ab");
	/* the cap still comes first */
	struct strbuf c;
	strbuf_init_borrowed(&c, mem, sizeof(mem), 3);
	assert_int_equal(strbuf_puts(&c, "abcd"), -E2BIG);
	strbuf_finish(&b); /* must not free the stack array */
	strbuf_finish(&c);
	/* adopting malloc'd storage makes it the buffer's own again */
	strbuf_init_borrowed(&b, mem, sizeof(mem), 100);
	strbuf_adopt(&b, NULL, 0);
	assert_int_equal(strbuf_puts(&b, "grows past eight bytes"), 0);
	strbuf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_grow_and_cap),
	    cmocka_unit_test(t_borrowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
