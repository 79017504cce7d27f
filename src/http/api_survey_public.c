/* api_survey_public.c - the respondents' side of surveys (docs/surveys.md),
 * open to anyone, no API key: GET|POST /s/{token} (the hosted pages, HTML
 * without scripts), GET /s/widget.js and OPTIONS|POST
 * /v1/public/surveys/{id}/answers (the widget, with CORS for the survey's
 * origins). Both POSTs are rate limited per client address. Parses and
 * checks the request; the engine decides; survey_page.c writes the HTML. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cxm_limits.h"
#include "http/form.h"
#include "http/ratelimit.h"
#include "http/route.h"
#include "http/survey_page.h"
#include "log.h"

/* A page is one question with at most 20 choices of 2,000 bytes, each
 * byte escaped to at most 6: well under this. */
#define PAGE_MAX (1024u * 1024u)
/* Form fields: q, skip, large and one answer per choice, with room. */
#define FORM_MAX_FIELDS (SURVEY_MAX_CHOICES + 12)

static const char page_csp[] = "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/* ---- rate limits ---------------------------------------------------------- */

/* The client's address as a limiter key: IPv4 (also when mapped into
 * IPv6), or an IPv6 /64, one subscriber's network. 0: unknown. */
static size_t client_key(struct req *r, unsigned char key[16])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        memcpy(key, &in.sin_addr, 4);
        return 4;
    }
    if (sa && sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
            memcpy(key, in6.sin6_addr.s6_addr + 12, 4);
            return 4;
        }
        memcpy(key, in6.sin6_addr.s6_addr, 8);
        return 8;
    }
    return 0;
}

/* Takes a token from the client's bucket; false: over the limit, with a
 * Retry-After header set (the caller replies 429). */
bool req_rate_ok(struct req *r, enum server_limit which)
{
    unsigned char key[16];
    size_t klen = client_key(r, key);
    unsigned retry = 0;
    if (ratelimit_take(server_limiter(r->srv, which), key, klen, cxm_seconds(), &retry))
        return true;
    char v[16];
    snprintf(v, sizeof v, "%u", retry);
    reply_header(r, "Retry-After", v);
    return false;
}

/* ---- the hosted pages ------------------------------------------------------ */

struct page_req {
    const char *token;           /* the path's token; NULL: not one */
    const char *lang_arg;        /* ?lang=, a checked tag; NULL: none */
    const char *lang;            /* the preferred language: lang_arg, else
                                    the first tag of Accept-Language */
    char accept[40];
    bool large, done;
};

/* The first language tag of an Accept-Language header into buf; NULL when
 * none or not a tag ("*"). */
static const char *first_tag(const char *header, char *buf, size_t sz)
{
    if (!header)
        return NULL;
    header += strspn(header, " \t,");
    size_t n = strcspn(header, " \t,;");
    if (n == 0 || n >= sz)
        return NULL;
    memcpy(buf, header, n);
    buf[n] = '\0';
    return survey_page_tag_ok(buf) ? buf : NULL;
}

static bool flag_arg(struct req *r, const char *name)
{
    const char *v = req_arg(r, name);
    return v && !strcmp(v, "1");
}

static void page_req_init(struct req *r, struct page_req *pr)
{
    memset(pr, 0, sizeof *pr);
    const char *t = r->path + strlen("/s/");
    pr->token = survey_page_token_ok(t) ? t : NULL;
    const char *l = req_arg(r, "lang");
    pr->lang_arg = l && survey_page_tag_ok(l) ? l : NULL;
    pr->lang = pr->lang_arg ? pr->lang_arg
                            : first_tag(req_header(r, "Accept-Language"), pr->accept,
                                        sizeof pr->accept);
    pr->large = flag_arg(r, "large");
    pr->done = flag_arg(r, "done");
}

static void page_headers(struct req *r)
{
    reply_header(r, "Content-Security-Policy", page_csp);
    reply_header(r, "Referrer-Policy", "no-referrer");
}

/* Renders p into the reply; a page that cannot be written becomes the
 * failure page (500), and that failing, an empty 500. */
static void page_reply(struct req *r, unsigned status, const struct survey_page *p)
{
    struct buf b;
    buf_init(&b, PAGE_MAX);
    int rc = survey_page_render(p, &b);
    if (rc) {
        log_msg(LOG_ERROR, "survey page: %s", cxm_rc_str(rc));
        struct survey_page f = {.kind = SP_FAILED, .lang = p->lang, .large = p->large};
        buf_free(&b);
        status = 500;
        rc = survey_page_render(&f, &b);
    }
    size_t len = 0;
    char *body = rc ? NULL : buf_take(&b, &len);
    buf_free(&b);
    page_headers(r);
    reply_text(r, body ? status : 500, "text/html; charset=utf-8", body, body ? len : 0);
}

