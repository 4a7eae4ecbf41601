/*
 * fuzz_config.c - libFuzzer target for the YAML readers (config and web
 * config).
 *
 * Every input goes through config_yaml_load_buffer and webconfig_load_buffer
 * (both under a name in a directory that does not exist, so file references
 * cannot read anything).  Invariants checked: a load either succeeds with a
 * usable config (at least one source, each with a name and paths, names
 * unique) or fails with a message that starts with the file name; nothing
 * crashes, leaks or reads out of bounds (ASan/UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_yaml.h"
#include "config/webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "/nonexistent-fuzz-dir/fuzz.yml"

static void check_config(const struct config *c)
{
	if (c->n_sources == 0 || c->n_sources > CONFIG_MAX_SOURCES) {
		abort();
	}
	for (size_t i = 0; i < c->n_sources; i++) {
		const struct config_source *s = &c->sources[i];
		if (!s->name || !s->name[0] || s->n_paths == 0) {
			abort();
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(c->sources[k].name, s->name) == 0) {
				abort();
			}
		}
	}
}

static void check_error(int r, const char *err)
{
	if (r < 0 && strncmp(err, NAME, strlen(NAME)) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = config_create();
	struct webconfig *w = NULL;
	char err[1024];
	int r;

	if (!c) {
		return 0;
	}
	err[0] = '\0';
	r = config_yaml_load_buffer(c, NAME, (const char *)data, size, err, sizeof(err));
	if (r == 0) {
		check_config(c);
	}
	check_error(r, err);
	config_destroy(c);
	err[0] = '\0';
	r = webconfig_load_buffer(NAME, (const char *)data, size, &w, err, sizeof(err));
	check_error(r, err);
	webconfig_destroy(w);
	return 0;
}
