/* form.h - HTML form bodies (application/x-www-form-urlencoded, as the
 * WHATWG URL standard reads them): '+' is a space, %XX a byte. Decodes
 * only; what the fields mean is the handler's business. */
#ifndef CXM_FORM_H
#define CXM_FORM_H

#include "common.h"
#include "core/arena.h"

struct form_field {
    const char *name, *value;   /* decoded, NUL-terminated, in the arena */
};

/* Decodes the len bytes at body into fields[0..*n), in order (a name may
 * repeat; a pair without '=' has the value ""; empty pairs are skipped).
 * Strings live in a. CXM_EINVAL: '%' not followed by two hex digits, or
 * a decoded NUL byte; CXM_ETOOBIG: more than max fields; CXM_ENOMEM. *n
 * is set on success only. body may be NULL when len is 0. */
int form_decode(const char *body, size_t len, struct arena *a, struct form_field *fields,
                size_t max, size_t *n);

/* The value of the first field called name, NULL when none. */
const char *form_get(const struct form_field *fields, size_t n, const char *name);

#endif
