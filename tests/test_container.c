/*
 * test_container.c - container log unwrapping: CRI lines and P/F pieces,
 * Docker json-file lines with escapes (quotes, unicode, surrogate pairs)
 * and 16 KiB pieces, stream filters, interleaved stdout/stderr pieces,
 * the line cap over reassembled lines (reported once, rest skipped), bad
 * wrappers, auto detection per file, and the tap between a reader and its
 * callbacks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/input/container.h"

#define MAX_IN 8

#define L CONTAINER_LINE
#define P CONTAINER_PENDING
#define X CONTAINER_FILTERED
#define INV CONTAINER_INVALID
#define BIG CONTAINER_TOO_LONG

struct step {
	const char *in;
	enum container_result want;
	const char *out; /* for CONTAINER_LINE */
};

struct unwrap_case {
	const char *name;
	enum config_container format;
	unsigned streams;
	size_t cap;
	struct step steps[MAX_IN];
};

#define CRI(s, tag, text) "2026-12-03T10:00:00.123456789Z " s " " tag " " text
#define ALL (CONFIG_STREAM_STDOUT | CONFIG_STREAM_STDERR)

static const struct unwrap_case cases[] = {
    {"cri full line",
     CONFIG_CONTAINER_CRI,
     0,
     0,
     {{CRI("stdout", "F", "GET / 200"), L, "GET / 200"}}},
    {"cri crio zone",
     CONFIG_CONTAINER_CRI,
     0,
     0,
     {{"2026-12-03T10:00:00.5+01:00 stdout F x", L, "x"}}},
    {"cri empty line",
     CONFIG_CONTAINER_CRI,
     0,
     0,
     {{"2026-12-03T10:00:00Z stdout F", L, ""}, {CRI("stdout", "F", ""), L, ""}}},
    {"cri pieces",
     CONFIG_CONTAINER_CRI,
     0,
     0,
     {{CRI("stdout", "P", "GET /lo"), P, NULL},
      {CRI("stdout", "P", "ng/pa"), P, NULL},
      {CRI("stdout", "F", "th 200"), L, "GET /long/path 200"},
      {CRI("stdout", "F", "next"), L, "next"}}},
    {"cri extra tags",
     CONFIG_CONTAINER_CRI,
     0,
     0,
     {{CRI("stdout", "P:x", "a"), P, NULL}, {CRI("stdout", "F:x", "b"), L, "ab"}}},
    {"cri crlf content",
     CONFIG_CONTAINER_CRI,
     0,
     0,
     {{CRI("stdout", "P", "a"), P, NULL}, {CRI("stdout", "F", "b\r"), L, "ab"}}},
    {"cri stderr filtered",
     CONFIG_CONTAINER_CRI,
     0,
     0,
     {{CRI("stderr", "F", "warn"), X, NULL},
      {CRI("stderr", "P", "half"), X, NULL},
      {CRI("stdout", "F", "ok"), L, "ok"}}},
    {"cri stderr only",
     CONFIG_CONTAINER_CRI,
     CONFIG_STREAM_STDERR,
     0,
     {{CRI("stdout", "F", "ok"), X, NULL}, {CRI("stderr", "F", "err"), L, "err"}}},
    {"cri interleaved streams",
     CONFIG_CONTAINER_CRI,
     ALL,
     0,
     {{CRI("stdout", "P", "out1-"), P, NULL},
      {CRI("stderr", "P", "err1-"), P, NULL},
      {CRI("stdout", "F", "out2"), L, "out1-out2"},
      {CRI("stderr", "F", "err2"), L, "err1-err2"}}},
    {"cri bad wrappers",
     CONFIG_CONTAINER_CRI,
     0,
     0,
     {{"plain nginx line", INV, NULL},
      {"2026-12-03T10:00:00Z stdin F x", INV, NULL},
      {"2026-12-03T10:00:00Z stdout X x", INV, NULL},
      {"2026-12-03T10:00:00Z stdout FF x", INV, NULL},
      {"2026-12-03 10:00:00Z stdout F x", INV, NULL},
      {"2026-12-03T10:00:00Z stdout", INV, NULL},
      {"", INV, NULL},
      {CRI("stdout", "F", "fine"), L, "fine"}}},
    {"cri cap whole line",
     CONFIG_CONTAINER_CRI,
     0,
     4,
     {{CRI("stdout", "F", "12345"), BIG, NULL}, {CRI("stdout", "F", "1234"), L, "1234"}}},
    {"cri cap pieces",
     CONFIG_CONTAINER_CRI,
     0,
     4,
     {{CRI("stdout", "P", "123"), P, NULL},
      {CRI("stdout", "P", "45"), P, NULL}, /* 5 bytes may still be "1234\r" */
      {CRI("stdout", "P", "67"), BIG, NULL},
      {CRI("stdout", "F", "89"), P, NULL},
      {CRI("stdout", "P", "ab"), P, NULL},
      {CRI("stdout", "F", "cd"), L, "abcd"}}},
    {"cri cap counts crlf",
     CONFIG_CONTAINER_CRI,
     0,
     4,
     {{CRI("stdout", "P", "12"), P, NULL}, {CRI("stdout", "F", "34\r"), L, "1234"}}},
    {"docker line",
     CONFIG_CONTAINER_DOCKER,
     0,
     0,
     {{"{\"log\":\"GET / 200\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-03T10:00:00Z\"}", L,
       "GET / 200"}}},
    {"docker escapes",
     CONFIG_CONTAINER_DOCKER,
     0,
     0,
     {{"{\"log\":\"a \\\"q\\\" \\\\ \\/ \\t\\u003c\\u00e9\\u20ac\\ud83d\\ude00\\n\","
       "\"stream\":\"stdout\"}",
       L, "a \"q\" \\ / \t<\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
      {"{\"log\":\"lone \\ud800 x\\n\",\"stream\":\"stdout\"}", L, "lone \xef\xbf\xbd x"},
      {"{\"log\":\"ends in backslash n: \\\\n\",\"stream\":\"stdout\"}", P, NULL},
      {"{\"log\":\" rest\\r\\n\",\"stream\":\"stdout\"}", L, "ends in backslash n: \\n rest"}}},
    {"docker key order and attrs",
     CONFIG_CONTAINER_DOCKER,
     0,
     0,
     {{" { \"time\" : \"t\", \"attrs\":{\"tag\":\"a}b\",\"n\":[1,2]}, \"stream\":\"stdout\", "
       "\"log\":\"x\\n\" } ",
       L, "x"},
      {"{\"log\":\"no stream\\n\"}", L, "no stream"},
      {"{\"log\":\"n\\n\",\"stream\":\"stdout\",\"x\":true,\"y\":null,\"z\":-1.5e3}", L, "n"}}},
    {"docker pieces",
     CONFIG_CONTAINER_DOCKER,
     0,
     0,
     {{"{\"log\":\"GET /lo\",\"stream\":\"stdout\"}", P, NULL},
      {"{\"log\":\"ng \\\"x\\\"\",\"stream\":\"stdout\"}", P, NULL},
      {"{\"log\":\" 200\\n\",\"stream\":\"stdout\"}", L, "GET /long \"x\" 200"}}},
    {"docker streams",
     CONFIG_CONTAINER_DOCKER,
     0,
     0,
     {{"{\"log\":\"e\\n\",\"stream\":\"stderr\"}", X, NULL},
      {"{\"log\":\"o\\n\",\"stream\":\"stdout\"}", L, "o"}}},
    {"docker bad",
     CONFIG_CONTAINER_DOCKER,
     0,
     0,
     {{"{\"log\":\"x\\n\",\"stream\":\"stdin\"}", INV, NULL},
      {"{\"log\":1,\"stream\":\"stdout\"}", INV, NULL},
      {"{\"stream\":\"stdout\"}", INV, NULL},
      {"{\"log\":\"x\\n\"", INV, NULL},
      {"{\"log\":\"x\\n\"} trailing", INV, NULL},
      {"{\"log\":\"bad \\x escape\\n\"}", INV, NULL},
      {"{\"log\":\"bad \\u12 escape\\n\"}", INV, NULL},
      {"{\"log\":\"ok\\n\"}", L, "ok"}}},
    {"docker cap",
     CONFIG_CONTAINER_DOCKER,
     0,
     4,
     {{"{\"log\":\"\\\"234\\\"\\n\"}", BIG, NULL},
      {"{\"log\":\"\\\"23\\\"\\n\"}", L, "\"23\""},
      {"{\"log\":\"12\"}", P, NULL},
      {"{\"log\":\"\\u00e9\\u00e9\\n\"}", BIG, NULL},
      {"{\"log\":\"\\u00e9\\u00e9\\n\"}", L, "\xc3\xa9\xc3\xa9"}}},
    {"auto cri",
     CONFIG_CONTAINER_AUTO,
     0,
     0,
     {{"", INV, NULL}, {CRI("stdout", "F", "a"), L, "a"}, {"{\"log\":\"b\\n\"}", INV, NULL}}},
    {"auto docker",
     CONFIG_CONTAINER_AUTO,
     0,
     0,
     {{"{\"log\":\"b\\n\"}", L, "b"}, {CRI("stdout", "F", "a"), INV, NULL}}},
    {"auto plain",
     CONFIG_CONTAINER_AUTO,
     0,
     0,
     {{"127.0.0.1 - - plain", L, "127.0.0.1 - - plain"},
      {CRI("stdout", "F", "a"), L, CRI("stdout", "F", "a")}}},
    {"auto json access log",
     CONFIG_CONTAINER_AUTO,
     0,
     0,
     {{"{\"status\":200}", L, "{\"status\":200}"}}},
};

static void t_cases(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct unwrap_case *uc = &cases[c];
		struct container_unwrap *u =
		    container_unwrap_create(uc->format, uc->streams, uc->cap);
		assert_non_null(u);
		for (size_t i = 0; i < MAX_IN && uc->steps[i].in; i++) {
			const struct step *st = &uc->steps[i];
			const char *out = NULL;
			size_t n = 0;
			enum container_result r =
			    container_unwrap_line(u, st->in, strlen(st->in), &out, &n);
			if (r != st->want) {
				fail_msg("%s, step %zu: result %d, want %d", uc->name, i, (int)r,
				         (int)st->want);
			}
			if (r == CONTAINER_LINE &&
			    (n != strlen(st->out) || memcmp(out, st->out, n) != 0)) {
				fail_msg("%s, step %zu: line '%.*s', want '%s'", uc->name, i,
				         (int)n, out, st->out);
			}
		}
		container_unwrap_destroy(u);
	}
}

