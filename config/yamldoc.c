/*
 * yamldoc.c - capped YAML loading and checked accessors (see yamldoc.h).
 *
 * Loading runs libyaml twice over the (small, capped) text: first the event
 * parser, to reject deep nesting and multiple documents before anything is
 * built, then the document loader, whose nodes keep their start marks so
 * every later error can name file, line and column.  Aliases are resolved
 * by the loader to shared nodes (no expansion), and every list the schema
 * reads has its own cap, so "billion laughs" documents stay cheap.
 *
 * Rejected: libcyaml (a schema library whose errors do not carry the marks
 * we want and which is not packaged everywhere we build), and building our
 * own tree from events (the document API already keeps the marks).
 */
#include "config/yamldoc.h"

#include "parsers/suggest.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int yamldoc_read_file(const char *path, char **ret_data, size_t *ret_len, char *err,
                      size_t err_size)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		(void)snprintf(err, err_size, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	buf = malloc(YAMLDOC_MAX_BYTES + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, YAMLDOC_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			r = -errno;
			(void)snprintf(err, err_size, "%s: cannot read: %s", path, strerror(-r));
			goto out;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
		if (len > YAMLDOC_MAX_BYTES) {
			r = -EFBIG;
			(void)snprintf(err, err_size, "%s: larger than %u bytes", path,
			               YAMLDOC_MAX_BYTES);
			goto out;
		}
	}
	buf[len] = '\0';
	*ret_data = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	(void)close(fd);
	return r;
}

static int parser_fail(struct yamldoc *d, const yaml_parser_t *p)
{
	const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;

	if (p->error == YAML_MEMORY_ERROR) {
		(void)snprintf(d->err, d->err_size, "%s: out of memory", d->name);
		return -ENOMEM;
	}
	(void)snprintf(d->err, d->err_size, "%s:%zu:%zu: YAML syntax error: %s%s%s", d->name,
	               m->line + 1, m->column + 1, p->problem ? p->problem : "unknown problem",
	               p->context ? " " : "", p->context ? p->context : "");
	return -EINVAL;
}

/* First pass: events only, to bound nesting and count documents. */
static int prescan(struct yamldoc *d, const char *data, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	unsigned depth = 0, docs = 0;
	int r = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p)) {
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			r = parser_fail(d, &p);
			break;
		}
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > YAMLDOC_MAX_DEPTH) {
				(void)snprintf(d->err, d->err_size,
				               "%s:%zu:%zu: nesting deeper than %u levels", d->name,
				               ev.start_mark.line + 1, ev.start_mark.column + 1,
				               YAMLDOC_MAX_DEPTH);
				r = -EINVAL;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				(void)snprintf(d->err, d->err_size,
				               "%s:%zu:%zu: only one YAML document is allowed",
				               d->name, ev.start_mark.line + 1,
				               ev.start_mark.column + 1);
				r = -EINVAL;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return r;
}

int yamldoc_load(struct yamldoc *d, const char *name, const char *data, size_t len, char *err,
                 size_t err_size)
{
	yaml_parser_t p;
	int r;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->err = err;
	d->err_size = err_size;
	if (len > YAMLDOC_MAX_BYTES) {
		(void)snprintf(err, err_size, "%s: larger than %u bytes", name, YAMLDOC_MAX_BYTES);
		return -EFBIG;
	}
	r = prescan(d, data, len);
	if (r < 0) {
		return r;
	}
	if (!yaml_parser_initialize(&p)) {
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &d->doc)) {
		r = parser_fail(d, &p);
		yaml_parser_delete(&p);
		return r;
	}
	yaml_parser_delete(&p);
	d->loaded = true;
	if (!yaml_document_get_root_node(&d->doc) || yamldoc_is_null(yamldoc_root(d))) {
		(void)snprintf(err, err_size, "%s:1:1: the file is empty", name);
		return -EINVAL;
	}
	return 0;
}

void yamldoc_finish(struct yamldoc *d)
{
	if (d && d->loaded) {
		yaml_document_delete(&d->doc);
		d->loaded = false;
	}
}

yaml_node_t *yamldoc_root(struct yamldoc *d)
{
	return yaml_document_get_root_node(&d->doc);
}

yaml_node_t *yamldoc_node(struct yamldoc *d, int id)
{
	return yaml_document_get_node(&d->doc, id);
}

int yamldoc_fail(struct yamldoc *d, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key && *key) {
		(void)snprintf(d->err, d->err_size, "%s:%zu:%zu: key '%s': %s", d->name,
		               n->start_mark.line + 1, n->start_mark.column + 1, key, msg);
	} else {
		(void)snprintf(d->err, d->err_size, "%s:%zu:%zu: %s", d->name,
		               n->start_mark.line + 1, n->start_mark.column + 1, msg);
	}
	return -EINVAL;
}

void yamldoc_path_key(char *buf, size_t size, const char *parent, const char *key)
{
	(void)snprintf(buf, size, "%s%s%s", parent, *parent ? "." : "", key);
}

