/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_replay.h: what the two replay sources share. A replay session
 * (struct fg_replay) owns the config, the state store (embedded, or Redis
 * under replay:<run_id>), the engine, the batches with their pending alert
 * buffer, the dead-letter file, the counters and the summary; a source
 * feeds it events in order: files (fg_replay.c, through fg_reader) or a
 * Kafka topic read by event time (fg_replay_topic.c). At the end the
 * session writes the audit manifest (fg_manifest.c).
 *
 * Everything here runs on the replay's main thread.
 */
#ifndef FG_REPLAY_H
#define FG_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "fg_alert.h"
#include "fg_app.h"
#include "fg_buf.h"
#include "fg_engine.h"
#include "fg_event.h"
#include "fg_sha256.h"

/* Command-line options of `fundguard replay` (strings borrowed from argv). */
struct fg_replay_opts {
    const char *config;
    const char **inputs;        /* --input, in order */
    size_t ninputs;
    const char *topic;          /* --topic */
    const char *from_text, *to_text;
    int64_t from, to;           /* epoch seconds; to = start time when not given */
    const char *output;         /* --output, NULL or "-" = stdout */
    const char *output_topic;   /* --output-topic */
    const char *dead_letter;
    const char *manifest;       /* --manifest, or NULL (default next to --output) */
    int no_manifest;
    const char *state;          /* memory | redis */
    const char *run_id;
    int keep_state;
    int canonical;
    int progress;               /* -1 auto (terminal), 0 off, 1 on */
    char **sets;
    size_t nsets;
    int argc;                   /* the whole command line, for the manifest */
    char **argv;
};

/* Receives each alert line (no newline) once its batch is committed. */
typedef int (*fg_replay_emit_fn)(void *opaque, const char *json, size_t len,
                                 const char *key);

/* Events go to the engine in batches, the unit a remote state backend
 * fetches and writes in one round trip. */
#define FG_REPLAY_BATCH 32

struct fg_replay {
    const struct fg_replay_opts *o;
    struct fg_app app;
    int app_open;
    struct fg_state *st;
    struct fg_engine *eng;
    long long max_bytes, lateness, dedup, retry, threads;
    int redis;                  /* --state redis */
    char run_id[96], ns[128];

    /* alerts: written to out, or handed to emit (--output-topic) */
    FILE *out;
    fg_replay_emit_fn emit;
    int (*drain)(void *opaque);  /* before the manifest: every emit delivered? */
    void *emit_opaque;
    struct fg_buf pending;      /* the batch's alerts, one per line */
    struct fg_buf pending_keys; /* their keys, NUL-terminated, same order */
    struct fg_sha256 alerts_sha;   /* of the canonical form of every alert */
    uint64_t alerts_written;

    /* dead letters */
    char *dlq_path;
    FILE *dlq;                  /* opened on the first quarantined event */
    struct fg_buf dlq_buf;

    struct fg_claim *batch[FG_REPLAY_BATCH];
    struct fg_alert_source srcs[FG_REPLAY_BATCH];
    size_t nbatch;

    uint64_t quarantined, blank, out_of_range;
    double t0, last_progress;
    int progress;               /* print a progress line */

    /* The manifest's "input" object, built by the source (owned). */
    void *input_json;           /* json_t * */
};

/** Monotonic seconds. */
double fg_replay_now(void);

/**
 * Load config and pack, read the replay.* / state.* settings, open the
 * output file (unless --output-topic) and name the dead-letter file.
 * Returns an exit code; on failure everything is released already.
 */
int fg_replay_open(struct fg_replay *rp, const struct fg_replay_opts *o);
/**
 * Create the state store (namespace replay:<run_id> for Redis) and the
 * engine; run_id is --run-id or what the source derived from its input.
 * Returns an exit code.
 */
int fg_replay_start(struct fg_replay *rp, const char *run_id);
/**
 * One valid event, in replay order. Takes ownership of claim; src is
 * copied (its strings must outlive the session). Returns 0, or
 * FG_EXIT_RUNTIME when a batch could not be processed or written.
 */
int fg_replay_event(struct fg_replay *rp, struct fg_claim *claim,
                    const struct fg_alert_source *src);
/** A bad event to the dead-letter file. Returns 0 or FG_EXIT_RUNTIME. */
int fg_replay_quarantine(struct fg_replay *rp, const char *reason,
                         const struct fg_alert_source *src, const char *raw, size_t len);
/** 1 when a progress line is due (twice a second, when progress is on). */
int fg_replay_progress_due(struct fg_replay *rp);
/**
 * End of input: flush the last batch, judge whatever is still deferred
 * (scopes: the deferral scopes the source used, -1 for files, the
 * partitions for a topic), flush the output, print the summary (extra, if
 * not NULL, is printed after it), write the manifest when the run
 * succeeded, drop the Redis namespace unless --keep-state. exit_code is
 * the source's verdict so far; returns the final one.
 */
int fg_replay_finish(struct fg_replay *rp, int exit_code, const int *scopes, size_t nscopes,
                     const char *extra);
/** Release everything (safe after a failed open). */
void fg_replay_close(struct fg_replay *rp);

/** The Kafka source: `replay --topic`. Returns an exit code. */
int fg_replay_topic(const struct fg_replay_opts *o);

/**
 * Write the audit manifest of a finished replay to path (atomically: a
 * temporary file renamed). Returns 0, or -1 with the reason printed.
 */
int fg_manifest_write(struct fg_replay *rp, const char *path);

/**
 * The canonical form of an encoded alert line (what --canonical would have
 * written): the run-specific fields (replay, source, detected_at) come
 * last in the encoding (fg_alert.c), so it is the line cut before
 * ',"replay":' and closed with '}'. Returns the length to keep: len for a
 * canonical line (nothing to append), else the cut (append '}').
 */
size_t fg_manifest_canonical_len(const char *json, size_t len, int canonical);

#endif
