/*
 * fieldconv.c - field text -> record members (see fieldconv.h).
 *
 * No allocation, no copies: every string member is a view into the text it
 * came from.  Rejected: decoding %XX or \xHH in paths here; the exporter
 * only needs method/status/vhost and decoding would need scratch space.
 */
#include "parsers/fieldconv.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "parsers/numparse.h"
#include "parsers/status.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define METHOD_MAX 32u

void fieldconv_init(struct log_record *r)
{
	/* extra[] is written by the parser for its n_extra entries only.
	 * Member by member, not memset: gcc turns a memset of this size into
	 * "rep stos", whose start-up cost made this 7% of a combined line's
	 * time (perf); plain stores merge into a few vector stores. */
	r->status_slot = STATUS_SLOT_INVALID;
	r->method = (struct str_view){NULL, 0};
	r->path = (struct str_view){NULL, 0};
	r->protocol = (struct str_view){NULL, 0};
	r->vhost = (struct str_view){NULL, 0};
	r->remote_addr = (struct str_view){NULL, 0};
	r->bytes_sent = 0;
	r->request_time = 0;
	r->upstream_time = 0;
	r->upstream_attempts = 0;
	r->request_length = 0;
	r->upstream_connect_time = 0;
	r->upstream_header_time = 0;
	r->upstream_status_slot = STATUS_SLOT_INVALID;
	r->log_time = (struct str_view){NULL, 0};
	r->log_time_fmt = NULL;
	r->log_time_form = 0;
	r->trace_id = (struct str_view){NULL, 0};
	r->trace_kind = LOG_TRACE_NONE;
	r->has_bytes = false;
	r->has_request_time = false;
	r->has_upstream_time = false;
	r->has_upstream_status = false;
	r->has_request_length = false;
	r->has_upstream_connect_time = false;
	r->has_upstream_header_time = false;
	r->n_extra = 0;
}

/* [A-Za-z0-9_-]: one load per byte of the method, not five range tests. */
#define M4(c) [c] = 1, [c + 1] = 1, [c + 2] = 1, [c + 3] = 1
#define M8(c) M4(c), M4(c + 4)
static const bool method_char[256] = {
    M8('0'),   ['8'] = 1, ['9'] = 1, ['-'] = 1, ['_'] = 1, M8('A'),   M8('I'),   M8('Q'),
    ['Y'] = 1, ['Z'] = 1, M8('a'),   M8('i'),   M8('q'),   ['y'] = 1, ['z'] = 1,
};
#undef M8
#undef M4

static bool is_method_char(char c)
{
	return method_char[(unsigned char)c];
}

#if defined(__SSE2__) && defined(__GNUC__)
/* Bit k: s[k] is not a method byte, for the 16 bytes at s.  The signed
 * compares put bytes >= 0x80 in no range; v | 0x20 folds only A-Z onto
 * a-z.  Branch-free: the byte loop's exit, at a method length that
 * changes from line to line (GET, POST, HEAD), was mispredicted. */
static inline unsigned non_method16(const char *s)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i low = _mm_or_si128(v, _mm_set1_epi8(0x20));
	__m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(low, _mm_set1_epi8('a' - 1)),
	                              _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), low));
	__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
	                              _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), v));
	__m128i other = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')),
	                             _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
	__m128i ok = _mm_or_si128(_mm_or_si128(alpha, digit), other);
	return ~(unsigned)_mm_movemask_epi8(ok) & 0xffffu;
}
#endif

/* "METHOD SP target [SP HTTP/x]" -> fields; anything else leaves them empty.
 * Extra blanks between the parts are tolerated (NASA, nextcloud lines).
 * Inline in fieldconv_finish: its out-params stay in registers. */
