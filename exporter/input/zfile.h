/*
 * zfile.h - read a gzip-compressed rotated log file line by line (zlib).
 *
 * A rotated file compressed while the exporter was down still holds lines
 * nobody counted: a zfile reads it through zlib from an offset in its
 * uncompressed bytes (where the checkpoint says reading stopped, or 0) to
 * its end, with the same callbacks and line rules as a tail_file.  The file
 * is finished (logrotate compresses rotated copies only), so a final line
 * without a newline is a line, and the zfile is done at the end of the
 * stream.  Its position is that of a tail_file: the gzip file's (dev, ino),
 * the fingerprint of its first uncompressed bytes and the uncompressed
 * offset, so a checkpoint taken half-way resumes it.
 */
#ifndef EXPORTER_ZFILE_H
#define EXPORTER_ZFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "exporter/input/tail.h"

/* Uncompressed bytes a gzip member may hold before it is refused as a
 * decompression bomb (a log file is a few GiB at most). */
#define ZFILE_MAX_CONTENT (1ull << 40)

/* Fingerprint of the first min(content, max_len) uncompressed bytes of the
 * gzip file open on fd (read from offset 0; the descriptor's file offset
 * is not used).  0, -EIO (not gzip, corrupt) or -errno. */
int zfile_fingerprint(int fd, uint32_t max_len, uint32_t *ret_len, uint64_t *ret_hash);

/* Whether the gzip file on fd starts with the uncompressed bytes a saved
 * position fingerprinted (saved->id.fp_len > 0 and the hash matches). */
bool zfile_matches(int fd, const struct tail_position *saved);

struct zfile;

/* Read the gzip file open on fd (ownership of fd passes on success; st is
 * its fstat) from uncompressed offset (skipping: inside an over-long line
 * already reported), known as path; lines longer than line_cap (0:
 * TAIL_DEFAULT_LINE_CAP) are skipped and reported.  Buffers are allocated
 * at the first poll and freed when done.  0, -ENOMEM, -EIO (not gzip). */
int zfile_open(const char *path, int fd, const struct stat *st, uint64_t offset, bool skipping,
               size_t line_cap, const struct tail_callbacks *cb, struct zfile **ret_file);

/* NULL-safe; closes the descriptor (and destroys its tap). */
void zfile_destroy(struct zfile *z);

struct container_tap;

/* As tail_file_set_tap: lines go through tap, which z owns. */
void zfile_set_tap(struct zfile *z, struct container_tap *tap);

/* Decompress and deliver up to about budget uncompressed bytes.  Returns
 * the bytes consumed (lines and skipped bytes); 0 once done (end of the
 * stream, or an error: TAIL_EV_READ_ERROR was emitted and zfile_error
 * says which). */
int64_t zfile_poll(struct zfile *z, uint64_t budget);

/* Whether the end of the stream (or an error) was reached. */
bool zfile_done(const struct zfile *z);

/* 0, or why reading stopped early: -EIO corrupt data, -EPIPE the stream
 * ends before its trailer (truncated, or still being written), -EFBIG over
 * ZFILE_MAX_CONTENT, another -errno from read. */
int zfile_error(const struct zfile *z);

/* Resumable position (see the top of this file). */
void zfile_position(const struct zfile *z, struct tail_position *ret_pos);

/* The name it is known by (borrowed). */
const char *zfile_path(const struct zfile *z);

/* Whether (dev, ino) is this file. */
bool zfile_is(const struct zfile *z, uint64_t dev, uint64_t ino);

#endif
