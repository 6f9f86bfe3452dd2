/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_daemon.c: `fundguard run`, the live worker: a librdkafka consumer
 * group in, Redis state, alerts out on an idempotent producer.
 *
 * At-least-once, in this order for every batch:
 *   1. consume a batch (offsets are never stored automatically);
 *   2. load the batch's persons from Redis, judge every event;
 *   3. produce alerts (key fixmedins_code) and dead letters, then flush
 *      and check every delivery report;
 *   4. commit the batch's state to Redis (one MULTI/EXEC);
 *   5. store the batch's offsets; the consumer commits stored offsets.
 * A failure in 2-4 replays the whole batch after a backoff, with the
 * partitions paused so nothing new is fetched: state is re-read from
 * Redis, so the replay judges exactly as the first try, and re-produced
 * alerts carry the same jr_id and content (duplicates by redelivery only).
 *
 * Signals: SIGTERM/SIGINT stop after the batch in hand (flush, store,
 * commit, close: exit 0); SIGHUP reloads config, rule pack and detector
 * parameters between batches, atomically, keeping state.
 */
#include "fg_app.h"
#include "fg_common.h"
#include "fg_engine.h"
#include "fg_event.h"
#include "fg_fixed.h"
#include "fg_kafka.h"
#include "fg_state.h"

#include <errno.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop, g_reload;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_reload = 1;
    else
        g_stop = 1;
}

#define LAT_BUCKETS 16   /* batch latency histogram: 1 ms << i */

/* The stages of a batch attempt, timed apart. */
enum { ST_FETCH, ST_PARSE, ST_PROGRESS, ST_LOAD, ST_DETECT, ST_DELIVER, ST_COMMIT, STAGES };
static const char *const stage_names[STAGES] = {"fetch",  "parse",   "progress", "load",
                                                "detect", "deliver", "commit"};

/* A message received and parsed, waiting in its partition's queue. */
struct item {
    rd_kafka_message_t *m;
    struct fg_claim *claim;   /* NULL: bad, why says why */
    char *why;
};

struct bad_event {
    rd_kafka_message_t *m;
    char why[256];
};

/* A batch in hand, from its messages to its commit. */
struct batch {
    struct item *items;
    size_t n;
    rd_kafka_message_t **msgs;
    struct fg_claim **claims;
    struct fg_alert_source *srcs;
    struct bad_event *bad;
    size_t nc, nbad;
    struct fg_engine_mark mark;   /* the engine's counters before the attempt */
    size_t due_max;               /* deferred judgements it takes along (due_limit) */
    double t0, dt;                /* taken in; judged and delivered after dt */
    double st0[STAGES], st1[STAGES];   /* d->stage_s then and after dt */
    struct batch *next;           /* in d->pending */
};

/* Messages being parsed while the previous batch is judged: a helper
 * thread and (when it has nothing else to do) the main thread take chunks
 * of them by an atomic index; receive_finish() queues them in order. */
struct parse_work {
    rd_kafka_message_t **msgs;
    size_t n;
    struct fg_claim **claims;   /* NULL where invalid: why[i] says why */
    char (*why)[256];
    atomic_size_t next;
    pthread_t helper;
    int threaded;
    int active;
};

struct daemon {
    struct fg_app app;
    const char *config;
    char **sets;
    size_t nsets;
    rd_kafka_t *consumer, *producer;
    rd_kafka_queue_t *queue;
    char *topic_claims, *topic_alerts, *topic_dlq;
    struct fg_state *st;
    struct fg_engine *eng;
    long long batch_size, batch_ms, stats_interval, lateness, dedup;
    long long due_per_event;   /* state.deferred_per_event */
    int resident;              /* state.resident (Redis backend) */
    long long commit_ms;       /* state.commit_ms: batches held up to this long */
    /* delivery accounting of the batch in flight */
    uint64_t dr_pending, dr_failed;
    /* counters */
    uint64_t quarantined, batches, batch_retries, deliveries_failed, reloads;
    uint64_t lat_hist[LAT_BUCKETS + 1];
    /* Where batch time goes: wall seconds per stage (metrics). */
    double stage_s[STAGES];
    char *last_stats_json;   /* librdkafka statistics, for lag */
    int metrics_fd;
    int paused;
    int retrying;                 /* inside a batch's retry back-off */
    long long align_s;     /* kafka.align_seconds */
    /* Progress of the claims topic's partitions, for complete days. */
    struct part {
        int64_t wm;        /* latest event time committed; FG_PROGRESS_UNKNOWN */
        double eof_since;  /* wall time it reached its end; 0 while not */
        int eof_ever;      /* librdkafka has reported its end at least once */
        double caught_since;   /* wall time it was first seen caught up; 0 = not */
        int64_t eof_offset;   /* where that end was */
        int64_t bound;     /* progress last published (metrics) */
        int64_t applied;   /* what the engine was last told of it while owned;
                            * FG_PROGRESS_NOT_MINE: nothing since assigned */
        int owned;
        int held;          /* paused: its queue below is full */
        int lib_paused;    /* paused in librdkafka by us (kept across revoke) */
        double heard;      /* wall time of its last message or end, or of
                            * its assignment or resume: the stall watch */
        double asked;      /* when its high watermark was last asked for */
        int64_t seen;      /* latest event time received; FG_PROGRESS_UNKNOWN */
        struct item *q;    /* received, not yet judged, in arrival order */
        size_t qhead, qlen, qcap;
        size_t inflight;   /* received, being parsed (d->parse) */
    } *parts;
    size_t queued;         /* items in all partition queues */
    double reassign_at;    /* wall time to assign the partitions again; 0 = no */
    uint64_t reassigns;
    uint64_t stalls;       /* partitions found stalled (watch_stalls) */
    long long stall_ms;    /* kafka.stall_ms */
    int fault_pause;       /* FUNDGUARD_FAULT_PAUSE_PARTITION, or -1 */
    int fault_at_end;      /* ... at the partition's first end, not assignment */
    int fault_stop;        /* FUNDGUARD_FAULT_LOSE_HELD_AT_STOP; 2: armed */
    uint64_t holds;        /* partitions paused for a long queue */
    double blocked_since;  /* wall time the merge first waited; 0 = not */
    struct parse_work parse;   /* received, being parsed, not yet queued */
    int nparts;
    long long idle_ms;
    int64_t complete_before;
    double last_tick;
    /* Batches judged whose state is not known written, in order: held
     * (state.commit_ms: their writes kept for one commit), or their
     * commit sent (pending_sent) with its outcome unread. */
    struct batch *pending, *pending_tail;
    int pending_sent;
    double pending_t0;     /* when the first was held */
};

static void receive_finish(struct daemon *d);
static void settle(struct daemon *d, int rerun);

/* ---- librdkafka callbacks ---- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct daemon *d = opaque;
    (void)rk;
    if (d->dr_pending)
        d->dr_pending--;
    if (m->err) {
        d->dr_failed++;
        d->deliveries_failed++;
        fg_log_warn("msg=\"delivery failed\" topic=%s error=\"%s\"", rd_kafka_topic_name(m->rkt),
                    rd_kafka_err2str(m->err));
    }
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct daemon *d = opaque;
    (void)rk;
    free(d->last_stats_json);
    d->last_stats_json = fg_strndup(json, len);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- progress of the partitions (complete days) ---- */

static void parts_grow(struct daemon *d, int n)
{
    if (n <= d->nparts)
        return;
    d->parts = fg_realloc(d->parts, (size_t)n * sizeof(*d->parts));
    for (int i = d->nparts; i < n; i++)
        d->parts[i] = (struct part){.wm = FG_PROGRESS_UNKNOWN, .seen = FG_PROGRESS_UNKNOWN,
                                    .bound = FG_PROGRESS_NOT_MINE,
                                    .applied = FG_PROGRESS_NOT_MINE};
    d->nparts = n;
}

/* ---- partition queues ---- */

static void item_free(struct item *it)
{
    fg_claim_free(it->claim);
    free(it->why);
    rd_kafka_message_destroy(it->m);
}

static void queue_push(struct daemon *d, int p, struct item it)
{
    struct part *q;

    parts_grow(d, p + 1);
    q = &d->parts[p];
    if (q->qhead + q->qlen == q->qcap) {
        if (q->qhead) {
            memmove(q->q, q->q + q->qhead, q->qlen * sizeof(*q->q));
            q->qhead = 0;
        } else {
            q->qcap = q->qcap ? 2 * q->qcap : 64;
            q->q = fg_realloc(q->q, q->qcap * sizeof(*q->q));
        }
    }
    if (it.claim && (q->seen == FG_PROGRESS_UNKNOWN || it.claim->event_time > q->seen))
        q->seen = it.claim->event_time;
    q->q[q->qhead + q->qlen++] = it;
    d->queued++;
}

static struct item queue_pop(struct daemon *d, int p)
{
    struct part *q = &d->parts[p];
    struct item it = q->q[q->qhead++];

    if (--q->qlen == 0)
        q->qhead = 0;
    d->queued--;
    return it;
}

/* Event time that orders a queue's head; a bad event goes first. */
static int64_t head_time(const struct part *q)
{
    const struct item *it = &q->q[q->qhead];
    return it->claim ? it->claim->event_time : INT64_MIN;
}

static void own_partitions(struct daemon *d, const rd_kafka_topic_partition_list_t *l,
                           int owned)
{
    for (int i = 0; i < l->cnt; i++) {
        int p = l->elems[i].partition;
        if (p < 0 || strcmp(l->elems[i].topic, d->topic_claims) != 0)
            continue;
        parts_grow(d, p + 1);
        /* What this process learnt of the partition stays true across a
         * rebalance: its watermark can only be behind (safe), and
         * librdkafka does not repeat an end-of-partition event for an
         * offset it has already reported. A partition new to this process
         * starts unknown (or from its previous owner's published value). */
        d->parts[p].owned = owned;
        d->parts[p].applied = FG_PROGRESS_NOT_MINE;
        d->parts[p].held = 0;   /* the assignment sets the pause state anew */
        d->parts[p].heard = now_s();
        /* What was received from a partition that goes is not judged here:
         * its offsets were not stored, so its next owner reads it again. */
        while (!owned && d->parts[p].qlen) {
            struct item it = queue_pop(d, p);
            item_free(&it);
        }
    }
    /* Resident state is fenced by the partitions owned: a new epoch of each
     * (fg_state_redis_own). */
    if (d->resident) {
        int *mine = fg_malloc((size_t)(d->nparts ? d->nparts : 1) * sizeof(*mine)), n = 0;
        for (int p = 0; p < d->nparts; p++)
            if (d->parts[p].owned)
                mine[n++] = p;
        fg_state_redis_own(d->st, mine, n);
        free(mine);
    }
}

