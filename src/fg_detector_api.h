/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_detector_api.h: the only header a detector includes.
 *
 * A detector is a descriptor (name, version, rules, parameters, state) and
 * a lifecycle: validate(conf) -> init -> check(event)... -> destroy. The
 * core owns everything else: config parsing, the per-person window,
 * refunds, time, alert encoding, jr_id and de-duplication, output.
 *
 * Threading: a detector instance is called from one thread at a time.
 * Ownership: `conf` belongs to the core and is read-only after validate();
 * the pack is read-only; window lines and claims are borrowed for the
 * duration of one check() call only.
 */
#ifndef FG_DETECTOR_API_H
#define FG_DETECTOR_API_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fg_event.h"
#include "fg_fixed.h"
#include "fg_pack.h"
#include "fg_time.h"

#define FG_DETECTOR_ABI 1

/* ---- parameters ---- */

enum fg_param_type {
    FG_PARAM_BOOL,   /* stored as int */
    FG_PARAM_INT,    /* stored as long long, checked against [min, max] */
    FG_PARAM_LIST,   /* stored as struct fg_strlist: comma list or JSON array */
};

struct fg_strlist {
    char **v;
    size_t n;
};

/** 1 if s is one of the list's values. */
int fg_strlist_has(const struct fg_strlist *l, const char *s);

struct fg_param {
    const char *name;
    enum fg_param_type type;
    const char *def;      /* default as text: "true", "14", "11,12" */
    long long min, max;   /* FG_PARAM_INT bounds */
    size_t offset;        /* offsetof(conf struct, field) */
    const char *doc;
};

/* ---- rules and state declared by a detector ---- */

enum fg_result { FG_RESULT_DEFINITE = 1, FG_RESULT_SUSPECT };

struct fg_rule_decl {
    const char *rule_id;    /* CONTRACT §4, e.g. "DUP-PAIR" */
    const char *rule_name;  /* Chinese name written into the alert */
    enum fg_result result;
    const char *doc;
};

enum fg_state_kind { FG_STATE_WINDOW = 1, FG_STATE_COUNTER, FG_STATE_SEEN_SET };

struct fg_state_decl {
    enum fg_state_kind kind;
    const char *name;
    const char *doc;
};

/* ---- the per-person window ---- */

#define FG_WL_REFUND (1u << 0)     /* a refund line (negative cnt) */
#define FG_WL_REFUNDED (1u << 1)   /* some refund netted against it */
#define FG_WL_CANCELLED (1u << 2)  /* refunded in full, or settlement revoked */
#define FG_WL_REVOKED (1u << 4)    /* its settlement was revoked */
#define FG_WL_HAS_INSCP (1u << 3)

/* One fee line in a person's window. Lines are ordered by seq, the
 * person's arrival order. Strings are owned by the state store. */
struct fg_wline {
    uint64_t seq;
    int64_t fee_time;  /* epoch seconds */
    int64_t day;       /* CST day of fee_time */
    int64_t pric;      /* micro-yuan */
    int64_t cnt;       /* as billed, 1/10000 */
    int64_t net_cnt;   /* after refunds */
    int64_t inscp;     /* fen */
    int64_t expire_at; /* event-time second after which no rule needs it */
    uint32_t flags;
    const char *code;
    const char *fixmedins_code;
    const char *mdtrt_id;
    const char *feedetl_sn;
    const char *setl_id;
    uint64_t ident;    /* hash of the line's identity (fixmedins_code, mdtrt_id,
                        * feedetl_sn): equal for two copies of one line */
};

/** 1 if a and b are copies of one fee line (same identity). */
static inline int fg_wline_same(const struct fg_wline *a, const struct fg_wline *b)
{
    return a->ident == b->ident && strcmp(a->feedetl_sn, b->feedetl_sn) == 0 &&
           strcmp(a->mdtrt_id, b->mdtrt_id) == 0 &&
           strcmp(a->fixmedins_code, b->fixmedins_code) == 0;
}

/** 1 if the line counts toward windows: not a refund, not cancelled. */
static inline int fg_wline_live(const struct fg_wline *w)
{
    return !(w->flags & (FG_WL_REFUND | FG_WL_CANCELLED)) && w->net_cnt > 0;
}

/** inscp_amt scaled to the line's remaining quantity (fen). */
int64_t fg_wline_net_inscp(const struct fg_wline *w);

struct fg_ctx;  /* opaque: one event being checked by one detector */

const struct fg_pack *fg_ctx_pack(const struct fg_ctx *ctx);
const struct fg_claim *fg_ctx_claim(const struct fg_ctx *ctx);
/** The window entry of the current claim's line i. */
const struct fg_wline *fg_ctx_line(const struct fg_ctx *ctx, size_t i);
/** The person's whole window, sorted by seq (includes this event's lines). */
size_t fg_ctx_window(const struct fg_ctx *ctx, const struct fg_wline *const **lines);
/** Count a skipped check (a field the rule needs is missing). */
void fg_ctx_skip(struct fg_ctx *ctx, const char *rule_id);

/* ---- code dictionaries (nhsa-domain §2.6) ---- */

