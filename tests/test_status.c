/*
 * test_status.c - unit tests for parsers/status.c, the status-code catalogue.
 *
 * The expected[] table below was written separately from the catalogue in
 * parsers/status.c (code, class, a substring of the reason, origin), and the
 * tests check it in both directions: every expected code is catalogued with
 * those values, and every catalogue row is expected, so a row cannot be
 * added, dropped or re-attributed without a test change.  The remaining
 * tests cover table order, description hygiene (single line, UTF-8, no
 * copied reference sentences), the text-to-slot parser and the labels of
 * every one of the 501 slots.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/status.h"

struct expected_code {
	unsigned code;
	const char *klass;
	const char *reason_part; /* must occur in the reason phrase */
	const char *origin;
};

static const struct expected_code expected[] = {
    {100, "1xx", "Continue", "iana"},
    {101, "1xx", "Switching Protocols", "iana"},
    {102, "1xx", "Processing", "iana"},
    {103, "1xx", "Early Hints", "iana"},
    {200, "2xx", "OK", "iana"},
    {201, "2xx", "Created", "iana"},
    {202, "2xx", "Accepted", "iana"},
    {203, "2xx", "Non-Authoritative", "iana"},
    {204, "2xx", "No Content", "iana"},
    {205, "2xx", "Reset Content", "iana"},
    {206, "2xx", "Partial Content", "iana"},
    {207, "2xx", "Multi-Status", "iana"},
    {208, "2xx", "Already Reported", "iana"},
    {218, "2xx", "This is fine", "apache"},
    {226, "2xx", "IM Used", "iana"},
    {300, "3xx", "Multiple Choices", "iana"},
    {301, "3xx", "Moved Permanently", "iana"},
    {302, "3xx", "Found", "iana"},
    {303, "3xx", "See Other", "iana"},
    {304, "3xx", "Not Modified", "iana"},
    {305, "3xx", "Use Proxy", "iana"},
    {306, "3xx", "Unused", "iana"},
    {307, "3xx", "Temporary Redirect", "iana"},
    {308, "3xx", "Permanent Redirect", "iana"},
    {400, "4xx", "Bad Request", "iana"},
    {401, "4xx", "Unauthorized", "iana"},
    {402, "4xx", "Payment Required", "iana"},
    {403, "4xx", "Forbidden", "iana"},
    {404, "4xx", "Not Found", "iana"},
    {405, "4xx", "Method Not Allowed", "iana"},
    {406, "4xx", "Not Acceptable", "iana"},
    {407, "4xx", "Proxy Authentication", "iana"},
    {408, "4xx", "Request Timeout", "iana"},
    {409, "4xx", "Conflict", "iana"},
    {410, "4xx", "Gone", "iana"},
    {411, "4xx", "Length Required", "iana"},
    {412, "4xx", "Precondition Failed", "iana"},
    {413, "4xx", "Content Too Large", "iana"},
    {414, "4xx", "URI Too Long", "iana"},
    {415, "4xx", "Unsupported Media Type", "iana"},
    {416, "4xx", "Range Not Satisfiable", "iana"},
    {417, "4xx", "Expectation Failed", "iana"},
    {418, "4xx", "teapot", "iana"},
    {419, "4xx", "Page Expired", "laravel"},
    {420, "4xx", "Enhance Your Calm", "twitter"},
    {421, "4xx", "Misdirected Request", "iana"},
    {422, "4xx", "Unprocessable Content", "iana"},
    {423, "4xx", "Locked", "iana"},
    {424, "4xx", "Failed Dependency", "iana"},
    {425, "4xx", "Too Early", "iana"},
    {426, "4xx", "Upgrade Required", "iana"},
    {428, "4xx", "Precondition Required", "iana"},
    {429, "4xx", "Too Many Requests", "iana"},
    {430, "4xx", "Security Rejection", "shopify"},
    {431, "4xx", "Request Header Fields Too Large", "iana"},
    {440, "4xx", "Login Time-out", "microsoft"},
    {444, "4xx", "No Response", "nginx"},
    {449, "4xx", "Retry With", "microsoft"},
    {450, "4xx", "Parental Controls", "microsoft"},
    {451, "4xx", "Unavailable For Legal Reasons", "iana"},
    {460, "4xx", "Client Closed Connection", "aws"},
    {463, "4xx", "Forwarded IPs", "aws"},
    {464, "4xx", "Incompatible Protocol", "aws"},
    {494, "4xx", "Header Too Large", "nginx"},
    {495, "4xx", "SSL Certificate Error", "nginx"},
    {496, "4xx", "SSL Certificate Required", "nginx"},
    {497, "4xx", "HTTP Request Sent to HTTPS Port", "nginx"},
    {498, "4xx", "Invalid Token", "esri"},
    {499, "4xx", "Client Closed Request", "nginx"},
    {500, "5xx", "Internal Server Error", "iana"},
    {501, "5xx", "Not Implemented", "iana"},
    {502, "5xx", "Bad Gateway", "iana"},
    {503, "5xx", "Service Unavailable", "iana"},
    {504, "5xx", "Gateway Timeout", "iana"},
    {505, "5xx", "HTTP Version Not Supported", "iana"},
    {506, "5xx", "Variant Also Negotiates", "iana"},
    {507, "5xx", "Insufficient Storage", "iana"},
    {508, "5xx", "Loop Detected", "iana"},
    {509, "5xx", "Bandwidth Limit Exceeded", "apache"},
    {510, "5xx", "Not Extended", "iana"},
    {511, "5xx", "Network Authentication Required", "iana"},
    {520, "5xx", "Unknown Error", "cloudflare"},
    {521, "5xx", "Web Server Is Down", "cloudflare"},
    {522, "5xx", "Connection Timed Out", "cloudflare"},
    {523, "5xx", "Origin Is Unreachable", "cloudflare"},
    {524, "5xx", "A Timeout Occurred", "cloudflare"},
    {525, "5xx", "SSL Handshake Failed", "cloudflare"},
    {526, "5xx", "Invalid SSL Certificate", "cloudflare"},
    {527, "5xx", "Railgun", "cloudflare"},
    {530, "5xx", "Origin", "cloudflare"},
    {561, "5xx", "Unauthorized", "aws"},
    {598, "5xx", "Network Read Timeout", "unofficial"},
    {599, "5xx", "Network Connect Timeout", "unofficial"},
};

