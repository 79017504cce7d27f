/* engine.h - the engine: owns the in-memory model and the single writer
 * that commits changes to the store (group commit) before applying them.
 * Reads are answered from memory under a read lock. Never speaks SQL or
 * HTTP. Thread-safe: every function may be called from any thread. */
#ifndef CXM_ENGINE_H
#define CXM_ENGINE_H

#include <jansson.h>

#include "common.h"
#include "core/buf.h"
#include "engine/event.h"
#include "store/store.h"

struct engine;

struct engine_opts {
    enum store_sync sync;        /* default STORE_SYNC_FULL */
    bool lock;                   /* take the database's writer lock (serve,
                                    import, demo); see docs/operations.md */
    bool no_text;                /* store texts unscored (measuring only) */
};

/* Opens the store at db and replays it into memory. */
int engine_open(const char *db, const struct engine_opts *o, struct engine **out,
                struct cxm_err *err);
/* Stops the writer after the work already submitted; accepts NULL. */
void engine_close(struct engine *e);

enum engine_op { ENGINE_INGEST = 1, ENGINE_UNMERGE, ENGINE_BENCHMARKS, ENGINE_CLV,
                 ENGINE_TAXONOMY, ENGINE_TEXT_MODEL, ENGINE_SEGMENT, ENGINE_REFRESH,
                 ENGINE_CONFIG, ENGINE_CONTACT, ENGINE_DECISIONS, ENGINE_LOOP };

/* A segment definition (docs/personalisation.md). */
struct segment_def {
    const char *id, *name, *rule, *description;
};
enum segment_mode { SEG_CREATE = 1, SEG_UPDATE, SEG_DELETE };

/* One unit of write work. The submitter owns it and what it points to
 * until done is called (from the writer thread). */
struct engine_work {
    enum engine_op op;
    struct event *ev;            /* INGEST: events[0..n) */
    size_t n;
    uint32_t customer;           /* UNMERGE: the merged-away customer */
    const struct store_benchmark *bench;   /* BENCHMARKS: bench[0..n) */
    const struct store_clv_model *clv;     /* CLV: the fitted model */
    const char *taxonomy;                  /* TAXONOMY: its JSON */
    const void *blob;                      /* TEXT_MODEL: the model, its report */
    size_t blob_len;
    const char *report;
    const struct segment_def *seg;         /* SEGMENT: the definition */
    enum segment_mode seg_mode;
    const char *config_name;               /* CONFIG: which document, its */
    const void *config;                    /* parsed form (owned by the engine
                                              once done with rc 0) */
    const struct contact_req *contact;     /* CONTACT: contact[0..n) */
    void *decisions;                       /* DECISIONS: a log batch */
    void *loop;                            /* LOOP: a closed-loop change
                                              (engine/loop.c) */
    /* results, valid in done */
    int rc;
    struct cxm_err err;
    size_t accepted, duplicates;
    int64_t seq;                 /* last seq of this work, or the current one */
    uint32_t parent;             /* UNMERGE: the profile it was cut from */
    void (*done)(struct engine_work *w);
    void *ctx;
    struct engine_work *next;    /* private: queue link */
    struct text_scores *scores;  /* private: the texts' scores */
    uint64_t tax_gen;            /* private: the taxonomy they used */
};

/* Queues work for the writer. CXM_EUNAVAIL when the engine is closing. */
int engine_submit(struct engine *e, struct engine_work *w);
/* Submits and waits. */
int engine_run(struct engine *e, struct engine_work *w);

/* Reads. Each fills *out with a new JSON value owned by the caller. */
int engine_customer(struct engine *e, uint32_t id, json_t **out, struct cxm_err *err);
int engine_search(struct engine *e, const char *q, size_t limit, json_t **out,
                  struct cxm_err *err);
/* cursor: NULL or the next_cursor of a previous page. */
int engine_timeline(struct engine *e, uint32_t id, const char *cursor,
                    size_t limit, json_t **out, struct cxm_err *err);
/* Profile plus the full history: the data-subject export. */
int engine_export(struct engine *e, uint32_t id, json_t **out, struct cxm_err *err);

/* A metrics report (docs/metrics.md): one metric over the feedback in
 * [from, to), filtered by where, grouped by the dimensions in by. */
