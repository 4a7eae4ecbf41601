/*
 * rotchain.c - rotated copies of a log file and the catch-up plan (see
 * rotchain.h).
 *
 * Names: logrotate's numbered copies (access.log.1, .2.gz), dateext
 * (access.log-20261203, -20261203-1764720000, .2026-12-03), with any of the
 * four compressors' extensions.  Order: numbered copies by number (larger
 * is older), dated ones by their suffix (fixed-width dates sort as text),
 * anything else by mtime -- logrotate keeps the mtime of a file it
 * compresses, so mtime is the time of its last line either way.
 *
 * The plan is pure (no I/O) so every rule has a unit test: which members a
 * restart reads depends only on which of them are checkpointed files, the
 * checkpoint time and the limit.  The limit keeps the newest files: they
 * are the ones closest to the live file, and the oldest are the likeliest to
 * be something an operator restored by hand.
 *
 * Rejected: ordering by mtime alone (a copytruncate'd copy and its live file
 * can share a second, and hand-copied files lose it), ordering by ctime
 * (compression resets it), reading olddir rotations (another directory:
 * configure them as a path if wanted), guessing at names like
 * access.log.old (no order can be inferred).
 */
#include "exporter/input/rotchain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_SCAN_MAX 100000u
#define NUMBER_DIGITS_MAX 6u /* numbered copies: .1 to .999999; longer is a date */

static const struct {
	const char *name;
	const char *ext;
	unsigned char magic[ROTCHAIN_MAGIC_MAX];
	size_t magic_len;
} codecs[ROTCHAIN_CODEC_COUNT] = {
    [ROTCHAIN_PLAIN] = {"plain", NULL, {0}, 0},
    [ROTCHAIN_GZIP] = {"gzip", ".gz", {0x1f, 0x8b}, 2},
    [ROTCHAIN_BZIP2] = {"bzip2", ".bz2", {'B', 'Z', 'h'}, 3},
    [ROTCHAIN_XZ] = {"xz", ".xz", {0xfd, '7', 'z', 'X', 'Z', 0x00}, 6},
    [ROTCHAIN_ZSTD] = {"zstd", ".zst", {0x28, 0xb5, 0x2f, 0xfd}, 4},
};

static const char *const action_names[] = {
    [ROTCHAIN_SKIP_OLDER] = "older", [ROTCHAIN_RESUME] = "resume",    [ROTCHAIN_READ] = "read",
    [ROTCHAIN_SKIP_LIMIT] = "limit", [ROTCHAIN_SKIP_CODEC] = "codec", [ROTCHAIN_SKIP_COPY] = "copy",
};

const char *rotchain_codec_name(enum rotchain_codec c)
{
	return c < ROTCHAIN_CODEC_COUNT ? codecs[c].name : "?";
}

