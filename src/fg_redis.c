/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_redis.c: the Redis state backend, and the only file that includes
 * hiredis (Debian 12 ships hiredis 0.14, whose API differs from 1.x).
 *
 * Model. A batch names its persons; begin_batch() loads all of them in one
 * pipelined round trip into a memory store used as the working set, with
 * the histograms the batch reads and the workers' progress. The detectors
 * run against that working set exactly as with the embedded backend.
 * commit_batch() writes what changed back in one MULTI/EXEC, then drops
 * the working set; commit_send() sends the same without waiting, and the
 * next begin_batch() reads its replies with its own. So a batch costs
 * about one round trip, and the state a crash can lose is at most the
 * batches whose commit is not known to have landed (their offsets are not
 * stored), which at-least-once redelivery replays. In resident mode
 * (o.resident) the working set is kept from batch to batch while the
 * partitions' fence holds (fence_up): only persons not in memory load.
 *
 * Keys, all with the person as hash tag so a cluster can shard by person:
 *   fg:<ns>:L:{psn}  hash   line identity -> line record (idempotent: a
 *                           redelivered line overwrites itself)
 *   fg:<ns>:E:{psn}  zset   seen event ids (hash hex), score = expiry
 *   fg:<ns>:A:{psn}  zset   emitted alerts (jr hash hex), score = expiry
 *   fg:<ns>:H:<group>  hash  "<day>:<bucket>" -> count (peer statistics;
 *                          one key per group, so a batch reads every group
 *                          it needs in the same round trip)
 *   fg:<ns>:Q:{p<N>}   zset  judgements deferred until their days are
 *                          complete (record -> ready day), per partition
 *   fg:<ns>:W:{<topic>} hash partition -> progress (latest committed event
 *                          time, or idle), shared by the consumer group
 *   fg:<ns>:F:{p<N>}   string the partition's owner epoch (resident mode:
 *                          see fence_up), no TTL: a few bytes per partition
 *   fg:<ns>:D:<day>    set   the groups with histogram observations that
 *                          day (see known_empty), TTL as the histograms'
 *   fg:<ns>:I:{p<N>}   zset  the persons of partition N with state, score =
 *                          when all their keys are gone (see index_read);
 *                          member "#" (score +inf): the index is complete.
 *                          No TTL: commits drop the members past their score
 * Every key carries a TTL derived from the widest window that keeps it.
 */
#include "fg_common.h"
#include "fg_buf.h"
#include "fg_privacy.h"
#include "fg_state.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

struct dirty_seen {
    struct fg_person *p;
    int which;
    uint64_t key;
    int64_t exp;
};

/* A batch's new observations of one group (kept per group, so reading a
 * group's baseline never scans the other groups' observations). */
struct dirty_hist {
    char *group;
    int64_t *day;
    unsigned *bucket;
    int64_t keep_days;       /* expire_day - day, as the detector asked */
    size_t n, cap;
};

struct dead_field {
    char *psn;
    char *field;
};

/* A group's histogram as read from Redis for the current batch. */
struct group_hist {
    char *group;
    int64_t until;           /* the key's TTL deadline as noted (#t), wall clock */
    int64_t *day;
    uint16_t *bucket;
    uint32_t *count;
    size_t n, cap;
};

/* An emitted alert kept (HSET at commit) or forgotten (HDEL) for a person. */
struct dirty_alert {
    char *psn, *jr_id;
    char *val;          /* "<expire>\x1e<record>"; NULL: forget */
    int part1;          /* the person's partition + 1 (fg_person_keys) */
};

/* A person with state, as the index knows it (struct redis_state.index). */
struct ix_entry {
    char *psn;
    int64_t until;      /* wall-clock seconds: every key of the person gone */
};

/* The days a group has observations on, among the days known (struct
 * redis_state.gspan): within [min, max], none outside. */
struct gspan {
    char *group;
    int64_t min, max;
};

/* A commit's index update: the person's keys live until then. */
struct ix_add {
    int part;
    const char *psn;    /* the person's (alive until the commit is built) */
    int64_t until;
};

/* A deferred judgement added (ZADD at commit) or taken (ZREM at commit). */
struct deferred_op {
    int scope;
    int64_t ready;
    char *rec;
    size_t len;
};

struct redis_state {
    struct fg_state base;
    struct fg_redis_opts o;
    char *host, *unix_socket, *username, *password, *ns;
    struct fg_state *mem;            /* working set of the current batch */
    redisContext *c;
    int64_t watermark;
    int failed;                      /* a read failed inside the batch */
    int prepared;                    /* the batch's writes are built (rs_prepare) */
    int64_t wall_now;                /* wall-clock seconds when they were */
    struct fg_buf spare_out, spare_args;   /* a pipeline's buffers, between uses */
    size_t queued;                   /* replies owed for them: MULTI + commands */
    size_t exec_owed;                /* replies owed for a commit sent (rs_commit_send) */
    int exec_rc;                     /* its outcome, once read (rs_commit_wait) */
    int exec_fence;                  /* the fence's WATCH and MGET follow it */
    char *prog_topic;                /* progress to publish with the commit (progress_put) */
    int64_t *prog;
    int nprog;
    double next_connect;             /* monotonic seconds */
    char refused[256];               /* the server refused our credentials: why */
    double backoff;
    struct fg_wline **dl;            /* lines added or changed */
    struct fg_person **dlp;
    size_t ndl, capdl;
    struct dirty_seen *ds;
    size_t nds, capds;
    struct fg_map dh;                /* group -> struct dirty_hist */
    size_t ndh;                      /* observations in dh */
    struct dead_field *df;
    size_t ndf, capdf;
    struct fg_map ghist;            /* group -> struct group_hist, per batch */
    struct deferred_op *dq_add, *dq_take;
    struct dirty_alert *da;
    size_t nda, capda;
    size_t ndq_add, capdq_add, ndq_take, capdq_take;
    /* Resident mode (o.resident): the persons stay in mem between
     * batches while the fence holds. */
    int *owned;                      /* partitions owned (fg_state_redis_own) */
    int64_t *epoch;                  /* the epoch held of each (0: take one) */
    int nowned;
    int fenced;                      /* epochs watched and checked on this connection */
    int fence_lost;                  /* a newer owner took one: wait for own() */
    uint64_t drops;                  /* times the resident persons were dropped */
    /* Batches held (rs_hold): their writes, in order, for the next commit,
     * and their histogram observations, which count until it lands. */
    struct fg_buf held;
    size_t nheld;                    /* commands in held */
    struct fg_map hh;                /* group -> struct dirty_hist */
    int holding;                     /* a batch is held since the last commit sent */
    size_t *held_taken;              /* per scope: deferred records taken by them */
    size_t nheld_taken;              /* scopes in held_taken */
    int held_lost;                   /* held writes dropped: the next begin says so */
    int merge;                       /* batches are held: progress comes with commits */
    char *merge_topic;               /* whose progress (progress_put's topic) */
    int64_t *progc;                  /* the progress read with the last commit */
    int nprogc;                      /* its partitions; 0: none read on this connection */
    int exec_prog;                   /* the commit sent reads progress back */
    /* The person index (resident mode): who has state in the partitions
     * owned, trusted for those whose index is complete (index_read). */
    struct fg_map index;             /* psn -> struct ix_entry */
    int *trusted;                    /* per owned[i]: its index is complete */
    int *marker;                     /* per owned[i]: note it so with the next commit */
    int index_known;                 /* read for this assignment */
    double index_pruned;             /* monotonic seconds */
    struct ix_add *ixa;
    size_t nixa, capixa;
    /* Complete days' groups (group_days): which days are known, and over
     * them, each group's days. */
    int64_t *gdays;
    size_t ngdays, capgdays;
    struct fg_map gspan;             /* group -> struct gspan */
};

#define FS "\x1f"

/* Empties a map whose values own their keys, freeing each value. */
static void map_clear(struct fg_map *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            free_val(m->slots[i].val);
    fg_map_fini(m);
    fg_map_init(m);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hist_map_clear(struct fg_map *m);

/* Forgets the batches held (sent, or lost). */
static void held_clear(struct redis_state *r)
{
    fg_buf_reset(&r->held);
    r->nheld = 0;
    hist_map_clear(&r->hh);
    if (r->nheld_taken)
        memset(r->held_taken, 0, r->nheld_taken * sizeof(*r->held_taken));
    r->holding = 0;
}

/* Resident mode: forget the persons in memory (they may be ahead of what
 * Redis holds, or behind another worker's writes), the batches held on
 * them, and the fence; the next batch checks the fence again and loads
 * the persons afresh. */
static void drop_resident(struct redis_state *r)
{
    if (!r->o.resident)
        return;
    if (r->holding) {
        /* Held batches were judged on the persons: they go with them. */
        held_clear(r);
        r->held_lost = 1;
    }
    fg_state_memory_clear_persons(r->mem);
    r->fenced = 0;
    r->drops++;
}

static void disconnect(struct redis_state *r, const char *why)
{
    /* The fence's WATCH went with the connection. The persons are dropped
     * by the next batch's fence_up, not here: this may be in the middle
     * of a batch (a histogram read late), whose detectors hold them. */
    r->fenced = 0;
    r->exec_fence = 0;
    r->nprogc = 0;   /* progress is read again with the next batch */
    r->exec_prog = 0;
    if (r->exec_owed) {   /* a commit sent: applied or not, nobody can tell */
        r->exec_owed = 0;
        r->exec_rc = FG_EAGAIN;
    }
    if (r->c) {
        fg_log_warn("msg=\"redis connection lost\" error=\"%s\" retry_in=%.1fs", why,
                    r->backoff);
        redisFree(r->c);
        r->c = NULL;
    }
    r->next_connect = mono() + r->backoff;
    r->backoff = r->backoff * 2 > 10.0 ? 10.0 : r->backoff * 2;
}

static int command_ok(redisReply *rep)
{
    return rep && rep->type != REDIS_REPLY_ERROR;
}

/* A connection set-up command's reply (freed here): 0 if accepted. Else
 * logs it, disconnects and returns -1; a refusal that retrying will not
 * cure (any AUTH error, WRONGPASS, NOAUTH, NOPERM) is kept in r->refused. */
static int setup_reply(struct redis_state *r, const char *what, redisReply *rep)
{
    const char *why;

    if (command_ok(rep)) {
        freeReplyObject(rep);
        return 0;
    }
    why = rep ? rep->str : r->c->errstr;
    if (rep && (strcmp(what, "AUTH") == 0 || strncmp(why, "WRONGPASS", 9) == 0 ||
                strncmp(why, "NOAUTH", 6) == 0 || strncmp(why, "NOPERM", 6) == 0))
        snprintf(r->refused, sizeof(r->refused), "%s: %s", what, why);
    fg_log_error("msg=\"redis refused %s\" error=\"%s\"", what, why);
    freeReplyObject(rep);
    disconnect(r, "connection set-up failed");
    return -1;
}

static int try_connect(struct redis_state *r)
{
    struct timeval tv = {r->o.connect_timeout_ms / 1000, (r->o.connect_timeout_ms % 1000) * 1000};

    if (r->c)
        return 0;
    if (mono() < r->next_connect)
        return -1;
    r->c = r->unix_socket ? redisConnectUnixWithTimeout(r->unix_socket, tv)
                          : redisConnectWithTimeout(r->host, r->o.port, tv);
    if (!r->c || r->c->err) {
        const char *why = r->c ? r->c->errstr : "cannot allocate context";
        fg_log_warn("msg=\"redis connect failed\" error=\"%s\" retry_in=%.1fs", why, r->backoff);
        if (r->c)
            redisFree(r->c);
        r->c = NULL;
        r->next_connect = mono() + r->backoff;
        r->backoff = r->backoff * 2 > 10.0 ? 10.0 : r->backoff * 2;
        return -1;
    }
    redisSetTimeout(r->c, (struct timeval){5, 0});
    /* AUTH (with the ACL user if any), SELECT, then a PING that tells
     * whether the server lets us in at all (NOAUTH without a password). */
    if (r->password &&
        setup_reply(r, "AUTH", r->username
                                   ? redisCommand(r->c, "AUTH %s %s", r->username, r->password)
                                   : redisCommand(r->c, "AUTH %s", r->password)))
        return -1;
    if (r->o.db && setup_reply(r, "SELECT", redisCommand(r->c, "SELECT %d", r->o.db)))
        return -1;
    if (setup_reply(r, "PING", redisCommand(r->c, "PING")))
        return -1;
    r->refused[0] = '\0';
    r->backoff = 0.1;
    fg_log_info("msg=\"redis connected\" target=%s%s%d ns=%s",
                r->unix_socket ? r->unix_socket : r->host, r->unix_socket ? "" : ":",
                r->unix_socket ? 0 : r->o.port, r->ns);
    return 0;
}

/* The writers below run for every line of every batch: no printf. */

static void hex16(char buf[17], uint64_t v)
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 15; i >= 0; i--, v >>= 4)
        buf[i] = digits[v & 15];
    buf[16] = '\0';
}

