/* SPDX-License-Identifier: Apache-2.0
 *
 * claim_cmp.h: field-by-field comparison of two parsed claims, for the
 * tests that hold fg_claim_parse's two readers (the scanner and Jansson)
 * to the same result. Header-only: the unit tests and the fuzz harness
 * each include it.
 */
#ifndef FG_TEST_CLAIM_CMP_H
#define FG_TEST_CLAIM_CMP_H

#include <string.h>

#include "fg_event.h"

static int claim_str_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* NULL when a and b hold the same claim, else the first field that
 * differs (a static name). */
static const char *claim_cmp(const struct fg_claim *a, const struct fg_claim *b)
{
#define CLAIM_CMP_STR(x, name)                                                 \
    if (claim_str_differs((x)->name, (y)->name))                              \
        return #name;
#define CLAIM_CMP_INT(x, name)                                                 \
    if ((x)->name != (y)->name)                                                \
        return #name;
    {
        const struct fg_claim *y = b;
        CLAIM_CMP_INT(a, type)
        CLAIM_CMP_STR(a, event_type_text)
        CLAIM_CMP_STR(a, event_id)
        CLAIM_CMP_STR(a, psn_no)
        CLAIM_CMP_STR(a, fixmedins_code)
        CLAIM_CMP_STR(a, hosp_lv)
        CLAIM_CMP_STR(a, mdtrtarea_admvs)
        CLAIM_CMP_STR(a, setl_id)
        CLAIM_CMP_STR(a, init_setl_id)
        CLAIM_CMP_STR(a, mdtrt_id)
        CLAIM_CMP_STR(a, gend)
        CLAIM_CMP_STR(a, insutype)
        CLAIM_CMP_STR(a, med_type)
        CLAIM_CMP_INT(a, event_time)
        CLAIM_CMP_INT(a, setl_time)
        CLAIM_CMP_INT(a, begntime)
        CLAIM_CMP_INT(a, endtime)
        CLAIM_CMP_INT(a, brdy_day)
        CLAIM_CMP_INT(a, has)
        CLAIM_CMP_INT(a, nlines)
    }
    for (size_t i = 0; i < a->nlines; i++) {
        const struct fg_line *l = &a->lines[i], *y = &b->lines[i];
        CLAIM_CMP_STR(l, feedetl_sn)
        CLAIM_CMP_STR(l, init_feedetl_sn)
        CLAIM_CMP_STR(l, hilist_code)
        CLAIM_CMP_STR(l, hilist_name)
        CLAIM_CMP_STR(l, list_type)
        CLAIM_CMP_STR(l, med_chrgitm_type)
        CLAIM_CMP_STR(l, chrgitm_lv)
        CLAIM_CMP_STR(l, lmt_used_flag)
        CLAIM_CMP_STR(l, hosp_appr_flag)
        CLAIM_CMP_INT(l, fee_time)
        CLAIM_CMP_INT(l, pric)
        CLAIM_CMP_INT(l, cnt)
        CLAIM_CMP_INT(l, fee)
        CLAIM_CMP_INT(l, has)
        CLAIM_CMP_INT(l, pric_uplmt)
        CLAIM_CMP_INT(l, inscp)
        CLAIM_CMP_INT(l, overlmt)
        CLAIM_CMP_INT(l, prd_days)
    }
#undef CLAIM_CMP_STR
#undef CLAIM_CMP_INT
    return NULL;
}

#endif