struct tz;                       /* core/tz.h */
struct report_query {
    const char *metric;          /* nps, enps, csat, ces, responses, customers */
    const char *by;              /* comma-separated dimensions; NULL: none */
    const char *where;           /* filter expression; NULL: everything */
    int64_t from, to;            /* unix seconds, [from, to) */
    uint32_t customer;           /* only this customer's profile; 0: all */
    const struct tz *tz;         /* zone of days, weeks,
                                    months...; NULL: UTC */
    bool rows;                   /* read every answer through the general
                                    path even where a rollup, the fast
                                    path or the list of comments would do
                                    (tests, benchmarks) */
};
/* {"metric","by":[...],"where","from","to","seq","rows":[...]}. CXM_EINVAL
 * with err->field naming metric, by, where, from or to. */
int engine_report(struct engine *e, const struct report_query *q, json_t **out,
                  struct cxm_err *err);
/* The values reports and filters can choose from, sorted: {"channel",
 * "touchpoint", "stage": those feedback was given at; "country", "gender":
 * those of the customers; "seq"}. No personal data. */
int engine_dimensions(struct engine *e, json_t **out, struct cxm_err *err);
/* Parses a report period bound: a date (YYYY-MM-DD, the whole day in zone
 * tz, NULL: UTC) or an ISO 8601 date-time. is_to: a date then means the
 * end of that day. */
struct tz;
int report_parse_bound(const char *s, bool is_to, const struct tz *tz, int64_t *out,
                       struct cxm_err *err);
/* "UTC" or "Z" (*out NULL), a fixed offset "+02:00" / "-05:00", or a zone
 * of the tz database ("Europe/Paris", with its daylight-saving time, read
 * from /usr/share/zoneinfo) into a zone the caller frees with tz_free. */
int report_parse_tz(const char *s, struct tz **out, struct cxm_err *err);

/* Checks a benchmark row before it is submitted: a known metric, a period
 * "YYYY", "YYYY-Qn" or "YYYY-MM", a name, a finite value. */
int benchmark_check(const struct store_benchmark *b, struct cxm_err *err);
/* Our value of metric against every benchmark of it: {"metric", "rows":
 * [{"name","period","segment","value" (theirs),"ours","ours_n","gap"}]},
 * ours computed over each benchmark's period (all the data for ""). */
int engine_benchmarks_compare(struct engine *e, const char *metric, json_t **out,
                              struct cxm_err *err);

/* Customer lifetime value (docs/clv.md). Summaries count whole UTC days;
 * predictions are as of the latest order day (never before the model's
 * calibration end), so answers depend on the data, not on the clock. */
struct clv_fit_opts {
    int64_t calibration_end;     /* a day's start (unix s); 0: the latest order day */
    const char *unit;            /* day, week (NULL) or month */
};
/* Fits BG/NBD + Gamma-Gamma, stores the model (it is used until the next
 * fit) and returns the fit report. */
int engine_clv_fit(struct engine *e, const struct clv_fit_opts *o, json_t **out,
                   struct cxm_err *err);
/* The report of the model in use; CXM_ENOTFOUND before the first fit. */
int engine_clv_model(struct engine *e, json_t **out, struct cxm_err *err);
struct clv_predict_opts {
    double horizon;              /* periods of the model's unit */
    double discount;             /* annual rate, 0: none */
    size_t top;                  /* customers listed, by predicted CLV */
};
int engine_clv_predict(struct engine *e, const struct clv_predict_opts *o, json_t **out,
                       struct cxm_err *err);
/* Customers with P(alive) <= max_p_alive and a historic or if-alive value
 * >= min_value, ranked by value at risk = (1 - P(alive)) x the value they
 * would bring over the horizon if alive. Rows carry personal data. */
struct at_risk_opts {
    struct clv_predict_opts predict;
    double max_p_alive, min_value;
    size_t limit;
};
int engine_churn_at_risk(struct engine *e, const struct at_risk_opts *o, json_t **out,
                         struct cxm_err *err);
/* Churn risk by NPS category, CES, complaints and channel: n, share at
 * risk (P(alive) < 0.5) with its 95% margin, value at risk. */
int engine_churn_drivers(struct engine *e, const struct clv_predict_opts *o, json_t **out,
                         struct cxm_err *err);
/* Days of a unit name: day 1, week 7, month 30.4375; CXM_EINVAL else. */
int clv_unit_days(const char *unit, double *out);

/* Text analytics (docs/text.md). */
/* Sentiment (compound, label, pos/neu/neg), themes and aspects of one
 * text; explain adds the terms that moved the score. */
