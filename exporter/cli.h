/*
 * cli.h - command-line flags, and the struct config they lead to.
 *
 * Flags follow the Prometheus exporter conventions (--web.listen-address,
 * --web.telemetry-path, --log.level ...).  Two ways to configure:
 *   - flags only: positional FILEs form one source (--format, --log-format,
 *     --source, --label describe it);
 *   - --config.file FILE: sources come from the YAML file; the global flags
 *     given explicitly (--web.listen-address, --web.telemetry-path,
 *     --state.file, --log.level, --log.format, --web.config.file) override
 *     the file's "global" section, also on reload.  Positional FILEs and the
 *     source flags are then a usage error.
 */
#ifndef EXPORTER_CLI_H
#define EXPORTER_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"

enum cli_action {
	CLI_RUN,
	CLI_HELP,
	CLI_VERSION,
	CLI_CHECK,  /* --config.check: validate everything and exit */
	CLI_DETECT, /* --detect FILE...: which format fits (files in cli_options) */
};

#define CLI_DEFAULT_CONNECTION_TIMEOUT 10u /* seconds */
#define CLI_MAX_CONNECTION_TIMEOUT 3600u
#define CLI_MAX_THREADS 256u

/* What the command line said; strings are borrowed from argv. */
struct cli_options {
	enum cli_action action;
	bool once;
	const char *backfill;      /* --backfill OUT, NULL: not asked for */
	uint64_t backfill_step_ms; /* 0: default */
	int64_t backfill_until_ms; /* 0: none */
	unsigned threads;          /* --threads, 0: one per core */
	bool enable_lifecycle;
	bool created_timestamps; /* --metrics.created-timestamps */
	bool native_histograms;  /* --metrics.native-histograms */
	int native_schema;       /* from --metrics.native-histogram-bucket-factor */
	bool has_native_schema;
	unsigned native_max_buckets; /* --metrics.native-histogram-max-buckets, 0: not given */
	bool has_hold;               /* --metrics.new-series-hold given */
	uint64_t new_series_hold_ms; /* its value */
	bool disable_exporter_metrics;
	unsigned connection_timeout; /* seconds, 0: not given */
	bool catchup_max_set;        /* --state.catch-up-max-bytes given */
	uint64_t catchup_max_bytes;
	bool fd_store_set;             /* --state.fd-store given */
	enum config_fd_store fd_store; /* its value */
	uint64_t fd_keeper_linger_ms;  /* --state.fd-keeper-linger, 0: not given */
	const char *config_file;
	const char *web_config_file;
	const char *listen_address;
	const char *telemetry_path;
	const char *state_file;
	const char *log_level;
	const char *log_format;
	/* The command-line source (no --config.file). */
	const char *format;
	const char *format_text;
	const char *source;
	const char *labels[CONFIG_MAX_STATIC_LABELS];
	size_t n_labels;
	const char *syslog_tag;          /* --syslog.tag */
	uint64_t syslog_idle_ms;         /* --syslog.idle-timeout */
	bool syslog_idle_set;            /* --syslog.idle-timeout given */
	uint64_t series_idle_ms;         /* --series.idle-timeout */
	bool series_idle_set;            /* --series.idle-timeout given */
	enum config_container container; /* --container */
	unsigned container_streams;      /* --container.stream, 0: not given */
	char **files;
	size_t n_files;
};

/* Parse argv.  0 on success; -EINVAL with a message in err for bad usage
 * (the caller prints it and exits 2).  Nothing is read from disk here. */
int cli_parse(int argc, char **argv, struct cli_options *ret_opts, char *err, size_t err_size);

/* Build the configuration the options describe: load --config.file (if
 * any) and apply the explicit flags over it, or build the command-line
 * source; formats are compiled to validate them.  0 and *ret_config;
 * -EINVAL with the message in err (exit 2); -ENOMEM or -errno otherwise.
 * Called again on every reload. */
int cli_build_config(const struct cli_options *o, struct config **ret_config, char *err,
                     size_t err_size);

/* Print usage text. */
void cli_usage(FILE *out);

#endif
