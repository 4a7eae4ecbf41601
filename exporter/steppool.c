/*
 * steppool.c - --backfill on every core (see steppool.h).
 *
 * The ring is batchring.c's, the batches are countpool.c's shape: runs of
 * whole lines read straight into the batch (or copied), single lines and
 * tail events, split and parsed by one thread.  What a batch gives back is
 * one registry per step of log time it touched (up to STEPPOOL_MAX_STEPS,
 * histogram sums journaled so that a merge adds them in line order) and a
 * note per line: its step, or why it has none.  The reading thread replays
 * the notes through backfill.c's step logic, which is the one-thread logic
 * line for line, minus the counting: each step registry is merged into its
 * open step at the step's first line in the batch, so every count (and
 * every float addition of a sum) lands where one thread puts it.  Nothing
 * per line is copied; per line the reading thread only routes a step.
 *
 * Two cases fall back to the reading thread counting the batch's lines
 * itself (the recount callbacks: backfill.c's one-thread path): a line
 * older than every open step at its turn (it is counted in the oldest
 * open step, not its own), and a batch over STEPPOOL_MAX_STEPS steps.
 * Both are rare in access logs (nginx writes at most minutes out of order;
 * a 1 MiB batch spans seconds to minutes of a busy log).
 *
 * Rejected: extending countpool.c with steps (its result is one registry
 * merged as a whole; --once stays simple); sources with field labels,
 * path labels or filters (their counting needs the reading thread's
 * tables: parsepool.c's per-line hand-over keeps those).
 */
#include "exporter/steppool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "exporter/batchring.h"
#include "parsers/logparse.h"
#include "parsers/logtime.h"

#define BATCH_BYTES (TAIL_CHUNK + TAIL_DEFAULT_LINE_CAP)
#define BATCH_SEGS 4096u
#define MAX_THREADS 256u
#define MAX_BATCH_BYTES (TAIL_MAX_LINE_CAP + 2u * TAIL_CHUNK)
/* notes per batch: lines are at least one byte and a newline, so a batch
 * of BATCH_BYTES holds at most this many; more grow the array */
#define FIRST_ITEMS 8192u
#define MAX_ITEMS (MAX_BATCH_BYTES + BATCH_SEGS)

enum seg_kind { SEG_BLOCK, SEG_LINE, SEG_EVENT };

struct seg {
	const char *p; /* into buf, or NULL for an event */
	uint32_t len;
	uint8_t kind;
	uint16_t event;
	uint64_t value;
};

struct batch {
	char *buf;
	size_t used, size;
	struct seg seg[BATCH_SEGS];
	size_t n_seg;
	size_t cap; /* line cap of the blocks */
	struct metrics *m[STEPPOOL_MAX_STEPS];
	struct steppool_item *item;
	size_t item_cap;
	struct steppool_batch out; /* out.ms[i]: m[i]'s only source */
	const struct steppool_steps *steps;
	const struct config_source *cs;   /* the pool's */
	const struct metrics_options *mo; /* the pool's */
	bool failed;                      /* out of memory for notes: recounted by the reader */
};

/* One counting thread's own state. */
struct worker {
	struct log_parser *parser;
	struct logtime_cache tc;
};

struct steppool {
	struct batchring *ring;
	struct batch *batches;
	size_t n_batches;
	struct batch *fill;
	struct worker *workers; /* [0]: the pushing thread's */
	size_t n_workers;
	struct steppool_steps steps;
	struct metrics_options mo;
	struct metrics *trash; /* what a delivery left in a step registry */
	struct metrics_source *trash_s;
	struct tail_callbacks recount;
	steppool_deliver_fn *deliver_fn;
	void *userdata;
};

/* The thread counting one batch. */
struct counting {
	struct batch *b;
	struct worker *w;
};

static struct steppool_item *note(struct batch *b, const char *line, size_t len, unsigned kind)
{
	struct steppool_batch *o = &b->out;

