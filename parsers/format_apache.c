/*
 * format_apache.c - Apache LogFormat -> anchored pcre2 pattern.
 *
 * The text may be pasted straight from httpd.conf (LogFormat "..." nick,
 * with \" escapes) or given bare.  Each %-directive is parsed as Apache
 * does: %[!][status,list][<|>][{arg}]letter, or %{arg}^ti / ^to, and looked
 * up in a table by its letter; the row gives the value class and the
 * record field.  Units come from the directive: %D is microseconds, %T
 * whole seconds, %{ms}T / %{us}T / %{s}T as named.  %t writes its own
 * brackets; %{fmt}t writes a strftime pattern and is matched as text (or a
 * token when the pattern has no blank).
 *
 * Rejected: accepting unknown letters as tokens.  Apache itself refuses
 * them at startup, so an unknown letter is a typo worth reporting with its
 * column.
 */
#include "parsers/format_apache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct apache_spec {
	char letter;
	enum logformat_class cls;
	enum logformat_field field;
	bool needs_arg;
};

#define S(l, c, f, a)                                                                              \
	{                                                                                          \
		l, LOGFORMAT_##c, LOGFORMAT_FIELD_##f, a                                           \
	}

static const struct apache_spec apache_specs[] = {
    S('a', ADDR_LIST, REMOTE_ADDR, false),
    S('A', TOKEN, NONE, false),
    S('b', INT, BYTES, false),
    S('B', INT, BYTES, false),
    S('C', TEXT, NONE, true),
    S('D', INT, TIME_US, false),
    S('e', TEXT, NONE, true),
    S('f', TEXT, NONE, false),
    S('h', ADDR_LIST, REMOTE_ADDR, false),
    S('H', TOKEN, PROTOCOL, false),
    S('i', TEXT, NONE, true),
    S('I', INT, REQUEST_LENGTH, false),
    S('k', INT, NONE, false),
    S('l', TOKEN, NONE, false),
    S('L', TOKEN, REQUEST_ID, false), /* the request's log id (exemplars) */
    S('m', TOKEN, METHOD, false),
    S('n', TEXT, NONE, true),
    S('o', TEXT, NONE, true),
    S('O', INT, BYTES, false),
    S('p', INT, NONE, false),
    S('P', INT, NONE, false),
    S('q', TEXT, NONE, false),
    S('r', REQUEST, REQUEST, false),
    S('R', TOKEN, NONE, false),
    S('s', INT, STATUS, false),
    S('S', INT, NONE, false),
    S('t', CLF_TIME, LOGTIME_CLF, false),
    S('T', DEC, TIME_S, false),
    S('u', TOKEN, NONE, false),
    S('U', TEXT, PATH, false),
    S('v', HOST, VHOST, false),
    S('V', HOST, VHOST, false),
    S('X', TOKEN, NONE, false),
};

#undef S

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Copy s[from..to) into t turning \" and \\ into " and \ (config quoting
 * that users often keep when pasting only the string). */
static int copy_unescaped(const char *s, size_t from, size_t to, struct logformat_text *t)
{
	for (size_t j = from; j < to; j++) {
		size_t col = j + 1;
		char c = s[j];
		if (c == '\\' && j + 1 < to && (s[j + 1] == '"' || s[j + 1] == '\\')) {
			c = s[++j];
		} else if (c == '\\' && j + 1 < to && (s[j + 1] == 'n' || s[j + 1] == 't')) {
			c = s[++j] == 'n' ? '\n' : '\t';
		}
		if (logformat_text_put(t, c, col) < 0) {
			return -E2BIG;
		}
	}
	return 0;
}