const char *rotchain_action_name(enum rotchain_action a)
{
	return (size_t)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

/* Length of name without its compression extension; *ret_codec says which. */
static size_t strip_ext(const char *name, size_t len, enum rotchain_codec *ret_codec)
{
	for (unsigned c = ROTCHAIN_PLAIN + 1; c < ROTCHAIN_CODEC_COUNT; c++) {
		size_t el = strlen(codecs[c].ext);
		if (len > el && memcmp(name + len - el, codecs[c].ext, el) == 0) {
			*ret_codec = (enum rotchain_codec)c;
			return len - el;
		}
	}
	*ret_codec = ROTCHAIN_PLAIN;
	return len;
}

enum rotchain_codec rotchain_codec_by_name(const char *name)
{
	enum rotchain_codec c;

	(void)strip_ext(name, strlen(name), &c);
	return c;
}

enum rotchain_codec rotchain_codec_by_magic(const void *head, size_t n)
{
	for (unsigned c = ROTCHAIN_PLAIN + 1; c < ROTCHAIN_CODEC_COUNT; c++) {
		if (n >= codecs[c].magic_len &&
		    memcmp(head, codecs[c].magic, codecs[c].magic_len) == 0) {
			return (enum rotchain_codec)c;
		}
	}
	return ROTCHAIN_PLAIN;
}

bool rotchain_is_member(const char *base, const char *name, struct rotchain_key *ret_key)
{
	size_t bl = strlen(base), len = strlen(name);
	struct rotchain_key k;
	const char *s;
	size_t sl;
	bool digits_only = true;

	memset(&k, 0, sizeof(k));
	if (len <= bl + 1 || memcmp(name, base, bl) != 0 || (name[bl] != '.' && name[bl] != '-')) {
		return false;
	}
	len = strip_ext(name, len, &k.codec);
	if (len <= bl + 1) {
		return false;
	}
	s = name + bl + 1;
	sl = len - bl - 1;
	if (s[0] < '0' || s[0] > '9' || sl >= sizeof(k.suffix)) {
		return false;
	}
	for (size_t i = 0; i < sl; i++) {
		bool digit = s[i] >= '0' && s[i] <= '9';
		if (!digit && s[i] != '.' && s[i] != '-' && s[i] != '_') {
			return false;
		}
		digits_only = digits_only && digit;
	}
	if (digits_only && sl <= NUMBER_DIGITS_MAX && name[bl] == '.') {
		k.numbered = true;
		for (size_t i = 0; i < sl; i++) {
			k.number = k.number * 10 + (uint64_t)(s[i] - '0');
		}
	}
	memcpy(k.suffix, s, sl);
	k.suffix[sl] = '\0';
	*ret_key = k;
	return true;
}

bool rotchain_root(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t dl = (size_t)(name - path), len = strlen(name);
	struct rotchain_key k;
	char base[256];

	for (size_t i = 1; i < len && i < sizeof(base); i++) {
		if (name[i] != '.' && name[i] != '-') {
			continue;
		}
		memcpy(base, name, i);
		base[i] = '\0';
		if (rotchain_is_member(base, name, &k)) {
			int n = snprintf(buf, size, "%.*s%s", (int)dl, path, base);
			return n >= 0 && (size_t)n < size;
		}
	}
	return false;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

int rotchain_compare(const struct rotchain_key *a, int64_t a_mtime_ns, const struct rotchain_key *b,
                     int64_t b_mtime_ns)
{
	int r = 0;

	if (a->numbered && b->numbered) {
		r = a->number > b->number ? -1 : a->number < b->number;
	} else if (!a->numbered && !b->numbered) {
		r = strcmp(a->suffix, b->suffix);
		r = r < 0 ? -1 : r > 0;
	}
	if (r == 0) {
		r = cmp_i64(a_mtime_ns, b_mtime_ns);
	}
	if (r == 0) {
		/* The same key twice: the plain one is where the lines were written. */
		r = (a->codec != ROTCHAIN_PLAIN) - (b->codec != ROTCHAIN_PLAIN);
	}
	return r;
}

static int member_cmp(const void *pa, const void *pb)
{
	const struct rotchain_member *a = pa, *b = pb;
	int r = rotchain_compare(&a->key, a->mtime_ns, &b->key, b->mtime_ns);

	return r ? r : strcmp(a->path, b->path);
}

/* The uncompressed size a gzip file declares (ISIZE, mod 2^32; at least
 * its size on disk as an estimate of larger ones). */
static uint64_t gzip_content(int dfd, const char *name, uint64_t size)
{
	unsigned char t[4];
	uint64_t isize;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		return size;
	}
	if (size < 18 || pread(fd, t, 4, (off_t)(size - 4)) != 4) {
		close(fd);
		return size;
	}
	close(fd);
	isize = (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 | (uint64_t)t[3] << 24;
	return isize > size ? isize : size;
}

/* Split path into directory (into dir) and base name. */
static int split_path(const char *path, char *dir, size_t dir_size, const char **ret_base)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash) {
		n = snprintf(dir, dir_size, ".");
	} else if (slash == path) {
		n = snprintf(dir, dir_size, "/");
	} else {
		n = snprintf(dir, dir_size, "%.*s", (int)(slash - path), path);
	}
	if (n < 0 || (size_t)n >= dir_size) {
		return -ENAMETOOLONG;
	}
	*ret_base = slash ? slash + 1 : path;
	return **ret_base ? 0 : -EINVAL;
}

static int add_member(struct rotchain_member *out, size_t *n, DIR *d, const char *dir,
                      const char *name, const struct rotchain_key *k)
{
	struct rotchain_member *m = &out[*n];
	struct stat st;
	size_t len = strlen(dir) + strlen(name) + 2;

	if (fstatat(dirfd(d), name, &st, 0) < 0 || !S_ISREG(st.st_mode)) {
		return 0;
	}
	memset(m, 0, sizeof(*m));
	m->path = malloc(len);
	if (!m->path) {
		return -ENOMEM;
	}
	(void)snprintf(m->path, len, "%s/%s", dir, name);
	m->key = *k;
	m->dev = (uint64_t)st.st_dev;
	m->ino = (uint64_t)st.st_ino;
	m->size = (uint64_t)st.st_size;
	m->content = k->codec == ROTCHAIN_GZIP ? gzip_content(dirfd(d), name, m->size) : m->size;
	m->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	m->saved = -1;
	(*n)++;
	return 0;
}

