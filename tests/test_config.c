/*
 * test_config.c - the YAML configuration reader and the config value tree.
 *
 * Bad fixtures: every tests/data/config/bad/NAME.yml starts with a line
 * "# expect: TEXT"; loading it must fail with -EINVAL and the message
 * "bad/NAME.yml:TEXT..." (file, line, column, key, reason).  Good fixtures
 * are loaded and their values checked field by field.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_yaml.h"
#include "config/yamldoc.h"
#include "tests/badconfig.h"

#define BAD_DIR "data/config/bad"
#define GOOD_DIR "data/config/good"

static struct config *load_ok(const char *path)
{
	struct config *c = config_create();
	char err[1024] = "";
	int r;

	assert_non_null(c);
	r = config_yaml_load_file(c, path, err, sizeof(err));
	if (r != 0) {
		fail_msg("%s: %d %s", path, r, err);
	}
	return c;
}

static void check_bad_file(const char *dir, const char *name)
{
	char path[512], want[1024], err[1024] = "";
	struct config *c = config_create();
	int r;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	badconfig_expected(path, want, sizeof(want));
	r = config_yaml_load_file(c, path, err, sizeof(err));
	if (r != -EINVAL || strncmp(err, want, strlen(want)) != 0) {
		fail_msg("%s: got %d '%s', want -EINVAL '%s...'", name, r, err, want);
	}
	config_destroy(c);
}

static void test_bad_fixtures(void **state)
{
	DIR *d = opendir(BAD_DIR);
	struct dirent *e;
	unsigned n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".yml") == 0) {
			check_bad_file(BAD_DIR, e->d_name);
			n++;
		}
	}
	(void)closedir(d);
	/* Guard against an empty or unreadable fixture directory. */
	assert_true(n >= 50);
}

static void test_minimal_defaults(void **state)
{
	struct config *c = load_ok(GOOD_DIR "/minimal.yml");

	(void)state;
	assert_string_equal(c->listen_address, ":9714");
	assert_string_equal(c->telemetry_path, "/metrics");
	assert_null(c->state_file);
	assert_null(c->web_config_file);
	assert_null(c->log_level);
	assert_int_equal(c->n_request_buckets, 13);
	/* optional histograms: sizes x4 from 64 B to 64 MiB, phases like the
	 * durations, the response size off until its buckets are set */
	assert_int_equal(c->n_opt_buckets[CONFIG_HIST_REQUEST_SIZE], 11);
	assert_true(c->opt_buckets[CONFIG_HIST_REQUEST_SIZE][0] == 64);
	assert_true(c->opt_buckets[CONFIG_HIST_REQUEST_SIZE][10] == 67108864);
	assert_int_equal(c->n_opt_buckets[CONFIG_HIST_RESPONSE_SIZE], 0);
	assert_int_equal(c->n_opt_buckets[CONFIG_HIST_UPSTREAM_CONNECT], 13);
	assert_int_equal(c->n_opt_buckets[CONFIG_HIST_UPSTREAM_HEADER], 13);
	assert_false(c->no_class_label);
	assert_false(c->no_reason_label);
	assert_int_equal(c->series_limit, 0);
	assert_false(c->no_histograms);
	assert_int_equal(c->n_sources, 1);
	assert_string_equal(c->sources[0].name, "access");
	assert_int_equal(c->sources[0].kind, LOGPARSE_PRESET);
	assert_string_equal(c->sources[0].format, "combined");
	/* Relative paths are relative to the config file's directory. */
	assert_string_equal(c->sources[0].paths[0], GOOD_DIR "/access.log");
	assert_string_equal(c->config_file, GOOD_DIR "/minimal.yml");
	config_destroy(c);
}

