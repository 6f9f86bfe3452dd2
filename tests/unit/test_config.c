/* SPDX-License-Identifier: Apache-2.0
 *
 * test_config.c: config loading, --set overrides, and errors that name the
 * file, the line and the key (CONTRACT §1, §6).
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fg_config.h"

static json_t *cget(const struct fg_config *cfg, const char *path)
{
    return fg_config_get(cfg, path);
}

/* ---- temp files ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Write text to a new /tmp file; its name goes into path. */
static void temp_config(char *path, size_t size, const char *text)
{
    int fd;

    snprintf(path, size, "/tmp/fg_test_config_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static struct fg_config *load_text(char *path, size_t size, const char *text)
{
    char err[512] = "";
    struct fg_config *cfg;

    temp_config(path, size, text);
    cfg = fg_config_load(path, err, sizeof(err));
    if (!cfg)
        fail_msg("load failed: %s", err);
    return cfg;
}

static void expect_err(const char *err, const char *path, const char *rest)
{
    char want[1024];

    snprintf(want, sizeof(want), "%s%s", path, rest);
    assert_string_equal(err, want);
}

/* ---- loading ---- */

static void test_load_ok(void **state)
{
    char path[64], err[512];
    struct fg_config *cfg;
    json_t *v;

    (void)state;
    cfg = load_text(path, sizeof(path),
                    "{\"kafka\": {\"topics\": {\"claims\": \"c1\"}}, \"redis\": "
                    "{\"port\": 6380}}\n");
    assert_string_equal(cfg->path, path);
    v = cget(cfg, "kafka.topics.claims");
    assert_true(json_is_string(v));
    assert_string_equal(json_string_value(v), "c1");
    assert_true(json_is_object(cget(cfg, "kafka.topics")));
    assert_null(cget(cfg, "kafka.topics.alerts"));
    assert_null(cget(cfg, "kafka.topics.claims.deeper"));
    assert_null(cget(cfg, "nope"));
    assert_string_equal(fg_config_str(cfg, "kafka.topics.claims", "d", err, sizeof(err)),
                        "c1");
    fg_config_free(cfg);
    unlink(path);
    fg_config_free(NULL);
}

static void test_load_errors(void **state)
{
    char path[64], err[512];

    (void)state;
    /* A syntax error on line 3. */
    temp_config(path, sizeof(path), "{\n  \"a\": 1,\n  \"b\": ]\n}\n");
    assert_null(fg_config_load(path, err, sizeof(err)));
    {
        char prefix[128];
        snprintf(prefix, sizeof(prefix), "%s:3: ", path);
        if (strncmp(err, prefix, strlen(prefix)) != 0)
            fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
        assert_true(strlen(err) > strlen(prefix));
    }
    unlink(path);

    /* Trailing comma on line 4 of 5. */
    temp_config(path, sizeof(path), "{\n  \"a\": {\n    \"b\": 1,\n  },\n}\n");
    assert_null(fg_config_load(path, err, sizeof(err)));
    {
        char prefix[128];
        snprintf(prefix, sizeof(prefix), "%s:4: ", path);
        if (strncmp(err, prefix, strlen(prefix)) != 0)
            fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
    }
    unlink(path);

    /* A duplicate key is an error, not a silent override. */
    temp_config(path, sizeof(path), "{\n  \"a\": 1,\n  \"a\": 2\n}\n");
    assert_null(fg_config_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    unlink(path);

    /* Not an object. */
    temp_config(path, sizeof(path), "[1, 2]\n");
    assert_null(fg_config_load(path, err, sizeof(err)));
    expect_err(err, path, ":1: the config must be a JSON object");
    unlink(path);

    /* Empty file. */
    temp_config(path, sizeof(path), "");
    assert_null(fg_config_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    unlink(path);

    /* Missing file. */
    assert_null(fg_config_load("/tmp/fg_test_no_such_dir/x.json", err, sizeof(err)));
    assert_non_null(strstr(err, "/tmp/fg_test_no_such_dir/x.json"));
}

/* ---- --set ---- */

/* librdkafka property names contain dots: under kafka.consumer. and
 * kafka.producer. the rest of a --set key is one property (regression:
 * sasl.password used to become a nested object). */
static void test_set_kafka_property(void **state)
{
    char path[64], err[512];
    struct fg_config *cfg;
    void *v;

    (void)state;
    cfg = load_text(path, sizeof(path), "{\"kafka\": {\"consumer\": {}}}\n");
    assert_int_equal(fg_config_set(cfg, "kafka.consumer.sasl.username=alice", err, sizeof(err)), 0);
    assert_int_equal(fg_config_set(cfg, "kafka.producer.ssl.ca.location=/x", err, sizeof(err)), 0);
    v = fg_config_get(cfg, "kafka.consumer");
    assert_non_null(v);
    assert_null(json_object_get(v, "sasl"));
    /* The property is a single key holding the string. */
    assert_non_null(json_object_get(v, "sasl.username"));
    assert_string_equal(json_string_value(json_object_get(v, "sasl.username")), "alice");
    assert_string_equal(json_string_value(json_object_get(
                            fg_config_get(cfg, "kafka.producer"), "ssl.ca.location")), "/x");
    fg_config_free(cfg);
    unlink(path);
}

static void test_set(void **state)
{
    char path[64], err[512];
    struct fg_config *cfg;
    json_t *v;

    (void)state;
    cfg = load_text(path, sizeof(path),
                    "{\"detectors\": {\"abnormal_pricing\": {\"enabled\": true}},\n"
                    " \"state\": \"flat\"}\n");

    assert_int_equal(fg_config_set(cfg, "detectors.abnormal_pricing.enabled=false", err,
                                   sizeof(err)), 0);
    assert_true(json_is_false(cget(cfg, "detectors.abnormal_pricing.enabled")));

    assert_int_equal(fg_config_set(cfg, "a.b=true", err, sizeof(err)), 0);
    assert_true(json_is_true(cget(cfg, "a.b")));
    assert_true(json_is_object(cget(cfg, "a")));

    assert_int_equal(fg_config_set(cfg, "x.y.z=5", err, sizeof(err)), 0);
    v = cget(cfg, "x.y.z");
    assert_true(json_is_integer(v));
    assert_int_equal(json_integer_value(v), 5);

    assert_int_equal(fg_config_set(cfg, "x.y.s=x", err, sizeof(err)), 0);
    assert_string_equal(json_string_value(cget(cfg, "x.y.s")), "x");
    /* Creating a sibling keeps the earlier key. */
    assert_int_equal(json_integer_value(cget(cfg, "x.y.z")), 5);

    assert_int_equal(fg_config_set(cfg, "x.q=\"quoted\"", err, sizeof(err)), 0);
    assert_string_equal(json_string_value(cget(cfg, "x.q")), "quoted");

    assert_int_equal(fg_config_set(cfg, "x.o={\"a\":1}", err, sizeof(err)), 0);
    v = cget(cfg, "x.o");
    assert_true(json_is_object(v));
    assert_int_equal(json_integer_value(cget(cfg, "x.o.a")), 1);

    assert_int_equal(fg_config_set(cfg, "x.l=[1,2]", err, sizeof(err)), 0);
    assert_int_equal(json_array_size(cget(cfg, "x.l")), 2);

    /* Plain strings that are not JSON, including '=' and ':' inside. */
    assert_int_equal(fg_config_set(cfg, "kafka.bootstrap_servers=127.0.0.1:9092", err,
                                   sizeof(err)), 0);
    assert_string_equal(json_string_value(cget(cfg, "kafka.bootstrap_servers")),
                        "127.0.0.1:9092");
    assert_int_equal(fg_config_set(cfg, "k.v=a=b", err, sizeof(err)), 0);
    assert_string_equal(json_string_value(cget(cfg, "k.v")), "a=b");
    assert_int_equal(fg_config_set(cfg, "k.list=11,12", err, sizeof(err)), 0);
    assert_string_equal(json_string_value(cget(cfg, "k.list")), "11,12");
    assert_int_equal(fg_config_set(cfg, "k.empty=", err, sizeof(err)), 0);
    assert_string_equal(json_string_value(cget(cfg, "k.empty")), "");
    assert_int_equal(fg_config_set(cfg, "k.num=007", err, sizeof(err)), 0);
    assert_true(json_is_string(cget(cfg, "k.num")));
    assert_string_equal(json_string_value(cget(cfg, "k.num")), "007");

    /* Replacing a value. */
    assert_int_equal(fg_config_set(cfg, "x.y.z=6", err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(cget(cfg, "x.y.z")), 6);
    /* A path through a non-object replaces it with an object. */
    assert_int_equal(fg_config_set(cfg, "state.backend=memory", err, sizeof(err)), 0);
    assert_string_equal(json_string_value(cget(cfg, "state.backend")), "memory");
    /* A top-level key. */
    assert_int_equal(fg_config_set(cfg, "top=1", err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(cget(cfg, "top")), 1);

    /* Malformed assignments. */
    assert_int_equal(fg_config_set(cfg, "novalue", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "novalue"));
    assert_int_equal(fg_config_set(cfg, "=5", err, sizeof(err)), -1);
    assert_int_equal(fg_config_set(cfg, "a..b=1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "a..b"));
    assert_int_equal(fg_config_set(cfg, "a.=1", err, sizeof(err)), -1);
    assert_int_equal(fg_config_set(cfg, ".a=1", err, sizeof(err)), -1);
    assert_int_equal(fg_config_set(cfg, "a.b=\xff\xfe", err, sizeof(err)), -1);
    /* Failed sets changed nothing. */
    assert_true(json_is_true(cget(cfg, "a.b")));

    fg_config_free(cfg);
    unlink(path);
}

/* ---- error locations ---- */

static const char located[] =
    "{\n"                                     /* 1 */
    "  \"kafka\": {\n"                        /* 2 */
    "    \"bootstrap_servers\": \"h:9092\",\n" /* 3 */
    "    \"port\": 1\n"                       /* 4 */
    "  },\n"                                  /* 5 */
    "  \"redis\": {\n"                        /* 6 */
    "    \"host\": \"localhost\",\n"          /* 7 */
    "    \"port\": \"x\"\n"                   /* 8 */
    "  },\n"                                  /* 9 */
    "  \"detectors\": {\n"                    /* 10 */
    "    \"duplicate_billing\": {\"enabled\": true},\n" /* 11 */
    "    \"abnormal_pricing\": {\n"           /* 12 */
    "      \"enabled\": 7\n"                  /* 13 */
    "    }\n"                                 /* 14 */
    "  }\n"                                   /* 15 */
    "}\n";

static void test_error_lines(void **state)
{
    char path[64], err[512];
    struct fg_config *cfg;

    (void)state;
    cfg = load_text(path, sizeof(path), located);
    fg_config_error(cfg, "redis.port", err, sizeof(err), "expected %s", "an integer");
    expect_err(err, path, ":8: key 'redis.port': expected an integer");
    fg_config_error(cfg, "kafka.port", err, sizeof(err), "bad");
    expect_err(err, path, ":4: key 'kafka.port': bad");
    fg_config_error(cfg, "kafka.bootstrap_servers", err, sizeof(err), "bad");
    expect_err(err, path, ":3: key 'kafka.bootstrap_servers': bad");
    fg_config_error(cfg, "redis", err, sizeof(err), "bad %d", 2);
    expect_err(err, path, ":6: key 'redis': bad 2");
    fg_config_error(cfg, "detectors.abnormal_pricing.enabled", err, sizeof(err),
                    "expected true or false");
    expect_err(err, path,
               ":13: key 'detectors.abnormal_pricing.enabled': expected true or false");
    fg_config_error(cfg, "detectors.duplicate_billing.enabled", err, sizeof(err), "x");
    expect_err(err, path, ":11: key 'detectors.duplicate_billing.enabled': x");

    /* Keys that came from --set are named as such. */
    assert_int_equal(fg_config_set(cfg, "redis.port=7", err, sizeof(err)), 0);
    fg_config_error(cfg, "redis.port", err, sizeof(err), "bad %s", "port");
    assert_string_equal(err, "--set redis.port: bad port");
    /* A whole object from --set covers the keys inside it. */
    assert_int_equal(fg_config_set(cfg, "metrics={\"listen\":5}", err, sizeof(err)), 0);
    fg_config_error(cfg, "metrics.listen", err, sizeof(err), "expected a string");
    assert_string_equal(err, "--set metrics.listen: expected a string");
    /* ...but not its siblings or look-alikes. */
    fg_config_error(cfg, "redis.host", err, sizeof(err), "bad");
    expect_err(err, path, ":7: key 'redis.host': bad");
    fg_config_error(cfg, "kafka.port", err, sizeof(err), "bad");
    expect_err(err, path, ":4: key 'kafka.port': bad");
    assert_int_equal(fg_config_set(cfg, "log.lev=1", err, sizeof(err)), 0);
    fg_config_error(cfg, "log.level", err, sizeof(err), "bad");
    assert_true(strncmp(err, "--set", 5) != 0);

    /* The message is truncated to errlen, never overflowing. */
    char small[10];
    memset(small, 'x', sizeof(small));
    fg_config_error(cfg, "redis.port", small, 6, "long message");
    assert_int_equal(strlen(small), 5);
    assert_int_equal(small[6], 'x');
    fg_config_free(cfg);
    unlink(path);
}

/* The same key name under a parent and under that parent's own child. */
static void test_error_line_nested_same_name(void **state)
{
    char path[64], err[512];
    struct fg_config *cfg;

    (void)state;
    cfg = load_text(path, sizeof(path),
                    "{\n"                                   /* 1 */
                    "  \"kafka\": {\n"                      /* 2 */
                    "    \"consumer\": {\n"                 /* 3 */
                    "      \"group_id\": \"x\"\n"           /* 4 */
                    "    },\n"                              /* 5 */
                    "    \"group_id\": 5\n"                 /* 6 */
                    "  }\n"                                 /* 7 */
                    "}\n");
    char err2[512];
    fg_config_error(cfg, "kafka.consumer.group_id", err, sizeof(err), "bad");
    fg_config_error(cfg, "kafka.group_id", err2, sizeof(err2), "expected a string");
    fg_config_free(cfg);
    unlink(path);
    expect_err(err, path, ":4: key 'kafka.consumer.group_id': bad");
    expect_err(err2, path, ":6: key 'kafka.group_id': expected a string");
}

/* ---- key validation ---- */

static void test_validate_keys(void **state)
{
    char path[64], err[512];
    struct fg_config *cfg;

    (void)state;
    cfg = load_text(path, sizeof(path), located);
    /* kafka.port on line 4 is not a known key. */
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), -1);
    expect_err(err, path, ":4: key 'kafka.port': unknown key");
    fg_config_free(cfg);
    unlink(path);

    cfg = load_text(path, sizeof(path),
                    "{\n"
                    "  \"kafka\": {\"bootstrap_servers\": \"h\"},\n"
                    "  \"state\": {\"backend\": \"memory\"},\n"
                    "  \"detectors\": {\"anything\": {\"goes\": 1}},\n"
                    "  \"bogus\": {}\n"
                    "}\n");
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), -1);
    expect_err(err, path, ":5: key 'bogus': unknown section");
    fg_config_free(cfg);
    unlink(path);

    cfg = load_text(path, sizeof(path),
                    "{\n"
                    "  \"kafka\": {\"bootstrap_servers\": \"h\"},\n"
                    "  \"state\": {\n"
                    "    \"backend\": \"memory\",\n"
                    "    \"backendd\": \"redis\"\n"
                    "  }\n"
                    "}\n");
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), -1);
    expect_err(err, path, ":5: key 'state.backendd': unknown key");
    fg_config_free(cfg);
    unlink(path);

    cfg = load_text(path, sizeof(path), "{\n  \"redis\": 5\n}\n");
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: key 'redis': "));
    fg_config_free(cfg);
    unlink(path);

    /* Every key of CONTRACT §6 is accepted. */
    cfg = load_text(path, sizeof(path),
                    "{\"kafka\": {\"bootstrap_servers\": \"h\", \"group_id\": \"g\",\n"
                    "  \"topics\": {\"claims\": \"c\", \"alerts\": \"a\", \"dead_letter\": "
                    "\"d\"},\n"
                    "  \"consumer\": {\"fetch.max.bytes\": 1}, \"producer\": {}},\n"
                    " \"redis\": {\"host\": \"h\", \"port\": 1, \"unix_socket\": \"/s\",\n"
                    "  \"password_file\": \"/p\", \"db\": 0},\n"
                    " \"state\": {\"backend\": \"redis\"},\n"
                    " \"metrics\": {\"listen\": \"127.0.0.1:9464\"},\n"
                    " \"rules\": {\"pack\": \"config/rules/nhsa\"},\n"
                    " \"detectors\": {\"x\": {\"enabled\": true}}}\n");
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), 0);
    /* An unknown key added by --set is reported as such. */
    assert_int_equal(fg_config_set(cfg, "metrics.lisen=x", err, sizeof(err)), 0);
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "--set metrics.lisen: unknown key");
    fg_config_free(cfg);
    unlink(path);
}

