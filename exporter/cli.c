/*
 * cli.c - flag parsing and configuration assembly (see cli.h).
 *
 * getopt_long with a table of long options; every flag that takes a value
 * accepts both "--flag value" and "--flag=value".  Parsing only records what
 * was given (cli_options borrows from argv); cli_build_config turns that
 * into a struct config, so a reload can rebuild the configuration with the
 * same flag overrides without re-reading argv.  Validation that needs no
 * I/O (format names, label names, listen address syntax) happens at parse
 * time so mistakes are reported before anything starts.
 *
 * Rejected: letting the YAML file override flags (the command line is what
 * an operator typed last, as with Prometheus), and mixing positional FILEs
 * with a config file (two places to look for the sources).
 */
#include "exporter/cli.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "config/config_yaml.h"
#include "config/inputspec.h"
#include "exporter/backfill.h"
#include "parsers/logparse.h"
#include "parsers/logtime.h"
#include "parsers/numparse.h"
#include "parsers/suggest.h"

enum {
	OPT_FORMAT = 256,
	OPT_LOG_FORMAT_TEXT,
	OPT_SOURCE,
	OPT_LISTEN,
	OPT_PATH,
	OPT_ONCE,
	OPT_STATE,
	OPT_CATCHUP,
	OPT_FD_STORE,
	OPT_FD_LINGER,
	OPT_LOGLEVEL,
	OPT_LOGFMT,
	OPT_LABEL,
	OPT_CONFIG_FILE,
	OPT_CONFIG_CHECK,
	OPT_WEB_CONFIG,
	OPT_LIFECYCLE,
	OPT_CONN_TIMEOUT,
	OPT_HOLD,
	OPT_CREATED,
	OPT_NATIVE,
	OPT_NATIVE_FACTOR,
	OPT_NATIVE_MAX,
	OPT_NO_EXPORTER_METRICS,
	OPT_BACKFILL,
	OPT_BACKFILL_STEP,
	OPT_BACKFILL_UNTIL,
	OPT_THREADS,
	OPT_HELP,
	OPT_VERSION,
	OPT_DETECT,
	OPT_SYSLOG_TAG,
	OPT_SYSLOG_IDLE,
	OPT_SERIES_IDLE,
	OPT_CONTAINER,
	OPT_CONTAINER_STREAM,
	OPT_END, /* count */
};

static const struct option long_options[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT_TEXT},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"label", required_argument, NULL, OPT_LABEL},
    {"syslog.tag", required_argument, NULL, OPT_SYSLOG_TAG},
    {"syslog.idle-timeout", required_argument, NULL, OPT_SYSLOG_IDLE},
    {"series.idle-timeout", required_argument, NULL, OPT_SERIES_IDLE},
    {"config.file", required_argument, NULL, OPT_CONFIG_FILE},
    {"config.check", no_argument, NULL, OPT_CONFIG_CHECK},
    {"web.listen-address", required_argument, NULL, OPT_LISTEN},
    {"web.telemetry-path", required_argument, NULL, OPT_PATH},
    {"web.config.file", required_argument, NULL, OPT_WEB_CONFIG},
    {"web.enable-lifecycle", no_argument, NULL, OPT_LIFECYCLE},
    {"web.connection-timeout", required_argument, NULL, OPT_CONN_TIMEOUT},
    {"metrics.new-series-hold", required_argument, NULL, OPT_HOLD},
    {"metrics.created-timestamps", no_argument, NULL, OPT_CREATED},
    {"metrics.native-histograms", no_argument, NULL, OPT_NATIVE},
    {"metrics.native-histogram-bucket-factor", required_argument, NULL, OPT_NATIVE_FACTOR},
    {"metrics.native-histogram-max-buckets", required_argument, NULL, OPT_NATIVE_MAX},
    {"web.disable-exporter-metrics", no_argument, NULL, OPT_NO_EXPORTER_METRICS},
    {"once", no_argument, NULL, OPT_ONCE},
    {"backfill", required_argument, NULL, OPT_BACKFILL},
    {"backfill.step", required_argument, NULL, OPT_BACKFILL_STEP},
    {"backfill.until", required_argument, NULL, OPT_BACKFILL_UNTIL},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"state.file", required_argument, NULL, OPT_STATE},
    {"state.catch-up-max-bytes", required_argument, NULL, OPT_CATCHUP},
    {"state.fd-store", required_argument, NULL, OPT_FD_STORE},
    {"state.fd-keeper-linger", required_argument, NULL, OPT_FD_LINGER},
    {"log.level", required_argument, NULL, OPT_LOGLEVEL},
    {"log.format", required_argument, NULL, OPT_LOGFMT},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"detect", no_argument, NULL, OPT_DETECT},
    {"container", required_argument, NULL, OPT_CONTAINER},
    {"container.stream", required_argument, NULL, OPT_CONTAINER_STREAM},
    {NULL, 0, NULL, 0},
};

