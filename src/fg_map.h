/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_map.h: an open-addressing hash map from byte-string keys to pointers.
 * Keys are borrowed: the caller keeps them alive as long as the entry.
 * Deletion uses backward shifting, so there are no tombstones.
 */
#ifndef FG_MAP_H
#define FG_MAP_H

#include <stddef.h>
#include <stdint.h>

struct fg_map_slot {
    const char *key;
    size_t klen;
    uint64_t hash;
    void *val;
};

struct fg_map {
    struct fg_map_slot *slots;
    size_t cap;   /* power of two */
    size_t count;
};

void fg_map_init(struct fg_map *m);
void fg_map_fini(struct fg_map *m);
/** The value for key, or NULL. */
void *fg_map_get(const struct fg_map *m, const char *key, size_t klen);
/** Insert or replace; returns the previous value or NULL. */
void *fg_map_put(struct fg_map *m, const char *key, size_t klen, void *val);
/** Remove; returns the removed value or NULL. */
void *fg_map_del(struct fg_map *m, const char *key, size_t klen);

/* Iterate: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ... */

#endif
