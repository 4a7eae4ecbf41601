/*
 * nhist.h - native (exponential, sparse) histogram of one series.
 *
 * The bucket layout Prometheus uses for native histograms: with schema s
 * (-4..8) the base is 2^(2^-s) and bucket i holds the values in
 * (base^(i-1), base^i]; values at or below the zero threshold (zero
 * durations) go to the zero bucket.  The buckets are stored in a dense
 * window of max_buckets counters (the cap: bounded memory, allocated
 * once); when a value falls outside the window and the populated range
 * plus it would not fit, the resolution is halved (schema - 1, pairs of
 * buckets merged) until it fits, as the Go and Java client libraries do
 * when their bucket limit is exceeded.
 *
 * Concurrency: one writer (the series' ingest thread) and any number of
 * readers (scrapes, checkpoints).  A plain observation is one relaxed
 * increment; the rare re-layout (window moved or resolution halved) runs
 * inside a sequence lock that readers retry, so a reader never sees a
 * half-moved window.  The sum is not kept here: the classic histogram
 * next to it has it.
 */
#ifndef EXPORTER_NHIST_H
#define EXPORTER_NHIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NHIST_MIN_SCHEMA (-4)
#define NHIST_MAX_SCHEMA 8
#define NHIST_MIN_BUCKETS 8u
#define NHIST_MAX_BUCKETS 1024u
/* Bucket indexes of finite doubles stay within +-2^19 at schema 8; a
 * restored index beyond this is refused. */
#define NHIST_MAX_INDEX (1 << 20)
#define NHIST_DEFAULT_SCHEMA 3
#define NHIST_DEFAULT_MAX_BUCKETS 160u
/* client_golang's and client_java's default zero threshold. */
#define NHIST_DEFAULT_ZERO_THRESHOLD 2.938735877055719e-39 /* 2^-128 */

/* Shared, read-only settings of every native histogram of a registry,
 * filled by nhist_layout_init (owned by the caller, outlives the
 * histograms that point to it). */
struct nhist_layout {
	int schema;           /* initial (highest) resolution */
	unsigned max_buckets; /* NHIST_MIN_BUCKETS..NHIST_MAX_BUCKETS */
	double zero_threshold;
	double bounds[256]; /* 2^(k/256 - 1): the schema-8 bounds of frexp's fraction */
	/* The same bounds as the double's 52 mantissa bits (bounds[k] = (1 +
	 * bound_m[k] / 2^52) / 2; bound_m[256]: above them all), and per slice
	 * of the mantissa's top NHIST_SLICE_BITS bits the number of bounds
	 * below the slice: a slice holds at most one bound, so the schema-8
	 * index is one table look-up and one compare. */
	uint16_t slice_k[1u << 10];
	uint64_t bound_m[257];
};
#define NHIST_SLICE_BITS 10

/* Fill a layout: 0, or -EINVAL for a schema or bucket count out of range
 * or a zero threshold that is negative or not finite. */
int nhist_layout_init(struct nhist_layout *l, int schema, unsigned max_buckets,
                      double zero_threshold);

struct nhist;

/* A histogram using layout l (borrowed).  NULL on OOM. */
struct nhist *nhist_create(const struct nhist_layout *l);

/* NULL-safe. */
void nhist_destroy(struct nhist *h);

/* Writer: count one observation of v. */
void nhist_observe(struct nhist *h, double v);

/* Writer: add n observations to bucket index of a histogram at schema
 * (restore, merge): reduced to h's schema, h reduced when schema is lower.
 * -EINVAL for a schema outside -4..8 or |index| > NHIST_MAX_INDEX. */
int nhist_add(struct nhist *h, int schema, int32_t index, uint64_t n);

/* Writer: add n to the zero bucket. */
void nhist_add_zero(struct nhist *h, uint64_t n);

/* Writer of both: add every count of src to dst (src unchanged). */
void nhist_merge(struct nhist *dst, const struct nhist *src);

/* A reader's consistent copy: the populated range of the window. */
struct nhist_snapshot {
	int schema;
	double zero_threshold;
	uint64_t zero;
	uint64_t count; /* zero + every bucket */
	int32_t first;  /* index of counts[0] */
	size_t n;       /* counts[0..n): first .. first + n - 1, may hold zeros */
	uint64_t counts[NHIST_MAX_BUCKETS];
};

/* Reader: copy h into *ret.  0, or -EAGAIN when the writer kept moving the
 * window (after many tries; the caller may show the histogram empty). */
int nhist_read(const struct nhist *h, struct nhist_snapshot *ret);

/* An empty snapshot at the layout's schema (a held series). */
void nhist_snapshot_empty(const struct nhist_layout *l, struct nhist_snapshot *ret);

/* The bucket index of v (> 0, finite) at schema s, per the Prometheus
 * definition (as client_golang computes it from frexp and the bounds
 * table; here from the double's bits: see nhist.c). */
int32_t nhist_index(const struct nhist_layout *l, int schema, double v);

#endif