	if (o->n == b->item_cap) {
		size_t cap = b->item_cap * 2;
		struct steppool_item *v =
		    cap <= MAX_ITEMS ? realloc(b->item, cap * sizeof(*v)) : NULL;
		if (!v) {
			b->failed = true;
			return NULL;
		}
		b->item = v;
		b->item_cap = cap;
		o->item = v;
	}
	struct steppool_item *it = &b->item[o->n++];
	*it = (struct steppool_item){.line = line, .len = (uint32_t)len, .kind = (uint8_t)kind};
	return it;
}

static int add_source(struct metrics **m, const struct config_source *cs,
                      const struct metrics_options *mo, struct metrics_source **ret_s)
{
	char err[256];
	int r;

	*m = metrics_create(mo);
	if (!*m) {
		return -ENOMEM;
	}
	r = metrics_add_source(*m, cs->name, cs->labels, cs->n_labels, NULL, 0, ret_s, err,
	                       sizeof(err));
	return r < 0 ? r : metrics_source_journal_sums(*ret_s);
}

/* The registry of step, added on first sight (a registry is made the
 * first time a batch needs that many: most batches span a step or two);
 * -1 when the batch has STEPPOOL_MAX_STEPS already, or out of memory. */
static int step_index(struct batch *b, int64_t step)
{
	struct steppool_batch *o = &b->out;

	for (size_t i = 0; i < o->n_steps; i++) {
		if (o->step[i] == step) {
			return (int)i;
		}
	}
	if (o->n_steps == STEPPOOL_MAX_STEPS) {
		return -1;
	}
	size_t i = o->n_steps;
	if (!b->m[i] && add_source(&b->m[i], b->cs, b->mo, &o->ms[i]) < 0) {
		metrics_destroy(b->m[i]);
		b->m[i] = NULL;
		return -1;
	}
	o->step[i] = step;
	o->n_steps++;
	return (int)i;
}

static void count_one(void *ud, const char *line, size_t len)
{
	struct counting *c = ud;
	struct batch *b = c->b;
	const struct steppool_steps *st = b->steps;
	struct log_record rec;
	int64_t ms = 0;

	if (logparse_line(c->w->parser, line, len, &rec) < 0) {
		(void)note(b, line, len, STEPPOOL_PARSE_ERROR);
		return;
	}
	if (logtime_of_record_cached(&rec, &c->w->tc, &ms) < 0 || ms > st->future_ms) {
		(void)note(b, line, len, STEPPOOL_TIME_ERROR);
		return;
	}
	if (st->until_ms && ms >= st->until_ms) {
		(void)note(b, line, len, STEPPOOL_AFTER_UNTIL);
		return;
	}
	struct steppool_item *it = note(b, line, len, STEPPOOL_TIMED);
	int i = step_index(b, ms / (int64_t)st->step_ms);
	if (!it) {
		return;
	}
	it->value = ms;
	if (i < 0) {
		b->out.overflow = true;
		return;
	}
	it->step = (uint8_t)i;
	metrics_observe(b->out.ms[i], &rec);
	metrics_count(b->out.ms[i], METRICS_LINES, 1);
}

static void count_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct counting *c = ud;

	for (uint64_t i = 0; ev == TAIL_EV_TOO_LONG && i < n; i++) {
		(void)note(c->b, NULL, 0, STEPPOOL_TOO_LONG);
	}
}

/* batchring_work_fn: ctx is the thread's worker. */
static void count_batch(void *ctx, void *batch)
{
	struct batch *b = batch;
	struct counting c = {b, ctx};
	struct tail_callbacks cb = {.line = count_one, .event = count_event, .userdata = &c};

	for (size_t i = 0; i < b->n_seg; i++) {
		struct seg *s = &b->seg[i];
		if (s->kind == SEG_BLOCK) {
			bool skipping = false;
			(void)tail_split(&cb, &skipping, (char *)s->p, s->len, b->cap);
		} else if (s->kind == SEG_LINE) {
			count_one(&c, s->p, s->len);
		} else {
			struct steppool_item *it = note(b, NULL, 0, STEPPOOL_EVENT);
			if (it) {
				it->event = s->event;
				it->value = (int64_t)s->value;
			}
		}
	}
	/* out of memory for notes: the reader recounts (overflow) */
	b->out.overflow = b->out.overflow || b->failed;
}

