/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_pack.c: loading and indexing reference tables. Each table kind is a
 * small spec (required columns and a row parser), so the loader, its
 * rejection reporting and its index are written once.
 */
#include "fg_pack.h"
#include "fg_common.h"
#include "fg_csv.h"
#include "fg_fixed.h"
#include "fg_hash.h"
#include "fg_time.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>

#define FG_MAX_REJECTIONS 1000

/* ---- arena: every string of a pack lives here and dies with it ---- */

struct fg_arena {
    struct fg_arena *next;
    size_t used, cap;
    char data[];
};

static const char *arena_strdup(struct fg_pack *pack, const char *s)
{
    size_t n = strlen(s) + 1;
    struct fg_arena *a = pack->arena;

    if (!a || a->cap - a->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        struct fg_arena *b = fg_malloc(sizeof(*b) + cap);
        b->next = a;
        b->used = 0;
        b->cap = cap;
        pack->arena = a = b;
    }
    char *d = a->data + a->used;
    memcpy(d, s, n);
    a->used += n;
    return d;
}

static void reject(struct fg_pack *pack, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void reject(struct fg_pack *pack, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    pack->total_rejected++;
    if (pack->nrejections >= FG_MAX_REJECTIONS)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pack->rejections = fg_realloc(pack->rejections,
                                  (pack->nrejections + 1) * sizeof(char *));
    pack->rejections[pack->nrejections++] = fg_strdup(msg);
}

/* ---- field parsers shared by the table specs ---- */

static int parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    if (!*s)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_day(const char *s, int64_t *day, int open_end)
{
    const char *why;

    if (!*s && open_end) {
        *day = INT64_MAX;
        return 0;
    }
    return fg_date_parse(s, strlen(s), day, &why);
}

static int valid_code(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 50)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == ',')
            return 0;
    return 1;
}

/* Map a word to a value from a {word, value} list. */
struct word { const char *w; int v; };

static int parse_word(const char *s, const struct word *words, int *out)
{
    for (; words->w; words++)
        if (strcmp(s, words->w) == 0) {
            *out = words->v;
            return 0;
        }
    return -1;
}

/* ---- code-keyed tables ---- */

struct cols {
    int code, name, batch, row, v1, v2;
};

/* Parse the table-specific columns of a row into r->a/b/text.
 * Returns NULL on success or the rejection reason. */
typedef const char *(*row_fn)(const struct fg_csv *csv, const struct cols *c,
                              struct fg_rule_row *r, struct fg_pack *pack);

struct table_spec {
    const char *name;
    const char *v1, *v2;   /* value column names (v2 may be NULL) */
    row_fn parse;
};

static const char *row_gender(const struct fg_csv *csv, const struct cols *c,
                              struct fg_rule_row *r, struct fg_pack *pack)
{
    static const struct word w[] = {{"1", 1}, {"2", 2}, {NULL, 0}};
    int v;
    (void)pack;
    if (parse_word(fg_csv_get(csv, c->v1), w, &v))
        return "gend: expected 1 or 2";
    r->a = v;
    return NULL;
}

static const char *row_age(const struct fg_csv *csv, const struct cols *c,
                           struct fg_rule_row *r, struct fg_pack *pack)
{
    static const struct word w[] = {{"child", FG_AGE_CHILD},
                                    {"infant", FG_AGE_INFANT},
                                    {"newborn", FG_AGE_NEWBORN},
                                    {"over_working_age", FG_AGE_OVER_WORKING},
                                    {NULL, 0}};
    int v;
    (void)pack;
    if (parse_word(fg_csv_get(csv, c->v1), w, &v))
        return "age_group: expected child, infant, newborn or over_working_age";
    r->a = v;
    return NULL;
}

static const char *row_insutype(const struct fg_csv *csv, const struct cols *c,
                                struct fg_rule_row *r, struct fg_pack *pack)
{
    static const struct word w[] = {{"work_injury", FG_FUND_WORK_INJURY},
                                    {"maternity", FG_FUND_MATERNITY},
                                    {NULL, 0}};
    int v;
    (void)pack;
    if (parse_word(fg_csv_get(csv, c->v1), w, &v))
        return "fund: expected work_injury or maternity";
    r->a = v;
    return NULL;
}

