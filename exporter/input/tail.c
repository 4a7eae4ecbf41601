/*
 * tail.c - read one open log file line by line (see tail.h).
 *
 * The descriptor is read with pread at an explicit offset: off is always
 * the end of the last complete line consumed (or of the skipped bytes of
 * an over-long line).  A poll reads 128 KiB chunks into the shared scratch
 * buffer and splits lines with memchr; within one poll a partial last line
 * is moved to the front of the buffer and completed by the next chunk;
 * at the end of a poll it is simply dropped and read again next time.
 * That costs re-reading a few hundred bytes per poll and buys a lot: no
 * per-file line buffer, no lseek, and the saved position of a checkpoint
 * is just off.
 *
 * Truncation (copytruncate) is a size below off, or first bytes that no
 * longer hash to the fingerprint (the file was truncated and the writer
 * already wrote past our offset again).  The fingerprint grows with the
 * file up to TAIL_FP_MAX bytes and is only checked when the size changed,
 * so an idle file costs one fstat per poll.
 *
 * Rejected: keeping the partial line in a per-file buffer (the old design;
 * 1 MiB per file, and offsets had to subtract it), read + lseek (two
 * syscalls where one does), inotify here (fileset/daemon decide when to
 * poll; polling stays the correctness path), and mmap (MAP_POPULATE,
 * MADV_SEQUENTIAL, 4 or 64 MiB windows) for --once on regular files: on
 * the 2-core VM a memchr over a mapped 313 MB log took 0.15-0.19 s of
 * CPU against 0.05-0.07 s read in 128 KiB chunks (the faults and TLB
 * misses cost more than the kernel's copy; issue 17, 2026-12-04), and an
 * inline SSE2 newline search instead of memchr (no difference in CPU).
 */
#include "exporter/input/tail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporter/input/container.h"

#define POLL_MAX_BYTES (64u * 1024u * 1024u)
/* Bytes a read into the scratch buffer asks for: 128 KiB, so that the
 * kernel's copy and the parse of those lines both stay in the L2 cache (a
 * 1 MiB read left the first lines evicted by the time they were parsed:
 * about 2% of a --once on combined lines).  Reads into a receiver's memory
 * (cb.lend, the count pool's batches) still come in TAIL_CHUNK. */
#define SCRATCH_READ (128u * 1024u)
#define RETRY_MS 1000u

struct tail_scratch {
	char *buf;
	size_t size; /* cap + SCRATCH_READ */
	size_t cap;  /* longest line delivered (bytes before "\n" or "\r\n") */
};

struct tail_file {
	char *path;
	int fd;
	struct tail_identity id;
	uint64_t off;         /* end of the last complete line consumed */
	uint64_t last_size;   /* size at the previous poll */
	uint64_t scanned_end; /* end of the bytes looked at (off + partial line) */
	bool skipping;        /* off is inside an over-long line */
	uint64_t retry_at_ms;
	int last_error; /* errno of the last failed fstat/read; 0 after a good poll */
	struct tail_callbacks cb;
	struct tail_position truncated_at; /* see tail_file_take_truncated */
	bool was_truncated;
	struct container_tap *tap; /* owned; NULL: lines go to cb as they are */
};

