/* filter.c - a tokenizer and a recursive-descent parser build a small
 * tree, which is then compiled into "jumping code": an array holding only
 * the comparisons, left to right, each naming the comparison to run next
 * when it is true and when it is false, or the answer. and, or and not
 * become those jumps, so evaluation is one loop with no recursion, no
 * allocation, and short-circuits exactly as the tree would. Long in-lists
 * are sorted once and binary-searched. */
#include "core/filter.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxm_limits.h"

/* In-lists longer than this are sorted and binary-searched; shorter ones
 * are scanned, which is faster for a handful of values. */
#define FILTER_LINEAR_IN 16

#define NONE UINT32_MAX

enum op {
    OP_AND, OP_OR, OP_NOT,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_BETWEEN, OP_IN, OP_IN_SORTED,
    OP_HAS,             /* a set field holds the literal */
};

/* A literal as written: text (unescaped) or a number. */
struct lit {
    char *text;         /* NULL for a number */
    double num;
};

/* Jump targets past the last comparison: the answer. */
#define TO_TRUE UINT32_MAX
#define TO_FALSE (UINT32_MAX - 1)

/* One comparison of the compiled filter. */
struct node {
    uint8_t op;
    uint32_t on_true;   /* next comparison, or TO_TRUE / TO_FALSE */
    uint32_t on_false;
    uint32_t field;
    uint32_t lit;       /* first literal in f->lits */
    uint32_t nlit;      /* literals written (1, 2 for between, the in-list) */
    uint32_t n;         /* in: values to search at list */
    const double *list; /* in: f->vals + lit, bound, without NANs */
    double a, b;        /* comparison operands once bound */
};

struct filter {
    struct node *nodes; /* the comparisons; the first one runs first */
    size_t nnodes;
    struct lit *lits;
    double *vals;       /* parallel to lits: the bound values */
    size_t nlits;
    uint64_t used;
    bool has_text;      /* some literal needs filter_bind */
    bool has_sets;      /* some comparison reads a set field */
    bool bound;
};

/* ---- tokens ---------------------------------------------------------- */

enum tk {
    TK_END, TK_IDENT, TK_NUMBER, TK_STRING, TK_LPAREN, TK_RPAREN, TK_COMMA,
    TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
    TK_AND, TK_OR, TK_NOT, TK_IN, TK_BETWEEN, TK_CONTAINS,
};

struct tok {
    enum tk kind;
    size_t pos, len;    /* the lexeme in the expression */
    double num;         /* TK_NUMBER */
};

static const struct {
    const char *word;
    enum tk kind;
} keywords[] = {
    {"and", TK_AND}, {"or", TK_OR}, {"not", TK_NOT},
    {"in", TK_IN}, {"between", TK_BETWEEN}, {"contains", TK_CONTAINS},
};

/* A node of the tree the parser builds; children are a linked list. */
struct pnode {
    enum op op;
    uint32_t field, lit, nlit;
    uint32_t first, last, next;
    uint32_t entry;     /* the subtree's first comparison once compiled */
};

struct parser {
    const char *s;
    size_t len;
    size_t pos;             /* where the lexer resumes */
    struct tok tok;         /* the current token */
    struct tok prev;        /* the one before, for "after '='" */
    bool has_prev;
    const struct filter_field *fields;
    size_t nfields;
    struct cxm_err *err;
    unsigned depth;
    struct pnode *pn;
    size_t npn, cappn;
    struct lit *lits;
    size_t nlits, caplits;
};

/* ASCII only: the ctype functions depend on the locale. */
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || is_digit(c) || c == '.' || c == ':' ||
           c == '-';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool word_is(const char *s, size_t len, const char *word)
{
    size_t i = 0;
    for (; i < len && word[i]; i++)
        if (lower(s[i]) != word[i])
            return false;
    return i == len && !word[i];
}

/* Sets err for a failure at byte offset pos: "column N: ...". field names
 * the field at fault, NULL when none. */
__attribute__((format(printf, 4, 5)))
static bool fail(struct parser *p, size_t pos, const char *field,
                 const char *fmt, ...)
{
    char m[CXM_ERR_MSG];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    if (n < 0)
        m[0] = '\0';
    cxm_err_field(p->err, CXM_EINVAL, -1, field, "column %zu: %s", pos + 1, m);
    return false;
}

