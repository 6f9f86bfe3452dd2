/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_kafka.h: what every librdkafka client fundguard makes has in common
 * (the daemon's consumer and producer, replay --topic, the alert readers
 * and `fundguard alerts`): the broker list, the kafka.consumer.* or
 * kafka.producer.* pass-through, the SASL password from its file, and log
 * lines in fundguard's format.
 */
#ifndef FG_KAFKA_H
#define FG_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

struct fg_config;

/* kafka.consumer.* keys that would tie a client to a consumer group are
 * skipped (group.id, group.instance.id, auto commit and offset store,
 * auto.offset.reset): the caller sets its own. */
#define FG_KAFKA_OWN_GROUP 1

/** rd_kafka_conf_set; on failure err reads "kafka property K: why". */
int fg_kafka_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen);

/** Set key, value pairs from a NULL-terminated array, in order. */
int fg_kafka_set_all(rd_kafka_conf_t *conf, const char *const *kv, char *err, size_t errlen);

/**
 * bootstrap.servers (kafka.bootstrap_servers), the log callback, every
 * kafka.<section>.* property as its text (section "consumer" or
 * "producer"; see FG_KAFKA_OWN_GROUP), then sasl.password read from
 * kafka.sasl_password_file (refused if others can read it). Properties
 * set before this call are defaults the config may override; set the
 * ones it must not override after. err names the key.
 */
int fg_kafka_conf(const struct fg_config *cfg, rd_kafka_conf_t *conf, const char *section,
                  int flags, char *err, size_t errlen);

/* A producer's defaults (set before fg_kafka_conf: short linger, 30 s to
 * deliver, Nagle's algorithm off as in Kafka's own clients: a request
 * written while the previous one is unacknowledged is not held for the
 * broker's delayed ACK) and what the config must not change (after:
 * idempotence, so a retried send is not written twice). NULL-terminated
 * key, value pairs. */
extern const char *const fg_kafka_producer_defaults[];
extern const char *const fg_kafka_producer_fixed[];

/**
 * rd_kafka_new; conf is taken (freed on failure too). On failure returns NULL
 * and err reads "cannot create a kafka SECTION: why", as a config error
 * naming file, line and key when the property at fault came from
 * kafka.<section>.* (section "consumer" or "producer"; cfg may be NULL).
 */
rd_kafka_t *fg_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                         const struct fg_config *cfg, const char *section, char *err,
                         size_t errlen);

#endif
