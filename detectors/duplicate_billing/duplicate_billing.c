/* SPDX-License-Identifier: Apache-2.0
 *
 * duplicate_billing: 重复收费 and frequency limits.
 *
 * Business rules (README.md beside this file): the same service billed
 * twice (DUP-EXACT), mutually exclusive items billed inside one window
 * (DUP-PAIR, 两库第七批), more units per day than allowed (DUP-DAILY-CAP,
 * 第八批-1) and more lines per period than allowed (DUP-PERIOD, 第八批-4).
 * Every rule judges a new line against the person's earlier-arrived lines,
 * so the verdict depends only on the per-person order Kafka preserves.
 */
#include "fg_detector_api.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct dup_conf {
    long long visit_window_days;
};

static const struct fg_param dup_params[] = {
    {"visit_window_days", FG_PARAM_INT, "90", 1, 400,
     offsetof(struct dup_conf, visit_window_days),
     "how long lines of codes in single-visit pairs are kept (days)"},
    {0},
};

static const struct fg_rule_decl dup_rules[] = {
    {"DUP-EXACT", "重复收费-同一项目重复计费", FG_RESULT_SUSPECT,
     "same institution, code, price and quantity in the same minute, twice"},
    {"DUP-PAIR", "重复收费-互斥项目同日收费", FG_RESULT_DEFINITE,
     "主项 and 从项 of a 第七批 pair inside the pair's window"},
    {"DUP-DAILY-CAP", "超标准收费-超限定频次", FG_RESULT_DEFINITE,
     "units per person per day above the 第八批-1 limit"},
    {"DUP-PERIOD", "超标准收费-超限定周期频次", FG_RESULT_DEFINITE,
     "more lines per person within the 第八批-4 period than allowed"},
    {0},
};

static const struct fg_state_decl dup_state[] = {
    {FG_STATE_WINDOW, "lines",
     "per-person fee lines; 1 day, period_days, or visit_window_days by code"},
    {0},
};

static const char *window_label(enum fg_window w)
{
    switch (w) {
    case FG_WIN_DAY: return "单日";
    case FG_WIN_VISIT: return "单次就诊";
    case FG_WIN_6H: return "6小时";
    case FG_WIN_1H: return "同一小时";
    }
    return "?";
}

static int64_t dup_retention(const void *confp, void *priv, const struct fg_pack *pack,
                             const struct fg_wline *w)
{
    const struct dup_conf *conf = confp;
    const struct fg_rule_row *r;
    int64_t keep = FG_DAY;   /* DUP-EXACT, day/6h/1h pairs, daily caps */
    (void)priv;

    if (w->flags & FG_WL_REFUND)
        return 0;
    r = fg_pack_find(pack, FG_T_PERIOD, w->code);
    for (; r; r = fg_pack_next(pack, FG_T_PERIOD, r))
        if (r->b * FG_DAY > keep)
            keep = r->b * FG_DAY;
    for (const struct fg_pair_row *p = fg_pack_pairs_by_main(pack, w->code); p;
         p = fg_pack_pair_next_by_main(pack, p))
        if (p->window == FG_WIN_VISIT && conf->visit_window_days * FG_DAY > keep)
            keep = conf->visit_window_days * FG_DAY;
    for (const struct fg_pair_row *p = fg_pack_pairs_by_sub(pack, w->code); p;
         p = fg_pack_pair_next_by_sub(pack, p))
        if (p->window == FG_WIN_VISIT && conf->visit_window_days * FG_DAY > keep)
            keep = conf->visit_window_days * FG_DAY;
    return keep;
}

/* Are a and b inside the pair's window? Fills the evidence window. */
static int in_pair_window(enum fg_window win, const struct fg_wline *a,
                          const struct fg_wline *b, int64_t *start, int64_t *end)
{
    int64_t lo = a->fee_time < b->fee_time ? a->fee_time : b->fee_time;
    int64_t hi = a->fee_time < b->fee_time ? b->fee_time : a->fee_time;

    if (win == FG_WIN_VISIT) {
        if (strcmp(a->mdtrt_id, b->mdtrt_id) || strcmp(a->fixmedins_code, b->fixmedins_code))
            return 0;
        *start = lo;
        *end = hi;
        return 1;
    }
    if (strcmp(a->fixmedins_code, b->fixmedins_code))
        return 0;
    switch (win) {
    case FG_WIN_DAY:
        if (a->day != b->day)
            return 0;
        *start = fg_cst_day_start(a->day);
        *end = *start + FG_DAY - 1;
        return 1;
    case FG_WIN_6H:
        if (hi - lo >= 6 * 3600)
            return 0;
        *start = lo;
        *end = lo + 6 * 3600 - 1;
        return 1;
    case FG_WIN_1H:
        if (a->fee_time / 3600 != b->fee_time / 3600)
            return 0;
        *start = a->fee_time / 3600 * 3600;
        *end = *start + 3599;
        return 1;
    default:
        return 0;
    }
}

