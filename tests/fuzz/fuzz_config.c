/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_config.c: the config loader (src/fg_config.c) and the detector
 * parameter parser behind it (fg_detectors_configure, src/fg_detector.c),
 * the way `fundguard check-config -c FILE --set ...` drives them.
 *
 * Input: the config file's bytes up to the first NUL byte, then up to
 * FZ_MAX_SETS NUL-separated --set assignments ("a.b.c=VALUE"). The file
 * bytes go to a private temporary file (fg_config_load takes a path).
 *
 * Properties checked beyond "no crash, no leak":
 *  - a failure always leaves a non-empty error message;
 *  - an error about a key of the file names a line of the file
 *    ("FILE:LINE: key '...'", 1 <= LINE <= lines in the file);
 *  - an accepted --set can be read back with fg_config_get (outside the
 *    librdkafka pass-through sections, whose leaf keys contain dots).
 */
#include "fuzz.h"

#include "fg_common.h"
#include "fg_config.h"
#include "fg_detector.h"

#include <stdlib.h>
#include <string.h>

#define FZ_MAX_SETS 4

static char *cfg_path;

/* Paths the application reads, so key lookups and errors run on them. */
static const char *const known_paths[] = {
    "rules.pack", "rules.strict", "reference.catalogue", "state.lateness_seconds",
    "kafka.topics.claims", "kafka.consumer", "detectors.duplicate_billing.enabled",
    "redis.port", "log.level", "replay.max_event_bytes", "metrics.listen",
};

static size_t count_lines(const char *t, size_t n)
{
    size_t lines = 1;

    for (size_t i = 0; i < n; i++)
        lines += t[i] == '\n';
    return lines;
}

/* An error about a key of the file must point at one of its lines. */
static void check_error(const char *err, size_t file_len, size_t file_lines)
{
    size_t plen = strlen(cfg_path);

    FZ_CHECK(err[0] != '\0', "failure without an error message");
    if (strncmp(err, "--set ", 6) == 0 || strncmp(err, cfg_path, plen) != 0 ||
        err[plen] != ':')
        return;
    char *end;
    long line = strtol(err + plen + 1, &end, 10);
    FZ_CHECK(end != err + plen + 1 && *end == ':', "error without a line: %s", err);
    FZ_CHECK(line >= 1 && (size_t)line <= file_lines,
             "error names line %ld of a %zu-line (%zu-byte) file: %s", line, file_lines,
             file_len, err);
}

/* The key of an assignment, for reading it back; NULL when the set is not
 * expected to be readable by dotted path. */
static char *set_key(const char *a)
{
    const char *eq = strchr(a, '=');

    if (!eq || eq == a)
        return NULL;
    if (strncmp(a, "kafka.consumer.", 15) == 0 || strncmp(a, "kafka.producer.", 15) == 0)
        return NULL;
    return fg_strndup(a, (size_t)(eq - a));
}

/* fg_config_get reads segments of at most 255 bytes. */
static int long_segment(const char *key)
{
    size_t run = 0;

    for (; *key; key++) {
        run = *key == '.' ? 0 : run + 1;
        if (run > 255)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
    size_t file_len = nul ? (size_t)(nul - data) : size;
    size_t file_lines = count_lines((const char *)data, file_len);
    char *sets[FZ_MAX_SETS];
    size_t nsets = 0;
    struct fg_config *cfg;
    char err[1024];
    int ok = 1;

    fg_log_level = FG_LOG_ERROR;
    if (!cfg_path)
        cfg_path = fz_tmp_path("fundguard.json");
    fz_write_file(cfg_path, data, file_len);
    in.p += file_len;
    in.n -= file_len;
    if (nul) {
        fz_u8(&in);
        while (in.n && nsets < FZ_MAX_SETS)
            sets[nsets++] = fz_str(&in);
    }

    err[0] = '\0';
    cfg = fg_config_load(cfg_path, err, sizeof(err));
    if (!cfg) {
        check_error(err, file_len, file_lines);
        goto out;
    }
    for (size_t i = 0; i < nsets; i++) {
        err[0] = '\0';
        if (fg_config_set(cfg, sets[i], err, sizeof(err))) {
            FZ_CHECK(err[0] != '\0', "--set failed without an error message");
            ok = 0;
            continue;
        }
        char *key = set_key(sets[i]);
        if (key) {
            FZ_CHECK(fg_config_get(cfg, key) != NULL || long_segment(key),
                     "--set '%s' accepted but key '%s' not found", sets[i], key);
            free(key);
        }
    }
    if (ok) {
        err[0] = '\0';
        if (fg_config_validate_keys(cfg, err, sizeof(err))) {
            check_error(err, file_len, file_lines);
        } else {
            struct fg_detectors ds = {0};
            err[0] = '\0';
            if (fg_detectors_configure(&ds, cfg, err, sizeof(err)))
                check_error(err, file_len, file_lines);
            fg_detectors_fini(&ds);
        }
    }
    /* Typed reads and error locations on the paths the program uses. */
    for (size_t i = 0; i < FG_ARRAY_LEN(known_paths); i++) {
        long long v;
        const char *s;

        err[0] = '\0';
        s = fg_config_str(cfg, known_paths[i], "default", err, sizeof(err));
        if (!s)
            check_error(err, file_len, file_lines);
        else if (s[0] && i < 3) {
            char *r = fg_config_resolve(cfg, s);
            free(r);
        }
        err[0] = '\0';
        if (fg_config_int(cfg, known_paths[i], 1, -5, 1000000, &v, err, sizeof(err)))
            check_error(err, file_len, file_lines);
    }
    for (size_t i = 0; i < nsets; i++) {
        char *key = set_key(sets[i]);
        if (key) {
            fg_config_error(cfg, key, err, sizeof(err), "fuzz");
            FZ_CHECK(err[0] != '\0', "fg_config_error wrote nothing");
            free(key);
        }
    }
    fg_config_free(cfg);
out:
    for (size_t i = 0; i < nsets; i++)
        free(sets[i]);
    return 0;
}
