/*
 * exemplar.c - the most recent exemplar of one series or bucket (see
 * exemplar.h): a sequence-counted slot, written by one thread.
 */
#include "exporter/metrics/exemplar.h"

#include <string.h>

#include "parsers/record.h"

#define RLX memory_order_relaxed

static bool load_once(const struct exemplar *e, struct expo_exemplar *ret)
{
	uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
	uint64_t words[EXEMPLAR_WORDS], bits;
	uint32_t kl;
	size_t len;

	if (s1 & 1) {
		return false;
	}
	kl = atomic_load_explicit(&e->kind_len, RLX);
	len = kl & 0xff;
	len = len > EXPO_EXEMPLAR_ID_MAX ? EXPO_EXEMPLAR_ID_MAX : len;
	for (size_t i = 0; i < (len + 7) / 8; i++) {
		words[i] = atomic_load_explicit(&e->id[i], RLX);
	}
	bits = atomic_load_explicit(&e->value_bits, RLX);
	ret->ts_ms = atomic_load_explicit(&e->ts_ms, RLX);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&e->seq, RLX) != s1) {
		return false;
	}
	ret->label = kl ? exemplar_label(kl >> 8) : NULL;
	ret->id_len = len;
	memcpy(ret->id, words, len);
	memcpy(&ret->value, &bits, sizeof(bits));
	return true;
}

bool exemplar_load(const struct exemplar *e, struct expo_exemplar *ret)
{
	for (int tries = 0; tries < 1000; tries++) {
		if (load_once(e, ret)) {
			return ret->label != NULL;
		}
	}
	ret->label = NULL;
	return false;
}

const char *exemplar_label(unsigned kind)
{
	return kind == LOG_TRACE_REQUEST_ID ? "request_id" : "trace_id";
}
