/*
 * test_config.c - the YAML configuration reader and the config value tree.
 *
 * Bad fixtures: every tests/data/config/bad/NAME.yml starts with a line
 * "# expect: TEXT"; loading it must fail with -EINVAL and the message
 * "bad/NAME.yml:TEXT..." (file, line, column, key, reason).  Good fixtures
 * are loaded and their values checked field by field.
 */
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
	char path[512], line[512], want[1024], err[1024] = "";
	struct config *c = config_create();
	FILE *f;
	int r;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	if (!fgets(line, sizeof(line), f)) {
		line[0] = '\0';
	}
	(void)fclose(f);
	assert_true(strncmp(line, "# expect: ", 10) == 0);
	line[strcspn(line, "\n")] = '\0';
	(void)snprintf(want, sizeof(want), "%s:%s", path, line + 10);
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
	assert_true(n >= 49);
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
	assert_string_equal(s->field_labels[0].match, "^(?:www\\.)?(.+)$");
	assert_string_equal(s->field_labels[0].replacement, "$1");
	assert_int_equal(s->field_labels[1].field, CONFIG_FIELD_PATH);
	assert_null(s->field_labels[1].match);
	assert_int_equal(c->sources[1].kind, LOGPARSE_JSON);
	assert_null(c->sources[1].format);
	assert_int_equal(c->sources[2].kind, LOGPARSE_REGEX);
	assert_string_equal(c->sources[2].format, "^(?<status>\\d{3}) (?<bytes>\\d+)$");
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
	assert_int_equal(c->n_sources, 3);
	assert_int_equal(c->sources[1].kind, LOGPARSE_NGINX);
	assert_int_equal(c->sources[2].kind, LOGPARSE_APACHE);
	config_destroy(c);
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

/* config.c helpers used by the reader and the command line. */
static void test_value_tree(void **state)
{
	static const struct {
		const char *addr;
		bool ok;
	} addrs[] = {
	    {":9714", true},        {"127.0.0.1:80", true},
	    {"[::1]:9714", true},   {"localhost", false},
	    {":", false},           {":65536", false},
	    {"[::1]9714", false},   {":12a", false},
	    {"host:123456", false}, {"example.com:80", false},
	    {"localhost:80", true}, {"::1:80", true},
	    {"[fe80::1]:80", true}, {"999.1.1.1:80", false},
	};
	struct config *c = config_create();
	struct config_source *s;
	enum config_field f;

	(void)state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		assert_int_equal(config_is_valid_listen_address(addrs[i].addr), addrs[i].ok);
	}
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_fixtures),
	    cmocka_unit_test(test_minimal_defaults),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_anchors_and_nulls),
	    cmocka_unit_test(test_example_file),
	    cmocka_unit_test(test_read_errors),
	    cmocka_unit_test(test_buffer_name_in_messages),
	    cmocka_unit_test(test_value_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