static int unwrap(const char *s, struct logformat_text *t, struct logparse_error *err)
{
	size_t i = 0, end;
	bool keyword = false;

	t->len = 0;
	while (logformat_is_space(s[i])) {
		i++;
	}
	if (strncmp(s + i, "LogFormat", 9) == 0 && logformat_is_space(s[i + 9])) {
		keyword = true;
		i += 9;
		while (logformat_is_space(s[i])) {
			i++;
		}
	}
	end = strlen(s);
	while (end > i && logformat_is_space(s[end - 1])) {
		end--;
	}
	if (s[i] == '"' &&
	    (keyword || strstr(s + i, "\\\"") != NULL || (end - i >= 2 && s[end - 1] == '"'))) {
		/* a config string: find its closing unescaped quote */
		size_t j = i + 1;
		while (j < end && s[j] != '"') {
			j += (s[j] == '\\' && j + 1 < end) ? 2 : 1;
		}
		if (j >= end) {
			logformat_set_error(err, i + 1,
			                    "unterminated \" string starting at column %zu", i + 1);
			return -EINVAL;
		}
		/* what follows is the nickname (or nothing) */
		i++;
		end = j;
	}
	if (copy_unescaped(s, i, end, t) < 0) {
		logformat_set_error(err, 0, "log format longer than %d bytes", LOGFORMAT_MAX_TEXT);
		return -E2BIG;
	}
	return 0;
}

static const struct apache_spec *lookup_spec(char letter)
{
	for (size_t i = 0; i < ARRAY_SIZE(apache_specs); i++) {
		if (apache_specs[i].letter == letter) {
			return &apache_specs[i];
		}
	}
	return NULL;
}

static bool arg_is(const char *a, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(a, word, n) == 0;
}

/* The log time a %{arg}t item gives: begin:/end: prefixes dropped; sec,
 * msec, usec are Unix time; a strftime format is kept when logtime can read
 * it back; msec_frac, usec_frac and other formats give no time. */
static void time_arg(const struct logformat_text *t, const char *arg, size_t arg_len,
                     struct logformat_piece *item)
{
	static const struct {
		const char *word;
		enum logformat_field field;
	} units[] = {
	    {"sec", LOGFORMAT_FIELD_LOGTIME_EPOCH_S},
	    {"msec", LOGFORMAT_FIELD_LOGTIME_EPOCH_MS},
	    {"usec", LOGFORMAT_FIELD_LOGTIME_EPOCH_US},
	};

	item->field = LOGFORMAT_FIELD_NONE;
	if (arg_len >= 6 && memcmp(arg, "begin:", 6) == 0) {
		arg += 6;
		arg_len -= 6;
	} else if (arg_len >= 4 && memcmp(arg, "end:", 4) == 0) {
		arg += 4;
		arg_len -= 4;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (arg_is(arg, arg_len, units[i].word)) {
			item->field = (uint8_t)units[i].field;
			return;
		}
	}
	if (logtime_format_ok(arg, arg_len)) {
		item->field = LOGFORMAT_FIELD_LOGTIME_STRFTIME;
		item->start = (unsigned)(arg - t->text);
		item->len = (unsigned)arg_len;
	}
}

/* Request headers (%{...}i, any case) and environment variables (%{...}e)
 * that carry a request or trace id, for exemplars. */
static const struct {
	char letter;
	const char *name;
	enum logformat_field field;
} id_args[] = {
    {'i', "X-Request-ID", LOGFORMAT_FIELD_REQUEST_ID},
    {'i', "X-Correlation-ID", LOGFORMAT_FIELD_REQUEST_ID},
    {'i', "traceparent", LOGFORMAT_FIELD_TRACEPARENT},
    {'i', "X-Trace-ID", LOGFORMAT_FIELD_TRACE_ID},
    {'i', "X-B3-TraceId", LOGFORMAT_FIELD_TRACE_ID},
    {'e', "UNIQUE_ID", LOGFORMAT_FIELD_REQUEST_ID}, /* mod_unique_id */
};

static bool arg_is_nocase(const char *a, size_t n, const char *word)
{
	if (strlen(word) != n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char x = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
		char y = word[i] >= 'A' && word[i] <= 'Z' ? (char)(word[i] + 32) : word[i];
		if (x != y) {
			return false;
		}
	}
	return true;
}

