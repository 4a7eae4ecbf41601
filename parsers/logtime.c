/*
 * logtime.c - log times to Unix milliseconds (see logtime.h).
 *
 * Every form is read by a cursor over the bytes (struct cur): fixed-width
 * digit runs, month names from a table, an optional fraction and an
 * optional UTC offset.  The fields are checked (month 1..12, day within
 * its month with the leap-year rule, hour 0..23, minute 0..59, second
 * 0..60, offset within +-23:59) and turned into days with
 * logtime_days_from_civil (H. Hinnant's algorithm: exact for every
 * Gregorian date, no tables, no time zone).  A second 60 (leap second) is
 * read as the next minute's 0, as every Unix clock does.
 *
 * %{FORMAT}t is interpreted directly from the format text per line: each
 * conversion reads its field, literals must match; the formats are short,
 * so this costs about as much as the fixed forms.  Names of days are
 * skipped (letters), names of months looked up case-insensitively.
 *
 * Rejected: caching the last parsed second and comparing prefixes (logs
 * repeat a second many times, but the parse is already a few dozen
 * nanoseconds, far below the pcre2 match that precedes it).
 */
#include "parsers/logtime.h"

#include <errno.h>
#include <string.h>

#define YEAR_MIN 1970
#define YEAR_MAX 9999
#define MS_MAX INT64_C(253402300800000) /* 10000-01-01T00:00:00Z */

struct cur {
	const char *s;
	size_t n, i;
};

/* Broken-down time as read, before conversion. */
struct tm_fields {
	int64_t year;
	unsigned mon, mday, yday; /* yday 1..366 when only %j gave the day */
	unsigned hour, min, sec;
	unsigned hour12; /* %I: 1..12, 0 when not used */
	int pm;          /* -1 unknown, 0 AM, 1 PM */
	int64_t frac_ms;
	int64_t offset_s; /* east of UTC */
	bool has_epoch;
	int64_t epoch_ms;
	bool has_date;
};

static const char month_names[12][10] = {"january",   "february", "march",    "april",
                                         "may",       "june",     "july",     "august",
                                         "september", "october",  "november", "december"};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	c = lower(c);
	return c >= 'a' && c <= 'z';
}

/* Exactly width digits. */
static bool digits(struct cur *c, unsigned width, unsigned *ret)
{
	unsigned v = 0;

	if (c->n - c->i < width) {
		return false;
	}
	for (unsigned k = 0; k < width; k++) {
		char d = c->s[c->i + k];
		if (!is_digit(d)) {
			return false;
		}
		v = v * 10 + (unsigned)(d - '0');
	}
	c->i += width;
	*ret = v;
	return true;
}

/* 1..max_width digits (for %e %j and unpadded fields); a leading blank is
 * allowed for space-padded fields. */
static bool digits_var(struct cur *c, unsigned max_width, unsigned *ret)
{
	unsigned v = 0, k = 0;

	if (c->i < c->n && c->s[c->i] == ' ') {
		c->i++;
	}
	while (k < max_width && c->i < c->n && is_digit(c->s[c->i])) {
		v = v * 10 + (unsigned)(c->s[c->i] - '0');
		c->i++;
		k++;
	}
	*ret = v;
	return k > 0;
}

static bool lit(struct cur *c, char ch)
{
	if (c->i < c->n && c->s[c->i] == ch) {
		c->i++;
		return true;
	}
	return false;
}

/* A month name: the three-letter abbreviation, or the full name. */
static bool month_name(struct cur *c, bool full, unsigned *ret)
{
	for (unsigned m = 0; m < 12; m++) {
		size_t len = full ? strlen(month_names[m]) : 3;
		if (c->n - c->i < len) {
			continue;
		}
		size_t k = 0;
		while (k < len && lower(c->s[c->i + k]) == month_names[m][k]) {
			k++;
		}
		if (k == len) {
			c->i += len;
			*ret = m + 1;
			return true;
		}
	}
	return false;
}

