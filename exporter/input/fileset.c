/*
 * fileset.c - discovery and rotation for the files of one source (see
 * fileset.h).
 *
 * Each poll: (1) every active file's path is stat'ed; a path that no
 * longer names the file we hold retires it (rotation) and asks for a
 * rescan; (2) literal paths that have no file yet are stat'ed every poll,
 * globs are expanded (glob(3), sorted, so which files a cap leaves out is
 * deterministic: the last names in byte order, as the process never calls
 * setlocale) every rescan_ms or right after a rotation; a new identity is
 * opened from 0; (3) every tracked file is
 * read; (4) retired files idle for the grace period are closed.  Steady
 * state costs one stat and one fstat per file per poll.
 *
 * Open errors (EACCES...) are counted as read errors and retried: a
 * literal path once per second, a glob match at the next rescan; the log
 * line about them is rate-limited per source.  The number of tracked files
 * is capped; files over the cap are counted per scan, logged with their
 * number (rate-limited) and ignored.
 *
 * For --once, fileset_report says why the counts may be incomplete: a
 * literal path that names no readable regular file, a file that failed to
 * open or read, files left out by the cap (errors), a glob matching nothing
 * (a warning).  Rejected for --once: reading over-cap files in batches
 * (closing read files and remembering their identities so a symlink or a
 * second pattern is not read twice): more code and state for a case better
 * served by splitting the source; the cap makes --once fail loudly instead.
 *
 * Gauges (cb->file): a literal path always has one (1 open, 0 missing or
 * rotated away); a path found by a glob has one only while a followed file
 * is known by it: removed (file_gone) when its file is gone, renamed to
 * another matched name or closed after retiring, so dated rotations do not
 * pile up series.
 *
 * At start, a checkpointed file is resumed only if its saved path is still
 * covered by a pattern; the saved path, not the file's current name, is
 * what is checked: access.log renamed to access.log.1 while we were down is
 * the configured access.log's file and is drained, a file of a path no
 * longer configured is dropped.  Then the catch-up (section below): the
 * rotation chain of every checkpointed path is read before the live files,
 * gzip members through zfile.  copytruncate's copies are known by their
 * first bytes (copymatch.c): a glob that matches a copy leaves it alone
 * until the truncate (is_pending_copy), the truncate reads the copy from
 * where we were (recover_copy: copymatch_recover finds it, this file
 * follows it), and a file appearing later with the first bytes of a
 * truncated file resumes where that file was read to.  Compressed data is
 * never read as lines: files a pattern matches are checked by name and
 * magic bytes and skipped (--once reads gzip).
 *
 * Every file opened is also handed to the descriptor holder (fdstore.h,
 * when the daemon has one) and let go when closed; at start a checkpointed
 * file deleted while we were down is taken back from it (find_kept), even
 * once its writer has closed it.
 *
 * inotify (dirwatch.c) watches the directories of the patterns (re-added
 * at each rescan, so a directory created later is watched too): the daemon
 * sleeps on fileset_wait_fd, and a name created in or moved into a watched
 * directory that a glob matches is considered at the next poll, not at the
 * next rescan, so a file that lives less than the rescan period is read
 * (dir_event).  Lost events ask for a rescan.  Without inotify (NFS, no
 * instances or watches left; logged once) the rescan finds new files and
 * the 100 ms idle poll reads them.
 *
 * Rejected: identity by name or by realpath alone (breaks on rename
 * rotation and hard links), closing a rotated file as soon as it reaches
 * EOF (nginx writes to it until it reopens: those lines would be lost),
 * inotify as the source of truth (misses events on NFS and overflows),
 * reading catch-up files alongside the live ones (rotation order is what
 * the checkpoint and the logs describe; the limit bounds the wait), and
 * splitting the catch-up into its own module (it needs the entries, their
 * claims and the scan's dedupe: a private header would expose all of it),
 * and for the same reason splitting discovery (patterns, globs, inotify)
 * from following: consider() needs the entries, the cap, the skipped and
 * the compressed files and the start claims.  The copy matching has no
 * such ties and lives in copymatch.c behind a sink of four calls.
 */
#include "exporter/input/fileset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter/log.h"
#include "exporter/input/fdlimit.h"
#include "exporter/input/fdstore.h"
#include "exporter/input/container.h"
#include "exporter/input/copymatch.h"
#include "exporter/input/dirwatch.h"
#include "exporter/input/rotchain.h"
#include "exporter/input/zfile.h"
#include "parsers/numparse.h"

#define RETRY_MS 1000u
#define LOG_EVERY_MS 60000u
#define DIR_SCAN_MAX 100000u
#define ZFILE_BUDGET (16u * 1024u * 1024u) /* uncompressed bytes per poll */

struct pattern {
	char *text;
	bool is_glob;
	bool was_saved;       /* in the checkpoint's pattern list */
	bool missing_logged;  /* "missing" gauge sent */
	bool matched_none;    /* glob: matched nothing at the last scan */
	int last_err;         /* literal: why it has no file (errno), 0 once opened */
	uint64_t retry_at_ms; /* after an open error (literal paths) */
	int glob_err;         /* glob: errno reading its directory at the last scan */
	size_t matches;       /* glob: names matched at the last scan */
	int announced;        /* state last logged: 0 none, 1 has files, -errno */
};

struct entry {
	struct tail_file *tf;
	bool retiring;
	uint32_t seq; /* > 0: a catch-up file not read to its end yet (reading order) */
	uint64_t idle_since_ms;
	uint64_t last_offset;
	uint64_t last_data_ms; /* monotonic time the offset last moved; 0: not since open */
};

struct fileset {
	char *name;
	struct pattern *patterns;
	size_t n_patterns;
	struct entry *entries;
	size_t n_entries;
	size_t max_files;
	unsigned rescan_ms;
	unsigned grace_ms;
	struct tail_scratch *scratch;
	struct tail_callbacks cb;
	void (*file_gone)(void *userdata, const char *path);
	uint64_t next_rescan_ms;
	bool rescan_now;
	bool literal_missing; /* some literal path has no open file */
	uint64_t next_log_ms;
	struct dirwatch *watch;  /* NULL: none (--once, or unavailable) */
	struct fdstore *fdstore; /* borrowed; NULL: descriptors are not kept */
	bool watch_logged;       /* a directory could not be watched (logged once) */
	bool from_start;
	size_t line_cap; /* of the lines read (wrapped ones for a container source) */
	enum config_container container;
	unsigned container_streams;
	size_t content_cap; /* of unwrapped container lines */
	/* Compressed files being read (catch-up, or --once): */
	struct zentry *zfiles;
	size_t n_zfiles;
	/* Catch-up of rotated files at start (see catch_up): */
	struct tail_callbacks catchup_cb; /* cb, counting lines */
	uint64_t catchup_left;            /* bytes the limit still allows */
	uint64_t catchup_max;
	uint32_t catchup_seq;
	size_t catchup_pending;
	size_t catchup_files;
	size_t catchup_news; /* rotated while down, or compressed since (logged) */
	size_t catchup_skipped;
	uint64_t catchup_lines;
	/* Compressed files matched by a pattern and not read as text: */
	struct skipped *skipped;
	size_t n_skipped;
	uint64_t scan_gen;
	bool skip_logged;
	size_t once_unread; /* --once: compressed files that could not be read */
	char *once_unread_path;
	/* Counted during a scan, kept from the last full (glob) scan: */
	size_t scan_ignored;     /* files over the cap */
	size_t scan_open_errors; /* glob matches that failed to open */
	char *scan_ignored_path; /* the first of them (sorted: the smallest name) */
	char *scan_error_path;
	int scan_error;
	size_t ignored;
	size_t open_errors;
	/* Matches left without a descriptor (fdlimit.h), at the scan running and
	 * at the last full scan: */
	bool scan_full;
	size_t scan_no_fd;
	char *scan_no_fd_path;
	size_t no_fd;
	/* copytruncate's copies, and the truncated files whose copy was not
	 * found yet (copymatch_take_lost): */
	struct copymatch *copies;
	char *ignored_path;
	char *error_path;
	int error;
};

struct zentry {
	struct zfile *zf;
	uint32_t seq; /* as entry.seq; 0: --once */
};

/* A compressed file skipped in follow mode, remembered so it is counted
 * (and its magic read) once: a gzip file never changes, so another size or
 * mtime means another file on a reused inode. */
struct skipped {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	uint64_t gen; /* the last full scan that saw it */
};

enum open_mode {
	OPEN_NEW,     /* appeared while running: from 0 */
	OPEN_INITIAL, /* present at start: end, 0 or the checkpoint */
};

/* start_ctx.claimed[i]: what became of saved file i at start. */
enum {
	CLAIM_NONE,
	CLAIM_SAME,      /* found by identity, resumed */
	CLAIM_TRUNCATED, /* its inode was truncated (copytruncate): a copy may hold the rest */
};

struct start_ctx {
	bool from_start;
	const struct fileset_saved *saved;
	unsigned char *claimed;
};

static void emit(struct fileset *fs, enum tail_event ev, uint64_t n)
{
	if (fs->cb.event) {
		fs->cb.event(fs->cb.userdata, ev, n);
	}
}

static void file_gauge(struct fileset *fs, const char *path, bool open)
{
	if (fs->cb.file) {
		fs->cb.file(fs->cb.userdata, path, open);
	}
}

