/*
 * metrics.c - the registry (see metrics.h for the concurrency model).
 *
 * Each source holds flat arrays: responses[method][status slot], bytes and
 * histograms per [method][class].  A line costs a table lookup for the
 * method, one increment, and for timed formats a short linear bucket scan;
 * there is no hashing and no allocation after a source is created, and the
 * number of series is bounded by construction (17 methods x 501 slots).
 *
 * Histogram buckets are stored non-cumulative; a render accumulates them
 * and derives _count from the same numbers, so a scrape racing the writer
 * still sees a self-consistent histogram (+Inf bucket == _count).
 *
 * Sources with field labels use series tables instead (series.c): a line
 * costs a cached tuple lookup plus one hash probe per family; the flat
 * arrays stay untouched, so sources without field labels pay nothing.  Each
 * family of such a source is capped (series_limit); a new label set beyond
 * the cap is counted into the overflow series (every field label
 * "__overflow__") and into accesslog_series_dropped_total{metric}.
 *
 * Render order is fixed: families in a fixed order, sources in creation
 * order, flat series in index order, dynamic series in creation order, so
 * consecutive scrapes list series identically and a label set can never
 * appear twice (each is one array cell or one table entry).
 *
 * Rejected: a hash map of label sets for every source (slower on the hot
 * path, and without field labels the label space is small and fixed); a
 * mutex per increment (a scrape would stall ingestion).
 */
#include "exporter/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "build_config.h"
#include "exporter/series.h"
#include "parsers/numparse.h"
#include "parsers/status.h"

#define METRICS_MAX_SOURCES 1024
#define N_METHODS 17u
#define METHOD_OTHER 16u
#define N_CLASSES 6u
#define CLASS_INVALID 5u
#define MAX_BUCKETS 64u

static const char *const method_names[N_METHODS] = {
    "GET",      "HEAD",      "POST",  "PUT",  "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE",   "LOCK",    "UNLOCK",  "other",
};
static const char *const class_names[N_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx", "invalid"};

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
};

struct histogram {
	size_t n_bounds; /* finite bounds; bucket n_bounds is +Inf */
	double bounds[MAX_BUCKETS];
	_Atomic uint64_t *counts;                        /* [N_METHODS][N_CLASSES][n_bounds + 1] */
	_Atomic uint64_t sum_bits[N_METHODS][N_CLASSES]; /* double stored as bits */
	char le[MAX_BUCKETS + 1][32];                    /* le label values, "+Inf" last */
	size_t le_len[MAX_BUCKETS + 1];
};

/* Series-table families of a source with field labels. */
enum family {
	FAM_RESPONSES,
	FAM_BYTES,
	FAM_REQUEST,
	FAM_UPSTREAM,
	FAM_COUNT,
};

static const char *const family_names[FAM_COUNT] = {
    [FAM_RESPONSES] = "accesslog_http_responses_total",
    [FAM_BYTES] = "accesslog_http_response_bytes_total",
    [FAM_REQUEST] = "accesslog_http_request_duration_seconds",
    [FAM_UPSTREAM] = "accesslog_http_upstream_duration_seconds",
};

/* Checkpoint keys of the families ("d" lines). */
static const char *const family_keys[FAM_COUNT] = {"responses", "bytes", "req", "up"};

struct file_gauge {
	char *path;
	atomic_bool open;
};

struct metrics_source {
	char *name;
	struct config_label *labels;
	size_t n_labels;
	char *base_frag; /* 'source="x",static="y"' escaped once, reused by every sample */
	size_t base_frag_len;
	_Atomic uint64_t counters[METRICS_COUNTER_COUNT];
	_Atomic uint64_t last_read_bits;
	_Atomic uint64_t responses[N_METHODS][STATUS_SLOTS];
	_Atomic uint64_t bytes[N_METHODS][N_CLASSES];
	struct histogram request;
	struct histogram upstream;
	struct series_tuples *tuples;         /* NULL: no field labels, flat arrays */
	bool no_hist;                         /* copy of the registry's, next to the hot data */
	struct series_family *fam[FAM_COUNT]; /* with field labels */
	pthread_mutex_t files_lock;           /* guards changing files[] */
	pthread_mutex_t *render_lock;         /* the registry's lock: held to remove from files[] */
	struct file_gauge files[METRICS_MAX_FILES];
	atomic_size_t n_files;
};

struct metrics {
	pthread_mutex_t lock; /* guards the source list */
	struct metrics_source **sources;
	size_t n_sources;
	double bucket_req[MAX_BUCKETS];
	size_t n_req;
	double bucket_up[MAX_BUCKETS];
	size_t n_up;
	_Atomic uint64_t checkpoint_bits;
	_Atomic uint64_t reload_ok;      /* 0/1, last configuration reload */
	_Atomic uint64_t reload_ok_bits; /* unix time of the last successful load */
	bool no_class;
	bool no_reason;
	bool no_hist;
	size_t series_limit;
	char *slot_frag[STATUS_SLOTS]; /* 'code="404",class="4xx",reason="Not Found"' */
	size_t slot_frag_len[STATUS_SLOTS];
};

static inline void inc(_Atomic uint64_t *c, uint64_t d)
{
	/* Single writer: a relaxed load + store is enough and avoids a locked RMW. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
	                      memory_order_relaxed);
}

/* The same, stopping at UINT64_MAX instead of wrapping (a counter that goes
 * backwards would read as a reset): for adds of values from the log. */
static inline void inc_sat(_Atomic uint64_t *c, uint64_t d)
{
	uint64_t v = atomic_load_explicit(c, memory_order_relaxed);
	atomic_store_explicit(c, v > UINT64_MAX - d ? UINT64_MAX : v + d, memory_order_relaxed);
}

static inline uint64_t get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	return u;
}

static double bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static unsigned class_of_slot(unsigned slot)
{
	return slot >= STATUS_SLOT_INVALID ? CLASS_INVALID : slot / 100u;
}

/* Name lengths of method_names, so the per-line lookup never calls strlen. */
static const unsigned char method_lens[N_METHODS] = {3, 4, 4, 3, 6, 7, 7, 5, 5,
                                                     8, 9, 5, 4, 4, 4, 6, 5};

static unsigned method_index(const char *m, size_t len)
{
	/* Few methods, short names: length and first byte rule out almost all. */
	for (unsigned i = 0; i < METHOD_OTHER; i++) {
		if (method_lens[i] == len && method_names[i][0] == m[0] &&
		    memcmp(method_names[i], m, len) == 0) {
			return i;
		}
	}
	return METHOD_OTHER;
}

const char *metrics_method_label(const char *method, size_t len)
{
	return len ? method_names[method_index(method, len)] : method_names[METHOD_OTHER];
}

static bool buckets_ok(const double *b, size_t n)
{
	if (n > MAX_BUCKETS) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(b[i] == b[i]) || (i && b[i] <= b[i - 1]) || b[i] > 1e300) {
			return false;
		}
	}
	return true;
}

/* The status labels of every slot, rendered once (they never change). */
static int make_slot_fragments(struct metrics *m)
{
	for (unsigned slot = 0; slot < STATUS_SLOTS; slot++) {
		struct expo_label l[3];
		struct strbuf b;
		size_t n = 0;
		l[n++] = (struct expo_label){"code", status_slot_code(slot), 0};
		if (!m->no_class) {
			l[n++] = (struct expo_label){"class", status_slot_class(slot), 0};
		}
		if (!m->no_reason) {
			l[n++] = (struct expo_label){"reason", status_slot_reason(slot), 0};
		}
		strbuf_init(&b, 4096);
		expo_labels_fragment(&b, l, n);
		m->slot_frag[slot] = strbuf_steal(&b, &m->slot_frag_len[slot]);
		strbuf_finish(&b);
		if (!m->slot_frag[slot]) {
			return -ENOMEM;
		}
	}
	return 0;
}

