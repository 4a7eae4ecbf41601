/*
 * fail_bench.c - what keeping the parse-failure sample costs (issue 10).
 *
 *   fail_bench [-r RUNS] [-p PRESET] FILE
 *
 * Reads FILE into memory and runs the ingest loop's per-line step over it
 * RUNS times in two variants, interleaved so drift hits both alike:
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

#include "exporter/parsefail.h"
#include "parsers/logparse.h"

#define MAX_FILE (1024L * 1024L * 1024L)
#define MAX_RUNS 101
#define BATCH 1024

static char *read_all(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (fp == NULL) {
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || n > MAX_FILE ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		goto out;
	}
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	*ret_len = (size_t)n;
out:
	fclose(fp);
	return buf;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct counts {
	uint64_t lines, errors, sampled;
};

/* One pass; ring NULL: baseline. */
static void pass(struct log_parser *p, struct parsefail_ring *ring, const char *buf, size_t len,
                 struct counts *c)
{
	struct log_record rec;
	uint64_t now_ms = mono_ms(), next_ms = 0;
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;
		c->lines++;
		if (logparse_line(p, buf + i, end - i, &rec) != 0) {
			c->errors++;
			if (ring && now_ms >= next_ms) {
				next_ms = parsefail_sample(ring, p, buf + i, end - i, now_ms, 0.0);
				c->sampled++;
			}
		}
		if (ring && c->lines % BATCH == 0) {
			now_ms = mono_ms();
		}
		i = end + 1;
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
	char *buf = read_all(path, &len);
	struct log_parser *p = NULL;
	struct parsefail_ring *ring = parsefail_ring_create("bench", preset);
	if (!buf || !ring || logparse_create(LOGPARSE_PRESET, preset, &p, NULL) < 0) {
		fprintf(stderr, "fail_bench: cannot read %s or build the parser\n", path);
		return 1;
	}
	for (long r = 0; r <= runs; r++) { /* run 0 warms up */
		for (int v = 0; v < 2; v++) {
			struct counts k = {0};
			double t0 = now();
			pass(p, v ? ring : NULL, buf, len, &k);
			double dt = now() - t0;
			if (r > 0) {
				t[v][r - 1] = dt;
				c[v].lines += k.lines;
				c[v].errors += k.errors;
				c[v].sampled += k.sampled;
			}
		}
	}
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
	printf("  lines diagnosed             %7.1f per run (%.3f s median run; ring of %d)\n",
	       (double)c[1].sampled / (double)runs, med[1], PARSEFAIL_RING);
	printf("  peak RSS                    %7ld KiB (file in memory: %zu KiB)\n", ru.ru_maxrss,
	       len / 1024);
	parsefail_ring_destroy(ring);
	logparse_destroy(p);
	free(buf);
	return 0;
}
