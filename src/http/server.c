/* server.c - libmicrohttpd with an internal thread pool. Writes are
 * asynchronous: a POST is suspended while the engine's writer commits it
 * and resumed from the writer's completion, so pool threads never wait on
 * fsync and many requests share one commit. */
#include "http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "cxm_limits.h"
#include "http/ratelimit.h"
#include "http/route.h"
#include "http/session.h"
#include "log.h"

enum route_id {
    RT_NOT_FOUND, RT_HEALTHZ, RT_METRICS, RT_OPENAPI, RT_EVENTS, RT_CUSTOMERS,
    RT_CUSTOMER, RT_TIMELINE, RT_UNMERGE, RT_EXPORT, RT_METRICS_API, RT_BENCH,
    RT_CLV_FIT, RT_CLV_MODEL, RT_CLV_PREDICT, RT_AT_RISK, RT_DRIVERS,
    RT_SENTIMENT, RT_SENTIMENT_POST, RT_THEMES, RT_EMERGING, RT_TAXONOMY, RT_TAXONOMY_PUT,
    RT_FEEDBACK, RT_TRAIN, RT_JOURNEYS, RT_CUST_JOURNEY,
    RT_SEGMENTS, RT_SEGMENT_NEW, RT_SEGMENT, RT_SEGMENT_PUT, RT_SEGMENT_DEL,
    RT_SEG_MEMBERS, RT_SEG_PREVIEW, RT_ACTIONS, RT_ACTIONS_PUT, RT_POLICY, RT_POLICY_PUT,
    RT_DECIDE, RT_CONTACTS, RT_RECS, RT_SIMILAR, RT_REC_SETTINGS, RT_REC_SETTINGS_PUT,
    RT_UPLIFT, RT_FEATURES,
    RT_ALERT_RULES, RT_ALERT_RULES_PUT, RT_CASES, RT_CASE_NEW, RT_CASE, RT_CASE_PATCH,
    RT_WEBHOOKS, RT_WEBHOOK_NEW, RT_WEBHOOK, RT_WEBHOOK_PATCH, RT_WEBHOOK_DEL,
    RT_WH_DELIVERIES, RT_WH_REPLAY, RT_EMAIL, RT_EMAIL_PUT, RT_EMPLOYEES, RT_EMPLOYEES_POST,
    RT_TEAM_PERF,
    RT_TEAM_RECOG, RT_TEAM_ENPS,
    RT_SURVEYS, RT_SURVEY_NEW, RT_SURVEY, RT_SURVEY_PUT, RT_SURVEY_RESULTS, RT_SURVEY_INVITE,
    RT_SURVEY_SETTINGS, RT_SURVEY_SETTINGS_PUT,
    RT_S_PAGE, RT_S_ANSWER, RT_S_WIDGET_JS, RT_S_PREFLIGHT, RT_S_WIDGET, RT_S_OPEN,
    RT_S_OPEN_POST, RT_SESSION, RT_SESSION_NEW, RT_SESSION_DEL, RT_KEYS, RT_KEY_NEW,
    RT_KEY_DEL, RT_DIMENSIONS, RT_DASH, RT_COUNT
};

static const char *const route_names[RT_COUNT] = {
    "not_found", "healthz", "metrics", "openapi", "events", "customers",
    "customer", "timeline", "unmerge", "export", "v1_metrics", "benchmarks",
    "clv_fit", "clv_model", "clv_predict", "churn_at_risk", "churn_drivers",
    "text_sentiment", "text_sentiment", "text_themes", "text_emerging", "taxonomy",
    "taxonomy_put", "feedback", "text_train", "journeys", "customer_journey",
    "segments", "segment_create", "segment", "segment_update", "segment_delete",
    "segment_members", "segment_preview", "actions", "actions_put", "contact_policy",
    "contact_policy_put", "decide", "contacts", "recommendations", "similar_items",
    "recommendation_settings", "recommendation_settings_put", "uplift", "features",
    "alert_rules", "alert_rules_put", "cases", "case_create", "case", "case_update",
    "webhooks", "webhook_create", "webhook", "webhook_update", "webhook_delete",
    "webhook_deliveries", "webhook_replay", "email_settings", "email_settings_put",
    "employees", "employees_post", "team_performance", "team_recognition", "team_enps",
    [RT_SURVEYS] = "surveys", [RT_SURVEY_NEW] = "survey_create", [RT_SURVEY] = "survey",
    [RT_SURVEY_PUT] = "survey_update", [RT_SURVEY_RESULTS] = "survey_results",
    [RT_SURVEY_INVITE] = "survey_invitations", [RT_SURVEY_SETTINGS] = "survey_settings",
    [RT_SURVEY_SETTINGS_PUT] = "survey_settings_put", [RT_S_PAGE] = "survey_page",
    [RT_S_ANSWER] = "survey_page_answer", [RT_S_OPEN] = "survey_open",
    [RT_S_OPEN_POST] = "survey_open_start", [RT_SESSION] = "session",
    [RT_SESSION_NEW] = "session_create", [RT_SESSION_DEL] = "session_delete",
    [RT_KEYS] = "keys", [RT_KEY_NEW] = "key_create", [RT_KEY_DEL] = "key_revoke",
    [RT_DIMENSIONS] = "dimensions",
    [RT_DASH] = "dashboard", [RT_S_WIDGET_JS] = "survey_widget_js",
    [RT_S_PREFLIGHT] = "survey_widget_preflight", [RT_S_WIDGET] = "survey_widget_answer"};

/* Latency histogram bounds in seconds. */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