/* "+hhmm", "+hh:mm" or "+hh" (colon and minutes optional), or "Z". */
static bool offset(struct cur *c, bool allow_z, int64_t *ret_s)
{
	unsigned h, m = 0;
	int sign;

	if (allow_z && (lit(c, 'Z') || lit(c, 'z'))) {
		*ret_s = 0;
		return true;
	}
	if (lit(c, '+')) {
		sign = 1;
	} else if (lit(c, '-')) {
		sign = -1;
	} else {
		return false;
	}
	if (!digits(c, 2, &h)) {
		return false;
	}
	if (lit(c, ':')) {
		if (!digits(c, 2, &m)) {
			return false;
		}
	} else if (c->n - c->i >= 2 && is_digit(c->s[c->i])) {
		if (!digits(c, 2, &m)) {
			return false;
		}
	}
	if (h > 23 || m > 59) {
		return false;
	}
	*ret_s = sign * (int64_t)(h * 3600 + m * 60);
	return true;
}

/* Fraction after '.' or ',' (the separator already consumed): 1..9 digits,
 * milliseconds kept. */
static bool fraction(struct cur *c, int64_t *ret_ms)
{
	unsigned k = 0;
	int64_t ms = 0;

	while (c->i < c->n && is_digit(c->s[c->i])) {
		if (k < 3) {
			ms = ms * 10 + (c->s[c->i] - '0');
		}
		k++;
		c->i++;
	}
	if (k == 0 || k > 9) {
		return false;
	}
	for (; k < 3; k++) {
		ms *= 10;
	}
	*ret_ms = ms;
	return true;
}

int64_t logtime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static void fields_init(struct tm_fields *t)
{
	memset(t, 0, sizeof(*t));
	t->pm = -1;
}

/* Check the fields and convert; 0 or -EINVAL. */
static int fields_to_ms(const struct tm_fields *t, int64_t *ret_ms)
{
	unsigned hour = t->hour;
	int64_t days;

	if (t->has_epoch) {
		*ret_ms = t->epoch_ms;
		return 0;
	}
	if (!t->has_date || t->year < YEAR_MIN || t->year > YEAR_MAX) {
		return -EINVAL;
	}
	if (t->hour12) {
		if (t->hour12 > 12 || t->pm < 0) {
			return -EINVAL;
		}
		hour = t->hour12 % 12 + (t->pm ? 12 : 0);
	}
	if (hour > 23 || t->min > 59 || t->sec > 60) {
		return -EINVAL;
	}
	if (t->yday) {
		if (t->yday > (is_leap(t->year) ? 366u : 365u)) {
			return -EINVAL;
		}
		days = logtime_days_from_civil(t->year, 1, 1) + t->yday - 1;
	} else {
		if (t->mon < 1 || t->mon > 12 || t->mday < 1 ||
		    t->mday > days_in_month(t->year, t->mon)) {
			return -EINVAL;
		}
		days = logtime_days_from_civil(t->year, t->mon, t->mday);
	}
	int64_t secs = days * 86400 + hour * 3600 + t->min * 60 + t->sec - t->offset_s;
	if (secs < 0) {
		return -EINVAL;
	}
	*ret_ms = secs * 1000 + t->frac_ms;
	return 0;
}

/* hh:mm:ss into t. */
static bool clock_hms(struct cur *c, struct tm_fields *t)
{
	return digits(c, 2, &t->hour) && lit(c, ':') && digits(c, 2, &t->min) && lit(c, ':') &&
	       digits(c, 2, &t->sec);
}

static int parse_clf(struct cur *c, int64_t *ret_ms)
{
	struct tm_fields t;
	unsigned y;
	bool bracket = lit(c, '[');

	fields_init(&t);
	if (!digits(c, 2, &t.mday) || !lit(c, '/') || !month_name(c, false, &t.mon) ||
	    !lit(c, '/') || !digits(c, 4, &y) || !lit(c, ':') || !clock_hms(c, &t)) {
		return -EINVAL;
	}
	t.year = y;
	t.has_date = true;
	if (lit(c, ' ') && !offset(c, false, &t.offset_s)) {
		return -EINVAL;
	}
	if ((bracket && !lit(c, ']')) || c->i != c->n) {
		return -EINVAL;
	}
	return fields_to_ms(&t, ret_ms);
}

