/* api_survey.c - surveys (docs/surveys.md) for the people who run them:
 * GET|POST /v1/surveys, GET|PUT /v1/surveys/{id}, GET
 * /v1/surveys/{id}/results, POST /v1/surveys/{id}/invitations and GET|PUT
 * /v1/settings/surveys. Parses and checks the request; the engine checks
 * the survey document and decides who is invited. The respondents' side
 * (/s/{token}, the widget) is api_survey_public.c. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "cxm_limits.h"
#include "http/route.h"

/* Customers one invitation request may name: bounds the work one request
 * holds the writer, like a batch of events; a segment has no such cap. */
#define INVITE_MAX_CUSTOMERS 10000

/* Replies the engine's answer: doc with status, or the error of rc. */
static void answer(struct req *r, unsigned status, int rc, json_t *doc,
                   const struct cxm_err *err)
{
    if (rc)
        reply_err(r, err);
    else
        reply_json(r, status, doc);
}

/* Replies 400 invalid naming field (NULL: none). */
static void reply_invalid(struct req *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_invalid(struct req *r, const char *field, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_error(r, 400, "invalid", msg, -1, field);
}

/* The {id} of /v1/surveys/{id}[/...] into buf (the router checked its
 * characters); false (replied 404) when it does not fit. */
static bool survey_id(struct req *r, char *buf, size_t sz)
{
    const char *p = r->path + strlen("/v1/surveys/");
    size_t n = strcspn(p, "/");
    if (n == 0 || n >= sz) {
        reply_error(r, 404, "not_found", "no such survey", -1, NULL);
        return false;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    return true;
}

/* The body as the engine reads documents: non-empty UTF-8. false: replied
 * 400 asking for what. */
static bool body_text(struct req *r, const char *what)
{
    if (r->body && r->len && utf8_valid(r->body, r->len))
        return true;
    reply_invalid(r, NULL, "send %s as a JSON object", what);
    return false;
}

/* Creates a survey from the body (id NULL: 201) or replaces survey id. */
static void survey_write(struct req *r, const char *id)
{
    if (!body_text(r, "the survey"))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_survey_put(r->eng, r->body, r->len, id == NULL, id, &doc, &err);
    answer(r, id ? 200 : 201, rc, doc, &err);
}

void api_surveys(struct req *r)
{
    if (!strcmp(r->method, "POST")) {
        survey_write(r, NULL);
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_surveys(r->eng, &doc, &err);
    answer(r, 200, rc, doc, &err);
}

void api_survey(struct req *r)
{
    char id[CXM_MAX_NAME + 1];
    if (!survey_id(r, id, sizeof id))
        return;
    if (!strcmp(r->method, "PUT")) {
        survey_write(r, id);
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_survey(r->eng, id, &doc, &err);
    answer(r, 200, rc, doc, &err);
}

/* ---- results ------------------------------------------------------------ */

/* from, to (UTC, as /v1/metrics without tz: all time by default) and
 * period (week, month, quarter; NULL: month). false: replied 400. */
static bool results_args(struct req *r, int64_t *from, int64_t *to, const char **period)
{
    const char *f = req_arg(r, "from"), *t = req_arg(r, "to"), *p = req_arg(r, "period");
    struct cxm_err err;
    cxm_err_clear(&err);
    *from = 0;
    *to = INT64_MAX;
    if ((f && *f && report_parse_bound(f, false, NULL, from, &err)) ||
        (t && *t && report_parse_bound(t, true, NULL, to, &err))) {
        reply_err(r, &err);
        return false;
    }
    *period = p && *p ? p : NULL;
    if (*period && strcmp(p, "week") && strcmp(p, "month") && strcmp(p, "quarter")) {
        reply_invalid(r, "period", "period: week, month or quarter");
        return false;
    }
    return true;
}

void api_survey_results(struct req *r)
{
    char id[CXM_MAX_NAME + 1];
    int64_t from, to;
    const char *period;
    if (!survey_id(r, id, sizeof id) || !results_args(r, &from, &to, &period))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_survey_results(r->eng, id, from, to, period, &doc, &err);
    answer(r, 200, rc, doc, &err);
}

/* ---- invitations -------------------------------------------------------- */

/* The body as a JSON object; NULL (replied 400) when it is not. */
static json_t *body_object(struct req *r, const char *what)
{
    if (!body_text(r, what))
        return NULL;
    json_error_t je;
    json_t *j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        char msg[200];
        snprintf(msg, sizeof msg, "invalid JSON at line %d column %d: %s", je.line,
                 je.column, je.text);
        reply_error(r, 400, "invalid_json", msg, -1, NULL);
    } else if (!json_is_object(j)) {
        json_decref(j);
        j = NULL;
        reply_invalid(r, NULL, "send %s as a JSON object", what);
    }
    return j;
}

/* customers: 1 to INVITE_MAX_CUSTOMERS customer ids, into an array of the
 * request's arena. false: replied 400 naming the member or element. */
static bool customers_member(struct req *r, json_t *v, struct invite_req *q)
{
    size_t n = json_array_size(v), i;
    json_t *x;
    if (!json_is_array(v) || n < 1 || n > INVITE_MAX_CUSTOMERS) {
        reply_invalid(r, "customers", "customers: an array of 1 to %d customer ids",
                      INVITE_MAX_CUSTOMERS);
        return false;
    }
    uint32_t *ids = arena_alloc(&r->arena, n * sizeof *ids);
    if (!ids) {
        reply_error(r, 500, "out_of_memory", "out of memory", -1, NULL);
        return false;
    }
    json_array_foreach(v, i, x) {
        json_int_t c = json_is_integer(x) ? json_integer_value(x) : 0;
        if (c < 1 || c > (json_int_t)UINT32_MAX) {
            char field[32];
            snprintf(field, sizeof field, "customers[%zu]", i);
            reply_invalid(r, field, "%s: a customer id, a whole number from 1 to %lu", field,
                          (unsigned long)UINT32_MAX);
            return false;
        }
        ids[i] = (uint32_t)c;
    }
    q->customers = ids;
    q->n = n;
    return true;
}

/* Member name of o as a non-empty string without NUL into *out (NULL when
 * absent or null). false: replied 400. */
static bool str_member(struct req *r, json_t *o, const char *name, const char **out)
{
    json_t *v = json_object_get(o, name);
    const char *s = json_string_value(v);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!s || !*s || strlen(s) != json_string_length(v)) {
        reply_invalid(r, name, "%s must be a non-empty string", name);
        return false;
    }
    *out = s;
    return true;
}

/* {"customers": [...] | "segment": "id", "channel": "email"|"link"} into
 * q; its strings point into o. false: replied 400 naming the member. */
static bool invite_body(struct req *r, json_t *o, struct invite_req *q)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (strcmp(k, "customers") && strcmp(k, "segment") && strcmp(k, "channel")) {
            reply_invalid(r, k, "unknown member \"%.64s\"", k);
            return false;
        }
    }
    json_t *cust = json_object_get(o, "customers");
    if (cust && json_is_null(cust))
        cust = NULL;
    if (!str_member(r, o, "segment", &q->segment) ||
        !str_member(r, o, "channel", &q->channel))
        return false;
    if (!cust == !q->segment) {
        reply_invalid(r, "customers", "give customers or segment, one of them");
        return false;
    }
    if (q->channel && strcmp(q->channel, "email") && strcmp(q->channel, "link")) {
        reply_invalid(r, "channel", "channel: email or link");
        return false;
    }
    return !cust || customers_member(r, cust, q);
}

void api_survey_invite(struct req *r)
{
    char id[CXM_MAX_NAME + 1];
    if (!survey_id(r, id, sizeof id))
        return;
    json_t *o = body_object(r, "{\"customers\": [...] or \"segment\": \"id\"}");
    if (!o)
        return;
    struct invite_req q = {.survey = id};
    if (invite_body(r, o, &q)) {
        struct cxm_err err;
        cxm_err_clear(&err);
        json_t *doc = NULL;
        int rc = engine_survey_invite(r->eng, &q, &doc, &err);
        answer(r, 200, rc, doc, &err);
    }
    json_decref(o);
}

/* ---- settings ----------------------------------------------------------- */

void api_survey_settings(struct req *r)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    if (!strcmp(r->method, "PUT")) {
        if (!body_text(r, "the settings"))
            return;
        if (engine_set_survey_settings(r->eng, r->body, r->len, &err)) {
            reply_err(r, &err);
            return;
        }
    }
    json_t *doc = NULL;
    int rc = engine_survey_settings(r->eng, &doc, &err);
    answer(r, 200, rc, doc, &err);
}
