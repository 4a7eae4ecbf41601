/*
 * metrics_render.c - the registry as an exposition (see metrics.h).
 *
 * Render order is fixed: families in a fixed order, sources in creation
 * order, flat series in index order, dynamic series in creation order, so
 * consecutive scrapes list series identically and a label set can never
 * appear twice (each is one array cell or one table entry).
 *
 * New-series hold: a series created less than hold_ms ago renders as 0 (a
 * histogram: every bucket, _sum, _count), so that Prometheus, whose rate()
 * and increase() ignore a series' first sample, sees it at 0 before its
 * first counts.  Flat series look their creation up in the source's
 * birthmap, but only while the source's newest birth is within the hold;
 * field-label series carry theirs; per-source families use the source's.
 * A walk over a source's flat series holds the source's birthmap once
 * (not once per series); a first count of a new series waits for it.
 * Rejected: remembering per scrape which series a scraper has seen (two
 * Prometheus servers, or a restart of one, would see different things);
 * pre-creating every label set at 0 (17 methods x 501 codes per source).
 *
 * A render holds
 * the registry lock for its walk over the sources and reads every value
 * with relaxed loads: ingestion never waits for it.
 *
 * Cost per render (--backfill renders once per step of log time): the
 * responses are listed code by code, but their cells lie method by
 * method, so a pass in memory order, four empty cells per test, marks
 * the codes with counts first and the walk skips the rest (it visited all
 * 17 x 501 cells, 20 instructions each: 11.3 M of the 607 M instructions
 * of --backfill on 200,000 lines); the class sums read the same way; the
 * status-info rows' codes are made without snprintf (4.2 M).  The first
 * render makes the registry's label fragments (metrics_make_fragments).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_config.h"
#include "exporter/metrics/metrics_impl.h"

static const char *const counter_names[METRICS_COUNTER_COUNT][2] = {
    [METRICS_LINES] = {"accesslog_log_lines_total", "Complete log lines read (parsed or not)."},
    [METRICS_PARSE_ERRORS] = {"accesslog_log_parse_errors_total",
                              "Log lines that did not match the source's format."},
    [METRICS_BYTES_READ] = {"accesslog_log_bytes_read_total", "Bytes read from log files."},
    [METRICS_ROTATIONS] = {"accesslog_log_rotations_total",
                           "Log files replaced by a new file (rename, delete or inode change)."},
    [METRICS_TRUNCATIONS] = {"accesslog_log_truncations_total",
                             "Log files that shrank below the read offset (copytruncate)."},
    [METRICS_LINES_TOO_LONG] = {"accesslog_log_lines_too_long_total",
                                "Lines longer than the line cap, skipped."},
    [METRICS_READ_ERRORS] = {"accesslog_log_read_errors_total",
                             "Errors opening or reading log files (retried)."},
    [METRICS_FILES_SKIPPED] = {"accesslog_log_files_skipped_total",
                               "Files not read: compressed files matched by a pattern, rotated "
                               "files over the catch-up limit or in an unreadable compression "
                               "(the log says which)."},
    [METRICS_LINES_DROPPED] = {"accesslog_log_lines_dropped_total",
                               "Parsed lines a filter of the source dropped (not counted in "
                               "any other family)."},
    [METRICS_SYSLOG_MESSAGES] = {"accesslog_syslog_messages_total",
                                 "Syslog messages received (valid or not)."},
    [METRICS_SYSLOG_INVALID] = {"accesslog_syslog_messages_invalid_total",
                                "Syslog messages with no <PRI>, a malformed header or broken "
                                "TCP framing (not counted as lines)."},
    [METRICS_SYSLOG_FILTERED] = {"accesslog_syslog_messages_filtered_total",
                                 "Syslog messages whose tag is not the source's syslog_tag."},
    [METRICS_SYSLOG_DROPPED] = {"accesslog_syslog_messages_dropped_total",
                                "Syslog datagrams the kernel dropped because the receive queue "
                                "was full (the kernel's count for the socket)."},
    [METRICS_SYSLOG_CONNECTIONS] = {"accesslog_syslog_connections_total",
                                    "TCP syslog connections accepted."},
    [METRICS_SYSLOG_CONN_REFUSED] = {"accesslog_syslog_connections_refused_total",
                                     "TCP syslog connections closed at once: over the "
                                     "connection cap."},
    [METRICS_SYSLOG_CONN_IDLE] = {"accesslog_syslog_connections_idle_closed_total",
                                  "TCP syslog connections closed after receiving nothing for "
                                  "the idle timeout."},
    [METRICS_SERIES_REMOVED] = {"accesslog_series_removed_total",
                                "Field-label series removed after seeing no line for the "
                                "source's series_idle_timeout (a returning label set starts "
                                "a new series)."},
};

/* Whether counter c is rendered for s. */
static bool shows_counter(const struct metrics_source *s, unsigned c)
{
	if (c == METRICS_LINES_DROPPED) {
		return s->filtered; /* only where filters can drop */
	}
	if (c == METRICS_SERIES_REMOVED) {
		/* only where idle series are removed */
		return atomic_load_explicit(&s->idle_ms, memory_order_relaxed) > 0;
	}
	return c < METRICS_FIRST_SYSLOG ||
	       atomic_load_explicit(&s->show_syslog, memory_order_relaxed);
}