struct metrics *metrics_create(const struct metrics_options *o)
{
	struct metrics *m;

	if (!buckets_ok(o->request_buckets, o->n_request_buckets) ||
	    !buckets_ok(o->upstream_buckets, o->n_upstream_buckets) ||
	    o->series_limit > SERIES_MAX_LIMIT) {
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		return NULL;
	}
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return NULL;
	}
	memcpy(m->bucket_req, o->request_buckets, o->n_request_buckets * sizeof(double));
	memcpy(m->bucket_up, o->upstream_buckets, o->n_upstream_buckets * sizeof(double));
	m->n_req = o->n_request_buckets;
	m->n_up = o->n_upstream_buckets;
	m->no_class = o->no_class_label;
	m->no_reason = o->no_reason_label;
	m->no_hist = o->no_histograms;
	m->series_limit = o->series_limit ? o->series_limit : SERIES_DEFAULT_LIMIT;
	if (make_slot_fragments(m) < 0) {
		metrics_destroy(m);
		return NULL;
	}
	/* A registry exists only for a configuration that loaded. */
	atomic_store_explicit(&m->reload_ok, 1, memory_order_relaxed);
	return m;
}

static void source_destroy(struct metrics_source *s)
{
	if (!s) {
		return;
	}
	for (size_t i = 0; i < s->n_labels; i++) {
		free(s->labels[i].name);
		free(s->labels[i].value);
	}
	for (size_t i = 0; i < atomic_load(&s->n_files); i++) {
		free(s->files[i].path);
	}
	free(s->labels);
	series_tuples_destroy(s->tuples);
	for (unsigned f = 0; f < FAM_COUNT; f++) {
		series_family_destroy(s->fam[f]);
	}
	free(s->request.counts);
	free(s->upstream.counts);
	free(s->name);
	free(s->base_frag);
	pthread_mutex_destroy(&s->files_lock);
	free(s);
}

