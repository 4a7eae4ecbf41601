/*
 * suggest.h - "did you mean ...?" for mistyped names (flags, formats, keys).
 */
#ifndef PARSERS_SUGGEST_H
#define PARSERS_SUGGEST_H

#include <stddef.h>

/* Longest name compared (longer words and names are cut). */
#define SUGGEST_MAX 64

/* Levenshtein distance of a and b, both cut to SUGGEST_MAX bytes. */
size_t suggest_distance(const char *a, const char *b);

/* The name in names[0..n) nearest to word, or NULL when none is close: at
 * most a third of the word's bytes (at least 2) would change.  Borrowed
 * from names. */
const char *suggest_nearest(const char *word, const char *const *names, size_t n);

#endif
