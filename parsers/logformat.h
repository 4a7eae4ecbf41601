/*
 * logformat.h - building one anchored pcre2 pattern from a log format.
 *
 * The nginx and Apache format compilers (format_nginx.c, format_apache.c)
 * split a format into literals and items (variables / specifiers) and feed
 * them here.  This module owns the regex text and the table that maps each
 * capture group to a record field; it picks the sub-pattern for an item from
 * its value class and from the literal characters around it (inside "..."
 * an item is a quoted string with escapes, inside [...] anything but ']',
 * otherwise a class-specific possessive pattern that stops at the next
 * literal character).
 */
#ifndef PARSERS_LOGFORMAT_H
#define PARSERS_LOGFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/linematch.h"
#include "parsers/logtime.h"
#include "parsers/record.h"

/* Record fields a capture group can feed. */
enum logformat_field {
	LOGFORMAT_FIELD_NONE = 0,
	LOGFORMAT_FIELD_STATUS,
	LOGFORMAT_FIELD_REQUEST, /* "METHOD target PROTOCOL", split after matching */
	LOGFORMAT_FIELD_METHOD,
	LOGFORMAT_FIELD_PATH,
	LOGFORMAT_FIELD_PROTOCOL,
	LOGFORMAT_FIELD_VHOST,
	LOGFORMAT_FIELD_REMOTE_ADDR,
	LOGFORMAT_FIELD_BYTES,
	LOGFORMAT_FIELD_TIME_S,          /* request time in seconds */
	LOGFORMAT_FIELD_TIME_MS,         /* request time in milliseconds */
	LOGFORMAT_FIELD_TIME_US,         /* request time in microseconds */
	LOGFORMAT_FIELD_UPSTREAM_TIME,   /* list of seconds */
	LOGFORMAT_FIELD_UPSTREAM_STATUS, /* list of codes */
	/* the line's log time, one field per form (enum logtime_form); the
	 * first one captured wins, the others are not captured */
	LOGFORMAT_FIELD_LOGTIME_CLF,
	LOGFORMAT_FIELD_LOGTIME_ISO8601,
	LOGFORMAT_FIELD_LOGTIME_EPOCH_S,
	LOGFORMAT_FIELD_LOGTIME_EPOCH_MS,
	LOGFORMAT_FIELD_LOGTIME_EPOCH_US,
	LOGFORMAT_FIELD_LOGTIME_STRFTIME, /* format in the piece's arg */
	LOGFORMAT_FIELD_LOGTIME_AUTO,
	/* the request's id, for exemplars: a request id ($request_id, X-Request-ID,
	 * %L), a trace id, or a W3C traceparent header (its trace id is kept) */
	LOGFORMAT_FIELD_REQUEST_ID,
	LOGFORMAT_FIELD_TRACE_ID,
	LOGFORMAT_FIELD_TRACEPARENT,
	/* sizes and upstream phases (their histograms, off unless captured) */
	LOGFORMAT_FIELD_REQUEST_LENGTH,        /* request bytes: $request_length, %I */
	LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME, /* list of seconds */
	LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME,  /* list of seconds */
	LOGFORMAT_FIELD_COUNT
};

/* Extra captures (record.h extra[]): group_field value
 * LOGFORMAT_FIELD_EXTRA + k feeds extra[k].  Outside enum logformat_field
 * so tables indexed by field stay small. */
#define LOGFORMAT_FIELD_EXTRA 64u
#define LOGFORMAT_MAX_EXTRA LOG_RECORD_MAX_EXTRA
#define LOGFORMAT_EXTRA_NAME_MAX 64 /* bytes of a name, with NUL */

/* Value classes: what text an item can produce. */
enum logformat_class {
	LOGFORMAT_TOKEN,      /* no spaces: ids, schemes, ISO times */
	LOGFORMAT_HOST,       /* host name: no spaces, '/', '"', '?', '#' */
	LOGFORMAT_TEXT,       /* free text, may hold spaces (headers, $request_uri) */
	LOGFORMAT_INT,        /* digits or "-" */
	LOGFORMAT_DEC,        /* decimal or "-" */
	LOGFORMAT_INT_LIST,   /* "200, 502 : 404", "-" entries allowed */
	LOGFORMAT_DEC_LIST,   /* "0.100, - : 0.004" */
	LOGFORMAT_ADDR_LIST,  /* "10.0.0.2, 10.0.0.1", "[::1]:80, unix:/x : 1.2.3.4:80" */
	LOGFORMAT_REQUEST,    /* "GET /x HTTP/1.1" (has spaces) */
	LOGFORMAT_TIME_LOCAL, /* "17/May/2015:20:05:16 +0000" */
	LOGFORMAT_CLF_TIME,   /* Apache %t: "[17/May/2015:20:05:16 +0000]" with brackets */
};

