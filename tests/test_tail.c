/*
 * test_tail.c - the file follower (tail.c) and the per-source file set
 * (fileset.c): partial lines, CRLF, the line cap boundary, truncation and
 * rewrite, identity matching, rotation by rename and by delete, globs and
 * duplicates, missing files, resuming from saved positions (only files the
 * configuration still covers), the open-file gauges the fileset asks for
 * (added, set to 0, removed), the catch-up of files rotated while down (in
 * rotation order, gzip included, a crash half-way, the limit) and compressed
 * files never read as lines.
 *
 * Everything runs on real files in a temp directory; time is passed in
 * explicitly so grace periods and rescans are deterministic.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/http/compress.h"
#include "exporter/input/fileset.h"
#include "exporter/state.h"
#include "exporter/input/tail.h"

/* ---- fixtures ------------------------------------------------------------ */

#define MAX_SEEN 64
#define MAX_GAUGES 16

struct seen {
	char lines[MAX_SEEN][64];
	size_t n;
	uint64_t ev[TAIL_EV_READ_ERROR + 1];
	/* the open-file gauges as a registry would hold them */
	char gauge_path[MAX_GAUGES][512];
	bool gauge_open[MAX_GAUGES];
	size_t n_gauges;
};

static void on_line(void *ud, const char *line, size_t len)
{
	struct seen *s = ud;
	assert_true(s->n < MAX_SEEN);
	assert_true(len < sizeof(s->lines[0]));
	memcpy(s->lines[s->n], line, len);
	s->lines[s->n][len] = '\0';
	s->n++;
}

static void on_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct seen *s = ud;
	s->ev[ev] += ev == TAIL_EV_READ_ERROR ? 1 : n;
}

static size_t gauge_index(const struct seen *s, const char *path)
{
	size_t i = 0;
	while (i < s->n_gauges && strcmp(s->gauge_path[i], path) != 0) {
		i++;
	}
	return i;
}

static void on_file(void *ud, const char *path, bool open)
{
	struct seen *s = ud;
	size_t i = gauge_index(s, path);
	if (i == s->n_gauges) {
		size_t len = strlen(path);
		assert_true(i < MAX_GAUGES);
		assert_true(len < sizeof(s->gauge_path[0]));
		memcpy(s->gauge_path[i], path, len + 1);
		s->n_gauges++;
	}
	s->gauge_open[i] = open;
}

static void on_file_gone(void *ud, const char *path)
{
	struct seen *s = ud;
	size_t i = gauge_index(s, path);
	if (i == s->n_gauges) {
		return; /* it had none */
	}
	memmove(&s->gauge_path[i], &s->gauge_path[i + 1],
	        (s->n_gauges - i - 1) * sizeof(s->gauge_path[0]));
	memmove(&s->gauge_open[i], &s->gauge_open[i + 1],
	        (s->n_gauges - i - 1) * sizeof(s->gauge_open[0]));
	s->n_gauges--;
}

/* The gauge of path: 1 open, 0 missing, -1 none. */
static int gauge(const struct seen *s, const char *path)
{
	size_t i = gauge_index(s, path);
	return i == s->n_gauges ? -1 : s->gauge_open[i];
}

static struct tail_callbacks callbacks(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return (struct tail_callbacks){
	    .line = on_line, .event = on_event, .file = on_file, .userdata = s};
}

/* Lines seen, joined with '|', sorted order kept. */
static const char *joined(const struct seen *s)
{
	static char out[MAX_SEEN * 65];
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < s->n; i++) {
		int w = snprintf(out + o, sizeof(out) - o, "%s%s", i ? "|" : "", s->lines[i]);
		assert_true(w >= 0 && (size_t)w < sizeof(out) - o);
		o += (size_t)w;
	}
	return out;
}

/* Whether line occurs exactly once. */
static bool seen_once(const struct seen *s, const char *line)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		k += strcmp(s->lines[i], line) == 0;
	}
	return k == 1;
}

static char dir[256];
static char paths[256][512]; /* every path_of result stays valid for the whole test */
static unsigned n_paths;

