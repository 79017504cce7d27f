/* evscan.c - the ingest body scanner. Batched ingest spent half of the
 * server's CPU building jansson trees only to look fields up in them;
 * this reads the bytes once into a struct evrec per record and runs the
 * same validation (event_decode_rec). It accepts a strict subset of JSON
 * and falls back to jansson for anything else, so jansson's messages stay
 * the reference. */
#include "engine/evscan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxm_limits.h"

#define FALLBACK EVSCAN_FALLBACK

/* Nesting the scanner follows inside a field's value before it gives up
 * (jansson allows 2048; records nest a few levels). */
#define SCAN_MAX_DEPTH 32
/* Distinct unknown keys one record may hold before the scanner gives up:
 * they are compared pairwise to catch duplicates. */
#define SCAN_MAX_UNKNOWN 8
/* Longest real number copied for strtod. */
#define SCAN_MAX_NUMBER 64

#define BIT(f) (UINT64_C(1) << (f))

struct scan {
    const unsigned char *p, *end;
    struct arena *a;
    const char *route_type;
    int64_t now;
    struct event *evs;
    size_t n, cap;          /* records seen; evs[0..n) decoded unless failed */
    bool failed;            /* a record's error is in ferr */
    int frc;
    struct cxm_err ferr;
    struct evrec rec;
    const char *unk[SCAN_MAX_UNKNOWN];
    size_t unk_len[SCAN_MAX_UNKNOWN], nunk;
};

static void skip_ws(struct scan *sc)
{
    const unsigned char *p = sc->p;
    while (p < sc->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    sc->p = p;
}

static bool at(const struct scan *sc, unsigned char c)
{
    return sc->p < sc->end && *sc->p == c;
}

static int hex4(const unsigned char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Bytes of the well-formed UTF-8 sequence at p (first byte >= 0x80), 0
 * when it is not (Unicode table 3-7, which jansson enforces too). */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;   /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* sc->p at a string's opening quote: checks it as jansson would accept it
 * and leaves sc->p after the closing quote. *raw, *rawlen: the bytes
 * between the quotes; *esc: whether they hold escapes. */
static int string_span(struct scan *sc, const unsigned char **raw, size_t *rawlen,
                       bool *esc)
{
    const unsigned char *p = sc->p + 1, *end = sc->end;
    bool e = false;
    for (;;) {
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p >= end)
            return FALLBACK;
        unsigned char c = *p;
        if (c == '"')
            break;
        if (c < 0x20)   /* jansson: control character in a string */
            return FALLBACK;
        if (c == '\\') {
            e = true;
            if (end - p < 2)
                return FALLBACK;
            unsigned char x = p[1];
            if (x == 'u') {
                /* \u0000 and lone surrogates are jansson errors. */
                int cp = end - p >= 6 ? hex4(p + 2) : -1;
                if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                    return FALLBACK;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    int low = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return FALLBACK;
                    p += 12;
                } else {
                    p += 6;
                }
            } else if (x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' ||
                       x == 'n' || x == 'r' || x == 't') {
                p += 2;
            } else {
                return FALLBACK;
            }
            continue;
        }
        size_t k = utf8_seq(p, end);
        if (!k)
            return FALLBACK;
        p += k;
    }
    *raw = sc->p + 1;
    *rawlen = (size_t)(p - *raw);
    *esc = e;
    sc->p = p + 1;
    return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The string checked by string_span, decoded and NUL-terminated in the
 * arena (escapes only shrink it). NULL on OOM. */
static char *string_copy(struct scan *sc, const unsigned char *s, size_t n, bool esc,
                         size_t *outlen)
{
    if (!esc) {
        *outlen = n;
        return arena_strndup(sc->a, (const char *)s, n);
    }
    size_t sz;
    char *o = cxm_add_size(n, 1, &sz) ? arena_alloc(sc->a, sz) : NULL;
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            o[j++] = (char)s[i++];
            continue;
        }
        unsigned char x = s[i + 1];
        i += 2;
        switch (x) {
        case 'b': o[j++] = '\b'; break;
        case 'f': o[j++] = '\f'; break;
        case 'n': o[j++] = '\n'; break;
        case 'r': o[j++] = '\r'; break;
        case 't': o[j++] = '\t'; break;
        case 'u': {
            unsigned cp = (unsigned)hex4(s + i);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned low = (unsigned)hex4(s + i + 2);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            }
            j += utf8_put(o + j, cp);
            break;
        }
        default: o[j++] = (char)x; break;   /* " \ / */
        }
    }
    o[j] = '\0';
    *outlen = j;
    return o;
}

