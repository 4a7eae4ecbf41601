/*
 * stepwriter.h - --backfill's output: a registry's samples at every step of
 * log time, stamped, filed by family, written out as one OpenMetrics
 * document.
 *
 * Each step renders the source's cumulative registry through this
 * writer's expo_writer (metrics_render_with): every sample line gets the
 * step's timestamp, and a series seen for the first time gets a 0 sample
 * at the start of its step first (increase() then counts its first
 * lines).  OpenMetrics wants each family in one piece: the samples of a
 * family go to an unlinked temporary file of its own beside the output,
 * concatenated at the end.  Design and trade-offs: top of stepwriter.c.
 */
#ifndef EXPORTER_STEPWRITER_H
#define EXPORTER_STEPWRITER_H

#include <stdint.h>
#include <stdio.h>

#include "exporter/metrics/metrics.h"

struct stepwriter;

/* A writer whose temporary files go to dir (copied); NULL: out of memory. */
struct stepwriter *stepwriter_create(const char *dir);

/* NULL-safe; closes (and so frees) the temporary files. */
void stepwriter_destroy(struct stepwriter *w);

/* A new source follows: its series are not the previous source's. */
void stepwriter_begin_source(struct stepwriter *w);

/* Render m (OpenMetrics, no exemplars, no _created samples) stamped ts_ms;
 * a new series' 0 sample is stamped prev_ms (the start of the step).
 * Process-level families (open files, last read, checkpoint, reload,
 * build and status-code info) are left out.  0 or the writer's first
 * error (stepwriter_error). */
int stepwriter_add(struct stepwriter *w, struct metrics *m, int64_t ts_ms, int64_t prev_ms);

/* The first error of any call so far: 0 or -errno (-ENOSPC: a full disk). */
int stepwriter_error(const struct stepwriter *w);

/* Sample lines written so far. */
uint64_t stepwriter_samples(const struct stepwriter *w);

/* The document: every family (header and samples) in order of first
 * sight, then "# EOF".  0 or -errno. */
int stepwriter_emit(struct stepwriter *w, FILE *out);

#endif
