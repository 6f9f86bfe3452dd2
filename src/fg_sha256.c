/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_sha256.c: SHA-256 as FIPS 180-4 §6.2 defines it: 64-byte blocks, a
 * 64-word message schedule, 64 rounds with the constants K (the first 32
 * bits of the fractional parts of the cube roots of the first 64 primes),
 * and padding with 0x80, zeros and the message length in bits (big endian).
 * Portable C, and on x86-64 CPUs with the SHA extensions a second form
 * of the block function on those instructions, chosen once at run time:
 * a replay digests every input byte on its reader thread (about 500 bytes
 * a fee line), and the portable form took a tenth of the replay's CPU.
 */
#include "fg_sha256.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FG_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* One 64-byte block into the state (FIPS 180-4 §6.2.2). */
static void compress_one(uint32_t h[8], const unsigned char *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, k;

    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
               (uint32_t)p[4 * t + 2] << 8 | (uint32_t)p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = k + S1 + ch + K[t] + w[t];
        uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d;
    h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

static void compress_portable(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
    for (; nblocks; nblocks--, p += 64)
        compress_one(h, p);
}

#ifdef FG_SHA_NI
/*
 * The same rounds on the SHA extensions. SHA256RNDS2 does two rounds on a
 * state split in two registers, {A,B,E,F} and {C,D,G,H} (A, C in the top
 * lane), and after two rounds the old {A,B,E,F} is the new {C,D,G,H}: so
 * each group of four rounds is two RNDS2 with the registers' roles
 * swapped back. SHA256MSG1/MSG2 compute the schedule four words at a
 * time: W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], the W[t-7]
 * term added between the two, taken across the two previous vectors.
 */
__attribute__((target("sha,sse4.1"))) static void
compress_ni(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
    /* Byte order within each 32-bit lane reversed: big-endian words. */
    const __m128i be = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)h);       /* a b c d */
    __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(h + 4)); /* e f g h */
    __m128i abef, cdgh;

    lo = _mm_shuffle_epi32(lo, 0xB1); /* b a d c */
    hi = _mm_shuffle_epi32(hi, 0x1B); /* h g f e */
    abef = _mm_alignr_epi8(lo, hi, 8);  /* f e b a: A in the top lane */
    cdgh = _mm_blend_epi16(hi, lo, 0xF0); /* h g d c */

    for (; nblocks; nblocks--, p += 64) {
        __m128i w[4], save_abef = abef, save_cdgh = cdgh;

        for (int i = 0; i < 4; i++)
            w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)),
                                    be);
        for (int g = 0; g < 16; g++) {
            __m128i *m = &w[g & 3], wk;

            if (g >= 4) {
                /* W[4g..4g+3] from the four vectors before it: m holds
                 * W[4g-16..], w[(g+1)&3] W[4g-12..], w[(g+2)&3] W[4g-8..],
                 * w[(g+3)&3] W[4g-4..]. */
                __m128i w7 = _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4);
                *m = _mm_sha256msg1_epu32(*m, w[(g + 1) & 3]);
                *m = _mm_sha256msg2_epu32(_mm_add_epi32(*m, w7), w[(g + 3) & 3]);
            }
            wk = _mm_add_epi32(*m, _mm_loadu_si128((const __m128i *)(const void *)&K[4 * g]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
        }
        abef = _mm_add_epi32(abef, save_abef);
        cdgh = _mm_add_epi32(cdgh, save_cdgh);
    }

    lo = _mm_shuffle_epi32(abef, 0x1B); /* a b e f */
    hi = _mm_shuffle_epi32(cdgh, 0xB1); /* g h c d */
    _mm_storeu_si128((__m128i *)(void *)h, _mm_blend_epi16(lo, hi, 0xF0));       /* a b c d */
    _mm_storeu_si128((__m128i *)(void *)(h + 4), _mm_alignr_epi8(hi, lo, 8)); /* e f g h */
}

/* CPUID: leaf 7 EBX bit 29 (SHA), leaf 1 ECX bits 9 (SSSE3), 19 (SSE4.1). */
static int cpu_has_sha(void)
{
    unsigned a, b, c, d;

    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b >> 29) & 1;
}
#endif

