/* SPDX-License-Identifier: Apache-2.0
 *
 * test_state.c: the embedded state backend: persons, seen-sets, windows,
 * histograms, and event-time expiry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fg_state.h"
#include "fg_time.h"

/* 2024-03-05 09:59:06 CST */
#define T0 INT64_C(1709603946)

static int setup(void **state)
{
    *state = fg_state_memory_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fg_state_destroy(*state);
    return 0;
}

static size_t n_persons(struct fg_state *st)
{
    size_t p, l, h;
    st->ops->stats(st, &p, &l, &h);
    return p;
}

static size_t n_lines(struct fg_state *st)
{
    size_t p, l, h;
    st->ops->stats(st, &p, &l, &h);
    return l;
}

static size_t n_hists(struct fg_state *st)
{
    size_t p, l, h;
    st->ops->stats(st, &p, &l, &h);
    return h;
}

static struct fg_wline *add(struct fg_state *st, struct fg_person *p, const char *code,
                            int64_t fee_time, int64_t expire_at)
{
    struct fg_line_init in = {0};

    in.fee_time = fee_time;
    in.pric = 12500000;
    in.cnt = 20000;
    in.inscp = 2500;
    in.expire_at = expire_at;
    in.code = code;
    in.fixmedins_code = "H1";
    in.mdtrt_id = "M1";
    in.feedetl_sn = "1";
    in.setl_id = "S1";
    return st->ops->add_line(st, p, &in);
}

static void test_person(void **state)
{
    struct fg_state *st = *state;
    char name[32];
    struct fg_person *a, *b;

    assert_non_null(st->ops->name);
    assert_int_equal(n_persons(st), 0);
    strcpy(name, "33050099000010000001689700");
    a = st->ops->person(st, name);
    assert_non_null(a);
    /* The key is copied: reusing the caller's buffer changes nothing. */
    strcpy(name, "P2");
    b = st->ops->person(st, name);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(st->ops->person(st, "33050099000010000001689700"), a);
    assert_ptr_equal(st->ops->person(st, "P2"), b);
    assert_int_equal(n_persons(st), 2);
    /* Batches are accepted (no-ops in memory). */
    const char *const batch[] = {"P2", "P3"};
    assert_int_equal(fg_state_begin(st, batch, 2), 0);
    assert_int_equal(st->ops->commit_batch(st), 0);
}

static void test_seen(void **state)
{
    struct fg_state *st = *state;
    struct fg_person *a = st->ops->person(st, "A"), *b = st->ops->person(st, "B");
    uint64_t k = UINT64_C(0x9e3779b97f4a7c14);

    assert_int_equal(st->ops->seen(st, a, FG_SEEN_EVENTS, k, T0), 0);
    assert_int_equal(st->ops->seen(st, a, FG_SEEN_EVENTS, k, T0), 1);
    assert_int_equal(st->ops->seen(st, a, FG_SEEN_EVENTS, k, T0 + 10), 1);
    /* The two sets are separate, and so are persons. */
    assert_int_equal(st->ops->seen(st, a, FG_SEEN_ALERTS, k, T0), 0);
    assert_int_equal(st->ops->seen(st, a, FG_SEEN_ALERTS, k, T0), 1);
    assert_int_equal(st->ops->seen(st, b, FG_SEEN_EVENTS, k, T0), 0);
    assert_int_equal(st->ops->seen(st, b, FG_SEEN_ALERTS, k, T0), 0);
    assert_int_equal(st->ops->seen(st, b, FG_SEEN_ALERTS, k, T0), 1);

    /* Many hash-like keys: growth keeps every one. */
    uint64_t x = UINT64_C(88172645463325252);
    for (int i = 0; i < 5000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        assert_int_equal(st->ops->seen(st, a, FG_SEEN_ALERTS, x, T0), 0);
    }
    x = UINT64_C(88172645463325252);
    for (int i = 0; i < 5000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        assert_int_equal(st->ops->seen(st, a, FG_SEEN_ALERTS, x, T0), 1);
    }
}

