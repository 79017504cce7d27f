/* filter: random expressions checked against a plain recursive evaluator
 * written here, then the grammar, the errors (exact columns and text),
 * missing values and the limits one by one. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"

enum { CHANNEL, TOUCHPOINT, COUNTRY, SCORE, AGE, TIER, VALUE, REGION, NF };

static const struct filter_field fields[NF] = {
    {"channel", FT_TEXT}, {"touchpoint", FT_TEXT}, {"country", FT_TEXT},
    {"score", FT_NUMBER}, {"age", FT_NUMBER}, {"attr.tier", FT_TEXT},
    {"value", FT_NUMBER}, {"geo:region-code", FT_TEXT},
};

/* The dictionary every text field binds through: a word's code is its
 * index; anything else can never match (NAN). */
static const char *const words[] = {
    "web", "app", "email", "US", "FR", "DE", "O'Brien", "say \"hi\"", "",
    "a  b", "gold", "it's",
};
#define NWORDS (sizeof words / sizeof words[0])

static double code(const char *text)
{
    for (size_t i = 0; i < NWORDS; i++)
        if (strcmp(words[i], text) == 0)
            return (double)i;
    return NAN;
}

static double bind_word(void *ctx, int field, const char *text)
{
    (void)ctx;
    cr_assert(field >= 0 && field < NF && fields[field].type == FT_TEXT,
              "bind called for field %d", field);
    return code(text);
}

struct row {
    double v[NF];
    int gets;
    uint64_t read;
};

static double get(void *ctx, int field)
{
    struct row *r = ctx;
    cr_assert(field >= 0 && field < NF);
    r->gets++;
    r->read |= 1ull << field;
    return r->v[field];
}

static struct row row_of(double channel, double country, double score,
                         double age)
{
    struct row r = {{channel, NAN, country, score, age, NAN, NAN, NAN}, 0, 0};
    return r;
}

static struct filter *parse_ok(const char *expr)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    struct filter *f = filter_parse(expr, fields, NF, &err);
    cr_assert(f, "'%s' failed: %s", expr, err.msg);
    cr_assert_eq(filter_bind(f, bind_word, NULL), 0);
    return f;
}

static bool matches(const char *expr, struct row r)
{
    struct filter *f = parse_ok(expr);
    bool m = filter_eval(f, get, &r);
    filter_free(f);
    return m;
}

/* ---- the reference ----------------------------------------------------- */

enum { R_AND, R_OR, R_NOT, R_EQ, R_NE, R_LT, R_LE, R_GT, R_GE, R_IN, R_BETWEEN };

#define MAXLIT 48
struct ref {
    int op, field, nkids, nlit;
    struct ref *kids[3];
    double lit[MAXLIT];        /* what each literal means (NAN: unknown text) */
    const char *text[MAXLIT];  /* text literals as the dictionary has them */
};

static bool ref_eval(const struct ref *r, const double *v)
{
    switch (r->op) {
    case R_AND:
        for (int i = 0; i < r->nkids; i++)
            if (!ref_eval(r->kids[i], v))
                return false;
        return true;
    case R_OR:
        for (int i = 0; i < r->nkids; i++)
            if (ref_eval(r->kids[i], v))
                return true;
        return false;
    case R_NOT:
        return !ref_eval(r->kids[0], v);
    default:
        break;
    }
    double x = v[r->field];
    if (isnan(x))
        return false;          /* missing: every comparison is false */
    double l = r->lit[0];
    switch (r->op) {
    case R_EQ: return !isnan(l) && x == l;
    case R_NE: return isnan(l) || x != l;
    case R_LT: return x < l;
    case R_LE: return x <= l;
    case R_GT: return x > l;
    case R_GE: return x >= l;
    case R_BETWEEN: return l <= x && x <= r->lit[1];
    case R_IN:
        for (int i = 0; i < r->nlit; i++)
            if (!isnan(r->lit[i]) && r->lit[i] == x)
                return true;
        return false;
    }
    cr_assert_fail("bad ref op");
    return false;
}

static uint64_t ref_fields(const struct ref *r)
{
    if (r->op <= R_NOT) {
        uint64_t m = 0;
        for (int i = 0; i < r->nkids; i++)
            m |= ref_fields(r->kids[i]);
        return m;
    }
    return 1ull << r->field;
}

/* ---- random expressions ------------------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng >> 16) % n);
}

struct sb {
    char s[8192];
    size_t n;
    bool over;
};

__attribute__((format(printf, 2, 3)))
static void put(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof b->s - b->n)
        b->over = true;
    else
        b->n += (size_t)n;
}

static const char *blank(void)
{
    static const char *const sp[] = {" ", " ", " ", "  ", "\t", "\n "};
    return sp[rnd(6)];
}

static const char *opt_blank(void)
{
    return rnd(3) ? blank() : "";
}

/* A keyword in a random case. */
static void put_kw(struct sb *b, const char *kw)
{
    char w[16];
    size_t i = 0;
    for (; kw[i] && i < sizeof w - 1; i++)
        w[i] = rnd(4) ? kw[i] : (char)(kw[i] - 'a' + 'A');
    w[i] = '\0';
    put(b, "%s%s%s", blank(), w, blank());
}

