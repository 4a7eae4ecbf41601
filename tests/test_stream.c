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

static void t_follow(void **state)
{
	struct got g = {.len = 0};
	struct tail_callbacks cb = {.line = on_line, .event = on_event, .userdata = &g};
	struct stream *st;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(stream_create(p[0], "-", 16, &cb, &st), 0);
	assert_int_equal(stream_poll(st, false, false), 0); /* nothing there: no blocking */
	put(p[1], "a\nbb\r\nccc");
	assert_int_equal(stream_poll(st, false, false), 6);
	assert_string_equal(g.text, "a|bb|");
	put(p[1], "c\n0123456789abcdefXYZ\nok\n"); /* 20 bytes over the cap of 16 */
	assert_true(stream_poll(st, false, false) > 0);
	assert_string_equal(g.text, "a|bb|cccc|ok|");
	assert_int_equal(g.too_long, 1);
	put(p[1], "tail");
	close(p[1]);
	(void)stream_poll(st, false, false);
	assert_true(stream_done(st));
	assert_int_equal(stream_wait_fd(st), -1);
	assert_string_equal(g.text, "a|bb|cccc|ok|"); /* follow mode: no newline, no line */
	assert_int_equal(stream_error(st), 0);
	assert_int_equal(stream_offset(st), g.bytes);
	stream_destroy(st);
	close(p[0]);
}

static void t_once(void **state)
{
	struct got g = {.len = 0};
	struct tail_callbacks cb = {.line = on_line, .event = on_event, .userdata = &g};
	struct stream *st;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(stream_create(p[0], "-", 0, &cb, &st), 0);
	put(p[1], "x\ny\r\nlast\r");
	close(p[1]);
	while (stream_poll(st, true, true) > 0) {
	}
	assert_true(stream_done(st));
	assert_string_equal(g.text, "x|y|last|");
	assert_int_equal(g.bytes, 10);
	stream_destroy(st);
	close(p[0]);
	stream_destroy(NULL);
}

static void t_read_error(void **state)
{
	struct got g = {.len = 0};
	struct tail_callbacks cb = {.line = on_line, .event = on_event, .userdata = &g};
	struct stream *st;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(stream_create(p[1], "-", 0, &cb, &st), 0); /* write end: EBADF */
	(void)stream_poll(st, true, true);
	assert_true(stream_done(st));
	assert_int_equal(stream_error(st), EBADF);
	stream_destroy(st);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_follow),
	    cmocka_unit_test(t_once),
	    cmocka_unit_test(t_read_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
