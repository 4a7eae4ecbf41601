/*
 * config_yaml.c - the YAML configuration schema (see config_yaml.h).
 *
 * The document is loaded by yamldoc (capped size and depth, marks kept),
 * then walked section by section: each mapping's keys come from a table
 * (yamldoc_map rejects unknown and duplicate keys), and each value goes
 * through a checked accessor, so every error names FILE:LINE:COLUMN and
 * the full key path.  Validation is complete here: a config that loads
 * can be started without any later "bad format" surprise, which is what
 * makes --config.check and reload-with-rollback trustworthy.  Formats are
 * compiled with logparse_create and field-label patterns with pcre2, and
 * the compiled objects are thrown away (the exporter compiles its own).
 *
 * Rejected: a permissive reader that ignores unknown keys (typos would
 * silently fall back to defaults), and deferring format compilation to
 * source start-up (errors would lose their line and column).
 */
#include "config/config_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "config/inputspec.h"
#include "config/yamldoc.h"
#include "parsers/logparse.h"
#include "parsers/suggest.h"

#define DIR_MAX 4096

struct reader {
	struct yamldoc d;
	struct config *c;
	char dir[DIR_MAX]; /* directory of the file, "" for none */
	/* the source being read: its format, to check the fields it names */
	const char *src_name;
	enum logparse_kind src_kind;
	const char *src_text;
};

static int fail_oom(struct reader *r)
{
	(void)snprintf(r->d.err, r->d.err_size, "%s: out of memory", r->d.name);
	return -ENOMEM;
}

/* Set *field to value, relative to the config file's directory when it is
 * a relative path and resolve is set. */
static int set_path(struct reader *r, yaml_node_t *n, const char *key, char **field,
                    const char *value, bool resolve)
{
	char buf[DIR_MAX * 2];
	int len;

	if (!resolve || value[0] == '/' || !r->dir[0]) {
		return config_set_string(field, value) < 0 ? fail_oom(r) : 0;
	}
	len = snprintf(buf, sizeof(buf), "%s/%s", r->dir, value);
	if (len < 0 || (size_t)len >= sizeof(buf)) {
		return yamldoc_fail(&r->d, n, key, "path too long");
	}
	return config_set_string(field, buf) < 0 ? fail_oom(r) : 0;
}

