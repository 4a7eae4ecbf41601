/*
 * jsonline.c - a bounded, allocation-free scanner for JSON access logs.
 *
 * Each line must be one JSON object.  The scanner validates the whole line
 * (strings, escapes, numbers, literals, nesting up to JSON_MAX_DEPTH) in one
 * pass and, for keys at the top level and one level down, looks the key up
 * in a small table of key names -> record fields.  Values may be strings or
 * numbers ("status": 200 and "status": "200" are the same); null, "-" and
 * "" mean absent.  String values without escapes are views into the line;
 * escaped ones (\", \/, \uXXXX) are decoded into a per-parser scratch buffer
 * that is as large as the longest line allowed, so decoding never fails.
 *
 * Defaults cover nginx escape=json templates seen in the wild (status,
 * http_status, request_time, responsetime, upstream_response_time,
 * upstreamtime, ...); a key map "field=key|key,field=key" replaces the keys
 * of the fields it names, and so does an nginx escape=json log_format given
 * instead of a key map ("http_status":"$status" -> status key http_status).  The first key in the
 * line that maps to a field wins.
 *
 * Speed: a string is scanned from its opening quote to the first '"',
 * '\\' or control byte sixteen bytes at a time (SSE2); the top-level object
 * is walked by scan_top with the position in a register; its keys are
 * first compared with the keys the line before had at the same place (a
 * log's lines repeat one key order; the name, its quote and in compact
 * JSON the colon in one compare), else found by a hash of length and
 * end bytes plus two word compares.  Values no field
 * wants are validated, never converted or copied; escapes are decoded only
 * in a value some field wants.  The grammar is unchanged: the same lines
 * are errors (jsonline_diagnose keeps the general walk, and the fuzz
 * target checks both agree).  Fields go straight into the caller's record
 * (a local record copied on success cost 4% of a line's CPU), so a failed
 * line leaves it partly written, as logparse.h allows.
 *
 * Rejected: a JSON library (allocation per line, no byte-level control over
 * invalid UTF-8, which nginx passes through raw and we must accept), a
 * regex per key (order-dependent), and a simdjson-style structural index
 * of the whole line (prefix-xor string masks): access-log lines are a few
 * hundred bytes of short strings, where a vector scan per string gets the
 * saving with far less code.  Also rejected (issue 17): classifying the
 * line in 64-byte blocks (AVX2 where the CPU has it) and caching the block
 * mask for the strings in it: with the key order predicted, only the value
 * strings are scanned, and scanning them from their quote took 137 fewer
 * instructions per line (2084 -> 1947 on bench/run-parse's JSON lines;
 * CPU 0.300 -> 0.294 s per 2M lines, same run); a first test of "above
 * ' '" in ws_end (gcc already makes the four compares one bit test).
 */
#include "parsers/jsonline.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "parsers/fieldconv.h"
#include "parsers/format_nginx.h"
#include "parsers/logformat.h"

#define JSON_MAX_DEPTH 16
#define JSON_MAX_LINE (1024u * 1024u)
#define JSON_MAX_KEYS 96
#define JSON_KEY_MAX 64
#define JSON_PREDICT 32 /* top-level keys predicted from the line before */

_Static_assert(LOGFORMAT_FIELD_COUNT <= 64, "struct scan's seen is one 64-bit word");

#if defined(__GNUC__)
#define JSON_ALWAYS_INLINE inline __attribute__((always_inline))
#define JSON_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define JSON_ALWAYS_INLINE inline
#define JSON_LIKELY(x) (x)
#endif

struct json_key {
	char name[JSON_KEY_MAX];
	uint8_t len;
	uint8_t field; /* enum logformat_field */
	uint8_t extra; /* record.extra[] index + 1 the value goes to as well; 0: none */
};

#define JSON_BUCKETS 64 /* power of two */

struct jsonline {
	struct json_key keys[JSON_MAX_KEYS];
	unsigned nkeys;
	uint8_t bucket[JSON_BUCKETS]; /* first key index + 1 in a hash chain, 0 = empty */
	uint8_t chain[JSON_MAX_KEYS]; /* next key index + 1, in insertion order */
	char *scratch;                /* JSON_MAX_LINE bytes: decoded strings */
	size_t scratch_used;
	unsigned n_extra; /* wanted keys: record.extra[0..n_extra) */
	/* The last line's top-level keys in order, as predictions (scan_top). */
	struct predicted_key {
		/* the name (no '"', '\\' or control byte in it), its closing
		 * quote and, when that line had it there, the colon */
		char name[JSON_KEY_MAX + 2];
		uint8_t len; /* bytes of name[] to compare; 0: no prediction */
		bool colon;  /* name[] ends in '":' */
		const struct json_key *key;
	} predict[JSON_PREDICT];
};