static void put_text(struct sb *b, const char *t)
{
    char q = rnd(2) ? '\'' : '"';
    put(b, "%c", q);
    for (; *t; t++)
        put(b, *t == q ? "%c%c" : "%c", *t, *t);
    put(b, "%c", q);
}

/* Numbers the rows take, each with several spellings. */
static const double numbers[] = {-3, -1.5, 0, 1, 2, 2.5, 5, 7, 10};
#define NNUMBERS (sizeof numbers / sizeof numbers[0])

static void put_number(struct sb *b, double x)
{
    switch (rnd(4)) {
    case 0: put(b, "%g", x); break;
    case 1: put(b, "%.3f", x); break;
    case 2: put(b, "%ge1", x / 10); break;
    default: put(b, "%gE-1", x * 10); break;
    }
}

static struct ref pool[512];
static size_t npool;

static struct ref *gen(int depth)
{
    cr_assert_lt(npool, sizeof pool / sizeof pool[0]);
    struct ref *r = &pool[npool++];
    memset(r, 0, sizeof *r);
    if (depth < 4 && rnd(100) < 45) {
        r->op = (int)rnd(3);
        r->nkids = r->op == R_NOT ? 1 : 2 + (int)rnd(2);
        for (int i = 0; i < r->nkids; i++)
            r->kids[i] = gen(depth + 1);
        return r;
    }
    r->field = (int)rnd(NF);
    bool text = fields[r->field].type == FT_TEXT;
    static const int text_ops[] = {R_EQ, R_NE, R_IN};
    r->op = text ? text_ops[rnd(3)] : R_EQ + (int)rnd(R_BETWEEN - R_EQ + 1);
    r->nlit = r->op == R_BETWEEN ? 2 : 1;
    if (r->op == R_IN)
        r->nlit = rnd(6) ? 1 + (int)rnd(5) : 1 + (int)rnd(MAXLIT);
    for (int i = 0; i < r->nlit; i++) {
        if (text) {
            /* one word in eight is unknown to the dictionary */
            r->text[i] = rnd(8) ? words[rnd(NWORDS)] : (rnd(2) ? "nope" : "WEB");
            r->lit[i] = code(r->text[i]);
        } else {
            r->lit[i] = numbers[rnd(NNUMBERS)];
        }
    }
    return r;
}

static void put_lit(struct sb *b, const struct ref *r, int i)
{
    if (r->text[i])
        put_text(b, r->text[i]);
    else
        put_number(b, r->lit[i]);
}

/* Prints r where the context needs at least precedence need (0 or, 1 and,
 * 2 operand of not); parentheses only where needed, plus a few extra. */
static void print(struct sb *b, const struct ref *r, int need)
{
    int prec = r->op == R_OR ? 0 : r->op == R_AND ? 1 : 2;
    bool paren = prec < need || rnd(10) == 0;
    if (paren)
        put(b, "(%s", opt_blank());
    switch (r->op) {
    case R_AND:
    case R_OR:
        for (int i = 0; i < r->nkids; i++) {
            if (i)
                put_kw(b, r->op == R_AND ? "and" : "or");
            print(b, r->kids[i], prec);
        }
        break;
    case R_NOT:
        put_kw(b, "not");
        print(b, r->kids[0], 2);
        break;
    default: {
        static const char *const ops[] = {
            [R_EQ] = "=", [R_LT] = "<", [R_LE] = "<=", [R_GT] = ">", [R_GE] = ">=",
        };
        put(b, "%s", fields[r->field].name);
        if (r->op == R_IN) {
            put_kw(b, "in");
            put(b, "(%s", opt_blank());
            for (int i = 0; i < r->nlit; i++) {
                if (i)
                    put(b, "%s,%s", opt_blank(), opt_blank());
                put_lit(b, r, i);
            }
            put(b, "%s)", opt_blank());
        } else if (r->op == R_BETWEEN) {
            put_kw(b, "between");
            put_lit(b, r, 0);
            put_kw(b, "and");
            put_lit(b, r, 1);
        } else {
            const char *op = r->op == R_NE ? (rnd(2) ? "!=" : "<>") : ops[r->op];
            put(b, "%s%s%s", opt_blank(), op, opt_blank());
            put_lit(b, r, 0);
        }
    }
    }
    if (paren)
        put(b, "%s)", opt_blank());
}

static void random_row(double *v)
{
    for (int f = 0; f < NF; f++) {
        uint32_t k = rnd(10);
        if (k == 0)
            v[f] = NAN;
        else if (fields[f].type == FT_TEXT)
            v[f] = k == 1 ? 999 : (double)rnd(NWORDS);
        else
            v[f] = numbers[rnd(NNUMBERS)];
    }
}