static void emit_pair(struct fg_ctx *ctx, const struct fg_pair_row *p,
                      const struct fg_wline *sub, const struct fg_wline *main_line,
                      int64_t start, int64_t end)
{
    struct fg_alert_spec a = {0};
    char ev[160];

    a.rule_id = "DUP-PAIR";
    a.violating = sub;
    a.vola_amt = fg_wline_net_inscp(sub);
    a.involved[a.ninvolved++] = main_line;
    a.window = window_label(p->window);
    a.window_start = start;
    a.window_end = end;
    snprintf(a.vola_cont, sizeof(a.vola_cont), "%s(%s) 与 %s(%s) %s同收; %s",
             p->main_name, p->main_code, p->sub_name, p->sub_code, a.window, p->note);
    fg_pack_evidence(p->batch, p->row, ev, sizeof(ev));
    snprintf(a.vola_evid, sizeof(a.vola_evid), "%s, window=%s", ev, a.window);
    fg_emit(ctx, &a);
}

static void check_pair(struct fg_ctx *ctx, const struct fg_pack *pack,
                       const struct fg_wline *cur, const struct fg_wline *const *win,
                       size_t n)
{
    int64_t s, e;

    /* The new line is a 从项: an earlier 主项 makes it a violation. */
    for (const struct fg_pair_row *p = fg_pack_pairs_by_sub(pack, cur->code); p;
         p = fg_pack_pair_next_by_sub(pack, p))
        for (size_t j = 0; j < n && win[j]->seq < cur->seq; j++)
            if (fg_wline_live(win[j]) && strcmp(win[j]->code, p->main_code) == 0 &&
                in_pair_window(p->window, win[j], cur, &s, &e)) {
                emit_pair(ctx, p, cur, win[j], s, e);
                goto as_main;
            }
as_main:
    /* The new line is a 主项: earlier 从项 lines become violations. */
    for (const struct fg_pair_row *p = fg_pack_pairs_by_main(pack, cur->code); p;
         p = fg_pack_pair_next_by_main(pack, p))
        for (size_t j = 0; j < n && win[j]->seq < cur->seq; j++)
            if (fg_wline_live(win[j]) && strcmp(win[j]->code, p->sub_code) == 0 &&
                in_pair_window(p->window, win[j], cur, &s, &e))
                emit_pair(ctx, p, win[j], cur, s, e);
}

static void check_exact(struct fg_ctx *ctx, const struct fg_wline *cur,
                        const char *name, const struct fg_wline *const *win, size_t n)
{
    if (cur->flags & FG_WL_REFUNDED)
        return;
    for (size_t j = 0; j < n && win[j]->seq < cur->seq; j++) {
        const struct fg_wline *w = win[j];
        if (w->flags & (FG_WL_REFUND | FG_WL_REFUNDED | FG_WL_CANCELLED))
            continue;
        if (w->fee_time / 60 != cur->fee_time / 60 || w->pric != cur->pric ||
            w->cnt != cur->cnt || strcmp(w->code, cur->code) ||
            strcmp(w->fixmedins_code, cur->fixmedins_code))
            continue;
        /* The very same line sent again is a redelivery, not a charge. */
        if (strcmp(w->mdtrt_id, cur->mdtrt_id) == 0 &&
            strcmp(w->feedetl_sn, cur->feedetl_sn) == 0)
            continue;
        struct fg_alert_spec a = {0};
        a.rule_id = "DUP-EXACT";
        a.violating = cur;
        a.vola_amt = fg_wline_net_inscp(cur);
        a.involved[a.ninvolved++] = w;
        a.window = "同一分钟";
        a.window_start = cur->fee_time / 60 * 60;
        a.window_end = a.window_start + 59;
        snprintf(a.vola_cont, sizeof(a.vola_cont),
                 "%s(%s) 同一时间、同价同量重复计费: 明细 %s 与 %s", name, cur->code,
                 cur->feedetl_sn, w->feedetl_sn);
        snprintf(a.vola_evid, sizeof(a.vola_evid),
                 "重复收费: 同一参保人同一机构同一项目同一分钟重复计费, window=同一分钟");
        fg_emit(ctx, &a);
        return;
    }
}