/*
 * A pipeline of commands written straight in the Redis protocol (RESP)
 * into one buffer and handed to hiredis in one piece: no format string
 * parsed and no allocation per command or argument (redisAppendCommand
 * does both). Variadic commands (one HSET of all a person's changed lines)
 * need their argument count first, so a command's arguments are gathered
 * in args and written after its "*<count>" header at cmd_end().
 */
struct pipe {
    struct fg_buf out, args;
    unsigned argc;
    size_t ncmd;
};

/* A pipeline's buffers are the state's, kept from one round trip to the
 * next (a commit's runs to megabytes: allocated afresh, its pages would be
 * faulted in and cleared every batch). */
static void pipe_init(struct redis_state *r, struct pipe *p)
{
    p->out = r->spare_out;
    p->args = r->spare_args;
    fg_buf_init(&r->spare_out);
    fg_buf_init(&r->spare_args);
    fg_buf_reset(&p->out);
    fg_buf_reset(&p->args);
    p->argc = 0;
    p->ncmd = 0;
}

static void pipe_fini(struct redis_state *r, struct pipe *p)
{
    fg_buf_fini(&r->spare_out);
    fg_buf_fini(&r->spare_args);
    r->spare_out = p->out;
    r->spare_args = p->args;
}

static void cmd_arg(struct pipe *p, const char *a, size_t len)
{
    fg_buf_putc(&p->args, '$');
    fg_buf_put_u64(&p->args, len);
    fg_buf_append(&p->args, "\r\n", 2);
    fg_buf_append(&p->args, a, len);
    fg_buf_append(&p->args, "\r\n", 2);
    p->argc++;
}

static void cmd_str(struct pipe *p, const char *a)
{
    cmd_arg(p, a, strlen(a));
}

static void cmd_i64(struct pipe *p, int64_t v)
{
    char buf[FG_FMT_INT_MAX + 1];
    cmd_arg(p, buf, fg_fmt_i64(buf, v));
}

static void cmd_buf(struct pipe *p, const struct fg_buf *b)
{
    cmd_arg(p, b->data, b->len);
}

/* Starts a command: its name and (when not NULL) its key. */
static void cmd_begin(struct pipe *p, const char *name, const struct fg_buf *key)
{
    fg_buf_reset(&p->args);
    p->argc = 0;
    cmd_str(p, name);
    if (key)
        cmd_buf(p, key);
}

static void cmd_end(struct pipe *p)
{
    fg_buf_putc(&p->out, '*');
    fg_buf_put_u64(&p->out, p->argc);
    fg_buf_append(&p->out, "\r\n", 2);
    fg_buf_append(&p->out, p->args.data, p->args.len);
    p->ncmd++;
}

/* "<name> <key> <int>" (EXPIRE key seconds). */
static void cmd_key_i64(struct pipe *p, const char *name, const struct fg_buf *key, int64_t v)
{
    cmd_begin(p, name, key);
    cmd_i64(p, v);
    cmd_end(p);
}

/* Hands the pipeline to hiredis (written out by the first reply read). */
static void pipe_send(struct redis_state *r, struct pipe *p)
{
    if (p->out.len)
        redisAppendFormattedCommand(r->c, p->out.data, p->out.len);
    r->base.commands += p->ncmd;
}

/* A price histogram's field: "day:bucket". */
static void hist_field(struct fg_buf *b, int64_t day, unsigned bucket)
{
    fg_buf_reset(b);
    fg_buf_put_i64(b, day);
    fg_buf_putc(b, ':');
    fg_buf_put_u64(b, bucket);
}

/* "fg:<ns>:<kind>:" then the tag: in braces (the key's hash tag) when
 * braced, and the scope's number after "p" when tag is NULL. */
static void ns_key(struct fg_buf *b, const struct redis_state *r, char kind, const char *tag,
                   int braced, int scope)
{
    char k[3] = {':', kind, ':'};

    fg_buf_reset(b);
    fg_buf_append(b, "fg:", 3);
    fg_buf_puts(b, r->ns);
    fg_buf_append(b, k, sizeof(k));
    if (braced)
        fg_buf_putc(b, '{');
    if (tag) {
        fg_buf_puts(b, tag);
    } else {
        fg_buf_putc(b, 'p');
        fg_buf_put_i64(b, scope);
    }
    if (braced)
        fg_buf_putc(b, '}');
}

/* A person's key: fg:<ns>:<kind>:{<psn_no>}. */
static void key_of(struct fg_buf *b, const struct redis_state *r, char kind, const char *psn)
{
    ns_key(b, r, kind, psn, 1, 0);
}

/* One sorted set per scope (partition), score = ready day; the scope is the
 * hash tag, as the partition is what a worker owns: fg:<ns>:Q:{p<scope>}. */
static void queue_key(struct fg_buf *b, const struct redis_state *r, int scope)
{
    ns_key(b, r, 'Q', NULL, 1, scope);
}

static void field_of(struct fg_buf *b, const struct fg_wline *w)
{
    fg_buf_reset(b);
    fg_buf_puts(b, w->fixmedins_code);
    fg_buf_putc(b, '\x1f');
    fg_buf_puts(b, w->mdtrt_id);
    fg_buf_putc(b, '\x1f');
    fg_buf_puts(b, w->feedetl_sn);
}

static void value_of(struct fg_buf *b, const struct fg_wline *w)
{
    const int64_t nums[] = {w->fee_time, w->pric, w->cnt, w->net_cnt, w->inscp, w->expire_at};

    fg_buf_reset(b);
    fg_buf_puts(b, "1" FS);
    fg_buf_put_u64(b, w->seq);
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        fg_buf_putc(b, '\x1f');
        fg_buf_put_i64(b, nums[i]);
    }
    fg_buf_putc(b, '\x1f');
    fg_buf_put_u64(b, w->flags);
    fg_buf_putc(b, '\x1f');
    fg_buf_puts(b, w->code);
    fg_buf_putc(b, '\x1f');
    fg_buf_puts(b, w->setl_id);
}

/* Split s (len n) on FS into at most max parts (pointers into a copy). */
static size_t split(char *s, char **parts, size_t max)
{
    size_t k = 0;
    char *p = s;

    while (k < max) {
        parts[k++] = p;
        char *e = strchr(p, '\x1f');
        if (!e)
            break;
        *e = '\0';
        p = e + 1;
    }
    return k;
}

/* Rebuild one stored line into the working set: field and val are the
 * reply's strings, split in place (the reply is freed after). Returns 0, or
 * -1 when the record is unreadable (it is then dropped, and logged). */
static int load_line(struct redis_state *r, struct fg_person *p, char *f, size_t flen,
                     char *v, int64_t cut)
{
    char *fp[3], *vp[11];
    int rc = -1;

    if (split(f, fp, 3) == 3 && split(v, vp, 11) == 11 && strcmp(vp[0], "1") == 0) {
        struct fg_line_init in = {
            .fee_time = strtoll(vp[2], NULL, 10),
            .pric = strtoll(vp[3], NULL, 10),
            .cnt = strtoll(vp[4], NULL, 10),
            .inscp = strtoll(vp[6], NULL, 10),
            .expire_at = strtoll(vp[7], NULL, 10),
            .flags = (uint32_t)strtoul(vp[8], NULL, 10),
            .code = vp[9],
            .setl_id = vp[10],
            .fixmedins_code = fp[0],
            .mdtrt_id = fp[1],
            .feedetl_sn = fp[2],
        };
        if (in.expire_at < cut) {
            /* Expired: delete it with the next commit (the field as
             * stored: its separators back). */
            for (size_t i = 0; i < flen; i++)
                if (f[i] == '\0')
                    f[i] = '\x1f';
            FG_VEC_GROW(r->df, r->ndf, r->capdf, 64);
            r->df[r->ndf].psn = fg_strdup(fg_person_psn(p));
            r->df[r->ndf++].field = fg_strndup(f, flen);
        } else {
            fg_state_memory_load_line(r->mem, p, &in, strtoull(vp[1], NULL, 10),
                                      strtoll(vp[5], NULL, 10));
        }
        rc = 0;
    } else {
        char pseudo[FG_PSN_PSEUDO_LEN + 1];
        fg_log_warn("msg=\"unreadable state record dropped\" psn_no=%s",
                    fg_psn_out(fg_person_psn(p), pseudo));
    }
    return rc;
}

/* Appends a one-word command (DISCARD) behind what is queued. */
static void send_word(struct redis_state *r, const char *word)
{
    struct pipe pp;

    pipe_init(r, &pp);
    cmd_begin(&pp, word, NULL);
    cmd_end(&pp);
    pipe_send(r, &pp);
    pipe_fini(r, &pp);
}

/* Drops the writes rs_prepare queued (DISCARD, and every reply owed). */
static void discard_queued(struct redis_state *r)
{
    size_t owed = r->queued + 1;

    r->queued = 0;
    drop_resident(r);   /* DISCARD drops the fence's WATCH too */
    if (!r->c)
        return;
    send_word(r, "DISCARD");
    for (size_t i = 0; i < owed; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(r->c, (void **)&rep) != REDIS_OK || !rep) {
            disconnect(r, r->c && r->c->err ? r->c->errstr : "no reply");
            return;
        }
        freeReplyObject(rep);
    }
}

/* Empties a map of group -> struct dirty_hist. */
static void dirty_hist_free(void *v)
{
    struct dirty_hist *h = v;
    free(h->day);
    free(h->bucket);
    free(h->group);
    free(h);
}

static void hist_map_clear(struct fg_map *m)
{
    map_clear(m, dirty_hist_free);
}

static void group_hist_free(void *v)
{
    struct group_hist *g = v;
    free(g->day);
    free(g->bucket);
    free(g->count);
    free(g->group);
    free(g);
}

static void reset_batch(struct redis_state *r)
{
    if (r->queued)
        discard_queued(r);
    r->prepared = 0;
    hist_map_clear(&r->dh);
    for (size_t i = 0; i < r->ndf; i++) {
        free(r->df[i].psn);
        free(r->df[i].field);
    }
    map_clear(&r->ghist, group_hist_free);
    for (size_t i = 0; i < r->ndq_add; i++)
        free(r->dq_add[i].rec);
    for (size_t i = 0; i < r->ndq_take; i++)
        free(r->dq_take[i].rec);
    r->ndq_add = r->ndq_take = 0;
    for (size_t i = 0; i < r->nda; i++) {
        free(r->da[i].psn);
        free(r->da[i].jr_id);
        free(r->da[i].val);
    }
    r->nda = 0;
    r->ndl = r->nds = r->ndh = r->ndf = 0;
    free(r->prog_topic);
    r->prog_topic = NULL;
    r->failed = 0;
    if (!r->o.resident)
        fg_state_memory_clear_persons(r->mem);
}

/* Appends (when fresh) UNWATCH, and one WATCH over the line hashes of
 * persons[0..n) (a PING when there are none: the reply count stays fixed). */
static void watch_persons(struct redis_state *r, struct pipe *pp, struct fg_buf *key,
                          const char **persons, size_t n, int fresh)
{
    if (fresh) {
        cmd_begin(pp, "UNWATCH", NULL);
        cmd_end(pp);
    }
    cmd_begin(pp, n ? "WATCH" : "PING", NULL);
    for (size_t i = 0; i < n; i++) {
        key_of(key, r, 'L', persons[i]);
        cmd_buf(pp, key);
    }
    cmd_end(pp);
}

