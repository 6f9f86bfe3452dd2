/* SPDX-License-Identifier: Apache-2.0
 *
 * test_event.c: nhsa.claim.v1 parsing (CONTRACT §2): every field into its
 * exact scaled integer, and every quarantine reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../common/claim_cmp.h"
#include "fg_event.h"
#include "fg_time.h"

/* The example event of CONTRACT §2, verbatim apart from hilist_name. */
static const char example[] =
    "{\n"
    "  \"schema\": \"nhsa.claim.v1\",\n"
    "  \"event_id\": \"H33011100246:330000167334638789600938673675:SETTLEMENT\",\n"
    "  \"event_type\": \"SETTLEMENT\",\n"
    "  \"event_time\": \"2024-03-05T09:59:06+08:00\",\n"
    "  \"fixmedins_code\": \"H33011100246\",\n"
    "  \"hosp_lv\": \"05\",\n"
    "  \"mdtrtarea_admvs\": \"330100\",\n"
    "  \"setl_id\": \"330000167334638789600938673675\",\n"
    "  \"init_setl_id\": null,\n"
    "  \"mdtrt_id\": \"330000167334638726901198550858\",\n"
    "  \"psn_no\": \"33050099000010000001689700\",\n"
    "  \"gend\": \"2\",\n"
    "  \"brdy\": \"1951-08-27\",\n"
    "  \"insutype\": \"310\",\n"
    "  \"med_type\": \"11\",\n"
    "  \"begntime\": \"2024-03-05 09:40:00\",\n"
    "  \"endtime\": null,\n"
    "  \"setl_time\": \"2024-03-05 09:59:06\",\n"
    "  \"diseinfo\": [{\"diag_type\": \"1\", \"maindiag_flag\": \"1\", \"diag_code\": "
    "\"I10.x00x002\"}],\n"
    "  \"medfee_sumamt\": \"123.45\",\n"
    "  \"inscp_scp_amt\": \"123.45\",\n"
    "  \"fund_pay_sumamt\": \"86.42\",\n"
    "  \"feedetail\": [{\n"
    "    \"feedetl_sn\": \"1\",\n"
    "    \"init_feedetl_sn\": null,\n"
    "    \"fee_ocur_time\": \"2024-03-05 09:45:00\",\n"
    "    \"hilist_code\": \"XA01ABD075A002010100483\",\n"
    "    \"hilist_name\": \"\xe8\x8d\xaf\xe5\x93\x81\",\n"
    "    \"list_type\": \"101\",\n"
    "    \"med_chrgitm_type\": \"09\",\n"
    "    \"chrgitm_lv\": \"02\",\n"
    "    \"lmt_used_flag\": \"0\",\n"
    "    \"hosp_appr_flag\": \"1\",\n"
    "    \"pric\": \"12.500000\",\n"
    "    \"cnt\": \"2.0000\",\n"
    "    \"det_item_fee_sumamt\": \"25.00\",\n"
    "    \"pric_uplmt_amt\": \"13.000000\",\n"
    "    \"inscp_amt\": \"25.00\",\n"
    "    \"overlmt_amt\": \"0.00\",\n"
    "    \"prd_days\": \"7\",\n"
    "    \"bilg_dept_codg\": \"A03\",\n"
    "    \"bilg_dr_codg\": \"D123456\"\n"
    "  }]\n"
    "}\n";

/* ---- helpers ---- */

static json_t *base(void)
{
    json_error_t e;
    json_t *root = json_loads(example, 0, &e);

    if (!root)
        fail_msg("example does not parse: %s", e.text);
    return root;
}

static json_t *line0(json_t *root)
{
    return json_array_get(json_object_get(root, "feedetail"), 0);
}

/* A minimal event of another type: the fields every event needs. */
static json_t *minimal(const char *type)
{
    json_t *root = json_object();

    json_object_set_new(root, "schema", json_string("nhsa.claim.v1"));
    json_object_set_new(root, "event_id", json_string("E1"));
    json_object_set_new(root, "event_type", json_string(type));
    json_object_set_new(root, "event_time", json_string("2024-03-05 10:00:00"));
    json_object_set_new(root, "psn_no", json_string("P1"));
    json_object_set_new(root, "fixmedins_code", json_string("H1"));
    return root;
}

/* One reader's result against fg_claim_parse's. */
static void same_result(int rc, const struct fg_claim *c, const char *why, int rc2,
                        const struct fg_claim *c2, const char *why2)
{
    const char *field;

    assert_int_equal(rc2, rc);
    if (rc == 0) {
        field = claim_cmp(c, c2);
        if (field)
            fail_msg("the readers differ in %s", field);
    } else {
        /* why may be the caller's short buffer: a prefix of the whole */
        assert_null(c2);
        assert_true(strlen(why) <= strlen(why2));
        assert_memory_equal(why, why2, strlen(why));
    }
}

/* fg_claim_parse, held to each of its readers alone: Jansson always, the
 * scanner wherever it answers. Returns the scanner's answer in *scanned
 * (1, or 0 when it left the input to Jansson). */
static int parse_both(const char *buf, size_t len, struct fg_claim **out, char *why,
                      size_t why_size, int *scanned)
{
    struct fg_claim *c2 = NULL;
    char why2[256] = "";
    int rc = fg_claim_parse(buf, len, out, why, why_size), rc2;

    rc2 = fg_claim_parse_jansson(buf, len, &c2, why2, sizeof(why2));
    same_result(rc, *out, why, rc2, c2, why2);
    fg_claim_free(c2);
    c2 = NULL;
    rc2 = fg_claim_parse_scan(buf, len, &c2, why2, sizeof(why2));
    *scanned = rc2 != FG_CLAIM_UNSURE;
    if (*scanned)
        same_result(rc, *out, why, rc2, c2, why2);
    else
        assert_null(c2);
    fg_claim_free(c2);
    return rc;
}

static int parse_checked(const char *buf, size_t len, struct fg_claim **out, char *why,
                         size_t why_size)
{
    int scanned;
    return parse_both(buf, len, out, why, why_size, &scanned);
}

