/*
 * numparse.c - integers, decimals and nginx value lists without strto*.
 *
 * Decimals are accumulated as an integer mantissa (up to 19 digits) plus a
 * count of fraction digits, then divided once by an exact power of ten from
 * a table.  For the values servers print ("0.271", "5.808", "3551") that is
 * the correctly rounded double, which is what histogram bucketing needs.
 * Digits beyond the 19th are dropped (they cannot change a bucket).
 * Rejected: strtod on a copied NUL-terminated buffer (copy + locale
 * dependence + slower on the hot path).
 */
#include "parsers/numparse.h"

#include <errno.h>
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

	if (len == 0) {
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i])) {
			return -EINVAL;
		}
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			return -ERANGE;
		}
		v = v * 10 + d;
	}
	*ret_value = v;
	return 0;
}

int numparse_decimal(const char *s, size_t len, unsigned scale_exp10, double *ret_value)
{
	uint64_t mant = 0;
	unsigned sig = 0, frac = 0, ndigits = 0;
	int dropped_int = 0; /* integer digits beyond precision: scale up */
	bool dot = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.' && !dot) {
			dot = true;
			continue;
		}
		if (!is_digit(c)) {
			return -EINVAL;
		}
		ndigits++;
		if (sig == 0 && c == '0') {
			/* leading zeros carry no precision */
			if (dot) {
				frac++;
			}
			continue;
		}
		if (sig < 19) {
			mant = mant * 10 + (uint64_t)(c - '0');
			sig++;
			if (dot) {
				frac++;
			}
		} else if (!dot) {
			dropped_int++;
		}
	}
	if (ndigits == 0) {
		return -EINVAL;
	}
	double v = (double)mant;
	if (dropped_int > 0) {
		v *= pow10_table[dropped_int > (int)POW10_MAX ? POW10_MAX : (unsigned)dropped_int];
	}
	unsigned div = frac + scale_exp10;
	while (div > POW10_MAX) {
		v /= pow10_table[POW10_MAX];
		div -= (unsigned)POW10_MAX;
	}
	*ret_value = v / pow10_table[div];
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

int numparse_decimal_list(const char *s, size_t len, double *ret_sum, unsigned *ret_count)
{
	double sum = 0;
	unsigned count = 0;
	size_t start = 0, i = 0;

	if (len == 0) {
		return -EINVAL;
	}
	while (i <= len) {
		size_t sl = i < len ? sep_len(s, len, i) : 0;
		if (i < len && sl == 0) {
			i++;
			continue;
		}
		size_t n = i - start;
		if (!(n == 1 && s[start] == '-')) {
			double v;
			if (numparse_decimal(s + start, n, 0, &v) < 0) {
				return -EINVAL;
			}
			sum += v;
			count++;
		}
		if (i == len) {
			break;
		}
		i += sl;
		start = i;
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