struct default_key {
	enum logformat_field field;
	const char *names; /* '|' separated */
};

static const struct default_key default_keys[] = {
    {LOGFORMAT_FIELD_STATUS, "status|http_status|status_code|statusCode|response_status|"
                             "DownstreamStatus"},
    {LOGFORMAT_FIELD_REQUEST, "request|request_line"},
    {LOGFORMAT_FIELD_METHOD, "request_method|method|RequestMethod"},
    {LOGFORMAT_FIELD_PATH, "request_uri|uri|path|url|RequestPath"},
    {LOGFORMAT_FIELD_PROTOCOL, "server_protocol|protocol|RequestProtocol"},
    {LOGFORMAT_FIELD_VHOST, "host|http_host|server_name|vhost|domain|domain_http_host|"
                            "RequestHost"},
    {LOGFORMAT_FIELD_REMOTE_ADDR, "remote_addr|clientip|client_ip|ClientHost"},
    {LOGFORMAT_FIELD_BYTES, "body_bytes_sent|size|bytes_sent|DownstreamContentSize"},
    {LOGFORMAT_FIELD_TIME_S, "request_time|responsetime|response_time"},
    {LOGFORMAT_FIELD_UPSTREAM_TIME, "upstream_response_time|upstreamtime|upstream_time"},
    {LOGFORMAT_FIELD_UPSTREAM_STATUS, "upstream_status|upstreamstatus"},
    {LOGFORMAT_FIELD_REQUEST_LENGTH, "request_length|request_size"},
    {LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, "upstream_connect_time"},
    {LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME, "upstream_header_time"},
    /* the request's id, for exemplars */
    {LOGFORMAT_FIELD_REQUEST_ID, "request_id|requestId|req_id|x_request_id|RequestId"},
    {LOGFORMAT_FIELD_TRACE_ID, "trace_id|traceId|otel_trace_id|trace.id"},
    {LOGFORMAT_FIELD_TRACEPARENT, "traceparent|http_traceparent"},
    /* the log time, any form (only --backfill reads it) */
    {LOGFORMAT_FIELD_LOGTIME_AUTO, "time|time_local|time_iso8601|timestamp|@timestamp|ts|msec|"
                                   "StartUTC"},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int add_key(struct jsonline *j, enum logformat_field f, const char *name, size_t len,
                   struct logparse_error *err)
{
	if (len == 0 || len >= JSON_KEY_MAX) {
		logformat_set_error(err, 0, "JSON key name for %s is empty or longer than %d bytes",
		                    logformat_field_name(f), JSON_KEY_MAX - 1);
		return -EINVAL;
	}
	if (j->nkeys >= JSON_MAX_KEYS) {
		logformat_set_error(err, 0, "more than %d JSON key names", JSON_MAX_KEYS);
		return -EINVAL;
	}
	struct json_key *k = &j->keys[j->nkeys++];
	memcpy(k->name, name, len);
	k->name[len] = '\0';
	k->len = (uint8_t)len;
	k->field = (uint8_t)f;
	return 0;
}

/* Add '|'-separated names for field f. */
static int add_names(struct jsonline *j, enum logformat_field f, const char *names, size_t len,
                     struct logparse_error *err)
{
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || names[i] == '|') {
			int r = add_key(j, f, names + start, i - start, err);
			if (r < 0) {
				return r;
			}
			start = i + 1;
		}
	}
	return 0;
}

static enum logformat_field field_by_name(const char *s, size_t n)
{
	for (unsigned f = 1; f < LOGFORMAT_FIELD_COUNT; f++) {
		const char *name = logformat_field_name((enum logformat_field)f);
		/* a strftime time needs its format: not a JSON key map field */
		if (f != LOGFORMAT_FIELD_LOGTIME_STRFTIME && strlen(name) == n &&
		    memcmp(name, s, n) == 0) {
			return (enum logformat_field)f;
		}
	}
	return LOGFORMAT_FIELD_NONE;
}

/* Parse "field=key|key,field=key"; *overridden marks fields it names. */
static int parse_keymap(struct jsonline *j, const char *map, bool *overridden,
                        struct logparse_error *err)
{
	size_t i = 0, n = strlen(map);

