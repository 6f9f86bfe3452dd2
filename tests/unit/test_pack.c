/* SPDX-License-Identifier: Apache-2.0
 *
 * test_pack.c: rule packs and operator tables (config/rules/README.md,
 * CONTRACT §5): loading, row validation with file:line reasons, lookups.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fg_pack.h"
#include "fg_time.h"

/* ---- helpers ---- */

static const char *src_dir(void)
{
    const char *s = getenv("FG_SOURCE_DIR");
    return s && *s ? s : ".";
}

static void src_path(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", src_dir(), rel);
}

static int64_t day(const char *s)
{
    int64_t d;
    const char *why;

    if (fg_date_parse(s, strlen(s), &d, &why))
        fail_msg("bad test date %s", s);
    return d;
}

/* A fresh directory under /tmp, removed with all its files by rm_dir(). */
static void make_dir(char *buf, size_t size)
{
    snprintf(buf, size, "/tmp/fg_test_pack_XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static void write_in(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static const char *const scratch_files[] = {
    "pack.json",  "gender.csv", "age.csv",     "insutype.csv", "care_setting.csv",
    "hosp_level.csv", "course.csv", "dup_pairs.csv", "daily_cap.csv", "period.csv",
    "surgery_groups.csv", "catalogue.csv", "price_list.csv", "empty.csv",
};

static void rm_dir(const char *dir)
{
    char path[512];

    for (size_t i = 0; i < sizeof(scratch_files) / sizeof(scratch_files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, scratch_files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* pack.json naming one table. */
static void write_manifest(const char *dir, const char *key, const char *file)
{
    char text[512];

    snprintf(text, sizeof(text),
             "{\"name\": \"t\", \"version\": \"1\", \"tables\": {\"%s\": \"%s\"}}\n", key,
             file);
    write_in(dir, "pack.json", text);
}

static struct fg_pack *load_ok(const char *dir, const char *cat, const char *price)
{
    char err[1024] = "";
    struct fg_pack *p = fg_pack_load(dir, cat, price, err, sizeof(err));

    if (!p)
        fail_msg("load %s failed: %s", dir, err);
    return p;
}

/* Is there a rejection "FILE:LINE: FIELD..." (FIELD: the start of the
 * reason, naming the column)? */
static int has_rejection(const struct fg_pack *p, const char *file, int line,
                         const char *field)
{
    char want[1024];

    snprintf(want, sizeof(want), "%s:%d: %s", file, line, field);
    for (size_t i = 0; i < p->nrejections; i++)
        if (strncmp(p->rejections[i], want, strlen(want)) == 0)
            return 1;
    return 0;
}

static void expect_rejection(const struct fg_pack *p, const char *file, int line,
                             const char *field)
{
    if (!has_rejection(p, file, line, field)) {
        for (size_t i = 0; i < p->nrejections; i++)
            print_message("  have: %s\n", p->rejections[i]);
        fail_msg("no rejection \"%s:%d: %s...\"", file, line, field);
    }
}

/* Load a one-table pack whose table has the given text. */
static struct fg_pack *one_table(char *dir, size_t size, const char *key,
                                 const char *file, const char *text, char *path,
                                 size_t psize)
{
    make_dir(dir, size);
    write_manifest(dir, key, file);
    write_in(dir, file, text);
    snprintf(path, psize, "%s/%s", dir, file);
    return load_ok(dir, NULL, NULL);
}

/* ---- the small fixture pack ---- */

static void fixture(char *buf, size_t size, const char *file)
{
    char rel[256];

    snprintf(rel, sizeof(rel), "tests/unit/data/pack_small%s%s", file ? "/" : "",
             file ? file : "");
    src_path(buf, size, rel);
}

static struct fg_pack *load_fixture(void)
{
    char dir[4096], cat[4096], price[4096];

    fixture(dir, sizeof(dir), NULL);
    fixture(cat, sizeof(cat), "catalogue.csv");
    fixture(price, sizeof(price), "price_list.csv");
    return load_ok(dir, cat, price);
}

static void test_fixture_load(void **state)
{
    struct fg_pack *p = load_fixture();
    const struct fg_rule_row *r;

    (void)state;
    for (size_t i = 0; i < p->nrejections; i++)
        print_message("unexpected: %s\n", p->rejections[i]);
    assert_int_equal(p->total_rejected, 0);
    assert_string_equal(p->name, "test-pack");
    assert_string_equal(p->version, "0.1");
    assert_string_equal(p->ident, "test-pack@0.1");
    assert_int_equal(p->tables[FG_T_GENDER].n, 5);
    assert_int_equal(p->tables[FG_T_AGE].n, 4);
    assert_int_equal(p->tables[FG_T_INSUTYPE].n, 2);
    assert_int_equal(p->tables[FG_T_CARE_SETTING].n, 2);
    assert_int_equal(p->tables[FG_T_HOSP_LEVEL].n, 2);
    assert_int_equal(p->tables[FG_T_COURSE].n, 2);
    assert_int_equal(p->tables[FG_T_DAILY_CAP].n, 2);
    assert_int_equal(p->tables[FG_T_PERIOD].n, 2);
    assert_int_equal(p->tables[FG_T_SURGERY].n, 2);
    assert_int_equal(p->npairs, 5);
    assert_int_equal(p->ncat, 5);
    assert_int_equal(p->nprice, 7);
    for (int t = 0; t < FG_T_NTABLES; t++)
        assert_true(fg_pack_has_table(p, (enum fg_table_id)t));
    assert_true(fg_pack_has_catalogue(p));
    assert_string_equal(fg_table_name(FG_T_GENDER), "gender");
    assert_string_equal(fg_table_name(FG_T_SURGERY), "surgery_groups");
    assert_string_equal(fg_table_name(FG_T_CARE_SETTING), "care_setting");

    /* Values of each table kind. */
    r = fg_pack_find(p, FG_T_GENDER, "G2");
    assert_non_null(r);
    assert_int_equal(r->a, 2);
    assert_string_equal(r->name, "女用药");
    assert_string_equal(r->batch, "1");
    assert_int_equal(r->row, 2);
    r = fg_pack_find(p, FG_T_GENDER, "G3");
    assert_string_equal(r->name, "say \"hi\"");
    /* Columns are found by name, whatever their order. */
    assert_int_equal(fg_pack_find(p, FG_T_AGE, "A1")->a, FG_AGE_CHILD);
    assert_string_equal(fg_pack_find(p, FG_T_AGE, "A1")->name, "儿童药");
    assert_int_equal(fg_pack_find(p, FG_T_AGE, "A2")->a, FG_AGE_INFANT);
    assert_string_equal(fg_pack_find(p, FG_T_AGE, "A2")->batch, "8-2");
    assert_int_equal(fg_pack_find(p, FG_T_AGE, "A3")->a, FG_AGE_NEWBORN);
    assert_int_equal(fg_pack_find(p, FG_T_AGE, "A4")->a, FG_AGE_OVER_WORKING);
    assert_int_equal(fg_pack_find(p, FG_T_INSUTYPE, "I1")->a, FG_FUND_WORK_INJURY);
    assert_int_equal(fg_pack_find(p, FG_T_INSUTYPE, "I2")->a, FG_FUND_MATERNITY);
    r = fg_pack_find(p, FG_T_CARE_SETTING, "S1");
    assert_int_equal(r->a, 1);
    assert_int_equal(r->b, 0);
    assert_int_equal(fg_pack_find(p, FG_T_CARE_SETTING, "S2")->b, 1);
    assert_int_equal(fg_pack_find(p, FG_T_HOSP_LEVEL, "H2")->a, 2);
    assert_int_equal(fg_pack_find(p, FG_T_HOSP_LEVEL, "H3")->a, 3);
    r = fg_pack_find(p, FG_T_COURSE, "K1");
    assert_int_equal(r->a, 14);
    assert_int_equal(r->b, FG_COURSE_EPISODE);
    r = fg_pack_find(p, FG_T_COURSE, "K2");
    assert_int_equal(r->a, 7);
    assert_int_equal(r->b, FG_COURSE_STAY);
    /* max_cnt in 1/10000 units, like cnt. */
    r = fg_pack_find(p, FG_T_DAILY_CAP, "D1");
    assert_int_equal(r->a, 10000);
    assert_int_equal(r->b, 0);
    r = fg_pack_find(p, FG_T_DAILY_CAP, "D2");
    assert_int_equal(r->a, 20000);
    assert_int_equal(r->b, 1);
    r = fg_pack_find(p, FG_T_PERIOD, "P2");
    assert_int_equal(r->a, 2);
    assert_int_equal(r->b, 30);
    assert_string_equal(fg_pack_find(p, FG_T_SURGERY, "O1")->text, "胃肠手术组");
    assert_string_equal(fg_pack_find(p, FG_T_SURGERY, "O2")->text, "组, 带逗号");
    /* A code is looked up only in its own table. */
    assert_null(fg_pack_find(p, FG_T_GENDER, "A1"));
    assert_null(fg_pack_find(p, FG_T_GENDER, "G"));
    assert_null(fg_pack_find(p, FG_T_GENDER, "G11"));
    assert_null(fg_pack_find(p, FG_T_GENDER, ""));
    fg_pack_free(p);
    fg_pack_free(NULL);
}

static void test_chains(void **state)
{
    struct fg_pack *p = load_fixture();
    const struct fg_rule_row *r;

    (void)state;
    /* G1 rows in file order: rows 1, 7, 9. */
    r = fg_pack_find(p, FG_T_GENDER, "G1");
    assert_non_null(r);
    assert_int_equal(r->row, 1);
    assert_string_equal(r->name, "first G1, with a comma");
    assert_int_equal(r->a, 1);
    r = fg_pack_next(p, FG_T_GENDER, r);
    assert_non_null(r);
    assert_int_equal(r->row, 7);
    assert_string_equal(r->name, "second G1");
    r = fg_pack_next(p, FG_T_GENDER, r);
    assert_non_null(r);
    assert_int_equal(r->row, 9);
    assert_int_equal(r->a, 2);
    assert_null(fg_pack_next(p, FG_T_GENDER, r));
    r = fg_pack_find(p, FG_T_GENDER, "G2");
    assert_null(fg_pack_next(p, FG_T_GENDER, r));

    /* Pairs by 主项 and by 从项, in file order. */
    const struct fg_pair_row *q = fg_pack_pairs_by_main(p, "M1");
    assert_non_null(q);
    assert_string_equal(q->sub_code, "S1");
    assert_int_equal(q->window, FG_WIN_DAY);
    assert_string_equal(q->note, "含监护, 床位");
    assert_string_equal(q->main_name, "main one");
    assert_string_equal(q->sub_name, "sub one");
    assert_string_equal(q->batch, "7");
    assert_int_equal(q->row, 1);
    q = fg_pack_pair_next_by_main(p, q);
    assert_non_null(q);
    assert_string_equal(q->sub_code, "S2");
    assert_int_equal(q->window, FG_WIN_VISIT);
    q = fg_pack_pair_next_by_main(p, q);
    assert_non_null(q);
    assert_string_equal(q->sub_code, "S4");
    assert_null(fg_pack_pair_next_by_main(p, q));

    q = fg_pack_pairs_by_sub(p, "S1");
    assert_non_null(q);
    assert_string_equal(q->main_code, "M1");
    q = fg_pack_pair_next_by_sub(p, q);
    assert_non_null(q);
    assert_string_equal(q->main_code, "M2");
    assert_int_equal(q->window, FG_WIN_6H);
    assert_int_equal(q->row, 3);
    assert_null(fg_pack_pair_next_by_sub(p, q));

    q = fg_pack_pairs_by_sub(p, "S3");
    assert_non_null(q);
    assert_int_equal(q->window, FG_WIN_1H);
    assert_string_equal(q->note, "multi\nline note");
    assert_int_equal(q->row, 4);
    assert_null(fg_pack_pair_next_by_sub(p, q));

    assert_null(fg_pack_pairs_by_main(p, "S1"));
    assert_null(fg_pack_pairs_by_sub(p, "M1"));
    assert_null(fg_pack_pairs_by_sub(p, "nope"));
    fg_pack_free(p);
}

static void test_catalogue(void **state)
{
    struct fg_pack *p = load_fixture();
    const struct fg_cat_row *c;

    (void)state;
    /* C1: 01 from 2024-01-01 to 2024-06-30 inclusive, then 02, open-ended. */
    assert_null(fg_pack_catalogue_find(p, "C1", day("2023-12-31")));
    c = fg_pack_catalogue_find(p, "C1", day("2024-01-01"));
    assert_non_null(c);
    assert_string_equal(c->chrgitm_lv, "01");
    assert_string_equal(c->list_type, "201");
    assert_string_equal(c->name, "item one");
    assert_int_equal(c->prefix, 0);
    c = fg_pack_catalogue_find(p, "C1", day("2024-06-30"));
    assert_non_null(c);
    assert_string_equal(c->chrgitm_lv, "01");
    c = fg_pack_catalogue_find(p, "C1", day("2024-07-01"));
    assert_non_null(c);
    assert_string_equal(c->chrgitm_lv, "02");
    c = fg_pack_catalogue_find(p, "C1", day("2199-12-31"));
    assert_non_null(c);
    assert_string_equal(c->chrgitm_lv, "02");
    assert_int_equal(c->begin_day, day("2024-07-01"));
    assert_int_equal(c->end_day, INT64_MAX);

    /* C2: January 2024 only; the day after enddate is not listed. */
    assert_non_null(fg_pack_catalogue_find(p, "C2", day("2024-01-31")));
    assert_null(fg_pack_catalogue_find(p, "C2", day("2024-02-01")));
    assert_null(fg_pack_catalogue_find(p, "C", day("2024-01-15")));
    assert_null(fg_pack_catalogue_find(p, "C22", day("2024-01-15")));

    /* Prefix row: any code starting with the 12 characters. */
    c = fg_pack_catalogue_find(p, "ABCDEFGHIJKLXYZ12345", day("2024-05-01"));
    assert_non_null(c);
    assert_int_equal(c->prefix, 1);
    assert_string_equal(c->code, "ABCDEFGHIJKL");
    c = fg_pack_catalogue_find(p, "ABCDEFGHIJKL", day("2024-05-01"));
    assert_non_null(c);
    assert_int_equal(c->prefix, 1);
    assert_null(fg_pack_catalogue_find(p, "ABCDEFGHIJK", day("2024-05-01")));
    assert_null(fg_pack_catalogue_find(p, "ABCDEFGHIJKXLMN", day("2024-05-01")));
    assert_null(fg_pack_catalogue_find(p, "XBCDEFGHIJKLMN", day("2024-05-01")));
    assert_null(fg_pack_catalogue_find(p, "ABCDEFGHIJKLXYZ12345", day("2025-01-01")));
    assert_null(fg_pack_catalogue_find(p, "ABCDEFGHIJKLXYZ12345", day("2022-12-31")));
    /* The exact row wins while valid; outside it the prefix row lists it. */
    c = fg_pack_catalogue_find(p, "ABCDEFGHIJKLM0001", day("2024-03-15"));
    assert_non_null(c);
    assert_int_equal(c->prefix, 0);
    assert_string_equal(c->chrgitm_lv, "01");
    c = fg_pack_catalogue_find(p, "ABCDEFGHIJKLM0001", day("2024-04-01"));
    assert_non_null(c);
    assert_int_equal(c->prefix, 1);
    fg_pack_free(p);
}

static void test_price(void **state)
{
    struct fg_pack *p = load_fixture();
    const struct fg_price_row *r;
    int64_t may = day("2024-05-01");

    (void)state;
    /* Exact level wins over '*', in whatever order the file lists them. */
    r = fg_pack_price_find(p, "P1", "05", may);
    assert_non_null(r);
    assert_int_equal(r->max_pric, 12000000);
    assert_string_equal(r->hosp_lv, "05");
    r = fg_pack_price_find(p, "P3", "01", may);
    assert_non_null(r);
    assert_int_equal(r->max_pric, 6000000);
    assert_int_equal(fg_pack_price_find(p, "P3", "02", may)->max_pric, 5000000);
    /* Other levels, or no level known, fall back to '*'. */
    r = fg_pack_price_find(p, "P1", "01", may);
    assert_non_null(r);
    assert_int_equal(r->max_pric, 10000000);
    assert_string_equal(r->hosp_lv, "*");
    r = fg_pack_price_find(p, "P1", NULL, may);
    assert_non_null(r);
    assert_int_equal(r->max_pric, 10000000);
    assert_int_equal(fg_pack_price_find(p, "P1", "0", may)->max_pric, 10000000);
    assert_int_equal(fg_pack_price_find(p, "P1", "050", may)->max_pric, 10000000);
    /* An expired exact row is ignored. */
    r = fg_pack_price_find(p, "P1", "03", may);
    assert_non_null(r);
    assert_int_equal(r->max_pric, 10000000);
    r = fg_pack_price_find(p, "P1", "03", day("2023-12-31"));
    assert_non_null(r);
    assert_int_equal(r->max_pric, 15500000);
    assert_null(fg_pack_price_find(p, "P1", "05", day("2023-12-31")));
    assert_null(fg_pack_price_find(p, "P1", NULL, day("2023-12-31")));
    /* Validity periods are inclusive. */
    assert_int_equal(fg_pack_price_find(p, "P2", "05", day("2024-06-30"))->max_pric,
                     1000001);
    assert_int_equal(fg_pack_price_find(p, "P2", "05", day("2024-07-01"))->max_pric,
                     2000000);
    assert_null(fg_pack_price_find(p, "P2", "05", day("2023-12-31")));
    assert_null(fg_pack_price_find(p, "P9", "05", may));
    fg_pack_free(p);
}

static void test_evidence(void **state)
{
    char buf[128];

    (void)state;
    fg_pack_evidence("7", 1, buf, sizeof(buf));
    assert_string_equal(buf, "两库第七批 重复收费 #1");
    fg_pack_evidence("7", 12, buf, sizeof(buf));
    assert_string_equal(buf, "两库第七批 重复收费 #12");
    /* Other batches name their batch and row. */
    static const char *const batches[] = {"1", "2", "3", "4", "5", "6",
                                          "8-1", "8-2", "8-3", "8-4"};
    static const char *const numerals[] = {"第一批", "第二批", "第三批", "第四批",
                                           "第五批", "第六批", "第八批-1", "第八批-2",
                                           "第八批-3", "第八批-4"};
    for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
        fg_pack_evidence(batches[i], 34, buf, sizeof(buf));
        if (!strstr(buf, numerals[i]) || strncmp(buf, "两库", strlen("两库")) != 0)
            fail_msg("batch %s: \"%s\"", batches[i], buf);
        assert_string_equal(buf + strlen(buf) - 4, " #34");
    }
    fg_pack_evidence("99", 5, buf, sizeof(buf));
    assert_non_null(strstr(buf, "99"));
    assert_string_equal(buf + strlen(buf) - 3, " #5");
    /* Truncated to the buffer. */
    char small[8];
    memset(small, 'x', sizeof(small));
    fg_pack_evidence("7", 1, small, 5);
    assert_true(strlen(small) < 5);
    assert_int_equal(small[5], 'x');
}

/* ---- rejections ---- */

static void test_reject_code_tables(void **state)
{
    char dir[64], path[128];
    struct fg_pack *p;

    (void)state;
    p = one_table(dir, sizeof(dir), "gender", "gender.csv",
                  "hilist_code,name,gend,batch,row\n"    /* 1 */
                  "G1,ok,1,1,1\n"                        /* 2 */
                  "G2,bad,3,1,2\n"                       /* 3 */
                  "# comment\n"                          /* 4 */
                  "\n"                                   /* 5 */
                  "G3,bad,,1,3\n"                        /* 6 */
                  "G4,bad,male,1,4\n"                    /* 7 */
                  ",empty code,1,1,5\n"                  /* 8 */
                  "G 6,space in code,1,1,6\n"            /* 9 */
                  "G7,bad row,1,1,0\n"                   /* 10 */
                  "G8,bad row,1,1,x\n"                   /* 11 */
                  "G9,bad row,1,1,\n"                    /* 12 */
                  "G10,bad row,1,1,-4\n"                 /* 13 */
                  "G11,no batch,1,,11\n"                 /* 14 */
                  "G12,ok,2,1,12\n",                     /* 15 */
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_GENDER].n, 2);
    assert_int_equal(p->tables[FG_T_GENDER].rejected, 10);
    assert_int_equal(p->total_rejected, 10);
    expect_rejection(p, path, 3, "gend");
    expect_rejection(p, path, 6, "gend");
    expect_rejection(p, path, 7, "gend");
    expect_rejection(p, path, 8, "hilist_code");
    expect_rejection(p, path, 9, "hilist_code");
    expect_rejection(p, path, 10, "row");
    expect_rejection(p, path, 11, "row");
    expect_rejection(p, path, 12, "row");
    expect_rejection(p, path, 13, "row");
    expect_rejection(p, path, 14, "batch");
    assert_non_null(fg_pack_find(p, FG_T_GENDER, "G12"));
    assert_null(fg_pack_find(p, FG_T_GENDER, "G2"));
    fg_pack_free(p);
    rm_dir(dir);

    p = one_table(dir, sizeof(dir), "age", "age.csv",
                  "hilist_code,name,age_group,batch,row\n"
                  "A1,ok,child,1,1\n"
                  "A2,bad,adult,1,2\n"
                  "A3,bad,Child,1,3\n",
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_AGE].n, 1);
    expect_rejection(p, path, 3, "age_group");
    expect_rejection(p, path, 4, "age_group");
    fg_pack_free(p);
    rm_dir(dir);

    p = one_table(dir, sizeof(dir), "insutype", "insutype.csv",
                  "hilist_code,name,fund,batch,row\n"
                  "I1,bad,pension,3,1\n"
                  "I2,ok,maternity,3,2\n",
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_INSUTYPE].n, 1);
    expect_rejection(p, path, 2, "fund");
    fg_pack_free(p);
    rm_dir(dir);

    p = one_table(dir, sizeof(dir), "care_setting", "care_setting.csv",
                  "hilist_code,name,setting,emergency_ok,batch,row\n"
                  "S1,bad,outpatient,0,4,1\n"
                  "S2,bad,inpatient,2,4,2\n"
                  "S3,ok,inpatient,1,4,3\n"
                  "S4,bad,inpatient,yes,4,4\n",
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_CARE_SETTING].n, 1);
    expect_rejection(p, path, 2, "setting");
    expect_rejection(p, path, 3, "emergency_ok");
    expect_rejection(p, path, 5, "emergency_ok");
    fg_pack_free(p);
    rm_dir(dir);

    p = one_table(dir, sizeof(dir), "hosp_level", "hosp_level.csv",
                  "hilist_code,name,min_level,batch,row\n"
                  "H1,bad,4,5,1\n"
                  "H2,bad,x,5,2\n"
                  "H3,bad,,5,3\n"
                  "H4,ok,3,5,4\n",
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_HOSP_LEVEL].n, 1);
    expect_rejection(p, path, 2, "min_level");
    expect_rejection(p, path, 3, "min_level");
    expect_rejection(p, path, 4, "min_level");
    fg_pack_free(p);
    rm_dir(dir);

    p = one_table(dir, sizeof(dir), "course", "course.csv",
                  "hilist_code,name,max_days,scope,batch,row\n"
                  "K1,bad,0,course,6,1\n"
                  "K2,bad,abc,course,6,2\n"
                  "K3,bad,14,week,6,3\n"
                  "K4,ok,14,stay,6,4\n"
                  "K5,bad,1.5,stay,6,5\n",
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_COURSE].n, 1);
    expect_rejection(p, path, 2, "max_days");
    expect_rejection(p, path, 3, "max_days");
    expect_rejection(p, path, 4, "scope");
    expect_rejection(p, path, 6, "max_days");
    fg_pack_free(p);
    rm_dir(dir);

    p = one_table(dir, sizeof(dir), "daily_cap", "daily_cap.csv",
                  "hilist_code,name,max_cnt,unit,batch,row\n"
                  "D1,bad,0,day,8-1,1\n"
                  "D2,bad,-1,day,8-1,2\n"
                  "D3,bad,x,day,8-1,3\n"
                  "D4,bad,1,week,8-1,4\n"
                  "D5,ok,3,hour,8-1,5\n"
                  "D6,bad,,day,8-1,6\n",
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_DAILY_CAP].n, 1);
    assert_int_equal(p->tables[FG_T_DAILY_CAP].rejected, 5);
    expect_rejection(p, path, 2, "max_cnt");
    expect_rejection(p, path, 3, "max_cnt");
    expect_rejection(p, path, 4, "max_cnt");
    expect_rejection(p, path, 5, "unit");
    expect_rejection(p, path, 7, "max_cnt");
    fg_pack_free(p);
    rm_dir(dir);

    p = one_table(dir, sizeof(dir), "period", "period.csv",
                  "hilist_code,name,max_count,period_days,batch,row\n"
                  "P1,bad,0,7,8-4,1\n"
                  "P2,bad,1,x,8-4,2\n"
                  "P3,bad,1,0,8-4,3\n"
                  "P4,ok,1,7,8-4,4\n",
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_PERIOD].n, 1);
    expect_rejection(p, path, 2, "max_count");
    expect_rejection(p, path, 3, "period_days");
    expect_rejection(p, path, 4, "period_days");
    fg_pack_free(p);
    rm_dir(dir);

    p = one_table(dir, sizeof(dir), "surgery_groups", "surgery_groups.csv",
                  "hilist_code,name,group,batch,row\n"
                  "O1,bad,,2,1\n"
                  "O2,ok,g,2,2\n",
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_SURGERY].n, 1);
    expect_rejection(p, path, 2, "group");
    fg_pack_free(p);
    rm_dir(dir);
}

