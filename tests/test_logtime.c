/*
 * test_logtime.c - every log time form: offsets, leap years, no DST, bad
 * times; and the time of records from real formats (nginx, Apache, JSON,
 * regex).  Expected values computed with Python's datetime (UTC offsets
 * from the text, never a local zone).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/logparse.h"
#include "parsers/logtime.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct row {
	enum logtime_form form;
	const char *fmt; /* LOGTIME_STRFTIME */
	const char *text;
	int64_t want; /* -1: must be refused */
};

static void check_rows(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t got = -7;
		int r = logtime_parse(rows[i].form, rows[i].fmt, rows[i].text, strlen(rows[i].text),
		                      &got);
		if (rows[i].want < 0 ? r != -EINVAL || got != -7 : r != 0 || got != rows[i].want) {
			print_error("row %zu \"%s\": r=%d got %lld want %lld\n", i, rows[i].text, r,
			            (long long)got, (long long)rows[i].want);
			fail();
		}
	}
}

static void t_clf(void **state)
{
	static const struct row rows[] = {
	    {LOGTIME_CLF, NULL, "10/Oct/2000:13:55:36 -0700", 971211336000},
	    {LOGTIME_CLF, NULL, "[10/Oct/2000:13:55:36 -0700]", 971211336000},
	    {LOGTIME_CLF, NULL, "10/oct/2000:13:55:36 -0700", 971211336000},
	    /* leap years: 2024 and 2000 have Feb 29, 1900-style centuries do not */
	    {LOGTIME_CLF, NULL, "29/Feb/2024:23:59:59 +0000", 1709251199000},
	    {LOGTIME_CLF, NULL, "29/Feb/2000:12:00:00 +0000", 951825600000},
	    {LOGTIME_CLF, NULL, "29/Feb/2100:12:00:00 +0000", -1},
	    {LOGTIME_CLF, NULL, "29/Feb/2023:12:00:00 +0000", -1},
	    /* offsets east and west, half hours */
	    {LOGTIME_CLF, NULL, "01/Mar/2024:00:00:00 +0530", 1709231400000},
	    {LOGTIME_CLF, NULL, "31/Dec/1999:23:59:59 +0000", 946684799000},
	    {LOGTIME_CLF, NULL, "01/Jan/1970:00:00:00 +0000", 0},
	    {LOGTIME_CLF, NULL, "31/Dec/9999:23:59:59 +0000", 253402300799000},
	    /* no offset: UTC */
	    {LOGTIME_CLF, NULL, "10/Oct/2000:20:55:36", 971211336000},
	    /* bad times */
	    {LOGTIME_CLF, NULL, "31/Apr/2024:00:00:00 +0000", -1},
	    {LOGTIME_CLF, NULL, "00/Apr/2024:00:00:00 +0000", -1},
	    {LOGTIME_CLF, NULL, "10/Foo/2000:13:55:36 -0700", -1},
	    {LOGTIME_CLF, NULL, "10/Oct/2000:24:00:00 -0700", -1},
	    {LOGTIME_CLF, NULL, "10/Oct/2000:23:60:00 -0700", -1},
	    {LOGTIME_CLF, NULL, "10/Oct/2000:13:55:36 -2400", -1},
	    {LOGTIME_CLF, NULL, "10/Oct/2000:13:55:36 -0760", -1},
	    {LOGTIME_CLF, NULL, "10/Oct/2000:13:55:36 0700", -1},
	    {LOGTIME_CLF, NULL, "10/Oct/2000:13:55:36 -0700 ", -1},
	    {LOGTIME_CLF, NULL, "[10/Oct/2000:13:55:36 -0700", -1},
	    {LOGTIME_CLF, NULL, "10/Oct/1969:13:55:36 -0700", -1},
	    {LOGTIME_CLF, NULL, "01/Jan/1970:00:00:00 +0100", -1},
	    {LOGTIME_CLF, NULL, "1/Oct/2000:13:55:36 -0700", -1},
	    {LOGTIME_CLF, NULL, "", -1},
	    {LOGTIME_CLF, NULL, "-", -1},
	};
	(void)state;
	check_rows(rows, ARRAY_SIZE(rows));
}

