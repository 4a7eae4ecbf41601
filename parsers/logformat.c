/*
 * logformat.c - regex pieces for log format items.
 *
 * Every piece is possessive ("*+", "++") or atomic so the compiled pattern
 * never backtracks into a field it has already matched: a line is matched
 * left to right in one pass and a malformed line fails as soon as a literal
 * does not fit.  The one exception is free text outside quotes followed by
 * a space (an unquoted User-Agent), which needs a lazy ".*?"; the parser's
 * match and depth limits bound it.
 *
 * Quoted items use [^"\\]*+(?:\\.[^"\\]*+)*+ which accepts both Apache's
 * \" and \\ escapes and nginx's \x22 / \xHH escapes (the latter contain no
 * quote at all).  Only items that feed a record field are captured, as
 * numbered groups; group_field[] maps them back.  The pattern ends with a
 * lookahead that accepts end of line or a space so extra trailing fields
 * (a "main" line read with "combined") still parse.
 *
 * Every piece is also emitted as an op of a linematch program (same
 * class, same context, same group), which matches the line without pcre2;
 * the two lazy pieces refuse the program, and such formats run on pcre2.
 *
 * Rejected: named groups (pcre2 forbids duplicate names and the lookup by
 * name costs time per line) and \Q..\E literals (escaping per character is
 * just as simple and keeps the pattern readable in error messages).
 */
#include "parsers/logformat.h"

#include "parsers/logparse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTED "[^\"\\\\]*+(?:\\\\.[^\"\\\\]*+)*+"
#define INT_PIECE "(?:[0-9]++|-)"
#define DEC_PIECE "(?:[0-9][0-9.]*+|\\.[0-9]++|-)"
#define SEP_PIECE "(?:, | : )"

_Static_assert(LOGFORMAT_MAX_GROUPS <= LINEMATCH_MAX_GROUPS,
               "every format that fits the pattern must fit its linematch program");

/* The bytes a run class excludes, for the program (linematch). */
struct run_set {
	char c[8];
	size_t n;
};

static const char *const field_names[LOGFORMAT_FIELD_COUNT] = {
    [LOGFORMAT_FIELD_NONE] = "",
    [LOGFORMAT_FIELD_STATUS] = "status",
    [LOGFORMAT_FIELD_REQUEST] = "request",
    [LOGFORMAT_FIELD_METHOD] = "method",
    [LOGFORMAT_FIELD_PATH] = "path",
    [LOGFORMAT_FIELD_PROTOCOL] = "protocol",
    [LOGFORMAT_FIELD_VHOST] = "vhost",
    [LOGFORMAT_FIELD_REMOTE_ADDR] = "remote_addr",
    [LOGFORMAT_FIELD_BYTES] = "bytes",
    [LOGFORMAT_FIELD_TIME_S] = "request_time",
    [LOGFORMAT_FIELD_TIME_MS] = "request_time_ms",
    [LOGFORMAT_FIELD_TIME_US] = "request_time_us",
    [LOGFORMAT_FIELD_UPSTREAM_TIME] = "upstream_time",
    [LOGFORMAT_FIELD_UPSTREAM_STATUS] = "upstream_status",
    [LOGFORMAT_FIELD_LOGTIME_CLF] = "time_local",
    [LOGFORMAT_FIELD_LOGTIME_ISO8601] = "time_iso8601",
    [LOGFORMAT_FIELD_LOGTIME_EPOCH_S] = "time_epoch",
    [LOGFORMAT_FIELD_LOGTIME_EPOCH_MS] = "time_epoch_ms",
    [LOGFORMAT_FIELD_LOGTIME_EPOCH_US] = "time_epoch_us",
    [LOGFORMAT_FIELD_LOGTIME_STRFTIME] = "time_format", /* needs a format: not nameable */
    [LOGFORMAT_FIELD_LOGTIME_AUTO] = "time",
    [LOGFORMAT_FIELD_REQUEST_ID] = "request_id",
    [LOGFORMAT_FIELD_TRACE_ID] = "trace_id",
    [LOGFORMAT_FIELD_TRACEPARENT] = "traceparent",
    [LOGFORMAT_FIELD_REQUEST_LENGTH] = "request_length",
    [LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME] = "upstream_connect_time",
    [LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME] = "upstream_header_time",
};