static struct fg_claim *parse_raw_ok(const char *buf, size_t len)
{
    struct fg_claim *c = NULL;
    char why[256] = "";

    if (parse_checked(buf, len, &c, why, sizeof(why)) != 0)
        fail_msg("rejected: %s", why);
    assert_non_null(c);
    return c;
}

/* Consumes root. Nothing of the test's own is left allocated on failure. */
static struct fg_claim *parse_ok(json_t *root)
{
    char *s = json_dumps(root, 0);
    struct fg_claim *c = NULL;
    char why[256] = "";
    int rc;

    json_decref(root);
    assert_non_null(s);
    rc = parse_checked(s, strlen(s), &c, why, sizeof(why));
    free(s);
    if (rc != 0)
        fail_msg("rejected: %s", why);
    assert_non_null(c);
    return c;
}

static void reject_raw(const char *buf, size_t len, char *why, size_t why_size)
{
    static struct fg_claim dummy;
    struct fg_claim *c = &dummy; /* must be reset to NULL */

    why[0] = '\0';
    if (parse_checked(buf, len, &c, why, why_size) != -1)
        fail_msg("accepted: %.*s", (int)(len > 300 ? 300 : len), buf);
    assert_null(c);
    assert_true(why[0] != '\0');
}

static void expect_raw(const char *buf, const char *reason)
{
    char why[256];

    reject_raw(buf, strlen(buf), why, sizeof(why));
    assert_string_equal(why, reason);
}

/* The reason starts with prefix (for messages that embed a column or
 * Jansson's own text). */
static void expect_raw_prefix(const char *buf, size_t len, const char *prefix)
{
    char why[256];

    reject_raw(buf, len, why, sizeof(why));
    if (strncmp(why, prefix, strlen(prefix)) != 0)
        fail_msg("reason \"%s\" does not start with \"%s\"", why, prefix);
}

/* Consumes root. */
static void expect_reject(json_t *root, const char *reason)
{
    char *s = json_dumps(root, 0);

    json_decref(root);
    assert_non_null(s);
    expect_raw(s, reason);
    free(s);
}

static void set_line(json_t *root, size_t i, const char *key, json_t *v)
{
    json_object_set_new(json_array_get(json_object_get(root, "feedetail"), i), key, v);
}

/* The example with n copies of its line, feedetl_sn "1".."n". */
static json_t *with_lines(size_t n)
{
    json_t *root = base(), *fd = json_array();

    for (size_t i = 0; i < n; i++) {
        json_t *l = json_deep_copy(line0(root));
        char sn[24];   /* a size_t in decimal, and its NUL */
        snprintf(sn, sizeof(sn), "%zu", i + 1);
        json_object_set_new(l, "feedetl_sn", json_string(sn));
        json_array_append_new(fd, l);
    }
    json_object_set_new(root, "feedetail", fd);
    return root;
}

/* ---- accepted events ---- */

static void test_full_settlement(void **state)
{
    struct fg_claim *c;
    const struct fg_line *l;

    (void)state;
    c = parse_raw_ok(example, strlen(example));
    assert_int_equal(c->type, FG_EV_SETTLEMENT);
    assert_string_equal(c->event_type_text, "SETTLEMENT");
    assert_string_equal(fg_event_type_name(c->type), "SETTLEMENT");
    assert_string_equal(c->event_id,
                        "H33011100246:330000167334638789600938673675:SETTLEMENT");
    assert_string_equal(c->psn_no, "33050099000010000001689700");
    assert_string_equal(c->fixmedins_code, "H33011100246");
    assert_string_equal(c->hosp_lv, "05");
    assert_string_equal(c->mdtrtarea_admvs, "330100");
    assert_string_equal(c->setl_id, "330000167334638789600938673675");
    assert_null(c->init_setl_id);
    assert_string_equal(c->mdtrt_id, "330000167334638726901198550858");
    assert_string_equal(c->gend, "2");
    assert_string_equal(c->insutype, "310");
    assert_string_equal(c->med_type, "11");
    /* 2024-03-05 09:59:06 CST = 01:59:06Z */
    assert_int_equal(c->event_time, 1709603946);
    assert_int_equal(c->setl_time, 1709603946);
    assert_int_equal(c->begntime, 1709603946 - 19 * 60 - 6);
    assert_int_equal(c->brdy_day, -6702); /* 1951-08-27 */
    assert_int_equal(c->has, FG_HAS_BRDY | FG_HAS_BEGNTIME | FG_HAS_SETL_TIME);
    assert_false(c->has & FG_HAS_ENDTIME);

    assert_int_equal(c->nlines, 1);
    l = &c->lines[0];
    assert_string_equal(l->feedetl_sn, "1");
    assert_null(l->init_feedetl_sn);
    assert_int_equal(l->fee_time, 1709603946 - 14 * 60 - 6);
    assert_string_equal(l->hilist_code, "XA01ABD075A002010100483");
    assert_string_equal(l->hilist_name, "\xe8\x8d\xaf\xe5\x93\x81");
    assert_string_equal(l->list_type, "101");
    assert_string_equal(l->med_chrgitm_type, "09");
    assert_string_equal(l->chrgitm_lv, "02");
    assert_string_equal(l->lmt_used_flag, "0");
    assert_string_equal(l->hosp_appr_flag, "1");
    assert_int_equal(l->pric, 12500000);      /* micro-yuan */
    assert_int_equal(l->cnt, 20000);          /* 1/10000 */
    assert_int_equal(l->fee, 2500);           /* fen */
    assert_int_equal(l->pric_uplmt, 13000000);
    assert_int_equal(l->inscp, 2500);
    assert_int_equal(l->overlmt, 0);
    assert_int_equal(l->prd_days, 700);       /* 1/100 days */
    assert_int_equal(l->has, FG_HAS_PRIC_UPLMT | FG_HAS_INSCP | FG_HAS_OVERLMT |
                                 FG_HAS_PRD_DAYS);
    fg_claim_free(c);
}

