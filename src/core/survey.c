/* survey.c - see survey.h. Parsing checks the members of each object in
 * the documented order, so the first problem reported does not depend on
 * how the document was written; everything goes into a survey of its own
 * that reaches the caller only when all of it is good. Conditions
 * (show_if) are parsed in a second pass, once every question's id and type
 * is known, then bound to choice indexes so evaluation is arithmetic. */
#include "core/survey.h"

#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/sla.h"
#include "core/utf8.h"
#include "cxm_limits.h"

#define ID_MAX 64
#define WHAT_MAX 64              /* touchpoint, channel, stage */
#define ORIGIN_MAX 200
/* A rating's ends: answers are feedback ratings, which are 0 to 10 */
#define RATING_LO 0
#define RATING_HI 10
#define RATING_SPAN_MAX 10

#define TOKEN_ID 8
#define TOKEN_MAC 16
#define TOKEN_RAW (2 * TOKEN_ID + TOKEN_MAC)
#define TOKEN_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define TOKEN_CHARS (sodium_base64_ENCODED_LEN(TOKEN_RAW, TOKEN_VARIANT) - 1)
_Static_assert(TOKEN_CHARS + 1 <= SURVEY_TOKEN_LEN, "SURVEY_TOKEN_LEN too small");
_Static_assert(SURVEY_MAX_CHOICES <= 32, "choices are bits of a uint32_t");
_Static_assert(SURVEY_MAX_QUESTIONS < 63, "filter_fields_used has 63 exact bits");

static const char *const type_names[] = {
    [Q_NPS] = "nps", [Q_CSAT] = "csat", [Q_CES] = "ces", [Q_RATING] = "rating",
    [Q_SINGLE] = "single_choice", [Q_MULTI] = "multi_choice", [Q_TEXT] = "text",
};
#define TYPE_LIST "nps, csat, ces, rating, single_choice, multi_choice, text"

static const char *const trigger_names[] = {
    [TR_INTERACTION] = "interaction", [TR_CASE_RESOLVED] = "case_resolved",
    [TR_ORDER] = "order", [TR_CADENCE] = "cadence",
};

static const char *const every_names[] = {"month", "quarter", "year", NULL};

#define DEFAULT_THANKS "Thank you for your answers."
#define DEFAULT_SUBJECT "{first_name|Hello}, a minute for us?"
#define DEFAULT_EMAIL "We would love to hear from you: {link}"

const char *survey_q_type_name(enum q_type t)
{
    return t >= Q_NPS && t <= Q_TEXT ? type_names[t] : "unknown";
}

const char *survey_feedback_kind(enum q_type t)
{
    switch (t) {
    case Q_NPS: return "nps";
    case Q_CSAT: return "csat";
    case Q_CES: return "ces";
    case Q_RATING: return "rating";
    default: return "text";
    }
}

static bool scored(enum q_type t)
{
    return t == Q_NPS || t == Q_CSAT || t == Q_CES || t == Q_RATING;
}

static bool has_choices(enum q_type t)
{
    return t == Q_SINGLE || t == Q_MULTI;
}

/* ---- small checks ------------------------------------------------------------ */

/* ASCII only: the ctype functions depend on the locale. */
static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Language tags compare without regard to case ("fr-ca" is "fr-CA"). */
static bool lang_eqn(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lower(a[i]) != lower(b[i]))
            return false;
        if (!a[i])
            return true;
    }
    return true;
}

static bool lang_eq(const char *a, const char *b)
{
    size_t n = strlen(a);
    return strlen(b) == n && lang_eqn(a, b, n);
}

/* [a-z]{2,3}(-[A-Za-z0-9]{2,8})? */
static bool lang_ok(const char *s)
{
    size_t i = 0;
    while (s[i] >= 'a' && s[i] <= 'z')
        i++;
    if (i < 2 || i > 3)
        return false;
    if (!s[i])
        return true;
    if (s[i] != '-')
        return false;
    size_t start = ++i;
    while (alnum(s[i]))
        i++;
    return !s[i] && i - start >= 2 && i - start <= 8;
}

/* [a-z0-9_-]{1,64} */
static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* v when it is a string of lo..hi bytes of valid UTF-8 without NUL or
 * control characters (tab, LF and CR allowed); NULL otherwise. */
static const char *text_of(json_t *v, size_t lo, size_t hi)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || n < lo || n > hi || !utf8_valid(s, n) || utf8_has_control(s, n))
        return NULL;
    return s;
}

/* ---- errors -------------------------------------------------------------------- */

/* CXM_EINVAL naming field, the message "field: why". */
__attribute__((format(printf, 3, 4)))
static int bad(struct cxm_err *err, const char *field, const char *fmt, ...)
{
    if (!err)
        return CXM_EINVAL;
    char msg[CXM_ERR_MSG];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    if (!*field)
        return cxm_err_field(err, CXM_EINVAL, -1, field, "%s", msg);
    return cxm_err_field(err, CXM_EINVAL, -1, field, "%s: %s", field, msg);
}

static int oom(struct cxm_err *err)
{
    return cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

static int dup(char **dst, const char *s, struct cxm_err *err)
{
    if (!(*dst = cxm_strdup(s)))
        return oom(err);
    return CXM_OK;
}

/* prefix.member (or member alone when prefix is ""), cut to fit. */
static void member_path(char *buf, size_t n, const char *prefix, const char *member)
{
    int w = snprintf(buf, n, "%s%s%s", prefix, *prefix ? "." : "", member);
    if (w < 0)
        buf[0] = '\0';
}

/* Fails naming the first member of o not in names (NULL-terminated). */
static int only_members(json_t *o, const char *prefix, const char *const *names,
                        const char *list, struct cxm_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (size_t i = 0; names[i] && !known; i++)
            known = strcmp(names[i], key) == 0;
        if (!known) {
            char field[64], k[32];
            cxm_strlcpy(k, key, sizeof k);
            member_path(field, sizeof field, prefix, k);
            return bad(err, field, "unknown member (members: %s)", list);
        }
    }
    return CXM_OK;
}

/* The member, or NULL when absent or null: optional members may be
 * written null, which is how survey_json writes an unset one. */
static json_t *member(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_null(v) ? NULL : v;
}

static int get_bool(json_t *o, const char *prefix, const char *name, bool *out,
                    struct cxm_err *err)
{
    json_t *v = member(o, name);
    if (!v)
        return CXM_OK;
    if (!json_is_boolean(v)) {
        char field[64];
        member_path(field, sizeof field, prefix, name);
        return bad(err, field, "must be true or false");
    }
    *out = json_is_true(v);
    return CXM_OK;
}

