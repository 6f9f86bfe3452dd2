/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_compare.c: `fundguard compare A B`: two alert sources, jr_id by
 * jr_id. An auditor uses it to show that the alerts on record (the live
 * topic) are exactly what the rules produce (a replay of the same claims);
 * an analyst uses it for a what-if (another rule pack or other parameters
 * against the rules in force) and reads the difference per rule and per
 * institution, with the money at stake.
 *
 * Each source is first made into a set, on its own terms:
 *   - an ALERT whose jr_id has a RETRACT in the same source is withdrawn
 *     and left out (the RETRACT may come before or after it);
 *   - the same jr_id with the same canonical content more than once is
 *     one alert (at-least-once redelivery), and counted as a duplicate;
 *   - the same jr_id with two different contents in one source is a
 *     conflict: the source contradicts itself, the jr_id is left out of
 *     the comparison on both sides, and the result is "different";
 *   - --ignore-rule and --since/--until (event_time) then select what is
 *     compared, the same way on both sides.
 * Then every jr_id is in both with the same content, in both with a
 * different content ("changed"), only in A or only in B. The canonical
 * content leaves out replay, source and detected_at, the fields that may
 * differ between a live run and a replay (CONTRACT §3).
 *
 * Money is integer fen throughout; sums are checked for overflow. The
 * output is sorted (rules by id, institutions by amount, examples by
 * jr_id), so it does not depend on the order a Kafka topic delivers in.
 */
#include "fg_compare.h"
#include "fg_alert_read.h"
#include "fg_common.h"
#include "fg_config.h"
#include "fg_fixed.h"
#include "fg_map.h"
#include "fg_time.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#define CMP_EXAMPLES 20          /* example jr_ids printed per class */
#define CMP_BAD_SHOWN 10         /* bad lines printed per source */
#define CMP_TOP_DEFAULT 20       /* institutions in the human table */

/* ---- data model ---- */

/* Why an alert of a source is, or is not, compared. */
enum cmp_fate {
    FATE_COMPARED = 0,
    FATE_WITHDRAWN,              /* a RETRACT in the same source */
    FATE_IGNORED,                /* --ignore-rule */
    FATE_OUT_OF_PERIOD,          /* --since/--until */
    FATE_CONFLICT,               /* two contents for its jr_id (either side) */
};

struct cmp_alert {
    struct fg_alert_rec rec;     /* owned; rec.jr_id keys the side's index */
    int side;                    /* 0 = A, 1 = B */
    int conflict;                /* a later line had other content */
    enum cmp_fate fate;
};

struct cmp_side {
    const char *name;            /* "A" or "B" */
    const char *spec;            /* borrowed from argv */
    struct fg_map idx;           /* jr_id -> struct cmp_alert */
    struct cmp_alert **v;        /* owned, first-seen order */
    size_t n, cap;
    struct fg_retract_set retracts;
    uint64_t lines, blank, bad, dups, conflict_lines;
    uint64_t withdrawn, unmatched_retracts, ignored, out_of_period, compared;
    uint64_t conflicts;          /* selected jr_ids this side has two contents for */
};

/* A rule or an institution: the comparison's counts and amounts. */
struct cmp_group {
    char *key;                   /* owned: rule_id or fixmedins_code */
    char *name;                  /* owned: rule_name for rules, else NULL */
    uint64_t both, only_a, only_b, changed;
    int64_t fen_only_a, fen_only_b;
    int64_t fen_changed_net;     /* sum of B - A over changed alerts */
    int64_t fen_changed_abs;     /* sum of |B - A| */
};

struct cmp_table {
    struct fg_map idx;           /* key -> group; keys borrowed from groups */
    struct cmp_group **v;        /* owned */
    size_t n, cap;
};

/* The alerts of one difference class, for the examples. */
struct cmp_list {
    const struct cmp_alert **v;  /* borrowed from the sides; array owned */
    const struct cmp_alert **w;  /* the other side's alert, or NULL */
    size_t n, cap;
};

struct cmp_opts {
    const char *spec[2];
    struct fg_alert_cli cli;     /* -c, --set, --since, --until */
    const char **ignore;         /* array owned, strings borrowed */
    size_t nignore;
    int by_rule, by_inst;
    long top;
    int json;
};

struct cmp {
    struct cmp_side side[2];
    struct cmp_table rules, insts;
    struct cmp_group total;
    struct cmp_list only_a, only_b, changed, conflicts;
    int overflow;
};

/* ---- tables ---- */

static void table_init(struct cmp_table *t)
{
    memset(t, 0, sizeof(*t));
    fg_map_init(&t->idx);
}

static void table_fini(struct cmp_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i]->key);
        free(t->v[i]->name);
        free(t->v[i]);
    }
    free(t->v);
    fg_map_fini(&t->idx);
}

/* The group for key (NULL counts as "-"), created on first use with a copy
 * of name. Owned by the table until table_fini. */
static struct cmp_group *table_get(struct cmp_table *t, const char *key, const char *name)
{
    struct cmp_group *g;
    size_t klen;

