/*
 * render_bench.c - scrape cost and the price of histograms and field labels.
 *
 * Usage: render_bench [--renders N] [--observations N] [--case flat-text|flat-protobuf]
 *
 * 1. Rendering: a registry of 20 sources x 500 (method, code) response
 *    series (10,000 series plus the fixed families), rendered N times in
 *    the text format, in OpenMetrics, in protobuf, and each + gzip; and one
 *    source with a field label of 10,000 distinct values (text, protobuf).
 *    Prints the median ms per render and protobuf's ratio to text (wall
 *    and CPU time).  --case renders only the flat registry in one format,
 *    for instruction counts.
 * 2. Ingestion: metrics_observe on pre-parsed records, status only versus
 *    with request and upstream times (two histograms), and with a field label
 *    (cached tuple lookups); prints observations/s and the histogram ratio.
 *    The records cycle through a realistic mix of methods, codes and times.
 * The whole-exporter comparison (parse + count, --once) is in bench/run-render.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/benchkit.h"
#include "exporter/http/compress.h"
#include "exporter/metrics/metrics.h"
#include "parsers/status.h"

#define N_SOURCES 20
#define CODES_PER_SOURCE 500
#define RECORDS 4096

static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static struct metrics *registry_with(size_t limit, uint64_t hold_ms, bool created)
{
	struct metrics_options o = {.request_buckets = buckets,
	                            .n_request_buckets = N_BUCKETS,
	                            .upstream_buckets = buckets,
	                            .n_upstream_buckets = N_BUCKETS,
	                            .series_limit = limit,
	                            .new_series_hold_ms = hold_ms,
	                            .created_timestamps = created};
	struct metrics *m = metrics_create(&o);
	if (!m) {
		fprintf(stderr, "metrics_create failed\n");
		exit(1);
	}
	return m;
}

static struct metrics *registry(size_t limit)
{
	return registry_with(limit, 0, false);
}

static size_t count_samples(const char *text, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if ((i == 0 || text[i - 1] == '\n') && text[i] != '#') {
			n++;
		}
	}
	return n;
}

/* Median ms of renders of m in format f (gzip: compress each render too). */
static double time_render(struct metrics *m, enum expo_format f, bool gz, size_t renders,
                          size_t *ret_samples, size_t *ret_bytes)
{
	double *ms = calloc(renders, sizeof(*ms));
	struct strbuf b;

	strbuf_init(&b, 256u * 1024u * 1024u);
	for (size_t i = 0; i < renders; i++) {
		char *z = NULL;
		size_t zlen = 0;
		strbuf_reset(&b);
		double t0 = benchkit_mono_s();
		if (metrics_render(m, f, &b) < 0) {
			fprintf(stderr, "render failed\n");
			exit(1);
		}
		expo_end(&b, f);
		if (gz && compress_gzip(b.data, b.len, COMPRESS_DEFAULT_LEVEL, &z, &zlen) < 0) {
			fprintf(stderr, "gzip failed\n");
			exit(1);
		}
		ms[i] = (benchkit_mono_s() - t0) * 1000;
		free(z);
		*ret_bytes = gz ? zlen : b.len;
	}
	*ret_samples = count_samples(b.data, b.len);
	qsort(ms, renders, sizeof(*ms), benchkit_cmp_double);
	double med = ms[renders / 2];
	free(ms);
	strbuf_finish(&b);
	return med;
}

/* Median ms of format a and of format b, renders alternating between the
 * two so that a machine's changing load weighs on both alike; and the
 * ratio of their median CPU times (b / a), which holds on a loaded machine. */
