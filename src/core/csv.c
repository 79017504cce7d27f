/* csv.c - see csv.h
 *
 * A resumable state machine: input arrives in chunks of any size (down to
 * one byte), so every state can be left at a chunk end and resumed. Field
 * bytes are copied span by span into one record buffer, each field
 * NUL-terminated, so a record costs no allocation once the buffers have
 * grown to the widest record seen. */
#include "core/csv.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "cxm_limits.h"

/* Large reads amortise the callback; 64 KiB fits in L2 caches. */
#define CSV_BUF (64u * 1024u)

enum csv_state {
    ST_RECORD,       /* before a record: empty lines are skipped here */
    ST_RECORD_CR,    /* CR at the start of a line: only LF may follow */
    ST_FIELD,        /* after a comma: a field starts at the next byte */
    ST_UNQUOTED,     /* inside an unquoted field */
    ST_QUOTED,       /* inside a quoted field */
    ST_QUOTED_QUOTE, /* quote in a quoted field: "" escape or the close */
    ST_CR,           /* CR ending a record: only LF may follow */
};

/* Errors of one record that leave the parse in step (size, NUL, UTF-8,
 * OOM) are held here until the record ends, so the caller can skip it. */
struct csv_pending {
    bool set;
    int code;
    char msg[CXM_ERR_MSG];
};

struct csv_reader {
    csv_read_fn read;
    void *ctx;
    enum csv_state state;
    bool started;  /* first chunk read and BOM checked */
    bool eof;      /* read returned 0: never call it again */
    bool failed;   /* sticky error: every call returns it */
    bool discard;  /* pending error: parse on, store nothing */

    size_t in_pos, in_len;
    size_t in_base;     /* input bytes before in[0]; only differences within
                           one line are used, so wrapping is harmless */
    size_t line;        /* physical line of in[in_pos] */
    size_t line_start;  /* input offset of the first byte of that line */
    size_t rec_line;    /* line where the current/last record started */

    size_t field_line, field_col;  /* where the current field started */
    size_t quote_line, quote_col;  /* where the open quoted field started */
    size_t field_len;

    char *rec;          /* fields of the record, each NUL-terminated */
    size_t rec_len, rec_cap;
    size_t nfields;
    size_t offs[CXM_MAX_CSV_FIELDS];
    char *ptrs[CXM_MAX_CSV_FIELDS];

    struct csv_pending pending;
    struct csv_pending sticky;  /* set with failed */
    char in[CSV_BUF];
};

/* Bytes that end a span of plain field content. */
static const bool unquoted_stop[256] = {
    [','] = true, ['\n'] = true, ['\r'] = true, ['"'] = true, ['\0'] = true,
};
static const bool quoted_stop[256] = {
    ['"'] = true, ['\n'] = true, ['\0'] = true,
};

struct csv_reader *csv_new(csv_read_fn read, void *ctx)
{
    struct csv_reader *r = cxm_malloc(sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, offsetof(struct csv_reader, in));
    r->read = read;
    r->ctx = ctx;
    r->state = ST_RECORD;
    r->line = 1;
    return r;
}

void csv_free(struct csv_reader *r)
{
    if (!r)
        return;
    free(r->rec);
    free(r);
}

size_t csv_line(const struct csv_reader *r)
{
    return r->rec_line;
}

