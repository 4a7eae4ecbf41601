/*
 * parsepool.c - ordered parallel parsing (see parsepool.h).
 *
 * The ring of batches is batchring.c's: the pushing thread fills a batch
 * with copies of its lines; N - 1 workers and the pushing thread (while
 * it waits for the oldest) parse whole batches into the batch's record
 * array, each thread with its own parser (and, with times on for
 * --backfill, reading each line's log time); batches come back in fill
 * order and every line is delivered, with its result, on the pushing
 * thread.
 *
 * The cost per line outside the workers is one memcpy of the line, the
 * record hand-back and the caller's counting; parsing (the pcre2 match,
 * about three quarters of the time per line) runs in parallel.  A line
 * longer than a batch is parsed on the pushing thread after everything
 * before it was delivered.
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

#include "exporter/batchring.h"
#include "parsers/logtime.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_BYTES (1024u * 1024u)
#define BATCH_LINES 4096u
#define MAX_THREADS 256u

struct batch {
	char *buf;
	size_t used;
	uint32_t *off, *len;
	struct log_record *rec;
	int *rc;
	int *ev;      /* -1: a line; else an event (parsepool_push_event) */
	int *time_rc; /* logtime_of_record, with_time only */
	int64_t *time_ms;
	uint64_t *evn; /* the event's value */
	size_t n;
	const bool *with_time; /* the pool's */
};

/* One parsing thread's own state. */
struct worker {
	struct log_parser *parser;
	struct logtime_cache tc;
};

