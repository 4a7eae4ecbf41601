/*
 * metrics.c - the registry (see metrics.h for the concurrency model).
 *
 * Each source holds flat arrays: responses[method][status slot], bytes and
 * histograms per [method][class].  A line costs a table lookup for the
 * method, one increment, and for timed formats a short linear bucket scan
 * (one per histogram whose value the line carries);
 * there is no hashing and no allocation after a source is created, and the
 * number of series is bounded by construction (17 methods x 501 slots).
 *
 * Histogram buckets are stored non-cumulative; a render accumulates them
 * and derives _count from the same numbers, so a scrape racing the writer
 * still sees a self-consistent histogram (+Inf bucket == _count).
 *
 * Sources with field labels use series tables instead (series.c), reached
 * through a route cache (routecache.c): a line costs one hash of its raw
 * field values, one probe and its increments; the rules, the tuple index
 * and the family indexes run once per distinct (raw values, method, code).
 * metrics_observe_batch overlaps the cache misses of a block's lines
 * (prefetching a few lines ahead).  The flat arrays stay untouched, so
 * sources without field labels pay nothing.  Each
 * family of such a source is capped (series_limit); a new label set beyond
 * the cap is counted into the overflow series (every field label
 * "__overflow__") and into accesslog_series_dropped_total{metric}.
 *
 * Rendering is in metrics_render.c, checkpoints in metrics_checkpoint.c;
 * the three files share the private metrics_impl.h.
 *
 * The optional histograms (request and response size, upstream connect and
 * header time) are rows of the same hist[] array: classic buckets only, no
 * native histograms and no exemplars (the duration families carry those;
 * a size or phase histogram is a secondary view and its own native
 * histogram would double the per-line cost for little insight).  A line
 * reaches them through one predicted branch (opt_on) when none is on.
 *
 * Registries that are only counted and merged (--threads batches,
 * --backfill steps) are cheap to make and to merge: the label fragments
 * are made by the first render, not by metrics_create (1.9 M instructions
 * a registry); a merge tests four response cells, or four buckets of a
 * histogram row, at a time (a batch touches few of them: a cell-by-cell
 * walk was most of a merge); a journaled source keeps no birth times (a
 * lock and a clock read per first count; the merge records births in its
 * destination), and its journal names a sum's cell by shifts, not by a
 * division.
 *
 * Rejected: a hash map of label sets for every source (slower on the hot
 * path, and without field labels the label space is small and fixed); a
 * mutex per increment (a scrape would stall ingestion).  For
 * metrics_observe_batch (10,000 values, steady state of bench/run-fieldlabels,
 * CPU s per 1M lines, interleaved, load 2-3): PIPE_STEP 4 (0.171) and 16
 * (0.161) against 8 (0.166), no prefetching at all 0.186; prefetching each
 * stage for the whole batch before counting it (0.169 against 0.170);
 * PIPE_STEP 12 and 16 again on 4M lines, paired runs (0.99x, 0.98x of 8): all
 * within the run-to-run noise.  The three prefetch steps of a line in one
 * call instead of three (40 fewer instructions a line) took 1.13-1.19x the
 * CPU in paired runs, with or without a branch per step (why is not known:
 * this VM exposes no hardware counters).  bench/mem_floor shows the
 * misses themselves are cheap once prefetched (five random lines a line in
 * 8 MiB: +1-7 ns);
 * what is left of a field label's steady cost is its ~420 instructions and
 * ~4 more mispredicted branches a line (cachegrind: variable-length key
 * hashing and compare, probe collisions), see README.  Mapping a source
 * (120 KB) as untouched zero pages instead of a calloc that writes them:
 * no fewer page faults for --backfill --threads 2 (a merge reads every
 * cell, and reading an untouched page faults too).
 */
#include "exporter/metrics/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/metrics/metrics_impl.h"
#include "exporter/metrics/series.h"
#include "parsers/logformat.h"
#include "parsers/logparse.h"
#include "parsers/logtime.h"
#include "parsers/status.h"

/* Bounds of a source's route cache (routecache.h): 8 routes per series
 * allowed, within these. */
#define ROUTES_MIN 4096u
#define ROUTES_MAX (512u * 1024u)
/* entries of a sum journal's first allocation (256 KiB) */
#define JOURNAL_FIRST 16384u

