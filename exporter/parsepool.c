/*
 * parsepool.c - ordered parallel parsing (see parsepool.h).
 *
 * The batches and threads are linepool.c's: the pushing thread fills a
 * batch with copies of its lines (a segment each) and events; N - 1
 * workers and the pushing thread (while it waits for the oldest) parse
 * whole batches into the batch's record array, each thread with its own
 * parser (and, with times on for --backfill, reading each line's log
 * time); batches come back in fill order and every line is delivered,
 * with its result, on the pushing thread.
 *
 * The cost per line outside the workers is one memcpy of the line, the
 * record hand-back and the caller's counting; parsing (the pcre2 match,
 * about three quarters of the time per line) runs in parallel.  A line
 * longer than any batch is parsed on the pushing thread after everything
 * before it was delivered (linepool.c).
 *
 * Used by --once and --backfill for sources with field labels, path
 * labels or filters (their series tables cannot be merged, and their
 * counting needs the reading thread); other sources count on every core
 * into registries of their own (countpool.c for --once, steppool.c per
 * step for --backfill), which costs no per-line hand-over.
 *
 * Rejected: cutting files into byte ranges parsed by independent
 * registries and merged afterwards (--once would need a second
 * implementation of the fileset's rules; countpool.c takes runs of lines
 * from the fileset's reads instead, and journals histogram sums so the
 * merge adds them in file order); JSON (records may point into the
 * parser's scratch space, which the next line reuses).
 */
#include "exporter/parsepool.h"

#include "exporter/linepool.h"
#include "parsers/logtime.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS LINEPOOL_MAX_THREADS

/* One batch's results, one per segment (a line, or an event). */
struct batch {
	struct log_record *rec;
	int *rc;
	int *time_rc; /* logtime_of_record, with_time only */
	int64_t *time_ms;
	const bool *with_time; /* the pool's */
};

struct parsepool {
	struct linepool *lp;
	struct batch *batches;
	size_t n_batches;
	parsepool_deliver_fn *deliver_fn;
	parsepool_event_fn *event_fn;
	parsepool_delivered_fn *delivered_fn;
	void *userdata;
	bool with_time; /* read the log time on the workers too */
};

bool parsepool_supports(enum logparse_kind kind)
{
	return kind != LOGPARSE_JSON;
}

unsigned parsepool_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1u : n > (long)MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

/* linepool_work_fn */
static void parse_batch(struct linepool_worker *w, const struct linepool_batch *lb)
{
	struct batch *b = lb->data;
	bool with_time = *b->with_time;

	for (size_t i = 0; i < lb->n_seg; i++) {
		const struct linepool_seg *s = &lb->seg[i];
		if (s->kind != LINEPOOL_EVENT) {
			b->rc[i] = logparse_line(w->parser, s->p, s->len, &b->rec[i]);
			b->time_rc[i] = -ENOENT;
			if (with_time && b->rc[i] == 0) {
				b->time_rc[i] =
				    logtime_of_record_cached(&b->rec[i], &w->tc, &b->time_ms[i]);
			}
		}
	}
}

/* linepool_deliver_fn: every line and event, in push order. */
static void deliver(void *userdata, const struct linepool_batch *lb)
{
	struct parsepool *p = userdata;
	struct batch *b = lb->data;

	for (size_t i = 0; i < lb->n_seg; i++) {
		const struct linepool_seg *s = &lb->seg[i];
		if (s->kind == LINEPOOL_EVENT) {
			p->event_fn(p->userdata, s->event, s->value);
			continue;
		}
		struct parsepool_line pl = {s->p,          s->len,
		                            b->rc[i],      b->rc[i] == 0 ? &b->rec[i] : NULL,
		                            b->time_rc[i], b->time_ms[i]};
		p->deliver_fn(p->userdata, &pl);
	}
	if (p->delivered_fn) {
		p->delivered_fn(p->userdata);
	}
}

void parsepool_set_delivered_fn(struct parsepool *p, parsepool_delivered_fn *fn)
{
	p->delivered_fn = fn;
}

void parsepool_flush(struct parsepool *p)
{
	linepool_flush(p->lp);
}

void parsepool_push(struct parsepool *p, const char *line, size_t len)
{
	linepool_push_line(p->lp, line, len);
}

void parsepool_push_event(struct parsepool *p, int event, uint64_t value)
{
	if (!p->event_fn || event < 0) {
		return;
	}
	linepool_push_event(p->lp, (uint16_t)event, value);
}

void parsepool_set_event_fn(struct parsepool *p, parsepool_event_fn *fn)
{
	p->event_fn = fn;
}

void parsepool_set_with_time(struct parsepool *p, bool with_time)
{
	p->with_time = with_time;
}

static int batch_init(struct batch *b, const bool *with_time)
{
	b->with_time = with_time;
	b->rec = calloc(LINEPOOL_BATCH_SEGS, sizeof(*b->rec));
	b->rc = calloc(LINEPOOL_BATCH_SEGS, sizeof(*b->rc));
	b->time_rc = calloc(LINEPOOL_BATCH_SEGS, sizeof(*b->time_rc));
	b->time_ms = calloc(LINEPOOL_BATCH_SEGS, sizeof(*b->time_ms));
	return b->rec && b->rc && b->time_rc && b->time_ms ? 0 : -ENOMEM;
}

static void batch_finish(struct batch *b)
{
	free(b->rec);
	free(b->rc);
	free(b->time_rc);
	free(b->time_ms);
}

void parsepool_destroy(struct parsepool *p)
{
	if (!p) {
		return;
	}
	linepool_destroy(p->lp);
	for (size_t i = 0; p->batches && i < p->n_batches; i++) {
		batch_finish(&p->batches[i]);
	}
	free(p->batches);
	free(p);
}

int parsepool_create(unsigned threads, enum logparse_kind kind, const char *format,
                     const struct logparse_opts *opts, parsepool_deliver_fn *deliver_fn,
                     void *userdata, struct parsepool **ret_pool)
{
	void *data[2 * MAX_THREADS + 2];
	struct parsepool *p;
	int r;

	if (threads < 2 || !parsepool_supports(kind) || !deliver_fn) {
		return -EINVAL;
	}
	threads = threads > MAX_THREADS ? MAX_THREADS : threads;
	p = calloc(1, sizeof(*p));
	if (!p) {
		return -ENOMEM;
	}
	p->deliver_fn = deliver_fn;
	p->userdata = userdata;
	p->n_batches = 2 * (size_t)threads + 2;
	p->batches = calloc(p->n_batches, sizeof(*p->batches));
	r = p->batches ? 0 : -ENOMEM;
	for (size_t i = 0; i < p->n_batches && r == 0; i++) {
		r = batch_init(&p->batches[i], &p->with_time);
		data[i] = &p->batches[i];
	}
	if (r == 0) {
		r = linepool_create(threads, kind, format, opts, p->n_batches, data, parse_batch,
		                    deliver, p, &p->lp);
	}
	if (r < 0) {
		parsepool_destroy(p);
		return r;
	}
	*ret_pool = p;
	return 0;
}
