/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_app.c: config + pack + detectors, as every command needs them.
 */
#include "fg_app.h"
#include "fg_privacy.h"
#include "fg_common.h"
#include "fg_state.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <jansson.h>
#include <string.h>
#include <unistd.h>

int fg_app_open(struct fg_app *app, const char *config, char **sets, size_t nsets,
                int init)
{
    char err[1024] = "";
    const char *s;
    char *key;
    json_t *strict;

    memset(app, 0, sizeof(*app));
    app->cfg = fg_config_load(config, err, sizeof(err));
    if (!app->cfg)
        goto bad;
    for (size_t i = 0; i < nsets; i++)
        if (fg_config_set(app->cfg, sets[i], err, sizeof(err)))
            goto bad;
    if (fg_config_validate_keys(app->cfg, err, sizeof(err)))
        goto bad;
    s = fg_config_str(app->cfg, "log.level", "info", err, sizeof(err));
    if (!s)
        goto bad;
    fg_log_level = FG_LOG_INFO;
    if (strcmp(s, "debug") == 0)
        fg_log_level = FG_LOG_DEBUG;
    else if (strcmp(s, "warn") == 0)
        fg_log_level = FG_LOG_WARN;
    else if (strcmp(s, "error") == 0)
        fg_log_level = FG_LOG_ERROR;
    if (fg_detectors_configure(&app->ds, app->cfg, err, sizeof(err)))
        goto bad;

    s = fg_config_str(app->cfg, "rules.pack", "config/rules/nhsa", err, sizeof(err));
    if (!s)
        goto bad;
    app->pack_dir = fg_config_resolve(app->cfg, s);
    s = fg_config_str(app->cfg, "reference.catalogue", "", err, sizeof(err));
    if (!s)
        goto bad;
    app->catalogue = *s ? fg_config_resolve(app->cfg, s) : NULL;
    s = fg_config_str(app->cfg, "reference.price_list", "", err, sizeof(err));
    if (!s)
        goto bad;
    app->price_list = *s ? fg_config_resolve(app->cfg, s) : NULL;
    strict = fg_config_get(app->cfg, "rules.strict");
    if (strict && !json_is_boolean(strict)) {
        fg_config_error(app->cfg, "rules.strict", err, sizeof(err), "expected true or false");
        goto bad;
    }
    app->strict = !json_is_false(strict);

    app->pack = fg_pack_load(app->pack_dir, app->catalogue, app->price_list, err,
                             sizeof(err));
    if (!app->pack)
        goto bad;
    if (app->strict && app->pack->total_rejected) {
        fprintf(stderr, "fundguard: %zu reference rows rejected (rules.strict is on):\n",
                app->pack->total_rejected);
        for (size_t i = 0; i < app->pack->nrejections && i < 20; i++)
            fprintf(stderr, "  %s\n", app->pack->rejections[i]);
        fg_app_close(app);
        return FG_EXIT_CONFIG;
    }
    if (init && fg_detectors_init(&app->ds, app->pack, err, sizeof(err)))
        goto bad;
    /* Last: a reload that fails keeps the key in force with the rules. */
    if (fg_privacy_load_key(app->cfg, &key, err, sizeof(err)))
        goto bad;
    fg_privacy_set_key(key);
    return FG_EXIT_OK;

bad:
    fprintf(stderr, "fundguard: config error: %s\n", err);
    fg_app_close(app);
    return FG_EXIT_CONFIG;
}

void fg_app_close(struct fg_app *app)
{
    fg_detectors_fini(&app->ds);
    fg_pack_free(app->pack);
    fg_config_free(app->cfg);
    free(app->pack_dir);
    free(app->catalogue);
    free(app->price_list);
    memset(app, 0, sizeof(*app));
}

