/*
 * series.c - field-label tuples and series tables (see series.h).
 *
 * Lines reach their series through the registry's route cache
 * (routecache.c, one probe a line); this file is its slow path, run once
 * per route: one hash of the raw field values and a probe in a bounded
 * raw-value cache (hit: the tuple id, no regex at all); then one probe per
 * family in that family's index.  A cache miss runs the
 * pcre2 rewrites (JIT, anchored at both ends like Prometheus relabelling)
 * and interns the rewritten values.  A label's rules are tried in order and
 * the first that matches gives the value (route mapping: specific routes
 * first, a catch-all last); a value no rule matches takes the configured
 * default ("other").  A label may read the parser's extra captures (a
 * format variable the exporter does not know) by index.  The cache is flushed when full rather
 * than evicting entry by entry: simpler, and a flush only costs re-running
 * the rewrites of the values seen next.
 *
 * Storage that readers see (tuples, series keys and values) is allocated in
 * chunks that never move; the chunk pointer and the entry are written
 * before the count is published (release), readers acquire the count.
 * The indexes (probe.h: open addressing, one 64-bit word a slot, load
 * <= 1/2, doubled without rehashing) belong to the writer alone.
 *
 * Idle series (series_idle_timeout) are removed by series_family_sweep, a
 * stable compaction of the family (keys, values, index rebuilt), and their
 * label sets by series_tuples_collect (ids on a free list, index rebuilt,
 * raw-value cache flushed).  Both run under the lock readers hold for their
 * walk, so compaction needs no dead marks or epochs; the stamp that says
 * when a series was last seen is a value cell of the caller's
 * (series_family_add_cells), so a family without idle removal pays nothing.
 *
 * Rejected: one alternation of all rules with (*MARK) names to find the
 * winner in a single match (group numbers of later rules shift, so every
 * replacement would need rewriting, and the cache already makes the rule
 * count a per-distinct-value cost); a lock around series creation (a scrape would stall ingestion
 * for its whole walk, or would need to copy); an LRU for the cache (more
 * code on the hot path for little gain over flush-when-full); evicting
 * idle series by default (a returning series restarts its counters: only
 * when the user asks, series_idle_timeout); dead-marking removed series and
 * reusing their slots after an epoch (a reader skips holes, the writer keeps
 * a free list; compaction under the readers' lock is simpler and frees the
 * chunks).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "exporter/metrics/series.h"

#include <errno.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/metrics/fieldvalue.h"
#include "exporter/metrics/probe.h"
#include "parsers/status.h"

_Static_assert(SERIES_RAW_CAP == FIELDVALUE_CAP, "raw values are cut by fieldvalue_get");

#define CHUNK_SHIFT 10u
#define CHUNK_SIZE (1u << CHUNK_SHIFT)
/* The raw-value cache holds as many entries as the tuple limit allows,
 * within these (a cache smaller than the working set of raw values would
 * run the rules again for each new route of a value it dropped), with 128
 * key bytes an entry; its slots are twice its entries. */
#define CACHE_MIN 4096u
#define CACHE_MAX (64u * 1024u)
#define CACHE_KEY_BYTES 128u
#define MAX_N CONFIG_MAX_FIELD_LABELS
#define REWRITE_MATCH_LIMIT 100000u /* as the line parser's defaults */
#define REWRITE_DEPTH_LIMIT 1000u

/* ---- hashing ------------------------------------------------------------------ */

static uint64_t hash_bytes(const void *p, size_t len, uint64_t h)
{
	const unsigned char *s = p;
	uint64_t w = 0;

	/* Eight bytes per multiply (byte-wise FNV-1a cost a third of a field-label
	 * line); the table compares whole keys, so this only needs to spread. */
	while (len >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
		s += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w ^ ((uint64_t)len << 56)) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 32);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* ---- tuples ---------------------------------------------------------------- */

struct tuple {
	struct str_view values[MAX_N];
	char data[]; /* the value bytes */
};

/* One compiled rewrite rule; match and replacement as configured
 * (replacement "$0" when none was), for series_tuples_rule. */
struct rewrite {
	char *match;
	pcre2_code *code;
	bool jit; /* JIT-compiled (else the interpreter, same results) */
	PCRE2_UCHAR *replacement;
	size_t replacement_len;
};

