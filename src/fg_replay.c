/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_replay.c: `fundguard replay` and `check-config`. The replay session
 * (fg_replay.h) is shared by both sources: files (JSON Lines, '-' = stdin,
 * gzip accepted), read here through the parallel fg_reader, and a Kafka
 * topic read by event time (fg_replay_topic.c). The session owns engine
 * setup, the state namespace, the pending alert buffer, dead letters, the
 * summary and the audit manifest, so both sources judge identically.
 */
#include "fg_replay.h"
#include "fg_common.h"
#include "fg_fixed.h"
#include "fg_hash.h"
#include "fg_reader.h"
#include "fg_state.h"
#include "fg_time.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage_replay(void)
{
    fprintf(stderr,
            "usage: fundguard replay -c FILE --input PATH [--input PATH...]\n"
            "       fundguard replay -c FILE --topic T --from TIME [--to TIME]\n"
            "         [--output PATH | --output-topic TOPIC] [--dead-letter PATH]\n"
            "         [--manifest PATH | --no-manifest] [--canonical]\n"
            "         [--state memory|redis] [--run-id ID] [--keep-state]\n"
            "         [--progress|--no-progress] [--set KEY=VALUE...]\n"
            "  TIME: ISO 8601 with an offset (2024-03-05T00:00:00+08:00) or\n"
            "        \"yyyy-MM-dd HH:mm:ss\" (China Standard Time); --to defaults to now\n");
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

double fg_replay_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the session ---- */

/* Alerts of a batch wait in the pending buffer until the batch's state is
 * committed, so a batch retried after a state-store failure writes its
 * alerts once. */
static int alert_to_pending(void *opaque, const char *json, size_t len, const char *key)
{
    struct fg_replay *rp = opaque;
    fg_buf_append(&rp->pending, json, len);
    fg_buf_putc(&rp->pending, '\n');
    fg_buf_append(&rp->pending_keys, key ? key : "", key ? strlen(key) + 1 : 1);
    return 0;
}

/* The committed batch's alerts to the output; each also into the digest
 * of the canonical output (for the manifest). */
static int pending_write(struct fg_replay *rp)
{
    const char *p = rp->pending.data, *end = p + rp->pending.len;
    const char *key = rp->pending_keys.data;
    int rc = 0;

    if (!rp->pending.len)
        return 0;
    for (; p < end && rc == 0;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)(nl - p);
        size_t keep = fg_manifest_canonical_len(p, len, rp->o->canonical);
        fg_sha256_update(&rp->alerts_sha, p, keep);
        if (keep < len)
            fg_sha256_update(&rp->alerts_sha, "}", 1);
        fg_sha256_update(&rp->alerts_sha, "\n", 1);
        if (rp->emit)
            rc = rp->emit(rp->emit_opaque, p, len, key);
        rp->alerts_written++;
        key += strlen(key) + 1;
        p = nl + 1;
    }
    if (!rp->emit && fwrite(rp->pending.data, 1, rp->pending.len, rp->out) != rp->pending.len)
        rc = -1;
    return rc;
}

static int flush_batch(struct fg_replay *rp)
{
    struct timespec t0, now;
    long backoff_ms = 100;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        fg_buf_reset(&rp->pending);
        fg_buf_reset(&rp->pending_keys);
        fg_engine_stats_checkpoint(rp->eng);
        rc = fg_engine_process_batch(rp->eng, rp->batch, rp->srcs, rp->nbatch);
        if (rc != FG_EAGAIN)
            break;
        fg_engine_stats_rollback(rp->eng);   /* the retry counts the batch once */
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= rp->retry)
            break;
        /* The state store is down: back off and replay the batch, which
         * is safe because nothing of it was committed. */
        struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
    }
    for (size_t i = 0; i < rp->nbatch; i++)
        fg_claim_free(rp->batch[i]);
    rp->nbatch = 0;
    if (rc == FG_OK && pending_write(rp))
        rc = FG_ERR;
    if (rc)
        fprintf(stderr, "fundguard: cannot process events: %s\n",
                rc == FG_EAGAIN ? "state store unavailable" : "cannot write alerts");
    return rc;
}

