/*
 * test_state.c - checkpoint files: round trip, strict rejection of every
 * kind of damage, and the atomic replace leaving the old file intact when
 * the write fails.
 */
#include <errno.h>
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

#include "exporter/state.h"

static const struct tail_position pos_a = {
    {2049, 1234567, 1024, 0x0123456789abcdefull}, 987654321, false};
static const struct tail_position pos_b = {{7, 8, 0, 0}, 0, true};
static const char counters_a[] = "c lines 42\nr GET 200 40\nr POST invalid 2\n";

/* A checkpoint with two sources, patterns, files and counters. */
static char *build(size_t *ret_len)
{
	struct strbuf b;
	strbuf_init(&b, 1 << 20);
	state_begin(&b);
	state_add_source(&b, "web front");
	state_add_pattern(&b, "/var/log/nginx/access.log");
	state_add_pattern(&b, "/var/log/nginx/*.log");
	state_add_file(&b, "/var/log/nginx/access.log", &pos_a, false);
	state_add_file(&b, "/var/log/nginx/with space.log", &pos_b, true);
	state_add_file(&b, "/odd\nna\\me\t\x7f", &pos_b, false); /* escaped (version 2) */
	state_end_source(&b, counters_a, strlen(counters_a));
	state_add_source(&b, "api");
	state_end_source(&b, "", 0);
	assert_int_equal(state_finish(&b), 0);
	return strbuf_steal(&b, ret_len);
}

static void t_round_trip(void **state)
{
	size_t len;
	char *text = build(&len);
	struct state *st;
	(void)state;

	assert_int_equal(state_parse(text, len, &st), 0);
	assert_int_equal(st->n_sources, 2);
	const struct state_source *s = state_find_source(st, "web front");
	assert_non_null(s);
	assert_int_equal(s->n_patterns, 2);
	assert_string_equal(s->patterns[1], "/var/log/nginx/*.log");
	assert_int_equal(s->n_files, 3);
	assert_string_equal(s->files[2].path, "/odd\nna\\me\t\x7f");
	assert_string_equal(s->files[0].path, "/var/log/nginx/access.log");
	assert_memory_equal(&s->files[0].pos.id, &pos_a.id, sizeof(pos_a.id));
	assert_int_equal(s->files[0].pos.offset, pos_a.offset);
	assert_false(s->files[0].pos.skipping);
	assert_false(s->files[0].retired);
	assert_string_equal(s->files[1].path, "/var/log/nginx/with space.log");
	assert_true(s->files[1].pos.skipping);
	assert_true(s->files[1].retired);
	assert_int_equal(s->counters_len, strlen(counters_a));
	assert_memory_equal(s->counters, counters_a, s->counters_len);
	s = state_find_source(st, "api");
	assert_non_null(s);
	assert_int_equal(s->n_files, 0);
	assert_int_equal(s->counters_len, 0);
	assert_null(state_find_source(st, "nope"));
	state_destroy(st);
	free(text);
}

/* Re-seal text with a correct checksum (to test the parser behind it). */
static char *reseal(const char *body, size_t *ret_len)
{
	struct strbuf b;
	strbuf_init(&b, 1 << 20);
	(void)strbuf_puts(&b, body);
	assert_int_equal(state_finish(&b), 0);
	return strbuf_steal(&b, ret_len);
}