/* How many partitions the claims topic has (0 if the broker cannot say). */
static int topic_partitions(struct daemon *d)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(d->consumer, d->topic_claims, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = 0;

    if (t && rd_kafka_metadata(d->consumer, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (t)
        rd_kafka_topic_destroy(t);
    return n;
}

/* 1 when nothing is left to read in the partition as far as the consumer
 * knows: its position is at the high watermark of the last fetch.
 * Messages fetched but not yet handed to us count as unread. 0 when
 * something is; -1 when it cannot be told (no high watermark yet, an
 * error). With ask_ms, the high watermark is asked of the broker instead
 * (waiting up to ask_ms): a partition not fetched has none newer than its
 * last fetch; and the end librdkafka last reported counts as the position
 * when it is further (a trailing control record is never consumed). */
static int caught_up(struct daemon *d, int p, int ask_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    int64_t lo = 0, hi = 0, pos;

    rd_kafka_topic_partition_list_add(l, d->topic_claims, p);
    if (rd_kafka_position(d->consumer, l) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        (ask_ms ? rd_kafka_query_watermark_offsets(d->consumer, d->topic_claims, p, &lo, &hi,
                                                   ask_ms)
                : rd_kafka_get_watermark_offsets(d->consumer, d->topic_claims, p, &lo, &hi)) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(l);
        return -1;
    }
    pos = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    if (hi < 0)
        return -1;   /* no fetch has told the high watermark yet */
    if (pos < 0 || (ask_ms && d->parts[p].eof_ever && pos < d->parts[p].eof_offset))
        pos = d->parts[p].eof_offset;   /* pos < 0: nothing consumed since assignment */
    return pos >= hi || lo >= hi;
}

/* How far a partition has got, given first: the earliest event time of
 * it not yet judged (in the batch or queued; INT64_MAX if none). What it
 * has not judged yet is no older than first, nor (arriving later) older
 * than the latest event time received by more than the lateness. So
 * min(first + lateness, seen) is a progress bound: the engine takes days
 * before bound - lateness as complete. */
static int64_t partition_bound(const struct daemon *d, const struct part *q, int64_t first)
{
    if (q->seen == FG_PROGRESS_UNKNOWN)
        return FG_PROGRESS_NOT_MINE;
    if (first == INT64_MAX || first > q->seen - d->lateness)
        return q->seen;
    return first + d->lateness;
}

/* The earliest event time queued on a partition, or INT64_MAX. */
static int64_t queued_first(const struct part *q)
{
    int64_t first = INT64_MAX;

    for (size_t k = 0; k < q->qlen; k++) {
        const struct fg_claim *c = q->q[q->qhead + k].claim;
        if (c && c->event_time < first)
            first = c->event_time;
    }
    return first;
}

/* A batch's progress: this worker's, and the others' read with the
 * batch's loads (struct fg_exchange). */
struct exchange {
    struct daemon *d;
    int64_t *mine, *all;
    struct fg_exchange x;
};

static void progress_apply(void *opaque);

/*
 * This worker's partitions' progress, with the events of claims[0..nc)
 * still to be judged: before a batch, for the engine (progress_apply()
 * hands it and the others' over; the engine judges an event day complete
 * once the slowest partition is a lateness past it); and with a batch's
 * commit, published for the others. A partition's progress is
 * partition_bound(). A partition at its end for idle_ms, with nothing
 * queued, holds nobody back. With past, also each one's progress once the
 * batch's events are judged (each raises it: set_progress()).
 */
static int64_t *progress_of(struct daemon *d, struct fg_claim *const *claims,
                            const struct fg_alert_source *srcs, size_t nc, int64_t *past)
{
    int n = d->nparts;
    int64_t *mine = fg_malloc((size_t)(n ? n : 1) * sizeof(*mine));
    double now = now_s();

    for (int p = 0; p < n; p++)
        mine[p] = INT64_MAX;   /* here: the partition's earliest event in the batch */
    for (size_t i = 0; i < nc; i++) {
        int p = srcs[i].partition;
        if (p >= 0 && p < n && claims[i]->event_time < mine[p])
            mine[p] = claims[i]->event_time;
    }
    for (int p = 0; p < n; p++) {
        const struct part *q = &d->parts[p];
        int64_t in_batch = mine[p];
        mine[p] = FG_PROGRESS_NOT_MINE;
        if (past)
            past[p] = FG_PROGRESS_NOT_MINE;
        if (!q->owned)
            continue;
        /* Idle: it has reached its end once, nothing is queued, being
         * parsed or in the batch, and it has been caught up (position at
         * the high watermark) for idle_ms. Events taken from the queue
         * into this batch may have waited there longer than idle_ms.
         * Not the end-of-partition event alone: librdkafka reports an end
         * once per offset, and a pause or a new assignment that re-reads
         * messages does not report it again. */
        if (q->eof_ever && q->qlen == 0 && q->inflight == 0 && in_batch == INT64_MAX &&
            caught_up(d, p, 0) > 0) {
            if (q->caught_since <= 0)
                d->parts[p].caught_since = now;
        } else {
            d->parts[p].caught_since = 0;
        }
        if (d->parts[p].caught_since > 0 &&
            (now - d->parts[p].caught_since) * 1000 >= (double)d->idle_ms)
            mine[p] = FG_PROGRESS_IDLE;
        else {
            int64_t first = queued_first(q);
            mine[p] = partition_bound(d, q, in_batch < first ? in_batch : first);
            if (past)
                past[p] = partition_bound(d, q, first);
            continue;
        }
        if (past)
            past[p] = mine[p];
    }
    for (int p = 0; p < n; p++)
        d->parts[p].bound = mine[p];
    return mine;
}

/* Before a batch: the others' progress is read with its loads. */
static void progress_begin(struct daemon *d, struct exchange *ex, struct fg_claim *const *claims,
                           const struct fg_alert_source *srcs, size_t nc)
{
    int n = d->nparts;
    int64_t *past = fg_malloc((size_t)(n ? n : 1) * sizeof(*past));

    ex->d = d;
    ex->mine = progress_of(d, claims, srcs, nc, past);
    ex->all = fg_malloc((size_t)(n ? n : 1) * sizeof(*ex->all));
    ex->x = (struct fg_exchange){.srcs = srcs, .topic = d->topic_claims, .all = ex->all,
                                 .nparts = n, .apply = progress_apply, .opaque = ex,
                                 .bound = FG_PROGRESS_IDLE};
    /* The furthest the engine can be told of each partition owned while
     * judging the batch, where known before the read: the progress past
     * the batch, else what it was told last (only this worker publishes a
     * partition it owns). */
    for (int p = 0; p < n; p++) {
        int64_t v = past[p];
        if (!d->parts[p].owned)
            continue;
        if (v == FG_PROGRESS_NOT_MINE)
            v = d->parts[p].applied;
        if (v == FG_PROGRESS_NOT_MINE)
            continue;
        ex->x.bounded = 1;
        if (v < ex->x.bound)
            ex->x.bound = v;
    }
    free(past);
}

/* With a batch's commit (after its events are judged): this worker's
 * progress, published in the same transaction as the state it describes,
 * so the others never see it ahead of the state. */
static void progress_publish(struct daemon *d)
{
    int64_t *mine = progress_of(d, NULL, NULL, 0, NULL);

    d->st->ops->progress_put(d->st, d->topic_claims, mine, d->nparts);
    free(mine);
}

static void progress_apply(void *opaque)
{
    struct exchange *ex = opaque;
    struct daemon *d = ex->d;
    int n = d->nparts;
    int64_t *bounds = fg_malloc((size_t)(n ? n : 1) * sizeof(*bounds));
    int *scopes = fg_malloc((size_t)(n ? n : 1) * sizeof(*scopes));
    int64_t others = FG_PROGRESS_IDLE, before = d->complete_before;
    size_t ns = 0;

    for (int p = 0; p < n; p++) {
        int64_t v = ex->all[p];
        if (!d->parts[p].owned) {
            if (v < others)
                others = v;
            continue;
        }
        /* What we know of our own partition; else what its previous
         * owner published, but never its idleness, which was true then
         * and may not be now. */
        v = ex->mine[p];
        if (v == FG_PROGRESS_NOT_MINE)
            v = ex->all[p] == FG_PROGRESS_IDLE ? FG_PROGRESS_UNKNOWN : ex->all[p];
        d->parts[p].applied = v;
        scopes[ns] = p;
        bounds[ns++] = v;
    }
    fg_engine_set_progress(d->eng, others, scopes, bounds, ns);
    d->complete_before = fg_engine_complete_before(d->eng);
    if (d->complete_before != before)
        fg_log_debug("msg=\"complete days advanced\" complete_before=%lld",
                     (long long)d->complete_before);
    free(bounds);
    free(scopes);
}

static void progress_end(struct exchange *ex)
{
    free(ex->mine);
    free(ex->all);
}

/* After a batch is committed: its events are part of the state now. */
static void advance_partitions(struct daemon *d, struct fg_claim **claims,
                               const struct fg_alert_source *srcs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int p = srcs[i].partition;
        if (p < 0 || p >= d->nparts)
            continue;
        if (d->parts[p].wm == FG_PROGRESS_UNKNOWN || claims[i]->event_time > d->parts[p].wm)
            d->parts[p].wm = claims[i]->event_time;
    }
}

/*
 * Pause or resume the claims partitions of l in librdkafka, noting which
 * are paused. librdkafka 2.0 keeps a pause across a revoke and the next
 * assignment; and a resume, even of a partition that is not paused, bumps
 * the partition's op version, so that a fetch start of its assignment
 * queued before it is discarded as outdated: the partition is then never
 * fetched, with no message, no end and no error. So only partitions noted
 * paused are resumed (all of them with all set), and on an assignment
 * before it is made, not after.
 */
static void pause_list(struct daemon *d, const rd_kafka_topic_partition_list_t *l, int pause,
                       int all)
{
    rd_kafka_topic_partition_list_t *sel = rd_kafka_topic_partition_list_new(l->cnt + 1);

    for (int i = 0; i < l->cnt; i++) {
        int p = l->elems[i].partition;
        if (p < 0 || p >= d->nparts || strcmp(l->elems[i].topic, d->topic_claims) != 0 ||
            (!pause && !all && !d->parts[p].lib_paused))
            continue;
        rd_kafka_topic_partition_list_add(sel, d->topic_claims, p);
    }
    if (sel->cnt)
        (pause ? rd_kafka_pause_partitions : rd_kafka_resume_partitions)(d->consumer, sel);
    for (int i = 0; i < sel->cnt; i++) {
        struct part *q = &d->parts[sel->elems[i].partition];
        if (sel->elems[i].err)
            continue;   /* unknown to librdkafka yet: nothing to pause */
        q->lib_paused = pause;
        q->heard = now_s();
    }
    rd_kafka_topic_partition_list_destroy(sel);
}

/* FUNDGUARD_FAULT_PAUSE_PARTITION=<p>[@end] (tests): at the first
 * assignment holding p (with @end: when p first reaches its end), pause it
 * in librdkafka without noting it, as librdkafka 2.0 can leave a partition
 * by itself (pause_list()). watch_stalls() must find it. */
static void fault_pause(struct daemon *d, const rd_kafka_topic_partition_list_t *l, int p)
{
    rd_kafka_topic_partition_list_t *one;

    if (d->fault_pause < 0 || d->fault_at_end != (l == NULL) ||
        (l ? !rd_kafka_topic_partition_list_find(l, d->topic_claims, d->fault_pause)
           : p != d->fault_pause))
        return;
    one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, d->topic_claims, d->fault_pause);
    rd_kafka_pause_partitions(d->consumer, one);
    rd_kafka_topic_partition_list_destroy(one);
    fg_log_warn("msg=\"fault injection: partition paused unnoted\" partition=%d",
                d->fault_pause);
    d->fault_pause = -1;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct daemon *d = opaque;

    /* Batches are processed to the end before the next poll but for the
     * commit of the last, which is settled here (its offsets stored; if
     * it failed, it is left for redelivery): then nothing is in hand.
     * Commit what is stored, then let the partitions go. What is being
     * parsed is queued first, so that a revoked partition's messages are
     * dropped with its queue. */
    settle(d, 0);
    receive_finish(d);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        fg_log_info("msg=\"partitions assigned\" count=%d", parts->cnt);
        own_partitions(d, parts, 1);
        /* librdkafka remembers a pause on the partition object across a
         * revoke and a new assignment, so set the state explicitly: paused
         * while a batch is being retried, running otherwise (what was
         * paused here resumed before the assignment: pause_list()). */
        if (!d->retrying)
            pause_list(d, parts, 0, 0);
        rd_kafka_assign(rk, parts);
        if (d->retrying)
            pause_list(d, parts, 1, 0);
        d->paused = d->retrying;
        fault_pause(d, parts, -1);
    } else {
        fg_log_info("msg=\"partitions revoked\" count=%d", parts->cnt);
        own_partitions(d, parts, 0);
        rd_kafka_commit(rk, NULL, 0);
        rd_kafka_assign(rk, NULL);
    }
}

