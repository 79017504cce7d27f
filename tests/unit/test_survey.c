/* test_survey.c - survey definitions: a realistic relationship NPS survey
 * in two languages, the parser's field errors (one bad document per
 * rule), defaults, text fallback by language, answers at every scale
 * boundary, the branching walk of survey_next with its progress counts,
 * survey_json -> survey_parse round trips, and invitation tokens. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/survey.h"

/* ---- helpers ------------------------------------------------------------ */

/* A relationship NPS survey in English and French: "why" for detractors,
 * "improve" for everyone but promoters, the channels used, effort asked
 * of those who phoned, and a price rating for those who want better
 * prices. */
static const char NPS_SURVEY[] =
    "{\"id\": \"rel-nps-2026\", \"name\": \"Relationship NPS 2026\","
    " \"kind\": \"relationship\", \"language\": \"en\","
    " \"title\": {\"en\": \"How are we doing?\", \"fr\": \"Comment allons-nous ?\"},"
    " \"intro\": {\"en\": \"Two minutes, four questions.\","
    "             \"fr\": \"Deux minutes, quatre questions.\"},"
    " \"thanks\": {\"en\": \"Thanks!\", \"fr\": \"Merci !\"},"
    " \"questions\": ["
    "  {\"id\": \"nps\", \"type\": \"nps\","
    "   \"text\": {\"en\": \"How likely are you to recommend us to a friend?\","
    "              \"fr\": \"Quelle est la probabilit\\u00e9 que vous nous recommandiez ?\"},"
    "   \"min_label\": {\"en\": \"Not at all likely\", \"fr\": \"Pas du tout probable\"},"
    "   \"max_label\": {\"en\": \"Extremely likely\", \"fr\": \"Tr\\u00e8s probable\"}},"
    "  {\"id\": \"why\", \"type\": \"text\", \"show_if\": \"nps <= 6\","
    "   \"text\": {\"en\": \"What went wrong?\", \"fr\": \"Qu'est-ce qui n'a pas march\\u00e9 ?\"}},"
    "  {\"id\": \"improve\", \"type\": \"single_choice\", \"show_if\": \"nps <= 8\","
    "   \"text\": {\"en\": \"What should we improve first?\","
    "              \"fr\": \"Que devrions-nous am\\u00e9liorer ?\"},"
    "   \"choices\": ["
    "    {\"id\": \"price\", \"label\": {\"en\": \"Prices\", \"fr\": \"Les prix\"}},"
    "    {\"id\": \"delivery\", \"label\": {\"en\": \"Delivery\", \"fr\": \"La livraison\"}},"
    "    {\"id\": \"support\", \"label\": {\"en\": \"Support\", \"fr\": \"Le support\"}}]},"
    "  {\"id\": \"channels\", \"type\": \"multi_choice\","
    "   \"text\": {\"en\": \"How did you contact us this year?\","
    "              \"fr\": \"Comment nous avez-vous contact\\u00e9s ?\"},"
    "   \"help\": {\"en\": \"Choose all that apply.\", \"fr\": \"Plusieurs choix possibles.\"},"
    "   \"choices\": ["
    "    {\"id\": \"email\", \"label\": \"E-mail\"},"
    "    {\"id\": \"phone\", \"label\": {\"en\": \"Phone\", \"fr\": \"T\\u00e9l\\u00e9phone\"}},"
    "    {\"id\": \"chat\", \"label\": {\"en\": \"Chat\", \"fr\": \"Chat\"}},"
    "    {\"id\": \"shop\", \"label\": {\"en\": \"In a shop\", \"fr\": \"En magasin\"}}]},"
    "  {\"id\": \"effort\", \"type\": \"ces\", \"reverse\": true,"
    "   \"show_if\": \"channels contains 'phone'\","
    "   \"text\": {\"en\": \"How easy was it to reach us by phone?\","
    "              \"fr\": \"Était-il facile de nous joindre par t\\u00e9l\\u00e9phone ?\"}},"
    "  {\"id\": \"price_fair\", \"type\": \"rating\", \"min\": 0, \"max\": 10,"
    "   \"required\": false, \"show_if\": \"improve = 'price' and nps < 7\","
    "   \"text\": {\"en\": \"How fair are our prices?\", \"fr\": \"Nos prix sont-ils justes ?\"}}"
    " ],"
    " \"touchpoint\": \"account\", \"channel\": \"email\", \"stage\": \"loyalty\","
    " \"sample\": 0.25, \"expiry_days\": 21, \"reminder_days\": 7,"
    " \"email\": {\"subject\": {\"en\": \"{first_name|Hello}, tell us how we are doing\","
    "                           \"fr\": \"{first_name|Bonjour}, votre avis compte\"},"
    "            \"text\": {\"en\": \"Answer here: {link}\", \"fr\": \"R\\u00e9pondez ici : {link}\"}},"
    " \"triggers\": ["
    "  {\"on\": \"cadence\", \"every\": \"quarter\"},"
    "  {\"on\": \"interaction\", \"when\": \"type = 'call' and channel in ('phone', 'chat')\","
    "   \"delay\": \"1h\"},"
    "  {\"on\": \"order\", \"when\": \"amount >= 100\", \"delay\": \"7d\"},"
    "  {\"on\": \"case_resolved\", \"delay\": \"1d 4h\"}],"
    " \"widget\": {\"origins\": [\"https://shop.example\", \"HTTP://Localhost:8080\"]},"
    " \"enabled\": true}";

enum { QNPS, QWHY, QIMPROVE, QCHANNELS, QEFFORT, QPRICE };

static struct survey *parse_ok(const char *json)
{
    struct survey *s = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = survey_parse(json, strlen(json), &s, &err);
    cr_assert_eq(rc, CXM_OK, "'%s': %s (field %s)", json, err.msg, err.field);
    cr_assert_not_null(s);
    return s;
}

/* Expects rc naming field, with want in the message; *out untouched. */
static void parse_bad_rc(const char *json, int want_rc, const char *field, const char *want)
{
    struct survey *s = (struct survey *)0x1;
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = survey_parse(json, strlen(json), &s, &err);
    cr_assert_eq(rc, want_rc, "'%s': rc %d (%s, field '%s')", json, rc, err.msg, err.field);
    cr_assert_eq(err.code, want_rc);
    cr_assert_str_eq(err.field, field, "'%s': field '%s' (%s)", json, err.field, err.msg);
    cr_assert(strstr(err.msg, want), "'%s': message '%s' lacks '%s'", json, err.msg, want);
    cr_assert_eq(s, (struct survey *)0x1, "'%s' wrote the output on error", json);
}

static void parse_bad(const char *json, const char *field, const char *want)
{
    parse_bad_rc(json, CXM_EINVAL, field, want);
}

/* Reads values into a fresh answer, expecting success. */
static struct survey_answer answer_ok(const struct survey *s, size_t qi, const char *const *v,
                                      size_t n)
{
    struct survey_answer a;
    memset(&a, 0, sizeof a);
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = survey_answer_read(s, qi, v, n, &a, &err);
    cr_assert_eq(rc, CXM_OK, "question %zu, '%s': %s", qi, n ? v[0] : "(none)", err.msg);
    return a;
}

static struct survey_answer answer1(const struct survey *s, size_t qi, const char *v)
{
    return answer_ok(s, qi, &v, 1);
}

/* Expects the values to be refused with want as the respondent's message,
 * the question id as the field, and the answer written as not given (so
 * that an uninitialised answer may be cleared after any read). */
