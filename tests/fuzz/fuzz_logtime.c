/*
 * fuzz_logtime.c - libFuzzer target for the log time reader.
 *
 * The input is read in every form (and, split at the first newline, as a
 * strftime format plus a text).  A success must give a time inside
 * 1970..9999, and a form that accepted a text must give the same time
 * again (no state between calls).  The calendar forms are also checked
 * against a round trip: the CLF text printed back from the result (in UTC)
 * parses to the same time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/logtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MS INT64_C(253402300800000)

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void round_trip(int64_t ms)
{
	static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t s = ms / 1000, y, back = -1;
	unsigned m, d;
	char buf[64];

	civil_from_days(s / 86400, &y, &m, &d);
	int n = snprintf(buf, sizeof(buf), "%02u/%s/%04lld:%02lld:%02lld:%02lld +0000", d,
	                 mon[m - 1], (long long)y, (long long)(s % 86400 / 3600),
	                 (long long)(s % 3600 / 60), (long long)(s % 60));
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    logtime_parse(LOGTIME_CLF, NULL, buf, (size_t)n, &back) != 0 || back != s * 1000) {
		abort();
	}
}

static void check(enum logtime_form form, const char *fmt, const char *s, size_t n)
{
	int64_t a = -1, b = -1;
	int r = logtime_parse(form, fmt, s, n, &a);

	if (r != 0) {
		return;
	}
	if (a < 0 || a >= MAX_MS || logtime_parse(form, fmt, s, n, &b) != 0 || a != b) {
		abort();
	}
	round_trip(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum logtime_form forms[] = {LOGTIME_CLF,      LOGTIME_ISO8601,
	                                          LOGTIME_EPOCH_S,  LOGTIME_EPOCH_MS,
	                                          LOGTIME_EPOCH_US, LOGTIME_AUTO};
	const char *s = (const char *)data;
	char fmt[LOGTIME_MAX_FORMAT];
	const uint8_t *nl;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		check(forms[i], NULL, s, size);
	}
	nl = memchr(data, '\n', size);
	if (nl != NULL) {
		size_t flen = (size_t)(nl - data);
		if (logtime_format_ok(s, flen)) {
			memcpy(fmt, s, flen);
			fmt[flen] = '\0';
			check(LOGTIME_STRFTIME, fmt, s + flen + 1, size - flen - 1);
		}
	}
	return 0;
}
