/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_alert.c: the alert encoder (fg_alert_encode, src/fg_alert.c) and
 * its reader (fg_alert_rec_parse, src/fg_alert_read.c), round trip.
 *
 * The input decodes into a struct fg_alert (layout below): every string
 * arbitrary bytes (quotes, backslashes, control characters, invalid
 * UTF-8; NUL-free, as C strings are), each may be NULL, amounts any
 * int64 (INT64_MIN and INT64_MAX included), times inside and outside the
 * years the contract's datetimes cover. The alert is encoded both ways
 * (canonical and not) and read back, and the harness aborts unless:
 *
 *  1. both encodings are JSON that Jansson accepts, and the canonical one
 *     is the other with the run fields (replay, source, detected_at) cut;
 *  2. fg_alert_rec_parse accepts exactly the alerts the contract says it
 *     must (fg_alert_read.h): alert_type ALERT or RETRACT, a jr_id, and for
 *     an ALERT rule_id, rule_name, rule_pack and fixmedins_code non-empty,
 *     event_time in 1900..2200 and vola_amt a non-negative amount of at
 *     most 14 integer digits; and rejects the rest with a reason;
 *  3. every field read back equals what went in, after the encoder's
 *     documented change (fg_buf.h: each byte that does not start a
 *     well-formed UTF-8 sequence becomes U+FFFD; a harness-side decoder
 *     written from the Unicode table predicts it) and the reader's
 *     (empty strings and nulls read as NULL): the record's strings, the
 *     detail lines, event_time's text and epoch, vola_amt in fen; and,
 *     through Jansson, the fields the record does not keep (detector,
 *     vola_cont, vola_evid, evidence, the detail amounts, replay, source
 *     and detected_at);
 *  4. the canonical text is the same from both encodings, and stable
 *     (parsing it again gives it back);
 *  5. re-encoding is stable: the alert rebuilt from what was read back
 *     encodes to bytes that, read back and rebuilt again, encode to the
 *     same bytes; and when every string was valid UTF-8 the first
 *     re-encoding is already byte-identical to the original.
 *
 * Input layout (short inputs are zero-padded):
 *   u8  flags: 1 RETRACT, 2 alert_type from the strings, 4 DEFINITE,
 *              8 window, 0x30 source (0 none, 1 file, 2 topic, 3 file with
 *              a NULL name), 0x40 replay
 *   u8  involved lines (mod 9)
 *   u16 NULL mask: bit i makes string i below NULL (bit 15: strings 15
 *       to 17; bit 12 also the strings of the involved lines)
 *   u64 event_time, u64 vola_amt, u64 window_start, u64 window_end,
 *   u64 detected_at, u32 partition, u64 offset or line
 *   then NUL-separated strings: alert_type, jr_id, rule_id, rule_name,
 *   detector, detector_version, rule_pack, vola_cont, vola_evid, psn_no,
 *   fixmedins_code, mdtrt_id, setl_id, event_id, feedetl_sn, hilist_code,
 *   window, source name, then setl_id, feedetl_sn, hilist_code per
 *   involved line.
 * A time u64 with its top bit clear is a second in 1900..2200 (CST);
 * with it set, a second within +-2^36 of 1970 (years -207..4147).
 */
#include "fuzz.h"

#include "fg_alert.h"
#include "fg_alert_read.h"
#include "fg_buf.h"
#include "fg_time.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 1900-01-01T00:00:00+08:00 and 2201-01-01T00:00:00+08:00. */
#define T_MIN INT64_C(-2209017600)
#define T_END INT64_C(7289625600)
/* The largest vola_amt the reader takes: 14 integer digits of yuan. */
#define FEN_MAX INT64_C(9999999999999999)

enum {
    S_TYPE, S_JR, S_RULE_ID, S_RULE_NAME, S_DET, S_DET_VER, S_PACK, S_CONT, S_EVID,
    S_PSN, S_FIX, S_MDTRT, S_SETL, S_EVENT, S_SN, S_CODE, S_WINDOW, S_SRC, S_N
};
#define MAX_INV 8
#define INV_STRS 3

/* Caps that keep the U+FFFD expansion (3 bytes per byte) inside the
 * encoder's fixed arrays, so the rebuilt alert holds what was read. */
