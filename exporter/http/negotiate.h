/*
 * negotiate.h - HTTP content negotiation for the metrics endpoint.
 *
 * Parses Accept (media ranges with q-values) to choose between the text
 * format 0.0.4, OpenMetrics 1.0.0 and protobuf, and Accept-Encoding to decide on
 * gzip.  Pure functions over header strings: no I/O, no allocation.
 */
#ifndef EXPORTER_NEGOTIATE_H
#define EXPORTER_NEGOTIATE_H

#include <stdbool.h>

#include "exporter/metrics/expo.h"

/* Headers longer than this are not parsed (the defaults apply). */
#define NEGOTIATE_MAX_HEADER 4096

/* The exposition format for an Accept header (NULL: absent): the format
 * with the highest q-value, ties going to text, then OpenMetrics 1.0.0,
 * then protobuf (MetricFamily, delimited; matched only when named with both
 * parameters, never by a wildcard); junk or nothing acceptable gets text. */
enum expo_format negotiate_format(const char *accept);

/* Whether an Accept-Encoding header (NULL: absent) allows gzip: "gzip" or
 * "x-gzip" with q > 0, or "*" with q > 0 when gzip is not listed. */
bool negotiate_gzip(const char *accept_encoding);

#endif
