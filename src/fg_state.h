/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_state.h: windowed state behind one API, so the Redis backend of the
 * live daemon drops in where the in-memory one stands now.
 *
 * The model is per person (keyed by psn_no): a window of fee lines ordered
 * by arrival, a seen-set of event ids and a seen-set of emitted alerts; and
 * cross-person histograms for peer statistics. The pipeline works in
 * batches: begin_batch() names the persons a batch touches so a remote
 * backend can fetch them in one round trip; commit_batch() writes the
 * batch's changes back in one round trip. Time is event time only: entries
 * carry an expiry in event-time seconds and advance() drops what the
 * watermark has passed.
 */
#ifndef FG_STATE_H
#define FG_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "fg_detector_api.h"

struct fg_person;
struct fg_state;

struct fg_line_init {
    int64_t fee_time, pric, cnt, inscp, expire_at;
    uint32_t flags;
    const char *code, *fixmedins_code, *mdtrt_id, *feedetl_sn, *setl_id;
};

/*
 * What a batch reads before it is judged, fetched together.
 *
 * Stream progress is shared by the workers of a consumer group (each
 * publishes its own with progress_put()): with a topic, the batch reads
 * everyone's into all[0..nparts) (FG_PROGRESS_UNKNOWN where nobody has
 * published).
 */
struct fg_batch_reads {
    const char *const *psn_nos;   /* the persons (repeats allowed) */
    const int *parts;             /* each one's partition (-1: not known); NULL: none */
    size_t n;
    const char *const *groups;    /* histograms hist_sum() will read */
    const int64_t *from, *to;     /* over these days, each; NULL: unknown */
    size_t ngroups;
    int64_t complete_before;      /* the days before it were complete when the
                                   * reads were prepared (a range ending before
                                   * it can be known empty); 0: none */
    const char *topic;            /* NULL: no progress read */
    int64_t *all;
    int nparts;
};