int fg_replay_open(struct fg_replay *rp, const struct fg_replay_opts *o)
{
    char err[512];
    int rc;

    memset(rp, 0, sizeof(*rp));
    rp->o = o;
    rp->out = stdout;
    fg_buf_init(&rp->pending);
    fg_buf_init(&rp->pending_keys);
    fg_buf_init(&rp->dlq_buf);
    fg_sha256_init(&rp->alerts_sha);
    rc = fg_app_open(&rp->app, o->config, o->sets, o->nsets, 1);
    if (rc)
        return rc;
    rp->app_open = 1;
    if (fg_config_int(rp->app.cfg, "replay.max_event_bytes", 16 << 20, 1024, 1LL << 30,
                      &rp->max_bytes, err, sizeof(err)) ||
        fg_config_int(rp->app.cfg, "state.lateness_seconds", 86400, 0, 30LL * 86400,
                      &rp->lateness, err, sizeof(err)) ||
        fg_config_int(rp->app.cfg, "state.event_dedup_days", 30, 1, 3660, &rp->dedup, err,
                      sizeof(err)) ||
        fg_config_int(rp->app.cfg, "state.retry_seconds", 60, 1, 86400, &rp->retry, err,
                      sizeof(err)) ||
        fg_config_int(rp->app.cfg, "replay.parse_threads", 0, 0, 64, &rp->threads, err,
                      sizeof(err))) {
        fprintf(stderr, "fundguard: config error: %s\n", err);
        return FG_EXIT_CONFIG;
    }
    if (o->state && strcmp(o->state, "memory") != 0 && strcmp(o->state, "redis") != 0) {
        fprintf(stderr, "fundguard: replay --state %s: expected memory or redis\n", o->state);
        return FG_EXIT_USAGE;
    }
    rp->redis = o->state && strcmp(o->state, "redis") == 0;
    if (rp->threads == 0) {
        /* Default: one parser per core; parsing is the bottleneck. */
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        rp->threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : ncpu;
    }
    if (!o->output_topic && o->output && strcmp(o->output, "-") != 0) {
        rp->out = fopen(o->output, "w");
        if (!rp->out) {
            rp->out = stdout;
            fprintf(stderr, "fundguard: cannot open output %s: %s\n", o->output,
                    strerror(errno));
            return FG_EXIT_RUNTIME;
        }
    }
    if (o->dead_letter) {
        rp->dlq_path = fg_strdup(o->dead_letter);
    } else {
        const char *base = o->output && strcmp(o->output, "-") ? o->output : "replay";
        size_t n = strlen(base) + 5;
        rp->dlq_path = fg_malloc(n);
        snprintf(rp->dlq_path, n, "%s.dlq", base);
    }
    rp->progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    json_object_seed(0);   /* seed Jansson's hash once, before parse threads */
    return FG_EXIT_OK;
}

int fg_replay_start(struct fg_replay *rp, const char *run_id)
{
    struct fg_engine_opts eo = {0};

    snprintf(rp->run_id, sizeof(rp->run_id), "%s", run_id);
    snprintf(rp->ns, sizeof(rp->ns), "replay:%s", rp->run_id);
    if (rp->redis) {
        rp->st = fg_app_redis_state(&rp->app, rp->ns, rp->lateness, rp->dedup, 0);
        if (!rp->st)
            return FG_EXIT_CONFIG;
        fprintf(stderr, "fundguard replay: state in redis namespace %s\n", rp->ns);
    } else {
        rp->st = fg_state_memory_new();
    }
    eo.canonical = rp->o->canonical;
    eo.replay = 1;
    eo.lateness = rp->lateness;
    eo.event_dedup_days = rp->dedup;
    eo.out = alert_to_pending;
    eo.out_opaque = rp;
    rp->eng = fg_engine_new(&rp->app.ds, rp->app.pack, rp->st, &eo);
    rp->t0 = fg_replay_now();
    return FG_EXIT_OK;
}

