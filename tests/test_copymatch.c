/*
 * test_copymatch.c - copytruncate's copies on their own, with temp files:
 * rotated names, a copy by name and first bytes (a whole 1 KiB head under
 * any name of the directory, a short head only under a rotated name), the
 * offset a copy resumes at, rotated members by identity, content and gzip
 * head, pending copies (just created, half written, complete), lost copies
 * (remembered, taken once, the oldest dropped past the cap), and what
 * copymatch_recover hands its sink: a rotated member, a copy holding
 * nothing new, a copy elsewhere in the directory, or nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "exporter/input/copymatch.h"

#define LOG_BYTES 1600u /* 40 lines of 40 bytes: more than TAIL_FP_MAX */

static char dir[64];
static char orig_path[PATH_MAX]; /* dir/access.log */

static int setup(void **state)
{
	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/test_copymatch.XXXXXX");
	if (!mkdtemp(dir)) {
		return -1;
	}
	(void)snprintf(orig_path, sizeof(orig_path), "%s/access.log", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* dir/name, in one of four static buffers used in turn (an argument list
 * holds at most four). */
static const char *at(const char *name)
{
	static char bufs[4][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % 4];
	(void)snprintf(b, PATH_MAX, "%s/%s", dir, name);
	return b;
}

/* The first n bytes of log seed (lines of 40 bytes). */
static void content(unsigned seed, char *buf, size_t n)
{
	for (size_t i = 0; i < n; i += 40) {
		char line[41];
		(void)snprintf(line, sizeof(line), "10.0.%02u.%-3zu GET /page/%-13zu 200\n", seed,
		               (i / 40) % 1000, i / 40);
		memcpy(buf + i, line, n - i < 40 ? n - i : 40);
	}
}

static void write_file(const char *path, unsigned seed, size_t n)
{
	char buf[LOG_BYTES];
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(n <= sizeof(buf));
	content(seed, buf, n);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, unsigned seed, size_t n)
{
	char buf[LOG_BYTES];
	gzFile g = gzopen(path, "wb");
	assert_non_null(g);
	content(seed, buf, n);
	assert_int_equal(gzwrite(g, buf, (unsigned)n), (int)n);
	assert_int_equal(gzclose(g), Z_OK);
}

/* The position of the file at path read to offset (its first bytes
 * fingerprinted, up to TAIL_FP_MAX). */
static struct tail_position position(const char *path, uint64_t offset)
{
	struct tail_position pos = {.offset = offset};
	struct stat st;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(tail_fingerprint(fd, (uint64_t)st.st_size, TAIL_FP_MAX, &pos.id.fp_len,
	                                  &pos.id.fp_hash),
	                 0);
	pos.id.dev = (uint64_t)st.st_dev;
	pos.id.ino = (uint64_t)st.st_ino;
	close(fd);
	return pos;
}

/* The file at path opened for reading, *st its fstat. */
static int open_st(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, st), 0);
	return fd;
}

/* copymatch_is_copy on the file at path; *ret_offset set when true. */
static bool is_copy(const char *path, const char *orig, const struct tail_position *pos,
                    uint64_t *ret_offset)
{
	struct stat st;
	int fd = open_st(path, &st);
	bool r = copymatch_is_copy(path, fd, &st, orig, pos, ret_offset);

	close(fd);
	return r;
}

static void t_rotated_name(void **state)
{
	static const struct {
		const char *path, *orig;
		bool rotated;
	} cases[] = {
	    {"/d/access.log.1", "/d/access.log", true},
	    {"/d/access.log.2.gz", "/d/access.log", true},
	    {"/d/access.log-20261203", "/d/access.log", true},
	    {"access.log.1", "access.log", true},
	    {"/e/access.log.1", "/d/access.log", false},
	    {"/d/sub/access.log.1", "/d/access.log", false},
	    {"/d/access.log.bak", "/d/access.log", false},
	    {"/d/access.log", "/d/access.log", false},
	    {"/d/error.log.1", "/d/access.log", false},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(copymatch_is_rotated_name(cases[i].path, cases[i].orig),
		                 cases[i].rotated);
	}
}

/* A whole 1 KiB head: a copy under a rotated name or any name of the
 * directory, resuming at the offset read (or the copy's end). */
