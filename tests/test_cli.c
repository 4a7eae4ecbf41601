/*
 * test_cli.c - flag parsing and configuration assembly: every usage error
 * (with its message), the flag/file precedence rule, and --help covering
 * every long option.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/cli.h"

#define MAX_ARGS 24

/* 64 and 256 bytes, for the label value cap (CONFIG_LABEL_VALUE_MAX). */
#define V64 "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
#define V256 V64 V64 V64 V64

/* Split a space-separated command line (no quoting needed in the table). */
static int split(const char *line, char *buf, size_t size, char **argv)
{
	int argc = 0;

	(void)snprintf(buf, size, "accesslog_exporter %s", line);
	for (char *p = buf; *p && argc < MAX_ARGS - 1;) {
		argv[argc++] = p;
		p += strcspn(p, " ");
		if (*p) {
			*p++ = '\0';
		}
	}
	argv[argc] = NULL;
	return argc;
}

static void test_usage_errors(void **state)
{
	static const struct {
		const char *args;
		const char *want; /* substring of the error */
	} rows[] = {
	    {"", "no log file given"},
	    {"--bogus a.log", "unknown option '--bogus'; options: -h, --format, --log-format,"},
	    {"--formt combined a.log", "unknown option '--formt' (did you mean --format?)"},
	    {"--web.listen-adress :1 a.log",
	     "unknown option '--web.listen-adress' (did you mean --web.listen-address?)"},
	    {"--format", "--format needs a value (see --help)"},
	    {"--format common --format combined a.log",
	     "--format given twice ('common' and 'combined'): it may be given once"},
	    {"--source a --source=b a.log", "--source given twice ('a' and 'b')"},
	    {"--detect", "--detect needs log FILEs"},
	    {"--detect --format common a.log", "--detect takes only log FILEs"},
	    {"--web.listen-address localhost a.log", "is not host:port"},
	    {"--web.listen-address example.com:80 a.log",
	     "--web.listen-address: 'example.com:80' is not host:port, :port or [v6]:port with "
	     "host localhost or an IP address (host names other than localhost are not resolved)"},
	    {"--web.listen-address ::1:80 a.log", "(IPv6 addresses go in brackets: [v6]:port)"},
	    {"--web.listen-address [127.0.0.1]:80 a.log", "(not an IPv6 address in brackets)"},
	    {"--web.listen-address :99999 a.log", "(the port must be a number from 0 to 65535)"},
	    {"--web.telemetry-path metrics a.log", "must start with '/'"},
	    {"--state.catch-up-max-bytes lots a.log",
	     "--state.catch-up-max-bytes: 'lots' is not a size (e.g. 4GiB, 500MB, 0)"},
	    {"--web.telemetry-path / a.log", "must start with '/'"},
	    {"--web.telemetry-path /-/x a.log", "under '/-/'"},
	    {"--web.telemetry-path /m?x a.log",
	     "--web.telemetry-path: '/m?x' must not contain '?', '#' or spaces (a request could "
	     "never reach it)"},
	    {"--web.telemetry-path /metrics#x a.log", "'/metrics#x' must not contain '?', '#'"},
	    {"--web.telemetry-path /m\tx a.log",
	     "--web.telemetry-path: contains control character 0x09 at byte 2"},
	    {"--source we\nb a.log",
	     "--source: the name contains control character 0x0a at byte 2"},
	    {"--source web\x7f a.log",
	     "--source: the name contains control character 0x7f at byte 3"},
	    {"--source ab\xff a.log", "--source: the name is not valid UTF-8 (byte 2)"},
	    {"--source " V256 "s a.log", "--source: the name is 257 bytes long (at most 256)"},
	    {"--web.connection-timeout 0 a.log", "--web.connection-timeout: '0' is not 1-3600"},
	    {"--web.connection-timeout 2s a.log", "is not 1-3600 seconds"},
	    {"--web.connection-timeout 3601 a.log", "is not 1-3600 seconds"},
	    {"--log.level verbose a.log", "--log.level: unknown level 'verbose'"},
	    {"--log.format text a.log", "--log.format: unknown format 'text'"},
	    {"--config.file c.yml a.log", "log FILEs cannot be given too"},
	    {"--config.file c.yml --format common", "--format/--log-format/--source/--label"},
	    {"--config.file c.yml --label a=b", "--format/--log-format/--source/--label"},
	    {"--series.idle-timeout 30m a.log", "--series.idle-timeout needs --config.file"},
	    {"--config.file c.yml --series.idle-timeout soon",
	     "--series.idle-timeout: 'soon' is not a duration of 1s or more"},
	    {"--config.file c.yml --series.idle-timeout 10ms", "of 1s or more"},
	    {"--config.file c.yml --series.idle-timeout 400d", "is longer than 365d"},
	};
	char buf[512], err[512], *argv[MAX_ARGS];
	struct cli_options o;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int argc = split(rows[i].args, buf, sizeof(buf), argv);
		err[0] = '\0';
		int r = cli_parse(argc, argv, &o, err, sizeof(err));
		if (r != -EINVAL || !strstr(err, rows[i].want)) {
			fail_msg("'%s': got %d '%s', want '%s'", rows[i].args, r, err,
			         rows[i].want);
		}
	}
}

