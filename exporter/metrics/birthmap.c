/*
 * birthmap.c - creation times of flat series (see birthmap.h).
 *
 * A rank directory over the id range: one bit per id (set: a time is
 * recorded), per 64-bit word the number of set bits before it, and the
 * times of the set ids in id order in one dense array.  A get is a bit
 * test, one popcount and one load (the render asks once per series on
 * every protobuf scrape, for its created timestamp); a put inserts into
 * the dense array (a move of the later times: once per series, under the
 * lock, at most the key space).  Memory: max_ids / 8 bytes of bits, half
 * that of counts, and 8 bytes per recorded series.  Nothing is ever
 * removed: a series, once created, exists until its source goes.
 *
 * Rejected: a parallel array of times beside the counters (8 bytes for
 * each of the ~8,800 cells of every source, +75% of a source's memory, for
 * the few dozen series a source really has); open addressing over (id,
 * time) pairs (what this file was first: a hash and a probe per get, and
 * a table of 16 bytes per slot at load 1/2 whose random probes missed the
 * cache on a render's walk over 10,000 series: protobuf renders were
 * slower than text); a lock-free table (puts are rare and gets are few, so
 * a mutex costs nothing measurable, and growth stays simple).
 */
#include "exporter/metrics/birthmap.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct birthmap {
	pthread_mutex_t lock;
	uint64_t *bits;   /* [words]: id k is bit k % 64 of word k / 64 */
	uint32_t *before; /* [words]: set bits in the words before */
	int64_t *ms;      /* [cap]: times of the set ids, in id order */
	size_t n, cap, words;
	uint32_t max_ids;
};

struct birthmap *birthmap_create(uint32_t max_ids)
{
	struct birthmap *m = calloc(1, sizeof(*m));

	if (!m) {
		return NULL;
	}
	m->max_ids = max_ids;
	m->words = ((size_t)max_ids + 63) / 64;
	m->bits = calloc(m->words ? m->words : 1, sizeof(*m->bits));
	m->before = calloc(m->words ? m->words : 1, sizeof(*m->before));
	if (!m->bits || !m->before || pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m->bits);
		free(m->before);
		free(m);
		return NULL;
	}
	return m;
}

void birthmap_destroy(struct birthmap *m)
{
	if (!m) {
		return;
	}
	pthread_mutex_destroy(&m->lock);
	free(m->bits);
	free(m->before);
	free(m->ms);
	free(m);
}

/* Set bits of x, without a library call where the CPU has no popcount
 * instruction in the baseline (x86-64 before -mpopcnt). */
static unsigned popcount64(uint64_t x)
{
	x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* The dense position of id: the set ids below it. */
static size_t rank(const struct birthmap *m, uint32_t id)
{
	uint64_t below = ((uint64_t)1 << (id % 64)) - 1;

	return m->before[id / 64] + popcount64(m->bits[id / 64] & below);
}

int birthmap_put(struct birthmap *m, uint32_t id, int64_t unix_ms)
{
	uint64_t bit = (uint64_t)1 << (id % 64);
	size_t at;
	int r = 0;

	if (id >= m->max_ids || unix_ms <= 0) {
		return -EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	if (m->bits[id / 64] & bit) {
		r = -EEXIST;
		goto out;
	}
	if (m->n == m->cap) {
		/* n never exceeds max_ids, so neither does the capacity. */
		size_t cap = m->cap ? m->cap * 2 : 32;
		cap = cap > m->max_ids ? m->max_ids : cap;
		int64_t *ms = realloc(m->ms, cap * sizeof(*ms));
		if (!ms) {
			r = -ENOMEM;
			goto out;
		}
		m->ms = ms;
		m->cap = cap;
	}
	at = rank(m, id);
	memmove(m->ms + at + 1, m->ms + at, (m->n - at) * sizeof(*m->ms));
	m->ms[at] = unix_ms;
	m->n++;
	m->bits[id / 64] |= bit;
	for (size_t w = id / 64 + 1; w < m->words; w++) {
		m->before[w]++;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

int64_t birthmap_get(struct birthmap *m, uint32_t id)
{
	int64_t ms = 0;

	pthread_mutex_lock(&m->lock);
	ms = birthmap_get_locked(m, id);
	pthread_mutex_unlock(&m->lock);
	return ms;
}

void birthmap_lock(struct birthmap *m)
{
	pthread_mutex_lock(&m->lock);
}

int64_t birthmap_get_locked(struct birthmap *m, uint32_t id)
{
	if (id >= m->max_ids || !(m->bits[id / 64] >> (id % 64) & 1)) {
		return 0;
	}
	return m->ms[rank(m, id)];
}

void birthmap_unlock(struct birthmap *m)
{
	pthread_mutex_unlock(&m->lock);
}

size_t birthmap_count(struct birthmap *m)
{
	size_t n;

	pthread_mutex_lock(&m->lock);
	n = m->n;
	pthread_mutex_unlock(&m->lock);
	return n;
}
