/*
 * metrics_idle.c - series_idle_timeout: removing field-label series that
 * counted no line for a while (see metrics.h).
 *
 * Each series of a source with a timeout has one more value cell, its
 * last-seen stamp: a line stores the idle clock there (idle_touch, one
 * store into a cache line the count writes anyway), and the clock is read
 * once per batch (metrics_observe_batch), every 1024 lines counted one by
 * one, and at each sweep, not per line.
 * metrics_source_sweep runs on the writer thread, piggy-backed on the
 * source's poll: at most every eighth of the timeout (1s to 1 min) it
 * takes the registry lock, but only with trylock (ingestion never waits
 * for a render; a busy lock is tried again at the next poll), and under it
 * compacts each family (series_family_sweep) and frees the label sets no
 * series has left (series_tuples_collect): scrapes walk the families under
 * that lock, so nothing they might read is moved or freed, and no dead
 * marks or epochs are needed.  The route cache holds pointers into the
 * moved values and is cleared after a sweep that removed something.  The
 * overflow series is never removed; a removed series' room counts back
 * against the series limit.  A series restored from a checkpoint starts
 * its idle time at the first sweep.  Idle time runs on the monotonic
 * clock (a wall-clock step must not remove live series), or on the
 * registry's injected clock in tests.
 *
 * Rejected: a stamp per label set (tuple) read through the route (one more
 * random access per line, and a label set's rare codes would live
 * forever); a sweep thread of its own (it would race the writer for the
 * families); reading the clock per line (a vDSO call per line measurably
 * slows ingestion).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/clock.h"
#include "exporter/metrics/metrics.h"
#include "exporter/metrics/metrics_impl.h"

int64_t metrics_idle_clock(const struct metrics_source *s)
{
	return s->clock->unix_ms ? clock_wall_ms(s->clock) : (int64_t)clock_mono_ms();
}

#define IDLE_SWEEP_MIN_MS 1000
#define IDLE_SWEEP_MAX_MS 60000
#define IDLE_MAX_MS (INT64_MAX / 4)

int metrics_source_set_idle_timeout(struct metrics_source *s, uint64_t idle_ms)
{
	size_t first[FAM_COUNT] = {0};

	if (idle_ms > (uint64_t)IDLE_MAX_MS) {
		return -EINVAL;
	}
	if (!s->tuples || idle_ms == 0 || s->idle_on) {
		/* no field labels: nothing to remove; already on: the cells exist */
		if (s->idle_on && idle_ms) {
			atomic_store_explicit(&s->idle_ms, (int64_t)idle_ms, memory_order_relaxed);
		}
		return s->idle_on && !idle_ms ? -EBUSY : 0;
	}
	for (unsigned f = 0; f < FAM_COUNT; f++) {
		if (s->fam[f] && series_family_count(s->fam[f])) {
			return -EBUSY;
		}
	}
	for (unsigned f = 0; f < FAM_COUNT; f++) {
		int r = s->fam[f] ? series_family_add_cells(s->fam[f], 1, &first[f]) : 0;
		if (r < 0) {
			return r; /* the families before have an unused cell: harmless */
		}
	}
	memcpy(s->idle_cell, first, sizeof(first));
	s->idle_on = true;
	s->idle_now = metrics_idle_clock(s);
	s->idle_next = s->idle_now;
	atomic_store_explicit(&s->idle_ms, (int64_t)idle_ms, memory_order_relaxed);
	return 0;
}

struct sweep_ctx {
	struct metrics_source *s;
	unsigned fam;
	int64_t now, idle_ms;
};

/* Free what a removed series' cells point to: the response counter's
 * exemplar, a duration histogram's native histogram and exemplars. */
static void series_free_pointers(struct metrics_source *s, unsigned fam, _Atomic uint64_t *v)
{
	if (fam == FAM_RESPONSES && !s->no_ex) {
		free(ex_get(&v[1]));
	}
	if (fam == FAM_REQUEST || fam == FAM_UPSTREAM) {
		const struct histogram *h = &s->hist[fam - FAM_REQUEST];
		if (h->on && h->native) {
			nhist_destroy(nh_get(&v[h->n_bounds + 2]));
		}
		if (h->ex_cell) {
			free(ex_get(&v[h->ex_cell]));
		}
	}
}

/* series_gone_fn: a series idle for the timeout goes (its pointers freed). */
static bool series_idle(const struct series_key *key, _Atomic uint64_t *v, void *ctx)
{
	struct sweep_ctx *c = ctx;
	_Atomic uint64_t *stamp = &v[c->s->idle_cell[c->fam]];
	int64_t seen = (int64_t)get(stamp);

	(void)key;
	if (seen == 0) {
		/* restored from a checkpoint, no line yet: its idle time starts now */
		atomic_store_explicit(stamp, (uint64_t)c->now, memory_order_relaxed);
		return false;
	}
	if (c->now - seen < c->idle_ms) {
		return false;
	}
	series_free_pointers(c->s, c->fam, v);
	return true;
}

int metrics_source_sweep(struct metrics_source *s)
{
	struct sweep_ctx c = {s, 0, 0, 0};
	size_t removed = 0, freed;
	int64_t every;

	if (!s->idle_on) {
		return 0;
	}
	c.now = s->idle_now = metrics_idle_clock(s);
	if (c.now < s->idle_next) {
		return 0;
	}
	/* Readers walk the families under the registry lock: with it, series
	 * can be moved and freed at once.  A render holds it: next time. */
	if (pthread_mutex_trylock(s->render_lock) != 0) {
		return -EBUSY;
	}
	c.idle_ms = atomic_load_explicit(&s->idle_ms, memory_order_relaxed);
	every = c.idle_ms / 8;
	every = every < IDLE_SWEEP_MIN_MS   ? IDLE_SWEEP_MIN_MS
	        : every > IDLE_SWEEP_MAX_MS ? IDLE_SWEEP_MAX_MS
	                                    : every;
	s->idle_next = c.now + every;
	for (c.fam = 0; c.fam < FAM_COUNT; c.fam++) {
		removed += s->fam[c.fam] ? series_family_sweep(s->fam[c.fam], series_idle, &c) : 0;
	}
	if (removed) {
		/* Routes point into the moved values; tuples no series has go
		 * (out of memory: they stay, and new label sets may overflow). */
		routecache_clear(s->routes);
		(void)series_tuples_collect(s->tuples, s->fam, FAM_COUNT, &freed);
		inc(&s->counters[METRICS_SERIES_REMOVED], removed);
	}
	pthread_mutex_unlock(s->render_lock);
	return removed > INT32_MAX ? INT32_MAX : (int)removed;
}