static void test_reject_pairs(void **state)
{
    char dir[64], path[128];
    struct fg_pack *p;

    (void)state;
    p = one_table(dir, sizeof(dir), "dup_pairs", "dup_pairs.csv",
                  "main_code,main_name,sub_code,sub_name,window,note,batch,row\n" /* 1 */
                  "M1,m,S1,s,2h,,7,1\n"                                       /* 2 */
                  "M1,m,M1,s,day,,7,2\n"                                      /* 3 */
                  "M1,m,,s,day,,7,3\n"                                        /* 4 */
                  ",m,S1,s,day,,7,4\n"                                        /* 5 */
                  "M1,m,S1,s,day,\"note\n"                                    /* 6 */
                  "on two lines\",7,5\n"                                      /* 7 */
                  "M1,m,S2,s,Day,,7,6\n"                                      /* 8 */
                  "M1,m,S3,s,visit,,7,x\n"                                    /* 9 */
                  "M1,m,S4,s,1h,,,8\n",                                       /* 10 */
                  path, sizeof(path));
    assert_int_equal(p->npairs, 1);
    assert_int_equal(p->pairs_rejected, 7);
    assert_int_equal(p->total_rejected, 7);
    expect_rejection(p, path, 2, "window");
    expect_rejection(p, path, 3, "sub_code");
    expect_rejection(p, path, 4, "sub_code");
    expect_rejection(p, path, 5, "main_code");
    expect_rejection(p, path, 8, "window");
    expect_rejection(p, path, 9, "row");
    expect_rejection(p, path, 10, "batch");
    assert_string_equal(fg_pack_pairs_by_sub(p, "S1")->note, "note\non two lines");
    fg_pack_free(p);
    rm_dir(dir);
}