/* The page for an engine failure rc. */
static void page_fail(struct req *r, struct survey_page *p, int rc)
{
    unsigned status = status_of(rc);
    if (rc == CXM_ENOTFOUND) {
        p->kind = SP_INVALID;
    } else if (rc == CXM_ETOOBIG) {
        p->kind = SP_BAD_FORM;
    } else {
        p->kind = SP_FAILED;
        if (status < 500)
            status = 500;
        log_msg(LOG_ERROR, "survey page: %s", cxm_rc_str(rc));
    }
    page_reply(r, status, p);
}

/* The page a session leads to, and its status. */
static unsigned session_page(const struct survey_session *ss, bool done,
                             struct survey_page *p)
{
    p->s = ss->s;
    if (ss->lang)
        p->lang = ss->lang;
    if (!ss->s) {
        p->kind = SP_INVALID;
        return 404;
    }
    switch (ss->state) {
    case SVS_OPEN:
        if (ss->next < 0 || (size_t)ss->next >= ss->s->nq) {
            p->kind = SP_THANKS;
            return 200;
        }
        p->kind = SP_QUESTION;
        p->q = ss->next;
        p->step = ss->step;
        p->steps = ss->steps;
        return 200;
    case SVS_DONE: p->kind = done ? SP_THANKS : SP_ALREADY; return 200;
    case SVS_EXPIRED: p->kind = SP_EXPIRED; return 410;
    case SVS_CLOSED: p->kind = SP_CLOSED; return 410;
    default: p->kind = SP_INVALID; return 404;
    }
}

/* Reads the page's settings into pr and p; false: replied (a POST over
 * the rate limit, a path that is no token). */
static bool page_start(struct req *r, struct page_req *pr, struct survey_page *p)
{
    page_req_init(r, pr);
    memset(p, 0, sizeof *p);
    p->token = pr->token;
    p->lang_arg = pr->lang_arg;
    p->lang = pr->lang;
    p->large = pr->large;
    if (!strcmp(r->method, "POST") && !req_rate_ok(r, LIMIT_SURVEY_PAGE)) {
        p->kind = SP_BUSY;
        page_reply(r, 429, p);
        return false;
    }
    if (pr->token)
        return true;
    p->kind = SP_INVALID;
    page_reply(r, 404, p);
    return false;
}

/* GET /s/{token} */
void api_survey_page(struct req *r)
{
    struct page_req pr;
    struct survey_page p;
    if (!page_start(r, &pr, &p))
        return;
    struct survey_session ss;
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = engine_survey_session(r->eng, pr.token, pr.lang, &ss, &err);
    if (rc) {
        page_fail(r, &p, rc);
        return;
    }
    unsigned status = session_page(&ss, pr.done, &p);
    page_reply(r, status, &p);
    survey_session_free(&ss);
}

static void redirect(struct req *r, const struct page_req *pr, bool done);

/* GET /s/open/{id}: an open link's start page (nothing is created by a
 * GET); POST: a new anonymous respondent and its own link, to which it
 * is sent (303). */
void api_survey_open(struct req *r)
{
    struct page_req pr;
    page_req_init(r, &pr);       /* lang and larger text; no token here */
    const char *id = r->path + strlen("/s/open/");
    struct survey_page p = {.lang = pr.lang, .lang_arg = pr.lang_arg, .large = pr.large};
    const struct survey *s = survey_page_tag_ok(id) ? engine_survey_opening(r->eng, id) : NULL;
    if (!s) {
        p.kind = SP_INVALID;
        page_reply(r, 404, &p);
        return;
    }
    if (strcmp(r->method, "POST")) {
        p.kind = SP_START;
        p.s = s;
        p.open_id = id;
        p.lang = survey_lang(s, pr.lang);
        page_reply(r, 200, &p);
        return;
    }
    if (!req_rate_ok(r, LIMIT_SURVEY_PAGE)) {
        p.kind = SP_BUSY;
        page_reply(r, 429, &p);
        return;
    }
    char tok[SURVEY_TOKEN_LEN];
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = engine_survey_open(r->eng, id, tok, sizeof tok, &err);
    if (rc) {
        page_fail(r, &p, rc);
        return;
    }
    pr.token = tok;
    redirect(r, &pr, false);
}

