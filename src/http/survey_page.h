/* survey_page.h - the hosted survey pages (/s/{token}) as HTML: one
 * question at a time, the thank-you page and the pages that say why a link
 * cannot be used, in the respondent's language (fixed texts in en, fr, de,
 * es and nl, else English), with web/survey.css inlined; and the widget
 * script (web/widget.js). Pure: writes into a struct buf, never calls the
 * engine or reads a file (the web/ files are compiled in). */
#ifndef CXM_SURVEY_PAGE_H
#define CXM_SURVEY_PAGE_H

#include "common.h"
#include "core/buf.h"
#include "core/survey.h"

enum survey_page_kind {
    SP_QUESTION = 1,  /* s->q[q] as a form */
    SP_THANKS,        /* the survey's thank-you text: just completed */
    SP_ALREADY,       /* completed before: "You have already answered..." */
    SP_EXPIRED,       /* the link's time is over (410) */
    SP_INVALID,       /* not a link of ours (404) */
    SP_CLOSED,        /* the survey is disabled (410) */
    SP_BUSY,          /* too many attempts from this address (429) */
    SP_BAD_FORM,      /* the form could not be read (400, 413, 415) */
    SP_FAILED,        /* the server failed (500, 503) */
    SP_START          /* an open link: the survey's title, intro and a
                         start button posting to /s/open/{open_id} */
};

struct survey_page {
    enum survey_page_kind kind;
    const struct survey *s;      /* QUESTION and THANKS: required; others:
                                    may be NULL (then no survey title) */
    const char *lang;            /* the survey's language for the page
                                    ("fr", "pt-BR"); NULL: English */
    const char *token;           /* the link's token, for the page's own
                                    links and form; NULL: none (pages that
                                    cannot go on); must pass
                                    survey_page_token_ok */
    const char *lang_arg;        /* a lang query argument to keep in the
                                    links (survey_page_tag_ok); NULL: none */
    bool large;                  /* larger text */
    int q;                       /* QUESTION: index of the question */
    int step, steps;             /* QUESTION: "Question step of about steps" */
    const char *error;           /* QUESTION: why the last answer was refused,
                                    for the respondent; NULL: none */
    const char *const *values;   /* QUESTION: the values the respondent sent,
                                    shown again (checked, filled) */
    size_t nvalues;
    const char *open_id;         /* START: the survey's id */
};

/* Appends the whole HTML document to out. Every text from the survey and
 * the respondent is escaped. CXM_EINVAL for a QUESTION or THANKS page
 * without a survey or with q out of range, or an unusable token;
 * CXM_ETOOBIG past out's cap; CXM_ENOMEM. out may hold part of a page
 * after an error: the caller discards it. */
int survey_page_render(const struct survey_page *p, struct buf *out);

/* The widget script; *len its length in bytes. Static storage. */
const char *survey_page_widget_js(size_t *len);

/* Whether token may be one of ours: 1 to SURVEY_TOKEN_LEN - 1 base64url
 * characters (others are refused before the engine sees them). */
bool survey_page_token_ok(const char *token);
/* Whether tag looks like a language tag: 1-35 of [A-Za-z0-9-], starting
 * with a letter. */
bool survey_page_tag_ok(const char *tag);

#endif
