/* SPDX-License-Identifier: Apache-2.0
 *
 * test_time.c: the two time forms of CONTRACT §2 (NHSA CST and ISO 8601
 * with an offset), calendar days in CST, and ages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fg_time.h"

/* 2024-03-05T01:59:06Z: the contract example's settlement time. */
#define EXAMPLE_EPOCH INT64_C(1709603946)

static int64_t time_ok(const char *s)
{
    int64_t t = -1;
    const char *why = NULL;

    if (fg_time_parse(s, strlen(s), &t, &why) != 0)
        fail_msg("\"%s\" rejected: %s", s, why ? why : "(no reason)");
    return t;
}

/* Returns the reason for a rejection; fails the test if s is accepted. */
static const char *time_bad(const char *s)
{
    int64_t t = 12345;
    const char *why = NULL;

    if (fg_time_parse(s, strlen(s), &t, &why) == 0)
        fail_msg("\"%s\" accepted as %lld", s, (long long)t);
    assert_non_null(why);
    return why;
}

static int64_t date_ok(const char *s)
{
    int64_t d = -1;
    const char *why = NULL;

    if (fg_date_parse(s, strlen(s), &d, &why) != 0)
        fail_msg("date \"%s\" rejected: %s", s, why ? why : "(no reason)");
    return d;
}

static const char *date_bad(const char *s)
{
    int64_t d = 12345;
    const char *why = NULL;

    if (fg_date_parse(s, strlen(s), &d, &why) == 0)
        fail_msg("date \"%s\" accepted as %lld", s, (long long)d);
    assert_non_null(why);
    return why;
}

/* An independent day-by-day calendar, to check the civil-day algorithm. */
static int ref_leap(int64_t y)
{
    if (y % 400 == 0)
        return 1;
    if (y % 100 == 0)
        return 0;
    return y % 4 == 0;
}

static unsigned ref_mdays(int64_t y, unsigned m)
{
    switch (m) {
    case 2: return ref_leap(y) ? 29 : 28;
    case 4: case 6: case 9: case 11: return 30;
    default: return 31;
    }
}

static void test_nhsa_form(void **state)
{
    (void)state;
    assert_int_equal(time_ok("2024-03-05 09:59:06"), EXAMPLE_EPOCH);
    /* CST midnight of 1970-01-01 is 16:00 UTC the day before. */
    assert_int_equal(time_ok("1970-01-01 08:00:00"), 0);
    assert_int_equal(time_ok("1970-01-01 00:00:00"), -8 * 3600);
    assert_int_equal(time_ok("2024-03-05 00:00:00"),
                     INT64_C(19787) * 86400 - 8 * 3600);
    assert_int_equal(time_ok("2024-03-05 23:59:59"),
                     INT64_C(19787) * 86400 - 8 * 3600 + 86399);
}

static void test_iso_forms(void **state)
{
    (void)state;
    assert_int_equal(time_ok("2024-03-05T09:59:06+08:00"), EXAMPLE_EPOCH);
    assert_int_equal(time_ok("2024-03-05T01:59:06Z"), EXAMPLE_EPOCH);
    assert_int_equal(time_ok("2024-03-05T09:59:06+0800"), EXAMPLE_EPOCH);
    assert_int_equal(time_ok("2024-03-05T09:59:06+08"), EXAMPLE_EPOCH);
    assert_int_equal(time_ok("2024-03-04T20:59:06-05:00"), EXAMPLE_EPOCH);
    assert_int_equal(time_ok("2024-03-05T07:29:06+05:30"), EXAMPLE_EPOCH);
    assert_int_equal(time_ok("2024-03-05T01:59:06+00:00"), EXAMPLE_EPOCH);
    /* Fractions of a second are dropped, never rounded up. */
    assert_int_equal(time_ok("2024-03-05T01:59:06.999Z"), EXAMPLE_EPOCH);
    assert_int_equal(time_ok("2024-03-05T09:59:06.5+08:00"), EXAMPLE_EPOCH);
    assert_int_equal(time_ok("2024-03-05T09:59:06.123456789+0800"), EXAMPLE_EPOCH);
    /* The offset moves the day too. */
    assert_int_equal(time_ok("2024-03-04T23:59:06-02:00"), EXAMPLE_EPOCH);
}