static const char *const family_names[FAM_COUNT] = {
    [FAM_RESPONSES] = "accesslog_http_responses_total",
    [FAM_BYTES] = "accesslog_http_response_bytes_total",
    [FAM_REQUEST] = "accesslog_http_request_duration_seconds",
    [FAM_UPSTREAM] = "accesslog_http_upstream_duration_seconds",
    [FAM_REQUEST_SIZE] = "accesslog_http_request_size_bytes",
    [FAM_RESPONSE_SIZE] = "accesslog_http_response_size_bytes",
    [FAM_UPSTREAM_CONNECT] = "accesslog_http_upstream_connect_duration_seconds",
    [FAM_UPSTREAM_HEADER] = "accesslog_http_upstream_header_duration_seconds",
};

#define MAX_LABELS (CONFIG_MAX_STATIC_LABELS + CONFIG_MAX_FIELD_LABELS + 8)

/* Fill the common labels (source + static labels); returns how many. */
static size_t base_labels(const struct metrics_source *s, struct expo_label *l)
{
	l[0] =
	    (struct expo_label){NULL, s->base_frag, s->base_frag_len, s->base_pb, s->base_pb_len};
	return 1;
}

/* Append the field labels of tuple id after n labels; returns the new count. */
static size_t field_labels(const struct metrics_source *s, uint32_t id, struct expo_label *l,
                           size_t n)
{
	struct str_view v[CONFIG_MAX_FIELD_LABELS];
	size_t w = series_tuples_width(s->tuples);

	series_tuples_values(s->tuples, id, v);
	for (size_t i = 0; i < w; i++) {
		/* An empty value needs a non-NULL pointer and value_len 0 means strlen: use "". */
		l[n++] = (struct expo_label){series_tuples_name(s->tuples, i),
		                             v[i].len ? v[i].ptr : "", v[i].len, NULL, 0};
	}
	return n;
}

/* code, [class], [reason], method: the status and method labels of a response series. */
static struct expo_label frag_label(const struct label_frag *f)
{
	return (struct expo_label){NULL, f->text, f->text_len, f->pb, f->pb_len};
}

static size_t status_labels(const struct metrics *m, unsigned slot, unsigned me,
                            struct expo_label *l, size_t n)
{
	l[n++] = (struct expo_label){NULL, m->slot_frag[slot], m->slot_frag_len[slot],
	                             m->slot_pb[slot], m->slot_pb_len[slot]};
	l[n++] = frag_label(&m->method_frag[me]);
	return n;
}

static size_t method_class_labels(const struct metrics *m, unsigned me, unsigned c,
                                  struct expo_label *l, size_t n)
{
	l[n++] = frag_label(&m->method_frag[me]);
	l[n++] = frag_label(&m->class_frag[c]);
	return n;
}

/* One render: where it goes, and what "now" is for the new-series hold. */
struct render {
	struct metrics *m;
	struct expo_writer *w;       /* the format */
	int64_t now;                 /* Unix ms, read once per render */
	bool created;                /* the writer uses creation times */
	struct nhist_snapshot *snap; /* scratch for native histograms (NULL: none kept) */
	bool ex;                     /* the format carries exemplars and the registry has them */
};

/* Whether a series created at created_ms is still held at 0 (0: unknown,
 * as for series restored from an older checkpoint: never held). */
static bool young(const struct render *r, int64_t created_ms)
{
	return r->m->hold_ms && created_ms > 0 && r->now < created_ms + r->m->hold_ms;
}

/* Whether the flat series id, just read non-zero, is held.  The acquire
 * fence pairs with the writer's release store of the series' first count:
 * having seen a count, the render sees the birth recorded before it (the
 * writer records it before it counts, and while a walk holds the source's
 * birthmap a first count waits for it).  The birthmap is asked only while
 * some series of the source is young. */
