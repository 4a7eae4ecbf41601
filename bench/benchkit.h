/*
 * benchkit.h - the small pieces every benchmark program needs: clocks,
 * a comparison for qsort'ing timings, a count argument, a whole file read
 * into memory under a cap, a deterministic pseudo-random sequence.
 *
 * Rejected: a timing framework (warm-up, rounds, medians) shared by all
 * benchmarks; each measures something different in its own loop, and the
 * run* scripts interleave and summarise whole programs.
 */
#ifndef BENCH_BENCHKIT_H
#define BENCH_BENCHKIT_H

#include <stddef.h>
#include <stdint.h>

#define BENCHKIT_MAX_FILE (1024L * 1024L * 1024L) /* read_all's cap */

/* Wall-clock seconds (CLOCK_MONOTONIC). */
double benchkit_mono_s(void);

/* This process's CPU seconds (user + system): holds on a shared machine. */
double benchkit_cpu_s(void);

/* qsort comparison of doubles, ascending. */
int benchkit_cmp_double(const void *a, const void *b);

/* The leading decimal digits of s as a count (0 when none). */
size_t benchkit_count(const char *s);

/* The whole file at path (malloc'ed, one byte to spare); NULL
 * when it cannot be read or is over BENCHKIT_MAX_FILE. */
char *benchkit_read_all(const char *path, size_t *ret_len);

/* The next of xorshift64's sequence in *state (nonzero seed): the
 * benchmarks' generated inputs are the same run after run. */
uint64_t benchkit_xorshift(uint64_t *state);

#endif
