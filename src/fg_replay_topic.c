/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_replay_topic.c: `fundguard replay --topic T --from TIME [--to TIME]`,
 * an audit replay straight from the claims topic, by event time.
 *
 * It never joins a consumer group and never commits an offset: every
 * partition of T (from the topic's metadata) is assigned explicitly
 * (rd_kafka_assign) to a consumer with a private, throw-away group id
 * (librdkafka 2.0 wants one for assign(); it is never joined and nothing
 * is committed under it: auto commit is off and commit is never called).
 * The live group's offsets and the live Redis namespace are not touched:
 * state lives in replay:<run_id> (or the embedded store).
 *
 * The range rule (README "Audit replays"), with L = state.lateness_seconds.
 * Message timestamps are not event times: a producer stamps a message when
 * it sends it (usually after the event: timestamps run ahead of event
 * time), and clocks differ. The rule reads every event of [from, to)
 * provided (a) each message's timestamp is within L of its event time and
 * (b) no event arrives more than L behind the latest event time before it
 * in its partition (the lateness the live daemon tolerates anyway):
 *  - start: per partition, rd_kafka_offsets_for_times(from - L): every
 *    message before it is stamped before from - L, so by (a) its event is
 *    before from. When the broker names no offset (-1: every message is
 *    older, or a broker that cannot look times up, like the mock cluster),
 *    the partition's last message decides: stamped before from - L,
 *    nothing to read; else the answer is not trusted and the partition is
 *    read from its start (correct, only slower).
 *  - end: the high watermark queried at start (later messages are not
 *    read); or the first event whose event time is at or after to + L:
 *    by (b) nothing after it belongs before to; or the first message
 *    stamped at or after to + 2L (its event is at or after to + L by (a)),
 *    which also ends a partition whose tail is not valid events.
 *  - judged: exactly the events with from <= event_time < to; the others
 *    read are skipped (not judged, no state). Messages that are not valid
 *    events go to the dead-letter file with their topic, partition and
 *    offset.
 *
 * Order: the partitions are merged by event time, a k-way merge on each
 * partition's next event (ties by partition, then offset; fg_kmerge.h). The merge only
 * moves when every partition still being read has an event in hand, so
 * per-partition order is kept and the merged stream is the one a replay
 * of the same events in time order reads: `replay --topic` gives
 * byte-identical canonical alerts to `replay --input` of the range's
 * events sorted by (event_time, partition, offset), PRICE-OUTLIER
 * included. When a partition is itself out of event-time order (late
 * events), the merge keeps that partition's order, as live consumption
 * sees it. Messages are parsed on replay.parse_threads threads while the
 * previous round is judged; results are taken back in message order.
 */
#include "fg_replay.h"
#include "fg_common.h"
#include "fg_hash.h"
#include "fg_kafka.h"
#include "fg_kmerge.h"
#include "fg_time.h"

#include <errno.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* Messages taken from the consumer per round: small enough that parsing
 * one round overlaps judging the one before. */
#define ROUND_MAX 1024
#define QUEUE_HIGH 20000       /* pause a partition with this many waiting */
#define QUEUE_LOW 5000         /* and resume it below this */
#define META_TIMEOUT_MS 15000

/* An item waiting in the merge (key: its event time; a bad message takes
 * the event time of the message before it in its partition). */
struct titem {
    struct fg_claim *claim;      /* NULL: a bad message */
    rd_kafka_message_t *bad;     /* the bad message itself (raw bytes) */
    char *why;
};

struct tpart {
    int id;
    int64_t low, high;           /* watermarks at start */
    int64_t start, end;          /* read [start, end); end is final once done */
    const char *start_how, *end_how;
    int done, paused;
    int64_t last_key;            /* merge key of the latest message read */
    int64_t next;                /* offsets below were taken: never again */
    uint64_t messages, skipped, bad;
};

struct topic_replay {
    struct fg_replay *rp;
    const struct fg_replay_opts *o;
    rd_kafka_t *consumer, *producer;
    rd_kafka_queue_t *queue;
    struct tpart *parts;
    int nparts, ndone;
    struct fg_kmerge *km;        /* the partitions' items, merged by event time */
    int64_t read_from_ms;        /* from - L, ms */
    int64_t stop_ts_ms;          /* to + 2L, ms */
    int64_t stop_event;          /* to + L, s */
    int64_t reached;             /* event time of the last event judged */
    uint64_t dr_pending, dr_failed, produced;
    char group[128];
};

/* ---- librdkafka clients, configured as the daemon's ---- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct topic_replay *t = opaque;
    (void)rk;
    if (t->dr_pending)
        t->dr_pending--;
    if (m->err) {
        t->dr_failed++;
        fg_log_warn("msg=\"alert delivery failed\" topic=%s error=\"%s\"",
                    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    }
}

static rd_kafka_t *make_client(struct topic_replay *t, rd_kafka_type_t type)
{
    /* Not overridable: a private group id that is never joined, no
     * commits, an error (not a silent jump) when the range is gone, and
     * end-of-partition events. */
    const char *const consumer_fixed[] = {
        "group.id", t->group, "enable.auto.commit", "false",
        "enable.auto.offset.store", "false", "auto.offset.reset", "error",
        "enable.partition.eof", "true", NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512] = "";
    int consumer = type == RD_KAFKA_CONSUMER;
    rd_kafka_t *rk;

    rd_kafka_conf_set_opaque(conf, t);
    if (fg_kafka_set(conf, "client.id", consumer ? "fundguard-replay" : "fundguard-replay-alerts",
                     err, sizeof(err)) ||
        (!consumer && fg_kafka_set_all(conf, fg_kafka_producer_defaults, err, sizeof(err))) ||
        fg_kafka_conf(t->rp->app.cfg, conf, consumer ? "consumer" : "producer",
                      FG_KAFKA_OWN_GROUP, err, sizeof(err)) ||
        fg_kafka_set_all(conf, consumer ? consumer_fixed : fg_kafka_producer_fixed, err,
                         sizeof(err)))
        goto fail;
    if (!consumer)
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rk = fg_kafka_new(type, conf, t->rp->app.cfg, consumer ? "consumer" : "producer", err,
                      sizeof(err));   /* takes conf */
    if (!rk)
        fprintf(stderr, "fundguard: config error: %s\n", err);
    return rk;
fail:
    fprintf(stderr, "fundguard: config error: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* ---- alerts to a topic ---- */

static int emit_to_topic(void *opaque, const char *json, size_t len, const char *key)
{
    struct topic_replay *t = opaque;

    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            t->producer, RD_KAFKA_V_TOPIC(t->o->output_topic),
            RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE((void *)json, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (!err) {
            t->dr_pending++;
            t->produced++;
            rd_kafka_poll(t->producer, 0);
            return 0;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "fundguard: cannot produce to %s: %s\n", t->o->output_topic,
                    rd_kafka_err2str(err));
            t->dr_failed++;
            return -1;
        }
        rd_kafka_poll(t->producer, 100);   /* local queue full: let it drain */
    }
}

/* Flush and check every delivery report. Returns 0 when all arrived. */
static int producer_drain(void *opaque)
{
    struct topic_replay *t = opaque;
    double until = fg_replay_now() + 120;

    while (rd_kafka_outq_len(t->producer) > 0 && fg_replay_now() < until)
        rd_kafka_flush(t->producer, 1000);
    if (rd_kafka_outq_len(t->producer) > 0) {
        fprintf(stderr, "fundguard: %d alerts still undelivered to %s after 120 s\n",
                rd_kafka_outq_len(t->producer), t->o->output_topic);
        return -1;
    }
    if (t->dr_failed) {
        fprintf(stderr, "fundguard: %llu of %llu alerts could not be delivered to %s\n",
                (unsigned long long)t->dr_failed, (unsigned long long)t->produced,
                t->o->output_topic);
        return -1;
    }
    return 0;
}

/* ---- offsets ---- */

static int topic_metadata(struct topic_replay *t)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(t->consumer, t->o->topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err;
    int rc = -1;

    err = rd_kafka_metadata(t->consumer, 0, rkt, &md, META_TIMEOUT_MS);
    if (err) {
        fprintf(stderr, "fundguard: cannot read the metadata of topic %s: %s\n", t->o->topic,
                rd_kafka_err2str(err));
    } else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
        fprintf(stderr, "fundguard: topic %s: %s\n", t->o->topic,
                md->topic_cnt == 1 && md->topics[0].err
                    ? rd_kafka_err2str(md->topics[0].err) : "no partitions");
    } else {
        t->nparts = md->topics[0].partition_cnt;
        t->parts = fg_calloc((size_t)t->nparts, sizeof(*t->parts));
        /* Metadata lists partitions in any order: index them by id. */
        for (int i = 0; i < t->nparts; i++)
            t->parts[i].id = i;
        rc = 0;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

/*
 * The timestamps of the last message of the partitions in l (offsets set
 * to high - 1) into ts[partition], -1 where none could be read in 30 s.
 * A consumer of its own, so that nothing of these reads (a message, an
 * end-of-partition event) can reach the replay's consumer.
 */
static void last_timestamps(struct topic_replay *t, rd_kafka_topic_partition_list_t *l,
                            int64_t *ts)
{
    rd_kafka_t *rk;
    double until = fg_replay_now() + 30;
    int left = l->cnt;
    char *group = t->group + strlen(t->group);

    snprintf(group, sizeof(t->group) - strlen(t->group), "-probe");
    rk = make_client(t, RD_KAFKA_CONSUMER);
    *group = '\0';
    if (!rk)
        return;
    if (rd_kafka_assign(rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        while (left > 0 && fg_replay_now() < until) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
            if (!m)
                continue;
            rd_kafka_topic_partition_t *e =
                m->partition >= 0 ? rd_kafka_topic_partition_list_find(l, t->o->topic,
                                                                       m->partition)
                                  : NULL;
            if (e && !e->metadata && (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                                      (!m->err && m->offset >= e->offset))) {
                if (!m->err)
                    ts[m->partition] = rd_kafka_message_timestamp(m, NULL);
                e->metadata = (void *)1;   /* this one is answered */
                left--;
            }
            rd_kafka_message_destroy(m);
        }
        for (int i = 0; i < l->cnt; i++)
            l->elems[i].metadata = NULL;
        rd_kafka_assign(rk, NULL);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* Watermarks, then start offsets (see the range rule at the top). */
static int resolve_offsets(struct topic_replay *t)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(t->nparts);
    rd_kafka_topic_partition_list_t *probe = NULL;
    int64_t *last_ts = NULL;
    rd_kafka_resp_err_t err;
    int rc = -1;

    for (int i = 0; i < t->nparts; i++) {
        struct tpart *p = &t->parts[i];
        err = rd_kafka_query_watermark_offsets(t->consumer, t->o->topic, p->id, &p->low,
                                               &p->high, META_TIMEOUT_MS);
        if (err) {
            fprintf(stderr, "fundguard: cannot query the offsets of %s [%d]: %s\n",
                    t->o->topic, p->id, rd_kafka_err2str(err));
            goto out;
        }
        rd_kafka_topic_partition_list_add(l, t->o->topic, p->id)->offset = t->read_from_ms;
    }
    err = rd_kafka_offsets_for_times(t->consumer, l, META_TIMEOUT_MS);
    if (err) {
        fprintf(stderr, "fundguard: cannot look up offsets by time in %s: %s\n", t->o->topic,
                rd_kafka_err2str(err));
        goto out;
    }
    probe = rd_kafka_topic_partition_list_new(t->nparts);
    last_ts = fg_malloc((size_t)t->nparts * sizeof(*last_ts));
    for (int i = 0; i < t->nparts; i++) {
        struct tpart *p = &t->parts[i];
        rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_find(l, t->o->topic, p->id);
        int64_t off = e && !e->err ? e->offset : -1;

        last_ts[i] = -1;
        p->end = p->high;
        p->end_how = "high_watermark";
        p->last_key = INT64_MIN;
        if (p->low >= p->high) {
            p->start = p->high;
            p->start_how = "empty";
        } else if (off >= 0) {
            p->start = off < p->low ? p->low : off > p->high ? p->high : off;
            p->start_how = "timestamp";
        } else {
            /* No offset for the time: trust that only if the last message
             * is indeed older than from - L (below). */
            p->start = p->low;
            p->start_how = "low_watermark";
            rd_kafka_topic_partition_list_add(probe, t->o->topic, p->id)->offset = p->high - 1;
        }
    }
    if (probe->cnt)
        last_timestamps(t, probe, last_ts);
    int from_start = 0;
    for (int i = 0; i < probe->cnt; i++) {
        struct tpart *p = &t->parts[probe->elems[i].partition];
        if (last_ts[p->id] >= 0 && last_ts[p->id] < t->read_from_ms) {
            p->start = p->high;
            p->start_how = "timestamp";
        } else {
            from_start++;
        }
    }
    if (from_start)
        fg_log_info("msg=\"the broker gave no offset for the start time; reading those "
                    "partitions from their start\" topic=%s partitions=%d", t->o->topic,
                    from_start);
    for (int i = 0; i < t->nparts; i++)
        t->parts[i].next = t->parts[i].start;
    rc = 0;
out:
    rd_kafka_topic_partition_list_destroy(l);
    if (probe)
        rd_kafka_topic_partition_list_destroy(probe);
    free(last_ts);
    return rc;
}

/* ---- the merge ---- */

static void finish_part(struct topic_replay *t, struct tpart *p, int64_t end, const char *how)
{
    rd_kafka_topic_partition_list_t *l;

    if (p->done)
        return;
    p->done = 1;
    p->end = end;
    p->end_how = how;
    t->ndone++;
    fg_kmerge_end(t->km, p->id);
    fg_log_debug("msg=\"partition done\" topic=%s partition=%d end_offset=%lld end=%s "
                 "messages=%llu", t->o->topic, p->id, (long long)end, how,
                 (unsigned long long)p->messages);
    /* Stop fetching it: nothing more of it is read. */
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, t->o->topic, p->id);
    rd_kafka_pause_partitions(t->consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static void set_paused(struct topic_replay *t, struct tpart *p, int pause)
{
    rd_kafka_topic_partition_list_t *l;

    if (p->done || p->paused == pause)
        return;
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, t->o->topic, p->id);
    if (pause)
        rd_kafka_pause_partitions(t->consumer, l);
    else
        rd_kafka_resume_partitions(t->consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
    p->paused = pause;
}

static void item_free(void *ptr)
{
    struct titem *it = ptr;

    fg_claim_free(it->claim);
    if (it->bad)
        rd_kafka_message_destroy(it->bad);
    free(it->why);
    free(it);
}

/* Hand on events in merged order while the merge allows (fg_kmerge.h:
 * every partition still being read has an event in hand). */
static int merge(struct topic_replay *t)
{
    struct fg_kmerge_item mi;
    int pid;

    while (fg_kmerge_pop(t->km, &pid, &mi)) {
        struct titem *it = mi.ptr;
        struct tpart *p = &t->parts[pid];
        struct fg_alert_source src = {.topic = t->o->topic, .partition = p->id,
                                      .offset = (long long)mi.seq};
        int rc;
        if (it->claim) {
            t->reached = it->claim->event_time;
            rc = fg_replay_event(t->rp, it->claim, &src);
            it->claim = NULL;   /* the session owns it */
        } else {
            rc = fg_replay_quarantine(t->rp, it->why, &src,
                                      it->bad->payload ? it->bad->payload : "", it->bad->len);
        }
        item_free(it);
        if (p->paused && fg_kmerge_waiting(t->km, pid) < QUEUE_LOW)
            set_paused(t, p, 0);
        if (rc)
            return rc;
    }
    return FG_EXIT_OK;
}

/* ---- parsing a round on several threads ---- */

/*
 * A round: the messages one consume call returned, in the order the
 * consumer delivered them (per partition, offset order). Its valid
 * messages are parsed on replay.parse_threads threads while the main
 * thread judges the previous round, so parsing (the wall of a replay)
 * overlaps judging; results are taken back in message order.
 */
#define MAX_PARSERS 64

struct parse_job {
    rd_kafka_message_t **msgs;
    size_t from, to;
    size_t max_bytes;
    struct fg_claim **claims;
    char (*why)[256];
};

struct round {
    rd_kafka_message_t **msgs;   /* everything delivered, events and errors */
    size_t n;
    rd_kafka_message_t **good;   /* the messages to parse, in order */
    size_t ngood;
    struct fg_claim **claims;    /* [ngood] */
    char (*why)[256];            /* [ngood] */
    struct parse_job jobs[MAX_PARSERS];
    pthread_t tids[MAX_PARSERS];
    int started[MAX_PARSERS];
    int njobs;
};

static void *parse_range(void *arg)
{
    struct parse_job *j = arg;

    for (size_t i = j->from; i < j->to; i++) {
        rd_kafka_message_t *m = j->msgs[i];
        j->claims[i] = NULL;
        if (m->len > j->max_bytes)
            snprintf(j->why[i], sizeof(j->why[i]), "event too large: %zu bytes > %zu", m->len,
                     j->max_bytes);
        else if (fg_claim_parse(m->payload ? m->payload : "", m->len, &j->claims[i], j->why[i],
                                sizeof(j->why[i])))
            j->claims[i] = NULL;
    }
    return NULL;
}

static void round_init(struct round *r)
{
    memset(r, 0, sizeof(*r));
    r->msgs = fg_calloc(ROUND_MAX, sizeof(*r->msgs));
    r->good = fg_calloc(ROUND_MAX, sizeof(*r->good));
    r->claims = fg_calloc(ROUND_MAX, sizeof(*r->claims));
    r->why = fg_calloc(ROUND_MAX, sizeof(*r->why));
}

static void round_fini(struct round *r)
{
    free(r->msgs);
    free(r->good);
    free(r->claims);
    free(r->why);
}

static int is_event_msg(const struct topic_replay *t, const rd_kafka_message_t *m)
{
    return !m->err && m->partition >= 0 && m->partition < t->nparts;
}

/* Start parsing the round's messages on worker threads (at least 256
 * messages a thread, else inline). */
static void parse_start(struct topic_replay *t, struct round *r)
{
    size_t n;
    int nt = (int)t->rp->threads;

    r->ngood = 0;
    for (size_t i = 0; i < r->n; i++)
        if (is_event_msg(t, r->msgs[i]))
            r->good[r->ngood++] = r->msgs[i];
    n = r->ngood;
    if (nt > MAX_PARSERS)
        nt = MAX_PARSERS;
    if ((size_t)nt > n / 256)
        nt = (int)(n / 256);
    if (nt < 1)
        nt = 1;
    r->njobs = nt;
    for (int k = 0; k < nt; k++) {
        r->jobs[k] = (struct parse_job){r->good, n * (size_t)k / (size_t)nt,
                                        n * (size_t)(k + 1) / (size_t)nt,
                                        (size_t)t->rp->max_bytes, r->claims, r->why};
        r->started[k] = n >= 256 && pthread_create(&r->tids[k], NULL, parse_range,
                                                   &r->jobs[k]) == 0;
        if (!r->started[k])
            parse_range(&r->jobs[k]);
    }
}

static void parse_wait(struct round *r)
{
    for (int k = 0; k < r->njobs; k++)
        if (r->started[k])
            pthread_join(r->tids[k], NULL);
}

/* One message of a round, in its partition's order (see the range rule). */
static void take(struct topic_replay *t, rd_kafka_message_t *m, struct fg_claim *claim,
                 const char *why)
{
    struct tpart *p = &t->parts[m->partition];
    int64_t ts, off;

    if (p->done || m->offset < p->next) {
        fg_claim_free(claim);
        rd_kafka_message_destroy(m);
        return;
    }
    if (m->offset >= p->end) {
        finish_part(t, p, p->end, "high_watermark");
        fg_claim_free(claim);
        rd_kafka_message_destroy(m);
        return;
    }
    ts = rd_kafka_message_timestamp(m, NULL);
    if (ts >= 0 && ts >= t->stop_ts_ms) {
        finish_part(t, p, m->offset, "message_timestamp");
        fg_claim_free(claim);
        rd_kafka_message_destroy(m);
        return;
    }
    if (claim && claim->event_time >= t->stop_event) {
        finish_part(t, p, m->offset, "event_time");
        fg_claim_free(claim);
        rd_kafka_message_destroy(m);
        return;
    }
    off = m->offset;
    p->next = off + 1;
    p->messages++;
    if (!claim) {
        struct titem *it = fg_calloc(1, sizeof(*it));
        it->bad = m;   /* the item owns the message now */
        it->why = fg_strdup(why);
        m = NULL;
        p->bad++;
        fg_kmerge_push(t->km, p->id, p->last_key, off, it);
    } else if (claim->event_time < t->o->from || claim->event_time >= t->o->to) {
        p->last_key = claim->event_time;
        p->skipped++;
        t->rp->out_of_range++;
        fg_claim_free(claim);
    } else {
        struct titem *it = fg_calloc(1, sizeof(*it));
        it->claim = claim;
        p->last_key = claim->event_time;
        fg_kmerge_push(t->km, p->id, claim->event_time, off, it);
    }
    if (m)
        rd_kafka_message_destroy(m);
    if (off + 1 >= p->end)
        finish_part(t, p, p->end, "high_watermark");
    if (!p->done && fg_kmerge_waiting(t->km, p->id) >= QUEUE_HIGH)
        set_paused(t, p, 1);
}

static void progress_line(struct topic_replay *t)
{
    const struct fg_engine_stats *s = fg_engine_stats(t->rp->eng);
    double secs = fg_replay_now() - t->rp->t0;
    char when[40] = "-";

    if (t->reached)
        fg_time_format_iso(t->reached, when, sizeof(when));
    fprintf(stderr, "\rreplay %s: partitions %d/%d done, events=%llu alerts=%llu "
                    "quarantined=%llu events/s=%.0f event time %s   ",
            t->o->topic, t->ndone, t->nparts, (unsigned long long)s->events,
            (unsigned long long)s->alerts, (unsigned long long)t->rp->quarantined,
            secs > 0 ? (double)s->events / secs : 0.0, when);
}

/* A parsed round, in the order it came: an end-of-partition event counts
 * only after the messages before it. Every message is consumed here.
 * Returns FG_EXIT_OK, or FG_EXIT_RUNTIME when the range cannot be read. */
static int take_round(struct topic_replay *t, struct round *r)
{
    size_t k = 0;
    int rc = FG_EXIT_OK;

    for (size_t i = 0; i < r->n; i++) {
        rd_kafka_message_t *m = r->msgs[i];
        if (is_event_msg(t, m)) {
            take(t, m, r->claims[k], r->why[k]);
            k++;
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->partition >= 0 &&
            m->partition < t->nparts) {
            struct tpart *p = &t->parts[m->partition];
            if (m->offset >= p->end)
                finish_part(t, p, p->end, "high_watermark");
        } else if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                   m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
                   m->err == RD_KAFKA_RESP_ERR__FATAL ||
                   m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                   m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
            /* The range cannot be read whole (deleted by retention, or no
             * access): an audit replay must not pretend it was. */
            fprintf(stderr, "fundguard: cannot read %s [%d]: %s\n", t->o->topic,
                    m->partition, rd_kafka_message_errstr(m));
            rc = FG_EXIT_RUNTIME;
        } else if (m->err) {
            fg_log_warn("msg=\"consumer error\" topic=%s partition=%d error=\"%s\"",
                        t->o->topic, m->partition, rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    r->n = 0;
    return rc;
}

/* Assign every partition with something to read and run to the end:
 * fetch and parse round k while round k - 1 is judged. */
static int consume(struct topic_replay *t)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(t->nparts);
    struct round *rounds = fg_calloc(2, sizeof(*rounds)), *cur = &rounds[0],
                 *prev = &rounds[1];
    rd_kafka_resp_err_t err;
    int rc = FG_EXIT_OK, have_prev = 0;

    round_init(&rounds[0]);
    round_init(&rounds[1]);
    for (int i = 0; i < t->nparts; i++) {
        struct tpart *p = &t->parts[i];
        if (p->start >= p->end) {
            p->done = 1;
            t->ndone++;
            fg_kmerge_end(t->km, p->id);
            continue;
        }
        rd_kafka_topic_partition_list_add(l, t->o->topic, p->id)->offset = p->start;
    }
    if (l->cnt && (err = rd_kafka_assign(t->consumer, l)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "fundguard: cannot assign the partitions of %s: %s\n", t->o->topic,
                rd_kafka_err2str(err));
        rc = FG_EXIT_RUNTIME;
    }
    rd_kafka_topic_partition_list_destroy(l);
    t->queue = rd_kafka_queue_get_consumer(t->consumer);

    for (;;) {
        int more = rc == FG_EXIT_OK && t->ndone < t->nparts;
        if (more) {
            /* With a round in hand, take what has arrived and move on. */
            ssize_t got = rd_kafka_consume_batch_queue(t->queue, have_prev ? 0 : 200,
                                                       cur->msgs, ROUND_MAX);
            cur->n = got > 0 ? (size_t)got : 0;
            parse_start(t, cur);
        }
        if (have_prev) {
            int trc = take_round(t, prev);
            if (rc == FG_EXIT_OK)
                rc = trc;
            if (rc == FG_EXIT_OK)
                rc = merge(t);
            have_prev = 0;
        }
        if (!more)
            break;
        parse_wait(cur);
        struct round *tmp = prev;
        prev = cur;
        cur = tmp;
        have_prev = 1;
        if (fg_replay_progress_due(t->rp))
            progress_line(t);
    }
    if (rc == FG_EXIT_OK)
        rc = merge(t);
    if (t->rp->progress)
        progress_line(t);
    round_fini(&rounds[0]);
    round_fini(&rounds[1]);
    free(rounds);
    return rc;
}

/* ---- run id and manifest input ---- */

/* --run-id, or derived from the topic, the range and the offsets read, so
 * the same replay of the same topic content maps to the same namespace. */
static void topic_run_id(const struct topic_replay *t, char *buf, size_t size)
{
    char tmp[128];
    uint64_t h;

    if (t->o->run_id) {
        snprintf(buf, size, "%s", t->o->run_id);
        return;
    }
    h = fg_hash64_str(t->o->topic);
    snprintf(tmp, sizeof(tmp), "%lld:%lld", (long long)t->o->from, (long long)t->o->to);
    h ^= fg_hash64_str(tmp) + (h << 6) + (h >> 2);
    for (int i = 0; i < t->nparts; i++) {
        snprintf(tmp, sizeof(tmp), "%d:%lld:%lld", t->parts[i].id, (long long)t->parts[i].start,
                 (long long)t->parts[i].high);
        h ^= fg_hash64_str(tmp) + (h << 6) + (h >> 2);
    }
    snprintf(buf, size, "topic-%016llx", (unsigned long long)h);
}

static json_t *input_json(const struct topic_replay *t)
{
    char from[40], to[40], rf[40], st[40], sts[40], err[256];
    json_t *parts = json_array();
    const char *boot = fg_config_str(t->rp->app.cfg, "kafka.bootstrap_servers",
                                     "127.0.0.1:9092", err, sizeof(err));

    for (int i = 0; i < t->nparts; i++) {
        const struct tpart *p = &t->parts[i];
        json_array_append_new(
            parts, json_pack("{s:i, s:I, s:I, s:I, s:s, s:I, s:s, s:I, s:I, s:I}", "partition",
                             p->id, "low_watermark", (json_int_t)p->low, "high_watermark",
                             (json_int_t)p->high, "start_offset", (json_int_t)p->start,
                             "start", p->start_how, "end_offset", (json_int_t)p->end, "end",
                             p->end_how, "messages", (json_int_t)p->messages,
                             "out_of_range", (json_int_t)p->skipped, "quarantined",
                             (json_int_t)p->bad));
    }
    fg_time_format_iso(t->o->from, from, sizeof(from));
    fg_time_format_iso(t->o->to, to, sizeof(to));
    fg_time_format_iso(t->read_from_ms / 1000, rf, sizeof(rf));
    fg_time_format_iso(t->stop_event, st, sizeof(st));
    fg_time_format_iso(t->stop_ts_ms / 1000, sts, sizeof(sts));
    return json_pack("{s:s, s:s, s:s?, s:s, s:s, s:b, s:I, s:s, s:s, s:s, s:o}", "kind",
                     "topic", "topic", t->o->topic, "bootstrap_servers", boot, "from", from,
                     "to", to, "to_given", t->o->to_text != NULL, "lateness_seconds",
                     (json_int_t)t->rp->lateness, "start_timestamp", rf,
                     "stop_event_time", st, "stop_timestamp", sts, "partitions", parts);
}

int fg_replay_topic(const struct fg_replay_opts *o)
{
    struct fg_replay rp;
    struct topic_replay t = {0};
    char run_id[96], summary[256], err[512] = "";
    const char *live_alerts;
    int rc, *scopes = NULL;

    rc = fg_replay_open(&rp, o);
    if (rc != FG_EXIT_OK) {
        fg_replay_close(&rp);
        return rc;
    }
    t.rp = &rp;
    t.o = o;
    /* Negative times mean "end"/"beginning" to offsets_for_times. */
    t.read_from_ms = o->from - rp.lateness > 0 ? (o->from - rp.lateness) * 1000 : 0;
    t.stop_ts_ms = (o->to + 2 * rp.lateness) * 1000;
    t.stop_event = o->to + rp.lateness;
    /* Alerts of an audit replay never go into the live alert topic. */
    live_alerts = fg_config_str(rp.app.cfg, "kafka.topics.alerts", "alerts", err, sizeof(err));
    if (o->output_topic && live_alerts && strcmp(o->output_topic, live_alerts) == 0) {
        fprintf(stderr, "fundguard replay: --output-topic %s is the live alert topic "
                        "(kafka.topics.alerts); name another\n", o->output_topic);
        fg_replay_close(&rp);
        return FG_EXIT_USAGE;
    }
    snprintf(t.group, sizeof(t.group), "fundguard-replay-%ld-%lld", (long)getpid(),
             (long long)(fg_replay_now() * 1000));
    t.consumer = make_client(&t, RD_KAFKA_CONSUMER);
    if (t.consumer)
        rd_kafka_poll_set_consumer(t.consumer);   /* client errors come with messages */
    if (o->output_topic && t.consumer)
        t.producer = make_client(&t, RD_KAFKA_PRODUCER);
    if (!t.consumer || (o->output_topic && !t.producer)) {
        rc = FG_EXIT_CONFIG;
        goto out;
    }
    if (topic_metadata(&t)) {
        rc = FG_EXIT_RUNTIME;
        goto out;
    }
    t.km = fg_kmerge_new(t.nparts);
    if (resolve_offsets(&t)) {
        rc = FG_EXIT_RUNTIME;
        goto out;
    }
    topic_run_id(&t, run_id, sizeof(run_id));
    rc = fg_replay_start(&rp, run_id);
    if (rc != FG_EXIT_OK)
        goto out;
    if (t.producer) {
        rp.emit = emit_to_topic;
        rp.drain = producer_drain;
        rp.emit_opaque = &t;
    }
    rc = consume(&t);
    /* Deferred judgements (none in one ordered stream) are kept per
     * partition: every partition is this replay's. */
    scopes = fg_malloc((size_t)(t.nparts + 1) * sizeof(*scopes));
    scopes[0] = -1;
    for (int i = 0; i < t.nparts; i++)
        scopes[i + 1] = t.parts[i].id;
    if (rc == FG_EXIT_OK)
        rp.input_json = input_json(&t);
    /* Alerts of the last batch are emitted by finish, and every delivery
     * is checked (producer_drain) before the manifest can vouch for them. */
    {
        uint64_t msgs = 0;
        for (int i = 0; i < t.nparts; i++)
            msgs += t.parts[i].messages;
        snprintf(summary, sizeof(summary),
                 "  topic %s: %d partitions, %llu messages read, %llu events outside "
                 "[from, to) skipped\n",
                 o->topic, t.nparts, (unsigned long long)msgs,
                 (unsigned long long)rp.out_of_range);
    }
    rc = fg_replay_finish(&rp, rc, scopes, (size_t)t.nparts + 1, summary);
out:
    free(scopes);
    /* Messages must go before the handle that fetched them. */
    fg_kmerge_free(t.km, item_free);
    free(t.parts);
    if (t.queue)
        rd_kafka_queue_destroy(t.queue);
    if (t.consumer) {
        rd_kafka_consumer_close(t.consumer);
        rd_kafka_destroy(t.consumer);
    }
    if (t.producer)
        rd_kafka_destroy(t.producer);
    fg_replay_close(&rp);
    return rc;
}