/** Institution level of a hosp_lv code: 3 (01-04, 12), 2 (05-07, 13),
 * 1 (08-10, 14), 0 (11, 无等级, e.g. pharmacies), -1 unknown or NULL. */
int fg_hosp_level(const char *hosp_lv);

/* ---- shared peer statistics (cross-person, keyed by a group) ---- */

#define FG_HIST_BUCKETS 512

/** Add one observation to the group's histogram of a CST day. Kept until
 * the watermark passes day + keep_days. */
void fg_ctx_hist_add(struct fg_ctx *ctx, const char *group, int64_t day,
                     unsigned bucket, int keep_days);
/** Sum the group's histograms over days [from, to] into counts (zeroed by
 * the callee). Returns the number of observations, or UINT64_MAX when the
 * state store cannot answer (the core then retries the whole batch; do not
 * cache anything derived from this call). */
uint64_t fg_ctx_hist_sum(struct fg_ctx *ctx, const char *group, int64_t from,
                         int64_t to, uint32_t counts[FG_HIST_BUCKETS]);

/* ---- complete days ----
 *
 * Cross-person statistics must not depend on the order in which the
 * partitions of a stream happen to be read. A CST event day is complete
 * when no event of it can still arrive on any partition: the slowest
 * partition's watermark is past the day's end by the lateness. A judgement
 * that reads statistics of days before D can be made once
 * fg_ctx_complete_before() >= D; until then the detector defers it. In a
 * replay (one ordered stream) that is never needed; live, it happens only
 * while a partition lags behind the others. */

/** Every CST event day before the returned one is complete. */
int64_t fg_ctx_complete_before(const struct fg_ctx *ctx);
/** Days a day takes to complete in a stream that keeps pace:
 * ceil(lateness / 1 day). A statistic over days up to D - settle - 1 is
 * ready when an event of day D is judged, except while a partition lags. */
int64_t fg_ctx_settle_days(const struct fg_ctx *ctx);
/** Judge the current claim's line i later, once days before ready_day are
 * complete: the core keeps the line and the claim's identity (in the state
 * store, so it survives restarts) and then calls the detector's
 * deferred(), whose fg_ctx_claim() is the claim reduced to that line. */
void fg_ctx_defer(struct fg_ctx *ctx, size_t i, int64_t ready_day);

/* ---- batch preparation ---- */

struct fg_batch_ctx;  /* opaque: a batch about to be judged */

/** Announce that check() will read the group's histograms over days
 * [from, to] in this batch, so a remote store fetches them all in one
 * round trip before judging starts. */
void fg_prefetch_hist(struct fg_batch_ctx *bctx, const char *group, int64_t from,
                      int64_t to);
/** As fg_ctx_settle_days(), for the days a judgement will read. */
int64_t fg_batch_settle_days(const struct fg_batch_ctx *bctx);

/* ---- alerts ---- */

#define FG_MAX_INVOLVED 8

struct fg_alert_spec {
    const char *rule_id;
    const struct fg_wline *violating;
    int64_t vola_amt;                                   /* fen */
    const struct fg_wline *involved[FG_MAX_INVOLVED];
    size_t ninvolved;
    const char *window;            /* "单日", ... or NULL */
    int64_t window_start, window_end;
    char vola_cont[512];
    char vola_evid[256];
};

/** Hand an alert to the core, which assigns jr_id, drops it if already
 * emitted, encodes and publishes it. The spec is copied. */
void fg_emit(struct fg_ctx *ctx, const struct fg_alert_spec *spec);

/* ---- the descriptor ---- */

struct fg_detector {
    int abi;                                /* FG_DETECTOR_ABI */
    const char *name;
    const char *version;
    const char *description;
    size_t conf_size;
    const struct fg_param *params;          /* {0}-terminated */
    const struct fg_rule_decl *rules;       /* {0}-terminated */
    const struct fg_state_decl *state;      /* {0}-terminated */
    /* Cross-parameter checks on a parsed conf; no side effects. */
    int (*validate)(const void *conf, char *err, size_t errlen);
    /* Allocate private state; *priv may stay NULL. */
    int (*init)(const void *conf, const struct fg_pack *pack, void **priv,
                char *err, size_t errlen);
    /* Seconds after fee_time this detector needs a line kept (0: not). */
    int64_t (*retention)(const void *conf, void *priv, const struct fg_pack *pack,
                         const struct fg_wline *line);
    /* Optional: before a batch is judged, announce what check() will read
     * (fg_prefetch_hist): called with the batch's claims before they are
     * loaded, and again with the claims of deferred judgements taken for
     * the batch. */
    void (*prefetch)(struct fg_batch_ctx *bctx, const void *conf, void *priv,
                     const struct fg_claim *const *claims, size_t n);
    /* Judge one event. Returns 0, or FG_EAGAIN-style negative on failure. */
    int (*check)(struct fg_ctx *ctx, const void *conf, void *priv);
    /* Optional: judge a line deferred with fg_ctx_defer(). The context's
     * claim holds that one line (index 0), and no window: the judgement
     * may read only the line, the claim and statistics. */
    int (*deferred)(struct fg_ctx *ctx, const void *conf, void *priv);
    /* NULL-safe. */
    void (*destroy)(void *priv);
};

#endif