    if (!key)
        key = "-";
    klen = strlen(key);
    g = fg_map_get(&t->idx, key, klen);
    if (g)
        return g;
    g = fg_calloc(1, sizeof(*g));
    g->key = fg_strndup(key, klen);
    g->name = name ? fg_strdup(name) : NULL;
    fg_map_put(&t->idx, g->key, klen, g);
    FG_VEC_GROW(t->v, t->n, t->cap, 16);
    t->v[t->n++] = g;
    return g;
}

static void list_add(struct cmp_list *l, const struct cmp_alert *a, const struct cmp_alert *b)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = fg_realloc(l->v, l->cap * sizeof(*l->v));
        l->w = fg_realloc(l->w, l->cap * sizeof(*l->w));
    }
    l->v[l->n] = a;
    l->w[l->n++] = b;
}

static void list_fini(struct cmp_list *l)
{
    free(l->v);
    free(l->w);
}

static void side_init(struct cmp_side *s, const char *name, const char *spec)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->spec = spec;
    fg_map_init(&s->idx);
    fg_retract_set_init(&s->retracts);
}

static void side_fini(struct cmp_side *s)
{
    for (size_t i = 0; i < s->n; i++) {
        fg_alert_rec_fini(&s->v[i]->rec);
        free(s->v[i]);
    }
    free(s->v);
    fg_retract_set_fini(&s->retracts);
    fg_map_fini(&s->idx);
}

/* ---- reading a source ---- */

/* Keep an ALERT: takes over rec's contents (rec is left empty) when its
 * jr_id is new; otherwise counts a duplicate or a conflict. */
static void side_alert(struct cmp_side *s, struct fg_alert_rec *rec)
{
    struct cmp_alert *a = fg_map_get(&s->idx, rec->jr_id, strlen(rec->jr_id));

    if (a) {
        if (a->rec.canonical_len == rec->canonical_len &&
            memcmp(a->rec.canonical, rec->canonical, rec->canonical_len) == 0) {
            s->dups++;
        } else {
            /* The first content stays; the jr_id will not be compared. */
            a->conflict = 1;
            s->conflict_lines++;
        }
        return;
    }
    a = fg_calloc(1, sizeof(*a));
    a->side = s->name[0] == 'B';
    a->rec = *rec;
    memset(rec, 0, sizeof(*rec));   /* moved */
    fg_map_put(&s->idx, a->rec.jr_id, strlen(a->rec.jr_id), a);
    FG_VEC_GROW(s->v, s->n, s->cap, 256);
    s->v[s->n++] = a;   /* owned by s from here */
}

static int is_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

/* Read one source into s. Returns 0, or an exit code (reason printed):
 * FG_EXIT_DATAERR when it cannot be read, FG_EXIT_CONFIG, FG_EXIT_USAGE. */
static int side_read(struct cmp_side *s, const struct cmp_opts *o, const struct fg_config *cfg)
{
    struct fg_alert_reader_opts ro = {.cfg = cfg, .since = o->cli.since};
    struct fg_alert_reader *in;
    struct fg_alert_rec rec;
    const char *line;
    char err[1024], why[256], where[512];
    size_t len;
    int rc, code = FG_EXIT_DATAERR;

    in = fg_alert_reader_open(s->spec, &ro, &code, err, sizeof(err));
    if (!in) {
        fprintf(stderr, "fundguard compare: %s: %s\n", s->name, err);
        return code;
    }
    while ((rc = fg_alert_reader_next(in, &line, &len, err, sizeof(err))) == 1) {
        s->lines++;
        if (is_blank(line, len)) {
            s->blank++;
            continue;
        }
        if (len && line[len - 1] == '\r')
            len--;
        if (fg_alert_rec_parse(line, len, &rec, why, sizeof(why)) == 0) {
            if (rec.retract)
                fg_retract_set_add(&s->retracts, rec.jr_id);
            else
                side_alert(s, &rec);
        } else if (++s->bad <= CMP_BAD_SHOWN) {
            fprintf(stderr, "fundguard compare: %s: %s: %s\n", s->name,
                    fg_alert_reader_where(in, where, sizeof(where)), why);
        }
        fg_alert_rec_fini(&rec);
    }
    if (rc < 0)
        fprintf(stderr, "fundguard compare: %s: %s\n", s->name, err);
    if (s->bad > CMP_BAD_SHOWN)
        fprintf(stderr, "fundguard compare: %s: %" PRIu64 " more bad lines not shown\n",
                s->name, s->bad - CMP_BAD_SHOWN);
    fg_alert_reader_close(in);
    return rc < 0 ? FG_EXIT_DATAERR : 0;
}

/* ---- comparing ---- */

static int ignored_rule(const struct cmp_opts *o, const char *rule_id)
{
    for (size_t i = 0; i < o->nignore; i++)
        if (strcmp(o->ignore[i], rule_id) == 0)
            return 1;
    return 0;
}

/* Withdrawals, then the selection (--ignore-rule, the period), on one
 * side. Conflicts are settled afterwards, across both sides. */