static void vformat(struct csv_pending *e, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vformat(struct csv_pending *e, int code, const char *fmt, va_list ap)
{
    e->set = true;
    e->code = code;
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    if (n < 0)
        e->msg[0] = '\0';
}

/* Records an error that ends the record but not the parse; the first one
 * of a record wins. */
static void pend(struct csv_reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pend(struct csv_reader *r, int code, const char *fmt, ...)
{
    if (r->pending.set)
        return;
    va_list ap;
    va_start(ap, fmt);
    vformat(&r->pending, code, fmt, ap);
    va_end(ap);
    r->discard = true;
}

/* Records an error after which the reader cannot go on. */
static void fail(struct csv_reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct csv_reader *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(&r->sticky, code, fmt, ap);
    va_end(ap);
    r->failed = true;
}

static int report(const struct csv_pending *e, struct cxm_err *err)
{
    cxm_err_set(err, e->code, "%s", e->msg);
    return -1;
}

/* Input offset of p, a pointer into r->in. */
static size_t offset_of(const struct csv_reader *r, const char *p)
{
    return r->in_base + (size_t)(p - r->in);
}

static size_t column_of(const struct csv_reader *r, const char *p)
{
    return offset_of(r, p) - r->line_start + 1;
}

/* p points at the LF just consumed. */
static void newline(struct csv_reader *r, const char *p)
{
    r->line++;
    r->line_start = offset_of(r, p) + 1;
}

static bool reserve(struct csv_reader *r, size_t extra)
{
    size_t need;
    if (!cxm_add_size(r->rec_len, extra, &need) ||
        cxm_grow((void **)&r->rec, &r->rec_cap, need, 1) != CXM_OK) {
        pend(r, CXM_ENOMEM, "line %zu: out of memory reading a record", r->rec_line);
        return false;
    }
    return true;
}

static void begin_record(struct csv_reader *r)
{
    r->rec_line = r->line;
    r->rec_len = 0;
    r->nfields = 0;
    r->discard = false;
    r->pending.set = false;
}

/* A field starts at input offset pos. */
static void start_field(struct csv_reader *r, size_t pos)
{
    if (r->discard)
        return;
    if (r->nfields == CXM_MAX_CSV_FIELDS) {
        pend(r, CXM_ETOOBIG, "line %zu, column %zu: record has more than %d fields",
             r->line, pos - r->line_start + 1, CXM_MAX_CSV_FIELDS);
        return;
    }
    r->offs[r->nfields++] = r->rec_len;
    r->field_len = 0;
    r->field_line = r->line;
    r->field_col = pos - r->line_start + 1;
}

static void append(struct csv_reader *r, const char *s, size_t n)
{
    if (r->discard || n == 0)
        return;
    if (n > CXM_MAX_CSV_FIELD - r->field_len) {
        pend(r, CXM_ETOOBIG, "line %zu, column %zu (field %zu): field is longer than %u bytes",
             r->field_line, r->field_col, r->nfields, CXM_MAX_CSV_FIELD);
        return;
    }
    if (!reserve(r, n))
        return;
    memcpy(r->rec + r->rec_len, s, n);
    r->rec_len += n;
    r->field_len += n;
}

static void end_field(struct csv_reader *r)
{
    if (r->discard || !reserve(r, 1))
        return;
    r->rec[r->rec_len++] = '\0';
}

static void nul_byte(struct csv_reader *r, const char *p)
{
    pend(r, CXM_EINVAL, "line %zu, column %zu (field %zu): NUL byte in field",
         r->line, column_of(r, p), r->nfields);
}

/* Hands out the record just ended, or the error it held. */
static int deliver(struct csv_reader *r, char ***fields, size_t *nfields,
                   struct cxm_err *err)
{
    r->state = ST_RECORD;
    if (r->pending.set)
        return report(&r->pending, err);
    /* One pass over the whole record (fields joined by NULs, which are
     * valid UTF-8); the per-field search runs only for a bad record. */
    if (!utf8_valid(r->rec, r->rec_len)) {
        size_t line = r->rec_line;
        for (size_t i = 0; i < r->nfields; i++) {
            const char *f = r->rec + r->offs[i];
            size_t len = strlen(f);
            if (!utf8_valid(f, len)) {
                cxm_err_set(err, CXM_EINVAL, "line %zu, field %zu: invalid UTF-8", line, i + 1);
                return -1;
            }
            /* Quoted line breaks move later fields to later lines. */
            for (size_t j = 0; j < len; j++) {
                if (f[j] == '\n')
                    line++;
            }
        }
    }
    for (size_t i = 0; i < r->nfields; i++)
        r->ptrs[i] = r->rec + r->offs[i];
    *fields = r->ptrs;
    *nfields = r->nfields;
    return 1;
}

/* Fills r->in; false on a read error (then r->failed is set). */
static bool fill(struct csv_reader *r)
{
    r->in_base += r->in_len;
    r->in_pos = 0;
    r->in_len = 0;
    size_t n = r->read(r->ctx, r->in, CSV_BUF);
    if (n == (size_t)-1 || n > CSV_BUF) {
        fail(r, CXM_EIO, "line %zu: read error", r->line);
        return false;
    }
    if (n == 0)
        r->eof = true;
    r->in_len = n;
    return true;
}

/* Reads until three bytes or the end, to see a BOM split across reads. */
static bool first_fill(struct csv_reader *r)
{
    r->started = true;
    while (r->in_len < 3) {
        size_t n = r->read(r->ctx, r->in + r->in_len, CSV_BUF - r->in_len);
        if (n == (size_t)-1 || n > CSV_BUF - r->in_len) {
            fail(r, CXM_EIO, "line 1: read error");
            return false;
        }
        if (n == 0) {
            r->eof = true;
            break;
        }
        r->in_len += n;
    }
    if (r->in_len >= 3 && memcmp(r->in, "\xEF\xBB\xBF", 3) == 0) {
        r->in_pos = 3;
        r->line_start = 3;
    }
    return true;
}

enum step_rc { STEP_MORE, STEP_RECORD, STEP_FAIL };

/* Consumes buffered bytes until a record ends, a sticky error, or the
 * buffer is empty. */
static enum step_rc step(struct csv_reader *r)
{
    const char *p = r->in + r->in_pos;
    const char *end = r->in + r->in_len;
    enum step_rc rc = STEP_MORE;

    while (p < end) {
        char c = *p;
        switch (r->state) {
        case ST_RECORD:
            if (c == '\n') {
                newline(r, p);
                p++;
                continue;
            }
            if (c == '\r') {
                r->state = ST_RECORD_CR;
                p++;
                continue;
            }
            begin_record(r);
            /* fall through */
        case ST_FIELD:
            start_field(r, offset_of(r, p));
            switch (c) {
            case '"':
                r->state = ST_QUOTED;
                r->quote_line = r->line;
                r->quote_col = column_of(r, p);
                p++;
                break;
            case ',':
                end_field(r);
                r->state = ST_FIELD;
                p++;
                break;
            case '\n':
                end_field(r);
                newline(r, p);
                p++;
                rc = STEP_RECORD;
                goto out;
            case '\r':
                end_field(r);
                r->state = ST_CR;
                p++;
                break;
            default:
                r->state = ST_UNQUOTED;
                break;
            }
            continue;
        case ST_RECORD_CR:
        case ST_CR:
            if (c != '\n') {
                fail(r, CXM_EINVAL, "line %zu, column %zu: carriage return not followed by a line feed",
                     r->line, column_of(r, p) - 1);
                rc = STEP_FAIL;
                goto out;
            }
            newline(r, p);
            p++;
            if (r->state == ST_CR) {
                rc = STEP_RECORD;
                goto out;
            }
            r->state = ST_RECORD;
            continue;
        case ST_UNQUOTED: {
            const char *s = p;
            while (p < end && !unquoted_stop[(unsigned char)*p])
                p++;
            append(r, s, (size_t)(p - s));
            if (p == end)
                continue;
            switch (*p) {
            case ',':
                end_field(r);
                r->state = ST_FIELD;
                p++;
                break;
            case '\n':
                end_field(r);
                newline(r, p);
                p++;
                rc = STEP_RECORD;
                goto out;
            case '\r':
                end_field(r);
                r->state = ST_CR;
                p++;
                break;
            case '"':
                fail(r, CXM_EINVAL, "line %zu, column %zu: quote inside an unquoted field "
                     "(quote the whole field and double quotes inside it)",
                     r->line, column_of(r, p));
                rc = STEP_FAIL;
                goto out;
            default: /* NUL */
                nul_byte(r, p);
                p++;
                break;
            }
            continue;
        }
        case ST_QUOTED: {
            const char *s = p;
            while (p < end && !quoted_stop[(unsigned char)*p])
                p++;
            append(r, s, (size_t)(p - s));
            if (p == end)
                continue;
            if (*p == '"') {
                r->state = ST_QUOTED_QUOTE;
            } else if (*p == '\n') {
                append(r, p, 1);
                newline(r, p);
            } else {
                nul_byte(r, p);
            }
            p++;
            continue;
        }
        case ST_QUOTED_QUOTE:
            switch (c) {
            case '"':
                append(r, p, 1);
                r->state = ST_QUOTED;
                p++;
                break;
            case ',':
                end_field(r);
                r->state = ST_FIELD;
                p++;
                break;
            case '\n':
                end_field(r);
                newline(r, p);
                p++;
                rc = STEP_RECORD;
                goto out;
            case '\r':
                end_field(r);
                r->state = ST_CR;
                p++;
                break;
            default:
                fail(r, CXM_EINVAL, "line %zu, column %zu: unexpected character after a "
                     "closing quote (expected a comma or the end of the line)",
                     r->line, column_of(r, p));
                rc = STEP_FAIL;
                goto out;
            }
            continue;
        }
    }
out:
    r->in_pos = (size_t)(p - r->in);
    return rc;
}

/* The input ended: completes or rejects what the state holds. */
static int at_end(struct csv_reader *r, char ***fields, size_t *nfields,
                  struct cxm_err *err)
{
    switch (r->state) {
    case ST_RECORD:
    case ST_RECORD_CR:
        return 0;
    case ST_QUOTED:
        fail(r, CXM_EINVAL, "line %zu, column %zu: quoted field is never closed "
             "(end of input reached)", r->quote_line, r->quote_col);
        return report(&r->sticky, err);
    case ST_FIELD:
        start_field(r, r->in_base + r->in_len);
        end_field(r);
        break;
    case ST_UNQUOTED:
    case ST_QUOTED_QUOTE:
        end_field(r);
        break;
    case ST_CR:
        break;
    }
    return deliver(r, fields, nfields, err);
}

int csv_next(struct csv_reader *r, char ***fields, size_t *nfields, struct cxm_err *err)
{
    if (!r->started && !first_fill(r))
        return report(&r->sticky, err);
    for (;;) {
        if (r->failed)
            return report(&r->sticky, err);
        if (r->in_pos == r->in_len) {
            if (r->eof)
                return at_end(r, fields, nfields, err);
            if (!fill(r))
                return report(&r->sticky, err);
            continue;
        }
        switch (step(r)) {
        case STEP_MORE:
            break;
        case STEP_RECORD:
            return deliver(r, fields, nfields, err);
        case STEP_FAIL:
            return report(&r->sticky, err);
        }
    }
}
