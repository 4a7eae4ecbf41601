/*
 * tail.h - read one open log file and hand out complete lines.
 *
 * A tail_file owns one open descriptor of one file identity (device, inode
 * and a fingerprint of the first bytes), a read offset and the partial
 * last line.  tail_file_poll reads what is new and calls back once per
 * complete line (newline stripped, a trailing '\r' stripped too); a partial
 * last line waits for its newline (or, for --once, ends at EOF); a line
 * whose content (without "\n" or "\r\n") is longer than the cap is skipped
 * up to the next newline and reported once, never split.  A size below the
 * offset, or first bytes that no longer match the fingerprint, mean the
 * file was truncated (copytruncate): reading restarts at 0.
 *
 * Which files to follow, rotation and discovery live one level up, in
 * fileset.c: a tail_file never reopens a path, because while its
 * descriptor is open the inode cannot be reused.  The read buffer
 * (line cap + 128 KiB) is a tail_scratch shared by all files of a source,
 * so a thousand followed files cost a thousand small partial-line
 * buffers, not a thousand megabytes.
 *
 * Positions: tail_file_position reports the offset of the end of the last
 * complete line consumed (a buffered partial line is excluded), which is
 * exactly where a restart must resume so that nothing is counted twice.
 */
#ifndef EXPORTER_TAIL_H
#define EXPORTER_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define TAIL_DEFAULT_LINE_CAP (64u * 1024u)
#define TAIL_MAX_LINE_CAP (16u * 1024u * 1024u)
#define TAIL_CHUNK (1024u * 1024u)
/* Bytes at the start of a file that identify it beside (dev, ino). */
#define TAIL_FP_MAX 1024u

enum tail_event {
	TAIL_EV_BYTES,      /* n bytes consumed (complete lines and skipped bytes) */
	TAIL_EV_ROTATED,    /* a followed path now names another file (or none) */
	TAIL_EV_TRUNCATED,  /* the file shrank below our offset or was rewritten */
	TAIL_EV_TOO_LONG,   /* a line over the cap was skipped */
	TAIL_EV_SKIPPED,    /* a file was not read (compressed, over a limit: logged) */
	TAIL_EV_READ_ERROR, /* open/read/stat failed (errno in n) */
	TAIL_EV_INVALID,    /* n lines not in the source's container wrapper */
};

struct tail_callbacks {
	void (*line)(void *userdata, const char *line, size_t len);
	void (*event)(void *userdata, enum tail_event ev, uint64_t n);
	/* A path became followed (open) or stopped being followed; may be NULL. */
	void (*file)(void *userdata, const char *path, bool open);
	void *userdata;
	/* May be NULL.  Else tail_split hands it whole runs of complete lines
	 * (buf[0..n), each line with its "\n", borrowed until it returns)
	 * instead of calling line for each: the receiver splits them with
	 * tail_split and a callbacks without block, on any thread, and gets
	 * exactly the lines and events line would have (--once on several
	 * cores).  The last line at EOF without a newline still goes to line. */
	void (*block)(void *userdata, char *buf, size_t n, size_t cap);
	/* May be NULL (and is ignored without block).  Reads of whole files
	 * (tail_file_poll with at_eof_is_line) go straight into the
	 * receiver's memory instead of the scratch buffer: lend returns
	 * where the next read may write, at least want bytes (*ret_size), or
	 * NULL for the scratch buffer.  The blocks then handed to block lie
	 * in that memory, at the start of the lent space, so the receiver
	 * keeps them without a copy; the bytes after the last block (a
	 * partial line) are the tail's until the next lend, which may
	 * return the same place (after the kept blocks) or new memory (the
	 * tail moves them there).  The receiver must not touch the lent
	 * space past what block handed it. */
	char *(*lend)(void *userdata, size_t want, size_t *ret_size);
	/* The lines that follow, until the next call, come from the file known
	 * as path: called before each read of a file that may deliver lines;
	 * may be NULL. */
	void (*from)(void *userdata, const char *path);
};

/* Identity of a file: where it lives and what its first bytes are.  The
 * fingerprint covers the first fp_len bytes (0..TAIL_FP_MAX). */
struct tail_identity {
	uint64_t dev;
	uint64_t ino;
	uint32_t fp_len;
	uint64_t fp_hash;
};

/* A resumable position: identity, offset of the end of the last complete
 * line consumed, and whether that offset is inside an over-long line. */
struct tail_position {
	struct tail_identity id;
	uint64_t offset;
	bool skipping;
};

enum tail_match {
	TAIL_MATCH_SAME,      /* same file, resume at the saved offset */
	TAIL_MATCH_TRUNCATED, /* same file, now shorter than the offset */
	TAIL_MATCH_OTHER,     /* another file (other inode, or same inode, other content) */
};

