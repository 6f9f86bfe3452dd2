/* SPDX-License-Identifier: Apache-2.0
 *
 * test_redis_state.c: the Redis backend against a real redis-server
 * (port in FG_REDIS_PORT; tests/scripts/test_redis_state.sh starts one).
 * Two backends on one namespace play two workers that both believe they
 * own a person, as a zombie consumer does after a rebalance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "fg_app.h"
#include "fg_common.h"
#include "fg_engine.h"
#include "fg_event.h"
#include "fg_state.h"

static struct fg_state *open_backend(const char *ns, int resident)
{
    const char *port = getenv("FG_REDIS_PORT");
    struct fg_redis_opts o = {
        .host = "127.0.0.1", .port = port ? atoi(port) : 0, .ns = ns,
        .lateness = 3600, .dedup_seconds = 86400, .connect_timeout_ms = 2000,
        .resident = resident,
    };
    char err[256];
    struct fg_state *st;

    assert_non_null(port);
    st = fg_state_redis_new(&o, err, sizeof(err));
    assert_non_null(st);
    return st;
}

static struct fg_state *open_state(const char *ns)
{
    return open_backend(ns, 0);
}

static int is_seen(struct fg_state *st, const char *psn, uint64_t key)
{
    const char *names[1] = {psn};
    int seen;

    assert_int_equal(fg_state_begin(st, names, 1), 0);
    seen = st->ops->seen(st, st->ops->person(st, psn), FG_SEEN_EVENTS, key, 1800000000);
    st->ops->abort_batch(st);
    return seen;
}

/* Worker A loads p, worker B loads and commits p, then A commits: A's
 * commit must abort (it was judged on state B has since changed), write
 * nothing, and succeed when re-run on B's state. */
static void test_concurrent_commit_aborts(void **unused)
{
    struct fg_state *a = open_state("test:conflict"), *b = open_state("test:conflict");
    const char *names[1] = {"4400001"};

    (void)unused;
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(fg_state_begin(b, names, 1), 0);
    assert_int_equal(b->ops->seen(b, b->ops->person(b, names[0]), FG_SEEN_EVENTS, 11, 1800000000), 0);
    assert_int_equal(b->ops->commit_batch(b), 0);

    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 22, 1800000000), 0);
    assert_int_equal(a->ops->commit_batch(a), FG_EAGAIN);
    assert_int_equal(a->conflicts, 1);
    assert_int_equal(is_seen(b, names[0], 22), 0);   /* A wrote nothing */

    /* The re-run sees B's write and commits. */
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 11, 1800000000), 1);
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 22, 1800000000), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(is_seen(b, names[0], 22), 1);
    assert_int_equal(a->conflicts, 1);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

/* An abandoned batch (aborted after its load) leaves no watch behind: a
 * later batch on other persons is not aborted by a write to the first. */