/* The batch's lines and events to the recount callbacks, in order. */
static void recount(struct steppool *p, struct batch *b)
{
	const struct tail_callbacks *cb = &p->recount;

	for (size_t i = 0; i < b->n_seg; i++) {
		struct seg *s = &b->seg[i];
		if (s->kind == SEG_BLOCK) {
			bool skipping = false;
			(void)tail_split(cb, &skipping, (char *)s->p, s->len, b->cap);
		} else if (s->kind == SEG_LINE) {
			cb->line(cb->userdata, s->p, s->len);
		} else {
			cb->event(cb->userdata, (enum tail_event)s->event, s->value);
		}
	}
}

/* batchring_deliver_fn: in push order, on the pushing thread. */
static void deliver(void *userdata, void *batch)
{
	struct steppool *p = userdata;
	struct batch *b = batch;

	if (b->out.overflow || !p->deliver_fn(p->userdata, &b->out)) {
		recount(p, b);
	}
	for (size_t i = 0; i < b->out.n_steps; i++) {
		/* zero what the callback did not take (and empty the journal) */
		(void)metrics_source_merge(p->trash_s, b->out.ms[i]);
	}
	b->out.n = 0;
	b->out.n_steps = 0;
	b->out.overflow = false;
	b->failed = false;
	b->n_seg = 0;
	b->used = 0;
}

static void submit(struct steppool *p)
{
	p->fill = batchring_submit(p->ring);
}

void steppool_flush(struct steppool *p)
{
	if (p->fill->n_seg > 0) {
		submit(p);
	}
	batchring_flush(p->ring);
}

static int buf_alloc(struct batch *b, size_t size)
{
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (m == MAP_FAILED) {
		return -ENOMEM;
	}
	if (b->buf) {
		(void)munmap(b->buf, b->size);
	}
	b->buf = m;
	b->size = size;
	return 0;
}

/* The filling batch with room for n bytes and a segment, or NULL. */
static struct batch *room_for(struct steppool *p, size_t n)
{
	struct batch *b = p->fill;

