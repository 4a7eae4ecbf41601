/*
 * test_dirwatch.c - inotify on directories: names created and renamed into
 * a watched directory are reported with the directory they were watched
 * as, other changes only wake, a directory watched twice is one watch, a
 * removed directory asks for a rescan and can be watched again, missing
 * directories and the directory cap are errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/input/dirwatch.h"

struct seen {
	char names[16][256];
	size_t n;
};

static void on_name(void *ud, const char *dir, const char *name)
{
	struct seen *s = ud;

	if (s->n < 16) {
		(void)snprintf(s->names[s->n++], sizeof(s->names[0]), "%s|%s", dir, name);
	}
}

static void touch(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool readable(const struct dirwatch *w)
{
	struct pollfd p = {dirwatch_fd(w), POLLIN, 0};

	return poll(&p, 1, 1000) == 1;
}

static void t_names(void **state)
{
	char dir[] = "/tmp/test_dirwatch.XXXXXX", sub[256], a[512], b[512];
	struct dirwatch *w = NULL;
	struct seen s = {0};

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(dirwatch_create(&w), 0);
	assert_int_equal(dirwatch_add(w, dir), 0);
	assert_int_equal(dirwatch_add(w, dir), 0); /* again: no-op */
	(void)snprintf(sub, sizeof(sub), "%s/nope", dir);
	assert_int_equal(dirwatch_add(w, sub), -ENOENT);

	touch(dir, "a.log", "x\n");
	touch(dir, "a.log", "y\n"); /* a write: wakes, not reported */
	(void)snprintf(a, sizeof(a), "%s/b.tmp", dir);
	(void)snprintf(b, sizeof(b), "%s/b.log", dir);
	touch(dir, "b.tmp", "z\n");
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(mkdir(sub, 0700), 0); /* a directory: not a file */
	assert_true(readable(w));
	assert_int_equal(dirwatch_read(w, on_name, &s), 0);
	assert_int_equal(s.n, 3);
	(void)snprintf(a, sizeof(a), "%s|a.log", dir);
	assert_string_equal(s.names[0], a);
	(void)snprintf(a, sizeof(a), "%s|b.tmp", dir);
	assert_string_equal(s.names[1], a);
	(void)snprintf(a, sizeof(a), "%s|b.log", dir);
	assert_string_equal(s.names[2], a);

	/* Only writes: readable (the idle wait wakes), nothing reported. */
	s.n = 0;
	touch(dir, "b.log", "more\n");
	assert_true(readable(w));
	assert_int_equal(dirwatch_read(w, on_name, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(dirwatch_read(w, on_name, &s), 0); /* nothing pending */

	/* The watched directory goes away: a rescan is asked for, and the
	 * name can be watched again once it exists. */
	assert_int_equal(dirwatch_add(w, sub), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_true(readable(w));
	assert_int_equal(dirwatch_read(w, on_name, &s), 1);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(dirwatch_add(w, sub), 0);
	touch(sub, "c.log", "c\n");
	assert_true(readable(w));
	s.n = 0;
	(void)dirwatch_read(w, on_name, &s);
	assert_int_equal(s.n, 1);
	(void)snprintf(a, sizeof(a), "%s|c.log", sub);
	assert_string_equal(s.names[0], a);

	dirwatch_destroy(w);
	dirwatch_destroy(NULL);
	(void)snprintf(a, sizeof(a), "rm -rf '%s'", dir);
	assert_int_equal(system(a), 0);
}

static void t_cap(void **state)
{
	char dir[] = "/tmp/test_dirwatch.XXXXXX", sub[600];
	struct dirwatch *w = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(dirwatch_create(&w), 0);
	for (unsigned i = 0; i <= DIRWATCH_MAX_DIRS; i++) {
		(void)snprintf(sub, sizeof(sub), "%s/%u", dir, i);
		assert_int_equal(mkdir(sub, 0700), 0);
		assert_int_equal(dirwatch_add(w, sub), i < DIRWATCH_MAX_DIRS ? 0 : -ENOSPC);
	}
	dirwatch_destroy(w);
	(void)snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	assert_int_equal(system(sub), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_names),
	    cmocka_unit_test(t_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