	while (i < n) {
		size_t end = i;
		while (end < n && map[end] != ',') {
			end++;
		}
		const char *eq = memchr(map + i, '=', end - i);
		if (eq == NULL) {
			logformat_set_error(
			    err, i + 1, "JSON key map: expected field=key at column %zu", i + 1);
			return -EINVAL;
		}
		size_t flen = (size_t)(eq - (map + i));
		enum logformat_field f = field_by_name(map + i, flen);
		if (f == LOGFORMAT_FIELD_NONE) {
			logformat_set_error(err, i + 1,
			                    "JSON key map: unknown field \"%.*s\" at column %zu",
			                    (int)(flen > 32 ? 32 : flen), map + i, i + 1);
			return -EINVAL;
		}
		overridden[f] = true;
		int r = add_names(j, f, eq + 1, (size_t)(map + end - (eq + 1)), err);
		if (r < 0) {
			if (err != NULL) {
				err->column = (size_t)(eq - map) + 2;
			}
			return r;
		}
		i = end + 1;
	}
	return 0;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* One "key": $var or "key":"$var" pair at text[i] (a quote): add the key for
 * the variable's field.  *i moves past the key (and the variable). */
static int template_pair(struct jsonline *j, const struct logformat_text *t, size_t *i,
                         bool *overridden, struct logparse_error *err)
{
	const char *s = t->text;
	size_t k = *i + 1, n = t->len;

	while (k < n && s[k] != '"' && s[k] != '\\') {
		k++;
	}
	if (k >= n || s[k] != '"') {
		*i = k;
		return 0;
	}
	size_t key = *i + 1, key_len = k - key, v = k + 1;
	while (v < n && (s[v] == ' ' || s[v] == '\t')) {
		v++;
	}
	if (v >= n || s[v] != ':') {
		*i = k; /* not a key: this quote may open the next key */
		return 0;
	}
	v++;
	while (v < n && (s[v] == ' ' || s[v] == '\t' || s[v] == '"')) {
		v++;
	}
	*i = k + 1;
	if (v >= n || s[v] != '$') {
		return 0;
	}
	size_t name = v + 1 + (v + 1 < n && s[v + 1] == '{'), end = name;
	while (end < n && is_name_char(s[end])) {
		end++;
	}
	enum logformat_field f;
	if (format_nginx_variable(s + name, end - name, &f) < 0) {
		logformat_set_error(err, t->col[v], "unknown nginx variable $%.*s at column %u",
		                    (int)(end - name > 64 ? 64 : end - name), s + name, t->col[v]);
		return -EINVAL;
	}
	*i = end;
	if (f == LOGFORMAT_FIELD_NONE || f == LOGFORMAT_FIELD_COUNT) {
		return 0;
	}
	overridden[f] = true;
	return add_key(j, f, s + key, key_len, err);
}

/* Key map from an nginx escape=json log_format: "http_status":"$status"
 * maps the key http_status to the status field, and so on. */
static int keymap_from_template(struct jsonline *j, const char *text, bool *overridden,
                                struct logparse_error *err)
{
	struct logformat_text *t = malloc(sizeof(*t));
	int r;

	if (t == NULL) {
		return -ENOMEM;
	}
	r = format_nginx_unwrap(text, t, err);
	for (size_t i = 0; r == 0 && i < t->len;) {
		if (t->text[i] == '"') {
			r = template_pair(j, t, &i, overridden, err);
		} else {
			i++;
		}
	}
	free(t);
	if (r == 0 && !overridden[LOGFORMAT_FIELD_STATUS]) {
		logformat_set_error(err, 0, "JSON log_format has no \"key\": $status pair");
		r = -EINVAL;
	}
	return r;
}

static unsigned key_hash(const char *k, size_t n)
{
	return ((unsigned)n * 31u + (unsigned char)k[0] * 7u + (unsigned char)k[n - 1]) &
	       (JSON_BUCKETS - 1);
}

static void build_buckets(struct jsonline *j)
{
	uint8_t tail[JSON_BUCKETS] = {0};

	memset(j->bucket, 0, sizeof(j->bucket));
	memset(j->chain, 0, sizeof(j->chain));
	for (unsigned i = 0; i < j->nkeys; i++) {
		unsigned h = key_hash(j->keys[i].name, j->keys[i].len);
		if (tail[h] == 0) {
			j->bucket[h] = (uint8_t)(i + 1);
		} else {
			j->chain[tail[h] - 1] = (uint8_t)(i + 1);
		}
		tail[h] = (uint8_t)(i + 1);
	}
}

/* Wanted keys: a key the map has already also feeds extra[k]; another
 * one is added feeding nothing else. */
static int want_keys(struct jsonline *j, const char *const *want, size_t n_want,
                     struct logparse_error *err)
{
	if (n_want > LOG_RECORD_MAX_EXTRA) {
		logformat_set_error(err, 0, "more than %d JSON keys to capture",
		                    LOG_RECORD_MAX_EXTRA);
		return -EINVAL;
	}
	for (size_t k = 0; k < n_want; k++) {
		size_t len = strlen(want[k]);
		struct json_key *found = NULL;
		for (unsigned i = 0; i < j->nkeys && found == NULL; i++) {
			if (j->keys[i].len == len && memcmp(j->keys[i].name, want[k], len) == 0) {
				found = &j->keys[i];
			}
		}
		if (found == NULL) {
			int r = add_key(j, LOGFORMAT_FIELD_NONE, want[k], len, err);
			if (r < 0) {
				return r;
			}
			found = &j->keys[j->nkeys - 1];
		}
		if (found->extra == 0) {
			found->extra = (uint8_t)(k + 1);
		}
	}
	j->n_extra = (unsigned)n_want;
	return 0;
}

int jsonline_create(const char *keymap, struct jsonline **ret, struct logparse_error *err)
{
	return jsonline_create_want(keymap, NULL, 0, ret, err);
}

int jsonline_create_want(const char *keymap, const char *const *want, size_t n_want,
                         struct jsonline **ret, struct logparse_error *err)
{
	bool overridden[LOGFORMAT_FIELD_COUNT] = {false};
	struct jsonline *j = calloc(1, sizeof(*j));
	int r;

