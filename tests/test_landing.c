/*
 * test_landing.c - the landing page's HTML: everything from the
 * configuration or the file system escaped, relative links to the
 * configured telemetry path and the health endpoints, one row per file with
 * the source's cells spanning them, states, bytes behind, the cap note, and
 * a page before the first snapshot.  The page in a real browser is tested
 * by tests/integration/test_landing.py (headless Chromium).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/http/landing.h"
#include "tests/textcheck.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct landing_info info = {
    .version = "1.2.3", .revision = "abc<def>", .telemetry_path = "/x/metrics?"};

static char *render(const struct snapshot *snap)
{
	struct strbuf b;
	char *text;

	strbuf_init(&b, 1024 * 1024);
	assert_int_equal(landing_render(&info, snap, &b), 0);
	text = strbuf_steal(&b, NULL);
	strbuf_finish(&b);
	assert_non_null(text);
	return text;
}

static void t_escape(void **state)
{
	struct strbuf b;

	(void)state;
	strbuf_init(&b, 1024);
	landing_escape(&b, "<a href=\"x\">&'</a>");
	landing_escape(&b, NULL);
	assert_int_equal(b.len, strlen("&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"));
	assert_memory_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;", b.len);
	strbuf_finish(&b);
}

static void t_page(void **state)
{
	struct snapshot *s = snapshot_create(1764786600.0); /* 2025-12-03 18:30:00 UTC */
	struct snapshot_file open = {
	    .path = "/logs/<b>&x.log", .offset = 100, .size = 350, .last_data = 1764786590.0};
	struct snapshot_file gone = {
	    .path = "/logs/b.log", .state = SNAPSHOT_FILE_MISSING, .error = EACCES};
	struct snapshot_file glob = {.path = "/logs/*.log", .state = SNAPSHOT_FILE_NO_MATCH};
	/* Escaped everywhere, raw nowhere. */
	static const char *const absent[] = {"<script>", "<b>", "<script"};
	static const char *const present[] = {
	    "web&lt;script&gt;", "/logs/&lt;b&gt;&amp;x.log", "abc&lt;def&gt;",
	    /* Relative links (work under a proxy prefix). */
	    "href=\"x/metrics?\"", "href=\"-/healthy\"", "href=\"-/ready\"",
	    "href=\"debug/parse-errors\"",
	    /* The first source spans its two files. */
	    "<td rowspan=\"2\" class=\"source\">web&lt;script&gt;</td>",
	    "<td class=\"num behind\">250</td>", "<td class=\"num offset\">100</td>",
	    "2025-12-03 18:29:50 UTC (10 s ago)", "missing: Permission denied",
	    "<td class=\"state missing\">no match</td>",
	    "<td rowspan=\"1\" class=\"num lines\">0</td>"};
	char *html;

	(void)state;
	assert_int_equal(snapshot_add_source(s, "web<script>", "combined", 42, 3, 0), 0);
	assert_int_equal(snapshot_add_file(s, &open), 0);
	assert_int_equal(snapshot_add_file(s, &gone), 0);
	assert_int_equal(snapshot_add_source(s, "api", "nginx log_format", 0, 0, 0), 0);
	assert_int_equal(snapshot_add_file(s, &glob), 0);
	html = render(s);
	textcheck_each(html, absent, ARRAY_SIZE(absent), false);
	textcheck_each(html, present, ARRAY_SIZE(present), true);
	/* Rows: 2 + 1 files; the first source spans two. */
	assert_int_equal(textcheck_count(html, "<tr>"), 4); /* header + 3 */
	free(html);
	snapshot_destroy(s);
}

static void t_more_and_empty(void **state)
{
	struct snapshot *s = snapshot_create(1.0);
	struct snapshot_file f = {.path = "/l"};
	char *html;

	(void)state;
	assert_int_equal(snapshot_add_source(s, "many", "common", 0, 0, 0), 0);
	for (size_t i = 0; i < SNAPSHOT_MAX_FILES_PER_SOURCE + 3; i++) {
		assert_int_equal(snapshot_add_file(s, &f), 0);
	}
	html = render(s);
	assert_non_null(strstr(html, "and 3 more files"));
	assert_int_equal(textcheck_count(html, "<tr>"), SNAPSHOT_MAX_FILES_PER_SOURCE + 2);
	free(html);
	snapshot_destroy(s);
	html = render(NULL);
	assert_non_null(strstr(html, "no status yet"));
	assert_null(strstr(html, "<table"));
	free(html);
}

static void t_cap(void **state)
{
	struct snapshot *s = snapshot_create(1.0);
	struct strbuf b;

	(void)state;
	assert_int_equal(snapshot_add_source(s, "x", "common", 0, 0, 0), 0);
	strbuf_init(&b, 100);
	assert_true(landing_render(&info, s, &b) < 0);
	strbuf_finish(&b);
	snapshot_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_escape),
	    cmocka_unit_test(t_page),
	    cmocka_unit_test(t_more_and_empty),
	    cmocka_unit_test(t_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
