/*
 * container.h - unwrap log lines a container runtime wrapped.
 *
 * Containerised nginx and Apache log to stdout; the runtime stores each
 * line wrapped, and long lines split:
 *   CRI (containerd, CRI-O):  2026-12-03T10:00:00.123456789Z stdout F <line>
 *     "P" pieces (partial) are followed by more pieces, the "F" one ends
 *     the line;
 *   Docker json-file:  {"log":"<line>\n","stream":"stdout","time":"..."}
 *     with JSON escapes; a "log" value without the final "\n" is a piece
 *     of a longer line (Docker splits at 16 KiB).
 * A container_unwrap turns the lines of one file, in order, back into the
 * lines the server wrote: pieces are reassembled per stream under the line
 * cap, lines of streams not asked for are dropped (stdout by default),
 * lines not in the wrapper are reported.  It is a pure function over bytes
 * with a little state per file (no I/O, no logging), so it is unit-tested
 * and fuzzed on its own.  A container_tap puts one between a file reader
 * (tail_file, zfile) and the source's callbacks.
 */
#ifndef EXPORTER_INPUT_CONTAINER_H
#define EXPORTER_INPUT_CONTAINER_H

#include <stddef.h>

#include "config/config.h"
#include "exporter/input/tail.h"

/* What one wrapped line gave. */
enum container_result {
	CONTAINER_LINE,     /* a complete line: *ret_line, *ret_len */
	CONTAINER_PENDING,  /* a piece of a longer line, kept (or skipped) */
	CONTAINER_FILTERED, /* a line or piece of a stream not counted */
	CONTAINER_INVALID,  /* not in the wrapper the file uses */
	CONTAINER_TOO_LONG, /* the reassembled line is over the cap: dropped */
};

/* The wrapper line of a content line of line_cap bytes can be longer:
 * the line cap tail should apply to wrapped lines (2 x cap + 1 KiB, for
 * escapes and the wrapper; at most TAIL_MAX_LINE_CAP). */
size_t container_wrapped_cap(size_t line_cap);

struct container_unwrap;

/* Unwrapping for one file: format CRI, DOCKER or AUTO (decided from the
 * first non-empty line: '{' Docker, a CRI timestamp CRI, anything else
 * plain lines passed as they are); streams a CONFIG_STREAM_* set (0:
 * stdout); line_cap the longest line delivered (0: TAIL_DEFAULT_LINE_CAP).
 * Memory: one buffer per stream, allocated when a line needs copying
 * (pieces, escapes), growing to at most line_cap + 1 bytes.  NULL on OOM
 * or for CONFIG_CONTAINER_NONE. */
struct container_unwrap *container_unwrap_create(enum config_container format, unsigned streams,
                                                 size_t line_cap);

/* NULL-safe. */
void container_unwrap_destroy(struct container_unwrap *u);

/* Unwrap one wrapped line (without its newline).  CONTAINER_LINE sets
 * *ret_line (into line, or into u's buffer: borrowed until the next call)
 * and *ret_len (a final '\r' removed); other results leave them alone.
 * A piece over the cap is reported once (TOO_LONG) and the rest of its
 * line skipped. */
enum container_result container_unwrap_line(struct container_unwrap *u, const char *line,
                                            size_t len, const char **ret_line, size_t *ret_len);

/* The wrapping the file turned out to use: CRI, DOCKER, NONE (auto saw
 * plain lines) or AUTO (no line yet). */
enum config_container container_unwrap_format(const struct container_unwrap *u);

struct container_tap;

/* A tap unwrapping lines for down: give container_tap_callbacks(tap) to
 * the file reader instead of down.  Unwrapped lines go to down->line;
 * invalid lines are TAIL_EV_INVALID and over-long reassembled lines
 * TAIL_EV_TOO_LONG events; the reader's own events, file and from calls
 * pass through (block is not used: lines go one by one).  0, -EINVAL (format NONE), -ENOMEM. */
int container_tap_create(enum config_container format, unsigned streams, size_t line_cap,
                         const struct tail_callbacks *down, struct container_tap **ret_tap);

/* NULL-safe. */
void container_tap_destroy(struct container_tap *tap);

/* The callbacks to read through tap (borrowed: valid while tap lives). */
const struct tail_callbacks *container_tap_callbacks(const struct container_tap *tap);

#endif