	if (j == NULL) {
		return -ENOMEM;
	}
	if (keymap != NULL && strchr(keymap, '$') != NULL) {
		r = keymap_from_template(j, keymap, overridden, err);
		if (r < 0) {
			goto fail;
		}
	} else if (keymap != NULL && keymap[0] != '\0') {
		r = parse_keymap(j, keymap, overridden, err);
		if (r < 0) {
			goto fail;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_keys); i++) {
		if (overridden[default_keys[i].field]) {
			continue;
		}
		r = add_names(j, default_keys[i].field, default_keys[i].names,
		              strlen(default_keys[i].names), err);
		if (r < 0) {
			goto fail;
		}
	}
	r = want_keys(j, want, n_want, err);
	if (r < 0) {
		goto fail;
	}
	bool has_status = false;
	for (unsigned i = 0; i < j->nkeys; i++) {
		has_status |= j->keys[i].field == LOGFORMAT_FIELD_STATUS;
	}
	if (!has_status) {
		logformat_set_error(err, 0, "JSON key map has no key for status");
		r = -EINVAL;
		goto fail;
	}
	build_buckets(j);
	j->scratch = malloc(JSON_MAX_LINE);
	if (j->scratch == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = j;
	return 0;
fail:
	jsonline_destroy(j);
	return r;
}

void jsonline_destroy(struct jsonline *j)
{
	if (j == NULL) {
		return;
	}
	free(j->scratch);
	free(j);
}

/* Scanner state for one line. */
struct scan {
	const char *s;
	size_t len, pos;
	struct jsonline *j;
	struct log_record *rec;
	struct str_view request;
	uint64_t seen; /* bit f: field f set (the first key wins); a word, no array to clear */
	uint32_t seen_extra; /* bit k: extra[k] set (the first key wins) */
};

static inline void skip_ws(struct scan *sc)
{
	/* most separators are not followed by a blank: one test, no loop */
	if (sc->pos < sc->len && (unsigned char)sc->s[sc->pos] > ' ') {
		return;
	}
	while (sc->pos < sc->len) {
		char c = sc->s[sc->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			break;
		}
		sc->pos++;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

static int read_hex4(const char *s, unsigned *ret)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(s[i]);
		if (h < 0) {
			return -EINVAL;
		}
		v = (v << 4) | (unsigned)h;
	}
	*ret = v;
	return 0;
}

/* Append code point cp as UTF-8 (lone surrogates are encoded as is). */
static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode the escapes of a validated string body into scratch. */
static struct str_view decode(struct scan *sc, const char *s, size_t n)
{
	char *out = sc->j->scratch + sc->j->scratch_used;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		char e = s[++i];
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = strchr(from, e);
		if (e != 'u' && k != NULL) {
			out[o++] = to[k - from];
			continue;
		}
		unsigned cp = 0, lo = 0;
		(void)read_hex4(s + i + 1, &cp);
		i += 4;
		if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && s[i + 1] == '\\' &&
		    s[i + 2] == 'u' && read_hex4(s + i + 3, &lo) == 0 && lo >= 0xdc00 &&
		    lo < 0xe000) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		}
		o += put_utf8(out + o, cp);
	}
	sc->j->scratch_used += o;
	return (struct str_view){out, o};
}

