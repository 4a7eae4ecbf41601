/*
 * fileset.h - the files of one source: paths and globs, discovery,
 * rotation, and the positions to checkpoint.
 *
 * A fileset tracks open files by identity (device, inode), not by name.
 * A path that names an already tracked identity is the same file (a file
 * matched twice, by two patterns or through a symlink, is read once; a
 * rotated access.log.1 matched by the glob is the file we were already
 * reading, followed on through its descriptor, never re-read).  A tracked
 * file whose path stops naming it (renamed or deleted) is counted as a
 * rotation and "retires": it is still drained every poll and closed once
 * it has been idle for the grace period, because writers keep appending to
 * the old file until they reopen.  A path that names a new identity is
 * opened: at start from its end (or the checkpoint), later from offset 0.
 */
#ifndef EXPORTER_FILESET_H
#define EXPORTER_FILESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "exporter/input/tail.h"

#define FILESET_DEFAULT_MAX_FILES 1024u
#define FILESET_DEFAULT_RESCAN_MS 5000u
#define FILESET_DEFAULT_GRACE_MS 60000u /* Apache graceful restarts finish long requests */
/* Bytes of rotated files a restart reads at most per source (see fileset_start). */
#define FILESET_DEFAULT_CATCHUP_MAX_BYTES (4ull << 30)

/* One file of a checkpoint: where fileset_start resumes it. */
struct fileset_saved_file {
	char *path;
	struct tail_position pos;
	bool retired; /* rotated away from path, still being drained */
};

/* What a checkpoint holds of one source's files: its patterns then and its
 * files.  The caller owns it; fileset_start does not keep it. */
struct fileset_saved {
	char *const *patterns;
	size_t n_patterns;
	const struct fileset_saved_file *files;
	size_t n_files;
	int64_t saved_at_ns; /* when the checkpoint was written; 0: unknown */
};

/* A tracked file or configured path, for status pages (fileset_snapshot). */
enum fileset_file_state {
	FILESET_FILE_OPEN,     /* followed */
	FILESET_FILE_ROTATED,  /* renamed or deleted, still drained until idle */
	FILESET_FILE_MISSING,  /* a configured path with no file (error says why) */
	FILESET_FILE_NO_MATCH, /* a glob that matched nothing at the last scan */
};

struct fileset_file_status {
	const char *path;
	enum fileset_file_state state;
	int error;        /* errno: why missing, or the last read error; 0 none */
	uint64_t offset;  /* end of the last complete line consumed */
	uint64_t size;    /* file size now (0 when unknown) */
	double last_data; /* unix time the offset last moved; 0: not since start */
};

struct fileset_options {
	const char *name; /* for log messages (the source name) */
	const char *const *patterns;
	size_t n_patterns;
	size_t line_cap;          /* 0: TAIL_DEFAULT_LINE_CAP */
	size_t max_files;         /* 0: FILESET_DEFAULT_MAX_FILES */
	unsigned rescan_ms;       /* glob rescan period; 0: default */
	unsigned retire_grace_ms; /* idle time before a rotated file is closed; 0: default */
	/* A path's open-file gauge (cb->file) is no longer wanted: no followed
	 * file is known by it and it is not a literal pattern (whose gauge stays,
	 * 0 when missing).  Called when a file found by a glob is gone, renamed
	 * to another matched name, or closed after retiring.  userdata is
	 * cb->userdata; may be NULL. */
	void (*file_gone)(void *userdata, const char *path);
	/* Lines are unwrapped (container.h) before cb->line: each file gets
	 * its own container_tap; line_cap then applies to unwrapped lines. */
	enum config_container container;
	unsigned container_streams; /* CONFIG_STREAM_* (0: stdout) */
};

struct fileset;

/* Patterns are copied; cb is called from fileset_start/fileset_poll.
 * 0, -EINVAL (no patterns), -ENOMEM. */
int fileset_create(const struct fileset_options *o, const struct tail_callbacks *cb,
                   struct fileset **ret_fileset);

/* NULL-safe; closes every file. */
void fileset_destroy(struct fileset *fs);

