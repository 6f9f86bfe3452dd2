/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_alerts_cmd.c: `fundguard alerts`: the alert topic as a supervisor
 * reads it: one line per alert (time, institution, person, result, rule,
 * amount, the fee lines involved), withdrawals shown as such, filters by
 * institution, rule, severity, result and event time; or, with --json,
 * the alerts themselves, unchanged, one per line, for scripts.
 *
 * It consumes as its own consumer group (default <kafka.group_id>.alerts-cli,
 * never the daemon's), so a second run continues where the first stopped:
 * the positions reached (including partitions that were only found at
 * their end) are committed every second and on exit. --from-beginning
 * reads every partition from its start, once per run; --exit-at-end stops
 * when every assigned partition has reached its end.
 *
 * A RETRACT names only the jr_id for sure. What it withdraws (rule,
 * institution) is shown when this run saw the original alert; filters are
 * judged on what is known, and a withdrawal that cannot be judged is shown
 * rather than hidden. An alert (or a withdrawal) redelivered by the
 * at-least-once producer is shown once per run: the jr_id says it is the
 * same.
 */
#include "fg_alerts_cmd.h"
#include "fg_alert_read.h"
#include "fg_common.h"
#include "fg_config.h"
#include "fg_fixed.h"
#include "fg_kafka.h"
#include "fg_map.h"
#include "fg_time.h"

#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#define AL_COMMIT_EVERY_S 1.0
/* --exit-at-end gives up when nothing happens (no assignment, message or
 * end of partition) for this long. */
#define AL_STALL_S 60
#define AL_BAD_SHOWN 10

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

struct al_opts {
    struct fg_alert_cli cli;     /* -c, --set, --since, --until */
    const char *group;           /* NULL: <kafka.group_id>.alerts-cli */
    int from_beginning, exit_at_end, json;
    const char **insts, **rules; /* arrays owned, strings borrowed from argv */
    size_t ninsts, nrules;
    int min_sev;                 /* 0 = any */
    const char *result;          /* DEFINITE, SUSPECT or NULL */
};

/* A jr_id met in this run: what a RETRACT needs to know of the alert it
 * withdraws, and what was shown already. */
struct al_seen {
    char *jr_id;                 /* owned; the key in al.seen */
    char *rule_id, *rule_name, *fixmedins_code, *result_type, *sev_deg;
    int64_t epoch;
    int has_time;
    int alert, retract;          /* its ALERT, its RETRACT was met */
};

struct al_part {
    int64_t next;                /* next offset to read; -1 unknown */
    int64_t committed;           /* last committed by us; -1 none */
    int assigned, at_end, started;
};

struct al {
    const struct al_opts *o;
    rd_kafka_t *rk;
    const char *topic;           /* borrowed from the config */
    struct al_part *parts;       /* owned, indexed by partition */
    int nparts;
    struct fg_map seen;          /* jr_id -> struct al_seen (owned) */
    double last_commit, last_progress;
    uint64_t shown, bad, repeated;
    int failed;                  /* a fatal Kafka error or an output error */
};

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct al_part *part_get(struct al *al, int32_t p)
{
    if (p < 0)
        return NULL;
    if (p >= al->nparts) {
        al->parts = fg_realloc(al->parts, (size_t)(p + 1) * sizeof(*al->parts));
        for (int i = al->nparts; i <= p; i++)
            al->parts[i] = (struct al_part){.next = -1, .committed = -1};
        al->nparts = p + 1;
    }
    return &al->parts[p];
}

/* ---- offsets ---- */

/* Commit the positions reached in the assigned partitions (all, or those
 * that moved since the last commit). A position is what this process has
 * read and shown, or the end it found a partition at. */
static void commit_positions(struct al *al, int sync)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(al->nparts + 1);
    rd_kafka_resp_err_t err;

    for (int p = 0; p < al->nparts; p++) {
        struct al_part *q = &al->parts[p];
        if (q->assigned && q->next >= 0 && q->next != q->committed)
            rd_kafka_topic_partition_list_add(l, al->topic, p)->offset = q->next;
    }
    if (l->cnt) {
        err = rd_kafka_commit(al->rk, l, !sync);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            fg_log_warn("msg=\"offset commit failed\" error=\"%s\"", rd_kafka_err2str(err));
        else
            for (int i = 0; i < l->cnt; i++)
                al->parts[l->elems[i].partition].committed = l->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    al->last_commit = mono_now();
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct al *al = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;

    al->last_progress = mono_now();
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            struct al_part *q = part_get(al, parts->elems[i].partition);
            if (!q)
                continue;
            q->assigned = 1;
            q->at_end = 0;
            /* Where this process already is wins over the group's commit
             * (which may lag by a second); --from-beginning applies to the
             * first assignment of a partition only, so a rebalance does not
             * print everything again. */
            if (q->next >= 0)
                parts->elems[i].offset = q->next;
            else if (al->o->from_beginning && !q->started)
                parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
            q->started = 1;
        }
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            err = rd_kafka_assign(rk, parts);
    } else {
        commit_positions(al, 1);
        for (int i = 0; i < parts->cnt; i++) {
            struct al_part *q = part_get(al, parts->elems[i].partition);
            if (q)
                q->assigned = q->at_end = 0;
        }
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            err = rd_kafka_assign(rk, NULL);
    }
    if (error) {
        fg_log_error("msg=\"partition assignment failed\" error=\"%s\"",
                     rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
}

/* Every assigned partition is at its end (and something is assigned). */
static int all_at_end(const struct al *al)
{
    int assigned = 0;

    for (int p = 0; p < al->nparts; p++) {
        if (!al->parts[p].assigned)
            continue;
        if (!al->parts[p].at_end)
            return 0;
        assigned++;
    }
    return assigned > 0;
}

/* ---- what is known of an alert, and the filters ---- */

static void seen_free(struct al_seen *s)
{
    free(s->jr_id);
    free(s->rule_id);
    free(s->rule_name);
    free(s->fixmedins_code);
    free(s->result_type);
    free(s->sev_deg);
    free(s);
}

static char *dup_or_null(const char *s)
{
    return s ? fg_strdup(s) : NULL;
}

/* Note the line's jr_id. Returns 1 when this ALERT (or RETRACT) of it was
 * met before in this run: a redelivery, not shown again. */
static int remember(struct al *al, const struct fg_alert_rec *rec)
{
    struct al_seen *s = fg_map_get(&al->seen, rec->jr_id, strlen(rec->jr_id));

    if (!s) {
        s = fg_calloc(1, sizeof(*s));
        s->jr_id = fg_strdup(rec->jr_id);
        fg_map_put(&al->seen, s->jr_id, strlen(s->jr_id), s);   /* owned by the map */
    }
    if (rec->retract) {
        if (s->retract)
            return 1;
        s->retract = 1;
        return 0;
    }
    if (s->alert)
        return 1;
    s->alert = 1;
    s->rule_id = dup_or_null(rec->rule_id);
    s->rule_name = dup_or_null(rec->rule_name);
    s->fixmedins_code = dup_or_null(rec->fixmedins_code);
    s->result_type = dup_or_null(rec->result_type);
    s->sev_deg = dup_or_null(rec->sev_deg);
    s->epoch = rec->epoch;
    s->has_time = rec->has_time;
    return 0;
}

/* The fields filters and the display use, borrowed from the line or, for
 * what a RETRACT does not carry, from the original alert if seen. */
struct al_view {
    const struct fg_alert_rec *rec;
    const struct al_seen *orig;  /* RETRACT: the alert withdrawn, or NULL */
    const char *rule_id, *rule_name, *inst, *result, *sev;
    int64_t epoch;
    int has_time;
};

static void make_view(struct al *al, const struct fg_alert_rec *rec, struct al_view *v)
{
    const struct al_seen *s = NULL;

    memset(v, 0, sizeof(*v));
    v->rec = rec;
    if (rec->retract)
        s = fg_map_get(&al->seen, rec->jr_id, strlen(rec->jr_id));
    if (s && !s->alert)
        s = NULL;
    v->orig = s;
#define TAKE(field, from) v->field = rec->from ? rec->from : s ? s->from : NULL
    TAKE(rule_id, rule_id);
    TAKE(rule_name, rule_name);
    TAKE(inst, fixmedins_code);
    TAKE(result, result_type);
    TAKE(sev, sev_deg);
#undef TAKE
    if (rec->has_time) {
        v->epoch = rec->epoch;
        v->has_time = 1;
    } else if (s && s->has_time) {
        v->epoch = s->epoch;
        v->has_time = 1;
    }
}

static int in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* 1 when the alert passes every filter. An unknown field passes. */
static int wanted(const struct al_opts *o, const struct al_view *v)
{
    if (o->ninsts && v->inst && !in_list(o->insts, o->ninsts, v->inst))
        return 0;
    if (o->nrules && v->rule_id && !in_list(o->rules, o->nrules, v->rule_id))
        return 0;
    if (o->result && v->result && strcmp(o->result, v->result) != 0)
        return 0;
    if (o->min_sev && v->sev && (v->sev[0] < '0' || v->sev[0] > '9' || v->sev[1] != '\0' ||
                                 v->sev[0] - '0' < o->min_sev))
        return 0;
    if (v->has_time && (v->epoch < o->cli.since || v->epoch >= o->cli.until))
        return 0;
    return 1;
}

/* ---- output ---- */

/* "yyyy-MM-dd HH:mm:ss" in China Standard Time (+08:00). */
static const char *local_time(const struct al_view *v, char *buf, size_t size)
{
    if (!v->has_time)
        return "-";
    fg_time_format_iso(v->epoch, buf, size);
    buf[10] = ' ';
    buf[19] = '\0';   /* drop "+08:00": every time shown is CST */
    return buf;
}

static const char *result_text(const char *result_type)
{
    if (!result_type)
        return "-";
    return strcmp(result_type, "DEFINITE") == 0 ? "明确违规"
           : strcmp(result_type, "SUSPECT") == 0 ? "可疑" : result_type;
}

static void print_alert(FILE *out, const struct al_view *v)
{
    const struct fg_alert_rec *r = v->rec;
    char t[40], amt[32];

    fprintf(out, "%s  %s  %s  %s  %s %s  %s元", local_time(v, t, sizeof(t)),
            r->fixmedins_code, r->psn_no ? r->psn_no : "-", result_text(r->result_type),
            r->rule_name, r->rule_id, fg_fixed_format(r->fen, FG_SCALE_MONEY, amt, sizeof(amt)));
    for (size_t i = 0; i < r->nlines; i++) {
        const struct fg_alert_dtl *l = &r->lines[i];
        fprintf(out, "%s#%s %s", i ? ", " : "  ", l->feedetl_sn ? l->feedetl_sn : "?",
                l->hilist_code ? l->hilist_code : "?");
    }
    fputc('\n', out);
}

static void print_retract(FILE *out, const struct al_view *v)
{
    char t[40];

    fprintf(out, "%s  已撤回 withdrawn  jr_id=%s", local_time(v, t, sizeof(t)), v->rec->jr_id);
    if (v->inst)
        fprintf(out, "  %s", v->inst);
    if (v->rule_id)
        fprintf(out, "  %s%s%s", v->rule_name ? v->rule_name : "", v->rule_name ? " " : "",
                v->rule_id);
    if (!v->orig && !v->rule_id)
        fputs("  (原预警本次未读到 original not seen)", out);
    fputc('\n', out);
}

/* One message: parse, remember, filter, print. Returns 0, or -1 when the
 * output cannot be written. */
static int handle_message(struct al *al, const rd_kafka_message_t *m)
{
    struct fg_alert_rec rec;
    struct al_view v;
    char why[256];
    const char *text = m->payload ? m->payload : "";
    size_t len = m->payload ? m->len : 0;
    int rc = 0;

    if (fg_alert_rec_parse(text, len, &rec, why, sizeof(why))) {
        if (++al->bad <= AL_BAD_SHOWN)
            fprintf(stderr, "fundguard alerts: kafka:%s/%d@%" PRId64 ": not an alert: %s\n",
                    al->topic, (int)m->partition, m->offset, why);
        fg_alert_rec_fini(&rec);
        return 0;
    }
    if (remember(al, &rec)) {
        al->repeated++;
        fg_alert_rec_fini(&rec);
        return 0;
    }
    make_view(al, &rec, &v);
    if (wanted(al->o, &v)) {
        if (al->o->json) {
            fwrite(text, 1, len, stdout);
            fputc('\n', stdout);
        } else if (rec.retract) {
            print_retract(stdout, &v);
        } else {
            print_alert(stdout, &v);
        }
        al->shown++;
        /* A tail is read as it comes, also through a pipe. */
        if (fflush(stdout) != 0)
            rc = -1;
    }
    fg_alert_rec_fini(&rec);
    return rc;
}

/* ---- the loop ---- */

static int kafka_error_fatal(const rd_kafka_message_t *m)
{
    return m->err == RD_KAFKA_RESP_ERR__FATAL ||
           m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
           m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
           m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
           m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
           m->err == RD_KAFKA_RESP_ERR__AUTHENTICATION;
}

static void consume(struct al *al)
{
    al->last_progress = mono_now();
    while (!g_stop && !al->failed) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(al->rk, 200);
        double now = mono_now();

        if (m) {
            struct al_part *q = part_get(al, m->partition);
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (q) {
                    q->at_end = 1;
                    if (m->offset > q->next)
                        q->next = m->offset;   /* started at the end: keep it */
                }
                al->last_progress = now;
            } else if (m->err) {
                if (kafka_error_fatal(m)) {
                    fprintf(stderr, "fundguard alerts: %s\n", rd_kafka_message_errstr(m));
                    al->failed = 1;
                } else {
                    fg_log_warn("msg=\"kafka consumer error\" error=\"%s\"",
                                rd_kafka_message_errstr(m));
                }
            } else {
                if (q) {
                    q->at_end = 0;
                    q->next = m->offset + 1;
                }
                al->last_progress = now;
                if (handle_message(al, m)) {
                    if (errno != EPIPE)
                        fprintf(stderr, "fundguard alerts: cannot write: %s\n", strerror(errno));
                    al->failed = errno == EPIPE ? 0 : 1;
                    g_stop = 1;   /* the reader went away: stop cleanly */
                }
            }
            rd_kafka_message_destroy(m);
        }
        if (now - al->last_commit >= AL_COMMIT_EVERY_S)
            commit_positions(al, 0);
        if (al->o->exit_at_end && all_at_end(al))
            break;
        if (al->o->exit_at_end && now - al->last_progress > AL_STALL_S) {
            fprintf(stderr, "fundguard alerts: no partition assigned or at its end after "
                            "%d s; is the broker reachable?\n", AL_STALL_S);
            al->failed = 1;
        }
    }
}

