/*
 * test_nhist.c - native histograms: the bucket index per the Prometheus
 * definition (bucket i holds (base^(i-1), base^i]), the zero bucket, the
 * bucket cap (resolution halved until the populated range fits, the
 * result equal to observing at the lower schema directly), restore at
 * another schema, merge, and readers racing a writer that keeps moving
 * the window.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "exporter/metrics/nhist.h"

static void t_layout(void **state)
{
	struct nhist_layout l;
	(void)state;

	assert_int_equal(nhist_layout_init(&l, 9, 160, 1e-9), -EINVAL);
	assert_int_equal(nhist_layout_init(&l, -5, 160, 1e-9), -EINVAL);
	assert_int_equal(nhist_layout_init(&l, 3, 7, 1e-9), -EINVAL);
	assert_int_equal(nhist_layout_init(&l, 3, 1025, 1e-9), -EINVAL);
	assert_int_equal(nhist_layout_init(&l, 3, 160, -1.0), -EINVAL);
	assert_int_equal(nhist_layout_init(&l, 3, 160, NAN), -EINVAL);
	assert_int_equal(nhist_layout_init(&l, 3, 160, 1e-9), 0);
	assert_true(l.bounds[0] == 0.5 && l.bounds[128] == sqrt(0.5));
	nhist_destroy(NULL);
}

static void t_index_table(void **state)
{
	static const struct {
		int schema;
		double v;
		int32_t want;
	} rows[] = {
	    {0, 1.0, 0},
	    {0, 2.0, 1},
	    {0, 1.5, 1},
	    {0, 0.5, -1},
	    {0, 0.75, 0},
	    {0, 4.0, 2},
	    {0, 4.001, 3},
	    {3, 1.0, 0},
	    {3, 2.0, 8},
	    {3, 0.001, -79},
	    {3, 1.0905077326652577, 1},
	    {3, 1.0905077326652580, 2},
	    {-1, 1.0, 0},
	    {-1, 4.0, 1},
	    {-1, 5.0, 2},
	    {-1, 16.0, 2},
	    {-1, 0.25, -1},
	    {-1, 0.3, 0},
	    {-4, 65536.0, 1},
	    {-4, 65537.0, 2},
	    {-4, 1.0, 0},
	    {8, 1.0, 0},
	    {8, 2.0, 256},
	    {1, 1.4142135623730951, 1},
	    {1, 1.4142135623730954, 2},
	};
	struct nhist_layout l;
	(void)state;

	assert_int_equal(nhist_layout_init(&l, 8, 160, 1e-9), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int32_t got = nhist_index(&l, rows[i].schema, rows[i].v);
		if (got != rows[i].want) {
			fail_msg("schema %d v %.17g: index %d, want %d", rows[i].schema, rows[i].v,
			         (int)got, (int)rows[i].want);
		}
	}
}

/* Every index satisfies base^(i-1) < v <= base^i (checked in long double). */
static void t_index_definition(void **state)
{
	struct nhist_layout l;
	unsigned seed = 7;
	(void)state;

	assert_int_equal(nhist_layout_init(&l, 8, 160, 1e-9), 0);
	for (int k = 0; k < 20000; k++) {
		int s = k % 13 - 4;
		double v = exp2((double)(rand_r(&seed) % 4000) / 100.0 - 20.0) *
		           (1.0 + (double)rand_r(&seed) / RAND_MAX);
		int32_t i = nhist_index(&l, s, v);
		long double f = exp2l(exp2l(-(long double)s));
		long double hi = powl(f, (long double)i), lo = powl(f, (long double)i - 1);
		/* powl is not exact: allow a relative 1e-15 slack at the bounds */
		if (!((long double)v > lo * (1 - 1e-15L) && (long double)v <= hi * (1 + 1e-15L))) {
			fail_msg("schema %d v %.17g index %d", s, v, (int)i);
		}
	}
}

/* The index as client_golang computes it (frexp, then the first of the
 * 2^schema bounds not below the fraction): the reference the bit-table
 * index of nhist.c must equal on every value, bounds and their
 * neighbours included. */
static int32_t reference_index(const struct nhist_layout *l, int schema, double v)
{
	int e;
	double f = frexp(v, &e);

	if (schema > 0) {
		int32_t n = 1 << schema, stride = 256 >> schema, k = 0;
		while (k < n && l->bounds[k * stride] < f) {
			k++;
		}
		return k + (e - 1) * n;
	}
	if (f == 0.5) {
		e--;
	}
	int32_t d = 1 << -schema, x = e + d - 1;
	return x >= 0 ? x / d : -((-x + d - 1) / d);
}

