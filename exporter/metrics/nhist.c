/*
 * nhist.c - native histogram of one series (see nhist.h).
 *
 * The window: counts[k] is bucket first + k; the populated range is where
 * the counts are not zero (found by scanning when a reader or a re-layout
 * needs it, never kept per observation).  An observation whose bucket is
 * inside the window costs the schema-8 index from the double's bits (the
 * exponent, then the mantissa's top 10 bits pick a slice of the octave
 * that holds at most one bound: one table look-up and one integer
 * compare), a shift down to the current schema (ceil(i / 2^(8 - schema)),
 * exact: a bucket at schema s is two at s + 1) and one relaxed increment.
 * Only one outside it takes the slow path, which re-lays the window out:
 * the new range is centred so that growth on either side is absorbed, and
 * when even the populated range plus the new bucket exceeds max_buckets the
 * schema is lowered one step at a time (bucket i becomes ceil(i/2): pairs
 * merge, nothing is lost).  At schema -4 (factor 65536) a value that still
 * does not fit is counted in the nearest edge bucket; durations never get
 * there with 8 or more buckets.
 *
 * Rejected: a sparse map of populated buckets capped by their number, as
 * client_golang keeps (a hash probe or lock per observation, and memory
 * that moves under a lock-free reader); log2() for the index (slower, and
 * off by one at bucket bounds where frexp and the table are exact); a
 * search of the 2^schema bounds per observation (what this file did first:
 * 3 dependent loads at schema 3, 8 at schema 8); the populated range kept
 * as lo/hi per observation (two compares and stores per line for what a
 * scrape finds by scanning at most max_buckets counters).
 */
#include "exporter/metrics/nhist.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct nhist {
	const struct nhist_layout *l;
	_Atomic uint32_t seq; /* odd while the writer re-lays the window out */
	_Atomic int32_t schema;
	_Atomic int32_t first;
	_Atomic uint64_t zero;
	_Atomic uint64_t counts[]; /* [l->max_buckets] */
};

#define RLX memory_order_relaxed
#define MANTISSA ((UINT64_C(1) << 52) - 1)
/* A multiple of 2^12 above every |index|: ceil by an unsigned shift. */
#define INDEX_OFFSET (UINT32_C(1) << 24)

int nhist_layout_init(struct nhist_layout *l, int schema, unsigned max_buckets,
                      double zero_threshold)
{
	if (schema < NHIST_MIN_SCHEMA || schema > NHIST_MAX_SCHEMA ||
	    max_buckets < NHIST_MIN_BUCKETS || max_buckets > NHIST_MAX_BUCKETS ||
	    !(zero_threshold >= 0.0) || zero_threshold > DBL_MAX) {
		return -EINVAL;
	}
	l->schema = schema;
	l->max_buckets = max_buckets;
	l->zero_threshold = zero_threshold;
	for (int k = 0; k < 256; k++) {
		uint64_t u;
		l->bounds[k] = exp2((double)k / 256.0 - 1.0);
		memcpy(&u, &l->bounds[k], sizeof(u));
		l->bound_m[k] = u & MANTISSA;
	}
	l->bound_m[256] = UINT64_MAX;
	for (size_t j = 0, k = 0; j < (size_t)1 << NHIST_SLICE_BITS; j++) {
		while (k < 256 && l->bound_m[k] < (uint64_t)j << (52 - NHIST_SLICE_BITS)) {
			k++;
		}
		l->slice_k[j] = (uint16_t)k;
	}
	return 0;
}

struct nhist *nhist_create(const struct nhist_layout *l)
{
	struct nhist *h = calloc(1, sizeof(*h) + l->max_buckets * sizeof(h->counts[0]));

	if (!h) {
		return NULL;
	}
	h->l = l;
	atomic_store_explicit(&h->schema, l->schema, RLX);
	return h;
}

void nhist_destroy(struct nhist *h)
{
	free(h);
}

/* floor(x / 2^k) for any sign (>> on a negative value is implementation-defined). */
static int64_t floor_shift(int64_t x, unsigned k)
{
	return x >= 0 ? x >> k : -((-x + ((int64_t)1 << k) - 1) >> k);
}

/* Bucket i at schema s as a bucket at schema s - steps: ceil(i / 2^steps). */
static int64_t reduce(int64_t i, unsigned steps)
{
	return -floor_shift(-i, steps);
}

/* The schema-8 index from the bits u of a double f * 2^e (f in [0.5, 1),
 * the fraction in u's 52 mantissa bits): the count of schema-8 bounds
 * below f, plus 256 per octave. */
static inline int32_t index8_bits(const struct nhist_layout *l, uint64_t u, int e)
{
	uint64_t m = u & MANTISSA;
	unsigned k = l->slice_k[m >> (52 - NHIST_SLICE_BITS)];

	k += l->bound_m[k] < m;
	return (int32_t)k + (int32_t)(e - 1) * 256;
}