static int setup(void **state)
{
	(void)state;
	n_paths = 0;
	snprintf(dir, sizeof(dir), "/tmp/test_tail.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
	char *p;
	assert_true(n_paths < 256);
	p = paths[n_paths++];
	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *mode, const char *text)
{
	FILE *f = fopen(path_of(name), mode);
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static struct tail_file *open_at(const char *name, uint64_t off, const struct tail_callbacks *cb)
{
	struct stat st;
	struct tail_file *t;
	int fd = open(path_of(name), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(tail_file_open(path_of(name), fd, &st, off, false, cb, &t), 0);
	return t;
}

static uint64_t offset_of(const struct tail_file *t)
{
	struct tail_position p;
	tail_file_position(t, &p);
	return p.offset;
}

/* ---- tail_file ------------------------------------------------------------ */

static void t_partial_lines(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	struct tail_scratch *sc = tail_scratch_create(0);
	(void)state;

	write_file("p.log", "w", "a\nb");
	struct tail_file *t = open_at("p.log", 0, &cb);
	assert_int_equal(tail_file_poll(t, sc, 0, false), 2); /* consumed, not read */
	assert_string_equal(joined(&s), "a");
	assert_int_equal(offset_of(t), 2); /* the partial "b" is not consumed */
	assert_int_equal(s.ev[TAIL_EV_BYTES], 2);
	write_file("p.log", "a", "c");
	/* a pending half line is no progress (the ingest loop may sleep) */
	assert_int_equal(tail_file_poll(t, sc, 0, false), 0);
	assert_int_equal(tail_file_poll(t, sc, 0, false), 0);
	assert_int_equal(s.n, 1);
	write_file("p.log", "a", "\n\nd\n");
	(void)tail_file_poll(t, sc, 0, false);
	assert_string_equal(joined(&s), "a|bc||d");
	assert_int_equal(offset_of(t), 8);
	assert_int_equal(s.ev[TAIL_EV_BYTES], 8);
	/* nothing new: nothing read */
	assert_int_equal(tail_file_poll(t, sc, 0, false), 0);
	/* --once: a final unterminated line counts */
	write_file("p.log", "a", "tail");
	(void)tail_file_poll(t, sc, 0, true);
	assert_string_equal(joined(&s), "a|bc||d|tail");
	assert_int_equal(offset_of(t), 12);
	tail_file_destroy(t);
	tail_scratch_destroy(sc);
}

static void t_crlf(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	struct tail_scratch *sc = tail_scratch_create(0);
	(void)state;

	write_file("c.log", "w", "x\r\ny\r\n\r\na\rb\n\r\r\n");
	struct tail_file *t = open_at("c.log", 0, &cb);
	(void)tail_file_poll(t, sc, 0, false);
	assert_string_equal(joined(&s), "x|y||a\rb|\r");
	tail_file_destroy(t);
	tail_scratch_destroy(sc);
}

/* The cap (8 here) is on the content: the bytes before "\n" or "\r\n".
 * at_eof: --once, where a final unterminated line ends at EOF. */
static void t_line_cap(void **state)
{
	static const struct {
		const char *text;
		bool at_eof;
		const char *want;
		uint64_t too_long;
	} cases[] = {
	    {"1234567\nok\n", false, "1234567|ok", 0},       /* cap - 1, \n */
	    {"12345678\nok\n", false, "12345678|ok", 0},     /* cap, \n */
	    {"123456789\nok\n", false, "ok", 1},             /* cap + 1, \n */
	    {"1234567\r\nok\n", false, "1234567|ok", 0},     /* cap - 1, \r\n */
	    {"12345678\r\nok\n", false, "12345678|ok", 0},   /* cap, \r\n */
	    {"123456789\r\nok\n", false, "ok", 1},           /* cap + 1, \r\n */
	    {"12345678\r\r\nok\n", false, "ok", 1},          /* one \r stripped: 9 left */
	    {"a\n123456789012345\n\nb\n", false, "a||b", 1}, /* long one in the middle */
	    {"123456789\n123456789\n", false, "", 2},
	    {"ok\n1234567\r", true, "ok|1234567", 0},   /* at EOF: cap - 1 */
	    {"ok\n12345678", true, "ok|12345678", 0},   /* at EOF: cap */
	    {"ok\n12345678\r", true, "ok|12345678", 0}, /* at EOF: cap and its \r */
	    {"ok\n123456789", true, "ok", 1},           /* at EOF: cap + 1 */
	    {"ok\n123456789\r", true, "ok", 1},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s;
		struct tail_callbacks cb = callbacks(&s);
		struct tail_scratch *sc = tail_scratch_create(8);
		write_file("cap.log", "w", cases[i].text);
		struct tail_file *t = open_at("cap.log", 0, &cb);
		(void)tail_file_poll(t, sc, 0, cases[i].at_eof);
		assert_string_equal(joined(&s), cases[i].want);
		assert_int_equal(s.ev[TAIL_EV_TOO_LONG], cases[i].too_long);
		assert_int_equal(offset_of(t), strlen(cases[i].text));
		tail_file_destroy(t);
		tail_scratch_destroy(sc);
	}
}

/* A CRLF line of exactly the cap arriving in pieces: cap bytes and the
 * '\r' wait for the '\n'; a byte other than '\n' makes it too long. */
static void t_line_cap_crlf_pieces(void **state)
{
	static const struct {
		const char *next;
		const char *want;
		uint64_t too_long;
	} cases[] = {
	    {"\nok\n", "a|12345678|ok", 0},
	    {"x\nok\n", "a|ok", 1},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s;
		struct tail_callbacks cb = callbacks(&s);
		struct tail_scratch *sc = tail_scratch_create(8);
		write_file("crlf.log", "w", "a\n12345678\r");
		struct tail_file *t = open_at("crlf.log", 0, &cb);
		(void)tail_file_poll(t, sc, 0, false);
		assert_string_equal(joined(&s), "a");
		assert_int_equal(s.ev[TAIL_EV_TOO_LONG], 0);
		assert_int_equal(offset_of(t), 2);
		write_file("crlf.log", "a", cases[i].next);
		(void)tail_file_poll(t, sc, 0, false);
		assert_string_equal(joined(&s), cases[i].want);
		assert_int_equal(s.ev[TAIL_EV_TOO_LONG], cases[i].too_long);
		assert_int_equal(offset_of(t), 11 + strlen(cases[i].next));
		tail_file_destroy(t);
		tail_scratch_destroy(sc);
	}
}

/* A long line arriving in pieces: reported once, skipped to its newline,
 * and the skip survives a save/resume of the position. */
static void t_skip_to_newline(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	struct tail_scratch *sc = tail_scratch_create(8);
	struct tail_position pos;
	(void)state;

	write_file("l.log", "w", "ok\n12345");
	struct tail_file *t = open_at("l.log", 0, &cb);
	(void)tail_file_poll(t, sc, 0, false);
	write_file("l.log", "a", "6789");
	(void)tail_file_poll(t, sc, 0, false);
	assert_int_equal(s.ev[TAIL_EV_TOO_LONG], 1);
	write_file("l.log", "a", "abcdef");
	(void)tail_file_poll(t, sc, 0, false);
	tail_file_position(t, &pos);
	assert_true(pos.skipping);
	assert_int_equal(pos.offset, 18);
	tail_file_destroy(t);

	/* resume inside the long line: the rest is skipped, not a line */
	write_file("l.log", "a", "gh\nnext\n");
	struct stat st;
	int fd = open(path_of("l.log"), O_RDONLY);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(tail_file_open(path_of("l.log"), fd, &st, pos.offset, true, &cb, &t), 0);
	(void)tail_file_poll(t, sc, 0, false);
	assert_string_equal(joined(&s), "ok|next");
	assert_int_equal(s.ev[TAIL_EV_TOO_LONG], 1);
	tail_file_destroy(t);
	tail_scratch_destroy(sc);
}

static void t_truncation(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	struct tail_scratch *sc = tail_scratch_create(0);
	(void)state;

	write_file("t.log", "w", "one\ntwo\nthree\n");
	struct tail_file *t = open_at("t.log", 0, &cb);
	(void)tail_file_poll(t, sc, 0, false);
	/* truncated to below the offset */
	write_file("t.log", "w", "four\n");
	(void)tail_file_poll(t, sc, 0, false);
	assert_string_equal(joined(&s), "one|two|three|four");
	assert_int_equal(s.ev[TAIL_EV_TRUNCATED], 1);
	/* truncated and rewritten past the offset before we looked: the first
	 * bytes changed, so it still restarts at 0 */
	write_file("t.log", "w", "FIVE\nsix\nseven\n");
	(void)tail_file_poll(t, sc, 0, false);
	assert_string_equal(joined(&s), "one|two|three|four|FIVE|six|seven");
	assert_int_equal(s.ev[TAIL_EV_TRUNCATED], 2);
	/* plain appends never look like a truncation */
	write_file("t.log", "a", "eight\n");
	(void)tail_file_poll(t, sc, 0, false);
	assert_int_equal(s.ev[TAIL_EV_TRUNCATED], 2);
	assert_int_equal(s.n, 8);
	tail_file_destroy(t);
	tail_scratch_destroy(sc);
}

static void t_end_offset(void **state)
{
	static const struct {
		const char *text;
		uint64_t off;
		bool skipping;
	} cases[] = {
	    {"", 0, false},
	    {"l1\nl2\n", 6, false},
	    {"l1\nl2\npart", 6, false},     /* the half line will count when complete */
	    {"part", 0, false},             /* one unterminated line */
	    {"l1\n123456789012", 15, true}, /* unterminated tail over the cap */
	    {"l1\n12345678", 3, false},     /* exactly at the cap */
	    {"l1\n12345678\r", 3, false},   /* the cap and a '\r': may end with '\n' */
	    {"l1\n123456789", 12, true},    /* cap + 1 */
	    {"l1\n123456789\r", 13, true},
	    {"123456789", 9, true}, /* one unterminated line over the cap */
	    {"12345678\r", 0, false},
	};
	struct tail_scratch *sc = tail_scratch_create(8);
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t off = 99;
		bool skip = !cases[i].skipping;
		write_file("e.log", "w", cases[i].text);
		int fd = open(path_of("e.log"), O_RDONLY);
		assert_int_equal(tail_end_offset(fd, strlen(cases[i].text), sc, &off, &skip), 0);
		assert_int_equal(off, cases[i].off);
		assert_int_equal(skip, cases[i].skipping);
		close(fd);
	}
	tail_scratch_destroy(sc);
}

/* Identity: (dev, ino) plus the fingerprint over the saved length. */
static void t_identity(void **state)
{
	const char *text = "first line\nsecond line\n";
	struct tail_position pos;
	struct stat st;
	(void)state;

	write_file("i.log", "w", text);
	int fd = open(path_of("i.log"), O_RDONLY);
	assert_int_equal(fstat(fd, &st), 0);
	memset(&pos, 0, sizeof(pos));
	pos.id.dev = (uint64_t)st.st_dev;
	pos.id.ino = (uint64_t)st.st_ino;
	assert_int_equal(tail_fingerprint(fd, 11, TAIL_FP_MAX, &pos.id.fp_len, &pos.id.fp_hash), 0);
	assert_int_equal(pos.id.fp_len, 11);
	assert_true(pos.id.fp_hash == tail_fingerprint_hash(text, 11));
	pos.offset = 11;
	assert_int_equal(tail_identity_match(fd, &st, &pos), TAIL_MATCH_SAME);
	pos.offset = (uint64_t)st.st_size + 1;
	assert_int_equal(tail_identity_match(fd, &st, &pos), TAIL_MATCH_TRUNCATED);
	pos.offset = 11;
	/* same inode, other first bytes: an inode reused by another file */
	struct tail_position reused = pos;
	reused.id.fp_hash = tail_fingerprint_hash("other file\n", 11);
	assert_int_equal(tail_identity_match(fd, &st, &reused), TAIL_MATCH_OTHER);
	/* fingerprint longer than the file: it shrank (truncated) */
	reused = pos;
	reused.id.fp_len = (uint32_t)st.st_size + 5;
	assert_int_equal(tail_identity_match(fd, &st, &reused), TAIL_MATCH_TRUNCATED);
	/* another inode */
	reused = pos;
	reused.id.ino++;
	assert_int_equal(tail_identity_match(fd, &st, &reused), TAIL_MATCH_OTHER);
	/* an empty fingerprint (empty file at checkpoint) matches by inode */
	reused = pos;
	reused.id.fp_len = 0;
	reused.offset = 0;
	assert_int_equal(tail_identity_match(fd, &st, &reused), TAIL_MATCH_SAME);
	close(fd);
}

/* ---- fileset ---------------------------------------------------------------- */

static struct fileset *new_set(const char *const *patterns, size_t n, size_t max_files,
                               const struct tail_callbacks *cb)
{
	struct fileset_options o = {
	    .name = "test",
	    .patterns = patterns,
	    .n_patterns = n,
	    .max_files = max_files,
	    .rescan_ms = 1000,
	    .retire_grace_ms = 3000,
	    .file_gone = on_file_gone,
	};
	struct fileset *fs;
	assert_int_equal(fileset_create(&o, cb, &fs), 0);
	return fs;
}

static void t_missing_then_appears(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	const char *pats[] = {path_of("m.log")};
	(void)state;

	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	assert_int_equal(fileset_poll(fs, 10, false), 0);
	assert_int_equal(fileset_count(fs), 0);
	write_file("m.log", "w", "early\nlate\n");
	(void)fileset_poll(fs, 20, false); /* literal paths are checked every poll */
	assert_string_equal(joined(&s), "early|late");
	fileset_destroy(fs);
}

static void t_start_at_end(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	const char *pats[] = {path_of("e2.log")};
	(void)state;

	write_file("e2.log", "w", "old1\nold2\npa");
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	write_file("e2.log", "a", "rt\nnew\n");
	(void)fileset_poll(fs, 10, false);
	assert_string_equal(joined(&s), "part|new");
	fileset_destroy(fs);
}

static void t_rename_rotation(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	const char *pats[] = {path_of("r.log")};
	(void)state;

	write_file("r.log", "w", "");
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	FILE *w = fopen(path_of("r.log"), "a"); /* the writer keeps its descriptor */
	setvbuf(w, NULL, _IONBF, 0);
	fputs("1\n", w);
	(void)fileset_poll(fs, 10, false);
	fputs("2\n", w);
	assert_int_equal(rename(path_of("r.log"), path_of("r.log.1")), 0);
	fputs("3\n", w); /* still to the old file, not yet reopened */
	write_file("r.log", "w", "4\n");
	(void)fileset_poll(fs, 20, false);
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 1);
	fputs("5\n", w); /* late write to the rotated file, within the grace period */
	(void)fileset_poll(fs, 1000, false);
	assert_int_equal(fileset_count(fs), 2);
	(void)fileset_poll(fs, 5000, false); /* idle past the grace: closed */
	assert_int_equal(fileset_count(fs), 1);
	assert_int_equal(s.n, 5);
	for (int i = 1; i <= 5; i++) {
		char l[4];
		snprintf(l, sizeof(l), "%d", i);
		assert_true(seen_once(&s, l));
	}
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 1);
	fclose(w);
	fileset_destroy(fs);
}