/* ---- configuration ---- */

static rd_kafka_t *make_client(struct daemon *d, rd_kafka_type_t type)
{
    /* Nagle's algorithm off, as for the producer (fg_kafka.h). */
    static const char *const consumer_defaults[] = {
        "auto.offset.reset", "earliest", "statistics.interval.ms", "5000",
        "socket.nagle.disable", "true", NULL};
    /* Not overridable: offsets are stored by us, after delivery; the end
     * of a partition marks it idle (complete days). */
    static const char *const consumer_fixed[] = {
        "enable.auto.offset.store", "false", "enable.partition.eof", "true", NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *group;
    char err[512] = "";
    int consumer = type == RD_KAFKA_CONSUMER;
    rd_kafka_t *rk;

    group = fg_config_str(d->app.cfg, "kafka.group_id", "fundguard", err, sizeof(err));
    if (!group)
        goto fail;
    rd_kafka_conf_set_opaque(conf, d);
    if ((consumer && fg_kafka_set(conf, "group.id", group, err, sizeof(err))) ||
        fg_kafka_set_all(conf, consumer ? consumer_defaults : fg_kafka_producer_defaults, err,
                         sizeof(err)) ||
        fg_kafka_conf(d->app.cfg, conf, consumer ? "consumer" : "producer", 0, err,
                      sizeof(err)) ||
        fg_kafka_set_all(conf, consumer ? consumer_fixed : fg_kafka_producer_fixed, err,
                         sizeof(err)))
        goto fail;
    if (consumer) {
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
        rd_kafka_conf_set_stats_cb(conf, stats_cb);
    } else {
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    }
    rk = fg_kafka_new(type, conf, d->app.cfg, consumer ? "consumer" : "producer", err,
                      sizeof(err));   /* takes conf */
    if (!rk)
        fprintf(stderr, "fundguard: config error: %s\n", err);
    return rk;
fail:
    fprintf(stderr, "fundguard: config error: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* ---- output ---- */

static int produce(struct daemon *d, const char *topic, const void *key, size_t klen,
                   const void *val, size_t vlen, rd_kafka_headers_t *hdrs)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            d->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, klen),
            RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (!err) {
            d->dr_pending++;
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fg_log_error("msg=\"produce failed\" topic=%s error=\"%s\"", topic,
                         rd_kafka_err2str(err));
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            d->dr_failed++;
            return -1;
        }
        rd_kafka_poll(d->producer, 100);   /* local queue full: let it drain */
    }
}

static int alert_out(void *opaque, const char *json, size_t len, const char *key)
{
    struct daemon *d = opaque;
    return produce(d, d->topic_alerts, key, strlen(key), json, len, NULL);
}

static void dead_letter(struct daemon *d, const rd_kafka_message_t *m, const char *reason)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    char part[16], off[32];

    snprintf(part, sizeof(part), "%d", m->partition);
    snprintf(off, sizeof(off), "%lld", (long long)m->offset);
    rd_kafka_header_add(h, "fg.reason", -1, reason, -1);
    rd_kafka_header_add(h, "fg.source.topic", -1, rd_kafka_topic_name(m->rkt), -1);
    rd_kafka_header_add(h, "fg.source.partition", -1, part, -1);
    rd_kafka_header_add(h, "fg.source.offset", -1, off, -1);
    fg_log_warn("msg=\"event quarantined\" topic=%s partition=%d offset=%lld reason=\"%s\"",
                rd_kafka_topic_name(m->rkt), m->partition, (long long)m->offset, reason);
    produce(d, d->topic_dlq, m->key, m->key_len, m->payload, m->len, h);
}

/* ---- metrics ---- */

