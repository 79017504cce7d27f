/* store.h - the one storage contract: durable tables, the global seq,
 * schema migrations. The only layer that speaks SQL; each backend fills a
 * struct store_ops. Never holds in-memory indexes or business rules. */
#ifndef CXM_STORE_H
#define CXM_STORE_H

#include "common.h"

/* Dictionaries: short strings interned to small codes by the engine; the
 * store keeps code -> string so rows hold integers. */
enum store_dict {
    DICT_CHANNEL = 1,
    DICT_TOUCHPOINT,
    DICT_STAGE,
    DICT_ITYPE,     /* interaction kind: visit, call, complaint, ... */
    DICT_AGENT,
    DICT_OUTCOME,
    DICT_SURVEY,
    DICT_CURRENCY,
    DICT_SKU,
    DICT_CATEGORY,
    DICT_COUNT
};

/* Kinds of record with an idempotency id. */
enum store_idkind { IDK_CUSTOMER = 1, IDK_IDENTIFY, IDK_INTERACTION,
                    IDK_FEEDBACK, IDK_ORDER, IDK_EMPLOYEE };

enum store_sync { STORE_SYNC_OFF = 0, STORE_SYNC_NORMAL = 1, STORE_SYNC_FULL = 2 };

struct store_opts {
    enum store_sync sync;   /* default FULL: acknowledged = on disk */
    bool readonly;
};

/* Strings below are borrowed: valid for the duration of the call or the
 * scan callback only. Tri-state consent: -1 unknown, 0 no, 1 yes. */
struct store_customer {
    int64_t id, seq, created_ts, updated_seq;
    const char *name, *gender, *country, *city, *language, *attributes;
    int birth_year;         /* 0 unknown */
    int consent_marketing, consent_surveys, consent_personalisation;
};

struct store_identity {
    int64_t seq, customer;
    const char *kind, *value;
};

struct store_merge {
    int64_t seq, ts, parent, child, undone_seq;   /* undone_seq 0: active */
    const char *cause;
};

/* Text analytics of a text, computed at ingest: its sentiment, the themes
 * it mentions (bit i: theme i of the taxonomy in use) and the sentiment of
 * each mentioned theme (aspect sentiment, in 1/10000). */
#define TEXT_ASPECTS_MAX 32
struct text_aspect {
    uint8_t theme;
    int16_t sentiment;           /* compound x 10000 */
};
struct text_scores {
    float sentiment;
    uint32_t themes;
    uint8_t naspects;
    struct text_aspect aspect[TEXT_ASPECTS_MAX];
};

struct store_interaction {
    int64_t seq, ts, customer, duration;          /* duration -1: unknown */
    uint32_t channel, touchpoint, stage, kind, agent, outcome;  /* 0: none */
    double value;                                  /* NAN: none */
    const char *text, *event_id;                   /* NULL: none */
    const struct text_scores *sc;                  /* of text; NULL: not scored
                                                      (a text stored before
                                                      text analytics) */
};

struct store_feedback {
    int64_t seq, ts, customer;
    int kind;                                      /* enum fb_kind in engine */
    double score;                                  /* NAN: none (text) */
    uint32_t survey, channel, touchpoint, stage, agent;
    const char *comment, *event_id;
    const struct text_scores *sc;                  /* of comment, as above */
};

struct store_item {
    uint32_t sku, category;
    double qty, price;
};

struct store_order {
    int64_t seq, ts, customer;
    double amount;
    uint32_t currency, channel;
    const char *order_id;
    size_t nitems;
    const struct store_item *items;
};

struct store_employee {
    int64_t seq;
    const char *id, *name, *team, *role;
};

/* An outside figure to compare with: an industry average, a competitor. */
struct store_benchmark {
    int64_t seq;
    const char *name, *metric, *period, *segment;   /* segment "" for none */
    double value;
};

/* A fitted CLV model (BG/NBD + Gamma-Gamma): the parameters the engine
 * predicts with, and the whole fit report as JSON for reading back. */