static int get_int(json_t *o, const char *prefix, const char *name, int lo, int hi, int *out,
                   struct cxm_err *err)
{
    json_t *v = member(o, name);
    if (!v)
        return CXM_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char field[64];
        member_path(field, sizeof field, prefix, name);
        return bad(err, field, "must be a whole number from %d to %d", lo, hi);
    }
    *out = (int)json_integer_value(v);
    return CXM_OK;
}

/* ---- texts in several languages -------------------------------------------------- */

static void ltext_free(struct ltext *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->lang[i]);
        free(t->text[i]);
    }
    t->n = 0;
}

/* Appends lang: text to t (which has room). */
static int ltext_add(struct ltext *t, const char *lang, const char *text, struct cxm_err *err)
{
    char *l = cxm_strdup(lang), *x = cxm_strdup(text);
    if (!l || !x) {
        free(l);
        free(x);
        return oom(err);
    }
    t->lang[t->n] = l;
    t->text[t->n] = x;
    t->n++;
    return CXM_OK;
}

#define TEXT_RULE "must be 1 to 2000 bytes of text (no control characters)"
_Static_assert(SURVEY_MAX_TEXT == 2000, "TEXT_RULE says 2000");

/* v (a string in the default language dl, or {lang: text}) into *out. */
static int parse_ltext(json_t *v, const char *field, const char *dl, struct ltext *out,
                       struct cxm_err *err)
{
    if (json_is_string(v)) {
        const char *s = text_of(v, 1, SURVEY_MAX_TEXT);
        if (!s)
            return bad(err, field, TEXT_RULE);
        return ltext_add(out, dl, s, err);
    }
    if (!json_is_object(v))
        return bad(err, field, "must be a text or an object of texts by language "
                               "({\"%s\": \"...\"})", dl);
    if (json_object_size(v) > SURVEY_MAX_LANGS)
        return bad(err, field, "%zu languages, at most %d", json_object_size(v),
                   SURVEY_MAX_LANGS);
    const char *key;
    json_t *t;
    json_object_foreach(v, key, t) {
        char f[64], k[16];
        cxm_strlcpy(k, key, sizeof k);
        member_path(f, sizeof f, field, k);
        if (!lang_ok(key))
            return bad(err, f, "a language is written like en, fr or pt-BR");
        for (size_t i = 0; i < out->n; i++)
            if (lang_eq(out->lang[i], key))
                return bad(err, f, "language given twice (as %s)", out->lang[i]);
        const char *s = text_of(t, 1, SURVEY_MAX_TEXT);
        if (!s)
            return bad(err, f, TEXT_RULE);
        int rc = ltext_add(out, key, s, err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->lang[i], dl) == 0)
            return CXM_OK;
    return bad(err, field, "no text in the survey's language (%s)", dl);
}

/* An optional ltext member of o (left empty when absent or null), or its
 * default text in the default language. */
static int get_ltext(json_t *o, const char *prefix, const char *name, const char *dl,
                     const char *dflt, struct ltext *out, struct cxm_err *err)
{
    json_t *v = member(o, name);
    if (!v)
        return dflt ? ltext_add(out, dl, dflt, err) : CXM_OK;
    char field[64];
    member_path(field, sizeof field, prefix, name);
    return parse_ltext(v, field, dl, out, err);
}

/* ---- questions -------------------------------------------------------------------- */

static const char *const Q_MEMBERS[] = {
    "id", "type", "text", "help", "required", "min", "max", "min_label", "max_label",
    "reverse", "choices", "show_if", NULL,
};
#define Q_MEMBER_LIST                                                                    \
    "id, type, text, help, required, min, max, min_label, max_label, reverse, choices, "  \
    "show_if"

static int parse_choices(json_t *v, const char *prefix, const char *dl,
                         struct survey_question *q, struct cxm_err *err)
{
    char field[64];
    member_path(field, sizeof field, prefix, "choices");
    if (!json_is_array(v) || json_array_size(v) < 2 || json_array_size(v) > SURVEY_MAX_CHOICES)
        return bad(err, field, "must be an array of 2 to %d choices", SURVEY_MAX_CHOICES);
    size_t n = json_array_size(v);
    if (!(q->choices = cxm_calloc(n, sizeof *q->choices)))
        return oom(err);
    for (size_t i = 0; i < n; i++) {
        static const char *const names[] = {"id", "label", NULL};
        json_t *c = json_array_get(v, i);
        struct survey_choice *ch = &q->choices[i];
        char p[64], f[64];
        int w = snprintf(p, sizeof p, "%s[%zu]", field, i);
        if (w < 0)
            p[0] = '\0';
        q->nchoices = i + 1;    /* counted first, freed with the rest */
        if (!json_is_object(c))
            return bad(err, p, "a choice is an object with id and label");
        int rc = only_members(c, p, names, "id, label", err);
        if (rc)
            return rc;
        member_path(f, sizeof f, p, "id");
        json_t *id = member(c, "id");
        if (!id)
            return bad(err, f, "missing");
        if (!json_is_string(id) || !id_ok(json_string_value(id)))
            return bad(err, f, "must be 1 to %d of a-z, 0-9, _ and -", ID_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcmp(q->choices[j].id, json_string_value(id)) == 0)
                return bad(err, f, "\"%s\" is also choice %zu", q->choices[j].id, j);
        if ((rc = dup(&ch->id, json_string_value(id), err)))
            return rc;
        member_path(f, sizeof f, p, "label");
        json_t *label = member(c, "label");
        if (!label)
            return bad(err, f, "missing");
        if ((rc = parse_ltext(label, f, dl, &ch->label, err)))
            return rc;
    }
    return CXM_OK;
}

/* The scale of q: fixed by its type, or a rating's min and max. */
static int parse_scale(json_t *o, const char *prefix, struct survey_question *q,
                       struct cxm_err *err)
{
    static const int lo[] = {[Q_NPS] = 0, [Q_CSAT] = 1, [Q_CES] = 1, [Q_RATING] = 1};
    static const int hi[] = {[Q_NPS] = 10, [Q_CSAT] = 5, [Q_CES] = 7, [Q_RATING] = 5};
    char field[64];
    if (q->type != Q_RATING) {
        const char *given = member(o, "min") ? "min" : member(o, "max") ? "max" : NULL;
        if (given) {
            member_path(field, sizeof field, prefix, given);
            if (scored(q->type))
                return bad(err, field, "only rating questions take min and max (%s is %d to %d)",
                           type_names[q->type], lo[q->type], hi[q->type]);
            return bad(err, field, "only rating questions take min and max");
        }
        q->min = scored(q->type) ? lo[q->type] : 0;
        q->max = scored(q->type) ? hi[q->type] : 0;
        return CXM_OK;
    }
    q->min = lo[Q_RATING];
    q->max = hi[Q_RATING];
    int rc = get_int(o, prefix, "min", RATING_LO, RATING_HI, &q->min, err);
    if (!rc)
        rc = get_int(o, prefix, "max", RATING_LO, RATING_HI, &q->max, err);
    if (rc)
        return rc;
    if (q->max - q->min < 1 || q->max - q->min > RATING_SPAN_MAX) {
        member_path(field, sizeof field, prefix, member(o, "max") ? "max" : "min");
        return bad(err, field, "the scale %d to %d is not allowed: max - min must be from 1 to %d",
                   q->min, q->max, RATING_SPAN_MAX);
    }
    return CXM_OK;
}

