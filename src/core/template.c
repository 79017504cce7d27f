/* template.c - see template.h. One scanner serves the check and the
 * render, so what tpl_check accepts is exactly what tpl_render
 * substitutes. Values are decoded as UTF-8 one sequence at a time:
 * invalid bytes become U+FFFD (one per maximal subpart, as in the Unicode
 * standard's recommended practice), control characters are dropped, and
 * for HTML the five markup characters become entities. */
#include "core/template.h"

#include <stdio.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

enum tpl_escape tpl_escape_for(const char *channel)
{
    static const char *const html[] = {"web", "email", "e-mail", "app_inbox", "in_app"};
    if (!channel)
        return TPL_TEXT;
    for (size_t i = 0; i < sizeof html / sizeof html[0]; i++) {
        /* ASCII case folding: "Email" must not be sent unescaped. */
        const char *a = html[i], *b = channel;
        while (*a && (*b == *a || (*b >= 'A' && *b <= 'Z' && *b - 'A' + 'a' == *a))) {
            a++;
            b++;
        }
        if (!*a && !*b)
            return TPL_HTML;
    }
    return TPL_TEXT;
}

/* ---- UTF-8 ------------------------------------------------------------------- */

/* The sequence at p (n > 0 bytes left): its length and code point in *cp
 * when valid; otherwise 0, with *bad the bytes of its maximal subpart
 * (at least 1), which one U+FFFD replaces. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp, size_t *bad)
{
    unsigned c = p[0];
    *bad = 1;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t more;
    unsigned lo = 0x80, hi = 0xBF;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) {
        more = 1;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        more = 2;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;      /* overlong */
        else if (c == 0xED)
            hi = 0x9F;      /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        more = 3;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;      /* overlong */
        else if (c == 0xF4)
            hi = 0x8F;      /* past U+10FFFF */
    } else {
        return 0;           /* continuation byte, C0, C1, F5..FF */
    }
    for (size_t i = 1; i <= more; i++) {
        if (i >= n)
            return 0;
        unsigned b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
            return 0;
        v = (v << 6) | (b & 0x3F);
        *bad = i + 1;
    }
    *cp = v;
    return more + 1;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

/* ---- the scanner --------------------------------------------------------------- */

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* A placeholder found at a '{'. */
struct ph {
    size_t name, nlen;          /* the name's offset and length */
    size_t fb, fblen;           /* the fallback's; has_fb false: none */
    bool has_fb;
    size_t end;                 /* just past the closing '}' */
};

/* Scans the placeholder whose '{' is at i (not followed by '{'). 0 and
 * *ph when well formed; otherwise the offset of the offending byte + 1
 * (a 1-based column) and the problem in *why. */
static size_t scan_ph(const char *t, size_t len, size_t i, struct ph *ph, const char **why)
{
    size_t j = i + 1;
    *ph = (struct ph){.name = j};
    if (j >= len) {
        *why = "'{' is never closed (write '{{' for a literal brace)";
        return i + 1;
    }
    if (!name_start(t[j])) {
        *why = t[j] == '}' ? "empty variable name"
                           : "a variable name starts with a-z or _ (write '{{' for a literal "
                             "brace)";
        return j + 1;
    }
    while (j < len && name_char(t[j]))
        j++;
    ph->nlen = j - ph->name;
    if (ph->nlen > TPL_MAX_VAR) {
        *why = "a variable name is at most " STR(TPL_MAX_VAR) " bytes";
        return ph->name + 1;
    }
    if (j >= len) {
        *why = "'{' is never closed";
        return i + 1;
    }
    if (t[j] == '|') {
        ph->has_fb = true;
        ph->fb = ++j;
        while (j < len && t[j] != '}') {
            if (t[j] == '{' || t[j] == '|') {
                *why = "a fallback may not contain '{' or '|'";
                return j + 1;
            }
            j++;
        }
        if (j >= len) {
            *why = "'{' is never closed";
            return i + 1;
        }
        ph->fblen = j - ph->fb;
    } else if (t[j] != '}') {
        *why = "a variable name is a-z, 0-9 and _ and ends with '}' or '|fallback}'";
        return j + 1;
    }
    ph->end = j + 1;
    return 0;
}

static bool known_var(const char *name, size_t n, const char *const *vars, size_t nvars)
{
    for (size_t i = 0; i < nvars; i++)
        if (vars[i] && strlen(vars[i]) == n && memcmp(vars[i], name, n) == 0)
            return true;
    return false;
}

/* "first_name, last_name, ..." into buf, cut with ", ..." when long. */
static void list_vars(const char *const *vars, size_t nvars, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    if (nvars == 0) {
        snprintf(buf, n, "none");
        return;
    }
    for (size_t i = 0; i < nvars; i++) {
        if (!vars[i])
            continue;
        size_t w = strlen(vars[i]) + (len ? 2 : 0);
        if (len + w + 5 >= n) {
            snprintf(buf + len, n - len, "%s...", len ? ", " : "");
            return;
        }
        snprintf(buf + len, n - len, "%s%s", len ? ", " : "", vars[i]);
        len += w;
    }
}

