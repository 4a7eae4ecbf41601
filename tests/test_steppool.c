/*
 * test_steppool.c - --backfill counting on several cores (steppool.c):
 * with 2 and 3 threads, lines pushed as blocks, single lines and events
 * come back in push order, each timed line in its batch's registry for
 * its step (lines per step equal a one-thread count), unparsable lines,
 * unreadable and future times, lines at or after until and over-long
 * lines noted as such; a batch over STEPPOOL_MAX_STEPS steps, or one the
 * callback refuses, goes to the recount callbacks line by line, in order;
 * a taken batch's step registries, merged by the callback, come back empty
 * when the pool reuses them (more batches than the pool holds); timed
 * lines come as runs of one step with their earliest and latest times;
 * bad arguments and field labels are refused.
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

#include "config/config.h"
#include "exporter/metrics/metrics.h"
#include "exporter/steppool.h"
#include "exporter/strbuf.h"
#include "parsers/logparse.h"
#include "parsers/logtime.h"

#define CAP 300u
#define MAX_STEP 4096u

static const double buckets[] = {0.1, 0.5, 1};
static const struct metrics_options mo = {.request_buckets = buckets,
                                          .n_request_buckets = 3,
                                          .upstream_buckets = buckets,
                                          .n_upstream_buckets = 3};
static const char *FMT = "$remote_addr - $remote_user [$time_local] \"$request\" $status "
                         "$body_bytes_sent \"$http_referer\" \"$http_user_agent\"";

#define DAY0 1796256000LL /* 2026-12-03T00:00:00Z */
#define BASE_STEP(step_ms) (DAY0 * 1000 / (int64_t)(step_ms))
#define UNTIL_MS ((DAY0 + 700) * 1000)
#define FUTURE_MS ((DAY0 + 86400) * 1000)

/* What came back, in push order. */
struct sink {
	uint64_t hash; /* every line's text and outcome, in order */
	uint64_t per_step[MAX_STEP];
	uint64_t parse_errors, time_errors, after_until, too_long, events;
	uint64_t batches, refused, counted; /* counted: taken as counted */
	uint64_t one_lines;                 /* lines through one_line */
	bool refuse_every_other;
	uint64_t step_ms;
	bool refuse_all;             /* the reference: every line counted by one_line */
	struct log_parser *parser;   /* the recount's */
	struct metrics_source *dump; /* where taken batches' registries are merged */
	int64_t first_ms, last_ms;   /* of the timed lines */
	uint64_t runs, run_lines;    /* timed notes (runs of lines) taken, their lines */
};

static void mix(struct sink *k, const char *s, size_t n, unsigned tag)
{
	for (size_t i = 0; i < n; i++) {
		k->hash = (k->hash ^ (unsigned char)s[i]) * 1099511628211u;
	}
	k->hash = (k->hash ^ (0x100u + tag)) * 1099511628211u;
}

/* A timed line: its step, in order (a run of n lines mixes it n times). */
static void mix_step(struct sink *k, int64_t step)
{
	mix(k, (const char *)&step, sizeof(step), 0);
}

static void times(struct sink *k, int64_t first, int64_t last)
{
	k->first_ms = !k->first_ms || first < k->first_ms ? first : k->first_ms;
	k->last_ms = last > k->last_ms ? last : k->last_ms;
}

static uint64_t *step_cell(struct sink *k, int64_t step)
{
	assert_true(step >= BASE_STEP(k->step_ms) &&
	            step < BASE_STEP(k->step_ms) + (int64_t)MAX_STEP);
	return &k->per_step[step - BASE_STEP(k->step_ms)];
}

static bool on_batch(void *ud, const struct steppool_batch *b)
{
	struct sink *k = ud;

	k->batches++;
	if (k->refuse_all || (k->refuse_every_other && k->batches % 2 == 0)) {
		k->refused++;
		return false;
	}
	for (size_t i = 0; i < b->n; i++) {
		const struct steppool_item *it = &b->item[i];
		switch ((enum steppool_kind)it->kind) {
		case STEPPOOL_TIMED:
			/* a run of it->n lines of one step, earliest and latest time */
			assert_true(it->step < b->n_steps);
			assert_true(it->n >= 1 && it->value <= it->latest);
			assert_int_equal(b->step[it->step], it->value / (int64_t)k->step_ms);
			assert_int_equal(b->step[it->step], it->latest / (int64_t)k->step_ms);
			assert_true(i == 0 || b->item[i - 1].kind != STEPPOOL_TIMED ||
			            b->item[i - 1].step != it->step);
			for (uint32_t j = 0; j < it->n; j++) {
				mix_step(k, b->step[it->step]);
			}
			times(k, it->value, it->latest);
			k->runs++;
			k->run_lines += it->n;
			break;
		case STEPPOOL_PARSE_ERROR:
			k->parse_errors++;
			mix(k, it->line, it->len, 1);
			break;
		case STEPPOOL_TIME_ERROR:
			k->time_errors++;
			mix(k, it->line, it->len, 2);
			break;
		case STEPPOOL_AFTER_UNTIL:
			k->after_until++;
			mix(k, it->line, it->len, 3);
			break;
		case STEPPOOL_TOO_LONG:
			k->too_long++;
			break;
		case STEPPOOL_EVENT:
			assert_int_equal(it->event, 5);
			k->events += (uint64_t)it->value;
			break;
		}
	}
	k->counted++;
	for (size_t s = 0; s < b->n_steps; s++) {
		*step_cell(k, b->step[s]) += metrics_get(b->ms[s], METRICS_LINES);
		/* taking a batch merges every step registry (steppool.h): the pool
		 * reuses them empty */
		assert_int_equal(metrics_source_merge(k->dump, b->ms[s]), 0);
	}
	return true;
}

