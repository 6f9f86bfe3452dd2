/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_report.c: `fundguard report`: alerts (nhsa.alert.v1 JSON Lines, '-' =
 * stdin, gzip accepted, or a Kafka topic as kafka:TOPIC) in, a
 * self-contained HTML report and CSV summaries out. Lines are read and
 * checked by fg_alert_read.
 *
 * The report is built in three passes. Reading keeps one record per
 * distinct jr_id (redelivered ALERT lines are counted and dropped) and the
 * set of retracted jr_ids. Resolving marks the retracted alerts as
 * withdrawn only after every input has been read, so a RETRACT that comes
 * before its ALERT (inputs given in another order) still withdraws it.
 * Aggregating then folds each alert into its rule, institution, day and
 * rule pack, and the writers only format what is there.
 *
 * Money stays in integer fen from parsing to output: sums are checked for
 * overflow, and floating point is used only for the geometry of the SVG
 * bars. The output does not depend on the wall clock, so the same input
 * gives a byte-identical report.
 */
#include "fg_report.h"
#include "fg_alert_read.h"
#include "fg_buf.h"
#include "fg_common.h"
#include "fg_config.h"
#include "fg_fixed.h"
#include "fg_map.h"
#include "fg_time.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FG_VERSION
#define FG_VERSION "dev"
#endif

#define RP_BAD_SHOWN 10          /* bad lines printed to stderr */
#define RP_TOP_DEFAULT 20
#define RP_TOP_MAX 100000
#define RP_DAY_GAP_FILL 400      /* fill empty days in the chart up to this span */
#define RP_DEFAULT_TITLE "医保基金监管预警报告"

/* ---- data model ---- */

struct rp_opts {
    const char **inputs;         /* array owned, strings borrowed from argv */
    size_t ninputs;
    struct fg_alert_cli cli;     /* -c, --set: for kafka:TOPIC inputs */
    const char *html;            /* borrowed from argv; NULL = no HTML */
    const char *csv_dir;         /* borrowed from argv; NULL = no CSV */
    const char *title;           /* borrowed from argv or static */
    long top;
};

/* One row of a summary: a rule, an institution, a day or a rule pack. The
 * same structure holds the grand total. */
struct rp_group {
    char *key;                   /* owned: rule_id, fixmedins_code, date, pack */
    char *name;                  /* owned: rule_name for rules, else NULL */
    int64_t day;                 /* CST day number, for days only */
    uint64_t alerts;             /* counted (not withdrawn) distinct alerts */
    uint64_t definite, suspect;
    uint64_t withdrawn;
    int64_t fen;                 /* amount at stake of the counted alerts */
    int64_t withdrawn_fen;
};

/* Groups by key. The map's keys are borrowed from the groups it indexes. */
struct rp_table {
    struct fg_map idx;
    struct rp_group **v;         /* owned, first-seen order until sorted */
    size_t n, cap;
};

/* One distinct ALERT (first line seen for its jr_id). */
struct rp_alert {
    char *jr_id;                 /* owned; the key of rp.alert_idx */
    struct rp_group *rule;       /* borrowed from rp.rules */
    struct rp_group *inst;       /* borrowed from rp.insts */
    struct rp_group *pack;       /* borrowed from rp.packs */
    int64_t epoch;               /* event_time */
    int64_t fen;                 /* vola_amt */
    int definite;                /* else SUSPECT */
    int withdrawn;
};

struct rp {
    struct rp_table rules, insts, days, packs;
    struct fg_map alert_idx;     /* jr_id -> struct rp_alert (keys borrowed) */
    struct rp_alert **alerts;    /* owned, input order */
    size_t nalerts, capalerts;
    struct fg_retract_set retracts;
    struct rp_group total;       /* key and name stay NULL */
    uint64_t lines, blank, bad;
    uint64_t dup_alerts, unmatched_retracts;
    int64_t min_epoch, max_epoch;
};

static void table_init(struct rp_table *t)
{
    fg_map_init(&t->idx);
    t->v = NULL;
    t->n = t->cap = 0;
}

static void table_fini(struct rp_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i]->key);
        free(t->v[i]->name);
        free(t->v[i]);
    }
    free(t->v);
    fg_map_fini(&t->idx);
}

/* The group for key, created (with a copy of key) on first use. The table
 * owns the group; the pointer stays valid until table_fini. */
static struct rp_group *table_get(struct rp_table *t, const char *key, int *created)
{
    size_t klen = strlen(key);
    struct rp_group *g = fg_map_get(&t->idx, key, klen);

    *created = 0;
    if (g)
        return g;
    g = fg_calloc(1, sizeof(*g));
    g->key = fg_strndup(key, klen);
    fg_map_put(&t->idx, g->key, klen, g);
    FG_VEC_GROW(t->v, t->n, t->cap, 16);
    t->v[t->n++] = g;
    *created = 1;
    return g;
}

static void rp_init(struct rp *rp)
{
    memset(rp, 0, sizeof(*rp));
    table_init(&rp->rules);
    table_init(&rp->insts);
    table_init(&rp->days);
    table_init(&rp->packs);
    fg_map_init(&rp->alert_idx);
    fg_retract_set_init(&rp->retracts);
    rp->min_epoch = INT64_MAX;
    rp->max_epoch = INT64_MIN;
}

static void rp_fini(struct rp *rp)
{
    for (size_t i = 0; i < rp->nalerts; i++) {
        free(rp->alerts[i]->jr_id);
        free(rp->alerts[i]);
    }
    free(rp->alerts);
    fg_retract_set_fini(&rp->retracts);
    fg_map_fini(&rp->alert_idx);
    table_fini(&rp->rules);
    table_fini(&rp->insts);
    table_fini(&rp->days);
    table_fini(&rp->packs);
}

