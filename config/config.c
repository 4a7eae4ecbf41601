/*
 * config.c - configuration value tree: defaults, builders and validation
 * helpers shared by the command line and the YAML reader.
 *
 * Fixed-size arrays with explicit caps keep the tree simple to copy and to
 * free; the caps are far above what a single-host exporter needs and every
 * adder reports -ENOSPC instead of growing without bound.
 *
 * Two rules live only here so the command line, the YAML reader and the
 * exporter cannot disagree: the reserved label names (one table; metrics.c
 * asks config_is_reserved_label too) and the listen-address syntax
 * (config_parse_listen_address returns family, address and port; http.c
 * only fills a sockaddr from them).  Rejected: resolving host names (a
 * start-up DNS dependency, and --config.check could not promise the same
 * answer later) and telling IPv4 from IPv6 by looking for '.' (wrong for
 * "[::ffff:127.0.0.1]").
 *
 * Text the operator gives that ends up in label values, in the checkpoint
 * file or in the HTTP path is checked here too (config_check_*), so the
 * builders refuse it whatever the front end: source names and static label
 * values are short single-line UTF-8 (the source name is also a line of
 * the checkpoint file), the telemetry path is reachable.  Log paths are
 * not restricted: a file name may hold any byte but NUL.  The UTF-8
 * check is parsers/utf8.c's, the one the exposition uses; rejected: repairing these values on
 * output like values from the log, which would silently rename a series.
 */
#include "config/config.h"

#include "parsers/numparse.h"
#include "parsers/utf8.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Default buckets (seconds): web latencies from 5 ms to 1 min. */
static const double default_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                         1,     2.5,  5,     10,   30,  60};

/* Default size buckets (bytes): x4 from 64 B to 64 MiB. */
static const double default_size_buckets[] = {64,     256,     1024,    4096,     16384,   65536,
                                              262144, 1048576, 4194304, 16777216, 67108864};

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
	/* The response size histogram is off until its buckets are set: the
	 * bytes field is in every combined format, and turning it on would add
	 * a histogram per method and class to every existing setup's scrapes
	 * (and a bucket scan to every line).  The other three are fields a
	 * format has only when someone added them, to be measured. */
	for (unsigned h = 0; h < CONFIG_OPT_HISTS; h++) {
		bool size = h <= CONFIG_HIST_RESPONSE_SIZE;
		memcpy(c->opt_buckets[h], size ? default_size_buckets : default_buckets,
		       size ? sizeof(default_size_buckets) : sizeof(default_buckets));
		c->n_opt_buckets[h] = h == CONFIG_HIST_RESPONSE_SIZE ? 0
		                      : size ? sizeof(default_size_buckets) / sizeof(double)
		                             : n;
	}
	c->new_series_hold_ms = CONFIG_DEFAULT_NEW_SERIES_HOLD_MS;
	c->catchup_max_bytes = CONFIG_DEFAULT_CATCHUP_MAX_BYTES;
	c->fd_keeper_linger_ms = CONFIG_DEFAULT_FD_KEEPER_LINGER_MS;
	c->native_schema = CONFIG_NATIVE_DEFAULT_SCHEMA;
	c->native_max_buckets = CONFIG_NATIVE_DEFAULT_MAX_BUCKETS;
	c->native_zero_threshold = CONFIG_NATIVE_DEFAULT_ZERO_THRESHOLD;
	return c;
}

/* Bucket growth factor 2^(2^-s) of schema s = 8 - k (a table: config does
 * not link libm). */
static const double schema_factors[] = {
    1.0027112750502025,
    1.0054299011128027,
    1.0108892860517005,
    1.0218971486541166,
    1.0442737824274138,
    1.0905077326652577,
    1.189207115002721,
    1.4142135623730951,
    2.0,
    4.0,
    16.0,
    256.0,
    65536.0,
};

