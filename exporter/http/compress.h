/*
 * compress.h - gzip for HTTP responses (zlib).
 */
#ifndef EXPORTER_COMPRESS_H
#define EXPORTER_COMPRESS_H

#include <stddef.h>

/* Default level: 1 compresses a scrape ~8x at a fraction of the render cost
 * (see bench/render_bench.c). */
#define COMPRESS_DEFAULT_LEVEL 1

/* Gzip len bytes of in (one gzip member, RFC 1952).  On success
 * *ret_out is a malloc'd buffer the caller frees and *ret_len its size.
 * Returns 0, -EINVAL (bad level or len > 1 GiB), -ENOMEM, -EIO. */
int compress_gzip(const void *in, size_t len, int level, char **ret_out, size_t *ret_len);

#endif
