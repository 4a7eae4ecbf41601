/*
 * mem_floor.c - the floor under a field label with many values: what the
 * fewest memory touches a line needs cost on this machine, without any of
 * the exporter's code.
 *
 *   mem_floor [LINES] [ROUNDS] [MIB] [WORK]   (defaults: 1000000, 7, 8, 100)
 *
 * A line of a field label with 10,000 values must at least read its route
 * (the key compare) and add to its counters: random cache lines in a few
 * MiB (the exporter's 60,000 routes and 100,000 series take about 8 MiB),
 * while the line's own text streams by (118 bytes a line in
 * bench/rules_bench --log).  For k = 0 to 5 random lines a line, each read
 * and written once (an increment), in a table of MIB MiB, with the log
 * text streaming through a 128 MiB buffer and WORK rounds of arithmetic a
 * line standing in for the parse (100: about 1,500 instructions, what a
 * combined line costs the exporter without a field label; it fills the
 * core's reorder window, so one line's misses cannot overlap the next
 * line's on their own), this times LINES lines one at a time and with a
 * software prefetch 16 lines ahead (as metrics_observe_batch does), CPU ns
 * per line (median of ROUNDS), and
 * prints each k's cost above k = 0: the least a line can pay for k touches
 * however the tables are laid out.  A flat (no field label) line touches no
 * random line outside the core's caches (its counters are 68 KiB).
 *
 * Rejected: timing the exporter with its tables shrunk (that measures the
 * exporter's code as much as the memory); wall time (the VM is loaded).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchkit.h"

#define MAX_K 5
#define AHEAD 16u
#define MAX_ROUNDS 31
#define TEXT_BYTES (128u << 20)
#define LINE_TEXT 118u

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	return benchkit_xorshift(&rnd_state);
}

/* One pass: n lines, k random lines each (idx[line * MAX_K + j]), the text
 * of each line summed (streamed); prefetching ahead when pf.  Returns the
 * text sum so the compiler keeps the reads. */
static uint64_t pass(uint64_t *table, const uint32_t *idx, const unsigned char *text, size_t n,
                     unsigned k, int pf, unsigned work)
{
	uint64_t sum = 0, x = 1;
	size_t t = 0;

	for (size_t i = 0; i < n; i++) {
		if (pf && i + AHEAD < n) {
			for (unsigned j = 0; j < k; j++) {
				__builtin_prefetch(&table[(size_t)idx[(i + AHEAD) * MAX_K + j] * 8],
				                   1);
			}
		}
		for (unsigned c = 0; c < LINE_TEXT; c += 8) {
			uint64_t w;
			memcpy(&w, text + t + c, 8);
			sum += w;
		}
		for (unsigned w = 0; w < work; w++) {
			x = x * 0x9e3779b97f4a7c15ull + (sum >> (w & 31));
			x ^= x >> 29;
		}
		sum += x;
		t = t + LINE_TEXT + 8 < TEXT_BYTES ? t + LINE_TEXT : 0;
		for (unsigned j = 0; j < k; j++) {
			table[(size_t)idx[i * MAX_K + j] * 8]++;
		}
	}
	return sum;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? benchkit_count(argv[1]) : 1000000;
	int rounds = argc > 2 ? (int)benchkit_count(argv[2]) : 7;
	size_t mib = argc > 3 ? benchkit_count(argv[3]) : 8;
	unsigned work = argc > 4 ? (unsigned)benchkit_count(argv[4]) : 100;
	size_t lines = mib * 1024 * 1024 / 64;
	double t[2][MAX_K + 1][MAX_ROUNDS], med[2][MAX_K + 1];
	uint64_t *table = calloc(lines, 64);
	uint32_t *idx = malloc(n * MAX_K * sizeof(*idx));
	unsigned char *text = malloc(TEXT_BYTES);
	uint64_t sink = 0;

	if (rounds < 1 || rounds > MAX_ROUNDS || !n || !lines || !table || !idx || !text) {
		fprintf(stderr, "usage: mem_floor [LINES] [ROUNDS 1-31] [MIB] [WORK]\n");
		return 2;
	}
	memset(text, 'x', TEXT_BYTES);
	for (size_t i = 0; i < n * MAX_K; i++) {
		idx[i] = (uint32_t)(rnd() % lines);
	}
	(void)pass(table, idx, text, n, MAX_K, 0, work); /* every page touched once */
	for (int r = 0; r < rounds; r++) {
		for (unsigned k = 0; k <= MAX_K; k++) {
			for (int pf = 0; pf < 2; pf++) {
				double c0 = benchkit_cpu_s();
				sink += pass(table, idx, text, n, k, pf, work);
				t[pf][k][r] = (benchkit_cpu_s() - c0) * 1e9 / (double)n;
			}
		}
	}
	printf("random cache lines a line in %zu MiB, text streaming %u bytes and %u rounds of "
	       "work a line; CPU ns a line, median of %d\n",
	       mib, LINE_TEXT, work, rounds);
	for (unsigned k = 0; k <= MAX_K; k++) {
		for (int pf = 0; pf < 2; pf++) {
			qsort(t[pf][k], (size_t)rounds, sizeof(double), benchkit_cmp_double);
			med[pf][k] = t[pf][k][rounds / 2];
		}
		printf("k=%u  one at a time %6.1f ns (+%5.1f)   prefetched %6.1f ns (+%5.1f)\n", k,
		       med[0][k], med[0][k] - med[0][0], med[1][k], med[1][k] - med[1][0]);
	}
	free(table);
	free(idx);
	free(text);
	return sink == 42 ? 1 : 0;
}
