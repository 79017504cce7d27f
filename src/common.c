/* common.c - see common.h */
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const rc_names[CXM_RC_COUNT] = {
    [CXM_OK] = "ok",
    [CXM_ENOMEM] = "out_of_memory",
    [CXM_EINVAL] = "invalid",
    [CXM_ETOOBIG] = "too_big",
    [CXM_ENOTFOUND] = "not_found",
    [CXM_EIO] = "io_error",
    [CXM_ESCHEMA] = "schema_too_new",
    [CXM_EAUTH] = "unauthorized",
    [CXM_EPERM] = "forbidden",
    [CXM_ECONFLICT] = "conflict",
    [CXM_EUNAVAIL] = "unavailable",
};

const char *cxm_rc_str(int rc)
{
    if (rc < 0 || rc >= CXM_RC_COUNT)
        return "unknown";
    return rc_names[rc];
}

static void err_vset(struct cxm_err *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n < 0)
        err->msg[0] = '\0';
}

int cxm_err_set(struct cxm_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int cxm_err_vfield(struct cxm_err *err, int code, long index, const char *field,
                   const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->index = index;
    cxm_strlcpy(err->field, field ? field : "", sizeof err->field);
    err_vset(err, code, fmt, ap);
    return code;
}

int cxm_err_field(struct cxm_err *err, int code, long index, const char *field,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cxm_err_vfield(err, code, index, field, fmt, ap);
    va_end(ap);
    return rc;
}

void cxm_err_clear(struct cxm_err *err)
{
    if (!err)
        return;
    err->code = CXM_OK;
    err->index = -1;
    err->field[0] = '\0';
    err->msg[0] = '\0';
}

void *cxm_malloc(size_t n)
{
    return malloc(n ? n : 1);
}

void *cxm_calloc(size_t count, size_t size)
{
    return calloc(count ? count : 1, size ? size : 1);
}

void *cxm_realloc(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

char *cxm_strndup(const char *s, size_t n)
{
    size_t sz;
    if (!cxm_add_size(n, 1, &sz))
        return NULL;
    char *d = cxm_malloc(sz);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *cxm_strdup(const char *s)
{
    return cxm_strndup(s, strlen(s));
}

int cxm_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return CXM_OK;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (!cxm_mul_size(ncap, 2, &ncap))
            return CXM_ETOOBIG;
    }
    size_t bytes;
    if (!cxm_mul_size(ncap, elem, &bytes))
        return CXM_ETOOBIG;
    void *np = realloc(*p, bytes);
    if (!np)
        return CXM_ENOMEM;
    *p = np;
    *cap = ncap;
    return CXM_OK;
}

bool cxm_strlcpy(char *dst, const char *src, size_t dstsz)
{
    size_t n = strlen(src);
    if (n < dstsz) {
        memcpy(dst, src, n + 1);
        return true;
    }
    memcpy(dst, src, dstsz - 1);
    dst[dstsz - 1] = '\0';
    return false;
}

bool cxm_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return false;
    *out = (int64_t)v;
    return true;
}

bool cxm_parse_f64(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v))
        return false;
    *out = v;
    return true;
}

double cxm_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
