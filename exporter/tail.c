/*
 * tail.c - polling file follower (see tail.h).
 *
 * Reads in large chunks into one buffer and splits lines with memchr; a
 * partial line is moved to the front of the buffer and completed by the
 * next read.  The buffer is sized line_cap + chunk so a full line always
 * fits; a line that does not fit within the cap switches the follower into
 * "skipping" mode until the next newline.
 *
 * Rotation is detected by stat(path) against the open descriptor's
 * (dev, ino); before switching, the old descriptor is drained to EOF so no
 * line written just before the rename is lost.  Truncation is size < offset.
 */
#include "exporter/tail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1024u * 1024u)

struct tail_file {
	char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	uint64_t offset;    /* bytes consumed from the current file */
	bool from_start;    /* next open starts at 0 */
	bool skipping;      /* inside an over-long line */
	bool missing_known; /* MISSING already reported */
	size_t cap;
	char *buf;
	size_t buf_size;
	size_t have; /* bytes of a partial line at buf[0] */
	struct tail_callbacks cb;
};

static void emit(struct tail_file *t, enum tail_event ev, uint64_t n)
{
	if (t->cb.event) {
		t->cb.event(t->cb.userdata, ev, n);
	}
}

struct tail_file *tail_file_create(const char *path, bool from_start, size_t line_cap,
				   const struct tail_callbacks *cb)
{
	struct tail_file *t = calloc(1, sizeof(*t));

	if (!t) {
		return NULL;
	}
	t->fd = -1;
	t->cap = line_cap ? line_cap : TAIL_DEFAULT_LINE_CAP;
	if (t->cap > TAIL_MAX_LINE_CAP) {
		t->cap = TAIL_MAX_LINE_CAP;
	}
	t->buf_size = t->cap + CHUNK;
	t->path = strdup(path);
	t->buf = malloc(t->buf_size);
	t->from_start = from_start;
	t->cb = *cb;
	if (!t->path || !t->buf) {
		tail_file_destroy(t);
		return NULL;
	}
	return t;
}

void tail_file_destroy(struct tail_file *t)
{
	if (!t) {
		return;
	}
	if (t->fd >= 0) {
		close(t->fd);
	}
	free(t->buf);
	free(t->path);
	free(t);
}

bool tail_file_is_open(const struct tail_file *t)
{
	return t->fd >= 0;
}

const char *tail_file_path(const struct tail_file *t)
{
	return t->path;
}

static void deliver(struct tail_file *t, const char *line, size_t len)
{
	if (len && line[len - 1] == '\r') {
		len--;
	}
	t->cb.line(t->cb.userdata, line, len);
}

/* Split buf[0..n) into lines; keep the unterminated tail. */
static void split(struct tail_file *t, size_t n)
{
	char *p = t->buf, *end = t->buf + n;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			break;
		}
		if (t->skipping) {
			t->skipping = false;
		} else {
			deliver(t, p, (size_t)(nl - p));
		}
		p = nl + 1;
	}
	t->have = (size_t)(end - p);
	if (t->skipping) {
		t->have = 0; /* still inside the long line: drop what we have */
	} else if (t->have > t->cap) {
		emit(t, TAIL_EV_TOO_LONG, 1);
		t->skipping = true;
		t->have = 0;
	} else if (t->have && p != t->buf) {
		memmove(t->buf, p, t->have);
	}
}

/* Read the open descriptor to EOF.  Returns bytes read. */
static int64_t drain(struct tail_file *t)
{
	int64_t total = 0;

	for (;;) {
		ssize_t r = read(t->fd, t->buf + t->have, t->buf_size - t->have);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			emit(t, TAIL_EV_READ_ERROR, (uint64_t)errno);
			break;
		}
		if (r == 0) {
			break;
		}
		t->offset += (uint64_t)r;
		total += r;
		emit(t, TAIL_EV_BYTES, (uint64_t)r);
		split(t, t->have + (size_t)r);
	}
	return total;
}

static void close_file(struct tail_file *t)
{
	if (t->fd >= 0) {
		close(t->fd);
	}
	t->fd = -1;
	t->have = 0;
	t->skipping = false;
	t->offset = 0;
}

static int open_file(struct tail_file *t)
{
	struct stat st;
	int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (!t->missing_known) {
			emit(t, errno == ENOENT ? TAIL_EV_MISSING : TAIL_EV_READ_ERROR,
			     (uint64_t)errno);
			t->missing_known = true;
		}
		/* A file that appears later is new: read it from the start. */
		t->from_start = true;
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		emit(t, TAIL_EV_READ_ERROR, (uint64_t)e);
		return -e;
	}
	t->fd = fd;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->offset = 0;
	if (!t->from_start && lseek(fd, 0, SEEK_END) > 0) {
		t->offset = (uint64_t)st.st_size;
		(void)lseek(fd, (off_t)t->offset, SEEK_SET);
	}
	t->from_start = true;
	t->missing_known = false;
	emit(t, TAIL_EV_OPENED, 0);
	return 0;
}

int64_t tail_file_poll(struct tail_file *t, bool at_eof_is_line)
{
	struct stat st, pst;
	int64_t total = 0;

	if (t->fd < 0 && open_file(t) < 0) {
		return 0;
	}
	if (fstat(t->fd, &st) == 0 && (uint64_t)st.st_size < t->offset) {
		emit(t, TAIL_EV_TRUNCATED, 1);
		(void)lseek(t->fd, 0, SEEK_SET);
		t->offset = 0;
		t->have = 0;
		t->skipping = false;
	}
	total += drain(t);
	if (stat(t->path, &pst) < 0 || pst.st_dev != t->dev || pst.st_ino != t->ino) {
		/* Rotated away: the old file is drained; a new one starts at 0. */
		total += drain(t);
		close_file(t);
		emit(t, TAIL_EV_ROTATED, 1);
		t->from_start = true;
		if (open_file(t) == 0) {
			total += drain(t);
		}
	}
	if (at_eof_is_line && t->have && !t->skipping) {
		deliver(t, t->buf, t->have);
		t->have = 0;
	}
	return total;
}
