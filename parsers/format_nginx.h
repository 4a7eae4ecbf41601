/*
 * format_nginx.h - compile an nginx log_format into a pattern.
 */
#ifndef PARSERS_FORMAT_NGINX_H
#define PARSERS_FORMAT_NGINX_H

#include "parsers/logformat.h"
#include "parsers/logparse.h"

/* Compile an nginx log_format.  text is either the format body as nginx
 * prints it ('$remote_addr - $remote_user ...') or what the user pasted from
 * nginx.conf: an optional "log_format NAME", an optional "escape=default|
 * json|none", then one or more '...' / "..." strings and an optional ';'.
 * Fills *f (caller storage, meaningful only on success).  Variables not in
 * the exporter's table become extra captures (f->extra_name, f->extra_col).
 * Returns 0; -EINVAL with *err naming a bad variable reference / bad escape
 * / too many unknown variables and its 1-based column; -E2BIG when the
 * format is too long. */
int format_nginx_compile(const char *text, struct logformat *f, struct logparse_error *err);

/* As format_nginx_compile, also capturing the variables named by
 * want[0..n_want) ("host" or "$host") as extra captures 0..n_want-1
 * (logformat_build). */
int format_nginx_compile_want(const char *text, const char *const *want, size_t n_want,
                              struct logformat *f, struct logparse_error *err);

/* Remove config-file wrapping (log_format NAME, escape=, '...' quoting, ';')
 * into *t, keeping source columns.  Returns 0, -EINVAL / -E2BIG with *err. */
int format_nginx_unwrap(const char *text, struct logformat_text *t, struct logparse_error *err);

/* Look up an nginx variable name (without '$').  Returns 0 and the record
 * field it feeds (LOGFORMAT_FIELD_NONE for known but unused ones), or
 * -ENOENT for an unknown name. */
int format_nginx_variable(const char *name, size_t len, enum logformat_field *ret_field);

#endif
