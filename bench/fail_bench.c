/*
 * fail_bench.c - what keeping the parse-failure sample costs (issue 10).
 *
 *   fail_bench [-r RUNS] [-p PRESET] FILE
 *
 * Reads FILE into memory and runs the ingest loop's per-line step over it
 * RUNS times in two variants, interleaved per 256 KiB chunk (order
 * alternating) and timed in thread CPU time, so load from other processes
 * hits both alike:
 *   baseline: logparse_line, a failing line is one counter increment (the
 *             exporter before the sample existed);
 *   sample:   the same plus exporter/source.c's rule: a failing line whose
 *             poll clock is past next_ms is diagnosed into the ring
 *             (parsefail_sample), the clock read once per 1024 lines as a
 *             poll reads a bounded batch.
 * Prints the median lines/s of each, their ratio, how many lines were
 * diagnosed (bounded by time, not by lines) and the peak RSS.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/benchkit.h"
#include "exporter/parsefail.h"
#include "parsers/logparse.h"

#define MAX_RUNS 101
#define BATCH 1024
#define CHUNK (256u * 1024u)

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct counts {
	uint64_t lines, errors, sampled;
};

/* Sampling state that lives across chunks, as in a source. */
struct sampler {
	struct parsefail_ring *ring; /* NULL: baseline */
	uint64_t now_ms, next_ms;
};

/* The lines of buf[from, to) through one variant. */
static void pass(struct log_parser *p, struct sampler *sm, const char *buf, size_t from, size_t to,
                 struct counts *c)
{
	struct log_record rec;
	size_t i = from;

	while (i < to) {
		const char *nl = memchr(buf + i, '\n', to - i);
		size_t end = nl ? (size_t)(nl - buf) : to;
		c->lines++;
		if (logparse_line(p, buf + i, end - i, &rec) != 0) {
			c->errors++;
			if (sm->ring && sm->now_ms >= sm->next_ms) {
				sm->next_ms = parsefail_sample(sm->ring, p, buf + i, end - i,
				                               sm->now_ms, 0.0);
				c->sampled++;
			}
		}
		if (sm->ring && c->lines % BATCH == 0) {
			sm->now_ms = mono_ms();
		}
		i = end + 1;
	}
}

/* CPU time of this thread: other processes on a shared machine slow the
 * wall clock of both variants unevenly, much less their CPU time. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One run: the file in CHUNK-byte pieces (cut at newlines), each piece
 * through both variants, the order alternating, CPU times summed. */
static void run(struct log_parser *p, struct sampler sm[2], const char *buf, size_t len,
                double ret_t[2], struct counts c[2])
{
	size_t from = 0;
	unsigned k = 0;

	ret_t[0] = ret_t[1] = 0;
	while (from < len) {
		size_t to = from + CHUNK < len ? from + CHUNK : len;
		const char *nl = to < len ? memchr(buf + to, '\n', len - to) : NULL;
		to = nl ? (size_t)(nl - buf) + 1 : len;
		for (int j = 0; j < 2; j++) {
			int v = (int)((k + (unsigned)j) & 1u);
			double t0 = cpu_now();
			pass(p, &sm[v], buf, from, to, &c[v]);
			ret_t[v] += cpu_now() - t0;
		}
		k++;
		from = to;
	}
}

/* 1..MAX_RUNS digits, else -1 (STYLE.md: no strtol). */
static long parse_runs(const char *s)
{
	long v = 0;

	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > MAX_RUNS) {
			return -1;
		}
		v = v * 10 + (*s - '0');
	}
	return v;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *preset = "combined", *path = NULL;
	double t[2][MAX_RUNS];
	struct counts c[2] = {{0}};
	long runs = 5;
	size_t len = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
			runs = parse_runs(argv[++i]);
		} else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			preset = argv[++i];
		} else {
			path = argv[i];
		}
	}
	if (!path || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: fail_bench [-r RUNS (1-%d)] [-p PRESET] FILE\n", MAX_RUNS);
		return 2;
	}
	char *buf = benchkit_read_all(path, &len);
	struct log_parser *p = NULL;
	struct parsefail_ring *ring = parsefail_ring_create("bench", preset);
	if (!buf || !ring || logparse_create(LOGPARSE_PRESET, preset, &p, NULL) < 0) {
		fprintf(stderr, "fail_bench: cannot read %s or build the parser\n", path);
		return 1;
	}
	struct sampler sm[2] = {{NULL, 0, 0}, {ring, mono_ms(), 0}};
	uint64_t start_ms = mono_ms(), sampled = 0;
	for (long r = 0; r <= runs; r++) { /* run 0 warms up */
		struct counts k[2] = {{0}};
		double dt[2];
		run(p, sm, buf, len, dt, k);
		sampled += k[1].sampled;
		for (int v = 0; r > 0 && v < 2; v++) {
			t[v][r - 1] = dt[v];
			c[v].lines += k[v].lines;
			c[v].errors += k[v].errors;
		}
	}
	double wall = (double)(mono_ms() - start_ms) / 1000.0;
	double med[2];
	for (int v = 0; v < 2; v++) {
		qsort(t[v], (size_t)runs, sizeof(double), cmp);
		med[v] = t[v][runs / 2];
	}
	struct rusage ru;
	(void)getrusage(RUSAGE_SELF, &ru);
	double per_run = (double)c[0].lines / (double)runs;
	printf("%s, format %s: %.0f lines/run, %.1f%% fail, %ld runs\n", path, preset, per_run,
	       100.0 * (double)c[0].errors / (double)c[0].lines, runs);
	printf("  baseline (count failures)   %7.3f M lines/s\n", per_run / med[0] / 1e6);
	printf("  with the failure sample     %7.3f M lines/s\n", per_run / med[1] / 1e6);
	printf("  ratio sample/baseline       %7.3f\n", med[0] / med[1]);
	printf(
	    "  lines diagnosed             %7llu in %.1f s of wall time, %.0f M lines (at most %d "
	    "per %u s)\n",
	    (unsigned long long)sampled, wall,
	    (double)(c[0].lines + c[0].lines / (uint64_t)runs) / 1e6, PARSEFAIL_RING,
	    PARSEFAIL_BURST_MS / 1000u);
	printf("  peak RSS                    %7ld KiB (file in memory: %zu KiB)\n", ru.ru_maxrss,
	       len / 1024);
	parsefail_ring_destroy(ring);
	logparse_destroy(p);
	free(buf);
	return 0;
}
