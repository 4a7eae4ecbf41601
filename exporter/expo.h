/*
 * expo.h - low-level writer for the Prometheus exposition formats.
 *
 * Knows how families, samples and label values are spelled in the text
 * format 0.0.4 and in OpenMetrics 1.0; knows nothing about which metrics
 * exist (that is metrics.c).  Label values are escaped exactly (\\, \",
 * \n) and always come out as valid UTF-8: invalid byte sequences from log
 * lines are replaced by U+FFFD so a scrape can never be rejected.
 */
#ifndef EXPORTER_EXPO_H
#define EXPORTER_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "exporter/strbuf.h"

enum expo_format {
	EXPO_TEXT,        /* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

enum expo_type {
	EXPO_COUNTER,
	EXPO_GAUGE,
	EXPO_HISTOGRAM,
	EXPO_INFO, /* rendered as a gauge in text, as info in OpenMetrics */
};

struct expo_label {
	const char *name; /* NULL: value is a fragment from expo_labels_fragment */
	const char *value;
	size_t value_len; /* 0: use strlen(value); a fragment needs its length */
};

/* Content-Type header value for a format. */
const char *expo_content_type(enum expo_format f);

/* Write "# HELP" and "# TYPE" for a family.  name is the full name in text
 * format (counters end in _total); OpenMetrics drops the _total / _info
 * suffix on the family line as the spec wants. */
void expo_family(struct strbuf *b, enum expo_format f, const char *name, enum expo_type type,
                 const char *help);

/* Write one sample line: name + suffix, labels (then an optional extra
 * label, e.g. le), value. */
void expo_sample_u64(struct strbuf *b, const char *name, const char *suffix,
                     const struct expo_label *labels, size_t n_labels,
                     const struct expo_label *extra, uint64_t value);
void expo_sample_double(struct strbuf *b, const char *name, const char *suffix,
                        const struct expo_label *labels, size_t n_labels,
                        const struct expo_label *extra, double value);

/* Write the OpenMetrics created sample of a counter or histogram series:
 * name (its _total suffix dropped) + "_created", the labels, and the Unix
 * time unix_ms in seconds with millisecond precision. */
void expo_sample_created(struct strbuf *b, const char *name, const struct expo_label *labels,
                         size_t n_labels, int64_t unix_ms);

/* Append a label value escaped for the exposition formats (valid UTF-8 out). */
void expo_escape_value(struct strbuf *b, const char *value, size_t len);

/* Append labels as they appear between the braces ('a="x",b="y"', escaped),
 * to be reused as one pre-rendered label {NULL, text, len} in many samples. */
void expo_labels_fragment(struct strbuf *b, const struct expo_label *labels, size_t n_labels);

/* Finish a document ("# EOF" for OpenMetrics, nothing for text). */
void expo_end(struct strbuf *b, enum expo_format f);

#endif
