/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_reader.h: parallel parsing of JSON Lines input, in order.
 *
 * Parsing is the wall of a replay (Jansson), so it runs on every core: a
 * reader thread cuts the input into chunks of lines, worker threads parse
 * whole chunks into claims, and the caller takes chunks back strictly in
 * input order. The detectors and their state see exactly the sequence a
 * single-threaded replay would, so results stay deterministic.
 */
#ifndef FG_READER_H
#define FG_READER_H

#include <stddef.h>
#include <stdint.h>

#include "fg_event.h"

struct fg_item {
    const char *raw;        /* the line as read, without its newline */
    size_t len;
    const char *label;      /* input name for messages ("<stdin>" for -) */
    long long line;         /* 1-based line number in that input */
    int blank;              /* only white space: skipped, not quarantined */
    struct fg_claim *claim; /* parsed event, or NULL (then `why` says why) */
    char why[256];
};

struct fg_chunk {
    struct fg_item *items;
    size_t n;
};

struct fg_reader;

/**
 * Start reading `inputs` (paths, "-" = stdin, gzip transparent) one after
 * the other with `threads` parser threads (>= 1). Lines longer than
 * max_bytes are not parsed and carry the reason "event too large".
 */
struct fg_reader *fg_reader_start(const char *const *inputs, size_t ninputs,
                                  size_t max_bytes, int threads);
/**
 * The next chunk in input order, or NULL at the end (or after an input
 * error: see fg_reader_error). The caller owns the claims in the chunk
 * (and frees them or sets items[i].claim = NULL); fg_reader_release()
 * frees the rest.
 */
struct fg_chunk *fg_reader_next(struct fg_reader *r);
void fg_reader_release(struct fg_reader *r, struct fg_chunk *c);
/** Non-NULL when an input could not be opened or read. */
const char *fg_reader_error(const struct fg_reader *r);
/**
 * The SHA-256 of input k's bytes as read (the file's bytes, compressed or
 * not: what sha256sum of it prints) and their number, computed while
 * reading. Only once the reader is done (fg_reader_next returned NULL) and
 * input k was read to its end, and once per input; else -1.
 */
int fg_reader_digest(struct fg_reader *r, size_t k, unsigned char sha256[32], uint64_t *bytes);
/** Stop early (if needed), join the threads and free everything. */
void fg_reader_free(struct fg_reader *r);

#endif