#define CONT_MAX ((sizeof(((struct fg_alert_spec *)0)->vola_cont) - 1) / 3)
#define EVID_MAX ((sizeof(((struct fg_alert_spec *)0)->vola_evid) - 1) / 3)
#define JR_MAX 32

/* An alert and everything it points at. */
struct fz_alert {
    struct fg_alert a;
    struct fg_rule_decl rule;
    struct fg_detector det;
    struct fg_alert_spec spec;
    struct fg_wline v, inv[MAX_INV];
    struct fg_alert_source src;
    int src_kind;     /* 0 none, 1 file, 2 topic */
};

static void link_alert(struct fz_alert *x)
{
    x->a.rule = &x->rule;
    x->a.det = &x->det;
    x->a.spec = &x->spec;
    x->spec.violating = &x->v;
    for (size_t i = 0; i < x->spec.ninvolved; i++)
        x->spec.involved[i] = &x->inv[i];
    x->a.source = x->src_kind ? &x->src : NULL;
}

/* ---- expectations, computed independently of the code under test ---- */

/* Length of the well-formed UTF-8 sequence at s (Unicode 15, table 3-7),
 * or 0. */
static size_t wellformed(const unsigned char *s, size_t n)
{
    unsigned char b = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;

    if (b <= 0x7f)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b == 0xe0)
        len = 3, lo = 0xa0;
    else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
        len = 3;
    else if (b == 0xed)
        len = 3, hi = 0x9f;
    else if (b == 0xf0)
        len = 4, lo = 0x90;
    else if (b >= 0xf1 && b <= 0xf3)
        len = 4;
    else if (b == 0xf4)
        len = 4, hi = 0x8f;
    else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* What the encoder is documented to write for s: every byte that does not
 * start a well-formed sequence replaced by U+FFFD. NULL stays NULL. */
static char *sanitize(const char *s)
{
    size_t n, o = 0;
    char *out;

    if (!s)
        return NULL;
    n = strlen(s);
    out = malloc(3 * n + 1);
    if (!out)
        abort();
    for (size_t i = 0; i < n;) {
        size_t k = wellformed((const unsigned char *)s + i, n - i);
        if (k) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

static int is_valid_utf8(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    for (size_t i = 0; i < n;) {
        size_t k = wellformed((const unsigned char *)s + i, n - i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A record field: the reader keeps non-empty strings only. */
static void check_member(const char *got, const char *in, const char *what)
{
    char *want = sanitize(in);

    if (want && !want[0]) {
        free(want);
        want = NULL;
    }
    FZ_CHECK(same(got, want), "%s read back as '%s', expected '%s'", what,
             got ? got : "(null)", want ? want : "(null)");
    free(want);
}

/* A value read through Jansson: a string equal to sanitize(in), or null. */
static void check_json_str(const json_t *v, const char *in, const char *what)
{
    char *want = sanitize(in);

    if (!want)
        FZ_CHECK(json_is_null(v), "%s: expected null", what);
    else
        FZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), want) == 0,
                 "%s read back as '%s', expected '%s'", what,
                 json_is_string(v) ? json_string_value(v) : "(not a string)", want);
    free(want);
}

/* "1234.56" for 123456 fen, "-0.05" for -5: digits of the magnitude. */
static void fmt_fen(int64_t v, char *buf)
{
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char d[32];
    size_t n = 0, o = 0;

    do {
        d[n++] = (char)('0' + m % 10);
        m /= 10;
    } while (m || n < 3);
    if (v < 0)
        buf[o++] = '-';
    while (n > 2)
        buf[o++] = d[--n];
    buf[o++] = '.';
    buf[o++] = d[1];
    buf[o++] = d[0];
    buf[o] = '\0';
}

/* ISO 8601 in China Standard Time, through the C library's calendar. */
static void fmt_iso(int64_t t, char *buf, size_t size)
{
    time_t s = (time_t)(t + 8 * 3600);
    struct tm tm;

    FZ_CHECK(gmtime_r(&s, &tm) != NULL, "gmtime_r(%" PRId64 ")", t);
    snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d+08:00", (long long)tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void check_json_time(const json_t *v, int64_t t, const char *what)
{
    char want[64];

    fmt_iso(t, want, sizeof(want));
    FZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), want) == 0,
             "%s: '%s', expected '%s'", what, json_is_string(v) ? json_string_value(v) : "?",
             want);
}

