/*
 * config.h - the exporter's configuration as a plain value tree.
 *
 * Filled either from command-line flags (the simple case: one source) or
 * from a YAML file.  The struct owns all its strings; config_destroy frees
 * everything.  Nothing here does I/O beyond reading the config file.
 */
#ifndef CONFIG_CONFIG_H
#define CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/logparse.h"

#define CONFIG_MAX_SOURCES 64
#define CONFIG_MAX_PATHS 64
#define CONFIG_MAX_STATIC_LABELS 16
#define CONFIG_MAX_BUCKETS 40
/* Native histograms (metrics.native_histograms): schema range, bucket cap
 * range and defaults, as in the Go and Java client libraries. */
#define CONFIG_NATIVE_MIN_SCHEMA (-4)
#define CONFIG_NATIVE_MAX_SCHEMA 8
#define CONFIG_NATIVE_DEFAULT_SCHEMA 3
#define CONFIG_NATIVE_MIN_BUCKETS 8u
#define CONFIG_NATIVE_MAX_BUCKETS 1024u
#define CONFIG_NATIVE_DEFAULT_MAX_BUCKETS 160u
#define CONFIG_NATIVE_DEFAULT_ZERO_THRESHOLD 2.938735877055719e-39 /* 2^-128 */
#define CONFIG_MAX_FIELD_LABELS 8      /* path labels and field labels together */
#define CONFIG_MAX_USER_FIELD_LABELS 4 /* field_labels entries per source */
#define CONFIG_MAX_PATH_LABELS 4       /* named groups of path_labels */
#define CONFIG_MAX_RULES 64            /* rewrite rules per field label */
#define CONFIG_MAX_FILTERS 16          /* filters per source */
#define CONFIG_MAX_CAPTURES 16         /* distinct format fields labels and filters read */
#define CONFIG_LISTEN_HOST_MAX 64      /* longest host part of a listen address, with NUL */
#define CONFIG_LABEL_VALUE_MAX 256     /* bytes of a source name or static label value */
#define CONFIG_DEFAULT_NEW_SERIES_HOLD_MS 60000u      /* Prometheus's default scrape interval */
#define CONFIG_MAX_NEW_SERIES_HOLD_MS 3600000u        /* 1h: longer holds hide too much */
#define CONFIG_DEFAULT_SYSLOG_IDLE_MS 600000u         /* 10m: TCP syslog idle timeout */
#define CONFIG_MAX_SYSLOG_IDLE_MS 86400000u           /* 24h */
#define CONFIG_MIN_SERIES_IDLE_MS 1000u               /* 1s: the sweep's granularity */
#define CONFIG_MAX_SERIES_IDLE_MS 31536000000ull      /* 365d */
#define CONFIG_DEFAULT_CATCHUP_MAX_BYTES (4ull << 30) /* per source, see README */

/* Record fields that can become labels (see series.c for the semantics). */
enum config_field {
	CONFIG_FIELD_VHOST,
	CONFIG_FIELD_PATH,
	CONFIG_FIELD_UPSTREAM_STATUS,
	CONFIG_FIELD_VARIABLE,   /* a field of the format by name (the parser's extra captures) */
	CONFIG_FIELD_PATH_LABEL, /* a named group of the source's path_labels (variable: its
	                            name, variable_index: its position among them) */
};

/* One rewrite rule: a value the pcre2 pattern match fully matches (anchored
 * at both ends) becomes replacement with $0..$9 substituted. */
struct config_rule {
	char *match;
	char *replacement; /* NULL: "$0" */
};

/* A label taken from a record field, optionally rewritten by an ordered
 * list of rules: the first rule that matches gives the value, a value no
 * rule matches becomes default_value.  Without rules the value is used as
 * is.  For CONFIG_FIELD_VARIABLE, variable names the extra capture (an
 * nginx variable the exporter does not know, without '$') and
 * variable_index is its index among the parser's extra captures for the
 * source's format (logparse_extra_find), set by whoever checked the name
 * against the format (the YAML reader). */