static void ghist_add(struct group_hist *g, int64_t day, unsigned bucket, uint32_t count)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->day = fg_realloc(g->day, g->cap * sizeof(*g->day));
        g->bucket = fg_realloc(g->bucket, g->cap * sizeof(*g->bucket));
        g->count = fg_realloc(g->count, g->cap * sizeof(*g->count));
    }
    g->day[g->n] = day;
    g->bucket[g->n] = (uint16_t)bucket;
    g->count[g->n++] = count;
}

static void hist_key(struct fg_buf *b, const struct redis_state *r, const char *group)
{
    ns_key(b, r, 'H', group, 0, 0);
}

/* The next reply when it is an array. Otherwise NULL, the server's error
 * logged (with what: the reads it answers; NULL: not logged), and the
 * connection dropped: what was owed after it is lost. */
static redisReply *array_reply(struct redis_state *r, const char *what)
{
    redisReply *rep = NULL;

    if (redisGetReply(r->c, (void **)&rep) == REDIS_OK && rep &&
        rep->type == REDIS_REPLY_ARRAY)
        return rep;
    if (what && rep && rep->type == REDIS_REPLY_ERROR)
        fg_log_error("msg=\"redis %s failed\" error=\"%s\"", what, rep->str);
    freeReplyObject(rep);
    disconnect(r, r->c && r->c->err ? r->c->errstr : "bad reply");
    return NULL;
}

/* The next reply when it is not an error (a status, a count): 0.
 * Otherwise FG_EAGAIN, and the connection dropped, naming what (the
 * command it answers) and the server's or the connection's error. */
static int status_reply(struct redis_state *r, const char *what)
{
    redisReply *rep = NULL;
    char why[200];

    if (redisGetReply(r->c, (void **)&rep) == REDIS_OK && command_ok(rep)) {
        freeReplyObject(rep);
        return 0;
    }
    snprintf(why, sizeof(why), "%s: %s", what,
             rep ? rep->str : r->c->err ? r->c->errstr : "no reply");
    freeReplyObject(rep);
    disconnect(r, why);
    return FG_EAGAIN;
}

/*
 * Known empty baselines (resident mode). A detector reading a group's
 * histogram over complete days costs a round trip per batch with a group
 * new to it, though most groups have no history at all (a new code,
 * region or level; the first days of a deployment). Every commit adds the
 * groups it observes to the day's set (SADD fg:<ns>:D:<day>), and a
 * worker reads a complete day's set once (the day can have no more
 * observations), into the span of days each group was seen on. A group
 * with no day in the range read, all of whose days are known, has an
 * empty baseline there: nothing is read. A day's set is taken to exist as
 * long as any histogram holds the day (its TTL is the histograms'); past
 * that, the day is read by nobody.
 */
static int day_known(const struct redis_state *r, int64_t day)
{
    for (size_t i = 0; i < r->ngdays; i++)
        if (r->gdays[i] == day)
            return 1;
    return 0;
}

static void gspan_free(void *v)
{
    struct gspan *g = v;
    free(g->group);
    free(g);
}

static void gspans_clear(struct redis_state *r)
{
    map_clear(&r->gspan, gspan_free);
    r->ngdays = 0;
}

static void gspan_note(struct redis_state *r, const char *group, size_t len, int64_t day)
{
    struct gspan *g = fg_map_get(&r->gspan, group, len);

    if (!g) {
        g = fg_malloc(sizeof(*g));
        g->group = fg_malloc(len + 1);
        memcpy(g->group, group, len);
        g->group[len] = '\0';
        g->min = g->max = day;
        fg_map_put(&r->gspan, g->group, len, g);
    } else if (day < g->min) {
        g->min = day;
    } else if (day > g->max) {
        g->max = day;
    }
}

/* 1 when the group has no observation on days [from, to], all known. */
static int known_empty(const struct redis_state *r, const char *group, int64_t from, int64_t to)
{
    const struct gspan *g;

    if (!r->o.resident || to - from > 366)
        return 0;
    for (int64_t d = from; d <= to; d++)
        if (!day_known(r, d))
            return 0;
    g = fg_map_get(&r->gspan, group, strlen(group));
    return !g || g->max < from || g->min > to;
}

/* Group i's days are all complete (only then are they known). */
static int range_complete(const struct fg_batch_reads *rd, size_t i)
{
    return rd->from && rd->to[i] < rd->complete_before;
}

/* Appends SMEMBERS of each day in [from, to] neither known nor asked
 * for yet (days[0..*n), to which it adds them). */
static void days_ask(struct redis_state *r, struct pipe *pp, struct fg_buf *key, int64_t from,
                     int64_t to, int64_t **days, size_t *n, size_t *cap)
{
    if (!r->o.resident || to - from > 366)
        return;
    for (int64_t d = from; d <= to; d++) {
        size_t k = 0;
        char tag[24];
        while (k < *n && (*days)[k] != d)
            k++;
        if (k < *n || day_known(r, d))
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 32;
            *days = fg_realloc(*days, *cap * sizeof(**days));
        }
        (*days)[(*n)++] = d;
        snprintf(tag, sizeof(tag), "%lld", (long long)d);
        ns_key(key, r, 'D', tag, 0, 0);
        cmd_begin(pp, "SMEMBERS", key);
        cmd_end(pp);
    }
}

/* A day's observations not in Redis yet, by the batch in hand (dh) or
 * the batches held (hh): the day's set read now lacks their groups, and
 * commit_days() notes them only for days known when it runs. So they are
 * noted as the day becomes known, or the groups would look empty there
 * once those writes land and their counts leave memory. */
static void day_note_pending(struct redis_state *r, int64_t day)
{
    for (int k = 0; k < 2; k++) {
        const struct fg_map *m = k ? &r->hh : &r->dh;
        for (size_t s = 0; s < m->cap; s++) {
            const struct dirty_hist *h = m->slots[s].val;
            if (!m->slots[s].key)
                continue;
            for (size_t i = 0; i < h->n; i++)
                if (h->day[i] == day) {
                    gspan_note(r, h->group, strlen(h->group), day);
                    break;
                }
        }
    }
}

/* Reads the day sets days_ask() asked for: those days become known. */
static int days_read(struct redis_state *r, const int64_t *days, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = array_reply(r, "day groups read");
        if (!rep)
            return FG_EAGAIN;
        if (r->ngdays >= 64)
            gspans_clear(r);   /* bounded: read again as needed */
        for (size_t e = 0; e < rep->elements; e++)
            gspan_note(r, rep->element[e]->str, rep->element[e]->len, days[i]);
        day_note_pending(r, days[i]);
        FG_VEC_GROW(r->gdays, r->ngdays, r->capgdays, 16);
        r->gdays[r->ngdays++] = days[i];
        freeReplyObject(rep);
    }
    return 0;
}

/* The commit's day sets: the groups of each day observed (and, for a day
 * known already, their spans). */
struct day_group {
    int64_t day;
    const char *group;
    int64_t keep_days;
};

static int by_day(const void *a, const void *b)
{
    const struct day_group *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

/* 1 when an observation before the i-th has its day (and, with bucket,
 * its bucket): the i-th adds nothing new to write there. */
static int obs_repeats(const struct dirty_hist *h, size_t i, int bucket)
{
    for (size_t j = 0; j < i; j++)
        if (h->day[j] == h->day[i] && (!bucket || h->bucket[j] == h->bucket[i]))
            return 1;
    return 0;
}

static void commit_days(struct redis_state *r, struct pipe *pp, struct fg_buf *key)
{
    struct day_group *v = NULL;
    size_t n = 0, cap = 0;

    for (size_t s = 0; s < r->dh.cap; s++) {
        const struct dirty_hist *h = r->dh.slots[s].val;
        if (!r->dh.slots[s].key)
            continue;
        for (size_t i = 0; i < h->n; i++) {
            if (obs_repeats(h, i, 0))
                continue;   /* the day is in already */
            FG_VEC_GROW(v, n, cap, 64);
            v[n++] = (struct day_group){h->day[i], h->group, h->keep_days};
            if (day_known(r, h->day[i]))
                gspan_note(r, h->group, strlen(h->group), h->day[i]);
        }
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), by_day);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int64_t keep = 0;
        char tag[24];
        snprintf(tag, sizeof(tag), "%lld", (long long)v[i].day);
        ns_key(key, r, 'D', tag, 0, 0);
        cmd_begin(pp, "SADD", key);
        for (; j < n && v[j].day == v[i].day; j++) {
            cmd_str(pp, v[j].group);
            if (v[j].keep_days > keep)
                keep = v[j].keep_days;
        }
        cmd_end(pp);
        /* as long as the histograms keep the day (commit_hist) */
        cmd_key_i64(pp, "EXPIRE", key, (keep + 3) * FG_DAY);
        i = j;
    }
    free(v);
}

/* Reads the HGETALL of each group in want[0..nw) into the batch's cache. */
static int groups_read(struct redis_state *r, const char **want, size_t nw)
{
    for (size_t i = 0; i < nw; i++) {
        redisReply *rep = array_reply(r, NULL);
        if (!rep)
            return FG_EAGAIN;
        struct group_hist *g = fg_calloc(1, sizeof(*g));
        g->group = fg_strdup(want[i]);
        for (size_t e = 0; e + 1 < rep->elements; e += 2) {
            char *colon;
            long long day = strtoll(rep->element[e]->str, &colon, 10);
            if (rep->element[e]->str[0] == '#' && strcmp(rep->element[e]->str, "#t") == 0)
                g->until = strtoll(rep->element[e + 1]->str, NULL, 10);
            if (*colon != ':')
                continue;
            unsigned long b = strtoul(colon + 1, NULL, 10);
            if (b < FG_HIST_BUCKETS)
                ghist_add(g, day, (unsigned)b,
                          (uint32_t)strtoul(rep->element[e + 1]->str, NULL, 10));
        }
        fg_map_put(&r->ghist, g->group, strlen(g->group), g);
        freeReplyObject(rep);
    }
    return 0;
}

static int exec_read(struct redis_state *r);
static int known_absent(const struct redis_state *r, const char *psn, int part);
static void fence_watch(struct redis_state *r, struct pipe *pp, struct fg_buf *key);
static int fence_check(struct redis_state *r);

/* The progress hash's fields (HGETALL: partition, progress) into
 * all[0..n), which is FG_PROGRESS_UNKNOWN where nobody published. */
static void progress_parse(const redisReply *rep, int64_t *all, int n)
{
    for (int i = 0; i < n; i++)
        all[i] = FG_PROGRESS_UNKNOWN;
    for (size_t e = 0; e + 1 < rep->elements; e += 2) {
        long p = strtol(rep->element[e]->str, NULL, 10);
        if (p >= 0 && p < n)
            all[p] = strtoll(rep->element[e + 1]->str, NULL, 10);
    }
}

/* Reads the progress read's reply (HGETALL), when asked, into rd->all;
 * not asked, gives what the last commit read (when batches are held). */
static int progress_read(struct redis_state *r, int asked, const struct fg_batch_reads *rd)
{
    redisReply *rep;

    for (int i = 0; i < rd->nparts; i++)
        rd->all[i] = i < r->nprogc ? r->progc[i] : FG_PROGRESS_UNKNOWN;
    if (!asked)
        return 0;
    if (!(rep = array_reply(r, "progress read")))
        return FG_EAGAIN;
    progress_parse(rep, rd->all, rd->nparts);
    freeReplyObject(rep);
    return 0;
}

/* Reads the head replies (UNWATCH when fresh, WATCH: 2, 1 or none when
 * resident) and four loads per person that load_persons() sent, into the
 * working set. */