static int parse_iso(struct cur *c, int64_t *ret_ms)
{
	struct tm_fields t;
	unsigned y;

	fields_init(&t);
	if (!digits(c, 4, &y) || !lit(c, '-') || !digits(c, 2, &t.mon) || !lit(c, '-') ||
	    !digits(c, 2, &t.mday)) {
		return -EINVAL;
	}
	t.year = y;
	t.has_date = true;
	if (!(lit(c, 'T') || lit(c, 't') || lit(c, ' ')) || !clock_hms(c, &t)) {
		return -EINVAL;
	}
	if ((lit(c, '.') || lit(c, ',')) && !fraction(c, &t.frac_ms)) {
		return -EINVAL;
	}
	if (c->i < c->n && !(offset(c, true, &t.offset_s) && c->i == c->n)) {
		return -EINVAL;
	}
	return fields_to_ms(&t, ret_ms);
}

/* Unix time: digits with an optional fraction; scale 0 (s), 3 (ms), 6 (us). */
static int parse_epoch(struct cur *c, unsigned scale, int64_t *ret_ms)
{
	int64_t whole = 0, frac = 0;
	unsigned k = 0, max_digits = 12 + scale; /* no overflow below 10^18 */

	while (c->i < c->n && is_digit(c->s[c->i])) {
		if (++k > max_digits) {
			return -EINVAL;
		}
		whole = whole * 10 + (c->s[c->i++] - '0');
	}
	if (k == 0) {
		return -EINVAL;
	}
	if (lit(c, '.')) {
		unsigned f = 0;
		/* keep the digits that still count in milliseconds */
		while (c->i < c->n && is_digit(c->s[c->i])) {
			if (f < 3 - (scale < 3 ? scale : 3)) {
				frac = frac * 10 + (c->s[c->i] - '0');
			}
			f++;
			c->i++;
		}
		if (f == 0 || f > 9) {
			return -EINVAL;
		}
		for (unsigned need = 3 - (scale < 3 ? scale : 3); f < need; f++) {
			frac *= 10;
		}
	}
	if (c->i != c->n) {
		return -EINVAL;
	}
	int64_t ms = scale == 0 ? whole * 1000 + frac : scale == 3 ? whole + frac : whole / 1000;
	*ret_ms = ms;
	return 0;
}

static int parse_auto(struct cur *c, int64_t *ret_ms)
{
	size_t n = c->n, k = 0;

	if (n > 0 && c->s[0] == '[') {
		return parse_clf(c, ret_ms);
	}
	if (n >= 3 && is_digit(c->s[0]) && is_digit(c->s[1]) && c->s[2] == '/') {
		return parse_clf(c, ret_ms);
	}
	if (n >= 5 && is_digit(c->s[0]) && is_digit(c->s[3]) && c->s[4] == '-') {
		return parse_iso(c, ret_ms);
	}
	while (k < n && is_digit(c->s[k])) {
		k++;
	}
	/* 10 digits: seconds (until 2286); 13: milliseconds; 16: microseconds */
	return parse_epoch(c, k <= 11 ? 0 : k <= 14 ? 3 : 6, ret_ms);
}

/* ---- %{FORMAT}t ------------------------------------------------------- */

static bool skip_letters(struct cur *c)
{
	size_t start = c->i;
	while (c->i < c->n && is_alpha(c->s[c->i])) {
		c->i++;
	}
	return c->i > start;
}

/* AM/PM, case-insensitive. */
static bool am_pm(struct cur *c, int *ret_pm)
{
	if (c->n - c->i < 2 || lower(c->s[c->i + 1]) != 'm') {
		return false;
	}
	char a = lower(c->s[c->i]);
	if (a != 'a' && a != 'p') {
		return false;
	}
	*ret_pm = a == 'p';
	c->i += 2;
	return true;
}