/* One field label: where its value comes from and its ordered rules. */
struct rule {
	char *name;
	enum config_field field;
	char *variable;     /* CONFIG_FIELD_VARIABLE: the extra capture's name */
	size_t extra_index; /* CONFIG_FIELD_VARIABLE: record.extra[] index */
	struct rewrite *rw; /* [n_rw]; n_rw 0: value used as is */
	size_t n_rw;
	char *default_value;       /* value when no rule matches */
	pcre2_match_data *md;      /* shared by the rules: sized for the one with most groups */
	pcre2_match_context *mctx; /* match limit: a user pattern cannot make a line slow */
};

struct cache_entry {
	uint64_t hash;
	uint32_t off;
	uint32_t len;
	uint32_t id; /* id + 1; 0: empty */
};

struct series_tuples {
	size_t n;
	struct rule rules[MAX_N];
	size_t limit;
	struct tuple **tuples; /* [limit + 1], entries published by count; NULL: freed */
	atomic_size_t count;
	uint32_t *free_ids; /* [limit + 1]: ids of freed tuples, taken first */
	size_t n_free;
	struct probe_index ix;     /* rewritten values -> id (writer) */
	struct cache_entry *cache; /* raw values -> id (writer) */
	size_t cache_used, cache_max, cache_mask;
	uint64_t misses;
	char *arena;
	size_t arena_len, arena_cap;
	char key[MAX_N * (SERIES_RAW_CAP + 2)]; /* scratch: encoded raw values */
};

uint64_t series_tuples_misses(const struct series_tuples *t)
{
	return t->misses;
}

size_t series_tuples_width(const struct series_tuples *t)
{
	return t->n;
}

const char *series_tuples_name(const struct series_tuples *t, size_t i)
{
	return t->rules[i].name;
}

void series_tuples_def(const struct series_tuples *t, size_t i, struct series_label_def *ret_def)
{
	const struct rule *ru = &t->rules[i];

	*ret_def = (struct series_label_def){ru->name, ru->field, ru->variable, ru->n_rw,
	                                     ru->n_rw ? ru->default_value : NULL};
}

void series_tuples_rule(const struct series_tuples *t, size_t i, size_t k, const char **ret_match,
                        const char **ret_replacement)
{
	const struct rewrite *rw = &t->rules[i].rw[k];

	*ret_match = rw->match;
	*ret_replacement = (const char *)rw->replacement;
}

void series_tuples_values(const struct series_tuples *t, uint32_t id, struct str_view *ret_values)
{
	const struct tuple *tp = t->tuples[id];

	memcpy(ret_values, tp->values, t->n * sizeof(*ret_values));
}

static size_t utf8_cut(const char *p, size_t len, size_t cap)
{
	return fieldvalue_utf8_cut(p, len, cap);
}

static uint64_t hash_values(const struct str_view *v, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		uint16_t len = (uint16_t)v[i].len;
		h = hash_bytes(&len, sizeof(len), h);
		h = hash_bytes(v[i].ptr, v[i].len, h);
	}
	return mix64(h);
}

static bool values_equal(const struct str_view *a, const struct str_view *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].len != b[i].len || memcmp(a[i].ptr, b[i].ptr, a[i].len) != 0) {
			return false;
		}
	}
	return true;
}

/* Append a new tuple (values copied), in a freed id when there is one;
 * returns its id or -ENOMEM. */
static int64_t tuple_add(struct series_tuples *t, const struct str_view *v, uint64_t h)
{
	size_t count = atomic_load_explicit(&t->count, memory_order_relaxed), total = 0;
	size_t id = t->n_free ? t->free_ids[t->n_free - 1] : count;
	struct tuple *tp;
	char *p;

	for (size_t i = 0; i < t->n; i++) {
		total += v[i].len;
	}
	tp = malloc(sizeof(*tp) + total + 1);
	if (!tp) {
		return -ENOMEM;
	}
	p = tp->data;
	for (size_t i = 0; i < t->n; i++) {
		memcpy(p, v[i].ptr, v[i].len);
		tp->values[i] = (struct str_view){p, v[i].len};
		p += v[i].len;
	}
	if (probe_put(&t->ix, h, (uint32_t)id) < 0) {
		free(tp);
		return -ENOMEM;
	}
	/* A freed id: no published series refers to it, no reader looks. */
	t->tuples[id] = tp;
	if (id == count) {
		atomic_store_explicit(&t->count, id + 1, memory_order_release);
	} else {
		t->n_free--;
	}
	return (int64_t)id;
}