static void t_delete_recreate(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	const char *pats[] = {path_of("d.log")};
	(void)state;

	write_file("d.log", "w", "before start\n");
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	write_file("d.log", "a", "x\n");
	assert_int_equal(unlink(path_of("d.log")), 0);
	write_file("d.log", "w", "y\n");
	(void)fileset_poll(fs, 10, false);
	(void)fileset_poll(fs, 20, false);
	assert_int_equal(s.n, 2);
	assert_true(seen_once(&s, "x")); /* drained from the deleted file */
	assert_true(seen_once(&s, "y")); /* the new file from 0 */
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 1);
	fileset_destroy(fs);
}

/* Two patterns and a symlink naming the same file, a rotated name matched
 * by the glob, a third file appearing later. */
static void t_globs(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	char glob1[600], glob2[600];
	(void)state;

	snprintf(glob1, sizeof(glob1), "%s/*.log*", dir);
	snprintf(glob2, sizeof(glob2), "%s/a.*", dir);
	const char *pats[] = {glob1, glob2, path_of("a.log")};
	write_file("a.log", "w", "a0\n");
	write_file("b.log", "w", "b0\n");
	assert_int_equal(symlink(path_of("a.log"), path_of("link.log")), 0);
	struct fileset *fs = new_set(pats, 3, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	assert_int_equal(fileset_count(fs), 2);
	write_file("a.log", "a", "a1\n");
	write_file("b.log", "a", "b1\n");
	(void)fileset_poll(fs, 10, false);
	assert_int_equal(s.n, 2);
	/* rotation to a name the glob matches: same file, not re-read */
	assert_int_equal(rename(path_of("a.log"), path_of("a.log.1")), 0);
	write_file("a.log.1", "a", "a2\n");
	write_file("a.log", "w", "a3\n");
	(void)fileset_poll(fs, 20, false);
	/* a third file appears: read from 0 at the next rescan */
	write_file("c.log", "w", "c0\n");
	(void)fileset_poll(fs, 30, false);
	(void)fileset_poll(fs, 1100, false);
	assert_int_equal(s.n, 5);
	const char *want[] = {"a1", "b1", "a2", "a3", "c0"};
	for (size_t i = 0; i < 5; i++) {
		assert_true(seen_once(&s, want[i]));
	}
	assert_false(seen_once(&s, "a0"));
	fileset_destroy(fs);
}

static void t_max_files(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	char g[600];
	(void)state;

	snprintf(g, sizeof(g), "%s/cap*.log", dir);
	const char *pats[] = {g};
	write_file("cap1.log", "w", "");
	write_file("cap2.log", "w", "");
	write_file("cap3.log", "w", "");
	struct fileset *fs = new_set(pats, 1, 2, &cb);
	fileset_start(fs, false, NULL, 0);
	assert_int_equal(fileset_count(fs), 2);
	/* glob results are sorted: the last name is the one left out */
	assert_int_equal(gauge(&s, path_of("cap1.log")), 1);
	assert_int_equal(gauge(&s, path_of("cap2.log")), 1);
	assert_int_equal(gauge(&s, path_of("cap3.log")), -1);
	assert_int_equal(fileset_report(fs), 1);
	fileset_destroy(fs);
}

/* What --once reports: a missing literal path, a directory, a glob that
 * matches nothing (a warning only), and all well. */
static void t_report(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	char none[600];
	(void)state;

	snprintf(none, sizeof(none), "%s/none*.log", dir);
	write_file("ok.log", "w", "a\nb");
	assert_int_equal(mkdir(path_of("d.log"), 0755), 0);
	const struct {
		const char *pattern;
		size_t errors;
	} cases[] = {
	    {path_of("ok.log"), 0},
	    {path_of("missing.log"), 1},
	    {path_of("d.log"), 1},
	    {none, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *pats[] = {path_of("ok.log"), cases[i].pattern};
		struct fileset *fs = new_set(pats, 2, 0, &cb);
		memset(s.ev, 0, sizeof(s.ev));
		fileset_start(fs, true, NULL, 0);
		while (fileset_poll(fs, 10, true) > 0) {
		}
		assert_int_equal(fileset_report(fs), cases[i].errors);
		/* a directory is also a read error; a missing file is not */
		assert_int_equal(s.ev[TAIL_EV_READ_ERROR], i == 2);
		fileset_destroy(fs);
	}
	assert_int_equal(s.n, 8);
}

/* Dated rotations under a glob (g.log -> g.log-k, a new g.log, the oldest
 * deleted): the rotated names stay followed while they exist; a deleted one
 * loses its gauge at once and is closed after the grace period, so gauges
 * and open files stay bounded however many rotations there were. */
static void t_glob_dated_rotations(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	char g[600], name[32], text[32];
	uint64_t now = 0;
	(void)state;

	snprintf(g, sizeof(g), "%s/g.log*", dir);
	const char *pats[] = {g};
	write_file("g.log", "w", "");
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, now);
	assert_int_equal(gauge(&s, path_of("g.log")), 1);
	for (unsigned k = 1; k <= 12; k++) {
		snprintf(text, sizeof(text), "a%u\n", k);
		write_file("g.log", "a", text);
		(void)fileset_poll(fs, now += 10, false);
		snprintf(name, sizeof(name), "g.log-%u", k);
		assert_int_equal(rename(path_of("g.log"), path_of(name)), 0);
		snprintf(text, sizeof(text), "n%u\n", k);
		write_file("g.log", "w", text);
		if (k > 2) {
			snprintf(name, sizeof(name), "g.log-%u", k - 2);
			assert_int_equal(unlink(path_of(name)), 0);
		}
		(void)fileset_poll(fs, now += 1000, false);
		/* g.log, g.log-k, g.log-(k-1), all followed */
		assert_int_equal(s.n_gauges, k < 2 ? 2 : 3);
		for (size_t i = 0; i < s.n_gauges; i++) {
			assert_true(s.gauge_open[i]);
		}
		snprintf(name, sizeof(name), "g.log-%u", k);
		assert_int_equal(gauge(&s, path_of(name)), 1);
		assert_int_equal(gauge(&s, path_of("g.log")), 1);
		/* the deleted ones drain for 3 s at most */
		assert_true(fileset_count(fs) <= 3 + 3);
	}
	(void)fileset_poll(fs, now += 5000, false);
	assert_int_equal(fileset_count(fs), 3);
	assert_int_equal(s.n_gauges, 3);
	assert_int_equal(gauge(&s, path_of("g.log-11")), 1);
	assert_int_equal(s.n, 24);
	for (unsigned k = 1; k <= 12; k++) {
		snprintf(text, sizeof(text), "a%u", k);
		assert_true(seen_once(&s, text));
		snprintf(text, sizeof(text), "n%u", k);
		assert_true(seen_once(&s, text));
	}
	fileset_destroy(fs);
}

/* A literal path keeps its gauge through rotation (0 while it names no
 * file, 1 once a new file is there, kept when the old file is closed); a
 * file found by a glob loses its gauge as soon as the glob no longer sees
 * it, while its last lines are still drained. */
static void t_gauges_literal_and_glob(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	char g[600];
	(void)state;

	snprintf(g, sizeof(g), "%s/*.glob", dir);
	const char *pats[] = {path_of("l.log"), g};
	write_file("l.log", "w", "");
	write_file("x.glob", "w", "");
	struct fileset *fs = new_set(pats, 2, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	assert_int_equal(s.n_gauges, 2);
	assert_int_equal(gauge(&s, path_of("l.log")), 1);
	assert_int_equal(gauge(&s, path_of("x.glob")), 1);
	assert_int_equal(rename(path_of("l.log"), path_of("l.log.1")), 0);
	assert_int_equal(rename(path_of("x.glob"), path_of("x.old")), 0);
	write_file("l.log.1", "a", "l1\n");
	write_file("x.old", "a", "x1\n");
	(void)fileset_poll(fs, 10, false);
	assert_int_equal(gauge(&s, path_of("l.log")), 0);
	assert_int_equal(gauge(&s, path_of("x.glob")), -1);
	assert_int_equal(s.n_gauges, 1);
	assert_int_equal(fileset_count(fs), 2); /* both still drained */
	write_file("l.log", "w", "l2\n");
	(void)fileset_poll(fs, 20, false);
	assert_int_equal(gauge(&s, path_of("l.log")), 1);
	(void)fileset_poll(fs, 5000, false); /* the rotated ones closed */
	assert_int_equal(fileset_count(fs), 1);
	assert_int_equal(s.n_gauges, 1);
	assert_int_equal(gauge(&s, path_of("l.log")), 1); /* the new file's, not removed */
	assert_int_equal(unlink(path_of("l.log")), 0);
	(void)fileset_poll(fs, 5010, false);
	(void)fileset_poll(fs, 9000, false);
	assert_int_equal(fileset_count(fs), 0);
	assert_int_equal(s.n_gauges, 1);
	assert_int_equal(gauge(&s, path_of("l.log")), 0); /* configured: shown missing */
	assert_string_equal(joined(&s), "l1|x1|l2");
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 3);
	fileset_destroy(fs);
}

/* ---- resuming from saved positions ------------------------------------------ */

struct saved {
	struct fileset_saved_file files[8];
	size_t n;
};

static void save_one(void *ud, const char *path, const struct tail_position *pos, bool retired)
{
	struct saved *sv = ud;
	assert_true(sv->n < 8);
	sv->files[sv->n].path = strdup(path);
	sv->files[sv->n].pos = *pos;
	sv->files[sv->n].retired = retired;
	sv->n++;
}

static void free_saved(struct saved *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		free(sv->files[i].path);
	}
}