static int persons_read(struct redis_state *r, const char **uniq, size_t nu, int head)
{
    int64_t cut = r->watermark - r->o.lateness;

    for (int k = 0; k < head; k++)
        if (status_reply(r, "WATCH"))
            return FG_EAGAIN;
    for (size_t i = 0; i < nu; i++) {
        struct fg_person *p = r->mem->ops->person(r->mem, uniq[i]);
        struct fg_person_keys *pk = fg_person_keys(p);
        for (int k = 0; k < 4; k++) {
            redisReply *rep = array_reply(r, "load");
            if (!rep)
                return FG_EAGAIN;
            if (k == 0) {
                /* The person's watermark first: it decides what is expired;
                 * and how long the person's keys are known to live. */
                for (size_t e = 0; e + 1 < rep->elements; e += 2) {
                    const char *f = rep->element[e]->str, *v = rep->element[e + 1]->str;
                    if (f[0] != '#')
                        continue;
                    if (strcmp(f, "#wm") == 0)
                        fg_person_set_watermark(p, strtoll(v, NULL, 10));
                    else if (strcmp(f, "#tl") == 0)
                        pk->lines_until = strtoll(v, NULL, 10);
                    else if (strcmp(f, "#ts") == 0)
                        pk->sets_until = strtoll(v, NULL, 10);
                }
            } else if (k < 3 && rep->elements >= 2) {
                /* ascending by score: the first is the oldest */
                pk->exists[k - 1] = 1;
                pk->oldest[k - 1] = strtoll(rep->element[1]->str, NULL, 10);
            }
            for (size_t e = 0; e + 1 < rep->elements; e += 2) {
                redisReply *a = rep->element[e], *b = rep->element[e + 1];
                if (k == 0) {
                    if (a->str[0] != '#')
                        load_line(r, p, a->str, a->len, b->str,
                                  fg_person_watermark(p) - r->o.lateness);
                } else if (k == 3) {
                    /* "<expire>\x1e<record>" */
                    char *end;
                    int64_t exp = strtoll(b->str, &end, 10);
                    if (*end == '\x1e' && exp >= cut)
                        r->mem->ops->alert_keep(r->mem, p, a->str, end + 1, exp);
                } else {
                    uint64_t h = strtoull(a->str, NULL, 16);
                    int64_t exp = strtoll(b->str, NULL, 10);
                    if (exp >= cut)
                        r->mem->ops->seen(r->mem, p, k == 1 ? FG_SEEN_EVENTS : FG_SEEN_ALERTS,
                                          h, exp);
                }
            }
            freeReplyObject(rep);
        }
    }
    return 0;
}

/* Loads what rd names and the working set lacks, in one round trip: the
 * progress exchange, the persons' lines, seen-sets and emitted alerts
 * under WATCH (with an UNWATCH first when fresh, i.e. at the start of a
 * batch), and the groups' histograms.
 *
 * Optimistic concurrency. The read (here) and the write (commit) of a
 * person's state are split by the detector run, so they cannot be one Lua
 * step. WATCH makes them one transaction: every commit touching a person
 * writes its line hash (the #wm field), so if another worker committed
 * for one of our persons in between (a zombie consumer after a
 * rebalance), our EXEC aborts and the batch is re-run on the state it
 * wrote. UNWATCH first drops watches of an abandoned batch. */
static int load_persons(struct redis_state *r, const struct fg_batch_reads *rd, int fresh)
{
    struct fg_state *st = &r->base;
    struct fg_buf key;
    struct pipe pp;
    struct fg_map seen;
    size_t nu = 0, nw = 0;
    int prog = 0;
    double t0;
    int rc = 0, watch = !r->o.resident;   /* resident: the fence stands for WATCH */
    uint64_t drops = r->drops;
    const char **uniq = fg_malloc((rd->n ? rd->n : 1) * sizeof(*uniq));
    int *upart = fg_malloc((rd->n ? rd->n : 1) * sizeof(*upart));
    int64_t *days = NULL;
    size_t ndays = 0, capdays = 0;
    const char **want = fg_malloc((rd->ngroups ? rd->ngroups : 1) * sizeof(*want));

    fg_buf_init(&key);
    pipe_init(r, &pp);
    /* Distinct persons only (a batch of 2,000 events names about as many). */
    fg_map_init(&seen);
    for (size_t i = 0; i < rd->n; i++) {
        const char *psn = rd->psn_nos[i];
        size_t len = strlen(psn);
        int part = rd->parts ? rd->parts[i] : -1;
        if ((!fresh || !watch) && fg_state_memory_has_person(r->mem, psn))
            continue;
        if (!watch && known_absent(r, psn, part)) {   /* nothing to read */
            fg_person_keys(r->mem->ops->person(r->mem, psn))->part1 = part + 1;
            continue;
        }
        if (!fg_map_get(&seen, psn, len)) {
            fg_map_put(&seen, psn, len, (void *)psn);
            upart[nu] = part;
            uniq[nu++] = psn;
        }
    }
    fg_map_fini(&seen);
    if (rd->topic && !(r->merge && r->nprogc)) {
        ns_key(&key, r, 'W', rd->topic, 1, 0);
        cmd_begin(&pp, "HGETALL", &key);
        cmd_end(&pp);
        prog = 1;
    }
    if (watch && (fresh || nu))
        watch_persons(r, &pp, &key, uniq, nu, fresh);
    for (size_t i = 0; i < nu; i++) {
        key_of(&key, r, 'L', uniq[i]);
        cmd_begin(&pp, "HGETALL", &key);
        cmd_end(&pp);
        /* The whole seen-sets, expired entries too (they are few: each
         * commit removes them): the commit then knows whether there is
         * anything to remove and whether a set exists to keep alive. */
        for (int k = 0; k < 2; k++) {
            key_of(&key, r, k ? 'A' : 'E', uniq[i]);
            cmd_begin(&pp, "ZRANGE", &key);
            cmd_str(&pp, "0");
            cmd_str(&pp, "-1");
            cmd_str(&pp, "WITHSCORES");
            cmd_end(&pp);
        }
        key_of(&key, r, 'R', uniq[i]);
        cmd_begin(&pp, "HGETALL", &key);
        cmd_end(&pp);
    }
    /* Each group not in the batch's cache yet, nor known to have nothing
     * over the days read; and the days not known yet. */
    for (size_t i = 0; i < rd->ngroups; i++) {
        if (fg_map_get(&r->ghist, rd->groups[i], strlen(rd->groups[i])))
            continue;
        if (range_complete(rd, i) && known_empty(r, rd->groups[i], rd->from[i], rd->to[i]))
            continue;
        hist_key(&key, r, rd->groups[i]);
        cmd_begin(&pp, "HGETALL", &key);
        cmd_end(&pp);
        want[nw++] = rd->groups[i];
    }
    for (size_t i = 0; i < rd->ngroups; i++)   /* their replies follow */
        if (range_complete(rd, i) && !fg_map_get(&r->ghist, rd->groups[i], strlen(rd->groups[i])) &&
            !known_empty(r, rd->groups[i], rd->from[i], rd->to[i]))
            days_ask(r, &pp, &key, rd->from[i], rd->to[i], &days, &ndays, &capdays);
    if (!pp.ncmd && !r->exec_owed) {
        progress_read(r, 0, rd);   /* what the last commit read */
        goto out;
    }
    /* With nothing to read (resident persons), the commit sent before is
     * the round trip waited for. */
    pipe_send(r, &pp);
    st->round_trips++;
    t0 = mono();
    /* The previous batch's commit, sent ahead of these (rs_commit_send). */
    if (r->exec_owed) {
        r->exec_rc = exec_read(r);
        if (!r->c) {
            rc = FG_EAGAIN;
            goto timed;
        }
    }
    rc = progress_read(r, prog, rd);
    if (!rc && (watch ? fresh || nu : nu))
        rc = persons_read(r, uniq, nu, watch ? 1 + fresh : 0);
    for (size_t i = 0; !rc && i < nu; i++)
        if (upart[i] >= 0)
            fg_person_keys(r->mem->ops->person(r->mem, uniq[i]))->part1 = upart[i] + 1;
    if (!rc)
        rc = groups_read(r, want, nw);
    if (!rc)
        rc = days_read(r, days, ndays);
    /* Resident persons this batch counted on were dropped meanwhile (the
     * commit read above failed, or the fence moved behind it): it must
     * not be judged. */
    if (!rc && r->drops != drops)
        rc = FG_EAGAIN;
timed:
    st->rt_seconds += mono() - t0;
out:
    free(uniq);
    free(upart);
    free(days);
    free(want);
    pipe_fini(r, &pp);
    fg_buf_fini(&key);
    return rc;
}

/*
 * Resident mode. The persons stay in memory from one batch to the next,
 * so another worker's write to one of them must fail our next commit, as
 * WATCH on the person does otherwise. The contract keys the claims by
 * psn_no, so only the owner of a person's partition writes the person:
 * fencing the partitions is enough. Each new owner of a partition takes
 * a new epoch of it (INCR fg:<ns>:F:{p<N>}), and every commit is made
 * under WATCH of the epochs of the partitions the worker owns, armed
 * again behind each EXEC and checked (MGET after the WATCH: an INCR in
 * between shows there). A worker whose partition was given to another
 * then has its commit refused, finds the newer epoch, and waits for its
 * own new assignment. One WATCH of a few keys instead of one per person
 * per batch (Redis checks each watched key against the connection's whole
 * watch list: a batch of 1,500 persons cost 10-15 ms of WATCH).
 */
static void fence_key(struct fg_buf *b, const struct redis_state *r, int part)
{
    ns_key(b, r, 'F', NULL, 1, part);
}

/* WATCH and MGET of the fence (a PING for each when nothing is owned). */
static void fence_watch(struct redis_state *r, struct pipe *pp, struct fg_buf *key)
{
    for (int k = 0; k < 2; k++) {
        cmd_begin(pp, r->nowned ? (k ? "MGET" : "WATCH") : "PING", NULL);
        for (int i = 0; i < r->nowned; i++) {
            fence_key(key, r, r->owned[i]);
            cmd_buf(pp, key);
        }
        cmd_end(pp);
    }
}

/* Reads fence_watch's replies: 0 when every epoch is still the one we
 * took. An epoch gone or behind ours (Redis lost data) is taken again
 * (epoch 0); one ahead of ours belongs to a newer owner (fence_lost). */
static int fence_check(struct redis_state *r)
{
    redisReply *rep;
    int rc = 0;

    if (status_reply(r, "fence WATCH"))
        return FG_EAGAIN;
    if (!r->nowned)
        return status_reply(r, "PING");
    if (!(rep = array_reply(r, "fence read")))
        return FG_EAGAIN;
    for (int i = 0; i < r->nowned; i++) {
        const redisReply *e = (size_t)i < rep->elements ? rep->element[i] : NULL;
        int64_t v = e && e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10) : 0;
        if (r->epoch[i] && v == r->epoch[i])
            continue;
        rc = FG_EAGAIN;   /* not ours, or no epoch taken (an INCR refused) */
        if (r->epoch[i] && v > r->epoch[i]) {
            fg_log_warn("msg=\"partition taken by a newer owner; waiting for the rebalance\" "
                        "partition=%d epoch=%lld ours=%lld",
                        r->owned[i], (long long)v, (long long)r->epoch[i]);
            r->fence_lost = 1;
        } else {
            r->epoch[i] = 0;
        }
    }
    freeReplyObject(rep);
    return rc;
}

/* Raises the fence at a batch's start when it is not known to stand (a
 * new assignment, a new connection, a refused commit): UNWATCH, a new
 * epoch of each partition without one, WATCH and check. One round trip;
 * two when an epoch was lost with Redis's data. */
static int fence_up(struct redis_state *r)
{
    struct fg_state *st = &r->base;
    int rc = FG_EAGAIN;

    if (r->exec_owed) {   /* a commit sent before: its replies come first */
        st->round_trips++;
        r->exec_rc = exec_read(r);
    }
    drop_resident(r);
    for (int tries = 0; tries < 2 && r->c && !r->fence_lost; tries++) {
        struct fg_buf key;
        struct pipe pp;
        int nincr = 0, refused = 0;
        double t0;

        fg_buf_init(&key);
        pipe_init(r, &pp);
        cmd_begin(&pp, "UNWATCH", NULL);
        cmd_end(&pp);
        for (int i = 0; i < r->nowned; i++)
            if (!r->epoch[i]) {
                fence_key(&key, r, r->owned[i]);
                cmd_begin(&pp, "INCR", &key);
                cmd_end(&pp);
                nincr++;
            }
        fence_watch(r, &pp, &key);
        pipe_send(r, &pp);
        pipe_fini(r, &pp);
        fg_buf_fini(&key);
        st->round_trips++;
        t0 = mono();
        for (int i = -1; r->c && i < r->nowned; i++) {
            redisReply *rep = NULL;
            if (i >= 0 && r->epoch[i])
                continue;   /* no INCR sent */
            if (redisGetReply(r->c, (void **)&rep) != REDIS_OK || !rep) {
                disconnect(r, r->c && r->c->err ? r->c->errstr : "no reply");
                break;
            }
            if (rep->type == REDIS_REPLY_ERROR) {
                /* e.g. OOM: Redis takes no writes now. The batch waits. */
                if (!refused++)
                    fg_log_error("msg=\"redis refused the partition fence\" error=\"%s\"",
                                 rep->str);
            } else if (i >= 0 && rep->type == REDIS_REPLY_INTEGER) {
                r->epoch[i] = rep->integer;
            }
            freeReplyObject(rep);
        }
        rc = r->c ? fence_check(r) : FG_EAGAIN;
        st->rt_seconds += mono() - t0;
        if (refused)
            break;
        if (!rc) {
            r->fenced = 1;
            if (nincr)
                fg_log_info("msg=\"partitions fenced\" count=%d", r->nowned);
            return 0;
        }
    }
    return FG_EAGAIN;
}

