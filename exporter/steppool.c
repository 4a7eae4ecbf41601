/*
 * steppool.c - --backfill on every core (see steppool.h).
 *
 * The batches and threads are linepool.c's (as countpool.c's): runs of
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
 * Consecutive timed lines of one step are one note (a run with its
 * earliest and latest time): the reading thread routes a run, not each
 * line (a note and a route per line were 80 instructions a line).
 *
 * A delivered batch's step registries are all merged by the callback
 * (each has lines of its step), so only a recounted batch's are emptied
 * into the trash registry (every batch's were: a walk of every cell of
 * empty registries, 98,000 instructions a batch).
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

#include "exporter/linepool.h"
#include "parsers/logparse.h"
#include "parsers/logtime.h"

#define MAX_THREADS LINEPOOL_MAX_THREADS
#define MAX_BATCH_BYTES (TAIL_MAX_LINE_CAP + 2u * TAIL_CHUNK)
/* notes per batch: lines are at least one byte and a newline, so a batch
 * of 1 MiB holds at most about this many; more grow the array */
#define FIRST_ITEMS 8192u
#define MAX_ITEMS (MAX_BATCH_BYTES + LINEPOOL_BATCH_SEGS)

/* One batch's step registries and notes. */
struct batch {
	struct metrics *m[STEPPOOL_MAX_STEPS];
	struct steppool_item *item;
	size_t item_cap;
	struct steppool_batch out; /* out.ms[i]: m[i]'s only source */
	const struct steppool_steps *steps;
	const struct config_source *cs;   /* the pool's */
	const struct metrics_options *mo; /* the pool's */
	bool failed;                      /* out of memory for notes: recounted by the reader */
};

struct steppool {
	struct linepool *lp;
	struct batch *batches;
	size_t n_batches;
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
	struct linepool_worker *w;
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
	int i = step_index(b, ms / (int64_t)st->step_ms);
	if (i < 0) {
		b->out.overflow = true; /* recounted: its notes do not matter */
		return;
	}
	metrics_observe(b->out.ms[i], &rec);
	metrics_count(b->out.ms[i], METRICS_LINES, 1);
	struct steppool_item *it = b->out.n ? &b->item[b->out.n - 1] : NULL;
	if (it && it->kind == STEPPOOL_TIMED && it->step == (uint8_t)i && it->n < UINT32_MAX) {
		/* the run goes on */
		it->n++;
		it->value = ms < it->value ? ms : it->value;
		it->latest = ms > it->latest ? ms : it->latest;
		return;
	}
	it = note(b, NULL, 0, STEPPOOL_TIMED);
	if (it) {
		it->step = (uint8_t)i;
		it->n = 1;
		it->value = it->latest = ms;
	}
}

static void count_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct counting *c = ud;

	for (uint64_t i = 0; ev == TAIL_EV_TOO_LONG && i < n; i++) {
		(void)note(c->b, NULL, 0, STEPPOOL_TOO_LONG);
	}
}

/* A pushed event, noted in order. */
static void note_event(void *ud, uint16_t event, uint64_t value)
{
	struct counting *c = ud;
	struct steppool_item *it = note(c->b, NULL, 0, STEPPOOL_EVENT);

	if (it) {
		it->event = event;
		it->value = (int64_t)value;
	}
}

/* linepool_work_fn */
static void count_batch(struct linepool_worker *w, const struct linepool_batch *lb)
{
	struct batch *b = lb->data;
	struct counting c = {b, w};
	struct tail_callbacks cb = {.line = count_one, .event = count_event, .userdata = &c};

	linepool_replay(lb, &cb, note_event);
	/* out of memory for notes: the reader recounts (overflow) */
	b->out.overflow = b->out.overflow || b->failed;
}

/* linepool_deliver_fn: in push order, on the pushing thread. */
static void deliver(void *userdata, const struct linepool_batch *lb)
{
	struct steppool *p = userdata;
	struct batch *b = lb->data;

	if (b->out.overflow || !p->deliver_fn(p->userdata, &b->out)) {
		/* the batch's lines and events to the recount callbacks, in order */
		linepool_replay(lb, &p->recount, NULL);
		for (size_t i = 0; i < b->out.n_steps; i++) {
			/* zero what the callback did not take (and empty the journal) */
			(void)metrics_source_merge(p->trash_s, b->out.ms[i]);
		}
	}
	b->out.n = 0;
	b->out.n_steps = 0;
	b->out.overflow = false;
	b->failed = false;
}

void steppool_flush(struct steppool *p)
{
	linepool_flush(p->lp);
}

char *steppool_lend(struct steppool *p, size_t want, size_t *ret_size)
{
	return linepool_lend(p->lp, want, ret_size);
}

void steppool_push_block(struct steppool *p, const char *buf, size_t n, size_t cap)
{
	linepool_push_block(p->lp, buf, n, cap);
}

void steppool_push_line(struct steppool *p, const char *line, size_t len)
{
	linepool_push_line(p->lp, line, len);
}

void steppool_push_event(struct steppool *p, int event, uint64_t value)
{
	linepool_push_event(p->lp, (uint16_t)event, value);
}

int steppool_can_merge_into(struct steppool *p, struct metrics_source *dst)
{
	/* the step registries are empty: merging one adds zeros */
	return metrics_source_merge(dst, p->batches[0].out.ms[0]);
}

void steppool_destroy(struct steppool *p)
{
	if (!p) {
		return;
	}
	linepool_destroy(p->lp);
	for (size_t i = 0; p->batches && i < p->n_batches; i++) {
		struct batch *b = &p->batches[i];
		for (size_t k = 0; k < STEPPOOL_MAX_STEPS; k++) {
			metrics_destroy(b->m[k]);
		}
		free(b->item);
	}
	metrics_destroy(p->trash);
	free(p->batches);
	free(p);
}

static int batch_init(struct steppool *p, struct batch *b, const struct config_source *cs)
{
	b->steps = &p->steps;
	b->cs = cs;
	b->mo = &p->mo;
	b->item_cap = FIRST_ITEMS;
	b->item = calloc(b->item_cap, sizeof(*b->item));
	b->out.item = b->item;
	/* the first registry now (steppool_can_merge_into), the rest on use */
	return b->item ? add_source(&b->m[0], cs, &p->mo, &b->out.ms[0]) : -ENOMEM;
}

int steppool_create(unsigned threads, const struct config_source *cs,
                    const struct metrics_options *mo, const struct steppool_steps *steps,
                    const struct tail_callbacks *recount_cb, steppool_deliver_fn *deliver_fn,
                    void *userdata, struct steppool **ret_pool)
{
	void *data[MAX_THREADS + 2];
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
	p->n_batches = (size_t)threads + 2;
	p->batches = calloc(p->n_batches, sizeof(*p->batches));
	r = p->batches ? add_source(&p->trash, cs, mo, &p->trash_s) : -ENOMEM;
	for (size_t i = 0; i < p->n_batches && r == 0; i++) {
		r = batch_init(p, &p->batches[i], cs);
		data[i] = &p->batches[i];
	}
	if (r == 0) {
		r = linepool_create(threads, cs->kind, cs->format, NULL, p->n_batches, data,
		                    count_batch, deliver, p, &p->lp);
	}
	if (r < 0) {
		steppool_destroy(p);
		return r;
	}
	*ret_pool = p;
	return 0;
}
