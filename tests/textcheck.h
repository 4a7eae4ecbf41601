/*
 * textcheck.h - checks on rendered text shared by the tests that render a
 * page or an exposition (test_landing.c, test_metrics.c): how often a
 * string occurs, and tables of strings that must all occur or must all be
 * absent (the first that fails is named).  Include after <cmocka.h>.
 */
#ifndef TESTS_TEXTCHECK_H
#define TESTS_TEXTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Occurrences of needle in hay, overlapping ones included. */
static inline size_t textcheck_count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
		n++;
	}
	return n;
}

/* Each of the n strings in want occurs in text (present) or does not. */
static inline void textcheck_each(const char *text, const char *const *want, size_t n, bool present)
{
	for (size_t i = 0; i < n; i++) {
		if ((strstr(text, want[i]) != NULL) != present) {
			print_error("%s: \"%s\"\n", present ? "missing" : "unexpected", want[i]);
			fail();
		}
	}
}

#endif