int tpl_check(const char *tpl, const char *const *vars, size_t nvars, struct cxm_err *err)
{
    if (!tpl)
        return cxm_err_set(err, CXM_EINVAL, "column 1: no template");
    size_t len = strlen(tpl);
    if (len > TPL_MAX)
        return cxm_err_set(err, CXM_EINVAL, "column %d: the template is over %d bytes",
                           TPL_MAX + 1, TPL_MAX);
    const unsigned char *u = (const unsigned char *)tpl;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t bad, n = utf8_next(u + i, len - i, &cp, &bad);
        if (!n)
            return cxm_err_set(err, CXM_EINVAL, "column %zu: invalid UTF-8", i + 1);
        i += n;
    }
    for (size_t i = 0; i < len;) {
        if (tpl[i] == '}') {
            if (i + 1 < len && tpl[i + 1] == '}') {
                i += 2;
                continue;
            }
            return cxm_err_set(err, CXM_EINVAL,
                               "column %zu: '}' without '{' (write '}}' for a literal brace)",
                               i + 1);
        }
        if (tpl[i] != '{') {
            i++;
            continue;
        }
        if (i + 1 < len && tpl[i + 1] == '{') {
            i += 2;
            continue;
        }
        struct ph ph;
        const char *why = "";
        size_t col = scan_ph(tpl, len, i, &ph, &why);
        if (col)
            return cxm_err_set(err, CXM_EINVAL, "column %zu: %s", col, why);
        if (!known_var(tpl + ph.name, ph.nlen, vars, nvars)) {
            char known[160];
            list_vars(vars, nvars, known, sizeof known);
            return cxm_err_set(err, CXM_EINVAL, "column %zu: unknown variable \"%.*s\" (known: %s)",
                               i + 1, (int)ph.nlen, tpl + ph.name, known);
        }
        i = ph.end;
    }
    return CXM_OK;
}

/* ---- rendering ---------------------------------------------------------------- */

struct out {
    struct buf *b;
    size_t start;               /* out->len when the render began */
};

static int emit(struct out *o, const char *s, size_t n)
{
    if (n == 0)
        return CXM_OK;
    size_t used = o->b->len - o->start;
    if (n > TPL_MAX_OUT || used > TPL_MAX_OUT - n)
        return CXM_ETOOBIG;
    return buf_add(o->b, s, n);
}

/* Appends the n bytes at s as a value for esc. */
static int emit_value(struct out *o, const char *s, size_t n, enum tpl_escape esc)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0;             /* bytes before i kept as they are */
    int rc = CXM_OK;
    for (size_t i = 0; i < n && !rc;) {
        uint32_t cp;
        size_t bad, k = utf8_next(u + i, n - i, &cp, &bad);
        const char *rep = NULL;
        size_t replen = 0, skip = k;
        if (!k) {
            rep = REPLACEMENT;
            replen = 3;
            skip = bad;
        } else if (is_control(cp)) {
            rep = "";
        } else if (esc == TPL_HTML && cp < 0x80) {
            switch (cp) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': rep = "&quot;"; break;
            case '\'': rep = "&#39;"; break;
            default: break;
            }
            if (rep)
                replen = strlen(rep);
        }
        if (!rep) {
            i += k;
            continue;
        }
        rc = emit(o, s + run, i - run);
        if (!rc)
            rc = emit(o, rep, replen);
        i += skip;
        run = i;
    }
    if (!rc)
        rc = emit(o, s + run, n - run);
    return rc;
}

static int render(const char *tpl, enum tpl_escape esc, tpl_lookup_fn lookup, void *ctx,
                  struct out *o)
{
    size_t len = strlen(tpl), run = 0;
    int rc = CXM_OK;
    for (size_t i = 0; i < len && !rc;) {
        if (tpl[i] != '{' && tpl[i] != '}') {
            i++;
            continue;
        }
        rc = emit(o, tpl + run, i - run);
        if (rc)
            break;
        if (i + 1 < len && tpl[i + 1] == tpl[i]) {
            /* "{{" or "}}": one literal brace */
            rc = emit(o, tpl + i, 1);
            i += 2;
            run = i;
            continue;
        }
        struct ph ph;
        const char *why;
        if (tpl[i] == '}' || scan_ph(tpl, len, i, &ph, &why)) {
            /* malformed: the brace is kept and the text after it is read
             * as text again */
            run = i;
            i++;
            continue;
        }
        /* The name is handed over terminated, with its length. */
        char name[TPL_MAX_VAR + 1];
        memcpy(name, tpl + ph.name, ph.nlen);
        name[ph.nlen] = '\0';
        const char *val = lookup ? lookup(ctx, name, ph.nlen) : NULL;
        if (val && *val)
            rc = emit_value(o, val, strlen(val), esc);
        else if (ph.has_fb)
            rc = emit_value(o, tpl + ph.fb, ph.fblen, esc);
        i = ph.end;
        run = i;
    }
    if (!rc)
        rc = emit(o, tpl + run, len - run);
    return rc;
}

int tpl_render(const char *tpl, enum tpl_escape esc, tpl_lookup_fn lookup, void *ctx,
               struct buf *out)
{
    if (!tpl)
        return CXM_EINVAL;
    struct out o = {.b = out, .start = out->len};
    int rc = render(tpl, esc, lookup, ctx, &o);
    if (rc) {
        /* out as it was: nothing of a message cut short is kept */
        out->len = o.start;
        if (out->p)
            out->p[out->len] = '\0';
    }
    return rc;
}
