/*
 * test_fieldconv.c - request-line splitting and field conversion rules.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/fieldconv.h"
#include "parsers/status.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The method byte table and the 16-byte vector test against the character
 * classes they replaced: every byte value at every place of methods of 1 to
 * 18 bytes, in requests under 16 bytes (table only) and over (vector). */
static void t_method_bytes(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		bool want = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		            (c >= '0' && c <= '9') || c == '-' || c == '_';
		for (size_t mlen = 1; mlen <= 18; mlen++) {
			for (size_t at = 0; at < mlen; at++) {
				for (int longer = 0; longer < 2; longer++) {
					char r[64];
					struct str_view m = {NULL, 0}, p = {NULL, 0},
					                pr = {NULL, 0};
					memset(r, 'M', mlen);
					r[at] = (char)c;
					int n = snprintf(r + mlen, sizeof(r) - mlen, " %s HTTP/1.1",
					                 longer ? "/0123456789abcdef" : "/");
					fieldconv_split_request(r, mlen + (size_t)n, &m, &p, &pr);
					if ((m.len == mlen) != want) {
						fail_msg("byte 0x%02x at %zu of %zu: method %s", c,
						         at, mlen,
						         want ? "expected" : "unexpected");
					}
				}
			}
		}
	}
}

static void t_split_request(void **state)
{
	static const struct {
		const char *request;
		const char *method, *path, *protocol; /* NULL: left untouched */
	} rows[] = {
	    {"GET / HTTP/1.1", "GET", "/", "HTTP/1.1"},
	    {"GET /a b HTTP/1.1", "GET", "/a b", "HTTP/1.1"},
	    {"GET /facts/x.html   HTTP/1.0", "GET", "/facts/x.html", "HTTP/1.0"},
	    {"GET  /x", "GET", "/x", NULL},
	    {"PRI * HTTP/2.0", "PRI", "*", "HTTP/2.0"},
	    {"CONNECT example.com:443 HTTP/1.1", "CONNECT", "example.com:443", "HTTP/1.1"},
	    {"get /x HTTP/1.1", "get", "/x", "HTTP/1.1"},
	    {"GET /x HTTP/", "GET", "/x HTTP/", NULL},
	    {"GET /x http/1.1", "GET", "/x http/1.1", NULL},
	    {"M-SEARCH * HTTP/1.1", "M-SEARCH", "*", "HTTP/1.1"},
	    {"-", NULL, NULL, NULL},
	    {"", NULL, NULL, NULL},
	    {"hello", NULL, NULL, NULL},
	    {"GET ", NULL, NULL, NULL},
	    {"GET    ", NULL, NULL, NULL},
	    {" GET /", NULL, NULL, NULL},
	    {"\\x16\\x03\\x01", NULL, NULL, NULL},
	    {"\\x03\\x00\\x00/*\\xE0 Cookie: mstshash=x", NULL, NULL, NULL},
	    {"G\"T / HTTP/1.1", NULL, NULL, NULL},
	    {"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG / HTTP/1.1", NULL, NULL, NULL},
	    {"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF / HTTP/1.1", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", "/",
	     "HTTP/1.1"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		static const char untouched[] = "untouched";
		struct str_view m = {untouched, 9}, p = {untouched, 9}, pr = {untouched, 9};
		const char *r = rows[i].request;
		fieldconv_split_request(r, strlen(r), &m, &p, &pr);
		const char *want[3] = {rows[i].method, rows[i].path, rows[i].protocol};
		struct str_view got[3] = {m, p, pr};
		for (int k = 0; k < 3; k++) {
			bool same = want[k] == NULL
			                ? got[k].ptr == untouched
			                : got[k].len == strlen(want[k]) &&
			                      memcmp(got[k].ptr, want[k], got[k].len) == 0;
			if (!same) {
				print_error("\"%s\" part %d: want %s got \"%.*s\"\n", r, k,
				            want[k] ? want[k] : "(untouched)", (int)got[k].len,
				            got[k].ptr);
				fail();
			}
		}
	}
}

static void apply(struct log_record *r, enum logformat_field f, const char *s)
{
	struct str_view req = {NULL, 0};
	fieldconv_apply(r, f, s, strlen(s), &req);
}

/* Request and trace ids: the first of a line wins; a traceparent gives its
 * trace id; "-", blanks, non-ASCII and over-long ids are none. */
static void t_trace_ids(void **state)
{
	static const struct {
		enum logformat_field f;
		const char *value;
		const char *want; /* NULL: no id */
		uint8_t kind;
	} rows[] = {
	    {LOGFORMAT_FIELD_REQUEST_ID, "7f3a9c2e4b1d", "7f3a9c2e4b1d", LOG_TRACE_REQUEST_ID},
	    {LOGFORMAT_FIELD_TRACE_ID, "4bf92f3577b34da6a3ce929d0e0e4736",
	     "4bf92f3577b34da6a3ce929d0e0e4736", LOG_TRACE_TRACE_ID},
	    {LOGFORMAT_FIELD_TRACEPARENT, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	     "4bf92f3577b34da6a3ce929d0e0e4736", LOG_TRACE_TRACE_ID},
	    {LOGFORMAT_FIELD_TRACEPARENT, "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
	     NULL, 0},
	    {LOGFORMAT_FIELD_TRACEPARENT, "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",
	     NULL, 0},
	    {LOGFORMAT_FIELD_REQUEST_ID, "-", NULL, 0},
	    {LOGFORMAT_FIELD_REQUEST_ID, "a b", NULL, 0},
	    {LOGFORMAT_FIELD_REQUEST_ID, "caf\xc3\xa9", NULL, 0},
	    {LOGFORMAT_FIELD_REQUEST_ID,
	     "0123456789012345678901234567890123456789012345678901234567890123456789", NULL, 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct log_record r;
		fieldconv_init(&r);
		apply(&r, rows[i].f, rows[i].value);
		if (!rows[i].want) {
			assert_int_equal(r.trace_kind, LOG_TRACE_NONE);
			continue;
		}
		assert_int_equal(r.trace_kind, rows[i].kind);
		assert_int_equal(r.trace_id.len, strlen(rows[i].want));
		assert_memory_equal(r.trace_id.ptr, rows[i].want, r.trace_id.len);
		/* a second id on the same line does not replace the first */
		apply(&r, LOGFORMAT_FIELD_REQUEST_ID, "second");
		assert_int_equal(r.trace_id.len, strlen(rows[i].want));
	}
}

/* fieldconv_apply_inline writes the same record as fieldconv_apply (one is
 * the other out of line: this holds it so), every field, for texts that
 * are valid, empty, "-" and garbage; and fieldconv_apply_rest leaves the
 * five fields the inline path writes itself to it. */
static void t_apply_inline(void **state)
{
	static const char *const texts[] = {"200",
	                                    "",
	                                    "-",
	                                    "599",
	                                    "99",
	                                    "abc",
	                                    "GET / HTTP/1.1",
	                                    "10.0.0.1",
	                                    "1024",
	                                    "0.005",
	                                    "x y",
	                                    "9007199254740992",
	                                    "9007199254740993",
	                                    "99999999999999999999"};
	(void)state;
	/* each field twice, every pair of texts: the first value wins where
	 * fieldconv_apply says so (times), the last elsewhere */
	for (unsigned f = 0; f < LOGFORMAT_FIELD_COUNT; f++) {
		for (size_t t = 0; t < ARRAY_SIZE(texts) * ARRAY_SIZE(texts); t++) {
			const char *t1 = texts[t / ARRAY_SIZE(texts)],
			           *t2 = texts[t % ARRAY_SIZE(texts)];
			enum logformat_field ff = (enum logformat_field)f;
			struct log_record a, b;
			struct str_view ra = {NULL, 0}, rb = {NULL, 0};
			memset(&a, 0, sizeof(a));
			memset(&b, 0, sizeof(b));
			fieldconv_init(&a);
			fieldconv_init(&b);
			fieldconv_apply(&a, ff, t1, strlen(t1), &ra);
			fieldconv_apply(&a, ff, t2, strlen(t2), &ra);
			fieldconv_apply_inline(&b, ff, t1, strlen(t1), &rb);
			fieldconv_apply_inline(&b, ff, t2, strlen(t2), &rb);
			if (memcmp(&a, &b, sizeof(a)) != 0 || ra.ptr != rb.ptr ||
			    ra.len != rb.len) {
				fail_msg("field %u, \"%s\" then \"%s\": the inline path differs", f,
				         t1, t2);
			}
		}
	}
	static const enum logformat_field inline_fields[] = {
	    LOGFORMAT_FIELD_STATUS, LOGFORMAT_FIELD_REQUEST, LOGFORMAT_FIELD_REMOTE_ADDR,
	    LOGFORMAT_FIELD_BYTES, LOGFORMAT_FIELD_LOGTIME_CLF};
	for (size_t i = 0; i < ARRAY_SIZE(inline_fields); i++) {
		struct log_record a, b;
		struct str_view ra = {NULL, 0};
		memset(&a, 0, sizeof(a));
		fieldconv_init(&a);
		b = a;
		fieldconv_apply_rest(&a, inline_fields[i], "200", 3, &ra);
		assert_memory_equal(&a, &b, sizeof(a));
		assert_null(ra.ptr);
	}
}

static void t_apply_rules(void **state)
{
	struct log_record r;
	(void)state;

	fieldconv_init(&r);
	assert_int_equal(r.status_slot, STATUS_SLOT_INVALID);
	assert_int_equal(r.upstream_status_slot, STATUS_SLOT_INVALID);
	assert_false(r.has_bytes || r.has_request_time || r.has_upstream_time ||
	             r.has_upstream_status);

	/* "-" means absent */
	apply(&r, LOGFORMAT_FIELD_BYTES, "-");
	apply(&r, LOGFORMAT_FIELD_TIME_S, "-");
	apply(&r, LOGFORMAT_FIELD_UPSTREAM_TIME, "-");
	apply(&r, LOGFORMAT_FIELD_UPSTREAM_STATUS, "-");
	apply(&r, LOGFORMAT_FIELD_VHOST, "-");
	apply(&r, LOGFORMAT_FIELD_METHOD, "-");
	assert_false(r.has_bytes || r.has_request_time || r.has_upstream_time ||
	             r.has_upstream_status);
	assert_int_equal(r.vhost.len, 0);
	assert_int_equal(r.method.len, 0);

	/* status text that is not a code gives the invalid slot */
	apply(&r, LOGFORMAT_FIELD_STATUS, "abc");
	assert_int_equal(r.status_slot, STATUS_SLOT_INVALID);
	apply(&r, LOGFORMAT_FIELD_STATUS, "404");
	assert_int_equal(r.status_slot, 304);

	/* the first request time wins, units scale */
	apply(&r, LOGFORMAT_FIELD_TIME_US, "2500");
	apply(&r, LOGFORMAT_FIELD_TIME_S, "9");
	assert_true(r.has_request_time);
	assert_true(r.request_time == 0.0025);

	/* bytes overflow is absent, not wrapped (bounds: t_numeric_fields) */
	apply(&r, LOGFORMAT_FIELD_BYTES, "99999999999999999999");
	assert_false(r.has_bytes);

	/* a malformed upstream list is absent and leaves no partial sum */
	apply(&r, LOGFORMAT_FIELD_UPSTREAM_TIME, "0.1, x");
	assert_false(r.has_upstream_time);
	assert_int_equal(r.upstream_attempts, 0);
	apply(&r, LOGFORMAT_FIELD_UPSTREAM_TIME, "0.100, - : 0.004");
	assert_true(r.has_upstream_time);
	assert_int_equal(r.upstream_attempts, 2);
	assert_true(fabs(r.upstream_time - 0.104) < 1e-12);
	apply(&r, LOGFORMAT_FIELD_UPSTREAM_STATUS, "502, 504 : -");
	assert_true(r.has_upstream_status);
	assert_int_equal(r.upstream_status_slot, 404);
}

/* Where a numeric field lands in a record: whether it is present, and its
 * value as a double (the times in seconds, sizes in bytes). */
static bool numeric_field(const struct log_record *r, enum logformat_field f, double *ret_v)
{
	switch (f) {
	case LOGFORMAT_FIELD_BYTES:
		*ret_v = (double)r->bytes_sent;
		return r->has_bytes;
	case LOGFORMAT_FIELD_REQUEST_LENGTH:
		*ret_v = (double)r->request_length;
		return r->has_request_length;
	case LOGFORMAT_FIELD_UPSTREAM_TIME:
		*ret_v = r->upstream_time;
		return r->has_upstream_time;
	case LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME:
		*ret_v = r->upstream_connect_time;
		return r->has_upstream_connect_time;
	case LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME:
		*ret_v = r->upstream_header_time;
		return r->has_upstream_header_time;
	default: /* TIME_S, TIME_MS, TIME_US */
		*ret_v = r->request_time;
		return r->has_request_time;
	}
}

static bool is_request_time(enum logformat_field f)
{
	return f == LOGFORMAT_FIELD_TIME_S || f == LOGFORMAT_FIELD_TIME_MS ||
	       f == LOGFORMAT_FIELD_TIME_US;
}

static bool is_list_field(enum logformat_field f)
{
	return f == LOGFORMAT_FIELD_UPSTREAM_TIME || f == LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME ||
	       f == LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME;
}

/* Sizes and times, one table: "-" and empty are absent; lists are summed
 * like $upstream_response_time, and a malformed or out-of-bounds list
 * after a good one leaves no partial value; values no server writes are
 * absent, values exactly at a bound are kept.  A NULL text is 400 digits.
 * Every row moves its own field only. */
static void t_numeric_fields(void **state)
{
	static const struct {
		enum logformat_field f;
		const char *s;
		bool has;
		double v; /* seconds, or bytes */
	} rows[] = {
	    {LOGFORMAT_FIELD_REQUEST_LENGTH, "512", true, 512},
	    {LOGFORMAT_FIELD_REQUEST_LENGTH, "0", true, 0},
	    {LOGFORMAT_FIELD_REQUEST_LENGTH, "-", false, 0},
	    {LOGFORMAT_FIELD_REQUEST_LENGTH, "", false, 0},
	    {LOGFORMAT_FIELD_REQUEST_LENGTH, "12a", false, 0},
	    {LOGFORMAT_FIELD_REQUEST_LENGTH, "9007199254740992", true, 9007199254740992.0},
	    {LOGFORMAT_FIELD_REQUEST_LENGTH, "9007199254740993", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, "0.010, 0.020 : 0.005", true, 0.035},
	    {LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, "0.004", true, 0.004},
	    {LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, "-", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, "-, -", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, "", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, "0.1, x", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, "5000000, 5000000.001", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME, "0.100, - : 0.004", true, 0.104},
	    {LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME, "-", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME, "inf", false, 0},
	    {LOGFORMAT_FIELD_TIME_S, "10000000", true, 1e7},
	    {LOGFORMAT_FIELD_TIME_S, "10000000.000", true, 1e7},
	    {LOGFORMAT_FIELD_TIME_S, "9999999.999", true, 9999999.999},
	    {LOGFORMAT_FIELD_TIME_S, "10000000.001", false, 0},
	    {LOGFORMAT_FIELD_TIME_S, "1734162037.389", false, 0}, /* $msec mapped by mistake */
	    {LOGFORMAT_FIELD_TIME_S, NULL, false, 0},
	    {LOGFORMAT_FIELD_TIME_S, "inf", false, 0},
	    {LOGFORMAT_FIELD_TIME_S, "nan", false, 0},
	    {LOGFORMAT_FIELD_TIME_S, "1e300", false, 0},
	    {LOGFORMAT_FIELD_TIME_MS, "10000000000", true, 1e7},
	    {LOGFORMAT_FIELD_TIME_MS, "10000000001", false, 0},
	    {LOGFORMAT_FIELD_TIME_MS, NULL, false, 0},
	    {LOGFORMAT_FIELD_TIME_US, "10000000000000", true, 1e7},
	    {LOGFORMAT_FIELD_TIME_US, "10000000000001", false, 0},
	    {LOGFORMAT_FIELD_TIME_US, "18446744073709551615", false, 0},
	    {LOGFORMAT_FIELD_TIME_US, NULL, false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_TIME, "5000000, 5000000", true, 1e7},
	    {LOGFORMAT_FIELD_UPSTREAM_TIME, "5000000, - : 5000000.001", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_TIME, "10000001", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_TIME, "0.1, inf", false, 0},
	    {LOGFORMAT_FIELD_UPSTREAM_TIME, NULL, false, 0},
	    {LOGFORMAT_FIELD_BYTES, "9007199254740992", true, 9007199254740992.0},
	    {LOGFORMAT_FIELD_BYTES, "9007199254740993", false, 0},
	    {LOGFORMAT_FIELD_BYTES, "18446744073709551615", false, 0},
	    {LOGFORMAT_FIELD_BYTES, NULL, false, 0},
	};
	static const enum logformat_field all[] = {
	    LOGFORMAT_FIELD_BYTES,
	    LOGFORMAT_FIELD_REQUEST_LENGTH,
	    LOGFORMAT_FIELD_TIME_S,
	    LOGFORMAT_FIELD_UPSTREAM_TIME,
	    LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME,
	    LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME,
	};
	char digits[400];
	(void)state;
	memset(digits, '9', sizeof(digits));
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct log_record r;
		struct str_view req = {NULL, 0};
		const char *s = rows[i].s ? rows[i].s : digits;
		size_t n = rows[i].s ? strlen(rows[i].s) : sizeof(digits);
		double v;
		fieldconv_init(&r);
		/* a good list first: a bad one after it must leave nothing */
		if (is_list_field(rows[i].f)) {
			fieldconv_apply(&r, rows[i].f, "1", 1, &req);
		}
		fieldconv_apply(&r, rows[i].f, s, n, &req);
		bool has = numeric_field(&r, rows[i].f, &v);
		if (has != rows[i].has || (has && fabs(v - rows[i].v) > 1e-12) ||
		    (!has && v != 0) || !isfinite(v)) {
			fail_msg("row %zu '%.20s': has %d v %.17g", i, s, has, v);
		}
		if (rows[i].f == LOGFORMAT_FIELD_UPSTREAM_TIME && !has &&
		    r.upstream_attempts != 0) {
			fail_msg("row %zu: partial upstream sum left", i);
		}
		for (size_t k = 0; k < ARRAY_SIZE(all); k++) {
			double other;
			bool same = all[k] == rows[i].f || (all[k] == LOGFORMAT_FIELD_TIME_S &&
			                                    is_request_time(rows[i].f));
			if (!same && numeric_field(&r, all[k], &other)) {
				fail_msg("row %zu moved another field (%d)", i, (int)all[k]);
			}
		}
	}
}

/* A time out of bounds is absent, and then not "the first value". */
static void t_bounds_first_wins(void **state)
{
	(void)state;
	/* an absent (out-of-bounds) time is not "the first value": the next wins */
	struct log_record r;
	fieldconv_init(&r);
	apply(&r, LOGFORMAT_FIELD_TIME_US, "99999999999999");
	assert_false(r.has_request_time);
	apply(&r, LOGFORMAT_FIELD_TIME_S, "0.5");
	assert_true(r.has_request_time);
	assert_true(r.request_time == 0.5);
	/* a bad upstream list after a good one leaves nothing behind */
	apply(&r, LOGFORMAT_FIELD_UPSTREAM_TIME, "0.1");
	assert_true(r.has_upstream_time);
	apply(&r, LOGFORMAT_FIELD_UPSTREAM_TIME, "99999999");
	assert_false(r.has_upstream_time);
	assert_int_equal(r.upstream_attempts, 0);
}

/* Dedicated method/path/protocol fields win over the split request line. */
static void t_finish_prefers_dedicated(void **state)
{
	struct log_record r;
	struct str_view req = {NULL, 0};
	static const char line[] = "GET /from-request HTTP/1.1";
	(void)state;

	fieldconv_init(&r);
	fieldconv_apply(&r, LOGFORMAT_FIELD_REQUEST, line, strlen(line), &req);
	fieldconv_apply(&r, LOGFORMAT_FIELD_PATH, "/dedicated", 10, &req);
	fieldconv_finish(&r, req);
	assert_memory_equal(r.method.ptr, "GET", 3);
	assert_int_equal(r.path.len, 10);
	assert_memory_equal(r.path.ptr, "/dedicated", 10);
	assert_int_equal(r.protocol.len, 8);

	fieldconv_init(&r);
	fieldconv_finish(&r, (struct str_view){NULL, 0});
	assert_int_equal(r.method.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_split_request),     cmocka_unit_test(t_method_bytes),
	    cmocka_unit_test(t_apply_rules),       cmocka_unit_test(t_apply_inline),
	    cmocka_unit_test(t_trace_ids),         cmocka_unit_test(t_numeric_fields),
	    cmocka_unit_test(t_bounds_first_wins), cmocka_unit_test(t_finish_prefers_dedicated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
