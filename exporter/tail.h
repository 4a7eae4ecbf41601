/*
 * tail.h - follow one log file and hand out complete lines.
 *
 * A tail_file remembers a path, the open descriptor, the file identity
 * (device, inode) and the read offset.  tail_file_poll reads what is new,
 * calls back once per complete line (newline stripped, a trailing '\r'
 * stripped too), keeps a partial last line until its newline arrives, and
 * notices rotation (the path names another file: drain the old one, then
 * reopen from offset 0) and truncation (size below offset: restart at 0).
 * Lines longer than the cap are skipped up to the next newline and
 * reported, never split.  Read and open errors are reported and retried at
 * the next poll; nothing here is fatal.
 */
#ifndef EXPORTER_TAIL_H
#define EXPORTER_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAIL_DEFAULT_LINE_CAP (64u * 1024u)
#define TAIL_MAX_LINE_CAP (16u * 1024u * 1024u)

enum tail_event {
	TAIL_EV_BYTES,      /* n bytes read */
	TAIL_EV_ROTATED,    /* the path now names a new file */
	TAIL_EV_TRUNCATED,  /* the file shrank below our offset */
	TAIL_EV_TOO_LONG,   /* a line over the cap was skipped */
	TAIL_EV_READ_ERROR, /* open/read failed (errno in n) */
	TAIL_EV_OPENED,     /* the file is open */
	TAIL_EV_MISSING,    /* the path does not exist (or cannot be opened) */
};

struct tail_callbacks {
	void (*line)(void *userdata, const char *line, size_t len);
	void (*event)(void *userdata, enum tail_event ev, uint64_t n);
	void *userdata;
};

struct tail_file;

/* Create a follower for path.  from_start: read an existing file from
 * offset 0 (else from its end).  line_cap: 0 for the default.  The file is
 * opened at the first poll.  NULL on OOM. */
struct tail_file *tail_file_create(const char *path, bool from_start, size_t line_cap,
                                   const struct tail_callbacks *cb);

/* NULL-safe; closes the file. */
void tail_file_destroy(struct tail_file *t);

/* Read everything new now.  at_eof_is_line: treat a final unterminated line
 * as complete (for --once).  Returns the number of bytes consumed (>= 0). */
int64_t tail_file_poll(struct tail_file *t, bool at_eof_is_line);

/* Whether the file is currently open. */
bool tail_file_is_open(const struct tail_file *t);

/* Path being followed (borrowed). */
const char *tail_file_path(const struct tail_file *t);

#endif