struct server {
    struct engine *eng;
    const struct server_opts *o;
    struct MHD_Daemon *d;
    atomic_bool stopping;
    atomic_int inflight;        /* suspended requests */
    atomic_ullong count[RT_COUNT][6];            /* by status class 1xx..5xx */
    atomic_ullong hist[RT_COUNT][NBUCKETS + 1];
    atomic_ullong usec_sum[RT_COUNT];
    struct ratelimit *limit[LIMIT_COUNT];        /* the public POSTs, per address */
    struct sessions *sess;                       /* dashboard sign-ins */
};

struct sessions *server_sessions(struct server *s)
{
    return s->sess;
}

unsigned status_of(int rc)
{
    switch (rc) {
    case CXM_OK: return 200;
    case CXM_EINVAL: return 400;
    case CXM_ETOOBIG: return 413;
    case CXM_ENOTFOUND: return 404;
    case CXM_EAUTH: return 401;
    case CXM_EPERM: return 403;
    case CXM_ECONFLICT: return 409;
    case CXM_EUNAVAIL: return 503;
    default: return 500;
    }
}

void reply_text(struct req *r, unsigned status, const char *ctype, char *body,
                size_t len)
{
    free(r->resp);
    r->status = status;
    r->resp = body;
    r->resp_len = len;
    r->ctype = ctype;
    r->state = RS_DONE;
}

void reply_json(struct req *r, unsigned status, json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(doc);
    if (!s) {
        reply_text(r, 500, "application/json",
                   cxm_strdup("{\"error\":{\"code\":\"out_of_memory\"}}"), 0);
        if (r->resp)
            r->resp_len = strlen(r->resp);
        return;
    }
    reply_text(r, status, "application/json", s, strlen(s));
}

void reply_error(struct req *r, unsigned status, const char *code,
                 const char *msg, long index, const char *field)
{
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (e && index >= 0)
        json_object_set_new(e, "index", json_integer(index));
    if (e && field && *field)
        json_object_set_new(e, "field", json_string(field));
    reply_json(r, status, json_pack("{s:o}", "error", e));
}

void reply_err(struct req *r, const struct cxm_err *err)
{
    reply_error(r, status_of(err->code), cxm_rc_str(err->code), err->msg,
                err->index, err->field);
}

const char *req_arg(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool req_int_arg(struct req *r, const char *name, long lo, long hi, long def, long *out)
{
    const char *s = req_arg(r, name);
    int64_t v;
    *out = def;
    if (!s || !*s)
        return true;
    if (!cxm_parse_i64(s, &v) || v < lo || v > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: a whole number from %ld to %ld", name, lo, hi);
        reply_error(r, 400, "invalid", msg, -1, name);
        return false;
    }
    *out = (long)v;
    return true;
}

const char *req_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static void work_done(struct engine_work *w)
{
    struct req *r = w->ctx;
    api_work_done(r);
    struct server *s = r->srv;
    MHD_resume_connection(r->conn);
    atomic_fetch_sub(&s->inflight, 1);
}

void req_submit(struct req *r)
{
    struct server *s = r->srv;
    if (atomic_load(&s->stopping)) {
        reply_error(r, 503, "unavailable", "the server is shutting down", -1, NULL);
        return;
    }
    r->work.done = work_done;
    r->work.ctx = r;
    r->state = RS_WAITING;
    atomic_fetch_add(&s->inflight, 1);
    MHD_suspend_connection(r->conn);
    if (engine_submit(r->eng, &r->work) != CXM_OK) {
        reply_error(r, 503, "unavailable", "the server is shutting down", -1, NULL);
        MHD_resume_connection(r->conn);
        atomic_fetch_sub(&s->inflight, 1);
    }
}

/* Parses prefix + "123" + suffix ("/v1/cases/" "123" ""): true and *id
 * when it matches. */
static bool id_path(const char *path, const char *prefix, const char *suffix, uint32_t *id)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0 || path[n] < '1' || path[n] > '9')
        return false;
    const char *p = path + n;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return false;
        p++;
    }
    if (strcmp(p, suffix) != 0)
        return false;
    *id = (uint32_t)v;
    return true;
}

/* "/v1/customers/123[/timeline]" */
static bool customer_path(const char *path, const char *suffix, uint32_t *id)
{
    return id_path(path, "/v1/customers/", suffix, id);
}

/* prefix + a non-empty name without '/' + suffix ("/v1/webhooks/" "crm"
 * "/deliveries"). */
static bool name_path(const char *path, const char *prefix, const char *suffix)
{
    size_t n = strlen(prefix), len = strlen(path), sl = strlen(suffix);
    return !strncmp(path, prefix, n) && len > n + sl && !strcmp(path + len - sl, suffix) &&
           !memchr(path + n, '/', len - n - sl);
}

/* "/v1/surveys/" + a survey id ([a-z0-9_-]) + suffix. */
static bool survey_path(const char *path, const char *suffix)
{
    const char *p = path + strlen("/v1/surveys/");
    return name_path(path, "/v1/surveys/", suffix) &&
           strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(p) - strlen(suffix);
}

struct route_rule {
    enum route_id id;
    const char *method;
    unsigned roles;             /* bit per enum role; 0: no auth */
};

#define R(x) (1u << (x))