struct fg_state_ops {
    const char *name;
    /* Start a batch: load what it reads (one round trip for a remote
     * store, whatever the reads name). */
    int (*begin_batch)(struct fg_state *st, const struct fg_batch_reads *r);
    /* Add to the batch in hand (deferred judgements taken after
     * begin_batch): one more round trip for a remote store. r's progress
     * exchange is not allowed here. */
    int (*load_more)(struct fg_state *st, const struct fg_batch_reads *r);
    /* Optional (NULL: nothing to do). Send the batch's writes ahead of
     * commit_batch() without applying them or waiting for a reply, so a
     * remote store's transfer overlaps the caller's next wait. Until
     * commit_batch() or abort_batch(), nothing else may be asked of the
     * store; abort_batch() drops the writes sent. */
    int (*commit_prepare)(struct fg_state *st);
    int (*commit_batch)(struct fg_state *st);
    /* Optional (NULL: commit_batch() only). Send the commit and return
     * without its outcome, so that its round trip overlaps the caller's
     * next work: the next begin_batch() reads the outcome with its own
     * replies, and commit_wait() gives it (0, or FG_EAGAIN: nothing was
     * written), waiting for it only if no begin_batch() came since.
     * Nothing but begin_batch() and commit_wait() may follow. */
    int (*commit_send)(struct fg_state *st);
    int (*commit_wait)(struct fg_state *st);
    /* Optional (NULL: not supported); a resident store's. End the batch
     * without writing it: its writes are kept, in order, and the next
     * commit_send() writes every batch held since the last commit in one
     * transaction, reading the stream progress (begin_batch()'s progress
     * exchange) back with it; from then on begin_batch() gives that
     * instead of reading it. The persons stay in memory with the held
     * changes for the batches that follow. Returns 0, or FG_EAGAIN when
     * the batch cannot be held (abort_batch() follows). Any failure from here to the commit's
     * outcome (a batch's reads or writes, the commit) loses every batch
     * held: begin_batch() fails with FG_EAGAIN once when they are lost,
     * and the caller must judge them again. */
    int (*hold_batch)(struct fg_state *st);
    /* Forget the batch's changes (a remote store re-reads them next time;
     * the embedded store has applied them in place and cannot). */
    void (*abort_batch)(struct fg_state *st);
    /* Get (creating if needed) a person's state; valid until the next
     * advance() or commit_batch(). */
    struct fg_person *(*person)(struct fg_state *st, const char *psn_no);
    /* 1 if key is in the set, else insert it with its expiry and return 0. */
    int (*seen)(struct fg_state *st, struct fg_person *p, int which,
                uint64_t key, int64_t expire_at);
    struct fg_wline *(*add_line)(struct fg_state *st, struct fg_person *p,
                                 const struct fg_line_init *init);
    /* Persist a change to an existing line's net_cnt/flags. */
    void (*update_line)(struct fg_state *st, struct fg_person *p,
                        struct fg_wline *w);
    size_t (*window)(struct fg_state *st, struct fg_person *p,
                     struct fg_wline ***lines);
    void (*hist_add)(struct fg_state *st, const char *group, int64_t day,
                     unsigned bucket, int64_t expire_day);
    uint64_t (*hist_sum)(struct fg_state *st, const char *group, int64_t from,
                         int64_t to, uint32_t *counts);
    void (*advance)(struct fg_state *st, int64_t watermark);
    /* The person's emitted alerts, for retraction by a later
     * SETTLEMENT_REVOKE: opaque records (text, no NUL) keyed by jr_id, in
     * emission order, each kept until expire_at (event time). */
    void (*alert_keep)(struct fg_state *st, struct fg_person *p, const char *jr_id,
                       const char *rec, int64_t expire_at);
    size_t (*alert_list)(struct fg_state *st, struct fg_person *p, const char *const **recs);
    void (*alert_forget)(struct fg_state *st, struct fg_person *p, const char *jr_id);
    /* Deferred judgements (fg_ctx_defer): opaque records kept per scope
     * (a partition; -1 for a file) until days before ready_day are
     * complete. A remote store writes them with the batch's commit. */
    void (*defer_add)(struct fg_state *st, int scope, int64_t ready_day, const char *rec,
                      size_t len);
    /* Hand the records of these scopes with ready_day <= upto to fn, with
     * their scope, at most max_each of each scope (0: all; a remote store
     * hands the earliest ready first), and drop them (with the batch's
     * commit, for a remote store; an aborted batch leaves them in place).
     * One round trip for a remote store. */
    int (*defer_take)(struct fg_state *st, const int *scopes, size_t n, int64_t upto,
                      size_t max_each,
                      void (*fn)(void *opaque, int scope, const char *rec, size_t len),
                      void *opaque);
    /* Publish this worker's stream progress with the batch's commit (in
     * its transaction for a remote store, so that it never runs ahead of
     * the state): mine[p] for the partitions it owns, FG_PROGRESS_NOT_MINE
     * elsewhere. An aborted batch publishes nothing. */
    void (*progress_put)(struct fg_state *st, const char *topic, const int64_t *mine, int n);
    void (*stats)(struct fg_state *st, size_t *persons, size_t *lines,
                  size_t *hist_groups);
    void (*destroy)(struct fg_state *st);
};

#define FG_PROGRESS_NOT_MINE INT64_MIN
#define FG_PROGRESS_UNKNOWN (INT64_MIN + 1)
#define FG_PROGRESS_IDLE INT64_MAX   /* caught up: holds nobody back */

#define FG_SEEN_EVENTS 0
#define FG_SEEN_ALERTS 1

struct fg_state {
    const struct fg_state_ops *ops;
    uint64_t round_trips;   /* to a remote store; 0 for memory */
    uint64_t commands;
    uint64_t conflicts;     /* commits aborted: another worker wrote first */
    double rt_seconds;      /* wall time waiting on round trips */
};

/** Options of the Redis backend (CONTRACT §6 redis.*). */
struct fg_redis_opts {
    const char *host;
    int port;
    const char *unix_socket;   /* wins over host/port when set */
    const char *password;      /* NULL: no AUTH */
    const char *username;      /* ACL user (Redis 6+); NULL: AUTH password alone */
    int db;
    const char *ns;            /* "live" or "replay:<run_id>" */
    int64_t lateness;          /* seconds, as the engine's */
    int64_t dedup_seconds;     /* how long seen events/alerts are kept */
    int connect_timeout_ms;
    /* Keep the persons of the partitions this worker owns in memory
     * between batches (fg_state_redis_own), Redis being the durable copy. */
    int resident;
};

