/*
 * countpool.h - count the lines of one source on several cores, each core
 * into registries of its own, merged in file order.
 *
 * For --once: the reading thread hands over runs of whole lines (a
 * tail_callbacks block, or single lines), read straight into the batches
 * (countpool_lend) or copied there,
 * and a worker (or the reading thread while it waits) splits, parses and
 * counts a whole batch into the batch's private registry, whose histogram
 * sums are journaled (metrics_source_journal_sums).  Batches come back to
 * the reading thread in order, to be merged into the source's registry
 * (metrics_source_merge): the counts are the same bytes as with one
 * thread, sums included.  Nothing per line crosses between threads.
 * Design and trade-offs: top of countpool.c.
 */
#ifndef EXPORTER_COUNTPOOL_H
#define EXPORTER_COUNTPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "exporter/metrics/metrics.h"

/* Failing lines of one batch kept for sampling (parsefail keeps 5). */
#define COUNTPOOL_FAIL_SAMPLES 5u

/* One batch counted, handed back in order.  ms holds its counts: merge it
 * (metrics_source_merge) before returning; the rest is what the registry
 * does not hold.  Borrowed until the callback returns. */
struct countpool_result {
	struct metrics_source *ms;
	uint64_t lines;    /* lines counted (parsed or not) */
	uint64_t failed;   /* of which did not parse */
	uint64_t too_long; /* lines over the cap, skipped (TAIL_EV_TOO_LONG) */
	size_t n_samples;  /* the first failing lines, up to COUNTPOOL_FAIL_SAMPLES */
	const char *sample[COUNTPOOL_FAIL_SAMPLES];
	size_t sample_len[COUNTPOOL_FAIL_SAMPLES];
};

typedef void countpool_deliver_fn(void *userdata, const struct countpool_result *r);

struct countpool;

/* A pool of threads - 1 workers (the pushing thread is the last one), each
 * with its own parser for cs's format; batch registries are made with mo
 * and cs's name and labels.  0 and *ret_pool; -EINVAL (threads < 2, a bad
 * format); -ENOTSUP (field labels: their series tables cannot be merged);
 * -ENOMEM; -errno from pthread_create. */
int countpool_create(unsigned threads, const struct config_source *cs,
                     const struct metrics_options *mo, countpool_deliver_fn *deliver,
                     void *userdata, struct countpool **ret_pool);

/* Queue buf[0..n): whole lines, each ending in '\n', split as tail_split
 * does with line cap cap.  Copied.  May deliver earlier batches first. */
void countpool_push_block(struct countpool *p, const char *buf, size_t n, size_t cap);

/* Memory for the reader to read into (tail_callbacks.lend): at least
 * want bytes (*ret_size) at the end of the filling batch, so that blocks
 * and lines pushed from there are kept without a copy.  May deliver
 * earlier batches first.  NULL when want cannot fit in a batch. */
char *countpool_lend(struct countpool *p, size_t want, size_t *ret_size);

/* Queue one line (no newline; copied).  May deliver earlier batches. */
void countpool_push_line(struct countpool *p, const char *line, size_t len);

/* 0 when the pool's batch registries merge into dst (same histogram
 * bounds, no field labels), else -ENOTSUP.  Changes nothing. */
int countpool_can_merge_into(struct countpool *p, struct metrics_source *dst);

/* Deliver everything pushed so far. */
void countpool_flush(struct countpool *p);

/* NULL-safe; stops the workers.  What was not flushed is dropped. */
void countpool_destroy(struct countpool *p);

#endif
