/* SPDX-License-Identifier: Apache-2.0
 *
 * driver.c: runs a fuzz harness without libFuzzer: every file named on
 * the command line (a folder stands for the files in it, sorted) is read
 * and passed once to LLVMFuzzerTestOneInput. The plain (gcc) build links
 * each harness with this file, so `ctest` replays the regression inputs
 * and the seeds there too (tests/fuzz/regress.cmake); a failing property
 * aborts, which fails the test.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static size_t ran;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL, *exact;
    size_t len = 0, cap = 0, r;

    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            if (!buf)
                abort();
        }
        r = fread(buf + len, 1, cap - len, f);
        if (r == 0)
            break;
        len += r;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: read error\n", path);
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    /* A buffer of exactly the input's size, as libFuzzer passes it, so a
     * sanitized build sees any read past the end. */
    exact = malloc(len ? len : 1);
    if (!exact)
        abort();
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    fprintf(stderr, "Running: %s\n", path);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    ran++;
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path)
{
    struct stat st;
    struct dirent **ents;
    int n, rc = 0;

    if (stat(path, &st)) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    n = scandir(path, &ents, NULL, by_name);
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.') {
            size_t len = strlen(path) + strlen(ents[i]->d_name) + 2;
            char *p = malloc(len);
            if (!p)
                abort();
            snprintf(p, len, "%s/%s", path, ents[i]->d_name);
            if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && run_file(p))
                rc = -1;
            free(p);
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i]))
            rc = 1;
    fprintf(stderr, "%s: %zu inputs run%s\n", argv[0], ran, rc ? ", some unreadable" : "");
    return rc;
}
