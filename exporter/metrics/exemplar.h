/*
 * exemplar.h - the most recent exemplar of one series or bucket.
 *
 * An exemplar links a sample to the request behind it: a request or trace
 * id from the log line (record.h trace_id), the observed value and the
 * line's time.  One slot per counter series and per histogram bucket keeps
 * only the latest, so memory is bounded by the series (and buckets) that
 * exist, and slots are allocated only once a line with an id comes.
 *
 * Concurrency: one writer (the ingest thread) overwrites a slot inside a
 * sequence count; readers (scrapes) copy it and retry when the count moved
 * or was odd, so a reader never sees half of one id and half of another.
 * Every field is an atomic (the id as 64-bit words): no data race.
 * Rejected: a lock per slot (a scrape could stall ingestion), a pointer
 * swap to a fresh copy per line (an allocation per line).
 */
#ifndef EXPORTER_EXEMPLAR_H
#define EXPORTER_EXEMPLAR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exporter/metrics/expo.h"

#define EXEMPLAR_WORDS (EXPO_EXEMPLAR_ID_MAX / 8)
_Static_assert(EXEMPLAR_WORDS == 8, "exemplar_put copies 4 or 8 words");

/* Embedded or allocated by the caller (zeroed: empty). */
struct exemplar {
	_Atomic uint32_t seq;
	_Atomic uint32_t kind_len; /* kind << 8 | length; 0: empty */
	_Atomic uint64_t value_bits;
	_Atomic int64_t ts_ms;
	_Atomic uint64_t id[EXEMPLAR_WORDS];
};

/* One line's exemplar id, prepared once per line (zero-padded words)
 * and stored into up to three slots (the response counter and the
 * buckets of its two times) by exemplar_put. */
struct exemplar_id {
	uint32_t kind_len; /* kind << 8 | length */
	uint32_t n_words;
	uint64_t w[EXEMPLAR_WORDS];
};

/* Prepare x from kind (enum log_trace_kind, not 0) and id of 1..
 * EXPO_EXEMPLAR_ID_MAX bytes (longer ones are cut). */
static inline void exemplar_id_init(struct exemplar_id *x, unsigned kind, const char *id,
                                    size_t len)
{
	size_t full, rest;
	unsigned char last[8] = {0};

	len = len > EXPO_EXEMPLAR_ID_MAX ? EXPO_EXEMPLAR_ID_MAX : len;
	full = len / 8;
	rest = len % 8;
	/* exemplar_put copies 4 words, or all 8: the ones past the id are 0
	 * (constant-size clears: no call). */
	if (len <= 32) {
		memset(x->w, 0, 4 * sizeof(x->w[0]));
	} else {
		memset(x->w, 0, sizeof(x->w));
	}
	/* Whole words straight from the id; the reader reassembles them in
	 * the same byte order. */
	for (size_t i = 0; i < full; i++) {
		memcpy(&x->w[i], id + i * 8, 8);
	}
	for (size_t k = 0; k < rest; k++) { /* the last partial word, zero-padded */
		last[k] = (unsigned char)id[full * 8 + k];
	}
	if (rest) {
		memcpy(&x->w[full], last, 8);
	}
	x->n_words = (uint32_t)(full + (rest != 0));
	x->kind_len = (uint32_t)(kind << 8 | len);
}

/* Writer: replace the exemplar with x, value and the time in Unix ms.
 * Inline: it runs up to three times per line. */
static inline void exemplar_put(struct exemplar *e, const struct exemplar_id *x, double value,
                                int64_t ts_ms)
{
	uint32_t seq = atomic_load_explicit(&e->seq, memory_order_relaxed);
	uint64_t bits;

	memcpy(&bits, &value, sizeof(bits));
	atomic_store_explicit(&e->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	/* A fixed count of words: 4 for the usual ids of up to 32 bytes
	 * (UUIDs, hex request and trace ids), else all 8. */
	if (__builtin_expect(x->n_words <= 4, 1)) {
		/* Written out: compilers do not unroll loops of atomic stores. */
		atomic_store_explicit(&e->id[0], x->w[0], memory_order_relaxed);
		atomic_store_explicit(&e->id[1], x->w[1], memory_order_relaxed);
		atomic_store_explicit(&e->id[2], x->w[2], memory_order_relaxed);
		atomic_store_explicit(&e->id[3], x->w[3], memory_order_relaxed);
	} else {
		for (uint32_t i = 0; i < EXEMPLAR_WORDS; i++) {
			atomic_store_explicit(&e->id[i], x->w[i], memory_order_relaxed);
		}
	}
	atomic_store_explicit(&e->kind_len, x->kind_len, memory_order_relaxed);
	atomic_store_explicit(&e->value_bits, bits, memory_order_relaxed);
	atomic_store_explicit(&e->ts_ms, ts_ms, memory_order_relaxed);
	atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
}

/* Writer: replace the exemplar (exemplar_id_init, then exemplar_put). */
static inline void exemplar_store(struct exemplar *e, unsigned kind, const char *id, size_t len,
                                  double value, int64_t ts_ms)
{
	struct exemplar_id x;

	exemplar_id_init(&x, kind, id, len);
	exemplar_put(e, &x, value, ts_ms);
}

/* Reader: copy e into *ret (label NULL when e is empty, or when the writer
 * kept replacing it during many tries).  Returns whether one was copied. */
bool exemplar_load(const struct exemplar *e, struct expo_exemplar *ret);

/* The exemplar label name for a kind ("request_id", "trace_id"). */
const char *exemplar_label(unsigned kind);

#endif
