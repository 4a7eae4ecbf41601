/*
 * input.c - one source's inputs behind one door (see input.h).
 *
 * The specs are sorted by kind (inputspec_parse): file patterns go to one
 * fileset (which needs them together: a file matched by two patterns is
 * read once), "-" to a stream on descriptor 0, each listener to a
 * syslogin.  A poll reads them in that order; each part bounds its own
 * work per poll.  The wait fd is the one part's own when there is only
 * one, else an epoll set of all of them (epoll nests), so the ingest
 * loop's idle wait stays one descriptor per source.  Standard input leaves
 * the set at its end (a pipe at EOF stays "readable" forever).
 *
 * Rejected: a vtable over "line sources" with one object per spec (files
 * cannot be split per pattern, and the parts differ in what they offer:
 * positions, rotation, connections; the door is this file's functions),
 * and a thread per input (one writer per source is what keeps the
 * registry lock-free).
 */
#include "exporter/input/input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "config/config.h"
#include "config/inputspec.h"
#include "exporter/input/container.h"
#include "exporter/input/stream.h"
#include "exporter/input/syslogin.h"
#include "exporter/log.h"

struct input {
	char *name;
	struct input_callbacks cb;
	struct fileset *files; /* NULL: no file patterns */
	char **patterns;       /* file patterns, for the fileset and checkpoints */
	size_t n_patterns;
	struct stream *in;            /* standard input, or NULL */
	struct container_tap *in_tap; /* unwraps standard input's lines, or NULL */
	bool stdin_waiting;           /* descriptor 0 is in the epoll set */
	struct syslogin *listeners[CONFIG_MAX_PATHS];
	size_t n_listeners;
	int ep; /* epoll set of the parts' wait fds; -1: not needed */
};

static int add_listener(struct input *in, const struct input_options *o, const char *text,
                        const struct inputspec *spec, char *err, size_t err_size)
{
	struct syslogin_options so = {.text = text,
	                              .spec = spec,
	                              .line_cap = o->line_cap,
	                              .tag = o->syslog_tag,
	                              .idle_ms = o->syslog_idle_ms};
	struct syslogin *sl;
	int r;

	for (size_t i = 0; o->adopt_from && i < o->adopt_from->n_listeners && !so.adopt; i++) {
		const struct syslogin *prev = o->adopt_from->listeners[i];
		so.adopt = syslogin_can_adopt(prev, text, spec->kind) ? prev : NULL;
	}
	if (in->n_listeners == CONFIG_MAX_PATHS) {
		(void)snprintf(err, err_size, "%s: too many listeners", text);
		return -EINVAL;
	}
	r = syslogin_create(&so, &in->cb, &sl, err, err_size);
	if (r < 0) {
		return r;
	}
	in->listeners[in->n_listeners++] = sl;
	return 0;
}

/* Sort the specs into parts; files are only collected here. */
static int add_spec(struct input *in, const struct input_options *o, const char *text, char *err,
                    size_t err_size)
{
	struct inputspec spec;
	struct tail_callbacks cb = in->cb.lines;
	int r = inputspec_parse(text, &spec, err, err_size);

	if (r < 0) {
		return r;
	}
	switch (spec.kind) {
	case INPUTSPEC_FILE:
		in->patterns[in->n_patterns] = strdup(text);
		if (!in->patterns[in->n_patterns]) {
			return -ENOMEM;
		}
		in->n_patterns++;
		return 0;
	case INPUTSPEC_STDIN:
		if (in->in) {
			(void)snprintf(err, err_size, "standard input (-) given twice");
			return -EINVAL;
		}
		if (o->container != CONFIG_CONTAINER_NONE) {
			r = container_tap_create(o->container, o->container_streams, o->line_cap,
			                         &cb, &in->in_tap);
			if (r < 0) {
				return r;
			}
			cb = *container_tap_callbacks(in->in_tap);
		}
		return stream_create(
		    0, "-", o->container ? container_wrapped_cap(o->line_cap) : o->line_cap, &cb,
		    &in->in);
	default:
		return add_listener(in, o, text, &spec, err, err_size);
	}
}

static int watch(struct input *in, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return fd < 0 || epoll_ctl(in->ep, EPOLL_CTL_ADD, fd, &ev) == 0 || errno == EPERM ? 0
	                                                                                  : -errno;
}

