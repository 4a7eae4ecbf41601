/*
 * fuzz_metrics_restore.c - libFuzzer target for the registry's checkpoint
 * lines (metrics_source_restore), with and without field labels.
 *
 * Whatever restores must save again, and that saved text must restore into
 * a fresh source and save to the same bytes (the format round-trips); a
 * rejected input must leave the source exactly as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/metrics/metrics.h"
#include "tests/fieldlabel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const double buckets[] = {0.1, 1, 10};
static const struct config_field_label field_labels[] = {
    FIELD_LABEL("vhost", VHOST),
    FIELD_LABEL_RULE("route", PATH, "/(api|static)/.*", "/$1"),
};

static struct metrics *registry(void)
{
	struct metrics_options o = {.request_buckets = buckets,
	                            .n_request_buckets = 3,
	                            .upstream_buckets = buckets,
	                            .n_upstream_buckets = 3,
	                            /* the optional histograms restore too */
	                            .request_size_buckets = buckets,
	                            .n_request_size_buckets = 3,
	                            .response_size_buckets = buckets,
	                            .n_response_size_buckets = 3,
	                            .upstream_connect_buckets = buckets,
	                            .n_upstream_connect_buckets = 3,
	                            .upstream_header_buckets = buckets,
	                            .n_upstream_header_buckets = 2,
	                            .series_limit = 50,
	                            /* native lines restore too: a small cap reduces */
	                            .native_histograms = true,
	                            .native_schema = 3,
	                            .native_max_buckets = 16,
	                            .native_zero_threshold = 1e-9};
	return metrics_create(&o);
}

static void check(const uint8_t *data, size_t size, size_t n_fl)
{
	struct metrics *a = registry(), *b = registry();
	struct metrics_source *sa, *sb;
	struct strbuf s1, s2, before;

	if (!a || !b || metrics_add_source(a, "x", NULL, 0, field_labels, n_fl, &sa, NULL, 0) < 0 ||
	    metrics_add_source(b, "x", NULL, 0, field_labels, n_fl, &sb, NULL, 0) < 0) {
		abort();
	}
	strbuf_init(&s1, 1u << 26);
	strbuf_init(&s2, 1u << 26);
	strbuf_init(&before, 1u << 26);
	(void)metrics_source_save(sa, &before);
	if (metrics_source_restore(sa, (const char *)data, size) < 0) {
		(void)metrics_source_save(sa, &s1);
		if (s1.len != before.len || memcmp(s1.data, before.data, s1.len) != 0) {
			abort(); /* a rejected input changed something */
		}
	} else {
		(void)metrics_source_save(sa, &s1);
		if (s1.error || metrics_source_restore(sb, s1.data, s1.len) < 0) {
			abort();
		}
		(void)metrics_source_save(sb, &s2);
		if (s1.len != s2.len || memcmp(s1.data, s2.data, s1.len) != 0) {
			abort();
		}
	}
	strbuf_finish(&s1);
	strbuf_finish(&s2);
	strbuf_finish(&before);
	metrics_destroy(a);
	metrics_destroy(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024) {
		return 0;
	}
	check(data, size, 0);
	check(data, size, 2);
	return 0;
}
