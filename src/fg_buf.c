/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_buf.c: buffer growth, JSON string escaping, base64.
 */
#include "fg_buf.h"
#include "fg_common.h"

#include <stdarg.h>
#include <string.h>

void fg_buf_init(struct fg_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void fg_buf_fini(struct fg_buf *b)
{
    free(b->data);
    fg_buf_init(b);
}

void fg_buf_reset(struct fg_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void fg_buf_reserve(struct fg_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;

    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = fg_realloc(b->data, cap);
    b->cap = cap;
}

void fg_buf_append(struct fg_buf *b, const void *p, size_t n)
{
    fg_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void fg_buf_puts(struct fg_buf *b, const char *s)
{
    fg_buf_append(b, s, strlen(s));
}

void fg_buf_putc(struct fg_buf *b, char c)
{
    fg_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void fg_buf_printf(struct fg_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t room;
    int n;

    fg_buf_reserve(b, 64);
    room = b->cap - b->len;
    /* One pass when it fits (the usual case); a second into a buffer grown
     * to the length the first one told. */
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        fg_buf_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

size_t fg_fmt_u64(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    dst[n] = '\0';
    return n;
}

size_t fg_fmt_i64(char *dst, int64_t v)
{
    if (v >= 0)
        return fg_fmt_u64(dst, (uint64_t)v);
    dst[0] = '-';
    /* -(v + 1) + 1: no overflow at INT64_MIN */
    return 1 + fg_fmt_u64(dst + 1, (uint64_t)(-(v + 1)) + 1);
}

void fg_buf_put_i64(struct fg_buf *b, int64_t v)
{
    fg_buf_reserve(b, FG_FMT_INT_MAX);
    b->len += fg_fmt_i64(b->data + b->len, v);
}

void fg_buf_put_u64(struct fg_buf *b, uint64_t v)
{
    fg_buf_reserve(b, FG_FMT_INT_MAX);
    b->len += fg_fmt_u64(b->data + b->len, v);
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int fg_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

void fg_buf_json_str(struct fg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;

    fg_buf_reserve(b, n + 2);
    b->data[b->len++] = '"';
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            /* Copy the longest plain ASCII run in one go. */
            size_t j = i + 1;
            while (j < n && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\')
                j++;
            fg_buf_append(b, p + i, j - i);
            i = j;
            continue;
        }
        if (c >= 0x80) {
            size_t k = utf8_seq(p + i, n - i);
            if (k) {
                fg_buf_append(b, p + i, k);
                i += k;
            } else {
                fg_buf_puts(b, "\\ufffd");
                i++;
            }
            continue;
        }
        switch (c) {
        case '"': fg_buf_puts(b, "\\\""); break;
        case '\\': fg_buf_puts(b, "\\\\"); break;
        case '\n': fg_buf_puts(b, "\\n"); break;
        case '\r': fg_buf_puts(b, "\\r"); break;
        case '\t': fg_buf_puts(b, "\\t"); break;
        default: {
            char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            fg_buf_puts(b, esc);
        }
        }
        i++;
    }
    fg_buf_putc(b, '"');
}

void fg_buf_json_cstr(struct fg_buf *b, const char *s)
{
    if (!s)
        fg_buf_puts(b, "null");
    else
        fg_buf_json_str(b, s, strlen(s));
}

void fg_buf_base64(struct fg_buf *b, const void *data, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    size_t i;

    fg_buf_reserve(b, (n + 2) / 3 * 4);
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char o[4] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63]};
        fg_buf_append(b, o, 4);
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        char o[4] = {tab[v >> 18], tab[(v >> 12) & 63],
                     i + 1 < n ? tab[(v >> 6) & 63] : '=', '='};
        fg_buf_append(b, o, 4);
    }
}
