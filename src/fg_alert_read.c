/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_alert_read.c: alerts read back, from files or from a Kafka topic, for
 * the commands that audit what was raised (report, compare, alerts).
 *
 * A line becomes a struct fg_alert_rec that owns copies of the fields the
 * commands use, plus the alert's canonical text: the JSON without the
 * three run-specific fields, keys sorted, compact. Two alerts with the
 * same jr_id and the same canonical text say the same thing, however the
 * producer ordered its keys or whether it ran live or in replay.
 *
 * A Kafka source is read as a snapshot: the high watermark of every
 * partition is taken when the reader opens, and reading stops there, so a
 * topic that keeps growing still gives a definite answer. The consumer is
 * assigned its partitions directly: it never joins a consumer group and
 * never commits, so reading the live alert topic cannot disturb anyone.
 */
#include "fg_alert_read.h"
#include "fg_app.h"
#include "fg_common.h"
#include "fg_fixed.h"
#include "fg_kafka.h"
#include "fg_time.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* librdkafka calls that wait for the broker give up after this long. */
#define AR_KAFKA_TIMEOUT_MS 15000
/* A Kafka source that delivers nothing for this long is unreadable. */
#define AR_KAFKA_STALL_S 60
/* --since seeks by message timestamp, which is the producer's clock; start
 * this much earlier so a producer clock behind the event source's loses
 * nothing (alerts before the bound are filtered by event_time anyway). */
#define AR_SINCE_SLACK_S 3600

/* ---- one line ---- */

/* A copy of the non-empty string member `name` of obj, or NULL. */
static char *dup_member(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;

    return s && s[0] ? fg_strdup(s) : NULL;
}

void fg_alert_rec_fini(struct fg_alert_rec *rec)
{
    if (!rec)
        return;
    free(rec->jr_id);
    free(rec->rule_id);
    free(rec->rule_name);
    free(rec->rule_pack);
    free(rec->result_type);
    free(rec->sev_deg);
    free(rec->psn_no);
    free(rec->fixmedins_code);
    free(rec->mdtrt_id);
    free(rec->setl_id);
    free(rec->event_id);
    free(rec->event_time);
    for (size_t i = 0; i < rec->nlines; i++) {
        free(rec->lines[i].setl_id);
        free(rec->lines[i].feedetl_sn);
        free(rec->lines[i].hilist_code);
        free(rec->lines[i].vola_item_type);
    }
    free(rec->lines);
    free(rec->canonical);   /* from json_dumps: plain malloc */
    memset(rec, 0, sizeof(*rec));
}

/* judge_result_detail_dtos, when it is an array; entries that are not
 * objects are skipped. The lines are for display: a malformed list does
 * not make the alert unreadable (its content still compares exactly). */
static void take_lines(struct fg_alert_rec *rec, const json_t *obj)
{
    const json_t *arr = json_object_get(obj, "judge_result_detail_dtos");
    size_t i, n = json_is_array(arr) ? json_array_size(arr) : 0;
    const json_t *d;

    if (!n)
        return;
    rec->lines = fg_calloc(n, sizeof(*rec->lines));
    json_array_foreach(arr, i, d) {
        struct fg_alert_dtl *l;

        if (!json_is_object(d))
            continue;
        l = &rec->lines[rec->nlines++];
        l->setl_id = dup_member(d, "setl_id");
        l->feedetl_sn = dup_member(d, "feedetl_sn");
        l->hilist_code = dup_member(d, "hilist_code");
        l->vola_item_type = dup_member(d, "vola_item_type");
    }
}

/* event_time as epoch seconds. An ALERT's must be well formed (-1 with
 * why); a RETRACT keeps it only when it is. */
static int take_time(struct fg_alert_rec *rec, char *why, size_t whylen)
{
    const char *terr = NULL;

    if (rec->event_time) {
        if (fg_time_parse(rec->event_time, strlen(rec->event_time), &rec->epoch, &terr) == 0)
            rec->has_time = 1;
        else if (!rec->retract) {
            snprintf(why, whylen, "event_time: %s", terr ? terr : "not a datetime");
            return -1;
        }
    }
    return 0;
}

