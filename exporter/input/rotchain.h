/*
 * rotchain.h - the rotation chain of a log file: the rotated copies of
 * access.log in its directory (access.log.1, access.log.2.gz,
 * access.log-20261203, access.log-20261203.gz, ...) in rotation order, how
 * each is compressed, and what a restart from a checkpoint reads of each.
 *
 * Names are classified here, contents are not: the callers (fileset.c,
 * copymatch.c) say which member is a checkpointed file or a copy (by
 * identity, or by the fingerprint of its decompressed first bytes), and
 * rotchain_plan decides the rest.
 */
#ifndef EXPORTER_ROTCHAIN_H
#define EXPORTER_ROTCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Members listed per chain (a directory of daily rotations kept for years
 * is still bounded). */
#define ROTCHAIN_MAX_MEMBERS 1024u
#define ROTCHAIN_SUFFIX_MAX 64u

enum rotchain_codec {
	ROTCHAIN_PLAIN,
	ROTCHAIN_GZIP,
	ROTCHAIN_BZIP2,
	ROTCHAIN_XZ,
	ROTCHAIN_ZSTD,
	ROTCHAIN_CODEC_COUNT,
};

/* Magic bytes looked at by rotchain_codec_by_magic. */
#define ROTCHAIN_MAGIC_MAX 6u

/* "plain", "gzip", "bzip2", "xz", "zstd". */
const char *rotchain_codec_name(enum rotchain_codec c);

/* The codec a file name's extension says (.gz, .bz2, .xz, .zst), else plain. */
enum rotchain_codec rotchain_codec_by_name(const char *name);

/* The codec the first n bytes of a file say (magic numbers), else plain. */
enum rotchain_codec rotchain_codec_by_magic(const void *head, size_t n);

/* Where a rotated name sits in the chain. */
struct rotchain_key {
	enum rotchain_codec codec;
	bool numbered;                    /* access.log.N: larger N is older */
	uint64_t number;                  /* when numbered */
	char suffix[ROTCHAIN_SUFFIX_MAX]; /* dated: "20261203" (later is newer) */
};

/* Whether name (no directory) is a rotated copy of base (no directory):
 * base, then '.' or '-', then a suffix of digits, '.', '-' and '_' that
 * starts with a digit, then optionally a compression extension.  On true
 * fills *ret_key. */
bool rotchain_is_member(const char *base, const char *name, struct rotchain_key *ret_key);

/* The file path is a rotated copy of ("dir/access.log" for
 * "dir/access.log.2.gz"; the shortest such name), written to buf.  false
 * when path is not a rotated name (or buf is too small). */
bool rotchain_root(const char *path, char *buf, size_t size);

/* Rotation order: < 0 when a was rotated before b (a is older).  Numbered
 * by number, dated by suffix, mixed or equal by mtime, then plain first. */
int rotchain_compare(const struct rotchain_key *a, int64_t a_mtime_ns, const struct rotchain_key *b,
                     int64_t b_mtime_ns);

enum rotchain_action {
	ROTCHAIN_SKIP_OLDER, /* rotated before the checkpointed file: counted before */
	ROTCHAIN_RESUME,     /* a checkpointed file: from its saved offset */
	ROTCHAIN_READ,       /* came after the checkpointed file: from the start */
	ROTCHAIN_SKIP_LIMIT, /* over the catch-up byte limit */
	ROTCHAIN_SKIP_CODEC, /* bzip2, xz or zstd: cannot be read */
	ROTCHAIN_SKIP_COPY,  /* a compressed copy of a plain member (compression under way) */
};

/* One rotated file (plain value record; path owned by the array). */
struct rotchain_member {
	char *path;
	struct rotchain_key key;
	uint64_t dev, ino;
	uint64_t size;    /* on disk */
	uint64_t content; /* uncompressed bytes (gzip: from its trailer; estimate) */
	int64_t mtime_ns;
	/* Set by the caller before rotchain_plan: */
	long saved;      /* index of the checkpointed file it is, -1: none */
	uint64_t offset; /* its saved offset when saved >= 0 */
	bool weak;       /* matched by inode only: the file was empty at the checkpoint
	                  * (no fingerprint), the inode may have been reused since */
	/* Set by rotchain_plan: */
	enum rotchain_action action;
};

/* List the rotated copies of path in its directory (at most
 * ROTCHAIN_MAX_MEMBERS, regular files only), oldest first, with saved = -1.
 * *ret_members is freed with rotchain_free.  0 or -errno (opendir). */
int rotchain_list(const char *path, struct rotchain_member **ret_members, size_t *ret_n);

/* NULL-safe. */
void rotchain_free(struct rotchain_member *m, size_t n);

struct rotchain_plan_options {
	bool current_saved;  /* the file now at the path is a checkpointed one (not weak) */
	int64_t saved_at_ns; /* when the checkpoint was written; 0: unknown */
	uint64_t max_bytes;  /* catch-up limit (bytes still to read, newest files first) */
};

/* Decide every member's action (m sorted oldest first, saved filled in):
 * the newest member that is a checkpointed file (not weak) is the anchor;
 * members before it were rotated before it (skipped), checkpointed members
 * resume (weak ones: from 0, all of it came after the checkpoint), members
 * after it are read from the start.  Without an anchor: when the current
 * file is checkpointed every member is older; else (the checkpointed file
 * is gone or was empty) members modified after the checkpoint are read,
 * others skipped.  Then compressed copies of a plain member with the
 * same key, codecs other than gzip, and members over max_bytes (counting
 * from the newest) are skipped.  Returns the bytes to read. */
uint64_t rotchain_plan(struct rotchain_member *m, size_t n, const struct rotchain_plan_options *o);

/* A short reason for a skip action ("older" ... "limit"). */
const char *rotchain_action_name(enum rotchain_action a);

#endif