typedef void (*compress_fn)(uint32_t h[8], const unsigned char *p, size_t nblocks);

static compress_fn compress_blocks = compress_portable;
static int have_ni;
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
#ifdef FG_SHA_NI
    have_ni = cpu_has_sha();
    if (have_ni)
        compress_blocks = compress_ni;
#endif
}

int fg_sha256_accelerated(int use)
{
    pthread_once(&choose_once, choose);
#ifdef FG_SHA_NI
    if (use >= 0)
        compress_blocks = use && have_ni ? compress_ni : compress_portable;
#endif
    return compress_blocks != compress_portable;
}

void fg_sha256_init(struct fg_sha256 *s)
{
    /* First 32 bits of the fractional parts of the square roots of the
     * first 8 primes (§5.3.3). */
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    pthread_once(&choose_once, choose);
    memcpy(s->h, iv, sizeof(iv));
    s->bytes = 0;
    s->nblock = 0;
}

void fg_sha256_update(struct fg_sha256 *s, const void *data, size_t len)
{
    const unsigned char *p = data;

    s->bytes += len;
    if (s->nblock) {
        size_t take = 64 - s->nblock < len ? 64 - s->nblock : len;
        memcpy(s->block + s->nblock, p, take);
        s->nblock += take;
        p += take;
        len -= take;
        if (s->nblock < 64)
            return;
        compress_blocks(s->h, s->block, 1);
        s->nblock = 0;
    }
    if (len >= 64) {
        compress_blocks(s->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    memcpy(s->block, p, len);
    s->nblock = len;
}

void fg_sha256_final(struct fg_sha256 *s, unsigned char out[FG_SHA256_LEN])
{
    uint64_t bits = s->bytes * 8;

    /* Padding (§5.1.1): 0x80, zeros up to 56 mod 64, the 64-bit length. */
    s->block[s->nblock++] = 0x80;
    if (s->nblock > 56) {
        memset(s->block + s->nblock, 0, 64 - s->nblock);
        compress_blocks(s->h, s->block, 1);
        s->nblock = 0;
    }
    memset(s->block + s->nblock, 0, 56 - s->nblock);
    for (int i = 0; i < 8; i++)
        s->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    compress_blocks(s->h, s->block, 1);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
    memset(s->block, 0, sizeof(s->block));
    s->nblock = 0;
}

void fg_sha256(const void *data, size_t len, unsigned char out[FG_SHA256_LEN])
{
    struct fg_sha256 s;
    fg_sha256_init(&s);
    fg_sha256_update(&s, data, len);
    fg_sha256_final(&s, out);
}

char *fg_sha256_hex(const unsigned char d[FG_SHA256_LEN], char out[FG_SHA256_HEX])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < FG_SHA256_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
    return out;
}

int fg_sha256_file(const char *path, unsigned char out[FG_SHA256_LEN], uint64_t *bytes)
{
    FILE *f = fopen(path, "rb");
    struct fg_sha256 s;
    unsigned char buf[65536];
    size_t n;
    int err;

    if (!f)
        return -1;
    fg_sha256_init(&s);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fg_sha256_update(&s, buf, n);
    err = ferror(f) ? EIO : 0;
    fclose(f);
    if (err) {
        errno = err;
        return -1;
    }
    if (bytes)
        *bytes = s.bytes;
    fg_sha256_final(&s, out);
    return 0;
}

void fg_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                    unsigned char out[FG_SHA256_LEN])
{
    unsigned char k[64] = {0}, pad[64], inner[FG_SHA256_LEN];
    struct fg_sha256 s;

    /* A key longer than the block is replaced by its digest. */
    if (klen > sizeof(k))
        fg_sha256(key, klen, k);
    else if (klen)
        memcpy(k, key, klen);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x36;
    fg_sha256_init(&s);
    fg_sha256_update(&s, pad, sizeof(pad));
    fg_sha256_update(&s, msg, mlen);
    fg_sha256_final(&s, inner);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x5c;
    fg_sha256_init(&s);
    fg_sha256_update(&s, pad, sizeof(pad));
    fg_sha256_update(&s, inner, sizeof(inner));
    fg_sha256_final(&s, out);
    memset(k, 0, sizeof(k));
    memset(pad, 0, sizeof(pad));
}