#define LOGFORMAT_MAX_GROUPS 48
#define LOGFORMAT_MAX_PATTERN 16384
#define LOGFORMAT_MAX_PIECES 512
/* Format text after removing config-file quoting (see struct logformat_text). */
#define LOGFORMAT_MAX_TEXT 8192

/* Where one piece of the format sits in the pattern and in the format text:
 * what a parse-failure diagnosis maps a pattern position back to. */
struct logformat_span {
	uint32_t pat_off;    /* offset of the piece's first pattern byte */
	uint16_t text_start; /* the piece in logformat.text ("%{Referer}i", " \"") */
	uint16_t text_len;
	bool is_item;
	uint8_t cls;   /* enum logformat_class (items) */
	uint8_t field; /* enum logformat_field (items) */
};

struct logformat {
	char pattern[LOGFORMAT_MAX_PATTERN]; /* NUL-terminated pcre2 pattern */
	size_t len;
	unsigned ngroups;                              /* capture groups 1..ngroups */
	uint8_t group_field[LOGFORMAT_MAX_GROUPS + 1]; /* group -> enum logformat_field */
	/* group -> extra index + 1 for a group that feeds a record field and
	 * is also wanted as an extra capture (logformat_compile's want); 0 */
	uint8_t group_extra[LOGFORMAT_MAX_GROUPS + 1];
	bool has_field[LOGFORMAT_FIELD_COUNT];
	bool overflow;
	uint8_t time_field;                   /* the LOGTIME field captured, NONE: no time */
	char time_format[LOGTIME_MAX_FORMAT]; /* its strftime format (LOGTIME_STRFTIME),
	                                         NUL-terminated */
	/* extra captures, in order of first appearance: names and 1-based columns */
	unsigned n_extra;
	char extra_name[LOGFORMAT_MAX_EXTRA][LOGFORMAT_EXTRA_NAME_MAX];
	unsigned extra_col[LOGFORMAT_MAX_EXTRA];
	bool has_extra[LOGFORMAT_MAX_EXTRA];
	bool extra_wanted[LOGFORMAT_MAX_EXTRA]; /* asked for by name (want) */
	bool extra_opaque[LOGFORMAT_MAX_EXTRA]; /* a variable the dialect does not know */
	unsigned extra_refused_col; /* column of the first name past LOGFORMAT_MAX_EXTRA */
	/* For diagnoses: the pieces in pattern order, the unwrapped format text
	 * they point into, and where the pattern's end-of-line check starts. */
	struct logformat_span spans[LOGFORMAT_MAX_PIECES];
	size_t nspans;
	char text[LOGFORMAT_MAX_TEXT];
	size_t text_len;
	uint32_t end_off;
	/* The same pattern as a one-pass program (linematch.h); prog.ok false
	 * when the format has a lazy piece and needs pcre2. */
	struct linematch prog;
};

/* Format text after removing config-file quoting, with the 1-based column
 * of every byte in the text the user gave (for error messages). */

struct logformat_text {
	char text[LOGFORMAT_MAX_TEXT];
	unsigned col[LOGFORMAT_MAX_TEXT];
	size_t len;
};

/* One piece of a tokenised format: a literal run of text[start..start+len)
 * or an item of class cls feeding field.  An item has no text of its own,
 * except a LOGFORMAT_FIELD_LOGTIME_STRFTIME item (start/len give its
 * strftime format in the text) and an extra capture: a tokenizer marks one
 * with field LOGFORMAT_FIELD_EXTRA and its name as text[start..start+len)
 * (without the dialect's sigil); logformat_build numbers the distinct names
 * in order of first appearance (one name used twice is one capture).
 * An item's directive as written ("$http_referer", "%{Referer}i") is
 * text[dir_start..dir_start+dir_len), for diagnoses (dir_len 0: unknown). */
