/* SPDX-License-Identifier: Apache-2.0
 *
 * parse_only.c: the baseline the replay benchmark is measured against: a
 * single-threaded pass that reads the same JSON Lines file (gzip or
 * plain) and parses each line with Jansson, then frees it. It prints the
 * events and fee lines it saw and the time it took.
 *
 * With --claims, each line goes through fundguard's own claim parser
 * (fg_claim_parse: the scanner, Jansson where it is unsure) instead, also
 * on one thread: the same pass, for the reader's own rate.
 */
#include "fg_event.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    gzFile gz;
    size_t cap = 1 << 20, len = 0, start = 0;
    char *buf;
    unsigned long long events = 0, lines = 0, bad = 0;
    double t0;
    int eof = 0, claims = argc == 3 && strcmp(argv[1], "--claims") == 0;
    const char *path = argv[argc - 1];

    if (argc != 2 && !claims) {
        fprintf(stderr, "usage: parse_only [--claims] FILE\n");
        return 2;
    }
    gz = gzopen(path, "rb");
    if (!gz) {
        fprintf(stderr, "parse_only: cannot open %s\n", path);
        return 65;
    }
    gzbuffer(gz, 1 << 18);
    buf = malloc(cap);
    if (!buf)
        return 1;
    t0 = now();
    for (;;) {
        char *nl = len > start ? memchr(buf + start, '\n', len - start) : NULL;
        if (!nl && !eof) {
            memmove(buf, buf + start, len - start);
            len -= start;
            start = 0;
            if (cap - len < 65536) {
                cap *= 2;
                buf = realloc(buf, cap);
                if (!buf)
                    return 1;
            }
            int n = gzread(gz, buf + len, (unsigned)(cap - len));
            if (n <= 0)
                eof = 1;
            else
                len += (size_t)n;
            continue;
        }
        size_t end = nl ? (size_t)(nl - buf) : len;
        if (end > start && claims) {
            struct fg_claim *c;
            char why[256];
            if (fg_claim_parse(buf + start, end - start, &c, why, sizeof(why)) == 0) {
                events++;
                lines += c->nlines;
                fg_claim_free(c);
            } else {
                bad++;
            }
        } else if (end > start) {
            json_error_t err;
            json_t *root = json_loadb(buf + start, end - start, 0, &err);
            if (root) {
                events++;
                lines += json_array_size(json_object_get(root, "feedetail"));
                json_decref(root);
            } else {
                bad++;
            }
        }
        if (!nl)
            break;
        start = end + 1;
    }
    double secs = now() - t0;
    printf("parse_only%s: events=%llu lines=%llu bad=%llu seconds=%.3f lines_per_sec=%.0f\n",
           claims ? " --claims" : "", events, lines, bad, secs, secs > 0 ? (double)lines / secs : 0.0);
    gzclose(gz);
    free(buf);
    return 0;
}
