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

#endif