#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

/* Every code listed in the seed reference page (restapitutorial.com's HTTP
 * status code list); each must be catalogued. */
static const unsigned seed_codes[] = {
    100, 101, 102, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304,
    305, 306, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413,
    414, 415, 416, 417, 418, 420, 422, 423, 424, 425, 426, 428, 429, 431, 444, 449, 450, 451,
    499, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511, 598, 599,
};

/* A few sentences of the seed reference text (restapitutorial.com, from the
 * IETF RFCs and Wikipedia, CC BY-SA 4.0) quoted as a check set: no
 * description may contain any 40-character run of them. */
static const char *const seed_sentences[] = {
    "An Nginx HTTP server extension. This code is introduced to log the case when the "
    "connection is closed by client while HTTP server is processing its request, making "
    "server unable to send the HTTP header back.",
    "An Nginx HTTP server extension. The server returns no information to the client and "
    "closes the connection (useful as a deterrent for malware).",
    "This status code is not specified in any RFCs, but is used by some HTTP proxies to "
    "signal a network read timeout behind the proxy to a client in front of the proxy.",
    "Returned by the Twitter Search and Trends API when the client is being rate limited.",
    "A Microsoft extension. This error is given when Windows Parental Controls are turned on "
    "and are blocking access to the given webpage.",
    "Intended to be used when resource access is denied for legal reasons, e.g. censorship "
    "or government-mandated blocked access.",
    "The user has sent too many requests in a given amount of time. Intended for use with "
    "rate limiting schemes.",
    "The request was well-formed but was unable to be followed due to semantic errors.",
    "The server is unwilling to process the request because either an individual header "
    "field, or all the header fields collectively, are too large.",
    "Standard response for successful HTTP requests. The actual response will depend on the "
    "request method used.",
    "The requested resource could not be found but may be available again in the future.",
    "The client needs to authenticate to gain network access.",
    "The server was acting as a gateway or proxy and did not receive a timely response from "
    "the upstream server.",
    "This code was defined in 1998 as one of the traditional IETF April Fools' jokes, in RFC "
    "2324, Hyper Text Coffee Pot Control Protocol, and is not expected to be implemented by "
    "actual HTTP servers.",
};

#define COPY_RUN 40

