/*
 * numparse.c - integers, decimals and nginx value lists without strto*.
 *
 * Decimals are accumulated as an integer mantissa (up to 18 digits) plus a
 * count of fraction digits, then divided once by an exact power of ten from
 * a table.  While the mantissa fits in 53 bits (15 digits, far more than
 * any server prints: "0.271", "5.808", "3551") that is the correctly
 * rounded double, which is what histogram bucketing needs.  Digits beyond
 * the 18th are dropped (they cannot change a bucket).
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

/* Mantissa digits are accumulated while the value stays below this bound
 * (18 digits, so mant * 10 + 9 cannot overflow); later digits are dropped. */
#define MANT_LIMIT 100000000000000000ull

int numparse_decimal(const char *s, size_t len, unsigned scale_exp10, double *ret_value)
{
	uint64_t mant = 0;
	int div_exp = (int)scale_exp10; /* value = mant / 10^div_exp */
	size_t i = 0, digits = 0;

	/* hot path: one pass, no branch per digit besides the bound check */
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
	double v = (double)mant;
	while (div_exp > (int)POW10_MAX) {
		v /= pow10_table[POW10_MAX];
		div_exp -= (int)POW10_MAX;
	}
	while (div_exp < -(int)POW10_MAX) {
		v *= pow10_table[POW10_MAX];
		div_exp += (int)POW10_MAX;
	}
	*ret_value = div_exp >= 0 ? v / pow10_table[div_exp] : v * pow10_table[-div_exp];
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