#if defined(__SSE2__) && defined(__GNUC__)
/* Bit k: p[k] is '"', '\\' or a control byte (< 0x20), for 16 bytes.
 * max_epu8 with 0x1f leaves exactly the bytes <= 0x1f equal to 0x1f. */
static inline unsigned special16(const unsigned char *p)
{
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i hit =
	    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
	                 _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
	return (unsigned)_mm_movemask_epi8(hit);
}
#endif

/* Index of the first '"', '\\' or control byte at or after i (len if none).
 * Sixteen bytes at a time from i; the last partial block is the line's
 * last 16 bytes loaded again with the bits before i shifted out (no read
 * past len).  Lines under 16 bytes, and machines without SSE2, go byte by
 * byte. */
static inline size_t next_special(const struct scan *sc, size_t i)
{
	const unsigned char *s = (const unsigned char *)sc->s;
	const size_t len = sc->len;

	if (i >= len) {
		return len;
	}
#if defined(__SSE2__) && defined(__GNUC__)
	if (len >= 16) {
		for (; len - i >= 16; i += 16) {
			unsigned m = special16(s + i);
			if (m != 0) {
				return i + (size_t)__builtin_ctz(m);
			}
		}
		unsigned m = i < len ? special16(s + len - 16) >> (16 - (len - i)) : 0;
		return m != 0 ? i + (size_t)__builtin_ctz(m) : len;
	}
#endif
	while (i < len && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20) {
		i++;
	}
	return i;
}

/* An escape at s[i] (a backslash): its length, 0 when invalid. */
static size_t escape_len(const char *s, size_t i, size_t len)
{
	unsigned cp;

	if (i + 1 >= len) {
		return 0;
	}
	switch (s[i + 1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return 2;
	case 'u':
		return i + 5 < len && read_hex4(s + i + 2, &cp) == 0 ? 6 : 0;
	default:
		return 0;
	}
}

/* Validate a string at sc->pos (opening quote); returns the raw body. */
static inline int scan_string(struct scan *sc, const char **ret_body, size_t *ret_len,
                              bool *ret_escaped)
{
	size_t i = sc->pos + 1;
	bool escaped = false;

	for (;;) {
		i = next_special(sc, i);
		if (i >= sc->len) {
			return -EINVAL;
		}
		char c = sc->s[i];
		if (c == '"') {
			break;
		}
		if (c != '\\') {
			return -EINVAL; /* a control byte */
		}
		size_t e = escape_len(sc->s, i, sc->len);
		if (e == 0) {
			return -EINVAL;
		}
		escaped = true;
		i += e;
	}
	*ret_body = sc->s + sc->pos + 1;
	*ret_len = i - sc->pos - 1;
	*ret_escaped = escaped;
	sc->pos = i + 1;
	return 0;
}

static bool is_num_char(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* End of the JSON number (RFC 8259 grammar) at s[i], SIZE_MAX if invalid. */
static inline size_t number_end(const char *s, size_t i, size_t n)
{
	if (i < n && s[i] == '-') {
		i++;
	}
	if (i < n && s[i] == '0') {
		i++;
	} else if (i < n && s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
		}
	} else {
		return SIZE_MAX;
	}
	if (i < n && s[i] == '.') {
		size_t d = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
		}
		if (i == d) {
			return SIZE_MAX;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-')) {
			i++;
		}
		size_t d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
		}
		if (i == d) {
			return SIZE_MAX;
		}
	}
	if (i < n && is_num_char(s[i])) {
		return SIZE_MAX;
	}
	return i;
}

/* Validate a JSON number at sc->pos. */
static int scan_number(struct scan *sc, size_t *ret_len)
{
	size_t end = number_end(sc->s, sc->pos, sc->len);

	if (end == SIZE_MAX) {
		return -EINVAL;
	}
	*ret_len = end - sc->pos;
	sc->pos = end;
	return 0;
}