/* Question i into q (zeroed); prev holds the i before it. show_if is
 * only kept as text here: see parse_condition. */
static int parse_question(json_t *o, size_t i, const struct survey_question *prev,
                          const char *dl, struct survey_question *q, struct cxm_err *err)
{
    char prefix[32], field[64];
    int w = snprintf(prefix, sizeof prefix, "questions[%zu]", i);
    if (w < 0)
        prefix[0] = '\0';
    if (!json_is_object(o))
        return bad(err, prefix, "a question is an object");
    int rc = only_members(o, prefix, Q_MEMBERS, Q_MEMBER_LIST, err);
    if (rc)
        return rc;

    member_path(field, sizeof field, prefix, "id");
    json_t *v = member(o, "id");
    if (!v)
        return bad(err, field, "missing");
    if (!json_is_string(v) || !id_ok(json_string_value(v)))
        return bad(err, field, "must be 1 to %d of a-z, 0-9, _ and -", ID_MAX);
    for (size_t j = 0; j < i; j++)
        if (strcmp(prev[j].id, json_string_value(v)) == 0)
            return bad(err, field, "\"%s\" is also question %zu", prev[j].id, j);
    if ((rc = dup(&q->id, json_string_value(v), err)))
        return rc;

    member_path(field, sizeof field, prefix, "type");
    if (!(v = member(o, "type")))
        return bad(err, field, "missing (types: %s)", TYPE_LIST);
    for (int t = Q_NPS; t <= Q_TEXT && json_is_string(v); t++)
        if (strcmp(type_names[t], json_string_value(v)) == 0)
            q->type = (enum q_type)t;
    if (!q->type)
        return bad(err, field, "unknown type (types: %s)", TYPE_LIST);

    member_path(field, sizeof field, prefix, "text");
    if (!(v = member(o, "text")))
        return bad(err, field, "missing");
    if ((rc = parse_ltext(v, field, dl, &q->text, err)) ||
        (rc = get_ltext(o, prefix, "help", dl, NULL, &q->help, err)))
        return rc;

    q->required = scored(q->type);
    if ((rc = get_bool(o, prefix, "required", &q->required, err)) ||
        (rc = parse_scale(o, prefix, q, err)))
        return rc;

    static const char *const only_scored[] = {"min_label", "max_label", NULL};
    for (size_t k = 0; only_scored[k]; k++) {
        if (!scored(q->type) && member(o, only_scored[k])) {
            member_path(field, sizeof field, prefix, only_scored[k]);
            return bad(err, field, "only nps, csat, ces and rating questions have scale labels");
        }
    }
    if ((rc = get_ltext(o, prefix, "min_label", dl, NULL, &q->min_label, err)) ||
        (rc = get_ltext(o, prefix, "max_label", dl, NULL, &q->max_label, err)))
        return rc;

    if (q->type != Q_CES && member(o, "reverse")) {
        member_path(field, sizeof field, prefix, "reverse");
        return bad(err, field, "only ces questions have a direction");
    }
    if ((rc = get_bool(o, prefix, "reverse", &q->reverse, err)))
        return rc;

    v = member(o, "choices");
    member_path(field, sizeof field, prefix, "choices");
    if (has_choices(q->type) && !v)
        return bad(err, field, "missing (a %s question needs 2 to %d choices)",
                   type_names[q->type], SURVEY_MAX_CHOICES);
    if (!has_choices(q->type) && v)
        return bad(err, field, "only single_choice and multi_choice questions have choices");
    if (v && (rc = parse_choices(v, prefix, dl, q, err)))
        return rc;

    member_path(field, sizeof field, prefix, "show_if");
    if ((v = member(o, "show_if"))) {
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
            json_string_length(v) > FILTER_MAX_EXPR)
            return bad(err, field, "must be a condition of at most %d bytes (\"nps <= 6\")",
                       FILTER_MAX_EXPR);
        const char *s = json_string_value(v);
        if (s[strspn(s, " \t\r\n")] && (rc = dup(&q->show_if, s, err)))
            return rc;
    }
    return CXM_OK;
}

/* What filter_bind needs to turn choice ids into index + 1. */
struct bind_ctx {
    const struct survey *s;
    int unknown_field;           /* the first literal that is no choice, or -1 */
    char unknown[48];
};

static int choice_index(const struct survey_question *q, const char *id)
{
    for (size_t k = 0; k < q->nchoices; k++)
        if (strcmp(q->choices[k].id, id) == 0)
            return (int)k;
    return -1;
}

static double bind_choice(void *ctx, int field, const char *text)
{
    struct bind_ctx *b = ctx;
    const struct survey_question *q = &b->s->q[field];
    int k = has_choices(q->type) ? choice_index(q, text) : -1;
    if (k >= 0)
        return (double)k + 1;
    if (b->unknown_field < 0) {
        b->unknown_field = field;
        cxm_strlcpy(b->unknown, text, sizeof b->unknown);
    }
    return NAN;
}

/* Question qi's show_if: parsed over every question (so a later one is
 * reported as such rather than as unknown), then held to the earlier,
 * non-text ones, and bound. */