/* The first scan.  Files found now start at 0 when from_start, else at
 * their end; with saved (a checkpoint of this source; may be NULL) a file
 * whose identity matches a saved one resumes at the saved offset, files
 * matched by a saved pattern but unknown to the checkpoint appeared while
 * we were down and start at 0, and a saved file no longer at any matched
 * path is searched for by identity in its directory (renamed by rotation)
 * or, deleted, among the open descriptors of its writer (/proc/PID/fd)
 * and drained from its offset (as a retiring file still known by its saved
 * path) -- but only when its saved path is still covered by a pattern (equal
 * to a literal one, or matched by a glob with fnmatch FNM_PATHNAME |
 * FNM_PERIOD, as glob(3) would): a file the configuration no longer names is
 * not followed (logged once).  Not from_start, with saved: the rotation chain
 * of every such path (rotchain.h) is caught up before the live files -- the
 * checkpointed file from its offset (a .gz one through zlib, identified by
 * its uncompressed first bytes), the files rotated after it from 0, within
 * the catch-up limit; what is read and skipped is logged.  saved is not
 * referenced afterwards. */
void fileset_start(struct fileset *fs, bool from_start, const struct fileset_saved *saved,
                   uint64_t now_ms);

/* The catch-up limit of fileset_start (default
 * FILESET_DEFAULT_CATCHUP_MAX_BYTES; 0: rotated files are not read). */
void fileset_set_catchup_limit(struct fileset *fs, uint64_t max_bytes);

struct fdstore;

/* Hand every file opened from now on to store (fdstore.h; borrowed, may
 * be NULL), and at fileset_start look there for checkpointed files no
 * longer at their path (deleted) before the writers' descriptors. */
void fileset_set_fdstore(struct fileset *fs, struct fdstore *store);

/* Check names, rescan when due, read every file.  While a catch-up is
 * pending, its files are read (one at a time, in rotation order) and the
 * live files wait.  Returns bytes read (> 0 while there is more to do). */
int64_t fileset_poll(struct fileset *fs, uint64_t now_ms, bool at_eof_is_line);

/* Call fn for every tracked file with its path, resumable position and
 * whether it was rotated away from path (still being drained). */
void fileset_foreach(const struct fileset *fs,
                     void (*fn)(void *ud, const char *path, const struct tail_position *pos,
                                bool retired),
                     void *ud);

/* The landing page's view of the files: fn is called for every tracked
 * file (open or rotated, with offset, size and the unix time its offset
 * last moved, now_unix being the wall clock at now_ms), every literal path
 * with no file (missing, with the errno) and every glob that matched
 * nothing at the last scan.  Costs one fstat per tracked file; the record
 * passed to fn is valid during the call only.  Read-only. */
void fileset_snapshot(const struct fileset *fs, uint64_t now_ms, double now_unix,
                      void (*fn)(void *ud, const struct fileset_file_status *f), void *ud);

/* A descriptor that becomes readable when something in the watched
 * directories changes (inotify), for the idle wait; -1 when there is none
 * (then poll on a timer).  Only a hint: fileset_poll is what reads. */
int fileset_wait_fd(const struct fileset *fs);

/* Call fn for every pattern that gives no file at the last scan: a
 * literal path missing or unreadable (err: its errno), a glob matching
 * nothing (ENOENT) or whose directory cannot be read (its errno). */
void fileset_foreach_missing(const struct fileset *fs,
                             void (*fn)(void *ud, const char *pattern, int err), void *ud);

/* Number of tracked (open) files. */
size_t fileset_count(const struct fileset *fs);

/* For --once, after the last poll: log (error level, naming the source)
 * every reason the counts miss data -- a literal path that names no
 * readable regular file (missing, a directory, permission denied), files
 * matched by a glob that could not be opened, a read error on a followed
 * file, files ignored over the max_files cap (with their number) -- and
 * warn about globs that matched nothing (not an error).  Glob results are
 * those of the last rescan.  Returns the number of error lines logged: 0
 * when every file named was read. */
size_t fileset_report(const struct fileset *fs);

#endif
