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

/* Buckets 0.1 and 1 s for both histograms; native histograms (schema 3,
 * at most 16 buckets) when native; series_limit 0: the default. */
static inline struct metrics *fake_registry_with(struct fake_clock *c, uint64_t hold_ms,
                                                 bool created, bool native, size_t series_limit)
{
	static const double buckets[] = {0.1, 1};
	struct metrics_options o = {.request_buckets = buckets,
	                            .n_request_buckets = 2,
	                            .upstream_buckets = buckets,
	                            .n_upstream_buckets = 2,
	                            .series_limit = series_limit,
	                            .new_series_hold_ms = hold_ms,
	                            .created_timestamps = created,
	                            .clock = {fake_now, c},
	                            .native_histograms = native,
	                            .native_schema = 3,
	                            .native_max_buckets = 16,
	                            .native_zero_threshold = 1e-9};
	struct metrics *m = metrics_create(&o);
	assert_non_null(m);
	return m;
}

static inline struct metrics *fake_registry(struct fake_clock *c, uint64_t hold_ms, bool created)
{
	return fake_registry_with(c, hold_ms, created, false, 0);
}

static inline struct metrics *fake_registry_native(struct fake_clock *c, uint64_t hold_ms,
                                                   bool created)
{
	return fake_registry_with(c, hold_ms, created, true, 0);
}

#endif