static void side_select(struct cmp_side *s, const struct cmp_opts *o)
{
    for (size_t i = 0; i < s->retracts.n; i++) {
        const char *id = s->retracts.v[i];
        struct cmp_alert *a = fg_map_get(&s->idx, id, strlen(id));
        if (a)
            a->fate = FATE_WITHDRAWN;
        else
            s->unmatched_retracts++;
    }
    for (size_t i = 0; i < s->n; i++) {
        struct cmp_alert *a = s->v[i];
        if (a->fate == FATE_WITHDRAWN)
            s->withdrawn++;
        else if (ignored_rule(o, a->rec.rule_id)) {
            a->fate = FATE_IGNORED;
            s->ignored++;
        } else if (a->rec.epoch < o->cli.since || a->rec.epoch >= o->cli.until) {
            a->fate = FATE_OUT_OF_PERIOD;
            s->out_of_period++;
        }
    }
}

/* The alert with that jr_id that this side compares, or NULL. */
static struct cmp_alert *side_compared(const struct cmp_side *s, const char *jr_id)
{
    struct cmp_alert *a = fg_map_get(&s->idx, jr_id, strlen(jr_id));

    return a && a->fate == FATE_COMPARED ? a : NULL;
}

/* A jr_id that either side contradicts itself on is compared on neither
 * side; it is listed once, with the other side's alert when there is one. */
static void settle_conflicts(struct cmp *c)
{
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < c->side[k].n; i++)
            c->side[k].conflicts += c->side[k].v[i]->fate == FATE_COMPARED &&
                                    c->side[k].v[i]->conflict;
    for (int k = 0; k < 2; k++) {
        struct cmp_side *s = &c->side[k], *t = &c->side[1 - k];
        for (size_t i = 0; i < s->n; i++) {
            struct cmp_alert *a = s->v[i], *b;
            if (a->fate != FATE_COMPARED || !a->conflict)
                continue;
            b = side_compared(t, a->rec.jr_id);
            a->fate = FATE_CONFLICT;
            if (b)
                b->fate = FATE_CONFLICT;
            list_add(&c->conflicts, a, b);
        }
    }
}

static void add_fen(struct cmp *c, int64_t *sum, int64_t v)
{
    if (__builtin_add_overflow(*sum, v, sum))
        c->overflow = 1;
}

enum cmp_class { CLASS_BOTH, CLASS_ONLY_A, CLASS_ONLY_B, CLASS_CHANGED };

/* Count one compared jr_id into its rule, its institution and the total.
 * a is A's alert (NULL when only in B), b is B's (NULL when only in A). */
static void count(struct cmp *c, enum cmp_class cls, const struct cmp_alert *a,
                  const struct cmp_alert *b)
{
    const struct fg_alert_rec *r = a ? &a->rec : &b->rec;
    struct cmp_group *g[3];
    int64_t delta = 0;

    g[0] = table_get(&c->rules, r->rule_id, r->rule_name);
    g[1] = table_get(&c->insts, r->fixmedins_code, NULL);
    g[2] = &c->total;
    if (cls == CLASS_CHANGED)
        delta = b->rec.fen - a->rec.fen;   /* both < 10^16: no overflow */
    for (int i = 0; i < 3; i++) {
        switch (cls) {
        case CLASS_BOTH:
            g[i]->both++;
            break;
        case CLASS_ONLY_A:
            g[i]->only_a++;
            add_fen(c, &g[i]->fen_only_a, a->rec.fen);
            break;
        case CLASS_ONLY_B:
            g[i]->only_b++;
            add_fen(c, &g[i]->fen_only_b, b->rec.fen);
            break;
        case CLASS_CHANGED:
            g[i]->changed++;
            add_fen(c, &g[i]->fen_changed_net, delta);
            add_fen(c, &g[i]->fen_changed_abs, delta < 0 ? -delta : delta);
            break;
        }
    }
}

static void classify(struct cmp *c)
{
    struct cmp_side *A = &c->side[0], *B = &c->side[1];

    for (size_t i = 0; i < A->n; i++) {
        const struct cmp_alert *a = A->v[i], *b;
        if (a->fate != FATE_COMPARED)
            continue;
        A->compared++;
        b = side_compared(B, a->rec.jr_id);
        if (!b) {
            count(c, CLASS_ONLY_A, a, NULL);
            list_add(&c->only_a, a, NULL);
        } else if (a->rec.canonical_len == b->rec.canonical_len &&
                   memcmp(a->rec.canonical, b->rec.canonical, b->rec.canonical_len) == 0) {
            count(c, CLASS_BOTH, a, b);
        } else {
            count(c, CLASS_CHANGED, a, b);
            list_add(&c->changed, a, b);
        }
    }
    for (size_t i = 0; i < B->n; i++) {
        const struct cmp_alert *b = B->v[i];
        if (b->fate != FATE_COMPARED)
            continue;
        B->compared++;
        if (!side_compared(A, b->rec.jr_id)) {
            count(c, CLASS_ONLY_B, NULL, b);
            list_add(&c->only_b, b, NULL);
        }
    }
}

/* What an institution's comparison moves: money only in A, only in B, and
 * the absolute change of the changed alerts. Saturates instead of
 * overflowing (only used for ranking). */