static void test_optional_fields_absent(void **state)
{
    json_t *root = base(), *l = line0(root);
    struct fg_claim *c;

    (void)state;
    json_object_del(root, "brdy");
    json_object_del(root, "begntime");
    json_object_del(root, "hosp_lv");
    json_object_set_new(root, "gend", json_null());
    json_object_del(l, "pric_uplmt_amt");
    json_object_set_new(l, "inscp_amt", json_null());
    json_object_del(l, "overlmt_amt");
    json_object_del(l, "prd_days");
    json_object_del(l, "chrgitm_lv");
    json_object_set_new(root, "endtime", json_string("2024-03-05 11:00:00"));
    c = parse_ok(root);
    assert_null(c->hosp_lv);
    assert_null(c->gend);
    assert_int_equal(c->has, FG_HAS_SETL_TIME | FG_HAS_ENDTIME);
    assert_int_equal(c->endtime, 1709604000 + 3600);
    assert_int_equal(c->lines[0].has, 0);
    assert_null(c->lines[0].chrgitm_lv);
    fg_claim_free(c);
}

static void test_amount_forms(void **state)
{
    json_t *root = with_lines(4);
    struct fg_claim *c;

    (void)state;
    /* Line 0: JSON numbers, integer and real. */
    set_line(root, 0, "pric", json_real(12.5));
    set_line(root, 0, "cnt", json_integer(2));
    set_line(root, 0, "det_item_fee_sumamt", json_integer(25));
    set_line(root, 0, "pric_uplmt_amt", json_real(13.0));
    set_line(root, 0, "inscp_amt", json_real(24.99));
    set_line(root, 0, "overlmt_amt", json_real(0.01));
    set_line(root, 0, "prd_days", json_real(1.5));
    /* Line 1: a refund, strings. */
    set_line(root, 1, "cnt", json_string("-2.0000"));
    set_line(root, 1, "det_item_fee_sumamt", json_string("-25.00"));
    set_line(root, 1, "inscp_amt", json_string("-25"));
    set_line(root, 1, "init_feedetl_sn", json_string("1"));
    /* Line 2: a refund, numbers; fractions of a unit. */
    set_line(root, 2, "cnt", json_real(-0.5));
    set_line(root, 2, "det_item_fee_sumamt", json_real(-6.25));
    set_line(root, 2, "pric", json_string("0.000001"));
    /* Line 3: the largest N(16,s) values as strings. */
    set_line(root, 3, "pric", json_string("9999999999.999999"));
    set_line(root, 3, "cnt", json_string("999999999999.9999"));
    set_line(root, 3, "det_item_fee_sumamt", json_string("99999999999999.99"));
    c = parse_ok(root);
    assert_int_equal(c->nlines, 4);
    assert_int_equal(c->lines[0].pric, 12500000);
    assert_int_equal(c->lines[0].cnt, 20000);
    assert_int_equal(c->lines[0].fee, 2500);
    assert_int_equal(c->lines[0].pric_uplmt, 13000000);
    assert_int_equal(c->lines[0].inscp, 2499);
    assert_int_equal(c->lines[0].overlmt, 1);
    assert_int_equal(c->lines[0].prd_days, 150);
    assert_int_equal(c->lines[1].cnt, -20000);
    assert_int_equal(c->lines[1].fee, -2500);
    assert_int_equal(c->lines[1].inscp, -2500);
    assert_string_equal(c->lines[1].init_feedetl_sn, "1");
    assert_int_equal(c->lines[2].cnt, -5000);
    assert_int_equal(c->lines[2].fee, -625);
    assert_int_equal(c->lines[2].pric, 1);
    assert_int_equal(c->lines[3].pric, INT64_C(9999999999999999));
    assert_int_equal(c->lines[3].cnt, INT64_C(9999999999999999));
    assert_int_equal(c->lines[3].fee, INT64_C(9999999999999999));
    fg_claim_free(c);

    /* Numbers written in the event text, exponent included. */
    const char *body =
        "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"e\",\"event_type\":\"SETTLEMENT\","
        "\"event_time\":\"2024-03-05 10:00:00\",\"psn_no\":\"p\",\"fixmedins_code\":\"h\","
        "\"setl_id\":\"s\",\"mdtrt_id\":\"m\",\"med_type\":\"11\","
        "\"setl_time\":\"2024-03-05 10:00:00\",\"feedetail\":[{\"feedetl_sn\":\"1\","
        "\"fee_ocur_time\":\"2024-03-05 10:00:00\",\"hilist_code\":\"X\","
        "\"pric\":1.25e1,\"cnt\":2.0000,\"det_item_fee_sumamt\":25.00,"
        "\"inscp_amt\":123.45}]}";
    c = parse_raw_ok(body, strlen(body));
    assert_int_equal(c->lines[0].pric, 12500000);
    assert_int_equal(c->lines[0].cnt, 20000);
    assert_int_equal(c->lines[0].fee, 2500);
    assert_int_equal(c->lines[0].inscp, 12345);
    fg_claim_free(c);
}

/* A JSON number carries a decimal exactly only up to a double's precision;
 * past that the parser must either get the exact value or quarantine the
 * event, never silently round money. 12345678901234.56 and
 * 1234567890.123456 are valid N(16,2) / N(16,6) values. */
static void test_amount_number_precision(void **state)
{
    json_t *root = base();
    char *s, why[256] = "";
    struct fg_claim *c = NULL;

    (void)state;
    set_line(root, 0, "det_item_fee_sumamt", json_real(12345678901234.56));
    s = json_dumps(root, JSON_REAL_PRECISION(17));
    json_decref(root);
    if (parse_checked(s, strlen(s), &c, why, sizeof(why)) == 0) {
        int64_t fee = c->lines[0].fee;
        fg_claim_free(c);
        free(s);
        if (fee != INT64_C(1234567890123456))
            fail_msg("12345678901234.56 parsed as %lld fen", (long long)fee);
    } else {
        free(s);
    }
}

static void test_price_number_precision(void **state)
{
    json_t *root = base();
    char *s, why[256] = "";
    struct fg_claim *c = NULL;

    (void)state;
    set_line(root, 0, "pric", json_real(1234567890.123456));
    s = json_dumps(root, JSON_REAL_PRECISION(17));
    json_decref(root);
    if (parse_checked(s, strlen(s), &c, why, sizeof(why)) == 0) {
        int64_t pric = c->lines[0].pric;
        fg_claim_free(c);
        free(s);
        if (pric != INT64_C(1234567890123456))
            fail_msg("1234567890.123456 parsed as %lld micro-yuan", (long long)pric);
    } else {
        free(s);
    }
}

