/*
 * test_parsefail.c - the sampled parse-failure ring and its board.
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

#include "exporter/parsefail.h"
#include "exporter/strbuf.h"
#include "parsers/logparse.h"

static struct log_parser *combined(void)
{
	struct log_parser *p = NULL;
	assert_int_equal(logparse_create(LOGPARSE_PRESET, "combined", &p, NULL), 0);
	return p;
}

/* The first PARSEFAIL_RING failures of a window are sampled, then none
 * until PARSEFAIL_BURST_MS later; the ring keeps the newest lines. */
static void t_window_and_ring(void **state)
{
	struct log_parser *p = combined();
	struct parsefail_ring *r = parsefail_ring_create("web", "combined");
	struct parsefail_sample s[PARSEFAIL_RING];
	char line[32];
	uint64_t next = 0;

	(void)state;
	assert_non_null(r);
	assert_false(parsefail_latest(r, &s[0]));
	for (int i = 0; i < PARSEFAIL_RING; i++) {
		int n = snprintf(line, sizeof(line), "bad %d", i);
		assert_true(1000 >= next);
		next = parsefail_sample(r, p, line, (size_t)n, 1000, 1.0);
	}
	assert_int_equal(next, 1000 + PARSEFAIL_BURST_MS);
	for (int i = PARSEFAIL_RING; i < 2 * PARSEFAIL_RING + 2; i++) {
		int n = snprintf(line, sizeof(line), "bad %d", i);
		(void)parsefail_sample(r, p, line, (size_t)n, next, 2.0);
	}
	assert_int_equal(parsefail_copy(r, s), PARSEFAIL_RING);
	/* oldest first: the last five of twelve */
	for (int i = 0; i < PARSEFAIL_RING; i++) {
		char want[32];
		int n = snprintf(want, sizeof(want), "bad %d", i + PARSEFAIL_RING + 2);
		assert_int_equal(s[i].kept, (size_t)n);
		assert_memory_equal(s[i].line, want, (size_t)n);
		/* "bad N": %h and %l matched, the blank before %u is missing */
		assert_int_equal(s[i].diag.column, (size_t)n + 1);
		assert_non_null(strstr(s[i].diag.message, "' ' before %u"));
	}
	assert_true(parsefail_latest(r, &s[0]));
	assert_memory_equal(s[0].line, "bad 11", 6);
	parsefail_ring_destroy(r);
	logparse_destroy(p);
}

/* Lines are cut to PARSEFAIL_LINE_MAX; the page escapes what is not
 * printable ASCII and says how long the line was. */
static void t_cut_and_escape(void **state)
{
	struct log_parser *p = combined();
	struct parsefail_ring *r = parsefail_ring_create("web", "combined");
	size_t len = 3 * PARSEFAIL_LINE_MAX;
	char *line = malloc(len);
	struct parsefail_sample s;
	struct strbuf b;

	(void)state;
	assert_non_null(line);
	memset(line, 'x', len);
	line[0] = '\x1b';
	line[1] = '\\';
	(void)parsefail_sample(r, p, line, len, 0, 0.0);
	assert_true(parsefail_latest(r, &s));
	assert_int_equal(s.kept, PARSEFAIL_LINE_MAX);
	assert_int_equal(s.line_len, len);
	parsefail_set_totals(r, 10, 1);
	strbuf_init(&b, 1 << 20);
	assert_int_equal(parsefail_ring_render(r, &b), 0);
	assert_non_null(strstr(b.data, "source web (format combined): 10 lines, 1 parse errors\n"));
	assert_non_null(strstr(b.data, "    line: \\x1b\\x5cxxx"));
	assert_non_null(strstr(b.data, " ... (1536 bytes in all)\n"));
	assert_null(strchr(b.data, '\x1b'));
	strbuf_finish(&b);
	free(line);
	parsefail_ring_destroy(r);
	logparse_destroy(p);
}

/* A board lists attached rings; a destroyed ring leaves it. */
static void t_board(void **state)
{
	struct parsefail_board *bd = parsefail_board_create();
	struct parsefail_ring *a = parsefail_ring_create("a", "common");
	struct parsefail_ring *b = parsefail_ring_create("b", "json");
	struct strbuf out;

	(void)state;
	assert_int_equal(parsefail_attach(bd, a), 0);
	assert_int_equal(parsefail_attach(bd, a), 0); /* again: no-op */
	assert_int_equal(parsefail_attach(bd, b), 0);
	strbuf_init(&out, 1 << 20);
	assert_int_equal(parsefail_board_render(bd, &out), 0);
	assert_non_null(strstr(out.data, "source a (format common): 0 lines, 0 parse errors\n"
	                                 "  no failing line sampled\n"));
	assert_non_null(strstr(out.data, "source b (format json)"));
	parsefail_ring_destroy(a);
	strbuf_reset(&out);
	assert_int_equal(parsefail_board_render(bd, &out), 0);
	assert_null(strstr(out.data, "source a "));
	assert_non_null(strstr(out.data, "source b "));
	strbuf_finish(&out);
	parsefail_board_destroy(bd);
	parsefail_ring_destroy(b); /* after its board: still fine */
	parsefail_ring_destroy(NULL);
	parsefail_board_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_window_and_ring),
	    cmocka_unit_test(t_cut_and_escape),
	    cmocka_unit_test(t_board),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
