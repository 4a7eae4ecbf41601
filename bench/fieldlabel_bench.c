/*
 * fieldlabel_bench.c - what a field label costs the registry per line, in
 * steady state (every series already exists), without parsing.
 *
 *   fieldlabel_bench [RECORDS] [ROUNDS] [MODES]   (defaults: 1000000, 7, 7)
 *
 * Builds RECORDS pre-parsed combined-log records whose paths cycle
 * pseudo-randomly through 1, 100, 1,000 and 10,000 values (six status
 * codes, sizes), then for each value count times, interleaved round by
 * round, counting all records into a registry that has seen them once:
 *   flat    no field label (the flat arrays: the baseline),
 *   one     a field label on path, metrics_observe line by line,
 *   batch   the same, metrics_observe_batch 64 lines at a time (what the
 *           exporter does: source.c hands it whole blocks).
 * Prints CPU ns per record (median of ROUNDS) and each against flat.  The
 * whole exporter's figure (parsing included) is bench/run-fieldlabels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchkit.h"
#include "exporter/metrics/metrics.h"
#include "parsers/status.h"

#define BATCH 64u
#define MAX_ROUNDS 31

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	return benchkit_xorshift(&rnd_state);
}

enum mode { FLAT, ONE, BATCHED, N_MODES };

static struct metrics_source *make_source(struct metrics **ret_m, bool label)
{
	static const struct config_field_label fl = {.name = (char *)"route",
	                                             .field = CONFIG_FIELD_PATH};
	struct metrics_options o = {.series_limit = 1000000};
	struct metrics *m = metrics_create(&o);
	struct metrics_source *s;

	if (!m || metrics_add_source(m, "b", NULL, 0, label ? &fl : NULL, label, &s, NULL, 0) < 0) {
		fprintf(stderr, "cannot make a registry\n");
		exit(1);
	}
	*ret_m = m;
	return s;
}

static void count_all(struct metrics_source *s, const struct log_record *recs,
                      const struct log_record **ptrs, size_t n, enum mode mode)
{
	if (mode != BATCHED) {
		for (size_t i = 0; i < n; i++) {
			metrics_observe(s, &recs[i]);
		}
		return;
	}
	for (size_t i = 0; i < n; i += BATCH) {
		metrics_observe_batch(s, ptrs + i, n - i < BATCH ? n - i : BATCH);
	}
}

static void run(size_t n, size_t distinct, int rounds, unsigned modes)
{
	static const unsigned codes[] = {200, 200, 200, 200, 201, 204, 304, 404, 500, 502};
	struct log_record *recs = calloc(n, sizeof(*recs));
	const struct log_record **ptrs = calloc(n, sizeof(*ptrs));
	char *paths = calloc(distinct, 48);
	double t[N_MODES][MAX_ROUNDS];
	struct metrics *m[N_MODES];
	struct metrics_source *s[N_MODES];

	if (!recs || !ptrs || !paths) {
		exit(1);
	}
	for (size_t k = 0; k < distinct; k++) {
		(void)snprintf(paths + k * 48, 48, "/api/v1/items/%llu/detail",
		               (unsigned long long)(rnd() % 100000000));
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = paths + (rnd() % distinct) * 48;
		recs[i].method = (struct str_view){"GET", 3};
		recs[i].path = (struct str_view){p, strlen(p)};
		recs[i].status_slot = status_slot_from_code(codes[rnd() % 10]);
		recs[i].bytes_sent = rnd() % 50000;
		recs[i].has_bytes = true;
		ptrs[i] = &recs[i];
	}
	for (int mode = 0; mode < N_MODES; mode++) {
		s[mode] = make_source(&m[mode], mode != FLAT);
		count_all(s[mode], recs, ptrs, n, (enum mode)mode); /* every series exists */
	}
	for (int r = 0; r < rounds; r++) {
		for (int mode = 0; mode < N_MODES; mode++) {
			if (!(modes & (1u << mode))) {
				t[mode][r] = 0;
				continue;
			}
			double t0 = benchkit_cpu_s();
			count_all(s[mode], recs, ptrs, n, (enum mode)mode);
			t[mode][r] = (benchkit_cpu_s() - t0) / (double)n * 1e9;
		}
	}
	double med[N_MODES];
	for (int mode = 0; mode < N_MODES; mode++) {
		qsort(t[mode], (size_t)rounds, sizeof(double), benchkit_cmp_double);
		med[mode] = t[mode][rounds / 2];
		uint64_t sum = 0;
		for (unsigned k = 0; k < STATUS_SLOTS; k++) {
			sum += metrics_get_responses(s[mode], k);
		}
		if (modes == 7 && sum != n * (size_t)(rounds + 1)) {
			fprintf(stderr, "count mismatch: %llu\n", (unsigned long long)sum);
			exit(1);
		}
		metrics_destroy(m[mode]);
	}
	printf("%6zu values: flat %5.1f ns/line; field label: one by one %5.1f ns (+%.1f), "
	       "batched %5.1f ns (+%.1f)\n",
	       distinct, med[FLAT], med[ONE], med[ONE] - med[FLAT], med[BATCHED],
	       med[BATCHED] - med[FLAT]);
	free(recs);
	free(ptrs);
	free(paths);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? benchkit_count(argv[1]) : 1000000;
	int rounds = argc > 2 ? (int)benchkit_count(argv[2]) : 7;
	/* a third argument: the modes to time, a bit mask (1 flat, 2 one, 4 batch; for profiling)
	 */
	unsigned modes = argc > 3 ? (unsigned)benchkit_count(argv[3]) : 7;
	static const size_t distinct[] = {1, 100, 1000, 10000};

	if (!n || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: fieldlabel_bench [RECORDS] [ROUNDS <= %d]\n", MAX_ROUNDS);
		return 2;
	}
	for (size_t k = 0; k < sizeof(distinct) / sizeof(distinct[0]); k++) {
		run(n, distinct[k], rounds, modes);
	}
	return 0;
}
