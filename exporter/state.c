/*
 * state.c - checkpoint file writer, atomic replace and strict parser (see
 * state.h for the format).
 *
 * Writing appends to a capped strbuf; state_finish seals it with an FNV-1a
 * 64 checksum of all preceding bytes, so a torn or edited file is refused
 * as a whole.  The counters block is length-prefixed (the metrics module
 * owns its syntax); every other record is one line.  The parser walks the
 * buffer line by line with explicit lengths: no sscanf/strtol, every
 * number range-checked, every collection capped (sources, patterns, files,
 * file size).
 *
 * Atomicity: write to "<path>.tmp.<pid>" in the same directory, fsync,
 * rename over path, fsync the directory.  A crash at any point leaves the
 * previous checkpoint or the new one.
 *
 * Rejected: a binary format (harder to inspect and to repair by hand),
 * one file per source (no single consistent snapshot), JSON (no parser in
 * the dependencies, and nothing gained for a private file).
 */
#include "exporter/state.h"

#include "parsers/numparse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "accesslog-state 2\n"
#define MAGIC_V1 "accesslog-state 1\n" /* read: text fields raw */
#define MAGIC_LEN (sizeof(MAGIC) - 1)

static uint64_t fnv64(const char *p, size_t len)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/*
 * Text fields (source names, patterns, paths) are escaped in version 2, so
 * any name a file system allows fits on its record line: '\\' as "\\\\",
 * newline as "\\n", other control bytes (and DEL) as "\\xHH".  Version 1
 * files wrote them raw and left out what held a newline; they are still
 * read, raw.
 */
static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '\\';
}

static void put_text(struct strbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!needs_escape(c)) {
			continue;
		}
		(void)strbuf_append(b, run, (size_t)(s - run));
		if (c == '\\' || c == '\n') {
			char esc[2] = {'\\', c == '\n' ? 'n' : '\\'};
			(void)strbuf_append(b, esc, 2);
		} else {
			char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			(void)strbuf_append(b, esc, 4);
		}
		run = s + 1;
	}
	(void)strbuf_append(b, run, (size_t)(s - run));
	(void)strbuf_putc(b, '\n');
}

void state_begin(struct strbuf *b)
{
	(void)strbuf_puts(b, MAGIC);
}

void state_add_source(struct strbuf *b, const char *name)
{
	if (name[0] == '\0') {
		b->error = b->error ? b->error : -EINVAL;
		return;
	}
	(void)strbuf_puts(b, "source ");
	put_text(b, name);
}

void state_add_pattern(struct strbuf *b, const char *pattern)
{
	if (pattern[0] != '\0') {
		(void)strbuf_puts(b, "pattern ");
		put_text(b, pattern);
	}
}

void state_add_file(struct strbuf *b, const char *path, const struct tail_position *pos,
                    bool retired)
{
	if (path[0] == '\0') {
		return; /* cannot be represented; resumes like a new file */
	}
	(void)strbuf_printf(b, "file %llu %llu %u %016llx %llu %d ",
	                    (unsigned long long)pos->id.dev, (unsigned long long)pos->id.ino,
	                    (unsigned)pos->id.fp_len, (unsigned long long)pos->id.fp_hash,
	                    (unsigned long long)pos->offset,
	                    (pos->skipping ? 1 : 0) | (retired ? 2 : 0));
	put_text(b, path);
}

void state_end_source(struct strbuf *b, const char *counters, size_t len)
{
	(void)strbuf_printf(b, "counters %zu\n", len);
	(void)strbuf_append(b, counters, len);
	(void)strbuf_puts(b, "end\n");
}

int state_finish(struct strbuf *b)
{
	if (!b->error) {
		uint64_t h = fnv64(b->data, b->len);
		(void)strbuf_printf(b, "checksum %016llx\n", (unsigned long long)h);
	}
	return b->error;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	int fd, r = 0;

	if (!slash) {
		memcpy(dir, ".", 2);
	} else if (slash == path) {
		memcpy(dir, "/", 2);
	} else if ((size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	} else {
		return -ENAMETOOLONG;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (fsync(fd) < 0) {
		r = -errno;
	}
	close(fd);
	return r;
}

int state_write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4096 + 32];
	int fd, r, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	r = write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0) {
		r = -errno;
	}
	if (close(fd) < 0 && r == 0) {
		r = -errno;
	}
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
	}
	if (r < 0) {
		(void)unlink(tmp);
		return r;
	}
	/* The rename is durable only once the directory is. */
	return fsync_dir_of(path);
}

/* ---- parsing ------------------------------------------------------------ */

struct cursor {
	const char *p;
	const char *end;
	bool raw; /* version 1: text fields are not escaped */
};

