/*
 * filter.h - a source's line filters: drop or keep lines by a field.
 *
 * Built from config_filter entries; applied in order to every parsed line
 * before it is counted.  A "drop" filter whose pattern matches the line's
 * value drops it; a "keep" filter whose pattern does not match drops it; a
 * line no filter drops is counted.  Patterns are anchored at both ends
 * like field-label rules (Prometheus relabelling's convention).
 *
 * Used by one thread at a time (the source's ingest thread): the match
 * data is shared by the filters.
 */
#ifndef EXPORTER_FILTER_H
#define EXPORTER_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "parsers/record.h"

struct filter_set;

/* Compile n filters (n <= CONFIG_MAX_FILTERS; n 0 gives a set that drops
 * nothing).  0 and *ret; -EINVAL with a message in err for a bad pattern;
 * -ENOMEM. */
int filter_set_create(const struct config_filter *filters, size_t n, struct filter_set **ret,
                      char *err, size_t err_size);

/* NULL-safe. */
void filter_set_destroy(struct filter_set *fs);

/* Whether the set drops the line r (NULL set: false).  A value that hits
 * the pattern's match limit counts as not matching. */
bool filter_set_drops(struct filter_set *fs, const struct log_record *r);

#endif