static void t_formats(void **state)
{
	struct container_unwrap *u = container_unwrap_create(CONFIG_CONTAINER_AUTO, 0, 0);
	const char *out;
	size_t n;

	(void)state;
	assert_null(container_unwrap_create(CONFIG_CONTAINER_NONE, 0, 0));
	assert_int_equal(container_unwrap_format(u), CONFIG_CONTAINER_AUTO);
	assert_int_equal(container_unwrap_line(u, "{\"log\":\"x\\n\"}", 13, &out, &n),
	                 CONTAINER_LINE);
	assert_int_equal(container_unwrap_format(u), CONFIG_CONTAINER_DOCKER);
	container_unwrap_destroy(u);
	container_unwrap_destroy(NULL);
	assert_int_equal(container_wrapped_cap(0), 2 * TAIL_DEFAULT_LINE_CAP + 1024);
	assert_int_equal(container_wrapped_cap(TAIL_MAX_LINE_CAP), TAIL_MAX_LINE_CAP);
}

/* A line of exactly the cap, in many pieces: delivered; one more byte: not. */
static void t_cap_exact(void **state)
{
	enum { CAP = 1000 };
	struct container_unwrap *u = container_unwrap_create(CONFIG_CONTAINER_CRI, 0, CAP);
	char line[256];
	const char *out;
	size_t n = 0;

	(void)state;
	for (int extra = 0; extra < 2; extra++) {
		enum container_result r = CONTAINER_PENDING;
		for (int i = 0; i < CAP / 100; i++) {
			int k = snprintf(line, sizeof(line), CRI("stdout", "P", "%0100d"), i);
			assert_int_equal(container_unwrap_line(u, line, (size_t)k, &out, &n),
			                 CONTAINER_PENDING);
		}
		int k = snprintf(line, sizeof(line), CRI("stdout", "F", "%s"), extra ? "z" : "");
		r = container_unwrap_line(u, line, (size_t)k, &out, &n);
		assert_int_equal(r, extra ? CONTAINER_TOO_LONG : CONTAINER_LINE);
		if (!extra) {
			assert_int_equal(n, CAP);
			assert_memory_equal(out, "0000", 4);
		}
	}
	container_unwrap_destroy(u);
}

