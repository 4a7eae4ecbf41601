/*
 * test_numparse.c - integers, decimals and nginx value lists.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/numparse.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct u64_row {
	const char *s;
	int rc;
	uint64_t v;
};

/* Each row through parse: rc as given, v written only on success (else it
 * keeps 777). */
static void check_u64_rows(int (*parse)(const char *, size_t, uint64_t *),
                           const struct u64_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 777;
		assert_int_equal(parse(rows[i].s, strlen(rows[i].s), &v), rows[i].rc);
		assert_true(v == (rows[i].rc == 0 ? rows[i].v : 777));
	}
}

static void t_u64(void **state)
{
	static const struct u64_row rows[] = {
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
	    /* around the 19 digits read without an overflow check */
	    {"1234567890123456789x", -EINVAL, 0},
	    {"123456789012345678x9", -EINVAL, 0},
	    {"12345678901234567890a", -EINVAL, 0},
	    {"12345678901234567890", 0, 12345678901234567890ull},
	    {"184467440737095516150", -ERANGE, 0},
	};
	(void)state;
	check_u64_rows(numparse_u64, rows, ARRAY_SIZE(rows));
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
	static const struct u64_row rows[] = {
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
	check_u64_rows(numparse_hex_u64, rows, ARRAY_SIZE(rows));
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
	    /* spellings of non-finite values are not numbers */
	    {"inf", 0, -EINVAL, 0},
	    {"Infinity", 0, -EINVAL, 0},
	    {"nan", 0, -EINVAL, 0},
	    {"NaN", 0, -EINVAL, 0},
	    {"1e400", 0, -EINVAL, 0},
	    {"+inf", 0, -EINVAL, 0},
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

/* Hundreds of digits: -ERANGE instead of +Inf (which a histogram sum would
 * keep forever); tiny values underflow to a finite 0. */
static void t_decimal_huge(void **state)
{
	static const struct {
		char lead;   /* first character */
		size_t len;  /* total length, the rest '0' (or '9' when nines) */
		bool nines;  /* digits after the lead are 9 */
		size_t frac; /* a '.' before the last frac digits (0: none) */
		unsigned scale;
		int rc;
	} rows[] = {
	    {'1', 309, false, 0, 0, 0},       /* 1e308: still finite */
	    {'1', 310, false, 0, 0, -ERANGE}, /* 1e309 */
	    {'9', 309, true, 0, 0, -ERANGE},  /* 9.99..e308 rounds above DBL_MAX */
	    {'1', 310, false, 0, 6, 0},       /* 1e309 us = 1e303 s */
	    {'1', 400, false, 0, 0, -ERANGE}, {'9', 400, true, 0, 6, -ERANGE},
	    {'9', 400, true, 3, 0, -ERANGE}, /* 397 integer digits, then ".999" */
	    {'0', 400, false, 398, 0, 0},    /* 0.000...: 0 */
	};
	char buf[1024];
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		double v = -7;
		memset(buf, rows[i].nines ? '9' : '0', rows[i].len);
		buf[0] = rows[i].lead;
		if (rows[i].frac) {
			buf[rows[i].len - rows[i].frac - 1] = '.';
		}
		int rc = numparse_decimal(buf, rows[i].len, rows[i].scale, &v);
		if (rc != rows[i].rc || (rc == 0 && !isfinite(v)) || (rc < 0 && v != -7)) {
			print_error("row %zu: rc %d v %g\n", i, rc, v);
			fail();
		}
	}
	/* the same through the short and long list paths */
	double sum = -1;
	unsigned count = 99;
	memset(buf, '9', 400);
	memcpy(buf, "0.1, ", 5);
	assert_int_equal(numparse_decimal_list(buf, 400, &sum, &count), -ERANGE);
	assert_true(sum == -1 && count == 99);
	/* two finite entries whose sum is not */
	size_t n = 0;
	for (int k = 0; k < 2; k++) {
		memset(buf + n, '9', 308);
		buf[n] = '1';
		n += 308;
		if (k == 0) {
			memcpy(buf + n, ", ", 2);
			n += 2;
		}
	}
	assert_int_equal(numparse_decimal(buf, 308, 0, &sum), 0); /* 1.99e307: finite */
	assert_true(isfinite(sum));
	sum = -1;
	assert_int_equal(numparse_decimal_list(buf, n, &sum, &count), 0); /* 3.99e307 */
	assert_true(isfinite(sum));
	memset(buf, '9', 308);
	memcpy(buf + 308, ", ", 2);
	memset(buf + 310, '9', 308);
	sum = -1;
	count = 99;
	assert_int_equal(numparse_decimal_list(buf, 618, &sum, &count), -ERANGE); /* 2e308 */
	assert_true(sum == -1 && count == 99);
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
	    {"0.1, inf", -EINVAL, 0, 0},
	    {"nan", -EINVAL, 0, 0},
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
	    cmocka_unit_test(t_list_last), cmocka_unit_test(t_decimal_huge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
