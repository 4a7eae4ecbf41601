/*
 * backfill.h - old logs to OpenMetrics history for promtool (--backfill).
 *
 * Reads every file of every source from the start (globs expanded, files
 * sorted oldest first by modification time), places each line in the step
 * of its own log time, and writes the cumulative value of every log-derived
 * family at the end of each step, with a timestamp on every sample, as one
 * OpenMetrics document ending in "# EOF" that
 * `promtool tsdb create-blocks-from openmetrics` turns into TSDB blocks.
 * Design and trade-offs: top of backfill.c.
 */
#ifndef EXPORTER_BACKFILL_H
#define EXPORTER_BACKFILL_H

#include <stdint.h>

#include "config/config.h"

#define BACKFILL_DEFAULT_STEP_MS 60000u
#define BACKFILL_MIN_STEP_MS 1000u
#define BACKFILL_MAX_STEP_MS (24u * 3600u * 1000u)

struct backfill_options {
	const char *out;  /* output path, "-" for standard output */
	uint64_t step_ms; /* 0: BACKFILL_DEFAULT_STEP_MS */
	int64_t until_ms; /* lines at or after this Unix time are left out; 0: none */
	unsigned threads; /* parse on this many cores; 0: all (same output for any) */
};

/* Run a backfill of c's sources.  Returns the process exit status: 0 done;
 * 1 a file could not be read, the output could not be written (nothing is
 * left at the output path; a partial output is removed), or no line had a
 * readable time; 2 a source's format has no log time. */
int backfill_run(const struct config *c, const struct backfill_options *o);

#endif
