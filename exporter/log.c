/*
 * log.c - logfmt / JSON diagnostics on stderr (see log.h).
 *
 * Each message is built in a stack buffer and written with one write(2) so
 * lines from different threads never interleave.  A message longer than the
 * buffer loses whole items from its end (never half an escape), and the
 * closing quote, brace and newline always fit, so every JSON line parses;
 * bytes that are not UTF-8 become U+FFFD.  Level and format are set
 * once at start-up; they are the only process-wide settings besides signal
 * flags, and are written before any thread exists.
 */
#include "exporter/log.h"

#include "parsers/utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_threshold = LOG_LEVEL_INFO;
static enum log_format log_fmt = LOG_FORMAT_LOGFMT;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_level level, enum log_format format)
{
	log_threshold = level;
	log_fmt = format;
}

int log_level_from_name(const char *name, enum log_level *ret_level)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int log_format_from_name(const char *name, enum log_format *ret_format)
{
	if (strcmp(name, "logfmt") == 0) {
		*ret_format = LOG_FORMAT_LOGFMT;
	} else if (strcmp(name, "json") == 0) {
		*ret_format = LOG_FORMAT_JSON;
	} else {
		return -EINVAL;
	}
	return 0;
}

#define LINE_MAX_BYTES 2048
#define LINE_RESERVE 4 /* closing quote, '}', '\n', spare */

struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
	bool full; /* something did not fit: drop the rest */
};

/* Bytes left for content (closing characters may eat into the reserve). */
static size_t room(const struct line *l)
{
	return l->len + LINE_RESERVE >= sizeof(l->buf) ? 0 : sizeof(l->buf) - LINE_RESERVE - l->len;
}

/* All or nothing: a piece that does not fit is dropped with everything
 * after it. */
static void put(struct line *l, const char *s, size_t n)
{
	if (l->full || n > room(l)) {
		l->full = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Closing characters use the reserve. */
static void put_closing(struct line *l, char c)
{
	if (l->len < sizeof(l->buf)) {
		l->buf[l->len++] = c;
	}
}

static void put_str(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

static bool needs_quotes(const char *v)
{
	if (!*v) {
		return true;
	}
	for (; *v; v++) {
		if (*v == ' ' || *v == '"' || *v == '=' || (unsigned char)*v < 0x20) {
			return true;
		}
	}
	return false;
}

static void put_value(struct line *l, const char *v, bool quote)
{
	if (quote) {
		put(l, "\"", 1);
	}
	const char *end = v + strlen(v);

	while (v < end && !l->full) {
		unsigned char c = (unsigned char)*v;
		char esc[8];
		size_t n = utf8_seq_len((const unsigned char *)v, (size_t)(end - v));
		if (n == 0) {
			put(l, "\xef\xbf\xbd", 3); /* U+FFFD */
			v++;
			continue;
		}
		if (n > 1) {
			put(l, v, n);
			v += n;
			continue;
		}
		v++;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c == '\n') {
			put(l, "\\n", 2);
		} else if (c < 0x20) {
			int k = snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(l, esc, k > 0 ? (size_t)k : 0);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
	if (quote) {
		/* Uses the reserve: a value cut short is still a closed string. */
		put_closing(l, '"');
	}
}

static void put_pair(struct line *l, const char *k, const char *v, bool first)
{
	/* The key and the start of the value must fit, or the pair is left out
	 * (a key without a value would not parse). */
	if (l->full || strlen(k) + 8 > room(l)) {
		l->full = true;
		return;
	}
	if (log_fmt == LOG_FORMAT_JSON) {
		put_str(l, first ? "{\"" : ",\"");
		put_str(l, k);
		put_str(l, "\":");
		put_value(l, v, true);
	} else {
		if (!first) {
			put(l, " ", 1);
		}
		put_str(l, k);
		put(l, "=", 1);
		put_value(l, v, needs_quotes(v));
	}
}

void log_msg(enum log_level level, const char *msg, ...)
{
	struct line l = {.len = 0, .full = false};
	char ts[64];
	struct timespec now;
	struct tm tm;
	va_list ap;
	const char *k;

	if (level < log_threshold) {
		return;
	}
	(void)clock_gettime(CLOCK_REALTIME, &now);
	(void)gmtime_r(&now.tv_sec, &tm);
	(void)snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	               now.tv_nsec / 1000000);
	put_pair(&l, "ts", ts, true);
	put_pair(&l, "level", level_names[level], false);
	put_pair(&l, "msg", msg, false);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		put_pair(&l, k, v ? v : "(null)", false);
	}
	va_end(ap);
	if (log_fmt == LOG_FORMAT_JSON) {
		put_closing(&l, '}');
	}
	put_closing(&l, '\n');
	(void)!write(STDERR_FILENO, l.buf, l.len);
}