static rd_kafka_t *make_consumer(struct al *al, const struct fg_config *cfg, const char *group)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[1024];
    rd_kafka_t *rk;

    /* Not overridable: the group is ours, offsets are committed by us
     * (what was shown), the end of a partition is reported. */
    const char *const fixed[] = {"group.id", group, "enable.auto.commit", "false",
                                 "enable.auto.offset.store", "false",
                                 "enable.partition.eof", "true", "auto.offset.reset", "latest",
                                 NULL};

    if (fg_kafka_conf(cfg, conf, "consumer", FG_KAFKA_OWN_GROUP, err, sizeof(err)) ||
        fg_kafka_set_all(conf, fixed, err, sizeof(err)))
        goto fail;
    rd_kafka_conf_set_opaque(conf, al);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rk = fg_kafka_new(RD_KAFKA_CONSUMER, conf, cfg, "consumer", err, sizeof(err));
    if (!rk)
        fprintf(stderr, "fundguard alerts: config error: %s\n", err);
    return rk;
fail:
    fprintf(stderr, "fundguard alerts: config error: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* ---- the command ---- */

static int usage_alerts(FILE *out)
{
    fprintf(out,
            "usage: fundguard alerts -c FILE [--set KEY=VALUE...] [--group G]\n"
            "         [--from-beginning] [--exit-at-end] [--institution CODE...] [--rule ID...]\n"
            "         [--severity 1|2|3] [--result DEFINITE|SUSPECT] [--since TIME]\n"
            "         [--until TIME] [--json]\n"
            "  follows kafka.topics.alerts as consumer group G (default\n"
            "  <kafka.group_id>.alerts-cli), from its committed offsets or the end;\n"
            "  one line per alert, times in China Standard Time (+08:00)\n"
            "  --severity N     sev_deg N or higher\n"
            "  --since/--until  event_time in [since, until): ISO 8601, 'yyyy-MM-dd HH:mm:ss'\n"
            "                   or 'yyyy-MM-dd' (CST)\n"
            "  --json           the alerts unchanged, one per line\n"
            "  --exit-at-end    stop when every partition is at its end\n");
    return out == stderr ? FG_EXIT_USAGE : FG_EXIT_OK;
}

static void push(const char ***arr, size_t *n, const char *s)
{
    *arr = fg_realloc(*arr, (*n + 1) * sizeof(**arr));
    (*arr)[(*n)++] = s;
}

/* Fill o from argv. Returns 0, or -1 after printing why. */
static int parse_opts(int argc, char **argv, struct al_opts *o)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        int r = fg_alert_cli_arg(&o->cli, "alerts", 1, argc, argv, &i);

        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (strcmp(a, "--group") == 0 && has_val) {
            o->group = argv[++i];
            if (!o->group[0]) {
                fprintf(stderr, "fundguard alerts: --group must not be empty\n");
                return -1;
            }
        } else if (strcmp(a, "--from-beginning") == 0) {
            o->from_beginning = 1;
        } else if (strcmp(a, "--exit-at-end") == 0) {
            o->exit_at_end = 1;
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--institution") == 0 && has_val) {
            push(&o->insts, &o->ninsts, argv[++i]);
        } else if (strcmp(a, "--rule") == 0 && has_val) {
            push(&o->rules, &o->nrules, argv[++i]);
        } else if (strcmp(a, "--severity") == 0 && has_val) {
            const char *v = argv[++i];
            if (v[0] < '1' || v[0] > '3' || v[1]) {
                fprintf(stderr, "fundguard alerts: --severity expects 1, 2 or 3\n");
                return -1;
            }
            o->min_sev = v[0] - '0';
        } else if (strcmp(a, "--result") == 0 && has_val) {
            o->result = argv[++i];
            if (strcmp(o->result, "DEFINITE") != 0 && strcmp(o->result, "SUSPECT") != 0) {
                fprintf(stderr, "fundguard alerts: --result expects DEFINITE or SUSPECT\n");
                return -1;
            }
        } else {
            fprintf(stderr, "fundguard alerts: unknown or incomplete option '%s'\n", a);
            return -1;
        }
    }
    if (fg_alert_cli_check(&o->cli, "alerts"))
        return -1;
    return 0;
}