void metrics_destroy(struct metrics *m)
{
	if (!m) {
		return;
	}
	for (size_t i = 0; i < m->n_sources; i++) {
		source_destroy(m->sources[i]);
	}
	free(m->sources);
	for (unsigned i = 0; i < STATUS_SLOTS; i++) {
		free(m->slot_frag[i]);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int hist_init(struct histogram *h, const double *bounds, size_t n)
{
	h->n_bounds = n;
	memcpy(h->bounds, bounds, n * sizeof(double));
	for (size_t k = 0; k <= n; k++) {
		struct strbuf tmp = {
		    .data = h->le[k], .alloc = sizeof(h->le[k]), .cap = sizeof(h->le[k]) - 1};
		if (k < n) {
			(void)strbuf_put_double(&tmp, bounds[k]);
			/* Integral bounds are written "1.0" so le values look the same in both
			 * formats. */
			if (!memchr(tmp.data, '.', tmp.len) && !memchr(tmp.data, 'e', tmp.len)) {
				(void)strbuf_puts(&tmp, ".0");
			}
		} else {
			(void)strbuf_puts(&tmp, "+Inf");
		}
		h->le_len[k] = tmp.len;
	}
	h->counts = calloc((size_t)N_METHODS * N_CLASSES * (n + 1), sizeof(*h->counts));
	return h->counts ? 0 : -ENOMEM;
}

static _Atomic uint64_t *hist_row(const struct histogram *h, unsigned method, unsigned cls)
{
	return h->counts + ((size_t)method * N_CLASSES + cls) * (h->n_bounds + 1);
}

static bool name_taken(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (names[i] && strcmp(names[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* No label name may appear twice on a series: check static + field labels. */
static int check_label_names(const struct config_label *labels, size_t n_labels,
                             const struct config_field_label *fl, size_t n_fl, char *err,
                             size_t err_size)
{
	const char *seen[CONFIG_MAX_STATIC_LABELS + CONFIG_MAX_FIELD_LABELS];
	size_t n = 0;

	if (n_labels > CONFIG_MAX_STATIC_LABELS || n_fl > CONFIG_MAX_FIELD_LABELS) {
		(void)snprintf(err, err_size, "too many labels");
		return -EINVAL;
	}
	for (size_t i = 0; i < n_labels + n_fl; i++) {
		const char *name = i < n_labels ? labels[i].name : fl[i - n_labels].name;
		/* The one reserved list (config.c): a field label may be named path. */
		if (config_is_reserved_label(name, i >= n_labels) || name_taken(name, seen, n)) {
			(void)snprintf(err, err_size, "label name %s is used twice or reserved",
			               name);
			return -EINVAL;
		}
		seen[n++] = name;
	}
	return 0;
}

static int source_add_families(struct metrics *m, struct metrics_source *s,
                               const struct config_field_label *fl, size_t n_fl, char *err,
                               size_t err_size)
{
	static const size_t reserve[FAM_COUNT] = {
	    [FAM_RESPONSES] = (size_t)N_METHODS * STATUS_SLOTS,
	    [FAM_BYTES] = (size_t)N_METHODS * N_CLASSES,
	    [FAM_REQUEST] = (size_t)N_METHODS * N_CLASSES,
	    [FAM_UPSTREAM] = (size_t)N_METHODS * N_CLASSES,
	};
	size_t width[FAM_COUNT] = {1, 1, m->n_req + 2, m->n_up + 2}; /* buckets, +Inf, sum */
	int r = series_tuples_create(fl, n_fl, m->series_limit, &s->tuples, err, err_size);

	if (r < 0) {
		return r;
	}
	for (unsigned f = 0; f < FAM_COUNT; f++) {
		s->fam[f] = series_family_create(width[f], m->series_limit, reserve[f]);
		if (!s->fam[f]) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* source + static labels, escaped once for all samples of the source. */
static int make_base_fragment(struct metrics_source *s)
{
	struct expo_label l[CONFIG_MAX_STATIC_LABELS + 1];
	struct strbuf b;
	size_t n = 0;

	l[n++] = (struct expo_label){"source", s->name, 0};
	for (size_t i = 0; i < s->n_labels && n < CONFIG_MAX_STATIC_LABELS + 1; i++) {
		l[n++] = (struct expo_label){s->labels[i].name, s->labels[i].value, 0};
	}
	strbuf_init(&b, 1024 * 1024);
	expo_labels_fragment(&b, l, n);
	s->base_frag = strbuf_steal(&b, &s->base_frag_len);
	strbuf_finish(&b);
	return s->base_frag ? 0 : -ENOMEM;
}

static int source_new(struct metrics *m, const char *name, const struct config_label *labels,
                      size_t n_labels, const struct config_field_label *fl, size_t n_fl,
                      struct metrics_source **ret, char *err, size_t err_size)
{
	struct metrics_source *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (!s) {
		return -ENOMEM;
	}
	if (pthread_mutex_init(&s->files_lock, NULL) != 0) {
		free(s);
		return -ENOMEM;
	}
	s->no_hist = m->no_hist;
	s->render_lock = &m->lock;
	s->name = strdup(name);
	s->labels = calloc(n_labels ? n_labels : 1, sizeof(*s->labels));
	if (!s->name || !s->labels || hist_init(&s->request, m->bucket_req, m->n_req) < 0 ||
	    hist_init(&s->upstream, m->bucket_up, m->n_up) < 0) {
		goto fail;
	}
	for (size_t i = 0; i < n_labels; i++) {
		s->labels[i].name = strdup(labels[i].name);
		s->labels[i].value = strdup(labels[i].value);
		s->n_labels++;
		if (!s->labels[i].name || !s->labels[i].value) {
			goto fail;
		}
	}
	r = make_base_fragment(s);
	if (r < 0) {
		goto fail;
	}
	if (n_fl) {
		r = source_add_families(m, s, fl, n_fl, err, err_size);
		if (r < 0) {
			goto fail;
		}
	}
	*ret = s;
	return 0;
fail:
	source_destroy(s);
	return r;
}

int metrics_add_source(struct metrics *m, const char *name, const struct config_label *labels,
                       size_t n_labels, const struct config_field_label *field_labels,
                       size_t n_field_labels, struct metrics_source **ret_source, char *err,
                       size_t err_size)
{
	struct metrics_source *s = NULL, **grown;
	char dummy[1];
	int r;

	if (!err || !err_size) {
		err = dummy;
		err_size = sizeof(dummy);
	}
	err[0] = '\0';
	r = check_label_names(labels, n_labels, field_labels, n_field_labels, err, err_size);
	if (r < 0) {
		return r;
	}
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_sources; i++) {
		if (strcmp(m->sources[i]->name, name) == 0) {
			r = -EEXIST;
			goto out;
		}
	}
	if (m->n_sources >= METRICS_MAX_SOURCES) {
		r = -ENOSPC;
		goto out;
	}
	r = source_new(m, name, labels, n_labels, field_labels, n_field_labels, &s, err, err_size);
	if (r < 0) {
		goto out;
	}
	grown = realloc(m->sources, (m->n_sources + 1) * sizeof(*grown));
	if (!grown) {
		source_destroy(s);
		r = -ENOMEM;
		goto out;
	}
	m->sources = grown;
	m->sources[m->n_sources++] = s;
	*ret_source = s;
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* The bucket of v: the first bound not below it (+Inf bucket: n), found as
 * the count of bounds below v (the bounds are strictly increasing).  No
 * data-dependent branch: an early-exit scan mispredicts about once per
 * observation, which cost 6% of the whole exporter on timed logs (A/B runs
 * of bench/run's histogram case; 4-wide vectors were slower without AVX). */
static inline size_t bucket_index(const double *bounds, size_t n, double v)
{
	size_t i = 0;

	for (size_t k = 0; k < n; k++) {
		i += v > bounds[k];
	}
	return i;
}

/* Add v to a histogram row: n_bounds + 1 non-cumulative buckets, then the sum bits. */
static void row_observe(_Atomic uint64_t *row, const double *bounds, size_t n_bounds, double v)
{
	size_t i = bucket_index(bounds, n_bounds, v);

	inc(&row[i], 1);
	atomic_store_explicit(&row[n_bounds + 1], dbits(bitsd(get(&row[n_bounds + 1])) + v),
	                      memory_order_relaxed);
}

/* A NULL from series_family_get (out of memory) is already counted as dropped there. */
static void dyn_inc(struct series_family *f, uint32_t t, unsigned me, unsigned k, uint64_t d)
{
	_Atomic uint64_t *v = series_family_get(f, t, me, k);

	if (v) {
		inc_sat(v, d);
	}
}

static void dyn_hist(struct series_family *f, const struct histogram *h, uint32_t t, unsigned me,
                     unsigned cls, double value)
{
	_Atomic uint64_t *v = series_family_get(f, t, me, cls);

	if (v) {
		row_observe(v, h->bounds, h->n_bounds, value);
	}
}

static void observe_dyn(struct metrics_source *s, const struct log_record *r, unsigned method,
                        unsigned slot, unsigned cls)
{
	uint32_t t = series_tuples_lookup(s->tuples, r);

	dyn_inc(s->fam[FAM_RESPONSES], t, method, slot, 1);
	if (r->has_bytes) {
		dyn_inc(s->fam[FAM_BYTES], t, method, cls, r->bytes_sent);
	}
	if (s->no_hist) {
		return;
	}
	if (r->has_request_time) {
		dyn_hist(s->fam[FAM_REQUEST], &s->request, t, method, cls, r->request_time);
	}
	if (r->has_upstream_time) {
		dyn_hist(s->fam[FAM_UPSTREAM], &s->upstream, t, method, cls, r->upstream_time);
	}
}

static void hist_observe(struct histogram *h, unsigned method, unsigned cls, double v)
{
	_Atomic uint64_t *row = hist_row(h, method, cls);
	_Atomic uint64_t *sum = &h->sum_bits[method][cls];
	size_t i = bucket_index(h->bounds, h->n_bounds, v);

	inc(&row[i], 1);
	atomic_store_explicit(sum, dbits(bitsd(get(sum)) + v), memory_order_relaxed);
}

void metrics_observe(struct metrics_source *s, const struct log_record *r)
{
	unsigned method = r->method.len ? method_index(r->method.ptr, r->method.len) : METHOD_OTHER;
	unsigned slot = r->status_slot < STATUS_SLOTS ? r->status_slot : STATUS_SLOT_INVALID;
	unsigned cls = class_of_slot(slot);

	if (s->tuples) {
		observe_dyn(s, r, method, slot, cls);
		return;
	}
	inc(&s->responses[method][slot], 1);
	if (r->has_bytes) {
		inc_sat(&s->bytes[method][cls], r->bytes_sent);
	}
	if (s->no_hist) {
		return;
	}
	if (r->has_request_time) {
		hist_observe(&s->request, method, cls, r->request_time);
	}
	if (r->has_upstream_time) {
		hist_observe(&s->upstream, method, cls, r->upstream_time);
	}
}

void metrics_count(struct metrics_source *s, enum metrics_counter c, uint64_t delta)
{
	inc(&s->counters[c], delta);
}

uint64_t metrics_get(const struct metrics_source *s, enum metrics_counter c)
{
	return get(&s->counters[c]);
}

uint64_t metrics_get_responses(const struct metrics_source *s, unsigned slot)
{
	uint64_t sum = 0;

	if (slot >= STATUS_SLOTS) {
		return 0;
	}
	for (unsigned m = 0; m < N_METHODS; m++) {
		sum += get(&s->responses[m][slot]);
	}
	if (s->tuples) {
		const struct series_family *f = s->fam[FAM_RESPONSES];
		size_t n = series_family_count(f);
		for (size_t i = 0; i < n; i++) {
			struct series_key k;
			_Atomic uint64_t *v;
			series_family_entry(f, i, &k, &v);
			sum += k.slot == slot ? get(v) : 0;
		}
	}
	return sum;
}

void metrics_set_last_read(struct metrics_source *s, double t)
{
	atomic_store_explicit(&s->last_read_bits, dbits(t), memory_order_relaxed);
}

void metrics_set_checkpoint_time(struct metrics *m, double t)
{
	atomic_store_explicit(&m->checkpoint_bits, dbits(t), memory_order_relaxed);
}

void metrics_set_reload_result(struct metrics *m, bool ok, double t)
{
	atomic_store_explicit(&m->reload_ok, ok ? 1 : 0, memory_order_relaxed);
	if (ok) {
		atomic_store_explicit(&m->reload_ok_bits, dbits(t), memory_order_relaxed);
	}
}

void metrics_remove_source(struct metrics *m, struct metrics_source *s)
{
	/* Renders walk the list under m->lock, so once unlinked under it no
	 * reader can still see s; the caller is its only writer. */
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_sources; i++) {
		if (m->sources[i] == s) {
			memmove(&m->sources[i], &m->sources[i + 1],
			        (m->n_sources - i - 1) * sizeof(m->sources[0]));
			m->n_sources--;
			source_destroy(s);
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

int metrics_set_file_open(struct metrics_source *s, const char *path, bool open)
{
	size_t n;
	int r = 0;

	pthread_mutex_lock(&s->files_lock);
	n = atomic_load(&s->n_files);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s->files[i].path, path) == 0) {
			atomic_store(&s->files[i].open, open);
			goto out;
		}
	}
	if (n >= METRICS_MAX_FILES) {
		r = -ENOSPC;
		goto out;
	}
	s->files[n].path = strdup(path);
	if (!s->files[n].path) {
		r = -ENOMEM;
		goto out;
	}
	atomic_store(&s->files[n].open, open);
	/* Publish the entry only once it is complete. */
	atomic_store(&s->n_files, n + 1);
out:
	pthread_mutex_unlock(&s->files_lock);
	return r;
}

int metrics_remove_file(struct metrics_source *s, const char *path)
{
	size_t n;
	int r = -ENOENT;

	/* Renders read files[] under the registry lock, without files_lock:
	 * holding both, no reader is in the array while it is compacted. */
	pthread_mutex_lock(s->render_lock);
	pthread_mutex_lock(&s->files_lock);
	n = atomic_load(&s->n_files);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s->files[i].path, path) != 0) {
			continue;
		}
		free(s->files[i].path);
		for (size_t k = i + 1; k < n; k++) { /* keep the render order */
			s->files[k - 1].path = s->files[k].path;
			atomic_store(&s->files[k - 1].open, atomic_load(&s->files[k].open));
		}
		s->files[n - 1].path = NULL;
		atomic_store(&s->n_files, n - 1);
		r = 0;
		break;
	}
	pthread_mutex_unlock(&s->files_lock);
	pthread_mutex_unlock(s->render_lock);
	return r;
}

/* ---- rendering ---------------------------------------------------------- */

#define MAX_LABELS (CONFIG_MAX_STATIC_LABELS + CONFIG_MAX_FIELD_LABELS + 8)

/* Fill the common labels (source + static labels); returns how many. */
static size_t base_labels(const struct metrics_source *s, struct expo_label *l)
{
	l[0] = (struct expo_label){NULL, s->base_frag, s->base_frag_len};
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
		                             v[i].len ? v[i].ptr : "", v[i].len};
	}
	return n;
}

/* code, [class], [reason], method: the status and method labels of a response series. */
static size_t status_labels(const struct metrics *m, unsigned slot, unsigned me,
                            struct expo_label *l, size_t n)
{
	l[n++] = (struct expo_label){NULL, m->slot_frag[slot], m->slot_frag_len[slot]};
	l[n++] = (struct expo_label){"method", method_names[me], 0};
	return n;
}

static size_t method_class_labels(unsigned me, unsigned c, struct expo_label *l, size_t n)
{
	l[n++] = (struct expo_label){"method", method_names[me], 0};
	l[n++] = (struct expo_label){"class", class_names[c], 0};
	return n;
}

static void render_responses(struct metrics *m, enum expo_format f, struct strbuf *b)
{
	static const char name[] = "accesslog_http_responses_total";
	struct expo_label l[MAX_LABELS];

	expo_family(b, f, name, EXPO_COUNTER,
	            "HTTP responses by status code, its class and reason, and request method.");
	for (size_t i = 0; i < m->n_sources; i++) {
		const struct metrics_source *s = m->sources[i];
		size_t n = base_labels(s, l);

		for (unsigned slot = 0; slot < STATUS_SLOTS && !s->tuples; slot++) {
			for (unsigned me = 0; me < N_METHODS; me++) {
				uint64_t v = get(&s->responses[me][slot]);
				if (v) {
					size_t k = status_labels(m, slot, me, l, n);
					expo_sample_u64(b, name, NULL, l, k, NULL, v);
				}
			}
		}
		if (s->tuples) {
			const struct series_family *fa = s->fam[FAM_RESPONSES];
			size_t cnt = series_family_count(fa);
			for (size_t e = 0; e < cnt; e++) {
				struct series_key key;
				_Atomic uint64_t *v;
				series_family_entry(fa, e, &key, &v);
				size_t k = field_labels(s, key.tuple, l, n);
				k = status_labels(m, key.slot, key.method, l, k);
				expo_sample_u64(b, name, NULL, l, k, NULL, get(v));
			}
		}
	}
}

static void render_bytes(struct metrics *m, enum expo_format f, struct strbuf *b)
{
	static const char name[] = "accesslog_http_response_bytes_total";
	struct expo_label l[MAX_LABELS];

	expo_family(b, f, name, EXPO_COUNTER,
	            "Response body bytes sent, by request method and status class.");
	for (size_t i = 0; i < m->n_sources; i++) {
		const struct metrics_source *s = m->sources[i];
		size_t n = base_labels(s, l);

		for (unsigned me = 0; me < N_METHODS && !s->tuples; me++) {
			for (unsigned c = 0; c < N_CLASSES; c++) {
				uint64_t v = get(&s->bytes[me][c]);
				if (v) {
					size_t k = method_class_labels(me, c, l, n);
					expo_sample_u64(b, name, NULL, l, k, NULL, v);
				}
			}
		}
		if (s->tuples) {
			const struct series_family *fa = s->fam[FAM_BYTES];
			size_t cnt = series_family_count(fa);
			for (size_t e = 0; e < cnt; e++) {
				struct series_key key;
				_Atomic uint64_t *v;
				series_family_entry(fa, e, &key, &v);
				size_t k = field_labels(s, key.tuple, l, n);
				k = method_class_labels(key.method, key.slot, l, k);
				expo_sample_u64(b, name, NULL, l, k, NULL, get(v));
			}
		}
	}
}

/* One histogram series: row has n_bounds + 1 non-cumulative buckets; sum given. */
static void render_hist_row(struct strbuf *b, const char *name, const struct histogram *h,
                            const _Atomic uint64_t *row, uint64_t sum_bits,
                            const struct expo_label *l, size_t n)
{
	uint64_t cum = 0;

	for (size_t k = 0; k <= h->n_bounds; k++) {
		struct expo_label lel = {"le", h->le[k], h->le_len[k]};
		cum += get(&row[k]);
		expo_sample_u64(b, name, "_bucket", l, n, &lel, cum);
	}
	expo_sample_double(b, name, "_sum", l, n, NULL, bitsd(sum_bits));
	expo_sample_u64(b, name, "_count", l, n, NULL, cum);
}

static bool row_any(const _Atomic uint64_t *row, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (get(&row[k])) {
			return true;
		}
	}
	return false;
}

static void render_histogram(struct metrics *m, enum expo_format f, struct strbuf *b, bool up)
{
	const char *name = family_names[up ? FAM_UPSTREAM : FAM_REQUEST];
	struct expo_label l[MAX_LABELS];

	if (m->no_hist) {
		return; /* metrics.histograms: false - not even the family lines */
	}
	expo_family(b, f, name, EXPO_HISTOGRAM,
	            up ? "Time spent waiting for upstream servers, summed over attempts."
	               : "Time to serve the request, from the server's log.");
	for (size_t i = 0; i < m->n_sources; i++) {
		const struct metrics_source *s = m->sources[i];
		const struct histogram *h = up ? &s->upstream : &s->request;
		size_t n = base_labels(s, l);

		for (unsigned me = 0; me < N_METHODS && !s->tuples; me++) {
			for (unsigned c = 0; c < N_CLASSES; c++) {
				const _Atomic uint64_t *row = hist_row(h, me, c);
				if (row_any(row, h->n_bounds + 1)) {
					size_t k = method_class_labels(me, c, l, n);
					render_hist_row(b, name, h, row, get(&h->sum_bits[me][c]),
					                l, k);
				}
			}
		}
		if (s->tuples) {
			const struct series_family *fa = s->fam[up ? FAM_UPSTREAM : FAM_REQUEST];
			size_t cnt = series_family_count(fa);
			for (size_t e = 0; e < cnt; e++) {
				struct series_key key;
				_Atomic uint64_t *v;
				series_family_entry(fa, e, &key, &v);
				size_t k = field_labels(s, key.tuple, l, n);
				k = method_class_labels(key.method, key.slot, l, k);
				render_hist_row(b, name, h, v, get(&v[h->n_bounds + 1]), l, k);
			}
		}
	}
}

static void render_dropped(struct metrics *m, enum expo_format f, struct strbuf *b)
{
	static const char name[] = "accesslog_series_dropped_total";
	struct expo_label l[MAX_LABELS];
	bool any = false;

	/* Only sources with field labels can drop series; without any, no family at all. */
	for (size_t i = 0; i < m->n_sources; i++) {
		any = any || m->sources[i]->tuples;
	}
	if (!any) {
		return;
	}
	expo_family(b, f, name, EXPO_COUNTER,
	            "Observations whose new label set exceeded the series limit; counted in the "
	            "overflow series (every field label " SERIES_OVERFLOW_VALUE ") instead.");
	for (size_t i = 0; i < m->n_sources; i++) {
		const struct metrics_source *s = m->sources[i];
		size_t n = base_labels(s, l);

		for (unsigned fa = 0; fa < FAM_COUNT && s->tuples; fa++) {
			l[n] = (struct expo_label){"metric", family_names[fa], 0};
			expo_sample_u64(b, name, NULL, l, n + 1, NULL,
			                series_family_dropped(s->fam[fa]));
		}
	}
}

static void render_counters(struct metrics *m, enum expo_format f, struct strbuf *b)
{
	struct expo_label l[MAX_LABELS];

	for (unsigned c = 0; c < METRICS_COUNTER_COUNT; c++) {
		expo_family(b, f, counter_names[c][0], EXPO_COUNTER, counter_names[c][1]);
		for (size_t i = 0; i < m->n_sources; i++) {
			size_t n = base_labels(m->sources[i], l);
			expo_sample_u64(b, counter_names[c][0], NULL, l, n, NULL,
			                get(&m->sources[i]->counters[c]));
		}
	}
}

static void render_reload(struct metrics *m, enum expo_format f, struct strbuf *b)
{
	static const char ok_name[] = "accesslog_config_last_reload_successful";
	static const char ts_name[] = "accesslog_config_last_reload_success_timestamp_seconds";

	expo_family(b, f, ok_name, EXPO_GAUGE,
	            "Whether the last configuration reload attempt succeeded (1) or failed (0).");
	expo_sample_u64(b, ok_name, NULL, NULL, 0, NULL, get(&m->reload_ok));
	expo_family(b, f, ts_name, EXPO_GAUGE,
	            "Unix time of the last successful configuration load.");
	expo_sample_double(b, ts_name, NULL, NULL, 0, NULL, bitsd(get(&m->reload_ok_bits)));
}

static void render_gauges(struct metrics *m, enum expo_format f, struct strbuf *b)
{
	static const char open_name[] = "accesslog_log_file_open";
	static const char last_name[] = "accesslog_log_last_read_timestamp_seconds";
	static const char ckpt_name[] = "accesslog_checkpoint_last_success_timestamp_seconds";
	struct expo_label l[MAX_LABELS];

	expo_family(b, f, open_name, EXPO_GAUGE, "Whether a log file is open (1) or missing (0).");
	for (size_t i = 0; i < m->n_sources; i++) {
		struct metrics_source *s = m->sources[i];
		size_t n = base_labels(s, l), nf = atomic_load(&s->n_files);
		for (size_t k = 0; k < nf; k++) {
			l[n] = (struct expo_label){"path", s->files[k].path, 0};
			expo_sample_u64(b, open_name, NULL, l, n + 1, NULL,
			                atomic_load(&s->files[k].open) ? 1 : 0);
		}
	}
	expo_family(b, f, last_name, EXPO_GAUGE,
	            "Unix time of the last complete line read from the source.");
	for (size_t i = 0; i < m->n_sources; i++) {
		size_t n = base_labels(m->sources[i], l);
		expo_sample_double(b, last_name, NULL, l, n, NULL,
		                   bitsd(get(&m->sources[i]->last_read_bits)));
	}
	expo_family(b, f, ckpt_name, EXPO_GAUGE,
	            "Unix time of the last successful state checkpoint (0: none yet).");
	expo_sample_double(b, ckpt_name, NULL, NULL, 0, NULL, bitsd(get(&m->checkpoint_bits)));
	render_reload(m, f, b);
}

static void render_info(enum expo_format f, struct strbuf *b)
{
	static const char st_name[] = "accesslog_http_status_info";
	static const char build_name[] = "accesslog_build_info";
	struct expo_label l[4];
	char code[8];

	expo_family(b, f, st_name, EXPO_INFO,
	            "Status codes the exporter knows, with class, reason and who defined them.");
	for (size_t i = 0; i < status_catalog_size(); i++) {
		const struct status_info *si = status_catalog_row(i);
		unsigned slot = status_slot_from_code(si->code);
		(void)snprintf(code, sizeof(code), "%u", si->code);
		l[0] = (struct expo_label){"code", code, 0};
		l[1] = (struct expo_label){"class", status_slot_class(slot), 0};
		l[2] = (struct expo_label){"reason", si->reason, 0};
		l[3] = (struct expo_label){"origin", si->origin, 0};
		expo_sample_u64(b, st_name, NULL, l, 4, NULL, 1);
	}
	expo_family(b, f, build_name, EXPO_INFO, "Version and libraries of this exporter.");
	l[0] = (struct expo_label){"version", ACCESSLOG_VERSION, 0};
	l[1] = (struct expo_label){"revision", ACCESSLOG_REVISION, 0};
	l[2] = (struct expo_label){"pcre2", ACCESSLOG_PCRE2_VERSION, 0};
	l[3] = (struct expo_label){"microhttpd", ACCESSLOG_MHD_VERSION, 0};
	expo_sample_u64(b, build_name, NULL, l, 4, NULL, 1);
}

int metrics_render(struct metrics *m, enum expo_format f, struct strbuf *out)
{
	pthread_mutex_lock(&m->lock);
	render_responses(m, f, out);
	render_bytes(m, f, out);
	render_histogram(m, f, out, false);
	render_histogram(m, f, out, true);
	render_dropped(m, f, out);
	render_counters(m, f, out);
	render_gauges(m, f, out);
	pthread_mutex_unlock(&m->lock);
	render_info(f, out);
	return out->error;
}

/* ---- checkpoints ---------------------------------------------------------- */

/*
 * One record per line, fields separated by one space:
 *   c <counter> <value>                 self-metric (by short name)
 *   r <method> <code> <value>           response counter ("invalid" code allowed)
 *   b <method> <class> <value>          response bytes
 *   h <req|up> <method> <class> <i|inf> <bound-bits-hex> <value>   histogram bucket
 *   s <req|up> <method> <class> <sum-bits-hex>                     histogram sum
 *   l <=name> <field> <=match|-> <=replacement|->   field-label schema
 *   R, B, H, S: the same for a field-label series, followed by one token per
 *      field label: "=" and the value with bytes outside '!'..'~' and '%'
 *      written as %XX (so "=" alone is the empty value)
 *   d <responses|bytes|req|up> <value>  series dropped by the limit
 * Doubles travel as their IEEE bits in hex so they round-trip exactly.
 *
 * The "l" lines (one per field label, in label order, before the series)
 * say what each value position of R/B/H/S meant when it was saved: name,
 * record field, match and replacement ("-": no rewrite), escaped like the
 * values.  Restore maps a running label to the saved position with the same
 * name when field, match and replacement are unchanged; a label that is new,
 * or whose field or rewrite changed, gets the empty value, and a saved label
 * that no longer exists is dropped (its series merge).  Every restored value
 * is still added somewhere, so totals stay exact; the overflow label set
 * (all "__overflow__") stays the overflow set.  A checkpoint without "l"
 * lines (older versions) cannot say which position was which: all its
 * field-label series get empty values (totals kept) rather than risk
 * putting counts under the wrong label.  Rejected: a hash of the schema
 * (could only say "changed", not map by name; the full text is small and
 * bounded by the config caps); re-running the new rewrite on saved values
 * (they are already rewritten and capped, the raw value is gone).
 */
static const char *const counter_keys[METRICS_COUNTER_COUNT] = {
    [METRICS_LINES] = "lines",
    [METRICS_PARSE_ERRORS] = "parse_errors",
    [METRICS_BYTES_READ] = "bytes_read",
    [METRICS_ROTATIONS] = "rotations",
    [METRICS_TRUNCATIONS] = "truncations",
    [METRICS_LINES_TOO_LONG] = "lines_too_long",
    [METRICS_READ_ERRORS] = "read_errors",
};

/* Record fields by checkpoint name (enum config_field order). */
static const char *const field_keys[] = {
    [CONFIG_FIELD_VHOST] = "vhost",
    [CONFIG_FIELD_PATH] = "path",
    [CONFIG_FIELD_UPSTREAM_STATUS] = "upstream_status",
};
#define N_FIELD_KEYS ((unsigned)(sizeof(field_keys) / sizeof(field_keys[0])))

static bool needs_escape(unsigned char c)
{
	return c <= ' ' || c >= 0x7f || c == '%';
}

/* " =" and the bytes, with needs_escape bytes as %XX: one space-free token. */
static void put_token(struct strbuf *out, const char *p, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	(void)strbuf_append(out, " =", 2);
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)p[k];
		if (!needs_escape(c)) {
			(void)strbuf_putc(out, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			(void)strbuf_append(out, e, 3);
		}
	}
}

static void save_values(const struct metrics_source *s, uint32_t tuple, struct strbuf *out)
{
	struct str_view v[CONFIG_MAX_FIELD_LABELS];
	size_t w = series_tuples_width(s->tuples);

	series_tuples_values(s->tuples, tuple, v);
	for (size_t i = 0; i < w; i++) {
		put_token(out, v[i].ptr, v[i].len);
	}
	(void)strbuf_putc(out, '\n');
}

/* The "l" lines: what each value position of the series lines means. */
static void save_schema(const struct metrics_source *s, struct strbuf *out)
{
	size_t w = series_tuples_width(s->tuples);

	for (size_t i = 0; i < w; i++) {
		struct series_label_def d;
		series_tuples_def(s->tuples, i, &d);
		(void)strbuf_putc(out, 'l');
		put_token(out, d.name, strlen(d.name));
		(void)strbuf_printf(out, " %s", field_keys[d.field]);
		if (d.match) {
			put_token(out, d.match, strlen(d.match));
			put_token(out, d.replacement, strlen(d.replacement));
			(void)strbuf_putc(out, '\n');
		} else {
			(void)strbuf_puts(out, " - -\n");
		}
	}
}

static void save_bucket(struct strbuf *out, char tag, const char *hname, unsigned me, unsigned c,
                        const struct histogram *h, size_t k, uint64_t v)
{
	(void)strbuf_printf(out, "%c %s %s %s %s %016llx %llu", tag, hname, method_names[me],
	                    class_names[c], k < h->n_bounds ? "i" : "inf",
	                    (unsigned long long)(k < h->n_bounds ? dbits(h->bounds[k]) : 0),
	                    (unsigned long long)v);
}

static void save_hist(const struct histogram *h, const char *tag, struct strbuf *out)
{
	for (unsigned me = 0; me < N_METHODS; me++) {
		for (unsigned c = 0; c < N_CLASSES; c++) {
			_Atomic uint64_t *row = hist_row(h, me, c);
			for (size_t k = 0; k <= h->n_bounds; k++) {
				uint64_t v = get(&row[k]);
				if (v) {
					save_bucket(out, 'h', tag, me, c, h, k, v);
					(void)strbuf_putc(out, '\n');
				}
			}
			uint64_t sb = get(&h->sum_bits[me][c]);
			if (sb) {
				(void)strbuf_printf(out, "s %s %s %s %016llx\n", tag,
				                    method_names[me], class_names[c],
				                    (unsigned long long)sb);
			}
		}
	}
}

static void save_dyn_hist(const struct metrics_source *s, bool up, struct strbuf *out)
{
	const struct histogram *h = up ? &s->upstream : &s->request;
	const struct series_family *fa = s->fam[up ? FAM_UPSTREAM : FAM_REQUEST];
	const char *tag = family_keys[up ? FAM_UPSTREAM : FAM_REQUEST];
	size_t cnt = series_family_count(fa);

	for (size_t e = 0; e < cnt; e++) {
		struct series_key key;
		_Atomic uint64_t *row;
		series_family_entry(fa, e, &key, &row);
		for (size_t k = 0; k <= h->n_bounds; k++) {
			uint64_t v = get(&row[k]);
			if (v) {
				save_bucket(out, 'H', tag, key.method, key.slot, h, k, v);
				save_values(s, key.tuple, out);
			}
		}
		uint64_t sb = get(&row[h->n_bounds + 1]);
		if (sb) {
			(void)strbuf_printf(out, "S %s %s %s %016llx", tag,
			                    method_names[key.method], class_names[key.slot],
			                    (unsigned long long)sb);
			save_values(s, key.tuple, out);
		}
	}
}

static void save_dyn(const struct metrics_source *s, struct strbuf *out)
{
	save_schema(s, out);
	for (unsigned fam = FAM_RESPONSES; fam <= FAM_BYTES; fam++) {
		const struct series_family *fa = s->fam[fam];
		size_t cnt = series_family_count(fa);
		for (size_t e = 0; e < cnt; e++) {
			struct series_key key;
			_Atomic uint64_t *v;
			series_family_entry(fa, e, &key, &v);
			if (!get(v)) {
				continue;
			}
			(void)strbuf_printf(out, "%c %s %s %llu", fam == FAM_RESPONSES ? 'R' : 'B',
			                    method_names[key.method],
			                    fam == FAM_RESPONSES ? status_slot_code(key.slot)
			                                         : class_names[key.slot],
			                    (unsigned long long)get(v));
			save_values(s, key.tuple, out);
		}
	}
	save_dyn_hist(s, false, out);
	save_dyn_hist(s, true, out);
	for (unsigned fam = 0; fam < FAM_COUNT; fam++) {
		uint64_t d = series_family_dropped(s->fam[fam]);
		if (d) {
			(void)strbuf_printf(out, "d %s %llu\n", family_keys[fam],
			                    (unsigned long long)d);
		}
	}
}

int metrics_source_save(const struct metrics_source *s, struct strbuf *out)
{
	for (unsigned c = 0; c < METRICS_COUNTER_COUNT; c++) {
		(void)strbuf_printf(out, "c %s %llu\n", counter_keys[c],
		                    (unsigned long long)get(&s->counters[c]));
	}
	for (unsigned me = 0; me < N_METHODS; me++) {
		for (unsigned slot = 0; slot < STATUS_SLOTS; slot++) {
			uint64_t v = get(&s->responses[me][slot]);
			if (v) {
				(void)strbuf_printf(out, "r %s %s %llu\n", method_names[me],
				                    status_slot_code(slot), (unsigned long long)v);
			}
		}
		for (unsigned c = 0; c < N_CLASSES; c++) {
			uint64_t v = get(&s->bytes[me][c]);
			if (v) {
				(void)strbuf_printf(out, "b %s %s %llu\n", method_names[me],
				                    class_names[c], (unsigned long long)v);
			}
		}
	}
	save_hist(&s->request, "req", out);
	save_hist(&s->upstream, "up", out);
	if (s->tuples) {
		save_dyn(s, out);
	}
	return out->error;
}

#define MAX_FIELDS (7 + CONFIG_MAX_FIELD_LABELS)

struct fields {
	const char *p[MAX_FIELDS];
	size_t len[MAX_FIELDS];
	size_t n;
};

static int split_fields(const char *line, size_t len, struct fields *f)
{
	size_t i = 0;

	f->n = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && line[i] != ' ') {
			i++;
		}
		if (i == start || f->n == MAX_FIELDS) {
			return -EINVAL;
		}
		f->p[f->n] = line + start;
		f->len[f->n++] = i - start;
		if (i < len) {
			i++;
		}
	}
	return f->n ? 0 : -EINVAL;
}

