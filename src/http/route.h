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
    char key_hash[KEY_HASH_LEN];   /* of the key or the session's key; "" when none */
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

/* api_util.c: what the handlers share to read a request and answer it.
 * A bool reader returns false after replying (400 naming the argument or
 * member, unless said otherwise); strings it gives point into the request
 * or into the JSON object read, borrowed as long as they are. */
/* Replies 400 invalid with the printf message, naming field (NULL: none). */
void reply_invalid(struct req *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replies the engine's answer: doc (stolen) with status when rc is 0, else
 * the error in err. */
void reply_answer(struct req *r, unsigned status, int rc, json_t *doc,
                  const struct cxm_err *err);
/* A JSON document the engine keeps (settings, rules): GET answers the one
 * in use; PUT checks and replaces it with the body (UTF-8, not empty),
 * then answers it. */
void reply_document(struct req *r, int (*get)(struct engine *, json_t **, struct cxm_err *),
                    int (*set)(struct engine *, const char *, size_t, struct cxm_err *));
/* The path segment after prefix, up to the next '/', into buf; false
 * after replying 404 not_found with the message not_found when it is
 * empty or does not fit in sz. */
bool req_path_id(struct req *r, const char *prefix, const char *not_found, char *buf,
                 size_t sz);
/* Query argument name; NULL when absent or empty. */
const char *req_str_arg(struct req *r, const char *name);
/* Query argument name into *out (NULL when absent or empty); it must be
 * one of ok[0..n), which usage names in the 400. */
bool req_choice_arg(struct req *r, const char *name, const char *const *ok, size_t n,
                    const char *usage, const char **out);
/* Query arguments from and to, UTC bounds as report_parse_bound reads them
 * (a date's to is the end of that day), into *from and *to: 0 and
 * INT64_MAX when absent. The 400 is report_parse_bound's error. */
bool req_range_args(struct req *r, int64_t *from, int64_t *to);
/* The body as a JSON object, a new reference; NULL after replying 400:
 * invalid "send WHAT as a JSON object" when there is no body, invalid_json
 * (line, column) when it is not well-formed, invalid "WHAT must be a JSON
 * object" for another value. */
json_t *req_body_object(struct req *r, const char *what);
/* Refuses the first member of o that is not in names[0..n). */
bool req_only_members(struct req *r, json_t *o, const char *const *names, size_t n);
/* Member name of o as a string without NUL into *out, NULL when absent or
 * null; "NAME must be a string" otherwise. */
bool req_str_member(struct req *r, json_t *o, const char *name, const char **out);
/* As req_str_member, refusing "" too: "NAME must be a non-empty string". */
bool req_nonempty_member(struct req *r, json_t *o, const char *name, const char **out);

/* Handlers (api_*.c). */
void api_events_post(struct req *r);
/* POST /v1/employees: employee records (type filled in). */
void api_employees_post(struct req *r);
/* GET and POST /s/open/{survey}: a survey's open link (public). */
void api_survey_open(struct req *r);
void api_work_done(struct req *r);   /* formats the result of engine work */
void api_customer_get(struct req *r, uint32_t id);
void api_customer_search(struct req *r);
void api_customer_timeline(struct req *r, uint32_t id);
void api_customer_unmerge(struct req *r, uint32_t id);
void api_customer_export(struct req *r, uint32_t id);
void api_metrics_report(struct req *r);
void api_dimensions(struct req *r);       /* GET /v1/dimensions */
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
/* Takes one from the client address's allowance of which; false after
 * setting Retry-After (the caller replies 429). */
bool req_rate_ok(struct req *r, enum server_limit which);

/* Dashboard sessions (api_session.c; the table in http/session.h). */
struct sessions;
struct sessions *server_sessions(struct server *s);
enum auth_result { AUTH_NONE, AUTH_OK, AUTH_REPLIED };
/* The request's session cookie: its role, the CSRF token checked on a
 * state-changing method (403 csrf replied: AUTH_REPLIED). */
enum auth_result session_auth(struct req *r, enum role *role, char key_hash[KEY_HASH_LEN]);
void api_session_new(struct req *r);      /* POST /v1/session */
void api_session_get(struct req *r);      /* GET /v1/session */
void api_session_delete(struct req *r);   /* DELETE /v1/session */
void api_keys(struct req *r);             /* GET, POST /v1/keys */
void api_key_delete(struct req *r);       /* DELETE /v1/keys/{id} */
/* GET /, /app/..., /vendor/...: the dashboard's files (api_dashboard.c). */
void api_dashboard_asset(struct req *r);

#endif
