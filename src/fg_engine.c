/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_engine.c: the per-event pipeline.
 */
#include "fg_engine.h"
#include "fg_common.h"
#include "fg_fixed.h"
#include "fg_hash.h"

#include <string.h>
#include <time.h>

struct fg_ctx {
    struct fg_engine *eng;
    struct fg_det_inst *inst;
    const struct fg_claim *claim;
    struct fg_person *person;
    struct fg_wline **cur;        /* window entry of each claim line */
};

struct fg_engine {
    struct fg_engine_stats saved;   /* checkpoint of stats (rules copied) */
    struct fg_rule_stat *saved_rules;
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
    free(e->saved_rules);
    free(e->stats.rules);
    free(e->cur);
    fg_buf_fini(&e->out);
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
    size_t n = ctx->eng->st->ops->window(ctx->eng->st, ctx->person, &w);

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

void fg_emit(struct fg_ctx *ctx, const struct fg_alert_spec *spec)
{
    struct fg_engine *e = ctx->eng;
    const struct fg_rule_decl *rule = fg_detector_rule(ctx->inst->det, spec->rule_id);
    struct fg_rule_stat *rs = rule_stat(e, spec->rule_id);
    struct fg_alert a = {0};
    int64_t expire;

    /* A detector emitting a rule it did not declare is a programming error. */
    FG_ASSERT(rule != NULL && rs != NULL && spec->violating != NULL);
    fg_alert_jr_id(rule->rule_id, e->pack->ident, spec->violating, a.jr_id);
    expire = spec->violating->expire_at;
    if (ctx->claim->event_time + e->o.event_dedup_days * FG_DAY > expire)
        expire = ctx->claim->event_time + e->o.event_dedup_days * FG_DAY;
    if (e->st->ops->seen(e->st, ctx->person, FG_SEEN_ALERTS, fg_hash64(a.jr_id, 32),
                         expire)) {
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
    a.psn_no = ctx->claim->psn_no;
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
            if ((w->flags & (FG_WL_REFUND | FG_WL_CANCELLED)) || expired(e, p, w) ||
                strcmp(w->feedetl_sn, cur->feedetl_sn) || strcmp(w->mdtrt_id, cur->mdtrt_id) ||
                strcmp(w->fixmedins_code, cur->fixmedins_code))
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
    if (c->type != FG_EV_SETTLEMENT) {
        /* Visits carry no fee lines; revocations are retracted by a later
         * stage (issue 5). Both are counted, neither changes state yet. */
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
    ops->advance(e->st, e->watermark - e->o.lateness);
    return e->out_failed ? FG_ERR : FG_OK;
}

struct fg_batch_ctx {
    struct fg_map groups;   /* distinct groups wanted, keys owned */
    char **keys;
    size_t n, cap;
};

void fg_prefetch_hist(struct fg_batch_ctx *b, const char *group, int64_t from, int64_t to)
{
    (void)from;
    (void)to;   /* a remote store fetches a group's whole recent history */
    if (fg_map_get(&b->groups, group, strlen(group)))
        return;
    FG_VEC_GROW(b->keys, b->n, b->cap, 64);
    b->keys[b->n] = fg_strdup(group);
    fg_map_put(&b->groups, b->keys[b->n], strlen(b->keys[b->n]), b->keys[b->n]);
    b->n++;
}

int fg_engine_batch_begin(struct fg_engine *e, struct fg_claim *const *claims, size_t n)
{
    const char **psn = fg_malloc((n ? n : 1) * sizeof(*psn));
    struct fg_batch_ctx b = {0};
    int rc;

    for (size_t i = 0; i < n; i++)
        psn[i] = claims[i]->psn_no;
    rc = e->st->ops->begin_batch(e->st, psn, n) ? FG_EAGAIN : FG_OK;
    free(psn);
    if (rc)
        return rc;
    fg_map_init(&b.groups);
    for (size_t d = 0; d < e->ds->n; d++) {
        struct fg_det_inst *in = &e->ds->v[d];
        if (in->enabled && in->det->prefetch)
            in->det->prefetch(&b, in->conf, in->priv,
                              (const struct fg_claim *const *)claims, n);
    }
    if (b.n && e->st->ops->hist_prefetch(e->st, (const char *const *)b.keys, b.n))
        rc = FG_EAGAIN;
    for (size_t i = 0; i < b.n; i++)
        free(b.keys[i]);
    free(b.keys);
    fg_map_fini(&b.groups);
    if (rc)
        e->st->ops->abort_batch(e->st);
    return rc;
}

int fg_engine_batch_commit(struct fg_engine *e)
{
    return e->st->ops->commit_batch(e->st) ? FG_EAGAIN : FG_OK;
}

int fg_engine_process_batch(struct fg_engine *e, struct fg_claim *const *claims,
                            const struct fg_alert_source *srcs, size_t n)
{
    int rc = fg_engine_batch_begin(e, claims, n);

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
    e->st->ops->abort_batch(e->st);
}

void fg_engine_set_detectors(struct fg_engine *e, struct fg_detectors *ds,
                             const struct fg_pack *pack)
{
    e->ds = ds;
    e->pack = pack;
}

void fg_engine_stats_checkpoint(struct fg_engine *e)
{
    e->saved = e->stats;
    e->saved_rules = fg_realloc(e->saved_rules,
                                (e->stats.nrules ? e->stats.nrules : 1) * sizeof(*e->saved_rules));
    memcpy(e->saved_rules, e->stats.rules, e->stats.nrules * sizeof(*e->saved_rules));
}

void fg_engine_stats_rollback(struct fg_engine *e)
{
    struct fg_rule_stat *rules = e->stats.rules;

    if (!e->saved_rules)
        return;
    memcpy(rules, e->saved_rules, e->stats.nrules * sizeof(*rules));
    e->stats = e->saved;
    e->stats.rules = rules;
}