/* How a token reads in a message: 'foo', '=', 5, 'text' (as quoted). */
static const char *describe(const struct parser *p, const struct tok *t,
                            char *buf, size_t sz)
{
    if (t->kind == TK_END)
        return "the end of the expression";
    int len = t->len > 32 ? 32 : (int)t->len;
    const char *dots = t->len > 32 ? "..." : "";
    const char *q = t->kind == TK_NUMBER || t->kind == TK_STRING ? "" : "'";
    int n = snprintf(buf, sz, "%s%.*s%s%s", q, len, p->s + t->pos, dots, q);
    if (n < 0)
        buf[0] = '\0';
    return buf;
}

static bool lex_number(struct parser *p, size_t i, struct tok *t)
{
    const char *s = p->s;
    size_t digits = 0;
    if (s[i] == '-')
        i++;
    for (; is_digit(s[i]); i++)
        digits++;
    if (s[i] == '.')
        for (i++; is_digit(s[i]); i++)
            digits++;
    bool ok = digits > 0;
    if (ok && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (is_digit(s[j])) {
            for (; is_digit(s[j]); j++) {
            }
            i = j;
        } else {
            ok = false;
        }
    }
    if (!ok || is_ident_char(s[i])) {
        while (is_ident_char(s[i]) || s[i] == '+')
            i++;
        return fail(p, t->pos, NULL, "malformed number '%.*s'",
                    (int)(i - t->pos > 32 ? 32 : i - t->pos), s + t->pos);
    }
    /* The lexeme above is a subset of strtod's decimal syntax, so strtod
     * reads exactly it. cxm never calls setlocale: '.' is the point. */
    char *end;
    errno = 0;
    double v = strtod(s + t->pos, &end);
    assert(end == s + i);
    if (isinf(v))
        return fail(p, t->pos, NULL, "number '%.*s' is out of range",
                    (int)(i - t->pos > 32 ? 32 : i - t->pos), s + t->pos);
    t->kind = TK_NUMBER;
    t->num = v;
    t->len = i - t->pos;
    return true;
}

/* Reads the token at p->pos into t. */
static bool lex(struct parser *p, struct tok *t)
{
    const char *s = p->s;
    size_t i = p->pos;
    while (i < p->len && is_space(s[i]))
        i++;
    t->pos = i;
    t->len = 1;
    t->num = 0;
    char c = s[i];
    char c1 = i + 1 < p->len ? s[i + 1] : '\0';
    if (i >= p->len) {
        t->kind = TK_END;
        t->len = 0;
    } else if (is_ident_start(c)) {
        size_t j = i;
        while (is_ident_char(s[j]))
            j++;
        t->kind = TK_IDENT;
        t->len = j - i;
        for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
            if (word_is(s + i, t->len, keywords[k].word))
                t->kind = keywords[k].kind;
    } else if (is_digit(c) || (c == '.' && is_digit(c1)) ||
               (c == '-' && (is_digit(c1) || c1 == '.'))) {
        if (!lex_number(p, i, t))
            return false;
    } else if (c == '\'' || c == '"') {
        size_t j = i + 1;
        for (;;) {
            if (j >= p->len)
                return fail(p, i, NULL, "unterminated string (no closing %c)",
                            c);
            if (s[j] == c) {
                if (s[j + 1] != c)
                    break;
                j++;
            }
            j++;
        }
        t->kind = TK_STRING;
        t->len = j + 1 - i;
    } else if (c == '(') {
        t->kind = TK_LPAREN;
    } else if (c == ')') {
        t->kind = TK_RPAREN;
    } else if (c == ',') {
        t->kind = TK_COMMA;
    } else if (c == '=') {
        t->kind = TK_EQ;
    } else if (c == '!' && c1 == '=') {
        t->kind = TK_NE;
        t->len = 2;
    } else if (c == '<') {
        t->kind = c1 == '=' ? TK_LE : c1 == '>' ? TK_NE : TK_LT;
        t->len = c1 == '=' || c1 == '>' ? 2 : 1;
    } else if (c == '>') {
        t->kind = c1 == '=' ? TK_GE : TK_GT;
        t->len = c1 == '=' ? 2 : 1;
    } else if (c > ' ' && c < 0x7f) {
        return fail(p, i, NULL, "unexpected character '%c'", c);
    } else {
        return fail(p, i, NULL, "unexpected byte 0x%02X",
                    (unsigned)(unsigned char)c);
    }
    p->pos = t->pos + t->len;
    return true;
}

