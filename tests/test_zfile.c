/*
 * test_zfile.c - gzip-compressed log files read line by line: lines, CRLF,
 * a final line without newline, the line cap, resuming at an uncompressed
 * offset (and inside an over-long line), concatenated members, small
 * budgets, truncated and corrupt data, non-gzip input, and the fingerprint
 * of the uncompressed head matching a plain file's.
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
#include "exporter/input/tail.h"
#include "exporter/input/zfile.h"

#define MAX_SEEN 64

struct seen {
	char lines[MAX_SEEN][80];
	size_t n;
	uint64_t ev[TAIL_EV_READ_ERROR + 1];
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

static void on_count(void *ud, const char *line, size_t len)
{
	struct seen *s = ud;
	(void)line;
	(void)len;
	s->n++;
}

static void on_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct seen *s = ud;
	s->ev[ev] += ev == TAIL_EV_READ_ERROR ? 1 : n;
}

static char path[256];

static int setup(void **state)
{
	int fd;
	(void)state;
	(void)snprintf(path, sizeof(path), "/tmp/test_zfile.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return 0;
}

/* Write the gzip members of each text (NULL-terminated list) to path,
 * then cut cut bytes off the end. */
static void write_gz(const char *const *texts, size_t cut)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	for (size_t i = 0; texts[i]; i++) {
		char *z = NULL;
		size_t zlen = 0;
		assert_int_equal(compress_gzip(texts[i], strlen(texts[i]), 6, &z, &zlen), 0);
		if (!texts[i + 1]) {
			assert_true(zlen > cut);
			zlen -= cut;
		}
		assert_int_equal(write(fd, z, zlen), (ssize_t)zlen);
		free(z);
	}
	close(fd);
}

/* Read the whole file from offset with budget per poll; returns the zfile's
 * error and fills s and *ret_pos. */
static int read_all(uint64_t offset, bool skipping, size_t cap, uint64_t budget, struct seen *s,
                    struct tail_position *ret_pos)
{
	struct tail_callbacks cb = {.line = on_line, .event = on_event, .userdata = s};
	struct zfile *z = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY);
	int polls = 0, err;

	memset(s, 0, sizeof(*s));
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(zfile_open("known-as", fd, &st, offset, skipping, cap, &cb, &z), 0);
	assert_string_equal(zfile_path(z), "known-as");
	assert_true(zfile_is(z, (uint64_t)st.st_dev, (uint64_t)st.st_ino));
	while (zfile_poll(z, budget) > 0) {
		assert_true(++polls < 100000);
	}
	assert_true(zfile_done(z));
	assert_int_equal(zfile_poll(z, budget), 0);
	zfile_position(z, ret_pos);
	err = zfile_error(z);
	zfile_destroy(z);
	return err;
}

static void t_lines(void **state)
{
	const char *const text[] = {"one\ntwo\r\nthree\nlast without newline", NULL};
	struct tail_position pos;
	struct seen s;
	(void)state;

	write_gz(text, 0);
	assert_int_equal(read_all(0, false, 0, 1 << 20, &s, &pos), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.lines[0], "one");
	assert_string_equal(s.lines[1], "two");
	assert_string_equal(s.lines[3], "last without newline");
	assert_int_equal(pos.offset, strlen(text[0]));
	assert_int_equal(s.ev[TAIL_EV_BYTES], strlen(text[0]));
	/* Resume after "one\ntwo\r\n": the rest only. */
	assert_int_equal(read_all(9, false, 0, 1 << 20, &s, &pos), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.lines[0], "three");
	assert_int_equal(s.ev[TAIL_EV_BYTES], strlen(text[0]) - 9);
	/* At (or past) the end: nothing. */
	assert_int_equal(read_all(1000, false, 0, 1 << 20, &s, &pos), 0);
	assert_int_equal(s.n, 0);
	zfile_destroy(NULL);
}

static void t_cap_and_budget(void **state)
{
	/* 4000 lines through a 7-byte budget, and an over-long line. */
	static char big[64 * 1024];
	const char *const text[] = {big, NULL};
	struct tail_position pos;
	struct seen s;
	size_t o = 0;
	(void)state;

	for (int i = 0; i < 40; i++) {
		o += (size_t)snprintf(big + o, sizeof(big) - o, "line %d\n", i);
	}
	o += (size_t)snprintf(big + o, sizeof(big) - o, "%s\n", "0123456789abcdefghij");
	o += (size_t)snprintf(big + o, sizeof(big) - o, "after\n");
	write_gz(text, 0);
	assert_int_equal(read_all(0, false, 10, 7, &s, &pos), 0);
	assert_int_equal(s.n, 41);
	assert_string_equal(s.lines[39], "line 39");
	assert_string_equal(s.lines[40], "after");
	assert_int_equal(s.ev[TAIL_EV_TOO_LONG], 1);
	assert_int_equal(pos.offset, o);
	/* Resume inside the over-long line (its report already made). */
	size_t inside = (size_t)(strstr(big, "0123") - big) + 5;
	assert_int_equal(read_all(inside, true, 10, 1 << 20, &s, &pos), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.lines[0], "after");
	assert_int_equal(s.ev[TAIL_EV_TOO_LONG], 0);
}