int config_native_schema_for_factor(double factor, int *ret_schema)
{
	size_t n = sizeof(schema_factors) / sizeof(schema_factors[0]), k = 0;

	if (!(factor > 1.0) || factor > 1e308) {
		return -EINVAL;
	}
	/* The lowest factor (highest schema) first: stop at the last one that fits. */
	while (k + 1 < n && schema_factors[k + 1] <= factor) {
		k++;
	}
	*ret_schema = CONFIG_NATIVE_MAX_SCHEMA - (int)k;
	return 0;
}

int config_parse_size(const char *text, uint64_t *ret_bytes)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
	    {"", 1},
	    {"B", 1},
	    {"KB", 1000ull},
	    {"MB", 1000000ull},
	    {"GB", 1000000000ull},
	    {"TB", 1000000000000ull},
	    {"KiB", 1ull << 10},
	    {"MiB", 1ull << 20},
	    {"GiB", 1ull << 30},
	    {"TiB", 1ull << 40},
	};
	const uint64_t max = 1ull << 60;
	size_t digits = strspn(text, "0123456789");
	const char *p = text + digits;
	uint64_t v = 0;
	int r = digits ? numparse_u64(text, digits, &v) : -EINVAL;

	if (r < 0) {
		return r;
	}
	if (v > max) {
		return -ERANGE;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) == 0) {
			if (v > max / units[i].mult) {
				return -ERANGE;
			}
			*ret_bytes = v * units[i].mult;
			return 0;
		}
	}
	return -EINVAL;
}

static void field_label_finish(struct config_field_label *f)
{
	free(f->name);
	free(f->variable);
	for (size_t i = 0; i < f->n_rules; i++) {
		free(f->rules[i].match);
		free(f->rules[i].replacement);
	}
	free(f->rules);
	free(f->default_value);
	memset(f, 0, sizeof(*f));
}

static void source_finish(struct config_source *s)
{
	free(s->name);
	free(s->format);
	free(s->syslog_tag);
	for (size_t i = 0; i < s->n_paths; i++) {
		free(s->paths[i]);
	}
	for (size_t i = 0; i < s->n_labels; i++) {
		free(s->labels[i].name);
		free(s->labels[i].value);
	}
	for (size_t i = 0; i < s->n_field_labels; i++) {
		field_label_finish(&s->field_labels[i]);
	}
	for (size_t i = 0; i < s->n_filters; i++) {
		free(s->filters[i].variable);
		free(s->filters[i].match);
	}
	free(s->path_labels);
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

/* Offset of the first control character (< 0x20 or 0x7f) in s, or -1. */
static long first_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			return (long)(p - (const unsigned char *)s);
		}
	}
	return -1;
}

