/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_event.c: nhsa.claim.v1 parsing and validation. Every rejection names
 * the field and what is wrong with it, because that reason is what an
 * operator reads in the dead-letter output.
 *
 * Two readers fill one table of the fields a claim uses (struct fields);
 * one validator (build) turns the table into the claim or a reason:
 *
 *  - the scanner: one pass over the bytes, no tree, no allocation per
 *    value. It is strict: it vouches for an input only when it can prove
 *    that Jansson would accept it too (standard JSON, valid UTF-8, no
 *    duplicate key at any depth, no number that overflows a double) and
 *    that every field it read holds what Jansson would have returned.
 *    Anything else -- invalid JSON, an escaped key, very deep nesting, an
 *    overlong number -- it leaves to
 *  - Jansson, which parses the input again and words the error.
 *
 * So the verdict and the reason never depend on which reader ran; the
 * unit tests and the fuzz harness check exactly that on every input.
 * Parsing is the replay's and the daemon's largest cost, and the scanner
 * reads a claim several times faster than Jansson builds its tree.
 */
#include "fg_event.h"
#include "fg_common.h"
#include "fg_fixed.h"
#include "fg_time.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FG_SCHEMA "nhsa.claim.v1"

/* ---- the fields a claim reads ---- */

#define ROOT_FIELDS(X)                                                         \
    X(R_SCHEMA, "schema") X(R_EVENT_ID, "event_id") X(R_EVENT_TYPE, "event_type") \
    X(R_EVENT_TIME, "event_time") X(R_FIXMEDINS_CODE, "fixmedins_code")         \
    X(R_HOSP_LV, "hosp_lv") X(R_MDTRTAREA_ADMVS, "mdtrtarea_admvs")             \
    X(R_SETL_ID, "setl_id") X(R_INIT_SETL_ID, "init_setl_id")                   \
    X(R_MDTRT_ID, "mdtrt_id") X(R_PSN_NO, "psn_no") X(R_GEND, "gend")           \
    X(R_BRDY, "brdy") X(R_INSUTYPE, "insutype") X(R_MED_TYPE, "med_type")       \
    X(R_BEGNTIME, "begntime") X(R_ENDTIME, "endtime") X(R_SETL_TIME, "setl_time") \
    X(R_FEEDETAIL, "feedetail")

#define LINE_FIELDS(X)                                                         \
    X(L_FEEDETL_SN, "feedetl_sn") X(L_INIT_FEEDETL_SN, "init_feedetl_sn")       \
    X(L_FEE_OCUR_TIME, "fee_ocur_time") X(L_HILIST_CODE, "hilist_code")         \
    X(L_HILIST_NAME, "hilist_name") X(L_LIST_TYPE, "list_type")                 \
    X(L_MED_CHRGITM_TYPE, "med_chrgitm_type") X(L_CHRGITM_LV, "chrgitm_lv")     \
    X(L_LMT_USED_FLAG, "lmt_used_flag") X(L_HOSP_APPR_FLAG, "hosp_appr_flag")   \
    X(L_PRIC, "pric") X(L_CNT, "cnt") X(L_FEE, "det_item_fee_sumamt")           \
    X(L_PRIC_UPLMT, "pric_uplmt_amt") X(L_INSCP, "inscp_amt")                   \
    X(L_OVERLMT, "overlmt_amt") X(L_PRD_DAYS, "prd_days")

#define AS_ENUM(e, name) e,
#define AS_NAME(e, name) name,
#define AS_LEN(e, name) sizeof(name) - 1,

/* The field order is the contract's (and every producer's we know): the
 * scanner tries the field after the last one it matched first. */
enum { ROOT_FIELDS(AS_ENUM) NROOT };
enum { LINE_FIELDS(AS_ENUM) NLINE };
static const char *const root_names[NROOT] = {ROOT_FIELDS(AS_NAME)};
static const char *const line_names[NLINE] = {LINE_FIELDS(AS_NAME)};
static const unsigned char root_lens[NROOT] = {ROOT_FIELDS(AS_LEN)};
static const unsigned char line_lens[NLINE] = {LINE_FIELDS(AS_LEN)};

/* A field's value as a reader found it. */
enum jv_type { JV_ABSENT = 0, JV_NULL, JV_STR, JV_NUM, JV_ARR, JV_OTHER };