/* The shipped default config must pass. */
static void test_shipped_config(void **state)
{
    const char *src = getenv("FG_SOURCE_DIR");
    char path[4096], err[512];
    struct fg_config *cfg;

    (void)state;
    snprintf(path, sizeof(path), "%s/config/fundguard.json", src ? src : ".");
    cfg = fg_config_load(path, err, sizeof(err));
    if (!cfg)
        fail_msg("%s", err);
    if (fg_config_validate_keys(cfg, err, sizeof(err)))
        fail_msg("%s", err);
    fg_config_free(cfg);
}

/* ---- typed getters ---- */

static void test_int(void **state)
{
    char path[64], err[512];
    struct fg_config *cfg;
    long long v;

    (void)state;
    cfg = load_text(path, sizeof(path),
                    "{\n"
                    "  \"redis\": {\n"
                    "    \"port\": 6379,\n"
                    "    \"db\": 99,\n"
                    "    \"host\": \"h\",\n"
                    "    \"neg\": -5,\n"
                    "    \"real\": 5.0,\n"
                    "    \"nul\": null,\n"
                    "    \"flag\": true\n"
                    "  }\n"
                    "}\n");
    assert_int_equal(fg_config_int(cfg, "redis.port", 1, 1, 65535, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 6379);
    /* Bounds are inclusive. */
    assert_int_equal(fg_config_int(cfg, "redis.port", 1, 6379, 6379, &v, err, sizeof(err)),
                     0);
    assert_int_equal(fg_config_int(cfg, "redis.absent", 42, 1, 100, &v, err, sizeof(err)),
                     0);
    assert_int_equal(v, 42);
    assert_int_equal(fg_config_int(cfg, "redis.nul", 43, 1, 100, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 43);
    assert_int_equal(fg_config_int(cfg, "nosection.x", 44, 1, 100, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 44);

    assert_int_equal(fg_config_int(cfg, "redis.db", 0, 0, 15, &v, err, sizeof(err)), -1);
    expect_err(err, path, ":4: key 'redis.db': 99 is out of range 0..15");
    assert_int_equal(fg_config_int(cfg, "redis.neg", 0, 0, 15, &v, err, sizeof(err)), -1);
    expect_err(err, path, ":6: key 'redis.neg': -5 is out of range 0..15");
    assert_int_equal(fg_config_int(cfg, "redis.port", 1, 6380, 7000, &v, err, sizeof(err)),
                     -1);
    expect_err(err, path, ":3: key 'redis.port': 6379 is out of range 6380..7000");
    assert_int_equal(fg_config_int(cfg, "redis.host", 0, 0, 15, &v, err, sizeof(err)), -1);
    expect_err(err, path, ":5: key 'redis.host': expected an integer");
    assert_int_equal(fg_config_int(cfg, "redis.real", 0, 0, 15, &v, err, sizeof(err)), -1);
    expect_err(err, path, ":7: key 'redis.real': expected an integer");
    assert_int_equal(fg_config_int(cfg, "redis.flag", 0, 0, 15, &v, err, sizeof(err)), -1);
    expect_err(err, path, ":9: key 'redis.flag': expected an integer");

    /* --set values are checked the same way. */
    assert_int_equal(fg_config_set(cfg, "redis.db=16", err, sizeof(err)), 0);
    assert_int_equal(fg_config_int(cfg, "redis.db", 0, 0, 15, &v, err, sizeof(err)), -1);
    assert_string_equal(err, "--set redis.db: 16 is out of range 0..15");
    assert_int_equal(fg_config_set(cfg, "redis.db=3", err, sizeof(err)), 0);
    assert_int_equal(fg_config_int(cfg, "redis.db", 0, 0, 15, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 3);
    fg_config_free(cfg);
    unlink(path);
}

static void test_str(void **state)
{
    char path[64], err[512];
    struct fg_config *cfg;

    (void)state;
    cfg = load_text(path, sizeof(path),
                    "{\n"
                    "  \"rules\": {\n"
                    "    \"pack\": \"config/rules/nhsa\",\n"
                    "    \"strict\": true,\n"
                    "    \"n\": 5,\n"
                    "    \"nul\": null,\n"
                    "    \"obj\": {}\n"
                    "  }\n"
                    "}\n");
    assert_string_equal(fg_config_str(cfg, "rules.pack", "d", err, sizeof(err)),
                        "config/rules/nhsa");
    assert_string_equal(fg_config_str(cfg, "rules.absent", "d", err, sizeof(err)), "d");
    assert_null(fg_config_str(cfg, "rules.absent", NULL, err, sizeof(err)));
    assert_string_equal(fg_config_str(cfg, "rules.nul", "d2", err, sizeof(err)), "d2");
    assert_null(fg_config_str(cfg, "rules.strict", "d", err, sizeof(err)));
    expect_err(err, path, ":4: key 'rules.strict': expected a string");
    assert_null(fg_config_str(cfg, "rules.n", "d", err, sizeof(err)));
    expect_err(err, path, ":5: key 'rules.n': expected a string");
    assert_null(fg_config_str(cfg, "rules.obj", "d", err, sizeof(err)));
    expect_err(err, path, ":7: key 'rules.obj': expected a string");
    fg_config_free(cfg);
    unlink(path);
}

/* ---- path resolution ---- */

static void test_resolve(void **state)
{
    char confdir[] = "/tmp/fg_test_confdir_XXXXXX";
    char workdir[] = "/tmp/fg_test_workdir_XXXXXX";
    char oldcwd[4096], cfgpath[256], file[512], err[512];
    struct fg_config *cfg;
    char *r;

    (void)state;
    assert_non_null(getcwd(oldcwd, sizeof(oldcwd)));
    assert_non_null(mkdtemp(confdir));
    assert_non_null(mkdtemp(workdir));
    snprintf(cfgpath, sizeof(cfgpath), "%s/fundguard.json", confdir);
    write_file(cfgpath, "{}\n");
    snprintf(file, sizeof(file), "%s/both.csv", confdir);
    write_file(file, "x\n");
    snprintf(file, sizeof(file), "%s/confonly.csv", confdir);
    write_file(file, "x\n");
    snprintf(file, sizeof(file), "%s/both.csv", workdir);
    write_file(file, "x\n");
    snprintf(file, sizeof(file), "%s/sub", confdir);
    assert_int_equal(mkdir(file, 0700), 0);

    cfg = fg_config_load(cfgpath, err, sizeof(err));
    assert_non_null(cfg);
    assert_int_equal(chdir(workdir), 0);

    /* Absolute paths stay, whether or not they exist. */
    r = fg_config_resolve(cfg, "/no/such/file.csv");
    assert_string_equal(r, "/no/such/file.csv");
    free(r);
    r = fg_config_resolve(cfg, cfgpath);
    assert_string_equal(r, cfgpath);
    free(r);
    /* Relative and present in the working directory: the working directory wins. */
    r = fg_config_resolve(cfg, "both.csv");
    assert_string_equal(r, "both.csv");
    free(r);
    /* Only beside the config. */
    r = fg_config_resolve(cfg, "confonly.csv");
    snprintf(file, sizeof(file), "%s/confonly.csv", confdir);
    assert_string_equal(r, file);
    free(r);
    r = fg_config_resolve(cfg, "sub");
    snprintf(file, sizeof(file), "%s/sub", confdir);
    assert_string_equal(r, file);
    free(r);
    /* Nowhere: returned as given, so the error names what the operator wrote. */
    r = fg_config_resolve(cfg, "nowhere.csv");
    assert_string_equal(r, "nowhere.csv");
    free(r);
    fg_config_free(cfg);

    /* A config named relative to the working directory. */
    assert_int_equal(chdir(confdir), 0);
    cfg = fg_config_load("fundguard.json", err, sizeof(err));
    assert_non_null(cfg);
    r = fg_config_resolve(cfg, "confonly.csv");
    assert_string_equal(r, "confonly.csv");
    free(r);
    fg_config_free(cfg);

    assert_int_equal(chdir(oldcwd), 0);
    snprintf(file, sizeof(file), "%s/both.csv", confdir);
    unlink(file);
    snprintf(file, sizeof(file), "%s/confonly.csv", confdir);
    unlink(file);
    snprintf(file, sizeof(file), "%s/sub", confdir);
    rmdir(file);
    unlink(cfgpath);
    rmdir(confdir);
    snprintf(file, sizeof(file), "%s/both.csv", workdir);
    unlink(file);
    rmdir(workdir);
}

/* A librdkafka secret in the config: refused when others can read the
 * file (the message names file, line and key), accepted at mode 0600,
 * and never taken from --set. */
static void test_secret_in_config(void **state)
{
    (void)state;
    char path[64], err[512] = "";
    struct fg_config *cfg;

    cfg = load_text(path, sizeof(path),
                    "{\"kafka\": {\"consumer\": {\"security.protocol\": \"SASL_SSL\",\n"
                    "  \"sasl.password\": \"hunter2\"}}}\n");
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: key 'kafka.consumer.sasl.password'"));
    assert_non_null(strstr(err, "others can read"));
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), 0);
    fg_config_free(cfg);
    unlink(path);

    cfg = load_text(path, sizeof(path), "{\"kafka\": {}}\n");
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), 0);
    assert_int_equal(fg_config_set(cfg, "kafka.producer.ssl.key.password=x", err,
                                   sizeof(err)), 0);
    assert_int_equal(fg_config_validate_keys(cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "command line"));
    fg_config_free(cfg);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_ok),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_error_lines),
        cmocka_unit_test(test_error_line_nested_same_name),
        cmocka_unit_test(test_validate_keys),
        cmocka_unit_test(test_set_kafka_property),
        cmocka_unit_test(test_shipped_config),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_str),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_secret_in_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