static int64_t amount_changed(const struct cmp_group *g)
{
    int64_t s = 0;

    if (__builtin_add_overflow(g->fen_only_a, g->fen_only_b, &s) ||
        __builtin_add_overflow(s, g->fen_changed_abs, &s))
        return INT64_MAX;
    return s;
}

static uint64_t differences(const struct cmp_group *g)
{
    return g->only_a + g->only_b + g->changed;
}

static int cmp_rule(const void *pa, const void *pb)
{
    const struct cmp_group *a = *(const struct cmp_group *const *)pa;
    const struct cmp_group *b = *(const struct cmp_group *const *)pb;

    return strcmp(a->key, b->key);
}

/* Institutions rank by amount changed, then by how many alerts differ,
 * then by code. */
static int cmp_inst(const void *pa, const void *pb)
{
    const struct cmp_group *a = *(const struct cmp_group *const *)pa;
    const struct cmp_group *b = *(const struct cmp_group *const *)pb;
    int64_t fa = amount_changed(a), fb = amount_changed(b);

    if (fa != fb)
        return fa > fb ? -1 : 1;
    if (differences(a) != differences(b))
        return differences(a) > differences(b) ? -1 : 1;
    return strcmp(a->key, b->key);
}

static int cmp_jr(const void *pa, const void *pb)
{
    const struct cmp_alert *a = *(const struct cmp_alert *const *)pa;
    const struct cmp_alert *b = *(const struct cmp_alert *const *)pb;

    return strcmp(a->rec.jr_id, b->rec.jr_id);
}

/* Sort a list by jr_id, keeping each alert with its partner: sorted as
 * (alert, partner) pairs, compared by the alert. */
static void list_sort(struct cmp_list *l)
{
    const struct cmp_alert **pairs;

    if (l->n < 2)
        return;
    pairs = fg_malloc(l->n * 2 * sizeof(*pairs));
    for (size_t i = 0; i < l->n; i++) {
        pairs[2 * i] = l->v[i];
        pairs[2 * i + 1] = l->w[i];
    }
    qsort(pairs, l->n, 2 * sizeof(*pairs), cmp_jr);
    for (size_t i = 0; i < l->n; i++) {
        l->v[i] = pairs[2 * i];
        l->w[i] = pairs[2 * i + 1];
    }
    free(pairs);
}

static int identical(const struct cmp *c)
{
    return c->total.only_a == 0 && c->total.only_b == 0 && c->total.changed == 0 &&
           c->conflicts.n == 0 && c->side[0].bad == 0 && c->side[1].bad == 0;
}

static int cmp_str(const void *pa, const void *pb)
{
    return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* The top-level fields in which two canonical alerts differ (present in
 * one only, or with other values), as a JSON array of names in sorted
 * order. Returns a new reference. */
static json_t *diff_fields(const struct fg_alert_rec *a, const struct fg_alert_rec *b)
{
    json_t *ja = json_loadb(a->canonical, a->canonical_len, 0, NULL);
    json_t *jb = json_loadb(b->canonical, b->canonical_len, 0, NULL);
    json_t *out = json_array(), *v;
    const char **names = fg_calloc(json_object_size(ja) + json_object_size(jb) + 1,
                                   sizeof(*names));   /* borrowed from ja, jb */
    const char *k;
    size_t n = 0;

    json_object_foreach(ja, k, v) {
        if (!json_equal(v, json_object_get(jb, k)))
            names[n++] = k;
    }
    json_object_foreach(jb, k, v) {
        if (!json_object_get(ja, k))
            names[n++] = k;
    }
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, json_string(names[i]));
    free(names);
    json_decref(ja);
    json_decref(jb);
    return out;
}

/* Where a conflicting jr_id has two contents: "A", "B" or "A+B". */
static const char *conflict_where(const struct cmp_alert *a, const struct cmp_alert *b)
{
    if (b && b->conflict)
        return "A+B";
    return a->side ? "B" : "A";
}

/* ---- human output ---- */