static void metrics_text(struct daemon *d, struct fg_buf *b)
{
    const struct fg_engine_stats *s = fg_engine_stats(d->eng);
    uint64_t cum = 0;

    fg_buf_printf(b, "# TYPE fundguard_events_total counter\nfundguard_events_total %llu\n",
                  (unsigned long long)s->events);
    fg_buf_printf(b, "# TYPE fundguard_lines_total counter\nfundguard_lines_total %llu\n",
                  (unsigned long long)s->lines);
    fg_buf_printf(b, "# TYPE fundguard_quarantined_total counter\n"
                     "fundguard_quarantined_total %llu\n", (unsigned long long)d->quarantined);
    fg_buf_printf(b, "# TYPE fundguard_duplicates_total counter\n"
                     "fundguard_duplicates_total %llu\n", (unsigned long long)s->duplicates);
    fg_buf_printf(b, "# TYPE fundguard_alerts_total counter\n");
    for (size_t i = 0; i < s->nrules; i++)
        fg_buf_printf(b, "fundguard_alerts_total{rule=\"%s\"} %llu\n", s->rules[i].rule_id,
                      (unsigned long long)s->rules[i].alerts);
    fg_buf_printf(b, "# TYPE fundguard_redis_round_trips_total counter\n"
                     "fundguard_redis_round_trips_total %llu\n",
                  (unsigned long long)d->st->round_trips);
    fg_buf_printf(b, "# HELP fundguard_revokes_total SETTLEMENT_REVOKE events; unmatched: "
                     "their settlement was unknown or expired.\n"
                     "# TYPE fundguard_revokes_total counter\n"
                     "fundguard_revokes_total %llu\n"
                     "# TYPE fundguard_revokes_unmatched_total counter\n"
                     "fundguard_revokes_unmatched_total %llu\n"
                     "# TYPE fundguard_retracts_total counter\n"
                     "fundguard_retracts_total %llu\n",
                  (unsigned long long)s->revokes, (unsigned long long)s->revokes_unmatched,
                  (unsigned long long)s->retracts);
    fg_buf_printf(b, "# HELP fundguard_deferred_total Judgements deferred until their days "
                     "were complete on every partition (this process).\n"
                     "# TYPE fundguard_deferred_total counter\n"
                     "fundguard_deferred_total %llu\n"
                     "# TYPE fundguard_deferred_judged_total counter\n"
                     "fundguard_deferred_judged_total %llu\n"
                     "# HELP fundguard_complete_before_day Event days (CST, days since "
                     "1970-01-01) before this one are complete on every partition.\n"
                     "# TYPE fundguard_complete_before_day gauge\n"
                     "fundguard_complete_before_day %lld\n",
                  (unsigned long long)s->deferred, (unsigned long long)s->deferred_done,
                  (long long)(d->complete_before == INT64_MIN ? -1
                              : d->complete_before == INT64_MAX ? 999999
                                                                : d->complete_before));
    {
        int held = 0;
        for (int p = 0; p < d->nparts; p++)
            held += d->parts[p].owned && d->parts[p].held;
        fg_buf_printf(b, "# HELP fundguard_queued_events Events received and parsed, waiting "
                         "in their partition's queue (merged by event time).\n"
                         "# TYPE fundguard_queued_events gauge\n"
                         "fundguard_queued_events %zu\n"
                         "# HELP fundguard_partitions_held Partitions paused while their queue "
                         "is long.\n"
                         "# TYPE fundguard_partitions_held gauge\n"
                         "fundguard_partitions_held %d\n"
                         "# TYPE fundguard_partition_holds_total counter\n"
                         "fundguard_partition_holds_total %llu\n",
                      d->queued, held, (unsigned long long)d->holds);
        fg_buf_printf(b, "# HELP fundguard_partition_stalls_total Partitions found silent "
                         "while not caught up (kafka.stall_ms), each answered by assigning "
                         "the partitions again.\n"
                         "# TYPE fundguard_partition_stalls_total counter\n"
                         "fundguard_partition_stalls_total %llu\n"
                         "# HELP fundguard_partition_reassigns_total Times the partitions were "
                         "assigned again (a stall, or committed offsets not fetched).\n"
                         "# TYPE fundguard_partition_reassigns_total counter\n"
                         "fundguard_partition_reassigns_total %llu\n",
                      (unsigned long long)d->stalls, (unsigned long long)d->reassigns);
        /* Which partition holds the complete days back. */
        fg_buf_printf(b, "# HELP fundguard_partition_progress_seconds Event time (Unix "
                         "seconds) up to which a partition owned here is known complete "
                         "(-1: nothing known yet; absent: idle, holds nothing back).\n"
                         "# TYPE fundguard_partition_progress_seconds gauge\n");
        for (int p = 0; p < d->nparts; p++) {
            int64_t v = d->parts[p].bound;
            if (!d->parts[p].owned || v == FG_PROGRESS_IDLE || v == FG_PROGRESS_NOT_MINE)
                continue;
            fg_buf_printf(b, "fundguard_partition_progress_seconds{partition=\"%d\"} %lld\n", p,
                          (long long)(v == FG_PROGRESS_UNKNOWN ? -1 : v));
        }
    }
    fg_buf_printf(b, "# HELP fundguard_redis_round_trip_seconds Time spent waiting on Redis "
                     "round trips (sum) and their number (count).\n"
                     "# TYPE fundguard_redis_round_trip_seconds summary\n"
                     "fundguard_redis_round_trip_seconds_sum %.6f\n"
                     "fundguard_redis_round_trip_seconds_count %llu\n",
                  d->st->rt_seconds, (unsigned long long)d->st->round_trips);
    fg_buf_printf(b, "# HELP fundguard_redis_commit_conflicts_total Batch commits aborted "
                     "because another worker wrote one of their persons first.\n"
                     "# TYPE fundguard_redis_commit_conflicts_total counter\n"
                     "fundguard_redis_commit_conflicts_total %llu\n",
                  (unsigned long long)d->st->conflicts);
    fg_buf_printf(b, "# TYPE fundguard_batch_retries_total counter\n"
                     "fundguard_batch_retries_total %llu\n",
                  (unsigned long long)d->batch_retries);
    fg_buf_printf(b, "# TYPE fundguard_batch_seconds histogram\n");
    for (int i = 0; i < LAT_BUCKETS; i++) {
        cum += d->lat_hist[i];
        fg_buf_printf(b, "fundguard_batch_seconds_bucket{le=\"%g\"} %llu\n",
                      (double)(1u << i) / 1000.0, (unsigned long long)cum);
    }
    cum += d->lat_hist[LAT_BUCKETS];
    fg_buf_printf(b, "fundguard_batch_seconds_bucket{le=\"+Inf\"} %llu\n"
                     "fundguard_batch_seconds_count %llu\n",
                  (unsigned long long)cum, (unsigned long long)d->batches);
    fg_buf_printf(b, "# HELP fundguard_batch_stage_seconds_total Wall time by stage: waiting "
                     "for messages, parsing, and of batch attempts: progress exchange, "
                     "state load, detection, alert delivery (producer flush), state "
                     "commit. The once-a-second idle tick is an empty batch and counts "
                     "too.\n"
                     "# TYPE fundguard_batch_stage_seconds_total counter\n");
    for (int i = 0; i < STAGES; i++)
        fg_buf_printf(b, "fundguard_batch_stage_seconds_total{stage=\"%s\"} %.6f\n",
                      stage_names[i], d->stage_s[i]);
    /* Consumer lag per partition, from librdkafka's statistics. */
    if (d->last_stats_json) {
        json_t *root = json_loads(d->last_stats_json, 0, NULL), *topics, *t, *parts, *p;
        const char *tn, *pn;
        fg_buf_printf(b, "# TYPE fundguard_consumer_lag gauge\n");
        topics = root ? json_object_get(root, "topics") : NULL;
        json_object_foreach(topics, tn, t) {
            parts = json_object_get(t, "partitions");
            json_object_foreach(parts, pn, p) {
                json_int_t lag = json_integer_value(json_object_get(p, "consumer_lag"));
                if (strcmp(pn, "-1") == 0 || lag < 0)
                    continue;
                fg_buf_printf(b, "fundguard_consumer_lag{topic=\"%s\",partition=\"%s\"} %lld\n",
                              tn, pn, (long long)lag);
            }
        }
        json_decref(root);
    }
}

static void metrics_open(struct daemon *d)
{
    char err[256] = "";
    const char *listen_on = fg_config_str(d->app.cfg, "metrics.listen", "", err, sizeof(err));
    struct sockaddr_in a = {0};
    int one = 1, port;
    char host[64];

    d->metrics_fd = -1;
    if (!listen_on || !*listen_on)
        return;
    if (sscanf(listen_on, "%63[^:]:%d", host, &port) != 2 || port <= 0 || port > 65535 ||
        strcmp(host, "127.0.0.1") != 0) {
        fg_log_error("msg=\"metrics.listen must be 127.0.0.1:PORT\" value=%s", listen_on);
        return;
    }
    d->metrics_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(d->metrics_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(d->metrics_fd, (struct sockaddr *)&a, sizeof(a)) || listen(d->metrics_fd, 16)) {
        fg_log_error("msg=\"cannot listen for metrics\" addr=%s error=\"%s\"", listen_on,
                     strerror(errno));
        close(d->metrics_fd);
        d->metrics_fd = -1;
        return;
    }
    fg_log_info("msg=\"metrics listening\" addr=%s", listen_on);
}

/* Answer pending scrapes; never blocks the consume loop for long. */
static void metrics_serve(struct daemon *d)
{
    struct fg_buf body, resp;
    int c;

    if (d->metrics_fd < 0)
        return;
    while ((c = accept(d->metrics_fd, NULL, NULL)) >= 0) {
        char req[1024];
        struct pollfd p = {c, POLLIN, 0};
        if (poll(&p, 1, 200) > 0 && read(c, req, sizeof(req)) > 0) {
            fg_buf_init(&body);
            fg_buf_init(&resp);
            metrics_text(d, &body);
            fg_buf_printf(&resp, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                                 "Content-Length: %zu\r\nConnection: close\r\n\r\n", body.len);
            fg_buf_append(&resp, body.data, body.len);
            for (size_t off = 0; off < resp.len;) {
                ssize_t w = write(c, resp.data + off, resp.len - off);
                if (w <= 0)
                    break;
                off += (size_t)w;
            }
            fg_buf_fini(&body);
            fg_buf_fini(&resp);
        }
        close(c);
    }
}

static void stats_line(struct daemon *d)
{
    const struct fg_engine_stats *s = fg_engine_stats(d->eng);
    fg_log_info("msg=stats events=%llu lines=%llu alerts=%llu quarantined=%llu duplicates=%llu "
                "batches=%llu batch_retries=%llu redis_round_trips=%llu "
                "deliveries_failed=%llu reloads=%llu",
                (unsigned long long)s->events, (unsigned long long)s->lines,
                (unsigned long long)s->alerts, (unsigned long long)d->quarantined,
                (unsigned long long)s->duplicates, (unsigned long long)d->batches,
                (unsigned long long)d->batch_retries, (unsigned long long)d->st->round_trips,
                (unsigned long long)d->deliveries_failed, (unsigned long long)d->reloads);
}

/* ---- the batch ---- */

