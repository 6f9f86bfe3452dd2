/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_engine.h: the pipeline every mode shares: one claim in, refunds
 * netted, every enabled detector run, alerts de-duplicated, encoded and
 * handed to an output callback. Replay and the live daemon differ only in
 * where claims come from and where alerts go.
 */
#ifndef FG_ENGINE_H
#define FG_ENGINE_H

#include <stdint.h>

#include "fg_alert.h"
#include "fg_detector.h"
#include "fg_state.h"

/* Receives each encoded alert (no trailing newline); key is the
 * institution code (the Kafka key). Returns 0, or -1 to fail the event. */
typedef int (*fg_alert_out_fn)(void *opaque, const char *json, size_t len,
                               const char *key);

struct fg_engine_opts {
    int canonical;               /* leave out replay/source/detected_at */
    int replay;                  /* value of the alert's "replay" field */
    int64_t lateness;            /* seconds of out-of-order tolerance */
    int64_t event_dedup_days;    /* how long event ids are remembered */
    fg_alert_out_fn out;
    void *out_opaque;
};

struct fg_rule_stat {
    const char *rule_id;
    const struct fg_detector *det;
    uint64_t alerts;
    int64_t amount;              /* fen */
    uint64_t skipped;
    uint64_t dry_run;
    uint64_t disabled;           /* judgements of a rule in disabled_rules */
    uint64_t retracted;          /* RETRACTs published for its alerts */
};

struct fg_engine_stats {
    uint64_t events, settlements, other_events, lines, refunds;
    uint64_t refunds_unmatched, superseded, duplicates, alerts, suppressed, out_errors;
    uint64_t deferred, deferred_done, deferred_lost;   /* fg_ctx_defer() */
    uint64_t revokes, revokes_unmatched, revoked_lines, retracts;
    struct fg_rule_stat *rules;
    size_t nrules;
};

struct fg_engine;

/** The engine borrows detectors, pack and state; they must outlive it. */
struct fg_engine *fg_engine_new(struct fg_detectors *ds, const struct fg_pack *pack,
                                struct fg_state *st, const struct fg_engine_opts *o);
void fg_engine_free(struct fg_engine *e);

/** Process one valid claim. Returns 0, or negative on an output failure. */
int fg_engine_process(struct fg_engine *e, const struct fg_claim *claim,
                      const struct fg_alert_source *src);

/**
 * Process a batch in order: the state backend is told the batch's persons
 * first (one fetch for a remote store) and commits its changes after (one
 * write). Returns 0, FG_EAGAIN when the state backend is unavailable
 * (nothing of the batch was applied: retry it), or another negative error.
 */
int fg_engine_process_batch(struct fg_engine *e, struct fg_claim *const *claims,
                            const struct fg_alert_source *srcs, size_t n);

/**
 * A live worker's progress read, made with a batch's reads (one round
 * trip for a remote store; see struct fg_batch_reads): everyone's is read
 * into all, and apply(opaque) is called before the deferred judgements
 * are taken, to hand it to fg_engine_set_progress(). (A worker publishes
 * its own with its commits: fg_state_ops.progress_put.)
 */
struct fg_exchange {
    const struct fg_alert_source *srcs;   /* the claims' sources (partitions), or NULL */
    const char *topic;
    int64_t *all;
    int nparts;
    void (*apply)(void *opaque);
    void *opaque;
    /* bounded: apply() will set no progress of this worker's later than
     * bound (or FG_PROGRESS_UNKNOWN), so no day past it can be complete
     * when the batch is judged, whatever the others' progress read. The
     * peer histograms of judgements that must wait for such days are not
     * read (a judgement made after all reads its own, late). */
    int bounded;
    int64_t bound;
};

/**
 * The two halves of a batch, for callers that must do something between
 * judging and committing (the daemon waits for alert delivery there).
 * batch_begin loads the persons and the histograms the detectors will
 * read (FG_EAGAIN: store unavailable) and, with x (NULL: none), reads the
 * others' progress; after fg_engine_process() of each claim, batch_commit
 * writes the state back.
 * batch_abort forgets a failed batch's changes in a remote store.
 * batch_prepare (optional, after the last process) sends the writes ahead
 * without applying them, so their transfer overlaps the caller's wait for
 * delivery; nothing but commit or abort may follow it.
 */