/* fen as exact yuan "1234.56" into buf (at least 32 bytes). */
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

    if (*p == '-' && o + 1 < size)
        buf[o++] = *p++;
    digits = strcspn(p, ".");
    for (i = 0; p[i] && o + 2 < size; i++) {
        if (i > 0 && i < digits && (digits - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = p[i];
    }
    buf[o] = '\0';
    return buf;
}

/* Columns a UTF-8 string takes on a terminal: East Asian wide characters
 * (the Chinese rule names) take two. */
static size_t disp_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;

    while (*p) {
        uint32_t cp;
        int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 1;

        cp = n == 1 ? *p : (uint32_t)(*p & (0x7f >> n));
        for (int i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) {   /* broken sequence: one column */
                n = 1;
                break;
            }
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        p += n;
        w += (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
                     (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
                     (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
                     (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd)
                 ? 2
                 : 1;
    }
    return w;
}

/* s left-aligned in `width` columns (never cut). */
static void put_left(FILE *out, const char *s, size_t width)
{
    size_t w = disp_width(s);

    fputs(s, out);
    for (; w < width; w++)
        fputc(' ', out);
}

static void put_right(FILE *out, const char *s, size_t width)
{
    for (size_t w = disp_width(s); w < width; w++)
        fputc(' ', out);
    fputs(s, out);
}

static void put_u64(FILE *out, uint64_t v, size_t width)
{
    char num[32];

    snprintf(num, sizeof(num), "%" PRIu64, v);
    fputs("  ", out);
    put_right(out, num, width);
}

static void put_fen(FILE *out, int64_t fen, size_t width)
{
    char amt[48];

    fputs("  ", out);
    put_right(out, yuan_grouped(fen, amt, sizeof(amt)), width);
}

static void print_side(FILE *out, const struct cmp_side *s, const char *label)
{
    fprintf(out, "  %s  %s\n", s->name, label);
    fprintf(out, "       %" PRIu64 " lines, %zu distinct alerts, %" PRIu64
                 " compared; %" PRIu64 " duplicates (redelivered, counted once), %" PRIu64
                 " withdrawn (RETRACT), %" PRIu64 " retractions without alert",
            s->lines, s->n, s->compared, s->dups, s->withdrawn, s->unmatched_retracts);
    if (s->ignored)
        fprintf(out, ", %" PRIu64 " in ignored rules", s->ignored);
    if (s->out_of_period)
        fprintf(out, ", %" PRIu64 " outside the period", s->out_of_period);
    if (s->conflicts)
        fprintf(out, ", %" PRIu64 " CONFLICTING (same jr_id, other content)", s->conflicts);
    if (s->bad)
        fprintf(out, ", %" PRIu64 " BAD LINES", s->bad);
    fputs("\n", out);
}

/* The count and amount columns of both tables. */
static const char *const num_heads[] = {"both", "only_A", "only_B", "changed"};
static const char *const amt_heads[] = {"amount_only_A", "amount_only_B", "amount_changed"};
#define NUM_W 7
#define AMT_W 14

static void put_counts(FILE *out, const struct cmp_group *g, int with_changed_amount)
{
    put_u64(out, g->both, NUM_W);
    put_u64(out, g->only_a, NUM_W);
    put_u64(out, g->only_b, NUM_W);
    put_u64(out, g->changed, NUM_W);
    put_fen(out, g->fen_only_a, AMT_W);
    put_fen(out, g->fen_only_b, AMT_W);
    if (with_changed_amount)
        put_fen(out, amount_changed(g) == INT64_MAX ? 0 : amount_changed(g), AMT_W);
    fputs("\n", out);
}

static void put_heads(FILE *out, int with_changed_amount)
{
    for (size_t i = 0; i < FG_ARRAY_LEN(num_heads); i++) {
        fputs("  ", out);
        put_right(out, num_heads[i], NUM_W);
    }
    for (size_t i = 0; i < (with_changed_amount ? 3u : 2u); i++) {
        fputs("  ", out);
        put_right(out, amt_heads[i], AMT_W);
    }
    fputs("\n", out);
}

static void print_rules(FILE *out, const struct cmp *c)
{
    size_t wk = strlen("total"), wn = strlen("name");

    for (size_t i = 0; i < c->rules.n; i++) {
        size_t k = disp_width(c->rules.v[i]->key), n = disp_width(c->rules.v[i]->name);
        wk = k > wk ? k : wk;
        wn = n > wn ? n : wn;
    }
    fputs("\n按规则 By rule (amounts in yuan)\n", out);
    put_left(out, "rule", wk);
    fputs("  ", out);
    put_left(out, "name", wn);
    put_heads(out, 0);
    for (size_t i = 0; i < c->rules.n; i++) {
        const struct cmp_group *g = c->rules.v[i];
        put_left(out, g->key, wk);
        fputs("  ", out);
        put_left(out, g->name ? g->name : "", wn);
        put_counts(out, g, 0);
    }
    put_left(out, "total", wk);
    fputs("  ", out);
    put_left(out, "", wn);
    put_counts(out, &c->total, 0);
}

static void print_insts(FILE *out, const struct cmp *c, size_t top)
{
    size_t shown = top && top < c->insts.n ? top : c->insts.n, wk = strlen("fixmedins_code");
    size_t differing = 0;

    for (size_t i = 0; i < c->insts.n; i++) {
        size_t k = disp_width(c->insts.v[i]->key);
        wk = k > wk ? k : wk;
        differing += differences(c->insts.v[i]) != 0;
    }
    fprintf(out, "\n按机构 By institution, ranked by amount changed (%zu of %zu institutions "
                 "differ; amount_changed = only_A + only_B + |B - A| of changed)\n",
            differing, c->insts.n);
    fputs("rank  ", out);
    put_left(out, "fixmedins_code", wk);
    put_heads(out, 1);
    for (size_t i = 0; i < shown; i++) {
        fprintf(out, "%4zu  ", i + 1);
        put_left(out, c->insts.v[i]->key, wk);
        put_counts(out, c->insts.v[i], 1);
    }
    if (shown < c->insts.n)
        fprintf(out, "  ... %zu more institutions (--top 0 lists all)\n", c->insts.n - shown);
}

enum example_kind { EX_PLAIN, EX_CHANGED, EX_CONFLICT };

/* One example line: jr_id, rule, institution, amount, event time, and for
 * a changed alert the fields that differ (b is B's version). */
static void print_example(FILE *out, const struct cmp_alert *a, const struct cmp_alert *b,
                          enum example_kind kind)
{
    const struct fg_alert_rec *r = &a->rec;
    char amt[32], amt_b[32];

    fprintf(out, "  %s  %-20s %-14s %12s  %s", r->jr_id, r->rule_id ? r->rule_id : "-",
            r->fixmedins_code ? r->fixmedins_code : "-", yuan(r->fen, amt, sizeof(amt)),
            r->event_time ? r->event_time : "-");
    if (kind == EX_CHANGED) {
        json_t *f = diff_fields(r, &b->rec), *v;
        size_t i;
        fputs("  fields:", out);
        json_array_foreach(f, i, v)
            fprintf(out, "%s%s", i ? "," : " ", json_string_value(v));
        if (r->fen != b->rec.fen)
            fprintf(out, "  vola_amt %s -> %s", amt, yuan(b->rec.fen, amt_b, sizeof(amt_b)));
        json_decref(f);
    } else if (kind == EX_CONFLICT) {
        fprintf(out, "  in %s", conflict_where(a, b));
    }
    fputs("\n", out);
}

static void print_list(FILE *out, const char *title, const struct cmp_list *l,
                       enum example_kind kind)
{
    size_t shown = l->n < CMP_EXAMPLES ? l->n : CMP_EXAMPLES;

    if (!l->n)
        return;
    fprintf(out, "\n%s: %zu", title, l->n);
    if (shown < l->n)
        fprintf(out, " (first %zu by jr_id)", shown);
    fputs("\n", out);
    for (size_t i = 0; i < shown; i++)
        print_example(out, l->v[i], l->w[i], kind);
}

static void print_human(FILE *out, const struct cmp *c, const struct cmp_opts *o,
                        const char *labels[2])
{
    char t1[40], t2[40], amt[48];

    fputs("fundguard compare\n", out);
    print_side(out, &c->side[0], labels[0]);
    print_side(out, &c->side[1], labels[1]);
    if (o->cli.since != INT64_MIN || o->cli.until != INT64_MAX)
        fprintf(out, "  period (event_time): %s .. %s (end excluded)\n",
                o->cli.since != INT64_MIN ? fg_time_format_iso(o->cli.since, t1, sizeof(t1)) : "-",
                o->cli.until != INT64_MAX ? fg_time_format_iso(o->cli.until, t2, sizeof(t2)) : "-");
    if (o->nignore) {
        fputs("  ignored rules:", out);
        for (size_t i = 0; i < o->nignore; i++)
            fprintf(out, " %s", o->ignore[i]);
        fputs("\n", out);
    }
    fprintf(out, "\n结果 Result: %s: %" PRIu64 " in both, %" PRIu64 " only in A, %" PRIu64
                 " only in B, %" PRIu64 " changed",
            identical(c) ? "一致 IDENTICAL" : "不一致 DIFFERENT", c->total.both,
            c->total.only_a, c->total.only_b, c->total.changed);
    if (c->conflicts.n)
        fprintf(out, ", %zu conflicting", c->conflicts.n);
    if (c->side[0].bad + c->side[1].bad)
        fprintf(out, ", %" PRIu64 " bad lines", c->side[0].bad + c->side[1].bad);
    fprintf(out, "\n  net amount B - A: %s yuan\n",
            yuan_grouped(c->total.fen_only_b - c->total.fen_only_a + c->total.fen_changed_net,
                         amt, sizeof(amt)));
    if (o->by_rule)
        print_rules(out, c);
    if (o->by_inst)
        print_insts(out, c, (size_t)o->top);
    print_list(out, "仅在 A Only in A", &c->only_a, EX_PLAIN);
    print_list(out, "仅在 B Only in B", &c->only_b, EX_PLAIN);
    print_list(out, "内容不同 Changed (A's alert; fields that differ in B)", &c->changed,
               EX_CHANGED);
    print_list(out, "同一来源内容冲突 Conflicting within a source (left out on both sides)",
               &c->conflicts, EX_CONFLICT);
}

/* ---- JSON output ---- */

static json_t *json_yuan(int64_t fen)
{
    char amt[32];

    return json_string(yuan(fen, amt, sizeof(amt)));
}

static json_t *json_side(const struct cmp_side *s, const char *label)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "source", label, "lines", (json_int_t)s->lines, "alerts",
                     (json_int_t)s->n, "compared", (json_int_t)s->compared, "duplicates",
                     (json_int_t)s->dups, "withdrawn", (json_int_t)s->withdrawn,
                     "retractions", (json_int_t)s->retracts.n, "retractions_without_alert",
                     (json_int_t)s->unmatched_retracts, "ignored", (json_int_t)s->ignored,
                     "out_of_period", (json_int_t)s->out_of_period, "conflicts",
                     (json_int_t)s->conflicts, "conflict_lines", (json_int_t)s->conflict_lines,
                     "bad_lines", (json_int_t)s->bad);
}

static json_t *json_group(const struct cmp_group *g, const char *key_name, const char *name)
{
    json_t *o = json_object();

    if (key_name)
        json_object_set_new(o, key_name, json_string(g->key));
    if (name)
        json_object_set_new(o, name, json_string(g->name ? g->name : ""));
    json_object_set_new(o, "both", json_integer((json_int_t)g->both));
    json_object_set_new(o, "only_a", json_integer((json_int_t)g->only_a));
    json_object_set_new(o, "only_b", json_integer((json_int_t)g->only_b));
    json_object_set_new(o, "changed", json_integer((json_int_t)g->changed));
    json_object_set_new(o, "amount_only_a", json_yuan(g->fen_only_a));
    json_object_set_new(o, "amount_only_b", json_yuan(g->fen_only_b));
    json_object_set_new(o, "amount_changed_net", json_yuan(g->fen_changed_net));
    json_object_set_new(o, "amount_changed", json_yuan(amount_changed(g)));
    return o;
}

static json_t *json_examples(const struct cmp_list *l, enum example_kind kind)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < l->n && i < CMP_EXAMPLES; i++) {
        const struct fg_alert_rec *r = &l->v[i]->rec;
        json_t *e = json_pack("{s:s, s:s?, s:s?, s:o, s:s?}", "jr_id", r->jr_id, "rule_id",
                              r->rule_id, "fixmedins_code", r->fixmedins_code, "vola_amt",
                              json_yuan(r->fen), "event_time", r->event_time);
        if (kind == EX_CHANGED) {
            json_object_set_new(e, "vola_amt_b", json_yuan(l->w[i]->rec.fen));
            json_object_set_new(e, "fields", diff_fields(r, &l->w[i]->rec));
        } else if (kind == EX_CONFLICT) {
            json_object_set_new(e, "in", json_string(conflict_where(l->v[i], l->w[i])));
        }
        json_array_append_new(arr, e);
    }
    return arr;
}