static int name_in(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(name, names[i]) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* ---- global ---------------------------------------------------------------- */

enum { G_LISTEN, G_TELEMETRY, G_STATE, G_LEVEL, G_LOGFMT, G_WEB, G_CATCHUP, G_COUNT };
static const char *const global_keys[G_COUNT] = {
    "listen_address",  "telemetry_path",           "state_file", "log_level", "log_format",
    "web_config_file", "state_catch_up_max_bytes",
};
static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const logfmt_names[] = {"logfmt", "json"};

static int read_global(struct reader *r, yaml_node_t *n)
{
	yaml_node_t *v[G_COUNT];
	char kp[YAMLDOC_PATH_MAX], why[512];
	struct config_listen listen;
	const char *s;
	int e;

	e = yamldoc_map(&r->d, n, "global", global_keys, G_COUNT, v);
	for (size_t i = 0; e == 0 && i < G_COUNT; i++) {
		bool optional = i == G_STATE || i == G_WEB;
		if (!v[i] || (optional && yamldoc_is_null(v[i]))) {
			continue;
		}
		yamldoc_path_key(kp, sizeof(kp), "global", global_keys[i]);
		e = yamldoc_string(&r->d, v[i], kp, &s);
		if (e < 0) {
			break;
		}
		switch (i) {
		case G_LISTEN:
			if (config_parse_listen_address(s, &listen, why, sizeof(why)) < 0) {
				return yamldoc_fail(&r->d, v[i], kp, "%s", why);
			}
			e = set_path(r, v[i], kp, &r->c->listen_address, s, false);
			break;
		case G_TELEMETRY:
			if (config_check_telemetry_path(s, why, sizeof(why)) < 0) {
				return yamldoc_fail(&r->d, v[i], kp, "%s", why);
			}
			e = set_path(r, v[i], kp, &r->c->telemetry_path, s, false);
			break;
		case G_STATE:
			e = set_path(r, v[i], kp, &r->c->state_file, s, true);
			break;
		case G_LEVEL:
			if (name_in(s, level_names, 4) < 0) {
				return yamldoc_fail(&r->d, v[i], kp,
				                    "unknown level '%s' (debug, info, warn, error)",
				                    s);
			}
			e = set_path(r, v[i], kp, &r->c->log_level, s, false);
			break;
		case G_LOGFMT:
			if (name_in(s, logfmt_names, 2) < 0) {
				return yamldoc_fail(&r->d, v[i], kp,
				                    "unknown log format '%s' (logfmt, json)", s);
			}
			e = set_path(r, v[i], kp, &r->c->log_format, s, false);
			break;
		case G_WEB:
			e = set_path(r, v[i], kp, &r->c->web_config_file, s, true);
			break;
		case G_CATCHUP:
			if (config_parse_size(s, &r->c->catchup_max_bytes) < 0) {
				return yamldoc_fail(&r->d, v[i], kp,
				                    "'%s' is not a size (e.g. 4GiB, 500MB, 0)", s);
			}
			break;
		default:
			break;
		}
	}
	return e;
}

/* ---- metrics --------------------------------------------------------------- */

enum {
	M_REQ,
	M_UP,
	M_STATUS,
	M_LIMIT,
	M_HIST,
	M_HOLD,
	M_CREATED,
	M_NATIVE,
	M_EX,
	M_OPT, /* the optional histograms' buckets, in enum config_opt_hist order */
	M_COUNT = M_OPT + CONFIG_OPT_HISTS
};
static const char *const metrics_keys[M_COUNT] = {
    "request_duration_buckets",
    "upstream_duration_buckets",
    "status_labels",
    "series_limit",
    "histograms",
    "new_series_hold",
    "created_timestamps",
    "native_histograms",
    "exemplars",
    [M_OPT + CONFIG_HIST_REQUEST_SIZE] = "request_size_buckets",
    [M_OPT + CONFIG_HIST_RESPONSE_SIZE] = "response_size_buckets",
    [M_OPT + CONFIG_HIST_UPSTREAM_CONNECT] = "upstream_connect_duration_buckets",
    [M_OPT + CONFIG_HIST_UPSTREAM_HEADER] = "upstream_header_duration_buckets",
};

enum { N_ENABLED, N_SCHEMA, N_FACTOR, N_MAX_BUCKETS, N_ZERO, N_COUNT };
static const char *const native_keys[N_COUNT] = {
    "enabled", "schema", "bucket_factor", "max_buckets", "zero_threshold",
};

/* metrics.native_histograms: a map (enabled, schema or bucket_factor,
 * max_buckets, zero_threshold) or just a boolean. */
static int read_native(struct reader *r, yaml_node_t *n)
{
	const char *path = "metrics.native_histograms";
	struct config *c = r->c;
	yaml_node_t *v[N_COUNT];
	uint64_t u;
	double d;
	int e;

	if (n->type == YAML_SCALAR_NODE) {
		return yamldoc_bool(&r->d, n, path, &c->native_histograms);
	}
	e = yamldoc_map(&r->d, n, path, native_keys, N_COUNT, v);
	c->native_histograms = e == 0; /* a map turns them on unless enabled: false */
	if (e == 0 && v[N_ENABLED]) {
		e = yamldoc_bool(&r->d, v[N_ENABLED], "metrics.native_histograms.enabled",
		                 &c->native_histograms);
	}
	if (e == 0 && v[N_SCHEMA] && v[N_FACTOR]) {
		return yamldoc_fail(&r->d, v[N_FACTOR], "metrics.native_histograms.bucket_factor",
		                    "give schema or bucket_factor, not both");
	}
	if (e == 0 && v[N_SCHEMA]) {
		e = yamldoc_number(&r->d, v[N_SCHEMA], "metrics.native_histograms.schema", &d);
		if (e == 0 && !(d >= CONFIG_NATIVE_MIN_SCHEMA && d <= CONFIG_NATIVE_MAX_SCHEMA &&
		                d == (double)(int)d)) {
			return yamldoc_fail(&r->d, v[N_SCHEMA], "metrics.native_histograms.schema",
			                    "must be an integer from %d to %d",
			                    CONFIG_NATIVE_MIN_SCHEMA, CONFIG_NATIVE_MAX_SCHEMA);
		}
		c->native_schema = e == 0 ? (int)d : c->native_schema;
	}
	if (e == 0 && v[N_FACTOR]) {
		e = yamldoc_number(&r->d, v[N_FACTOR], "metrics.native_histograms.bucket_factor",
		                   &d);
		if (e == 0 && config_native_schema_for_factor(d, &c->native_schema) < 0) {
			return yamldoc_fail(&r->d, v[N_FACTOR],
			                    "metrics.native_histograms.bucket_factor",
			                    "must be a number above 1 (e.g. 1.1)");
		}
	}
	if (e == 0 && v[N_MAX_BUCKETS]) {
		e = yamldoc_uint(&r->d, v[N_MAX_BUCKETS], "metrics.native_histograms.max_buckets",
		                 CONFIG_NATIVE_MIN_BUCKETS, CONFIG_NATIVE_MAX_BUCKETS, &u);
		c->native_max_buckets = e == 0 ? (unsigned)u : c->native_max_buckets;
	}
	if (e == 0 && v[N_ZERO]) {
		e = yamldoc_number(&r->d, v[N_ZERO], "metrics.native_histograms.zero_threshold",
		                   &d);
		/* Prometheus 2.42 tells a native histogram by a threshold above 0. */
		if (e == 0 && !(d > 0.0 && d <= 1.0)) {
			return yamldoc_fail(&r->d, v[N_ZERO],
			                    "metrics.native_histograms.zero_threshold",
			                    "must be above 0 and at most 1 (seconds)");
		}
		c->native_zero_threshold = e == 0 ? d : c->native_zero_threshold;
	}
	return e;
}

/* A bucket list: 1 to CONFIG_MAX_BUCKETS positive, strictly increasing
 * bounds; with may_be_empty also [] (the histogram is off). */
static int read_buckets(struct reader *r, yaml_node_t *n, const char *path, bool may_be_empty,
                        double *out, size_t *ret_n)
{
	yaml_node_item_t *items;
	size_t count;
	char kp[YAMLDOC_PATH_MAX];
	double tmp[CONFIG_MAX_BUCKETS];
	int e;

	e = yamldoc_seq(&r->d, n, path, &items, &count);
	if (e < 0) {
		return e;
	}
	if ((count == 0 && !may_be_empty) || count > CONFIG_MAX_BUCKETS) {
		return yamldoc_fail(&r->d, n, path, "needs %u to %u bucket bounds, got %zu",
		                    may_be_empty ? 0u : 1u, CONFIG_MAX_BUCKETS, count);
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *it = yamldoc_node(&r->d, items[i]);
		yamldoc_path_index(kp, sizeof(kp), path, i);
		e = yamldoc_number(&r->d, it, kp, &tmp[i]);
		if (e < 0) {
			return e;
		}
		if (tmp[i] <= 0) {
			return yamldoc_fail(&r->d, it, kp, "bucket bounds must be positive");
		}
		if (i > 0 && tmp[i] <= tmp[i - 1]) {
			return yamldoc_fail(&r->d, it, kp,
			                    "buckets must be strictly increasing (%g after %g)",
			                    tmp[i], tmp[i - 1]);
		}
	}
	memcpy(out, tmp, count * sizeof(double));
	*ret_n = count;
	return 0;
}

static int read_status_labels(struct reader *r, yaml_node_t *n)
{
	static const char *const names[] = {"code", "class", "reason"};
	const char *path = "metrics.status_labels";
	bool seen[3] = {false, false, false};
	yaml_node_item_t *items;
	size_t count;
	char kp[YAMLDOC_PATH_MAX];
	int e;

	e = yamldoc_seq(&r->d, n, path, &items, &count);
	for (size_t i = 0; e == 0 && i < count; i++) {
		yaml_node_t *it = yamldoc_node(&r->d, items[i]);
		const char *s;
		int k;
		yamldoc_path_index(kp, sizeof(kp), path, i);
		e = yamldoc_string(&r->d, it, kp, &s);
		if (e < 0) {
			return e;
		}
		k = name_in(s, names, 3);
		if (k < 0) {
			return yamldoc_fail(&r->d, it, kp,
			                    "unknown status label '%s' (code, class, reason)", s);
		}
		if (seen[k]) {
			return yamldoc_fail(&r->d, it, kp, "'%s' listed twice", s);
		}
		seen[k] = true;
	}
	if (e == 0 && !seen[0]) {
		return yamldoc_fail(&r->d, n, path, "'code' is mandatory");
	}
	r->c->no_class_label = !seen[1];
	r->c->no_reason_label = !seen[2];
	return e;
}

static int read_hold(struct reader *r, yaml_node_t *n)
{
	const char *path = "metrics.new_series_hold", *text;
	int e = yamldoc_string(&r->d, n, path, &text);

	if (e < 0) {
		return e;
	}
	e = config_parse_duration(text, CONFIG_MAX_NEW_SERIES_HOLD_MS, &r->c->new_series_hold_ms);
	if (e == -ERANGE) {
		return yamldoc_fail(&r->d, n, path, "'%s' is longer than the maximum, 1h", text);
	}
	if (e < 0) {
		return yamldoc_fail(&r->d, n, path,
		                    "'%s' is not a duration (0, or like 30s, 1m, 1m30s, 500ms)",
		                    text);
	}
	return 0;
}

static int read_metrics(struct reader *r, yaml_node_t *n)
{
	yaml_node_t *v[M_COUNT];
	uint64_t limit;
	struct config *c = r->c;
	int e;

	e = yamldoc_map(&r->d, n, "metrics", metrics_keys, M_COUNT, v);
	if (e == 0 && v[M_REQ]) {
		e = read_buckets(r, v[M_REQ], "metrics.request_duration_buckets", false,
		                 c->request_buckets, &c->n_request_buckets);
	}
	if (e == 0 && v[M_UP]) {
		e = read_buckets(r, v[M_UP], "metrics.upstream_duration_buckets", false,
		                 c->upstream_buckets, &c->n_upstream_buckets);
	}
	for (unsigned h = 0; e == 0 && h < CONFIG_OPT_HISTS; h++) {
		char path[64];
		if (!v[M_OPT + h]) {
			continue;
		}
		(void)snprintf(path, sizeof(path), "metrics.%s", metrics_keys[M_OPT + h]);
		e = read_buckets(r, v[M_OPT + h], path, true, c->opt_buckets[h],
		                 &c->n_opt_buckets[h]);
	}
	if (e == 0 && v[M_STATUS]) {
		e = read_status_labels(r, v[M_STATUS]);
	}
	if (e == 0 && v[M_HIST]) {
		bool on;
		e = yamldoc_bool(&r->d, v[M_HIST], "metrics.histograms", &on);
		if (e == 0) {
			c->no_histograms = !on;
		}
	}
	if (e == 0 && v[M_HOLD]) {
		e = read_hold(r, v[M_HOLD]);
	}
	if (e == 0 && v[M_NATIVE]) {
		e = read_native(r, v[M_NATIVE]);
	}
	if (e == 0 && v[M_EX]) {
		bool on;
		e = yamldoc_bool(&r->d, v[M_EX], "metrics.exemplars", &on);
		c->no_exemplars = e == 0 ? !on : c->no_exemplars;
	}
	if (e == 0 && v[M_CREATED]) {
		e = yamldoc_bool(&r->d, v[M_CREATED], "metrics.created_timestamps",
		                 &c->created_timestamps);
	}
	if (e == 0 && v[M_LIMIT]) {
		e = yamldoc_uint(&r->d, v[M_LIMIT], "metrics.series_limit", 1,
		                 CONFIG_YAML_MAX_SERIES_LIMIT, &limit);
		if (e == 0) {
			c->series_limit = (size_t)limit;
		}
	}
	return e;
}

/* ---- sources --------------------------------------------------------------- */

enum {
	S_NAME,
	S_FORMAT,
	S_LOG_FORMAT,
	S_PATHS,
	S_LABELS,
	S_FIELD_LABELS,
	S_LISTEN,
	S_SYSLOG_TAG,
	S_FILTERS,
	S_PATH_LABELS,
	S_CONTAINER,
	S_CONTAINER_STREAM,
	S_SYSLOG_IDLE,
	S_SERIES_IDLE,
	S_COUNT
};
static const char *const source_keys[S_COUNT] = {
    "name",
    "format",
    "log_format",
    "paths",
    "labels",
    "field_labels",
    "listen",
    "syslog_tag",
    "filters",
    "path_labels",
    "container",
    "container_stream",
    "syslog_idle_timeout",
    "series_idle_timeout",
};

enum { X_ACTION, X_FIELD, X_MATCH, X_COUNT };
static const char *const filter_keys[X_COUNT] = {"action", "field", "match"};

enum { F_NAME, F_FIELD, F_MATCH, F_REPLACEMENT, F_RULES, F_DEFAULT, F_COUNT };
static const char *const field_label_keys[F_COUNT] = {"name",        "field", "match",
                                                      "replacement", "rules", "default"};

enum { R_MATCH, R_REPLACEMENT, R_COUNT };
static const char *const rule_keys[R_COUNT] = {"match", "replacement"};

static bool label_taken(const struct config_source *s, const char *name)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		if (strcmp(s->labels[i].name, name) == 0) {
			return true;
		}
	}
	for (size_t i = 0; i < s->n_field_labels; i++) {
		if (strcmp(s->field_labels[i].name, name) == 0) {
			return true;
		}
	}
	return false;
}