int fg_replay_event(struct fg_replay *rp, struct fg_claim *claim,
                    const struct fg_alert_source *src)
{
    rp->batch[rp->nbatch] = claim;
    rp->srcs[rp->nbatch++] = *src;
    if (rp->nbatch == FG_REPLAY_BATCH && flush_batch(rp))
        return FG_EXIT_RUNTIME;
    return FG_EXIT_OK;
}

int fg_replay_quarantine(struct fg_replay *rp, const char *reason,
                         const struct fg_alert_source *src, const char *raw, size_t len)
{
    struct fg_buf *b = &rp->dlq_buf;

    rp->quarantined++;
    if (!rp->dlq) {
        rp->dlq = fopen(rp->dlq_path, "w");
        if (!rp->dlq) {
            fprintf(stderr, "fundguard: cannot open dead-letter file %s: %s\n", rp->dlq_path,
                    strerror(errno));
            return FG_EXIT_RUNTIME;
        }
    }
    fg_buf_reset(b);
    fg_buf_puts(b, "{\"schema\":\"fundguard.dead_letter.v1\",\"reason\":");
    fg_buf_json_cstr(b, reason);
    if (src->topic) {
        fg_buf_puts(b, ",\"source\":{\"topic\":");
        fg_buf_json_cstr(b, src->topic);
        fg_buf_printf(b, ",\"partition\":%d,\"offset\":%lld}", src->partition, src->offset);
    } else {
        fg_buf_puts(b, ",\"source\":{\"file\":");
        fg_buf_json_cstr(b, src->file);
        fg_buf_printf(b, ",\"line\":%lld}", src->line);
    }
    fg_buf_printf(b, ",\"bytes\":%zu,", len);
    /* Raw bytes go out verbatim when they are text, else as base64, so
     * nothing of the original is lost either way. */
    if (fg_utf8_valid(raw, len) && !memchr(raw, '\0', len)) {
        fg_buf_puts(b, "\"raw\":");
        fg_buf_json_str(b, raw, len);
    } else {
        fg_buf_puts(b, "\"raw_base64\":\"");
        fg_buf_base64(b, raw, len);
        fg_buf_putc(b, '"');
    }
    fg_buf_puts(b, "}\n");
    if (fwrite(b->data, 1, b->len, rp->dlq) != b->len)
        return FG_EXIT_RUNTIME;
    return FG_EXIT_OK;
}

int fg_replay_progress_due(struct fg_replay *rp)
{
    double now;

    if (!rp->progress)
        return 0;
    now = fg_replay_now();
    if (now - rp->last_progress <= 0.5)
        return 0;
    rp->last_progress = now;
    return 1;
}

static void print_summary(FILE *out, const struct fg_engine_stats *s, uint64_t quarantined,
                          uint64_t blank, double secs, const char *dlq_path)
{
    char amt[40];

    fprintf(out,
            "fundguard replay: events=%llu settlements=%llu other_events=%llu lines=%llu "
            "alerts=%llu quarantined=%llu duplicates=%llu refunds=%llu "
            "refunds_unmatched=%llu superseded=%llu revokes=%llu revokes_unmatched=%llu "
            "revoked_lines=%llu retracts=%llu blank_lines=%llu seconds=%.3f "
            "lines_per_sec=%.0f\n",
            (unsigned long long)s->events, (unsigned long long)s->settlements,
            (unsigned long long)s->other_events, (unsigned long long)s->lines,
            (unsigned long long)s->alerts, (unsigned long long)quarantined,
            (unsigned long long)s->duplicates, (unsigned long long)s->refunds,
            (unsigned long long)s->refunds_unmatched, (unsigned long long)s->superseded,
            (unsigned long long)s->revokes, (unsigned long long)s->revokes_unmatched,
            (unsigned long long)s->revoked_lines, (unsigned long long)s->retracts,
            (unsigned long long)blank, secs,
            secs > 0 ? (double)s->lines / secs : 0.0);
    fprintf(out, "  %-22s %-20s %8s %14s %8s %9s\n", "rule_id", "detector", "alerts",
            "vola_amt", "skipped", "retracted");
    for (size_t i = 0; i < s->nrules; i++) {
        const struct fg_rule_stat *r = &s->rules[i];
        fprintf(out, "  %-22s %-20s %8llu %14s %8llu %9llu\n", r->rule_id, r->det->name,
                (unsigned long long)r->alerts, fg_fixed_format(r->amount, 2, amt, sizeof(amt)),
                (unsigned long long)r->skipped, (unsigned long long)r->retracted);
    }
    if (quarantined)
        fprintf(out, "  quarantined events written to %s\n", dlq_path);
}