int engine_text_sentiment(struct engine *e, const char *text, size_t len, bool explain,
                          json_t **out, struct cxm_err *err);
/* Pain points: the "pain" report by theme (and q->by), ranked by pain;
 * with a bounded period and no time dimension, each row's trend against
 * the span just before. */
int engine_text_themes(struct engine *e, const struct report_query *q, json_t **out,
                       struct cxm_err *err);
struct emerging_query {
    const char *period;          /* day, week (NULL), month, quarter, year */
    int baseline;                /* periods before the current one */
    int64_t at;                  /* a time in the current period; 0: the latest comment */
    int theme;                   /* only comments of this theme; -1: all */
    bool negative;               /* only negative comments */
    bool with_text;              /* examples carry their comment */
    size_t limit;
};
/* Phrases rising in the current period against the baseline (G2). */
int engine_text_emerging(struct engine *e, const struct emerging_query *q, json_t **out,
                         struct cxm_err *err);
struct feedback_query {
    const char *search;          /* full-text search; NULL: none */
    int theme;                   /* -1: any */
    const char *label;           /* positive, negative, neutral; NULL: any */
    int64_t from, to;
    uint32_t customer;           /* 0: any */
    const char *channel, *touchpoint, *stage;   /* exact values; NULL: any */
    int64_t cursor;              /* 0: the newest */
    size_t limit;
};
/* Comments newest first with score, sentiment, themes; cursor paging. A
 * channel, touchpoint or stage the data never had matches nothing. */
int engine_feedback_list(struct engine *e, const struct feedback_query *q, json_t **out,
                         struct cxm_err *err);
/* Trains the sentiment model on the feedback that has both a comment and
 * an NPS or CSAT score (docs/text.md), and puts it in use (rescoring every
 * stored text) only when it beats the lexicon on held-back data. The
 * training report: sizes, accuracy and macro-F1 before and after, used. */
int engine_text_train(struct engine *e, json_t **out, struct cxm_err *err);
/* Index of a theme id in the taxonomy in use; -1 when unknown. */
int engine_theme_index(struct engine *e, const char *id);
/* The taxonomy in use as JSON. */
int engine_taxonomy(struct engine *e, json_t **out, struct cxm_err *err);
/* Replaces the taxonomy (checked first: CXM_EINVAL naming the field) and
 * re-themes every stored text; *n the texts re-themed. */
int engine_set_taxonomy(struct engine *e, const char *json, size_t *n, int64_t *seq,
                        struct cxm_err *err);

/* Journeys (docs/journeys.md): every profile's interactions, feedback and
 * orders in [from, to) split into episodes by gap seconds. */
struct journey_query {
    const char *view;            /* funnel, flows, paths, dropoffs, friction,
                                    conformance */
    const char *where;           /* on customer fields; NULL: everyone */
    int64_t from, to, gap;
    const char *stages;          /* funnel: comma-separated order; NULL: usual */
    const char *goal;            /* dropoffs: a stage; NULL: a purchase */
    const char *outcome;         /* friction: the ranking outcome */
    size_t top;                  /* rows of flows, paths, drop-offs */
    size_t max_len;              /* paths: touchpoints kept (default 8) */
    bool self_links;             /* flows: count A -> A */
    const char *design;          /* conformance: the designed journey, JSON */
    const char *channel;         /* flows, paths: one channel's steps only */
    const char *ended;           /* flows, paths: "purchase", "no_purchase" */
    bool scan;                   /* walk the events even where the kept episodes
                                    would answer (tests compare the two) */
    bool fresh;                  /* answer afresh even when an answer is kept for
                                    this state of the data (benchmarks) */
};
int engine_journeys(struct engine *e, const struct journey_query *q, json_t **out,
                    struct cxm_err *err);
/* Gathers every profile's events for the journey views now, so the first
 * journey query does not pay for it (serve runs it in the background at
 * start). */
void engine_journeys_warm(struct engine *e);
/* One profile's episodes: stages reached, events in order, satisfaction. */
int engine_customer_journey(struct engine *e, uint32_t id, int64_t gap, json_t **out,
                            struct cxm_err *err);

/* Segments (docs/personalisation.md): named rules over customer
 * features; memberships stay current as data arrives. */
int engine_segment_put(struct engine *e, const struct segment_def *d, enum segment_mode mode,
                       json_t **out, struct cxm_err *err);
