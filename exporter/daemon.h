/*
 * daemon.h - run the exporter: --once, or follow files and serve HTTP.
 */
#ifndef EXPORTER_DAEMON_H
#define EXPORTER_DAEMON_H

#include <stdio.h>

#include "config/config.h"
#include "exporter/metrics/metrics.h"

/* The registry options of a config (its metrics section); the new-series
 * hold is off for --once and --backfill. */
struct metrics_options daemon_metrics_options(const struct config *c);

/* --once exit status when a source read lines and none of them parsed
 * (and no file was missing: that is 1): the format is wrong. */
#define DAEMON_EXIT_NONE_PARSED 3

/* Where the HTTP server shows each source's sampled parse failures with
 * their diagnoses (behind the same TLS and basic auth as the metrics). */
#define DAEMON_DEBUG_PAGE "/debug/parse-errors"

/* Read every source's files from the start to EOF and write the exposition
 * to out; then report per source on stderr (lines, parse errors, sampled
 * failing lines with diagnoses).  Returns a process exit code (0, 1
 * runtime error or files not read, 2 bad config, DAEMON_EXIT_NONE_PARSED). */
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