Test(filter, random_expressions_match_a_reference_evaluator)
{
    size_t checked = 0, true_seen = 0;
    for (int c = 0; c < 4000; c++) {
        struct sb b = {.n = 0};
        npool = 0;
        struct ref *r = gen(0);
        print(&b, r, 0);
        if (b.over || b.n > 4096) {
            c--;
            continue;
        }
        struct filter *f = parse_ok(b.s);
        cr_assert_eq(filter_fields_used(f), ref_fields(r), "%s", b.s);
        for (int k = 0; k < 40; k++) {
            struct row row = {.gets = 0};
            random_row(row.v);
            bool want = ref_eval(r, row.v);
            cr_assert_eq(filter_eval(f, get, &row), want, "expr: %s\nrow: "
                         "%g %g %g %g %g %g %g %g", b.s, row.v[0], row.v[1],
                         row.v[2], row.v[3], row.v[4], row.v[5], row.v[6],
                         row.v[7]);
            cr_assert_eq(row.read & ~ref_fields(r), 0, "%s", b.s);
            checked++;
            true_seen += want;
        }
        filter_free(f);
    }
    /* both outcomes are well represented */
    cr_assert_gt(true_seen, checked / 5);
    cr_assert_lt(true_seen, checked * 4 / 5);
}

/* Random edits of valid expressions: each either parses or fails with a
 * column inside the text; never crashes or leaks (ASan). */
Test(filter, mutated_expressions_parse_or_fail_cleanly)
{
    static const char alphabet[] = "()',\"=<>!-.e5 aorntdi_";
    for (int c = 0; c < 4000; c++) {
        struct sb b = {.n = 0};
        npool = 0;
        print(&b, gen(0), 0);
        if (b.over || b.n > 2000) {
            c--;
            continue;
        }
        for (int e = 0, edits = 1 + (int)rnd(3); e < edits && b.n > 1; e++) {
            size_t at = rnd((uint32_t)b.n);
            if (rnd(2)) {
                memmove(b.s + at, b.s + at + 1, b.n - at);   /* delete */
                b.n--;
            } else {
                b.s[at] = alphabet[rnd(sizeof alphabet - 1)];
            }
        }
        struct cxm_err err;
        cxm_err_clear(&err);
        struct filter *f = filter_parse(b.s, fields, NF, &err);
        if (f) {
            filter_bind(f, bind_word, NULL);
            struct row row;
            random_row(row.v);
            filter_eval(f, get, &row);
            filter_free(f);
            continue;
        }
        cr_assert_eq(err.code, CXM_EINVAL, "%s: %s", b.s, err.msg);
        size_t col;
        cr_assert_eq(sscanf(err.msg, "column %zu: ", &col), 1, "%s", err.msg);
        cr_assert(col >= 1 && col <= b.n + 1, "%s: %s", b.s, err.msg);
    }
}

/* ---- grammar ----------------------------------------------------------- */

Test(filter, precedence_is_not_then_and_then_or)
{
    /* a or b and c: true when a alone holds */
    struct row r = row_of(0, NAN, 1, 1);   /* channel web, score 1, age 1 */
    cr_assert(matches("channel = 'web' or score = 2 and age = 2", r));
    cr_assert_not(matches("(channel = 'web' or score = 2) and age = 2", r));
    /* a and b or c: true when c alone holds */
    cr_assert(matches("score = 2 and age = 2 or channel = 'web'", r));
    cr_assert_not(matches("score = 2 and (age = 2 or channel = 'web')", r));
    /* not binds tighter than and / or */
    cr_assert(matches("not score = 2 and age = 1", r));
    cr_assert_not(matches("not (score = 1 and age = 2) and score = 2", r));
    cr_assert(matches("not score = 1 or age = 1", r));
    cr_assert_not(matches("not (score = 1 or age = 1)", r));
    cr_assert(matches("not not score = 1", r));
    cr_assert(matches("((((score = 1))))", r));
    cr_assert(matches("(score = 2 or (age = 2 or (channel = 'web')))", r));
}

Test(filter, comparisons_in_and_between)
{
    struct row r = row_of(1, 3, 7, 30);   /* app, US, 7, 30 */
    cr_assert(matches("score = 7", r));
    cr_assert(matches("score != 6", r));
    cr_assert(matches("score <> 6", r));
    cr_assert_not(matches("score <> 7", r));
    cr_assert(matches("score < 8 and score <= 7 and score > 6 and score >= 7", r));
    cr_assert_not(matches("score < 7", r));
    cr_assert_not(matches("score > 7", r));
    cr_assert(matches("score between 7 and 9", r));
    cr_assert(matches("score between 1 and 7", r));
    cr_assert_not(matches("score between 7.5 and 9", r));
    cr_assert_not(matches("score between 9 and 1", r));   /* reversed: empty */
    cr_assert(matches("score in (1, 7)", r));
    cr_assert_not(matches("score in (1, 2, 3)", r));
    cr_assert(matches("channel in ('web', 'app')", r));
    cr_assert(matches("channel in('app')and country in('FR','US')", r));
    cr_assert_not(matches("channel in ('web', 'email')", r));
    cr_assert(matches("age>=30 and age<=30 and score>6.99", r));
}

Test(filter, numbers_in_every_spelling)
{
    struct row r = row_of(NAN, NAN, -1500, 0.5);
    cr_assert(matches("score = -1.5e3", r));
    cr_assert(matches("score = -15E+2", r));
    cr_assert(matches("score = -1500.000", r));
    cr_assert(matches("age = .5 and age = 0.5 and age = 5e-1 and age = 5.e-1", r));
    r.v[AGE] = -0.5;
    cr_assert(matches("age = -.5", r));
    r.v[AGE] = 7;
    cr_assert(matches("age = 7.", r));
    cr_assert(matches("age between -1e1 and 1e1", r));
}

