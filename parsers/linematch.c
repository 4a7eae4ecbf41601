/*
 * linematch.c - run a generated format's op program (see linematch.h).
 *
 * Each op mirrors one pcre2 piece of logformat.c and moves the position
 * forward exactly as the possessive/atomic piece does, or fails the line.
 * Alternatives in the pieces start with different bytes, so the first
 * byte picks the branch and nothing is ever retried.  A run stops at the
 * first byte of its set: with at most three bytes in the set it is found
 * sixteen bytes at a time with SSE2 (three compares and a movemask; the
 * line's last partial block is its last 16 bytes loaded again, the bits
 * before the position shifted out), or eight at a time with a word-wide
 * "has a zero byte" test per byte of the set where SSE2 is missing or the
 * line is shorter than 16 bytes; larger sets go byte by byte.  run_end is
 * inline: a combined line has seven runs, and the call (five saved
 * registers, three vector loads) cost about as much as the scan.  Sets of
 * one byte ("[^ ]", "[^\]]") compare once a block and sets of two (the
 * quoted strings) twice, not three times: 1659 -> 1600 instructions per
 * combined line (bench/run-parse --callgrind); an op's literal is checked
 * with no test for "has one" (a zero mask), the "eight bytes left" test
 * first: 1600 -> 1584.
 *
 * Rejected: AVX2 (a runtime dispatch: Debian builds for baseline x86-64,
 * where SSE2 is the guaranteed vector unit), memchr per excluded byte
 * (one pass per byte of the set), every op storing its group (group 0
 * into ov[0..1], no branch): +19 instructions per combined line, and digit
 * runs eight bytes at a time (SWAR): +22, the runs are 1-6 digits.
 */
#include "parsers/linematch.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void linematch_init(struct linematch *m)
{
	m->ok = true;
	m->ngroups = 0;
	m->nops = 0;
	m->lit_len = 0;
	m->pending_off = 0;
	m->pending_len = 0;
}

void linematch_refuse(struct linematch *m)
{
	m->ok = false;
}

void linematch_add_lit(struct linematch *m, const char *s, size_t len)
{
	if (!m->ok || len == 0) {
		return;
	}
	if (len > LINEMATCH_MAX_LIT - m->lit_len || m->pending_len + len > UINT16_MAX) {
		m->ok = false;
		return;
	}
	if (m->pending_len == 0) {
		m->pending_off = m->lit_len;
	}
	memcpy(m->lit + m->lit_len, s, len);
	m->lit_len += len;
	m->pending_len += len;
}

void linematch_add(struct linematch *m, enum linematch_kind kind, unsigned group, const char *excl,
                   size_t nexcl)
{
	if (!m->ok) {
		return;
	}
	if (m->nops >= LINEMATCH_MAX_OPS || group > LINEMATCH_MAX_GROUPS) {
		m->ok = false;
		return;
	}
	struct linematch_op *op = &m->ops[m->nops];
	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)kind;
	op->group = (uint8_t)group;
	op->lit_off = (uint16_t)m->pending_off;
	op->lit_len = (uint16_t)m->pending_len;
	for (size_t k = 0; k < 8 && k < m->pending_len; k++) {
		op->lit_word |= (uint64_t)(unsigned char)m->lit[m->pending_off + k] << (8 * k);
		op->lit_mask |= (uint64_t)0xff << (8 * k);
	}
	m->pending_len = 0;
	for (size_t i = 0; i < nexcl; i++) {
		if (memchr(op->excl, excl[i], op->nexcl) != NULL) {
			continue;
		}
		if (op->nexcl >= LINEMATCH_MAX_EXCL) {
			m->ok = false;
			return;
		}
		op->excl[op->nexcl++] = (uint8_t)excl[i];
	}
	for (size_t v = 0; v < 3; v++) {
		memset(op->excl_vec[v], op->excl[v < op->nexcl ? v : 0], 16);
	}
	m->nops++;
	if (group > m->ngroups) {
		m->ngroups = group;
	}
}

/* ---- matching ------------------------------------------------------------ */

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t zero_bytes(uint64_t v)
{
	return (v - ONES) & ~v & HIGHS;
}

