/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_sha256.h: SHA-256 (FIPS 180-4), for the audit manifest of a replay:
 * the digests of the input bytes, of the rule pack and reference tables,
 * of the effective config and of the canonical alert output, so that an
 * auditor can check them with any standard tool (sha256sum).
 */
#ifndef FG_SHA256_H
#define FG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define FG_SHA256_LEN 32
#define FG_SHA256_HEX 65   /* 64 hex digits and a NUL */

struct fg_sha256 {
    uint32_t h[8];
    uint64_t bytes;          /* message length so far */
    unsigned char block[64]; /* the partial block */
    size_t nblock;
};

/** Start a digest. */
void fg_sha256_init(struct fg_sha256 *s);
/** Add len bytes (any length, any number of calls). */
void fg_sha256_update(struct fg_sha256 *s, const void *data, size_t len);
/** Finish: the 32-byte digest into out. The context must be re-initialised
 * before it is used again. */
void fg_sha256_final(struct fg_sha256 *s, unsigned char out[FG_SHA256_LEN]);

/** One-shot digest of data[0..len). */
void fg_sha256(const void *data, size_t len, unsigned char out[FG_SHA256_LEN]);
/** Lowercase hex of a digest, as sha256sum prints it. Returns out. */
char *fg_sha256_hex(const unsigned char d[FG_SHA256_LEN], char out[FG_SHA256_HEX]);
/**
 * Digest of a whole file's bytes; *bytes gets its size when non-NULL.
 * Returns 0, or -1 with errno set when the file cannot be read.
 */
int fg_sha256_file(const char *path, unsigned char out[FG_SHA256_LEN], uint64_t *bytes);

/**
 * Which block function digests use: the CPU's SHA extensions when it has
 * them (x86-64), else portable C; both give the same digests. use = 0
 * forces the portable one, 1 the extensions if present, -1 only asks
 * (tests and benchmarks; not thread-safe against running digests).
 * Returns 1 when the extensions are in use.
 */
int fg_sha256_accelerated(int use);

/** HMAC-SHA256 (RFC 2104) of msg under key: pseudonyms of psn_no. */
void fg_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                    unsigned char out[FG_SHA256_LEN]);

#endif
