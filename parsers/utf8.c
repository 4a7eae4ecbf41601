/*
 * utf8.c - UTF-8 sequence validation (see utf8.h).
 *
 * A direct transcription of the RFC 3629 byte ranges: the lead byte picks
 * the length, continuation bytes must be 10xxxxxx, and the second byte's
 * range rules out overlong forms (E0, F0), surrogates (ED) and code points
 * above U+10FFFF (F4).  Bounded by n, so it never reads past the buffer.
 */
#include "parsers/utf8.h"

size_t utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80) {
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		return (n >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) {
			return 0;
		}
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)) {
			return 0; /* overlong or surrogate */
		}
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80) {
			return 0;
		}
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)) {
			return 0;
		}
		return 4;
	}
	return 0;
}