/* Whether path is one of the literal patterns (its gauge is configured). */
static bool is_literal(const struct fileset *fs, const char *path)
{
	for (size_t i = 0; i < fs->n_patterns; i++) {
		if (!fs->patterns[i].is_glob && strcmp(fs->patterns[i].text, path) == 0) {
			return true;
		}
	}
	return false;
}

/* Whether path is covered by a pattern: a literal one equal to it, or a
 * glob matching it the way glob(3) would. */
static bool is_covered(const struct fileset *fs, const char *path)
{
	for (size_t i = 0; i < fs->n_patterns; i++) {
		const struct pattern *p = &fs->patterns[i];
		if (p->is_glob ? fnmatch(p->text, path, FNM_PATHNAME | FNM_PERIOD) == 0
		               : strcmp(p->text, path) == 0) {
			return true;
		}
	}
	return false;
}

/* self stops being known by its path (gone from a glob, renamed, closed):
 * drop the path's gauge unless a literal pattern names it or another active
 * (not retiring) file is known by it.  Reads no retiring entry's path. */
static void release_path(struct fileset *fs, const struct entry *self)
{
	const char *path = tail_file_path(self->tf);

	if (!fs->file_gone || is_literal(fs, path)) {
		return;
	}
	for (size_t i = 0; i < fs->n_entries; i++) {
		const struct entry *e = &fs->entries[i];
		if (e != self && !e->retiring && strcmp(tail_file_path(e->tf), path) == 0) {
			return;
		}
	}
	fs->file_gone(fs->cb.userdata, path);
}

static bool log_due(struct fileset *fs, uint64_t now_ms)
{
	if (now_ms < fs->next_log_ms) {
		return false;
	}
	fs->next_log_ms = now_ms + LOG_EVERY_MS;
	return true;
}

static void open_error(struct fileset *fs, const char *path, int err, uint64_t now_ms)
{
	emit(fs, TAIL_EV_READ_ERROR, (uint64_t)err);
	if (log_due(fs, now_ms)) {
		log_warn("cannot read log file (retrying; further errors counted in "
		         "accesslog_log_read_errors_total)",
		         "source", fs->name, "path", path, "error", strerror(err));
	}
}

static bool has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Callbacks of catch-up files: the source's, counting lines for the log. */
static void catchup_line(void *ud, const char *line, size_t len)
{
	struct fileset *fs = ud;

	fs->catchup_lines++;
	fs->cb.line(fs->cb.userdata, line, len);
}

static void catchup_event(void *ud, enum tail_event ev, uint64_t n)
{
	emit(ud, ev, n);
}

static void catchup_from(void *ud, const char *path)
{
	struct fileset *fs = ud;

	if (fs->cb.from) {
		fs->cb.from(fs->cb.userdata, path);
	}
}

int fileset_create(const struct fileset_options *o, const struct tail_callbacks *cb,
                   struct fileset **ret_fileset)
{
	struct fileset *fs;

	if (!o->n_patterns) {
		return -EINVAL;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs) {
		return -ENOMEM;
	}
	fs->cb = *cb;
	fs->file_gone = o->file_gone;
	fs->max_files = o->max_files ? o->max_files : FILESET_DEFAULT_MAX_FILES;
	fs->rescan_ms = o->rescan_ms ? o->rescan_ms : FILESET_DEFAULT_RESCAN_MS;
	fs->grace_ms = o->retire_grace_ms ? o->retire_grace_ms : FILESET_DEFAULT_GRACE_MS;
	fs->name = strdup(o->name ? o->name : "");
	fs->patterns = calloc(o->n_patterns, sizeof(*fs->patterns));
	fs->entries = calloc(fs->max_files, sizeof(*fs->entries));
	fs->container = o->container;
	fs->container_streams = o->container_streams;
	fs->content_cap = o->line_cap;
	fs->line_cap = o->container ? container_wrapped_cap(o->line_cap) : o->line_cap;
	fs->scratch = tail_scratch_create(fs->line_cap);
	fs->catchup_max = FILESET_DEFAULT_CATCHUP_MAX_BYTES;
	fs->catchup_cb = (struct tail_callbacks){
	    .line = catchup_line, .event = catchup_event, .userdata = fs, .from = catchup_from};
	fs->zfiles = calloc(fs->max_files, sizeof(*fs->zfiles));
	fs->skipped = calloc(fs->max_files, sizeof(*fs->skipped));
	fs->copies = copymatch_create(fs->name);
	if (!fs->name || !fs->patterns || !fs->entries || !fs->scratch || !fs->zfiles ||
	    !fs->skipped || !fs->copies) {
		goto fail;
	}
	for (size_t i = 0; i < o->n_patterns; i++) {
		fs->patterns[i].text = strdup(o->patterns[i]);
		if (!fs->patterns[i].text) {
			goto fail;
		}
		fs->patterns[i].is_glob = has_glob_chars(o->patterns[i]);
		fs->n_patterns++;
	}
	*ret_fileset = fs;
	return 0;
fail:
	fileset_destroy(fs);
	return -ENOMEM;
}

/* Close an entry's file; the holder lets go of it (fdstore.h). */
static void close_entry(struct fileset *fs, struct entry *e)
{
	struct tail_position pos;

	tail_file_position(e->tf, &pos);
	fdstore_remove(fs->fdstore, pos.id.dev, pos.id.ino);
	tail_file_destroy(e->tf);
	e->tf = NULL;
}

void fileset_destroy(struct fileset *fs)
{
	if (!fs) {
		return;
	}
	for (size_t i = 0; i < fs->n_entries; i++) {
		close_entry(fs, &fs->entries[i]);
	}
	for (size_t i = 0; i < fs->n_zfiles; i++) {
		zfile_destroy(fs->zfiles[i].zf);
	}
	free(fs->zfiles);
	free(fs->skipped);
	free(fs->once_unread_path);
	for (size_t i = 0; i < fs->n_patterns; i++) {
		free(fs->patterns[i].text);
	}
	dirwatch_destroy(fs->watch);
	tail_scratch_destroy(fs->scratch);
	free(fs->scan_ignored_path);
	free(fs->scan_error_path);
	free(fs->scan_no_fd_path);
	copymatch_destroy(fs->copies);
	free(fs->ignored_path);
	free(fs->error_path);
	free(fs->entries);
	free(fs->patterns);
	free(fs->name);
	free(fs);
}

static struct entry *find_entry(struct fileset *fs, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < fs->n_entries; i++) {
		if (tail_file_is(fs->entries[i].tf, dev, ino)) {
			return &fs->entries[i];
		}
	}
	return NULL;
}

/* Whether a new file a glob matches is copytruncate's copy of a followed
 * file, not truncated yet: its lines are read from that file, and once the
 * truncation is seen recover_copy reads the copy from where we were (cp may
 * still be writing it now, and the file goes on growing until truncated:
 * reading both would count lines twice). */
static bool is_pending_copy(struct fileset *fs, const char *path, int fd, const struct stat *st)
{
	struct tail_position pos;

	for (size_t i = 0; i < fs->n_entries; i++) {
		const struct entry *e = &fs->entries[i];
		if (e->retiring) {
			continue;
		}
		tail_file_position(e->tf, &pos);
		if (copymatch_is_pending(path, fd, st, tail_file_path(e->tf), &pos)) {
			return true;
		}
	}
	return false;
}

/* Where a file present at start begins (see fileset_start). */
static void initial_position(struct fileset *fs, const struct pattern *p, const char *path, int fd,
                             const struct stat *st, const struct start_ctx *sx,
                             uint64_t *ret_offset, bool *ret_skipping)
{
	*ret_offset = 0;
	*ret_skipping = false;
	for (size_t i = 0; sx->saved && i < sx->saved->n_files; i++) {
		const struct fileset_saved_file *sf = &sx->saved->files[i];
		if (sx->claimed[i]) {
			continue;
		}
		switch (tail_identity_match(fd, st, &sf->pos)) {
		case TAIL_MATCH_SAME:
			sx->claimed[i] = CLAIM_SAME;
			*ret_offset = sf->pos.offset;
			*ret_skipping = sf->pos.skipping;
			return;
		case TAIL_MATCH_TRUNCATED:
			sx->claimed[i] = CLAIM_TRUNCATED;
			emit(fs, TAIL_EV_TRUNCATED, 1);
			return;
		case TAIL_MATCH_OTHER:
			break;
		}
	}
	for (size_t i = 0; sx->saved && !sx->from_start && i < sx->saved->n_files; i++) {
		/* copytruncate while we were down, the copy matched by a glob: it
		 * holds what we read of the checkpointed file. */
		const struct fileset_saved_file *sf = &sx->saved->files[i];
		if (sx->claimed[i] != CLAIM_SAME &&
		    copymatch_is_copy(path, fd, st, sf->path, &sf->pos, ret_offset)) {
			sx->claimed[i] = CLAIM_TRUNCATED;
			*ret_skipping = *ret_offset == sf->pos.offset && sf->pos.skipping;
			return;
		}
	}
	if (sx->from_start || (sx->saved && p && p->was_saved)) {
		return; /* --once, or appeared while we were down */
	}
	if (tail_end_offset(fd, (uint64_t)st->st_size, fs->scratch, ret_offset, ret_skipping) < 0) {
		*ret_offset = (uint64_t)st->st_size;
	}
}

