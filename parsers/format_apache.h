/*
 * format_apache.h - compile an Apache LogFormat string into a pattern.
 */
#ifndef PARSERS_FORMAT_APACHE_H
#define PARSERS_FORMAT_APACHE_H

#include "parsers/logformat.h"
#include "parsers/logparse.h"

/* Compile an Apache LogFormat.  text is the format ("%h %l %u %t \"%r\"
 * %>s %b"), either as the bare string or as pasted from the config
 * (LogFormat "..." nickname) with \" escapes.  Fills *f (caller storage,
 * meaningful only on success).  Returns 0; -EINVAL with *err naming the
 * unknown specifier and its 1-based column; -E2BIG when too long. */
int format_apache_compile(const char *text, struct logformat *f, struct logparse_error *err);

/* As format_apache_compile, also capturing the specifiers named by
 * want[0..n_want) ("%v", "%{X-Forwarded-Proto}i") as extra captures
 * 0..n_want-1 (logformat_build). */
int format_apache_compile_want(const char *text, const char *const *want, size_t n_want,
                               struct logformat *f, struct logparse_error *err);

#endif
