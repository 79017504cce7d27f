/* rollup.c - see rollup.h. */
#include "core/rollup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

void rollup_init(struct rollup *r)
{
    memset(r, 0, sizeof *r);
}

void rollup_free(struct rollup *r)
{
    free(r->cell);
    free(r->slot);
    rollup_init(r);
}

static uint64_t key_of(int32_t day, uint8_t kind, uint16_t value)
{
    return (uint64_t)(uint32_t)day << 24 | (uint64_t)kind << 16 | value;
}

static size_t hash_of(uint64_t key, size_t nslot)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (nslot - 1);
}

/* Doubles the slot table (or makes the first one) and re-inserts. */
static int rehash(struct rollup *r)
{
    size_t n = r->nslot ? r->nslot * 2 : 1024;
    uint32_t *s = cxm_calloc(n, sizeof *s);
    if (!s)
        return CXM_ENOMEM;
    for (size_t i = 0; i < r->n; i++) {
        const struct rollup_cell *c = &r->cell[i];
        size_t j = hash_of(key_of(c->day, c->kind, c->value), n);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = (uint32_t)i + 1;
    }
    free(r->slot);
    r->slot = s;
    r->nslot = n;
    return CXM_OK;
}

int rollup_add(struct rollup *r, int64_t ts, uint8_t kind, uint16_t value, double score)
{
    int32_t day = (int32_t)(ts / 86400);
    if (ts < 0)
        day = (int32_t)((ts - 86399) / 86400);
    if ((r->n + 1) * 2 > r->nslot && rehash(r))
        return CXM_ENOMEM;
    uint64_t key = key_of(day, kind, value);
    size_t j = hash_of(key, r->nslot);
    struct rollup_cell *c = NULL;
    for (; r->slot[j]; j = (j + 1) & (r->nslot - 1)) {
        struct rollup_cell *x = &r->cell[r->slot[j] - 1];
        if (x->day == day && x->kind == kind && x->value == value) {
            c = x;
            break;
        }
    }
    if (!c) {
        if (r->n >= UINT32_MAX - 1 || cxm_grow((void **)&r->cell, &r->cap, r->n + 1,
                                               sizeof *r->cell))
            return CXM_ENOMEM;
        c = &r->cell[r->n];
        memset(c, 0, sizeof *c);
        c->day = day;
        c->kind = kind;
        c->value = value;
        r->slot[j] = (uint32_t)++r->n;
    }
    c->rows++;
    if (score > -1.0 && score < (double)ROLLUP_SCORES)   /* false for NAN */
        c->hist[(int)score]++;
    return CXM_OK;
}

size_t rollup_bytes(const struct rollup *r)
{
    return r->cap * sizeof *r->cell + r->nslot * sizeof *r->slot;
}
