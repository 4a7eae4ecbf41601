/*
 * keyload.h - a short key (at most 64 bytes: nearly every path, host or
 * header value a field label reads) as its 64 bytes zero-padded, in four
 * SSE2 registers, loaded with no branch on its length.
 *
 * A field label with thousands of values hashes, compares and searches
 * keys whose length changes from line to line; loops over their bytes
 * exit at a different count each line, a mispredicted branch each.  Four
 * 16-byte loads and a mask from a table take the same path for every
 * length up to 64.  The loads may read past the key's end, but never past
 * the end of the page the key starts in (a page is readable as a whole):
 * a key that starts less than 64 bytes before a page boundary, or an empty
 * one, is copied first (about one key in 64), out of line so that the
 * usual path keeps the key in registers.  Under AddressSanitizer (which
 * sees such a read as an overflow) and without SSE2 every key is copied;
 * valgrind's memcheck, which cannot be told at build time, reports the
 * over-reads past a heap block's end (their bytes are masked away unused).
 *
 * Measured with bench/run-fieldlabels (field label on path against none,
 * 1M lines, CPU time, one core, this build and the one before interleaved
 * round by round: REPEAT=4 BASELINE=OLD KINDS="none label", 9 rounds,
 * medians; steady state = the log read four times minus once, per 1M
 * lines): with 10,000 values the label's steady state went from 0.150 to
 * 0.141 s (0.94x; 1.66x -> 1.59x none), the whole run from 2.65x to
 * 2.53x.  With the same paths padded to one length (PAD_PATHS=48) the two
 * builds are within noise (0.131 s before, 0.128 after): the gain is the
 * varying length.  The price is constant work for short keys: 69-76 more
 * instructions a line (10,000 values 1,931 against 1,862, 1 value 1,816
 * against 1,740), so a label whose single value always has the same
 * length (nothing to mispredict) costs about 1.02x the CPU it did (0.096
 * -> 0.098 s; 1.19x -> 1.24x none).
 *
 * Rejected: eight words each clamped to the key's end (no over-read, 49
 * more instructions a line than the loops, 0.169 against 0.173 s);
 * the copy for keys near a page's end inline (a stack frame and the key
 * stored and read back: 10 more instructions a line); comparing hashes
 * only (counts must be exact).
 */
#ifndef EXPORTER_METRICS_KEYLOAD_H
#define EXPORTER_METRICS_KEYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#if !defined(__SANITIZE_ADDRESS__)
#define KEYLOAD_OVERREAD 1
#endif
#endif

#define KEYLOAD_MAX 64u

/* The key's bytes, zero past its end: in four SSE2 registers where there
 * are some (a local one stays in registers), else eight words. */
struct keyload {
#if defined(__SSE2__) && defined(__GNUC__)
	__m128i v[4];
#else
	uint64_t w[8];
#endif
};
_Static_assert(sizeof(struct keyload) == KEYLOAD_MAX, "a loaded key is its 64 bytes");

/* 64 bytes of 0xff, then 64 of zero: keyload_mask_ + 64 - len masks len bytes. */
#define KEYLOAD_FF8 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
static const unsigned char keyload_mask_[128] __attribute__((aligned(64), unused)) = {
    KEYLOAD_FF8, KEYLOAD_FF8, KEYLOAD_FF8, KEYLOAD_FF8,
    KEYLOAD_FF8, KEYLOAD_FF8, KEYLOAD_FF8, KEYLOAD_FF8,
};
#undef KEYLOAD_FF8

/* Can 64 bytes be read at p without touching the next page? */
static inline bool keyload_in_page(const void *p)
{
#ifdef KEYLOAD_OVERREAD
	return ((uintptr_t)p & 4095u) <= 4096u - KEYLOAD_MAX;
#else
	(void)p;
	return false;
#endif
}

#if defined(__SSE2__) && defined(__GNUC__)
/* The masked loads of keyload from p (64 readable bytes). */
static inline void keyload_vectors(struct keyload *k, const char *p, size_t len)
{
	const unsigned char *m = keyload_mask_ + KEYLOAD_MAX - len;

	for (unsigned i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
		__m128i mk = _mm_loadu_si128((const __m128i *)(const void *)(m + 16 * i));
		k->v[i] = _mm_and_si128(v, mk);
	}
}

/* A key near the end of its page, or empty: its bytes copied into tmp
 * (64 bytes), zero after them.  Out of line: the usual path keeps the key
 * in registers. */
static __attribute__((noinline, cold, unused)) const char *keyload_copy(char *tmp, const char *p,
                                                                        size_t len)
{
	memset(tmp, 0, KEYLOAD_MAX);
	if (len) {
		memcpy(tmp, p, len);
	}
	return tmp;
}
#endif

/* k = the len (<= KEYLOAD_MAX) bytes at p, zero-padded to 64.  (An empty
 * key's pointer may be just past readable memory: never read.) */
static inline void keyload(struct keyload *k, const char *p, size_t len)
{
#if defined(__SSE2__) && defined(__GNUC__)
	_Alignas(16) char tmp[KEYLOAD_MAX];

	if (__builtin_expect(!(len != 0 && keyload_in_page(p)), 0)) {
		p = keyload_copy(tmp, p, len);
	}
	keyload_vectors(k, p, len);
#else
	memset(k->w, 0, sizeof(k->w));
	if (len) {
		memcpy(k->w, p, len);
	}
#endif
}

/* Do the 64 bytes at p (zero past the key's end, e.g. a stored key) equal k? */
static inline bool keyload_equal(const struct keyload *k, const char *p)
{
#if defined(__SSE2__) && defined(__GNUC__)
	__m128i eq = _mm_set1_epi8(-1);
	for (unsigned i = 0; i < 4; i++) {
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
		eq = _mm_and_si128(eq, _mm_cmpeq_epi8(k->v[i], b));
	}
	return _mm_movemask_epi8(eq) == 0xffff;
#else
	return memcmp(k->w, p, KEYLOAD_MAX) == 0;
#endif
}

/* The offset of the first byte c (not 0) in k, or KEYLOAD_MAX. */
static inline size_t keyload_find(const struct keyload *k, char c)
{
#if defined(__SSE2__) && defined(__GNUC__)
	uint64_t hit = 0;
	__m128i cv = _mm_set1_epi8(c);
	for (unsigned i = 0; i < 4; i++) {
		hit |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(k->v[i], cv))
		       << (16 * i);
	}
	return hit ? (size_t)__builtin_ctzll(hit) : KEYLOAD_MAX;
#else
	const char *b = (const char *)k->w;
	const char *q = memchr(b, c, KEYLOAD_MAX);
	return q ? (size_t)(q - b) : KEYLOAD_MAX;
#endif
}

#endif
