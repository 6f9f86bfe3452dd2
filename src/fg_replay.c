/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_replay.c: `fundguard replay` from files (JSON Lines, '-' = stdin,
 * gzip accepted) with the embedded state store, and `check-config`.
 */
#include "fg_app.h"
#include "fg_common.h"
#include "fg_engine.h"
#include "fg_event.h"
#include "fg_fixed.h"
#include "fg_hash.h"
#include "fg_reader.h"
#include "fg_state.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

struct replay_opts {
    const char *config;
    const char **inputs;
    size_t ninputs;
    const char *output;
    const char *dead_letter;
    const char *state;
    const char *run_id;
    int keep_state;
    int canonical;
    int progress;     /* -1 auto (terminal), 0 off, 1 on */
    char **sets;
    size_t nsets;
};

struct dlq {
    const char *path;
    FILE *f;          /* opened on the first quarantined event */
    struct fg_buf b;
    uint64_t count;
};

static int usage_replay(void)
{
    fprintf(stderr,
            "usage: fundguard replay -c FILE --input PATH [--input PATH...]\n"
            "         [--output PATH] [--dead-letter PATH] [--canonical]\n"
            "         [--state memory|redis] [--run-id ID] [--keep-state]\n"
            "         [--progress|--no-progress] [--set KEY=VALUE...]\n");
    return FG_EXIT_USAGE;
}

/* Shared option parsing: -c and --set for every command that loads config. */
static int take_common(int argc, char **argv, int *i, const char **config,
                       char ***sets, size_t *nsets)
{
    const char *a = argv[*i];

    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
        if (*i + 1 >= argc)
            return -1;
        *config = argv[++*i];
        return 1;
    }
    if (strcmp(a, "--set") == 0) {
        if (*i + 1 >= argc)
            return -1;
        *sets = fg_realloc(*sets, (*nsets + 1) * sizeof(char *));
        (*sets)[(*nsets)++] = argv[++*i];
        return 1;
    }
    if (strncmp(a, "--set=", 6) == 0) {
        *sets = fg_realloc(*sets, (*nsets + 1) * sizeof(char *));
        (*sets)[(*nsets)++] = (char *)a + 6;
        return 1;
    }
    return 0;
}

/* Alerts of a batch wait here until the batch's state is committed, so a
 * batch retried after a state-store failure writes its alerts once. */
struct pending {
    struct fg_buf buf;
    FILE *out;
};

static int alert_to_pending(void *opaque, const char *json, size_t len, const char *key)
{
    struct pending *pd = opaque;
    (void)key;
    fg_buf_append(&pd->buf, json, len);
    fg_buf_putc(&pd->buf, '\n');
    return 0;
}

static int dlq_write(struct dlq *d, const char *reason, const char *file, long long line,
                     const char *raw, size_t len)
{
    if (!d->f) {
        d->f = fopen(d->path, "w");
        if (!d->f) {
            fprintf(stderr, "fundguard: cannot open dead-letter file %s: %s\n", d->path,
                    strerror(errno));
            return -1;
        }
    }
    fg_buf_reset(&d->b);
    fg_buf_puts(&d->b, "{\"schema\":\"fundguard.dead_letter.v1\",\"reason\":");
    fg_buf_json_cstr(&d->b, reason);
    fg_buf_puts(&d->b, ",\"source\":{\"file\":");
    fg_buf_json_cstr(&d->b, file);
    fg_buf_printf(&d->b, ",\"line\":%lld},\"bytes\":%zu,", line, len);
    /* Raw bytes go out verbatim when they are text, else as base64, so
     * nothing of the original is lost either way. */
    if (fg_utf8_valid(raw, len) && !memchr(raw, '\0', len)) {
        fg_buf_puts(&d->b, "\"raw\":");
        fg_buf_json_str(&d->b, raw, len);
    } else {
        fg_buf_puts(&d->b, "\"raw_base64\":\"");
        fg_buf_base64(&d->b, raw, len);
        fg_buf_putc(&d->b, '"');
    }
    fg_buf_puts(&d->b, "}\n");
    d->count++;
    if (fwrite(d->b.data, 1, d->b.len, d->f) != d->b.len)
        return -1;
    return 0;
}