static const uint8_t time_forms[LOGFORMAT_FIELD_COUNT] = {
    [LOGFORMAT_FIELD_LOGTIME_CLF] = LOGTIME_CLF,
    [LOGFORMAT_FIELD_LOGTIME_ISO8601] = LOGTIME_ISO8601,
    [LOGFORMAT_FIELD_LOGTIME_EPOCH_S] = LOGTIME_EPOCH_S,
    [LOGFORMAT_FIELD_LOGTIME_EPOCH_MS] = LOGTIME_EPOCH_MS,
    [LOGFORMAT_FIELD_LOGTIME_EPOCH_US] = LOGTIME_EPOCH_US,
    [LOGFORMAT_FIELD_LOGTIME_STRFTIME] = LOGTIME_STRFTIME,
    [LOGFORMAT_FIELD_LOGTIME_AUTO] = LOGTIME_AUTO,
};

unsigned logformat_time_form(enum logformat_field field)
{
	return (unsigned)field < LOGFORMAT_FIELD_COUNT ? time_forms[field] : 0;
}

bool logformat_is_time_field(enum logformat_field field)
{
	return logformat_time_form(field) != 0;
}

static const char *const class_texts[] = {
    [LOGFORMAT_TOKEN] = "text without spaces",
    [LOGFORMAT_HOST] = "a host name",
    [LOGFORMAT_TEXT] = "text",
    [LOGFORMAT_INT] = "a number or -",
    [LOGFORMAT_DEC] = "a decimal number or -",
    [LOGFORMAT_INT_LIST] = "a number or a list of numbers",
    [LOGFORMAT_DEC_LIST] = "a decimal or a list of decimals",
    [LOGFORMAT_ADDR_LIST] = "an address or a list of addresses",
    [LOGFORMAT_REQUEST] = "a request line (METHOD target PROTOCOL)",
    [LOGFORMAT_TIME_LOCAL] = "a time like 10/Oct/2000:13:55:36 -0700",
    [LOGFORMAT_CLF_TIME] = "a time in brackets like [10/Oct/2000:13:55:36 -0700]",
};

const char *logformat_class_text(enum logformat_class cls)
{
	if ((size_t)cls >= sizeof(class_texts) / sizeof(class_texts[0])) {
		return "text";
	}
	return class_texts[cls];
}

const char *logformat_field_name(enum logformat_field field)
{
	if ((unsigned)field >= LOGFORMAT_FIELD_COUNT) {
		return "";
	}
	return field_names[field];
}

static void put(struct logformat *f, const char *s, size_t len)
{
	if (f->overflow || len >= sizeof(f->pattern) - f->len) {
		f->overflow = true;
		return;
	}
	memcpy(f->pattern + f->len, s, len);
	f->len += len;
	f->pattern[f->len] = '\0';
}

static void puts_(struct logformat *f, const char *s)
{
	put(f, s, strlen(s));
}

static bool is_meta(unsigned char c)
{
	return strchr("\\^$.|?*+()[]{}/#-", c) != NULL && c != '\0';
}

/* Append one literal byte, escaped for use outside or inside a class. */
static void put_char(struct logformat *f, unsigned char c)
{
	char buf[8];

	if (c < 0x20 || c >= 0x7f) {
		static const char hex[] = "0123456789abcdef";
		buf[0] = '\\';
		buf[1] = 'x';
		buf[2] = hex[c >> 4];
		buf[3] = hex[c & 15];
		put(f, buf, 4);
		return;
	}
	if (is_meta(c)) {
		buf[0] = '\\';
		buf[1] = (char)c;
		put(f, buf, 2);
		return;
	}
	buf[0] = (char)c;
	put(f, buf, 1);
}

static void logformat_init(struct logformat *f)
{
	f->pattern[0] = '\0';
	f->len = 0;
	f->ngroups = 0;
	f->overflow = false;
	memset(f->group_field, 0, sizeof(f->group_field));
	memset(f->group_extra, 0, sizeof(f->group_extra));
	memset(f->extra_wanted, 0, sizeof(f->extra_wanted));
	memset(f->extra_opaque, 0, sizeof(f->extra_opaque));
	memset(f->has_field, 0, sizeof(f->has_field));
	f->time_field = LOGFORMAT_FIELD_NONE;
	f->time_format[0] = '\0';
	memset(f->has_extra, 0, sizeof(f->has_extra));
	f->n_extra = 0;
	f->extra_refused_col = 0;
	f->nspans = 0;
	f->text_len = 0;
	f->end_off = 0;
	linematch_init(&f->prog);
	puts_(f, "^");
}

