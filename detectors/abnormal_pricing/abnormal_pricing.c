/* SPDX-License-Identifier: Apache-2.0
 *
 * abnormal_pricing: 超标准收费 / 价格异常.
 *
 * Business rules (README.md beside this file): unit price above the
 * platform cap without moving the excess to self-pay (PRICE-OVER-CAP),
 * price x quantity not matching the line total (PRICE-ARITH), price above
 * the institution-level price list (PRICE-OVER-LIST), and price far above
 * peers for the same code, region and level group (PRICE-OUTLIER).
 *
 * The outlier baseline is a log-bucket histogram per group and event day,
 * summed over complete days only (fg_ctx_complete_before): the verdict
 * depends on event time, not on arrival order across persons or
 * partitions, and fits in bounded memory (a sparse histogram per
 * group-day, a Redis hash per group).
 */
#include "fg_detector_api.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct price_conf {
    long long min_samples;
    long long factor_pct;
    long long lookback_days;
};

static const struct fg_param price_params[] = {
    {"outlier_min_samples", FG_PARAM_INT, "30", 1, 1000000,
     offsetof(struct price_conf, min_samples),
     "observations the baseline needs before PRICE-OUTLIER may fire"},
    {"outlier_factor_pct", FG_PARAM_INT, "300", 101, 100000,
     offsetof(struct price_conf, factor_pct),
     "threshold in percent of the baseline median"},
    {"outlier_lookback_days", FG_PARAM_INT, "28", 1, 365,
     offsetof(struct price_conf, lookback_days),
     "complete earlier days that form the baseline"},
    {0},
};

static const struct fg_rule_decl price_rules[] = {
    {"PRICE-OVER-CAP", "超标准收费-超定价上限", FG_RESULT_DEFINITE,
     "pric above pric_uplmt_amt and the excess not moved to self-pay"},
    {"PRICE-ARITH", "价格异常-金额计算不符", FG_RESULT_DEFINITE,
     "pric x cnt differs from det_item_fee_sumamt by more than 0.01"},
    {"PRICE-OVER-LIST", "超标准收费-超医疗机构等级限价", FG_RESULT_DEFINITE,
     "pric above the price list for the institution level"},
    {"PRICE-OUTLIER", "价格异常-显著高于同类机构", FG_RESULT_SUSPECT,
     "pric far above the peer median of complete earlier days"},
    {0},
};

static const struct fg_state_decl price_state[] = {
    {FG_STATE_COUNTER, "peer_hist",
     "per (code, region, level group, event day) price histogram, lookback+settle+1 days"},
    {0},
};

/* Cached baseline of one group for one day. Valid because the baseline
 * of day D only reads days before D. */
struct baseline {
    int64_t day;
    uint64_t n;
    int64_t median;   /* upper bound of the median bucket, micro-yuan */
};

struct price_priv {
    struct fg_map cache;   /* group -> struct baseline */
    char **keys;           /* owned cache keys */
    size_t nkeys;
};

#define PRICE_CACHE_MAX 200000

/* Bucket of a positive price: 8 per octave, from the top 4 bits. */
static unsigned price_bucket(int64_t p)
{
    uint64_t v = (uint64_t)p;
    unsigned m = 63u - (unsigned)__builtin_clzll(v);
    unsigned f = m >= 3 ? (unsigned)(v >> (m - 3)) & 7u : (unsigned)(v << (3 - m)) & 7u;
    return m * 8 + f;
}

/* Exclusive upper bound of a bucket: (9 + f) * 2^m / 8. */
static int64_t bucket_upper(unsigned b)
{
    unsigned m = b / 8, f = b % 8;
    if (m >= 3)
        return (int64_t)((9 + f) * ((uint64_t)1 << (m - 3)));
    return (int64_t)(((9 + f) << m) / 8 + 1);
}

/* Peer level group: the institution level, "other" (0) for unknown codes. */
static int level_group(const char *lv)
{
    int l = fg_hosp_level(lv);
    return l < 0 ? 0 : l;
}