/* ---- parsing one line ---- */

/* Keep a parsed ALERT unless its jr_id was seen already. Borrows rec. */
static void add_alert(struct rp *rp, const struct fg_alert_rec *rec)
{
    struct rp_alert *a;
    int created;

    /* At-least-once delivery repeats lines: the first one counts. */
    if (fg_map_get(&rp->alert_idx, rec->jr_id, strlen(rec->jr_id))) {
        rp->dup_alerts++;
        return;
    }
    a = fg_calloc(1, sizeof(*a));
    a->jr_id = fg_strdup(rec->jr_id);
    a->rule = table_get(&rp->rules, rec->rule_id, &created);
    if (created)
        a->rule->name = fg_strdup(rec->rule_name);   /* the first name seen wins */
    a->pack = table_get(&rp->packs, rec->rule_pack, &created);
    a->inst = table_get(&rp->insts, rec->fixmedins_code, &created);
    a->definite = rec->result_type[0] == 'D';
    a->fen = rec->fen;
    a->epoch = rec->epoch;
    if (a->epoch < rp->min_epoch)
        rp->min_epoch = a->epoch;
    if (a->epoch > rp->max_epoch)
        rp->max_epoch = a->epoch;
    fg_map_put(&rp->alert_idx, a->jr_id, strlen(a->jr_id), a);
    FG_VEC_GROW(rp->alerts, rp->nalerts, rp->capalerts, 64);
    rp->alerts[rp->nalerts++] = a;   /* owned by rp from here */
}

/* Parse one non-blank line (fg_alert_rec_parse checks every field the
 * report uses). Returns 0, or -1 with the reason in why. */
static int parse_line(struct rp *rp, const char *line, size_t len, char *why, size_t whylen)
{
    struct fg_alert_rec rec;
    int rc = fg_alert_rec_parse(line, len, &rec, why, whylen);

    if (rc == 0) {
        if (rec.retract)
            fg_retract_set_add(&rp->retracts, rec.jr_id);
        else
            add_alert(rp, &rec);
    }
    fg_alert_rec_fini(&rec);
    return rc;
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

static void handle_line(struct rp *rp, const struct fg_alert_reader *in, const char *line,
                        size_t len)
{
    char why[256], where[512];

    rp->lines++;
    if (is_blank(line, len)) {
        rp->blank++;
        return;
    }
    if (len && line[len - 1] == '\r')
        len--;
    if (parse_line(rp, line, len, why, sizeof(why)) == 0)
        return;
    /* A bad line is counted, never fatal: one broken line must not hide
     * the rest of a day's alerts from the supervisor. */
    rp->bad++;
    if (rp->bad <= RP_BAD_SHOWN)
        fprintf(stderr, "report: %s: %s\n", fg_alert_reader_where(in, where, sizeof(where)),
                why);
}

/* ---- reading inputs ---- */

/* Read every line (or message) of one input into rp. Returns 0, or an
 * exit code when the input cannot be opened or read (reason printed). */
static int read_input(struct rp *rp, const char *spec, const struct fg_config *cfg)
{
    struct fg_alert_reader_opts ro = {.cfg = cfg, .since = INT64_MIN};
    struct fg_alert_reader *in;
    const char *line;
    char err[1024];
    size_t len;
    int rc, code = FG_EXIT_DATAERR;

    in = fg_alert_reader_open(spec, &ro, &code, err, sizeof(err));
    if (!in) {
        fprintf(stderr, "report: %s\n", err);
        return code;
    }
    while ((rc = fg_alert_reader_next(in, &line, &len, err, sizeof(err))) == 1)
        handle_line(rp, in, line, len);
    if (rc < 0)
        fprintf(stderr, "report: %s\n", err);
    fg_alert_reader_close(in);
    return rc < 0 ? FG_EXIT_DATAERR : 0;
}

/* ---- resolving and aggregating ---- */

static int add_fen(int64_t *sum, int64_t v)
{
    return __builtin_add_overflow(*sum, v, sum) ? -1 : 0;
}

/* Fold one alert into a group. Returns -1 when a sum would overflow. */
static int group_add(struct rp_group *g, const struct rp_alert *a)
{
    if (a->withdrawn) {
        g->withdrawn++;
        return add_fen(&g->withdrawn_fen, a->fen);
    }
    g->alerts++;
    if (a->definite)
        g->definite++;
    else
        g->suspect++;
    return add_fen(&g->fen, a->fen);
}

static int cmp_rule(const void *pa, const void *pb)
{
    const struct rp_group *a = *(const struct rp_group *const *)pa;
    const struct rp_group *b = *(const struct rp_group *const *)pb;

    if (a->alerts != b->alerts)
        return a->alerts > b->alerts ? -1 : 1;
    return strcmp(a->key, b->key);
}

/* Institutions rank by money at stake, then by alerts, then by code. */
static int cmp_inst(const void *pa, const void *pb)
{
    const struct rp_group *a = *(const struct rp_group *const *)pa;
    const struct rp_group *b = *(const struct rp_group *const *)pb;

    if (a->fen != b->fen)
        return a->fen > b->fen ? -1 : 1;
    if (a->alerts != b->alerts)
        return a->alerts > b->alerts ? -1 : 1;
    return strcmp(a->key, b->key);
}

static int cmp_day(const void *pa, const void *pb)
{
    const struct rp_group *a = *(const struct rp_group *const *)pa;
    const struct rp_group *b = *(const struct rp_group *const *)pb;

    return a->day < b->day ? -1 : a->day > b->day;
}

static int cmp_key(const void *pa, const void *pb)
{
    const struct rp_group *a = *(const struct rp_group *const *)pa;
    const struct rp_group *b = *(const struct rp_group *const *)pb;

    return strcmp(a->key, b->key);
}

/* Apply the retractions, fold every alert into its groups and sort the
 * tables for output. Returns 0, or -1 when an amount sum overflows int64
 * fen (no exact report is possible then). */
static int rp_aggregate(struct rp *rp)
{
    int created;

    for (size_t i = 0; i < rp->retracts.n; i++) {
        const char *id = rp->retracts.v[i];
        struct rp_alert *a = fg_map_get(&rp->alert_idx, id, strlen(id));
        if (a)
            a->withdrawn = 1;
        else
            rp->unmatched_retracts++;
    }
    for (size_t i = 0; i < rp->nalerts; i++) {
        struct rp_alert *a = rp->alerts[i];
        int64_t dayno = fg_cst_day(a->epoch);
        char date[32];
        struct rp_group *day;

        fg_date_format(dayno, date, sizeof(date));
        day = table_get(&rp->days, date, &created);
        day->day = dayno;
        if (group_add(a->rule, a) || group_add(a->inst, a) || group_add(day, a) ||
            group_add(a->pack, a) || group_add(&rp->total, a))
            return -1;
    }
    if (rp->rules.n)
        qsort(rp->rules.v, rp->rules.n, sizeof(*rp->rules.v), cmp_rule);
    if (rp->insts.n)
        qsort(rp->insts.v, rp->insts.n, sizeof(*rp->insts.v), cmp_inst);
    if (rp->days.n)
        qsort(rp->days.v, rp->days.n, sizeof(*rp->days.v), cmp_day);
    if (rp->packs.n)
        qsort(rp->packs.v, rp->packs.n, sizeof(*rp->packs.v), cmp_key);
    return 0;
}

/* ---- output helpers ---- */

/* Write data to path ('-' = stdout). Returns 0, or -1 with the reason
 * printed. */
static int write_file(const char *path, const char *data, size_t len)
{
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "wb");
    int rc = 0;

    if (!f) {
        fprintf(stderr, "report: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (len && fwrite(data, 1, len, f) != len)
        rc = -1;
    if (to_stdout ? fflush(f) != 0 : fclose(f) != 0)
        rc = -1;
    if (rc)
        fprintf(stderr, "report: cannot write %s: %s\n", path, strerror(errno));
    return rc;
}

/* fen as exact yuan text "1234.56" into buf (at least 32 bytes). */
static const char *yuan(int64_t fen, char *buf, size_t size)
{
    return fg_fixed_format(fen, FG_SCALE_MONEY, buf, size);
}

/* fen as yuan with thousands separators, "1,234,567.89", for people. */
static const char *yuan_grouped(int64_t fen, char *buf, size_t size)
{
    char plain[32];
    const char *p = yuan(fen, plain, sizeof(plain));
    size_t o = 0, digits, i;

    if (size < sizeof(plain) + 16) {   /* room for every separator */
        buf[0] = '\0';
        return buf;
    }

    if (*p == '-')
        buf[o++] = *p++;
    digits = strcspn(p, ".");
    for (i = 0; p[i] && o + 1 < size; i++) {
        if (i > 0 && i < digits && (digits - i) % 3 == 0 && o + 2 < size)
            buf[o++] = ',';
        buf[o++] = p[i];
    }
    buf[o] = '\0';
    return buf;
}

/* ---- CSV ----
 *
 * One header row, then one row per group, in the order of the HTML
 * tables. Amounts are exact yuan with two decimals (no thousands
 * separators) so that spreadsheets and scripts read them as numbers.
 */

/* Append s as one RFC 4180 field, quoted when it has to be. */
static void csv_field(struct fg_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fg_buf_puts(b, s);
        return;
    }
    fg_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            fg_buf_putc(b, '"');
        fg_buf_putc(b, *s);
    }
    fg_buf_putc(b, '"');
}