int config_check_label_value(const char *value, char *err, size_t err_size)
{
	size_t n = strlen(value);
	long ctl = first_control(value);

	if (n > CONFIG_LABEL_VALUE_MAX) {
		(void)snprintf(err, err_size, "is %zu bytes long (at most %u)", n,
		               CONFIG_LABEL_VALUE_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len((const unsigned char *)value + i, n - i);
		if (k == 0) {
			(void)snprintf(err, err_size, "is not valid UTF-8 (byte %zu)", i);
			return -EINVAL;
		}
		i += k;
	}
	if (ctl >= 0) {
		(void)snprintf(err, err_size, "contains control character 0x%02x at byte %ld",
		               (unsigned)(unsigned char)value[ctl], ctl);
		return -EINVAL;
	}
	return 0;
}

int config_check_source_name(const char *name, char *err, size_t err_size)
{
	if (!name || !name[0]) {
		(void)snprintf(err, err_size, "empty source name");
		return -EINVAL;
	}
	return config_check_label_value(name, err, err_size);
}

int config_check_telemetry_path(const char *path, char *err, size_t err_size)
{
	long ctl = path ? first_control(path) : -1;

	if (!path || path[0] != '/' || path[1] == '\0' || strncmp(path, "/-/", 3) == 0) {
		(void)snprintf(err, err_size,
		               "'%.200s' must start with '/' and not be '/' or under '/-/'",
		               path ? path : "");
		return -EINVAL;
	}
	if (ctl >= 0) {
		(void)snprintf(err, err_size,
		               "contains control character 0x%02x at byte %ld (a request could "
		               "never reach it)",
		               (unsigned)(unsigned char)path[ctl], ctl);
		return -EINVAL;
	}
	if (strpbrk(path, "?# ")) {
		(void)snprintf(
		    err, err_size,
		    "'%.200s' must not contain '?', '#' or spaces (a request could never "
		    "reach it)",
		    path);
		return -EINVAL;
	}
	return 0;
}

int config_add_source(struct config *c, const char *name, enum logparse_kind kind,
                      const char *format, struct config_source **ret_source)
{
	struct config_source *s;
	char why[128];

	if (config_check_source_name(name, why, sizeof(why)) < 0) {
		return -EINVAL;
	}
	if (c->n_sources >= CONFIG_MAX_SOURCES) {
		return -ENOSPC;
	}
	s = &c->sources[c->n_sources];
	memset(s, 0, sizeof(*s));
	s->name = dup_str(name);
	s->format = dup_str(format);
	s->kind = kind;
	s->container_streams = CONFIG_STREAM_STDOUT;
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

/* Every label name the exporter sets on series that also carry user labels.
 * field_ok: a field label may use the name anyway because none of the
 * families that carry field labels (responses, bytes, durations) has it. */
static const struct {
	const char *name;
	bool field_ok;
} reserved_labels[] = {
    {"source", false}, /* every series of a source */
    {"code", false},   /* responses */
    {"class", false},  /* responses, bytes, durations */
    {"reason", false}, /* responses */
    {"method", false}, /* responses, bytes, durations */
    {"origin", false}, /* accesslog_http_status_info, joined on code/class/reason */
    {"le", false},     /* duration buckets */
    {"metric", false}, /* accesslog_series_dropped_total */
    {"path", true},    /* accesslog_log_file_open only */
    /* Prometheus sets these from the scrape target: a copy from the exporter
     * would be renamed exported_instance / exported_job (honor_labels off). */
    {"instance", false},
    {"job", false},
};

bool config_is_valid_label_name(const char *name)
{
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
	return true;
}

bool config_is_reserved_label(const char *name, bool for_field_label)
{
	for (size_t i = 0; name && i < sizeof(reserved_labels) / sizeof(reserved_labels[0]); i++) {
		if (strcmp(name, reserved_labels[i].name) == 0) {
			return !(for_field_label && reserved_labels[i].field_ok);
		}
	}
	return false;
}

int config_check_label_name(const char *name, bool for_field_label, char *err, size_t err_size)
{
	char list[160] = "";
	size_t len = 0;

	if (!config_is_valid_label_name(name)) {
		(void)snprintf(err, err_size,
		               "'%s' is not a usable label name (must match "
		               "[a-zA-Z_][a-zA-Z0-9_]* and not start with __)",
		               name ? name : "");
		return -EINVAL;
	}
	if (!config_is_reserved_label(name, for_field_label)) {
		return 0;
	}
	for (size_t i = 0; i < sizeof(reserved_labels) / sizeof(reserved_labels[0]); i++) {
		int n;
		if (for_field_label && reserved_labels[i].field_ok) {
			continue;
		}
		n = snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "",
		             reserved_labels[i].name);
		if (n < 0 || (size_t)n >= sizeof(list) - len) {
			break;
		}
		len += (size_t)n;
	}
	bool target = strcmp(name, "instance") == 0 || strcmp(name, "job") == 0;
	(void)snprintf(err, err_size,
	               "'%s' is not a usable label name: %s (%s labels may not be %s)", name,
	               target ? "Prometheus sets it from the scrape target (it would arrive as "
	                        "exported_*)"
	                      : "the exporter sets it itself",
	               for_field_label ? "field" : "static", list);
	return -EINVAL;
}

int config_source_add_label(struct config_source *s, const char *name, const char *value)
{
	struct config_label *l;
	char why[128];

	if (!config_is_valid_label_name(name) || config_is_reserved_label(name, false) || !value ||
	    config_check_label_value(value, why, sizeof(why)) < 0) {
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

	if (!config_is_valid_label_name(name) || config_is_reserved_label(name, true)) {
		return -EINVAL;
	}
	if (s->n_field_labels >= CONFIG_MAX_FIELD_LABELS) {
		return -ENOSPC;
	}
	f = &s->field_labels[s->n_field_labels];
	memset(f, 0, sizeof(*f));
	f->field = field;
	f->name = strdup(name);
	if (!f->name || (match && config_field_label_add_rule(f, match, replacement) < 0)) {
		field_label_finish(f);
		return -ENOMEM;
	}
	s->n_field_labels++;
	return 0;
}

int config_field_label_add_rule(struct config_field_label *f, const char *match,
                                const char *replacement)
{
	struct config_rule *grown, *ru;

	if (!match) {
		return -EINVAL;
	}
	if (f->n_rules >= CONFIG_MAX_RULES) {
		return -ENOSPC;
	}
	grown = realloc(f->rules, (f->n_rules + 1) * sizeof(*grown));
	if (!grown) {
		return -ENOMEM;
	}
	f->rules = grown;
	ru = &f->rules[f->n_rules];
	ru->match = strdup(match);
	ru->replacement = dup_str(replacement);
	if (!ru->match || (replacement && !ru->replacement)) {
		free(ru->match);
		free(ru->replacement);
		return -ENOMEM;
	}
	f->n_rules++;
	return 0;
}

int config_field_label_set_default(struct config_field_label *f, const char *value)
{
	char why[128];

	if (value && config_check_label_value(value, why, sizeof(why)) < 0) {
		return -EINVAL;
	}
	return config_set_string(&f->default_value, value);
}

int config_field_label_set_variable(struct config_field_label *f, const char *name, size_t index)
{
	if (!name || !name[0]) {
		return -EINVAL;
	}
	if (config_set_string(&f->variable, name) < 0) {
		return -ENOMEM;
	}
	f->field = CONFIG_FIELD_VARIABLE;
	f->variable_index = index;
	return 0;
}

static bool same_opt(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool config_field_label_equal(const struct config_field_label *a,
                              const struct config_field_label *b)
{
	if (strcmp(a->name, b->name) != 0 || a->field != b->field ||
	    !same_opt(a->variable, b->variable) || a->variable_index != b->variable_index ||
	    a->n_rules != b->n_rules || !same_opt(a->default_value, b->default_value)) {
		return false;
	}
	for (size_t i = 0; i < a->n_rules; i++) {
		if (strcmp(a->rules[i].match, b->rules[i].match) != 0 ||
		    !same_opt(a->rules[i].replacement, b->rules[i].replacement)) {
			return false;
		}
	}
	return true;
}

int config_source_add_filter(struct config_source *s, enum config_filter_action action,
                             enum config_field field, const char *variable, const char *match)
{
	struct config_filter *f;

	if (!match || (field == CONFIG_FIELD_VARIABLE) != (variable != NULL)) {
		return -EINVAL;
	}
	if (s->n_filters >= CONFIG_MAX_FILTERS) {
		return -ENOSPC;
	}
	f = &s->filters[s->n_filters];
	*f = (struct config_filter){action, field, NULL, 0, strdup(match)};
	if (!f->match || (variable && config_set_string(&f->variable, variable) < 0)) {
		free(f->match);
		free(f->variable);
		memset(f, 0, sizeof(*f));
		return -ENOMEM;
	}
	s->n_filters++;
	return 0;
}

uint64_t config_source_syslog_idle_ms(const struct config_source *s)
{
	return s->syslog_idle_set ? s->syslog_idle_ms : CONFIG_DEFAULT_SYSLOG_IDLE_MS;
}

bool config_filter_equal(const struct config_filter *a, const struct config_filter *b)
{
	return a->action == b->action && a->field == b->field &&
	       same_opt(a->variable, b->variable) && a->variable_index == b->variable_index &&
	       strcmp(a->match, b->match) == 0;
}

/* Position of name in names[0..*n), appended when new. */
static int capture_index(const char **names, size_t *n, size_t max, const char *name,
                         size_t *ret_index)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(names[i], name) == 0) {
			*ret_index = i;
			return 0;
		}
	}
	if (*n >= max) {
		return -E2BIG;
	}
	names[*n] = name;
	*ret_index = (*n)++;
	return 0;
}

