/*
 * metrics.h - the metrics registry: what is counted and how it renders.
 *
 * Concurrency model: every source is fed by exactly one ingest thread (the
 * tailer), and scrapes run on libmicrohttpd's thread.  All per-source
 * values live in fixed arrays sized at source creation (status slots x
 * methods, histogram buckets), so the hot path never allocates, hashes or
 * locks: the single writer does relaxed atomic load+store, readers do
 * relaxed loads.  The only lock guards the source list, taken when a source
 * is added and for the duration of a render's walk over the list.
 *
 * Every series knows when it was created (the source's creation for the
 * per-source families, the first count for the others; checkpoints keep
 * it), for the new-series hold and the OpenMetrics _created samples.
 *
 * Sources with field labels (vhost, path, upstream_status) keep their label
 * sets in series tables instead (series.h): created by the writer, published
 * to readers with a release store, bounded by a per-family series limit
 * with an overflow series, and freed only by destroy or, with
 * series_idle_timeout, by a sweep under the registry lock
 * (metrics_source_sweep).
 */
#ifndef EXPORTER_METRICS_H
#define EXPORTER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "exporter/clock.h"
#include "exporter/metrics/expo.h"
#include "exporter/strbuf.h"
#include "parsers/record.h"

/* Per-source self-metrics (counters). */
enum metrics_counter {
	METRICS_LINES,
	METRICS_PARSE_ERRORS,
	METRICS_BYTES_READ,
	METRICS_ROTATIONS,
	METRICS_TRUNCATIONS,
	METRICS_LINES_TOO_LONG,
	METRICS_READ_ERRORS,
	METRICS_FILES_SKIPPED,
	METRICS_LINES_DROPPED, /* parsed, then dropped by a filter (sources with filters) */
	/* Syslog listeners' counts: rendered only for sources that have one
	 * (metrics_source_show_syslog), saved only when not 0. */
	METRICS_SYSLOG_MESSAGES,
	METRICS_SYSLOG_INVALID,
	METRICS_SYSLOG_FILTERED,
	METRICS_SYSLOG_DROPPED,
	METRICS_SYSLOG_CONNECTIONS,
	METRICS_SYSLOG_CONN_REFUSED,
	METRICS_SYSLOG_CONN_IDLE,
	/* Field-label series removed for idleness (sources with
	 * series_idle_timeout), saved only when not 0. */
	METRICS_SERIES_REMOVED,
	METRICS_COUNTER_COUNT,
};
#define METRICS_FIRST_SYSLOG METRICS_SYSLOG_MESSAGES

struct metrics_options {
	const double *request_buckets; /* upper bounds in seconds, strictly increasing */
	size_t n_request_buckets;
	const double *upstream_buckets;
	size_t n_upstream_buckets;
	/* The optional histograms (classic buckets only): request and response
	 * size in bytes, upstream connect and header time in seconds; strictly
	 * increasing like the others.  0 buckets (the default): no such
	 * histogram, its values are not observed. */
	const double *request_size_buckets;
	size_t n_request_size_buckets;
	const double *response_size_buckets;
	size_t n_response_size_buckets;
	const double *upstream_connect_buckets;
	size_t n_upstream_connect_buckets;
	const double *upstream_header_buckets;
	size_t n_upstream_header_buckets;
	bool no_class_label;  /* drop "class" from accesslog_http_responses_total */
	bool no_reason_label; /* drop "reason" from accesslog_http_responses_total */
	size_t series_limit;  /* per family and source (field labels); 0: 10000 */
	bool no_histograms;   /* no duration histograms at all (status and bytes only) */
	/* A series created after its source is exposed with the value 0 (a
	 * histogram: every bucket, _sum and _count) for this long after its
	 * creation, then with its value, so that rate() and increase(), which
	 * ignore a series' first sample, see its first lines.  0: off. */
	uint64_t new_series_hold_ms;
	bool created_timestamps; /* OpenMetrics: a _created sample per counter/histogram */
	struct clock_wall clock; /* wall clock for creation times (zero: the real one) */
	/* Native histograms next to the classic ones of the duration families
	 * (protobuf only; see nhist.h): initial schema, bucket cap, zero
	 * threshold in seconds.  Checked by nhist_layout_init. */
	/* No exemplars (metrics.exemplars: false): otherwise a line whose format
	 * captures a request or trace id leaves it, with its value and time, on
	 * the response counter and the histogram buckets it counted in. */
	bool no_exemplars;
	bool native_histograms;
	int native_schema;
	unsigned native_max_buckets;
	double native_zero_threshold;
};