/* Next line without its '\n'; -EINVAL when there is no complete line. */
static int next_line(struct cursor *c, const char **ret_line, size_t *ret_len)
{
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));

	if (!nl) {
		return -EINVAL;
	}
	*ret_line = c->p;
	*ret_len = (size_t)(nl - c->p);
	c->p = nl + 1;
	return 0;
}

/* If line starts with "key ", point *ret_rest at what follows. */
static bool take_key(const char *line, size_t len, const char *key, const char **ret_rest,
                     size_t *ret_len)
{
	size_t k = strlen(key);

	if (len <= k + 1 || memcmp(line, key, k) != 0 || line[k] != ' ') {
		return false;
	}
	*ret_rest = line + k + 1;
	*ret_len = len - k - 1;
	return true;
}

/* One space-terminated number from *p (advanced past the space). */
static int take_u64(const char **p, const char *end, unsigned base, bool last, uint64_t *ret)
{
	size_t n = 0;
	int r;

	while (*p + n < end && (*p)[n] != ' ') {
		n++;
	}
	if (n == 0 || n > 20 || (last ? *p + n != end : *p + n == end)) {
		return -EINVAL;
	}
	r = base == 16 ? numparse_hex_u64(*p, n, ret) : numparse_u64(*p, n, ret);
	if (r < 0) {
		return -EINVAL;
	}
	*p += n + (last ? 0 : 1);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode one escape at p[0] == '\\' (see put_text) into *ret; its length,
 * or 0 when malformed (unknown, truncated, or NUL). */
static size_t unescape(const char *p, const char *end, char *ret)
{
	int hi, lo;

	if (end - p >= 2 && (p[1] == '\\' || p[1] == 'n')) {
		*ret = p[1] == 'n' ? '\n' : '\\';
		return 2;
	}
	if (end - p < 4 || p[1] != 'x' || (hi = hex_digit(p[2])) < 0 ||
	    (lo = hex_digit(p[3])) < 0 || (hi | lo) == 0) {
		return 0;
	}
	*ret = (char)(hi << 4 | lo);
	return 4;
}

/* A record's text field, decoded (version 2) or as is (version 1); NULL
 * when empty, malformed, holding a NUL, or out of memory. */
static char *dup_text(const struct cursor *c, const char *p, size_t len)
{
	const char *end = p + len;
	char *s, *w;

	if (len == 0 || memchr(p, '\0', len)) {
		return NULL;
	}
	s = malloc(len + 1);
	if (!s) {
		return NULL;
	}
	if (c->raw) {
		memcpy(s, p, len);
		s[len] = '\0';
		return s;
	}
	for (w = s; p < end; w++) {
		size_t n = 1;
		if (*p == '\\') {
			n = unescape(p, end, w);
		} else if (needs_escape((unsigned char)*p)) {
			n = 0; /* the writer escapes these: not ours */
		} else {
			*w = *p;
		}
		if (n == 0) {
			free(s);
			return NULL;
		}
		p += n;
	}
	*w = '\0';
	return s;
}

static int parse_file(const struct cursor *c, const char *p, size_t len,
                      struct fileset_saved_file *f)
{
	const char *end = p + len;
	uint64_t dev, ino, fl, fh, off, skip;

	if (take_u64(&p, end, 10, false, &dev) < 0 || take_u64(&p, end, 10, false, &ino) < 0 ||
	    take_u64(&p, end, 10, false, &fl) < 0 || take_u64(&p, end, 16, false, &fh) < 0 ||
	    take_u64(&p, end, 10, false, &off) < 0 || take_u64(&p, end, 10, false, &skip) < 0 ||
	    fl > TAIL_FP_MAX || skip > 3 || off > (uint64_t)INT64_MAX) {
		return -EINVAL;
	}
	f->path = dup_text(c, p, (size_t)(end - p));
	if (!f->path) {
		return -EINVAL;
	}
	f->pos.id.dev = dev;
	f->pos.id.ino = ino;
	f->pos.id.fp_len = (uint32_t)fl;
	f->pos.id.fp_hash = fh;
	f->pos.offset = off;
	f->pos.skipping = (skip & 1) != 0;
	f->retired = (skip & 2) != 0;
	return 0;
}

/* Grow an array by one element, within cap. */
static int grow(void **arr, size_t n, size_t size, size_t cap)
{
	void *a;

	if (n >= cap) {
		return -EINVAL;
	}
	a = realloc(*arr, (n + 1) * size);
	if (!a) {
		return -ENOMEM;
	}
	*arr = a;
	memset((char *)a + n * size, 0, size);
	return 0;
}

/* The records of one source, after its "source" line, through "end". */
static int parse_source_body(struct cursor *c, struct state_source *s)
{
	const char *line, *rest;
	size_t len, rlen;
	uint64_t n;
	int r;

	for (;;) {
		if (next_line(c, &line, &len) < 0) {
			return -EINVAL;
		}
		if (take_key(line, len, "pattern", &rest, &rlen)) {
			r = grow((void **)&s->patterns, s->n_patterns, sizeof(char *),
			         STATE_MAX_PATTERNS);
			if (r < 0) {
				return r;
			}
			s->patterns[s->n_patterns] = dup_text(c, rest, rlen);
			if (!s->patterns[s->n_patterns]) {
				return -EINVAL;
			}
			s->n_patterns++;
		} else if (take_key(line, len, "file", &rest, &rlen)) {
			r = grow((void **)&s->files, s->n_files, sizeof(*s->files),
			         STATE_MAX_FILES);
			if (r < 0 || (r = parse_file(c, rest, rlen, &s->files[s->n_files])) < 0) {
				return r;
			}
			s->n_files++;
		} else if (take_key(line, len, "counters", &rest, &rlen)) {
			if (take_u64(&rest, rest + rlen, 10, true, &n) < 0 ||
			    n > (uint64_t)(c->end - c->p)) {
				return -EINVAL;
			}
			s->counters = malloc((size_t)n + 1);
			if (!s->counters) {
				return -ENOMEM;
			}
			memcpy(s->counters, c->p, (size_t)n);
			s->counters[n] = '\0';
			s->counters_len = (size_t)n;
			c->p += n;
			if (next_line(c, &line, &len) < 0 || len != 3 ||
			    memcmp(line, "end", 3) != 0) {
				return -EINVAL;
			}
			return 0;
		} else {
			return -EINVAL;
		}
	}
}

static int parse_body(struct cursor *c, struct state *st)
{
	const char *line, *rest;
	size_t len, rlen;
	int r;

	while (c->p < c->end) {
		if (next_line(c, &line, &len) < 0 || !take_key(line, len, "source", &rest, &rlen)) {
			return -EINVAL;
		}
		r = grow((void **)&st->sources, st->n_sources, sizeof(*st->sources),
		         STATE_MAX_SOURCES);
		if (r < 0) {
			return r;
		}
		struct state_source *s = &st->sources[st->n_sources++];
		s->name = dup_text(c, rest, rlen);
		if (!s->name) {
			return -EINVAL;
		}
		for (size_t i = 0; i + 1 < st->n_sources; i++) {
			if (strcmp(st->sources[i].name, s->name) == 0) {
				return -EINVAL;
			}
		}
		r = parse_source_body(c, s);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

/* Split off and verify the checksum line; *ret_len is the signed length. */
static int check_sum(const char *data, size_t len, size_t *ret_len)
{
	static const char key[] = "checksum ";
	const size_t line_len = sizeof(key) - 1 + 16 + 1;
	const char *p;
	uint64_t want;

	if (len < line_len || data[len - 1] != '\n') {
		return -EINVAL;
	}
	p = data + len - line_len;
	if (memcmp(p, key, sizeof(key) - 1) != 0 || (p != data && p[-1] != '\n')) {
		return -EINVAL;
	}
	p += sizeof(key) - 1;
	if (take_u64(&p, data + len - 1, 16, true, &want) < 0 ||
	    fnv64(data, len - line_len) != want) {
		return -EINVAL;
	}
	*ret_len = len - line_len;
	return 0;
}

int state_parse(const char *data, size_t len, struct state **ret_state)
{
	struct state *st;
	struct cursor c;
	size_t body;
	int r;

	if (len > STATE_MAX_BYTES || len < MAGIC_LEN ||
	    (memcmp(data, MAGIC, MAGIC_LEN) != 0 && memcmp(data, MAGIC_V1, MAGIC_LEN) != 0) ||
	    check_sum(data, len, &body) < 0) {
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		return -ENOMEM;
	}
	c.p = data + MAGIC_LEN;
	c.end = data + body;
	c.raw = memcmp(data, MAGIC_V1, MAGIC_LEN) == 0;
	if (c.p > c.end) {
		r = -EINVAL;
		goto fail;
	}
	r = parse_body(&c, st);
	if (r < 0) {
		goto fail;
	}
	*ret_state = st;
	return 0;
fail:
	state_destroy(st);
	return r;
}

int state_load(const char *path, struct state **ret_state)
{
	struct stat stt;
	char *data = NULL;
	size_t got = 0;
	int fd, r;

	/* O_NONBLOCK: a FIFO put there must not block the start (refused below). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &stt) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(stt.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (stt.st_size > (off_t)STATE_MAX_BYTES) {
		r = -EFBIG;
		goto out;
	}
	data = malloc((size_t)stt.st_size + 1);
	if (!data) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)stt.st_size) {
		ssize_t n = read(fd, data + got, (size_t)stt.st_size - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			r = n < 0 ? -errno : -EINVAL;
			goto out;
		}
		got += (size_t)n;
	}
	r = state_parse(data, got, ret_state);
	if (r == 0) {
		/* Written whole at every checkpoint: its mtime is the checkpoint's time. */
		int64_t at = (int64_t)stt.st_mtim.tv_sec * 1000000000 + stt.st_mtim.tv_nsec;
		for (size_t i = 0; i < (*ret_state)->n_sources; i++) {
			(*ret_state)->sources[i].saved_at_ns = at;
		}
	}
out:
	free(data);
	close(fd);
	return r;
}

const struct state_source *state_find_source(const struct state *st, const char *name)
{
	for (size_t i = 0; st && i < st->n_sources; i++) {
		if (strcmp(st->sources[i].name, name) == 0) {
			return &st->sources[i];
		}
	}
	return NULL;
}

void state_destroy(struct state *st)
{
	if (!st) {
		return;
	}
	for (size_t i = 0; i < st->n_sources; i++) {
		struct state_source *s = &st->sources[i];
		for (size_t k = 0; k < s->n_patterns; k++) {
			free(s->patterns[k]);
		}
		for (size_t k = 0; k < s->n_files; k++) {
			free(s->files[k].path);
		}
		free(s->patterns);
		free(s->files);
		free(s->counters);
		free(s->name);
	}
	free(st->sources);
	free(st);
}

int state_check_path(const char *path, char *why, size_t why_size)
{
	static const struct {
		mode_t type;
		const char *name;
	} kinds[] = {
	    {S_IFDIR, "a directory"},    {S_IFIFO, "a FIFO (named pipe)"},
	    {S_IFSOCK, "a socket"},      {S_IFCHR, "a character device"},
	    {S_IFBLK, "a block device"},
	};
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT) {
			return 0;
		}
		int r = -errno;
		(void)snprintf(why, why_size, "%s", strerror(-r));
		return r;
	}
	if (S_ISREG(st.st_mode)) {
		return 0;
	}
	(void)snprintf(why, why_size, "not a regular file");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if ((st.st_mode & S_IFMT) == kinds[i].type) {
			(void)snprintf(why, why_size, "%s, not a regular file", kinds[i].name);
		}
	}
	return -EINVAL;
}

