/* api_survey.c - surveys (docs/surveys.md) for the people who run them:
 * GET|POST /v1/surveys, GET|PUT /v1/surveys/{id}, GET
 * /v1/surveys/{id}/results, POST /v1/surveys/{id}/invitations and GET|PUT
 * /v1/settings/surveys. Parses and checks the request; the engine checks
 * the survey document and decides who is invited. The respondents' side
 * (/s/{token}, the widget) is api_survey_public.c. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "cxm_limits.h"
#include "http/route.h"

/* Customers one invitation request may name: bounds the work one request
 * holds the writer, like a batch of events; a segment has no such cap. */
#define INVITE_MAX_CUSTOMERS 10000

/* The {id} of /v1/surveys/{id}[/...] into buf (the router checked its
 * characters); false (replied 404) when it does not fit. */
static bool survey_id(struct req *r, char *buf, size_t sz)
{
    return req_path_id(r, "/v1/surveys/", "no such survey", buf, sz);
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
    reply_answer(r, id ? 200 : 201, rc, doc, &err);
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
    reply_answer(r, 200, rc, doc, &err);
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
    reply_answer(r, 200, rc, doc, &err);
}

/* ---- results ------------------------------------------------------------ */

/* from, to (UTC, as /v1/metrics without tz: all time by default) and
 * period (week, month, quarter; NULL: month). false: replied 400. */
static bool results_args(struct req *r, int64_t *from, int64_t *to, const char **period)
{
    static const char *const periods[] = {"week", "month", "quarter"};
    return req_range_args(r, from, to) &&
           req_choice_arg(r, "period", periods, 3, "week, month or quarter", period);
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
    reply_answer(r, 200, rc, doc, &err);
}

/* ---- invitations -------------------------------------------------------- */

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

/* {"customers": [...] | "segment": "id", "channel": "email"|"link"} into
 * q; its strings point into o. false: replied 400 naming the member. */
static bool invite_body(struct req *r, json_t *o, struct invite_req *q)
{
    static const char *const names[] = {"customers", "segment", "channel"};
    if (!req_only_members(r, o, names, 3))
        return false;
    json_t *cust = json_object_get(o, "customers");
    if (cust && json_is_null(cust))
        cust = NULL;
    if (!req_nonempty_member(r, o, "segment", &q->segment) ||
        !req_nonempty_member(r, o, "channel", &q->channel))
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
    const char *what = "{\"customers\": [...] or \"segment\": \"id\"}";
    if (!body_text(r, what))
        return;
    json_t *o = req_body_object(r, what);
    if (!o)
        return;
    struct invite_req q = {.survey = id};
    if (invite_body(r, o, &q)) {
        struct cxm_err err;
        cxm_err_clear(&err);
        json_t *doc = NULL;
        int rc = engine_survey_invite(r->eng, &q, &doc, &err);
        reply_answer(r, 200, rc, doc, &err);
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
    reply_answer(r, 200, rc, doc, &err);
}