/* A zone name: only names that are UTC are readable without a tz database. */
static bool zone_name(struct cur *c)
{
	static const char *const utc[] = {"UTC", "GMT", "Z", "UT"};
	for (size_t k = 0; k < sizeof(utc) / sizeof(utc[0]); k++) {
		size_t len = strlen(utc[k]);
		if (c->n - c->i >= len && memcmp(c->s + c->i, utc[k], len) == 0 &&
		    (c->n - c->i == len || !is_alpha(c->s[c->i + len]))) {
			c->i += len;
			return true;
		}
	}
	return false;
}

static bool conv_epoch(struct cur *c, struct tm_fields *t)
{
	int64_t v = 0;
	unsigned k = 0;

	while (c->i < c->n && is_digit(c->s[c->i]) && k < 12) {
		v = v * 10 + (c->s[c->i++] - '0');
		k++;
	}
	t->has_epoch = true;
	t->epoch_ms = v * 1000;
	return k > 0;
}

static bool conv_year2(struct cur *c, struct tm_fields *t)
{
	unsigned y;
	if (!digits(c, 2, &y)) {
		return false;
	}
	t->year = y < 69 ? 2000 + y : 1900 + y;
	t->has_date = true;
	return true;
}

static bool conv_year4(struct cur *c, struct tm_fields *t)
{
	unsigned y;
	if (!digits(c, 4, &y)) {
		return false;
	}
	t->year = y;
	t->has_date = true;
	return true;
}

/* One conversion character: read its field from c into t. */
static bool conversion(char conv, struct cur *c, struct tm_fields *t)
{
	switch (conv) {
	case 'Y':
		return conv_year4(c, t);
	case 'y':
		return conv_year2(c, t);
	case 'm':
		return digits_var(c, 2, &t->mon);
	case 'd':
	case 'e':
		return digits_var(c, 2, &t->mday);
	case 'j':
		return digits_var(c, 3, &t->yday) && t->yday > 0;
	case 'H':
		return digits_var(c, 2, &t->hour);
	case 'I':
		return digits_var(c, 2, &t->hour12) && t->hour12 > 0;
	case 'M':
		return digits_var(c, 2, &t->min);
	case 'S':
		return digits_var(c, 2, &t->sec);
	case 'p':
		return am_pm(c, &t->pm);
	case 'b':
	case 'h':
		return month_name(c, false, &t->mon);
	case 'B':
		return month_name(c, true, &t->mon);
	case 'a':
	case 'A':
		return skip_letters(c);
	case 'z':
		return offset(c, true, &t->offset_s);
	case 'Z':
		return zone_name(c);
	case 's':
		return conv_epoch(c, t);
	case 'T':
		return clock_hms(c, t);
	case 'D':
		return digits(c, 2, &t->mon) && lit(c, '/') && digits(c, 2, &t->mday) &&
		       lit(c, '/') && conv_year2(c, t);
	case 'F':
		return conv_year4(c, t) && lit(c, '-') && digits(c, 2, &t->mon) && lit(c, '-') &&
		       digits(c, 2, &t->mday);
	case 'R':
		return digits(c, 2, &t->hour) && lit(c, ':') && digits(c, 2, &t->min);
	case 'n':
	case 't':
		while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t')) {
			c->i++;
		}
		return true;
	case '%':
		return lit(c, '%');
	default:
		return false;
	}
}

static const char supported[] = "YymdejHIMSpbhBaAzZsTDFRnt%";
static const char dating[] = "YyDFs"; /* conversions that give a year (or everything) */

bool logtime_format_ok(const char *fmt, size_t n)
{
	bool dated = false;

	if (n == 0 || n >= LOGTIME_MAX_FORMAT) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (fmt[i] == '\0') {
			return false;
		}
		if (fmt[i] != '%') {
			continue;
		}
		if (i + 1 >= n || fmt[i + 1] == '\0' || strchr(supported, fmt[i + 1]) == NULL) {
			return false;
		}
		dated = dated || strchr(dating, fmt[i + 1]) != NULL;
		i++;
	}
	return dated;
}