static void test_abort_drops_watch(void **unused)
{
    struct fg_state *a = open_state("test:unwatch"), *b = open_state("test:unwatch");
    const char *p1[1] = {"5500001"}, *p2[1] = {"5500002"};

    (void)unused;
    assert_int_equal(fg_state_begin(a, p1, 1), 0);
    a->ops->abort_batch(a);
    assert_int_equal(fg_state_begin(b, p1, 1), 0);
    b->ops->seen(b, b->ops->person(b, p1[0]), FG_SEEN_EVENTS, 1, 1800000000);
    assert_int_equal(b->ops->commit_batch(b), 0);

    assert_int_equal(fg_state_begin(a, p2, 1), 0);
    a->ops->seen(a, a->ops->person(a, p2[0]), FG_SEEN_EVENTS, 2, 1800000000);
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(a->conflicts, 0);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

/* Emitted alerts kept for retraction survive the batch (and the
 * process): a later batch lists them, and a forgotten one is gone. */
static void test_alert_log_persists(void **unused)
{
    struct fg_state *a = open_state("test:alog"), *b;
    const char *names[1] = {"6600001"};
    const char *const *recs;
    struct fg_person *p;

    (void)unused;
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    a->ops->seen(a, p, FG_SEEN_EVENTS, 1, 1800000000);
    a->ops->alert_keep(a, p, "aaaa", "aaaa\x1f=R1", 1800000000);
    a->ops->alert_keep(a, p, "bbbb", "bbbb\x1f=R2", 1800000000);
    assert_int_equal(a->ops->commit_batch(a), 0);
    a->ops->destroy(a);

    b = open_state("test:alog");   /* another process */
    assert_int_equal(fg_state_begin(b, names, 1), 0);
    p = b->ops->person(b, names[0]);
    assert_int_equal(b->ops->alert_list(b, p, &recs), 2);
    assert_string_equal(recs[0], "aaaa\x1f=R1");
    assert_string_equal(recs[1], "bbbb\x1f=R2");
    b->ops->alert_forget(b, p, "aaaa");
    assert_int_equal(b->ops->commit_batch(b), 0);

    assert_int_equal(fg_state_begin(b, names, 1), 0);
    p = b->ops->person(b, names[0]);
    assert_int_equal(b->ops->alert_list(b, p, &recs), 1);
    assert_string_equal(recs[0], "bbbb\x1f=R2");
    b->ops->abort_batch(b);
    fg_state_redis_drop_namespace(b);
    b->ops->destroy(b);
}

/* Deferred judgements survive the batch, are taken once per scope, and
 * leave the store only with the commit of the batch that took them. */
static int ntaken;
static char taken[8][8];   /* "<scope>:<record>" in the order handed */
static void count_taken(void *opaque, int scope, const char *rec, size_t len)
{
    (void)opaque;
    if (ntaken < 8)
        snprintf(taken[ntaken], sizeof(taken[0]), "%d:%.*s", scope, (int)len, rec);
    ntaken++;
}

/* One batch that takes (at most max_each of each scope) and commits:
 * how many records it was handed. */
static int take_committed(struct fg_state *a, const int *scopes, size_t n, int64_t upto,
                          size_t max_each)
{
    ntaken = 0;
    assert_int_equal(fg_state_begin(a, NULL, 0), 0);
    assert_int_equal(a->ops->defer_take(a, scopes, n, upto, max_each, count_taken, NULL), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);
    return ntaken;
}

static void test_deferred_queue(void **unused)
{
    struct fg_state *a = open_state("test:defer");
    int scopes[2] = {3, 4};

    (void)unused;
    assert_int_equal(fg_state_begin(a, NULL, 0), 0);
    a->ops->defer_add(a, 3, 100, "r1", 2);
    a->ops->defer_add(a, 3, 200, "r2", 2);
    a->ops->defer_add(a, 4, 100, "r3", 2);
    assert_int_equal(a->ops->commit_batch(a), 0);

    ntaken = 0;
    assert_int_equal(fg_state_begin(a, NULL, 0), 0);
    assert_int_equal(a->ops->defer_take(a, scopes, 1, 150, 0, count_taken, NULL), 0);
    assert_int_equal(ntaken, 1);                 /* r1 only: r2 not ready, r3 not ours */
    a->ops->abort_batch(a);                      /* not committed: still there */
    assert_int_equal(take_committed(a, scopes, 2, 150, 0), 2);    /* r1 again, and r3 */
    assert_int_equal(take_committed(a, scopes, 2, 1000, 0), 1);   /* r2 is all that is left */
    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
}

/* With a limit, a take hands at most that many records of each scope,
 * the earliest ready first; the next batch's take goes on from there. */
static void test_deferred_queue_limit(void **unused)
{
    struct fg_state *a = open_state("test:defer-limit");
    int scopes[2] = {3, 4};

    (void)unused;
    assert_int_equal(fg_state_begin(a, NULL, 0), 0);
    a->ops->defer_add(a, 3, 200, "r2", 2);
    a->ops->defer_add(a, 3, 100, "r1", 2);
    a->ops->defer_add(a, 3, 300, "r9", 2);   /* not ready below */
    a->ops->defer_add(a, 4, 100, "r3", 2);
    assert_int_equal(a->ops->commit_batch(a), 0);

    assert_int_equal(take_committed(a, scopes, 2, 250, 1), 2);
    assert_string_equal(taken[0], "3:r1");
    assert_string_equal(taken[1], "4:r3");
    assert_int_equal(take_committed(a, scopes, 2, 250, 1), 1);
    assert_string_equal(taken[0], "3:r2");
    assert_int_equal(take_committed(a, scopes, 2, 250, 1), 0);
    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
}

/* A line found expired when its person is loaded is deleted with the
 * commit; a line re-sent in that batch with the same identity (the same
 * Redis field) is kept: the delete goes before the write. */
static void test_resent_expired_line(void **unused)
{
    struct fg_state *a = open_state("test:resent");
    const char *names[1] = {"7700001"};
    struct fg_line_init in = {
        .fee_time = 1000000, .pric = 100, .cnt = 1, .inscp = 100, .expire_at = 1000100,
        .code = "X1", .fixmedins_code = "H1", .mdtrt_id = "M1", .feedetl_sn = "S1",
        .setl_id = "T1",
    };
    struct fg_wline **win;
    struct fg_person *p;

    (void)unused;
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    a->ops->add_line(a, p, &in);
    fg_person_set_watermark(p, 1010000);   /* past expire_at + lateness */
    assert_int_equal(a->ops->commit_batch(a), 0);

    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    assert_int_equal(a->ops->window(a, p, &win), 0);   /* expired at load */
    in.fee_time = 1010000;
    in.expire_at = 2000000;
    a->ops->add_line(a, p, &in);
    assert_int_equal(a->ops->commit_batch(a), 0);

    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    assert_int_equal(a->ops->window(a, p, &win), 1);
    assert_int_equal(win[0]->expire_at, 2000000);
    a->ops->abort_batch(a);
    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
}

/* Writes sent ahead (commit_prepare) are applied only by the commit: an
 * abort drops them (and leaves the connection in step: the next batch
 * reads and commits normally), a commit applies them, and a worker that
 * wrote a person in between still makes the commit abort. */
static void test_prepared_commit(void **unused)
{
    struct fg_state *a = open_state("test:prepare"), *b = open_state("test:prepare");
    const char *names[1] = {"8800001"};

    (void)unused;
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 1, 1800000000), 0);
    assert_int_equal(a->ops->commit_prepare(a), 0);
    a->ops->abort_batch(a);
    assert_int_equal(is_seen(b, names[0], 1), 0);   /* dropped */

    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 2, 1800000000), 0);
    assert_int_equal(a->ops->commit_prepare(a), 0);
    assert_int_equal(is_seen(b, names[0], 2), 0);   /* queued, not applied */
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(is_seen(b, names[0], 2), 1);

    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 3, 1800000000), 0);
    assert_int_equal(a->ops->commit_prepare(a), 0);
    assert_int_equal(fg_state_begin(b, names, 1), 0);
    assert_int_equal(b->ops->seen(b, b->ops->person(b, names[0]), FG_SEEN_EVENTS, 4, 1800000000), 0);
    assert_int_equal(b->ops->commit_batch(b), 0);
    assert_int_equal(a->ops->commit_batch(a), FG_EAGAIN);
    assert_int_equal(a->conflicts, 1);
    assert_int_equal(is_seen(b, names[0], 3), 0);

    /* Nothing to write: prepare and commit without a round trip. */
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    {
        uint64_t rt = a->round_trips;
        assert_int_equal(a->ops->commit_prepare(a), 0);
        assert_int_equal(a->ops->commit_batch(a), 0);
        assert_int_equal(a->round_trips, rt);
    }

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

/* A batch's reads travel together: the progress read, the persons and
 * the histograms cost one round trip, and each reads back right. Two
 * workers share the progress hash, each publishing its partition with its
 * commits (and only with them). */