/* The wait set, when more than one part has a descriptor. */
static int setup_wait(struct input *in, char *err, size_t err_size)
{
	size_t parts = (in->files ? 1 : 0) + (in->in ? 1 : 0) + in->n_listeners;
	int r = 0;

	if (parts < 2) {
		return 0;
	}
	in->ep = epoll_create1(EPOLL_CLOEXEC);
	if (in->ep < 0) {
		r = -errno;
	}
	/* The fileset's inotify fd appears at its first scan: watched in input_start. */
	if (r == 0 && in->in) {
		r = watch(in, stream_wait_fd(in->in));
		in->stdin_waiting = r == 0;
	}
	for (size_t i = 0; r == 0 && i < in->n_listeners; i++) {
		r = watch(in, syslogin_wait_fd(in->listeners[i]));
	}
	if (r < 0) {
		(void)snprintf(err, err_size, "%s: epoll: %s", in->name, strerror(-r));
	}
	return r;
}

int input_create(const struct input_options *o, const struct input_callbacks *cb,
                 struct input **ret_input, char *err, size_t err_size)
{
	struct input *in = calloc(1, sizeof(*in));
	int r = 0;

	if (!in) {
		return -ENOMEM;
	}
	in->ep = -1;
	in->cb = *cb;
	in->name = strdup(o->name ? o->name : "");
	in->patterns = calloc(o->n_specs ? o->n_specs : 1, sizeof(*in->patterns));
	if (!in->name || !in->patterns) {
		r = -ENOMEM;
		goto fail;
	}
	if (o->n_specs == 0) {
		(void)snprintf(err, err_size, "no files given");
		r = -EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < o->n_specs && r == 0; i++) {
		r = add_spec(in, o, o->specs[i], err, err_size);
	}
	if (r == 0 && in->n_patterns) {
		struct fileset_options fo = {
		    .name = o->name,
		    .patterns = (const char *const *)in->patterns,
		    .n_patterns = in->n_patterns,
		    .line_cap = o->line_cap,
		    .file_gone = o->file_gone,
		    .container = o->container,
		    .container_streams = o->container_streams,
		};
		r = fileset_create(&fo, &in->cb.lines, &in->files);
	}
	if (r == 0) {
		r = setup_wait(in, err, err_size);
	}
	if (r < 0) {
		goto fail;
	}
	*ret_input = in;
	return 0;
fail:
	if (r == -ENOMEM && err_size && !err[0]) {
		(void)snprintf(err, err_size, "%s", strerror(ENOMEM));
	}
	input_destroy(in);
	return r;
}

void input_destroy(struct input *in)
{
	if (!in) {
		return;
	}
	if (in->ep >= 0) {
		close(in->ep);
	}
	for (size_t i = 0; i < in->n_listeners; i++) {
		syslogin_destroy(in->listeners[i]);
	}
	stream_destroy(in->in);
	container_tap_destroy(in->in_tap);
	fileset_destroy(in->files);
	for (size_t i = 0; in->patterns && i < in->n_patterns; i++) {
		free(in->patterns[i]);
	}
	free(in->patterns);
	free(in->name);
	free(in);
}

static void announce_file(void *ud, const char *path, const struct tail_position *pos, bool retired)
{
	const struct input *in = ud;

	(void)pos;
	if (!retired) {
		in->cb.lines.file(in->cb.lines.userdata, path, true);
	}
}

/* Standard input and the listeners: open. */
static void announce_others(const struct input *in)
{
	void *ud = in->cb.lines.userdata;

	if (!in->cb.lines.file) {
		return;
	}
	if (in->in && !stream_done(in->in)) {
		in->cb.lines.file(ud, stream_name(in->in), true);
	}
	for (size_t i = 0; i < in->n_listeners; i++) {
		in->cb.lines.file(ud, syslogin_name(in->listeners[i]), true);
	}
}

void input_announce(const struct input *in)
{
	if (in->files && in->cb.lines.file) {
		fileset_foreach(in->files, announce_file, (void *)in);
	}
	announce_others(in);
}

void input_start(struct input *in, bool from_start, const struct fileset_saved *saved,
                 uint64_t now_ms)
{
	announce_others(in);
	if (!in->files) {
		return;
	}
	fileset_start(in->files, from_start, saved, now_ms);
	if (in->ep >= 0 && watch(in, fileset_wait_fd(in->files)) < 0) {
		log_warn("cannot wait for file changes; polling them", "source", in->name);
	}
}

void input_set_fdstore(struct input *in, struct fdstore *store)
{
	if (in->files) {
		fileset_set_fdstore(in->files, store);
	}
}

