/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_state_memory.c: the embedded state backend: everything in process
 * memory, bounded by event-time expiry. Used by replay by default and by
 * the tests; the Redis backend implements the same fg_state_ops.
 */
#include "fg_common.h"
#include "fg_hash.h"
#include "fg_map.h"
#include "fg_state.h"

#include <string.h>

/* A set of 64-bit keys with an expiry each; `used` marks occupied slots,
 * so every key value, 0 included, is a key of its own. */
struct set64 {
    uint64_t *keys;
    int64_t *exp;
    uint8_t *used;
    size_t cap, count;
};

static void set64_free(struct set64 *s)
{
    free(s->keys);
    free(s->exp);
    free(s->used);
    memset(s, 0, sizeof(*s));
}

static int set64_insert(struct set64 *s, uint64_t key, int64_t exp);

static void set64_rehash(struct set64 *s, size_t cap, int64_t drop_before)
{
    struct set64 old = *s;

    s->cap = cap;
    s->count = 0;
    s->keys = fg_calloc(cap, sizeof(*s->keys));
    s->exp = fg_calloc(cap, sizeof(*s->exp));
    s->used = fg_calloc(cap, sizeof(*s->used));
    for (size_t i = 0; i < old.cap; i++)
        if (old.used[i] && old.exp[i] >= drop_before)
            set64_insert(s, old.keys[i], old.exp[i]);
    set64_free(&old);
}