static void logformat_literal(struct logformat *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		put_char(f, (unsigned char)s[i]);
	}
	linematch_add_lit(&f->prog, s, len);
}

/* "[^ X]*+" / "[^ ,X]*+": run of bytes up to a space or the next literal.
 * The set goes to *ret_excl (the program's copy of the class). */
static void put_run(struct logformat *f, const char *excl, int next, const char *quant,
                    struct run_set *ret_excl)
{
	puts_(f, "[^");
	puts_(f, excl);
	ret_excl->n = strlen(excl);
	memcpy(ret_excl->c, excl, ret_excl->n);
	if (next >= 0 && next != ' ' && !(excl[0] == ',' && next == ',')) {
		put_char(f, (unsigned char)next);
		ret_excl->c[ret_excl->n++] = (char)next;
	}
	puts_(f, "]");
	puts_(f, quant);
}

static void put_list(struct logformat *f, const char *entry)
{
	puts_(f, entry);
	puts_(f, "(?:" SEP_PIECE);
	puts_(f, entry);
	puts_(f, ")*+");
}

/* The piece for an item, as pattern text and as a program op wrapped in
 * group (0: none).  The two lazy pieces have no op (linematch_refuse). */
static void put_piece(struct logformat *f, enum logformat_class cls, int prev, int next,
                      unsigned group)
{
	struct run_set rs = {{0}, 0};
	struct linematch *m = &f->prog;

	if (cls != LOGFORMAT_CLF_TIME && prev == '"' && next == '"') {
		puts_(f, QUOTED);
		linematch_add(m, LINEMATCH_QUOTED, group, "\"\\", 2);
		return;
	}
	if (cls != LOGFORMAT_CLF_TIME && prev == '[' && next == ']') {
		puts_(f, "[^\\]]*+");
		linematch_add(m, LINEMATCH_RUN, group, "]", 1);
		return;
	}
	switch (cls) {
	case LOGFORMAT_TOKEN:
		/* glued to the next item ("$a$b"): lazy, so the next one gets its text */
		put_run(f, " ", next, next == LOGFORMAT_NEXT_ITEM ? "*?" : "*+", &rs);
		if (next == LOGFORMAT_NEXT_ITEM) {
			linematch_refuse(m);
		}
		linematch_add(m, LINEMATCH_RUN, group, rs.c, rs.n);
		break;
	case LOGFORMAT_HOST:
		put_run(f, " /\"?#", next, "*+", &rs);
		linematch_add(m, LINEMATCH_RUN, group, rs.c, rs.n);
		break;
	case LOGFORMAT_TEXT:
		if (next == -1) {
			puts_(f, ".*+");
			linematch_add(m, LINEMATCH_REST, group, NULL, 0);
		} else if (next == ' ' || next == LOGFORMAT_NEXT_ITEM) {
			puts_(f, ".*?");
			linematch_refuse(m);
		} else {
			put_run(f, "", next, "*+", &rs);
			linematch_add(m, LINEMATCH_RUN, group, rs.c, rs.n);
		}
		break;
	case LOGFORMAT_INT:
		puts_(f, INT_PIECE);
		linematch_add(m, LINEMATCH_INT, group, NULL, 0);
		break;
	case LOGFORMAT_DEC:
		puts_(f, DEC_PIECE);
		linematch_add(m, LINEMATCH_DEC, group, NULL, 0);
		break;
	case LOGFORMAT_INT_LIST:
		put_list(f, INT_PIECE);
		linematch_add(m, LINEMATCH_INT_LIST, group, NULL, 0);
		break;
	case LOGFORMAT_DEC_LIST:
		put_list(f, DEC_PIECE);
		linematch_add(m, LINEMATCH_DEC_LIST, group, NULL, 0);
		break;
	case LOGFORMAT_ADDR_LIST:
		put_run(f, " ,", next, "*+", &rs);
		puts_(f, "(?:" SEP_PIECE);
		put_run(f, " ,", next, "*+", &rs);
		puts_(f, ")*+");
		linematch_add(m, LINEMATCH_ADDR_LIST, group, rs.c, rs.n);
		break;
	case LOGFORMAT_REQUEST:
		puts_(f, "(?>[^ ]++ [^ ]++(?: HTTP/[0-9.]++)?|");
		put_run(f, " ", next, "*+", &rs);
		puts_(f, ")");
		linematch_add(m, LINEMATCH_REQUEST, group, rs.c, rs.n);
		break;
	case LOGFORMAT_TIME_LOCAL:
		puts_(
		    f,
		    "[0-9]{2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}(?: [+-][0-9]{4})?+");
		linematch_add(m, LINEMATCH_TIME_LOCAL, group, NULL, 0);
		break;
	case LOGFORMAT_CLF_TIME:
		puts_(f, "\\[[^\\]]*+\\]");
		linematch_add(m, LINEMATCH_CLF_TIME, group, "]", 1);
		break;
	}
}