static void test_full(void **state)
{
	struct config *c = load_ok(GOOD_DIR "/full.yml");
	const struct config_source *s;

	(void)state;
	assert_string_equal(c->listen_address, "127.0.0.1:9999");
	assert_string_equal(c->telemetry_path, "/prom");
	assert_string_equal(c->state_file, GOOD_DIR "/state/exporter.state");
	assert_string_equal(c->log_level, "debug");
	assert_string_equal(c->log_format, "json");
	assert_string_equal(c->web_config_file, "/etc/accesslog_exporter/web.yml");
	assert_int_equal(c->n_request_buckets, 3);
	assert_true(c->request_buckets[0] == 0.1 && c->request_buckets[2] == 10);
	assert_int_equal(c->n_upstream_buckets, 1);
	assert_true(c->upstream_buckets[0] == 0.5);
	assert_int_equal(c->n_opt_buckets[CONFIG_HIST_REQUEST_SIZE], 0); /* [] turns it off */
	assert_int_equal(c->n_opt_buckets[CONFIG_HIST_RESPONSE_SIZE], 2);
	assert_true(c->opt_buckets[CONFIG_HIST_RESPONSE_SIZE][1] == 1048576);
	assert_int_equal(c->n_opt_buckets[CONFIG_HIST_UPSTREAM_CONNECT], 1);
	assert_true(c->opt_buckets[CONFIG_HIST_UPSTREAM_CONNECT][0] == 0.001);
	assert_int_equal(c->n_opt_buckets[CONFIG_HIST_UPSTREAM_HEADER], 2);
	assert_true(c->no_class_label);
	assert_true(c->no_reason_label);
	assert_int_equal(c->series_limit, 500);
	assert_true(c->no_histograms);
	assert_int_equal(c->n_sources, 3);
	s = &c->sources[0];
	assert_string_equal(s->format, "vhost_combined");
	assert_int_equal(s->n_paths, 2);
	assert_string_equal(s->paths[0], "/var/log/a.log");
	assert_string_equal(s->paths[1], GOOD_DIR "/logs/*.log");
	assert_int_equal(s->n_labels, 2);
	assert_string_equal(s->labels[1].name, "team");
	assert_string_equal(s->labels[1].value, "web");
	assert_int_equal(s->n_field_labels, 2);
	assert_string_equal(s->field_labels[0].name, "vhost");
	assert_int_equal(s->field_labels[0].field, CONFIG_FIELD_VHOST);
	assert_int_equal(s->field_labels[0].n_rules, 1);
	assert_string_equal(s->field_labels[0].rules[0].match, "^(?:www\\.)?(.+)$");
	assert_string_equal(s->field_labels[0].rules[0].replacement, "$1");
	assert_null(s->field_labels[0].default_value);
	assert_int_equal(s->field_labels[1].field, CONFIG_FIELD_PATH);
	assert_int_equal(s->field_labels[1].n_rules, 0);
	assert_int_equal(c->sources[1].kind, LOGPARSE_JSON);
	assert_null(c->sources[1].format);
	assert_int_equal(c->sources[2].kind, LOGPARSE_REGEX);
	assert_string_equal(c->sources[2].format, "^(?<status>\\d{3}) (?<bytes>\\d+)$");
	config_destroy(c);
}

/* Ordered rules, a default, labels from the format's own variables (by
 * name with or without '$', resolved to the parser's extra index). */
static void test_rules_and_variables(void **state)
{
	struct config *c = load_ok(GOOD_DIR "/rules.yml");
	const struct config_source *s = &c->sources[0];
	(void)state;

	assert_int_equal(s->n_field_labels, 3);
	const struct config_field_label *route = &s->field_labels[0];
	assert_int_equal(route->field, CONFIG_FIELD_PATH);
	assert_int_equal(route->n_rules, 3);
	assert_string_equal(route->rules[0].match, "/users/[0-9]+/orders/[0-9]+");
	assert_string_equal(route->rules[0].replacement, "/users/:id/orders/:id");
	assert_string_equal(route->rules[1].match, "/users/[0-9]+");
	assert_string_equal(route->rules[2].match, "/static/.*");
	assert_null(route->rules[2].replacement);
	assert_string_equal(route->default_value, "unmapped");
	assert_null(route->variable);
	const struct config_field_label *tier = &s->field_labels[1];
	assert_int_equal(tier->field, CONFIG_FIELD_VARIABLE);
	assert_string_equal(tier->variable, "tier");
	assert_int_equal(tier->variable_index, 0);
	assert_int_equal(tier->n_rules, 0);
	const struct config_field_label *slow = &s->field_labels[2];
	assert_int_equal(slow->field, CONFIG_FIELD_VARIABLE);
	assert_string_equal(slow->variable, "process_time");
	assert_int_equal(slow->variable_index, 1);
	assert_int_equal(slow->n_rules, 1);
	assert_string_equal(slow->default_value, "");
	/* equality covers rules, their order, the default and the variable */
	assert_true(config_field_label_equal(route, route));
	assert_false(config_field_label_equal(route, tier));
	struct config *d = load_ok(GOOD_DIR "/rules.yml");
	struct config_field_label *r2 = &d->sources[0].field_labels[0];
	assert_true(config_field_label_equal(route, r2));
	assert_int_equal(config_field_label_set_default(r2, NULL), 0);
	assert_false(config_field_label_equal(route, r2));
	assert_int_equal(config_field_label_set_default(r2, "bad\n"), -EINVAL);
	assert_int_equal(config_field_label_add_rule(r2, NULL, NULL), -EINVAL);
	for (size_t i = r2->n_rules; i < CONFIG_MAX_RULES; i++) {
		assert_int_equal(config_field_label_add_rule(r2, "x", NULL), 0);
	}
	assert_int_equal(config_field_label_add_rule(r2, "x", NULL), -ENOSPC);
	assert_int_equal(config_field_label_set_variable(r2, "", 0), -EINVAL);
	config_destroy(d);
	config_destroy(c);
}

