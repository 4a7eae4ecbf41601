/*
 * procstat.h - the standard process_* metrics, read from /proc/self.
 *
 * Same names and meanings as the Prometheus client libraries, so the
 * usual dashboards and alerts work unchanged.
 */
#ifndef EXPORTER_PROCSTAT_H
#define EXPORTER_PROCSTAT_H

#include <stdint.h>

#include "exporter/metrics/expo.h"
#include "exporter/strbuf.h"

/* A plain value record: one reading. */
struct procstat {
	double cpu_seconds;      /* user + system */
	uint64_t resident_bytes; /* RSS */
	uint64_t virtual_bytes;  /* VSZ */
	uint64_t open_fds;
	uint64_t max_fds;  /* soft RLIMIT_NOFILE */
	double start_time; /* Unix seconds */
};

/* Read the current values.  Returns 0 or -errno (e.g. no /proc); *ret is
 * written only on success. */
int procstat_read(struct procstat *ret);

/* Append the process_* families for one reading. */
void procstat_render(const struct procstat *p, enum expo_format f, struct strbuf *out);

#endif