void input_set_catchup_limit(struct input *in, uint64_t max_bytes)
{
	if (in->files) {
		fileset_set_catchup_limit(in->files, max_bytes);
	}
}

static void poll_stdin(struct input *in, bool at_eof_is_line, int64_t *total)
{
	bool was_done = stream_done(in->in);

	*total += stream_poll(in->in, at_eof_is_line, at_eof_is_line);
	if (was_done || !stream_done(in->in)) {
		return;
	}
	if (in->stdin_waiting) {
		(void)epoll_ctl(in->ep, EPOLL_CTL_DEL, 0, NULL);
		in->stdin_waiting = false;
	}
	if (in->cb.lines.file) {
		in->cb.lines.file(in->cb.lines.userdata, stream_name(in->in), false);
	}
	if (!at_eof_is_line) {
		log_info("standard input ended; the counts stay served until the exporter is "
		         "stopped",
		         "source", in->name);
	}
}

void input_take_over(struct input *in, struct input *prev)
{
	for (size_t i = 0; i < in->n_listeners; i++) {
		for (size_t k = 0; k < prev->n_listeners; k++) {
			syslogin_take_over(in->listeners[i], prev->listeners[k]);
		}
	}
}

int64_t input_poll(struct input *in, uint64_t now_ms, bool at_eof_is_line)
{
	int64_t total = 0;

	if (in->files) {
		total += fileset_poll(in->files, now_ms, at_eof_is_line);
	}
	if (in->in) {
		poll_stdin(in, at_eof_is_line, &total);
	}
	for (size_t i = 0; i < in->n_listeners; i++) {
		total += syslogin_poll(in->listeners[i]);
	}
	return total;
}

size_t input_file_patterns(const struct input *in, const char *const **ret_patterns)
{
	*ret_patterns = (const char *const *)in->patterns;
	return in->n_patterns;
}

void input_foreach_position(const struct input *in,
                            void (*fn)(void *ud, const char *path, const struct tail_position *pos,
                                       bool retired),
                            void *ud)
{
	if (in->files) {
		fileset_foreach(in->files, fn, ud);
	}
}

void input_foreach_missing(const struct input *in,
                           void (*fn)(void *ud, const char *pattern, int err), void *ud)
{
	if (in->files) {
		fileset_foreach_missing(in->files, fn, ud);
	}
}

size_t input_file_count(const struct input *in)
{
	return in->files ? fileset_count(in->files) : 0;
}

void input_snapshot(const struct input *in, uint64_t now_ms, double now_unix,
                    void (*fn)(void *ud, const struct fileset_file_status *f), void *ud)
{
	if (in->files) {
		fileset_snapshot(in->files, now_ms, now_unix, fn, ud);
	}
	if (in->in) {
		int e = stream_error(in->in);
		struct fileset_file_status f = {
		    .path = stream_name(in->in),
		    .state = e                     ? FILESET_FILE_MISSING
		             : stream_done(in->in) ? FILESET_FILE_ROTATED
		                                   : FILESET_FILE_OPEN,
		    .error = e,
		    .offset = stream_offset(in->in),
		};
		fn(ud, &f);
	}
	for (size_t i = 0; i < in->n_listeners; i++) {
		struct fileset_file_status f = {.path = syslogin_name(in->listeners[i]),
		                                .state = FILESET_FILE_OPEN};
		fn(ud, &f);
	}
}

int input_wait_fd(const struct input *in)
{
	if (in->ep >= 0) {
		return in->ep;
	}
	if (in->files) {
		return fileset_wait_fd(in->files);
	}
	if (in->in) {
		return stream_wait_fd(in->in);
	}
	return in->n_listeners ? syslogin_wait_fd(in->listeners[0]) : -1;
}

unsigned input_wait_gather_us(const struct input *in)
{
	if (in->in) {
		return 0;
	}
	return in->n_listeners ? SYSLOGIN_GATHER_US : INPUT_GATHER_FILES_US;
}

bool input_has_syslog(const struct input *in)
{
	return in->n_listeners > 0;
}

size_t input_report(const struct input *in)
{
	size_t errors = in->files ? fileset_report(in->files) : 0;

	if (in->in && stream_error(in->in)) {
		log_error("--once: reading standard input failed; the counts miss what came after",
		          "source", in->name, "error", strerror(stream_error(in->in)));
		errors++;
	}
	return errors;
}
