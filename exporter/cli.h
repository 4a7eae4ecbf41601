/*
 * cli.h - command-line flags into a struct config.
 *
 * Flags follow the Prometheus exporter conventions (--web.listen-address,
 * --web.telemetry-path, --log.level ...).  Positional arguments are log
 * files of the single command-line source.
 */
#ifndef EXPORTER_CLI_H
#define EXPORTER_CLI_H

#include <stdio.h>

#include "config/config.h"

enum cli_action {
	CLI_RUN,
	CLI_HELP,
	CLI_VERSION,
};

struct cli_options {
	enum cli_action action;
	const char *log_level;  /* borrowed from argv, NULL: default */
	const char *log_format; /* borrowed from argv, NULL: default */
};

/* Parse argv into c.  0 on success; -EINVAL with a message in err for bad
 * usage (the caller prints it and exits 2). */
int cli_parse(int argc, char **argv, struct config *c, struct cli_options *ret_opts, char *err,
	      size_t err_size);

/* Print usage text. */
void cli_usage(FILE *out);

#endif