struct jv {
    const char *s;   /* JV_STR: the decoded text, not NUL-terminated */
    size_t len;      /* JV_STR: bytes; JV_ARR: elements */
    double d;        /* JV_NUM */
    int type;
};

struct row {         /* one element of feedetail */
    struct jv f[NLINE];
    int is_obj;
};

struct fields {
    struct jv root[NROOT];
    struct row *rows;   /* root[R_FEEDETAIL].len of them when an array */
};

/* ---- validation: the table into a claim ---- */

struct pctx {
    char *why;
    size_t why_size;
    const struct jv *obj;        /* the object being read */
    const char *const *names;    /* its field names */
    char *next;                  /* where the claim's next string goes */
    long line;                   /* the feedetail index being read, or -1 */
};

static int fail(struct pctx *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct pctx *p, const char *key, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (p->line >= 0)
        snprintf(p->why, p->why_size, "feedetail[%ld].%s: %s", p->line, key, msg);
    else
        snprintf(p->why, p->why_size, "%s: %s", key, msg);
    return -1;
}

/* A string field. Absent or null gives *out NULL unless required. */
static int str_of(struct pctx *p, int f, int required, const struct jv **out)
{
    const struct jv *v = &p->obj[f];
    const char *key = p->names[f];

    *out = NULL;
    if (v->type == JV_ABSENT || v->type == JV_NULL) {
        if (required)
            return fail(p, key, "missing");
        return 0;
    }
    if (v->type != JV_STR)
        return fail(p, key, "not a string");
    if (memchr(v->s, '\0', v->len))
        return fail(p, key, "contains a NUL character");
    if (required && v->len == 0)
        return fail(p, key, "empty");
    *out = v;
    return 0;
}

/* A string field copied into the claim's block. */
static int get_str(struct pctx *p, int f, int required, const char **out)
{
    const struct jv *v;

    *out = NULL;
    if (str_of(p, f, required, &v))
        return -1;
    if (v) {
        memcpy(p->next, v->s, v->len);
        p->next[v->len] = '\0';
        *out = p->next;
        p->next += v->len + 1;
    }
    return 0;
}

/* A decimal amount, as a JSON string or number, into a scaled integer. */
static int get_dec(struct pctx *p, int f, int scale, int required, int64_t *out,
                   int *present)
{
    const struct jv *v = &p->obj[f];
    const char *key = p->names[f];
    char tmp[64];
    const char *s;
    size_t len;
    int rc;

    if (present)
        *present = 0;
    if (v->type == JV_ABSENT || v->type == JV_NULL) {
        if (required)
            return fail(p, key, "missing");
        return 0;
    }
    if (v->type == JV_STR) {
        s = v->s;
        len = v->len;
    } else if (v->type == JV_NUM) {
        /* A JSON number arrives as a double. Print it at the field's scale
         * and accept that decimal only if it reads back as the very same
         * double: then it is the amount the producer wrote. Otherwise the
         * number has more decimals than the field allows, or more digits
         * than a double carries, and the producer must send a string. */
        double d = v->d, back;
        if (!(d > -1e17 && d < 1e17))
            return fail(p, key, "out of range");
        snprintf(tmp, sizeof(tmp), "%.*f", scale, d);
        back = strtod(tmp, NULL);
        if (back < d || back > d)
            return fail(p, key, "more than %d decimals", scale);
        s = tmp;
        len = strlen(tmp);
    } else {
        return fail(p, key, "not a decimal");
    }
    rc = fg_fixed_parse(s, len, scale, out);
    if (rc != FG_FIXED_OK) {
        if (rc == FG_FIXED_TOO_PRECISE)
            return fail(p, key, "more than %d decimals", scale);
        return fail(p, key, "%s", fg_fixed_strerror(rc));
    }
    if (present)
        *present = 1;
    return 0;
}

static int get_time(struct pctx *p, int f, int required, int64_t *out, int *present)
{
    const struct jv *v;
    const char *why;

    if (present)
        *present = 0;
    if (str_of(p, f, required, &v))
        return -1;
    if (!v)
        return 0;
    if (fg_time_parse(v->s, v->len, out, &why))
        return fail(p, p->names[f], "%s", why);
    if (present)
        *present = 1;
    return 0;
}

