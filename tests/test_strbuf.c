/*
 * test_strbuf.c - the capped buffer: growth, the cap, and borrowed storage
 * that is never grown or freed (-ENOSPC when full); doubles written as
 * printf writes them ("%.15g" when it reads back, else "%.17g"; integers
 * as integers): every edge and a million random values against printf;
 * a sink buffer (strbuf_init_sink) streams everything in order through one
 * chunk, honours the cap on the total and passes on the sink's error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
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

/* What strbuf_put_double wrote before it made digits itself: printf. */
static void ref_double(double v, char *out, size_t size)
{
	if (isnan(v)) {
		(void)snprintf(out, size, "NaN");
	} else if (isinf(v)) {
		(void)snprintf(out, size, "%s", v > 0 ? "+Inf" : "-Inf");
	} else if (v == (double)(int64_t)v && fabs(v) < 1e15) {
		(void)snprintf(out, size, "%lld", (long long)(int64_t)v);
	} else {
		(void)snprintf(out, size, "%.15g", v);
		if (strtod(out, NULL) != v) {
			(void)snprintf(out, size, "%.17g", v);
		}
	}
}

static void check_double(struct strbuf *b, double v)
{
	char want[64];

	ref_double(v, want, sizeof(want));
	strbuf_reset(b);
	assert_int_equal(strbuf_put_double(b, v), 0);
	if (strcmp(b->data, want) != 0) {
		print_error("%a: got %s, want %s\n", v, b->data, want);
		fail();
	}
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void t_doubles(void **state)
{
	static const double edges[] = {0.0,
	                               -0.0,
	                               1.0,
	                               -1.0,
	                               0.1,
	                               0.5,
	                               1e-4,
	                               9.9999999999999991e-05,
	                               1e-5,
	                               1e14,
	                               99999999999999.98,
	                               1e15,
	                               999999999999999.9,
	                               0.30000000000000004,
	                               123.456,
	                               2.5,
	                               0.125,
	                               1234567.8901234567,
	                               9.9999999999999995,
	                               0.00099999999999999999,
	                               99999.999999999985,
	                               5e-324,
	                               1.7976931348623157e308,
	                               NAN,
	                               INFINITY,
	                               -INFINITY};
	struct strbuf b;
	uint64_t seed = 0x9e3779b97f4a7c15u;
	(void)state;

	strbuf_init(&b, 1 << 12);
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		check_double(&b, edges[i]);
		check_double(&b, -edges[i]);
		check_double(&b, nextafter(edges[i], 0));
		check_double(&b, nextafter(edges[i], INFINITY));
	}
	for (int i = 0; i < 1000000; i++) {
		uint64_t r = rnd(&seed);
		double v;
		if (i % 3 == 0) {
			/* any bit pattern */
			memcpy(&v, &r, sizeof(v));
		} else if (i % 3 == 1) {
			/* sums of millisecond durations: k / 1000 plus rounding error */
			v = (double)(r % 100000000000u) / 1000.0 + (double)(r >> 60) * 1e-9;
		} else {
			/* a uniform mantissa at an exponent of the fast range */
			v = ldexp((double)(r >> 11) / 9007199254740992.0, (int)(r % 64) - 16);
		}
		check_double(&b, v);
	}
	strbuf_finish(&b);
}

struct sink_out {
	char data[4096];
	size_t len;
	size_t calls;
	int fail_at; /* call number that fails with -EIO; 0: none */
};

static int to_out(void *ctx, const char *data, size_t len)
{
	struct sink_out *o = ctx;

	if (++o->calls == (size_t)o->fail_at) {
		return -EIO;
	}
	assert_true(len <= sizeof(o->data) - o->len);
	memcpy(o->data + o->len, data, len);
	o->len += len;
	return 0;
}

static void t_sink(void **state)
{
	static const struct {
		size_t cap;
		int fail_at;
		int want; /* strbuf_flush's result */
	} cases[] = {{1u << 20, 0, 0}, {900, 0, -E2BIG}, {1u << 20, 2, -EIO}};
	char expect[4096], big[300];
	(void)state;

	memset(big, 'B', sizeof(big));
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct sink_out o = {.fail_at = cases[c].fail_at};
		struct strbuf b;
		size_t n = 0;

		strbuf_init_sink(&b, 64, cases[c].cap, to_out, &o);
		for (unsigned i = 0; i < 200; i++) {
			(void)strbuf_put_u64(&b, i);
			(void)strbuf_putc(&b, ' ');
			n += (size_t)snprintf(expect + n, sizeof(expect) - n, "%u ", i);
			assert_true(b.alloc <= 65); /* the one chunk, never grown */
		}
		(void)strbuf_append(&b, big, sizeof(big)); /* longer than the chunk */
		memcpy(expect + n, big, sizeof(big));
		n += sizeof(big);
		(void)strbuf_printf(&b, "%s", "end");
		memcpy(expect + n, "end", 3);
		n += 3;
		assert_int_equal(strbuf_flush(&b), cases[c].want);
		if (cases[c].want == 0) {
			assert_true(o.calls > 10); /* streamed, not held */
			assert_int_equal(o.len, n);
			assert_memory_equal(o.data, expect, n);
			assert_int_equal(b.len, 0);
			assert_int_equal(strbuf_flush(&b), 0); /* nothing left: no call */
		} else {
			assert_true(o.len < n);
			assert_memory_equal(o.data, expect, o.len); /* what went out is right */
		}
		strbuf_finish(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_grow_and_cap),
	    cmocka_unit_test(t_borrowed),
	    cmocka_unit_test(t_doubles),
	    cmocka_unit_test(t_sink),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