	if (n > MAX_BATCH_BYTES) {
		return NULL;
	}
	if (b->n_seg == BATCH_SEGS || n > b->size - b->used) {
		if (b->n_seg > 0) {
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

char *steppool_lend(struct steppool *p, size_t want, size_t *ret_size)
{
	struct batch *b = p->fill;

	/* never a new buffer here: the reader's partial line may lie in it */
	if (want > b->size) {
		return NULL;
	}
	if (b->n_seg == BATCH_SEGS || want > b->size - b->used) {
		submit(p);
		b = p->fill;
		if (want > b->size) {
			return NULL;
		}
	}
	*ret_size = b->size - b->used;
	return b->buf + b->used;
}

static void push(struct steppool *p, const char *data, size_t n, size_t cap, enum seg_kind kind)
{
	struct batch *b = room_for(p, n);

	if (!b) {
		/* absurd or out of memory: a batch of its own, in order */
		steppool_flush(p);
		b = p->fill;
		b->seg[0] = (struct seg){.p = data, .len = (uint32_t)n, .kind = (uint8_t)kind};
		b->n_seg = 1;
		b->cap = cap;
		count_batch(&p->workers[0], b);
		deliver(p, b);
		return;
	}
	if (data != b->buf + b->used) {
		memmove(b->buf + b->used, data, n);
	}
	b->seg[b->n_seg++] =
	    (struct seg){.p = b->buf + b->used, .len = (uint32_t)n, .kind = (uint8_t)kind};
	b->used += n;
	if (kind == SEG_BLOCK) {
		b->cap = cap;
	}
}

void steppool_push_block(struct steppool *p, const char *buf, size_t n, size_t cap)
{
	if (n) {
		push(p, buf, n, cap, SEG_BLOCK);
	}
}

void steppool_push_line(struct steppool *p, const char *line, size_t len)
{
	push(p, line, len, 0, SEG_LINE);
}

void steppool_push_event(struct steppool *p, int event, uint64_t value)
{
	struct batch *b = p->fill;

	if (b->n_seg == BATCH_SEGS) {
		submit(p);
		b = p->fill;
	}
	b->seg[b->n_seg++] =
	    (struct seg){.kind = SEG_EVENT, .event = (uint16_t)event, .value = value};
}

int steppool_can_merge_into(struct steppool *p, struct metrics_source *dst)
{
	/* the step registries are empty: merging one adds zeros */
	return metrics_source_merge(dst, p->fill->out.ms[0]);
}

void steppool_destroy(struct steppool *p)
{
	if (!p) {
		return;
	}
	batchring_destroy(p->ring);
	for (size_t i = 0; p->workers && i < p->n_workers; i++) {
		logparse_destroy(p->workers[i].parser);
	}
	for (size_t i = 0; p->batches && i < p->n_batches; i++) {
		struct batch *b = &p->batches[i];
		if (b->buf) {
			(void)munmap(b->buf, b->size);
		}
		for (size_t k = 0; k < STEPPOOL_MAX_STEPS; k++) {
			metrics_destroy(b->m[k]);
		}
		free(b->item);
	}
	metrics_destroy(p->trash);
	free(p->workers);
	free(p->batches);
	free(p);
}

static int batch_init(struct steppool *p, struct batch *b, const struct config_source *cs,
                      const struct metrics_options *mo)
{
	int r = buf_alloc(b, BATCH_BYTES);

	b->steps = &p->steps;
	b->cs = cs;
	b->mo = &p->mo;
	b->item_cap = FIRST_ITEMS;
	b->item = calloc(b->item_cap, sizeof(*b->item));
	b->out.item = b->item;
	r = r == 0 && b->item ? 0 : -ENOMEM;
	(void)mo;
	/* the first registry now (steppool_can_merge_into), the rest on use */
	return r == 0 ? add_source(&b->m[0], cs, &p->mo, &b->out.ms[0]) : r;
}

int steppool_create(unsigned threads, const struct config_source *cs,
                    const struct metrics_options *mo, const struct steppool_steps *steps,
                    const struct tail_callbacks *recount_cb, steppool_deliver_fn *deliver_fn,
                    void *userdata, struct steppool **ret_pool)
{
	void *batches[MAX_THREADS + 2], *ctx[MAX_THREADS];
	struct steppool *p;
	int r;

	if (threads < 2 || !deliver_fn || !steps || !steps->step_ms || !recount_cb ||
	    !recount_cb->line || !recount_cb->event) {
		return -EINVAL;
	}
	if (cs->n_field_labels > 0 || cs->n_filters > 0 || cs->path_labels) {
		return -ENOTSUP;
	}
	threads = threads > MAX_THREADS ? MAX_THREADS : threads;
	p = calloc(1, sizeof(*p));
	if (!p) {
		return -ENOMEM;
	}
	p->steps = *steps;
	p->mo = *mo;
	p->recount = (struct tail_callbacks){
	    .line = recount_cb->line, .event = recount_cb->event, .userdata = recount_cb->userdata};
	p->deliver_fn = deliver_fn;
	p->userdata = userdata;
	p->n_workers = threads;
	p->n_batches = (size_t)threads + 2;
	p->workers = calloc(p->n_workers, sizeof(*p->workers));
	p->batches = calloc(p->n_batches, sizeof(*p->batches));
	r = p->workers && p->batches ? add_source(&p->trash, cs, mo, &p->trash_s) : -ENOMEM;
	for (size_t i = 0; i < p->n_batches && r == 0; i++) {
		r = batch_init(p, &p->batches[i], cs, mo);
		batches[i] = &p->batches[i];
	}
	for (size_t i = 0; i < p->n_workers && r == 0; i++) {
		r = logparse_create(cs->kind, cs->format, &p->workers[i].parser, NULL);
		ctx[i] = &p->workers[i];
	}
	if (r == 0) {
		p->fill = &p->batches[0];
		r = batchring_create(batches, p->n_batches, ctx, threads, count_batch, deliver, p,
		                     &p->ring);
	}
	if (r < 0) {
		steppool_destroy(p);
		return r;
	}
	*ret_pool = p;
	return 0;
}