/* ---- decoding the input ---- */

static int64_t map_time(uint64_t u)
{
    if (u >> 63)
        return (int64_t)(u % (UINT64_C(1) << 37)) - (INT64_C(1) << 36);
    return T_MIN + (int64_t)(u % (uint64_t)(T_END - T_MIN));
}

struct fz_case {
    struct fz_alert x;
    char *s[S_N];
    char *inv[MAX_INV][INV_STRS];
    unsigned flags;
};

static char *take(struct fz_in *in, unsigned mask, int bit, size_t max)
{
    char *s = fz_str(in);

    if (strlen(s) > max)
        s[max] = '\0';
    if (mask & (1u << bit)) {
        free(s);
        return NULL;
    }
    return s;
}

static void decode(struct fz_case *c, const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct fz_alert *x = &c->x;
    unsigned mask;
    uint64_t traw;

    memset(c, 0, sizeof(*c));
    c->flags = fz_u8(&in);
    x->spec.ninvolved = fz_u8(&in) % (MAX_INV + 1);
    mask = fz_u8(&in);
    mask |= (unsigned)fz_u8(&in) << 8;
    traw = fz_u64(&in);
    x->a.event_time = map_time(traw);
    x->spec.vola_amt = (int64_t)fz_u64(&in);
    x->spec.window_start = map_time(fz_u64(&in));
    x->spec.window_end = map_time(fz_u64(&in));
    x->a.detected_at_ms = (int64_t)(fz_u64(&in) % (uint64_t)(T_END * 1000));
    x->src.partition = (int32_t)fz_u32(&in);
    x->src.offset = (long long)fz_u64(&in);
    x->src.line = x->src.offset;

    for (int i = 0; i < S_N; i++) {
        size_t max = i == S_CONT ? CONT_MAX : i == S_EVID ? EVID_MAX : i == S_JR ? JR_MAX
                                                                                 : SIZE_MAX;
        /* Bit 15 is shared by hilist_code, window and the source name. */
        c->s[i] = take(&in, mask, i < 15 ? i : 15, max);
    }
    for (size_t k = 0; k < x->spec.ninvolved; k++)
        for (int j = 0; j < INV_STRS; j++)
            c->inv[k][j] = take(&in, mask, 12, SIZE_MAX);

    /* Strings the encoder takes from fixed arrays cannot be NULL. */
    if (!c->s[S_CONT])
        c->s[S_CONT] = calloc(1, 1);
    if (!c->s[S_EVID])
        c->s[S_EVID] = calloc(1, 1);
    if (!c->s[S_JR])
        c->s[S_JR] = calloc(1, 1);
    if (!(c->flags & 2)) {
        free(c->s[S_TYPE]);
        c->s[S_TYPE] = strdup(c->flags & 1 ? "RETRACT" : "ALERT");
    }

    x->a.alert_type = c->s[S_TYPE];
    snprintf(x->a.jr_id, sizeof(x->a.jr_id), "%s", c->s[S_JR]);
    x->rule.rule_id = c->s[S_RULE_ID];
    x->rule.rule_name = c->s[S_RULE_NAME];
    x->rule.result = c->flags & 4 ? FG_RESULT_DEFINITE : FG_RESULT_SUSPECT;
    x->det.name = c->s[S_DET];
    x->det.version = c->s[S_DET_VER];
    x->a.rule_pack = c->s[S_PACK];
    snprintf(x->spec.vola_cont, sizeof(x->spec.vola_cont), "%s", c->s[S_CONT]);
    snprintf(x->spec.vola_evid, sizeof(x->spec.vola_evid), "%s", c->s[S_EVID]);
    x->a.psn_no = c->s[S_PSN];
    x->v.fixmedins_code = c->s[S_FIX];
    x->v.mdtrt_id = c->s[S_MDTRT];
    x->v.setl_id = c->s[S_SETL];
    x->a.event_id = c->s[S_EVENT];
    x->v.feedetl_sn = c->s[S_SN];
    x->v.code = c->s[S_CODE];
    x->spec.window = c->flags & 8 ? c->s[S_WINDOW] : NULL;
    for (size_t k = 0; k < x->spec.ninvolved; k++) {
        x->inv[k].setl_id = c->inv[k][0];
        x->inv[k].feedetl_sn = c->inv[k][1];
        x->inv[k].code = c->inv[k][2];
    }
    x->a.replay = (c->flags & 0x40) != 0;
    switch ((c->flags >> 4) & 3) {
    case 0: x->src_kind = 0; break;
    case 1: x->src_kind = 1; x->src.file = c->s[S_SRC]; break;
    case 2: x->src_kind = 2; x->src.topic = c->s[S_SRC]; break;
    case 3: x->src_kind = 1; x->src.file = NULL; break;
    }
    /* A topic source is told from a file source by its non-NULL topic. */
    if (x->src_kind == 2 && !x->src.topic)
        x->src_kind = 1;
    link_alert(x);
}

