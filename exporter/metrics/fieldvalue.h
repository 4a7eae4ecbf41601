/*
 * fieldvalue.h - the text a field label or a filter reads from a record.
 *
 * One definition shared by field labels (series.c) and filters (filter.c),
 * so "path" means the same thing to both: the request target without its
 * query string.  Values are views into the record (borrowed like it), cut
 * to FIELDVALUE_CAP bytes on a UTF-8 boundary.
 */
#ifndef EXPORTER_FIELDVALUE_H
#define EXPORTER_FIELDVALUE_H

#include <stddef.h>

#include "config/config.h"
#include "parsers/record.h"

/* Raw values are cut to this many bytes before anything looks at them. */
#define FIELDVALUE_CAP 1024

/* The value of field in r: vhost; path without "?query"; upstream_status
 * as its code ("" when the line has none); CONFIG_FIELD_VARIABLE:
 * r->extra[extra_index] as logged ("" when r has fewer extras);
 * CONFIG_FIELD_PATH_LABEL: r->file_labels[extra_index] ("" when absent).
 * Never NULL. */
struct str_view fieldvalue_get(const struct log_record *r, enum config_field field,
                               size_t extra_index);

/* Longest prefix of p[0..len) of at most cap bytes that does not split a
 * UTF-8 sequence. */
size_t fieldvalue_utf8_cut(const char *p, size_t len, size_t cap);

#endif
