/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_buf.h: a growable byte buffer with the JSON and base64 writers the
 * alert encoder and the dead-letter writer need.
 */
#ifndef FG_BUF_H
#define FG_BUF_H

#include <stddef.h>
#include <stdint.h>

struct fg_buf {
    char *data;   /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
};

void fg_buf_init(struct fg_buf *b);
void fg_buf_fini(struct fg_buf *b);
void fg_buf_reset(struct fg_buf *b);
void fg_buf_reserve(struct fg_buf *b, size_t extra);
void fg_buf_append(struct fg_buf *b, const void *p, size_t n);
void fg_buf_puts(struct fg_buf *b, const char *s);
void fg_buf_putc(struct fg_buf *b, char c);
void fg_buf_printf(struct fg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Decimal integers without printf (hot paths): at most FG_FMT_INT_MAX
 * characters plus the NUL written to dst; returns the length. */
#define FG_FMT_INT_MAX 20
size_t fg_fmt_i64(char *dst, int64_t v);
size_t fg_fmt_u64(char *dst, uint64_t v);
void fg_buf_put_i64(struct fg_buf *b, int64_t v);
void fg_buf_put_u64(struct fg_buf *b, uint64_t v);

/** Append s[0..n) as a quoted JSON string; invalid UTF-8 becomes U+FFFD. */
void fg_buf_json_str(struct fg_buf *b, const char *s, size_t n);
/** Same for a NUL-terminated string; NULL is written as null. */
void fg_buf_json_cstr(struct fg_buf *b, const char *s);
/** Append base64 (RFC 4648, padded) of p[0..n). */
void fg_buf_base64(struct fg_buf *b, const void *p, size_t n);

/** 1 when s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
int fg_utf8_valid(const char *s, size_t n);

#endif