static int run_alerts(struct al *al, const struct al_opts *o)
{
    struct fg_config *cfg;
    rd_kafka_topic_partition_list_t *subs;
    struct sigaction sa = {0};
    const char *daemon_group, *topic;
    char err[1024] = "", group[512];
    int code = FG_EXIT_OK;

    cfg = fg_alert_cli_config(&o->cli, "alerts");
    if (!cfg)
        return FG_EXIT_CONFIG;
    daemon_group = fg_config_str(cfg, "kafka.group_id", "fundguard", err, sizeof(err));
    topic = daemon_group ? fg_config_str(cfg, "kafka.topics.alerts", "alerts", err, sizeof(err))
                         : NULL;
    if (!topic || !*topic) {
        fprintf(stderr, "fundguard alerts: config error: %s\n",
                err[0] ? err : "kafka.topics.alerts is empty");
        code = FG_EXIT_CONFIG;
        goto out;
    }
    snprintf(group, sizeof(group), "%s", o->group ? o->group : "");
    if (!o->group)
        snprintf(group, sizeof(group), "%s.alerts-cli", daemon_group);
    if (strcmp(group, daemon_group) == 0) {
        /* Joining the daemon's group would rebalance the live workers and
         * commit offsets in their name. */
        fprintf(stderr, "fundguard alerts: --group %s is the daemon's consumer group "
                        "(kafka.group_id); choose another\n", group);
        code = FG_EXIT_USAGE;
        goto out;
    }
    al->topic = topic;
    al->rk = make_consumer(al, cfg, group);
    if (!al->rk) {
        code = FG_EXIT_CONFIG;
        goto out;
    }
    rd_kafka_poll_set_consumer(al->rk);
    subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(al->rk, subs)) {
        fprintf(stderr, "fundguard alerts: cannot subscribe to %s\n", topic);
        rd_kafka_topic_partition_list_destroy(subs);
        code = FG_EXIT_RUNTIME;
        goto out;
    }
    rd_kafka_topic_partition_list_destroy(subs);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;   /* a closed pipe is an EPIPE write error */
    sigaction(SIGPIPE, &sa, NULL);
    fg_log_info("msg=\"following alerts\" topic=%s group=%s", topic, group);

    consume(al);

    commit_positions(al, 1);
    rd_kafka_consumer_close(al->rk);
    fprintf(stderr, "fundguard alerts: %" PRIu64 " shown, %" PRIu64 " redelivered (not "
                    "repeated), %" PRIu64 " messages that are not alerts\n",
            al->shown, al->repeated, al->bad);
    code = al->failed ? FG_EXIT_RUNTIME : FG_EXIT_OK;
out:
    if (al->rk)
        rd_kafka_destroy(al->rk);
    al->rk = NULL;
    fg_config_free(cfg);   /* al->topic pointed into it */
    al->topic = NULL;
    return code;
}

int fg_cmd_alerts(int argc, char **argv)
{
    struct al_opts o = {.cli = FG_ALERT_CLI_INIT};
    struct al al = {0};
    int code;

    if (argc == 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0))
        return usage_alerts(stdout);
    if (parse_opts(argc, argv, &o)) {
        code = usage_alerts(stderr);
        goto out;
    }
    al.o = &o;
    fg_map_init(&al.seen);
    code = run_alerts(&al, &o);
    for (size_t i = 0; i < al.seen.cap; i++)
        if (al.seen.slots[i].key)
            seen_free(al.seen.slots[i].val);
    fg_map_fini(&al.seen);
    free(al.parts);
out:
    fg_alert_cli_fini(&o.cli);
    free(o.insts);
    free(o.rules);
    return code;
}
