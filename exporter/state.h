/*
 * state.h - checkpoint file: read positions and counter values, saved
 * together so that a restart (even after kill -9) counts every line once.
 *
 * The file is text, written whole to a temp file, fsync'ed, renamed over
 * the old one and the directory fsync'ed, so a crash leaves either the old
 * or the new checkpoint, never a mix.  Format (version 2):
 *
 *   accesslog-state 2
 *   source <name>                      (rest of line, escaped)
 *   pattern <path or glob>             (rest of line, escaped; 0..n)
 *   file <dev> <ino> <fp_len> <fp_hash hex> <offset> <flags 0..3> <path>
 *        (flags: 1 = offset inside an over-long line, 2 = rotated away)
 *   counters <n>                       then exactly n bytes (metrics_source_save text)
 *   end
 *   ... more sources ...
 *   checksum <fnv-1a 64 hex of every byte before this line>
 *
 * Escaped: '\\' is written "\\\\", a newline "\\n", every other control byte
 * and DEL "\\xHH" (lower-case hex; never NUL), so any path a file system
 * allows -- a newline included -- is checkpointed.  Version 1 (the same
 * records, text raw, paths holding a newline left out) is still read.
 *
 * Parsing is strict (every line, every number, the checksum, the caps);
 * any deviation rejects the whole file: a corrupt checkpoint is reported by
 * the caller and ignored, never half-applied.  Only an empty name or path
 * cannot be written (a source without a name is an error; such a file is
 * left out and resumes like a new one).
 */
#ifndef EXPORTER_STATE_H
#define EXPORTER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter/strbuf.h"
#include "exporter/input/fileset.h"

#define STATE_MAX_BYTES (64u * 1024u * 1024u)
#define STATE_MAX_SOURCES 256u
#define STATE_MAX_FILES 4096u /* per source */
#define STATE_MAX_PATTERNS 256u

struct state_source {
	char *name;
	char **patterns;
	size_t n_patterns;
	struct fileset_saved_file *files;
	size_t n_files;
	char *counters; /* metrics_source_save text */
	size_t counters_len;
	int64_t saved_at_ns; /* when the checkpoint was written (state_load: the
	                      * file's mtime); 0: unknown */
};

struct state {
	struct state_source *sources;
	size_t n_sources;
};

/* Writing: state_begin, then per source state_add_source followed by its
 * state_add_pattern / state_add_file calls and state_end_source(counters),
 * then state_finish.  Errors stick in b->error (strbuf semantics);
 * state_finish returns it. */
void state_begin(struct strbuf *b);
void state_add_source(struct strbuf *b, const char *name);
void state_add_pattern(struct strbuf *b, const char *pattern);
void state_add_file(struct strbuf *b, const char *path, const struct tail_position *pos,
                    bool retired);
void state_end_source(struct strbuf *b, const char *counters, size_t len);
int state_finish(struct strbuf *b);

/* Replace path with data atomically and durably (temp file in the same
 * directory, fsync, rename, fsync of the directory).  On failure the old
 * file is untouched and the temp file removed.  0 or -errno. */
int state_write_atomic(const char *path, const char *data, size_t len);

/* Parse a checkpoint held in memory.  0, -EINVAL (malformed, bad checksum,
 * over a cap) or -ENOMEM. */
int state_parse(const char *data, size_t len, struct state **ret_state);

/* Read and parse path (saved_at_ns from its mtime).  0, -ENOENT (no checkpoint yet), -EINVAL
 * (malformed, or not a regular file: never blocks on a FIFO), -EFBIG, or another -errno. */
int state_load(const char *path, struct state **ret_state);

/* After state_load failed: why, in words, for the log ("checksum
 * mismatch", "truncated: no checksum line at the end", "written in another
 * state file version", "not a regular file"...).  Reads path again; fills
 * why (always terminated).  0, or -errno when path cannot be read (why
 * says so too). */
int state_explain(const char *path, char *why, size_t why_size);

/* Whether path can be used as a state file: 0 when it is a regular file
 * (a symlink to one is fine) or does not exist yet; -EINVAL with what it
 * is in why ("a FIFO", "a directory"...) for anything else, which
 * state_write_atomic's rename would replace and a read could block on;
 * -errno (why says so) when it cannot be checked. */
int state_check_path(const char *path, char *why, size_t why_size);

/* The saved source called name, or NULL (borrowed from st). */
const struct state_source *state_find_source(const struct state *st, const char *name);

/* NULL-safe. */
void state_destroy(struct state *st);

#endif