const char *const metrics_method_names[N_METHODS] = {
    "GET",      "HEAD",      "POST",  "PUT",  "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE",   "LOCK",    "UNLOCK",  "other",
};
const char *const metrics_class_names[N_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx", "invalid"};

/* Name lengths of metrics_method_names, so the per-line lookup never calls strlen. */
static const unsigned char method_lens[N_METHODS] = {3, 4, 4, 3, 6, 7, 7, 5, 5,
                                                     8, 9, 5, 4, 4, 4, 6, 5};

static unsigned method_index(const char *m, size_t len)
{
	/* Few methods, short names: length and first byte rule out almost all. */
	for (unsigned i = 0; i < METHOD_OTHER; i++) {
		if (method_lens[i] == len && metrics_method_names[i][0] == m[0] &&
		    memcmp(metrics_method_names[i], m, len) == 0) {
			return i;
		}
	}
	return METHOD_OTHER;
}

const char *metrics_method_label(const char *method, size_t len)
{
	return len ? metrics_method_names[method_index(method, len)]
	           : metrics_method_names[METHOD_OTHER];
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
		l[n++] = (struct expo_label){"code", status_slot_code(slot), 0, NULL, 0};
		if (!m->no_class) {
			l[n++] = (struct expo_label){"class", status_slot_class(slot), 0, NULL, 0};
		}
		if (!m->no_reason) {
			l[n++] =
			    (struct expo_label){"reason", status_slot_reason(slot), 0, NULL, 0};
		}
		strbuf_init(&b, 4096);
		expo_labels_fragment(&b, l, n);
		m->slot_frag[slot] = strbuf_steal(&b, &m->slot_frag_len[slot]);
		expo_labels_fragment_pb(&b, l, n);
		m->slot_pb[slot] = strbuf_steal(&b, &m->slot_pb_len[slot]);
		strbuf_finish(&b);
		if (!m->slot_frag[slot] || !m->slot_pb[slot]) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* A one-label fragment in both spellings. */
static int make_frag(struct label_frag *f, const char *name, const char *value)
{
	struct expo_label l = {name, value, 0, NULL, 0};
	struct strbuf b;

	strbuf_init(&b, 4096);
	expo_labels_fragment(&b, &l, 1);
	f->text = strbuf_steal(&b, &f->text_len);
	expo_labels_fragment_pb(&b, &l, 1);
	f->pb = strbuf_steal(&b, &f->pb_len);
	strbuf_finish(&b);
	return f->text && f->pb ? 0 : -ENOMEM;
}

/* The method and class labels, rendered once. */
static int make_dimension_fragments(struct metrics *m)
{
	for (unsigned i = 0; i < N_METHODS; i++) {
		if (make_frag(&m->method_frag[i], "method", metrics_method_names[i]) < 0) {
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < N_CLASSES; i++) {
		if (make_frag(&m->class_frag[i], "class", metrics_class_names[i]) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

static void free_fragments(struct metrics *m)
{
	for (unsigned i = 0; i < STATUS_SLOTS; i++) {
		free(m->slot_frag[i]);
		free(m->slot_pb[i]);
		m->slot_frag[i] = m->slot_pb[i] = NULL;
	}
	for (unsigned i = 0; i < N_METHODS; i++) {
		free(m->method_frag[i].text);
		free(m->method_frag[i].pb);
		m->method_frag[i] = (struct label_frag){NULL, 0, NULL, 0};
	}
	for (unsigned i = 0; i < N_CLASSES; i++) {
		free(m->class_frag[i].text);
		free(m->class_frag[i].pb);
		m->class_frag[i] = (struct label_frag){NULL, 0, NULL, 0};
	}
}

int metrics_make_fragments(struct metrics *m)
{
	if (m->has_frags) {
		return 0;
	}
	if (make_slot_fragments(m) < 0 || make_dimension_fragments(m) < 0) {
		free_fragments(m); /* the next render tries again */
		return -ENOMEM;
	}
	m->has_frags = true;
	return 0;
}

struct metrics *metrics_create(const struct metrics_options *o)
{
	struct metrics *m;

	const double *b[N_HIST] = {o->request_buckets,          o->upstream_buckets,
	                           o->request_size_buckets,     o->response_size_buckets,
	                           o->upstream_connect_buckets, o->upstream_header_buckets};
	size_t nb[N_HIST] = {o->n_request_buckets,          o->n_upstream_buckets,
	                     o->n_request_size_buckets,     o->n_response_size_buckets,
	                     o->n_upstream_connect_buckets, o->n_upstream_header_buckets};

	for (unsigned h = 0; h < N_HIST; h++) {
		if (!buckets_ok(b[h], nb[h])) {
			return NULL;
		}
	}
	if (o->series_limit > SERIES_MAX_LIMIT) {
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
	for (unsigned h = 0; h < N_HIST; h++) {
		if (nb[h]) {
			memcpy(m->bucket[h], b[h], nb[h] * sizeof(double));
		}
		m->n_bucket[h] = nb[h];
	}
	m->no_class = o->no_class_label;
	m->no_reason = o->no_reason_label;
	m->no_hist = o->no_histograms;
	m->series_limit = o->series_limit ? o->series_limit : SERIES_DEFAULT_LIMIT;
	m->hold_ms =
	    (int64_t)(o->new_series_hold_ms > INT32_MAX ? INT32_MAX : o->new_series_hold_ms);
	m->created = o->created_timestamps;
	m->clock = o->clock;
	m->no_ex = o->no_exemplars;
	if (o->native_histograms) {
		if (nhist_layout_init(&m->native, o->native_schema, o->native_max_buckets,
		                      o->native_zero_threshold) < 0) {
			metrics_destroy(m);
			return NULL;
		}
		m->has_native = true;
	}
	/* The label fragments are made by the first render (metrics_make_fragments):
	 * the registries of --threads batches and --backfill steps are merged,
	 * never rendered, and making them cost about 1.9 M instructions each. */
	/* A registry exists only for a configuration that loaded. */
	atomic_store_explicit(&m->reload_ok, 1, memory_order_relaxed);
	return m;
}

/* Free the native histograms of a histogram's flat rows and of its
 * field-label family fa (NULL: none). */
static void native_free(struct histogram *h, struct series_family *fa)
{
	size_t cnt = fa ? series_family_count(fa) : 0;

	if (!h->native || !h->on) {
		return;
	}
	for (unsigned me = 0; me < N_METHODS; me++) {
		for (unsigned c = 0; c < N_CLASSES; c++) {
			nhist_destroy(nh_get(&h->nh[me][c]));
		}
	}
	for (size_t e = 0; e < cnt; e++) {
		struct series_key key;
		_Atomic uint64_t *v;
		series_family_entry(fa, e, &key, &v);
		nhist_destroy(nh_get(&v[h->n_bounds + 2]));
	}
}

/* Free the exemplars of a histogram's rows and of its family fa (NULL: none). */
static void ex_free_hist(struct histogram *h, struct series_family *fa)
{
	size_t cnt = fa ? series_family_count(fa) : 0;

	for (unsigned me = 0; me < N_METHODS; me++) {
		for (unsigned c = 0; c < N_CLASSES; c++) {
			free(ex_get(&h->ex[me][c]));
		}
	}
	for (size_t e = 0; h->ex_cell && e < cnt; e++) {
		struct series_key key;
		_Atomic uint64_t *v;
		series_family_entry(fa, e, &key, &v);
		free(ex_get(&v[h->ex_cell]));
	}
}

static void ex_free(struct metrics_source *s)
{
	_Atomic uint64_t *cells = (_Atomic uint64_t *)(uintptr_t)atomic_load(&s->ex_resp);
	const struct series_family *fa = s->fam[FAM_RESPONSES];
	size_t cnt = fa && !s->no_ex ? series_family_count(fa) : 0;

	for (size_t i = 0; cells && i < (size_t)N_METHODS * STATUS_SLOTS; i++) {
		free(ex_get(&cells[i]));
	}
	free(cells);
	for (size_t e = 0; e < cnt; e++) {
		struct series_key key;
		_Atomic uint64_t *v;
		series_family_entry(fa, e, &key, &v);
		free(ex_get(&v[1]));
	}
	ex_free_hist(&s->hist[HIST_REQUEST], s->no_ex ? NULL : s->fam[FAM_REQUEST]);
	ex_free_hist(&s->hist[HIST_UPSTREAM], s->no_ex ? NULL : s->fam[FAM_UPSTREAM]);
}

static void source_destroy(struct metrics_source *s)
{
	if (!s) {
		return;
	}
	native_free(&s->hist[HIST_REQUEST], s->fam[FAM_REQUEST]);
	native_free(&s->hist[HIST_UPSTREAM], s->fam[FAM_UPSTREAM]);
	ex_free(s);
	for (size_t i = 0; i < s->n_labels; i++) {
		free(s->labels[i].name);
		free(s->labels[i].value);
	}
	for (size_t i = 0; i < atomic_load(&s->n_files); i++) {
		free(s->files[i].path);
	}
	free(s->labels);
	series_tuples_destroy(s->tuples);
	routecache_destroy(s->routes);
	for (unsigned f = 0; f < FAM_COUNT; f++) {
		series_family_destroy(s->fam[f]);
	}
	for (unsigned h = 0; h < N_HIST; h++) {
		free(s->hist[h].counts);
	}
	free(s->name);
	free(s->base_frag);
	free(s->base_pb);
	birthmap_destroy(s->births);
	if (s->journal) {
		free(s->journal->e);
		free(s->journal);
	}
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
	free_fragments(m);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* The histogram with n bounds; an optional histogram without bounds is
 * off (on false, nothing allocated). */
static int hist_init(struct histogram *h, unsigned kind, const double *bounds, size_t n,
                     const struct nhist_layout *native)
{
	if (kind >= HIST_FIRST_OPTIONAL && n == 0) {
		return 0;
	}
	h->on = true;
	h->native = kind < HIST_FIRST_OPTIONAL ? native : NULL;
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

static size_t route_cap(size_t series_limit)
{
	size_t cap = series_limit > ROUTES_MAX / 8 ? ROUTES_MAX : series_limit * 8;

	return cap < ROUTES_MIN ? ROUTES_MIN : cap;
}

static int source_add_families(struct metrics *m, struct metrics_source *s,
                               const struct config_field_label *fl, size_t n_fl, char *err,
                               size_t err_size)
{
	/* overflow series a family can have: one per (method, slot or class) */
	size_t reserve = (size_t)N_METHODS * N_CLASSES;
	/* buckets, +Inf, sum, then for the duration histograms the native
	 * histogram's pointer and the exemplars' */
	size_t nat = m->has_native ? 1 : 0, ex = m->no_ex ? 0 : 1;
	size_t width[FAM_COUNT] = {1 + ex, 1};
	int r = series_tuples_create(fl, n_fl, m->series_limit, &s->tuples, err, err_size);

	if (r < 0) {
		return r;
	}
	for (unsigned h = 0; h < N_HIST; h++) {
		width[FAM_HIST(h)] =
		    s->hist[h].n_bounds + 2 + (h < HIST_FIRST_OPTIONAL ? nat + ex : 0);
	}
	for (unsigned f = 0; f < FAM_COUNT; f++) {
		if (f >= FAM_HIST(HIST_FIRST_OPTIONAL) && !s->hist[f - FAM_REQUEST].on) {
			continue; /* no such histogram: no family (NULL) */
		}
		s->fam[f] = series_family_create(
		    width[f], m->series_limit,
		    f == FAM_RESPONSES ? (size_t)N_METHODS * STATUS_SLOTS : reserve, &m->clock);
		if (!s->fam[f]) {
			return -ENOMEM;
		}
	}
	/* Routes: several raw values may rewrite to one label value, and each
	 * (method, code) is a route of its own; beyond this the cache clears. */
	s->routes = routecache_create(route_cap(m->series_limit));
	return s->routes ? 0 : -ENOMEM;
}

/* source + static labels, escaped once for all samples of the source. */
static int make_base_fragment(struct metrics_source *s)
{
	struct expo_label l[CONFIG_MAX_STATIC_LABELS + 1];
	struct strbuf b;
	size_t n = 0;

	l[n++] = (struct expo_label){"source", s->name, 0, NULL, 0};
	for (size_t i = 0; i < s->n_labels && n < CONFIG_MAX_STATIC_LABELS + 1; i++) {
		l[n++] = (struct expo_label){s->labels[i].name, s->labels[i].value, 0, NULL, 0};
	}
	strbuf_init(&b, 1024 * 1024);
	expo_labels_fragment(&b, l, n);
	s->base_frag = strbuf_steal(&b, &s->base_frag_len);
	expo_labels_fragment_pb(&b, l, n);
	s->base_pb = strbuf_steal(&b, &s->base_pb_len);
	strbuf_finish(&b);
	return s->base_frag && s->base_pb ? 0 : -ENOMEM;
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
	s->no_ex = m->no_ex;
	s->clock = &m->clock;
	atomic_store_explicit(&s->created_ms, clock_wall_ms(&m->clock), memory_order_relaxed);
	s->births = birthmap_create(ID_COUNT);
	if (!s->births) {
		goto fail;
	}
	s->render_lock = &m->lock;
	s->name = strdup(name);
	s->labels = calloc(n_labels ? n_labels : 1, sizeof(*s->labels));
	const struct nhist_layout *nat = m->has_native ? &m->native : NULL;
	if (!s->name || !s->labels) {
		goto fail;
	}
	for (unsigned h = 0; h < N_HIST; h++) {
		if (hist_init(&s->hist[h], h, m->bucket[h], m->n_bucket[h], nat) < 0) {
			goto fail;
		}
		s->opt_on = s->opt_on || (h >= HIST_FIRST_OPTIONAL && s->hist[h].on);
	}
	if (!m->no_ex) {
		for (unsigned h = 0; h < HIST_FIRST_OPTIONAL; h++) {
			s->hist[h].ex_cell = m->n_bucket[h] + 2 + (nat ? 1 : 0);
		}
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

/* The native histogram of a row, created at its first observation and
 * published with a release store (NULL: out of memory, not counted). */
static struct nhist *__attribute__((noinline))
native_new(_Atomic uint64_t *cell, const struct nhist_layout *l)
{
	struct nhist *n = nhist_create(l);

	if (n) {
		atomic_store_explicit(cell, (uint64_t)(uintptr_t)n, memory_order_release);
	}
	return n;
}

static inline void native_observe(_Atomic uint64_t *cell, const struct nhist_layout *l, double v)
{
	/* The writer reads its own store: relaxed is enough. */
	struct nhist *n =
	    (struct nhist *)(uintptr_t)atomic_load_explicit(cell, memory_order_relaxed);

	if (__builtin_expect(!n, 0)) {
		n = native_new(cell, l);
		if (!n) {
			return;
		}
	}
	nhist_observe(n, v);
}

/* Add value to a field-label histogram series' cells v. */
static void dyn_hist(const struct histogram *h, _Atomic uint64_t *v, double value)
{
	row_observe(v, h->bounds, h->n_bounds, value);
	if (h->native) {
		native_observe(&v[h->n_bounds + 2], h->native, value);
	}
}

/* One line's exemplar: its id (record.h trace_id) prepared once, and its
 * time (the line's own, else now), both shared by the line's slots. */
struct line_ex {
	int64_t ts_ms;
	struct exemplar_id id;
};

/* a[0..len) == b[0..len) for the short texts of log times, without a
 * call: whole words, then the last word overlapping (len >= 8). */
static inline bool same_text(const char *a, const char *b, size_t len)
{
	uint64_t x, y, d = 0;

	if (len < 8) {
		return memcmp(a, b, len) == 0;
	}
	for (size_t i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d |= x ^ y;
	}
	memcpy(&x, a + len - 8, 8);
	memcpy(&y, b + len - 8, 8);
	return (d | (x ^ y)) == 0;
}

/* The line's time: the source's cache when the text is the last one parsed. */
static int64_t line_time(struct metrics_source *s, const struct log_record *r)
{
	const struct str_view *t = &r->log_time;
	int64_t ms;

	if (t->len && t->len == s->ex_time_len && same_text(t->ptr, s->ex_time_text, t->len)) {
		return s->ex_time_ms;
	}
	if (logtime_of_record(r, &ms) == 0) {
		if (t->len <= sizeof(s->ex_time_text)) {
			memcpy(s->ex_time_text, t->ptr, t->len);
			s->ex_time_len = t->len;
			s->ex_time_ms = ms;
		}
		return ms;
	}
	return clock_wall_ms(s->clock);
}

static void line_ex_init(struct line_ex *lx, struct metrics_source *s, const struct log_record *r)
{
	lx->ts_ms = line_time(s, r);
	exemplar_id_init(&lx->id, r->trace_kind, r->trace_id.ptr, r->trace_id.len);
}

/* Leave the line's exemplar in slot k of the n-slot array in cell (made at
 * its first use; out of memory: no exemplar). */
static inline void ex_put(_Atomic uint64_t *cell, size_t n, size_t k, const struct line_ex *lx,
                          double value)
{
	struct exemplar *e = (struct exemplar *)(uintptr_t)atomic_load_explicit(
	    cell, memory_order_relaxed); /* the writer's own store */

	if (__builtin_expect(!e, 0)) {
		e = calloc(n, sizeof(*e));
		if (!e) {
			return;
		}
		atomic_store_explicit(cell, (uint64_t)(uintptr_t)e, memory_order_release);
	}
	exemplar_put(&e[k], &lx->id, value, lx->ts_ms);
}

/* The bucket a histogram just counted value in gets the line's exemplar. */
static void ex_hist(_Atomic uint64_t *cell, const struct histogram *h, const struct line_ex *lx,
                    double value)
{
	ex_put(cell, h->n_bounds + 1, bucket_index(h->bounds, h->n_bounds, value), lx, value);
}

/* The cell of family f for a line on route rt: resolved through the
 * series tables the first time (which counts a drop, or a lost
 * observation, itself), then straight from the route, counting the drop
 * the first time counted.  NULL: out of memory, the observation is
 * already counted as dropped. */
static inline _Atomic uint64_t *route_cell(struct metrics_source *s, struct route *rt, unsigned f,
                                           unsigned method, unsigned k)
{
	unsigned bit = 1u << f;
	bool dropped = false;
	_Atomic uint64_t *v;

	if (__builtin_expect(rt->resolved & bit, 1)) {
		if (__builtin_expect(rt->dropped & bit, 0)) {
			series_family_add_dropped(s->fam[f], 1);
		}
		return rt->v[f];
	}
	v = series_family_route(s->fam[f], rt->tuple, method, k, &dropped);
	if (v) {
		rt->v[f] = v;
		rt->resolved |= (uint8_t)bit;
		rt->dropped |= (uint8_t)(dropped ? bit : 0);
	}
	return v;
}

/* A line's route key: its raw field values as one key, their hash with
 * the method and slot (tag), computed once a line (metrics_observe_batch
 * computes them ahead, for prefetching).  key NULL: not kept (the key of a
 * multi-label line that did not fit the batch's buffer), built again. */
struct line_key {
	const char *key;
	size_t len;
	uint64_t h;
};

/* The route of a line: from the cache, else made (the rewrite rules and
 * the tuple index run here, once per distinct raw value, method and code).
 * NULL when the cache cannot take it (out of memory): the caller uses the
 * tables directly. */
static inline struct route *line_route(struct metrics_source *s, const struct log_record *r,
                                       uint32_t tag, const struct line_key *lk)
{
	const char *key;
	size_t klen;
	uint64_t h;

	if (lk && lk->key) {
		key = lk->key;
		klen = lk->len;
	} else {
		klen = series_tuples_key(s->tuples, r, &key);
	}
	h = lk ? lk->h : routecache_hash(key, klen, tag);
	struct route *rt = routecache_find(s->routes, h, key, klen, tag);
	if (__builtin_expect(rt != NULL, 1)) {
		return rt;
	}
	uint32_t t = series_tuples_lookup(s->tuples, r);
	/* series_tuples_lookup may have rebuilt the key in t's scratch: same bytes. */
	rt = routecache_add(s->routes, h, key, klen, tag);
	if (rt) {
		rt->tuple = t;
	}
	return rt;
}

static inline __attribute__((always_inline)) _Atomic uint64_t *dyn_cell(struct metrics_source *s,
                                                                        struct route *rt,
                                                                        uint32_t t, unsigned f,
                                                                        unsigned method, unsigned k)
{
	_Atomic uint64_t *v =
	    rt ? route_cell(s, rt, f, method, k) : series_family_get(s->fam[f], t, method, k);

	idle_touch(s, v, f);
	return v;
}

/* One optional histogram of a field-label line: not in the route cache,
 * one probe of the family's table. */
static void dyn_optional(struct metrics_source *s, unsigned h, uint32_t t, unsigned method,
                         unsigned cls, double value)
{
	_Atomic uint64_t *c = series_family_get(s->fam[FAM_HIST(h)], t, method, cls);

	idle_touch(s, c, FAM_HIST(h));
	if (c) {
		dyn_hist(&s->hist[h], c, value);
	}
}

/* As observe_optional: each histogram tested directly, a value converted
 * only when it is counted. */
static void __attribute__((noinline))
observe_dyn_optional(struct metrics_source *s, const struct log_record *r, uint32_t t,
                     unsigned method, unsigned cls)
{
	if (r->has_request_length && s->hist[HIST_REQUEST_SIZE].on) {
		dyn_optional(s, HIST_REQUEST_SIZE, t, method, cls, (double)r->request_length);
	}
	if (r->has_bytes && s->hist[HIST_RESPONSE_SIZE].on) {
		dyn_optional(s, HIST_RESPONSE_SIZE, t, method, cls, (double)r->bytes_sent);
	}
	if (r->has_upstream_connect_time && s->hist[HIST_UPSTREAM_CONNECT].on) {
		dyn_optional(s, HIST_UPSTREAM_CONNECT, t, method, cls, r->upstream_connect_time);
	}
	if (r->has_upstream_header_time && s->hist[HIST_UPSTREAM_HEADER].on) {
		dyn_optional(s, HIST_UPSTREAM_HEADER, t, method, cls, r->upstream_header_time);
	}
}

/* Count a line of a source with field labels (lk: its route key, NULL:
 * computed here). */
static void observe_dyn(struct metrics_source *s, const struct log_record *r, unsigned method,
                        unsigned slot, unsigned cls, const struct line_key *lk)
{
	struct route *rt = line_route(s, r, method << 16 | slot, lk);
	uint32_t t = rt ? rt->tuple : series_tuples_lookup(s->tuples, r);
	struct line_ex lx;
	bool ex = r->trace_kind && !s->no_ex;
	_Atomic uint64_t *v;

	if (ex) {
		line_ex_init(&lx, s, r);
	}
	v = dyn_cell(s, rt, t, FAM_RESPONSES, method, slot);
	if (v) {
		inc_sat(v, 1);
		if (ex) {
			ex_put(&v[1], 1, 0, &lx, 1.0);
		}
	}
	if (r->has_bytes) {
		v = dyn_cell(s, rt, t, FAM_BYTES, method, cls);
		if (v) {
			inc_sat(v, r->bytes_sent);
		}
	}
	if (s->no_hist) {
		return;
	}
	struct histogram *rq = &s->hist[HIST_REQUEST], *up = &s->hist[HIST_UPSTREAM];
	if (r->has_request_time) {
		v = dyn_cell(s, rt, t, FAM_REQUEST, method, cls);
		if (v) {
			dyn_hist(rq, v, r->request_time);
			if (ex) {
				ex_hist(&v[rq->ex_cell], rq, &lx, r->request_time);
			}
		}
	}
	if (r->has_upstream_time) {
		v = dyn_cell(s, rt, t, FAM_UPSTREAM, method, cls);
		if (v) {
			dyn_hist(up, v, r->upstream_time);
			if (ex) {
				ex_hist(&v[up->ex_cell], up, &lx, r->upstream_time);
			}
		}
	}
	if (s->opt_on) {
		observe_dyn_optional(s, r, t, method, cls);
	}
}

/* A flat series is born: its first count is about to be stored.  Record
 * when, before that store (which is a release), so a render that sees the
 * count also sees the creation time and can hold the series at 0. */
void metrics_source_birth(struct metrics_source *s, uint32_t id, int64_t unix_ms)
{
	if (birthmap_put(s->births, id, unix_ms) == 0 &&
	    unix_ms > atomic_load_explicit(&s->last_birth_ms, memory_order_relaxed)) {
		atomic_store_explicit(&s->last_birth_ms, unix_ms, memory_order_relaxed);
	}
}

/* A series' first count.  A journaled source is a batch's or a step's
 * (metrics_source_journal_sums): merged, never rendered or saved, and the
 * merge records the birth in its destination, so it keeps none (a lock,
 * a clock read and a map write per first count of every batch). */
static void __attribute__((noinline)) born(struct metrics_source *s, uint32_t id)
{
	if (s->journal) {
		return;
	}
	metrics_source_birth(s, id, clock_wall_ms(s->clock));
}

/* Add d to a flat counter cell, saturating; its first non-zero value is a
 * birth.  The old value is loaded anyway, so the check costs one
 * well-predicted branch per line. */
static inline void cell_add(struct metrics_source *s, _Atomic uint64_t *c, uint32_t id, uint64_t d)
{
	uint64_t v = atomic_load_explicit(c, memory_order_relaxed);

	if (__builtin_expect(v == 0, 0)) {
		if (d) {
			born(s, id);
			atomic_store_explicit(c, d, memory_order_release);
		}
		return;
	}
	atomic_store_explicit(c, v > UINT64_MAX - d ? UINT64_MAX : v + d, memory_order_relaxed);
}

/* Write down one value for metrics_source_merge; -ENOMEM (then the sum
 * is added in place, and merges add sums as before). */
static int journal_add(struct sum_journal *j, unsigned kind, unsigned method, unsigned cls,
                       double v)
{
	if (j->n == j->cap) {
		/* first about a batch's values (a 1 MiB batch holds some 6,000
		 * lines, two values each): pages are touched as entries are
		 * written, none are copied by a growth */
		size_t cap = j->cap ? j->cap * 2 : JOURNAL_FIRST;
		struct sum_entry *e = j->failed ? NULL : realloc(j->e, cap * sizeof(*e));
		if (!e) {
			j->failed = true;
			return -ENOMEM;
		}
		j->e = e;
		j->cap = cap;
	}
	j->e[j->n++] = (struct sum_entry){v, kind << 16 | method << 8 | cls};
	return 0;
}

int metrics_source_journal_sums(struct metrics_source *s)
{
	if (s->tuples) {
		return -ENOTSUP;
	}
	if (!s->journal) {
		s->journal = calloc(1, sizeof(*s->journal));
	}
	return s->journal ? 0 : -ENOMEM;
}

/* src's journal into dst's sums, in order; the journal is emptied.  A
 * journal that ran out of memory left the later sums in place: those are
 * added by hist_move after this. */
static void journal_replay(struct metrics_source *dst, struct sum_journal *j)
{
	for (size_t i = 0; i < j->n; i++) {
		uint32_t c = j->e[i].cell;
		struct histogram *h = &dst->hist[c >> 16];
		_Atomic uint64_t *sum = &h->sum_bits[(c >> 8) & 0xffu][c & 0xffu];
		atomic_store_explicit(sum, dbits(bitsd(get(sum)) + j->e[i].v),
		                      memory_order_relaxed);
	}
	j->n = 0;
	j->failed = false;
}

static inline __attribute__((always_inline)) size_t
hist_observe(struct metrics_source *s, unsigned kind, unsigned method, unsigned cls, double v)
{
	struct histogram *h = &s->hist[kind];
	uint32_t id = ID_HIST(kind);
	_Atomic uint64_t *row = hist_row(h, method, cls);
	_Atomic uint64_t *sum = &h->sum_bits[method][cls];
	size_t i = bucket_index(h->bounds, h->n_bounds, v);
	uint64_t c = get(&row[i]);

	if (__builtin_expect(c == 0, 0)) {
		/* A bucket's first count; the row's first of all when every bucket is 0. */
		if (!s->journal && !row_any(row, h->n_bounds + 1)) {
			born(s, id + method * N_CLASSES + cls);
		}
		atomic_store_explicit(&row[i], 1, memory_order_release);
	} else {
		atomic_store_explicit(&row[i], c + 1, memory_order_relaxed);
	}
	if (__builtin_expect(s->journal == NULL, 1) ||
	    journal_add(s->journal, kind, method, cls, v) < 0) {
		atomic_store_explicit(sum, dbits(bitsd(get(sum)) + v), memory_order_relaxed);
	}
	if (h->native) {
		native_observe(&h->nh[method][cls], h->native, v);
	}
	return i;
}

/* The exemplars of a line with an id on a source without field labels:
 * its response cell and the buckets its times were counted in. */
static void __attribute__((noinline))
flat_exemplars(struct metrics_source *s, const struct log_record *r, unsigned me, unsigned slot,
               unsigned cls, const size_t bucket[2])
{
	_Atomic uint64_t *cells =
	    (_Atomic uint64_t *)(uintptr_t)atomic_load_explicit(&s->ex_resp, memory_order_relaxed);
	struct line_ex lx;

	if (!cells) {
		cells = calloc((size_t)N_METHODS * STATUS_SLOTS, sizeof(*cells));
		if (!cells) {
			return;
		}
		atomic_store_explicit(&s->ex_resp, (uint64_t)(uintptr_t)cells,
		                      memory_order_release);
	}
	line_ex_init(&lx, s, r);
	ex_put(&cells[me * STATUS_SLOTS + slot], 1, 0, &lx, 1.0);
	if (s->no_hist) {
		return;
	}
	struct histogram *rq = &s->hist[HIST_REQUEST], *up = &s->hist[HIST_UPSTREAM];
	if (r->has_request_time) {
		ex_put(&rq->ex[me][cls], rq->n_bounds + 1, bucket[0], &lx, r->request_time);
	}
	if (r->has_upstream_time) {
		ex_put(&up->ex[me][cls], up->n_bounds + 1, bucket[1], &lx, r->upstream_time);
	}
}

/* The optional histograms of a line, in hist_kind order: one test each, and
 * the value converted only when it is counted (the loop over
 * arrays of the values and their flags cost 90 instructions a combined line, which
 * carries only $body_bytes_sent and counts none of them by default). */
_Static_assert(HIST_UPSTREAM_HEADER + 1 == N_HIST, "observe_optional tests every histogram");
static void __attribute__((noinline))
observe_optional(struct metrics_source *s, const struct log_record *r, unsigned method,
                 unsigned cls)
{
	if (r->has_request_length && s->hist[HIST_REQUEST_SIZE].on) {
		(void)hist_observe(s, HIST_REQUEST_SIZE, method, cls, (double)r->request_length);
	}
	if (r->has_bytes && s->hist[HIST_RESPONSE_SIZE].on) {
		(void)hist_observe(s, HIST_RESPONSE_SIZE, method, cls, (double)r->bytes_sent);
	}
	if (r->has_upstream_connect_time && s->hist[HIST_UPSTREAM_CONNECT].on) {
		(void)hist_observe(s, HIST_UPSTREAM_CONNECT, method, cls, r->upstream_connect_time);
	}
	if (r->has_upstream_header_time && s->hist[HIST_UPSTREAM_HEADER].on) {
		(void)hist_observe(s, HIST_UPSTREAM_HEADER, method, cls, r->upstream_header_time);
	}
}

void metrics_observe(struct metrics_source *s, const struct log_record *r)
{
	unsigned method = r->method.len ? method_index(r->method.ptr, r->method.len) : METHOD_OTHER;
	unsigned slot = r->status_slot < STATUS_SLOTS ? r->status_slot : STATUS_SLOT_INVALID;
	unsigned cls = class_of_slot(slot);

	if (s->tuples) {
		if (__builtin_expect(s->idle_on, 0) && (++s->idle_lines & 1023u) == 0) {
			/* line by line (formats that need a scratch record): the
			 * stamp's clock every 1024 lines, and at every sweep */
			s->idle_now = metrics_idle_clock(s);
		}
		observe_dyn(s, r, method, slot, cls, NULL);
		return;
	}
	cell_add(s, &s->responses[method][slot], ID_RESPONSES + method * STATUS_SLOTS + slot, 1);
	if (r->has_bytes) {
		cell_add(s, &s->bytes[method][cls], ID_BYTES + method * N_CLASSES + cls,
		         r->bytes_sent);
	}
	size_t bucket[2] = {0, 0}; /* where the times were counted, for exemplars */
	if (!s->no_hist && r->has_request_time) {
		bucket[0] = hist_observe(s, HIST_REQUEST, method, cls, r->request_time);
	}
	if (!s->no_hist && r->has_upstream_time) {
		bucket[1] = hist_observe(s, HIST_UPSTREAM, method, cls, r->upstream_time);
	}
	if (!s->no_hist && s->opt_on) {
		observe_optional(s, r, method, cls);
	}
	if (r->trace_kind && !s->no_ex) {
		flat_exemplars(s, r, method, slot, cls, bucket);
	}
}

/* How far apart the stages of metrics_observe_batch are, in lines. */
#define PIPE_STEP 8u
/* Below this many routes the route cache and the cells it points to stay
 * in the core's caches: no prefetching (it would be instructions only). */
#define PIPE_MIN_ROUTES 2048u
/* Bytes of multi-label keys a batch keeps (a single label's key is the
 * record's own bytes); keys beyond are built again when counted. */
#define BATCH_KEY_BYTES 8192u

/* The route keys of n lines (tag: method << 16 | slot). */
static void batch_keys(struct metrics_source *s, const struct log_record *const *recs, size_t n,
                       struct line_key *lk, uint32_t *tag, char *buf)
{
	size_t used = 0;
	bool borrowed = series_tuples_width(s->tuples) == 1;

	for (size_t j = 0; j < n; j++) {
		const struct log_record *r = recs[j];
		unsigned me =
		    r->method.len ? method_index(r->method.ptr, r->method.len) : METHOD_OTHER;
		unsigned slot =
		    r->status_slot < STATUS_SLOTS ? r->status_slot : STATUS_SLOT_INVALID;
		const char *key;
		size_t klen = series_tuples_key(s->tuples, r, &key);
		tag[j] = me << 16 | slot;
		lk[j] = (struct line_key){key, klen, routecache_hash(key, klen, tag[j])};
		if (borrowed) {
			continue; /* the record's bytes: valid for the whole batch */
		}
		/* t's scratch, overwritten by the next line: keep a copy */
		if (klen <= BATCH_KEY_BYTES - used) {
			memcpy(buf + used, key, klen);
			lk[j].key = buf + used;
			used += klen;
		} else {
			lk[j].key = NULL;
		}
	}
}

void metrics_observe_batch(struct metrics_source *s, const struct log_record *const *recs, size_t n)
{
	struct line_key lk[METRICS_BATCH_MAX];
	uint32_t tag[METRICS_BATCH_MAX];
	char buf[BATCH_KEY_BYTES];

	if (!s->tuples) {
		for (size_t i = 0; i < n; i++) {
			metrics_observe(s, recs[i]);
		}
		return;
	}
	if (__builtin_expect(s->idle_on, 0)) {
		s->idle_now = metrics_idle_clock(s); /* once a batch: the lines' last-seen stamp */
	}
	while (n > METRICS_BATCH_MAX) {
		metrics_observe_batch(s, recs, METRICS_BATCH_MAX);
		recs += METRICS_BATCH_MAX;
		n -= METRICS_BATCH_MAX;
	}
	batch_keys(s, recs, n, lk, tag, buf);
	if (routecache_count(s->routes) < PIPE_MIN_ROUTES) {
		for (size_t i = 0; i < n; i++) {
			unsigned slot = tag[i] & 0xffffu;
			observe_dyn(s, recs[i], tag[i] >> 16, slot, class_of_slot(slot), &lk[i]);
		}
		return;
	}
	/* A software pipeline over the lines: a line's index slot, then its
	 * route, then its key bytes and value cells are loaded a few lines
	 * before they are needed, so the cache misses of several lines
	 * overlap instead of following one another.  Each prefetch step reads
	 * only what the step before loaded.  The counting (the last stage) is
	 * in line order and the same code as metrics_observe's. */
	for (size_t j = 0; j < n + 3 * PIPE_STEP; j++) {
		for (unsigned st = 0; st <= 2; st++) {
			if (j >= st * PIPE_STEP && j - st * PIPE_STEP < n) {
				routecache_prefetch(s->routes, lk[j - st * PIPE_STEP].h,
				                    (int)st + 1);
			}
		}
		if (j >= 3 * PIPE_STEP && j - 3 * PIPE_STEP < n) {
			size_t i = j - 3 * PIPE_STEP;
			unsigned slot = tag[i] & 0xffffu;
			observe_dyn(s, recs[i], tag[i] >> 16, slot, class_of_slot(slot), &lk[i]);
		}
	}
}

static void cell_move(struct metrics_source *dst, _Atomic uint64_t *d, struct metrics_source *src,
                      _Atomic uint64_t *c, uint32_t id)
{
	uint64_t v = get(c);

	(void)src;
	if (v) {
		cell_add(dst, d, id, v);
		atomic_store_explicit(c, 0, memory_order_relaxed);
	}
}

/* cell_move over a row of n cells whose ids start at id0.  A batch or a
 * step touches few of the 17 x 501 response cells: a group of four empty
 * ones costs one test (the walk of every cell one by one was a third of a
 * merge). */
static void cells_move(struct metrics_source *dst, _Atomic uint64_t *d, _Atomic uint64_t *c,
                       size_t n, uint32_t id0)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		if (!row_any(&c[i], 4)) {
			continue;
		}
		for (size_t k = i; k < i + 4; k++) {
			cell_move(dst, &d[k], NULL, &c[k], id0 + (uint32_t)k);
		}
	}
	for (; i < n; i++) {
		cell_move(dst, &d[i], NULL, &c[i], id0 + (uint32_t)i);
	}
}

/* Merge a row's native histogram into dst's and drop it from src (no
 * render runs on src). */
static void native_move(_Atomic uint64_t *to, _Atomic uint64_t *from, const struct nhist_layout *l)
{
	struct nhist *src = nh_get(from), *dst;

	if (!src || !l) {
		return;
	}
	dst = nh_get(to);
	if (!dst) {
		dst = native_new(to, l);
	}
	if (dst) {
		nhist_merge(dst, src);
	}
	atomic_store_explicit(from, 0, memory_order_relaxed);
	nhist_destroy(src);
}

static void hist_move(struct metrics_source *dst, struct histogram *dh, struct histogram *sh,
                      uint32_t id)
{
	size_t w = sh->n_bounds + 1;
	_Atomic uint64_t *from = sh->counts, *to = dh->counts;

	/* rows in memory order: hist_row(h, me, c) is counts + (me * N_CLASSES + c) * w */
	for (unsigned me = 0; me < N_METHODS; me++) {
		for (unsigned c = 0; c < N_CLASSES; c++, from += w, to += w) {
			if (!row_any(from, w)) {
				continue;
			}
			if (!row_any(to, dh->n_bounds + 1)) {
				born(dst, id + me * N_CLASSES + c);
			}
			for (size_t k = 0; k <= sh->n_bounds; k++) {
				inc_sat(&to[k], get(&from[k]));
				atomic_store_explicit(&from[k], 0, memory_order_relaxed);
			}
			double sum =
			    bitsd(get(&dh->sum_bits[me][c])) + bitsd(get(&sh->sum_bits[me][c]));
			atomic_store_explicit(&dh->sum_bits[me][c], dbits(sum),
			                      memory_order_relaxed);
			atomic_store_explicit(&sh->sum_bits[me][c], dbits(0.0),
			                      memory_order_relaxed);
			native_move(&dh->nh[me][c], &sh->nh[me][c], dh->native);
		}
	}
}

void metrics_source_show_syslog(struct metrics_source *s, bool show)
{
	atomic_store_explicit(&s->show_syslog, show, memory_order_relaxed);
}

int metrics_source_merge(struct metrics_source *dst, struct metrics_source *src)
{
	if (dst->tuples || src->tuples || dst->no_hist != src->no_hist ||
	    !dst->hist[HIST_REQUEST].native != !src->hist[HIST_REQUEST].native) {
		return -ENOTSUP;
	}
	for (unsigned h = 0; h < N_HIST; h++) {
		if (dst->hist[h].on != src->hist[h].on ||
		    dst->hist[h].n_bounds != src->hist[h].n_bounds) {
			return -ENOTSUP;
		}
	}
	for (unsigned c = 0; c < METRICS_COUNTER_COUNT; c++) {
		inc(&dst->counters[c], get(&src->counters[c]));
		atomic_store_explicit(&src->counters[c], 0, memory_order_relaxed);
	}
	for (unsigned me = 0; me < N_METHODS; me++) {
		cells_move(dst, dst->responses[me], src->responses[me], STATUS_SLOTS,
		           ID_RESPONSES + me * STATUS_SLOTS);
		cells_move(dst, dst->bytes[me], src->bytes[me], N_CLASSES,
		           ID_BYTES + me * N_CLASSES);
	}
	if (src->journal && !dst->no_hist) {
		journal_replay(dst, src->journal);
	}
	if (!dst->no_hist) {
		for (unsigned h = 0; h < N_HIST; h++) {
			if (dst->hist[h].on) {
				hist_move(dst, &dst->hist[h], &src->hist[h], ID_HIST(h));
			}
		}
	}
	return 0;
}

void metrics_count(struct metrics_source *s, enum metrics_counter c, uint64_t delta)
{
	inc(&s->counters[c], delta);
}

uint64_t metrics_get(const struct metrics_source *s, enum metrics_counter c)
{
	return get(&s->counters[c]);
}

void metrics_source_set_captures(struct metrics_source *s, unsigned captures)
{
	s->captures = captures;
}

unsigned metrics_captures_of(const struct log_parser *p)
{
	static const struct {
		unsigned field; /* enum logformat_field */
		unsigned bit;
	} map[] = {
	    {LOGFORMAT_FIELD_REQUEST_LENGTH, METRICS_CAPTURES_REQUEST_LENGTH},
	    {LOGFORMAT_FIELD_BYTES, METRICS_CAPTURES_RESPONSE_BYTES},
	    {LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, METRICS_CAPTURES_UPSTREAM_CONNECT},
	    {LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME, METRICS_CAPTURES_UPSTREAM_HEADER},
	};
	unsigned bits = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		bits |= logparse_has_field(p, map[i].field) ? map[i].bit : 0;
	}
	return bits;
}

void metrics_source_set_filtered(struct metrics_source *s, bool filtered)
{
	s->filtered = filtered;
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
