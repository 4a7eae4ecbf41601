/*
 * routecache.h - from a line's raw field-label values straight to its
 * series' value cells.
 *
 * A source with field labels keeps one route per distinct (raw values,
 * method, status slot) it has seen: the tuple id the values rewrote to and,
 * per family, the value cells of the series the line counts in (and
 * whether every observation there is also a dropped one, beyond the series
 * limit).  A line then costs one hash of its raw bytes, one probe and one
 * key compare, and its increments; the rewrite rules, the tuple index and
 * the family indexes are only walked the first time (series.c).
 *
 * Writer only (the source's ingest thread); readers never see it.  Routes
 * hold pointers into the families' value chunks, which do not move.  The
 * cache is bounded (max_routes, and its key bytes): when full it is
 * cleared and refilled from the slow path, as is everything after the
 * series tables change under it (a checkpoint restore, idle series
 * removed): routecache_clear.
 */
#ifndef EXPORTER_METRICS_ROUTECACHE_H
#define EXPORTER_METRICS_ROUTECACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Value cells a route can hold: one per series family of a source. */
#define ROUTECACHE_CELLS 4u

/* One route: a plain value record owned by the cache (valid until the next
 * routecache_add or routecache_clear). */
struct route {
	_Atomic uint64_t *v[ROUTECACHE_CELLS]; /* cells of family f, once resolved */
	uint32_t tuple;                        /* the series tables' tuple id */
	uint8_t resolved;                      /* bit f: v[f] is set */
	uint8_t dropped; /* bit f: each observation in v[f] is a dropped one */
};

struct routecache;

/* A cache of at most max_routes routes (>= 16).  NULL on OOM. */
struct routecache *routecache_create(size_t max_routes);

/* NULL-safe. */
void routecache_destroy(struct routecache *rc);

/* The hash of raw key bytes and a tag (method and slot) that find and add take. */
uint64_t routecache_hash(const char *key, size_t len, uint32_t tag);

/* The route of (key, tag) with hash h, or NULL. */
struct route *routecache_find(struct routecache *rc, uint64_t h, const char *key, size_t len,
                              uint32_t tag);

/* A new zeroed route for (key, tag) (not present; key copied), clearing the
 * cache first when it is full.  NULL: out of memory, or a key longer than
 * the cache takes (the caller goes the slow way). */
struct route *routecache_add(struct routecache *rc, uint64_t h, const char *key, size_t len,
                             uint32_t tag);

/* Hint that h will be looked up soon: step 1 loads its index slot, step 2
 * (after step 1 had time to land) its route, step 3 its key bytes and the
 * value cells the route has. */
void routecache_prefetch(const struct routecache *rc, uint64_t h, int step);

/* Changes whenever earlier route pointers may have become invalid (an add
 * or a clear): a caller holding routes across adds compares it. */
uint64_t routecache_generation(const struct routecache *rc);

/* Forget every route. */
void routecache_clear(struct routecache *rc);

/* Routes held (tests). */
size_t routecache_count(const struct routecache *rc);

#endif
