/*
 * compress.c - gzip via zlib (see compress.h).
 *
 * One deflate call into a buffer of deflateBound() bytes: a scrape is
 * already in memory, so streaming would only add copies.  windowBits 31
 * (15 + 16) makes zlib write the gzip header and trailer.  Level 1 is the
 * default because a scrape is compressed on every request and the text
 * format is so repetitive that higher levels gain little.
 *
 * Rejected: MHD's own compression (it has none), a static z_stream reused
 * across requests (MHD may serve requests on more than one thread later).
 */
#include "exporter/http/compress.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#define COMPRESS_MAX_INPUT (1024u * 1024u * 1024u)

int compress_gzip(const void *in, size_t len, int level, char **ret_out, size_t *ret_len)
{
	z_stream z = {0};
	char *out = NULL;
	uLong bound;
	int r;

	if (level < 0 || level > 9 || len > COMPRESS_MAX_INPUT) {
		return -EINVAL;
	}
	if (deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		return -ENOMEM;
	}
	bound = deflateBound(&z, (uLong)len);
	out = malloc(bound);
	if (!out) {
		r = -ENOMEM;
		goto out;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		free(out);
		r = -EIO;
		goto out;
	}
	/* the bound is the input's size; the output is a twentieth of it */
	char *fit = realloc(out, z.total_out ? z.total_out : 1);
	*ret_out = fit != NULL ? fit : out;
	*ret_len = (size_t)z.total_out;
	r = 0;
out:
	(void)deflateEnd(&z);
	return r;
}