static bool next(struct parser *p)
{
    p->prev = p->tok;
    p->has_prev = true;
    return lex(p, &p->tok);
}

/* "expected WHAT after 'PREV', found 'TOK'HINT" at the current token. */
static bool expected(struct parser *p, const char *what, const char *hint)
{
    char a[48], b[48];
    const char *after = p->has_prev ? describe(p, &p->prev, a, sizeof a) : "";
    const char *found = describe(p, &p->tok, b, sizeof b);
    bool end = p->tok.kind == TK_END;
    return fail(p, p->tok.pos, NULL, "expected %s%s%s%s%s%s", what,
                p->has_prev ? " after " : "", after, end ? "" : ", found ",
                end ? "" : found, hint);
}

/* ---- tree building --------------------------------------------------- */

static bool oom(struct parser *p)
{
    cxm_err_set(p->err, CXM_ENOMEM, "out of memory parsing the filter");
    return false;
}

static bool new_node(struct parser *p, enum op op, uint32_t field,
                     uint32_t *out)
{
    if (cxm_grow((void **)&p->pn, &p->cappn, p->npn + 1, sizeof *p->pn))
        return oom(p);
    p->pn[p->npn] = (struct pnode){op, field, 0, 0, NONE, NONE, NONE, NONE};
    *out = (uint32_t)p->npn++;
    return true;
}

static void add_child(struct parser *p, uint32_t parent, uint32_t child)
{
    struct pnode *pa = &p->pn[parent];
    if (pa->last == NONE)
        pa->first = child;
    else
        p->pn[pa->last].next = child;
    pa->last = child;
}

static uint32_t find_field(const struct parser *p, const char *name,
                           size_t len)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (strlen(p->fields[i].name) == len &&
            memcmp(p->fields[i].name, name, len) == 0)
            return (uint32_t)i;
    return NONE;
}

/* Edit distance, for "did you mean"; names over 63 bytes are not worth it. */
static size_t distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* "column 1: unknown field 'contry', did you mean 'country'? (known:
 * channel, country, ...)": as many known names as the message holds. */
static bool unknown_field(struct parser *p)
{
    const char *name = p->s + p->tok.pos;
    size_t len = p->tok.len;
    char field[64];
    size_t flen = len < sizeof field ? len : sizeof field - 1;
    memcpy(field, name, flen);
    field[flen] = '\0';

    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < p->nfields; i++) {
        size_t d = distance(name, len, p->fields[i].name);
        if (d < best_d) {
            best_d = d;
            best = p->fields[i].name;
        }
    }
    char hint[64] = "";
    if (best && best_d <= 2 && best_d < len) {
        int n = snprintf(hint, sizeof hint, ", did you mean '%.40s'?", best);
        if (n < 0)
            hint[0] = '\0';
    }
    char msg[CXM_ERR_MSG];
    int n = snprintf(msg, sizeof msg, "column %zu: unknown field '%.40s%s'%s (%s",
                     p->tok.pos + 1, field, len > 40 ? "..." : "", hint,
                     p->nfields ? "known: " : "no fields are known");
    size_t used = n < 0 ? 0 : (size_t)n;
    if (n < 0)
        msg[0] = '\0';
    const size_t room = sizeof msg - sizeof ", ...)";
    if (used > room) {
        used = room;
        msg[used] = '\0';
    }
    for (size_t i = 0; i < p->nfields; i++) {
        n = snprintf(msg + used, room - used, "%s%s", i ? ", " : "",
                     p->fields[i].name);
        if (n < 0 || (size_t)n >= room - used) {
            msg[used] = '\0';
            cxm_strlcpy(msg + used, i ? ", ..." : "...", sizeof msg - used);
            used = strlen(msg);
            break;
        }
        used += (size_t)n;
    }
    cxm_strlcpy(msg + used, ")", sizeof msg - used);
    cxm_err_field(p->err, CXM_EINVAL, -1, field, "%s", msg);
    return false;
}