static void t_copy_whole_head(void **state)
{
	const char *orig = orig_path;
	struct tail_position pos;
	uint64_t off = 0;
	char other[PATH_MAX];
	(void)state;

	write_file(orig, 1, LOG_BYTES);
	pos = position(orig, 1200);
	assert_int_equal(pos.id.fp_len, TAIL_FP_MAX);
	write_file(at("access.log.1"), 1, LOG_BYTES);
	assert_true(is_copy(at("access.log.1"), orig, &pos, &off));
	assert_int_equal(off, 1200);
	write_file(at("access.log.bak"), 1, 1100); /* shorter than what was read */
	off = 0;
	assert_true(is_copy(at("access.log.bak"), orig, &pos, &off));
	assert_int_equal(off, 1100);
	write_file(at("access.log.2"), 2, LOG_BYTES); /* other lines */
	off = 7;
	assert_false(is_copy(at("access.log.2"), orig, &pos, &off));
	assert_int_equal(off, 7);           /* untouched */
	write_file(at("short.1"), 1, 1000); /* under the fingerprint */
	assert_false(is_copy(at("short.1"), orig, &pos, &off));
	/* Another directory: never. */
	(void)snprintf(other, sizeof(other), "%s/sub", dir);
	assert_int_equal(mkdir(other, 0700), 0);
	write_file(at("sub/access.log.1"), 1, LOG_BYTES);
	assert_false(is_copy(at("sub/access.log.1"), orig, &pos, &off));
}

/* A short head (a file of a few lines): only a rotated name says copy. */
static void t_copy_short_head(void **state)
{
	const char *orig = orig_path;
	struct tail_position pos;
	uint64_t off = 0;
	(void)state;

	write_file(orig, 1, 200);
	pos = position(orig, 200);
	assert_int_equal(pos.id.fp_len, 200);
	write_file(at("access.log.1"), 1, 200);
	write_file(at("access.log.bak"), 1, 200);
	assert_true(is_copy(at("access.log.1"), orig, &pos, &off));
	assert_int_equal(off, 200);
	assert_false(is_copy(at("access.log.bak"), orig, &pos, &off));
	pos.id.fp_len = 0; /* nothing read: nothing to recognise */
	assert_false(is_copy(at("access.log.1"), orig, &pos, &off));
}

static bool member_is(const char *path, enum rotchain_codec codec, const struct tail_position *pos,
                      bool by_content)
{
	struct stat st;
	int fd = open_st(path, &st);
	bool r = copymatch_member_is(fd, &st, codec, pos, by_content);

	close(fd);
	return r;
}

static void t_member_is(void **state)
{
	const char *orig = orig_path;
	struct tail_position pos;
	(void)state;

	write_file(orig, 1, LOG_BYTES);
	pos = position(orig, 1200);
	assert_true(member_is(orig, ROTCHAIN_PLAIN, &pos, false)); /* the same inode */
	write_file(at("access.log.1"), 1, LOG_BYTES);
	assert_false(member_is(at("access.log.1"), ROTCHAIN_PLAIN, &pos, false));
	assert_true(member_is(at("access.log.1"), ROTCHAIN_PLAIN, &pos, true));
	write_file(at("access.log.2"), 1, 1100); /* does not hold the offset read */
	assert_false(member_is(at("access.log.2"), ROTCHAIN_PLAIN, &pos, true));
	write_gz(at("access.log.1.gz"), 1, LOG_BYTES);
	assert_true(member_is(at("access.log.1.gz"), ROTCHAIN_GZIP, &pos, false));
	write_gz(at("access.log.3.gz"), 2, LOG_BYTES);
	assert_false(member_is(at("access.log.3.gz"), ROTCHAIN_GZIP, &pos, false));
	assert_false(member_is(at("access.log.1.gz"), ROTCHAIN_BZIP2, &pos, true));
}

static bool is_pending(const char *path, const char *orig, const struct tail_position *pos)
{
	struct stat st;
	int fd = open_st(path, &st);
	bool r = copymatch_is_pending(path, fd, &st, orig, pos);

	close(fd);
	return r;
}

