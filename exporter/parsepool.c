/*
 * parsepool.c - ordered parallel parsing (see parsepool.h).
 *
 * A ring of batches.  The pushing thread fills the batch at `fill`; a full
 * batch becomes READY and the next one in the ring is filled, once its
 * previous content has been delivered.  Workers take READY batches in ring
 * order (`take`), parse every line into the batch's record array with
 * their own parser and mark it DONE.  Delivery runs on the pushing thread,
 * oldest batch first (`deliver`): while that batch is not DONE, the pushing
 * thread parses the next batch nobody has taken (the oldest itself, or a
 * newer one) instead of waiting, so N threads means N - 1 workers plus the
 * reader, all busy.  With times on (--backfill) the parsing threads also
 * read each line's log time.  One mutex and two condition variables
 * guard the states; the lines themselves are only touched by one thread at
 * a time (the state hand-over orders the memory).
 *
 * The cost per line outside the workers is one memcpy of the line, the
 * record hand-back and the caller's counting; parsing (the pcre2 match,
 * about three quarters of the time per line) runs in parallel.  A line
 * longer than a batch is parsed on the pushing thread after everything
 * before it was delivered.
 *
 * Used by --backfill (each line goes to the step of its log time, in file
 * order) and by --once for sources with field labels (their series tables
 * cannot be merged); other --once sources count on every core into
 * registries of their own (countpool.c), which costs no per-line hand-over.
 *
 * Rejected: cutting files into byte ranges parsed by independent
 * registries and merged afterwards (--once would need a second
 * implementation of the fileset's rules; countpool.c takes runs of lines
 * from the fileset's reads instead, and journals histogram sums so the
 * merge adds them in file order); JSON (records may point into the
 * parser's scratch space, which the next line reuses).
 */
#include "exporter/parsepool.h"

#include "parsers/logtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_BYTES (1024u * 1024u)
#define BATCH_LINES 4096u
#define MAX_THREADS 256u

enum batch_state { B_FREE, B_FILLING, B_READY, B_PARSING, B_DONE };

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
	enum batch_state state;
};

struct worker {
	struct parsepool *pool;
	struct log_parser *parser;
	struct logtime_cache tc;
	pthread_t thread;
	bool started;
};

struct parsepool {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a batch became READY, or stop */
	pthread_cond_t done; /* a batch became DONE */
	struct batch *ring;
	size_t n_ring;
	size_t fill, take, deliver; /* ring indexes */
	bool stop;
	struct worker *workers;
	size_t n_workers;
	struct log_parser *own; /* the pushing thread's parser */
	struct logtime_cache own_tc;
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

static void parse_batch(struct batch *b, struct log_parser *parser, bool with_time,
                        struct logtime_cache *tc)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->ev[i] < 0) {
			b->rc[i] = logparse_line(parser, b->buf + b->off[i], b->len[i], &b->rec[i]);
			if (with_time && b->rc[i] == 0) {
				b->time_rc[i] =
				    logtime_of_record_cached(&b->rec[i], tc, &b->time_ms[i]);
			}
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct parsepool *p = w->pool;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->ring[p->take].state != B_READY) {
			pthread_cond_wait(&p->work, &p->lock);
		}
		if (p->stop) {
			break;
		}
		struct batch *b = &p->ring[p->take];
		p->take = (p->take + 1) % p->n_ring;
		b->state = B_PARSING;
		pthread_mutex_unlock(&p->lock);
		parse_batch(b, w->parser, p->with_time, &w->tc);
		pthread_mutex_lock(&p->lock);
		b->state = B_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Deliver the oldest submitted batch (parsing it here if no worker has). */