/* Reads one literal for field fd into the literal list. */
static bool parse_literal(struct parser *p, uint32_t fd)
{
    const struct filter_field *ff = &p->fields[fd];
    char b[48];
    if (p->tok.kind == TK_NUMBER && ff->type == FT_SET)
        return fail(p, p->tok.pos, ff->name,
                    "%.64s is a set of texts; expected a quoted text, found %s",
                    ff->name, describe(p, &p->tok, b, sizeof b));
    if (p->tok.kind == TK_NUMBER && ff->type == FT_TEXT)
        return fail(p, p->tok.pos, ff->name,
                    "%.64s is text; expected a quoted text, found %s",
                    ff->name, describe(p, &p->tok, b, sizeof b));
    if (p->tok.kind == TK_STRING && ff->type == FT_NUMBER)
        return fail(p, p->tok.pos, ff->name,
                    "%.64s is a number; expected a number, found %s",
                    ff->name, describe(p, &p->tok, b, sizeof b));
    if (p->tok.kind != TK_NUMBER && p->tok.kind != TK_STRING) {
        char hint[64] = "";
        if (ff->type != FT_NUMBER &&
            (p->tok.kind == TK_IDENT || p->tok.kind >= TK_AND)) {
            int n = snprintf(hint, sizeof hint, " (text goes in quotes: '%.*s')",
                             (int)(p->tok.len > 32 ? 32 : p->tok.len),
                             p->s + p->tok.pos);
            if (n < 0)
                hint[0] = '\0';
        }
        return expected(p, "a value", hint);
    }
    if (cxm_grow((void **)&p->lits, &p->caplits, p->nlits + 1,
                 sizeof *p->lits))
        return oom(p);
    struct lit *l = &p->lits[p->nlits];
    *l = (struct lit){NULL, p->tok.num};
    if (p->tok.kind == TK_STRING) {
        const char *q = p->s + p->tok.pos;
        size_t n = p->tok.len;
        char *t = cxm_malloc(n - 1);
        if (!t)
            return oom(p);
        size_t k = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            t[k++] = q[i];
            if (q[i] == q[0])
                i++;                 /* a doubled quote stands for one */
        }
        t[k] = '\0';
        l->text = t;
        l->num = NAN;
    }
    p->nlits++;
    return next(p);
}

static bool parse_or(struct parser *p, uint32_t *out);

/* After a set FIELD: 'contains' literal | '(' literal ')' */
static bool parse_has(struct parser *p, uint32_t fd, uint32_t *out)
{
    bool call = p->tok.kind == TK_LPAREN;
    if (!call && p->tok.kind != TK_CONTAINS) {
        char hint[96];
        int n = snprintf(hint, sizeof hint, " (%.32s is a set: %.32s contains 'x' or %.32s('x'))",
                         p->fields[fd].name, p->fields[fd].name, p->fields[fd].name);
        if (n < 0)
            hint[0] = '\0';
        return expected(p, "'contains' or '('", hint);
    }
    uint32_t n;
    if (!new_node(p, OP_HAS, fd, &n))
        return false;
    p->pn[n].lit = (uint32_t)p->nlits;
    if (!next(p) || !parse_literal(p, fd))
        return false;
    if (call) {
        if (p->tok.kind != TK_RPAREN)
            return expected(p, "')'", "");
        if (!next(p))
            return false;
    }
    p->pn[n].nlit = 1;
    *out = n;
    return true;
}