static void answer_bad(const struct survey *s, size_t qi, const char *const *v, size_t n,
                       const char *want)
{
    struct survey_answer a;
    memset(&a, 0x5A, sizeof a);     /* garbage, as in an uninitialised answer */
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = survey_answer_read(s, qi, v, n, &a, &err);
    cr_assert_eq(rc, CXM_EINVAL, "question %zu, '%s' accepted", qi, n ? v[0] : "(none)");
    cr_assert_str_eq(err.msg, want, "question %zu, '%s'", qi, n ? v[0] : "(none)");
    cr_assert_str_eq(err.field, s->q[qi].id);
    cr_assert(!a.given && isnan(a.score) && a.choices == 0 && !a.text,
              "answer not reset on error");
    survey_answer_clear(&a);
}

static void answer_bad1(const struct survey *s, size_t qi, const char *v, const char *want)
{
    answer_bad(s, qi, &v, 1, want);
}

/* A minimal survey around one question (its JSON text). */
static struct survey *one_question(const char *q)
{
    char doc[2048];
    int n = snprintf(doc, sizeof doc, "{\"id\": \"s\", \"questions\": [%s]}", q);
    cr_assert(n > 0 && (size_t)n < sizeof doc);
    return parse_ok(doc);
}

static void assert_ltext_eq(const struct ltext *a, const struct ltext *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: %zu languages, want %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        cr_assert_str_eq(a->lang[i], b->lang[i], "%s", what);
        cr_assert_str_eq(a->text[i], b->text[i], "%s", what);
    }
}

static void assert_str_or_null(const char *a, const char *b, const char *what)
{
    if (!a || !b)
        cr_assert(a == b, "%s: '%s' vs '%s'", what, a ? a : "(null)", b ? b : "(null)");
    else
        cr_assert_str_eq(a, b, "%s", what);
}

static void assert_same(const struct survey *a, const struct survey *b)
{
    cr_assert_str_eq(a->id, b->id);
    cr_assert_str_eq(a->name, b->name);
    cr_assert_eq(a->kind, b->kind);
    cr_assert_str_eq(a->lang, b->lang);
    assert_ltext_eq(&a->title, &b->title, "title");
    assert_ltext_eq(&a->intro, &b->intro, "intro");
    assert_ltext_eq(&a->thanks, &b->thanks, "thanks");
    cr_assert_eq(a->nq, b->nq);
    for (size_t i = 0; i < a->nq; i++) {
        const struct survey_question *p = &a->q[i], *q = &b->q[i];
        cr_assert_str_eq(p->id, q->id);
        cr_assert_eq(p->type, q->type, "%s", p->id);
        assert_ltext_eq(&p->text, &q->text, p->id);
        assert_ltext_eq(&p->help, &q->help, p->id);
        cr_assert_eq(p->required, q->required, "%s", p->id);
        cr_assert_eq(p->min, q->min, "%s", p->id);
        cr_assert_eq(p->max, q->max, "%s", p->id);
        assert_ltext_eq(&p->min_label, &q->min_label, p->id);
        assert_ltext_eq(&p->max_label, &q->max_label, p->id);
        cr_assert_eq(p->reverse, q->reverse, "%s", p->id);
        cr_assert_eq(p->nchoices, q->nchoices, "%s", p->id);
        for (size_t k = 0; k < p->nchoices; k++) {
            cr_assert_str_eq(p->choices[k].id, q->choices[k].id);
            assert_ltext_eq(&p->choices[k].label, &q->choices[k].label, p->choices[k].id);
        }
        assert_str_or_null(p->show_if, q->show_if, p->id);
        cr_assert_eq(!p->cond, !q->cond, "%s", p->id);
    }
    assert_str_or_null(a->touchpoint, b->touchpoint, "touchpoint");
    assert_str_or_null(a->channel, b->channel, "channel");
    assert_str_or_null(a->stage, b->stage, "stage");
    cr_assert_eq(a->sample, b->sample);
    cr_assert_eq(a->expiry_days, b->expiry_days);
    cr_assert_eq(a->reminder_days, b->reminder_days);
    assert_ltext_eq(&a->email_subject, &b->email_subject, "email.subject");
    assert_ltext_eq(&a->email_text, &b->email_text, "email.text");
    cr_assert_eq(a->ntrig, b->ntrig);
    for (size_t i = 0; i < a->ntrig; i++) {
        cr_assert_eq(a->trig[i].on, b->trig[i].on);
        assert_str_or_null(a->trig[i].when, b->trig[i].when, "when");
        cr_assert_eq(a->trig[i].delay, b->trig[i].delay);
        assert_str_or_null(a->trig[i].every, b->trig[i].every, "every");
    }
    cr_assert_eq(a->norigins, b->norigins);
    for (size_t i = 0; i < a->norigins; i++)
        cr_assert_str_eq(a->origins[i], b->origins[i]);
    cr_assert_eq(a->enabled, b->enabled);
}

static char *dump(const struct survey *s)
{
    json_t *j = survey_json(s);
    cr_assert_not_null(j);
    char *text = json_dumps(j, JSON_COMPACT);
    cr_assert_not_null(text);
    json_decref(j);
    return text;
}

/* The survey through survey_json and back: the same survey, and the
 * same document again. */
static void assert_round_trip(const struct survey *s)
{
    char *d1 = dump(s);
    struct survey *t = parse_ok(d1);
    assert_same(s, t);
    char *d2 = dump(t);
    cr_assert_str_eq(d1, d2);
    free(d1);
    free(d2);
    survey_free(t);
}

/* ---- parsing a realistic survey ------------------------------------------- */