static void time_pair(struct metrics *m, enum expo_format a, enum expo_format b, size_t renders,
                      double *ret_a, double *ret_b, size_t *ret_bytes_b, double *ret_cpu_ratio)
{
	double *ms[2] = {calloc(renders, sizeof(double)), calloc(renders, sizeof(double))};
	double *cpu[2] = {calloc(renders, sizeof(double)), calloc(renders, sizeof(double))};
	enum expo_format f[2] = {a, b};
	struct strbuf buf;

	if (!ms[0] || !ms[1] || !cpu[0] || !cpu[1]) {
		exit(1);
	}
	strbuf_init(&buf, 256u * 1024u * 1024u);
	for (size_t i = 0; i < renders; i++) {
		for (int k = 0; k < 2; k++) {
			strbuf_reset(&buf);
			double c0 = benchkit_cpu_s(), t0 = benchkit_mono_s();
			if (metrics_render(m, f[k], &buf) < 0) {
				fprintf(stderr, "render failed\n");
				exit(1);
			}
			expo_end(&buf, f[k]);
			ms[k][i] = (benchkit_mono_s() - t0) * 1000;
			cpu[k][i] = (benchkit_cpu_s() - c0) * 1000;
		}
	}
	*ret_bytes_b = buf.len;
	for (int k = 0; k < 2; k++) {
		qsort(ms[k], renders, sizeof(double), benchkit_cmp_double);
		qsort(cpu[k], renders, sizeof(double), benchkit_cmp_double);
	}
	*ret_a = ms[0][renders / 2];
	*ret_b = ms[1][renders / 2];
	*ret_cpu_ratio = cpu[1][renders / 2] / cpu[0][renders / 2];
	for (int k = 0; k < 2; k++) {
		free(ms[k]);
		free(cpu[k]);
	}
	strbuf_finish(&buf);
}

/* N_SOURCES sources of CODES_PER_SOURCE response series each (100 codes x
 * 5 methods), per_series lines per series.  timed: the lines carry request
 * and upstream times spread over five decades, so every histogram (classic
 * and, when on, native) has many populated buckets; label: a static label
 * on every source, or NULL. */
static void fill_sources(struct metrics *m, const struct config_label *label, unsigned per_series,
                         bool timed)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
	for (int si = 0; si < N_SOURCES; si++) {
		struct metrics_source *s;
		char name[32];
		(void)snprintf(name, sizeof(name), "site%02d", si);
		if (metrics_add_source(m, name, label, label ? 1 : 0, NULL, 0, &s, NULL, 0) < 0) {
			exit(1);
		}
		for (unsigned k = 0; k < CODES_PER_SOURCE * per_series; k++) {
			struct log_record r;
			unsigned series = k % CODES_PER_SOURCE;
			memset(&r, 0, sizeof(r));
			r.method =
			    (struct str_view){methods[series % 5], strlen(methods[series % 5])};
			r.status_slot = status_slot_from_code(100 + (series / 5) * 5);
			r.bytes_sent = 1000 + k;
			r.has_bytes = true;
			if (timed) {
				r.request_time = 0.0001 * (double)(1u + (k * 7919u) % 100000u);
				r.has_request_time = true;
				r.upstream_time = r.request_time * 0.9;
				r.has_upstream_time = true;
			}
			metrics_observe(s, &r);
		}
	}
}

/* One line per series, a static label on every source: no histograms. */
static void fill_flat(struct metrics *m)
{
	static const struct config_label env = {(char *)"env", (char *)"prod"};
	fill_sources(m, &env, 1, false);
}

static void fill_field_labels(struct metrics *m)
{
	static const struct config_field_label fl = {.name = (char *)"vhost",
	                                             .field = CONFIG_FIELD_VHOST};
	struct metrics_source *s;
	char host[32];

	if (metrics_add_source(m, "vhosts", NULL, 0, &fl, 1, &s, NULL, 0) < 0) {
		exit(1);
	}
	for (unsigned k = 0; k < 10000; k++) {
		struct log_record r;
		memset(&r, 0, sizeof(r));
		int n = snprintf(host, sizeof(host), "host%05u.example.com", k);
		r.vhost = (struct str_view){host, (size_t)n};
		r.method = (struct str_view){"GET", 3};
		r.status_slot = status_slot_from_code(200);
		metrics_observe(s, &r);
	}
}