static int parse_type(const char *s, enum fg_event_type *t)
{
    static const struct {
        const char *name;
        enum fg_event_type type;
    } types[] = {
        {"SETTLEMENT", FG_EV_SETTLEMENT},
        {"SETTLEMENT_REVOKE", FG_EV_SETTLEMENT_REVOKE},
        {"VISIT_OPEN", FG_EV_VISIT_OPEN},
        {"VISIT_CLOSE", FG_EV_VISIT_CLOSE},
    };

    for (size_t i = 0; i < FG_ARRAY_LEN(types); i++)
        if (strcmp(s, types[i].name) == 0) {
            *t = types[i].type;
            return 0;
        }
    return -1;
}

const char *fg_event_type_name(enum fg_event_type t)
{
    switch (t) {
    case FG_EV_SETTLEMENT: return "SETTLEMENT";
    case FG_EV_SETTLEMENT_REVOKE: return "SETTLEMENT_REVOKE";
    case FG_EV_VISIT_OPEN: return "VISIT_OPEN";
    case FG_EV_VISIT_CLOSE: return "VISIT_CLOSE";
    }
    return "UNKNOWN";
}

static int parse_line(struct pctx *p, const struct row *r, struct fg_line *l)
{
    int present;

    if (!r->is_obj) {
        snprintf(p->why, p->why_size, "feedetail[%ld]: not an object", p->line);
        return -1;
    }
    p->obj = r->f;
    p->names = line_names;
    if (get_str(p, L_FEEDETL_SN, 1, &l->feedetl_sn) ||
        get_str(p, L_INIT_FEEDETL_SN, 0, &l->init_feedetl_sn) ||
        get_time(p, L_FEE_OCUR_TIME, 1, &l->fee_time, NULL) ||
        get_str(p, L_HILIST_CODE, 1, &l->hilist_code) ||
        get_str(p, L_HILIST_NAME, 0, &l->hilist_name) ||
        get_str(p, L_LIST_TYPE, 0, &l->list_type) ||
        get_str(p, L_MED_CHRGITM_TYPE, 0, &l->med_chrgitm_type) ||
        get_str(p, L_CHRGITM_LV, 0, &l->chrgitm_lv) ||
        get_str(p, L_LMT_USED_FLAG, 0, &l->lmt_used_flag) ||
        get_str(p, L_HOSP_APPR_FLAG, 0, &l->hosp_appr_flag) ||
        get_dec(p, L_PRIC, FG_SCALE_PRICE, 1, &l->pric, NULL) ||
        get_dec(p, L_CNT, FG_SCALE_CNT, 1, &l->cnt, NULL) ||
        get_dec(p, L_FEE, FG_SCALE_MONEY, 1, &l->fee, NULL))
        return -1;
    if (get_dec(p, L_PRIC_UPLMT, FG_SCALE_PRICE, 0, &l->pric_uplmt, &present))
        return -1;
    l->has |= present ? FG_HAS_PRIC_UPLMT : 0;
    if (get_dec(p, L_INSCP, FG_SCALE_MONEY, 0, &l->inscp, &present))
        return -1;
    l->has |= present ? FG_HAS_INSCP : 0;
    if (get_dec(p, L_OVERLMT, FG_SCALE_MONEY, 0, &l->overlmt, &present))
        return -1;
    l->has |= present ? FG_HAS_OVERLMT : 0;
    if (get_dec(p, L_PRD_DAYS, 2, 0, &l->prd_days, &present))
        return -1;
    l->has |= present ? FG_HAS_PRD_DAYS : 0;
    if (l->pric < 0)
        return fail(p, "pric", "negative");
    if (l->cnt == 0)
        return fail(p, "cnt", "zero");
    return 0;
}

static size_t strs_size(const struct jv *v, size_t n)
{
    size_t t = 0;

    for (size_t i = 0; i < n; i++)
        t += v[i].type == JV_STR ? v[i].len + 1 : 0;
    return t;
}

/*
 * The claim, its lines and its strings are one allocation, sized from the
 * table before anything is read (every string field counted, kept or not)
 * so it can be filled in place; on a rejection it is freed whole.
 */
