/*
 * test_countpool.c - counting on several cores into batch registries
 * (countpool.c): blocks and single lines pushed in any mix, with 2, 3 and
 * 8 threads, merged in order, render the same bytes as counting every line
 * on one thread (histogram sums included), with the same line, failure and
 * over-long counts and the first failing lines as samples, whether pushed
 * or read by the tail straight into the batches (countpool_lend): a table
 * of cases; a block over a batch's size; field labels refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "exporter/countpool.h"
#include "exporter/input/tail.h"
#include "exporter/metrics/metrics.h"
#include "exporter/strbuf.h"
#include "parsers/logparse.h"

#define CAP 200u

static const double buckets[] = {0.1, 0.5, 1};
static const struct metrics_options mo = {.request_buckets = buckets,
                                          .n_request_buckets = 3,
                                          .upstream_buckets = buckets,
                                          .n_upstream_buckets = 3};

/* What the source does with delivered batches. */
struct sink {
	struct metrics_source *dst;
	uint64_t lines, failed, too_long;
	char first_fail[64];
	size_t n_batches;
};

static void on_counted(void *ud, const struct countpool_result *r)
{
	struct sink *k = ud;

	assert_int_equal(metrics_source_merge(k->dst, r->ms), 0);
	k->lines += r->lines;
	k->failed += r->failed;
	k->too_long += r->too_long;
	if (r->n_samples && !k->first_fail[0]) {
		assert_true(r->sample_len[0] < sizeof(k->first_fail));
		memcpy(k->first_fail, r->sample[0], r->sample_len[0]);
	}
	k->n_batches++;
}

/* The reference: every line parsed and counted here, in order. */
struct ref {
	struct log_parser *parser;
	struct metrics_source *ms;
	uint64_t lines, failed, too_long;
};

static void ref_line(void *ud, const char *line, size_t len)
{
	struct ref *r = ud;
	struct log_record rec;

	r->lines++;
	if (logparse_line(r->parser, line, len, &rec) == 0) {
		metrics_observe(r->ms, &rec);
	} else {
		metrics_count(r->ms, METRICS_PARSE_ERRORS, 1);
		r->failed++;
	}
}

static void ref_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct ref *r = ud;
	if (ev == TAIL_EV_TOO_LONG) {
		r->too_long += n;
	}
}

static char *render(struct metrics *m)
{
	struct strbuf b;
	strbuf_init(&b, 1 << 24);
	assert_int_equal(metrics_render(m, EXPO_TEXT, &b), 0);
	return strbuf_steal(&b, NULL);
}

/* A log of n lines: bad ones, over-long ones, CRLF, odd request times. */
static char *make_log(size_t n, size_t *ret_len)
{
	struct strbuf b;
	strbuf_init(&b, 1 << 26);
	for (size_t i = 0; i < n; i++) {
		if (i % 501 == 7) {
			(void)strbuf_printf(&b, "garbage %zu\n", i);
		} else if (i % 777 == 3) {
			for (size_t k = 0; k < CAP + 5; k++) {
				(void)strbuf_append(&b, "x", 1);
			}
			(void)strbuf_append(&b, "\n", 1);
		} else {
			(void)strbuf_printf(
			    &b,
			    "10.0.0.%zu - - [03/Dec/2026:10:00:00 +0000] \"%s /p%zu "
			    "HTTP/1.1\" %d %zu \"-\" \"t\" %zu.%03zu%s\n",
			    i % 256, i % 3 ? "GET" : "POST", i % 17,
			    i % 5 ? 200 : 404 + (int)(i % 3), i * 7 % 5000, i % 3, i * 37 % 1000,
			    "");
		}
	}
	return strbuf_steal(&b, ret_len);
}

static const char *FMT = "$remote_addr - $remote_user [$time_local] \"$request\" $status "
                         "$body_bytes_sent \"$http_referer\" \"$http_user_agent\" $request_time";