/* Returns 1 if present (expiry raised to exp), 0 if inserted. */
static int set64_insert(struct set64 *s, uint64_t key, int64_t exp)
{
    size_t i;

    if ((s->count + 1) * 2 > s->cap)
        set64_rehash(s, s->cap ? s->cap * 2 : 8, INT64_MIN);
    for (i = key & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
        if (s->keys[i] == key) {
            if (exp > s->exp[i])
                s->exp[i] = exp;
            return 1;
        }
    s->keys[i] = key;
    s->exp[i] = exp;
    s->used[i] = 1;
    s->count++;
    return 0;
}

static int set64_has_expired(const struct set64 *s, int64_t before)
{
    for (size_t i = 0; i < s->cap; i++)
        if (s->used[i] && s->exp[i] < before)
            return 1;
    return 0;
}

struct fg_person {
    char *psn_no;
    struct fg_wline **lines;
    size_t nlines, cap;
    char **arec;             /* emitted alerts: "<jr_id>\x1f..." */
    int64_t *arec_exp;
    size_t narec, caparec, caparec_exp;
    struct set64 seen[2];
    int64_t watermark;   /* latest event time of this person */
    struct fg_person_keys keys;   /* a remote store's notes (fg_state.h) */
};

struct hist {
    char *key;               /* "group\x1fday" */
    int64_t day, expire_day;
    char *group;
    uint16_t *bucket;        /* sorted */
    uint32_t *count;
    size_t n, cap;
};

struct deferred_rec {
    int scope;
    int64_t ready;
    char *rec;
    size_t len;
};

struct mem_state {
    struct fg_state base;
    struct deferred_rec *def;
    size_t ndef, capdef;
    struct fg_map persons;
    struct fg_map hists;     /* key -> struct hist */
    struct fg_map groups;    /* group -> struct group_days (list of hists) */
    int64_t last_sweep;
    size_t nlines;
    size_t added_since_sweep;
    void (*on_drop)(void *opaque, struct fg_person *p, const struct fg_wline *w);
    void *drop_opaque;
};

/* Per group: its day histograms, for range sums without key probing. */
struct group_days {
    char *group;
    struct hist **h;
    size_t n, cap;
};

static struct fg_person *mem_person(struct fg_state *st, const char *psn_no)
{
    struct mem_state *m = (struct mem_state *)st;
    size_t n = strlen(psn_no);
    struct fg_person *p = fg_map_get(&m->persons, psn_no, n);

    if (p)
        return p;
    p = fg_calloc(1, sizeof(*p));
    p->psn_no = fg_strndup(psn_no, n);
    p->watermark = INT64_MIN / 4;
    fg_map_put(&m->persons, p->psn_no, n, p);
    return p;
}

static int mem_seen(struct fg_state *st, struct fg_person *p, int which,
                    uint64_t key, int64_t expire_at)
{
    struct mem_state *m = (struct mem_state *)st;
    int had = set64_insert(&p->seen[which], key, expire_at);

    m->added_since_sweep += !had;
    return had;
}

uint64_t fg_wline_ident(const char *fixmedins_code, const char *mdtrt_id,
                        const char *feedetl_sn)
{
    const char *parts[3] = {fixmedins_code, mdtrt_id, feedetl_sn};
    char small[256], *buf = small;
    size_t lens[3], total = 0;
    uint64_t h;

    for (int i = 0; i < 3; i++) {
        lens[i] = parts[i] ? strlen(parts[i]) : 0;
        total += lens[i] + 1;
    }
    if (total > sizeof(small))
        buf = fg_malloc(total);
    total = 0;
    for (int i = 0; i < 3; i++) {
        if (lens[i])
            memcpy(buf + total, parts[i], lens[i]);
        buf[total + lens[i]] = '\0';
        total += lens[i] + 1;
    }
    h = fg_hash64(buf, total);
    if (buf != small)
        free(buf);
    return h;
}

static struct fg_wline *mem_add_line(struct fg_state *st, struct fg_person *p,
                                     const struct fg_line_init *in)
{
    struct mem_state *m = (struct mem_state *)st;
    const char *strs[5] = {in->code, in->fixmedins_code, in->mdtrt_id,
                           in->feedetl_sn, in->setl_id};
    size_t lens[5], total = 0;
    struct fg_wline *w;
    char *s;

    for (int i = 0; i < 5; i++) {
        lens[i] = strs[i] ? strlen(strs[i]) : 0;
        total += lens[i] + 1;
    }
    /* One allocation: the line, then its strings. */
    w = fg_malloc(sizeof(*w) + total);
    memset(w, 0, sizeof(*w));
    s = (char *)(w + 1);
    const char **dst[5] = {&w->code, &w->fixmedins_code, &w->mdtrt_id,
                           &w->feedetl_sn, &w->setl_id};
    for (int i = 0; i < 5; i++) {
        if (lens[i])
            memcpy(s, strs[i], lens[i]);
        s[lens[i]] = '\0';
        *dst[i] = s;
        s += lens[i] + 1;
    }
    w->ident = fg_wline_ident(w->fixmedins_code, w->mdtrt_id, w->feedetl_sn);
    w->seq = p->nlines ? p->lines[p->nlines - 1]->seq + 1 : 1;
    w->fee_time = in->fee_time;
    w->day = fg_cst_day(in->fee_time);
    w->pric = in->pric;
    w->cnt = in->cnt;
    w->net_cnt = in->cnt;
    w->inscp = in->inscp;
    w->expire_at = in->expire_at;
    w->flags = in->flags;
    FG_VEC_GROW(p->lines, p->nlines, p->cap, 16);
    p->lines[p->nlines++] = w;
    m->nlines++;
    m->added_since_sweep++;
    return w;
}

static void mem_update_line(struct fg_state *st, struct fg_person *p,
                            struct fg_wline *w)
{
    /* In memory the caller already changed the line in place. */
    (void)st;
    (void)p;
    (void)w;
}

static size_t mem_window(struct fg_state *st, struct fg_person *p,
                         struct fg_wline ***lines)
{
    (void)st;
    *lines = p->lines;
    return p->nlines;
}

static int mem_begin(struct fg_state *st, const struct fg_batch_reads *r)
{
    /* Nobody else shares the store, or publishes progress. */
    (void)st;
    for (int i = 0; r->topic && i < r->nparts; i++)
        r->all[i] = FG_PROGRESS_UNKNOWN;
    return 0;
}

static void mem_progress_put(struct fg_state *st, const char *topic, const int64_t *mine, int n)
{
    (void)st;
    (void)topic;
    (void)mine;
    (void)n;
}

static int mem_load_more(struct fg_state *st, const struct fg_batch_reads *r)
{
    (void)st;
    (void)r;
    return 0;
}

static int mem_commit(struct fg_state *st)
{
    (void)st;
    return 0;
}

static void mem_abort(struct fg_state *st)
{
    (void)st;
}

/* "group\x1fday", allocated: group names have no length limit. */
static char *hist_key(const char *group, int64_t day)
{
    size_t n = strlen(group) + 24;
    char *k = fg_malloc(n);

    snprintf(k, n, "%s\x1f%lld", group, (long long)day);
    return k;
}

static void mem_hist_add(struct fg_state *st, const char *group, int64_t day,
                         unsigned bucket, int64_t expire_day)
{
    struct mem_state *m = (struct mem_state *)st;
    char *key;
    struct hist *h;
    size_t lo = 0, hi;

    if (bucket >= FG_HIST_BUCKETS)
        bucket = FG_HIST_BUCKETS - 1;
    key = hist_key(group, day);
    h = fg_map_get(&m->hists, key, strlen(key));
    if (h) {
        free(key);
    } else {
        struct group_days *g = fg_map_get(&m->groups, group, strlen(group));
        if (!g) {
            g = fg_calloc(1, sizeof(*g));
            g->group = fg_strdup(group);
            fg_map_put(&m->groups, g->group, strlen(g->group), g);
        }
        h = fg_calloc(1, sizeof(*h));
        h->key = key;
        h->group = g->group;
        h->day = day;
        fg_map_put(&m->hists, h->key, strlen(h->key), h);
        FG_VEC_GROW(g->h, g->n, g->cap, 8);
        g->h[g->n++] = h;
    }
    if (expire_day > h->expire_day)
        h->expire_day = expire_day;
    hi = h->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (h->bucket[mid] < bucket)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < h->n && h->bucket[lo] == bucket) {
        h->count[lo]++;
        return;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 4;
        h->bucket = fg_realloc(h->bucket, h->cap * sizeof(*h->bucket));
        h->count = fg_realloc(h->count, h->cap * sizeof(*h->count));
    }
    memmove(h->bucket + lo + 1, h->bucket + lo, (h->n - lo) * sizeof(*h->bucket));
    memmove(h->count + lo + 1, h->count + lo, (h->n - lo) * sizeof(*h->count));
    h->bucket[lo] = (uint16_t)bucket;
    h->count[lo] = 1;
    h->n++;
}

