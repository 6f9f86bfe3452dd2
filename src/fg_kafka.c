/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_kafka.c: the common librdkafka client configuration.
 */
#include "fg_kafka.h"
#include "fg_app.h"
#include "fg_common.h"
#include "fg_config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    int lvl = level <= 3 ? FG_LOG_ERROR : level <= 4 ? FG_LOG_WARN
              : level <= 6 ? FG_LOG_INFO : FG_LOG_DEBUG;

    fg_log(lvl, "component=rdkafka client=%s facility=%s msg=\"%s\"", rd_kafka_name(rk), fac,
           buf);
}

int fg_kafka_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
    char why[512];

    if (rd_kafka_conf_set(conf, k, v, why, sizeof(why)) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, errlen, "kafka property %s: %s", k, why);
    return -1;
}

int fg_kafka_set_all(rd_kafka_conf_t *conf, const char *const *kv, char *err, size_t errlen)
{
    for (; kv[0]; kv += 2)
        if (fg_kafka_set(conf, kv[0], kv[1], err, errlen))
            return -1;
    return 0;
}

static int group_property(const char *k)
{
    static const char *const own[] = {"group.id", "group.instance.id", "enable.auto.commit",
                                      "enable.auto.offset.store", "auto.offset.reset", NULL};

    for (const char *const *p = own; *p; p++)
        if (strcmp(k, *p) == 0)
            return 1;
    return 0;
}

static int pass_through(const struct fg_config *cfg, rd_kafka_conf_t *conf,
                        const char *section, int flags, char *err, size_t errlen)
{
    char path[64], key[320], why[512];
    const char *k;
    json_t *obj, *v;

    snprintf(path, sizeof(path), "kafka.%s", section);
    obj = fg_config_get(cfg, path);
    if (!obj)
        return 0;
    if (!json_is_object(obj)) {
        fg_config_error(cfg, path, err, errlen, "expected an object");
        return -1;
    }
    json_object_foreach(obj, k, v) {
        char tmp[64];
        const char *val = tmp;

        if ((flags & FG_KAFKA_OWN_GROUP) && group_property(k))
            continue;
        if (json_is_string(v))
            val = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_boolean(v))
            snprintf(tmp, sizeof(tmp), "%s", json_is_true(v) ? "true" : "false");
        else {
            snprintf(err, errlen, "%s.%s: expected a string, number or boolean", path, k);
            return -1;
        }
        if (rd_kafka_conf_set(conf, k, val, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            snprintf(key, sizeof(key), "%s.%s", path, k);
            fg_config_error(cfg, key, err, errlen, "%s", why);
            return -1;
        }
    }
    return 0;
}

/* The SASL password comes from a file, never from config text. */
static int sasl_password(const struct fg_config *cfg, rd_kafka_conf_t *conf, char *err,
                         size_t errlen)
{
    char *pw;
    int bad;

    if (fg_app_config_secret(cfg, "kafka.sasl_password_file", &pw, err, errlen))
        return -1;
    if (!pw)
        return 0;
    bad = fg_kafka_set(conf, "sasl.password", pw, err, errlen);
    fg_free_secret(pw);
    return bad;
}

int fg_kafka_conf(const struct fg_config *cfg, rd_kafka_conf_t *conf, const char *section,
                  int flags, char *err, size_t errlen)
{
    const char *boot;

    err[0] = '\0';
    boot = fg_config_str(cfg, "kafka.bootstrap_servers", "127.0.0.1:9092", err, errlen);
    if (!boot)
        return -1;
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (fg_kafka_set(conf, "bootstrap.servers", boot, err, errlen) ||
        pass_through(cfg, conf, section, flags, err, errlen))
        return -1;
    return sasl_password(cfg, conf, err, errlen);
}

const char *const fg_kafka_producer_defaults[] = {
    "linger.ms", "5", "message.timeout.ms", "30000", "socket.nagle.disable", "true", NULL};
const char *const fg_kafka_producer_fixed[] = {"enable.idempotence", "true", NULL};

rd_kafka_t *fg_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                         const struct fg_config *cfg, const char *section, char *err,
                         size_t errlen)
{
    char why[512] = "", path[64], key[320];
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof(why));
    size_t n;
    json_t *obj;

    if (rk)
        return rk;   /* it took conf */
    rd_kafka_conf_destroy(conf);   /* on failure it stays ours */
    n = strcspn(why, " :");
    /* "ssl.ca.location failed: ...": name the config key that set it. */
    snprintf(path, sizeof(path), "kafka.%s", section);
    obj = cfg ? fg_config_get(cfg, path) : NULL;
    if (n < 128 && json_is_object(obj)) {
        snprintf(key, sizeof(key), "%.*s", (int)n, why);
        if (json_object_get(obj, key)) {
            snprintf(key, sizeof(key), "%s.%.*s", path, (int)n, why);
            fg_config_error(cfg, key, err, errlen, "cannot create a kafka %s: %s", section, why);
            return NULL;
        }
    }
    snprintf(err, errlen, "cannot create a kafka %s: %s", section, why);
    return NULL;
}
