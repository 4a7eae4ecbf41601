/*
 * copymatch.c - copytruncate's copies, known by content (see copymatch.h).
 *
 * logrotate's copytruncate copies access.log to access.log.1 (later
 * access.log.1.gz) and truncates access.log in place: the inode stays, so
 * identity says nothing; the first bytes do.  A copy is any file that
 * starts with the bytes a position fingerprinted (its first KiB, tail.h),
 * whatever its name, provided the name fits: a rotated name of the file, or
 * any name in its directory when the fingerprint covers a whole
 * TAIL_FP_MAX.  Three moments use it:
 *   - a glob matches the copy before the truncate (is_pending): the copy is
 *     left alone, its lines come from the file still growing;
 *   - the truncate (recover): the copy is looked for in the rotation chain
 *     (a rotated member, plain or gzip, read from where we were), then
 *     among copies holding nothing new (followed from their end), then in
 *     the directory (a script's access.log.bak); found nowhere, the
 *     position is remembered (lost);
 *   - a file that appears later with those first bytes resumes at that
 *     position (take_lost), so its lines are counted once.
 * Content-fingerprinting tailers (Filebeat's fingerprint, Vector's
 * checksum) do the same.  The caller (fileset.c) opens and follows files:
 * this module only opens candidates to compare them.
 *
 * Rejected: a copy by name alone (a glob access.log* read access.log.bak
 * or access.log.old-<epoch> again from 0); by content alone, or with a
 * head shorter than TAIL_FP_MAX under any name (two logs beginning with the
 * same health-check line are two logs); reading a pending copy beside its
 * file (cp may still be writing it and the file grows until truncated: the
 * lines would be counted twice); remembering lost positions without a cap
 * (COPYMATCH_LOST_MAX, the oldest goes).
 */
#include "exporter/input/copymatch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporter/log.h"
#include "exporter/input/fdlimit.h"
#include "exporter/input/zfile.h"

/* The position of a truncated file whose copy was found nowhere yet. */
struct lost {
	struct tail_position pos;
	char *path;
};

struct copymatch {
	char *source;
	struct lost lost[COPYMATCH_LOST_MAX];
	size_t n_lost;
	size_t lost_next; /* the oldest, once full */
};

struct copymatch *copymatch_create(const char *source)
{
	struct copymatch *cm = calloc(1, sizeof(*cm));

	if (!cm) {
		return NULL;
	}
	cm->source = strdup(source ? source : "");
	if (!cm->source) {
		free(cm);
		return NULL;
	}
	return cm;
}

void copymatch_destroy(struct copymatch *cm)
{
	if (!cm) {
		return;
	}
	for (size_t i = 0; i < cm->n_lost; i++) {
		free(cm->lost[i].path);
	}
	free(cm->source);
	free(cm);
}

/* The directory part of path (up to its last '/'), and its length. */
static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path) + 1 : 0;
}

bool copymatch_is_rotated_name(const char *path, const char *orig)
{
	struct rotchain_key k;
	size_t dl = dir_len(orig);

	return dir_len(path) == dl && memcmp(path, orig, dl) == 0 &&
	       rotchain_is_member(orig + dl, path + dl, &k);
}

/* The fingerprint of the first len bytes of the file at path, in *ret_hash
 * (false when it cannot be read or is shorter). */
static bool same_head(const char *path, uint32_t len, uint64_t *ret_hash)
{
	uint32_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	bool ok =
	    fd >= 0 && len && tail_fingerprint(fd, len, len, &got, ret_hash) == 0 && got == len;

	if (fd >= 0) {
		close(fd);
	}
	return ok;
}

/*
 * Whether a file at path can be a copy of the file at orig whose position
 * is pos, by name: a rotated name of orig (rotchain_is_member), or any name
 * in the same directory when pos fingerprints a whole TAIL_FP_MAX (1 KiB)
 * of content -- shorter heads (a file of a few lines) are too easily
 * shared by two different logs (the same health check in two vhosts) to
 * say "copy" without the name.
 */
static bool may_be_copy(const char *path, const char *orig, const struct tail_position *pos)
{
	size_t dl = dir_len(orig);

	if (copymatch_is_rotated_name(path, orig)) {
		return true;
	}
	return pos->id.fp_len == TAIL_FP_MAX && dir_len(path) == dl && memcmp(path, orig, dl) == 0;
}

/* Whether the file on fd starts with the bytes pos fingerprinted (none:
 * false). */