/* A subnormal v: frexp normalises it (out of line: the hot path then
 * needs no stack frame). */
static int32_t __attribute__((noinline, cold))
index8_subnormal(const struct nhist_layout *l, double v)
{
	int e;
	double f = frexp(v, &e);
	uint64_t u;

	memcpy(&u, &f, sizeof(u));
	return index8_bits(l, u, e);
}

/* The schema-8 index of v (> 0, finite). */
static inline int32_t index8(const struct nhist_layout *l, double v)
{
	uint64_t u;
	unsigned be;

	memcpy(&u, &v, sizeof(u));
	be = (unsigned)(u >> 52) & 0x7ff; /* v = f * 2^(be - 1022), f in [0.5, 1) */
	if (__builtin_expect(be == 0, 0)) {
		return index8_subnormal(l, v);
	}
	return index8_bits(l, u, (int)be - 1022);
}

/* ceil(i8 / 2^(8 - schema)) for schema -4..8 (|i8| < 2^20): branch-free. */
static inline int32_t from8(int32_t i8, int schema)
{
	unsigned k = (unsigned)(8 - schema);

	return (int32_t)(((uint32_t)i8 + INDEX_OFFSET + (UINT32_C(1) << k) - 1) >> k) -
	       (int32_t)(INDEX_OFFSET >> k);
}

int32_t nhist_index(const struct nhist_layout *l, int schema, double v)
{
	return from8(index8(l, v), schema);
}

static inline void add_count(_Atomic uint64_t *c, uint64_t n)
{
	uint64_t v = atomic_load_explicit(c, RLX);

	atomic_store_explicit(c, v > UINT64_MAX - n ? UINT64_MAX : v + n, RLX);
}

/* The populated range lo..hi (bucket indexes) of a window starting at
 * first: false when every count is 0. */
static bool populated(const struct nhist *h, int64_t first, int64_t *lo, int64_t *hi)
{
	int64_t w = h->l->max_buckets, a = 0, b = w - 1;

	while (a < w && atomic_load_explicit(&h->counts[a], RLX) == 0) {
		a++;
	}
	if (a == w) {
		return false;
	}
	while (atomic_load_explicit(&h->counts[b], RLX) == 0) {
		b--;
	}
	*lo = first + a;
	*hi = first + b;
	return true;
}

/* Re-lay the window out, lowering the schema by at least min_steps, and
 * add n to bucket idx (at the current schema) when n > 0.  Writer only;
 * readers retry around it (seq odd). */
static void __attribute__((noinline))
relayout(struct nhist *h, unsigned min_steps, int64_t idx, uint64_t n)
{
	uint64_t old[NHIST_MAX_BUCKETS];
	const int64_t w = h->l->max_buckets;
	int32_t s = atomic_load_explicit(&h->schema, RLX);
	int64_t first = atomic_load_explicit(&h->first, RLX);
	int64_t lo, hi;
	bool empty = !populated(h, first, &lo, &hi);
	unsigned steps = min_steps;
	int64_t nlo, nhi, nfirst, nidx;
	uint32_t seq = atomic_load_explicit(&h->seq, RLX);

	if (empty) {
		lo = hi = idx;
	}
	for (;; steps++) {
		nidx = reduce(idx, steps);
		nlo = reduce(lo, steps);
		nhi = reduce(hi, steps);
		if (n) {
			nlo = nidx < nlo ? nidx : nlo;
			nhi = nidx > nhi ? nidx : nhi;
		}
		if (nhi - nlo < w || s - (int32_t)steps <= NHIST_MIN_SCHEMA) {
			break;
		}
	}
	if (nhi - nlo >= w) {
		/* Schema -4 and still too wide: the edge bucket nearest the value. */
		int64_t olo = empty ? nidx : reduce(lo, steps),
		        ohi = empty ? nidx : reduce(hi, steps);
		nidx = nidx < olo ? ohi - w + 1 : olo + w - 1;
		nlo = nidx < olo ? nidx : olo;
		nhi = nidx > ohi ? nidx : ohi;
	}
	nfirst = nlo - (w - (nhi - nlo + 1)) / 2;

	atomic_store_explicit(&h->seq, seq + 1, RLX);
	atomic_thread_fence(memory_order_release);
	for (int64_t k = 0; k < w; k++) {
		old[k] = atomic_load_explicit(&h->counts[k], RLX);
		atomic_store_explicit(&h->counts[k], 0, RLX);
	}
	for (int64_t i = lo; !empty && i <= hi; i++) {
		if (old[i - first]) {
			add_count(&h->counts[reduce(i, steps) - nfirst], old[i - first]);
		}
	}
	if (n) {
		add_count(&h->counts[nidx - nfirst], n);
	}
	atomic_store_explicit(&h->schema, s - (int32_t)steps, RLX);
	atomic_store_explicit(&h->first, (int32_t)nfirst, RLX);
	atomic_store_explicit(&h->seq, seq + 2, memory_order_release);
}

