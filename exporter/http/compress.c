/*
 * compress.c - gzip via zlib (see compress.h).
 *
 * deflate() over the whole input into an output buffer that starts at a
 * sixth of the input and doubles while deflate asks for room (up to
 * deflateBound(), which cannot be exceeded): a scrape is already in memory,
 * so streaming would only add copies.  The output is about an eighth of the
 * input; allocating deflateBound() (the input's size) per scrape made every
 * gzip scrape take and free a block as large as the document, which raised
 * glibc's mmap threshold and left the block in the MHD thread's arena.
 * windowBits 31 (15 + 16) makes zlib write the gzip header and trailer.  Level 1 is the
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
#define COMPRESS_MIN_OUT 4096u

int compress_gzip(const void *in, size_t len, int level, char **ret_out, size_t *ret_len)
{
	z_stream z = {0};
	char *out = NULL;
	size_t size, bound;
	int r, zr;

	if (level < 0 || level > 9 || len > COMPRESS_MAX_INPUT) {
		return -EINVAL;
	}
	if (deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		return -ENOMEM;
	}
	/* Start at a sixth of the input (a scrape compresses about 8x) and grow
	 * by doubling up to deflateBound(): never a block the size of the
	 * document for a body a tenth of it (see the top of the file). */
	bound = deflateBound(&z, (uLong)len);
	size = len / 6 + COMPRESS_MIN_OUT < bound ? len / 6 + COMPRESS_MIN_OUT : bound;
	out = malloc(size);
	if (!out) {
		r = -ENOMEM;
		goto out;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)size;
	while ((zr = deflate(&z, Z_FINISH)) != Z_STREAM_END) {
		if ((zr != Z_OK && zr != Z_BUF_ERROR) || z.avail_out != 0 || size >= bound) {
			free(out);
			r = -EIO;
			goto out;
		}
		size_t grown = size * 2 < bound ? size * 2 : bound;
		char *more = realloc(out, grown);
		if (!more) {
			free(out);
			r = -ENOMEM;
			goto out;
		}
		out = more;
		z.next_out = (Bytef *)out + z.total_out;
		z.avail_out = (uInt)(grown - z.total_out);
		size = grown;
	}
	*ret_out = out;
	*ret_len = (size_t)z.total_out;
	r = 0;
out:
	(void)deflateEnd(&z);
	return r;
}
