/* api_loop.c - the closed loop (docs/closed-loop.md) and the employee
 * side: GET|PUT /v1/alert-rules, GET|POST /v1/cases, GET|PATCH
 * /v1/cases/{id}, GET|POST /v1/webhooks, GET|PATCH|DELETE
 * /v1/webhooks/{id}, GET /v1/webhooks/{id}/deliveries, POST
 * /v1/webhooks/{id}/replay, GET|PUT /v1/settings/email, GET /v1/employees
 * and GET /v1/team/performance|recognition|enps. Parses and checks the
 * request; the engine decides. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cxm_limits.h"
#include "http/route.h"

/* ---- request parsing ---------------------------------------------------- */

/* A true/false query argument (true, false, 1, 0); false when absent.
 * false: replied 400. */
static bool bool_arg(struct req *r, const char *name, bool *out)
{
    const char *s = req_str_arg(r, name);
    *out = s && (!strcmp(s, "true") || !strcmp(s, "1"));
    if (s && !*out && strcmp(s, "false") && strcmp(s, "0")) {
        reply_invalid(r, name, "%s: true, false, 1 or 0", name);
        return false;
    }
    return true;
}

/* Member name as true/false into *out (-1 when absent or null); false
 * (replied) for another type. */
static bool bool_member(struct req *r, json_t *o, const char *name, int *out)
{
    json_t *v = json_object_get(o, name);
    *out = !v || json_is_null(v) ? -1 : json_is_true(v);
    if (v && !json_is_null(v) && !json_is_boolean(v)) {
        reply_invalid(r, name, "%s must be true or false", name);
        return false;
    }
    return true;
}

/* Member name as a whole number in [lo, hi] into *out (untouched when
 * absent, which is refused when required); false: replied 400. */
