/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_alert.h: the alert nhsa.alert.v1 (CONTRACT §3): jr_id and encoding.
 */
#ifndef FG_ALERT_H
#define FG_ALERT_H

#include <stdint.h>

#include "fg_buf.h"
#include "fg_detector_api.h"

struct fg_alert_source {
    const char *file;     /* replay file, or NULL */
    long long line;
    const char *topic;    /* live topic, or NULL */
    int partition;
    long long offset;
    /* Live: how far the partition has got once this event is in (no event
     * of it not yet judged is older by more than the lateness); 0: the
     * event's own time. Not part of an alert. */
    int64_t progress;
};

/* Everything an encoded alert says; strings are borrowed. */
struct fg_alert {
    const char *alert_type;          /* "ALERT" or "RETRACT" */
    char jr_id[33];
    const struct fg_rule_decl *rule;
    const struct fg_detector *det;
    const char *rule_pack;
    const struct fg_alert_spec *spec;
    const char *psn_no;
    const char *event_id;
    int64_t event_time;
    int replay;
    const struct fg_alert_source *source;
    int64_t detected_at_ms;          /* wall clock */
};

/** jr_id = FNV-1a-128(rule id, pack, violating line identity) in hex. */
void fg_alert_jr_id(const char *rule_id, const char *rule_pack,
                    const struct fg_wline *violating, char out[33]);

/**
 * Append the alert as one JSON object (no newline) to b. With canonical,
 * the three run-specific fields (replay, source, detected_at) are left
 * out, so two runs compare byte for byte.
 */
void fg_alert_encode(struct fg_buf *b, const struct fg_alert *a, int canonical);

#endif