static int check_label_name(struct reader *r, yaml_node_t *n, const char *kp,
                            const struct config_source *s, const char *name, bool for_field_label)
{
	char why[256];

	if (config_check_label_name(name, for_field_label, why, sizeof(why)) < 0) {
		return yamldoc_fail(&r->d, n, kp, "%s", why);
	}
	if (label_taken(s, name)) {
		return yamldoc_fail(&r->d, n, kp, "label '%s' defined twice", name);
	}
	return 0;
}

/* paths: (files, globs, "-") or listen: (syslog addresses, listen true). */
static int read_paths(struct reader *r, yaml_node_t *n, const char *path, struct config_source *s,
                      bool listen)
{
	yaml_node_item_t *items;
	size_t count;
	char kp[YAMLDOC_PATH_MAX], why[384];
	int e;

	e = yamldoc_seq(&r->d, n, path, &items, &count);
	if (e < 0) {
		return e;
	}
	if (count == 0 || count > CONFIG_MAX_PATHS - s->n_paths) {
		return yamldoc_fail(&r->d, n, path, "needs 1 to %zu %s, got %zu",
		                    CONFIG_MAX_PATHS - s->n_paths, listen ? "addresses" : "paths",
		                    count);
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *it = yamldoc_node(&r->d, items[i]);
		const char *p;
		char *resolved = NULL;
		yamldoc_path_index(kp, sizeof(kp), path, i);
		e = yamldoc_string(&r->d, it, kp, &p);
		if (e == 0 && !p[0]) {
			e = yamldoc_fail(&r->d, it, kp, "empty path");
		}
		struct inputspec spec = {.kind = INPUTSPEC_FILE};
		if (e == 0 && inputspec_parse(p, &spec, why, sizeof(why)) < 0) {
			e = yamldoc_fail(&r->d, it, kp, "%s", why);
		}
		if (e == 0 && listen != inputspec_is_syslog(spec.kind)) {
			e = yamldoc_fail(&r->d, it, kp,
			                 listen ? "'%s' is not udp://HOST:PORT, tcp://HOST:PORT or "
			                          "unixgram:///PATH"
			                        : "'%s' is a syslog address: put it under listen:",
			                 p);
		}
		if (e == 0 && spec.kind != INPUTSPEC_FILE) {
			resolved = strdup(p); /* not a path relative to the config file */
			e = resolved ? 0 : fail_oom(r);
		} else if (e == 0) {
			e = set_path(r, it, kp, &resolved, p, true);
		}
		if (e == 0 && config_source_add_path(s, resolved) < 0) {
			e = fail_oom(r);
		}
		free(resolved);
		if (e < 0) {
			return e;
		}
	}
	return 0;
}

static bool has_listener(const struct config_source *s)
{
	for (size_t i = 0; i < s->n_paths; i++) {
		struct inputspec spec;
		char why[256];
		if (inputspec_parse(s->paths[i], &spec, why, sizeof(why)) == 0 &&
		    inputspec_is_syslog(spec.kind)) {
			return true;
		}
	}
	return false;
}

