/*
 * main.c - process entry: flags, configuration, logging, then the daemon,
 * --once or --config.check.
 *
 * The only place that exits with a status: 0 ok, 1 runtime failure,
 * 2 bad usage or configuration (also for --config.check).  Reloads rebuild
 * the configuration from the same parsed flags (cli_build_config), so flag
 * overrides keep winning over the file after SIGHUP.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "build_config.h"
#include "config/config.h"
#include "exporter/cli.h"
#include "exporter/backfill.h"
#include "exporter/daemon.h"
#include "exporter/detect.h"
#include "exporter/http/http.h"
#include "exporter/log.h"

static int load_config(void *userdata, struct config **ret_config, char *err, size_t err_size)
{
	return cli_build_config(userdata, ret_config, err, err_size);
}

static void setup_logging(const struct config *c)
{
	enum log_level level = LOG_LEVEL_INFO;
	enum log_format fmt = LOG_FORMAT_LOGFMT;

	/* Both names were validated by cli_parse or the YAML reader. */
	if (c->log_level) {
		(void)log_level_from_name(c->log_level, &level);
	}
	if (c->log_format) {
		(void)log_format_from_name(c->log_format, &fmt);
	}
	log_setup(level, fmt);
}

static int check_only(const struct config *c)
{
	printf("accesslog_exporter: configuration OK (%s: %zu source%s%s%s)\n",
	       c->config_file ? c->config_file : "command line", c->n_sources,
	       c->n_sources == 1 ? "" : "s", c->web_config_file ? ", web config " : "",
	       c->web_config_file ? c->web_config_file : "");
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_options o;
	struct config *c = NULL;
	char err[1024] = "";
	int r, rc;

	if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "accesslog_exporter: %s\n", err);
		return 2;
	}
	if (o.action == CLI_HELP) {
		cli_usage(stdout);
		return 0;
	}
	if (o.action == CLI_DETECT) {
		return detect_run(o.files, o.n_files, stdout, stderr);
	}
	if (o.action == CLI_VERSION) {
		printf("accesslog_exporter %s (revision %s, pcre2 %s, libmicrohttpd %s)\n",
		       ACCESSLOG_VERSION, ACCESSLOG_REVISION, ACCESSLOG_PCRE2_VERSION,
		       ACCESSLOG_MHD_VERSION);
		return 0;
	}
	r = cli_build_config(&o, &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "accesslog_exporter: %s\n", err);
		return r == -EINVAL ? 2 : 1;
	}
	/* --once and --backfill serve nothing, but --config.check checks what a
	 * start would */
	if (c->web_config_file && ((!c->once && !c->backfill) || o.action == CLI_CHECK)) {
		r = http_check_web_config(c->web_config_file, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "accesslog_exporter: %s\n", err);
			config_destroy(c);
			return r == -ENOMEM ? 1 : 2;
		}
	}
	if (o.action == CLI_CHECK) {
		rc = check_only(c);
		config_destroy(c);
		return rc;
	}
	setup_logging(c);
	if (c->once) {
		rc = daemon_run_once(c, stdout);
	} else if (c->backfill) {
		struct backfill_options bo = {
		    .out = o.backfill,
		    .step_ms = o.backfill_step_ms,
		    .until_ms = o.backfill_until_ms,
		    .threads = c->threads,
		};
		rc = backfill_run(c, &bo);
	} else {
		struct daemon_loader loader = {load_config, &o};
		rc = daemon_run(c, &loader);
	}
	config_destroy(c);
	return rc;
}
