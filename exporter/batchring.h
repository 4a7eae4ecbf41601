/*
 * batchring.h - an ordered ring of batches: one thread fills them, every
 * core processes them, the filling thread gets them back in fill order.
 *
 * The core of linepool.c, the skeleton of the --threads pools: the caller
 * owns the batches and what they hold; the ring owns the worker threads
 * and the batches' states.
 * Design and trade-offs: top of batchring.c.
 */
#ifndef EXPORTER_BATCHRING_H
#define EXPORTER_BATCHRING_H

#include <stddef.h>

/* Process one batch, on any thread of the ring; ctx is that thread's
 * (batchring_create's ctx[i]).  Never two threads on one batch. */
typedef void batchring_work_fn(void *ctx, void *batch);

/* A processed batch, on the filling thread, oldest first.  When it
 * returns the batch is free: it will be filled again. */
typedef void batchring_deliver_fn(void *userdata, void *batch);

struct batchring;

/* A ring over batches[0..n_batches) (n_batches >= 2; borrowed for the
 * ring's life) with threads - 1 worker threads; ctx[0] is the filling
 * thread's context (it processes batches too while it waits), ctx[1..]
 * the workers'.  batches[0] is the first one filled.  0 and *ret_ring;
 * -EINVAL; -ENOMEM; -errno from pthread_create. */
int batchring_create(void *const *batches, size_t n_batches, void *const *ctx, unsigned threads,
                     batchring_work_fn *work, batchring_deliver_fn *deliver, void *userdata,
                     struct batchring **ret_ring);

/* The batch being filled (on the filling thread). */
void *batchring_filling(struct batchring *r);

/* Hand the filling batch to the workers; returns the next one to fill
 * (delivering the oldest first when the ring is full). */
void *batchring_submit(struct batchring *r);

/* Deliver every submitted batch.  The filling batch is not submitted:
 * the caller submits it first when it holds anything. */
void batchring_flush(struct batchring *r);

/* NULL-safe; stops and joins the workers.  Undelivered batches are not
 * delivered; the batches themselves are the caller's. */
void batchring_destroy(struct batchring *r);

#endif