int config_source_captures(const struct config_source *s, const char **ret_names, size_t max)
{
	size_t n = 0, index;

	for (size_t i = 0; i < s->n_field_labels; i++) {
		const struct config_field_label *f = &s->field_labels[i];
		if (f->field == CONFIG_FIELD_VARIABLE &&
		    capture_index(ret_names, &n, max, f->variable, &index) < 0) {
			return -E2BIG;
		}
	}
	for (size_t i = 0; i < s->n_filters; i++) {
		const struct config_filter *f = &s->filters[i];
		if (f->field == CONFIG_FIELD_VARIABLE &&
		    capture_index(ret_names, &n, max, f->variable, &index) < 0) {
			return -E2BIG;
		}
	}
	return (int)n;
}

void config_source_parse_opts(const struct config_source *s, const char **names,
                              struct logparse_opts *ret_opts)
{
	int n = config_source_captures(s, names, CONFIG_MAX_CAPTURES);

	*ret_opts = (struct logparse_opts){.capture = names, .n_capture = n > 0 ? (size_t)n : 0};
}

int config_source_index_captures(struct config_source *s)
{
	const char *names[CONFIG_MAX_CAPTURES];
	int n = config_source_captures(s, names, CONFIG_MAX_CAPTURES);

	if (n < 0) {
		return n;
	}
	for (size_t i = 0; i < s->n_field_labels; i++) {
		struct config_field_label *f = &s->field_labels[i];
		if (f->field == CONFIG_FIELD_VARIABLE) {
			(void)capture_index(names, &(size_t){(size_t)n}, (size_t)n, f->variable,
			                    &f->variable_index);
		}
	}
	for (size_t i = 0; i < s->n_filters; i++) {
		struct config_filter *f = &s->filters[i];
		if (f->field == CONFIG_FIELD_VARIABLE) {
			(void)capture_index(names, &(size_t){(size_t)n}, (size_t)n, f->variable,
			                    &f->variable_index);
		}
	}
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

int config_container_from_name(const char *name, enum config_container *ret_container)
{
	static const struct {
		const char *name;
		enum config_container container;
	} kinds[] = {
	    {"none", CONFIG_CONTAINER_NONE},
	    {"cri", CONFIG_CONTAINER_CRI},
	    {"docker", CONFIG_CONTAINER_DOCKER},
	    {"auto", CONFIG_CONTAINER_AUTO},
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(name, kinds[i].name) == 0) {
			*ret_container = kinds[i].container;
			return 0;
		}
	}
	return -EINVAL;
}