/* Labels from any field, filters in order; the capture list numbers the
 * fields once each (labels first), and every index points into it. */
static void test_filters_and_any_field(void **state)
{
	struct config *c = load_ok(GOOD_DIR "/filters.yml");
	const struct config_source *s = &c->sources[0];
	const char *names[CONFIG_MAX_CAPTURES];
	(void)state;

	assert_int_equal(s->n_field_labels, 3);
	assert_string_equal(s->field_labels[0].variable, "ssl_protocol");
	assert_string_equal(s->field_labels[1].variable, "host");
	assert_string_equal(s->field_labels[2].variable, "tier");
	assert_int_equal(s->n_filters, 3);
	assert_int_equal(s->filters[0].action, CONFIG_FILTER_DROP);
	assert_int_equal(s->filters[0].field, CONFIG_FIELD_PATH);
	assert_null(s->filters[0].variable);
	assert_string_equal(s->filters[0].match, "/healthz|/ready");
	assert_string_equal(s->filters[1].variable, "http_user_agent");
	assert_int_equal(s->filters[2].action, CONFIG_FILTER_KEEP);
	assert_string_equal(s->filters[2].variable, "host");
	assert_int_equal(config_source_captures(s, names, CONFIG_MAX_CAPTURES), 4);
	assert_string_equal(names[0], "ssl_protocol");
	assert_string_equal(names[3], "http_user_agent");
	for (size_t i = 0; i < s->n_field_labels; i++) {
		assert_string_equal(names[s->field_labels[i].variable_index],
		                    s->field_labels[i].variable);
	}
	assert_int_equal(s->filters[1].variable_index, 3);
	assert_int_equal(s->filters[2].variable_index, 1); /* $host, shared with the label */
	assert_int_equal(config_source_captures(s, names, 2), -E2BIG);
	/* JSON: any key */
	assert_int_equal(c->sources[1].n_filters, 1);
	assert_string_equal(c->sources[1].filters[0].variable, "client");
	assert_true(config_filter_equal(&s->filters[0], &s->filters[0]));
	assert_false(config_filter_equal(&s->filters[0], &s->filters[1]));
	struct config_source *w = &c->sources[1];
	assert_int_equal(
	    config_source_add_filter(w, CONFIG_FILTER_DROP, CONFIG_FIELD_PATH, "x", "y"), -EINVAL);
	assert_int_equal(
	    config_source_add_filter(w, CONFIG_FILTER_DROP, CONFIG_FIELD_PATH, NULL, NULL),
	    -EINVAL);
	while (w->n_filters < CONFIG_MAX_FILTERS) {
		assert_int_equal(
		    config_source_add_filter(w, CONFIG_FILTER_KEEP, CONFIG_FIELD_VHOST, NULL, "a"),
		    0);
	}
	assert_int_equal(
	    config_source_add_filter(w, CONFIG_FILTER_KEEP, CONFIG_FIELD_VHOST, NULL, "a"),
	    -ENOSPC);
	config_destroy(c);
}

static void test_anchors_and_nulls(void **state)
{
	struct config *c = load_ok(GOOD_DIR "/anchors.yml");

	(void)state;
	assert_int_equal(c->n_sources, 2);
	assert_int_equal(c->sources[1].n_paths, 2);
	assert_string_equal(c->sources[1].paths[1], "/var/log/two.log");
	assert_string_equal(c->sources[1].labels[0].value, "test");
	config_destroy(c);
	c = load_ok(GOOD_DIR "/nulls.yml");
	assert_null(c->state_file);
	assert_null(c->web_config_file);
	assert_int_equal(c->sources[0].n_labels, 0);
	config_destroy(c);
}

