/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_config.c: config loading on Jansson. Jansson keeps no line numbers
 * for values, so errors locate a key by finding its quoted name in the
 * file text, after the line of its parent key: enough to point an
 * operator at the right line of a hand-written file.
 */
#include "fg_config.h"
#include "fg_buf.h"
#include "fg_common.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct fg_buf_tmp { char *p; size_t n, cap; } b = {NULL, 0, 0};
    char chunk[8192];
    size_t r;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.n + r + 1 > b.cap) {
            b.cap = (b.n + r + 1) * 2;
            b.p = fg_realloc(b.p, b.cap);
        }
        memcpy(b.p + b.n, chunk, r);
        b.n += r;
    }
    fclose(f);
    if (!b.p)
        b.p = fg_calloc(1, 1);
    b.p[b.n] = '\0';
    return b.p;
}

struct fg_config *fg_config_load(const char *path, char *err, size_t errlen)
{
    struct fg_config *cfg;
    json_error_t jerr;
    char *text = read_file(path, err, errlen);
    json_t *root;

    if (!text)
        return NULL;
    root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
        free(text);
        return NULL;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s:1: the config must be a JSON object", path);
        json_decref(root);
        free(text);
        return NULL;
    }
    cfg = fg_calloc(1, sizeof(*cfg));
    cfg->path = fg_strdup(path);
    cfg->text = text;
    cfg->root = root;
    return cfg;
}

void fg_config_free(struct fg_config *cfg)
{
    if (!cfg)
        return;
    json_decref(cfg->root);
    for (size_t i = 0; i < cfg->nsets; i++)
        free(cfg->sets[i]);
    free(cfg->sets);
    free(cfg->text);
    free(cfg->path);
    free(cfg);
}

/* Line of the dotted key in the file text, or 0 when it is not there.
 * A small scanner walks the (already validated) JSON text keeping the
 * path of object keys it is inside, so a key is found under its own
 * parent even when another object has a key of the same name. Keys
 * inside arrays are not addressed by dotted paths and are skipped. */
#define KEY_DEPTH 16

