/* survey_page.c - see survey_page.h. The page is written as it is read:
 * head with the inlined style sheet, the text-size link, the heading,
 * then the question form or the message. Writes are sticky on error (the
 * first failure is kept, later writes do nothing), so the page code reads
 * straight. */
#include "http/survey_page.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "survey_assets.h"   /* build/gen: web/survey.css and web/widget.js */

/* ---- the fixed texts ------------------------------------------------------ */

struct ui {
    const char *lang;
    const char *next, *send, *skip, *optional;
    const char *q_word, *q_of;   /* "Question" 2 "of about" 4 */
    const char *larger, *normal;
    const char *thanks, *thanks_text, *already;
    const char *expired, *invalid, *closed, *busy, *bad_form, *failed;
    const char *start;           /* an open link's button */
};

static const struct ui uis[] = {
    {"en", "Next", "Send", "Skip", "(optional)", "Question", "of about", "Larger text",
     "Normal text", "Thank you", "Thank you for your answers.",
     "You have already answered this survey. Thank you!", "This survey link has expired.",
     "This survey link is not valid.", "This survey is closed.",
     "Too many attempts. Please wait a minute and try again.",
     "Your answer could not be read. Please go back and try again.",
     "Something went wrong on our side. Please try again later.", "Start the survey"},
    {"fr", "Suivant", "Envoyer", "Passer", "(facultatif)", "Question", "sur environ",
     "Texte plus grand", "Texte normal", "Merci", "Merci pour vos réponses.",
     "Vous avez déjà répondu à cette enquête. Merci !", "Ce lien d'enquête a expiré.",
     "Ce lien d'enquête n'est pas valide.", "Cette enquête est fermée.",
     "Trop de tentatives. Veuillez patienter une minute puis réessayer.",
     "Votre réponse n'a pas pu être lue. Veuillez revenir en arrière et réessayer.",
     "Un problème est survenu de notre côté. Veuillez réessayer plus tard.",
     "Commencer l'enquête"},
    {"de", "Weiter", "Senden", "Überspringen", "(optional)", "Frage", "von etwa",
     "Größere Schrift", "Normale Schrift", "Vielen Dank", "Vielen Dank für Ihre Antworten.",
     "Sie haben diese Umfrage bereits beantwortet. Vielen Dank!",
     "Dieser Umfragelink ist abgelaufen.", "Dieser Umfragelink ist ungültig.",
     "Diese Umfrage ist geschlossen.",
     "Zu viele Versuche. Bitte warten Sie eine Minute und versuchen Sie es erneut.",
     "Ihre Antwort konnte nicht gelesen werden. Bitte gehen Sie zurück und versuchen Sie"
     " es erneut.",
     "Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut.",
     "Umfrage starten"},
    {"es", "Siguiente", "Enviar", "Omitir", "(opcional)", "Pregunta", "de unas",
     "Texto más grande", "Texto normal", "Gracias", "Gracias por sus respuestas.",
     "Ya ha respondido a esta encuesta. ¡Gracias!", "Este enlace de la encuesta ha caducado.",
     "Este enlace de la encuesta no es válido.", "Esta encuesta está cerrada.",
     "Demasiados intentos. Espere un minuto y vuelva a intentarlo.",
     "No se pudo leer su respuesta. Vuelva atrás e inténtelo de nuevo.",
     "Algo ha fallado por nuestra parte. Inténtelo de nuevo más tarde.",
     "Empezar la encuesta"},
    {"nl", "Volgende", "Versturen", "Overslaan", "(optioneel)", "Vraag", "van ongeveer",
     "Grotere tekst", "Normale tekst", "Bedankt", "Bedankt voor uw antwoorden.",
     "U hebt deze enquête al ingevuld. Bedankt!", "Deze enquêtelink is verlopen.",
     "Deze enquêtelink is ongeldig.", "Deze enquête is gesloten.",
     "Te veel pogingen. Wacht een minuut en probeer het opnieuw.",
     "Uw antwoord kon niet worden gelezen. Ga terug en probeer het opnieuw.",
     "Er is bij ons iets misgegaan. Probeer het later opnieuw.", "Start de enquête"},
};

/* The length of tag's primary language subtag ("pt" of "pt-BR"). */
static size_t base_len(const char *tag)
{
    return tag ? strcspn(tag, "-_") : 0;
}

