/*
 * logparse.h - turn one access-log line into a struct log_record.
 *
 * A parser is built once from a format description and then used for every
 * line of a source.  Formats: a preset name ("combined", "common",
 * "vhost_combined", "main", "ingress"), an nginx log_format string, an
 * Apache LogFormat string, JSON lines, or a raw pcre2 regex with named
 * groups.  Regex-based formats compile to one anchored pcre2 pattern, JIT
 * compiled when possible (interpreter otherwise, same results), with match
 * and depth limits so no input can make a line expensive.
 *
 * No I/O, no globals, no logging: errors come back as values.  A parser
 * owns its match data, so one parser must be used by one thread at a time.
 */
#ifndef PARSERS_LOGPARSE_H
#define PARSERS_LOGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logtime.h"
#include "record.h"

enum logparse_kind {
	LOGPARSE_PRESET, /* text is a preset name */
	LOGPARSE_NGINX,  /* text is an nginx log_format body (may start with escape=...) */
	LOGPARSE_APACHE, /* text is an Apache LogFormat string */
	LOGPARSE_JSON,   /* JSON lines; text NULL/"" for default keys or "field=key|key,..." */
	LOGPARSE_REGEX,  /* text is a pcre2 pattern with named groups */
};

#define LOGPARSE_ERR_MAX 256

struct logparse_error {
	char message[LOGPARSE_ERR_MAX]; /* human readable, names the offending item */
	size_t column;                  /* 1-based column in the format text, 0 if n/a */
};

struct log_parser;

/* Build a parser.  Returns 0 and *ret_parser on success; -EINVAL with *err
 * filled for a bad format; -ENOMEM. */
int logparse_create(enum logparse_kind kind, const char *text, struct log_parser **ret_parser,
                    struct logparse_error *err);

/* Defaults for the per-line limits (see struct logparse_opts). */
#define LOGPARSE_DEFAULT_MATCH_LIMIT 100000u
#define LOGPARSE_DEFAULT_DEPTH_LIMIT 1000u

/* Extra knobs for logparse_create_opts; a zeroed struct means defaults. */
struct logparse_opts {
	bool no_jit;          /* use the pcre2 interpreter even when JIT works (and no
	                         linematch program) */
	bool no_linematch;    /* generated formats: match with pcre2, not with the
	                         one-pass program (linematch.h); for tests */
	uint32_t match_limit; /* pcre2 match limit per line, 0 = default */
	uint32_t depth_limit; /* pcre2 depth limit per line, 0 = default */
	/* Fields of the format to keep as extra captures: capture[k] becomes
	 * record.extra[k] (the format's unknown nginx variables follow).  A
	 * name is what a user calls the item: an nginx variable ("host" or
	 * "$host"), an Apache specifier ("%v", "%{X-Forwarded-Proto}i"), a JSON
	 * key, a regex group name.  A name the format does not have keeps its
	 * index but reads empty (logparse_extra_find says -ENOENT).  Capturing
	 * changes no match: the same lines parse and fail. */
	const char *const *capture;
	size_t n_capture;
};

/* As logparse_create with options (opts NULL = defaults). */
int logparse_create_opts(enum logparse_kind kind, const char *text,
                         const struct logparse_opts *opts, struct log_parser **ret_parser,
                         struct logparse_error *err);

/* The pcre2 pattern a regex-based parser runs (for --validate output and
 * debugging); NULL for JSON parsers.  Borrowed from the parser. */
const char *logparse_pattern(const struct log_parser *p);

/* NULL-safe. */
void logparse_destroy(struct log_parser *p);

/* Parse one line (no trailing newline; a trailing '\r' is ignored).
 * Returns 0 and fills *ret on success; -EINVAL when the line does not match
 * the format; -E2BIG when the match or depth limit was hit (JSON: nesting
 * deeper than 16 or a line over 1 MiB).  A status field
 * that is present but not a code in 100..599 ("-", "000", "600") is not an
 * error: the line parses with status_slot = STATUS_SLOT_INVALID.
 * *ret is the caller's per-line record: on failure its contents are
 * unspecified (no caller reads it then).  An exception to the house rule
 * that out-params are written only on success, taken for speed: JSON lines
 * are scanned straight into *ret, and building a local record to copy on
 * success cost 4% of a JSON line's CPU.  The JIT and the interpreter give the
 * same results, except that they count work differently: a line close to
 * the limit may come back -E2BIG from one and parse (or -EINVAL) with the
 * other.  Generated patterns are possessive and stay far below the limit
 * for lines up to tens of KiB; raw regexes may not. */