/*
 * The person index (resident mode). A batch of persons new to Redis would
 * cost a round trip only to learn that Redis holds nothing of them. So
 * every commit notes each person it writes in the index of the person's
 * partition (ZADD GT, score: when the person's last key expires), and a
 * resident worker reads the indexes of its partitions once per
 * assignment: a person of such a partition who is not in its index has
 * no state, and is not read.
 *
 * An index is trusted only when it is complete: it carries the member
 * "#", which a worker writes only when it finds the partition with
 * neither an index nor any published progress, i.e. no commit ever wrote
 * a person of it (each commit of a person writes the progress of the
 * person's partition with it). An index begun later (a version without
 * it wrote first) is never trusted, and its persons are read as before.
 * What is in memory is a superset of what Redis holds (a commit that
 * fails leaves its notes): at worst a person is read for nothing.
 */
static void index_key(struct fg_buf *b, const struct redis_state *r, int part)
{
    ns_key(b, r, 'I', NULL, 1, part);
}

static void ix_entry_free(void *v)
{
    struct ix_entry *e = v;
    free(e->psn);
    free(e);
}

static void index_clear(struct redis_state *r)
{
    map_clear(&r->index, ix_entry_free);
    r->index_known = 0;
}

static void index_note(struct redis_state *r, const char *psn, int64_t until)
{
    struct ix_entry *e = fg_map_get(&r->index, psn, strlen(psn));

    if (!e) {
        e = fg_malloc(sizeof(*e));
        e->psn = fg_strdup(psn);
        e->until = until;
        fg_map_put(&r->index, e->psn, strlen(e->psn), e);
    } else if (until > e->until) {
        e->until = until;
    }
}

/* Forgets the persons whose keys are all gone (every ten minutes). */
static void index_prune(struct redis_state *r)
{
    struct fg_map keep;
    int64_t now = (int64_t)time(NULL);

    if (mono() - r->index_pruned < 600)
        return;
    r->index_pruned = mono();
    fg_map_init(&keep);
    for (size_t i = 0; i < r->index.cap; i++) {
        struct ix_entry *e = r->index.slots[i].val;
        if (!r->index.slots[i].key)
            continue;
        if (e->until >= now) {
            fg_map_put(&keep, e->psn, strlen(e->psn), e);
        } else {
            ix_entry_free(e);
        }
    }
    fg_map_fini(&r->index);
    r->index = keep;
}

/* 1 when the person, of this partition, is known to have no state. */
static int known_absent(const struct redis_state *r, const char *psn, int part)
{
    int i = 0;

    if (part < 0 || !r->index_known)
        return 0;
    while (i < r->nowned && r->owned[i] != part)
        i++;
    return i < r->nowned && r->trusted[i] && !fg_map_get(&r->index, psn, strlen(psn));
}

/* Reads the indexes of the partitions owned, and which partitions have
 * progress published on topic, in one round trip. */
static int index_read(struct redis_state *r, const char *topic)
{
    struct fg_state *st = &r->base;
    struct fg_buf key;
    struct pipe pp;
    redisReply **reps = fg_calloc((size_t)r->nowned + 1, sizeof(*reps));
    const redisReply *w;
    int64_t now = (int64_t)time(NULL);
    double t0;
    int rc = 0;

    fg_buf_init(&key);
    pipe_init(r, &pp);
    for (int i = 0; i < r->nowned; i++) {
        index_key(&key, r, r->owned[i]);
        cmd_begin(&pp, "ZRANGE", &key);
        cmd_str(&pp, "0");
        cmd_str(&pp, "-1");
        cmd_str(&pp, "WITHSCORES");
        cmd_end(&pp);
    }
    ns_key(&key, r, 'W', topic, 1, 0);
    cmd_begin(&pp, "HKEYS", &key);
    cmd_end(&pp);
    pipe_send(r, &pp);
    pipe_fini(r, &pp);
    fg_buf_fini(&key);
    st->round_trips++;
    t0 = mono();
    for (int i = 0; i <= r->nowned && rc == 0; i++)
        if (!(reps[i] = array_reply(r, "index read")))
            rc = FG_EAGAIN;
    st->rt_seconds += mono() - t0;
    w = reps[r->nowned];
    for (int i = 0; i < r->nowned && rc == 0; i++) {
        const redisReply *z = reps[i];
        int progress = 0;
        r->trusted[i] = r->marker[i] = 0;
        for (size_t e = 0; e + 1 < z->elements; e += 2) {
            const char *m = z->element[e]->str;
            int64_t until = strtoll(z->element[e + 1]->str, NULL, 10);
            if (strcmp(m, "#") == 0)
                r->trusted[i] = 1;
            else if (until >= now)
                index_note(r, m, until);
        }
        for (size_t e = 0; e < w->elements; e++) {
            char *end;
            long v = strtol(w->element[e]->str, &end, 10);
            if (*end == '\0' && v == r->owned[i])
                progress = 1;
        }
        if (!r->trusted[i] && !z->elements && !progress)
            r->trusted[i] = r->marker[i] = 1;   /* nothing of it was ever written */
    }
    for (int i = 0; i <= r->nowned; i++)
        freeReplyObject(reps[i]);
    free(reps);
    r->index_known = rc == 0;
    r->index_pruned = mono();
    return rc;
}

static void index_add(struct redis_state *r, int part1, const char *psn, int64_t until)
{
    if (!part1)
        return;
    FG_VEC_GROW(r->ixa, r->nixa, r->capixa, 64);
    r->ixa[r->nixa++] = (struct ix_add){part1 - 1, psn, until};
}

static int by_part(const void *a, const void *b)
{
    const struct ix_add *x = a, *y = b;
    return (x->part > y->part) - (x->part < y->part);
}

/* The commit's index updates (index_add), per partition: the persons
 * noted, the members past their score dropped; and the completeness of
 * each index found empty (index_read). */
static void commit_index(struct redis_state *r, struct pipe *pp, struct fg_buf *key)
{
    if (r->nixa > 1)
        qsort(r->ixa, r->nixa, sizeof(*r->ixa), by_part);
    for (size_t i = 0; i < r->nixa;) {
        size_t j = i;
        index_key(key, r, r->ixa[i].part);
        cmd_begin(pp, "ZADD", key);
        cmd_str(pp, "GT");
        for (; j < r->nixa && r->ixa[j].part == r->ixa[i].part; j++) {
            cmd_i64(pp, r->ixa[j].until);
            cmd_str(pp, r->ixa[j].psn);
            index_note(r, r->ixa[j].psn, r->ixa[j].until);
        }
        cmd_end(pp);
        cmd_begin(pp, "ZREMRANGEBYSCORE", key);
        cmd_str(pp, "-inf");
        cmd_i64(pp, r->wall_now - 1);
        cmd_end(pp);
        i = j;
    }
    r->nixa = 0;
    for (int i = 0; i < r->nowned; i++)
        if (r->marker[i]) {
            index_key(key, r, r->owned[i]);
            cmd_begin(pp, "ZADD", key);
            cmd_str(pp, "+inf");
            cmd_str(pp, "#");
            cmd_end(pp);
            r->marker[i] = 0;
        }
}

void fg_state_redis_own(struct fg_state *st, const int *parts, int n)
{
    struct redis_state *r = (struct redis_state *)st;

    if (r->exec_owed && r->c)
        r->exec_rc = exec_read(r);
    r->owned = fg_realloc(r->owned, (size_t)(n ? n : 1) * sizeof(*r->owned));
    r->epoch = fg_realloc(r->epoch, (size_t)(n ? n : 1) * sizeof(*r->epoch));
    r->trusted = fg_realloc(r->trusted, (size_t)(n ? n : 1) * sizeof(*r->trusted));
    r->marker = fg_realloc(r->marker, (size_t)(n ? n : 1) * sizeof(*r->marker));
    for (int i = 0; i < n; i++) {
        r->owned[i] = parts[i];
        r->epoch[i] = 0;
        r->trusted[i] = r->marker[i] = 0;
    }
    index_clear(r);   /* read again for the partitions now owned */
    r->nowned = n;
    r->fence_lost = 0;
    drop_resident(r);
}

/* A line the memory store's expiry sweep drops from a resident person:
 * its field goes from Redis with the next commit. */
static void line_dropped(void *opaque, struct fg_person *p, const struct fg_wline *w)
{
    struct redis_state *r = opaque;
    struct fg_buf f;

    fg_buf_init(&f);
    field_of(&f, w);
    FG_VEC_GROW(r->df, r->ndf, r->capdf, 64);
    r->df[r->ndf].psn = fg_strdup(fg_person_psn(p));
    r->df[r->ndf++].field = f.data;   /* takes the buffer */
}

static int begin(struct fg_state *st, const struct fg_batch_reads *rd)
{
    struct redis_state *r = (struct redis_state *)st;
    int rc;

    reset_batch(r);
    if (try_connect(r))
        return FG_EAGAIN;
    if (r->o.resident) {
        if (!r->fenced && fence_up(r))
            return FG_EAGAIN;
        if (!r->index_known && rd->topic && r->nowned && index_read(r, rd->topic))
            return FG_EAGAIN;
        /* Between batches, with none held, nothing is dirty: expired
         * lines can go. */
        if (!r->nheld) {
            r->mem->ops->advance(r->mem, r->watermark - r->o.lateness);
            index_prune(r);
        }
    }
    rc = load_persons(r, rd, 1);
    if (rc) {
        reset_batch(r);
        drop_resident(r);
    }
    return rc;
}

static int rs_begin(struct fg_state *st, const struct fg_batch_reads *rd)
{
    struct redis_state *r = (struct redis_state *)st;
    int rc = begin(st, rd);

    /* Batches held before were lost on the way (with the persons): the
     * caller learns it from a failure, once, and judges them again. */
    if (r->held_lost) {
        r->held_lost = 0;
        if (!rc) {
            reset_batch(r);
            rc = FG_EAGAIN;
        }
    }
    return rc;
}

static int rs_load_more(struct fg_state *st, const struct fg_batch_reads *rd)
{
    struct redis_state *r = (struct redis_state *)st;

    if (!r->c || r->failed || rd->topic)
        return FG_EAGAIN;
    if (load_persons(r, rd, 0)) {
        r->failed = 1;
        return FG_EAGAIN;
    }
    return 0;
}

static void rs_abort(struct fg_state *st)
{
    struct redis_state *r = (struct redis_state *)st;

    reset_batch(r);
    drop_resident(r);   /* memory has the abandoned batch's changes */
    r->held_lost = 0;   /* and those held: the caller knows they are lost */
}

static struct fg_person *rs_person(struct fg_state *st, const char *psn)
{
    struct redis_state *r = (struct redis_state *)st;
    return r->mem->ops->person(r->mem, psn);
}

static int rs_seen(struct fg_state *st, struct fg_person *p, int which, uint64_t key,
                   int64_t exp)
{
    struct redis_state *r = (struct redis_state *)st;
    int had = r->mem->ops->seen(r->mem, p, which, key, exp);

    if (!had) {
        FG_VEC_GROW(r->ds, r->nds, r->capds, 64);
        r->ds[r->nds++] = (struct dirty_seen){p, which, key, exp};
    }
    return had;
}

static void mark_line(struct redis_state *r, struct fg_person *p, struct fg_wline *w)
{
    if (r->ndl == r->capdl) {
        r->capdl = r->capdl ? r->capdl * 2 : 256;
        r->dl = fg_realloc(r->dl, r->capdl * sizeof(*r->dl));
        r->dlp = fg_realloc(r->dlp, r->capdl * sizeof(*r->dlp));
    }
    r->dl[r->ndl] = w;
    r->dlp[r->ndl++] = p;
}