/* A small price sent as a JSON number is a valid N(16,6) amount. */
static void test_amount_small_number(void **state)
{
    json_t *root = base();
    struct fg_claim *c;

    (void)state;
    set_line(root, 0, "pric", json_real(0.000001));
    set_line(root, 0, "pric_uplmt_amt", json_real(0.00005));
    c = parse_ok(root);
    assert_int_equal(c->lines[0].pric, 1);
    assert_int_equal(c->lines[0].pric_uplmt, 50);
    fg_claim_free(c);
}

static void test_codes_keep_leading_zeros(void **state)
{
    json_t *root = base();
    struct fg_claim *c;

    (void)state;
    json_object_set_new(root, "med_type", json_string("01"));
    json_object_set_new(root, "hosp_lv", json_string("001"));
    json_object_set_new(root, "insutype", json_string("0310"));
    set_line(root, 0, "hilist_code", json_string("001102000030000"));
    set_line(root, 0, "chrgitm_lv", json_string("03"));
    set_line(root, 0, "feedetl_sn", json_string("007"));
    c = parse_ok(root);
    assert_string_equal(c->med_type, "01");
    assert_string_equal(c->hosp_lv, "001");
    assert_string_equal(c->insutype, "0310");
    assert_string_equal(c->lines[0].hilist_code, "001102000030000");
    assert_string_equal(c->lines[0].chrgitm_lv, "03");
    assert_string_equal(c->lines[0].feedetl_sn, "007");
    fg_claim_free(c);
}

static void test_unknown_fields_ignored(void **state)
{
    json_t *root = base();
    struct fg_claim *c;

    (void)state;
    json_object_set_new(root, "x_vendor", json_pack("{s:[i,i],s:o}", "a", 1, 2, "b",
                                                    json_null()));
    json_object_set_new(root, "setl_extra", json_true());
    set_line(root, 0, "extra_field", json_real(1.5));
    set_line(root, 0, "memo", json_integer(7));
    c = parse_ok(root);
    assert_int_equal(c->nlines, 1);
    assert_int_equal(c->lines[0].pric, 12500000);
    fg_claim_free(c);
}

static void test_other_event_types(void **state)
{
    json_t *root;
    struct fg_claim *c;

    (void)state;
    root = minimal("SETTLEMENT_REVOKE");
    json_object_set_new(root, "setl_id", json_string("S9"));
    c = parse_ok(root);
    assert_int_equal(c->type, FG_EV_SETTLEMENT_REVOKE);
    assert_string_equal(fg_event_type_name(c->type), "SETTLEMENT_REVOKE");
    assert_string_equal(c->setl_id, "S9");
    assert_int_equal(c->nlines, 0);
    assert_null(c->mdtrt_id);
    fg_claim_free(c);

    expect_reject(minimal("SETTLEMENT_REVOKE"), "setl_id: missing");

    root = minimal("VISIT_OPEN");
    c = parse_ok(root);
    assert_int_equal(c->type, FG_EV_VISIT_OPEN);
    assert_string_equal(c->event_type_text, "VISIT_OPEN");
    assert_int_equal(c->nlines, 0);
    assert_null(c->setl_id);
    assert_false(c->has & FG_HAS_SETL_TIME);
    assert_int_equal(c->event_time, 1709604000);
    fg_claim_free(c);

    root = minimal("VISIT_CLOSE");
    json_object_set_new(root, "endtime", json_string("2024-03-06T08:00:00+08:00"));
    json_object_set_new(root, "mdtrt_id", json_string("M1"));
    c = parse_ok(root);
    assert_int_equal(c->type, FG_EV_VISIT_CLOSE);
    assert_string_equal(fg_event_type_name(c->type), "VISIT_CLOSE");
    assert_true(c->has & FG_HAS_ENDTIME);
    assert_int_equal(c->endtime, 1709604000 + 22 * 3600);
    assert_string_equal(c->mdtrt_id, "M1");
    fg_claim_free(c);
}

static void test_empty_feedetail(void **state)
{
    json_t *root = base();
    struct fg_claim *c;

    (void)state;
    json_object_set_new(root, "feedetail", json_array());
    c = parse_ok(root);
    assert_int_equal(c->nlines, 0);
    fg_claim_free(c);
}

/* An event whose JSON tree outgrows a parser thread's first arena block
 * (256 KiB): parsed the same, then again in the grown block, then a small
 * one and a rejected one after it (fg_event.c, Jansson's allocations). */
static void test_large_event(void **state)
{
    json_t *root = base(), *lines = json_array();
    struct fg_claim *c;
    char sn[16], *text;

    (void)state;
    for (int i = 0; i < 3000; i++) {
        json_t *l = json_deep_copy(line0(root));
        snprintf(sn, sizeof(sn), "%d", i + 1);
        json_object_set_new(l, "feedetl_sn", json_string(sn));
        json_array_append_new(lines, l);
    }
    json_object_set_new(root, "feedetail", lines);
    text = json_dumps(root, 0);
    assert_true(strlen(text) > (256u << 10));
    for (int k = 0; k < 2; k++) {
        c = parse_raw_ok(text, strlen(text));
        assert_int_equal(c->nlines, 3000);
        assert_string_equal(c->lines[0].feedetl_sn, "1");
        assert_string_equal(c->lines[2999].feedetl_sn, "3000");
        assert_int_equal(c->lines[2999].pric, 12500000);
        assert_string_equal(c->psn_no, "33050099000010000001689700");
        fg_claim_free(c);
    }
    free(text);
    json_decref(root);
    c = parse_raw_ok(example, strlen(example));
    assert_int_equal(c->nlines, 1);
    fg_claim_free(c);
    {
        char why[256] = "";
        const char bad[] = "{\"schema\": \"nhsa.claim.v1\", \"event_id\": [1, 2,";
        assert_int_equal(parse_checked(bad, strlen(bad), &c, why, sizeof(why)), -1);
        assert_null(c);
    }
}