static bool flat_held(const struct render *r, const struct metrics_source *s, uint32_t id)
{
	if (!r->m->hold_ms) {
		return false;
	}
	atomic_thread_fence(memory_order_acquire);
	if (!young(r, atomic_load_explicit(&s->last_birth_ms, memory_order_relaxed))) {
		return false;
	}
	return young(r, birthmap_get_locked(s->births, id));
}

static int64_t flat_created(const struct render *r, const struct metrics_source *s, uint32_t id)
{
	return r->created ? birthmap_get_locked(s->births, id) : 0;
}

/* A walk over a source's flat series holds its birthmap once (rather than
 * once per series): whether it needs it at all. */
static bool births_needed(const struct render *r, const struct metrics_source *s)
{
	return !s->tuples && (r->created || r->m->hold_ms);
}

static int64_t source_created(const struct metrics_source *s)
{
	return atomic_load_explicit(&s->created_ms, memory_order_relaxed);
}

/* A counter sample of the current family, 0 while held, with its creation
 * time (a _created sample or a created_timestamp, as the format wants). */
static void counter(const struct render *r, const struct expo_label *l, size_t n, uint64_t v,
                    bool held, int64_t created_ms)
{
	expo_writer_u64(r->w, l, n, held ? 0 : v, created_ms);
}

/* A response counter with the exemplar in cell (0: none yet; none while held). */
static void counter_ex(const struct render *r, const struct expo_label *l, size_t n, uint64_t v,
                       bool held, int64_t created_ms, const _Atomic uint64_t *cell)
{
	struct expo_exemplar ex;
	struct exemplar *e = r->ex && cell && !held ? ex_get(cell) : NULL;

	expo_writer_counter(r->w, l, n, held ? 0 : v, created_ms,
	                    e && exemplar_load(e, &ex) ? &ex : NULL);
}

/* The cell of a flat response series' exemplar (NULL: none yet). */
static const _Atomic uint64_t *resp_ex_cell(const struct render *r, const struct metrics_source *s,
                                            unsigned me, unsigned slot)
{
	const _Atomic uint64_t *cells =
	    r->ex ? (const _Atomic uint64_t *)(uintptr_t)atomic_load_explicit(&s->ex_resp,
	                                                                      memory_order_acquire)
	          : NULL;

	return cells ? &cells[me * STATUS_SLOTS + slot] : NULL;
}

/* The native histogram of a series for the writer: its snapshot, empty
 * while held or when a racing re-layout could not be read around. */
static const struct nhist_snapshot *native_of(const struct render *r, const struct histogram *h,
                                              const _Atomic uint64_t *cell, bool held)
{
	struct nhist *n = r->snap ? nh_get(cell) : NULL;

	if (!r->snap || !h->native) {
		return NULL; /* text, or a classic-only histogram */
	}
	if (held || !n || nhist_read(n, r->snap) < 0) {
		nhist_snapshot_empty(h->native, r->snap);
	}
	return r->snap;
}

/* One histogram series: row has n_bounds + 1 non-cumulative buckets; sum
 * given; ncell: the native histogram's cell.  A held series shows every
 * bucket, _sum and _count at 0. */
static void render_hist_row(const struct render *r, const struct histogram *h,
                            const _Atomic uint64_t *row, uint64_t sum_bits,
                            const _Atomic uint64_t *ncell, const _Atomic uint64_t *excell,
                            const struct expo_label *l, size_t n, bool held, int64_t created_ms)
{
	uint64_t cum[MAX_BUCKETS + 1];
	uint64_t acc = 0;
	struct expo_histogram eh = {h->n_bounds, h->bounds, h->le, h->le_len, cum, 0.0, NULL, NULL};
	struct expo_exemplar exs[MAX_BUCKETS + 1];
	struct exemplar *e = r->ex && excell && !held ? ex_get(excell) : NULL;

	for (size_t k = 0; e && k <= h->n_bounds; k++) {
		(void)exemplar_load(&e[k], &exs[k]); /* label NULL: none in this bucket */
	}
	eh.exemplars = e ? exs : NULL;

	for (size_t k = 0; k <= h->n_bounds; k++) {
		acc += held ? 0 : get(&row[k]);
		cum[k] = acc;
	}
	eh.sum = held ? 0.0 : bitsd(sum_bits);
	eh.native = native_of(r, h, ncell, held);
	expo_writer_histogram(r->w, l, n, &eh, created_ms);
}