/* The id field an %{arg}i / %{arg}e directive feeds, NONE when it is no id. */
static enum logformat_field id_field(char letter, const char *arg, size_t arg_len)
{
	for (size_t i = 0; arg && i < ARRAY_SIZE(id_args); i++) {
		if (id_args[i].letter == letter && arg_is_nocase(arg, arg_len, id_args[i].name)) {
			return id_args[i].field;
		}
	}
	return LOGFORMAT_FIELD_NONE;
}

/* Item class and field for a directive with its optional {arg}. */
static int classify(const struct logformat_text *t, size_t pct, const struct apache_spec *sp,
                    const char *arg, size_t arg_len, struct logformat_piece *item,
                    struct logparse_error *err)
{
	item->cls = (uint8_t)sp->cls;
	item->field = (uint8_t)sp->field;
	if (sp->letter == 'T' && arg != NULL) {
		if (arg_is(arg, arg_len, "ms")) {
			item->field = LOGFORMAT_FIELD_TIME_MS;
		} else if (arg_is(arg, arg_len, "us")) {
			item->field = LOGFORMAT_FIELD_TIME_US;
		} else if (!arg_is(arg, arg_len, "s")) {
			logformat_set_error(
			    err, t->col[pct],
			    "unknown unit {%.*s} for %%T at column %u (ms, us or s)",
			    (int)(arg_len > 32 ? 32 : arg_len), arg, t->col[pct]);
			return -EINVAL;
		}
	} else if (sp->letter == 't' && arg != NULL) {
		item->cls = memchr(arg, ' ', arg_len) != NULL ? LOGFORMAT_TEXT : LOGFORMAT_TOKEN;
		time_arg(t, arg, arg_len, item);
	} else if (sp->letter == 'i' &&
	           (arg_is(arg, arg_len, "Host") || arg_is(arg, arg_len, "host"))) {
		item->field = LOGFORMAT_FIELD_VHOST;
		item->cls = LOGFORMAT_HOST;
	} else if (id_field(sp->letter, arg, arg_len) != LOGFORMAT_FIELD_NONE) {
		item->field = (uint8_t)id_field(sp->letter, arg, arg_len);
	}
	return 0;
}

/* Parse the directive at t->text[pct] == '%'; *ret_end is one past it.
 * A literal "%%" gives an item with is_item false covering the second %. */
static int parse_directive(const struct logformat_text *t, size_t pct, size_t *ret_end,
                           struct logformat_piece *ret_item, struct logparse_error *err)
{
	const char *s = t->text;
	size_t j = pct + 1;
	const char *arg = NULL;
	size_t arg_len = 0;

	if (j < t->len && s[j] == '%') {
		*ret_item = (struct logformat_piece){(unsigned)j, 1, false, 0, 0, 0, 0};
		*ret_end = j + 1;
		return 0;
	}
	if (j < t->len && s[j] == '!') {
		j++;
	}
	while (j < t->len &&
	       ((s[j] >= '0' && s[j] <= '9') || s[j] == ',' || s[j] == '<' || s[j] == '>')) {
		j++;
	}
	if (j < t->len && s[j] == '{') {
		size_t close = j + 1;
		while (close < t->len && s[close] != '}') {
			close++;
		}
		if (close >= t->len) {
			logformat_set_error(err, t->col[pct],
			                    "unterminated %%{ in directive at column %u",
			                    t->col[pct]);
			return -EINVAL;
		}
		arg = s + j + 1;
		arg_len = close - j - 1;
		j = close + 1;
	}
	while (j < t->len && (s[j] == '<' || s[j] == '>')) {
		j++;
	}
	if (j >= t->len) {
		logformat_set_error(err, t->col[pct], "incomplete %% directive at column %u",
		                    t->col[pct]);
		return -EINVAL;
	}
	struct logformat_piece item = {(unsigned)pct, 0, true, LOGFORMAT_TEXT, 0, 0, 0};
	if (s[j] == '^' && j + 2 < t->len && s[j + 1] == 't' &&
	    (s[j + 2] == 'i' || s[j + 2] == 'o')) {
		item.dir_start = (unsigned)pct;
		item.dir_len = (unsigned)(j + 3 - pct);
		*ret_item = item;
		*ret_end = j + 3;
		return 0;
	}
	const struct apache_spec *sp = lookup_spec(s[j]);
	if (sp == NULL || (sp->needs_arg && arg == NULL)) {
		logformat_set_error(err, t->col[pct],
		                    sp == NULL ? "unknown Apache format specifier %%%c at column %u"
		                               : "Apache format specifier %%%c needs a {name} "
		                                 "(column %u)",
		                    s[j], t->col[pct]);
		return -EINVAL;
	}
	int r = classify(t, pct, sp, arg, arg_len, &item, err);
	if (r < 0) {
		return r;
	}
	item.dir_start = (unsigned)pct;
	item.dir_len = (unsigned)(j + 1 - pct);
	*ret_item = item;
	*ret_end = j + 1;
	return 0;
}