static int key_line(const struct fg_config *cfg, const char *path)
{
    const char *t = cfg->text;
    char cur[KEY_DEPTH][128];   /* key of each open object level */
    int is_obj[KEY_DEPTH + 1];  /* container kind per nesting depth */
    int depth = 0, line = 1, expect_key = 0;
    char joined[512];

    is_obj[0] = 0;
    for (const char *c = t; *c; c++) {
        switch (*c) {
        case '\n':
            line++;
            break;
        case '{':
        case '[':
            if (depth < KEY_DEPTH) {
                is_obj[++depth] = *c == '{';
                expect_key = *c == '{';
            }
            break;
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            break;
        case ',':
            expect_key = depth > 0 && is_obj[depth];
            break;
        case '"': {
            const char *start = ++c;
            while (*c && *c != '"') {
                if (*c == '\\' && c[1])
                    c++;
                c++;
            }
            if (!*c)
                return 0;
            if (expect_key && depth > 0 && depth <= KEY_DEPTH) {
                size_t n = (size_t)(c - start), off = 0;
                int inside_array = 0;
                snprintf(cur[depth - 1], sizeof(cur[0]), "%.*s", (int)n, start);
                joined[0] = '\0';
                for (int d = 1; d <= depth; d++) {
                    inside_array |= !is_obj[d];
                    off += (size_t)snprintf(joined + off, sizeof(joined) - off, "%s%s",
                                            d > 1 ? "." : "", cur[d - 1]);
                    if (off >= sizeof(joined))
                        break;
                }
                if (!inside_array && strcmp(joined, path) == 0)
                    return line;
                expect_key = 0;
            }
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

static int from_set(const struct fg_config *cfg, const char *path)
{
    for (size_t i = 0; i < cfg->nsets; i++) {
        size_t n = strlen(cfg->sets[i]);
        if (strncmp(cfg->sets[i], path, n) == 0 && (path[n] == '\0' || path[n] == '.'))
            return 1;
    }
    return 0;
}

void fg_config_error(const struct fg_config *cfg, const char *path, char *err,
                     size_t errlen, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    int line;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (from_set(cfg, path)) {
        snprintf(err, errlen, "--set %s: %s", path, msg);
        return;
    }
    line = key_line(cfg, path);
    snprintf(err, errlen, "%s:%d: key '%s': %s", cfg->path, line ? line : 1, path, msg);
}

void *fg_config_get(const struct fg_config *cfg, const char *path)
{
    json_t *cur = cfg->root;
    const char *seg = path;
    char key[256];

    while (cur && *seg) {
        const char *dot = strchr(seg, '.');
        size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
        if (n >= sizeof(key) || !json_is_object(cur))
            return NULL;
        memcpy(key, seg, n);
        key[n] = '\0';
        cur = json_object_get(cur, key);
        seg = dot ? dot + 1 : seg + n;
    }
    return cur;
}

const char *fg_config_str(const struct fg_config *cfg, const char *path,
                          const char *def, char *err, size_t errlen)
{
    json_t *v = fg_config_get(cfg, path);

    if (!v || json_is_null(v))
        return def;
    if (!json_is_string(v)) {
        fg_config_error(cfg, path, err, errlen, "expected a string");
        return NULL;
    }
    return json_string_value(v);
}

int fg_config_int(const struct fg_config *cfg, const char *path, long long def,
                  long long min, long long max, long long *out, char *err,
                  size_t errlen)
{
    json_t *v = fg_config_get(cfg, path);

    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v)) {
        fg_config_error(cfg, path, err, errlen, "expected an integer");
        return -1;
    }
    *out = json_integer_value(v);
    if (*out < min || *out > max) {
        fg_config_error(cfg, path, err, errlen, "%lld is out of range %lld..%lld",
                        *out, min, max);
        return -1;
    }
    return 0;
}

int fg_config_bool(const struct fg_config *cfg, const char *path, int def, int *out,
                   char *err, size_t errlen)
{
    json_t *v = fg_config_get(cfg, path);

    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v)) {
        fg_config_error(cfg, path, err, errlen, "expected true or false");
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

int fg_config_set(struct fg_config *cfg, const char *assignment, char *err,
                  size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    json_t *cur = cfg->root, *val;
    json_error_t jerr;
    char *path;

    if (!eq || eq == assignment) {
        snprintf(err, errlen, "--set %s: expected KEY=VALUE", assignment);
        return -1;
    }
    path = fg_strndup(assignment, (size_t)(eq - assignment));
    /* Jansson refuses an object key that is not valid UTF-8 and frees the
     * value it was given: the --set was dropped silently, and an inner
     * segment's fresh object was used after that free (found by fuzzing:
     * tests/fuzz/regress/config/set-key-invalid-utf8-*). Refuse it here. */
    if (!fg_utf8_valid(path, strlen(path))) {
        snprintf(err, errlen, "--set %s: key is not valid UTF-8", path);
        free(path);
        return -1;
    }
    val = json_loads(eq + 1, JSON_DECODE_ANY, &jerr);
    if (!val)
        val = json_string(eq + 1);
    if (!val) {
        snprintf(err, errlen, "--set %s: value is not valid UTF-8", path);
        free(path);
        return -1;
    }
    /* Walk the path, creating objects, and set the leaf. Under
     * kafka.consumer. and kafka.producer. the rest is one librdkafka
     * property name, dots included (sasl.username). */
    char *seg = path;
    size_t pass = strncmp(path, "kafka.consumer.", 15) == 0 ||
                          strncmp(path, "kafka.producer.", 15) == 0
                      ? 15
                      : 0;
    for (;;) {
        char *dot = pass && seg >= path + pass ? NULL : strchr(seg, '.');
        if (dot)
            *dot = '\0';
        if (!*seg) {
            snprintf(err, errlen, "--set %.*s: empty key segment",
                     (int)(eq - assignment), assignment);
            json_decref(val);
            free(path);
            return -1;
        }
        if (!dot) {
            json_object_set_new(cur, seg, val);
            break;
        }
        json_t *next = json_object_get(cur, seg);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(cur, seg, next);
        }
        cur = next;
        *dot = '.';
        seg = dot + 1;
    }
    /* path was restored segment by segment; keep it for error messages. */
    cfg->sets = fg_realloc(cfg->sets, (cfg->nsets + 1) * sizeof(char *));
    cfg->sets[cfg->nsets++] = path;
    return 0;
}

/* Keys the core knows, per top-level section. Detector sections are checked
 * against their descriptors by fg_detector; kafka.consumer/producer pass
 * through to librdkafka. */
static const char *const section_keys[][16] = {
    {"kafka", "bootstrap_servers", "group_id", "topics", "consumer", "producer", "batch_size",
     "batch_ms", "idle_partition_ms", "align_seconds", "stall_ms", "sasl_password_file", NULL},
    {"redis", "host", "port", "unix_socket", "username", "password_file", "db", NULL},
    {"state", "backend", "lateness_seconds", "event_dedup_days", "retry_seconds",
     "deferred_per_event", "resident", "commit_ms", NULL},
    {"metrics", "listen", "interval_seconds", NULL},
    {"rules", "pack", "strict", NULL},
    {"reference", "catalogue", "price_list", NULL},
    {"replay", "max_event_bytes", "parse_threads", NULL},
    {"log", "level", NULL},
    {"privacy", "psn_hmac_key_file", NULL},
    {"detectors", NULL},
};

/* librdkafka properties that hold a secret. They belong in a file only
 * their owner can read (kafka.sasl_password_file for the SASL password):
 * a config file others can read is refused when it holds one, and a
 * command line (visible to every user in /proc) never may. */
static const char *const secret_props[] = {
    "sasl.password", "ssl.key.password", "ssl.keystore.password", "ssl.key.pem",
    "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config", NULL};

static int check_secrets(const struct fg_config *cfg, char *err, size_t errlen)
{
    static const char *const sections[] = {"kafka.consumer", "kafka.producer"};
    struct stat st;
    char path[128];

    for (size_t i = 0; i < FG_ARRAY_LEN(sections); i++) {
        json_t *obj = fg_config_get(cfg, sections[i]);
        if (!json_is_object(obj))
            continue;
        for (const char *const *k = secret_props; *k; k++) {
            if (!json_object_get(obj, *k))
                continue;
            snprintf(path, sizeof(path), "%s.%s", sections[i], *k);
            if (key_line(cfg, path) == 0) {
                fg_config_error(cfg, path, err, errlen, "a secret may not be given on the "
                                "command line (every user can read it); put it in a file "
                                "only its owner can read");
                return -1;
            }
            if (stat(cfg->path, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH))) {
                fg_config_error(cfg, path, err, errlen, "a secret in a config file others "
                                "can read; chmod o-rwx %s (or keep the SASL password in "
                                "kafka.sasl_password_file)", cfg->path);
                return -1;
            }
        }
    }
    return 0;
}