struct logformat_piece {
	unsigned start, len;
	bool is_item;
	uint8_t cls;                 /* enum logformat_class */
	uint8_t field;               /* enum logformat_field, or LOGFORMAT_FIELD_EXTRA */
	unsigned dir_start, dir_len; /* items: the directive as written */
};

/* Build the whole pattern from pieces over t->text (init + literals + items
 * with their neighbouring characters as context + finish).  want[0..n_want)
 * names items to keep as extra captures (extra[k] for want[k]; the
 * format's unknown variables come after them): an item whose directive is
 * that name (logformat_item_is) is captured at its first appearance, also
 * when it feeds a record field (group_extra), so any field of the format
 * can become a label.  Capturing changes no match: a line parses or fails
 * exactly as without want.  Returns 0; -EINVAL when nothing feeds the
 * status; -E2BIG when the pattern does not fit; -EMLINK with
 * extra_refused_col set past LOGFORMAT_MAX_EXTRA extra names (or for a
 * name longer than LOGFORMAT_EXTRA_NAME_MAX - 1). */
int logformat_build(struct logformat *f, const struct logformat_text *t,
                    const struct logformat_piece *pieces, size_t n, const char *const *want,
                    size_t n_want);

/* Whether the directive dir[0..len) as written in a format ("$host",
 * "${host}", "%>s", "%{X-Forwarded-Proto}i") is the item a user names with
 * name: nginx variables with or without '$' ("host", "$host"); Apache
 * specifiers as written without their modifiers ("%s" and "%>s" are one;
 * "%{x-forwarded-proto}i" and "%{X-Forwarded-Proto}i" are one: header
 * names are case-insensitive). */
bool logformat_item_is(const char *dir, size_t len, const char *name);

struct logparse_error;

/* Fill *err (NULL-safe) with a printf-style message and a column. */
void logformat_set_error(struct logparse_error *err, size_t column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A format dialect (nginx, Apache): how its text is unwrapped from a pasted
 * directive and cut into pieces.  logformat_compile runs the steps. */
struct logformat_dialect {
	const char *no_status; /* error message when no item feeds the status */
	const char *too_long;  /* error message when the pattern buffer overflows */
	int (*unwrap)(const char *text, struct logformat_text *t, struct logparse_error *err);
	int (*tokenize)(const struct logformat_text *t, struct logformat_piece *pieces,
	                size_t *ret_n, struct logparse_error *err);
};

/* Unwrap, tokenize and build text with dialect d into *f, keeping the
 * items named by want[0..n_want) as extra captures (logformat_build).
 * Returns 0, -EINVAL (bad format, *err filled), -E2BIG, -ENOMEM. */
int logformat_compile(const struct logformat_dialect *d, const char *text, const char *const *want,
                      size_t n_want, struct logformat *f, struct logparse_error *err);

/* LOGFORMAT_NEXT_ITEM: an item's next character when another item follows
 * directly (see logformat_build's context rules). */
#define LOGFORMAT_NEXT_ITEM (-2)

/* Whether c is blank in a server config (space, tab, newline). */
bool logformat_is_space(char c);

/* Append one character of format text with its 1-based source column.
 * Returns 0 or -E2BIG past LOGFORMAT_MAX_TEXT. */
int logformat_text_put(struct logformat_text *t, char c, size_t col);

/* Append a piece to pieces[*n] (empty literals are skipped).  Returns 0 or
 * -E2BIG with *err filled past LOGFORMAT_MAX_PIECES. */
int logformat_add_piece(struct logformat_piece *pieces, size_t *n, struct logformat_piece pc,
                        struct logparse_error *err);

/* Name of a field as used for raw-regex group names ("status", ...). */
const char *logformat_field_name(enum logformat_field field);

/* Whether field is one of the LOGFORMAT_FIELD_LOGTIME_* fields. */
bool logformat_is_time_field(enum logformat_field field);

/* The enum logtime_form of a LOGTIME field (0 for other fields). */
unsigned logformat_time_form(enum logformat_field field);
/* The text of line at byte pos for a diagnosis: up to 24 bytes in double
 * quotes, non-printable bytes, quotes and backslashes as \xHH, "..." when
 * cut; "end of line" at the end.  out is always terminated. */
void logformat_found_text(const char *line, size_t len, size_t pos, char *out, size_t size);

/* What an item of class cls looks like, for diagnoses ("a number or -"). */
const char *logformat_class_text(enum logformat_class cls);

#endif