struct metrics;
struct metrics_source;

/* Create a registry.  Buckets are copied.  NULL on OOM or bad buckets. */
struct metrics *metrics_create(const struct metrics_options *opts);

/* NULL-safe; frees all sources. */
void metrics_destroy(struct metrics *m);

/* Add a source with static labels and field labels (both copied; field
 * label patterns compiled here).  *ret_source is owned by m.  Returns 0,
 * -EEXIST (name taken), -EINVAL (bad pattern, or a label name used twice or
 * clashing with ours; message in err when err_size > 0), -ENOSPC, -ENOMEM. */
int metrics_add_source(struct metrics *m, const char *name, const struct config_label *labels,
                       size_t n_labels, const struct config_field_label *field_labels,
                       size_t n_field_labels, struct metrics_source **ret_source, char *err,
                       size_t err_size);

/* Count one parsed line: response counter, bytes, histograms.  Hot path;
 * single writer per source. */
void metrics_observe(struct metrics_source *s, const struct log_record *r);

/* The same for n records, counted in order with the same results: for a
 * source with field labels the cache misses of the lines' series lookups
 * overlap (bench/fieldlabel_bench: with 10,000 label values several times
 * faster than one metrics_observe after another).  Callers gain nothing
 * from batches longer than METRICS_BATCH_MAX.  Single writer per source. */
#define METRICS_BATCH_MAX 128u
void metrics_observe_batch(struct metrics_source *s, const struct log_record *const *recs,
                           size_t n);

/* Add every counter of src (responses, bytes, histograms, self-metrics)
 * into dst and zero src's, for --backfill's per-step registries: both
 * registries created with the same options, sources without field labels
 * (else -ENOTSUP, nothing changed: use metrics_source_save/restore).  The
 * writer of both, with no render running on src.  0 or -ENOTSUP. */
int metrics_source_merge(struct metrics_source *dst, struct metrics_source *src);

/* From now on, s (without field labels) writes down every histogram
 * observation's value in order instead of adding it to the histogram's
 * _sum, and metrics_source_merge(dst, s) adds those values to dst's sums
 * one by one, in that order.  Floating-point addition is not associative:
 * so a file counted in pieces into such sources, merged in file order,
 * gives the same sums, bit for bit, as counting it in one (--once on
 * several cores).  Bucket counts and every other counter are integers and
 * merge exactly either way.  Such a source is a piece to merge, not to
 * render: it keeps no series birth times (the merge records them in dst).
 * 0, -ENOTSUP (field labels), -ENOMEM. */
int metrics_source_journal_sums(struct metrics_source *s);

/* Add to a per-source self-metric.  Single writer per source. */
void metrics_count(struct metrics_source *s, enum metrics_counter c, uint64_t delta);

/* Whether s receives syslog: its METRICS_SYSLOG_* counters are rendered
 * (also while 0).  Default false.  Single writer per source. */
void metrics_source_show_syslog(struct metrics_source *s, bool show);

/* series_idle_timeout: from now on, a field-label series of s (outside the
 * overflow series) that counts no line for idle_ms is removed by
 * metrics_source_sweep, with its histograms, native histograms and
 * exemplars; a line of its label set later starts a new series (counters
 * from 0, a fresh creation time).  0: off (the default).  Call right after
 * metrics_add_source, before the first line, restore or render.  A source
 * without field labels has nothing to remove (0, no effect).  0, -EBUSY
 * (s has series already), -EINVAL. */
int metrics_source_set_idle_timeout(struct metrics_source *s, uint64_t idle_ms);

/* Remove s's idle series (metrics_source_set_idle_timeout), at most once
 * per sweep interval (an eighth of the timeout, 1s to 1 min; earlier calls
 * only refresh the clock lines are stamped with): call it from s's writer
 * thread often (every poll).  Idleness is measured on the registry's clock
 * when one is injected (metrics_options.clock, tests), else on the
 * monotonic clock.  Takes the registry lock only if no render holds it
 * (else -EBUSY: try again later), so ingestion never waits for a scrape.
 * Returns the number of series removed (also added to
 * accesslog_series_removed_total), 0 when not due or off, or -EBUSY. */
int metrics_source_sweep(struct metrics_source *s);

/* Read a self-metric (any thread). */
uint64_t metrics_get(const struct metrics_source *s, enum metrics_counter c);

