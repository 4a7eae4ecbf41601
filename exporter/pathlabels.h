/*
 * pathlabels.h - labels from a log file's path (a source's path_labels).
 *
 * One pcre2 pattern with named groups, searched in each file's path (not
 * anchored: write ^ and $ to anchor; a rotated "x.log.1" still matches a
 * pattern for "x.log").  The groups' values, in group order, label every
 * series of the lines from that file; a path that does not match, or a
 * group that did not take part, gives empty values.  Values are cut to
 * PATHLABELS_VALUE_CAP bytes on a UTF-8 boundary.
 *
 * Used by one thread (the source's ingest thread).
 */
#ifndef EXPORTER_PATHLABELS_H
#define EXPORTER_PATHLABELS_H

#include <stddef.h>

#include "config/config.h"
#include "parsers/record.h"

#define PATHLABELS_VALUE_CAP 256

struct pathlabels;

/* Compile pattern (its named groups become labels in group order, at most
 * CONFIG_MAX_PATH_LABELS).  0 and *ret; -EINVAL with a message in err;
 * -ENOMEM. */
int pathlabels_create(const char *pattern, struct pathlabels **ret, char *err, size_t err_size);

/* NULL-safe. */
void pathlabels_destroy(struct pathlabels *pl);

/* Number of labels (named groups). */
size_t pathlabels_count(const struct pathlabels *pl);

/* The label values for path (matched once per change of path: the last
 * path's values are kept).  Returns pathlabels_count views, borrowed until
 * the next call.  Never NULL. */
const struct str_view *pathlabels_values(struct pathlabels *pl, const char *path);

#endif