/* Distinct keys are distinct, whatever their bit pattern. */
static void test_seen_distinct_keys(void **state)
{
    struct fg_state *st = *state;
    struct fg_person *a = st->ops->person(st, "A");

    for (uint64_t k = 0; k < 64; k++)
        if (st->ops->seen(st, a, FG_SEEN_EVENTS, k, T0) != 0)
            fail_msg("key %llu reported as seen on first insert", (unsigned long long)k);
    for (uint64_t k = 0; k < 64; k++)
        assert_int_equal(st->ops->seen(st, a, FG_SEEN_EVENTS, k, T0), 1);
    assert_int_equal(st->ops->seen(st, a, FG_SEEN_ALERTS, UINT64_MAX - 1, T0), 0);
    assert_int_equal(st->ops->seen(st, a, FG_SEEN_ALERTS, UINT64_MAX, T0), 0);
}

static void test_add_line(void **state)
{
    struct fg_state *st = *state;
    struct fg_person *p = st->ops->person(st, "A");
    char code[32], fix[32], mdtrt[32], sn[32], setl[32];
    struct fg_line_init in = {0};
    struct fg_wline *w, **win;
    uint64_t prev = 0;

    strcpy(code, "001102000030000");
    strcpy(fix, "H33011100246");
    strcpy(mdtrt, "M-1");
    strcpy(sn, "7");
    strcpy(setl, "S-1");
    in.fee_time = T0;
    in.pric = 12500000;
    in.cnt = 20000;
    in.inscp = 2500;
    in.expire_at = T0 + 86400;
    in.flags = FG_WL_HAS_INSCP;
    in.code = code;
    in.fixmedins_code = fix;
    in.mdtrt_id = mdtrt;
    in.feedetl_sn = sn;
    in.setl_id = setl;
    w = st->ops->add_line(st, p, &in);
    assert_non_null(w);
    /* Mutate and reuse every source buffer. */
    memset(code, 'X', sizeof(code) - 1);
    memset(fix, 'X', sizeof(fix) - 1);
    memset(mdtrt, 'X', sizeof(mdtrt) - 1);
    memset(sn, 'X', sizeof(sn) - 1);
    memset(setl, 'X', sizeof(setl) - 1);
    in.fee_time = T0 + 60;
    in.cnt = -10000;
    in.flags = FG_WL_REFUND;
    strcpy(code, "B");
    strcpy(sn, "8");
    struct fg_wline *w2 = st->ops->add_line(st, p, &in);
    strcpy(code, "Y");

    assert_string_equal(w->code, "001102000030000");
    assert_string_equal(w->fixmedins_code, "H33011100246");
    assert_string_equal(w->mdtrt_id, "M-1");
    assert_string_equal(w->feedetl_sn, "7");
    assert_string_equal(w->setl_id, "S-1");
    assert_int_equal(w->fee_time, T0);
    assert_int_equal(w->day, fg_cst_day(T0));
    assert_int_equal(w->day, 19787);
    assert_int_equal(w->pric, 12500000);
    assert_int_equal(w->cnt, 20000);
    assert_int_equal(w->net_cnt, 20000);
    assert_int_equal(w->inscp, 2500);
    assert_int_equal(w->expire_at, T0 + 86400);
    assert_int_equal(w->flags, FG_WL_HAS_INSCP);
    assert_string_equal(w2->code, "B");
    assert_string_equal(w2->feedetl_sn, "8");
    assert_int_equal(w2->cnt, -10000);
    assert_int_equal(w2->net_cnt, -10000);
    assert_int_equal(w2->flags, FG_WL_REFUND);
    assert_true(w2->seq > w->seq);

    /* More lines: seq strictly increases, window is in seq order. */
    for (int i = 0; i < 100; i++)
        add(st, p, i % 2 ? "C1" : "C2", T0 + i, T0 + 86400);
    assert_int_equal(st->ops->window(st, p, &win), 102);
    assert_ptr_equal(win[0], w);
    assert_ptr_equal(win[1], w2);
    for (size_t i = 0; i < 102; i++) {
        if (i)
            assert_true(win[i]->seq > prev);
        prev = win[i]->seq;
    }
    assert_string_equal(win[2]->code, "C2");
    assert_string_equal(win[3]->code, "C1");
    assert_int_equal(n_lines(st), 102);

    /* Another person has a window of its own. */
    struct fg_person *q = st->ops->person(st, "B");
    assert_int_equal(st->ops->window(st, q, &win), 0);
    add(st, q, "Z", T0, T0 + 10);
    assert_int_equal(st->ops->window(st, q, &win), 1);
    assert_string_equal(win[0]->code, "Z");
    assert_int_equal(n_lines(st), 103);

    /* update_line persists in-place changes. */
    w->net_cnt = 10000;
    w->flags |= FG_WL_REFUNDED;
    st->ops->update_line(st, p, w);
    st->ops->window(st, p, &win);
    assert_int_equal(win[0]->net_cnt, 10000);
    assert_true(win[0]->flags & FG_WL_REFUNDED);
}

