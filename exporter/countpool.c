/*
 * countpool.c - parallel counting into private registries (see countpool.h).
 *
 * The ring of batches is batchring.c's: the pushing thread fills a batch,
 * N - 1 workers and the pushing thread (while it waits for the oldest)
 * count whole batches, and batches come back in the order they were
 * filled.
 *
 * A batch holds runs of whole lines as
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
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "exporter/batchring.h"
#include "exporter/input/tail.h"
#include "parsers/logparse.h"

/* A whole read of the tail with the default line cap fits one batch (a
 * merge costs mostly per line, in its journal of sums, so bigger batches
 * would save little, and a batch of 1 MiB is still in a core's cache when
 * it is counted). */
#define BATCH_BYTES (TAIL_CHUNK + TAIL_DEFAULT_LINE_CAP)
#define BATCH_SEGS 4096u
#define MAX_THREADS 256u
/* A block longer than a batch gets a batch of its size, up to this. */
#define MAX_BATCH_BYTES (TAIL_MAX_LINE_CAP + 2u * TAIL_CHUNK)

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
};

struct countpool {
	struct batchring *ring;
	struct batch *batches;
	size_t n_batches;
	struct batch *fill;         /* the batch being filled */
	struct log_parser **parser; /* one per thread; [0] the pushing thread's */
	size_t n_parsers;
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

/* batchring_work_fn: ctx is the thread's parser. */
static void work(void *ctx, void *batch)
{
	count_batch(batch, ctx);
}

/* batchring_deliver_fn: in file order, on the pushing thread. */
static void deliver(void *userdata, void *batch)
{
	struct countpool *p = userdata;
	struct batch *b = batch;
	struct metrics_source *ms = b->res.ms;

	p->deliver_fn(p->userdata, &b->res);
	memset(&b->res, 0, sizeof(b->res));
	b->res.ms = ms;
	b->n = 0;
	b->used = 0;
}

static void submit(struct countpool *p)
{
	p->fill = batchring_submit(p->ring);
}

void countpool_flush(struct countpool *p)
{
	if (p->fill->n > 0) {
		submit(p);
	}
	batchring_flush(p->ring);
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
	struct batch *b = p->fill;

	if (n > MAX_BATCH_BYTES) {
		return NULL;
	}
	if (b->n == BATCH_SEGS || n > b->size - b->used) {
		if (b->n > 0) {
			submit(p);
			b = p->fill;
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
		one.res.ms = p->fill->res.ms;
		count_batch(&one, p->parser[0]);
		p->deliver_fn(p->userdata, &one.res);
		return;
	}
	if (data != b->buf + b->used) {
		/* lent memory (countpool_lend) is kept where it was read; the
		 * bytes may also lie a little further in it (memmove) */
		memmove(b->buf + b->used, data, n);
	}
	b->seg[b->n++] = (struct seg){(uint32_t)b->used, (uint32_t)n, block};
	b->used += n;
	if (block) {
		b->cap = cap; /* the same for every block of a source */
	}
}

char *countpool_lend(struct countpool *p, size_t want, size_t *ret_size)
{
	struct batch *b = p->fill;

	/* Never a new buffer here: the reader's partial line may lie in this
	 * one.  A submitted batch keeps its buffer until it is delivered. */
	if (want > b->size) {
		return NULL;
	}
	if (b->n == BATCH_SEGS || want > b->size - b->used) {
		submit(p);
		b = p->fill;
		if (want > b->size) {
			return NULL;
		}
	}
	*ret_size = b->size - b->used;
	return b->buf + b->used;
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
	return p->fill->n == 0 ? metrics_source_merge(dst, p->fill->res.ms) : -EBUSY;
}

void countpool_destroy(struct countpool *p)
{
	if (!p) {
		return;
	}
	batchring_destroy(p->ring);
	for (size_t i = 0; p->parser && i < p->n_parsers; i++) {
		logparse_destroy(p->parser[i]);
	}
	for (size_t i = 0; p->batches && i < p->n_batches; i++) {
		if (p->batches[i].buf) {
			(void)munmap(p->batches[i].buf, p->batches[i].size);
		}
		metrics_destroy(p->batches[i].m);
	}
	free(p->parser);
	free(p->batches);
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

int countpool_create(unsigned threads, const struct config_source *cs,
                     const struct metrics_options *mo, countpool_deliver_fn *deliver_fn,
                     void *userdata, struct countpool **ret_pool)
{
	/* one filling, one per thread counting, one done waiting for delivery */
	void *batches[MAX_THREADS + 2];
	struct countpool *p;
	int r;

	if (threads < 2 || !deliver_fn) {
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
	p->deliver_fn = deliver_fn;
	p->userdata = userdata;
	p->n_parsers = threads;
	p->n_batches = (size_t)threads + 2;
	p->parser = calloc(p->n_parsers, sizeof(*p->parser));
	p->batches = calloc(p->n_batches, sizeof(*p->batches));
	r = p->parser && p->batches ? 0 : -ENOMEM;
	for (size_t i = 0; i < p->n_batches && r == 0; i++) {
		r = batch_init(&p->batches[i], cs, mo);
		batches[i] = &p->batches[i];
	}
	for (size_t i = 0; i < p->n_parsers && r == 0; i++) {
		r = logparse_create(cs->kind, cs->format, &p->parser[i], NULL);
	}
	if (r == 0) {
		p->fill = &p->batches[0];
		r = batchring_create(batches, p->n_batches, (void *const *)p->parser, threads, work,
		                     deliver, p, &p->ring);
	}
	if (r < 0) {
		countpool_destroy(p);
		return r;
	}
	*ret_pool = p;
	return 0;
}