static void free_case(struct fz_case *c)
{
    for (int i = 0; i < S_N; i++)
        free(c->s[i]);
    for (size_t k = 0; k < MAX_INV; k++)
        for (int j = 0; j < INV_STRS; j++)
            free(c->inv[k][j]);
}

/* ---- the checks ---- */

static int all_valid_utf8(const struct fz_case *c)
{
    for (int i = 0; i < S_N; i++)
        if (!is_valid_utf8(c->s[i]))
            return 0;
    for (size_t k = 0; k < c->x.spec.ninvolved; k++)
        for (int j = 0; j < INV_STRS; j++)
            if (!is_valid_utf8(c->inv[k][j]))
                return 0;
    return 1;
}

static int nonempty(const char *s)
{
    return s && s[0];
}

/* Whether the reader must accept the alert, and as a RETRACT or not. */
static int expect_accept(const struct fz_case *c, int *retract)
{
    const struct fz_alert *x = &c->x;
    char *type = sanitize(c->s[S_TYPE]);
    int ok = type && (strcmp(type, "ALERT") == 0 || strcmp(type, "RETRACT") == 0);

    *retract = ok && type[0] == 'R';
    free(type);
    if (!ok || !x->a.jr_id[0])
        return 0;
    if (*retract)
        return 1;
    return nonempty(c->s[S_RULE_ID]) && nonempty(c->s[S_RULE_NAME]) &&
           nonempty(c->s[S_PACK]) && nonempty(c->s[S_FIX]) && x->a.event_time >= T_MIN &&
           x->a.event_time < T_END && x->spec.vola_amt >= 0 && x->spec.vola_amt <= FEN_MAX;
}

static void check_record(const struct fz_case *c, const struct fg_alert_rec *r, int retract)
{
    const struct fz_alert *x = &c->x;
    int definite = x->rule.result == FG_RESULT_DEFINITE;
    int in_range = x->a.event_time >= T_MIN && x->a.event_time < T_END;
    int amt_ok = x->spec.vola_amt >= 0 && x->spec.vola_amt <= FEN_MAX;
    char iso[64];

    FZ_CHECK(r->retract == retract, "retract %d, expected %d", r->retract, retract);
    check_member(r->jr_id, x->a.jr_id, "jr_id");
    check_member(r->rule_id, c->s[S_RULE_ID], "rule_id");
    check_member(r->rule_name, c->s[S_RULE_NAME], "rule_name");
    check_member(r->rule_pack, c->s[S_PACK], "rule_pack");
    check_member(r->result_type, definite ? "DEFINITE" : "SUSPECT", "result_type");
    check_member(r->sev_deg, definite ? "3" : "2", "sev_deg");
    check_member(r->psn_no, c->s[S_PSN], "psn_no");
    check_member(r->fixmedins_code, c->s[S_FIX], "fixmedins_code");
    check_member(r->mdtrt_id, c->s[S_MDTRT], "mdtrt_id");
    check_member(r->setl_id, c->s[S_SETL], "setl_id");
    check_member(r->event_id, c->s[S_EVENT], "event_id");
    fmt_iso(x->a.event_time, iso, sizeof(iso));
    check_member(r->event_time, iso, "event_time");
    FZ_CHECK(r->has_time == in_range, "has_time %d for %" PRId64, r->has_time,
             x->a.event_time);
    FZ_CHECK(!r->has_time || r->epoch == x->a.event_time,
             "event_time %" PRId64 " read back as %" PRId64, x->a.event_time, r->epoch);
    FZ_CHECK(r->has_amount == amt_ok, "has_amount %d for %" PRId64 " fen", r->has_amount,
             x->spec.vola_amt);
    FZ_CHECK(!r->has_amount || r->fen == x->spec.vola_amt,
             "vola_amt %" PRId64 " read back as %" PRId64, x->spec.vola_amt, r->fen);
    FZ_CHECK(r->nlines == 1 + x->spec.ninvolved, "%zu detail lines, expected %zu", r->nlines,
             1 + x->spec.ninvolved);
    for (size_t i = 0; i < r->nlines; i++) {
        const struct fg_wline *w = i ? &x->inv[i - 1] : &x->v;
        check_member(r->lines[i].setl_id, w->setl_id, "detail setl_id");
        check_member(r->lines[i].feedetl_sn, w->feedetl_sn, "detail feedetl_sn");
        check_member(r->lines[i].hilist_code, w->code, "detail hilist_code");
        check_member(r->lines[i].vola_item_type, i ? "2" : "1", "detail vola_item_type");
    }
    FZ_CHECK(r->canonical && strlen(r->canonical) == r->canonical_len, "canonical text");
}