struct config_field_label {
	char *name; /* label name, e.g. "vhost" */
	enum config_field field;
	char *variable; /* CONFIG_FIELD_VARIABLE only, else NULL */
	size_t variable_index;
	struct config_rule *rules; /* [n_rules], at most CONFIG_MAX_RULES */
	size_t n_rules;
	char *default_value; /* NULL: "other"; meaningful with rules only */
};

struct config_label {
	char *name;
	char *value;
};

enum config_filter_action {
	CONFIG_FILTER_DROP, /* a line whose value matches is not counted */
	CONFIG_FILTER_KEEP, /* a line whose value does not match is not counted */
};

/* One line filter of a source: field (and variable, as for field labels)
 * names the value, match is a pcre2 pattern anchored at both ends. */
struct config_filter {
	enum config_filter_action action;
	enum config_field field;
	char *variable; /* CONFIG_FIELD_VARIABLE only, else NULL */
	size_t variable_index;
	char *match;
};
/* How a source's lines are wrapped by a container runtime (source option
 * container, flag --container): not at all, CRI (containerd, CRI-O:
 * "TIME STREAM P|F LINE"), Docker json-file ({"log":"LINE\n",...}), or
 * whichever of the three each file's first line shows. */
enum config_container {
	CONFIG_CONTAINER_NONE,
	CONFIG_CONTAINER_CRI,
	CONFIG_CONTAINER_DOCKER,
	CONFIG_CONTAINER_AUTO,
};

/* Where open log-file descriptors are kept across a crash (--state.fd-store;
 * see exporter/input/fdstore.h). */
enum config_fd_store {
	CONFIG_FD_STORE_AUTO,    /* systemd's store when the unit has one, else the keeper */
	CONFIG_FD_STORE_OFF,     /* nowhere */
	CONFIG_FD_STORE_KEEPER,  /* a keeper process beside the state file */
	CONFIG_FD_STORE_SYSTEMD, /* systemd's file descriptor store (FDSTORE=1) */
};
#define CONFIG_DEFAULT_FD_KEEPER_LINGER_MS (10u * 60u * 1000u)
#define CONFIG_MAX_FD_KEEPER_LINGER_MS (24u * 3600u * 1000u)

/* Streams of a container log a source counts (container_stream), a bit set. */
#define CONFIG_STREAM_STDOUT 1u
#define CONFIG_STREAM_STDERR 2u

struct config_source {
	char *name;                    /* "source" label value */
	enum logparse_kind kind;       /* how to read format */
	char *format;                  /* preset name or format text */
	char *paths[CONFIG_MAX_PATHS]; /* inputs: paths, globs, "-", syslog URLs (inputspec.h) */
	size_t n_paths;
	char *syslog_tag; /* keep only syslog messages with this tag; NULL: all */
	/* syslog_idle_timeout: TCP connections that send nothing this long are
	 * closed (0: never); see config_source_syslog_idle_ms. */
	uint64_t syslog_idle_ms;
	bool syslog_idle_set; /* given; else CONFIG_DEFAULT_SYSLOG_IDLE_MS */
	struct config_label labels[CONFIG_MAX_STATIC_LABELS];
	size_t n_labels;
	struct config_field_label field_labels[CONFIG_MAX_FIELD_LABELS];
	size_t n_field_labels;
	struct config_filter filters[CONFIG_MAX_FILTERS]; /* applied in order */
	size_t n_filters;
	/* pcre2 with named groups matched against each file's path (NULL:
	 * none); each group is a CONFIG_FIELD_PATH_LABEL entry at the start of
	 * field_labels, in group order. */
	char *path_labels;
	/* series_idle_timeout: field-label series that count no line this long
	 * are removed (0: never, the default); needs field labels. */
	uint64_t series_idle_ms;
	bool series_idle_set;            /* given in the file (else --series.idle-timeout) */
	enum config_container container; /* unwrapping before the format parse */
	unsigned container_streams;      /* CONFIG_STREAM_* (default stdout) */
};

/* The optional histograms, each exposed by sources whose format captures
 * its field: metrics.<key> (config_opt_hist_key) sets the buckets. */
