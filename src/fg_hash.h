/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_hash.h: deterministic, platform-independent hashes. FNV-1a in 64 bits
 * for hash tables and set membership, and in 128 bits for jr_id, which
 * must be the same on every machine and every run.
 */
#ifndef FG_HASH_H
#define FG_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t fg_hash64(const void *p, size_t n);
uint64_t fg_hash64_str(const char *s);

struct fg_hash128 {
    unsigned __int128 h;
};

void fg_hash128_init(struct fg_hash128 *h);
/* Adds the bytes and a 0x1f separator, so ("ab","c") != ("a","bc"). */
void fg_hash128_field(struct fg_hash128 *h, const char *s, size_t n);
void fg_hash128_cfield(struct fg_hash128 *h, const char *s);
/* 32 lowercase hex digits and a NUL into out[33]. */
void fg_hash128_hex(const struct fg_hash128 *h, char out[33]);

#endif