static void test_begin_one_round_trip(void **unused)
{
    struct fg_state *a = open_state("test:begin1"), *b = open_state("test:begin1");
    const char *names[2] = {"8800011", "8800012"};
    const char *groups[1] = {"X2|330100|3"};
    int64_t mine_a[2] = {1000, FG_PROGRESS_NOT_MINE}, mine_b[2] = {FG_PROGRESS_NOT_MINE, 2000};
    int64_t all[2];
    struct fg_batch_reads rd = {.psn_nos = names, .n = 2, .groups = groups, .ngroups = 1,
                                .topic = "claims", .all = all, .nparts = 2};
    uint32_t counts[FG_HIST_BUCKETS];
    uint64_t rt;

    (void)unused;
    /* Something to read back: a seen event of each person, a histogram,
     * a's progress. */
    assert_int_equal(fg_state_begin(a, names, 2), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(a->ops->seen(a, a->ops->person(a, names[i]), FG_SEEN_EVENTS, 7 + i,
                                      1800000000), 0);
    a->ops->hist_add(a, groups[0], 19800, 5, 19830);
    a->ops->progress_put(a, "claims", mine_a, 2);
    assert_int_equal(a->ops->commit_batch(a), 0);

    rt = b->round_trips;
    assert_int_equal(b->ops->begin_batch(b, &rd), 0);
    assert_int_equal(b->round_trips, rt + 1);
    assert_int_equal(all[0], 1000);
    assert_int_equal(all[1], FG_PROGRESS_UNKNOWN);   /* nobody published it yet */
    assert_int_equal(b->ops->hist_sum(b, groups[0], 19800, 19800, counts), 1);
    assert_int_equal(counts[5], 1);
    for (int i = 0; i < 2; i++)
        assert_int_equal(b->ops->seen(b, b->ops->person(b, names[i]), FG_SEEN_EVENTS, 7 + i,
                                      1800000000), 1);
    assert_int_equal(b->round_trips, rt + 1);   /* all of it was read with the begin */
    /* Progress put in a batch that is abandoned is not published. */
    b->ops->progress_put(b, "claims", mine_b, 2);
    b->ops->abort_batch(b);
    assert_int_equal(b->ops->begin_batch(b, &rd), 0);
    assert_int_equal(all[1], FG_PROGRESS_UNKNOWN);
    b->ops->progress_put(b, "claims", mine_b, 2);
    assert_int_equal(b->ops->commit_batch(b), 0);

    assert_int_equal(a->ops->begin_batch(a, &rd), 0);
    assert_int_equal(all[0], 1000);
    assert_int_equal(all[1], 2000);
    a->ops->abort_batch(a);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

/* A commit sent without waiting (commit_send) has its outcome read with
 * the next batch's loads: no round trip of its own, the next batch sees
 * its writes, and a conflict is reported by commit_wait all the same. */
static void test_commit_sent_read_with_next_begin(void **unused)
{
    struct fg_state *a = open_state("test:send"), *b = open_state("test:send");
    const char *names[1] = {"8800021"};
    uint64_t rt;

    (void)unused;
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 1, 1800000000), 0);
    assert_int_equal(a->ops->commit_prepare(a), 0);
    rt = a->round_trips;
    assert_int_equal(a->ops->commit_send(a), 0);
    assert_int_equal(a->round_trips, rt);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(a->round_trips, rt + 1);
    assert_int_equal(a->ops->commit_wait(a), 0);
    assert_int_equal(a->round_trips, rt + 1);   /* it came with the begin */
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 1, 1800000000), 1);

    /* b writes the person between a's load and a's commit: a's EXEC
     * aborts, and the next begin tells. */
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 2, 1800000000), 0);
    assert_int_equal(fg_state_begin(b, names, 1), 0);
    assert_int_equal(b->ops->seen(b, b->ops->person(b, names[0]), FG_SEEN_EVENTS, 3, 1800000000), 0);
    assert_int_equal(b->ops->commit_batch(b), 0);
    assert_int_equal(a->ops->commit_send(a), 0);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(a->ops->commit_wait(a), FG_EAGAIN);
    assert_int_equal(a->conflicts, 1);
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 2, 1800000000), 0);
    a->ops->abort_batch(a);

    /* With no begin after it, commit_wait waits for the outcome itself. */
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 4, 1800000000), 0);
    assert_int_equal(a->ops->commit_send(a), 0);
    rt = a->round_trips;
    assert_int_equal(a->ops->commit_wait(a), 0);
    assert_int_equal(a->round_trips, rt + 1);
    assert_int_equal(is_seen(b, names[0], 4), 1);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

static int count_out(void *opaque, const char *json, size_t len, const char *key)
{
    (void)json;
    (void)len;
    (void)key;
    (*(size_t *)opaque)++;
    return 0;
}

/* The first n claims of a fixture. */
static void fixture_claims(const char *path, struct fg_claim **out, size_t n)
{
    static char line[1 << 16];
    const char *root = getenv("FG_SOURCE_DIR");
    char full[1024], why[256];
    FILE *f;

    snprintf(full, sizeof(full), "%s/%s", root ? root : ".", path);
    f = fopen(full, "r");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(fgets(line, sizeof(line), f));
        assert_int_equal(fg_claim_parse(line, strlen(line), &out[i], why, sizeof(why)), 0);
    }
    fclose(f);
}

/* The engine's side of a commit sent without waiting: when it did not
 * land (another worker wrote a person of the batch first), the next
 * batch's begin fails, settle says why, and the batch runs again and
 * lands; only then is its event in the state. */
static void test_engine_sent_commit_failed(void **unused)
{
    struct fg_app app;
    struct fg_state *st = open_state("test:engsend"), *b = open_state("test:engsend");
    struct fg_claim *c[2];
    struct fg_alert_source src[2] = {{.file = "t", .line = 1}, {.file = "t", .line = 2}};
    size_t nout = 0;
    struct fg_engine_opts o = {.lateness = 86400, .event_dedup_days = 30, .out = count_out,
                               .out_opaque = &nout};
    struct fg_engine *e;
    const char *names[1];

    (void)unused;
    assert_int_equal(fg_app_open(&app, "config/fundguard.json", NULL, 0, 1), FG_EXIT_OK);
    e = fg_engine_new(&app.ds, app.pack, st, &o);
    fixture_claims("tests/fixtures/abnormal_pricing/outlier_fires/events.jsonl", c, 2);
    names[0] = c[0]->psn_no;

    assert_int_equal(fg_engine_batch_begin(e, &c[0], 1, NULL), FG_OK);
    assert_int_equal(fg_engine_process(e, c[0], &src[0]), FG_OK);
    /* the other worker commits for the same person meanwhile */
    assert_int_equal(fg_state_begin(b, names, 1), 0);
    assert_int_equal(b->ops->seen(b, b->ops->person(b, names[0]), FG_SEEN_EVENTS, 99, 1800000000), 0);
    assert_int_equal(b->ops->commit_batch(b), 0);
    assert_int_equal(fg_engine_batch_send(e), FG_OK);
    assert_int_equal(fg_engine_batch_begin(e, &c[1], 1, NULL), FG_EAGAIN);
    assert_int_equal(fg_engine_batch_settle(e), FG_EAGAIN);
    assert_int_equal(st->conflicts, 1);

    /* again: it lands, and the next batch goes on */
    assert_int_equal(fg_engine_batch_begin(e, &c[0], 1, NULL), FG_OK);
    assert_int_equal(fg_engine_process(e, c[0], &src[0]), FG_OK);
    assert_int_equal(fg_engine_batch_send(e), FG_OK);
    assert_int_equal(fg_engine_batch_begin(e, &c[1], 1, NULL), FG_OK);
    assert_int_equal(fg_engine_batch_settle(e), FG_OK);
    assert_int_equal(fg_engine_process(e, c[1], &src[1]), FG_OK);
    assert_int_equal(fg_engine_batch_commit(e), FG_OK);
    assert_int_equal(fg_engine_batch_settle(e), FG_OK);   /* nothing outstanding */

    /* The first event is in the state now: judged again, a duplicate. */
    assert_int_equal(fg_engine_stats(e)->duplicates, 0);
    assert_int_equal(fg_engine_batch_begin(e, &c[0], 1, NULL), FG_OK);
    assert_int_equal(fg_engine_process(e, c[0], &src[0]), FG_OK);
    fg_engine_batch_abort(e);
    assert_int_equal(fg_engine_stats(e)->duplicates, 1);

    fg_engine_free(e);
    for (int i = 0; i < 2; i++)
        fg_claim_free(c[i]);
    fg_app_close(&app);
    fg_state_redis_drop_namespace(st);
    st->ops->destroy(st);
    b->ops->destroy(b);
}

