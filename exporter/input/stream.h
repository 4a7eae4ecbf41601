/*
 * stream.h - lines from a descriptor that has no position: standard input
 * (a pipe from Apache's CustomLog "|...", from `tail -F`, or a redirected
 * file).
 *
 * The descriptor is read as it comes: whatever is there when polled, in
 * chunks of the shared line buffer, split by tail_split with the file
 * rules (newline stripped, "\r\n" too, over-long lines skipped whole and
 * reported).  Nothing can be resumed: there is no offset to checkpoint,
 * so a restart reads what the writer sends from then on.  At end of input
 * the stream is done; a final line without a newline counts only when the
 * caller says the end is a line end (--once).  The descriptor is never
 * made non-blocking (O_NONBLOCK would change it for the writer's side of a
 * shared terminal or pipe too): follow mode reads only what poll(2) says
 * is there, and --once blocks until the end of input, which is what a
 * batch run over a pipe means.
 */
#ifndef EXPORTER_STREAM_H
#define EXPORTER_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter/input/tail.h"

struct stream;

/* Read fd (borrowed: not closed by stream_destroy), known as name (for the
 * landing page and logs; copied).  line_cap 0: TAIL_DEFAULT_LINE_CAP.
 * 0, -ENOMEM. */
int stream_create(int fd, const char *name, size_t line_cap, const struct tail_callbacks *cb,
                  struct stream **ret_stream);

/* NULL-safe. */
void stream_destroy(struct stream *st);

/* Read what is there now (block: until some bytes or the end), at most
 * about 64 MiB.  Returns bytes consumed, 0 when nothing was there or the
 * stream is done.  at_eof_is_line: a last line without a newline is
 * delivered at the end.  A read error ends the stream
 * (TAIL_EV_READ_ERROR with the errno). */
int64_t stream_poll(struct stream *st, bool block, bool at_eof_is_line);

/* Whether the end of input (or a read error) was reached. */
bool stream_done(const struct stream *st);

/* The errno of the read error that ended the stream, else 0. */
int stream_error(const struct stream *st);

/* Bytes consumed so far. */
uint64_t stream_offset(const struct stream *st);

/* The descriptor to wait on for new data; -1 once done. */
int stream_wait_fd(const struct stream *st);

/* The name given to stream_create (borrowed). */
const char *stream_name(const struct stream *st);

#endif