static bool int_member(struct req *r, json_t *o, const char *name, int64_t lo, int64_t hi,
                       bool required, int64_t *out)
{
    json_t *v = json_object_get(o, name);
    if ((!v || json_is_null(v)) && !required)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        reply_invalid(r, name, "%s: a whole number from %lld to %lld", name, (long long)lo,
                      (long long)hi);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

/* ---- documents ---------------------------------------------------------- */

void api_alert_rules(struct req *r)
{
    reply_document(r, engine_alert_rules, engine_set_alert_rules);
}

void api_email_settings(struct req *r)
{
    reply_document(r, engine_email_settings, engine_set_email_settings);
}

/* ---- cases -------------------------------------------------------------- */

/* String members of a case body, read straight into struct case_change. */
static const struct {
    const char *name;
    size_t off;
} case_strings[] = {
    {"reason", offsetof(struct case_change, reason)},
    {"subject", offsetof(struct case_change, subject)},
    {"status", offsetof(struct case_change, status)},
    {"assignee", offsetof(struct case_change, assignee)},
    {"team", offsetof(struct case_change, team)},
    {"priority", offsetof(struct case_change, priority)},
    {"note", offsetof(struct case_change, note)},
    {"resolution", offsetof(struct case_change, resolution)},
    {"actor", offsetof(struct case_change, actor)},
};

/* The body of POST /v1/cases (create) or PATCH /v1/cases/{id} into c; its
 * strings point into o. false: replied 400 naming the member. */
static bool case_body(struct req *r, json_t *o, bool create, struct case_change *c)
{
    static const char *const open_names[] = {"customer", "reason", "subject", "priority",
                                             "team", "assignee", "note", "actor"};
    static const char *const change_names[] = {"status", "assignee", "team", "priority",
                                               "note", "resolution", "link",
                                               "tell_customer", "follow_up", "actor"};
    if (!(create ? req_only_members(r, o, open_names, 8)
                 : req_only_members(r, o, change_names, 10)))
        return false;
    for (size_t i = 0; i < sizeof case_strings / sizeof case_strings[0]; i++)
        if (!req_str_member(r, o, case_strings[i].name,
                        (const char **)(void *)((char *)c + case_strings[i].off)))
            return false;
    int64_t customer = 0;
    int tell, follow;
    if (!int_member(r, o, "customer", 1, UINT32_MAX, create, &customer) ||
        !int_member(r, o, "link", 1, INT64_MAX, false, &c->link) ||
        !bool_member(r, o, "tell_customer", &tell) || !bool_member(r, o, "follow_up", &follow))
        return false;
    if (create && !c->reason) {
        reply_error(r, 400, "invalid", "reason: why the case is opened", -1, "reason");
        return false;
    }
    c->customer = (uint32_t)customer;
    c->tell_customer = tell > 0;
    c->follow_up = follow > 0;
    return true;
}

/* Opens a case (id 0: 201) or changes case id (200). */
static void case_write(struct req *r, uint32_t id)
{
    json_t *o = req_body_object(r, id ? "the changes" : "the case");
    if (!o)
        return;
    struct case_change c = {.id = id};
    if (case_body(r, o, id == 0, &c)) {
        struct cxm_err err;
        cxm_err_clear(&err);
        json_t *doc = NULL;
        int rc = engine_case_change(r->eng, &c, &doc, &err);
        reply_answer(r, id ? 200 : 201, rc, doc, &err);
    }
    json_decref(o);
}

static bool case_query_args(struct req *r, struct case_query *q)
{
    static const char *const sorts[] = {"urgency", "newest", "oldest"};
    long customer, offset, limit;
    bool breached;
    if (!req_int_arg(r, "customer", 1, UINT32_MAX, 0, &customer) ||
        !req_int_arg(r, "offset", 0, INT32_MAX, 0, &offset) ||
        !req_int_arg(r, "limit", 1, CXM_MAX_PAGE, CXM_DEFAULT_PAGE, &limit) ||
        !bool_arg(r, "breached", &breached) ||
        !req_choice_arg(r, "sort", sorts, 3, "urgency, newest or oldest", &q->sort))
        return false;
    q->status = req_str_arg(r, "status");
    q->team = req_str_arg(r, "team");
    q->assignee = req_str_arg(r, "assignee");
    q->reason = req_str_arg(r, "reason");
    q->priority = req_str_arg(r, "priority");
    q->customer = (uint32_t)customer;
    q->breached = breached;
    q->offset = (size_t)offset;
    q->limit = (size_t)limit;
    return true;
}

void api_cases(struct req *r)
{
    if (!strcmp(r->method, "POST")) {
        case_write(r, 0);
        return;
    }
    struct case_query q = {0};
    if (!case_query_args(r, &q))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_cases(r->eng, &q, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

void api_case(struct req *r, uint32_t id)
{
    if (!strcmp(r->method, "PATCH")) {
        case_write(r, id);
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_case(r->eng, id, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

/* ---- webhooks ----------------------------------------------------------- */

/* The {id} of /v1/webhooks/{id}[/...] into buf; false (replied 404) when
 * it does not fit. */
static bool webhook_id(struct req *r, char *buf, size_t sz)
{
    return req_path_id(r, "/v1/webhooks/", "no such webhook", buf, sz);
}

/* events: "*" or an array of non-empty event types, joined with "," into
 * the request's arena; NULL when absent. false: replied 400. */
static bool events_member(struct req *r, json_t *o, const char **out)
{
    json_t *v = json_object_get(o, "events"), *x;
    size_t i, need = 1;
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (json_is_string(v) && !strcmp(json_string_value(v), "*")) {
        *out = "*";
        return true;
    }
    if (!json_is_array(v) || !json_array_size(v)) {
        reply_invalid(r, "events", "events: \"*\" or an array of event types");
        return false;
    }
    json_array_foreach(v, i, x) {
        const char *s = json_string_value(x);
        if (!s || !*s || strlen(s) != json_string_length(x) || strchr(s, ',') ||
            !cxm_add_size(need, strlen(s) + 1, &need)) {
            char field[32];
            snprintf(field, sizeof field, "events[%zu]", i);
            reply_invalid(r, field, "%s: an event type, a non-empty string without"
                          " commas", field);
            return false;
        }
    }
    char *joined = arena_alloc(&r->arena, need);
    if (!joined) {
        reply_error(r, 500, "out_of_memory", "out of memory", -1, NULL);
        return false;
    }
    size_t used = 0;
    json_array_foreach(v, i, x) {
        size_t n = json_string_length(x);
        if (i)
            joined[used++] = ',';
        memcpy(joined + used, json_string_value(x), n);
        used += n;
    }
    joined[used] = '\0';
    *out = joined;
    return true;
}

/* The body of POST /v1/webhooks (create) or PATCH /v1/webhooks/{id} into
 * d; its strings point into o or the arena. false: replied 400. */
static bool webhook_body(struct req *r, json_t *o, bool create, struct webhook_def *d)
{
    static const char *const create_names[] = {"id", "url", "events", "description",
                                               "enabled"};
    static const char *const change_names[] = {"url", "events", "description", "enabled",
                                               "rotate_secret"};
    int rotate;
    if (!req_only_members(r, o, create ? create_names : change_names, 5) ||
        !req_str_member(r, o, "id", &d->id) || !req_str_member(r, o, "url", &d->url) ||
        !req_str_member(r, o, "description", &d->description) ||
        !events_member(r, o, &d->events) ||
        !bool_member(r, o, "enabled", &d->enabled) ||
        !bool_member(r, o, "rotate_secret", &rotate))
        return false;
    d->rotate = rotate > 0;
    if (create && (!d->url || !d->events)) {
        const char *missing = d->url ? "events" : "url";
        reply_invalid(r, missing, "%s is required", missing);
        return false;
    }
    return true;
}

/* Creates an endpoint (path_id NULL: 201, the secret in the answer) or
 * changes endpoint path_id. */
static void webhook_write(struct req *r, const char *path_id)
{
    json_t *o = req_body_object(r, path_id ? "the changes" : "the webhook");
    if (!o)
        return;
    struct webhook_def d = {0};
    if (webhook_body(r, o, !path_id, &d)) {
        if (path_id)
            d.id = path_id;
        struct cxm_err err;
        cxm_err_clear(&err);
        json_t *doc = NULL;
        int rc = engine_webhook_put(r->eng, &d, !path_id, &doc, &err);
        reply_answer(r, path_id ? 200 : 201, rc, doc, &err);
    }
    json_decref(o);
}

void api_webhooks(struct req *r)
{
    if (!strcmp(r->method, "POST")) {
        webhook_write(r, NULL);
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_webhooks(r->eng, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

void api_webhook(struct req *r)
{
    char id[CXM_MAX_NAME + 1];
    if (!webhook_id(r, id, sizeof id))
        return;
    if (!strcmp(r->method, "PATCH")) {
        webhook_write(r, id);
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc;
    if (!strcmp(r->method, "DELETE")) {
        rc = engine_webhook_delete(r->eng, id, &err);
        if (!rc)
            doc = json_pack("{s:s, s:b}", "id", id, "deleted", 1);
    } else {
        rc = engine_webhook(r->eng, id, &doc, &err);
    }
    reply_answer(r, 200, rc, doc, &err);
}

void api_webhook_deliveries(struct req *r)
{
    static const char *const statuses[] = {"pending", "delivered", "failed"};
    char id[CXM_MAX_NAME + 1];
    long before, limit;
    bool attempts;
    const char *status;
    if (!webhook_id(r, id, sizeof id) || !req_int_arg(r, "before", 0, LONG_MAX, 0, &before) ||
        !req_int_arg(r, "limit", 1, 500, 50, &limit) || !bool_arg(r, "attempts", &attempts) ||
        !req_choice_arg(r, "status", statuses, 3, "pending, delivered or failed", &status))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_webhook_deliveries(r->eng, id, before, status, (size_t)limit, attempts,
                                       &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

void api_webhook_replay(struct req *r)
{
    static const char *const names[] = {"from", "to"};
    char id[CXM_MAX_NAME + 1];
    if (!webhook_id(r, id, sizeof id))
        return;
    json_t *o = req_body_object(r, "{\"from\": N, \"to\": N}");
    if (!o)
        return;
    int64_t from = 0, to = 0;
    if (req_only_members(r, o, names, 2) &&
        int_member(r, o, "from", 1, INT64_MAX, true, &from) &&
        int_member(r, o, "to", 1, INT64_MAX, true, &to)) {
        struct cxm_err err;
        cxm_err_clear(&err);
        json_t *doc = NULL;
        int rc = from > to ? cxm_err_field(&err, CXM_EINVAL, -1, "to", "to: at least from")
                           : engine_webhook_replay(r->eng, id, from, to, &doc, &err);
        reply_answer(r, 200, rc, doc, &err);
    }
    json_decref(o);
}

/* ---- employees and team ------------------------------------------------- */

void api_employees(struct req *r)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_employees(r->eng, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

/* from, to (UTC, as /v1/metrics without tz: everything by default), team,
 * min_n, prior_n, min_enps, period, limit. false: replied 400. */
static bool team_args(struct req *r, struct team_query *q)
{
    static const char *const periods[] = {"week", "month", "quarter"};
    const char *pn = req_str_arg(r, "prior_n");
    long min_n, min_enps, limit;
    if (!req_range_args(r, &q->from, &q->to))
        return false;
    if (pn && (!cxm_parse_f64(pn, &q->prior_n) || !(q->prior_n >= 0 && q->prior_n <= 1e6))) {
        reply_invalid(r, "prior_n", "prior_n: a number from 0 to 1000000");
        return false;
    }
    if (!req_int_arg(r, "min_n", 0, 1000000, 0, &min_n) ||
        !req_int_arg(r, "min_enps", 0, 1000000, 0, &min_enps) ||
        !req_int_arg(r, "limit", 1, CXM_MAX_PAGE, CXM_DEFAULT_PAGE, &limit) ||
        !req_choice_arg(r, "period", periods, 3, "week, month or quarter", &q->period))
        return false;
    q->team = req_str_arg(r, "team");
    q->min_n = (uint32_t)min_n;
    q->min_enps = (int)min_enps;
    q->limit = (size_t)limit;
    return true;
}

static void team(struct req *r, int (*fn)(struct engine *, const struct team_query *,
                                          json_t **, struct cxm_err *))
{
    struct team_query q = {0};
    if (!team_args(r, &q))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = fn(r->eng, &q, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

void api_team_performance(struct req *r)
{
    team(r, engine_team_performance);
}

void api_team_recognition(struct req *r)
{
    team(r, engine_team_recognition);
}

void api_team_enps(struct req *r)
{
    team(r, engine_enps);
}