/* Records the texts bind receives. */
struct seen {
    int n;
    int field[16];
    char text[16][32];
};

static double bind_record(void *ctx, int field, const char *text)
{
    struct seen *s = ctx;
    cr_assert_lt(s->n, 16);
    s->field[s->n] = field;
    cr_assert(strlen(text) < sizeof s->text[0]);
    memcpy(s->text[s->n], text, strlen(text) + 1);
    s->n++;
    return code(text);
}

Test(filter, quoted_strings_unescape_doubled_quotes_in_both_kinds)
{
    const char *expr = "channel in ('O''Brien', \"say \"\"hi\"\"\", \"it's\", "
                       "'he said \"x\"', '', 'a  b') or country = 'US' or "
                       "attr.tier != \"gold\"";
    struct filter *f = filter_parse(expr, fields, NF, NULL);
    cr_assert(f);
    struct seen s = {0};
    cr_assert_eq(filter_bind(f, bind_record, &s), 0);
    const char *want[] = {"O'Brien", "say \"hi\"", "it's", "he said \"x\"", "",
                          "a  b", "US", "gold"};
    const int want_field[] = {CHANNEL, CHANNEL, CHANNEL, CHANNEL, CHANNEL,
                              CHANNEL, COUNTRY, TIER};
    cr_assert_eq(s.n, 8);
    for (int i = 0; i < 8; i++) {
        cr_assert_str_eq(s.text[i], want[i]);
        cr_assert_eq(s.field[i], want_field[i]);
    }
    struct row r = row_of(code("O'Brien"), NAN, NAN, NAN);
    cr_assert(filter_eval(f, get, &r));
    r.v[CHANNEL] = code("");
    cr_assert(filter_eval(f, get, &r));
    r.v[CHANNEL] = code("web");
    cr_assert_not(filter_eval(f, get, &r));
    r.v[TIER] = code("app");
    cr_assert(filter_eval(f, get, &r));
    filter_free(f);
}

Test(filter, keywords_ignore_case_field_names_do_not)
{
    struct row r = row_of(0, 3, 3, 9);
    cr_assert(matches("NOT channel IN ('app') AnD score BETWEEN 1 aNd 5 Or age = 1", r));
    cr_assert(matches("channel In ('web') OR age = 1", r));
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_null(filter_parse("Score = 1", fields, NF, &err));
    cr_assert_str_eq(err.field, "Score");
    cr_assert_str_eq(err.msg, "column 1: unknown field 'Score', did you mean "
                     "'score'? (known: channel, touchpoint, country, score, age, "
                     "attr.tier, value, geo:region-code)");
}

Test(filter, field_names_take_dots_colons_and_dashes)
{
    struct row r = row_of(NAN, NAN, NAN, NAN);
    r.v[TIER] = code("gold");
    r.v[REGION] = code("FR");
    cr_assert(matches("attr.tier = 'gold' and geo:region-code = 'FR'", r));
    cr_assert(matches("attr.tier='gold'and geo:region-code='FR'", r));
}

/* ---- errors ------------------------------------------------------------ */

struct bad {
    const char *expr;
    const char *msg;
    const char *field;
};

