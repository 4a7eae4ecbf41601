/*
 * source.c - pipeline glue for one source (see source.h).
 *
 * The line callback is the hot path of the whole exporter: count the line,
 * parse it, count the record.  Nothing here allocates or logs per line;
 * a line that does not parse is one increment of parse_errors.  The lines
 * counter is added once per poll, not per line.
 *
 * Files are a fileset (exporter/fileset.c); its first scan happens either
 * in source_restore (resuming from a checkpoint) or at the first poll.
 */
#include "exporter/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporter/fileset.h"
#include "exporter/log.h"
#include "exporter/tail.h"
#include "parsers/logparse.h"

struct source {
	char *name;
	struct log_parser *parser;
	struct metrics_source *ms;
	struct fileset *files;
	char *patterns[CONFIG_MAX_PATHS];
	size_t n_patterns;
	bool from_start;
	bool started;
	uint64_t lines_this_poll;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_line(void *ud, const char *line, size_t len)
{
	struct source *s = ud;
	struct log_record rec;

	s->lines_this_poll++;
	if (logparse_line(s->parser, line, len, &rec) == 0) {
		metrics_observe(s->ms, &rec);
	} else {
		metrics_count(s->ms, METRICS_PARSE_ERRORS, 1);
	}
}

static void on_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct source *s = ud;

	switch (ev) {
	case TAIL_EV_BYTES:
		metrics_count(s->ms, METRICS_BYTES_READ, n);
		break;
	case TAIL_EV_ROTATED:
		metrics_count(s->ms, METRICS_ROTATIONS, n);
		break;
	case TAIL_EV_TRUNCATED:
		metrics_count(s->ms, METRICS_TRUNCATIONS, n);
		break;
	case TAIL_EV_TOO_LONG:
		metrics_count(s->ms, METRICS_LINES_TOO_LONG, n);
		break;
	case TAIL_EV_READ_ERROR:
		metrics_count(s->ms, METRICS_READ_ERRORS, 1);
		break;
	}
}

static void on_file(void *ud, const char *path, bool open)
{
	struct source *s = ud;

	/* Over METRICS_MAX_FILES paths the gauge is simply not shown. */
	(void)metrics_set_file_open(s->ms, path, open);
}

int source_create(const struct config_source *cs, struct metrics *m, bool from_start,
                  struct source **ret_source, char *err, size_t err_size)
{
	struct logparse_error perr = {.message = {0}};
	struct tail_callbacks cb = {.line = on_line, .event = on_event, .file = on_file};
	struct source *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		return -ENOMEM;
	}
	cb.userdata = s;
	s->name = strdup(cs->name);
	if (!s->name) {
		r = -ENOMEM;
		goto fail;
	}
	r = logparse_create(cs->kind, cs->format, &s->parser, &perr);
	if (r < 0) {
		(void)snprintf(err, err_size, "source %s: bad format: %s", cs->name,
		               r == -EINVAL ? perr.message : strerror(-r));
		goto fail;
	}
	char merr[256] = "";
	r = metrics_add_source(m, cs->name, cs->labels, cs->n_labels, cs->field_labels,
	                       cs->n_field_labels, &s->ms, merr, sizeof(merr));
	if (r < 0) {
		(void)snprintf(err, err_size, "source %s: %s", cs->name,
		               r == -EEXIST ? "duplicate source name"
		               : merr[0]    ? merr
		                            : strerror(-r));
		goto fail;
	}
	s->from_start = from_start;
	for (size_t i = 0; i < cs->n_paths; i++) {
		s->patterns[i] = strdup(cs->paths[i]);
		if (!s->patterns[i]) {
			r = -ENOMEM;
			goto fail;
		}
		s->n_patterns++;
	}
	struct fileset_options fo = {
	    .name = cs->name,
	    .patterns = (const char *const *)s->patterns,
	    .n_patterns = cs->n_paths,
	};
	r = fileset_create(&fo, &cb, &s->files);
	if (r < 0) {
		(void)snprintf(err, err_size, "source %s: %s", cs->name,
		               r == -EINVAL ? "no files given" : strerror(-r));
		goto fail;
	}
	*ret_source = s;
	return 0;
