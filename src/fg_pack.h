/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_pack.h: reference data: the rule pack (两库 knowledge points) and the
 * operator's catalogue and price list (CONTRACT §5). Loaded once, immutable
 * afterwards, so a reload builds a new pack and swaps it atomically.
 * Formats: config/rules/README.md.
 */
#ifndef FG_PACK_H
#define FG_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "fg_map.h"

/* Code-keyed tables of the pack. */
enum fg_table_id {
    FG_T_GENDER,
    FG_T_AGE,
    FG_T_INSUTYPE,
    FG_T_CARE_SETTING,
    FG_T_HOSP_LEVEL,
    FG_T_COURSE,
    FG_T_DAILY_CAP,
    FG_T_PERIOD,
    FG_T_SURGERY,
    FG_T_NTABLES
};

enum fg_age_group { FG_AGE_CHILD = 1, FG_AGE_INFANT, FG_AGE_NEWBORN, FG_AGE_OVER_WORKING };
enum fg_fund { FG_FUND_WORK_INJURY = 1, FG_FUND_MATERNITY };
enum fg_course_scope { FG_COURSE_EPISODE = 0, FG_COURSE_STAY = 1 };
enum fg_window { FG_WIN_DAY = 1, FG_WIN_VISIT, FG_WIN_6H, FG_WIN_1H };

/*
 * One row of a code-keyed table. `a` and `b` hold the table's values:
 *   gender       a = allowed gend (1 male, 2 female)
 *   age          a = enum fg_age_group
 *   insutype     a = enum fg_fund
 *   care_setting a = 1 (inpatient only), b = emergency_ok (0/1)
 *   hosp_level   a = minimum level (2 or 3)
 *   course       a = max_days, b = enum fg_course_scope
 *   daily_cap    a = max_cnt in 1/10000 units, b = 0 day / 1 hour
 *   period       a = max_count, b = period_days
 *   surgery      text = group
 */
struct fg_rule_row {
    const char *code;
    const char *name;
    const char *batch;   /* "1", "8-1", ... */
    const char *text;
    int row;             /* row number in the published batch */
    int64_t a, b;
    int32_t next;        /* next row with the same code, or -1 */
};

struct fg_pair_row {
    const char *main_code, *main_name, *sub_code, *sub_name, *note, *batch;
    int row;
    enum fg_window window;
    int32_t next_by_main, next_by_sub;
};

struct fg_cat_row {
    const char *code, *name, *list_type, *chrgitm_lv;
    int64_t begin_day, end_day;   /* inclusive; end INT64_MAX = open */
    int prefix;
    int32_t next;
};

struct fg_price_row {
    const char *code, *hosp_lv;   /* hosp_lv "*" = every level */
    int64_t max_pric;             /* micro-yuan */
    int64_t begin_day, end_day;
    int32_t next;
};

struct fg_table {
    const char *file;     /* NULL when the pack does not name this table */
    struct fg_rule_row *rows;
    size_t n, cap;
    size_t rejected;
    struct fg_map index;  /* code -> first row index + 1 */
};

struct fg_arena;

struct fg_pack {
    char *name, *version, *ident;   /* ident = "name@version" */
    char *dir;
    uint64_t content_hash;          /* of every table's bytes */
    struct fg_table tables[FG_T_NTABLES];
    const char *pairs_file;
    struct fg_pair_row *pairs;
    size_t npairs, pairs_cap, pairs_rejected;
    struct fg_map pairs_by_main, pairs_by_sub;
    const char *cat_file;
    struct fg_cat_row *cat;
    size_t ncat, cat_cap, cat_rejected;
    struct fg_map cat_exact, cat_prefix;
    const char *price_file;
    struct fg_price_row *price;
    size_t nprice, price_cap, price_rejected;
    struct fg_map price_index;
    char **rejections;              /* "file:line: reason", at most 1000 */
    size_t nrejections;
    size_t total_rejected;
    struct fg_arena *arena;
};

/**
 * Load a pack folder (pack.json + tables) and the optional operator
 * tables (NULL = not configured). Returns a new pack, or NULL with err set
 * when a file cannot be used at all. Rows that fail validation do not stop
 * the load: they are counted in total_rejected and described in
 * rejections; the caller decides whether that is fatal.
 */
struct fg_pack *fg_pack_load(const char *dir, const char *catalogue,
                             const char *price_list, char *err, size_t errlen);
void fg_pack_free(struct fg_pack *pack);

/** Name of a table as in pack.json ("gender", ...). */
const char *fg_table_name(enum fg_table_id id);

/** First row for code in a table, or NULL; follow with fg_pack_next. */
const struct fg_rule_row *fg_pack_find(const struct fg_pack *pack,
                                       enum fg_table_id t, const char *code);
const struct fg_rule_row *fg_pack_next(const struct fg_pack *pack,
                                       enum fg_table_id t,
                                       const struct fg_rule_row *row);
int fg_pack_has_table(const struct fg_pack *pack, enum fg_table_id t);

/** Pair rows where code is the 从项 (by_sub) or the 主项 (by_main). */
const struct fg_pair_row *fg_pack_pairs_by_sub(const struct fg_pack *pack,
                                               const char *code);
const struct fg_pair_row *fg_pack_pairs_by_main(const struct fg_pack *pack,
                                                const char *code);
const struct fg_pair_row *fg_pack_pair_next_by_sub(const struct fg_pack *pack,
                                                   const struct fg_pair_row *p);
const struct fg_pair_row *fg_pack_pair_next_by_main(const struct fg_pack *pack,
                                                    const struct fg_pair_row *p);

/** 1 if a catalogue is configured. */
int fg_pack_has_catalogue(const struct fg_pack *pack);
/** The catalogue row listing code on a CST day (exact, then 12-char prefix). */
const struct fg_cat_row *fg_pack_catalogue_find(const struct fg_pack *pack,
                                                const char *code, int64_t day);
/** The price-list row for code at hosp_lv on a day (exact level wins). */
const struct fg_price_row *fg_pack_price_find(const struct fg_pack *pack,
                                              const char *code,
                                              const char *hosp_lv, int64_t day);

/** "两库第七批 重复收费 #12" style evidence for a batch and row. */
void fg_pack_evidence(const char *batch, int row, char *buf, size_t size);

#endif
