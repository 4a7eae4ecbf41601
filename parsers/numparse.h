/*
 * numparse.h - length-aware number parsing for log fields.
 *
 * Log fields are views into a line buffer with no terminating NUL, so the
 * C library parsers (strtol, strtod) cannot be used on them directly and are
 * banned anyway.  These routines take (ptr, len), accept exactly the shapes
 * web servers write, and never read past len.
 */
#ifndef PARSERS_NUMPARSE_H
#define PARSERS_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Unsigned decimal integer, digits only, at least one, no sign.
 * Returns 0 and *ret_value, -EINVAL for a bad shape, -ERANGE on overflow. */
int numparse_u64(const char *s, size_t len, uint64_t *ret_value);

/* The same for lower-case hexadecimal digits (at most 16, no prefix; the
 * strict spelling our own files use, so a flipped case is corruption):
 * 0, -EINVAL, -ERANGE. */
int numparse_hex_u64(const char *s, size_t len, uint64_t *ret_value);

/* Non-negative decimal number "123", "0.271", "1.", ".5" (no sign, no
 * exponent) scaled by 10^-scale_exp10 (0: as is, 3: value was in ms, 6: in
 * microseconds).  Exact for up to 19 significant digits, which covers every
 * timing a server writes.  Returns 0 and *ret_value (always finite),
 * -EINVAL for a bad shape (also "inf", "nan"), -ERANGE when the value is
 * too large for a double (hundreds of digits).  Plausibility bounds are
 * the caller's (see fieldconv.h). */
int numparse_decimal(const char *s, size_t len, unsigned scale_exp10, double *ret_value);

/* A list of decimals as nginx writes $upstream_response_time:
 * entries separated by ", " (servers of one group) or " : " (groups after an
 * internal redirect); an entry may be "-".  Sums the numeric entries into
 * *ret_sum and counts them in *ret_count (both 0 when all entries are "-").
 * Returns 0, -EINVAL when an entry is neither a number nor "-", or -ERANGE
 * when an entry or the sum is not finite; nothing is written on failure. */
int numparse_decimal_list(const char *s, size_t len, double *ret_sum, unsigned *ret_count);

/* The last entry of a list of the same shape as a view (ptr, len); entries
 * equal to "-" are skipped so "200, -" gives "200".  Returns 0 or -ENOENT
 * when no entry other than "-" exists. */
int numparse_list_last(const char *s, size_t len, const char **ret_ptr, size_t *ret_len);

#endif