int fg_config_validate_keys(const struct fg_config *cfg, char *err, size_t errlen)
{
    const char *sect;
    json_t *v;

    json_object_foreach((json_t *)cfg->root, sect, v) {
        size_t s;
        char path[256];
        for (s = 0; s < FG_ARRAY_LEN(section_keys); s++)
            if (strcmp(section_keys[s][0], sect) == 0)
                break;
        if (s == FG_ARRAY_LEN(section_keys)) {
            fg_config_error(cfg, sect, err, errlen, "unknown section");
            return -1;
        }
        if (!json_is_object(v)) {
            fg_config_error(cfg, sect, err, errlen, "expected an object");
            return -1;
        }
        if (strcmp(sect, "detectors") == 0)
            continue;
        const char *key;
        json_t *kv;
        json_object_foreach(v, key, kv) {
            int known = 0;
            for (size_t k = 1; section_keys[s][k]; k++)
                known |= strcmp(section_keys[s][k], key) == 0;
            if (!known) {
                snprintf(path, sizeof(path), "%s.%s", sect, key);
                fg_config_error(cfg, path, err, errlen, "unknown key");
                return -1;
            }
        }
    }
    return check_secrets(cfg, err, errlen);
}

char *fg_config_resolve(const struct fg_config *cfg, const char *path)
{
    struct stat st;
    const char *slash;
    size_t n;
    char *out;

    if (path[0] == '/' || stat(path, &st) == 0)
        return fg_strdup(path);
    slash = strrchr(cfg->path, '/');
    if (!slash)
        return fg_strdup(path);
    n = (size_t)(slash - cfg->path) + 1 + strlen(path) + 1;
    out = fg_malloc(n);
    snprintf(out, n, "%.*s/%s", (int)(slash - cfg->path), cfg->path, path);
    if (stat(out, &st) != 0) {
        free(out);
        return fg_strdup(path);
    }
    return out;
}
