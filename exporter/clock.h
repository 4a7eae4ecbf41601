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

#endif
