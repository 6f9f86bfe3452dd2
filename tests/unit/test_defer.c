/* SPDX-License-Identifier: Apache-2.0
 *
 * test_defer.c: a judgement deferred until its days are complete (what a
 * live worker does while a partition lags) gives exactly the alert the
 * immediate judgement of a replay gives, and survives the trip through
 * the store's record format, odd bytes included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>

#include "fg_app.h"
#include "fg_buf.h"
#include "fg_common.h"
#include "fg_engine.h"
#include "fg_event.h"
#include "fg_state.h"

struct sink {
    char **v;
    size_t n, cap;
};

static int collect(void *opaque, const char *json, size_t len, const char *key)
{
    struct sink *s = opaque;

    (void)key;
    FG_VEC_GROW(s->v, s->n, s->cap, 8);
    s->v[s->n++] = fg_strndup(json, len);
    return 0;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sink_free(struct sink *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

/* Claims of a golden case, with a line's institution code replaced by one
 * holding the record format's separator and escape characters. */
static size_t load_claims(const char *path, struct fg_claim **out, size_t max)
{
    static char line[1 << 20];
    char full[1024], why[256];
    const char *root = getenv("FG_SOURCE_DIR");
    gzFile f;
    size_t n = 0;

    snprintf(full, sizeof(full), "%s/%s", root ? root : ".", path);
    f = gzopen(full, "r");
    assert_non_null(f);
    while (n < max && gzgets(f, line, sizeof(line))) {
        struct fg_buf b;
        char *at = strstr(line, "\"fixmedins_code\":\"H33");
        fg_buf_init(&b);
        if (at) {
            /* "H33..." -> "H%25\u001f33...": '%' and 0x1f in a string */
            fg_buf_append(&b, line, (size_t)(at - line) + 18);
            fg_buf_puts(&b, "%25\\u001f");
            fg_buf_puts(&b, at + 18);
        } else {
            fg_buf_puts(&b, line);
        }
        assert_int_equal(fg_claim_parse(b.data, b.len, &out[n], why, sizeof(why)), 0);
        n++;
        fg_buf_fini(&b);
    }
    gzclose(f);
    return n;
}

/* Runs claims through a fresh engine; defer=1 plays a worker whose other
 * partitions lag: nothing is complete until the end; defer=3 as 1, with
 * at most 2 deferred judgements taken per batch. */
static void run(struct fg_app *app, struct fg_claim **claims, size_t n, int defer,
                struct sink *s, struct fg_engine_stats *stats)
{
    struct fg_state *st = fg_state_memory_new();
    struct fg_engine_opts o = {.canonical = 1, .lateness = 86400, .event_dedup_days = 30,
                               .out = collect, .out_opaque = s};
    struct fg_engine *e = fg_engine_new(&app->ds, app->pack, st, &o);
    struct fg_alert_source *src = calloc(n, sizeof(*src));
    int scope = -1;

    for (size_t i = 0; i < n; i++)
        src[i] = (struct fg_alert_source){.file = "t", .line = (long long)i + 1};
    if (defer == 1 || defer == 3) {
        int64_t unknown = FG_PROGRESS_UNKNOWN;
        fg_engine_set_progress(e, FG_PROGRESS_UNKNOWN, &scope, &unknown, 1);
    } else if (defer == 2) {
        /* one live partition, alone in the group: its own progress, as
         * the engine sees its events go by, is all that can hold back */
        int64_t first = claims[0]->event_time;
        scope = 0;
        for (size_t i = 0; i < n; i++)
            src[i] = (struct fg_alert_source){.topic = "claims", .partition = 0,
                                              .offset = (long long)i};
        fg_engine_set_progress(e, FG_PROGRESS_IDLE, &scope, &first, 1);
    }
    assert_int_equal(fg_engine_process_batch(e, claims, src, n), 0);
    if (defer == 3) {
        /* The backlog goes out 2 a batch, over as many batches as it needs. */
        size_t batches = 0;
        fg_engine_set_due_limit(e, 2);
        fg_engine_set_progress(e, FG_PROGRESS_IDLE, &scope, NULL, 1);
        while (fg_engine_stats(e)->deferred_done < fg_engine_stats(e)->deferred) {
            uint64_t before = fg_engine_stats(e)->deferred_done;
            assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
            assert_in_range(fg_engine_stats(e)->deferred_done - before, 1, 2);
            batches++;
        }
        assert_true(batches >= (fg_engine_stats(e)->deferred + 1) / 2);
        assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
    } else if (defer) {
        fg_engine_set_progress(e, FG_PROGRESS_IDLE, &scope, NULL, 1);
        assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
    }
    *stats = *fg_engine_stats(e);
    qsort(s->v, s->n, sizeof(*s->v), by_str);
    fg_engine_free(e);
    fg_state_destroy(st);
    free(src);
}