static const struct bad bad[] = {
    {"country =", "column 10: expected a value after '='", ""},
    {"country = ", "column 11: expected a value after '='", ""},
    {"country = 'US' foo",
     "column 16: unexpected 'foo' after the end of the expression", ""},
    {"score = 1 and age = 2 )", "column 23: ')' has no matching '('", ""},
    {"contry = 'US'",
     "column 1: unknown field 'contry', did you mean 'country'? (known: channel, "
     "touchpoint, country, score, age, attr.tier, value, geo:region-code)",
     "contry"},
    {"score = 1 or zzz = 2",
     "column 14: unknown field 'zzz' (known: channel, touchpoint, country, "
     "score, age, attr.tier, value, geo:region-code)", "zzz"},
    {"country < 'US'", "column 9: '<' compares numbers; country is text",
     "country"},
    {"country >= 'US'", "column 9: '>=' compares numbers; country is text",
     "country"},
    {"country BETWEEN 'a' and 'b'",
     "column 9: 'BETWEEN' compares numbers; country is text", "country"},
    {"country = 5", "column 11: country is text; expected a quoted text, found 5",
     "country"},
    {"score = 'seven'",
     "column 9: score is a number; expected a number, found 'seven'", "score"},
    {"score in (1, \"2\")",
     "column 14: score is a number; expected a number, found \"2\"", "score"},
    {"country = US",
     "column 11: expected a value after '=', found 'US' (text goes in quotes: 'US')",
     ""},
    {"score = US", "column 9: expected a value after '=', found 'US'", ""},
    {"score == 1", "column 8: expected a value after '=', found '='", ""},
    {"country = 'US", "column 11: unterminated string (no closing ')", ""},
    {"country = \"US", "column 11: unterminated string (no closing \")", ""},
    {"country = 'it''s", "column 11: unterminated string (no closing ')", ""},
    {"channel in ()", "column 13: empty list after 'in': give at least one value",
     ""},
    {"channel in ( )", "column 14: empty list after 'in': give at least one value",
     ""},
    {"channel in 'web'", "column 12: expected '(' after 'in', found 'web'", ""},
    {"channel in ('web' 'app')",
     "column 19: expected ',' or ')' after 'web', found 'app'", ""},
    {"channel in ('web',)", "column 19: expected a value after ',', found ')'", ""},
    {"channel in ('web'", "column 18: expected ',' or ')' after 'web'", ""},
    {"score between 1 5",
     "column 17: expected 'and' after 1, found 5 (between takes two values: "
     "between 1 and 5)", ""},
    {"score between 1 or 5",
     "column 17: expected 'and' after 1, found 'or' (between takes two values: "
     "between 1 and 5)", ""},
    {"score between 1 and", "column 20: expected a value after 'and'", ""},
    {"(score = 1", "column 11: expected ')' to close the '(' at column 1", ""},
    {"age = 1 and (score = 1 age = 2)",
     "column 24: expected ')' to close the '(' at column 13, found 'age'", ""},
    {"score = 1 and", "column 14: expected a field name, 'not' or '(' after 'and'",
     ""},
    {"and score = 1", "column 1: expected a field name, 'not' or '(', found 'and'",
     ""},
    {"not", "column 4: expected a field name, 'not' or '(' after 'not'", ""},
    {"()", "column 2: expected a field name, 'not' or '(' after '(', found ')'", ""},
    {"score = 1 or or age = 1",
     "column 14: expected a field name, 'not' or '(' after 'or', found 'or'", ""},
    {"7 = score", "column 1: expected a field name, 'not' or '(', found 7", ""},
    {"score 7",
     "column 7: expected an operator (=, !=, <, <=, >, >=, in, between) after "
     "'score', found 7", ""},
    {"country 'US'",
     "column 9: expected an operator (=, !=, in) after 'country', found 'US'", ""},
    {"country", "column 8: expected an operator (=, !=, in) after 'country'", ""},
    {"score = 1.2.3", "column 9: malformed number '1.2.3'", ""},
    {"score = 7abc", "column 9: malformed number '7abc'", ""},
    {"score >= 7and age = 1", "column 10: malformed number '7and'", ""},
    {"score = 1e", "column 9: malformed number '1e'", ""},
    {"score = 1e+", "column 9: malformed number '1e+'", ""},
    {"score = 1e999", "column 9: number '1e999' is out of range", ""},
    {"score = -x", "column 9: unexpected character '-'", ""},
    {"score = +1", "column 9: unexpected character '+'", ""},
    {"score ! 1", "column 7: unexpected character '!'", ""},
    {"score = 1 ; age = 2", "column 11: unexpected character ';'", ""},
    {"score \xe2\x89\xa0 1", "column 7: unexpected byte 0xE2", ""},
    {"country = 'FR'\n  and score = 1 or", "column 34: expected a field name, "
     "'not' or '(' after 'or'", ""},
};

Test(filter, every_error_names_its_column_and_what_was_expected)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cxm_err err;
        cxm_err_clear(&err);
        struct filter *f = filter_parse(bad[i].expr, fields, NF, &err);
        cr_assert_null(f, "'%s' parsed", bad[i].expr);
        cr_assert_eq(err.code, CXM_EINVAL, "%s", bad[i].expr);
        cr_assert_str_eq(err.msg, bad[i].msg, "'%s'", bad[i].expr);
        cr_assert_str_eq(err.field, bad[i].field, "'%s'", bad[i].expr);
        /* a NULL err is allowed too */
        cr_assert_null(filter_parse(bad[i].expr, fields, NF, NULL));
    }
}

Test(filter, unknown_field_message_fits_and_is_cut_with_dots)
{
    char names[80][32];
    struct filter_field many[80];
    for (int i = 0; i < 80; i++) {
        snprintf(names[i], sizeof names[i], "custom_field_%d", i);
        many[i] = (struct filter_field){names[i], FT_NUMBER};
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_null(filter_parse("x = 1", many, 80, &err));
    cr_assert_str_eq(err.field, "x");
    const char *head = "column 1: unknown field 'x' (known: custom_field_0, "
                       "custom_field_1, ";
    cr_assert_eq(strncmp(err.msg, head, strlen(head)), 0, "%s", err.msg);
    size_t n = strlen(err.msg);
    cr_assert_lt(n, sizeof err.msg);
    cr_assert_str_eq(err.msg + n - 6, ", ...)", "%s", err.msg);

    /* a very long unknown name: shortened in the message and in err->field */
    char expr[200];
    memset(expr, 'q', 100);
    memcpy(expr + 100, " = 1", 5);
    cxm_err_clear(&err);
    cr_assert_null(filter_parse(expr, fields, NF, &err));
    cr_assert_eq(strlen(err.field), sizeof err.field - 1);
    const char *cut = "column 1: unknown field 'qqqqqqqqqqqqqqqqqqqq"
                      "qqqqqqqqqqqqqqqqqqqq...' (known: channel, ";
    cr_assert_eq(strncmp(err.msg, cut, strlen(cut)), 0, "%s", err.msg);

    /* no fields at all */
    cxm_err_clear(&err);
    cr_assert_null(filter_parse("x = 1", NULL, 0, &err));
    cr_assert_str_eq(err.msg, "column 1: unknown field 'x' (no fields are known)");
}

/* ---- limits -------------------------------------------------------------- */

static char *repeat(const char *head, int n, const char *mid, const char *tail,
                    int ntail)
{
    size_t len = strlen(head) * (size_t)n + strlen(mid) +
                 strlen(tail) * (size_t)ntail + 1;
    char *s = malloc(len);
    cr_assert(s);
    s[0] = '\0';
    size_t at = 0;
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, len - at, "%s", head);
    at += (size_t)snprintf(s + at, len - at, "%s", mid);
    for (int i = 0; i < ntail; i++)
        at += (size_t)snprintf(s + at, len - at, "%s", tail);
    return s;
}