/* What only the JSON shows: the fields the record does not keep. */
static void check_document(const struct fz_case *c, const json_t *doc, int canonical)
{
    const struct fz_alert *x = &c->x;
    const json_t *dtl = json_object_get(doc, "judge_result_detail_dtos");
    const json_t *ev = json_object_get(doc, "evidence");
    char amt[40];

    FZ_CHECK(json_is_object(doc), "alert is not an object");
    check_json_str(json_object_get(doc, "alert_type"), c->s[S_TYPE], "alert_type");
    check_json_str(json_object_get(doc, "detector"), c->s[S_DET], "detector");
    check_json_str(json_object_get(doc, "detector_version"), c->s[S_DET_VER],
                   "detector_version");
    check_json_str(json_object_get(doc, "vola_cont"), c->s[S_CONT], "vola_cont");
    check_json_str(json_object_get(doc, "vola_evid"), c->s[S_EVID], "vola_evid");
    fmt_fen(x->spec.vola_amt, amt);
    check_json_str(json_object_get(doc, "vola_amt"), amt, "vola_amt");
    FZ_CHECK(json_is_array(dtl) && json_array_size(dtl) == 1 + x->spec.ninvolved,
             "judge_result_detail_dtos");
    for (size_t i = 0; i < json_array_size(dtl); i++)
        check_json_str(json_object_get(json_array_get(dtl, i), "vola_amt"), i ? "0.00" : amt,
                       "detail vola_amt");
    FZ_CHECK(json_is_object(ev), "evidence is not an object");
    if (x->spec.window) {
        FZ_CHECK(json_object_size(ev) == 3, "evidence has %zu keys", json_object_size(ev));
        check_json_str(json_object_get(ev, "window"), x->spec.window, "window");
        check_json_time(json_object_get(ev, "window_start"), x->spec.window_start,
                        "window_start");
        check_json_time(json_object_get(ev, "window_end"), x->spec.window_end, "window_end");
    } else {
        FZ_CHECK(json_object_size(ev) == 0, "evidence without a window has keys");
    }
    if (canonical) {
        FZ_CHECK(!json_object_get(doc, "replay") && !json_object_get(doc, "source") &&
                     !json_object_get(doc, "detected_at"),
                 "canonical alert has a run field");
        FZ_CHECK(json_object_size(doc) == 21, "canonical alert has %zu keys",
                 json_object_size(doc));
        return;
    }
    FZ_CHECK(json_object_size(doc) == 24, "alert has %zu keys", json_object_size(doc));
    FZ_CHECK(json_is_boolean(json_object_get(doc, "replay")) &&
                 json_is_true(json_object_get(doc, "replay")) == x->a.replay,
             "replay");
    const json_t *src = json_object_get(doc, "source");
    if (x->src_kind == 0) {
        FZ_CHECK(json_is_null(src), "source: expected null");
    } else if (x->src_kind == 2) {
        FZ_CHECK(json_is_object(src) && json_object_size(src) == 3, "source: topic object");
        check_json_str(json_object_get(src, "topic"), x->src.topic, "source.topic");
        FZ_CHECK(json_integer_value(json_object_get(src, "partition")) == x->src.partition &&
                     json_integer_value(json_object_get(src, "offset")) == x->src.offset,
                 "source partition/offset");
    } else {
        FZ_CHECK(json_is_object(src) && json_object_size(src) == 2, "source: file object");
        check_json_str(json_object_get(src, "file"), x->src.file, "source.file");
        FZ_CHECK(json_integer_value(json_object_get(src, "line")) == x->src.line,
                 "source line");
    }
    /* detected_at: "yyyy-MM-ddTHH:mm:ss.mmm+08:00" of the wall clock. */
    const json_t *da = json_object_get(doc, "detected_at");
    const char *das = json_string_value(da), *why = NULL;
    int64_t sec;
    char ms[16];
    FZ_CHECK(das && strlen(das) == 29, "detected_at '%s'", das ? das : "?");
    FZ_CHECK(fg_time_parse(das, strlen(das), &sec, &why) == 0 &&
                 sec == x->a.detected_at_ms / 1000,
             "detected_at '%s' for %" PRId64 " ms", das, x->a.detected_at_ms);
    snprintf(ms, sizeof(ms), "%03d", (int)(x->a.detected_at_ms % 1000));
    FZ_CHECK(das[19] == '.' && memcmp(das + 20, ms, 3) == 0, "detected_at '%s' millis %s",
             das, ms);
}