static int build(const struct fields *in, struct fg_claim **out, char *why, size_t why_size)
{
    const struct jv *fd = &in->root[R_FEEDETAIL];
    size_t nrows = fd->type == JV_ARR ? fd->len : 0;
    size_t total = sizeof(struct fg_claim) + nrows * sizeof(struct fg_line) +
                   strs_size(in->root, NROOT);
    struct pctx p = {why, why_size, in->root, root_names, NULL, -1};
    const struct jv *schema, *brdy;
    struct fg_claim *c;
    const char *dwhy;
    int present, setl;

    for (size_t i = 0; i < nrows; i++)
        total += strs_size(in->rows[i].f, NLINE);
    c = fg_calloc(1, total);
    c->lines = (struct fg_line *)(void *)(c + 1);
    p.next = (char *)(c->lines + nrows);

    if (str_of(&p, R_SCHEMA, 1, &schema))
        goto fail;
    if (schema->len != strlen(FG_SCHEMA) || memcmp(schema->s, FG_SCHEMA, schema->len) != 0) {
        fail(&p, "schema", "expected \"%s\"", FG_SCHEMA);
        goto fail;
    }
    if (get_str(&p, R_EVENT_ID, 1, &c->event_id) ||
        get_str(&p, R_EVENT_TYPE, 1, &c->event_type_text))
        goto fail;
    if (parse_type(c->event_type_text, &c->type)) {
        fail(&p, "event_type", "unknown event type");
        goto fail;
    }
    if (get_time(&p, R_EVENT_TIME, 1, &c->event_time, NULL) ||
        get_str(&p, R_PSN_NO, 1, &c->psn_no) ||
        get_str(&p, R_FIXMEDINS_CODE, 1, &c->fixmedins_code))
        goto fail;

    setl = c->type == FG_EV_SETTLEMENT;
    if (get_str(&p, R_SETL_ID, setl || c->type == FG_EV_SETTLEMENT_REVOKE, &c->setl_id) ||
        get_str(&p, R_MDTRT_ID, setl, &c->mdtrt_id) ||
        get_str(&p, R_MED_TYPE, setl, &c->med_type) ||
        get_str(&p, R_INIT_SETL_ID, 0, &c->init_setl_id) ||
        get_str(&p, R_HOSP_LV, 0, &c->hosp_lv) ||
        get_str(&p, R_MDTRTAREA_ADMVS, 0, &c->mdtrtarea_admvs) ||
        get_str(&p, R_GEND, 0, &c->gend) ||
        get_str(&p, R_INSUTYPE, 0, &c->insutype))
        goto fail;
    if (get_time(&p, R_SETL_TIME, setl, &c->setl_time, &present))
        goto fail;
    c->has |= present ? FG_HAS_SETL_TIME : 0;
    if (get_time(&p, R_BEGNTIME, 0, &c->begntime, &present))
        goto fail;
    c->has |= present ? FG_HAS_BEGNTIME : 0;
    if (get_time(&p, R_ENDTIME, 0, &c->endtime, &present))
        goto fail;
    c->has |= present ? FG_HAS_ENDTIME : 0;
    if (str_of(&p, R_BRDY, 0, &brdy))
        goto fail;
    if (brdy) {
        if (fg_date_parse(brdy->s, brdy->len, &c->brdy_day, &dwhy)) {
            fail(&p, "brdy", "%s", dwhy);
            goto fail;
        }
        c->has |= FG_HAS_BRDY;
    }

    if (setl && (fd->type == JV_ABSENT || fd->type == JV_NULL)) {
        fail(&p, "feedetail", "missing");
        goto fail;
    }
    if (fd->type != JV_ABSENT && fd->type != JV_NULL) {
        if (fd->type != JV_ARR) {
            fail(&p, "feedetail", "not an array");
            goto fail;
        }
        c->nlines = nrows;
        for (size_t i = 0; i < nrows; i++) {
            p.line = (long)i;
            if (parse_line(&p, &in->rows[i], &c->lines[i]))
                goto fail;
        }
    }
    *out = c;
    return 0;

fail:
    free(c);
    return -1;
}

/* ---- reader 1: Jansson ---- */

static void jv_of(json_t *v, struct jv *out)
{
    memset(out, 0, sizeof(*out));
    if (!v) {
        out->type = JV_ABSENT;
    } else if (json_is_null(v)) {
        out->type = JV_NULL;
    } else if (json_is_string(v)) {
        out->type = JV_STR;
        out->s = json_string_value(v);
        out->len = json_string_length(v);
    } else if (json_is_real(v)) {
        out->type = JV_NUM;
        out->d = json_real_value(v);
    } else if (json_is_integer(v)) {
        /* Not with JSON_DECODE_INT_AS_REAL; read as the scanner would. */
        out->type = JV_NUM;
        out->d = (double)json_integer_value(v);
    } else if (json_is_array(v)) {
        out->type = JV_ARR;
        out->len = json_array_size(v);
    } else {
        out->type = JV_OTHER;
    }
}

