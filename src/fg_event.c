/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_event.c: nhsa.claim.v1 parsing and validation with Jansson. Every
 * rejection names the field and what is wrong with it, because that reason
 * is what an operator reads in the dead-letter output.
 */
#include "fg_event.h"
#include "fg_common.h"
#include "fg_fixed.h"
#include "fg_time.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Jansson allocates every node, key and string of a tree apart and frees
 * them one by one: about a tenth of a parse. While a claim is parsed, its
 * thread's allocations go to a bump arena instead, dropped whole when the
 * tree is freed (the claim is copied into one block before: flatten()).
 * The allocator functions are Jansson's for the whole process (set before
 * main, while there is one thread); outside a parse they are malloc/free.
 * A sanitizer build keeps plain malloc, so the parser's reads of the tree
 * stay checked.
 */
#if defined(__SANITIZE_ADDRESS__)
#define FG_JSON_ARENA 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define FG_JSON_ARENA 0
#endif
#endif
#ifndef FG_JSON_ARENA
#define FG_JSON_ARENA 1
#endif

#if FG_JSON_ARENA
struct json_arena {
    char *base;
    size_t used, cap;
    size_t want;   /* what the last parse needed: the next block's size */
};

static _Thread_local struct json_arena arena;
static _Thread_local int arena_on;   /* inside a claim's parse */
/* A thread's block is freed when the thread ends. */
static pthread_key_t arena_key;
static pthread_once_t arena_key_once = PTHREAD_ONCE_INIT;

static void arena_key_make(void)
{
    pthread_key_create(&arena_key, free);
}

static void *arena_malloc(size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;   /* malloc's alignment */

    if (arena_on && n <= arena.cap) {
        arena.want += need;
        if (need <= arena.cap - arena.used) {
            void *p = arena.base + arena.used;
            arena.used += need;
            return p;
        }
    }
    return malloc(n);   /* outside a parse, or the block is full */
}

static void arena_free(void *p)
{
    uintptr_t a = (uintptr_t)p, base = (uintptr_t)arena.base;

    if (arena_on && a >= base && a - base < arena.cap)
        return;   /* dropped with the whole block */
    free(p);
}

static void arena_begin(void)
{
    size_t cap = 0;

    if (arena.want > arena.cap && arena.want <= ((size_t)64 << 20))
        cap = arena.want + arena.want / 2;   /* the last parse overflowed */
    else if (!arena.base)
        cap = (size_t)256 << 10;
    if (cap) {
        pthread_once(&arena_key_once, arena_key_make);
        free(arena.base);
        arena.base = malloc(cap);
        arena.cap = arena.base ? cap : 0;
        pthread_setspecific(arena_key, arena.base);
    }
    arena.used = 0;
    arena.want = 0;
    arena_on = 1;
}

static void arena_end(void)
{
    arena_on = 0;
    arena.used = 0;
}

__attribute__((constructor)) static void arena_install(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
}
#else
static void arena_begin(void)
{
}

static void arena_end(void)
{
}
#endif

#define FG_SCHEMA "nhsa.claim.v1"

struct pctx {
    char *why;
    size_t why_size;
    char prefix[48];  /* "" or "feedetail[3]." */
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
    snprintf(p->why, p->why_size, "%s%s: %s", p->prefix, key, msg);
    return -1;
}

/* A string field. Absent or null gives NULL unless required. */
static int get_str(struct pctx *p, json_t *obj, const char *key, int required,
                   const char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return fail(p, key, "missing");
        return 0;
    }
    if (!json_is_string(v))
        return fail(p, key, "not a string");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return fail(p, key, "contains a NUL character");
    if (required && json_string_length(v) == 0)
        return fail(p, key, "empty");
    *out = json_string_value(v);
    return 0;
}