static void test_line_expiry(void **state)
{
    struct fg_state *st = *state;
    struct fg_person *p = st->ops->person(st, "A");
    struct fg_wline **win;
    int64_t W = T0 + 100000;

    add(st, p, "old", T0, W - 1);      /* passed by W */
    add(st, p, "edge", T0, W);         /* expire_at == watermark: kept */
    add(st, p, "later", T0, W + 3000); /* passed by W + 3600 */
    add(st, p, "old2", T0, W - 500);
    add(st, p, "long", T0, W + 86400);
    assert_int_equal(n_lines(st), 5);

    st->ops->advance(st, W);
    p = st->ops->person(st, "A");
    assert_int_equal(st->ops->window(st, p, &win), 3);
    assert_string_equal(win[0]->code, "edge");
    assert_string_equal(win[1]->code, "later");
    assert_string_equal(win[2]->code, "long");
    assert_true(win[0]->seq < win[1]->seq && win[1]->seq < win[2]->seq);
    assert_int_equal(n_lines(st), 3);

    /* New lines after a sweep still sort after the survivors. */
    struct fg_wline *nw = add(st, p, "new", T0, W + 86400);
    st->ops->window(st, p, &win);
    assert_true(nw->seq > win[2]->seq);

    /* The sweep runs at most once per 3600 s of watermark progress. */
    st->ops->advance(st, W + 3599);
    assert_int_equal(n_lines(st), 4);
    p = st->ops->person(st, "A");
    assert_int_equal(st->ops->window(st, p, &win), 4);
    st->ops->advance(st, W + 3600);
    assert_int_equal(n_lines(st), 2);
    p = st->ops->person(st, "A");
    assert_int_equal(st->ops->window(st, p, &win), 2);
    assert_string_equal(win[0]->code, "long");
    assert_string_equal(win[1]->code, "new");
    /* Going back in time never sweeps. */
    st->ops->advance(st, W);
    assert_int_equal(n_lines(st), 2);
}

static void test_person_expiry(void **state)
{
    struct fg_state *st = *state;
    struct fg_person *a = st->ops->person(st, "A");
    struct fg_person *b = st->ops->person(st, "B");
    struct fg_person *c = st->ops->person(st, "C");
    struct fg_wline **win;
    int64_t W = T0 + 100000;

    (void)st->ops->person(st, "EMPTY");
    add(st, a, "x", T0, W - 1);
    add(st, b, "x", T0, W + 86400);
    add(st, c, "x", T0, W - 1);
    assert_int_equal(st->ops->seen(st, c, FG_SEEN_EVENTS, 77, W + 86400), 0);
    assert_int_equal(n_persons(st), 4);

    st->ops->advance(st, W);
    /* A (lines passed) and EMPTY go; B has a line, C a seen entry. */
    assert_int_equal(n_persons(st), 2);
    assert_int_equal(n_lines(st), 1);
    c = st->ops->person(st, "C");
    assert_int_equal(st->ops->window(st, c, &win), 0);
    assert_int_equal(st->ops->seen(st, c, FG_SEEN_EVENTS, 77, W + 86400), 1);
    assert_int_equal(n_persons(st), 2);
    /* A comes back empty. */
    a = st->ops->person(st, "A");
    assert_int_equal(st->ops->window(st, a, &win), 0);
    assert_int_equal(n_persons(st), 3);

    st->ops->advance(st, W + 2 * 86400);
    assert_int_equal(n_persons(st), 0);
    assert_int_equal(n_lines(st), 0);
}