static uint64_t mem_hist_sum(struct fg_state *st, const char *group, int64_t from,
                             int64_t to, uint32_t *counts)
{
    struct mem_state *m = (struct mem_state *)st;
    struct group_days *g = fg_map_get(&m->groups, group, strlen(group));
    uint64_t total = 0;

    memset(counts, 0, FG_HIST_BUCKETS * sizeof(*counts));
    if (!g)
        return 0;
    for (size_t i = 0; i < g->n; i++) {
        const struct hist *h = g->h[i];
        if (h->day < from || h->day > to)
            continue;
        for (size_t k = 0; k < h->n; k++) {
            counts[h->bucket[k]] += h->count[k];
            total += h->count[k];
        }
    }
    return total;
}

static void free_person(struct fg_person *p)
{
    for (size_t i = 0; i < p->nlines; i++)
        free(p->lines[i]);
    free(p->lines);
    for (size_t i = 0; i < p->narec; i++)
        free(p->arec[i]);
    free(p->arec);
    free(p->arec_exp);
    set64_free(&p->seen[0]);
    set64_free(&p->seen[1]);
    free(p->psn_no);
    free(p);
}

static void free_hist(struct hist *h)
{
    free(h->bucket);
    free(h->count);
    free(h->key);
    free(h);
}

/* Drop everything the watermark has passed. A sweep visits every person,
 * so it runs only when the watermark has moved an hour and at least a
 * quarter as many entries as the store holds were added since the last
 * one (its cost stays a constant per added entry, and the store holds at
 * most 1.25 times what is live plus an hour of expired entries), or at the
 * latest once per event-time day. */