static void t_iso8601(void **state)
{
	static const struct row rows[] = {
	    {LOGTIME_ISO8601, NULL, "2000-10-10T13:55:36-07:00", 971211336000},
	    {LOGTIME_ISO8601, NULL, "2000-10-10T13:55:36-0700", 971211336000},
	    {LOGTIME_ISO8601, NULL, "2000-10-10T13:55:36-07", 971211336000},
	    {LOGTIME_ISO8601, NULL, "2000-10-10T20:55:36Z", 971211336000},
	    {LOGTIME_ISO8601, NULL, "2000-10-10 20:55:36", 971211336000},
	    {LOGTIME_ISO8601, NULL, "2000-10-10T20:55:36+00:00", 971211336000},
	    /* a European DST switch night: the offset in the text is all that counts */
	    {LOGTIME_ISO8601, NULL, "2026-03-29T02:30:00+01:00", 1774747800000},
	    {LOGTIME_ISO8601, NULL, "2026-03-29T02:30:00.250Z", 1774751400250},
	    {LOGTIME_ISO8601, NULL, "2026-03-29T02:30:00,250999999Z", 1774751400250},
	    {LOGTIME_ISO8601, NULL, "2026-03-29T02:30:00.2Z", 1774751400200},
	    {LOGTIME_ISO8601, NULL, "2024-02-29T00:00:00Z", 1709164800000},
	    {LOGTIME_ISO8601, NULL, "2023-02-29T00:00:00Z", -1},
	    {LOGTIME_ISO8601, NULL, "2023-13-01T00:00:00Z", -1},
	    {LOGTIME_ISO8601, NULL, "2023-00-01T00:00:00Z", -1},
	    {LOGTIME_ISO8601, NULL, "2023-01-01T00:00:00.Z", -1},
	    {LOGTIME_ISO8601, NULL, "2023-01-01T00:00:00.1234567890Z", -1},
	    {LOGTIME_ISO8601, NULL, "2023-01-01T00:00:00Zx", -1},
	    {LOGTIME_ISO8601, NULL, "2023-01-01", -1},
	    {LOGTIME_ISO8601, NULL, "2023-01-01X00:00:00Z", -1},
	};
	(void)state;
	check_rows(rows, ARRAY_SIZE(rows));
}

static void t_epoch(void **state)
{
	static const struct row rows[] = {
	    {LOGTIME_EPOCH_S, NULL, "971211336", 971211336000},
	    {LOGTIME_EPOCH_S, NULL, "971211336.123", 971211336123},
	    {LOGTIME_EPOCH_S, NULL, "971211336.1239", 971211336123},
	    {LOGTIME_EPOCH_S, NULL, "971211336.1", 971211336100},
	    {LOGTIME_EPOCH_MS, NULL, "971211336123", 971211336123},
	    {LOGTIME_EPOCH_MS, NULL, "971211336123.9", 971211336123},
	    {LOGTIME_EPOCH_US, NULL, "971211336123456", 971211336123},
	    {LOGTIME_EPOCH_S, NULL, "253402300799", 253402300799000},
	    {LOGTIME_EPOCH_S, NULL, "253402300800", -1},
	    {LOGTIME_EPOCH_S, NULL, "9999999999999", -1},
	    {LOGTIME_EPOCH_US, NULL, "99999999999999999999", -1},
	    {LOGTIME_EPOCH_S, NULL, "-1", -1},
	    {LOGTIME_EPOCH_S, NULL, "1.", -1},
	    {LOGTIME_EPOCH_S, NULL, ".5", -1},
	    {LOGTIME_EPOCH_S, NULL, "1e9", -1},
	    {LOGTIME_EPOCH_S, NULL, "", -1},
	};
	(void)state;
	check_rows(rows, ARRAY_SIZE(rows));
}