static void bench_render(size_t renders)
{
	struct metrics *flat = registry(0), *dyn = registry(20000);
	size_t samples, bytes;
	double ms;

	fill_flat(flat);
	fill_field_labels(dyn);
	ms = time_render(flat, EXPO_TEXT, false, renders, &samples, &bytes);
	printf("render text,        %zu samples (%d x %d response series): %.2f ms (%zu bytes)\n",
	       samples, N_SOURCES, CODES_PER_SOURCE, ms, bytes);
	ms = time_render(flat, EXPO_OPENMETRICS, false, renders, &samples, &bytes);
	printf("render openmetrics, %zu samples: %.2f ms (%zu bytes)\n", samples, ms, bytes);
	ms = time_render(flat, EXPO_TEXT, true, renders, &samples, &bytes);
	printf("render text + gzip, %zu samples: %.2f ms (%zu bytes gzipped)\n", samples, ms,
	       bytes);
	ms = time_render(dyn, EXPO_TEXT, false, renders, &samples, &bytes);
	printf("render text, field label with 10000 values, %zu samples: %.2f ms\n", samples, ms);
	/* Protobuf (always with created timestamps) against text, alternating. */
	double text_ms, cpu_ratio;
	time_pair(flat, EXPO_TEXT, EXPO_PROTOBUF, renders, &text_ms, &ms, &bytes, &cpu_ratio);
	printf("render protobuf,    same registry: %.2f ms (%zu bytes); text %.2f ms in the same "
	       "loop: protobuf/text %.2f (CPU time %.2f)\n",
	       ms, bytes, text_ms, ms / text_ms, cpu_ratio);
	ms = time_render(flat, EXPO_PROTOBUF, true, renders, &samples, &bytes);
	printf("render protobuf + gzip: %.2f ms (%zu bytes gzipped)\n", ms, bytes);
	time_pair(dyn, EXPO_TEXT, EXPO_PROTOBUF, renders, &text_ms, &ms, &bytes, &cpu_ratio);
	printf("render protobuf, field label with 10000 values: %.2f ms; text %.2f ms: "
	       "protobuf/text %.2f (CPU time %.2f)\n",
	       ms, text_ms, ms / text_ms, cpu_ratio);
	metrics_destroy(flat);
	metrics_destroy(dyn);
	/* Histograms, classic only and with native histograms (schema 3, 160
	 * buckets at most): protobuf against text in the same loop.  Text never
	 * carries the native buckets; protobuf carries both. */
	for (int native = 0; native <= 1; native++) {
		struct metrics_options o = {.request_buckets = buckets,
		                            .n_request_buckets = N_BUCKETS,
		                            .upstream_buckets = buckets,
		                            .n_upstream_buckets = N_BUCKETS,
		                            .native_histograms = native,
		                            .native_schema = 3,
		                            .native_max_buckets = 160};
		struct metrics *hm = metrics_create(&o);
		if (!hm) {
			exit(1);
		}
		fill_sources(hm, NULL, 20, true);
		time_pair(hm, EXPO_TEXT, EXPO_PROTOBUF, renders, &text_ms, &ms, &bytes, &cpu_ratio);
		printf("render with histograms (%s): protobuf %.2f ms (%zu bytes); text %.2f ms: "
		       "protobuf/text %.2f (CPU time %.2f)\n",
		       native ? "classic + native" : "classic only", ms, bytes, text_ms,
		       ms / text_ms, cpu_ratio);
		metrics_destroy(hm);
	}
	/* The new-series hold at its most expensive: every series is young, so
	 * every flat sample asks its source's birthmap; and _created samples,
	 * which ask it for every series on every render. */
	flat = registry_with(0, 3600u * 1000u, false);
	fill_flat(flat);
	ms = time_render(flat, EXPO_TEXT, false, renders, &samples, &bytes);
	printf("render text, every series young (hold on), %zu samples: %.2f ms\n", samples, ms);
	metrics_destroy(flat);
	flat = registry_with(0, 0, true);
	fill_flat(flat);
	ms = time_render(flat, EXPO_OPENMETRICS, false, renders, &samples, &bytes);
	printf("render openmetrics + _created, %zu samples: %.2f ms (%zu bytes)\n", samples, ms,
	       bytes);
	metrics_destroy(flat);
	dyn = registry_with(20000, 3600u * 1000u, true);
	fill_field_labels(dyn);
	ms = time_render(dyn, EXPO_OPENMETRICS, false, renders, &samples, &bytes);
	printf("render openmetrics + _created, field label 10000 values, all young, %zu samples: "
	       "%.2f ms\n",
	       samples, ms);
	metrics_destroy(dyn);
}

enum mode { STATUS_ONLY, HISTOGRAMS, FIELD_LABEL };