/* Lower-case and collapse whitespace runs so reflowed copies still match. */
static size_t normalise(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	bool space = false;

	for (; *in != '\0' && n + 1 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		if (isspace(c)) {
			space = true;
			continue;
		}
		if (space && n > 0) {
			out[n++] = ' ';
			if (n + 1 >= cap) {
				break;
			}
		}
		space = false;
		out[n++] = (char)tolower(c);
	}
	out[n] = '\0';
	return n;
}

static bool is_valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != 0) {
		size_t extra;
		uint32_t cp;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			extra = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			extra = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			extra = 3;
			cp = *p & 0x07;
		} else {
			return false;
		}
		for (size_t i = 1; i <= extra; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* reject overlong forms, surrogates and values past U+10FFFF */
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		    (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff)) {
			return false;
		}
		p += extra + 1;
	}
	return true;
}

/* true when text is one line of printable characters with no leading or
 * trailing whitespace and no double spaces. */
static bool is_clean_line(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || s[0] == ' ' || s[len - 1] == ' ' || strstr(s, "  ") != NULL) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			return false;
		}
	}
	return is_valid_utf8(s);
}

static bool is_lower_word(const char *s)
{
	if (*s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (*s < 'a' || *s > 'z') {
			return false;
		}
	}
	return true;
}

static const struct expected_code *find_expected(unsigned code)
{
	for (size_t i = 0; i < N_EXPECTED; i++) {
		if (expected[i].code == code) {
			return &expected[i];
		}
	}
	return NULL;
}

static void t_expected_codes_catalogued(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_EXPECTED; i++) {
		const struct expected_code *e = &expected[i];
		const struct status_info *row = status_lookup(e->code);
		unsigned slot = status_slot_from_code(e->code);
		char label[8];

		print_message("# code %u\n", e->code);
		assert_non_null(row);
		assert_int_equal(row->code, e->code);
		assert_non_null(strstr(row->reason, e->reason_part));
		assert_string_equal(row->origin, e->origin);
		assert_int_equal(slot, e->code - 100);
		assert_string_equal(status_slot_class(slot), e->klass);
		assert_ptr_equal(status_slot_reason(slot), row->reason);
		assert_ptr_equal(status_slot_origin(slot), row->origin);
		assert_ptr_equal(status_slot_description(slot), row->description);
		assert_true(snprintf(label, sizeof(label), "%u", e->code) == 3);
		assert_string_equal(status_slot_code(slot), label);
	}
}

static void t_catalog_rows_all_expected(void **state)
{
	(void)state;
	assert_int_equal(status_catalog_size(), N_EXPECTED);
	for (size_t i = 0; i < status_catalog_size(); i++) {
		const struct status_info *row = status_catalog_row(i);

		assert_non_null(row);
		print_message("# row %zu code %u\n", i, row->code);
		assert_non_null(find_expected(row->code));
	}
}

static void t_seed_codes_present(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(seed_codes) / sizeof(seed_codes[0]); i++) {
		print_message("# seed code %u\n", seed_codes[i]);
		assert_non_null(status_lookup(seed_codes[i]));
	}
}

static void t_specific_choices(void **state)
{
	(void)state;
	/* RFC 9110 phrases win over the older ones in the seed page */
	assert_string_equal(status_lookup(413)->reason, "Content Too Large");
	assert_string_equal(status_lookup(414)->reason, "URI Too Long");
	assert_string_equal(status_lookup(416)->reason, "Range Not Satisfiable");
	assert_string_equal(status_lookup(422)->reason, "Unprocessable Content");
	assert_string_equal(status_lookup(425)->reason, "Too Early");
	assert_string_equal(status_lookup(306)->reason, "(Unused)");
	assert_string_equal(status_lookup(418)->reason, "I'm a teapot");
	assert_string_equal(status_lookup(404)->reference, "RFC 9110");
	assert_string_equal(status_lookup(207)->reference, "RFC 4918 (WebDAV)");
	assert_string_equal(status_lookup(429)->reference, "RFC 6585");
	assert_string_equal(status_lookup(451)->reference, "RFC 7725");
	assert_string_equal(status_lookup(103)->reference, "RFC 8297");
	assert_string_equal(status_lookup(425)->reference, "RFC 8470");
	/* collisions: the losing owner is named in the description */
	assert_non_null(strstr(status_lookup(306)->description, "Switch Proxy"));
	assert_non_null(strstr(status_lookup(418)->description, "2324"));
	assert_non_null(strstr(status_lookup(420)->description, "Method Failure"));
	assert_non_null(strstr(status_lookup(451)->description, "IIS"));
	assert_non_null(strstr(status_lookup(499)->description, "ArcGIS"));
	assert_non_null(strstr(status_lookup(425)->description, "WebDAV"));
}

