/* arena.c - chunks of 64 KiB, or one chunk of its own for large requests. */
#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK (64u * 1024u)

struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, off;
    _Alignas(16) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need;
    if (!cxm_add_size(n, 15, &need))
        return NULL;
    need &= ~(size_t)15;
    struct arena_chunk *c = a->head;
    if (!c || c->cap - c->off < need) {
        size_t cap = need > CHUNK ? need : CHUNK, bytes;
        if (!cxm_add_size(sizeof *c, cap, &bytes) || !(c = malloc(bytes)))
            return NULL;
        c->cap = cap;
        c->off = 0;
        if (a->head && need > CHUNK) {
            /* keep filling the current chunk after a large one */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->off;
    c->off += need;
    a->used += need;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    size_t sz;
    if (!cxm_add_size(n, 1, &sz))
        return NULL;
    char *d = arena_alloc(a, sz);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void arena_free(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}
