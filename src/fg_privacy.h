/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_privacy.h: optional pseudonymisation of psn_no in everything that
 * leaves the process (alerts, logs). With privacy.psn_hmac_key_file set,
 * a person number is written as the first FG_PSN_PSEUDO_LEN lowercase hex
 * digits of HMAC-SHA256(key, psn_no): the same person always gets the
 * same pseudonym (alerts stay linkable), and without the key it can be
 * neither reversed nor recomputed from a list of known numbers. State
 * (Redis keys, the window) keeps the real number; names and certificate
 * numbers are never read from an event at all.
 */
#ifndef FG_PRIVACY_H
#define FG_PRIVACY_H

#include <stddef.h>

struct fg_config;

#define FG_PSN_PSEUDO_LEN 30    /* psn_no is C30 in the NHSA interface */
#define FG_PSN_KEY_MIN 16       /* bytes */

/**
 * Read privacy.psn_hmac_key_file (one line, at least FG_PSN_KEY_MIN bytes,
 * refused if others can read the file) into *key. *key is NULL when the
 * option is absent. Returns 0, or -1 with err naming file, line and key.
 */
int fg_privacy_load_key(const struct fg_config *cfg, char **key, char *err, size_t errlen);

/** Make key (or NULL: no pseudonyms) the process's key; takes ownership. */
void fg_privacy_set_key(char *key);

/** Nonzero when psn_no is pseudonymised. */
int fg_privacy_active(void);

/** psn_no as it may leave the process: psn itself, or its pseudonym in
 * buf. NULL stays NULL. */
const char *fg_psn_out(const char *psn, char buf[FG_PSN_PSEUDO_LEN + 1]);

#endif
