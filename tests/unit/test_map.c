/* SPDX-License-Identifier: Apache-2.0
 *
 * test_map.c: the open-addressing map, checked against a plain array:
 * growth, replacement, and deletion by backward shift.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fg_map.h"

#define MAXKEYS 4096

/* Reference model: key i is present when val[i] != NULL. */
struct model {
    char keys[MAXKEYS][24];
    size_t klen[MAXKEYS];
    void *val[MAXKEYS];
    size_t count;
};

static struct model M;

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*, fixed seed: the sequence is the same on every run. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static void model_init(size_t nkeys)
{
    memset(&M, 0, sizeof(M));
    for (size_t i = 0; i < nkeys; i++) {
        /* Keys of varied length; some are prefixes of others. */
        int n = snprintf(M.keys[i], sizeof(M.keys[i]), "k%zu%.*s", i, (int)(i % 7),
                         "xxxxxxx");
        M.klen[i] = (size_t)n;
    }
}

static void *tag(size_t i, unsigned gen)
{
    /* Distinct non-NULL pointer values; never dereferenced. */
    return (void *)(uintptr_t)(((uintptr_t)gen << 20) | (i + 1));
}

/* Every model key is findable with the right value; absent ones are not;
 * the slot array holds exactly count keys. */
static void check_all(const struct fg_map *m, size_t nkeys)
{
    size_t live = 0;

    assert_int_equal(m->count, M.count);
    for (size_t i = 0; i < nkeys; i++) {
        void *got = fg_map_get(m, M.keys[i], M.klen[i]);
        if (got != M.val[i])
            fail_msg("key %s: got %p, expected %p", M.keys[i], got, M.val[i]);
    }
    if (m->slots) {
        for (size_t i = 0; i < m->cap; i++)
            live += m->slots[i].key != NULL;
        assert_int_equal(live, m->count);
        /* Load factor stays at most 1/2 and cap is a power of two. */
        assert_true(m->count * 2 <= m->cap);
        assert_int_equal(m->cap & (m->cap - 1), 0);
    }
}

static void test_empty(void **state)
{
    struct fg_map m;

    (void)state;
    fg_map_init(&m);
    assert_null(fg_map_get(&m, "a", 1));
    assert_null(fg_map_del(&m, "a", 1));
    assert_int_equal(m.count, 0);
    fg_map_fini(&m);
    fg_map_fini(&m);
}

static void test_put_get_replace(void **state)
{
    struct fg_map m;
    int a, b, c;
    char k1[] = "abc", k2[] = "abc";

    (void)state;
    fg_map_init(&m);
    assert_null(fg_map_put(&m, "abc", 3, &a));
    assert_ptr_equal(fg_map_get(&m, "abc", 3), &a);
    /* Keys are compared by bytes, not by pointer. */
    assert_ptr_equal(fg_map_get(&m, k1, 3), &a);
    assert_null(fg_map_get(&m, "ab", 2));
    assert_null(fg_map_get(&m, "abcd", 4));
    assert_null(fg_map_get(&m, "abd", 3));
    /* Replace returns the old value and keeps count. */
    assert_ptr_equal(fg_map_put(&m, k2, 3, &b), &a);
    assert_int_equal(m.count, 1);
    assert_ptr_equal(fg_map_get(&m, "abc", 3), &b);
    /* Byte-string keys: embedded NULs and the empty key. */
    assert_null(fg_map_put(&m, "a\0b", 3, &a));
    assert_null(fg_map_put(&m, "a\0c", 3, &c));
    assert_null(fg_map_put(&m, "", 0, &c));
    assert_ptr_equal(fg_map_get(&m, "a\0b", 3), &a);
    assert_ptr_equal(fg_map_get(&m, "a\0c", 3), &c);
    assert_null(fg_map_get(&m, "a", 1));
    assert_ptr_equal(fg_map_get(&m, "", 0), &c);
    assert_int_equal(m.count, 4);
    assert_ptr_equal(fg_map_del(&m, "", 0), &c);
    assert_null(fg_map_get(&m, "", 0));
    assert_ptr_equal(fg_map_del(&m, "a\0b", 3), &a);
    assert_null(fg_map_del(&m, "a\0b", 3));
    assert_ptr_equal(fg_map_get(&m, "a\0c", 3), &c);
    assert_int_equal(m.count, 2);
    fg_map_fini(&m);
}

