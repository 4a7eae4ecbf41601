/*
 * source.h - one configured log source: its inputs, its parser, its metrics.
 *
 * The glue of the pipeline: the input layer (exporter/input/input.h: files,
 * standard input, syslog listeners) hands out lines, the parser turns each
 * into a record, the registry counts it.  A source is driven by exactly one thread (the ingest
 * loop), which is what lets the registry skip locks, and what makes a checkpoint taken between two
 * polls a consistent snapshot of offsets and counters.
 */
#ifndef EXPORTER_SOURCE_H
#define EXPORTER_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "exporter/metrics/metrics.h"
#include "exporter/parsefail.h"
#include "exporter/state.h"
#include "exporter/http/snapshot.h"
#include "exporter/strbuf.h"

struct source;
struct fdstore;

/* Build a source from its config; registers it in m.  from_start: read
 * files present now from offset 0 (--once) instead of from their end.
 * On a bad format returns -EINVAL with a message in err.  On any failure
 * nothing stays registered in m. */
int source_create(const struct config_source *cs, struct metrics *m, bool from_start,
                  struct source **ret_source, char *err, size_t err_size);

/* Count the source's lines on threads cores from now on, with results
 * identical to one thread (for --once): into per-batch registries merged in
 * file order (countpool.h), or, for sources with field labels, parsed on
 * threads cores and counted in order (parsepool.h; not JSON).  No-op for
 * threads < 2; cs: the config s was built from, mo: its registry's
 * options.  0 or -errno (then s keeps parsing on its own thread). */
int source_set_threads(struct source *s, const struct config_source *cs,
                       const struct metrics_options *mo, unsigned threads);

/* NULL-safe; removes the source's metrics from its registry (which must
 * still exist), so the name can be registered again. */
void source_destroy(struct source *s);

/* Whether a source built from a can keep running unchanged for b: same
 * name, kind, format, paths, static labels, field labels and container
 * unwrapping. */
bool source_config_equal(const struct config_source *a, const struct config_source *b);

/* Register s's metrics in registry dst instead of its current one, with
 * their counters, last-read time and the open-file gauges of the files it
 * follows; cs: the config s was built from (its labels).  On failure s is
 * unchanged (still in its old registry).  0, -EEXIST (name taken in dst),
 * -ENOSPC, -ENOMEM, -EINVAL; message in err. */
int source_move(struct source *s, struct metrics *dst, const struct config_source *cs, char *err,
                size_t err_size);

/* The running sources and the configs they were built from (plain value
 * record owned by the caller; cfg[k] borrowed, must outlive the set). */
struct source_set {
	struct source *sources[CONFIG_MAX_SOURCES];
	const struct config_source *cfg[CONFIG_MAX_SOURCES];
	size_t n;
	struct fdstore *fdstore; /* new sources keep their files there (borrowed; may be NULL) */
};

/* Keep the descriptors of s's files in store (input_set_fdstore; before
 * the first source_poll; borrowed, may be NULL). */
void source_set_fdstore(struct source *s, struct fdstore *store);

/* Config reload: replace the sources of set (registered in m, a registry
 * created with options mo) by sources for next[0..n_next), all or nothing
 * (design: top of source.c).  Unchanged sources are kept as they are; a
 * changed one (same name) is replaced by a new source continuing from its
 * file positions (source_start_from); new ones start at the end of their
 * files.  0: set holds the new sources (cfg pointing into next), dropped
 * ones are destroyed.  -errno with err filled: set, its sources and their
 * series and counters in m are as before. */
int source_set_replace(struct source_set *set, struct metrics *m, const struct metrics_options *mo,
                       const struct config_source *next, size_t n_next, char *err, size_t err_size);

/* Restore counters and positions from a checkpoint of this source (call
 * before the first source_poll; saved is copied as needed, not kept), and
 * catch up with files rotated meanwhile, reading at most catchup_max_bytes
 * of them (fileset_start).  -EINVAL when the saved counters do not parse
 * (nothing restored). */
int source_restore(struct source *s, const struct state_source *saved, uint64_t catchup_max_bytes);

/* Start s's files where prev's are (for a config reload that replaces a
 * source): a file prev follows resumes at prev's offset, a file matched by
 * prev's patterns that prev did not follow starts at 0, others at their
 * end.  Counters are not carried over.  Call before the first source_poll
 * of s, while prev still exists.  0, -EBUSY (already started), -ENOMEM. */
int source_start_from(struct source *s, const struct source *prev);

/* Read and count everything new in all files; the first call finds the
 * files (see fileset_start).  Returns bytes read. */
int64_t source_poll(struct source *s, bool at_eof_is_line);

/* Append this source's part of a checkpoint (patterns, positions,
 * counters) to b (see state.h).  Call between polls on the ingest thread.
 * Returns b->error. */
int source_checkpoint(struct source *s, struct strbuf *b);

/* Whether a file was rotated or truncated since the last call (then a
 * checkpoint should be written now, not at the next timer). */
bool source_checkpoint_due(struct source *s);

/* For --once, after the last source_poll: log why the counts may miss
 * data (see fileset_report).  Returns the number of errors logged (0: every
 * file named was read completely; globs matching nothing only warn). */
size_t source_report(const struct source *s);

/* For --once, after the last source_poll: log the source's lines and
 * parse errors and, when some failed, the sampled lines with their
 * diagnoses.  Returns 1 when the source read lines and none parsed (the
 * format is wrong: exit status 3), else 0. */
int source_parse_report(const struct source *s);

/* Show s's sampled parse failures on the debug page of board (NULL: no
 * page).  Again is a no-op; source_destroy detaches. */
void source_attach_debug(struct source *s, struct parsefail_board *board);

/* Log the start-up summary of s (after its first poll): format, the
 * fields it yields, files followed and missing, and a note when the format
 * has no request time (the duration histograms would stay empty). */
void source_log_summary(const struct source *s);

/* input_wait_fd of the source's inputs (-1: none). */
int source_wait_fd(const struct source *s);

/* input_wait_gather_us: how long a wake-up may wait for more. */
unsigned source_wait_gather_us(const struct source *s);

/* Append the source and its files to a landing-page snapshot (see
 * snapshot.h): name, format, lines, parse errors, last line, and per file
 * state, offset, size and last data (fileset_snapshot).  now_ms: monotonic,
 * now_unix: wall clock of the same instant.  Ingest thread, between polls.
 * 0 or -ENOMEM (the snapshot may then miss files). */
int source_snapshot(const struct source *s, struct snapshot *snap, uint64_t now_ms,
                    double now_unix);

/* The source's name (borrowed). */
const char *source_name(const struct source *s);

/* The source's metrics (borrowed). */
struct metrics_source *source_metrics(struct source *s);

#endif