/* The scanner answers for what producers send (fg_claim_parse falls back
 * to Jansson for nothing): the example, escaped text, numbers as amounts,
 * unknown nested fields, and a rejection that is about a field. */
static void test_scanner_answers(void **state)
{
    static const char *const events[] = {
        example,
        "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"E\\u4e2d\\n\\\"q\\\"\\/\\\\\","
        "\"event_type\":\"VISIT_OPEN\",\"event_time\":\"2024-03-05 10:00:00\","
        "\"psn_no\":\"P\\ud83d\\ude00\",\"fixmedins_code\":\"H\\u00e9\\b\\f\\r\\t\"}",
        "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"E\",\"event_type\":\"VISIT_OPEN\","
        "\"event_time\":\"2024-03-05 10:00:00\",\"psn_no\":\"P\",\"fixmedins_code\":\"H\","
        "\"x\":{\"a\":[1,-2.5e3,0,true,false,null,{\"b\":{}}],\"c\":[]},\"y\":-0}",
        " \t\r\n{\"feedetail\":[],\"fixmedins_code\":\"H\",\"psn_no\":\"P\",\"schema\":"
        "\"nhsa.claim.v1\",\"event_id\":\"E\",\"event_type\":\"VISIT_CLOSE\",\"event_time\":"
        "\"2024-03-05 10:00:00\"} \n",
        "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"E\",\"event_type\":\"VISIT_OPEN\"}",
        "{\"schema\":\"nhsa.claim.v1\",\"event_id\":7}",
        "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"E\",\"event_type\":\"SETTLEMENT\","
        "\"event_time\":\"2024-03-05 10:00:00\",\"psn_no\":\"P\",\"fixmedins_code\":\"H\","
        "\"setl_id\":\"S\",\"mdtrt_id\":\"M\",\"med_type\":\"11\",\"setl_time\":"
        "\"2024-03-05 10:00:00\",\"feedetail\":[{\"feedetl_sn\":\"1\",\"fee_ocur_time\":"
        "\"2024-03-05 10:00:00\",\"hilist_code\":\"C\",\"pric\":12.5,\"cnt\":2,"
        "\"det_item_fee_sumamt\":25,\"prd_days\":null},7]}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        struct fg_claim *c = NULL;
        char why[256] = "";
        int scanned;
        parse_both(events[i], strlen(events[i]), &c, why, sizeof(why), &scanned);
        if (!scanned)
            fail_msg("the scanner left event %zu to Jansson", i);
        fg_claim_free(c);
    }
}

/* Every prefix of an event, each in a heap block of exactly its length:
 * both readers reject it without reading past the end (a sanitizer build
 * reports any read beyond the block). */
static void test_prefixes_exact(void **state)
{
    static const char ev[] =
        "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"E\\u4e2d\",\"event_type\":"
        "\"SETTLEMENT\",\"x\":[1,-2.5e3,{\"a\":[true,null]}],\"feedetail\":[{\"feedetl_sn\""
        ":\"1\",\"pric\":12.5,\"cnt\":\"1\"},{\"feedetl_sn\":\"2\"},7] }";

    (void)state;
    for (size_t n = 0; n < sizeof(ev) - 1; n++) {
        char *buf = malloc(n ? n : 1), why[256];
        struct fg_claim *c = NULL;
        assert_non_null(buf);
        memcpy(buf, ev, n);
        assert_int_equal(parse_checked(buf, n, &c, why, sizeof(why)), -1);
        free(buf);
    }
}

/* Inputs at the edges of JSON, where the scanner must either answer as
 * Jansson does or leave the input to it; parse_both checks which. The
 * ones Jansson rejects must be rejected, the rest accepted. */
