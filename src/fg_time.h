/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_time.h: the two time forms of the contract (NHSA "yyyy-MM-dd HH:mm:ss"
 * in China Standard Time, and ISO 8601 with an offset) to epoch seconds, and
 * back. Days are calendar days in CST: the interface's local time.
 */
#ifndef FG_TIME_H
#define FG_TIME_H

#include <stddef.h>
#include <stdint.h>

#define FG_CST_OFFSET (8 * 3600)
#define FG_DAY 86400

/** Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t fg_days_from_civil(int64_t y, unsigned m, unsigned d);
/** Inverse of fg_days_from_civil. */
void fg_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/**
 * Parse a datetime: "yyyy-MM-dd HH:mm:ss" (CST), or ISO 8601
 * "yyyy-MM-ddTHH:mm:ss[.frac](Z|+HH:MM|+HHMM|+HH)". Fractions are dropped.
 * Returns 0 and sets *epoch, or -1 with a reason in *why (static text).
 */
int fg_time_parse(const char *s, size_t len, int64_t *epoch, const char **why);

/** Parse "yyyy-MM-dd" into days since the epoch. */
int fg_date_parse(const char *s, size_t len, int64_t *days, const char **why);

/** The CST calendar day (days since 1970-01-01) of an epoch second. */
static inline int64_t fg_cst_day(int64_t epoch)
{
    int64_t t = epoch + FG_CST_OFFSET;
    return t >= 0 ? t / FG_DAY : -((-t + FG_DAY - 1) / FG_DAY);
}

/** Epoch second at which a CST day starts. */
static inline int64_t fg_cst_day_start(int64_t day)
{
    return day * FG_DAY - FG_CST_OFFSET;
}

/** Format as "yyyy-MM-ddTHH:mm:ss+08:00" (CST). buf: at least 32 bytes. */
char *fg_time_format_iso(int64_t epoch, char *buf, size_t size);
/** Format a CST day as "yyyy-MM-dd". */
char *fg_date_format(int64_t days, char *buf, size_t size);

/** Completed years between a birth day and a CST day (both day numbers). */
int fg_age_years(int64_t birth_day, int64_t on_day);

#endif
