/*
 * utf8.h - UTF-8 validation shared by everything that writes text we did
 * not produce ourselves (label values, diagnostics).
 */
#ifndef PARSERS_UTF8_H
#define PARSERS_UTF8_H

#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at p, given n > 0 bytes
 * available, or 0 when the bytes there are not valid UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF, no truncation). */
size_t utf8_seq_len(const unsigned char *p, size_t n);

#endif
