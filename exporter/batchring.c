/*
 * batchring.c - the ordered batch ring (see batchring.h).
 *
 * The filling thread fills the batch at `fill`; submitting makes it READY
 * and moves `fill` on, once the next slot's previous content has been
 * delivered.  Workers take READY batches in ring order (`take`), process
 * them and mark them DONE.  Delivery runs on the filling thread, oldest
 * first (`deliver`): while that batch is not DONE, the filling thread
 * processes the next batch nobody has taken (the oldest itself, or a newer
 * one while a worker has the oldest) instead of waiting, so N threads are
 * N - 1 workers plus the filling thread, all busy.  One mutex and two
 * condition variables guard the states; a batch's contents are touched by
 * one thread at a time, and the state hand-over under the mutex orders the
 * memory between them.
 *
 * Used by linepool.c, the skeleton countpool.c, parsepool.c and
 * steppool.c share (each had grown a copy of it): what a batch holds and
 * what processing means is theirs.
 *
 * Rejected: a lock-free queue (a hand-over per batch of about 1 MiB of
 * lines costs nothing measurable under a mutex); delivering on the worker
 * that finished (file order would need a second ordering step, and the
 * counting side is not thread-safe).
 */
#include "exporter/batchring.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define MAX_THREADS 256u

enum batch_state { B_FREE, B_FILLING, B_READY, B_WORKING, B_DONE };

struct worker {
	struct batchring *ring;
	void *ctx;
	pthread_t thread;
	bool started;
};

struct batchring {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a batch became READY, or stop */
	pthread_cond_t done; /* a batch became DONE */
	void **batch;
	enum batch_state *state;
	size_t n;
	size_t fill, take, deliver; /* ring indexes */
	bool stop;
	struct worker *workers;
	size_t n_workers;
	void *own_ctx;
	batchring_work_fn *work_fn;
	batchring_deliver_fn *deliver_fn;
	void *userdata;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct batchring *r = w->ring;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->stop && r->state[r->take] != B_READY) {
			pthread_cond_wait(&r->work, &r->lock);
		}
		if (r->stop) {
			break;
		}
		size_t i = r->take;
		r->take = (r->take + 1) % r->n;
		r->state[i] = B_WORKING;
		pthread_mutex_unlock(&r->lock);
		r->work_fn(w->ctx, r->batch[i]);
		pthread_mutex_lock(&r->lock);
		r->state[i] = B_DONE;
		pthread_cond_broadcast(&r->done);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Deliver the oldest submitted batch (processing it here if no worker has). */
static void deliver_oldest(struct batchring *r)
{
	size_t d = r->deliver;

	pthread_mutex_lock(&r->lock);
	while (r->state[d] != B_DONE) {
		size_t i = r->take;
		if (r->state[i] == B_READY) {
			/* rather than wait: process the next batch nobody has taken */
			r->take = (r->take + 1) % r->n;
			r->state[i] = B_WORKING;
			pthread_mutex_unlock(&r->lock);
			r->work_fn(r->own_ctx, r->batch[i]);
			pthread_mutex_lock(&r->lock);
			r->state[i] = B_DONE;
			continue;
		}
		pthread_cond_wait(&r->done, &r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	r->deliver_fn(r->userdata, r->batch[d]);
	r->state[d] = B_FREE; /* only the filling thread reads FREE slots */
	r->deliver = (d + 1) % r->n;
}

void *batchring_filling(struct batchring *r)
{
	return r->batch[r->fill];
}

void *batchring_submit(struct batchring *r)
{
	pthread_mutex_lock(&r->lock);
	r->state[r->fill] = B_READY;
	pthread_cond_broadcast(&r->work);
	pthread_mutex_unlock(&r->lock);
	r->fill = (r->fill + 1) % r->n;
	if (r->state[r->fill] != B_FREE) {
		/* the ring is full: the next slot is the oldest */
		deliver_oldest(r);
	}
	r->state[r->fill] = B_FILLING;
	return r->batch[r->fill];
}

void batchring_flush(struct batchring *r)
{
	while (r->deliver != r->fill) {
		deliver_oldest(r);
	}
}

void batchring_destroy(struct batchring *r)
{
	if (!r) {
		return;
	}
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->work);
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; r->workers && i < r->n_workers; i++) {
		if (r->workers[i].started) {
			(void)pthread_join(r->workers[i].thread, NULL);
		}
	}
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->done);
	pthread_mutex_destroy(&r->lock);
	free(r->workers);
	free(r->state);
	free(r->batch);
	free(r);
}

static int start_workers(struct batchring *r, void *const *ctx)
{
	for (size_t i = 0; i < r->n_workers; i++) {
		struct worker *w = &r->workers[i];
		w->ring = r;
		w->ctx = ctx[i + 1];
		int e = pthread_create(&w->thread, NULL, worker_main, w);
		if (e != 0) {
			return -e;
		}
		w->started = true;
	}
	return 0;
}

int batchring_create(void *const *batches, size_t n_batches, void *const *ctx, unsigned threads,
                     batchring_work_fn *work, batchring_deliver_fn *deliver, void *userdata,
                     struct batchring **ret_ring)
{
	struct batchring *r;
	int e;

	if (!batches || n_batches < 2 || !ctx || threads < 1 || threads > MAX_THREADS || !work ||
	    !deliver) {
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		return -ENOMEM;
	}
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return -ENOMEM;
	}
	(void)pthread_cond_init(&r->work, NULL);
	(void)pthread_cond_init(&r->done, NULL);
	r->n = n_batches;
	r->batch = calloc(n_batches, sizeof(*r->batch));
	r->state = calloc(n_batches, sizeof(*r->state));
	r->n_workers = threads - 1u;
	r->workers = calloc(r->n_workers ? r->n_workers : 1, sizeof(*r->workers));
	if (!r->batch || !r->state || !r->workers) {
		batchring_destroy(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_batches; i++) {
		r->batch[i] = batches[i];
	}
	r->own_ctx = ctx[0];
	r->work_fn = work;
	r->deliver_fn = deliver;
	r->userdata = userdata;
	r->state[0] = B_FILLING;
	e = start_workers(r, ctx);
	if (e < 0) {
		batchring_destroy(r);
		return e;
	}
	*ret_ring = r;
	return 0;
}
