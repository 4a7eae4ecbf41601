/*
 * filter.c - drop/keep filters for parsed lines (see filter.h).
 *
 * Each filter is one pcre2 pattern compiled anchored at both ends and JIT
 * compiled when possible (the interpreter gives the same answers), with a
 * match limit so a user pattern cannot make a line expensive.  The value
 * comes from fieldvalue_get, the very function field labels use, so a
 * filter on "path" and a label on "path" see the same text.  Filters run
 * in order and stop at the first that drops the line.
 *
 * Rejected: caching verdicts per distinct value like the field-label
 * tuples do (a filter is usually one cheap anchored JIT match, and values
 * such as user agents have unbounded variety: the cache would mostly
 * miss), and unanchored "contains" matching (different from the
 * field-label rules next to it; ".*bot.*" says it explicitly).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "exporter/filter.h"

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>

#include "exporter/metrics/fieldvalue.h"

#define FILTER_MATCH_LIMIT 100000u /* as the line parser's default */
#define FILTER_DEPTH_LIMIT 1000u

struct filter {
	enum config_filter_action action;
	enum config_field field;
	size_t extra_index;
	pcre2_code *code;
	bool jit;
};

struct filter_set {
	struct filter f[CONFIG_MAX_FILTERS];
	size_t n;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

void filter_set_destroy(struct filter_set *fs)
{
	if (!fs) {
		return;
	}
	for (size_t i = 0; i < fs->n; i++) {
		pcre2_code_free(fs->f[i].code);
	}
	pcre2_match_data_free(fs->md);
	pcre2_match_context_free(fs->mctx);
	free(fs);
}

static int filter_init(struct filter *f, const struct config_filter *cf, size_t i, char *err,
                       size_t err_size)
{
	int ec;
	PCRE2_SIZE off;

	f->action = cf->action;
	f->field = cf->field;
	f->extra_index = cf->variable_index;
	f->code = pcre2_compile((PCRE2_SPTR)cf->match, PCRE2_ZERO_TERMINATED,
	                        PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ec, &off, NULL);
	if (!f->code) {
		PCRE2_UCHAR msg[128];
		(void)pcre2_get_error_message(ec, msg, sizeof(msg));
		(void)snprintf(err, err_size, "filter %zu: bad match pattern at %zu: %s", i,
		               (size_t)off, (const char *)msg);
		return -EINVAL;
	}
	f->jit = pcre2_jit_compile(f->code, PCRE2_JIT_COMPLETE) == 0;
	return 0;
}

int filter_set_create(const struct config_filter *filters, size_t n, struct filter_set **ret,
                      char *err, size_t err_size)
{
	struct filter_set *fs;
	int r = -ENOMEM;

	if (n > CONFIG_MAX_FILTERS) {
		return -EINVAL;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		r = filter_init(&fs->f[i], &filters[i], i, err, err_size);
		if (r < 0) {
			goto fail;
		}
		fs->n++;
	}
	/* one group is enough: only whether the pattern matches is used */
	fs->md = pcre2_match_data_create(1, NULL);
	fs->mctx = pcre2_match_context_create(NULL);
	if (!fs->md || !fs->mctx) {
		r = -ENOMEM;
		goto fail;
	}
	(void)pcre2_set_match_limit(fs->mctx, FILTER_MATCH_LIMIT);
	(void)pcre2_set_depth_limit(fs->mctx, FILTER_DEPTH_LIMIT);
	*ret = fs;
	return 0;
fail:
	filter_set_destroy(fs);
	return r;
}

bool filter_set_drops(struct filter_set *fs, const struct log_record *r)
{
	if (!fs) {
		return false;
	}
	for (size_t i = 0; i < fs->n; i++) {
		const struct filter *f = &fs->f[i];
		struct str_view v = fieldvalue_get(r, f->field, f->extra_index);
		int rc =
		    f->jit
		        ? pcre2_jit_match(f->code, (PCRE2_SPTR)v.ptr, v.len, 0, 0, fs->md, fs->mctx)
		        : pcre2_match(f->code, (PCRE2_SPTR)v.ptr, v.len, 0, 0, fs->md, fs->mctx);
		bool matched = rc >= 0;
		if (matched == (f->action == CONFIG_FILTER_DROP)) {
			return true;
		}
	}
	return false;
}
