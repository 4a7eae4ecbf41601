/*
 * cli.c - flag parsing (see cli.h).
 *
 * getopt_long with a table of long options; every flag that takes a value
 * accepts both "--flag value" and "--flag=value".  Validation that needs
 * no I/O (format names, label names, listen address syntax) happens here
 * so mistakes are reported before anything starts.
 */
#include "exporter/cli.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "exporter/http.h"
#include "parsers/logparse.h"

enum {
	OPT_FORMAT = 256,
	OPT_LOG_FORMAT_TEXT,
	OPT_SOURCE,
	OPT_LISTEN,
	OPT_PATH,
	OPT_ONCE,
	OPT_STATE,
	OPT_LOGLEVEL,
	OPT_LOGFMT,
	OPT_LABEL,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{"format", required_argument, NULL, OPT_FORMAT},
	{"log-format", required_argument, NULL, OPT_LOG_FORMAT_TEXT},
	{"source", required_argument, NULL, OPT_SOURCE},
	{"label", required_argument, NULL, OPT_LABEL},
	{"web.listen-address", required_argument, NULL, OPT_LISTEN},
	{"web.telemetry-path", required_argument, NULL, OPT_PATH},
	{"once", no_argument, NULL, OPT_ONCE},
	{"state.file", required_argument, NULL, OPT_STATE},
	{"log.level", required_argument, NULL, OPT_LOGLEVEL},
	{"log.format", required_argument, NULL, OPT_LOGFMT},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

void cli_usage(FILE *out)
{
	fputs("Usage: accesslog_exporter [OPTION]... FILE...\n"
	      "Count web-server access-log lines by status code and serve them to Prometheus.\n"
	      "\n"
	      "  --format NAME              combined (default), common, vhost_combined, main,\n"
	      "                             ingress, or nginx|apache|json|regex with --log-format\n"
	      "  --log-format TEXT          nginx log_format / Apache LogFormat / regex / JSON keys\n"
	      "  --source NAME              value of the source label (default: access)\n"
	      "  --label NAME=VALUE         static label on every series of the source\n"
	      "  --web.listen-address ADDR  host:port to serve on (default :9714)\n"
	      "  --web.telemetry-path PATH  path of the metrics (default /metrics)\n"
	      "  --once                     read FILEs from the start to EOF, print the metrics\n"
	      "                             to stdout and exit\n"
	      "  --state.file PATH          checkpoint offsets and counters to PATH\n"
	      "  --log.level LEVEL          debug, info (default), warn, error\n"
	      "  --log.format FMT           logfmt (default) or json\n"
	      "  --help                     show this help and exit\n"
	      "  --version                  show the version and exit\n"
	      "\n"
	      "Files present at start are read from their end; files that appear later\n"
	      "are read from the start.  Exit status: 0 ok, 1 runtime failure, 2 bad usage.\n",
	      out);
}

struct pending {
	const char *format;
	const char *format_text;
	const char *source;
	const char *labels[CONFIG_MAX_STATIC_LABELS];
	size_t n_labels;
};

static int take_option(int opt, const char *arg, struct config *c, struct pending *p,
		       struct cli_options *o, char *err, size_t err_size)
{
	char host[256];
	uint16_t port;

	switch (opt) {
	case OPT_FORMAT:
		p->format = arg;
		return 0;
	case OPT_LOG_FORMAT_TEXT:
		p->format_text = arg;
		return 0;
	case OPT_SOURCE:
		p->source = arg;
		return 0;
	case OPT_LABEL:
		if (p->n_labels >= CONFIG_MAX_STATIC_LABELS) {
			(void)snprintf(err, err_size, "--label: at most %u labels",
				       CONFIG_MAX_STATIC_LABELS);
			return -EINVAL;
		}
		p->labels[p->n_labels++] = arg;
		return 0;
	case OPT_LISTEN:
		if (http_parse_listen_address(arg, host, sizeof(host), &port) < 0) {
			(void)snprintf(err, err_size,
				       "--web.listen-address: '%s' is not host:port", arg);
			return -EINVAL;
		}
		return config_set_string(&c->listen_address, arg);
	case OPT_PATH:
		if (arg[0] != '/') {
			(void)snprintf(err, err_size, "--web.telemetry-path must start with '/'");
			return -EINVAL;
		}
		return config_set_string(&c->telemetry_path, arg);
	case OPT_ONCE:
		c->once = true;
		return 0;
	case OPT_STATE:
		return config_set_string(&c->state_file, arg);
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
		o->action = CLI_VERSION;
		return 0;
	default:
		(void)snprintf(err, err_size, "unknown option (see --help)");
		return -EINVAL;
	}
}

static int build_source(struct config *c, const struct pending *p, int argc, char **argv,
			char *err, size_t err_size)
{
	enum logparse_kind kind;
	const char *fmt = p->format ? p->format : "combined";
	struct config_source *s;
	int r;

	if (logparse_kind_from_name(fmt, &kind) < 0) {
		(void)snprintf(err, err_size, "--format: unknown format '%s'", fmt);
		return -EINVAL;
	}
	if (kind == LOGPARSE_PRESET) {
		if (p->format_text) {
			(void)snprintf(err, err_size,
				       "--log-format needs --format nginx|apache|json|regex");
			return -EINVAL;
		}
	} else if (!p->format_text && kind != LOGPARSE_JSON) {
		(void)snprintf(err, err_size, "--format %s needs --log-format", fmt);
		return -EINVAL;
	}
	r = config_add_source(c, p->source ? p->source : "access", kind,
			      kind == LOGPARSE_PRESET ? fmt : p->format_text, &s);
	if (r < 0) {
		return r;
	}
	for (size_t i = 0; i < p->n_labels; i++) {
		const char *eq = strchr(p->labels[i], '=');
		char name[128];
		size_t nl = eq ? (size_t)(eq - p->labels[i]) : 0;
		if (!eq || nl == 0 || nl >= sizeof(name)) {
			(void)snprintf(err, err_size, "--label: '%s' is not NAME=VALUE", p->labels[i]);
			return -EINVAL;
		}
		memcpy(name, p->labels[i], nl);
		name[nl] = '\0';
		r = config_source_add_label(s, name, eq + 1);
		if (r == -EINVAL) {
			(void)snprintf(err, err_size, "--label: '%s' is not a usable label name",
				       name);
		}
		if (r < 0) {
			return r;
		}
	}
	for (int i = optind; i < argc; i++) {
		r = config_source_add_path(s, argv[i]);
		if (r < 0) {
			(void)snprintf(err, err_size, "too many files (at most %u)",
				       CONFIG_MAX_PATHS);
			return r;
		}
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct config *c, struct cli_options *ret_opts, char *err,
	      size_t err_size)
{
	struct pending p = {0};
	struct cli_options o = {.action = CLI_RUN};
	int opt, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (opt == '?') {
			(void)snprintf(err, err_size, "unknown option or missing value: '%s'",
				       argv[optind - 1]);
			return -EINVAL;
		}
		r = take_option(opt, optarg, c, &p, &o, err, err_size);
		if (r < 0) {
			return r;
		}
	}
	if (o.action != CLI_RUN) {
		*ret_opts = o;
		return 0;
	}
	if (optind >= argc) {
		(void)snprintf(err, err_size, "no log file given (see --help)");
		return -EINVAL;
	}
	r = build_source(c, &p, argc, argv, err, err_size);
	if (r < 0) {
		if (!err[0]) {
			(void)snprintf(err, err_size, "%s", strerror(-r));
		}
		return r;
	}
	*ret_opts = o;
	return 0;
}
