/*
 * copymatch.h - copytruncate's copies of a followed file, recognised by
 * their first bytes (see copymatch.c for the design).
 *
 * A position (tail.h) carries the fingerprint of a file's first bytes and
 * the offset read to.  A file that starts with those bytes and is in the
 * same directory is a copy of that file: it holds the lines read (counted
 * already) up to the offset and the unread tail after it.  fileset.c asks
 * here whether a new file is such a copy (pending: the original is not
 * truncated yet; lost: it was truncated before the copy appeared) and, when
 * a followed file is truncated, where the copy of its unread tail is
 * (copymatch_recover); it opens and reads what it is told to.
 */
#ifndef EXPORTER_INPUT_COPYMATCH_H
#define EXPORTER_INPUT_COPYMATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "exporter/input/rotchain.h"
#include "exporter/input/tail.h"

/* Truncated files whose copy was not found yet, remembered per source
 * (the oldest goes first). */
#define COPYMATCH_LOST_MAX 16u
/* Names read when a copy is searched for in a directory. */
#define COPYMATCH_DIR_SCAN_MAX 100000u

struct copymatch;

/* The copy memory of the source named source (for its log lines).  NULL
 * on out-of-memory. */
struct copymatch *copymatch_create(const char *source);

/* NULL-safe. */
void copymatch_destroy(struct copymatch *cm);

/* Whether path is a rotated name of orig (rotchain_is_member) in the same
 * directory. */
bool copymatch_is_rotated_name(const char *path, const char *orig);

/* Whether the file open on fd (st its fstat) at path is a copy of the file
 * that was at orig with position pos: a name it may have (a rotated name of
 * orig, or with a whole TAIL_FP_MAX fingerprint any name in orig's
 * directory) and the bytes pos fingerprinted.  Then *ret_offset is where
 * its unread lines begin (pos->offset, or its size when shorter). */
bool copymatch_is_copy(const char *path, int fd, const struct stat *st, const char *orig,
                       const struct tail_position *pos, uint64_t *ret_offset);

/* Whether the rotated member open on fd (st its fstat, compressed with
 * codec) is the file of position pos: a plain one by identity, or, with
 * by_content, by starting with the bytes pos fingerprinted and holding
 * pos->offset bytes (copytruncate copied it to a new inode); a gzip one by
 * the fingerprint of its first uncompressed bytes.  Other codecs: false. */
bool copymatch_member_is(int fd, const struct stat *st, enum rotchain_codec codec,
                         const struct tail_position *pos, bool by_content);

/* Whether the new file open on fd at path is a copy of the followed (not
 * truncated) file at orig read to pos, being written by cp or complete:
 * an empty file with a rotated name of orig, a shorter one whose bytes are
 * orig's first bytes, or a copy (copymatch_is_copy).  Its lines are read
 * from orig until the truncate; then copymatch_recover reads the rest. */
bool copymatch_is_pending(const char *path, int fd, const struct stat *st, const char *orig,
                          const struct tail_position *pos);

/* Whether the new file open on fd at path is the copy of a file truncated
 * earlier whose copy copymatch_recover did not find: then that file is
 * forgotten (one copy per truncation) and the new one resumes at
 * *ret_offset (*ret_skipping: inside an over-long line already reported). */
bool copymatch_take_lost(struct copymatch *cm, const char *path, int fd, const struct stat *st,
                         uint64_t *ret_offset, bool *ret_skipping);

/* What copymatch_recover asks of the caller, which follows the files. */
struct copymatch_sink {
	/* Whether the file (dev, ino) is followed already. */
	bool (*is_followed)(void *userdata, uint64_t dev, uint64_t ino);
	/* Whether no further file can be followed (the source's cap). */
	bool (*is_full)(void *userdata);
	/* Read member m of the truncated file's rotation chain (plain or gzip;
	 * m->path borrowed for the call) from the old position's offset. */
	void (*read_member)(void *userdata, const struct rotchain_member *m);
	/* Follow the copy open on fd (st its fstat) as a rotated file known by
	 * the truncated file's path, from offset: 0 (fd taken) or -errno. */
	int (*follow)(void *userdata, int fd, const struct stat *st, uint64_t offset,
	              bool skipping);
	void *userdata;
};

/*
 * The file followed at path was truncated at position old (copytruncate):
 * find its copy and hand it to sink - a rotated member that starts with its
 * bytes and holds old's offset (read_member, from there); else copies no
 * longer than what was read (follow, from their end: nothing new, but a
 * glob matching them must not read them from 0); else a file of its
 * directory with a whole TAIL_FP_MAX fingerprint (follow, from old's
 * offset; logged); else old is remembered for copymatch_take_lost.  Bounded:
 * ROTCHAIN_MAX_MEMBERS and COPYMATCH_DIR_SCAN_MAX names, one open per
 * candidate.
 */
void copymatch_recover(struct copymatch *cm, const char *path, const struct tail_position *old,
                       const struct copymatch_sink *sink);

#endif
