/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_app.h: what the commands share: loading a config with its overrides,
 * the rule pack and the detectors, each failure mapped to its exit code.
 */
#ifndef FG_APP_H
#define FG_APP_H

#include "fg_config.h"
#include "fg_detector.h"
#include "fg_pack.h"

struct fg_app {
    struct fg_config *cfg;
    struct fg_detectors ds;
    struct fg_pack *pack;
    char *pack_dir, *catalogue, *price_list;
    int strict;
};

/**
 * Load config FILE, apply --set overrides, configure detectors, load the
 * pack (and, with init, initialise the detectors). Returns an exit code:
 * FG_EXIT_OK, or FG_EXIT_CONFIG with the reason printed to stderr.
 */
int fg_app_open(struct fg_app *app, const char *config, char **sets, size_t nsets,
                int init);
void fg_app_close(struct fg_app *app);

struct fg_state;
/**
 * The Redis state backend configured by redis.* for namespace ns. Prints
 * the reason and returns NULL on a configuration error (exit 78).
 */
struct fg_state *fg_app_redis_state(struct fg_app *app, const char *ns, long long lateness,
                                    long long dedup_days, int resident);

/** The first line of a secret file, which must not be readable by others.
 * Returns a new string, or NULL with err set. */
char *fg_app_read_secret(const char *path, char *err, size_t errlen);
/**
 * The secret in the file that config key names (relative paths resolved
 * as fg_config_resolve does), read by fg_app_read_secret. *out is NULL
 * when the key is absent or empty. Returns 0, or -1 with err naming the
 * config file, line and key (exit 78).
 */
int fg_app_config_secret(const struct fg_config *cfg, const char *key, char **out, char *err,
                         size_t errlen);

/** Print pack load results: rows loaded and rejected per table. */
void fg_app_print_pack(const struct fg_app *app, FILE *out);

int fg_cmd_replay(int argc, char **argv);
int fg_cmd_check_config(int argc, char **argv);
int fg_cmd_run(int argc, char **argv);

#endif