static void check_case(const char *events, int few_samples, size_t want_alerts,
                       size_t want_outliers)
{
    char set0[] = "detectors.abnormal_pricing.outlier_min_samples=5";
    char *sets[] = {set0};
    struct fg_app app;
    static struct fg_claim *claims[1000];
    struct sink now = {0}, later = {0}, live = {0}, limited = {0};
    struct fg_engine_stats s1, s2, s3, s4;
    size_t n;

    assert_int_equal(fg_app_open(&app, "config/fundguard.json", sets, few_samples ? 1 : 0, 1),
                     FG_EXIT_OK);
    n = load_claims(events, claims, 1000);
    run(&app, claims, n, 0, &now, &s1);
    run(&app, claims, n, 1, &later, &s2);
    run(&app, claims, n, 2, &live, &s3);
    run(&app, claims, n, 3, &limited, &s4);

    assert_int_equal(s1.deferred, 0);          /* a replay never defers */
    assert_true(s2.deferred >= n);             /* every priced line did */
    assert_int_equal(s2.deferred_done, s2.deferred);
    assert_int_equal(s2.deferred_lost, 0);
    assert_int_equal(now.n, want_alerts);
    {
        size_t outliers = 0;
        for (size_t i = 0; i < now.n; i++)
            outliers += strstr(now.v[i], "\"PRICE-OUTLIER\"") != NULL;
        assert_int_equal(outliers, want_outliers);
    }
    assert_int_equal(s4.deferred, s2.deferred);
    assert_int_equal(s4.deferred_done, s4.deferred);
    assert_int_equal(later.n, now.n);
    assert_int_equal(live.n, now.n);
    assert_int_equal(limited.n, now.n);
    /* a live partition keeping pace defers nothing */
    assert_int_equal(s3.deferred, 0);
    for (size_t i = 0; i < now.n; i++) {
        assert_string_equal(later.v[i], now.v[i]);
        assert_string_equal(live.v[i], now.v[i]);
        assert_string_equal(limited.v[i], now.v[i]);
        if (strstr(now.v[i], "\"H"))
            assert_non_null(strstr(now.v[i], "%25\\u001f"));   /* the odd code is there */
    }
    sink_free(&now);
    sink_free(&later);
    sink_free(&live);
    sink_free(&limited);
    for (size_t i = 0; i < n; i++)
        fg_claim_free(claims[i]);
    fg_app_close(&app);
}

static void test_deferred_equals_immediate(void **unused)
{
    (void)unused;
    check_case("tests/fixtures/abnormal_pricing/outlier_fires/events.jsonl", 1, 1, 1);
    check_case("tests/fixtures/abnormal_pricing/outlier_event_day_not_fee_day/events.jsonl",
               1, 1, 1);
    /* thousands of deferred lines, the shipped parameters */
    check_case("config/samples/claims.jsonl.gz", 0, 58, 4);
}