/* A block larger than a batch (1 MiB) gets a batch of its own size. */
static void t_big_block(void **state)
{
	struct config *c = config_create();
	struct config_source *cs;
	size_t len;
	char *log = make_log(40000, &len);
	struct metrics *m = metrics_create(&mo);
	struct sink k = {0};
	struct countpool *p = NULL;
	(void)state;

	assert_true(len > 2u * 1024u * 1024u);
	assert_int_equal(config_add_source(c, "web", LOGPARSE_NGINX, FMT, &cs), 0);
	assert_int_equal(metrics_add_source(m, "web", NULL, 0, NULL, 0, &k.dst, NULL, 0), 0);
	assert_int_equal(countpool_create(2, cs, &mo, on_counted, &k, &p), 0);
	countpool_push_line(p, "first", 5);
	countpool_push_block(p, log, len, CAP);
	countpool_flush(p);
	assert_int_equal(k.lines + k.too_long, 40001); /* over-long lines are not lines */
	assert_string_equal(k.first_fail, "first");
	countpool_destroy(p);
	metrics_destroy(m);
	free(log);
	config_destroy(c);
}

/* The tail's callbacks into the pool, as source.c wires them. */
struct wired {
	struct countpool *p;
	struct sink *k;
	uint64_t lent_blocks, blocks;
	const char *lent_end; /* end of the last lent space */
	const char *lent;
};

static void w_line(void *ud, const char *line, size_t len)
{
	countpool_push_line(((struct wired *)ud)->p, line, len);
}

static void w_block(void *ud, char *buf, size_t n, size_t cap)
{
	struct wired *w = ud;
	w->blocks++;
	if (w->lent && buf >= w->lent && buf + n <= w->lent_end) {
		w->lent_blocks++;
	}
	countpool_push_block(w->p, buf, n, cap);
}

static void w_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct wired *w = ud;
	if (ev == TAIL_EV_TOO_LONG) {
		w->k->too_long += n;
	}
}

static char *w_lend(void *ud, size_t want, size_t *ret_size)
{
	struct wired *w = ud;
	char *buf = countpool_lend(w->p, want, ret_size);
	w->lent = buf;
	w->lent_end = buf ? buf + *ret_size : NULL;
	return buf;
}

/* A log, its source and what one thread makes of it. */
struct fixture {
	struct config *c;
	struct config_source *cs;
	char *log;
	size_t len; /* bytes fed: the log, less its last newline when asked */
	char *want; /* one thread's render */
	struct metrics *rm;
	struct ref ref;
};

static void fixture_init(struct fixture *fx, size_t lines, bool no_last_newline)
{
	struct tail_callbacks rcb = {.line = ref_line, .event = ref_event, .userdata = &fx->ref};
	bool skipping = false;

	memset(fx, 0, sizeof(*fx));
	fx->c = config_create();
	fx->log = make_log(lines, &fx->len);
	fx->rm = metrics_create(&mo);
	assert_non_null(fx->c);
	assert_int_equal(config_add_source(fx->c, "web", LOGPARSE_NGINX, FMT, &fx->cs), 0);
	assert_int_equal(metrics_add_source(fx->rm, "web", NULL, 0, NULL, 0, &fx->ref.ms, NULL, 0),
	                 0);
	assert_int_equal(logparse_create(LOGPARSE_NGINX, FMT, &fx->ref.parser, NULL), 0);
	if (no_last_newline) {
		/* the last line without its newline: delivered at EOF as a line */
		fx->len--;
		const char *last = (const char *)memrchr(fx->log, '\n', fx->len) + 1;
		size_t head = (size_t)(last - fx->log);
		assert_int_equal(tail_split(&rcb, &skipping, fx->log, fx->len, CAP), head);
		ref_line(&fx->ref, last, fx->len - head);
	} else {
		assert_int_equal(tail_split(&rcb, &skipping, fx->log, fx->len, CAP), fx->len);
	}
	fx->want = render(fx->rm);
	assert_true(fx->ref.failed > 0 && fx->ref.too_long > 0);
}

static void fixture_finish(struct fixture *fx)
{
	free(fx->want);
	free(fx->log);
	logparse_destroy(fx->ref.parser);
	metrics_destroy(fx->rm);
	config_destroy(fx->c);
}