/* One line classified and counted here: the reference, and the recount. */
static void one_line(void *ud, const char *line, size_t len)
{
	struct sink *k = ud;
	struct log_record rec;
	int64_t ms;

	k->one_lines++;
	if (logparse_line(k->parser, line, len, &rec) < 0) {
		k->parse_errors++;
		mix(k, line, len, 1);
	} else if (logtime_of_record(&rec, &ms) < 0 || ms > FUTURE_MS) {
		k->time_errors++;
		mix(k, line, len, 2);
	} else if (ms >= UNTIL_MS) {
		k->after_until++;
		mix(k, line, len, 3);
	} else {
		(*step_cell(k, ms / (int64_t)k->step_ms))++;
		mix_step(k, ms / (int64_t)k->step_ms);
		times(k, ms, ms);
	}
}

static void one_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct sink *k = ud;
	if (ev == TAIL_EV_TOO_LONG) {
		k->too_long += n;
	} else {
		assert_int_equal(ev, 5);
		k->events += n;
	}
}

/* 2026-12-03 from 00:00 UTC, 40 lines a second (12.5 minutes), some going
 * back 7 minutes, bad lines, over-long ones, bad days, a future time and
 * lines after until (00:11:40). */
static char *make_log(size_t n, size_t *ret_len)
{
	struct strbuf b;
	strbuf_init(&b, 1 << 26);
	for (size_t i = 0; i < n; i++) {
		long long t = (long long)(i / 40) - (i % 101 == 0 && i > 20000 ? 420 : 0);
		int day = i % 1301 == 3 ? 0 : 3;
		if (i == n - 40) {
			day = 30; /* 27 days on: the future */
		}
		if (i % 997 == 5) {
			(void)strbuf_printf(&b, "garbage %zu\n", i);
		} else if (i % 1499 == 7) {
			for (size_t k = 0; k < CAP + 9; k++) {
				(void)strbuf_append(&b, "y", 1);
			}
			(void)strbuf_append(&b, "\n", 1);
		} else {
			(void)strbuf_printf(
			    &b,
			    "10.0.0.1 - - [%02d/Dec/2026:%02lld:%02lld:%02lld +0000] "
			    "\"GET /p%zu HTTP/1.1\" %d 5 \"-\" \"t\"\n",
			    day, t / 3600, t / 60 % 60, t % 60, i % 13, i % 4 ? 200 : 404);
		}
	}
	return strbuf_steal(&b, ret_len);
}

static void push_log(struct steppool *p, const char *log, size_t len)
{
	size_t off = 0, piece = 1;

	while (off < len) {
		size_t end = off + piece * 3001 < len ? off + piece * 3001 : len;
		const char *nl = memchr(log + end - 1, '\n', len - end + 1);
		end = (size_t)(nl - log) + 1;
		if (piece % 5 == 2) {
			for (size_t i = off; i < end;) {
				const char *e = memchr(log + i, '\n', end - i);
				size_t l = (size_t)(e - log) - i;
				if (l <= CAP) {
					steppool_push_line(p, log + i, l);
				} else {
					steppool_push_block(p, log + i, l + 1, CAP);
				}
				i += l + 1;
			}
			steppool_push_event(p, 5, 2);
		} else {
			steppool_push_block(p, log + off, end - off, CAP);
		}
		off = end;
		piece = piece % 300 + 1 + piece / 3;
	}
}

