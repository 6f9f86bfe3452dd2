/* SPDX-License-Identifier: Apache-2.0
 *
 * out_of_catalogue: 超医保支付范围 / 超限定支付范围.
 *
 * Business rules (README.md beside this file): fund-paid lines whose code
 * the catalogue does not list on the day of service, 丙类 items claimed
 * against the fund, and restricted drugs and items paid outside their
 * restriction: gender, age (两库第一批, 第八批-2), insurance type (第三批),
 * care setting (第四批), institution level (第五批) and payment course
 * (第六批, 第八批-3).
 */
#include "fg_detector_api.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct cat_conf {
    long long child_max_age;
    long long infant_max_age;
    long long newborn_max_days;
    long long retirement_age;
    struct fg_strlist work_injury;
    struct fg_strlist maternity;
    struct fg_strlist outpatient;
    struct fg_strlist pharmacy;
    long long course_gap_days;
};

static const struct fg_param cat_params[] = {
    {"child_max_age", FG_PARAM_INT, "14", 0, 30, offsetof(struct cat_conf, child_max_age),
     "oldest age (completed years) of a 儿童"},
    {"infant_max_age", FG_PARAM_INT, "3", 0, 10, offsetof(struct cat_conf, infant_max_age),
     "oldest age of a 婴幼儿"},
    {"newborn_max_days", FG_PARAM_INT, "28", 1, 365,
     offsetof(struct cat_conf, newborn_max_days), "oldest age in days of a 新生儿"},
    {"retirement_age", FG_PARAM_INT, "60", 40, 80, offsetof(struct cat_conf, retirement_age),
     "legal working age limit for over_working_age items"},
    {"work_injury_insutypes", FG_PARAM_LIST, "410", 0, 0,
     offsetof(struct cat_conf, work_injury), "insutype codes of work-injury insurance"},
    {"maternity_insutypes", FG_PARAM_LIST, "510", 0, 0,
     offsetof(struct cat_conf, maternity), "insutype codes of maternity insurance"},
    {"outpatient_med_types", FG_PARAM_LIST, "11,12,13,14,15,16,51,140104,140201", 0, 0,
     offsetof(struct cat_conf, outpatient), "outpatient med_type codes"},
    {"pharmacy_med_types", FG_PARAM_LIST, "41,9929", 0, 0,
     offsetof(struct cat_conf, pharmacy), "pharmacy med_type codes"},
    {"course_gap_days", FG_PARAM_INT, "30", 1, 365,
     offsetof(struct cat_conf, course_gap_days),
     "a gap of this many days between paid days starts a new course"},
    {0},
};

static const struct fg_rule_decl cat_rules[] = {
    {"CAT-NOT-LISTED", "超医保支付范围-目录外项目纳入统筹", FG_RESULT_DEFINITE,
     "fund-paid code not in the catalogue on the day of service"},
    {"CAT-SELF-PAY-CLAIMED", "超医保支付范围-丙类项目纳入统筹", FG_RESULT_DEFINITE,
     "chrgitm_lv 03 (丙类) with inscp_amt > 0"},
    {"CAT-GENDER", "超限定支付范围-限性别", FG_RESULT_DEFINITE,
     "第一批 gender-restricted code for the other gender"},
    {"CAT-AGE", "超限定支付范围-限年龄", FG_RESULT_DEFINITE,
     "第一批/第八批-2 age-restricted code outside the age group"},
    {"CAT-INSUTYPE", "超限定支付范围-限保险类型", FG_RESULT_DEFINITE,
     "第三批 work-injury/maternity-only drug under another insutype"},
    {"CAT-CARE-SETTING", "超限定支付范围-限就医方式", FG_RESULT_DEFINITE,
     "第四批 inpatient-only drug in an outpatient or pharmacy med_type"},
    {"CAT-HOSP-LEVEL", "超限定支付范围-限医疗机构等级", FG_RESULT_DEFINITE,
     "第五批 level-restricted drug at a lower-level institution"},
    {"CAT-COURSE", "超限定支付范围-超支付疗程", FG_RESULT_DEFINITE,
     "第六批/第八批-3 code paid on more days than its course allows"},
    {0},
};

static const struct fg_state_decl cat_state[] = {
    {FG_STATE_WINDOW, "lines",
     "per-person fee lines of course codes, (max_days+1) x course_gap_days, <= 400 days"},
    {0},
};

static int cat_validate(const void *confp, char *err, size_t errlen)
{
    const struct cat_conf *c = confp;
    if (c->infant_max_age > c->child_max_age) {
        snprintf(err, errlen, "infant_max_age (%lld) is above child_max_age (%lld)",
                 c->infant_max_age, c->child_max_age);
        return -1;
    }
    return 0;
}

static int64_t cat_retention(const void *confp, void *priv, const struct fg_pack *pack,
                             const struct fg_wline *w)
{
    const struct cat_conf *conf = confp;
    int64_t keep = 0;
    (void)priv;

    if (w->flags & FG_WL_REFUND)
        return 0;
    for (const struct fg_rule_row *r = fg_pack_find(pack, FG_T_COURSE, w->code); r;
         r = fg_pack_next(pack, FG_T_COURSE, r)) {
        int64_t days = (r->a + 1) * conf->course_gap_days;
        if (days > 400)
            days = 400;
        if (days * FG_DAY > keep)
            keep = days * FG_DAY;
    }
    return keep;
}

