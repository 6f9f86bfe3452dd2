/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_reader.c: reader thread -> parser threads -> in-order hand-off.
 *
 * Chunks live in a ring of FG_RING slots indexed by sequence number. A
 * slot is FREE, READ (waiting for a parser), PARSING or DONE. The reader
 * fills slots while fewer than FG_RING chunks are in flight, parsers take
 * the oldest READ slot, and the caller takes slot `next_take` once DONE.
 * One mutex guards the ring; the work itself runs unlocked.
 */
#include "fg_reader.h"
#include "fg_common.h"
#include "fg_sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define FG_RING 16
#define FG_CHUNK_LINES 256
#define FG_CHUNK_BYTES (4u << 20)

enum slot_state { SLOT_FREE, SLOT_READ, SLOT_PARSING, SLOT_DONE };

struct chunk_buf {
    struct fg_chunk c;
    char *data;          /* every raw line of the chunk, back to back */
    size_t used, cap;
    size_t *off;         /* offset of each item's raw bytes in data */
};

struct fg_reader {
    const char *const *inputs;
    size_t ninputs;
    size_t max_bytes;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done, cv_space;
    struct chunk_buf *slot[FG_RING];
    enum slot_state state[FG_RING];
    unsigned long long next_read, next_take;
    int reader_done, stop;
    char error[512];
    pthread_t reader;
    pthread_t *workers;
    int nworkers;
    /* Per input, written by the reader thread before reader_done. */
    struct fg_sha256 *sha;
    uint64_t *nbytes;
    int *complete;       /* read to its end */
};

/* ---- raw input: plain or gzip, hashed as read ---- */

/*
 * The input's bytes are read here, not by gzread, so that they can be
 * hashed on the way in (the replay manifest's sha256 of the input, equal
 * to sha256sum of the file) with no second pass. gzip is recognised by its
 * magic bytes as gzread does: concatenated members are read one after the
 * other, and anything after the last member that is not another member is
 * ignored (but still hashed: it was read).
 */
enum src_kind { SRC_UNKNOWN, SRC_PLAIN, SRC_GZIP, SRC_DRAIN };

struct lines {
    int fd;
    enum src_kind kind;
    z_stream zs;
    int zinit;
    unsigned char *in;   /* raw bytes read, not yet consumed: in[ipos..ilen) */
    size_t ipos, ilen, icap;
    int in_eof;
    struct fg_sha256 *sha;
    uint64_t *nbytes;
    const char *zerr;    /* reason of a decompression error */
    char *buf;           /* decompressed text: buf[start..end) unread */
    size_t cap, start, end;
    int eof;
};

/* More raw bytes into in[]; hashes them. 1, 0 at the end, -1 on error. */
static int raw_fill(struct lines *r)
{
    ssize_t n;

    if (r->in_eof)
        return 0;
    if (r->ipos > 0) {
        memmove(r->in, r->in + r->ipos, r->ilen - r->ipos);
        r->ilen -= r->ipos;
        r->ipos = 0;
    }
    if (r->icap - r->ilen < 65536) {
        r->icap = r->icap ? r->icap * 2 : 1 << 18;
        r->in = fg_realloc(r->in, r->icap);
    }
    do
        n = read(r->fd, r->in + r->ilen, r->icap - r->ilen);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        r->zerr = strerror(errno);
        return -1;
    }
    if (n == 0) {
        r->in_eof = 1;
        return 0;
    }
    fg_sha256_update(r->sha, r->in + r->ilen, (size_t)n);
    *r->nbytes += (uint64_t)n;
    r->ilen += (size_t)n;
    return 1;
}

/* At least `want` unconsumed raw bytes, unless the input ends first. */
static int raw_want(struct lines *r, size_t want)
{
    while (r->ilen - r->ipos < want) {
        int rc = raw_fill(r);
        if (rc <= 0)
            return rc;
    }
    return 1;
}

static int gzip_magic(const struct lines *r)
{
    return r->ilen - r->ipos >= 2 && r->in[r->ipos] == 0x1f && r->in[r->ipos + 1] == 0x8b;
}

/* Up to n bytes of text into dst. Returns the count, 0 at the end, -1 on
 * an error (r->zerr says which). */