int engine_segment_delete(struct engine *e, const char *id, struct cxm_err *err);
/* {"segments": [{id, name, rule, description, members, ...}]} */
int engine_segments(struct engine *e, json_t **out, struct cxm_err *err);
int engine_segment(struct engine *e, const char *id, json_t **out, struct cxm_err *err);
/* Members by profile id from after cursor (0: the start): {"segment",
 * "members": [{id, name, country, orders, revenue, last_nps}],
 * "next_cursor"}. */
int engine_segment_members(struct engine *e, const char *id, uint32_t cursor, size_t limit,
                           json_t **out, struct cxm_err *err);
/* The customer features rules can use: name, type, meaning. */
int engine_features(json_t **out, struct cxm_err *err);
/* Checks a rule and counts who matches it now, without saving it. */
int engine_segment_preview(struct engine *e, const char *rule, json_t **out,
                           struct cxm_err *err);
/* Next-best-action (docs/personalisation.md). The action catalogue and
 * the contact policy are JSON documents: GET returns the one in use (the
 * defaults before any PUT), PUT checks and replaces it. */
int engine_actions(struct engine *e, json_t **out, struct cxm_err *err);
int engine_set_actions(struct engine *e, const char *json, size_t len, struct cxm_err *err);
int engine_policy(struct engine *e, json_t **out, struct cxm_err *err);
int engine_set_policy(struct engine *e, const char *json, size_t len, struct cxm_err *err);

struct decide_req {
    uint32_t customer;           /* any node of the profile */
    const char *channel;         /* where the customer is now: "web", "email", ... */
    const char *context;         /* JSON object logged with the decision; NULL */
    size_t limit;                /* eligible actions returned; 0: all */
    bool log;                    /* log the decision (default on in the API) */
    bool explain;                /* reasons in words for the actions left out */
};

/* One action's verdict. */
struct decision_item {
    uint32_t action;             /* offset of its id in text */
    uint32_t name, message, subject;   /* offsets in text; 0: none */
    int kind;
    double priority, value;
    bool eligible;
    const char *rule;            /* what excluded it: "channel", "segment",
                                    "rule", "disabled" or a policy rule */
    uint32_t why;                /* offset of the reason in text */
    int64_t until;               /* policy: when it would allow; 0: n/a */
};

struct decision {
    int64_t id;                  /* logged decision id; 0: not logged */
    int64_t ts;
    uint32_t customer;           /* the profile id */
    size_t n, neligible;         /* items: eligible ranked first, then excluded */
    struct decision_item *items;
    struct buf *text;            /* strings the items point into */
};

/* Ranks the eligible actions for the customer on the channel, renders
 * their messages (escaped for the channel) and says for every other
 * action which rule excluded it. */
int engine_decide(struct engine *e, const struct decide_req *q, struct decision *out,
                  struct cxm_err *err);
const char *decision_str(const struct decision *d, uint32_t off);
/* {"decision","customer","channel","ts","actions":[...],"excluded":[...]},
 * compact JSON appended to b (CXM_ENOMEM, CXM_ETOOBIG). */
int decision_write(const struct decision *d, const char *channel, struct buf *b);
/* Without explain, left-out actions carry their rule and until only. */
void decision_free(struct decision *d);

/* A contact made (or about to be made) to a customer. */
struct contact_req {
    uint32_t customer;
    int kind;                    /* enum contact_kind; 0: the action's */
    const char *action;          /* NULL: none */
    const char *channel;
    int64_t ts;                  /* 0: now */
    int64_t decision;            /* 0: none */
    bool force;                  /* record even when the policy says no */
};
/* Records contacts atomically with a last policy check: each is refused
 * (CXM_ECONFLICT naming the rule, nothing recorded) when the policy
 * forbids it now, unless force. Checked as a batch, all or nothing. */
int engine_contacts(struct engine *e, const struct contact_req *c, size_t n, int64_t *seq,
                    struct cxm_err *err);

/* Recommendations (docs/personalisation.md): items for a customer, each
 * with its reason, and items bought with an item. The model is built from
 * the orders on first use and again when orders arrived and it is older
 * than the refresh interval (60 s by default). */
int engine_recommendations(struct engine *e, uint32_t customer, size_t n, json_t **out,
                           struct cxm_err *err);
int engine_similar(struct engine *e, const char *sku, size_t n, json_t **out,
                   struct cxm_err *err);
/* Categories whose items are bought again (groceries, ink): recommended
 * even when the customer has them. GET/PUT {"consumable_categories": [...],
 * "refresh_seconds": 60}. */
