/*
 * series.h - dynamic label sets for the registry: field-label tuples and
 * per-family series tables with a cardinality limit.
 *
 * Used by metrics.c only when a source has field labels (vhost, path,
 * upstream_status, or a variable of the format the parser keeps as an
 * extra capture), each with ordered rewrite rules and a default; without
 * field labels the registry keeps its flat arrays.
 *
 * Concurrency: one writer (the source's ingest thread) creates tuples and
 * series and increments values; any number of readers (scrapes) walk them.
 * Entries are written completely, then the count is published with a
 * release store; readers load it with acquire and only look below it.
 * Nothing is freed or moved while readers may walk: only
 * series_family_sweep and series_tuples_collect (idle series) free and
 * move, and their caller holds the lock every reader holds for its walk.
 * The hash indexes are touched by the writer only.
 */
#ifndef EXPORTER_SERIES_H
#define EXPORTER_SERIES_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "exporter/clock.h"
#include "parsers/record.h"

/* Label values taken from records are cut to this many bytes (on a UTF-8
 * boundary) after rewriting; raw values are cut to SERIES_RAW_CAP first. */
#define SERIES_VALUE_CAP 256
#define SERIES_RAW_CAP 1024
/* The value every field label has in the overflow series. */
#define SERIES_OVERFLOW_VALUE "__overflow__"
/* Tuple id of the overflow label set. */
#define SERIES_OVERFLOW 0u
#define SERIES_DEFAULT_LIMIT 10000u
#define SERIES_MAX_LIMIT 10000000u

/* ---- tuples: interned field-label value sets ---------------------------- */

struct series_tuples;

/* Compile the rewrite rules of n field labels (n <= CONFIG_MAX_FIELD_LABELS,
 * each with at most CONFIG_MAX_RULES rules); at most limit tuples besides
 * the overflow tuple.  A CONFIG_FIELD_VARIABLE label reads
 * record.extra[variable_index] (empty when the record has fewer).  Returns
 * 0; -EINVAL with a message in err for a bad pattern; -ENOMEM. */
int series_tuples_create(const struct config_field_label *labels, size_t n, size_t limit,
                         struct series_tuples **ret, char *err, size_t err_size);

/* NULL-safe. */
void series_tuples_destroy(struct series_tuples *t);

/* Writer: tuple id for a record's field values (rewritten, cached).
 * SERIES_OVERFLOW when the tuple limit is reached or memory ran out. */
uint32_t series_tuples_lookup(struct series_tuples *t, const struct log_record *r);

/* Writer: the raw values of a record's field labels as one key (the same
 * values give the same bytes, different ones different bytes); its length.
 * Borrowed from r or from t until the next call on t. */
size_t series_tuples_key(struct series_tuples *t, const struct log_record *r, const char **ret_key);

/* Writer: how many lookups missed the raw-value cache and ran the rules
 * (for tests and benchmarks: the rules run once per distinct value). */
uint64_t series_tuples_misses(const struct series_tuples *t);

/* Writer: tuple id for already rewritten values (checkpoint restore);
 * values are capped like record values.  n must equal the label count. */
uint32_t series_tuples_intern(struct series_tuples *t, const struct str_view *values, size_t n);

/* Number of field labels and their names. */
size_t series_tuples_width(const struct series_tuples *t);
const char *series_tuples_name(const struct series_tuples *t, size_t i);

/* How field label i (< width) is defined, for the checkpoint schema: a plain
 * value record whose strings belong to the tuples.  n_rules 0: the value is
 * used as is (default_value NULL); otherwise the rules (series_tuples_rule)
 * are tried in order and default_value ("other" unless configured) is the
 * value none of them matches. */
struct series_label_def {
	const char *name;
	enum config_field field;
	const char *variable; /* CONFIG_FIELD_VARIABLE: the extra capture's name, else NULL */
	size_t n_rules;
	const char *default_value;
};
void series_tuples_def(const struct series_tuples *t, size_t i, struct series_label_def *ret_def);

/* Rule k (< n_rules) of field label i: its pattern and its replacement
 * ("$0" when none was configured: the same rewrite).  Borrowed. */
void series_tuples_rule(const struct series_tuples *t, size_t i, size_t k, const char **ret_match,
                        const char **ret_replacement);

/* Reader: the values of a tuple id that a published series refers to. */
void series_tuples_values(const struct series_tuples *t, uint32_t id, struct str_view *ret_values);

