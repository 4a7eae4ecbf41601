/*
 * numparse.c - integers, decimals and nginx value lists without strto*.
 *
 * Decimals are accumulated as an integer mantissa (up to 18 digits) plus a
 * count of fraction digits, then divided once by an exact power of ten from
 * a table.  While the mantissa fits in 53 bits (15 digits, far more than
 * any server prints: "0.271", "5.808", "3551") that is the correctly
 * rounded double, which is what histogram bucketing needs.  Digits beyond
 * the 18th are dropped (they cannot change a bucket).  A result that is
 * not finite (a 400-digit "time") is -ERANGE, never +Inf: what is
 * plausible is the caller's decision (fieldconv.c), but no caller should
 * ever see an infinity it would add to a histogram sum.
 * Rejected: strtod on a copied NUL-terminated buffer (copy + locale
 * dependence + slower on the hot path).
 */
#include "parsers/numparse.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>

static const double pow10_table[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define POW10_MAX (sizeof(pow10_table) / sizeof(pow10_table[0]) - 1)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int numparse_u64(const char *s, size_t len, uint64_t *ret_value)
{
	uint64_t v = 0;

	size_t i = 0;

	if (len == 0) {
		return -EINVAL;
	}
	/* 19 digits always fit: only the digits after them need the overflow
	 * check (a division per digit would dominate the hot path), and the
	 * first loop tests nothing else (a combined line's byte count). */
	for (size_t head = len < 19 ? len : 19; i < head; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9) {
			return -EINVAL;
		}
		v = v * 10 + d;
	}
	for (; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9) {
			return -EINVAL;
		}
		if (v > (UINT64_MAX - d) / 10) {
			return -ERANGE;
		}
		v = v * 10 + d;
	}
	*ret_value = v;
	return 0;
}

int numparse_hex_u64(const char *s, size_t len, uint64_t *ret_value)
{
	uint64_t v = 0;

	if (len == 0) {
		return -EINVAL;
	}
	if (len > 16) {
		return -ERANGE;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i], d;
		if (c - '0' < 10) {
			d = c - '0';
		} else if (c - 'a' < 6) {
			d = c - 'a' + 10;
		} else {
			return -EINVAL;
		}
		v = v << 4 | d;
	}
	*ret_value = v;
	return 0;
}

/* Mantissa digits are accumulated while the value stays below this bound
 * (18 digits, so mant * 10 + 9 cannot overflow); later digits are dropped. */
#define MANT_LIMIT 100000000000000000ull

/* A decimal of at most 17 characters: no overflow check is needed (10^17
 * fits easily in 64 bits), so one loop with one compare per digit.
 * Returns -EINVAL on junk. */
static inline int short_decimal(const char *s, size_t len, uint64_t *ret_mant, int *ret_frac)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *dot = NULL;
	uint64_t mant = 0;

	for (; p < end; p++) {
		unsigned d = (unsigned)*p - '0';
		if (d < 10) {
			mant = mant * 10 + d;
		} else if (*p == '.' && !dot) {
			dot = p;
		} else {
			return -EINVAL;
		}
	}
	if (len == (dot ? 1u : 0u)) {
		return -EINVAL; /* no digit at all */
	}
	*ret_mant = mant;
	*ret_frac = dot ? (int)(end - dot - 1) : 0;
	return 0;
}

int numparse_decimal(const char *s, size_t len, unsigned scale_exp10, double *ret_value)
{
	uint64_t mant = 0;
	int div_exp = (int)scale_exp10; /* value = mant / 10^div_exp */
	size_t i = 0, digits = 0;

	/* hot path: what servers print ("0.271", "3551") has few digits */
	if (len <= 17) {
		int frac;
		if (short_decimal(s, len, &mant, &frac) < 0) {
			return -EINVAL;
		}
		div_exp += frac;
		goto scale;
	}
	for (; i < len && is_digit(s[i]); i++) {
		if (mant < MANT_LIMIT) {
			mant = mant * 10 + (uint64_t)(s[i] - '0');
		} else {
			div_exp--; /* dropped integer digit: scale up instead */
		}
	}
	digits = i;
	if (i < len && s[i] == '.') {
		size_t start = ++i;
		for (; i < len && is_digit(s[i]); i++) {
			if (mant < MANT_LIMIT) {
				mant = mant * 10 + (uint64_t)(s[i] - '0');
				div_exp++;
			}
		}
		digits += i - start;
	}
	if (i != len || digits == 0) {
		return -EINVAL;
	}
scale:;
	double v = (double)mant;
	if (div_exp >= 0 && div_exp <= (int)POW10_MAX) {
		*ret_value = v / pow10_table[div_exp]; /* the usual case: one exact division */
		return 0;
	}
	while (div_exp > (int)POW10_MAX) {
		v /= pow10_table[POW10_MAX];
		div_exp -= (int)POW10_MAX;
	}
	while (div_exp < -(int)POW10_MAX) {
		v *= pow10_table[POW10_MAX];
		div_exp += (int)POW10_MAX;
	}
	v = div_exp >= 0 ? v / pow10_table[div_exp] : v * pow10_table[-div_exp];
	if (!isfinite(v)) {
		return -ERANGE; /* hundreds of integer digits */
	}
	*ret_value = v;
	return 0;
}