/* Where the manifest goes: --manifest, else next to an --output file. */
static char *manifest_path(const struct fg_replay_opts *o)
{
    size_t n;
    char *p;

    if (o->no_manifest)
        return NULL;
    if (o->manifest)
        return fg_strdup(o->manifest);
    if (o->output_topic || !o->output || strcmp(o->output, "-") == 0)
        return NULL;
    n = strlen(o->output) + sizeof(".manifest.json");
    p = fg_malloc(n);
    snprintf(p, n, "%s.manifest.json", o->output);
    return p;
}

int fg_replay_finish(struct fg_replay *rp, int exit_code, const int *scopes, size_t nscopes,
                     const char *extra)
{
    const struct fg_engine_stats *s = fg_engine_stats(rp->eng);
    char *mpath;

    /* What was read is judged and written even when the input broke off
     * (exit 65): only a runtime failure stops the output. */
    int judge = exit_code == FG_EXIT_OK || exit_code == FG_EXIT_DATAERR;
    if (judge && flush_batch(rp))
        exit_code = FG_EXIT_RUNTIME;
    /* The end of the input completes every day: judge what is still
     * deferred (one ordered stream defers nothing; kept for safety). */
    if (judge && exit_code != FG_EXIT_RUNTIME && s->deferred > s->deferred_done) {
        fg_engine_set_progress(rp->eng, INT64_MAX, scopes, NULL, nscopes);
        if (flush_batch(rp))
            exit_code = FG_EXIT_RUNTIME;
    }
    for (size_t k = 0; k < rp->nbatch; k++)
        fg_claim_free(rp->batch[k]);
    rp->nbatch = 0;
    if (rp->progress)
        fputc('\n', stderr);
    if (!rp->emit && fflush(rp->out) != 0 && exit_code == FG_EXIT_OK) {
        fprintf(stderr, "fundguard: cannot write output: %s\n", strerror(errno));
        exit_code = FG_EXIT_RUNTIME;
    }
    /* Alerts handed to a producer count once every delivery is confirmed. */
    if (rp->emit && rp->drain && rp->drain(rp->emit_opaque) && exit_code == FG_EXIT_OK)
        exit_code = FG_EXIT_RUNTIME;
    if (rp->dlq) {
        if (fclose(rp->dlq) != 0 && exit_code == FG_EXIT_OK)
            exit_code = FG_EXIT_RUNTIME;
        rp->dlq = NULL;
    }
    if (exit_code != FG_EXIT_DATAERR || s->events)
        print_summary(stderr, s, rp->quarantined, rp->blank, fg_replay_now() - rp->t0,
                      rp->dlq_path);
    if (extra)
        fputs(extra, stderr);
    if (rp->st->round_trips)
        fprintf(stderr, "  state store: %llu round trips, %llu commands, %.3f round trips per "
                        "event\n",
                (unsigned long long)rp->st->round_trips, (unsigned long long)rp->st->commands,
                s->events ? (double)rp->st->round_trips / (double)s->events : 0.0);
    /* The manifest vouches for a complete run only. */
    mpath = manifest_path(rp->o);
    if (mpath && exit_code == FG_EXIT_OK) {
        if (fg_manifest_write(rp, mpath))
            exit_code = FG_EXIT_RUNTIME;
        else
            fprintf(stderr, "  manifest written to %s\n", mpath);
    }
    free(mpath);
    if (rp->redis && !rp->o->keep_state && fg_state_redis_drop_namespace(rp->st))
        fprintf(stderr, "fundguard: could not drop the replay state namespace\n");
    return exit_code;
}