static void test_example_file(void **state)
{
	struct config *c = load_ok("../config/examples/accesslog.yml");

	(void)state;
	assert_int_equal(c->n_sources, 5);
	assert_int_equal(c->sources[0].container, CONFIG_CONTAINER_NONE);
	assert_int_equal(c->sources[0].container_streams, CONFIG_STREAM_STDOUT);
	assert_int_equal(c->sources[4].container, CONFIG_CONTAINER_CRI);
	assert_int_equal(c->sources[4].container_streams, CONFIG_STREAM_STDOUT);
	assert_int_equal(c->sources[1].kind, LOGPARSE_NGINX);
	assert_int_equal(c->sources[1].n_field_labels, 4);
	assert_string_equal(c->sources[1].field_labels[3].variable, "ssl_protocol");
	assert_int_equal(c->sources[0].n_filters, 3);
	/* path labels come first, then the field labels */
	assert_string_equal(c->sources[0].path_labels,
	                    "/var/log/nginx/(?<site>[^/]+)\\.access\\.log");
	assert_int_equal(c->sources[0].field_labels[0].field, CONFIG_FIELD_PATH_LABEL);
	assert_string_equal(c->sources[0].field_labels[0].name, "site");
	assert_string_equal(c->sources[0].field_labels[1].name, "vhost");
	assert_string_equal(c->sources[0].filters[1].variable, "%{User-Agent}i");
	assert_int_equal(c->sources[0].filters[2].action, CONFIG_FILTER_KEEP);
	assert_int_equal(c->sources[1].field_labels[1].n_rules, 3);
	assert_string_equal(c->sources[1].field_labels[1].default_value, "other");
	assert_int_equal(c->sources[1].field_labels[2].field, CONFIG_FIELD_VARIABLE);
	assert_string_equal(c->sources[1].field_labels[2].variable, "tier");
	assert_int_equal(c->sources[2].kind, LOGPARSE_APACHE);
	/* syslog listeners are inputs like paths, taken as written */
	assert_int_equal(c->sources[3].n_paths, 3);
	assert_string_equal(c->sources[3].paths[0], "udp://127.0.0.1:5514");
	assert_string_equal(c->sources[3].paths[2], "unixgram:///run/accesslog/syslog.sock");
	assert_string_equal(c->sources[3].syslog_tag, "nginx");
	assert_int_equal(config_source_syslog_idle_ms(&c->sources[3]), 30 * 60000);
	assert_int_equal(config_source_syslog_idle_ms(&c->sources[0]),
	                 CONFIG_DEFAULT_SYSLOG_IDLE_MS);
	assert_int_equal(c->sources[1].series_idle_ms, 7 * 86400000ull);
	assert_true(c->sources[1].series_idle_set);
	assert_int_equal(c->sources[0].series_idle_ms, 0); /* off by default */
	assert_int_equal(c->catchup_max_bytes, 4ull << 30);
	config_destroy(c);
}

static void test_container_names(void **state)
{
	static const struct {
		const char *name;
		int r;
		enum config_container container;
	} kinds[] = {
	    {"none", 0, CONFIG_CONTAINER_NONE},
	    {"cri", 0, CONFIG_CONTAINER_CRI},
	    {"docker", 0, CONFIG_CONTAINER_DOCKER},
	    {"auto", 0, CONFIG_CONTAINER_AUTO},
	    {"CRI", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"podman", -EINVAL, 0},
	};
	static const struct {
		const char *name;
		int r;
		unsigned streams;
	} streams[] = {
	    {"stdout", 0, CONFIG_STREAM_STDOUT},
	    {"stderr", 0, CONFIG_STREAM_STDERR},
	    {"all", 0, CONFIG_STREAM_STDOUT | CONFIG_STREAM_STDERR},
	    {"both", -EINVAL, 0},
	    {"", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		enum config_container c = CONFIG_CONTAINER_AUTO;
		assert_int_equal(config_container_from_name(kinds[i].name, &c), kinds[i].r);
		assert_int_equal(c, kinds[i].r ? CONFIG_CONTAINER_AUTO : kinds[i].container);
	}
	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		unsigned v = 99;
		assert_int_equal(config_streams_from_name(streams[i].name, &v), streams[i].r);
		assert_int_equal(v, streams[i].r ? 99 : streams[i].streams);
	}
}

