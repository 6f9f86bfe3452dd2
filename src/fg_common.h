/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_common.h: the few things every core file shares: the error enum,
 * exit codes, the logging macros and the always-on assertion.
 */
#ifndef FG_COMMON_H
#define FG_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Exit codes, CONTRACT §1. */
#define FG_EXIT_OK 0
#define FG_EXIT_RUNTIME 1
#define FG_EXIT_USAGE 2
#define FG_EXIT_DATAERR 65
#define FG_EXIT_CONFIG 78

/* Return codes of core functions: 0 is success, negatives are failures. */
enum fg_err {
    FG_OK = 0,
    FG_ERR = -1,      /* generic failure, details in errstr */
    FG_ENOMEM = -2,   /* allocation failed */
    FG_EINVAL = -3,   /* bad input or argument */
    FG_EAGAIN = -4,   /* state backend unavailable: retry the event */
    FG_ERANGE = -5,   /* value out of range */
    FG_ENOENT = -6,   /* not found */
};

const char *fg_strerror(int err);

/* Logging: key=value lines on stderr. The level is checked before any
 * argument is formatted. */
enum fg_log_level { FG_LOG_ERROR = 0, FG_LOG_WARN, FG_LOG_INFO, FG_LOG_DEBUG };
extern int fg_log_level;

void fg_log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define fg_log(lvl, ...)                                                       \
    do {                                                                       \
        if ((lvl) <= fg_log_level)                                             \
            fg_log_write((lvl), __VA_ARGS__);                                  \
    } while (0)
#define fg_log_error(...) fg_log(FG_LOG_ERROR, __VA_ARGS__)
#define fg_log_warn(...) fg_log(FG_LOG_WARN, __VA_ARGS__)
#define fg_log_info(...) fg_log(FG_LOG_INFO, __VA_ARGS__)
#define fg_log_debug(...) fg_log(FG_LOG_DEBUG, __VA_ARGS__)

/* Invariants stay checked in release builds: a broken invariant in a fund
 * checker must stop the process, not produce wrong alerts. Never use it on
 * input. */
#define FG_ASSERT(x)                                                           \
    do {                                                                       \
        if (!(x))                                                              \
            fg_assert_fail(#x, __FILE__, __LINE__);                            \
    } while (0)
void fg_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

/* Allocation wrappers that abort on out-of-memory: the daemon cannot make
 * progress without memory, and every caller checking NULL for 8-byte
 * allocations only multiplies untested paths. */
void *fg_malloc(size_t n);
void *fg_calloc(size_t n, size_t size);
void *fg_realloc(void *p, size_t n);
char *fg_strdup(const char *s);
char *fg_strndup(const char *s, size_t n);
/* Overwrite n bytes with zeros through a volatile pointer (not optimised
 * away): what held a secret. */
void fg_wipe(void *p, size_t n);
/* fg_wipe a secret string (a password, a key), then free it. NULL-safe. */
void fg_free_secret(char *s);

/* Make room for one more element in a growable array (arr, n, cap):
 * doubles the capacity, starting at `min`. */
#define FG_VEC_GROW(arr, n, cap, min)                                          \
    do {                                                                       \
        if ((n) == (cap)) {                                                    \
            (cap) = (cap) ? (cap) * 2 : (min);                                 \
            (arr) = fg_realloc((arr), (cap) * sizeof(*(arr)));                 \
        }                                                                      \
    } while (0)

#define FG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