/* The alert with its strings replaced by those of a read-back document
 * (numbers are kept: their round trip is checked above). */
static void rebuild(const struct fz_alert *orig, const json_t *doc, struct fz_alert *out)
{
    const json_t *dtl = json_object_get(doc, "judge_result_detail_dtos");
    const json_t *ev = json_object_get(doc, "evidence");
    const json_t *src = json_object_get(doc, "source");
    const char *s;

    *out = *orig;
    link_alert(out);
#define STR(obj, k) json_string_value(json_object_get((obj), (k)))
    out->a.alert_type = STR(doc, "alert_type");
    s = STR(doc, "jr_id");
    /* A jr_id that U+FFFD made longer than the field keeps its bytes. */
    if (s && strlen(s) < sizeof(out->a.jr_id))
        snprintf(out->a.jr_id, sizeof(out->a.jr_id), "%s", s);
    out->rule.rule_id = STR(doc, "rule_id");
    out->rule.rule_name = STR(doc, "rule_name");
    out->rule.result = same(STR(doc, "result_type"), "DEFINITE") ? FG_RESULT_DEFINITE
                                                                  : FG_RESULT_SUSPECT;
    out->det.name = STR(doc, "detector");
    out->det.version = STR(doc, "detector_version");
    out->a.rule_pack = STR(doc, "rule_pack");
    s = STR(doc, "vola_cont");
    FZ_CHECK(s && strlen(s) < sizeof(out->spec.vola_cont), "vola_cont does not fit");
    snprintf(out->spec.vola_cont, sizeof(out->spec.vola_cont), "%s", s);
    s = STR(doc, "vola_evid");
    FZ_CHECK(s && strlen(s) < sizeof(out->spec.vola_evid), "vola_evid does not fit");
    snprintf(out->spec.vola_evid, sizeof(out->spec.vola_evid), "%s", s);
    out->a.psn_no = STR(doc, "psn_no");
    out->v.fixmedins_code = STR(doc, "fixmedins_code");
    out->v.mdtrt_id = STR(doc, "mdtrt_id");
    out->a.event_id = STR(doc, "event_id");
    for (size_t i = 0; i <= out->spec.ninvolved; i++) {
        const json_t *d = json_array_get(dtl, i);
        struct fg_wline *w = i ? &out->inv[i - 1] : &out->v;
        w->setl_id = STR(d, "setl_id");
        w->feedetl_sn = STR(d, "feedetl_sn");
        w->code = STR(d, "hilist_code");
    }
    if (out->spec.window)
        out->spec.window = STR(ev, "window");
    if (out->src_kind == 2)
        out->src.topic = STR(src, "topic");
    else if (out->src_kind == 1)
        out->src.file = STR(src, "file");
#undef STR
}

