/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_kmerge.h: a k-way merge of sources that deliver their items in order
 * (the partitions of a topic), by (key, source, seq): the item with the
 * smallest key goes first, ties to the lower source, then the lower seq.
 * An item is handed out only while every source that has not ended has
 * an item waiting, so the merged order does not depend on how the
 * sources' deliveries interleave: `replay --topic` merges partitions by
 * event time with it (fg_replay_topic.c).
 *
 * Not thread-safe: one thread pushes and pops.
 */
#ifndef FG_KMERGE_H
#define FG_KMERGE_H

#include <stddef.h>
#include <stdint.h>

struct fg_kmerge_item {
    int64_t key;    /* event time */
    int64_t seq;    /* order within the source (offset) */
    void *ptr;      /* the caller's */
};

struct fg_kmerge;

/** A merge of nsrc sources (0..nsrc-1), none ended. */
struct fg_kmerge *fg_kmerge_new(int nsrc);
/** Free the merge; free_item (if not NULL) gets each item still waiting. */
void fg_kmerge_free(struct fg_kmerge *m, void (*free_item)(void *ptr));

/** Append an item to source src (after the ones it delivered before). */
void fg_kmerge_push(struct fg_kmerge *m, int src, int64_t key, int64_t seq, void *ptr);
/** Source src delivers nothing more; what it has waiting still goes out. */
void fg_kmerge_end(struct fg_kmerge *m, int src);
int fg_kmerge_ended(const struct fg_kmerge *m, int src);
/** Items of src waiting to be handed out. */
size_t fg_kmerge_waiting(const struct fg_kmerge *m, int src);

/**
 * The next item in merged order into *out (and its source into *src).
 * Returns 1, or 0 when nothing can go out yet (a source that has not
 * ended has nothing waiting) or nothing is left.
 */
int fg_kmerge_pop(struct fg_kmerge *m, int *src, struct fg_kmerge_item *out);

#endif