static void emit_cat(struct fg_ctx *ctx, const char *rule_id, const struct fg_wline *w,
                     const struct fg_rule_row *r, const char *evid_extra,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void emit_cat(struct fg_ctx *ctx, const char *rule_id, const struct fg_wline *w,
                     const struct fg_rule_row *r, const char *evid_extra,
                     const char *fmt, ...)
{
    struct fg_alert_spec a = {0};
    char ev[160];
    va_list ap;

    a.rule_id = rule_id;
    a.violating = w;
    a.vola_amt = fg_wline_net_inscp(w);
    va_start(ap, fmt);
    vsnprintf(a.vola_cont, sizeof(a.vola_cont), fmt, ap);
    va_end(ap);
    if (r) {
        fg_pack_evidence(r->batch, r->row, ev, sizeof(ev));
        snprintf(a.vola_evid, sizeof(a.vola_evid), "%s%s", ev, evid_extra ? evid_extra : "");
    } else {
        snprintf(a.vola_evid, sizeof(a.vola_evid), "%s", evid_extra ? evid_extra : "");
    }
    fg_emit(ctx, &a);
}

static const char *age_group_name(int64_t g)
{
    switch (g) {
    case FG_AGE_CHILD: return "儿童";
    case FG_AGE_INFANT: return "婴幼儿";
    case FG_AGE_NEWBORN: return "新生儿";
    case FG_AGE_OVER_WORKING: return "法定就业年龄内";
    }
    return "?";
}

/* 1 if the person's age on `day` is outside the row's group. */
static int age_violates(const struct cat_conf *conf, int64_t group, int64_t brdy,
                        int64_t day)
{
    int age = fg_age_years(brdy, day);

    switch (group) {
    case FG_AGE_CHILD: return age > conf->child_max_age;
    case FG_AGE_INFANT: return age > conf->infant_max_age;
    case FG_AGE_NEWBORN: return day - brdy > conf->newborn_max_days;
    case FG_AGE_OVER_WORKING: return age >= conf->retirement_age;
    }
    return 0;
}

/* Distinct paid days of the course the line's day belongs to, counted
 * from earlier-arrived lines of the same course row on or before it. */
static int64_t course_days(const struct fg_pack *pack, const struct fg_rule_row *row,
                           const struct fg_wline *cur, const struct fg_wline *const *win,
                           size_t n, int64_t gap)
{
    int64_t days[512];
    size_t nd = 0;

    days[nd++] = cur->day;
    for (size_t j = 0; j < n && win[j]->seq < cur->seq; j++) {
        const struct fg_wline *w = win[j];
        const struct fg_rule_row *r;
        int dup = 0;
        if (!fg_wline_live(w) || w->day > cur->day || w->inscp <= 0)
            continue;
        if (row->b == FG_COURSE_STAY && (strcmp(w->mdtrt_id, cur->mdtrt_id) ||
                                         strcmp(w->fixmedins_code, cur->fixmedins_code)))
            continue;
        /* Same course row: all codes of one drug share batch and row. */
        for (r = fg_pack_find(pack, FG_T_COURSE, w->code); r;
             r = fg_pack_next(pack, FG_T_COURSE, r))
            if (r->row == row->row && strcmp(r->batch, row->batch) == 0)
                break;
        if (!r)
            continue;
        for (size_t k = 0; k < nd; k++)
            dup |= days[k] == w->day;
        if (!dup && nd < sizeof(days) / sizeof(*days))
            days[nd++] = w->day;
    }
    if (row->b == FG_COURSE_STAY)
        return (int64_t)nd;
    /* Sort descending, then walk back from this day while the gap holds. */
    for (size_t a = 1; a < nd; a++)
        for (size_t b = a; b > 0 && days[b] > days[b - 1]; b--) {
            int64_t t = days[b];
            days[b] = days[b - 1];
            days[b - 1] = t;
        }
    size_t count = 1;
    while (count < nd && days[count - 1] - days[count] < gap)
        count++;
    return (int64_t)count;
}

static int cat_check(struct fg_ctx *ctx, const void *confp, void *priv)
{
    const struct cat_conf *conf = confp;
    const struct fg_claim *c = fg_ctx_claim(ctx);
    const struct fg_pack *pack = fg_ctx_pack(ctx);
    const struct fg_wline *const *win;
    size_t n = fg_ctx_window(ctx, &win);
    int lvl = fg_hosp_level(c->hosp_lv);
    int gend = c->gend && (strcmp(c->gend, "1") == 0 || strcmp(c->gend, "2") == 0)
                   ? c->gend[0] - '0'
                   : 0;
    (void)priv;

    for (size_t i = 0; i < c->nlines; i++) {
        const struct fg_line *l = &c->lines[i];
        const struct fg_wline *w = fg_ctx_line(ctx, i);
        const struct fg_rule_row *r;
        const char *name = l->hilist_name ? l->hilist_name : w->code;

        if (!fg_wline_live(w))
            continue;
        if (!(l->has & FG_HAS_INSCP)) {
            fg_ctx_skip(ctx, "CAT-NOT-LISTED");
            continue;
        }
        if (l->inscp <= 0)
            continue;

        if (fg_pack_has_catalogue(pack) && !fg_pack_catalogue_find(pack, w->code, w->day)) {
            char d[16];
            emit_cat(ctx, "CAT-NOT-LISTED", w, NULL, "医保目录(catalogue) 有效期",
                     "%s(%s) 于 %s 不在医保目录有效期内, 却纳入统筹", name, w->code,
                     fg_date_format(w->day, d, sizeof(d)));
        }
        if (l->chrgitm_lv && strcmp(l->chrgitm_lv, "03") == 0)
            emit_cat(ctx, "CAT-SELF-PAY-CLAIMED", w, NULL, "收费项目等级 03 丙类 应全自费",
                     "%s(%s) 为丙类(全自费)项目, 符合范围金额 > 0", name, w->code);

        if ((r = fg_pack_find(pack, FG_T_GENDER, w->code))) {
            if (!gend)
                fg_ctx_skip(ctx, "CAT-GENDER");
            else if (r->a != gend)
                emit_cat(ctx, "CAT-GENDER", w, r, NULL, "%s(%s) 限%s性使用, 参保人性别为%s",
                         r->name, w->code, r->a == 1 ? "男" : "女", gend == 1 ? "男" : "女");
        }
        if ((r = fg_pack_find(pack, FG_T_AGE, w->code))) {
            if (!(c->has & FG_HAS_BRDY))
                fg_ctx_skip(ctx, "CAT-AGE");
            else if (age_violates(conf, r->a, c->brdy_day, w->day))
                emit_cat(ctx, "CAT-AGE", w, r, NULL, "%s(%s) 限%s使用, 参保人就诊时 %d 岁",
                         r->name, w->code, age_group_name(r->a),
                         fg_age_years(c->brdy_day, w->day));
        }
        if ((r = fg_pack_find(pack, FG_T_INSUTYPE, w->code))) {
            const struct fg_strlist *ok =
                r->a == FG_FUND_WORK_INJURY ? &conf->work_injury : &conf->maternity;
            if (!c->insutype)
                fg_ctx_skip(ctx, "CAT-INSUTYPE");
            else if (!fg_strlist_has(ok, c->insutype))
                emit_cat(ctx, "CAT-INSUTYPE", w, r, NULL, "%s(%s) 限%s保险支付, 险种为 %s",
                         r->name, w->code, r->a == FG_FUND_WORK_INJURY ? "工伤" : "生育",
                         c->insutype);
        }
        if ((r = fg_pack_find(pack, FG_T_CARE_SETTING, w->code))) {
            int outside = fg_strlist_has(&conf->outpatient, c->med_type) ||
                          fg_strlist_has(&conf->pharmacy, c->med_type);
            if (outside && !(r->b && strcmp(c->med_type, "13") == 0))
                emit_cat(ctx, "CAT-CARE-SETTING", w, r, NULL,
                         "%s(%s) 限住院%s使用, 医疗类别为 %s", r->name, w->code,
                         r->b ? "或急诊" : "", c->med_type);
        }
        if ((r = fg_pack_find(pack, FG_T_HOSP_LEVEL, w->code))) {
            if (lvl < 0)
                fg_ctx_skip(ctx, "CAT-HOSP-LEVEL");
            else if (lvl < r->a)
                emit_cat(ctx, "CAT-HOSP-LEVEL", w, r, NULL,
                         "%s(%s) 限%s级及以上医疗机构, 机构等级 %s", r->name, w->code,
                         r->a == 3 ? "三" : "二", c->hosp_lv);
        }
        if ((r = fg_pack_find(pack, FG_T_COURSE, w->code))) {
            int64_t days = course_days(pack, r, w, win, n, conf->course_gap_days);
            if (days > r->a) {
                char extra[64];
                snprintf(extra, sizeof(extra), ", 限%lld天", (long long)r->a);
                emit_cat(ctx, "CAT-COURSE", w, r, extra,
                         "%s(%s) %s第 %lld 个支付日, 超过限定 %lld 天", r->name, w->code,
                         r->b == FG_COURSE_STAY ? "本次住院" : "本疗程", (long long)days,
                         (long long)r->a);
            }
        }
    }
    return 0;
}

const struct fg_detector fg_detector_out_of_catalogue = {
    .abi = FG_DETECTOR_ABI,
    .name = "out_of_catalogue",
    .version = "1.0.0",
    .description = "超医保/限定支付范围: catalogue, 丙类, gender, age, insurance type, "
                   "care setting, institution level, payment course",
    .conf_size = sizeof(struct cat_conf),
    .params = cat_params,
    .rules = cat_rules,
    .state = cat_state,
    .validate = cat_validate,
    .retention = cat_retention,
    .check = cat_check,
};