static bool is_full(const struct fileset *fs)
{
	return fs->n_entries + fs->n_zfiles >= fs->max_files;
}

/* A container source's file reads through a tap of its own (*ret_tap
 * NULL otherwise), unwrapping lines for cb.  0 or -ENOMEM. */
static int make_tap(const struct fileset *fs, const struct tail_callbacks *cb,
                    struct container_tap **ret_tap)
{
	*ret_tap = NULL;
	if (fs->container == CONFIG_CONTAINER_NONE) {
		return 0;
	}
	return container_tap_create(fs->container, fs->container_streams, fs->content_cap, cb,
	                            ret_tap);
}

/* cb: fs->cb, or fs->catchup_cb for a catch-up file. */
static int add_entry(struct fileset *fs, const char *path, int fd, const struct stat *st,
                     uint64_t offset, bool skipping, bool retiring, uint64_t now_ms,
                     const struct tail_callbacks *cb)
{
	struct entry *e = &fs->entries[fs->n_entries];
	struct container_tap *tap;
	int r = make_tap(fs, cb, &tap);

	if (r == 0) {
		r = tail_file_open(path, fd, st, offset, skipping, cb, &e->tf);
	}
	if (r < 0) {
		container_tap_destroy(tap);
		return r;
	}
	tail_file_set_tap(e->tf, tap);
	fdstore_add(fs->fdstore, fd, (uint64_t)st->st_dev, (uint64_t)st->st_ino);
	e->retiring = retiring;
	e->seq = 0;
	e->idle_since_ms = now_ms;
	e->last_offset = offset;
	fs->n_entries++;
	if (!retiring) {
		file_gauge(fs, path, true);
	}
	char off[24];
	(void)snprintf(off, sizeof(off), "%llu", (unsigned long long)offset);
	log_debug("file opened", "source", fs->name, "path", path, "offset", off);
	return 0;
}

/* A literal path names no regular file we can follow (yet). */
static void missing(struct fileset *fs, struct pattern *p, const char *path, int err,
                    const struct stat *st, uint64_t now_ms)
{
	fs->literal_missing = true;
	if (err == 0) {
		err = S_ISDIR(st->st_mode) ? EISDIR : EINVAL; /* stat worked: not a regular file */
	}
	p->last_err = err;
	if (err != ENOENT && now_ms >= p->retry_at_ms) {
		emit(fs, TAIL_EV_READ_ERROR, (uint64_t)err); /* logged by announce() */
		p->retry_at_ms = now_ms + RETRY_MS;
	}
	if (!p->missing_logged) {
		p->missing_logged = true;
		file_gauge(fs, path, false);
	}
}

/* Whether st is a compressed file skipped before (and still the same file). */
static bool was_skipped(struct fileset *fs, const struct stat *st)
{
	int64_t mtime = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;

	for (size_t i = 0; i < fs->n_skipped; i++) {
		struct skipped *k = &fs->skipped[i];
		if (k->dev == (uint64_t)st->st_dev && k->ino == (uint64_t)st->st_ino &&
		    k->size == (uint64_t)st->st_size && k->mtime_ns == mtime) {
			k->gen = fs->scan_gen;
			return true;
		}
	}
	return false;
}

/* Forget skipped files the last full scan did not see (deleted by logrotate). */
static void prune_skipped(struct fileset *fs)
{
	size_t w = 0;

	for (size_t i = 0; i < fs->n_skipped; i++) {
		if (fs->skipped[i].gen == fs->scan_gen) {
			fs->skipped[w++] = fs->skipped[i];
		}
	}
	fs->n_skipped = w;
}