int fg_claim_parse_jansson(const char *buf, size_t len, struct fg_claim **out, char *why,
                           size_t why_size)
{
    struct fields f;
    json_error_t jerr;
    json_t *root, *fd;
    int rc;

    *out = NULL;
    /* Integers are decoded as reals so a huge number is reported against
     * its field ("out of range") rather than as unparseable JSON; every
     * integer a valid amount can hold is exact in a double. */
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                      &jerr);
    if (!root) {
        snprintf(why, why_size, "invalid JSON at column %d: %s", jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(why, why_size, "event is not a JSON object");
        json_decref(root);
        return -1;
    }
    for (int i = 0; i < NROOT; i++)
        jv_of(json_object_get(root, root_names[i]), &f.root[i]);
    f.rows = NULL;
    fd = json_object_get(root, "feedetail");
    if (f.root[R_FEEDETAIL].type == JV_ARR) {
        f.rows = fg_calloc(f.root[R_FEEDETAIL].len ? f.root[R_FEEDETAIL].len : 1,
                           sizeof(*f.rows));
        for (size_t i = 0; i < f.root[R_FEEDETAIL].len; i++) {
            json_t *e = json_array_get(fd, i);
            f.rows[i].is_obj = json_is_object(e);
            for (int k = 0; k < NLINE && f.rows[i].is_obj; k++)
                jv_of(json_object_get(e, line_names[k]), &f.rows[i].f[k]);
        }
    }
    rc = build(&f, out, why, why_size);
    free(f.rows);
    json_decref(root);
    return rc;
}

/* ---- reader 2: the scanner ---- */

#define SCAN_MAX_DEPTH 32    /* deeper: Jansson's (2048) decides */
#define SCAN_MAX_KEYS 32     /* unknown keys per object checked for duplicates */
#define SCAN_UNSURE (-1)

struct scan {
    const char *p, *end;
    size_t buflen;
    char *scratch, *sp;      /* decoded escaped strings; at most buflen bytes */
    struct row *rows;
    size_t nrows, caprows;
};

static int scan_value(struct scan *s, int depth);

static void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* The length of the UTF-8 sequence at p, or 0 if it is not one Jansson
 * accepts (overlong forms, surrogates and code points past U+10FFFF are
 * not). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;

    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