struct parsepool {
	struct batchring *ring;
	struct batch *batches;
	size_t n_batches;
	struct batch *fill;     /* the batch being filled */
	struct worker *workers; /* one per thread; [0] the pushing thread's */
	size_t n_workers;
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

/* batchring_work_fn: ctx is the thread's worker. */
static void parse_batch(void *ctx, void *batch)
{
	struct worker *w = ctx;
	struct batch *b = batch;
	bool with_time = *b->with_time;

	for (size_t i = 0; i < b->n; i++) {
		if (b->ev[i] < 0) {
			b->rc[i] =
			    logparse_line(w->parser, b->buf + b->off[i], b->len[i], &b->rec[i]);
			if (with_time && b->rc[i] == 0) {
				b->time_rc[i] =
				    logtime_of_record_cached(&b->rec[i], &w->tc, &b->time_ms[i]);
			}
		}
	}
}

/* batchring_deliver_fn: every line and event, in push order. */
static void deliver(void *userdata, void *batch)
{
	struct parsepool *p = userdata;
	struct batch *b = batch;

	for (size_t i = 0; i < b->n; i++) {
		if (b->ev[i] >= 0) {
			p->event_fn(p->userdata, b->ev[i], b->evn[i]);
			continue;
		}
		struct parsepool_line pl = {b->buf + b->off[i], b->len[i],
		                            b->rc[i],           b->rc[i] == 0 ? &b->rec[i] : NULL,
		                            b->time_rc[i],      b->time_ms[i]};
		p->deliver_fn(p->userdata, &pl);
	}
	if (p->delivered_fn) {
		p->delivered_fn(p->userdata);
	}
	b->n = 0;
	b->used = 0;
}

static void submit(struct parsepool *p)
{
	p->fill = batchring_submit(p->ring);
}

void parsepool_set_delivered_fn(struct parsepool *p, parsepool_delivered_fn *fn)
{
	p->delivered_fn = fn;
}

void parsepool_flush(struct parsepool *p)
{
	if (p->fill->n > 0) {
		submit(p);
	}
	batchring_flush(p->ring);
}

void parsepool_push(struct parsepool *p, const char *line, size_t len)
{
	struct batch *b = p->fill;

	if (len > BATCH_BYTES) {
		/* longer than a batch: in order, on this thread */
		struct log_record rec;
		struct parsepool_line pl = {line, len, 0, NULL, -ENOENT, 0};
		parsepool_flush(p);
		pl.rc = logparse_line(p->workers[0].parser, line, len, &rec);
		if (pl.rc == 0) {
			pl.rec = &rec;
			pl.time_rc =
			    p->with_time
			        ? logtime_of_record_cached(&rec, &p->workers[0].tc, &pl.time_ms)
			        : -ENOENT;
		}
		p->deliver_fn(p->userdata, &pl);
		if (p->delivered_fn) {
			p->delivered_fn(p->userdata);
		}
		return;
	}
	if (b->n == BATCH_LINES || len > BATCH_BYTES - b->used) {
		submit(p);
		b = p->fill;
	}
	memcpy(b->buf + b->used, line, len);
	b->off[b->n] = (uint32_t)b->used;
	b->len[b->n] = (uint32_t)len;
	b->ev[b->n] = -1;
	b->used += len;
	b->n++;
}

void parsepool_push_event(struct parsepool *p, int event, uint64_t value)
{
	struct batch *b = p->fill;

	if (!p->event_fn || event < 0) {
		return;
	}
	if (b->n == BATCH_LINES) {
		submit(p);
		b = p->fill;
	}
	b->ev[b->n] = event;
	b->evn[b->n] = value;
	b->n++;
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
	b->buf = malloc(BATCH_BYTES);
	b->off = calloc(BATCH_LINES, sizeof(*b->off));
	b->len = calloc(BATCH_LINES, sizeof(*b->len));
	b->rec = calloc(BATCH_LINES, sizeof(*b->rec));
	b->rc = calloc(BATCH_LINES, sizeof(*b->rc));
	b->ev = calloc(BATCH_LINES, sizeof(*b->ev));
	b->time_rc = calloc(BATCH_LINES, sizeof(*b->time_rc));
	b->time_ms = calloc(BATCH_LINES, sizeof(*b->time_ms));
	b->evn = calloc(BATCH_LINES, sizeof(*b->evn));
	return b->buf && b->off && b->len && b->rec && b->rc && b->ev && b->evn && b->time_rc &&
	               b->time_ms
	           ? 0
	           : -ENOMEM;
}

static void batch_finish(struct batch *b)
{
	free(b->buf);
	free(b->off);
	free(b->len);
	free(b->rec);
	free(b->rc);
	free(b->ev);
	free(b->evn);
	free(b->time_rc);
	free(b->time_ms);
}

void parsepool_destroy(struct parsepool *p)
{
	if (!p) {
		return;
	}
	batchring_destroy(p->ring);
	for (size_t i = 0; p->workers && i < p->n_workers; i++) {
		logparse_destroy(p->workers[i].parser);
	}
	for (size_t i = 0; p->batches && i < p->n_batches; i++) {
		batch_finish(&p->batches[i]);
	}
	free(p->workers);
	free(p->batches);
	free(p);
}

int parsepool_create(unsigned threads, enum logparse_kind kind, const char *format,
                     const struct logparse_opts *opts, parsepool_deliver_fn *deliver_fn,
                     void *userdata, struct parsepool **ret_pool)
{
	void *batches[2 * MAX_THREADS + 2], *ctx[MAX_THREADS];
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
	p->n_workers = threads;
	p->n_batches = 2 * (size_t)threads + 2;
	p->batches = calloc(p->n_batches, sizeof(*p->batches));
	p->workers = calloc(p->n_workers, sizeof(*p->workers));
	r = p->batches && p->workers ? 0 : -ENOMEM;
	for (size_t i = 0; i < p->n_batches && r == 0; i++) {
		r = batch_init(&p->batches[i], &p->with_time);
		batches[i] = &p->batches[i];
	}
	for (size_t i = 0; i < p->n_workers && r == 0; i++) {
		r = logparse_create_opts(kind, format, opts, &p->workers[i].parser, NULL);
		ctx[i] = &p->workers[i];
	}
	if (r == 0) {
		p->fill = &p->batches[0];
		r = batchring_create(batches, p->n_batches, ctx, threads, parse_batch, deliver, p,
		                     &p->ring);
	}
	if (r < 0) {
		parsepool_destroy(p);
		return r;
	}
	*ret_pool = p;
	return 0;
}