uint32_t series_tuples_intern(struct series_tuples *t, const struct str_view *values, size_t n)
{
	struct str_view v[MAX_N];
	uint64_t h;
	size_t i;
	int64_t id;

	if (n != t->n) {
		return SERIES_OVERFLOW;
	}
	for (size_t k = 0; k < n; k++) {
		v[k] = (struct str_view){values[k].ptr,
		                         utf8_cut(values[k].ptr, values[k].len, SERIES_VALUE_CAP)};
	}
	h = hash_values(v, n);
	i = probe_home(&t->ix, h);
	for (uint32_t cand; probe_next(&t->ix, h, &i, &cand);) {
		if (values_equal(t->tuples[cand]->values, v, n)) {
			return cand;
		}
	}
	if (atomic_load_explicit(&t->count, memory_order_relaxed) - t->n_free > t->limit) {
		return SERIES_OVERFLOW;
	}
	id = tuple_add(t, v, h);
	return id < 0 ? SERIES_OVERFLOW : (uint32_t)id;
}

/* The raw value of a record field (path without its query string). */
static struct str_view raw_value(const struct log_record *r, const struct rule *ru)
{
	return fieldvalue_get(r, ru->field, ru->extra_index);
}

/* Rewrite one raw value into out (SERIES_VALUE_CAP + 1 bytes) by the first
 * rule that matches it; returns its length. */
static size_t rewrite(const struct rule *ru, struct str_view raw, char *out)
{
	PCRE2_UCHAR buf[2 * SERIES_VALUE_CAP + 64];
	size_t dlen;

	if (!ru->n_rw) {
		memcpy(out, raw.ptr, raw.len > SERIES_VALUE_CAP ? SERIES_VALUE_CAP : raw.len);
		return utf8_cut(raw.ptr, raw.len, SERIES_VALUE_CAP);
	}
	for (size_t k = 0; k < ru->n_rw; k++) {
		const struct rewrite *rw = &ru->rw[k];
		PCRE2_SIZE olen = sizeof(buf);
		/* Match first (a failing anchored JIT match is cheap), substitute
		 * from that match only for the rule that wins. */
		int rc = rw->jit ? pcre2_jit_match(rw->code, (PCRE2_SPTR)raw.ptr, raw.len, 0, 0,
		                                   ru->md, ru->mctx)
		                 : pcre2_match(rw->code, (PCRE2_SPTR)raw.ptr, raw.len, 0, 0, ru->md,
		                               ru->mctx);
		if (rc == PCRE2_ERROR_NOMATCH) {
			continue; /* the next rule */
		}
		/* An optional group that did not match substitutes as empty, not as an error. */
		if (rc > 0) {
			rc = pcre2_substitute(
			    rw->code, (PCRE2_SPTR)raw.ptr, raw.len, 0,
			    PCRE2_SUBSTITUTE_MATCHED | PCRE2_SUBSTITUTE_UNSET_EMPTY, ru->md,
			    ru->mctx, rw->replacement, rw->replacement_len, buf, &olen);
		}
		if (rc <= 0) {
			/* The match limit, or a result too long for the buffer: this
			 * rule may have matched, so a later one must not decide. */
			break;
		}
		olen = utf8_cut((const char *)buf, olen, SERIES_VALUE_CAP);
		memcpy(out, buf, olen);
		return olen;
	}
	dlen = utf8_cut(ru->default_value, strlen(ru->default_value), SERIES_VALUE_CAP);
	memcpy(out, ru->default_value, dlen);
	return dlen;
}

static void cache_flush(struct series_tuples *t)
{
	memset(t->cache, 0, (t->cache_mask + 1) * sizeof(*t->cache));
	t->cache_used = 0;
	t->arena_len = 0;
}