/* vola_amt in fen, under the same rule as take_time. */
static int take_amount(struct fg_alert_rec *rec, const json_t *obj, char *why, size_t whylen)
{
    const json_t *v = json_object_get(obj, "vola_amt");
    const char *amt = json_is_string(v) ? json_string_value(v) : NULL;
    int rc;

    if (!amt || !amt[0])
        return 0;   /* an ALERT was checked for it already */
    rc = fg_fixed_parse(amt, strlen(amt), FG_SCALE_MONEY, &rec->fen);
    if (rc == FG_FIXED_OK && rec->fen >= 0) {
        rec->has_amount = 1;
        return 0;
    }
    rec->fen = 0;
    if (rec->retract)
        return 0;
    snprintf(why, whylen, "vola_amt: %s",
             rc != FG_FIXED_OK ? fg_fixed_strerror(rc) : "negative amount");
    return -1;
}

/* The fields every ALERT must carry as non-empty strings (besides schema,
 * alert_type and jr_id, checked for every line). */
static const char *const alert_required[] = {
    "rule_id", "rule_name", "rule_pack", "result_type", "fixmedins_code",
    "event_time", "vola_amt",
};

/* The fields that differ between two runs of the same judgement. */
static const char *const run_fields[] = {"replay", "source", "detected_at"};

int fg_alert_rec_parse(const char *text, size_t len, struct fg_alert_rec *rec, char *why,
                       size_t whylen)
{
    json_error_t jerr;
    json_t *obj;
    const char *schema, *type;
    int rc = -1;

    memset(rec, 0, sizeof(*rec));
    obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        snprintf(why, whylen, "not JSON: %s (column %d)", jerr.text, jerr.column);
        return -1;
    }
    if (!json_is_object(obj)) {
        snprintf(why, whylen, "not a JSON object");
        goto out;
    }
    schema = json_string_value(json_object_get(obj, "schema"));
    type = json_string_value(json_object_get(obj, "alert_type"));
    if (!schema || strcmp(schema, FG_ALERT_SCHEMA) != 0) {
        snprintf(why, whylen, "schema is not %s", FG_ALERT_SCHEMA);
        goto out;
    }
    if (!type || (strcmp(type, "ALERT") != 0 && strcmp(type, "RETRACT") != 0)) {
        snprintf(why, whylen, "alert_type: expected ALERT or RETRACT");
        goto out;
    }
    rec->retract = type[0] == 'R';
    rec->jr_id = dup_member(obj, "jr_id");
    if (!rec->jr_id) {
        snprintf(why, whylen, "missing or non-string field 'jr_id'");
        goto out;
    }
    if (!rec->retract) {
        for (size_t i = 0; i < FG_ARRAY_LEN(alert_required); i++) {
            const json_t *v = json_object_get(obj, alert_required[i]);
            if (!json_is_string(v) || !json_string_value(v)[0]) {
                snprintf(why, whylen, "missing or non-string field '%s'", alert_required[i]);
                goto out;
            }
        }
    }
    rec->rule_id = dup_member(obj, "rule_id");
    rec->rule_name = dup_member(obj, "rule_name");
    rec->rule_pack = dup_member(obj, "rule_pack");
    rec->result_type = dup_member(obj, "result_type");
    rec->sev_deg = dup_member(obj, "sev_deg");
    rec->psn_no = dup_member(obj, "psn_no");
    rec->fixmedins_code = dup_member(obj, "fixmedins_code");
    rec->mdtrt_id = dup_member(obj, "mdtrt_id");
    rec->setl_id = dup_member(obj, "setl_id");
    rec->event_id = dup_member(obj, "event_id");
    rec->event_time = dup_member(obj, "event_time");
    if (!rec->retract && strcmp(rec->result_type, "DEFINITE") != 0 &&
        strcmp(rec->result_type, "SUSPECT") != 0) {
        snprintf(why, whylen, "result_type: expected DEFINITE or SUSPECT");
        goto out;
    }
    if (take_amount(rec, obj, why, whylen) || take_time(rec, why, whylen))
        goto out;
    take_lines(rec, obj);
    for (size_t i = 0; i < FG_ARRAY_LEN(run_fields); i++)
        json_object_del(obj, run_fields[i]);
    rec->canonical = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
    if (!rec->canonical) {
        snprintf(why, whylen, "cannot re-encode the alert");
        goto out;
    }
    rec->canonical_len = strlen(rec->canonical);
    rc = 0;