/* The columns every CSV shares after its key columns. */
static void csv_counts(struct fg_buf *b, const struct rp_group *g)
{
    char a[40], w[40];

    fg_buf_printf(b, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%" PRIu64 ",%s\n", g->alerts,
                  g->definite, g->suspect, yuan(g->fen, a, sizeof(a)), g->withdrawn,
                  yuan(g->withdrawn_fen, w, sizeof(w)));
}

#define CSV_COUNT_COLS "alerts,definite,suspect,amount_yuan,withdrawn,withdrawn_amount_yuan\n"

static int csv_write_one(const char *dir, const char *name, const struct fg_buf *b)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = fg_malloc(n);
    int rc;

    snprintf(path, n, "%s/%s", dir, name);
    rc = write_file(path, b->data ? b->data : "", b->len);
    free(path);
    return rc;
}

/* Write by_rule.csv, by_institution.csv and by_day.csv into dir, creating
 * dir (one level) when missing. Returns 0 or -1 (reason printed). */
static int csv_write(const struct rp *rp, const char *dir)
{
    struct fg_buf b;
    int rc = 0;

    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "report: cannot create directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    fg_buf_init(&b);
    fg_buf_puts(&b, "rule_id,rule_name," CSV_COUNT_COLS);
    for (size_t i = 0; i < rp->rules.n; i++) {
        csv_field(&b, rp->rules.v[i]->key);
        fg_buf_putc(&b, ',');
        csv_field(&b, rp->rules.v[i]->name);
        csv_counts(&b, rp->rules.v[i]);
    }
    rc |= csv_write_one(dir, "by_rule.csv", &b);

    fg_buf_reset(&b);
    fg_buf_puts(&b, "rank,fixmedins_code," CSV_COUNT_COLS);
    for (size_t i = 0; i < rp->insts.n; i++) {
        fg_buf_printf(&b, "%zu,", i + 1);
        csv_field(&b, rp->insts.v[i]->key);
        csv_counts(&b, rp->insts.v[i]);
    }
    rc |= csv_write_one(dir, "by_institution.csv", &b);

    fg_buf_reset(&b);
    fg_buf_puts(&b, "date," CSV_COUNT_COLS);
    for (size_t i = 0; i < rp->days.n; i++) {
        csv_field(&b, rp->days.v[i]->key);
        csv_counts(&b, rp->days.v[i]);
    }
    rc |= csv_write_one(dir, "by_day.csv", &b);
    fg_buf_fini(&b);
    return rc ? -1 : 0;
}