static void test_seen_expiry(void **state)
{
    struct fg_state *st = *state;
    struct fg_person *p = st->ops->person(st, "A");
    int64_t W = T0 + 100000;

    add(st, p, "keep", T0, W + 10 * 86400); /* keeps the person alive */
    for (uint64_t k = 1000; k < 1200; k += 2) {
        assert_int_equal(st->ops->seen(st, p, FG_SEEN_EVENTS, k << 8, W - 1), 0);
        assert_int_equal(st->ops->seen(st, p, FG_SEEN_ALERTS, k << 8, W), 0);
    }
    assert_int_equal(st->ops->seen(st, p, FG_SEEN_EVENTS, 5u << 8, W + 7200), 0);

    st->ops->advance(st, W);
    p = st->ops->person(st, "A");
    /* expire_at < W: forgotten (reinserted now); == W: still there. */
    for (uint64_t k = 1000; k < 1200; k += 2) {
        assert_int_equal(st->ops->seen(st, p, FG_SEEN_EVENTS, k << 8, W + 86400), 0);
        assert_int_equal(st->ops->seen(st, p, FG_SEEN_ALERTS, k << 8, W), 1);
    }
    assert_int_equal(st->ops->seen(st, p, FG_SEEN_EVENTS, 5u << 8, W + 7200), 1);

    st->ops->advance(st, W + 3600);
    p = st->ops->person(st, "A");
    for (uint64_t k = 1000; k < 1200; k += 2) {
        assert_int_equal(st->ops->seen(st, p, FG_SEEN_EVENTS, k << 8, W + 86400), 1);
        assert_int_equal(st->ops->seen(st, p, FG_SEEN_ALERTS, k << 8, W + 3600), 0);
    }
    assert_int_equal(st->ops->seen(st, p, FG_SEEN_EVENTS, 5u << 8, W + 7200), 1);
    st->ops->advance(st, W + 7201);
    p = st->ops->person(st, "A");
    assert_int_equal(st->ops->seen(st, p, FG_SEEN_EVENTS, 5u << 8, W + 7200), 0);
}

static void test_hist(void **state)
{
    struct fg_state *st = *state;
    uint32_t counts[FG_HIST_BUCKETS];
    int64_t d = 19787;

    /* g: d: b5 x3; d+1: b5, b7, b7; d+3: b0, b511. g2: d+1: b5. */
    for (int i = 0; i < 3; i++)
        st->ops->hist_add(st, "g", d, 5, d + 30);
    st->ops->hist_add(st, "g", d + 1, 7, d + 30);
    st->ops->hist_add(st, "g", d + 1, 5, d + 30);
    st->ops->hist_add(st, "g", d + 1, 7, d + 30);
    st->ops->hist_add(st, "g", d + 3, FG_HIST_BUCKETS - 1, d + 30);
    st->ops->hist_add(st, "g", d + 3, 0, d + 30);
    st->ops->hist_add(st, "g2", d + 1, 5, d + 30);
    /* A group whose name is a prefix of another. */
    st->ops->hist_add(st, "g2x", d + 1, 9, d + 30);

    memset(counts, 0xff, sizeof(counts));
    assert_int_equal(st->ops->hist_sum(st, "g", d, d + 1, counts), 6);
    for (unsigned b = 0; b < FG_HIST_BUCKETS; b++)
        assert_int_equal(counts[b], b == 5 ? 4 : b == 7 ? 2 : 0);

    memset(counts, 0xff, sizeof(counts));
    assert_int_equal(st->ops->hist_sum(st, "g", d, d, counts), 3);
    assert_int_equal(counts[5], 3);
    assert_int_equal(counts[7], 0);

    /* Bounds are inclusive at both ends. */
    assert_int_equal(st->ops->hist_sum(st, "g", d + 1, d + 3, counts), 5);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[FG_HIST_BUCKETS - 1], 1);
    assert_int_equal(counts[5], 1);
    assert_int_equal(st->ops->hist_sum(st, "g", d + 2, d + 2, counts), 0);
    assert_int_equal(st->ops->hist_sum(st, "g", d + 3, d + 3, counts), 2);
    assert_int_equal(st->ops->hist_sum(st, "g", d - 100, d - 1, counts), 0);
    assert_int_equal(st->ops->hist_sum(st, "g", d + 4, d + 100, counts), 0);
    assert_int_equal(st->ops->hist_sum(st, "g", d - 100, d + 100, counts), 8);
    /* Empty range (from > to). */
    assert_int_equal(st->ops->hist_sum(st, "g", d + 1, d, counts), 0);

    memset(counts, 0xff, sizeof(counts));
    assert_int_equal(st->ops->hist_sum(st, "g2", d, d + 3, counts), 1);
    for (unsigned b = 0; b < FG_HIST_BUCKETS; b++)
        assert_int_equal(counts[b], b == 5 ? 1 : 0);
    assert_int_equal(st->ops->hist_sum(st, "g2x", d, d + 3, counts), 1);
    assert_int_equal(counts[9], 1);

    /* Unknown group: zero, and counts zeroed. */
    memset(counts, 0xff, sizeof(counts));
    assert_int_equal(st->ops->hist_sum(st, "nope", d, d + 3, counts), 0);
    for (unsigned b = 0; b < FG_HIST_BUCKETS; b++)
        assert_int_equal(counts[b], 0);

    /* Many observations across all buckets. */
    for (unsigned b = 0; b < FG_HIST_BUCKETS; b++)
        for (unsigned k = 0; k <= b % 3; k++)
            st->ops->hist_add(st, "wide", d, b, d + 1);
    uint64_t expect = 0;
    for (unsigned b = 0; b < FG_HIST_BUCKETS; b++)
        expect += b % 3 + 1;
    assert_int_equal(st->ops->hist_sum(st, "wide", d, d, counts), expect);
    for (unsigned b = 0; b < FG_HIST_BUCKETS; b++)
        assert_int_equal(counts[b], b % 3 + 1);
}