/* FIELD op literal | FIELD in (...) | FIELD between literal and literal */
static bool parse_cmp(struct parser *p, uint32_t *out)
{
    uint32_t fd = find_field(p, p->s + p->tok.pos, p->tok.len);
    if (fd == NONE)
        return unknown_field(p);
    const struct filter_field *ff = &p->fields[fd];
    if (!next(p))
        return false;
    if (ff->type == FT_SET)
        return parse_has(p, fd, out);
    enum op op;
    switch (p->tok.kind) {
    case TK_EQ: op = OP_EQ; break;
    case TK_NE: op = OP_NE; break;
    case TK_LT: op = OP_LT; break;
    case TK_LE: op = OP_LE; break;
    case TK_GT: op = OP_GT; break;
    case TK_GE: op = OP_GE; break;
    case TK_IN: op = OP_IN; break;
    case TK_BETWEEN: op = OP_BETWEEN; break;
    default:
        return expected(p, ff->type == FT_TEXT
                               ? "an operator (=, !=, in)"
                               : "an operator (=, !=, <, <=, >, >=, in, between)",
                        "");
    }
    if (ff->type == FT_TEXT && op != OP_EQ && op != OP_NE && op != OP_IN) {
        char b[48];
        return fail(p, p->tok.pos, ff->name, "%s compares numbers; %.64s is text",
                    describe(p, &p->tok, b, sizeof b), ff->name);
    }
    uint32_t n;
    if (!new_node(p, op, fd, &n))
        return false;
    p->pn[n].lit = (uint32_t)p->nlits;
    if (!next(p))
        return false;
    if (op == OP_IN) {
        if (p->tok.kind != TK_LPAREN)
            return expected(p, "'('", "");
        if (!next(p))
            return false;
        if (p->tok.kind == TK_RPAREN)
            return fail(p, p->tok.pos, NULL,
                        "empty list after 'in': give at least one value");
        for (;;) {
            if (!parse_literal(p, fd))
                return false;
            if (p->tok.kind == TK_RPAREN)
                break;
            if (p->tok.kind != TK_COMMA)
                return expected(p, "',' or ')'", "");
            if (!next(p))
                return false;
        }
        if (!next(p))
            return false;
    } else if (op == OP_BETWEEN) {
        if (!parse_literal(p, fd))
            return false;
        if (p->tok.kind != TK_AND)
            return expected(p, "'and'", " (between takes two values: "
                                        "between 1 and 5)");
        if (!next(p) || !parse_literal(p, fd))
            return false;
    } else if (!parse_literal(p, fd)) {
        return false;
    }
    p->pn[n].nlit = (uint32_t)p->nlits - p->pn[n].lit;
    *out = n;
    return true;
}

/* 'not' unary | '(' expr ')' | cmp */
static bool parse_unary(struct parser *p, uint32_t *out)
{
    enum tk k = p->tok.kind;
    if (k != TK_NOT && k != TK_LPAREN) {
        if (k != TK_IDENT)
            return expected(p, "a field name, 'not' or '('", "");
        return parse_cmp(p, out);
    }
    size_t open = p->tok.pos;
    if (++p->depth > FILTER_MAX_DEPTH)
        return fail(p, open, NULL, "nesting deeper than %d levels",
                    FILTER_MAX_DEPTH);
    if (!next(p))
        return false;
    if (k == TK_NOT) {
        uint32_t n, child;
        if (!parse_unary(p, &child) || !new_node(p, OP_NOT, 0, &n))
            return false;
        add_child(p, n, child);
        *out = n;
    } else {
        if (!parse_or(p, out))
            return false;
        if (p->tok.kind != TK_RPAREN) {
            char what[48];
            int m = snprintf(what, sizeof what, "')' to close the '(' at column %zu",
                             open + 1);
            if (m < 0)
                what[0] = '\0';
            /* "after 'x'" adds nothing here */
            p->has_prev = false;
            return expected(p, what, "");
        }
        if (!next(p))
            return false;
    }
    p->depth--;
    return true;
}

/* and := unary ('and' unary)*, or := and ('or' and)* */
static bool parse_list(struct parser *p, enum tk sep, uint32_t *out)
{
    uint32_t first;
    if (!(sep == TK_OR ? parse_list(p, TK_AND, &first)
                       : parse_unary(p, &first)))
        return false;
    if (p->tok.kind != sep) {
        *out = first;
        return true;
    }
    uint32_t n;
    if (!new_node(p, sep == TK_OR ? OP_OR : OP_AND, 0, &n))
        return false;
    add_child(p, n, first);
    while (p->tok.kind == sep) {
        uint32_t child;
        if (!next(p))
            return false;
        if (!(sep == TK_OR ? parse_list(p, TK_AND, &child)
                           : parse_unary(p, &child)))
            return false;
        add_child(p, n, child);
    }
    *out = n;
    return true;
}

static bool parse_or(struct parser *p, uint32_t *out)
{
    return parse_list(p, TK_OR, out);
}

/* ---- layout and binding ---------------------------------------------- */

static bool is_cmp(enum op op)
{
    return op != OP_AND && op != OP_OR && op != OP_NOT;
}

/* Numbers the comparisons left to right (the order evaluation meets them)
 * and gives every subtree its entry: its leftmost comparison. */