/* Poll until nothing is left to read (a restart's catch-up takes a poll per
 * file, the live files follow). */
static void poll_quiet(struct fileset *fs, uint64_t now_ms)
{
	for (int i = 0; i < 100 && fileset_poll(fs, now_ms, false) > 0; i++) {
	}
}

static void t_resume(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	const char *pats[] = {path_of("s.log")};
	struct saved sv = {.n = 0};
	char *pp[] = {(char *)pats[0]};
	(void)state;

	write_file("s.log", "w", "old\n");
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	write_file("s.log", "a", "1\n2\npar");
	(void)fileset_poll(fs, 10, false);
	fileset_foreach(fs, save_one, &sv); /* the checkpoint */
	assert_int_equal(sv.n, 1);
	assert_int_equal(sv.files[0].pos.offset, 8);
	write_file("s.log", "a", "t\n3\n");
	(void)fileset_poll(fs, 20, false); /* read, then "crash" */
	fileset_destroy(fs);
	assert_string_equal(joined(&s), "1|2|part|3");

	struct fileset_saved ss = {
	    .patterns = pp, .n_patterns = 1, .files = sv.files, .n_files = 1};
	cb = callbacks(&s);
	write_file("s.log", "a", "4\n");
	fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	poll_quiet(fs, 10);
	assert_string_equal(joined(&s), "part|3|4"); /* from the checkpoint on */
	fileset_destroy(fs);

	/* rotated while down: the old file is found by identity and drained
	 * from its offset, the new one is read from 0 */
	cb = callbacks(&s);
	assert_int_equal(rename(path_of("s.log"), path_of("s.log.1")), 0);
	write_file("s.log.1", "a", "5\n");
	write_file("s.log", "w", "6\n");
	fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	poll_quiet(fs, 10);
	assert_int_equal(s.n, 5);
	const char *want[] = {"part", "3", "4", "5", "6"};
	for (size_t i = 0; i < 5; i++) {
		assert_true(seen_once(&s, want[i]));
	}
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 1);
	fileset_destroy(fs);

	/* truncated while down: from 0, counted as a truncation */
	cb = callbacks(&s);
	assert_int_equal(rename(path_of("s.log.1"), path_of("s.log")), 0);
	write_file("s.log", "w", "z\n");
	fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	poll_quiet(fs, 10);
	assert_string_equal(joined(&s), "z");
	assert_int_equal(s.ev[TAIL_EV_TRUNCATED], 1);
	fileset_destroy(fs);
	free_saved(&sv);
}

