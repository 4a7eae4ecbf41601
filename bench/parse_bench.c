/*
 * parse_bench.c - parser-only throughput: read a file into memory, parse
 * every line with one format, print lines/s.  Also a quick way to see which
 * lines of a real log a format rejects (-v).
 *
 *   parse_bench [-k KIND] [-f FORMAT] [-r REPEAT] [-i] [-P] [-v] FILE
 *
 * KIND is a preset or nginx/apache/json/regex (default combined); FORMAT the
 * format text for nginx/apache/json/regex; -i forces the pcre2 interpreter,
 * -P the pcre2 JIT instead of the generated formats' one-pass program.
 * No reading or counting cost is included: this measures logparse_line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/benchkit.h"
#include "parsers/logparse.h"

int main(int argc, char **argv)
{
	const char *kind_name = "combined", *format = NULL, *path = NULL;
	long repeat = 1;
	int verbose = 0;
	struct logparse_opts opts = {0};
	enum logparse_kind kind;
	struct logparse_error err;
	struct log_parser *p = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-k") == 0 && i + 1 < argc) {
			kind_name = argv[++i];
		} else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
			format = argv[++i];
		} else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
			repeat = 0;
			for (const char *c = argv[++i]; *c >= '0' && *c <= '9' && repeat < 1000000;
			     c++) {
				repeat = repeat * 10 + (*c - '0');
			}
		} else if (strcmp(argv[i], "-i") == 0) {
			opts.no_jit = true;
		} else if (strcmp(argv[i], "-P") == 0) {
			opts.no_linematch = true;
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
		} else {
			path = argv[i];
		}
	}
	if (path == NULL || logparse_kind_from_name(kind_name, &kind) < 0) {
		fprintf(stderr, "usage: parse_bench [-k KIND] [-f FORMAT] [-r N] [-i] [-v] FILE\n");
		return 2;
	}
	if (kind == LOGPARSE_PRESET) {
		format = kind_name;
	}
	if (logparse_create_opts(kind, format, &opts, &p, &err) < 0) {
		fprintf(stderr, "format error: %s\n", err.message);
		return 1;
	}
	size_t len = 0;
	char *buf = benchkit_read_all(path, &len);
	if (buf == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		logparse_destroy(p);
		return 1;
	}
	unsigned long lines = 0, ok = 0, bad = 0, big = 0;
	double sum = 0, t0 = benchkit_cpu_s();
	for (long rep = 0; rep < (repeat > 0 ? repeat : 1); rep++) {
		size_t pos = 0;
		while (pos < len) {
			const char *nl = memchr(buf + pos, '\n', len - pos);
			size_t end = nl != NULL ? (size_t)(nl - buf) : len;
			struct log_record r;
			int rc = logparse_line(p, buf + pos, end - pos, &r);
			lines++;
			if (rc == 0) {
				ok++;
				sum += (double)r.status_slot + r.request_time;
			} else {
				bad += rc == -EINVAL;
				big += rc == -E2BIG;
				if (verbose && rep == 0) {
					printf("%d: %.*s\n", rc, (int)(end - pos), buf + pos);
				}
			}
			pos = end + 1;
		}
	}
	double dt = benchkit_cpu_s() - t0;
	printf("%s lm=%d jit=%d lines=%lu ok=%lu einval=%lu e2big=%lu %.3fs %.2fM lines/s "
	       "%.1f MB/s (checksum %.0f)\n",
	       kind_name, logparse_is_linematch(p) ? 1 : 0, logparse_is_jit(p) ? 1 : 0, lines, ok,
	       bad, big, dt, (double)lines / dt / 1e6,
	       (double)len * (double)(repeat > 0 ? repeat : 1) / dt / 1e6, sum);
	free(buf);
	logparse_destroy(p);
	return 0;
}