/* Format names for --format, in the order the help lists them. */
static const char *const format_names[] = {
    "combined", "common", "vhost_combined", "main", "ingress", "nginx", "apache", "json", "regex",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NAME_MAX_CMP SUGGEST_MAX

static const char *nearest(const char *word, const char *const *names, size_t n)
{
	return suggest_nearest(word, names, n);
}

void cli_usage(FILE *out)
{
	fputs(
	    "Usage: accesslog_exporter [OPTION]... INPUT...\n"
	    "       accesslog_exporter --config.file=CONFIG.yml [OPTION]...\n"
	    "Count web-server access-log lines by status code and serve them to Prometheus.\n"
	    "\n"
	    "Sources (without --config.file):\n"
	    "  --format NAME              combined (default), common, vhost_combined, main,\n"
	    "                             ingress, or nginx|apache|json|regex with --log-format\n"
	    "  --log-format TEXT          nginx log_format / Apache LogFormat / regex / JSON keys\n"
	    "  --source NAME              value of the source label (default: access)\n"
	    "  --label NAME=VALUE         static label on every series of the source\n"
	    "  --container KIND           lines are container logs: cri, docker, or auto\n"
	    "                             (per file); unwrapped before the format parse\n"
	    "  --container.stream STREAM  stdout (default), stderr or all\n"
	    "  --syslog.tag TAG           keep only syslog messages with this tag\n"
	    "  --syslog.idle-timeout DURATION\n"
	    "                             close TCP syslog connections that send nothing\n"
	    "                             this long (default 10m; 0: never)\n"
	    "INPUT: a log file or glob, - (standard input), or a syslog listener\n"
	    "  udp://HOST:PORT, tcp://HOST:PORT, unixgram:///PATH (RFC 3164 or 5424)\n"
	    "Configuration:\n"
	    "  --config.file PATH         YAML configuration (sources, metrics, global);\n"
	    "                             the flags below given explicitly override it\n"
	    "  --config.check             validate the configuration (and web config) and exit\n"
	    "  --web.listen-address ADDR  host:port to serve on (default :9714)\n"
	    "  --web.telemetry-path PATH  path of the metrics (default /metrics)\n"
	    "  --web.config.file PATH     exporter-toolkit web config: TLS, basic auth, headers\n"
	    "  --web.enable-lifecycle     allow POST /-/reload (otherwise 403)\n"
	    "  --web.connection-timeout S close HTTP connections idle for S seconds or\n"
	    "                             whose request takes longer (default 10, 1-3600)\n"
	    "  --metrics.new-series-hold DURATION\n"
	    "                             expose each series born after start as 0 for\n"
	    "                             DURATION, then its value, so rate() and increase()\n"
	    "                             see its first lines (default 1m, at least the\n"
	    "                             scrape interval; 0: off; --once: always off)\n"
	    "  --metrics.created-timestamps\n"
	    "                             add _created samples to OpenMetrics scrapes\n"
	    "  --metrics.native-histograms\n"
	    "                             also keep native (exponential) histograms of the\n"
	    "                             durations, served in protobuf scrapes next to the\n"
	    "                             classic buckets\n"
	    "  --metrics.native-histogram-bucket-factor F\n"
	    "                             their bucket growth factor, above 1 (default 1.1:\n"
	    "                             schema 3, buckets 9% wide)\n"
	    "  --metrics.native-histogram-max-buckets N\n"
	    "                             at most N buckets per series, resolution halved\n"
	    "                             when more are needed (default 160, 8-1024)\n"
	    "  --series.idle-timeout DURATION\n"
	    "                             remove field-label series that count no line for\n"
	    "                             DURATION (default 0: never); for every source with\n"
	    "                             field labels that sets no series_idle_timeout\n",
	    out);
	/* Two pieces: C11 compilers need not take string literals over 4095 bytes. */
	fputs("  --web.disable-exporter-metrics\n"
	      "                             leave the process_* metrics out of the scrape\n"
	      "  --state.file PATH          checkpoint offsets and counters to PATH\n"
	      "  --state.catch-up-max-bytes SIZE\n"
	      "                             at a restart, read at most SIZE bytes of files\n"
	      "                             rotated while down, per source (default 4GiB;\n"
	      "                             units B, KB, MB, GB, KiB, MiB, GiB; 0: none)\n"
	      "  --state.fd-store KIND      keep open log files across a crash: auto\n"
	      "                             (default: systemd's store when the unit has one,\n"
	      "                             else a keeper process), keeper, systemd, off\n"
	      "  --state.fd-keeper-linger DURATION\n"
	      "                             the keeper exits this long after the exporter\n"
	      "                             died without coming back (default 10m)\n"
	      "  --log.level LEVEL          debug, info (default), warn, error\n"
	      "  --log.format FMT           logfmt (default) or json\n"
	      "  --once                     read the files from the start to EOF, print the\n"
	      "                             metrics to stdout and exit\n"
	      "  --backfill OUT             read the files like --once and write their history\n"
	      "                             as timestamped OpenMetrics to OUT (- for stdout)\n"
	      "                             for promtool tsdb create-blocks-from openmetrics\n"
	      "  --backfill.step DURATION   one sample per series per step of log time\n"
	      "                             (default 1m, 1s-24h)\n"
	      "  --backfill.until TIME      leave out lines at or after TIME (RFC 3339 like\n"
	      "                             2026-12-01T00:00:00Z, or Unix seconds)\n"
	      "  --threads N                --once and --backfill parse on N cores (default:\n"
	      "                             all; the output is the same for any N)\n"
	      "  --detect FILE...           try every preset and JSON on the first lines of\n"
	      "                             each FILE and print the command line that fits\n"
	      "  -h, --help                 show this help and exit\n"
	      "  --version                  show the version and exit\n"
	      "\n"
	      "Files present at start are read from their end; files that appear later\n"
	      "are read from the start.  SIGHUP (or POST /-/reload) reloads --config.file.\n"
	      "Exit status: 0 ok, 1 runtime failure, 2 bad usage or configuration,\n"
	      "3 (--once) a source read lines and none of them matched its format.\n",
	      out);
}

/* 1..max, at most 5 digits and nothing else (a count or whole seconds). */
static int parse_count(const char *arg, unsigned max, unsigned *ret)
{
	unsigned v = 0;

	if (!*arg || strlen(arg) > 5) {
		return -EINVAL;
	}
	for (const char *p = arg; *p; p++) {
		if (*p < '0' || *p > '9') {
			return -EINVAL;
		}
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < 1 || v > max) {
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int take_backfill_option(int opt, const char *arg, struct cli_options *o, char *err,
                                size_t err_size)
{
	int64_t ms;

	switch (opt) {
	case OPT_BACKFILL:
		if (!arg[0]) {
			(void)snprintf(err, err_size, "--backfill: an output path or - is needed");
			return -EINVAL;
		}
		o->backfill = arg;
		return 0;
	case OPT_BACKFILL_STEP:
		if (config_parse_duration(arg, BACKFILL_MAX_STEP_MS, &o->backfill_step_ms) < 0 ||
		    o->backfill_step_ms < BACKFILL_MIN_STEP_MS) {
			(void)snprintf(err, err_size,
			               "--backfill.step: '%s' is not a duration from 1s to 24h",
			               arg);
			return -EINVAL;
		}
		return 0;
	case OPT_THREADS:
		if (parse_count(arg, CLI_MAX_THREADS, &o->threads) < 0) {
			(void)snprintf(err, err_size,
			               "--threads: '%s' is not a number from 1 to %u", arg,
			               CLI_MAX_THREADS);
			return -EINVAL;
		}
		return 0;
	default: /* OPT_BACKFILL_UNTIL */
		if (logtime_parse(LOGTIME_AUTO, NULL, arg, strlen(arg), &ms) < 0 || ms == 0) {
			(void)snprintf(
			    err, err_size,
			    "--backfill.until: '%s' is not a time (2026-12-01T00:00:00Z, "
			    "2026-12-01T01:00:00+01:00 or Unix seconds)",
			    arg);
			return -EINVAL;
		}
		o->backfill_until_ms = ms;
		return 0;
	}
}

/* The native-histogram flags. */
static int take_native_option(int opt, const char *arg, struct cli_options *o, char *err,
                              size_t err_size)
{
	double factor;
	uint64_t u;

	switch (opt) {
	case OPT_NATIVE:
		o->native_histograms = true;
		return 0;
	case OPT_NATIVE_FACTOR:
		if (numparse_decimal(arg, strlen(arg), 0, &factor) < 0 ||
		    config_native_schema_for_factor(factor, &o->native_schema) < 0) {
			(void)snprintf(err, err_size,
			               "--metrics.native-histogram-bucket-factor: '%s' is not a "
			               "number above 1 (e.g. 1.1)",
			               arg);
			return -EINVAL;
		}
		o->has_native_schema = true;
		return 0;
	case OPT_NATIVE_MAX:
		if (numparse_u64(arg, strlen(arg), &u) < 0 || u < CONFIG_NATIVE_MIN_BUCKETS ||
		    u > CONFIG_NATIVE_MAX_BUCKETS) {
			(void)snprintf(err, err_size,
			               "--metrics.native-histogram-max-buckets: '%s' is not %u-%u",
			               arg, CONFIG_NATIVE_MIN_BUCKETS, CONFIG_NATIVE_MAX_BUCKETS);
			return -EINVAL;
		}
		o->native_max_buckets = (unsigned)u;
		return 0;
	default:
		return -EINVAL;
	}
}

static const char *const fd_store_names[] = {
    [CONFIG_FD_STORE_AUTO] = "auto",
    [CONFIG_FD_STORE_OFF] = "off",
    [CONFIG_FD_STORE_KEEPER] = "keeper",
    [CONFIG_FD_STORE_SYSTEMD] = "systemd",
};

static int take_fd_store_option(int opt, const char *arg, struct cli_options *o, char *err,
                                size_t err_size)
{
	if (opt == OPT_FD_LINGER) {
		if (config_parse_duration(arg, CONFIG_MAX_FD_KEEPER_LINGER_MS,
		                          &o->fd_keeper_linger_ms) < 0 ||
		    o->fd_keeper_linger_ms == 0) {
			(void)snprintf(
			    err, err_size,
			    "--state.fd-keeper-linger: '%s' is not a duration from 1ms to 24h "
			    "(e.g. 10m)",
			    arg);
			return -EINVAL;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(fd_store_names) / sizeof(fd_store_names[0]); i++) {
		if (strcmp(arg, fd_store_names[i]) == 0) {
			o->fd_store = (enum config_fd_store)i;
			o->fd_store_set = true;
			return 0;
		}
	}
	(void)snprintf(err, err_size,
	               "--state.fd-store: '%s' is not one of auto, keeper, systemd, off", arg);
	return -EINVAL;
}

static int take_option(int opt, const char *arg, struct cli_options *o, char *err, size_t err_size)
{
	struct config_listen listen;
	char why[512];
	int r;

	switch (opt) {
	case OPT_FORMAT:
		o->format = arg;
		return 0;
	case OPT_LOG_FORMAT_TEXT:
		o->format_text = arg;
		return 0;
	case OPT_SOURCE:
		if (config_check_source_name(arg, why, sizeof(why)) < 0) {
			(void)snprintf(err, err_size, "--source: %s%s", arg[0] ? "the name " : "",
			               why);
			return -EINVAL;
		}
		o->source = arg;
		return 0;
	case OPT_CONTAINER:
		if (config_container_from_name(arg, &o->container) < 0) {
			(void)snprintf(err, err_size,
			               "--container: unknown kind '%s' (none, cri, docker, auto)",
			               arg);
			return -EINVAL;
		}
		return 0;
	case OPT_CONTAINER_STREAM:
		if (config_streams_from_name(arg, &o->container_streams) < 0) {
			(void)snprintf(
			    err, err_size,
			    "--container.stream: unknown stream '%s' (stdout, stderr, all)", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_SYSLOG_TAG:
		if (!arg[0] || strpbrk(arg, " :[")) {
			(void)snprintf(
			    err, err_size,
			    "--syslog.tag: '%s' is not a syslog tag (no space, ':' or '[')", arg);
			return -EINVAL;
		}
		o->syslog_tag = arg;
		return 0;
	case OPT_SYSLOG_IDLE:
		r = config_parse_duration(arg, CONFIG_MAX_SYSLOG_IDLE_MS, &o->syslog_idle_ms);
		if (r < 0) {
			(void)snprintf(err, err_size,
			               r == -ERANGE
			                   ? "--syslog.idle-timeout: '%s' is longer than 24h"
			                   : "--syslog.idle-timeout: '%s' is not a duration (0 for "
			                     "never, or like 10m, 1h30m)",
			               arg);
			return -EINVAL;
		}
		o->syslog_idle_set = true;
		return 0;
	case OPT_SERIES_IDLE:
		r = config_parse_duration(arg, CONFIG_MAX_SERIES_IDLE_MS, &o->series_idle_ms);
		if (r < 0 || (o->series_idle_ms && o->series_idle_ms < CONFIG_MIN_SERIES_IDLE_MS)) {
			(void)snprintf(
			    err, err_size,
			    r == -ERANGE ? "--series.idle-timeout: '%s' is longer than 365d"
			                 : "--series.idle-timeout: '%s' is not a duration of 1s or "
			                   "more (0 for never, or like 30m, 2h, 7d)",
			    arg);
			return -EINVAL;
		}
		o->series_idle_set = true;
		return 0;
	case OPT_LABEL:
		if (o->n_labels >= CONFIG_MAX_STATIC_LABELS) {
			(void)snprintf(err, err_size, "--label: at most %u labels",
			               CONFIG_MAX_STATIC_LABELS);
			return -EINVAL;
		}
		o->labels[o->n_labels++] = arg;
		return 0;
	case OPT_CONFIG_FILE:
		o->config_file = arg;
		return 0;
	case OPT_CONFIG_CHECK:
		if (o->action == CLI_RUN) {
			o->action = CLI_CHECK;
		}
		return 0;
	case OPT_WEB_CONFIG:
		o->web_config_file = arg;
		return 0;
	case OPT_LIFECYCLE:
		o->enable_lifecycle = true;
		return 0;
	case OPT_NO_EXPORTER_METRICS:
		o->disable_exporter_metrics = true;
		return 0;
	case OPT_CONN_TIMEOUT:
		if (parse_count(arg, CLI_MAX_CONNECTION_TIMEOUT, &o->connection_timeout) < 0) {
			(void)snprintf(err, err_size,
			               "--web.connection-timeout: '%s' is not 1-%u seconds", arg,
			               CLI_MAX_CONNECTION_TIMEOUT);
			return -EINVAL;
		}
		return 0;
	case OPT_LISTEN:
		if (config_parse_listen_address(arg, &listen, why, sizeof(why)) < 0) {
			(void)snprintf(err, err_size, "--web.listen-address: %s", why);
			return -EINVAL;
		}
		o->listen_address = arg;
		return 0;
	case OPT_PATH:
		if (config_check_telemetry_path(arg, why, sizeof(why)) < 0) {
			(void)snprintf(err, err_size, "--web.telemetry-path: %s", why);
			return -EINVAL;
		}
		o->telemetry_path = arg;
		return 0;
	case OPT_HOLD:
		r = config_parse_duration(arg, CONFIG_MAX_NEW_SERIES_HOLD_MS,
		                          &o->new_series_hold_ms);
		if (r < 0) {
			(void)snprintf(err, err_size,
			               r == -ERANGE
			                   ? "--metrics.new-series-hold: '%s' is longer than 1h"
			                   : "--metrics.new-series-hold: '%s' is not a duration "
			                     "(0, or like 30s, 1m, 1m30s, 500ms)",
			               arg);
			return -EINVAL;
		}
		o->has_hold = true;
		return 0;
	case OPT_CREATED:
		o->created_timestamps = true;
		return 0;
	case OPT_NATIVE:
	case OPT_NATIVE_FACTOR:
	case OPT_NATIVE_MAX:
		return take_native_option(opt, arg, o, err, err_size);
	case OPT_ONCE:
		o->once = true;
		return 0;
	case OPT_BACKFILL:
	case OPT_BACKFILL_STEP:
	case OPT_BACKFILL_UNTIL:
	case OPT_THREADS:
		return take_backfill_option(opt, arg, o, err, err_size);
	case OPT_STATE:
		o->state_file = arg;
		return 0;
	case OPT_FD_STORE:
	case OPT_FD_LINGER:
		return take_fd_store_option(opt, arg, o, err, err_size);
	case OPT_CATCHUP:
		if (config_parse_size(arg, &o->catchup_max_bytes) < 0) {
			(void)snprintf(err, err_size,
			               "--state.catch-up-max-bytes: '%s' is not a size (e.g. 4GiB, "
			               "500MB, 0)",
			               arg);
			return -EINVAL;
		}
		o->catchup_max_set = true;
		return 0;
	case OPT_LOGLEVEL:
		o->log_level = arg;
		return 0;
	case OPT_LOGFMT:
		o->log_format = arg;
		return 0;
	case OPT_HELP:
		o->action = CLI_HELP;
		return 0;
	case OPT_VERSION:
		if (o->action != CLI_HELP) {
			o->action = CLI_VERSION;
		}
		return 0;
	case OPT_DETECT:
		if (o->action == CLI_RUN || o->action == CLI_CHECK) {
			o->action = CLI_DETECT;
		}
		return 0;
	default:
		(void)snprintf(err, err_size, "unknown option (see --help)");
		return -EINVAL;
	}
}

static int check_log_names(const struct cli_options *o, char *err, size_t err_size)
{
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	bool ok = !o->log_level;

	for (size_t i = 0; !ok && i < sizeof(levels) / sizeof(levels[0]); i++) {
		ok = strcmp(o->log_level, levels[i]) == 0;
	}
	if (!ok) {
		(void)snprintf(err, err_size,
		               "--log.level: unknown level '%s' (debug, info, "
		               "warn, error)",
		               o->log_level);
		return -EINVAL;
	}
	if (o->log_format && strcmp(o->log_format, "logfmt") != 0 &&
	    strcmp(o->log_format, "json") != 0) {
		(void)snprintf(err, err_size, "--log.format: unknown format '%s' (logfmt, json)",
		               o->log_format);
		return -EINVAL;
	}
	return 0;
}

static const char *option_name(int opt)
{
	for (size_t i = 0; long_options[i].name; i++) {
		if (long_options[i].val == opt) {
			return long_options[i].name;
		}
	}
	return "?";
}

/* An option getopt did not accept: a known one without its value, or an
 * unknown one (with the nearest known name, and the list). */
static void bad_option(const char *arg, char *err, size_t err_size)
{
	const char *names[ARRAY_SIZE(long_options)];
	char word[NAME_MAX_CMP + 1];
	size_t n = 0, len = 0, w = 0;
	char list[1024] = "";

	if (optopt >= OPT_FORMAT && optopt < OPT_END) {
		(void)snprintf(err, err_size, "--%s needs a value (see --help)",
		               option_name(optopt));
		return;
	}
	for (size_t i = 0; long_options[i].name; i++) {
		names[n++] = long_options[i].name;
		int k = snprintf(list + len, sizeof(list) - len, "%s--%s", len ? ", " : "",
		                 long_options[i].name);
		if (k > 0 && (size_t)k < sizeof(list) - len) {
			len += (size_t)k;
		}
	}
	/* "--formt=x" -> "formt" */
	const char *p = arg;
	while (*p == '-') {
		p++;
	}
	while (p[w] && p[w] != '=' && w < NAME_MAX_CMP) {
		word[w] = p[w];
		w++;
	}
	word[w] = '\0';
	const char *near = nearest(word, names, n);
	if (near) {
		(void)snprintf(err, err_size,
		               "unknown option '%s' (did you mean --%s?); options: %s", arg, near,
		               list);
	} else {
		(void)snprintf(err, err_size, "unknown option '%s'; options: -h, %s", arg, list);
	}
}

/* Options that may be given more than once: every --label adds one. */
static bool is_repeatable(int opt)
{
	return opt == OPT_LABEL || opt == OPT_HELP || opt == OPT_VERSION;
}

int cli_parse(int argc, char **argv, struct cli_options *ret_opts, char *err, size_t err_size)
{
	struct cli_options o = {.action = CLI_RUN};
	const char *seen[OPT_END - OPT_FORMAT] = {NULL};
	int opt, r;

	optind = 0; /* 0: glibc also resets its state inside a bundle of short options */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		if (opt == '?') {
			bad_option(argv[optind - 1], err, err_size);
			return -EINVAL;
		}
		if (opt == 'h') {
			opt = OPT_HELP;
		}
		/* a value given twice: which one was meant?  (a switch twice is harmless) */
		if (optarg && !is_repeatable(opt) && seen[opt - OPT_FORMAT]) {
			const char *prev = seen[opt - OPT_FORMAT];
			(void)snprintf(
			    err, err_size,
			    "--%s given twice ('%s' and '%s'): it may be given once (the "
			    "second would silently replace the first)",
			    option_name(opt), prev, optarg);
			return -EINVAL;
		}
		seen[opt - OPT_FORMAT] = optarg ? optarg : "";
		r = take_option(opt, optarg, &o, err, err_size);
		if (r < 0) {
			return r;
		}
	}
	o.files = argv + optind;
	o.n_files = (size_t)(argc - optind);
	if (o.action == CLI_HELP || o.action == CLI_VERSION) {
		*ret_opts = o;
		return 0;
	}
	r = check_log_names(&o, err, err_size);
	if (r < 0) {
		return r;
	}
	if (o.backfill && o.once) {
		(void)snprintf(err, err_size, "--backfill and --once cannot be given together");
		return -EINVAL;
	}
	if (!o.backfill && (o.backfill_step_ms || o.backfill_until_ms)) {
		(void)snprintf(err, err_size,
		               "--backfill.step and --backfill.until need --backfill");
		return -EINVAL;
	}
	if (o.action == CLI_DETECT) {
		if (o.config_file || o.format || o.format_text || o.once || o.backfill) {
			(void)snprintf(err, err_size,
			               "--detect takes only log FILEs (it tries every "
			               "format itself)");
			return -EINVAL;
		}
		if (o.n_files == 0) {
			(void)snprintf(err, err_size, "--detect needs log FILEs to look at");
			return -EINVAL;
		}
		*ret_opts = o;
		return 0;
	}
	if (o.config_file &&
	    (o.n_files || o.format || o.format_text || o.source || o.n_labels || o.syslog_tag ||
	     o.syslog_idle_set || o.container || o.container_streams)) {
		(void)snprintf(err, err_size,
		               "with --config.file the sources come from the file: %s cannot be "
		               "given too",
		               o.n_files ? "log FILEs"
		                         : "--format/--log-format/--source/--label/--syslog.tag/"
		                           "--syslog.idle-timeout/--container");
		return -EINVAL;
	}
	if (o.series_idle_set && !o.config_file && o.series_idle_ms) {
		(void)snprintf(err, err_size,
		               "--series.idle-timeout needs --config.file (only sources with "
		               "field_labels or path_labels have series to remove)");
		return -EINVAL;
	}
	if (o.container_streams && !o.container) {
		(void)snprintf(err, err_size,
		               "--container.stream needs --container cri|docker|auto");
		return -EINVAL;
	}
	if (!o.config_file && o.n_files == 0) {
		(void)snprintf(err, err_size, "no log file given (see --help)");
		return -EINVAL;
	}
	if (o.n_files > CONFIG_MAX_PATHS) {
		(void)snprintf(err, err_size, "too many files (at most %u)", CONFIG_MAX_PATHS);
		return -EINVAL;
	}
	*ret_opts = o;
	return 0;
}

static int compile_check(enum logparse_kind kind, const char *text, char *err, size_t err_size)
{
	struct logparse_error perr = {.message = {0}};
	struct log_parser *p = NULL;
	int r = logparse_create(kind, text, &p, &perr);

	if (r == -EINVAL) {
		(void)snprintf(err, err_size, "--log-format: %s", perr.message);
	}
	logparse_destroy(p);
	return r;
}

static int add_labels(const struct cli_options *o, struct config_source *s, char *err,
                      size_t err_size)
{
	for (size_t i = 0; i < o->n_labels; i++) {
		const char *eq = strchr(o->labels[i], '=');
		char name[128], why[256];
		size_t nl = eq ? (size_t)(eq - o->labels[i]) : 0;
		int r;
		if (!eq || nl == 0 || nl >= sizeof(name)) {
			(void)snprintf(err, err_size, "--label: '%s' is not NAME=VALUE",
			               o->labels[i]);
			return -EINVAL;
		}
		memcpy(name, o->labels[i], nl);
		name[nl] = '\0';
		if (config_check_label_name(name, false, why, sizeof(why)) < 0) {
			(void)snprintf(err, err_size, "--label %s: %s", o->labels[i], why);
			return -EINVAL;
		}
		if (config_check_label_value(eq + 1, why, sizeof(why)) < 0) {
			(void)snprintf(err, err_size, "--label %s: label value %s", name, why);
			return -EINVAL;
		}
		r = config_source_add_label(s, name, eq + 1);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static int build_source(const struct cli_options *o, struct config *c, char *err, size_t err_size)
{
	enum logparse_kind kind;
	const char *fmt = o->format ? o->format : "combined";
	struct config_source *s;
	int r;

	if (logparse_kind_from_name(fmt, &kind) < 0) {
		const char *near = nearest(fmt, format_names, ARRAY_SIZE(format_names));
		char list[256] = "";
		size_t len = 0;
		for (size_t i = 0; i < ARRAY_SIZE(format_names); i++) {
			int k = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
			                 format_names[i]);
			if (k > 0 && (size_t)k < sizeof(list) - len) {
				len += (size_t)k;
			}
		}
		(void)snprintf(err, err_size, "--format: unknown format '%s'%s%s%s (formats: %s)",
		               fmt, near ? " (did you mean --format " : "", near ? near : "",
		               near ? "?)" : "", list);
		return -EINVAL;
	}
	if (kind == LOGPARSE_PRESET) {
		if (o->format_text) {
			(void)snprintf(err, err_size,
			               "--log-format needs --format nginx|apache|json|regex");
			return -EINVAL;
		}
	} else if (!o->format_text && kind != LOGPARSE_JSON) {
		(void)snprintf(err, err_size, "--format %s needs --log-format", fmt);
		return -EINVAL;
	}
	r = compile_check(kind, kind == LOGPARSE_PRESET ? fmt : o->format_text, err, err_size);
	if (r < 0) {
		return r;
	}
	r = config_add_source(c, o->source ? o->source : "access", kind,
	                      kind == LOGPARSE_PRESET ? fmt : o->format_text, &s);
	if (r < 0) {
		return r;
	}
	r = add_labels(o, s, err, err_size);
	s->container = o->container;
	if (o->container_streams) {
		s->container_streams = o->container_streams;
	}
	for (size_t i = 0; r == 0 && i < o->n_files; i++) {
		r = config_source_add_path(s, o->files[i]);
	}
	if (r == 0 && o->syslog_tag) {
		r = config_set_string(&s->syslog_tag, o->syslog_tag);
	}
	s->syslog_idle_ms = o->syslog_idle_ms;
	s->syslog_idle_set = o->syslog_idle_set;
	return r;
}

/* Explicit flags win over the file's global section. */
static int apply_overrides(const struct cli_options *o, struct config *c)
{
	const struct {
		const char *value;
		char **field;
	} overrides[] = {
	    {o->listen_address, &c->listen_address}, {o->telemetry_path, &c->telemetry_path},
	    {o->state_file, &c->state_file},         {o->log_level, &c->log_level},
	    {o->log_format, &c->log_format},         {o->web_config_file, &c->web_config_file},
	};

	for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
		if (overrides[i].value &&
		    config_set_string(overrides[i].field, overrides[i].value) < 0) {
			return -ENOMEM;
		}
	}
	c->once = o->once;
	c->backfill = o->backfill != NULL;
	c->threads = o->threads;
	c->enable_lifecycle = o->enable_lifecycle;
	if (o->has_hold) {
		c->new_series_hold_ms = o->new_series_hold_ms;
	}
	/* The flag is the default of every source with field labels; a
	 * source's own series_idle_timeout wins. */
	for (size_t i = 0; o->series_idle_set && i < c->n_sources; i++) {
		struct config_source *s = &c->sources[i];
		if (!s->series_idle_set && s->n_field_labels) {
			s->series_idle_ms = o->series_idle_ms;
		}
	}
	c->created_timestamps = c->created_timestamps || o->created_timestamps;
	c->native_histograms = c->native_histograms || o->native_histograms;
	if (o->has_native_schema) {
		c->native_schema = o->native_schema;
	}
	if (o->native_max_buckets) {
		c->native_max_buckets = o->native_max_buckets;
	}
	if (o->catchup_max_set) {
		c->catchup_max_bytes = o->catchup_max_bytes;
	}
	if (o->fd_store_set) {
		c->fd_store = o->fd_store;
	}
	if (o->fd_keeper_linger_ms) {
		c->fd_keeper_linger_ms = o->fd_keeper_linger_ms;
	}
	c->disable_exporter_metrics = o->disable_exporter_metrics;
	c->connection_timeout =
	    o->connection_timeout ? o->connection_timeout : CLI_DEFAULT_CONNECTION_TIMEOUT;
	return 0;
}

int cli_build_config(const struct cli_options *o, struct config **ret_config, char *err,
                     size_t err_size)
{
	struct config *c = config_create();
	int r;

	err[0] = '\0';
	if (!c) {
		return -ENOMEM;
	}
	if (o->config_file) {
		r = config_yaml_load_file(c, o->config_file, err, err_size);
		if (r < 0 && r != -ENOMEM) {
			/* Unreadable and invalid files are both configuration errors. */
			r = -EINVAL;
		}
	} else {
		r = build_source(o, c, err, err_size);
	}
	if (r == 0) {
		r = apply_overrides(o, c);
	}
	if (r == 0) {
		r = inputspec_check_config(c, err, err_size);
	}
	if (r < 0) {
		if (!err[0]) {
			(void)snprintf(err, err_size, "%s", strerror(-r));
		}
		config_destroy(c);
		return r;
	}
	*ret_config = c;
	return 0;
}