static void cache_put(struct series_tuples *t, uint64_t h, size_t klen, uint32_t id)
{
	size_t i;

	if (t->cache_used >= t->cache_max || klen > t->arena_cap - t->arena_len) {
		cache_flush(t);
		if (klen > t->arena_cap) {
			return;
		}
	}
	for (i = h & t->cache_mask; t->cache[i].id; i = (i + 1) & t->cache_mask) {
	}
	memcpy(t->arena + t->arena_len, t->key, klen);
	t->cache[i] = (struct cache_entry){h, (uint32_t)t->arena_len, (uint32_t)klen, id + 1};
	t->arena_len += klen;
	t->cache_used++;
}

size_t series_tuples_key(struct series_tuples *t, const struct log_record *r, const char **ret_key)
{
	size_t klen = 0;

	if (t->n == 1) {
		/* One label: its raw value is the key, no copy. */
		struct str_view v = raw_value(r, &t->rules[0]);
		*ret_key = v.ptr;
		return v.len;
	}
	for (size_t k = 0; k < t->n; k++) {
		struct str_view v = raw_value(r, &t->rules[k]);
		t->key[klen++] = (char)(v.len & 0xff);
		t->key[klen++] = (char)(v.len >> 8);
		memcpy(t->key + klen, v.ptr, v.len);
		klen += v.len;
	}
	*ret_key = t->key;
	return klen;
}

uint32_t series_tuples_lookup(struct series_tuples *t, const struct log_record *r)
{
	struct str_view raw[MAX_N], v[MAX_N];
	char out[MAX_N][SERIES_VALUE_CAP + 1];
	size_t klen = 0, i;
	uint64_t h;
	uint32_t id;

	for (size_t k = 0; k < t->n; k++) {
		raw[k] = raw_value(r, &t->rules[k]);
		t->key[klen++] = (char)(raw[k].len & 0xff);
		t->key[klen++] = (char)(raw[k].len >> 8);
		memcpy(t->key + klen, raw[k].ptr, raw[k].len);
		klen += raw[k].len;
	}
	h = mix64(hash_bytes(t->key, klen, 0xcbf29ce484222325ull));
	for (i = h & t->cache_mask; t->cache[i].id; i = (i + 1) & t->cache_mask) {
		const struct cache_entry *e = &t->cache[i];
		if (e->hash == h && e->len == klen &&
		    memcmp(t->arena + e->off, t->key, klen) == 0) {
			return e->id - 1;
		}
	}
	t->misses++;
	for (size_t k = 0; k < t->n; k++) {
		v[k] = (struct str_view){out[k], rewrite(&t->rules[k], raw[k], out[k])};
	}
	id = series_tuples_intern(t, v, t->n);
	cache_put(t, h, klen, id);
	return id;
}

static int rewrite_init(struct rewrite *rw, const struct config_rule *cr, const char *label,
                        uint32_t *max_groups, char *err, size_t err_size)
{
	int ec;
	PCRE2_SIZE off;
	uint32_t groups = 0;
	const char *rep = cr->replacement ? cr->replacement : "$0";

	rw->match = strdup(cr->match);
	rw->replacement = (PCRE2_UCHAR *)strdup(rep);
	rw->replacement_len = strlen(rep);
	if (!rw->match || !rw->replacement) {
		return -ENOMEM;
	}
	rw->code = pcre2_compile((PCRE2_SPTR)cr->match, PCRE2_ZERO_TERMINATED,
	                         PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ec, &off, NULL);
	if (!rw->code) {
		PCRE2_UCHAR msg[128];
		(void)pcre2_get_error_message(ec, msg, sizeof(msg));
		(void)snprintf(err, err_size, "field label %s: bad match pattern at %zu: %s", label,
		               (size_t)off, (const char *)msg);
		return -EINVAL;
	}
	rw->jit = pcre2_jit_compile(rw->code, PCRE2_JIT_COMPLETE) == 0; /* interpreter otherwise */
	(void)pcre2_pattern_info(rw->code, PCRE2_INFO_CAPTURECOUNT, &groups);
	*max_groups = groups > *max_groups ? groups : *max_groups;
	return 0;
}

