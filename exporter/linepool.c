/*
 * linepool.c - the --threads pools' skeleton (see linepool.h).
 *
 * The ring of batches is batchring.c's: the pushing thread fills a batch,
 * N - 1 workers and the pushing thread (while it waits for the oldest)
 * work on whole batches, and batches come back in the order they were
 * filled.  A batch's buffer is a mapping aligned and rounded up to 2 MiB
 * and advised into transparent huge pages, then written once per page:
 * one fault per 2 MiB where the kernel gives huge pages (a fault per 4 KiB
 * page costs tens of microseconds on a virtual machine: the four batches
 * of --threads 2 took 1,100 faults, most of the system time that two
 * threads cost over one); the batch's size stays
 * BATCH_BYTES (bigger batches make more steps per batch for --backfill).
 * It grows for a block longer than it (up to MAX_BATCH_BYTES); the tail
 * may read straight into it (lend), and a block already where it was read
 * is kept there.  Each thread has its own parser and log-time cache.
 *
 * countpool.c, parsepool.c and steppool.c each had their own copy of the
 * batches, the buffers, the pushes, the workers' parsers and the set-up;
 * what a batch's work and delivery mean stays theirs.
 *
 * Rejected: MAP_POPULATE of 4 KiB pages (what the huge pages replaced:
 * populating still faults every page in: 1,858 faults against 776 for
 * --once --threads 2 on 2M lines); 2 MiB batches (half the merges, but
 * --backfill's sparse logs then spread a batch over more steps, each a
 * registry of its own: 2,572 faults against 1,955);
 * one byte range of each file per core, read by its own thread
 * (the fileset decides which files, in which order, and from which
 * offset; its rules for rotated, compressed and over-cap files would need
 * a second implementation; ranges this size also balance worse under
 * load than a queue of 1 MiB batches).
 */
#include "exporter/linepool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "exporter/batchring.h"

/* A whole read of the tail with the default line cap fits one batch. */
#define BATCH_BYTES (TAIL_CHUNK + TAIL_DEFAULT_LINE_CAP)
/* A block longer than a batch gets a batch of its size, up to this. */
#define MAX_BATCH_BYTES (TAIL_MAX_LINE_CAP + 2u * TAIL_CHUNK)
/* transparent huge pages (x86-64, arm64 with 4 KiB pages) */
#define HUGE_BYTES (2u * 1024u * 1024u)

struct batch {
	char *buf;
	size_t used, size;
	size_t mapped; /* the length of buf's mapping (size rounded up) */
	struct linepool_seg seg[LINEPOOL_BATCH_SEGS];
	struct linepool_batch view; /* what the callbacks get: view.n_seg, view.cap */
	struct linepool *pool;
};

struct linepool {
	struct batchring *ring;
	struct batch *batches;
	size_t n_batches;
	struct batch *fill;             /* the batch being filled */
	struct linepool_worker *worker; /* one per thread; [0] the pushing thread's */
	size_t n_workers;
	linepool_work_fn *work_fn;
	linepool_deliver_fn *deliver_fn;
	void *userdata;
};

/* batchring_work_fn: ctx is the thread's worker. */
static void work(void *ctx, void *batch)
{
	struct batch *b = batch;

	b->pool->work_fn(ctx, &b->view);
}

/* batchring_deliver_fn: in fill order, on the pushing thread. */
static void deliver(void *userdata, void *batch)
{
	struct linepool *p = userdata;
	struct batch *b = batch;

	p->deliver_fn(p->userdata, &b->view);
	b->view.n_seg = 0;
	b->used = 0;
}

static void submit(struct linepool *p)
{
	p->fill = batchring_submit(p->ring);
}

void linepool_flush(struct linepool *p)
{
	if (p->fill->view.n_seg > 0) {
		submit(p);
	}
	batchring_flush(p->ring);
}

void *linepool_filling(struct linepool *p)
{
	return p->fill->view.data;
}

bool linepool_is_empty(struct linepool *p)
{
	return p->fill->view.n_seg == 0;
}