static int parse_condition(struct survey *s, size_t qi, struct cxm_err *err)
{
    struct survey_question *q = &s->q[qi];
    struct filter_field fields[SURVEY_MAX_QUESTIONS];
    for (size_t j = 0; j < s->nq; j++) {
        fields[j].name = s->q[j].id;
        fields[j].type = scored(s->q[j].type) ? FT_NUMBER
                         : s->q[j].type == Q_MULTI ? FT_SET : FT_TEXT;
    }
    char field[64];
    int w = snprintf(field, sizeof field, "questions[%zu].show_if", qi);
    if (w < 0)
        field[0] = '\0';
    struct cxm_err fe;
    cxm_err_clear(&fe);
    q->cond = filter_parse(q->show_if, fields, s->nq, &fe);
    uint64_t used = 0;
    if (q->cond) {
        used = filter_fields_used(q->cond);
    } else if (fe.code == CXM_ENOMEM) {
        return oom(err);
    } else {
        /* a type mismatch on a later or text question says more as such */
        for (size_t j = 0; j < s->nq; j++)
            if (fe.field[0] && strcmp(fe.field, s->q[j].id) == 0)
                used = UINT64_C(1) << j;
        if (!used)
            return bad(err, field, "%s", fe.msg);
    }
    for (size_t j = 0; j < s->nq; j++) {
        if (!(used & (UINT64_C(1) << j)))
            continue;
        if (j >= qi)
            return bad(err, field, "%s is %s; a condition can use only the questions "
                                   "before this one", s->q[j].id,
                       j == qi ? "this question" : "a later question");
        if (s->q[j].type == Q_TEXT)
            return bad(err, field, "%s is a text question; a condition can use only scores "
                                   "and choices", s->q[j].id);
    }
    if (!q->cond)
        return bad(err, field, "%s", fe.msg);
    struct bind_ctx b = {.s = s, .unknown_field = -1};
    filter_bind(q->cond, bind_choice, &b);
    if (b.unknown_field >= 0) {
        const struct survey_question *o = &s->q[b.unknown_field];
        return bad(err, field, "'%s' is not a choice of %s", b.unknown, o->id);
    }
    return CXM_OK;
}

static int parse_questions(json_t *v, struct survey *s, struct cxm_err *err)
{
    if (!v)
        return bad(err, "questions", "missing");
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > SURVEY_MAX_QUESTIONS)
        return bad(err, "questions", "must be an array of 1 to %d questions",
                   SURVEY_MAX_QUESTIONS);
    size_t n = json_array_size(v);
    if (!(s->q = cxm_calloc(n, sizeof *s->q)))
        return oom(err);
    for (size_t i = 0; i < n; i++) {
        s->nq = i + 1;          /* counted first, freed with the rest */
        int rc = parse_question(json_array_get(v, i), i, s->q, s->lang, &s->q[i], err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = s->q[i].show_if ? parse_condition(s, i, err) : CXM_OK;
        if (rc)
            return rc;
    }
    return CXM_OK;
}

/* ---- triggers and the widget ------------------------------------------------------- */

static const char *const T_MEMBERS[] = {"on", "when", "delay", "every", NULL};

/* Checks a trigger's when against the record's fields. */
static int check_when(const char *when, enum trigger_on on, const char *field,
                      struct cxm_err *err)
{
    static const struct filter_field interaction[] = {
        {"type", FT_TEXT}, {"touchpoint", FT_TEXT}, {"channel", FT_TEXT},
        {"stage", FT_TEXT}, {"agent", FT_TEXT},
    };
    static const struct filter_field order[] = {{"channel", FT_TEXT}, {"amount", FT_NUMBER}};
    struct cxm_err fe;
    cxm_err_clear(&fe);
    struct filter *f = on == TR_ORDER
                           ? filter_parse(when, order, sizeof order / sizeof *order, &fe)
                           : filter_parse(when, interaction,
                                          sizeof interaction / sizeof *interaction, &fe);
    if (f) {
        filter_free(f);
        return CXM_OK;
    }
    if (fe.code == CXM_ENOMEM)
        return oom(err);
    return bad(err, field, "%s", fe.msg);
}

static int parse_trigger(json_t *o, size_t i, struct survey_trigger *t, struct cxm_err *err)
{
    char prefix[32], field[64];
    int w = snprintf(prefix, sizeof prefix, "triggers[%zu]", i);
    if (w < 0)
        prefix[0] = '\0';
    if (!json_is_object(o))
        return bad(err, prefix, "a trigger is an object");
    int rc = only_members(o, prefix, T_MEMBERS, "on, when, delay, every", err);
    if (rc)
        return rc;

    member_path(field, sizeof field, prefix, "on");
    json_t *v = member(o, "on");
    for (int k = TR_INTERACTION; k <= TR_CADENCE && json_is_string(v); k++)
        if (strcmp(trigger_names[k], json_string_value(v)) == 0)
            t->on = (enum trigger_on)k;
    if (!t->on)
        return bad(err, field, "%s (on: interaction, case_resolved, order, cadence)",
                   v ? "unknown" : "missing");

    member_path(field, sizeof field, prefix, "when");
    if ((v = member(o, "when"))) {
        if (t->on != TR_INTERACTION && t->on != TR_ORDER)
            return bad(err, field, "only interaction and order triggers take a condition");
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
            json_string_length(v) > FILTER_MAX_EXPR)
            return bad(err, field, "must be a condition of at most %d bytes", FILTER_MAX_EXPR);
        const char *s = json_string_value(v);
        if (s[strspn(s, " \t\r\n")]) {
            if ((rc = check_when(s, t->on, field, err)) || (rc = dup(&t->when, s, err)))
                return rc;
        }
    }

    member_path(field, sizeof field, prefix, "delay");
    if ((v = member(o, "delay"))) {
        if (t->on == TR_CADENCE)
            return bad(err, field, "a cadence trigger has no delay");
        struct cxm_err de;
        cxm_err_clear(&de);
        if (!json_is_string(v))
            return bad(err, field, "must be a duration (\"1h\", \"7d\")");
        if (sla_parse_duration(json_string_value(v), &t->delay, &de))
            return bad(err, field, "%s", de.msg);
    }

    member_path(field, sizeof field, prefix, "every");
    v = member(o, "every");
    if (t->on != TR_CADENCE) {
        if (v)
            return bad(err, field, "only cadence triggers repeat");
        return CXM_OK;
    }
    if (!v)
        return bad(err, field, "missing (every: month, quarter, year)");
    for (size_t k = 0; every_names[k] && json_is_string(v); k++)
        if (strcmp(every_names[k], json_string_value(v)) == 0)
            return dup(&t->every, every_names[k], err);
    return bad(err, field, "unknown (every: month, quarter, year)");
}

static int parse_triggers(json_t *v, struct survey *s, struct cxm_err *err)
{
    if (!json_is_array(v) || json_array_size(v) > SURVEY_MAX_TRIGGERS)
        return bad(err, "triggers", "must be an array of at most %d triggers",
                   SURVEY_MAX_TRIGGERS);
    for (size_t i = 0; i < json_array_size(v); i++) {
        s->ntrig = i + 1;
        int rc = parse_trigger(json_array_get(v, i), i, &s->trig[i], err);
        if (rc)
            return rc;
    }
    return CXM_OK;
}

/* scheme://host[:port] with http or https, a host of letters, digits,
 * dots and hyphens (or [an IPv6 address]) and no path, into out in lower
 * case, as browsers send it. */
