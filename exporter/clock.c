/*
 * clock.c - monotonic milliseconds and Unix seconds (see clock.h).
 *
 * clock_gettime cannot fail for these clock ids on Linux, so the results
 * are used without a check.
 */
#include "exporter/clock.h"

#include <time.h>

uint64_t clock_mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double clock_unix_seconds(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t clock_unix_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(const struct clock_wall *c)
{
	return c && c->unix_ms ? c->unix_ms(c->ctx) : clock_unix_ms();
}
