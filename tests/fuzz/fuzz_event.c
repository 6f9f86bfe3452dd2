/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_event.c: the claim parser (fg_claim_parse, src/fg_event.c) on
 * arbitrary bytes. The input is one event line as replay reads it, not
 * NUL-terminated (libFuzzer's buffer ends exactly at size, so ASan sees
 * any read past the line).
 *
 * Properties checked beyond "no crash, no leak":
 *  - a rejection always has a non-empty reason that fits its buffer, and
 *    leaves *out NULL;
 *  - an accepted claim satisfies what the detectors rely on: the required
 *    strings of its event type are present and non-empty, event_type_text
 *    names its type, every line has feedetl_sn and hilist_code, a non-zero
 *    cnt and a non-negative price; every string is readable (walked, so a
 *    dangling pointer into the freed Jansson tree would be caught);
 *  - parsing is deterministic: the same bytes give the same verdict and
 *    the same reason.
 */
#include "fuzz.h"

#include "fg_event.h"

#include <string.h>

static size_t touch(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static void check_required(const char *s, const char *name)
{
    FZ_CHECK(s && s[0], "accepted claim without %s", name);
}

static void check_claim(const struct fg_claim *c)
{
    size_t sum = 0;

    FZ_CHECK(c->type >= FG_EV_SETTLEMENT && c->type <= FG_EV_VISIT_CLOSE, "type %d",
             (int)c->type);
    FZ_CHECK(c->event_type_text && strcmp(c->event_type_text, fg_event_type_name(c->type)) == 0,
             "event_type_text '%s' does not name type %d",
             c->event_type_text ? c->event_type_text : "(null)", (int)c->type);
    check_required(c->event_id, "event_id");
    check_required(c->psn_no, "psn_no");
    check_required(c->fixmedins_code, "fixmedins_code");
    if (c->type == FG_EV_SETTLEMENT) {
        check_required(c->setl_id, "setl_id");
        check_required(c->mdtrt_id, "mdtrt_id");
        check_required(c->med_type, "med_type");
        FZ_CHECK(c->has & FG_HAS_SETL_TIME, "settlement without setl_time");
    }
    if (c->type == FG_EV_SETTLEMENT_REVOKE)
        check_required(c->setl_id, "setl_id");
    FZ_CHECK(c->root == NULL, "claim still points at its JSON tree");
    FZ_CHECK(c->nlines == 0 || c->lines, "lines NULL with nlines %zu", c->nlines);
    sum += touch(c->hosp_lv) + touch(c->mdtrtarea_admvs) + touch(c->init_setl_id) +
           touch(c->gend) + touch(c->insutype);
    for (size_t i = 0; i < c->nlines; i++) {
        const struct fg_line *l = &c->lines[i];
        check_required(l->feedetl_sn, "feedetail[].feedetl_sn");
        check_required(l->hilist_code, "feedetail[].hilist_code");
        FZ_CHECK(l->cnt != 0, "feedetail[%zu].cnt zero accepted", i);
        FZ_CHECK(l->pric >= 0, "feedetail[%zu].pric negative accepted", i);
        sum += touch(l->init_feedetl_sn) + touch(l->hilist_name) + touch(l->list_type) +
               touch(l->med_chrgitm_type) + touch(l->chrgitm_lv) + touch(l->lmt_used_flag) +
               touch(l->hosp_appr_flag);
    }
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fg_claim sentinel;
    struct fg_claim *c = &sentinel;   /* the parser must reset it */
    char why[256], why2[256];
    int rc, rc2;

    memset(why, 0x55, sizeof(why));
    rc = fg_claim_parse((const char *)data, size, &c, why, sizeof(why));
    if (rc != 0) {
        FZ_CHECK(rc == -1, "fg_claim_parse returned %d", rc);
        FZ_CHECK(c == NULL, "rejected claim but *out set");
        FZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL, "reason not NUL-terminated");
        FZ_CHECK(why[0] != '\0', "rejected claim with an empty reason");
    } else {
        FZ_CHECK(c != NULL, "accepted claim but *out NULL");
        check_claim(c);
        fg_claim_free(c);
    }

    /* Deterministic: the same verdict and reason a second time. */
    c = NULL;
    rc2 = fg_claim_parse((const char *)data, size, &c, why2, sizeof(why2));
    FZ_CHECK(rc2 == rc, "second parse gave %d, first %d", rc2, rc);
    if (rc2 == 0)
        fg_claim_free(c);
    else
        FZ_CHECK(strcmp(why, why2) == 0, "reasons differ: '%s' vs '%s'", why, why2);
    return 0;
}