static void test_reject_catalogue(void **state)
{
    char dir[64], path[128];
    struct fg_pack *p;

    (void)state;
    make_dir(dir, sizeof(dir));
    write_manifest(dir, "gender", "gender.csv");
    write_in(dir, "gender.csv", "hilist_code,name,gend,batch,row\n");
    write_in(dir, "catalogue.csv",
             "hilist_code,hilist_name,list_type,chrgitm_lv,begndate,enddate,match\n" /* 1 */
             "C1,bad,201,01,2024/01/01,,exact\n"                                     /* 2 */
             "C2,bad,201,01,,,exact\n"                                               /* 3 */
             "C3,bad,201,01,2024-01-01,2024-13-01,exact\n"                           /* 4 */
             "C4,bad,201,01,2024-03-01,2024-02-29,exact\n"                           /* 5 */
             "C5,bad,201,01,2024-01-01,,fuzzy\n"                                     /* 6 */
             "ABCDEFGHIJK,bad,101,01,2024-01-01,,prefix\n"                           /* 7 */
             "ABCDEFGHIJKLM,bad,101,01,2024-01-01,,prefix\n"                         /* 8 */
             "# a comment\n"                                                         /* 9 */
             ",bad,201,01,2024-01-01,,exact\n"                                       /* 10 */
             "C6,ok,201,01,2024-01-01,2024-01-01,exact\n"                            /* 11 */
             "C7,bad,201,01,2023-02-29,,\n"                                          /* 12 */
             "C8,\"ok, quoted\",201,01,2024-01-01,,\n");                             /* 13 */
    snprintf(path, sizeof(path), "%s/catalogue.csv", dir);
    p = load_ok(dir, path, NULL);
    assert_int_equal(p->ncat, 2);
    assert_int_equal(p->cat_rejected, 9);
    assert_int_equal(p->total_rejected, 9);
    expect_rejection(p, path, 2, "begndate");
    expect_rejection(p, path, 3, "begndate");
    expect_rejection(p, path, 4, "enddate");
    expect_rejection(p, path, 5, "enddate");
    expect_rejection(p, path, 6, "match");
    expect_rejection(p, path, 7, "hilist_code");
    expect_rejection(p, path, 8, "hilist_code");
    expect_rejection(p, path, 10, "hilist_code");
    expect_rejection(p, path, 12, "begndate");
    /* A one-day row. */
    assert_non_null(fg_pack_catalogue_find(p, "C6", day("2024-01-01")));
    assert_null(fg_pack_catalogue_find(p, "C6", day("2024-01-02")));
    assert_null(fg_pack_catalogue_find(p, "C6", day("2023-12-31")));
    assert_string_equal(fg_pack_catalogue_find(p, "C8", day("2024-01-02"))->name,
                        "ok, quoted");
    fg_pack_free(p);
    rm_dir(dir);
}