/* Pieces of varying size cut at newlines, some pushed line by line. */
static void feed_pieces(struct countpool *p, struct sink *k, const struct fixture *fx)
{
	const char *log = fx->log;
	size_t len = fx->len, off = 0, piece = 1;

	while (off < len) {
		size_t end = off + piece * 4099 < len ? off + piece * 4099 : len;
		const char *nl = memchr(log + end - 1, '\n', len - end + 1);
		end = (size_t)(nl - log) + 1;
		for (size_t i = off; piece % 4 == 3 && i < end;) {
			const char *e = memchr(log + i, '\n', end - i);
			size_t l = (size_t)(e - log) - i;
			if (l <= CAP) {
				countpool_push_line(p, log + i, l);
			} else {
				countpool_push_block(p, log + i, l + 1, CAP);
			}
			i += l + 1;
		}
		if (piece % 4 != 3) {
			countpool_push_block(p, log + off, end - off, CAP);
		}
		off = end;
		piece = piece % 700 + 1 + piece / 3;
	}
	countpool_flush(p);
	assert_string_equal(k->first_fail, "garbage 7");
}

/* A whole file read by the tail straight into the batches (lend): every
 * block kept where it was read. */
static void feed_lent(struct countpool *p, struct sink *k, const struct fixture *fx)
{
	char path[] = "/tmp/test_countpool.XXXXXX";
	struct wired w = {.p = p, .k = k};
	struct tail_callbacks cb = {
	    .line = w_line, .event = w_event, .block = w_block, .lend = w_lend, .userdata = &w};
	struct tail_scratch *sc = tail_scratch_create(CAP);
	struct tail_file *tf = NULL;
	struct stat st;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, fx->log, fx->len), (ssize_t)fx->len);
	assert_int_equal(close(fd), 0);
	assert_true(fx->len > 8u * 1024u * 1024u); /* several batches of 1 MiB */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	assert_int_equal(tail_file_open(path, fd, &st, 0, false, &cb, &tf), 0);
	while (tail_file_poll(tf, sc, 0, true) > 0) {
	}
	countpool_flush(p);
	assert_true(w.blocks >= 2 && w.lent_blocks == w.blocks);
	tail_file_destroy(tf);
	tail_scratch_destroy(sc);
	(void)unlink(path);
}

/* Every way in, with several thread counts: the same bytes as one thread
 * (histogram sums included), the same line, failure and over-long counts. */
static const struct pool_case {
	const char *name;
	size_t lines;
	bool no_last_newline;
	void (*feed)(struct countpool *p, struct sink *k, const struct fixture *fx);
	unsigned threads[3]; /* 0: no more */
} pool_cases[] = {
    {"blocks and single lines", 40000, false, feed_pieces, {2, 3, 8}},
    {"a file read into the batches", 120000, true, feed_lent, {2, 3, 0}},
};

static void t_same_as_one_thread(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pool_cases) / sizeof(pool_cases[0]); i++) {
		const struct pool_case *pc = &pool_cases[i];
		struct fixture fx;
		fixture_init(&fx, pc->lines, pc->no_last_newline);
		for (size_t t = 0; t < 3 && pc->threads[t]; t++) {
			struct metrics *m = metrics_create(&mo);
			struct sink k = {0};
			struct countpool *p = NULL;
			assert_int_equal(
			    metrics_add_source(m, "web", NULL, 0, NULL, 0, &k.dst, NULL, 0), 0);
			assert_int_equal(
			    countpool_create(pc->threads[t], fx.cs, &mo, on_counted, &k, &p), 0);
			assert_int_equal(countpool_can_merge_into(p, k.dst), 0);
			pc->feed(p, &k, &fx);
			char *got = render(m);
			assert_string_equal(got, fx.want);
			assert_int_equal(k.lines, fx.ref.lines);
			assert_int_equal(k.failed, fx.ref.failed);
			assert_int_equal(k.too_long, fx.ref.too_long);
			assert_true(k.n_batches > 1);
			free(got);
			countpool_destroy(p);
			metrics_destroy(m);
		}
		fixture_finish(&fx);
	}
}

static void t_refused(void **state)
{
	struct config *c = config_create();
	struct config_source *cs;
	struct countpool *p = NULL;
	struct sink k = {0};
	(void)state;

	assert_int_equal(config_add_source(c, "web", LOGPARSE_NGINX, FMT, &cs), 0);
	assert_int_equal(countpool_create(1, cs, &mo, on_counted, &k, &p), -EINVAL);
	cs->n_field_labels = 1; /* refused before it is looked at */
	assert_int_equal(countpool_create(2, cs, &mo, on_counted, &k, &p), -ENOTSUP);
	cs->n_field_labels = 0;
	assert_null(p);
	countpool_destroy(NULL);
	config_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_same_as_one_thread),
	    cmocka_unit_test(t_big_block),
	    cmocka_unit_test(t_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
