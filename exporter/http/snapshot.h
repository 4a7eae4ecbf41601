/*
 * snapshot.h - a read-only snapshot of every source and its files, for the
 * landing page.
 *
 * The ingest thread owns the sources and files; HTTP threads must not touch
 * them.  So the ingest thread builds a snapshot between two polls
 * (snapshot_add_source / _add_file, through source_snapshot and
 * fileset_snapshot) and publishes it on a snapshot_board about once a second;
 * an HTTP thread takes a reference to the current snapshot, renders it and
 * releases it.  Publishing swaps one pointer under a mutex held for a few
 * instructions, and the old snapshot is freed by whichever side drops the
 * last reference, so neither side ever waits for the other's work.
 *
 * Rejected: rendering from the live fileset under a lock (a slow client
 * would stall ingestion), and per-file atomics read by the HTTP thread
 * (files come and go; their memory is the ingest thread's to free).
 */
#ifndef EXPORTER_SNAPSHOT_H
#define EXPORTER_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Files listed per source; more are counted in n_more (the fileset allows
 * 1024 per source, far more than a page should show). */
#define SNAPSHOT_MAX_FILES_PER_SOURCE 200u

enum snapshot_file_state {
	SNAPSHOT_FILE_OPEN,     /* followed */
	SNAPSHOT_FILE_ROTATED,  /* renamed or deleted, still drained until idle */
	SNAPSHOT_FILE_MISSING,  /* a configured path with no file (error says why) */
	SNAPSHOT_FILE_NO_MATCH, /* a glob that matched nothing at the last scan */
};

/* One file (or configured path) of a source: plain value record. */
struct snapshot_file {
	const char *path; /* copied by snapshot_add_file */
	enum snapshot_file_state state;
	int error;        /* errno: why missing, or the last read error; 0 none */
	uint64_t offset;  /* end of the last complete line consumed */
	uint64_t size;    /* file size at the snapshot (0 when unknown) */
	double last_data; /* unix time the offset last moved; 0: not since start */
};

struct snapshot_source {
	char *name;
	char *format;
	uint64_t lines;
	uint64_t parse_errors;
	double last_read; /* unix time of the last line; 0: none yet */
	struct snapshot_file *files;
	size_t n_files;
	size_t n_more; /* files beyond SNAPSHOT_MAX_FILES_PER_SOURCE, not listed */
};

struct snapshot {
	double taken; /* unix time */
	struct snapshot_source *sources;
	size_t n_sources;
};

/* An empty snapshot taken at unix time `taken`; NULL on OOM. */
struct snapshot *snapshot_create(double taken);

/* NULL-safe. */
void snapshot_destroy(struct snapshot *snap);

/* Append a source (strings copied); files added next belong to it.
 * 0 or -ENOMEM (snapshot unchanged). */
int snapshot_add_source(struct snapshot *snap, const char *name, const char *format, uint64_t lines,
                        uint64_t parse_errors, double last_read);

/* Append a file to the last source added (path copied; over the cap only
 * counted).  0, -EINVAL (no source yet), -ENOMEM. */
int snapshot_add_file(struct snapshot *snap, const struct snapshot_file *f);

struct snapshot_board;

/* An empty board (acquire returns NULL until the first publish); NULL on OOM. */
struct snapshot_board *snapshot_board_create(void);

/* NULL-safe; the board must have no snapshot acquired. */
void snapshot_board_destroy(struct snapshot_board *b);

/* Make snap the current snapshot (ownership passes to the board); the
 * previous one is freed once its last reader releases it.  Any thread. */
void snapshot_board_publish(struct snapshot_board *b, struct snapshot *snap);

/* The current snapshot, held until snapshot_board_release (NULL: none yet).
 * Any thread; never waits for a publisher's work. */
const struct snapshot *snapshot_board_acquire(struct snapshot_board *b);

/* Release what snapshot_board_acquire returned; NULL-safe. */
void snapshot_board_release(struct snapshot_board *b, const struct snapshot *snap);

#endif