static void test_reject_price(void **state)
{
    char dir[64], path[128];
    struct fg_pack *p;

    (void)state;
    make_dir(dir, sizeof(dir));
    write_manifest(dir, "gender", "gender.csv");
    write_in(dir, "gender.csv", "hilist_code,name,gend,batch,row\n");
    write_in(dir, "price_list.csv",
             "hilist_code,hosp_lv,max_pric,begndate,enddate\n"  /* 1 */
             "P1,*,abc,2024-01-01,\n"                           /* 2 */
             "P2,*,0,2024-01-01,\n"                             /* 3 */
             "P3,*,-1,2024-01-01,\n"                            /* 4 */
             "P4,*,1.1234567,2024-01-01,\n"                     /* 5 */
             "P5,,1,2024-01-01,\n"                              /* 6 */
             "P6,*,1,2024-1-1,\n"                               /* 7 */
             "P7,*,1,2024-02-01,2024-01-31\n"                   /* 8 */
             "\n"                                               /* 9 */
             ",*,1,2024-01-01,\n"                               /* 10 */
             "P8,05,0.000001,2024-01-01,\n"                     /* 11 */
             "P9,*,1,2024-01-01,2024-02-30\n");                 /* 12 */
    snprintf(path, sizeof(path), "%s/price_list.csv", dir);
    p = load_ok(dir, NULL, path);
    assert_int_equal(p->nprice, 1);
    assert_int_equal(p->price_rejected, 9);
    expect_rejection(p, path, 2, "max_pric");
    expect_rejection(p, path, 3, "max_pric");
    expect_rejection(p, path, 4, "max_pric");
    expect_rejection(p, path, 5, "max_pric");
    expect_rejection(p, path, 6, "hosp_lv");
    expect_rejection(p, path, 7, "begndate");
    expect_rejection(p, path, 8, "enddate");
    expect_rejection(p, path, 10, "hilist_code");
    expect_rejection(p, path, 12, "enddate");
    assert_int_equal(fg_pack_price_find(p, "P8", "05", day("2024-01-01"))->max_pric, 1);
    assert_false(fg_pack_has_catalogue(p));
    fg_pack_free(p);
    rm_dir(dir);
}