/*
 * The flat families (responses, bytes, histograms) are one walk over a
 * table: a row gives the family's name, type and help, its second
 * dimension next to the method (status slot or class), whether that
 * dimension is the outer loop of the flat walk (responses list codes
 * first), where its flat series' ids start in the birthmap, its labels, and
 * how a flat cell and a field-label series' value render.  A new family is
 * a row.  Rejected: one function per family (four copies of the same two
 * loops, each new family another).
 */
struct flat_family;

/* Render the flat series (me, x) of s when it has counts. */
typedef void flat_cell_fn(const struct render *r, const struct flat_family *f,
                          const struct metrics_source *s, unsigned me, unsigned x,
                          struct expo_label *l, size_t n);
/* Render one field-label series: labels l[0..n) already hold its labels. */
typedef void dyn_cell_fn(const struct render *r, const struct flat_family *f,
                         const struct metrics_source *s, const struct series_key *key,
                         const _Atomic uint64_t *v, const struct expo_label *l, size_t n);
typedef size_t label_fn(const struct metrics *m, unsigned me, unsigned x, struct expo_label *l,
                        size_t n);

struct flat_family {
	enum family fam;
	enum expo_type type;
	const char *help;
	unsigned n_x;   /* second dimension: STATUS_SLOTS or N_CLASSES */
	bool x_outer;   /* flat walk: x outer, method inner */
	uint32_t id0;   /* birthmap id of (0, 0); (me, x) is id0 + me * n_x + x */
	bool histogram; /* skipped with metrics.histograms: false */
	unsigned hist;  /* enum hist_kind of a histogram family */
	label_fn *labels;
	flat_cell_fn *flat;
	dyn_cell_fn *dyn;
};

static size_t resp_labels(const struct metrics *m, unsigned me, unsigned slot, struct expo_label *l,
                          size_t n)
{
	return status_labels(m, slot, me, l, n);
}

static uint32_t flat_id(const struct flat_family *f, unsigned me, unsigned x)
{
	return f->id0 + me * f->n_x + x;
}

static const struct histogram *hist_of(const struct flat_family *f, const struct metrics_source *s)
{
	return &s->hist[f->hist];
}

static void resp_flat(const struct render *r, const struct flat_family *f,
                      const struct metrics_source *s, unsigned me, unsigned slot,
                      struct expo_label *l, size_t n)
{
	uint64_t v = get(&s->responses[me][slot]);
	uint32_t id = flat_id(f, me, slot);

	if (v) {
		size_t k = f->labels(r->m, me, slot, l, n);
		counter_ex(r, l, k, v, flat_held(r, s, id), flat_created(r, s, id),
		           resp_ex_cell(r, s, me, slot));
	}
}

static void resp_dyn(const struct render *r, const struct flat_family *f,
                     const struct metrics_source *s, const struct series_key *key,
                     const _Atomic uint64_t *v, const struct expo_label *l, size_t n)
{
	(void)f;
	counter_ex(r, l, n, get(v), young(r, key->created_ms), key->created_ms,
	           s->no_ex ? NULL : &v[1]);
}

static void bytes_flat(const struct render *r, const struct flat_family *f,
                       const struct metrics_source *s, unsigned me, unsigned c,
                       struct expo_label *l, size_t n)
{
	uint64_t v = get(&s->bytes[me][c]);
	uint32_t id = flat_id(f, me, c);

	if (v) {
		size_t k = f->labels(r->m, me, c, l, n);
		counter(r, l, k, v, flat_held(r, s, id), flat_created(r, s, id));
	}
}

static void bytes_dyn(const struct render *r, const struct flat_family *f,
                      const struct metrics_source *s, const struct series_key *key,
                      const _Atomic uint64_t *v, const struct expo_label *l, size_t n)
{
	(void)f;
	(void)s;
	counter(r, l, n, get(v), young(r, key->created_ms), key->created_ms);
}

static void hist_flat(const struct render *r, const struct flat_family *f,
                      const struct metrics_source *s, unsigned me, unsigned c, struct expo_label *l,
                      size_t n)
{
	const struct histogram *h = hist_of(f, s);
	const _Atomic uint64_t *row = hist_row(h, me, c);
	uint32_t id = flat_id(f, me, c);

	if (row_any(row, h->n_bounds + 1)) {
		size_t k = f->labels(r->m, me, c, l, n);
		render_hist_row(r, h, row, get(&h->sum_bits[me][c]), &h->nh[me][c], &h->ex[me][c],
		                l, k, flat_held(r, s, id), flat_created(r, s, id));
	}
}