/* ---- HTML ----
 *
 * One self-contained page: inline CSS, inline SVG, UTF-8 declared first
 * so the Chinese rule names render. Section and table ids (by-rule,
 * by-institution, by-day) are stable so that tests and scrapers can find
 * them. Labels are bilingual: supervisors read the Chinese, the field
 * names tie each column to the alert format.
 */

/* Append s with the five HTML-significant characters escaped. Every string
 * that comes from the input or the command line goes through here. */
static void html_esc(struct fg_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fg_buf_puts(b, "&amp;"); break;
        case '<': fg_buf_puts(b, "&lt;"); break;
        case '>': fg_buf_puts(b, "&gt;"); break;
        case '"': fg_buf_puts(b, "&quot;"); break;
        case '\'': fg_buf_puts(b, "&#39;"); break;
        default: fg_buf_putc(b, *s); break;
        }
    }
}

static const char html_css[] =
    "body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"PingFang SC\","
    "\"Microsoft YaHei\",\"WenQuanYi Micro Hei\",sans-serif;color:#222;max-width:1000px;"
    "margin:24px auto;padding:0 16px;line-height:1.4}\n"
    "h1{font-size:24px;margin:0 0 6px}\n"
    "h2{font-size:18px;border-bottom:2px solid #2c6fbb;padding-bottom:4px;margin-top:32px}\n"
    ".meta{color:#555;font-size:14px;margin:2px 0}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:8px;margin:16px 0}\n"
    ".card{border:1px solid #d6dce4;border-radius:6px;padding:8px 12px;min-width:130px}\n"
    ".card b{display:block;font-size:20px;font-variant-numeric:tabular-nums}\n"
    ".card span{font-size:12px;color:#666}\n"
    ".card.bad b{color:#a61b1b}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0 16px}\n"
    "th,td{border:1px solid #d6dce4;padding:4px 6px;text-align:left;vertical-align:top}\n"
    "th{background:#eef3f9}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tfoot td{font-weight:bold;background:#f7f7f7}\n"
    "svg{display:block;max-width:100%;height:auto;margin:8px 0}\n"
    "svg text{font-size:12px;fill:#333}\n"
    ".note{color:#666;font-size:12px}\n"
    "@media print{body{max-width:none;margin:0}h2{break-after:avoid}}\n";

#define COLOR_DEFINITE "#c0392b"
#define COLOR_SUSPECT "#e6a23c"
#define COLOR_AMOUNT "#2c6fbb"

static void html_head(struct fg_buf *b, const char *title)
{
    fg_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"generator\" content=\"fundguard " FG_VERSION "\">\n<title>");
    html_esc(b, title);
    fg_buf_puts(b, "</title>\n<style>\n");
    fg_buf_puts(b, html_css);
    fg_buf_puts(b, "</style>\n</head>\n<body>\n");
}

static void html_card(struct fg_buf *b, const char *cls, const char *value, const char *label)
{
    fg_buf_printf(b, "<div class=\"card%s%s\"><b>", cls ? " " : "", cls ? cls : "");
    html_esc(b, value);
    fg_buf_puts(b, "</b><span>");
    html_esc(b, label);
    fg_buf_puts(b, "</span></div>\n");
}

static void html_card_u64(struct fg_buf *b, const char *cls, uint64_t v, const char *label)
{
    char num[32];

    snprintf(num, sizeof(num), "%" PRIu64, v);
    html_card(b, cls, num, label);
}

/* Title, period, rule packs, inputs, then the totals as cards. */
static void html_header(struct fg_buf *b, const struct rp *rp, const struct rp_opts *o)
{
    char t1[40], t2[40], amt[48];

    fg_buf_puts(b, "<header>\n<h1>");
    html_esc(b, o->title);
    fg_buf_puts(b, "</h1>\n<p class=\"meta\">期间 Period (event_time, +08:00): ");
    if (rp->nalerts)
        fg_buf_printf(b, "%s — %s", fg_time_format_iso(rp->min_epoch, t1, sizeof(t1)),
                      fg_time_format_iso(rp->max_epoch, t2, sizeof(t2)));
    else
        fg_buf_puts(b, "无预警 (no alerts)");
    fg_buf_puts(b, "</p>\n<p class=\"meta\">规则包 Rule packs: ");
    for (size_t i = 0; i < rp->packs.n; i++) {
        fg_buf_puts(b, i ? ", <code>" : "<code>");
        html_esc(b, rp->packs.v[i]->key);
        fg_buf_printf(b, "</code> (%" PRIu64 ")",
                      rp->packs.v[i]->alerts + rp->packs.v[i]->withdrawn);
    }
    if (!rp->packs.n)
        fg_buf_puts(b, "—");
    fg_buf_puts(b, "</p>\n<p class=\"meta\">输入 Inputs: ");
    for (size_t i = 0; i < o->ninputs; i++) {
        fg_buf_puts(b, i ? ", <code>" : "<code>");
        html_esc(b, strcmp(o->inputs[i], "-") == 0 ? "<stdin>" : o->inputs[i]);
        fg_buf_puts(b, "</code>");
    }
    fg_buf_puts(b, "</p>\n</header>\n<section id=\"totals\">\n<div class=\"cards\">\n");
    html_card_u64(b, NULL, rp->total.alerts, "预警 alerts");
    html_card_u64(b, NULL, rp->total.definite, "明确违规 DEFINITE");
    html_card_u64(b, NULL, rp->total.suspect, "可疑 SUSPECT");
    html_card(b, NULL, yuan_grouped(rp->total.fen, amt, sizeof(amt)), "涉及金额 amount (元)");
    html_card_u64(b, NULL, rp->total.withdrawn, "已撤回 withdrawn");
    html_card(b, NULL, yuan_grouped(rp->total.withdrawn_fen, amt, sizeof(amt)),
              "撤回金额 withdrawn (元)");
    html_card_u64(b, NULL, rp->dup_alerts, "重复预警已忽略 duplicates ignored");
    html_card_u64(b, rp->unmatched_retracts ? "bad" : NULL, rp->unmatched_retracts,
                  "无对应预警的撤回 retractions without alert");
    html_card_u64(b, rp->bad ? "bad" : NULL, rp->bad, "无效行 bad lines");
    html_card_u64(b, NULL, rp->lines, "读入行数 lines read");
    fg_buf_puts(b, "</div>\n</section>\n");
}

