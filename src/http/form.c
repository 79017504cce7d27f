/* form.c - see form.h */
#include "http/form.h"

#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the n bytes at s into an arena string; NULL with *rc set. */
static char *decode(const char *s, size_t n, struct arena *a, int *rc)
{
    char *out = arena_alloc(a, n + 1);   /* n < len <= SIZE_MAX: no overflow */
    if (!out) {
        *rc = CXM_ENOMEM;
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(s[i + 2]) : -1;
            if (lo < 0) {
                *rc = CXM_EINVAL;
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') {
            *rc = CXM_EINVAL;
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

int form_decode(const char *body, size_t len, struct arena *a, struct form_field *fields,
                size_t max, size_t *n)
{
    size_t k = 0;
    int rc = CXM_OK;
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(body + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - body) : len;
        if (end > i) {
            const char *eq = memchr(body + i, '=', end - i);
            size_t nend = eq ? (size_t)(eq - body) : end;
            size_t vbeg = eq ? nend + 1 : end;
            if (k == max)
                return CXM_ETOOBIG;
            fields[k].name = decode(body + i, nend - i, a, &rc);
            fields[k].value = rc ? NULL : decode(body + vbeg, end - vbeg, a, &rc);
            if (rc)
                return rc;
            k++;
        }
        i = end + 1;
    }
    *n = k;
    return CXM_OK;
}

const char *form_get(const struct form_field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(fields[i].name, name))
            return fields[i].value;
    return NULL;
}
