/*
 * countpool.c - parallel counting into private registries (see countpool.h).
 *
 * The batches, their buffers and the threads are linepool.c's: a batch
 * holds runs of whole lines as read (the tail hands over everything up
 * to its buffer's last newline in one call) and single lines, and is
 * split, parsed and counted by one thread into a registry of the batch's
 * own; what comes back is that registry, merged into the source's in
 * batch order.  Per line nothing is copied twice, no record is handed
 * over and no line is touched by a second core: the parsepool's per-line
 * hand-over (a memcpy, a record written on one core and counted on
 * another) cost as much CPU as the second core gained.  Integers merge
 * exactly in any order; histogram sums are floating-point, so a batch
 * registry writes its values down (metrics_source_journal_sums) and the
 * merge adds them in file order: the output is the same bytes for any
 * number of threads.  Merging costs about 4000 cells per batch of about
 * 1 MiB (~6000 lines).
 *
 * Rejected: cutting each file into one byte range per core (linepool.c
 * says why); sources with field labels (their series tables are created
 * in order of first sight and have no merge: those keep parsepool.c).
 */
#include "exporter/countpool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/input/tail.h"
#include "exporter/linepool.h"
#include "parsers/logparse.h"

#define MAX_THREADS LINEPOOL_MAX_THREADS

/* One batch's counts. */
struct counts {
	struct metrics *m;
	struct countpool_result res; /* res.ms: m's only source */
};

struct countpool {
	struct linepool *lp;
	struct counts *counts;
	size_t n_counts;
	countpool_deliver_fn *deliver_fn;
	void *userdata;
};

/* The counting thread's view of one batch. */
struct counting {
	struct countpool_result *r;
	struct log_parser *parser;
};

static void count_one(void *ud, const char *line, size_t len)
{
	struct counting *c = ud;
	struct countpool_result *r = c->r;
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
		c->r->too_long += n;
	}
}

/* linepool_work_fn */
static void count_batch(struct linepool_worker *w, const struct linepool_batch *b)
{
	struct counts *k = b->data;
	struct counting c = {&k->res, w->parser};
	struct tail_callbacks cb = {.line = count_one, .event = count_event, .userdata = &c};

	linepool_replay(b, &cb, NULL);
}

/* linepool_deliver_fn: in file order, on the pushing thread. */
static void deliver(void *userdata, const struct linepool_batch *b)
{
	struct countpool *p = userdata;
	struct counts *k = b->data;
	struct metrics_source *ms = k->res.ms;

	p->deliver_fn(p->userdata, &k->res);
	memset(&k->res, 0, sizeof(k->res));
	k->res.ms = ms;
}

void countpool_flush(struct countpool *p)
{
	linepool_flush(p->lp);
}

char *countpool_lend(struct countpool *p, size_t want, size_t *ret_size)
{
	return linepool_lend(p->lp, want, ret_size);
}

void countpool_push_block(struct countpool *p, const char *buf, size_t n, size_t cap)
{
	linepool_push_block(p->lp, buf, n, cap);
}

void countpool_push_line(struct countpool *p, const char *line, size_t len)
{
	linepool_push_line(p->lp, line, len);
}

int countpool_can_merge_into(struct countpool *p, struct metrics_source *dst)
{
	struct counts *k = linepool_filling(p->lp);

	/* the filling batch is empty: merging it adds zeros */
	return linepool_is_empty(p->lp) ? metrics_source_merge(dst, k->res.ms) : -EBUSY;
}

void countpool_destroy(struct countpool *p)
{
	if (!p) {
		return;
	}
	linepool_destroy(p->lp);
	for (size_t i = 0; p->counts && i < p->n_counts; i++) {
		metrics_destroy(p->counts[i].m);
	}
	free(p->counts);
	free(p);
}

static int counts_init(struct counts *k, const struct config_source *cs,
                       const struct metrics_options *mo)
{
	char err[256];
	int r;

	k->m = metrics_create(mo);
	if (!k->m) {
		return -ENOMEM;
	}
	r = metrics_add_source(k->m, cs->name, cs->labels, cs->n_labels, NULL, 0, &k->res.ms, err,
	                       sizeof(err));
	return r < 0 ? r : metrics_source_journal_sums(k->res.ms);
}

int countpool_create(unsigned threads, const struct config_source *cs,
                     const struct metrics_options *mo, countpool_deliver_fn *deliver_fn,
                     void *userdata, struct countpool **ret_pool)
{
	/* one filling, one per thread counting, one done waiting for delivery */
	void *data[MAX_THREADS + 2];
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
	p->n_counts = (size_t)threads + 2;
	p->counts = calloc(p->n_counts, sizeof(*p->counts));
	r = p->counts ? 0 : -ENOMEM;
	for (size_t i = 0; i < p->n_counts && r == 0; i++) {
		r = counts_init(&p->counts[i], cs, mo);
		data[i] = &p->counts[i];
	}
	if (r == 0) {
		r = linepool_create(threads, cs->kind, cs->format, NULL, p->n_counts, data,
		                    count_batch, deliver, p, &p->lp);
	}
	if (r < 0) {
		countpool_destroy(p);
		return r;
	}
	*ret_pool = p;
	return 0;
}
