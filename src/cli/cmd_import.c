/* cmd_import.c - `cxm import`: loads CSV or NDJSON files of ingest records.
 * Every record goes through event_decode, the HTTP API's validation. A file
 * is checked whole before any record of it is stored (all or nothing unless
 * --skip-bad), then ingested in batches through the engine's writer. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/identity.h"
#include "core/strmap.h"
#include "engine/engine.h"
#include "engine/event.h"
#include "cxm_limits.h"
#include "log.h"

#define CMD "import"
#define DEFAULT_BATCH 5000
/* One NDJSON line is at most one API request body. */
#define MAX_LINE CXM_MAX_BODY_DEFAULT
/* Text of rejected rows kept for the rejects file: a CSV record is at most
 * 256 fields of 64 KiB, doubled by quoting. */
#define MAX_RAW (64u * 1024u * 1024u)

enum kind { K_CUSTOMERS, K_INTERACTIONS, K_FEEDBACK, K_ORDERS, K_EVENTS, K_COUNT };

static const struct {
    const char *name, *singular, *type;   /* type NULL: each record's own */
} kinds[K_COUNT] = {
    [K_CUSTOMERS] = {"customers", "customer", "customer"},
    [K_INTERACTIONS] = {"interactions", "interaction", "interaction"},
    [K_FEEDBACK] = {"feedback", "feedbacks", "feedback"},
    [K_ORDERS] = {"orders", "order", "order"},
    [K_EVENTS] = {"events", "event", NULL},
};

enum { FMT_AUTO, FMT_CSV, FMT_NDJSON };

/* ---- CSV columns --------------------------------------------------------- */

/* How a cell becomes JSON. */
enum cval { V_STR, V_INT, V_NUM, V_TS, V_BOOL };
/* Where the value goes in the record. */
enum cdest { D_FIELD, D_CONSENT, D_ATTR, D_IDENT, D_ITEM };

#define KB(k) (1u << (k))
#define K_ALL (KB(K_CUSTOMERS) | KB(K_INTERACTIONS) | KB(K_FEEDBACK) | KB(K_ORDERS))
/* Employee fields: only in an events file. */
#define K_EMP 0u

/* Plain columns: the flat fields of event.c, consent split into three
 * columns and order items spread over sku, category, qty, price. */
static const struct colspec {
    const char *name;
    enum cval v;
    enum cdest dest;
    unsigned kinds;
    const char *key;     /* key in the destination object; NULL: name */
} colspecs[] = {
    {"type", V_STR, D_FIELD, K_ALL, NULL},
    {"event_id", V_STR, D_FIELD, K_ALL, NULL},
    {"ts", V_TS, D_FIELD, K_ALL, NULL},
    {"customer_id", V_INT, D_FIELD, K_ALL, NULL},
    {"email", V_STR, D_FIELD, K_ALL, NULL},
    {"phone", V_STR, D_FIELD, K_ALL, NULL},
    {"device", V_STR, D_FIELD, K_ALL, NULL},
    {"cookie", V_STR, D_FIELD, K_ALL, NULL},
    {"crm", V_STR, D_FIELD, K_ALL, NULL},
    {"loyalty", V_STR, D_FIELD, K_ALL, NULL},
    {"country", V_STR, D_FIELD, K_ALL, NULL},
    {"name", V_STR, D_FIELD, KB(K_CUSTOMERS), NULL},
    {"birth_year", V_INT, D_FIELD, KB(K_CUSTOMERS), NULL},
    {"gender", V_STR, D_FIELD, KB(K_CUSTOMERS), NULL},
    {"city", V_STR, D_FIELD, KB(K_CUSTOMERS), NULL},
    {"language", V_STR, D_FIELD, KB(K_CUSTOMERS), NULL},
    {"consent_marketing", V_BOOL, D_CONSENT, KB(K_CUSTOMERS), "marketing"},
    {"consent_surveys", V_BOOL, D_CONSENT, KB(K_CUSTOMERS), "surveys"},
    {"consent_personalisation", V_BOOL, D_CONSENT, KB(K_CUSTOMERS), "personalisation"},
    {"channel", V_STR, D_FIELD, KB(K_INTERACTIONS) | KB(K_FEEDBACK) | KB(K_ORDERS), NULL},
    {"touchpoint", V_STR, D_FIELD, KB(K_INTERACTIONS) | KB(K_FEEDBACK) | KB(K_ORDERS), NULL},
    {"stage", V_STR, D_FIELD, KB(K_INTERACTIONS) | KB(K_FEEDBACK), NULL},
    {"kind", V_STR, D_FIELD, KB(K_INTERACTIONS) | KB(K_FEEDBACK), NULL},
    {"agent_id", V_STR, D_FIELD, KB(K_INTERACTIONS) | KB(K_FEEDBACK), NULL},
    {"duration", V_INT, D_FIELD, KB(K_INTERACTIONS), NULL},
    {"outcome", V_STR, D_FIELD, KB(K_INTERACTIONS), NULL},
    {"value", V_NUM, D_FIELD, KB(K_INTERACTIONS), NULL},
    {"text", V_STR, D_FIELD, KB(K_INTERACTIONS), NULL},
    {"survey", V_STR, D_FIELD, KB(K_FEEDBACK), NULL},
    {"score", V_NUM, D_FIELD, KB(K_FEEDBACK), NULL},
    {"comment", V_STR, D_FIELD, KB(K_FEEDBACK), NULL},
    {"order_id", V_STR, D_FIELD, KB(K_ORDERS), NULL},
    {"amount", V_NUM, D_FIELD, KB(K_ORDERS), NULL},
    {"currency", V_STR, D_FIELD, KB(K_ORDERS), NULL},
    {"sku", V_STR, D_ITEM, KB(K_ORDERS), NULL},
    {"category", V_STR, D_ITEM, KB(K_ORDERS), NULL},
    {"qty", V_NUM, D_ITEM, KB(K_ORDERS), NULL},
    {"price", V_NUM, D_ITEM, KB(K_ORDERS), NULL},
    {"employee_id", V_STR, D_FIELD, K_EMP, NULL},
    {"team", V_STR, D_FIELD, K_EMP, NULL},
    {"role", V_STR, D_FIELD, K_EMP, NULL},
};

struct col {
    enum cval v;
    enum cdest dest;
    const char *key;     /* into name or a colspec */
    char *name;          /* header cell, owned */
};

static bool kind_allows(enum kind k, const struct colspec *cs)
{
    return k == K_EVENTS || (cs->kinds & KB(k));
}

/* Prints the columns kind k accepts (for an unknown header). */
static void print_allowed(FILE *f, enum kind k)
{
    fprintf(f, "cxm %s: columns allowed for --kind %s:", CMD, kinds[k].name);
    const char *sep = " ";
    for (size_t i = 0; i < sizeof colspecs / sizeof colspecs[0]; i++) {
        if (!kind_allows(k, &colspecs[i]))
            continue;
        fprintf(f, "%s%s", sep, colspecs[i].name);
        sep = ", ";
    }
    if (k == K_CUSTOMERS || k == K_EVENTS)
        fprintf(f, ", attr.NAME (a custom attribute)");
    fprintf(f, ", social:NETWORK or identities.KIND (an identity)\n");
}

