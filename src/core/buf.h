/* buf.h - growable byte buffer with a hard size cap (like curl's dynbuf):
 * appends fail with CXM_ETOOBIG past the cap instead of growing forever. */
#ifndef CXM_BUF_H
#define CXM_BUF_H

#include "common.h"

struct buf {
    char *p;          /* NUL-terminated while len < cap */
    size_t len, cap, max;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
int buf_add(struct buf *b, const void *data, size_t n);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (malloc'd) and resets b. */
char *buf_take(struct buf *b, size_t *len);

#endif