int engine_rec_settings(struct engine *e, json_t **out, struct cxm_err *err);
int engine_set_rec_settings(struct engine *e, const char *json, size_t len,
                            struct cxm_err *err);

/* What the decision log says of an action (docs/personalisation.md): the
 * customers it was proposed to in [from, to) (their first such decision),
 * split by whether a contact of its kind followed within 7 days, and the
 * share of each group that ordered within `days` after the decision.
 * Observational: who was contacted was not chosen at random. */
struct uplift_query {
    const char *action;
    int64_t from, to;
    int days;                    /* outcome window, 1-365 */
};
int engine_uplift(struct engine *e, const struct uplift_query *q, json_t **out,
                  struct cxm_err *err);

/* The closed loop (docs/closed-loop.md). Alert rules turn incoming
 * feedback and interactions into cases with SLAs and events; every state
 * change is an event written to the outbox in the transaction of the
 * change, then delivered to webhook endpoints (signed) and, for e-mail,
 * to the SMTP server by the delivery thread (src/notify/). */
/* The alert rules document in use: {"rules": [...], "business_hours":
 * {...}}; PUT checks (CXM_EINVAL naming rules[i].field) and replaces. */
int engine_alert_rules(struct engine *e, json_t **out, struct cxm_err *err);
int engine_set_alert_rules(struct engine *e, const char *json, size_t len,
                           struct cxm_err *err);

struct case_query {
    const char *status;          /* NULL/"open": open and in_progress;
                                    "all"; or one status */
    const char *team, *assignee, *reason, *priority;   /* NULL: any */
    uint32_t customer;           /* any node of a profile; 0: any */
    bool breached;               /* only cases with a breached SLA */
    const char *sort;            /* "urgency" (NULL: the earliest due
                                    first), "newest", "oldest" */
    size_t offset, limit;
};
/* {"cases": [...], "total", "next_offset"}; each case with its SLA
 * states as of now. */
int engine_cases(struct engine *e, const struct case_query *q, json_t **out,
                 struct cxm_err *err);
/* One case with its history and linked records; CXM_ENOTFOUND. */
int engine_case(struct engine *e, int64_t id, json_t **out, struct cxm_err *err);

/* A case opened by hand (id 0: customer and reason required) or a change
 * to case id: NULL fields stay as they are. */
struct case_change {
    int64_t id;
    const char *actor;           /* who did it (an employee id); NULL: "api" */
    uint32_t customer;           /* new case */
    const char *reason, *subject;   /* new case */
    const char *status, *assignee, *team, *priority, *note, *resolution;
    int64_t link;                /* a feedback or interaction seq to link; 0 */
    bool tell_customer;          /* on resolution: e-mail the resolution
                                    ("you said, we did") */
    bool follow_up;              /* on resolution: a CSAT survey invitation */
    int64_t ts;                  /* 0: now */
};
/* The case after the change. CXM_EINVAL naming the field (an unknown
 * status, a move the states do not allow), CXM_ENOTFOUND. */
int engine_case_change(struct engine *e, const struct case_change *c, json_t **out,
                       struct cxm_err *err);
/* Writer work: records SLA breaches due by now (case.sla_breached). The
 * delivery thread calls it when engine_sla_next says so. */
int engine_sla_check(struct engine *e, struct cxm_err *err);
/* The earliest unmet due time not yet marked breached; 0: none. */
int64_t engine_sla_next(struct engine *e);

/* Webhook endpoints. */
struct webhook_def {
    const char *id;              /* create: NULL for a generated id */
    const char *url;             /* http:// or https:// */
    const char *events;          /* "*" or comma-separated types */
    const char *description;
    int enabled;                 /* -1: leave */
    bool rotate;                 /* a new secret */
};
/* {"webhooks": [...]} without secrets. */
int engine_webhooks(struct engine *e, json_t **out, struct cxm_err *err);
int engine_webhook(struct engine *e, const char *id, json_t **out, struct cxm_err *err);
/* Creates (create true) or changes an endpoint; the answer carries the
 * secret when it was made (creation, rotate). */
int engine_webhook_put(struct engine *e, const struct webhook_def *d, bool create,
                       json_t **out, struct cxm_err *err);
int engine_webhook_delete(struct engine *e, const char *id, struct cxm_err *err);
/* Deliveries newest first from before (an outbox id; 0: the newest), with
 * their attempts when attempts is set. status: NULL any. */