static void t_corrupt_rejected(void **state)
{
	size_t len;
	char *text = build(&len);
	struct state *st = NULL;
	(void)state;

	/* every single flipped byte is caught (checksum or syntax) */
	for (size_t i = 0; i < len; i++) {
		text[i] ^= 0x20;
		assert_int_equal(state_parse(text, len, &st), -EINVAL);
		text[i] ^= 0x20;
	}
	/* every truncation too */
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(state_parse(text, n, &st), -EINVAL);
	}
	free(text);

	/* well-sealed but malformed bodies */
	static const char *const bodies[] = {
	    "accesslog-state 3\n",                                                     /* version */
	    "accesslog-state 2\nsource a\nfile 1 2 3 4 5 0 /p\\q\ncounters 0\nend\n",  /* escape */
	    "accesslog-state 2\nsource a\nfile 1 2 3 4 5 0 /p\\\ncounters 0\nend\n",   /* cut */
	    "accesslog-state 2\nsource a\nfile 1 2 3 4 5 0 /p\\x0\ncounters 0\nend\n", /* hex */
	    "accesslog-state 2\nsource a\nfile 1 2 3 4 5 0 /p\\x00\ncounters 0\nend\n", /* NUL */
	    "accesslog-state 2\nsource a\nfile 1 2 3 4 5 0 /p\\xAB\ncounters 0\nend\n", /* case */
	    "accesslog-state 2\nsource a\nfile 1 2 3 4 5 0 /p\tq\ncounters 0\nend\n",   /* raw */
	    "accesslog-state 1\nsource a\nend\n",                  /* no counters */
	    "accesslog-state 1\nsource a\ncounters 5\nc x\nend\n", /* length past end */
	    "accesslog-state 1\nsource a\ncounters 0\nend\nsource a\ncounters 0\nend\n", /* dup */
	    "accesslog-state 1\nsource a\nfile 1 2 3 4 5 4 /p\ncounters 0\nend\n",    /* flags 4 */
	    "accesslog-state 1\nsource a\nfile 1 2 2000 4 5 0 /p\ncounters 0\nend\n", /* fp_len */
	    "accesslog-state 1\nsource a\nfile 1 2 3 4 5 0\ncounters 0\nend\n",       /* no path */
	    "accesslog-state 1\nsource a\nfile 1 2 3 4 x 0 /p\ncounters 0\nend\n",    /* number */
	    "accesslog-state 1\nsource a\nfile 1 2 3 4 99999999999999999999 0 /p\ncounters "
	    "0\nend\n",
	    "accesslog-state 1\nsource a\nfile -1 2 3 4 5 0 /p\ncounters 0\nend\n",
	    "accesslog-state 1\nsource a\nfile 1  2 3 4 5 0 /p\ncounters 0\nend\n",
	    "accesslog-state 1\nsource a\nbogus 1\ncounters 0\nend\n",
	    "accesslog-state 1\nsource \ncounters 0\nend\n",
	    "accesslog-state 1\nsource a\ncounters 0\nEND\n",
	    "accesslog-state 1\nfile 1 2 3 4 5 0 /p\n",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *t = reseal(bodies[i], &len);
		assert_int_equal(state_parse(t, len, &st), -EINVAL);
		free(t);
	}
	/* the same shapes, valid, parse: the table above is not vacuous */
	char *ok =
	    reseal("accesslog-state 1\nsource a\nfile 1 2 3 4 5 1 /p q\ncounters 0\nend\n", &len);
	assert_int_equal(state_parse(ok, len, &st), 0);
	state_destroy(st);
	free(ok);
	ok = reseal("accesslog-state 2\nsource a\\x09b\nfile 1 2 3 4 5 0 /p\\nq\\\\r\\x7f\n"
	            "counters 0\nend\n",
	            &len);
	assert_int_equal(state_parse(ok, len, &st), 0);
	assert_string_equal(st->sources[0].name, "a\tb");
	assert_string_equal(st->sources[0].files[0].path, "/p\nq\\r\x7f");
	state_destroy(st);
	free(ok);
}

/* Version 1 files (written before paths were escaped) are read with their
 * text fields raw: a backslash in an old path stays a backslash. */
static void t_version1_raw(void **state)
{
	size_t len;
	struct state *st = NULL;
	char *v1 = reseal("accesslog-state 1\nsource w\\x\npattern /l/a\\n*.log\n"
	                  "file 1 2 3 4 5 0 /l/a\\n.log\ncounters 0\nend\n",
	                  &len);
	(void)state;

	assert_int_equal(state_parse(v1, len, &st), 0);
	assert_string_equal(st->sources[0].name, "w\\x");
	assert_string_equal(st->sources[0].patterns[0], "/l/a\\n*.log");
	assert_string_equal(st->sources[0].files[0].path, "/l/a\\n.log");
	state_destroy(st);
	free(v1);
}