static void test_readers_agree(void **state)
{
    static const char head[] =
        "{\"schema\":\"nhsa.claim.v1\",\"event_type\":\"VISIT_OPEN\",\"event_time\":"
        "\"2024-03-05 10:00:00\",\"fixmedins_code\":\"H\",\"psn_no\":\"P\",";
    static const struct {
        const char *tail;   /* after head */
        int ok;
    } cases[] = {
        {"\"event_id\":\"E\"}", 1},
        {"\"event_id\":\"E\",\"x\":\"\\u0041\\u00\"}", 0},        /* short \u */
        {"\"event_id\":\"E\\ud800\"}", 0},                         /* lone high */
        {"\"event_id\":\"E\\udc00\"}", 0},                         /* lone low */
        {"\"event_id\":\"E\\ud800\\u0041\"}", 0},                  /* high, no low */
        {"\"event_id\":\"E\\u0000\"}", 0},
        {"\"event_id\":\"E\\x\"}", 0},
        {"\"event_id\":\"E\xc2\"}", 0},                            /* cut sequence */
        {"\"event_id\":\"E\xe0\x80\x80\"}", 0},                    /* overlong */
        {"\"event_id\":\"E\xed\xa0\x80\"}", 0},                    /* surrogate */
        {"\"event_id\":\"E\xf4\x90\x80\x80\"}", 0},                /* past U+10FFFF */
        {"\"event_id\":\"E\xf0\x9f\x98\x80\xef\xbf\xbf\x7f\"}", 1},
        {"\"event_id\":\"E\t\"}", 0},                              /* raw control */
        {"\"psn\\u005fno\":\"Q\",\"event_id\":\"E\"}", 0},         /* duplicate, escaped */
        {"\"ps\\u006e\":\"Q\",\"event_id\":\"E\"}", 1},            /* escaped, unknown */
        {"\"event_id\":\"E\",\"x\":{\"a\":1,\"a\":2}}", 0},        /* nested duplicate */
        {"\"event_id\":\"E\",\"x\":{\"a\":1,\"b\":{\"a\":2}}}", 1},
        {"\"event_id\":\"E\",\"x\":1,\"x\":1}", 0},
        {"\"event_id\":\"E\",\"x\":1e400}", 0},
        {"\"event_id\":\"E\",\"x\":-1e400}", 0},
        {"\"event_id\":\"E\",\"x\":1e-400}", 1},
        {"\"event_id\":\"E\",\"x\":123456789012345678901234567890}", 1},
        {"\"event_id\":\"E\",\"x\":01}", 0},
        {"\"event_id\":\"E\",\"x\":1.}", 0},
        {"\"event_id\":\"E\",\"x\":.5}", 0},
        {"\"event_id\":\"E\",\"x\":-}", 0},
        {"\"event_id\":\"E\",\"x\":1e+}", 0},
        {"\"event_id\":\"E\",\"x\":+1}", 0},
        {"\"event_id\":\"E\",\"x\":tru}", 0},
        {"\"event_id\":\"E\",\"x\":nullx}", 0},
        {"\"event_id\":\"E\",\"x\":[1,]}", 0},
        {"\"event_id\":\"E\",}", 0},
        {"\"event_id\":\"E\" \"x\":1}", 0},
        {"\"event_id\":\"E\"}}", 0},
        {"\"event_id\":\"E\"}\x0b", 0},
        {"\"event_id\":\"E\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
         1},
        {"\"event_id\":\"E\",\"feedetail\":null}", 1},
        {"\"event_id\":\"E\",\"feedetail\":{}}", 0},               /* not an array */
        {"\"event_id\":\"E\",\"feedetail\":[\"x\"]}", 0},          /* not an object */
        {"\"event_id\":\"E\",\"gend\":true}", 0},                  /* not a string */
        {"\"event_id\":[]}", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[512], why[256] = "";
        struct fg_claim *c = NULL;
        int n = snprintf(buf, sizeof(buf), "%s%s", head, cases[i].tail), scanned, rc;
        assert_true(n > 0 && (size_t)n < sizeof(buf));
        rc = parse_both(buf, (size_t)n, &c, why, sizeof(why), &scanned);
        if ((rc == 0) != cases[i].ok)
            fail_msg("case %zu: %s (%s)", i, rc ? "rejected" : "accepted", why);
        fg_claim_free(c);
    }
    /* Thirty-three unknown keys: past what the scanner checks for
     * duplicates, so Jansson decides. */
    {
        char buf[2048], why[256] = "";
        struct fg_claim *c = NULL;
        int n = snprintf(buf, sizeof(buf), "%s\"event_id\":\"E\"", head), scanned;
        for (int k = 0; k < 33; k++)
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, ",\"k%d\":%d", k, k);
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "}");
        assert_int_equal(parse_both(buf, (size_t)n, &c, why, sizeof(why), &scanned), 0);
        assert_false(scanned);
        fg_claim_free(c);
    }
}

/* ---- rejections ---- */

static void test_reject_not_json(void **state)
{
    char buf[sizeof(example)];

    (void)state;
    /* Truncated: every prefix of the example is invalid JSON. */
    memcpy(buf, example, sizeof(example));
    for (size_t n = 0; n < strlen(example) - 2; n += 7)
        expect_raw_prefix(buf, n, "invalid JSON");
    expect_raw_prefix("{\"schema\": \"nhsa.claim.v1\",", 27, "invalid JSON");
    expect_raw_prefix("", 0, "invalid JSON");
    expect_raw_prefix("{} trailing", 11, "invalid JSON");
    expect_raw("[1, 2]", "event is not a JSON object");
    expect_raw("[]", "event is not a JSON object");
}

static void test_reject_number_top_level(void **state)
{
    char why[256];

    (void)state;
    reject_raw("42", 2, why, sizeof(why));
    if (strcmp(why, "event is not a JSON object") != 0 &&
        strncmp(why, "invalid JSON", 12) != 0)
        fail_msg("unexpected reason %s", why);
    reject_raw("\"SETTLEMENT\"", 12, why, sizeof(why));
    if (strcmp(why, "event is not a JSON object") != 0 &&
        strncmp(why, "invalid JSON", 12) != 0)
        fail_msg("unexpected reason %s", why);
}

static void test_reject_envelope(void **state)
{
    json_t *root;

    (void)state;
    root = base();
    json_object_del(root, "schema");
    expect_reject(root, "schema: missing");
    root = base();
    json_object_set_new(root, "schema", json_string("nhsa.claim.v2"));
    expect_reject(root, "schema: expected \"nhsa.claim.v1\"");
    root = base();
    json_object_set_new(root, "schema", json_integer(1));
    expect_reject(root, "schema: not a string");

    static const char *const required[] = {"event_id", "event_type", "event_time",
                                           "psn_no", "fixmedins_code"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        char reason[64];
        snprintf(reason, sizeof(reason), "%s: missing", required[i]);
        root = base();
        json_object_del(root, required[i]);
        expect_reject(root, reason);
        /* null counts as missing */
        root = base();
        json_object_set_new(root, required[i], json_null());
        expect_reject(root, reason);
        snprintf(reason, sizeof(reason), "%s: empty", required[i]);
        root = base();
        json_object_set_new(root, required[i], json_string(""));
        expect_reject(root, reason);
    }

    root = base();
    json_object_set_new(root, "event_type", json_string("SETTLE"));
    expect_reject(root, "event_type: unknown event type");
    root = base();
    json_object_set_new(root, "event_type", json_string("settlement"));
    expect_reject(root, "event_type: unknown event type");
}

static void test_reject_settlement_fields(void **state)
{
    static const char *const required[] = {"setl_id", "mdtrt_id", "med_type",
                                           "setl_time", "feedetail"};
    json_t *root;

    (void)state;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        char reason[64];
        snprintf(reason, sizeof(reason), "%s: missing", required[i]);
        root = base();
        json_object_del(root, required[i]);
        expect_reject(root, reason);
        root = base();
        json_object_set_new(root, required[i], json_null());
        expect_reject(root, reason);
    }
    root = base();
    json_object_set_new(root, "feedetail", json_object());
    expect_reject(root, "feedetail: not an array");
    root = base();
    json_object_set_new(root, "feedetail", json_string("[]"));
    expect_reject(root, "feedetail: not an array");

    root = with_lines(3);
    json_array_set_new(json_object_get(root, "feedetail"), 1, json_string("line"));
    expect_reject(root, "feedetail[1]: not an object");
    root = with_lines(1);
    json_array_set_new(json_object_get(root, "feedetail"), 0, json_array());
    expect_reject(root, "feedetail[0]: not an object");
    root = with_lines(2);
    json_array_set_new(json_object_get(root, "feedetail"), 1, json_null());
    expect_reject(root, "feedetail[1]: not an object");
}

