/* buf.c - see buf.h */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int reserve(struct buf *b, size_t n)
{
    /* room for n bytes and the NUL, within the cap: most calls */
    if (n < b->cap - b->len && n <= b->max - b->len)
        return CXM_OK;
    size_t need;
    if (!cxm_add_size(b->len, n, &need) || !cxm_add_size(need, 1, &need) ||
        need > b->max + 1)
        return CXM_ETOOBIG;
    return cxm_grow((void **)&b->p, &b->cap, need, 1);
}

int buf_add(struct buf *b, const void *data, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return CXM_OK;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CXM_EINVAL;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CXM_OK;
}

char *buf_take(struct buf *b, size_t *len)
{
    char *p = b->p;
    if (!p)
        p = cxm_calloc(1, 1);
    *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