static void set_paused(struct daemon *d, int pause)
{
    rd_kafka_topic_partition_list_t *parts = NULL;

    if (pause == d->paused || rd_kafka_assignment(d->consumer, &parts) || !parts)
        return;
    if (pause) {
        pause_list(d, parts, 1, 0);
    } else {
        /* Partitions held for their long queues stay paused. */
        for (int i = parts->cnt - 1; i >= 0; i--) {
            int p = parts->elems[i].partition;
            if (p >= 0 && p < d->nparts && d->parts[p].held &&
                strcmp(parts->elems[i].topic, d->topic_claims) == 0)
                rd_kafka_topic_partition_list_del_by_idx(parts, i);
        }
        pause_list(d, parts, 0, 0);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    d->paused = pause;
    fg_log_info("msg=\"consumption %s\"", pause ? "paused (back-pressure)" : "resumed");
}

/* The most deferred judgements a batch of n events takes along (0: all).
 * They become ready together when a day completes; taken a few per event
 * of the batches that follow, they add to each batch a share of work in
 * proportion to its own, not the whole backlog. */
static size_t due_limit(const struct daemon *d, size_t n)
{
    return (size_t)d->due_per_event * (n > 16 ? n : 16);
}

/* Adds the time since t to a stage; returns now. */
static double stage_done(struct daemon *d, int stage, double t)
{
    double now = now_s();

    d->stage_s[stage] += now - t;
    return now;
}

/* The batches before this one must run again before it (their commit,
 * read with this one's loads, failed; or, held, they were lost). */
#define FG_EPENDING (-100)

/* How an attempt leaves the batch's state: committed, its commit sent
 * (outcome read with the next batch), or held for a later commit. */
enum { COMMIT_NOW, COMMIT_SEND, COMMIT_HOLD };

static int pending_outcome(struct daemon *d);
static int pending_failed(struct daemon *d, int rerun);

/* Judge, deliver, commit: one attempt. COMMIT_SEND: the commit goes out
 * without waiting for its outcome (the batch joins d->pending, settled
 * with the next batch's loads). COMMIT_HOLD: the state's writes are kept
 * and the alerts' acknowledgements not waited for; both come with the
 * commit of the batches held (commit_held). Returns 0, FG_EAGAIN, or
 * FG_EPENDING. */
static int attempt(struct daemon *d, struct batch *b, int mode)
{
    struct exchange ex;
    double t;
    int rc, held = d->pending && !d->pending_sent;

    if (d->fault_stop == 2) {   /* fault injection: this attempt cannot run */
        d->fault_stop = 0;
        return FG_EAGAIN;
    }
    if (!held)   /* held batches' failed deliveries fail their commit */
        d->dr_failed = 0;
    fg_engine_mark_take(d->eng, &b->mark);
    /* Dead letters go out on every attempt: a duplicate in the DLQ topic
     * is harmless, a missing one is not. */
    for (size_t i = 0; i < b->nbad; i++)
        dead_letter(d, b->bad[i].m, b->bad[i].why);
    t = now_s();
    progress_begin(d, &ex, b->claims, b->srcs, b->nc);
    t = stage_done(d, ST_PROGRESS, t);
    fg_engine_set_due_limit(d->eng, b->due_max);
    rc = fg_engine_batch_begin(d->eng, b->claims, b->nc, &ex.x);
    progress_end(&ex);
    t = stage_done(d, ST_LOAD, t);
    /* The batch before: its outcome came with these loads. */
    if (pending_outcome(d) != FG_OK) {
        if (rc == FG_OK)
            fg_engine_batch_abort(d->eng);
        return FG_EPENDING;
    }
    for (size_t i = 0; i < b->nc && rc == FG_OK; i++)
        if (fg_engine_process(d->eng, b->claims[i], &b->srcs[i]))
            rc = FG_EAGAIN;
    t = stage_done(d, ST_DETECT, t);
    /* The state's writes travel to Redis (queued there, not applied)
     * while the broker acknowledges the alerts. */
    if (rc == FG_OK) {
        progress_publish(d);
        if (mode != COMMIT_HOLD)
            rc = fg_engine_batch_prepare(d->eng);
    }
    t = stage_done(d, ST_COMMIT, t);
    if (mode == COMMIT_HOLD) {
        rd_kafka_poll(d->producer, 0);   /* delivery reports so far */
        if (rc == FG_OK)
            rc = fg_engine_batch_hold(d->eng);
        else
            fg_engine_batch_abort(d->eng);
    } else {
        if (rd_kafka_flush(d->producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || d->dr_failed) {
            rc = FG_EAGAIN;
            fg_log_warn("msg=\"alerts not all delivered; batch will be retried\" failed=%llu",
                        (unsigned long long)d->dr_failed);
        }
        t = stage_done(d, ST_DELIVER, t);
        if (rc == FG_OK)
            rc = mode == COMMIT_SEND ? fg_engine_batch_send(d->eng)
                                     : fg_engine_batch_commit(d->eng);
        else
            fg_engine_batch_abort(d->eng);
    }
    stage_done(d, ST_COMMIT, t);
    if (rc != FG_OK) {
        fg_engine_mark_restore(d->eng, &b->mark);   /* the retry counts it once */
        if (held)   /* the batches held went with this one's state */
            rc = FG_EPENDING;
    }
    return rc;
}

static void store_offsets(struct daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);

    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(
            l, rd_kafka_topic_name(msgs[i]->rkt), msgs[i]->partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(msgs[i]->rkt),
                                                   msgs[i]->partition);
        if (msgs[i]->offset + 1 > tp->offset)
            tp->offset = msgs[i]->offset + 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(d->consumer, l);
    if (err)
        fg_log_warn("msg=\"offset store failed\" error=\"%s\"", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

#define PARSE_CHUNK 16

static void parse_one(struct parse_work *w, size_t i)
{
    rd_kafka_message_t *m = w->msgs[i];
    const char *text = m->payload ? m->payload : "";
    size_t len = m->payload ? m->len : 0;

    /* Trailing blanks are dropped as a replay drops them from a line, so
     * that both give a bad event the same reason. */
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
        len--;
    if (len > (64u << 20))
        snprintf(w->why[i], sizeof(w->why[i]), "event too large: %zu bytes", len);
    else if (fg_claim_parse(text, len, &w->claims[i], w->why[i], sizeof(w->why[i])))
        w->claims[i] = NULL;
}

static void parse_some(struct parse_work *w)
{
    size_t i;

    while ((i = atomic_fetch_add(&w->next, PARSE_CHUNK)) < w->n)
        for (size_t end = i + PARSE_CHUNK < w->n ? i + PARSE_CHUNK : w->n; i < end; i++)
            parse_one(w, i);
}

static void *parse_helper(void *arg)
{
    parse_some(arg);
    return NULL;
}

/* Queue what is being parsed: parse what is left alongside the helper,
 * then each message on its partition, in arrival order. */
static void receive_finish(struct daemon *d)
{
    struct parse_work *w = &d->parse;
    double t = now_s();

    if (!w->active)
        return;
    parse_some(w);
    if (w->threaded)
        pthread_join(w->helper, NULL);
    for (size_t i = 0; i < w->n; i++) {
        rd_kafka_message_t *m = w->msgs[i];
        struct item it = {m, w->claims[i], NULL};
        if (!it.claim)
            it.why = fg_strdup(w->why[i]);
        queue_push(d, m->partition < 0 ? 0 : m->partition, it);
    }
    for (int p = 0; p < d->nparts; p++)
        d->parts[p].inflight = 0;   /* one job at a time: none in flight now */
    free(w->msgs);
    free(w->claims);
    free(w->why);
    w->active = 0;
    stage_done(d, ST_PARSE, t);
}

/* Start parsing msgs[0..n) (the array is copied; the messages are ours
 * until queued) on a helper thread; what was in flight is queued first. */
static void receive_start(struct daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    struct parse_work *w = &d->parse;

    receive_finish(d);
    w->msgs = fg_malloc((n ? n : 1) * sizeof(*w->msgs));
    memcpy(w->msgs, msgs, n * sizeof(*msgs));
    for (size_t i = 0; i < n; i++)
        if (msgs[i]->partition >= 0 && msgs[i]->partition < d->nparts)
            d->parts[msgs[i]->partition].inflight++;
    w->n = n;
    w->claims = fg_calloc(n ? n : 1, sizeof(*w->claims));
    w->why = fg_calloc(n ? n : 1, sizeof(*w->why));
    atomic_store(&w->next, 0);
    w->threaded = n > PARSE_CHUNK && pthread_create(&w->helper, NULL, parse_helper, w) == 0;
    w->active = 1;
}

/* Parse and queue at once (on both cores when there are many). */
static void receive(struct daemon *d, rd_kafka_message_t **msgs, size_t n)
{
    receive_start(d, msgs, n);
    receive_finish(d);
}

/* Messages from the consumer: end-of-partition events mark the partition,
 * errors are logged, the rest is received: parsed at once, or (ahead) left
 * parsing while the caller judges what is queued already. */
static void take_in(struct daemon *d, rd_kafka_message_t **msgs, ssize_t got, int ahead)
{
    size_t n = 0;
    double now = got > 0 ? now_s() : 0;

    for (ssize_t i = 0; i < got; i++) {
        int p = msgs[i]->partition;
        if (p >= 0 && p < d->nparts)
            d->parts[p].heard = now;
        if (msgs[i]->err) {
            if (msgs[i]->err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR &&
                d->reassign_at <= 0) {
                /* librdkafka 2.0 does not retry a committed-offset fetch
                 * that failed this way, and never starts fetching the
                 * partitions: assign them again (once, a second later). */
                d->reassign_at = now_s() + 1.0;
                fg_log_warn("msg=\"committed offsets not fetched; assigning the partitions "
                            "again\" error=\"%s\"", rd_kafka_message_errstr(msgs[i]));
            } else if (msgs[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fg_log_warn("msg=\"consumer error\" error=\"%s\"",
                            rd_kafka_message_errstr(msgs[i]));
            else if (p >= 0 && p < d->nparts) {
                if (d->parts[p].eof_since <= 0)
                    d->parts[p].eof_since = now;
                d->parts[p].eof_ever = 1;
                d->parts[p].eof_offset = msgs[i]->offset;
                fault_pause(d, NULL, p);
            }
            rd_kafka_message_destroy(msgs[i]);
            continue;
        }
        if (p >= 0 && p < d->nparts)
            d->parts[p].eof_since = 0;
        msgs[n++] = msgs[i];
    }
    if (n && ahead)
        receive_start(d, msgs, n);
    else if (n)
        receive(d, msgs, n);
}

/*
 * The next batch, merged from the partition queues in event-time order
 * (each partition's own order kept). Partitions are read unevenly: one
 * fetch brings a partition's next megabyte, which may span days, and a
 * PRICE-OUTLIER judgement must wait until every partition has passed its
 * baseline days. So an event more than kafka.align_seconds of event time
 * ahead of a partition that has nothing queued (and is not at its end)
 * waits for that partition: catching up, partitions advance together and
 * few judgements are deferred. Live, every partition is near the present
 * and nothing waits. A wait is bounded: after a second, or with too much
 * queued, the batch is taken anyway (deferral keeps the verdicts right).
 */
static size_t take_batch(struct daemon *d, struct item *out, size_t max)
{
    size_t n = 0;
    int force = d->queued > (size_t)d->batch_size * 8 ||
                (d->blocked_since > 0 && now_s() - d->blocked_since >= 1.0);

    while (n < max) {
        int best = -1;
        int64_t t = 0;
        for (int p = 0; p < d->nparts; p++) {
            const struct part *q = &d->parts[p];
            if (q->qlen && (best < 0 || head_time(q) < t)) {
                best = p;
                t = head_time(q);
            }
        }
        if (best < 0)
            break;
        if (!force && d->align_s > 0 && t != INT64_MIN) {
            int wait = 0;
            for (int p = 0; p < d->nparts && !wait; p++) {
                const struct part *q = &d->parts[p];
                wait = q->owned && !q->qlen && q->eof_since <= 0 && q->caught_since <= 0 &&
                       (q->seen == FG_PROGRESS_UNKNOWN || t - q->seen > d->align_s);
            }
            if (wait) {
                if (d->blocked_since <= 0)
                    d->blocked_since = now_s();
                break;
            }
        }
        out[n++] = queue_pop(d, best);
    }
    if (n)
        d->blocked_since = 0;
    return n;
}

/* Assign the current partitions again, so that librdkafka fetches their
 * committed offsets anew. What is queued is dropped: it is read again
 * from the committed offsets (events judged twice are recognised by
 * event_id). */
static void reassign(struct daemon *d)
{
    rd_kafka_topic_partition_list_t *parts = NULL;

    d->reassign_at = 0;
    settle(d, 1);
    receive_finish(d);   /* dropped below with the rest of the queues */
    if (rd_kafka_assignment(d->consumer, &parts) || !parts)
        return;
    for (int p = 0; p < d->nparts; p++) {
        while (d->parts[p].qlen) {
            struct item it = queue_pop(d, p);
            item_free(&it);
        }
        d->parts[p].held = 0;
    }
    for (int i = 0; i < parts->cnt; i++)
        parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;   /* the committed offset */
    rd_kafka_assign(d->consumer, NULL);
    /* Resumed while unassigned (pause_list()): every one of them, for a
     * stalled partition may be one librdkafka holds paused unbeknown. */
    if (!d->paused)
        pause_list(d, parts, 0, 1);
    rd_kafka_assign(d->consumer, parts);
    if (d->paused)
        pause_list(d, parts, 1, 0);
    rd_kafka_topic_partition_list_destroy(parts);
    for (int p = 0; p < d->nparts; p++)
        d->parts[p].heard = now_s();
    d->reassigns++;
}

/* A partition's fetch state from librdkafka's last statistics, for the
 * log ("?" if they do not say). */
static void fetch_state(const struct daemon *d, int p, char *out, size_t len)
{
    json_t *root = d->last_stats_json ? json_loads(d->last_stats_json, 0, NULL) : NULL, *v;
    char pn[16];
    const char *path[] = {"topics", d->topic_claims, "partitions", pn, "fetch_state"};

    snprintf(pn, sizeof(pn), "%d", p);
    v = root;
    for (size_t i = 0; i < FG_ARRAY_LEN(path); i++)
        v = json_object_get(v, path[i]);
    snprintf(out, len, "%s", json_is_string(v) ? json_string_value(v) : "?");
    json_decref(root);
}

/*
 * A partition owned, neither paused nor held, with nothing queued or being
 * parsed, not caught up, and silent (no message, no end) for kafka.stall_ms
 * while librdkafka's queue is empty, is stalled: fetching, librdkafka
 * brings its messages or its end within fetch.wait.max.ms. librdkafka 2.0
 * can lose a partition's fetch start or resume (pause_list()) and then
 * neither fetches it nor says so. The partitions are assigned again, and
 * resumed (reassign()): once per kafka.stall_ms at most.
 *
 * A partition not fetched keeps the high watermark of its last fetch, so
 * one that went silent at its end looks caught up however much is written
 * to it since: a silent partition's high watermark is asked of the broker,
 * one partition per call and each at most once per kafka.stall_ms (an
 * idle partition costs one ListOffsets request per kafka.stall_ms). A
 * broker that cannot answer proves nothing.
 */
static void watch_stalls(struct daemon *d)
{
    double now = now_s();
    int asked = 0;

    if (d->stall_ms <= 0 || d->paused || d->retrying || d->reassign_at > 0 ||
        d->parse.active || rd_kafka_queue_length(d->queue) > 0)
        return;
    for (int p = 0; p < d->nparts; p++) {
        struct part *q = &d->parts[p];
        char state[32];
        if (!q->owned || q->held || q->lib_paused || q->qlen || q->inflight ||
            (now - q->heard) * 1000 < (double)d->stall_ms)
            continue;
        if (asked || (now - q->asked) * 1000 < (double)d->stall_ms)
            continue;
        asked = 1;
        q->asked = now;
        if (caught_up(d, p, 500) != 0)
            continue;   /* caught up, or the broker cannot tell */
        fetch_state(d, p, state, sizeof(state));
        fg_log_warn("msg=\"partition stalled: assigning the partitions again\" partition=%d "
                    "silent_ms=%.0f fetch_state=%s",
                    p, (now - q->heard) * 1000, state);
        d->stalls++;
        d->reassign_at = now;
        return;
    }
}

/* A partition whose queue is long is paused until it has shrunk, so that
 * the consumer fetches the others (and memory stays bounded). */
static void hold_partitions(struct daemon *d)
{
    rd_kafka_topic_partition_list_t *hold = NULL, *release = NULL;
    size_t high = (size_t)d->batch_size * 2;

    for (int p = 0; p < d->nparts; p++) {
        struct part *q = &d->parts[p];
        rd_kafka_topic_partition_list_t **l;
        if (!q->owned || q->held == (q->qlen > (q->held ? high / 2 : high)))
            continue;
        q->held = !q->held;
        d->holds += (uint64_t)q->held;
        l = q->held ? &hold : &release;
        if (!*l)
            *l = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_list_add(*l, d->topic_claims, p);
    }
    if (hold && !d->paused)
        pause_list(d, hold, 1, 0);
    if (release && !d->paused)
        pause_list(d, release, 0, 0);
    if (hold)
        rd_kafka_topic_partition_list_destroy(hold);
    if (release)
        rd_kafka_topic_partition_list_destroy(release);
}

/* Each event's partition progress once it is being judged: the bound
 * above with first = the earliest of its partition's events from it on
 * (itself, the rest of the batch, the queue). A backward pass. */
static void set_progress(struct daemon *d, struct fg_claim **claims,
                         struct fg_alert_source *srcs, size_t nc)
{
    int64_t *first = fg_malloc((size_t)(d->nparts ? d->nparts : 1) * sizeof(*first));

    for (int p = 0; p < d->nparts; p++)
        first[p] = queued_first(&d->parts[p]);
    for (size_t i = nc; i-- > 0;) {
        int p = srcs[i].partition;
        if (p < 0 || p >= d->nparts)
            continue;
        if (claims[i]->event_time < first[p])
            first[p] = claims[i]->event_time;
        srcs[i].progress = partition_bound(d, &d->parts[p], first[p]);
        if (srcs[i].progress == FG_PROGRESS_NOT_MINE)
            srcs[i].progress = 0;
    }
    free(first);
}

/* log.level=debug: a line per batch, with how long its oldest message
 * had waited (from the message's timestamp) and where the batch's time
 * went, stage by stage. */
static void batch_debug(const struct daemon *d, const struct batch *b)
{
    char stages[STAGES * 24] = "";
    size_t off = 0;
    int64_t oldest = INT64_MAX;
    struct timespec now;
    double started;

    for (size_t i = 0; i < b->n; i++) {
        int64_t ts = rd_kafka_message_timestamp(b->msgs[i], NULL);
        if (ts >= 0 && ts < oldest)
            oldest = ts;
    }
    for (int k = 0; k < STAGES && off < sizeof(stages); k++)
        off += (size_t)snprintf(stages + off, sizeof(stages) - off, " %s_ms=%.1f", stage_names[k],
                                (b->st1[k] - b->st0[k]) * 1000.0);
    clock_gettime(CLOCK_REALTIME, &now);
    /* the wall clock when the batch was taken in */
    started = (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6 -
              (now_s() - b->t0) * 1000.0;
    fg_log_debug("msg=batch events=%zu queued=%zu waited_ms=%.1f ms=%.1f%s", b->n, d->queued,
                 oldest == INT64_MAX ? 0.0 : started - (double)oldest, b->dt * 1000.0, stages);
}

static struct batch *batch_new(struct daemon *d, const struct item *items, size_t n)
{
    struct batch *b = fg_calloc(1, sizeof(*b));
    size_t cap = n ? n : 1;

    b->items = fg_malloc(cap * sizeof(*b->items));
    if (n)
        memcpy(b->items, items, n * sizeof(*items));
    b->n = n;
    b->msgs = fg_calloc(cap, sizeof(*b->msgs));
    b->claims = fg_calloc(cap, sizeof(*b->claims));
    b->srcs = fg_calloc(cap, sizeof(*b->srcs));
    b->bad = fg_calloc(cap, sizeof(*b->bad));
    b->t0 = now_s();
    memcpy(b->st0, d->stage_s, sizeof(b->st0));
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = items[i].m;
        b->msgs[i] = m;
        if (items[i].claim) {
            b->claims[b->nc] = items[i].claim;
            b->srcs[b->nc++] = (struct fg_alert_source){.topic = rd_kafka_topic_name(m->rkt),
                                                        .partition = m->partition,
                                                        .offset = m->offset};
        } else {
            b->bad[b->nbad].m = m;
            snprintf(b->bad[b->nbad++].why, sizeof(b->bad[0].why), "%s", items[i].why);
            d->quarantined++;
        }
    }
    set_progress(d, b->claims, b->srcs, b->nc);
    b->due_max = due_limit(d, b->nc);
    return b;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        item_free(&b->items[i]);
    fg_engine_mark_free(&b->mark);
    free(b->items);
    free(b->msgs);
    free(b->claims);
    free(b->srcs);
    free(b->bad);
    free(b);
}

/* A batch is done: committed (rc 0; its offsets are stored), or left
 * unfinished for redelivery. */
static void batch_finish(struct daemon *d, struct batch *b, int rc)
{
    if (rc == FG_OK) {
        advance_partitions(d, b->claims, b->srcs, b->nc);
        store_offsets(d, b->msgs, b->n);
    } else {
        fg_log_warn("msg=\"batch left unfinished; it will be redelivered\" events=%zu", b->n);
    }
    if (fg_log_level >= FG_LOG_DEBUG)
        batch_debug(d, b);
    int bucket = 0;
    while (bucket < LAT_BUCKETS && b->dt > (double)(1u << bucket) / 1000.0)
        bucket++;
    d->lat_hist[bucket]++;
    d->batches++;
    batch_free(b);
}

/* Attempts until the batch is judged and committed (with send: its commit
 * sent), backing off while the state or the broker is unavailable. Keeps
 * the group membership and the metrics alive meanwhile. */
static int batch_run(struct daemon *d, struct batch *b, int mode)
{
    double backoff = 0.1;
    int rc;

    for (;;) {
        rc = attempt(d, b, mode);
        if (rc == FG_EPENDING) {
            /* The batches before go again first (even when stopping:
             * their outcome is read, so they must finish here, run or
             * not), then this one at once: nothing of it was judged.
             * Unless one of them could not run: this one must not be
             * committed past it (its offsets would be stored past). */
            if (pending_failed(d, 1) != FG_OK)
                break;
            continue;
        }
        if (rc == FG_OK || g_stop)
            break;
        d->batch_retries++;
        d->retrying = 1;
        set_paused(d, 1);
        /* Wait out the backoff in short slices: keep the group membership
         * alive (poll the paused consumer: it returns no messages for
         * paused partitions) and keep answering metrics scrapes. */
        for (double until = now_s() + backoff; now_s() < until && !g_stop;) {
            metrics_serve(d);
            rd_kafka_message_t *extra = rd_kafka_consumer_poll(d->consumer, 100);
            if (extra && extra->err) {
                rd_kafka_message_destroy(extra);
            } else if (extra) {
                /* Fetched before the pause took effect: never dropped
                 * (later offsets of its partition would be stored past
                 * it); queued behind this batch. */
                receive(d, &extra, 1);
            }
        }
        backoff = backoff * 2 > 5 ? 5 : backoff * 2;
    }
    d->retrying = 0;
    if (rc == FG_OK)
        set_paused(d, 0);
    b->dt = now_s() - b->t0;
    memcpy(b->st1, d->stage_s, sizeof(b->st1));
    return rc;
}

/* Takes the pending batches out, in order. */
static struct batch *pending_take(struct daemon *d)
{
    struct batch *b = d->pending;

    d->pending = d->pending_tail = NULL;
    d->pending_sent = 0;
    return b;
}

/* The outcome of the pending batches' commit, read with the next batch's
 * loads (or waited for now). Committed: they are finished. Not: they
 * stay pending, and the caller must call pending_failed() next (the
 * outcome is read only once). Held batches have no outcome yet. */
static int pending_outcome(struct daemon *d)
{
    int rc;

    if (!d->pending || !d->pending_sent)
        return FG_OK;
    rc = fg_engine_batch_settle(d->eng);
    if (rc == FG_OK)
        for (struct batch *b = pending_take(d), *next; b; b = next) {
            next = b->next;
            batch_finish(d, b, FG_OK);
        }
    return rc;
}

/* The pending batches' commit failed, or, held, they were lost: nothing
 * of them was written. Their counters go back, and they run again now,
 * in order, each committed; without rerun (inside a rebalance, which must
 * not poll) they are left for redelivery, as is everything after one
 * that could not run (stopping): no later offset may be stored past it.
 * Returns 0 when they all ran, else FG_EAGAIN. */
static int pending_failed(struct daemon *d, int rerun)
{
    struct batch *b = pending_take(d), *next;
    size_t nb = 0, events = 0;
    int rc = FG_OK;

    fg_engine_mark_restore(d->eng, &b->mark);   /* the first's: before them all */
    for (next = b; next; next = next->next) {
        nb++;
        events += next->n;
    }
    fg_log_warn("msg=\"the last commit did not land; %s\" batches=%zu events=%zu",
                rerun ? "judging it again" : "leaving it for redelivery", nb, events);
    d->batch_retries++;
    for (; b; b = next) {
        next = b->next;
        b->next = NULL;
        rc = rerun && rc == FG_OK ? batch_run(d, b, COMMIT_NOW) : FG_EAGAIN;
        batch_finish(d, b, rc);
    }
    return rc;
}

/* The held batches' commit: their alerts acknowledged by the broker
 * first (state must never record an alert that may be lost), then their
 * writes in one transaction, sent; its outcome comes with the next
 * batch's loads. On failure nothing is written: FG_EAGAIN, and the
 * caller must call pending_failed() next. */
static int commit_held(struct daemon *d)
{
    double t = now_s();
    int rc = FG_OK;

    if (!d->pending || d->pending_sent)
        return FG_OK;
    if (rd_kafka_flush(d->producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || d->dr_failed) {
        rc = FG_EAGAIN;
        fg_log_warn("msg=\"alerts not all delivered; held batches will be retried\" "
                    "failed=%llu", (unsigned long long)d->dr_failed);
    }
    t = stage_done(d, ST_DELIVER, t);
    if (rc == FG_OK)
        rc = fg_engine_batch_send(d->eng);
    if (rc != FG_OK)
        fg_engine_batch_abort(d->eng);   /* the batches held go */
    stage_done(d, ST_COMMIT, t);
    if (rc == FG_OK)
        d->pending_sent = 1;
    return rc;
}

/* Milliseconds until the batches held are due for their commit (the
 * first held for state.commit_ms); HUGE_VAL when none is held. */
static double held_left_ms(const struct daemon *d)
{
    if (!d->pending || d->pending_sent)
        return HUGE_VAL;
    return (double)d->commit_ms - (now_s() - d->pending_t0) * 1000;
}

static int held_due(const struct daemon *d)
{
    return held_left_ms(d) <= 0;
}

/* Before anything that needs the batches in hand finished. */
static void settle(struct daemon *d, int rerun)
{
    if (commit_held(d) != FG_OK || pending_outcome(d) != FG_OK)
        pending_failed(d, rerun);
}

static void process_batch(struct daemon *d, struct item *items, size_t n)
{
    struct batch *b = batch_new(d, items, n);
    int hold = d->commit_ms > 0;
    int rc = batch_run(d, b, hold ? COMMIT_HOLD : COMMIT_SEND);

    if (rc == FG_OK) {
        /* Finished when its commit's outcome is read. */
        if (d->pending)
            d->pending_tail->next = b;
        else {
            d->pending = b;
            d->pending_t0 = now_s();
        }
        d->pending_tail = b;
        d->pending_sent = !hold;
        if (held_due(d) && commit_held(d) != FG_OK)
            pending_failed(d, 1);
        return;
    }
    fg_log_warn("msg=\"stopping with an unfinished batch; it will be redelivered\"");
    batch_finish(d, b, rc);
}

/* With no messages: once a second, let judgements deferred until now
 * complete days (an idle partition, a lagging one caught up) go out, as
 * many as a full batch would take; again at once while more are ready. A
 * failure is left for the next tick. */
static void tick(struct daemon *d)
{
    struct batch *b;

    if (now_s() - d->last_tick < 1.0 || d->paused)
        return;
    d->last_tick = now_s();
    /* An empty batch that takes a full batch's share, committed at once. */
    b = batch_new(d, NULL, 0);
    b->due_max = due_limit(d, (size_t)d->batch_size);
    if (attempt(d, b, 0) == FG_OK && fg_engine_due_more(d->eng))
        d->last_tick = 0;
    batch_free(b);
}

/* ---- reload ---- */

static void reload(struct daemon *d)
{
    struct fg_app fresh;

    g_reload = 0;
    settle(d, 1);   /* the batches in hand finish under the rules they were judged by */
    if (fg_app_open(&fresh, d->config, d->sets, d->nsets, 1)) {
        fg_log_error("msg=\"reload failed; keeping the rules in force\"");
        return;
    }
    /* Swap between batches: the engine borrows detectors and pack. */
    struct fg_app old = d->app;
    d->app = fresh;
    fg_engine_set_detectors(d->eng, &d->app.ds, d->app.pack);
    fg_app_close(&old);
    d->reloads++;
    fg_log_info("msg=\"reloaded\" rule_pack=%s", d->app.pack->ident);
}

/* ---- main ---- */

static char *config_dup(struct daemon *d, const char *key, const char *def)
{
    char err[512] = "";
    const char *v = fg_config_str(d->app.cfg, key, def, err, sizeof(err));

    if (!v || !*v) {
        if (!err[0])
            fg_config_error(d->app.cfg, key, err, sizeof(err), "must not be empty");
        fprintf(stderr, "fundguard: config error: %s\n", err);
        return NULL;
    }
    return fg_strdup(v);
}

static int run(struct daemon *d)
{
    char err[512] = "";
    const char *backend;
    rd_kafka_topic_partition_list_t *subs;
    struct fg_engine_opts eo = {0};
    rd_kafka_message_t **msgs;
    struct item *batch;
    double last_stats = now_s();
    struct sigaction sa = {0};

    json_object_seed(0);   /* seed Jansson's hash once, before parse threads */
    backend = fg_config_str(d->app.cfg, "state.backend", "redis", err, sizeof(err));
    if (!backend ||
        fg_config_int(d->app.cfg, "state.lateness_seconds", 86400, 0, 30LL * 86400,
                      &d->lateness, err, sizeof(err)) ||
        fg_config_int(d->app.cfg, "state.event_dedup_days", 30, 1, 3660, &d->dedup, err,
                      sizeof(err)) ||
        fg_config_int(d->app.cfg, "state.deferred_per_event", 16, 0, 1000000,
                      &d->due_per_event, err, sizeof(err)) ||
        fg_config_int(d->app.cfg, "kafka.batch_size", 500, 1, 100000, &d->batch_size, err,
                      sizeof(err)) ||
        fg_config_int(d->app.cfg, "kafka.idle_partition_ms", 10000, 100, 86400000,
                      &d->idle_ms, err, sizeof(err)) ||
        fg_config_int(d->app.cfg, "kafka.batch_ms", 20, 1, 60000, &d->batch_ms, err,
                      sizeof(err)) ||
        fg_config_int(d->app.cfg, "kafka.align_seconds", 3600, 0, 30LL * 86400, &d->align_s,
                      err, sizeof(err)) ||
        fg_config_int(d->app.cfg, "kafka.stall_ms", 10000, 0, 86400000, &d->stall_ms, err,
                      sizeof(err)) ||
        fg_config_int(d->app.cfg, "metrics.interval_seconds", 30, 1, 86400,
                      &d->stats_interval, err, sizeof(err)) ||
        fg_config_bool(d->app.cfg, "state.resident", 0, &d->resident, err, sizeof(err)) ||
        fg_config_int(d->app.cfg, "state.commit_ms", 0, 0, 60000, &d->commit_ms, err,
                      sizeof(err))) {
        fprintf(stderr, "fundguard: config error: %s\n", err);
        return FG_EXIT_CONFIG;
    }
    if (d->commit_ms && (!d->resident || strcmp(backend, "redis") != 0)) {
        fg_config_error(d->app.cfg, "state.commit_ms", err, sizeof(err),
                        "needs state.backend redis with state.resident true");
        fprintf(stderr, "fundguard: config error: %s\n", err);
        return FG_EXIT_CONFIG;
    }
    d->topic_claims = config_dup(d, "kafka.topics.claims", "claims");
    d->topic_alerts = config_dup(d, "kafka.topics.alerts", "alerts");
    d->topic_dlq = config_dup(d, "kafka.topics.dead_letter", "claims.dlq");
    if (!d->topic_claims || !d->topic_alerts || !d->topic_dlq)
        return FG_EXIT_CONFIG;
    if (strcmp(backend, "redis") == 0) {
        d->st = fg_app_redis_state(&d->app, "live", d->lateness, d->dedup, d->resident);
        if (!d->st)
            return FG_EXIT_CONFIG;
    } else if (strcmp(backend, "memory") == 0) {
        fg_log_warn("msg=\"state.backend=memory: state is lost on restart\"");
        d->st = fg_state_memory_new();
        d->resident = 0;   /* the whole state is in memory anyway */
    } else {
        fg_config_error(d->app.cfg, "state.backend", err, sizeof(err),
                        "expected redis or memory");
        fprintf(stderr, "fundguard: config error: %s\n", err);
        return FG_EXIT_CONFIG;
    }
    d->producer = make_client(d, RD_KAFKA_PRODUCER);
    d->consumer = d->producer ? make_client(d, RD_KAFKA_CONSUMER) : NULL;
    if (!d->consumer)
        return FG_EXIT_CONFIG;
    rd_kafka_poll_set_consumer(d->consumer);
    d->queue = rd_kafka_queue_get_consumer(d->consumer);
    subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, d->topic_claims, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(d->consumer, subs)) {
        fprintf(stderr, "fundguard: cannot subscribe to %s\n", d->topic_claims);
        rd_kafka_topic_partition_list_destroy(subs);
        return FG_EXIT_RUNTIME;
    }
    rd_kafka_topic_partition_list_destroy(subs);
    parts_grow(d, topic_partitions(d));

    eo.replay = 0;
    eo.lateness = d->lateness;
    eo.event_dedup_days = d->dedup;
    eo.out = alert_out;
    eo.out_opaque = d;
    d->eng = fg_engine_new(&d->app.ds, d->app.pack, d->st, &eo);
    metrics_open(d);

    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    fg_log_info("msg=started topic=%s group=%s alerts=%s dead_letter=%s state=%s rule_pack=%s",
                d->topic_claims, fg_config_str(d->app.cfg, "kafka.group_id", "fundguard", err,
                                               sizeof(err)),
                d->topic_alerts, d->topic_dlq, backend, d->app.pack->ident);

    msgs = fg_calloc((size_t)d->batch_size, sizeof(*msgs));
    batch = fg_calloc((size_t)d->batch_size, sizeof(*batch));
    while (!g_stop) {
        ssize_t got;
        size_t nb;
        /* A batch starts with the first message to arrive and takes what
         * else arrives within batch_ms of it, up to batch_size: a quiet
         * stream is judged as soon as an event comes, a busy one in full
         * batches. With events queued already, nothing is waited for
         * (unless the merge is waiting for a partition: then briefly). */
        int first_ms = !d->queued ? 100 : d->blocked_since > 0 ? 10 : 0;
        double left = held_left_ms(d);   /* held: not past their commit */
        if (left < first_ms)
            first_ms = left > 0 ? (int)left : 0;
        double t = now_s();
        msgs[0] = rd_kafka_consume_queue(d->queue, first_ms);
        got = msgs[0] ? 1 : 0;
        if (got && d->batch_size > 1) {
            ssize_t more = rd_kafka_consume_batch_queue(d->queue,
                                                        d->queued ? 0 : (int)d->batch_ms,
                                                        msgs + 1, (size_t)d->batch_size - 1);
            if (more > 0)
                got += more;
        }
        stage_done(d, ST_FETCH, t);
        /* With a batch to judge already queued, what came is parsed on
         * the helper thread meanwhile; else at once, on both cores. */
        take_in(d, msgs, got, d->queued > 0);
        /* The merge waits for a partition whose messages may sit behind
         * others' in librdkafka's queue: take in all that is there (up to
         * the queue bound) before deciding again. */
        while (d->blocked_since > 0 && d->queued < (size_t)d->batch_size * 8 &&
               (got = rd_kafka_consume_batch_queue(d->queue, 0, msgs,
                                                   (size_t)d->batch_size)) > 0)
            take_in(d, msgs, got, 0);
        if (d->reassign_at > 0 && now_s() >= d->reassign_at && !d->retrying)
            reassign(d);
        nb = take_batch(d, batch, (size_t)d->batch_size);
        if (!nb && d->parse.active) {
            receive_finish(d);
            nb = take_batch(d, batch, (size_t)d->batch_size);
        }
        if (nb) {
            /* Judging a batch is mostly waiting on Redis and the broker:
             * when catching up (librdkafka holds another half batch), what
             * it holds is parsed meanwhile. Not when keeping up: the next
             * batch then gathers for batch_ms as it comes, and batches
             * (and round trips per event) stay as few as without this. */
            if (!d->parse.active &&
                rd_kafka_queue_length(d->queue) >= (size_t)d->batch_size / 2 &&
                (got = rd_kafka_consume_batch_queue(d->queue, 0, msgs,
                                                    (size_t)d->batch_size)) > 0)
                take_in(d, msgs, got, 1);
            process_batch(d, batch, nb);
        } else if (d->pending && !d->pending_sent) {
            /* Held: committed when due, not because nothing came now. */
            if (held_due(d) && commit_held(d) != FG_OK)
                pending_failed(d, 1);
        } else {
            settle(d, 1);   /* nothing came to carry the last commit's outcome */
            tick(d);
        }
        receive_finish(d);
        hold_partitions(d);
        watch_stalls(d);
        rd_kafka_poll(d->producer, 0);
        metrics_serve(d);
        if (g_reload)
            reload(d);
        if (now_s() - last_stats >= (double)d->stats_interval) {
            stats_line(d);
            last_stats = now_s();
        }
    }
    if (d->fault_stop && d->pending && !d->pending_sent) {
        /* As when their alerts cannot all be delivered while stopping,
         * and then the first cannot run again (the store gone meanwhile):
         * the later ones must not be committed past it. */
        fg_log_warn("msg=\"fault injection: the batches held are lost at stop, and the first "
                    "cannot run again\"");
        fg_engine_batch_abort(d->eng);
        d->fault_stop = 2;
        pending_failed(d, 1);
    }
    settle(d, 1);
    receive_finish(d);   /* queued, then dropped with the queues: not judged */
    fg_log_info("msg=\"stopping: flushing producer and committing offsets\"");
    free(msgs);
    free(batch);
    rd_kafka_flush(d->producer, 10000);
    rd_kafka_commit(d->consumer, NULL, 0);
    rd_kafka_queue_destroy(d->queue);
    rd_kafka_consumer_close(d->consumer);
    stats_line(d);
    return FG_EXIT_OK;
}

int fg_cmd_run(int argc, char **argv)
{
    struct daemon d = {0};
    int rc;

    d.config = "config/fundguard.json";
    d.fault_pause = -1;
    if (getenv("FUNDGUARD_FAULT_PAUSE_PARTITION")) {
        char *end;
        long v = strtol(getenv("FUNDGUARD_FAULT_PAUSE_PARTITION"), &end, 10);
        d.fault_at_end = strcmp(end, "@end") == 0;
        if ((*end && !d.fault_at_end) || v < 0 || v > INT_MAX) {
            fprintf(stderr, "fundguard: FUNDGUARD_FAULT_PAUSE_PARTITION: not a partition\n");
            return FG_EXIT_USAGE;
        }
        d.fault_pause = (int)v;
    }
    d.fault_stop = getenv("FUNDGUARD_FAULT_LOSE_HELD_AT_STOP") != NULL;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            d.config = argv[++i];
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            d.sets = fg_realloc(d.sets, (d.nsets + 1) * sizeof(char *));
            d.sets[d.nsets++] = argv[++i];
        } else {
            fprintf(stderr, "usage: fundguard run -c FILE [--set KEY=VALUE...]\n");
            free(d.sets);
            return FG_EXIT_USAGE;
        }
    }
    rc = fg_app_open(&d.app, d.config, d.sets, d.nsets, 1);
    if (rc == FG_EXIT_OK)
        rc = run(&d);
    /* Messages must go before the handle that fetched them. */
    for (int p = 0; p < d.nparts; p++) {
        while (d.parts[p].qlen) {
            struct item it = queue_pop(&d, p);
            item_free(&it);
        }
        free(d.parts[p].q);
    }
    free(d.parts);
    if (d.consumer)
        rd_kafka_destroy(d.consumer);
    if (d.producer)
        rd_kafka_destroy(d.producer);
    if (d.metrics_fd > 0)
        close(d.metrics_fd);
    fg_engine_free(d.eng);
    fg_state_destroy(d.st);
    fg_app_close(&d.app);
    free(d.topic_claims);
    free(d.topic_alerts);
    free(d.topic_dlq);
    free(d.last_stats_json);
    free(d.sets);
    return rc;
}