static int print_json(FILE *out, const struct cmp *c, const struct cmp_opts *o,
                      const char *labels[2])
{
    json_t *root = json_object(), *arr, *filt;
    char t[40], *text;
    int rc;

    json_object_set_new(root, "schema", json_string("fundguard.compare.v1"));
    json_object_set_new(root, "identical", json_boolean(identical(c)));
    json_object_set_new(root, "a", json_side(&c->side[0], labels[0]));
    json_object_set_new(root, "b", json_side(&c->side[1], labels[1]));
    filt = json_object();
    json_object_set_new(filt, "since",
                        o->cli.since != INT64_MIN
                            ? json_string(fg_time_format_iso(o->cli.since, t, sizeof(t)))
                            : json_null());
    json_object_set_new(filt, "until",
                        o->cli.until != INT64_MAX
                            ? json_string(fg_time_format_iso(o->cli.until, t, sizeof(t)))
                            : json_null());
    arr = json_array();
    for (size_t i = 0; i < o->nignore; i++)
        json_array_append_new(arr, json_string(o->ignore[i]));
    json_object_set_new(filt, "ignore_rules", arr);
    json_object_set_new(root, "filter", filt);
    json_object_set_new(root, "total", json_group(&c->total, NULL, NULL));
    json_object_set_new(json_object_get(root, "total"), "conflicts",
                        json_integer((json_int_t)c->conflicts.n));
    arr = json_array();
    for (size_t i = 0; i < c->rules.n; i++)
        json_array_append_new(arr, json_group(c->rules.v[i], "rule_id", "rule_name"));
    json_object_set_new(root, "rules", arr);
    arr = json_array();
    for (size_t i = 0; i < c->insts.n; i++)
        json_array_append_new(arr, json_group(c->insts.v[i], "fixmedins_code", NULL));
    json_object_set_new(root, "institutions", arr);
    json_object_set_new(root, "examples",
                        json_pack("{s:o, s:o, s:o, s:o}", "only_a",
                                  json_examples(&c->only_a, EX_PLAIN), "only_b",
                                  json_examples(&c->only_b, EX_PLAIN), "changed",
                                  json_examples(&c->changed, EX_CHANGED), "conflicts",
                                  json_examples(&c->conflicts, EX_CONFLICT)));
    text = json_dumps(root, JSON_INDENT(2));
    rc = text && fputs(text, out) >= 0 && fputs("\n", out) >= 0 ? 0 : -1;
    free(text);
    json_decref(root);
    return rc;
}

