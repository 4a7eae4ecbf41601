/*
 * detect.h - accesslog_exporter --detect FILE...: which format fits a log.
 *
 * Reads the first lines of each file (bounded), parses them with every
 * preset, a few well-known extended formats and JSON, prints the match
 * rate of each, then the best one as a command line and a YAML source;
 * when no format fits every line, the closest one's diagnosis of the first
 * line it failed (logparse_diagnose), so the user sees what to change.
 */
#ifndef EXPORTER_DETECT_H
#define EXPORTER_DETECT_H

#include <stddef.h>
#include <stdio.h>

#define DETECT_MAX_LINES 1000u
#define DETECT_MAX_BYTES (1024u * 1024u)
#define DETECT_GOOD_PERCENT 95 /* a format "fits" when it parses this share of the lines */

/* Detect the format of every file; report on out, errors (unreadable
 * file) on err.  Returns the exit status: 0 when a format fits every file,
 * 1 when a file cannot be read, is empty, or no format fits it. */
int detect_run(char *const *files, size_t n, FILE *out, FILE *err);

#endif