static void t_auto(void **state)
{
	static const struct row rows[] = {
	    {LOGTIME_AUTO, NULL, "10/Oct/2000:13:55:36 -0700", 971211336000},
	    {LOGTIME_AUTO, NULL, "[10/Oct/2000:13:55:36 -0700]", 971211336000},
	    {LOGTIME_AUTO, NULL, "2000-10-10T13:55:36-07:00", 971211336000},
	    {LOGTIME_AUTO, NULL, "971211336.5", 971211336500},
	    {LOGTIME_AUTO, NULL, "971211336123", 971211336123},
	    {LOGTIME_AUTO, NULL, "971211336123456", 971211336123},
	    {LOGTIME_AUTO, NULL, "yesterday", -1},
	    {LOGTIME_AUTO, NULL, "", -1},
	    {LOGTIME_NONE, NULL, "971211336", -1},
	};
	(void)state;
	check_rows(rows, ARRAY_SIZE(rows));
}

static void t_strftime(void **state)
{
	static const struct row rows[] = {
	    {LOGTIME_STRFTIME, "%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36 -0700", 971211336000},
	    {LOGTIME_STRFTIME, "%Y-%m-%dT%H:%M:%S%z", "2000-10-10T13:55:36-07:00", 971211336000},
	    {LOGTIME_STRFTIME, "%F %T %Z", "2000-10-10 20:55:36 UTC", 971211336000},
	    {LOGTIME_STRFTIME, "%a, %d %b %Y %H:%M:%S %Z", "Tue, 10 Oct 2000 13:55:36 GMT",
	     971186136000},
	    {LOGTIME_STRFTIME, "%Y-%m-%d %I:%M:%S %p %z", "2000-10-10 01:55:36 PM +0000",
	     971186136000},
	    {LOGTIME_STRFTIME, "%Y-%m-%d %I:%M:%S %p %z", "2000-10-10 12:55:36 AM +0000",
	     971139336000},
	    {LOGTIME_STRFTIME, "%Y-%j %H:%M:%S %z", "2024-366 00:00:00 +0000", 1735603200000},
	    {LOGTIME_STRFTIME, "%Y-%j %H:%M:%S %z", "2023-366 00:00:00 +0000", -1},
	    {LOGTIME_STRFTIME, "%B %e %Y %R", "October  5 2000 13:55", 970754100000},
	    {LOGTIME_STRFTIME, "%D %T", "10/10/00 20:55:36", 971211336000},
	    {LOGTIME_STRFTIME, "%s", "971211336", 971211336000},
	    {LOGTIME_STRFTIME, "%Y%%%m%%%d", "2000%10%10", 971136000000},
	    /* no offset: UTC */
	    {LOGTIME_STRFTIME, "%d/%b/%Y %T", "10/Oct/2000 20:55:36", 971211336000},
	    /* zones other than UTC need a database: refused */
	    {LOGTIME_STRFTIME, "%F %T %Z", "2000-10-10 20:55:36 CEST", -1},
	    {LOGTIME_STRFTIME, "%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36", -1},
	    {LOGTIME_STRFTIME, "%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36 -0700x", -1},
	    {LOGTIME_STRFTIME, "%Y-%m-%d %I:%M %p", "2000-10-10 13:55 PM", -1},
	    {LOGTIME_STRFTIME, "%Y-%m-%d %I:%M", "2000-10-10 11:55", -1},
	    {LOGTIME_STRFTIME, NULL, "2000", -1},
	};
	(void)state;
	check_rows(rows, ARRAY_SIZE(rows));
}

static void t_format_ok(void **state)
{
	static const struct {
		const char *fmt;
		bool ok;
	} rows[] = {
	    {"%d/%b/%Y:%H:%M:%S %z", true},
	    {"%F %T", true},
	    {"%s", true},
	    {"%D", true},
	    {"%H:%M:%S", false}, /* no date */
	    {"%Y-%m-%d %Q", false},
	    {"%Y %", false},
	    {"", false},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		if (logtime_format_ok(rows[i].fmt, strlen(rows[i].fmt)) != rows[i].ok) {
			print_error("\"%s\": want %d\n", rows[i].fmt, rows[i].ok);
			fail();
		}
	}
}