void yamldoc_path_index(char *buf, size_t size, const char *parent, size_t index)
{
	(void)snprintf(buf, size, "%s[%zu]", parent, index);
}

bool yamldoc_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		return false;
	}
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		if (strcmp((const char *)n->data.scalar.value, nulls[i]) == 0) {
			return true;
		}
	}
	return false;
}

static const char *type_name(const yaml_node_t *n)
{
	if (yamldoc_is_null(n)) {
		return "nothing";
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "an empty node";
	}
}

int yamldoc_map(struct yamldoc *d, yaml_node_t *n, const char *path, const char *const *keys,
                size_t n_keys, yaml_node_t **ret_vals)
{
	char kp[YAMLDOC_PATH_MAX];

	for (size_t i = 0; i < n_keys; i++) {
		ret_vals[i] = NULL;
	}
	if (yamldoc_is_null(n)) {
		return 0;
	}
	if (n->type != YAML_MAPPING_NODE) {
		return yamldoc_fail(d, n, path, "expected a mapping, got %s", type_name(n));
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yamldoc_node(d, p->key);
		yaml_node_t *v = yamldoc_node(d, p->value);
		const char *ks;
		size_t i;

		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			return yamldoc_fail(d, k ? k : n, path, "mapping keys must be strings");
		}
		ks = (const char *)k->data.scalar.value;
		yamldoc_path_key(kp, sizeof(kp), path, ks);
		for (i = 0; i < n_keys && strcmp(ks, keys[i]) != 0; i++) {
		}
		if (i == n_keys) {
			const char *near = suggest_nearest(ks, keys, n_keys);
			return yamldoc_fail(d, k, kp, "unknown key%s%s%s",
			                    near ? " (did you mean '" : "", near ? near : "",
			                    near ? "'?)" : "");
		}
		if (ret_vals[i]) {
			return yamldoc_fail(d, k, kp, "duplicate key");
		}
		ret_vals[i] = v;
	}
	return 0;
}

int yamldoc_seq(struct yamldoc *d, yaml_node_t *n, const char *path, yaml_node_item_t **ret_items,
                size_t *ret_n)
{
	if (yamldoc_is_null(n)) {
		*ret_items = NULL;
		*ret_n = 0;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		return yamldoc_fail(d, n, path, "expected a list, got %s", type_name(n));
	}
	*ret_items = n->data.sequence.items.start;
	*ret_n = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	return 0;
}

int yamldoc_string(struct yamldoc *d, yaml_node_t *n, const char *path, const char **ret_value)
{
	if (n->type != YAML_SCALAR_NODE || yamldoc_is_null(n)) {
		return yamldoc_fail(d, n, path, "expected a string, got %s", type_name(n));
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		return yamldoc_fail(d, n, path, "contains a NUL character");
	}
	*ret_value = (const char *)n->data.scalar.value;
	return 0;
}

static bool is_plain_scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       !yamldoc_is_null(n);
}

int yamldoc_number(struct yamldoc *d, yaml_node_t *n, const char *path, double *ret_value)
{
	const char *s = (const char *)n->data.scalar.value;
	char *end = NULL;
	double v;

	if (!is_plain_scalar(n)) {
		return yamldoc_fail(d, n, path, "expected a number, got %s",
		                    n->type == YAML_SCALAR_NODE && !yamldoc_is_null(n)
		                        ? "a quoted string"
		                        : type_name(n));
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) {
		return yamldoc_fail(d, n, path, "'%s' is not a finite number", s);
	}
	*ret_value = v;
	return 0;
}

int yamldoc_uint(struct yamldoc *d, yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
                 uint64_t *ret_value)
{
	const char *s = (const char *)n->data.scalar.value;
	uint64_t v = 0;

	if (!is_plain_scalar(n)) {
		return yamldoc_fail(d, n, path, "expected an integer, got %s",
		                    n->type == YAML_SCALAR_NODE && !yamldoc_is_null(n)
		                        ? "a quoted string"
		                        : type_name(n));
	}
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9') {
			return yamldoc_fail(d, n, path, "'%s' is not a non-negative integer", s);
		}
		if (v > (UINT64_MAX - 9) / 10) {
			return yamldoc_fail(d, n, path, "'%s' is too large", s);
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max) {
		return yamldoc_fail(d, n, path, "%s is out of range [%llu, %llu]", s,
		                    (unsigned long long)min, (unsigned long long)max);
	}
	*ret_value = v;
	return 0;
}

int yamldoc_bool(struct yamldoc *d, yaml_node_t *n, const char *path, bool *ret_value)
{
	const char *s = (const char *)n->data.scalar.value;

	if (is_plain_scalar(n) && strcmp(s, "true") == 0) {
		*ret_value = true;
		return 0;
	}
	if (is_plain_scalar(n) && strcmp(s, "false") == 0) {
		*ret_value = false;
		return 0;
	}
	return yamldoc_fail(d, n, path, "expected true or false");
}