/* Mark a source as filtered: only such sources expose
 * accesslog_log_lines_dropped_total (a source without filters drops
 * nothing).  Call before the first render. */
void metrics_source_set_filtered(struct metrics_source *s, bool filtered);

/* Which optional histograms a source shows: the fields its format
 * captures.  A family is exposed only by sources whose format captures its
 * field (and only when the registry has its buckets); the values are
 * observed whenever a line carries them.  Default: none.  Call before the
 * first render. */
#define METRICS_CAPTURES_REQUEST_LENGTH 1u   /* accesslog_http_request_size_bytes */
#define METRICS_CAPTURES_RESPONSE_BYTES 2u   /* accesslog_http_response_size_bytes */
#define METRICS_CAPTURES_UPSTREAM_CONNECT 4u /* ..._upstream_connect_duration_seconds */
#define METRICS_CAPTURES_UPSTREAM_HEADER 8u  /* ..._upstream_header_duration_seconds */
void metrics_source_set_captures(struct metrics_source *s, unsigned captures);

/* The METRICS_CAPTURES_* bits of the fields lines parsed by p can carry
 * (NULL: none). */
struct log_parser;
unsigned metrics_captures_of(const struct log_parser *p);

/* Sum of the response counter over methods (and field-label sets) for one
 * status slot (any thread). */
uint64_t metrics_get_responses(const struct metrics_source *s, unsigned slot);

/* Unix time of the last line read from this source (gauge). */
void metrics_set_last_read(struct metrics_source *s, double unix_seconds);

/* Open-file gauge for one path of a source: 1 open, 0 missing.  At most
 * METRICS_MAX_FILES paths per source are tracked; more return -ENOSPC (or
 * -ENOMEM).  The cap is the fileset's file cap (FILESET_DEFAULT_MAX_FILES,
 * 1024) plus one per configured path, which may show 0 while its file is
 * retiring or missing: with the fileset removing the gauges of paths it no
 * longer follows, the cap is never reached.  Single writer per source. */
#define METRICS_MAX_FILES (1024 + CONFIG_MAX_PATHS)
int metrics_set_file_open(struct metrics_source *s, const char *path, bool open);

/* Remove the open-file gauge of path (no longer followed, not configured):
 * 0, or -ENOENT when path has none.  Takes the registry lock, so it waits
 * for a render in progress.  Single writer per source. */
int metrics_remove_file(struct metrics_source *s, const char *path);

/* Checkpoint timestamp gauge (registry-wide). */
void metrics_set_checkpoint_time(struct metrics *m, double unix_seconds);

/* Result of the last configuration (re)load: ok 0/1 gauge, and when ok the
 * success timestamp gauge is set to t (unix seconds). */
void metrics_set_reload_result(struct metrics *m, bool ok, double t);

/* Unlink and free a source (config reload removed or changed it).  Called
 * by the source's single writer; waits for a render in progress.  s must
 * not be used afterwards; unknown s is ignored. */
void metrics_remove_source(struct metrics *m, struct metrics_source *s);

/* Render the whole registry.  Returns 0 or the strbuf error. */
int metrics_render(struct metrics *m, enum expo_format f, struct strbuf *out);

/* The same walk (order, new-series hold) through a caller's writer: one
 * set up by expo_writer_init with its own ops, say, to write the samples
 * somewhere else than one text (--backfill stamps and files them by
 * family).  Exemplars are handed to it unless w->f is EXPO_TEXT, creation
 * times when expo_writer_wants_created.  Returns 0 or w->b's error. */
int metrics_render_with(struct metrics *m, struct expo_writer *w);

/* Serialise all counter values of a source as text lines (for
 * checkpoints); metrics_source_restore adds them back.  The format names
 * counters by label values, not by array index, so state files survive
 * catalogue or method-table changes; field-label series restored into a
 * source without field labels are summed into its flat counters, and the
 * other way round land in the label set with empty values.  Field-label
 * values are placed by label name using the saved label definitions: a
 * label that is new or whose field/match/replacement changed gets the empty
 * value, as does every label for a checkpoint saved without definitions;
 * totals are kept in every case (see metrics.c).  restore returns
 * -EINVAL on a malformed line (nothing restored in that case); it must run
 * on the source's writer thread (or before ingestion starts). */
int metrics_source_save(const struct metrics_source *s, struct strbuf *out);
int metrics_source_restore(struct metrics_source *s, const char *text, size_t len);

/* Method label value for a request method (bounded set, else "other"). */
const char *metrics_method_label(const char *method, size_t len);

#endif