static void hist_dyn(const struct render *r, const struct flat_family *f,
                     const struct metrics_source *s, const struct series_key *key,
                     const _Atomic uint64_t *v, const struct expo_label *l, size_t n)
{
	const struct histogram *h = hist_of(f, s);

	render_hist_row(r, h, v, get(&v[h->n_bounds + 1]), &v[h->n_bounds + 2],
	                h->ex_cell ? &v[h->ex_cell] : NULL, l, n, young(r, key->created_ms),
	                key->created_ms);
}

static const struct flat_family flat_families[] = {
    {FAM_RESPONSES, EXPO_COUNTER,
     "HTTP responses by status code, its class and reason, and request method.", STATUS_SLOTS, true,
     ID_RESPONSES, false, 0, resp_labels, resp_flat, resp_dyn},
    {FAM_BYTES, EXPO_COUNTER, "Response body bytes sent, by request method and status class.",
     N_CLASSES, false, ID_BYTES, false, 0, method_class_labels, bytes_flat, bytes_dyn},
    {FAM_HIST(HIST_REQUEST), EXPO_HISTOGRAM, "Time to serve the request, from the server's log.",
     N_CLASSES, false, ID_HIST(HIST_REQUEST), true, HIST_REQUEST, method_class_labels, hist_flat,
     hist_dyn},
    {FAM_HIST(HIST_UPSTREAM), EXPO_HISTOGRAM,
     "Time spent waiting for upstream servers, summed over attempts.", N_CLASSES, false,
     ID_HIST(HIST_UPSTREAM), true, HIST_UPSTREAM, method_class_labels, hist_flat, hist_dyn},
    {FAM_HIST(HIST_REQUEST_SIZE), EXPO_HISTOGRAM,
     "Request size in bytes (request line, headers and body), from the server's log.", N_CLASSES,
     false, ID_HIST(HIST_REQUEST_SIZE), true, HIST_REQUEST_SIZE, method_class_labels, hist_flat,
     hist_dyn},
    {FAM_HIST(HIST_RESPONSE_SIZE), EXPO_HISTOGRAM,
     "Response size in bytes as the log's bytes field counts them ($body_bytes_sent or "
     "$bytes_sent, %b, %B or %O).",
     N_CLASSES, false, ID_HIST(HIST_RESPONSE_SIZE), true, HIST_RESPONSE_SIZE, method_class_labels,
     hist_flat, hist_dyn},
    {FAM_HIST(HIST_UPSTREAM_CONNECT), EXPO_HISTOGRAM,
     "Time spent connecting to upstream servers, summed over attempts.", N_CLASSES, false,
     ID_HIST(HIST_UPSTREAM_CONNECT), true, HIST_UPSTREAM_CONNECT, method_class_labels, hist_flat,
     hist_dyn},
    {FAM_HIST(HIST_UPSTREAM_HEADER), EXPO_HISTOGRAM,
     "Time until upstream servers sent the response header, summed over attempts.", N_CLASSES,
     false, ID_HIST(HIST_UPSTREAM_HEADER), true, HIST_UPSTREAM_HEADER, method_class_labels,
     hist_flat, hist_dyn},
};

/* The counter cell of a flat counter family (NULL: a histogram, whose
 * renderer checks its row), so that the walk skips the empty cells of the
 * 17 x 501 responses without a call each (most of a protobuf render's
 * time went to calls for empty cells). */
static const _Atomic uint64_t *flat_cell(const struct flat_family *f,
                                         const struct metrics_source *s, unsigned me, unsigned x)
{
	return f->fam == FAM_RESPONSES ? &s->responses[me][x]
	       : f->fam == FAM_BYTES   ? &s->bytes[me][x]
	                               : NULL;
}

/* visit(ud, slot, value) for the response cells of s, row by row in memory
 * order (instead of column by column), skipping four empty cells at a
 * time (one test for most of a row: a source sees a few dozen of its
 * 17 x 501 response cells); cells passed may still be 0.  Inlined with its
 * visitor. */
static inline __attribute__((always_inline)) void
each_response_cell(const struct metrics_source *s, void (*visit)(void *, unsigned, uint64_t),
                   void *ud)
{
	for (unsigned me = 0; me < N_METHODS; me++) {
		const _Atomic uint64_t *row = s->responses[me];
		unsigned slot = 0;
		for (; slot + 4 <= STATUS_SLOTS; slot += 4) {
			if (!row_any(&row[slot], 4)) {
				continue;
			}
			for (unsigned k = slot; k < slot + 4; k++) {
				visit(ud, k, get(&row[k]));
			}
		}
		for (; slot < STATUS_SLOTS; slot++) {
			visit(ud, slot, get(&row[slot]));
		}
	}
}

