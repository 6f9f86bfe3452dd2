/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_alert_read.h: reading alerts back: one nhsa.alert.v1 JSON line parsed
 * into a record that owns its strings, and a reader of alert sources (a
 * JSON Lines file, '-' for stdin, gzip accepted, or a Kafka topic written
 * "kafka:TOPIC", read from its beginning to where it ended when the reader
 * started). Used by the commands that consume alerts rather than produce
 * them: report, compare, alerts.
 */
#ifndef FG_ALERT_READ_H
#define FG_ALERT_READ_H

#include <stddef.h>
#include <stdint.h>

#include "fg_config.h"
#include "fg_map.h"

struct rd_kafka_conf_s;

#define FG_ALERT_SCHEMA "nhsa.alert.v1"
#define FG_ALERT_KAFKA_PREFIX "kafka:"

/* One entry of judge_result_detail_dtos; every string owned, NULL when
 * the alert does not carry it. */
struct fg_alert_dtl {
    char *setl_id;
    char *feedetl_sn;
    char *hilist_code;
    char *vola_item_type;
};

/*
 * One alert line. All strings are owned by the record (fg_alert_rec_fini)
 * and NULL when absent. An ALERT always has rule_id, rule_name, rule_pack,
 * result_type, fixmedins_code, event_time (with epoch) and vola_amt (fen);
 * a RETRACT is only sure to have jr_id, and carries whatever else it has.
 */
struct fg_alert_rec {
    int retract;                 /* alert_type: 0 ALERT, 1 RETRACT */
    char *jr_id;
    char *rule_id, *rule_name, *rule_pack;
    char *result_type;           /* DEFINITE or SUSPECT */
    char *sev_deg;
    char *psn_no, *fixmedins_code, *mdtrt_id, *setl_id, *event_id;
    char *event_time;            /* the text as written */
    int64_t epoch;               /* event_time in epoch seconds, if has_time */
    int has_time;
    int64_t fen;                 /* vola_amt in fen, exact, if has_amount */
    int has_amount;
    struct fg_alert_dtl *lines;  /* judge_result_detail_dtos, in order */
    size_t nlines;
    /* The alert without "replay", "source" and "detected_at" (the only
     * fields two runs may differ in, CONTRACT §3), keys sorted, compact:
     * two alerts with the same content have the same bytes. */
    char *canonical;
    size_t canonical_len;
};

/**
 * Parse one line (without its newline) into rec, which the caller provides
 * and later releases with fg_alert_rec_fini (also after a failure).
 * Checks the schema, alert_type and jr_id of every line, and for an ALERT
 * the fields listed above: result_type is DEFINITE or SUSPECT, vola_amt is
 * a non-negative decimal string with no non-zero digit past the fen,
 * event_time a datetime of the contract. Returns 0, or -1 with the reason
 * in why. Any thread (no shared state).
 */
int fg_alert_rec_parse(const char *text, size_t len, struct fg_alert_rec *rec, char *why,
                       size_t whylen);
void fg_alert_rec_fini(struct fg_alert_rec *rec);

/** 1 when spec names a Kafka topic ("kafka:TOPIC"). */
int fg_alert_source_is_kafka(const char *spec);

/**
 * Parse a time bound given on the command line: a datetime of the contract
 * (ISO 8601 with an offset, or "yyyy-MM-dd HH:mm:ss" in China Standard
 * Time) or a date "yyyy-MM-dd" (the start of that day, CST). Returns 0 and
 * sets *epoch, or -1.
 */
int fg_alert_parse_time_arg(const char *s, int64_t *epoch);

struct fg_alert_reader;

struct fg_alert_reader_opts {
    const struct fg_config *cfg;   /* needed by Kafka sources; borrowed */
    /* Kafka sources: start each partition at the first message whose
     * timestamp is at or after this (epoch seconds, less a margin for
     * clock skew) instead of at its beginning. INT64_MIN: from the start. */
    int64_t since;
};