/* <td class="n"> cells shared by every table after its key columns. */
static void html_counts(struct fg_buf *b, const struct rp_group *g)
{
    char amt[48], wamt[48];

    fg_buf_printf(b,
                  "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td>"
                  "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%s</td>"
                  "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%s</td></tr>\n",
                  g->alerts, g->definite, g->suspect, yuan_grouped(g->fen, amt, sizeof(amt)),
                  g->withdrawn, yuan_grouped(g->withdrawn_fen, wamt, sizeof(wamt)));
}

static const char html_count_heads[] =
    "<th class=\"n\">预警<br>alerts</th><th class=\"n\">明确<br>DEFINITE</th>"
    "<th class=\"n\">可疑<br>SUSPECT</th><th class=\"n\">涉及金额(元)<br>amount</th>"
    "<th class=\"n\">已撤回<br>withdrawn</th><th class=\"n\">撤回金额(元)<br>withdrawn amount</th>"
    "</tr></thead>\n<tbody>\n";

/* ---- SVG charts ----
 *
 * Charts are inline SVG written here, so the report opens offline, in a
 * mail client or an intranet archive, with no script and no CDN. Bars are
 * scaled to the largest value of their chart; this is the only place
 * floating point is used, and only for pixels: every number printed next
 * to a bar comes from the integer sums. Each bar is a <g> whose <title>
 * is the browser's tooltip. Empty segments are not drawn at all.
 */

/* One bar of a chart: up to two stacked segments. */
struct rp_bar {
    const char *label;           /* borrowed: shown beside the bar */
    const char *tip;             /* borrowed: tooltip detail, may be NULL */
    int64_t a, b;                /* segment values (counts or fen), >= 0 */
    char value[48];              /* text at the end of the bar */
};

struct rp_series {
    const char *name_a, *name_b; /* legend; name_b NULL = one series */
    const char *color_a, *color_b;
};

static void svg_legend(struct fg_buf *b, const struct rp_series *s, double x)
{
    fg_buf_printf(b, "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>", x,
                  s->color_a);
    fg_buf_printf(b, "<text x=\"%.1f\" y=\"18\">", x + 16);
    html_esc(b, s->name_a);
    fg_buf_puts(b, "</text>");
    if (!s->name_b)
        return;
    fg_buf_printf(b, "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>",
                  x + 150, s->color_b);
    fg_buf_printf(b, "<text x=\"%.1f\" y=\"18\">", x + 166);
    html_esc(b, s->name_b);
    fg_buf_puts(b, "</text>");
}

static void svg_open(struct fg_buf *b, const char *id, const char *title, double w, double h)
{
    fg_buf_printf(b,
                  "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
                  "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" aria-label=\"",
                  id, w, h, w, h);
    html_esc(b, title);
    fg_buf_puts(b, "\"><title>");
    html_esc(b, title);
    fg_buf_puts(b, "</title>\n");
}

/* A segment of a bar; nothing is drawn for an empty one. */
static void svg_rect(struct fg_buf *b, double x, double y, double w, double h, const char *fill)
{
    if (w <= 0.0 || h <= 0.0)
        return;
    fg_buf_printf(b, "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                     "fill=\"%s\"/>",
                  x, y, w, h, fill);
}

static void svg_tip(struct fg_buf *b, const struct rp_bar *bar)
{
    fg_buf_puts(b, "<title>");
    html_esc(b, bar->label);
    if (bar->tip) {
        fg_buf_puts(b, " ");
        html_esc(b, bar->tip);
    }
    fg_buf_puts(b, ": ");
    html_esc(b, bar->value);
    fg_buf_puts(b, "</title>");
}

static int64_t bars_max(const struct rp_bar *bars, size_t n)
{
    int64_t max = 0;

    for (size_t i = 0; i < n; i++)
        if (bars[i].a + bars[i].b > max)
            max = bars[i].a + bars[i].b;
    return max;
}

#define SVG_W 960.0