void fg_replay_close(struct fg_replay *rp)
{
    for (size_t k = 0; k < rp->nbatch; k++)
        fg_claim_free(rp->batch[k]);
    if (rp->out && rp->out != stdout)
        fclose(rp->out);
    if (rp->dlq)
        fclose(rp->dlq);
    fg_buf_fini(&rp->pending);
    fg_buf_fini(&rp->pending_keys);
    fg_buf_fini(&rp->dlq_buf);
    free(rp->dlq_path);
    json_decref(rp->input_json);
    fg_engine_free(rp->eng);
    if (rp->st)
        fg_state_destroy(rp->st);
    if (rp->app_open)
        fg_app_close(&rp->app);
    memset(rp, 0, sizeof(*rp));
}

/* ---- the file source ---- */

/* The replay's state namespace: --run-id, or derived from the inputs
 * (names and sizes), so the same input maps to the same namespace. */
static void files_run_id(const struct fg_replay_opts *o, char *buf, size_t size)
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

/* The manifest's input: every file with the digest of the bytes read. */
static json_t *files_input_json(const struct fg_replay_opts *o, struct fg_reader *reader)
{
    json_t *files = json_array();

    for (size_t k = 0; k < o->ninputs; k++) {
        unsigned char d[FG_SHA256_LEN];
        char hex[FG_SHA256_HEX];
        uint64_t bytes;
        int ok = fg_reader_digest(reader, k, d, &bytes) == 0;
        json_array_append_new(
            files, json_pack("{s:s, s:o, s:o}", "path",
                             strcmp(o->inputs[k], "-") == 0 ? "<stdin>" : o->inputs[k],
                             "bytes", ok ? json_integer((json_int_t)bytes) : json_null(),
                             "sha256", ok ? json_string(fg_sha256_hex(d, hex)) : json_null()));
    }
    return json_pack("{s:s, s:o}", "kind", "files", "files", files);
}

static int replay_files(const struct fg_replay_opts *o)
{
    struct fg_replay rp;
    struct fg_reader *reader;
    struct fg_chunk *chunk;
    char run_id[96];
    int rc, exit_code = FG_EXIT_OK;
    static const int file_scope = -1;

    rc = fg_replay_open(&rp, o);
    if (rc == FG_EXIT_OK) {
        files_run_id(o, run_id, sizeof(run_id));
        rc = fg_replay_start(&rp, run_id);
    }
    if (rc != FG_EXIT_OK) {
        fg_replay_close(&rp);
        return rc;
    }
    reader = fg_reader_start((const char *const *)o->inputs, o->ninputs,
                             (size_t)rp.max_bytes, (int)rp.threads);
    while (exit_code == FG_EXIT_OK && (chunk = fg_reader_next(reader))) {
        for (size_t i = 0; i < chunk->n && exit_code == FG_EXIT_OK; i++) {
            struct fg_item *it = &chunk->items[i];
            struct fg_alert_source src = {.file = it->label, .line = it->line};
            if (it->blank) {
                rp.blank++;
            } else if (!it->claim) {
                exit_code = fg_replay_quarantine(&rp, it->why, &src, it->raw, it->len);
            } else {
                exit_code = fg_replay_event(&rp, it->claim, &src);
                it->claim = NULL;   /* the session owns it now */
            }
        }
        fg_reader_release(reader, chunk);
        if (fg_replay_progress_due(&rp)) {
            const struct fg_engine_stats *s = fg_engine_stats(rp.eng);
            fprintf(stderr, "\rreplay: events=%llu lines=%llu alerts=%llu "
                            "quarantined=%llu lines/s=%.0f   ",
                    (unsigned long long)s->events, (unsigned long long)s->lines,
                    (unsigned long long)s->alerts, (unsigned long long)rp.quarantined,
                    (double)s->lines / (fg_replay_now() - rp.t0));
        }
    }
    if (exit_code == FG_EXIT_OK && fg_reader_error(reader)) {
        fprintf(stderr, "fundguard: %s\n", fg_reader_error(reader));
        exit_code = FG_EXIT_DATAERR;
    }
    if (exit_code == FG_EXIT_OK)
        rp.input_json = files_input_json(o, reader);
    /* The labels of the sources in hand point into the reader's inputs
     * (argv), which outlive it. */
    fg_reader_free(reader);
    exit_code = fg_replay_finish(&rp, exit_code, &file_scope, 1, NULL);
    fg_replay_close(&rp);
    return exit_code;
}

