/* survey.h - survey definitions (docs/surveys.md): questions in order
 * (nps 0-10, csat 1-5, ces 1-7 with its direction, rating, single and
 * multiple choice, text), texts in several languages, simple branching
 * ("ask why only when nps <= 6"), what the survey measures (touchpoint,
 * channel, stage), distribution settings and triggers; answers checked
 * per question type; the next question to ask; invitation tokens signed
 * with a server key. Pure: no I/O, no clock, no globals (libsodium for
 * the tokens' HMAC). */
#ifndef CXM_SURVEY_H
#define CXM_SURVEY_H

#include <jansson.h>

#include "common.h"

struct filter;                   /* core/filter.h */

#define SURVEY_MAX_QUESTIONS 30
#define SURVEY_MAX_CHOICES 20
#define SURVEY_MAX_LANGS 12
#define SURVEY_MAX_TRIGGERS 8
#define SURVEY_MAX_ORIGINS 16
#define SURVEY_MAX_TEXT 2000      /* bytes of one text (a question, a choice) */
#define SURVEY_MAX_ANSWER 5000    /* bytes of a text answer */
#define SURVEY_MAX_DOC (256 * 1024)

enum q_type { Q_NPS = 1, Q_CSAT, Q_CES, Q_RATING, Q_SINGLE, Q_MULTI, Q_TEXT };
enum survey_kind { SK_RELATIONSHIP = 1, SK_TRANSACTIONAL };
/* What starts an invitation (docs/surveys.md, "Triggers"). */
enum trigger_on { TR_INTERACTION = 1, TR_CASE_RESOLVED, TR_ORDER, TR_CADENCE };

/* A text in one or more languages: lang[i] ("en", "fr", "pt-BR") says
 * text[i]. Written in JSON as a string (the survey's default language) or
 * as an object {"en": "...", "fr": "..."}. */
struct ltext {
    size_t n;
    char *lang[SURVEY_MAX_LANGS];
    char *text[SURVEY_MAX_LANGS];
};

struct survey_choice {
    char *id;                    /* [a-z0-9_-]{1,64} */
    struct ltext label;
};

struct survey_question {
    char *id;                    /* [a-z0-9_-]{1,64}, unique in the survey */
    enum q_type type;
    struct ltext text;           /* the question as asked */
    struct ltext help;           /* optional hint under it; n 0: none */
    bool required;               /* default true for scored questions, false
                                    for text and choices */
    int min, max;                /* the scale: nps 0-10, csat 1-5, ces 1-7,
                                    rating min-max (default 1-5, max - min
                                    at most 10) */
    struct ltext min_label, max_label;   /* scale ends ("Not at all likely") */
    bool reverse;                /* ces: true when 7 means the least effort
                                    (the default, false, is 1 = least) */
    struct survey_choice *choices;       /* single, multi */
    size_t nchoices;
    char *show_if;               /* a condition on earlier answers in the
                                    filter language ("nps <= 6", "plan =
                                    'pro'", "reasons contains 'price'");
                                    NULL: always asked */
    struct filter *cond;         /* show_if parsed; NULL when none */
};

struct survey_trigger {
    enum trigger_on on;
    char *when;                  /* interaction / order: a filter on the
                                    record (type, touchpoint, channel, stage,
                                    agent; order: amount, channel); NULL: any */
    int64_t delay;               /* seconds after the record (0: at once) */
    char *every;                 /* cadence: "month", "quarter" or "year" */
};

struct survey {
    char *id, *name;             /* id [a-z0-9_-]{1,64} */
    enum survey_kind kind;
    char *lang;                  /* the default language ("en") */
    struct ltext title, intro, thanks;
    struct survey_question *q;
    size_t nq;
    char *touchpoint, *channel, *stage;  /* what it measures; NULL: none */
    double sample;               /* share of eligible customers invited,
                                    (0, 1], default 1 */
    int expiry_days;             /* a token's life, default 14 */
    int reminder_days;           /* one reminder after these days when
                                    unanswered; 0: none (default) */
    struct ltext email_subject, email_text;   /* invitation templates with
                                    {first_name|...} and {link} */
    struct survey_trigger trig[SURVEY_MAX_TRIGGERS];
    size_t ntrig;
    char *origins[SURVEY_MAX_ORIGINS];   /* the widget's allowed origins
                                    ("https://shop.example"); none: no widget */
    size_t norigins;
    bool enabled;                /* default true */
    bool anonymous;              /* an open link (/s/open/{id}) anyone may
                                    answer, each respondent a new anonymous
                                    profile; default false */
};