uint64_t tail_fingerprint_hash(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 14695981039346656037ull ^ (uint64_t)len;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* pread until n bytes or EOF; returns bytes read or -errno. */
static ssize_t pread_full(int fd, char *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (r == 0) {
			break;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int tail_fingerprint(int fd, uint64_t size, uint32_t max_len, uint32_t *ret_len, uint64_t *ret_hash)
{
	char head[TAIL_FP_MAX];
	size_t want = size < max_len ? (size_t)size : max_len;
	ssize_t r;

	if (want > sizeof(head)) {
		want = sizeof(head);
	}
	r = pread_full(fd, head, want, 0);
	if (r < 0) {
		return (int)r;
	}
	*ret_len = (uint32_t)r;
	*ret_hash = tail_fingerprint_hash(head, (size_t)r);
	return 0;
}

enum tail_match tail_identity_match(int fd, const struct stat *st,
                                    const struct tail_position *saved)
{
	uint32_t len;
	uint64_t hash;

	if ((uint64_t)st->st_dev != saved->id.dev || (uint64_t)st->st_ino != saved->id.ino) {
		return TAIL_MATCH_OTHER;
	}
	if ((uint64_t)st->st_size < saved->id.fp_len) {
		return TAIL_MATCH_TRUNCATED; /* shrank below what we saw: from 0 either way */
	}
	if (saved->id.fp_len) {
		/* Compare over exactly the length that was fingerprinted. */
		if (tail_fingerprint(fd, saved->id.fp_len, saved->id.fp_len, &len, &hash) < 0 ||
		    len != saved->id.fp_len || hash != saved->id.fp_hash) {
			return TAIL_MATCH_OTHER;
		}
	}
	if ((uint64_t)st->st_size < saved->offset) {
		return TAIL_MATCH_TRUNCATED;
	}
	return TAIL_MATCH_SAME;
}

/* Whether an unterminated line of len bytes (p) can no longer become a
 * line within the cap: over cap bytes, unless it is exactly cap bytes and
 * a '\r' whose '\n' is still to come. */
static bool over_cap(const char *p, size_t len, size_t cap)
{
	return len > cap && !(len == cap + 1 && p[cap] == '\r');
}

int tail_end_offset(int fd, uint64_t size, struct tail_scratch *sc, uint64_t *ret_offset,
                    bool *ret_skipping)
{
	/* The last line may be half written: start after the last newline so
	 * that line is counted once it is complete.  Look back cap + 2 bytes
	 * (a line of cap bytes, its '\r', the newline before it): a longer
	 * unterminated tail is an over-long line, skipped. */
	size_t want = size < sc->cap + 2 ? (size_t)size : sc->cap + 2;
	uint64_t base = size - want;
	ssize_t r = pread_full(fd, sc->buf, want, base);
	char *nl;

	if (r < 0) {
		return (int)r;
	}
	nl = r ? memrchr(sc->buf, '\n', (size_t)r) : NULL;
	if (nl || base == 0) {
		/* After the last newline, or one unterminated line at 0: wait for
		 * its newline, unless it is already over the cap. */
		size_t from = nl ? (size_t)(nl - sc->buf) + 1 : 0;
		*ret_offset = base + from;
		*ret_skipping = false;
		if (!over_cap(sc->buf + from, (size_t)r - from, sc->cap)) {
			return 0;
		}
	}
	*ret_offset = size;
	*ret_skipping = true;
	return 0;
}

struct tail_scratch *tail_scratch_create(size_t line_cap)
{
	struct tail_scratch *sc = calloc(1, sizeof(*sc));

	if (!sc) {
		return NULL;
	}
	sc->cap = line_cap ? line_cap : TAIL_DEFAULT_LINE_CAP;
	if (sc->cap > TAIL_MAX_LINE_CAP) {
		sc->cap = TAIL_MAX_LINE_CAP;
	}
	sc->size = sc->cap + SCRATCH_READ;
	sc->buf = malloc(sc->size);
	if (!sc->buf) {
		free(sc);
		return NULL;
	}
	return sc;
}

void tail_scratch_destroy(struct tail_scratch *sc)
{
	if (!sc) {
		return;
	}
	free(sc->buf);
	free(sc);
}

static void emit(struct tail_file *t, enum tail_event ev, uint64_t n)
{
	if (t->cb.event) {
		t->cb.event(t->cb.userdata, ev, n);
	}
}

int tail_file_open(const char *path, int fd, const struct stat *st, uint64_t offset, bool skipping,
                   const struct tail_callbacks *cb, struct tail_file **ret_file)
{
	struct tail_file *t = calloc(1, sizeof(*t));

	if (!t) {
		return -ENOMEM;
	}
	t->path = strdup(path);
	if (!t->path) {
		free(t);
		return -ENOMEM;
	}
	t->fd = fd;
	t->cb = *cb;
	t->id.dev = (uint64_t)st->st_dev;
	t->id.ino = (uint64_t)st->st_ino;
	t->off = offset;
	t->skipping = skipping;
	/* Fingerprinted at the first poll (size differs from last_size). */
	t->last_size = UINT64_MAX;
	*ret_file = t;
	return 0;
}

void tail_file_destroy(struct tail_file *t)
{
	if (!t) {
		return;
	}
	if (t->fd >= 0) {
		close(t->fd);
	}
	container_tap_destroy(t->tap);
	free(t->path);
	free(t);
}

void tail_file_set_tap(struct tail_file *t, struct container_tap *tap)
{
	if (tap) {
		t->tap = tap;
		t->cb = *container_tap_callbacks(tap);
	}
}

const char *tail_file_path(const struct tail_file *t)
{
	return t->path;
}

int tail_file_set_path(struct tail_file *t, const char *path)
{
	char *p;

	if (strcmp(path, t->path) == 0) {
		return 0;
	}
	p = strdup(path);
	if (!p) {
		return -ENOMEM;
	}
	free(t->path);
	t->path = p;
	return 0;
}

int tail_file_size(const struct tail_file *t, uint64_t *ret_size)
{
	struct stat st;

	if (fstat(t->fd, &st) < 0) {
		return -errno;
	}
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

int tail_file_error(const struct tail_file *t)
{
	return t->last_error;
}

bool tail_file_take_truncated(struct tail_file *t, struct tail_position *ret_pos)
{
	if (!t->was_truncated) {
		return false;
	}
	t->was_truncated = false;
	*ret_pos = t->truncated_at;
	return true;
}

bool tail_file_is(const struct tail_file *t, uint64_t dev, uint64_t ino)
{
	return t->id.dev == dev && t->id.ino == ino;
}

void tail_file_position(const struct tail_file *t, struct tail_position *ret_pos)
{
	ret_pos->id = t->id;
	ret_pos->offset = t->off;
	ret_pos->skipping = t->skipping;
}

static void read_error(struct tail_file *t, int err, uint64_t now_ms)
{
	emit(t, TAIL_EV_READ_ERROR, (uint64_t)err);
	t->last_error = err;
	t->retry_at_ms = now_ms + RETRY_MS;
}

static void restart_at_zero(struct tail_file *t)
{
	emit(t, TAIL_EV_TRUNCATED, 1);
	if (t->off && t->id.fp_len) {
		/* Where we were: copytruncate's copy may hold what followed. */
		t->truncated_at = (struct tail_position){t->id, t->off, t->skipping};
		t->was_truncated = true;
	}
	t->off = 0;
	t->scanned_end = 0;
	t->skipping = false;
	t->id.fp_len = 0;
	t->id.fp_hash = 0;
}

/*
 * The size changed: was the file truncated or rewritten under us?  One
 * pread of the head verifies the old fingerprint and extends it.
 */
static int check_head(struct tail_file *t, uint64_t size)
{
	char head[TAIL_FP_MAX];
	size_t want = size < TAIL_FP_MAX ? (size_t)size : TAIL_FP_MAX;
	ssize_t r;

	if (size < t->off) {
		restart_at_zero(t);
	}
	r = pread_full(t->fd, head, want, 0);
	if (r < 0) {
		return (int)r;
	}
	if (t->id.fp_len && ((size_t)r < t->id.fp_len ||
	                     tail_fingerprint_hash(head, t->id.fp_len) != t->id.fp_hash)) {
		restart_at_zero(t);
	}
	if ((size_t)r > t->id.fp_len) {
		t->id.fp_len = (uint32_t)r;
		t->id.fp_hash = tail_fingerprint_hash(head, (size_t)r);
	}
	return 0;
}

size_t tail_split(const struct tail_callbacks *cb, bool *skipping, char *buf, size_t n, size_t cap)
{
	/* The hot loop: one memchr and one callback per line. */
	void (*line)(void *, const char *, size_t) = cb->line;
	void *ud = cb->userdata;
	char *p = buf, *end = buf + n, *nl;

	if (*skipping) {
		nl = memchr(p, '\n', n);
		if (!nl) {
			return n;
		}
		*skipping = false;
		p = nl + 1;
	}
	if (cb->block && p < end && (nl = memrchr(p, '\n', (size_t)(end - p))) != NULL) {
		/* whole lines to the receiver; what follows the last newline as below */
		cb->block(ud, p, (size_t)(nl + 1 - p), cap);
		p = nl + 1;
	}
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		size_t len = (size_t)(nl - p);
		if (len && p[len - 1] == '\r') {
			len--;
		}
		if (len > cap) {
			if (cb->event) {
				cb->event(ud, TAIL_EV_TOO_LONG, 1);
			}
		} else {
			line(ud, p, len);
		}
		p = nl + 1;
	}
	if (over_cap(p, (size_t)(end - p), cap)) {
		/* Cannot be delivered whole: report it now, skip to its newline. */
		if (cb->event) {
			cb->event(ud, TAIL_EV_TOO_LONG, 1);
		}
		*skipping = true;
		return n;
	}
	return (size_t)(p - buf);
}

/* Where the next read goes: the receiver's memory (cb.lend) or the
 * scratch buffer; the partial line of have bytes at *cur moves along.
 * *ret_size: the room at the returned buffer. */
static char *read_buffer(struct tail_file *t, struct tail_scratch *sc, char *cur, size_t have,
                         bool lending, size_t *ret_size)
{
	size_t size = 0;
	char *buf = lending ? t->cb.lend(t->cb.userdata, have + TAIL_CHUNK, &size) : NULL;

	if (!buf || size < have + TAIL_CHUNK) {
		buf = sc->buf;
		size = sc->size;
	}
	if (have && buf != cur) {
		memmove(buf, cur, have);
	}
	*ret_size = size;
	return buf;
}

/* Read from off to EOF (bounded); returns bytes consumed (progress). */
static int64_t drain(struct tail_file *t, struct tail_scratch *sc, uint64_t now_ms,
                     bool at_eof_is_line)
{
	if (t->cb.from) {
		t->cb.from(t->cb.userdata, t->path);
	}
	/* whole files into the receiver's memory: no copy of the lines */
	bool lending = at_eof_is_line && t->cb.block && t->cb.lend;
	uint64_t start = t->off;
	char *cur = sc->buf; /* the partial line, then the next read, go here */
	size_t have = 0;     /* bytes of a partial line at cur */
	int64_t total = 0;
	bool eof = false;

	while (total < (int64_t)POLL_MAX_BYTES) {
		size_t size;
		cur = read_buffer(t, sc, cur, have, lending, &size);
		size_t want = size - have;
		ssize_t r = pread(t->fd, cur + have, want, (off_t)(t->off + have));
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			read_error(t, errno, now_ms);
			break;
		}
		if (r == 0) {
			eof = true;
			break;
		}
		total += r;
		size_t n = have + (size_t)r;
		size_t used = tail_split(&t->cb, &t->skipping, cur, n, sc->cap);
		t->off += used;
		have = n - used;
		cur += used; /* read_buffer moves it where the next read goes */
		if ((size_t)r < want) {
			eof = true;
			break; /* short read: at EOF for now */
		}
	}
	/* Only a real EOF ends the last line; the per-poll byte budget does not. */
	if (at_eof_is_line && eof && have && !t->skipping) {
		size_t len = have;
		if (cur[len - 1] == '\r') {
			len--;
		}
		t->cb.line(t->cb.userdata, cur, len);
		t->off += have;
		have = 0; /* delivered: no partial line is left behind off */
	}
	/* Bytes of a partial line were looked at: skip them until the file grows. */
	t->scanned_end = t->off + have;
	if (t->off > start) {
		emit(t, TAIL_EV_BYTES, t->off - start);
	}
	/* Progress, not bytes read: a half-written line re-read at every poll
	 * must not look like work, or the ingest loop would never sleep. */
	return (int64_t)(t->off - start);
}

int64_t tail_file_poll(struct tail_file *t, struct tail_scratch *sc, uint64_t now_ms,
                       bool at_eof_is_line)
{
	struct stat st;
	int r;

	if (now_ms < t->retry_at_ms) {
		return 0;
	}
	if (fstat(t->fd, &st) < 0) {
		read_error(t, errno, now_ms);
		return 0;
	}
	t->last_error = 0;
	if ((uint64_t)st.st_size != t->last_size || (uint64_t)st.st_size < t->off) {
		r = check_head(t, (uint64_t)st.st_size);
		if (r < 0) {
			read_error(t, -r, now_ms);
			return 0;
		}
		t->last_size = (uint64_t)st.st_size;
	}
	if ((uint64_t)st.st_size <= t->off && !at_eof_is_line) {
		return 0; /* nothing new: spare the read */
	}
	if ((uint64_t)st.st_size <= t->scanned_end && !at_eof_is_line) {
		return 0; /* only the partial line we already looked at */
	}
	return drain(t, sc, now_ms, at_eof_is_line);
}