/* cp at work: created, half written, done; and files that are no copy. */
static void t_pending(void **state)
{
	const char *orig = orig_path;
	struct tail_position pos, none;
	(void)state;

	write_file(orig, 1, LOG_BYTES);
	pos = position(orig, 1500);
	write_file(at("access.log.1"), 1, 0);
	write_file(at("access.log.bak"), 1, 0);
	assert_true(is_pending(at("access.log.1"), orig, &pos));
	assert_false(is_pending(at("access.log.bak"), orig, &pos)); /* empty: only by name */
	write_file(at("access.log.1"), 1, 500);
	write_file(at("access.log.bak"), 1, 500);
	assert_true(is_pending(at("access.log.1"), orig, &pos));
	assert_false(is_pending(at("access.log.bak"), orig, &pos)); /* a short head */
	write_file(at("access.log.bak"), 1, LOG_BYTES);
	assert_true(is_pending(at("access.log.bak"), orig, &pos));
	write_file(at("access.log.2"), 2, 500);
	assert_false(is_pending(at("access.log.2"), orig, &pos));
	none = pos;
	none.id.fp_len = 0;
	assert_false(is_pending(at("access.log.1"), orig, &none));
}

/* What a recover handed the sink. */
struct got {
	size_t members, follows;
	char member[PATH_MAX];
	uint64_t offset;
	bool skipping;
	uint64_t followed_ino; /* is_followed says yes for it */
	bool full;
};

static bool sink_is_followed(void *ud, uint64_t dev, uint64_t ino)
{
	struct got *g = ud;
	(void)dev;
	return g->followed_ino && ino == g->followed_ino;
}

static bool sink_is_full(void *ud)
{
	return ((struct got *)ud)->full;
}

static void sink_read_member(void *ud, const struct rotchain_member *m)
{
	struct got *g = ud;
	g->members++;
	(void)snprintf(g->member, sizeof(g->member), "%s", m->path);
}

static int sink_follow(void *ud, int fd, const struct stat *st, uint64_t offset, bool skipping)
{
	struct got *g = ud;
	(void)st;
	g->follows++;
	g->offset = offset;
	g->skipping = skipping;
	close(fd); /* taken */
	return 0;
}

static void recover(struct copymatch *cm, const char *path, const struct tail_position *old,
                    struct got *g)
{
	const struct copymatch_sink sink = {sink_is_followed, sink_is_full, sink_read_member,
	                                    sink_follow, g};
	copymatch_recover(cm, path, old, &sink);
}

/* Truncate the file at path (copytruncate's second step). */
static void truncate_file(const char *path)
{
	assert_int_equal(truncate(path, 0), 0);
}

static void t_recover_member(void **state)
{
	struct copymatch *cm = copymatch_create("web");
	const char *orig = orig_path;
	struct tail_position old;
	struct got g = {0};
	(void)state;

	assert_non_null(cm);
	write_file(orig, 1, LOG_BYTES);
	old = position(orig, 1200);
	write_file(at("access.log.2"), 1, LOG_BYTES); /* an older copy: the newest goes first */
	write_file(at("access.log.1"), 1, LOG_BYTES);
	truncate_file(orig);
	recover(cm, orig, &old, &g);
	assert_int_equal(g.members, 1);
	assert_int_equal(g.follows, 0);
	assert_string_equal(g.member, at("access.log.1"));
	/* Compressed since: the gzip member. */
	assert_int_equal(unlink(at("access.log.1")), 0);
	assert_int_equal(unlink(at("access.log.2")), 0);
	write_gz(at("access.log.1.gz"), 1, LOG_BYTES);
	memset(&g, 0, sizeof(g));
	recover(cm, orig, &old, &g);
	assert_int_equal(g.members, 1);
	assert_string_equal(g.member, at("access.log.1.gz"));
	copymatch_destroy(cm);
}

/* A copy no longer than what was read: followed from its end. */
static void t_recover_copy_read(void **state)
{
	struct copymatch *cm = copymatch_create("web");
	const char *orig = orig_path;
	struct tail_position old;
	struct got g = {0};
	(void)state;

	write_file(orig, 1, LOG_BYTES);
	old = position(orig, 1500);
	write_file(at("access.log.1"), 1, 1300);
	truncate_file(orig);
	recover(cm, orig, &old, &g);
	assert_int_equal(g.members, 0);
	assert_int_equal(g.follows, 1);
	assert_int_equal(g.offset, 1300);
	assert_false(g.skipping);
	copymatch_destroy(cm);
}

