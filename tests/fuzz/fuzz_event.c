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
 *  - the two readers agree (differential): Jansson alone gives the same
 *    verdict, the same reason and a field-for-field equal claim, and so
 *    does the scanner alone wherever it answers (FG_CLAIM_UNSURE leaves
 *    the input to Jansson). This also makes parsing deterministic.
 */
#include "fuzz.h"

#include "../common/claim_cmp.h"
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

/* The result of one reader against fg_claim_parse's (rc, c, why). */
static void check_same(const char *reader, int rc, const struct fg_claim *c, const char *why,
                       int rc2, const struct fg_claim *c2, const char *why2)
{
    const char *field;

    FZ_CHECK(rc2 == rc, "%s alone gave %d, fg_claim_parse %d", reader, rc2, rc);
    if (rc == 0) {
        field = claim_cmp(c, c2);
        FZ_CHECK(field == NULL, "%s alone read another %s", reader, field);
    } else {
        FZ_CHECK(c2 == NULL, "%s alone rejected but set *out", reader);
        FZ_CHECK(strcmp(why, why2) == 0, "reasons differ: '%s' vs %s alone '%s'", why, reader,
                 why2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fg_claim sentinel;
    struct fg_claim *c = &sentinel;   /* the parser must reset it */
    struct fg_claim *c2 = NULL;
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
    }

    rc2 = fg_claim_parse_jansson((const char *)data, size, &c2, why2, sizeof(why2));
    check_same("Jansson", rc, c, why, rc2, c2, why2);
    fg_claim_free(c2);
    c2 = &sentinel;
    rc2 = fg_claim_parse_scan((const char *)data, size, &c2, why2, sizeof(why2));
    if (rc2 == FG_CLAIM_UNSURE)
        FZ_CHECK(c2 == NULL, "the scanner was unsure but set *out");
    else
        check_same("the scanner", rc, c, why, rc2, c2, why2);
    fg_claim_free(c2);
    fg_claim_free(c);
    return 0;
}
