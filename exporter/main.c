/*
 * main.c - process entry: flags, logging set-up, then the daemon or --once.
 *
 * The only place that exits with a status: 0 ok, 1 runtime failure,
 * 2 bad usage or configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "build_config.h"
#include "config/config.h"
#include "exporter/cli.h"
#include "exporter/daemon.h"
#include "exporter/log.h"

int main(int argc, char **argv)
{
	struct config *c = config_create();
	struct cli_options o;
	enum log_level level = LOG_LEVEL_INFO;
	enum log_format fmt = LOG_FORMAT_LOGFMT;
	char err[512] = "";
	int rc;

	if (!c) {
		fputs("accesslog_exporter: out of memory\n", stderr);
		return 1;
	}
	if (cli_parse(argc, argv, c, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "accesslog_exporter: %s\n", err);
		config_destroy(c);
		return 2;
	}
	if (o.action == CLI_HELP) {
		cli_usage(stdout);
		config_destroy(c);
		return 0;
	}
	if (o.action == CLI_VERSION) {
		printf("accesslog_exporter %s (revision %s, pcre2 %s, libmicrohttpd %s)\n",
		       ACCESSLOG_VERSION, ACCESSLOG_REVISION, ACCESSLOG_PCRE2_VERSION,
		       ACCESSLOG_MHD_VERSION);
		config_destroy(c);
		return 0;
	}
	if ((o.log_level && log_level_from_name(o.log_level, &level) < 0) ||
	    (o.log_format && log_format_from_name(o.log_format, &fmt) < 0)) {
		fprintf(stderr, "accesslog_exporter: bad --log.level or --log.format\n");
		config_destroy(c);
		return 2;
	}
	log_setup(level, fmt);
	rc = c->once ? daemon_run_once(c, stdout) : daemon_run(c);
	config_destroy(c);
	return rc;
}