static void run_case(const struct config_source *cs, uint64_t step_ms, bool refuse)
{
	size_t len;
	/* more batches than the pool has (each reused, emptied by the merges) */
	char *log = make_log(100000, &len);
	struct metrics *dump = metrics_create(&mo);
	struct metrics_source *dump_s = NULL;
	struct sink want = {0}, got = {0};
	struct steppool_steps steps = {
	    .step_ms = step_ms, .until_ms = UNTIL_MS, .future_ms = FUTURE_MS};

	assert_int_equal(logparse_create(LOGPARSE_NGINX, FMT, &want.parser, NULL), 0);
	assert_int_equal(logparse_create(LOGPARSE_NGINX, FMT, &got.parser, NULL), 0);
	assert_non_null(dump);
	assert_int_equal(metrics_add_source(dump, "dump", NULL, 0, NULL, 0, &dump_s, NULL, 0), 0);
	struct steppool *p = NULL;
	static const unsigned threads[] = {2, 3};
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct tail_callbacks recount = {
		    .line = one_line, .event = one_event, .userdata = &got};
		struct log_parser *keep = got.parser;
		memset(&got, 0, sizeof(got));
		got.parser = keep;
		got.dump = dump_s;
		got.refuse_every_other = refuse;
		got.step_ms = step_ms;
		assert_int_equal(
		    steppool_create(threads[t], cs, &mo, &steps, &recount, on_batch, &got, &p), 0);
		push_log(p, log, len);
		steppool_flush(p);
		steppool_destroy(p);
		if (t == 0) {
			/* the reference: the same pushes, every batch recounted */
			struct sink r = {
			    .parser = want.parser, .refuse_all = true, .step_ms = step_ms};
			struct tail_callbacks rc = {
			    .line = one_line, .event = one_event, .userdata = &r};
			assert_int_equal(steppool_create(2, cs, &mo, &steps, &rc, on_batch, &r, &p),
			                 0);
			push_log(p, log, len);
			steppool_flush(p);
			steppool_destroy(p);
			want = r;
		}
		assert_int_equal(got.hash, want.hash);
		assert_memory_equal(got.per_step, want.per_step, sizeof(got.per_step));
		assert_int_equal(got.parse_errors, want.parse_errors);
		assert_int_equal(got.time_errors, want.time_errors);
		assert_int_equal(got.after_until, want.after_until);
		assert_int_equal(got.too_long, want.too_long);
		assert_int_equal(got.events, want.events);
		assert_int_equal(got.first_ms, want.first_ms);
		assert_int_equal(got.last_ms, want.last_ms);
		/* 1m steps: runs of many lines (40 a second, a few bad ones) */
		assert_true(step_ms != 60000 || got.runs * 20 < got.run_lines);
		assert_true(want.parse_errors > 0 && want.time_errors > 1 && want.after_until > 0 &&
		            want.too_long > 0 && want.events > 0);
		assert_true(!refuse || got.refused > 0);
		/* 1m steps: batches come back counted; 5s steps: some overflow */
		assert_true(step_ms == 60000 ? got.counted > 0 : got.one_lines > 0);
	}
	logparse_destroy(want.parser);
	logparse_destroy(got.parser);
	metrics_destroy(dump);
	free(log);
}

static void t_same_as_one_thread(void **state)
{
	struct config *c = config_create();
	struct config_source *cs;
	(void)state;

	assert_int_equal(config_add_source(c, "web", LOGPARSE_NGINX, FMT, &cs), 0);
	run_case(cs, 60000, false); /* most batches delivered as counted */
	run_case(cs, 60000, true);  /* every other one refused: recounted */
	run_case(cs, 5000, false);  /* over STEPPOOL_MAX_STEPS steps: recounted */
	config_destroy(c);
}

static bool never(void *ud, const struct steppool_batch *b)
{
	(void)ud;
	(void)b;
	fail();
	return false;
}

static void t_refused(void **state)
{
	struct config *c = config_create();
	struct config_source *cs;
	struct steppool *p = NULL;
	struct steppool_steps steps = {.step_ms = 60000};
	struct sink k = {0};
	struct tail_callbacks rc = {.line = one_line, .event = one_event, .userdata = &k};
	(void)state;

	assert_int_equal(config_add_source(c, "web", LOGPARSE_NGINX, FMT, &cs), 0);
	assert_int_equal(steppool_create(1, cs, &mo, &steps, &rc, never, &k, &p), -EINVAL);
	steps.step_ms = 0;
	assert_int_equal(steppool_create(2, cs, &mo, &steps, &rc, never, &k, &p), -EINVAL);
	steps.step_ms = 60000;
	cs->n_field_labels = 1; /* refused before it is looked at */
	assert_int_equal(steppool_create(2, cs, &mo, &steps, &rc, never, &k, &p), -ENOTSUP);
	cs->n_field_labels = 0;
	assert_null(p);
	steppool_destroy(NULL);
	config_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_same_as_one_thread),
	    cmocka_unit_test(t_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