static inline uint64_t load64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t load32(const char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* a[0..n) == b[0..n) for key names: two overlapping word compares up to 16
 * bytes (every key is compared, so no call to memcmp). */
static inline bool key_equal(const char *a, const char *b, size_t n)
{
	if (n >= 8 && n <= 16) {
		return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
	}
	if (n > 16 && n <= 32) {
		/* predicted keys with their '":' ("body_bytes_sent":) */
		return load64(a) == load64(b) && load64(a + 8) == load64(b + 8) &&
		       load64(a + n - 16) == load64(b + n - 16) &&
		       load64(a + n - 8) == load64(b + n - 8);
	}
	if (n >= 4 && n < 8) {
		return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
	}
	return memcmp(a, b, n) == 0;
}

/* Lookup by a hash chain; chains keep insertion order so the first key
 * added for a name wins, as with a linear search. */
static JSON_ALWAYS_INLINE const struct json_key *key_find(const struct jsonline *j, const char *k,
                                                          size_t n)
{
	for (unsigned i = j->bucket[key_hash(k, n)]; i != 0; i = j->chain[i - 1]) {
		const struct json_key *jk = &j->keys[i - 1];
		if (jk->len == n && key_equal(jk->name, k, n)) {
			return jk;
		}
	}
	return NULL;
}

static int scan_value(struct scan *sc, int depth, const struct json_key *key);

static int scan_container(struct scan *sc, int depth, bool object)
{
	char close = object ? '}' : ']';

	if (depth >= JSON_MAX_DEPTH) {
		return -E2BIG;
	}
	sc->pos++; /* opening bracket */
	skip_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == close) {
		sc->pos++;
		return 0;
	}
	for (;;) {
		const struct json_key *key = NULL;
		int r;
		if (object) {
			const char *k;
			size_t kn;
			bool kesc;
			if (sc->pos >= sc->len || sc->s[sc->pos] != '"' ||
			    scan_string(sc, &k, &kn, &kesc) < 0) {
				return -EINVAL;
			}
			/* keys we look for never need escapes; depth 0 and 1 only */
			if (!kesc && kn > 0 && depth <= 1) {
				key = key_find(sc->j, k, kn);
			}
			skip_ws(sc);
			if (sc->pos >= sc->len || sc->s[sc->pos] != ':') {
				return -EINVAL;
			}
			sc->pos++;
			skip_ws(sc);
		}
		r = scan_value(sc, depth + 1, key);
		if (r < 0) {
			return r;
		}
		skip_ws(sc);
		if (sc->pos >= sc->len) {
			return -EINVAL;
		}
		if (sc->s[sc->pos] == close) {
			sc->pos++;
			return 0;
		}
		if (sc->s[sc->pos] != ',') {
			return -EINVAL;
		}
		sc->pos++;
		skip_ws(sc);
	}
}

static JSON_ALWAYS_INLINE void deliver(struct scan *sc, enum logformat_field f, struct str_view v)
{
	if (f == LOGFORMAT_FIELD_NONE || (sc->seen >> f) & 1u) {
		return;
	}
	/* a status that is present but not a code still counts (as invalid) */
	if (f != LOGFORMAT_FIELD_STATUS && (v.len == 0 || (v.len == 1 && v.ptr[0] == '-'))) {
		return;
	}
	sc->seen |= (uint64_t)1 << f;
	fieldconv_apply_inline(sc->rec, f, v.ptr, v.len, &sc->request);
}

/* A wanted key's value as logged (decoded; null reads as empty). */
static void deliver_extra(struct scan *sc, const struct json_key *key, struct str_view v)
{
	unsigned k;

	if (key == NULL || key->extra == 0) {
		return;
	}
	k = key->extra - 1u;
	if (sc->seen_extra & (1u << k)) {
		return;
	}
	sc->seen_extra |= 1u << k;
	sc->rec->extra[k] = v;
}

static int scan_value(struct scan *sc, int depth, const struct json_key *key)
{
	enum logformat_field field =
	    key != NULL ? (enum logformat_field)key->field : LOGFORMAT_FIELD_NONE;

	if (sc->pos >= sc->len) {
		return -EINVAL;
	}
	char c = sc->s[sc->pos];
	if (c == '{' || c == '[') {
		return scan_container(sc, depth, c == '{');
	}
	if (c == '"') {
		const char *body;
		size_t n;
		bool esc;
		if (scan_string(sc, &body, &n, &esc) < 0) {
			return -EINVAL;
		}
		if (key != NULL) {
			struct str_view v = esc ? decode(sc, body, n) : (struct str_view){body, n};
			deliver(sc, field, v);
			deliver_extra(sc, key, v);
		}
		return 0;
	}
	static const char *const literals[] = {"true", "false", "null"};
	/* numbers are the common case: only t, f and n can start a literal */
	for (size_t i = 0; (c == 't' || c == 'f' || c == 'n') && i < ARRAY_SIZE(literals); i++) {
		size_t ln = strlen(literals[i]);
		if (sc->len - sc->pos >= ln && memcmp(sc->s + sc->pos, literals[i], ln) == 0) {
			deliver(sc, field == LOGFORMAT_FIELD_STATUS ? field : LOGFORMAT_FIELD_NONE,
			        (struct str_view){sc->s + sc->pos, ln});
			deliver_extra(sc, key, (struct str_view){sc->s + sc->pos, i == 2 ? 0 : ln});
			sc->pos += ln;
			return 0;
		}
	}
	size_t start = sc->pos, n;
	if (scan_number(sc, &n) < 0) {
		return -EINVAL;
	}
	deliver(sc, field, (struct str_view){sc->s + start, n});
	deliver_extra(sc, key, (struct str_view){sc->s + start, n});
	return 0;
}

