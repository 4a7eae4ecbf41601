/*
 * countpool.c - parallel counting into private registries (see countpool.h).
 *
 * The ring of batches is parsepool.c's: the pushing thread fills the batch
 * at `fill`; a full batch becomes READY; workers take READY batches in
 * ring order, and the pushing thread, while the oldest batch is not DONE,
 * counts the next one nobody has taken instead of waiting, so N threads
 * are N - 1 workers plus the reader, all busy.  One mutex and two
 * condition variables guard the states.
 *
 * What differs is what travels.  A batch holds runs of whole lines as
 * read (the tail hands over everything up to its buffer's last newline in
 * one call) and is split, parsed and counted by one thread, into a
 * registry of the batch's own; what comes back is that registry, merged
 * into the source's in batch order.  Per line nothing is copied twice,
 * no record is handed over and no line is touched by a second core: the
 * parsepool's per-line hand-over (a memcpy, a record written on one core
 * and counted on another) cost as much CPU as the second core gained.
 * Integers merge exactly in any order; histogram sums are floating-point,
 * so a batch registry writes its values down (metrics_source_journal_sums)
 * and the merge adds them in file order: the output is the same bytes for
 * any number of threads.  Merging costs about 4000 cells per batch of
 * about 1 MiB (~6000 lines).
 *
 * Rejected: cutting each file into one byte range per core, read by its
 * own thread (the fileset decides which files, in which order, and from
 * which offset; its rules for rotated, compressed and over-cap files
 * would need a second implementation; ranges this size also balance
 * worse under load than a queue of 1 MiB batches); sources with field
 * labels (their series tables are created in order of first sight and
 * have no merge: those keep parsepool.c).
 */
#include "exporter/countpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "exporter/input/tail.h"
#include "parsers/logparse.h"

/* A whole read of the tail with the default line cap fits one batch. */
#define BATCH_BYTES (TAIL_CHUNK + TAIL_DEFAULT_LINE_CAP)
#define BATCH_SEGS 4096u
#define MAX_THREADS 256u
/* A block longer than a batch gets a batch of its size, up to this. */
#define MAX_BATCH_BYTES (TAIL_MAX_LINE_CAP + 2u * TAIL_CHUNK)

enum batch_state { B_FREE, B_FILLING, B_READY, B_COUNTING, B_DONE };

/* A run of whole lines (block) or one line without its newline. */
struct seg {
	uint32_t off, len;
	bool block;
};

struct batch {
	char *buf;
	size_t used, size;
	struct seg seg[BATCH_SEGS];
	size_t n;
	size_t cap; /* line cap of the blocks */
	struct metrics *m;
	struct countpool_result res; /* res.ms: m's only source */
	enum batch_state state;
};

struct worker {
	struct countpool *pool;
	struct log_parser *parser;
	pthread_t thread;
	bool started;
};

struct countpool {
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
	countpool_deliver_fn *deliver_fn;
	void *userdata;
};

/* The counting thread's view of one batch. */
struct counting {
	struct batch *b;
	struct log_parser *parser;
};

static void count_one(void *ud, const char *line, size_t len)
{
	struct counting *c = ud;
	struct countpool_result *r = &c->b->res;
	struct log_record rec;

	r->lines++;
	if (logparse_line(c->parser, line, len, &rec) == 0) {
		metrics_observe(r->ms, &rec);
		return;
	}
	metrics_count(r->ms, METRICS_PARSE_ERRORS, 1);
	if (r->n_samples < COUNTPOOL_FAIL_SAMPLES) {
		/* points into the batch, which lives until delivered */
		r->sample[r->n_samples] = line;
		r->sample_len[r->n_samples++] = len;
	}
	r->failed++;
}

static void count_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct counting *c = ud;

	if (ev == TAIL_EV_TOO_LONG) {
		c->b->res.too_long += n;
	}
}

