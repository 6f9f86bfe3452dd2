/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_alert.c: the alert encoder. Written by hand rather than through a
 * Jansson tree: the key order is part of the byte-identical guarantee and
 * the encoder sits on the hot path of every alert.
 */
#include "fg_alert.h"
#include "fg_common.h"
#include "fg_fixed.h"
#include "fg_hash.h"
#include "fg_time.h"

#include <time.h>

void fg_alert_jr_id(const char *rule_id, const char *rule_pack,
                    const struct fg_wline *v, char out[33])
{
    struct fg_hash128 h;

    fg_hash128_init(&h);
    fg_hash128_cfield(&h, "nhsa.alert.v1");
    fg_hash128_cfield(&h, rule_id);
    fg_hash128_cfield(&h, rule_pack);
    fg_hash128_cfield(&h, v->fixmedins_code);
    fg_hash128_cfield(&h, v->mdtrt_id);
    fg_hash128_cfield(&h, v->feedetl_sn);
    fg_hash128_hex(&h, out);
}

static void key(struct fg_buf *b, const char *k)
{
    fg_buf_putc(b, ',');
    fg_buf_json_cstr(b, k);
    fg_buf_putc(b, ':');
}

static void kstr(struct fg_buf *b, const char *k, const char *v)
{
    key(b, k);
    fg_buf_json_cstr(b, v);
}

static void kmoney(struct fg_buf *b, const char *k, int64_t fen)
{
    char tmp[40];
    key(b, k);
    fg_buf_putc(b, '"');
    fg_buf_puts(b, fg_fixed_format(fen, 2, tmp, sizeof(tmp)));
    fg_buf_putc(b, '"');
}

static void ktime(struct fg_buf *b, const char *k, int64_t t)
{
    char tmp[40];
    key(b, k);
    fg_buf_putc(b, '"');
    fg_buf_puts(b, fg_time_format_iso(t, tmp, sizeof(tmp)));
    fg_buf_putc(b, '"');
}

static void detail(struct fg_buf *b, const struct fg_wline *w, const char *type,
                   int64_t amt, int first)
{
    char tmp[40];
    if (!first)
        fg_buf_putc(b, ',');
    fg_buf_puts(b, "{\"setl_id\":");
    fg_buf_json_cstr(b, w->setl_id);
    kstr(b, "feedetl_sn", w->feedetl_sn);
    kstr(b, "hilist_code", w->code);
    kstr(b, "vola_item_type", type);
    key(b, "vola_amt");
    fg_buf_putc(b, '"');
    fg_buf_puts(b, fg_fixed_format(amt, 2, tmp, sizeof(tmp)));
    fg_buf_puts(b, "\"}");
}

void fg_alert_encode(struct fg_buf *b, const struct fg_alert *a, int canonical)
{
    const struct fg_alert_spec *s = a->spec;
    const struct fg_wline *v = s->violating;
    int definite = a->rule->result == FG_RESULT_DEFINITE;

    fg_buf_puts(b, "{\"schema\":\"nhsa.alert.v1\"");
    kstr(b, "alert_type", a->alert_type);
    kstr(b, "jr_id", a->jr_id);
    kstr(b, "rule_id", a->rule->rule_id);
    kstr(b, "rule_name", a->rule->rule_name);
    kstr(b, "detector", a->det->name);
    kstr(b, "detector_version", a->det->version);
    kstr(b, "rule_pack", a->rule_pack);
    kstr(b, "result_type", definite ? "DEFINITE" : "SUSPECT");
    kstr(b, "sev_deg", definite ? "3" : "2");
    kstr(b, "vola_cont", s->vola_cont);
    kstr(b, "vola_evid", s->vola_evid);
    kstr(b, "psn_no", a->psn_no);
    kstr(b, "fixmedins_code", v->fixmedins_code);
    kstr(b, "mdtrt_id", v->mdtrt_id);
    kstr(b, "setl_id", v->setl_id);
    kstr(b, "event_id", a->event_id);
    ktime(b, "event_time", a->event_time);
    kmoney(b, "vola_amt", s->vola_amt);
    key(b, "judge_result_detail_dtos");
    fg_buf_putc(b, '[');
    detail(b, v, "1", s->vola_amt, 1);
    for (size_t i = 0; i < s->ninvolved; i++)
        detail(b, s->involved[i], "2", 0, 0);
    fg_buf_putc(b, ']');
    key(b, "evidence");
    fg_buf_putc(b, '{');
    if (s->window) {
        fg_buf_puts(b, "\"window\":");
        fg_buf_json_cstr(b, s->window);
        ktime(b, "window_start", s->window_start);
        ktime(b, "window_end", s->window_end);
    }
    fg_buf_putc(b, '}');
    if (!canonical) {
        char tmp[48];
        struct tm tm;
        time_t sec = (time_t)(a->detected_at_ms / 1000) + FG_CST_OFFSET;

        key(b, "replay");
        fg_buf_puts(b, a->replay ? "true" : "false");
        key(b, "source");
        if (!a->source) {
            fg_buf_puts(b, "null");
        } else if (a->source->topic) {
            fg_buf_puts(b, "{\"topic\":");
            fg_buf_json_cstr(b, a->source->topic);
            fg_buf_printf(b, ",\"partition\":%d,\"offset\":%lld}", a->source->partition,
                          a->source->offset);
        } else {
            fg_buf_puts(b, "{\"file\":");
            fg_buf_json_cstr(b, a->source->file);
            fg_buf_printf(b, ",\"line\":%lld}", a->source->line);
        }
        gmtime_r(&sec, &tm);
        strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
        key(b, "detected_at");
        fg_buf_printf(b, "\"%s.%03d+08:00\"", tmp, (int)(a->detected_at_ms % 1000));
    }
    fg_buf_putc(b, '}');
}