static double bench_observe(enum mode mode, size_t n)
{
	static const char *const methods[] = {"GET", "GET", "GET", "POST", "HEAD", "PUT"};
	static const unsigned codes[] = {200, 200, 200, 200, 304, 404, 301, 500, 502, 499};
	static const struct config_rule rule = {(char *)"(?:www\\.)?(.+)", (char *)"$1"};
	static const struct config_field_label fl = {.name = (char *)"vhost",
	                                             .field = CONFIG_FIELD_VHOST,
	                                             .rules = (struct config_rule *)&rule,
	                                             .n_rules = 1};
	static struct log_record recs[RECORDS];
	static char hosts[RECORDS][32];
	struct metrics *m = registry(0);
	struct metrics_source *s;

	if (metrics_add_source(m, "b", NULL, 0, mode == FIELD_LABEL ? &fl : NULL,
	                       mode == FIELD_LABEL, &s, NULL, 0) < 0) {
		exit(1);
	}
	for (size_t i = 0; i < RECORDS; i++) {
		struct log_record *r = &recs[i];
		memset(r, 0, sizeof(*r));
		r->method = (struct str_view){methods[i % 6], strlen(methods[i % 6])};
		r->status_slot = status_slot_from_code(codes[(i * 7) % 10]);
		r->bytes_sent = 500 + i;
		r->has_bytes = true;
		int len = snprintf(hosts[i], sizeof(hosts[i]), "www.site%zu.example", i % 20);
		r->vhost = (struct str_view){hosts[i], (size_t)len};
		if (mode != STATUS_ONLY) {
			r->request_time = 0.001 * (double)((i * 37) % 3000);
			r->has_request_time = true;
			r->upstream_time = r->request_time * 0.8;
			r->has_upstream_time = i % 5 != 0;
		}
	}
	double t0 = benchkit_mono_s();
	for (size_t i = 0; i < n; i++) {
		metrics_observe(s, &recs[i % RECORDS]);
	}
	double dt = benchkit_mono_s() - t0;
	uint64_t check = 0;
	for (unsigned k = 0; k < 10; k++) {
		check += metrics_get_responses(s, status_slot_from_code(codes[k]));
	}
	if (check < n) { /* codes repeat in the table, so the sum over it counts them twice */
		fprintf(stderr, "count mismatch\n");
		exit(1);
	}
	metrics_destroy(m);
	return (double)n / dt;
}

static void bench_ingest(size_t n)
{
	double best[3] = {0, 0, 0};

	for (int round = 0; round < 5; round++) {
		for (int mode = 0; mode < 3; mode++) {
			double r = bench_observe((enum mode)mode, n);
			best[mode] = r > best[mode] ? r : best[mode];
		}
	}
	printf("observe status only:              %.1f M records/s\n", best[0] / 1e6);
	printf("observe with 2 histograms:        %.1f M records/s (%.0f%% of status only)\n",
	       best[1] / 1e6, 100 * best[1] / best[0]);
	printf("observe histograms + field label: %.1f M records/s (%.0f%% of status only)\n",
	       best[2] / 1e6, 100 * best[2] / best[0]);
}

/* --case: only renders of the flat registry in one format (for an
 * instruction count under valgrind --tool=callgrind, which holds under any
 * load: bench/run-render compares the two counts). */
static int run_case(const char *name, size_t renders)
{
	static const struct {
		const char *name;
		enum expo_format f;
	} cases[] = {{"flat-text", EXPO_TEXT}, {"flat-protobuf", EXPO_PROTOBUF}};
	struct metrics *flat;
	struct strbuf b;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		if (strcmp(name, cases[c].name) != 0) {
			continue;
		}
		flat = registry(0);
		fill_flat(flat);
		strbuf_init(&b, 256u * 1024u * 1024u);
		for (size_t i = 0; i < renders; i++) {
			strbuf_reset(&b);
			if (metrics_render(flat, cases[c].f, &b) < 0) {
				fprintf(stderr, "render failed\n");
				exit(1);
			}
			expo_end(&b, cases[c].f);
		}
		printf("%s: %zu renders of %zu bytes\n", name, renders, b.len);
		strbuf_finish(&b);
		metrics_destroy(flat);
		return 0;
	}
	fprintf(stderr, "render_bench: unknown case %s (flat-text, flat-protobuf)\n", name);
	return 2;
}

int main(int argc, char **argv)
{
	size_t renders = 51, observations = 20000000;
	const char *only = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--renders") == 0) {
			renders = benchkit_count(argv[i + 1]);
		} else if (strcmp(argv[i], "--observations") == 0) {
			observations = benchkit_count(argv[i + 1]);
		} else if (strcmp(argv[i], "--case") == 0) {
			only = argv[i + 1];
		} else {
			fprintf(stderr, "usage: render_bench [--renders N] [--observations N] "
			                "[--case flat-text|flat-protobuf]\n");
			return 2;
		}
	}
	if (!renders || !observations) {
		fprintf(stderr, "render_bench: counts must be positive\n");
		return 2;
	}
	if (only) {
		return run_case(only, renders);
	}
	bench_render(renders);
	bench_ingest(observations);
	return 0;
}