out:
    json_decref(obj);
    return rc;
}

int fg_alert_source_is_kafka(const char *spec)
{
    return strncmp(spec, FG_ALERT_KAFKA_PREFIX, strlen(FG_ALERT_KAFKA_PREFIX)) == 0;
}

int fg_alert_parse_time_arg(const char *s, int64_t *epoch)
{
    const char *why = NULL;
    size_t len = strlen(s);
    int64_t days;

    if (len == 10 && fg_date_parse(s, len, &days, &why) == 0) {
        *epoch = fg_cst_day_start(days);
        return 0;
    }
    return fg_time_parse(s, len, epoch, &why) == 0 ? 0 : -1;
}

/* ---- configuration ---- */

struct fg_config *fg_alert_config_open(const char *path, char **sets, size_t nsets,
                                       const char *prog)
{
    char err[1024] = "";
    struct fg_config *cfg = fg_config_load(path, err, sizeof(err));
    const char *level;

    if (!cfg)
        goto bad;
    for (size_t i = 0; i < nsets; i++)
        if (fg_config_set(cfg, sets[i], err, sizeof(err)))
            goto bad;
    if (fg_config_validate_keys(cfg, err, sizeof(err)))
        goto bad;
    level = fg_config_str(cfg, "log.level", "info", err, sizeof(err));
    if (!level)
        goto bad;
    fg_log_level = strcmp(level, "debug") == 0 ? FG_LOG_DEBUG
                   : strcmp(level, "error") == 0 ? FG_LOG_ERROR : FG_LOG_WARN;
    return cfg;
bad:
    fprintf(stderr, "fundguard %s: config error: %s\n", prog, err);
    fg_config_free(cfg);
    return NULL;
}


/* ---- the reader ---- */

/* One partition of a Kafka source: read [start, end). */
struct ar_part {
    int64_t end;        /* high watermark when the reader opened */
    int done;
};

struct fg_alert_reader {
    char *label;                 /* owned: path, "<stdin>" or "kafka:TOPIC" */
    int kafka;
    /* file */
    gzFile gz;
    char *buf;                   /* owned */
    size_t cap, start, end;
    int eof;
    long long lineno;
    /* kafka */
    rd_kafka_t *rk;
    char *topic;                 /* owned */
    struct ar_part *parts;       /* owned, indexed by partition id */
    int nparts, remaining;
    rd_kafka_message_t *msg;     /* the message last returned, owned */
    int32_t partition;
    int64_t offset;
};

static gzFile open_gz(const char *path)
{
    int fd;
    gzFile gz;

    if (strcmp(path, "-") != 0)
        return gzopen(path, "rb");
    fd = dup(STDIN_FILENO);   /* gzclose closes it, not our stdin */
    if (fd < 0)
        return NULL;
    gz = gzdopen(fd, "rb");
    if (!gz)
        close(fd);
    return gz;
}

/* The next line of a file, of any length, read through zlib (which passes
 * plain files through unchanged). */
