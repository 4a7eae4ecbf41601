/*
 * probe.h - the open-addressing index the registry's writer-side tables
 * share: series.c's tuple and family indexes and routecache.c's routes.
 *
 * A table of 2^k 64-bit slots (0: empty), linear probing, load at most
 * 1/2.  A slot holds the top 32 bits of its entry's 64-bit hash and the
 * entry's id + 1 in the low 32 bits, so a probe step reads one word (no
 * second array of hashes: one cache miss, not two) and looks at an entry
 * only when the hash's top half matches.  The home slot is taken from the
 * hash's top k bits, which the slot keeps: a table doubles without
 * touching an entry or recomputing a hash.  The caller compares whole keys
 * (a matching top half is only a candidate).
 *
 * Writer only, header-only (static inline: the probe is on every line's
 * path).  Ids are below 2^32 - 1; tables at most 2^32 slots.
 *
 * Rejected: a uint32 id array beside a uint64 hash array (two misses a
 * probe step, and every doubling re-reads the hashes); the home slot from
 * the hash's low bits (a doubling would need every entry's hash again).
 */
#ifndef EXPORTER_METRICS_PROBE_H
#define EXPORTER_METRICS_PROBE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_TAG_MASK 0xffffffff00000000ull

struct probe_index {
	uint64_t *slots; /* [mask + 1]: tag << 32 | (id + 1); 0 empty */
	size_t mask;
	size_t used;
	unsigned shift; /* 64 - log2(mask + 1): the home slot is h >> shift */
};

/* A table of n_slots slots (a power of two, 2 to 2^32); 0 or -ENOMEM. */
static inline int probe_init(struct probe_index *ix, size_t n_slots)
{
	unsigned bits = 0;

	while (((size_t)1 << bits) < n_slots) {
		bits++;
	}
	ix->slots = calloc((size_t)1 << bits, sizeof(*ix->slots));
	ix->mask = ((size_t)1 << bits) - 1;
	ix->used = 0;
	ix->shift = 64 - (bits ? bits : 1);
	return ix->slots ? 0 : -ENOMEM;
}

/* NULL-safe on a zeroed or half-made table. */
static inline void probe_finish(struct probe_index *ix)
{
	free(ix->slots);
	ix->slots = NULL;
}

/* Forget every entry (the size stays). */
static inline void probe_clear(struct probe_index *ix)
{
	memset(ix->slots, 0, (ix->mask + 1) * sizeof(*ix->slots));
	ix->used = 0;
}

/* Where the probe for hash h starts (for prefetching). */
static inline size_t probe_home(const struct probe_index *ix, uint64_t h)
{
	return (size_t)(h >> ix->shift) & ix->mask;
}

/* The next candidate for hash h at or after *pos (start at probe_home):
 * true with its id in *ret_id and *pos past it; false at the empty slot
 * that ends the probe (h is not in the table). */
static inline bool probe_next(const struct probe_index *ix, uint64_t h, size_t *pos,
                              uint32_t *ret_id)
{
	for (size_t i = *pos;; i = (i + 1) & ix->mask) {
		uint64_t s = ix->slots[i];
		if (!s) {
			return false;
		}
		if (((s ^ h) & PROBE_TAG_MASK) == 0) {
			*pos = (i + 1) & ix->mask;
			*ret_id = (uint32_t)s - 1;
			return true;
		}
	}
}

/* Put id under h without growing (the caller made room: probe_reserve). */
static inline void probe_put_raw(struct probe_index *ix, uint64_t h, uint32_t id)
{
	size_t i = probe_home(ix, h);

	while (ix->slots[i]) {
		i = (i + 1) & ix->mask;
	}
	ix->slots[i] = (h & PROBE_TAG_MASK) | ((uint64_t)id + 1);
	ix->used++;
}

/* Room for one more entry at load <= 1/2: doubles the table when needed
 * (each slot moves by its own top bits).  0 or -ENOMEM (table unchanged). */
static inline int probe_reserve(struct probe_index *ix)
{
	struct probe_index big;

	if ((ix->used + 1) * 2 <= ix->mask + 1) {
		return 0;
	}
	if (ix->mask + 1 > ((size_t)1 << 31) || probe_init(&big, (ix->mask + 1) * 2) < 0) {
		return -ENOMEM;
	}
	for (size_t i = 0; i <= ix->mask; i++) {
		uint64_t s = ix->slots[i];
		if (s) {
			probe_put_raw(&big, s, (uint32_t)s - 1);
		}
	}
	probe_finish(ix);
	*ix = big;
	return 0;
}

/* probe_reserve, then probe_put_raw.  0 or -ENOMEM (nothing put). */
static inline int probe_put(struct probe_index *ix, uint64_t h, uint32_t id)
{
	int r = probe_reserve(ix);

	if (r == 0) {
		probe_put_raw(ix, h, id);
	}
	return r;
}

#endif