static int parse_u64(const char *p, size_t len, unsigned base, uint64_t *ret)
{
	return base == 16 ? numparse_hex_u64(p, len, ret) : numparse_u64(p, len, ret);
}

static bool field_is(const struct fields *f, size_t i, const char *s)
{
	return strlen(s) == f->len[i] && memcmp(f->p[i], s, f->len[i]) == 0;
}

static int lookup_name(const struct fields *f, size_t i, const char *const *names, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		if (names[k] && field_is(f, i, names[k])) {
			return (int)k;
		}
	}
	return -1;
}

static int lookup_code(const struct fields *f, size_t i)
{
	if (field_is(f, i, "invalid")) {
		return (int)STATUS_SLOT_INVALID;
	}
	unsigned slot = status_slot_from_text(f->p[i], f->len[i]);
	return slot == STATUS_SLOT_INVALID ? -1 : (int)slot;
}

/* Decoded field-label values of a line (fields base..n-1). */
struct line_values {
	char buf[CONFIG_MAX_FIELD_LABELS][SERIES_RAW_CAP];
	struct str_view v[CONFIG_MAX_FIELD_LABELS];
	size_t n;
};

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	                              : -1;
}

static int decode_values(const struct fields *f, size_t base, struct line_values *lv)
{
	lv->n = 0;
	for (size_t i = base; i < f->n; i++) {
		const char *p = f->p[i];
		size_t len = f->len[i], o = 0;
		if (p[0] != '=' || lv->n == CONFIG_MAX_FIELD_LABELS) {
			return -EINVAL;
		}
		for (size_t k = 1; k < len; k++) {
			int c = (unsigned char)p[k];
			if (c == '%') {
				int hi = k + 2 < len ? hexval(p[k + 1]) : -1;
				int lo = hi >= 0 ? hexval(p[k + 2]) : -1;
				if (lo < 0) {
					return -EINVAL;
				}
				c = hi * 16 + lo;
				k += 2;
			}
			if (o == SERIES_RAW_CAP) {
				return -EINVAL;
			}
			lv->buf[lv->n][o++] = (char)c;
		}
		lv->v[lv->n] = (struct str_view){lv->buf[lv->n], o};
		lv->n++;
	}
	return 0;
}