static bool origin_ok(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s);
    if (n > ORIGIN_MAX || n + 1 > cap)
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = lower(s[i]);
    size_t i;
    if (strncmp(out, "https://", 8) == 0)
        i = 8;
    else if (strncmp(out, "http://", 7) == 0)
        i = 7;
    else
        return false;
    size_t host = i;
    if (out[i] == '[') {
        while (out[++i] && (alnum(out[i]) || out[i] == ':' || out[i] == '.'))
            ;
        if (out[i] != ']' || i == host + 1)
            return false;
        i++;
    } else {
        while (alnum(out[i]) || out[i] == '.' || out[i] == '-')
            i++;
        if (i == host || !alnum(out[host]) || !alnum(out[i - 1]))
            return false;
    }
    if (out[i] == ':') {
        size_t d = ++i;
        long port = 0;
        while (out[i] >= '0' && out[i] <= '9' && i - d < 5)
            port = port * 10 + (out[i++] - '0');
        if (i == d || out[d] == '0' || port > 65535)
            return false;
    }
    return out[i] == '\0';
}

static int parse_widget(json_t *v, struct survey *s, struct cxm_err *err)
{
    static const char *const names[] = {"origins", NULL};
    if (!json_is_object(v))
        return bad(err, "widget", "must be an object with origins");
    int rc = only_members(v, "widget", names, "origins", err);
    if (rc)
        return rc;
    json_t *a = member(v, "origins");
    if (!a)
        return CXM_OK;
    if (!json_is_array(a) || json_array_size(a) > SURVEY_MAX_ORIGINS)
        return bad(err, "widget.origins", "must be an array of at most %d origins",
                   SURVEY_MAX_ORIGINS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        char field[64], o[ORIGIN_MAX + 1];
        int w = snprintf(field, sizeof field, "widget.origins[%zu]", i);
        if (w < 0)
            field[0] = '\0';
        json_t *e = json_array_get(a, i);
        if (!text_of(e, 1, ORIGIN_MAX) || !origin_ok(json_string_value(e), o, sizeof o))
            return bad(err, field, "must be an origin like https://shop.example or "
                                   "http://localhost:8080 (http or https, no path, at most "
                                   "%d bytes)", ORIGIN_MAX);
        for (size_t j = 0; j < s->norigins; j++)
            if (strcmp(s->origins[j], o) == 0)
                return bad(err, field, "%s is listed twice", o);
        if ((rc = dup(&s->origins[s->norigins], o, err)))
            return rc;
        s->norigins++;
    }
    return CXM_OK;
}

/* ---- the document ---------------------------------------------------------------------- */

static const char *const S_MEMBERS[] = {
    "id", "name", "kind", "language", "title", "intro", "thanks", "questions", "touchpoint",
    "channel", "stage", "sample", "expiry_days", "reminder_days", "email", "triggers",
    "widget", "enabled", "anonymous", NULL,
};
#define S_MEMBER_LIST                                                                        \
    "id, name, kind, language, title, intro, thanks, questions, touchpoint, channel, stage, "  \
    "sample, expiry_days, reminder_days, email, triggers, widget, enabled, anonymous"

static int parse_email(json_t *o, struct survey *s, struct cxm_err *err)
{
    static const char *const names[] = {"subject", "text", NULL};
    int rc;
    if (!o) {
        if (!(rc = ltext_add(&s->email_subject, s->lang, DEFAULT_SUBJECT, err)))
            rc = ltext_add(&s->email_text, s->lang, DEFAULT_EMAIL, err);
        return rc;
    }
    if (!json_is_object(o))
        return bad(err, "email", "must be an object with subject and text");
    if ((rc = only_members(o, "email", names, "subject, text", err)) ||
        (rc = get_ltext(o, "email", "subject", s->lang, DEFAULT_SUBJECT, &s->email_subject,
                        err)))
        return rc;
    return get_ltext(o, "email", "text", s->lang, DEFAULT_EMAIL, &s->email_text, err);
}

/* touchpoint, channel or stage: NULL when absent or null. */
static int get_what(json_t *o, const char *name, char **out, struct cxm_err *err)
{
    json_t *v = member(o, name);
    if (!v)
        return CXM_OK;
    const char *s = text_of(v, 1, WHAT_MAX);
    if (!s)
        return bad(err, name, "must be 1 to %d bytes of text, or null", WHAT_MAX);
    return dup(out, s, err);
}

static int parse_doc(json_t *doc, struct survey *s, struct cxm_err *err)
{
    if (!json_is_object(doc))
        return bad(err, "", "a survey must be a JSON object");
    int rc = only_members(doc, "", S_MEMBERS, S_MEMBER_LIST, err);
    if (rc)
        return rc;

    json_t *v = member(doc, "id");
    if (!v)
        return bad(err, "id", "missing");
    if (!json_is_string(v) || !id_ok(json_string_value(v)))
        return bad(err, "id", "must be 1 to %d of a-z, 0-9, _ and -", ID_MAX);
    if ((rc = dup(&s->id, json_string_value(v), err)))
        return rc;

    const char *name = s->id;
    if ((v = member(doc, "name")) && !(name = text_of(v, 1, CXM_MAX_NAME)))
        return bad(err, "name", "must be 1 to %d bytes of text", CXM_MAX_NAME);
    if ((rc = dup(&s->name, name, err)))
        return rc;

    s->kind = SK_TRANSACTIONAL;
    if ((v = member(doc, "kind"))) {
        const char *k = json_is_string(v) ? json_string_value(v) : "";
        if (strcmp(k, "relationship") == 0)
            s->kind = SK_RELATIONSHIP;
        else if (strcmp(k, "transactional") != 0)
            return bad(err, "kind", "must be relationship or transactional");
    }

    const char *lang = "en";
    if ((v = member(doc, "language")) &&
        (!json_is_string(v) || !lang_ok(lang = json_string_value(v))))
        return bad(err, "language", "a language is written like en, fr or pt-BR");
    if ((rc = dup(&s->lang, lang, err)))
        return rc;

    if ((rc = get_ltext(doc, "", "title", s->lang, NULL, &s->title, err)) ||
        (rc = get_ltext(doc, "", "intro", s->lang, NULL, &s->intro, err)) ||
        (rc = get_ltext(doc, "", "thanks", s->lang, DEFAULT_THANKS, &s->thanks, err)) ||
        (rc = parse_questions(member(doc, "questions"), s, err)) ||
        (rc = get_what(doc, "touchpoint", &s->touchpoint, err)) ||
        (rc = get_what(doc, "channel", &s->channel, err)) ||
        (rc = get_what(doc, "stage", &s->stage, err)))
        return rc;

    s->sample = 1;
    if ((v = member(doc, "sample"))) {
        double x = json_is_number(v) ? json_number_value(v) : NAN;
        if (!(x > 0 && x <= 1))
            return bad(err, "sample", "must be a number above 0 and at most 1 (the share of "
                                      "eligible customers invited)");
        s->sample = x;
    }
    s->expiry_days = 14;
    if ((rc = get_int(doc, "", "expiry_days", 1, 365, &s->expiry_days, err)) ||
        (rc = get_int(doc, "", "reminder_days", 0, 60, &s->reminder_days, err)))
        return rc;
    if (s->reminder_days >= s->expiry_days)
        return bad(err, "reminder_days", "the reminder must come before the link expires "
                   "(expiry_days is %d)", s->expiry_days);

    if ((rc = parse_email(member(doc, "email"), s, err)))
        return rc;
    if ((v = member(doc, "triggers")) && (rc = parse_triggers(v, s, err)))
        return rc;
    if ((v = member(doc, "widget")) && (rc = parse_widget(v, s, err)))
        return rc;
    s->enabled = true;
    if ((rc = get_bool(doc, "", "enabled", &s->enabled, err)))
        return rc;
    return get_bool(doc, "", "anonymous", &s->anonymous, err);
}