struct seen {
	char line[64];
	size_t lines;
	uint64_t events[TAIL_EV_INVALID + 1];
	size_t files;
	char from[32];
};

static void on_line(void *ud, const char *line, size_t len)
{
	struct seen *s = ud;

	(void)snprintf(s->line, sizeof(s->line), "%.*s", (int)len, line);
	s->lines++;
}

static void on_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct seen *s = ud;

	s->events[ev] += n;
}

static void on_file(void *ud, const char *path, bool open)
{
	struct seen *s = ud;

	(void)path;
	(void)open;
	s->files++;
}

static void on_from(void *ud, const char *path)
{
	struct seen *s = ud;

	(void)snprintf(s->from, sizeof(s->from), "%s", path);
}

static void t_tap(void **state)
{
	struct seen s = {0};
	struct tail_callbacks down = {
	    .line = on_line, .event = on_event, .file = on_file, .userdata = &s, .from = on_from};
	struct container_tap *tap = NULL;
	const struct tail_callbacks *cb;

	(void)state;
	assert_int_equal(container_tap_create(CONFIG_CONTAINER_NONE, 0, 0, &down, &tap), -EINVAL);
	assert_int_equal(container_tap_create(CONFIG_CONTAINER_CRI, 0, 4, &down, &tap), 0);
	cb = container_tap_callbacks(tap);
	cb->line(cb->userdata, CRI("stdout", "F", "ok"), strlen(CRI("stdout", "F", "ok")));
	assert_string_equal(s.line, "ok");
	cb->line(cb->userdata, "junk", 4);
	cb->line(cb->userdata, CRI("stdout", "F", "toolong"),
	         strlen(CRI("stdout", "F", "toolong")));
	cb->line(cb->userdata, CRI("stderr", "F", "e"), strlen(CRI("stderr", "F", "e")));
	cb->event(cb->userdata, TAIL_EV_BYTES, 7);
	cb->file(cb->userdata, "x", true);
	cb->from(cb->userdata, "/var/log/containers/a.log");
	assert_string_equal(s.from, "/var/log/containers/a.log");
	assert_null(cb->block);
	assert_int_equal(s.lines, 1);
	assert_int_equal(s.events[TAIL_EV_INVALID], 1);
	assert_int_equal(s.events[TAIL_EV_TOO_LONG], 1);
	assert_int_equal(s.events[TAIL_EV_BYTES], 7);
	assert_int_equal(s.files, 1);
	container_tap_destroy(tap);
	container_tap_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_cases),
	    cmocka_unit_test(t_formats),
	    cmocka_unit_test(t_cap_exact),
	    cmocka_unit_test(t_tap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