/* The checkpoint's field-label schema ("l" lines, in order), gathered by the
 * validating pass; schema_map turns it into map[] for the adding pass. */
struct restore_schema {
	struct fields def[CONFIG_MAX_FIELD_LABELS]; /* the "l" lines (views into the text) */
	size_t n;                                   /* 0: no schema (older checkpoint) */
	unsigned widths;                            /* bit w: a series line had w values */
	int map[CONFIG_MAX_FIELD_LABELS];           /* running label -> saved position, -1 */
	bool identity;                              /* map[j] == j for every label */
};

/* A "=" token exactly as put_token writes it (so equal text is equal bytes). */
static bool token_canonical(const char *p, size_t len)
{
	if (len == 0 || p[0] != '=') {
		return false;
	}
	for (size_t k = 1; k < len; k++) {
		unsigned char c = (unsigned char)p[k];
		if (c == '%') {
			int hi = k + 2 < len ? hexval(p[k + 1]) : -1;
			int lo = hi >= 0 ? hexval(p[k + 2]) : -1;
			if (lo < 0 || (p[k + 1] >= 'a' && p[k + 1] <= 'f') ||
			    (p[k + 2] >= 'a' && p[k + 2] <= 'f') ||
			    !needs_escape((unsigned char)(hi * 16 + lo))) {
				return false;
			}
			k += 2;
		} else if (needs_escape(c)) {
			return false;
		}
	}
	return true;
}

