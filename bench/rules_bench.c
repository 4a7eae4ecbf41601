/*
 * rules_bench.c - the cost of route mapping: 20 ordered rules against one.
 *
 * Usage: rules_bench [--values N] [--runs R]      the measurements below
 *        rules_bench --log N [K]                  a combined log of N lines
 *                                                 (K: cycling through K paths)
 *        rules_bench --config 1|20 LOGPATH        a config with that rule set
 *
 * A field label's rules run once per distinct raw value (series.c caches
 * the result), so what 20 rules cost is paid on cache misses.  This bench
 * calls series_tuples_lookup on N distinct request paths (every lookup a
 * miss) shaped like a REST API's routes, with one generic rule and with 20
 * specific rules in the order a user writes them: the first anchored match
 * wins, so a value matched by rule k runs k patterns, a value no rule
 * matches runs all 20.  A last case repeats 1,000 values (cache hits).
 * Prints the median ns per lookup over R runs and the ratio to one rule.
 * bench/run-rules adds the whole exporter (--once) on a log from --log with
 * configs from --config, so both views come from the same routes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/benchkit.h"
#include "exporter/metrics/series.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PATH_MAX_LEN 160

/* The 20 rules (pattern, replacement) and a path shape per rule. */
static const struct config_rule routes[] = {
    {(char *)"/api/v1/users/[0-9]+", (char *)"/api/v1/users/:id"},
    {(char *)"/api/v1/users/[0-9]+/orders", (char *)"/api/v1/users/:id/orders"},
    {(char *)"/api/v1/users/[0-9]+/orders/[0-9]+", (char *)"/api/v1/users/:id/orders/:id"},
    {(char *)"/api/v1/users/[0-9]+/addresses/[0-9]+", (char *)"/api/v1/users/:id/addresses/:id"},
    {(char *)"/api/v1/products/[0-9]+", (char *)"/api/v1/products/:id"},
    {(char *)"/api/v1/products/[0-9]+/reviews", (char *)"/api/v1/products/:id/reviews"},
    {(char *)"/api/v1/products/[0-9]+/reviews/[0-9]+", (char *)"/api/v1/products/:id/reviews/:id"},
    {(char *)"/api/v1/carts/[0-9a-f]{16}", (char *)"/api/v1/carts/:cart"},
    {(char *)"/api/v1/carts/[0-9a-f]{16}/items/[0-9]+", (char *)"/api/v1/carts/:cart/items/:id"},
    {(char *)"/api/v1/orders/[0-9]+/invoice", (char *)"/api/v1/orders/:id/invoice"},
    {(char *)"/api/v1/orders/[0-9]+/shipments/[0-9]+", (char *)"/api/v1/orders/:id/shipments/:id"},
    {(char *)"/api/v1/categories/[a-z0-9-]+/products", (char *)"/api/v1/categories/:slug/products"},
    {(char *)"/api/v2/users/[0-9]+/sessions/[0-9a-f]{16}",
     (char *)"/api/v2/users/:id/sessions/:session"},
    {(char *)"/images/[0-9]+x[0-9]+/[0-9a-f]{16}\\.(?:jpg|png|webp)",
     (char *)"/images/:size/:image"},
    {(char *)"/static/.*", (char *)"/static/*"},
    {(char *)"/assets/[a-z]+\\.[0-9a-f]{8}\\.(js|css)", (char *)"/assets/:bundle.$1"},
    {(char *)"/blog/[0-9]{4}/[0-9]{2}/[a-z0-9-]+", (char *)"/blog/:post"},
    {(char *)"/help/[a-z0-9-]+", (char *)"/help/:topic"},
    {(char *)"/webhooks/[a-z]+/[0-9a-f]{16}", (char *)"/webhooks/:provider/:token"},
    {(char *)"/downloads/[0-9]+\\.(pdf|csv)", (char *)"/downloads/:file.$1"},
};
#define N_ROUTES ARRAY_SIZE(routes)

/* One generic rule covering every shape above (the baseline): the first
 * one or two path segments. */
static const struct config_rule generic[] = {
    {(char *)"/(api/v[0-9]+/[a-z]+|[a-z]+)(?:/.*)?", (char *)"/$1"},
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	return benchkit_xorshift(&rng);
}

/* A path matched by rule k (0-based); k == N_ROUTES: matched by none.
 * Every path carries random ids, so values are distinct (cache misses). */