struct store_clv_model {
    int64_t seq, ts, calibration_end;   /* calibration_end: unix seconds */
    double unit_days;
    double r, alpha, a, b, p, q, v;     /* p, q, v NAN: no spend model */
    const char *report;                 /* JSON */
};

/* A segment: a named rule over customer features (docs/personalisation.md). */
struct store_segment {
    int64_t seq, created_ts, updated_ts;
    const char *id, *name, *rule, *description;
};

/* A contact made to a customer (an offer sent, a survey invitation), so
 * the contact policy's caps count it. channel: a DICT_CHANNEL code. */
struct store_contact {
    int64_t seq, ts, customer, decision;   /* decision 0: none */
    int kind;                              /* enum contact_kind */
    uint32_t channel;
    const char *action;                    /* NULL: none */
};

/* A logged decision of next-best-action, for measuring uplift later. */
struct store_decision {
    int64_t id, ts, customer;
    const char *channel, *context;   /* context: JSON; NULL: none */
    const char *actions, *held;      /* ids proposed, and held out (control
                                        group), comma-separated */
};

/* A case of the closed loop (docs/closed-loop.md): opened by an alert
 * rule on a signal (source_seq) or by hand (source_seq 0). Times are unix
 * seconds, 0: not (yet). breached: bit 0 the first response was late,
 * bit 1 the resolution. Strings NULL: none. */
struct store_case {
    int64_t id, seq, customer, source_seq;
    int64_t opened_ts, updated_ts, response_due, resolve_due;
    int64_t responded_ts, resolved_ts, closed_ts;
    int reopened, breached;
    const char *reason, *rule, *priority, *status, *team, *assignee, *subject,
        *resolution;
};

/* One step of a case's history: opened, a note, a change of status,
 * assignee, team or priority, a signal linked, an SLA breach. */
struct store_case_event {
    int64_t seq, case_id, ts, link_seq;   /* link_seq: a linked record; 0 */
    const char *kind, *actor, *body;      /* body: a note, or the new value */
};

/* A webhook endpoint: events is "*" or comma-separated event types. */
struct store_webhook {
    int64_t seq, created_ts;
    const char *id, *url, *secret, *events, *description;
    bool enabled;
};

/* An event waiting in the outbox: written in the transaction of the
 * change that caused it. customer 0: about no customer. */
struct store_outbox {
    int64_t id, ts, customer;
    const char *type, *payload;           /* payload: the JSON sent */
};

/* The delivery of one outbox event to one endpoint ("smtp" for e-mail).
 * status: pending, delivered, failed (dead letter after the last try or a
 * refusal). */
struct store_delivery {
    int64_t outbox, attempts, next_ts, updated_ts;
    int last_code;                        /* HTTP or SMTP status; 0: none */
    const char *webhook, *status, *error;
    struct store_outbox ev;               /* scans: the event itself */
};

/* One try of a delivery. code 0: no answer (connection, timeout). */
struct store_attempt {
    int64_t outbox, ts, ms;
    int n, code;
    const char *webhook, *error;
};

/* A survey definition: its document (JSON, normalised). */
struct store_survey {
    int64_t seq, created_ts, updated_ts;
    const char *id, *doc;
};

/* An invitation to a survey (or one skipped: status "skipped" and the
 * reason). Times 0: not yet. context: JSON {touchpoint, channel, stage,
 * agent} of what triggered it; NULL none. */
struct store_invitation {
    int64_t id, seq, customer, created_ts, expires_ts, answered_ts, completed_ts,
        reminded_ts;
    const char *survey, *channel, *status, *reason, *trigger, *context;
};

/* One question answered (or skipped: value NULL) on an invitation. */
struct store_survey_answer {
    int64_t invitation, ts, feedback_seq;   /* feedback_seq 0: none */
    const char *question, *value;           /* value: JSON */
};

/* An invitation a trigger asked for, due later; status pending or done.
 * (survey, customer, source) is unique: a trigger fires once. */
