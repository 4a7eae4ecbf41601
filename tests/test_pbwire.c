/*
 * test_pbwire.c - the protobuf wire format, byte for byte, against
 * encodings worked out from the specification (protobuf.dev, "Encoding"):
 * varint boundaries, two's complement and zigzag integers, little-endian
 * doubles, strings, and nested messages whose length needs one to four
 * bytes (the body moved behind the longer length, or, with the three bytes
 * reserved for large messages, in front of the shorter one).  The whole
 * exposition is decoded by an independent decoder in tests/protobuf/.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/metrics/pbwire.h"

static void expect_bytes(const struct strbuf *b, const unsigned char *want, size_t n)
{
	assert_int_equal(b->error, 0);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->data, want, n);
}

static void t_varint(void **state)
{
	static const struct {
		uint64_t v;
		unsigned char bytes[10];
		size_t n;
	} cases[] = {
	    {0, {0x00}, 1},
	    {1, {0x01}, 1},
	    {127, {0x7f}, 1},
	    {128, {0x80, 0x01}, 2},
	    {150, {0x96, 0x01}, 2}, /* the specification's example */
	    {300, {0xac, 0x02}, 2},
	    {16383, {0xff, 0x7f}, 2},
	    {16384, {0x80, 0x80, 0x01}, 3},
	    {UINT64_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf b;
		strbuf_init(&b, 64);
		pbwire_varint(&b, cases[i].v);
		expect_bytes(&b, cases[i].bytes, cases[i].n);
		assert_int_equal(pbwire_varint_len(cases[i].v), cases[i].n);
		strbuf_finish(&b);
	}
}

static void t_scalars(void **state)
{
	/* field 1 = 150; field 2 = -1 (int64: ten bytes); field 3 = -1, 1, -2 zigzag;
	 * field 15 = 0.5 (0x3fe0000000000000, little endian); field 16 varint 3. */
	static const unsigned char want[] = {
	    0x08, 0x96, 0x01,                                                 /* 1: 150 */
	    0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, /* 2: -1 */
	    0x18, 0x01, 0x18, 0x02, 0x18, 0x03,                               /* 3: zigzag */
	    0x79, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f,             /* 15: 0.5 */
	    0x80, 0x01, 0x03,                                                 /* 16: 3 */
	};
	struct strbuf b;
	(void)state;

	strbuf_init(&b, 256);
	pbwire_uint64(&b, 1, 150);
	pbwire_int64(&b, 2, -1);
	pbwire_sint64(&b, 3, -1);
	pbwire_sint64(&b, 3, 1);
	pbwire_sint64(&b, 3, -2);
	pbwire_double(&b, 15, 0.5);
	pbwire_uint64(&b, 16, 3);
	expect_bytes(&b, want, sizeof(want));
	strbuf_reset(&b);
	pbwire_sint64(&b, 1, INT64_MIN); /* zigzag: UINT64_MAX */
	static const unsigned char min[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                    0xff, 0xff, 0xff, 0xff, 0x01};
	expect_bytes(&b, min, sizeof(min));
	strbuf_finish(&b);
}

static void t_bytes(void **state)
{
	/* The specification's string example: field 2 = "testing". */
	static const unsigned char want[] = {0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'};
	struct strbuf b;
	(void)state;

	strbuf_init(&b, 64);
	pbwire_bytes(&b, 2, "testing", 7);
	expect_bytes(&b, want, sizeof(want));
	strbuf_finish(&b);
}

/* A nested message of body bytes (field 1 strings filling it) inside field 4,
 * after a prefix byte: the length must be minimal and the body intact. */
static void nested(size_t body, bool large)
{
	struct strbuf b;
	unsigned char *want = malloc(body + 16);
	size_t n = 0;
	char *fill = malloc(body);

	assert_non_null(want);
	assert_non_null(fill);
	memset(fill, 'x', body);
	strbuf_init(&b, body + 64);
	(void)strbuf_putc(&b, 0x7a);
	size_t mark = large ? pbwire_begin_large(&b, 4) : pbwire_begin(&b, 4);
	(void)strbuf_append(&b, fill, body);
	if (large) {
		pbwire_end_large(&b, mark);
	} else {
		pbwire_end(&b, mark);
	}

	want[n++] = 0x7a;
	want[n++] = 0x22; /* field 4, wire type 2 */
	for (uint64_t v = body; v >= 0x80; v >>= 7) {
		want[n++] = (unsigned char)(v | 0x80);
	}
	want[n++] = (unsigned char)(body >> (7 * (pbwire_varint_len(body) - 1)));
	memcpy(want + n, fill, body);
	expect_bytes(&b, want, n + body);
	strbuf_finish(&b);
	free(fill);
	free(want);
}

static void t_nested(void **state)
{
	/* Around every varint boundary, for both reservations (1 byte; 3 bytes,
	 * where bodies under 16 kB move left and bodies of 2 MB or more right). */
	static const size_t sizes[] = {0,     1,     127,   128,     129,     300,
	                               16383, 16384, 70000, 2097151, 2097152, 2200000};
	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		nested(sizes[i], false);
		nested(sizes[i], true);
	}
}

static void t_nested_twice(void **state)
{
	/* Outer bare message (field 0) holding field 1 { 200 x 'y' }: outer body
	 * is 1 + 2 + 200 = 203 bytes, so both lengths take two bytes. */
	struct strbuf b;
	char fill[200];
	(void)state;

	memset(fill, 'y', sizeof(fill));
	strbuf_init(&b, 1024);
	size_t outer = pbwire_begin(&b, 0);
	size_t inner = pbwire_begin(&b, 1);
	(void)strbuf_append(&b, fill, sizeof(fill));
	pbwire_end(&b, inner);
	pbwire_end(&b, outer);
	assert_int_equal(b.error, 0);
	assert_int_equal(b.len, 2 + 1 + 2 + 200);
	assert_int_equal((unsigned char)b.data[0], 0xcb); /* 203 = 0xcb 0x01 */
	assert_int_equal((unsigned char)b.data[1], 0x01);
	assert_int_equal((unsigned char)b.data[2], 0x0a);
	assert_int_equal((unsigned char)b.data[3], 0xc8); /* 200 = 0xc8 0x01 */
	assert_int_equal((unsigned char)b.data[4], 0x01);
	assert_memory_equal(b.data + 5, fill, sizeof(fill));
	strbuf_finish(&b);
}

static void t_cap(void **state)
{
	/* A message that no longer fits its buffer leaves the error, never a
	 * half-patched length. */
	struct strbuf b;
	char fill[200];
	(void)state;

	memset(fill, 'z', sizeof(fill));
	strbuf_init(&b, 201);
	size_t mark = pbwire_begin(&b, 1);
	(void)strbuf_append(&b, fill, 199);
	pbwire_end(&b, mark); /* body 199 needs 2 length bytes: 202 > cap */
	assert_int_equal(b.error, -E2BIG);
	strbuf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_varint), cmocka_unit_test(t_scalars),      cmocka_unit_test(t_bytes),
	    cmocka_unit_test(t_nested), cmocka_unit_test(t_nested_twice), cmocka_unit_test(t_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
