/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_fixed.h: exact decimal <-> scaled integer conversion. Money is fen
 * (scale 2), prices micro-yuan (scale 6), quantities 1/10000 (scale 4). No
 * floating point ever decides an alert.
 */
#ifndef FG_FIXED_H
#define FG_FIXED_H

#include <stddef.h>
#include <stdint.h>

#define FG_SCALE_MONEY 2
#define FG_SCALE_PRICE 6
#define FG_SCALE_CNT 4

/* Result of fg_fixed_parse; the text for each is fg_fixed_strerror(). */
enum fg_fixed_err {
    FG_FIXED_OK = 0,
    FG_FIXED_NOT_DECIMAL,  /* empty, stray characters, bad sign */
    FG_FIXED_TOO_PRECISE,  /* non-zero digits past the scale */
    FG_FIXED_RANGE,        /* more than 16 - scale integer digits */
};

/**
 * Parse the decimal text s[0..len) into an integer scaled by 10^scale.
 * Accepts an optional leading '-' or '+', digits, an optional '.', and
 * further digits; zeros past the scale are accepted, other digits are not.
 * At most 16 - scale integer digits (the interface's N(16,s) fields), so
 * the result never overflows.
 */
int fg_fixed_parse(const char *s, size_t len, int scale, int64_t *out);
const char *fg_fixed_strerror(int err);

/**
 * Write v (scaled by 10^scale) as decimal text with exactly `scale`
 * decimals into buf (at least 32 bytes). Returns buf.
 */
char *fg_fixed_format(int64_t v, int scale, char *buf, size_t size);

/** v * num / den truncated toward zero, computed without overflow. */
int64_t fg_muldiv(int64_t v, int64_t num, int64_t den);

#endif
