/* common.h - error codes, checked allocation and overflow-checked size
 * arithmetic shared by every layer. Never does I/O. */
#ifndef CXM_COMMON_H
#define CXM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>

/* Code built for unit tests sees CXM_TESTABLE functions; otherwise they
 * are static, and may be there for the tests only. */
#ifdef CXM_TEST
#define CXM_TESTABLE
#else
#define CXM_TESTABLE static __attribute__((unused))
#endif

/* Return codes: append only, named by cxm_rc_str(). */
enum cxm_rc {
    CXM_OK = 0,
    CXM_ENOMEM,      /* allocation failed */
    CXM_EINVAL,      /* invalid input: a record, a field, an argument */
    CXM_ETOOBIG,     /* input over a limit from cxm_limits.h */
    CXM_ENOTFOUND,   /* no such customer, key, record */
    CXM_EIO,         /* the store or the file system failed */
    CXM_ESCHEMA,     /* store schema is newer than this binary */
    CXM_EAUTH,       /* missing or invalid credentials */
    CXM_EPERM,       /* the role may not do this */
    CXM_ECONFLICT,   /* state does not allow it (e.g. merge already undone) */
    CXM_EUNAVAIL,    /* shutting down or reloading */
    CXM_RC_COUNT
};

#define CXM_ERR_MSG 256

/* Fixed-size error detail: never allocates, so out-of-memory can be told.
 * index is the record number in a batch (-1 when none); field names the
 * offending field ("" when none). */
struct cxm_err {
    int code;
    long index;
    char field[64];
    char msg[CXM_ERR_MSG];
};

const char *cxm_rc_str(int rc);

/* Sets err (may be NULL) and returns code. printf-style message. */
int cxm_err_set(struct cxm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, naming the record index and field. */
int cxm_err_field(struct cxm_err *err, int code, long index, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* cxm_err_field with a va_list (for a module's own error helpers). */
int cxm_err_vfield(struct cxm_err *err, int code, long index, const char *field,
                   const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
void cxm_err_clear(struct cxm_err *err);

void *cxm_malloc(size_t n);
void *cxm_calloc(size_t count, size_t size);
void *cxm_realloc(void *p, size_t n);
char *cxm_strdup(const char *s);
char *cxm_strndup(const char *s, size_t n);
/* Grows *p (an array of elem-sized items with capacity *cap) to hold at
 * least need items. Returns 0 or CXM_ENOMEM/CXM_ETOOBIG; *p unchanged on
 * failure. */
int cxm_grow(void **p, size_t *cap, size_t need, size_t elem);

static inline bool cxm_add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline bool cxm_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* Bounded copy that always terminates dst (dstsz > 0). Returns false when
 * src was truncated. */
bool cxm_strlcpy(char *dst, const char *src, size_t dstsz);

/* Parses a whole decimal integer; false on junk, overflow or empty. */
bool cxm_parse_i64(const char *s, int64_t *out);
bool cxm_parse_f64(const char *s, double *out);

/* Seconds on the monotonic clock, for durations (never for timestamps). */
double cxm_seconds(void);

#endif
