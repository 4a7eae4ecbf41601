/*
 * logtime.h - the time a log line was written, read from its text.
 *
 * Forms: nginx $time_local and Apache %t ("10/Oct/2000:13:55:36 -0700",
 * with or without the brackets), ISO 8601 ($time_iso8601, JSON logs:
 * "2000-10-10T13:55:36-07:00", "Z", fractions), Unix time in seconds,
 * milliseconds or microseconds ($msec, %{sec}t, %{msec}t, %{usec}t), an
 * Apache %{FORMAT}t strftime format, and "auto" (any of the first three by
 * shape: JSON keys and regex groups named "time").
 *
 * No locale, no libc time-zone lookup: the UTC offset is in the text, and a
 * time written without one ($time_iso8601 always has one; a %{FORMAT}t
 * without %z may not) is read as UTC.  Dates go to days through the civil
 * calendar arithmetic (proleptic Gregorian), so leap years are exact and
 * no daylight-saving rule is ever applied.  Years 1970..9999 only: anything
 * else is a corrupt line, not history.
 *
 * Rejected: strptime + timegm (locale-dependent month names, a tz lookup
 * per call in some libcs, and no way to bound what it accepts).
 */
#ifndef PARSERS_LOGTIME_H
#define PARSERS_LOGTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/record.h"

enum logtime_form {
	LOGTIME_NONE = 0, /* the format carries no time */
	LOGTIME_CLF,      /* 10/Oct/2000:13:55:36 -0700, optionally inside [ ] */
	LOGTIME_ISO8601,  /* 2000-10-10T13:55:36-07:00 (Z, +0700, .123, ' ' for T) */
	LOGTIME_EPOCH_S,  /* 1700000000 or 1700000000.123 */
	LOGTIME_EPOCH_MS, /* 1700000000123 */
	LOGTIME_EPOCH_US, /* 1700000000123456 */
	LOGTIME_STRFTIME, /* an Apache %{FORMAT}t format */
	LOGTIME_AUTO,     /* CLF, ISO 8601 or Unix time (digit count picks the unit) */
};

/* Longest strftime format kept for LOGTIME_STRFTIME. */
#define LOGTIME_MAX_FORMAT 128

/* Whether fmt[0..n) is a strftime format this module can read back: the
 * conversions %Y %y %m %d %e %j %H %I %M %S %p %b %h %B %a %A %z %Z %s %T
 * %D %F %R %n %t %%, literals, and at least a date (or %s).  Apache's
 * begin:/end: prefix must be removed first. */
bool logtime_format_ok(const char *fmt, size_t n);

/* Parse s[0..n) in form (fmt: the NUL-terminated strftime format for
 * LOGTIME_STRFTIME, else unused).  Returns 0 and *ret_ms (Unix time in
 * milliseconds; sub-millisecond digits are dropped), -EINVAL when the text
 * is not a valid time of that form (bad day of month, month name, offset,
 * trailing text, year outside 1970..9999). */
int logtime_parse(enum logtime_form form, const char *fmt, const char *s, size_t n,
                  int64_t *ret_ms);

/* The log time of a parsed record: 0 and *ret_ms; -ENOENT when the format
 * has no time or the line shows none ("-"); -EINVAL when it is unreadable. */
int logtime_of_record(const struct log_record *r, int64_t *ret_ms);

/* The last time text read and its result: a busy log writes many lines in
 * the same second with the same text, and a memcmp is about a twentieth of
 * a parse.  Caller storage, one per thread, zero-initialised; texts longer
 * than LOGTIME_CACHE_TEXT are parsed every time. */
#define LOGTIME_CACHE_TEXT 48
struct logtime_cache {
	const char *fmt; /* of the cached text (LOGTIME_STRFTIME) */
	size_t len;      /* 0: empty */
	int rc;
	int64_t ms;
	uint8_t form;
	char text[LOGTIME_CACHE_TEXT];
};

/* logtime_of_record through cache c: the same results, bit for bit. */
int logtime_of_record_cached(const struct log_record *r, struct logtime_cache *c, int64_t *ret_ms);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t logtime_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