Test(survey, relationship_nps_survey_parses)
{
    struct survey *s = parse_ok(NPS_SURVEY);
    cr_assert_str_eq(s->id, "rel-nps-2026");
    cr_assert_str_eq(s->name, "Relationship NPS 2026");
    cr_assert_eq(s->kind, SK_RELATIONSHIP);
    cr_assert_str_eq(s->lang, "en");
    cr_assert_eq(s->nq, 6);

    const struct survey_question *nps = &s->q[QNPS];
    cr_assert_eq(nps->type, Q_NPS);
    cr_assert_eq(nps->min, 0);
    cr_assert_eq(nps->max, 10);
    cr_assert(nps->required, "scored questions are required by default");
    cr_assert_null(nps->show_if);
    cr_assert_null(nps->cond);
    cr_assert_eq(nps->text.n, 2);
    cr_assert_str_eq(survey_text(s, &nps->max_label, "fr"), "Tr\xc3\xa8s probable");

    const struct survey_question *why = &s->q[QWHY];
    cr_assert_eq(why->type, Q_TEXT);
    cr_assert_not(why->required, "text questions are optional by default");
    cr_assert_str_eq(why->show_if, "nps <= 6");
    cr_assert_not_null(why->cond);

    const struct survey_question *imp = &s->q[QIMPROVE];
    cr_assert_eq(imp->type, Q_SINGLE);
    cr_assert_not(imp->required);
    cr_assert_eq(imp->nchoices, 3);
    cr_assert_str_eq(imp->choices[1].id, "delivery");
    cr_assert_str_eq(survey_text(s, &imp->choices[1].label, "fr"), "La livraison");

    const struct survey_question *ch = &s->q[QCHANNELS];
    cr_assert_eq(ch->type, Q_MULTI);
    cr_assert_eq(ch->nchoices, 4);
    /* a plain string is the default language */
    cr_assert_eq(ch->choices[0].label.n, 1);
    cr_assert_str_eq(ch->choices[0].label.lang[0], "en");
    cr_assert_str_eq(survey_text(s, &ch->choices[0].label, "fr"), "E-mail");
    cr_assert_str_eq(survey_text(s, &ch->help, "en"), "Choose all that apply.");

    const struct survey_question *eff = &s->q[QEFFORT];
    cr_assert_eq(eff->type, Q_CES);
    cr_assert(eff->reverse);
    cr_assert_eq(eff->min, 1);
    cr_assert_eq(eff->max, 7);

    const struct survey_question *pf = &s->q[QPRICE];
    cr_assert_eq(pf->type, Q_RATING);
    cr_assert_eq(pf->min, 0);
    cr_assert_eq(pf->max, 10);
    cr_assert_not(pf->required);

    cr_assert_str_eq(s->touchpoint, "account");
    cr_assert_str_eq(s->channel, "email");
    cr_assert_str_eq(s->stage, "loyalty");
    cr_assert_eq(s->sample, 0.25);
    cr_assert_eq(s->expiry_days, 21);
    cr_assert_eq(s->reminder_days, 7);
    cr_assert_str_eq(survey_text(s, &s->email_subject, "fr"),
                     "{first_name|Bonjour}, votre avis compte");

    cr_assert_eq(s->ntrig, 4);
    cr_assert_eq(s->trig[0].on, TR_CADENCE);
    cr_assert_str_eq(s->trig[0].every, "quarter");
    cr_assert_eq(s->trig[0].delay, 0);
    cr_assert_null(s->trig[0].when);
    cr_assert_eq(s->trig[1].on, TR_INTERACTION);
    cr_assert_str_eq(s->trig[1].when, "type = 'call' and channel in ('phone', 'chat')");
    cr_assert_eq(s->trig[1].delay, 3600);
    cr_assert_eq(s->trig[2].on, TR_ORDER);
    cr_assert_eq(s->trig[2].delay, 7 * 86400);
    cr_assert_eq(s->trig[3].on, TR_CASE_RESOLVED);
    cr_assert_eq(s->trig[3].delay, 86400 + 4 * 3600);
    cr_assert_null(s->trig[3].every);

    cr_assert_eq(s->norigins, 2);
    cr_assert_str_eq(s->origins[0], "https://shop.example");
    cr_assert_str_eq(s->origins[1], "http://localhost:8080", "origins are kept in lower case");
    cr_assert(s->enabled);
    survey_free(s);
}

Test(survey, defaults_are_filled_in)
{
    struct survey *s = parse_ok("{\"id\": \"post-call\", \"questions\": ["
                                "{\"id\": \"sat\", \"type\": \"csat\", \"text\": \"Happy?\"},"
                                "{\"id\": \"r\", \"type\": \"rating\", \"text\": \"Rate it\"},"
                                "{\"id\": \"pick\", \"type\": \"single_choice\", \"text\": \"Pick\","
                                " \"choices\": [{\"id\": \"a\", \"label\": \"A\"},"
                                "               {\"id\": \"b\", \"label\": \"B\"}]}]}");
    cr_assert_str_eq(s->name, "post-call", "name defaults to the id");
    cr_assert_eq(s->kind, SK_TRANSACTIONAL);
    cr_assert_str_eq(s->lang, "en");
    cr_assert_eq(s->title.n, 0);
    cr_assert_eq(s->intro.n, 0);
    cr_assert_eq(s->thanks.n, 1);
    cr_assert_str_eq(s->thanks.lang[0], "en");
    cr_assert_str_eq(s->thanks.text[0], "Thank you for your answers.");
    cr_assert_str_eq(survey_text(s, &s->email_subject, NULL),
                     "{first_name|Hello}, a minute for us?");
    cr_assert_str_eq(survey_text(s, &s->email_text, NULL),
                     "We would love to hear from you: {link}");
    cr_assert_eq(s->sample, 1.0);
    cr_assert_eq(s->expiry_days, 14);
    cr_assert_eq(s->reminder_days, 0);
    cr_assert_eq(s->ntrig, 0);
    cr_assert_eq(s->norigins, 0);
    cr_assert_null(s->touchpoint);
    cr_assert(s->enabled);
    cr_assert_eq(s->q[0].min, 1);
    cr_assert_eq(s->q[0].max, 5);
    cr_assert(s->q[0].required);
    cr_assert_eq(s->q[1].min, 1, "rating defaults to 1-5");
    cr_assert_eq(s->q[1].max, 5);
    cr_assert_not(s->q[2].required);
    cr_assert_not(s->q[0].reverse);
    survey_free(s);

    /* the defaults speak the survey's language */
    s = parse_ok("{\"id\": \"x\", \"language\": \"fr\", \"questions\": ["
                 "{\"id\": \"q\", \"type\": \"ces\", \"text\": \"Facile ?\"}]}");
    cr_assert_str_eq(s->thanks.lang[0], "fr");
    cr_assert_str_eq(s->email_subject.lang[0], "fr");
    cr_assert_str_eq(s->q[0].text.lang[0], "fr");
    cr_assert_eq(s->q[0].max, 7);
    survey_free(s);
}

/* ---- errors -------------------------------------------------------------------- */

#define Q "\"questions\": [{\"id\": \"q\", \"type\": \"nps\", \"text\": \"How likely?\"}]"
#define DOC(members) "{\"id\": \"s\", " members "}"
#define DOCQ(members) "{\"id\": \"s\", " Q ", " members "}"
#define QDOC(question) "{\"id\": \"s\", \"questions\": [" question "]}"
#define NPSQ "{\"id\": \"score\", \"type\": \"nps\", \"text\": \"Likely?\"}"
#define TEXTQ "{\"id\": \"why\", \"type\": \"text\", \"text\": \"Why?\"}"
#define CHOICEQ                                                                          \
    "{\"id\": \"plan\", \"type\": \"single_choice\", \"text\": \"Plan?\", \"choices\": ["  \
    "{\"id\": \"free\", \"label\": \"Free\"}, {\"id\": \"pro\", \"label\": \"Pro\"}]}"

Test(survey, document_errors_name_their_field)
{
    parse_bad("[1]", "", "JSON object");
    parse_bad("{\"id\": ", "", "survey JSON, line 1");
    parse_bad("{\"id\": \"s\", \"id\": \"t\", " Q "}", "", "duplicate");
    parse_bad(DOCQ("\"colour\": \"red\""), "colour", "unknown member");
    parse_bad("{" Q "}", "id", "missing");
    parse_bad("{\"id\": \"Bad Id\", " Q "}", "id", "a-z, 0-9");
    parse_bad(DOCQ("\"name\": \"\""), "name", "1 to 128 bytes");
    parse_bad(DOCQ("\"kind\": \"weekly\""), "kind", "relationship or transactional");
    parse_bad(DOCQ("\"language\": \"english\""), "language", "like en, fr or pt-BR");
    parse_bad(DOCQ("\"language\": \"EN\""), "language", "like en");
    parse_bad(DOC("\"title\": \"x\""), "questions", "missing");
    parse_bad(DOC("\"questions\": []"), "questions", "1 to 30 questions");
    char long_tp[256], tp[70];
    memset(tp, 't', 65);
    tp[65] = '\0';
    snprintf(long_tp, sizeof long_tp, DOCQ("\"touchpoint\": \"%s\""), tp);
    parse_bad(long_tp, "touchpoint", "1 to 64 bytes");
    tp[64] = '\0';
    snprintf(long_tp, sizeof long_tp, DOCQ("\"touchpoint\": \"%s\""), tp);
    survey_free(parse_ok(long_tp));
    parse_bad(DOCQ("\"stage\": 3"), "stage", "1 to 64 bytes");
    parse_bad(DOCQ("\"sample\": 0"), "sample", "above 0");
    parse_bad(DOCQ("\"sample\": 1.5"), "sample", "at most 1");
    parse_bad(DOCQ("\"sample\": \"half\""), "sample", "number");
    parse_bad(DOCQ("\"expiry_days\": 0"), "expiry_days", "1 to 365");
    parse_bad(DOCQ("\"expiry_days\": 366"), "expiry_days", "1 to 365");
    parse_bad(DOCQ("\"reminder_days\": 61"), "reminder_days", "0 to 60");
    parse_bad(DOCQ("\"reminder_days\": 14"), "reminder_days", "before the link expires");
    parse_bad(DOCQ("\"enabled\": \"yes\""), "enabled", "true or false");
    parse_bad(DOCQ("\"email\": {\"body\": \"x\"}"), "email.body", "unknown member");
    parse_bad(DOCQ("\"email\": {\"subject\": 7}"), "email.subject", "object of texts");
    parse_bad(DOCQ("\"widget\": []"), "widget", "object");
    parse_bad(DOCQ("\"widget\": {\"hosts\": []}"), "widget.hosts", "unknown member");

    struct survey *s = NULL;
    size_t big = SURVEY_MAX_DOC + 1;
    char *huge = malloc(big);
    cr_assert_not_null(huge);
    memset(huge, ' ', big);
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(survey_parse(huge, big, &s, &err), CXM_ETOOBIG);
    cr_assert_null(s);
    free(huge);
}