static void t_caps(void **state)
{
	struct strbuf b;
	struct state *st;
	size_t len;
	char *text;
	(void)state;

	strbuf_init(&b, STATE_MAX_BYTES);
	state_begin(&b);
	state_add_source(&b, "a");
	for (unsigned i = 0; i <= STATE_MAX_FILES; i++) {
		state_add_file(&b, "/p", &pos_a, false);
	}
	state_end_source(&b, "", 0);
	assert_int_equal(state_finish(&b), 0);
	text = strbuf_steal(&b, &len);
	assert_int_equal(state_parse(text, len, &st), -EINVAL);
	free(text);
}

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_state.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void t_atomic_write(void **state)
{
	char path[128], tmp[160];
	size_t len;
	char *text = build(&len);
	struct state *st;
	(void)state;

	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(state_load(path, &st), -ENOENT);
	assert_int_equal(state_write_atomic(path, text, len), 0);
	assert_int_equal(state_load(path, &st), 0);
	assert_int_equal(st->n_sources, 2);
	state_destroy(st);

	/* the temp file cannot be created (a directory is in the way): the
	 * write fails and the previous checkpoint is untouched */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_true(state_write_atomic(path, "garbage", 7) < 0);
	assert_int_equal(state_load(path, &st), 0);
	assert_int_equal(st->n_sources, 2);
	state_destroy(st);
	assert_int_equal(rmdir(tmp), 0);

	/* a damaged file on disk is refused */
	FILE *f = fopen(path, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, 30, SEEK_SET), 0);
	assert_int_equal(fputc('#', f), '#');
	assert_int_equal(fclose(f), 0);
	assert_int_equal(state_load(path, &st), -EINVAL);

	/* no temp files left behind */
	assert_int_equal(access(tmp, F_OK), -1);
	free(text);
}

/* state_explain says why a file is refused, in words. */
static void t_explain(void **state)
{
	char path[128], why[256];
	size_t len;
	char *text = build(&len);
	char *v2 = malloc(len + 1);
	static const char checksum_suffix[] = "checksum ";
	struct {
		const char *data;
		size_t len;
		const char *want;
	} rows[] = {
	    {"", 0, "the file is empty"},
	    {"hello\n", 6, "not a state file of this exporter"},
	    {NULL, 0, "written in another state file version"},
	    {NULL, 0, "truncated: no checksum line at the end"},
	    {NULL, 0, "checksum mismatch"},
	};
	(void)state;

	assert_non_null(v2);
	memcpy(v2, text, len);
	v2[16] = '3'; /* "accesslog-state 3" */
	rows[2].data = v2;
	rows[2].len = len;
	rows[3].data = text;
	rows[3].len = len / 2; /* cut in the middle */
	char *bad = malloc(len);
	assert_non_null(bad);
	memcpy(bad, text, len);
	bad[30] = bad[30] == '#' ? '$' : '#';
	rows[4].data = bad;
	rows[4].len = len;
	assert_non_null(strstr(text, checksum_suffix));
	snprintf(path, sizeof(path), "%s/state", dir);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct state *st = NULL;
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(rows[i].data, 1, rows[i].len, f), rows[i].len);
		assert_int_equal(fclose(f), 0);
		assert_true(state_load(path, &st) < 0);
		assert_int_equal(state_explain(path, why, sizeof(why)), 0);
		if (!strstr(why, rows[i].want)) {
			fail_msg("row %zu: '%s', want '%s'", i, why, rows[i].want);
		}
	}
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(state_explain(path, why, sizeof(why)), 0);
	assert_string_equal(why, "not a regular file (a directory)");
	assert_int_equal(rmdir(path), 0);
	free(bad);
	free(v2);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_round_trip),
	    cmocka_unit_test(t_corrupt_rejected),
	    cmocka_unit_test(t_version1_raw),
	    cmocka_unit_test(t_caps),
	    cmocka_unit_test_setup_teardown(t_atomic_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_explain, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