struct store_schedule {
    int64_t id, customer, due_ts;
    const char *survey, *source, *status, *context;
};

struct store_key {
    const char *hash, *role, *name;   /* hash: hex of the key's hash */
    const char *hint;            /* the key's last 4 characters; NULL for keys
                                    made before schema 11 */
    int64_t created;
};

struct store;

/* Scan callbacks return 0 to go on, anything else stops the scan and is
 * returned by the scan. */
struct store_scan {
    void *ctx;
    int (*dict)(void *ctx, int dict, uint32_t code, const char *value);
    int (*customer)(void *ctx, const struct store_customer *c);
    int (*identity)(void *ctx, const struct store_identity *i);
    int (*merge)(void *ctx, const struct store_merge *m);
    int (*employee)(void *ctx, const struct store_employee *e);
    int (*interaction)(void *ctx, const struct store_interaction *r);
    int (*feedback)(void *ctx, const struct store_feedback *r);
    int (*order)(void *ctx, const struct store_order *r);
    int (*benchmark)(void *ctx, const struct store_benchmark *b);
    /* the latest fitted CLV model only */
    int (*clv_model)(void *ctx, const struct store_clv_model *c);
    int (*segment)(void *ctx, const struct store_segment *sg);   /* by id */
    int (*contact)(void *ctx, const struct store_contact *c);    /* by seq */
    int (*kase)(void *ctx, const struct store_case *c);          /* by id */
    int (*case_event)(void *ctx, const struct store_case_event *ev);   /* by seq */
    int (*webhook)(void *ctx, const struct store_webhook *w);    /* by id */
    /* deliveries still pending, with their events, by outbox id */
    int (*pending)(void *ctx, const struct store_delivery *d);
    int (*survey)(void *ctx, const struct store_survey *s);             /* by id */
    int (*invitation)(void *ctx, const struct store_invitation *iv);    /* by id */
    int (*survey_answer)(void *ctx, const struct store_survey_answer *a);   /* by ts */
    int (*schedule)(void *ctx, const struct store_schedule *s);   /* by id */
};