/* Index of the first byte at or after i that is not JSON whitespace. */
static inline size_t ws_end(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
		i++;
	}
	return i;
}

/* ws_end where a structural byte is expected: compact JSON (what nginx
 * writes) has no blank there, and one test above ' ' settles it. */
static inline size_t ws_skip(const char *s, size_t i, size_t len)
{
	return JSON_LIKELY(i < len && (unsigned char)s[i] > ' ') ? i : ws_end(s, i, len);
}

/* The top-level object at sc->pos (its '{'): the same grammar and the same
 * deliveries as scan_container(sc, 0, true), with the common shapes inline
 * and the position in a register: keys and string values without escapes
 * (one block-mask lookup to the closing quote, no copy), numbers (validated,
 * converted only when a field wants them).  Anything else - escapes,
 * literals, nested values - goes through the general scan_string and
 * scan_value, so those rules live in one place.  jsonline_diagnose keeps
 * the general walk; the fuzz target checks that both agree. */
static int scan_top(struct scan *sc)
{
	const char *s = sc->s;
	const size_t len = sc->len;
	size_t i = ws_end(s, sc->pos + 1, len), q;

	if (i < len && s[i] == '}') {
		sc->pos = i + 1;
		return 0;
	}
	for (unsigned nth = 0;; nth++) {
		const struct json_key *key = NULL;
		struct predicted_key *pk = nth < JSON_PREDICT ? &sc->j->predict[nth] : NULL;
		if (i >= len || s[i] != '"') {
			return -EINVAL;
		}
		bool colon = false; /* the key's ':' is passed */
		if (pk != NULL && pk->len != 0 && pk->len <= len - i - 1 &&
		    key_equal(pk->name, s + i + 1, pk->len)) {
			/* the line before's key here: the same bytes, the quote
			 * (the name holds no quote, backslash or control byte) and
			 * in compact JSON the colon, in one compare */
			key = pk->key;
			colon = pk->colon;
			i += pk->len + 1u;
		} else if ((q = next_special(sc, i + 1)) < len && s[q] == '"') {
			size_t kn = q - i - 1;
			key = kn > 0 ? key_find(sc->j, s + i + 1, kn) : NULL;
			if (pk != NULL) {
				/* q + 1 < len: the colon is a byte of the line */
				pk->colon = q + 1 < len && s[q + 1] == ':';
				pk->len =
				    (uint8_t)(kn > 0 && kn < JSON_KEY_MAX ? kn + 1 + pk->colon : 0);
				memcpy(pk->name, s + i + 1, pk->len);
				pk->key = key;
			}
			i = q + 1;
		} else {
			const char *k;
			size_t kn;
			bool kesc;
			sc->pos = i;
			if (scan_string(sc, &k, &kn, &kesc) < 0) {
				return -EINVAL;
			}
			/* keys we look for never need escapes */
			key = !kesc && kn > 0 ? key_find(sc->j, k, kn) : NULL;
			if (pk != NULL) {
				pk->len = 0;
			}
			i = sc->pos;
		}
		if (!colon) {
			i = ws_skip(s, i, len);
			if (i >= len || s[i] != ':') {
				return -EINVAL;
			}
			i++;
		}
		i = ws_skip(s, i, len);
		if (i < len && s[i] == '"' && (q = next_special(sc, i + 1)) < len && s[q] == '"') {
			if (key != NULL) {
				struct str_view v = {s + i + 1, q - i - 1};
				deliver(sc, (enum logformat_field)key->field, v);
				deliver_extra(sc, key, v);
			}
			i = q + 1;
		} else if (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '-')) {
			q = number_end(s, i, len);
			if (q == SIZE_MAX) {
				return -EINVAL;
			}
			if (key != NULL) {
				struct str_view v = {s + i, q - i};
				deliver(sc, (enum logformat_field)key->field, v);
				deliver_extra(sc, key, v);
			}
			i = q;
		} else {
			sc->pos = i;
			int r = scan_value(sc, 1, key);
			if (r < 0) {
				return r;
			}
			i = sc->pos;
		}
		i = ws_skip(s, i, len);
		if (i >= len) {
			return -EINVAL;
		}
		if (s[i] == '}') {
			sc->pos = i + 1;
			return 0;
		}
		if (s[i] != ',') {
			return -EINVAL;
		}
		i = ws_skip(s, i + 1, len);
	}
}

