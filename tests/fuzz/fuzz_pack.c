/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_pack.c: the rule-pack loader (fg_pack_load, src/fg_pack.c) and its
 * CSV reader (src/fg_csv.c).
 *
 * At start-up the harness writes a small valid pack (pack.json and the ten
 * tables) and an operator catalogue and price list into its private
 * temporary folder. An input is one selector byte and a file's bytes: the
 * selector (modulo FZ_NFILES) names the file the bytes replace, the other
 * files stay valid, so every input exercises the CSV parsing and row
 * validation of one table kind (or the manifest) inside a real load. The
 * file is restored afterwards.
 *
 * Properties checked beyond "no crash, no leak":
 *  - a failed load returns NULL with a non-empty error;
 *  - a loaded pack holds only rows that pass the documented validation
 *    (config/rules/README.md): codes, evidence, and each table's values in
 *    range;
 *  - every row is found again by its lookup (fg_pack_find and its chain,
 *    pair chains by 主项 and 从项, catalogue and price lookups on the row's
 *    first day), chains list rows in file order;
 *  - the rejection counters add up: total_rejected is the sum of the
 *    per-table counts, and at most 1000 reasons are kept.
 */
#include "fuzz.h"

#include "fg_pack.h"

#include <stdio.h>
#include <string.h>

struct fz_file {
    const char *name;
    const char *text;
};

/* The base pack. Its content is the harness's own: a few rows per table
 * in the formats of config/rules/README.md. */
static const struct fz_file files[] = {
    {"gender.csv", "hilist_code,name,gend,batch,row\n"
                   "G1,\"male, only\",1,1,1\n"
                   "G2,female only,2,1,2\n"
                   "G1,again,1,1,3\n"},
    {"age.csv", "hilist_code,name,age_group,batch,row\n"
                "A1,child,child,1,1\n"
                "A2,infant,infant,8-2,2\n"
                "A3,old,over_working_age,1,3\n"},
    {"insutype.csv", "hilist_code,name,fund,batch,row\n"
                     "I1,injury,work_injury,3,1\n"
                     "I2,birth,maternity,3,2\n"},
    {"care_setting.csv", "hilist_code,name,setting,emergency_ok,batch,row\n"
                         "S1,ward,inpatient,0,4,1\n"
                         "S2,ward or emergency,inpatient,1,4,2\n"},
    {"hosp_level.csv", "hilist_code,name,min_level,batch,row\n"
                       "H2,level two,2,5,1\n"
                       "H3,level three,3,5,2\n"},
    {"course.csv", "hilist_code,name,max_days,scope,batch,row\n"
                   "K1,course,14,course,6,1\n"
                   "K2,stay,7,stay,8-3,2\n"},
    {"dup_pairs.csv", "main_code,main_name,sub_code,sub_name,window,note,batch,row\n"
                      "M1,main,S1,sub,day,\"a, \"\"note\"\"\",7,1\n"
                      "M1,main,S2,sub two,visit,,7,2\n"
                      "M2,main two,S1,sub,6h,\"two\nlines\",7,3\n"
                      "M3,main three,S3,sub three,1h,,7,4\n"},
    {"daily_cap.csv", "hilist_code,name,max_cnt,unit,batch,row\n"
                      "D1,once a day,1,day,8-1,1\n"
                      "D2,hourly,24,hour,8-1,2\n"},
    {"period.csv", "hilist_code,name,max_count,period_days,batch,row\n"
                   "P1,weekly,1,7,8-4,1\n"
                   "P2,monthly,2,30,8-4,2\n"},
    {"surgery_groups.csv", "hilist_code,name,group,batch,row\n"
                           "O1,op one,gut,2,1\n"
                           "O2,op two,\"group, with comma\",2,2\n"},
    {"catalogue.csv", "hilist_code,hilist_name,list_type,chrgitm_lv,begndate,enddate,match\n"
                      "C1,item,201,01,2024-01-01,2024-06-30,exact\n"
                      "C1,item,201,02,2024-07-01,,\n"
                      "ABCDEFGHIJKL,drug prefix,101,02,2023-01-01,2024-12-31,prefix\n"},
    {"price_list.csv", "hilist_code,hosp_lv,max_pric,begndate,enddate\n"
                       "P1,05,12.00,2024-01-01,\n"
                       "P1,*,10.5,2024-01-01,\n"
                       "P2,*,0.000001,2020-01-01,2023-12-31\n"},
    {"pack.json", "{\"name\":\"fuzz-pack\",\"version\":\"1\",\"tables\":{"
                  "\"gender\":\"gender.csv\",\"age\":\"age.csv\","
                  "\"insutype\":\"insutype.csv\",\"care_setting\":\"care_setting.csv\","
                  "\"hosp_level\":\"hosp_level.csv\",\"course\":\"course.csv\","
                  "\"dup_pairs\":\"dup_pairs.csv\",\"daily_cap\":\"daily_cap.csv\","
                  "\"period\":\"period.csv\",\"surgery_groups\":\"surgery_groups.csv\"}}\n"},
};

