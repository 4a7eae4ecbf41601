/*
 * test_inputspec.c - inputs classified from their text, and the checks
 * over a whole configuration.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "config/inputspec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void t_parse(void **state)
{
	static const struct {
		const char *text;
		int rc;
		enum inputspec_kind kind;
		unsigned port;
		const char *err; /* part of the message */
	} rows[] = {
	    {"/var/log/nginx/access.log", 0, INPUTSPEC_FILE, 0, NULL},
	    {"logs/*.log", 0, INPUTSPEC_FILE, 0, NULL},
	    {"weird:name", 0, INPUTSPEC_FILE, 0, NULL},
	    {"-", 0, INPUTSPEC_STDIN, 0, NULL},
	    {"udp://127.0.0.1:5514", 0, INPUTSPEC_UDP, 5514, NULL},
	    {"udp://:514", 0, INPUTSPEC_UDP, 514, NULL},
	    {"tcp://[::1]:601", 0, INPUTSPEC_TCP, 601, NULL},
	    {"tcp://localhost:0", 0, INPUTSPEC_TCP, 0, NULL},
	    {"unixgram:///run/nginx-log.sock", 0, INPUTSPEC_UNIXGRAM, 0, NULL},
	    {"", -EINVAL, 0, 0, "empty"},
	    {"upd://127.0.0.1:5514", -EINVAL, 0, 0, "unknown input scheme"},
	    {"udp://127.0.0.1", -EINVAL, 0, 0, "udp://127.0.0.1"},
	    {"udp://example.com:514", -EINVAL, 0, 0, "example.com"},
	    {"tcp://127.0.0.1:70000", -EINVAL, 0, 0, "tcp://"},
	    {"unixgram://run/x.sock", -EINVAL, 0, 0, "absolute"},
	    {"unixgram:///"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     -EINVAL, 0, 0, "at most 107"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct inputspec s = {.kind = INPUTSPEC_TCP};
		char err[512] = "";
		int rc = inputspec_parse(rows[i].text, &s, err, sizeof(err));
		if (rc != rows[i].rc) {
			fail_msg("%s: rc %d (%s)", rows[i].text, rc, err);
		}
		if (rc == 0) {
			assert_int_equal(s.kind, rows[i].kind);
			assert_int_equal(s.addr.port, rows[i].port);
		} else {
			assert_non_null(strstr(err, rows[i].err));
		}
	}
}

static void t_check_config(void **state)
{
	static const struct {
		const char *a[3], *b[3];
		const char *tag_a;
		bool once;
		const char *err; /* NULL: accepted */
	} rows[] = {
	    {{"-", "/x.log"}, {"udp://127.0.0.1:1"}, NULL, false, NULL},
	    {{"udp://127.0.0.1:1"}, {"tcp://127.0.0.1:1"}, "nginx", false, NULL},
	    {{"udp://127.0.0.1:0"}, {"udp://127.0.0.1:0"}, NULL, false, NULL}, /* any free port */
	    {{"-"}, {"-"}, NULL, false, "also an input of source a"},
	    {{"udp://127.0.0.1:1"}, {"udp://127.0.0.1:1"}, NULL, false, "also an input"},
	    {{"unixgram:///s", "unixgram:///s"}, {"/x"}, NULL, false, "also an input of source a"},
	    {{"/x.log"}, {"/y"}, "nginx", false, "syslog_tag needs"},
	    {{"udp://127.0.0.1:1"}, {"/y"}, NULL, true, "--once"},
	    {{"-"}, {"/y"}, NULL, false, NULL},
	    {{"/x", "ftp://h/x"}, {"/y"}, NULL, false, "unknown input scheme"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct config *c = config_create();
		struct config_source *a, *b;
		char err[512] = "";
		assert_non_null(c);
		assert_int_equal(config_add_source(c, "a", LOGPARSE_PRESET, "combined", &a), 0);
		assert_int_equal(config_add_source(c, "b", LOGPARSE_PRESET, "combined", &b), 0);
		for (size_t k = 0; k < 3; k++) {
			if (rows[i].a[k]) {
				assert_int_equal(config_source_add_path(a, rows[i].a[k]), 0);
			}
			if (rows[i].b[k]) {
				assert_int_equal(config_source_add_path(b, rows[i].b[k]), 0);
			}
		}
		if (rows[i].tag_a) {
			assert_int_equal(config_set_string(&a->syslog_tag, rows[i].tag_a), 0);
		}
		c->once = rows[i].once;
		int rc = inputspec_check_config(c, err, sizeof(err));
		if (rows[i].err ? rc != -EINVAL || !strstr(err, rows[i].err) : rc != 0) {
			fail_msg("row %zu: rc %d, '%s'", i, rc, err);
		}
		config_destroy(c);
	}
	/* --backfill sorts files by time: standard input is not one */
	struct config *c = config_create();
	struct config_source *a;
	char err[512] = "";
	assert_int_equal(config_add_source(c, "a", LOGPARSE_PRESET, "combined", &a), 0);
	assert_int_equal(config_source_add_path(a, "-"), 0);
	c->backfill = true;
	assert_int_equal(inputspec_check_config(c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "standard input"));
	config_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_parse),
	    cmocka_unit_test(t_check_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