/* Events are handed to the engine in batches, the unit a remote state
 * backend fetches and writes in one round trip. */
#define REPLAY_BATCH 32

static int flush_batch(struct fg_engine *eng, struct fg_claim **batch,
                       struct fg_alert_source *srcs, size_t *n, struct pending *pd,
                       int retry_seconds)
{
    struct timespec t0, now;
    long backoff_ms = 100;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        fg_buf_reset(&pd->buf);
        fg_engine_stats_checkpoint(eng);
        rc = fg_engine_process_batch(eng, batch, srcs, *n);
        if (rc != FG_EAGAIN)
            break;
        fg_engine_stats_rollback(eng);   /* the retry counts the batch once */
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= retry_seconds)
            break;
        /* The state store is down: back off and replay the batch, which
         * is safe because nothing of it was committed. */
        struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
    }
    for (size_t i = 0; i < *n; i++)
        fg_claim_free(batch[i]);
    *n = 0;
    if (rc == FG_OK && pd->buf.len && fwrite(pd->buf.data, 1, pd->buf.len, pd->out) != pd->buf.len)
        rc = FG_ERR;
    if (rc)
        fprintf(stderr, "fundguard: cannot process events: %s\n",
                rc == FG_EAGAIN ? "state store unavailable" : "cannot write alerts");
    return rc;
}

/* The replay's state namespace: --run-id, or derived from the inputs
 * (names and sizes), so the same input maps to the same namespace. */
static void replay_run_id(const struct replay_opts *o, char *buf, size_t size)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;

    if (o->run_id) {
        snprintf(buf, size, "%s", o->run_id);
        return;
    }
    for (size_t i = 0; i < o->ninputs; i++) {
        struct stat st;
        char sz[32];
        h ^= fg_hash64_str(o->inputs[i]) + (h << 6) + (h >> 2);
        snprintf(sz, sizeof(sz), "%lld",
                 stat(o->inputs[i], &st) == 0 ? (long long)st.st_size : -1LL);
        h ^= fg_hash64_str(sz) + (h << 6) + (h >> 2);
    }
    snprintf(buf, size, "in-%016llx", (unsigned long long)h);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_summary(FILE *out, const struct fg_engine_stats *s, uint64_t quarantined,
                          uint64_t blank, double secs, const char *dlq_path)
{
    char amt[40];

    fprintf(out,
            "fundguard replay: events=%llu settlements=%llu other_events=%llu lines=%llu "
            "alerts=%llu quarantined=%llu duplicates=%llu refunds=%llu "
            "refunds_unmatched=%llu superseded=%llu blank_lines=%llu seconds=%.3f "
            "lines_per_sec=%.0f\n",
            (unsigned long long)s->events, (unsigned long long)s->settlements,
            (unsigned long long)s->other_events, (unsigned long long)s->lines,
            (unsigned long long)s->alerts, (unsigned long long)quarantined,
            (unsigned long long)s->duplicates, (unsigned long long)s->refunds,
            (unsigned long long)s->refunds_unmatched, (unsigned long long)s->superseded,
            (unsigned long long)blank, secs,
            secs > 0 ? (double)s->lines / secs : 0.0);
    fprintf(out, "  %-22s %-20s %8s %14s %8s\n", "rule_id", "detector", "alerts",
            "vola_amt", "skipped");
    for (size_t i = 0; i < s->nrules; i++) {
        const struct fg_rule_stat *r = &s->rules[i];
        fprintf(out, "  %-22s %-20s %8llu %14s %8llu\n", r->rule_id, r->det->name,
                (unsigned long long)r->alerts, fg_fixed_format(r->amount, 2, amt, sizeof(amt)),
                (unsigned long long)r->skipped);
    }
    if (quarantined)
        fprintf(out, "  quarantined events written to %s\n", dlq_path);
}