struct store_ops {
    const char *name;
    void (*close)(struct store *s);
    int (*begin)(struct store *s, struct cxm_err *err);
    int (*commit)(struct store *s, int64_t last_seq, struct cxm_err *err);
    /* Durability of the next transactions (outside a transaction): the
     * writer relaxes it for transactions that hold only the decision log. */
    int (*set_sync)(struct store *s, enum store_sync sync, struct cxm_err *err);
    void (*rollback)(struct store *s);
    /* Records an idempotency id; *dup set when it was already there. */
    int (*claim)(struct store *s, int kind, const char *id, int64_t seq,
                 bool *dup, struct cxm_err *err);
    int (*put_dict)(struct store *s, int dict, uint32_t code, const char *value,
                    struct cxm_err *err);
    int (*put_customer)(struct store *s, const struct store_customer *c,
                        struct cxm_err *err);
    int (*put_identity)(struct store *s, const struct store_identity *i,
                        struct cxm_err *err);
    int (*put_merge)(struct store *s, const struct store_merge *m,
                     struct cxm_err *err);
    int (*undo_merge)(struct store *s, int64_t merge_seq, int64_t undone_seq,
                      struct cxm_err *err);
    int (*put_employee)(struct store *s, const struct store_employee *e,
                        struct cxm_err *err);
    int (*put_interaction)(struct store *s, const struct store_interaction *r,
                           struct cxm_err *err);
    int (*put_feedback)(struct store *s, const struct store_feedback *r,
                        struct cxm_err *err);
    int (*put_order)(struct store *s, const struct store_order *r,
                     struct cxm_err *err);
    /* Inserts or replaces the benchmark with the same name, metric,
     * period and segment. */
    int (*put_benchmark)(struct store *s, const struct store_benchmark *b,
                         struct cxm_err *err);
    /* Sets the text analytics of the interaction or feedback with this
     * seq (a backfill or a new taxonomy). */
    int (*set_text_scores)(struct store *s, int64_t seq, const struct text_scores *sc,
                           struct cxm_err *err);
    /* Calls fn for every stored text in seq order (seq, body); fn's
     * non-zero return stops the scan and is returned. Writer thread. */
    int (*scan_texts)(struct store *s, int64_t from_seq,
                      int (*fn)(void *ctx, int64_t seq, const char *body, size_t len),
                      void *ctx, struct cxm_err *err);
    /* Full-text search (SQLite FTS5 query syntax on the words of q, quoted
     * as phrases): seqs of matching texts with seq < before (0: any),
     * newest first, at most max into out; *n set. Any thread. */
    int (*search_text)(struct store *s, const char *q, int64_t before, int64_t *out,
                       size_t max, size_t *n, struct cxm_err *err);
    /* The user's theme taxonomy (JSON); *out NULL when none was set. */
    int (*get_taxonomy)(struct store *s, char **out, struct cxm_err *err);
    int (*put_taxonomy)(struct store *s, const char *json, int64_t seq,
                        struct cxm_err *err);
    /* Records a trained sentiment model (an opaque blob and its report,
     * JSON); the latest is the one in use. */
    int (*put_text_model)(struct store *s, int64_t seq, int64_t ts, const void *blob,
                          size_t len, const char *report, struct cxm_err *err);
    /* The latest: *blob malloc'd (NULL when none), *report malloc'd. */
    int (*get_text_model)(struct store *s, void **blob, size_t *len, char **report,
                          struct cxm_err *err);
    /* Records a fitted CLV model; the latest is the one in use. */
    int (*put_clv_model)(struct store *s, const struct store_clv_model *c,
                         struct cxm_err *err);
    /* Inserts or replaces the segment with this id; delete removes it
     * (CXM_ENOTFOUND when there is none). */
    int (*put_segment)(struct store *s, const struct store_segment *sg,
                       struct cxm_err *err);
    int (*delete_segment)(struct store *s, const char *id, struct cxm_err *err);
    /* A named settings document (JSON): "actions", "contact_policy",
     * "recommendations". get: *out malloc'd, NULL when never set. */
    int (*put_config)(struct store *s, const char *name, const char *body, int64_t seq,
                      struct cxm_err *err);
    int (*get_config)(struct store *s, const char *name, char **out, struct cxm_err *err);
    int (*put_contact)(struct store *s, const struct store_contact *c,
                       struct cxm_err *err);
    /* Decisions are a log outside seq: put_decision inside a writer
     * transaction; max_decision the highest id stored (0: none). */
    int (*put_decision)(struct store *s, const struct store_decision *d,
                        struct cxm_err *err);
    int (*max_decision)(struct store *s, int64_t *out, struct cxm_err *err);
    /* Calls fn for every logged decision with from <= ts < to that
     * proposed or held out action (NULL: any), in id order; fn's non-zero return stops
     * the scan and is returned. Any thread (the reader connection). */
    int (*scan_decisions)(struct store *s, int64_t from, int64_t to, const char *action,
                          int (*fn)(void *ctx, const struct store_decision *d), void *ctx,
                          struct cxm_err *err);
    /* Closed loop: cases and their history, webhook endpoints, the
     * outbox and its deliveries. put_* insert or replace (by id; a
     * delivery by webhook and outbox); writer transaction. */
    int (*put_case)(struct store *s, const struct store_case *c, struct cxm_err *err);
    int (*put_case_event)(struct store *s, const struct store_case_event *ev,
                          struct cxm_err *err);
    int (*put_webhook)(struct store *s, const struct store_webhook *w, struct cxm_err *err);
    /* Removes the endpoint and its deliveries; CXM_ENOTFOUND. */
    int (*delete_webhook)(struct store *s, const char *id, struct cxm_err *err);
    int (*put_outbox)(struct store *s, const struct store_outbox *o, struct cxm_err *err);
    int (*put_delivery)(struct store *s, const struct store_delivery *d,
                        struct cxm_err *err);
    int (*put_attempt)(struct store *s, const struct store_attempt *a, struct cxm_err *err);
    /* The highest outbox id (0: none). Writer thread. */
    int (*max_outbox)(struct store *s, int64_t *out, struct cxm_err *err);
    /* Outbox events with from <= id <= to, by id (writer thread: a replay). */
    int (*scan_outbox)(struct store *s, int64_t from, int64_t to,
                       int (*fn)(void *ctx, const struct store_outbox *o), void *ctx,
                       struct cxm_err *err);
    /* An endpoint's deliveries with outbox id < before (0: any), newest
     * first, at most limit, each with its event and status ("" for any)
     * matching. Any thread (the reader connection). */
    int (*scan_deliveries)(struct store *s, const char *webhook, int64_t before,
                           const char *status, size_t limit,
                           int (*fn)(void *ctx, const struct store_delivery *d), void *ctx,
                           struct cxm_err *err);
    /* The attempts of one delivery, in order. Any thread. */
    int (*scan_attempts)(struct store *s, const char *webhook, int64_t outbox,
                         int (*fn)(void *ctx, const struct store_attempt *a), void *ctx,
                         struct cxm_err *err);
    /* Surveys: definitions, invitations, answers, scheduled invitations
     * (put_schedule of an existing (survey, customer, source) sets *dup
     * and changes nothing). Writer transaction. */
    int (*put_survey)(struct store *s, const struct store_survey *sv, struct cxm_err *err);
    int (*put_invitation)(struct store *s, const struct store_invitation *iv,
                          struct cxm_err *err);
    int (*put_survey_answer)(struct store *s, const struct store_survey_answer *a,
                             struct cxm_err *err);
    int (*put_schedule)(struct store *s, const struct store_schedule *sc, bool *dup,
                        struct cxm_err *err);
    int (*scan)(struct store *s, const struct store_scan *cb, struct cxm_err *err);
    /* Text of an interaction or a feedback comment by its seq; *out is NULL
     * when there is none, else malloc'd and owned by the caller. Safe to
     * call from any thread, concurrently with writes. */
    int (*get_text)(struct store *s, int64_t seq, char **out, struct cxm_err *err);
    /* The event id (order id for orders) of the committed record with this
     * seq into id (CXM_MAX_EVENT_ID + 1 bytes); "" when it has none. Any
     * thread. */
    int (*get_event_id)(struct store *s, int kind, int64_t seq, char *id,
                        struct cxm_err *err);
    int (*put_key)(struct store *s, const struct store_key *k, struct cxm_err *err);
    /* Role of the key with this hash into role (16 bytes); CXM_ENOTFOUND. */
    int (*find_key)(struct store *s, const char *hash, char role[16],
                    struct cxm_err *err);
    int (*count_keys)(struct store *s, int64_t *n, struct cxm_err *err);
    /* Every key, oldest first. Any thread. */
    int (*scan_keys)(struct store *s, int (*fn)(void *ctx, const struct store_key *k),
                     void *ctx, struct cxm_err *err);
    /* Deletes the key whose hash starts with the 16 hex digits id, its hash
     * into hash: CXM_ENOTFOUND, or CXM_ECONFLICT when it is the last admin
     * key. Its own write transaction: call on a connection of its own. */
    int (*delete_key)(struct store *s, const char *id, char hash[65], struct cxm_err *err);
};

struct store {
    const struct store_ops *ops;
    int64_t last_seq;     /* highest committed seq at open / last commit */
};

/* Opens the store named by spec: a file path for the embedded SQLite
 * backend. Creates and migrates the schema. NULL on failure, err set
 * (CXM_ESCHEMA when the file is newer than this binary). */
struct store *store_open(const char *spec, const struct store_opts *o,
                         struct cxm_err *err);
void store_close(struct store *s);   /* accepts NULL */

/* Schema version this binary writes. */
int store_schema_version(void);

#endif