static void t_members(void **state)
{
	const char *const text[] = {"a\nb\n", "c\n", "d\n", NULL};
	struct tail_position pos;
	struct seen s;
	(void)state;

	write_gz(text, 0);
	assert_int_equal(read_all(0, false, 0, 1 << 20, &s, &pos), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.lines[3], "d");
	assert_int_equal(pos.offset, 8);
}

static void t_broken(void **state)
{
	const char *const text[] = {"complete 1\ncomplete 2\nand more and more\n", NULL};
	struct tail_position pos;
	struct seen s;
	int fd;
	(void)state;

	/* Cut before its trailer: what inflated is delivered, then -EPIPE. */
	write_gz(text, 12);
	assert_int_equal(read_all(0, false, 0, 1 << 20, &s, &pos), -EPIPE);
	assert_true(s.n >= 1);
	assert_int_equal(s.ev[TAIL_EV_READ_ERROR], 1);
	/* Corrupt deflate data after the first KiB (the head still inflates). */
	{
		static char big[200000];
		const char *const texts[] = {big, NULL};
		struct stat st;
		unsigned x = 1;
		size_t o = 0;
		while (o + 40 < sizeof(big)) {
			x = x * 1103515245u + 12345u;
			o += (size_t)snprintf(big + o, sizeof(big) - o, "%u %u\n", x, x >> 7);
		}
		write_gz(texts, 0);
		assert_int_equal(stat(path, &st), 0);
		fd = open(path, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "\xff\xff\xff\xff\xff\xff\xff\xff", 8, st.st_size / 2),
		                 8);
		close(fd);
		memset(&s, 0, sizeof(s));
		{
			struct tail_callbacks cb = {
			    .line = on_count, .event = on_event, .userdata = &s};
			struct zfile *z = NULL;
			int polls = 0;
			fd = open(path, O_RDONLY);
			assert_int_equal(fstat(fd, &st), 0);
			assert_int_equal(zfile_open("c", fd, &st, 0, false, 0, &cb, &z), 0);
			while (zfile_poll(z, 4096) > 0) {
				assert_true(++polls < 100000);
			}
			assert_int_equal(zfile_error(z), -EIO);
			assert_true(s.n > 100); /* the lines before the damage */
			assert_int_equal(s.ev[TAIL_EV_READ_ERROR], 1);
			zfile_destroy(z);
		}
	}
	/* Not gzip at all: refused at open. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "plain text\n", 11), 11);
	close(fd);
	{
		struct tail_callbacks cb = {.line = on_line, .event = on_event, .userdata = &s};
		struct zfile *z = NULL;
		struct stat st;
		fd = open(path, O_RDONLY);
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(zfile_open("p", fd, &st, 0, false, 0, &cb, &z), -EIO);
		close(fd);
	}
}

static void t_fingerprint(void **state)
{
	/* A plain file's fingerprint (what a checkpoint holds) matches its gzip copy. */
	const char *text =
	    "203.0.113.9 - - [03/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n";
	const char *const texts[] = {text, NULL};
	struct tail_position saved = {{0}, 10, false};
	uint32_t len;
	uint64_t hash;
	int fd;
	(void)state;

	saved.id.fp_len = 20;
	saved.id.fp_hash = tail_fingerprint_hash(text, 20);
	write_gz(texts, 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(zfile_matches(fd, &saved));
	assert_int_equal(zfile_fingerprint(fd, TAIL_FP_MAX, &len, &hash), 0);
	assert_int_equal(len, strlen(text));
	assert_true(hash == tail_fingerprint_hash(text, strlen(text)));
	saved.id.fp_hash ^= 1;
	assert_false(zfile_matches(fd, &saved));
	saved.id.fp_len = 0; /* an empty file's fingerprint matches nothing here */
	assert_false(zfile_matches(fd, &saved));
	saved.id.fp_len = 500; /* longer than the content */
	saved.id.fp_hash = tail_fingerprint_hash(text, strlen(text));
	assert_false(zfile_matches(fd, &saved));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_cap_and_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_members, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_broken, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_fingerprint, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