static int route_of(const char *method, const char *path, uint32_t *id,
                    struct route_rule *rule)
{
    static const struct route_rule rules[RT_COUNT] = {
        [RT_HEALTHZ] = {RT_HEALTHZ, "GET", 0},
        [RT_METRICS] = {RT_METRICS, "GET", 0},
        [RT_OPENAPI] = {RT_OPENAPI, "GET", 0},
        [RT_EVENTS] = {RT_EVENTS, "POST", R(ROLE_ADMIN) | R(ROLE_WRITER)},
        [RT_CUSTOMERS] = {RT_CUSTOMERS, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_CUSTOMER] = {RT_CUSTOMER, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_TIMELINE] = {RT_TIMELINE, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_UNMERGE] = {RT_UNMERGE, "POST", R(ROLE_ADMIN)},
        [RT_EXPORT] = {RT_EXPORT, "GET", R(ROLE_ADMIN)},
        [RT_METRICS_API] = {RT_METRICS_API, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_BENCH] = {RT_BENCH, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_CLV_FIT] = {RT_CLV_FIT, "POST", R(ROLE_ADMIN)},
        [RT_CLV_MODEL] = {RT_CLV_MODEL, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_CLV_PREDICT] = {RT_CLV_PREDICT, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        /* names and contact history: personal data, agents act on it */
        [RT_AT_RISK] = {RT_AT_RISK, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_DRIVERS] = {RT_DRIVERS, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_SENTIMENT] = {RT_SENTIMENT, "GET",
                          R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_SENTIMENT_POST] = {RT_SENTIMENT_POST, "POST",
                               R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_THEMES] = {RT_THEMES, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        /* example comments go to admins and agents; analysts get their seqs */
        [RT_EMERGING] = {RT_EMERGING, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_TAXONOMY] = {RT_TAXONOMY, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_TAXONOMY_PUT] = {RT_TAXONOMY_PUT, "PUT", R(ROLE_ADMIN)},
        /* comments are personal data */
        [RT_FEEDBACK] = {RT_FEEDBACK, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_TRAIN] = {RT_TRAIN, "POST", R(ROLE_ADMIN)},
        [RT_JOURNEYS] = {RT_JOURNEYS, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_CUST_JOURNEY] = {RT_CUST_JOURNEY, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        /* segment rules and counts are aggregates; members are people */
        [RT_SEGMENTS] = {RT_SEGMENTS, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_SEGMENT_NEW] = {RT_SEGMENT_NEW, "POST", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_SEGMENT] = {RT_SEGMENT, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_SEGMENT_PUT] = {RT_SEGMENT_PUT, "PUT", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_SEGMENT_DEL] = {RT_SEGMENT_DEL, "DELETE", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_SEG_MEMBERS] = {RT_SEG_MEMBERS, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_SEG_PREVIEW] = {RT_SEG_PREVIEW, "POST", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_ACTIONS] = {RT_ACTIONS, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_ACTIONS_PUT] = {RT_ACTIONS_PUT, "PUT", R(ROLE_ADMIN)},
        [RT_POLICY] = {RT_POLICY, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_POLICY_PUT] = {RT_POLICY_PUT, "PUT", R(ROLE_ADMIN)},
        /* a decision renders messages with names: people's data */
        [RT_DECIDE] = {RT_DECIDE, "POST", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_CONTACTS] = {RT_CONTACTS, "POST", R(ROLE_ADMIN) | R(ROLE_AGENT) | R(ROLE_WRITER)},
        [RT_RECS] = {RT_RECS, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_SIMILAR] = {RT_SIMILAR, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_REC_SETTINGS] = {RT_REC_SETTINGS, "GET",
                             R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_REC_SETTINGS_PUT] = {RT_REC_SETTINGS_PUT, "PUT", R(ROLE_ADMIN)},
        [RT_UPLIFT] = {RT_UPLIFT, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_FEATURES] = {RT_FEATURES, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        /* the closed loop: cases name customers, agents work them;
           webhooks and e-mail settings hold secrets */
        [RT_ALERT_RULES] = {RT_ALERT_RULES, "GET",
                            R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_ALERT_RULES_PUT] = {RT_ALERT_RULES_PUT, "PUT", R(ROLE_ADMIN)},
        [RT_CASES] = {RT_CASES, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_CASE_NEW] = {RT_CASE_NEW, "POST", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_CASE] = {RT_CASE, "GET", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_CASE_PATCH] = {RT_CASE_PATCH, "PATCH", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_WEBHOOKS] = {RT_WEBHOOKS, "GET", R(ROLE_ADMIN)},
        [RT_WEBHOOK_NEW] = {RT_WEBHOOK_NEW, "POST", R(ROLE_ADMIN)},
        [RT_WEBHOOK] = {RT_WEBHOOK, "GET", R(ROLE_ADMIN)},
        [RT_WEBHOOK_PATCH] = {RT_WEBHOOK_PATCH, "PATCH", R(ROLE_ADMIN)},
        [RT_WEBHOOK_DEL] = {RT_WEBHOOK_DEL, "DELETE", R(ROLE_ADMIN)},
        [RT_WH_DELIVERIES] = {RT_WH_DELIVERIES, "GET", R(ROLE_ADMIN)},
        [RT_WH_REPLAY] = {RT_WH_REPLAY, "POST", R(ROLE_ADMIN)},
        [RT_EMAIL] = {RT_EMAIL, "GET", R(ROLE_ADMIN)},
        [RT_EMAIL_PUT] = {RT_EMAIL_PUT, "PUT", R(ROLE_ADMIN)},
        /* the employee side: names of employees, no customer data */
        [RT_EMPLOYEES] = {RT_EMPLOYEES, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_EMPLOYEES_POST] = {RT_EMPLOYEES_POST, "POST", R(ROLE_ADMIN) | R(ROLE_WRITER)},
        [RT_TEAM_PERF] = {RT_TEAM_PERF, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_TEAM_RECOG] = {RT_TEAM_RECOG, "GET",
                           R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_TEAM_ENPS] = {RT_TEAM_ENPS, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        /* definitions are no one's data; results are aggregates; agents invite */
        [RT_SURVEYS] = {RT_SURVEYS, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_SURVEY_NEW] = {RT_SURVEY_NEW, "POST", R(ROLE_ADMIN)},
        [RT_SURVEY] = {RT_SURVEY, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_SURVEY_PUT] = {RT_SURVEY_PUT, "PUT", R(ROLE_ADMIN)},
        [RT_SURVEY_RESULTS] = {RT_SURVEY_RESULTS, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST)},
        [RT_SURVEY_INVITE] = {RT_SURVEY_INVITE, "POST", R(ROLE_ADMIN) | R(ROLE_AGENT)},
        [RT_SURVEY_SETTINGS] = {RT_SURVEY_SETTINGS, "GET", R(ROLE_ADMIN)},
        [RT_SURVEY_SETTINGS_PUT] = {RT_SURVEY_SETTINGS_PUT, "PUT", R(ROLE_ADMIN)},
        /* the respondents' side: the token or the origin is the key */
        [RT_S_PAGE] = {RT_S_PAGE, "GET", 0},
        [RT_S_ANSWER] = {RT_S_ANSWER, "POST", 0},
        [RT_S_OPEN] = {RT_S_OPEN, "GET", 0},
        [RT_S_OPEN_POST] = {RT_S_OPEN_POST, "POST", 0},
        /* sign-in: public; sign-out: any signed-in role (with CSRF) */
        [RT_SESSION] = {RT_SESSION, "GET", 0},
        [RT_SESSION_NEW] = {RT_SESSION_NEW, "POST", 0},
        [RT_SESSION_DEL] = {RT_SESSION_DEL, "DELETE", R(ROLE_ADMIN) | R(ROLE_WRITER) |
                            R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_KEYS] = {RT_KEYS, "GET", R(ROLE_ADMIN)},
        [RT_KEY_NEW] = {RT_KEY_NEW, "POST", R(ROLE_ADMIN)},
        [RT_KEY_DEL] = {RT_KEY_DEL, "DELETE", R(ROLE_ADMIN)},
        [RT_DIMENSIONS] = {RT_DIMENSIONS, "GET", R(ROLE_ADMIN) | R(ROLE_ANALYST) | R(ROLE_AGENT)},
        [RT_DASH] = {RT_DASH, "GET", 0},
        [RT_S_WIDGET_JS] = {RT_S_WIDGET_JS, "GET", 0},
        [RT_S_PREFLIGHT] = {RT_S_PREFLIGHT, "OPTIONS", 0},
        [RT_S_WIDGET] = {RT_S_WIDGET, "POST", 0},
    };
    enum route_id rt = RT_NOT_FOUND;
    if (!strcmp(path, "/healthz") || !strcmp(path, "/v1/healthz"))
        rt = RT_HEALTHZ;
    else if (!strcmp(path, "/metrics"))
        rt = RT_METRICS;
    else if (!strcmp(path, "/openapi.json") || !strcmp(path, "/v1/openapi.json"))
        rt = RT_OPENAPI;
    else if (!strcmp(path, "/v1/events"))
        rt = RT_EVENTS;
    else if (!strcmp(path, "/v1/metrics"))
        rt = RT_METRICS_API;
    else if (!strcmp(path, "/v1/benchmarks/compare"))
        rt = RT_BENCH;
    else if (!strcmp(path, "/v1/clv/fit"))
        rt = RT_CLV_FIT;
    else if (!strcmp(path, "/v1/clv/model"))
        rt = RT_CLV_MODEL;
    else if (!strcmp(path, "/v1/clv/predict"))
        rt = RT_CLV_PREDICT;
    else if (!strcmp(path, "/v1/churn/at-risk"))
        rt = RT_AT_RISK;
    else if (!strcmp(path, "/v1/churn/drivers"))
        rt = RT_DRIVERS;
    else if (!strcmp(path, "/v1/text/sentiment"))
        rt = strcmp(method, "POST") ? RT_SENTIMENT : RT_SENTIMENT_POST;
    else if (!strcmp(path, "/v1/text/themes"))
        rt = RT_THEMES;
    else if (!strcmp(path, "/v1/text/emerging"))
        rt = RT_EMERGING;
    else if (!strcmp(path, "/v1/text/taxonomy"))
        rt = strcmp(method, "PUT") ? RT_TAXONOMY : RT_TAXONOMY_PUT;
    else if (!strcmp(path, "/v1/feedback"))
        rt = RT_FEEDBACK;
    else if (!strcmp(path, "/v1/text/train"))
        rt = RT_TRAIN;
    else if (!strncmp(path, "/v1/journeys/", 13) && path[13] && !strchr(path + 13, '/'))
        rt = RT_JOURNEYS;
    else if (customer_path(path, "/journey", id))
        rt = RT_CUST_JOURNEY;
    else if (!strcmp(path, "/v1/segments"))
        rt = strcmp(method, "POST") ? RT_SEGMENTS : RT_SEGMENT_NEW;
    else if (!strcmp(path, "/v1/segments/preview") && !strcmp(method, "POST"))
        rt = RT_SEG_PREVIEW;
    else if (!strncmp(path, "/v1/segments/", 13) && path[13] && !strchr(path + 13, '/'))
        rt = !strcmp(method, "PUT") ? RT_SEGMENT_PUT
             : !strcmp(method, "DELETE") ? RT_SEGMENT_DEL : RT_SEGMENT;
    else if (!strncmp(path, "/v1/segments/", 13) && path[13] != '/' &&
             strchr(path + 13, '/') && !strcmp(strchr(path + 13, '/'), "/members"))
        rt = RT_SEG_MEMBERS;
    else if (!strcmp(path, "/v1/actions"))
        rt = strcmp(method, "PUT") ? RT_ACTIONS : RT_ACTIONS_PUT;
    else if (!strcmp(path, "/v1/contact-policy"))
        rt = strcmp(method, "PUT") ? RT_POLICY : RT_POLICY_PUT;
    else if (!strcmp(path, "/v1/recommendations/settings"))
        rt = strcmp(method, "PUT") ? RT_REC_SETTINGS : RT_REC_SETTINGS_PUT;
    else if (!strcmp(path, "/v1/features"))
        rt = RT_FEATURES;
    else if (!strcmp(path, "/v1/decisions/uplift"))
        rt = RT_UPLIFT;
    else if (!strcmp(path, "/v1/decide"))
        rt = RT_DECIDE;
    else if (!strcmp(path, "/v1/contacts"))
        rt = RT_CONTACTS;
    else if (!strcmp(path, "/v1/alert-rules"))
        rt = strcmp(method, "PUT") ? RT_ALERT_RULES : RT_ALERT_RULES_PUT;
    else if (!strcmp(path, "/v1/cases"))
        rt = strcmp(method, "POST") ? RT_CASES : RT_CASE_NEW;
    else if (id_path(path, "/v1/cases/", "", id))
        rt = strcmp(method, "PATCH") ? RT_CASE : RT_CASE_PATCH;
    else if (!strcmp(path, "/v1/webhooks"))
        rt = strcmp(method, "POST") ? RT_WEBHOOKS : RT_WEBHOOK_NEW;
    else if (name_path(path, "/v1/webhooks/", ""))
        rt = !strcmp(method, "PATCH") ? RT_WEBHOOK_PATCH
             : !strcmp(method, "DELETE") ? RT_WEBHOOK_DEL : RT_WEBHOOK;
    else if (name_path(path, "/v1/webhooks/", "/deliveries"))
        rt = RT_WH_DELIVERIES;
    else if (name_path(path, "/v1/webhooks/", "/replay"))
        rt = RT_WH_REPLAY;
    else if (!strcmp(path, "/v1/settings/email"))
        rt = strcmp(method, "PUT") ? RT_EMAIL : RT_EMAIL_PUT;
    else if (!strcmp(path, "/v1/employees"))
        rt = strcmp(method, "POST") ? RT_EMPLOYEES : RT_EMPLOYEES_POST;
    else if (!strcmp(path, "/v1/team/performance"))
        rt = RT_TEAM_PERF;
    else if (!strcmp(path, "/v1/team/recognition"))
        rt = RT_TEAM_RECOG;
    else if (!strcmp(path, "/v1/team/enps"))
        rt = RT_TEAM_ENPS;
    else if (!strcmp(path, "/v1/surveys"))
        rt = strcmp(method, "POST") ? RT_SURVEYS : RT_SURVEY_NEW;
    else if (survey_path(path, ""))
        rt = strcmp(method, "PUT") ? RT_SURVEY : RT_SURVEY_PUT;
    else if (survey_path(path, "/results"))
        rt = RT_SURVEY_RESULTS;
    else if (survey_path(path, "/invitations"))
        rt = RT_SURVEY_INVITE;
    else if (!strcmp(path, "/v1/settings/surveys"))
        rt = strcmp(method, "PUT") ? RT_SURVEY_SETTINGS : RT_SURVEY_SETTINGS_PUT;
    else if (!strcmp(path, "/s/widget.js"))
        rt = RT_S_WIDGET_JS;
    else if (!strcmp(path, "/v1/session"))
        rt = !strcmp(method, "POST") ? RT_SESSION_NEW
             : !strcmp(method, "DELETE") ? RT_SESSION_DEL : RT_SESSION;
    else if (!strcmp(path, "/v1/dimensions"))
        rt = RT_DIMENSIONS;
    else if (!strcmp(path, "/v1/keys"))
        rt = strcmp(method, "POST") ? RT_KEYS : RT_KEY_NEW;
    else if (name_path(path, "/v1/keys/", ""))
        rt = RT_KEY_DEL;
    else if (!strcmp(path, "/") || !strncmp(path, "/app/", 5) || !strncmp(path, "/vendor/", 8))
        rt = RT_DASH;
    else if (!strncmp(path, "/s/open/", 8) && path[8] && !strchr(path + 8, '/'))
        rt = strcmp(method, "POST") ? RT_S_OPEN : RT_S_OPEN_POST;
    else if (!strncmp(path, "/s/", 3) && !strchr(path + 3, '/'))
        rt = strcmp(method, "POST") ? RT_S_PAGE : RT_S_ANSWER;
    else if (name_path(path, "/v1/public/surveys/", "/answers"))
        rt = strcmp(method, "OPTIONS") ? RT_S_WIDGET : RT_S_PREFLIGHT;
    else if (customer_path(path, "/recommendations", id))
        rt = RT_RECS;
    else if (!strncmp(path, "/v1/items/", 10) && path[10] && strlen(path) > 18 &&
             !strcmp(path + strlen(path) - 8, "/similar") &&
             !memchr(path + 10, '/', strlen(path) - 18))
        rt = RT_SIMILAR;
    else if (!strcmp(path, "/v1/customers"))
        rt = RT_CUSTOMERS;
    else if (customer_path(path, "", id))
        rt = RT_CUSTOMER;
    else if (customer_path(path, "/timeline", id))
        rt = RT_TIMELINE;
    else if (customer_path(path, "/unmerge", id))
        rt = RT_UNMERGE;
    else if (customer_path(path, "/export", id))
        rt = RT_EXPORT;
    *rule = rules[rt];
    return rt;
}

static void dispatch(struct req *r)
{
    uint32_t id = 0;
    struct route_rule rule;
    r->route = route_of(r->method, r->path, &id, &rule);
    if (r->route == RT_NOT_FOUND) {
        reply_error(r, 404, "not_found", "no such route", -1, NULL);
        return;
    }
    if (strcmp(r->method, rule.method) != 0 &&
        !(strcmp(r->method, "HEAD") == 0 && strcmp(rule.method, "GET") == 0)) {
        char msg[64];
        snprintf(msg, sizeof msg, "use %s on this route", rule.method);
        reply_error(r, 405, "method_not_allowed", msg, -1, NULL);
        return;
    }
    if (rule.roles) {
        /* a key, or the dashboard's session cookie (with its CSRF token) */
        const char *auth = req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
        enum auth_result sa = AUTH_NONE;
        if (!auth && (sa = session_auth(r, &r->role, r->key_hash)) == AUTH_REPLIED)
            return;
        if (sa == AUTH_NONE && (!auth || strncmp(auth, "Bearer ", 7) != 0)) {
            reply_error(r, 401, "unauthorized",
                        "send Authorization: Bearer <API key>", -1, NULL);
            return;
        }
        if (sa == AUTH_NONE)
            r->role = engine_auth_key(r->eng, auth + 7, r->key_hash);
        if (r->role == ROLE_NONE) {
            reply_error(r, 401, "unauthorized", "unknown API key", -1, NULL);
            return;
        }
        if (!(rule.roles & R(r->role))) {
            char msg[96];
            snprintf(msg, sizeof msg, "the %s role may not use this route",
                     role_name(r->role));
            reply_error(r, 403, "forbidden", msg, -1, NULL);
            return;
        }
    }
    /* the survey page answers an oversized form with a page, not JSON */
    if (r->too_big && r->route != RT_S_ANSWER) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body is over the %zu byte limit", r->max);
        reply_error(r, 413, "too_big", msg, -1, NULL);
        return;
    }
    switch ((enum route_id)r->route) {
    case RT_HEALTHZ: api_healthz(r); break;
    case RT_METRICS: api_metrics(r); break;
    case RT_OPENAPI: api_openapi(r); break;
    case RT_EVENTS: api_events_post(r); break;
    case RT_CUSTOMERS: api_customer_search(r); break;
    case RT_CUSTOMER: api_customer_get(r, id); break;
    case RT_TIMELINE: api_customer_timeline(r, id); break;
    case RT_UNMERGE: api_customer_unmerge(r, id); break;
    case RT_EXPORT: api_customer_export(r, id); break;
    case RT_METRICS_API: api_metrics_report(r); break;
    case RT_BENCH: api_benchmarks_compare(r); break;
    case RT_CLV_FIT: api_clv_fit(r); break;
    case RT_CLV_MODEL: api_clv_model(r); break;
    case RT_CLV_PREDICT: api_clv_predict(r); break;
    case RT_AT_RISK: api_churn_at_risk(r); break;
    case RT_DRIVERS: api_churn_drivers(r); break;
    case RT_SENTIMENT:
    case RT_SENTIMENT_POST: api_text_sentiment(r); break;
    case RT_THEMES: api_text_themes(r); break;
    case RT_EMERGING: api_text_emerging(r); break;
    case RT_TAXONOMY:
    case RT_TAXONOMY_PUT: api_text_taxonomy(r); break;
    case RT_FEEDBACK: api_feedback_list(r); break;
    case RT_TRAIN: api_text_train(r); break;
    case RT_JOURNEYS: api_journeys(r, r->path + 13); break;
    case RT_CUST_JOURNEY: api_customer_journey(r, id); break;
    case RT_SEGMENTS:
    case RT_SEGMENT_NEW: api_segments(r); break;
    case RT_SEGMENT:
    case RT_SEGMENT_PUT:
    case RT_SEGMENT_DEL: api_segment(r); break;
    case RT_SEG_MEMBERS: api_segment_members(r); break;
    case RT_SEG_PREVIEW: api_segment_preview(r); break;
    case RT_ACTIONS:
    case RT_ACTIONS_PUT: api_actions(r); break;
    case RT_POLICY:
    case RT_POLICY_PUT: api_policy(r); break;
    case RT_DECIDE: api_decide(r); break;
    case RT_CONTACTS: api_contacts(r); break;
    case RT_RECS: api_recommendations(r, id); break;
    case RT_SIMILAR: api_similar(r); break;
    case RT_REC_SETTINGS:
    case RT_REC_SETTINGS_PUT: api_rec_settings(r); break;
    case RT_UPLIFT: api_uplift(r); break;
    case RT_FEATURES: api_features(r); break;
    case RT_ALERT_RULES:
    case RT_ALERT_RULES_PUT: api_alert_rules(r); break;
    case RT_CASES:
    case RT_CASE_NEW: api_cases(r); break;
    case RT_CASE:
    case RT_CASE_PATCH: api_case(r, id); break;
    case RT_WEBHOOKS:
    case RT_WEBHOOK_NEW: api_webhooks(r); break;
    case RT_WEBHOOK:
    case RT_WEBHOOK_PATCH:
    case RT_WEBHOOK_DEL: api_webhook(r); break;
    case RT_WH_DELIVERIES: api_webhook_deliveries(r); break;
    case RT_WH_REPLAY: api_webhook_replay(r); break;
    case RT_EMAIL:
    case RT_EMAIL_PUT: api_email_settings(r); break;
    case RT_EMPLOYEES: api_employees(r); break;
    case RT_EMPLOYEES_POST: api_employees_post(r); break;
    case RT_TEAM_PERF: api_team_performance(r); break;
    case RT_TEAM_RECOG: api_team_recognition(r); break;
    case RT_TEAM_ENPS: api_team_enps(r); break;
    case RT_SURVEYS:
    case RT_SURVEY_NEW: api_surveys(r); break;
    case RT_SURVEY:
    case RT_SURVEY_PUT: api_survey(r); break;
    case RT_SURVEY_RESULTS: api_survey_results(r); break;
    case RT_SURVEY_INVITE: api_survey_invite(r); break;
    case RT_SURVEY_SETTINGS:
    case RT_SURVEY_SETTINGS_PUT: api_survey_settings(r); break;
    case RT_S_PAGE: api_survey_page(r); break;
    case RT_S_ANSWER: api_survey_page_post(r); break;
    case RT_S_OPEN:
    case RT_S_OPEN_POST: api_survey_open(r); break;
    case RT_SESSION: api_session_get(r); break;
    case RT_SESSION_NEW: api_session_new(r); break;
    case RT_SESSION_DEL: api_session_delete(r); break;
    case RT_KEYS:
    case RT_KEY_NEW: api_keys(r); break;
    case RT_KEY_DEL: api_key_delete(r); break;
    case RT_DIMENSIONS: api_dimensions(r); break;
    case RT_DASH: api_dashboard_asset(r); break;
    case RT_S_WIDGET_JS: api_survey_widget_js(r); break;
    case RT_S_PREFLIGHT:
    case RT_S_WIDGET: api_survey_widget(r); break;
    default: reply_error(r, 404, "not_found", "no such route", -1, NULL); break;
    }
}

bool reply_header(struct req *r, const char *name, const char *value)
{
    if (r->nhdr == REQ_MAX_HEADERS)
        return false;
    char *v = arena_strndup(&r->arena, value, strlen(value));
    if (!v)
        return false;
    r->hdr_name[r->nhdr] = name;
    r->hdr_value[r->nhdr++] = v;
    return true;
}

struct ratelimit *server_limiter(struct server *s, enum server_limit which)
{
    return s->limit[which];
}

/* The body limit of a route: the public ones take small bodies only. */
static size_t body_max(const char *url, size_t max)
{
    size_t lim = !strncmp(url, "/s/", 3) ? CXM_MAX_SURVEY_FORM
                 : !strncmp(url, "/v1/public/", 11) ? CXM_MAX_WIDGET_BODY : max;
    return lim < max ? lim : max;
}

static enum MHD_Result send_reply(struct req *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    r->resp = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->ctype ? r->ctype : "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    bool cache_set = false;
    for (size_t i = 0; i < r->nhdr; i++) {
        MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
        cache_set |= !strcasecmp(r->hdr_name[i], MHD_HTTP_HEADER_CACHE_CONTROL);
    }
    if (!cache_set)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct server *s = cls;
    struct req *r = *con_cls;
    (void)version;
    if (!r) {
        if (!(r = cxm_calloc(1, sizeof *r)))
            return MHD_NO;
        r->srv = s;
        r->eng = s->eng;
        r->conn = conn;
        r->method = method;
        r->max = body_max(url, s->o->max_body);
        r->t0 = cxm_seconds();
        if (!(r->path = cxm_strdup(url))) {
            free(r);
            return MHD_NO;
        }
        *con_cls = r;
        /* Refuse an announced oversized body before reading it. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t n;
        if (cl && cxm_parse_i64(cl, &n) && n > 0 && (uint64_t)n > r->max) {
            r->too_big = true;
            dispatch(r);
            if (r->state == RS_DONE)
                return send_reply(r);
        } else if (cl && cxm_parse_i64(cl, &n) && n > 0 &&
                   cxm_grow((void **)&r->body, &r->cap, (size_t)n + 1, 1)) {
            return MHD_NO;   /* the announced body in one allocation, no copies */
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_big) {
            size_t need;
            if (!cxm_add_size(r->len, *upload_size, &need) || need > r->max) {
                r->too_big = true;
                free(r->body);
                r->body = NULL;
                r->len = r->cap = 0;
            } else if (cxm_grow((void **)&r->body, &r->cap, need + 1, 1)) {
                return MHD_NO;
            } else {
                memcpy(r->body + r->len, upload, *upload_size);
                r->len = need;
                r->body[r->len] = '\0';
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->state == RS_NEW)
        dispatch(r);
    if (r->state == RS_WAITING)
        return MHD_YES;
    return send_reply(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct req *r = *con_cls;
    (void)conn;
    (void)toe;
    if (!r)
        return;
    double dt = cxm_seconds() - r->t0;
    unsigned cls_i = r->status / 100 <= 5 ? r->status / 100 : 5;
    atomic_fetch_add(&s->count[r->route][cls_i], 1);
    size_t b = 0;
    while (b < NBUCKETS && dt > buckets[b])
        b++;
    atomic_fetch_add(&s->hist[r->route][b], 1);
    atomic_fetch_add(&s->usec_sum[r->route], (unsigned long long)(dt * 1e6));
    free(r->path);
    free(r->body);
    free(r->resp);
    free(r->work.ev);
    arena_free(&r->arena);
    json_decref(r->batch);
    free(r);
    *con_cls = NULL;
}

void server_metrics(struct server *s, struct buf *b)
{
    buf_printf(b, "# HELP cxm_http_requests_total HTTP requests by route and"
               " status class.\n# TYPE cxm_http_requests_total counter\n");
    for (int rt = 0; rt < RT_COUNT; rt++)
        for (int c = 1; c <= 5; c++) {
            unsigned long long n = atomic_load(&s->count[rt][c]);
            if (n)
                buf_printf(b, "cxm_http_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n",
                           route_names[rt], c, n);
        }
    buf_printf(b, "# HELP cxm_http_request_duration_seconds Time from the first"
               " byte of a request to its response.\n"
               "# TYPE cxm_http_request_duration_seconds histogram\n");
    for (int rt = 0; rt < RT_COUNT; rt++) {
        unsigned long long cum = 0;
        for (size_t k = 0; k <= NBUCKETS; k++)
            cum += atomic_load(&s->hist[rt][k]);
        if (!cum)
            continue;
        cum = 0;
        for (size_t k = 0; k < NBUCKETS; k++) {
            cum += atomic_load(&s->hist[rt][k]);
            buf_printf(b, "cxm_http_request_duration_seconds_bucket{route=\"%s\","
                       "le=\"%g\"} %llu\n", route_names[rt], buckets[k], cum);
        }
        cum += atomic_load(&s->hist[rt][NBUCKETS]);
        buf_printf(b, "cxm_http_request_duration_seconds_bucket{route=\"%s\","
                   "le=\"+Inf\"} %llu\n", route_names[rt], cum);
        buf_printf(b, "cxm_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                   route_names[rt], (double)atomic_load(&s->usec_sum[rt]) / 1e6);
        buf_printf(b, "cxm_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                   route_names[rt], cum);
    }
}

static int parse_listen(const char *spec, struct sockaddr_storage *ss,
                        socklen_t *len, struct cxm_err *err)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host)
        return cxm_err_set(err, CXM_EINVAL, "--listen wants host:port, got '%s'", spec);
    const char *h = spec;
    size_t hl = (size_t)(colon - spec);
    if (*h == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    int64_t port;
    if (!cxm_parse_i64(colon + 1, &port) || port < 0 || port > 65535)
        return cxm_err_set(err, CXM_EINVAL, "bad port in --listen '%s'", spec);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, colon + 1, &hints, &ai);
    if (g != 0 || !ai)
        return cxm_err_set(err, CXM_EINVAL, "cannot resolve '%s': %s", host,
                           gai_strerror(g));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return CXM_OK;
}

void server_block_signals(void)
{
    /* Signals go to the thread that waits for them, not to workers. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void server_free(struct server *s)
{
    for (size_t i = 0; i < LIMIT_COUNT; i++)
        ratelimit_free(s->limit[i]);
    sessions_free(s->sess);
    free(s);
}

int server_run(struct engine *e, const struct server_opts *o, struct cxm_err *err)
{
    struct server *s = cxm_calloc(1, sizeof *s);
    if (!s)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    s->limit[LIMIT_SURVEY_PAGE] = ratelimit_new(CXM_PAGE_PER_MINUTE, CXM_PAGE_BURST);
    s->limit[LIMIT_WIDGET] = ratelimit_new(CXM_WIDGET_PER_MINUTE, CXM_WIDGET_BURST);
    s->sess = sessions_new();
    if (!s->limit[LIMIT_SURVEY_PAGE] || !s->limit[LIMIT_WIDGET] || !s->sess) {
        server_free(s);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    s->eng = e;
    s->o = o;
    struct sockaddr_storage ss;
    socklen_t sl;
    int rc = parse_listen(o->listen, &ss, &sl, err);
    if (rc) {
        server_free(s);
        return rc;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    server_block_signals();

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads ? o->threads : 4),
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                            MHD_OPTION_END);
    if (!s->d) {
        server_free(s);
        return cxm_err_set(err, CXM_EIO, "cannot listen on %s (in use? not"
                           " permitted?)", o->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    char host[256];
    const char *colon = strrchr(o->listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - o->listen), o->listen);
    printf("cxm: listening on http://%s:%u\n", host, port);
    fflush(stdout);
    log_msg(LOG_INFO, "listening on %s:%u with %u threads", host, port,
            o->threads ? o->threads : 4);
    const char *web = getenv("CXM_WEB_DIR");
    if (web && *web)
        log_msg(LOG_INFO, "the dashboard's /app/ files come from CXM_WEB_DIR (development)");

    int sig = 0;
    sigwait(&set, &sig);
    log_msg(LOG_INFO, "signal %d: finishing acknowledged work", sig);
    atomic_store(&s->stopping, true);
    MHD_quiesce_daemon(s->d);
    /* Suspended requests finish when their commit does; the daemon must
     * outlive them (the writer resumes their connections). */
    for (int i = 1; atomic_load(&s->inflight) > 0; i++) {
        usleep(10000);
        if (i % 500 == 0)
            log_msg(LOG_WARN, "shutdown: %d writes still committing",
                    atomic_load(&s->inflight));
    }
    MHD_stop_daemon(s->d);
    server_free(s);
    log_msg(LOG_INFO, "stopped");
    return CXM_OK;
}