/* Whether the status directive starting at text[start] is %>s (final). */
static bool is_final_status(const struct logformat_text *t, unsigned start)
{
	for (size_t j = start + 1; j < t->len && t->text[j] != 's'; j++) {
		if (t->text[j] == '>') {
			return true;
		}
	}
	return false;
}

/* With both %s (status of the original request) and %>s (final status after
 * internal redirects) in a format, count the final one whatever the order. */
static void prefer_final_status(const struct logformat_text *t, struct logformat_piece *pieces,
                                size_t n)
{
	bool has_final = false;
	for (size_t i = 0; i < n; i++) {
		if (pieces[i].is_item && pieces[i].field == LOGFORMAT_FIELD_STATUS &&
		    is_final_status(t, pieces[i].start)) {
			has_final = true;
		}
	}
	for (size_t i = 0; has_final && i < n; i++) {
		if (pieces[i].is_item && pieces[i].field == LOGFORMAT_FIELD_STATUS &&
		    !is_final_status(t, pieces[i].start)) {
			pieces[i].field = LOGFORMAT_FIELD_NONE;
		}
	}
}

static int tokenize(const struct logformat_text *t, struct logformat_piece *pieces, size_t *ret_n,
                    struct logparse_error *err)
{
	size_t n = 0, lit = 0, i = 0;
	int r;

	while (i < t->len) {
		if (t->text[i] != '%') {
			i++;
			continue;
		}
		struct logformat_piece item;
		size_t end;
		r = parse_directive(t, i, &end, &item, err);
		if (r < 0) {
			return r;
		}
		struct logformat_piece litpc = {
		    (unsigned)lit, (unsigned)(i - lit), false, 0, 0, 0, 0};
		if ((r = logformat_add_piece(pieces, &n, litpc, err)) < 0) {
			return r;
		}
		if (item.is_item) {
			r = logformat_add_piece(pieces, &n, item, err);
			lit = end;
		} else {
			lit = item.start; /* "%%": the second % starts the next literal */
		}
		if (r < 0) {
			return r;
		}
		i = end;
	}
	struct logformat_piece tail = {(unsigned)lit, (unsigned)(t->len - lit), false, 0, 0, 0, 0};
	if ((r = logformat_add_piece(pieces, &n, tail, err)) < 0) {
		return r;
	}
	prefer_final_status(t, pieces, n);
	*ret_n = n;
	return 0;
}

int format_apache_compile_want(const char *text, const char *const *want, size_t n_want,
                               struct logformat *f, struct logparse_error *err)
{
	static const struct logformat_dialect dialect = {
	    .no_status = "Apache log format has no status (%s or %>s)",
	    .too_long = "Apache log format too long for the pattern buffer",
	    .unwrap = unwrap,
	    .tokenize = tokenize,
	};

	return logformat_compile(&dialect, text, want, n_want, f, err);
}

int format_apache_compile(const char *text, struct logformat *f, struct logparse_error *err)
{
	return format_apache_compile_want(text, NULL, 0, f, err);
}
