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

struct strbuf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;    /* hard limit on len */
	int error;     /* first error: 0, -ENOMEM, -E2BIG or -ENOSPC */
	bool borrowed; /* data is the caller's (strbuf_init_borrowed): never grown or freed */
};

/* Initialise caller storage; cap is the maximum length in bytes. */
void strbuf_init(struct strbuf *b, size_t cap);

/* Initialise caller storage over size bytes of the caller's memory (size
 * >= 1), which the buffer never reallocates or frees: an append that does
 * not fit fails with -ENOSPC (the caller may grow its memory and start
 * over).  cap as for strbuf_init. */
void strbuf_init_borrowed(struct strbuf *b, char *data, size_t size, size_t cap);

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