static const char *row_setting(const struct fg_csv *csv, const struct cols *c,
                               struct fg_rule_row *r, struct fg_pack *pack)
{
    static const struct word w[] = {{"0", 0}, {"1", 1}, {"", 0}, {NULL, 0}};
    int v;
    (void)pack;
    if (strcmp(fg_csv_get(csv, c->v1), "inpatient") != 0)
        return "setting: expected inpatient";
    if (parse_word(fg_csv_get(csv, c->v2), w, &v))
        return "emergency_ok: expected 0 or 1";
    r->a = 1;
    r->b = v;
    return NULL;
}

static const char *row_level(const struct fg_csv *csv, const struct cols *c,
                             struct fg_rule_row *r, struct fg_pack *pack)
{
    long long v;
    (void)pack;
    if (parse_int(fg_csv_get(csv, c->v1), 2, 3, &v))
        return "min_level: expected 2 or 3";
    r->a = v;
    return NULL;
}

static const char *row_course(const struct fg_csv *csv, const struct cols *c,
                              struct fg_rule_row *r, struct fg_pack *pack)
{
    static const struct word w[] = {{"course", FG_COURSE_EPISODE},
                                    {"stay", FG_COURSE_STAY},
                                    {NULL, 0}};
    long long v;
    int s;
    (void)pack;
    if (parse_int(fg_csv_get(csv, c->v1), 1, 3660, &v))
        return "max_days: expected an integer 1..3660";
    if (parse_word(fg_csv_get(csv, c->v2), w, &s))
        return "scope: expected course or stay";
    r->a = v;
    r->b = s;
    return NULL;
}

static const char *row_cap(const struct fg_csv *csv, const struct cols *c,
                           struct fg_rule_row *r, struct fg_pack *pack)
{
    static const struct word w[] = {{"day", 0}, {"hour", 1}, {NULL, 0}};
    long long v;
    int u;
    (void)pack;
    if (parse_int(fg_csv_get(csv, c->v1), 1, 100000, &v))
        return "max_cnt: expected an integer 1..100000";
    if (parse_word(fg_csv_get(csv, c->v2), w, &u))
        return "unit: expected day or hour";
    r->a = v * 10000;
    r->b = u;
    return NULL;
}

static const char *row_period(const struct fg_csv *csv, const struct cols *c,
                              struct fg_rule_row *r, struct fg_pack *pack)
{
    long long n, d;
    (void)pack;
    if (parse_int(fg_csv_get(csv, c->v1), 1, 10000, &n))
        return "max_count: expected an integer 1..10000";
    if (parse_int(fg_csv_get(csv, c->v2), 1, 3660, &d))
        return "period_days: expected an integer 1..3660";
    r->a = n;
    r->b = d;
    return NULL;
}

static const char *row_surgery(const struct fg_csv *csv, const struct cols *c,
                               struct fg_rule_row *r, struct fg_pack *pack)
{
    const char *g = fg_csv_get(csv, c->v1);
    if (!*g)
        return "group: empty";
    r->text = arena_strdup(pack, g);
    return NULL;
}

static const struct table_spec table_specs[FG_T_NTABLES] = {
    [FG_T_GENDER] = {"gender", "gend", NULL, row_gender},
    [FG_T_AGE] = {"age", "age_group", NULL, row_age},
    [FG_T_INSUTYPE] = {"insutype", "fund", NULL, row_insutype},
    [FG_T_CARE_SETTING] = {"care_setting", "setting", "emergency_ok", row_setting},
    [FG_T_HOSP_LEVEL] = {"hosp_level", "min_level", NULL, row_level},
    [FG_T_COURSE] = {"course", "max_days", "scope", row_course},
    [FG_T_DAILY_CAP] = {"daily_cap", "max_cnt", "unit", row_cap},
    [FG_T_PERIOD] = {"period", "max_count", "period_days", row_period},
    [FG_T_SURGERY] = {"surgery_groups", "group", NULL, row_surgery},
};