/* ---- the command ---- */

static int usage_compare(FILE *out)
{
    fprintf(out,
            "usage: fundguard compare A B [-c FILE] [--set KEY=VALUE...] [--since TIME]\n"
            "         [--until TIME] [--ignore-rule RULE...] [--by rule|institution]\n"
            "         [--top N] [--json]\n"
            "  A, B: alert sources: a file (JSON Lines, '-' = stdin, .gz accepted) or\n"
            "        kafka:TOPIC (read up to its current end; Kafka settings from -c FILE,\n"
            "        default config/fundguard.json)\n"
            "  --since/--until  compare alerts whose event_time is in [since, until)\n"
            "                   (ISO 8601, 'yyyy-MM-dd HH:mm:ss' or 'yyyy-MM-dd', CST)\n"
            "  --by             only the table per rule, or only per institution\n"
            "  --top N          institutions listed (default %d, 0 = all)\n"
            "  exit: 0 identical, 1 different, 2 usage, 65 unreadable input, 78 bad config\n",
            CMP_TOP_DEFAULT);
    return out == stderr ? FG_EXIT_USAGE : FG_EXIT_OK;
}

/* Fill o from argv. Returns 0, or -1 after printing why. */
static int parse_opts(int argc, char **argv, struct cmp_opts *o)
{
    int npos = 0;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        int r = fg_alert_cli_arg(&o->cli, "compare", 1, argc, argv, &i);

        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (strcmp(a, "--ignore-rule") == 0 && has_val) {
            o->ignore = fg_realloc(o->ignore, (o->nignore + 1) * sizeof(*o->ignore));
            o->ignore[o->nignore++] = argv[++i];
        } else if (strcmp(a, "--by") == 0 && has_val) {
            i++;
            o->by_rule = strcmp(argv[i], "rule") == 0;
            o->by_inst = strcmp(argv[i], "institution") == 0;
            if (!o->by_rule && !o->by_inst) {
                fprintf(stderr, "fundguard compare: --by expects rule or institution\n");
                return -1;
            }
        } else if (strcmp(a, "--top") == 0 && has_val) {
            char *end;
            errno = 0;
            o->top = strtol(argv[++i], &end, 10);
            if (errno || end == argv[i] || *end || o->top < 0) {
                fprintf(stderr, "fundguard compare: --top expects a number >= 0\n");
                return -1;
            }
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "fundguard compare: unknown or incomplete option '%s'\n", a);
            return -1;
        } else if (npos < 2) {
            o->spec[npos++] = a;
        } else {
            fprintf(stderr, "fundguard compare: more than two sources ('%s')\n", a);
            return -1;
        }
    }
    if (npos != 2) {
        fprintf(stderr, "fundguard compare: two sources are required\n");
        return -1;
    }
    if (strcmp(o->spec[0], "-") == 0 && strcmp(o->spec[1], "-") == 0) {
        fprintf(stderr, "fundguard compare: only one source can be stdin\n");
        return -1;
    }
    if (fg_alert_cli_check(&o->cli, "compare"))
        return -1;
    return 0;
}