int jsonline_parse(struct jsonline *j, const char *line, size_t len, struct log_record *ret)
{
	/* straight into *ret: a failed line leaves it unspecified (logparse.h) */
	struct scan sc = {.s = line, .len = len, .j = j, .rec = ret};
	int r;

	if (len > JSON_MAX_LINE) {
		return -E2BIG;
	}
	fieldconv_init(ret);
	ret->n_extra = j->n_extra;
	for (unsigned k = 0; k < j->n_extra; k++) {
		ret->extra[k] = (struct str_view){line, 0};
	}
	j->scratch_used = 0;
	skip_ws(&sc);
	if (sc.pos >= len || line[sc.pos] != '{') {
		return -EINVAL;
	}
	r = scan_top(&sc);
	if (r < 0) {
		return r;
	}
	skip_ws(&sc);
	if (sc.pos != len || !((sc.seen >> LOGFORMAT_FIELD_STATUS) & 1u)) {
		return -EINVAL;
	}
	fieldconv_finish(ret, sc.request);
	return 0;
}

bool jsonline_has_field(const struct jsonline *j, unsigned field)
{
	for (unsigned i = 0; j != NULL && i < j->nkeys; i++) {
		if (j->keys[i].field == field) {
			return true;
		}
	}
	return false;
}

/* "status, http_status, ..." : the keys that feed the status (cut to fit). */
static void status_keys(const struct jsonline *j, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < j->nkeys; i++) {
		const struct json_key *k = &j->keys[i];
		if (k->field != LOGFORMAT_FIELD_STATUS) {
			continue;
		}
		int n = snprintf(out + o, size - o, "%s%.*s", o ? ", " : "", (int)k->len, k->name);
		if (n < 0 || (size_t)n >= size - o) {
			out[o] = '\0';
			return;
		}
		o += (size_t)n;
	}
}

static void diag_fill(struct logparse_diag *d, const char *line, size_t len, size_t pos,
                      const char *piece, const char *expected)
{
	d->column = pos + 1;
	d->piece_index = 0;
	(void)snprintf(d->piece, sizeof(d->piece), "%s", piece);
	(void)snprintf(d->expected, sizeof(d->expected), "%s", expected);
	logformat_found_text(line, len, pos, d->found, sizeof(d->found));
	(void)snprintf(d->message, sizeof(d->message), "at column %zu (%s): expected %s, found %s",
	               d->column, d->piece, d->expected, d->found);
}

int jsonline_diagnose(struct jsonline *j, const char *line, size_t len, struct logparse_diag *ret)
{
	struct log_record rec;
	struct scan sc = {.s = line, .len = len, .j = j, .rec = &rec};
	char keys[LOGPARSE_DIAG_NAME_MAX];
	int r;

	if (len > JSON_MAX_LINE) {
		diag_fill(ret, line, len, JSON_MAX_LINE, "JSON line", "at most 1 MiB");
		return 0;
	}
	fieldconv_init(&rec);
	rec.n_extra = j->n_extra;
	for (unsigned k = 0; k < j->n_extra; k++) {
		rec.extra[k] = (struct str_view){line, 0};
	}
	j->scratch_used = 0;
	skip_ws(&sc);
	if (sc.pos >= len || line[sc.pos] != '{') {
		diag_fill(ret, line, len, sc.pos, "JSON line", "a JSON object ({...})");
		return 0;
	}
	r = scan_container(&sc, 0, true);
	if (r == -E2BIG) {
		diag_fill(ret, line, len, sc.pos, "JSON line", "at most 16 levels of nesting");
		return 0;
	}
	if (r < 0) {
		diag_fill(ret, line, len, sc.pos, "JSON line", "valid JSON");
		return 0;
	}
	skip_ws(&sc);
	if (sc.pos != len) {
		diag_fill(ret, line, len, sc.pos, "JSON line", "end of line after the object");
		return 0;
	}
	if (!((sc.seen >> LOGFORMAT_FIELD_STATUS) & 1u)) {
		status_keys(j, keys, sizeof(keys));
		memset(ret, 0, sizeof(*ret));
		(void)snprintf(ret->piece, sizeof(ret->piece), "JSON key for the status");
		(void)snprintf(ret->expected, sizeof(ret->expected), "one of: %s", keys);
		(void)snprintf(ret->found, sizeof(ret->found), "none");
		(void)snprintf(ret->message, sizeof(ret->message),
		               "no status key in the object (looked for: %s); map yours with "
		               "--log-format status=KEY",
		               keys);
		return 0;
	}
	return -ENOMSG;
}