/* Whether a canonical token, or "-", stands for plain (NULL: "-"). */
static bool token_is(const char *p, size_t len, const char *plain)
{
	size_t o = 0, n;

	if (!plain) {
		return len == 1 && p[0] == '-';
	}
	if (p[0] != '=') {
		return false;
	}
	n = strlen(plain);
	for (size_t k = 1; k < len; k++) {
		int c = (unsigned char)p[k];
		if (c == '%') {
			c = hexval(p[k + 1]) * 16 + hexval(p[k + 2]);
			k += 2;
		}
		if (o == n || (unsigned char)plain[o] != c) {
			return false;
		}
		o++;
	}
	return o == n;
}

static bool token_none(const struct fields *f, size_t i)
{
	return f->len[i] == 1 && f->p[i][0] == '-';
}

/* Check an "l" line; the validating pass records it (in order). */
static int restore_schema_line(struct restore_schema *sc, const struct fields *f, bool dry)
{
	if (f->n != 5 || !token_canonical(f->p[1], f->len[1]) ||
	    lookup_name(f, 2, field_keys, N_FIELD_KEYS) < 0 ||
	    token_none(f, 3) != token_none(f, 4) ||
	    (!token_none(f, 3) &&
	     (!token_canonical(f->p[3], f->len[3]) || !token_canonical(f->p[4], f->len[4])))) {
		return -EINVAL;
	}
	if (!dry) {
		return 0;
	}
	if (sc->n == CONFIG_MAX_FIELD_LABELS) {
		return -EINVAL;
	}
	for (size_t i = 0; i < sc->n; i++) {
		const struct fields *o = &sc->def[i];
		if (o->len[1] == f->len[1] && memcmp(o->p[1], f->p[1], f->len[1]) == 0) {
			return -EINVAL; /* a name twice: positions would be ambiguous */
		}
	}
	sc->def[sc->n++] = *f;
	return 0;
}