static int run_replay(const struct replay_opts *o)
{
    struct fg_app app;
    struct fg_state *st = NULL;
    struct fg_engine *eng = NULL;
    struct fg_engine_opts eo = {0};
    struct dlq dlq = {0};
    struct fg_reader *reader;
    struct fg_chunk *chunk;
    long long threads;
    FILE *out = stdout;
    char *dlq_default = NULL;
    uint64_t quarantined = 0, blank = 0;
    long long max_bytes, lateness, dedup;
    double t0, last_progress = 0;
    int rc, progress, exit_code = FG_EXIT_OK;
    char err[512];
    struct fg_claim *batch[REPLAY_BATCH];
    struct fg_alert_source srcs[REPLAY_BATCH];
    size_t nbatch = 0;
    struct pending pd = {0};
    long long retry;

    rc = fg_app_open(&app, o->config, o->sets, o->nsets, 1);
    if (rc)
        return rc;
    if (fg_config_int(app.cfg, "replay.max_event_bytes", 16 << 20, 1024, 1LL << 30,
                      &max_bytes, err, sizeof(err)) ||
        fg_config_int(app.cfg, "state.lateness_seconds", 86400, 0, 30LL * 86400, &lateness,
                      err, sizeof(err)) ||
        fg_config_int(app.cfg, "state.event_dedup_days", 30, 1, 3660, &dedup, err,
                      sizeof(err)) ||
        fg_config_int(app.cfg, "state.retry_seconds", 60, 1, 86400, &retry, err,
                      sizeof(err)) ||
        fg_config_int(app.cfg, "replay.parse_threads", 0, 0, 64, &threads, err,
                      sizeof(err))) {
        fprintf(stderr, "fundguard: config error: %s\n", err);
        fg_app_close(&app);
        return FG_EXIT_CONFIG;
    }
    if (o->state && strcmp(o->state, "memory") != 0 && strcmp(o->state, "redis") != 0) {
        fprintf(stderr, "fundguard: replay --state %s: expected memory or redis\n", o->state);
        fg_app_close(&app);
        return FG_EXIT_USAGE;
    }
    if (o->output && strcmp(o->output, "-") != 0) {
        out = fopen(o->output, "w");
        if (!out) {
            fprintf(stderr, "fundguard: cannot open output %s: %s\n", o->output,
                    strerror(errno));
            fg_app_close(&app);
            return FG_EXIT_RUNTIME;
        }
    }
    if (o->dead_letter) {
        dlq.path = o->dead_letter;
    } else {
        const char *base = o->output && strcmp(o->output, "-") ? o->output : "replay";
        size_t n = strlen(base) + 5;
        dlq_default = fg_malloc(n);
        snprintf(dlq_default, n, "%s.dlq", base);
        dlq.path = dlq_default;
    }
    fg_buf_init(&dlq.b);

    if (o->state && strcmp(o->state, "redis") == 0) {
        char run_id[64], ns[96];
        replay_run_id(o, run_id, sizeof(run_id));
        snprintf(ns, sizeof(ns), "replay:%s", run_id);
        st = fg_app_redis_state(&app, ns, lateness, dedup);
        if (!st) {
            fg_app_close(&app);
            return FG_EXIT_CONFIG;
        }
        fprintf(stderr, "fundguard replay: state in redis namespace %s\n", ns);
    } else {
        st = fg_state_memory_new();
    }
    pd.out = out;
    fg_buf_init(&pd.buf);
    eo.canonical = o->canonical;
    eo.replay = 1;
    eo.lateness = lateness;
    eo.event_dedup_days = dedup;
    eo.out = alert_to_pending;
    eo.out_opaque = &pd;
    eng = fg_engine_new(&app.ds, app.pack, st, &eo);
    progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    if (threads == 0) {
        /* Default: one parser per core; parsing is the bottleneck. */
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : ncpu;
    }
    json_object_seed(0);   /* seed Jansson's hash once, before threads */
    t0 = mono_now();

    reader = fg_reader_start((const char *const *)o->inputs, o->ninputs, (size_t)max_bytes,
                             (int)threads);
    while (exit_code == FG_EXIT_OK && (chunk = fg_reader_next(reader))) {
        for (size_t i = 0; i < chunk->n && exit_code == FG_EXIT_OK; i++) {
            struct fg_item *it = &chunk->items[i];
            if (it->blank) {
                blank++;
            } else if (!it->claim) {
                quarantined++;
                if (dlq_write(&dlq, it->why, it->label, it->line, it->raw, it->len))
                    exit_code = FG_EXIT_RUNTIME;
            } else {
                batch[nbatch] = it->claim;
                it->claim = NULL;   /* the batch owns it now */
                srcs[nbatch++] = (struct fg_alert_source){.file = it->label, .line = it->line};
                if (nbatch == REPLAY_BATCH &&
                    flush_batch(eng, batch, srcs, &nbatch, &pd, (int)retry))
                    exit_code = FG_EXIT_RUNTIME;
            }
        }
        fg_reader_release(reader, chunk);
        if (progress) {
            double now = mono_now();
            if (now - last_progress > 0.5) {
                const struct fg_engine_stats *s = fg_engine_stats(eng);
                fprintf(stderr, "\rreplay: events=%llu lines=%llu alerts=%llu "
                                "quarantined=%llu lines/s=%.0f   ",
                        (unsigned long long)s->events, (unsigned long long)s->lines,
                        (unsigned long long)s->alerts, (unsigned long long)quarantined,
                        (double)s->lines / (now - t0));
                last_progress = now;
            }
        }
    }
    if (exit_code == FG_EXIT_OK && flush_batch(eng, batch, srcs, &nbatch, &pd, (int)retry))
        exit_code = FG_EXIT_RUNTIME;
    /* The end of the input completes every day: judge what is still
     * deferred (one ordered stream defers nothing; kept for safety). */
    if (exit_code == FG_EXIT_OK &&
        fg_engine_stats(eng)->deferred > fg_engine_stats(eng)->deferred_done) {
        int file_scope = -1;
        fg_engine_set_progress(eng, INT64_MAX, &file_scope, 1);
        if (flush_batch(eng, batch, srcs, &nbatch, &pd, (int)retry))
            exit_code = FG_EXIT_RUNTIME;
    }
    if (exit_code == FG_EXIT_OK && fg_reader_error(reader)) {
        fprintf(stderr, "fundguard: %s\n", fg_reader_error(reader));
        exit_code = FG_EXIT_DATAERR;
    }
    fg_reader_free(reader);
    for (size_t k = 0; k < nbatch; k++)
        fg_claim_free(batch[k]);
    if (progress)
        fputc('\n', stderr);
    if (fflush(out) != 0 && exit_code == FG_EXIT_OK) {
        fprintf(stderr, "fundguard: cannot write output: %s\n", strerror(errno));
        exit_code = FG_EXIT_RUNTIME;
    }
    if (exit_code != FG_EXIT_DATAERR || fg_engine_stats(eng)->events)
        print_summary(stderr, fg_engine_stats(eng), quarantined, blank, mono_now() - t0,
                      dlq.path);
    if (st->round_trips)
        fprintf(stderr, "  state store: %llu round trips, %llu commands, %.3f round trips per "
                        "event\n",
                (unsigned long long)st->round_trips, (unsigned long long)st->commands,
                fg_engine_stats(eng)->events
                    ? (double)st->round_trips / (double)fg_engine_stats(eng)->events
                    : 0.0);
    if (out != stdout)
        fclose(out);
    if (dlq.f && fclose(dlq.f) != 0 && exit_code == FG_EXIT_OK)
        exit_code = FG_EXIT_RUNTIME;
    fg_buf_fini(&dlq.b);
    free(dlq_default);
    if (o->state && strcmp(o->state, "redis") == 0 && !o->keep_state &&
        fg_state_redis_drop_namespace(st))
        fprintf(stderr, "fundguard: could not drop the replay state namespace\n");
    fg_buf_fini(&pd.buf);
    fg_engine_free(eng);
    fg_state_destroy(st);
    fg_app_close(&app);
    return exit_code;
}

