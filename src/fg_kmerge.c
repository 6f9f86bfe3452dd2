/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_kmerge.c: k-way merge by (key, source, seq). Each source is a FIFO
 * (an array with a head index, compacted when it fills); pop scans the
 * sources' heads. A topic has tens of partitions, so the scan costs less
 * than a heap would in bookkeeping, and it sees at once whether a source
 * that has not ended is empty: then nothing may go out, since that
 * source's next item could be the smallest.
 */
#include "fg_kmerge.h"
#include "fg_common.h"

#include <string.h>

struct source {
    struct fg_kmerge_item *q;   /* q[head..n) waiting */
    size_t head, n, cap;
    int ended;
};

struct fg_kmerge {
    struct source *src;
    int nsrc;
};

struct fg_kmerge *fg_kmerge_new(int nsrc)
{
    struct fg_kmerge *m = fg_calloc(1, sizeof(*m));

    FG_ASSERT(nsrc >= 0);
    m->nsrc = nsrc;
    m->src = fg_calloc(nsrc > 0 ? (size_t)nsrc : 1, sizeof(*m->src));
    return m;
}

void fg_kmerge_free(struct fg_kmerge *m, void (*free_item)(void *ptr))
{
    if (!m)
        return;
    for (int i = 0; i < m->nsrc; i++) {
        struct source *s = &m->src[i];
        for (size_t k = s->head; free_item && k < s->n; k++)
            free_item(s->q[k].ptr);
        free(s->q);
    }
    free(m->src);
    free(m);
}

void fg_kmerge_push(struct fg_kmerge *m, int src, int64_t key, int64_t seq, void *ptr)
{
    struct source *s;

    FG_ASSERT(src >= 0 && src < m->nsrc && !m->src[src].ended);
    s = &m->src[src];
    if (s->head > 0 && s->n == s->cap) {
        memmove(s->q, s->q + s->head, (s->n - s->head) * sizeof(*s->q));
        s->n -= s->head;
        s->head = 0;
    }
    FG_VEC_GROW(s->q, s->n, s->cap, 64);
    s->q[s->n++] = (struct fg_kmerge_item){key, seq, ptr};
}

void fg_kmerge_end(struct fg_kmerge *m, int src)
{
    FG_ASSERT(src >= 0 && src < m->nsrc);
    m->src[src].ended = 1;
}

int fg_kmerge_ended(const struct fg_kmerge *m, int src)
{
    return m->src[src].ended;
}

size_t fg_kmerge_waiting(const struct fg_kmerge *m, int src)
{
    return m->src[src].n - m->src[src].head;
}

int fg_kmerge_pop(struct fg_kmerge *m, int *src, struct fg_kmerge_item *out)
{
    int best = -1;

    for (int i = 0; i < m->nsrc; i++) {
        const struct source *s = &m->src[i];
        if (s->head == s->n) {
            if (!s->ended)
                return 0;   /* its next item may be the smallest */
            continue;
        }
        /* Strictly smaller: a tie stays with the lower source. Within a
         * source, items leave in the order they came (seq). */
        if (best < 0 || s->q[s->head].key < m->src[best].q[m->src[best].head].key)
            best = i;
    }
    if (best < 0)
        return 0;
    struct source *s = &m->src[best];
    *out = s->q[s->head++];
    *src = best;
    if (s->head == s->n)
        s->head = s->n = 0;
    return 1;
}