static int file_next(struct fg_alert_reader *r, const char **line, size_t *len, char *err,
                     size_t errlen)
{
    for (;;) {
        char *nl = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
        int n, zerr;

        if (nl || (r->eof && r->end > r->start)) {
            size_t stop = nl ? (size_t)(nl - r->buf) : r->end;
            *line = r->buf + r->start;
            *len = stop - r->start;
            r->start = nl ? stop + 1 : stop;
            r->lineno++;
            return 1;
        }
        if (r->eof)
            return 0;
        /* Keep the partial line at the front and make room after it. */
        if (r->start) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->cap - r->end < 65536) {
            r->cap = r->cap ? r->cap * 2 : 1 << 18;
            r->buf = fg_realloc(r->buf, r->cap);
        }
        n = gzread(r->gz, r->buf + r->end, (unsigned)(r->cap - r->end));
        if (n < 0) {
            snprintf(err, errlen, "cannot read input %s (after %lld lines): %s", r->label,
                     r->lineno, gzerror(r->gz, &zerr));
            return -1;
        }
        if (n == 0)
            r->eof = 1;
        r->end += (size_t)n;
    }
}

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Errors after which waiting cannot help. */
static int kafka_err_permanent(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
           e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
           e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
           e == RD_KAFKA_RESP_ERR__AUTHENTICATION || e == RD_KAFKA_RESP_ERR__FATAL;
}

static void part_done(struct fg_alert_reader *r, int32_t p)
{
    rd_kafka_topic_partition_list_t *l;

    if (r->parts[p].done)
        return;
    r->parts[p].done = 1;
    r->remaining--;
    /* Stop fetching what was produced after the snapshot. */
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, r->topic, p);
    rd_kafka_pause_partitions(r->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static int kafka_next(struct fg_alert_reader *r, const char **text, size_t *len, char *err,
                      size_t errlen)
{
    double last = mono_now();
    char last_err[256] = "";

    if (r->msg) {
        rd_kafka_message_destroy(r->msg);
        r->msg = NULL;
    }
    while (r->remaining > 0) {
        rd_kafka_message_t *m;
        int32_t p;

        m = rd_kafka_consumer_poll(r->rk, 200);
        if (!m) {
            if (mono_now() - last > AR_KAFKA_STALL_S) {
                snprintf(err, errlen, "%s: nothing received for %d s with %d partitions "
                                      "unfinished%s%s", r->label, AR_KAFKA_STALL_S,
                         r->remaining, last_err[0] ? "; last error: " : "", last_err);
                return -1;
            }
            continue;
        }
        p = m->partition;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* The end of the log: covers offsets that hold no message for
             * us (compaction, transaction markers). */
            if (p >= 0 && p < r->nparts && m->offset >= r->parts[p].end)
                part_done(r, p);
            rd_kafka_message_destroy(m);
            last = mono_now();
            continue;
        }
        if (m->err) {
            snprintf(last_err, sizeof(last_err), "%s", rd_kafka_message_errstr(m));
            if (kafka_err_permanent(m->err)) {
                snprintf(err, errlen, "%s: %s", r->label, last_err);
                rd_kafka_message_destroy(m);
                return -1;
            }
            fg_log_warn("msg=\"kafka consumer error; retrying\" source=%s error=\"%s\"",
                        r->label, last_err);
            rd_kafka_message_destroy(m);
            continue;
        }
        if (p < 0 || p >= r->nparts || r->parts[p].done || m->offset >= r->parts[p].end) {
            rd_kafka_message_destroy(m);   /* after the snapshot */
            continue;
        }
        if (m->offset + 1 >= r->parts[p].end)
            part_done(r, p);
        r->msg = m;
        r->partition = p;
        r->offset = m->offset;
        *text = m->payload ? m->payload : "";
        *len = m->payload ? m->len : 0;
        return 1;
    }
    return 0;
}

/* A broker that cannot look up offsets by time answers -1 ("no message at
 * or after that time") for every partition; librdkafka's mock cluster, the
 * devbroker, is one. Trusting that would make a partition look empty. So
 * for each partition answered -1 that holds messages (need[p]), read its
 * last message: when that one is at or after the time, the answer was
 * wrong and the partition is read from its start (start[p] untouched);
 * otherwise nothing in it is recent and it is skipped. A partition whose
 * last message cannot be read in time is read from its start: reading too
 * much is only slower, the event_time filter is exact. Returns 0, or -1
 * with err on an error that waiting cannot fix. */
