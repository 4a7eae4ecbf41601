/*
 * linematch.h - the generated formats' pattern as a straight-line program.
 *
 * logformat_build writes every piece of a format twice: as pcre2 pattern
 * text and, from the same decision (the same class, the same neighbouring
 * characters), as one op of a linematch program.  Every generated piece is
 * possessive or atomic and deterministic, so the program can match a line
 * left to right in one pass with no backtracking and reach exactly the
 * positions pcre2 reaches: the same lines match, the same groups capture
 * the same bytes.  The two lazy pieces (free text before a blank, a token
 * glued to the next item) would need backtracking: a format with one of
 * them has no program (ok false) and runs on pcre2 alone.
 *
 * Runs of bytes (the quoted strings, "[^ ]*+", "[^\]]*+") are scanned eight
 * bytes at a time; that is where the program beats the JIT, which tests
 * the class byte by byte.  tests/test_linematch.c and fuzz_line compare the
 * program with pcre2 line by line.  The struct is a plain value record
 * because struct logformat embeds it.
 */
#ifndef PARSERS_LINEMATCH_H
#define PARSERS_LINEMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINEMATCH_MAX_OPS 520 /* one per item, plus the end check */
#define LINEMATCH_MAX_LIT 8192
#define LINEMATCH_MAX_GROUPS 64 /* at least LOGFORMAT_MAX_GROUPS (logformat.c asserts) */
#define LINEMATCH_MAX_EXCL 8    /* bytes a run stops at */

enum linematch_kind {
	LINEMATCH_RUN,        /* [^excl]*+ */
	LINEMATCH_REST,       /* .*+ with DOTALL: the rest of the line */
	LINEMATCH_QUOTED,     /* [^"\\]*+(?:\\.[^"\\]*+)*+ */
	LINEMATCH_INT,        /* (?:[0-9]++|-) */
	LINEMATCH_DEC,        /* (?:[0-9][0-9.]*+|\.[0-9]++|-) */
	LINEMATCH_INT_LIST,   /* INT (?:(?:, | : )INT)*+ */
	LINEMATCH_DEC_LIST,   /* DEC (?:(?:, | : )DEC)*+ */
	LINEMATCH_ADDR_LIST,  /* RUN (?:(?:, | : )RUN)*+ */
	LINEMATCH_REQUEST,    /* (?>[^ ]++ [^ ]++(?: HTTP/[0-9.]++)?|RUN) */
	LINEMATCH_TIME_LOCAL, /* dd/Mon/yyyy:hh:mm:ss(?: [+-]dddd)?+ */
	LINEMATCH_CLF_TIME,   /* \[[^\]]*+\] */
	LINEMATCH_END,        /* (?![^ \t]) */
};

/* One op: the literal bytes before it (lit[lit_off..+lit_len), the first
 * eight also as a word and mask for a one-load compare), then the piece. */
struct linematch_op {
	uint8_t kind;  /* enum linematch_kind */
	uint8_t group; /* capture group around the piece, 0: none */
	uint8_t nexcl; /* runs: distinct bytes in excl */
	uint8_t excl[LINEMATCH_MAX_EXCL];
	uint16_t lit_off, lit_len;
	uint64_t lit_word, lit_mask;
	uint8_t excl_vec[3][16]; /* excl[0..2] repeated: the 16-byte compares */
};

struct linematch {
	bool ok; /* false: the format needs pcre2 (a lazy piece, or too big) */
	unsigned ngroups;
	size_t nops, lit_len;
	size_t pending_off, pending_len; /* literal bytes waiting for the next op */
	struct linematch_op ops[LINEMATCH_MAX_OPS];
	char lit[LINEMATCH_MAX_LIT];
};

/* Start an empty program (ok until a lazy piece or an overflow). */
void linematch_init(struct linematch *m);

/* Append literal bytes (they become the next op's prefix). */
void linematch_add_lit(struct linematch *m, const char *s, size_t len);

/* Append an op of kind; runs (RUN, ADDR_LIST, REQUEST's second
 * alternative) stop at the bytes of excl[0..nexcl) (duplicates allowed).
 * group: the capture group the op is wrapped in (0: none). */
void linematch_add(struct linematch *m, enum linematch_kind kind, unsigned group, const char *excl,
                   size_t nexcl);

/* Mark the program unusable (the format needs pcre2). */
void linematch_refuse(struct linematch *m);

/* Match line[0..len) from its first byte.  Returns the end of the match
 * (what pcre2's ovector[1] would hold) and fills ov[2g], ov[2g+1] for
 * every group g in 1..ngroups, or -1 when the line does not match.
 * ov has 2 * (ngroups + 1) entries. */
long linematch_run(const struct linematch *m, const char *line, size_t len, size_t *ov);

#endif