int fg_cmd_replay(int argc, char **argv)
{
    struct replay_opts o = {.config = "config/fundguard.json", .progress = -1};
    int rc;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int t = take_common(argc, argv, &i, &o.config, &o.sets, &o.nsets);
        if (t < 0)
            goto usage;
        if (t > 0)
            continue;
        if ((strcmp(a, "--input") == 0 || strcmp(a, "-i") == 0) && i + 1 < argc) {
            o.inputs = fg_realloc(o.inputs, (o.ninputs + 1) * sizeof(char *));
            o.inputs[o.ninputs++] = argv[++i];
        } else if ((strcmp(a, "--output") == 0 || strcmp(a, "-o") == 0) && i + 1 < argc) {
            o.output = argv[++i];
        } else if (strcmp(a, "--dead-letter") == 0 && i + 1 < argc) {
            o.dead_letter = argv[++i];
        } else if (strcmp(a, "--state") == 0 && i + 1 < argc) {
            o.state = argv[++i];
        } else if (strcmp(a, "--run-id") == 0 && i + 1 < argc) {
            o.run_id = argv[++i];
        } else if (strcmp(a, "--keep-state") == 0) {
            o.keep_state = 1;
        } else if (strcmp(a, "--canonical") == 0) {
            o.canonical = 1;
        } else if (strcmp(a, "--progress") == 0) {
            o.progress = 1;
        } else if (strcmp(a, "--no-progress") == 0) {
            o.progress = 0;
        } else {
            fprintf(stderr, "fundguard replay: unknown or incomplete option '%s'\n", a);
            goto usage;
        }
    }
    if (!o.ninputs) {
        fprintf(stderr, "fundguard replay: --input is required\n");
        goto usage;
    }
    rc = run_replay(&o);
    free(o.inputs);
    free(o.sets);
    return rc;