/* Sets *c for header cell h; false when kind k has no such column. */
static bool col_resolve(enum kind k, const char *h, struct col *c)
{
    for (size_t i = 0; i < sizeof colspecs / sizeof colspecs[0]; i++) {
        const struct colspec *cs = &colspecs[i];
        if (strcmp(cs->name, h) == 0 && kind_allows(k, cs)) {
            c->v = cs->v;
            c->dest = cs->dest;
            c->key = cs->key ? cs->key : cs->name;
            return true;
        }
    }
    c->v = V_STR;
    if (k == K_CUSTOMERS || k == K_EVENTS) {
        static const char *const pre[] = {"attr.", "attributes."};
        for (size_t i = 0; i < 2; i++) {
            size_t n = strlen(pre[i]);
            if (strncmp(h, pre[i], n) == 0 && h[n]) {
                c->dest = D_ATTR;
                c->key = h + n;
                return true;
            }
        }
    }
    if (strncmp(h, "identities.", 11) == 0 && identity_kind_valid(h + 11)) {
        c->dest = D_IDENT;
        c->key = h + 11;
        return true;
    }
    if (strchr(h, ':') && identity_kind_valid(h)) {
        c->dest = D_IDENT;
        c->key = h;
        return true;
    }
    return false;
}

/* ---- cell values ----------------------------------------------------------- */

/* Copies s without surrounding blanks into out; false when it does not fit. */
static bool trimmed(const char *s, char *out, size_t outsz)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= outsz)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* true/false, yes/no, 1/0 in any case: 1 or 0; -1 for anything else. */
CXM_TESTABLE int import_parse_bool(const char *s)
{
    char t[8];
    if (!trimmed(s, t, sizeof t))
        return -1;
    static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
    for (size_t i = 0; i < 3; i++) {
        if (!strcasecmp(t, yes[i]))
            return 1;
        if (!strcasecmp(t, no[i]))
            return 0;
    }
    return -1;
}

/* A decimal number cell as JSON: an integer when it is one, else a real.
 * Hex, inf and nan (which strtod takes) are refused. NULL when s is no
 * number; *oom on allocation failure. */
static json_t *number_of(const char *s, bool want_int, bool *oom)
{
    char t[64];
    *oom = false;
    if (!trimmed(s, t, sizeof t) || !t[0] || strspn(t, "0123456789+-.eE") != strlen(t))
        return NULL;
    int64_t i;
    double d;
    json_t *v;
    if (cxm_parse_i64(t, &i))
        v = json_integer(i);
    else if (!want_int && cxm_parse_f64(t, &d))
        v = json_real(d);
    else
        return NULL;
    *oom = !v;
    return v;
}

/* The JSON value of a non-empty cell of column c. */
static int cell_json(const struct col *c, const char *s, json_t **out, struct cxm_err *err)
{
    bool oom = false;
    *out = NULL;
    switch (c->v) {
    case V_STR:
        *out = json_string(s);
        break;
    case V_INT:
    case V_NUM:
        if (!(*out = number_of(s, c->v == V_INT, &oom)) && !oom)
            return cxm_err_field(err, CXM_EINVAL, -1, c->name, "%s must be %s, not '%.24s'",
                                 c->name, c->v == V_INT ? "a whole number" : "a number", s);
        break;
    case V_TS: {
        char t[32];
        if (trimmed(s, t, sizeof t) && t[0] && strspn(t, "0123456789") == strlen(t)) {
            int64_t i;
            if (!cxm_parse_i64(t, &i))
                return cxm_err_field(err, CXM_EINVAL, -1, c->name,
                                     "ts %.24s is out of range", t);
            *out = json_integer(i);
        } else {
            *out = json_string(s);   /* ISO 8601: event_decode parses it */
        }
        break;
    }
    case V_BOOL: {
        int b = import_parse_bool(s);
        if (b < 0)
            return cxm_err_field(err, CXM_EINVAL, -1, c->name, "%s must be true or false"
                                 " (yes/no, 1/0), not '%.24s'", c->name, s);
        *out = json_boolean(b);
        break;
    }
    }
    if (!*out)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return CXM_OK;
}

/* Sets key of o to v, taking v. */
static int jset(json_t *o, const char *key, json_t *v, struct cxm_err *err)
{
    if (!v || json_object_set_new(o, key, v))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return CXM_OK;
}

/* The object at key of o, created when absent. */
static json_t *sub_object(json_t *o, const char *key)
{
    json_t *s = json_object_get(o, key);
    if (s)
        return s;
    s = json_object();
    if (!s || json_object_set_new(o, key, s))
        return NULL;
    return s;
}

/* Appends s (n bytes) to b as one RFC 4180 field, quoted when it must be. */
CXM_TESTABLE int import_csv_quote(struct buf *b, const char *s, size_t n)
{
    bool q = false;
    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!q)
        return buf_add(b, s, n);
    int rc = buf_add(b, "\"", 1);
    while (!rc && n) {
        const char *qt = memchr(s, '"', n);
        size_t k = qt ? (size_t)(qt - s) + 1 : n;
        rc = buf_add(b, s, k);
        if (!rc && qt)
            rc = buf_add(b, "\"", 1);
        s += k;
        n -= k;
    }
    return rc ? rc : buf_add(b, "\"", 1);
}

/* csv, ndjson or FMT_AUTO from the file name's extension. */
CXM_TESTABLE int import_format_of_name(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return FMT_AUTO;
    if (!strcasecmp(dot, ".csv"))
        return FMT_CSV;
    if (!strcasecmp(dot, ".ndjson") || !strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".json"))
        return FMT_NDJSON;
    return FMT_AUTO;
}

/* The format of content starting with head: NDJSON when the first byte
 * that is not a BOM or blank is '{' or '['. */
CXM_TESTABLE int import_format_sniff(const char *head, size_t n)
{
    size_t i = n >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3) ? 3 : 0;
    while (i < n && head[i] && strchr(" \t\r\n", head[i]))
        i++;
    return i < n && (head[i] == '{' || head[i] == '[') ? FMT_NDJSON : FMT_CSV;
}

/* ---- input --------------------------------------------------------------- */

struct input {
    const char *name;    /* for messages: the path, or "stdin" */
    int fd;
    uint64_t size, bytes;
    int format;
};