static bool starts_with(int fd, const struct tail_position *pos)
{
	uint32_t len;
	uint64_t hash;

	return pos->id.fp_len &&
	       tail_fingerprint(fd, pos->id.fp_len, pos->id.fp_len, &len, &hash) == 0 &&
	       len == pos->id.fp_len && hash == pos->id.fp_hash;
}

/* Whether the file on fd starts with the bytes pos fingerprinted; then
 * *ret_offset is where its unread lines begin. */
static bool same_content(int fd, const struct stat *st, const struct tail_position *pos,
                         uint64_t *ret_offset)
{
	if ((uint64_t)st->st_size < pos->id.fp_len || !starts_with(fd, pos)) {
		return false;
	}
	*ret_offset = pos->offset < (uint64_t)st->st_size ? pos->offset : (uint64_t)st->st_size;
	return true;
}

bool copymatch_is_copy(const char *path, int fd, const struct stat *st, const char *orig,
                       const struct tail_position *pos, uint64_t *ret_offset)
{
	return may_be_copy(path, orig, pos) && same_content(fd, st, pos, ret_offset);
}

bool copymatch_member_is(int fd, const struct stat *st, enum rotchain_codec codec,
                         const struct tail_position *pos, bool by_content)
{
	switch (codec) {
	case ROTCHAIN_PLAIN:
		return tail_identity_match(fd, st, pos) == TAIL_MATCH_SAME ||
		       (by_content && (uint64_t)st->st_size >= pos->offset && starts_with(fd, pos));
	case ROTCHAIN_GZIP:
		return zfile_matches(fd, pos);
	default:
		return false;
	}
}

bool copymatch_is_pending(const char *path, int fd, const struct stat *st, const char *orig,
                          const struct tail_position *pos)
{
	struct tail_position head = *pos;
	uint64_t off;

	if (!pos->id.fp_len) {
		return false;
	}
	if (st->st_size == 0) {
		return copymatch_is_rotated_name(path, orig); /* cp has just created it */
	}
	if ((uint64_t)st->st_size < pos->id.fp_len) {
		/* cp has only begun: compare what it wrote with the file's head */
		head.id.fp_len = (uint32_t)st->st_size;
		if (!same_head(orig, head.id.fp_len, &head.id.fp_hash)) {
			return false;
		}
	}
	/* A copy under any name the patterns match (access.log.bak,
	 * access.log.old-<epoch>) holds the same lines: see may_be_copy. */
	return copymatch_is_copy(path, fd, st, orig, &head, &off);
}

bool copymatch_take_lost(struct copymatch *cm, const char *path, int fd, const struct stat *st,
                         uint64_t *ret_offset, bool *ret_skipping)
{
	for (size_t i = 0; i < cm->n_lost; i++) {
		struct lost *l = &cm->lost[i];
		if (copymatch_is_copy(path, fd, st, l->path, &l->pos, ret_offset)) {
			*ret_skipping = *ret_offset == l->pos.offset && l->pos.skipping;
			free(l->path);
			*l = cm->lost[--cm->n_lost]; /* one copy per truncation */
			return true;
		}
	}
	return false;
}

/* path's file was truncated at old and its copy is nowhere yet. */
static void remember_lost(struct copymatch *cm, const char *path, const struct tail_position *old)
{
	struct lost *l = &cm->lost[cm->n_lost < COPYMATCH_LOST_MAX ? cm->n_lost : cm->lost_next];
	char *copy;

	if (!old->id.fp_len || !(copy = strdup(path))) {
		return; /* nothing was read: nothing to recognise or to resume */
	}
	if (cm->n_lost < COPYMATCH_LOST_MAX) {
		cm->n_lost++;
	} else {
		free(l->path); /* the oldest goes */
		cm->lost_next = (cm->lost_next + 1) % COPYMATCH_LOST_MAX;
	}
	*l = (struct lost){*old, copy};
}

/* Whether member m (the file at path) is the copy: it starts with the
 * bytes old fingerprinted and holds old's offset. */
static bool member_is_copy(const struct rotchain_member *m, const struct tail_position *old)
{
	struct stat st;
	bool found = false;
	int fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		return false;
	}
	if (fstat(fd, &st) == 0) {
		found = copymatch_member_is(fd, &st, m->key.codec, old, true);
	}
	close(fd);
	return found;
}

/* A copy no longer than what we read of its file holds nothing new: it is
 * followed from its end, like a rotated file, so that a glob matching it
 * does not read it from 0 (the file's fingerprint changed with the
 * truncation: copymatch_is_pending no longer recognises it) and
 * checkpoints know it. */
