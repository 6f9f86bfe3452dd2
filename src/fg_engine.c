/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_engine.c: the per-event pipeline.
 */
#include "fg_engine.h"
#include "fg_common.h"
#include "fg_fixed.h"
#include "fg_hash.h"
#include "fg_privacy.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fg_ctx {
    struct fg_engine *eng;
    struct fg_det_inst *inst;
    const struct fg_claim *claim;
    struct fg_person *person;
    struct fg_wline **cur;        /* window entry of each claim line */
};

/* A deferred judgement read back from the store: the claim reduced to the
 * one line, its window entry and its source. Strings point into buf. */
struct deferred {
    char *buf;
    const char *det;
    struct fg_claim claim;
    struct fg_line line;
    struct fg_wline w, *wp;
    struct fg_alert_source src;
};

struct fg_engine {
    struct fg_engine_mark saved;    /* checkpoint of stats */
    struct fg_detectors *ds;
    const struct fg_pack *pack;
    struct fg_state *st;
    struct fg_engine_opts o;
    struct fg_engine_stats stats;
    int64_t watermark;
    struct fg_wline **cur;
    size_t cur_cap;
    struct fg_buf out;
    const struct fg_alert_source *src;
    int out_failed;
    /* Progress: automatic (one ordered stream: its own watermark) until a
     * live caller sets it from the slowest partition. */
    int progress_set;
    int64_t others;                /* slowest partition of other workers */
    int64_t *bounds;               /* per owned scope: how far it has got */
    int *scopes;                   /* deferral scopes this worker owns */
    int64_t *taken_upto;           /* per scope: records taken up to */
    int64_t held_ready;            /* earliest ready day deferred since the last
                                    * commit sent (INT64_MAX: none) */
    size_t nscopes;
    struct deferred *due;          /* taken for the batch in hand */
    size_t ndue, capdue;
    size_t due_limit;              /* most records a batch takes; 0 = all */
    size_t *due_from;              /* per scope: records taken this batch */
    size_t due_scope;              /* index of the scope last handed */
    int due_more;                  /* the last take stopped at the limit */
    int sent;                      /* a commit sent (batch_send), outcome not settled */
    int sent_known;                /* ... and its outcome is in sent_rc */
    int sent_rc;
    struct fg_buf rec;
};

struct fg_engine *fg_engine_new(struct fg_detectors *ds, const struct fg_pack *pack,
                                struct fg_state *st, const struct fg_engine_opts *o)
{
    struct fg_engine *e = fg_calloc(1, sizeof(*e));
    size_t n = 0;

    e->ds = ds;
    e->pack = pack;
    e->st = st;
    e->o = *o;
    e->watermark = INT64_MIN / 2;
    fg_buf_init(&e->out);
    fg_buf_init(&e->rec);
    e->nscopes = 1;
    e->scopes = fg_malloc(sizeof(*e->scopes));
    e->taken_upto = fg_malloc(sizeof(*e->taken_upto));
    e->scopes[0] = -1;   /* a file */
    e->taken_upto[0] = INT64_MIN;
    e->held_ready = INT64_MAX;
    for (size_t i = 0; i < ds->n; i++)
        for (const struct fg_rule_decl *r = ds->v[i].det->rules; r && r->rule_id; r++)
            n++;
    e->stats.rules = fg_calloc(n, sizeof(*e->stats.rules));
    for (size_t i = 0; i < ds->n; i++)
        for (const struct fg_rule_decl *r = ds->v[i].det->rules; r && r->rule_id; r++) {
            e->stats.rules[e->stats.nrules].rule_id = r->rule_id;
            e->stats.rules[e->stats.nrules++].det = ds->v[i].det;
        }
    return e;
}

void fg_engine_free(struct fg_engine *e)
{
    if (!e)
        return;
    fg_engine_mark_free(&e->saved);
    free(e->stats.rules);
    free(e->cur);
    fg_buf_fini(&e->out);
    fg_buf_fini(&e->rec);
    for (size_t i = 0; i < e->ndue; i++)
        free(e->due[i].buf);
    free(e->due);
    free(e->scopes);
    free(e->taken_upto);
    free(e->due_from);
    free(e->bounds);
    free(e);
}

const struct fg_engine_stats *fg_engine_stats(const struct fg_engine *e)
{
    return &e->stats;
}

static struct fg_rule_stat *rule_stat(struct fg_engine *e, const char *rule_id)
{
    for (size_t i = 0; i < e->stats.nrules; i++)
        if (strcmp(e->stats.rules[i].rule_id, rule_id) == 0)
            return &e->stats.rules[i];
    return NULL;
}

/* ---- the detector-facing context ---- */

const struct fg_pack *fg_ctx_pack(const struct fg_ctx *ctx)
{
    return ctx->eng->pack;
}

const struct fg_claim *fg_ctx_claim(const struct fg_ctx *ctx)
{
    return ctx->claim;
}

const struct fg_wline *fg_ctx_line(const struct fg_ctx *ctx, size_t i)
{
    FG_ASSERT(i < ctx->claim->nlines);
    return ctx->cur[i];
}

size_t fg_ctx_window(const struct fg_ctx *ctx, const struct fg_wline *const **lines)
{
    struct fg_wline **w;
    size_t n;

    if (!ctx->person) {   /* a deferred judgement has no window */
        *lines = NULL;
        return 0;
    }
    n = ctx->eng->st->ops->window(ctx->eng->st, ctx->person, &w);

    *lines = (const struct fg_wline *const *)w;
    return n;
}

void fg_ctx_skip(struct fg_ctx *ctx, const char *rule_id)
{
    struct fg_rule_stat *rs = rule_stat(ctx->eng, rule_id);
    if (rs)
        rs->skipped++;
}

void fg_ctx_hist_add(struct fg_ctx *ctx, const char *group, int64_t day,
                     unsigned bucket, int keep_days)
{
    ctx->eng->st->ops->hist_add(ctx->eng->st, group, day, bucket, day + keep_days);
}

uint64_t fg_ctx_hist_sum(struct fg_ctx *ctx, const char *group, int64_t from,
                         int64_t to, uint32_t counts[FG_HIST_BUCKETS])
{
    return ctx->eng->st->ops->hist_sum(ctx->eng->st, group, from, to, counts);
}