int rotchain_list(const char *path, struct rotchain_member **ret_members, size_t *ret_n)
{
	char dir[4096];
	const char *base;
	struct rotchain_member *out = NULL;
	struct dirent *de;
	size_t n = 0, seen = 0;
	DIR *d;
	int r = split_path(path, dir, sizeof(dir), &base);

	if (r < 0) {
		return r;
	}
	d = opendir(dir);
	if (!d) {
		return -errno;
	}
	out = calloc(ROTCHAIN_MAX_MEMBERS, sizeof(*out));
	if (!out) {
		r = -ENOMEM;
		goto out;
	}
	while (n < ROTCHAIN_MAX_MEMBERS && (de = readdir(d)) != NULL && seen++ < DIR_SCAN_MAX) {
		struct rotchain_key k;
		if (rotchain_is_member(base, de->d_name, &k)) {
			r = add_member(out, &n, d, dir, de->d_name, &k);
			if (r < 0) {
				goto out;
			}
		}
	}
	qsort(out, n, sizeof(*out), member_cmp);
	*ret_members = out;
	*ret_n = n;
	out = NULL;
	n = 0;
	r = 0;
out:
	rotchain_free(out, n);
	closedir(d);
	return r;
}

void rotchain_free(struct rotchain_member *m, size_t n)
{
	if (!m) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(m[i].path);
	}
	free(m);
}

static bool is_reading(const struct rotchain_member *m)
{
	return m->action == ROTCHAIN_READ || m->action == ROTCHAIN_RESUME;
}

/* Where each member stands relative to the checkpoint. */
static void plan_order(struct rotchain_member *m, size_t n, const struct rotchain_plan_options *o)
{
	size_t anchor = n;

	for (size_t i = 0; i < n; i++) {
		if (m[i].saved >= 0 && !m[i].weak) {
			anchor = i;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (m[i].saved >= 0) {
			m[i].action = ROTCHAIN_RESUME;
		} else if (anchor < n) {
			m[i].action = i > anchor ? ROTCHAIN_READ : ROTCHAIN_SKIP_OLDER;
		} else if (o->current_saved || !o->saved_at_ns) {
			m[i].action = ROTCHAIN_SKIP_OLDER;
		} else {
			/* The checkpointed file is gone: what was written after the
			 * checkpoint is in the files modified since. */
			m[i].action =
			    m[i].mtime_ns > o->saved_at_ns ? ROTCHAIN_READ : ROTCHAIN_SKIP_OLDER;
		}
	}
}

/* A compressed member with the key of a plain one is its copy. */
static void plan_copies(struct rotchain_member *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i].key.codec == ROTCHAIN_PLAIN || !is_reading(&m[i])) {
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			if (m[k].key.codec == ROTCHAIN_PLAIN &&
			    m[k].key.numbered == m[i].key.numbered &&
			    m[k].key.number == m[i].key.number &&
			    strcmp(m[k].key.suffix, m[i].key.suffix) == 0) {
				m[i].action = ROTCHAIN_SKIP_COPY;
				break;
			}
		}
	}
}

uint64_t rotchain_plan(struct rotchain_member *m, size_t n, const struct rotchain_plan_options *o)
{
	uint64_t total = 0;
	bool over = false;

	plan_order(m, n, o);
	plan_copies(m, n);
	for (size_t i = 0; i < n; i++) {
		if (is_reading(&m[i]) && m[i].key.codec != ROTCHAIN_PLAIN &&
		    m[i].key.codec != ROTCHAIN_GZIP) {
			m[i].action = ROTCHAIN_SKIP_CODEC;
		}
	}
	for (size_t i = n; i-- > 0;) {
		uint64_t left;
		if (!is_reading(&m[i])) {
			continue;
		}
		left = m[i].content > m[i].offset ? m[i].content - m[i].offset : 0;
		if (over || left > o->max_bytes - total) {
			over = true; /* whole files only, and none older than a skipped one */
			m[i].action = ROTCHAIN_SKIP_LIMIT;
			continue;
		}
		total += left;
	}
	return total;
}