static void t_table_sorted_unique(void **state)
{
	size_t n = status_catalog_size();

	(void)state;
	assert_true(n > 0);
	assert_null(status_catalog_row(n));
	assert_null(status_catalog_row(SIZE_MAX));
	for (size_t i = 0; i < n; i++) {
		const struct status_info *row = status_catalog_row(i);

		assert_in_range(row->code, STATUS_CODE_MIN, STATUS_CODE_MAX);
		if (i > 0) {
			/* strictly increasing: sorted and no duplicates */
			assert_true(status_catalog_row(i - 1)->code < row->code);
		}
		assert_ptr_equal(status_lookup(row->code), row);
	}
}

static void t_row_text_hygiene(void **state)
{
	(void)state;
	for (size_t i = 0; i < status_catalog_size(); i++) {
		const struct status_info *row = status_catalog_row(i);
		size_t dlen;

		print_message("# code %u\n", row->code);
		assert_true(is_clean_line(row->reason));
		assert_true(is_clean_line(row->reference));
		assert_true(is_clean_line(row->description));
		assert_true(is_lower_word(row->origin));
		/* one sentence: ends with a full stop, long enough to say something */
		dlen = strlen(row->description);
		assert_true(dlen >= 40);
		assert_int_equal(row->description[dlen - 1], '.');
	}
	assert_true(is_clean_line(status_slot_description(299 - 100)));
	assert_true(is_clean_line(status_slot_description(STATUS_SLOT_INVALID)));
}

/* Offset of the first COPY_RUN-byte run of seed_norm found in desc_norm,
 * or SIZE_MAX when there is none. */
static size_t find_copy(const char *desc_norm, const char *seed_norm)
{
	size_t slen = strlen(seed_norm);
	char run[COPY_RUN + 1];

	for (size_t i = 0; i + COPY_RUN <= slen; i++) {
		memcpy(run, seed_norm + i, COPY_RUN);
		run[COPY_RUN] = '\0';
		if (strstr(desc_norm, run) != NULL) {
			return i;
		}
	}
	return SIZE_MAX;
}

static void t_descriptions_not_copied(void **state)
{
	char seed_norm[512];
	char desc_norm[512];

	(void)state;
	/* self-check: the detector does find a verbatim copy */
	normalise(seed_sentences[0], seed_norm, sizeof(seed_norm));
	normalise("Note: the connection is closed by client while HTTP server is processing its "
	          "request.",
	          desc_norm, sizeof(desc_norm));
	assert_int_not_equal(find_copy(desc_norm, seed_norm), SIZE_MAX);

	for (size_t i = 0; i < status_catalog_size(); i++) {
		const struct status_info *row = status_catalog_row(i);

		normalise(row->description, desc_norm, sizeof(desc_norm));
		for (size_t j = 0; j < sizeof(seed_sentences) / sizeof(seed_sentences[0]); j++) {
			normalise(seed_sentences[j], seed_norm, sizeof(seed_norm));
			size_t at = find_copy(desc_norm, seed_norm);

			if (at != SIZE_MAX) {
				fail_msg("description of %u copies seed sentence %zu: \"%.*s\"",
				         row->code, j, COPY_RUN, seed_norm + at);
			}
		}
	}
}

struct text_case {
	const char *text;
	size_t len;
	unsigned slot;
};

#define TC(s, slot)                                                                                \
	{                                                                                          \
		s, sizeof(s) - 1, slot                                                             \
	}