static inline void split_request(const char *s, size_t n, struct str_view *method,
                                 struct str_view *path, struct str_view *protocol)
{
	size_t m = 0, mmax = n < METHOD_MAX + 1 ? n : METHOD_MAX + 1;

#if defined(__SSE2__) && defined(__GNUC__)
	if (n >= 16) {
		/* the first non-method byte of the first 16, the loop below then
		 * stops at once; 16 method bytes: it goes on from there */
		unsigned bad = non_method16(s);
		m = bad != 0 ? (size_t)__builtin_ctz(bad) : 16;
	}
#endif
	while (m < mmax && is_method_char(s[m])) {
		m++;
	}
	if (m == 0 || m > METHOD_MAX || m >= n || s[m] != ' ') {
		return;
	}
	size_t start = m;
	while (start < n && s[start] == ' ') {
		start++;
	}
	size_t end = n;
	while (end > start && s[end - 1] == ' ') {
		end--;
	}
	if (start == end) {
		return;
	}
	*method = (struct str_view){s, m};
	size_t sp = end;
	/* nearly every request ends in " HTTP/x.y": take that space directly
	 * (the same space the loop below finds: "HTTP/x.y" has none) */
	if (end - start > 9 && s[end - 9] == ' ' && memcmp(s + end - 8, "HTTP/", 5) == 0 &&
	    s[end - 3] != ' ' && s[end - 2] != ' ' && s[end - 1] != ' ') {
		sp = end - 8;
	} else {
		while (sp > start && s[sp - 1] != ' ') {
			sp--;
		}
	}
	if (sp > start && end - sp > 5 && memcmp(s + sp, "HTTP/", 5) == 0) {
		*protocol = (struct str_view){s + sp, end - sp};
		end = sp;
		while (end > start && s[end - 1] == ' ') {
			end--;
		}
	}
	*path = (struct str_view){s + start, end - start};
}

void fieldconv_split_request(const char *s, size_t n, struct str_view *method,
                             struct str_view *path, struct str_view *protocol)
{
	split_request(s, n, method, path, protocol);
}

static bool is_dash(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '-');
}

/* A duration no server can have logged (see fieldconv.h).  The negated
 * compare also catches a NaN, although numparse never returns one. */
static bool time_out_of_bounds(double v)
{
	return !(v <= FIELDCONV_TIME_MAX);
}

static void set_time(struct log_record *r, const char *s, size_t n, unsigned scale)
{
	double v;
	if (!r->has_request_time && numparse_decimal(s, n, scale, &v) == 0 &&
	    !time_out_of_bounds(v)) {
		r->request_time = v;
		r->has_request_time = true;
	}
}

/* An id fit for an exemplar label value: 1-FIELDCONV_TRACE_MAX ASCII bytes
 * above the blank (ids are), not "-". */
static bool id_ok(const char *s, size_t n)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
	size_t i = 0;

	if (n == 0 || n > FIELDCONV_TRACE_MAX || is_dash(s, n)) {
		return false;
	}
	/* Eight bytes at a time: a byte >= 0x80, or below 0x21 (the classic
	 * "has a byte less than" test, exact when no byte has its high bit). */
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if ((w & highs) || ((w - ones * 0x21) & ~w & highs)) {
			return false;
		}
	}
	for (; i < n; i++) {
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x80) {
			return false;
		}
	}
	return true;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

/* The first id of a line wins; a traceparent gives its trace id
 * ("00-<32 hex>-<16 hex>-<2 hex>"), anything else in it is ignored. */
static void set_trace(struct log_record *r, enum logformat_field f, const char *s, size_t n)
{
	if (r->trace_kind) {
		return;
	}
	if (f == LOGFORMAT_FIELD_TRACEPARENT) {
		if (n < 55 || s[2] != '-' || s[35] != '-' || !is_hex(s + 3, 32)) {
			return;
		}
		s += 3;
		n = 32;
	}
	if (id_ok(s, n)) {
		r->trace_id = (struct str_view){s, n};
		r->trace_kind =
		    f == LOGFORMAT_FIELD_REQUEST_ID ? LOG_TRACE_REQUEST_ID : LOG_TRACE_TRACE_ID;
	}
}

/* A list of upstream times ("0.010, 0.020 : 0.005"), summed like
 * $upstream_response_time: absent (and no partial sum left) when no entry
 * is a number ("-"), an entry is malformed or the sum is out of bounds. */
static void set_time_list(const char *s, size_t n, double *ret, bool *has)
{
	double v;
	unsigned k;

	*has = numparse_decimal_list(s, n, &v, &k) == 0 && k > 0 && !time_out_of_bounds(v);
	*ret = *has ? v : 0;
}

void fieldconv_apply(struct log_record *r, enum logformat_field f, const char *s, size_t n,
                     struct str_view *request)
{
	fieldconv_apply_inline(r, f, s, n, request);
}

void fieldconv_apply_rest(struct log_record *r, enum logformat_field f, const char *s, size_t n,
                          struct str_view *request)
{
	uint64_t u;
	const char *last;
	size_t last_len;