static int probe_tails(struct fg_alert_reader *r, int64_t ts_ms, int *need, int64_t *start,
                       char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->nparts);
    double deadline = mono_now() + AR_KAFKA_TIMEOUT_MS / 1000.0;
    rd_kafka_resp_err_t e;
    int n = 0, rc = 0;

    for (int p = 0; p < r->nparts; p++)
        if (need[p]) {
            rd_kafka_topic_partition_list_add(l, r->topic, p)->offset = r->parts[p].end - 1;
            n++;
        }
    if (n && (e = rd_kafka_assign(r->rk, l)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "%s: cannot assign the partitions: %s", r->label,
                 rd_kafka_err2str(e));
        rc = -1;
        n = 0;
    }
    while (n > 0 && mono_now() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, 200);
        int32_t p;

        if (!m)
            continue;
        p = m->partition;
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF &&
            kafka_err_permanent(m->err)) {
            snprintf(err, errlen, "%s: %s", r->label, rd_kafka_message_errstr(m));
            rc = -1;
            n = 0;
        } else if ((!m->err || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) && p >= 0 &&
                   p < r->nparts && need[p]) {
            rd_kafka_timestamp_type_t tstype;
            int64_t ts = m->err ? -1 : rd_kafka_message_timestamp(m, &tstype);
            if (ts >= 0 && ts < ts_ms)
                start[p] = r->parts[p].end;
            need[p] = 0;
            n--;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(r->rk, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Where to start each partition for `since`: the first message with a
 * timestamp at or after it (less the slack), by rd_kafka_offsets_for_times.
 * Returns 0, or -1 with err. */
static int seek_since(struct fg_alert_reader *r, int64_t since, int64_t *start, char *err,
                      size_t errlen)
{
    int64_t ts = (since - AR_SINCE_SLACK_S) * 1000;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->nparts);
    int *need = fg_calloc((size_t)r->nparts, sizeof(*need));
    rd_kafka_resp_err_t e;
    int rc = -1;

    if (ts < 0)
        ts = 0;
    for (int p = 0; p < r->nparts; p++)
        rd_kafka_topic_partition_list_add(l, r->topic, p)->offset = ts;
    e = rd_kafka_offsets_for_times(r->rk, l, AR_KAFKA_TIMEOUT_MS);
    if (e) {
        snprintf(err, errlen, "%s: cannot look up offsets by time: %s", r->label,
                 rd_kafka_err2str(e));
        goto out;
    }
    for (int i = 0; i < l->cnt; i++) {
        int32_t p = l->elems[i].partition;
        int64_t off = l->elems[i].offset;

        if (p < 0 || p >= r->nparts)
            continue;
        if (l->elems[i].err) {
            snprintf(err, errlen, "%s: partition %d: cannot look up offsets by time: %s",
                     r->label, (int)p, rd_kafka_err2str(l->elems[i].err));
            goto out;
        }
        if (off >= 0)
            start[p] = off > start[p] ? off : start[p];
        else if (start[p] < r->parts[p].end)
            need[p] = 1;   /* -1 for a partition with messages: check */
    }
    rc = probe_tails(r, ts, need, start, err, errlen);
out:
    free(need);
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Take the snapshot: every partition's high watermark, and where to start
 * (its low watermark, or the first message at or after `since`); then
 * assign the partitions that have something to read. Returns 0, or -1
 * with err. */
static int kafka_plan(struct fg_alert_reader *r, int64_t since, char *err, size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, r->topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *l = NULL;
    rd_kafka_resp_err_t e;
    int64_t *start = NULL;
    int rc = -1;

    e = rkt ? rd_kafka_metadata(r->rk, 0, rkt, &md, AR_KAFKA_TIMEOUT_MS)
            : rd_kafka_last_error();
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1)
        e = md->topics[0].err;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "%s: cannot get the topic's partitions: %s", r->label,
                 rd_kafka_err2str(e));
        goto out;
    }
    r->nparts = md->topics[0].partition_cnt;
    r->parts = fg_calloc((size_t)(r->nparts ? r->nparts : 1), sizeof(*r->parts));
    start = fg_calloc((size_t)(r->nparts ? r->nparts : 1), sizeof(*start));
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        int64_t lo = 0, hi = 0;

        if (p < 0 || p >= r->nparts) {
            snprintf(err, errlen, "%s: unexpected partition id %d", r->label, (int)p);
            goto out;
        }
        e = rd_kafka_query_watermark_offsets(r->rk, r->topic, p, &lo, &hi,
                                             AR_KAFKA_TIMEOUT_MS);
        if (e) {
            snprintf(err, errlen, "%s: partition %d: cannot query its offsets: %s", r->label,
                     (int)p, rd_kafka_err2str(e));
            goto out;
        }
        r->parts[p].end = hi;
        start[p] = lo;
    }
    if (since != INT64_MIN && r->nparts && seek_since(r, since, start, err, errlen))
        goto out;
    l = rd_kafka_topic_partition_list_new(r->nparts ? r->nparts : 1);
    for (int p = 0; p < r->nparts; p++) {
        if (start[p] >= r->parts[p].end) {
            r->parts[p].done = 1;
            continue;
        }
        rd_kafka_topic_partition_list_add(l, r->topic, p)->offset = start[p];
        r->remaining++;
    }
    if (r->remaining && (e = rd_kafka_assign(r->rk, l)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "%s: cannot assign the partitions: %s", r->label,
                 rd_kafka_err2str(e));
        goto out;
    }
    rc = 0;