static void test_build_errors(void **state)
{
	static const struct {
		const char *args;
		const char *want;
	} rows[] = {
	    {"--format combind a.log",
	     "--format: unknown format 'combind' (did you mean --format combined?) (formats: "
	     "combined, common, vhost_combined, main, ingress, nginx, apache, json, regex)"},
	    {"--format xyzzy a.log", "--format: unknown format 'xyzzy' (formats: combined,"},
	    {"--format jsno a.log", "(did you mean --format json?)"},
	    {"--format nginx a.log", "--format nginx needs --log-format"},
	    {"--log-format $x a.log", "--log-format needs --format nginx|apache|json|regex"},
	    {"--format nginx --log-format $nosuch a.log",
	     "--log-format: nginx log format has no $status"},
	    {"--format nginx --log-format $status$ a.log", "--log-format: bad variable reference"},
	    {"--label code=1 a.log", "--label code=1: 'code' is not a usable label name"},
	    {"--label metric=x a.log",
	     "--label metric=x: 'metric' is not a usable label name: the exporter sets it itself "
	     "(static labels may not be source, code, class, reason, method, origin, le, metric, "
	     "path, instance, job)"},
	    {"--label instance=web1 a.log",
	     "--label instance=web1: 'instance' is not a usable label name: Prometheus sets it"},
	    {"--label job=x a.log", "--label job=x: 'job' is not a usable label name"},
	    {"--label origin=x a.log", "--label origin=x: 'origin' is not a usable label name"},
	    {"--label path=x a.log", "--label path=x: 'path' is not a usable label name"},
	    {"--label 1x=y a.log", "--label 1x=y: '1x' is not a usable label name (must match"},
	    {"--label novalue a.log", "--label: 'novalue' is not NAME=VALUE"},
	    {"--label env=" V256 "v a.log",
	     "--label env: label value is 257 bytes long (at most 256)"},
	    {"--label env=ab\xff a.log", "--label env: label value is not valid UTF-8 (byte 2)"},
	    {"--label env=\xed\xa0\x80 a.log",
	     "--label env: label value is not valid UTF-8 (byte 0)"},
	    {"--label env=prod\n a.log",
	     "--label env: label value contains control character 0x0a at byte 4"},
	    {"--config.file data/config/bad/unknown_format.yml",
	     "data/config/bad/unknown_format.yml:4:13: key 'sources[0].format'"},
	    {"--config.file data/config/nonexistent.yml",
	     "data/config/nonexistent.yml: cannot open"},
	};
	char buf[512], err[512], *argv[MAX_ARGS];
	struct cli_options o;
	struct config *c = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int argc = split(rows[i].args, buf, sizeof(buf), argv);
		assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
		err[0] = '\0';
		int r = cli_build_config(&o, &c, err, sizeof(err));
		if (r != -EINVAL || !strstr(err, rows[i].want)) {
			fail_msg("'%s': got %d '%s', want '%s'", rows[i].args, r, err,
			         rows[i].want);
		}
	}
}

/* Listen addresses the one parser accepts get through to the config as written. */
static void test_listen_accepted(void **state)
{
	static const char *const addrs[] = {":0",        "127.0.0.1:9714", "localhost:1",
	                                    "[::1]:0",   "[::]:9714",      "[::ffff:127.0.0.1]:0",
	                                    "0.0.0.0:80"};
	char line[128], buf[512], err[512], *argv[MAX_ARGS];
	struct cli_options o;
	struct config *c = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		(void)snprintf(line, sizeof(line), "--web.listen-address %s a.log", addrs[i]);
		int argc = split(line, buf, sizeof(buf), argv);
		if (cli_parse(argc, argv, &o, err, sizeof(err)) != 0) {
			fail_msg("'%s': %s", addrs[i], err);
		}
		assert_int_equal(cli_build_config(&o, &c, err, sizeof(err)), 0);
		assert_string_equal(c->listen_address, addrs[i]);
		config_destroy(c);
	}
}

