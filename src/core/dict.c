/* dict.c - strings owned by the dict, looked up through a strmap. */
#include "core/dict.h"
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

struct dict {
    struct strmap *map;
    char **strs;        /* strs[code - 1] */
    size_t n, cap;
    uint32_t max;
    size_t bytes;
};

struct dict *dict_new(uint32_t max_codes)
{
    struct dict *d = cxm_calloc(1, sizeof *d);
    if (!d || !(d->map = strmap_new())) {
        free(d);
        return NULL;
    }
    d->max = max_codes;
    return d;
}

void dict_free(struct dict *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->strs[i]);
    free(d->strs);
    strmap_free(d->map);
    free(d);
}

uint32_t dict_find(const struct dict *d, const char *s)
{
    uint32_t code;
    return strmap_get(d->map, s, strlen(s), &code) ? code : 0;
}

static int add(struct dict *d, const char *s, uint32_t *code)
{
    if (d->n >= d->max)
        return CXM_ETOOBIG;
    int rc = cxm_grow((void **)&d->strs, &d->cap, d->n + 1, sizeof *d->strs);
    if (rc)
        return rc;
    size_t len = strlen(s);
    char *copy = cxm_strndup(s, len);
    if (!copy)
        return CXM_ENOMEM;
    uint32_t c = (uint32_t)d->n + 1;
    if (strmap_put(d->map, copy, len, c)) {
        free(copy);
        return CXM_ENOMEM;
    }
    d->strs[d->n++] = copy;
    d->bytes += len + 1;
    *code = c;
    return CXM_OK;
}

int dict_intern(struct dict *d, const char *s, uint32_t *code, bool *added)
{
    *added = false;
    if ((*code = dict_find(d, s)))
        return CXM_OK;
    int rc = add(d, s, code);
    if (!rc)
        *added = true;
    return rc;
}

int dict_load(struct dict *d, uint32_t code, const char *s)
{
    if (code != d->n + 1)
        return CXM_EINVAL;
    uint32_t c;
    return add(d, s, &c);
}

const char *dict_str(const struct dict *d, uint32_t code)
{
    if (code == 0 || code > d->n)
        return NULL;
    return d->strs[code - 1];
}

uint32_t dict_count(const struct dict *d)
{
    return (uint32_t)d->n;
}

size_t dict_bytes(const struct dict *d)
{
    return d->bytes + d->cap * sizeof *d->strs + strmap_bytes(d->map);
}
