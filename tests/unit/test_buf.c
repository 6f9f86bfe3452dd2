/* SPDX-License-Identifier: Apache-2.0
 *
 * test_buf.c: the byte buffer, JSON string escaping, base64 (RFC 4648) and
 * UTF-8 validation.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fg_buf.h"

/* ---- helpers ---- */

static void json_of(struct fg_buf *b, const char *s, size_t n)
{
    fg_buf_reset(b);
    fg_buf_json_str(b, s, n);
    assert_non_null(b->data);
    assert_int_equal(strlen(b->data), b->len);
}

/* The escaped output, decoded by an independent JSON parser. */
static json_t *decode(const struct fg_buf *b)
{
    json_error_t e;
    json_t *v = json_loadb(b->data, b->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

    if (!v)
        fail_msg("output %s is not JSON: %s", b->data, e.text);
    assert_true(json_is_string(v));
    return v;
}

/* Escape s[0..n) and check that a JSON parser gives back exactly s. */
static void round_trip(struct fg_buf *b, const char *s, size_t n)
{
    json_t *v;

    json_of(b, s, n);
    v = decode(b);
    assert_int_equal(json_string_length(v), n);
    assert_memory_equal(json_string_value(v), s, n);
    json_decref(v);
}

static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

/* ---- buffer ---- */

static void test_buffer(void **state)
{
    struct fg_buf b;
    char big[5000];

    (void)state;
    fg_buf_init(&b);
    assert_int_equal(b.len, 0);
    fg_buf_puts(&b, "abc");
    fg_buf_putc(&b, '-');
    fg_buf_append(&b, "xyz", 2);
    fg_buf_printf(&b, "%d/%s", 42, "q");
    assert_string_equal(b.data, "abc-xy42/q");
    assert_int_equal(b.len, 10);
    fg_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    /* Growth past the first allocation keeps every byte. */
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    for (int k = 0; k < 10; k++)
        fg_buf_append(&b, big, sizeof(big));
    assert_int_equal(b.len, 10 * sizeof(big));
    for (int k = 0; k < 10; k++)
        assert_memory_equal(b.data + k * sizeof(big), big, sizeof(big));
    assert_int_equal(b.data[b.len], '\0');
    fg_buf_reset(&b);
    fg_buf_printf(&b, "%s", "");
    assert_int_equal(b.len, 0);
    fg_buf_printf(&b, "%05d|%.3s", 7, "abcdef");
    assert_string_equal(b.data, "00007|abc");
    /* Binary data with NULs. */
    fg_buf_reset(&b);
    fg_buf_append(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 4);
    fg_buf_fini(&b);
    assert_null(b.data);
    fg_buf_fini(&b);
}

/* ---- JSON strings ---- */

static void test_json_plain_and_escapes(void **state)
{
    struct fg_buf b;

    (void)state;
    fg_buf_init(&b);
    json_of(&b, "", 0);
    assert_string_equal(b.data, "\"\"");
    json_of(&b, "abc 123", 7);
    assert_string_equal(b.data, "\"abc 123\"");
    json_of(&b, "say \"hi\"", 8);
    assert_string_equal(b.data, "\"say \\\"hi\\\"\"");
    json_of(&b, "C:\\dir\\", 7);
    assert_string_equal(b.data, "\"C:\\\\dir\\\\\"");
    json_of(&b, "a/b", 3);
    round_trip(&b, "a/b", 3);
    json_of(&b, "l1\nl2\r\tx", 8);
    assert_string_equal(b.data, "\"l1\\nl2\\r\\tx\"");
    /* Other control characters: \u00XX. */
    json_of(&b, "\x01", 1);
    assert_true(ascii_ieq(b.data, "\"\\u0001\""));
    json_of(&b, "a\x1f" "b", 3);
    assert_true(ascii_ieq(b.data, "\"a\\u001fb\""));
    json_of(&b, "\x1b[0m", 4);
    assert_true(ascii_ieq(b.data, "\"\\u001b[0m\""));
    json_of(&b, "x\0y", 3);
    assert_true(ascii_ieq(b.data, "\"x\\u0000y\""));
    /* Only the length counts: bytes past n are not read. */
    json_of(&b, "abcdef", 3);
    assert_string_equal(b.data, "\"abc\"");
    /* Appends after what is already there. */
    fg_buf_reset(&b);
    fg_buf_puts(&b, "{\"k\":");
    fg_buf_json_str(&b, "v", 1);
    fg_buf_putc(&b, '}');
    assert_string_equal(b.data, "{\"k\":\"v\"}");
    fg_buf_reset(&b);
    fg_buf_json_cstr(&b, NULL);
    assert_string_equal(b.data, "null");
    fg_buf_reset(&b);
    fg_buf_json_cstr(&b, "t\"");
    assert_string_equal(b.data, "\"t\\\"\"");
    fg_buf_fini(&b);
}

static void test_json_control_round_trip(void **state)
{
    struct fg_buf b;
    char all[128];

    (void)state;
    fg_buf_init(&b);
    /* Every ASCII byte, alone and all together. */
    for (int c = 0; c < 128; c++) {
        char s[3] = {'<', (char)c, '>'};
        round_trip(&b, s, 3);
        if (c < 0x20)
            /* no raw control character in the output */
            for (size_t i = 0; i < b.len; i++)
                assert_true((unsigned char)b.data[i] >= 0x20);
        all[c] = (char)c;
    }
    round_trip(&b, all, sizeof(all));
    fg_buf_fini(&b);
}

static void test_json_utf8(void **state)
{
    struct fg_buf b;
    const char *cn = "急诊监护费(001103000010000) 与 急诊诊查费";
    const char *mixed = "ω-3 \xc2\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";

    (void)state;
    fg_buf_init(&b);
    /* Valid multi-byte UTF-8 is copied as is, not escaped. */
    json_of(&b, cn, strlen(cn));
    assert_int_equal(b.len, strlen(cn) + 2);
    assert_memory_equal(b.data + 1, cn, strlen(cn));
    json_of(&b, mixed, strlen(mixed));
    assert_int_equal(b.len, strlen(mixed) + 2);
    assert_memory_equal(b.data + 1, mixed, strlen(mixed));
    round_trip(&b, mixed, strlen(mixed));
    fg_buf_fini(&b);
}

/* Invalid input becomes U+FFFD; the output is always valid UTF-8 JSON and
 * the valid text around the bad bytes survives. */
static void expect_replaced(struct fg_buf *b, const char *s, size_t n, const char *before,
                            const char *after)
{
    json_t *v;
    const char *d;
    size_t dn;

    json_of(b, s, n);
    assert_true(fg_utf8_valid(b->data, b->len));
    assert_true(strstr(b->data, "\\ufffd") || strstr(b->data, "\xef\xbf\xbd"));
    v = decode(b);
    d = json_string_value(v);
    dn = json_string_length(v);
    assert_true(dn >= strlen(before) + strlen(after) + 3);
    assert_memory_equal(d, before, strlen(before));
    assert_memory_equal(d + dn - strlen(after), after, strlen(after));
    assert_memory_equal(d + strlen(before), "\xef\xbf\xbd", 3);
    json_decref(v);
}

static void test_json_invalid_utf8(void **state)
{
    struct fg_buf b;

    (void)state;
    fg_buf_init(&b);
    expect_replaced(&b, "a\xff" "b", 3, "a", "b");
    expect_replaced(&b, "a\xfe", 2, "a", "");
    expect_replaced(&b, "\x80tail", 5, "", "tail");               /* lone continuation */
    expect_replaced(&b, "x\xc0\xaf" "y", 4, "x", "y");            /* overlong '/' */
    expect_replaced(&b, "x\xe0\x80\xaf" "y", 5, "x", "y");        /* overlong, 3 bytes */
    expect_replaced(&b, "x\xed\xa0\x80" "y", 5, "x", "y");        /* surrogate D800 */
    expect_replaced(&b, "x\xf4\x90\x80\x80" "y", 6, "x", "y");    /* > U+10FFFF */
    expect_replaced(&b, "x\xe6\x80", 3, "x", "");                 /* truncated at end */
    expect_replaced(&b, "x\xe6\x80" "y", 4, "x", "y");            /* truncated mid */
    expect_replaced(&b, "\xe6\x80\xa5\xe6", 4, "\xe6\x80\xa5", ""); /* valid then cut */
    /* Bad bytes do not swallow a following quote or backslash. */
    json_of(&b, "\xc3\"", 2);
    assert_true(fg_utf8_valid(b.data, b.len));
    {
        json_t *v = decode(&b);
        const char *d = json_string_value(v);
        size_t dn = json_string_length(v);
        assert_true(dn >= 4);
        assert_memory_equal(d, "\xef\xbf\xbd", 3);
        assert_int_equal(d[dn - 1], '"');
        json_decref(v);
    }
    fg_buf_fini(&b);
}

/* ---- base64 ---- */

static const char b64tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A small independent decoder for round trips. */
static size_t b64_decode(const char *s, size_t n, unsigned char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    assert_int_equal(n % 4, 0);
    for (size_t i = 0; i < n; i++) {
        const char *p;
        if (s[i] == '=') {
            assert_true(i >= n - 2);
            continue;
        }
        p = strchr(b64tab, s[i]);
        assert_non_null(p);
        assert_true(s[i] != '\0');
        acc = (acc << 6) | (uint32_t)(p - b64tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o;
}

static void expect_b64(const char *in, size_t n, const char *want)
{
    struct fg_buf b;

    fg_buf_init(&b);
    fg_buf_puts(&b, "");
    fg_buf_base64(&b, in, n);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    fg_buf_fini(&b);
}

static void test_base64(void **state)
{
    struct fg_buf b;
    unsigned char all[256], back[256];

    (void)state;
    /* RFC 4648 §10. */
    expect_b64("", 0, "");
    expect_b64("f", 1, "Zg==");
    expect_b64("fo", 2, "Zm8=");
    expect_b64("foo", 3, "Zm9v");
    expect_b64("foob", 4, "Zm9vYg==");
    expect_b64("fooba", 5, "Zm9vYmE=");
    expect_b64("foobar", 6, "Zm9vYmFy");
    /* The high end of the alphabet and binary bytes. */
    expect_b64("\xff\xff\xff", 3, "////");
    expect_b64("\xfb\xef\xbe", 3, "++++");
    expect_b64("\x00\x00\x00", 3, "AAAA");
    expect_b64("\x00", 1, "AA==");
    expect_b64("\xff", 1, "/w==");
    expect_b64("\xff\xfe", 2, "//4=");

    /* Appends to existing content. */
    fg_buf_init(&b);
    fg_buf_puts(&b, "raw=");
    fg_buf_base64(&b, "foo", 3);
    assert_string_equal(b.data, "raw=Zm9v");

    /* Every byte value, every length: decodes back. */
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    for (size_t n = 0; n <= 256; n += (n < 10 ? 1 : 37)) {
        fg_buf_reset(&b);
        fg_buf_base64(&b, all, n);
        assert_int_equal(b.len, (n + 2) / 3 * 4);
        assert_int_equal(b64_decode(b.data, b.len, back), n);
        assert_memory_equal(back, all, n);
    }
    fg_buf_reset(&b);
    fg_buf_base64(&b, all, 256);
    assert_int_equal(b64_decode(b.data, b.len, back), 256);
    assert_memory_equal(back, all, 256);
    fg_buf_fini(&b);
}

/* ---- UTF-8 validation ---- */

#define VALID(s) assert_int_equal(fg_utf8_valid(s, sizeof(s) - 1), 1)
#define INVALID(s) assert_int_equal(fg_utf8_valid(s, sizeof(s) - 1), 0)

static void test_utf8_valid(void **state)
{
    (void)state;
    VALID("");
    VALID("plain ASCII \x7f");
    VALID("\xc2\x80");               /* U+0080, smallest 2-byte */
    VALID("\xdf\xbf");               /* U+07FF */
    VALID("\xe0\xa0\x80");           /* U+0800, smallest 3-byte */
    VALID("\xe6\x80\xa5\xe8\xaf\x8a"); /* 急诊 */
    VALID("\xed\x9f\xbf");           /* U+D7FF, just below surrogates */
    VALID("\xee\x80\x80");           /* U+E000, just above */
    VALID("\xef\xbf\xbd");           /* U+FFFD */
    VALID("\xef\xbf\xbf");           /* U+FFFF */
    VALID("\xf0\x90\x80\x80");       /* U+10000, smallest 4-byte */
    VALID("\xf0\x9f\x98\x80");       /* emoji */
    VALID("\xf4\x8f\xbf\xbf");       /* U+10FFFF, the last */
    /* NUL is a valid code point when the length says so. */
    assert_int_equal(fg_utf8_valid("a\0b", 3), 1);

    /* Overlongs. */
    INVALID("\xc0\x80");
    INVALID("\xc0\xaf");
    INVALID("\xc1\xbf");
    INVALID("\xe0\x80\x80");
    INVALID("\xe0\x9f\xbf");         /* U+07FF in 3 bytes */
    INVALID("\xf0\x80\x80\x80");
    INVALID("\xf0\x8f\xbf\xbf");     /* U+FFFF in 4 bytes */
    /* Surrogates. */
    INVALID("\xed\xa0\x80");         /* U+D800 */
    INVALID("\xed\xaf\xbf");
    INVALID("\xed\xb0\x80");
    INVALID("\xed\xbf\xbf");         /* U+DFFF */
    INVALID("\xed\xa0\xbd\xed\xb8\x80"); /* CESU-8 pair */
    /* Past U+10FFFF. */
    INVALID("\xf4\x90\x80\x80");
    INVALID("\xf5\x80\x80\x80");
    INVALID("\xf7\xbf\xbf\xbf");
    INVALID("\xf8\x88\x80\x80\x80"); /* 5-byte form */
    INVALID("\xfc\x84\x80\x80\x80\x80");
    INVALID("\xfe");
    INVALID("\xff");
    /* Truncated sequences and stray continuation bytes. */
    INVALID("\xc2");
    INVALID("\xe6\x80");
    INVALID("\xf0\x9f\x98");
    INVALID("abc\xe6");
    INVALID("\xe6\x80" "a");
    INVALID("\xc2\x41");
    INVALID("\x80");
    INVALID("\xbf");
    INVALID("a\x80" "b");
    INVALID("\xe6\x80\xa5\x80");
    /* The length bounds the check: a cut sequence is invalid. */
    assert_int_equal(fg_utf8_valid("\xe6\x80\xa5", 2), 0);
    assert_int_equal(fg_utf8_valid("\xe6\x80\xa5", 3), 1);
    assert_int_equal(fg_utf8_valid("ab\xff", 2), 1);
}

/* Every 2-byte and 3-byte sequence, against the definition. */
static void test_utf8_exhaustive(void **state)
{
    (void)state;
    for (unsigned a = 0x80; a < 0x100; a++)
        for (unsigned b = 0; b < 0x100; b++) {
            char s[2] = {(char)a, (char)b};
            int want = a >= 0xc2 && a <= 0xdf && (b & 0xc0) == 0x80;
            if (fg_utf8_valid(s, 2) != want)
                fail_msg("%02x %02x: expected %d", a, b, want);
        }
    for (unsigned a = 0xe0; a < 0xf0; a++)
        for (unsigned b = 0x80; b < 0xc0; b++)
            for (unsigned c = 0; c < 0x100; c++) {
                char s[3] = {(char)a, (char)b, (char)c};
                unsigned cp = (a & 0x0f) << 12 | (b & 0x3f) << 6 | (c & 0x3f);
                int want = (c & 0xc0) == 0x80 && cp >= 0x800 &&
                           !(cp >= 0xd800 && cp <= 0xdfff);
                if (fg_utf8_valid(s, 3) != want)
                    fail_msg("%02x %02x %02x: expected %d", a, b, c, want);
            }
}

/* The printf-free integer writers agree with printf at the edges and on
 * a spread of values; fg_buf_printf is right whether the text fits the
 * room left or needs the buffer grown, and keeps what was there. */
static void test_integers_and_printf(void **state)
{
    static const int64_t edge[] = {0, 1, -1, 9, 10, -10, 99, 100, 1234567890123LL,
                                   INT64_MAX, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1};
    char want[32], got[FG_FMT_INT_MAX + 1];
    struct fg_buf b;
    uint64_t x = 88172645463325252ULL;   /* xorshift64 */

    (void)state;
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        snprintf(want, sizeof(want), "%" PRId64, edge[i]);
        assert_int_equal(fg_fmt_i64(got, edge[i]), strlen(want));
        assert_string_equal(got, want);
    }
    snprintf(want, sizeof(want), "%" PRIu64, UINT64_MAX);
    assert_int_equal(fg_fmt_u64(got, UINT64_MAX), strlen(want));
    assert_string_equal(got, want);
    fg_buf_init(&b);
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t v = (int64_t)(x >> (i % 64));
        if (i & 1)
            v = -v;
        snprintf(want, sizeof(want), "%" PRId64, v);
        assert_int_equal(fg_fmt_i64(got, v), strlen(want));
        assert_string_equal(got, want);
        fg_buf_reset(&b);
        fg_buf_puts(&b, "k=");
        fg_buf_put_i64(&b, v);
        fg_buf_putc(&b, ';');
        fg_buf_put_u64(&b, x);
        snprintf(want, sizeof(want), "k=%" PRId64 ";", v);
        assert_int_equal(strncmp(b.data, want, strlen(want)), 0);
        assert_int_equal(strtoull(b.data + strlen(want), NULL, 10), x);
        assert_int_equal(b.len, strlen(b.data));
    }
    /* printf: fits, then does not fit the room left (a long %s) */
    fg_buf_reset(&b);
    fg_buf_printf(&b, "%s-%d", "ab", 7);
    assert_string_equal(b.data, "ab-7");
    {
        char big[5000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        fg_buf_printf(&b, "[%s]%d", big, 42);
        assert_int_equal(b.len, 4 + 1 + 4999 + 1 + 2);
        assert_int_equal(strncmp(b.data, "ab-7[xxx", 8), 0);
        assert_string_equal(b.data + b.len - 4, "x]42");
    }
    fg_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buffer),
        cmocka_unit_test(test_json_plain_and_escapes),
        cmocka_unit_test(test_json_control_round_trip),
        cmocka_unit_test(test_json_utf8),
        cmocka_unit_test(test_json_invalid_utf8),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_exhaustive),
        cmocka_unit_test(test_integers_and_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