const char *fg_table_name(enum fg_table_id id)
{
    return id < FG_T_NTABLES ? table_specs[id].name : "?";
}

/* Chains are built after a table is loaded, walking rows backwards and
 * prepending, so every chain lists its rows in file order. The map stores
 * index + 1 so that 0 (NULL) means "absent". */
static int32_t chain_push(struct fg_map *idx, const char *code, int32_t i)
{
    void *prev = fg_map_put(idx, code, strlen(code), (void *)(intptr_t)(i + 1));
    return prev ? (int32_t)(intptr_t)prev - 1 : -1;
}

static int32_t chain_head(const struct fg_map *idx, const char *code)
{
    void *v = fg_map_get(idx, code, strlen(code));
    return v ? (int32_t)(intptr_t)v - 1 : -1;
}

/* Read `batch` and `row`, the evidence every rule row carries. */
static const char *parse_evidence(const struct fg_csv *csv, int cbatch, int crow,
                                  const char **batch, int *row,
                                  struct fg_pack *pack)
{
    long long r;
    const char *b = fg_csv_get(csv, cbatch);

    if (!*b)
        return "batch: empty";
    if (parse_int(fg_csv_get(csv, crow), 1, 1000000, &r))
        return "row: expected a positive integer";
    *batch = arena_strdup(pack, b);
    *row = (int)r;
    return NULL;
}

/* Find required columns; -1 with a rejection when one is missing. */
static int need_cols(struct fg_pack *pack, const struct fg_csv *csv,
                     const char *const *names, int *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) {
            out[i] = -1;
            continue;
        }
        out[i] = fg_csv_col(csv, names[i]);
        if (out[i] < 0) {
            reject(pack, "%s:%d: missing column '%s'", csv->path, csv->header_line,
                   names[i]);
            return -1;
        }
    }
    return 0;
}

static void hash_file(struct fg_pack *pack, const struct fg_csv *csv)
{
    pack->content_hash ^= fg_hash64(csv->data, csv->len) + 0x9e3779b97f4a7c15ULL +
                          (pack->content_hash << 6) + (pack->content_hash >> 2);
}

static int load_code_table(struct fg_pack *pack, enum fg_table_id id,
                           const char *path, char *err, size_t errlen)
{
    const struct table_spec *spec = &table_specs[id];
    struct fg_table *t = &pack->tables[id];
    const char *names[6] = {"hilist_code", "name", "batch", "row", spec->v1, spec->v2};
    int col[6], rc;
    struct fg_csv csv;
    char why[256];

    t->file = arena_strdup(pack, path);
    if (fg_csv_open(&csv, path, err, errlen))
        return -1;
    hash_file(pack, &csv);
    if (need_cols(pack, &csv, names, col, 6)) {
        fg_csv_close(&csv);
        t->rejected++;
        return 0;
    }
    struct cols c = {col[0], col[1], col[2], col[3], col[4], col[5]};
    while ((rc = fg_csv_next(&csv, why, sizeof(why))) == 1) {
        struct fg_rule_row r = {0};
        const char *code = fg_csv_get(&csv, c.code), *bad = NULL;
        if (!valid_code(code))
            bad = "hilist_code: empty or not a code";
        if (!bad)
            bad = parse_evidence(&csv, c.batch, c.row, &r.batch, &r.row, pack);
        if (!bad)
            bad = spec->parse(&csv, &c, &r, pack);
        if (bad) {
            reject(pack, "%s:%d: %s", path, csv.rec_line, bad);
            t->rejected++;
            continue;
        }
        r.code = arena_strdup(pack, code);
        r.name = arena_strdup(pack, fg_csv_get(&csv, c.name));
        FG_VEC_GROW(t->rows, t->n, t->cap, 64);
        t->rows[t->n++] = r;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s", why);
        fg_csv_close(&csv);
        return -1;
    }
    fg_csv_close(&csv);
    for (size_t i = t->n; i-- > 0;)
        t->rows[i].next = chain_push(&t->index, t->rows[i].code, (int32_t)i);
    return 0;
}

