/*
 * benchkit.c - clocks, qsort comparison, counts and file reading for the
 * benchmark programs (see benchkit.h).
 */
#include "bench/benchkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(clockid_t id)
{
	struct timespec ts;
	(void)clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double benchkit_mono_s(void)
{
	return seconds(CLOCK_MONOTONIC);
}

double benchkit_cpu_s(void)
{
	return seconds(CLOCK_PROCESS_CPUTIME_ID);
}

int benchkit_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

size_t benchkit_count(const char *s)
{
	size_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (size_t)(*s - '0');
	}
	return v;
}

char *benchkit_read_all(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (fp == NULL) {
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || n > BENCHKIT_MAX_FILE ||
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

uint64_t benchkit_xorshift(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}