static void mem_advance(struct fg_state *st, int64_t watermark)
{
    struct mem_state *m = (struct mem_state *)st;
    void **dead = NULL;   /* persons, then groups, to delete after a scan */
    size_t ndead = 0, capdead = 0;
    int64_t wday = fg_cst_day(watermark);

    if (watermark - m->last_sweep < 3600 ||
        (m->added_since_sweep * 4 < m->nlines && watermark - m->last_sweep < FG_DAY))
        return;
    m->last_sweep = watermark;
    m->added_since_sweep = 0;
    for (size_t i = 0; i < m->persons.cap; i++) {
        struct fg_person *p = m->persons.slots[i].val;
        size_t k = 0;
        if (!m->persons.slots[i].key)
            continue;
        for (size_t j = 0; j < p->nlines; j++) {
            if (p->lines[j]->expire_at < watermark) {
                if (m->on_drop)
                    m->on_drop(m->drop_opaque, p, p->lines[j]);
                free(p->lines[j]);
                m->nlines--;
            } else {
                p->lines[k++] = p->lines[j];
            }
        }
        p->nlines = k;
        k = 0;
        for (size_t j = 0; j < p->narec; j++) {
            if (p->arec_exp[j] < watermark) {
                free(p->arec[j]);
            } else {
                p->arec_exp[k] = p->arec_exp[j];
                p->arec[k++] = p->arec[j];
            }
        }
        p->narec = k;
        for (int s = 0; s < 2; s++)
            if (set64_has_expired(&p->seen[s], watermark))
                set64_rehash(&p->seen[s], p->seen[s].cap, watermark);
        if (!p->nlines && !p->narec && !p->seen[0].count && !p->seen[1].count) {
            FG_VEC_GROW(dead, ndead, capdead, 64);
            dead[ndead++] = p;
        }
    }
    for (size_t i = 0; i < ndead; i++) {
        struct fg_person *p = dead[i];
        fg_map_del(&m->persons, p->psn_no, strlen(p->psn_no));
        free_person(p);
    }
    ndead = 0;

    for (size_t i = 0; i < m->groups.cap; i++) {
        struct group_days *g = m->groups.slots[i].val;
        size_t k = 0;
        if (!m->groups.slots[i].key)
            continue;
        for (size_t j = 0; j < g->n; j++) {
            if (g->h[j]->expire_day < wday) {
                fg_map_del(&m->hists, g->h[j]->key, strlen(g->h[j]->key));
                free_hist(g->h[j]);
            } else {
                g->h[k++] = g->h[j];
            }
        }
        g->n = k;
        if (!g->n) {
            FG_VEC_GROW(dead, ndead, capdead, 64);
            dead[ndead++] = g;
        }
    }
    /* Groups with no day left go too, so new codes over months of
     * operation do not accumulate empty entries. */
    for (size_t i = 0; i < ndead; i++) {
        struct group_days *g = dead[i];
        fg_map_del(&m->groups, g->group, strlen(g->group));
        free(g->h);
        free(g->group);
        free(g);
    }
    free(dead);
}

/* ---- emitted alerts, for retraction ---- */

static void mem_alert_keep(struct fg_state *st, struct fg_person *p, const char *jr_id,
                           const char *rec, int64_t expire_at)
{
    (void)st;
    (void)jr_id;   /* the record starts with it */
    FG_VEC_GROW(p->arec, p->narec, p->caparec, 4);
    FG_VEC_GROW(p->arec_exp, p->narec, p->caparec_exp, 4);
    p->arec_exp[p->narec] = expire_at;
    p->arec[p->narec++] = fg_strdup(rec);
}

static size_t mem_alert_list(struct fg_state *st, struct fg_person *p,
                             const char *const **recs)
{
    (void)st;
    *recs = (const char *const *)p->arec;
    return p->narec;
}

static void mem_alert_forget(struct fg_state *st, struct fg_person *p, const char *jr_id)
{
    size_t len = strlen(jr_id), k = 0;

    (void)st;
    for (size_t j = 0; j < p->narec; j++) {
        if (strncmp(p->arec[j], jr_id, len) == 0 && p->arec[j][len] == '\x1f') {
            free(p->arec[j]);
            continue;
        }
        p->arec_exp[k] = p->arec_exp[j];
        p->arec[k++] = p->arec[j];   /* order kept: retractions go out in it */
    }
    p->narec = k;
}

/* ---- deferred judgements: few at a time, so a plain vector ---- */

static void mem_defer_add(struct fg_state *st, int scope, int64_t ready_day, const char *rec,
                          size_t len)
{
    struct mem_state *m = (struct mem_state *)st;

    FG_VEC_GROW(m->def, m->ndef, m->capdef, 16);
    m->def[m->ndef++] = (struct deferred_rec){scope, ready_day, fg_strndup(rec, len), len};
}

static int mem_defer_take(struct fg_state *st, const int *scopes, size_t n, int64_t upto,
                          size_t max_each,
                          void (*fn)(void *opaque, int scope, const char *rec, size_t len),
                          void *opaque)
{
    struct mem_state *m = (struct mem_state *)st;
    size_t kept = 0, *taken = fg_calloc(n ? n : 1, sizeof(*taken));

    for (size_t i = 0; i < m->ndef; i++) {
        struct deferred_rec *d = &m->def[i];
        size_t k = 0;
        while (k < n && scopes[k] != d->scope)
            k++;
        if (k < n && d->ready <= upto && (!max_each || taken[k] < max_each)) {
            taken[k]++;
            fn(opaque, d->scope, d->rec, d->len);
            free(d->rec);
        } else {
            m->def[kept++] = *d;
        }
    }
    m->ndef = kept;
    free(taken);
    return 0;
}

