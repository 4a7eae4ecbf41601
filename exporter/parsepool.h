/*
 * parsepool.h - parse the lines of one source on several cores, count them
 * in order.
 *
 * For --once and --backfill: the reading thread pushes lines, which are
 * copied into batches cut at line boundaries; worker threads (and the
 * reading thread while it waits) run the parser over whole batches, and
 * every line is handed back, with its parse result, to the reading thread
 * in exactly the order it was pushed.  Counting stays on one thread, in
 * file order, so the results are the same bytes as with one thread (even
 * floating-point sums, which depend on the order of additions).
 * Design and trade-offs: top of parsepool.c.
 */
#ifndef EXPORTER_PARSEPOOL_H
#define EXPORTER_PARSEPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/logparse.h"

/* One line handed back: rc is logparse_line's, rec set when rc == 0;
 * time_rc/time_ms are logtime_of_record's when the pool reads times
 * (parsepool_set_with_time), else time_rc is -ENOENT.  Borrowed until the
 * callback returns. */
struct parsepool_line {
	const char *line;
	size_t len;
	int rc;
	const struct log_record *rec;
	int time_rc;
	int64_t time_ms;
};

/* Called on the pushing thread, in push order. */
typedef void parsepool_deliver_fn(void *userdata, const struct parsepool_line *pl);

struct parsepool;

/* Whether lines of this format can be parsed by the pool: not JSON, whose
 * records may point into the parser's own scratch space. */
bool parsepool_supports(enum logparse_kind kind);

/* A pool of threads - 1 workers (the pushing thread is the last one), each
 * with its own parser for (kind, format, opts; opts NULL: defaults; used
 * during the call only).  0 and *ret_pool; -EINVAL
 * (threads < 2, or an unsupported or bad format); -ENOMEM; -errno from
 * pthread_create. */
int parsepool_create(unsigned threads, enum logparse_kind kind, const char *format,
                     const struct logparse_opts *opts, parsepool_deliver_fn *deliver,
                     void *userdata, struct parsepool **ret_pool);

/* Queue one line (copied).  May deliver earlier lines first. */
void parsepool_push(struct parsepool *p, const char *line, size_t len);

/* Called on the pushing thread, in push order, for parsepool_push_event. */
typedef void parsepool_event_fn(void *userdata, int event, uint64_t value);

/* Deliver fn(event, value) between the lines pushed before and after this
 * call (a counter that must stay in order with the lines).  Needs
 * parsepool_set_event_fn; event >= 0. */
void parsepool_push_event(struct parsepool *p, int event, uint64_t value);
void parsepool_set_event_fn(struct parsepool *p, parsepool_event_fn *fn);

/* Called on the pushing thread after a run of lines was handed back and
 * before their records go away: a deliver callback may hold the records
 * (pointers) it was given until then.  Optional. */
typedef void parsepool_delivered_fn(void *userdata);
void parsepool_set_delivered_fn(struct parsepool *p, parsepool_delivered_fn *fn);

/* Read each parsed line's log time on the parsing threads as well (set
 * before the first push). */
void parsepool_set_with_time(struct parsepool *p, bool with_time);

/* Deliver every line pushed so far. */
void parsepool_flush(struct parsepool *p);

/* NULL-safe; stops the workers.  Lines not flushed are dropped. */
void parsepool_destroy(struct parsepool *p);

/* The number of online cores (at least 1), the default for --threads. */
unsigned parsepool_default_threads(void);

#endif