static int rule_init(struct rule *ru, const struct config_field_label *l, char *err,
                     size_t err_size)
{
	uint32_t max_groups = 0;

	ru->name = strdup(l->name);
	ru->field = l->field;
	ru->extra_index = l->variable_index;
	ru->default_value = strdup(l->default_value ? l->default_value : "other");
	if (!ru->name || !ru->default_value ||
	    (l->variable && !(ru->variable = strdup(l->variable)))) {
		return -ENOMEM;
	}
	if (l->field == CONFIG_FIELD_VARIABLE && !l->variable) {
		(void)snprintf(err, err_size, "field label %s: no variable named", l->name);
		return -EINVAL;
	}
	if (!l->n_rules) {
		return 0;
	}
	if (l->n_rules > CONFIG_MAX_RULES) {
		(void)snprintf(err, err_size, "field label %s: more than %d rules", l->name,
		               CONFIG_MAX_RULES);
		return -EINVAL;
	}
	ru->rw = calloc(l->n_rules, sizeof(*ru->rw));
	if (!ru->rw) {
		return -ENOMEM;
	}
	for (size_t k = 0; k < l->n_rules; k++) {
		ru->n_rw++;
		int r = rewrite_init(&ru->rw[k], &l->rules[k], l->name, &max_groups, err, err_size);
		if (r < 0) {
			return r;
		}
	}
	ru->md = pcre2_match_data_create(max_groups + 1, NULL);
	ru->mctx = pcre2_match_context_create(NULL);
	if (ru->mctx) {
		(void)pcre2_set_match_limit(ru->mctx, REWRITE_MATCH_LIMIT);
		(void)pcre2_set_depth_limit(ru->mctx, REWRITE_DEPTH_LIMIT);
	}
	return ru->md && ru->mctx ? 0 : -ENOMEM;
}

static void rule_finish(struct rule *ru)
{
	free(ru->name);
	free(ru->variable);
	free(ru->default_value);
	for (size_t k = 0; k < ru->n_rw; k++) {
		free(ru->rw[k].match);
		pcre2_code_free(ru->rw[k].code);
		free(ru->rw[k].replacement);
	}
	free(ru->rw);
	pcre2_match_data_free(ru->md);
	pcre2_match_context_free(ru->mctx);
}

int series_tuples_create(const struct config_field_label *labels, size_t n, size_t limit,
                         struct series_tuples **ret, char *err, size_t err_size)
{
	struct series_tuples *t;
	struct str_view over[MAX_N];
	int r = -ENOMEM;

	if (n == 0 || n > MAX_N || limit == 0 || limit > SERIES_MAX_LIMIT) {
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		return -ENOMEM;
	}
	t->limit = limit;
	t->tuples = calloc(limit + 1, sizeof(*t->tuples));
	t->free_ids = calloc(limit + 1, sizeof(*t->free_ids));
	t->cache_max = CACHE_MIN;
	while (t->cache_max < limit + 1 && t->cache_max < CACHE_MAX) {
		t->cache_max *= 2;
	}
	t->cache_mask = t->cache_max * 2 - 1;
	t->arena_cap = t->cache_max * CACHE_KEY_BYTES;
	t->cache = calloc(t->cache_mask + 1, sizeof(*t->cache));
	t->arena = malloc(t->arena_cap);
	if (!t->tuples || !t->free_ids || !t->cache || !t->arena || probe_init(&t->ix, 64) < 0) {
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		t->n++;
		r = rule_init(&t->rules[i], &labels[i], err, err_size);
		if (r < 0) {
			goto fail;
		}
		over[i] = (struct str_view){SERIES_OVERFLOW_VALUE, strlen(SERIES_OVERFLOW_VALUE)};
	}
	/* Tuple 0 is the overflow label set; it is found by value like any other. */
	if (tuple_add(t, over, hash_values(over, n)) != SERIES_OVERFLOW) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = t;
	return 0;
fail:
	series_tuples_destroy(t);
	return r;
}

void series_tuples_destroy(struct series_tuples *t)
{
	if (!t) {
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		rule_finish(&t->rules[i]);
	}
	if (t->tuples) {
		for (size_t i = 0; i < atomic_load(&t->count); i++) {
			free(t->tuples[i]);
		}
	}
	free(t->tuples);
	free(t->free_ids);
	free(t->cache);
	free(t->arena);
	probe_finish(&t->ix);
	free(t);
}