	(void)request;
	switch (f) {
	case LOGFORMAT_FIELD_NONE:
	case LOGFORMAT_FIELD_COUNT:
	/* written by fieldconv_apply_inline (fieldconv.h) */
	case LOGFORMAT_FIELD_STATUS:
	case LOGFORMAT_FIELD_REQUEST:
	case LOGFORMAT_FIELD_REMOTE_ADDR:
	case LOGFORMAT_FIELD_BYTES:
	case LOGFORMAT_FIELD_LOGTIME_CLF:
		break;
	case LOGFORMAT_FIELD_METHOD:
		r->method = is_dash(s, n) ? (struct str_view){NULL, 0} : (struct str_view){s, n};
		break;
	case LOGFORMAT_FIELD_PATH:
		r->path = is_dash(s, n) ? (struct str_view){NULL, 0} : (struct str_view){s, n};
		break;
	case LOGFORMAT_FIELD_PROTOCOL:
		r->protocol = is_dash(s, n) ? (struct str_view){NULL, 0} : (struct str_view){s, n};
		break;
	case LOGFORMAT_FIELD_VHOST:
		r->vhost = is_dash(s, n) ? (struct str_view){NULL, 0} : (struct str_view){s, n};
		break;
	case LOGFORMAT_FIELD_TIME_S:
		set_time(r, s, n, 0);
		break;
	case LOGFORMAT_FIELD_TIME_MS:
		set_time(r, s, n, 3);
		break;
	case LOGFORMAT_FIELD_TIME_US:
		set_time(r, s, n, 6);
		break;
	case LOGFORMAT_FIELD_UPSTREAM_TIME:
		/* the bound applies to the sum: one request's upstream time */
		if (numparse_decimal_list(s, n, &r->upstream_time, &r->upstream_attempts) == 0 &&
		    !time_out_of_bounds(r->upstream_time)) {
			r->has_upstream_time = r->upstream_attempts > 0;
		} else {
			r->upstream_time = 0;
			r->upstream_attempts = 0;
			r->has_upstream_time = false;
		}
		break;
	case LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME:
		set_time_list(s, n, &r->upstream_connect_time, &r->has_upstream_connect_time);
		break;
	case LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME:
		set_time_list(s, n, &r->upstream_header_time, &r->has_upstream_header_time);
		break;
	case LOGFORMAT_FIELD_REQUEST_LENGTH:
		if (numparse_u64(s, n, &u) == 0 && u <= FIELDCONV_BYTES_MAX) {
			r->request_length = u;
			r->has_request_length = true;
		}
		break;
	case LOGFORMAT_FIELD_LOGTIME_ISO8601:
	case LOGFORMAT_FIELD_LOGTIME_EPOCH_S:
	case LOGFORMAT_FIELD_LOGTIME_EPOCH_MS:
	case LOGFORMAT_FIELD_LOGTIME_EPOCH_US:
	case LOGFORMAT_FIELD_LOGTIME_STRFTIME:
	case LOGFORMAT_FIELD_LOGTIME_AUTO:
		/* kept as text: only --backfill reads it (logtime_of_record) */
		if (r->log_time_form == 0 && !is_dash(s, n)) {
			r->log_time = (struct str_view){s, n};
			r->log_time_form = (uint8_t)logformat_time_form(f);
		}
		break;
	case LOGFORMAT_FIELD_REQUEST_ID:
	case LOGFORMAT_FIELD_TRACE_ID:
	case LOGFORMAT_FIELD_TRACEPARENT:
		set_trace(r, f, s, n);
		break;
	case LOGFORMAT_FIELD_UPSTREAM_STATUS:
		if (numparse_list_last(s, n, &last, &last_len) == 0) {
			r->upstream_status_slot = status_slot_from_text(last, last_len);
			r->has_upstream_status = true;
		}
		break;
	}
}

void fieldconv_finish(struct log_record *r, struct str_view request)
{
	struct str_view m = {NULL, 0}, pa = {NULL, 0}, pr = {NULL, 0};

	if (request.ptr == NULL) {
		return;
	}
	split_request(request.ptr, request.len, &m, &pa, &pr);
	r->method = r->method.len ? r->method : m;
	r->path = r->path.len ? r->path : pa;
	r->protocol = r->protocol.len ? r->protocol : pr;
}