static void t_days(void **state)
{
	(void)state;
	assert_int_equal(logtime_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(logtime_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(logtime_days_from_civil(1969, 12, 31), -1);
	/* every day of 1970..2400 follows the previous one */
	int64_t prev = logtime_days_from_civil(1969, 12, 31);
	for (int64_t y = 1970; y <= 2400; y++) {
		for (unsigned m = 1; m <= 12; m++) {
			static const unsigned dim[12] = {31, 28, 31, 30, 31, 30,
			                                 31, 31, 30, 31, 30, 31};
			bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
			unsigned n = m == 2 && leap ? 29 : dim[m - 1];
			for (unsigned d = 1; d <= n; d++) {
				int64_t cur = logtime_days_from_civil(y, m, d);
				assert_int_equal(cur, prev + 1);
				prev = cur;
			}
		}
	}
}

/* The time of a parsed line, through the real format compilers. */
static void t_records(void **state)
{
	static const struct {
		enum logparse_kind kind;
		const char *format;
		const char *line;
		int want_r;
		int64_t want;
	} rows[] = {
	    {LOGPARSE_PRESET, "combined",
	     "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\"", 0,
	     971211336000},
	    {LOGPARSE_PRESET, "main",
	     "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\" \"-\"",
	     0, 971211336000},
	    {LOGPARSE_NGINX, "$time_iso8601 $status", "2000-10-10T13:55:36-07:00 200", 0,
	     971211336000},
	    {LOGPARSE_NGINX, "$msec $status", "971211336.123 200", 0, 971211336123},
	    {LOGPARSE_NGINX, "$msec $status", "- 200", -ENOENT, 0},
	    {LOGPARSE_NGINX, "$status", "200", -ENOENT, 0},
	    {LOGPARSE_APACHE, "%{msec}t %>s", "971211336123 200", 0, 971211336123},
	    {LOGPARSE_APACHE, "%{usec}t %>s", "971211336123456 200", 0, 971211336123},
	    {LOGPARSE_APACHE, "%{sec}t %>s", "971211336 200", 0, 971211336000},
	    {LOGPARSE_APACHE, "[%{%d/%b/%Y:%H:%M:%S %z}t] %>s", "[10/Oct/2000:13:55:36 -0700] 200",
	     0, 971211336000},
	    {LOGPARSE_APACHE, "%{%Y-%m-%dT%H:%M:%S%z}t %>s", "2000-10-10T13:55:36-0700 200", 0,
	     971211336000},
	    /* the time is matched by shape only: an impossible date parses as a
	     * line (counted by --once) but has no readable time */
	    {LOGPARSE_PRESET, "common",
	     "h - - [31/Feb/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5", -EINVAL, 0},
	    {LOGPARSE_JSON, NULL, "{\"status\":200,\"time_iso8601\":\"2000-10-10T13:55:36-07:00\"}",
	     0, 971211336000},
	    {LOGPARSE_JSON, NULL, "{\"status\":200,\"ts\":971211336.5}", 0, 971211336500},
	    {LOGPARSE_JSON, NULL, "{\"status\":200}", -ENOENT, 0},
	    {LOGPARSE_JSON, "status=s,time=when",
	     "{\"s\":200,\"when\":\"10/Oct/2000:13:55:36 -0700\"}", 0, 971211336000},
	    {LOGPARSE_JSON, "escape=json '{\"t\":\"$time_local\",\"s\":\"$status\"}'",
	     "{\"t\":\"10/Oct/2000:13:55:36 -0700\",\"s\":\"200\"}", 0, 971211336000},
	    {LOGPARSE_REGEX, "^(?<time>\\S+) (?<status>\\d+)$", "971211336 200", 0, 971211336000},
	    {LOGPARSE_REGEX, "^\\[(?<time_local>[^]]+)\\] (?<status>\\d+)$",
	     "[10/Oct/2000:13:55:36 -0700] 200", 0, 971211336000},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct log_parser *p = NULL;
		struct logparse_error err;
		struct log_record rec;
		int64_t ms = -7;
		if (logparse_create(rows[i].kind, rows[i].format, &p, &err) != 0) {
			print_error("row %zu: %s\n", i, err.message);
			fail();
		}
		assert_int_equal(logparse_line(p, rows[i].line, strlen(rows[i].line), &rec), 0);
		int r = logtime_of_record(&rec, &ms);
		if (r != rows[i].want_r || (r == 0 && ms != rows[i].want)) {
			print_error("row %zu: r=%d ms=%lld\n", i, r, (long long)ms);
			fail();
		}
		logparse_destroy(p);
	}
}

/* The cache gives logtime_of_record's results, bit for bit, over hits,
 * misses, errors, a form change on the same text and over-long texts. */
static void t_cached(void **state)
{
	static const struct {
		enum logtime_form form;
		const char *text;
	} rows[] = {
	    {LOGTIME_CLF, "10/Oct/2000:13:55:36 -0700"},
	    {LOGTIME_CLF, "10/Oct/2000:13:55:36 -0700"},
	    {LOGTIME_CLF, "10/Oct/2000:13:55:37 -0700"},
	    {LOGTIME_CLF, "31/Feb/2000:13:55:37 -0700"},
	    {LOGTIME_CLF, "31/Feb/2000:13:55:37 -0700"},
	    {LOGTIME_CLF, "10/Oct/2000:13:55:37 -0700"},
	    {LOGTIME_AUTO, "1700000000.123"},
	    {LOGTIME_EPOCH_S, "1700000000.123"},
	    {LOGTIME_EPOCH_MS, "1700000000.123"},
	    {LOGTIME_EPOCH_MS, "1700000000123"},
	    {LOGTIME_ISO8601, "2000-10-10T13:55:36.123456789012345678901234567890123-07:00"},
	    {LOGTIME_ISO8601, "2000-10-10T13:55:36.123456789012345678901234567890123-07:00"},
	    {LOGTIME_ISO8601, "2000-10-10T13:55:36-07:00"},
	    {LOGTIME_ISO8601, ""},
	};
	struct logtime_cache c;
	(void)state;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct log_record rec;
		int64_t want = -7, got = -7;
		memset(&rec, 0, sizeof(rec));
		rec.log_time_form = (uint8_t)rows[i].form;
		rec.log_time.ptr = rows[i].text;
		rec.log_time.len = strlen(rows[i].text);
		int wr = logtime_of_record(&rec, &want);
		int gr = logtime_of_record_cached(&rec, &c, &got);
		if (wr != gr || want != got) {
			print_error("row %zu: %d/%lld cached %d/%lld\n", i, wr, (long long)want, gr,
			            (long long)got);
			fail();
		}
	}
	assert_int_equal(logtime_of_record_cached(NULL, &c, NULL), -ENOENT);
}

static void t_time_form(void **state)
{
	struct log_parser *p = NULL;
	(void)state;
	assert_int_equal(logparse_create(LOGPARSE_PRESET, "combined", &p, NULL), 0);
	assert_int_equal(logparse_time_form(p), LOGTIME_CLF);
	logparse_destroy(p);
	assert_int_equal(logparse_create(LOGPARSE_NGINX, "$status $request_time", &p, NULL), 0);
	assert_int_equal(logparse_time_form(p), LOGTIME_NONE);
	logparse_destroy(p);
	assert_int_equal(logparse_create(LOGPARSE_APACHE, "%{%H:%M}t %>s", &p, NULL), 0);
	assert_int_equal(logparse_time_form(p), LOGTIME_NONE); /* no date: no time */
	logparse_destroy(p);
	assert_int_equal(logparse_time_form(NULL), LOGTIME_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_clf),      cmocka_unit_test(t_iso8601),
	    cmocka_unit_test(t_epoch),    cmocka_unit_test(t_auto),
	    cmocka_unit_test(t_strftime), cmocka_unit_test(t_format_ok),
	    cmocka_unit_test(t_days),     cmocka_unit_test(t_records),
	    cmocka_unit_test(t_cached),   cmocka_unit_test(t_time_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