/* ---- families ---------------------------------------------------------------- */

struct series_family {
	const struct clock_wall *clock;
	size_t width;
	size_t limit;
	size_t cap; /* limit + reserve */
	struct series_key **key_chunks;
	_Atomic uint64_t **value_chunks;
	atomic_size_t count;
	size_t normal; /* series outside the overflow tuple */
	struct probe_index ix;
	_Atomic uint64_t dropped;
};

struct series_family *series_family_create(size_t width, size_t limit, size_t reserve,
                                           const struct clock_wall *clock)
{
	struct series_family *f;
	size_t chunks;

	if (!width || limit > SERIES_MAX_LIMIT || reserve > SERIES_MAX_LIMIT) {
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		return NULL;
	}
	f->clock = clock;
	f->width = width;
	f->limit = limit;
	f->cap = limit + reserve;
	chunks = f->cap / CHUNK_SIZE + 1;
	f->key_chunks = calloc(chunks, sizeof(*f->key_chunks));
	f->value_chunks = calloc(chunks, sizeof(*f->value_chunks));
	if (!f->key_chunks || !f->value_chunks || probe_init(&f->ix, 256) < 0) {
		series_family_destroy(f);
		return NULL;
	}
	return f;
}

void series_family_destroy(struct series_family *f)
{
	if (!f) {
		return;
	}
	for (size_t c = 0; f->key_chunks && c <= f->cap / CHUNK_SIZE; c++) {
		free(f->key_chunks[c]);
		free(f->value_chunks ? (void *)f->value_chunks[c] : NULL);
	}
	free(f->key_chunks);
	free(f->value_chunks);
	probe_finish(&f->ix);
	free(f);
}

static inline uint64_t key_bits(uint32_t tuple, unsigned method, unsigned slot)
{
	return (uint64_t)tuple << 32 | (uint64_t)(method & 0xffff) << 16 | (slot & 0xffff);
}

static inline struct series_key *key_at(const struct series_family *f, size_t i)
{
	return &f->key_chunks[i >> CHUNK_SHIFT][i & (CHUNK_SIZE - 1)];
}

static inline _Atomic uint64_t *values_at(const struct series_family *f, size_t i)
{
	return f->value_chunks[i >> CHUNK_SHIFT] + (i & (CHUNK_SIZE - 1)) * f->width;
}

static int64_t family_find(const struct series_family *f, uint64_t kb, uint64_t h)
{
	size_t pos = probe_home(&f->ix, h);

	for (uint32_t id; probe_next(&f->ix, h, &pos, &id);) {
		const struct series_key *k = key_at(f, id);
		if (key_bits(k->tuple, k->method, k->slot) == kb) {
			return id;
		}
	}
	return -1;
}

static int64_t family_add(struct series_family *f, uint32_t tuple, unsigned method, unsigned slot,
                          uint64_t h, int64_t created_ms)
{
	size_t id = atomic_load_explicit(&f->count, memory_order_relaxed);
	size_t c = id >> CHUNK_SHIFT;

	if (id >= f->cap) {
		return -ENOSPC;
	}
	if (!f->key_chunks[c] || !f->value_chunks[c]) {
		if (!f->key_chunks[c]) {
			f->key_chunks[c] = calloc(CHUNK_SIZE, sizeof(struct series_key));
		}
		if (!f->value_chunks[c]) {
			f->value_chunks[c] =
			    calloc((size_t)CHUNK_SIZE * f->width, sizeof(uint64_t));
		}
		if (!f->key_chunks[c] || !f->value_chunks[c]) {
			return -ENOMEM; /* the other chunk, if any, is kept for the next try */
		}
	}
	if (probe_put(&f->ix, h, (uint32_t)id) < 0) {
		return -ENOMEM;
	}
	*key_at(f, id) = (struct series_key){tuple, (uint16_t)method, (uint16_t)slot, created_ms};
	/* Key written and values zero: now readers may see it. */
	atomic_store_explicit(&f->count, id + 1, memory_order_release);
	if (tuple != SERIES_OVERFLOW) {
		f->normal++;
	}
	return (int64_t)id;
}

