/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_fixed.c: decimal parsing and formatting on scaled integers.
 */
#include "fg_fixed.h"

#include <stdio.h>

/* NHSA amounts are N(16,s): 16 digits, s of them decimals. */
#define FG_MAX_DIGITS 16

static const int64_t pow10_tab[] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
};

int fg_fixed_parse(const char *s, size_t len, int scale, int64_t *out)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;
    int neg = 0, seen_digit = 0;
    int64_t v = 0;

    if (scale < 0 || scale > 8)
        return FG_FIXED_NOT_DECIMAL;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    /* Integer part; leading zeros do not count toward the digit limit. */
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        seen_digit = 1;
        if (v == 0 && s[i] == '0')
            continue;
        if (++int_digits > (size_t)(FG_MAX_DIGITS - scale))
            return FG_FIXED_RANGE;
        v = v * 10 + (s[i] - '0');
    }
    v *= pow10_tab[scale];
    if (i < len && s[i] == '.') {
        i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            seen_digit = 1;
            frac_digits++;
            if ((int)frac_digits <= scale)
                v += (s[i] - '0') * pow10_tab[scale - (int)frac_digits];
            else if (s[i] != '0')
                return FG_FIXED_TOO_PRECISE;
        }
    }
    if (!seen_digit || i != len)
        return FG_FIXED_NOT_DECIMAL;
    *out = neg ? -v : v;
    return FG_FIXED_OK;
}

const char *fg_fixed_strerror(int err)
{
    switch (err) {
    case FG_FIXED_OK: return "ok";
    case FG_FIXED_NOT_DECIMAL: return "not a decimal";
    case FG_FIXED_TOO_PRECISE: return "too many decimals";
    case FG_FIXED_RANGE: return "out of range";
    default: return "bad decimal";
    }
}

char *fg_fixed_format(int64_t v, int scale, char *buf, size_t size)
{
    /* Work on the magnitude as unsigned so INT64_MIN formats correctly. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t p = (uint64_t)pow10_tab[scale];

    if (scale == 0)
        snprintf(buf, size, "%s%llu", v < 0 ? "-" : "",
                 (unsigned long long)mag);
    else
        snprintf(buf, size, "%s%llu.%0*llu", v < 0 ? "-" : "",
                 (unsigned long long)(mag / p), scale,
                 (unsigned long long)(mag % p));
    return buf;
}

int64_t fg_muldiv(int64_t v, int64_t num, int64_t den)
{
    __int128 r;

    if (den == 0)
        return 0;
    r = (__int128)v * num / den;
    if (r > INT64_MAX)
        return INT64_MAX;
    if (r < INT64_MIN)
        return INT64_MIN;
    return (int64_t)r;
}
