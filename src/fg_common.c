/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_common.c: error strings, the stderr logger and checked allocation.
 */
#include "fg_common.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

int fg_log_level = FG_LOG_INFO;

const char *fg_strerror(int err)
{
    switch (err) {
    case FG_OK: return "success";
    case FG_ERR: return "failure";
    case FG_ENOMEM: return "out of memory";
    case FG_EINVAL: return "invalid argument";
    case FG_EAGAIN: return "temporarily unavailable";
    case FG_ERANGE: return "out of range";
    case FG_ENOENT: return "not found";
    default: return "unknown error";
    }
}

void fg_log_write(int level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    char ts[40];
    struct timespec now;
    struct tm tm;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "ts=%s.%03ldZ level=%s ", ts, now.tv_nsec / 1000000L,
            names[level < 0 ? 0 : level > 3 ? 3 : level]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void fg_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "level=fatal msg=\"assertion failed\" expr=\"%s\" at=%s:%d\n",
            expr, file, line);
    abort();
}

static void oom(size_t n)
{
    fprintf(stderr, "level=fatal msg=\"out of memory\" bytes=%zu\n", n);
    abort();
}

void *fg_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *fg_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *fg_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *fg_strndup(const char *s, size_t n)
{
    char *d = fg_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *fg_strdup(const char *s)
{
    return fg_strndup(s, strlen(s));
}

void fg_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n--)
        *v++ = 0;
}

void fg_free_secret(char *s)
{
    if (!s)
        return;
    fg_wipe(s, strlen(s));
    free(s);
}