fail:
	source_destroy(s);
	return r;
}

void source_destroy(struct source *s)
{
	if (!s) {
		return;
	}
	fileset_destroy(s->files);
	for (size_t i = 0; i < s->n_patterns; i++) {
		free(s->patterns[i]);
	}
	logparse_destroy(s->parser);
	free(s->name);
	free(s);
}

int source_restore(struct source *s, const struct state_source *saved)
{
	int r = 0;

	if (s->started) {
		return -EBUSY;
	}
	if (saved->counters_len &&
	    metrics_source_restore(s->ms, saved->counters, saved->counters_len) < 0) {
		/* Counters without their offsets would double count: drop both. */
		saved = NULL;
		r = -EINVAL;
	}
	fileset_start(s->files, s->from_start, saved, now_ms());
	s->started = true;
	return r;
}

struct collect {
	struct state_file *files;
	size_t n, max;
};

static void collect_file(void *ud, const char *path, const struct tail_position *pos, bool retired)
{
	struct collect *c = ud;

	if (c->n < c->max) {
		/* Borrowed: prev outlives the fileset_start that reads it. */
		c->files[c->n++] = (struct state_file){(char *)path, *pos, retired};
	}
}

int source_start_from(struct source *s, const struct source *prev)
{
	struct collect c = {.max = fileset_count(prev->files)};
	struct state_source ss = {
	    .name = s->name,
	    .patterns = (char **)prev->patterns,
	    .n_patterns = prev->n_patterns,
	};

	if (s->started) {
		return -EBUSY;
	}
	c.files = calloc(c.max ? c.max : 1, sizeof(*c.files));
	if (!c.files) {
		return -ENOMEM;
	}
	fileset_foreach(prev->files, collect_file, &c);
	ss.files = c.files;
	ss.n_files = c.n;
	fileset_start(s->files, false, &ss, now_ms());
	s->started = true;
	free(c.files);
	return 0;
}

int64_t source_poll(struct source *s, bool at_eof_is_line)
{
	uint64_t now = now_ms();
	int64_t total;

	s->lines_this_poll = 0;
	if (!s->started) {
		fileset_start(s->files, s->from_start, NULL, now);
		s->started = true;
	}
	total = fileset_poll(s->files, now, at_eof_is_line);
	if (s->lines_this_poll) {
		struct timespec wall;
		metrics_count(s->ms, METRICS_LINES, s->lines_this_poll);
		(void)clock_gettime(CLOCK_REALTIME, &wall);
		metrics_set_last_read(s->ms, (double)wall.tv_sec + (double)wall.tv_nsec / 1e9);
	}
	return total;
}

static void add_file(void *ud, const char *path, const struct tail_position *pos, bool retired)
{
	state_add_file(ud, path, pos, retired);
}

int source_checkpoint(struct source *s, struct strbuf *b)
{
	struct strbuf counters;

	state_add_source(b, s->name);
	for (size_t i = 0; i < s->n_patterns; i++) {
		state_add_pattern(b, s->patterns[i]);
	}
	fileset_foreach(s->files, add_file, b);
	strbuf_init(&counters, STATE_MAX_BYTES);
	if (metrics_source_save(s->ms, &counters) < 0) {
		b->error = b->error ? b->error : counters.error;
	} else {
		state_end_source(b, counters.data ? counters.data : "", counters.len);
	}
	strbuf_finish(&counters);
	return b->error;
}

int source_wait_fd(const struct source *s)
{
	return fileset_wait_fd(s->files);
}

const char *source_name(const struct source *s)
{
	return s->name;
}

struct metrics_source *source_metrics(struct source *s)
{
	return s->ms;
}