static int read_syslog_tag(struct reader *r, yaml_node_t *n, const char *path,
                           struct config_source *s)
{
	const char *tag;
	int e = yamldoc_string(&r->d, n, path, &tag);

	if (e < 0) {
		return e;
	}
	if (!tag[0] || strpbrk(tag, " :[")) {
		return yamldoc_fail(&r->d, n, path,
		                    "'%s' is not a syslog tag (no space, ':' or '[')", tag);
	}
	if (!has_listener(s)) {
		return yamldoc_fail(&r->d, n, path,
		                    "needs a listen: entry (the tag filters syslog messages)");
	}
	return config_set_string(&s->syslog_tag, tag) < 0 ? fail_oom(r) : 0;
}

static int read_syslog_idle(struct reader *r, yaml_node_t *n, const char *path,
                            struct config_source *s)
{
	const char *text;
	int e = yamldoc_string(&r->d, n, path, &text);

	if (e < 0) {
		return e;
	}
	e = config_parse_duration(text, CONFIG_MAX_SYSLOG_IDLE_MS, &s->syslog_idle_ms);
	if (e == -ERANGE) {
		return yamldoc_fail(&r->d, n, path, "'%s' is longer than the maximum, 24h", text);
	}
	if (e < 0) {
		return yamldoc_fail(&r->d, n, path,
		                    "'%s' is not a duration (0 for never, or like 10m, 1h30m)",
		                    text);
	}
	if (!has_listener(s)) {
		return yamldoc_fail(&r->d, n, path,
		                    "needs a listen: entry (the timeout closes idle TCP syslog "
		                    "connections)");
	}
	s->syslog_idle_set = true;
	return 0;
}

/* series_idle_timeout: a duration from 1s, on a source with field labels
 * (read after field_labels and path_labels). */
static int read_series_idle(struct reader *r, yaml_node_t *n, const char *path,
                            struct config_source *s)
{
	const char *text;
	int e = yamldoc_string(&r->d, n, path, &text);

	if (e < 0) {
		return e;
	}
	e = config_parse_duration(text, CONFIG_MAX_SERIES_IDLE_MS, &s->series_idle_ms);
	if (e == -ERANGE) {
		return yamldoc_fail(&r->d, n, path, "'%s' is longer than the maximum, 365d", text);
	}
	if (e < 0 || (s->series_idle_ms && s->series_idle_ms < CONFIG_MIN_SERIES_IDLE_MS)) {
		return yamldoc_fail(&r->d, n, path,
		                    "'%s' is not a duration of 1s or more (0 for never, or like "
		                    "30m, 2h, 7d)",
		                    text);
	}
	if (s->series_idle_ms && s->n_field_labels == 0) {
		return yamldoc_fail(&r->d, n, path,
		                    "needs field_labels or path_labels (only field-label series "
		                    "are removed)");
	}
	s->series_idle_set = true;
	return 0;
}

static int read_labels(struct reader *r, yaml_node_t *n, const char *path, struct config_source *s)
{
	char kp[YAMLDOC_PATH_MAX], why[256];
	size_t count;

	if (yamldoc_is_null(n)) {
		return 0;
	}
	if (n->type != YAML_MAPPING_NODE) {
		return yamldoc_fail(&r->d, n, path, "expected a mapping of label names to values");
	}
	count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (count > CONFIG_MAX_STATIC_LABELS) {
		return yamldoc_fail(&r->d, n, path, "at most %u labels, got %zu",
		                    CONFIG_MAX_STATIC_LABELS, count);
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yamldoc_node(&r->d, p->key);
		yaml_node_t *v = yamldoc_node(&r->d, p->value);
		const char *name, *value;
		int e = yamldoc_string(&r->d, k, path, &name);
		if (e < 0) {
			return e;
		}
		yamldoc_path_key(kp, sizeof(kp), path, name);
		e = check_label_name(r, k, kp, s, name, false);
		if (e == 0) {
			e = yamldoc_string(&r->d, v, kp, &value);
		}
		if (e == 0 && config_check_label_value(value, why, sizeof(why)) < 0) {
			e = yamldoc_fail(&r->d, v, kp, "label value %s", why);
		}
		if (e < 0) {
			return e;
		}
		if (config_source_add_label(s, name, value) < 0) {
			return fail_oom(r);
		}
	}
	return 0;
}

/* Compile a match pattern; check that $N references in replacement exist. */
static int check_match(struct reader *r, yaml_node_t *mn, yaml_node_t *rn, const char *path,
                       const char *match, const char *replacement)
{
	char kp[YAMLDOC_PATH_MAX];
	int code;
	PCRE2_SIZE off;
	uint32_t groups = 0;
	/* The very options exporter/metrics/series.c compiles with (bytes, anchored at
	 * both ends), so a pattern that passes here cannot fail at start. */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)match, PCRE2_ZERO_TERMINATED,
	                               PCRE2_ANCHORED | PCRE2_ENDANCHORED, &code, &off, NULL);

	if (!re) {
		PCRE2_UCHAR msg[256];
		(void)pcre2_get_error_message(code, msg, sizeof(msg));
		yamldoc_path_key(kp, sizeof(kp), path, "match");
		return yamldoc_fail(&r->d, mn, kp, "bad pattern at offset %zu: %s", (size_t)off,
		                    (const char *)msg);
	}
	(void)pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
	pcre2_code_free(re);
	for (const char *p = replacement; p && *p; p++) {
		if (p[0] == '$' && p[1] >= '0' && p[1] <= '9' && (uint32_t)(p[1] - '0') > groups) {
			yamldoc_path_key(kp, sizeof(kp), path, "replacement");
			return yamldoc_fail(&r->d, rn, kp,
			                    "'$%c' but the pattern has %u capture group(s)", p[1],
			                    groups);
		}
	}
	return 0;
}

/* One entry of a field label's rules: {match, replacement}, checked as
 * the exporter compiles it, appended to f. */
static int read_rule(struct reader *r, yaml_node_t *n, const char *path,
                     struct config_field_label *f)
{
	yaml_node_t *v[R_COUNT];
	const char *str[R_COUNT] = {NULL, NULL};
	char kp[YAMLDOC_PATH_MAX];
	int e;

	e = yamldoc_map(&r->d, n, path, rule_keys, R_COUNT, v);
	if (e == 0 && n->type != YAML_MAPPING_NODE) {
		return yamldoc_fail(&r->d, n, path,
		                    "expected a mapping with match and replacement");
	}
	for (size_t i = 0; e == 0 && i < R_COUNT; i++) {
		yamldoc_path_key(kp, sizeof(kp), path, rule_keys[i]);
		if (!v[i] && i == R_MATCH) {
			return yamldoc_fail(&r->d, n, kp, "missing (required)");
		}
		if (v[i]) {
			e = yamldoc_string(&r->d, v[i], kp, &str[i]);
		}
	}
	if (e == 0) {
		e = check_match(r, v[R_MATCH], v[R_REPLACEMENT], path, str[R_MATCH],
		                str[R_REPLACEMENT]);
	}
	if (e == 0 && config_field_label_add_rule(f, str[R_MATCH], str[R_REPLACEMENT]) < 0) {
		return fail_oom(r);
	}
	return e;
}

