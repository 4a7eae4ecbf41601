/*
 * pbwire.h - the protocol buffers wire format, written into a strbuf.
 *
 * Just what an encoder needs: varints (plain, zigzag), fixed 64-bit
 * doubles, length-delimited fields, and nested messages whose length is
 * not known in advance (pbwire_begin / pbwire_end).  Encodes per the
 * documented format (protobuf.dev/programming-guides/encoding): little
 * endian, minimal varints, field tags (number << 3 | wire type).  Like
 * every strbuf writer, errors stick in the buffer: check b->error once.
 */
#ifndef EXPORTER_PBWIRE_H
#define EXPORTER_PBWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exporter/strbuf.h"

enum pbwire_type {
	PBWIRE_VARINT = 0,
	PBWIRE_I64 = 1,
	PBWIRE_LEN = 2,
	PBWIRE_I32 = 5,
};

/* Number of bytes of the varint encoding of v (1..10). */
static inline size_t pbwire_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Encode v at p (room for 10 bytes); returns the bytes written.  For
 * encoders that assemble a message in a local array. */
static inline size_t pbwire_put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* Encode a double field (tag, 8 bytes little endian) at p (room for 15
 * bytes); returns the bytes written. */
static inline size_t pbwire_put_double(unsigned char *p, uint32_t field, double v)
{
	size_t n = pbwire_put_varint(p, (uint64_t)field << 3 | 1u);
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	for (int i = 0; i < 8; i++) {
		p[n++] = (unsigned char)(u >> (8 * i)); /* little endian on any host */
	}
	return n;
}

/* A bare varint (as the length prefix of a delimited message). */
void pbwire_varint(struct strbuf *b, uint64_t v);

/* A field's tag. */
void pbwire_tag(struct strbuf *b, uint32_t field, enum pbwire_type type);

/* Scalar fields: uint64/uint32/enum/bool (varint), int64 (two's complement
 * varint, 10 bytes when negative), sint32/sint64 (zigzag), double (fixed 64). */
void pbwire_uint64(struct strbuf *b, uint32_t field, uint64_t v);
void pbwire_int64(struct strbuf *b, uint32_t field, int64_t v);
void pbwire_sint64(struct strbuf *b, uint32_t field, int64_t v);
void pbwire_double(struct strbuf *b, uint32_t field, double v);

/* A string or bytes field. */
void pbwire_bytes(struct strbuf *b, uint32_t field, const void *data, size_t len);

/* Start a length-delimited field (a nested message) whose length is known
 * only at its end; field 0 starts a bare length-prefixed message (the
 * delimited stream of MetricFamily).  Returns a mark for pbwire_end. */
size_t pbwire_begin(struct strbuf *b, uint32_t field);

/* End the field started at mark: writes its length, moving the body when
 * the length needs more than the one byte reserved. */
void pbwire_end(struct strbuf *b, size_t mark);

/* The same for a message expected to be large (16 kB to 2 MB: a metric
 * family of a big registry): three length bytes are reserved, so such a
 * body is never moved; a smaller one moves left (it is short), a larger
 * one right. */
size_t pbwire_begin_large(struct strbuf *b, uint32_t field);
void pbwire_end_large(struct strbuf *b, size_t mark);

#endif
