/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_manifest.c: the audit manifest of a replay
 * (schema fundguard.replay_manifest.v1): everything an auditor needs to
 * check what a replay judged and to derive its alerts again: the input
 * (files with the SHA-256 of the bytes read; a topic with the offsets
 * read per partition and the event-time range), the rule pack and
 * reference tables (SHA-256 of each file, and of all of them in a fixed
 * order), the effective config after --set (and its SHA-256), the run id
 * and state namespace, the counts, and the SHA-256 of the canonical alert
 * output (what --canonical writes), whatever form the output took.
 *
 * The manifest holds no wall-clock time and nothing run-specific beyond
 * the command line, the paths and the run id, so two replays of the same
 * input with the same pack and config give the same manifest otherwise.
 */
#include "fg_replay.h"
#include "fg_common.h"
#include "fg_pack.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#ifndef FG_VERSION
#define FG_VERSION "dev"
#endif

size_t fg_manifest_canonical_len(const char *json, size_t len, int canonical)
{
    static const char marker[] = ",\"replay\":";
    const size_t mlen = sizeof(marker) - 1;

    if (canonical)
        return len;
    /* The marker cannot occur inside a string value (a quote there is
     * escaped), and no key before the run-specific tail is "replay". */
    for (size_t i = 0; i + mlen <= len; i++)
        if (json[i] == ',' && memcmp(json + i, marker, mlen) == 0)
            return i;
    return len;
}

static char *hex_of(const unsigned char d[FG_SHA256_LEN], char out[FG_SHA256_HEX])
{
    return fg_sha256_hex(d, out);
}

/* One pack file: its digest into the list, its bytes into the overall
 * digest. Returns -1 when it cannot be read. */
static int pack_file(json_t *files, struct fg_sha256 *all, const char *role, const char *path)
{
    FILE *f = fopen(path, "rb");
    struct fg_sha256 one;
    unsigned char buf[65536], d[FG_SHA256_LEN];
    char hex[FG_SHA256_HEX];
    size_t n;
    int bad;

    if (!f) {
        fprintf(stderr, "fundguard: manifest: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    fg_sha256_init(&one);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        fg_sha256_update(&one, buf, n);
        fg_sha256_update(all, buf, n);
    }
    bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "fundguard: manifest: read error in %s\n", path);
        return -1;
    }
    json_int_t bytes = (json_int_t)one.bytes;
    fg_sha256_final(&one, d);
    json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:s}", "role", role, "path", path,
                                           "bytes", bytes, "sha256", hex_of(d, hex)));
    return 0;
}

/*
 * The rule pack and reference tables the replay loaded, in a fixed order:
 * pack.json, the pack's code tables in table order (gender, age, insutype,
 * care_setting, hosp_level, course, daily_cap, period, surgery), its
 * dup_pairs table, then the operator's catalogue and price list. The pack
 * digest is the SHA-256 of their bytes concatenated in that order
 * (`cat FILES... | sha256sum`). The files are read again right after the
 * load; the loader's own 64-bit content hash of the tables it parsed is
 * given beside it.
 */
static json_t *pack_json(const struct fg_app *app)
{
    const struct fg_pack *p = app->pack;
    json_t *files = json_array(), *out = NULL;
    struct fg_sha256 all;
    unsigned char d[FG_SHA256_LEN];
    char hex[FG_SHA256_HEX], loader[32];
    size_t n = strlen(p->dir) + sizeof("/pack.json");
    char *manifest = fg_malloc(n);
    int bad = 0;

    fg_sha256_init(&all);
    snprintf(manifest, n, "%s/pack.json", p->dir);
    bad |= pack_file(files, &all, "pack.json", manifest);
    for (int i = 0; i < FG_T_NTABLES; i++)
        if (p->tables[i].file)
            bad |= pack_file(files, &all, fg_table_name((enum fg_table_id)i),
                             p->tables[i].file);
    if (p->pairs_file)
        bad |= pack_file(files, &all, "dup_pairs", p->pairs_file);
    if (p->cat_file)
        bad |= pack_file(files, &all, "catalogue", p->cat_file);
    if (p->price_file)
        bad |= pack_file(files, &all, "price_list", p->price_file);
    free(manifest);
    if (bad) {
        json_decref(files);
        return NULL;
    }
    fg_sha256_final(&all, d);
    snprintf(loader, sizeof(loader), "%016llx", (unsigned long long)p->content_hash);
    out = json_pack("{s:s, s:s, s:s, s:s, s:o}", "ident", p->ident, "dir", p->dir, "sha256",
                    hex_of(d, hex), "loader_content_hash", loader, "files", files);
    return out;
}

/* The effective config (file + --set) and the SHA-256 of its compact,
 * key-sorted JSON text (`jq -cjS .config.effective | sha256sum`). */