Test(survey, text_errors_name_their_field)
{
    parse_bad(DOCQ("\"title\": {\"fr\": \"Bonjour\"}"), "title",
              "no text in the survey's language (en)");
    parse_bad(DOCQ("\"title\": {\"en\": \"Hi\", \"FR\": \"Salut\"}"), "title.FR",
              "like en, fr or pt-BR");
    parse_bad(DOCQ("\"title\": {\"en\": \"Hi\", \"fr-x\": \"Salut\"}"), "title.fr-x",
              "like en");
    parse_bad(DOCQ("\"title\": {\"en\": \"Hi\", \"fr-CA\": \"Salut\", \"fr-ca\": \"Allo\"}"),
              "title.fr-ca", "given twice");
    parse_bad(DOCQ("\"intro\": {\"en\": \"\"}"), "intro.en", "1 to 2000 bytes");
    parse_bad(DOCQ("\"thanks\": \"\""), "thanks", "1 to 2000 bytes");
    parse_bad(DOCQ("\"intro\": [\"Hi\"]"), "intro", "object of texts");
    parse_bad(DOCQ("\"intro\": \"bell\\u0007\""), "intro", "1 to 2000 bytes");
    parse_bad(DOCQ("\"title\": {\"en\": \"1\", \"a1\": \"x\"}"), "title.a1", "like en");

    /* 2000 bytes pass, 2001 do not */
    char doc[4096], text[2002];
    memset(text, 'x', sizeof text);
    text[2000] = '\0';
    snprintf(doc, sizeof doc, DOCQ("\"intro\": \"%s\""), text);
    survey_free(parse_ok(doc));
    text[2000] = 'x';
    text[2001] = '\0';
    snprintf(doc, sizeof doc, DOCQ("\"intro\": \"%s\""), text);
    parse_bad(doc, "intro", "1 to 2000 bytes");

    /* 12 languages pass, 13 do not */
    static const char *langs[] = {"en", "fr", "de", "es", "it", "nl", "pt", "pt-BR",
                                  "sv", "da", "fi", "pl", "cs"};
    for (size_t n = 12; n <= 13; n++) {
        size_t len = (size_t)snprintf(doc, sizeof doc, "{\"id\": \"s\", " Q ", \"title\": {");
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(doc + len, sizeof doc - len, "%s\"%s\": \"t\"", i ? ", " : "",
                                    langs[i]);
        snprintf(doc + len, sizeof doc - len, "}}");
        if (n == 12)
            survey_free(parse_ok(doc));
        else
            parse_bad(doc, "title", "13 languages, at most 12");
    }
}

Test(survey, question_errors_name_their_field)
{
    parse_bad(QDOC("7"), "questions[0]", "an object");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"nps\", \"text\": \"x\", \"colour\": 1}"),
              "questions[0].colour", "unknown member");
    parse_bad(QDOC("{\"type\": \"nps\", \"text\": \"x\"}"), "questions[0].id", "missing");
    parse_bad(QDOC("{\"id\": \"Q1\", \"type\": \"nps\", \"text\": \"x\"}"), "questions[0].id",
              "a-z, 0-9");
    parse_bad(QDOC(NPSQ "," NPSQ), "questions[1].id", "\"score\" is also question 0");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"stars\", \"text\": \"x\"}"),
              "questions[0].type", "unknown type");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"nps\"}"), "questions[0].text", "missing");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"nps\", \"text\": {\"fr\": \"x\"}}"),
              "questions[0].text", "no text in the survey's language");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"nps\", \"text\": \"x\", \"required\": 1}"),
              "questions[0].required", "true or false");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"nps\", \"text\": \"x\", \"min\": 1}"),
              "questions[0].min", "nps is 0 to 10");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"csat\", \"text\": \"x\", \"max\": 7}"),
              "questions[0].max", "csat is 1 to 5");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"text\", \"text\": \"x\", \"max\": 7}"),
              "questions[0].max", "only rating questions");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"rating\", \"text\": \"x\", \"min\": 0, "
                   "\"max\": 11}"),
              "questions[0].max", "from 0 to 10");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"rating\", \"text\": \"x\", \"min\": -1, "
                   "\"max\": 3}"),
              "questions[0].min", "from 0 to 10");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"rating\", \"text\": \"x\", \"min\": 5}"),
              "questions[0].min", "max - min must be from 1 to 10");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"rating\", \"text\": \"x\", \"min\": 1.5}"),
              "questions[0].min", "whole number");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"nps\", \"text\": \"x\", \"reverse\": true}"),
              "questions[0].reverse", "only ces");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"text\", \"text\": \"x\", \"min_label\": \"lo\"}"),
              "questions[0].min_label", "scale labels");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"single_choice\", \"text\": \"x\"}"),
              "questions[0].choices", "missing");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"nps\", \"text\": \"x\", \"choices\": []}"),
              "questions[0].choices", "only single_choice and multi_choice");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"multi_choice\", \"text\": \"x\", \"choices\": "
                   "[{\"id\": \"a\", \"label\": \"A\"}]}"),
              "questions[0].choices", "2 to 20 choices");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"multi_choice\", \"text\": \"x\", \"choices\": "
                   "[{\"id\": \"a\", \"label\": \"A\"}, {\"id\": \"a\", \"label\": \"B\"}]}"),
              "questions[0].choices[1].id", "\"a\" is also choice 0");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"multi_choice\", \"text\": \"x\", \"choices\": "
                   "[{\"id\": \"a\", \"label\": \"A\"}, {\"id\": \"b\"}]}"),
              "questions[0].choices[1].label", "missing");
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"multi_choice\", \"text\": \"x\", \"choices\": "
                   "[{\"id\": \"a\", \"label\": \"A\"}, {\"id\": \"b\", \"label\": \"B\", "
                   "\"value\": 2}]}"),
              "questions[0].choices[1].value", "unknown member");

    /* 20 choices pass, 21 do not */
    char doc[4096];
    for (int n = 20; n <= 21; n++) {
        size_t len = (size_t)snprintf(doc, sizeof doc,
                                      "{\"id\": \"s\", \"questions\": [{\"id\": \"q\", \"type\": "
                                      "\"multi_choice\", \"text\": \"x\", \"choices\": [");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(doc + len, sizeof doc - len,
                                    "%s{\"id\": \"c%d\", \"label\": \"C%d\"}", i ? ", " : "", i, i);
        snprintf(doc + len, sizeof doc - len, "]}]}");
        if (n == 20)
            survey_free(parse_ok(doc));
        else
            parse_bad(doc, "questions[0].choices", "2 to 20");
    }
}

