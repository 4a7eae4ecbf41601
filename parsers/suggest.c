/*
 * suggest.c - nearest-name suggestions (see suggest.h).
 *
 * Plain Levenshtein distance with one row of SUGGEST_MAX + 1 cells on the
 * stack: names are short and lists small (tens of flags, nine formats), so
 * nothing smarter pays.  The threshold keeps suggestions plausible: a
 * third of the word, at least 2 edits ("combind" -> "combined", "jsno" ->
 * "json"), none for unrelated words.  Rejected: prefix matching alone
 * (misses transpositions and missing letters, the common typos).
 */
#include "parsers/suggest.h"

#include <string.h>

size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strnlen(a, SUGGEST_MAX), lb = strnlen(b, SUGGEST_MAX);
	size_t row[SUGGEST_MAX + 1];

	for (size_t j = 0; j <= lb; j++) {
		row[j] = j;
	}
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			best = row[j] + 1 < best ? row[j] + 1 : best;
			best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *suggest_nearest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strnlen(word, SUGGEST_MAX);
	size_t limit = len / 3 > 2 ? len / 3 : 2;

	for (size_t i = 0; i < n; i++) {
		size_t d = suggest_distance(word, names[i]);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
