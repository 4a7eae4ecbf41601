/*
 * formatcheck.h - table checks shared by the log-format compiler tests
 * (test_format_nginx.c, test_format_apache.c): which fields a format
 * captures in group order, config-file quoting giving the same pattern as
 * the bare body, and error messages with their columns.  Each takes the
 * compiler (format_nginx_compile, format_apache_compile) and a table.
 */
#ifndef TESTS_FORMATCHECK_H
#define TESTS_FORMATCHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/logformat.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct formatcheck_groups {
	const char *format;
	const char *groups; /* "field,field,..." */
};

struct formatcheck_error {
	const char *format;
	const char *needle; /* in the message */
	size_t column;
};

/* "field,field,..." for the capture groups of f, in group order. */
static inline void formatcheck_groups_string(const struct logformat *f, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned g = 1; g <= f->ngroups; g++) {
		int r = snprintf(buf + o, size - o, "%s%s", g > 1 ? "," : "",
		                 logformat_field_name((enum logformat_field)f->group_field[g]));
		assert_true(r > 0 && (size_t)r < size - o);
		o += (size_t)r;
	}
}

/* Every row compiles and captures its fields. */
static inline void formatcheck_groups(int (*compile)(const char *, struct logformat *,
                                                     struct logparse_error *),
                                      const struct formatcheck_groups *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct logformat *f = malloc(sizeof(*f));
		struct logparse_error err;
		char buf[512];
		assert_non_null(f);
		if (compile(rows[i].format, f, &err) != 0) {
			print_error("\"%s\": %s\n", rows[i].format, err.message);
			fail();
		}
		formatcheck_groups_string(f, buf, sizeof(buf));
		if (strcmp(buf, rows[i].groups) != 0) {
			print_error("\"%s\": groups %s, want %s\n", rows[i].format, buf,
			            rows[i].groups);
			fail();
		}
		free(f);
	}
}

/* Every pasted spelling compiles to the pattern of body. */
static inline void formatcheck_quoting(int (*compile)(const char *, struct logformat *,
                                                      struct logparse_error *),
                                       const char *body, const char *const *pasted, size_t n)
{
	struct logformat *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(compile(body, a, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		struct logparse_error err;
		if (compile(pasted[i], b, &err) != 0) {
			print_error("pasted %zu: %s\n", i, err.message);
			fail();
		}
		if (strcmp(a->pattern, b->pattern) != 0) {
			print_error("pasted %zu:\n%s\n%s\n", i, a->pattern, b->pattern);
			fail();
		}
	}
	free(a);
	free(b);
}

/* Every row fails with -EINVAL, its needle in the message, at its column. */
static inline void formatcheck_errors(int (*compile)(const char *, struct logformat *,
                                                     struct logparse_error *),
                                      const struct formatcheck_error *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct logformat *f = malloc(sizeof(*f));
		struct logparse_error err = {{0}, 0};
		assert_non_null(f);
		int r = compile(rows[i].format, f, &err);
		if (r != -EINVAL || strstr(err.message, rows[i].needle) == NULL ||
		    err.column != rows[i].column) {
			print_error("\"%s\": rc %d \"%s\" column %zu\n", rows[i].format, r,
			            err.message, err.column);
			fail();
		}
		free(f);
	}
}

#endif