/* A checkpoint taken while a rotated file is still being drained: after a
 * restart the file is found by identity and drained, and the rotation
 * (already in the restored counter) is not counted again. */
static void t_resume_retired(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	const char *pats[] = {path_of("q.log")};
	struct saved sv = {.n = 0};
	char *pp[] = {(char *)pats[0]};
	(void)state;

	write_file("q.log", "w", "");
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	write_file("q.log", "a", "1\n");
	assert_int_equal(rename(path_of("q.log"), path_of("q.log.1")), 0);
	write_file("q.log", "w", "2\n");
	(void)fileset_poll(fs, 10, false);
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 1);
	fileset_foreach(fs, save_one, &sv);
	assert_int_equal(sv.n, 2);
	assert_true(sv.files[0].retired != sv.files[1].retired);
	fileset_destroy(fs);

	struct fileset_saved ss = {
	    .patterns = pp, .n_patterns = 1, .files = sv.files, .n_files = 2};
	cb = callbacks(&s);
	write_file("q.log.1", "a", "late\n");
	write_file("q.log", "a", "3\n");
	fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	poll_quiet(fs, 10);
	assert_int_equal(s.n, 2);
	assert_true(seen_once(&s, "late"));
	assert_true(seen_once(&s, "3"));
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 0);
	assert_int_equal(fileset_count(fs), 2);
	fileset_destroy(fs);
	free_saved(&sv);
}