static void number(struct parser *p, uint32_t i, uint32_t *ncmp)
{
    struct pnode *pn = &p->pn[i];
    if (is_cmp(pn->op)) {
        pn->entry = (*ncmp)++;
        return;
    }
    for (uint32_t c = pn->first; c != NONE; c = p->pn[c].next)
        number(p, c, ncmp);
    pn->entry = p->pn[pn->first].entry;
}

/* Writes the comparisons of subtree i, to continue at yes when it holds
 * and at no when not. Each child of an and goes on to the next child when
 * true and to no when false; or is the mirror; not swaps the two. Targets
 * always lie ahead, so evaluation ends. */
static void compile(const struct parser *p, struct filter *f, uint32_t i,
                    uint32_t yes, uint32_t no)
{
    const struct pnode *pn = &p->pn[i];
    if (is_cmp(pn->op)) {
        assert(yes > pn->entry && no > pn->entry);
        f->nodes[pn->entry] = (struct node){
            .op = (uint8_t)pn->op, .on_true = yes, .on_false = no,
            .field = pn->field, .lit = pn->lit, .nlit = pn->nlit,
            .list = f->vals + pn->lit, .a = NAN, .b = NAN,
        };
        return;
    }
    if (pn->op == OP_NOT) {
        compile(p, f, pn->first, no, yes);
        return;
    }
    for (uint32_t c = pn->first; c != NONE; c = p->pn[c].next) {
        uint32_t next = p->pn[c].next == NONE ? NONE
                                              : p->pn[p->pn[c].next].entry;
        if (pn->op == OP_AND)
            compile(p, f, c, next == NONE ? yes : next, no);
        else
            compile(p, f, c, yes, next == NONE ? no : next);
    }
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Computes a comparison's operands: numbers as written, texts through
 * bind (NAN while bind is NULL). Rereads the literals, so binding again
 * starts afresh. */
static void load(struct filter *f, struct node *nd, filter_bind_fn bind,
                 void *ctx)
{
    double *v = f->vals + nd->lit;
    for (uint32_t i = 0; i < nd->nlit; i++) {
        const struct lit *l = &f->lits[nd->lit + i];
        v[i] = !l->text ? l->num : bind ? bind(ctx, (int)nd->field, l->text)
                                        : NAN;
    }
    if (nd->op != OP_IN && nd->op != OP_IN_SORTED) {
        nd->a = v[0];
        nd->b = nd->nlit > 1 ? v[1] : NAN;
        return;
    }
    /* a NAN can never be equal to anything: drop it */
    uint32_t n = 0;
    for (uint32_t i = 0; i < nd->nlit; i++)
        if (!isnan(v[i]))
            v[n++] = v[i];
    nd->op = OP_IN;
    if (n > FILTER_LINEAR_IN) {
        qsort(v, n, sizeof *v, cmp_double);
        uint32_t u = 1;
        for (uint32_t i = 1; i < n; i++)
            if (v[i] != v[u - 1])
                v[u++] = v[i];
        n = u;
        if (n > FILTER_LINEAR_IN)
            nd->op = OP_IN_SORTED;
    }
    nd->n = n;
}

static struct filter *build(struct parser *p, uint32_t root)
{
    struct filter *f = cxm_calloc(1, sizeof *f);
    if (!f)
        goto fail;
    if (p->nlits) {
        f->vals = cxm_calloc(p->nlits, sizeof *f->vals);
        if (!f->vals)
            goto fail;
    }
    if (root != NONE) {
        uint32_t ncmp = 0;
        number(p, root, &ncmp);
        f->nodes = cxm_calloc(ncmp, sizeof *f->nodes);
        if (!f->nodes)
            goto fail;
        f->nnodes = ncmp;
        compile(p, f, root, TO_TRUE, TO_FALSE);
    }
    f->lits = p->lits;
    f->nlits = p->nlits;
    p->lits = NULL;
    p->nlits = 0;
    for (size_t i = 0; i < f->nnodes; i++) {
        struct node *nd = &f->nodes[i];
        f->used |= 1ull << (nd->field < 63 ? nd->field : 63);
        if (p->fields[nd->field].type != FT_NUMBER)
            f->has_text = true;
        if (nd->op == OP_HAS)
            f->has_sets = true;
        load(f, nd, NULL, NULL);
    }
    return f;
fail:
    if (f) {
        free(f->vals);
        free(f);
    }
    oom(p);
    return NULL;
}

struct filter *filter_parse(const char *expr, const struct filter_field *fields,
                            size_t nfields, struct cxm_err *err)
{
    assert(fields || nfields == 0);
    assert(nfields <= INT32_MAX);   /* ids reach callbacks as int */
    if (!expr)
        expr = "";
    size_t len = strnlen(expr, FILTER_MAX_EXPR + 1);
    if (len > FILTER_MAX_EXPR) {
        cxm_err_field(err, CXM_EINVAL, -1, NULL,
                      "filter longer than %d bytes", FILTER_MAX_EXPR);
        return NULL;
    }
    struct parser p = {
        .s = expr, .len = len, .fields = fields, .nfields = nfields,
        .err = err,
    };
    struct filter *f = NULL;
    uint32_t root = NONE;
    if (!lex(&p, &p.tok))
        goto done;
    if (p.tok.kind != TK_END) {
        if (!parse_or(&p, &root))
            goto done;
        if (p.tok.kind == TK_RPAREN) {
            fail(&p, p.tok.pos, NULL, "')' has no matching '('");
            goto done;
        }
        if (p.tok.kind != TK_END) {
            char b[48];
            fail(&p, p.tok.pos, NULL,
                 "unexpected %s after the end of the expression",
                 describe(&p, &p.tok, b, sizeof b));
            goto done;
        }
    }
    f = build(&p, root);
done:
    for (size_t i = 0; i < p.nlits; i++)
        free(p.lits[i].text);
    free(p.lits);
    free(p.pn);
    return f;
}

void filter_free(struct filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nlits; i++)
        free(f->lits[i].text);
    free(f->lits);
    free(f->vals);
    free(f->nodes);
    free(f);
}