int engine_webhook_deliveries(struct engine *e, const char *id, int64_t before,
                              const char *status, size_t limit, bool attempts,
                              json_t **out, struct cxm_err *err);
/* Sends the endpoint's events with from <= outbox id <= to again (those
 * of types it subscribes to), in order: {"replayed": n}. */
int engine_webhook_replay(struct engine *e, const char *id, int64_t from, int64_t to,
                          json_t **out, struct cxm_err *err);
/* The e-mail settings: {"smtp_url","from","username","password_set",
 * "timeout_ms"}; PUT with "password" (never returned). */
int engine_email_settings(struct engine *e, json_t **out, struct cxm_err *err);
int engine_set_email_settings(struct engine *e, const char *json, size_t len,
                              struct cxm_err *err);

/* The delivery thread's side. One delivery to send now. */
struct outbound {
    int64_t outbox, ts;          /* the event */
    int attempt;                 /* this try, 1.. */
    char *webhook, *url, *secret;   /* endpoint; e-mail: "smtp", the SMTP
                                       server's URL, NULL */
    char *type, *payload;
    char *from, *username, *password;   /* e-mail: the settings */
    long timeout_ms;
};
void outbound_free(struct outbound *o);   /* the strings; not o */
/* Waits up to wait_ms for deliveries due now and fills out[0..*n), at
 * most max. Never hands out a delivery while an earlier event of the same
 * customer to the same endpoint is undelivered (in flight or waiting for
 * a retry), so each endpoint sees a customer's events in order. */
int engine_outbound_take(struct engine *e, struct outbound *out, size_t max, size_t *n,
                         int wait_ms);
struct outbound_result {
    int64_t outbox, ts, ms;      /* ts: when the try started */
    const char *webhook;
    int attempt, code;           /* code: HTTP or SMTP status; 0: none */
    int verdict;                 /* enum webhook_verdict (core/webhook.h) */
    const char *error;           /* NULL: none */
};
/* Records attempts: delivered, retried later (exponential backoff with
 * jitter), dead-lettered after the last try or a refusal; a 410 disables
 * the endpoint. */
int engine_outbound_done(struct engine *e, const struct outbound_result *r, size_t n,
                         struct cxm_err *err);
/* Wakes a waiting engine_outbound_take (shutting down). */
void engine_outbound_wake(struct engine *e);
struct delivery_opts {
    int max_attempts;            /* 0: 8 */
    int64_t base_ms, max_ms;     /* backoff: 0: 5 s, 1 h */
};
void engine_set_delivery(struct engine *e, const struct delivery_opts *o);

/* The employee side (docs/team.md). */
struct team_query {
    int64_t from, to;            /* [from, to) */
    const char *team;            /* NULL: every team */
    uint32_t min_n;              /* leaderboard: fewest CSAT answers; 0: 5 */
    double prior_n;              /* leaderboard: prior weight; 0: 10 */
    int min_enps;                /* eNPS: smallest group shown; 0: 5 */
    const char *period;          /* eNPS and trend buckets: week (NULL),
                                    month, quarter */
    size_t limit;
};
/* {"employees": [{id, name, team, role}]} */
int engine_employees(struct engine *e, json_t **out, struct cxm_err *err);
/* Per agent and per team: CSAT and NPS of what they handled (n, margin),
 * first-response and resolution times (median, p90), SLA compliance, case
 * volume, reopen rate; and the weekly trend. */
int engine_team_performance(struct engine *e, const struct team_query *q, json_t **out,
                            struct cxm_err *err);
/* Agents by Bayesian-adjusted CSAT, then positive comments naming them. */
int engine_team_recognition(struct engine *e, const struct team_query *q, json_t **out,
                            struct cxm_err *err);
/* eNPS by team and period; groups under min_enps answers are hidden. */
int engine_enps(struct engine *e, const struct team_query *q, json_t **out,
                struct cxm_err *err);

/* Surveys (docs/surveys.md): definitions, invitations through the
 * contact policy, hosted pages answered question by question (each answer
 * is feedback at once), the web widget, triggers. */
struct survey;                   /* core/survey.h */
struct survey_answer;
/* {"surveys": [{id, name, kind, enabled, questions, invited, responded,
 * completed}]} */