/* The fixed texts for tag's language (by its primary subtag), else English. */
static const struct ui *ui_for(const char *tag)
{
    size_t n = base_len(tag);
    for (size_t i = 0; i < sizeof uis / sizeof uis[0]; i++)
        if (strlen(uis[i].lang) == n && !strncasecmp(uis[i].lang, tag, n))
            return &uis[i];
    return &uis[0];
}

static bool rtl(const char *tag)
{
    static const char *const rtl_langs[] = {"ar", "he", "fa", "ur", "yi", "ps", "sd", "ug"};
    size_t n = base_len(tag);
    for (size_t i = 0; i < sizeof rtl_langs / sizeof rtl_langs[0]; i++)
        if (n == 2 && !strncasecmp(rtl_langs[i], tag, 2))
            return true;
    return false;
}

/* ---- sticky HTML writer ------------------------------------------------- */

struct html {
    struct buf *b;
    int rc;
};

static void h_raw(struct html *h, const char *s)
{
    if (!h->rc)
        h->rc = buf_add(h->b, s, strlen(s));
}

/* s as HTML text or attribute value: & < > " ' as entities. */
static void h_text(struct html *h, const char *s)
{
    const char *run = s;
    for (const char *p = s; *p && !h->rc; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;" : *p == '\'' ? "&#39;" : NULL;
        if (!rep)
            continue;
        h->rc = buf_add(h->b, run, (size_t)(p - run));
        h_raw(h, rep);
        run = p + 1;
    }
    h_raw(h, run);
}

static void h_int(struct html *h, int v)
{
    if (!h->rc)
        h->rc = buf_printf(h->b, "%d", v);
}

/* <tag class="cls">text</tag>\n (cls may be NULL). */
static void h_elem(struct html *h, const char *tag, const char *cls, const char *text)
{
    h_raw(h, "<");
    h_raw(h, tag);
    if (cls) {
        h_raw(h, " class=\"");
        h_raw(h, cls);
        h_raw(h, "\"");
    }
    h_raw(h, ">");
    h_text(h, text);
    h_raw(h, "</");
    h_raw(h, tag);
    h_raw(h, ">\n");
}

/* ---- page parts ------------------------------------------------------------ */

/* This page's address (an attribute value), with larger text or not. */
static void h_url(struct html *h, const struct survey_page *p, bool large)
{
    const char *sep = "?";
    h_raw(h, "/s/");
    h_text(h, p->token);
    if (p->kind == SP_THANKS) {
        h_raw(h, "?done=1");
        sep = "&amp;";
    }
    if (large) {
        h_raw(h, sep);
        h_raw(h, "large=1");
        sep = "&amp;";
    }
    if (p->lang_arg) {
        h_raw(h, sep);
        h_raw(h, "lang=");
        h_text(h, p->lang_arg);
    }
}

/* The survey's title, else its name: a page always has one. */
static const char *page_title(const struct survey *s, const char *lang)
{
    const char *t = survey_text(s, &s->title, lang);
    return *t ? t : s->name;
}

static void h_head(struct html *h, const struct survey_page *p, const char *lang,
                   const char *title, const struct ui *u)
{
    h_raw(h, "<!DOCTYPE html>\n<html lang=\"");
    h_text(h, lang);
    h_raw(h, rtl(lang) ? "\" dir=\"rtl\"" : "\"");
    h_raw(h, p->large ? " class=\"large\">\n" : ">\n");
    h_raw(h, "<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
             "<meta name=\"referrer\" content=\"no-referrer\">\n");
    h_elem(h, "title", NULL, title);
    h_raw(h, "<style>\n");
    h_raw(h, asset_survey_css);
    h_raw(h, "</style>\n</head>\n<body>\n<main>\n");
    if (p->token) {
        h_raw(h, "<p class=\"tools\"><a href=\"");
        h_url(h, p, !p->large);
        h_raw(h, "\">");
        h_text(h, p->large ? u->normal : u->larger);
        h_raw(h, "</a></p>\n");
    }
}

static void h_foot(struct html *h)
{
    h_raw(h, "</main>\n</body>\n</html>\n");
}

/* Whether the respondent sent value v. */
static bool sent(const struct survey_page *p, const char *v)
{
    for (size_t i = 0; i < p->nvalues; i++)
        if (p->values[i] && !strcmp(p->values[i], v))
            return true;
    return false;
}