/* After the validating pass: every series line must have one value per
 * saved label; then map each running label to its saved position. */
static int schema_map(const struct metrics_source *s, struct restore_schema *sc)
{
	size_t w = s->tuples ? series_tuples_width(s->tuples) : 0;

	if (sc->n && (sc->widths & ~(1u << sc->n))) {
		return -EINVAL;
	}
	sc->identity = sc->n == w;
	for (size_t j = 0; j < w; j++) {
		struct series_label_def d;
		series_tuples_def(s->tuples, j, &d);
		sc->map[j] = -1;
		for (size_t i = 0; i < sc->n; i++) {
			const struct fields *l = &sc->def[i];
			if (!token_is(l->p[1], l->len[1], d.name)) {
				continue;
			}
			if (lookup_name(l, 2, field_keys, N_FIELD_KEYS) == (int)d.field &&
			    token_is(l->p[3], l->len[3], d.match) &&
			    token_is(l->p[4], l->len[4], d.replacement)) {
				sc->map[j] = (int)i;
			}
			break;
		}
		sc->identity = sc->identity && sc->map[j] == (int)j;
	}
	return 0;
}

static bool all_overflow(const struct line_values *lv)
{
	static const size_t olen = sizeof(SERIES_OVERFLOW_VALUE) - 1;

	for (size_t i = 0; i < lv->n; i++) {
		if (lv->v[i].len != olen ||
		    memcmp(lv->v[i].ptr, SERIES_OVERFLOW_VALUE, olen) != 0) {
			return false;
		}
	}
	return lv->n > 0;
}

