/*
 * daemon.h - run the exporter: --once, or follow files and serve HTTP.
 */
#ifndef EXPORTER_DAEMON_H
#define EXPORTER_DAEMON_H

#include <stdio.h>

#include "config/config.h"
#include "exporter/metrics.h"

/* The registry options of a config (its metrics section); the new-series
 * hold is off for --once and --backfill. */
struct metrics_options daemon_metrics_options(const struct config *c);

/* Read every source's files from the start to EOF and write the exposition
 * to out.  Returns a process exit code (0, 1 runtime error, 2 bad config). */
int daemon_run_once(const struct config *c, FILE *out);

/* Builds a fresh configuration for a reload (SIGHUP, POST /-/reload):
 * 0 and *ret_config (caller of load owns it), or -EINVAL (bad config) /
 * -errno with the message in err.  It runs on the ingest thread. */
struct daemon_loader {
	int (*load)(void *userdata, struct config **ret_config, char *err, size_t err_size);
	void *userdata;
};

/* Follow the files and serve metrics until SIGTERM/SIGINT; SIGHUP and
 * POST /-/reload reload through loader (NULL: reload reports an error).
 * c must outlive the call.  Returns a process exit code. */
int daemon_run(const struct config *c, const struct daemon_loader *loader);

#endif
