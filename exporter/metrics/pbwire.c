/*
 * pbwire.c - protocol buffers wire format (see pbwire.h).
 *
 * Nested messages reserve one byte for their length and patch it at the
 * end; a body of 128 bytes or more is moved right by the extra varint
 * bytes.  Messages expected to be large reserve three bytes instead, so
 * that only a short body (under 16 kB) is ever moved.  Rejected: computing every size first (a
 * second walk over the registry, which may change in between), and padded non-minimal varints
 * (valid for the decoders we know, but not canonical).
 */
#include "exporter/metrics/pbwire.h"

#include <errno.h>
#include <string.h>

static size_t put_varint(unsigned char *p, uint64_t v)
{
	return pbwire_put_varint(p, v);
}

void pbwire_varint(struct strbuf *b, uint64_t v)
{
	unsigned char tmp[10];

	(void)strbuf_append(b, tmp, put_varint(tmp, v));
}

void pbwire_tag(struct strbuf *b, uint32_t field, enum pbwire_type type)
{
	pbwire_varint(b, (uint64_t)field << 3 | (uint64_t)type);
}

void pbwire_uint64(struct strbuf *b, uint32_t field, uint64_t v)
{
	unsigned char tmp[20];
	size_t n = put_varint(tmp, (uint64_t)field << 3 | PBWIRE_VARINT);

	n += put_varint(tmp + n, v);
	(void)strbuf_append(b, tmp, n);
}

void pbwire_int64(struct strbuf *b, uint32_t field, int64_t v)
{
	pbwire_uint64(b, field, (uint64_t)v);
}

void pbwire_sint64(struct strbuf *b, uint32_t field, int64_t v)
{
	/* Zigzag: 0, -1, 1, -2 ... become 0, 1, 2, 3 (no shift of a negative value). */
	uint64_t u = (uint64_t)v;
	pbwire_uint64(b, field, (u << 1) ^ (v < 0 ? UINT64_MAX : 0));
}

void pbwire_double(struct strbuf *b, uint32_t field, double v)
{
	unsigned char tmp[16];

	(void)strbuf_append(b, tmp, pbwire_put_double(tmp, field, v));
}

void pbwire_bytes(struct strbuf *b, uint32_t field, const void *data, size_t len)
{
	unsigned char tmp[20];
	size_t n = put_varint(tmp, (uint64_t)field << 3 | PBWIRE_LEN);

	n += put_varint(tmp + n, len);
	(void)strbuf_append(b, tmp, n);
	(void)strbuf_append(b, data, len);
}

size_t pbwire_begin(struct strbuf *b, uint32_t field)
{
	if (field) {
		pbwire_tag(b, field, PBWIRE_LEN);
	}
	(void)strbuf_putc(b, 0);
	return b->len - 1;
}

void pbwire_end(struct strbuf *b, size_t mark)
{
	static const unsigned char zeros[10];
	size_t body, extra;

	if (b->error || mark >= b->len) {
		return;
	}
	body = b->len - mark - 1;
	extra = pbwire_varint_len(body) - 1;
	if (extra) {
		if (strbuf_append(b, zeros, extra) < 0) {
			return;
		}
		memmove(b->data + mark + 1 + extra, b->data + mark + 1, body);
	}
	(void)put_varint((unsigned char *)b->data + mark, body);
}

#define LARGE_RESERVE 3

size_t pbwire_begin_large(struct strbuf *b, uint32_t field)
{
	static const unsigned char zeros[LARGE_RESERVE];

	if (field) {
		pbwire_tag(b, field, PBWIRE_LEN);
	}
	(void)strbuf_append(b, zeros, LARGE_RESERVE);
	return b->len - LARGE_RESERVE;
}

void pbwire_end_large(struct strbuf *b, size_t mark)
{
	static const unsigned char zeros[10];
	size_t body, need;

	if (b->error || mark + LARGE_RESERVE > b->len) {
		return;
	}
	body = b->len - mark - LARGE_RESERVE;
	need = pbwire_varint_len(body);
	if (need < LARGE_RESERVE) {
		memmove(b->data + mark + need, b->data + mark + LARGE_RESERVE, body);
		b->len -= LARGE_RESERVE - need;
		b->data[b->len] = '\0';
	} else if (need > LARGE_RESERVE) {
		if (strbuf_append(b, zeros, need - LARGE_RESERVE) < 0) {
			return;
		}
		memmove(b->data + mark + need, b->data + mark + LARGE_RESERVE, body);
	}
	(void)put_varint((unsigned char *)b->data + mark, body);
}