/**
 * The Redis backend: the same API, keys fg:<ns>:<kind>:{<psn_no>} with the
 * person as hash tag. Connection failures are not fatal here: operations
 * return FG_EAGAIN and the next begin_batch() reconnects with bounded
 * exponential backoff. Returns NULL only on bad options. Creating one
 * ignores SIGPIPE for the process (a server gone away is then a write
 * error, not the end of the process).
 */
struct fg_state *fg_state_redis_new(const struct fg_redis_opts *o, char *err,
                                    size_t errlen);
/** 1 when the Redis backend currently has a working connection. */
int fg_state_redis_connected(const struct fg_state *st);
/** Why the server refused the last connection's credentials (AUTH failed,
 * NOAUTH, NOPERM), or NULL: a refusal that retrying will not cure. */
const char *fg_state_redis_refused(const struct fg_state *st);
/**
 * Resident mode (fg_redis_opts.resident): this worker now owns these
 * partitions of the claims topic (a new assignment; n = 0: none). The
 * next batch takes a new epoch of each, the fence that fails the commits
 * of any older owner, and the persons in memory are dropped and loaded
 * again as they come. A commit owed is read here first.
 */
void fg_state_redis_own(struct fg_state *st, const int *parts, int n);
/** Delete every key of the backend's namespace (SCAN + UNLINK). */
int fg_state_redis_drop_namespace(struct fg_state *st);

/** The embedded in-memory backend. */
struct fg_state *fg_state_memory_new(void);

/* A person's watermark: the latest event time seen for the person. Expiry
 * decisions that change verdicts use it rather than the stream's global
 * watermark, so a lagging partition judges exactly as a replay would. A
 * backend persists it with the person. */
int64_t fg_person_watermark(const struct fg_person *p);
void fg_person_set_watermark(struct fg_person *p, int64_t t);

/* For backends that keep their working set in a memory store (Redis loads
 * a batch's persons into one, then writes the changes back). */
const char *fg_person_psn(const struct fg_person *p);
/* What a remote store learnt at load about a person's keys (all zero for a
 * person it did not load: nothing known). Deadlines are wall-clock epoch
 * seconds that the keys are known to live until. */
struct fg_person_keys {
    int64_t lines_until;   /* the line hash */
    int64_t sets_until;    /* the seen-sets that exist */
    int64_t oldest[2];     /* each seen-set's lowest expiry, when it exists */
    int exists[2];         /* the seen-set (FG_SEEN_EVENTS, FG_SEEN_ALERTS) has members */
    int part1;             /* the claims partition the person is keyed to, + 1 (0: not known) */
};
struct fg_person_keys *fg_person_keys(struct fg_person *p);

/* The ident of a window line with this identity (struct fg_wline). */
uint64_t fg_wline_ident(const char *fixmedins_code, const char *mdtrt_id,
                        const char *feedetl_sn);
struct fg_wline *fg_state_memory_load_line(struct fg_state *st, struct fg_person *p,
                                           const struct fg_line_init *in, uint64_t seq,
                                           int64_t net_cnt);
void fg_state_memory_clear_persons(struct fg_state *st);
/* Called with each line an expiry sweep (advance) drops, before it is
 * freed: a backend keeping persons in the store deletes its copy too. */
void fg_state_memory_on_drop(struct fg_state *st,
                             void (*fn)(void *opaque, struct fg_person *p,
                                        const struct fg_wline *w),
                             void *opaque);
int fg_state_memory_has_person(struct fg_state *st, const char *psn_no);

/* Begin a batch that reads these persons and nothing else. */
static inline int fg_state_begin(struct fg_state *st, const char *const *psn_nos, size_t n)
{
    struct fg_batch_reads r = {.psn_nos = psn_nos, .n = n};

    return st->ops->begin_batch(st, &r);
}

static inline void fg_state_destroy(struct fg_state *st)
{
    if (st)
        st->ops->destroy(st);
}

#endif