static struct fg_wline *rs_add_line(struct fg_state *st, struct fg_person *p,
                                    const struct fg_line_init *in)
{
    struct redis_state *r = (struct redis_state *)st;
    struct fg_wline *w = r->mem->ops->add_line(r->mem, p, in);

    mark_line(r, p, w);
    return w;
}

static void rs_update_line(struct fg_state *st, struct fg_person *p, struct fg_wline *w)
{
    mark_line((struct redis_state *)st, p, w);
}

static size_t rs_window(struct fg_state *st, struct fg_person *p, struct fg_wline ***lines)
{
    struct redis_state *r = (struct redis_state *)st;
    return r->mem->ops->window(r->mem, p, lines);
}

static void rs_hist_add(struct fg_state *st, const char *group, int64_t day,
                        unsigned bucket, int64_t expire_day)
{
    struct redis_state *r = (struct redis_state *)st;

    struct dirty_hist *h = fg_map_get(&r->dh, group, strlen(group));

    if (!h) {
        h = fg_calloc(1, sizeof(*h));
        h->group = fg_strdup(group);
        fg_map_put(&r->dh, h->group, strlen(h->group), h);
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->day = fg_realloc(h->day, h->cap * sizeof(*h->day));
        h->bucket = fg_realloc(h->bucket, h->cap * sizeof(*h->bucket));
    }
    h->day[h->n] = day;
    h->bucket[h->n++] = bucket;
    if (expire_day - day > h->keep_days)
        h->keep_days = expire_day - day;
    r->ndh++;
}

static uint64_t rs_hist_sum(struct fg_state *st, const char *group, int64_t from, int64_t to,
                            uint32_t *counts)
{
    struct redis_state *r = (struct redis_state *)st;
    struct group_hist *g;
    uint64_t total = 0;

    memset(counts, 0, FG_HIST_BUCKETS * sizeof(*counts));
    /* Normally read with the batch; read it now if it was not (and there
     * is something to read). */
    if (!fg_map_get(&r->ghist, group, strlen(group)) && !known_empty(r, group, from, to)) {
        /* (a judgement reads complete days only) */
        struct fg_batch_reads rd = {.groups = &group, .from = &from, .to = &to, .ngroups = 1,
                                    .complete_before = to + 1};
        if (!r->c || load_persons(r, &rd, 0)) {
            r->failed = 1;
            return UINT64_MAX;
        }
    }
    g = fg_map_get(&r->ghist, group, strlen(group));
    for (size_t i = 0; g && i < g->n; i++)
        if (g->day[i] >= from && g->day[i] <= to) {
            counts[g->bucket[i]] += g->count[i];
            total += g->count[i];
        }
    /* Observations of this batch are not in Redis yet but count, exactly
     * as they would in the embedded store. */
    for (int k = 0; k < 2; k++) {   /* and so do those of the batches held */
        const struct dirty_hist *h = fg_map_get(k ? &r->hh : &r->dh, group, strlen(group));
        for (size_t i = 0; h && i < h->n; i++)
            if (h->day[i] >= from && h->day[i] <= to && h->bucket[i] < FG_HIST_BUCKETS) {
                counts[h->bucket[i]]++;
                total++;
            }
    }
    return total;
}

static void rs_advance(struct fg_state *st, int64_t watermark)
{
    struct redis_state *r = (struct redis_state *)st;
    /* Expiry happens in Redis (TTL) and at load (records past the cut are
     * deleted); the working set lives for one batch only. */
    if (watermark + r->o.lateness > r->watermark)
        r->watermark = watermark + r->o.lateness;
}

/* A change of the batch to a person's keys: a line (kind 0) or a seen-set
 * entry (kind 1 + which), in the order it was made (i). */
struct change {
    struct fg_person *p;
    int kind;
    size_t i;
};

static int by_person(const void *a, const void *b)
{
    const struct change *x = a, *y = b;
    uintptr_t px = (uintptr_t)x->p, py = (uintptr_t)y->p;

    if (px != py)
        return px < py ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Deferred operations by scope, then in the order they were made. */
static int by_scope(const void *a, const void *b)
{
    const struct deferred_op *const *x = a, *const *y = b;

    if ((*x)->scope != (*y)->scope)
        return (*x)->scope < (*y)->scope ? -1 : 1;
    return *x < *y ? -1 : *x > *y;
}

/* True when the person's working set holds a newer line with w's identity
 * (a re-sent line superseded w): both map to one Redis field. */
static int superseded(struct redis_state *r, struct fg_person *p, const struct fg_wline *w)
{
    struct fg_wline **win;
    size_t n = r->mem->ops->window(r->mem, p, &win);

    for (size_t j = n; j-- > 0 && win[j]->seq > w->seq;)
        if (fg_wline_same(win[j], w))
            return 1;
    return 0;
}

/*
 * A person's changes ch[0..n) (sorted by kind): one HSET of the changed
 * lines and the person's watermark, one ZADD per seen-set, and the seen
 * entries the watermark has passed dropped (only when there are some).
 *
 * TTLs: the line hash lives as long as its longest-kept line needs, the
 * seen-sets as long as de-duplication needs. Rather than an EXPIRE per key
 * per commit, a key's TTL is set a day beyond what is needed and its
 * deadline noted in the line hash (#tl, #ts); a later commit sets it again
 * only when the need has caught up with the note, or when it creates the
 * key. The note is never later than the keys' real deadlines: the line
 * hash carries it (gone with it), and a seen-set is made only by a commit,
 * which then gives it a TTL past the note.
 */
static void commit_person(struct redis_state *r, struct pipe *pp, const struct change *ch,
                          size_t n, struct fg_buf *key, struct fg_buf *field, struct fg_buf *val)
{
    struct fg_person *p = ch[0].p;
    struct fg_person_keys *pk = fg_person_keys(p);
    const char *psn = fg_person_psn(p);
    int64_t cut = r->watermark - r->o.lateness, now = r->wall_now;
    int64_t keep = FG_DAY, lines_need, sets_need;
    struct fg_wline **win;
    size_t nw = r->mem->ops->window(r->mem, p, &win), i = 0;
    int lines_renew, sets_renew;

    for (size_t j = 0; j < nw; j++)
        if (win[j]->expire_at - win[j]->fee_time > keep)
            keep = win[j]->expire_at - win[j]->fee_time;
    lines_need = now + keep + r->o.lateness + FG_DAY;
    sets_need = now + r->o.dedup_seconds + r->o.lateness + FG_DAY;
    lines_renew = pk->lines_until < lines_need;
    sets_renew = pk->sets_until < sets_need;

    key_of(key, r, 'L', psn);
    cmd_begin(pp, "HSET", key);
    for (; i < n && ch[i].kind == 0; i++) {
        struct fg_wline *w = r->dl[ch[i].i];
        if (superseded(r, p, w))
            continue;   /* a newer copy of the line owns its field */
        field_of(field, w);
        value_of(val, w);
        cmd_buf(pp, field);
        cmd_buf(pp, val);
    }
    cmd_str(pp, "#wm");
    cmd_i64(pp, fg_person_watermark(p));
    if (lines_renew) {
        cmd_str(pp, "#tl");
        cmd_i64(pp, lines_need + FG_DAY);
    }
    if (sets_renew) {
        cmd_str(pp, "#ts");
        cmd_i64(pp, sets_need + FG_DAY);
    }
    cmd_end(pp);
    if (lines_renew)
        cmd_key_i64(pp, "EXPIRE", key, lines_need + FG_DAY - now);
    /* The notes follow what the commit does, for a person that stays in
     * memory (resident mode); if the commit fails, memory is dropped. */
    if (lines_renew)
        pk->lines_until = lines_need + FG_DAY;
    for (int which = 0; which < 2; which++) {
        int64_t oldest = pk->exists[which] ? pk->oldest[which] : INT64_MAX;
        int wrote = 0;
        key_of(key, r, which == FG_SEEN_EVENTS ? 'E' : 'A', psn);
        if (i < n && ch[i].kind == 1 + which) {
            cmd_begin(pp, "ZADD", key);
            for (; i < n && ch[i].kind == 1 + which; i++) {
                char member[17];
                hex16(member, r->ds[ch[i].i].key);
                cmd_i64(pp, r->ds[ch[i].i].exp);
                cmd_arg(pp, member, 16);
                if (r->ds[ch[i].i].exp < oldest)
                    oldest = r->ds[ch[i].i].exp;
            }
            cmd_end(pp);
            wrote = 1;
        }
        if (oldest < cut) {
            cmd_begin(pp, "ZREMRANGEBYSCORE", key);
            cmd_str(pp, "-inf");
            fg_buf_reset(field);
            fg_buf_putc(field, '(');
            fg_buf_put_i64(field, cut);
            cmd_buf(pp, field);
            cmd_end(pp);
            oldest = cut;   /* a lower bound of what is left */
        }
        if ((wrote && !pk->exists[which]) || (sets_renew && (wrote || pk->exists[which])))
            cmd_key_i64(pp, "EXPIRE", key, sets_need + FG_DAY - now);
        if (wrote)
            pk->exists[which] = 1;
        if (pk->exists[which])
            pk->oldest[which] = oldest;
    }
    if (sets_renew)
        pk->sets_until = sets_need + FG_DAY;
    index_add(r, pk->part1, psn, pk->lines_until > pk->sets_until ? pk->lines_until
                                                                   : pk->sets_until);
}

/* A group's new observations: one HINCRBY per distinct (day, bucket), by
 * its count; and one HDEL of the days the statistic no longer reads. */
static void commit_hist(struct redis_state *r, struct pipe *pp, const struct dirty_hist *h,
                        struct fg_buf *key, struct fg_buf *field)
{
    const struct group_hist *g = fg_map_get(&r->ghist, h->group, strlen(h->group));
    int64_t newest = INT64_MIN, need;
    int any = 0;

    hist_key(key, r, h->group);
    for (size_t i = 0; i < h->n; i++) {
        size_t same = 0;
        if (obs_repeats(h, i, 1))
            continue;   /* counted with the first */
        for (size_t j = i; j < h->n; j++)
            same += h->day[j] == h->day[i] && h->bucket[j] == h->bucket[i];
        hist_field(field, h->day[i], h->bucket[i]);
        cmd_begin(pp, "HINCRBY", key);
        cmd_buf(pp, field);
        cmd_i64(pp, (int64_t)same);
        cmd_end(pp);
        if (h->day[i] > newest)
            newest = h->day[i];
    }
    /* The TTL is set a day beyond the need and noted (#t), as a person's
     * keys' are (commit_person); the key made by this commit has no note. */
    need = r->wall_now + (h->keep_days + 2) * FG_DAY;
    if (!g || g->until < need) {
        cmd_begin(pp, "HSET", key);
        cmd_str(pp, "#t");
        cmd_i64(pp, need + FG_DAY);
        cmd_end(pp);
        cmd_key_i64(pp, "EXPIRE", key, need + FG_DAY - r->wall_now);
    }
    /* Judged from the swept watermark (which waits for lagging
     * partitions), not from this batch's newest day. */
    if (fg_cst_day(r->watermark - r->o.lateness) < newest)
        newest = fg_cst_day(r->watermark - r->o.lateness);
    for (size_t k = 0; g && k < g->n; k++)
        if (g->day[k] < newest - h->keep_days - 1) {
            if (!any++)
                cmd_begin(pp, "HDEL", key);
            hist_field(field, g->day[k], g->bucket[k]);
            cmd_buf(pp, field);
        }
    if (any)
        cmd_end(pp);
}

/* Deferred judgements added (one ZADD per scope, and its TTL) or taken
 * (one ZREM per scope). */
static void commit_deferred(struct redis_state *r, struct pipe *pp, struct deferred_op *ops,
                            size_t n, int add, struct fg_buf *key)
{
    struct deferred_op **v = fg_malloc((n ? n : 1) * sizeof(*v));

    for (size_t i = 0; i < n; i++)
        v[i] = &ops[i];
    qsort(v, n, sizeof(*v), by_scope);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        queue_key(key, r, v[i]->scope);
        cmd_begin(pp, add ? "ZADD" : "ZREM", key);
        for (; j < n && v[j]->scope == v[i]->scope; j++) {
            if (add)
                cmd_i64(pp, v[j]->ready);
            cmd_arg(pp, v[j]->rec, v[j]->len);
        }
        cmd_end(pp);
        if (add)
            cmd_key_i64(pp, "EXPIRE", key, r->o.dedup_seconds + r->o.lateness + FG_DAY);
        i = j;
    }
    free(v);
}