static inline uint64_t load64(const unsigned char *s)
{
	uint64_t v;
	memcpy(&v, s, sizeof(v));
	return v;
}

static inline bool in_set(const struct linematch_op *op, unsigned char c)
{
	for (unsigned k = 0; k < op->nexcl; k++) {
		if (op->excl[k] == c) {
			return true;
		}
	}
	return false;
}

/* First position >= i holding a byte of op's set, or len: the word-wide
 * and byte-wise paths, for sets of more than three bytes, lines shorter
 * than 16 bytes, and machines without SSE2. */
static size_t run_end_slow(const struct linematch_op *op, const unsigned char *s, size_t i,
                           size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
	if (op->nexcl <= 3) {
		uint64_t a = ONES * op->excl[0];
		uint64_t b = ONES * op->excl[op->nexcl > 1 ? 1 : 0];
		uint64_t c = ONES * op->excl[op->nexcl > 2 ? 2 : 0];
		while (len - i >= 8) {
			uint64_t v = load64(s + i);
			uint64_t hit = zero_bytes(v ^ a) | zero_bytes(v ^ b) | zero_bytes(v ^ c);
			if (hit != 0) {
				return i + (size_t)(__builtin_ctzll(hit) >> 3);
			}
			i += 8;
		}
	}
#endif
	while (i < len && !in_set(op, s[i])) {
		i++;
	}
	return i;
}

#if defined(__SSE2__) && defined(__GNUC__)
/* Bits of the 16 bytes at p that equal a byte of a, b or c. */
static inline unsigned hits16(const unsigned char *p, __m128i a, __m128i b, __m128i c)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, a), _mm_cmpeq_epi8(v, b)),
	                           _mm_cmpeq_epi8(v, c));
	return (unsigned)_mm_movemask_epi8(hit);
}

/* First position >= i of a byte in {a, b, c}, or len; needs len >= 16.
 * The last (partial) block is the line's last 16 bytes, loaded again with
 * the bits before i shifted out: no byte-wise tail, and no read past len. */
static inline size_t find3(const unsigned char *s, size_t i, size_t len, __m128i a, __m128i b,
                           __m128i c)
{
	while (len - i >= 16) {
		unsigned mask = hits16(s + i, a, b, c);
		if (mask != 0) {
			return i + (size_t)__builtin_ctz(mask);
		}
		i += 16;
	}
	if (i < len) {
		unsigned mask = hits16(s + len - 16, a, b, c) >> (16 - (len - i));
		if (mask != 0) {
			return i + (size_t)__builtin_ctz(mask);
		}
	}
	return len;
}

/* find3 for a set of one byte ("[^ ]", "[^\]]"): one compare a block. */
static inline size_t find1(const unsigned char *s, size_t i, size_t len, __m128i a)
{
	while (len - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, a));
		if (mask != 0) {
			return i + (size_t)__builtin_ctz(mask);
		}
		i += 16;
	}
	if (i < len) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + len - 16));
		unsigned mask =
		    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, a)) >> (16 - (len - i));
		if (mask != 0) {
			return i + (size_t)__builtin_ctz(mask);
		}
	}
	return len;
}
#endif

/* First position >= i holding a byte of op's set, or len.  Inline: seven
 * runs a combined line, and the call cost as much as the scan. */
static inline size_t run_end(const struct linematch_op *op, const unsigned char *s, size_t i,
                             size_t len)
{
#if defined(__SSE2__) && defined(__GNUC__)
	if (op->nexcl == 1 && len >= 16) {
		return find1(s, i, len,
		             _mm_loadu_si128((const __m128i *)(const void *)op->excl_vec[0]));
	}
	if (op->nexcl == 2 && len >= 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)op->excl_vec[0]);
		return find3(s, i, len, a,
		             _mm_loadu_si128((const __m128i *)(const void *)op->excl_vec[1]), a);
	}
	if (op->nexcl <= 3 && len >= 16) {
		return find3(s, i, len,
		             _mm_loadu_si128((const __m128i *)(const void *)op->excl_vec[0]),
		             _mm_loadu_si128((const __m128i *)(const void *)op->excl_vec[1]),
		             _mm_loadu_si128((const __m128i *)(const void *)op->excl_vec[2]));
	}
