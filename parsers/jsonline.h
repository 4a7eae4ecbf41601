/*
 * jsonline.h - JSON-lines access logs (nginx escape=json, Traefik, ...).
 */
#ifndef PARSERS_JSONLINE_H
#define PARSERS_JSONLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "parsers/logparse.h"
#include "parsers/record.h"

struct jsonline;

/* Build a JSON-lines parser.  keymap is NULL/"" for the default key names
 * or a comma list "field=key[|key...],..." overriding the keys for a field
 * (fields: status, request, method, path, protocol, vhost, remote_addr,
 * bytes, request_time, request_time_ms, request_time_us, upstream_time,
 * upstream_status, request_length, upstream_connect_time,
 * upstream_header_time).  A keymap containing '$' is read as an nginx
 * escape=json log_format instead: each "key":"$variable" pair whose
 * variable feeds a field sets that field's key.  Returns 0 and *ret;
 * -EINVAL with *err; -ENOMEM. */
int jsonline_create(const char *keymap, struct jsonline **ret, struct logparse_error *err);

/* As jsonline_create, also keeping the values of the keys want[0..n_want)
 * (top level or one down, first one wins) as record.extra[0..n_want), as
 * logged (decoded; null, absent: empty). */
int jsonline_create_want(const char *keymap, const char *const *want, size_t n_want,
                         struct jsonline **ret, struct logparse_error *err);

/* NULL-safe. */
void jsonline_destroy(struct jsonline *j);

/* Parse one JSON object line.  Returns 0 and *ret (views into line or into
 * j's scratch, valid until the next call), -EINVAL for invalid JSON or a
 * missing status, -E2BIG when the object nests or grows beyond the caps.
 * The fields are written into *ret as the scan finds them: on failure it
 * holds a partial record (see logparse_line). */
int jsonline_parse(struct jsonline *j, const char *line, size_t len, struct log_record *ret);

/* Why line is not a record (see logparse_diagnose): invalid JSON (column
 * and what is there), text after the object, or no status key (the keys
 * looked for).  0 and *ret; -ENOMSG when the line parses. */
int jsonline_diagnose(struct jsonline *j, const char *line, size_t len, struct logparse_diag *ret);

/* Whether some key of the map feeds field f (enum logformat_field). */
bool jsonline_has_field(const struct jsonline *j, unsigned field);

#endif
