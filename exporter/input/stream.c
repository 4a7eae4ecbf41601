/*
 * stream.c - lines from standard input or another unseekable descriptor
 * (see stream.h).
 *
 * One buffer of line cap + 64 KiB; a poll reads into what is free after the
 * partial line, splits, moves the partial line to the front.  Follow mode
 * asks poll(2) with a zero timeout before each read so that the ingest
 * loop never blocks on a quiet pipe; a regular file redirected to standard
 * input is always readable and is read to its end like --once.  Rejected:
 * a reader thread (the ingest loop already waits on the descriptor through
 * the input's wait fd) and O_NONBLOCK (see stream.h).
 */
#include "exporter/input/stream.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STREAM_READ_CHUNK (64u * 1024u)
#define STREAM_POLL_BUDGET (64ull << 20)

struct stream {
	int fd;
	char *name;
	struct tail_callbacks cb;
	size_t cap;
	char *buf;
	size_t size, have; /* buffer size, bytes of a partial line at its front */
	bool skipping;     /* inside an over-long line */
	bool done;
	int error;
	uint64_t offset;
};

int stream_create(int fd, const char *name, size_t line_cap, const struct tail_callbacks *cb,
                  struct stream **ret_stream)
{
	struct stream *st = calloc(1, sizeof(*st));

	if (!st) {
		return -ENOMEM;
	}
	st->fd = fd;
	st->cb = *cb;
	st->cap = line_cap ? line_cap : TAIL_DEFAULT_LINE_CAP;
	if (st->cap > TAIL_MAX_LINE_CAP) {
		st->cap = TAIL_MAX_LINE_CAP;
	}
	st->size = st->cap + STREAM_READ_CHUNK;
	st->name = strdup(name);
	st->buf = malloc(st->size);
	if (!st->name || !st->buf) {
		stream_destroy(st);
		return -ENOMEM;
	}
	*ret_stream = st;
	return 0;
}

void stream_destroy(struct stream *st)
{
	if (!st) {
		return;
	}
	free(st->buf);
	free(st->name);
	free(st);
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	/* POLLHUP with no data left still means "read gives 0": the end. */
	return poll(&p, 1, 0) > 0;
}

/* The end of input: the partial line is a line for --once only. */
static void finish(struct stream *st, bool at_eof_is_line)
{
	st->done = true;
	if (at_eof_is_line && st->have && !st->skipping) {
		size_t len = st->have;
		if (st->buf[len - 1] == '\r') {
			len--;
		}
		st->cb.line(st->cb.userdata, st->buf, len);
		st->offset += st->have;
		if (st->cb.event) {
			st->cb.event(st->cb.userdata, TAIL_EV_BYTES, st->have);
		}
	}
	st->have = 0;
}

int64_t stream_poll(struct stream *st, bool block, bool at_eof_is_line)
{
	uint64_t total = 0;

	while (!st->done && total < STREAM_POLL_BUDGET) {
		if (!block && !readable(st->fd)) {
			break;
		}
		ssize_t r = read(st->fd, st->buf + st->have, st->size - st->have);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0 && errno == EAGAIN) {
			break;
		}
		if (r <= 0) {
			st->error = r < 0 ? errno : 0;
			if (r < 0 && st->cb.event) {
				st->cb.event(st->cb.userdata, TAIL_EV_READ_ERROR,
				             (uint64_t)st->error);
			}
			finish(st, at_eof_is_line);
			break;
		}
		size_t n = st->have + (size_t)r;
		size_t used = tail_split(&st->cb, &st->skipping, st->buf, n, st->cap);
		st->have = n - used;
		if (st->have && used) {
			memmove(st->buf, st->buf + used, st->have);
		}
		st->offset += used;
		total += used;
		if (used && st->cb.event) {
			st->cb.event(st->cb.userdata, TAIL_EV_BYTES, used);
		}
		if (block) {
			break; /* one read per call: the caller loops while it returns > 0 */
		}
	}
	/* --once: a blocking poll that consumed only a partial line still made
	 * progress; report it so the caller keeps reading to the end. */
	return block && !st->done && total == 0 ? 1 : (int64_t)total;
}

bool stream_done(const struct stream *st)
{
	return st->done;
}

int stream_error(const struct stream *st)
{
	return st->error;
}

uint64_t stream_offset(const struct stream *st)
{
	return st->offset;
}

int stream_wait_fd(const struct stream *st)
{
	return st->done ? -1 : st->fd;
}

const char *stream_name(const struct stream *st)
{
	return st->name;
}
