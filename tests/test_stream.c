/*
 * test_stream.c - lines from a pipe: partial lines wait for their newline,
 * "\r\n", over-long lines skipped whole, the end of input, --once's last
 * line without a newline, and a follow-mode poll that never blocks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "exporter/input/stream.h"

struct got {
	char text[4096];
	size_t len;
	unsigned lines, too_long;
	uint64_t bytes;
};

static void on_line(void *ud, const char *line, size_t len)
{
	struct got *g = ud;
	assert_true(g->len + len + 1 < sizeof(g->text));
	memcpy(g->text + g->len, line, len);
	g->len += len;
	g->text[g->len++] = '|';
	g->text[g->len] = '\0';
	g->lines++;
}

static void on_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct got *g = ud;
	if (ev == TAIL_EV_TOO_LONG) {
		g->too_long += (unsigned)n;
	} else if (ev == TAIL_EV_BYTES) {
		g->bytes += n;
	}
}

static void put(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* A pipe and callbacks that collect into a struct got; the test closes the
 * write end itself when it wants the end of input (then marks it -1). */
struct fixture {
	struct got g;
	struct tail_callbacks cb;
	int p[2];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	f->cb = (struct tail_callbacks){.line = on_line, .event = on_event, .userdata = &f->g};
	if (pipe(f->p) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->p[0]);
	if (f->p[1] >= 0) {
		close(f->p[1]);
	}
	free(f);
	return 0;
}

static void close_writer(struct fixture *f)
{
	close(f->p[1]);
	f->p[1] = -1;
}

static void t_follow(void **state)
{
	struct fixture *f = *state;
	struct stream *st;

	assert_int_equal(stream_create(f->p[0], "-", 16, &f->cb, &st), 0);
	assert_int_equal(stream_poll(st, false, false), 0); /* nothing there: no blocking */
	put(f->p[1], "a\nbb\r\nccc");
	assert_int_equal(stream_poll(st, false, false), 6);
	assert_string_equal(f->g.text, "a|bb|");
	put(f->p[1], "c\n0123456789abcdefXYZ\nok\n"); /* 20 bytes over the cap of 16 */
	assert_true(stream_poll(st, false, false) > 0);
	assert_string_equal(f->g.text, "a|bb|cccc|ok|");
	assert_int_equal(f->g.too_long, 1);
	put(f->p[1], "tail");
	close_writer(f);
	(void)stream_poll(st, false, false);
	assert_true(stream_done(st));
	assert_int_equal(stream_wait_fd(st), -1);
	assert_string_equal(f->g.text, "a|bb|cccc|ok|"); /* follow mode: no newline, no line */
	assert_int_equal(stream_error(st), 0);
	assert_int_equal(stream_offset(st), f->g.bytes);
	stream_destroy(st);
}

static void t_once(void **state)
{
	struct fixture *f = *state;
	struct stream *st;

	assert_int_equal(stream_create(f->p[0], "-", 0, &f->cb, &st), 0);
	put(f->p[1], "x\ny\r\nlast\r");
	close_writer(f);
	while (stream_poll(st, true, true) > 0) {
	}
	assert_true(stream_done(st));
	assert_string_equal(f->g.text, "x|y|last|");
	assert_int_equal(f->g.bytes, 10);
	stream_destroy(st);
	stream_destroy(NULL);
}

static void t_read_error(void **state)
{
	struct fixture *f = *state;
	struct stream *st;

	/* the write end: EBADF */
	assert_int_equal(stream_create(f->p[1], "-", 0, &f->cb, &st), 0);
	(void)stream_poll(st, true, true);
	assert_true(stream_done(st));
	assert_int_equal(stream_error(st), EBADF);
	stream_destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(t_follow, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(t_read_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