/* ` aria-describedby="..."` naming the help and the error when there. */
static void h_describedby(struct html *h, bool help, bool err)
{
    if (!help && !err)
        return;
    h_raw(h, " aria-describedby=\"");
    h_raw(h, help && err ? "q-help q-err" : help ? "q-help" : "q-err");
    h_raw(h, "\"");
}

/* The help and the error message, under the question's text. */
static void h_notes(struct html *h, const char *help, const char *err)
{
    if (*help) {
        h_raw(h, "<p class=\"help\" id=\"q-help\">");
        h_text(h, help);
        h_raw(h, "</p>\n");
    }
    if (err) {
        h_raw(h, "<p class=\"error\" id=\"q-err\" role=\"alert\">");
        h_text(h, err);
        h_raw(h, "</p>\n");
    }
}

/* The question's text and, when it may be left out, "(optional)". */
static void h_qtext(struct html *h, const struct survey_page *p, const struct ui *u)
{
    const struct survey_question *q = &p->s->q[p->q];
    h_text(h, survey_text(p->s, &q->text, p->lang));
    if (!q->required) {
        h_raw(h, " <span class=\"optional\">");
        h_text(h, u->optional);
        h_raw(h, "</span>");
    }
}

struct opt {
    const char *type;            /* "radio" or "checkbox" */
    int i;                       /* its index: id "a-i" */
    const char *value, *label;
    const char *describedby;     /* NULL: none */
    bool focus;                  /* autofocus (after a refused answer) */
};

static void h_option(struct html *h, const struct survey_page *p, const struct opt *o)
{
    h_raw(h, "<label class=\"opt\" for=\"a-");
    h_int(h, o->i);
    h_raw(h, "\"><input type=\"");
    h_raw(h, o->type);
    h_raw(h, "\" name=\"answer\" id=\"a-");
    h_int(h, o->i);
    h_raw(h, "\" value=\"");
    h_text(h, o->value);
    h_raw(h, "\"");
    if (sent(p, o->value))
        h_raw(h, " checked");
    if (p->error)
        h_raw(h, " aria-invalid=\"true\"");
    if (o->focus)
        h_raw(h, " autofocus");
    if (o->describedby) {
        h_raw(h, " aria-describedby=\"");
        h_raw(h, o->describedby);
        h_raw(h, "\"");
    }
    h_raw(h, "><span>");
    h_text(h, o->label);
    h_raw(h, "</span></label>\n");
}

/* The index of the option to focus after a refused answer: the first one
 * sent, else the first; -1 when there is no error. */
static int focus_index(const struct survey_page *p, const char *const *values, int n)
{
    if (!p->error)
        return -1;
    for (int i = 0; i < n; i++)
        if (sent(p, values[i]))
            return i;
    return 0;
}

/* One end of a scale, "0 = Not at all likely" (empty without a label):
 * the number says which end it is once the scale wraps on a phone. */
static void h_end(struct html *h, const char *id, int v, const char *label)
{
    h_raw(h, "<span id=\"");
    h_raw(h, id);
    h_raw(h, "\">");
    if (*label) {
        h_int(h, v);
        h_raw(h, " = ");
        h_text(h, label);
    }
    h_raw(h, "</span>");
}

/* A scale (nps, csat, ces, rating): one radio per number; the end labels
 * describe the end numbers. */
static void h_scale(struct html *h, const struct survey_page *p)
{
    const struct survey_question *q = &p->s->q[p->q];
    const char *lo = survey_text(p->s, &q->min_label, p->lang);
    const char *hi = survey_text(p->s, &q->max_label, p->lang);
    char nums[SURVEY_MAX_CHOICES + 1][12];
    const char *vals[SURVEY_MAX_CHOICES + 1];
    int n = q->max >= q->min && q->max - q->min <= SURVEY_MAX_CHOICES ? q->max - q->min + 1 : 0;
    for (int i = 0; i < n; i++) {
        snprintf(nums[i], sizeof nums[i], "%d", q->min + i);
        vals[i] = nums[i];
    }
    int focus = focus_index(p, vals, n);
    h_raw(h, "<div class=\"scale\">\n");
    for (int i = 0; i < n; i++) {
        struct opt o = {"radio", i, vals[i], vals[i], NULL, i == focus};
        if (i == 0 && *lo)
            o.describedby = "q-min";
        else if (i == n - 1 && *hi)
            o.describedby = "q-max";
        h_option(h, p, &o);
    }
    h_raw(h, "</div>\n");
    if (*lo || *hi) {
        h_raw(h, "<p class=\"ends\">");
        h_end(h, "q-min", q->min, lo);
        h_raw(h, " ");
        h_end(h, "q-max", q->max, hi);
        h_raw(h, "</p>\n");
    }
}

