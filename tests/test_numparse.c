/*
 * test_numparse.c - integers, decimals and nginx value lists.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/numparse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void t_u64(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} rows[] = {
	    {"0", 0, 0},
	    {"203023", 0, 203023},
	    {"18446744073709551615", 0, UINT64_MAX},
	    {"18446744073709551616", -ERANGE, 0},
	    {"99999999999999999999", -ERANGE, 0},
	    {"", -EINVAL, 0},
	    {"-", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {"+1", -EINVAL, 0},
	    {"12a", -EINVAL, 0},
	    {" 1", -EINVAL, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		uint64_t v = 777;
		assert_int_equal(numparse_u64(rows[i].s, strlen(rows[i].s), &v), rows[i].rc);
		assert_int_equal(v, rows[i].rc == 0 ? rows[i].v : 777);
	}
	/* length-aware: digits after len are not read */
	uint64_t v;
	assert_int_equal(numparse_u64("12345", 2, &v), 0);
	assert_int_equal(v, 12);
	/* 19 digits take the fast path, 20 the checked one */
	assert_int_equal(numparse_u64("9999999999999999999", 19, &v), 0);
	assert_true(v == 9999999999999999999ull);
	assert_int_equal(numparse_u64("00000000000000000001", 20, &v), 0);
	assert_int_equal(v, 1);
}

static void t_hex_u64(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} rows[] = {
	    {"0", 0, 0},
	    {"ff", 0, 255},
	    {"3fb999999999999a", 0, 0x3fb999999999999aull},
	    {"ffffffffffffffff", 0, UINT64_MAX},
	    {"10000000000000000", -ERANGE, 0},
	    {"", -EINVAL, 0},
	    {"FF", -EINVAL, 0}, /* our files write lower case: anything else is corruption */
	    {"0x1", -EINVAL, 0},
	    {"g", -EINVAL, 0},
	    {"1 ", -EINVAL, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		uint64_t v = 777;
		assert_int_equal(numparse_hex_u64(rows[i].s, strlen(rows[i].s), &v), rows[i].rc);
		assert_true(v == (rows[i].rc == 0 ? rows[i].v : 777));
	}
}

static void t_decimal(void **state)
{
	static const struct {
		const char *s;
		unsigned scale;
		int rc;
		double v;
	} rows[] = {
	    {"0.271", 0, 0, 0.271},
	    {"5.808", 0, 0, 5.808},
	    {"0.000", 0, 0, 0.0},
	    {"0.005", 0, 0, 0.005},
	    {"1734162037.389", 0, 0, 1734162037.389},
	    {"3551", 6, 0, 0.003551},
	    {"1534", 3, 0, 1.534},
	    {"0", 6, 0, 0.0},
	    {"2", 0, 0, 2.0},
	    {"1.", 0, 0, 1.0},
	    {".5", 0, 0, 0.5},
	    {"00012.50", 0, 0, 12.5},
	    /* the short path ends at 17 characters, the general one starts at 18 */
	    {"99999999999999999", 0, 0, 99999999999999999.0},
	    {"999999999999999999", 0, 0, 999999999999999999.0},
	    {"0.000000000000001", 3, 0, 0.000000000000000001},
	    {"1.2345678901234567", 0, 0, 1.2345678901234567},
	    {"123456789012345678901234", 0, 0, 123456789012345678901234.0},
	    {"0.1234567890123456789012", 0, 0, 0.1234567890123456789},
	    {"", 0, -EINVAL, 0},
	    {".", 0, -EINVAL, 0},
	    {"-", 0, -EINVAL, 0},
	    {"-1", 0, -EINVAL, 0},
	    {"1.2.3", 0, -EINVAL, 0},
	    {"1e3", 0, -EINVAL, 0},
	    {"0.1 ", 0, -EINVAL, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		double v = -7;
		int rc = numparse_decimal(rows[i].s, strlen(rows[i].s), rows[i].scale, &v);
		if (rc != rows[i].rc ||
		    (rc == 0 && fabs(v - rows[i].v) > fabs(rows[i].v) * 1e-15) ||
		    (rc < 0 && v != -7)) {
			print_error("\"%s\": rc %d v %.17g\n", rows[i].s, rc, v);
			fail();
		}
	}
	/* exact: the parsed value is the double nearest to the decimal, so bucket
	 * bounds like 0.1 and 0.25 compare exactly */
	double v;
	assert_int_equal(numparse_decimal("0.1", 3, 0, &v), 0);
	assert_true(v == 0.1);
	assert_int_equal(numparse_decimal("0.250", 5, 0, &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(numparse_decimal("100000", 6, 6, &v), 0);
	assert_true(v == 0.1);
}

static void t_decimal_list(void **state)
{
	static const struct {
		const char *s;
		int rc;
		double sum;
		unsigned count;
	} rows[] = {
	    {"0.271", 0, 0.271, 1},
	    {"0.100, 0.004", 0, 0.104, 2},
	    {"-, 1.394", 0, 1.394, 1},
	    {"0.001, 0.002 : 0.003", 0, 0.006, 3},
	    {"-", 0, 0, 0},
	    {"-, -", 0, 0, 0},
	    {"0.000, 0.000", 0, 0, 2},
	    /* entries beyond the one-pass length take the general parser */
	    {"0.0000000000000001, 1", 0, 1.0000000000000001, 2},
	    {"100000000000000000000, 1.", 0, 1e20 + 1, 2},
	    {"1., .5", 0, 1.5, 2},
	    {"1.5x", -EINVAL, 0, 0},
	    {"1.5 x", -EINVAL, 0, 0},
	    {"., 1", -EINVAL, 0, 0},
	    {"-1", -EINVAL, 0, 0},
	    {"0.1 : ", -EINVAL, 0, 0},
	    {"", -EINVAL, 0, 0},
	    {"0.1,0.2", -EINVAL, 0, 0},
	    {"0.1, ", -EINVAL, 0, 0},
	    {"0.1 : x", -EINVAL, 0, 0},
	    {", 0.1", -EINVAL, 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		double sum = -1;
		unsigned count = 99;
		int rc = numparse_decimal_list(rows[i].s, strlen(rows[i].s), &sum, &count);
		if (rc != rows[i].rc ||
		    (rc == 0 && (fabs(sum - rows[i].sum) > 1e-12 || count != rows[i].count)) ||
		    (rc < 0 && (sum != -1 || count != 99))) {
			print_error("\"%s\": rc %d sum %g count %u\n", rows[i].s, rc, sum, count);
			fail();
		}
	}
}

static void t_list_last(void **state)
{
	static const struct {
		const char *s;
		const char *last; /* NULL: -ENOENT */
	} rows[] = {
	    {"200", "200"},     {"200, 203", "203"}, {"200, -", "200"}, {"502, 504 : 200", "200"},
	    {"-", NULL},        {"-, -", NULL},      {"", NULL},        {"502, 502", "502"},
	    {"404 : -", "404"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const char *p = NULL;
		size_t n = 0;
		int rc = numparse_list_last(rows[i].s, strlen(rows[i].s), &p, &n);
		if (rows[i].last == NULL) {
			assert_int_equal(rc, -ENOENT);
			assert_null(p);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(n, strlen(rows[i].last));
			assert_memory_equal(p, rows[i].last, n);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_u64),       cmocka_unit_test(t_hex_u64),
	    cmocka_unit_test(t_decimal),   cmocka_unit_test(t_decimal_list),
	    cmocka_unit_test(t_list_last),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