int engine_surveys(struct engine *e, json_t **out, struct cxm_err *err);
/* The survey's normalised document; CXM_ENOTFOUND. */
int engine_survey(struct engine *e, const char *id, json_t **out, struct cxm_err *err);
/* Creates (create: CXM_ECONFLICT when the id exists) or replaces (id: the
 * path's id, which the document's must equal; CXM_ENOTFOUND when none) a
 * survey from its document (CXM_EINVAL naming the member). *out: the
 * normalised document. */
int engine_survey_put(struct engine *e, const char *json, size_t len, bool create,
                      const char *id, json_t **out, struct cxm_err *err);
/* Response rate, completion rate and median time to respond for invitations
 * sent in [from, to), overall, by channel and by period (week, month (NULL)
 * or quarter), the skipped invitations by reason, and the metric engine's
 * numbers for the survey's scored questions: {"survey", "invited",
 * "responded", "completed", "response_rate", "completion_rate",
 * "median_seconds_to_respond", "skipped": {reason: n}, "by_channel": [...],
 * "by_period": [...], "metrics": {"nps": {...}, ...}}. */
int engine_survey_results(struct engine *e, const char *id, int64_t from, int64_t to,
                          const char *period, json_t **out, struct cxm_err *err);

struct invite_req {
    const char *survey;
    const uint32_t *customers;   /* customers[0..n), or */
    size_t n;
    const char *segment;         /* every member of the segment */
    const char *channel;         /* "email" (NULL): sent by e-mail through the
                                    outbox; "link": links returned to the caller */
    int64_t ts;                  /* 0: now */
};
/* Invites each customer who passes the survey's sampling, its quarantine
 * (an invitation of the same survey still open or answered within its
 * expiry) and the contact policy (kind survey, on the channel): {"survey",
 * "invited": n, "skipped": {"reason": n}, "invitations": [{"customer",
 * "invitation", "url"}]} (urls for the link channel only). */
int engine_survey_invite(struct engine *e, const struct invite_req *r, json_t **out,
                         struct cxm_err *err);

/* The hosted page's side (/s/{token}). */
enum survey_state { SVS_OPEN = 1, SVS_DONE, SVS_EXPIRED, SVS_UNKNOWN, SVS_CLOSED };
struct survey_session {
    enum survey_state state;     /* DONE: answered to the end; UNKNOWN: a
                                    forged, malformed or unknown token;
                                    CLOSED: the survey is disabled */
    const struct survey *s;      /* valid until survey_session_free; NULL
                                    when UNKNOWN */
    int next;                    /* the question to ask; -1: none left */
    int step, steps;             /* progress: question step of about steps */
    const char *lang;            /* the language to speak (one of s's) */
    int64_t invitation;
    struct survey_answer *a;     /* answers so far, by question */
    bool *answered;
    void *priv;
};
/* Reads the token and its invitation. lang: the browser's preferred
 * language or NULL; the customer's language wins when the survey has it. */
int engine_survey_session(struct engine *e, const char *token, const char *lang,
                          struct survey_session *out, struct cxm_err *err);
void survey_session_free(struct survey_session *ss);
/* Records the answer to question qid, the one the session asks next
 * (CXM_ECONFLICT when another one is due, the response is complete, or
 * the token is unusable), as feedback at once: a respondent who leaves
 * keeps what was given. CXM_EINVAL with err->msg written for the
 * respondent. */
int engine_survey_answer(struct engine *e, const char *token, const char *qid,
                         const char *const *values, size_t nvalues, struct cxm_err *err);

/* An open link (a survey with "anonymous": true): a new anonymous
 * profile and its invitation, whose token (SURVEY_TOKEN_LEN bytes, see
 * core/survey.h) goes to token. CXM_ENOTFOUND when the survey is unknown
 * or has no open link; CXM_ECONFLICT when it is disabled. */
int engine_survey_open(struct engine *e, const char *survey, char *token, size_t cap,
                       struct cxm_err *err);
/* The survey when it has an open link and is enabled (valid until the
 * engine closes), else NULL: the start page shows its title and intro. */
const struct survey *engine_survey_opening(struct engine *e, const char *survey);

/* The widget: one answer posted from a page of an allowed origin. */
struct widget_answer {
    const char *survey;
    const char *origin;          /* the request's Origin header */
    const char *question;        /* a question id; NULL: the first */
    const char *value;           /* a score, a choice id or a text */
    const char *comment;         /* optional: kept as the answer's comment */
    const char *visitor;         /* the widget's anonymous visitor id */
    const char *email;           /* optional: a known customer */
};
/* CXM_EPERM when the origin is not one of the survey's, CXM_EINVAL (the
 * field), CXM_ENOTFOUND. {"recorded": true, "thanks": "..."}. */