Test(survey, show_if_errors_name_their_field)
{
    /* this question, a later one, an unknown one */
    parse_bad(QDOC("{\"id\": \"q\", \"type\": \"nps\", \"text\": \"x\", \"show_if\": \"q > 5\"}"),
              "questions[0].show_if", "q is this question");
    parse_bad(QDOC("{\"id\": \"a\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
                   "\"score < 7\"}, " NPSQ),
              "questions[0].show_if", "score is a later question");
    parse_bad(QDOC(NPSQ ", {\"id\": \"a\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
                   "\"nps < 7\"}"),
              "questions[1].show_if", "unknown field");
    /* a later question used with the wrong type is still reported as later */
    parse_bad(QDOC(NPSQ ", {\"id\": \"a\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
                   "\"plan = 3\"}, " CHOICEQ),
              "questions[1].show_if", "plan is a later question");
    /* text answers are not usable */
    parse_bad(QDOC(TEXTQ ", " NPSQ ", {\"id\": \"a\", \"type\": \"csat\", \"text\": \"x\", "
                   "\"show_if\": \"why = 'bad'\"}"),
              "questions[2].show_if", "why is a text question");
    parse_bad(QDOC(TEXTQ ", {\"id\": \"a\", \"type\": \"csat\", \"text\": \"x\", "
                   "\"show_if\": \"why < 3\"}"),
              "questions[1].show_if", "why is a text question");
    /* syntax, with the column */
    parse_bad(QDOC(NPSQ ", {\"id\": \"a\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
                   "\"score <= \"}"),
              "questions[1].show_if", "column");
    /* types: a score against a text, a choice against a number */
    parse_bad(QDOC(NPSQ ", {\"id\": \"a\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
                   "\"score = 'high'\"}"),
              "questions[1].show_if", "score");
    parse_bad(QDOC(CHOICEQ ", {\"id\": \"a\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
                   "\"plan < 3\"}"),
              "questions[1].show_if", "plan");
    /* a choice id that the question does not offer */
    parse_bad(QDOC(CHOICEQ ", {\"id\": \"a\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
                   "\"plan = 'gold'\"}"),
              "questions[1].show_if", "'gold' is not a choice of plan");
    parse_bad(QDOC(CHOICEQ ", {\"id\": \"a\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
                   "7}"),
              "questions[1].show_if", "condition");
    /* blank means always */
    struct survey *s = parse_ok(QDOC(NPSQ ", {\"id\": \"a\", \"type\": \"text\", \"text\": "
                                     "\"x\", \"show_if\": \"  \"}"));
    cr_assert_null(s->q[1].show_if);
    cr_assert_null(s->q[1].cond);
    survey_free(s);
}

Test(survey, trigger_and_widget_errors_name_their_field)
{
    parse_bad(DOCQ("\"triggers\": {}"), "triggers", "array");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"visit\"}]"), "triggers[0].on", "unknown");
    parse_bad(DOCQ("\"triggers\": [{\"delay\": \"1h\"}]"), "triggers[0].on", "missing");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"order\", \"at\": 1}]"), "triggers[0].at",
              "unknown member");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"order\"}, {\"on\": \"cadence\"}]"),
              "triggers[1].every", "missing");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"cadence\", \"every\": \"week\"}]"),
              "triggers[0].every", "unknown");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"cadence\", \"every\": \"month\", \"delay\": "
                   "\"1h\"}]"),
              "triggers[0].delay", "no delay");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"interaction\", \"every\": \"month\"}]"),
              "triggers[0].every", "only cadence");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"interaction\", \"delay\": \"1x\"}]"),
              "triggers[0].delay", "");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"interaction\", \"delay\": 3600}]"),
              "triggers[0].delay", "duration");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"interaction\", \"when\": \"colour = 'red'\"}]"),
              "triggers[0].when", "colour");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"interaction\", \"when\": \"amount > 5\"}]"),
              "triggers[0].when", "amount");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"order\", \"when\": \"amount = 'big'\"}]"),
              "triggers[0].when", "amount");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"order\", \"when\": \"agent = 'x'\"}]"),
              "triggers[0].when", "agent");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"case_resolved\", \"when\": \"type = 'x'\"}]"),
              "triggers[0].when", "only interaction and order");
    parse_bad(DOCQ("\"triggers\": [{\"on\": \"order\"}, {\"on\": \"order\"}, {\"on\": \"order\"},"
                   "{\"on\": \"order\"}, {\"on\": \"order\"}, {\"on\": \"order\"},"
                   "{\"on\": \"order\"}, {\"on\": \"order\"}, {\"on\": \"order\"}]"),
              "triggers", "at most 8");

    static const char *bad_origins[] = {
        "https://shop.example/", "https://shop.example/path", "ftp://shop.example",
        "shop.example", "https://", "https://shop example", "https://shop.example:0",
        "https://shop.example:65536", "https://shop.example:80x", "https://-shop.example",
        "https://shop.example?x=1", "https://user@shop.example", "https://[]",
    };
    for (size_t i = 0; i < sizeof bad_origins / sizeof *bad_origins; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, DOCQ("\"widget\": {\"origins\": [\"https://ok.example\", "
                                       "\"%s\"]}"),
                 bad_origins[i]);
        parse_bad(doc, "widget.origins[1]", "https://shop.example");
    }
    parse_bad(DOCQ("\"widget\": {\"origins\": [\"https://a.example\", \"HTTPS://A.example\"]}"),
              "widget.origins[1]", "listed twice");
    struct survey *s = parse_ok(DOCQ("\"widget\": {\"origins\": [\"https://a.example:8443\", "
                                     "\"http://[::1]:8080\", \"https://x\"]}"));
    cr_assert_eq(s->norigins, 3);
    cr_assert_str_eq(s->origins[1], "http://[::1]:8080");
    survey_free(s);

    /* an origin of 200 bytes passes, 201 do not */
    char origin[256], doc[512];
    memset(origin, 'a', sizeof origin);
    memcpy(origin, "https://", 8);
    origin[200] = '\0';
    snprintf(doc, sizeof doc, DOCQ("\"widget\": {\"origins\": [\"%s\"]}"), origin);
    survey_free(parse_ok(doc));
    origin[200] = 'a';
    origin[201] = '\0';
    snprintf(doc, sizeof doc, DOCQ("\"widget\": {\"origins\": [\"%s\"]}"), origin);
    parse_bad(doc, "widget.origins[0]", "200 bytes");
}

/* ---- names and languages --------------------------------------------------------- */

Test(survey, type_names_and_feedback_kinds)
{
    static const char *names[] = {NULL, "nps", "csat", "ces", "rating", "single_choice",
                                  "multi_choice", "text"};
    static const char *kinds[] = {NULL, "nps", "csat", "ces", "rating", "text", "text", "text"};
    for (int t = Q_NPS; t <= Q_TEXT; t++) {
        cr_assert_str_eq(survey_q_type_name((enum q_type)t), names[t]);
        cr_assert_str_eq(survey_feedback_kind((enum q_type)t), kinds[t]);
    }
    cr_assert_str_eq(survey_q_type_name((enum q_type)0), "unknown");
}