static json_t *load(const struct fg_buf *b, const char *what)
{
    json_error_t jerr;
    json_t *doc = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &jerr);

    FZ_CHECK(doc, "%s encoding is not JSON: %s at column %d: %.300s", what, jerr.text,
             jerr.column, b->data);
    return doc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_case c;
    struct fg_buf enc, canon, enc2, enc3;
    struct fg_alert_rec r1, r2, r3;
    struct fz_alert x2, x3;
    json_t *doc1, *doc_c, *doc2;
    char why[512];
    int retract, accept, rc1, rc2;

    decode(&c, data, size);
    fg_buf_init(&enc);
    fg_buf_init(&canon);
    fg_buf_init(&enc2);
    fg_buf_init(&enc3);
    fg_alert_encode(&enc, &c.x.a, 0);
    fg_alert_encode(&canon, &c.x.a, 1);

    /* 1. JSON, and the canonical encoding is the other without run fields. */
    FZ_CHECK(enc.len == strlen(enc.data) && canon.len == strlen(canon.data),
             "encoding holds a NUL");
    FZ_CHECK(canon.len > 1 && enc.len > canon.len &&
                 memcmp(enc.data, canon.data, canon.len - 1) == 0 &&
                 strncmp(enc.data + canon.len - 1, ",\"replay\":", 10) == 0,
             "canonical encoding is not the alert without its run fields:\n%s\n%s",
             canon.data, enc.data);
    doc1 = load(&enc, "the");
    doc_c = load(&canon, "the canonical");
    check_document(&c, doc1, 0);
    check_document(&c, doc_c, 1);

    /* 2-4. Read back by the reader. */
    accept = expect_accept(&c, &retract);
    why[0] = '\0';
    rc1 = fg_alert_rec_parse(enc.data, enc.len, &r1, why, sizeof(why));
    FZ_CHECK(rc1 == (accept ? 0 : -1), "reader %s the alert (%s): %s",
             rc1 ? "rejected" : "accepted", why, enc.data);
    rc2 = fg_alert_rec_parse(canon.data, canon.len, &r2, why, sizeof(why));
    FZ_CHECK(rc2 == rc1, "canonical and full encodings read differently");
    if (rc1) {
        FZ_CHECK(why[0], "rejected without a reason");
    } else {
        check_record(&c, &r1, retract);
        check_record(&c, &r2, retract);
        FZ_CHECK(strcmp(r1.canonical, r2.canonical) == 0, "canonical texts differ:\n%s\n%s",
                 r1.canonical, r2.canonical);
        FZ_CHECK(fg_alert_rec_parse(r1.canonical, r1.canonical_len, &r3, why, sizeof(why)) ==
                         0 &&
                     strcmp(r3.canonical, r1.canonical) == 0,
                 "canonical text is not stable: %s", r1.canonical);
        fg_alert_rec_fini(&r3);
    }
    fg_alert_rec_fini(&r1);
    fg_alert_rec_fini(&r2);

    /* 5. Re-encoding what was read back is stable. */
    rebuild(&c.x, doc1, &x2);
    fg_alert_encode(&enc2, &x2.a, 0);
    if (all_valid_utf8(&c))
        FZ_CHECK(enc2.len == enc.len && memcmp(enc2.data, enc.data, enc.len) == 0,
                 "re-encoding differs:\n%s\n%s", enc.data, enc2.data);
    doc2 = load(&enc2, "the re-");
    rebuild(&x2, doc2, &x3);
    fg_alert_encode(&enc3, &x3.a, 0);
    FZ_CHECK(enc3.len == enc2.len && memcmp(enc3.data, enc2.data, enc2.len) == 0,
             "re-encoding is not stable:\n%s\n%s", enc2.data, enc3.data);

    json_decref(doc1);
    json_decref(doc_c);
    json_decref(doc2);
    fg_buf_fini(&enc);
    fg_buf_fini(&canon);
    fg_buf_fini(&enc2);
    fg_buf_fini(&enc3);
    free_case(&c);
    return 0;
}