int engine_survey_widget(struct engine *e, const struct widget_answer *w, json_t **out,
                         struct cxm_err *err);
/* Whether origin may post to the survey's widget endpoint. */
bool engine_survey_origin_ok(struct engine *e, const char *survey, const char *origin);
/* Survey settings: {"public_url": "https://cx.example.com"} (the base of
 * the links in invitations; default "http://127.0.0.1:8080"). */
int engine_survey_settings(struct engine *e, json_t **out, struct cxm_err *err);
int engine_set_survey_settings(struct engine *e, const char *json, size_t len,
                               struct cxm_err *err);
/* Writer work the delivery thread runs (like engine_sla_check): due
 * triggered invitations, the relationship cadence, reminders. *next: when
 * to run again (unix seconds; 0: nothing planned). */
int engine_survey_tick(struct engine *e, int64_t *next, struct cxm_err *err);

/* Fixes the engine's clock at ts (tests, benchmarks); 0: the real one. */
void engine_set_clock(struct engine *e, int64_t ts);

struct engine_stats {
    int64_t seq;
    size_t customers, profiles, identities, merges, interactions, feedback,
        orders, employees;
    size_t column_bytes;
    double replay_seconds;
    size_t replay_rows;
    size_t segments, contacts;
    size_t cases_open, deliveries_pending;
    uint64_t deliveries_ok, deliveries_retried, deliveries_failed;
    uint64_t decisions_logged, decisions_dropped;   /* dropped: the log was full */
    uint64_t events_accepted, events_duplicate, commits, commit_failures;
    double commit_seconds;       /* total time in commits */
    uint64_t reports_rollup, reports_rows;   /* reports answered from rollups, from rows */
};
void engine_stats(struct engine *e, struct engine_stats *st);

/* API keys. Roles: admin, writer, analyst, agent. */
enum role { ROLE_NONE = 0, ROLE_ADMIN, ROLE_WRITER, ROLE_ANALYST, ROLE_AGENT };
#define KEY_LEN 48               /* "cxm_" + 43 base64url chars + NUL */
#define KEY_HASH_LEN 65          /* hex of a key's BLAKE2b hash + NUL */
#define KEY_ID_LEN 17            /* a key's id: its hash's first 16 hex digits + NUL */
#define KEY_NAME_MAX 128
#define KEY_RECHECK 30           /* seconds a cached key is trusted before the store is asked again */
enum role role_parse(const char *s);
const char *role_name(enum role r);
/* Checks a presented key; ROLE_NONE when unknown or revoked. */
enum role engine_auth(struct engine *e, const char *key);
/* The same, with the key's hash (hex) into hash ("" for a malformed key). */
enum role engine_auth_key(struct engine *e, const char *key, char hash[KEY_HASH_LEN]);
/* The role of the key with this hash now: ROLE_NONE once it is revoked (at
 * once through this engine, within KEY_RECHECK seconds by another process). */
enum role engine_key_role(struct engine *e, const char *hash);
/* The id of a key (KEY_ID_LEN bytes). */
void key_id(const char *key, char id[KEY_ID_LEN]);
/* Creates a key with role in the store at db (works while a server runs)
 * and writes it to key (KEY_LEN bytes). Only the hash is stored, with the
 * key's last 4 characters as a hint. name: at most KEY_NAME_MAX bytes. */
int keys_create(const char *db, enum role r, const char *name, char key[KEY_LEN],
                struct cxm_err *err);
/* {"keys": [{id, role, name, created, hint}]}, oldest first. */
int keys_list(const char *db, json_t **out, struct cxm_err *err);
/* Deletes the key with this id: CXM_EINVAL (malformed id), CXM_ENOTFOUND,
 * CXM_ECONFLICT (the last admin key: nobody could administer cxm). */
int keys_revoke(const char *db, const char *id, struct cxm_err *err);
/* The same through an open engine; a revoked key stops at once. */
int engine_key_create(struct engine *e, enum role r, const char *name,
                      char key[KEY_LEN], struct cxm_err *err);
int engine_keys_list(struct engine *e, json_t **out, struct cxm_err *err);
int engine_key_revoke(struct engine *e, const char *id, struct cxm_err *err);
int engine_key_count(struct engine *e, int64_t *n, struct cxm_err *err);

#endif