/* The extra capture index of a name, numbered on first sight: 0 and
 * *ret_index, or -EMLINK past LOGFORMAT_MAX_EXTRA names or for a name too
 * long to keep. */
static int extra_index(struct logformat *f, const char *name, size_t len, unsigned col,
                       unsigned *ret_index)
{
	for (unsigned k = 0; k < f->n_extra; k++) {
		if (strlen(f->extra_name[k]) == len && memcmp(f->extra_name[k], name, len) == 0) {
			if (f->extra_col[k] == 0) {
				f->extra_col[k] = col; /* a wanted name, first seen here */
			}
			*ret_index = k;
			return 0;
		}
	}
	if (f->n_extra >= LOGFORMAT_MAX_EXTRA || len >= LOGFORMAT_EXTRA_NAME_MAX) {
		f->extra_refused_col = col;
		return -EMLINK;
	}
	memcpy(f->extra_name[f->n_extra], name, len);
	f->extra_name[f->n_extra][len] = '\0';
	f->extra_col[f->n_extra] = col;
	*ret_index = f->n_extra++;
	return 0;
}

/* capture: the group_field value, 0 for a non-capturing item; dual: an
 * extra index + 1 the group feeds as well (0: none). */
static void logformat_item(struct logformat *f, enum logformat_class cls, unsigned capture,
                           unsigned dual, int prev, int next)
{
	if (capture && f->ngroups >= LOGFORMAT_MAX_GROUPS) {
		f->overflow = true;
		return;
	}
	puts_(f, capture ? "(" : "(?:");
	put_piece(f, cls, prev, next, capture ? f->ngroups + 1 : 0);
	puts_(f, ")");
	if (capture) {
		f->ngroups++;
		f->group_field[f->ngroups] = (uint8_t)capture;
		f->group_extra[f->ngroups] = (uint8_t)dual;
		if (capture < LOGFORMAT_FIELD_EXTRA) {
			f->has_field[capture] = true;
			if (logformat_is_time_field((enum logformat_field)capture)) {
				f->time_field = (uint8_t)capture;
			}
		}
	}
}

/* What an item captures (group_field value), 0 for nothing: a field the
 * first time it appears (one log time at most), an extra name the first
 * time it appears.  logformat_item marks the field as captured. */
static int item_capture(struct logformat *f, const struct logformat_text *t,
                        const struct logformat_piece *pc, unsigned *ret_capture)
{
	unsigned k;

	if (pc->field == LOGFORMAT_FIELD_EXTRA) {
		/* the column of the sigil: "$name" or "${name}" */
		size_t at = pc->start;
		for (int back = 0; back < 2 && at > 0 && t->text[at - 1] != ' '; back++) {
			at--;
			if (t->text[at] != '{') {
				break;
			}
		}
		unsigned col = t->col[at];
		int r = extra_index(f, t->text + pc->start, pc->len, col, &k);
		if (r < 0) {
			return r;
		}
		*ret_capture = f->has_extra[k] ? 0 : LOGFORMAT_FIELD_EXTRA + k;
		f->has_extra[k] = true;
		f->extra_opaque[k] = true;
		return 0;
	}
	enum logformat_field field = (enum logformat_field)pc->field;
	bool is_time = logformat_is_time_field(field);
	*ret_capture = 0;
	if (field == LOGFORMAT_FIELD_NONE || field >= LOGFORMAT_FIELD_COUNT ||
	    f->has_field[field] || (is_time && f->time_field)) {
		return 0;
	}
	/* The log time is optional (only --backfill reads it): a format that
	 * already uses every group stays valid without it. */
	if (is_time && f->ngroups >= LOGFORMAT_MAX_GROUPS) {
		return 0;
	}
	*ret_capture = field;
	return 0;
}