int filter_bind(struct filter *f, filter_bind_fn bind, void *ctx)
{
    assert(f && bind);
    for (size_t i = 0; i < f->nnodes; i++) {
        struct node *nd = &f->nodes[i];
        for (uint32_t k = 0; k < nd->nlit; k++)
            if (f->lits[nd->lit + k].text) {
                load(f, nd, bind, ctx);
                break;
            }
    }
    f->bound = true;
    return CXM_OK;
}

/* ---- evaluation ------------------------------------------------------ */

/* One comparison on v, its field's value in the row. Every comparison
 * with NAN is false in C, which is the rule for a missing value; only !=
 * needs the explicit check. */
static bool test(const struct node *nd, double v)
{
    switch (nd->op) {
    case OP_EQ: return v == nd->a;
    case OP_NE: return v == v && v != nd->a;
    case OP_LT: return v < nd->a;
    case OP_LE: return v <= nd->a;
    case OP_GT: return v > nd->a;
    case OP_GE: return v >= nd->a;
    case OP_BETWEEN: return v >= nd->a && v <= nd->b;
    case OP_IN:
        for (uint32_t i = 0; i < nd->n; i++)
            if (nd->list[i] == v)
                return true;
        return false;
    case OP_IN_SORTED: {
        uint32_t lo = 0, hi = nd->n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (nd->list[mid] < v)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < nd->n && nd->list[lo] == v;
    }
    default:
        assert(0 && "bad filter node");
        return false;
    }
}

bool filter_eval_sets(const struct filter *f, filter_get_fn get, filter_has_fn has,
                      void *ctx)
{
    assert(f);
    assert(!f->has_text || f->bound);  /* text literals need filter_bind */
    assert(!f->has_sets || has);
    if (!f->nnodes)
        return true;
    uint32_t i = 0;
    for (;;) {
        const struct node *nd = &f->nodes[i];
        bool yes = nd->op == OP_HAS ? nd->a == nd->a && has(ctx, (int)nd->field, nd->a)
                                    : test(nd, get(ctx, (int)nd->field));
        i = yes ? nd->on_true : nd->on_false;
        if (i >= TO_FALSE)
            return i == TO_TRUE;
    }
}

bool filter_eval(const struct filter *f, filter_get_fn get, void *ctx)
{
    return filter_eval_sets(f, get, NULL, ctx);
}

uint64_t filter_fields_used(const struct filter *f)
{
    return f->used;
}
