/*
 * config.c - configuration value tree: defaults, builders and validation
 * helpers shared by the command line and the YAML reader.
 *
 * Fixed-size arrays with explicit caps keep the tree simple to copy and to
 * free; the caps are far above what a single-host exporter needs and every
 * adder reports -ENOSPC instead of growing without bound.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* Default buckets (seconds): web latencies from 5 ms to 1 min. */
static const double default_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                         1,     2.5,  5,     10,   30,  60};

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct config *config_create(void)
{
	struct config *c = calloc(1, sizeof(*c));
	size_t n = sizeof(default_buckets) / sizeof(default_buckets[0]);

	if (!c) {
		return NULL;
	}
	c->listen_address = dup_str(":9714");
	c->telemetry_path = dup_str("/metrics");
	if (!c->listen_address || !c->telemetry_path) {
		config_destroy(c);
		return NULL;
	}
	memcpy(c->request_buckets, default_buckets, sizeof(default_buckets));
	memcpy(c->upstream_buckets, default_buckets, sizeof(default_buckets));
	c->n_request_buckets = n;
	c->n_upstream_buckets = n;
	return c;
}

static void source_finish(struct config_source *s)
{
	free(s->name);
	free(s->format);
	for (size_t i = 0; i < s->n_paths; i++) {
		free(s->paths[i]);
	}
	for (size_t i = 0; i < s->n_labels; i++) {
		free(s->labels[i].name);
		free(s->labels[i].value);
	}
	for (size_t i = 0; i < s->n_field_labels; i++) {
		free(s->field_labels[i].name);
		free(s->field_labels[i].match);
		free(s->field_labels[i].replacement);
	}
}

void config_destroy(struct config *c)
{
	if (!c) {
		return;
	}
	for (size_t i = 0; i < c->n_sources; i++) {
		source_finish(&c->sources[i]);
	}
	free(c->listen_address);
	free(c->telemetry_path);
	free(c->state_file);
	free(c->config_file);
	free(c->web_config_file);
	free(c->log_level);
	free(c->log_format);
	free(c);
}

int config_add_source(struct config *c, const char *name, enum logparse_kind kind,
                      const char *format, struct config_source **ret_source)
{
	struct config_source *s;

	if (c->n_sources >= CONFIG_MAX_SOURCES) {
		return -ENOSPC;
	}
	s = &c->sources[c->n_sources];
	memset(s, 0, sizeof(*s));
	s->name = dup_str(name);
	s->format = dup_str(format);
	s->kind = kind;
	if (!s->name || (format && !s->format)) {
		source_finish(s);
		memset(s, 0, sizeof(*s));
		return -ENOMEM;
	}
	c->n_sources++;
	if (ret_source) {
		*ret_source = s;
	}
	return 0;
}

int config_source_add_path(struct config_source *s, const char *path)
{
	char *p;

	if (s->n_paths >= CONFIG_MAX_PATHS) {
		return -ENOSPC;
	}
	p = strdup(path);
	if (!p) {
		return -ENOMEM;
	}
	s->paths[s->n_paths++] = p;
	return 0;
}

bool config_is_valid_label_name(const char *name)
{
	/* Labels the exporter sets itself cannot be overridden. */
	static const char *const reserved[] = {"source", "code",   "class", "reason",
	                                       "method", "origin", "le",    "path"};

	if (!name || !*name || strncmp(name, "__", 2) == 0) {
		return false;
	}
	for (const char *p = name; *p; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_';
		bool digit = *p >= '0' && *p <= '9';
		if (!alpha && !(digit && p != name)) {
			return false;
		}
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcmp(name, reserved[i]) == 0) {
			return false;
		}
	}
	return true;
}

int config_source_add_label(struct config_source *s, const char *name, const char *value)
{
	struct config_label *l;

	if (!config_is_valid_label_name(name) || !value) {
		return -EINVAL;
	}
	if (s->n_labels >= CONFIG_MAX_STATIC_LABELS) {
		return -ENOSPC;
	}
	l = &s->labels[s->n_labels];
	l->name = strdup(name);
	l->value = strdup(value);
	if (!l->name || !l->value) {
		free(l->name);
		free(l->value);
		return -ENOMEM;
	}
	s->n_labels++;
	return 0;
}

int config_set_string(char **field, const char *value)
{
	char *copy = NULL;

	if (value) {
		copy = strdup(value);
		if (!copy) {
			return -ENOMEM;
		}
	}
	free(*field);
	*field = copy;
	return 0;
}

int config_source_add_field_label(struct config_source *s, const char *name,
                                  enum config_field field, const char *match,
                                  const char *replacement)
{
	struct config_field_label *f;

	if (!config_is_valid_label_name(name)) {
		return -EINVAL;
	}
	if (s->n_field_labels >= CONFIG_MAX_FIELD_LABELS) {
		return -ENOSPC;
	}
	f = &s->field_labels[s->n_field_labels];
	memset(f, 0, sizeof(*f));
	f->field = field;
	f->name = strdup(name);
	f->match = dup_str(match);
	f->replacement = dup_str(replacement);
	if (!f->name || (match && !f->match) || (replacement && !f->replacement)) {
		free(f->name);
		free(f->match);
		free(f->replacement);
		memset(f, 0, sizeof(*f));
		return -ENOMEM;
	}
	s->n_field_labels++;
	return 0;
}

int config_field_from_name(const char *name, enum config_field *ret_field)
{
	static const struct {
		const char *name;
		enum config_field field;
	} fields[] = {
	    {"vhost", CONFIG_FIELD_VHOST},
	    {"path", CONFIG_FIELD_PATH},
	    {"upstream_status", CONFIG_FIELD_UPSTREAM_STATUS},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(name, fields[i].name) == 0) {
			*ret_field = fields[i].field;
			return 0;
		}
	}
	return -EINVAL;
}

bool config_is_valid_listen_address(const char *addr)
{
	const char *colon, *host = addr;
	size_t host_len;
	unsigned port = 0;
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];

	if (!addr) {
		return false;
	}
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':') {
			return false;
		}
		host = addr + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon) {
			return false;
		}
		host_len = (size_t)(colon - addr);
	}
	if (!colon[1] || strlen(colon + 1) > 5) {
		return false;
	}
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9') {
			return false;
		}
		port = port * 10 + (unsigned)(*p - '0');
	}
	if (port > 65535 || host_len >= sizeof(buf)) {
		return false;
	}
	/* The host is empty (all addresses), "localhost" or an IP literal: the
	 * exporter does not resolve names. */
	memcpy(buf, host, host_len);
	buf[host_len] = '\0';
	return host_len == 0 || strcmp(buf, "localhost") == 0 ||
	       inet_pton(AF_INET, buf, bin) == 1 || inet_pton(AF_INET6, buf, bin) == 1;
}