/* ---- families: series keyed by (tuple, method, slot) -------------------- */

struct series_key {
	uint32_t tuple;
	uint16_t method;
	uint16_t slot;      /* status slot or class, depending on the family */
	int64_t created_ms; /* Unix ms the series was created; 0: unknown (restored from
	                     * a checkpoint that did not say) */
};

struct series_family;

/* width: values per series; limit: series allowed outside the overflow
 * tuple; reserve: how many overflow series can exist (bounded by the
 * caller's key space); clock: stamps each new series' created_ms (NULL:
 * the real clock; borrowed for the family's life).  NULL on OOM. */
struct series_family *series_family_create(size_t width, size_t limit, size_t reserve,
                                           const struct clock_wall *clock);

/* NULL-safe. */
void series_family_destroy(struct series_family *f);

/* Writer: the values of the series for a key, created zeroed when new.  A
 * new key beyond the limit is replaced by the overflow tuple's key and
 * counted as dropped, as is every observation with the overflow tuple (its
 * tuple was refused).  NULL only on OOM (or when no overflow series can be
 * added): the observation is counted as dropped here, once; the caller
 * must not count it again. */
_Atomic uint64_t *series_family_get(struct series_family *f, uint32_t tuple, unsigned method,
                                    unsigned slot);

/* Writer: as series_family_get, and *ret_dropped (on success) says whether
 * this observation was counted as dropped: then every later one for the
 * same key is too, as long as no series is removed (the limit only fills),
 * so a caller may keep the cell and count the drops itself
 * (series_family_add_dropped). */
_Atomic uint64_t *series_family_route(struct series_family *f, uint32_t tuple, unsigned method,
                                      unsigned slot, bool *ret_dropped);

/* Writer: as series_family_get for checkpoint restore: the limit applies
 * but nothing is counted as dropped, and a series created here gets
 * created_ms (0: unknown) instead of the clock's time; an existing one
 * keeps its own. */
_Atomic uint64_t *series_family_restore(struct series_family *f, uint32_t tuple, unsigned method,
                                        unsigned slot, int64_t created_ms);

/* Reader: published series count, and one entry by index (creation order). */
size_t series_family_count(const struct series_family *f);
void series_family_entry(const struct series_family *f, size_t i, struct series_key *ret_key,
                         _Atomic uint64_t **ret_values);

/* Reader: observations whose new label set was refused by the limit. */
uint64_t series_family_dropped(const struct series_family *f);

/* Writer: add to the dropped counter (checkpoint restore). */
void series_family_add_dropped(struct series_family *f, uint64_t n);

/* ---- removing series (series_idle_timeout) ------------------------------ */

/* Writer, before f's first series: every series gets n more value cells
 * after its width (zero at creation), the caller's own (a last-seen
 * stamp); *ret_first: the index of the first.  0, -EBUSY (f has series),
 * -EINVAL (width over the cap). */
int series_family_add_cells(struct series_family *f, size_t n, size_t *ret_first);

/* Writer, while no reader walks f (the caller holds the lock readers hold
 * for their walk): remove every series outside the overflow tuple for
 * which gone(key, values, ctx) is true (gone frees whatever the values
 * point to).  The others keep their values and creation order; emptied
 * chunks are freed; a removed series' room counts back against the limit,
 * so a new label set gets a series of its own again (and a fresh
 * created_ms).  Every value pointer handed out before is invalid
 * afterwards (drop cached routes).  Returns how many were removed. */
typedef bool series_gone_fn(const struct series_key *key, _Atomic uint64_t *values, void *ctx);
size_t series_family_sweep(struct series_family *f, series_gone_fn *gone, void *ctx);

/* Writer, while no reader walks t or fams: free the tuples that no series
 * of fams[0..n) (NULL entries skipped) has, except the overflow tuple;
 * their ids are given to new tuples again, and the raw-value cache is
 * flushed (it maps raw values to freed ids, or to the overflow tuple for
 * want of room that now exists).  0 and *ret_freed, or -ENOMEM (nothing
 * freed). */
int series_tuples_collect(struct series_tuples *t, struct series_family *const *fams, size_t n,
                          size_t *ret_freed);

/* Tuples held besides the overflow tuple (tests). */
size_t series_tuples_count(const struct series_tuples *t);

#endif