static void test_reject_line_required(void **state)
{
    static const char *const required[] = {"feedetl_sn", "fee_ocur_time", "hilist_code",
                                           "pric", "cnt", "det_item_fee_sumamt"};

    (void)state;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        char reason[96];
        json_t *root = with_lines(3);
        json_object_del(json_array_get(json_object_get(root, "feedetail"), 2),
                        required[i]);
        snprintf(reason, sizeof(reason), "feedetail[2].%s: missing", required[i]);
        expect_reject(root, reason);
        root = with_lines(1);
        set_line(root, 0, required[i], json_null());
        snprintf(reason, sizeof(reason), "feedetail[0].%s: missing", required[i]);
        expect_reject(root, reason);
    }
}

static void test_reject_line_values(void **state)
{
    json_t *root;

    (void)state;
    root = with_lines(5);
    set_line(root, 3, "pric", json_string("abc"));
    expect_reject(root, "feedetail[3].pric: not a decimal");
    root = with_lines(5);
    set_line(root, 3, "pric", json_true());
    expect_reject(root, "feedetail[3].pric: not a decimal");
    root = with_lines(2);
    set_line(root, 1, "cnt", json_string("1,5"));
    expect_reject(root, "feedetail[1].cnt: not a decimal");
    root = with_lines(1);
    set_line(root, 0, "det_item_fee_sumamt", json_string(""));
    expect_reject(root, "feedetail[0].det_item_fee_sumamt: not a decimal");
    root = with_lines(1);
    set_line(root, 0, "inscp_amt", json_string("12.5 "));
    expect_reject(root, "feedetail[0].inscp_amt: not a decimal");
    root = with_lines(1);
    set_line(root, 0, "pric_uplmt_amt", json_object());
    expect_reject(root, "feedetail[0].pric_uplmt_amt: not a decimal");

    /* Too many decimals. */
    root = with_lines(2);
    set_line(root, 1, "det_item_fee_sumamt", json_string("25.001"));
    expect_reject(root, "feedetail[1].det_item_fee_sumamt: more than 2 decimals");
    root = with_lines(1);
    set_line(root, 0, "pric", json_string("12.5000001"));
    expect_reject(root, "feedetail[0].pric: more than 6 decimals");
    root = with_lines(1);
    set_line(root, 0, "cnt", json_string("1.00001"));
    expect_reject(root, "feedetail[0].cnt: more than 4 decimals");
    root = with_lines(1);
    set_line(root, 0, "inscp_amt", json_real(0.125));
    expect_reject(root, "feedetail[0].inscp_amt: more than 2 decimals");

    /* Out of range. */
    root = with_lines(1);
    set_line(root, 0, "pric", json_string("10000000000"));
    expect_reject(root, "feedetail[0].pric: out of range");
    root = with_lines(1);
    set_line(root, 0, "det_item_fee_sumamt", json_string("123456789012345678901234567890"));
    expect_reject(root, "feedetail[0].det_item_fee_sumamt: out of range");
    root = with_lines(1);
    set_line(root, 0, "cnt", json_integer(INT64_C(100000000000000000)));
    expect_reject(root, "feedetail[0].cnt: out of range");
    root = with_lines(1);
    set_line(root, 0, "det_item_fee_sumamt", json_real(1e20));
    expect_reject(root, "feedetail[0].det_item_fee_sumamt: out of range");
    root = with_lines(1);
    set_line(root, 0, "overlmt_amt", json_real(-1e300));
    expect_reject(root, "feedetail[0].overlmt_amt: out of range");

    /* Signs. */
    root = with_lines(1);
    set_line(root, 0, "pric", json_string("-12.5"));
    expect_reject(root, "feedetail[0].pric: negative");
    root = with_lines(4);
    set_line(root, 2, "pric", json_real(-0.01));
    expect_reject(root, "feedetail[2].pric: negative");
    root = with_lines(1);
    set_line(root, 0, "cnt", json_string("0.0000"));
    expect_reject(root, "feedetail[0].cnt: zero");
    root = with_lines(2);
    set_line(root, 1, "cnt", json_integer(0));
    expect_reject(root, "feedetail[1].cnt: zero");
    root = with_lines(1);
    set_line(root, 0, "cnt", json_string("-0"));
    expect_reject(root, "feedetail[0].cnt: zero");
}

static void test_reject_types_and_forms(void **state)
{
    json_t *root;

    (void)state;
    root = base();
    json_object_set_new(root, "med_type", json_integer(11));
    expect_reject(root, "med_type: not a string");
    root = base();
    json_object_set_new(root, "hosp_lv", json_integer(5));
    expect_reject(root, "hosp_lv: not a string");
    root = base();
    json_object_set_new(root, "psn_no", json_integer(330500990000100));
    expect_reject(root, "psn_no: not a string");
    root = with_lines(2);
    set_line(root, 1, "hilist_code", json_integer(1102000030000));
    expect_reject(root, "feedetail[1].hilist_code: not a string");
    root = with_lines(1);
    set_line(root, 0, "chrgitm_lv", json_integer(2));
    expect_reject(root, "feedetail[0].chrgitm_lv: not a string");
    root = with_lines(1);
    set_line(root, 0, "feedetl_sn", json_integer(1));
    expect_reject(root, "feedetail[0].feedetl_sn: not a string");

    /* Empty required strings. */
    root = base();
    json_object_set_new(root, "setl_id", json_string(""));
    expect_reject(root, "setl_id: empty");
    root = with_lines(1);
    set_line(root, 0, "hilist_code", json_string(""));
    expect_reject(root, "feedetail[0].hilist_code: empty");

    /* Times. */
    root = base();
    json_object_set_new(root, "event_time", json_string("2024-03-05T09:59:06"));
    expect_reject(root, "event_time: ISO 8601 time needs an offset (Z or +08:00)");
    root = base();
    json_object_set_new(root, "setl_time", json_string("2024-02-30 09:59:06"));
    expect_reject(root, "setl_time: date out of range");
    root = base();
    json_object_set_new(root, "begntime", json_string("yesterday"));
    expect_reject(root, "begntime: not a date (yyyy-MM-dd)");
    root = base();
    json_object_set_new(root, "endtime", json_string("2024-03-05 25:00:00"));
    expect_reject(root, "endtime: time out of range");
    root = with_lines(3);
    set_line(root, 2, "fee_ocur_time", json_string("2024-03-05 09:45"));
    expect_reject(root, "feedetail[2].fee_ocur_time: not a datetime "
                        "(yyyy-MM-dd HH:mm:ss or ISO 8601)");
    root = base();
    json_object_set_new(root, "event_time", json_integer(1709603946));
    expect_reject(root, "event_time: not a string");

    /* brdy. */
    root = base();
    json_object_set_new(root, "brdy", json_string("1951-02-29"));
    expect_reject(root, "brdy: date out of range");
    root = base();
    json_object_set_new(root, "brdy", json_string("19510827"));
    expect_reject(root, "brdy: not a date (yyyy-MM-dd)");
    root = base();
    json_object_set_new(root, "brdy", json_string("1951-08-27 00:00:00"));
    expect_reject(root, "brdy: not a date (yyyy-MM-dd)");
}

