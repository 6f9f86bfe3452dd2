/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_event.h: the claim event nhsa.claim.v1 (CONTRACT §2) as a C struct.
 *
 * Ownership: a parsed claim is one allocation holding the struct, its
 * lines and every string; it lives until fg_claim_free().
 * Detectors must not keep pointers into a claim after check() returns.
 */
#ifndef FG_EVENT_H
#define FG_EVENT_H

#include <stddef.h>
#include <stdint.h>

enum fg_event_type {
    FG_EV_SETTLEMENT = 1,
    FG_EV_SETTLEMENT_REVOKE,
    FG_EV_VISIT_OPEN,
    FG_EV_VISIT_CLOSE,
};

/* Presence bits for optional numeric fields of a line. */
#define FG_HAS_PRIC_UPLMT (1u << 0)
#define FG_HAS_INSCP (1u << 1)
#define FG_HAS_OVERLMT (1u << 2)
#define FG_HAS_PRD_DAYS (1u << 3)

struct fg_line {
    const char *feedetl_sn;
    const char *init_feedetl_sn;   /* NULL unless a refund names its target */
    const char *hilist_code;
    const char *hilist_name;
    const char *list_type;
    const char *med_chrgitm_type;
    const char *chrgitm_lv;
    const char *lmt_used_flag;
    const char *hosp_appr_flag;
    int64_t fee_time;   /* fee_ocur_time, epoch seconds */
    int64_t pric;       /* micro-yuan */
    int64_t cnt;        /* 1/10000 units, negative on refunds */
    int64_t fee;        /* det_item_fee_sumamt, fen */
    int64_t pric_uplmt; /* micro-yuan, FG_HAS_PRIC_UPLMT */
    int64_t inscp;      /* inscp_amt, fen, FG_HAS_INSCP */
    int64_t overlmt;    /* overlmt_amt, fen, FG_HAS_OVERLMT */
    int64_t prd_days;   /* 1/100 days, FG_HAS_PRD_DAYS */
    unsigned has;
};

/* Presence bits for optional fields of the event. */
#define FG_HAS_BRDY (1u << 0)
#define FG_HAS_BEGNTIME (1u << 1)
#define FG_HAS_ENDTIME (1u << 2)
#define FG_HAS_SETL_TIME (1u << 3)

struct fg_claim {
    enum fg_event_type type;
    const char *event_type_text;
    const char *event_id;
    const char *psn_no;
    const char *fixmedins_code;
    const char *hosp_lv;          /* optional strings are NULL when absent */
    const char *mdtrtarea_admvs;
    const char *setl_id;
    const char *init_setl_id;
    const char *mdtrt_id;
    const char *gend;
    const char *insutype;
    const char *med_type;
    int64_t event_time;           /* epoch seconds */
    int64_t setl_time;
    int64_t begntime;
    int64_t endtime;
    int64_t brdy_day;             /* days since 1970-01-01 */
    unsigned has;
    struct fg_line *lines;
    size_t nlines;
};

/**
 * Parse one event from buf[0..len). On success returns 0 and *out is a new
 * claim the caller frees with fg_claim_free(). On failure returns -1 and
 * writes a precise reason into why (e.g. "feedetail[3].pric: not a
 * decimal"); nothing is allocated.
 */
int fg_claim_parse(const char *buf, size_t len, struct fg_claim **out,
                   char *why, size_t why_size);
void fg_claim_free(struct fg_claim *claim);

/* The two readers behind fg_claim_parse(), for tests and benchmarks: the
 * scanner alone, which returns FG_CLAIM_UNSURE (and sets nothing) for an
 * input it leaves to Jansson; and Jansson alone. Both give the same
 * verdict, reason and claim wherever the scanner answers. */
#define FG_CLAIM_UNSURE 1
int fg_claim_parse_scan(const char *buf, size_t len, struct fg_claim **out,
                        char *why, size_t why_size);
int fg_claim_parse_jansson(const char *buf, size_t len, struct fg_claim **out,
                           char *why, size_t why_size);

const char *fg_event_type_name(enum fg_event_type t);

#endif