static void test_hist_expiry(void **state)
{
    struct fg_state *st = *state;
    uint32_t counts[FG_HIST_BUCKETS];
    int64_t d = 19787;

    st->ops->hist_add(st, "g", d, 1, d + 2);      /* kept through day d+2 */
    st->ops->hist_add(st, "g", d + 1, 2, d + 3);
    st->ops->hist_add(st, "g", d + 2, 3, d + 2);
    /* A later add with a later expiry extends the day. */
    st->ops->hist_add(st, "g", d + 2, 3, d + 5);
    st->ops->hist_add(st, "h", d, 1, d);
    assert_int_equal(st->ops->hist_sum(st, "h", d, d, counts), 1);

    /* Watermark at the last second of day d+2: nothing is past. */
    st->ops->advance(st, fg_cst_day_start(d + 3) - 1);
    assert_int_equal(st->ops->hist_sum(st, "g", d, d + 10, counts), 4);
    assert_int_equal(st->ops->hist_sum(st, "h", d, d + 10, counts), 0);

    /* First second of day d+3: day d (expire d+2) goes. */
    st->ops->advance(st, fg_cst_day_start(d + 3) + 3600);
    assert_int_equal(st->ops->hist_sum(st, "g", d, d + 10, counts), 3);
    assert_int_equal(counts[1], 0);
    assert_int_equal(counts[2], 1);
    assert_int_equal(counts[3], 2);

    st->ops->advance(st, fg_cst_day_start(d + 4));
    assert_int_equal(st->ops->hist_sum(st, "g", d, d + 10, counts), 2);
    assert_int_equal(counts[2], 0);
    st->ops->advance(st, fg_cst_day_start(d + 6));
    assert_int_equal(st->ops->hist_sum(st, "g", d, d + 10, counts), 0);
    assert_int_equal(n_hists(st), 0);

    /* The group can be used again afterwards. */
    st->ops->hist_add(st, "g", d + 6, 4, d + 9);
    assert_int_equal(st->ops->hist_sum(st, "g", d, d + 10, counts), 1);
    assert_int_equal(counts[4], 1);
}