static int parse_strftime(struct cur *c, const char *fmt, int64_t *ret_ms)
{
	struct tm_fields t;

	if (fmt == NULL) {
		return -EINVAL;
	}
	fields_init(&t);
	for (size_t k = 0; fmt[k] != '\0'; k++) {
		if (fmt[k] != '%') {
			if (!lit(c, fmt[k])) {
				return -EINVAL;
			}
			continue;
		}
		k++;
		if (fmt[k] == '\0' || !conversion(fmt[k], c, &t)) {
			return -EINVAL;
		}
	}
	if (c->i != c->n) {
		return -EINVAL;
	}
	if (!t.has_date && !t.has_epoch) {
		return -EINVAL;
	}
	if (t.has_date && t.mon == 0 && t.yday == 0) {
		return -EINVAL;
	}
	return fields_to_ms(&t, ret_ms);
}

int logtime_parse(enum logtime_form form, const char *fmt, const char *s, size_t n, int64_t *ret_ms)
{
	struct cur c = {s, n, 0};
	int64_t ms = 0;
	int r;

	if (s == NULL || ret_ms == NULL) {
		return -EINVAL;
	}
	switch (form) {
	case LOGTIME_CLF:
		r = parse_clf(&c, &ms);
		break;
	case LOGTIME_ISO8601:
		r = parse_iso(&c, &ms);
		break;
	case LOGTIME_EPOCH_S:
		r = parse_epoch(&c, 0, &ms);
		break;
	case LOGTIME_EPOCH_MS:
		r = parse_epoch(&c, 3, &ms);
		break;
	case LOGTIME_EPOCH_US:
		r = parse_epoch(&c, 6, &ms);
		break;
	case LOGTIME_STRFTIME:
		r = parse_strftime(&c, fmt, &ms);
		break;
	case LOGTIME_AUTO:
		r = parse_auto(&c, &ms);
		break;
	case LOGTIME_NONE:
	default:
		r = -EINVAL;
		break;
	}
	/* 1970..9999 in every form (an offset can push a date across either end) */
	if (r == 0 && (ms < 0 || ms >= MS_MAX)) {
		r = -EINVAL;
	}
	if (r == 0) {
		*ret_ms = ms;
	}
	return r;
}

int logtime_of_record(const struct log_record *r, int64_t *ret_ms)
{
	if (r == NULL || r->log_time_form == LOGTIME_NONE || r->log_time.ptr == NULL) {
		return -ENOENT;
	}
	return logtime_parse((enum logtime_form)r->log_time_form, r->log_time_fmt, r->log_time.ptr,
	                     r->log_time.len, ret_ms);
}

int logtime_of_record_cached(const struct log_record *r, struct logtime_cache *c, int64_t *ret_ms)
{
	size_t n;

	if (r == NULL || r->log_time_form == LOGTIME_NONE || r->log_time.ptr == NULL) {
		return -ENOENT;
	}
	n = r->log_time.len;
	if (n == 0 || n > sizeof(c->text)) {
		return logtime_of_record(r, ret_ms);
	}
	if (n != c->len || r->log_time_form != c->form || r->log_time_fmt != c->fmt ||
	    memcmp(r->log_time.ptr, c->text, n) != 0) {
		/* a miss: parse, and remember the text whatever the result */
		c->rc = logtime_parse((enum logtime_form)r->log_time_form, r->log_time_fmt,
		                      r->log_time.ptr, n, &c->ms);
		memcpy(c->text, r->log_time.ptr, n);
		c->len = n;
		c->form = r->log_time_form;
		c->fmt = r->log_time_fmt;
	}
	if (c->rc == 0) {
		*ret_ms = c->ms;
	}
	return c->rc;
}