static int price_init(const void *conf, const struct fg_pack *pack, void **privp,
                      char *err, size_t errlen)
{
    struct price_priv *priv = calloc(1, sizeof(*priv));
    (void)conf;
    (void)pack;
    if (!priv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    fg_map_init(&priv->cache);
    *privp = priv;
    return 0;
}

static void cache_clear(struct price_priv *priv)
{
    for (size_t i = 0; i < priv->cache.cap; i++)
        if (priv->cache.slots[i].key)
            free(priv->cache.slots[i].val);
    for (size_t i = 0; i < priv->nkeys; i++)
        free(priv->keys[i]);
    free(priv->keys);
    priv->keys = NULL;
    priv->nkeys = 0;
    fg_map_fini(&priv->cache);
    fg_map_init(&priv->cache);
}

static void price_destroy(void *p)
{
    struct price_priv *priv = p;
    if (!priv)
        return;
    cache_clear(priv);
    free(priv);
}

static int64_t price_retention(const void *conf, void *priv, const struct fg_pack *pack,
                               const struct fg_wline *w)
{
    /* Pricing rules judge a line on its own; the window is not needed. */
    (void)conf;
    (void)priv;
    (void)pack;
    (void)w;
    return 0;
}

static const struct baseline *get_baseline(struct fg_ctx *ctx, struct price_priv *priv,
                                           const struct price_conf *conf,
                                           const char *group, int64_t day)
{
    struct baseline *b = fg_map_get(&priv->cache, group, strlen(group));
    uint32_t counts[FG_HIST_BUCKETS];
    uint64_t seen = 0, half;
    int64_t settle = fg_ctx_settle_days(ctx);

    if (b && b->day == day)
        return b;
    if (!b) {
        char *key;
        if (priv->nkeys >= PRICE_CACHE_MAX)
            cache_clear(priv);
        key = strdup(group);
        b = calloc(1, sizeof(*b));
        if (!key || !b) {
            free(key);
            free(b);
            return NULL;
        }
        char **keys = realloc(priv->keys, (priv->nkeys + 1) * sizeof(char *));
        if (!keys) {
            free(key);
            free(b);
            return NULL;
        }
        priv->keys = keys;
        priv->keys[priv->nkeys++] = key;
        fg_map_put(&priv->cache, key, strlen(key), b);
    }
    b->day = day;
    b->n = fg_ctx_hist_sum(ctx, group, day - settle - conf->lookback_days, day - settle - 1,
                           counts);
    if (b->n == UINT64_MAX) {
        /* The store could not answer: the core retries the batch, and the
         * baseline must be read again then, not taken from this cache. */
        b->day = INT64_MIN;
        return NULL;
    }
    b->median = 0;
    half = (b->n + 1) / 2;
    for (unsigned k = 0; k < FG_HIST_BUCKETS && b->n; k++) {
        seen += counts[k];
        if (seen >= half) {
            b->median = bucket_upper(k);
            break;
        }
    }
    return b;
}

/* The peer group of a line: code, region, level group. */
static void group_of(char *buf, size_t size, const char *code, const struct fg_claim *c)
{
    snprintf(buf, size, "%s|%s|%d", code, c->mdtrtarea_admvs, level_group(c->hosp_lv));
}

/* Announce the baselines this batch will need and the cache lacks. */
static void price_prefetch(struct fg_batch_ctx *bctx, const void *confp, void *privp,
                           const struct fg_claim *const *claims, size_t n)
{
    const struct price_conf *conf = confp;
    struct price_priv *priv = privp;
    char group[128];

    for (size_t k = 0; k < n; k++) {
        const struct fg_claim *c = claims[k];
        if (!c->mdtrtarea_admvs || !c->hosp_lv)
            continue;
        for (size_t i = 0; i < c->nlines; i++) {
            const struct fg_line *l = &c->lines[i];
            int64_t day = fg_cst_day(c->event_time);
            int64_t ready = day - fg_batch_settle_days(bctx);
            const struct baseline *b;
            if (l->cnt <= 0 || l->pric <= 0)
                continue;
            group_of(group, sizeof(group), l->hilist_code, c);
            b = fg_map_get(&priv->cache, group, strlen(group));
            if (!b || b->day != day)
                fg_prefetch_hist(bctx, group, ready - conf->lookback_days, ready - 1);
        }
    }
}

static void emit_price(struct fg_ctx *ctx, const char *rule_id, const struct fg_wline *w,
                       int64_t amt, const char *evid, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void emit_price(struct fg_ctx *ctx, const char *rule_id, const struct fg_wline *w,
                       int64_t amt, const char *evid, const char *fmt, ...)
{
    struct fg_alert_spec a = {0};
    va_list ap;

    a.rule_id = rule_id;
    a.violating = w;
    a.vola_amt = amt;
    va_start(ap, fmt);
    vsnprintf(a.vola_cont, sizeof(a.vola_cont), fmt, ap);
    va_end(ap);
    snprintf(a.vola_evid, sizeof(a.vola_evid), "%s", evid);
    fg_emit(ctx, &a);
}

/* PRICE-OUTLIER for one line of an event of day D, against its peer
 * group's baseline: the days D - settle - lookback .. D - settle - 1, all
 * complete by now. */
static void judge_outlier(struct fg_ctx *ctx, const struct price_conf *conf,
                          struct price_priv *priv, const struct fg_claim *c,
                          const struct fg_line *l, const struct fg_wline *w)
{
    char group[128], p1[32], p2[32], ev[200];
    int64_t day = fg_cst_day(c->event_time);
    int64_t inscp = fg_wline_net_inscp(w);
    const struct baseline *b;
    int64_t thr;

    group_of(group, sizeof(group), w->code, c);
    b = get_baseline(ctx, priv, conf, group, day);
    if (!b || b->n < (uint64_t)conf->min_samples || b->median <= 0 ||
        (__int128)l->pric * 100 <= (__int128)conf->factor_pct * b->median)
        return;
    thr = fg_muldiv(b->median, conf->factor_pct, 100);
    /* The sample size is left out on purpose: the alert's content must
     * not depend on which worker judged it, or when. */
    snprintf(ev, sizeof(ev),
             "同类机构基线: %s 区划%s 等级组%d, 结算日前第%lld至第%lld日(完整自然日), 样本>=%lld",
             w->code, c->mdtrtarea_admvs, level_group(c->hosp_lv),
             (long long)fg_ctx_settle_days(ctx) + conf->lookback_days,
             (long long)fg_ctx_settle_days(ctx) + 1, conf->min_samples);
    emit_price(ctx, "PRICE-OUTLIER", w, fg_muldiv(inscp, l->pric - thr, l->pric), ev,
               "%s 单价 %s 高于同类中位数 %s 的 %lld%%", w->code,
               fg_fixed_format(l->pric, 6, p1, sizeof(p1)),
               fg_fixed_format(b->median, 6, p2, sizeof(p2)), conf->factor_pct);
}

static int price_check(struct fg_ctx *ctx, const void *confp, void *privp)
{
    const struct price_conf *conf = confp;
    struct price_priv *priv = privp;
    const struct fg_claim *c = fg_ctx_claim(ctx);
    const struct fg_pack *pack = fg_ctx_pack(ctx);
    char p1[32], p2[32];

    for (size_t i = 0; i < c->nlines; i++) {
        const struct fg_line *l = &c->lines[i];
        const struct fg_wline *w = fg_ctx_line(ctx, i);
        int64_t inscp = fg_wline_net_inscp(w);

        if (!fg_wline_live(w))
            continue;

        /* PRICE-OVER-CAP: excess in 1e-10 yuan vs overlmt_amt in fen. */
        if (l->has & FG_HAS_PRIC_UPLMT) {
            if (l->pric > l->pric_uplmt) {
                __int128 excess = (__int128)(l->pric - l->pric_uplmt) * l->cnt;
                __int128 moved = (__int128)((l->has & FG_HAS_OVERLMT) ? l->overlmt : 0) *
                                 100000000;
                if (moved + 100000000 < excess)
                    emit_price(ctx, "PRICE-OVER-CAP", w,
                               fg_muldiv(inscp, l->pric - l->pric_uplmt, l->pric),
                               "医保信息平台 定价上限金额(pric_uplmt_amt), 超出部分应计入超限价自费(overlmt_amt)",
                               "%s 单价 %s 超过定价上限 %s, 超出部分未转自费",
                               w->code, fg_fixed_format(l->pric, 6, p1, sizeof(p1)),
                               fg_fixed_format(l->pric_uplmt, 6, p2, sizeof(p2)));
            }
        } else {
            fg_ctx_skip(ctx, "PRICE-OVER-CAP");
        }

        /* PRICE-ARITH: pric (1e-6) x cnt (1e-4) vs fee (1e-2), in 1e-10. */
        {
            __int128 prod = (__int128)l->pric * l->cnt;
            __int128 diff = prod - (__int128)l->fee * 100000000;
            if (diff < 0)
                diff = -diff;
            if (diff > 100000000) {
                int64_t fen = (int64_t)(diff / 100000000);
                emit_price(ctx, "PRICE-ARITH", w, fen < inscp ? fen : inscp,
                           "医保信息平台 费用明细: 明细项目费用总额 = 单价 x 数量",
                           "%s 单价 %s x 数量 %lld.%04lld 与明细金额 %s 不符",
                           w->code, fg_fixed_format(l->pric, 6, p1, sizeof(p1)),
                           (long long)(l->cnt / 10000), (long long)(l->cnt % 10000),
                           fg_fixed_format(l->fee, 2, p2, sizeof(p2)));
            }
        }

        /* PRICE-OVER-LIST. */
        {
            const struct fg_price_row *r =
                fg_pack_price_find(pack, w->code, c->hosp_lv, w->day);
            if (r && l->pric > r->max_pric) {
                char ev[200], bd[16], ed[16];
                fg_date_format(r->begin_day, bd, sizeof(bd));
                if (r->end_day == INT64_MAX)
                    snprintf(ed, sizeof(ed), "至今");
                else
                    fg_date_format(r->end_day, ed, sizeof(ed));
                snprintf(ev, sizeof(ev), "价格表 %s hosp_lv=%s 有效期 %s~%s", r->code,
                         r->hosp_lv, bd, ed);
                emit_price(ctx, "PRICE-OVER-LIST", w,
                           fg_muldiv(inscp, l->pric - r->max_pric, l->pric), ev,
                           "%s 单价 %s 超过本级(%s)限价 %s", w->code,
                           fg_fixed_format(l->pric, 6, p1, sizeof(p1)),
                           c->hosp_lv ? c->hosp_lv : "*",
                           fg_fixed_format(r->max_pric, 6, p2, sizeof(p2)));
            }
        }

        /* PRICE-OUTLIER: learn now (the line's event day), judge when
         * the baseline days are complete: at once unless a partition
         * lags, else deferred until it catches up. */
        if (!c->mdtrtarea_admvs || !c->hosp_lv || l->pric <= 0) {
            fg_ctx_skip(ctx, "PRICE-OUTLIER");
            continue;
        }
        {
            char group[128];
            int64_t day = fg_cst_day(c->event_time);
            int64_t ready = day - fg_ctx_settle_days(ctx);
            group_of(group, sizeof(group), w->code, c);
            if (fg_ctx_complete_before(ctx) >= ready)
                judge_outlier(ctx, conf, priv, c, l, w);
            else
                fg_ctx_defer(ctx, i, ready);
            fg_ctx_hist_add(ctx, group, day, price_bucket(l->pric),
                            (int)(conf->lookback_days + fg_ctx_settle_days(ctx)) + 1);
        }
    }
    return 0;
}

static int price_deferred(struct fg_ctx *ctx, const void *confp, void *privp)
{
    const struct fg_claim *c = fg_ctx_claim(ctx);

    judge_outlier(ctx, confp, privp, c, &c->lines[0], fg_ctx_line(ctx, 0));
    return 0;
}

const struct fg_detector fg_detector_abnormal_pricing = {
    .abi = FG_DETECTOR_ABI,
    .name = "abnormal_pricing",
    .version = "1.0.0",
    .description = "超标准收费/价格异常: price cap, arithmetic, price list, peer outlier",
    .conf_size = sizeof(struct price_conf),
    .params = price_params,
    .rules = price_rules,
    .state = price_state,
    .init = price_init,
    .prefetch = price_prefetch,
    .deferred = price_deferred,
    .retention = price_retention,
    .check = price_check,
    .destroy = price_destroy,
};
