/*
 * zfile.c - gzip-compressed log files, read line by line (see zfile.h).
 *
 * One z_stream (windowBits 15 + 16: gzip only, as logrotate writes it),
 * compressed input read sequentially 64 KiB at a time, uncompressed output
 * into a buffer of line cap + 256 KiB that is split with tail_split, the
 * same line rules as a plain file.  Concatenated gzip members (gzip -c a b,
 * or a file appended to after compression) are read one after the other.
 * Resuming at an offset inflates and discards the bytes before it: gzip has
 * no index, and a rotated file is read once, so that costs one pass.
 *
 * Buffers exist only while a file is being read (the fileset reads its
 * compressed catch-up files one at a time), so a thousand queued files cost
 * a thousand descriptors and small structs, not a thousand buffers.
 *
 * Rejected: gzopen/gzread (its own buffering on top of ours, and it reads
 * a non-gzip file as plain text, which is exactly what must never happen
 * here), decompressing to a temporary file (disk space, and a second copy
 * to clean up after a crash), libarchive for bzip2/xz/zstd (a dependency
 * for rotations nginx and Apache packages do not configure by default: such
 * files are skipped with a reason instead).
 */
#include "exporter/input/zfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "exporter/input/container.h"

#define IN_CHUNK (64u * 1024u)
#define OUT_CHUNK (256u * 1024u)
#define GZIP_WINDOW_BITS (15 + 16)

struct zfile {
	char *path;
	int fd;
	struct tail_identity id;
	uint64_t off;     /* uncompressed offset of the end of the last line consumed */
	uint64_t skip_to; /* the start offset: bytes before it are discarded */
	uint64_t pos;     /* uncompressed offset of buf[0] */
	bool skipping;
	size_t cap;
	struct tail_callbacks cb;
	z_stream z;
	bool z_ready;
	bool in_eof;
	bool done;
	int error;
	unsigned char *in;
	char *buf;
	size_t size;               /* of buf */
	size_t have;               /* bytes in buf (a partial line) */
	struct container_tap *tap; /* owned; see zfile_set_tap */
};

/* pread-based inflate of the first bytes, for fingerprints. */
int zfile_fingerprint(int fd, uint32_t max_len, uint32_t *ret_len, uint64_t *ret_hash)
{
	unsigned char in[4096];
	unsigned char out[TAIL_FP_MAX];
	z_stream z = {0};
	uint64_t at = 0;
	size_t want = max_len < sizeof(out) ? max_len : sizeof(out);
	int r = 0, zr = Z_OK;

	if (inflateInit2(&z, GZIP_WINDOW_BITS) != Z_OK) {
		return -ENOMEM;
	}
	z.next_out = out;
	z.avail_out = (uInt)want;
	while (z.avail_out > 0) {
		if (z.avail_in == 0) {
			ssize_t n = pread(fd, in, sizeof(in), (off_t)at);
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				r = n < 0 ? -errno : 0;
				break;
			}
			at += (uint64_t)n;
			z.next_in = in;
			z.avail_in = (uInt)n;
		}
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* Another member may follow. */
			if (inflateReset(&z) != Z_OK) {
				r = -EIO;
				break;
			}
			continue;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			r = -EIO;
			break;
		}
	}
	if (r == 0 && want - z.avail_out == 0 && zr != Z_STREAM_END && z.total_in == 0) {
		r = -EIO; /* nothing inflated at all */
	}
	if (r == 0) {
		*ret_len = (uint32_t)(want - z.avail_out);
		*ret_hash = tail_fingerprint_hash(out, *ret_len);
	}
	(void)inflateEnd(&z);
	return r;
}

bool zfile_matches(int fd, const struct tail_position *saved)
{
	uint32_t len;
	uint64_t hash;

	if (!saved->id.fp_len) {
		return false; /* an empty file fingerprints like any other */
	}
	return zfile_fingerprint(fd, saved->id.fp_len, &len, &hash) == 0 &&
	       len == saved->id.fp_len && hash == saved->id.fp_hash;
}

int zfile_open(const char *path, int fd, const struct stat *st, uint64_t offset, bool skipping,
               size_t line_cap, const struct tail_callbacks *cb, struct zfile **ret_file)
{
	struct zfile *z = calloc(1, sizeof(*z));
	int r;

	if (!z) {
		return -ENOMEM;
	}
	z->path = strdup(path);
	if (!z->path) {
		free(z);
		return -ENOMEM;
	}
	r = zfile_fingerprint(fd, TAIL_FP_MAX, &z->id.fp_len, &z->id.fp_hash);
	if (r < 0) {
		free(z->path);
		free(z);
		return r == -ENOMEM ? r : -EIO;
	}
	z->fd = fd;
	z->cb = *cb;
	z->id.dev = (uint64_t)st->st_dev;
	z->id.ino = (uint64_t)st->st_ino;
	z->off = offset;
	z->skip_to = offset;
	z->skipping = skipping;
	z->cap = line_cap ? line_cap : TAIL_DEFAULT_LINE_CAP;
	if (z->cap > TAIL_MAX_LINE_CAP) {
		z->cap = TAIL_MAX_LINE_CAP;
	}
	*ret_file = z;
	return 0;
}

static void release_buffers(struct zfile *z)
{
	if (z->z_ready) {
		(void)inflateEnd(&z->z);
		z->z_ready = false;
	}
	free(z->in);
	free(z->buf);
	z->in = NULL;
	z->buf = NULL;
}

void zfile_destroy(struct zfile *z)
{
	if (!z) {
		return;
	}
	release_buffers(z);
	if (z->fd >= 0) {
		close(z->fd);
	}
	container_tap_destroy(z->tap);
	free(z->path);
	free(z);
}