/* Parses and checks a survey document. CXM_EINVAL with err->field naming
 * the member ("questions[2].choices[0].id", "triggers[0].delay",
 * "questions[3].show_if") and the message why: unknown members, missing
 * ones, bad ids, repeated ids, a type-incompatible scale, a show_if that
 * names a later or unknown question or does not parse (with its column),
 * a language code not [a-z]{2,3}(-[A-Za-z0-9]{2,8})?, a text in a
 * language the survey's default lacks, limits above; also a show_if
 * comparing a choice question with an id it does not offer ("plan =
 * 'gold'"), and reminder_days not below expiry_days. CXM_ETOOBIG past
 * SURVEY_MAX_DOC. *out is set only on success and is the caller's to
 * survey_free. */
int survey_parse(const char *json, size_t len, struct survey **out, struct cxm_err *err);
void survey_free(struct survey *s);   /* accepts NULL */
/* The survey as a normalised JSON document (every default written out):
 * survey_parse of its dump gives the same survey. */
json_t *survey_json(const struct survey *s);

const char *survey_q_type_name(enum q_type t);   /* "nps", "csat", ... */
/* The feedback kind an answer to a question of type t is recorded as:
 * "nps", "csat", "ces", "rating", or "text" (text and choice answers). */
const char *survey_feedback_kind(enum q_type t);

/* The text in lang, else in lang's base language ("pt" for "pt-BR"),
 * else in the survey's default language, else the first; "" when t is
 * empty. lang may be NULL. */
const char *survey_text(const struct survey *s, const struct ltext *t, const char *lang);
/* The language the survey will speak to someone who prefers lang (a
 * customer's language, an Accept-Language tag): one the survey has
 * (exact, then base), else its default. */
const char *survey_lang(const struct survey *s, const char *lang);

/* One question's answer. */
struct survey_answer {
    bool given;                  /* false: not answered (yet) or skipped */
    double score;                /* nps, csat, ces, rating: the value as
                                    the respondent chose it; NAN otherwise */
    char *text;                  /* text: the answer (malloc'd); NULL */
    uint32_t choices;            /* single, multi: bit i = choices[i] */
};
void survey_answer_clear(struct survey_answer *a);   /* frees text */

/* Reads the submitted values of question qi (a form's fields: one value
 * for a score, a single choice's id or a text; any number of choice ids
 * for multi) into *a. An empty submission of an optional question is
 * "skipped" (given false, CXM_OK). CXM_EINVAL with a message for the
 * respondent ("Choose a number from 0 to 10.") and err->field the
 * question id: out of range, not a number, an unknown choice, two choices
 * for a single one, over SURVEY_MAX_ANSWER bytes, invalid UTF-8, a
 * required question left empty. Among choice ids an empty value is
 * ignored (a form's "Choose..." option); for a score it is an error. *a
 * (not NULL) is always written, without freeing what it held
 * (survey_answer_clear a previous answer first): the answer on success,
 * a not-given one on error, so it may be cleared either way. */
int survey_answer_read(const struct survey *s, size_t qi, const char *const *values,
                       size_t nvalues, struct survey_answer *a, struct cxm_err *err);

/* The index of the next question to ask given the answers so far (a[i]
 * for question i, given or not; answered[i] true once the respondent
 * answered or skipped it): the first question not yet answered whose
 * show_if holds on the answers given (a condition on an unanswered or
 * skipped question is false). -1 when none is left: the survey is
 * complete. *step and *steps (may be NULL) say where that is, counting
 * the questions asked so far and the ones that could still be asked:
 * *step is 1 + the answered (or skipped) questions whose show_if holds,
 * *steps that count plus the next question and the later ones whose
 * show_if holds or reads a question that may still be asked; when
 * complete, *step is *steps + 1. a or answered NULL: nothing answered. */
int survey_next(const struct survey *s, const struct survey_answer *a, const bool *answered,
                int *step, int *steps);

/* Invitation tokens: base64url (no padding) of the invitation id and the
 * expiry time (8 bytes each, big-endian) followed by a 16-byte truncated
 * HMAC-SHA256 of both under a 32-byte server key: unguessable and
 * unforgeable without the key, bound to the invitation (which names the
 * survey and customer), carrying its expiry. */
#define SURVEY_TOKEN_LEN 64          /* 43 characters + NUL, with room */
int survey_token_make(const unsigned char key[32], int64_t invitation, int64_t expires,
                      char out[SURVEY_TOKEN_LEN]);
/* CXM_EINVAL when the token is malformed or its MAC does not match
 * (compared in constant time); the expiry is read, not checked: the
 * caller compares it with its clock. */
int survey_token_read(const unsigned char key[32], const char *token, int64_t *invitation,
                      int64_t *expires, struct cxm_err *err);

#endif