static void mem_stats(struct fg_state *st, size_t *persons, size_t *lines,
                      size_t *groups)
{
    struct mem_state *m = (struct mem_state *)st;
    *persons = m->persons.count;
    *lines = m->nlines;
    *groups = m->hists.count;
}

static void mem_destroy(struct fg_state *st)
{
    struct mem_state *m = (struct mem_state *)st;

    for (size_t i = 0; i < m->persons.cap; i++)
        if (m->persons.slots[i].key)
            free_person(m->persons.slots[i].val);
    for (size_t i = 0; i < m->groups.cap; i++)
        if (m->groups.slots[i].key) {
            struct group_days *g = m->groups.slots[i].val;
            for (size_t j = 0; j < g->n; j++)
                free_hist(g->h[j]);
            free(g->h);
            free(g->group);
            free(g);
        }
    for (size_t i = 0; i < m->ndef; i++)
        free(m->def[i].rec);
    free(m->def);
    fg_map_fini(&m->persons);
    fg_map_fini(&m->hists);
    fg_map_fini(&m->groups);
    free(m);
}

static const struct fg_state_ops mem_ops = {
    .name = "memory",
    .begin_batch = mem_begin,
    .load_more = mem_load_more,
    .commit_batch = mem_commit,
    .abort_batch = mem_abort,
    .person = mem_person,
    .seen = mem_seen,
    .add_line = mem_add_line,
    .update_line = mem_update_line,
    .window = mem_window,
    .hist_add = mem_hist_add,
    .hist_sum = mem_hist_sum,
    .advance = mem_advance,
    .alert_keep = mem_alert_keep,
    .alert_list = mem_alert_list,
    .alert_forget = mem_alert_forget,
    .defer_add = mem_defer_add,
    .defer_take = mem_defer_take,
    .progress_put = mem_progress_put,
    .stats = mem_stats,
    .destroy = mem_destroy,
};

struct fg_state *fg_state_memory_new(void)
{
    struct mem_state *m = fg_calloc(1, sizeof(*m));

    m->base.ops = &mem_ops;
    fg_map_init(&m->persons);
    fg_map_init(&m->hists);
    fg_map_init(&m->groups);
    m->last_sweep = INT64_MIN / 2;
    return &m->base;
}

/* ---- the person's own watermark ---- */

int64_t fg_person_watermark(const struct fg_person *p)
{
    return p->watermark;
}

void fg_person_set_watermark(struct fg_person *p, int64_t t)
{
    if (t > p->watermark)
        p->watermark = t;
}

/* ---- for backends that keep their working set in a memory store ---- */

struct fg_person_keys *fg_person_keys(struct fg_person *p)
{
    return &p->keys;
}

const char *fg_person_psn(const struct fg_person *p)
{
    return p->psn_no;
}

struct fg_wline *fg_state_memory_load_line(struct fg_state *st, struct fg_person *p,
                                           const struct fg_line_init *in, uint64_t seq,
                                           int64_t net_cnt)
{
    struct fg_wline *w = mem_add_line(st, p, in);
    size_t j = p->nlines - 1;

    w->seq = seq;
    w->net_cnt = net_cnt;
    /* Loads arrive in any order (a hash's): keep the window sorted by seq,
     * the new line moved down to its place. */
    for (; j > 0 && p->lines[j - 1]->seq > seq; j--)
        p->lines[j] = p->lines[j - 1];
    p->lines[j] = w;
    return w;
}

int fg_state_memory_has_person(struct fg_state *st, const char *psn_no)
{
    struct mem_state *m = (struct mem_state *)st;
    return fg_map_get(&m->persons, psn_no, strlen(psn_no)) != NULL;
}

void fg_state_memory_clear_persons(struct fg_state *st)
{
    struct mem_state *m = (struct mem_state *)st;

    for (size_t i = 0; i < m->persons.cap; i++)
        if (m->persons.slots[i].key)
            free_person(m->persons.slots[i].val);
    fg_map_fini(&m->persons);
    fg_map_init(&m->persons);
    m->nlines = 0;
    m->added_since_sweep = 0;
}

void fg_state_memory_on_drop(struct fg_state *st,
                             void (*fn)(void *opaque, struct fg_person *p,
                                        const struct fg_wline *w),
                             void *opaque)
{
    struct mem_state *m = (struct mem_state *)st;

    m->on_drop = fn;
    m->drop_opaque = opaque;
}