int survey_parse(const char *json, size_t len, struct survey **out, struct cxm_err *err)
{
    if (!json)
        return bad(err, "", "no survey document");
    if (len > SURVEY_MAX_DOC)
        return cxm_err_field(err, CXM_ETOOBIG, -1, "", "the survey document is over %d bytes",
                             SURVEY_MAX_DOC);
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return bad(err, "", "survey JSON, line %d column %d: %s", je.line, je.column, je.text);
    struct survey *s = cxm_calloc(1, sizeof *s);
    int rc = s ? parse_doc(doc, s, err) : oom(err);
    json_decref(doc);
    if (rc) {
        survey_free(s);
        return rc;
    }
    *out = s;
    return CXM_OK;
}

static void question_free(struct survey_question *q)
{
    free(q->id);
    ltext_free(&q->text);
    ltext_free(&q->help);
    ltext_free(&q->min_label);
    ltext_free(&q->max_label);
    for (size_t k = 0; k < q->nchoices; k++) {
        free(q->choices[k].id);
        ltext_free(&q->choices[k].label);
    }
    free(q->choices);
    free(q->show_if);
    filter_free(q->cond);
}

void survey_free(struct survey *s)
{
    if (!s)
        return;
    free(s->id);
    free(s->name);
    free(s->lang);
    ltext_free(&s->title);
    ltext_free(&s->intro);
    ltext_free(&s->thanks);
    for (size_t i = 0; i < s->nq; i++)
        question_free(&s->q[i]);
    free(s->q);
    free(s->touchpoint);
    free(s->channel);
    free(s->stage);
    ltext_free(&s->email_subject);
    ltext_free(&s->email_text);
    for (size_t i = 0; i < s->ntrig; i++) {
        free(s->trig[i].when);
        free(s->trig[i].every);
    }
    for (size_t i = 0; i < s->norigins; i++)
        free(s->origins[i]);
    free(s);
}

