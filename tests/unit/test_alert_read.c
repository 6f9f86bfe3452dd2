/* SPDX-License-Identifier: Apache-2.0
 *
 * test_alert_read.c: alerts read back (fg_alert_read): the fields, exact
 * fen, the canonical text two runs are compared by, what makes a line
 * bad, and a file read through the reader (plain and gzip).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "fg_alert_read.h"
#include "fg_common.h"
#include "fg_time.h"

#define ALERT_HEAD "{\"schema\":\"nhsa.alert.v1\",\"alert_type\":\"ALERT\",\"jr_id\":\"j1\","
#define ALERT_BODY                                                                             \
    "\"rule_id\":\"DUP-PAIR\",\"rule_name\":\"重复收费\",\"rule_pack\":\"p@1\","             \
    "\"result_type\":\"DEFINITE\",\"sev_deg\":\"3\",\"fixmedins_code\":\"H1\","               \
    "\"psn_no\":\"P1\",\"event_time\":\"2024-03-05T09:59:06+08:00\",\"vola_amt\":\"25.10\","  \
    "\"judge_result_detail_dtos\":[{\"setl_id\":\"S\",\"feedetl_sn\":\"7\","                 \
    "\"hilist_code\":\"C7\",\"vola_item_type\":\"1\"},{\"feedetl_sn\":\"3\","                 \
    "\"hilist_code\":\"C3\",\"vola_item_type\":\"2\"}]"

static int parse(const char *text, struct fg_alert_rec *rec, char *why, size_t whylen)
{
    return fg_alert_rec_parse(text, strlen(text), rec, why, whylen);
}

static void test_fields(void **state)
{
    struct fg_alert_rec rec;
    char why[256] = "";
    int64_t want;

    (void)state;
    assert_int_equal(parse(ALERT_HEAD ALERT_BODY "}", &rec, why, sizeof(why)), 0);
    assert_int_equal(rec.retract, 0);
    assert_string_equal(rec.jr_id, "j1");
    assert_string_equal(rec.rule_id, "DUP-PAIR");
    assert_string_equal(rec.rule_name, "重复收费");
    assert_string_equal(rec.fixmedins_code, "H1");
    assert_string_equal(rec.event_time, "2024-03-05T09:59:06+08:00");
    assert_null(rec.mdtrt_id);
    assert_int_equal(rec.fen, 2510);
    assert_true(rec.has_amount && rec.has_time);
    assert_int_equal(fg_time_parse("2024-03-05 09:59:06", 19, &want, NULL), 0);
    assert_int_equal(rec.epoch, want);
    assert_int_equal(rec.nlines, 2);
    assert_string_equal(rec.lines[0].feedetl_sn, "7");
    assert_string_equal(rec.lines[0].hilist_code, "C7");
    assert_null(rec.lines[1].setl_id);
    assert_string_equal(rec.lines[1].vola_item_type, "2");
    fg_alert_rec_fini(&rec);
}

/* The run fields go, keys are sorted: the same alert from a live run and a
 * replay, keys in another order, has the same canonical bytes. */
static void test_canonical(void **state)
{
    struct fg_alert_rec a, b;
    char why[256];

    (void)state;
    assert_int_equal(parse(ALERT_HEAD ALERT_BODY ",\"replay\":true,\"source\":{\"file\":\"x\","
                                                 "\"line\":3},\"detected_at\":\"t1\"}",
                           &a, why, sizeof(why)),
                     0);
    assert_int_equal(parse("{\"replay\":false,\"detected_at\":\"t2\"," ALERT_BODY
                           ",\"jr_id\":\"j1\",\"alert_type\":\"ALERT\","
                           "\"schema\":\"nhsa.alert.v1\",\"source\":{\"topic\":\"c\"}}",
                           &b, why, sizeof(why)),
                     0);
    assert_int_equal(a.canonical_len, b.canonical_len);
    assert_memory_equal(a.canonical, b.canonical, a.canonical_len);
    assert_null(strstr(a.canonical, "replay"));
    assert_null(strstr(a.canonical, "detected_at"));
    assert_null(strstr(a.canonical, "\"source\""));
    assert_non_null(strstr(a.canonical, "重复收费"));   /* UTF-8 kept, not escaped */
    assert_true(strncmp(a.canonical, "{\"alert_type\":\"ALERT\",", 22) == 0);
    fg_alert_rec_fini(&a);
    fg_alert_rec_fini(&b);
}

static void test_retract(void **state)
{
    struct fg_alert_rec rec;
    char why[256];

    (void)state;
    /* Only the jr_id is required; a malformed optional field is dropped. */
    assert_int_equal(parse("{\"schema\":\"nhsa.alert.v1\",\"alert_type\":\"RETRACT\","
                           "\"jr_id\":\"j9\",\"event_time\":\"soon\",\"vola_amt\":\"x\"}",
                           &rec, why, sizeof(why)),
                     0);
    assert_int_equal(rec.retract, 1);
    assert_string_equal(rec.jr_id, "j9");
    assert_false(rec.has_time);
    assert_false(rec.has_amount);
    assert_null(rec.rule_id);
    fg_alert_rec_fini(&rec);
}

static void bad(const char *text, const char *reason)
{
    struct fg_alert_rec rec;
    char why[256] = "";

    assert_int_equal(parse(text, &rec, why, sizeof(why)), -1);
    if (!strstr(why, reason))
        fail_msg("'%s': reason '%s', expected '%s'", text, why, reason);
    fg_alert_rec_fini(&rec);
}