static ssize_t src_read(struct lines *r, char *dst, size_t n)
{
    for (;;) {
        if (r->kind == SRC_UNKNOWN) {
            if (raw_want(r, 2) < 0)
                return -1;
            r->kind = gzip_magic(r) ? SRC_GZIP : SRC_PLAIN;
            if (r->kind == SRC_GZIP) {
                if (inflateInit2(&r->zs, 15 + 16) != Z_OK) {
                    r->zerr = "cannot start gzip decompression";
                    return -1;
                }
                r->zinit = 1;
            }
        }
        if (r->kind == SRC_PLAIN) {
            size_t have = r->ilen - r->ipos;
            if (have == 0) {
                int rc = raw_fill(r);
                if (rc <= 0)
                    return rc;
                continue;
            }
            if (have > n)
                have = n;
            memcpy(dst, r->in + r->ipos, have);
            r->ipos += have;
            return (ssize_t)have;
        }
        if (r->kind == SRC_DRAIN) {
            /* Past the last gzip member: read (and hash) to the end. */
            int rc;
            r->ipos = r->ilen;
            while ((rc = raw_fill(r)) > 0)
                r->ipos = r->ilen;
            return rc < 0 ? -1 : 0;
        }
        /* gzip */
        if (r->ipos == r->ilen && raw_fill(r) < 0)
            return -1;
        r->zs.next_in = r->in + r->ipos;
        r->zs.avail_in = (uInt)(r->ilen - r->ipos);
        r->zs.next_out = (Bytef *)dst;
        r->zs.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
        uInt out0 = r->zs.avail_out;
        int zr = inflate(&r->zs, Z_NO_FLUSH);
        size_t produced = out0 - r->zs.avail_out;
        r->ipos = r->ilen - r->zs.avail_in;
        if (zr == Z_STREAM_END) {
            /* Another member follows, or the gzip data is over. */
            if (raw_want(r, 2) < 0)
                return -1;
            if (gzip_magic(r))
                inflateReset(&r->zs);
            else
                r->kind = SRC_DRAIN;
        } else if (zr == Z_BUF_ERROR || (zr == Z_OK && produced == 0)) {
            if (r->ipos == r->ilen && r->in_eof) {
                r->zerr = "unexpected end of file";
                return -1;
            }
        } else if (zr != Z_OK) {
            r->zerr = r->zs.msg ? r->zs.msg : "invalid gzip data";
            return -1;
        }
        if (produced)
            return (ssize_t)produced;
    }
}

/* ---- line reading (any line length) ---- */

static int next_line(struct lines *r, char **line, size_t *len)
{
    for (;;) {
        char *nl = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start)
                                      : NULL;
        if (nl) {
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line);
            r->start = (size_t)(nl - r->buf) + 1;
            return 1;
        }
        if (r->eof) {
            if (r->end > r->start) {
                *line = r->buf + r->start;
                *len = r->end - r->start;
                r->start = r->end;
                return 1;
            }
            return 0;
        }
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->cap - r->end < 65536) {
            r->cap = r->cap ? r->cap * 2 : 1 << 20;
            r->buf = fg_realloc(r->buf, r->cap);
        }
        ssize_t n = src_read(r, r->buf + r->end, r->cap - r->end);
        if (n < 0)
            return -1;
        if (n == 0)
            r->eof = 1;
        r->end += (size_t)n;
    }
}

/* ---- chunks ---- */

static struct chunk_buf *chunk_new(void)
{
    struct chunk_buf *b = fg_calloc(1, sizeof(*b));
    b->c.items = fg_calloc(FG_CHUNK_LINES, sizeof(*b->c.items));
    b->off = fg_calloc(FG_CHUNK_LINES, sizeof(*b->off));
    return b;
}

static void chunk_add(struct chunk_buf *b, const char *label, long long lineno,
                      const char *line, size_t len)
{
    struct fg_item *it = &b->c.items[b->c.n];

    if (b->used + len + 1 > b->cap) {
        b->cap = (b->used + len + 1) * 2;
        b->data = fg_realloc(b->data, b->cap);
    }
    memcpy(b->data + b->used, line, len);
    b->data[b->used + len] = '\0';
    b->off[b->c.n] = b->used;
    b->used += len + 1;
    memset(it, 0, sizeof(*it));
    it->len = len;
    it->label = label;
    it->line = lineno;
    b->c.n++;
}

