/*
 * landing.h - the HTML landing page at "/" (rendering only, no I/O).
 *
 * In the style of exporter-toolkit's landing page: name, version, a
 * one-line description, links to the metrics and health endpoints, then a
 * table of every source and its files from a status snapshot (snapshot.h).
 * Plain HTML with a little inline CSS, no JavaScript; every string that
 * comes from the configuration or the file system is HTML-escaped.
 */
#ifndef EXPORTER_LANDING_H
#define EXPORTER_LANDING_H

#include <stdbool.h>

#include "exporter/http/snapshot.h"
#include "exporter/strbuf.h"

struct landing_info {
	const char *version;
	const char *revision;
	const char *telemetry_path; /* absolute ("/metrics"); linked relative to "/" */
	bool lifecycle;             /* POST /-/reload enabled (mentioned on the page) */
};

/* Append the page to b.  snap may be NULL (no snapshot published yet).
 * Returns b->error (0, or -ENOSPC/-ENOMEM when the page did not fit). */
int landing_render(const struct landing_info *li, const struct snapshot *snap, struct strbuf *b);

/* Append text to b with & < > " ' as entities (safe in element text and
 * quoted attribute values).  NULL appends nothing. */
void landing_escape(struct strbuf *b, const char *text);

#endif