/* Apache: skip a directive's modifiers ("%!200,304<" of "%!200,304<{X}i"). */
static size_t apache_skip_modifiers(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == '!' || s[i] == ',' || s[i] == '<' || s[i] == '>' ||
	                   (s[i] >= '0' && s[i] <= '9'))) {
		i++;
	}
	return i;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool logformat_item_is(const char *dir, size_t len, const char *name)
{
	size_t nlen = strlen(name);

	if (len > 0 && dir[0] == '$') {
		size_t a = 1, b = len;
		if (len > 2 && dir[1] == '{' && dir[len - 1] == '}') {
			a = 2, b = len - 1;
		}
		if (name[0] == '$') {
			name++, nlen--;
		}
		return b - a == nlen && memcmp(dir + a, name, nlen) == 0;
	}
	if (len < 2 || dir[0] != '%' || nlen < 2 || name[0] != '%') {
		return false;
	}
	size_t i = apache_skip_modifiers(dir, 1, len), j = apache_skip_modifiers(name, 1, nlen);
	if (len - i != nlen - j || len == i) {
		return false;
	}
	/* the letter decides; a header argument compares without case */
	char letter = dir[len - 1];
	bool fold = letter == 'i' || letter == 'o';
	for (size_t k = 0; k < len - i; k++) {
		char a = dir[i + k], b = name[j + k];
		if (a != b && !(fold && lower(a) == lower(b))) {
			return false;
		}
	}
	return true;
}

/* Which wanted name (extra index + 1) item pc is and still needs capturing
 * (its first appearance); 0 for none. */
static unsigned wanted_item(struct logformat *f, const struct logformat_text *t,
                            const struct logformat_piece *pc, size_t n_want)
{
	for (size_t k = 0; k < n_want; k++) {
		if (!f->has_extra[k] && pc->dir_len > 0 &&
		    logformat_item_is(t->text + pc->dir_start, pc->dir_len, f->extra_name[k])) {
			return (unsigned)k + 1;
		}
	}
	return 0;
}

/* Number the wanted names first: extra k is want[k]. */
static int want_names(struct logformat *f, const char *const *want, size_t n_want)
{
	for (size_t k = 0; k < n_want; k++) {
		const char *w = want[k][0] == '$' ? want[k] + 1 : want[k];
		size_t len = strlen(w);
		if (f->n_extra >= LOGFORMAT_MAX_EXTRA || len >= LOGFORMAT_EXTRA_NAME_MAX) {
			return -EMLINK;
		}
		memcpy(f->extra_name[f->n_extra], w, len + 1);
		f->extra_col[f->n_extra] = 0;
		f->extra_wanted[f->n_extra++] = true;
	}
	return 0;
}

static int logformat_finish(struct logformat *f)
{
	f->end_off = (uint32_t)f->len;
	/* end of line, or a blank before fields the format does not describe */
	puts_(f, "(?![^ \\t])");
	linematch_add(&f->prog, LINEMATCH_END, 0, NULL, 0);
	if (f->overflow) {
		return -E2BIG;
	}
	if (!f->has_field[LOGFORMAT_FIELD_STATUS]) {
		return -EINVAL;
	}
	return 0;
}