/* CRLF line ends and a UTF-8 byte-order mark are common in exported CSV. */
static void test_crlf_and_bom(void **state)
{
    char dir[64], path[128];
    struct fg_pack *p;

    (void)state;
    p = one_table(dir, sizeof(dir), "gender", "gender.csv",
                  "\xef\xbb\xbfhilist_code,name,gend,batch,row\r\n"
                  "G1,a,1,1,1\r\n"
                  "\r\n"
                  "G2,b,9,1,2\r\n"
                  "G3,\"c\r\nd\",2,1,3\r\n"
                  "G4,e,2,1,4",
                  path, sizeof(path));
    assert_int_equal(p->tables[FG_T_GENDER].n, 3);
    expect_rejection(p, path, 4, "gend");
    assert_string_equal(fg_pack_find(p, FG_T_GENDER, "G1")->name, "a");
    assert_int_equal(fg_pack_find(p, FG_T_GENDER, "G4")->a, 2);
    assert_int_equal(fg_pack_find(p, FG_T_GENDER, "G4")->row, 4);
    fg_pack_free(p);
    rm_dir(dir);
}

static void test_missing_column(void **state)
{
    char dir[64], path[128];
    struct fg_pack *p;

    (void)state;
    p = one_table(dir, sizeof(dir), "gender", "gender.csv",
                  "hilist_code,name,gender,batch,row\n"
                  "G1,a,1,1,1\n"
                  "G2,b,2,1,2\n",
                  path, sizeof(path));
    /* The whole table is rejected. */
    assert_int_equal(p->tables[FG_T_GENDER].n, 0);
    assert_null(fg_pack_find(p, FG_T_GENDER, "G1"));
    assert_true(p->total_rejected >= 1);
    expect_rejection(p, path, 1, "missing column 'gend'");
    fg_pack_free(p);
    rm_dir(dir);

    make_dir(dir, sizeof(dir));
    write_manifest(dir, "gender", "gender.csv");
    write_in(dir, "gender.csv", "hilist_code,name,gend,batch,row\n");
    write_in(dir, "catalogue.csv", "hilist_code,hilist_name,list_type,begndate,enddate\n"
                                   "C1,a,201,2024-01-01,\n");
    write_in(dir, "price_list.csv", "hilist_code,max_pric,begndate,enddate\n"
                                    "P1,1,2024-01-01,\n");
    {
        char cat[128], price[128];
        snprintf(cat, sizeof(cat), "%s/catalogue.csv", dir);
        snprintf(price, sizeof(price), "%s/price_list.csv", dir);
        p = load_ok(dir, cat, price);
        assert_int_equal(p->ncat, 0);
        assert_int_equal(p->nprice, 0);
        expect_rejection(p, cat, 1, "missing column 'chrgitm_lv'");
        expect_rejection(p, price, 1, "missing column 'hosp_lv'");
        assert_null(fg_pack_catalogue_find(p, "C1", day("2024-01-02")));
        assert_null(fg_pack_price_find(p, "P1", "*", day("2024-01-02")));
        fg_pack_free(p);
    }
    rm_dir(dir);
}