int config_streams_from_name(const char *name, unsigned *ret_streams)
{
	static const struct {
		const char *name;
		unsigned streams;
	} streams[] = {
	    {"stdout", CONFIG_STREAM_STDOUT},
	    {"stderr", CONFIG_STREAM_STDERR},
	    {"all", CONFIG_STREAM_STDOUT | CONFIG_STREAM_STDERR},
	};

	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		if (strcmp(name, streams[i].name) == 0) {
			*ret_streams = streams[i].streams;
			return 0;
		}
	}
	return -EINVAL;
}

/* Port: 1 to 5 digits, at most 65535 (0: the kernel picks one). */
static int parse_port(const char *p, uint16_t *ret_port)
{
	unsigned v = 0;
	size_t n = strlen(p);

	if (n == 0 || n > 5) {
		return -EINVAL;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			return -EINVAL;
		}
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > 65535) {
		return -EINVAL;
	}
	*ret_port = (uint16_t)v;
	return 0;
}

/* The host part (brackets removed) to family and binary address; NULL or
 * the reason it is unusable. */
static const char *parse_host(const char *host, bool bracketed, struct config_listen *l)
{
	static const unsigned char loopback[4] = {127, 0, 0, 1};

	if (bracketed) {
		l->family = AF_INET6;
		return inet_pton(AF_INET6, host, l->addr) == 1 ? NULL
		                                               : "not an IPv6 address in brackets";
	}
	l->family = AF_INET;
	if (!*host) {
		return NULL; /* all IPv4 addresses: addr stays 0.0.0.0 */
	}
	if (strcmp(host, "localhost") == 0) {
		memcpy(l->addr, loopback, sizeof(loopback));
		return NULL;
	}
	if (inet_pton(AF_INET, host, l->addr) == 1) {
		return NULL;
	}
	if (strchr(host, ':')) {
		return "IPv6 addresses go in brackets: [v6]:port";
	}
	if (strspn(host, "0123456789.") == strlen(host)) {
		return "not an IPv4 address";
	}
	return "host names other than localhost are not resolved";
}