/* Length of the separator at s[i] (", " or " : "), 0 when none. */
static size_t sep_len(const char *s, size_t len, size_t i)
{
	if (i + 1 < len && s[i] == ',' && s[i + 1] == ' ') {
		return 2;
	}
	if (i + 2 < len && s[i] == ' ' && s[i + 1] == ':' && s[i + 2] == ' ') {
		return 3;
	}
	return 0;
}

/* Parse the list entry at s (up to the next ',' or ' ', or the end) into
 * *ret_value.  Returns the entry's length, 0 when it is not a decimal. */
static size_t list_entry(const char *s, size_t len, double *ret_value)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *dot = NULL;
	uint64_t mant = 0;

	/* One pass for the usual short entry ("0.271"); long ones go the general way. */
	for (; p < end && p - (const unsigned char *)s <= 17; p++) {
		unsigned d = (unsigned)*p - '0';
		if (d < 10) {
			mant = mant * 10 + d;
		} else if (*p == '.' && !dot) {
			dot = p;
		} else {
			break;
		}
	}
	size_t n = (size_t)(p - (const unsigned char *)s);
	if (n > 17) {
		while (n < len && s[n] != ',' && s[n] != ' ') {
			n++;
		}
		int r = numparse_decimal(s, n, 0, ret_value);
		if (r == -ERANGE) {
			*ret_value = HUGE_VAL; /* a number, too large: the list is -ERANGE */
		}
		return r == 0 || r == -ERANGE ? n : 0;
	}
	if (p < end && *p != ',' && *p != ' ') {
		return 0;
	}
	if (n == (dot ? 1u : 0u)) {
		return 0; /* empty, or a lone dot */
	}
	*ret_value =
	    (double)mant / pow10_table[dot ? n - (size_t)(dot - (const unsigned char *)s) - 1 : 0];
	return n;
}

int numparse_decimal_list(const char *s, size_t len, double *ret_sum, unsigned *ret_count)
{
	double sum = 0;
	unsigned count = 0;
	size_t i = 0;

	if (len == 0) {
		return -EINVAL;
	}
	/* One pass: each entry is "-" or a decimal, followed by the end or a
	 * whole separator (", " or " : "). */
	for (;;) {
		if (s[i] == '-' && (i + 1 == len || s[i + 1] == ',' || s[i + 1] == ' ')) {
			i++;
		} else {
			double v;
			size_t n = list_entry(s + i, len - i, &v);
			if (n == 0) {
				return -EINVAL;
			}
			sum += v;
			count++;
			i += n;
		}
		if (i == len) {
			break;
		}
		size_t sl = sep_len(s, len, i);
		if (sl == 0 || i + sl == len) {
			return -EINVAL;
		}
		i += sl;
	}
	if (!isfinite(sum)) {
		return -ERANGE;
	}
	*ret_sum = sum;
	*ret_count = count;
	return 0;
}

int numparse_list_last(const char *s, size_t len, const char **ret_ptr, size_t *ret_len)
{
	size_t end = len;

	/* walk entries from the right; a separator is ", " or " : " */
	while (end > 0) {
		size_t start = end;
		while (start > 0 && s[start - 1] != ' ' && s[start - 1] != ',') {
			start--;
		}
		size_t n = end - start;
		if (n > 0 && !(n == 1 && s[start] == '-')) {
			*ret_ptr = s + start;
			*ret_len = n;
			return 0;
		}
		/* skip the separator characters before this entry */
		end = start;
		while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == ',' || s[end - 1] == ':')) {
			end--;
		}
	}
	return -ENOENT;
}