static long hex4(const char *p, const char *end)
{
    long v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static char *utf8_put(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* The rest of a string from p, which holds its first escape; the text
 * from start to p is plain. Decoded into the scratch buffer. */
static int scan_escaped(struct scan *s, struct jv *v, const char *start, const char *p)
{
    const char *end = s->end;
    char *o;

    if (!s->scratch) {
        s->scratch = s->sp = malloc(s->buflen);
        if (!s->scratch)
            return SCAN_UNSURE;
    }
    o = s->sp;
    memcpy(o, start, (size_t)(p - start));
    o += p - start;
    while (p < end) {
        unsigned c = (unsigned char)*p;
        if (c == '"') {
            v->s = s->sp;
            v->len = (size_t)(o - s->sp);
            s->sp = o;
            s->p = p + 1;
            return 0;
        }
        if (c < 0x20)
            return SCAN_UNSURE;
        if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
            if (!n)
                return SCAN_UNSURE;
            memcpy(o, p, n);
            o += n;
            p += n;
            continue;
        }
        if (c != '\\') {
            *o++ = (char)c;
            p++;
            continue;
        }
        if (end - p < 2)
            return SCAN_UNSURE;
        switch (p[1]) {
        case '"': case '\\': case '/': *o++ = p[1]; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            long cp = hex4(p + 2, end), lo;
            if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                return SCAN_UNSURE;   /* \u0000, bad hex, a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
                    return SCAN_UNSURE;
                lo = hex4(p + 8, end);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return SCAN_UNSURE;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            o = utf8_put(o, (unsigned long)cp);
            p += 4;
            break;
        }
        default:
            return SCAN_UNSURE;
        }
        p += 2;
    }
    return SCAN_UNSURE;
}

/* The string at s->p (a quote). A key must be plain: an escaped key is
 * left to Jansson (it could spell a field's name, or repeat a key). */
static int scan_str(struct scan *s, struct jv *v, int key)
{
    const char *start = s->p + 1, *p = start, *end = s->end;

    for (;;) {
        while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80 && *p != '"' &&
               *p != '\\')
            p++;
        if (p >= end)
            return SCAN_UNSURE;
        if (*p == '"')
            break;
        if (*p == '\\')
            return key ? SCAN_UNSURE : scan_escaped(s, v, start, p);
        if ((unsigned char)*p < 0x20)
            return SCAN_UNSURE;
        size_t n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
        if (!n)
            return SCAN_UNSURE;
        p += n;
    }
    v->s = start;
    v->len = (size_t)(p - start);
    s->p = p + 1;
    return 0;
}

static int is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* A number in JSON's grammar. Its value (for v) is strtod's, as
 * Jansson's; one that overflows a double is Jansson's error to report. */
static int scan_num(struct scan *s, struct jv *v)
{
    const char *p = s->p, *end = s->end;
    char tmp[64];
    size_t len;
    int exp = 0;
    double d;

    if (p < end && *p == '-')
        p++;
    if (!is_digit(p, end))
        return SCAN_UNSURE;
    if (*p == '0')
        p++;   /* a digit after it ends the scan at the caller */
    else
        while (is_digit(p, end))
            p++;
    if (p < end && *p == '.') {
        if (!is_digit(++p, end))
            return SCAN_UNSURE;
        while (is_digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        exp = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(p, end))
            return SCAN_UNSURE;
        while (is_digit(p, end))
            p++;
    }
    len = (size_t)(p - s->p);
    /* Twenty digits without an exponent cannot overflow; read the rest. */
    if (v || exp || len > 20) {
        if (len >= sizeof(tmp))
            return SCAN_UNSURE;
        memcpy(tmp, s->p, len);
        tmp[len] = '\0';
        errno = 0;
        d = strtod(tmp, NULL);
        if (errno == ERANGE)
            return SCAN_UNSURE;
        if (v) {
            v->type = JV_NUM;
            v->d = d;
        }
    }
    s->p = p;
    return 0;
}

static int scan_word(struct scan *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return SCAN_UNSURE;
    s->p += n;   /* a letter after it ends the scan at the caller */
    return 0;
}

/* Index of the known field named k, or -1; field hint first. */
static int lookup(const char *const *names, const unsigned char *lens, int n, int hint,
                  const char *k, size_t len)
{
    if (hint < n && lens[hint] == len && memcmp(names[hint], k, len) == 0)
        return hint;
    for (int i = 0; i < n; i++)
        if (lens[i] == len && memcmp(names[i], k, len) == 0)
            return i;
    return -1;
}

/* A known field's value: strings, nulls and numbers are kept; anything
 * else is checked and noted as the wrong kind. */
static int scan_field(struct scan *s, struct jv *v, int depth)
{
    switch (*s->p) {
    case '"':
        v->type = JV_STR;
        return scan_str(s, v, 0);
    case 'n':
        v->type = JV_NULL;
        return scan_word(s, "null", 4);
    case '[':
        v->type = JV_ARR;
        return scan_value(s, depth);
    case '{': case 't': case 'f':
        v->type = JV_OTHER;
        return scan_value(s, depth);
    default:
        return scan_num(s, v);
    }
}

static int scan_rows(struct scan *s, int depth);

/* The opening of the object or array at s->p: SCAN_UNSURE past the depth
 * limit, 1 when it is empty (closed already), else 0. */
static int scan_open(struct scan *s, int depth, char close)
{
    if (depth > SCAN_MAX_DEPTH)
        return SCAN_UNSURE;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 1;
    }
    return s->p < s->end ? 0 : SCAN_UNSURE;
}

/* After a member or element: 1 at the closing character, 0 at a comma
 * with more to read (both consumed), SCAN_UNSURE at anything else. */
static int scan_next(struct scan *s, char close)
{
    ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 1;
    }
    if (s->p >= s->end || *s->p != ',')
        return SCAN_UNSURE;
    s->p++;
    ws(s);
    return s->p < s->end ? 0 : SCAN_UNSURE;
}

/*
 * The object at s->p. Known fields (names[0..n)) go to slots, the field
 * named rows_at (feedetail) to the row table when it is an array; every
 * other member is checked and skipped. A repeated key, known or not, is
 * Jansson's error (JSON_REJECT_DUPLICATES).
 */
static int scan_object(struct scan *s, int depth, const char *const *names,
                       const unsigned char *lens, int n, struct jv *slots, int rows_at)
{
    struct jv other[SCAN_MAX_KEYS];   /* the unknown keys so far */
    size_t nother = 0;
    int hint = 0, rc = scan_open(s, depth, '}');

    while (rc == 0) {
        struct jv key;
        int f;

        if (s->p >= s->end || *s->p != '"' || scan_str(s, &key, 1))
            return SCAN_UNSURE;
        ws(s);
        if (s->p >= s->end || *s->p != ':')
            return SCAN_UNSURE;
        s->p++;
        ws(s);
        if (s->p >= s->end)
            return SCAN_UNSURE;
        f = n ? lookup(names, lens, n, hint, key.s, key.len) : -1;
        if (f >= 0) {
            if (slots[f].type != JV_ABSENT)
                return SCAN_UNSURE;
            hint = f + 1;
            if (f == rows_at && *s->p == '[') {
                rc = scan_rows(s, depth + 1);
                slots[f].type = JV_ARR;
                slots[f].len = s->nrows;
            } else {
                rc = scan_field(s, &slots[f], depth);
            }
        } else {
            for (size_t j = 0; j < nother; j++)
                if (other[j].len == key.len && memcmp(other[j].s, key.s, key.len) == 0)
                    return SCAN_UNSURE;
            if (nother == SCAN_MAX_KEYS)
                return SCAN_UNSURE;
            other[nother++] = key;
            rc = scan_value(s, depth);
        }
        if (rc == 0)
            rc = scan_next(s, '}');
    }
    return rc == 1 ? 0 : SCAN_UNSURE;
}

/* The array at s->p: its elements through each (rows: objects into the
 * row table; otherwise checked and skipped). */
static int scan_array(struct scan *s, int depth, int rows)
{
    int rc = scan_open(s, depth, ']');

    while (rc == 0) {
        if (rows) {
            struct row *r;
            FG_VEC_GROW(s->rows, s->nrows, s->caprows, 16);
            r = &s->rows[s->nrows++];
            memset(r, 0, sizeof(*r));
            r->is_obj = *s->p == '{';
            if (r->is_obj)
                rc = scan_object(s, depth + 1, line_names, line_lens, NLINE, r->f, -1);
            else
                rc = scan_value(s, depth);
        } else {
            rc = scan_value(s, depth);
        }
        if (rc == 0)
            rc = scan_next(s, ']');
    }
    return rc == 1 ? 0 : SCAN_UNSURE;
}

static int scan_rows(struct scan *s, int depth)
{
    return scan_array(s, depth, 1);
}

/* Any value at s->p, checked and skipped. */
static int scan_value(struct scan *s, int depth)
{
    struct jv v;

    switch (*s->p) {
    case '"': return scan_str(s, &v, 0);
    case '{': return scan_object(s, depth + 1, NULL, NULL, 0, NULL, -1);
    case '[': return scan_array(s, depth + 1, 0);
    case 't': return scan_word(s, "true", 4);
    case 'f': return scan_word(s, "false", 5);
    case 'n': return scan_word(s, "null", 4);
    default: return scan_num(s, NULL);
    }
}

int fg_claim_parse_scan(const char *buf, size_t len, struct fg_claim **out, char *why,
                        size_t why_size)
{
    struct scan s = {.p = buf, .end = buf + len, .buflen = len};
    struct fields f;
    int rc = FG_CLAIM_UNSURE;

    *out = NULL;
    memset(&f, 0, sizeof(f));
    ws(&s);
    if (s.p < s.end && *s.p == '{' &&
        scan_object(&s, 1, root_names, root_lens, NROOT, f.root, R_FEEDETAIL) == 0) {
        ws(&s);
        if (s.p == s.end) {
            f.rows = s.rows;
            rc = build(&f, out, why, why_size);
        }
    }
    free(s.rows);
    free(s.scratch);
    return rc;
}

int fg_claim_parse(const char *buf, size_t len, struct fg_claim **out, char *why,
                   size_t why_size)
{
    int rc = fg_claim_parse_scan(buf, len, out, why, why_size);

    if (rc == FG_CLAIM_UNSURE)
        rc = fg_claim_parse_jansson(buf, len, out, why, why_size);
    return rc;
}

void fg_claim_free(struct fg_claim *c)
{
    /* One block: the claim, its lines and its strings (see build). */
    free(c);
}
