/*
 * test_suggest.c - nearest-name suggestions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/suggest.h"

static void t_distance(void **state)
{
	(void)state;
	assert_int_equal(suggest_distance("", ""), 0);
	assert_int_equal(suggest_distance("abc", ""), 3);
	assert_int_equal(suggest_distance("combind", "combined"), 1);
	assert_int_equal(suggest_distance("jsno", "json"), 2);
	assert_int_equal(suggest_distance("kitten", "sitting"), 3);
}

static void t_nearest(void **state)
{
	static const char *const formats[] = {"combined", "common",  "vhost_combined",
	                                      "main",     "ingress", "nginx",
	                                      "apache",   "json",    "regex"};
	static const struct {
		const char *word, *want;
	} rows[] = {
	    {"combind", "combined"}, {"comon", "common"},  {"jsno", "json"},
	    {"ngnix", "nginx"},      {"Apache", "apache"}, {"vhost-combined", "vhost_combined"},
	    {"xyzzy", NULL},         {"", NULL},           {"csv", NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = suggest_nearest(rows[i].word, formats, 9);
		if ((got == NULL) != (rows[i].want == NULL) ||
		    (got && strcmp(got, rows[i].want) != 0)) {
			fail_msg("%s: got %s, want %s", rows[i].word, got ? got : "NULL",
			         rows[i].want ? rows[i].want : "NULL");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_distance),
	    cmocka_unit_test(t_nearest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