/* Patterns will not open st (as long as it does not change). */
static void remember_skipped(struct fileset *fs, const struct stat *st)
{
	if (fs->n_skipped < fs->max_files) {
		fs->skipped[fs->n_skipped++] = (struct skipped){
		    (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
		    (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec, fs->scan_gen};
	}
}

static struct zentry *find_z(struct fileset *fs, const struct stat *st)
{
	for (size_t i = 0; i < fs->n_zfiles; i++) {
		if (zfile_is(fs->zfiles[i].zf, (uint64_t)st->st_dev, (uint64_t)st->st_ino)) {
			return &fs->zfiles[i];
		}
	}
	return NULL;
}

/* How the file on fd is compressed: by its name, or by its first bytes
 * (a rotation with a custom extension, or none). */
static enum rotchain_codec codec_of(const char *path, int fd, const struct stat *st)
{
	unsigned char head[ROTCHAIN_MAGIC_MAX];
	enum rotchain_codec c = rotchain_codec_by_name(path);
	ssize_t n;

	if (c != ROTCHAIN_PLAIN || st->st_size == 0) {
		return c;
	}
	n = pread(fd, head, sizeof(head), 0);
	return n > 0 ? rotchain_codec_by_magic(head, (size_t)n) : ROTCHAIN_PLAIN;
}

/* Add a compressed file to read (catch-up with seq > 0, or --once): takes
 * fd on success.  0 or -errno. */
static int add_z(struct fileset *fs, const char *path, int fd, const struct stat *st,
                 uint64_t offset, bool skipping, uint32_t seq)
{
	struct zentry *z = &fs->zfiles[fs->n_zfiles];
	const struct tail_callbacks *cb = seq ? &fs->catchup_cb : &fs->cb;
	struct container_tap *tap;
	int r = make_tap(fs, cb, &tap);

	if (r == 0) {
		r = zfile_open(path, fd, st, offset, skipping, fs->line_cap, cb, &z->zf);
	}
	if (r < 0) {
		container_tap_destroy(tap);
		return r;
	}
	zfile_set_tap(z->zf, tap);
	z->seq = seq;
	fs->n_zfiles++;
	return 0;
}

/*
 * Compressed data is never read as log lines: in follow mode a compressed
 * file a pattern matches (a glob over rotations with compress) is skipped,
 * counted once and logged once per source; --once reads gzip files through
 * zlib.  Returns whether the file was taken care of (fd closed or taken).
 */
static bool compressed(struct fileset *fs, const char *path, int fd, const struct stat *st)
{
	enum rotchain_codec c = codec_of(path, fd, st);

	if (c == ROTCHAIN_PLAIN) {
		return false;
	}
	if (fs->from_start && c == ROTCHAIN_GZIP && !is_full(fs) &&
	    add_z(fs, path, fd, st, 0, false, 0) == 0) {
		return true;
	}
	close(fd);
	if (fs->from_start && !fs->once_unread++) {
		free(fs->once_unread_path);
		fs->once_unread_path = strdup(path);
	}
	remember_skipped(fs, st);
	emit(fs, TAIL_EV_SKIPPED, 1);
	if (!fs->skip_logged) {
		fs->skip_logged = true;
		log_warn(fs->from_start
		             ? "skipping a compressed file the exporter cannot read"
		             : "skipping compressed files matched by a pattern: they are "
		               "not read as log lines (logged once; counted in "
		               "accesslog_log_files_skipped_total)",
		         "source", fs->name, "path", path, "compression", rotchain_codec_name(c));
	}
	return true;
}

/*
 * No descriptor left for a log file (fdlimit.h: the reserve for the server
 * and the state file is never taken).  Counted per full scan and reported
 * by fd_report; retried like an open error: a literal path after RETRY_MS,
 * a glob match at the next rescan (files closed meanwhile make room).
 */
static void no_descriptor(struct fileset *fs, struct pattern *p, const char *path, uint64_t now_ms)
{
	if (fs->scan_full && !fs->scan_no_fd++) {
		free(fs->scan_no_fd_path);
		fs->scan_no_fd_path = strdup(path);
	}
	if (p && !p->is_glob) {
		fs->literal_missing = true;
		p->retry_at_ms = now_ms + RETRY_MS;
	}
}

/* After a full scan: a change in the number of files left without a
 * descriptor is logged (warn while some are, info when none is left), and
 * a rise counts in TAIL_EV_SKIPPED (accesslog_log_files_skipped_total), so
 * the same files left out scan after scan are not counted again. */
static void fd_report(struct fileset *fs)
{
	struct fdlimit_plan plan;
	char n[24], lim[24], res[24];

	if (fs->scan_no_fd == fs->no_fd) {
		return;
	}
	if (fs->scan_no_fd > fs->no_fd) {
		emit(fs, TAIL_EV_SKIPPED, fs->scan_no_fd - fs->no_fd);
	}
	fs->no_fd = fs->scan_no_fd;
	if (!fs->no_fd) {
		log_info("every matched log file is followed again (descriptors available)",
		         "source", fs->name);
		return;
	}
	fdlimit_plan_now(&plan);
	(void)snprintf(n, sizeof(n), "%zu", fs->no_fd);
	(void)snprintf(lim, sizeof(lim), "%llu", (unsigned long long)plan.limit);
	(void)snprintf(res, sizeof(res), "%llu", (unsigned long long)plan.reserve);
	log_warn("log files not followed: no file descriptors left for them (raise LimitNOFILE / "
	         "ulimit -n, or match fewer files); retried at every rescan",
	         "source", fs->name, "files", n, "fd_limit", lim, "reserved", res, "first",
	         fs->scan_no_fd_path ? fs->scan_no_fd_path : "?");
}

/* A path that may name a file to follow; p is the pattern that matched it. */
static void consider(struct fileset *fs, struct pattern *p, const char *path, enum open_mode mode,
                     const struct start_ctx *sx, uint64_t now_ms)
{
	struct stat st;
	struct entry *e;
	uint64_t offset = 0;
	bool skipping = false;
	int fd;
	int sr = stat(path, &st);

	if (sr < 0 || !S_ISREG(st.st_mode)) {
		int err = sr < 0 ? errno : 0;
		if (p && !p->is_glob) {
			missing(fs, p, path, err, &st, now_ms);
		}
		return;
	}
	e = find_entry(fs, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	if (e) {
		if (!e->retiring) {
			return;
		}
		/* Renamed to a name we also match: same file, keep going.  (If
		 * the new name cannot be stored, the next rescan tries again.) */
		release_path(fs, e);
		if (tail_file_set_path(e->tf, path) == 0) {
			e->retiring = false;
			file_gauge(fs, path, true);
		}
		return;
	}
	if (p && now_ms < p->retry_at_ms) {
		fs->literal_missing = true;
		return;
	}
	if (was_skipped(fs, &st)) {
		return;
	}
	if (is_full(fs)) {
		if (!fs->scan_ignored++) {
			free(fs->scan_ignored_path);
			fs->scan_ignored_path = strdup(path);
		}
		return;
	}
	fd = fdlimit_open(AT_FDCWD, path);
	if (fd == -EMFILE || fd == -ENFILE) {
		no_descriptor(fs, p, path, now_ms);
		return;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = fd < 0 ? -fd : errno;
		if (fd >= 0) {
			close(fd);
		}
		if (p && !p->is_glob) {
			fs->literal_missing = true;
			p->last_err = err;
			p->retry_at_ms = now_ms + RETRY_MS;
			if (!p->missing_logged) {
				p->missing_logged = true;
				file_gauge(fs, path, false);
			}
		}
		if (err != ENOENT && p && !p->is_glob) {
			emit(fs, TAIL_EV_READ_ERROR, (uint64_t)err); /* logged by announce() */
		} else if (err != ENOENT) {
			open_error(fs, path, err, now_ms);
			if (p && p->is_glob && !fs->scan_open_errors++) {
				free(fs->scan_error_path);
				fs->scan_error_path = strdup(path);
				fs->scan_error = err;
			}
		}
		return;
	}
	/* Replaced between stat and open: the identity that counts is fstat's. */
	if (find_entry(fs, (uint64_t)st.st_dev, (uint64_t)st.st_ino) || find_z(fs, &st)) {
		close(fd);
		return;
	}
	if (compressed(fs, path, fd, &st)) {
		return; /* skipped (or, for --once, read through zlib): fd taken */
	}
	if (mode == OPEN_INITIAL) {
		initial_position(fs, p, path, fd, &st, sx, &offset, &skipping);
	} else if (!fs->from_start && is_pending_copy(fs, path, fd, &st)) {
		close(fd);
		return;
	} else if (!fs->from_start) {
		(void)copymatch_take_lost(fs->copies, path, fd, &st, &offset, &skipping);
	}
	if (add_entry(fs, path, fd, &st, offset, skipping, false, now_ms, &fs->cb) < 0) {
		close(fd);
		return;
	}
	if (p) {
		p->missing_logged = false;
		p->last_err = 0;
	}
}

/* The directory part of a path or pattern ("." without a slash, "/" for
 * a name at the root): false when too long for dir. */
static bool dir_of(const char *text, char *dir, size_t size)
{
	const char *slash = strrchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : 0;

	if (!slash || len == 0) {
		(void)snprintf(dir, size, "%s", slash ? "/" : ".");
		return true;
	}
	if (len >= size) {
		return false;
	}
	memcpy(dir, text, len);
	dir[len] = '\0';
	return true;
}

/* inotify is missing or a directory cannot be watched (err < 0): say once
 * per source that new files wait for the rescan (ENOENT: the directory is
 * not there yet, watched from the rescan that finds it). */
static void watch_failed(struct fileset *fs, const char *dir, int err)
{
	if (err >= 0 || err == -ENOENT || fs->watch_logged) {
		return;
	}
	fs->watch_logged = true;
	log_warn(err == -ENOSPC || err == -EMFILE
	             ? "cannot watch a log directory for new files: inotify limit reached "
	               "(fs.inotify.max_user_watches / max_user_instances); new files are found "
	               "by the rescan every 5 s"
	             : "cannot watch a log directory for new files; new files are found by the "
	               "rescan every 5 s",
	         "source", fs->name, "directory", dir ? dir : "-", "error", strerror(-err));
}

/* Watch the directory of every pattern whose directory part is literal
 * (adding an existing watch again is harmless). */
static void watch_dirs(struct fileset *fs)
{
	char dir[4096];

	for (size_t i = 0; fs->watch && i < fs->n_patterns; i++) {
		if (dir_of(fs->patterns[i].text, dir, sizeof(dir)) && !has_glob_chars(dir)) {
			watch_failed(fs, dir, dirwatch_add(fs->watch, dir));
		}
	}
}

struct dir_event_ctx {
	struct fileset *fs;
	uint64_t now_ms;
};

/* A name appeared in a watched directory: open it now if a glob of that
 * directory matches it (as glob(3) would: FNM_PATHNAME | FNM_PERIOD). */
static void dir_event(void *ud, const char *dir, const char *name)
{
	struct dir_event_ctx *c = ud;
	struct fileset *fs = c->fs;
	char path[4096], pdir[4096];
	int n = strcmp(dir, ".") == 0 ? snprintf(path, sizeof(path), "%s", name)
	                              : snprintf(path, sizeof(path), "%s%s%s", dir,
	                                         strcmp(dir, "/") == 0 ? "" : "/", name);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		return;
	}
	for (size_t i = 0; i < fs->n_patterns; i++) {
		struct pattern *p = &fs->patterns[i];
		if (p->is_glob && dir_of(p->text, pdir, sizeof(pdir)) && strcmp(pdir, dir) == 0 &&
		    fnmatch(p->text, path, FNM_PATHNAME | FNM_PERIOD) == 0) {
			consider(fs, p, path, OPEN_NEW, NULL, c->now_ms);
			return;
		}
	}
}

/* Open the files that appeared since the last poll; events that were
 * lost ask for a full rescan. */
static void drain_events(struct fileset *fs, uint64_t now_ms)
{
	struct dir_event_ctx c = {fs, now_ms};

	if (fs->watch && dirwatch_read(fs->watch, dir_event, &c)) {
		fs->rescan_now = true;
	}
}

int fileset_wait_fd(const struct fileset *fs)
{
	return fs->watch ? dirwatch_fd(fs->watch) : -1;
}

/* The last full scan's counts become the ones fileset_report reads. */
static void keep_scan_result(struct fileset *fs)
{
	char *t;

	fs->ignored = fs->scan_ignored;
	fs->open_errors = fs->scan_open_errors;
	fs->error = fs->scan_error;
	t = fs->ignored_path;
	fs->ignored_path = fs->scan_ignored ? fs->scan_ignored_path : NULL;
	fs->scan_ignored_path = NULL;
	free(t);
	t = fs->error_path;
	fs->error_path = fs->scan_open_errors ? fs->scan_error_path : NULL;
	fs->scan_error_path = NULL;
	free(t);
}

/* Why a glob that matched nothing may have failed: the errno of opening
 * its deepest literal directory (EACCES, ENOTDIR...), or 0 (it exists and
 * is readable, or is missing: then nothing matches, which is no error). */
static int glob_dir_error(const char *pattern)
{
	char dir[4096];
	const char *wild = strpbrk(pattern, "*?[");
	const char *slash = NULL;
	int err = 0;

	for (const char *c = pattern; wild && c < wild; c++) {
		slash = *c == '/' ? c : slash;
	}
	size_t len = slash ? (size_t)(slash - pattern) : 0;
	if (len >= sizeof(dir)) {
		return 0;
	}
	memcpy(dir, slash ? pattern : ".", slash ? len : 1);
	dir[slash ? len : 1] = '\0';
	if (slash && len == 0) {
		memcpy(dir, "/", 2);
	}
	DIR *d = opendir(dir);
	if (!d) {
		err = errno == ENOENT ? 0 : errno;
	} else {
		closedir(d);
	}
	return err;
}

/* A pattern's state: 1 when it names a file we follow, else -errno. */
static int pattern_state(const struct pattern *p)
{
	if (p->is_glob) {
		return p->glob_err ? -p->glob_err : p->matched_none ? -ENOENT : 1;
	}
	return p->last_err ? -p->last_err : 1;
}

/* Log the patterns whose state changed (missing, unreadable, matching
 * nothing, back again): once per change, never per poll.  A pattern
 * fine at start says nothing (the start-up summary lists it). */
static void announce(struct fileset *fs, bool globs)
{
	char n[24];

	for (size_t i = 0; i < fs->n_patterns; i++) {
		struct pattern *p = &fs->patterns[i];
		if (p->is_glob && !globs) {
			continue;
		}
		if (p->is_glob) {
			(void)snprintf(n, sizeof(n), "%zu", p->matches);
			log_debug("glob rescanned", "source", fs->name, "pattern", p->text,
			          "matches", n);
		}
		int st = pattern_state(p), was = p->announced;
		if (st == was) {
			continue;
		}
		p->announced = st;
		/* --once: fileset_report speaks at the end instead */
		if (fs->from_start || (st > 0 && was == 0)) {
			continue;
		}
		if (st > 0) {
			log_info(p->is_glob ? "files match the pattern now" : "log file appeared",
			         "source", fs->name, p->is_glob ? "pattern" : "path", p->text);
		} else if (p->is_glob && st == -ENOENT) {
			log_warn("no file matches the pattern (rescanned every 5 s)", "source",
			         fs->name, "pattern", p->text);
		} else if (p->is_glob) {
			log_warn("cannot read the directory of the pattern (rescanned every 5 s)",
			         "source", fs->name, "pattern", p->text, "error", strerror(-st));
		} else if (st == -ENOENT) {
			log_warn(was > 0 ? "log file gone; following it again when it reappears"
			                 : "log file missing; following it when it appears",
			         "source", fs->name, "path", p->text);
		} else {
			log_warn("cannot read log file (retrying every second)", "source", fs->name,
			         "path", p->text, "error", strerror(-st));
		}
	}
}

/* Literal paths first, so a file also named by a literal path is known
 * (and its gauge shown) under that name rather than a glob's or a
 * symlink's. */
static void scan(struct fileset *fs, bool globs, enum open_mode mode, const struct start_ctx *sx,
                 uint64_t now_ms)
{
	fs->literal_missing = false;
	fs->scan_ignored = 0;
	fs->scan_open_errors = 0;
	fs->scan_full = globs;
	if (globs) {
		fs->scan_gen++;
		fs->scan_no_fd = 0;
	}
	for (size_t i = 0; i < fs->n_patterns; i++) {
		if (!fs->patterns[i].is_glob) {
			consider(fs, &fs->patterns[i], fs->patterns[i].text, mode, sx, now_ms);
		}
	}
	for (size_t i = 0; globs && i < fs->n_patterns; i++) {
		struct pattern *p = &fs->patterns[i];
		glob_t g;
		if (!p->is_glob) {
			continue;
		}
		memset(&g, 0, sizeof(g));
		p->matched_none = true;
		p->matches = 0;
		if (glob(p->text, 0, NULL, &g) == 0) {
			p->matched_none = g.gl_pathc == 0;
			p->matches = g.gl_pathc;
			for (size_t k = 0; k < g.gl_pathc; k++) {
				consider(fs, p, g.gl_pathv[k], mode, sx, now_ms);
			}
		}
		globfree(&g);
		p->glob_err = p->matched_none ? glob_dir_error(p->text) : 0;
	}
	announce(fs, globs);
	if (fs->scan_ignored && log_due(fs, now_ms)) {
		char n[24], cap[24];
		(void)snprintf(n, sizeof(n), "%zu", fs->scan_ignored);
		(void)snprintf(cap, sizeof(cap), "%zu", fs->max_files);
		log_warn("too many files, ignoring some", "source", fs->name, "ignored", n, "limit",
		         cap, "first_ignored", fs->scan_ignored_path ? fs->scan_ignored_path : "?");
	}
	if (globs) {
		keep_scan_result(fs);
		prune_skipped(fs);
		fd_report(fs);
	}
}

/*
 * A checkpointed file that no matched path names any more was rotated
 * while we were down: look for its identity in its directory (logrotate
 * renames in place) and drain it from the saved offset.  It stays known by
 * its saved path (as a file retired while running is), so a checkpoint taken
 * while it drains still names a configured path.
 */
/* Whether a file followed already (a catch-up file, plain or compressed,
 * included) starts with the bytes fd starts with: the kept file's content
 * is read there.  This happens when the checkpoint has the file empty (no
 * fingerprint to match its compressed copy by) and logrotate compressed it
 * and deleted it while we were down: the catch-up reads the copy from 0,
 * and the deleted file, still open by its writer or kept (fdstore.h), must
 * not be read as well. */
static bool read_elsewhere(const struct fileset *fs, int fd, const struct stat *st)
{
	struct tail_position pos;

	for (size_t i = 0; i < fs->n_entries + fs->n_zfiles; i++) {
		uint32_t len;
		uint64_t hash;
		if (i < fs->n_entries) {
			tail_file_position(fs->entries[i].tf, &pos);
		} else {
			zfile_position(fs->zfiles[i - fs->n_entries].zf, &pos);
		}
		if (pos.id.fp_len && (uint64_t)st->st_size >= pos.id.fp_len &&
		    tail_fingerprint(fd, (uint64_t)st->st_size, pos.id.fp_len, &len, &hash) == 0 &&
		    len == pos.id.fp_len && hash == pos.id.fp_hash) {
			return true;
		}
	}
	return false;
}

/* Resume the checkpointed file sf through fd (shown as path; the
 * fileset's from now on, or closed): checked to be the same file (identity
 * and fingerprint), not compressed, not tracked already, then followed as
 * a retiring file from the checkpointed offset.  True when it is. */
static bool resume_fd(struct fileset *fs, const struct fileset_saved_file *sf, int fd,
                      const char *path, uint64_t now_ms)
{
	struct stat st;

	/* Not a compressed file on the inode of an empty checkpointed one
	 * (reused: an empty file has no fingerprint to tell), nor one the
	 * catch-up reads already. */
	if (fstat(fd, &st) < 0 || tail_identity_match(fd, &st, &sf->pos) != TAIL_MATCH_SAME ||
	    find_z(fs, &st) || codec_of(path, fd, &st) != ROTCHAIN_PLAIN ||
	    read_elsewhere(fs, fd, &st) ||
	    add_entry(fs, sf->path, fd, &st, sf->pos.offset, sf->pos.skipping, true, now_ms,
	              &fs->cb) < 0) {
		close(fd);
		return false;
	}
	if (!sf->retired) {
		/* A rotation seen before the checkpoint is in the restored counter. */
		emit(fs, TAIL_EV_ROTATED, 1);
	}
	return true;
}

/* resume_fd on the file name (relative to dirfd). */
static bool resume_as(struct fileset *fs, const struct fileset_saved_file *sf, int dirfd,
                      const char *name, const char *path, uint64_t now_ms)
{
	int fd = fdlimit_open(dirfd, name);

	if (fd < 0) {
		open_error(fs, path, -fd, now_ms);
		return false;
	}
	return resume_fd(fs, sf, fd, path, now_ms);
}

/* Whether st is the checkpointed file sf and not followed already. */
static bool is_saved_file(struct fileset *fs, const struct fileset_saved_file *sf,
                          const struct stat *st)
{
	return S_ISREG(st->st_mode) && (uint64_t)st->st_ino == sf->pos.id.ino &&
	       (uint64_t)st->st_dev == sf->pos.id.dev &&
	       !find_entry(fs, (uint64_t)st->st_dev, (uint64_t)st->st_ino) && !is_full(fs);
}

/* A checkpointed file deleted while we were down lives on as long as a
 * writer holds it open (the server appends to it until it reopens its log):
 * look for it among the open descriptors of every process we may inspect
 * (/proc/PID/fd/N, which opens the deleted file itself; the same user or
 * root).  Bounded: PROC_SCAN_MAX descriptors.  Only files with no name
 * left (st_nlink 0): a named one is found by its directory.
 *
 * Once the writer has closed it too, only a descriptor kept outside the
 * process (find_kept, fdstore.h) still reaches it.
 *
 * Rejected: checkpointing on every deletion (lines written after it are
 * still lost). */
#define PROC_SCAN_MAX 200000u

static bool find_deleted(struct fileset *fs, const struct fileset_saved_file *sf, uint64_t now_ms)
{
	DIR *procs = opendir("/proc");
	struct dirent *pe;
	size_t seen = 0;
	bool found = false;

	while (procs && !found && seen < PROC_SCAN_MAX && (pe = readdir(procs)) != NULL) {
		char fddir[64];
		DIR *fds;
		struct dirent *fe;
		uint64_t pid;

		if (numparse_u64(pe->d_name, strlen(pe->d_name), &pid) < 0 ||
		    pid == (uint64_t)getpid()) {
			continue; /* not a process, or our own descriptors */
		}
		snprintf(fddir, sizeof(fddir), "/proc/%.20s/fd", pe->d_name);
		fds = opendir(fddir); /* EACCES: another user's process */
		while (fds && !found && seen++ < PROC_SCAN_MAX && (fe = readdir(fds)) != NULL) {
			struct stat st;
			char path[128];

			if (fe->d_name[0] == '.' || fstatat(dirfd(fds), fe->d_name, &st, 0) < 0 ||
			    st.st_nlink != 0 || !is_saved_file(fs, sf, &st)) {
				continue;
			}
			snprintf(path, sizeof(path), "%s/%.20s", fddir, fe->d_name);
			if (resume_as(fs, sf, dirfd(fds), fe->d_name, path, now_ms)) {
				log_info("resuming a deleted file still open by a writer", "source",
				         fs->name, "saved_path", sf->path, "via", path);
				found = true;
			}
		}
		if (fds) {
			closedir(fds);
		}
	}
	if (procs) {
		closedir(procs);
	}
	return found;
}

/* A checkpointed file whose descriptor the holder kept (fdstore.h): the
 * way to a file deleted while we were down even when its writer has closed
 * it.  Read from the checkpoint's offset like any resumed file. */
static bool find_kept(struct fileset *fs, const struct fileset_saved_file *sf, uint64_t now_ms)
{
	struct stat st;
	int fd = fdstore_take(fs->fdstore, sf->pos.id.dev, sf->pos.id.ino);

	if (fd < 0) {
		return false;
	}
	if (fstat(fd, &st) < 0 || !is_saved_file(fs, sf, &st)) {
		close(fd);
		return false;
	}
	if (!resume_fd(fs, sf, fd, sf->path, now_ms)) {
		return false;
	}
	log_info("resuming a file through its kept descriptor", "source", fs->name, "saved_path",
	         sf->path, "holder", fdstore_kind(fs->fdstore), "links",
	         st.st_nlink ? "some" : "none (deleted)");
	return true;
}

static void find_rotated(struct fileset *fs, const struct fileset_saved_file *sf, uint64_t now_ms)
{
	char dir[4096];
	DIR *d;
	struct dirent *de;
	size_t seen = 0;
	bool found = false;

	if (!dir_of(sf->path, dir, sizeof(dir))) {
		return;
	}
	d = opendir(dir);
	while (d && !found && (de = readdir(d)) != NULL && seen++ < DIR_SCAN_MAX) {
		struct stat st;
		char path[4096 + 256];
		int n;

		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !is_saved_file(fs, sf, &st)) {
			continue;
		}
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    !resume_as(fs, sf, dirfd(d), de->d_name, path, now_ms)) {
			continue;
		}
		log_info("resuming a rotated file", "source", fs->name, "path", path, "saved_path",
		         sf->path);
		found = true;
	}
	if (d) {
		closedir(d);
	}
	if (!found) {
		found = find_kept(fs, sf, now_ms) || find_deleted(fs, sf, now_ms);
	}
	if (!found && sf->retired) {
		log_info("a rotated file is gone (it had been idle or drained)", "source", fs->name,
		         "path", sf->path);
	} else if (!found) {
		log_warn("a checkpointed file is gone; lines written to it after the checkpoint "
		         "cannot be counted",
		         "source", fs->name, "path", sf->path);
	}
}

