/* SPDX-License-Identifier: Apache-2.0
 *
 * test_fixed.c: exact decimal conversion: the base of every amount.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fg_fixed.h"

static int64_t parse_ok(const char *s, int scale)
{
    int64_t v = -999;
    assert_int_equal(fg_fixed_parse(s, strlen(s), scale, &v), FG_FIXED_OK);
    return v;
}

static int parse_err(const char *s, int scale)
{
    int64_t v;
    return fg_fixed_parse(s, strlen(s), scale, &v);
}

static void test_money(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("123.45", 2), 12345);
    assert_int_equal(parse_ok("0.01", 2), 1);
    assert_int_equal(parse_ok("25", 2), 2500);
    assert_int_equal(parse_ok("25.", 2), 2500);
    assert_int_equal(parse_ok(".5", 2), 50);
    assert_int_equal(parse_ok("-0.10", 2), -10);
    assert_int_equal(parse_ok("+7.1", 2), 710);
    assert_int_equal(parse_ok("0007.10", 2), 710);
    /* Zeros past the scale are fine; anything else is not. */
    assert_int_equal(parse_ok("12.5000", 2), 1250);
    assert_int_equal(parse_err("12.501", 2), FG_FIXED_TOO_PRECISE);
}

static void test_price_and_count(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("12.500000", 6), 12500000);
    assert_int_equal(parse_ok("0.000001", 6), 1);
    assert_int_equal(parse_ok("2.0000", 4), 20000);
    assert_int_equal(parse_ok("-1.5", 4), -15000);
    assert_int_equal(parse_err("0.0000001", 6), FG_FIXED_TOO_PRECISE);
}

static void test_rejects(void **state)
{
    (void)state;
    assert_int_equal(parse_err("", 2), FG_FIXED_NOT_DECIMAL);
    assert_int_equal(parse_err("-", 2), FG_FIXED_NOT_DECIMAL);
    assert_int_equal(parse_err(".", 2), FG_FIXED_NOT_DECIMAL);
    assert_int_equal(parse_err("1e5", 2), FG_FIXED_NOT_DECIMAL);
    assert_int_equal(parse_err("1,5", 2), FG_FIXED_NOT_DECIMAL);
    assert_int_equal(parse_err(" 1", 2), FG_FIXED_NOT_DECIMAL);
    assert_int_equal(parse_err("1 ", 2), FG_FIXED_NOT_DECIMAL);
    assert_int_equal(parse_err("--1", 2), FG_FIXED_NOT_DECIMAL);
    assert_int_equal(parse_err("abc", 2), FG_FIXED_NOT_DECIMAL);
    assert_int_equal(parse_err("NaN", 2), FG_FIXED_NOT_DECIMAL);
}

static void test_range(void **state)
{
    (void)state;
    /* N(16,s): 16 - s integer digits; the largest value must not overflow. */
    assert_int_equal(parse_ok("9999999999.999999", 6), INT64_C(9999999999999999));
    assert_int_equal(parse_err("10000000000.0", 6), FG_FIXED_RANGE);
    assert_int_equal(parse_ok("99999999999999.99", 2), INT64_C(9999999999999999));
    assert_int_equal(parse_err("100000000000000", 2), FG_FIXED_RANGE);
    assert_int_equal(parse_err("1000000000000", 4), FG_FIXED_RANGE);
    assert_int_equal(parse_err("99999999999999999999999999", 6), FG_FIXED_RANGE);
    /* Leading zeros do not count toward the limit. */
    assert_int_equal(parse_ok("00000000000000000001.00", 2), 100);
}

static void test_format(void **state)
{
    char b[40];
    (void)state;
    assert_string_equal(fg_fixed_format(12345, 2, b, sizeof(b)), "123.45");
    assert_string_equal(fg_fixed_format(5, 2, b, sizeof(b)), "0.05");
    assert_string_equal(fg_fixed_format(-5, 2, b, sizeof(b)), "-0.05");
    assert_string_equal(fg_fixed_format(0, 2, b, sizeof(b)), "0.00");
    assert_string_equal(fg_fixed_format(12500000, 6, b, sizeof(b)), "12.500000");
    assert_string_equal(fg_fixed_format(INT64_MIN, 2, b, sizeof(b)), "-92233720368547758.08");
}

static void test_muldiv(void **state)
{
    (void)state;
    assert_int_equal(fg_muldiv(2500, 3, 4), 1875);
    assert_int_equal(fg_muldiv(10, 1, 3), 3);
    assert_int_equal(fg_muldiv(-10, 1, 3), -3);
    assert_int_equal(fg_muldiv(1, 1, 0), 0);
    /* The intermediate product overflows 64 bits; the result does not. */
    assert_int_equal(fg_muldiv(INT64_C(4000000000000000000), 4, 8),
                     INT64_C(2000000000000000000));
    assert_int_equal(fg_muldiv(INT64_MAX, 2, 1), INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_money),    cmocka_unit_test(test_price_and_count),
        cmocka_unit_test(test_rejects),  cmocka_unit_test(test_range),
        cmocka_unit_test(test_format),   cmocka_unit_test(test_muldiv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