/* Emitted alerts kept (HSET) and forgotten (HDEL), in the order they were,
 * each person's TTL refreshed after a run of its entries. */
static void commit_alerts(struct redis_state *r, struct pipe *pp, struct fg_buf *key)
{
    int kept = 0;

    for (size_t i = 0; i < r->nda; i++) {
        const struct dirty_alert *a = &r->da[i];
        key_of(key, r, 'R', a->psn);
        cmd_begin(pp, a->val ? "HSET" : "HDEL", key);
        cmd_str(pp, a->jr_id);
        if (a->val)
            cmd_str(pp, a->val);
        cmd_end(pp);
        kept |= a->val != NULL;
        if (a->val)
            index_add(r, a->part1, a->psn,
                      r->wall_now + r->o.dedup_seconds + r->o.lateness + FG_DAY);
        if (kept && (i + 1 == r->nda || strcmp(r->da[i + 1].psn, a->psn) != 0)) {
            cmd_key_i64(pp, "EXPIRE", key, r->o.dedup_seconds + r->o.lateness + FG_DAY);
            kept = 0;
        }
    }
}

/* This worker's partitions' progress (progress_put), inside the commit:
 * published only with the state it describes. */
static void commit_progress(struct redis_state *r, struct pipe *pp, struct fg_buf *key)
{
    int any = 0;

    ns_key(key, r, 'W', r->prog_topic, 1, 0);
    for (int i = 0; i < r->nprog; i++) {
        if (r->prog[i] == FG_PROGRESS_NOT_MINE)
            continue;
        if (!any++)
            cmd_begin(pp, "HSET", key);
        cmd_i64(pp, i);
        cmd_i64(pp, r->prog[i]);
    }
    if (any)
        cmd_end(pp);
    cmd_key_i64(pp, "EXPIRE", key, r->o.dedup_seconds + r->o.lateness + FG_DAY);
}

static void rs_progress_put(struct fg_state *st, const char *topic, const int64_t *mine, int n)
{
    struct redis_state *r = (struct redis_state *)st;

    free(r->prog_topic);
    r->prog_topic = fg_strdup(topic);
    if (!r->merge_topic || strcmp(r->merge_topic, topic) != 0) {
        free(r->merge_topic);
        r->merge_topic = fg_strdup(topic);
    }
    r->prog = fg_realloc(r->prog, (size_t)(n ? n : 1) * sizeof(*r->prog));
    memcpy(r->prog, mine, (size_t)n * sizeof(*mine));
    r->nprog = n;
}

/*
 * Writes the batch's changes in one MULTI/EXEC round trip, as few commands
 * as the keys allow: per person, lines expired at load go first (one HDEL:
 * a line re-sent with an expired line's identity is then written anew),
 * then one HSET of its changed lines and watermark, one ZADD per seen-set.
 *
 * In two steps. rs_prepare writes MULTI and the commands to the server,
 * which queues them and applies nothing; it waits for no reply, so the
 * caller can wait for something else meanwhile (the daemon: the broker's
 * acknowledgement of the batch's alerts, which must come before any state
 * is written). rs_commit then sends EXEC and reads every reply. An
 * aborted batch DISCARDs what is queued.
 */
static int batch_dirty(const struct redis_state *r)
{
    return r->ndl || r->nds || r->ndh || r->ndf || r->ndq_add || r->ndq_take || r->nda ||
           r->prog_topic;
}

/* The batch's writes, appended to pp (the commands after MULTI). */
static void build_writes(struct redis_state *r, struct pipe *pp)
{
    struct fg_buf key, field, val;
    struct change *ch;
    size_t nch = 0;

    r->wall_now = (int64_t)time(NULL);
    fg_buf_init(&key);
    fg_buf_init(&field);
    fg_buf_init(&val);
    /* Lines expired at load: load_line keeps a person's together. */
    for (size_t i = 0; i < r->ndf;) {
        size_t j = i;
        key_of(&key, r, 'L', r->df[i].psn);
        cmd_begin(pp, "HDEL", &key);
        for (; j < r->ndf && strcmp(r->df[j].psn, r->df[i].psn) == 0; j++)
            cmd_str(pp, r->df[j].field);
        cmd_end(pp);
        i = j;
    }
    ch = fg_malloc((r->ndl + r->nds + 1) * sizeof(*ch));
    for (size_t i = 0; i < r->ndl; i++)
        ch[nch++] = (struct change){r->dlp[i], 0, i};
    for (size_t i = 0; i < r->nds; i++)
        ch[nch++] = (struct change){r->ds[i].p, 1 + (r->ds[i].which != FG_SEEN_EVENTS), i};
    qsort(ch, nch, sizeof(*ch), by_person);
    for (size_t i = 0; i < nch;) {
        size_t j = i;
        while (j < nch && ch[j].p == ch[i].p)
            j++;
        commit_person(r, pp, ch + i, j - i, &key, &field, &val);
        i = j;
    }
    free(ch);
    for (size_t s = 0; s < r->dh.cap; s++)
        if (r->dh.slots[s].key)
            commit_hist(r, pp, r->dh.slots[s].val, &key, &field);
    commit_alerts(r, pp, &key);
    commit_deferred(r, pp, r->dq_add, r->ndq_add, 1, &key);
    commit_deferred(r, pp, r->dq_take, r->ndq_take, 0, &key);
    if (r->prog_topic)
        commit_progress(r, pp, &key);
    commit_index(r, pp, &key);
    commit_days(r, pp, &key);
    fg_buf_fini(&key);
    fg_buf_fini(&field);
    fg_buf_fini(&val);
}

/* Writes what is pending on the connection out now (hiredis would write
 * it with the first reply read). 0, or FG_EAGAIN and disconnected. */
static int flush_out(struct redis_state *r)
{
    int done = 0;

    while (!done)
        if (redisBufferWrite(r->c, &done) != REDIS_OK) {
            disconnect(r, r->c->errstr);
            return FG_EAGAIN;
        }
    return 0;
}

static int rs_prepare(struct fg_state *st)
{
    struct redis_state *r = (struct redis_state *)st;
    struct pipe pp;

    if (r->prepared)
        return 0;
    if (r->failed || !r->c)
        return FG_EAGAIN;
    r->prepared = 1;
    if (!batch_dirty(r))
        return 0;
    pipe_init(r, &pp);
    cmd_begin(&pp, "MULTI", NULL);
    cmd_end(&pp);
    build_writes(r, &pp);
    pipe_send(r, &pp);
    r->queued = pp.ncmd;
    pipe_fini(r, &pp);
    if (flush_out(r)) {
        r->queued = 0;
        r->failed = 1;
        return FG_EAGAIN;
    }
    return 0;
}

/* Moves a batch's histogram observations (src) into the held ones. */
static void hist_hold(struct fg_map *held, const struct fg_map *src)
{
    for (size_t s = 0; s < src->cap; s++) {
        const struct dirty_hist *h = src->slots[s].val;
        struct dirty_hist *g;
        if (!src->slots[s].key)
            continue;
        if (!(g = fg_map_get(held, h->group, strlen(h->group)))) {
            g = fg_calloc(1, sizeof(*g));
            g->group = fg_strdup(h->group);
            fg_map_put(held, g->group, strlen(g->group), g);
        }
        if (g->n + h->n > g->cap) {
            g->cap = g->n + h->n;
            g->day = fg_realloc(g->day, g->cap * sizeof(*g->day));
            g->bucket = fg_realloc(g->bucket, g->cap * sizeof(*g->bucket));
        }
        memcpy(g->day + g->n, h->day, h->n * sizeof(*h->day));
        memcpy(g->bucket + g->n, h->bucket, h->n * sizeof(*h->bucket));
        g->n += h->n;
    }
}

static int rs_hold(struct fg_state *st)
{
    struct redis_state *r = (struct redis_state *)st;
    struct pipe pp;

    if (r->prepared || r->failed || !r->c || !r->o.resident) {
        reset_batch(r);
        drop_resident(r);
        return FG_EAGAIN;
    }
    r->merge = r->holding = 1;
    /* Records taken stay in the store until the commit: a later take
     * of the scope starts past them (rs_defer_take). */
    for (size_t i = 0; i < r->ndq_take; i++) {
        size_t s = (size_t)r->dq_take[i].scope;
        if (r->dq_take[i].scope < 0)
            continue;
        if (s >= r->nheld_taken) {
            r->held_taken = fg_realloc(r->held_taken, (s + 1) * sizeof(*r->held_taken));
            memset(r->held_taken + r->nheld_taken, 0,
                   (s + 1 - r->nheld_taken) * sizeof(*r->held_taken));
            r->nheld_taken = s + 1;
        }
        r->held_taken[s]++;
    }
    if (batch_dirty(r)) {
        pipe_init(r, &pp);
        build_writes(r, &pp);
        fg_buf_append(&r->held, pp.out.data, pp.out.len);
        r->nheld += pp.ncmd;
        pipe_fini(r, &pp);
        hist_hold(&r->hh, &r->dh);
    }
    reset_batch(r);
    return 0;
}

/* Reads the replies owed for a sent EXEC (and the writes queued before
 * it). FG_EAGAIN when nothing was written: a watched person changed since
 * the load (another worker committed first), or the connection failed. */