Test(survey, texts_fall_back_by_language)
{
    struct survey *s = parse_ok(NPS_SURVEY);
    const struct ltext *t = &s->q[QNPS].text;
    const char *en = "How likely are you to recommend us to a friend?";
    const char *fr = "Quelle est la probabilit\xc3\xa9 que vous nous recommandiez ?";
    cr_assert_str_eq(survey_text(s, t, "fr"), fr);
    cr_assert_str_eq(survey_text(s, t, "fr-CA"), fr, "fr-CA falls back to fr");
    cr_assert_str_eq(survey_text(s, t, "FR-ca"), fr, "tags are not case-sensitive");
    cr_assert_str_eq(survey_text(s, t, "de"), en, "de falls back to the default");
    cr_assert_str_eq(survey_text(s, t, "de-CH"), en);
    cr_assert_str_eq(survey_text(s, t, NULL), en);
    cr_assert_str_eq(survey_text(s, t, ""), en);
    cr_assert_str_eq(survey_text(s, t, "f"), en, "no prefix matching");
    cr_assert_str_eq(survey_text(s, &s->q[QNPS].help, "fr"), "", "an empty text is \"\"");

    cr_assert_str_eq(survey_lang(s, "fr"), "fr");
    cr_assert_str_eq(survey_lang(s, "fr-CA"), "fr");
    cr_assert_str_eq(survey_lang(s, "de"), "en");
    cr_assert_str_eq(survey_lang(s, NULL), "en");
    cr_assert_str_eq(survey_lang(s, "en-GB"), "en");
    survey_free(s);

    /* default language de; a text with en and pt-BR; the first when the
     * default is missing cannot happen, so the default wins */
    s = parse_ok("{\"id\": \"s\", \"language\": \"de\", \"questions\": [{\"id\": \"q\", "
                 "\"type\": \"nps\", \"text\": {\"pt-BR\": \"Oi\", \"de\": \"Hallo\", "
                 "\"en\": \"Hello\"}}, {\"id\": \"r\", \"type\": \"csat\", \"text\": "
                 "{\"de\": \"Gut?\", \"pt-BR\": \"Bom?\"}}]}");
    t = &s->q[0].text;
    cr_assert_str_eq(survey_text(s, t, "pt-BR"), "Oi");
    cr_assert_str_eq(survey_text(s, t, "pt-br"), "Oi");
    cr_assert_str_eq(survey_text(s, t, "pt"), "Hallo", "pt does not reach pt-BR");
    cr_assert_str_eq(survey_text(s, t, "en-US"), "Hello");
    cr_assert_str_eq(survey_text(s, t, "fr"), "Hallo");
    /* the survey speaks pt-BR (every question has it) but not en (r lacks it) */
    cr_assert_str_eq(survey_lang(s, "pt-BR"), "pt-BR");
    cr_assert_str_eq(survey_lang(s, "en"), "de");
    cr_assert_str_eq(survey_lang(s, "en-US"), "de");
    survey_free(s);
}

/* ---- answers ------------------------------------------------------------------------ */