/**
 * Open a source: a file path ('-' = stdin, .gz read through zlib) or
 * "kafka:TOPIC" (needs o->cfg: kafka.bootstrap_servers, kafka.consumer.*,
 * kafka.sasl_password_file). A topic is read with an assigned consumer
 * (no group membership, nothing committed) from the start of every
 * partition (or from o->since) up to the high watermark it had when the
 * reader opened. Returns NULL with the reason in err and the exit code in
 * *code: FG_EXIT_DATAERR (cannot read), FG_EXIT_USAGE ("kafka:" without a
 * topic) or FG_EXIT_CONFIG (the Kafka settings are wrong). The caller
 * frees with fg_alert_reader_close.
 */
struct fg_alert_reader *fg_alert_reader_open(const char *spec,
                                             const struct fg_alert_reader_opts *o, int *code,
                                             char *err, size_t errlen);

/**
 * The next line or message: *text (not NUL-terminated, no newline) is
 * borrowed until the next call. Returns 1, 0 at the end, or -1 on a read
 * error (reason in err; the source is then unreadable as a whole).
 */
int fg_alert_reader_next(struct fg_alert_reader *r, const char **text, size_t *len, char *err,
                         size_t errlen);

/** Where the last line came from: "path:LINE" or "kafka:TOPIC/PARTITION@OFFSET". */
const char *fg_alert_reader_where(const struct fg_alert_reader *r, char *buf, size_t size);

/** The source as given, '-' shown as "<stdin>". Borrowed from r. */
const char *fg_alert_reader_label(const struct fg_alert_reader *r);

/** NULL-safe. */
void fg_alert_reader_close(struct fg_alert_reader *r);

/**
 * The options every command that reads alerts takes: -c/--config FILE,
 * --set KEY=VALUE (repeatable) and, where the command selects a period,
 * --since TIME and --until TIME (event_time in [since, until); ISO 8601 or
 * 'yyyy-MM-dd HH:mm:ss', China Standard Time unless an offset is given).
 */
struct fg_alert_cli {
    const char *config;   /* borrowed */
    char **sets;          /* array owned, strings borrowed from argv */
    size_t nsets;
    int64_t since, until; /* INT64_MIN / INT64_MAX: open */
};

#define FG_ALERT_CLI_INIT \
    { .config = "config/fundguard.json", .since = INT64_MIN, .until = INT64_MAX }

/**
 * If argv[*i] is one of those options (--since/--until only when period),
 * takes it with its value (advancing *i) and returns 1; returns 0 if it is
 * not; prints "fundguard PROG: ..." and returns -1 for a bad value.
 */
int fg_alert_cli_arg(struct fg_alert_cli *c, const char *prog, int period, int argc,
                     char **argv, int *i);

/** After the arguments: the period is not empty. Prints and returns -1 if it is. */
int fg_alert_cli_check(const struct fg_alert_cli *c, const char *prog);

/** fg_alert_config_open with the options' config and sets. */
struct fg_config *fg_alert_cli_config(const struct fg_alert_cli *c, const char *prog);

void fg_alert_cli_fini(struct fg_alert_cli *c);

/**
 * The distinct jr_ids of the RETRACT lines read, in order of arrival;
 * at-least-once delivery repeats lines, and a repeat is counted in dups,
 * not kept. Zero-initialise with fg_retract_set_init.
 */
struct fg_retract_set {
    struct fg_map idx;   /* jr_id -> its string in v[] */
    char **v;            /* owned */
    size_t n, cap;
    uint64_t dups;
};

void fg_retract_set_init(struct fg_retract_set *s);
void fg_retract_set_add(struct fg_retract_set *s, const char *jr_id);
void fg_retract_set_fini(struct fg_retract_set *s);

/**
 * The config of a command that reads alerts: load path, apply the --set
 * overrides ("a.b=VALUE"), check that every key is known. The log level is
 * warn (librdkafka's chatter stays out of a terminal) unless log.level
 * asks for debug or error. Prints "fundguard PROG: config error: ..." and
 * returns NULL on failure (exit 78). Free with fg_config_free.
 */
struct fg_config *fg_alert_config_open(const char *path, char **sets, size_t nsets,
                                       const char *prog);

#endif