/* 303 See Other to the page (GET), keeping its settings; done: the
 * respondent has just finished (the thank-you page, not "already"). */
static void redirect(struct req *r, const struct page_req *pr, bool done)
{
    char loc[256];
    bool q = done || pr->large;
    int n = snprintf(loc, sizeof loc, "/s/%s%s%s%s%s", pr->token, done ? "?done=1" : "",
                     pr->large ? (done ? "&large=1" : "?large=1") : "",
                     pr->lang_arg ? (q ? "&lang=" : "?lang=") : "",
                     pr->lang_arg ? pr->lang_arg : "");
    if (n < 0 || (size_t)n >= sizeof loc || !reply_header(r, "Location", loc)) {
        struct survey_page p = {.kind = SP_FAILED, .lang = pr->lang};
        page_reply(r, 500, &p);
        return;
    }
    page_headers(r);
    reply_text(r, 303, "text/plain; charset=utf-8", NULL, 0);
}

/* Whether the response is complete now (after an accepted answer). */
static bool finished(struct req *r, const struct page_req *pr)
{
    struct survey_session ss;
    if (engine_survey_session(r->eng, pr->token, pr->lang, &ss, NULL))
        return false;
    bool done = ss.state == SVS_DONE || (ss.state == SVS_OPEN && ss.next < 0);
    survey_session_free(&ss);
    return done;
}

struct posted {
    const char *q;               /* the question answered */
    bool skip;
    const char *values[FORM_MAX_FIELDS];
    size_t n;
};

/* The refused answer: the same question again with msg and the values
 * sent (422), or, when another question is due by now, a redirect. */
static void refused(struct req *r, const struct page_req *pr, struct survey_page *p,
                    const struct posted *a, const char *msg)
{
    struct survey_session ss;
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = engine_survey_session(r->eng, pr->token, pr->lang, &ss, &err);
    if (rc) {
        page_fail(r, p, rc);
        return;
    }
    unsigned status = session_page(&ss, false, p);
    if (p->kind == SP_QUESTION && !strcmp(ss.s->q[p->q].id, a->q)) {
        p->error = msg;
        p->values = a->values;
        p->nvalues = a->n;
        page_reply(r, 422, p);
    } else if (status == 200) {
        redirect(r, pr, false);
    } else {
        page_reply(r, status, p);
    }
    survey_session_free(&ss);
}

/* Reads the form into a; 0, or the status of a form that cannot be read. */
static unsigned read_form(struct req *r, struct page_req *pr, struct posted *a)
{
    static const char urlenc[] = "application/x-www-form-urlencoded";
    struct form_field f[FORM_MAX_FIELDS];
    size_t nf = 0;
    if (r->too_big)
        return 413;
    const char *ct = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && (strncasecmp(ct, urlenc, sizeof urlenc - 1) ||
               !strchr("; \t", ct[sizeof urlenc - 1])))
        return 415;
    if (form_decode(r->body, r->len, &r->arena, f, FORM_MAX_FIELDS, &nf))
        return 400;
    memset(a, 0, sizeof *a);
    a->q = form_get(f, nf, "q");
    const char *skip = form_get(f, nf, "skip"), *large = form_get(f, nf, "large");
    a->skip = skip && !strcmp(skip, "1");
    if (large && !strcmp(large, "1"))
        pr->large = true;
    for (size_t i = 0; i < nf; i++)
        if (!strcmp(f[i].name, "answer"))
            a->values[a->n++] = f[i].value;
    return a->q ? 0 : 400;
}