static void check_daily_cap(struct fg_ctx *ctx, const struct fg_pack *pack,
                            const struct fg_wline *cur, const struct fg_wline *const *win,
                            size_t n)
{
    const struct fg_rule_row *r = fg_pack_find(pack, FG_T_DAILY_CAP, cur->code);
    struct fg_alert_spec a = {0};
    int64_t prior = 0, total, excess;
    char ev[160], tot[32];

    if (!r)
        return;
    for (size_t j = 0; j < n && win[j]->seq < cur->seq; j++)
        if (win[j]->day == cur->day && fg_wline_live(win[j]) &&
            strcmp(win[j]->code, cur->code) == 0) {
            prior += win[j]->net_cnt;
            if (a.ninvolved < FG_MAX_INVOLVED)
                a.involved[a.ninvolved++] = win[j];
        }
    total = prior + cur->net_cnt;
    if (total <= r->a)
        return;
    excess = total - r->a < cur->net_cnt ? total - r->a : cur->net_cnt;
    a.rule_id = "DUP-DAILY-CAP";
    a.violating = cur;
    a.vola_amt = fg_muldiv(fg_wline_net_inscp(cur), excess, cur->net_cnt);
    a.window = "单日";
    a.window_start = fg_cst_day_start(cur->day);
    a.window_end = a.window_start + FG_DAY - 1;
    snprintf(tot, sizeof(tot), "%lld.%04lld", (long long)(total / 10000),
             (long long)(total % 10000));
    snprintf(a.vola_cont, sizeof(a.vola_cont), "%s(%s) 单日累计数量 %s 超过限定 %lld%s",
             r->name, r->code, tot, (long long)(r->a / 10000), r->b ? "小时" : "日次");
    fg_pack_evidence(r->batch, r->row, ev, sizeof(ev));
    snprintf(a.vola_evid, sizeof(a.vola_evid), "%s, window=单日", ev);
    fg_emit(ctx, &a);
}

static void check_period(struct fg_ctx *ctx, const struct fg_pack *pack,
                         const struct fg_wline *cur, const struct fg_wline *const *win,
                         size_t n)
{
    const struct fg_rule_row *r = fg_pack_find(pack, FG_T_PERIOD, cur->code);
    struct fg_alert_spec a = {0};
    int64_t count = 0;
    char ev[160];

    if (!r)
        return;
    /* Walk newest first so the involved lines are the closest ones. */
    for (size_t j = n; j-- > 0;) {
        const struct fg_wline *w = win[j];
        int64_t d = w->day - cur->day;
        if (w->seq >= cur->seq || !fg_wline_live(w) || strcmp(w->code, cur->code))
            continue;
        if ((d < 0 ? -d : d) >= r->b)
            continue;
        count++;
        if (a.ninvolved < FG_MAX_INVOLVED)
            a.involved[a.ninvolved++] = w;
    }
    if (count < r->a)
        return;
    a.rule_id = "DUP-PERIOD";
    a.violating = cur;
    a.vola_amt = fg_wline_net_inscp(cur);
    a.window = "周期";
    a.window_start = fg_cst_day_start(cur->day - r->b + 1);
    a.window_end = fg_cst_day_start(cur->day) + FG_DAY - 1;
    snprintf(a.vola_cont, sizeof(a.vola_cont), "%s(%s) %lld天内已收费%lld次, 限%lld次",
             r->name, r->code, (long long)r->b, (long long)count, (long long)r->a);
    fg_pack_evidence(r->batch, r->row, ev, sizeof(ev));
    snprintf(a.vola_evid, sizeof(a.vola_evid), "%s, window=%lld天", ev, (long long)r->b);
    fg_emit(ctx, &a);
}

static int dup_check(struct fg_ctx *ctx, const void *conf, void *priv)
{
    const struct fg_claim *claim = fg_ctx_claim(ctx);
    const struct fg_pack *pack = fg_ctx_pack(ctx);
    const struct fg_wline *const *win;
    size_t n = fg_ctx_window(ctx, &win);
    (void)conf;
    (void)priv;

    for (size_t i = 0; i < claim->nlines; i++) {
        const struct fg_wline *cur = fg_ctx_line(ctx, i);
        const char *name = claim->lines[i].hilist_name ? claim->lines[i].hilist_name
                                                       : cur->code;
        if (!fg_wline_live(cur))
            continue;
        check_exact(ctx, cur, name, win, n);
        check_pair(ctx, pack, cur, win, n);
        check_daily_cap(ctx, pack, cur, win, n);
        check_period(ctx, pack, cur, win, n);
    }
    return 0;
}

const struct fg_detector fg_detector_duplicate_billing = {
    .abi = FG_DETECTOR_ABI,
    .name = "duplicate_billing",
    .version = "1.0.0",
    .description = "重复收费: exact duplicates, 第七批 exclusive pairs, "
                   "第八批 daily and period limits",
    .conf_size = sizeof(struct dup_conf),
    .params = dup_params,
    .rules = dup_rules,
    .state = dup_state,
    .retention = dup_retention,
    .check = dup_check,
};
