/*
 * pathlabels.c - path_labels: file path -> label values (see pathlabels.h).
 *
 * The source calls pathlabels_values whenever the file its lines come from
 * changes (tail's "from" callback, once per read batch, not per line); the
 * last path and its values are kept, so a source following one file
 * matches once.  Values are copied into a fixed buffer (cap per value), so
 * records only point at it.
 *
 * Rejected: matching per line (the path does not change within a batch)
 * and anchoring the pattern (a rotated file drained after a rename, or a
 * Kubernetes /var/log/containers/ name, would then need a second pattern).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "exporter/pathlabels.h"

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/metrics/fieldvalue.h"

#define PATH_MAX_KEPT 4096

struct pathlabels {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	size_t n;
	uint32_t group[CONFIG_MAX_PATH_LABELS];
	char last[PATH_MAX_KEPT];
	bool has_last;
	char buf[CONFIG_MAX_PATH_LABELS][PATHLABELS_VALUE_CAP];
	struct str_view values[CONFIG_MAX_PATH_LABELS];
};

void pathlabels_destroy(struct pathlabels *pl)
{
	if (!pl) {
		return;
	}
	pcre2_code_free(pl->code);
	pcre2_match_data_free(pl->md);
	pcre2_match_context_free(pl->mctx);
	free(pl);
}

/* The named groups' numbers in group order. */
static int take_groups(struct pathlabels *pl, char *err, size_t err_size)
{
	uint32_t count = 0, entry = 0;
	PCRE2_SPTR table;

	(void)pcre2_pattern_info(pl->code, PCRE2_INFO_NAMECOUNT, &count);
	(void)pcre2_pattern_info(pl->code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
	(void)pcre2_pattern_info(pl->code, PCRE2_INFO_NAMETABLE, &table);
	if (count == 0 || count > CONFIG_MAX_PATH_LABELS) {
		(void)snprintf(err, err_size, "path_labels needs 1 to %d named groups, has %u",
		               CONFIG_MAX_PATH_LABELS, count);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *e = table + (size_t)i * entry;
		uint32_t g = ((uint32_t)e[0] << 8) | e[1], k = i;
		while (k > 0 && pl->group[k - 1] > g) {
			pl->group[k] = pl->group[k - 1];
			k--;
		}
		pl->group[k] = g;
	}
	pl->n = count;
	return 0;
}

int pathlabels_create(const char *pattern, struct pathlabels **ret, char *err, size_t err_size)
{
	struct pathlabels *pl = calloc(1, sizeof(*pl));
	int ec, r = -ENOMEM;
	PCRE2_SIZE off;

	if (!pl) {
		return -ENOMEM;
	}
	pl->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);
	if (!pl->code) {
		PCRE2_UCHAR msg[128];
		(void)pcre2_get_error_message(ec, msg, sizeof(msg));
		(void)snprintf(err, err_size, "path_labels: bad pattern at %zu: %s", (size_t)off,
		               (const char *)msg);
		r = -EINVAL;
		goto fail;
	}
	(void)pcre2_jit_compile(pl->code, PCRE2_JIT_COMPLETE);
	r = take_groups(pl, err, err_size);
	if (r < 0) {
		goto fail;
	}
	pl->md = pcre2_match_data_create_from_pattern(pl->code, NULL);
	pl->mctx = pcre2_match_context_create(NULL);
	if (!pl->md || !pl->mctx) {
		r = -ENOMEM;
		goto fail;
	}
	(void)pcre2_set_match_limit(pl->mctx, 100000u);
	for (size_t i = 0; i < pl->n; i++) {
		pl->values[i] = (struct str_view){pl->buf[i], 0};
	}
	*ret = pl;
	return 0;
fail:
	pathlabels_destroy(pl);
	return r;
}

size_t pathlabels_count(const struct pathlabels *pl)
{
	return pl ? pl->n : 0;
}

const struct str_view *pathlabels_values(struct pathlabels *pl, const char *path)
{
	size_t len = strlen(path);

	if (pl->has_last && strcmp(pl->last, path) == 0) {
		return pl->values;
	}
	pl->has_last = len < sizeof(pl->last);
	if (pl->has_last) {
		memcpy(pl->last, path, len + 1);
	}
	int rc = pcre2_match(pl->code, (PCRE2_SPTR)path, len, 0, 0, pl->md, pl->mctx);
	const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(pl->md);
	for (size_t i = 0; i < pl->n; i++) {
		uint32_t g = pl->group[i];
		size_t n = 0;
		if (rc > 0 && g < (uint32_t)rc && ov[2 * g] != PCRE2_UNSET) {
			n = fieldvalue_utf8_cut(path + ov[2 * g], ov[2 * g + 1] - ov[2 * g],
			                        PATHLABELS_VALUE_CAP);
			memcpy(pl->buf[i], path + ov[2 * g], n);
		}
		pl->values[i] = (struct str_view){pl->buf[i], n};
	}
	return pl->values;
}