static bool digit(const struct scan *sc, const unsigned char *p)
{
    return p < sc->end && *p >= '0' && *p <= '9';
}

/* A number by jansson's grammar and split: with '.', 'e' or 'E' a real
 * (strtod: cxm never calls setlocale), else an integer that must fit
 * int64 (jansson: "too big integer"). v may be NULL to only check. */
static int scan_number(struct scan *sc, struct evval *v)
{
    const unsigned char *s = sc->p, *p = s;
    bool neg = false, real = false;
    if (p < sc->end && *p == '-') {
        neg = true;
        p++;
    }
    if (!digit(sc, p))
        return FALLBACK;
    if (*p == '0') {
        p++;
        if (digit(sc, p))
            return FALLBACK;
    } else {
        while (digit(sc, p))
            p++;
    }
    const unsigned char *int_end = p;
    if (p < sc->end && *p == '.') {
        p++;
        if (!digit(sc, p))
            return FALLBACK;
        while (digit(sc, p))
            p++;
        real = true;
    }
    if (p < sc->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < sc->end && (*p == '+' || *p == '-'))
            p++;
        if (!digit(sc, p))
            return FALLBACK;
        while (digit(sc, p))
            p++;
        real = true;
    }
    sc->p = p;
    if (!real) {
        uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (const unsigned char *q = s + neg; q < int_end; q++) {
            unsigned d = (unsigned)(*q - '0');
            if (acc > (lim - d) / 10)
                return FALLBACK;
            acc = acc * 10 + d;
        }
        if (v) {
            v->kind = EVK_INTEGER;
            v->i = !neg ? (int64_t)acc
                        : acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
        }
        return 0;
    }
    size_t n = (size_t)(p - s);
    char buf[SCAN_MAX_NUMBER];
    if (n >= sizeof buf)
        return FALLBACK;
    memcpy(buf, s, n);
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (isinf(d))   /* jansson: "real number overflow" */
        return FALLBACK;
    if (v) {
        v->kind = EVK_REAL;
        v->d = d;
    }
    return 0;
}

static int scan_literal(struct scan *sc, struct evval *v)
{
    static const struct { const char *s; size_t n; unsigned char kind; } lit[] = {
        {"true", 4, EVK_TRUE}, {"false", 5, EVK_FALSE}, {"null", 4, EVK_NULL}};
    for (size_t i = 0; i < 3; i++)
        if ((size_t)(sc->end - sc->p) >= lit[i].n && memcmp(sc->p, lit[i].s, lit[i].n) == 0) {
            sc->p += lit[i].n;
            if (v)
                v->kind = lit[i].kind;
            return 0;
        }
    return FALLBACK;
}

/* Checks any value at sc->p and moves past it. Duplicate keys inside are
 * not checked: the span goes through jansson before it is trusted. */
static int skip_value(struct scan *sc, int depth)
{
    if (sc->p >= sc->end || depth > SCAN_MAX_DEPTH)
        return FALLBACK;
    const unsigned char *raw;
    size_t rawlen;
    bool esc;
    unsigned char c = *sc->p;
    if (c == '"')
        return string_span(sc, &raw, &rawlen, &esc);
    if (c == '-' || (c >= '0' && c <= '9'))
        return scan_number(sc, NULL);
    if (c != '{' && c != '[')
        return scan_literal(sc, NULL);
    unsigned char close = c == '{' ? '}' : ']';
    sc->p++;
    skip_ws(sc);
    if (at(sc, close)) {
        sc->p++;
        return 0;
    }
    for (;;) {
        if (c == '{') {
            if (!at(sc, '"') || string_span(sc, &raw, &rawlen, &esc))
                return FALLBACK;
            skip_ws(sc);
            if (!at(sc, ':'))
                return FALLBACK;
            sc->p++;
            skip_ws(sc);
        }
        if (skip_value(sc, depth + 1))
            return FALLBACK;
        skip_ws(sc);
        if (at(sc, ',')) {
            sc->p++;
            skip_ws(sc);
        } else if (at(sc, close)) {
            sc->p++;
            return 0;
        } else {
            return FALLBACK;
        }
    }
}

