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

/* Embedded or allocated by the caller (zeroed: empty). */
struct exemplar {
	_Atomic uint32_t seq;
	_Atomic uint32_t kind_len; /* kind << 8 | length; 0: empty */
	_Atomic uint64_t value_bits;
	_Atomic int64_t ts_ms;
	_Atomic uint64_t id[EXEMPLAR_WORDS];
};

/* Writer: replace the exemplar.  kind: enum log_trace_kind (not 0), id of
 * 1..EXPO_EXEMPLAR_ID_MAX bytes (longer ones are cut), value, Unix ms.
 * Inline: it runs up to three times per line. */
static inline void exemplar_store(struct exemplar *e, unsigned kind, const char *id, size_t len,
                                  double value, int64_t ts_ms)
{
	uint32_t seq = atomic_load_explicit(&e->seq, memory_order_relaxed);
	unsigned char last[8] = {0};
	uint64_t bits;
	size_t full, rest;

	len = len > EXPO_EXEMPLAR_ID_MAX ? EXPO_EXEMPLAR_ID_MAX : len;
	full = len / 8;
	rest = len % 8;
	for (size_t k = 0; k < rest; k++) { /* the last partial word, zero-padded */
		last[k] = (unsigned char)id[full * 8 + k];
	}
	memcpy(&bits, &value, sizeof(bits));
	atomic_store_explicit(&e->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	/* Whole words straight from the id (constant-size copies: no call);
	 * the reader reassembles them in the same byte order. */
	for (size_t i = 0; i < full; i++) {
		uint64_t w;
		memcpy(&w, id + i * 8, 8);
		atomic_store_explicit(&e->id[i], w, memory_order_relaxed);
	}
	if (rest) {
		uint64_t w;
		memcpy(&w, last, 8);
		atomic_store_explicit(&e->id[full], w, memory_order_relaxed);
	}
	atomic_store_explicit(&e->kind_len, (uint32_t)(kind << 8 | len), memory_order_relaxed);
	atomic_store_explicit(&e->value_bits, bits, memory_order_relaxed);
	atomic_store_explicit(&e->ts_ms, ts_ms, memory_order_relaxed);
	atomic_store_explicit(&e->seq, seq + 2, memory_order_release);
}

/* Reader: copy e into *ret (label NULL when e is empty, or when the writer
 * kept replacing it during many tries).  Returns whether one was copied. */
bool exemplar_load(const struct exemplar *e, struct expo_exemplar *ret);

/* The exemplar label name for a kind ("request_id", "trace_id"). */
const char *exemplar_label(unsigned kind);

#endif
