/*
 * linepool.h - the skeleton of the --threads pools: the reading thread
 * fills batches of lines, every core works on whole batches with a parser
 * of its own, the batches come back to the reading thread in fill order.
 *
 * A batch holds segments in push order: runs of whole lines as the tail
 * hands them over (read straight into the batch through linepool_lend, or
 * copied), single lines (copied) and events.  What working on a batch
 * means, and what comes back, is the pool user's: countpool.c (--once:
 * counts into a registry per batch), steppool.c (--backfill: a registry
 * per step and a note per line), parsepool.c (records per line, counted
 * by the reading thread).  The ring and its threads are batchring.c's.
 * Design and trade-offs: top of linepool.c.
 */
#ifndef EXPORTER_LINEPOOL_H
#define EXPORTER_LINEPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter/input/tail.h"
#include "parsers/logparse.h"
#include "parsers/logtime.h"

#define LINEPOOL_MAX_THREADS 256u
/* Segments per batch: a pool user's per-segment arrays have this many. */
#define LINEPOOL_BATCH_SEGS 4096u

enum linepool_seg_kind {
	LINEPOOL_BLOCK, /* whole lines, each ending in '\n', split with the batch's cap */
	LINEPOOL_LINE,  /* one line without its newline */
	LINEPOOL_EVENT, /* an event pushed between lines */
};

/* One segment (plain value record). */
struct linepool_seg {
	const char *p; /* into the batch (or the pusher's memory); NULL for an event */
	uint32_t len;
	uint8_t kind;   /* enum linepool_seg_kind */
	uint16_t event; /* LINEPOOL_EVENT */
	uint64_t value; /* LINEPOOL_EVENT */
};

/* A batch as the callbacks see it: the segments are borrowed until the
 * callback returns; data is the user's state for this batch. */
struct linepool_batch {
	const struct linepool_seg *seg;
	size_t n_seg;
	size_t cap; /* line cap of the blocks */
	void *data;
};

/* One working thread's own state (plain value record). */
struct linepool_worker {
	struct log_parser *parser;
	struct logtime_cache tc;
};

/* Work on one batch, on any thread (never two on one batch). */
typedef void linepool_work_fn(struct linepool_worker *w, const struct linepool_batch *b);

/* A worked batch on the pushing thread, oldest first; afterwards its
 * segments are dropped and it is filled again. */
typedef void linepool_deliver_fn(void *userdata, const struct linepool_batch *b);

struct linepool;

/* A pool of threads - 1 workers (the pushing thread works too while it
 * waits), each with a parser for (kind, format, opts; opts NULL: the
 * defaults), over n_batches batches whose states are data[0..n_batches)
 * (borrowed for the pool's life).  0 and *ret_pool; -EINVAL (threads < 2
 * or over LINEPOOL_MAX_THREADS, n_batches < 2, a bad format); -ENOMEM;
 * -errno from pthread_create. */
int linepool_create(unsigned threads, enum logparse_kind kind, const char *format,
                    const struct logparse_opts *opts, size_t n_batches, void *const *data,
                    linepool_work_fn *work, linepool_deliver_fn *deliver, void *userdata,
                    struct linepool **ret_pool);

/* Queue buf[0..n): whole lines (tail_callbacks.block) split with cap;
 * one line without its newline; one event.  Copied unless lent.  May
 * deliver earlier batches first.  A segment larger than any batch is
 * worked and delivered on this thread, in order, without a copy. */
void linepool_push_block(struct linepool *p, const char *buf, size_t n, size_t cap);
void linepool_push_line(struct linepool *p, const char *line, size_t len);
void linepool_push_event(struct linepool *p, uint16_t event, uint64_t value);

/* Memory for the reader to read into (tail_callbacks.lend): at least want
 * bytes (*ret_size) at the end of the filling batch, so that blocks and
 * lines pushed from there are kept without a copy.  May deliver earlier
 * batches first.  NULL when want cannot fit in a batch. */
char *linepool_lend(struct linepool *p, size_t want, size_t *ret_size);

/* The state of the batch being filled (nothing pushed into it yet when
 * linepool_is_empty). */
void *linepool_filling(struct linepool *p);
bool linepool_is_empty(struct linepool *p);

/* Deliver everything pushed so far. */
void linepool_flush(struct linepool *p);

/* The batch's lines and events to cb in push order, as a tail would: runs
 * of lines split with tail_split (its events go to cb->event), pushed
 * events to event (NULL: to cb->event as tail events). */
typedef void linepool_event_fn(void *userdata, uint16_t event, uint64_t value);
void linepool_replay(const struct linepool_batch *b, const struct tail_callbacks *cb,
                     linepool_event_fn *event);

/* NULL-safe; stops the workers.  What was not flushed is dropped; the
 * batches' states are the caller's. */
void linepool_destroy(struct linepool *p);

#endif