static void t_index_reference(void **state)
{
	struct nhist_layout l;
	unsigned seed = 11;
	(void)state;

	assert_int_equal(nhist_layout_init(&l, 8, 160, 0.0), 0);
	for (int k = 0; k < 400000; k++) {
		int s = k % 13 - 4;
		double v;
		switch (k % 5) {
		case 0: /* a bound of some octave, then its neighbours */
			v = ldexp(l.bounds[rand_r(&seed) % 256], rand_r(&seed) % 80 - 40);
			break;
		case 1:
			v = nextafter(ldexp(l.bounds[rand_r(&seed) % 256], rand_r(&seed) % 80 - 40),
			              0.0);
			break;
		case 2:
			v = nextafter(ldexp(l.bounds[rand_r(&seed) % 256], rand_r(&seed) % 80 - 40),
			              INFINITY);
			break;
		case 3: /* subnormals and the extremes */
			v = ldexp((double)(rand_r(&seed) % 1000 + 1), -1074 + rand_r(&seed) % 40);
			v = k % 7 == 0 ? DBL_MAX : (k % 11 == 0 ? DBL_MIN : v);
			break;
		default:
			v = exp2((double)(rand_r(&seed) % 6000) / 100.0 - 30.0) *
			    (1.0 + (double)rand_r(&seed) / RAND_MAX);
		}
		int32_t got = nhist_index(&l, s, v), want = reference_index(&l, s, v);
		if (got != want) {
			fail_msg("schema %d v %a: index %d, reference %d", s, v, (int)got,
			         (int)want);
		}
	}
}

static void observe_all(struct nhist *h, const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		nhist_observe(h, v[i]);
	}
}

/* The snapshot of h equals bucketing v[0..n) directly at the snapshot's schema. */
static void assert_direct(const struct nhist_layout *l, const struct nhist_snapshot *s,
                          const double *v, size_t n)
{
	uint64_t zero = 0, total = 0;

	for (size_t k = 0; k < s->n; k++) {
		uint64_t want = 0;
		for (size_t i = 0; i < n; i++) {
			want += v[i] > l->zero_threshold &&
			        nhist_index(l, s->schema, v[i]) == s->first + (int32_t)k;
		}
		assert_int_equal(s->counts[k], want);
		total += want;
	}
	for (size_t i = 0; i < n; i++) {
		zero += !(v[i] > l->zero_threshold);
	}
	assert_int_equal(s->zero, zero);
	assert_int_equal(s->count, total + zero);
	assert_int_equal(s->count, n);
	assert_true(s->n <= l->max_buckets);
}

/* Buckets from the lowest to the highest index of the non-zero v at schema s. */
static int64_t span_at(const struct nhist_layout *l, int s, const double *v, size_t n)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;

	for (size_t i = 0; i < n; i++) {
		if (v[i] > l->zero_threshold) {
			int64_t k = nhist_index(l, s, v[i]);
			lo = k < lo ? k : lo;
			hi = k > hi ? k : hi;
		}
	}
	return hi - lo + 1;
}

/* The schema is the highest (up to the layout's) whose range fits the cap. */
static void assert_best_schema(const struct nhist_layout *l, int schema, const double *v, size_t n)
{
	assert_true(span_at(l, schema, v, n) <= (int64_t)l->max_buckets);
	assert_true(schema == l->schema || span_at(l, schema + 1, v, n) > (int64_t)l->max_buckets);
}

static void t_zero_and_window(void **state)
{
	static const double v[] = {0.0, 0.0, -1.0, 1e-12, 0.004, 0.005, 0.2, 0.21, 1.5, 12.0};
	struct nhist_layout l;
	struct nhist_snapshot *s = malloc(sizeof(*s));
	struct nhist *h;
	(void)state;

	assert_int_equal(nhist_layout_init(&l, 3, 160, 1e-9), 0);
	h = nhist_create(&l);
	assert_non_null(h);
	assert_int_equal(nhist_read(h, s), 0);
	assert_int_equal(s->count, 0);
	assert_int_equal(s->n, 0);
	assert_int_equal(s->schema, 3);
	observe_all(h, v, sizeof(v) / sizeof(v[0]));
	assert_int_equal(nhist_read(h, s), 0);
	assert_int_equal(s->schema, 3); /* 12 s / 4 ms: 93 buckets fit 160 */
	assert_int_equal(s->zero, 4);
	assert_direct(&l, s, v, sizeof(v) / sizeof(v[0]));
	assert_true(s->counts[0] && s->counts[s->n - 1]); /* the populated range exactly */
	nhist_destroy(h);
	free(s);
}