static bool copies_read(const char *path, const struct tail_position *old,
                        const struct rotchain_member *m, size_t n,
                        const struct copymatch_sink *sink)
{
	bool found = false;

	for (size_t i = 0; i < n && !sink->is_full(sink->userdata); i++) {
		struct stat st;
		uint64_t off;
		int fd;
		if (m[i].key.codec != ROTCHAIN_PLAIN ||
		    sink->is_followed(sink->userdata, m[i].dev, m[i].ino)) {
			continue;
		}
		fd = fdlimit_open(AT_FDCWD, m[i].path);
		if (fd < 0) {
			continue;
		}
		if (fstat(fd, &st) == 0 && copymatch_is_copy(m[i].path, fd, &st, path, old, &off) &&
		    sink->follow(sink->userdata, fd, &st, (uint64_t)st.st_size, false) == 0) {
			found = true;
			continue; /* fd taken */
		}
		close(fd);
	}
	return found;
}

/* Whether the file name (in the directory open as d) is the copy: followed
 * from where old was read to when it is (fd taken). */
static bool take_dir_copy(struct copymatch *cm, DIR *d, const char *name, const char *path,
                          const struct tail_position *old, const struct copymatch_sink *sink)
{
	struct stat st;
	uint64_t off;
	char o[24];
	int fd = fdlimit_open(dirfd(d), name);

	if (fd < 0) {
		return false;
	}
	if (fstat(fd, &st) < 0 || !same_content(fd, &st, old, &off) ||
	    sink->follow(sink->userdata, fd, &st, off, off == old->offset && old->skipping) < 0) {
		close(fd);
		return false;
	}
	(void)snprintf(o, sizeof(o), "%llu", (unsigned long long)off);
	log_info("truncated file: reading the rest of its lines from its copy", "source",
	         cm->source, "path", path, "copy", name, "offset", o);
	return true;
}

/*
 * The copy of a truncated file under a name that is no rotation of it
 * (access.log.bak, access.log-old: a copy made by a script, or logrotate's
 * with an extension we do not parse): any regular file of the directory
 * that starts with the bytes the file had.  Read from where we were, as a
 * rotated file (closed after the grace period unless a pattern matches it).
 * Bounded: COPYMATCH_DIR_SCAN_MAX names, only files at least as long as the
 * fingerprint, one open per candidate; runs once per truncation.
 */
static bool dir_copy(struct copymatch *cm, const char *path, const struct tail_position *old,
                     const struct copymatch_sink *sink)
{
	char dir[4096];
	size_t dl = dir_len(path), seen = 0;
	bool found = false;
	struct dirent *de;
	DIR *d;

	if (dl >= sizeof(dir) || old->id.fp_len != TAIL_FP_MAX) {
		return false; /* a short head says too little without the name (may_be_copy) */
	}
	memcpy(dir, dl ? path : ".", dl ? dl : 1);
	dir[dl ? dl : 1] = '\0';
	d = opendir(dir);
	while (d && !found && !sink->is_full(sink->userdata) && (de = readdir(d)) != NULL &&
	       seen++ < COPYMATCH_DIR_SCAN_MAX) {
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_size < old->id.fp_len ||
		    sink->is_followed(sink->userdata, (uint64_t)st.st_dev, (uint64_t)st.st_ino)) {
			continue;
		}
		found = take_dir_copy(cm, d, de->d_name, path, old, sink);
	}
	if (d) {
		closedir(d);
	}
	return found;
}

void copymatch_recover(struct copymatch *cm, const char *path, const struct tail_position *old,
                       const struct copymatch_sink *sink)
{
	struct rotchain_member *m = NULL;
	size_t n = 0;

	if (rotchain_list(path, &m, &n) < 0) {
		if (!dir_copy(cm, path, old, sink)) {
			remember_lost(cm, path, old);
		}
		return;
	}
	/* The newest member first: logrotate's copy is access.log.1. */
	for (size_t i = n; i-- > 0;) {
		if ((m[i].key.codec == ROTCHAIN_PLAIN || m[i].key.codec == ROTCHAIN_GZIP) &&
		    member_is_copy(&m[i], old)) {
			sink->read_member(sink->userdata, &m[i]);
			rotchain_free(m, n);
			return;
		}
	}
	if (!copies_read(path, old, m, n, sink) && !dir_copy(cm, path, old, sink)) {
		remember_lost(cm, path, old);
	}
	rotchain_free(m, n);
}
