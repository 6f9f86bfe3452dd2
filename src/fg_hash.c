/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_hash.c: FNV-1a, 64 and 128 bits (parameters from the FNV
 * specification: offset basis and prime per width).
 */
#include "fg_hash.h"

#include <string.h>

#define FNV64_BASIS 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

uint64_t fg_hash64(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = FNV64_BASIS;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= FNV64_PRIME;
    }
    /* Final avalanche so low bits are usable as table indexes. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

uint64_t fg_hash64_str(const char *s)
{
    return fg_hash64(s, strlen(s));
}

static unsigned __int128 fnv128_basis(void)
{
    return ((unsigned __int128)0x6c62272e07bb0142ULL << 64) | 0x62b821756295c58dULL;
}

static unsigned __int128 fnv128_prime(void)
{
    /* 2^88 + 2^8 + 0x3b */
    return ((unsigned __int128)1 << 88) | 0x13b;
}

void fg_hash128_init(struct fg_hash128 *h)
{
    h->h = fnv128_basis();
}

void fg_hash128_field(struct fg_hash128 *h, const char *s, size_t n)
{
    unsigned __int128 v = h->h, prime = fnv128_prime();

    for (size_t i = 0; i < n; i++) {
        v ^= (unsigned char)s[i];
        v *= prime;
    }
    v ^= 0x1f;
    v *= prime;
    h->h = v;
}

void fg_hash128_cfield(struct fg_hash128 *h, const char *s)
{
    fg_hash128_field(h, s ? s : "", s ? strlen(s) : 0);
}

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

void fg_hash128_hex(const struct fg_hash128 *h, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    /* FNV's last bytes only reach the low bits; a finalizer that mixes
     * each half with the other spreads them over all 128. */
    uint64_t hi = (uint64_t)(h->h >> 64), lo = (uint64_t)h->h;
    uint64_t a = fmix64(hi ^ fmix64(lo)), b = fmix64(lo ^ a);
    unsigned __int128 v = ((unsigned __int128)a << 64) | b;

    for (int i = 31; i >= 0; i--) {
        out[i] = hex[(unsigned)(v & 15)];
        v >>= 4;
    }
    out[32] = '\0';
}