static void chunk_free(struct chunk_buf *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->c.n; i++)
        fg_claim_free(b->c.items[i].claim);
    free(b->c.items);
    free(b->off);
    free(b->data);
    free(b);
}

/* Hand a full chunk to the parsers; waits while the ring is full.
 * Returns -1 when the reader must stop. */
static int publish(struct fg_reader *r, struct chunk_buf *b)
{
    int rc = 0;

    pthread_mutex_lock(&r->mu);
    while (!r->stop && r->next_read - r->next_take >= FG_RING)
        pthread_cond_wait(&r->cv_space, &r->mu);
    if (r->stop) {
        rc = -1;
    } else {
        unsigned k = (unsigned)(r->next_read % FG_RING);
        r->slot[k] = b;
        r->state[k] = SLOT_READ;
        r->next_read++;
        pthread_cond_signal(&r->cv_work);
    }
    pthread_mutex_unlock(&r->mu);
    if (rc)
        chunk_free(b);
    return rc;
}

static void *reader_main(void *arg)
{
    struct fg_reader *r = arg;
    struct chunk_buf *b = chunk_new();

    for (size_t k = 0; k < r->ninputs; k++) {
        const char *path = r->inputs[k];
        const char *label = strcmp(path, "-") == 0 ? "<stdin>" : path;
        struct lines in = {0};
        long long lineno = 0;
        char *line;
        size_t len;
        int rc;

        in.fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
        if (in.fd < 0) {
            snprintf(r->error, sizeof(r->error), "cannot read input %s: %s", label,
                     strerror(errno));
            break;
        }
        in.sha = &r->sha[k];
        in.nbytes = &r->nbytes[k];
        while ((rc = next_line(&in, &line, &len)) == 1) {
            chunk_add(b, label, ++lineno, line, len);
            if (b->c.n == FG_CHUNK_LINES || b->used >= FG_CHUNK_BYTES) {
                if (publish(r, b)) {
                    b = NULL;
                    break;
                }
                b = chunk_new();
            }
        }
        if (rc < 0)
            snprintf(r->error, sizeof(r->error), "read error in %s at line %lld: %s", label,
                     lineno + 1, in.zerr ? in.zerr : "read failed");
        else if (rc == 0)
            r->complete[k] = 1;
        if (in.zinit)
            inflateEnd(&in.zs);
        close(in.fd);
        free(in.in);
        free(in.buf);
        if (!b || r->error[0])
            break;
    }
    if (b && b->c.n && !r->error[0])
        publish(r, b);
    else
        chunk_free(b);
    pthread_mutex_lock(&r->mu);
    r->reader_done = 1;
    pthread_cond_broadcast(&r->cv_work);
    pthread_cond_broadcast(&r->cv_done);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void parse_chunk(struct fg_reader *r, struct chunk_buf *b)
{
    for (size_t i = 0; i < b->c.n; i++) {
        struct fg_item *it = &b->c.items[i];
        size_t l = it->len;

        it->raw = b->data + b->off[i];
        while (l && (it->raw[l - 1] == '\r' || it->raw[l - 1] == ' ' ||
                     it->raw[l - 1] == '\t'))
            l--;
        if (l == 0) {
            it->blank = 1;
        } else if (l > r->max_bytes) {
            snprintf(it->why, sizeof(it->why), "event too large: %zu bytes > %zu", l,
                     r->max_bytes);
        } else if (fg_claim_parse(it->raw, l, &it->claim, it->why, sizeof(it->why))) {
            it->claim = NULL;
        }
    }
}

static void *worker_main(void *arg)
{
    struct fg_reader *r = arg;

    pthread_mutex_lock(&r->mu);
    for (;;) {
        unsigned long long s;
        unsigned k = 0;
        int found = 0;

        for (s = r->next_take; s < r->next_read; s++) {
            k = (unsigned)(s % FG_RING);
            if (r->state[k] == SLOT_READ) {
                found = 1;
                break;
            }
        }
        if (!found) {
            if (r->reader_done || r->stop)
                break;
            pthread_cond_wait(&r->cv_work, &r->mu);
            continue;
        }
        r->state[k] = SLOT_PARSING;
        struct chunk_buf *b = r->slot[k];
        pthread_mutex_unlock(&r->mu);
        parse_chunk(r, b);
        pthread_mutex_lock(&r->mu);
        r->state[k] = SLOT_DONE;
        pthread_cond_broadcast(&r->cv_done);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

struct fg_reader *fg_reader_start(const char *const *inputs, size_t ninputs,
                                  size_t max_bytes, int threads)
{
    struct fg_reader *r = fg_calloc(1, sizeof(*r));

    r->inputs = inputs;
    r->ninputs = ninputs;
    r->max_bytes = max_bytes;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv_work, NULL);
    pthread_cond_init(&r->cv_done, NULL);
    pthread_cond_init(&r->cv_space, NULL);
    r->sha = fg_calloc(ninputs ? ninputs : 1, sizeof(*r->sha));
    r->nbytes = fg_calloc(ninputs ? ninputs : 1, sizeof(*r->nbytes));
    r->complete = fg_calloc(ninputs ? ninputs : 1, sizeof(*r->complete));
    for (size_t k = 0; k < ninputs; k++)
        fg_sha256_init(&r->sha[k]);
    r->nworkers = threads < 1 ? 1 : threads;
    r->workers = fg_calloc((size_t)r->nworkers, sizeof(*r->workers));
    FG_ASSERT(pthread_create(&r->reader, NULL, reader_main, r) == 0);
    for (int i = 0; i < r->nworkers; i++)
        FG_ASSERT(pthread_create(&r->workers[i], NULL, worker_main, r) == 0);
    return r;
}

struct fg_chunk *fg_reader_next(struct fg_reader *r)
{
    struct chunk_buf *b = NULL;

    pthread_mutex_lock(&r->mu);
    for (;;) {
        unsigned k = (unsigned)(r->next_take % FG_RING);
        if (r->next_take < r->next_read && r->state[k] == SLOT_DONE) {
            b = r->slot[k];
            r->slot[k] = NULL;
            r->state[k] = SLOT_FREE;
            r->next_take++;
            pthread_cond_signal(&r->cv_space);
            break;
        }
        if (r->reader_done && r->next_take == r->next_read)
            break;
        pthread_cond_wait(&r->cv_done, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    if (b)
        for (size_t i = 0; i < b->c.n; i++)
            b->c.items[i].raw = b->data + b->off[i];
    return b ? &b->c : NULL;
}

void fg_reader_release(struct fg_reader *r, struct fg_chunk *c)
{
    (void)r;
    /* The chunk is the first member of its buffer. */
    chunk_free((struct chunk_buf *)(void *)c);
}

const char *fg_reader_error(const struct fg_reader *r)
{
    return r->error[0] ? r->error : NULL;
}

void fg_reader_free(struct fg_reader *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv_space);
    pthread_cond_broadcast(&r->cv_work);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->reader, NULL);
    for (int i = 0; i < r->nworkers; i++)
        pthread_join(r->workers[i], NULL);
    for (unsigned k = 0; k < FG_RING; k++)
        chunk_free(r->slot[k]);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv_work);
    pthread_cond_destroy(&r->cv_done);
    pthread_cond_destroy(&r->cv_space);
    free(r->workers);
    free(r->sha);
    free(r->nbytes);
    free(r->complete);
    free(r);
}

int fg_reader_digest(struct fg_reader *r, size_t k, unsigned char sha256[32], uint64_t *bytes)
{
    int done;

    pthread_mutex_lock(&r->mu);
    done = r->reader_done && k < r->ninputs && r->complete[k];
    pthread_mutex_unlock(&r->mu);
    if (!done)
        return -1;
    *bytes = r->nbytes[k];
    fg_sha256_final(&r->sha[k], sha256);
    fg_sha256_init(&r->sha[k]);   /* a second call gets no stale digest */
    r->complete[k] = 0;
    return 0;
}