/* A header after leading comment lines is on the line it is on. */
static void test_missing_column_after_comment(void **state)
{
    char dir[64], path[128];
    struct fg_pack *p;

    (void)state;
    p = one_table(dir, sizeof(dir), "gender", "gender.csv",
                  "# exported 2024-01-01\n"
                  "\n"
                  "hilist_code,name,batch,row\n"
                  "G1,a,1,1\n",
                  path, sizeof(path));
    int ok = has_rejection(p, path, 3, "missing column 'gend'");
    fg_pack_free(p);
    rm_dir(dir);
    assert_true(ok);
}

static void test_manifest_errors(void **state)
{
    char dir[64], err[1024];
    struct fg_pack *p;

    (void)state;
    /* Unknown table key. */
    make_dir(dir, sizeof(dir));
    write_in(dir, "pack.json",
             "{\"name\": \"t\", \"version\": \"1\", \"tables\": {\"gender\": "
             "\"gender.csv\", \"genders\": \"gender.csv\"}}\n");
    write_in(dir, "gender.csv", "hilist_code,name,gend,batch,row\nG1,a,1,1,1\n");
    err[0] = '\0';
    p = fg_pack_load(dir, NULL, NULL, err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "genders"));
    assert_non_null(strstr(err, "pack.json"));
    rm_dir(dir);

    /* A table named but missing. */
    make_dir(dir, sizeof(dir));
    write_manifest(dir, "period", "period.csv");
    err[0] = '\0';
    p = fg_pack_load(dir, NULL, NULL, err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "period.csv"));
    rm_dir(dir);

    /* pack.json is not JSON: file and line. */
    make_dir(dir, sizeof(dir));
    write_in(dir, "pack.json", "{\n  \"name\": \"t\",\n  \"version\": 1,,\n}\n");
    err[0] = '\0';
    p = fg_pack_load(dir, NULL, NULL, err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "pack.json:3:"));
    rm_dir(dir);

    /* name/version missing; tables not an object; a table not a string. */
    make_dir(dir, sizeof(dir));
    write_in(dir, "pack.json", "{\"version\": \"1\", \"tables\": {}}\n");
    assert_null(fg_pack_load(dir, NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "name"));
    write_in(dir, "pack.json", "{\"name\": \"t\", \"version\": \"1\", \"tables\": []}\n");
    assert_null(fg_pack_load(dir, NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "tables"));
    write_in(dir, "pack.json",
             "{\"name\": \"t\", \"version\": \"1\", \"tables\": {\"gender\": 5}}\n");
    assert_null(fg_pack_load(dir, NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "gender"));
    /* A missing operator table is an error too. */
    write_manifest(dir, "gender", "gender.csv");
    write_in(dir, "gender.csv", "hilist_code,name,gend,batch,row\n");
    assert_null(fg_pack_load(dir, "/tmp/fg_test_no_such_catalogue.csv", NULL, err,
                             sizeof(err)));
    assert_non_null(strstr(err, "fg_test_no_such_catalogue.csv"));
    assert_null(fg_pack_load(dir, NULL, "/tmp/fg_test_no_such_price.csv", err,
                             sizeof(err)));
    assert_non_null(strstr(err, "fg_test_no_such_price.csv"));
    /* Empty operator paths mean "not configured". */
    p = load_ok(dir, "", "");
    assert_false(fg_pack_has_catalogue(p));
    assert_null(fg_pack_catalogue_find(p, "C1", day("2024-01-01")));
    assert_null(fg_pack_price_find(p, "P1", "*", day("2024-01-01")));
    /* Tables left out of the manifest are absent. */
    assert_true(fg_pack_has_table(p, FG_T_GENDER));
    assert_false(fg_pack_has_table(p, FG_T_AGE));
    assert_null(fg_pack_find(p, FG_T_AGE, "A1"));
    assert_null(fg_pack_pairs_by_main(p, "M1"));
    fg_pack_free(p);
    rm_dir(dir);
}