static int load_pairs(struct fg_pack *pack, const char *path, char *err,
                      size_t errlen)
{
    static const char *const names[] = {"main_code", "main_name", "sub_code",
                                        "sub_name", "window", "note", "batch", "row"};
    static const struct word windows[] = {{"day", FG_WIN_DAY}, {"visit", FG_WIN_VISIT},
                                          {"6h", FG_WIN_6H}, {"1h", FG_WIN_1H},
                                          {NULL, 0}};
    int col[8], rc, w;
    struct fg_csv csv;
    char why[256];

    pack->pairs_file = arena_strdup(pack, path);
    if (fg_csv_open(&csv, path, err, errlen))
        return -1;
    hash_file(pack, &csv);
    if (need_cols(pack, &csv, names, col, 8)) {
        fg_csv_close(&csv);
        pack->pairs_rejected++;
        return 0;
    }
    while ((rc = fg_csv_next(&csv, why, sizeof(why))) == 1) {
        struct fg_pair_row p = {0};
        const char *bad = NULL;
        const char *mc = fg_csv_get(&csv, col[0]), *sc = fg_csv_get(&csv, col[2]);
        if (!valid_code(mc))
            bad = "main_code: empty or not a code";
        else if (!valid_code(sc))
            bad = "sub_code: empty or not a code";
        else if (strcmp(mc, sc) == 0)
            bad = "sub_code: same as main_code";
        else if (parse_word(fg_csv_get(&csv, col[4]), windows, &w))
            bad = "window: expected day, visit, 6h or 1h";
        if (!bad)
            bad = parse_evidence(&csv, col[6], col[7], &p.batch, &p.row, pack);
        if (bad) {
            reject(pack, "%s:%d: %s", path, csv.rec_line, bad);
            pack->pairs_rejected++;
            continue;
        }
        p.main_code = arena_strdup(pack, mc);
        p.main_name = arena_strdup(pack, fg_csv_get(&csv, col[1]));
        p.sub_code = arena_strdup(pack, sc);
        p.sub_name = arena_strdup(pack, fg_csv_get(&csv, col[3]));
        p.note = arena_strdup(pack, fg_csv_get(&csv, col[5]));
        p.window = (enum fg_window)w;
        FG_VEC_GROW(pack->pairs, pack->npairs, pack->pairs_cap, 256);
        pack->pairs[pack->npairs++] = p;
    }
    fg_csv_close(&csv);
    if (rc < 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    for (size_t i = pack->npairs; i-- > 0;) {
        struct fg_pair_row *p = &pack->pairs[i];
        p->next_by_main = chain_push(&pack->pairs_by_main, p->main_code, (int32_t)i);
        p->next_by_sub = chain_push(&pack->pairs_by_sub, p->sub_code, (int32_t)i);
    }
    return 0;
}

static int load_catalogue(struct fg_pack *pack, const char *path, char *err,
                          size_t errlen)
{
    static const char *const names[] = {"hilist_code", "hilist_name", "list_type",
                                        "chrgitm_lv", "begndate", "enddate"};
    static const struct word match[] = {{"", 0}, {"exact", 0}, {"prefix", 1}, {NULL, 0}};
    int col[6], rc, cmatch, prefix;
    struct fg_csv csv;
    char why[256];

    pack->cat_file = arena_strdup(pack, path);
    if (fg_csv_open(&csv, path, err, errlen))
        return -1;
    if (need_cols(pack, &csv, names, col, 6)) {
        fg_csv_close(&csv);
        pack->cat_rejected++;
        return 0;
    }
    cmatch = fg_csv_col(&csv, "match");
    while ((rc = fg_csv_next(&csv, why, sizeof(why))) == 1) {
        struct fg_cat_row r = {0};
        const char *code = fg_csv_get(&csv, col[0]), *bad = NULL;
        if (!valid_code(code))
            bad = "hilist_code: empty or not a code";
        else if (parse_day(fg_csv_get(&csv, col[4]), &r.begin_day, 0))
            bad = "begndate: expected yyyy-MM-dd";
        else if (parse_day(fg_csv_get(&csv, col[5]), &r.end_day, 1))
            bad = "enddate: expected yyyy-MM-dd or empty";
        else if (r.end_day < r.begin_day)
            bad = "enddate: before begndate";
        else if (parse_word(fg_csv_get(&csv, cmatch), match, &prefix))
            bad = "match: expected exact or prefix";
        else if (prefix && strlen(code) != 12)
            bad = "hilist_code: a prefix row needs a 12-character drug prefix";
        if (bad) {
            reject(pack, "%s:%d: %s", path, csv.rec_line, bad);
            pack->cat_rejected++;
            continue;
        }
        r.code = arena_strdup(pack, code);
        r.name = arena_strdup(pack, fg_csv_get(&csv, col[1]));
        r.list_type = arena_strdup(pack, fg_csv_get(&csv, col[2]));
        r.chrgitm_lv = arena_strdup(pack, fg_csv_get(&csv, col[3]));
        r.prefix = prefix;
        FG_VEC_GROW(pack->cat, pack->ncat, pack->cat_cap, 256);
        pack->cat[pack->ncat++] = r;
    }
    fg_csv_close(&csv);
    if (rc < 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    for (size_t i = pack->ncat; i-- > 0;) {
        struct fg_cat_row *r = &pack->cat[i];
        r->next = chain_push(r->prefix ? &pack->cat_prefix : &pack->cat_exact,
                             r->code, (int32_t)i);
    }
    return 0;
}

static int load_prices(struct fg_pack *pack, const char *path, char *err,
                       size_t errlen)
{
    static const char *const names[] = {"hilist_code", "hosp_lv", "max_pric",
                                        "begndate", "enddate"};
    int col[5], rc;
    struct fg_csv csv;
    char why[256];

    pack->price_file = arena_strdup(pack, path);
    if (fg_csv_open(&csv, path, err, errlen))
        return -1;
    if (need_cols(pack, &csv, names, col, 5)) {
        fg_csv_close(&csv);
        pack->price_rejected++;
        return 0;
    }
    while ((rc = fg_csv_next(&csv, why, sizeof(why))) == 1) {
        struct fg_price_row r = {0};
        const char *code = fg_csv_get(&csv, col[0]), *lv = fg_csv_get(&csv, col[1]);
        const char *pr = fg_csv_get(&csv, col[2]), *bad = NULL;
        if (!valid_code(code))
            bad = "hilist_code: empty or not a code";
        else if (!valid_code(lv))
            bad = "hosp_lv: expected a level code or *";
        else if (fg_fixed_parse(pr, strlen(pr), 6, &r.max_pric) || r.max_pric <= 0)
            bad = "max_pric: expected a positive decimal with at most 6 places";
        else if (parse_day(fg_csv_get(&csv, col[3]), &r.begin_day, 0))
            bad = "begndate: expected yyyy-MM-dd";
        else if (parse_day(fg_csv_get(&csv, col[4]), &r.end_day, 1))
            bad = "enddate: expected yyyy-MM-dd or empty";
        else if (r.end_day < r.begin_day)
            bad = "enddate: before begndate";
        if (bad) {
            reject(pack, "%s:%d: %s", path, csv.rec_line, bad);
            pack->price_rejected++;
            continue;
        }
        r.code = arena_strdup(pack, code);
        r.hosp_lv = arena_strdup(pack, lv);
        FG_VEC_GROW(pack->price, pack->nprice, pack->price_cap, 256);
        pack->price[pack->nprice++] = r;
    }
    fg_csv_close(&csv);
    if (rc < 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    for (size_t i = pack->nprice; i-- > 0;)
        pack->price[i].next = chain_push(&pack->price_index, pack->price[i].code,
                                         (int32_t)i);
    return 0;
}

static char *join_path(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = fg_malloc(n);

    if (file[0] == '/')
        snprintf(p, n, "%s", file);
    else
        snprintf(p, n, "%s/%s", dir, file);
    return p;
}

struct fg_pack *fg_pack_load(const char *dir, const char *catalogue,
                             const char *price_list, char *err, size_t errlen)
{
    struct fg_pack *pack = fg_calloc(1, sizeof(*pack));
    json_error_t jerr;
    json_t *root = NULL, *tables, *v;
    char *manifest = join_path(dir, "pack.json");
    const char *name, *version;
    size_t n;

    pack->dir = fg_strdup(dir);
    for (int i = 0; i < FG_T_NTABLES; i++)
        fg_map_init(&pack->tables[i].index);
    root = json_load_file(manifest, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line > 0)
            snprintf(err, errlen, "%s:%d: %s", manifest, jerr.line, jerr.text);
        else
            snprintf(err, errlen, "%s: %s", manifest, jerr.text);
        goto fail;
    }
    name = json_string_value(json_object_get(root, "name"));
    version = json_string_value(json_object_get(root, "version"));
    tables = json_object_get(root, "tables");
    if (!name || !*name || !version || !*version) {
        snprintf(err, errlen, "%s: key 'name' and 'version' must be non-empty strings",
                 manifest);
        goto fail;
    }
    if (!json_is_object(tables)) {
        snprintf(err, errlen, "%s: key 'tables' must be an object", manifest);
        goto fail;
    }
    pack->name = fg_strdup(name);
    pack->version = fg_strdup(version);
    n = strlen(name) + strlen(version) + 2;
    pack->ident = fg_malloc(n);
    snprintf(pack->ident, n, "%s@%s", name, version);

    const char *key;
    json_object_foreach(tables, key, v) {
        int id = -1;
        char *path;
        int rc;
        if (!json_is_string(v)) {
            snprintf(err, errlen, "%s: key 'tables.%s' must be a file name", manifest, key);
            goto fail;
        }
        for (int i = 0; i < FG_T_NTABLES; i++)
            if (strcmp(key, table_specs[i].name) == 0)
                id = i;
        if (id < 0 && strcmp(key, "dup_pairs") != 0) {
            snprintf(err, errlen, "%s: key 'tables.%s': unknown table", manifest, key);
            goto fail;
        }
        path = join_path(dir, json_string_value(v));
        rc = id < 0 ? load_pairs(pack, path, err, errlen)
                    : load_code_table(pack, (enum fg_table_id)id, path, err, errlen);
        free(path);
        if (rc)
            goto fail;
    }
    if (catalogue && *catalogue && load_catalogue(pack, catalogue, err, errlen))
        goto fail;
    if (price_list && *price_list && load_prices(pack, price_list, err, errlen))
        goto fail;
    json_decref(root);
    free(manifest);
    return pack;

fail:
    json_decref(root);
    free(manifest);
    fg_pack_free(pack);
    return NULL;
}

void fg_pack_free(struct fg_pack *pack)
{
    if (!pack)
        return;
    for (int i = 0; i < FG_T_NTABLES; i++) {
        free(pack->tables[i].rows);
        fg_map_fini(&pack->tables[i].index);
    }
    free(pack->pairs);
    fg_map_fini(&pack->pairs_by_main);
    fg_map_fini(&pack->pairs_by_sub);
    free(pack->cat);
    fg_map_fini(&pack->cat_exact);
    fg_map_fini(&pack->cat_prefix);
    free(pack->price);
    fg_map_fini(&pack->price_index);
    for (size_t i = 0; i < pack->nrejections; i++)
        free(pack->rejections[i]);
    free(pack->rejections);
    while (pack->arena) {
        struct fg_arena *next = pack->arena->next;
        free(pack->arena);
        pack->arena = next;
    }
    free(pack->name);
    free(pack->version);
    free(pack->ident);
    free(pack->dir);
    free(pack);
}

/* ---- lookups ---- */

int fg_pack_has_table(const struct fg_pack *pack, enum fg_table_id t)
{
    return pack->tables[t].file != NULL;
}

const struct fg_rule_row *fg_pack_find(const struct fg_pack *pack,
                                       enum fg_table_id t, const char *code)
{
    int32_t i = chain_head(&pack->tables[t].index, code);
    return i >= 0 ? &pack->tables[t].rows[i] : NULL;
}

const struct fg_rule_row *fg_pack_next(const struct fg_pack *pack,
                                       enum fg_table_id t,
                                       const struct fg_rule_row *row)
{
    return row->next >= 0 ? &pack->tables[t].rows[row->next] : NULL;
}

const struct fg_pair_row *fg_pack_pairs_by_sub(const struct fg_pack *pack,
                                               const char *code)
{
    int32_t i = chain_head(&pack->pairs_by_sub, code);
    return i >= 0 ? &pack->pairs[i] : NULL;
}

const struct fg_pair_row *fg_pack_pairs_by_main(const struct fg_pack *pack,
                                                const char *code)
{
    int32_t i = chain_head(&pack->pairs_by_main, code);
    return i >= 0 ? &pack->pairs[i] : NULL;
}

const struct fg_pair_row *fg_pack_pair_next_by_sub(const struct fg_pack *pack,
                                                   const struct fg_pair_row *p)
{
    return p->next_by_sub >= 0 ? &pack->pairs[p->next_by_sub] : NULL;
}

const struct fg_pair_row *fg_pack_pair_next_by_main(const struct fg_pack *pack,
                                                    const struct fg_pair_row *p)
{
    return p->next_by_main >= 0 ? &pack->pairs[p->next_by_main] : NULL;
}

int fg_pack_has_catalogue(const struct fg_pack *pack)
{
    return pack->cat_file != NULL;
}

const struct fg_cat_row *fg_pack_catalogue_find(const struct fg_pack *pack,
                                                const char *code, int64_t day)
{
    for (int32_t i = chain_head(&pack->cat_exact, code); i >= 0; i = pack->cat[i].next)
        if (pack->cat[i].begin_day <= day && day <= pack->cat[i].end_day)
            return &pack->cat[i];
    if (strlen(code) >= 12) {
        char prefix[13];
        memcpy(prefix, code, 12);
        prefix[12] = '\0';
        for (int32_t i = chain_head(&pack->cat_prefix, prefix); i >= 0;
             i = pack->cat[i].next)
            if (pack->cat[i].begin_day <= day && day <= pack->cat[i].end_day)
                return &pack->cat[i];
    }
    return NULL;
}

const struct fg_price_row *fg_pack_price_find(const struct fg_pack *pack,
                                              const char *code,
                                              const char *hosp_lv, int64_t day)
{
    const struct fg_price_row *any = NULL;

    for (int32_t i = chain_head(&pack->price_index, code); i >= 0;
         i = pack->price[i].next) {
        const struct fg_price_row *r = &pack->price[i];
        if (r->begin_day > day || day > r->end_day)
            continue;
        if (hosp_lv && strcmp(r->hosp_lv, hosp_lv) == 0)
            return r;
        if (!any && strcmp(r->hosp_lv, "*") == 0)
            any = r;
    }
    return any;
}

void fg_pack_evidence(const char *batch, int row, char *buf, size_t size)
{
    static const struct {
        const char *batch, *title;
    } titles[] = {
        {"1", "两库第一批 限定性别/年龄对象"},
        {"2", "两库第二批 限定主次操作"},
        {"3", "两库第三批 限定保险类型"},
        {"4", "两库第四批 限定就医方式"},
        {"5", "两库第五批 限定机构等级"},
        {"6", "两库第六批 限定支付疗程"},
        {"7", "两库第七批 重复收费"},
        {"8-1", "两库第八批-1 限定频次"},
        {"8-2", "两库第八批-2 限定年龄"},
        {"8-3", "两库第八批-3 限定疗程"},
        {"8-4", "两库第八批-4 限定周期"},
    };

    for (size_t i = 0; i < FG_ARRAY_LEN(titles); i++)
        if (strcmp(batch, titles[i].batch) == 0) {
            snprintf(buf, size, "%s #%d", titles[i].title, row);
            return;
        }
    snprintf(buf, size, "batch %s #%d", batch, row);
}