#define FZ_NFILES (sizeof(files) / sizeof(files[0]))

static char *paths[FZ_NFILES];
static char *cat_path, *price_path;

static void setup(void)
{
    for (size_t i = 0; i < FZ_NFILES; i++) {
        paths[i] = fz_tmp_path(files[i].name);
        fz_write_file(paths[i], files[i].text, strlen(files[i].text));
        if (strcmp(files[i].name, "catalogue.csv") == 0)
            cat_path = paths[i];
        if (strcmp(files[i].name, "price_list.csv") == 0)
            price_path = paths[i];
    }
}

static int code_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 50)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == ',')
            return 0;
    return 1;
}

static void check_values(enum fg_table_id t, const struct fg_rule_row *r)
{
    int ok = 1;

    switch (t) {
    case FG_T_GENDER: ok = r->a == 1 || r->a == 2; break;
    case FG_T_AGE: ok = r->a >= FG_AGE_CHILD && r->a <= FG_AGE_OVER_WORKING; break;
    case FG_T_INSUTYPE: ok = r->a == FG_FUND_WORK_INJURY || r->a == FG_FUND_MATERNITY; break;
    case FG_T_CARE_SETTING: ok = r->a == 1 && (r->b == 0 || r->b == 1); break;
    case FG_T_HOSP_LEVEL: ok = r->a == 2 || r->a == 3; break;
    case FG_T_COURSE: ok = r->a >= 1 && r->a <= 3660 && (r->b == 0 || r->b == 1); break;
    case FG_T_DAILY_CAP:
        ok = r->a >= 10000 && r->a <= 100000 * 10000LL && r->a % 10000 == 0 &&
             (r->b == 0 || r->b == 1);
        break;
    case FG_T_PERIOD: ok = r->a >= 1 && r->a <= 10000 && r->b >= 1 && r->b <= 3660; break;
    case FG_T_SURGERY: ok = r->text && r->text[0]; break;
    case FG_T_NTABLES: break;
    }
    FZ_CHECK(ok, "table %s row %s: values a=%lld b=%lld out of range", fg_table_name(t),
             r->code, (long long)r->a, (long long)r->b);
}

static void check_tables(const struct fg_pack *p)
{
    for (int ti = 0; ti < FG_T_NTABLES; ti++) {
        enum fg_table_id t = (enum fg_table_id)ti;
        const struct fg_table *tab = &p->tables[t];

        FZ_CHECK(tab->n == 0 || tab->file, "rows without a file");
        for (size_t i = 0; i < tab->n; i++) {
            const struct fg_rule_row *r = &tab->rows[i], *f, *prev = NULL;
            int found = 0;

            FZ_CHECK(code_ok(r->code), "table %s: bad code accepted", fg_table_name(t));
            FZ_CHECK(r->name && r->batch && r->batch[0] && r->row >= 1,
                     "table %s row %zu: bad evidence", fg_table_name(t), i);
            check_values(t, r);
            for (f = fg_pack_find(p, t, r->code); f; f = fg_pack_next(p, t, f)) {
                FZ_CHECK(f >= tab->rows && f < tab->rows + tab->n, "chain leaves the table");
                FZ_CHECK(strcmp(f->code, r->code) == 0, "chain of %s holds %s", r->code,
                         f->code);
                FZ_CHECK(!prev || prev < f, "chain of %s not in file order", r->code);
                found |= f == r;
                prev = f;
            }
            FZ_CHECK(found, "table %s: row %zu (%s) not found by its code",
                     fg_table_name(t), i, r->code);
        }
    }
}