static void test_same_instant(void **state)
{
    const char *forms[] = {
        "2024-03-05 09:59:06",       "2024-03-05T09:59:06+08:00",
        "2024-03-05T01:59:06Z",      "2024-03-05T09:59:06+0800",
        "2024-03-04T20:59:06-05:00", "2024-03-05T01:59:06.000Z",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        assert_int_equal(time_ok(forms[i]), EXAMPLE_EPOCH);
}

static void test_rejects(void **state)
{
    (void)state;
    /* ISO without an offset is ambiguous: never assume one. */
    assert_string_equal(time_bad("2024-03-05T09:59:06"),
                        "ISO 8601 time needs an offset (Z or +08:00)");
    assert_string_equal(time_bad("2024-03-05T09:59:06.5"),
                        "ISO 8601 time needs an offset (Z or +08:00)");
    assert_string_equal(time_bad("2024-13-05 09:59:06"), "date out of range");
    assert_string_equal(time_bad("2024-00-05 09:59:06"), "date out of range");
    assert_string_equal(time_bad("2024-04-31 09:59:06"), "date out of range");
    assert_string_equal(time_bad("2024-03-00 09:59:06"), "date out of range");
    assert_string_equal(time_bad("2024-03-32 09:59:06"), "date out of range");
    /* Leap years. */
    assert_string_equal(time_bad("2023-02-29 12:00:00"), "date out of range");
    assert_string_equal(time_bad("2100-02-29 12:00:00"), "date out of range");
    assert_int_equal(time_ok("2024-02-29 12:00:00") + 12 * 3600,
                     time_ok("2024-03-01 00:00:00"));
    assert_int_equal(time_ok("2000-02-29 00:00:00") + 86400,
                     time_ok("2000-03-01 00:00:00"));
    assert_string_equal(time_bad("2024-03-05 24:00:00"), "time out of range");
    assert_string_equal(time_bad("2024-03-05 23:60:00"), "time out of range");
    assert_string_equal(time_bad("2024-03-05 23:59:61"), "time out of range");
    assert_string_equal(time_bad("garbage"), "not a date (yyyy-MM-dd)");
    assert_string_equal(time_bad(""), "not a date (yyyy-MM-dd)");
    assert_string_equal(time_bad("2024/03/05 09:59:06"), "not a date (yyyy-MM-dd)");
    assert_string_equal(time_bad("24-03-05 09:59:06"), "not a date (yyyy-MM-dd)");
    assert_string_equal(time_bad("2024-3-5 09:59:06"), "not a date (yyyy-MM-dd)");
    assert_string_equal(time_bad("2024-03-05"),
                        "not a datetime (yyyy-MM-dd HH:mm:ss or ISO 8601)");
    assert_string_equal(time_bad("2024-03-05 09:59"),
                        "not a datetime (yyyy-MM-dd HH:mm:ss or ISO 8601)");
    assert_string_equal(time_bad("2024-03-05 9:59:06"),
                        "not a datetime (yyyy-MM-dd HH:mm:ss or ISO 8601)");
    assert_string_equal(time_bad("2024-03-05_09:59:06"),
                        "not a datetime (yyyy-MM-dd HH:mm:ss or ISO 8601)");
    /* Trailing characters. */
    assert_string_equal(time_bad("2024-03-05 09:59:06 "),
                        "trailing characters after datetime");
    assert_string_equal(time_bad("2024-03-05 09:59:06Z"),
                        "trailing characters after datetime");
    assert_string_equal(time_bad("2024-03-05T09:59:06+08:00x"),
                        "trailing characters after datetime");
    assert_string_equal(time_bad("2024-03-05T09:59:06ZZ"),
                        "trailing characters after datetime");
    /* Fractions and offsets. */
    assert_string_equal(time_bad("2024-03-05T09:59:06.Z"), "bad fraction of a second");
    assert_string_equal(time_bad("2024-03-05T09:59:06+8:00"), "bad UTC offset");
    assert_string_equal(time_bad("2024-03-05T09:59:06+08:0"), "bad UTC offset");
    assert_string_equal(time_bad("2024-03-05T09:59:06+"), "bad UTC offset");
    assert_string_equal(time_bad("2024-03-05T09:59:06+24:00"), "bad UTC offset");
    assert_string_equal(time_bad("2024-03-05T09:59:06+08:60"), "bad UTC offset");
}

/* "+08:" is neither +HH, +HHMM nor +HH:MM. */
static void test_reject_dangling_offset_colon(void **state)
{
    (void)state;
    assert_string_equal(time_bad("2024-03-05T09:59:06+08:"), "bad UTC offset");
}

/* The length argument bounds the parse: bytes past len are not read. */
static void test_length_bound(void **state)
{
    const char *s = "2024-03-05 09:59:06trailing";
    int64_t t = 0;
    const char *why = NULL;

    (void)state;
    assert_int_equal(fg_time_parse(s, 19, &t, &why), 0);
    assert_int_equal(t, EXAMPLE_EPOCH);
    assert_int_equal(fg_time_parse(s, 18, &t, &why), -1);
    assert_int_equal(fg_date_parse(s, 10, &t, &why), 0);
    assert_int_equal(t, 19787);
}

static void test_date_parse(void **state)
{
    (void)state;
    assert_int_equal(date_ok("1970-01-01"), 0);
    assert_int_equal(date_ok("1969-12-31"), -1);
    assert_int_equal(date_ok("2024-03-05"), 19787);
    assert_int_equal(date_ok("2000-03-01"), 11017);
    assert_int_equal(date_ok("1951-08-27"), -6702);
    assert_int_equal(date_ok("2024-02-29") + 1, date_ok("2024-03-01"));
    assert_int_equal(date_ok("2023-02-28") + 1, date_ok("2023-03-01"));
    assert_int_equal(date_ok("2023-12-31") + 1, date_ok("2024-01-01"));
    assert_string_equal(date_bad("2023-02-29"), "date out of range");
    assert_string_equal(date_bad("2024-02-30"), "date out of range");
    assert_string_equal(date_bad("2024-06-31"), "date out of range");
    assert_string_equal(date_bad("2024-13-01"), "date out of range");
    assert_string_equal(date_bad(""), "not a date (yyyy-MM-dd)");
    assert_string_equal(date_bad("20240305"), "not a date (yyyy-MM-dd)");
    assert_string_equal(date_bad("2024-03-05 "), "not a date (yyyy-MM-dd)");
    assert_string_equal(date_bad("2024-03-05 00:00:00"), "not a date (yyyy-MM-dd)");
    assert_string_equal(date_bad("2024-03-5"), "not a date (yyyy-MM-dd)");
    assert_string_equal(date_bad("abcd-ef-gh"), "not a date (yyyy-MM-dd)");
}

static void test_cst_day(void **state)
{
    int64_t d5 = date_ok("2024-03-05");
    int64_t last = time_ok("2024-03-05 23:59:59");
    int64_t first = time_ok("2024-03-06 00:00:00");

    (void)state;
    assert_int_equal(first - last, 1);
    assert_int_equal(fg_cst_day(last), d5);
    assert_int_equal(fg_cst_day(first), d5 + 1);
    /* 16:00Z is already the next CST day. */
    assert_int_equal(fg_cst_day(time_ok("2024-03-05T15:59:59Z")), d5);
    assert_int_equal(fg_cst_day(time_ok("2024-03-05T16:00:00Z")), d5 + 1);
    assert_int_equal(fg_cst_day_start(d5), time_ok("2024-03-05 00:00:00"));
    assert_int_equal(fg_cst_day_start(d5 + 1), first);

    /* Before 1970 (negative epoch and negative local seconds). */
    assert_int_equal(fg_cst_day(time_ok("1970-01-01 00:00:00")), 0);
    assert_int_equal(fg_cst_day(time_ok("1969-12-31 23:59:59")), -1);
    assert_int_equal(fg_cst_day(time_ok("1969-12-31 00:00:00")), -1);
    assert_int_equal(fg_cst_day(time_ok("1969-12-30 23:59:59")), -2);
    assert_int_equal(fg_cst_day(time_ok("1951-08-27 12:00:00")), date_ok("1951-08-27"));
    assert_int_equal(fg_cst_day(time_ok("1951-08-27 00:00:00")), date_ok("1951-08-27"));
    assert_int_equal(fg_cst_day(time_ok("1951-08-26 23:59:59")), date_ok("1951-08-26"));
    assert_int_equal(fg_cst_day_start(-1), time_ok("1969-12-31 00:00:00"));

    /* Every second of a sample of days maps to its day. */
    for (int64_t day = -30000; day <= 30000; day += 997) {
        int64_t s = fg_cst_day_start(day);
        assert_int_equal(fg_cst_day(s), day);
        assert_int_equal(fg_cst_day(s + 86399), day);
        assert_int_equal(fg_cst_day(s - 1), day - 1);
    }
}

static void test_civil_round_trip(void **state)
{
    int64_t y = 1900;
    unsigned m = 1, d = 1;
    int64_t start = fg_days_from_civil(1900, 1, 1);

    (void)state;
    assert_int_equal(fg_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(fg_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(fg_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(fg_days_from_civil(2024, 3, 5), 19787);
    assert_int_equal(start, -25567);
    assert_int_equal(fg_days_from_civil(2200, 12, 31), 84370);

    /* Walk day by day with an independent calendar from 1900 to 2200. */
    for (int64_t day = start; day <= 84370; day++) {
        int64_t gy;
        unsigned gm, gd;

        fg_civil_from_days(day, &gy, &gm, &gd);
        if (gy != y || gm != m || gd != d)
            fail_msg("day %lld: got %lld-%u-%u, expected %lld-%u-%u", (long long)day,
                     (long long)gy, gm, gd, (long long)y, m, d);
        if (fg_days_from_civil(y, m, d) != day)
            fail_msg("%lld-%u-%u: days_from_civil %lld, expected %lld", (long long)y,
                     m, d, (long long)fg_days_from_civil(y, m, d), (long long)day);
        if (++d > ref_mdays(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }

    /* Far outside that range, the two still invert each other. */
    for (int64_t day = -800000; day <= 800000; day += 37) {
        int64_t gy;
        unsigned gm, gd;

        fg_civil_from_days(day, &gy, &gm, &gd);
        assert_true(gm >= 1 && gm <= 12);
        assert_true(gd >= 1 && gd <= ref_mdays(gy, gm));
        assert_int_equal(fg_days_from_civil(gy, gm, gd), day);
    }
}

static void test_age(void **state)
{
    int64_t birth = date_ok("1951-08-27");

    (void)state;
    assert_int_equal(fg_age_years(birth, date_ok("2024-08-27")), 73);
    assert_int_equal(fg_age_years(birth, date_ok("2024-08-26")), 72);
    assert_int_equal(fg_age_years(birth, date_ok("2024-08-28")), 73);
    assert_int_equal(fg_age_years(birth, date_ok("2024-03-05")), 72);
    assert_int_equal(fg_age_years(birth, date_ok("2025-01-01")), 73);
    assert_int_equal(fg_age_years(birth, birth), 0);
    assert_int_equal(fg_age_years(birth, date_ok("1952-08-26")), 0);
    assert_int_equal(fg_age_years(birth, date_ok("1952-08-27")), 1);

    /* Newborn and infant cut-offs. */
    int64_t baby = date_ok("2023-12-31");
    assert_int_equal(fg_age_years(baby, date_ok("2024-01-01")), 0);
    assert_int_equal(fg_age_years(baby, date_ok("2024-12-30")), 0);
    assert_int_equal(fg_age_years(baby, date_ok("2024-12-31")), 1);
    assert_int_equal(fg_age_years(baby, date_ok("2026-12-30")), 2);
    assert_int_equal(fg_age_years(baby, date_ok("2026-12-31")), 3);

    /* 29 February births: a full year has passed by 1 March. */
    int64_t leap = date_ok("2020-02-29");
    assert_int_equal(fg_age_years(leap, date_ok("2020-03-01")), 0);
    assert_int_equal(fg_age_years(leap, date_ok("2021-02-27")), 0);
    assert_int_equal(fg_age_years(leap, date_ok("2021-03-01")), 1);
    assert_int_equal(fg_age_years(leap, date_ok("2023-03-01")), 3);
    assert_int_equal(fg_age_years(leap, date_ok("2024-02-28")), 3);
    assert_int_equal(fg_age_years(leap, date_ok("2024-02-29")), 4);
    assert_int_equal(fg_age_years(leap, date_ok("2024-03-01")), 4);
    /* Born 28 February: the birthday is 28 February every year. */
    int64_t feb28 = date_ok("2019-02-28");
    assert_int_equal(fg_age_years(feb28, date_ok("2020-02-27")), 0);
    assert_int_equal(fg_age_years(feb28, date_ok("2020-02-28")), 1);
    assert_int_equal(fg_age_years(feb28, date_ok("2020-02-29")), 1);
}

static void test_format(void **state)
{
    char buf[40];

    (void)state;
    assert_string_equal(fg_time_format_iso(EXAMPLE_EPOCH, buf, sizeof(buf)),
                        "2024-03-05T09:59:06+08:00");
    assert_string_equal(fg_time_format_iso(0, buf, sizeof(buf)),
                        "1970-01-01T08:00:00+08:00");
    assert_string_equal(fg_time_format_iso(-1, buf, sizeof(buf)),
                        "1970-01-01T07:59:59+08:00");
    assert_string_equal(fg_time_format_iso(-8 * 3600 - 1, buf, sizeof(buf)),
                        "1969-12-31T23:59:59+08:00");
    assert_string_equal(fg_time_format_iso(time_ok("2024-02-29T16:00:00Z"), buf,
                                           sizeof(buf)),
                        "2024-03-01T00:00:00+08:00");
    assert_string_equal(fg_date_format(0, buf, sizeof(buf)), "1970-01-01");
    assert_string_equal(fg_date_format(-1, buf, sizeof(buf)), "1969-12-31");
    assert_string_equal(fg_date_format(19787, buf, sizeof(buf)), "2024-03-05");

    /* format -> parse round trip, pre-1970 included. */
    for (int64_t t = time_ok("1900-01-01 00:00:00"); t < time_ok("2200-12-31 00:00:00");
         t += 86400 * 13 + 3607) {
        fg_time_format_iso(t, buf, sizeof(buf));
        assert_int_equal(strlen(buf), 25);
        assert_int_equal(time_ok(buf), t);
    }
    for (int64_t t = -100000; t < 100000; t += 7) {
        fg_time_format_iso(t, buf, sizeof(buf));
        assert_int_equal(time_ok(buf), t);
    }
    for (int64_t d = -25567; d <= 84370; d += 11) {
        fg_date_format(d, buf, sizeof(buf));
        assert_int_equal(date_ok(buf), d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nhsa_form),
        cmocka_unit_test(test_iso_forms),
        cmocka_unit_test(test_same_instant),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_reject_dangling_offset_colon),
        cmocka_unit_test(test_length_bound),
        cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_cst_day),
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