int logparse_line(struct log_parser *p, const char *line, size_t len, struct log_record *ret);

/* Why a line does not parse: where matching stopped, in the user's terms. */
#define LOGPARSE_DIAG_NAME_MAX 96
#define LOGPARSE_DIAG_FOUND_MAX 112

struct logparse_diag {
	size_t column; /* 1-based byte column in the line where matching stopped; 0: n/a */
	/* The format piece that did not match, as the user wrote it: an nginx
	 * variable ("$http_referer"), an Apache specifier ("%{Referer}i"), a
	 * literal of the format (quoted, with the item it precedes), the JSON
	 * key, or the regex group ("(?<status>...)"). */
	char piece[LOGPARSE_DIAG_NAME_MAX];
	char expected[LOGPARSE_DIAG_NAME_MAX]; /* what that piece wants there */
	char found[LOGPARSE_DIAG_FOUND_MAX];   /* what is there: quoted and escaped, or
	                                          "end of line" */
	char message[4 * LOGPARSE_DIAG_NAME_MAX +
	             LOGPARSE_DIAG_FOUND_MAX]; /* one sentence with all of the above */
	int piece_index;                       /* generated formats: index of the piece
	                                          (-1: after the last one; for tests) */
};

/* Explain why line does not parse with p (slow: meant for a sampled few
 * failing lines, never for every line).  The first call compiles a second
 * copy of the pattern with auto-callouts and keeps it in p; the match that
 * fails records the furthest point the pattern reached in the line and the
 * piece it was trying there (the classic "furthest failure" rule).
 * Returns 0 and fills *ret; -ENOMSG when the line parses (nothing to
 * explain); -ENOMEM.  No I/O, no logging; same threading rule as
 * logparse_line. */
int logparse_diagnose(struct log_parser *p, const char *line, size_t len,
                      struct logparse_diag *ret);

/* Whether lines parsed by p can carry field f (enum logformat_field): the
 * format has the item (regex: the named group; JSON: a key is mapped). */
bool logparse_has_field(const struct log_parser *p, unsigned field);

/* After a successful logparse_line: how many bytes of the line the format
 * described (a line may go on with fields the format does not have, after
 * a blank).  JSON: the whole line. */
size_t logparse_matched_len(const struct log_parser *p);

/* Number of items (variables, specifiers, groups, JSON keys) of the
 * format: how specific it is (format detection prefers the larger one when
 * two fit equally). */
size_t logparse_item_count(const struct log_parser *p);

/* Parse a "kind" name as used on the command line and in config files:
 * "combined", "common", ... map to LOGPARSE_PRESET; "nginx", "apache",
 * "json", "regex" to the others.  Returns 0 or -EINVAL. */
int logparse_kind_from_name(const char *name, enum logparse_kind *ret_kind);

/* Which form of log time the format carries (LOGTIME_NONE: none; the
 * records then never have one).  JSON parsers read any form by shape from
 * the keys that map to the time (LOGTIME_AUTO). */
enum logtime_form logparse_time_form(const struct log_parser *p);

/* Extra captures: values the parser keeps besides the named record fields
 * (today the nginx variables the exporter does not know, read as opaque
 * text), numbered by first appearance in the format; each line fills
 * record.extra[0..n) with their text as logged ("-" included).  Count,
 * name (without '$'; borrowed from the parser), and the 1-based column of
 * its first use in the format text.  Out-of-range i: NULL / 0. */
size_t logparse_extra_count(const struct log_parser *p);
const char *logparse_extra_name(const struct log_parser *p, size_t i);
unsigned logparse_extra_column(const struct log_parser *p, size_t i);

/* Index of the extra capture called name (a leading '$' is ignored) that
 * the format has: 0 and *ret_index, or -ENOENT. */
int logparse_extra_find(const struct log_parser *p, const char *name, size_t *ret_index);

/* Whether extra capture i is a variable the exporter does not know, read
 * as opaque text (worth a warning: maybe a typo); false for the fields
 * asked for by logparse_opts.capture that the exporter knows. */
bool logparse_extra_is_opaque(const struct log_parser *p, size_t i);

/* Whether the pattern runs through the JIT (false: interpreter). */
bool logparse_is_jit(const struct log_parser *p);

/* Whether lines are matched by the generated format's one-pass program
 * (linematch.h) rather than by pcre2: same results, a few times faster. */
bool logparse_is_linematch(const struct log_parser *p);

#endif