/* Group names are opaque: long ones must not run days together. */
static void test_hist_long_group(void **state)
{
    struct fg_state *st = *state;
    uint32_t counts[FG_HIST_BUCKETS];
    char g1[400], g2[400];
    int64_t d = 19787;

    memset(g1, 'a', sizeof(g1) - 1);
    g1[sizeof(g1) - 1] = '\0';
    memcpy(g2, g1, sizeof(g1));
    g2[sizeof(g2) - 2] = 'b';
    st->ops->hist_add(st, g1, d, 1, d + 30);
    st->ops->hist_add(st, g1, d + 1, 2, d + 30);
    st->ops->hist_add(st, g2, d, 3, d + 30);
    assert_int_equal(st->ops->hist_sum(st, g1, d, d, counts), 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(st->ops->hist_sum(st, g1, d + 1, d + 1, counts), 1);
    assert_int_equal(counts[2], 1);
    assert_int_equal(st->ops->hist_sum(st, g2, d, d + 1, counts), 1);
    assert_int_equal(counts[3], 1);
}

static void test_stats(void **state)
{
    struct fg_state *st = *state;
    size_t p, l, h;
    int64_t d = 19787;

    st->ops->stats(st, &p, &l, &h);
    assert_int_equal(p, 0);
    assert_int_equal(l, 0);
    assert_int_equal(h, 0);
    struct fg_person *a = st->ops->person(st, "A");
    struct fg_person *b = st->ops->person(st, "B");
    add(st, a, "x", T0, T0 + 10);
    add(st, a, "y", T0, T0 + 10);
    add(st, b, "x", T0, T0 + 10);
    st->ops->hist_add(st, "g1", d, 1, d + 1);
    st->ops->hist_add(st, "g2", d, 1, d + 1);
    st->ops->hist_add(st, "g2", d, 2, d + 1);
    st->ops->stats(st, &p, &l, &h);
    assert_int_equal(p, 2);
    assert_int_equal(l, 3);
    assert_int_equal(h, 2);
    st->ops->advance(st, fg_cst_day_start(d + 5));
    st->ops->stats(st, &p, &l, &h);
    assert_int_equal(p, 0);
    assert_int_equal(l, 0);
    assert_int_equal(h, 0);
}

/* Destroying a populated store frees everything (checked by ASan). */
static void test_destroy_populated(void **state)
{
    struct fg_state *st = fg_state_memory_new();

    (void)state;
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof(name), "P%d", i);
        struct fg_person *p = st->ops->person(st, name);
        add(st, p, "c", T0, T0 + i);
        st->ops->seen(st, p, FG_SEEN_EVENTS, (uint64_t)i << 20, T0 + i);
        st->ops->seen(st, p, FG_SEEN_ALERTS, (uint64_t)i << 20, T0 + i);
        st->ops->hist_add(st, name, 19787 + i % 5, (unsigned)i, 19800);
    }
    st->ops->advance(st, T0 + 150);
    assert_int_equal(n_persons(st), 150);
    fg_state_destroy(st);
    fg_state_destroy(NULL);
}

/* Lines loaded from a remote store arrive in any order: the window is
 * kept in seq order, and a line added after them comes last. */
static void test_load_out_of_order(void **state)
{
    struct fg_state *st = *state;
    struct fg_person *p = st->ops->person(st, "P1");
    static const uint64_t seqs[] = {5, 2, 9, 1, 7, 3, 8};
    struct fg_line_init in = {0};
    struct fg_wline **win;
    size_t n;

    in.fee_time = T0;
    in.cnt = 10000;
    in.expire_at = T0 + 86400;
    in.code = "C";
    in.fixmedins_code = "H1";
    in.mdtrt_id = "M1";
    in.feedetl_sn = "1";
    in.setl_id = "S1";
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
        assert_non_null(fg_state_memory_load_line(st, p, &in, seqs[i], 10000));
    n = st->ops->window(st, p, &win);
    assert_int_equal(n, 7);
    for (size_t i = 1; i < n; i++)
        assert_true(win[i - 1]->seq < win[i]->seq);
    assert_int_equal(win[0]->seq, 1);
    assert_int_equal(add(st, p, "C", T0, T0 + 86400)->seq, 10);
    n = st->ops->window(st, p, &win);
    assert_int_equal(win[n - 1]->seq, 10);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_person),       T(test_seen),         T(test_seen_distinct_keys),
        T(test_add_line),     T(test_line_expiry),  T(test_person_expiry),
        T(test_seen_expiry),  T(test_hist),         T(test_hist_expiry),
        T(test_hist_long_group), T(test_stats),     T(test_destroy_populated),
        T(test_load_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
