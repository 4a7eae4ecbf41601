/*
 * birthmap.c - creation times of flat series (see birthmap.h).
 *
 * Open addressing over (id + 1, time) pairs, power-of-two capacity, load
 * at most 1/2, grown by doubling up to twice the id range (so a full key
 * space still fits).  Nothing is ever removed: a series, once created,
 * exists until its source goes.
 *
 * Rejected: a parallel array of times beside the counters (8 bytes for
 * each of the ~8,800 cells of every source, +75% of a source's memory, for
 * the few dozen series a source really has); a lock-free table (puts are
 * rare and gets are few, so a mutex costs nothing measurable, and growth
 * stays simple).
 */
#include "exporter/metrics/birthmap.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define BIRTHMAP_MIN_SLOTS 32u

struct slot {
	uint32_t key; /* id + 1; 0: empty */
	int64_t ms;
};

struct birthmap {
	pthread_mutex_t lock;
	struct slot *slots;
	size_t mask; /* slots - 1 */
	size_t n;
	uint32_t max_ids;
};

struct birthmap *birthmap_create(uint32_t max_ids)
{
	struct birthmap *m = calloc(1, sizeof(*m));

	if (!m) {
		return NULL;
	}
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return NULL;
	}
	m->max_ids = max_ids;
	return m;
}

void birthmap_destroy(struct birthmap *m)
{
	if (!m) {
		return;
	}
	pthread_mutex_destroy(&m->lock);
	free(m->slots);
	free(m);
}

static size_t hash_id(uint32_t id)
{
	uint32_t h = id * 0x9e3779b1u;

	return h ^ (h >> 15);
}

/* The slot holding key, or the empty slot where it would go. */
static struct slot *find(struct slot *slots, size_t mask, uint32_t key)
{
	size_t i = hash_id(key) & mask;

	while (slots[i].key && slots[i].key != key) {
		i = (i + 1) & mask;
	}
	return &slots[i];
}

static int grow(struct birthmap *m)
{
	size_t size = m->slots ? (m->mask + 1) * 2 : BIRTHMAP_MIN_SLOTS;
	struct slot *slots = calloc(size, sizeof(*slots));

	if (!slots) {
		return -ENOMEM;
	}
	for (size_t i = 0; m->slots && i <= m->mask; i++) {
		if (m->slots[i].key) {
			*find(slots, size - 1, m->slots[i].key) = m->slots[i];
		}
	}
	free(m->slots);
	m->slots = slots;
	m->mask = size - 1;
	return 0;
}

int birthmap_put(struct birthmap *m, uint32_t id, int64_t unix_ms)
{
	struct slot *s;
	int r = 0;

	if (id >= m->max_ids || unix_ms <= 0) {
		return -EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	/* Keep the load at most 1/2; n never exceeds max_ids, so neither does growth. */
	if (!m->slots || (m->n + 1) * 2 > m->mask + 1) {
		r = grow(m);
		if (r < 0) {
			goto out;
		}
	}
	s = find(m->slots, m->mask, id + 1);
	if (s->key) {
		r = -EEXIST;
		goto out;
	}
	*s = (struct slot){id + 1, unix_ms};
	m->n++;
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

int64_t birthmap_get(struct birthmap *m, uint32_t id)
{
	int64_t ms = 0;

	pthread_mutex_lock(&m->lock);
	if (m->slots) {
		ms = find(m->slots, m->mask, id + 1)->ms;
	}
	pthread_mutex_unlock(&m->lock);
	return ms;
}

void birthmap_lock(struct birthmap *m)
{
	pthread_mutex_lock(&m->lock);
}

int64_t birthmap_get_locked(struct birthmap *m, uint32_t id)
{
	return m->slots ? find(m->slots, m->mask, id + 1)->ms : 0;
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
