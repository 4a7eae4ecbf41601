/*
 * source.h - one configured log source: its files, its parser, its metrics.
 *
 * The glue of the pipeline: tail hands out lines, the parser turns each
 * into a record, the registry counts it.  A source is driven by exactly one
 * thread (the ingest loop), which is what lets the registry skip locks.
 */
#ifndef EXPORTER_SOURCE_H
#define EXPORTER_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "exporter/metrics.h"

struct source;

/* Build a source from its config; registers it in m.  from_start: read
 * files present now from offset 0 (--once) instead of from their end.
 * On a bad format returns -EINVAL with a message in err. */
int source_create(const struct config_source *cs, struct metrics *m, bool from_start,
                  struct source **ret_source, char *err, size_t err_size);

/* NULL-safe. */
void source_destroy(struct source *s);

/* Read and count everything new in all files.  Returns bytes consumed. */
int64_t source_poll(struct source *s, bool at_eof_is_line);

/* The source's metrics (borrowed). */
struct metrics_source *source_metrics(struct source *s);

#endif
