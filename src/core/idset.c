/* idset.c - linear probing over 64-bit words. The bucket comes from the
 * hash's low bits and the fingerprint from its high 32 bits, so two ids
 * share an entry only when 32 + log2(cap) bits collide. Load stays under
 * 0.75 (growth doubles and reinserts). */
#include "core/idset.h"

#include <stdlib.h>

#include "core/strmap.h"

uint64_t idset_hash(const char *id, size_t len)
{
    return strmap_hash(id, len);
}

static uint32_t fp_of(uint64_t h)
{
    uint32_t fp = (uint32_t)(h >> 32);
    return fp ? fp : 1;   /* keeps every entry non-zero */
}

/* Entries do not hold the full hash, so the bucket is recomputed from the
 * fingerprint when growing: the bucket is taken from the fingerprint too. */
static size_t home(uint32_t fp, size_t cap)
{
    uint64_t x = (uint64_t)fp * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & (cap - 1);
}

static void put(uint64_t *slots, size_t cap, uint64_t entry)
{
    size_t i = home((uint32_t)(entry >> 32), cap);
    while (slots[i])
        i = (i + 1) & (cap - 1);
    slots[i] = entry;
}

int idset_add(struct idset *s, uint64_t h, uint32_t row)
{
    if ((s->count + 1) * 4 > s->cap * 3) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return CXM_ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i])
                put(ns, ncap, s->slots[i]);
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
    }
    put(s->slots, s->cap, (uint64_t)fp_of(h) << 32 | row);
    s->count++;
    return CXM_OK;
}

uint64_t idset_entry(uint64_t h, uint32_t row)
{
    return (uint64_t)fp_of(h) << 32 | row;
}

int idset_build(struct idset *s, uint64_t *entries, size_t n)
{
    size_t cap = 1024;
    while (cap * 3 < (n + 1) * 4)
        cap *= 2;
    uint64_t *slots = calloc(cap, sizeof *slots);
    uint64_t *tmp = n ? malloc(n * sizeof *tmp) : NULL;
    if (!slots || (n && !tmp)) {
        free(slots);
        free(tmp);
        return CXM_ENOMEM;
    }
    /* LSD radix sort by home bucket, 11 bits a pass */
    unsigned bits = 0;
    while (((size_t)1 << bits) < cap)
        bits++;
    uint64_t *src = entries, *dst = tmp;
    for (unsigned shift = 0; shift < bits; shift += 11) {
        size_t count[2049] = {0};
        for (size_t i = 0; i < n; i++)
            count[((home((uint32_t)(src[i] >> 32), cap) >> shift) & 2047) + 1]++;
        for (size_t b = 1; b <= 2048; b++)
            count[b] += count[b - 1];
        for (size_t i = 0; i < n; i++)
            dst[count[(home((uint32_t)(src[i] >> 32), cap) >> shift) & 2047]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    for (size_t i = 0; i < n; i++)
        put(slots, cap, src[i]);
    free(tmp);
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    s->count = n;
    return CXM_OK;
}

uint32_t idset_next(const struct idset *s, uint64_t h, size_t *pos)
{
    if (!s->cap)
        return 0;
    uint32_t fp = fp_of(h);
    size_t mask = s->cap - 1;
    /* *pos counts the slots already probed from the home bucket */
    for (size_t i = (home(fp, s->cap) + *pos) & mask; *pos <= mask; i = (i + 1) & mask) {
        uint64_t e = s->slots[i];
        (*pos)++;
        if (!e)
            return 0;
        if ((uint32_t)(e >> 32) == fp)
            return (uint32_t)e;
    }
    return 0;
}

void idset_free(struct idset *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = s->count = 0;
}

size_t idset_bytes(const struct idset *s)
{
    return s->cap * sizeof *s->slots;
}

void idset_prefetch(const struct idset *s, uint64_t h)
{
    if (s->cap)
        __builtin_prefetch(&s->slots[home(fp_of(h), s->cap)]);
}