static void add_dropped(struct series_family *f, uint64_t n)
{
	atomic_store_explicit(&f->dropped,
	                      atomic_load_explicit(&f->dropped, memory_order_relaxed) + n,
	                      memory_order_relaxed);
}

static _Atomic uint64_t *family_get(struct series_family *f, uint32_t tuple, unsigned method,
                                    unsigned slot, bool observing, int64_t created_ms,
                                    bool *ret_dropped)
{
	uint64_t kb, h;
	int64_t id;
	bool counted = false; /* this observation is in dropped already */

	/* An observation whose tuple was refused (tuple table full) is a dropped label set. */
	if (observing && tuple == SERIES_OVERFLOW) {
		add_dropped(f, 1);
		counted = true;
	}
	kb = key_bits(tuple, method, slot);
	h = mix64(kb);
	id = family_find(f, kb, h);
	*ret_dropped = counted;
	if (id >= 0) {
		return values_at(f, (size_t)id);
	}
	if (tuple != SERIES_OVERFLOW && f->normal >= f->limit) {
		if (observing) {
			add_dropped(f, 1);
			counted = true;
		}
		tuple = SERIES_OVERFLOW;
		kb = key_bits(tuple, method, slot);
		h = mix64(kb);
		id = family_find(f, kb, h);
		*ret_dropped = counted;
		if (id >= 0) {
			return values_at(f, (size_t)id);
		}
	}
	/* Creation time before the entry is published: a render that sees the
	 * series sees when it was created, so a young one can be held at 0. */
	*ret_dropped = counted;
	id =
	    family_add(f, tuple, method, slot, h, observing ? clock_wall_ms(f->clock) : created_ms);
	if (id < 0) {
		/* Out of memory (or of overflow series): the observation is lost;
		 * count it once, here, not again in the caller. */
		if (observing && !counted) {
			add_dropped(f, 1);
		}
		return NULL;
	}
	return values_at(f, (size_t)id);
}

_Atomic uint64_t *series_family_get(struct series_family *f, uint32_t tuple, unsigned method,
                                    unsigned slot)
{
	bool dropped;

	return family_get(f, tuple, method, slot, true, 0, &dropped);
}

_Atomic uint64_t *series_family_route(struct series_family *f, uint32_t tuple, unsigned method,
                                      unsigned slot, bool *ret_dropped)
{
	bool dropped = false;
	_Atomic uint64_t *v = family_get(f, tuple, method, slot, true, 0, &dropped);

	if (v) {
		*ret_dropped = dropped;
	}
	return v;
}

_Atomic uint64_t *series_family_restore(struct series_family *f, uint32_t tuple, unsigned method,
                                        unsigned slot, int64_t created_ms)
{
	bool dropped;

	return family_get(f, tuple, method, slot, false, created_ms, &dropped);
}

size_t series_family_count(const struct series_family *f)
{
	return atomic_load_explicit(&f->count, memory_order_acquire);
}

void series_family_entry(const struct series_family *f, size_t i, struct series_key *ret_key,
                         _Atomic uint64_t **ret_values)
{
	*ret_key = *key_at(f, i);
	*ret_values = values_at(f, i);
}

uint64_t series_family_dropped(const struct series_family *f)
{
	return atomic_load_explicit(&f->dropped, memory_order_relaxed);
}

void series_family_add_dropped(struct series_family *f, uint64_t n)
{
	add_dropped(f, n);
}

/* ---- removing series ------------------------------------------------------- */

#define MAX_WIDTH 1024u /* value cells a series may have */

int series_family_add_cells(struct series_family *f, size_t n, size_t *ret_first)
{
	if (atomic_load_explicit(&f->count, memory_order_relaxed) || f->key_chunks[0]) {
		return -EBUSY;
	}
	if (n > MAX_WIDTH || f->width > MAX_WIDTH - n) {
		return -EINVAL;
	}
	*ret_first = f->width;
	f->width += n;
	return 0;
}