/* Horizontal bars, one row per bar, labels on the left. */
static void svg_hbars(struct fg_buf *b, const char *id, const char *title,
                      const struct rp_series *s, const struct rp_bar *bars, size_t n)
{
    const double label_w = 190, value_w = 110, row_h = 22, bar_h = 15, top = 30;
    const double plot_w = SVG_W - label_w - value_w - 10;
    double h = top + (double)(n ? n : 1) * row_h + 10;
    int64_t max = bars_max(bars, n);

    svg_open(b, id, title, SVG_W, h);
    svg_legend(b, s, label_w);
    if (!n)
        fg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">无数据 (no data)</text>", label_w,
                      top + 15);
    for (size_t i = 0; i < n; i++) {
        const struct rp_bar *bar = &bars[i];
        double y = top + (double)i * row_h;
        double wa = max ? (double)bar->a / (double)max * plot_w : 0;
        double wb = max ? (double)bar->b / (double)max * plot_w : 0;

        fg_buf_puts(b, "<g>");
        svg_tip(b, bar);
        fg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", label_w - 6,
                      y + bar_h - 3);
        html_esc(b, bar->label);
        fg_buf_puts(b, "</text>");
        svg_rect(b, label_w, y, wa, bar_h, s->color_a);
        svg_rect(b, label_w + wa, y, wb, bar_h, s->color_b ? s->color_b : s->color_a);
        fg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", label_w + wa + wb + 6, y + bar_h - 3);
        html_esc(b, bar->value);
        fg_buf_puts(b, "</text></g>\n");
    }
    fg_buf_puts(b, "</svg>\n");
}

/* Vertical bars over time, labels under the axis (every k-th when many). */
static void svg_vbars(struct fg_buf *b, const char *id, const char *title,
                      const struct rp_series *s, const struct rp_bar *bars, size_t n)
{
    const double left = 56, right = 16, top = 30, plot_h = 200, bottom = 70;
    const double plot_w = SVG_W - left - right;
    double slot = n ? plot_w / (double)n : plot_w;
    size_t every = n > 24 ? (n + 23) / 24 : 1;
    int64_t max = bars_max(bars, n);

    svg_open(b, id, title, SVG_W, top + plot_h + bottom);
    svg_legend(b, s, left);
    /* Axis and the y scale: 0 and the maximum. */
    fg_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>",
                  left, top + plot_h, left + plot_w, top + plot_h);
    fg_buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>",
                  left, top, left + plot_w, top);
    fg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>", left - 6,
                  top + plot_h + 4);
    fg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%" PRId64 "</text>\n",
                  left - 6, top + 4, max);
    if (!n)
        fg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">无数据 (no data)</text>", left + 10,
                      top + plot_h / 2);
    for (size_t i = 0; i < n; i++) {
        const struct rp_bar *bar = &bars[i];
        double x = left + (double)i * slot + slot * 0.1, w = slot * 0.8;
        double ha = max ? (double)bar->a / (double)max * plot_h : 0;
        double hb = max ? (double)bar->b / (double)max * plot_h : 0;
        double base = top + plot_h;

        fg_buf_puts(b, "<g>");
        svg_tip(b, bar);
        svg_rect(b, x, base - ha, w, ha, s->color_a);
        svg_rect(b, x, base - ha - hb, w, hb, s->color_b ? s->color_b : s->color_a);
        if (i % every == 0) {
            double lx = x + w / 2, ly = base + 12;
            fg_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                             "transform=\"rotate(-45 %.1f %.1f)\">",
                          lx, ly, lx, ly);
            html_esc(b, bar->label);
            fg_buf_puts(b, "</text>");
        }
        fg_buf_puts(b, "</g>\n");
    }
    fg_buf_puts(b, "</svg>\n");
}

static const struct rp_series series_counts = {
    "明确违规 DEFINITE", "可疑 SUSPECT", COLOR_DEFINITE, COLOR_SUSPECT,
};
static const struct rp_series series_amount = {
    "涉及金额 amount (元)", NULL, COLOR_AMOUNT, NULL,
};

static void bar_counts(struct rp_bar *bar, const struct rp_group *g)
{
    bar->label = g->key;
    bar->a = (int64_t)g->definite;
    bar->b = (int64_t)g->suspect;
    snprintf(bar->value, sizeof(bar->value), "%" PRIu64, g->alerts);
}

/* ---- HTML sections ---- */

static void html_rules(struct fg_buf *b, const struct rp *rp)
{
    struct rp_bar *bars = fg_calloc(rp->rules.n + 1, sizeof(*bars));   /* freed below */

    fg_buf_puts(b, "<section id=\"rules\">\n<h2>按规则 Alerts per rule</h2>\n");
    for (size_t i = 0; i < rp->rules.n; i++) {
        bar_counts(&bars[i], rp->rules.v[i]);
        bars[i].tip = rp->rules.v[i]->name;
    }
    svg_hbars(b, "chart-rules", "每条规则的预警数 Alerts per rule", &series_counts, bars,
              rp->rules.n);
    free(bars);
    fg_buf_puts(b, "<table id=\"by-rule\">\n<thead><tr><th>规则 rule_id</th>"
                   "<th>规则名称 rule_name</th>");
    fg_buf_puts(b, html_count_heads);
    for (size_t i = 0; i < rp->rules.n; i++) {
        fg_buf_puts(b, "<tr><td><code>");
        html_esc(b, rp->rules.v[i]->key);
        fg_buf_puts(b, "</code></td><td>");
        html_esc(b, rp->rules.v[i]->name);
        fg_buf_puts(b, "</td>");
        html_counts(b, rp->rules.v[i]);
    }
    fg_buf_puts(b, "</tbody>\n<tfoot><tr><td colspan=\"2\">合计 total</td>");
    html_counts(b, &rp->total);
    fg_buf_puts(b, "</tfoot>\n</table>\n</section>\n");
}

/* Add the sums of g into into. The fen sums cannot overflow: they are
 * part of the grand total, which was checked. */
static void group_merge(struct rp_group *into, const struct rp_group *g)
{
    into->alerts += g->alerts;
    into->definite += g->definite;
    into->suspect += g->suspect;
    into->fen += g->fen;
    into->withdrawn += g->withdrawn;
    into->withdrawn_fen += g->withdrawn_fen;
}

/* The top institutions by amount at stake, the rest summed in one row.
 * The page stays readable with thousands of institutions; the full
 * ranking is in by_institution.csv. */