/* Hash of buf[0..len) (FNV-1a 64 seeded with len). */
uint64_t tail_fingerprint_hash(const void *buf, size_t len);

/* Fingerprint the first min(size, max_len) bytes of fd with pread.
 * Returns 0 or -errno; a short read fingerprints what was read. */
int tail_fingerprint(int fd, uint64_t size, uint32_t max_len, uint32_t *ret_len,
                     uint64_t *ret_hash);

/* Compare the file open on fd (st is its fstat) with a saved position:
 * other (dev, ino) -> OTHER; same inode but smaller than the saved offset
 * or fingerprint -> TRUNCATED; same inode, other first bytes (an inode
 * reused by a new file, or truncated and rewritten) -> OTHER; else SAME.  An I/O error while
 * reading the first bytes counts as OTHER (read from 0: nothing lost). */
enum tail_match tail_identity_match(int fd, const struct stat *st,
                                    const struct tail_position *saved);

struct tail_scratch;

/* The shared read buffer for files with this line cap (0: default;
 * clamped to TAIL_MAX_LINE_CAP).  NULL on OOM. */
struct tail_scratch *tail_scratch_create(size_t line_cap);

/* NULL-safe. */
void tail_scratch_destroy(struct tail_scratch *sc);

/* Where following an existing file "from its end" starts: after the last
 * newline, so a half-written last line is counted once complete; when the
 * unterminated tail is longer than the cap, at size with *ret_skipping set.
 * Uses sc's buffer.  0 or -errno. */
int tail_end_offset(int fd, uint64_t size, struct tail_scratch *sc, uint64_t *ret_offset,
                    bool *ret_skipping);

/* Split buf[0..n) into lines and deliver them to cb (TAIL_EV_TOO_LONG for
 * a line over cap); returns how many bytes are consumed: everything up to
 * the last newline, or all of it while inside an over-long line (then
 * *skipping is set; it is cleared at that line's newline).  The cap applies
 * to the content: a trailing '\r' is stripped first, so a line of cap bytes
 * is delivered with "\n" and with "\r\n" alike, and a partial line of cap
 * bytes plus a '\r' may still be such a line.  Shared by every reader of
 * lines (tail_file, zfile). */
size_t tail_split(const struct tail_callbacks *cb, bool *skipping, char *buf, size_t n, size_t cap);

struct tail_file;

/* Follow the file open on fd (ownership of fd passes to the tail_file on
 * success) known as path, starting at offset (skipping: offset is inside
 * an over-long line already reported).  st is fd's fstat.  Does not emit
 * events.  Returns 0, -ENOMEM or the lseek error. */
int tail_file_open(const char *path, int fd, const struct stat *st, uint64_t offset, bool skipping,
                   const struct tail_callbacks *cb, struct tail_file **ret_file);

/* NULL-safe; closes the descriptor (and destroys its tap). */
void tail_file_destroy(struct tail_file *t);

struct container_tap;

/* From now on t delivers its lines and events through tap
 * (container_tap_callbacks), which it owns and destroys.  Call before the
 * first poll; NULL: no-op. */
void tail_file_set_tap(struct tail_file *t, struct container_tap *tap);

/* Read everything new now, at most 64 MiB per call so one busy file does
 * not starve the others (--once calls until it returns 0).
 * at_eof_is_line: treat a final unterminated line at EOF as complete (for
 * --once).  now_ms (monotonic) paces retries after a read error (one
 * attempt per second).  Returns the number of bytes consumed (complete
 * lines and skipped bytes); 0 when there was nothing new to consume. */
int64_t tail_file_poll(struct tail_file *t, struct tail_scratch *sc, uint64_t now_ms,
                       bool at_eof_is_line);

/* Current resumable position (see the top of this file). */
void tail_file_position(const struct tail_file *t, struct tail_position *ret_pos);

/* The path the file was found at (borrowed until tail_file_set_path). */
const char *tail_file_path(const struct tail_file *t);

/* The file is now known as path: 0 or -ENOMEM (old name kept). */
int tail_file_set_path(struct tail_file *t, const char *path);

/* The file's current size (fstat of its descriptor): 0 or -errno. */
int tail_file_size(const struct tail_file *t, uint64_t *ret_size);

/* The errno of the last failed fstat or read of this file, 0 when the
 * last poll that got that far could fstat it. */
int tail_file_error(const struct tail_file *t);

/* Whether the file was truncated since the last call; if so *ret_pos is
 * the position it had then (its fingerprint and offset before the
 * truncation), for finding copytruncate's copy. */
bool tail_file_take_truncated(struct tail_file *t, struct tail_position *ret_pos);

/* Whether (dev, ino) is this file. */
bool tail_file_is(const struct tail_file *t, uint64_t dev, uint64_t ino);

#endif