/* ---- catch-up of rotated files ------------------------------------------
 *
 * At start with a checkpoint, the rotation chain of every checkpointed path
 * (rotchain.h) is read in rotation order: the checkpointed files from their
 * offsets, files rotated after them from 0; the live files wait until the
 * catch-up is done.  Compressed members are read through zlib.  Every
 * catch-up file is in the checkpoints from the start (at its offset), so a
 * crash during the catch-up resumes it.
 */
static const char *const skip_reasons[] = {
    [ROTCHAIN_SKIP_LIMIT] = "over the catch-up limit (--state.catch-up-max-bytes)",
    [ROTCHAIN_SKIP_CODEC] = "compressed with a codec the exporter cannot read (only gzip)",
    [ROTCHAIN_SKIP_COPY] = "a compressed copy of an uncompressed file that is read instead",
};

/* Which checkpointed file member m is: -1 when none.  A plain file by its
 * identity, or by its first bytes when the checkpointed file was not found
 * whole (copytruncate copies it to a new inode: for files checkpointed
 * under base only); a compressed one (a new inode) by the fingerprint of
 * its first uncompressed bytes, whatever name it was checkpointed under (a
 * glob follows access.log.1 by that name until it is compressed). */
static long match_saved(const struct start_ctx *sx, const char *base,
                        const struct rotchain_member *m)
{
	const struct fileset_saved *saved = sx->saved;
	struct stat st;
	long found = -1;
	int fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || fstat(fd, &st) < 0) {
		goto out;
	}
	for (size_t i = 0; i < saved->n_files && found < 0; i++) {
		const struct fileset_saved_file *sf = &saved->files[i];
		bool by_content = sx->claimed[i] != CLAIM_SAME && strcmp(sf->path, base) == 0;
		if (copymatch_member_is(fd, &st, m->key.codec, &sf->pos, by_content)) {
			found = (long)i;
		}
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	return found;
}

