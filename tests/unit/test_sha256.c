/* SPDX-License-Identifier: Apache-2.0
 *
 * test_sha256.c: SHA-256 against the FIPS 180-4 / NIST CAVS examples
 * ("abc", the two-block 448-bit message, the 896-bit message, one million
 * 'a'), the empty message, the padding boundaries (55, 56, 63, 64, 65,
 * 119, 120 bytes: the length field fits or spills into another block),
 * every way of splitting a message into update() calls, the file
 * digest helper, and HMAC-SHA256 against RFC 4231 (test cases 1, 2 and 6:
 * a short key, a text key, a key longer than the block). Every test runs
 * twice: on the portable block function and on the CPU's SHA extensions
 * (skipped where the CPU has none), and the two are compared on
 * pseudo-random messages of every length up to a few blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fg_sha256.h"

static void check(const void *msg, size_t len, const char *want)
{
    unsigned char d[FG_SHA256_LEN];
    char hex[FG_SHA256_HEX];

    fg_sha256(msg, len, d);
    assert_string_equal(fg_sha256_hex(d, hex), want);
}

static void test_fips_vectors(void **state)
{
    (void)state;
    check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
          "klmnopqrlmnopqrsmnopqrstnopqrstu",
          112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
    struct fg_sha256 s;
    unsigned char chunk[1000], d[FG_SHA256_LEN];
    char hex[FG_SHA256_HEX];

    (void)state;
    memset(chunk, 'a', sizeof(chunk));
    fg_sha256_init(&s);
    for (int i = 0; i < 1000; i++)
        fg_sha256_update(&s, chunk, sizeof(chunk));
    fg_sha256_final(&s, d);
    assert_string_equal(fg_sha256_hex(d, hex),
                        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_padding_boundaries(void **state)
{
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    char buf[128];

    (void)state;
    memset(buf, 'a', sizeof(buf));
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        check(buf, v[i].n, v[i].hex);
}

/* Any split into update() calls gives the one-shot digest. */
static void test_incremental(void **state)
{
    char msg[300];
    unsigned char one[FG_SHA256_LEN], two[FG_SHA256_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (char)(i * 7 + 3);
    fg_sha256(msg, sizeof(msg), one);
    for (size_t a = 0; a <= sizeof(msg); a += 7) {
        for (size_t b = a; b <= sizeof(msg); b += 13) {
            struct fg_sha256 s;
            fg_sha256_init(&s);
            fg_sha256_update(&s, msg, a);
            fg_sha256_update(&s, msg + a, b - a);
            fg_sha256_update(&s, msg + b, sizeof(msg) - b);
            fg_sha256_final(&s, two);
            assert_memory_equal(one, two, FG_SHA256_LEN);
        }
    }
    /* Byte by byte. */
    {
        struct fg_sha256 s;
        fg_sha256_init(&s);
        for (size_t i = 0; i < sizeof(msg); i++)
            fg_sha256_update(&s, msg + i, 1);
        fg_sha256_final(&s, two);
        assert_memory_equal(one, two, FG_SHA256_LEN);
    }
}

static void test_file(void **state)
{
    char path[] = "/tmp/fg-sha256-XXXXXX";
    unsigned char d[FG_SHA256_LEN];
    char hex[FG_SHA256_HEX];
    uint64_t bytes = 0;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    assert_int_equal(fg_sha256_file(path, d, &bytes), 0);
    assert_int_equal(bytes, 3);
    assert_string_equal(fg_sha256_hex(d, hex),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    unlink(path);
    assert_int_equal(fg_sha256_file(path, d, &bytes), -1);
}

static void check_hmac(const void *key, size_t klen, const char *msg, const char *want)
{
    unsigned char d[FG_SHA256_LEN];
    char hex[FG_SHA256_HEX];

    fg_hmac_sha256(key, klen, msg, strlen(msg), d);
    assert_string_equal(fg_sha256_hex(d, hex), want);
}

static void test_hmac_rfc4231(void **state)
{
    unsigned char k1[20], k6[131];

    (void)state;
    memset(k1, 0x0b, sizeof(k1));
    memset(k6, 0xaa, sizeof(k6));
    check_hmac(k1, sizeof(k1), "Hi There",
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    check_hmac("Jefe", 4, "what do ya want for nothing?",
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    check_hmac(k6, sizeof(k6), "Test Using Larger Than Block-Size Key - Hash Key First",
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* The two block functions agree on every length from 0 to 1,100 bytes,
 * fed in one update() and in uneven pieces (a partial block, then many
 * whole blocks at once, then a tail). */
static void test_native_equals_portable(void **state)
{
    unsigned char msg[1100], a[FG_SHA256_LEN], b[FG_SHA256_LEN];
    uint64_t x = 0x9e3779b97f4a7c15ULL;

    (void)state;
    if (!fg_sha256_accelerated(1))
        skip();
    for (size_t i = 0; i < sizeof(msg); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        msg[i] = (unsigned char)x;
    }
    for (size_t n = 0; n <= sizeof(msg); n++) {
        struct fg_sha256 s;
        size_t cut = n % 61;

        fg_sha256_accelerated(0);
        fg_sha256(msg, n, a);
        fg_sha256_accelerated(1);
        fg_sha256_init(&s);
        fg_sha256_update(&s, msg, cut);
        fg_sha256_update(&s, msg + cut, (n - cut) / 2);
        fg_sha256_update(&s, msg + cut + (n - cut) / 2, n - cut - (n - cut) / 2);
        fg_sha256_final(&s, b);
        assert_memory_equal(a, b, FG_SHA256_LEN);
    }
}

static int use_portable(void **state)
{
    (void)state;
    assert_int_equal(fg_sha256_accelerated(0), 0);
    return 0;
}

static int use_native(void **state)
{
    (void)state;
    fg_sha256_accelerated(1);
    return 0;
}

/* Each test on the native block function, skipped without it. */
#define NATIVE(f)                                                                                  \
    static void f##_native(void **state)                                                           \
    {                                                                                              \
        if (!fg_sha256_accelerated(-1))                                                            \
            skip();                                                                                \
        f(state);                                                                                  \
    }
NATIVE(test_fips_vectors)
NATIVE(test_million_a)
NATIVE(test_padding_boundaries)
NATIVE(test_incremental)
NATIVE(test_hmac_rfc4231)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fips_vectors, use_portable),
        cmocka_unit_test_setup(test_million_a, use_portable),
        cmocka_unit_test_setup(test_padding_boundaries, use_portable),
        cmocka_unit_test_setup(test_incremental, use_portable),
        cmocka_unit_test_setup(test_hmac_rfc4231, use_portable),
        cmocka_unit_test_setup(test_fips_vectors_native, use_native),
        cmocka_unit_test_setup(test_million_a_native, use_native),
        cmocka_unit_test_setup(test_padding_boundaries_native, use_native),
        cmocka_unit_test_setup(test_incremental_native, use_native),
        cmocka_unit_test_setup(test_hmac_rfc4231_native, use_native),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_native_equals_portable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