int config_parse_listen_address(const char *addr, struct config_listen *ret_listen, char *err,
                                size_t err_size)
{
	struct config_listen l;
	const char *host = addr, *colon, *why = NULL;
	size_t host_len = 0;
	bool bracketed = false;

	memset(&l, 0, sizeof(l));
	if (!addr) {
		addr = "";
	}
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		bracketed = true;
		host = addr + 1;
		colon = close ? close + 1 : NULL;
		if (!close) {
			why = "no closing ']'";
		} else if (*colon != ':') {
			why = "missing :port after ']'";
		} else {
			host_len = (size_t)(close - host);
		}
	} else {
		colon = strrchr(addr, ':');
		if (!colon) {
			why = "missing :port";
		} else {
			host_len = (size_t)(colon - addr);
		}
	}
	if (!why && host_len >= sizeof(l.host)) {
		why = "host too long";
	}
	if (!why && parse_port(colon + 1, &l.port) < 0) {
		why = "the port must be a number from 0 to 65535";
	}
	if (!why) {
		memcpy(l.host, host, host_len);
		l.host[host_len] = '\0';
		why = parse_host(l.host, bracketed, &l);
	}
	if (why) {
		(void)snprintf(
		    err, err_size,
		    "'%.200s' is not host:port, :port or [v6]:port with host localhost or "
		    "an IP address (%s)",
		    addr, why);
		return -EINVAL;
	}
	*ret_listen = l;
	return 0;
}

/* Units of config_parse_duration, in the order they must appear. */
static const struct {
	const char *name;
	uint64_t ms;
} duration_units[] = {
    {"y", 365ull * 24 * 3600 * 1000},
    {"w", 7ull * 24 * 3600 * 1000},
    {"d", 24ull * 3600 * 1000},
    {"h", 3600ull * 1000},
    {"m", 60ull * 1000},
    {"s", 1000},
    {"ms", 1},
};
#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

/* The unit at p (longest name first: "ms" before "m"): its index, or -1. */
static int duration_unit(const char *p, size_t *ret_len)
{
	int best = -1;
	size_t best_len = 0;

	for (size_t u = 0; u < N_DURATION_UNITS; u++) {
		size_t len = strlen(duration_units[u].name);
		if (len > best_len && strncmp(p, duration_units[u].name, len) == 0) {
			best = (int)u;
			best_len = len;
		}
	}
	*ret_len = best_len;
	return best;
}

int config_parse_duration(const char *text, uint64_t max_ms, uint64_t *ret_ms)
{
	const char *p = text;
	uint64_t total = 0;
	int last = -1;

	if (strcmp(text, "0") == 0) {
		*ret_ms = 0;
		return 0;
	}
	if (!*p) {
		return -EINVAL;
	}
	while (*p) {
		uint64_t n = 0;
		size_t digits = strspn(p, "0123456789"), ulen;
		int u, r = digits ? numparse_u64(p, digits, &n) : -EINVAL;
		if (r == -ERANGE) {
			return r;
		}
		p += digits;
		u = r == 0 ? duration_unit(p, &ulen) : -1;
		if (u < 0 || u <= last) {
			return -EINVAL; /* no number, no unit, or units out of order */
		}
		if (n > max_ms / duration_units[u].ms) {
			return -ERANGE; /* also keeps n * unit from overflowing */
		}
		total += n * duration_units[u].ms;
		if (total > max_ms) {
			return -ERANGE;
		}
		last = u;
		p += ulen;
	}
	*ret_ms = total;
	return 0;
}