/* size bytes of fresh memory, populated, in transparent huge pages where
 * the kernel gives them: the mapping is aligned to HUGE_BYTES and its
 * length (*ret_mapped) rounded up to it.  NULL: out of memory. */
static char *huge_alloc(size_t size, size_t *ret_mapped)
{
	size_t n = (size + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES;
	char *m =
	    mmap(NULL, n + HUGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		return NULL;
	}
	/* the aligned n bytes inside; the rest goes back */
	char *a = (char *)(((uintptr_t)m + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
	if (a > m) {
		(void)munmap(m, (size_t)(a - m));
	}
	if (a + n < m + n + HUGE_BYTES) {
		(void)munmap(a + n, (size_t)(m + n + HUGE_BYTES - (a + n)));
	}
#ifdef MADV_HUGEPAGE
	(void)madvise(a, n, MADV_HUGEPAGE);
#endif
	/* populate: one write per page (one fault per huge page) */
	for (size_t off = 0; off < n; off += 4096) {
		a[off] = 0;
	}
	*ret_mapped = n;
	return a;
}

/* A batch buffer of size bytes (the old one, empty, is dropped). */
static int buf_alloc(struct batch *b, size_t size)
{
	size_t mapped = 0;
	char *m = huge_alloc(size, &mapped);

	if (!m) {
		return -ENOMEM;
	}
	if (b->buf) {
		(void)munmap(b->buf, b->mapped);
	}
	b->buf = m;
	b->size = size;
	b->mapped = mapped;
	return 0;
}

/* The filling batch with room for n more bytes and a segment (submitting
 * the current one when full); NULL when n cannot fit in any batch. */
static struct batch *room_for(struct linepool *p, size_t n)
{
	struct batch *b = p->fill;

	if (n > MAX_BATCH_BYTES) {
		return NULL;
	}
	if (b->view.n_seg == LINEPOOL_BATCH_SEGS || n > b->size - b->used) {
		if (b->view.n_seg > 0) {
			submit(p);
			b = p->fill;
		}
		size_t grown = b->size * 2 > MAX_BATCH_BYTES ? MAX_BATCH_BYTES : b->size * 2;
		if (n > b->size && buf_alloc(b, n > grown ? n : grown) < 0) {
			return NULL;
		}
	}
	return b;
}

char *linepool_lend(struct linepool *p, size_t want, size_t *ret_size)
{
	struct batch *b = p->fill;

	/* Never a new buffer here: the reader's partial line may lie in this
	 * one.  A submitted batch keeps its buffer until it is delivered. */
	if (want > b->size) {
		return NULL;
	}
	if (b->view.n_seg == LINEPOOL_BATCH_SEGS || want > b->size - b->used) {
		submit(p);
		b = p->fill;
		if (want > b->size) {
			return NULL;
		}
	}
	*ret_size = b->size - b->used;
	return b->buf + b->used;
}

static void push(struct linepool *p, const char *data, size_t n, size_t cap,
                 enum linepool_seg_kind kind)
{
	struct batch *b = room_for(p, n);

	if (!b) {
		/* absurd or out of memory: a batch of its own, in order, here */
		linepool_flush(p);
		b = p->fill;
		b->seg[0] =
		    (struct linepool_seg){.p = data, .len = (uint32_t)n, .kind = (uint8_t)kind};
		b->view.n_seg = 1;
		b->view.cap = cap;
		p->work_fn(&p->worker[0], &b->view);
		deliver(p, b);
		return;
	}
	if (data != b->buf + b->used) {
		/* lent memory is kept where it was read; the bytes may also lie
		 * a little further in it (memmove) */
		memmove(b->buf + b->used, data, n);
	}
	b->seg[b->view.n_seg++] =
	    (struct linepool_seg){.p = b->buf + b->used, .len = (uint32_t)n, .kind = (uint8_t)kind};
	b->used += n;
	if (kind == LINEPOOL_BLOCK) {
		b->view.cap = cap; /* the same for every block of a source */
	}
}

void linepool_push_block(struct linepool *p, const char *buf, size_t n, size_t cap)
{
	if (n) {
		push(p, buf, n, cap, LINEPOOL_BLOCK);
	}
}

void linepool_push_line(struct linepool *p, const char *line, size_t len)
{
	push(p, line, len, 0, LINEPOOL_LINE);
}

void linepool_push_event(struct linepool *p, uint16_t event, uint64_t value)
{
	struct batch *b = p->fill;

	if (b->view.n_seg == LINEPOOL_BATCH_SEGS) {
		submit(p);
		b = p->fill;
	}
	b->seg[b->view.n_seg++] =
	    (struct linepool_seg){.kind = LINEPOOL_EVENT, .event = event, .value = value};
}

void linepool_replay(const struct linepool_batch *b, const struct tail_callbacks *cb,
                     linepool_event_fn *event)
{
	for (size_t i = 0; i < b->n_seg; i++) {
		const struct linepool_seg *s = &b->seg[i];
		if (s->kind == LINEPOOL_BLOCK) {
			bool skipping = false;
			(void)tail_split(cb, &skipping, (char *)s->p, s->len, b->cap);
		} else if (s->kind == LINEPOOL_LINE) {
			cb->line(cb->userdata, s->p, s->len);
		} else if (event) {
			event(cb->userdata, s->event, s->value);
		} else {
			cb->event(cb->userdata, (enum tail_event)s->event, s->value);
		}
	}
}

void linepool_destroy(struct linepool *p)
{
	if (!p) {
		return;
	}
	batchring_destroy(p->ring);
	for (size_t i = 0; p->worker && i < p->n_workers; i++) {
		logparse_destroy(p->worker[i].parser);
	}
	for (size_t i = 0; p->batches && i < p->n_batches; i++) {
		if (p->batches[i].buf) {
			(void)munmap(p->batches[i].buf, p->batches[i].mapped);
		}
	}
	free(p->worker);
	free(p->batches);
	free(p);
}

static int start(struct linepool *p, unsigned threads)
{
	void **batches = calloc(p->n_batches, sizeof(*batches));
	void *ctx[LINEPOOL_MAX_THREADS];
	int r;

	if (!batches) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_batches; i++) {
		batches[i] = &p->batches[i];
	}
	for (size_t i = 0; i < p->n_workers; i++) {
		ctx[i] = &p->worker[i];
	}
	p->fill = &p->batches[0];
	r = batchring_create(batches, p->n_batches, ctx, threads, work, deliver, p, &p->ring);
	free(batches);
	return r;
}

int linepool_create(unsigned threads, enum logparse_kind kind, const char *format,
                    const struct logparse_opts *opts, size_t n_batches, void *const *data,
                    linepool_work_fn *work_fn, linepool_deliver_fn *deliver_fn, void *userdata,
                    struct linepool **ret_pool)
{
	struct linepool *p;
	int r;

	if (threads < 2 || threads > LINEPOOL_MAX_THREADS || n_batches < 2 || !data || !work_fn ||
	    !deliver_fn) {
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		return -ENOMEM;
	}
	p->work_fn = work_fn;
	p->deliver_fn = deliver_fn;
	p->userdata = userdata;
	p->n_workers = threads;
	p->n_batches = n_batches;
	p->worker = calloc(p->n_workers, sizeof(*p->worker));
	p->batches = calloc(p->n_batches, sizeof(*p->batches));
	r = p->worker && p->batches ? 0 : -ENOMEM;
	for (size_t i = 0; i < p->n_batches && r == 0; i++) {
		p->batches[i].pool = p;
		p->batches[i].view =
		    (struct linepool_batch){.seg = p->batches[i].seg, .data = data[i]};
		r = buf_alloc(&p->batches[i], BATCH_BYTES);
	}
	for (size_t i = 0; i < p->n_workers && r == 0; i++) {
		r = logparse_create_opts(kind, format, opts, &p->worker[i].parser, NULL);
	}
	r = r == 0 ? start(p, threads) : r;
	if (r < 0) {
		linepool_destroy(p);
		return r;
	}
	*ret_pool = p;
	return 0;
}
