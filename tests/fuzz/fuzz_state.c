/*
 * fuzz_state.c - libFuzzer target for the checkpoint parser (state.c).
 *
 * Each input is parsed twice: as is (almost always refused by the
 * checksum), and sealed with a correct checksum so the fuzzer reaches the
 * record parser.  Invariants: a parsed state re-serialised with the writer
 * parses again to the same shape (sources, names, patterns, files, flags,
 * counters); nothing crashes, leaks or reads out of bounds (ASan/UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(const struct state *a, const struct state *b)
{
	if (a->n_sources != b->n_sources) {
		abort();
	}
	for (size_t i = 0; i < a->n_sources; i++) {
		const struct state_source *x = &a->sources[i], *y = &b->sources[i];
		if (strcmp(x->name, y->name) != 0 || x->n_patterns != y->n_patterns ||
		    x->n_files != y->n_files || x->counters_len != y->counters_len ||
		    memcmp(x->counters, y->counters, x->counters_len) != 0) {
			abort();
		}
		for (size_t k = 0; k < x->n_files; k++) {
			if (strcmp(x->files[k].path, y->files[k].path) != 0 ||
			    x->files[k].pos.offset != y->files[k].pos.offset ||
			    x->files[k].pos.skipping != y->files[k].pos.skipping ||
			    x->files[k].retired != y->files[k].retired ||
			    memcmp(&x->files[k].pos.id, &y->files[k].pos.id,
			           sizeof(x->files[k].pos.id))) {
				abort();
			}
		}
	}
}

static void round_trip(const struct state *st)
{
	struct strbuf b;
	struct state *again = NULL;

	strbuf_init(&b, STATE_MAX_BYTES);
	state_begin(&b);
	for (size_t i = 0; i < st->n_sources; i++) {
		const struct state_source *s = &st->sources[i];
		state_add_source(&b, s->name);
		for (size_t k = 0; k < s->n_patterns; k++) {
			state_add_pattern(&b, s->patterns[k]);
		}
		for (size_t k = 0; k < s->n_files; k++) {
			state_add_file(&b, s->files[k].path, &s->files[k].pos, s->files[k].retired);
		}
		state_end_source(&b, s->counters, s->counters_len);
	}
	if (state_finish(&b) != 0 || state_parse(b.data, b.len, &again) != 0) {
		abort();
	}
	same_or_abort(st, again);
	state_destroy(again);
	strbuf_finish(&b);
}

static void parse(const char *data, size_t len)
{
	struct state *st = NULL;

	if (state_parse(data, len, &st) == 0) {
		round_trip(st);
		state_destroy(st);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf b;

	if (size > 1 << 20) {
		return 0;
	}
	parse((const char *)data, size);
	strbuf_init(&b, 2u << 20);
	(void)strbuf_append(&b, data, size);
	if (state_finish(&b) == 0) {
		parse(b.data, b.len);
	}
	strbuf_finish(&b);
	return 0;
}