static void count_batch(struct batch *b, struct log_parser *parser)
{
	struct counting c = {b, parser};
	struct tail_callbacks cb = {.line = count_one, .event = count_event, .userdata = &c};

	for (size_t i = 0; i < b->n; i++) {
		char *p = b->buf + b->seg[i].off;
		if (b->seg[i].block) {
			bool skipping = false;
			(void)tail_split(&cb, &skipping, p, b->seg[i].len, b->cap);
		} else {
			count_one(&c, p, b->seg[i].len);
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct countpool *p = w->pool;

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
		b->state = B_COUNTING;
		pthread_mutex_unlock(&p->lock);
		count_batch(b, w->parser);
		pthread_mutex_lock(&p->lock);
		b->state = B_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Deliver the oldest submitted batch (counting it here if no worker has). */
static void deliver_oldest(struct countpool *p)
{
	struct batch *b = &p->ring[p->deliver];
	struct metrics_source *ms = b->res.ms;

	pthread_mutex_lock(&p->lock);
	while (b->state != B_DONE) {
		struct batch *next = &p->ring[p->take];
		if (next->state == B_READY) {
			/* rather than wait: count the next batch nobody has taken */
			p->take = (p->take + 1) % p->n_ring;
			next->state = B_COUNTING;
			pthread_mutex_unlock(&p->lock);
			count_batch(next, p->own);
			pthread_mutex_lock(&p->lock);
			next->state = B_DONE;
			continue;
		}
		pthread_cond_wait(&p->done, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	p->deliver_fn(p->userdata, &b->res);
	memset(&b->res, 0, sizeof(b->res));
	b->res.ms = ms;
	b->n = 0;
	b->used = 0;
	b->state = B_FREE;
	p->deliver = (p->deliver + 1) % p->n_ring;
}

/* Hand the filling batch to the workers and start filling the next one. */
static void submit(struct countpool *p)
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

void countpool_flush(struct countpool *p)
{
	if (p->ring[p->fill].n > 0) {
		submit(p);
	}
	while (p->deliver != p->fill) {
		deliver_oldest(p);
	}
}

/* A batch buffer of size bytes (the old one, empty, is dropped): mapped
 * with its pages populated, one system call instead of a page fault per
 * 4 KiB page, which costs tens of microseconds on a virtual machine. */
static int buf_alloc(struct batch *b, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED) {
		return -ENOMEM;
	}
	if (b->buf) {
		(void)munmap(b->buf, b->size);
	}
	b->buf = p;
	b->size = size;
	return 0;
}

/* The filling batch, with room for n more bytes and a segment (submitting
 * the current one when full); NULL when n cannot fit in any batch. */
static struct batch *room_for(struct countpool *p, size_t n)
{
	struct batch *b = &p->ring[p->fill];

	if (n > MAX_BATCH_BYTES) {
		return NULL;
	}
	if (b->n == BATCH_SEGS || n > b->size - b->used) {
		if (b->n > 0) {
			submit(p);
			b = &p->ring[p->fill];
		}
		size_t grown = b->size * 2 > MAX_BATCH_BYTES ? MAX_BATCH_BYTES : b->size * 2;
		if (n > b->size && buf_alloc(b, n > grown ? n : grown) < 0) {
			/* a block over a batch (a long line cap): a batch of its size */
			return NULL;
		}
	}
	return b;
}

static void push(struct countpool *p, const char *data, size_t n, size_t cap, bool block)
{
	struct batch *b = room_for(p, n);

	if (!b) {
		/* out of memory, or absurd: count it here, in order */
		struct batch one = {.buf = (char *)data, .used = n, .size = n, .n = 1, .cap = cap};
		countpool_flush(p);
		one.seg[0] = (struct seg){0, (uint32_t)n, block};
		one.res.ms = p->ring[p->fill].res.ms;
		count_batch(&one, p->own);
		p->deliver_fn(p->userdata, &one.res);
		return;
	}
	memcpy(b->buf + b->used, data, n);
	b->seg[b->n++] = (struct seg){(uint32_t)b->used, (uint32_t)n, block};
	b->used += n;
	if (block) {
		b->cap = cap; /* the same for every block of a source */
	}
}

void countpool_push_block(struct countpool *p, const char *buf, size_t n, size_t cap)
{
	if (n) {
		push(p, buf, n, cap, true);
	}
}

void countpool_push_line(struct countpool *p, const char *line, size_t len)
{
	push(p, line, len, 0, false);
}

int countpool_can_merge_into(struct countpool *p, struct metrics_source *dst)
{
	/* the filling batch is empty: merging it adds zeros */
	return p->ring[p->fill].n == 0 ? metrics_source_merge(dst, p->ring[p->fill].res.ms)
	                               : -EBUSY;
}

void countpool_destroy(struct countpool *p)
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
	for (size_t i = 0; p->ring && i < p->n_ring; i++) {
		if (p->ring[i].buf) {
			(void)munmap(p->ring[i].buf, p->ring[i].size);
		}
		metrics_destroy(p->ring[i].m);
	}
	logparse_destroy(p->own);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	free(p->workers);
	free(p->ring);
	free(p);
}

static int batch_init(struct batch *b, const struct config_source *cs,
                      const struct metrics_options *mo)
{
	char err[256];
	int r;

	b->m = metrics_create(mo);
	if (!b->m || buf_alloc(b, BATCH_BYTES) < 0) {
		return -ENOMEM;
	}
	r = metrics_add_source(b->m, cs->name, cs->labels, cs->n_labels, NULL, 0, &b->res.ms, err,
	                       sizeof(err));
	return r < 0 ? r : metrics_source_journal_sums(b->res.ms);
}

static int start_workers(struct countpool *p, const struct config_source *cs)
{
	for (size_t i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->workers[i];
		int r = logparse_create(cs->kind, cs->format, &w->parser, NULL);
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

int countpool_create(unsigned threads, const struct config_source *cs,
                     const struct metrics_options *mo, countpool_deliver_fn *deliver,
                     void *userdata, struct countpool **ret_pool)
{
	struct countpool *p;
	int r;

	if (threads < 2 || !deliver) {
		return -EINVAL;
	}
	/* field labels (and path labels), filters: the parse pool does those */
	if (cs->n_field_labels > 0 || cs->n_filters > 0) {
		return -ENOTSUP;
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
	/* one filling, one per thread counting, one done waiting for delivery */
	p->n_ring = (size_t)threads + 2;
	p->ring = calloc(p->n_ring, sizeof(*p->ring));
	p->workers = calloc(p->n_workers, sizeof(*p->workers));
	r = p->ring && p->workers ? 0 : -ENOMEM;
	for (size_t i = 0; i < p->n_ring && r == 0; i++) {
		r = batch_init(&p->ring[i], cs, mo);
	}
	if (r == 0) {
		r = logparse_create(cs->kind, cs->format, &p->own, NULL);
	}
	if (r == 0) {
		p->ring[0].state = B_FILLING;
		r = start_workers(p, cs);
	}
	if (r < 0) {
		countpool_destroy(p);
		return r;
	}
	*ret_pool = p;
	return 0;
}