static json_t *config_json(const struct fg_app *app)
{
    json_t *root = app->cfg->root;
    char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned char d[FG_SHA256_LEN];
    char hex[FG_SHA256_HEX];
    json_t *sets = json_array(), *out;

    if (!text)
        return NULL;
    fg_sha256(text, strlen(text), d);
    free(text);
    for (size_t i = 0; i < app->cfg->nsets; i++)
        json_array_append_new(sets, json_string(app->cfg->sets[i]));
    out = json_pack("{s:s, s:s, s:o, s:O}", "path", app->cfg->path, "sha256", hex_of(d, hex),
                    "overridden_keys", sets, "effective", root);
    return out;
}

static json_t *detectors_json(const struct fg_app *app)
{
    json_t *a = json_array();

    for (size_t i = 0; i < app->ds.n; i++) {
        const struct fg_det_inst *in = &app->ds.v[i];
        json_t *off = json_array();
        for (const struct fg_rule_decl *r = in->det->rules; r && r->rule_id; r++)
            if (fg_det_rule_off(in, r))
                json_array_append_new(off, json_string(r->rule_id));
        json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:b, s:o}", "name", in->det->name,
                                           "version", in->det->version, "enabled",
                                           in->enabled, "dry_run", in->dry_run,
                                           "disabled_rules", off));
    }
    return a;
}

static json_t *counts_json(const struct fg_replay *rp)
{
    const struct fg_engine_stats *s = fg_engine_stats(rp->eng);
    json_t *by_rule = json_object();

    for (size_t i = 0; i < s->nrules; i++)
        json_object_set_new(by_rule, s->rules[i].rule_id,
                            json_integer((json_int_t)s->rules[i].alerts));
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                     "events", (json_int_t)s->events, "settlements",
                     (json_int_t)s->settlements, "other_events", (json_int_t)s->other_events,
                     "lines", (json_int_t)s->lines, "alerts", (json_int_t)s->alerts,
                     "quarantined", (json_int_t)rp->quarantined, "duplicates",
                     (json_int_t)s->duplicates, "superseded", (json_int_t)s->superseded,
                     "blank_lines", (json_int_t)rp->blank, "out_of_range",
                     (json_int_t)rp->out_of_range, "alerts_by_rule", by_rule);
}

int fg_manifest_write(struct fg_replay *rp, const char *path)
{
    const struct fg_replay_opts *o = rp->o;
    json_t *m = NULL, *cmd = json_array(), *pack, *cfg, *alerts;
    struct fg_sha256 copy = rp->alerts_sha;
    unsigned char d[FG_SHA256_LEN];
    char hex[FG_SHA256_HEX], cwd[4096];
    char *tmp = NULL;
    size_t n;
    int rc = -1;

    pack = pack_json(&rp->app);
    cfg = config_json(&rp->app);
    if (!pack || !cfg) {
        json_decref(pack);
        json_decref(cfg);
        json_decref(cmd);
        return -1;
    }
    json_array_append_new(cmd, json_string("fundguard"));
    json_array_append_new(cmd, json_string("replay"));
    for (int i = 0; i < o->argc; i++)
        json_array_append_new(cmd, json_string(o->argv[i]));
    fg_sha256_final(&copy, d);
    if (o->output_topic)
        alerts = json_pack("{s:{s:s}}", "output", "topic", o->output_topic);
    else
        alerts = json_pack("{s:s}", "output", o->output ? o->output : "-");
    json_object_set_new(alerts, "canonical_output", json_boolean(o->canonical));
    json_object_set_new(alerts, "count", json_integer((json_int_t)rp->alerts_written));
    json_object_set_new(alerts, "sha256_canonical", json_string(hex_of(d, hex)));

    m = json_pack("{s:s, s:s, s:o, s:s?}", "schema", "fundguard.replay_manifest.v1",
                  "fundguard_version", FG_VERSION, "command_line", cmd, "working_directory",
                  getcwd(cwd, sizeof(cwd)));
    json_object_set(m, "input", rp->input_json ? rp->input_json : json_null());
    json_object_set_new(m, "rule_pack", pack);
    json_object_set_new(m, "detectors", detectors_json(&rp->app));
    json_object_set_new(m, "config", cfg);
    json_object_set_new(m, "run",
                        json_pack("{s:s, s:s, s:s, s:b}", "run_id", rp->run_id, "state",
                                  rp->redis ? "redis" : "memory", "namespace", rp->ns,
                                  "state_kept", rp->redis && o->keep_state));
    json_object_set_new(m, "counts", counts_json(rp));
    json_object_set_new(m, "dead_letter",
                        json_pack("{s:s, s:I}", "path", rp->dlq_path, "count",
                                  (json_int_t)rp->quarantined));
    json_object_set_new(m, "alerts", alerts);

    /* Written beside the target and renamed: a manifest is whole or absent. */
    n = strlen(path) + 32;
    tmp = fg_malloc(n);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    if (json_dump_file(m, tmp, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0) {
        fprintf(stderr, "fundguard: cannot write manifest %s\n", tmp);
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        fprintf(stderr, "fundguard: cannot write manifest %s: %s\n", path, strerror(errno));
        unlink(tmp);
    } else {
        rc = 0;
    }
    free(tmp);
    json_decref(m);
    return rc;
}