static void test_missing_manifest(void **state)
{
    char dir[64], err[1024];
    struct fg_pack *p;

    (void)state;
    make_dir(dir, sizeof(dir));
    err[0] = '\0';
    p = fg_pack_load(dir, NULL, NULL, err, sizeof(err));
    rm_dir(dir);
    assert_null(p);
    assert_non_null(strstr(err, "pack.json"));
    /* No line number exists for a file that cannot be opened. */
    if (strstr(err, ":-1:") || strstr(err, ":0:"))
        fail_msg("meaningless line number in \"%s\"", err);
}

/* A table file with no header row cannot be used: the load fails. */
static void test_empty_table_file(void **state)
{
    char dir[64], err[1024];
    struct fg_pack *p;

    (void)state;
    make_dir(dir, sizeof(dir));
    write_manifest(dir, "gender", "empty.csv");
    write_in(dir, "empty.csv", "");
    err[0] = '\0';
    p = fg_pack_load(dir, NULL, NULL, err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "empty.csv"));
    write_in(dir, "empty.csv", "# only a comment\n\n");
    p = fg_pack_load(dir, NULL, NULL, err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "empty.csv"));
    write_in(dir, "empty.csv", "hilist_code,\"name,gend,batch,row\n");
    p = fg_pack_load(dir, NULL, NULL, err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "empty.csv"));
    /* An unterminated quote in a data row. */
    write_in(dir, "empty.csv", "hilist_code,name,gend,batch,row\nG1,\"a,1,1,1\n");
    p = fg_pack_load(dir, NULL, NULL, err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "empty.csv:2"));
    rm_dir(dir);
}