/* Single (radios) or multiple (checkboxes) choice. */
static void h_choices(struct html *h, const struct survey_page *p)
{
    const struct survey_question *q = &p->s->q[p->q];
    const char *vals[SURVEY_MAX_CHOICES];
    int n = q->nchoices <= SURVEY_MAX_CHOICES ? (int)q->nchoices : SURVEY_MAX_CHOICES;
    for (int i = 0; i < n; i++)
        vals[i] = q->choices[i].id;
    int focus = focus_index(p, vals, n);
    h_raw(h, "<div class=\"choices\">\n");
    for (int i = 0; i < n; i++) {
        struct opt o = {q->type == Q_MULTI ? "checkbox" : "radio", i, vals[i],
                        survey_text(p->s, &q->choices[i].label, p->lang), NULL, i == focus};
        h_option(h, p, &o);
    }
    h_raw(h, "</div>\n");
}

/* A question answered by picking: a fieldset named by its legend. */
static void h_fieldset(struct html *h, const struct survey_page *p, const struct ui *u)
{
    const struct survey_question *q = &p->s->q[p->q];
    const char *help = survey_text(p->s, &q->help, p->lang);
    h_raw(h, "<fieldset");
    h_describedby(h, *help, p->error);
    h_raw(h, ">\n<legend>");
    h_qtext(h, p, u);
    h_raw(h, "</legend>\n");
    h_notes(h, help, p->error);
    if (q->type == Q_SINGLE || q->type == Q_MULTI)
        h_choices(h, p);
    else
        h_scale(h, p);
    h_raw(h, "</fieldset>\n");
}

/* A text question: a label and a text area. */
static void h_textarea(struct html *h, const struct survey_page *p, const struct ui *u)
{
    const struct survey_question *q = &p->s->q[p->q];
    const char *help = survey_text(p->s, &q->help, p->lang);
    h_raw(h, "<div class=\"field\">\n<label class=\"qtext\" for=\"a-0\">");
    h_qtext(h, p, u);
    h_raw(h, "</label>\n");
    h_notes(h, help, p->error);
    h_raw(h, "<textarea id=\"a-0\" name=\"answer\" rows=\"6\" maxlength=\"");
    h_int(h, SURVEY_MAX_ANSWER);
    h_raw(h, "\"");
    h_describedby(h, *help, p->error);
    if (p->error)
        h_raw(h, " aria-invalid=\"true\" autofocus");
    /* The parser drops one newline after <textarea>: the answer's own
     * first line break survives. */
    h_raw(h, ">\n");
    if (p->nvalues && p->values[0])
        h_text(h, p->values[0]);
    h_raw(h, "</textarea>\n</div>\n");
}

static void h_question(struct html *h, const struct survey_page *p, const struct ui *u)
{
    const struct survey *s = p->s;
    const struct survey_question *q = &s->q[p->q];
    h_elem(h, "h1", NULL, page_title(s, p->lang));
    const char *intro = survey_text(s, &s->intro, p->lang);
    if (p->step <= 1 && *intro)
        h_elem(h, "p", "intro", intro);
    h_raw(h, "<p class=\"progress\">");
    h_text(h, u->q_word);
    h_raw(h, " ");
    h_int(h, p->step);
    h_raw(h, " ");
    h_text(h, u->q_of);
    h_raw(h, " ");
    h_int(h, p->steps);
    h_raw(h, "</p>\n<form method=\"post\" accept-charset=\"utf-8\" action=\"");
    h_url(h, p, p->large);
    h_raw(h, "\">\n<input type=\"hidden\" name=\"q\" value=\"");
    h_text(h, q->id);
    h_raw(h, "\">\n");
    if (q->type == Q_TEXT)
        h_textarea(h, p, u);
    else
        h_fieldset(h, p, u);
    h_raw(h, "<div class=\"actions\">\n<button type=\"submit\">");
    h_text(h, p->step >= p->steps ? u->send : u->next);
    h_raw(h, "</button>\n");
    if (!q->required) {
        h_raw(h, "<button type=\"submit\" class=\"secondary\" name=\"skip\" value=\"1\">");
        h_text(h, u->skip);
        h_raw(h, "</button>\n");
    }
    h_raw(h, "</div>\n</form>\n");
}