/* A decimal amount, as a JSON string or number, into a scaled integer. */
static int get_dec(struct pctx *p, json_t *obj, const char *key, int scale,
                   int required, int64_t *out, int *present)
{
    json_t *v = json_object_get(obj, key);
    char tmp[64];
    const char *s;
    size_t len;
    int rc;

    if (present)
        *present = 0;
    if (!v || json_is_null(v)) {
        if (required)
            return fail(p, key, "missing");
        return 0;
    }
    if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);
    } else if (json_is_integer(v)) {
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = tmp;
        len = strlen(tmp);
    } else if (json_is_real(v)) {
        /* A JSON number arrives as a double. Print it at the field's scale
         * and accept that decimal only if it reads back as the very same
         * double: then it is the amount the producer wrote. Otherwise the
         * number has more decimals than the field allows, or more digits
         * than a double carries, and the producer must send a string. */
        double d = json_real_value(v), back;
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

static int get_time(struct pctx *p, json_t *obj, const char *key, int required,
                    int64_t *out, int *present)
{
    const char *s, *why;

    if (present)
        *present = 0;
    if (get_str(p, obj, key, required, &s))
        return -1;
    if (!s)
        return 0;
    if (fg_time_parse(s, strlen(s), out, &why))
        return fail(p, key, "%s", why);
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

static int parse_line(struct pctx *p, json_t *obj, struct fg_line *l)
{
    int present;

    if (!json_is_object(obj)) {
        /* Report against "feedetail[i]" itself. */
        size_t n = strlen(p->prefix);
        if (n)
            p->prefix[n - 1] = '\0';
        snprintf(p->why, p->why_size, "%s: not an object", p->prefix);
        return -1;
    }
    if (get_str(p, obj, "feedetl_sn", 1, &l->feedetl_sn) ||
        get_str(p, obj, "init_feedetl_sn", 0, &l->init_feedetl_sn) ||
        get_time(p, obj, "fee_ocur_time", 1, &l->fee_time, NULL) ||
        get_str(p, obj, "hilist_code", 1, &l->hilist_code) ||
        get_str(p, obj, "hilist_name", 0, &l->hilist_name) ||
        get_str(p, obj, "list_type", 0, &l->list_type) ||
        get_str(p, obj, "med_chrgitm_type", 0, &l->med_chrgitm_type) ||
        get_str(p, obj, "chrgitm_lv", 0, &l->chrgitm_lv) ||
        get_str(p, obj, "lmt_used_flag", 0, &l->lmt_used_flag) ||
        get_str(p, obj, "hosp_appr_flag", 0, &l->hosp_appr_flag) ||
        get_dec(p, obj, "pric", FG_SCALE_PRICE, 1, &l->pric, NULL) ||
        get_dec(p, obj, "cnt", FG_SCALE_CNT, 1, &l->cnt, NULL) ||
        get_dec(p, obj, "det_item_fee_sumamt", FG_SCALE_MONEY, 1, &l->fee, NULL))
        return -1;
    if (get_dec(p, obj, "pric_uplmt_amt", FG_SCALE_PRICE, 0, &l->pric_uplmt, &present))
        return -1;
    l->has |= present ? FG_HAS_PRIC_UPLMT : 0;
    if (get_dec(p, obj, "inscp_amt", FG_SCALE_MONEY, 0, &l->inscp, &present))
        return -1;
    l->has |= present ? FG_HAS_INSCP : 0;
    if (get_dec(p, obj, "overlmt_amt", FG_SCALE_MONEY, 0, &l->overlmt, &present))
        return -1;
    l->has |= present ? FG_HAS_OVERLMT : 0;
    if (get_dec(p, obj, "prd_days", 2, 0, &l->prd_days, &present))
        return -1;
    l->has |= present ? FG_HAS_PRD_DAYS : 0;
    if (l->pric < 0)
        return fail(p, "pric", "negative");
    if (l->cnt == 0)
        return fail(p, "cnt", "zero");
    return 0;
}

/* The claim's strings point into the Jansson tree. Copy the claim, its
 * lines and every string into one allocation so the tree can go at once:
 * the parse thread frees what it allocated (cheap), and the claim is one
 * block wherever it is freed. */
#define CLAIM_STRS(c)                                                          \
    &(c)->event_type_text, &(c)->event_id, &(c)->psn_no, &(c)->fixmedins_code, \
        &(c)->hosp_lv, &(c)->mdtrtarea_admvs, &(c)->setl_id, &(c)->init_setl_id, \
        &(c)->mdtrt_id, &(c)->gend, &(c)->insutype, &(c)->med_type
#define LINE_STRS(l)                                                           \
    &(l)->feedetl_sn, &(l)->init_feedetl_sn, &(l)->hilist_code, &(l)->hilist_name, \
        &(l)->list_type, &(l)->med_chrgitm_type, &(l)->chrgitm_lv,             \
        &(l)->lmt_used_flag, &(l)->hosp_appr_flag

static size_t strs_size(const char **const *v, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += *v[i] ? strlen(*v[i]) + 1 : 0;
    return t;
}

static char *strs_copy(const char **const *v, size_t n, char *dst)
{
    for (size_t i = 0; i < n; i++)
        if (*v[i]) {
            size_t k = strlen(*v[i]) + 1;
            memcpy(dst, *v[i], k);
            *(const char **)v[i] = dst;
            dst += k;
        }
    return dst;
}

static struct fg_claim *flatten(struct fg_claim *c)
{
    const char **cs[] = {CLAIM_STRS(c)};
    size_t total = sizeof(*c) + c->nlines * sizeof(*c->lines) + strs_size(cs, 12);
    struct fg_claim *f;
    char *p;

    for (size_t i = 0; i < c->nlines; i++) {
        const char **ls[] = {LINE_STRS(&c->lines[i])};
        total += strs_size(ls, 9);
    }
    f = fg_malloc(total);
    *f = *c;
    f->lines = (struct fg_line *)(void *)(f + 1);
    if (c->nlines)
        memcpy(f->lines, c->lines, c->nlines * sizeof(*c->lines));
    p = (char *)(f->lines + c->nlines);
    {
        const char **fs[] = {CLAIM_STRS(f)};
        p = strs_copy(fs, 12, p);
    }
    for (size_t i = 0; i < f->nlines; i++) {
        const char **ls[] = {LINE_STRS(&f->lines[i])};
        p = strs_copy(ls, 9, p);
    }
    f->root = NULL;
    free(c->lines);
    free(c);
    return f;
}

int fg_claim_parse(const char *buf, size_t len, struct fg_claim **out,
                   char *why, size_t why_size)
{
    struct pctx p = {why, why_size, ""};
    struct fg_claim *c = NULL;
    json_error_t jerr;
    json_t *root, *fd;
    const char *schema, *type, *brdy, *dwhy;
    int present;

    *out = NULL;
    /* Integers are decoded as reals so a huge number is reported against
     * its field ("out of range") rather than as unparseable JSON; every
     * integer a valid amount can hold is exact in a double. */
    arena_begin();
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                      &jerr);
    if (!root) {
        arena_end();
        snprintf(why, why_size, "invalid JSON at column %d: %s", jerr.column,
                 jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(why, why_size, "event is not a JSON object");
        goto fail;
    }
    c = fg_calloc(1, sizeof(*c));
    c->root = root;
    if (get_str(&p, root, "schema", 1, &schema))
        goto fail;
    if (strcmp(schema, FG_SCHEMA) != 0) {
        fail(&p, "schema", "expected \"%s\"", FG_SCHEMA);
        goto fail;
    }
    if (get_str(&p, root, "event_id", 1, &c->event_id) ||
        get_str(&p, root, "event_type", 1, &type))
        goto fail;
    if (parse_type(type, &c->type)) {
        fail(&p, "event_type", "unknown event type");
        goto fail;
    }
    c->event_type_text = type;
    if (get_time(&p, root, "event_time", 1, &c->event_time, NULL) ||
        get_str(&p, root, "psn_no", 1, &c->psn_no) ||
        get_str(&p, root, "fixmedins_code", 1, &c->fixmedins_code))
        goto fail;

    int setl = c->type == FG_EV_SETTLEMENT;
    if (get_str(&p, root, "setl_id", setl || c->type == FG_EV_SETTLEMENT_REVOKE,
                &c->setl_id) ||
        get_str(&p, root, "mdtrt_id", setl, &c->mdtrt_id) ||
        get_str(&p, root, "med_type", setl, &c->med_type) ||
        get_str(&p, root, "init_setl_id", 0, &c->init_setl_id) ||
        get_str(&p, root, "hosp_lv", 0, &c->hosp_lv) ||
        get_str(&p, root, "mdtrtarea_admvs", 0, &c->mdtrtarea_admvs) ||
        get_str(&p, root, "gend", 0, &c->gend) ||
        get_str(&p, root, "insutype", 0, &c->insutype))
        goto fail;
    if (get_time(&p, root, "setl_time", setl, &c->setl_time, &present))
        goto fail;
    c->has |= present ? FG_HAS_SETL_TIME : 0;
    if (get_time(&p, root, "begntime", 0, &c->begntime, &present))
        goto fail;
    c->has |= present ? FG_HAS_BEGNTIME : 0;
    if (get_time(&p, root, "endtime", 0, &c->endtime, &present))
        goto fail;
    c->has |= present ? FG_HAS_ENDTIME : 0;
    if (get_str(&p, root, "brdy", 0, &brdy))
        goto fail;
    if (brdy) {
        if (fg_date_parse(brdy, strlen(brdy), &c->brdy_day, &dwhy)) {
            fail(&p, "brdy", "%s", dwhy);
            goto fail;
        }
        c->has |= FG_HAS_BRDY;
    }

    fd = json_object_get(root, "feedetail");
    if (setl && (!fd || json_is_null(fd))) {
        fail(&p, "feedetail", "missing");
        goto fail;
    }
    if (fd && !json_is_null(fd)) {
        if (!json_is_array(fd)) {
            fail(&p, "feedetail", "not an array");
            goto fail;
        }
        c->nlines = json_array_size(fd);
        c->lines = fg_calloc(c->nlines ? c->nlines : 1, sizeof(*c->lines));
        for (size_t i = 0; i < c->nlines; i++) {
            snprintf(p.prefix, sizeof(p.prefix), "feedetail[%zu].", i);
            if (parse_line(&p, json_array_get(fd, i), &c->lines[i]))
                goto fail;
        }
    }
    *out = flatten(c);
    json_decref(root);
    arena_end();
    return 0;

fail:
    if (c) {
        free(c->lines);
        free(c);
    }
    json_decref(root);
    arena_end();
    return -1;
}

void fg_claim_free(struct fg_claim *c)
{
    /* One block: the claim, its lines and its strings (see flatten). */
    free(c);
}