static int exec_read(struct redis_state *r)
{
    size_t owed = r->exec_owed - (r->exec_fence ? 2 : 0);
    int rc = 0;

    for (size_t i = 0; i < owed; i++) {
        redisReply *rep = NULL;
        if (!r->c || redisGetReply(r->c, (void **)&rep) != REDIS_OK || !rep) {
            disconnect(r, r->c && r->c->err ? r->c->errstr : "no reply");
            return FG_EAGAIN;
        }
        if (i == owed - 1 && rep->type == REDIS_REPLY_ARRAY && r->exec_prog &&
            rep->elements && rep->element[rep->elements - 1]->type == REDIS_REPLY_ARRAY) {
            /* The progress read behind the held batches' writes. */
            const redisReply *pr = rep->element[rep->elements - 1];
            int n = 0;
            for (size_t e = 0; e + 1 < pr->elements; e += 2) {
                long p = strtol(pr->element[e]->str, NULL, 10);
                if (p >= n && p < 1 << 20)
                    n = (int)p + 1;
            }
            r->progc = fg_realloc(r->progc, (size_t)(n ? n : 1) * sizeof(*r->progc));
            progress_parse(pr, r->progc, n);
            r->nprogc = n;
        }
        if (i == owed - 1 && rep->type == REDIS_REPLY_NIL) {
            fg_log_warn("msg=\"redis commit conflict: another worker wrote a person of "
                        "this batch; re-running it\"");
            r->base.conflicts++;
            rc = FG_EAGAIN;
        } else if (i == owed - 1 && rep->type != REDIS_REPLY_ARRAY) {
            fg_log_error("msg=\"redis EXEC failed\" error=\"%s\"",
                         rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
            rc = FG_EAGAIN;
        }
        freeReplyObject(rep);
    }
    r->exec_owed = 0;
    r->exec_prog = 0;
    /* Resident mode: the fence armed again behind the EXEC. */
    if (r->exec_fence) {
        r->exec_fence = 0;
        if (fence_check(r) && !rc)
            fg_log_warn("msg=\"partition fence changed after a commit; persons dropped from "
                        "memory\"");
        else if (!rc)
            return 0;
    }
    drop_resident(r);   /* nothing written, or no longer fenced */
    return rc;
}

/* Sends EXEC behind the writes rs_prepare queued, out at once; the
 * replies are owed (exec_owed). Returns 1 when there was nothing to
 * commit, 0 when sent, FG_EAGAIN when the batch cannot be committed. */
static int exec_send(struct redis_state *r)
{
    struct fg_buf key;
    struct pipe pp;

    if (r->holding) {
        /* The batches held: MULTI, their writes, the progress read. */
        if (r->prepared || r->failed || !r->c) {
            reset_batch(r);
            drop_resident(r);
            return FG_EAGAIN;
        }
        fg_buf_init(&key);
        pipe_init(r, &pp);
        cmd_begin(&pp, "MULTI", NULL);
        cmd_end(&pp);
        if (r->held.len)
            fg_buf_append(&pp.out, r->held.data, r->held.len);
        pp.ncmd += r->nheld;
        if (r->merge_topic) {
            ns_key(&key, r, 'W', r->merge_topic, 1, 0);
            cmd_begin(&pp, "HGETALL", &key);
            cmd_end(&pp);
            r->exec_prog = 1;
        }
        r->queued = pp.ncmd;
        pipe_send(r, &pp);
        pipe_fini(r, &pp);
        fg_buf_fini(&key);
        held_clear(r);
    } else if ((!r->prepared && rs_prepare(&r->base)) || r->failed || !r->c) {
        reset_batch(r);
        drop_resident(r);
        return FG_EAGAIN;
    }
    if (!r->queued) {
        reset_batch(r);   /* nothing to write */
        return 1;
    }
    r->exec_owed = r->queued + 1;
    r->queued = 0;
    fg_buf_init(&key);
    pipe_init(r, &pp);
    cmd_begin(&pp, "EXEC", NULL);
    cmd_end(&pp);
    if (r->o.resident) {
        /* The fence watched again at once, for the next commit. */
        fence_watch(r, &pp, &key);
        r->exec_owed += 2;
        r->exec_fence = 1;
    }
    pipe_send(r, &pp);
    pipe_fini(r, &pp);
    fg_buf_fini(&key);
    reset_batch(r);
    flush_out(r);   /* on failure, the outcome (failed) is exec_rc */
    return 0;
}

/* The commit goes out now; its replies are read with the next batch's
 * loads (load_persons), or by rs_commit_wait. */
static int rs_commit_send(struct fg_state *st)
{
    struct redis_state *r = (struct redis_state *)st;
    int rc = exec_send(r);

    if (rc > 0)
        r->exec_rc = 0;
    return rc < 0 ? rc : 0;
}

static int rs_commit_wait(struct fg_state *st);

static int rs_commit(struct fg_state *st)
{
    int rc = rs_commit_send(st);

    return rc ? rc : rs_commit_wait(st);
}

static int rs_commit_wait(struct fg_state *st)
{
    struct redis_state *r = (struct redis_state *)st;
    int rc;

    if (r->exec_owed) {
        double t0 = mono();
        st->round_trips++;
        r->exec_rc = exec_read(r);
        st->rt_seconds += mono() - t0;
    }
    rc = r->exec_rc;
    r->exec_rc = 0;
    return rc;
}

/* ---- emitted alerts, for retraction ---- */

static void dirty_alert(struct redis_state *r, struct fg_person *p, const char *jr_id,
                        char *val)
{
    FG_VEC_GROW(r->da, r->nda, r->capda, 8);
    r->da[r->nda++] = (struct dirty_alert){fg_strdup(fg_person_psn(p)), fg_strdup(jr_id), val,
                                           fg_person_keys(p)->part1};
}

static void rs_alert_keep(struct fg_state *st, struct fg_person *p, const char *jr_id,
                          const char *rec, int64_t expire_at)
{
    struct redis_state *r = (struct redis_state *)st;
    struct fg_buf v;

    r->mem->ops->alert_keep(r->mem, p, jr_id, rec, expire_at);
    fg_buf_init(&v);
    fg_buf_put_i64(&v, expire_at);
    fg_buf_putc(&v, '\x1e');
    fg_buf_puts(&v, rec);
    dirty_alert(r, p, jr_id, v.data);   /* takes the buffer */
}

static size_t rs_alert_list(struct fg_state *st, struct fg_person *p, const char *const **recs)
{
    struct redis_state *r = (struct redis_state *)st;
    return r->mem->ops->alert_list(r->mem, p, recs);
}

static void rs_alert_forget(struct fg_state *st, struct fg_person *p, const char *jr_id)
{
    struct redis_state *r = (struct redis_state *)st;

    r->mem->ops->alert_forget(r->mem, p, jr_id);
    dirty_alert(r, p, jr_id, NULL);
}

/* ---- deferred judgements and shared progress ---- */

static void rs_defer_add(struct fg_state *st, int scope, int64_t ready_day, const char *rec,
                         size_t len)
{
    struct redis_state *r = (struct redis_state *)st;

    FG_VEC_GROW(r->dq_add, r->ndq_add, r->capdq_add, 8);
    r->dq_add[r->ndq_add++] = (struct deferred_op){scope, ready_day, fg_strndup(rec, len), len};
}

static int rs_defer_take(struct fg_state *st, const int *scopes, size_t n, int64_t upto,
                         size_t max_each,
                         void (*fn)(void *opaque, int scope, const char *rec, size_t len),
                         void *opaque)
{
    struct redis_state *r = (struct redis_state *)st;
    struct fg_buf key;
    struct pipe pp;
    double t0;
    int rc = 0;

    if (!r->c)
        return FG_EAGAIN;
    fg_buf_init(&key);
    pipe_init(r, &pp);
    for (size_t i = 0; i < n; i++) {
        queue_key(&key, r, scopes[i]);
        cmd_begin(&pp, "ZRANGEBYSCORE", &key);
        cmd_str(&pp, "-inf");
        cmd_i64(&pp, upto);
        cmd_str(&pp, "WITHSCORES");
        if (max_each) {   /* the earliest ready first, past those held taken */
            size_t s = (size_t)scopes[i];
            cmd_str(&pp, "LIMIT");
            cmd_i64(&pp, scopes[i] >= 0 && s < r->nheld_taken ? (int64_t)r->held_taken[s] : 0);
            cmd_i64(&pp, (int64_t)max_each);
        }
        cmd_end(&pp);
    }
    pipe_send(r, &pp);
    pipe_fini(r, &pp);
    st->round_trips++;
    t0 = mono();
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = array_reply(r, NULL);
        if (!rep) {
            rc = FG_EAGAIN;
            break;
        }
        for (size_t e = 0; e + 1 < rep->elements; e += 2) {
            redisReply *m = rep->element[e];
            FG_VEC_GROW(r->dq_take, r->ndq_take, r->capdq_take, 8);
            r->dq_take[r->ndq_take++] = (struct deferred_op){
                scopes[i], strtoll(rep->element[e + 1]->str, NULL, 10),
                fg_strndup(m->str, m->len), m->len};
            fn(opaque, scopes[i], m->str, m->len);
        }
        freeReplyObject(rep);
    }
    st->rt_seconds += mono() - t0;
    fg_buf_fini(&key);
    if (rc)
        r->failed = 1;
    return rc;
}

static void rs_stats(struct fg_state *st, size_t *persons, size_t *lines, size_t *groups)
{
    struct redis_state *r = (struct redis_state *)st;
    r->mem->ops->stats(r->mem, persons, lines, groups);
}

static void rs_destroy(struct fg_state *st)
{
    struct redis_state *r = (struct redis_state *)st;

    reset_batch(r);
    fg_map_fini(&r->ghist);
    hist_map_clear(&r->hh);
    fg_map_fini(&r->hh);
    fg_buf_fini(&r->held);
    free(r->merge_topic);
    free(r->progc);
    free(r->held_taken);
    index_clear(r);
    fg_map_fini(&r->index);
    gspans_clear(r);
    fg_map_fini(&r->gspan);
    free(r->gdays);
    free(r->trusted);
    free(r->marker);
    free(r->ixa);
    free(r->owned);
    free(r->epoch);
    if (r->c)
        redisFree(r->c);
    fg_state_destroy(r->mem);
    free(r->prog);
    free(r->dl);
    free(r->dlp);
    free(r->ds);
    fg_map_fini(&r->dh);
    free(r->df);
    free(r->dq_add);
    free(r->dq_take);
    free(r->da);
    fg_buf_fini(&r->spare_out);
    fg_buf_fini(&r->spare_args);
    free(r->host);
    free(r->unix_socket);
    fg_free_secret(r->password);
    free(r->username);
    free(r->ns);
    free(r);
}

static const struct fg_state_ops redis_ops = {
    .name = "redis",
    .begin_batch = rs_begin,
    .load_more = rs_load_more,
    .commit_prepare = rs_prepare,
    .commit_batch = rs_commit,
    .commit_send = rs_commit_send,
    .commit_wait = rs_commit_wait,
    .hold_batch = rs_hold,
    .abort_batch = rs_abort,
    .person = rs_person,
    .seen = rs_seen,
    .add_line = rs_add_line,
    .update_line = rs_update_line,
    .window = rs_window,
    .hist_add = rs_hist_add,
    .hist_sum = rs_hist_sum,
    .advance = rs_advance,
    .alert_keep = rs_alert_keep,
    .alert_list = rs_alert_list,
    .alert_forget = rs_alert_forget,
    .defer_add = rs_defer_add,
    .defer_take = rs_defer_take,
    .progress_put = rs_progress_put,
    .stats = rs_stats,
    .destroy = rs_destroy,
};

struct fg_state *fg_state_redis_new(const struct fg_redis_opts *o, char *err, size_t errlen)
{
    struct redis_state *r;

    if (!o->ns || !*o->ns || strchr(o->ns, '{') || strchr(o->ns, '}')) {
        snprintf(err, errlen, "redis namespace must be non-empty and without braces");
        return NULL;
    }
    if (!o->unix_socket && (!o->host || !*o->host || o->port <= 0 || o->port > 65535)) {
        snprintf(err, errlen, "redis needs host and port, or unix_socket");
        return NULL;
    }
    /* hiredis writes with write(2): a server that went away (a restart, a
     * killed connection) would end the process with SIGPIPE instead of
     * failing the write, which the backend reconnects on. With the signal
     * ignored, a closed output pipe elsewhere is an EPIPE write error, which
     * every writer of fundguard reports. (Found by the fault campaign: a
     * commit's writes sent ahead of the producer flush met the reset
     * connection of a restarted Redis.) */
    signal(SIGPIPE, SIG_IGN);
    r = fg_calloc(1, sizeof(*r));
    r->base.ops = &redis_ops;
    r->o = *o;
    r->host = o->host ? fg_strdup(o->host) : NULL;
    r->unix_socket = o->unix_socket && *o->unix_socket ? fg_strdup(o->unix_socket) : NULL;
    r->password = o->password ? fg_strdup(o->password) : NULL;
    r->username = o->username ? fg_strdup(o->username) : NULL;
    r->ns = fg_strdup(o->ns);
    if (r->o.connect_timeout_ms <= 0)
        r->o.connect_timeout_ms = 2000;
    r->mem = fg_state_memory_new();
    if (r->o.resident)
        fg_state_memory_on_drop(r->mem, line_dropped, r);
    fg_map_init(&r->ghist);
    fg_map_init(&r->dh);
    fg_map_init(&r->hh);
    fg_map_init(&r->index);
    fg_map_init(&r->gspan);
    fg_buf_init(&r->held);
    r->watermark = INT64_MIN / 4;
    r->backoff = 0.1;
    try_connect(r);
    return &r->base;
}

int fg_state_redis_connected(const struct fg_state *st)
{
    return ((const struct redis_state *)st)->c != NULL;
}

const char *fg_state_redis_refused(const struct fg_state *st)
{
    const struct redis_state *r = (const struct redis_state *)st;

    return r->refused[0] ? r->refused : NULL;
}

int fg_state_redis_drop_namespace(struct fg_state *st)
{
    struct redis_state *r = (struct redis_state *)st;
    char cursor[32] = "0", pattern[256];
    long long dropped = 0;

    if (try_connect(r))
        return FG_EAGAIN;
    snprintf(pattern, sizeof(pattern), "fg:%s:*", r->ns);
    do {
        redisReply *rep = redisCommand(r->c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            freeReplyObject(rep);
            disconnect(r, "scan failed");
            return FG_EAGAIN;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            redisReply *d = redisCommand(r->c, "UNLINK %b", keys->element[i]->str,
                                         keys->element[i]->len);
            freeReplyObject(d);
            dropped++;
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    fg_log_info("msg=\"state namespace dropped\" ns=%s keys=%lld", r->ns, dropped);
    return 0;
}