/* Lets jansson check a span skip_value accepted: it would refuse a
 * duplicate key anywhere in it. */
static int check_span(const unsigned char *s, size_t n)
{
    json_t *j = json_loadb((const char *)s, n, JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        return FALLBACK;
    json_decref(j);
    return 0;
}

/* A field's value into v: strings decoded into the arena, objects and
 * arrays as raw spans. */
static int scan_value(struct scan *sc, struct evval *v)
{
    memset(v, 0, sizeof *v);
    if (sc->p >= sc->end)
        return FALLBACK;
    unsigned char c = *sc->p;
    if (c == '"') {
        const unsigned char *raw;
        size_t rawlen;
        bool esc;
        if (string_span(sc, &raw, &rawlen, &esc))
            return FALLBACK;
        if (!(v->str = string_copy(sc, raw, rawlen, esc, &v->len)))
            return FALLBACK;    /* OOM: jansson will say so */
        v->kind = EVK_STRING;
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return scan_number(sc, v);
    if (c == '{' || c == '[') {
        const unsigned char *s = sc->p;
        if (skip_value(sc, 1))
            return FALLBACK;
        v->kind = c == '{' ? EVK_OBJECT : EVK_ARRAY;
        v->str = (const char *)s;
        v->len = (size_t)(sc->p - s);
        return 0;
    }
    return scan_literal(sc, v);
}

/* One record object at sc->p into sc->rec. */
static int scan_record(struct scan *sc)
{
    struct evrec *rec = &sc->rec;
    rec->has = 0;
    rec->norder = rec->unknown_at = 0;
    rec->unknown = NULL;
    sc->nunk = 0;
    if (!at(sc, '{'))
        return FALLBACK;
    sc->p++;
    skip_ws(sc);
    if (at(sc, '}')) {
        sc->p++;
        return 0;
    }
    for (;;) {
        const unsigned char *raw;
        size_t rawlen;
        bool esc;
        if (!at(sc, '"') || string_span(sc, &raw, &rawlen, &esc))
            return FALLBACK;
        const char *key = (const char *)raw;
        size_t klen = rawlen;
        if (esc && !(key = string_copy(sc, raw, rawlen, true, &klen)))
            return FALLBACK;
        int f = evfield_lookup(key, klen);
        skip_ws(sc);
        if (!at(sc, ':'))
            return FALLBACK;
        sc->p++;
        skip_ws(sc);
        if (f >= 0) {
            if (rec->has & BIT(f))   /* jansson: duplicate object key */
                return FALLBACK;
            if (scan_value(sc, &rec->v[f]))
                return FALLBACK;
            rec->has |= BIT(f);
            rec->order[rec->norder++] = (unsigned char)f;
        } else {
            if (!esc && !(key = arena_strndup(sc->a, key, klen)))
                return FALLBACK;
            for (size_t i = 0; i < sc->nunk; i++)
                if (sc->unk_len[i] == klen && memcmp(sc->unk[i], key, klen) == 0)
                    return FALLBACK;
            if (sc->nunk == SCAN_MAX_UNKNOWN)
                return FALLBACK;
            sc->unk[sc->nunk] = key;
            sc->unk_len[sc->nunk++] = klen;
            if (!rec->unknown) {
                rec->unknown = key;
                rec->unknown_at = rec->norder;
            }
            const unsigned char *s = sc->p;
            if (skip_value(sc, 1))
                return FALLBACK;
            if ((*s == '{' || *s == '[') && check_span(s, (size_t)(sc->p - s)))
                return FALLBACK;
        }
        skip_ws(sc);
        if (at(sc, ',')) {
            sc->p++;
            skip_ws(sc);
        } else if (at(sc, '}')) {
            sc->p++;
            return 0;
        } else {
            return FALLBACK;
        }
    }
}

/* The route's type check and fill-in, as evscan_jansson does on the tree:
 * a string type must match; a missing or non-string one becomes the
 * route's (replacing in place, or added last like json_object_set). */
static int route_type(struct scan *sc, long index)
{
    struct evrec *rec = &sc->rec;
    struct evval *v = &rec->v[EVF_TYPE];
    bool is_str = (rec->has & BIT(EVF_TYPE)) && v->kind == EVK_STRING;
    if (is_str) {
        if (strcmp(v->str, sc->route_type) != 0)
            return cxm_err_field(&sc->ferr, CXM_EINVAL, index, "type",
                                 "this route takes %s records only", sc->route_type);
        return 0;
    }
    /* Replaced unseen: jansson still parsed it. */
    if ((rec->has & BIT(EVF_TYPE)) && (v->kind == EVK_OBJECT || v->kind == EVK_ARRAY) &&
        check_span((const unsigned char *)v->str, v->len))
        return FALLBACK;
    if (!(rec->has & BIT(EVF_TYPE))) {
        rec->has |= BIT(EVF_TYPE);
        rec->order[rec->norder++] = EVF_TYPE;
    }
    memset(v, 0, sizeof *v);
    v->kind = EVK_STRING;
    v->str = sc->route_type;
    v->len = strlen(sc->route_type);
    return 0;
}

/* Decodes the record just scanned, unless an earlier one failed: then
 * only its syntax still matters. */
static int take_record(struct scan *sc)
{
    struct evrec *rec = &sc->rec;
    long index = (long)sc->n;
    if (++sc->n > CXM_MAX_BATCH)   /* jansson's path answers the 413 */
        return FALLBACK;
    int rc;
    if (!sc->failed) {
        if (sc->n > sc->cap &&
            cxm_grow((void **)&sc->evs, &sc->cap, sc->n, sizeof *sc->evs))
            return FALLBACK;
        cxm_err_clear(&sc->ferr);
        rc = sc->route_type ? route_type(sc, index) : 0;
        if (!rc)
            rc = event_decode_rec(rec, index, sc->now, sc->a, &sc->evs[index], &sc->ferr);
        if (rc == EVENT_EBADSPAN || rc == FALLBACK) {
            evrec_release(rec);
            return FALLBACK;
        }
        if (rc) {
            if (sc->ferr.index < 0)
                sc->ferr.index = index;
            sc->failed = true;
            sc->frc = rc;
        }
    }
    /* The spans the decoder did not load still decide whether the body
     * is JSON at all. */
    for (size_t i = 0; i < rec->norder; i++) {
        const struct evval *v = &rec->v[rec->order[i]];
        if ((v->kind == EVK_OBJECT || v->kind == EVK_ARRAY) && !v->json &&
            check_span((const unsigned char *)v->str, v->len)) {
            evrec_release(rec);
            return FALLBACK;
        }
    }
    evrec_release(rec);
    return 0;
}

static int scan_ndjson(struct scan *sc, const unsigned char *body, size_t len)
{
    const unsigned char *p = body, *end = body + len;
    while (p < end) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        const unsigned char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\t'))
            k++;
        if (k < n) {   /* not blank: exactly one object */
            sc->p = p + k;
            sc->end = p + n;
            skip_ws(sc);
            if (scan_record(sc))
                return FALLBACK;
            skip_ws(sc);
            if (sc->p != sc->end || take_record(sc))
                return FALLBACK;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static int scan_json(struct scan *sc, const unsigned char *body, size_t len)
{
    sc->p = body;
    sc->end = body + len;
    skip_ws(sc);
    if (at(sc, '{')) {
        if (scan_record(sc) || take_record(sc))
            return FALLBACK;
    } else if (at(sc, '[')) {
        sc->p++;
        skip_ws(sc);
        if (at(sc, ']')) {
            sc->p++;
        } else {
            for (;;) {
                if (scan_record(sc) || take_record(sc))
                    return FALLBACK;
                skip_ws(sc);
                if (at(sc, ',')) {
                    sc->p++;
                    skip_ws(sc);
                } else if (at(sc, ']')) {
                    sc->p++;
                    break;
                } else {
                    return FALLBACK;
                }
            }
        }
    } else {
        return FALLBACK;
    }
    skip_ws(sc);
    return sc->p == sc->end ? 0 : FALLBACK;
}

int evscan_body(const char *body, size_t len, bool ndjson, const char *route_type,
                int64_t now, struct arena *a, struct event **evs, size_t *n,
                struct cxm_err *err)
{
    struct scan *sc = cxm_malloc(sizeof *sc);
    if (!sc)
        return FALLBACK;
    memset(sc, 0, sizeof *sc);
    sc->a = a;
    sc->route_type = route_type;
    sc->now = now;
    /* About 150 bytes a record: avoids most regrowing. */
    size_t guess = len / 128 + 1;
    if (guess > CXM_MAX_BATCH)
        guess = CXM_MAX_BATCH;
    int rc = cxm_grow((void **)&sc->evs, &sc->cap, guess, sizeof *sc->evs) ? FALLBACK : 0;
    if (!rc)
        rc = ndjson ? scan_ndjson(sc, (const unsigned char *)body, len)
                    : scan_json(sc, (const unsigned char *)body, len);
    if (!rc && sc->failed) {
        rc = sc->frc;
        if (err)
            *err = sc->ferr;
    }
    if (rc) {
        free(sc->evs);
    } else {
        *evs = sc->evs;
        *n = sc->n;
    }
    free(sc);
    return rc;
}

/* ---- the jansson path ------------------------------------------------------ */

/* NDJSON: one record per line; blank lines are skipped. The error names
 * the record index (counting records) and the line. */
static int parse_ndjson(const char *body, size_t len, json_t **out, struct cxm_err *err)
{
    json_t *arr = json_array();
    if (!arr)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    const char *p = body, *end = body + len;
    long line = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\t'))
            k++;
        if (k < n) {
            json_error_t je;
            json_t *v = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
            if (!v) {
                cxm_err_field(err, CXM_EINVAL, (long)json_array_size(arr), "",
                              "line %ld, column %d: %s", line, je.column, je.text);
                json_decref(arr);
                return EVSCAN_EJSON;
            }
            if (json_array_append_new(arr, v)) {
                json_decref(arr);
                return cxm_err_set(err, CXM_ENOMEM, "out of memory");
            }
        }
        p = nl ? nl + 1 : end;
    }
    *out = arr;
    return 0;
}

static int parse_json(const char *body, size_t len, json_t **out, struct cxm_err *err)
{
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!v) {
        cxm_err_set(err, CXM_EINVAL, "line %d, column %d: %s", je.line, je.column,
                    je.text);
        return EVSCAN_EJSON;
    }
    if (json_is_object(v)) {
        json_t *arr = json_array();
        if (!arr || json_array_append_new(arr, v)) {
            json_decref(arr);
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        }
        *out = arr;
        return 0;
    }
    if (!json_is_array(v)) {
        json_decref(v);
        return cxm_err_set(err, CXM_EINVAL, "the body must be a JSON array of"
                           " records, one record object, or NDJSON");
    }
    *out = v;
    return 0;
}

int evscan_jansson(const char *body, size_t len, bool ndjson, const char *route_type,
                   int64_t now, struct arena *a, json_t **batch, struct event **evs_out,
                   size_t *n_out, struct cxm_err *err)
{
    json_t *arr = NULL;
    int rc = ndjson ? parse_ndjson(body, len, &arr, err) : parse_json(body, len, &arr, err);
    if (rc)
        return rc;
    size_t n = json_array_size(arr);
    struct event *evs = NULL;
    if (n > CXM_MAX_BATCH) {
        rc = cxm_err_set(err, CXM_ETOOBIG, "%zu records in one batch, the limit is %d",
                         n, CXM_MAX_BATCH);
        goto fail;
    }
    if (!(evs = cxm_calloc(n ? n : 1, sizeof *evs))) {
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *rec = json_array_get(arr, i);
        const char *t = json_string_value(json_object_get(rec, "type"));
        if (route_type && json_is_object(rec) && t && strcmp(t, route_type)) {
            rc = cxm_err_field(err, CXM_EINVAL, (long)i, "type",
                               "this route takes %s records only", route_type);
            goto fail;
        }
        if (route_type && json_is_object(rec) && !t &&
            json_object_set_new(rec, "type", json_string(route_type))) {
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
            goto fail;
        }
        struct cxm_err e;
        cxm_err_clear(&e);
        if ((rc = event_decode(rec, (long)i, now, a, &evs[i], &e))) {
            if (e.index < 0)
                e.index = (long)i;
            if (err)
                *err = e;
            goto fail;
        }
    }
    *batch = arr;
    *evs_out = evs;
    *n_out = n;
    return 0;
fail:
    free(evs);
    json_decref(arr);
    return rc;
}