static void mark_occupied(void *ud, unsigned slot, uint64_t v)
{
	((uint8_t *)ud)[slot] |= v != 0;
}

/* occ[slot]: whether some method's response cell of slot has counts; 0 or
 * 1 each. */
static void occupied_slots(const struct metrics_source *s, uint8_t occ[STATUS_SLOTS])
{
	memset(occ, 0, STATUS_SLOTS);
	each_response_cell(s, mark_occupied, occ);
}

/* The flat series of s in the row's order, under one hold of its birthmap.
 * The responses' codes without counts are skipped after one pass over the
 * cells in memory order (the walk by code visited all 17 x 501 cells, 20
 * instructions each, at every render: most of a --backfill step's). */
static void walk_flat(const struct render *r, const struct flat_family *f,
                      const struct metrics_source *s, struct expo_label *l, size_t n)
{
	unsigned outer = f->x_outer ? f->n_x : N_METHODS;
	unsigned inner = f->x_outer ? N_METHODS : f->n_x;
	bool lock = births_needed(r, s);
	uint8_t occ[STATUS_SLOTS];
	bool skip = f->fam == FAM_RESPONSES && f->x_outer && f->n_x == STATUS_SLOTS;

	if (skip) {
		occupied_slots(s, occ);
	}
	if (lock) {
		birthmap_lock(s->births);
	}
	for (unsigned o = 0; o < outer; o++) {
		if (skip && !occ[o]) {
			continue; /* a cell counted since the pass shows at the next render */
		}
		for (unsigned i = 0; i < inner; i++) {
			unsigned me = f->x_outer ? i : o, x = f->x_outer ? o : i;
			const _Atomic uint64_t *c = flat_cell(f, s, me, x);
			if (!c || get(c)) {
				f->flat(r, f, s, me, x, l, n);
			}
		}
	}
	if (lock) {
		birthmap_unlock(s->births);
	}
}

/* The field-label series of s in creation order. */
static void walk_dyn(const struct render *r, const struct flat_family *f,
                     const struct metrics_source *s, struct expo_label *l, size_t n)
{
	const struct series_family *fa = s->fam[f->fam];
	size_t cnt = series_family_count(fa);

	for (size_t e = 0; e < cnt; e++) {
		struct series_key key;
		_Atomic uint64_t *v;
		series_family_entry(fa, e, &key, &v);
		size_t k = field_labels(s, key.tuple, l, n);
		k = f->labels(r->m, key.method, key.slot, l, k);
		f->dyn(r, f, s, &key, v, l, k);
	}
}

static void render_flat_family(const struct render *r, const struct flat_family *f)
{
	struct expo_label l[MAX_LABELS];

	bool any = false;

	if (f->histogram && r->m->no_hist) {
		return; /* metrics.histograms: false - not even the family lines */
	}
	for (size_t i = 0; i < r->m->n_sources && !any; i++) {
		any = fam_shown(r->m->sources[i], f->fam);
	}
	if (!any && f->fam >= FAM_HIST(HIST_FIRST_OPTIONAL)) {
		return; /* an optional histogram no source's format captures */
	}
	expo_writer_family(r->w, family_names[f->fam], f->type, f->help);
	for (size_t i = 0; i < r->m->n_sources; i++) {
		const struct metrics_source *s = r->m->sources[i];
		size_t n = base_labels(s, l);
		if (!fam_shown(s, f->fam)) {
			continue;
		}
		if (s->tuples) {
			walk_dyn(r, f, s, l, n);
		} else {
			walk_flat(r, f, s, l, n);
		}
	}
}

static void add_to_class(void *ud, unsigned slot, uint64_t v)
{
	((uint64_t *)ud)[class_of_slot(slot)] += v;
}

/* The real responses of a source per class, summed over codes, methods and
 * field labels (never held: the class series exist since the source). */
static void class_sums(const struct metrics_source *s, uint64_t sums[N_CLASSES])
{
	memset(sums, 0, N_CLASSES * sizeof(sums[0]));
	if (!s->tuples) {
		each_response_cell(s, add_to_class, sums);
	} else {
		const struct series_family *fa = s->fam[FAM_RESPONSES];
		size_t cnt = series_family_count(fa);
		for (size_t e = 0; e < cnt; e++) {
			struct series_key key;
			_Atomic uint64_t *v;
			series_family_entry(fa, e, &key, &v);
			sums[class_of_slot(key.slot)] += get(v);
		}
	}
}

