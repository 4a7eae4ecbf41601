/*
 * test_compress.c - gzip output inflates back to the input (zlib, gzip
 * header detection), for empty, small and scrape-sized inputs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "exporter/http/compress.h"

static void roundtrip(const char *in, size_t len, int level)
{
	char *z = NULL;
	size_t zlen = 0;
	z_stream s = {0};
	char *back = malloc(len + 16);

	assert_non_null(back);
	assert_int_equal(compress_gzip(in, len, level, &z, &zlen), 0);
	assert_true(zlen >= 18); /* gzip header + trailer */
	assert_int_equal((unsigned char)z[0], 0x1f);
	assert_int_equal((unsigned char)z[1], 0x8b);
	assert_int_equal(inflateInit2(&s, 16 + 15), Z_OK);
	s.next_in = (Bytef *)z;
	s.avail_in = (uInt)zlen;
	s.next_out = (Bytef *)back;
	s.avail_out = (uInt)(len + 16);
	assert_int_equal(inflate(&s, Z_FINISH), Z_STREAM_END);
	assert_int_equal(s.total_out, len);
	assert_memory_equal(back, in, len);
	(void)inflateEnd(&s);
	free(z);
	free(back);
}

static void t_roundtrip(void **state)
{
	size_t big = 3u * 1024u * 1024u;
	char *text = malloc(big);
	(void)state;

	assert_non_null(text);
	static const char line[] = "accesslog_http_responses_total{code=\"200\"} 1\n";
	for (size_t i = 0; i < big; i++) {
		text[i] = line[i % (sizeof(line) - 1)];
	}
	roundtrip("", 0, 1);
	roundtrip("x", 1, 1);
	roundtrip(text, big, 1);
	roundtrip(text, big, 9);
	roundtrip(text, 1000, 0);
	/* incompressible: the output outgrows its first size (a sixth of the
	 * input) and is grown up to deflateBound(), at level 0 past the input */
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < big; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		text[i] = (char)(x >> 32);
	}
	roundtrip(text, big, 1);
	roundtrip(text, 300000, 0);
	roundtrip(text, 100, 1);
	free(text);
}

static void t_bad_args(void **state)
{
	char *z = (char *)"unchanged";
	size_t zlen = 7;
	(void)state;
	assert_int_equal(compress_gzip("x", 1, 10, &z, &zlen), -EINVAL);
	assert_int_equal(compress_gzip("x", 1, -1, &z, &zlen), -EINVAL);
	assert_string_equal(z, "unchanged");
	assert_int_equal(zlen, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_roundtrip),
	    cmocka_unit_test(t_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
