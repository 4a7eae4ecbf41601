/*
 * strbuf.c - capped growable buffer (see strbuf.h).
 *
 * Growth doubles up to the cap; the cap check happens before any size
 * arithmetic so a huge append can never overflow size_t.
 *
 * Doubles are written as printf's "%.15g" when that reads back as the same
 * value, else "%.17g".  Between 1e-4 and 1e14 (histogram sums: seconds
 * and bytes) the digits are made here, exactly: the value is an integer
 * mantissa over a power of two, whose decimal expansion ends, so the
 * digits come from multiplying the fraction by ten in 128-bit integers
 * and round half to even as glibc's printf does; a binary-to-decimal
 * printf costs thousands of instructions per value (a --backfill writes
 * one per histogram series and step).  Elsewhere printf writes them.
 *
 * A sink buffer (strbuf_init_sink, --once's render) hands its content on
 * whenever its one chunk is full and starts over in the same memory.
 * Rejected for --once: building the whole render, then writing it (with
 * 100,000 field-label series 15 MB: 3,700 page faults, about 10 us each on
 * this project's VM, 0.04-0.09 s of a 0.3 s run).
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

void strbuf_init_sink(struct strbuf *b, size_t chunk, size_t cap, strbuf_sink_fn sink, void *ctx)
{
	strbuf_init(b, cap);
	b->sink = sink;
	b->sink_ctx = ctx;
	b->chunk = chunk > 64 ? chunk : 64;
}

static int spill(struct strbuf *b)
{
	int r;

	if (b->error) {
		return b->error;
	}
	if (b->len) {
		r = b->sink(b->sink_ctx, b->data, b->len);
		if (r < 0) {
			b->error = r;
			return r;
		}
		b->spilled += b->len;
		b->len = 0;
		b->data[0] = '\0';
	}
	return 0;
}

int strbuf_flush(struct strbuf *b)
{
	return b->sink ? spill(b) : b->error;
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
	if (extra > b->cap || b->len > b->cap - extra || b->spilled > b->cap - extra - b->len) {
		b->error = -E2BIG;
		return b->error;
	}
	want = b->len + extra + 1; /* room for a terminating NUL */
	if (want <= b->alloc) {
		return 0;
	}
	if (b->sink && b->alloc) {
		/* full: the content so far goes out, the same memory takes the rest */
		if (spill(b) < 0) {
			return b->error;
		}
		want = extra + 1;
		if (want <= b->alloc) {
			return 0;
		}
	}
	if (b->borrowed) {
		b->error = -ENOSPC;
		return b->error;
	}
	alloc = b->alloc ? b->alloc : b->sink ? b->chunk : 4096;
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

/* 128-bit integers (GCC and Clang; __extension__: no pedantic warning). */
__extension__ typedef unsigned __int128 u128;

/* The p (<= 17) significant digits of a (1e-4 <= a < 1e14) rounded half
 * to even, into dig; returns the decimal exponent of the first digit. */
static int exact_digits(double a, int p, char *dig)
{
	int e2;
	double m = frexp(a, &e2); /* a = m * 2^e2, 0.5 <= m < 1 */
	uint64_t mant = (uint64_t)ldexp(m, 53);
	int k = 53 - e2; /* a = mant / 2^k; 6 <= k <= 67 in this range */
	u128 one = (u128)1 << k, frac = mant & (one - 1);
	uint64_t ip = k < 64 ? mant >> k : 0;
	int nd = 0, x = -1;
	char tmp[24];

	for (int n = 0; ip; n++, ip /= 10) {
		tmp[n] = (char)('0' + ip % 10);
		nd = n + 1;
	}
	for (int i = 0; i < nd; i++) {
		dig[i] = tmp[nd - 1 - i];
	}
	x = nd - 1;
	while (nd < p) {
		frac *= 10;
		char d = (char)('0' + (int)(frac >> k));
		frac &= one - 1;
		if (nd == 0 && d == '0') {
			x--; /* a leading zero of the fraction */
			continue;
		}
		dig[nd++] = d;
	}
	u128 half = one >> 1;
	if (frac > half || (frac == half && (dig[p - 1] - '0') % 2 == 1)) {
		int i = p - 1;
		for (; i >= 0 && dig[i] == '9'; i--) {
			dig[i] = '0';
		}
		if (i < 0) {
			dig[0] = '1'; /* 9.99... rounded up: one digit more before the point */
			x++;
		} else {
			dig[i]++;
		}
	}
	return x;
}

/* As snprintf(out, 40, "%.{p}g", v) for 1e-4 <= |v| < 1e14; 0 elsewhere. */
static size_t format_g(double v, int p, char *out)
{
	double a = fabs(v);
	char dig[20];
	size_t n = 0;

	if (!(a >= 1e-4 && a < 1e14)) {
		return 0;
	}
	int x = exact_digits(a, p, dig);
	if (x >= p || x < -4) {
		return 0; /* %g would write an exponent */
	}
	if (v < 0) {
		out[n++] = '-';
	}
	if (x < 0) {
		out[n++] = '0';
		out[n++] = '.';
		for (int i = -1; i > x; i--) {
			out[n++] = '0';
		}
	}
	for (int i = 0; i < p; i++) {
		out[n++] = dig[i];
		if (i == x && i < p - 1) {
			out[n++] = '.';
		}
	}
	while (x < p - 1 && out[n - 1] == '0') {
		n--; /* %g drops trailing zeros after the point, then the point */
	}
	if (out[n - 1] == '.') {
		n--;
	}
	return n;
}

/* v, an integer below 1e15, in decimal. */
static size_t format_int(double v, char *out)
{
	uint64_t u = (uint64_t)fabs(v);
	char tmp[24];
	size_t n = 0, i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0) {
		out[n++] = '-';
	}
	memcpy(out + n, tmp + i, sizeof(tmp) - i);
	return n + sizeof(tmp) - i;
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
		n = (int)format_int(v, tmp); /* -0.0 too: "0", as %lld of 0 */
	} else {
		/* Shortest representation that round-trips. */
		n = (int)format_g(v, 15, tmp);
		n = n ? n : snprintf(tmp, sizeof(tmp), "%.15g", v);
		if (n > 0 && (size_t)n < sizeof(tmp)) {
			tmp[n] = '\0';
		}
		if (n > 0 && (size_t)n < sizeof(tmp) && strtod(tmp, NULL) != v) {
			n = (int)format_g(v, 17, tmp);
			n = n ? n : snprintf(tmp, sizeof(tmp), "%.17g", v);
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