/* Whether the file now at base is a checkpointed one (claimed by the scan)
 * with a fingerprint: an empty one's inode may have been reused. */
static bool current_saved(const struct start_ctx *sx, const char *base)
{
	struct stat st;

	if (stat(base, &st) < 0) {
		return false;
	}
	for (size_t i = 0; i < sx->saved->n_files; i++) {
		const struct tail_identity *id = &sx->saved->files[i].pos.id;
		if (sx->claimed[i] && id->fp_len && id->dev == (uint64_t)st.st_dev &&
		    id->ino == (uint64_t)st.st_ino) {
			return true;
		}
	}
	return false;
}

static void log_member(const struct fileset *fs, const char *msg, const struct rotchain_member *m,
                       uint64_t offset)
{
	char off[24];

	(void)snprintf(off, sizeof(off), "%llu", (unsigned long long)offset);
	log_info(msg, "source", fs->name, "path", m->path, "offset", off, "compression",
	         rotchain_codec_name(m->key.codec));
}

/* Open a member to read (READ or RESUME) as a catch-up file known as base. */
static void catch_up_member(struct fileset *fs, const struct start_ctx *sx, const char *base,
                            const struct rotchain_member *m, uint64_t now_ms)
{
	const struct fileset_saved_file *sf = m->saved >= 0 ? &sx->saved->files[m->saved] : NULL;
	uint64_t offset = sf ? sf->pos.offset : 0;
	bool skipping = sf ? sf->pos.skipping : false;
	struct stat st;
	int r = -EMFILE;
	int fd;

	if (find_entry(fs, m->dev, m->ino) || is_full(fs)) {
		return; /* followed already (a glob matches it), or no room (logged by scans) */
	}
	fd = fdlimit_open(AT_FDCWD, m->path);
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_ino != m->ino || find_z(fs, &st)) {
		r = fd < 0 ? fd : 0;
		goto fail;
	}
	if (m->key.codec == ROTCHAIN_PLAIN) {
		r = add_entry(fs, base, fd, &st, offset, skipping, true, now_ms, &fs->catchup_cb);
		if (r == 0) {
			fs->entries[fs->n_entries - 1].seq = ++fs->catchup_seq;
		}
	} else {
		r = add_z(fs, base, fd, &st, offset, skipping, ++fs->catchup_seq);
	}
	if (r < 0) {
		goto fail;
	}
	fs->catchup_pending++;
	fs->catchup_files++;
	if (sf && sf->retired && m->key.codec == ROTCHAIN_PLAIN) {
		/* Still draining at the checkpoint: it simply goes on. */
		log_member(fs, "resuming a rotated file", m, offset);
		return;
	}
	if (!sf || !sf->retired) {
		/* Rotated while we were down (a rotation seen before the checkpoint is
		 * in the restored counter). */
		emit(fs, TAIL_EV_ROTATED, 1);
	}
	fs->catchup_news++;
	log_member(fs,
	           sf ? "catching up: resuming a rotated file"
	              : "catching up: reading a file "
	                "rotated while the exporter was down",
	           m, offset);
	return;
fail:
	if (fd >= 0) {
		close(fd);
	}
	if (r < 0) {
		open_error(fs, m->path, -r, now_ms);
	}
}

/* The rotation chain of one checkpointed path. */
static void catch_up_chain(struct fileset *fs, const struct start_ctx *sx, const char *base,
                           uint64_t now_ms)
{
	struct rotchain_member *m = NULL;
	size_t n = 0;
	struct rotchain_plan_options o = {
	    .current_saved = current_saved(sx, base),
	    .saved_at_ns = sx->saved->saved_at_ns,
	    .max_bytes = fs->catchup_left,
	};

	if (rotchain_list(base, &m, &n) < 0) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		m[i].saved = match_saved(sx, base, &m[i]);
		if (m[i].saved >= 0) {
			m[i].offset = sx->saved->files[m[i].saved].pos.offset;
			m[i].weak = sx->saved->files[m[i].saved].pos.id.fp_len == 0;
			/* Found here: find_rotated must not drain it as well. */
			sx->claimed[m[i].saved] = CLAIM_SAME;
		}
	}
	fs->catchup_left -= rotchain_plan(m, n, &o);
	for (size_t i = 0; i < n; i++) {
		enum rotchain_action a = m[i].action;
		if (a == ROTCHAIN_READ || a == ROTCHAIN_RESUME) {
			catch_up_member(fs, sx, base, &m[i], now_ms);
		} else if (a != ROTCHAIN_SKIP_OLDER) {
			if (a != ROTCHAIN_SKIP_COPY) {
				fs->catchup_skipped++;
				emit(fs, TAIL_EV_SKIPPED, 1);
			}
			log_warn("catching up: not reading a rotated file", "source", fs->name,
			         "path", m[i].path, "reason", skip_reasons[a]);
		}
	}
	rotchain_free(m, n);
}

/* The chains to catch up, each once: n paths (copied) in b. */
struct bases {
	char **path;
	size_t n, cap;
};

static void add_base(struct bases *b, const char *path)
{
	for (size_t i = 0; i < b->n; i++) {
		if (strcmp(b->path[i], path) == 0) {
			return;
		}
	}
	if (b->n < b->cap && (b->path[b->n] = strdup(path)) != NULL) {
		b->n++;
	}
}

/* Every checkpointed path still covered and the path it is a rotated copy
 * of (a glob like access.log* follows access.log.1 by that name: its
 * content is in access.log's chain once compressed), and every literal
 * pattern that was in the checkpoint (its file may have appeared and
 * rotated while down). */