/* ---- output -------------------------------------------------------------------------- */

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* {lang: text, ...}, null when t is empty. */
static json_t *ltext_json(const struct ltext *t)
{
    if (!t->n)
        return json_null();
    json_t *o = json_object();
    for (size_t i = 0; o && i < t->n; i++) {
        if (json_object_set_new(o, t->lang[i], json_string(t->text[i]))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Sets o[k] = v, taking v; false (o released) on failure. */
static bool put(json_t *o, const char *k, json_t *v)
{
    if (json_object_set_new(o, k, v)) {
        json_decref(o);
        return false;
    }
    return true;
}

/* Appends v to a, taking v; false (a released) on failure. */
static bool push(json_t *a, json_t *v)
{
    if (json_array_append_new(a, v)) {
        json_decref(a);
        return false;
    }
    return true;
}

static json_t *choices_json(const struct survey_question *q)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < q->nchoices; k++) {
        json_t *c = json_object();
        if (!c || !put(c, "id", json_string(q->choices[k].id)) ||
            !put(c, "label", ltext_json(&q->choices[k].label))) {
            json_decref(a);
            return NULL;
        }
        if (!push(a, c))
            return NULL;
    }
    return a;
}

/* The members a question of its type may have, every one written. */
static json_t *question_json(const struct survey_question *q)
{
    json_t *o = json_object();
    if (!o || !put(o, "id", json_string(q->id)) ||
        !put(o, "type", json_string(survey_q_type_name(q->type))) ||
        !put(o, "text", ltext_json(&q->text)) || !put(o, "help", ltext_json(&q->help)) ||
        !put(o, "required", json_boolean(q->required)))
        return NULL;
    if (q->type == Q_RATING &&
        (!put(o, "min", json_integer(q->min)) || !put(o, "max", json_integer(q->max))))
        return NULL;
    if (scored(q->type) && (!put(o, "min_label", ltext_json(&q->min_label)) ||
                            !put(o, "max_label", ltext_json(&q->max_label))))
        return NULL;
    if (q->type == Q_CES && !put(o, "reverse", json_boolean(q->reverse)))
        return NULL;
    if (has_choices(q->type) && !put(o, "choices", choices_json(q)))
        return NULL;
    if (!put(o, "show_if", string_or_null(q->show_if)))
        return NULL;
    return o;
}

static json_t *trigger_json(const struct survey_trigger *t)
{
    json_t *o = json_object();
    if (!o || !put(o, "on", json_string(trigger_names[t->on])))
        return NULL;
    if ((t->on == TR_INTERACTION || t->on == TR_ORDER) &&
        !put(o, "when", string_or_null(t->when)))
        return NULL;
    if (t->on == TR_CADENCE)
        return put(o, "every", string_or_null(t->every)) ? o : NULL;
    char d[SLA_DURATION_LEN];
    if (t->delay > 0 && sla_format_duration(t->delay, d, sizeof d) == CXM_OK)
        return put(o, "delay", json_string(d)) ? o : NULL;
    return put(o, "delay", json_null()) ? o : NULL;
}

json_t *survey_json(const struct survey *s)
{
    json_t *doc = json_object();
    if (!doc || !put(doc, "id", json_string(s->id)) || !put(doc, "name", json_string(s->name)) ||
        !put(doc, "kind", json_string(s->kind == SK_RELATIONSHIP ? "relationship"
                                                                 : "transactional")) ||
        !put(doc, "language", json_string(s->lang)) ||
        !put(doc, "title", ltext_json(&s->title)) || !put(doc, "intro", ltext_json(&s->intro)) ||
        !put(doc, "thanks", ltext_json(&s->thanks)))
        return NULL;
    json_t *qs = json_array();
    if (!put(doc, "questions", qs))
        return NULL;
    for (size_t i = 0; i < s->nq; i++)
        if (json_array_append_new(qs, question_json(&s->q[i])))
            goto fail;
    json_t *email = json_object(), *trig = json_array(), *widget = json_object(),
           *origins = json_array();
    if (!put(doc, "touchpoint", string_or_null(s->touchpoint)) ||
        !put(doc, "channel", string_or_null(s->channel)) ||
        !put(doc, "stage", string_or_null(s->stage)) ||
        !put(doc, "sample", json_real(s->sample)) ||
        !put(doc, "expiry_days", json_integer(s->expiry_days)) ||
        !put(doc, "reminder_days", json_integer(s->reminder_days))) {
        json_decref(email);
        json_decref(trig);
        json_decref(widget);
        json_decref(origins);
        return NULL;
    }
    /* from here each container is owned by its parent, even on failure */
    if (!put(doc, "email", email)) {
        json_decref(trig);
        json_decref(widget);
        json_decref(origins);
        return NULL;
    }
    if (!put(doc, "triggers", trig)) {
        json_decref(widget);
        json_decref(origins);
        return NULL;
    }
    if (!put(doc, "widget", widget)) {
        json_decref(origins);
        return NULL;
    }
    if (json_object_set_new(widget, "origins", origins) ||
        json_object_set_new(email, "subject", ltext_json(&s->email_subject)) ||
        json_object_set_new(email, "text", ltext_json(&s->email_text)))
        goto fail;
    for (size_t i = 0; i < s->ntrig; i++)
        if (json_array_append_new(trig, trigger_json(&s->trig[i])))
            goto fail;
    for (size_t i = 0; i < s->norigins; i++)
        if (json_array_append_new(origins, json_string(s->origins[i])))
            goto fail;
    if (!put(doc, "enabled", json_boolean(s->enabled)) ||
        !put(doc, "anonymous", json_boolean(s->anonymous)))
        return NULL;
    return doc;
fail:
    json_decref(doc);
    return NULL;
}

/* ---- languages ------------------------------------------------------------------------ */

/* The index of lang in t: exactly when base is 0, else its first base
 * bytes as a whole tag; -1 when none. */
static int ltext_find(const struct ltext *t, const char *lang, size_t base)
{
    for (size_t i = 0; i < t->n; i++) {
        if (base ? strlen(t->lang[i]) == base && lang_eqn(t->lang[i], lang, base)
                 : lang_eq(t->lang[i], lang))
            return (int)i;
    }
    return -1;
}

/* The length of lang's base ("pt" of "pt-BR"), 0 when it has none. */
static size_t base_len(const char *lang)
{
    size_t b = strcspn(lang, "-");
    return lang[b] ? b : 0;
}

const char *survey_text(const struct survey *s, const struct ltext *t, const char *lang)
{
    if (!t || t->n == 0)
        return "";
    int k = -1;
    if (lang && *lang) {
        k = ltext_find(t, lang, 0);
        if (k < 0 && base_len(lang))
            k = ltext_find(t, lang, base_len(lang));
    }
    if (k < 0 && s && s->lang)
        k = ltext_find(t, s->lang, 0);
    return t->text[k < 0 ? 0 : k];
}

/* The survey "has" a language when every question can be asked in it. */
static const char *survey_has(const struct survey *s, const char *lang, size_t base)
{
    if (!s->nq)
        return NULL;
    int k = ltext_find(&s->q[0].text, lang, base);
    if (k < 0)
        return NULL;
    const char *tag = s->q[0].text.lang[k];
    for (size_t i = 1; i < s->nq; i++)
        if (ltext_find(&s->q[i].text, tag, 0) < 0)
            return NULL;
    return tag;
}

const char *survey_lang(const struct survey *s, const char *lang)
{
    const char *tag = NULL;
    if (lang && *lang) {
        tag = survey_has(s, lang, 0);
        if (!tag && base_len(lang))
            tag = survey_has(s, lang, base_len(lang));
    }
    return tag ? tag : s->lang;
}

/* ---- answers ----------------------------------------------------------------------------- */

void survey_answer_clear(struct survey_answer *a)
{
    if (!a)
        return;
    free(a->text);
    *a = (struct survey_answer){.given = false, .score = NAN};
}

/* A whole number written canonically: "0", "7", "-3"; not "07", "+7",
 * " 7", "7.0", "-0". Small enough to hold in an int (4 digits at most). */
static bool read_int(const char *s, int *out)
{
    bool neg = *s == '-';
    const char *d = s + neg;
    size_t n = strspn(d, "0123456789");
    if (n == 0 || n > 4 || d[n] || (d[0] == '0' && (n > 1 || neg)))
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (d[i] - '0');
    *out = neg ? -v : v;
    return true;
}

__attribute__((format(printf, 3, 4)))
static int respond(struct cxm_err *err, const struct survey_question *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cxm_err_vfield(err, CXM_EINVAL, -1, q->id, fmt, ap);
    va_end(ap);
    return rc;
}

static int read_answer(const struct survey *s, size_t qi, const char *const *values,
                       size_t nvalues, struct survey_answer *a, struct cxm_err *err)
{
    if (!s || qi >= s->nq || (nvalues && !values))
        return cxm_err_field(err, CXM_EINVAL, -1, "", "no such question");
    const struct survey_question *q = &s->q[qi];
    struct survey_answer r = {.given = true, .score = NAN};
    /* choices: an empty value is no choice (a form's "choose..." option) */
    size_t n = 0;
    const char *v = "";
    for (size_t i = 0; i < nvalues; i++) {
        const char *x = values[i] ? values[i] : "";
        if (*x || !has_choices(q->type)) {
            if (!n++)
                v = x;
        }
    }
    if (n == 1 && q->type == Q_TEXT && !v[strspn(v, " \t\r\n\f\v")])
        n = 0;
    if (n == 0) {
        if (q->required)
            return respond(err, q, "This question needs an answer.");
        *a = (struct survey_answer){.given = false, .score = NAN};
        return CXM_OK;
    }
    switch (q->type) {
    case Q_NPS:
    case Q_CSAT:
    case Q_CES:
    case Q_RATING: {
        int x;
        if (n > 1)
            return respond(err, q, "Choose only one number.");
        if (!read_int(v, &x) || x < q->min || x > q->max)
            return respond(err, q, "Choose a number from %d to %d.", q->min, q->max);
        r.score = x;
        break;
    }
    case Q_SINGLE: {
        if (n > 1)
            return respond(err, q, "Choose only one of the options.");
        int k = choice_index(q, v);
        if (k < 0)
            return respond(err, q, "Choose one of the options.");
        r.choices = UINT32_C(1) << k;
        break;
    }
    case Q_MULTI:
        for (size_t i = 0; i < nvalues; i++) {
            if (!values[i] || !*values[i])
                continue;
            int k = choice_index(q, values[i]);
            if (k < 0)
                return respond(err, q, "Choose from the options given.");
            r.choices |= UINT32_C(1) << k;
        }
        break;
    case Q_TEXT: {
        if (n > 1)
            return respond(err, q, "Give only one answer.");
        size_t len = strlen(v);
        if (len > SURVEY_MAX_ANSWER)
            return respond(err, q, "Your answer is too long (%d bytes at most).",
                           SURVEY_MAX_ANSWER);
        if (!utf8_valid(v, len))
            return respond(err, q, "Your answer has characters we cannot read.");
        if (!(r.text = cxm_strdup(v)))
            return oom(err);
        break;
    }
    default:
        return cxm_err_field(err, CXM_EINVAL, -1, q->id, "unknown question type");
    }
    *a = r;
    return CXM_OK;
}

/* On error *a is still written (not given), so that a caller may declare
 * an answer, read into it and clear it whatever happened. */
int survey_answer_read(const struct survey *s, size_t qi, const char *const *values,
                       size_t nvalues, struct survey_answer *a, struct cxm_err *err)
{
    if (!a)
        return cxm_err_field(err, CXM_EINVAL, -1, "", "no answer to read into");
    int rc = read_answer(s, qi, values, nvalues, a, err);
    if (rc)
        *a = (struct survey_answer){.given = false, .score = NAN};
    return rc;
}

/* ---- the next question ---------------------------------------------------------------------- */

struct eval_ctx {
    const struct survey *s;
    const struct survey_answer *a;
    const bool *answered;
};

static const struct survey_answer *given(const struct eval_ctx *c, int field)
{
    if (!c->a || !c->answered || !c->answered[field] || !c->a[field].given)
        return NULL;
    return &c->a[field];
}

static double get_answer(void *ctx, int field)
{
    const struct eval_ctx *c = ctx;
    const struct survey_answer *a = given(c, field);
    if (!a)
        return NAN;
    const struct survey_question *q = &c->s->q[field];
    if (scored(q->type))
        return a->score;
    if (q->type == Q_SINGLE && a->choices)
        return (double)__builtin_ctz(a->choices) + 1;
    return NAN;
}

static bool has_choice(void *ctx, int field, double code)
{
    const struct eval_ctx *c = ctx;
    const struct survey_answer *a = given(c, field);
    if (!a || !(code >= 1 && code <= SURVEY_MAX_CHOICES))
        return false;
    return (a->choices >> ((unsigned)code - 1)) & 1;
}

static bool holds(const struct eval_ctx *c, size_t i)
{
    const struct filter *f = c->s->q[i].cond;
    return !f || filter_eval_sets(f, get_answer, has_choice, (void *)c);
}

int survey_next(const struct survey *s, const struct survey_answer *a, const bool *answered,
                int *step, int *steps)
{
    if (!a || !answered)         /* nothing answered yet */
        a = NULL, answered = NULL;
    struct eval_ctx c = {.s = s, .a = a, .answered = answered};
    /* pending: the unanswered questions that may still be asked, from the
     * next one on; a condition reading one of them may yet hold, one
     * reading only answers or passed-over questions is decided now */
    uint64_t pending = 0;
    int next = -1, asked = 0, ahead = 0;
    for (size_t i = 0; i < s->nq; i++) {
        const struct filter *f = s->q[i].cond;
        if (answered && answered[i]) {
            asked += holds(&c, i);
        } else if (next < 0 ? holds(&c, i)
                            : !f || (filter_fields_used(f) & pending) || holds(&c, i)) {
            if (next < 0)
                next = (int)i;
            pending |= UINT64_C(1) << i;
            ahead++;
        }
    }
    if (step)
        *step = asked + 1;
    if (steps)
        *steps = asked + ahead;
    return next;
}

/* ---- invitation tokens ---------------------------------------------------------------------- */

static void put_be64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

static int64_t get_be64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

/* The truncated MAC of the token's first 2 * TOKEN_ID bytes. */
static void token_mac(const unsigned char key[32], const unsigned char *msg,
                      unsigned char mac[TOKEN_MAC])
{
    unsigned char full[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, 32);
    crypto_auth_hmacsha256_update(&st, msg, 2 * TOKEN_ID);
    crypto_auth_hmacsha256_final(&st, full);
    memcpy(mac, full, TOKEN_MAC);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(full, sizeof full);
}

int survey_token_make(const unsigned char key[32], int64_t invitation, int64_t expires,
                      char out[SURVEY_TOKEN_LEN])
{
    if (!key || !out)
        return CXM_EINVAL;
    if (sodium_init() < 0)
        return CXM_EIO;
    unsigned char raw[TOKEN_RAW];
    put_be64(raw, invitation);
    put_be64(raw + TOKEN_ID, expires);
    token_mac(key, raw, raw + 2 * TOKEN_ID);
    sodium_bin2base64(out, SURVEY_TOKEN_LEN, raw, sizeof raw, TOKEN_VARIANT);
    return CXM_OK;
}

int survey_token_read(const unsigned char key[32], const char *token, int64_t *invitation,
                      int64_t *expires, struct cxm_err *err)
{
    if (!key || !token)
        return cxm_err_set(err, CXM_EINVAL, "invitation token: missing");
    if (sodium_init() < 0)
        return cxm_err_set(err, CXM_EIO, "libsodium failed to initialise");
    unsigned char raw[TOKEN_RAW], mac[TOKEN_MAC];
    size_t n = 0;
    /* b64_end NULL: the whole string must be base64url, nothing after it */
    if (strnlen(token, TOKEN_CHARS + 1) != TOKEN_CHARS ||
        sodium_base642bin(raw, sizeof raw, token, TOKEN_CHARS, NULL, &n, NULL, TOKEN_VARIANT) ||
        n != TOKEN_RAW)
        return cxm_err_set(err, CXM_EINVAL, "invitation token: malformed");
    token_mac(key, raw, mac);
    if (sodium_memcmp(mac, raw + 2 * TOKEN_ID, TOKEN_MAC) != 0)
        return cxm_err_set(err, CXM_EINVAL, "invitation token: not valid");
    if (invitation)
        *invitation = get_be64(raw);
    if (expires)
        *expires = get_be64(raw + TOKEN_ID);
    return CXM_OK;
}