/* POST /s/{token} */
void api_survey_page_post(struct req *r)
{
    struct page_req pr;
    struct survey_page p;
    struct posted a;
    if (!page_start(r, &pr, &p))
        return;
    unsigned bad = read_form(r, &pr, &a);
    p.large = pr.large;
    if (bad) {
        p.kind = SP_BAD_FORM;
        page_reply(r, bad, &p);
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = engine_survey_answer(r->eng, pr.token, a.q, a.values, a.skip ? 0 : a.n, &err);
    if (rc == CXM_OK || rc == CXM_ECONFLICT)
        redirect(r, &pr, rc == CXM_OK && finished(r, &pr));
    else if (rc == CXM_EINVAL)
        refused(r, &pr, &p, &a, err.msg);
    else
        page_fail(r, &p, rc);
}

/* ---- the widget ------------------------------------------------------------ */

/* GET /s/widget.js */
void api_survey_widget_js(struct req *r)
{
    size_t len;
    const char *js = survey_page_widget_js(&len);
    char *body = cxm_strndup(js, len);
    if (!body) {
        reply_error(r, 500, "out_of_memory", "out of memory", -1, NULL);
        return;
    }
    reply_header(r, "Cache-Control", "public, max-age=3600");
    reply_text(r, 200, "application/javascript; charset=utf-8", body, len);
}

/* The {id} of /v1/public/surveys/{id}/answers into buf: [a-z0-9_-]{1,64}. */
static bool widget_survey_id(const char *path, char *buf, size_t sz)
{
    const char *p = path + strlen("/v1/public/surveys/");
    size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_-");
    if (n == 0 || n >= sz || n > 64 || strcmp(p + n, "/answers") != 0)
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return true;
}

/* The members of a widget answer, each a string (value may also be a
 * whole number, written into num). false: replied 400 naming the member. */
static bool widget_member(struct req *r, struct widget_answer *w, const char *k, json_t *v,
                          char *num, size_t numsz)
{
    const char **dst = !strcmp(k, "question") ? &w->question
                       : !strcmp(k, "value")  ? &w->value
                       : !strcmp(k, "comment") ? &w->comment
                       : !strcmp(k, "visitor") ? &w->visitor
                       : !strcmp(k, "email")   ? &w->email : NULL;
    char msg[120];
    if (!dst) {
        snprintf(msg, sizeof msg, "unknown member \"%.64s\"", k);
    } else if (json_is_null(v)) {
        return true;
    } else if (dst == &w->value && json_is_integer(v)) {
        snprintf(num, numsz, "%lld", (long long)json_integer_value(v));
        *dst = num;
        return true;
    } else if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)) {
        *dst = json_string_value(v);
        return true;
    } else {
        snprintf(msg, sizeof msg, "%s must be a string%s", k,
                 dst == &w->value ? " or a whole number" : "");
    }
    reply_error(r, 400, "invalid", msg, -1, k);
    return false;
}

/* The body {"question", "value", "comment", "visitor", "email"} into w,
 * whose strings point into the returned document (the caller's to
 * json_decref). NULL: replied 400. */
static json_t *widget_body(struct req *r, struct widget_answer *w, char *num, size_t numsz)
{
    json_error_t je;
    json_t *o = r->body && r->len ? json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je)
                                  : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        reply_error(r, 400, "invalid_json",
                    "send {\"question\", \"value\", \"comment\", \"visitor\"} as a JSON object",
                    -1, NULL);
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (!widget_member(r, w, k, v, num, numsz)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static void cors_headers(struct req *r, const char *origin)
{
    reply_header(r, "Access-Control-Allow-Origin", origin);
    reply_header(r, "Access-Control-Allow-Methods", "POST");
    reply_header(r, "Access-Control-Allow-Headers", "Content-Type");
    reply_header(r, "Access-Control-Max-Age", "600");
}

/* OPTIONS (CORS preflight) and POST /v1/public/surveys/{id}/answers */
void api_survey_widget(struct req *r)
{
    char id[65], num[24];
    reply_header(r, "Vary", "Origin");
    if (!widget_survey_id(r->path, id, sizeof id)) {
        reply_error(r, 404, "not_found", "no such survey", -1, NULL);
        return;
    }
    const char *origin = req_header(r, "Origin");
    if (!origin || !*origin || !engine_survey_origin_ok(r->eng, id, origin)) {
        reply_error(r, 403, "forbidden",
                    origin ? "this site may not send answers to this survey"
                           : "send the Origin of the page the widget is on", -1, NULL);
        return;
    }
    cors_headers(r, origin);
    if (!strcmp(r->method, "OPTIONS")) {
        reply_text(r, 204, "text/plain; charset=utf-8", NULL, 0);
        return;
    }
    if (!req_rate_ok(r, LIMIT_WIDGET)) {
        reply_error(r, 429, "too_many_requests",
                    "too many answers from this address: try again in a minute", -1, NULL);
        return;
    }
    struct widget_answer w = {.survey = id, .origin = origin};
    json_t *o = widget_body(r, &w, num, sizeof num);
    if (!o)
        return;
    json_t *doc = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    if (engine_survey_widget(r->eng, &w, &doc, &err))
        reply_err(r, &err);
    else
        reply_json(r, 201, doc);
    json_decref(o);
}