/* A copy under a name that is no rotation (a script's .bak): from where
 * the file was read to, inside an over-long line when it was. */
static void t_recover_dir_copy(void **state)
{
	struct copymatch *cm = copymatch_create("web");
	const char *orig = orig_path;
	struct tail_position old;
	struct stat st;
	struct got g = {0};
	(void)state;

	write_file(orig, 1, LOG_BYTES);
	old = position(orig, 1210);
	old.skipping = true;
	write_file(at("access.log.bak"), 1, LOG_BYTES);
	truncate_file(orig);
	recover(cm, orig, &old, &g);
	assert_int_equal(g.follows, 1);
	assert_int_equal(g.offset, 1210);
	assert_true(g.skipping);
	/* Followed already, or no room: not taken, remembered instead. */
	assert_int_equal(stat(at("access.log.bak"), &st), 0);
	memset(&g, 0, sizeof(g));
	g.followed_ino = (uint64_t)st.st_ino;
	recover(cm, orig, &old, &g);
	assert_int_equal(g.follows, 0);
	memset(&g, 0, sizeof(g));
	g.full = true;
	recover(cm, orig, &old, &g);
	assert_int_equal(g.follows, 0);
	copymatch_destroy(cm);
}

static bool take_lost(struct copymatch *cm, const char *path, uint64_t *ret_offset,
                      bool *ret_skipping)
{
	struct stat st;
	int fd = open_st(path, &st);
	bool r = copymatch_take_lost(cm, path, fd, &st, ret_offset, ret_skipping);

	close(fd);
	return r;
}

/* No copy anywhere at the truncate: the one that appears later resumes,
 * once; a short head is not remembered for another name. */
static void t_lost(void **state)
{
	struct copymatch *cm = copymatch_create("web");
	const char *orig = orig_path;
	struct tail_position old;
	struct got g = {0};
	uint64_t off = 0;
	bool skipping = false;
	(void)state;

	write_file(orig, 1, LOG_BYTES);
	old = position(orig, 1400);
	old.skipping = true; /* read to inside an over-long line */
	truncate_file(orig);
	recover(cm, orig, &old, &g);
	assert_int_equal(g.members + g.follows, 0);
	write_file(at("access.log.old-1764720000"), 1, LOG_BYTES);
	write_file(at("access.log.other"), 2, LOG_BYTES);
	assert_false(take_lost(cm, at("access.log.other"), &off, &skipping));
	assert_true(take_lost(cm, at("access.log.old-1764720000"), &off, &skipping));
	assert_int_equal(off, 1400);
	assert_true(skipping);
	assert_false(take_lost(cm, at("access.log.old-1764720000"), &off, &skipping));
	copymatch_destroy(cm);
}

/* COPYMATCH_LOST_MAX positions are kept: one more drops the oldest. */
static void t_lost_cap(void **state)
{
	struct copymatch *cm = copymatch_create("web");
	uint64_t off;
	bool skipping;
	char name[64];
	(void)state;

	for (unsigned i = 0; i <= COPYMATCH_LOST_MAX; i++) {
		struct tail_position old;
		struct got g = {0};
		(void)snprintf(name, sizeof(name), "site%u.log", i);
		write_file(at(name), 10 + i, LOG_BYTES);
		old = position(at(name), 100 + i);
		truncate_file(at(name));
		recover(cm, at(name), &old, &g);
		assert_int_equal(g.members + g.follows, 0);
	}
	for (unsigned i = 0; i <= COPYMATCH_LOST_MAX; i++) {
		(void)snprintf(name, sizeof(name), "site%u.log.bak", i);
		write_file(at(name), 10 + i, LOG_BYTES);
		off = 0;
		assert_int_equal(take_lost(cm, at(name), &off, &skipping), i > 0);
		if (i > 0) {
			assert_int_equal(off, 100 + i);
		}
	}
	copymatch_destroy(NULL);
	copymatch_destroy(cm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_rotated_name),
	    cmocka_unit_test_setup_teardown(t_copy_whole_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_copy_short_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_member_is, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_recover_member, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_recover_copy_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_recover_dir_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_lost, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_lost_cap, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
