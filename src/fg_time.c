/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_time.c: calendar arithmetic without the C library's time zone state,
 * so results never depend on TZ or on the machine.
 */
#include "fg_time.h"

#include <stdio.h>

/* Howard Hinnant's well-known civil-day algorithm, restated: shift the year
 * to start in March so the leap day is the last day of the year, then count
 * 400-year eras. */
int64_t fg_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void fg_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Read exactly n digits at s[*i]. */
static int digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;

    if (*i + (size_t)n > len)
        return -1;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return 0;
}

static int expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return -1;
    (*i)++;
    return 0;
}

static int parse_date_part(const char *s, size_t len, size_t *i, int64_t *days,
                           const char **why)
{
    int y, m, d;

    if (digits(s, len, i, 4, &y) || expect(s, len, i, '-') ||
        digits(s, len, i, 2, &m) || expect(s, len, i, '-') ||
        digits(s, len, i, 2, &d)) {
        *why = "not a date (yyyy-MM-dd)";
        return -1;
    }
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 ||
        (unsigned)d > days_in_month(y, (unsigned)m)) {
        *why = "date out of range";
        return -1;
    }
    *days = fg_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

int fg_date_parse(const char *s, size_t len, int64_t *days, const char **why)
{
    size_t i = 0;

    if (parse_date_part(s, len, &i, days, why))
        return -1;
    if (i != len) {
        *why = "not a date (yyyy-MM-dd)";
        return -1;
    }
    return 0;
}

int fg_time_parse(const char *s, size_t len, int64_t *epoch, const char **why)
{
    size_t i = 0;
    int64_t days;
    int hh, mi, ss, oh = 0, om = 0, sign = 1, offset;
    int iso;

    if (parse_date_part(s, len, &i, &days, why))
        return -1;
    if (i >= len || (s[i] != ' ' && s[i] != 'T')) {
        *why = "not a datetime (yyyy-MM-dd HH:mm:ss or ISO 8601)";
        return -1;
    }
    iso = s[i++] == 'T';
    if (digits(s, len, &i, 2, &hh) || expect(s, len, &i, ':') ||
        digits(s, len, &i, 2, &mi) || expect(s, len, &i, ':') ||
        digits(s, len, &i, 2, &ss)) {
        *why = "not a datetime (yyyy-MM-dd HH:mm:ss or ISO 8601)";
        return -1;
    }
    if (hh > 23 || mi > 59 || ss > 60) {
        *why = "time out of range";
        return -1;
    }
    if (iso && i < len && (s[i] == '.' || s[i] == ',')) {
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9') {
            *why = "bad fraction of a second";
            return -1;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (!iso) {
        /* NHSA form: local China Standard Time, no offset allowed. */
        offset = FG_CST_OFFSET;
    } else if (i < len && s[i] == 'Z') {
        i++;
        offset = 0;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i++] == '-' ? -1 : 1;
        if (digits(s, len, &i, 2, &oh)) {
            *why = "bad UTC offset";
            return -1;
        }
        if (i < len && s[i] == ':') {
            i++;
            if (digits(s, len, &i, 2, &om)) {
                *why = "bad UTC offset";
                return -1;
            }
        } else if (i < len && digits(s, len, &i, 2, &om)) {
            *why = "bad UTC offset";
            return -1;
        }
        if (oh > 18 || om > 59) {
            *why = "bad UTC offset";
            return -1;
        }
        offset = sign * (oh * 3600 + om * 60);
    } else {
        *why = "ISO 8601 time needs an offset (Z or +08:00)";
        return -1;
    }
    if (i != len) {
        *why = "trailing characters after datetime";
        return -1;
    }
    *epoch = days * FG_DAY + hh * 3600 + mi * 60 + ss - offset;
    return 0;
}

char *fg_time_format_iso(int64_t epoch, char *buf, size_t size)
{
    int64_t local = epoch + FG_CST_OFFSET, day = fg_cst_day(epoch), y;
    int64_t sod = local - day * FG_DAY;
    unsigned m, d;

    fg_civil_from_days(day, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d+08:00", (long long)y,
             m, d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    return buf;
}

char *fg_date_format(int64_t days, char *buf, size_t size)
{
    int64_t y;
    unsigned m, d;

    fg_civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02u-%02u", (long long)y, m, d);
    return buf;
}

int fg_age_years(int64_t birth_day, int64_t on_day)
{
    int64_t by, oy;
    unsigned bm, bd, om, od;
    int age;

    fg_civil_from_days(birth_day, &by, &bm, &bd);
    fg_civil_from_days(on_day, &oy, &om, &od);
    age = (int)(oy - by);
    if (om < bm || (om == bm && od < bd))
        age--;
    return age;
}