static void test_flags_only(void **state)
{
	char buf[512], err[512], *argv[MAX_ARGS];
	struct cli_options o;
	struct config *c = NULL;
	int argc = split("--format nginx --log-format $status --source api --label env=prod "
	                 "--web.connection-timeout 2 --web.enable-lifecycle "
	                 "--state.catch-up-max-bytes 0 a.log b.log",
	                 buf, sizeof(buf), argv);

	(void)state;
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.action, CLI_RUN);
	assert_int_equal(cli_build_config(&o, &c, err, sizeof(err)), 0);
	assert_int_equal(c->n_sources, 1);
	assert_string_equal(c->sources[0].name, "api");
	assert_int_equal(c->sources[0].kind, LOGPARSE_NGINX);
	assert_string_equal(c->sources[0].format, "$status");
	assert_int_equal(c->sources[0].n_paths, 2);
	assert_string_equal(c->sources[0].labels[0].value, "prod");
	assert_int_equal(c->connection_timeout, 2);
	assert_true(c->enable_lifecycle);
	assert_int_equal(c->catchup_max_bytes, 0);
	assert_null(c->config_file);
	config_destroy(c);

	/* values exactly at the cap, UTF-8 and a reachable path with '%' are kept */
	argc = split("--source caf\xc3\xa9 --label env=" V256 " --label t=\xf0\x9f\x98\x80 "
	             "--web.telemetry-path /m%3Fx a.log",
	             buf, sizeof(buf), argv);
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(cli_build_config(&o, &c, err, sizeof(err)), 0);
	assert_string_equal(c->sources[0].name, "caf\xc3\xa9");
	assert_int_equal(strlen(c->sources[0].labels[0].value), 256);
	assert_string_equal(c->sources[0].labels[1].value, "\xf0\x9f\x98\x80");
	assert_string_equal(c->telemetry_path, "/m%3Fx");
	config_destroy(c);
}

/* Explicit flags override the file's global section; the rest comes from the file. */
static void test_flags_override_file(void **state)
{
	char buf[512], err[512], *argv[MAX_ARGS];
	struct cli_options o;
	struct config *c = NULL;
	int argc = split("--config.file data/config/good/full.yml --web.listen-address :1234 "
	                 "--log.level warn --config.check",
	                 buf, sizeof(buf), argv);

	(void)state;
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.action, CLI_CHECK);
	assert_int_equal(cli_build_config(&o, &c, err, sizeof(err)), 0);
	assert_string_equal(c->listen_address, ":1234"); /* flag */
	assert_string_equal(c->log_level, "warn");       /* flag */
	assert_string_equal(c->telemetry_path, "/prom"); /* file */
	assert_string_equal(c->log_format, "json");      /* file */
	assert_int_equal(c->connection_timeout, CLI_DEFAULT_CONNECTION_TIMEOUT);
	assert_false(c->enable_lifecycle);
	assert_int_equal(c->catchup_max_bytes, CONFIG_DEFAULT_CATCHUP_MAX_BYTES);
	assert_int_equal(c->n_sources, 3);
	assert_int_equal(c->sources[0].series_idle_ms, 0); /* off by default */
	config_destroy(c);

	/* --series.idle-timeout: every source with field labels (web only here) */
	argc = split("--config.file data/config/good/full.yml --series.idle-timeout 2h", buf,
	             sizeof(buf), argv);
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(cli_build_config(&o, &c, err, sizeof(err)), 0);
	assert_int_equal(c->sources[0].series_idle_ms, 7200000);
	assert_int_equal(c->sources[1].series_idle_ms, 0);
	assert_int_equal(c->sources[2].series_idle_ms, 0);
	config_destroy(c);
}

static void test_help_and_version(void **state)
{
	char buf[512], err[512], *argv[MAX_ARGS], *text = NULL;
	struct cli_options o;
	size_t len = 0;
	FILE *f;
	static const char *const flags[] = {
	    "--format",
	    "--log-format",
	    "--source",
	    "--label",
	    "--config.file",
	    "--config.check",
	    "--web.listen-address",
	    "--web.telemetry-path",
	    "--web.config.file",
	    "--web.enable-lifecycle",
	    "--web.connection-timeout",
	    "--state.file",
	    "--log.level",
	    "--log.format",
	    "--once",
	    "--help",
	    "--version",
	    "--detect",
	    "-h,",
	};

	(void)state;
	int argc = split("--help --bogus-is-ignored-after-help", buf, sizeof(buf), argv);
	/* An unknown flag is still an error, even with --help. */
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), -EINVAL);
	argc = split("a.log --help", buf, sizeof(buf), argv);
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.action, CLI_HELP);
	argc = split("-h", buf, sizeof(buf), argv);
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.action, CLI_HELP);
	argc = split("--version", buf, sizeof(buf), argv);
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.action, CLI_VERSION);
	/* a switch twice is harmless; --detect takes the FILEs */
	argc = split("--once --once a.log", buf, sizeof(buf), argv);
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	argc = split("--detect a.log b.log", buf, sizeof(buf), argv);
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), 0);
	assert_int_equal(o.action, CLI_DETECT);
	assert_int_equal(o.n_files, 2);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	cli_usage(f);
	(void)fclose(f);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!strstr(text, flags[i])) {
			fail_msg("--help does not mention %s", flags[i]);
		}
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usage_errors),     cmocka_unit_test(test_build_errors),
	    cmocka_unit_test(test_flags_only),       cmocka_unit_test(test_flags_override_file),
	    cmocka_unit_test(test_help_and_version), cmocka_unit_test(test_listen_accepted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