/* Restart with the source on another path (the review's repro: a.log
 * configured, stopped, restarted on b.log): the checkpointed a.log is not
 * followed and no rotation is counted.  A saved path a glob still covers is
 * resumed even though its file now has a name the glob does not match
 * (rotated while down). */
static void t_resume_unconfigured(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	const char *a[] = {path_of("a.log")};
	const char *b[] = {path_of("b.log")};
	char g[600];
	struct saved sv = {.n = 0};
	char *pp[] = {(char *)a[0]};
	(void)state;

	write_file("a.log", "w", "");
	struct fileset *fs = new_set(a, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	write_file("a.log", "a", "1\n");
	(void)fileset_poll(fs, 10, false);
	fileset_foreach(fs, save_one, &sv);
	fileset_destroy(fs);
	assert_string_equal(joined(&s), "1");

	struct fileset_saved ss = {
	    .patterns = pp, .n_patterns = 1, .files = sv.files, .n_files = 1};
	cb = callbacks(&s);
	write_file("b.log", "w", "");
	write_file("a.log", "a", "2\n3\n4\n");
	fs = new_set(b, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	write_file("b.log", "a", "b1\n");
	write_file("a.log", "a", "5\n");
	(void)fileset_poll(fs, 10, false);
	(void)fileset_poll(fs, 5000, false);
	assert_string_equal(joined(&s), "b1");
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 0);
	assert_int_equal(fileset_count(fs), 1);
	assert_int_equal(gauge(&s, path_of("a.log")), -1);
	assert_int_equal(gauge(&s, path_of("b.log")), 1);
	fileset_destroy(fs);

	/* *.log covers the saved a.log; its file is a.old now */
	cb = callbacks(&s);
	assert_int_equal(rename(path_of("a.log"), path_of("a.old")), 0);
	write_file("a.old", "a", "6\n");
	snprintf(g, sizeof(g), "%s/*.log", dir);
	const char *globbed[] = {g};
	fs = new_set(globbed, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	poll_quiet(fs, 10);
	assert_string_equal(joined(&s), "2|3|4|5|6"); /* from the checkpoint on */
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 1);
	assert_int_equal(fileset_count(fs), 2); /* b.log (from its end) and a.old */
	assert_int_equal(gauge(&s, path_of("a.log")), -1);
	assert_int_equal(gauge(&s, path_of("a.old")), -1);
	fileset_destroy(fs);
	free_saved(&sv);
}

/* Rotated while down, then down again while the old file still drains: the
 * drained file is checkpointed under its configured path (not its new
 * name), so the second restart still covers it and drains the late lines. */
static void t_resume_rotated_twice(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	const char *pats[] = {path_of("t.log")};
	struct saved sv = {.n = 0}, sv2 = {.n = 0};
	char *pp[] = {(char *)pats[0]};
	(void)state;

	write_file("t.log", "w", "");
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	write_file("t.log", "a", "1\n");
	(void)fileset_poll(fs, 10, false);
	fileset_foreach(fs, save_one, &sv);
	fileset_destroy(fs);

	struct fileset_saved ss = {
	    .patterns = pp, .n_patterns = 1, .files = sv.files, .n_files = 1};
	cb = callbacks(&s);
	write_file("t.log", "a", "2\n");
	assert_int_equal(rename(path_of("t.log"), path_of("t.log.1")), 0);
	write_file("t.log", "w", "3\n");
	fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	poll_quiet(fs, 10);
	assert_int_equal(s.n, 2);
	assert_true(seen_once(&s, "2"));
	assert_true(seen_once(&s, "3"));
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 1);
	fileset_foreach(fs, save_one, &sv2);
	fileset_destroy(fs);
	assert_int_equal(sv2.n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(sv2.files[i].path, pats[0]);
	}

	ss.files = sv2.files;
	ss.n_files = 2;
	cb = callbacks(&s);
	write_file("t.log.1", "a", "late\n"); /* a long request finishing */
	write_file("t.log", "a", "4\n");
	fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	poll_quiet(fs, 10);
	assert_int_equal(s.n, 2);
	assert_true(seen_once(&s, "late"));
	assert_true(seen_once(&s, "4"));
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 0); /* in the restored counter */
	fileset_destroy(fs);
	free_saved(&sv);
	free_saved(&sv2);
}

/* gzip text into the file name (for catch-up tests). */
static void write_gz(const char *name, const char *text)
{
	char *z = NULL;
	size_t zlen = 0;
	FILE *f = fopen(path_of(name), "w");
	assert_non_null(f);
	assert_int_equal(compress_gzip(text, strlen(text), 6, &z, &zlen), 0);
	assert_int_equal(fwrite(z, 1, zlen, f), zlen);
	assert_int_equal(fclose(f), 0);
	free(z);
}

/* Two rotations while down, the checkpointed file compressed
 * (c.log -> c.log.1 -> c.log.2.gz, B -> c.log.1, C live): read in rotation
 * order (the rest of A inside the gzip data, B, then C); a crash in the
 * middle of the catch-up resumes it without counting anything twice; an
 * older rotation is never read; the limit skips the oldest first. */
