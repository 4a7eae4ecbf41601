/*
 * clock.h - the two clocks the exporter reads: a monotonic one for
 * deadlines and intervals, the wall clock for timestamps it exports.
 */
#ifndef EXPORTER_CLOCK_H
#define EXPORTER_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (deadlines, retry and idle timers). */
uint64_t clock_mono_ms(void);

/* Unix time in seconds with sub-second precision (exported timestamps). */
double clock_unix_seconds(void);

/* Unix time in milliseconds (series creation times). */
int64_t clock_unix_ms(void);

/* A wall clock that tests can replace: unix_ms(ctx) in Unix milliseconds.
 * A plain value record; a NULL unix_ms means the real clock. */
struct clock_wall {
	int64_t (*unix_ms)(void *ctx);
	void *ctx;
};

/* Read c (NULL or unset: clock_unix_ms). */
int64_t clock_wall_ms(const struct clock_wall *c);

#endif
