/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_config.h: the JSON config file (CONTRACT §6), --set overrides, and
 * errors that name the file, the line and the key.
 */
#ifndef FG_CONFIG_H
#define FG_CONFIG_H

#include <stddef.h>

struct fg_config {
    char *path;        /* the file as given */
    char *text;        /* its bytes, for locating keys by line */
    void *root;        /* json_t * */
    char **sets;       /* keys overridden with --set, for error messages */
    size_t nsets;
};

/** Load a config file. Returns NULL with err "FILE:LINE: reason". */
struct fg_config *fg_config_load(const char *path, char *err, size_t errlen);
void fg_config_free(struct fg_config *cfg);

/** Apply "a.b.c=VALUE": VALUE is JSON if it parses as JSON, else a string. */
int fg_config_set(struct fg_config *cfg, const char *assignment, char *err,
                  size_t errlen);

/** The json_t * at a dotted path, or NULL. */
void *fg_config_get(const struct fg_config *cfg, const char *path);
/** String at path, or def when absent. NULL + err when not a string. */
const char *fg_config_str(const struct fg_config *cfg, const char *path,
                          const char *def, char *err, size_t errlen);
/** Integer at path (JSON integer), def when absent; -1 + err on error. */
int fg_config_int(const struct fg_config *cfg, const char *path, long long def,
                  long long min, long long max, long long *out, char *err,
                  size_t errlen);

/** Boolean at path, def when absent; -1 + err when not true or false. */
int fg_config_bool(const struct fg_config *cfg, const char *path, int def, int *out,
                   char *err, size_t errlen);

/**
 * Format "FILE:LINE: key 'path': msg" (or "--set path: msg" when the key
 * came from the command line) into err.
 */
void fg_config_error(const struct fg_config *cfg, const char *path, char *err,
                     size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/** Check that every key is known: top-level sections and their keys. */
int fg_config_validate_keys(const struct fg_config *cfg, char *err, size_t errlen);

/**
 * Resolve a path from the config: absolute stays; a relative path is taken
 * against the working directory if it exists there, else against the
 * directory of the config file. Returns a new string.
 */
char *fg_config_resolve(const struct fg_config *cfg, const char *path);

#endif
