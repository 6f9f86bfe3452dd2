/* SPDX-License-Identifier: Apache-2.0
 *
 * test_kmerge.c: the k-way merge that orders a topic replay. Whatever the
 * interleaving in which the sources deliver (popping whenever possible),
 * the merged order is the sort by (key, source, seq) of sources that are
 * each in key order, a source's own order is kept when it is not, nothing
 * goes out while a source that has not ended is empty, and ended sources
 * drain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fg_kmerge.h"

#define NSRC 5
#define PER 40

struct rec {
    int64_t key, seq;
    int src;
};

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->src != y->src)
        return x->src < y->src ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Deliver the sources' items in a random interleaving (each source in its
 * own order, ending at a random moment after its last item), popping
 * after every step; returns how many came out into out[]. */
static size_t run(struct rec in[NSRC][PER], struct rec *out)
{
    struct fg_kmerge *m = fg_kmerge_new(NSRC);
    size_t next[NSRC] = {0}, nout = 0;
    int ended[NSRC] = {0}, left = NSRC;
    struct fg_kmerge_item it;
    int src;

    while (left > 0) {
        int s = (int)(rnd() % NSRC);
        if (ended[s])
            continue;
        if (next[s] < PER) {
            struct rec *r = &in[s][next[s]++];
            fg_kmerge_push(m, s, r->key, r->seq, r);
        } else {
            fg_kmerge_end(m, s);
            ended[s] = 1;
            left--;
        }
        while (fg_kmerge_pop(m, &src, &it)) {
            struct rec *r = it.ptr;
            assert_int_equal(src, r->src);
            assert_int_equal(it.key, r->key);
            out[nout++] = *r;
        }
    }
    assert_false(fg_kmerge_pop(m, &src, &it));
    fg_kmerge_free(m, NULL);
    return nout;
}

static void test_any_interleaving_gives_the_sort(void **state)
{
    struct rec in[NSRC][PER], all[NSRC * PER], out[NSRC * PER];

    (void)state;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        size_t n = 0;
        rng_state = seed;
        /* Sorted sources on a coarse clock, so keys tie across sources. */
        for (int s = 0; s < NSRC; s++) {
            int64_t k = 0;
            for (int i = 0; i < PER; i++) {
                k += rnd() % 3;
                in[s][i] = (struct rec){k, 100 + i, s};
                all[n++] = in[s][i];
            }
        }
        qsort(all, n, sizeof(all[0]), cmp_rec);
        assert_int_equal(run(in, out), n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(out[i].key, all[i].key);
            assert_int_equal(out[i].src, all[i].src);
            assert_int_equal(out[i].seq, all[i].seq);
        }
    }
}

/* A source out of key order keeps its own order, and the result is still
 * the same for every interleaving. */
static void test_unsorted_source_keeps_its_order(void **state)
{
    struct rec in[NSRC][PER], first[NSRC * PER], out[NSRC * PER];
    size_t n0 = 0;

    (void)state;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        rng_state = 7;   /* the same input every time */
        for (int s = 0; s < NSRC; s++)
            for (int i = 0; i < PER; i++)
                in[s][i] = (struct rec){(int64_t)(rnd() % 50), i, s};
        rng_state = seed * 7919;   /* a different interleaving */
        size_t n = run(in, out);
        assert_int_equal(n, NSRC * PER);
        int64_t last_seq[NSRC];
        for (int s = 0; s < NSRC; s++)
            last_seq[s] = -1;
        for (size_t i = 0; i < n; i++) {
            assert_true(out[i].seq > last_seq[out[i].src]);
            last_seq[out[i].src] = out[i].seq;
        }
        if (seed == 1) {
            memcpy(first, out, sizeof(out));
            n0 = n;
        } else {
            assert_int_equal(n, n0);
            assert_memory_equal(first, out, n * sizeof(out[0]));
        }
    }
}

static void test_waits_for_empty_sources(void **state)
{
    struct fg_kmerge *m = fg_kmerge_new(3);
    struct fg_kmerge_item it;
    int a = 1, b = 2, src = -1;

    (void)state;
    fg_kmerge_push(m, 0, 10, 0, &a);
    fg_kmerge_push(m, 1, 20, 0, &b);
    /* source 2 has delivered nothing and has not ended */
    assert_false(fg_kmerge_pop(m, &src, &it));
    assert_int_equal(fg_kmerge_waiting(m, 0), 1);
    fg_kmerge_end(m, 2);
    assert_true(fg_kmerge_ended(m, 2));
    assert_true(fg_kmerge_pop(m, &src, &it));
    assert_int_equal(src, 0);
    assert_ptr_equal(it.ptr, &a);
    /* source 0 is empty again and not ended: 20 must wait */
    assert_false(fg_kmerge_pop(m, &src, &it));
    fg_kmerge_end(m, 0);
    assert_true(fg_kmerge_pop(m, &src, &it));
    assert_int_equal(src, 1);
    assert_false(fg_kmerge_pop(m, &src, &it));   /* source 1 not ended, empty */
    fg_kmerge_end(m, 1);
    assert_false(fg_kmerge_pop(m, &src, &it));   /* all ended, nothing left */
    fg_kmerge_free(m, NULL);
}

static int freed;
static void count_free(void *p)
{
    (void)p;
    freed++;
}

static void test_free_hands_back_waiting_items(void **state)
{
    struct fg_kmerge *m = fg_kmerge_new(2);
    int x;

    (void)state;
    for (int i = 0; i < 1000; i++)
        fg_kmerge_push(m, i % 2, i, i, &x);
    freed = 0;
    fg_kmerge_free(m, count_free);
    assert_int_equal(freed, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_interleaving_gives_the_sort),
        cmocka_unit_test(test_unsorted_source_keeps_its_order),
        cmocka_unit_test(test_waits_for_empty_sources),
        cmocka_unit_test(test_free_hands_back_waiting_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
