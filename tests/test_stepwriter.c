/*
 * test_stepwriter.c - --backfill's output writer (stepwriter.c): the
 * document equals the registry's OpenMetrics text render of every step
 * stamped line by line, split by family in order of first sight, a 0
 * sample at the start of its step before each line seen for the first
 * time, process-level families left out (the reference below is that
 * rule written over metrics_render's text); new series in the middle of a
 * family (remembered places shift), a double and a histogram series, a
 * second source; field labels; errors: no place for the temporary files,
 * a full output.
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
#include "exporter/stepwriter.h"
#include "exporter/strbuf.h"
#include "parsers/logparse.h"

#define CAP (64u * 1024u * 1024u)
#define STEP_MS 60000
#define T0 (1796256000LL * 1000) /* 2026-12-03T00:00:00Z */

static const double buckets[] = {0.1, 0.5, 1};
static const char *FMT = "$remote_addr - $remote_user [$time_local] \"$request\" $status "
                         "$body_bytes_sent \"$http_referer\" \"$http_user_agent\" $request_time";

static const char *const skipped[] = {
    "accesslog_log_file_open",
    "accesslog_log_last_read_timestamp_seconds",
    "accesslog_checkpoint_last_success_timestamp_seconds",
    "accesslog_config_last_reload_successful",
    "accesslog_config_last_reload_success_timestamp_seconds",
    "accesslog_http_status",
    "accesslog_build",
};

/* ---- the reference: the text render, stamped and split by family ---- */

#define MAX_FAM 64
#define MAX_KEYS 100000

struct ref {
	char *name[MAX_FAM];
	struct strbuf head[MAX_FAM], body[MAX_FAM];
	size_t n;
	char *keys[MAX_KEYS];
	size_t n_keys;
};

static bool ref_seen(struct ref *r, const char *k, size_t n)
{
	for (size_t i = 0; i < r->n_keys; i++) {
		if (strlen(r->keys[i]) == n && memcmp(r->keys[i], k, n) == 0) {
			return true;
		}
	}
	assert_true(r->n_keys < MAX_KEYS);
	r->keys[r->n_keys++] = strndup(k, n);
	return false;
}

/* The family's index; *ret_new when first seen. */
static size_t ref_family(struct ref *r, const char *name, size_t n, bool *ret_new)
{
	*ret_new = false;
	for (size_t i = 0; i < r->n; i++) {
		if (strlen(r->name[i]) == n && memcmp(r->name[i], name, n) == 0) {
			return i;
		}
	}
	assert_true(r->n < MAX_FAM);
	r->name[r->n] = strndup(name, n);
	strbuf_init(&r->head[r->n], CAP);
	strbuf_init(&r->body[r->n], CAP);
	*ret_new = true;
	return r->n++;
}

