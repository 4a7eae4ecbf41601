/*
 * steppool.h - count the lines of one --backfill source on several cores,
 * each batch into registries of its own per step of log time.
 *
 * The reading thread hands over runs of whole lines (read straight into
 * the batches through steppool_lend, or copied), single lines and tail
 * events; a worker (or the reading thread while it waits) splits and
 * parses a whole batch, reads every line's log time, counts each timed
 * line into the batch's registry for its step (histogram sums journaled)
 * and notes every line's outcome in order.  Batches come back to the
 * reading thread in order with those notes, which it replays through its
 * own step logic (steps opening and closing, late lines, counters without
 * a time), merging a step's registry into its open step where the step's
 * first line falls: the same bytes as with one thread.  Design and
 * trade-offs: top of steppool.c.
 */
#ifndef EXPORTER_STEPPOOL_H
#define EXPORTER_STEPPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "exporter/input/tail.h"
#include "exporter/metrics/metrics.h"

/* Step registries per batch; a batch spanning more steps is recounted by
 * the reading thread (overflow). */
#define STEPPOOL_MAX_STEPS 16u

enum steppool_kind {
	STEPPOOL_TIMED,       /* a run of lines counted in steps[step] of its batch */
	STEPPOOL_PARSE_ERROR, /* did not parse */
	STEPPOOL_TIME_ERROR,  /* parsed, no readable (or a future) time */
	STEPPOOL_AFTER_UNTIL, /* at or after until: left out */
	STEPPOOL_TOO_LONG,    /* a line over the cap inside a run of lines */
	STEPPOOL_EVENT,       /* a tail event pushed between lines */
};

/* One line (or event) of a batch, in push order; consecutive timed lines
 * of the same step are one item (a run: most of a batch is a few). */
struct steppool_item {
	const char *line; /* borrowed until the callback returns (NULL: TIMED, EVENT) */
	uint32_t len;
	uint32_t n;     /* STEPPOOL_TIMED: the lines of the run (at least 1) */
	uint8_t kind;   /* enum steppool_kind */
	uint8_t step;   /* STEPPOOL_TIMED: index into the batch's steps */
	uint16_t event; /* STEPPOOL_EVENT: the tail event */
	int64_t value;  /* TIMED: the run's earliest log time in ms; EVENT: the event's value */
	int64_t latest; /* TIMED: the run's latest log time in ms */
};

/* A batch handed back (never one with overflow).  Taking it, the callback
 * merges every step registry (metrics_source_merge: each has lines of its
 * step in the batch), which leaves them empty for the next batch; after
 * an error of the caller's, what it left is not dropped (the run ends). */
struct steppool_batch {
	const struct steppool_item *item;
	size_t n;
	int64_t step[STEPPOOL_MAX_STEPS]; /* step numbers of the registries */
	struct metrics_source *ms[STEPPOOL_MAX_STEPS];
	size_t n_steps;
	bool overflow; /* more steps than registries (not delivered) */
};

/* Returns true when it took the batch, false when the batch's lines must
 * be recounted on this thread instead (through the pool's recount
 * callbacks; then it must have changed nothing). */
typedef bool steppool_deliver_fn(void *userdata, const struct steppool_batch *b);

/* How lines map to steps (the --backfill options). */
struct steppool_steps {
	uint64_t step_ms;
	int64_t until_ms;  /* 0: none */
	int64_t future_ms; /* later than this: not a readable time */
};

struct steppool;

/* A pool of threads - 1 workers (the pushing thread is the last one) for
 * cs, whose step registries are made with mo.  A batch that cannot be
 * delivered as counted (overflow, or deliver returns false) gives its
 * lines and events, in order, to recount's line and event on the pushing
 * thread, as a tail would (recount is copied).  0 and *ret_pool; -EINVAL
 * (threads < 2, a bad format); -ENOTSUP (field labels, path labels,
 * filters: their counting needs the reading thread); -ENOMEM; -errno
 * from pthread_create. */
int steppool_create(unsigned threads, const struct config_source *cs,
                    const struct metrics_options *mo, const struct steppool_steps *steps,
                    const struct tail_callbacks *recount, steppool_deliver_fn *deliver,
                    void *userdata, struct steppool **ret_pool);

/* 0 when the step registries merge into dst, else -ENOTSUP. */
int steppool_can_merge_into(struct steppool *p, struct metrics_source *dst);

/* Memory to read into (tail_callbacks.lend, see countpool_lend). */
char *steppool_lend(struct steppool *p, size_t want, size_t *ret_size);

/* Queue whole lines, each ending in '\n' (tail_callbacks.block), split
 * with line cap cap; one line without its newline; one tail event.
 * Copied unless lent.  May deliver earlier batches first. */
void steppool_push_block(struct steppool *p, const char *buf, size_t n, size_t cap);
void steppool_push_line(struct steppool *p, const char *line, size_t len);
void steppool_push_event(struct steppool *p, int event, uint64_t value);

/* Deliver everything pushed so far. */
void steppool_flush(struct steppool *p);

/* NULL-safe; stops the workers.  What was not flushed is dropped. */
void steppool_destroy(struct steppool *p);

#endif