/* Per-class totals: every class of every source from the source's creation
 * on, so a class is at 0 before its first line and rate()/increase() over
 * it see that line; no field labels, so one series per source and class. */
static void render_classes(const struct render *r)
{
	static const char name[] = "accesslog_http_responses_by_class_total";
	struct expo_label l[MAX_LABELS];

	expo_writer_family(r->w, name, EXPO_COUNTER,
	                   "HTTP responses by status class, every class exposed from the start (0 "
	                   "until its first response).");
	for (size_t i = 0; i < r->m->n_sources; i++) {
		const struct metrics_source *s = r->m->sources[i];
		size_t n = base_labels(s, l);
		uint64_t sums[N_CLASSES];
		int64_t created = source_created(s);

		class_sums(s, sums);
		for (unsigned c = 0; c < N_CLASSES; c++) {
			l[n] = frag_label(&r->m->class_frag[c]);
			counter(r, l, n + 1, sums[c], young(r, created), created);
		}
	}
}

static void render_dropped(const struct render *r)
{
	static const char name[] = "accesslog_series_dropped_total";
	struct expo_label l[MAX_LABELS];
	bool any = false;

	/* Only sources with field labels can drop series; without any, no family at all. */
	for (size_t i = 0; i < r->m->n_sources; i++) {
		any = any || r->m->sources[i]->tuples;
	}
	if (!any) {
		return;
	}
	expo_writer_family(
	    r->w, name, EXPO_COUNTER,
	    "Observations whose new label set exceeded the series limit; counted in the "
	    "overflow series (every field label " SERIES_OVERFLOW_VALUE ") instead.");
	for (size_t i = 0; i < r->m->n_sources; i++) {
		const struct metrics_source *s = r->m->sources[i];
		size_t n = base_labels(s, l);
		int64_t created = source_created(s);

		for (unsigned fa = 0; fa < FAM_COUNT && s->tuples; fa++) {
			if (!fam_shown(s, fa) || !s->fam[fa]) {
				continue;
			}
			l[n] = (struct expo_label){"metric", family_names[fa], 0, NULL, 0};
			counter(r, l, n + 1, series_family_dropped(s->fam[fa]), young(r, created),
			        created);
		}
	}
}

/* The per-source self-metrics exist from the source's creation: held like
 * any series created after start (a restart without a state file is a
 * counter reset that Prometheus must see as one). */
static void render_counters(const struct render *r)
{
	struct expo_label l[MAX_LABELS];

	for (unsigned c = 0; c < METRICS_COUNTER_COUNT; c++) {
		bool any = false;
		for (size_t i = 0; i < r->m->n_sources && !any; i++) {
			any = shows_counter(r->m->sources[i], c);
		}
		if (!any) {
			continue;
		}
		expo_writer_family(r->w, counter_names[c][0], EXPO_COUNTER, counter_names[c][1]);
		for (size_t i = 0; i < r->m->n_sources; i++) {
			const struct metrics_source *s = r->m->sources[i];
			if (!shows_counter(s, c)) {
				continue;
			}
			size_t n = base_labels(s, l);
			int64_t created = source_created(s);
			counter(r, l, n, get(&s->counters[c]), young(r, created), created);
		}
	}
}

static void render_reload(const struct render *r)
{
	struct expo_writer *w = r->w;

	expo_writer_family(w, "accesslog_config_last_reload_successful", EXPO_GAUGE,
	                   "Whether the last configuration reload attempt succeeded (1) or failed "
	                   "(0).");
	expo_writer_u64(w, NULL, 0, get(&r->m->reload_ok), 0);
	expo_writer_family(w, "accesslog_config_last_reload_success_timestamp_seconds", EXPO_GAUGE,
	                   "Unix time of the last successful configuration load.");
	expo_writer_double(w, NULL, 0, bitsd(get(&r->m->reload_ok_bits)), 0);
}