static void check_pairs(const struct fg_pack *p)
{
    for (size_t i = 0; i < p->npairs; i++) {
        const struct fg_pair_row *r = &p->pairs[i], *f;
        int by_main = 0, by_sub = 0;

        FZ_CHECK(code_ok(r->main_code) && code_ok(r->sub_code), "bad pair code accepted");
        FZ_CHECK(strcmp(r->main_code, r->sub_code) != 0, "pair of a code with itself");
        FZ_CHECK(r->window >= FG_WIN_DAY && r->window <= FG_WIN_1H, "window %d",
                 (int)r->window);
        FZ_CHECK(r->batch && r->batch[0] && r->row >= 1 && r->note && r->main_name &&
                     r->sub_name,
                 "pair %zu: bad evidence", i);
        for (f = fg_pack_pairs_by_main(p, r->main_code); f;
             f = fg_pack_pair_next_by_main(p, f)) {
            FZ_CHECK(strcmp(f->main_code, r->main_code) == 0, "by_main chain mixes codes");
            by_main |= f == r;
        }
        for (f = fg_pack_pairs_by_sub(p, r->sub_code); f; f = fg_pack_pair_next_by_sub(p, f)) {
            FZ_CHECK(strcmp(f->sub_code, r->sub_code) == 0, "by_sub chain mixes codes");
            by_sub |= f == r;
        }
        FZ_CHECK(by_main && by_sub, "pair %zu not found by its codes", i);
    }
}

static void check_operator(const struct fg_pack *p)
{
    for (size_t i = 0; i < p->ncat; i++) {
        const struct fg_cat_row *r = &p->cat[i], *f;
        char code[64];

        FZ_CHECK(code_ok(r->code) && r->begin_day <= r->end_day, "bad catalogue row");
        FZ_CHECK(!r->prefix || strlen(r->code) == 12, "prefix row of %zu chars",
                 strlen(r->code));
        /* A prefix row lists the codes that start with it: look one up. */
        snprintf(code, sizeof(code), "%s%s", r->code, r->prefix ? "X" : "");
        f = fg_pack_catalogue_find(p, code, r->begin_day);
        FZ_CHECK(f && f->begin_day <= r->begin_day && r->begin_day <= f->end_day,
                 "catalogue row %zu (%s) not found on its first day", i, r->code);
    }
    for (size_t i = 0; i < p->nprice; i++) {
        const struct fg_price_row *r = &p->price[i], *f;

        FZ_CHECK(code_ok(r->code) && code_ok(r->hosp_lv) && r->max_pric > 0 &&
                     r->begin_day <= r->end_day,
                 "bad price row accepted");
        f = fg_pack_price_find(p, r->code, r->hosp_lv, r->begin_day);
        FZ_CHECK(f && strcmp(f->code, r->code) == 0 && f->begin_day <= r->begin_day &&
                     r->begin_day <= f->end_day,
                 "price row %zu (%s) not found on its first day", i, r->code);
    }
}

static void check_pack(const struct fg_pack *p)
{
    size_t sum = p->pairs_rejected + p->cat_rejected + p->price_rejected;

    FZ_CHECK(p->ident && p->name && p->version && p->name[0] && p->version[0],
             "pack without a name");
    for (int t = 0; t < FG_T_NTABLES; t++)
        sum += p->tables[t].rejected;
    FZ_CHECK(sum == p->total_rejected, "rejections: %zu counted per table, %zu in total", sum,
             p->total_rejected);
    FZ_CHECK(p->nrejections <= 1000 && p->nrejections <= p->total_rejected,
             "%zu reasons kept for %zu rejections", p->nrejections, p->total_rejected);
    for (size_t i = 0; i < p->nrejections; i++)
        FZ_CHECK(p->rejections[i] && p->rejections[i][0], "empty rejection reason");
    check_tables(p);
    check_pairs(p);
    check_operator(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fg_pack *pack;
    char err[1024];
    size_t which;

    if (!paths[0])
        setup();
    if (size == 0)
        return 0;
    which = data[0] % FZ_NFILES;
    fz_write_file(paths[which], data + 1, size - 1);
    err[0] = '\0';
    pack = fg_pack_load(fz_tmpdir(), cat_path, price_path, err, sizeof(err));
    if (!pack) {
        FZ_CHECK(err[0] != '\0', "load failed without an error");
    } else {
        check_pack(pack);
        fg_pack_free(pack);
    }
    fz_write_file(paths[which], files[which].text, strlen(files[which].text));
    return 0;
}