static void make_path(size_t k, char *out)
{
	unsigned long a = (unsigned long)(rnd() % 10000000u), b = (unsigned long)(rnd() % 100000u);
	unsigned long long h = (unsigned long long)rnd();
	int n;

	switch (k) {
	case 0:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/users/%lu", a);
		break;
	case 1:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/users/%lu/orders", a);
		break;
	case 2:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/users/%lu/orders/%lu", a, b);
		break;
	case 3:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/users/%lu/addresses/%lu", a, b);
		break;
	case 4:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/products/%lu", a);
		break;
	case 5:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/products/%lu/reviews", a);
		break;
	case 6:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/products/%lu/reviews/%lu", a, b);
		break;
	case 7:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/carts/%016llx", h);
		break;
	case 8:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/carts/%016llx/items/%lu", h, b);
		break;
	case 9:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/orders/%lu/invoice", a);
		break;
	case 10:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/orders/%lu/shipments/%lu", a, b);
		break;
	case 11:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/categories/c-%lu/products", a);
		break;
	case 12:
		n = snprintf(out, PATH_MAX_LEN, "/api/v2/users/%lu/sessions/%016llx", a, h);
		break;
	case 13:
		n = snprintf(out, PATH_MAX_LEN, "/images/%lux%lu/%016llx.webp", a % 2000, b % 2000,
		             h);
		break;
	case 14:
		n = snprintf(out, PATH_MAX_LEN, "/static/js/%lu/app.js", a);
		break;
	case 15:
		n = snprintf(out, PATH_MAX_LEN, "/assets/app.%08lx.css", (unsigned long)(h >> 32));
		break;
	case 16:
		n = snprintf(out, PATH_MAX_LEN, "/blog/2026/%02lu/post-%lu", a % 12 + 1, b);
		break;
	case 17:
		n = snprintf(out, PATH_MAX_LEN, "/help/topic-%lu", a);
		break;
	case 18:
		n = snprintf(out, PATH_MAX_LEN, "/webhooks/stripe/%016llx", h);
		break;
	case 19:
		n = snprintf(out, PATH_MAX_LEN, "/downloads/%lu.%s", a, b % 2 ? "pdf" : "csv");
		break;
	default:
		n = snprintf(out, PATH_MAX_LEN, "/api/v1/unknown/%lu/thing", a);
		break;
	}
	if (n < 0 || n >= PATH_MAX_LEN) {
		out[0] = '\0';
	}
}

/* which: rule index for every value, N_ROUTES for none, or -1 for uniform. */
static char *make_values(size_t n, int which, size_t distinct)
{
	char *v = malloc(n * PATH_MAX_LEN);

	if (!v) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (distinct && i >= distinct) {
			memcpy(v + i * PATH_MAX_LEN, v + (i % distinct) * PATH_MAX_LEN,
			       PATH_MAX_LEN);
			continue;
		}
		size_t k = which < 0 ? (size_t)(rnd() % N_ROUTES) : (size_t)which;
		make_path(k, v + i * PATH_MAX_LEN);
	}
	return v;
}

/* Median ns per lookup over runs, each run on fresh tuples (cold cache). */
/* One timed pass over the values: ns per lookup. */
static double pass(struct series_tuples *t, const char *values, size_t n, uint32_t *sink)
{
	double t0 = benchkit_mono_s();

	for (size_t i = 0; i < n; i++) {
		const char *p = values + i * PATH_MAX_LEN;
		struct log_record rec;
		memset(&rec, 0, sizeof(rec));
		rec.path = (struct str_view){p, strlen(p)};
		*sink += series_tuples_lookup(t, &rec);
	}
	return (benchkit_mono_s() - t0) * 1e9 / (double)n;
}

/* Median ns per lookup over runs, each on fresh tuples; warm: time a second
 * pass (steady-state cache hits) instead of the first (misses). */
static double measure(const struct config_rule *rules, size_t n_rules, const char *values, size_t n,
                      unsigned runs, bool warm)
{
	struct config_field_label fl = {.name = (char *)"route",
	                                .field = CONFIG_FIELD_PATH,
	                                .rules = (struct config_rule *)rules,
	                                .n_rules = n_rules};
	double ns[32];
	char err[256];
	uint32_t sink = 0;

	for (unsigned r = 0; r < runs; r++) {
		struct series_tuples *t;
		if (series_tuples_create(&fl, 1, SERIES_DEFAULT_LIMIT, &t, err, sizeof(err)) < 0) {
			(void)fprintf(stderr, "rules_bench: %s\n", err);
			exit(1);
		}
		ns[r] = pass(t, values, n, &sink);
		if (warm) {
			ns[r] = pass(t, values, n, &sink);
		}
		series_tuples_destroy(t);
	}
	qsort(ns, runs, sizeof(ns[0]), benchkit_cmp_double);
	if (sink == 0xffffffffu) {
		(void)fprintf(stderr, "impossible\n");
	}
	return ns[runs / 2];
}