static void test_reject_bytes(void **state)
{
    char *s, *p;

    (void)state;
    /* Duplicate key, at the top level and inside a line. */
    {
        const char *dup =
            "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"a\",\"event_id\":\"b\","
            "\"event_type\":\"VISIT_OPEN\",\"event_time\":\"2024-03-05 10:00:00\","
            "\"psn_no\":\"p\",\"fixmedins_code\":\"h\"}";
        char why[256];
        reject_raw(dup, strlen(dup), why, sizeof(why));
        assert_int_equal(strncmp(why, "invalid JSON", 12), 0);
        assert_non_null(strstr(why, "duplicate"));
        s = strdup(example);
        p = strstr(s, "\"cnt\": \"2.0000\"");
        assert_non_null(p);
        memcpy(p, "\"pric\":\"2.0000\"", 15);   /* same length, pric twice */
        expect_raw_prefix(s, strlen(s), "invalid JSON");
        free(s);
    }

    /* Invalid UTF-8 inside a string. */
    s = strdup(example);
    p = strstr(s, "H33011100246\",\n  \"hosp_lv");
    assert_non_null(p);
    p[1] = (char)0xff;
    expect_raw_prefix(s, strlen(s), "invalid JSON");
    p[1] = (char)0xc0;   /* overlong lead byte */
    p[2] = (char)0xaf;
    expect_raw_prefix(s, strlen(s), "invalid JSON");
    free(s);

    /* A NUL inside a string, escaped or raw. */
    const char *nul_esc =
        "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"a\\u0000b\",\"event_type\":"
        "\"VISIT_OPEN\",\"event_time\":\"2024-03-05 10:00:00\",\"psn_no\":\"p\","
        "\"fixmedins_code\":\"h\"}";
    char why[256];
    reject_raw(nul_esc, strlen(nul_esc), why, sizeof(why));
    const char raw_nul[] = "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"a\0b\"}";
    reject_raw(raw_nul, sizeof(raw_nul) - 1, why, sizeof(why));
    /* The same events without the NUL are fine. */
    const char *ok =
        "{\"schema\":\"nhsa.claim.v1\",\"event_id\":\"ab\",\"event_type\":"
        "\"VISIT_OPEN\",\"event_time\":\"2024-03-05 10:00:00\",\"psn_no\":\"p\","
        "\"fixmedins_code\":\"h\"}";
    fg_claim_free(parse_raw_ok(ok, strlen(ok)));
}

/* The parser reads only buf[0..len): no NUL terminator needed. */
static void test_length_bound(void **state)
{
    size_t n = strlen(example);
    char *buf = malloc(n);
    struct fg_claim *c;

    (void)state;
    assert_non_null(buf);
    memcpy(buf, example, n);
    c = parse_raw_ok(buf, n);
    assert_int_equal(c->nlines, 1);
    fg_claim_free(c);
    free(buf);
    fg_claim_free(NULL);
}

/* Reasons are truncated to the caller's buffer, never overflow it. */
static void test_small_why(void **state)
{
    json_t *root = with_lines(5);
    char *s;
    char why[12];
    struct fg_claim *c = NULL;

    (void)state;
    set_line(root, 3, "pric", json_string("abc"));
    s = json_dumps(root, 0);
    json_decref(root);
    memset(why, 'x', sizeof(why));
    assert_int_equal(parse_checked(s, strlen(s), &c, why, 8), -1);
    assert_null(c);
    assert_int_equal(strlen(why), 7);
    assert_memory_equal(why, "feedeta", 7);
    assert_int_equal(why[8], 'x');
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_settlement),
        cmocka_unit_test(test_optional_fields_absent),
        cmocka_unit_test(test_amount_forms),
        cmocka_unit_test(test_amount_number_precision),
        cmocka_unit_test(test_price_number_precision),
        cmocka_unit_test(test_amount_small_number),
        cmocka_unit_test(test_codes_keep_leading_zeros),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_other_event_types),
        cmocka_unit_test(test_empty_feedetail),
        cmocka_unit_test(test_large_event),
        cmocka_unit_test(test_scanner_answers),
        cmocka_unit_test(test_readers_agree),
        cmocka_unit_test(test_prefixes_exact),
        cmocka_unit_test(test_reject_not_json),
        cmocka_unit_test(test_reject_number_top_level),
        cmocka_unit_test(test_reject_envelope),
        cmocka_unit_test(test_reject_settlement_fields),
        cmocka_unit_test(test_reject_line_required),
        cmocka_unit_test(test_reject_line_values),
        cmocka_unit_test(test_reject_types_and_forms),
        cmocka_unit_test(test_reject_bytes),
        cmocka_unit_test(test_length_bound),
        cmocka_unit_test(test_small_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
