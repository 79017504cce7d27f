/* strmap.c - linear probing with backward-shift deletion; the stored hash
 * avoids most key compares. Load factor kept under 0.7. */
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t hash;      /* 0: empty */
    const char *key;
    uint32_t len;
    uint32_t val;
};

struct strmap {
    struct slot *slots;
    size_t cap;         /* power of two */
    size_t count;
};

#define FNV_BASIS 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static uint64_t fnv(uint64_t h, const char *key, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t finish(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h ? h : 1;
}

/* FNV-1a, then a final avalanche; never 0 so 0 can mark empty slots. */
uint64_t strmap_hash(const char *key, size_t len)
{
    return finish(fnv(FNV_BASIS, key, len));
}

uint64_t strmap_hash2(const char *a, size_t al, const char *b, size_t bl)
{
    uint64_t h = fnv(FNV_BASIS, a, al);
    h *= FNV_PRIME;   /* the NUL between them: h ^= 0 */
    return finish(fnv(h, b, bl));
}

struct strmap *strmap_new(void)
{
    struct strmap *m = cxm_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 16;
    m->slots = cxm_calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void strmap_free(struct strmap *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m);
}

void strmap_free_keys(struct strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].hash)
            free((void *)m->slots[i].key);
    strmap_free(m);
}

size_t strmap_count(const struct strmap *m)
{
    return m->count;
}

size_t strmap_bytes(const struct strmap *m)
{
    return m->cap * sizeof *m->slots;
}

static size_t find(const struct strmap *m, uint64_t h, const char *key,
                   size_t len, bool *found)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct slot *s = &m->slots[i];
        if (!s->hash) {
            *found = false;
            return i;
        }
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) {
            *found = true;
            return i;
        }
    }
}

void strmap_prefetch(const struct strmap *m, uint64_t h)
{
    __builtin_prefetch(&m->slots[h & (m->cap - 1)]);
}

const char *strmap_peek(const struct strmap *m, uint64_t h, uint32_t *val)
{
    const struct slot *s = &m->slots[h & (m->cap - 1)];
    if (s->hash != h)
        return NULL;
    *val = s->val;
    return s->key;
}

bool strmap_get(const struct strmap *m, const char *key, size_t len, uint32_t *val)
{
    return strmap_get_h(m, key, len, strmap_hash(key, len), val);
}

bool strmap_get_h(const struct strmap *m, const char *key, size_t len, uint64_t h,
                  uint32_t *val)
{
    bool found;
    size_t i = find(m, h, key, len, &found);
    if (found && val)
        *val = m->slots[i].val;
    return found;
}

/* Rehashes into ncap slots (a power of two holding every entry). */
static int rehash(struct strmap *m, size_t ncap)
{
    struct slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return CXM_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        struct slot *s = &m->slots[i];
        if (!s->hash)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].hash)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return CXM_OK;
}

static int grow(struct strmap *m)
{
    size_t ncap;
    if (!cxm_mul_size(m->cap, 2, &ncap))
        return CXM_ENOMEM;
    return rehash(m, ncap);
}

int strmap_reserve(struct strmap *m, size_t n)
{
    size_t ncap = m->cap;
    while (n * 10 > ncap * 7)
        if (!cxm_mul_size(ncap, 2, &ncap))
            return CXM_ENOMEM;
    return ncap == m->cap ? CXM_OK : rehash(m, ncap);
}

int strmap_put(struct strmap *m, const char *key, size_t len, uint32_t val)
{
    return strmap_put_h(m, key, len, strmap_hash(key, len), val);
}

int strmap_put_h(struct strmap *m, const char *key, size_t len, uint64_t h, uint32_t val)
{
    if (len > UINT32_MAX)
        return CXM_ETOOBIG;
    if ((m->count + 1) * 10 > m->cap * 7 && grow(m))
        return CXM_ENOMEM;
    bool found;
    size_t i = find(m, h, key, len, &found);
    if (!found)
        m->count++;
    m->slots[i] = (struct slot){.hash = h, .key = key, .len = (uint32_t)len,
                                .val = val};
    return CXM_OK;
}

bool strmap_del(struct strmap *m, const char *key, size_t len)
{
    bool found;
    size_t mask = m->cap - 1;
    size_t i = find(m, strmap_hash(key, len), key, len, &found);
    if (!found)
        return false;
    /* Backward shift: pull later entries of the cluster into the hole when
     * their home slot is not between the hole and them. */
    for (size_t j = (i + 1) & mask; m->slots[j].hash; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i] = (struct slot){0};
    m->count--;
    return true;
}
