/*
 * source.c - pipeline glue for one source (see source.h).
 *
 * The line callback is the hot path of the whole exporter: count the line,
 * parse it, count the record.  Nothing here allocates or logs per line;
 * a line that does not parse is one increment of parse_errors.
 */
#include "exporter/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporter/log.h"
#include "exporter/tail.h"
#include "parsers/logparse.h"

struct source {
	char *name;
	struct log_parser *parser;
	struct metrics_source *ms;
	struct tail_file *files[CONFIG_MAX_PATHS];
	size_t n_files;
	uint64_t lines_this_poll;
};

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
	case TAIL_EV_OPENED:
	case TAIL_EV_MISSING:
		break;
	}
}

int source_create(const struct config_source *cs, struct metrics *m, bool from_start,
		  struct source **ret_source, char *err, size_t err_size)
{
	struct logparse_error perr = {.message = {0}};
	struct tail_callbacks cb = {.line = on_line, .event = on_event};
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
	for (size_t i = 0; i < cs->n_paths; i++) {
		s->files[i] = tail_file_create(cs->paths[i], from_start, 0, &cb);
		if (!s->files[i]) {
			r = -ENOMEM;
			goto fail;
		}
		s->n_files++;
		(void)metrics_set_file_open(s->ms, cs->paths[i], false);
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
	for (size_t i = 0; i < s->n_files; i++) {
		tail_file_destroy(s->files[i]);
	}
	logparse_destroy(s->parser);
	free(s->name);
	free(s);
}

int64_t source_poll(struct source *s, bool at_eof_is_line)
{
	int64_t total = 0;

	s->lines_this_poll = 0;
	for (size_t i = 0; i < s->n_files; i++) {
		total += tail_file_poll(s->files[i], at_eof_is_line);
		(void)metrics_set_file_open(s->ms, tail_file_path(s->files[i]),
					    tail_file_is_open(s->files[i]));
	}
	if (s->lines_this_poll) {
		struct timespec now;
		metrics_count(s->ms, METRICS_LINES, s->lines_this_poll);
		(void)clock_gettime(CLOCK_REALTIME, &now);
		metrics_set_last_read(s->ms, (double)now.tv_sec + (double)now.tv_nsec / 1e9);
	}
	return total;
}

struct metrics_source *source_metrics(struct source *s)
{
	return s->ms;
}