int fg_engine_batch_begin(struct fg_engine *e, struct fg_claim *const *claims, size_t n,
                          const struct fg_exchange *x);
int fg_engine_batch_prepare(struct fg_engine *e);
int fg_engine_batch_commit(struct fg_engine *e);
void fg_engine_batch_abort(struct fg_engine *e);

/**
 * Commit without waiting for the outcome, so that its round trip overlaps
 * the caller's next work (a remote store reads it with the next
 * batch_begin's reads). fg_engine_batch_settle() then gives the outcome:
 * 0, or FG_EAGAIN when nothing of the batch was written (run it again);
 * it waits only when no batch_begin came since. While an outcome is
 * unsettled, batch_begin fails with FG_EAGAIN if the sent commit failed,
 * which must run again first. The embedded store commits at once.
 */
int fg_engine_batch_send(struct fg_engine *e);
int fg_engine_batch_settle(struct fg_engine *e);
/**
 * End the batch without writing it (the store's hold_batch): the next
 * fg_engine_batch_send() writes every batch held since the last one in one
 * transaction. Returns 0;
 * FG_EAGAIN when the batch cannot be held (it is aborted: judge it again);
 * FG_ERR when the store cannot hold batches. When a later batch_begin
 * fails, or the commit's outcome is a failure, the batches held are lost
 * with it and must be judged again, in order, before anything else.
 */
int fg_engine_batch_hold(struct fg_engine *e);

/**
 * Live progress, before each batch. A partition's progress is an event
 * time: the latest it has delivered into state, or the earliest it still
 * has to deliver (FG_PROGRESS_UNKNOWN: nothing known, holds everything
 * back; FG_PROGRESS_IDLE: caught up, holds nothing back). others is the
 * slowest of the partitions other workers own; scopes[i] are this
 * worker's partitions (whose deferred judgements it owns) with their
 * progress bounds[i] (NULL: all equal to others), which the engine
 * advances as it processes their
 * events. Every CST event day before the slowest partition's progress
 * less the lateness is complete (see fg_detector_api.h). Until it is
 * called the engine runs as one ordered stream (a replay): its own
 * watermark decides, scope -1. others = FG_PROGRESS_IDLE with no scope
 * left behind (or all idle) judges everything still deferred.
 */
void fg_engine_set_progress(struct fg_engine *e, int64_t others, const int *scopes,
                            const int64_t *bounds, size_t n);

/**
 * Deferred judgements that became ready are judged at the start of the
 * next batch. With max > 0 a batch takes at most about max of them (its
 * share of max per scope), and the rest go with the following batches: a
 * day's backlog, ready at once when the day completes, then does not hold
 * up the batch's own events. 0 (the default) takes them all.
 */
void fg_engine_set_due_limit(struct fg_engine *e, size_t max);

/** The last batch's take stopped at the limit: more may be ready. */
int fg_engine_due_more(const struct fg_engine *e);

/** The first CST event day not known complete (INT64_MIN: none known). */
int64_t fg_engine_complete_before(const struct fg_engine *e);

/** Swap detectors and pack (SIGHUP reload) between batches; state stays.
 * Rule statistics keep their slots only if the rule set is unchanged. */
void fg_engine_set_detectors(struct fg_engine *e, struct fg_detectors *ds,
                             const struct fg_pack *pack);

/** Save the counters before a batch, and put them back when the batch is
 * abandoned for a retry, so a retried batch is counted once. */
void fg_engine_stats_checkpoint(struct fg_engine *e);
void fg_engine_stats_rollback(struct fg_engine *e);

/** The same with the saved counters kept by the caller (a batch whose
 * commit was sent keeps its mark until the outcome is known). A zeroed
 * mark restores nothing. */
struct fg_engine_mark {
    struct fg_engine_stats stats;
    struct fg_rule_stat *rules;
    int taken;
};
void fg_engine_mark_take(const struct fg_engine *e, struct fg_engine_mark *m);
void fg_engine_mark_restore(struct fg_engine *e, const struct fg_engine_mark *m);
void fg_engine_mark_free(struct fg_engine_mark *m);

const struct fg_engine_stats *fg_engine_stats(const struct fg_engine *e);

#endif
