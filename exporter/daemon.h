/*
 * daemon.h - run the exporter: --once, or follow files and serve HTTP.
 */
#ifndef EXPORTER_DAEMON_H
#define EXPORTER_DAEMON_H

#include <stdio.h>

#include "config/config.h"

/* Read every source's files from the start to EOF and write the exposition
 * to out.  Returns a process exit code (0, 1 runtime error, 2 bad config). */
int daemon_run_once(const struct config *c, FILE *out);

/* Follow the files and serve metrics until SIGTERM/SIGINT.  Returns a
 * process exit code. */
int daemon_run(const struct config *c);

#endif