Test(filter, nesting_is_limited_to_64)
{
    struct row r = row_of(NAN, NAN, 1, NAN);
    char *s = repeat("(", 64, "score = 1", ")", 64);
    cr_assert(matches(s, r));
    free(s);
    s = repeat("not ", 64, "score = 1", "", 0);
    cr_assert(matches(s, r));
    free(s);

    struct cxm_err err;
    s = repeat("(", 65, "score = 1", ")", 65);
    cxm_err_clear(&err);
    cr_assert_null(filter_parse(s, fields, NF, &err));
    cr_assert_str_eq(err.msg, "column 65: nesting deeper than 64 levels");
    free(s);
    s = repeat("not ", 65, "score = 1", "", 0);
    cxm_err_clear(&err);
    cr_assert_null(filter_parse(s, fields, NF, &err));
    cr_assert_str_eq(err.msg, "column 257: nesting deeper than 64 levels");
    free(s);
    s = repeat("not (", 33, "score = 1", ")", 33);
    cxm_err_clear(&err);
    cr_assert_null(filter_parse(s, fields, NF, &err));
    cr_assert_str_eq(err.msg, "column 161: nesting deeper than 64 levels");
    free(s);
    /* thousands of levels: an error, not a stack overflow */
    s = repeat("(", 4000, "", "", 0);
    cxm_err_clear(&err);
    cr_assert_null(filter_parse(s, fields, NF, &err));
    cr_assert_str_eq(err.msg, "column 65: nesting deeper than 64 levels");
    free(s);
    /* a long flat chain is not nesting */
    s = repeat("score = 2 or ", 300, "score = 1", "", 0);
    cr_assert(matches(s, r));
    free(s);
}

Test(filter, expressions_over_4096_bytes_are_refused)
{
    char s[4200];
    memset(s, ' ', sizeof s);
    memcpy(s, "score = 1", 9);
    s[4096] = '\0';
    struct row r = row_of(NAN, NAN, 1, NAN);
    cr_assert(matches(s, r));
    memset(s, ' ', sizeof s);
    memcpy(s, "score = 1", 9);
    s[4097] = '\0';
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_null(filter_parse(s, fields, NF, &err));
    cr_assert_eq(err.code, CXM_EINVAL);
    cr_assert_str_eq(err.msg, "filter longer than 4096 bytes");
}

/* ---- semantics ----------------------------------------------------------- */

static int calls;
static double get_never(void *ctx, int field)
{
    (void)ctx;
    (void)field;
    calls++;
    return 0;
}

Test(filter, empty_expression_matches_all_and_reads_nothing)
{
    const char *empty[] = {"", " ", " \t\n\r ", NULL};
    for (int i = 0; i < 4; i++) {
        struct filter *f = filter_parse(empty[i], fields, NF, NULL);
        cr_assert(f);
        cr_assert_eq(filter_fields_used(f), 0);
        cr_assert(filter_eval(f, get_never, NULL));   /* bind not needed */
        cr_assert_eq(filter_bind(f, bind_word, NULL), 0);
        cr_assert(filter_eval(f, get_never, NULL));
        filter_free(f);
    }
    cr_assert_eq(calls, 0);
    filter_free(NULL);
}

Test(filter, missing_values_make_every_comparison_false)
{
    struct row r = row_of(NAN, NAN, NAN, NAN);
    const char *never[] = {
        "score = 1", "score != 1", "score <> 1", "score < 1", "score <= 1",
        "score > 1", "score >= 1", "score in (1, 2)", "score between 0 and 9",
        "channel = 'web'", "channel != 'web'", "channel in ('web', 'app')",
        "channel != 'nope'", "channel = 'nope'",
    };
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        cr_assert_not(matches(never[i], r), "%s", never[i]);
        char neg[64];
        snprintf(neg, sizeof neg, "not (%s)", never[i]);
        cr_assert(matches(neg, r), "%s", neg);
    }
    cr_assert(matches("not score between 0 and 9", r));
    cr_assert(matches("not score = 1 and not channel in ('web')", r));
}

Test(filter, unknown_text_never_equals_and_always_differs_when_present)
{
    struct row r = row_of(code("web"), code("US"), 1, 1);
    cr_assert_not(matches("channel = 'nope'", r));
    cr_assert(matches("channel != 'nope'", r));
    cr_assert(matches("channel <> 'nope'", r));
    cr_assert_not(matches("channel in ('nope', 'WEB')", r));
    cr_assert(matches("channel in ('nope', 'web')", r));
    cr_assert(matches("not channel in ('nope')", r));
    /* a row code the dictionary never gave out */
    r.v[CHANNEL] = 999;
    cr_assert(matches("channel != 'web'", r));
    cr_assert_not(matches("channel in ('web', 'app', 'nope')", r));
}

