/*
 * expo.h - low-level writer for the Prometheus exposition formats.
 *
 * Knows how families, samples and label values are spelled in the text
 * format 0.0.4 and in OpenMetrics 1.0; knows nothing about which metrics
 * exist (that is metrics.c).  Label values are escaped exactly (\\, \",
 * \n) and always come out as valid UTF-8: invalid byte sequences from log
 * lines are replaced by U+FFFD so a scrape can never be rejected.
 *
 * Two levels: the line primitives below (expo_family, expo_sample_*) spell
 * the text formats, and struct expo_writer is the interface the registry
 * walk talks to (family, sample, histogram series), implemented by a vtable
 * per format: text and OpenMetrics here, protobuf in expo_protobuf.c.  The
 * walk (metrics_render.c, procstat.c) is then written once for all formats,
 * so every format lists the same series in the same order with the same
 * new-series hold.  Rejected: a second walk for protobuf (two places to
 * keep the hold rule and the order in step).
 */
#ifndef EXPORTER_EXPO_H
#define EXPORTER_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter/strbuf.h"

enum expo_format {
	EXPO_TEXT,        /* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
	EXPO_PROTOBUF,    /* io.prometheus.client.MetricFamily, length-delimited */
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
	/* A fragment's labels encoded for protobuf (expo_labels_fragment_pb);
	 * the protobuf writer needs it for every fragment. */
	const char *pb;
	size_t pb_len;
};

/* Size of a pre-rendered le label value ("0.005", "+Inf"). */
#define EXPO_LE_SIZE 32

/* Content-Type header value for a format. */
const char *expo_content_type(enum expo_format f);

/* Write "# HELP" and "# TYPE" for a family.  name is the full name in text
 * format (counters end in _total); OpenMetrics drops the _total / _info
 * suffix on the family line as the spec wants. */
void expo_family(struct strbuf *b, enum expo_format f, const char *name, enum expo_type type,
                 const char *help);

/* Write the head of a sample line: name + suffix, labels (then an optional
 * extra label, e.g. le) and the space before the value: what
 * expo_sample_u64 writes before the number. */
void expo_sample_head(struct strbuf *b, const char *name, const char *suffix,
                      const struct expo_label *labels, size_t n_labels,
                      const struct expo_label *extra);

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

/* Append labels as protobuf LabelPair fields of a Metric (field 1, valid
 * UTF-8), to be reused as the pb part of a fragment label in many samples. */
void expo_labels_fragment_pb(struct strbuf *b, const struct expo_label *labels, size_t n_labels);

/* Finish a document ("# EOF" for OpenMetrics, nothing for text and protobuf). */
void expo_end(struct strbuf *b, enum expo_format f);

struct nhist_snapshot;

/* Longest exemplar id (FIELDCONV_TRACE_MAX: the parser keeps no longer one). */
#define EXPO_EXEMPLAR_ID_MAX 64

/* One exemplar as a writer gets it: a plain value record (label NULL: none). */
struct expo_exemplar {
	const char *label; /* "request_id" or "trace_id" */
	size_t id_len;
	char id[EXPO_EXEMPLAR_ID_MAX]; /* printable ASCII, no NUL */
	double value;
	int64_t ts_ms; /* Unix ms; 0: none (the scrape's time) */
};

/* One histogram series as the walk hands it to a writer: the classic
 * buckets, and the native histogram next to them when the registry keeps
 * one (only protobuf can carry it; the text formats ignore it). */
struct expo_histogram {
	size_t n_bounds;                /* finite bounds; bucket n_bounds is +Inf */
	const double *bounds;           /* [n_bounds] */
	const char (*le)[EXPO_LE_SIZE]; /* [n_bounds + 1] le values, "+Inf" last */
	const size_t *le_len;           /* [n_bounds + 1] */
	const uint64_t *cumulative;     /* [n_bounds + 1]; the last is the count */
	double sum;
	const struct nhist_snapshot *native; /* NULL: none */
	/* [n_bounds + 1]: the most recent exemplar of each bucket (label NULL:
	 * none), +Inf last; NULL: none at all.  OpenMetrics and protobuf only. */
	const struct expo_exemplar *exemplars;
};

struct expo_writer;

/* A format's way of writing families and series (a vtable). */
struct expo_writer_ops {
	void (*family)(struct expo_writer *w, const char *name, enum expo_type type,
	               const char *help);
	/* A counter, gauge or info sample of the current family; is_double picks
	 * d or u; created_ms (> 0: known) and ex (NULL: none; OpenMetrics and
	 * protobuf) are used for counters only. */
	void (*sample)(struct expo_writer *w, const struct expo_label *labels, size_t n_labels,
	               bool is_double, uint64_t u, double d, int64_t created_ms,
	               const struct expo_exemplar *ex);
	void (*histogram)(struct expo_writer *w, const struct expo_label *labels, size_t n_labels,
	                  const struct expo_histogram *h, int64_t created_ms);
	void (*finish)(struct expo_writer *w);
};

/* A writer works on caller storage (embedded, hence not opaque): fields are
 * private to the implementations. */
struct expo_writer {
	const struct expo_writer_ops *ops;
	struct strbuf *b;
	enum expo_format f;
	bool created;     /* creation times asked for (see expo_writer_init) */
	const char *name; /* the current family */
	enum expo_type type;
	size_t family_mark;   /* protobuf: where the current family starts */
	size_t family_series; /* protobuf: its series so far */
	int64_t ts_ms;        /* protobuf: the last Timestamp encoded (series share them) */
	unsigned char ts[24]; /* its body */
	size_t ts_len;
};

/* Start writing format f into b.  created: OpenMetrics writes _created
 * samples when true; text 0.0.4 never does; protobuf always carries the
 * created_timestamp of counters and histograms whose creation is known (a
 * field, not a series, as the client libraries do). */
void expo_writer_init(struct expo_writer *w, enum expo_format f, struct strbuf *b, bool created);

/* Whether the writer would use created_ms (to skip looking it up). */
static inline bool expo_writer_wants_created(const struct expo_writer *w)
{
	return w->created;
}

/* Begin a family; the previous one ends.  name as for expo_family. */
static inline void expo_writer_family(struct expo_writer *w, const char *name, enum expo_type type,
                                      const char *help)
{
	w->ops->family(w, name, type, help);
}

static inline void expo_writer_u64(struct expo_writer *w, const struct expo_label *labels,
                                   size_t n_labels, uint64_t v, int64_t created_ms)
{
	w->ops->sample(w, labels, n_labels, false, v, 0.0, created_ms, NULL);
}

/* A counter sample with its exemplar (NULL: none). */
static inline void expo_writer_counter(struct expo_writer *w, const struct expo_label *labels,
                                       size_t n_labels, uint64_t v, int64_t created_ms,
                                       const struct expo_exemplar *ex)
{
	w->ops->sample(w, labels, n_labels, false, v, 0.0, created_ms, ex);
}

static inline void expo_writer_double(struct expo_writer *w, const struct expo_label *labels,
                                      size_t n_labels, double v, int64_t created_ms)
{
	w->ops->sample(w, labels, n_labels, true, 0, v, created_ms, NULL);
}

static inline void expo_writer_histogram(struct expo_writer *w, const struct expo_label *labels,
                                         size_t n_labels, const struct expo_histogram *h,
                                         int64_t created_ms)
{
	w->ops->histogram(w, labels, n_labels, h, created_ms);
}

/* End the last family (protobuf writes it out).  The buffer's error, if
 * any, is in w->b->error. */
static inline void expo_writer_finish(struct expo_writer *w)
{
	w->ops->finish(w);
}

#endif