void fg_app_print_pack(const struct fg_app *app, FILE *out)
{
    const struct fg_pack *p = app->pack;

    fprintf(out, "rule pack %s (%s), content hash %016llx\n", p->ident, p->dir,
            (unsigned long long)p->content_hash);
    fprintf(out, "  %-16s %8s %8s  %s\n", "table", "loaded", "rejected", "file");
    for (int i = 0; i < FG_T_NTABLES; i++)
        if (p->tables[i].file)
            fprintf(out, "  %-16s %8zu %8zu  %s\n", fg_table_name((enum fg_table_id)i),
                    p->tables[i].n, p->tables[i].rejected, p->tables[i].file);
    if (p->pairs_file)
        fprintf(out, "  %-16s %8zu %8zu  %s\n", "dup_pairs", p->npairs,
                p->pairs_rejected, p->pairs_file);
    if (p->cat_file)
        fprintf(out, "  %-16s %8zu %8zu  %s\n", "catalogue", p->ncat, p->cat_rejected,
                p->cat_file);
    else
        fprintf(out, "  %-16s (not configured: CAT-NOT-LISTED is off)\n", "catalogue");
    if (p->price_file)
        fprintf(out, "  %-16s %8zu %8zu  %s\n", "price_list", p->nprice,
                p->price_rejected, p->price_file);
    else
        fprintf(out, "  %-16s (not configured: PRICE-OVER-LIST is off)\n", "price_list");
    for (size_t i = 0; i < p->nrejections; i++)
        fprintf(out, "  rejected: %s\n", p->rejections[i]);
    if (p->total_rejected > p->nrejections)
        fprintf(out, "  ... and %zu more rejected rows\n",
                p->total_rejected - p->nrejections);
}

/* Read a secret from a file: the first line, without its newline. The file
 * must not be readable by others (it holds a password). */
char *fg_app_read_secret(const char *path, char *err, size_t errlen)
{
    struct stat st;
    char buf[1024], *secret;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    /* The mode of what was opened, not of what the path named before. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        snprintf(err, errlen, "%s: readable by others; chmod o-rwx it", path);
        close(fd);
        return NULL;
    }
    /* read(2), not stdio: no copy of the secret left in a FILE buffer. */
    while (len < sizeof(buf) - 1) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    secret = buf[0] ? fg_strdup(buf) : NULL;
    fg_wipe(buf, sizeof(buf));
    if (!secret)
        snprintf(err, errlen, "%s: empty", path);
    return secret;
}

int fg_app_config_secret(const struct fg_config *cfg, const char *key, char **out, char *err,
                         size_t errlen)
{
    const char *file;
    char *path, why[512];

    *out = NULL;
    err[0] = '\0';
    file = fg_config_str(cfg, key, NULL, err, errlen);
    if (!file)
        return err[0] ? -1 : 0;
    if (!*file)
        return 0;
    path = fg_config_resolve(cfg, file);
    *out = fg_app_read_secret(path, why, sizeof(why));
    free(path);
    if (!*out) {
        fg_config_error(cfg, key, err, errlen, "%s", why);
        return -1;
    }
    return 0;
}

struct fg_state *fg_app_redis_state(struct fg_app *app, const char *ns, long long lateness,
                                    long long dedup_days, int resident)
{
    char err[512] = "";
    struct fg_redis_opts ro = {0};
    char *password = NULL;
    long long port, db;
    struct fg_state *st = NULL;

    ro.host = fg_config_str(app->cfg, "redis.host", "127.0.0.1", err, sizeof(err));
    ro.unix_socket = fg_config_str(app->cfg, "redis.unix_socket", NULL, err, sizeof(err));
    ro.username = fg_config_str(app->cfg, "redis.username", NULL, err, sizeof(err));
    if (!ro.host || err[0] ||
        fg_config_int(app->cfg, "redis.port", 6379, 1, 65535, &port, err, sizeof(err)) ||
        fg_config_int(app->cfg, "redis.db", 0, 0, 1023, &db, err, sizeof(err)) ||
        fg_app_config_secret(app->cfg, "redis.password_file", &password, err, sizeof(err)))
        goto bad;
    ro.port = (int)port;
    ro.db = (int)db;
    ro.password = password;
    ro.ns = ns;
    ro.lateness = lateness;
    ro.dedup_seconds = dedup_days * 86400;
    ro.resident = resident;
    st = fg_state_redis_new(&ro, err, sizeof(err));
    if (!st)
        goto bad;
    if (fg_state_redis_refused(st)) {
        /* At start-up, refused credentials are a configuration error (a
         * Redis that is down is not: it is waited for). */
        fg_config_error(app->cfg, ro.username ? "redis.username" : "redis.password_file", err,
                        sizeof(err), "redis refused the credentials: %s",
                        fg_state_redis_refused(st));
        fg_state_destroy(st);
        st = NULL;
        goto bad;
    }
    fg_free_secret(password);
    return st;
bad:
    fprintf(stderr, "fundguard: config error: %s\n", err);
    fg_free_secret(password);
    return NULL;
}