static const struct text_case text_cases[] = {
    TC("100", 0),
    TC("200", 100),
    TC("404", 304),
    TC("499", 399),
    TC("599", 499),
    TC("150", 50),
    TC("299", 199),
    TC("0", STATUS_SLOT_INVALID),
    TC("000", STATUS_SLOT_INVALID),
    TC("099", STATUS_SLOT_INVALID),
    TC("600", STATUS_SLOT_INVALID),
    TC("650", STATUS_SLOT_INVALID),
    TC("699", STATUS_SLOT_INVALID),
    TC("999", STATUS_SLOT_INVALID),
    TC("1000", STATUS_SLOT_INVALID),
    TC("2000", STATUS_SLOT_INVALID),
    TC("20", STATUS_SLOT_INVALID),
    TC("-", STATUS_SLOT_INVALID),
    TC("", STATUS_SLOT_INVALID),
    TC(" 200", STATUS_SLOT_INVALID),
    TC("200 ", STATUS_SLOT_INVALID),
    TC(" 20", STATUS_SLOT_INVALID),
    TC("20 ", STATUS_SLOT_INVALID),
    TC("2OO", STATUS_SLOT_INVALID),
    TC("2O0", STATUS_SLOT_INVALID),
    TC("+20", STATUS_SLOT_INVALID),
    TC("-20", STATUS_SLOT_INVALID),
    TC("0x1", STATUS_SLOT_INVALID),
    TC("1e2", STATUS_SLOT_INVALID),
    TC("/00", STATUS_SLOT_INVALID), /* '/' is '0' - 1 */
    TC("2:0", STATUS_SLOT_INVALID), /* ':' is '9' + 1 */
    TC("20:", STATUS_SLOT_INVALID),
    TC("\xd9\xa2\xd9\xa0", STATUS_SLOT_INVALID), /* Arabic-Indic digits */
    TC("\xb2\xb0\xb0", STATUS_SLOT_INVALID),     /* Latin-1 superscripts */
    TC("20\0", STATUS_SLOT_INVALID),
    TC("\0"
       "20",
       STATUS_SLOT_INVALID),
};

static void t_slot_from_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		const struct text_case *c = &text_cases[i];

		print_message("# case %zu\n", i);
		assert_int_equal(status_slot_from_text(c->text, c->len), c->slot);
	}
	/* only len bytes are read: a longer buffer is cut at len */
	assert_int_equal(status_slot_from_text("404 1234", 3), 304);
	assert_int_equal(status_slot_from_text("5031", 3), 403);
	assert_int_equal(status_slot_from_text("404", 2), STATUS_SLOT_INVALID);
	assert_int_equal(status_slot_from_text(NULL, 0), STATUS_SLOT_INVALID);
	assert_int_equal(status_slot_from_text(NULL, 3), STATUS_SLOT_INVALID);
	assert_int_equal(status_slot_from_text("200", SIZE_MAX), STATUS_SLOT_INVALID);
}

static void t_slot_from_text_exhaustive(void **state)
{
	char buf[3];

	(void)state;
	/* every 3-byte string over the interesting bytes: digits, their
	 * neighbours and a few letters */
	static const char alphabet[] = "/0123456789:Oo -+\xff";
	for (size_t a = 0; a < sizeof(alphabet) - 1; a++) {
		for (size_t b = 0; b < sizeof(alphabet) - 1; b++) {
			for (size_t c = 0; c < sizeof(alphabet) - 1; c++) {
				bool digits;
				unsigned want;

				buf[0] = alphabet[a];
				buf[1] = alphabet[b];
				buf[2] = alphabet[c];
				digits = isdigit((unsigned char)buf[0]) &&
				         isdigit((unsigned char)buf[1]) &&
				         isdigit((unsigned char)buf[2]);
				want = STATUS_SLOT_INVALID;
				if (digits && buf[0] >= '1' && buf[0] <= '5') {
					want = (unsigned)((buf[0] - '0') * 100 +
					                  (buf[1] - '0') * 10 + (buf[2] - '0')) -
					       100;
				}
				assert_int_equal(status_slot_from_text(buf, 3), want);
			}
		}
	}
}

static void t_slot_from_code(void **state)
{
	static const struct {
		unsigned code;
		unsigned slot;
	} cases[] = {
	    {0, STATUS_SLOT_INVALID},
	    {1, STATUS_SLOT_INVALID},
	    {99, STATUS_SLOT_INVALID},
	    {100, 0},
	    {101, 1},
	    {404, 304},
	    {599, 499},
	    {600, STATUS_SLOT_INVALID},
	    {1000, STATUS_SLOT_INVALID},
	    {UINT_MAX, STATUS_SLOT_INVALID},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(status_slot_from_code(cases[i].code), cases[i].slot);
	}
}