/* Why data is not a loadable checkpoint, in words (see state_explain). */
static const char *explain_data(const char *data, size_t len)
{
	static const char prefix[] = "accesslog-state ";
	size_t body;

	if (len == 0) {
		return "the file is empty (truncated?)";
	}
	if (len < sizeof(prefix) - 1 || memcmp(data, prefix, sizeof(prefix) - 1) != 0) {
		return "not a state file of this exporter (it does not start with "
		       "'accesslog-state')";
	}
	if (len < MAGIC_LEN ||
	    (memcmp(data, MAGIC, MAGIC_LEN) != 0 && memcmp(data, MAGIC_V1, MAGIC_LEN) != 0)) {
		return "written in another state file version (this exporter reads versions 1 "
		       "and 2)";
	}
	const char *last = len > 1 ? memrchr(data, '\n', len - 1) : NULL;
	if (data[len - 1] != '\n' || !last || strncmp(last + 1, "checksum ", 9) != 0) {
		return "truncated: no checksum line at the end (a write cut short)";
	}
	if (check_sum(data, len, &body) < 0) {
		return "checksum mismatch (the file was changed or damaged after it was written)";
	}
	return "malformed content behind a valid checksum (written by another program?)";
}

int state_explain(const char *path, char *why, size_t why_size)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd = -1, r = 0;

	if (stat(path, &st) < 0) {
		(void)snprintf(why, why_size, "%s", strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(why, why_size, "not a regular file%s",
		               S_ISDIR(st.st_mode) ? " (a directory)" : "");
		return 0;
	}
	if (st.st_size > (off_t)STATE_MAX_BYTES) {
		(void)snprintf(why, why_size, "larger than the %u-byte cap of a state file",
		               (unsigned)STATE_MAX_BYTES);
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	data = malloc((size_t)st.st_size + 1);
	if (fd < 0 || !data) {
		r = fd < 0 ? -errno : -ENOMEM;
		(void)snprintf(why, why_size, "%s", strerror(-r));
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		got += (size_t)n;
	}
	(void)snprintf(why, why_size, "%s", explain_data(data, got));
out:
	free(data);
	if (fd >= 0) {
		close(fd);
	}
	return r;
}