static void catch_up(struct fileset *fs, const struct start_ctx *sx, uint64_t now_ms)
{
	const struct fileset_saved *saved = sx->saved;
	struct bases b = {.cap = saved->n_files * 2 + saved->n_patterns};
	char files[24], bytes[24], root[4096];

	fs->catchup_left = fs->catchup_max;
	b.path = calloc(b.cap ? b.cap : 1, sizeof(*b.path));
	for (size_t i = 0; b.path && i < saved->n_files; i++) {
		const char *path = saved->files[i].path;
		if (is_covered(fs, path)) {
			add_base(&b, path);
			if (rotchain_root(path, root, sizeof(root))) {
				add_base(&b, root);
			}
		}
	}
	for (size_t i = 0; b.path && i < saved->n_patterns; i++) {
		if (is_literal(fs, saved->patterns[i])) {
			add_base(&b, saved->patterns[i]);
		}
	}
	for (size_t i = 0; i < b.n; i++) {
		catch_up_chain(fs, sx, b.path[i], now_ms);
		free(b.path[i]);
	}
	free(b.path);
	if (fs->catchup_news || fs->catchup_skipped) {
		(void)snprintf(files, sizeof(files), "%zu", fs->catchup_files);
		(void)snprintf(bytes, sizeof(bytes), "%llu",
		               (unsigned long long)(fs->catchup_max - fs->catchup_left));
		log_info("catching up with files rotated while the exporter was down; the live "
		         "files are read next",
		         "source", fs->name, "files", files, "bytes", bytes);
	}
}

/* The catch-up is over: say what it read. */
static void catch_up_done(struct fileset *fs)
{
	char files[24], lines[24], skipped[24];

	if (!fs->catchup_news && !fs->catchup_skipped) {
		return;
	}
	(void)snprintf(files, sizeof(files), "%zu", fs->catchup_files);
	(void)snprintf(lines, sizeof(lines), "%llu", (unsigned long long)fs->catchup_lines);
	(void)snprintf(skipped, sizeof(skipped), "%zu", fs->catchup_skipped);
	log_info("caught up with rotated files", "source", fs->name, "files", files, "lines", lines,
	         "skipped", skipped);
}

/* The catch-up file read next (lowest seq): an entry index, or n_entries +
 * a zfiles index; SIZE_MAX when none is left. */
static size_t next_catch_up(const struct fileset *fs)
{
	size_t best = SIZE_MAX;
	uint32_t seq = UINT32_MAX;

	for (size_t i = 0; i < fs->n_entries; i++) {
		if (fs->entries[i].seq && fs->entries[i].seq < seq) {
			seq = fs->entries[i].seq;
			best = i;
		}
	}
	for (size_t i = 0; i < fs->n_zfiles; i++) {
		if (fs->zfiles[i].seq && fs->zfiles[i].seq < seq) {
			seq = fs->zfiles[i].seq;
			best = fs->n_entries + i;
		}
	}
	return best;
}

static void remove_z(struct fileset *fs, size_t i)
{
	const struct zentry *z = &fs->zfiles[i];
	int err = zfile_error(z->zf);

	if (err) {
		log_warn(
		    "a compressed file could not be read to its end; lines after the error are "
		    "not counted",
		    "source", fs->name, "path", zfile_path(z->zf), "error",
		    err == -EPIPE ? "the compressed data ends early (truncated)" : strerror(-err));
	}
	zfile_destroy(z->zf);
	memmove(&fs->zfiles[i], &fs->zfiles[i + 1], (fs->n_zfiles - i - 1) * sizeof(*fs->zfiles));
	fs->n_zfiles--;
}

/* Catch-up files one at a time, in rotation order: each poll finishes the
 * ones at their end and makes progress on one. */
static int64_t poll_catch_up(struct fileset *fs, uint64_t now_ms)
{
	size_t k;

	while ((k = next_catch_up(fs)) != SIZE_MAX) {
		int64_t got;
		if (k < fs->n_entries) {
			struct entry *e = &fs->entries[k];
			got = tail_file_poll(e->tf, fs->scratch, now_ms, false);
			if (got > 0) {
				e->idle_since_ms = now_ms;
				return got;
			}
			e->seq = 0; /* at its end: now an ordinary retiring file */
			e->idle_since_ms = now_ms;
		} else {
			struct zentry *z = &fs->zfiles[k - fs->n_entries];
			got = zfile_poll(z->zf, ZFILE_BUDGET);
			if (!zfile_done(z->zf)) {
				return got;
			}
			remove_z(fs, k - fs->n_entries);
		}
		fs->catchup_pending--;
	}
	catch_up_done(fs);
	return 0;
}

/* How recover_copy follows what copymatch_recover finds. */
struct recover_ctx {
	struct fileset *fs;
	const char *path;
	const struct tail_position *old;
	uint64_t now_ms;
};

static bool recover_is_followed(void *ud, uint64_t dev, uint64_t ino)
{
	struct recover_ctx *c = ud;

	return find_entry(c->fs, dev, ino) != NULL;
}

static bool recover_is_full(void *ud)
{
	struct recover_ctx *c = ud;

	return is_full(c->fs);
}

/* The copy is a member of the rotation chain: read as a catch-up file from
 * where we were (counted as a truncation already, not as a rotation). */
static void recover_member(void *ud, const struct rotchain_member *m)
{
	struct recover_ctx *c = ud;
	struct fileset_saved_file sf = {(char *)c->path, *c->old, true};
	struct fileset_saved ss = {.files = &sf, .n_files = 1};
	unsigned char claimed = CLAIM_TRUNCATED;
	struct start_ctx sx = {.saved = &ss, .claimed = &claimed};
	struct rotchain_member copy = *m;

	copy.saved = 0;
	catch_up_member(c->fs, &sx, c->path, &copy, c->now_ms);
}

static int recover_follow(void *ud, int fd, const struct stat *st, uint64_t offset, bool skipping)
{
	struct recover_ctx *c = ud;

	return add_entry(c->fs, c->path, fd, st, offset, skipping, true, c->now_ms, &c->fs->cb);
}

/*
 * A followed file was truncated (copytruncate): logrotate copied it first,
 * so the lines between our last read and the truncate are in the copy
 * (access.log.1, or access.log.1.gz once compressed).  copymatch_recover
 * finds it by its first bytes; it is read from where we were.
 */
static void recover_copy(struct fileset *fs, const struct entry *e, const struct tail_position *old,
                         uint64_t now_ms)
{
	struct recover_ctx c = {fs, tail_file_path(e->tf), old, now_ms};
	const struct copymatch_sink sink = {
	    .is_followed = recover_is_followed,
	    .is_full = recover_is_full,
	    .read_member = recover_member,
	    .follow = recover_follow,
	    .userdata = &c,
	};

	copymatch_recover(fs->copies, c.path, old, &sink);
}

void fileset_set_catchup_limit(struct fileset *fs, uint64_t max_bytes)
{
	fs->catchup_max = max_bytes;
}

void fileset_set_fdstore(struct fileset *fs, struct fdstore *store)
{
	fs->fdstore = store;
}

void fileset_start(struct fileset *fs, bool from_start, const struct fileset_saved *saved,
                   uint64_t now_ms)
{
	struct start_ctx sx = {.from_start = from_start, .saved = saved};
	unsigned char none = CLAIM_NONE;
	size_t dropped = 0;
	const char *dropped_path = NULL;

	if (saved && saved->n_files) {
		sx.claimed = calloc(saved->n_files, sizeof(*sx.claimed));
		if (!sx.claimed) {
			sx.saved = NULL; /* out of memory: start fresh rather than not at all */
		}
	}
	for (size_t i = 0; sx.saved && i < fs->n_patterns; i++) {
		for (size_t k = 0; k < saved->n_patterns; k++) {
			if (strcmp(fs->patterns[i].text, saved->patterns[k]) == 0) {
				fs->patterns[i].was_saved = true;
			}
		}
	}
	if (sx.saved && !sx.claimed) {
		sx.claimed = &none; /* no files saved: never indexed */
	}
	fs->from_start = from_start;
	if (!from_start) {
		watch_failed(fs, NULL, dirwatch_create(&fs->watch));
		watch_dirs(fs);
	}
	scan(fs, true, OPEN_INITIAL, &sx, now_ms);
	if (sx.saved && !from_start) {
		catch_up(fs, &sx, now_ms);
	}
	for (size_t i = 0; sx.saved && i < saved->n_files; i++) {
		const struct fileset_saved_file *sf = &saved->files[i];
		if (sx.claimed[i]) {
			continue;
		}
		if (is_covered(fs, sf->path)) {
			find_rotated(fs, sf, now_ms);
		} else if (!dropped++) {
			dropped_path = sf->path;
		}
	}
	if (dropped) {
		char count[24];
		(void)snprintf(count, sizeof(count), "%zu", dropped);
		log_info(
		    "not resuming checkpointed files that no path of the source covers any more",
		    "source", fs->name, "files", count, "path", dropped_path);
	}
	if (sx.claimed != &none) {
		free(sx.claimed);
	}
	fs->next_rescan_ms = now_ms + fs->rescan_ms;
}

