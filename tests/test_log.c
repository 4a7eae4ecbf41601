/*
 * test_log.c - logfmt / JSON diagnostics: level filtering, quoting, and
 * that every JSON line is one valid flat object even for huge values,
 * control characters and bytes that are not UTF-8.  stderr is redirected
 * to a temporary file for the duration of each test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/log.h"

static int saved_fd = -1;
static FILE *capture;

static void capture_start(void)
{
	capture = tmpfile();
	assert_non_null(capture);
	fflush(stderr);
	saved_fd = dup(STDERR_FILENO);
	assert_true(saved_fd >= 0);
	assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
}

/* Stop capturing; returns the text (malloc'd). */
static char *capture_stop(void)
{
	long n;
	char *text;

	assert_true(dup2(saved_fd, STDERR_FILENO) >= 0);
	close(saved_fd);
	n = ftell(capture);
	assert_true(n >= 0);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	rewind(capture);
	assert_int_equal(fread(text, 1, (size_t)n, capture), (size_t)n);
	fclose(capture);
	return text;
}

/* ---- a strict checker for the flat JSON objects log.c writes ---------- */

static bool valid_utf8_char(const unsigned char **p)
{
	const unsigned char *s = *p;
	size_t n = s[0] < 0x80         ? 1
	           : (s[0] >> 5) == 6  ? 2
	           : (s[0] >> 4) == 14 ? 3
	           : (s[0] >> 3) == 30 ? 4
	                               : 0;

	if (n == 0 || (n == 2 && s[0] < 0xc2)) {
		return false;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return false;
		}
	}
	*p += n;
	return true;
}

static bool json_string(const unsigned char **p)
{
	const unsigned char *s = *p;

	if (*s++ != '"') {
		return false;
	}
	while (*s != '"') {
		if (*s < 0x20) {
			return false;
		}
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++) {
					if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i]) {
						return false;
					}
				}
				s += 5;
			} else if (*s && strchr("\"\\/bfnrt", *s)) {
				s++;
			} else {
				return false;
			}
		} else if (!valid_utf8_char(&s)) {
			return false;
		}
	}
	*p = s + 1;
	return true;
}

/* {"k":"v",...}\n with string values only. */
static bool json_line(const char *line)
{
	const unsigned char *p = (const unsigned char *)line;

	if (*p++ != '{') {
		return false;
	}
	for (;;) {
		if (!json_string(&p) || *p++ != ':' || !json_string(&p)) {
			return false;
		}
		if (*p == '}') {
			return p[1] == '\0';
		}
		if (*p++ != ',') {
			return false;
		}
	}
}

static void for_each_line(char *text, void (*fn)(const char *line, void *ud), void *ud)
{
	for (char *line = text, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		fn(line, ud);
	}
}

static void check_json(const char *line, void *ud)
{
	unsigned *n = ud;

	if (!json_line(line)) {
		fail_msg("not a JSON object: %s", line);
	}
	assert_non_null(strstr(line, "\"level\":"));
	(*n)++;
}

static void test_json_always_valid(void **state)
{
	char *big = malloc(10000), *text;
	unsigned n = 0;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 9999);
	big[9999] = '\0';
	big[2040] = '"'; /* an escape right at the cut */
	log_setup(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON);
	capture_start();
	log_info("plain", "k", "v");
	log_error("quotes \"and\" \\backslashes\\", "path", "/a \"b\"\n\tc");
	log_warn("invalid utf-8", "bytes",
	         "\xff\xfe ok \xc3\xa9 \xe2\x82 \xf0\x9f\x98\x80 \xed\xa0\x80");
	log_info("huge value", "error", big, "after", "x");
	log_info(big);
	log_info("huge key count", "a", big, "b", big, "c", big);
	log_debug("null value", "v", (const char *)NULL);
	text = capture_stop();
	for_each_line(text, check_json, &n);
	assert_int_equal(n, 7);
	free(text);
	free(big);
}

static void test_levels_and_logfmt(void **state)
{
	char *text;

	(void)state;
	log_setup(LOG_LEVEL_WARN, LOG_FORMAT_LOGFMT);
	capture_start();
	log_debug("hidden");
	log_info("hidden too");
	log_warn("shown", "path", "/var/log/a b.log", "n", "3", "empty", "");
	log_error("also shown");
	text = capture_stop();
	assert_null(strstr(text, "hidden"));
	assert_non_null(
	    strstr(text, " level=warn msg=shown path=\"/var/log/a b.log\" n=3 empty=\"\"\n"));
	assert_non_null(strstr(text, " level=error msg=\"also shown\"\n"));
	free(text);
	log_setup(LOG_LEVEL_INFO, LOG_FORMAT_LOGFMT);
}

static void test_names(void **state)
{
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	enum log_level l;
	enum log_format f;

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(log_level_from_name(levels[i], &l), 0);
		assert_int_equal(l, (enum log_level)i);
	}
	assert_int_equal(log_level_from_name("warning", &l), -EINVAL);
	assert_int_equal(log_format_from_name("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_from_name("logfmt", &f), 0);
	assert_int_equal(f, LOG_FORMAT_LOGFMT);
	assert_int_equal(log_format_from_name("text", &f), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_always_valid),
	    cmocka_unit_test(test_levels_and_logfmt),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