static void deliver_oldest(struct parsepool *p)
{
	struct batch *b = &p->ring[p->deliver];

	pthread_mutex_lock(&p->lock);
	while (b->state != B_DONE) {
		struct batch *next = &p->ring[p->take];
		if (next->state == B_READY) {
			/* rather than wait: parse the next batch nobody has taken
			 * (the oldest itself, or a newer one while a worker has it) */
			p->take = (p->take + 1) % p->n_ring;
			next->state = B_PARSING;
			pthread_mutex_unlock(&p->lock);
			parse_batch(next, p->own, p->with_time, &p->own_tc);
			pthread_mutex_lock(&p->lock);
			next->state = B_DONE;
			continue;
		}
		pthread_cond_wait(&p->done, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
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
	b->state = B_FREE;
	p->deliver = (p->deliver + 1) % p->n_ring;
}

/* Hand the filling batch to the workers and start filling the next one. */
static void submit(struct parsepool *p)
{
	struct batch *b = &p->ring[p->fill];

	pthread_mutex_lock(&p->lock);
	b->state = B_READY;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	p->fill = (p->fill + 1) % p->n_ring;
	if (p->ring[p->fill].state != B_FREE) {
		/* the ring is full: the next slot is the oldest */
		deliver_oldest(p);
	}
	p->ring[p->fill].state = B_FILLING;
}

void parsepool_set_delivered_fn(struct parsepool *p, parsepool_delivered_fn *fn)
{
	p->delivered_fn = fn;
}

void parsepool_flush(struct parsepool *p)
{
	if (p->ring[p->fill].n > 0) {
		submit(p);
	}
	while (p->deliver != p->fill) {
		deliver_oldest(p);
	}
}

void parsepool_push(struct parsepool *p, const char *line, size_t len)
{
	struct batch *b = &p->ring[p->fill];

	if (len > BATCH_BYTES) {
		/* longer than a batch: in order, on this thread */
		struct log_record rec;
		struct parsepool_line pl = {line, len, 0, NULL, -ENOENT, 0};
		parsepool_flush(p);
		pl.rc = logparse_line(p->own, line, len, &rec);
		if (pl.rc == 0) {
			pl.rec = &rec;
			pl.time_rc = p->with_time
			                 ? logtime_of_record_cached(&rec, &p->own_tc, &pl.time_ms)
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
		b = &p->ring[p->fill];
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
	struct batch *b = &p->ring[p->fill];

	if (!p->event_fn || event < 0) {
		return;
	}
	if (b->n == BATCH_LINES) {
		submit(p);
		b = &p->ring[p->fill];
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

static int batch_init(struct batch *b)
{
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
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->n_workers; i++) {
		if (p->workers[i].started) {
			(void)pthread_join(p->workers[i].thread, NULL);
		}
		logparse_destroy(p->workers[i].parser);
	}
	for (size_t i = 0; i < p->n_ring; i++) {
		batch_finish(&p->ring[i]);
	}
	logparse_destroy(p->own);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	free(p->workers);
	free(p->ring);
	free(p);
}

static int start_workers(struct parsepool *p, enum logparse_kind kind, const char *format,
                         const struct logparse_opts *opts)
{
	for (size_t i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->workers[i];
		int r = logparse_create_opts(kind, format, opts, &w->parser, NULL);
		if (r < 0) {
			return r;
		}
		w->pool = p;
		r = pthread_create(&w->thread, NULL, worker_main, w);
		if (r != 0) {
			return -r;
		}
		w->started = true;
	}
	return 0;
}

int parsepool_create(unsigned threads, enum logparse_kind kind, const char *format,
                     const struct logparse_opts *opts, parsepool_deliver_fn *deliver,
                     void *userdata, struct parsepool **ret_pool)
{
	struct parsepool *p;
	int r;

	if (threads < 2 || !parsepool_supports(kind) || !deliver) {
		return -EINVAL;
	}
	threads = threads > MAX_THREADS ? MAX_THREADS : threads;
	p = calloc(1, sizeof(*p));
	if (!p) {
		return -ENOMEM;
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return -ENOMEM;
	}
	(void)pthread_cond_init(&p->work, NULL);
	(void)pthread_cond_init(&p->done, NULL);
	p->deliver_fn = deliver;
	p->userdata = userdata;
	p->n_workers = threads - 1;
	p->n_ring = 2 * (size_t)threads + 2;
	p->ring = calloc(p->n_ring, sizeof(*p->ring));
	p->workers = calloc(p->n_workers, sizeof(*p->workers));
	r = p->ring && p->workers ? 0 : -ENOMEM;
	for (size_t i = 0; i < p->n_ring && r == 0; i++) {
		r = batch_init(&p->ring[i]);
	}
	if (r == 0) {
		r = logparse_create_opts(kind, format, opts, &p->own, NULL);
	}
	if (r == 0) {
		p->ring[0].state = B_FILLING;
		r = start_workers(p, kind, format, opts);
	}
	if (r < 0) {
		parsepool_destroy(p);
		return r;
	}
	*ret_pool = p;
	return 0;
}