/* (1) Retire every active file whose path no longer names it. */
static void check_names(struct fileset *fs, uint64_t now_ms)
{
	for (size_t i = 0; i < fs->n_entries; i++) {
		struct entry *e = &fs->entries[i];
		struct stat st;
		if (e->retiring) {
			continue;
		}
		if (stat(tail_file_path(e->tf), &st) == 0 &&
		    tail_file_is(e->tf, (uint64_t)st.st_dev, (uint64_t)st.st_ino)) {
			continue;
		}
		e->retiring = true;
		e->idle_since_ms = now_ms;
		fs->rescan_now = true;
		emit(fs, TAIL_EV_ROTATED, 1);
		log_debug("file rotated away (renamed or deleted); draining it until idle",
		          "source", fs->name, "path", tail_file_path(e->tf));
		if (is_literal(fs, tail_file_path(e->tf))) {
			file_gauge(fs, tail_file_path(e->tf), false);
		} else {
			release_path(fs, e); /* gone from a glob */
		}
	}
}

static bool idle_out(const struct fileset *fs, const struct entry *e, uint64_t now_ms)
{
	return e->retiring && !e->seq && now_ms - e->idle_since_ms >= fs->grace_ms;
}

/* (4) Close retired files that stayed idle for the grace period: release
 * their paths while the array is intact, then compact. */
static void close_idle(struct fileset *fs, uint64_t now_ms)
{
	size_t w = 0;

	for (size_t i = 0; i < fs->n_entries; i++) {
		if (idle_out(fs, &fs->entries[i], now_ms)) {
			release_path(fs, &fs->entries[i]);
		}
	}
	for (size_t i = 0; i < fs->n_entries; i++) {
		struct entry *e = &fs->entries[i];
		if (idle_out(fs, e, now_ms)) {
			log_debug("rotated file retired (idle for the grace period)", "source",
			          fs->name, "path", tail_file_path(e->tf));
			close_entry(fs, e);
			continue;
		}
		fs->entries[w++] = *e;
	}
	fs->n_entries = w;
}

int64_t fileset_poll(struct fileset *fs, uint64_t now_ms, bool at_eof_is_line)
{
	int64_t total = 0;
	struct tail_position pos;

	drain_events(fs, now_ms);
	check_names(fs, now_ms);
	if (fs->rescan_now || now_ms >= fs->next_rescan_ms) {
		fs->rescan_now = false;
		fs->next_rescan_ms = now_ms + fs->rescan_ms;
		watch_dirs(fs);
		scan(fs, true, OPEN_NEW, NULL, now_ms);
	} else if (fs->literal_missing) {
		scan(fs, false, OPEN_NEW, NULL, now_ms);
	}
	if (fs->catchup_pending) {
		total = poll_catch_up(fs, now_ms);
		if (fs->catchup_pending) {
			close_idle(fs, now_ms);
			return total;
		}
	}
	for (size_t i = 0; i < fs->n_entries; i++) {
		struct entry *e = &fs->entries[i];
		total += tail_file_poll(e->tf, fs->scratch, now_ms, at_eof_is_line);
		if (tail_file_take_truncated(e->tf, &pos) && !e->retiring && !fs->from_start) {
			recover_copy(fs, e, &pos, now_ms);
			e = &fs->entries[i]; /* the array may have grown, not moved */
		}
		tail_file_position(e->tf, &pos);
		if (pos.offset != e->last_offset) {
			e->last_offset = pos.offset;
			e->idle_since_ms = now_ms;
			e->last_data_ms = now_ms;
		}
	}
	/* --once: compressed files, read to their end and closed. */
	for (size_t i = 0; i < fs->n_zfiles;) {
		total += zfile_poll(fs->zfiles[i].zf, ZFILE_BUDGET);
		if (zfile_done(fs->zfiles[i].zf) && !fs->from_start) {
			remove_z(fs, i);
		} else {
			i++;
		}
	}
	close_idle(fs, now_ms);
	return total;
}

void fileset_foreach(const struct fileset *fs,
                     void (*fn)(void *ud, const char *path, const struct tail_position *pos,
                                bool retired),
                     void *ud)
{
	struct tail_position pos;

	for (size_t i = 0; i < fs->n_entries; i++) {
		tail_file_position(fs->entries[i].tf, &pos);
		fn(ud, tail_file_path(fs->entries[i].tf), &pos, fs->entries[i].retiring);
	}
	for (size_t i = 0; i < fs->n_zfiles; i++) {
		zfile_position(fs->zfiles[i].zf, &pos);
		fn(ud, zfile_path(fs->zfiles[i].zf), &pos, true);
	}
}

/* Whether a followed (not retiring) file is known by path. */
static bool has_active(const struct fileset *fs, const char *path)
{
	for (size_t i = 0; i < fs->n_entries; i++) {
		if (!fs->entries[i].retiring &&
		    strcmp(tail_file_path(fs->entries[i].tf), path) == 0) {
			return true;
		}
	}
	return false;
}

void fileset_snapshot(const struct fileset *fs, uint64_t now_ms, double now_unix,
                      void (*fn)(void *ud, const struct fileset_file_status *f), void *ud)
{
	struct tail_position pos;

	for (size_t i = 0; i < fs->n_entries; i++) {
		const struct entry *e = &fs->entries[i];
		struct fileset_file_status f = {
		    .path = tail_file_path(e->tf),
		    .state = e->retiring ? FILESET_FILE_ROTATED : FILESET_FILE_OPEN,
		    .error = tail_file_error(e->tf),
		};
		tail_file_position(e->tf, &pos);
		f.offset = pos.offset;
		if (tail_file_size(e->tf, &f.size) < 0) {
			f.size = 0;
		}
		if (e->last_data_ms && e->last_data_ms <= now_ms) {
			f.last_data = now_unix - (double)(now_ms - e->last_data_ms) / 1000.0;
		}
		fn(ud, &f);
	}
	for (size_t i = 0; i < fs->n_patterns; i++) {
		const struct pattern *p = &fs->patterns[i];
		struct fileset_file_status f = {.path = p->text};
		if (p->is_glob && p->matched_none) {
			f.state = FILESET_FILE_NO_MATCH;
		} else if (!p->is_glob && !has_active(fs, p->text)) {
			f.state = FILESET_FILE_MISSING;
			f.error = p->last_err ? p->last_err : ENOENT;
		} else {
			continue;
		}
		fn(ud, &f);
	}
}

size_t fileset_count(const struct fileset *fs)
{
	return fs->n_entries + fs->n_zfiles;
}

size_t fileset_report(const struct fileset *fs)
{
	size_t errors = 0;
	char n[24];

	for (size_t i = 0; i < fs->n_patterns; i++) {
		const struct pattern *p = &fs->patterns[i];
		if (p->is_glob && p->glob_err) {
			log_error("cannot read the directory of the pattern", "source", fs->name,
			          "pattern", p->text, "error", strerror(p->glob_err));
			errors++;
		} else if (p->is_glob && p->matched_none) {
			log_warn("no file matches the pattern", "source", fs->name, "pattern",
			         p->text);
		} else if (!p->is_glob && p->last_err) {
			log_error(
			    p->last_err == ENOENT ? "log file missing" : "cannot read log file",
			    "source", fs->name, "path", p->text, "error", strerror(p->last_err));
			errors++;
		}
	}
	if (fs->open_errors) {
		(void)snprintf(n, sizeof(n), "%zu", fs->open_errors);
		log_error("cannot read files matched by a pattern", "source", fs->name, "files", n,
		          "first", fs->error_path ? fs->error_path : "?", "error",
		          strerror(fs->error));
		errors++;
	}
	if (fs->once_unread) {
		(void)snprintf(n, sizeof(n), "%zu", fs->once_unread);
		log_error("compressed files that cannot be read (only gzip is) were not counted",
		          "source", fs->name, "files", n, "first",
		          fs->once_unread_path ? fs->once_unread_path : "?");
		errors++;
	}
	for (size_t i = 0; i < fs->n_zfiles; i++) {
		int err = zfile_error(fs->zfiles[i].zf);
		if (err) {
			log_error("cannot read compressed log file", "source", fs->name, "path",
			          zfile_path(fs->zfiles[i].zf), "error",
			          err == -EPIPE ? "the compressed data ends early"
			                        : strerror(-err));
			errors++;
		}
	}
	for (size_t i = 0; i < fs->n_entries; i++) {
		int err = tail_file_error(fs->entries[i].tf);
		if (err) {
			log_error("cannot read log file", "source", fs->name, "path",
			          tail_file_path(fs->entries[i].tf), "error", strerror(err));
			errors++;
		}
	}
	if (fs->ignored) {
		char cap[24];
		(void)snprintf(n, sizeof(n), "%zu", fs->ignored);
		(void)snprintf(cap, sizeof(cap), "%zu", fs->max_files);
		log_error("too many files: files over the limit were not read", "source", fs->name,
		          "ignored", n, "limit", cap, "first_ignored",
		          fs->ignored_path ? fs->ignored_path : "?");
		errors++;
	}
	return errors;
}

void fileset_foreach_missing(const struct fileset *fs,
                             void (*fn)(void *ud, const char *pattern, int err), void *ud)
{
	for (size_t i = 0; i < fs->n_patterns; i++) {
		int st = pattern_state(&fs->patterns[i]);
		if (st < 0) {
			fn(ud, fs->patterns[i].text, -st);
		}
	}
}