/* A plain connection to the test's Redis, to look at the keys. */
static redisContext *peek(void)
{
    redisContext *c = redisConnect("127.0.0.1", atoi(getenv("FG_REDIS_PORT")));

    assert_non_null(c);
    assert_int_equal(c->err, 0);
    return c;
}

static long long peek_int(redisContext *c, const char *cmd, const char *key)
{
    redisReply *rep = redisCommand(c, "%s %s", cmd, key);
    long long v;

    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    v = rep->integer;
    freeReplyObject(rep);
    return v;
}

/* Calls of one command since the last CONFIG RESETSTAT. */
static long long calls(redisContext *c, const char *name)
{
    redisReply *rep = redisCommand(c, "INFO commandstats");
    char needle[64];
    const char *at;
    long long n = 0;

    assert_non_null(rep);
    snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", name);
    at = strstr(rep->str, needle);
    if (at)
        n = atoll(at + strlen(needle));
    freeReplyObject(rep);
    return n;
}

static void reset_stats(redisContext *c)
{
    freeReplyObject(redisCommand(c, "CONFIG RESETSTAT"));
}

/* Every key a commit makes has a TTL, a seen-set made by a later commit
 * too; a person's TTLs are set once, not per commit, and expired seen
 * entries are removed only when there are some. */