Test(filter, and_or_stop_at_the_first_child_that_decides)
{
    struct filter *f = parse_ok("score = 1 or age = 2 or country = 'US'");
    struct row r = row_of(NAN, NAN, 1, NAN);
    cr_assert(filter_eval(f, get, &r));
    cr_assert_eq(r.gets, 1);
    cr_assert_eq(r.read, 1ull << SCORE);
    filter_free(f);
    f = parse_ok("score = 2 and age = 2 and country = 'US'");
    r.gets = 0;
    cr_assert_not(filter_eval(f, get, &r));
    cr_assert_eq(r.gets, 1);
    filter_free(f);
}

static double bind_upper(void *ctx, int field, const char *text)
{
    (void)ctx;
    (void)field;
    return strcmp(text, "web") == 0 ? 42 : NAN;
}

Test(filter, bind_again_replaces_the_codes)
{
    struct filter *f = filter_parse("channel in ('web', 'app') or channel = 'web'",
                                    fields, NF, NULL);
    cr_assert(f);
    cr_assert_eq(filter_bind(f, bind_word, NULL), 0);
    struct row r = row_of(code("app"), NAN, NAN, NAN);
    cr_assert(filter_eval(f, get, &r));
    cr_assert_eq(filter_bind(f, bind_upper, NULL), 0);
    cr_assert_not(filter_eval(f, get, &r));
    r.v[CHANNEL] = 42;
    cr_assert(filter_eval(f, get, &r));
    filter_free(f);
}

Test(filter, numbers_need_no_bind)
{
    struct filter *f = filter_parse("score in (1, 2) and age between 1 and 3",
                                    fields, NF, NULL);
    cr_assert(f);
    struct row r = row_of(NAN, NAN, 2, 3);
    cr_assert(filter_eval(f, get, &r));
    filter_free(f);
}

Test(filter, evaluating_text_before_bind_aborts, .signal = SIGABRT)
{
    struct filter *f = filter_parse("channel = 'web'", fields, NF, NULL);
    cr_assert(f);
    struct row r = row_of(0, NAN, NAN, NAN);
    filter_eval(f, get, &r);
    filter_free(f);
}

/* Checks "field in (list)" against a linear scan for every value in range. */
static void check_in_list(const char *fname, const double *lits, int n,
                          const char *const *texts, double lo, double hi,
                          double step)
{
    struct sb b = {.n = 0};
    put(&b, "%s in (", fname);
    for (int i = 0; i < n; i++) {
        put(&b, i ? ", " : "");
        if (texts)
            put_text(&b, texts[i]);
        else
            put(&b, "%.17g", lits[i]);
    }
    put(&b, ")");
    cr_assert_not(b.over);
    struct filter *f = parse_ok(b.s);
    int field = -1;
    for (int i = 0; i < NF; i++)
        if (strcmp(fields[i].name, fname) == 0)
            field = i;
    for (double x = lo; x <= hi; x += step) {
        bool want = false;
        for (int i = 0; i < n; i++)
            want |= (texts ? code(texts[i]) : lits[i]) == x;
        struct row r = row_of(NAN, NAN, NAN, NAN);
        r.v[field] = x;
        cr_assert_eq(filter_eval(f, get, &r), want, "%s at %g", b.s, x);
    }
    struct row r = row_of(NAN, NAN, NAN, NAN);
    cr_assert_not(filter_eval(f, get, &r));
    filter_free(f);
}

Test(filter, long_in_lists_with_duplicates)
{
    double v[64];
    /* 17 distinct values: just over the linear-scan length */
    for (int i = 0; i < 17; i++)
        v[i] = i * 3 - 20;
    check_in_list("score", v, 17, NULL, -30, 40, 0.5);
    /* 17 values, 16 distinct after removing the duplicate */
    v[16] = v[3];
    check_in_list("score", v, 17, NULL, -30, 40, 0.5);
    /* 60 values in shuffled order, many duplicates, decimals */
    for (int i = 0; i < 60; i++)
        v[i] = (double)((i * 37) % 23) * 1.25 - 5;
    check_in_list("age", v, 60, NULL, -10, 30, 0.25);
    /* text: every word twice, and words the dictionary lacks (NAN) */
    const char *t[2 * NWORDS + 4];
    for (size_t i = 0; i < NWORDS; i++) {
        t[2 * i] = words[NWORDS - 1 - i];
        t[2 * i + 1] = words[i];
    }
    t[2 * NWORDS] = "nope";
    t[2 * NWORDS + 1] = "WEB";
    t[2 * NWORDS + 2] = "nope";
    t[2 * NWORDS + 3] = "zz";
    check_in_list("country", NULL, (int)(2 * NWORDS + 4), t, -2, NWORDS + 2, 1);
    /* only unknown words: never matches */
    const char *u[20];
    for (int i = 0; i < 20; i++)
        u[i] = i % 2 ? "nope" : "zz";
    check_in_list("channel", NULL, 20, u, -2, NWORDS + 2, 1);
}

