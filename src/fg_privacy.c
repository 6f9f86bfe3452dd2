/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_privacy.c: keyed pseudonyms of psn_no.
 */
#include "fg_privacy.h"
#include "fg_app.h"
#include "fg_common.h"
#include "fg_config.h"
#include "fg_sha256.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set between batches (start-up, reload), read while judging: a lock
 * keeps a reload from freeing the key under a reader. */
static pthread_rwlock_t g_lock = PTHREAD_RWLOCK_INITIALIZER;
static char *g_key;
static size_t g_keylen;

int fg_privacy_load_key(const struct fg_config *cfg, char **key, char *err, size_t errlen)
{
    if (fg_app_config_secret(cfg, "privacy.psn_hmac_key_file", key, err, errlen))
        return -1;
    if (*key && strlen(*key) < FG_PSN_KEY_MIN) {
        fg_free_secret(*key);
        *key = NULL;
        fg_config_error(cfg, "privacy.psn_hmac_key_file", err, errlen,
                        "the key must be at least %d bytes", FG_PSN_KEY_MIN);
        return -1;
    }
    return 0;
}

void fg_privacy_set_key(char *key)
{
    pthread_rwlock_wrlock(&g_lock);
    fg_free_secret(g_key);
    g_key = key;
    g_keylen = key ? strlen(key) : 0;
    pthread_rwlock_unlock(&g_lock);
}

int fg_privacy_active(void)
{
    int on;

    pthread_rwlock_rdlock(&g_lock);
    on = g_key != NULL;
    pthread_rwlock_unlock(&g_lock);
    return on;
}

const char *fg_psn_out(const char *psn, char buf[FG_PSN_PSEUDO_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[FG_SHA256_LEN];

    if (!psn)
        return NULL;
    pthread_rwlock_rdlock(&g_lock);
    if (!g_key) {
        pthread_rwlock_unlock(&g_lock);
        return psn;
    }
    fg_hmac_sha256(g_key, g_keylen, psn, strlen(psn), mac);
    pthread_rwlock_unlock(&g_lock);
    for (int i = 0; i < FG_PSN_PSEUDO_LEN; i++)
        buf[i] = hex[(mac[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    buf[FG_PSN_PSEUDO_LEN] = '\0';
    return buf;
}
