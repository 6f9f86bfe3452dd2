/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_util.c: the helpers of fuzz.h.
 */
#define _XOPEN_SOURCE 700   /* nftw */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "FUZZ CHECK FAILED at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

static char tmpdir[4096];
static pid_t tmpdir_owner;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tmpdir(void)
{
    /* A forked child (none today) must not remove its parent's folder. */
    if (tmpdir[0] && getpid() == tmpdir_owner)
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fz_tmpdir(void)
{
    const char *base;

    if (tmpdir[0])
        return tmpdir;
    base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(tmpdir, sizeof(tmpdir), "%s/fgfuzz.XXXXXX", base);
    if (!mkdtemp(tmpdir))
        fz_fail(__FILE__, __LINE__, "mkdtemp %s: %s", tmpdir, strerror(errno));
    tmpdir_owner = getpid();
    atexit(rm_tmpdir);
    return tmpdir;
}

char *fz_tmp_path(const char *name)
{
    const char *d = fz_tmpdir();
    size_t n = strlen(d) + strlen(name) + 2;
    char *p = malloc(n);

    if (!p)
        abort();
    snprintf(p, n, "%s/%s", d, name);
    return p;
}

void fz_write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const char *p = data;

    if (fd < 0)
        fz_fail(__FILE__, __LINE__, "open %s: %s", path, strerror(errno));
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fz_fail(__FILE__, __LINE__, "write %s: %s", path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    if (close(fd))
        fz_fail(__FILE__, __LINE__, "close %s: %s", path, strerror(errno));
}

uint8_t fz_u8(struct fz_in *in)
{
    uint8_t v = 0;

    if (in->n) {
        v = in->p[0];
        in->p++;
        in->n--;
    }
    return v;
}

uint32_t fz_u32(struct fz_in *in)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++)
        v |= (uint32_t)fz_u8(in) << (8 * i);
    return v;
}

uint64_t fz_u64(struct fz_in *in)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v |= (uint64_t)fz_u8(in) << (8 * i);
    return v;
}

char *fz_str(struct fz_in *in)
{
    const uint8_t *nul = in->n ? memchr(in->p, 0, in->n) : NULL;
    size_t len = nul ? (size_t)(nul - in->p) : in->n;
    char *s = malloc(len + 1);

    if (!s)
        abort();
    if (len)
        memcpy(s, in->p, len);
    s[len] = '\0';
    in->p += len;
    in->n -= len;
    if (nul) {
        in->p++;
        in->n--;
    }
    return s;
}
