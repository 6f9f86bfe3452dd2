/* SPDX-License-Identifier: Apache-2.0
 *
 * fg_map.c: linear probing at load factor <= 1/2.
 */
#include "fg_map.h"
#include "fg_common.h"
#include "fg_hash.h"

#include <string.h>

void fg_map_init(struct fg_map *m)
{
    m->slots = NULL;
    m->cap = m->count = 0;
}

void fg_map_fini(struct fg_map *m)
{
    free(m->slots);
    fg_map_init(m);
}

static size_t find(const struct fg_map *m, const char *key, size_t klen,
                   uint64_t h)
{
    size_t mask = m->cap - 1, i = h & mask;

    while (m->slots[i].key) {
        const struct fg_map_slot *s = &m->slots[i];
        if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

void *fg_map_get(const struct fg_map *m, const char *key, size_t klen)
{
    size_t i;

    if (!m->count)
        return NULL;
    i = find(m, key, klen, fg_hash64(key, klen));
    return m->slots[i].key ? m->slots[i].val : NULL;
}

static void grow(struct fg_map *m)
{
    struct fg_map_slot *old = m->slots;
    size_t oldcap = m->cap;

    m->cap = oldcap ? oldcap * 2 : 16;
    m->slots = fg_calloc(m->cap, sizeof(*m->slots));
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key)
            m->slots[find(m, old[i].key, old[i].klen, old[i].hash)] = old[i];
    free(old);
}

void *fg_map_put(struct fg_map *m, const char *key, size_t klen, void *val)
{
    uint64_t h = fg_hash64(key, klen);
    size_t i;
    void *prev;

    if ((m->count + 1) * 2 > m->cap)
        grow(m);
    i = find(m, key, klen, h);
    if (m->slots[i].key) {
        prev = m->slots[i].val;
        m->slots[i].val = val;
        m->slots[i].key = key;
        return prev;
    }
    m->slots[i] = (struct fg_map_slot){key, klen, h, val};
    m->count++;
    return NULL;
}

void *fg_map_del(struct fg_map *m, const char *key, size_t klen)
{
    size_t mask, i, j;
    void *val;

    if (!m->count)
        return NULL;
    mask = m->cap - 1;
    i = find(m, key, klen, fg_hash64(key, klen));
    if (!m->slots[i].key)
        return NULL;
    val = m->slots[i].val;
    /* Backward-shift: pull later entries of the probe run into the hole
     * when their home slot does not lie cyclically in (i, j]. */
    j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].key)
            break;
        size_t home = m->slots[j].hash & mask;
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = NULL;
    m->count--;
    return val;
}
