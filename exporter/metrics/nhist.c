/*
 * nhist.c - native histogram of one series (see nhist.h).
 *
 * The window: counts[k] is bucket first + k; lo..hi is the populated
 * range (lo > hi: empty).  An observation whose bucket is inside the
 * window costs the exponent from the double's bits, a branch-free search
 * of 2^schema bounds (3 steps at schema 3) and one relaxed increment; only one outside it takes the
 * slow path, which re-lays the window out: the new range is centred so that growth on either side
 * is absorbed, and when even the populated range plus the new bucket exceeds max_buckets the schema
 * is lowered one step at a time (bucket i becomes ceil(i/2): pairs merge, nothing is lost).  At
 * schema -4 (factor 65536) a value that still does not fit is counted in the nearest edge bucket;
 * durations never get there with 8 or more buckets.
 *
 * Rejected: a sparse map of populated buckets capped by their number, as
 * client_golang keeps (a hash probe or lock per observation, and memory
 * that moves under a lock-free reader); log2() for the index (slower, and
 * off by one at bucket bounds where frexp and the table are exact).
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
	_Atomic int32_t lo;
	_Atomic int32_t hi;
	_Atomic uint64_t zero;
	_Atomic uint64_t counts[]; /* [l->max_buckets] */
};

#define RLX memory_order_relaxed

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
		l->bounds[k] = exp2((double)k / 256.0 - 1.0);
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
	atomic_store_explicit(&h->lo, INT32_MAX, RLX);
	atomic_store_explicit(&h->hi, INT32_MIN, RLX);
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

/* frexp for a positive finite v: v = f * 2^e with f in [0.5, 1).  Normal
 * numbers from their bits (no libm call on the hot path), others by frexp. */
static inline double split(double v, int *e)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	if (((u >> 52) & 0x7ff) == 0 || ((u >> 52) & 0x7ff) == 0x7ff) {
		return frexp(v, e); /* subnormal (or not finite: not passed here) */
	}
	*e = (int)((u >> 52) & 0x7ff) - 1022;
	u = (u & ~(UINT64_C(0x7ff) << 52)) | (UINT64_C(1022) << 52);
	memcpy(&v, &u, sizeof(v));
	return v;
}

int32_t nhist_index(const struct nhist_layout *l, int schema, double v)
{
	int e;
	double f = split(v, &e);

	if (schema > 0) {
		size_t n = (size_t)1 << schema, stride = (size_t)256 >> schema, lo = 0, len = n;
		/* The first bound not below f (n when f is above them all), without
		 * data-dependent branches: a branchy search mispredicted about once
		 * per step, which cost more than the rest of the observation. */
		while (len > 1) {
			size_t half = len / 2;
			lo += l->bounds[(lo + half - 1) * stride] < f ? half : 0;
			len -= half;
		}
		lo += l->bounds[lo * stride] < f;
		return (int32_t)((int64_t)lo + (int64_t)(e - 1) * (int64_t)n);
	}
	if (f == 0.5) {
		e--; /* a power of two is the upper bound of the bucket below */
	}
	return (int32_t)floor_shift((int64_t)e + ((int64_t)1 << -schema) - 1, (unsigned)-schema);
}

static inline void add_count(_Atomic uint64_t *c, uint64_t n)
{
	uint64_t v = atomic_load_explicit(c, RLX);

	atomic_store_explicit(c, v > UINT64_MAX - n ? UINT64_MAX : v + n, RLX);
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
	int64_t lo = atomic_load_explicit(&h->lo, RLX), hi = atomic_load_explicit(&h->hi, RLX);
	bool empty = lo > hi;
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
	if (!n && empty) {
		nlo = INT32_MAX;
		nhi = INT32_MIN;
	}
	atomic_store_explicit(&h->schema, s - (int32_t)steps, RLX);
	atomic_store_explicit(&h->first, (int32_t)nfirst, RLX);
	atomic_store_explicit(&h->lo, (int32_t)nlo, RLX);
	atomic_store_explicit(&h->hi, (int32_t)nhi, RLX);
	atomic_store_explicit(&h->seq, seq + 2, memory_order_release);
}

/* Add n to bucket idx at the current schema. */
static inline void add_at(struct nhist *h, int64_t idx, uint64_t n)
{
	int64_t off = idx - atomic_load_explicit(&h->first, RLX);

	if (off >= 0 && off < (int64_t)h->l->max_buckets) {
		/* The range first, then the count: a reader never misses a count it adds up. */
		if (idx < atomic_load_explicit(&h->lo, RLX)) {
			atomic_store_explicit(&h->lo, (int32_t)idx, RLX);
		}
		if (idx > atomic_load_explicit(&h->hi, RLX)) {
			atomic_store_explicit(&h->hi, (int32_t)idx, RLX);
		}
		add_count(&h->counts[off], n);
		return;
	}
	relayout(h, 0, idx, n);
}

void nhist_observe(struct nhist *h, double v)
{
	if (!(v > h->l->zero_threshold)) {
		add_count(&h->zero, 1); /* zero durations (and NaN, never produced) */
		return;
	}
	add_at(h,
	       nhist_index(h->l, atomic_load_explicit(&h->schema, RLX), v > DBL_MAX ? DBL_MAX : v),
	       1);
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
	lo = atomic_load_explicit(&h->lo, RLX);
	hi = atomic_load_explicit(&h->hi, RLX);
	r->zero = atomic_load_explicit(&h->zero, RLX);
	r->n = 0;
	r->first = 0;
	if (lo <= hi && (lo < first || hi - first >= (int64_t)h->l->max_buckets)) {
		return false; /* torn by a re-layout: the sequence has moved */
	}
	if (lo <= hi) {
		r->first = (int32_t)lo;
		r->n = (size_t)(hi - lo + 1);
		for (size_t k = 0; k < r->n; k++) {
			r->counts[k] =
			    atomic_load_explicit(&h->counts[lo - first + (int64_t)k], RLX);
			sum += r->counts[k];
		}
	}
	atomic_thread_fence(memory_order_acquire);
	s2 = atomic_load_explicit(&h->seq, RLX);
	if (s1 != s2) {
		return false;
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
