/*
 * fakeclock.h - a registry on a clock the test sets (test_metrics_render,
 * test_metrics_checkpoint): creation times and the new-series hold are
 * checked at exact instants.  Include after <cmocka.h> and metrics.h.
 */
#ifndef TESTS_FAKECLOCK_H
#define TESTS_FAKECLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define T0 1764756000000LL /* 2025-12-03T10:00:00Z in ms */

struct fake_clock {
	int64_t now;
};

static inline int64_t fake_now(void *ctx)
{
	return ((struct fake_clock *)ctx)->now;
}

/* Buckets 0.1 and 1 s for both histograms; with native, native histograms
 * beside them (schema 3, at most 16 buckets). */
static inline struct metrics *fake_registry_with(struct fake_clock *c, uint64_t hold_ms,
                                                 bool created, bool native)
{
	static const double buckets[] = {0.1, 1};
	struct metrics_options o = {.request_buckets = buckets,
	                            .n_request_buckets = 2,
	                            .upstream_buckets = buckets,
	                            .n_upstream_buckets = 2,
	                            .new_series_hold_ms = hold_ms,
	                            .created_timestamps = created,
	                            .clock = {fake_now, c}};
	if (native) {
		o.native_histograms = true;
		o.native_schema = 3;
		o.native_max_buckets = 16;
		o.native_zero_threshold = 1e-9;
	}
	struct metrics *m = metrics_create(&o);
	assert_non_null(m);
	return m;
}

static inline struct metrics *fake_registry(struct fake_clock *c, uint64_t hold_ms, bool created)
{
	return fake_registry_with(c, hold_ms, created, false);
}

/* The same with native histograms (schema 3, at most 16 buckets). */
static inline struct metrics *fake_registry_native(struct fake_clock *c, uint64_t hold_ms,
                                                   bool created)
{
	return fake_registry_with(c, hold_ms, created, true);
}

#endif