static void render_gauges(const struct render *r)
{
	struct metrics *m = r->m;
	struct expo_writer *w = r->w;
	struct expo_label l[MAX_LABELS];

	expo_writer_family(w, "accesslog_log_file_open", EXPO_GAUGE,
	                   "Whether a log file is open (1) or missing (0).");
	for (size_t i = 0; i < m->n_sources; i++) {
		struct metrics_source *s = m->sources[i];
		size_t n = base_labels(s, l), nf = atomic_load(&s->n_files);
		for (size_t k = 0; k < nf; k++) {
			l[n] = (struct expo_label){"path", s->files[k].path, 0, NULL, 0};
			expo_writer_u64(w, l, n + 1, atomic_load(&s->files[k].open) ? 1 : 0, 0);
		}
	}
	expo_writer_family(w, "accesslog_log_last_read_timestamp_seconds", EXPO_GAUGE,
	                   "Unix time of the last complete line read from the source.");
	for (size_t i = 0; i < m->n_sources; i++) {
		size_t n = base_labels(m->sources[i], l);
		expo_writer_double(w, l, n, bitsd(get(&m->sources[i]->last_read_bits)), 0);
	}
	expo_writer_family(w, "accesslog_checkpoint_last_success_timestamp_seconds", EXPO_GAUGE,
	                   "Unix time of the last successful state checkpoint (0: none yet).");
	expo_writer_double(w, NULL, 0, bitsd(get(&m->checkpoint_bits)), 0);
	render_reload(r);
}

/* A status code (100-999, the catalogue's) as text without snprintf,
 * which cost 670 instructions a row at every render. */
static void code_text(unsigned code, char buf[8])
{
	char tmp[8];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + code % 10);
		code /= 10;
	} while (code && n < 7);
	for (size_t i = 0; i < n; i++) {
		buf[i] = tmp[n - 1 - i];
	}
	buf[n] = '\0';
}

static void render_info(struct expo_writer *w)
{
	struct expo_label l[4];
	char code[8];

	expo_writer_family(w, "accesslog_http_status_info", EXPO_INFO,
	                   "Status codes the exporter knows, with class, reason and who defined "
	                   "them.");
	for (size_t i = 0; i < status_catalog_size(); i++) {
		const struct status_info *si = status_catalog_row(i);
		unsigned slot = status_slot_from_code(si->code);
		code_text(si->code, code);
		l[0] = (struct expo_label){"code", code, 0, NULL, 0};
		l[1] = (struct expo_label){"class", status_slot_class(slot), 0, NULL, 0};
		l[2] = (struct expo_label){"reason", si->reason, 0, NULL, 0};
		l[3] = (struct expo_label){"origin", si->origin, 0, NULL, 0};
		expo_writer_u64(w, l, 4, 1, 0);
	}
	expo_writer_family(w, "accesslog_build_info", EXPO_INFO,
	                   "Version and libraries of this exporter.");
	l[0] = (struct expo_label){"version", ACCESSLOG_VERSION, 0, NULL, 0};
	l[1] = (struct expo_label){"revision", ACCESSLOG_REVISION, 0, NULL, 0};
	l[2] = (struct expo_label){"pcre2", ACCESSLOG_PCRE2_VERSION, 0, NULL, 0};
	l[3] = (struct expo_label){"microhttpd", ACCESSLOG_MHD_VERSION, 0, NULL, 0};
	expo_writer_u64(w, l, 4, 1, 0);
}

int metrics_render_with(struct metrics *m, struct expo_writer *w)
{
	struct render r = {m,     w,    clock_wall_ms(&m->clock),
	                   false, NULL, !m->no_ex && w->f != EXPO_TEXT};

	/* Only protobuf carries native histograms: the text formats skip the reads. */
	if (m->has_native && w->f == EXPO_PROTOBUF) {
		r.snap = malloc(sizeof(*r.snap));
		if (!r.snap) {
			w->b->error = -ENOMEM;
			return -ENOMEM;
		}
	}
	r.created = expo_writer_wants_created(w);
	pthread_mutex_lock(&m->lock);
	if (metrics_make_fragments(m) < 0) {
		pthread_mutex_unlock(&m->lock);
		free(r.snap);
		w->b->error = -ENOMEM;
		return -ENOMEM;
	}
	render_flat_family(&r, &flat_families[0]);
	render_classes(&r);
	for (size_t i = 1; i < sizeof(flat_families) / sizeof(flat_families[0]); i++) {
		render_flat_family(&r, &flat_families[i]);
	}
	render_dropped(&r);
	render_counters(&r);
	render_gauges(&r);
	pthread_mutex_unlock(&m->lock);
	render_info(w);
	expo_writer_finish(w);
	free(r.snap);
	return w->b->error;
}

int metrics_render(struct metrics *m, enum expo_format f, struct strbuf *out)
{
	struct expo_writer w;

	expo_writer_init(&w, f, out, m->created);
	return metrics_render_with(m, &w);
}