/* The tuple a restored line belongs to: its values placed by the schema map;
 * the empty value for a label the checkpoint cannot vouch for (no schema,
 * new label, changed rewrite, a flat line); the overflow set stays itself. */
static uint32_t line_tuple(struct metrics_source *s, const struct restore_schema *sc,
                           const struct line_values *lv)
{
	size_t w = series_tuples_width(s->tuples);
	bool mapped = sc->n && lv->n == sc->n;
	bool over = all_overflow(lv);
	struct str_view e[CONFIG_MAX_FIELD_LABELS];

	if (mapped && sc->identity) {
		return series_tuples_intern(s->tuples, lv->v, w);
	}
	for (size_t j = 0; j < w; j++) {
		if (over) {
			e[j] = (struct str_view){SERIES_OVERFLOW_VALUE,
			                         sizeof(SERIES_OVERFLOW_VALUE) - 1};
		} else if (mapped && sc->map[j] >= 0) {
			e[j] = lv->v[sc->map[j]];
		} else {
			e[j] = (struct str_view){"", 0};
		}
	}
	return series_tuples_intern(s->tuples, e, w);
}

/* Where a restored value goes: flat cell, or a series of the family. */
static _Atomic uint64_t *restore_target(struct metrics_source *s, const struct restore_schema *sc,
                                        enum family fam, const struct line_values *lv, unsigned me,
                                        unsigned k, _Atomic uint64_t *flat)
{
	if (!s->tuples) {
		return flat;
	}
	return series_family_restore(s->fam[fam], line_tuple(s, sc, lv), me, k);
}

static void add_double(_Atomic uint64_t *bits, double d)
{
	atomic_store_explicit(bits, dbits(bitsd(get(bits)) + d), memory_order_relaxed);
}

static int restore_hist(struct metrics_source *s, struct restore_schema *sc, const struct fields *f,
                        bool dry)
{
	bool up = field_is(f, 1, "up");
	struct histogram *h = field_is(f, 1, "req") ? &s->request : up ? &s->upstream : NULL;
	int me = lookup_name(f, 2, method_names, N_METHODS);
	int c = lookup_name(f, 3, class_names, N_CLASSES);
	bool sum = f->p[0][0] == 's' || f->p[0][0] == 'S';
	bool dyn = f->p[0][0] == 'S' || f->p[0][0] == 'H';
	size_t base = sum ? 5 : 7;
	struct line_values lv;
	uint64_t bits, v = 0;

	if (!h || me < 0 || c < 0 || f->n < base || (!dyn && f->n != base) ||
	    decode_values(f, base, &lv) < 0) {
		return -EINVAL;
	}
	if (parse_u64(f->p[sum ? 4 : 5], f->len[sum ? 4 : 5], 16, &bits) < 0 ||
	    (!sum && parse_u64(f->p[6], f->len[6], 10, &v) < 0)) {
		return -EINVAL;
	}
	if (dry) {
		sc->widths |= dyn ? 1u << lv.n : 0;
		return 0;
	}
	enum family fam = up ? FAM_UPSTREAM : FAM_REQUEST;
	_Atomic uint64_t *row = restore_target(s, sc, fam, &lv, (unsigned)me, (unsigned)c,
	                                       hist_row(h, (unsigned)me, (unsigned)c));
	if (!row) {
		return 0; /* out of memory in the series table: dropped */
	}
	if (sum) {
		add_double(s->tuples ? &row[h->n_bounds + 1] : &h->sum_bits[me][c], bitsd(bits));
		return 0;
	}
	/* Buckets changed since the checkpoint: drop the bucket rather than misplace it. */
	size_t k = h->n_bounds;
	if (field_is(f, 4, "i")) {
		for (k = 0; k < h->n_bounds && dbits(h->bounds[k]) != bits; k++) {
		}
		if (k == h->n_bounds) {
			return 0;
		}
	}
	inc(&row[k], v);
	return 0;
}

static int restore_counter(struct metrics_source *s, struct restore_schema *sc,
                           const struct fields *f, bool dry)
{
	bool resp = f->p[0][0] == 'r' || f->p[0][0] == 'R';
	bool dyn = f->p[0][0] == 'R' || f->p[0][0] == 'B';
	struct line_values lv;
	uint64_t v;
	int a = lookup_name(f, 1, method_names, N_METHODS);
	int b = f->n < 3 ? -1
	        : resp   ? lookup_code(f, 2)
	                 : lookup_name(f, 2, class_names, N_CLASSES);

	if (f->n < 4 || (!dyn && f->n != 4) || a < 0 || b < 0 ||
	    parse_u64(f->p[3], f->len[3], 10, &v) < 0 || decode_values(f, 4, &lv) < 0) {
		return -EINVAL;
	}
	if (dry) {
		sc->widths |= dyn ? 1u << lv.n : 0;
		return 0;
	}
	_Atomic uint64_t *t =
	    restore_target(s, sc, resp ? FAM_RESPONSES : FAM_BYTES, &lv, (unsigned)a, (unsigned)b,
	                   resp ? &s->responses[a][b] : &s->bytes[a][b]);
	if (t) {
		inc(t, v);
	}
	return 0;
}

static int restore_line(struct metrics_source *s, struct restore_schema *sc, const char *line,
                        size_t len, bool dry)
{
	struct fields f;
	uint64_t v;
	int a;

	if (split_fields(line, len, &f) < 0 || f.len[0] != 1) {
		return -EINVAL;
	}
	switch (f.p[0][0]) {
	case 'h':
	case 'H':
	case 's':
	case 'S':
		return f.n >= 5 ? restore_hist(s, sc, &f, dry) : -EINVAL;
	case 'r':
	case 'R':
	case 'b':
	case 'B':
		return restore_counter(s, sc, &f, dry);
	case 'l':
		return restore_schema_line(sc, &f, dry);
	case 'c':
	case 'd':
		if (f.n != 3 || parse_u64(f.p[2], f.len[2], 10, &v) < 0) {
			return -EINVAL;
		}
		a = f.p[0][0] == 'c' ? lookup_name(&f, 1, counter_keys, METRICS_COUNTER_COUNT)
		                     : lookup_name(&f, 1, family_keys, FAM_COUNT);
		if (a < 0) {
			return -EINVAL;
		}
		if (!dry && f.p[0][0] == 'c') {
			inc(&s->counters[a], v);
		} else if (!dry && s->tuples) {
			series_family_add_dropped(s->fam[a], v);
		}
		return 0;
	default:
		return -EINVAL;
	}
}

int metrics_source_restore(struct metrics_source *s, const char *text, size_t len)
{
	struct restore_schema sc;

	memset(&sc, 0, sizeof(sc));
	/* Two passes: validate everything (and read the schema) first, so a bad
	 * file restores nothing and the schema may stand anywhere in the text. */
	for (int pass = 0; pass < 2; pass++) {
		size_t i = 0;
		while (i < len) {
			const char *nl = memchr(text + i, '\n', len - i);
			size_t end = nl ? (size_t)(nl - text) : len;
			if (end > i && restore_line(s, &sc, text + i, end - i, pass == 0) < 0) {
				return -EINVAL;
			}
			i = end + 1;
		}
		if (pass == 0 && schema_map(s, &sc) < 0) {
			return -EINVAL;
		}
	}
	return 0;
}