static void t_every_slot_labels(void **state)
{
	(void)state;
	for (unsigned slot = 0; slot < STATUS_SLOT_INVALID; slot++) {
		unsigned code = slot + 100;
		char want_code[8];
		char want_class[4] = {(char)('0' + code / 100), 'x', 'x', '\0'};
		const char *label = status_slot_code(slot);

		assert_true(snprintf(want_code, sizeof(want_code), "%u", code) == 3);
		assert_string_equal(label, want_code);
		assert_string_equal(status_slot_class(slot), want_class);
		/* the label parses back to its own slot */
		assert_int_equal(status_slot_from_text(label, strlen(label)), slot);
		/* static storage: the same pointer on every call */
		assert_ptr_equal(status_slot_code(slot), label);
		assert_non_null(status_slot_reason(slot));
		assert_non_null(status_slot_origin(slot));
		assert_true(strlen(status_slot_description(slot)) > 0);
		if (status_lookup(code) == NULL) {
			assert_string_equal(status_slot_reason(slot), "Unassigned");
			assert_string_equal(status_slot_origin(slot), "unassigned");
		}
	}
}

static void t_unassigned(void **state)
{
	/* 599 and 598 are catalogued (proxy timeouts), so they are not here */
	static const unsigned codes[] = {104, 199, 209, 250, 299, 309, 399,
	                                 427, 432, 443, 512, 528, 550, 597};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		unsigned slot = status_slot_from_code(codes[i]);

		print_message("# code %u\n", codes[i]);
		assert_null(status_lookup(codes[i]));
		assert_int_not_equal(slot, STATUS_SLOT_INVALID);
		assert_string_equal(status_slot_reason(slot), "Unassigned");
		assert_string_equal(status_slot_origin(slot), "unassigned");
		assert_string_not_equal(status_slot_code(slot), "invalid");
		assert_string_equal(status_slot_description(slot),
		                    status_slot_description(status_slot_from_code(299)));
	}
	assert_null(status_lookup(0));
	assert_null(status_lookup(99));
	assert_null(status_lookup(600));
	assert_null(status_lookup(UINT_MAX));
	assert_non_null(status_lookup(599));
	assert_string_equal(status_slot_origin(status_slot_from_code(599)), "unofficial");
}

static void t_invalid_slot(void **state)
{
	static const unsigned slots[] = {STATUS_SLOT_INVALID, STATUS_SLOTS, 1000, UINT_MAX};

	(void)state;
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		unsigned slot = slots[i];

		assert_string_equal(status_slot_code(slot), "invalid");
		assert_string_equal(status_slot_class(slot), "invalid");
		assert_string_equal(status_slot_reason(slot), "Invalid");
		assert_string_equal(status_slot_origin(slot), "invalid");
		assert_true(strlen(status_slot_description(slot)) > 0);
		assert_string_not_equal(status_slot_description(slot),
		                        status_slot_description(status_slot_from_code(299)));
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void t_distinct_code_labels(void **state)
{
	const char *labels[STATUS_SLOTS];
	size_t distinct = 1;

	(void)state;
	assert_int_equal(STATUS_SLOTS, STATUS_SLOT_INVALID + 1);
	assert_int_equal(STATUS_SLOT_INVALID, STATUS_CODE_MAX - STATUS_CODE_MIN + 1);
	for (unsigned slot = 0; slot < STATUS_SLOTS; slot++) {
		labels[slot] = status_slot_code(slot);
	}
	qsort(labels, STATUS_SLOTS, sizeof(labels[0]), cmp_str);
	for (size_t i = 1; i < STATUS_SLOTS; i++) {
		if (strcmp(labels[i - 1], labels[i]) != 0) {
			distinct++;
		}
	}
	assert_int_equal(distinct, 501);
	/* out-of-range slots add no new label */
	assert_string_equal(status_slot_code(STATUS_SLOTS + 7), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_expected_codes_catalogued),
	    cmocka_unit_test(t_catalog_rows_all_expected),
	    cmocka_unit_test(t_seed_codes_present),
	    cmocka_unit_test(t_specific_choices),
	    cmocka_unit_test(t_table_sorted_unique),
	    cmocka_unit_test(t_row_text_hygiene),
	    cmocka_unit_test(t_descriptions_not_copied),
	    cmocka_unit_test(t_slot_from_text),
	    cmocka_unit_test(t_slot_from_text_exhaustive),
	    cmocka_unit_test(t_slot_from_code),
	    cmocka_unit_test(t_every_slot_labels),
	    cmocka_unit_test(t_unassigned),
	    cmocka_unit_test(t_invalid_slot),
	    cmocka_unit_test(t_distinct_code_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