static void test_bad_lines(void **state)
{
    (void)state;
    bad("not json", "not JSON");
    bad("[1]", "not a JSON object");
    bad("{\"schema\":\"nhsa.alert.v0\"}", "schema");
    bad("{\"schema\":\"nhsa.alert.v1\",\"alert_type\":\"X\"}", "alert_type");
    bad("{\"schema\":\"nhsa.alert.v1\",\"alert_type\":\"RETRACT\"}", "jr_id");
    bad(ALERT_HEAD "\"rule_id\":\"R\"}", "missing or non-string field 'rule_name'");
    /* A key twice: which one counts would be a guess. */
    bad(ALERT_HEAD ALERT_BODY ",\"vola_amt\":\"1.00\"}", "duplicate");
    /* More precise than a fen, negative, not a number, not a time, not a
     * result type. */
    {
        const char *body = ALERT_BODY;
        char line[2048];
        const char *cases[][2] = {
            {"\"25.10\"", "\"25.105\""}, {"\"25.10\"", "\"-1.00\""},
            {"\"25.10\"", "\"abc\""},    {"2024-03-05T09:59:06+08:00", "yesterday"},
            {"DEFINITE", "MAYBE"},
        };
        const char *reasons[] = {"vola_amt", "vola_amt: negative", "vola_amt", "event_time",
                                 "result_type"};
        for (size_t i = 0; i < FG_ARRAY_LEN(cases); i++) {
            const char *at = strstr(body, cases[i][0]);
            assert_non_null(at);
            snprintf(line, sizeof(line), "%s%.*s%s%s}", ALERT_HEAD, (int)(at - body), body,
                     cases[i][1], at + strlen(cases[i][0]));
            bad(line, reasons[i]);
        }
    }
    /* Zeros past the fen are exact and fine. */
    {
        struct fg_alert_rec rec;
        char why[256];
        const char *body = ALERT_BODY, *at = strstr(body, "\"25.10\"");
        char line[2048];
        snprintf(line, sizeof(line), "%s%.*s\"25.100\"%s}", ALERT_HEAD, (int)(at - body), body,
                 at + 7);
        assert_int_equal(parse(line, &rec, why, sizeof(why)), 0);
        assert_int_equal(rec.fen, 2510);
        fg_alert_rec_fini(&rec);
    }
}

static void test_time_arg(void **state)
{
    int64_t t, u;

    (void)state;
    assert_int_equal(fg_alert_parse_time_arg("2024-03-05", &t), 0);
    assert_int_equal(fg_alert_parse_time_arg("2024-03-05T00:00:00+08:00", &u), 0);
    assert_int_equal(t, u);
    assert_int_equal(fg_alert_parse_time_arg("2024-03-05 08:00:00", &t), 0);
    assert_int_equal(fg_alert_parse_time_arg("2024-03-05T00:00:00Z", &u), 0);
    assert_int_equal(t, u);
    assert_int_equal(fg_alert_parse_time_arg("yesterday", &t), -1);
    assert_int_equal(fg_alert_parse_time_arg("2024-13-05", &t), -1);
}

/* Write lines to a file (gzip when gz) and read them back. */
static void roundtrip(int gz)
{
    char path[] = "/tmp/fg-test-alert-read-XXXXXX";
    const char *data = "first\n\nthird line\r\nlast without newline";
    const char *want[] = {"first", "", "third line\r", "last without newline"};
    struct fg_alert_reader_opts ro = {.cfg = NULL, .since = INT64_MIN};
    struct fg_alert_reader *r;
    const char *line;
    char err[256], where[300];
    size_t len, n = 0;
    int fd = mkstemp(path), code = 0;

    assert_true(fd >= 0);
    if (gz) {
        gzFile g = gzdopen(fd, "wb");
        assert_int_equal(gzwrite(g, data, (unsigned)strlen(data)), (int)strlen(data));
        gzclose(g);
    } else {
        assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
        close(fd);
    }
    r = fg_alert_reader_open(path, &ro, &code, err, sizeof(err));
    assert_non_null(r);
    while (fg_alert_reader_next(r, &line, &len, err, sizeof(err)) == 1) {
        assert_true(n < FG_ARRAY_LEN(want));
        assert_int_equal(len, strlen(want[n]));
        assert_memory_equal(line, want[n], len);
        n++;
    }
    assert_int_equal(n, FG_ARRAY_LEN(want));
    snprintf(err, sizeof(err), "%s:4", path);
    assert_string_equal(fg_alert_reader_where(r, where, sizeof(where)), err);
    fg_alert_reader_close(r);
    unlink(path);
}

static void test_reader_file(void **state)
{
    struct fg_alert_reader_opts ro = {.cfg = NULL, .since = INT64_MIN};
    char err[256];
    int code = 0;

    (void)state;
    roundtrip(0);
    roundtrip(1);
    assert_null(fg_alert_reader_open("/nonexistent/alerts.jsonl", &ro, &code, err, sizeof(err)));
    assert_int_equal(code, FG_EXIT_DATAERR);
    /* A Kafka source without a config is a configuration error. */
    assert_null(fg_alert_reader_open("kafka:alerts", &ro, &code, err, sizeof(err)));
    assert_int_equal(code, FG_EXIT_CONFIG);
    assert_null(fg_alert_reader_open("kafka:", &ro, &code, err, sizeof(err)));
    assert_int_equal(code, FG_EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),    cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_retract),   cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_time_arg),  cmocka_unit_test(test_reader_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