usage:
    free(o.inputs);
    free(o.sets);
    return usage_replay();
}

int fg_cmd_check_config(int argc, char **argv)
{
    const char *config = "config/fundguard.json";
    char **sets = NULL;
    size_t nsets = 0, enabled = 0, rules = 0;
    struct fg_app app;
    int rc;

    for (int i = 0; i < argc; i++) {
        int t = take_common(argc, argv, &i, &config, &sets, &nsets);
        if (t <= 0) {
            fprintf(stderr, "usage: fundguard check-config -c FILE [--set KEY=VALUE...]\n");
            free(sets);
            return FG_EXIT_USAGE;
        }
    }
    rc = fg_app_open(&app, config, sets, nsets, 1);
    free(sets);
    if (rc)
        return rc;
    printf("config %s: ok\n", config);
    for (size_t i = 0; i < app.ds.n; i++) {
        const struct fg_det_inst *in = &app.ds.v[i];
        size_t nr = 0;
        for (const struct fg_rule_decl *r = in->det->rules; r && r->rule_id; r++)
            nr++;
        printf("detector %-20s %-8s %s%zu rules\n", in->det->name, in->det->version,
               in->enabled ? (in->dry_run ? "dry-run, " : "enabled, ") : "disabled, ", nr);
        if (in->enabled) {
            enabled++;
            rules += nr;
        }
    }
    printf("%zu detectors enabled, %zu rules active\n", enabled, rules);
    fg_app_print_pack(&app, stdout);
    fg_app_close(&app);
    return FG_EXIT_OK;
}