enum config_opt_hist {
	CONFIG_HIST_REQUEST_SIZE,     /* request_size_buckets, bytes */
	CONFIG_HIST_RESPONSE_SIZE,    /* response_size_buckets, bytes */
	CONFIG_HIST_UPSTREAM_CONNECT, /* upstream_connect_duration_buckets, seconds */
	CONFIG_HIST_UPSTREAM_HEADER,  /* upstream_header_duration_buckets, seconds */
	CONFIG_OPT_HISTS,
};

struct config {
	struct config_source sources[CONFIG_MAX_SOURCES];
	size_t n_sources;
	char *listen_address;       /* "host:port" or ":port" */
	char *telemetry_path;       /* "/metrics" */
	char *state_file;           /* NULL: no checkpoints */
	uint64_t catchup_max_bytes; /* rotated files a restart reads (state_catch_up_max_bytes) */
	enum config_fd_store fd_store; /* --state.fd-store */
	uint64_t fd_keeper_linger_ms;  /* --state.fd-keeper-linger */
	double request_buckets[CONFIG_MAX_BUCKETS];
	size_t n_request_buckets;
	double upstream_buckets[CONFIG_MAX_BUCKETS];
	size_t n_upstream_buckets;
	/* The optional histograms (enum config_opt_hist): bounds and count, 0
	 * bounds (an empty list in the file): that histogram is off. */
	double opt_buckets[CONFIG_OPT_HISTS][CONFIG_MAX_BUCKETS];
	size_t n_opt_buckets[CONFIG_OPT_HISTS];
	bool once;                    /* read files from the start to EOF, print, exit */
	bool backfill;                /* --backfill: like once, written as history */
	unsigned threads;             /* --threads: --once/--backfill parse on N cores (0: all) */
	bool no_class_label;          /* drop "class" from accesslog_http_responses_total */
	bool no_reason_label;         /* drop "reason" from accesslog_http_responses_total */
	bool no_histograms;           /* metrics.histograms: false - no duration histograms */
	size_t series_limit;          /* max series per metric family and source (0: default) */
	uint64_t new_series_hold_ms;  /* new series read 0 this long (metrics.new_series_hold) */
	bool created_timestamps;      /* OpenMetrics _created lines (metrics.created_timestamps) */
	bool no_exemplars;            /* metrics.exemplars: false */
	bool native_histograms;       /* metrics.native_histograms.enabled */
	int native_schema;            /* its schema (or from bucket_factor) */
	unsigned native_max_buckets;  /* its bucket cap */
	double native_zero_threshold; /* seconds; at or below: the zero bucket */
	char *config_file;            /* path of the YAML file this came from, or NULL */
	char *web_config_file;        /* exporter-toolkit web config (TLS, basic auth) or NULL */
	char *log_level;              /* NULL: default */
	char *log_format;             /* NULL: default */
	bool enable_lifecycle;        /* POST /-/reload allowed (--web.enable-lifecycle) */
	unsigned connection_timeout;  /* seconds an idle HTTP connection may live (0: default) */
	/* No process_* families (--web.disable-exporter-metrics). */
	bool disable_exporter_metrics;
};

/* Allocate a config with defaults (listen ":9714"... see config.c). */
struct config *config_create(void);

/* NULL-safe. */
void config_destroy(struct config *c);

/* Add a source with no paths yet; returns 0, -EINVAL (name refused by
 * config_check_source_name), -ENOSPC (too many), -ENOMEM.
 * *ret_source borrowed from c. */
int config_add_source(struct config *c, const char *name, enum logparse_kind kind,
                      const char *format, struct config_source **ret_source);

/* Append a path to a source: 0, -ENOSPC, -ENOMEM.  Any bytes are allowed
 * (file names may hold newlines; the exposition escapes them). */
int config_source_add_path(struct config_source *s, const char *path);

/* Append a static label: 0, -EINVAL (bad or reserved name, see
 * config_check_label_name, or a value config_check_label_value refuses),
 * -ENOSPC, -ENOMEM. */
int config_source_add_label(struct config_source *s, const char *name, const char *value);

