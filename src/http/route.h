/* route.h - what server.c shares with the api_*.c handlers: the request,
 * reply helpers and the handler table. Handlers parse and validate, call
 * the engine and format; nothing else. */
#ifndef CXM_ROUTE_H
#define CXM_ROUTE_H

#include <jansson.h>
#include <microhttpd.h>

#include "core/arena.h"
#include "engine/engine.h"

struct server;

enum req_state { RS_NEW, RS_WAITING, RS_DONE };

/* Response headers a handler adds (reply_header). */
#define REQ_MAX_HEADERS 8

struct req {
    struct server *srv;
    struct engine *eng;
    struct MHD_Connection *conn;
    const char *method;
    char *path;               /* decoded path, no query */
    enum role role;
    int route;
    char *body;
    size_t len, cap, max;
    bool too_big;
    enum req_state state;
    struct engine_work work;
    struct arena arena;
    json_t *batch;            /* keeps decoded events' strings alive */
    unsigned status;
    char *resp;               /* malloc'd body */
    size_t resp_len;
    const char *ctype;
    double t0;
    const char *hdr_name[REQ_MAX_HEADERS];   /* static strings */
    char *hdr_value[REQ_MAX_HEADERS];        /* in arena */
    size_t nhdr;
};

/* Replies with a JSON document (stolen). */
void reply_json(struct req *r, unsigned status, json_t *doc);
/* Replies {"error":{...}} with the status that fits err->code. */
void reply_err(struct req *r, const struct cxm_err *err);
void reply_error(struct req *r, unsigned status, const char *code,
                 const char *msg, long index, const char *field);
void reply_text(struct req *r, unsigned status, const char *ctype, char *body,
                size_t len);   /* body is malloc'd and stolen */
unsigned status_of(int rc);
const char *req_arg(struct req *r, const char *name);
/* The whole-number query argument name in [lo, hi] into *out (def when
 * absent or empty); false after replying 400 naming it. */
bool req_int_arg(struct req *r, const char *name, long lo, long hi, long def, long *out);
const char *req_header(struct req *r, const char *name);
/* Adds a response header: name is a static string, value is copied. A
 * Cache-Control given here replaces the default no-store. false (header
 * not sent) on OOM or past REQ_MAX_HEADERS. */
bool reply_header(struct req *r, const char *name, const char *value);
/* Starts async engine work: the request is answered when it is done. */
void req_submit(struct req *r);

/* Handlers (api_*.c). */
void api_events_post(struct req *r);
/* POST /v1/employees: employee records (type filled in). */
void api_employees_post(struct req *r);
void api_work_done(struct req *r);   /* formats the result of engine work */
void api_customer_get(struct req *r, uint32_t id);
void api_customer_search(struct req *r);
void api_customer_timeline(struct req *r, uint32_t id);
void api_customer_unmerge(struct req *r, uint32_t id);
void api_customer_export(struct req *r, uint32_t id);
void api_metrics_report(struct req *r);
void api_benchmarks_compare(struct req *r);
void api_clv_fit(struct req *r);
void api_clv_model(struct req *r);
void api_clv_predict(struct req *r);
void api_churn_at_risk(struct req *r);
void api_churn_drivers(struct req *r);
void api_text_sentiment(struct req *r);
void api_text_themes(struct req *r);
void api_text_emerging(struct req *r);
void api_text_taxonomy(struct req *r);
void api_feedback_list(struct req *r);
void api_text_train(struct req *r);
void api_journeys(struct req *r, const char *view);
void api_customer_journey(struct req *r, uint32_t id);
void api_segments(struct req *r);
void api_segment(struct req *r);
void api_segment_members(struct req *r);
void api_segment_preview(struct req *r);
void api_features(struct req *r);
void api_actions(struct req *r);
void api_policy(struct req *r);
void api_decide(struct req *r);
void api_contacts(struct req *r);
void api_recommendations(struct req *r, uint32_t id);
void api_similar(struct req *r);
void api_rec_settings(struct req *r);
void api_uplift(struct req *r);
/* api_loop.c: the closed loop and the employee side */
void api_alert_rules(struct req *r);
void api_email_settings(struct req *r);
void api_cases(struct req *r);
void api_case(struct req *r, uint32_t id);
void api_webhooks(struct req *r);
void api_webhook(struct req *r);
void api_webhook_deliveries(struct req *r);
void api_webhook_replay(struct req *r);
void api_employees(struct req *r);
void api_team_performance(struct req *r);
void api_team_recognition(struct req *r);
void api_team_enps(struct req *r);
/* api_survey.c: surveys for the people who run them */
void api_surveys(struct req *r);
void api_survey(struct req *r);
void api_survey_results(struct req *r);
void api_survey_invite(struct req *r);
void api_survey_settings(struct req *r);
/* api_survey_public.c: the respondents' side, no API key */
void api_survey_page(struct req *r);        /* GET /s/{token} */
void api_survey_page_post(struct req *r);   /* POST /s/{token} */
void api_survey_widget_js(struct req *r);   /* GET /s/widget.js */
void api_survey_widget(struct req *r);      /* OPTIONS|POST /v1/public/surveys/{id}/answers */
void api_healthz(struct req *r);
void api_metrics(struct req *r);
void api_openapi(struct req *r);
/* Appends the HTTP part of the metrics text (server.c). */
struct buf;
void server_metrics(struct server *s, struct buf *b);
/* The server's rate limiters of the public routes (http/ratelimit.h). */
enum server_limit { LIMIT_SURVEY_PAGE, LIMIT_WIDGET, LIMIT_COUNT };
struct ratelimit *server_limiter(struct server *s, enum server_limit which);

#endif