static void test_ttls_set_once(void **unused)
{
    struct fg_state *a = open_state("test:ttl");
    redisContext *c = peek();
    const char *names[1] = {"9900001"};
    struct fg_line_init in = {
        .fee_time = 1000000, .pric = 100, .cnt = 1, .inscp = 100, .expire_at = 1000000 + 86400,
        .code = "X1", .fixmedins_code = "H1", .mdtrt_id = "M1", .feedetl_sn = "S1",
        .setl_id = "T1",
    };
    struct fg_person *p;

    (void)unused;
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    a->ops->add_line(a, p, &in);
    fg_person_set_watermark(p, 1000000);
    assert_int_equal(a->ops->seen(a, p, FG_SEEN_EVENTS, 1, 1000000 + 86400), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_true(peek_int(c, "TTL", "fg:test:ttl:L:{9900001}") > 0);
    assert_true(peek_int(c, "TTL", "fg:test:ttl:E:{9900001}") > 0);
    assert_int_equal(peek_int(c, "EXISTS", "fg:test:ttl:A:{9900001}"), 0);

    /* The alert set is made now: it alone gets an EXPIRE. */
    reset_stats(c);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    assert_int_equal(a->ops->seen(a, p, FG_SEEN_ALERTS, 5, 1000000 + 86400), 0);
    assert_int_equal(a->ops->seen(a, p, FG_SEEN_EVENTS, 2, 1000000 + 86400), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_true(peek_int(c, "TTL", "fg:test:ttl:A:{9900001}") > 0);
    assert_int_equal(calls(c, "expire"), 1);
    assert_int_equal(calls(c, "zremrangebyscore"), 0);

    /* An entry already past the cut goes with the commit that wrote it. */
    reset_stats(c);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    a->ops->advance(a, 1000000);
    assert_int_equal(a->ops->seen(a, p, FG_SEEN_EVENTS, 3, 1000), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(calls(c, "zremrangebyscore"), 1);
    assert_int_equal(calls(c, "expire"), 0);
    assert_int_equal(peek_int(c, "ZCARD", "fg:test:ttl:E:{9900001}"), 2);
    assert_true(peek_int(c, "TTL", "fg:test:ttl:L:{9900001}") > 0);
    assert_true(peek_int(c, "TTL", "fg:test:ttl:E:{9900001}") > 0);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    redisFree(c);
}

/* A histogram key gets its TTL when made, and not again while the noted
 * deadline is ahead of the need; its count is right either way. */
static void test_hist_ttl_set_once(void **unused)
{
    struct fg_state *a = open_state("test:httl");
    redisContext *c = peek();
    const char *groups[1] = {"X1|330100|3"};
    struct fg_batch_reads reads = {.groups = groups, .ngroups = 1};
    uint32_t counts[FG_HIST_BUCKETS];

    (void)unused;
    for (int round = 0; round < 2; round++) {
        reset_stats(c);
        assert_int_equal(a->ops->begin_batch(a, &reads), 0);
        a->ops->hist_add(a, groups[0], 19800, 7, 19830);
        assert_int_equal(a->ops->commit_batch(a), 0);
        assert_true(peek_int(c, "TTL", "fg:test:httl:H:X1|330100|3") > 30 * 86400);
        /* the day's group set's TTL is renewed by every commit */
        assert_int_equal(calls(c, "expire"), round == 0 ? 2 : 1);
    }
    assert_int_equal(a->ops->begin_batch(a, &reads), 0);
    assert_int_equal(a->ops->hist_sum(a, groups[0], 19800, 19800, counts), 2);
    assert_int_equal(counts[7], 2);
    a->ops->abort_batch(a);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    redisFree(c);
}

/* The connection dies between the writes sent ahead and the commit (the
 * server restarted, or killed it): the commit fails and is retried, the
 * process lives on (no SIGPIPE: the backend ignores it), and the next batch
 * reconnects and writes. */
static void test_connection_killed_after_prepare(void **unused)
{
    struct fg_state *a = open_state("test:killed");
    redisContext *c = peek();
    const char *names[1] = {"7700009"};
    struct sigaction now;
    redisReply *rep;
    int rc = 0;

    (void)unused;
    assert_int_equal(sigaction(SIGPIPE, NULL, &now), 0);
    assert_true(now.sa_handler == SIG_IGN);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    for (uint64_t k = 1; k <= 20000; k++)   /* a commit of about a megabyte */
        a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, k, 1800000000);
    rep = redisCommand(c, "CLIENT KILL TYPE normal SKIPME yes");
    assert_non_null(rep);
    freeReplyObject(rep);
    rc = a->ops->commit_prepare(a);
    if (rc == 0)
        rc = a->ops->commit_batch(a);
    else
        a->ops->abort_batch(a);
    assert_int_equal(rc, FG_EAGAIN);

    /* The reconnection waits out a short backoff: poll, with a deadline. */
    for (time_t until = time(NULL) + 10; (rc = fg_state_begin(a, names, 1)) != 0;)
        assert_true(time(NULL) < until);
    assert_int_equal(a->ops->seen(a, a->ops->person(a, names[0]), FG_SEEN_EVENTS, 1,
                                  1800000000), 0);   /* nothing was written */
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(is_seen(a, names[0], 1), 1);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    redisFree(c);
}


/* ---- resident mode ---- */

/* Marks event key seen for the person (0: it was not). */
static int mark(struct fg_state *st, const char *psn, uint64_t key)
{
    return st->ops->seen(st, st->ops->person(st, psn), FG_SEEN_EVENTS, key, 1800000000);
}

/* Gives st the partition (a new assignment), and commits event key as
 * seen for the person. */
static void own_and_mark(struct fg_state *st, int part, const char *psn, uint64_t key)
{
    const char *names[1] = {psn};

    fg_state_redis_own(st, &part, 1);
    assert_int_equal(fg_state_begin(st, names, 1), 0);
    assert_int_equal(mark(st, psn, key), 0);
    assert_int_equal(st->ops->commit_batch(st), 0);
}

/* Two workers in resident mode, each given partition 0 in turn, as in a
 * rebalance. A person stays in memory between batches (no round trip
 * reads it again), and a new owner's epoch makes the old owner's next
 * commit fail and its batches wait until it owns the partition again. */
static void test_resident_fence(void **unused)
{
    struct fg_state *a = open_backend("test:fence", 1), *b = open_backend("test:fence", 1);
    const char *names[1] = {"6600001"};
    int part0[1] = {0};
    uint64_t rt;

    (void)unused;
    own_and_mark(a, 0, names[0], 1);
    rt = a->round_trips;
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(a->round_trips, rt);   /* nothing to read */
    assert_int_equal(mark(a, names[0], 1), 1);
    assert_int_equal(mark(a, names[0], 2), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);

    /* b is given the partition: it loads what a wrote, and writes. */
    fg_state_redis_own(b, part0, 1);
    assert_int_equal(fg_state_begin(b, names, 1), 0);
    assert_int_equal(mark(b, names[0], 2), 1);
    assert_int_equal(mark(b, names[0], 3), 0);
    assert_int_equal(b->ops->commit_batch(b), 0);

    /* a has not heard of the rebalance yet: its memory is behind, and its
     * commit must not land. */
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(mark(a, names[0], 3), 0);
    assert_int_equal(mark(a, names[0], 4), 0);
    assert_int_equal(a->ops->commit_batch(a), FG_EAGAIN);
    assert_int_equal(a->conflicts, 1);
    assert_int_not_equal(fg_state_begin(a, names, 1), 0);   /* until it owns it again */
    assert_int_not_equal(fg_state_begin(a, names, 1), 0);

    /* Given the partition back, a reads b's write and not its own refused one. */
    fg_state_redis_own(a, part0, 1);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(mark(a, names[0], 3), 1);
    assert_int_equal(mark(a, names[0], 4), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);
    /* and b, now the older owner, is fenced out in turn */
    assert_int_equal(fg_state_begin(b, names, 1), 0);
    assert_int_equal(mark(b, names[0], 5), 0);
    assert_int_equal(b->ops->commit_batch(b), FG_EAGAIN);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

/* A string key's value as a number (-1: no such key). */
static long long peek_get(redisContext *c, const char *key)
{
    redisReply *rep = redisCommand(c, "GET %s", key);
    long long v = -1;

    assert_non_null(rep);
    if (rep->type == REDIS_REPLY_STRING)
        v = atoll(rep->str);
    else
        assert_int_equal(rep->type, REDIS_REPLY_NIL);
    freeReplyObject(rep);
    return v;
}

/* A commit sent without waiting is refused (a new owner took the
 * partition): the next batch, which counted on the persons in memory,
 * finds them dropped with the refusal and must not be judged. */
static void test_resident_sent_commit_refused(void **unused)
{
    struct fg_state *a = open_backend("test:ressent", 1), *b = open_backend("test:ressent", 1);
    const char *names[1] = {"6600005"};
    int part0[1] = {0};

    (void)unused;
    own_and_mark(a, 0, names[0], 1);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(mark(a, names[0], 2), 0);
    fg_state_redis_own(b, part0, 1);
    assert_int_equal(fg_state_begin(b, names, 1), 0);
    b->ops->abort_batch(b);
    assert_int_equal(a->ops->commit_send(a), 0);
    assert_int_equal(fg_state_begin(a, names, 1), FG_EAGAIN);
    assert_int_equal(a->ops->commit_wait(a), FG_EAGAIN);
    assert_int_equal(is_seen(b, names[0], 2), 0);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

static void peek_do(redisContext *c, const char *cmd)
{
    redisReply *rep = redisCommand(c, cmd);

    assert_non_null(rep);
    assert_int_not_equal(rep->type, REDIS_REPLY_ERROR);
    freeReplyObject(rep);
}

/* A lost connection fails the commit under way and drops the persons in
 * memory: the next batch loads them again (it sees a write made
 * meanwhile), under the epoch it holds.
 * A fence key Redis lost (a restart without persistence) refuses the
 * commit under way, and the next batch takes a new epoch. */
static void test_resident_reconnect(void **unused)
{
    struct fg_state *a = open_backend("test:resreconn", 1);
    redisContext *c = peek();
    const char *names[1] = {"6600002"};
    char cmd[160];
    int rc;

    (void)unused;
    own_and_mark(a, 3, names[0], 1);
    assert_int_equal(peek_get(c, "fg:test:resreconn:F:{p3}"), 1);

    peek_do(c, "CLIENT KILL TYPE normal SKIPME yes");
    snprintf(cmd, sizeof(cmd), "ZADD fg:test:resreconn:E:{%s} 1800000000 %016llx", names[0],
             9ULL);
    peek_do(c, cmd);
    /* The batch may start from memory; its commit finds the connection
     * gone, and the next batch loads the person again. */
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(mark(a, names[0], 5), 0);
    assert_int_equal(a->ops->commit_batch(a), FG_EAGAIN);
    for (time_t until = time(NULL) + 10; (rc = fg_state_begin(a, names, 1)) != 0;)
        assert_true(time(NULL) < until);
    assert_int_equal(mark(a, names[0], 9), 1);   /* loaded again */
    assert_int_equal(mark(a, names[0], 1), 1);
    assert_int_equal(mark(a, names[0], 5), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(peek_get(c, "fg:test:resreconn:F:{p3}"), 1);   /* same epoch */

    peek_do(c, "DEL fg:test:resreconn:F:{p3}");
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(mark(a, names[0], 10), 0);
    assert_int_equal(a->ops->commit_batch(a), FG_EAGAIN);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(peek_get(c, "fg:test:resreconn:F:{p3}"), 1);   /* taken anew */
    assert_int_equal(mark(a, names[0], 10), 0);   /* the refused commit wrote nothing */
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(is_seen(a, names[0], 10), 1);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    redisFree(c);
}

/* The connection is lost in the middle of a batch, on a histogram read
 * late (not asked with the batch): the persons the detectors hold stay
 * valid until the batch ends (ASan catches a use after free), the batch
 * cannot commit, and the next one loads them again. */
static void test_resident_lost_mid_batch(void **unused)
{
    struct fg_state *a = open_backend("test:resmid", 1);
    redisContext *c = peek();
    const char *names[1] = {"6600006"};
    const char *group = "X9|330100|3";
    uint32_t counts[FG_HIST_BUCKETS];
    struct fg_person *p;
    int rc;

    (void)unused;
    own_and_mark(a, 5, names[0], 1);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    peek_do(c, "CLIENT KILL TYPE normal SKIPME yes");
    assert_int_equal(a->ops->hist_sum(a, group, 1, 2, counts), UINT64_MAX);
    assert_int_equal(a->ops->seen(a, p, FG_SEEN_EVENTS, 1, 1800000000), 1);
    assert_int_equal(a->ops->seen(a, p, FG_SEEN_EVENTS, 2, 1800000000), 0);
    assert_int_equal(a->ops->commit_batch(a), FG_EAGAIN);
    for (time_t until = time(NULL) + 10; (rc = fg_state_begin(a, names, 1)) != 0;)
        assert_true(time(NULL) < until);
    assert_int_equal(mark(a, names[0], 1), 1);
    assert_int_equal(mark(a, names[0], 2), 0);   /* not written */
    a->ops->abort_batch(a);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    redisFree(c);
}

/* state.commit_ms: batches held (hold_batch) are written together by the
 * next commit and by nothing before it; meanwhile the persons in memory
 * and the held histogram observations count, and the commit reads the
 * stream progress back, so the next batch's begin reads nothing. */
static void test_resident_held_batches(void **unused)
{
    struct fg_state *a = open_backend("test:held", 1), *b = open_state("test:held");
    const char *names[1] = {"6600011"};
    const char *group = "X7|330100|3";
    int64_t mine[2] = {1000, FG_PROGRESS_NOT_MINE}, all[2];
    struct fg_batch_reads rd = {.psn_nos = names, .n = 1, .topic = "claims", .all = all,
                                .nparts = 2};
    uint32_t counts[FG_HIST_BUCKETS];
    uint64_t rt;

    (void)unused;
    own_and_mark(a, 0, names[0], 1);
    assert_int_equal(a->ops->begin_batch(a, &rd), 0);
    assert_int_equal(mark(a, names[0], 2), 0);
    a->ops->hist_add(a, group, 19800, 4, 19830);
    a->ops->progress_put(a, "claims", mine, 2);
    assert_int_equal(a->ops->hold_batch(a), 0);
    assert_int_equal(a->ops->begin_batch(a, &rd), 0);
    assert_int_equal(mark(a, names[0], 2), 1);   /* held, in memory */
    assert_int_equal(mark(a, names[0], 3), 0);
    assert_int_equal(a->ops->hist_sum(a, group, 19800, 19800, counts), 1);
    assert_int_equal(counts[4], 1);
    a->ops->progress_put(a, "claims", mine, 2);
    assert_int_equal(a->ops->hold_batch(a), 0);
    /* Nothing of them is in Redis yet. */
    assert_int_equal(is_seen(b, names[0], 2), 0);
    assert_int_equal(is_seen(b, names[0], 3), 0);

    assert_int_equal(a->ops->commit_send(a), 0);
    assert_int_equal(a->ops->commit_wait(a), 0);
    assert_int_equal(is_seen(b, names[0], 2), 1);
    assert_int_equal(is_seen(b, names[0], 3), 1);
    b->ops->abort_batch(b);
    assert_int_equal(fg_state_begin(b, names, 0), 0);
    assert_int_equal(b->ops->hist_sum(b, group, 19800, 19800, counts), 1);
    b->ops->abort_batch(b);
    /* The progress came back with the commit: no round trip for it. */
    rt = a->round_trips;
    all[0] = all[1] = 0;
    assert_int_equal(a->ops->begin_batch(a, &rd), 0);
    assert_int_equal(a->round_trips, rt);
    assert_int_equal(all[0], 1000);
    assert_int_equal(all[1], FG_PROGRESS_UNKNOWN);
    a->ops->abort_batch(a);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

/* Held batches are lost with the connection (or the fence): the next
 * begin fails at least once, and no later commit writes them. */
static void test_resident_held_lost(void **unused)
{
    struct fg_state *a = open_backend("test:heldlost", 1), *b;
    redisContext *c = peek();
    const char *names[1] = {"6600012"}, *other[1] = {"6600013"};
    int fails = 0;

    (void)unused;
    own_and_mark(a, 0, names[0], 1);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(mark(a, names[0], 2), 0);
    assert_int_equal(a->ops->hold_batch(a), 0);
    peek_do(c, "CLIENT KILL TYPE normal SKIPME yes");
    /* A batch with someone to read finds the connection gone. */
    assert_int_equal(fg_state_begin(a, other, 1), FG_EAGAIN);
    for (time_t until = time(NULL) + 10; fg_state_begin(a, names, 1) != 0; fails++)
        assert_true(time(NULL) < until);
    (void)fails;
    b = open_state("test:heldlost");   /* connected after the kill */
    assert_int_equal(mark(a, names[0], 1), 1);   /* loaded again */
    assert_int_equal(mark(a, names[0], 2), 0);   /* the held batch's: gone */
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(is_seen(b, names[0], 2), 1);
    assert_int_equal(is_seen(b, names[0], 9), 0);

    /* Refused by a newer owner: nothing held is written. */
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(mark(a, names[0], 4), 0);
    assert_int_equal(a->ops->hold_batch(a), 0);
    {
        struct fg_state *n = open_backend("test:heldlost", 1);
        int part0[1] = {0};
        fg_state_redis_own(n, part0, 1);
        assert_int_equal(fg_state_begin(n, names, 1), 0);
        n->ops->abort_batch(n);
        n->ops->destroy(n);
    }
    assert_int_equal(a->ops->commit_send(a), 0);
    assert_int_equal(fg_state_begin(a, names, 1), FG_EAGAIN);
    assert_int_equal(a->ops->commit_wait(a), FG_EAGAIN);
    assert_int_equal(is_seen(b, names[0], 4), 0);

    fg_state_redis_drop_namespace(b);
    a->ops->destroy(a);
    b->ops->destroy(b);
    redisFree(c);
}

/* begin_batch for persons of known partitions (with a progress topic:
 * the first batch of an assignment reads the person index with it). */
static int begin_parts(struct fg_state *st, const char *const *names, const int *parts,
                       size_t n, int topic)
{
    int64_t all[8];
    struct fg_batch_reads rd = {.psn_nos = names, .parts = parts, .n = n,
                                .topic = topic ? "claims" : NULL, .all = all, .nparts = 8};

    return st->ops->begin_batch(st, &rd);
}

/* The person index: a resident worker does not read a person its
 * partition's complete index lacks, reads one it has, and trusts no
 * index of a partition written before the index was begun. */
static void test_resident_person_index(void **unused)
{
    struct fg_state *a = open_backend("test:index", 1), *b = open_backend("test:index", 1);
    struct fg_state *old = open_state("test:index");
    redisContext *c = peek();
    const char *p1[1] = {"6600021"}, *p2[1] = {"6600022"}, *q1[1] = {"6600023"};
    int part3[1] = {3}, part4[1] = {4};
    int64_t mine[8];
    uint64_t rt;

    (void)unused;
    for (int i = 0; i < 8; i++)
        mine[i] = i == 3 ? 1000 : FG_PROGRESS_NOT_MINE;
    /* a: partition 3, never written: its index is complete from now on. */
    fg_state_redis_own(a, part3, 1);
    assert_int_equal(begin_parts(a, p1, part3, 1, 1), 0);
    assert_int_equal(mark(a, p1[0], 1), 0);
    a->ops->progress_put(a, "claims", mine, 8);
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(peek_int(c, "ZCARD", "fg:test:index:I:{p3}"), 2);   /* p1 and "#" */

    /* b takes partition 3 over: p1 is in the index (read), p2 is not. */
    fg_state_redis_own(b, part3, 1);
    assert_int_equal(begin_parts(b, p1, part3, 1, 1), 0);
    assert_int_equal(mark(b, p1[0], 1), 1);
    assert_int_equal(b->ops->commit_batch(b), 0);
    rt = b->round_trips;
    assert_int_equal(begin_parts(b, p2, part3, 1, 0), 0);
    assert_int_equal(b->round_trips, rt);   /* known to have nothing */
    assert_int_equal(mark(b, p2[0], 2), 0);
    assert_int_equal(b->ops->commit_batch(b), 0);

    /* Partition 4 was written without the index (progress published):
     * its persons are read. */
    assert_int_equal(fg_state_begin(old, q1, 1), 0);
    assert_int_equal(mark(old, q1[0], 5), 0);
    for (int i = 0; i < 8; i++)
        mine[i] = i == 4 ? 1000 : FG_PROGRESS_NOT_MINE;
    old->ops->progress_put(old, "claims", mine, 8);
    assert_int_equal(old->ops->commit_batch(old), 0);
    fg_state_redis_own(b, part4, 1);
    assert_int_equal(begin_parts(b, q1, part4, 1, 1), 0);
    assert_int_equal(mark(b, q1[0], 5), 1);
    assert_int_equal(mark(b, q1[0], 6), 0);
    assert_int_equal(b->ops->commit_batch(b), 0);
    assert_int_equal(peek_int(c, "ZCARD", "fg:test:index:I:{p4}"), 1);   /* q1, no "#" */

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
    old->ops->destroy(old);
    redisFree(c);
}

/* A group with no observation on the complete days read is known to
 * have an empty baseline once those days' group sets are read: a batch
 * announcing only such groups reads nothing, one announcing a group with
 * observations there reads it. */
static void test_resident_empty_baseline(void **unused)
{
    struct fg_state *a = open_backend("test:days", 1), *b = open_state("test:days");
    const char *groups[2] = {"XA|330100|3", "XB|330100|3"};
    int64_t from[2] = {100, 100}, to[2] = {101, 101};
    struct fg_batch_reads both = {.groups = groups, .from = from, .to = to, .ngroups = 2,
                                  .complete_before = 102};
    struct fg_batch_reads only_b = {.groups = groups + 1, .from = from, .to = to, .ngroups = 1,
                                    .complete_before = 102};
    struct fg_batch_reads only_a = {.groups = groups, .from = from, .to = to, .ngroups = 1,
                                    .complete_before = 102};
    struct fg_batch_reads open_b = only_b;
    uint32_t counts[FG_HIST_BUCKETS];
    uint64_t rt;

    (void)unused;
    assert_int_equal(fg_state_begin(b, NULL, 0), 0);
    b->ops->hist_add(b, groups[0], 100, 3, 130);
    assert_int_equal(b->ops->commit_batch(b), 0);

    assert_int_equal(a->ops->begin_batch(a, &both), 0);
    assert_int_equal(a->ops->hist_sum(a, groups[0], 100, 101, counts), 1);
    assert_int_equal(a->ops->hist_sum(a, groups[1], 100, 101, counts), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);   /* nothing to write */

    /* Day 101 not complete: nothing is known of it yet. */
    open_b.complete_before = 101;
    rt = a->round_trips;
    assert_int_equal(a->ops->begin_batch(a, &open_b), 0);
    assert_int_equal(a->round_trips, rt + 1);
    assert_int_equal(a->ops->commit_batch(a), 0);   /* nothing to write */
    rt = a->round_trips;
    assert_int_equal(a->ops->begin_batch(a, &only_b), 0);
    assert_int_equal(a->ops->hist_sum(a, groups[1], 100, 101, counts), 0);
    assert_int_equal(a->round_trips, rt);   /* known empty: nothing read */
    assert_int_equal(a->ops->commit_batch(a), 0);   /* nothing to write */
    assert_int_equal(a->ops->begin_batch(a, &only_a), 0);
    assert_int_equal(a->round_trips, rt + 1);
    assert_int_equal(a->ops->hist_sum(a, groups[0], 100, 101, counts), 1);
    assert_int_equal(a->ops->commit_batch(a), 0);   /* nothing to write */

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

/* A day's group set read while a held batch has observations on that
 * day lacks their group (they are not written yet): they must count as
 * observed there, or once the commit lands (and the held counts leave
 * memory) the group looks empty on a day Redis has it for. */
static void test_resident_held_day_known(void **unused)
{
    struct fg_state *a = open_backend("test:heldday", 1);
    const char *groups[1] = {"XH|330100|2"};
    int64_t from[1] = {100}, to[1] = {100};
    struct fg_batch_reads rd = {.groups = groups, .from = from, .to = to, .ngroups = 1,
                                .complete_before = 101};
    uint32_t counts[FG_HIST_BUCKETS];

    (void)unused;
    assert_int_equal(fg_state_begin(a, NULL, 0), 0);
    a->ops->hist_add(a, groups[0], 100, 5, 130);
    assert_int_equal(a->ops->hold_batch(a), 0);
    /* Day 100 complete now: its (empty) set is read, the batch held. */
    assert_int_equal(a->ops->begin_batch(a, &rd), 0);
    assert_int_equal(a->ops->hist_sum(a, groups[0], 100, 100, counts), 1);
    assert_int_equal(a->ops->hold_batch(a), 0);
    assert_int_equal(a->ops->commit_send(a), 0);
    assert_int_equal(a->ops->commit_wait(a), 0);
    /* Written: read from Redis, not taken as known empty. */
    assert_int_equal(a->ops->begin_batch(a, &rd), 0);
    assert_int_equal(a->ops->hist_sum(a, groups[0], 100, 100, counts), 1);
    assert_int_equal(counts[5], 1);
    a->ops->abort_batch(a);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
}

/* Held batches page through the deferred records: a take goes on past
 * the records taken by batches held (still in the store until their
 * commit), and after the commit nothing taken comes again. */
static void test_resident_held_takes(void **unused)
{
    struct fg_state *a = open_backend("test:heldtake", 1);
    int scopes[1] = {3};

    (void)unused;
    fg_state_redis_own(a, scopes, 1);
    assert_int_equal(fg_state_begin(a, NULL, 0), 0);
    a->ops->defer_add(a, 3, 100, "r1", 2);
    a->ops->defer_add(a, 3, 200, "r2", 2);
    a->ops->defer_add(a, 3, 300, "r3", 2);
    assert_int_equal(a->ops->commit_batch(a), 0);

    for (int round = 0; round < 2; round++) {
        ntaken = 0;
        assert_int_equal(fg_state_begin(a, NULL, 0), 0);
        assert_int_equal(a->ops->defer_take(a, scopes, 1, 1000, 1, count_taken, NULL), 0);
        assert_int_equal(ntaken, 1);
        assert_string_equal(taken[0], round ? "3:r2" : "3:r1");
        assert_int_equal(a->ops->hold_batch(a), 0);
    }
    assert_int_equal(a->ops->commit_send(a), 0);
    assert_int_equal(a->ops->commit_wait(a), 0);
    assert_int_equal(take_committed(a, scopes, 1, 1000, 0), 1);
    assert_string_equal(taken[0], "3:r3");
    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
}

/* Redis takes no writes (maxmemory reached, noeviction): a new owner
 * cannot take its epoch, so its batches wait (and hold no fence) until
 * Redis takes writes again. */
static void test_resident_fence_refused(void **unused)
{
    struct fg_state *a = open_backend("test:resrefused", 1);
    redisContext *c = peek();
    const char *names[1] = {"6600004"};
    int part1[1] = {1};

    (void)unused;
    peek_do(c, "CONFIG SET maxmemory-policy noeviction");
    peek_do(c, "CONFIG SET maxmemory 1");
    fg_state_redis_own(a, part1, 1);
    assert_int_equal(fg_state_begin(a, names, 1), FG_EAGAIN);
    assert_int_equal(fg_state_begin(a, names, 1), FG_EAGAIN);
    peek_do(c, "CONFIG SET maxmemory 0");
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    assert_int_equal(peek_get(c, "fg:test:resrefused:F:{p1}"), 1);
    assert_int_equal(mark(a, names[0], 1), 0);
    assert_int_equal(a->ops->commit_batch(a), 0);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    redisFree(c);
}

/* A line of a person kept in memory goes from Redis when the watermark
 * passes its expiry (the memory store's sweep), with the next commit. */
static void test_resident_expired_line(void **unused)
{
    struct fg_state *a = open_backend("test:resexp", 1);
    redisContext *c = peek();
    const char *names[1] = {"6600003"};
    int part0[1] = {0};
    struct fg_line_init in = {
        .fee_time = 1000000, .pric = 100, .cnt = 1, .inscp = 100, .expire_at = 1000100,
        .code = "X1", .fixmedins_code = "H1", .mdtrt_id = "M1", .feedetl_sn = "S1",
        .setl_id = "T1",
    };
    struct fg_wline **win;
    struct fg_person *p;
    char key[64];

    (void)unused;
    snprintf(key, sizeof(key), "fg:test:resexp:L:{%s}", names[0]);
    fg_state_redis_own(a, part0, 1);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    a->ops->add_line(a, p, &in);
    in.feedetl_sn = "S2";
    in.expire_at = 3000000;
    a->ops->add_line(a, p, &in);
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(peek_int(c, "HLEN", key), 2 + 3);   /* and #wm, #tl, #ts */

    a->ops->advance(a, 2000000);
    assert_int_equal(fg_state_begin(a, names, 1), 0);
    p = a->ops->person(a, names[0]);
    assert_int_equal(a->ops->window(a, p, &win), 1);
    assert_string_equal(win[0]->feedetl_sn, "S2");
    assert_int_equal(a->ops->commit_batch(a), 0);
    assert_int_equal(peek_int(c, "HLEN", key), 1 + 3);

    fg_state_redis_drop_namespace(a);
    a->ops->destroy(a);
    redisFree(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_commit_aborts),
        cmocka_unit_test(test_abort_drops_watch),
        cmocka_unit_test(test_alert_log_persists),
        cmocka_unit_test(test_deferred_queue),
        cmocka_unit_test(test_deferred_queue_limit),
        cmocka_unit_test(test_resent_expired_line),
        cmocka_unit_test(test_prepared_commit),
        cmocka_unit_test(test_begin_one_round_trip),
        cmocka_unit_test(test_commit_sent_read_with_next_begin),
        cmocka_unit_test(test_engine_sent_commit_failed),
        cmocka_unit_test(test_ttls_set_once),
        cmocka_unit_test(test_hist_ttl_set_once),
        cmocka_unit_test(test_connection_killed_after_prepare),
        cmocka_unit_test(test_resident_fence),
        cmocka_unit_test(test_resident_reconnect),
        cmocka_unit_test(test_resident_sent_commit_refused),
        cmocka_unit_test(test_resident_lost_mid_batch),
        cmocka_unit_test(test_resident_fence_refused),
        cmocka_unit_test(test_resident_expired_line),
        cmocka_unit_test(test_resident_held_batches),
        cmocka_unit_test(test_resident_held_lost),
        cmocka_unit_test(test_resident_person_index),
        cmocka_unit_test(test_resident_empty_baseline),
        cmocka_unit_test(test_resident_held_day_known),
        cmocka_unit_test(test_resident_held_takes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