/* distinct > 0: the paths cycle through that many values (a warm cache). */
static int print_log(size_t lines, size_t distinct)
{
	static const char *const codes[] = {"200", "200", "200", "200", "201",
	                                    "204", "304", "404", "500", "502"};
	char path[PATH_MAX_LEN];
	char *pool = distinct ? make_values(distinct, -1, 0) : NULL;

	if (distinct && !pool) {
		return 1;
	}
	for (size_t i = 0; i < lines; i++) {
		if (pool) {
			memcpy(path, pool + (size_t)(rnd() % distinct) * PATH_MAX_LEN,
			       PATH_MAX_LEN);
		} else {
			make_path((size_t)(rnd() % N_ROUTES), path);
		}
		if (printf(
		        "10.%u.%u.%u - - [03/Dec/2026:10:%02u:%02u +0000] \"GET %s HTTP/1.1\" %s "
		        "%u \"-\" \"bench/1.0\"\n",
		        (unsigned)(i >> 16 & 255), (unsigned)(i >> 8 & 255), (unsigned)(i & 255),
		        (unsigned)(i / 60 % 60), (unsigned)(i % 60), path, codes[rnd() % 10],
		        (unsigned)(rnd() % 50000)) < 0) {
			return 1;
		}
	}
	return 0;
}

static void yaml_quoted(const char *s)
{
	(void)putchar('\'');
	for (; *s; s++) {
		if (*s == '\'') {
			(void)putchar('\'');
		}
		(void)putchar(*s);
	}
	(void)putchar('\'');
}

static int print_config(size_t n_rules, const char *log)
{
	const struct config_rule *rules = n_rules == 1 ? generic : routes;

	(void)printf("sources:\n  - name: bench\n    format: combined\n    paths: [");
	yaml_quoted(log);
	(void)printf("]\n    field_labels:\n      - name: route\n        field: path\n"
	             "        rules:\n");
	for (size_t k = 0; k < n_rules; k++) {
		(void)printf("          - match: ");
		yaml_quoted(rules[k].match);
		if (rules[k].replacement) {
			(void)printf("\n            replacement: ");
			yaml_quoted(rules[k].replacement);
		}
		(void)putchar('\n');
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = 200000;
	unsigned runs = 5;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--values") == 0) {
			n = benchkit_count(argv[i + 1]);
		} else if (strcmp(argv[i], "--runs") == 0) {
			runs = (unsigned)benchkit_count(argv[i + 1]);
		} else if (strcmp(argv[i], "--log") == 0) {
			return print_log(benchkit_count(argv[i + 1]),
			                 i + 2 < argc ? benchkit_count(argv[i + 2]) : 0);
		} else if (strcmp(argv[i], "--config") == 0 && i + 2 < argc) {
			size_t k = benchkit_count(argv[i + 1]);
			return print_config(k == 1 ? 1 : N_ROUTES, argv[i + 2]);
		}
	}
	if (n == 0 || runs == 0 || runs > 32) {
		(void)fprintf(stderr, "usage: rules_bench [--values N] [--runs 1..32]\n");
		return 2;
	}
	static const struct {
		const char *what;
		bool twenty;
		int which;
		size_t distinct;
	} cases[] = {
	    {"1 generic rule, distinct values (misses)", false, -1, 0},
	    {"20 rules, values spread over all 20 (misses)", true, -1, 0},
	    {"20 rules, every value matched by rule 1 (misses)", true, 0, 0},
	    {"20 rules, every value matched by rule 20 (misses)", true, (int)N_ROUTES - 1, 0},
	    {"20 rules, no rule matches: default (misses)", true, (int)N_ROUTES, 0},
	    {"1 generic rule, 1000 values repeated (hits)", false, -1, 1000},
	    {"20 rules, 1000 values repeated (hits)", true, -1, 1000},
	};
	double base = 0, base_hits = 0;

	(void)printf("%zu lookups per case, median of %u runs, ns per lookup (ratio to 1 rule)\n",
	             n, runs);
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		char *values = make_values(n, cases[c].which, cases[c].distinct);
		if (!values) {
			return 1;
		}
		bool warm = cases[c].distinct > 0;
		double ns = cases[c].twenty ? measure(routes, N_ROUTES, values, n, runs, warm)
		                            : measure(generic, 1, values, n, runs, warm);
		if (c == 0) {
			base = ns;
		} else if (c == 5) {
			base_hits = ns;
		}
		double ref = c >= 5 ? base_hits : base;
		(void)printf("%-52s %8.1f ns  (x%.2f)\n", cases[c].what, ns, ns / ref);
		free(values);
	}
	return 0;
}