/* Rebuild the family index from its series 0..count. */
static int family_reindex(struct series_family *f, size_t count)
{
	struct probe_index ix = {0};
	size_t slots = 256;

	while (slots < count * 2 + 2) {
		slots *= 2;
	}
	if (probe_init(&ix, slots) < 0) {
		probe_finish(&ix);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		const struct series_key *k = key_at(f, i);
		probe_put_raw(&ix, mix64(key_bits(k->tuple, k->method, k->slot)), (uint32_t)i);
	}
	probe_finish(&f->ix);
	f->ix = ix;
	return 0;
}

size_t series_family_sweep(struct series_family *f, series_gone_fn *gone, void *ctx)
{
	size_t count = atomic_load_explicit(&f->count, memory_order_relaxed), kept = 0;

	for (size_t i = 0; i < count; i++) {
		const struct series_key *k = key_at(f, i);
		_Atomic uint64_t *v = values_at(f, i);
		if (k->tuple != SERIES_OVERFLOW && gone(k, v, ctx)) {
			f->normal--;
			continue;
		}
		if (kept != i) {
			_Atomic uint64_t *to = values_at(f, kept);
			*key_at(f, kept) = *k;
			for (size_t c = 0; c < f->width; c++) {
				atomic_store_explicit(
				    &to[c], atomic_load_explicit(&v[c], memory_order_relaxed),
				    memory_order_relaxed);
			}
		}
		kept++;
	}
	if (kept == count) {
		return 0;
	}
	/* The tail must read as new: family_add relies on zeroed cells. */
	for (size_t i = kept; i < count; i++) {
		_Atomic uint64_t *v = values_at(f, i);
		*key_at(f, i) = (struct series_key){0};
		for (size_t c = 0; c < f->width; c++) {
			atomic_store_explicit(&v[c], 0, memory_order_relaxed);
		}
	}
	for (size_t c = (kept + CHUNK_SIZE - 1) >> CHUNK_SHIFT; c <= (count - 1) >> CHUNK_SHIFT;
	     c++) {
		free(f->key_chunks[c]);
		free((void *)f->value_chunks[c]);
		f->key_chunks[c] = NULL;
		f->value_chunks[c] = NULL;
	}
	atomic_store_explicit(&f->count, kept, memory_order_release);
	if (family_reindex(f, kept) < 0) {
		/* Out of memory: keep the old slots' entries consistent by
		 * rebuilding in place (the index never shrinks below its size). */
		probe_clear(&f->ix);
		for (size_t i = 0; i < kept; i++) {
			const struct series_key *k = key_at(f, i);
			probe_put_raw(&f->ix, mix64(key_bits(k->tuple, k->method, k->slot)),
			              (uint32_t)i);
		}
	}
	return count - kept;
}

int series_tuples_collect(struct series_tuples *t, struct series_family *const *fams, size_t n,
                          size_t *ret_freed)
{
	size_t count = atomic_load_explicit(&t->count, memory_order_relaxed), freed = 0;
	bool *used = calloc(count ? count : 1, sizeof(*used));
	struct probe_index ix = {0};

	if (!used || probe_init(&ix, t->ix.mask + 1) < 0) {
		free(used);
		probe_finish(&ix);
		return -ENOMEM;
	}
	used[SERIES_OVERFLOW] = true;
	for (size_t k = 0; k < n; k++) {
		size_t cnt =
		    fams[k] ? atomic_load_explicit(&fams[k]->count, memory_order_relaxed) : 0;
		for (size_t i = 0; i < cnt; i++) {
			used[key_at(fams[k], i)->tuple] = true;
		}
	}
	for (size_t id = 0; id < count; id++) {
		if (!t->tuples[id]) {
			continue; /* freed before: on the free list already */
		}
		if (used[id]) {
			probe_put_raw(&ix, hash_values(t->tuples[id]->values, t->n), (uint32_t)id);
			continue;
		}
		free(t->tuples[id]);
		t->tuples[id] = NULL;
		t->free_ids[t->n_free++] = (uint32_t)id;
		freed++;
	}
	probe_finish(&t->ix);
	t->ix = ix;
	free(used);
	if (freed) {
		cache_flush(t);
	}
	*ret_freed = freed;
	return 0;
}

size_t series_tuples_count(const struct series_tuples *t)
{
	return atomic_load_explicit(&t->count, memory_order_relaxed) - t->n_free - 1;
}