/* ---- command line ---- */

static int parse_time_opt(const char *opt, const char *text, int64_t *out)
{
    const char *why = NULL;

    if (fg_time_parse(text, strlen(text), out, &why)) {
        fprintf(stderr, "fundguard replay: %s '%s': %s (expected ISO 8601 with an offset, "
                        "or \"yyyy-MM-dd HH:mm:ss\" in China Standard Time)\n",
                opt, text, why ? why : "not a time");
        return -1;
    }
    return 0;
}

int fg_cmd_replay(int argc, char **argv)
{
    struct fg_replay_opts o = {.config = "config/fundguard.json", .progress = -1};
    int rc;

    /* The whole command line, for the manifest: argv is the arguments
     * after "replay". */
    o.argc = argc;
    o.argv = argv;
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
        } else if (strcmp(a, "--topic") == 0 && i + 1 < argc) {
            o.topic = argv[++i];
        } else if (strcmp(a, "--from") == 0 && i + 1 < argc) {
            o.from_text = argv[++i];
        } else if (strcmp(a, "--to") == 0 && i + 1 < argc) {
            o.to_text = argv[++i];
        } else if (strcmp(a, "--output-topic") == 0 && i + 1 < argc) {
            o.output_topic = argv[++i];
        } else if (strcmp(a, "--manifest") == 0 && i + 1 < argc) {
            o.manifest = argv[++i];
        } else if (strcmp(a, "--no-manifest") == 0) {
            o.no_manifest = 1;
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
    if (!o.ninputs == !o.topic) {
        fprintf(stderr, "fundguard replay: give either --input or --topic\n");
        goto usage;
    }
    if (o.manifest && o.no_manifest) {
        fprintf(stderr, "fundguard replay: --manifest and --no-manifest exclude each other\n");
        goto usage;
    }
    if (o.ninputs && (o.from_text || o.to_text || o.output_topic)) {
        fprintf(stderr, "fundguard replay: --from, --to and --output-topic go with --topic\n");
        goto usage;
    }
    if (o.topic) {
        if (!o.from_text) {
            fprintf(stderr, "fundguard replay: --topic needs --from\n");
            goto usage;
        }
        if (o.output_topic && o.output) {
            fprintf(stderr, "fundguard replay: --output and --output-topic exclude each other\n");
            goto usage;
        }
        if (parse_time_opt("--from", o.from_text, &o.from))
            goto usage;
        if (o.to_text) {
            if (parse_time_opt("--to", o.to_text, &o.to))
                goto usage;
        } else {
            o.to = (int64_t)time(NULL);
        }
        if (o.to <= o.from) {
            fprintf(stderr, "fundguard replay: --to must be after --from\n");
            goto usage;
        }
        rc = fg_replay_topic(&o);
    } else {
        rc = replay_files(&o);
    }
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
            nr += !fg_det_rule_off(in, r);
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