/* ---- the shipped pack ---- */

static void test_shipped_pack(void **state)
{
    char dir[4096], cat[4096], price[4096];
    struct fg_pack *p;
    const struct fg_cat_row *c;
    const struct fg_price_row *r, *star;

    (void)state;
    src_path(dir, sizeof(dir), "config/rules/nhsa");
    src_path(cat, sizeof(cat), "config/reference/catalogue.example.csv");
    src_path(price, sizeof(price), "config/reference/price_list.example.csv");
    p = load_ok(dir, cat, price);
    for (size_t i = 0; i < p->nrejections && i < 20; i++)
        print_message("rejected: %s\n", p->rejections[i]);
    assert_int_equal(p->total_rejected, 0);
    assert_int_equal(p->nrejections, 0);
    for (int t = 0; t < FG_T_NTABLES; t++) {
        if (p->tables[t].n == 0)
            fail_msg("table %s is empty", fg_table_name((enum fg_table_id)t));
        assert_true(fg_pack_has_table(p, (enum fg_table_id)t));
    }
    assert_true(p->npairs > 0);
    assert_true(p->ncat > 0);
    assert_true(p->nprice > 0);
    assert_true(p->content_hash != 0);
    assert_non_null(strchr(p->ident, '@'));
    assert_int_equal(strlen(p->ident), strlen(p->name) + 1 + strlen(p->version));

    /* CONTRACT §3's example pair: 急诊监护费 / 急诊诊查费, batch 7 row 1, 单日. */
    const struct fg_pair_row *q = fg_pack_pairs_by_sub(p, "001102000030000");
    while (q && strcmp(q->main_code, "001103000010000") != 0)
        q = fg_pack_pair_next_by_sub(p, q);
    assert_non_null(q);
    assert_int_equal(q->window, FG_WIN_DAY);
    assert_string_equal(q->batch, "7");
    assert_int_equal(q->row, 1);

    /* Facts documented in config/reference/README.md. */
    c = fg_pack_catalogue_find(p, "001102000050000", day("2023-12-31"));
    assert_non_null(c);
    assert_string_equal(c->chrgitm_lv, "02");
    c = fg_pack_catalogue_find(p, "001102000050000", day("2024-01-01"));
    assert_non_null(c);
    assert_string_equal(c->chrgitm_lv, "01");
    assert_non_null(fg_pack_catalogue_find(p, "ZD01BAY0323030202065", day("2024-06-30")));
    assert_null(fg_pack_catalogue_find(p, "ZD01BAY0323030202065", day("2024-07-01")));
    assert_non_null(fg_pack_catalogue_find(p, "003310010140000", day("2024-06-30")));
    assert_null(fg_pack_catalogue_find(p, "003310010140000", day("2024-07-01")));
    c = fg_pack_catalogue_find(p, "XB05BAU012B0ZZZZZZZZZZZ", day("2024-03-05"));
    assert_non_null(c);
    assert_int_equal(c->prefix, 1);
    c = fg_pack_catalogue_find(p, "001107000010000", day("2024-03-05"));
    assert_non_null(c);
    assert_string_equal(c->chrgitm_lv, "03");

    r = fg_pack_price_find(p, "002503020030000", "05", day("2024-06-30"));
    star = fg_pack_price_find(p, "002503020030000", "05", day("2024-07-01"));
    assert_non_null(r);
    assert_non_null(star);
    assert_true(star->max_pric < r->max_pric);
    /* Exact-level rows for per-day items: 01 is 110 % of '*'. */
    r = fg_pack_price_find(p, "001102000050000", "01", day("2024-03-05"));
    star = fg_pack_price_find(p, "001102000050000", "13", day("2024-03-05"));
    assert_non_null(r);
    assert_non_null(star);
    assert_string_equal(r->hosp_lv, "01");
    assert_string_equal(star->hosp_lv, "*");
    assert_true(r->max_pric > star->max_pric);
    assert_true(r->max_pric >= 2000000 && r->max_pric <= 880000000);
    fg_pack_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_load),
        cmocka_unit_test(test_chains),
        cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_price),
        cmocka_unit_test(test_evidence),
        cmocka_unit_test(test_reject_code_tables),
        cmocka_unit_test(test_reject_pairs),
        cmocka_unit_test(test_reject_catalogue),
        cmocka_unit_test(test_reject_price),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_missing_column),
        cmocka_unit_test(test_missing_column_after_comment),
        cmocka_unit_test(test_manifest_errors),
        cmocka_unit_test(test_missing_manifest),
        cmocka_unit_test(test_empty_table_file),
        cmocka_unit_test(test_shipped_pack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