#endif
	return run_end_slow(op, s, i, len);
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline size_t digits(const unsigned char *s, size_t i, size_t len)
{
	while (i < len && is_digit(s[i])) {
		i++;
	}
	return i;
}

/* (?:[0-9]++|-): the end, or 0 when it does not match (an entry never
 * ends at offset 0: it takes at least one byte). */
static size_t match_int(const unsigned char *s, size_t i, size_t len)
{
	if (i < len && is_digit(s[i])) {
		return digits(s, i + 1, len);
	}
	return i < len && s[i] == '-' ? i + 1 : 0;
}

/* (?:[0-9][0-9.]*+|\.[0-9]++|-) */
static size_t match_dec(const unsigned char *s, size_t i, size_t len)
{
	if (i < len && is_digit(s[i])) {
		i++;
		while (i < len && (is_digit(s[i]) || s[i] == '.')) {
			i++;
		}
		return i;
	}
	if (i + 1 < len && s[i] == '.' && is_digit(s[i + 1])) {
		return digits(s, i + 2, len);
	}
	return i < len && s[i] == '-' ? i + 1 : 0;
}

/* (?:, | : ): the end, or 0. */
static size_t match_sep(const unsigned char *s, size_t i, size_t len)
{
	if (len - i >= 2 && s[i] == ',' && s[i + 1] == ' ') {
		return i + 2;
	}
	if (len - i >= 3 && s[i] == ' ' && s[i + 1] == ':' && s[i + 2] == ' ') {
		return i + 3;
	}
	return 0;
}

/* INT or DEC list: entry (?:SEP entry)*+.  An iteration that fails half
 * way is given back whole, as the possessive group does. */
static size_t match_list(const unsigned char *s, size_t i, size_t len, bool dec)
{
	size_t (*entry)(const unsigned char *, size_t, size_t) = dec ? match_dec : match_int;
	size_t e = entry(s, i, len);
	if (e == 0) {
		return 0;
	}
	for (;;) {
		i = e;
		size_t sep = match_sep(s, i, len);
		size_t next = sep != 0 ? entry(s, sep, len) : 0;
		if (next == 0) {
			return i;
		}
		e = next;
	}
}

static size_t match_addr_list(const struct linematch_op *op, const unsigned char *s, size_t i,
                              size_t len)
{
	i = run_end(op, s, i, len);
	for (;;) {
		size_t sep = match_sep(s, i, len);
		if (sep == 0) {
			return i;
		}
		i = run_end(op, s, sep, len);
	}
}

/* Non-blank run of at least one byte: the end, or 0. */
static size_t nonblank(const unsigned char *s, size_t i, size_t len)
{
	size_t e = i;
#if defined(__SSE2__) && defined(__GNUC__)
	if (len >= 16) {
		e = find1(s, i, len, _mm_set1_epi8(' '));
		return e > i ? e : 0;
	}
#endif
	while (e < len && s[e] != ' ') {
		e++;
	}
	return e > i ? e : 0;
}

/* (?>[^ ]++ [^ ]++(?: HTTP/[0-9.]++)?|[^ X]*+) */
static size_t match_request(const struct linematch_op *op, const unsigned char *s, size_t i,
                            size_t len)
{
	size_t a = nonblank(s, i, len), b;
	if (a != 0 && a < len && (b = nonblank(s, a + 1, len)) != 0) {
		if (len - b > 6 && memcmp(s + b, " HTTP/", 6) == 0 &&
		    (is_digit(s[b + 6]) || s[b + 6] == '.')) {
			b += 7;
			while (b < len && (is_digit(s[b]) || s[b] == '.')) {
				b++;
			}
		}
		return b;
	}
	return run_end(op, s, i, len);
}