/* A partition's progress that makes day D the first incomplete one (the
 * lateness is a day). */
static int64_t at_day(int64_t d)
{
    return fg_cst_day_start(d) + 86400;
}

/* One engine over the outlier_fires fixture (few samples needed), with
 * its alerts collected. */
struct outlier_run {
    struct fg_app app;
    struct fg_claim *claims[16];
    size_t n;
    struct sink s;
    struct fg_state *st;
    struct fg_engine *e;
    struct fg_alert_source src[16];
};

static void outlier_run_open(struct outlier_run *r)
{
    char set0[] = "detectors.abnormal_pricing.outlier_min_samples=5";
    char *sets[] = {set0};
    struct fg_engine_opts o = {.canonical = 1, .lateness = 86400, .event_dedup_days = 30,
                               .out = collect};

    memset(r, 0, sizeof(*r));
    assert_int_equal(fg_app_open(&r->app, "config/fundguard.json", sets, 1, 1), FG_EXIT_OK);
    r->n = load_claims("tests/fixtures/abnormal_pricing/outlier_fires/events.jsonl", r->claims,
                       16);
    r->st = fg_state_memory_new();
    o.out_opaque = &r->s;
    r->e = fg_engine_new(&r->app.ds, r->app.pack, r->st, &o);
    for (size_t i = 0; i < r->n; i++)   /* as a file replay's (a test may change them) */
        r->src[i] = (struct fg_alert_source){.file = "t", .line = (long long)i + 1};
}

static void outlier_run_close(struct outlier_run *r)
{
    sink_free(&r->s);
    fg_engine_free(r->e);
    fg_state_destroy(r->st);
    for (size_t i = 0; i < r->n; i++)
        fg_claim_free(r->claims[i]);
    fg_app_close(&r->app);
}

static void test_deferred_waits_for_complete_days(void **unused)
{
    static struct outlier_run r;
    struct fg_engine *e;
    int scope = -1;
    int64_t high_day;

    (void)unused;
    outlier_run_open(&r);
    e = r.e;
    high_day = fg_cst_day(r.claims[r.n - 1]->event_time);   /* 06-12; baseline to 06-10 */

    /* Every partition idle at first (all complete), then events arrive:
     * progress goes back, and what is deferred from then on must still be
     * taken when it comes forward again. */
    fg_engine_set_progress(e, FG_PROGRESS_IDLE, &scope, NULL, 1);
    assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
    /* The slowest partition is still inside 06-10: 06-10 is not complete. */
    fg_engine_set_progress(e, at_day(high_day - 2), &scope, NULL, 1);
    assert_int_equal(fg_engine_process_batch(e, r.claims, r.src, r.n), 0);
    assert_int_equal(r.s.n, 0);
    /* Still not: nothing taken, nothing judged. */
    assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
    assert_int_equal(r.s.n, 0);
    /* 06-10 complete: the 06-12 line's baseline is ready; it fires once. */
    fg_engine_set_progress(e, at_day(high_day - 1), &scope, NULL, 1);
    assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
    assert_int_equal(r.s.n, 1);
    assert_non_null(strstr(r.s.v[0], "\"PRICE-OUTLIER\""));
    fg_engine_set_progress(e, FG_PROGRESS_IDLE, &scope, NULL, 1);
    assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
    assert_int_equal(r.s.n, 1);
    outlier_run_close(&r);
}

/* A partition idle when the batch began (everything complete, every
 * deferred record taken) whose events are then judged in the batch: its
 * progress goes back to theirs, and what they defer must be taken once it
 * is idle again, though the mark was already at the end of time. (Found in
 * the ASan CI run: events that had waited in the daemon's queue longer
 * than the idle time came in a batch with their partition idle, and their
 * PRICE-OUTLIER judgements stayed deferred for ever.) */
