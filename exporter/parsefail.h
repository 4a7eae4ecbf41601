/*
 * parsefail.h - a bounded sample of the lines a source could not parse,
 * each with its diagnosis (parsers' logparse_diagnose), for the debug page,
 * the rate-limited warning and the --once report.
 *
 * A ring belongs to one source and is written by the ingest thread; the
 * debug page reads it from an HTTP thread, so each ring has a mutex, taken
 * only when a sample is added (a few per minute at most) or read.  A board
 * lists the rings of the running sources for the page; sources attach and
 * detach themselves, so a reload never leaves the page a freed ring.
 */
#ifndef EXPORTER_PARSEFAIL_H
#define EXPORTER_PARSEFAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter/strbuf.h"
#include "parsers/logparse.h"

#define PARSEFAIL_RING 5          /* samples kept per source (newest replace oldest) */
#define PARSEFAIL_LINE_MAX 512    /* bytes of a sampled line kept */
#define PARSEFAIL_BURST_MS 10000u /* at most PARSEFAIL_RING samples per this period */
#define PARSEFAIL_MAX_SOURCES 256 /* rings a board lists */

struct parsefail_ring;
struct parsefail_board;

/* One sample as copied out of a ring. */
struct parsefail_sample {
	double unix_time;
	size_t line_len; /* length of the whole line */
	size_t kept;     /* bytes of it in line[] */
	char line[PARSEFAIL_LINE_MAX];
	struct logparse_diag diag;
};

/* A ring for source name (copied).  NULL on out of memory. */
struct parsefail_ring *parsefail_ring_create(const char *name, const char *format);

/* NULL-safe; detaches from its board first. */
void parsefail_ring_destroy(struct parsefail_ring *r);

/* Diagnose line with p and keep it (cut to PARSEFAIL_LINE_MAX).  Returns
 * the time before which no further line should be sampled: the caller
 * compares it with the poll's clock, one comparison per failing line (the
 * first PARSEFAIL_RING failures of each PARSEFAIL_BURST_MS are sampled).
 * Ingest thread. */
uint64_t parsefail_sample(struct parsefail_ring *r, struct log_parser *p, const char *line,
                          size_t len, uint64_t now_ms, double unix_time);

/* Copy the newest sample out: true if there is one. */
bool parsefail_latest(struct parsefail_ring *r, struct parsefail_sample *ret);

/* Copy up to PARSEFAIL_RING samples, oldest first, into out; returns the count. */
size_t parsefail_copy(struct parsefail_ring *r, struct parsefail_sample *out);

/* Set the totals shown with the samples (ingest thread, cheap). */
void parsefail_set_totals(struct parsefail_ring *r, uint64_t lines, uint64_t errors);

/* A board: the rings of the running sources. NULL on out of memory. */
struct parsefail_board *parsefail_board_create(void);

/* NULL-safe; detaches every ring still attached (rings are not freed). */
void parsefail_board_destroy(struct parsefail_board *b);

/* Attach r to b (again is a no-op).  0 or -ENOSPC. */
int parsefail_attach(struct parsefail_board *b, struct parsefail_ring *r);

/* The debug page: plain text, every ring's totals and samples with their
 * diagnoses; line bytes that are not printable ASCII appear as \xHH.
 * Returns out->error. */
int parsefail_board_render(struct parsefail_board *b, struct strbuf *out);

/* Write the plain-text block of one ring (as on the page) to out. */
int parsefail_ring_render(struct parsefail_ring *r, struct strbuf *out);

/* Escape a sampled line for display (non-printable bytes, '\\' as \xHH). */
int parsefail_put_line(struct strbuf *out, const char *line, size_t len);

#endif