static int read_rules(struct reader *r, yaml_node_t *n, const char *path,
                      struct config_field_label *f)
{
	yaml_node_item_t *items;
	size_t count;
	char kp[YAMLDOC_PATH_MAX];
	int e;

	e = yamldoc_seq(&r->d, n, path, &items, &count);
	if (e == 0 && (count == 0 || count > CONFIG_MAX_RULES)) {
		return yamldoc_fail(&r->d, n, path, "needs 1 to %u rules, got %zu",
		                    CONFIG_MAX_RULES, count);
	}
	for (size_t i = 0; e == 0 && i < count; i++) {
		yamldoc_path_index(kp, sizeof(kp), path, i);
		e = read_rule(r, yamldoc_node(&r->d, items[i]), kp, f);
	}
	return e;
}

/* Whether the source's format has the field called name (an nginx
 * variable, an Apache specifier, a JSON key, a regex group): compiled with
 * name as its one capture, as the exporter will. */
static int format_has_field(struct reader *r, const char *name, bool *ret_has)
{
	const char *const want[1] = {name};
	struct logparse_opts o = {.capture = want, .n_capture = 1};
	struct log_parser *p = NULL;
	size_t index;
	int e = logparse_create_opts(r->src_kind, r->src_text, &o, &p, NULL);

	if (e == -ENOMEM) {
		return e;
	}
	*ret_has = e == 0 && logparse_extra_find(p, name, &index) == 0;
	logparse_destroy(p);
	return 0;
}

static const char *field_hint(enum logparse_kind kind)
{
	switch (kind) {
	case LOGPARSE_NGINX:
		return "a variable of the log_format, e.g. host or $ssl_protocol";
	case LOGPARSE_JSON:
		return "a JSON key";
	case LOGPARSE_REGEX:
		return "a named group of the regex";
	case LOGPARSE_PRESET:
		return "a field of the preset: a variable for main and ingress, a specifier such "
		       "as %{User-Agent}i for combined, common, vhost_combined";
	default:
		return "a specifier of the format, e.g. %v or %{User-Agent}i";
	}
}

/* The field a label or filter reads: a record field by name (vhost, path,
 * upstream_status), or any field the source's format captures, by the
 * name the format gives it ("host", "$ssl_protocol", "%{X-Forwarded-Proto}i",
 * a JSON key, a regex group): *ret_variable is then that name (without an
 * nginx '$'; borrowed from name). */
static int resolve_field(struct reader *r, yaml_node_t *n, const char *kp, const char *name,
                         enum config_field *ret_field, const char **ret_variable)
{
	const char *var = name[0] == '$' ? name + 1 : name;
	bool has = false;

	*ret_variable = NULL;
	if (name[0] != '$' && config_field_from_name(name, ret_field) == 0) {
		return 0;
	}
	for (const char *c = var; *c; c++) {
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			return yamldoc_fail(&r->d, n, kp,
			                    "field '%s' has a blank or control character", name);
		}
	}
	if (!var[0] || strlen(var) >= 64) {
		return yamldoc_fail(&r->d, n, kp, "field name must be 1 to 63 bytes");
	}
	if (format_has_field(r, var, &has) < 0) {
		return fail_oom(r);
	}
	if (!has) {
		return yamldoc_fail(&r->d, n, kp,
		                    "unknown field '%s': the log format of source '%s' does not "
		                    "capture it (vhost, path, upstream_status, or %s)",
		                    name, r->src_name, field_hint(r->src_kind));
	}
	*ret_field = CONFIG_FIELD_VARIABLE;
	*ret_variable = var;
	return 0;
}

/* match/replacement (one rule), rules (a list) and default: checked and
 * added to f. */
static int read_rewrite(struct reader *r, yaml_node_t **v, const char **str, const char *path,
                        struct config_field_label *f)
{
	char kp[YAMLDOC_PATH_MAX], why[256];
	int e = 0;

	if (str[F_MATCH] && v[F_RULES]) {
		yamldoc_path_key(kp, sizeof(kp), path, "rules");
		return yamldoc_fail(&r->d, v[F_RULES], kp,
		                    "not allowed with 'match' (put that rule in the list)");
	}
	if (str[F_REPLACEMENT] && !str[F_MATCH]) {
		yamldoc_path_key(kp, sizeof(kp), path, "replacement");
		return yamldoc_fail(&r->d, v[F_REPLACEMENT], kp, "needs 'match'");
	}
	if (v[F_DEFAULT] && !str[F_MATCH] && !v[F_RULES]) {
		yamldoc_path_key(kp, sizeof(kp), path, "default");
		return yamldoc_fail(&r->d, v[F_DEFAULT], kp, "needs 'match' or 'rules'");
	}
	if (str[F_MATCH]) {
		e = check_match(r, v[F_MATCH], v[F_REPLACEMENT], path, str[F_MATCH],
		                str[F_REPLACEMENT]);
		if (e == 0 &&
		    config_field_label_add_rule(f, str[F_MATCH], str[F_REPLACEMENT]) < 0) {
			return fail_oom(r);
		}
	}
	if (e == 0 && v[F_RULES]) {
		yamldoc_path_key(kp, sizeof(kp), path, "rules");
		e = read_rules(r, v[F_RULES], kp, f);
	}
	if (e == 0 && str[F_DEFAULT]) {
		yamldoc_path_key(kp, sizeof(kp), path, "default");
		if (config_check_label_value(str[F_DEFAULT], why, sizeof(why)) < 0) {
			return yamldoc_fail(&r->d, v[F_DEFAULT], kp, "label value %s", why);
		}
		if (config_field_label_set_default(f, str[F_DEFAULT]) < 0) {
			return fail_oom(r);
		}
	}
	return e;
}

static int read_field_label(struct reader *r, yaml_node_t *n, const char *path,
                            struct config_source *s)
{
	yaml_node_t *v[F_COUNT];
	const char *str[F_COUNT] = {NULL};
	char kp[YAMLDOC_PATH_MAX];
	struct config_field_label *f;
	int e;

