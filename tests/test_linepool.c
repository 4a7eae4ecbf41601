/*
 * test_linepool.c - the --threads pools' skeleton (linepool.c): with 2, 3
 * and 8 threads, blocks (copied or read into lent memory), single lines
 * and events come back in push order, each batch worked once by a thread
 * with a parser of its own; a block larger than a batch; a segment larger
 * than any batch worked on the pushing thread, in order; bad arguments.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exporter/linepool.h"
#include "exporter/strbuf.h"

#define CAP 100u
#define N_DATA 10u

static const char *FMT = "$remote_addr $status";

/* One batch's state: what its work saw. */
struct seen {
	struct strbuf text; /* lines and events as replayed, on the working thread */
	size_t parsed;      /* lines the worker's parser read */
	int worked;
};

/* The pushing thread's record of deliveries. */
struct sink {
	struct strbuf text;
	size_t parsed, batches;
};

static void w_line(void *ud, const char *line, size_t len)
{
	struct strbuf *b = ud;
	(void)strbuf_append(b, "L:", 2);
	(void)strbuf_append(b, line, len);
	(void)strbuf_putc(b, '\n');
}

static void w_event(void *ud, enum tail_event ev, uint64_t n)
{
	(void)strbuf_printf(ud, "E:%d:%llu\n", (int)ev, (unsigned long long)n);
}

static void work(struct linepool_worker *w, const struct linepool_batch *b)
{
	struct seen *s = b->data;
	struct tail_callbacks cb = {.line = w_line, .event = w_event, .userdata = &s->text};

	s->worked++;
	linepool_replay(b, &cb, NULL);
	for (size_t i = 0; i < b->n_seg; i++) {
		struct log_record rec;
		if (b->seg[i].kind == LINEPOOL_LINE &&
		    logparse_line(w->parser, b->seg[i].p, b->seg[i].len, &rec) == 0) {
			s->parsed++;
		}
	}
}

static void deliver(void *ud, const struct linepool_batch *b)
{
	struct sink *k = ud;
	struct seen *s = b->data;

	assert_int_equal(s->worked, 1);
	(void)strbuf_append(&k->text, s->text.data, s->text.len);
	k->parsed += s->parsed;
	k->batches++;
	strbuf_reset(&s->text);
	s->parsed = 0;
	s->worked = 0;
}

struct pool {
	struct seen seen[N_DATA];
	void *data[N_DATA];
	struct sink k;
	struct linepool *p;
};

static void pool_init(struct pool *pl, unsigned threads)
{
	memset(pl, 0, sizeof(*pl));
	for (size_t i = 0; i < N_DATA; i++) {
		strbuf_init(&pl->seen[i].text, 1u << 26);
		pl->data[i] = &pl->seen[i];
	}
	strbuf_init(&pl->k.text, 1u << 26);
	assert_int_equal(linepool_create(threads, LOGPARSE_NGINX, FMT, NULL, threads + 2u, pl->data,
	                                 work, deliver, &pl->k, &pl->p),
	                 0);
}

static void pool_finish(struct pool *pl)
{
	linepool_destroy(pl->p);
	for (size_t i = 0; i < N_DATA; i++) {
		strbuf_finish(&pl->seen[i].text);
	}
	strbuf_finish(&pl->k.text);
}

static void t_order(void **state)
{
	static const unsigned threads[] = {2, 3, 8};

	(void)state;
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct pool pl;
		struct strbuf want, block;
		size_t parsed = 0;
		pool_init(&pl, threads[t]);
		assert_true(linepool_is_empty(pl.p));
		strbuf_init(&want, 1u << 26);
		strbuf_init(&block, 1u << 20);
		for (unsigned i = 0; i < 30000; i++) {
			char line[64];
			int n = snprintf(line, sizeof(line), "10.0.0.%u %d", i % 256,
			                 200 + (int)(i % 3));
			if (i % 5 == 0) {
				linepool_push_line(pl.p, line, (size_t)n);
				(void)strbuf_printf(&want, "L:%s\n", line);
				parsed++;
			} else if (i % 97 == 1) {
				linepool_push_event(pl.p, TAIL_EV_TRUNCATED, i);
				(void)strbuf_printf(&want, "E:%d:%u\n", (int)TAIL_EV_TRUNCATED, i);
			} else {
				/* a block of one line, half of them read into lent memory */
				size_t room = 0;
				char *lent =
				    i % 2 ? linepool_lend(pl.p, (size_t)n + 1, &room) : NULL;
				char *dst = lent ? lent : block.data;
				if (!lent) {
					strbuf_reset(&block);
					(void)strbuf_reserve(&block, (size_t)n + 1);
					dst = block.data;
				}
				memcpy(dst, line, (size_t)n);
				dst[n] = '\n';
				linepool_push_block(pl.p, dst, (size_t)n + 1, CAP);
				(void)strbuf_printf(&want, "L:%s\n", line);
			}
		}
		linepool_flush(pl.p);
		assert_string_equal(pl.k.text.data, want.data);
		assert_int_equal(pl.k.parsed, parsed);
		assert_true(pl.k.batches > 1);
		strbuf_finish(&want);
		strbuf_finish(&block);
		pool_finish(&pl);
	}
}

/* A block over a batch's size gets a batch of its size; the lines around
 * it stay in order. */
static void t_big_block(void **state)
{
	struct pool pl;
	struct strbuf log, want;
	(void)state;

	pool_init(&pl, 2);
	strbuf_init(&log, 1u << 26);
	strbuf_init(&want, 1u << 26);
	for (unsigned i = 0; log.len < 3u * 1024u * 1024u; i++) {
		(void)strbuf_printf(&log, "line %u\n", i);
		(void)strbuf_printf(&want, "L:line %u\n", i);
	}
	linepool_push_line(pl.p, "first", 5);
	linepool_push_block(pl.p, log.data, log.len, CAP);
	linepool_push_line(pl.p, "last", 4);
	linepool_flush(pl.p);
	assert_int_equal(strncmp(pl.k.text.data, "L:first\n", 8), 0);
	assert_int_equal(memcmp(pl.k.text.data + 8, want.data, want.len), 0);
	assert_string_equal(pl.k.text.data + 8 + want.len, "L:last\n");
	strbuf_finish(&log);
	strbuf_finish(&want);
	pool_finish(&pl);
}

static void t_bad_args(void **state)
{
	struct pool pl;
	struct linepool *p = NULL;
	(void)state;

	memset(&pl, 0, sizeof(pl));
	for (size_t i = 0; i < N_DATA; i++) {
		pl.data[i] = &pl.seen[i];
	}
	assert_int_equal(
	    linepool_create(1, LOGPARSE_NGINX, FMT, NULL, 3, pl.data, work, deliver, &pl.k, &p),
	    -EINVAL);
	assert_int_equal(
	    linepool_create(2, LOGPARSE_NGINX, FMT, NULL, 1, pl.data, work, deliver, &pl.k, &p),
	    -EINVAL);
	assert_int_equal(
	    linepool_create(2, LOGPARSE_NGINX, FMT, NULL, 4, pl.data, NULL, deliver, &pl.k, &p),
	    -EINVAL);
	assert_true(linepool_create(2, LOGPARSE_REGEX, "(", NULL, 4, pl.data, work, deliver, &pl.k,
	                            &p) < 0);
	assert_null(p);
	linepool_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_order),
	    cmocka_unit_test(t_big_block),
	    cmocka_unit_test(t_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