void zfile_set_tap(struct zfile *z, struct container_tap *tap)
{
	if (tap) {
		z->tap = tap;
		z->cb = *container_tap_callbacks(tap);
	}
}

static int start_reading(struct zfile *z)
{
	z->size = z->cap + OUT_CHUNK;
	z->in = malloc(IN_CHUNK);
	z->buf = malloc(z->size);
	if (!z->in || !z->buf) {
		return -ENOMEM;
	}
	memset(&z->z, 0, sizeof(z->z));
	if (inflateInit2(&z->z, GZIP_WINDOW_BITS) != Z_OK) {
		return -ENOMEM;
	}
	z->z_ready = true;
	return 0;
}

static void finish(struct zfile *z, int err)
{
	if (err && z->cb.event) {
		z->cb.event(z->cb.userdata, TAIL_EV_READ_ERROR, (uint64_t)-err);
	}
	z->error = err;
	z->done = true;
	release_buffers(z);
}

/* Fill z->in when empty: 0, or -errno; sets in_eof at the end of the file. */
static int refill(struct zfile *z)
{
	ssize_t n;

	if (z->z.avail_in || z->in_eof) {
		return 0;
	}
	do {
		n = read(z->fd, z->in, IN_CHUNK);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -errno;
	}
	z->in_eof = n == 0;
	z->z.next_in = z->in;
	z->z.avail_in = (uInt)n;
	return 0;
}

/* One inflate step into buf[have..): 0 more to come, 1 end of the file,
 * or -errno. */
static int inflate_step(struct zfile *z, size_t *ret_produced)
{
	size_t room = z->size - z->have;
	int r = refill(z), zr;

	if (r < 0) {
		return r;
	}
	z->z.next_out = (Bytef *)z->buf + z->have;
	z->z.avail_out = (uInt)room;
	zr = inflate(&z->z, Z_NO_FLUSH);
	*ret_produced = room - z->z.avail_out;
	if (zr == Z_STREAM_END) {
		/* A member ended: another may follow, else this is the end. */
		r = refill(z);
		if (r < 0) {
			return r;
		}
		if (!z->z.avail_in && z->in_eof) {
			return 1;
		}
		return inflateReset(&z->z) == Z_OK ? 0 : -EIO;
	}
	if (zr == Z_BUF_ERROR && z->in_eof && !z->z.avail_in && !*ret_produced) {
		return -EPIPE; /* no trailer: truncated or still being written */
	}
	if (zr != Z_OK && zr != Z_BUF_ERROR) {
		return -EIO;
	}
	return 0;
}

/* Account for n new bytes at buf[have..]: drop those before skip_to, split
 * the rest into lines.  Returns bytes consumed as lines. */
static uint64_t take(struct zfile *z, size_t n)
{
	size_t used;

	z->have += n;
	if (z->pos < z->skip_to) {
		uint64_t drop = z->skip_to - z->pos;
		if (drop >= z->have) {
			z->pos += z->have;
			z->have = 0;
			return 0;
		}
		memmove(z->buf, z->buf + drop, z->have - (size_t)drop);
		z->have -= (size_t)drop;
		z->pos += drop;
	}
	used = tail_split(&z->cb, &z->skipping, z->buf, z->have, z->cap);
	z->pos += used;
	z->off = z->pos;
	z->have -= used;
	if (z->have && used) {
		memmove(z->buf, z->buf + used, z->have);
	}
	return used;
}

/* The end of a finished file ends its last line. */
static void last_line(struct zfile *z)
{
	size_t len = z->have;

	if (!len || z->pos < z->skip_to) {
		return;
	}
	if (!z->skipping) {
		if (z->buf[len - 1] == '\r') {
			len--;
		}
		z->cb.line(z->cb.userdata, z->buf, len);
	}
	z->pos += z->have;
	z->off = z->pos;
	z->have = 0;
}

int64_t zfile_poll(struct zfile *z, uint64_t budget)
{
	uint64_t consumed = 0, produced_total = 0;
	int r = 0;

	if (z->done) {
		return 0;
	}
	if (!z->buf && (r = start_reading(z)) < 0) {
		finish(z, r);
		return 0;
	}
	if (z->cb.from) {
		z->cb.from(z->cb.userdata, z->path);
	}
	while (r == 0 && produced_total < budget) {
		size_t produced = 0;
		r = inflate_step(z, &produced);
		produced_total += produced;
		if (z->pos + z->have + produced > ZFILE_MAX_CONTENT) {
			r = -EFBIG;
			break;
		}
		if (r >= 0) {
			consumed += take(z, produced);
		}
	}
	if (r == 1) {
		uint64_t before = z->off;
		last_line(z);
		consumed += z->off - before;
	}
	if (consumed && z->cb.event) {
		z->cb.event(z->cb.userdata, TAIL_EV_BYTES, consumed);
	}
	if (r != 0) {
		finish(z, r == 1 ? 0 : r);
	}
	/* Progress so the caller keeps polling; a file done reports its last bytes. */
	return (int64_t)(consumed ? consumed : (z->done ? 0 : 1));
}

bool zfile_done(const struct zfile *z)
{
	return z->done;
}

int zfile_error(const struct zfile *z)
{
	return z->error;
}

void zfile_position(const struct zfile *z, struct tail_position *ret_pos)
{
	ret_pos->id = z->id;
	ret_pos->offset = z->off;
	ret_pos->skipping = z->skipping;
}

const char *zfile_path(const struct zfile *z)
{
	return z->path;
}

bool zfile_is(const struct zfile *z, uint64_t dev, uint64_t ino)
{
	return z->id.dev == dev && z->id.ino == ino;
}
