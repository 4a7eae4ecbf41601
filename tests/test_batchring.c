/*
 * test_batchring.c - the ordered batch ring (batchring.c): with 1, 2, 3
 * and 8 threads and rings of 2 to 10 batches, every submitted batch is
 * processed exactly once, by a thread context of the ring, and delivered
 * in submission order; a batch is never delivered before it is processed;
 * flush delivers everything and the ring is reusable after it; bad
 * arguments are refused; destroy with undelivered batches is clean.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exporter/batchring.h"

#define MAX_BATCHES 10u
#define MAX_CTX 8u

struct tbatch {
	uint64_t seq;       /* submission number, set by the filler */
	uint64_t sum;       /* work: a function of seq */
	int processed;      /* times processed */
	unsigned processor; /* ctx index that processed it */
};

struct tctx {
	unsigned index;
	atomic_uint count;
};

struct sink {
	uint64_t next; /* the seq expected next */
	uint64_t delivered;
	uint64_t by_ctx[MAX_CTX];
};

static uint64_t work_of(uint64_t seq)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 200; i++) {
		x ^= x >> 13;
		x *= 0xff51afd7ed558ccdu;
	}
	return x;
}

static void work(void *ctx, void *batch)
{
	struct tctx *c = ctx;
	struct tbatch *b = batch;

	b->sum = work_of(b->seq);
	b->processed++;
	b->processor = c->index;
	atomic_fetch_add(&c->count, 1u);
}

static void deliver(void *userdata, void *batch)
{
	struct sink *k = userdata;
	struct tbatch *b = batch;

	assert_int_equal(b->seq, k->next);
	assert_int_equal(b->processed, 1);
	assert_int_equal(b->sum, work_of(b->seq));
	k->by_ctx[b->processor]++;
	k->next++;
	k->delivered++;
	b->processed = 0;
}

static void run(unsigned threads, size_t n_batches, uint64_t total)
{
	struct tbatch store[MAX_BATCHES];
	struct tctx ctxs[MAX_CTX];
	void *batches[MAX_BATCHES], *ctx[MAX_CTX];
	struct sink k = {0};
	struct batchring *r = NULL;
	uint64_t seq = 0;

	memset(store, 0, sizeof(store));
	for (size_t i = 0; i < n_batches; i++) {
		batches[i] = &store[i];
	}
	for (unsigned i = 0; i < threads; i++) {
		ctxs[i].index = i;
		atomic_init(&ctxs[i].count, 0u);
		ctx[i] = &ctxs[i];
	}
	assert_int_equal(batchring_create(batches, n_batches, ctx, threads, work, deliver, &k, &r),
	                 0);
	struct tbatch *b = batchring_filling(r);
	assert_ptr_equal(b, &store[0]);
	for (int round = 0; round < 2; round++) {
		/* the second round checks the ring after a flush */
		for (uint64_t i = 0; i < total; i++) {
			b->seq = seq++;
			b = batchring_submit(r);
			assert_ptr_equal(b, batchring_filling(r));
		}
		batchring_flush(r);
		assert_int_equal(k.delivered, seq);
	}
	uint64_t processed = 0;
	for (unsigned i = 0; i < threads; i++) {
		processed += atomic_load(&ctxs[i].count);
		assert_int_equal(atomic_load(&ctxs[i].count), k.by_ctx[i]);
	}
	assert_int_equal(processed, 2 * total);
	batchring_destroy(r);
}

static void test_orders(void **state)
{
	(void)state;
	static const unsigned threads[] = {1, 2, 3, 8};
	static const size_t rings[] = {2, 3, 4, 10};

	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		for (size_t n = 0; n < sizeof(rings) / sizeof(rings[0]); n++) {
			run(threads[t], rings[n], 997);
		}
	}
}

static void never(void *a, void *b)
{
	(void)a;
	(void)b;
	fail();
}

static void test_bad_args(void **state)
{
	(void)state;
	struct tbatch store[2];
	void *batches[2] = {&store[0], &store[1]};
	struct tctx c = {0};
	void *ctx[1] = {&c};
	struct batchring *r = (struct batchring *)(uintptr_t)1;

	assert_int_equal(batchring_create(batches, 1, ctx, 1, work, never, NULL, &r), -EINVAL);
	assert_int_equal(batchring_create(batches, 2, ctx, 0, work, never, NULL, &r), -EINVAL);
	assert_int_equal(batchring_create(batches, 2, ctx, 1, NULL, never, NULL, &r), -EINVAL);
	assert_int_equal(batchring_create(batches, 2, ctx, 1, work, NULL, NULL, &r), -EINVAL);
	assert_int_equal(batchring_create(NULL, 2, ctx, 1, work, never, NULL, &r), -EINVAL);
	assert_ptr_equal(r, (struct batchring *)(uintptr_t)1); /* untouched */
	batchring_destroy(NULL);
}

/* Submitted but never flushed: destroy stops the workers, delivers nothing. */
static void test_destroy_pending(void **state)
{
	(void)state;
	struct tbatch store[4];
	struct tctx ctxs[3] = {{.index = 0}, {.index = 1}, {.index = 2}};
	void *batches[4] = {&store[0], &store[1], &store[2], &store[3]};
	void *ctx[3] = {&ctxs[0], &ctxs[1], &ctxs[2]};
	struct batchring *r = NULL;

	memset(store, 0, sizeof(store));
	assert_int_equal(batchring_create(batches, 4, ctx, 3, work, never, NULL, &r), 0);
	struct tbatch *b = batchring_filling(r);
	b->seq = 0;
	b = batchring_submit(r);
	b->seq = 1;
	(void)batchring_submit(r);
	batchring_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_orders),
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_destroy_pending),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