static void html_insts(struct fg_buf *b, const struct rp *rp, size_t top)
{
    size_t shown = rp->insts.n < top ? rp->insts.n : top;
    struct rp_bar *bars = fg_calloc(shown + 1, sizeof(*bars));   /* freed below */
    struct rp_group rest = {0};

    fg_buf_printf(b, "<section id=\"institutions\">\n<h2>按定点医药机构 Institutions: top %zu "
                     "of %zu by amount at stake</h2>\n",
                  shown, rp->insts.n);
    for (size_t i = 0; i < shown; i++) {
        bars[i].label = rp->insts.v[i]->key;
        bars[i].a = rp->insts.v[i]->fen;
        yuan_grouped(rp->insts.v[i]->fen, bars[i].value, sizeof(bars[i].value));
    }
    svg_hbars(b, "chart-institutions", "涉及金额最高的机构 Amount at stake per institution",
              &series_amount, bars, shown);
    free(bars);
    fg_buf_puts(b, "<table id=\"by-institution\">\n<thead><tr><th class=\"n\">排名 rank</th>"
                   "<th>机构编码 fixmedins_code</th>");
    fg_buf_puts(b, html_count_heads);
    for (size_t i = 0; i < shown; i++) {
        fg_buf_printf(b, "<tr><td class=\"n\">%zu</td><td><code>", i + 1);
        html_esc(b, rp->insts.v[i]->key);
        fg_buf_puts(b, "</code></td>");
        html_counts(b, rp->insts.v[i]);
    }
    fg_buf_puts(b, "</tbody>\n<tfoot>");
    if (shown < rp->insts.n) {
        for (size_t i = shown; i < rp->insts.n; i++)
            group_merge(&rest, rp->insts.v[i]);
        fg_buf_printf(b, "<tr><td colspan=\"2\">其余 %zu 家机构 other institutions</td>",
                      rp->insts.n - shown);
        html_counts(b, &rest);
    }
    fg_buf_puts(b, "<tr><td colspan=\"2\">合计 total</td>");
    html_counts(b, &rp->total);
    fg_buf_puts(b, "</tfoot>\n</table>\n");
    if (shown < rp->insts.n)
        fg_buf_puts(b, "<p class=\"note\">全部机构见 by_institution.csv (--csv-dir). "
                       "Every institution is in by_institution.csv.</p>\n");
    fg_buf_puts(b, "</section>\n");
}

/* Bars for the day chart: one per calendar day from the first to the last
 * (empty days included) when the span is short, else one per day seen.
 * Returns an array the caller frees, with its length in *n. Date labels
 * are kept in `labels` (owned by the caller: fg_buf_fini). */
static struct rp_bar *day_bars(const struct rp *rp, struct fg_buf *labels, size_t *n)
{
    const struct rp_table *t = &rp->days;
    int64_t first = t->n ? t->v[0]->day : 0, last = t->n ? t->v[t->n - 1]->day : 0;
    int fill = t->n && last - first < RP_DAY_GAP_FILL;
    size_t span = fill ? (size_t)(last - first + 1) : t->n;
    struct rp_bar *bars = fg_calloc(span + 1, sizeof(*bars));
    size_t *label_off = fg_calloc(span + 1, sizeof(*label_off));
    size_t k = 0;

    for (size_t i = 0; i < span; i++) {
        int64_t dayno = fill ? first + (int64_t)i : t->v[i]->day;
        const struct rp_group *g = NULL;
        char date[32];

        if (k < t->n && t->v[k]->day == dayno)
            g = t->v[k++];
        fg_date_format(dayno, date, sizeof(date));
        /* Offsets, not pointers: labels->data moves while it grows. */
        label_off[i] = labels->len;
        fg_buf_append(labels, date, strlen(date) + 1);
        if (g)
            bar_counts(&bars[i], g);
        else
            snprintf(bars[i].value, sizeof(bars[i].value), "0");
    }
    for (size_t i = 0; i < span; i++)
        bars[i].label = labels->data + label_off[i];
    free(label_off);
    *n = span;
    return bars;
}

static void html_days(struct fg_buf *b, const struct rp *rp)
{
    struct fg_buf labels;
    struct rp_bar *bars;
    size_t n;

    fg_buf_init(&labels);
    bars = day_bars(rp, &labels, &n);   /* freed below */
    fg_buf_puts(b, "<section id=\"days\">\n<h2>按日 Alerts per day (event_time, +08:00)</h2>\n");
    svg_vbars(b, "chart-days", "每日预警数 Alerts per day", &series_counts, bars, n);
    free(bars);
    fg_buf_fini(&labels);
    fg_buf_puts(b, "<table id=\"by-day\">\n<thead><tr><th>日期 date</th>");
    fg_buf_puts(b, html_count_heads);
    for (size_t i = 0; i < rp->days.n; i++) {
        fg_buf_puts(b, "<tr><td>");
        html_esc(b, rp->days.v[i]->key);
        fg_buf_puts(b, "</td>");
        html_counts(b, rp->days.v[i]);
    }
    fg_buf_puts(b, "</tbody>\n<tfoot><tr><td>合计 total</td>");
    html_counts(b, &rp->total);
    fg_buf_puts(b, "</tfoot>\n</table>\n</section>\n");
}

static void html_footer(struct fg_buf *b, const struct rp *rp)
{
    fg_buf_printf(b, "<footer class=\"note\"><p>fundguard " FG_VERSION " report. "
                     "Distinct alerts read: %zu; duplicate RETRACT lines ignored: %" PRIu64
                     "; blank lines: %" PRIu64 ". Withdrawn alerts (RETRACT) are excluded "
                     "from the counts and amounts and shown separately. Amounts are exact "
                     "sums of vola_amt.</p></footer>\n</body>\n</html>\n",
                  rp->nalerts, rp->retracts.dups, rp->blank);
}