/* [0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}(?: [+-][0-9]{4})?+ */
static size_t match_time_local(const unsigned char *s, size_t i, size_t len)
{
	static const char shape[] = "dd/aaa/dddd:dd:dd:dd";
	size_t n = sizeof(shape) - 1;

	if (len - i < n) {
		return 0;
	}
	for (size_t k = 0; k < n; k++) {
		unsigned char c = s[i + k];
		bool ok = shape[k] == 'd'   ? is_digit(c)
		          : shape[k] == 'a' ? ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		                            : c == (unsigned char)shape[k];
		if (!ok) {
			return 0;
		}
	}
	i += n;
	if (len - i >= 6 && s[i] == ' ' && (s[i + 1] == '+' || s[i + 1] == '-') &&
	    is_digit(s[i + 2]) && is_digit(s[i + 3]) && is_digit(s[i + 4]) && is_digit(s[i + 5])) {
		i += 6;
	}
	return i;
}

/* [^"\\]*+(?:\\.[^"\\]*+)*+ with DOTALL: '.' is any byte. */
static size_t match_quoted(const struct linematch_op *op, const unsigned char *s, size_t i,
                           size_t len)
{
	for (;;) {
		i = run_end(op, s, i, len);
		if (i + 1 < len && s[i] == '\\') {
			i += 2;
			continue;
		}
		return i;
	}
}

/* One op at s[i]: the new position, or (size_t)-1 when the line fails. */
static size_t step(const struct linematch *m, const struct linematch_op *op, const unsigned char *s,
                   size_t i, size_t len)
{
	const size_t fail = (size_t)-1;
	size_t e;

	switch ((enum linematch_kind)op->kind) {
	case LINEMATCH_RUN:
		return run_end(op, s, i, len);
	case LINEMATCH_REST:
		return len;
	case LINEMATCH_QUOTED:
		return match_quoted(op, s, i, len);
	case LINEMATCH_INT:
		e = match_int(s, i, len);
		return e ? e : fail;
	case LINEMATCH_DEC:
		e = match_dec(s, i, len);
		return e ? e : fail;
	case LINEMATCH_INT_LIST:
	case LINEMATCH_DEC_LIST:
		e = match_list(s, i, len, op->kind == LINEMATCH_DEC_LIST);
		return e ? e : fail;
	case LINEMATCH_ADDR_LIST:
		return match_addr_list(op, s, i, len);
	case LINEMATCH_REQUEST:
		return match_request(op, s, i, len);
	case LINEMATCH_TIME_LOCAL:
		e = match_time_local(s, i, len);
		return e ? e : fail;
	case LINEMATCH_CLF_TIME:
		if (i >= len || s[i] != '[') {
			return fail;
		}
		e = run_end(op, s, i + 1, len);
		return e < len ? e + 1 : fail;
	case LINEMATCH_END:
		return i == len || s[i] == ' ' || s[i] == '\t' ? i : fail;
	}
	return fail;
}

/* The op's literal prefix at s[i]. */
static inline bool lit_ok(const struct linematch *m, const struct linematch_op *op,
                          const unsigned char *s, size_t i, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (len - i >= 8 && op->lit_len <= 8) {
		return ((load64(s + i) ^ op->lit_word) & op->lit_mask) == 0;
	}
#endif
	if (len - i < op->lit_len) {
		return false;
	}
	if (op->lit_len <= 8) {
		/* near the end of the line (the closing quote), or no literal:
		 * no memcmp call */
		for (size_t k = 0; k < op->lit_len; k++) {
			if (s[i + k] != (unsigned char)(op->lit_word >> (8 * k))) {
				return false;
			}
		}
		return true;
	}
	return memcmp(s + i, m->lit + op->lit_off, op->lit_len) == 0;
}

long linematch_run(const struct linematch *m, const char *line, size_t len, size_t *ov)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i = 0;

	for (size_t k = 0; k < m->nops; k++) {
		const struct linematch_op *op = &m->ops[k];
		/* no test for "has a literal": none compares zero bytes */
		if (!lit_ok(m, op, s, i, len)) {
			return -1;
		}
		i += op->lit_len;
		size_t start = i;
		i = step(m, op, s, i, len);
		if (i == (size_t)-1) {
			return -1;
		}
		if (op->group) {
			ov[2 * op->group] = start;
			ov[2 * op->group + 1] = i;
		}
	}
	ov[0] = 0;
	ov[1] = i;
	return (long)i;
}