static void test_sizes(void **state)
{
	static const struct {
		const char *text;
		int r;
		uint64_t bytes;
	} rows[] = {
	    {"0", 0, 0},
	    {"4096", 0, 4096},
	    {"10B", 0, 10},
	    {"3KB", 0, 3000},
	    {"500MB", 0, 500000000},
	    {"4GiB", 0, 4ull << 30},
	    {"2TiB", 0, 2ull << 40},
	    {"1152921504606846976", 0, 1ull << 60},
	    {"1152921504606846977", -ERANGE, 0},
	    {"1048577TiB", -ERANGE, 0},
	    {"99999999999999999999999", -ERANGE, 0},
	    {"", -EINVAL, 0},
	    {"GiB", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {"4 GiB", -EINVAL, 0},
	    {"4gib", -EINVAL, 0},
	    {"1.5GB", -EINVAL, 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = 12345;
		int r = config_parse_size(rows[i].text, &v);
		if (r != rows[i].r || (r == 0 && v != rows[i].bytes) || (r < 0 && v != 12345)) {
			fail_msg("'%s': %d %llu", rows[i].text, r, (unsigned long long)v);
		}
	}
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		int r;
		uint64_t ms;
	} rows[] = {
	    {"0", 0, 0},           {"1m", 0, 60000},      {"1m30s", 0, 90000},
	    {"500ms", 0, 500},     {"1h", 0, 3600000},    {"2s500ms", 0, 2500},
	    {"1h1ms", -ERANGE, 0}, {"2h", -ERANGE, 0},    {"99999999999999999999999s", -ERANGE, 0},
	    {"", -EINVAL, 0},      {"s", -EINVAL, 0},     {"1", -EINVAL, 0},
	    {"1x", -EINVAL, 0},    {"30s1m", -EINVAL, 0}, {"1m1m", -EINVAL, 0},
	    {"-1s", -EINVAL, 0},   {"1.5s", -EINVAL, 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t v = 12345;
		int r = config_parse_duration(rows[i].text, CONFIG_MAX_NEW_SERIES_HOLD_MS, &v);
		if (r != rows[i].r || (r == 0 && v != rows[i].ms) || (r < 0 && v != 12345)) {
			fail_msg("'%s': %d %llu", rows[i].text, r, (unsigned long long)v);
		}
	}
}

static void test_read_errors(void **state)
{
	struct config *c = config_create();
	char err[512] = "";
	char *big;

	(void)state;
	assert_int_equal(config_yaml_load_file(c, "data/config/nonexistent.yml", err, sizeof(err)),
	                 -ENOENT);
	assert_non_null(strstr(err, "data/config/nonexistent.yml: cannot open"));
	/* Size cap: a file over 1 MiB is refused before parsing. */
	big = malloc(YAMLDOC_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, ' ', YAMLDOC_MAX_BYTES + 1);
	big[YAMLDOC_MAX_BYTES + 1] = '\0';
	assert_int_equal(
	    config_yaml_load_buffer(c, "big.yml", big, YAMLDOC_MAX_BYTES + 1, err, sizeof(err)),
	    -EFBIG);
	assert_non_null(strstr(err, "big.yml: larger than"));
	free(big);
	config_destroy(c);
}

static void test_buffer_name_in_messages(void **state)
{
	static const char text[] =
	    "sources:\n  - {name: a, format: common, paths: [x], bogus: 1}\n";
	struct config *c = config_create();
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    config_yaml_load_buffer(c, "/etc/x.yml", text, strlen(text), err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "/etc/x.yml:2:43: key 'sources[0].bogus': unknown key");
	config_destroy(c);
}

/* A mistyped key or format name gets the nearest valid one. */
static void test_did_you_mean(void **state)
{
	static const struct {
		const char *text, *want;
	} rows[] = {
	    {"sources:\n  - {name: a, format: common, path: [x]}\n",
	     "key 'sources[0].path': unknown key (did you mean 'paths'?)"},
	    {"sources:\n  - {name: a, format: combind, paths: [x]}\n",
	     "unknown format 'combind' (did you mean combined?) (combined, common,"},
	    {"sources:\n  - {name: a, format: xyzzy, paths: [x]}\n",
	     "unknown format 'xyzzy' (combined, common,"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct config *c = config_create();
		char err[512] = "";
		assert_int_equal(config_yaml_load_buffer(c, "x.yml", rows[i].text,
		                                         strlen(rows[i].text), err, sizeof(err)),
		                 -EINVAL);
		if (!strstr(err, rows[i].want)) {
			fail_msg("row %zu: '%s', want '%s'", i, err, rows[i].want);
		}
		config_destroy(c);
	}
}

/* The one listen-address parser: family, binary address and port, or the
 * reason in the message. */
static void test_listen_address(void **state)
{
	static const struct {
		const char *addr;
		int family;      /* 0: refused */
		const char *bin; /* inet_ntop form of the address, or the reason */
		unsigned port;
	} rows[] = {
	    {":9714", AF_INET, "0.0.0.0", 9714},
	    {":0", AF_INET, "0.0.0.0", 0},
	    {"127.0.0.1:80", AF_INET, "127.0.0.1", 80},
	    {"0.0.0.0:65535", AF_INET, "0.0.0.0", 65535},
	    {"localhost:80", AF_INET, "127.0.0.1", 80},
	    {"[::1]:9714", AF_INET6, "::1", 9714},
	    {"[::]:1", AF_INET6, "::", 1},
	    {"[fe80::1]:80", AF_INET6, "fe80::1", 80},
	    {"[::ffff:127.0.0.1]:0", AF_INET6, "::ffff:127.0.0.1", 0},
	    {"", 0, "(missing :port)", 0},
	    {"localhost", 0, "(missing :port)", 0},
	    {":", 0, "(the port must be a number from 0 to 65535)", 0},
	    {":65536", 0, "(the port must be a number from 0 to 65535)", 0},
	    {":12a", 0, "(the port must be a number from 0 to 65535)", 0},
	    {":-1", 0, "(the port must be a number from 0 to 65535)", 0},
	    {"host:123456", 0, "(the port must be a number from 0 to 65535)", 0},
	    {"[::1]9714", 0, "(missing :port after ']')", 0},
	    {"[::1:80", 0, "(no closing ']')", 0},
	    {"::1:80", 0, "(IPv6 addresses go in brackets: [v6]:port)", 0},
	    {"[127.0.0.1]:80", 0, "(not an IPv6 address in brackets)", 0},
	    {"[localhost]:80", 0, "(not an IPv6 address in brackets)", 0},
	    {"999.1.1.1:80", 0, "(not an IPv4 address)", 0},
	    {"1.2.3:80", 0, "(not an IPv4 address)", 0},
	    {"example.com:80", 0, "(host names other than localhost are not resolved)", 0},
	    {"[fe80::1%eth0]:80", 0, "(not an IPv6 address in brackets)", 0},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:80", 0,
	     "(host too long)", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct config_listen l = {.port = 4242};
		char err[512] = "", text[INET6_ADDRSTRLEN] = "";
		int r = config_parse_listen_address(rows[i].addr, &l, err, sizeof(err));
		if (!rows[i].family) {
			char want[128];
			(void)snprintf(want, sizeof(want),
			               "'%s' is not host:port, :port or [v6]:port", rows[i].addr);
			if (r != -EINVAL || strncmp(err, want, strlen(want)) != 0 ||
			    !strstr(err, rows[i].bin)) {
				fail_msg("'%s': got %d '%s', want -EINVAL '%s... %s'", rows[i].addr,
				         r, err, want, rows[i].bin);
			}
			assert_int_equal(l.port, 4242); /* not written on failure */
			continue;
		}
		if (r != 0) {
			fail_msg("'%s': got %d '%s'", rows[i].addr, r, err);
		}
		assert_int_equal(l.family, rows[i].family);
		assert_non_null(inet_ntop(l.family, l.addr, text, sizeof(text)));
		assert_string_equal(text, rows[i].bin);
		assert_int_equal(l.port, rows[i].port);
	}
	assert_int_equal(
	    config_parse_listen_address(NULL, &(struct config_listen){0}, (char[64]){0}, 64),
	    -EINVAL);
}

/* The one reserved-label list: every label the exporter sets, for static
 * labels; field labels may also be named path. */
static void test_reserved_labels(void **state)
{
	static const char *const ours[] = {"source", "code",   "class", "reason",
	                                   "method", "origin", "le",    "metric"};
	struct config *c = config_create();
	struct config_source *s;
	char err[512];

	(void)state;
	assert_int_equal(config_add_source(c, "a", LOGPARSE_PRESET, "combined", &s), 0);
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		assert_true(config_is_reserved_label(ours[i], false));
		assert_true(config_is_reserved_label(ours[i], true));
		assert_int_equal(config_check_label_name(ours[i], false, err, sizeof(err)),
		                 -EINVAL);
		assert_non_null(strstr(err, "the exporter sets it itself"));
		assert_int_equal(config_check_label_name(ours[i], true, err, sizeof(err)), -EINVAL);
		assert_int_equal(config_source_add_label(s, ours[i], "x"), -EINVAL);
		assert_int_equal(
		    config_source_add_field_label(s, ours[i], CONFIG_FIELD_PATH, NULL, NULL),
		    -EINVAL);
	}
	/* path: only on accesslog_log_file_open, which has no field labels. */
	assert_true(config_is_reserved_label("path", false));
	assert_false(config_is_reserved_label("path", true));
	assert_int_equal(config_check_label_name("path", false, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'path' is not a usable label name: the exporter sets it itself "
	                         "(static labels may not be source, code, class, reason, method, "
	                         "origin, le, metric, path, instance, job)");
	assert_int_equal(config_check_label_name("le", true, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'le' is not a usable label name: the exporter sets it itself "
	                         "(field labels may not be source, code, class, reason, method, "
	                         "origin, le, metric, instance, job)");
	/* instance and job come from the scrape target */
	assert_int_equal(config_check_label_name("instance", false, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'instance' is not a usable label name: Prometheus sets it from "
	                         "the scrape target (it would arrive as exported_*) (static labels "
	                         "may not be source, code, class, reason, method, origin, le, "
	                         "metric, path, instance, job)");
	assert_int_equal(config_check_label_name("job", true, err, sizeof(err)), -EINVAL);
	assert_int_equal(config_check_label_name("path", true, err, sizeof(err)), 0);
	assert_int_equal(config_source_add_label(s, "path", "x"), -EINVAL);
	assert_int_equal(config_source_add_field_label(s, "path", CONFIG_FIELD_PATH, NULL, NULL),
	                 0);
	/* Not ours: usable; syntax errors are reported as such. */
	assert_false(config_is_reserved_label("vhost", false));
	assert_false(config_is_reserved_label("version", false));
	assert_false(config_is_reserved_label("Code", false));
	assert_int_equal(config_source_add_label(s, "env", "prod"), 0);
	assert_int_equal(config_check_label_name("1abc", false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'1abc' is not a usable label name (must match"));
	assert_int_equal(config_check_label_name("__x", true, err, sizeof(err)), -EINVAL);
	assert_int_equal(config_check_label_name("", true, err, sizeof(err)), -EINVAL);
	config_destroy(c);
}

/* config.c helpers used by the reader and the command line. */
static void test_value_tree(void **state)
{
	struct config *c = config_create();
	struct config_source *s;
	enum config_field f;

	(void)state;
	assert_int_equal(config_field_from_name("upstream_status", &f), 0);
	assert_int_equal(f, CONFIG_FIELD_UPSTREAM_STATUS);
	assert_int_equal(config_field_from_name("host", &f), -EINVAL);
	assert_int_equal(config_add_source(c, "a", LOGPARSE_PRESET, "combined", &s), 0);
	assert_int_equal(config_source_add_field_label(s, "le", CONFIG_FIELD_PATH, NULL, NULL),
	                 -EINVAL);
	for (unsigned i = 0; i < CONFIG_MAX_FIELD_LABELS; i++) {
		char name[8];
		(void)snprintf(name, sizeof(name), "f%u", i);
		assert_int_equal(
		    config_source_add_field_label(s, name, CONFIG_FIELD_PATH, "^(.*)$", "$1"), 0);
	}
	assert_int_equal(config_source_add_field_label(s, "extra", CONFIG_FIELD_PATH, NULL, NULL),
	                 -ENOSPC);
	/* Every string field is owned and freed by config_destroy (checked by ASan). */
	assert_int_equal(config_set_string(&c->config_file, "a.yml"), 0);
	assert_int_equal(config_set_string(&c->web_config_file, "web.yml"), 0);
	assert_int_equal(config_set_string(&c->log_level, "debug"), 0);
	assert_int_equal(config_set_string(&c->log_format, "json"), 0);
	config_destroy(c);
	config_destroy(NULL);
}

/* Label values and source names: length, UTF-8, control characters.  A
 * NULL value is replaced by a string of `len` bytes 'v'. */
static void test_label_values(void **state)
{
	static const struct {
		const char *value;
		size_t len;
		const char *why; /* NULL: accepted */
	} rows[] = {
	    {"prod", 0, NULL},
	    {"", 0, NULL},
	    {"q\"uo\\te {}=,", 0, NULL},
	    {NULL, CONFIG_LABEL_VALUE_MAX, NULL},
	    {NULL, CONFIG_LABEL_VALUE_MAX + 1, "is 257 bytes long (at most 256)"},
	    {NULL, 900000, "is 900000 bytes long (at most 256)"},
	    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf", 0, NULL},
	    {"\xed\x9f\xbf \xee\x80\x80", 0, NULL}, /* U+D7FF, U+E000 */
	    {"ab\xff", 0, "is not valid UTF-8 (byte 2)"},
	    {"\xc0\xaf", 0, "is not valid UTF-8 (byte 0)"},         /* overlong '/' */
	    {"x\xe0\x80\xaf", 0, "is not valid UTF-8 (byte 1)"},    /* overlong, 3 bytes */
	    {"\xed\xa0\x80", 0, "is not valid UTF-8 (byte 0)"},     /* surrogate U+D800 */
	    {"\xf4\x90\x80\x80", 0, "is not valid UTF-8 (byte 0)"}, /* above U+10FFFF */
	    {"\xf0\x9f\x98", 0, "is not valid UTF-8 (byte 0)"},     /* truncated */
	    {"\xe2\x82x", 0, "is not valid UTF-8 (byte 0)"},
	    {"\x80", 0, "is not valid UTF-8 (byte 0)"},
	    {"we\nb", 0, "contains control character 0x0a at byte 2"},
	    {"prod\n", 0, "contains control character 0x0a at byte 4"},
	    {"\tx", 0, "contains control character 0x09 at byte 0"},
	    {"a\rb", 0, "contains control character 0x0d at byte 1"},
	    {"del\x7f", 0, "contains control character 0x7f at byte 3"},
	    {"\x1b[31m", 0, "contains control character 0x1b at byte 0"},
	};
	static char big[900001];
	char err[256];
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *v = rows[i].value;
		if (!v) {
			memset(big, 'v', rows[i].len);
			big[rows[i].len] = '\0';
			v = big;
		}
		struct config *c = config_create();
		struct config_source *s = NULL;
		assert_non_null(c);
		err[0] = '\0';
		int r = config_check_label_value(v, err, sizeof(err));
		int want = rows[i].why ? -EINVAL : 0;
		if (r != want || (rows[i].why && strcmp(err, rows[i].why) != 0)) {
			fail_msg("row %zu: got %d '%s', want '%s'", i, r, err,
			         rows[i].why ? rows[i].why : "ok");
		}
		/* the builders enforce the same rule whatever the front end */
		assert_int_equal(config_add_source(c, "a", LOGPARSE_PRESET, "combined", &s), 0);
		assert_int_equal(config_source_add_label(s, "env", v), want);
		assert_int_equal(s->n_labels, rows[i].why ? 0 : 1);
		if (v[0]) {
			assert_int_equal(config_check_source_name(v, err, sizeof(err)), want);
			assert_int_equal(config_add_source(c, v, LOGPARSE_PRESET, "combined", NULL),
			                 want);
		}
		config_destroy(c);
	}
	assert_int_equal(config_check_source_name("", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "empty source name");
}

static void test_telemetry_path(void **state)
{
	static const struct {
		const char *path;
		const char *why; /* substring; NULL: accepted */
	} rows[] = {
	    {"/metrics", NULL},
	    {"/a/b/c.prom", NULL},
	    {"/m%20x", NULL},
	    {"/-metrics", NULL},
	    {"/m\xc3\xa9trics", NULL},
	    {"metrics", "'metrics' must start with '/' and not be '/' or under '/-/'"},
	    {"", "must start with '/'"},
	    {"/", "must start with '/'"},
	    {"/-/x", "under '/-/'"},
	    {"/m?x", "'/m?x' must not contain '?', '#' or spaces"},
	    {"/metrics?", "must not contain '?'"},
	    {"/m#x", "'/m#x' must not contain"},
	    {"/my metrics", "'/my metrics' must not contain"},
	    {"/m\tx", "contains control character 0x09 at byte 2"},
	    {"/m\r\n", "contains control character 0x0d at byte 2"},
	    {"/m\x7f", "contains control character 0x7f at byte 2"},
	};
	char err[256];
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		int r = config_check_telemetry_path(rows[i].path, err, sizeof(err));
		if (r != (rows[i].why ? -EINVAL : 0) ||
		    (rows[i].why && !strstr(err, rows[i].why))) {
			fail_msg("'%s': got %d '%s', want '%s'", rows[i].path, r, err,
			         rows[i].why ? rows[i].why : "ok");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_fixtures),
	    cmocka_unit_test(test_minimal_defaults),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_anchors_and_nulls),
	    cmocka_unit_test(test_rules_and_variables),
	    cmocka_unit_test(test_filters_and_any_field),
	    cmocka_unit_test(test_example_file),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_container_names),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_read_errors),
	    cmocka_unit_test(test_buffer_name_in_messages),
	    cmocka_unit_test(test_did_you_mean),
	    cmocka_unit_test(test_value_tree),
	    cmocka_unit_test(test_listen_address),
	    cmocka_unit_test(test_reserved_labels),
	    cmocka_unit_test(test_label_values),
	    cmocka_unit_test(test_telemetry_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