static size_t fd_read(void *ctx, char *buf, size_t cap)
{
    struct input *in = ctx;
    for (;;) {
        ssize_t n = read(in->fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return (size_t)-1;
        in->bytes += (uint64_t)n;
        return (size_t)n;
    }
}

/* Lines of an NDJSON file, LF or CRLF, a BOM on the first skipped. */
struct lines {
    struct input *in;
    char *buf;
    size_t cap, beg, end, scan;
    bool eof;
    size_t line;
};

enum { LN_EOF = 0, LN_LINE = 1, LN_EIO = -1, LN_LONG = -2 };

/* LN_LINE with *p and *n (valid until the next call); LN_LONG for a line over
 * MAX_LINE, which is skipped. */
static int lines_next(struct lines *l, char **p, size_t *n)
{
    bool skipping = false;
    for (;;) {
        char *nl = l->end > l->scan ? memchr(l->buf + l->scan, '\n', l->end - l->scan) : NULL;
        if (nl || (l->eof && (l->end > l->beg || skipping))) {
            size_t e = nl ? (size_t)(nl - l->buf) : l->end;
            char *s = l->buf + l->beg;
            size_t len = e - l->beg;
            l->line++;
            l->beg = l->scan = nl ? e + 1 : l->end;
            if (skipping)
                return LN_LONG;
            if (len && s[len - 1] == '\r')
                len--;
            if (l->line == 1 && len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
                s += 3;
                len -= 3;
            }
            *p = s;
            *n = len;
            return LN_LINE;
        }
        if (l->eof)
            return LN_EOF;
        l->scan = l->end;
        if (l->beg) {
            memmove(l->buf, l->buf + l->beg, l->end - l->beg);
            l->end -= l->beg;
            l->scan -= l->beg;
            l->beg = 0;
        }
        if (l->end == l->cap) {
            if (l->cap >= MAX_LINE) {
                skipping = true;
                l->beg = l->scan = l->end = 0;
            } else {
                size_t ncap = l->cap ? l->cap * 2 : 64u * 1024u;
                char *nb = cxm_realloc(l->buf, ncap);
                if (!nb)
                    return LN_EIO;
                l->buf = nb;
                l->cap = ncap;
            }
        }
        size_t got = fd_read(l->in, l->buf + l->end, l->cap - l->end);
        if (got == (size_t)-1)
            return LN_EIO;
        if (got == 0)
            l->eof = true;
        l->end += got;
    }
}

/* ---- records: rows grouped into orders ---------------------------------------- */

/* One physical record (CSV row or NDJSON line) behind a record. */
struct rowref {
    size_t line, off, len;   /* off/len: its text in the raw buffer */
};

/* One CSV row made JSON, or why it could not be. */
struct row {
    bool bad;
    json_t *rec, *item;      /* owned */
    const char *oid;         /* order id when it is an order row; in the reader */
    size_t line;
    struct cxm_err err;
};

/* An order being assembled from consecutive rows. */
struct grp {
    bool open, bad;
    const char *oid;         /* in the keys arena */
    json_t *rec, *items;
    size_t first_line, last_line;
    struct cxm_err err;
    size_t err_line;
    struct rowref *rows;
    size_t nrows, rowcap;
    size_t *item_lines;
    size_t nitems, itemcap;
    struct buf raw;
};

/* What src_next hands out. Pointers are valid until the next call. */
struct out {
    json_t *rec;             /* SRC_REC: owned by the caller */
    size_t line;             /* where the record starts */
    const size_t *item_lines;
    size_t nitem_lines;
    const struct rowref *rows;
    size_t nrows;
    const char *raw;         /* text of the rows (keep_raw only) */
    struct rowref one;
};

enum { SRC_EOF = 0, SRC_REC = 1, SRC_BAD = 2, SRC_FATAL = -1 };

struct source {
    struct input *in;
    enum kind kind;
    bool keep_raw;           /* keep row text for the rejects file */
    bool list_columns;       /* the fatal error was an unknown column */
    size_t err_line;         /* line of an error in the header */
    /* CSV */
    struct csv_reader *csv;
    struct col *cols;
    size_t ncols;
    long type_col, oid_col;
    struct buf rowraw;
    struct row held;
    bool have_held, at_eof, g_returned;
    struct grp g;
    struct strmap *done;     /* finished order ids -> their last line */
    struct arena keys;
    struct cxm_err last_csv_err;
    /* NDJSON */
    struct lines ln;
    json_t *arr;
    size_t arr_i, arr_line;
    char *elem_raw;
};

static void row_clear(struct row *r)
{
    json_decref(r->rec);
    json_decref(r->item);
    r->rec = r->item = NULL;
}

static void grp_reset(struct grp *g)
{
    json_decref(g->rec);
    json_decref(g->items);
    g->rec = g->items = NULL;
    g->open = g->bad = false;
    g->oid = NULL;
    g->nrows = g->nitems = 0;
    g->raw.len = 0;
}

static void src_close(struct source *s)
{
    csv_free(s->csv);
    for (size_t i = 0; i < s->ncols; i++)
        free(s->cols[i].name);
    free(s->cols);
    buf_free(&s->rowraw);
    row_clear(&s->held);
    grp_reset(&s->g);
    free(s->g.rows);
    free(s->g.item_lines);
    buf_free(&s->g.raw);
    strmap_free(s->done);
    arena_free(&s->keys);
    free(s->ln.buf);
    json_decref(s->arr);
    free(s->elem_raw);
    memset(s, 0, sizeof *s);
}

/* The CSV reader starts its messages with "line N, " or "line N: " and
 * may say "field K: ": take the line out and name the column instead. */
static void csv_err_fix(const struct source *s, struct cxm_err *e, size_t *line)
{
    char *m = e->msg;
    size_t l, k;
    int used = 0;
    if (sscanf(m, "line %zu%n", &l, &used) == 1 && used > 0 &&
        (m[used] == ',' || m[used] == ':')) {
        *line = l;
        used++;
        while (m[used] == ' ')
            used++;
        memmove(m, m + used, strlen(m + used) + 1);
    }
    used = 0;
    if (sscanf(m, "field %zu%n", &k, &used) == 1 && used > 0 && m[used] == ':' &&
        k >= 1 && k <= s->ncols) {
        cxm_strlcpy(e->field, s->cols[k - 1].name, sizeof e->field);
        used++;
        while (m[used] == ' ')
            used++;
        memmove(m, m + used, strlen(m + used) + 1);
    }
}

/* Reads the header and maps its cells to columns. */
static int csv_header(struct source *s, struct cxm_err *err)
{
    char **f;
    size_t nf;
    int rc = csv_next(s->csv, &f, &nf, err);
    if (rc < 0) {
        csv_err_fix(s, err, &s->err_line);
        return CXM_EINVAL;
    }
    if (rc == 0) {
        s->at_eof = true;    /* empty file: no records */
        return CXM_OK;
    }
    if (!(s->cols = cxm_calloc(nf, sizeof *s->cols)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    s->type_col = s->oid_col = -1;
    s->err_line = csv_line(s->csv);
    for (size_t i = 0; i < nf; i++) {
        char t[256];
        struct col *c = &s->cols[i];
        if (!trimmed(f[i], t, sizeof t))
            return cxm_err_set(err, CXM_EINVAL, "column %zu: the name is too long", i + 1);
        if (!t[0])
            return cxm_err_set(err, CXM_EINVAL, "column %zu has no name in the header", i + 1);
        if (!(c->name = cxm_strdup(t)))
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        s->ncols = i + 1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->cols[j].name, t))
                return cxm_err_set(err, CXM_EINVAL, "column '%.64s' appears twice"
                                   " (columns %zu and %zu)", t, j + 1, i + 1);
        if (!col_resolve(s->kind, c->name, c)) {
            s->list_columns = true;
            return cxm_err_set(err, CXM_EINVAL, "unknown column '%.64s' (column %zu)",
                               t, i + 1);
        }
        if (!strcmp(c->name, "type"))
            s->type_col = (long)i;
        if (!strcmp(c->name, "order_id"))
            s->oid_col = (long)i;
    }
    if (s->kind == K_EVENTS && s->type_col < 0)
        return cxm_err_set(err, CXM_EINVAL, "an events file needs a 'type' column"
                           " (customer, interaction, feedback, order, ...)");
    return CXM_OK;
}

/* Builds the record of one CSV row of s->ncols fields. */
static int row_build(struct source *s, char **f, struct row *r)
{
    struct cxm_err *err = &r->err;
    const char *fill = kinds[s->kind].type;
    json_t *rec = r->rec = json_object();
    if (!rec)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (s->type_col >= 0 && f[s->type_col][0]) {
        const char *t = f[s->type_col];
        if (fill && strcmp(t, fill))
            return cxm_err_field(err, CXM_EINVAL, -1, "type", "type '%.24s' does not match"
                                 " --kind %s (use --kind events for mixed files)", t,
                                 kinds[s->kind].name);
        fill = t;
    }
    int rc;
    if (fill && (rc = jset(rec, "type", json_string(fill), err)))
        return rc;
    const char *first_item_col = NULL;
    for (size_t i = 0; i < s->ncols; i++) {
        const struct col *c = &s->cols[i];
        if (!f[i][0] || (long)i == s->type_col)
            continue;
        json_t *v, *dst = rec;
        if ((rc = cell_json(c, f[i], &v, err)))
            return rc;
        switch (c->dest) {
        case D_FIELD: break;
        case D_CONSENT: dst = sub_object(rec, "consent"); break;
        case D_ATTR: dst = sub_object(rec, "attributes"); break;
        case D_IDENT: dst = sub_object(rec, "identities"); break;
        case D_ITEM:
            if (!first_item_col)
                first_item_col = c->name;
            if (!r->item && !(r->item = json_object())) {
                json_decref(v);
                return cxm_err_set(err, CXM_ENOMEM, "out of memory");
            }
            dst = r->item;
            break;
        }
        if (!dst) {
            json_decref(v);
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        }
        if ((rc = jset(dst, c->key, v, err)))
            return rc;
    }
    if (r->item) {
        json_t *t = json_object_get(rec, "type");
        if (!json_is_string(t) || strcmp(json_string_value(t), "order"))
            return cxm_err_field(err, CXM_EINVAL, -1, first_item_col, "%s is only for"
                                 " order rows", first_item_col);
        if (!json_object_get(r->item, "sku"))
            return cxm_err_field(err, CXM_EINVAL, -1, "sku", "sku is required on a row"
                                 " that gives %s", first_item_col);
    }
    return CXM_OK;
}

/* Reads the next CSV row into *r: SRC_REC (r->bad tells a bad row),
 * SRC_EOF or SRC_FATAL. */
static int csv_row(struct source *s, struct row *r, struct cxm_err *err)
{
    memset(r, 0, sizeof *r);
    cxm_err_clear(&r->err);
    if (s->at_eof)
        return SRC_EOF;
    char **f;
    size_t nf;
    struct cxm_err e;
    cxm_err_clear(&e);
    int rc = csv_next(s->csv, &f, &nf, &e);
    r->line = csv_line(s->csv);
    s->rowraw.len = 0;
    if (rc == 0) {
        s->at_eof = true;
        return SRC_EOF;
    }
    if (rc < 0) {
        csv_err_fix(s, &e, &r->line);
        e.index = (long)r->line;
        /* A syntax error the reader cannot get past repeats itself: the
         * second time it ends the file. */
        if (e.code == CXM_ENOMEM || e.code == CXM_EIO ||
            (s->last_csv_err.code == e.code && s->last_csv_err.index == e.index &&
             !strcmp(s->last_csv_err.msg, e.msg))) {
            *err = e;
            return SRC_FATAL;
        }
        s->last_csv_err = e;
        r->bad = true;
        r->err = e;
        return SRC_REC;
    }
    s->last_csv_err.code = CXM_OK;
    if (s->keep_raw) {
        int brc = CXM_OK;
        for (size_t i = 0; i < nf && !brc; i++) {
            if (i)
                brc = buf_add(&s->rowraw, ",", 1);
            if (!brc)
                brc = import_csv_quote(&s->rowraw, f[i], strlen(f[i]));
        }
        if (brc) {
            *err = (struct cxm_err){.code = brc, .index = -1};
            cxm_strlcpy(err->msg, "out of memory keeping a rejected row", sizeof err->msg);
            return SRC_FATAL;
        }
    }
    if (nf != s->ncols) {
        r->bad = true;
        cxm_err_set(&r->err, CXM_EINVAL, "the row has %zu fields, the header has %zu", nf,
                    s->ncols);
        return SRC_REC;
    }
    if (s->oid_col >= 0 && f[s->oid_col][0] &&
        (s->kind == K_ORDERS ||
         (s->kind == K_EVENTS && !strcmp(f[s->type_col], "order"))))
        r->oid = f[s->oid_col];
    if (row_build(s, f, r)) {
        if (r->err.code == CXM_ENOMEM) {
            *err = r->err;
            row_clear(r);
            return SRC_FATAL;
        }
        r->bad = true;
        row_clear(r);
    }
    return SRC_REC;
}

static int grp_add_row(struct grp *g, size_t line, const char *raw, size_t rawlen)
{
    int rc = cxm_grow((void **)&g->rows, &g->rowcap, g->nrows + 1, sizeof *g->rows);
    if (rc)
        return rc;
    struct rowref *rr = &g->rows[g->nrows++];
    rr->line = line;
    rr->off = g->raw.len;
    rr->len = rawlen;
    g->last_line = line;
    return rawlen ? buf_add(&g->raw, raw, rawlen) : CXM_OK;
}

static void grp_fail(struct grp *g, size_t line, const struct cxm_err *e)
{
    if (g->bad)
        return;
    g->bad = true;
    g->err = *e;
    g->err_line = line;
}

/* Adds row r (taking its JSON) to the open order g. */
static int grp_take(struct source *s, struct row *r, struct cxm_err *err)
{
    struct grp *g = &s->g;
    if (grp_add_row(g, r->line, s->rowraw.p, s->rowraw.len))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (r->bad)
        grp_fail(g, r->line, &r->err);
    if (g->bad) {
        row_clear(r);
        return CXM_OK;
    }
    if (!g->rec) {
        g->rec = r->rec;
        r->rec = NULL;
        if (!(g->items = json_array()))
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    } else {
        /* Order fields may repeat on every row but must agree; the amount
         * is the first one given. */
        const char *key;
        json_t *v;
        json_object_foreach(r->rec, key, v) {
            json_t *have = json_object_get(g->rec, key);
            if (have && (json_equal(have, v) || !strcmp(key, "amount")))
                continue;
            if (have) {
                struct cxm_err e;
                cxm_err_field(&e, CXM_EINVAL, -1, key, "%s differs from the one on line"
                              " %zu of order %.64s", key, g->first_line, g->oid);
                grp_fail(g, r->line, &e);
                row_clear(r);
                return CXM_OK;
            }
            if (json_object_set(g->rec, key, v))
                return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        }
        json_decref(r->rec);
        r->rec = NULL;
    }
    if (r->item) {
        if (g->nitems >= CXM_MAX_ITEMS) {
            struct cxm_err e;
            cxm_err_field(&e, CXM_ETOOBIG, -1, "order_id", "order %.64s has more than %d"
                          " items", g->oid, CXM_MAX_ITEMS);
            grp_fail(g, r->line, &e);
            row_clear(r);
            return CXM_OK;
        }
        if (cxm_grow((void **)&g->item_lines, &g->itemcap, g->nitems + 1,
                     sizeof *g->item_lines) ||
            json_array_append_new(g->items, r->item)) {
            r->item = NULL;
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        }
        r->item = NULL;
        g->item_lines[g->nitems++] = r->line;
    }
    return CXM_OK;
}

/* Opens an order group for row r. */
static int grp_open(struct source *s, struct row *r, struct cxm_err *err)
{
    struct grp *g = &s->g;
    size_t n = strlen(r->oid);
    uint32_t ended;
    g->open = true;
    g->first_line = r->line;
    if (strmap_get(s->done, r->oid, n, &ended)) {
        struct cxm_err e;
        cxm_err_field(&e, CXM_EINVAL, -1, "order_id", "order %.64s continues at line %zu"
                      " but its rows ended at line %u; keep an order's rows together",
                      r->oid, r->line, ended);
        grp_fail(g, r->line, &e);
    }
    if (!(g->oid = arena_strndup(&s->keys, r->oid, n)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return grp_take(s, r, err);
}

/* Closes the open order into o. */
static int grp_finish(struct source *s, struct out *o, struct cxm_err *err)
{
    struct grp *g = &s->g;
    size_t last = g->last_line > UINT32_MAX ? UINT32_MAX : g->last_line;
    if (strmap_put(s->done, g->oid, strlen(g->oid), (uint32_t)last)) {
        cxm_err_set(err, CXM_ENOMEM, "out of memory");
        return SRC_FATAL;
    }
    s->g_returned = true;
    o->rows = g->rows;
    o->nrows = g->nrows;
    o->raw = g->raw.p;
    if (g->bad) {
        *err = g->err;
        o->line = g->err_line;
        return SRC_BAD;
    }
    if (json_array_size(g->items) && json_object_set(g->rec, "items", g->items)) {
        cxm_err_set(err, CXM_ENOMEM, "out of memory");
        return SRC_FATAL;
    }
    o->rec = g->rec;
    g->rec = NULL;
    o->line = g->first_line;
    o->item_lines = g->item_lines;
    o->nitem_lines = g->nitems;
    return SRC_REC;
}

/* A row that is not part of an order group, as a record of its own. */
static int row_single(struct source *s, struct row *r, struct out *o, struct cxm_err *err)
{
    o->one = (struct rowref){.line = r->line, .off = 0, .len = s->rowraw.len};
    o->rows = &o->one;
    o->nrows = 1;
    o->raw = s->rowraw.p;
    o->line = r->line;
    if (r->bad) {
        *err = r->err;
        return SRC_BAD;
    }
    if (r->item) {   /* an order row without an order_id: decode says so */
        json_t *items = json_array();
        if (!items || json_array_append_new(items, r->item) ||
            json_object_set_new(r->rec, "items", items)) {
            r->item = NULL;
            row_clear(r);
            cxm_err_set(err, CXM_ENOMEM, "out of memory");
            return SRC_FATAL;
        }
        r->item = NULL;
    }
    o->rec = r->rec;
    r->rec = NULL;
    return SRC_REC;
}

static int csv_next_rec(struct source *s, struct out *o, struct cxm_err *err)
{
    if (s->g_returned) {
        grp_reset(&s->g);
        s->g_returned = false;
    }
    for (;;) {
        struct row r;
        int rc;
        if (s->have_held) {
            r = s->held;
            s->have_held = false;
            s->held.rec = s->held.item = NULL;
        } else if ((rc = csv_row(s, &r, err)) != SRC_REC) {
            o->line = r.line;
            if (rc == SRC_EOF && s->g.open)
                return grp_finish(s, o, err);
            return rc;
        }
        if (s->g.open && (!r.oid || strcmp(r.oid, s->g.oid))) {
            s->held = r;     /* starts the next record */
            s->have_held = true;
            return grp_finish(s, o, err);
        }
        if (r.oid) {
            rc = s->g.open ? grp_take(s, &r, err) : grp_open(s, &r, err);
            if (rc) {
                row_clear(&r);
                return SRC_FATAL;
            }
            continue;
        }
        rc = row_single(s, &r, o, err);
        row_clear(&r);
        return rc;
    }
}

/* Fills in the type of a record of an NDJSON file (kinds other than
 * events) or says it is the wrong one. */
static int nd_type(struct source *s, json_t *v, struct cxm_err *err)
{
    const char *want = kinds[s->kind].type;
    if (!want || !json_is_object(v))
        return CXM_OK;
    json_t *t = json_object_get(v, "type");
    if (!t)
        return jset(v, "type", json_string(want), err);
    if (json_is_string(t) && strcmp(json_string_value(t), want))
        return cxm_err_field(err, CXM_EINVAL, -1, "type", "type '%.24s' does not match"
                             " --kind %s (use --kind events for mixed files)",
                             json_string_value(t), kinds[s->kind].name);
    return CXM_OK;
}

static int nd_emit(struct source *s, json_t *v, struct out *o, struct cxm_err *err)
{
    int rc = json_is_object(v) ? nd_type(s, v, err)
                               : cxm_err_set(err, CXM_EINVAL, "a record must be a JSON object");
    if (rc) {
        json_decref(v);
        return rc == CXM_ENOMEM ? SRC_FATAL : SRC_BAD;
    }
    o->rec = v;
    return SRC_REC;
}

static int nd_next_rec(struct source *s, struct out *o, struct cxm_err *err)
{
    for (;;) {
        if (s->arr) {
            if (s->arr_i < json_array_size(s->arr)) {
                json_t *v = json_array_get(s->arr, s->arr_i++);
                json_incref(v);
                free(s->elem_raw);
                s->elem_raw = NULL;
                if (s->keep_raw && !(s->elem_raw = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY))) {
                    json_decref(v);
                    cxm_err_set(err, CXM_ENOMEM, "out of memory");
                    return SRC_FATAL;
                }
                o->line = s->arr_line;
                o->one = (struct rowref){.line = s->arr_line, .off = 0,
                                         .len = s->elem_raw ? strlen(s->elem_raw) : 0};
                o->rows = &o->one;
                o->nrows = 1;
                o->raw = s->elem_raw;
                return nd_emit(s, v, o, err);
            }
            json_decref(s->arr);
            s->arr = NULL;
        }
        char *p;
        size_t n;
        int rc = lines_next(&s->ln, &p, &n);
        o->line = s->ln.line;
        if (rc == LN_EOF)
            return SRC_EOF;
        if (rc == LN_EIO) {
            cxm_err_set(err, CXM_EIO, "read error: %s", strerror(errno));
            return SRC_FATAL;
        }
        o->one = (struct rowref){.line = s->ln.line, .off = 0, .len = rc == LN_LINE ? n : 0};
        o->rows = &o->one;
        o->nrows = 1;
        o->raw = rc == LN_LINE ? p : "";
        if (rc == LN_LONG) {
            cxm_err_set(err, CXM_ETOOBIG, "the line is longer than %u bytes", MAX_LINE);
            return SRC_BAD;
        }
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\t'))
            k++;
        if (k == n)
            continue;
        json_error_t je;
        json_t *v = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
        if (!v) {
            cxm_err_set(err, CXM_EINVAL, "invalid JSON at column %d: %s", je.column, je.text);
            return SRC_BAD;
        }
        if (json_is_array(v)) {   /* a line may hold an array of records */
            s->arr = v;
            s->arr_i = 0;
            s->arr_line = s->ln.line;
            continue;
        }
        return nd_emit(s, v, o, err);
    }
}

/* Opens a record source over in (read from its start). */
static int src_open(struct source *s, struct input *in, enum kind k, bool keep_raw,
                    struct cxm_err *err)
{
    memset(s, 0, sizeof *s);
    s->in = in;
    s->kind = k;
    s->keep_raw = keep_raw;
    s->type_col = s->oid_col = -1;
    buf_init(&s->rowraw, MAX_RAW);
    buf_init(&s->g.raw, MAX_RAW);
    cxm_err_clear(&s->last_csv_err);
    in->bytes = 0;
    if (lseek(in->fd, 0, SEEK_SET) < 0)
        return cxm_err_set(err, CXM_EIO, "cannot rewind: %s", strerror(errno));
    if (in->format == FMT_NDJSON) {
        s->ln.in = in;
        return CXM_OK;
    }
    if (!(s->csv = csv_new(fd_read, in)) || !(s->done = strmap_new()))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return csv_header(s, err);
}

/* The next record: SRC_REC (o->rec), SRC_BAD (err names why, o->line and
 * o->rows the rows), SRC_EOF or SRC_FATAL (err). */
static int src_next(struct source *s, struct out *o, struct cxm_err *err)
{
    memset(o, 0, sizeof *o);
    cxm_err_clear(err);
    return s->in->format == FMT_NDJSON ? nd_next_rec(s, o, err) : csv_next_rec(s, o, err);
}

#ifdef CXM_TEST
/* CSV rows as records, for the unit tests: header and rows give a CSV
 * text; *out gets the records as a JSON array text (caller frees). Returns
 * the line of the first bad record with err set, 0 when all are good, -1
 * on a fatal error. */
CXM_TESTABLE long import_csv_records(const char *kind, const char *csv, char **out,
                                     struct cxm_err *err)
{
    char path[] = "/tmp/cxm-import-test-XXXXXX";
    int fd = mkstemp(path);
    long ret = -1;
    *out = NULL;
    if (fd < 0)
        return -1;
    unlink(path);
    size_t n = strlen(csv);
    if (write(fd, csv, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    enum kind k = K_COUNT;
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kinds[i].name, kind))
            k = (enum kind)i;
    struct input in = {.name = "test", .fd = fd, .format = FMT_CSV};
    struct source s;
    memset(&s, 0, sizeof s);
    json_t *arr = json_array();
    if (k == K_COUNT || !arr || src_open(&s, &in, k, false, err)) {
        src_close(&s);
        json_decref(arr);
        close(fd);
        return -1;
    }
    for (;;) {
        struct out o;
        int rc = src_next(&s, &o, err);
        if (rc == SRC_EOF) {
            ret = 0;
            break;
        }
        if (rc == SRC_BAD) {
            ret = (long)o.line;
            break;
        }
        if (rc != SRC_REC)
            break;
        json_array_append_new(arr, o.rec);
    }
    src_close(&s);
    close(fd);
    *out = json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(arr);
    return ret;
}
#endif

/* ---- progress ------------------------------------------------------------------ */

struct progress {
    bool on;                 /* stderr is a terminal */
    const char *phase;
    double t0, last;
    int width;               /* of the line on screen, 0 when none */
};

static void human_bytes(uint64_t n, char *out, size_t outsz)
{
    static const char *const unit[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    if (snprintf(out, outsz, u ? "%.1f %s" : "%.0f %s", v, unit[u]) >= (int)outsz)
        out[0] = '\0';
}

static void progress_clear(struct progress *p)
{
    if (p->width) {
        fprintf(stderr, "\r%*s\r", p->width, "");
        p->width = 0;
    }
}

static void progress_start(struct progress *p, const char *phase)
{
    p->phase = phase;
    p->t0 = p->last = cxm_seconds();
}

static void progress_draw(struct progress *p, const struct input *in, size_t records)
{
    double t = cxm_seconds();
    if (!p->on || t - p->last < 0.1)
        return;
    p->last = t;
    char done[24], total[24], bar[23], line[200];
    human_bytes(in->bytes, done, sizeof done);
    double rate = (double)records / (t - p->t0 > 1e-3 ? t - p->t0 : 1e-3);
    int n;
    if (in->size) {
        double f = (double)in->bytes / (double)in->size;
        if (f > 1)
            f = 1;
        int fill = (int)(f * 20);
        bar[0] = '[';
        for (int i = 0; i < 20; i++)
            bar[1 + i] = i < fill ? '#' : '.';
        bar[21] = ']';
        bar[22] = '\0';
        human_bytes(in->size, total, sizeof total);
        n = snprintf(line, sizeof line, "cxm %s: %.40s: %s %s %3d%% %s/%s %.0f records/s",
                     CMD, in->name, p->phase, bar, (int)(f * 100), done, total, rate);
    } else {
        n = snprintf(line, sizeof line, "cxm %s: %.40s: %s %s %.0f records/s", CMD,
                     in->name, p->phase, done, rate);
    }
    if (n < 0)
        return;
    if (n >= (int)sizeof line)
        n = (int)sizeof line - 1;
    fprintf(stderr, "\r%s%*s", line, p->width > n ? p->width - n : 0, "");
    p->width = n;
}

/* ---- the import ------------------------------------------------------------------ */

/* Records handed to the writer as one unit of work. Two of them let the
 * next batch be read and decoded while the writer commits the last one. */
struct batch {
    struct imp *im;
    json_t **recs;           /* the events borrow their strings */
    struct event *evs;
    size_t *lines;
    size_t n;
    struct arena a;
    struct engine_work w;
    bool busy;               /* submitted and not done; guarded by im->mu */
    bool submitted;          /* w holds a result to count */
};

struct imp {
    enum kind kind;
    int format;
    size_t batch;
    const char *rejects_path;
    FILE *rejects;
    struct engine *e;
    int64_t now;
    size_t ncust;            /* customers before the file: customer_id <= this */
    struct progress prog;
    /* the current file */
    size_t stored, dups, rejected, records;
    struct batch b[2];
    struct batch *cur;       /* being filled */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* Prints "cxm import: FILE:LINE: field F: message". */
static void report(struct imp *im, const struct input *in, size_t line,
                   const struct cxm_err *err)
{
    progress_clear(&im->prog);
    const char *msg = err->msg[0] ? err->msg : cxm_rc_str(err->code);
    fprintf(stderr, "cxm %s: %s", CMD, in->name);
    if (line)
        fprintf(stderr, ":%zu", line);
    if (err->field[0])
        fprintf(stderr, ": field %s", err->field);
    fprintf(stderr, ": %s\n", msg);
}

/* Names CSV columns in errors event_decode raised about JSON fields, and
 * places errors about an order's items on the row of the item. */
static void map_error(const struct source *s, const struct out *o, struct cxm_err *err,
                      size_t *line)
{
    char *f = err->field;
    size_t k;
    int used = 0;
    if (sscanf(f, "items[%zu]%n", &k, &used) == 1 && used > 0) {
        if (k < o->nitem_lines)
            *line = o->item_lines[k];
        if (f[used] == '.')
            memmove(f, f + used + 1, strlen(f + used + 1) + 1);
        else if (s->in->format == FMT_CSV)   /* "items[2].qty must be more than 0" */
            cxm_strlcpy(f, strstr(err->msg, ".qty") ? "qty" : "sku", sizeof err->field);
        /* A CSV row is one item: drop "items[2]." from the message. */
        char *m = err->msg;
        if (s->in->format == FMT_CSV && sscanf(m, "items[%zu]%n", &k, &used) == 1 &&
            used > 0 && m[used] == '.')
            memmove(m, m + used + 1, strlen(m + used + 1) + 1);
        return;
    }
    if (s->in->format != FMT_CSV)
        return;
    if (!strncmp(f, "consent.", 8)) {
        f[7] = '_';
    } else if (!strncmp(f, "identities.", 11)) {
        for (size_t i = 0; i < s->ncols; i++)
            if (!strcmp(s->cols[i].name, f + 11))
                memmove(f, f + 11, strlen(f + 11) + 1);
    }
}

/* Decodes and checks one record; the event's strings borrow from rec and
 * the arena a. */
static int check(struct imp *im, json_t *rec, long idx, struct arena *a, struct event *ev,
                 struct cxm_err *err)
{
    int rc = event_decode(rec, idx, im->now, a, ev, err);
    if (rc)
        return rc;
    if (ev->customer_id && (uint64_t)ev->customer_id > im->ncust)
        return cxm_err_field(err, CXM_EINVAL, idx, "customer_id", "unknown customer_id"
                             " %lld (the database has %zu customers)",
                             (long long)ev->customer_id, im->ncust);
    return CXM_OK;
}

static int write_rejects(struct imp *im, const struct input *in, const struct out *o,
                         const struct cxm_err *err)
{
    struct buf b;
    buf_init(&b, MAX_RAW + 4096);
    int rc = CXM_OK;
    const char *msg = err->msg[0] ? err->msg : cxm_rc_str(err->code);
    for (size_t i = 0; i < o->nrows && !rc; i++) {
        const struct rowref *r = &o->rows[i];
        b.len = 0;
        rc = import_csv_quote(&b, in->name, strlen(in->name));
        if (!rc)
            rc = buf_printf(&b, ",%zu,", r->line);
        if (!rc)
            rc = import_csv_quote(&b, err->field, strlen(err->field));
        if (!rc)
            rc = buf_add(&b, ",", 1);
        if (!rc)
            rc = import_csv_quote(&b, msg, strlen(msg));
        if (!rc)
            rc = buf_add(&b, ",", 1);
        if (!rc && o->raw)
            rc = import_csv_quote(&b, o->raw + r->off, r->len);
        if (!rc)
            rc = buf_add(&b, "\r\n", 2);
        if (!rc && fwrite(b.p, 1, b.len, im->rejects) != b.len)
            rc = CXM_EIO;
    }
    buf_free(&b);
    return rc;
}

/* Called by the writer thread. */
static void batch_done(struct engine_work *w)
{
    struct batch *b = w->ctx;
    pthread_mutex_lock(&b->im->mu);
    b->busy = false;
    pthread_cond_broadcast(&b->im->cv);
    pthread_mutex_unlock(&b->im->mu);
}

/* Hands b to the writer (nothing when it is empty). */
static int batch_submit(struct imp *im, struct batch *b, const struct input *in)
{
    if (!b->n)
        return CXM_OK;
    b->w = (struct engine_work){.op = ENGINE_INGEST, .ev = b->evs, .n = b->n,
                                .done = batch_done, .ctx = b};
    b->busy = b->submitted = true;
    int rc = engine_submit(im->e, &b->w);
    if (rc) {
        b->busy = b->submitted = false;
        struct cxm_err err;
        cxm_err_set(&err, rc, "the engine is shutting down");
        err.field[0] = '\0';
        report(im, in, 0, &err);
    }
    return rc;
}

/* Waits for b's work, counts what it stored and empties b. Reports a
 * failure naming the record's line. */
static int batch_wait(struct imp *im, struct batch *b, const struct input *in)
{
    pthread_mutex_lock(&im->mu);
    while (b->busy)
        pthread_cond_wait(&im->cv, &im->mu);
    pthread_mutex_unlock(&im->mu);
    int rc = CXM_OK;
    if (b->submitted) {
        b->submitted = false;
        if ((rc = b->w.rc)) {
            long i = b->w.err.index;
            report(im, in, i >= 0 && (size_t)i < b->n ? b->lines[i] : 0, &b->w.err);
        } else {
            im->stored += b->w.accepted;
            im->dups += b->w.duplicates;
        }
    }
    for (size_t i = 0; i < b->n; i++)
        json_decref(b->recs[i]);
    b->n = 0;
    arena_free(&b->a);
    return rc;
}

/* One pass over the file: check only (store false) or check and store.
 * Returns 0 or CXM_EINVAL after reporting why. */
static int run_pass(struct imp *im, struct input *in, bool store)
{
    struct source s;
    struct cxm_err err;
    cxm_err_clear(&err);
    int ret = CXM_EINVAL;
    progress_start(&im->prog, store ? "importing" : "checking");
    im->records = im->rejected = 0;
    if (src_open(&s, in, im->kind, store && im->rejects, &err)) {
        report(im, in, s.err_line, &err);
        if (s.list_columns)
            print_allowed(stderr, im->kind);
        goto done;
    }
    size_t since = 0;
    for (;;) {
        struct out o;
        int rc = src_next(&s, &o, &err);
        if (rc == SRC_EOF)
            break;
        if (rc == SRC_FATAL) {
            report(im, in, o.line, &err);
            goto done;
        }
        size_t line = o.line;
        if (rc == SRC_REC) {
            struct event ev;
            struct batch *b = im->cur;
            if (check(im, o.rec, (long)im->records, &b->a, store ? &b->evs[b->n] : &ev,
                      &err)) {
                if (err.code == CXM_ENOMEM) {
                    json_decref(o.rec);
                    report(im, in, line, &err);
                    goto done;
                }
                map_error(&s, &o, &err, &line);
                json_decref(o.rec);
                rc = SRC_BAD;
            }
        }
        im->records++;
        if (im->records % 64 == 0)
            progress_draw(&im->prog, in, im->records);
        if (rc == SRC_BAD) {
            im->rejected++;
            if (!im->rejects) {
                report(im, in, line, &err);
                goto done;
            }
            if (store && write_rejects(im, in, &o, &err)) {
                progress_clear(&im->prog);
                fprintf(stderr, "cxm %s: %s: cannot write: %s\n", CMD, im->rejects_path,
                        strerror(errno));
                goto done;
            }
            continue;
        }
        if (!store) {
            json_decref(o.rec);
            if (++since >= im->batch) {   /* decoded strings are no longer needed */
                arena_free(&im->cur->a);
                since = 0;
            }
            continue;
        }
        struct batch *b = im->cur;
        b->recs[b->n] = o.rec;
        b->lines[b->n] = line;
        if (++b->n == im->batch) {
            if (batch_submit(im, b, in))
                goto done;
            im->cur = b == &im->b[0] ? &im->b[1] : &im->b[0];
            if (batch_wait(im, im->cur, in))
                goto done;
        }
    }
    if (store && batch_submit(im, im->cur, in))
        goto done;
    ret = CXM_OK;
done:
    /* The writer may still hold a batch: wait before anything is freed. */
    for (size_t i = 0; i < 2; i++)
        if (batch_wait(im, &im->b[i], in))
            ret = CXM_EINVAL;
    src_close(&s);
    progress_clear(&im->prog);
    return ret;
}

/* Opens path ("-": stdin) as a seekable file: stdin and pipes are copied
 * to an unlinked temporary file so they can be read twice. */
static int input_open(struct input *in, const char *path, int format, struct cxm_err *err)
{
    bool std = !strcmp(path, "-");
    in->name = std ? "stdin" : path;
    in->fd = std ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0)
        return cxm_err_set(err, CXM_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(in->fd, &st) != 0) {
        int e = errno;
        if (!std)
            close(in->fd);
        in->fd = -1;
        return cxm_err_set(err, CXM_EIO, "%s: %s", in->name, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(in->fd);
        in->fd = -1;
        return cxm_err_set(err, CXM_EINVAL, "%s is a directory", path);
    }
    if (!S_ISREG(st.st_mode) || std) {
        const char *dir = getenv("TMPDIR");
        char tmp[4096];
        int n = snprintf(tmp, sizeof tmp, "%s/cxm-import-XXXXXX", dir && *dir ? dir : "/tmp");
        int src = in->fd;
        in->fd = n > 0 && n < (int)sizeof tmp ? mkstemp(tmp) : -1;
        if (in->fd < 0) {
            if (!std)
                close(src);
            return cxm_err_set(err, CXM_EIO, "cannot create a temporary file in %s: %s",
                               dir && *dir ? dir : "/tmp", strerror(errno));
        }
        unlink(tmp);
        char b[64 * 1024];
        int rc = CXM_OK;
        for (;;) {
            ssize_t r = read(src, b, sizeof b);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                if (r < 0)
                    rc = cxm_err_set(err, CXM_EIO, "%s: read error: %s", in->name,
                                     strerror(errno));
                break;
            }
            for (ssize_t off = 0; off < r && !rc;) {
                ssize_t w = write(in->fd, b + off, (size_t)(r - off));
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0)
                    rc = cxm_err_set(err, CXM_EIO, "copying %s to a temporary file: %s",
                                     in->name, strerror(errno));
                else
                    off += w;
            }
            if (rc)
                break;
        }
        if (!std)
            close(src);
        if (rc || fstat(in->fd, &st) != 0) {
            close(in->fd);
            in->fd = -1;
            return rc ? rc : cxm_err_set(err, CXM_EIO, "%s", strerror(errno));
        }
    }
    in->size = (uint64_t)st.st_size;
    in->format = format != FMT_AUTO ? format : std ? FMT_AUTO : import_format_of_name(path);
    if (in->format == FMT_AUTO) {
        char head[4096];
        ssize_t n = pread(in->fd, head, sizeof head, 0);
        in->format = import_format_sniff(head, n > 0 ? (size_t)n : 0);
    }
    return CXM_OK;
}

/* Imports one file: check it whole, then store it. EXIT_OK or EXIT_FAIL. */
static int import_file(struct imp *im, const char *path)
{
    struct input in = {.fd = -1};
    struct cxm_err err;
    cxm_err_clear(&err);
    if (input_open(&in, path, im->format, &err)) {
        fprintf(stderr, "cxm %s: %s\n", CMD, err.msg);
        return EXIT_FAIL;
    }
    double t0 = cxm_seconds();
    struct engine_stats st;
    engine_stats(im->e, &st);
    im->ncust = st.customers;
    im->stored = im->dups = 0;
    int ret = EXIT_FAIL;
    if (run_pass(im, &in, false)) {
        fprintf(stderr, "cxm %s: %s: nothing stored from this file%s\n", CMD, in.name,
                im->rejects ? "" : " (fix it, or pass --skip-bad FILE to import the good"
                " records)");
        goto done;
    }
    if (run_pass(im, &in, true)) {
        if (im->stored)
            fprintf(stderr, "cxm %s: %s: %zu records were stored before the error\n", CMD,
                    in.name, im->stored);
        goto done;
    }
    double dt = cxm_seconds() - t0;
    fprintf(stderr, "cxm %s: %s: %zu records stored, %zu duplicates, %zu rejected in %.2f s"
            " (%.0f records/s)\n", CMD, in.name, im->stored, im->dups, im->rejected, dt,
            (double)im->records / (dt > 1e-6 ? dt : 1e-6));
    ret = EXIT_OK;
done:
    if (in.fd >= 0 && in.fd != STDIN_FILENO)
        close(in.fd);
    return ret;
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: cxm import [--db FILE] --kind KIND [--format csv|ndjson]\n"
"                  [--skip-bad REJECTS.csv] [--batch N] FILE...\n"
"\n"
"Loads customers, interactions, feedback or orders from CSV or NDJSON files\n"
"('-' reads stdin), with the validation of the HTTP API. Each file is checked\n"
"whole first: a bad record stops it and nothing from it is stored.\n"
"\n"
"  --db FILE        database (default $CXM_DB or cxm.db); no server may be using it\n"
"  --kind KIND      customers, interactions, feedback, orders, or events (each\n"
"                   record names its own type)\n"
"  --format FMT     csv or ndjson (default: from the extension .csv, .ndjson,\n"
"                   .jsonl, .json, else from the first character)\n"
"  --skip-bad FILE  write bad records to FILE (CSV: file,line,field,error,record)\n"
"                   and import the good ones\n"
"  --batch N        records per commit (default %d, at most %d)\n"
"  -h, --help       show this help\n"
"\n"
"CSV: the header names the fields of the ingest format (type, event_id, ts,\n"
"customer_id, email, phone, ..., see docs); an empty cell is absent. Also:\n"
"consent_marketing, consent_surveys, consent_personalisation (true/false),\n"
"attr.NAME (custom attributes), identity columns such as social:twitter.\n"
"Orders take one row per line item (order_id, ..., sku, category, qty, price);\n"
"the rows of one order must be adjacent.\n"
"NDJSON: one JSON record per line.\n"
"\n"
"Exit status: 0 ok, 1 failure, 2 bad usage.\n", DEFAULT_BATCH, CXM_MAX_BATCH);
}

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"kind", required_argument, NULL, 'k'},
        {"format", required_argument, NULL, 'f'},
        {"skip-bad", required_argument, NULL, 's'},
        {"batch", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct imp im = {.kind = K_COUNT, .format = FMT_AUTO, .batch = DEFAULT_BATCH};
    const char *db = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'k':
            for (int i = 0; i < K_COUNT; i++)
                if (!strcmp(optarg, kinds[i].name) || !strcmp(optarg, kinds[i].singular))
                    im.kind = (enum kind)i;
            if (im.kind == K_COUNT)
                return cli_usage(CMD, "unknown --kind '%s' (customers, interactions,"
                                 " feedback, orders, events)", optarg);
            break;
        case 'f':
            if (!strcmp(optarg, "csv"))
                im.format = FMT_CSV;
            else if (!strcmp(optarg, "ndjson") || !strcmp(optarg, "jsonl"))
                im.format = FMT_NDJSON;
            else
                return cli_usage(CMD, "unknown --format '%s' (csv, ndjson)", optarg);
            break;
        case 's':
            im.rejects_path = optarg;
            break;
        case 'b': {
            int64_t n;
            if (!cxm_parse_i64(optarg, &n) || n < 1 || n > CXM_MAX_BATCH)
                return cli_usage(CMD, "--batch must be a number from 1 to %d", CXM_MAX_BATCH);
            im.batch = (size_t)n;
            break;
        }
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case ':':
            return cli_usage(CMD, "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (im.kind == K_COUNT)
        return cli_usage(CMD, "--kind is required (customers, interactions, feedback,"
                         " orders, events)");
    if (optind >= argc)
        return cli_usage(CMD, "no FILE to import (use - for stdin)");

    int ret = EXIT_FAIL;
    struct cxm_err err;
    cxm_err_clear(&err);
    pthread_mutex_init(&im.mu, NULL);
    pthread_cond_init(&im.cv, NULL);
    im.cur = &im.b[0];
    for (size_t i = 0; i < 2; i++) {
        struct batch *b = &im.b[i];
        b->im = &im;
        if (!(b->recs = cxm_calloc(im.batch, sizeof *b->recs)) ||
            !(b->evs = cxm_calloc(im.batch, sizeof *b->evs)) ||
            !(b->lines = cxm_calloc(im.batch, sizeof *b->lines))) {
            cxm_err_set(&err, CXM_ENOMEM, "out of memory");
            cli_fail(CMD, &err);
            goto done;
        }
    }
    /* The engine's replay log line is noise on an import's stderr. */
    log_set_level(LOG_WARN);
    if (engine_open(cli_db(db), &(struct engine_opts){.sync = STORE_SYNC_FULL, .lock = true},
                    &im.e, &err)) {
        cli_fail(CMD, &err);
        goto done;
    }
    if (im.rejects_path) {
        if (!(im.rejects = fopen(im.rejects_path, "w"))) {
            cxm_err_set(&err, CXM_EIO, "%s: %s", im.rejects_path, strerror(errno));
            cli_fail(CMD, &err);
            goto done;
        }
        fputs("file,line,field,error,record\r\n", im.rejects);
    }
    im.now = (int64_t)time(NULL);
    im.prog.on = isatty(STDERR_FILENO);
    ret = EXIT_OK;
    for (int i = optind; i < argc && ret == EXIT_OK; i++)
        ret = import_file(&im, argv[i]);
done:
    engine_close(im.e);
    if (im.rejects) {
        bool bad = ferror(im.rejects) != 0;
        if (fclose(im.rejects) != 0 || bad) {
            fprintf(stderr, "cxm %s: %s: cannot write: %s\n", CMD, im.rejects_path,
                    bad ? "write error" : strerror(errno));
            ret = EXIT_FAIL;
        }
    }
    for (size_t i = 0; i < 2; i++) {
        free(im.b[i].recs);
        free(im.b[i].evs);
        free(im.b[i].lines);
    }
    pthread_mutex_destroy(&im.mu);
    pthread_cond_destroy(&im.cv);
    return ret;
}