static void t_catch_up(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	const char *pats[] = {path_of("c.log")};
	struct saved sv = {.n = 0}, sv2 = {.n = 0};
	char *pp[] = {(char *)pats[0]};
	(void)state;

	write_file("c.log.9", "w", "ancient\n");
	write_file("c.log", "w", "");
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	write_file("c.log", "a", "a1\na2\n");
	(void)fileset_poll(fs, 10, false);
	fileset_foreach(fs, save_one, &sv); /* the checkpoint: A at "a1\na2\n" */
	fileset_destroy(fs);
	assert_string_equal(joined(&s), "a1|a2");

	write_file("c.log", "a", "a3\n");
	assert_int_equal(rename(path_of("c.log"), path_of("c.log.1")), 0);
	write_file("c.log", "w", "b1\nb2\n");
	write_gz("c.log.2.gz", "a1\na2\na3\n");
	assert_int_equal(unlink(path_of("c.log.1")), 0);
	assert_int_equal(rename(path_of("c.log"), path_of("c.log.1")), 0);
	write_file("c.log", "w", "c1\n");

	struct fileset_saved ss = {
	    .patterns = pp, .n_patterns = 1, .files = sv.files, .n_files = sv.n, .saved_at_ns = 1};
	cb = callbacks(&s);
	fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	assert_int_equal(fileset_count(fs), 3); /* A (gzip), B, C: all checkpointed from now */
	assert_true(fileset_poll(fs, 10, false) > 0);
	assert_string_equal(joined(&s), "a3|b1|b2"); /* A (done, closed), B; C waits */
	fileset_foreach(fs, save_one, &sv2);         /* checkpoint mid-catch-up, then "crash" */
	fileset_destroy(fs);
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 2);

	ss.files = sv2.files;
	ss.n_files = sv2.n;
	cb = callbacks(&s);
	fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, &ss, 0);
	poll_quiet(fs, 10);
	assert_string_equal(joined(&s), "c1");      /* B resumed at its end, then C */
	assert_int_equal(s.ev[TAIL_EV_ROTATED], 0); /* in the restored counter */
	fileset_destroy(fs);

	/* The same restart with a limit that only B fits in: A is skipped. */
	ss.files = sv.files;
	ss.n_files = sv.n;
	cb = callbacks(&s);
	fs = new_set(pats, 1, 0, &cb);
	fileset_set_catchup_limit(fs, 6);
	fileset_start(fs, false, &ss, 0);
	poll_quiet(fs, 10);
	assert_string_equal(joined(&s), "b1|b2|c1");
	assert_int_equal(s.ev[TAIL_EV_SKIPPED], 1);
	fileset_destroy(fs);
	free_saved(&sv);
	free_saved(&sv2);
}

/* A glob over compressed rotations never reads them as lines: skipped by
 * name and by magic, counted once however many rescans see them. */
static void t_compressed_skipped(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	char g[600];
	(void)state;

	write_gz("z.log.1.gz", "x\n");
	write_gz("z.log.2", "y\n"); /* gzip data without the extension */
	write_file("z.log", "w", "");
	snprintf(g, sizeof(g), "%s/z.log*", dir);
	const char *pats[] = {g};
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	write_file("z.log", "a", "1\n");
	for (uint64_t t = 10; t < 5000; t += 1000) {
		(void)fileset_poll(fs, t, false);
	}
	assert_string_equal(joined(&s), "1");
	assert_int_equal(s.ev[TAIL_EV_SKIPPED], 2);
	assert_int_equal(fileset_count(fs), 1);
	fileset_destroy(fs);
}

/* copytruncate while running, the source a glob that matches the copy:
 * the copy is left alone while the file is not truncated (cp may still be
 * writing it), then read from where we were; a copy no longer than what we
 * read is followed from its end.  Every line once. */
static void t_copytruncate_glob(void **state)
{
	struct seen s;
	struct tail_callbacks cb = callbacks(&s);
	char g[600];
	(void)state;

	write_file("k.log", "w", "");
	snprintf(g, sizeof(g), "%s/k.log*", dir);
	const char *pats[] = {g};
	struct fileset *fs = new_set(pats, 1, 0, &cb);
	fileset_start(fs, false, NULL, 0);
	write_file("k.log", "a", "1\n2\n");
	(void)fileset_poll(fs, 10, false);
	write_file("k.log", "a", "3\n");
	write_file("k.log.1", "w", "1\n2\n"); /* cp has begun */
	(void)fileset_poll(fs, 2000, false);  /* a rescan sees it: left alone */
	assert_int_equal(fileset_count(fs), 1);
	write_file("k.log.1", "a", "3\n4\n"); /* cp done (4 came after our read) */
	write_file("k.log", "w", "5\n");      /* truncated, then written again */
	poll_quiet(fs, 4000);
	(void)fileset_poll(fs, 6000, false); /* a rescan: the copy is followed already */
	assert_string_equal(joined(&s), "1|2|3|5|4");
	assert_int_equal(fileset_count(fs), 2);
	assert_int_equal(s.ev[TAIL_EV_TRUNCATED], 1);

	/* Again, but the copy holds nothing we did not read: the last line was
	 * written after cp, read by us, lost by the truncate.  (Over 1 KiB, so
	 * the copy can be told by the fingerprint of the file's first KiB.) */
	char big[2048] = "5\n";
	size_t o = 2;
	for (int i = 0; i < 45; i++) {
		o += (size_t)snprintf(big + o, sizeof(big) - o, "line %02d padding padding\n", i);
	}
	assert_true(o < sizeof(big));
	write_file("k.log", "a", big + 2);
	(void)fileset_poll(fs, 7000, false);
	assert_int_equal(s.n, 5 + 45);
	assert_int_equal(rename(path_of("k.log.1"), path_of("k.log.2")), 0);
	big[strlen(big) - 26] = '\0'; /* cp did not see "line 44 ..." */
	write_file("k.log.1", "w", big);
	write_file("k.log", "w", "7\n");
	poll_quiet(fs, 8000);
	for (uint64_t t = 9000; t < 20000; t += 2000) {
		(void)fileset_poll(fs, t, false);
	}
	assert_int_equal(s.n, 5 + 45 + 1);
	assert_true(seen_once(&s, "line 00 padding padding"));
	assert_true(seen_once(&s, "line 44 padding padding"));
	assert_true(seen_once(&s, "5"));
	assert_true(seen_once(&s, "7"));
	assert_int_equal(fileset_count(fs), 3);
	fileset_destroy(fs);
}

/* A block receiver (countpool.c's role): splits the run of whole lines it
 * is handed with callbacks of its own, which have no block. */
static void on_block(void *ud, char *buf, size_t n, size_t cap)
{
	struct seen *s = ud;
	struct tail_callbacks plain = {.line = on_line, .event = on_event, .userdata = s};
	bool skipping = false;

	assert_true(n > 0 && buf[n - 1] == '\n');
	assert_int_equal(tail_split(&plain, &skipping, buf, n, cap), n);
	assert_false(skipping);
}

/* tail_split with a block receiver gives the same lines, events, consumed
 * bytes and skipping state as line by line: CRLF, the cap boundary (cap
 * bytes plus a '\r'), over-long lines complete and partial, a partial last
 * line, entering already skipping. */