/* Build the whole report into b (initialised by the caller). */
static void html_build(struct fg_buf *b, const struct rp *rp, const struct rp_opts *o)
{
    html_head(b, o->title);
    html_header(b, rp, o);
    html_rules(b, rp);
    html_insts(b, rp, (size_t)o->top);
    html_days(b, rp);
    html_footer(b, rp);
}

/* ---- the command ---- */

static int usage_report(FILE *out)
{
    fprintf(out,
            "usage: fundguard report [--input PATH|kafka:TOPIC...] (--html FILE | --csv-dir DIR)...\n"
            "         [--top N] [--title TEXT] [-c FILE] [--set KEY=VALUE...]\n"
            "  reads nhsa.alert.v1 JSON Lines ('-' or no --input = stdin, .gz accepted);\n"
            "  kafka:TOPIC reads the topic as it is now, with the Kafka settings of -c FILE\n"
            "  (default config/fundguard.json)\n");
    return out == stderr ? FG_EXIT_USAGE : FG_EXIT_OK;
}

static int parse_top(const char *s, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > RP_TOP_MAX)
        return -1;
    *out = v;
    return 0;
}

/* Fill o from argv. Returns 0, or -1 after printing why (usage error). */
static int parse_opts(int argc, char **argv, struct rp_opts *o)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        int r = fg_alert_cli_arg(&o->cli, "report", 0, argc, argv, &i);

        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if ((strcmp(a, "--input") == 0 || strcmp(a, "-i") == 0) && has_val) {
            o->inputs = fg_realloc(o->inputs, (o->ninputs + 1) * sizeof(*o->inputs));
            o->inputs[o->ninputs++] = argv[++i];
        } else if (strcmp(a, "--html") == 0 && has_val) {
            o->html = argv[++i];
        } else if (strcmp(a, "--csv-dir") == 0 && has_val) {
            o->csv_dir = argv[++i];
        } else if (strcmp(a, "--title") == 0 && has_val) {
            o->title = argv[++i];
        } else if (strcmp(a, "--top") == 0 && has_val) {
            if (parse_top(argv[++i], &o->top)) {
                fprintf(stderr, "fundguard report: --top expects 1..%d\n", RP_TOP_MAX);
                return -1;
            }
        } else {
            fprintf(stderr, "fundguard report: unknown or incomplete option '%s'\n", a);
            return -1;
        }
    }
    if (!o->html && !o->csv_dir) {
        fprintf(stderr, "fundguard report: --html or --csv-dir is required\n");
        return -1;
    }
    return 0;
}

static void print_summary(const struct rp *rp, size_t html_bytes)
{
    char amt[40];

    fprintf(stderr,
            "fundguard report: alerts=%" PRIu64 " definite=%" PRIu64 " suspect=%" PRIu64
            " amount=%s withdrawn=%" PRIu64 " duplicates=%" PRIu64
            " retractions_without_alert=%" PRIu64 " bad_lines=%" PRIu64 " html_bytes=%zu\n",
            rp->total.alerts, rp->total.definite, rp->total.suspect,
            yuan(rp->total.fen, amt, sizeof(amt)), rp->total.withdrawn, rp->dup_alerts,
            rp->unmatched_retracts, rp->bad, html_bytes);
}

/* Read, aggregate and write. Returns the exit code. */
static int run_report(const struct rp_opts *o)
{
    struct rp rp;
    struct fg_buf html;
    struct fg_config *cfg = NULL;
    int code = FG_EXIT_OK;

    rp_init(&rp);
    fg_buf_init(&html);
    /* The config is read only for Kafka inputs: files need none. */
    for (size_t i = 0; i < o->ninputs && !cfg; i++) {
        if (fg_alert_source_is_kafka(o->inputs[i])) {
            cfg = fg_alert_cli_config(&o->cli, "report");
            if (!cfg) {
                code = FG_EXIT_CONFIG;
                goto out;
            }
        }
    }
    for (size_t i = 0; i < o->ninputs; i++) {
        code = read_input(&rp, o->inputs[i], cfg);
        if (code)
            goto out;
    }
    if (rp.bad > RP_BAD_SHOWN)
        fprintf(stderr, "report: %" PRIu64 " more bad lines not shown\n",
                rp.bad - RP_BAD_SHOWN);
    if (rp_aggregate(&rp)) {
        fprintf(stderr, "report: the amounts are too large to sum exactly in fen\n");
        code = FG_EXIT_DATAERR;
        goto out;
    }
    if (o->html) {
        html_build(&html, &rp, o);
        if (write_file(o->html, html.data, html.len))
            code = FG_EXIT_RUNTIME;
    }
    if (o->csv_dir && csv_write(&rp, o->csv_dir))
        code = FG_EXIT_RUNTIME;
    print_summary(&rp, html.len);
out:
    fg_buf_fini(&html);
    rp_fini(&rp);
    fg_config_free(cfg);
    return code;
}

int fg_cmd_report(int argc, char **argv)
{
    struct rp_opts o = {.cli = FG_ALERT_CLI_INIT, .title = RP_DEFAULT_TITLE,
                        .top = RP_TOP_DEFAULT};
    int code;

    if (argc == 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
        return usage_report(stdout);
    }
    if (parse_opts(argc, argv, &o)) {
        free(o.inputs);
        fg_alert_cli_fini(&o.cli);
        return usage_report(stderr);
    }
    if (!o.ninputs) {
        o.inputs = fg_malloc(sizeof(*o.inputs));
        o.inputs[0] = "-";
        o.ninputs = 1;
    }
    code = run_report(&o);
    free(o.inputs);
    fg_alert_cli_fini(&o.cli);
    return code;
}