/* Values over 20 octaves into 8 buckets: the schema drops until they fit. */
static void t_cap_reduces(void **state)
{
	enum { N = 3000 };
	double *v = malloc(N * sizeof(*v));
	struct nhist_layout l;
	struct nhist_snapshot *s = malloc(sizeof(*s));
	struct nhist *h;
	unsigned seed = 3;
	(void)state;

	for (size_t i = 0; i < N; i++) {
		v[i] = i % 97 ? exp2((double)(rand_r(&seed) % 2000) / 100.0 - 10.0) : 0.0;
	}
	assert_int_equal(nhist_layout_init(&l, 5, 8, 1e-9), 0);
	h = nhist_create(&l);
	observe_all(h, v, N);
	assert_int_equal(nhist_read(h, s), 0);
	/* 20 octaves in 8 buckets: factor 16 per bucket (schema -2), 5 or 6 buckets */
	assert_int_equal(s->schema, -2);
	assert_best_schema(&l, s->schema, v, N);
	assert_direct(&l, s, v, N);
	nhist_destroy(h);

	/* The same with a wider cap keeps more resolution, never more than the cap. */
	assert_int_equal(nhist_layout_init(&l, 8, 40, 1e-9), 0);
	h = nhist_create(&l);
	observe_all(h, v, N);
	assert_int_equal(nhist_read(h, s), 0);
	assert_best_schema(&l, s->schema, v, N); /* 0: 20 or 21 buckets; 1 needs 41 */
	assert_int_equal(s->schema, 0);
	assert_direct(&l, s, v, N);
	nhist_destroy(h);
	free(v);
	free(s);
}

/* Restore (nhist_add) at a lower or higher schema, and merge. */
static void t_add_merge(void **state)
{
	static const double a[] = {0.001, 0.002, 0.5, 0.7, 3.0, 0.0};
	static const double b[] = {0.01, 100.0, 200.0, 0.0, 0.0};
	double all[11];
	struct nhist_layout l;
	struct nhist_snapshot *s = malloc(sizeof(*s));
	struct nhist *x, *y, *z;
	(void)state;

	assert_int_equal(nhist_layout_init(&l, 3, 16, 1e-9), 0);
	x = nhist_create(&l);
	y = nhist_create(&l);
	z = nhist_create(&l);
	observe_all(x, a, 6);
	observe_all(y, b, 5);
	nhist_merge(x, y);
	for (size_t i = 0; i < 11; i++) {
		all[i] = i < 6 ? a[i] : b[i - 6];
	}
	observe_all(z, all, 11);
	assert_int_equal(nhist_read(x, s), 0);
	assert_direct(&l, s, all, 11);
	int32_t schema = s->schema;
	assert_int_equal(nhist_read(z, s), 0);
	assert_int_equal(s->schema, schema);

	/* A bucket saved at schema 0 lowers a fresh histogram to schema 0. */
	nhist_destroy(y);
	y = nhist_create(&l);
	assert_int_equal(nhist_add(y, 9, 0, 1), -EINVAL);
	assert_int_equal(nhist_add(y, 3, 8, 2), 0);  /* (2^(7/8), 2] */
	assert_int_equal(nhist_add(y, 0, -1, 5), 0); /* (1/4, 1/2] */
	nhist_add_zero(y, 4);
	assert_int_equal(nhist_read(y, s), 0);
	assert_int_equal(s->schema, 0);
	assert_int_equal(s->count, 11);
	assert_int_equal(s->zero, 4);
	assert_int_equal(s->first, -1);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->counts[0], 5);
	assert_int_equal(s->counts[2], 2); /* bucket 1: (1, 2] */
	nhist_destroy(x);
	nhist_destroy(y);
	nhist_destroy(z);
	free(s);
}

struct race {
	struct nhist *h;
	atomic_bool done;
};

static void *writer(void *arg)
{
	struct race *r = arg;
	unsigned seed = 11;

	for (int i = 0; i < 200000; i++) {
		/* widening ranges keep re-laying the window out */
		nhist_observe(r->h, exp2((double)(rand_r(&seed) % (i / 1000 + 2)) / 4.0 - 20.0));
	}
	atomic_store(&r->done, true);
	return NULL;
}

static void t_readers_race(void **state)
{
	struct nhist_layout l;
	struct nhist_snapshot *s = malloc(sizeof(*s));
	struct race r;
	pthread_t t;
	uint64_t last = 0;
	int last_schema = 8, reads = 0;
	(void)state;

	assert_int_equal(nhist_layout_init(&l, 8, 8, 1e-9), 0);
	r.h = nhist_create(&l);
	atomic_init(&r.done, false);
	assert_int_equal(pthread_create(&t, NULL, writer, &r), 0);
	while (!atomic_load(&r.done) || reads == 0) {
		if (nhist_read(r.h, s) < 0) {
			continue;
		}
		uint64_t sum = s->zero;
		for (size_t k = 0; k < s->n; k++) {
			sum += s->counts[k];
		}
		assert_int_equal(sum, s->count);
		assert_true(s->count >= last);
		assert_true(s->schema <= last_schema);
		assert_true(s->n <= 8);
		last = s->count;
		last_schema = s->schema;
		reads++;
	}
	pthread_join(t, NULL);
	assert_int_equal(nhist_read(r.h, s), 0);
	assert_int_equal(s->count, 200000);
	nhist_destroy(r.h);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_layout),           cmocka_unit_test(t_index_table),
	    cmocka_unit_test(t_index_definition), cmocka_unit_test(t_index_reference),
	    cmocka_unit_test(t_zero_and_window),  cmocka_unit_test(t_cap_reduces),
	    cmocka_unit_test(t_add_merge),        cmocka_unit_test(t_readers_race),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