Test(survey, scores_at_every_boundary)
{
    struct survey *s = one_question("{\"id\": \"n\", \"type\": \"nps\", \"text\": \"x\"},"
                                     "{\"id\": \"c\", \"type\": \"csat\", \"text\": \"x\"},"
                                     "{\"id\": \"e\", \"type\": \"ces\", \"text\": \"x\"},"
                                     "{\"id\": \"r\", \"type\": \"rating\", \"text\": \"x\", "
                                     "\"min\": 2, \"max\": 6, \"required\": false}");
    struct survey_answer a = answer1(s, 0, "0");
    cr_assert(a.given);
    cr_assert_eq(a.score, 0);
    cr_assert_eq(a.choices, 0);
    cr_assert_null(a.text);
    cr_assert_eq(answer1(s, 0, "10").score, 10);
    cr_assert_eq(answer1(s, 0, "9").score, 9);
    const char *nps_msg = "Choose a number from 0 to 10.";
    static const char *bad[] = {"-1", "11", "9.5", "", "abc", " 9", "9 ", "+9", "09", "-0",
                                "1e1", "0x9", "100000000000000000000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        answer_bad1(s, 0, bad[i], nps_msg);
    const char *two[] = {"9", "10"};
    answer_bad(s, 0, two, 2, "Choose only one number.");
    answer_bad(s, 0, NULL, 0, "This question needs an answer.");

    cr_assert_eq(answer1(s, 1, "1").score, 1);
    cr_assert_eq(answer1(s, 1, "5").score, 5);
    answer_bad1(s, 1, "0", "Choose a number from 1 to 5.");
    answer_bad1(s, 1, "6", "Choose a number from 1 to 5.");

    cr_assert_eq(answer1(s, 2, "1").score, 1);
    cr_assert_eq(answer1(s, 2, "7").score, 7);
    answer_bad1(s, 2, "0", "Choose a number from 1 to 7.");
    answer_bad1(s, 2, "8", "Choose a number from 1 to 7.");

    cr_assert_eq(answer1(s, 3, "2").score, 2);
    cr_assert_eq(answer1(s, 3, "4").score, 4);
    cr_assert_eq(answer1(s, 3, "6").score, 6);
    answer_bad1(s, 3, "1", "Choose a number from 2 to 6.");
    answer_bad1(s, 3, "7", "Choose a number from 2 to 6.");
    answer_bad1(s, 3, "", "Choose a number from 2 to 6.");
    /* an optional score left out is skipped */
    a = answer_ok(s, 3, NULL, 0);
    cr_assert_not(a.given);
    cr_assert(isnan(a.score));

    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(survey_answer_read(s, 4, NULL, 0, &a, &err), CXM_EINVAL, "no question 4");
    survey_free(s);
}

Test(survey, choices_and_texts)
{
    struct survey *s = parse_ok(NPS_SURVEY);
    struct survey_answer a = answer1(s, QIMPROVE, "support");
    cr_assert(a.given);
    cr_assert_eq(a.choices, 1u << 2);
    cr_assert(isnan(a.score));
    answer_bad1(s, QIMPROVE, "quality", "Choose one of the options.");
    answer_bad1(s, QIMPROVE, "Price", "Choose one of the options.");
    const char *two[] = {"price", "support"};
    answer_bad(s, QIMPROVE, two, 2, "Choose only one of the options.");
    /* optional: nothing chosen, or a form's empty "choose..." value, skips it */
    cr_assert_not(answer_ok(s, QIMPROVE, NULL, 0).given);
    cr_assert_not(answer1(s, QIMPROVE, "").given);

    const char *many[] = {"shop", "email", "shop"};
    a = answer_ok(s, QCHANNELS, many, 3);
    cr_assert(a.given);
    cr_assert_eq(a.choices, (1u << 0) | (1u << 3));
    const char *unknown[] = {"email", "fax"};
    answer_bad(s, QCHANNELS, unknown, 2, "Choose from the options given.");
    cr_assert_not(answer_ok(s, QCHANNELS, NULL, 0).given);

    a = answer1(s, QWHY, "  Too slow.\n");
    cr_assert(a.given);
    cr_assert_str_eq(a.text, "  Too slow.\n", "kept as given");
    cr_assert_eq(a.choices, 0);
    survey_answer_clear(&a);
    cr_assert_null(a.text);
    cr_assert_not(a.given);
    survey_answer_clear(&a);
    survey_answer_clear(NULL);

    a = answer1(s, QWHY, " \t\n ");
    cr_assert_not(a.given, "all blank is skipped");
    cr_assert_null(a.text);
    const char *twotexts[] = {"a", "b"};
    answer_bad(s, QWHY, twotexts, 2, "Give only one answer.");
    answer_bad1(s, QWHY, "caf\xc3", "Your answer has characters we cannot read.");
    answer_bad1(s, QWHY, "\xed\xa0\x80", "Your answer has characters we cannot read.");

    char *long_text = malloc(SURVEY_MAX_ANSWER + 2);
    cr_assert_not_null(long_text);
    memset(long_text, 'y', SURVEY_MAX_ANSWER + 1);
    long_text[SURVEY_MAX_ANSWER] = '\0';
    a = answer1(s, QWHY, long_text);
    cr_assert_eq(strlen(a.text), SURVEY_MAX_ANSWER, "5000 bytes pass");
    survey_answer_clear(&a);
    long_text[SURVEY_MAX_ANSWER] = 'y';
    long_text[SURVEY_MAX_ANSWER + 1] = '\0';
    answer_bad1(s, QWHY, long_text, "Your answer is too long (5000 bytes at most).");
    free(long_text);
    survey_free(s);

    /* required choices and texts */
    s = one_question("{\"id\": \"t\", \"type\": \"text\", \"text\": \"x\", \"required\": true},"
                     "{\"id\": \"m\", \"type\": \"multi_choice\", \"text\": \"x\", \"required\": "
                     "true, \"choices\": [{\"id\": \"a\", \"label\": \"A\"}, {\"id\": \"b\", "
                     "\"label\": \"B\"}]}");
    answer_bad1(s, 0, "   ", "This question needs an answer.");
    answer_bad1(s, 0, "", "This question needs an answer.");
    answer_bad(s, 1, NULL, 0, "This question needs an answer.");
    const char *blank[] = {""};
    answer_bad(s, 1, blank, 1, "This question needs an answer.");
    survey_free(s);
}

/* ---- branching ------------------------------------------------------------------------- */

struct walk {
    struct survey_answer a[SURVEY_MAX_QUESTIONS];
    bool answered[SURVEY_MAX_QUESTIONS];
};

static void walk_init(struct walk *w)
{
    memset(w, 0, sizeof *w);
    for (size_t i = 0; i < SURVEY_MAX_QUESTIONS; i++)
        w->a[i].score = NAN;
}

static void walk_free(struct walk *w)
{
    for (size_t i = 0; i < SURVEY_MAX_QUESTIONS; i++)
        survey_answer_clear(&w->a[i]);
}

/* Answers question qi with values (none: skip it). */
static void give(const struct survey *s, struct walk *w, size_t qi, const char *const *v,
                 size_t n)
{
    survey_answer_clear(&w->a[qi]);
    w->a[qi] = answer_ok(s, qi, v, n);
    w->answered[qi] = true;
}

static void give1(const struct survey *s, struct walk *w, size_t qi, const char *v)
{
    give(s, w, qi, &v, 1);
}

static void expect_next(const struct survey *s, const struct walk *w, int want, int step,
                        int steps)
{
    int st = -7, sts = -7;
    int next = survey_next(s, w->a, w->answered, &st, &sts);
    cr_assert_eq(next, want, "next %d, want %d", next, want);
    cr_assert_eq(st, step, "step %d, want %d (next %d)", st, step, want);
    cr_assert_eq(sts, steps, "steps %d, want %d (next %d)", sts, steps, want);
    cr_assert_eq(survey_next(s, w->a, w->answered, NULL, NULL), want);
}

Test(survey, a_promoter_never_sees_why)
{
    struct survey *s = parse_ok(NPS_SURVEY);
    struct walk w;
    walk_init(&w);
    /* nothing answered: everything is possible */
    expect_next(s, &w, QNPS, 1, 6);
    cr_assert_eq(survey_next(s, NULL, NULL, NULL, NULL), QNPS);
    give1(s, &w, QNPS, "9");
    /* why (nps <= 6) and improve (nps <= 8) are out; effort depends on
     * channels, still to come, so possible; price_fair reads improve,
     * passed over, so it is decided: out */
    expect_next(s, &w, QCHANNELS, 2, 3);
    const char *used[] = {"email", "chat"};
    give(s, &w, QCHANNELS, used, 2);
    /* no phone: effort is out; price_fair reads improve, which was passed
     * over: complete after two questions */
    expect_next(s, &w, -1, 3, 2);
    survey_free(s);
    walk_free(&w);
}

Test(survey, promoter_walk_completes)
{
    struct survey *s = parse_ok(NPS_SURVEY);
    struct walk w;
    walk_init(&w);
    give1(s, &w, QNPS, "10");
    const char *used[] = {"phone"};
    give(s, &w, QCHANNELS, used, 1);
    expect_next(s, &w, QEFFORT, 3, 3);
    give1(s, &w, QEFFORT, "7");
    /* complete: step is one past the last of the steps */
    expect_next(s, &w, -1, 4, 3);
    survey_free(s);
    walk_free(&w);
}

Test(survey, a_detractor_sees_why_and_may_skip_it)
{
    struct survey *s = parse_ok(NPS_SURVEY);
    struct walk w;
    walk_init(&w);
    give1(s, &w, QNPS, "3");
    expect_next(s, &w, QWHY, 2, 6);
    /* skipped (optional): the walk goes on */
    give(s, &w, QWHY, NULL, 0);
    cr_assert_not(w.a[QWHY].given);
    expect_next(s, &w, QIMPROVE, 3, 6);
    give1(s, &w, QIMPROVE, "price");
    expect_next(s, &w, QCHANNELS, 4, 6);
    give(s, &w, QCHANNELS, NULL, 0);   /* skipped: effort's condition is now false */
    expect_next(s, &w, QPRICE, 5, 5);
    give1(s, &w, QPRICE, "2");
    expect_next(s, &w, -1, 6, 5);
    survey_free(s);
    walk_free(&w);
}

Test(survey, a_passive_skips_why_and_changing_the_score_reroutes)
{
    struct survey *s = parse_ok(NPS_SURVEY);
    struct walk w;
    walk_init(&w);
    give1(s, &w, QNPS, "7");
    expect_next(s, &w, QIMPROVE, 2, 5);
    give1(s, &w, QIMPROVE, "price");
    /* price_fair needs nps < 7: out */
    expect_next(s, &w, QCHANNELS, 3, 4);
    /* the respondent goes back and gives 6: why comes back */
    give1(s, &w, QNPS, "6");
    expect_next(s, &w, QWHY, 3, 6);
    /* a single choice compares by id */
    give1(s, &w, QWHY, "Late delivery");
    give1(s, &w, QIMPROVE, "delivery");
    expect_next(s, &w, QCHANNELS, 4, 5);
    survey_free(s);
    walk_free(&w);
}

Test(survey, conditions_with_not_in_and_between)
{
    struct survey *s = one_question(
        "{\"id\": \"n\", \"type\": \"nps\", \"text\": \"x\"},"
        "{\"id\": \"p\", \"type\": \"single_choice\", \"text\": \"x\", \"choices\": ["
        "{\"id\": \"a\", \"label\": \"A\"}, {\"id\": \"b\", \"label\": \"B\"}, {\"id\": \"c\", "
        "\"label\": \"C\"}]},"
        "{\"id\": \"m\", \"type\": \"multi_choice\", \"text\": \"x\", \"choices\": ["
        "{\"id\": \"a\", \"label\": \"A\"}, {\"id\": \"b\", \"label\": \"B\"}]},"
        "{\"id\": \"t1\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
        "\"n between 7 and 8 and p in ('b', 'c')\"},"
        "{\"id\": \"t2\", \"type\": \"text\", \"text\": \"x\", \"show_if\": "
        "\"not m('a') and m contains 'b'\"},"
        "{\"id\": \"t3\", \"type\": \"text\", \"text\": \"x\", \"show_if\": \"p != 'a'\"}");
    struct walk w;
    walk_init(&w);
    give1(s, &w, 0, "8");
    give1(s, &w, 1, "c");
    const char *mb[] = {"b"};
    give(s, &w, 2, mb, 1);
    cr_assert_eq(survey_next(s, w.a, w.answered, NULL, NULL), 3);
    give1(s, &w, 3, "x");
    cr_assert_eq(survey_next(s, w.a, w.answered, NULL, NULL), 4);
    const char *mab[] = {"a", "b"};
    give(s, &w, 2, mab, 2);
    cr_assert_eq(survey_next(s, w.a, w.answered, NULL, NULL), 5, "not m('a') is false now");
    give1(s, &w, 1, "a");
    cr_assert_eq(survey_next(s, w.a, w.answered, NULL, NULL), -1, "p != 'a' is false now");
    /* p skipped: != on a missing answer is false too */
    give(s, &w, 1, NULL, 0);
    cr_assert_eq(survey_next(s, w.a, w.answered, NULL, NULL), -1);
    survey_free(s);
    walk_free(&w);
}

/* ---- round trip ---------------------------------------------------------------------------- */

Test(survey, json_round_trip_of_a_rich_survey)
{
    struct survey *s = parse_ok(NPS_SURVEY);
    assert_round_trip(s);

    /* every default written out */
    json_t *j = survey_json(s);
    cr_assert_not_null(j);
    static const char *members[] = {"id", "name", "kind", "language", "title", "intro", "thanks",
                                    "questions", "touchpoint", "channel", "stage", "sample",
                                    "expiry_days", "reminder_days", "email", "triggers",
                                    "widget", "enabled", "anonymous"};
    const char *key;
    json_t *v;
    size_t i = 0;
    json_object_foreach(j, key, v) {
        cr_assert_lt(i, sizeof members / sizeof *members);
        cr_assert_str_eq(key, members[i], "member %zu", i);
        i++;
    }
    cr_assert_eq(i, sizeof members / sizeof *members);
    json_t *q0 = json_array_get(json_object_get(j, "questions"), 0);
    cr_assert(json_is_true(json_object_get(q0, "required")));
    cr_assert(json_is_null(json_object_get(q0, "show_if")));
    cr_assert_null(json_object_get(q0, "min"), "nps has a fixed scale");
    json_t *ch = json_array_get(json_object_get(j, "questions"), QCHANNELS);
    json_t *label = json_object_get(json_array_get(json_object_get(ch, "choices"), 0), "label");
    cr_assert(json_is_object(label), "ltexts are written as objects");
    cr_assert_str_eq(json_string_value(json_object_get(label, "en")), "E-mail");
    json_t *t3 = json_array_get(json_object_get(j, "triggers"), 3);
    cr_assert_str_eq(json_string_value(json_object_get(t3, "delay")), "28h");
    json_decref(j);
    survey_free(s);

    /* a minimal survey: its defaults survive the trip too */
    s = parse_ok("{\"id\": \"m\", \"language\": \"pt-BR\", \"enabled\": false, "
                 "\"questions\": [{\"id\": \"r\", \"type\": \"rating\", \"text\": \"Nota?\", "
                 "\"min\": 0, \"max\": 3, \"required\": false}, {\"id\": \"e\", \"type\": \"ces\", "
                 "\"text\": \"F\\u00e1cil?\"}], "
                 "\"triggers\": [{\"on\": \"interaction\"}, {\"on\": \"cadence\", "
                 "\"every\": \"year\"}]}");
    assert_round_trip(s);
    char *d = dump(s);
    cr_assert(strstr(d, "\"thanks\":{\"pt-BR\":\"Thank you for your answers.\"}"), "%s", d);
    cr_assert(strstr(d, "\"enabled\":false"), "%s", d);
    cr_assert(strstr(d, "{\"on\":\"interaction\",\"when\":null,\"delay\":null}"), "%s", d);
    cr_assert(strstr(d, "\"reverse\":false"), "%s", d);
    free(d);
    survey_free(s);
}

/* ---- tokens ---------------------------------------------------------------------------------- */

static const unsigned char KEY[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char OTHER_KEY[32] = "0123456789abcdef0123456789abcdeF";

Test(survey, token_round_trip)
{
    static const int64_t ids[] = {1, 42, INT64_MAX, 0, -5};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char tok[SURVEY_TOKEN_LEN];
        int64_t exp = INT64_C(1750000000) + (int64_t)i * 86400 * 14;
        cr_assert_eq(survey_token_make(KEY, ids[i], exp, tok), CXM_OK);
        cr_assert_eq(strlen(tok), 43);
        cr_assert_eq(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     43, "base64url without padding: %s", tok);
        int64_t inv = -1, got = -1;
        struct cxm_err err;
        cxm_err_clear(&err);
        cr_assert_eq(survey_token_read(KEY, tok, &inv, &got, &err), CXM_OK, "%s", err.msg);
        cr_assert_eq(inv, ids[i]);
        cr_assert_eq(got, exp, "the expiry is read back");
        cr_assert_eq(survey_token_read(KEY, tok, NULL, NULL, NULL), CXM_OK);
    }
    char a[SURVEY_TOKEN_LEN], b[SURVEY_TOKEN_LEN];
    survey_token_make(KEY, 7, 100, a);
    survey_token_make(KEY, 7, 101, b);
    cr_assert_str_neq(a, b, "the expiry is signed");
    survey_token_make(KEY, 7, 100, b);
    cr_assert_str_eq(a, b, "deterministic");
}

static void token_bad(const unsigned char *key, const char *tok)
{
    int64_t inv = 99, exp = 99;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(survey_token_read(key, tok, &inv, &exp, &err), CXM_EINVAL, "'%s' accepted", tok);
    cr_assert(strstr(err.msg, "invitation token"), "%s", err.msg);
    cr_assert_eq(inv, 99);
    cr_assert_eq(exp, 99);
}

Test(survey, forged_and_damaged_tokens_fail)
{
    char tok[SURVEY_TOKEN_LEN];
    cr_assert_eq(survey_token_make(KEY, 12345, INT64_C(1750000000), tok), CXM_OK);
    token_bad(OTHER_KEY, tok);
    /* every character flipped to another base64url character */
    for (size_t i = 0; i < 43; i++) {
        char t[SURVEY_TOKEN_LEN];
        memcpy(t, tok, sizeof t);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        token_bad(KEY, t);
    }
    /* truncated, extended, padded, not base64url */
    char t[SURVEY_TOKEN_LEN + 8];
    snprintf(t, sizeof t, "%.42s", tok);
    token_bad(KEY, t);
    snprintf(t, sizeof t, "%.40s", tok);
    token_bad(KEY, t);
    snprintf(t, sizeof t, "%sA", tok);
    token_bad(KEY, t);
    snprintf(t, sizeof t, "%s=", tok);
    token_bad(KEY, t);
    snprintf(t, sizeof t, "%s", tok);
    t[10] = '+';
    token_bad(KEY, t);
    token_bad(KEY, "");
    token_bad(KEY, NULL);
    /* a token made for another invitation with the same key is just
     * that one: ids cannot be swapped between tokens */
    char other[SURVEY_TOKEN_LEN], mixed[SURVEY_TOKEN_LEN];
    survey_token_make(KEY, 12346, INT64_C(1750000000), other);
    memcpy(mixed, other, 11);           /* the first 8 bytes: 10.67 characters */
    memcpy(mixed + 11, tok + 11, strlen(tok) - 11 + 1);
    token_bad(KEY, mixed);
}