int logformat_build(struct logformat *f, const struct logformat_text *t,
                    const struct logformat_piece *pieces, size_t n, const char *const *want,
                    size_t n_want)
{
	logformat_init(f);
	if (want_names(f, want, n_want) < 0) {
		return -EMLINK;
	}
	memcpy(f->text, t->text, t->len);
	f->text_len = t->len;
	for (size_t i = 0; i < n; i++) {
		const struct logformat_piece *pc = &pieces[i];
		unsigned ts = pc->is_item ? pc->dir_start : pc->start;
		unsigned tl = pc->is_item ? pc->dir_len : pc->len;
		f->spans[f->nspans++] = (struct logformat_span){
		    (uint32_t)f->len, (uint16_t)ts, (uint16_t)tl, pc->is_item, pc->cls, pc->field};
		if (!pc->is_item) {
			logformat_literal(f, t->text + pc->start, pc->len);
			continue;
		}
		int prev = -1, next = -1;
		if (i > 0 && !pieces[i - 1].is_item && pieces[i - 1].len > 0) {
			prev = (unsigned char)t->text[pieces[i - 1].start + pieces[i - 1].len - 1];
		}
		if (i + 1 < n && !pieces[i + 1].is_item && pieces[i + 1].len > 0) {
			next = (unsigned char)t->text[pieces[i + 1].start];
		} else if (i + 1 < n) {
			next = LOGFORMAT_NEXT_ITEM;
		}
		bool had_time = f->time_field != LOGFORMAT_FIELD_NONE;
		unsigned capture;
		unsigned wanted = wanted_item(f, t, pc, n_want), dual = 0;
		if (item_capture(f, t, pc, &capture) < 0) {
			return -EMLINK;
		}
		if (wanted && capture == 0) {
			capture = LOGFORMAT_FIELD_EXTRA + wanted - 1;
		} else if (wanted && capture < LOGFORMAT_FIELD_EXTRA) {
			dual = wanted;
		}
		if (wanted) {
			f->has_extra[wanted - 1] = true;
		}
		logformat_item(f, (enum logformat_class)pc->cls, capture, dual, prev, next);
		if (!had_time && f->time_field == LOGFORMAT_FIELD_LOGTIME_STRFTIME) {
			/* the tokenizer checked the length (logtime_format_ok) */
			size_t n_fmt = pc->len < sizeof(f->time_format) ? pc->len : 0;
			memcpy(f->time_format, t->text + pc->start, n_fmt);
			f->time_format[n_fmt] = '\0';
		}
	}
	return logformat_finish(f);
}

void logformat_set_error(struct logparse_error *err, size_t column, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL) {
		return;
	}
	va_start(ap, fmt);
	int r = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	if (r < 0) {
		err->message[0] = '\0';
	}
	err->column = column;
}

bool logformat_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int logformat_text_put(struct logformat_text *t, char c, size_t col)
{
	if (t->len >= LOGFORMAT_MAX_TEXT) {
		return -E2BIG;
	}
	t->text[t->len] = c;
	t->col[t->len] = (unsigned)col;
	t->len++;
	return 0;
}

int logformat_add_piece(struct logformat_piece *pieces, size_t *n, struct logformat_piece pc,
                        struct logparse_error *err)
{
	if (pc.len == 0 && !pc.is_item) {
		return 0;
	}
	if (*n >= LOGFORMAT_MAX_PIECES) {
		logformat_set_error(err, 0, "log format has more than %d pieces",
		                    LOGFORMAT_MAX_PIECES);
		return -E2BIG;
	}
	pieces[(*n)++] = pc;
	return 0;
}

int logformat_compile(const struct logformat_dialect *d, const char *text, const char *const *want,
                      size_t n_want, struct logformat *f, struct logparse_error *err)
{
	struct logformat_text *t = malloc(sizeof(*t));
	struct logformat_piece *pieces = calloc(LOGFORMAT_MAX_PIECES, sizeof(*pieces));
	size_t n = 0;
	int r;

	if (t == NULL || pieces == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = d->unwrap(text, t, err);
	if (r < 0) {
		goto out;
	}
	r = d->tokenize(t, pieces, &n, err);
	if (r < 0) {
		goto out;
	}
	r = logformat_build(f, t, pieces, n, want, n_want);
	if (r == -EINVAL) {
		logformat_set_error(err, 0, "%s", d->no_status);
	} else if (r == -EMLINK) {
		logformat_set_error(err, f->extra_refused_col,
		                    "log format uses more than %d variables the exporter does "
		                    "not know (the next one at column %u), or one with a name "
		                    "longer than %d bytes",
		                    LOGFORMAT_MAX_EXTRA, f->extra_refused_col,
		                    LOGFORMAT_EXTRA_NAME_MAX - 1);
		r = -EINVAL;
	} else if (r < 0) {
		logformat_set_error(err, 0, "%s", d->too_long);
	}
out:
	free(pieces);
	free(t);
	return r;
}

#define FOUND_BYTES 24

void logformat_found_text(const char *line, size_t len, size_t pos, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size == 0) {
		return;
	}
	if (pos >= len) {
		(void)snprintf(out, size, "end of line");
		return;
	}
	/* worst case per byte: 4 (\xHH); plus quotes, "..." and NUL */
	if (size < FOUND_BYTES * 4 + 6) {
		out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (size_t i = pos; i < len && i < pos + FOUND_BYTES; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	if (len - pos > FOUND_BYTES) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
