/* arena.h - bump allocator for data that lives as long as one request or
 * one batch; freed all at once. Not thread-safe. */
#ifndef CXM_ARENA_H
#define CXM_ARENA_H

#include "common.h"

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t used;        /* bytes handed out, for limits and metrics */
};

/* Zeroed memory of n bytes, 16-byte aligned; NULL on OOM. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);    /* leaves a reusable empty arena */

#endif