/* Append a field label (strings copied) with one rule when match is set
 * (replacement may be NULL), none otherwise; more rules, a default and a
 * variable source are added to s->field_labels[s->n_field_labels - 1] with
 * the functions below.  0, -EINVAL (bad or reserved name; "path" is
 * allowed), -ENOSPC, -ENOMEM.  The match pattern is not compiled here (see
 * config_yaml.c). */
int config_source_add_field_label(struct config_source *s, const char *name,
                                  enum config_field field, const char *match,
                                  const char *replacement);

/* Append a rule to a field label (strings copied; replacement may be
 * NULL): 0, -EINVAL (match NULL), -ENOSPC (CONFIG_MAX_RULES), -ENOMEM.
 * The pattern is not compiled here. */
int config_field_label_add_rule(struct config_field_label *f, const char *match,
                                const char *replacement);

/* Set the value for values no rule matches (copied; NULL: "other"):
 * 0, -EINVAL (refused by config_check_label_value), -ENOMEM. */
int config_field_label_set_default(struct config_field_label *f, const char *value);

/* Make f take its value from the parser's extra capture called name
 * (without '$') at index: 0, -EINVAL (empty name), -ENOMEM. */
int config_field_label_set_variable(struct config_field_label *f, const char *name, size_t index);

/* Whether two field labels are defined the same (name, field, variable,
 * rules in order, default). */
bool config_field_label_equal(const struct config_field_label *a,
                              const struct config_field_label *b);

/* Append a filter (strings copied; variable NULL unless field is
 * CONFIG_FIELD_VARIABLE): 0, -EINVAL, -ENOSPC (CONFIG_MAX_FILTERS),
 * -ENOMEM.  The pattern is not compiled here. */
int config_source_add_filter(struct config_source *s, enum config_filter_action action,
                             enum config_field field, const char *variable, const char *match);

/* Whether two filters are the same (action, field, variable, match). */
bool config_filter_equal(const struct config_filter *a, const struct config_filter *b);

/* The TCP syslog idle timeout of s in ms: as given, or the default; 0:
 * never. */
uint64_t config_source_syslog_idle_ms(const struct config_source *s);

/* The fields of the format a source's field labels and filters read by
 * name (CONFIG_FIELD_VARIABLE), each once, in order: labels first, then
 * filters: the capture list its parser is built with
 * (logparse_opts.capture).  Writes at most max names (borrowed from s) to
 * ret_names; returns how many, or -E2BIG past max. */
int config_source_captures(const struct config_source *s, const char **ret_names, size_t max);

/* Parser options for source s: default limits, and the capture list of
 * config_source_captures in names (caller storage for CONFIG_MAX_CAPTURES
 * entries, which ret_opts points into).  Every parser of a source is built
 * with these, so record.extra[variable_index] is what a label or filter
 * names. */
void config_source_parse_opts(const struct config_source *s, const char **names,
                              struct logparse_opts *ret_opts);

/* Set every label's and filter's variable_index to its name's position in
 * config_source_captures (call after the last label or filter is added):
 * 0 or -E2BIG past CONFIG_MAX_CAPTURES. */
int config_source_index_captures(struct config_source *s);

/* Field name ("vhost", "path", "upstream_status") to enum: 0 or -EINVAL. */
int config_field_from_name(const char *name, enum config_field *ret_field);

/* Container wrapping by name ("none", "cri", "docker", "auto"): 0 or
 * -EINVAL. */
int config_container_from_name(const char *name, enum config_container *ret_container);

/* Container streams by name ("stdout", "stderr", "all"): 0 or -EINVAL;
 * *ret_streams is a CONFIG_STREAM_* set. */
int config_streams_from_name(const char *name, unsigned *ret_streams);

/* A listen address taken apart (plain value record). */
struct config_listen {
	int family;                        /* AF_INET or AF_INET6 */
	unsigned char addr[16];            /* network byte order; AF_INET uses the first 4 bytes */
	uint16_t port;                     /* 0: any free port */
	char host[CONFIG_LISTEN_HOST_MAX]; /* as written, brackets removed; "" = all IPv4 */
};

