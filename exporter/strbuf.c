/*
 * strbuf.c - capped growable buffer (see strbuf.h).
 *
 * Growth doubles up to the cap; the cap check happens before any size
 * arithmetic so a huge append can never overflow size_t.
 */
#include "exporter/strbuf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

void strbuf_init_borrowed(struct strbuf *b, char *data, size_t size, size_t cap)
{
	strbuf_init(b, cap);
	b->data = data;
	b->alloc = size;
	b->borrowed = true;
	data[0] = '\0';
}

void strbuf_finish(struct strbuf *b)
{
	if (!b) {
		return;
	}
	if (!b->borrowed) {
		free(b->data);
	}
	strbuf_init(b, b->cap);
}

void strbuf_reset(struct strbuf *b)
{
	b->len = 0;
	b->error = 0;
}

static int reserve(struct strbuf *b, size_t extra)
{
	size_t want, alloc;
	char *p;

	if (b->error) {
		return b->error;
	}
	if (extra > b->cap || b->len > b->cap - extra) {
		b->error = -E2BIG;
		return b->error;
	}
	want = b->len + extra + 1; /* room for a terminating NUL */
	if (want <= b->alloc) {
		return 0;
	}
	if (b->borrowed) {
		b->error = -ENOSPC;
		return b->error;
	}
	alloc = b->alloc ? b->alloc : 4096;
	while (alloc < want) {
		alloc = alloc > SIZE_MAX / 2 ? want : alloc * 2;
	}
	p = realloc(b->data, alloc);
	if (!p) {
		b->error = -ENOMEM;
		return b->error;
	}
	b->data = p;
	b->alloc = alloc;
	return 0;
}

void strbuf_adopt(struct strbuf *b, char *data, size_t alloc)
{
	if (!b->borrowed) {
		free(b->data);
	}
	b->borrowed = false;
	b->data = data;
	b->alloc = data != NULL ? alloc : 0;
	b->len = 0;
	b->error = 0;
	if (data != NULL && alloc > 0) {
		data[0] = '\0';
	}
}

int strbuf_reserve(struct strbuf *b, size_t extra)
{
	return reserve(b, extra);
}

int strbuf_append_slow(struct strbuf *b, const void *data, size_t len)
{
	int r = reserve(b, len);

	if (r < 0) {
		return r;
	}
	if (len) {
		memcpy(b->data + b->len, data, len);
	}
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int strbuf_puts(struct strbuf *b, const char *s)
{
	return strbuf_append(b, s, strlen(s));
}

int strbuf_putc(struct strbuf *b, char c)
{
	return strbuf_append(b, &c, 1);
}

int strbuf_put_u64(struct strbuf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return strbuf_append(b, tmp + i, sizeof(tmp) - i);
}

int strbuf_put_double(struct strbuf *b, double v)
{
	char tmp[40];
	int n;

	if (isnan(v)) {
		return strbuf_puts(b, "NaN");
	}
	if (isinf(v)) {
		return strbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
	}
	if (v == (double)(int64_t)v && fabs(v) < 1e15) {
		n = snprintf(tmp, sizeof(tmp), "%lld", (long long)(int64_t)v);
	} else {
		/* Shortest representation that round-trips. */
		n = snprintf(tmp, sizeof(tmp), "%.15g", v);
		if (n > 0 && (size_t)n < sizeof(tmp) && strtod(tmp, NULL) != v) {
			n = snprintf(tmp, sizeof(tmp), "%.17g", v);
		}
	}
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->error = -EINVAL;
		return b->error;
	}
	return strbuf_append(b, tmp, (size_t)n);
}

int strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	int r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->error = -EINVAL;
		return b->error;
	}
	r = reserve(b, (size_t)n);
	if (r < 0) {
		return r;
	}
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *strbuf_steal(struct strbuf *b, size_t *ret_len)
{
	char *p;

	if (b->error || b->borrowed || reserve(b, 0) < 0) {
		return NULL;
	}
	p = b->data;
	/* Give back the unused tail: a stolen buffer is usually kept for
	 * good (label fragments, one per status slot and method), and 4 KiB
	 * each for a few dozen bytes cost megabytes and page faults at start. */
	if (b->alloc - b->len > 64) {
		char *q = realloc(p, b->len + 1);
		p = q != NULL ? q : p;
	}
	if (ret_len) {
		*ret_len = b->len;
	}
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