Test(filter, fields_used_is_a_mask_with_63_standing_for_the_rest)
{
    char names[70][16];
    struct filter_field many[70];
    for (int i = 0; i < 70; i++) {
        snprintf(names[i], sizeof names[i], "f%d", i);
        many[i] = (struct filter_field){names[i], i % 2 ? FT_TEXT : FT_NUMBER};
    }
    struct {
        const char *expr;
        uint64_t mask;
    } cases[] = {
        {"f0 = 1", 1},
        {"f0 = 1 and f5 = 'a' or not f62 between 1 and 2", 1 | 1ull << 5 | 1ull << 62},
        {"f63 != 'x'", 1ull << 63},
        {"f64 = 1 or f69 = 'y' or f2 in (1, 2)", 1ull << 63 | 1ull << 2},
        {"(f10 = 1 and f10 = 2) or f10 > 3", 1ull << 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cxm_err err;
        cxm_err_clear(&err);
        struct filter *f = filter_parse(cases[i].expr, many, 70, &err);
        cr_assert(f, "%s: %s", cases[i].expr, err.msg);
        cr_assert_eq(filter_fields_used(f), cases[i].mask, "%s", cases[i].expr);
        filter_free(f);
    }
}

Test(filter, words_near_keywords_are_field_names)
{
    static const struct filter_field kw[] = {
        {"o", FT_NUMBER}, {"an", FT_NUMBER}, {"no", FT_NUMBER},
        {"i", FT_NUMBER}, {"betwee", FT_NUMBER}, {"order", FT_NUMBER},
        {"android", FT_NUMBER}, {"notes", FT_NUMBER}, {"index", FT_NUMBER},
        {"between_x", FT_NUMBER}, {"OR.x", FT_NUMBER},
    };
    const char *expr = "o = 0 and an = 1 and no = 2 and i = 3 and betwee = 4 and "
                       "order = 5 and android = 6 and notes = 7 and index = 8 "
                       "and between_x = 9 and OR.x = 10";
    struct cxm_err err;
    cxm_err_clear(&err);
    struct filter *f = filter_parse(expr, kw, 11, &err);
    cr_assert(f, "%s", err.msg);
    cr_assert_eq(filter_fields_used(f), (1ull << 11) - 1);
    filter_free(f);
}

/* ---- set fields ------------------------------------------------------- */

enum { S_CHANNELS, S_BOUGHT, S_SCORE, NS };
static const struct filter_field set_fields[NS] = {
    {"channels", FT_SET}, {"bought_category", FT_SET}, {"score", FT_NUMBER},
};

struct srow {
    uint32_t channels, bought;   /* bit i: word i */
    double score;
    int has_calls;
};

static double set_bind(void *ctx, int field, const char *text)
{
    (void)ctx;
    cr_assert(field == S_CHANNELS || field == S_BOUGHT);
    return code(text);
}

static double set_get(void *ctx, int field)
{
    cr_assert_eq(field, S_SCORE);
    return ((struct srow *)ctx)->score;
}

static bool set_has(void *ctx, int field, double c)
{
    struct srow *r = ctx;
    r->has_calls++;
    cr_assert(c == c, "has called for an unbound text");
    uint32_t bits = field == S_CHANNELS ? r->channels : r->bought;
    return (bits >> (unsigned)c) & 1u;
}

static bool set_match(const char *expr, struct srow *r)
{
    struct cxm_err err;
    struct filter *f = filter_parse(expr, set_fields, NS, &err);
    cr_assert_not_null(f, "%s: %s", expr, err.msg);
    filter_bind(f, set_bind, NULL);
    bool ok = filter_eval_sets(f, set_get, set_has, r);
    filter_free(f);
    return ok;
}

Test(filter, set_fields_contains_and_call_forms)
{
    struct srow r = {.channels = 1u << 0 | 1u << 2, .bought = 1u << 10, .score = 8};
    cr_assert(set_match("channels contains 'web'", &r));
    cr_assert(set_match("channels CONTAINS \"email\"", &r));
    cr_assert_not(set_match("channels contains 'app'", &r));
    cr_assert(set_match("bought_category('gold')", &r));
    cr_assert_not(set_match("bought_category(\"FR\")", &r));
    cr_assert(set_match("not channels contains 'app' and score > 7", &r));
    cr_assert(set_match("bought_category('gold') or channels contains 'app'", &r));
    /* an unknown text never matches and never reaches has */
    r.has_calls = 0;
    cr_assert_not(set_match("channels contains 'fax'", &r));
    cr_assert_eq(r.has_calls, 0);
    cr_assert(set_match("not channels('fax')", &r));
}

Test(filter, set_field_errors_name_the_column)
{
    struct cxm_err err;
    cr_assert_null(filter_parse("channels = 'web'", set_fields, NS, &err));
    cr_assert_str_eq(err.msg, "column 10: expected 'contains' or '(' after 'channels', "
                              "found '=' (channels is a set: channels contains 'x' or "
                              "channels('x'))");
    cr_assert_null(filter_parse("channels contains 3", set_fields, NS, &err));
    cr_assert(strstr(err.msg, "column 19: channels is a set of texts"), "%s", err.msg);
    cr_assert_null(filter_parse("bought_category('x'", set_fields, NS, &err));
    cr_assert(strstr(err.msg, "column 20: expected ')'"), "%s", err.msg);
    cr_assert_null(filter_parse("score contains 'x'", set_fields, NS, &err));
    cr_assert(strstr(err.msg, "column 7: expected an operator"), "%s", err.msg);
}