/* Add n to bucket idx at the current schema. */
static inline void add_at(struct nhist *h, int64_t idx, uint64_t n)
{
	int64_t off = idx - atomic_load_explicit(&h->first, RLX);

	if (off >= 0 && off < (int64_t)h->l->max_buckets) {
		add_count(&h->counts[off], n);
		return;
	}
	relayout(h, 0, idx, n);
}

void nhist_observe(struct nhist *h, double v)
{
	const struct nhist_layout *l = h->l;
	int32_t idx;
	int64_t off;

	if (__builtin_expect(!(v > l->zero_threshold), 0)) {
		add_count(&h->zero, 1); /* zero durations (and NaN, never produced) */
		return;
	}
	v = v > DBL_MAX ? DBL_MAX : v;
	idx = from8(index8(l, v), atomic_load_explicit(&h->schema, RLX));
	off = (int64_t)idx - atomic_load_explicit(&h->first, RLX);
	if (__builtin_expect((uint64_t)off < l->max_buckets, 1)) {
		/* One writer: a plain increment (2^64 observations are out of reach). */
		atomic_store_explicit(&h->counts[off],
		                      atomic_load_explicit(&h->counts[off], RLX) + 1, RLX);
		return;
	}
	relayout(h, 0, idx, 1);
}

int nhist_add(struct nhist *h, int schema, int32_t index, uint64_t n)
{
	int32_t s = atomic_load_explicit(&h->schema, RLX);

	if (schema < NHIST_MIN_SCHEMA || schema > NHIST_MAX_SCHEMA || index > NHIST_MAX_INDEX ||
	    index < -NHIST_MAX_INDEX) {
		return -EINVAL;
	}
	if (schema < s) {
		relayout(h, (unsigned)(s - schema), 0, 0);
		s = schema;
	}
	if (n) {
		add_at(h, reduce(index, (unsigned)(schema - s)), n);
	}
	return 0;
}

void nhist_add_zero(struct nhist *h, uint64_t n)
{
	add_count(&h->zero, n);
}

void nhist_merge(struct nhist *dst, const struct nhist *src)
{
	struct nhist_snapshot *snap = malloc(sizeof(*snap));

	/* The writer of both: src does not move, the read succeeds at once. */
	if (!snap || nhist_read(src, snap) < 0) {
		free(snap);
		return;
	}
	nhist_add_zero(dst, snap->zero);
	(void)nhist_add(dst, snap->schema, 0, 0);
	for (size_t k = 0; k < snap->n; k++) {
		(void)nhist_add(dst, snap->schema, snap->first + (int32_t)k, snap->counts[k]);
	}
	free(snap);
}

/* One attempt at a consistent copy: false when the window moved meanwhile. */
static bool read_once(const struct nhist *h, struct nhist_snapshot *r)
{
	uint32_t s1 = atomic_load_explicit(&h->seq, memory_order_acquire), s2;
	int64_t first, lo, hi;
	uint64_t sum = 0;

	if (s1 & 1) {
		return false;
	}
	r->schema = atomic_load_explicit(&h->schema, RLX);
	first = atomic_load_explicit(&h->first, RLX);
	r->zero = atomic_load_explicit(&h->zero, RLX);
	r->n = 0;
	r->first = 0;
	/* The counts are copied whole first (a count read twice could differ). */
	for (size_t k = 0; k < h->l->max_buckets; k++) {
		r->counts[k] = atomic_load_explicit(&h->counts[k], RLX);
	}
	atomic_thread_fence(memory_order_acquire);
	s2 = atomic_load_explicit(&h->seq, RLX);
	if (s1 != s2) {
		return false;
	}
	for (lo = 0; lo < (int64_t)h->l->max_buckets && r->counts[lo] == 0; lo++) {
	}
	if (lo < (int64_t)h->l->max_buckets) {
		for (hi = (int64_t)h->l->max_buckets - 1; r->counts[hi] == 0; hi--) {
		}
		r->first = (int32_t)(first + lo);
		r->n = (size_t)(hi - lo + 1);
		memmove(r->counts, r->counts + lo, r->n * sizeof(r->counts[0]));
		for (size_t k = 0; k < r->n; k++) {
			sum += r->counts[k];
		}
	}
	r->zero_threshold = h->l->zero_threshold;
	r->count = r->zero + sum;
	return true;
}

int nhist_read(const struct nhist *h, struct nhist_snapshot *ret)
{
	for (int tries = 0; tries < 10000; tries++) {
		if (read_once(h, ret)) {
			return 0;
		}
		if (tries > 16) {
			(void)sched_yield();
		}
	}
	return -EAGAIN;
}

void nhist_snapshot_empty(const struct nhist_layout *l, struct nhist_snapshot *ret)
{
	ret->schema = l->schema;
	ret->zero_threshold = l->zero_threshold;
	ret->zero = 0;
	ret->count = 0;
	ret->first = 0;
	ret->n = 0;
}