	e = yamldoc_map(&r->d, n, path, field_label_keys, F_COUNT, v);
	if (e == 0 && n->type != YAML_MAPPING_NODE) {
		return yamldoc_fail(&r->d, n, path, "expected a mapping with name and field");
	}
	for (size_t i = 0; e == 0 && i < F_COUNT; i++) {
		yamldoc_path_key(kp, sizeof(kp), path, field_label_keys[i]);
		if (!v[i] && (i == F_NAME || i == F_FIELD)) {
			return yamldoc_fail(&r->d, n, kp, "missing (required)");
		}
		if (v[i] && i != F_RULES) {
			e = yamldoc_string(&r->d, v[i], kp, &str[i]);
		}
	}
	if (e < 0) {
		return e;
	}
	yamldoc_path_key(kp, sizeof(kp), path, "name");
	e = check_label_name(r, v[F_NAME], kp, s, str[F_NAME], true);
	if (e < 0) {
		return e;
	}
	if (config_source_add_field_label(s, str[F_NAME], CONFIG_FIELD_VHOST, NULL, NULL) < 0) {
		return fail_oom(r);
	}
	f = &s->field_labels[s->n_field_labels - 1];
	yamldoc_path_key(kp, sizeof(kp), path, "field");
	enum config_field field;
	const char *var;
	e = resolve_field(r, v[F_FIELD], kp, str[F_FIELD], &field, &var);
	f->field = field;
	if (e == 0 && var && config_field_label_set_variable(f, var, 0) < 0) {
		return fail_oom(r);
	}
	if (e == 0) {
		e = read_rewrite(r, v, str, path, f);
	}
	return e;
}

static int read_field_labels(struct reader *r, yaml_node_t *n, const char *path,
                             struct config_source *s)
{
	yaml_node_item_t *items;
	size_t count;
	char kp[YAMLDOC_PATH_MAX];
	int e;

	e = yamldoc_seq(&r->d, n, path, &items, &count);
	if (e == 0 && count > CONFIG_MAX_USER_FIELD_LABELS) {
		return yamldoc_fail(&r->d, n, path, "at most %u field labels, got %zu",
		                    CONFIG_MAX_USER_FIELD_LABELS, count);
	}
	for (size_t i = 0; e == 0 && i < count; i++) {
		yamldoc_path_index(kp, sizeof(kp), path, i);
		e = read_field_label(r, yamldoc_node(&r->d, items[i]), kp, s);
	}
	return e;
}

/* path_labels: a pcre2 pattern whose named groups (1 to
 * CONFIG_MAX_PATH_LABELS, in group order) become labels of every series of
 * a file's lines; compiled as the exporter compiles it. */
static int read_path_labels(struct reader *r, yaml_node_t *n, const char *path,
                            struct config_source *s)
{
	const char *re_text;
	int code;
	PCRE2_SIZE off;
	uint32_t count = 0, entry = 0;
	PCRE2_SPTR table;
	pcre2_code *re;
	const char *names[CONFIG_MAX_PATH_LABELS];
	uint32_t groups[CONFIG_MAX_PATH_LABELS];
	int e = yamldoc_string(&r->d, n, path, &re_text);

	if (e < 0) {
		return e;
	}
	re = pcre2_compile((PCRE2_SPTR)re_text, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		(void)pcre2_get_error_message(code, msg, sizeof(msg));
		return yamldoc_fail(&r->d, n, path, "bad pattern at offset %zu: %s", (size_t)off,
		                    (const char *)msg);
	}
	(void)pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
	(void)pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &entry);
	(void)pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
	if (count == 0 || count > CONFIG_MAX_PATH_LABELS) {
		pcre2_code_free(re);
		return yamldoc_fail(&r->d, n, path,
		                    "needs 1 to %u named groups (?<label>...), got %u",
		                    CONFIG_MAX_PATH_LABELS, count);
	}
	/* the name table is sorted by name: take the labels in group order */
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *en = table + (size_t)i * entry;
		uint32_t g = ((uint32_t)en[0] << 8) | en[1], k = i;
		while (k > 0 && groups[k - 1] > g) {
			groups[k] = groups[k - 1];
			names[k] = names[k - 1];
			k--;
		}
		groups[k] = g;
		names[k] = (const char *)en + 2;
	}
	for (uint32_t i = 0; e == 0 && i < count; i++) {
		e = check_label_name(r, n, path, s, names[i], true);
		if (e == 0 && (config_source_add_field_label(s, names[i], CONFIG_FIELD_PATH_LABEL,
		                                             NULL, NULL) < 0 ||
		               config_set_string(&s->field_labels[s->n_field_labels - 1].variable,
		                                 names[i]) < 0)) {
			e = fail_oom(r);
		}
		if (e == 0) {
			s->field_labels[s->n_field_labels - 1].variable_index = i;
		}
	}
	pcre2_code_free(re);
	if (e == 0 && config_set_string(&s->path_labels, re_text) < 0) {
		e = fail_oom(r);
	}
	return e;
}

/* One filter: {action: drop|keep, field: F, match: RE}. */
static int read_filter(struct reader *r, yaml_node_t *n, const char *path, struct config_source *s)
{
	static const char *const actions[] = {
	    [CONFIG_FILTER_DROP] = "drop", [CONFIG_FILTER_KEEP] = "keep"};
	yaml_node_t *v[X_COUNT];
	const char *str[X_COUNT] = {NULL};
	char kp[YAMLDOC_PATH_MAX];
	enum config_field field;
	const char *var;
	size_t action = 0;
	int e;

	e = yamldoc_map(&r->d, n, path, filter_keys, X_COUNT, v);
	if (e == 0 && n->type != YAML_MAPPING_NODE) {
		return yamldoc_fail(&r->d, n, path, "expected a mapping with action, field, match");
	}
	for (size_t i = 0; e == 0 && i < X_COUNT; i++) {
		yamldoc_path_key(kp, sizeof(kp), path, filter_keys[i]);
		if (!v[i]) {
			return yamldoc_fail(&r->d, n, kp, "missing (required)");
		}
		e = yamldoc_string(&r->d, v[i], kp, &str[i]);
	}
	if (e < 0) {
		return e;
	}
	while (action < 2 && strcmp(actions[action], str[X_ACTION]) != 0) {
		action++;
	}
	if (action == 2) {
		yamldoc_path_key(kp, sizeof(kp), path, "action");
		return yamldoc_fail(&r->d, v[X_ACTION], kp, "unknown action '%s' (drop, keep)",
		                    str[X_ACTION]);
	}
	yamldoc_path_key(kp, sizeof(kp), path, "field");
	e = resolve_field(r, v[X_FIELD], kp, str[X_FIELD], &field, &var);
	if (e == 0) {
		e = check_match(r, v[X_MATCH], NULL, path, str[X_MATCH], NULL);
	}
	if (e == 0 && config_source_add_filter(s, (enum config_filter_action)action, field, var,
	                                       str[X_MATCH]) < 0) {
		return fail_oom(r);
	}
	return e;
}

static int read_filters(struct reader *r, yaml_node_t *n, const char *path, struct config_source *s)
{
	yaml_node_item_t *items;
	size_t count;
	char kp[YAMLDOC_PATH_MAX];
	int e;

	if (yamldoc_is_null(n)) {
		return 0;
	}
	e = yamldoc_seq(&r->d, n, path, &items, &count);
	if (e == 0 && count > CONFIG_MAX_FILTERS) {
		return yamldoc_fail(&r->d, n, path, "at most %u filters, got %zu",
		                    CONFIG_MAX_FILTERS, count);
	}
	for (size_t i = 0; e == 0 && i < count; i++) {
		yamldoc_path_index(kp, sizeof(kp), path, i);
		e = read_filter(r, yamldoc_node(&r->d, items[i]), kp, s);
	}
	return e;
}