int64_t fg_wline_net_inscp(const struct fg_wline *w)
{
    if (w->net_cnt == w->cnt || w->cnt == 0)
        return w->inscp;
    return fg_muldiv(w->inscp, w->net_cnt, w->cnt);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rec_str(struct fg_buf *b, const char *v);
static void rec_num(struct fg_buf *b, int64_t v);

/* What a RETRACT needs of an emitted alert, kept with the person: jr_id,
 * rule, amount, the violating line, and every settlement it involves. */
static void keep_alert(struct fg_engine *e, struct fg_person *p, const char *jr_id,
                       const struct fg_alert_spec *spec, int64_t expire)
{
    const struct fg_wline *v = spec->violating;
    struct fg_buf *b = &e->rec;

    fg_buf_reset(b);
    fg_buf_puts(b, jr_id);
    rec_str(b, spec->rule_id);
    rec_num(b, spec->vola_amt);
    rec_str(b, v->setl_id);
    rec_str(b, v->feedetl_sn);
    rec_str(b, v->code);
    rec_str(b, v->mdtrt_id);
    rec_str(b, v->fixmedins_code);
    rec_num(b, (int64_t)spec->ninvolved);
    for (size_t i = 0; i < spec->ninvolved; i++)
        rec_str(b, spec->involved[i]->setl_id);
    e->st->ops->alert_keep(e->st, p, jr_id, b->data, expire);
}

void fg_emit(struct fg_ctx *ctx, const struct fg_alert_spec *spec)
{
    struct fg_engine *e = ctx->eng;
    const struct fg_rule_decl *rule = fg_detector_rule(ctx->inst->det, spec->rule_id);
    struct fg_rule_stat *rs = rule_stat(e, spec->rule_id);
    struct fg_alert a = {0};
    char psn_out[FG_PSN_PSEUDO_LEN + 1];
    int64_t expire;

    /* A detector emitting a rule it did not declare is a programming error. */
    FG_ASSERT(rule != NULL && rs != NULL && spec->violating != NULL);
    fg_alert_jr_id(rule->rule_id, e->pack->ident, spec->violating, a.jr_id);
    expire = spec->violating->expire_at;
    if (ctx->claim->event_time + e->o.event_dedup_days * FG_DAY > expire)
        expire = ctx->claim->event_time + e->o.event_dedup_days * FG_DAY;
    /* A rule switched off leaves no trace, not even the seen mark. */
    if (fg_det_rule_off(ctx->inst, rule)) {
        rs->disabled++;
        return;
    }
    /* A deferred judgement (no person) is made exactly once: its record
     * leaves the store with the batch that judges it. */
    if (ctx->person && e->st->ops->seen(e->st, ctx->person, FG_SEEN_ALERTS,
                                        fg_hash64(a.jr_id, 32), expire)) {
        e->stats.suppressed++;
        return;
    }
    if (ctx->inst->dry_run) {
        rs->dry_run++;
        return;
    }
    a.alert_type = "ALERT";
    a.rule = rule;
    a.det = ctx->inst->det;
    a.rule_pack = e->pack->ident;
    a.spec = spec;
    a.psn_no = fg_psn_out(ctx->claim->psn_no, psn_out);
    a.event_id = ctx->claim->event_id;
    a.event_time = ctx->claim->event_time;
    a.replay = e->o.replay;
    a.source = e->src;
    a.detected_at_ms = e->o.canonical ? 0 : now_ms();
    fg_buf_reset(&e->out);
    fg_alert_encode(&e->out, &a, e->o.canonical);
    if (e->o.out(e->o.out_opaque, e->out.data, e->out.len, spec->violating->fixmedins_code)) {
        e->stats.out_errors++;
        e->out_failed = 1;
        return;
    }
    rs->alerts++;
    rs->amount += spec->vola_amt;
    e->stats.alerts++;
    if (ctx->person)
        keep_alert(e, ctx->person, a.jr_id, spec, expire);
}

/* ---- complete days and deferred judgements ---- */

/* The days before it are complete when the slowest partition is here. */
static int64_t complete_at(const struct fg_engine *e, int64_t slowest)
{
    if (slowest == FG_PROGRESS_UNKNOWN)
        return INT64_MIN;
    if (slowest == FG_PROGRESS_IDLE)
        return INT64_MAX;
    return fg_cst_day(slowest - e->o.lateness);
}

static int64_t complete_before(const struct fg_engine *e)
{
    int64_t slowest;

    if (!e->progress_set)
        return fg_cst_day(e->watermark - e->o.lateness);
    slowest = e->others;
    for (size_t i = 0; i < e->nscopes; i++)
        if (e->bounds[i] < slowest)
            slowest = e->bounds[i];
    return complete_at(e, slowest);
}

int64_t fg_engine_complete_before(const struct fg_engine *e)
{
    return complete_before(e);
}

int64_t fg_ctx_complete_before(const struct fg_ctx *ctx)
{
    return complete_before(ctx->eng);
}

/* Days a day takes to complete after it ends (the lateness, rounded up). */
static int64_t settle_days(const struct fg_engine *e)
{
    return (e->o.lateness + FG_DAY - 1) / FG_DAY;
}

int64_t fg_ctx_settle_days(const struct fg_ctx *ctx)
{
    return settle_days(ctx->eng);
}

void fg_engine_set_progress(struct fg_engine *e, int64_t others, const int *scopes,
                            const int64_t *bounds, size_t n)
{
    int *sc = fg_malloc((n ? n : 1) * sizeof(*sc));
    int64_t *up = fg_malloc((n ? n : 1) * sizeof(*up));
    int64_t *bd = fg_malloc((n ? n : 1) * sizeof(*bd));

    /* A scope kept from before keeps its mark; a new one is read afresh. */
    for (size_t i = 0; i < n; i++) {
        sc[i] = scopes[i];
        bd[i] = bounds ? bounds[i] : others;
        up[i] = INT64_MIN;
        for (size_t k = 0; k < e->nscopes; k++)
            if (e->scopes[k] == scopes[i])
                up[i] = e->taken_upto[k];
    }
    free(e->scopes);
    free(e->taken_upto);
    free(e->bounds);
    e->scopes = sc;
    e->taken_upto = up;
    e->bounds = bd;
    e->nscopes = n;
    e->others = others;
    e->progress_set = 1;
}

/* An event of an owned partition is being processed: the partition has
 * got that far (the judging of the rest of the batch may use it). */
static void advance_scope(struct fg_engine *e, const struct fg_alert_source *src,
                          int64_t event_time)
{
    int64_t to;

    if (!e->progress_set || !src || !src->topic)
        return;
    to = src->progress ? src->progress : event_time;
    for (size_t i = 0; i < e->nscopes; i++)
        if (e->scopes[i] == src->partition) {
            if (e->bounds[i] == FG_PROGRESS_UNKNOWN || e->bounds[i] == FG_PROGRESS_IDLE ||
                to > e->bounds[i])
                e->bounds[i] = to;
            return;
        }
}

/* Record fields, in this order; strings are '=' + text with '%' and the
 * separator escaped, or empty for NULL. */
#define REC_SEP '\x1f'
#define REC_VERSION "d1"
#define REC_FIELDS 30   /* after the version */

static void rec_str(struct fg_buf *b, const char *v)
{
    fg_buf_putc(b, REC_SEP);
    if (!v)
        return;
    fg_buf_putc(b, '=');
    for (; *v; v++) {
        if (*v == '%')
            fg_buf_puts(b, "%25");
        else if (*v == REC_SEP)
            fg_buf_puts(b, "%1F");
        else
            fg_buf_putc(b, *v);
    }
}

static void rec_num(struct fg_buf *b, int64_t v)
{
    fg_buf_putc(b, REC_SEP);
    fg_buf_put_i64(b, v);
}

void fg_ctx_defer(struct fg_ctx *ctx, size_t i, int64_t ready_day)
{
    struct fg_engine *e = ctx->eng;
    const struct fg_claim *c = ctx->claim;
    const struct fg_line *l = &c->lines[i];
    const struct fg_wline *w = ctx->cur[i];
    const struct fg_alert_source *src = e->src;
    struct fg_buf *b = &e->rec;

    FG_ASSERT(i < c->nlines && ctx->person != NULL);
    fg_buf_reset(b);
    fg_buf_puts(b, REC_VERSION);
    rec_str(b, ctx->inst->det->name);
    rec_str(b, c->event_id);
    rec_str(b, c->psn_no);
    rec_str(b, c->fixmedins_code);
    rec_str(b, c->hosp_lv);
    rec_str(b, c->mdtrtarea_admvs);
    rec_str(b, c->setl_id);
    rec_str(b, c->mdtrt_id);
    rec_str(b, l->feedetl_sn);
    rec_str(b, l->hilist_code);
    rec_str(b, l->hilist_name);
    rec_str(b, l->list_type);
    rec_str(b, src ? src->topic : NULL);
    rec_str(b, src ? src->file : NULL);
    rec_num(b, c->event_time);
    rec_num(b, c->has);
    rec_num(b, l->fee_time);
    rec_num(b, l->pric);
    rec_num(b, l->cnt);
    rec_num(b, l->fee);
    rec_num(b, l->pric_uplmt);
    rec_num(b, l->inscp);
    rec_num(b, l->overlmt);
    rec_num(b, l->has);
    rec_num(b, w->net_cnt);
    rec_num(b, w->flags);
    rec_num(b, w->expire_at);
    rec_num(b, (int64_t)w->seq);
    rec_num(b, src ? src->partition : -1);
    rec_num(b, src ? (src->topic ? src->offset : src->line) : 0);
    int scope = src && src->topic ? src->partition : -1;
    e->st->ops->defer_add(e->st, scope, ready_day, b->data, b->len);
    if (ready_day < e->held_ready)
        e->held_ready = ready_day;
    /* Records of the scope ready before its mark were all taken; this one
     * is not (its partition's progress went back during the batch: an
     * idle partition judged events again). Take from it on next time. */
    for (size_t k = 0; k < e->nscopes; k++)
        if (e->scopes[k] == scope && e->taken_upto[k] >= ready_day)
            e->taken_upto[k] = ready_day - 1;   /* a take includes its mark */
    e->stats.deferred++;
}

/* Splits buf in place; unescapes strings. Returns 0, or -1 if malformed. */
static int rec_split(char *buf, char *f[REC_FIELDS + 1])
{
    size_t n = 0;
    char *p = buf;

    for (;;) {
        char *sep = strchr(p, REC_SEP);
        if (n > REC_FIELDS)
            return -1;
        f[n++] = p;
        if (!sep)
            break;
        *sep = '\0';
        p = sep + 1;
    }
    if (n != REC_FIELDS + 1 || strcmp(f[0], REC_VERSION) != 0)
        return -1;
    return 0;
}

static const char *rec_unstr(char *v)
{
    char *out = v;

    if (*v != '=')
        return NULL;
    for (const char *in = v + 1; *in; in++) {
        if (in[0] == '%' && in[1] && in[2]) {
            char hex[3] = {in[1], in[2], 0};
            *out++ = (char)strtol(hex, NULL, 16);
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return v;
}

static void on_due(void *opaque, int scope, const char *rec, size_t len)
{
    struct fg_engine *e = opaque;
    char *f[REC_FIELDS + 1];
    struct deferred *d;
    char *buf;

    /* A remote store hands a scope's records together: look further only
     * when the scope changes. */
    if (e->due_scope >= e->nscopes || e->scopes[e->due_scope] != scope)
        for (e->due_scope = 0; e->due_scope < e->nscopes; e->due_scope++)
            if (e->scopes[e->due_scope] == scope)
                break;
    if (e->due_scope < e->nscopes)
        e->due_from[e->due_scope]++;
    buf = fg_strndup(rec, len);
    if (rec_split(buf, f)) {
        fg_log_error("msg=\"unreadable deferred judgement dropped\" record=\"%.60s\"", rec);
        e->stats.deferred_lost++;
        free(buf);
        return;
    }
    FG_VEC_GROW(e->due, e->ndue, e->capdue, 8);
    d = &e->due[e->ndue++];
    memset(d, 0, sizeof(*d));
    d->buf = buf;
    d->det = rec_unstr(f[1]);
    d->claim.type = FG_EV_SETTLEMENT;
    d->claim.event_id = rec_unstr(f[2]);
    d->claim.psn_no = rec_unstr(f[3]);
    d->claim.fixmedins_code = rec_unstr(f[4]);
    d->claim.hosp_lv = rec_unstr(f[5]);
    d->claim.mdtrtarea_admvs = rec_unstr(f[6]);
    d->claim.setl_id = rec_unstr(f[7]);
    d->claim.mdtrt_id = rec_unstr(f[8]);
    d->line.feedetl_sn = rec_unstr(f[9]);
    d->line.hilist_code = rec_unstr(f[10]);
    d->line.hilist_name = rec_unstr(f[11]);
    d->line.list_type = rec_unstr(f[12]);
    d->src.topic = rec_unstr(f[13]);
    d->src.file = rec_unstr(f[14]);
    d->claim.event_time = strtoll(f[15], NULL, 10);
    d->claim.has = (unsigned)strtoul(f[16], NULL, 10);
    d->line.fee_time = strtoll(f[17], NULL, 10);
    d->line.pric = strtoll(f[18], NULL, 10);
    d->line.cnt = strtoll(f[19], NULL, 10);
    d->line.fee = strtoll(f[20], NULL, 10);
    d->line.pric_uplmt = strtoll(f[21], NULL, 10);
    d->line.inscp = strtoll(f[22], NULL, 10);
    d->line.overlmt = strtoll(f[23], NULL, 10);
    d->line.has = (unsigned)strtoul(f[24], NULL, 10);
    d->claim.nlines = 1;   /* lines: set by due_take once the vector is built */
    d->w = (struct fg_wline){
        .seq = (uint64_t)strtoull(f[28], NULL, 10),
        .fee_time = d->line.fee_time,
        .day = fg_cst_day(d->line.fee_time),
        .pric = d->line.pric,
        .cnt = d->line.cnt,
        .net_cnt = strtoll(f[25], NULL, 10),
        .inscp = (d->line.has & FG_HAS_INSCP) ? d->line.inscp : 0,
        .expire_at = strtoll(f[27], NULL, 10),
        .flags = (uint32_t)strtoul(f[26], NULL, 10),
        .code = d->line.hilist_code,
        .fixmedins_code = d->claim.fixmedins_code,
        .mdtrt_id = d->claim.mdtrt_id,
        .feedetl_sn = d->line.feedetl_sn,
        .setl_id = d->claim.setl_id,
        .ident = fg_wline_ident(d->claim.fixmedins_code, d->claim.mdtrt_id,
                                d->line.feedetl_sn),
    };
    d->src.partition = (int)strtol(f[29], NULL, 10);
    if (d->src.topic)
        d->src.offset = strtoll(f[30], NULL, 10);
    else
        d->src.line = strtoll(f[30], NULL, 10);
}

struct fg_batch_ctx {
    struct fg_map groups;   /* distinct groups wanted, keys owned */
    char **keys;
    int64_t *from, *to;     /* each group's days read (the union announced) */
    int64_t *first_to;      /* the earliest last day announced: when it is
                             * not complete, no judgement reads the group */
    size_t n, cap;
    int64_t complete_before, settle_days;
};

int64_t fg_batch_settle_days(const struct fg_batch_ctx *b)
{
    return b->settle_days;
}

void fg_prefetch_hist(struct fg_batch_ctx *b, const char *group, int64_t from, int64_t to)
{
    /* A remote store fetches a group's whole recent history, unless it
     * knows there is none over the days read. */
    uintptr_t at = (uintptr_t)fg_map_get(&b->groups, group, strlen(group));

    if (at) {
        if (from < b->from[at - 1])
            b->from[at - 1] = from;
        if (to > b->to[at - 1])
            b->to[at - 1] = to;
        if (to < b->first_to[at - 1])
            b->first_to[at - 1] = to;
        return;
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->keys = fg_realloc(b->keys, b->cap * sizeof(*b->keys));
        b->from = fg_realloc(b->from, b->cap * sizeof(*b->from));
        b->to = fg_realloc(b->to, b->cap * sizeof(*b->to));
        b->first_to = fg_realloc(b->first_to, b->cap * sizeof(*b->first_to));
    }
    b->keys[b->n] = fg_strdup(group);
    b->from[b->n] = from;
    b->to[b->n] = to;
    b->first_to[b->n] = to;
    fg_map_put(&b->groups, b->keys[b->n], strlen(b->keys[b->n]), (void *)(uintptr_t)(b->n + 1));
    b->n++;
}

/* The groups whose histograms the detectors will read judging these
 * claims (their prefetch()), wanted from the store with the claims'
 * persons. */
static void batch_groups(struct fg_engine *e, const struct fg_claim *const *claims, size_t n,
                         struct fg_batch_ctx *b)
{
    memset(b, 0, sizeof(*b));
    fg_map_init(&b->groups);
    b->complete_before = complete_before(e);
    b->settle_days = settle_days(e);
    for (size_t d = 0; d < e->ds->n && n; d++) {
        struct fg_det_inst *in = &e->ds->v[d];
        if (in->enabled && in->det->prefetch)
            in->det->prefetch(b, in->conf, in->priv, claims, n);
    }
}

/* Keeps only the groups a judgement may read in this batch: one of
 * whose announced ranges ends before cb. */
static void groups_judgeable(struct fg_batch_ctx *b, int64_t cb)
{
    size_t k = 0;

    /* (the map of names goes: it would keep the names dropped) */
    fg_map_fini(&b->groups);
    fg_map_init(&b->groups);
    for (size_t i = 0; i < b->n; i++) {
        if (b->first_to[i] >= cb) {
            free(b->keys[i]);
            continue;
        }
        b->keys[k] = b->keys[i];
        b->from[k] = b->from[i];
        b->to[k] = b->to[i];
        b->first_to[k] = b->first_to[i];
        k++;
    }
    b->n = k;
}

static void batch_groups_free(struct fg_batch_ctx *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->keys[i]);
    free(b->keys);
    free(b->from);
    free(b->to);
    free(b->first_to);
    fg_map_fini(&b->groups);
}

static void due_clear(struct fg_engine *e)
{
    for (size_t i = 0; i < e->ndue; i++)
        free(e->due[i].buf);
    e->ndue = 0;
}

/* Bring the persons of the taken records, and the histograms their
 * judgements read, into the batch. */
static int due_load(struct fg_engine *e)
{
    const char **psn;
    int *parts;
    const struct fg_claim **claims;
    struct fg_batch_ctx b;
    struct fg_batch_reads rd = {0};
    int rc;

    if (!e->ndue)
        return 0;
    psn = fg_malloc(e->ndue * sizeof(*psn));
    parts = fg_malloc(e->ndue * sizeof(*parts));
    claims = fg_malloc(e->ndue * sizeof(*claims));
    for (size_t i = 0; i < e->ndue; i++) {
        psn[i] = e->due[i].claim.psn_no;
        parts[i] = e->due[i].src.topic ? e->due[i].src.partition : -1;
        claims[i] = &e->due[i].claim;
    }
    batch_groups(e, claims, e->ndue, &b);
    rd.psn_nos = psn;
    rd.parts = parts;
    rd.n = e->ndue;
    rd.groups = (const char *const *)b.keys;
    rd.ngroups = b.n;
    rd.from = b.from;
    rd.to = b.to;
    rd.complete_before = b.complete_before;
    rc = e->st->ops->load_more(e->st, &rd);
    batch_groups_free(&b);
    free(claims);
    free(parts);
    free(psn);
    return rc;
}

/* Take what has become ready for the scopes this worker owns: all of it,
 * or with a limit, at most its share per scope. A scope that handed its
 * whole share may have more: its mark stays, and the next batch takes on
 * from there (the records taken now are gone from the store by then). */
static int due_take(struct fg_engine *e)
{
    int64_t cb = complete_before(e);
    /* Records deferred by batches held (fg_engine_batch_hold) are not in
     * the store yet: no take may pass them, or its mark would. */
    if (cb >= e->held_ready)
        cb = e->held_ready - 1;
    int *want = fg_malloc((e->nscopes ? e->nscopes : 1) * sizeof(*want));
    size_t n = 0, each = 0;
    int rc = 0;

    due_clear(e);
    e->due_from = fg_realloc(e->due_from, (e->nscopes ? e->nscopes : 1) * sizeof(*e->due_from));
    for (size_t i = 0; i < e->nscopes; i++) {
        e->due_from[i] = 0;
        /* Progress can go back (an idle partition receives events again);
         * records deferred from then on are ready only past the new mark,
         * so take again from there. */
        if (e->taken_upto[i] > cb)
            e->taken_upto[i] = cb;
        if (cb > e->taken_upto[i])
            want[n++] = e->scopes[i];
    }
    if (n && e->due_limit)
        each = (e->due_limit + n - 1) / n;
    e->due_scope = 0;
    if (n)
        rc = e->st->ops->defer_take(e->st, want, n, cb, each, on_due, e);
    /* The vector may have moved while it grew: point each record's claim
     * at its own line and entry only now. */
    for (size_t i = 0; i < e->ndue; i++) {
        e->due[i].claim.lines = &e->due[i].line;
        e->due[i].wp = &e->due[i].w;
    }
    e->due_more = 0;
    for (size_t i = 0; i < e->nscopes && rc == 0; i++) {
        if (each && e->due_from[i] >= each)
            e->due_more = 1;
        else if (cb > e->taken_upto[i])
            e->taken_upto[i] = cb;
    }
    free(want);
    return rc;
}

void fg_engine_set_due_limit(struct fg_engine *e, size_t max)
{
    e->due_limit = max;
}

int fg_engine_due_more(const struct fg_engine *e)
{
    return e->due_more;
}

/* The line's settlement was revoked since it was deferred (if the line is
 * still in the person's window to tell). */
static int line_revoked(struct fg_engine *e, struct fg_person *p, const struct fg_wline *w)
{
    struct fg_wline **win;
    size_t n = e->st->ops->window(e->st, p, &win);

    for (size_t i = 0; i < n; i++)
        if ((win[i]->flags & FG_WL_REVOKED) && fg_wline_same(win[i], w))
            return 1;
    return 0;
}

/* Judge the taken records with their persons loaded (so their alerts are
 * de-duplicated and kept for retraction like any other); the alerts carry
 * their original source. */
static void due_judge(struct fg_engine *e)
{
    for (size_t i = 0; i < e->ndue; i++) {
        struct deferred *d = &e->due[i];
        struct fg_det_inst *in = NULL;
        for (size_t k = 0; k < e->ds->n && !in; k++)
            if (d->det && strcmp(e->ds->v[k].det->name, d->det) == 0)
                in = &e->ds->v[k];
        if (!in || !in->enabled || !in->det->deferred) {
            e->stats.deferred_lost++;   /* detector gone since (a reload) */
            continue;
        }
        struct fg_person *p = e->st->ops->person(e->st, d->claim.psn_no);
        struct fg_ctx ctx = {e, in, &d->claim, p, &d->wp};
        e->stats.deferred_done++;
        if (line_revoked(e, p, &d->w))
            continue;   /* its settlement was withdrawn meanwhile */
        e->src = &d->src;
        in->det->deferred(&ctx, in->conf, in->priv);
    }
}

/* What a store may forget: nothing a judgement still to come can read.
 * Live, a partition ahead of the others must not sweep away the days a
 * lagging one's judgements are waiting for. */
static int64_t sweep_mark(const struct fg_engine *e)
{
    int64_t t = e->watermark - e->o.lateness;

    int64_t cb = complete_before(e);

    if (e->progress_set && cb != INT64_MAX) {
        int64_t c = cb == INT64_MIN ? INT64_MIN / 2 : fg_cst_day_start(cb);
        if (c < t)
            t = c;
    }
    return t;
}

/* ---- settlement revocations ---- */

/* A kept alert record, split in place (see keep_alert). */
struct kept {
    const char *jr_id, *rule_id, *setl_id, *feedetl_sn, *code, *mdtrt_id, *fixmedins_code;
    int64_t amt;
    const char **setl;   /* the violating line's, then the involved lines' */
    size_t nsetl;
    char *f[64];         /* the fields; setl points into it */
};

static int kept_parse(char *buf, struct kept *k)
{
    char **f = k->f;
    size_t n = 0;

    for (char *p = buf;;) {
        char *sep = strchr(p, REC_SEP);
        if (n == 64)
            return -1;
        f[n++] = p;
        if (!sep)
            break;
        *sep = '\0';
        p = sep + 1;
    }
    if (n < 9)
        return -1;
    k->jr_id = f[0];
    k->rule_id = rec_unstr(f[1]);
    k->amt = strtoll(f[2], NULL, 10);
    k->setl_id = rec_unstr(f[3]);
    k->feedetl_sn = rec_unstr(f[4]);
    k->code = rec_unstr(f[5]);
    k->mdtrt_id = rec_unstr(f[6]);
    k->fixmedins_code = rec_unstr(f[7]);
    k->nsetl = (size_t)strtoul(f[8], NULL, 10);
    if (!k->rule_id || !k->setl_id || n != 9 + k->nsetl)
        return -1;
    for (size_t i = 0; i < k->nsetl; i++)
        f[9 + i] = (char *)rec_unstr(f[9 + i]);
    f[8] = (char *)k->setl_id;    /* the violating line's settlement first */
    k->setl = (const char **)&f[8];
    k->nsetl++;
    return 0;
}

/* Publish the withdrawal of a kept alert: the original jr_id, rule and
 * amount, the violating line; event_id/event_time are the revocation's. */
static int retract(struct fg_engine *e, const struct fg_claim *c, const struct kept *k)
{
    struct fg_rule_stat *rs = rule_stat(e, k->rule_id);
    const struct fg_rule_decl *rule = rs ? fg_detector_rule(rs->det, k->rule_id) : NULL;
    struct fg_wline v = {.setl_id = k->setl_id, .feedetl_sn = k->feedetl_sn,
                         .code = k->code, .mdtrt_id = k->mdtrt_id,
                         .fixmedins_code = k->fixmedins_code};
    struct fg_alert_spec spec = {.rule_id = k->rule_id, .violating = &v, .vola_amt = k->amt};
    struct fg_alert a = {0};
    char psn_out[FG_PSN_PSEUDO_LEN + 1];

    if (!rule) {
        fg_log_warn("msg=\"cannot retract: rule no longer loaded\" rule=%s jr_id=%s",
                    k->rule_id, k->jr_id);
        return 0;
    }
    snprintf(spec.vola_cont, sizeof(spec.vola_cont), "结算 %s 已撤销(%s), 原预警 %s 撤回",
             c->setl_id, c->event_id, k->jr_id);
    snprintf(spec.vola_evid, sizeof(spec.vola_evid), "SETTLEMENT_REVOKE %s", c->event_id);
    snprintf(a.jr_id, sizeof(a.jr_id), "%s", k->jr_id);
    a.alert_type = "RETRACT";
    a.rule = rule;
    a.det = rs->det;
    a.rule_pack = e->pack->ident;
    a.spec = &spec;
    a.psn_no = fg_psn_out(c->psn_no, psn_out);
    a.event_id = c->event_id;
    a.event_time = c->event_time;
    a.replay = e->o.replay;
    a.source = e->src;
    a.detected_at_ms = e->o.canonical ? 0 : now_ms();
    fg_buf_reset(&e->out);
    fg_alert_encode(&e->out, &a, e->o.canonical);
    if (e->o.out(e->o.out_opaque, e->out.data, e->out.len, k->fixmedins_code)) {
        e->stats.out_errors++;
        return -1;
    }
    rs->retracted++;
    e->stats.retracts++;
    return 0;
}

/* SETTLEMENT_REVOKE: the settlement's lines stop counting in every window
 * (a later event is judged as if they never happened), and every alert
 * that involved one of them is withdrawn with a RETRACT. */
static int revoke(struct fg_engine *e, const struct fg_claim *c)
{
    const struct fg_state_ops *ops = e->st->ops;
    struct fg_person *p = ops->person(e->st, c->psn_no);
    struct fg_wline **win;
    const char *const *recs;
    char **gone = NULL;
    size_t n, ngone = 0, lines = 0;
    int rc = FG_OK;

    if (ops->seen(e->st, p, FG_SEEN_EVENTS, fg_hash64_str(c->event_id),
                  c->event_time + e->o.event_dedup_days * FG_DAY)) {
        e->stats.duplicates++;
        return FG_OK;
    }
    fg_person_set_watermark(p, c->event_time);
    e->stats.revokes++;
    n = ops->window(e->st, p, &win);
    for (size_t i = 0; i < n; i++)
        if (strcmp(win[i]->setl_id, c->setl_id) == 0 &&
            strcmp(win[i]->fixmedins_code, c->fixmedins_code) == 0 &&
            !(win[i]->flags & FG_WL_REVOKED)) {
            win[i]->flags |= FG_WL_REVOKED | FG_WL_CANCELLED;
            ops->update_line(e->st, p, win[i]);
            lines++;
        }
    e->stats.revoked_lines += lines;
    n = ops->alert_list(e->st, p, &recs);
    gone = fg_calloc(n ? n : 1, sizeof(*gone));
    for (size_t i = 0; i < n && rc == FG_OK; i++) {
        char *buf = fg_strdup(recs[i]);
        struct kept k;
        int hit = 0;
        if (kept_parse(buf, &k) == 0)
            for (size_t j = 0; j < k.nsetl && !hit; j++)
                hit = k.setl[j] && strcmp(k.setl[j], c->setl_id) == 0;
        if (hit) {
            if (retract(e, c, &k))
                rc = FG_ERR;
            else
                gone[ngone++] = fg_strdup(k.jr_id);
        }
        free(buf);
    }
    for (size_t i = 0; i < ngone; i++) {
        ops->alert_forget(e->st, p, gone[i]);
        free(gone[i]);
    }
    free(gone);
    if (!lines && !ngone)
        e->stats.revokes_unmatched++;   /* unknown, expired or already revoked */
    return rc;
}

/* ---- refunds ---- */

/* A line past its expiry is gone, whether or not the store has swept it
 * yet: decisions must not depend on when sweeps happen to run, nor on how
 * far other partitions have got, so the person's own watermark decides. */
static int expired(const struct fg_engine *e, const struct fg_person *p,
                   const struct fg_wline *w)
{
    return w->expire_at < fg_person_watermark(p) - e->o.lateness;
}

/* Net a refund line against its target; see detectors/README.md. */
static void net_refund(struct fg_engine *e, struct fg_person *p,
                       struct fg_wline *refund, const struct fg_line *line)
{
    struct fg_wline **win, *target = NULL;
    size_t n = e->st->ops->window(e->st, p, &win);

    for (size_t i = n; i-- > 0;) {
        struct fg_wline *w = win[i];
        if (w == refund || (w->flags & FG_WL_REFUND) || expired(e, p, w) ||
            strcmp(w->mdtrt_id, refund->mdtrt_id))
            continue;
        if (line->init_feedetl_sn) {
            if (strcmp(w->feedetl_sn, line->init_feedetl_sn) == 0) {
                target = w;
                break;
            }
        } else if (w->net_cnt > 0 && w->pric == refund->pric &&
                   strcmp(w->code, refund->code) == 0) {
            target = w;
            break;
        }
    }
    if (!target) {
        e->stats.refunds_unmatched++;
        return;
    }
    target->net_cnt += refund->cnt;
    if (target->net_cnt <= 0) {
        target->net_cnt = 0;
        target->flags |= FG_WL_CANCELLED;
    }
    target->flags |= FG_WL_REFUNDED;
    e->st->ops->update_line(e->st, p, target);
}

/* A line whose identity (institution, visit, feedetl_sn) is already in the
 * window was sent again in a later settlement of the same visit, as after
 * a re-settlement: the newer copy replaces the older one, which stops
 * counting toward any window. */
static void supersede(struct fg_engine *e, struct fg_person *p, size_t nnew)
{
    struct fg_wline **win;
    size_t n = e->st->ops->window(e->st, p, &win);

    for (size_t i = 0; i < nnew; i++) {
        struct fg_wline *cur = e->cur[i];
        if (cur->flags & FG_WL_REFUND)
            continue;
        for (size_t j = 0; j < n && win[j]->seq < cur->seq; j++) {
            struct fg_wline *w = win[j];
            if ((w->flags & (FG_WL_REFUND | FG_WL_CANCELLED)) || !fg_wline_same(w, cur) ||
                expired(e, p, w))
                continue;
            w->net_cnt = 0;
            w->flags |= FG_WL_CANCELLED;
            e->st->ops->update_line(e->st, p, w);
            e->stats.superseded++;
        }
    }
}

int fg_engine_process(struct fg_engine *e, const struct fg_claim *c,
                      const struct fg_alert_source *src)
{
    const struct fg_state_ops *ops = e->st->ops;
    struct fg_person *p;
    int64_t dedup = e->o.event_dedup_days * FG_DAY;

    e->stats.events++;
    e->src = src;
    e->out_failed = 0;
    if (c->event_time > e->watermark)
        e->watermark = c->event_time;
    advance_scope(e, src, c->event_time);
    if (c->type == FG_EV_SETTLEMENT_REVOKE)
        return revoke(e, c);
    if (c->type != FG_EV_SETTLEMENT) {
        /* Visits carry no fee lines: counted, no state. */
        e->stats.other_events++;
        return 0;
    }
    p = ops->person(e->st, c->psn_no);
    if (ops->seen(e->st, p, FG_SEEN_EVENTS, fg_hash64_str(c->event_id),
                  c->event_time + dedup)) {
        e->stats.duplicates++;
        return 0;
    }
    fg_person_set_watermark(p, c->event_time);
    e->stats.settlements++;
    e->stats.lines += c->nlines;
    if (c->nlines > e->cur_cap) {
        e->cur_cap = c->nlines * 2;
        e->cur = fg_realloc(e->cur, e->cur_cap * sizeof(*e->cur));
    }

    /* Lines join the window first, so each is judged against the earlier
     * lines of its own event too; detectors only look at lower seqs. */
    for (size_t i = 0; i < c->nlines; i++) {
        const struct fg_line *l = &c->lines[i];
        struct fg_line_init in = {
            .fee_time = l->fee_time,
            .pric = l->pric,
            .cnt = l->cnt,
            .inscp = (l->has & FG_HAS_INSCP) ? l->inscp : 0,
            .expire_at = l->fee_time,
            .flags = ((l->has & FG_HAS_INSCP) ? FG_WL_HAS_INSCP : 0) |
                     (l->cnt < 0 ? FG_WL_REFUND : 0),
            .code = l->hilist_code,
            .fixmedins_code = c->fixmedins_code,
            .mdtrt_id = c->mdtrt_id,
            .feedetl_sn = l->feedetl_sn,
            .setl_id = c->setl_id,
        };
        e->cur[i] = ops->add_line(e->st, p, &in);
    }
    /* Each line is kept as long as the most demanding detector needs it,
     * counted from the later of its fee time and its arrival: a settlement
     * may carry lines dated days back (a stay settled at discharge), and
     * those must stay visible to the event itself and to the next ones. */
    for (size_t i = 0; i < c->nlines; i++) {
        int64_t keep = 0;
        for (size_t d = 0; d < e->ds->n; d++) {
            struct fg_det_inst *in = &e->ds->v[d];
            if (in->enabled && in->det->retention) {
                int64_t k = in->det->retention(in->conf, in->priv, e->pack, e->cur[i]);
                if (k > keep)
                    keep = k;
            }
        }
        e->cur[i]->expire_at =
            (e->cur[i]->fee_time > c->event_time ? e->cur[i]->fee_time : c->event_time) + keep;
    }
    supersede(e, p, c->nlines);
    for (size_t i = 0; i < c->nlines; i++)
        if (c->lines[i].cnt < 0) {
            e->stats.refunds++;
            net_refund(e, p, e->cur[i], &c->lines[i]);
        }

    for (size_t d = 0; d < e->ds->n; d++) {
        struct fg_det_inst *in = &e->ds->v[d];
        struct fg_ctx ctx = {e, in, c, p, e->cur};
        if (!in->enabled)
            continue;
        in->det->check(&ctx, in->conf, in->priv);
    }
    ops->advance(e->st, sweep_mark(e));
    return e->out_failed ? FG_ERR : FG_OK;
}

int fg_engine_batch_begin(struct fg_engine *e, struct fg_claim *const *claims, size_t n,
                          const struct fg_exchange *x)
{
    const char **psn = fg_malloc((n ? n : 1) * sizeof(*psn));
    int *parts = fg_malloc((n ? n : 1) * sizeof(*parts));
    struct fg_batch_ctx b;
    struct fg_batch_reads rd = {0};
    int rc;

    for (size_t i = 0; i < n; i++) {
        psn[i] = claims[i]->psn_no;
        parts[i] = x && x->srcs && x->srcs[i].topic ? x->srcs[i].partition : -1;
    }
    rd.parts = parts;
    batch_groups(e, (const struct fg_claim *const *)claims, n, &b);
    if (x && x->bounded)
        groups_judgeable(&b, complete_at(e, x->bound));
    rd.psn_nos = psn;
    rd.n = n;
    rd.groups = (const char *const *)b.keys;
    rd.ngroups = b.n;
    rd.from = b.from;
    rd.to = b.to;
    rd.complete_before = b.complete_before;
    if (x) {
        rd.topic = x->topic;
        rd.all = x->all;
        rd.nparts = x->nparts;
    }
    rc = e->st->ops->begin_batch(e->st, &rd) ? FG_EAGAIN : FG_OK;
    batch_groups_free(&b);
    free(psn);
    free(parts);
    /* The commit sent before (batch_send) was read with these reads. If
     * it failed, that batch must run again before this one. */
    if (e->sent && !e->sent_known) {
        e->sent_rc = e->st->ops->commit_wait(e->st);
        e->sent_known = 1;
    }
    if (rc == FG_OK && e->sent && e->sent_rc) {
        fg_engine_batch_abort(e);
        rc = FG_EAGAIN;
    }
    if (rc)
        return rc;
    if (x && x->apply)
        x->apply(x->opaque);
    /* Deferred judgements that became ready go first: they read only
     * complete days, which nothing in this batch can change. */
    if (due_take(e) || due_load(e)) {
        fg_engine_batch_abort(e);
        return FG_EAGAIN;
    }
    if (e->ndue) {
        e->out_failed = 0;
        due_judge(e);
        if (e->out_failed)
            rc = FG_ERR;
    }
    due_clear(e);
    if (rc)
        fg_engine_batch_abort(e);
    return rc;
}

int fg_engine_batch_prepare(struct fg_engine *e)
{
    if (!e->st->ops->commit_prepare)
        return FG_OK;
    return e->st->ops->commit_prepare(e->st) ? FG_EAGAIN : FG_OK;
}

int fg_engine_batch_commit(struct fg_engine *e)
{
    e->held_ready = INT64_MAX;
    return e->st->ops->commit_batch(e->st) ? FG_EAGAIN : FG_OK;
}

int fg_engine_batch_send(struct fg_engine *e)
{
    int rc;

    if (!e->st->ops->commit_send)
        return fg_engine_batch_commit(e);
    e->held_ready = INT64_MAX;   /* written before anything read next */
    rc = e->st->ops->commit_send(e->st) ? FG_EAGAIN : FG_OK;
    if (rc == FG_OK) {
        e->sent = 1;
        e->sent_known = 0;
    }
    return rc;
}

int fg_engine_batch_hold(struct fg_engine *e)
{
    int rc;

    if (!e->st->ops->hold_batch)
        return FG_ERR;
    /* Records deferred wait in the store only from the commit on:
     * due_take keeps below them. */
    rc = e->st->ops->hold_batch(e->st);
    if (rc < 0) {
        fg_engine_batch_abort(e);
        return FG_EAGAIN;
    }
    return FG_OK;
}

int fg_engine_batch_settle(struct fg_engine *e)
{
    if (!e->sent)
        return FG_OK;
    if (!e->sent_known)
        e->sent_rc = e->st->ops->commit_wait(e->st);
    e->sent = e->sent_known = 0;
    return e->sent_rc ? FG_EAGAIN : FG_OK;
}

int fg_engine_process_batch(struct fg_engine *e, struct fg_claim *const *claims,
                            const struct fg_alert_source *srcs, size_t n)
{
    int rc = fg_engine_batch_begin(e, claims, n, NULL);

    for (size_t i = 0; i < n && rc == FG_OK; i++)
        rc = fg_engine_process(e, claims[i], &srcs[i]);
    if (rc == FG_OK)
        rc = fg_engine_batch_commit(e);
    else
        fg_engine_batch_abort(e);
    return rc;
}

void fg_engine_batch_abort(struct fg_engine *e)
{
    /* Records taken for the abandoned batch are still in a remote store
     * (their removal was part of the commit): take them again. The
     * embedded store cannot abort, and has nothing left to take. */
    for (size_t i = 0; i < e->nscopes; i++)
        e->taken_upto[i] = INT64_MIN;
    e->held_ready = INT64_MAX;
    e->st->ops->abort_batch(e->st);
}

void fg_engine_set_detectors(struct fg_engine *e, struct fg_detectors *ds,
                             const struct fg_pack *pack)
{
    e->ds = ds;
    e->pack = pack;
}

void fg_engine_mark_take(const struct fg_engine *e, struct fg_engine_mark *m)
{
    m->stats = e->stats;
    m->rules = fg_realloc(m->rules, (e->stats.nrules ? e->stats.nrules : 1) * sizeof(*m->rules));
    memcpy(m->rules, e->stats.rules, e->stats.nrules * sizeof(*m->rules));
    m->taken = 1;
}

void fg_engine_mark_restore(struct fg_engine *e, const struct fg_engine_mark *m)
{
    struct fg_rule_stat *rules = e->stats.rules;
    size_t n = e->stats.nrules;

    if (!m->taken)
        return;
    /* Rules added since (a reload) keep their counts. */
    memcpy(rules, m->rules, (m->stats.nrules < n ? m->stats.nrules : n) * sizeof(*rules));
    e->stats = m->stats;
    e->stats.rules = rules;
    e->stats.nrules = n;
}

void fg_engine_mark_free(struct fg_engine_mark *m)
{
    free(m->rules);
    memset(m, 0, sizeof(*m));
}

void fg_engine_stats_checkpoint(struct fg_engine *e)
{
    fg_engine_mark_take(e, &e->saved);
}

void fg_engine_stats_rollback(struct fg_engine *e)
{
    fg_engine_mark_restore(e, &e->saved);
}