/* The one listen-address parser (command line, YAML reader, HTTP server).
 * Accepted: ":port" (all IPv4 addresses), "localhost:port" (127.0.0.1),
 * "A.B.C.D:port" (inet_pton AF_INET) and "[v6]:port" (inet_pton AF_INET6,
 * IPv6 only in brackets; "[::ffff:A.B.C.D]" is IPv6 too).  Port 0-65535.
 * Host names other than localhost are refused: nothing is resolved.
 * 0 and *ret_listen; -EINVAL with "'ADDR' is not host:port, ... (reason)"
 * in err. */
int config_parse_listen_address(const char *addr, struct config_listen *ret_listen, char *err,
                                size_t err_size);

/* A duration in Prometheus's notation: "0", or one or more NUMBER UNIT
 * pairs with units in decreasing order (y w d h m s ms), e.g. "1m",
 * "1m30s", "500ms".  0 and *ret_ms; -EINVAL when malformed, -ERANGE above
 * max_ms. */
int config_parse_duration(const char *text, uint64_t max_ms, uint64_t *ret_ms);

/* The native histogram schema for a bucket growth factor: the highest
 * schema in -4..8 whose factor 2^(2^-schema) is at most factor (8 for a
 * factor below 2^(2^-8)), as client_golang picks it.  -EINVAL when factor
 * is not a finite number above 1. */
int config_native_schema_for_factor(double factor, int *ret_schema);

/* A size in bytes: digits, optionally followed by a unit (B; KB MB GB TB
 * in powers of 1000; KiB MiB GiB TiB in powers of 1024), e.g. "4GiB".  0
 * and *ret_bytes; -EINVAL when malformed, -ERANGE above 2^60. */
int config_parse_size(const char *text, uint64_t *ret_bytes);

/* Replace a string field (e.g. &c->listen_address) with a copy: 0 or -ENOMEM. */
int config_set_string(char **field, const char *value);

/* Whether name is a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*) not
 * starting with "__" (which Prometheus reserves).  Says nothing about our own
 * names: see config_is_reserved_label. */
bool config_is_valid_label_name(const char *name);

/* Whether the exporter itself sets a label called name on series that can
 * carry user labels, so a user label may not take it.  The one list (see
 * config.c): source code class reason method origin le metric path.
 * Static labels go on every series of a source, including
 * accesslog_log_file_open{path} and accesslog_series_dropped_total{metric},
 * so all of them are reserved.  Field labels go only on the response, byte
 * and duration families, which have no "path" label: for_field_label allows
 * "path" (the natural name for a label taken from the path field). */
bool config_is_reserved_label(const char *name, bool for_field_label);

/* Both checks with the message: 0, or -EINVAL and "'NAME' is not a usable
 * label name (...)" in err naming the rule or the reserved list. */
int config_check_label_name(const char *name, bool for_field_label, char *err, size_t err_size);

/* A label value we take from the operator (static label values, and the
 * source name, which is the "source" label value): at most
 * CONFIG_LABEL_VALUE_MAX bytes (it is repeated on every series), valid
 * UTF-8 (the exposition format requires it; values from the log are
 * repaired on output instead, these are refused) and no control character
 * (bytes below 0x20 and 0x7f: a newline cannot be written to the
 * checkpoint, and in a label value it is almost always a YAML block-scalar
 * accident).  0, or -EINVAL and the reason (without the value) in err,
 * e.g. "contains control character 0x0a at byte 3". */
int config_check_label_value(const char *value, char *err, size_t err_size);

/* A source name: not empty, and a valid label value (above).  0 or -EINVAL
 * with the reason in err. */
int config_check_source_name(const char *name, char *err, size_t err_size);

/* The HTTP path the metrics are served on: starts with '/', is not "/" and
 * not under "/-/" (the lifecycle endpoints), and contains no '?', '#',
 * space or control character (a request for such a path could never reach
 * it: the query and fragment are split off, the others are not sent raw).
 * 0, or -EINVAL and "'PATH' must ..." in err. */
int config_check_telemetry_path(const char *path, char *err, size_t err_size);

#endif