static int run_compare(struct cmp *c, const struct cmp_opts *o)
{
    struct fg_config *cfg = NULL;
    const char *labels[2];
    int code = FG_EXIT_OK;

    if (fg_alert_source_is_kafka(o->spec[0]) || fg_alert_source_is_kafka(o->spec[1])) {
        cfg = fg_alert_cli_config(&o->cli, "compare");
        if (!cfg)
            return FG_EXIT_CONFIG;
    }
    for (int k = 0; k < 2 && !code; k++)
        code = side_read(&c->side[k], o, cfg);
    fg_config_free(cfg);
    if (code)
        return code;
    for (int k = 0; k < 2; k++) {
        side_select(&c->side[k], o);
        labels[k] = strcmp(o->spec[k], "-") == 0 ? "<stdin>" : o->spec[k];
    }
    settle_conflicts(c);
    classify(c);
    if (c->overflow) {
        fprintf(stderr, "fundguard compare: the amounts are too large to sum exactly in fen\n");
        return FG_EXIT_DATAERR;
    }
    if (c->rules.n)
        qsort(c->rules.v, c->rules.n, sizeof(*c->rules.v), cmp_rule);
    if (c->insts.n)
        qsort(c->insts.v, c->insts.n, sizeof(*c->insts.v), cmp_inst);
    list_sort(&c->only_a);
    list_sort(&c->only_b);
    list_sort(&c->changed);
    list_sort(&c->conflicts);
    if (o->json) {
        if (print_json(stdout, c, o, labels))
            return FG_EXIT_RUNTIME;
    } else {
        print_human(stdout, c, o, labels);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "fundguard compare: cannot write the output: %s\n", strerror(errno));
        return FG_EXIT_RUNTIME;
    }
    return identical(c) ? FG_EXIT_OK : FG_EXIT_RUNTIME;
}

int fg_cmd_compare(int argc, char **argv)
{
    struct cmp_opts o = {.cli = FG_ALERT_CLI_INIT, .by_rule = 1, .by_inst = 1,
                         .top = CMP_TOP_DEFAULT};
    struct cmp c;
    int code;

    if (argc == 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0))
        return usage_compare(stdout);
    if (parse_opts(argc, argv, &o)) {
        fg_alert_cli_fini(&o.cli);
        free(o.ignore);
        return usage_compare(stderr);
    }
    memset(&c, 0, sizeof(c));
    side_init(&c.side[0], "A", o.spec[0]);
    side_init(&c.side[1], "B", o.spec[1]);
    table_init(&c.rules);
    table_init(&c.insts);
    code = run_compare(&c, &o);
    list_fini(&c.only_a);
    list_fini(&c.only_b);
    list_fini(&c.changed);
    list_fini(&c.conflicts);
    table_fini(&c.rules);
    table_fini(&c.insts);
    side_fini(&c.side[0]);
    side_fini(&c.side[1]);
    fg_alert_cli_fini(&o.cli);
    free(o.ignore);
    return code;
}