/* The format with every field the labels and filters read as captures
 * still compiles (capture groups and the pattern have caps). */
static int check_captures(struct reader *r, yaml_node_t *at, const char *path,
                          struct config_source *s)
{
	const char *names[CONFIG_MAX_CAPTURES];
	struct logparse_error perr = {.message = {0}};
	struct log_parser *p = NULL;
	int n = config_source_index_captures(s) < 0
	            ? -E2BIG
	            : config_source_captures(s, names, CONFIG_MAX_CAPTURES);
	int e;

	if (n < 0) {
		return yamldoc_fail(&r->d, at, path,
		                    "field labels and filters read more than %d distinct fields",
		                    CONFIG_MAX_CAPTURES);
	}
	if (n == 0) {
		return 0;
	}
	struct logparse_opts o = {.capture = names, .n_capture = (size_t)n};
	e = logparse_create_opts(s->kind, s->format, &o, &p, &perr);
	logparse_destroy(p);
	if (e == -ENOMEM) {
		return fail_oom(r);
	}
	if (e < 0) {
		return yamldoc_fail(&r->d, at, path,
		                    "the log format cannot capture every field the labels and "
		                    "filters read: %s",
		                    perr.message);
	}
	return 0;
}

/* Check format/log_format and compile them; *ret_text is what the source
 * keeps (preset name or the format text). */
static int read_format(struct reader *r, yaml_node_t **v, const char *path,
                       enum logparse_kind *ret_kind, const char **ret_text,
                       struct log_parser **ret_parser)
{
	char kp[YAMLDOC_PATH_MAX], lkp[YAMLDOC_PATH_MAX];
	const char *fmt, *text = NULL;
	enum logparse_kind kind;
	struct logparse_error perr;
	struct log_parser *p = NULL;
	int e;

	yamldoc_path_key(kp, sizeof(kp), path, "format");
	yamldoc_path_key(lkp, sizeof(lkp), path, "log_format");
	e = yamldoc_string(&r->d, v[S_FORMAT], kp, &fmt);
	if (e < 0) {
		return e;
	}
	if (logparse_kind_from_name(fmt, &kind) < 0) {
		static const char *const formats[] = {"combined", "common",  "vhost_combined",
		                                      "main",     "ingress", "nginx",
		                                      "apache",   "json",    "regex"};
		const char *near =
		    suggest_nearest(fmt, formats, sizeof(formats) / sizeof(formats[0]));
		return yamldoc_fail(&r->d, v[S_FORMAT], kp,
		                    "unknown format '%s'%s%s%s (combined, common, vhost_combined, "
		                    "main, ingress, nginx, apache, json, regex)",
		                    fmt, near ? " (did you mean " : "", near ? near : "",
		                    near ? "?)" : "");
	}
	if (v[S_LOG_FORMAT]) {
		if (kind == LOGPARSE_PRESET) {
			return yamldoc_fail(&r->d, v[S_LOG_FORMAT], lkp,
			                    "not allowed with preset format '%s' (use nginx, "
			                    "apache, json or regex)",
			                    fmt);
		}
		e = yamldoc_string(&r->d, v[S_LOG_FORMAT], lkp, &text);
		if (e < 0) {
			return e;
		}
	} else if (kind != LOGPARSE_PRESET && kind != LOGPARSE_JSON) {
		return yamldoc_fail(&r->d, v[S_FORMAT], lkp, "required for format '%s'", fmt);
	}
	memset(&perr, 0, sizeof(perr));
	e = logparse_create(kind, kind == LOGPARSE_PRESET ? fmt : text, &p, &perr);
	if (e == -ENOMEM) {
		return fail_oom(r);
	}
	if (e < 0) {
		yaml_node_t *at = v[S_LOG_FORMAT] ? v[S_LOG_FORMAT] : v[S_FORMAT];
		if (perr.column && !strstr(perr.message, "column")) {
			return yamldoc_fail(&r->d, at, v[S_LOG_FORMAT] ? lkp : kp,
			                    "%s (column %zu of the format)", perr.message,
			                    perr.column);
		}
		return yamldoc_fail(&r->d, at, v[S_LOG_FORMAT] ? lkp : kp, "%s",
		                    perr.message[0] ? perr.message : "bad format");
	}
	*ret_kind = kind;
	*ret_text = kind == LOGPARSE_PRESET ? fmt : text;
	*ret_parser = p;
	return 0;
}

/* container: none|cri|docker|auto and container_stream: stdout|stderr|all. */
static int read_container(struct reader *r, yaml_node_t **v, const char *path,
                          struct config_source *s)
{
	char kp[YAMLDOC_PATH_MAX];
	const char *text;
	int e = 0;

	if (v[S_CONTAINER]) {
		yamldoc_path_key(kp, sizeof(kp), path, "container");
		e = yamldoc_string(&r->d, v[S_CONTAINER], kp, &text);
		if (e == 0 && config_container_from_name(text, &s->container) < 0) {
			return yamldoc_fail(&r->d, v[S_CONTAINER], kp,
			                    "unknown container log format '%s' (none, cri, docker, "
			                    "auto)",
			                    text);
		}
	}
	if (e == 0 && v[S_CONTAINER_STREAM]) {
		yamldoc_path_key(kp, sizeof(kp), path, "container_stream");
		e = yamldoc_string(&r->d, v[S_CONTAINER_STREAM], kp, &text);
		if (e == 0 && config_streams_from_name(text, &s->container_streams) < 0) {
			return yamldoc_fail(&r->d, v[S_CONTAINER_STREAM], kp,
			                    "unknown stream '%s' (stdout, stderr, all)", text);
		}
		if (e == 0 && s->container == CONFIG_CONTAINER_NONE) {
			return yamldoc_fail(&r->d, v[S_CONTAINER_STREAM], kp,
			                    "needs container: cri, docker or auto");
		}
	}
	return e;
}

