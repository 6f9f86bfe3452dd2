/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_kafka_tool.c: two things the integration tests need that kcat cannot
 * do (test helper, not installed):
 *
 *   fg-it-kafka produce-ts BOOTSTRAP TOPIC < KEYED
 *       KEYED: "key<TAB>value" lines (as for `kcat -P -K '\t'`). Each value
 *       is produced with the key and with the message timestamp set to the
 *       event's event_time (CreateTime, ms), as a producer stamping claims
 *       at the moment of the event would; a value that is not an event
 *       takes the previous event's time. Waits for every delivery report;
 *       exits 1 if any failed.
 *   fg-it-kafka committed BOOTSTRAP GROUP TOPIC
 *       prints "partition<TAB>committed offset" for every partition of
 *       TOPIC under GROUP (-1001 = nothing committed), by OffsetFetch: the
 *       group is not joined.
 */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fg_time.h"

static int failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        fprintf(stderr, "fg-it-kafka: delivery failed: %s\n", rd_kafka_err2str(m->err));
        failed++;
    }
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *boot, const char *group)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_t *rk;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", boot, err, sizeof(err)) ||
        (group && rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err))) ||
        (type == RD_KAFKA_PRODUCER &&
         rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err)))) {
        fprintf(stderr, "fg-it-kafka: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "fg-it-kafka: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* event_time of a JSON value in ms, or -1. */
static int64_t event_ms(const char *v, size_t len)
{
    json_t *o = json_loadb(v, len, 0, NULL);
    const char *s = o ? json_string_value(json_object_get(o, "event_time")) : NULL;
    int64_t t = -1, epoch;
    const char *why;

    if (s && fg_time_parse(s, strlen(s), &epoch, &why) == 0)
        t = epoch * 1000;
    json_decref(o);
    return t;
}

static int produce_ts(const char *boot, const char *topic)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, boot, NULL);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t last = 0;
    long count = 0;

    if (!rk)
        return 1;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        char *tab = strchr(line, '\t');
        size_t vlen;
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (!tab)
            continue;
        vlen = (size_t)(line + n - (tab + 1));
        int64_t ts = event_ms(tab + 1, vlen);
        if (ts < 0)
            ts = last;
        else
            last = ts;
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(line, (size_t)(tab - line)),
                RD_KAFKA_V_VALUE((tab + 1), vlen), RD_KAFKA_V_TIMESTAMP(ts),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (!err)
                break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "fg-it-kafka: produce: %s\n", rd_kafka_err2str(err));
                failed++;
                break;
            }
            rd_kafka_poll(rk, 100);
        }
        count++;
        rd_kafka_poll(rk, 0);
    }
    free(line);
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "fg-it-kafka: %d messages not delivered\n", rd_kafka_outq_len(rk));
        failed++;
    }
    rd_kafka_destroy(rk);
    fprintf(stderr, "fg-it-kafka: %ld messages produced to %s\n", count, topic);
    return failed ? 1 : 0;
}

static int committed(const char *boot, const char *group, const char *topic)
{
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, boot, group);
    rd_kafka_topic_t *rkt;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_resp_err_t err;
    int rc = 1;

    if (!rk)
        return 1;
    rkt = rd_kafka_topic_new(rk, topic, NULL);
    err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (err || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "fg-it-kafka: no metadata for %s\n", topic);
        goto out;
    }
    l = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(l, topic, i);
    err = rd_kafka_committed(rk, l, 10000);
    if (err) {
        fprintf(stderr, "fg-it-kafka: committed: %s\n", rd_kafka_err2str(err));
    } else {
        for (int i = 0; i < l->cnt; i++)
            printf("%d\t%lld\n", l->elems[i].partition, (long long)l->elems[i].offset);
        rc = 0;
    }
    rd_kafka_topic_partition_list_destroy(l);
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "produce-ts") == 0)
        return produce_ts(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "committed") == 0)
        return committed(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: fg-it-kafka produce-ts BOOTSTRAP TOPIC < KEYED\n"
                    "       fg-it-kafka committed BOOTSTRAP GROUP TOPIC\n");
    return 2;
}
