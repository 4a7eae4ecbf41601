/*
 * test_snapshot.c - landing-page snapshots and the board that publishes
 * them: building (copies, cap, order), publishing while a reader holds the
 * previous snapshot (it stays valid until released), and a publisher thread
 * racing readers (run under ASan/TSan-style sanitizers in CI).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/http/snapshot.h"

static struct snapshot *one_source(const char *name, size_t n_files)
{
	struct snapshot *s = snapshot_create(1000.0);
	char path[64];

	assert_non_null(s);
	assert_int_equal(snapshot_add_source(s, name, "combined", 7, 2, 999.5), 0);
	for (size_t i = 0; i < n_files; i++) {
		struct snapshot_file f = {.path = path, .offset = i, .size = 2 * i};
		(void)snprintf(path, sizeof(path), "/var/log/%zu.log", i);
		assert_int_equal(snapshot_add_file(s, &f), 0);
	}
	return s;
}

static void t_build(void **state)
{
	struct snapshot *s = snapshot_create(5.0);
	char path[] = "/a.log";
	struct snapshot_file f = {.path = path, .state = SNAPSHOT_FILE_MISSING, .error = ENOENT};

	(void)state;
	assert_int_equal(snapshot_add_file(s, &f), -EINVAL); /* no source yet */
	assert_int_equal(snapshot_add_source(s, "a", "main", 1, 0, 0), 0);
	assert_int_equal(snapshot_add_file(s, &f), 0);
	path[1] = 'b'; /* copied, not borrowed */
	assert_int_equal(snapshot_add_source(s, "b", "nginx log_format", 3, 1, 4.0), 0);
	assert_int_equal(snapshot_add_file(s, &f), 0);
	assert_int_equal(s->n_sources, 2);
	assert_string_equal(s->sources[0].files[0].path, "/a.log");
	assert_int_equal(s->sources[0].files[0].error, ENOENT);
	assert_string_equal(s->sources[1].name, "b");
	assert_string_equal(s->sources[1].files[0].path, "/b.log");
	assert_int_equal(s->sources[1].lines, 3);
	snapshot_destroy(s);
	snapshot_destroy(NULL);
}

static void t_cap(void **state)
{
	struct snapshot *s = one_source("big", SNAPSHOT_MAX_FILES_PER_SOURCE + 5);

	(void)state;
	assert_int_equal(s->sources[0].n_files, SNAPSHOT_MAX_FILES_PER_SOURCE);
	assert_int_equal(s->sources[0].n_more, 5);
	assert_string_equal(s->sources[0].files[SNAPSHOT_MAX_FILES_PER_SOURCE - 1].path,
	                    "/var/log/199.log");
	snapshot_destroy(s);
}

static void t_board(void **state)
{
	struct snapshot_board *b = snapshot_board_create();
	const struct snapshot *held;

	(void)state;
	assert_null(snapshot_board_acquire(b));
	snapshot_board_publish(b, one_source("first", 2));
	held = snapshot_board_acquire(b);
	assert_string_equal(held->sources[0].name, "first");
	/* A newer snapshot replaces it; the held one stays readable. */
	snapshot_board_publish(b, one_source("second", 1));
	assert_string_equal(held->sources[0].name, "first");
	assert_string_equal(held->sources[0].files[1].path, "/var/log/1.log");
	snapshot_board_release(b, held);
	held = snapshot_board_acquire(b);
	assert_string_equal(held->sources[0].name, "second");
	snapshot_board_release(b, held);
	snapshot_board_release(b, NULL);
	snapshot_board_destroy(b);
	snapshot_board_destroy(NULL);
}

static void *publisher(void *arg)
{
	struct snapshot_board *b = arg;

	for (int i = 0; i < 2000; i++) {
		snapshot_board_publish(b, one_source(i % 2 ? "odd" : "even", 3));
	}
	return NULL;
}

static void t_race(void **state)
{
	struct snapshot_board *b = snapshot_board_create();
	pthread_t t;
	size_t seen = 0;

	(void)state;
	snapshot_board_publish(b, one_source("start", 3));
	assert_int_equal(pthread_create(&t, NULL, publisher, b), 0);
	for (int i = 0; i < 2000; i++) {
		const struct snapshot *s = snapshot_board_acquire(b);
		assert_int_equal(s->sources[0].n_files, 3);
		seen += strlen(s->sources[0].files[2].path) > 0;
		snapshot_board_release(b, s);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(seen, 2000);
	snapshot_board_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_build),
	    cmocka_unit_test(t_cap),
	    cmocka_unit_test(t_board),
	    cmocka_unit_test(t_race),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