static int read_source(struct reader *r, yaml_node_t *n, const char *path)
{
	yaml_node_t *v[S_COUNT];
	char kp[YAMLDOC_PATH_MAX], why[256];
	const char *name, *text = NULL;
	enum logparse_kind kind = LOGPARSE_PRESET;
	struct config_source *s;
	struct log_parser *p = NULL; /* the source's format, compiled to check field labels */
	int e;

	e = yamldoc_map(&r->d, n, path, source_keys, S_COUNT, v);
	if (e == 0 && n->type != YAML_MAPPING_NODE) {
		return yamldoc_fail(&r->d, n, path, "expected a mapping (name, format, paths...)");
	}
	for (size_t i = 0; e == 0 && i < S_COUNT; i++) {
		if (!v[i] && (i == S_NAME || i == S_FORMAT || (i == S_PATHS && !v[S_LISTEN]))) {
			yamldoc_path_key(kp, sizeof(kp), path, source_keys[i]);
			return yamldoc_fail(&r->d, n, kp, "missing (required)");
		}
	}
	yamldoc_path_key(kp, sizeof(kp), path, "name");
	if (e == 0) {
		e = yamldoc_string(&r->d, v[S_NAME], kp, &name);
	}
	if (e < 0) {
		return e;
	}
	if (config_check_source_name(name, why, sizeof(why)) < 0) {
		return yamldoc_fail(&r->d, v[S_NAME], kp, "%s%s", name[0] ? "source name " : "",
		                    why);
	}
	for (size_t i = 0; i < r->c->n_sources; i++) {
		if (strcmp(r->c->sources[i].name, name) == 0) {
			return yamldoc_fail(&r->d, v[S_NAME], kp,
			                    "duplicate source name '%s' (also sources[%zu])", name,
			                    i);
		}
	}
	e = read_format(r, v, path, &kind, &text, &p);
	if (e < 0) {
		return e;
	}
	if (config_add_source(r->c, name, kind, text, &s) < 0) {
		logparse_destroy(p);
		return fail_oom(r);
	}
	e = 0;
	if (v[S_PATHS]) {
		yamldoc_path_key(kp, sizeof(kp), path, "paths");
		e = read_paths(r, v[S_PATHS], kp, s, false);
	}
	if (e == 0 && v[S_LISTEN]) {
		yamldoc_path_key(kp, sizeof(kp), path, "listen");
		e = read_paths(r, v[S_LISTEN], kp, s, true);
	}
	if (e == 0 && v[S_SYSLOG_TAG]) {
		yamldoc_path_key(kp, sizeof(kp), path, "syslog_tag");
		e = read_syslog_tag(r, v[S_SYSLOG_TAG], kp, s);
	}
	if (e == 0 && v[S_SYSLOG_IDLE]) {
		yamldoc_path_key(kp, sizeof(kp), path, "syslog_idle_timeout");
		e = read_syslog_idle(r, v[S_SYSLOG_IDLE], kp, s);
	}
	if (e == 0 && v[S_LABELS]) {
		yamldoc_path_key(kp, sizeof(kp), path, "labels");
		e = read_labels(r, v[S_LABELS], kp, s);
	}
	logparse_destroy(p);
	r->src_name = name;
	r->src_kind = kind;
	r->src_text = text;
	if (e == 0 && v[S_PATH_LABELS]) {
		yamldoc_path_key(kp, sizeof(kp), path, "path_labels");
		e = read_path_labels(r, v[S_PATH_LABELS], kp, s);
	}
	if (e == 0 && v[S_FIELD_LABELS]) {
		yamldoc_path_key(kp, sizeof(kp), path, "field_labels");
		e = read_field_labels(r, v[S_FIELD_LABELS], kp, s);
	}
	if (e == 0 && v[S_SERIES_IDLE]) {
		yamldoc_path_key(kp, sizeof(kp), path, "series_idle_timeout");
		e = read_series_idle(r, v[S_SERIES_IDLE], kp, s);
	}
	if (e == 0 && v[S_FILTERS]) {
		yamldoc_path_key(kp, sizeof(kp), path, "filters");
		e = read_filters(r, v[S_FILTERS], kp, s);
	}
	if (e == 0) {
		e = check_captures(r, v[S_FORMAT], path, s);
	}
	if (e == 0) {
		e = read_container(r, v, path, s);
	}
	return e;
}

static int read_sources(struct reader *r, yaml_node_t *n)
{
	yaml_node_item_t *items;
	size_t count;
	char kp[YAMLDOC_PATH_MAX];
	int e;

	e = yamldoc_seq(&r->d, n, "sources", &items, &count);
	if (e < 0) {
		return e;
	}
	if (count == 0 || count > CONFIG_MAX_SOURCES) {
		return yamldoc_fail(&r->d, n, "sources", "needs 1 to %u sources, got %zu",
		                    CONFIG_MAX_SOURCES, count);
	}
	for (size_t i = 0; e == 0 && i < count; i++) {
		yamldoc_path_index(kp, sizeof(kp), "sources", i);
		e = read_source(r, yamldoc_node(&r->d, items[i]), kp);
	}
	return e;
}

/* ---- entry points ---------------------------------------------------------- */

enum { T_GLOBAL, T_METRICS, T_SOURCES, T_COUNT };
static const char *const top_keys[T_COUNT] = {"global", "metrics", "sources"};

static void set_dir(struct reader *r, const char *name)
{
	const char *slash = strrchr(name, '/');
	size_t n = slash ? (size_t)(slash - name) : 0;

	r->dir[0] = '\0';
	if (slash && n == 0) {
		(void)snprintf(r->dir, sizeof(r->dir), "/");
	} else if (slash && n < sizeof(r->dir)) {
		memcpy(r->dir, name, n);
		r->dir[n] = '\0';
	}
}

int config_yaml_load_buffer(struct config *c, const char *name, const char *data, size_t len,
                            char *err, size_t err_size)
{
	struct reader *r = calloc(1, sizeof(*r));
	yaml_node_t *v[T_COUNT], *root;
	int e;

	if (!r) {
		return -ENOMEM;
	}
	err[0] = '\0';
	r->c = c;
	set_dir(r, name);
	e = yamldoc_load(&r->d, name, data, len, err, err_size);
	if (e < 0) {
		goto out;
	}
	root = yamldoc_root(&r->d);
	if (root->type != YAML_MAPPING_NODE) {
		e = yamldoc_fail(&r->d, root, "",
		                 "expected a mapping with global, metrics, sources");
		goto out;
	}
	e = yamldoc_map(&r->d, root, "", top_keys, T_COUNT, v);
	if (e == 0 && !v[T_SOURCES]) {
		e = yamldoc_fail(&r->d, root, "sources", "missing (required)");
	}
	if (e == 0 && v[T_GLOBAL]) {
		e = read_global(r, v[T_GLOBAL]);
	}
	if (e == 0 && v[T_METRICS]) {
		e = read_metrics(r, v[T_METRICS]);
	}
	if (e == 0) {
		e = read_sources(r, v[T_SOURCES]);
	}
	if (e == 0 && config_set_string(&c->config_file, name) < 0) {
		e = -ENOMEM;
	}
out:
	if (e == -ENOMEM && !err[0]) {
		(void)snprintf(err, err_size, "%s: out of memory", name);
	}
	yamldoc_finish(&r->d);
	free(r);
	return e;
}

int config_yaml_load_file(struct config *c, const char *path, char *err, size_t err_size)
{
	char *data = NULL;
	size_t len = 0;
	int e;

	e = yamldoc_read_file(path, &data, &len, err, err_size);
	if (e < 0) {
		return e;
	}
	e = config_yaml_load_buffer(c, path, data, len, err, err_size);
	free(data);
	return e;
}