static void t_split_block(void **state)
{
	static const struct {
		const char *buf;
		size_t cap;
		bool skipping;
	} rows[] = {
	    {"a\nb\r\nc\n", 8, false},        {"a\nb\r\npartial", 8, false},
	    {"a\n0123456789\nb\n", 8, false}, {"a\n01234567\r\nb\n01234567\r", 8, false},
	    {"a\nb\n0123456789", 8, false},   {"tail of a long one\nx\ny", 8, true},
	    {"still long", 8, true},          {"no newline", 16, false},
	    {"\n\n\r\n", 4, false},           {"", 4, false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct seen a, b;
		struct tail_callbacks ca = callbacks(&a), cb = callbacks(&b);
		char buf_a[64], buf_b[64];
		size_t n = strlen(rows[i].buf);
		bool sk_a = rows[i].skipping, sk_b = rows[i].skipping;
		cb.block = on_block;
		memcpy(buf_a, rows[i].buf, n);
		memcpy(buf_b, rows[i].buf, n);
		size_t ua = tail_split(&ca, &sk_a, buf_a, n, rows[i].cap);
		size_t ub = tail_split(&cb, &sk_b, buf_b, n, rows[i].cap);
		if (ua != ub || sk_a != sk_b || strcmp(joined(&a), joined(&b)) != 0 ||
		    memcmp(a.ev, b.ev, sizeof(a.ev)) != 0) {
			print_error("row %zu: %zu/%zu %d/%d '%s'/'%s'\n", i, ua, ub, sk_a, sk_b,
			            joined(&a), joined(&b));
			fail();
		}
	}
}

/* ---- reading into lent memory (tail_callbacks.lend) ------------------------ */

#define LEND_ARENA (8u * 1024u * 1024u)

/* A receiver that lends memory: mode 0 an arena where kept blocks stay
 * (the next lend starts after them: contiguous), mode 1 a fresh buffer
 * every time (the tail moves its partial line), mode 2 every third lend
 * refused (the scratch buffer, blocks handed from there). */
struct lender {
	int mode;
	char *arena[2];
	size_t kept; /* mode 0: bytes kept in arena[0] */
	unsigned lends;
	char *lent; /* the last lent space, NULL: refused */
	size_t lent_size;
	uint64_t lines, bytes, hash, too_long, blocks, in_lent;
};

static void lend_line(void *ud, const char *line, size_t len)
{
	struct lender *l = ud;

	l->lines++;
	l->bytes += len;
	for (size_t i = 0; i < len; i++) {
		l->hash = (l->hash ^ (unsigned char)line[i]) * 1099511628211u;
	}
	l->hash = (l->hash ^ '\n') * 1099511628211u;
}

static void lend_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct lender *l = ud;

	if (ev == TAIL_EV_TOO_LONG) {
		l->too_long += n;
	}
}

static void lend_block(void *ud, char *buf, size_t n, size_t cap)
{
	struct lender *l = ud;
	struct tail_callbacks plain = {.line = lend_line, .event = lend_event, .userdata = l};
	bool skipping = false;

	l->blocks++;
	if (l->lent && buf >= l->lent && buf + n <= l->lent + l->lent_size) {
		l->in_lent++;
		if (l->mode == 0) {
			/* kept where it was read: the next lend starts after it */
			assert_ptr_equal(buf, l->arena[0] + l->kept);
			l->kept += n;
		}
	}
	assert_int_equal(tail_split(&plain, &skipping, buf, n, cap), n);
}

static char *lend(void *ud, size_t want, size_t *ret_size)
{
	struct lender *l = ud;

	l->lends++;
	l->lent = NULL;
	if (l->mode == 0) {
		if (l->kept + want > LEND_ARENA) {
			l->kept = 0; /* a new batch */
		}
		l->lent = l->arena[0] + l->kept;
		l->lent_size = LEND_ARENA - l->kept;
	} else if (l->mode == 1 || l->lends % 3) {
		/* the other buffer, at an odd place: the partial line must move */
		l->lent = l->arena[l->lends % 2] + (l->lends % 7);
		l->lent_size = want;
	}
	*ret_size = l->lent_size;
	return l->lent;
}

static void t_lend(void **state)
{
	static const int modes[] = {-1, 0, 1, 2}; /* -1: no lend, the reference */
	struct lender ref = {0};
	char *text = malloc(3u * 1024u * 1024u + 100000u);
	size_t n = 0;
	uint64_t x = 88172645463325252u;
	(void)state;

	assert_non_null(text);
	/* 3 MiB of lines of 0-300 bytes, some CRLF, some over the 8 KiB cap,
	 * the last one without a newline */
	while (n < 3u * 1024u * 1024u) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t len = x % 97 == 0 ? 9000u + x % 50000u : x % 301u;
		for (size_t i = 0; i < len; i++) {
			text[n++] = (char)('a' + (x >> (i % 40)) % 26);
		}
		if (x % 5 == 0) {
			text[n++] = '\r';
		}
		text[n++] = '\n';
	}
	memcpy(text + n, "last line", 9);
	n += 9;
	text[n] = '\0';
	write_file("lend.log", "w", text);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct lender l = {.mode = modes[m], .hash = 1469598103934665603u};
		struct tail_callbacks cb = {.line = lend_line,
		                            .event = lend_event,
		                            .block = lend_block,
		                            .lend = modes[m] < 0 ? NULL : lend,
		                            .userdata = &l};
		struct tail_scratch *sc = tail_scratch_create(8192);
		struct tail_file *t = open_at("lend.log", 0, &cb);
		l.arena[0] = malloc(LEND_ARENA);
		l.arena[1] = malloc(LEND_ARENA);
		assert_true(sc && l.arena[0] && l.arena[1]);
		while (tail_file_poll(t, sc, 0, true) > 0) {
		}
		assert_int_equal(offset_of(t), n);
		if (modes[m] < 0) {
			ref = l;
			assert_int_equal(l.in_lent, 0);
		} else {
			assert_int_equal(l.lines, ref.lines);
			assert_int_equal(l.bytes, ref.bytes);
			assert_int_equal(l.hash, ref.hash);
			assert_int_equal(l.too_long, ref.too_long);
			/* refused lends (mode 2) hand blocks from the scratch buffer */
			assert_true(modes[m] == 2 ? l.in_lent > 0 && l.in_lent < l.blocks
			                          : l.in_lent == l.blocks);
		}
		assert_true(l.too_long > 0);
		tail_file_destroy(t);
		tail_scratch_destroy(sc);
		free(l.arena[0]);
		free(l.arena[1]);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_partial_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_crlf, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_line_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_line_cap_crlf_pieces, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_skip_to_newline, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_truncation, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_end_offset, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_missing_then_appears, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_start_at_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_rename_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_delete_recreate, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_globs, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_max_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_report, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_glob_dated_rotations, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_gauges_literal_and_glob, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_resume_retired, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_resume_unconfigured, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_resume_rotated_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_catch_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_compressed_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_copytruncate_glob, setup, teardown),
	    cmocka_unit_test(t_split_block),
	    cmocka_unit_test_setup_teardown(t_lend, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