static void test_growth(void **state)
{
    struct fg_map m;
    const size_t n = MAXKEYS;

    (void)state;
    model_init(n);
    fg_map_init(&m);
    for (size_t i = 0; i < n; i++) {
        assert_null(fg_map_put(&m, M.keys[i], M.klen[i], tag(i, 1)));
        M.val[i] = tag(i, 1);
        M.count++;
        if (i % 97 == 0 || (i & (i + 1)) == 0)
            check_all(&m, n);
    }
    check_all(&m, n);
    assert_true(m.cap >= 2 * n);
    /* Replace every other key. */
    for (size_t i = 0; i < n; i += 2) {
        assert_ptr_equal(fg_map_put(&m, M.keys[i], M.klen[i], tag(i, 2)), tag(i, 1));
        M.val[i] = tag(i, 2);
    }
    check_all(&m, n);
    /* Delete every third key, then put them back. */
    for (size_t i = 0; i < n; i += 3) {
        assert_ptr_equal(fg_map_del(&m, M.keys[i], M.klen[i]), M.val[i]);
        M.val[i] = NULL;
        M.count--;
    }
    check_all(&m, n);
    for (size_t i = 0; i < n; i += 3) {
        assert_null(fg_map_put(&m, M.keys[i], M.klen[i], tag(i, 3)));
        M.val[i] = tag(i, 3);
        M.count++;
    }
    check_all(&m, n);
    /* Delete everything. */
    for (size_t i = n; i-- > 0;) {
        assert_ptr_equal(fg_map_del(&m, M.keys[i], M.klen[i]), M.val[i]);
        M.val[i] = NULL;
        M.count--;
    }
    check_all(&m, n);
    assert_int_equal(m.count, 0);
    fg_map_fini(&m);
}

/* Random operations against the model. A small key pool keeps the table
 * small, so probe runs wrap around the end of the slot array often. */
static void random_ops(size_t nkeys, size_t ops, uint64_t seed, size_t check_every)
{
    struct fg_map m;
    unsigned gen = 0;

    model_init(nkeys);
    rng_state = seed;
    fg_map_init(&m);
    for (size_t op = 0; op < ops; op++) {
        size_t i = (size_t)(rng() % nkeys);
        unsigned what = (unsigned)(rng() % 10);

        if (what < 5) {
            void *v = tag(i, ++gen & 0xfff);
            void *prev = fg_map_put(&m, M.keys[i], M.klen[i], v);
            if (prev != M.val[i])
                fail_msg("op %zu put %s: previous %p, expected %p", op, M.keys[i], prev,
                         M.val[i]);
            if (!M.val[i])
                M.count++;
            M.val[i] = v;
        } else if (what < 9) {
            void *got = fg_map_del(&m, M.keys[i], M.klen[i]);
            if (got != M.val[i])
                fail_msg("op %zu del %s: got %p, expected %p", op, M.keys[i], got,
                         M.val[i]);
            if (M.val[i])
                M.count--;
            M.val[i] = NULL;
            /* After a delete, every other key must still be findable. */
            if (nkeys <= 600)
                check_all(&m, nkeys);
        } else {
            assert_ptr_equal(fg_map_get(&m, M.keys[i], M.klen[i]), M.val[i]);
        }
        if (check_every && op % check_every == 0)
            check_all(&m, nkeys);
    }
    check_all(&m, nkeys);
    fg_map_fini(&m);
}

static void test_random_small(void **state)
{
    (void)state;
    random_ops(7, 20000, UINT64_C(0x243f6a8885a308d3), 1);
    random_ops(12, 20000, UINT64_C(0x13198a2e03707344), 1);
    random_ops(40, 20000, UINT64_C(0xa4093822299f31d0), 1);
}

static void test_random_large(void **state)
{
    (void)state;
    random_ops(600, 60000, UINT64_C(0x082efa98ec4e6c89), 0);
    random_ops(MAXKEYS, 30000, UINT64_C(0x452821e638d01377), 1000);
}

/* Fill a table, then delete keys one by one in a random order, checking
 * the rest each time. */
static void test_delete_all_orders(void **state)
{
    struct fg_map m;
    size_t order[300];

    (void)state;
    rng_state = UINT64_C(0xbe5466cf34e90c6c);
    for (int round = 0; round < 20; round++) {
        size_t n = 5 + (size_t)(rng() % 290);
        model_init(n);
        fg_map_init(&m);
        for (size_t i = 0; i < n; i++) {
            fg_map_put(&m, M.keys[i], M.klen[i], tag(i, 1));
            M.val[i] = tag(i, 1);
            M.count++;
            order[i] = i;
        }
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)(rng() % i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for (size_t k = 0; k < n; k++) {
            size_t i = order[k];
            assert_ptr_equal(fg_map_del(&m, M.keys[i], M.klen[i]), tag(i, 1));
            M.val[i] = NULL;
            M.count--;
            check_all(&m, n);
        }
        fg_map_fini(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_put_get_replace),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_random_small),
        cmocka_unit_test(test_random_large),
        cmocka_unit_test(test_delete_all_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