out:
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    free(start);
    return rc;
}

/* The consumer of a Kafka source. Returns 0, or -1 with err and *code. */
static int kafka_open(struct fg_alert_reader *r, const struct fg_alert_reader_opts *o,
                      int *code, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *group;
    char group_id[300];

    *code = FG_EXIT_CONFIG;
    if (!o->cfg) {
        snprintf(err, errlen, "%s: a Kafka source needs a config (-c FILE)", r->label);
        goto fail;
    }
    /* librdkafka wants a group id even for an assign()-only consumer; it
     * is never joined and nothing is committed under it. */
    group = fg_config_str(o->cfg, "kafka.group_id", "fundguard", err, errlen);
    if (!group)
        goto fail;
    snprintf(group_id, sizeof(group_id), "%s.reader", group);
    {
        const char *const fixed[] = {"group.id", group_id, "enable.auto.commit", "false",
                                     "enable.auto.offset.store", "false",
                                     "enable.partition.eof", "true", "auto.offset.reset",
                                     "earliest", NULL};
        if (fg_kafka_conf(o->cfg, conf, "consumer", FG_KAFKA_OWN_GROUP, err, errlen) ||
            fg_kafka_set_all(conf, fixed, err, errlen))
            goto fail;
    }
    r->rk = fg_kafka_new(RD_KAFKA_CONSUMER, conf, o->cfg, "consumer", err, errlen);
    conf = NULL;   /* taken */
    if (!r->rk)
        goto fail;
    *code = FG_EXIT_DATAERR;
    rd_kafka_poll_set_consumer(r->rk);
    return kafka_plan(r, o->since, err, errlen);
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    return -1;
}

struct fg_alert_reader *fg_alert_reader_open(const char *spec,
                                             const struct fg_alert_reader_opts *o, int *code,
                                             char *err, size_t errlen)
{
    struct fg_alert_reader *r = fg_calloc(1, sizeof(*r));

    if (fg_alert_source_is_kafka(spec)) {
        r->kafka = 1;
        r->label = fg_strdup(spec);
        r->topic = fg_strdup(spec + strlen(FG_ALERT_KAFKA_PREFIX));
        if (!r->topic[0]) {
            snprintf(err, errlen, "%s: no topic named", spec);
            *code = FG_EXIT_USAGE;
            goto fail;
        }
        if (kafka_open(r, o, code, err, errlen))
            goto fail;
        return r;
    }
    r->label = fg_strdup(strcmp(spec, "-") == 0 ? "<stdin>" : spec);
    errno = 0;
    r->gz = open_gz(spec);
    if (!r->gz) {
        snprintf(err, errlen, "cannot read input %s: %s", r->label,
                 errno ? strerror(errno) : "cannot open");
        *code = FG_EXIT_DATAERR;
        goto fail;
    }
    return r;
fail:
    fg_alert_reader_close(r);
    return NULL;
}

