/*
 * strbuf.h - a growable byte buffer with a hard cap.
 *
 * Used to build HTTP responses and checkpoint files.  Every append checks
 * the cap before growing; once an append fails the buffer remembers it
 * (strbuf_failed) so writers can append freely and check once at the end.
 */
#ifndef EXPORTER_STRBUF_H
#define EXPORTER_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Where a sink buffer's content goes (strbuf_init_sink): 0 or -errno. */
typedef int (*strbuf_sink_fn)(void *ctx, const char *data, size_t len);

struct strbuf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;          /* hard limit on len */
	int error;           /* first error: 0, -ENOMEM, -E2BIG or -ENOSPC */
	bool borrowed;       /* data is the caller's (strbuf_init_borrowed): never grown or freed */
	strbuf_sink_fn sink; /* strbuf_init_sink: takes the content whenever the buffer is full */
	void *sink_ctx;
	size_t chunk;   /* sink: the buffer's size */
	size_t spilled; /* sink: bytes handed to it so far */
};

/* Initialise caller storage; cap is the maximum length in bytes. */
void strbuf_init(struct strbuf *b, size_t cap);

/* Initialise caller storage over size bytes of the caller's memory (size
 * >= 1), which the buffer never reallocates or frees: an append that does
 * not fit fails with -ENOSPC (the caller may grow its memory and start
 * over).  cap as for strbuf_init. */
void strbuf_init_borrowed(struct strbuf *b, char *data, size_t size, size_t cap);

/* Initialise caller storage that streams: whenever an append does not fit
 * in chunk bytes, the content so far goes to sink(ctx, ...) and the buffer
 * starts over (a piece longer than chunk grows it), so a render of any size
 * touches the same chunk of memory (--once: no page fault per 4 KiB of
 * output).  Only for writers that never look back at what they appended.
 * cap bounds the total (checked whenever the buffer is spilled, so within
 * chunk bytes).  strbuf_flush hands over the rest. */
void strbuf_init_sink(struct strbuf *b, size_t chunk, size_t cap, strbuf_sink_fn sink, void *ctx);

/* A sink buffer: hand the content to the sink and empty the buffer.  0, the
 * buffer's error, or the sink's. */
int strbuf_flush(struct strbuf *b);

/* Free the data (unless borrowed); the buffer can be initialised again. NULL-safe. */
void strbuf_finish(struct strbuf *b);

/* Forget the content, keep the allocation and clear the error. */
void strbuf_reset(struct strbuf *b);

/* Append bytes; on failure sets b->error and returns it.  The common case
 * (room left, no error) is inline: renders append millions of short pieces. */
int strbuf_append_slow(struct strbuf *b, const void *data, size_t len);

/* Take over data (alloc bytes from malloc) as the empty buffer's storage:
 * a buffer kept from an earlier use.  Any storage b had is freed. */
void strbuf_adopt(struct strbuf *b, char *data, size_t alloc);

/* Make room for extra more bytes at once (a size hint: one allocation
 * instead of a series of doublings).  0, -E2BIG past the cap, -ENOMEM. */
int strbuf_reserve(struct strbuf *b, size_t extra);
static inline int strbuf_append(struct strbuf *b, const void *data, size_t len)
{
	if (!b->error && len < b->alloc - b->len && len <= b->cap - b->len) {
		memcpy(b->data + b->len, data, len);
		b->len += len;
		b->data[b->len] = '\0';
		return 0;
	}
	return strbuf_append_slow(b, data, len);
}

/* Append a NUL-terminated string. */
int strbuf_puts(struct strbuf *b, const char *s);

/* Append one byte. */
int strbuf_putc(struct strbuf *b, char c);

/* Append an unsigned decimal. */
int strbuf_put_u64(struct strbuf *b, uint64_t v);

/* Append a double the way Prometheus expects ("+Inf", "NaN", shortest round-trip). */
int strbuf_put_double(struct strbuf *b, double v);

/* printf-style append (checked vsnprintf). */
int strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Detach the data (NUL-terminated) and reset the buffer; caller frees. NULL on
 * error and for a borrowed buffer. */
char *strbuf_steal(struct strbuf *b, size_t *ret_len);

#endif