static bool is_skipped(const char *name)
{
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++) {
		if (strcmp(skipped[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* One sample line of family cur, stamped; a new key's 0 sample first. */
static void ref_sample(struct ref *r, size_t cur, const char *line, size_t len, int64_t ts,
                       int64_t prev)
{
	const char *sp = memrchr(line, ' ', len);
	size_t key = (size_t)(sp - line);

	if (!ref_seen(r, line, key)) {
		(void)strbuf_printf(&r->body[cur], "%.*s 0 %lld\n", (int)key, line,
		                    (long long)(prev / 1000));
	}
	(void)strbuf_printf(&r->body[cur], "%.*s %lld\n", (int)len, line, (long long)(ts / 1000));
}

static void ref_add(struct ref *r, struct metrics *m, int64_t ts, int64_t prev)
{
	struct strbuf text;
	size_t cur = 0;
	bool is_new = false;

	strbuf_init(&text, CAP);
	assert_int_equal(metrics_render(m, EXPO_OPENMETRICS, &text), 0);
	for (const char *line = text.data; line < text.data + text.len;) {
		const char *nl = strchr(line, '\n');
		size_t len = (size_t)(nl - line);
		if (len > 7 && strncmp(line, "# HELP ", 7) == 0) {
			cur = ref_family(r, line + 7, strcspn(line + 7, " "), &is_new);
		}
		if (line[0] == '#' && is_new) {
			/* the header: the comment lines of the family's first render */
			(void)strbuf_append(&r->head[cur], line, len + 1);
		} else if (line[0] != '#') {
			is_new = false;
			if (!is_skipped(r->name[cur])) {
				ref_sample(r, cur, line, len, ts, prev);
			}
		}
		line = nl + 1;
	}
	strbuf_finish(&text);
}

static char *ref_text(struct ref *r)
{
	struct strbuf out;

	strbuf_init(&out, CAP);
	for (size_t i = 0; i < r->n; i++) {
		if (!is_skipped(r->name[i])) {
			(void)strbuf_append(&out, r->head[i].data, r->head[i].len);
			(void)strbuf_append(&out, r->body[i].data ? r->body[i].data : "",
			                    r->body[i].len);
		}
		free(r->name[i]);
		strbuf_finish(&r->head[i]);
		strbuf_finish(&r->body[i]);
	}
	for (size_t i = 0; i < r->n_keys; i++) {
		free(r->keys[i]);
	}
	(void)strbuf_puts(&out, "# EOF\n");
	return strbuf_steal(&out, NULL);
}

/* ---- registries fed log lines ---- */

struct source {
	struct metrics *m;
	struct metrics_source *s;
	struct log_parser *p;
};

static void source_init(struct source *src, const char *name, const struct config_field_label *fl,
                        size_t n_fl)
{
	struct metrics_options mo = {
	    .request_buckets = buckets, .n_request_buckets = 3, .no_exemplars = true};
	char err[256];

	src->m = metrics_create(&mo);
	assert_non_null(src->m);
	assert_int_equal(
	    metrics_add_source(src->m, name, NULL, 0, fl, n_fl, &src->s, err, sizeof(err)), 0);
	assert_int_equal(logparse_create(LOGPARSE_NGINX, FMT, &src->p, NULL), 0);
	metrics_source_set_captures(src->s, metrics_captures_of(src->p));
}

static void source_finish(struct source *src)
{
	logparse_destroy(src->p);
	metrics_destroy(src->m);
}

/* One line: method, path, status, request time. */
static void feed(struct source *src, const char *method, const char *path, int status,
                 const char *rt)
{
	char line[512];
	struct log_record rec;
	int n = snprintf(line, sizeof(line),
	                 "10.0.0.1 - - [03/Dec/2026:00:00:01 +0000] \"%s %s HTTP/1.1\" %d 123 "
	                 "\"-\" \"curl\" %s",
	                 method, path, status, rt);

	assert_int_equal(logparse_line(src->p, line, (size_t)n, &rec), 0);
	metrics_observe(src->s, &rec);
	metrics_count(src->s, METRICS_LINES, 1);
}

/* Each step: its lines, then the render through both. */
struct step_lines {
	const char *method, *path;
	int status;
	const char *rt;
};

static const struct step_lines steps[][4] = {
    {{"GET", "/", 200, "0.010"}, {"GET", "/a", 404, "0.700"}},
    {{"GET", "/", 200, "0.020"}},
    /* new series before and between the known ones */
    {{"GET", "/b", 201, "0.300"}, {"POST", "/", 200, "0.123"}, {"DELETE", "/", 500, "2.5"}},
    {{"GET", "/", 200, "0.001"}},
    {{"HEAD", "/a", 404, "0.000"}, {"GET", "/c", 301, "0.050"}},
};

static void run(struct stepwriter *w, struct ref *r, struct source *src, int64_t t0)
{
	stepwriter_begin_source(w);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		for (size_t k = 0; k < 4 && steps[i][k].method; k++) {
			feed(src, steps[i][k].method, steps[i][k].path, steps[i][k].status,
			     steps[i][k].rt);
		}
		int64_t ts = t0 + (int64_t)(i + 1) * STEP_MS;
		assert_int_equal(stepwriter_add(w, src->m, ts, ts - STEP_MS), 0);
		ref_add(r, src->m, ts, ts - STEP_MS);
	}
}

static char *emit(struct stepwriter *w)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(stepwriter_emit(w, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void t_same_as_text(void **state)
{
	struct stepwriter *w = stepwriter_create("/tmp");
	struct ref *r = calloc(1, sizeof(*r));
	struct source a, b;

	(void)state;
	assert_non_null(w);
	source_init(&a, "a", NULL, 0);
	source_init(&b, "b", NULL, 0);
	run(w, r, &a, T0);
	run(w, r, &b, T0 + 1000 * STEP_MS);
	char *got = emit(w);
	char *want = ref_text(r);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "accesslog_http_request_duration_seconds_sum{"));
	assert_null(strstr(got, "accesslog_build_info"));
	assert_null(strstr(got, "accesslog_log_file_open"));
	assert_true(stepwriter_samples(w) > 0);
	free(got);
	free(want);
	free(r);
	source_finish(&a);
	source_finish(&b);
	stepwriter_destroy(w);
}

static void t_field_labels(void **state)
{
	static const struct config_field_label fl[] = {
	    {.name = (char *)"path", .field = CONFIG_FIELD_PATH}};
	struct stepwriter *w = stepwriter_create("/tmp");
	struct ref *r = calloc(1, sizeof(*r));
	struct source a;

	(void)state;
	source_init(&a, "f", fl, 1);
	run(w, r, &a, T0);
	char *got = emit(w);
	char *want = ref_text(r);
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "path=\"/b\""));
	free(got);
	free(want);
	free(r);
	source_finish(&a);
	stepwriter_destroy(w);
}

static void t_errors(void **state)
{
	struct stepwriter *w = stepwriter_create("/nonexistent/dir");
	struct source a;

	(void)state;
	stepwriter_destroy(NULL);
	source_init(&a, "a", NULL, 0);
	feed(&a, "GET", "/", 200, "0.1");
	/* no temporary file: the error sticks */
	assert_int_equal(stepwriter_add(w, a.m, T0 + STEP_MS, T0), -ENOENT);
	assert_int_equal(stepwriter_error(w), -ENOENT);
	assert_int_equal(stepwriter_add(w, a.m, T0 + 2 * STEP_MS, T0 + STEP_MS), -ENOENT);
	stepwriter_destroy(w);

	/* a full output */
	w = stepwriter_create("/tmp");
	FILE *full = fopen("/dev/full", "w");
	assert_non_null(full);
	assert_int_equal(stepwriter_add(w, a.m, T0 + STEP_MS, T0), 0);
	assert_int_equal(stepwriter_emit(w, full), -ENOSPC);
	(void)fclose(full);
	stepwriter_destroy(w);
	source_finish(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_same_as_text),
	    cmocka_unit_test(t_field_labels),
	    cmocka_unit_test(t_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