static void test_deferred_after_idle_batch(void **unused)
{
    static struct outlier_run r;
    struct fg_engine *e;
    int scope = 0;
    int64_t idle = FG_PROGRESS_IDLE;

    (void)unused;
    outlier_run_open(&r);
    e = r.e;
    for (size_t i = 0; i < r.n; i++)
        r.src[i] = (struct fg_alert_source){.topic = "claims", .partition = 0,
                                            .offset = (long long)i,
                                            .progress = r.claims[0]->event_time};
    fg_engine_set_progress(e, FG_PROGRESS_IDLE, &scope, &idle, 1);
    assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
    fg_engine_set_progress(e, FG_PROGRESS_IDLE, &scope, &idle, 1);
    assert_int_equal(fg_engine_process_batch(e, r.claims, r.src, r.n), 0);
    assert_true(fg_engine_stats(e)->deferred > 0);   /* the case under test */
    assert_int_equal(r.s.n, 0);
    fg_engine_set_progress(e, FG_PROGRESS_IDLE, &scope, &idle, 1);
    assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
    assert_int_equal(fg_engine_stats(e)->deferred_done, fg_engine_stats(e)->deferred);
    assert_int_equal(r.s.n, 1);
    assert_non_null(strstr(r.s.v[0], "\"PRICE-OUTLIER\""));
    outlier_run_close(&r);
}

/* A deferred judgement whose settlement is revoked before it is made: the
 * line is marked revoked in the person's window, and the judgement, once
 * its days are complete, finds it so and raises nothing. */
static void test_deferred_then_revoked(void **unused)
{
    static struct outlier_run r;
    const struct fg_claim *last;
    struct fg_claim *rev = NULL;
    struct fg_alert_source rsrc = {.file = "t", .line = 100};
    struct fg_engine *e;
    char why[256], at[40], *text;
    json_t *doc;
    int scope = -1;
    int64_t high_day;

    (void)unused;
    outlier_run_open(&r);
    e = r.e;
    last = r.claims[r.n - 1];   /* the outlier line's settlement, 06-12 */
    high_day = fg_cst_day(last->event_time);
    fg_engine_set_progress(e, at_day(high_day - 2), &scope, NULL, 1);
    assert_int_equal(fg_engine_process_batch(e, r.claims, r.src, r.n), 0);
    assert_true(fg_engine_stats(e)->deferred > 0);
    assert_int_equal(r.s.n, 0);

    /* (the fixture's codes hold control characters: JSON-escape them) */
    doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "schema", "nhsa.claim.v1",
                    "event_id", "REV1", "event_type", "SETTLEMENT_REVOKE", "event_time",
                    fg_time_format_iso(last->event_time + 3600, at, sizeof(at)), "psn_no",
                    last->psn_no, "fixmedins_code", last->fixmedins_code, "setl_id",
                    last->setl_id);
    text = json_dumps(doc, 0);
    json_decref(doc);
    if (fg_claim_parse(text, strlen(text), &rev, why, sizeof(why)) != 0)
        fail_msg("revocation rejected: %s (%s)", why, text);
    free(text);
    assert_int_equal(fg_engine_process_batch(e, &rev, &rsrc, 1), 0);
    assert_true(fg_engine_stats(e)->revoked_lines > 0);

    fg_engine_set_progress(e, FG_PROGRESS_IDLE, &scope, NULL, 1);
    assert_int_equal(fg_engine_process_batch(e, NULL, NULL, 0), 0);
    assert_int_equal(fg_engine_stats(e)->deferred_done, fg_engine_stats(e)->deferred);
    for (size_t i = 0; i < r.s.n; i++)
        assert_null(strstr(r.s.v[i], "\"PRICE-OUTLIER\""));
    fg_claim_free(rev);
    outlier_run_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deferred_equals_immediate),
        cmocka_unit_test(test_deferred_waits_for_complete_days),
        cmocka_unit_test(test_deferred_after_idle_batch),
        cmocka_unit_test(test_deferred_then_revoked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