/* An open link's first page: the survey's title and intro, and a button
 * that makes the respondent's own link (a POST: a GET changes nothing). */
static void h_start(struct html *h, const struct survey_page *p, const struct ui *u)
{
    h_elem(h, "h1", NULL, page_title(p->s, p->lang));
    const char *intro = survey_text(p->s, &p->s->intro, p->lang);
    if (*intro)
        h_elem(h, "p", "intro", intro);
    h_raw(h, "<form method=\"post\" accept-charset=\"utf-8\" action=\"/s/open/");
    h_text(h, p->open_id);
    if (p->large)
        h_raw(h, "?large=1");
    h_raw(h, "\">\n<div class=\"actions\">\n<button type=\"submit\">");
    h_text(h, u->start);
    h_raw(h, "</button>\n</div>\n</form>\n");
}

/* The heading and text of a page that ends here. */
static void message_of(const struct survey_page *p, const struct ui *u, const char **heading,
                       const char **text)
{
    *text = NULL;
    switch (p->kind) {
    case SP_THANKS:
        *heading = u->thanks;
        *text = survey_text(p->s, &p->s->thanks, p->lang);
        if (!**text)
            *text = u->thanks_text;
        break;
    case SP_ALREADY:
        *heading = u->thanks;
        *text = u->already;
        break;
    case SP_EXPIRED: *heading = u->expired; break;
    case SP_CLOSED: *heading = u->closed; break;
    case SP_BUSY: *heading = u->busy; break;
    case SP_BAD_FORM: *heading = u->bad_form; break;
    case SP_FAILED: *heading = u->failed; break;
    default: *heading = u->invalid; break;
    }
}

static bool page_ok(const struct survey_page *p)
{
    if (p->token && !survey_page_token_ok(p->token))
        return false;
    if (p->lang_arg && !survey_page_tag_ok(p->lang_arg))
        return false;
    if (p->kind == SP_START)
        return p->s && p->open_id && survey_page_tag_ok(p->open_id);
    if (p->kind != SP_QUESTION && p->kind != SP_THANKS)
        return true;
    if (!p->s)
        return false;
    return p->kind == SP_THANKS || (p->q >= 0 && (size_t)p->q < p->s->nq && p->token);
}

int survey_page_render(const struct survey_page *p, struct buf *out)
{
    if (!page_ok(p))
        return CXM_EINVAL;
    const struct ui *u = ui_for(p->lang);
    struct html h = {out, CXM_OK};
    /* The survey's own texts speak its language; the fixed ones u's. */
    bool own = p->kind == SP_QUESTION || p->kind == SP_THANKS || p->kind == SP_START;
    const char *lang = own && p->lang ? p->lang : u->lang;
    if (p->kind == SP_QUESTION || p->kind == SP_START) {
        h_head(&h, p, lang, page_title(p->s, p->lang), u);
        if (p->kind == SP_QUESTION)
            h_question(&h, p, u);
        else
            h_start(&h, p, u);
    } else {
        const char *heading, *text;
        message_of(p, u, &heading, &text);
        h_head(&h, p, lang, heading, u);
        h_elem(&h, "h1", NULL, heading);
        if (text)
            h_elem(&h, "p", NULL, text);
    }
    h_foot(&h);
    return h.rc;
}

const char *survey_page_widget_js(size_t *len)
{
    *len = sizeof asset_widget_js - 1;
    return asset_widget_js;
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

bool survey_page_token_ok(const char *token)
{
    size_t n = 0;
    while (token[n] && n < SURVEY_TOKEN_LEN && b64url_char(token[n]))
        n++;
    return n > 0 && n < SURVEY_TOKEN_LEN && !token[n];
}

bool survey_page_tag_ok(const char *tag)
{
    size_t n = 0;
    if (!((tag[0] >= 'a' && tag[0] <= 'z') || (tag[0] >= 'A' && tag[0] <= 'Z')))
        return false;
    while (tag[n] && n <= 35 && (b64url_char(tag[n]) && tag[n] != '_'))
        n++;
    return n <= 35 && !tag[n];
}