int fg_alert_reader_next(struct fg_alert_reader *r, const char **text, size_t *len, char *err,
                         size_t errlen)
{
    return r->kafka ? kafka_next(r, text, len, err, errlen)
                    : file_next(r, text, len, err, errlen);
}

const char *fg_alert_reader_where(const struct fg_alert_reader *r, char *buf, size_t size)
{
    if (r->kafka)
        snprintf(buf, size, "%s/%d@%" PRId64, r->label, (int)r->partition, r->offset);
    else
        snprintf(buf, size, "%s:%lld", r->label, r->lineno);
    return buf;
}

const char *fg_alert_reader_label(const struct fg_alert_reader *r)
{
    return r->label;
}

void fg_alert_reader_close(struct fg_alert_reader *r)
{
    if (!r)
        return;
    if (r->gz)
        gzclose(r->gz);
    free(r->buf);
    /* Messages go before the handle that fetched them. */
    if (r->msg)
        rd_kafka_message_destroy(r->msg);
    if (r->rk) {
        rd_kafka_consumer_close(r->rk);
        rd_kafka_destroy(r->rk);
    }
    free(r->parts);
    free(r->topic);
    free(r->label);
    free(r);
}

/* ---- options shared by the commands that read alerts ---- */

int fg_alert_cli_arg(struct fg_alert_cli *c, const char *prog, int period, int argc,
                     char **argv, int *i)
{
    const char *a = argv[*i];

    if (*i + 1 >= argc)
        return 0;   /* every one of them takes a value */
    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
        c->config = argv[++*i];
    } else if (strcmp(a, "--set") == 0) {
        c->sets = fg_realloc(c->sets, (c->nsets + 1) * sizeof(*c->sets));
        c->sets[c->nsets++] = argv[++*i];
    } else if (period && (strcmp(a, "--since") == 0 || strcmp(a, "--until") == 0)) {
        int64_t *t = a[2] == 's' ? &c->since : &c->until;
        if (fg_alert_parse_time_arg(argv[++*i], t)) {
            fprintf(stderr, "fundguard %s: %s: not a datetime: '%s'\n", prog, a, argv[*i]);
            return -1;
        }
    } else {
        return 0;
    }
    return 1;
}

int fg_alert_cli_check(const struct fg_alert_cli *c, const char *prog)
{
    if (c->since >= c->until) {
        fprintf(stderr, "fundguard %s: --since must be before --until\n", prog);
        return -1;
    }
    return 0;
}

struct fg_config *fg_alert_cli_config(const struct fg_alert_cli *c, const char *prog)
{
    return fg_alert_config_open(c->config, c->sets, c->nsets, prog);
}

void fg_alert_cli_fini(struct fg_alert_cli *c)
{
    free(c->sets);
    c->sets = NULL;
    c->nsets = 0;
}

/* ---- retracted jr_ids ---- */

void fg_retract_set_init(struct fg_retract_set *s)
{
    memset(s, 0, sizeof(*s));
    fg_map_init(&s->idx);
}

void fg_retract_set_add(struct fg_retract_set *s, const char *jr_id)
{
    size_t klen = strlen(jr_id);
    char *copy;

    if (fg_map_get(&s->idx, jr_id, klen)) {
        s->dups++;
        return;
    }
    copy = fg_strndup(jr_id, klen);
    FG_VEC_GROW(s->v, s->n, s->cap, 16);
    s->v[s->n++] = copy;   /* owned by s from here */
    fg_map_put(&s->idx, copy, klen, copy);
}

void fg_retract_set_fini(struct fg_retract_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    fg_map_fini(&s->idx);
}
