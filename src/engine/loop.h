/* loop.h - the closed loop inside the engine (docs/closed-loop.md): alert
 * rules, cases with SLAs (loop.c), and the outbox of events with its
 * webhook endpoints and delivery queue (outbox.c). Internal to engine/.
 *
 * Locking: rules, cases and endpoints are read under the engine's read
 * lock and changed by the writer under the write lock; the delivery queue
 * has its own mutex (omu), so the delivery thread never waits for the
 * model. Changes are planned inside the writer's transaction; a failed
 * commit reloads everything from the store. */
#ifndef CXM_LOOP_H
#define CXM_LOOP_H

#include <pthread.h>

#include "core/filter.h"
#include "core/sla.h"
#include "engine/engine_impl.h"

/* Event types of the outbox. */
enum evt {
    EVT_FEEDBACK_CREATED, EVT_INTERACTION_CREATED, EVT_ORDER_CREATED,
    EVT_CUSTOMER_CREATED, EVT_CUSTOMER_UPDATED, EVT_CUSTOMER_MERGED,
    EVT_CUSTOMER_UNMERGED, EVT_EMPLOYEE_UPDATED, EVT_CASE_OPENED, EVT_CASE_UPDATED,
    EVT_CASE_RESOLVED, EVT_CASE_CLOSED, EVT_CASE_REOPENED, EVT_CASE_SLA_BREACHED,
    EVT_ALERT_TRIGGERED, EVT_SURVEY_REQUESTED, EVT_WEBHOOK_TEST, EVT_EMAIL,
    EVT_CONTACT_RECORDED, EVT_SEGMENT_CREATED, EVT_SEGMENT_UPDATED, EVT_SEGMENT_DELETED,
    EVT_COUNT
};
extern const char *const evt_names[EVT_COUNT];
/* Index of a type name; -1 when unknown. */
int evt_parse(const char *s);

struct route {
    struct filter *when;
    char *team;
};

struct alert_rule {
    char *id, *name, *reason, *priority, *team, *assignee;
    struct filter *when;
    struct route *routes;
    size_t nroutes;
    int64_t response, resolution;   /* SLA seconds; 0: none */
    bool business_hours, open_case, emit, enabled;
};

struct case_step {
    int64_t seq, ts, link;
    char *kind, *actor, *body;
};

struct kase {
    int64_t id, seq, customer, source_seq;
    int64_t opened, updated, response_due, resolve_due, responded, resolved, closed;
    int reopened, breached;      /* breached: breach events recorded (bits) */
    char *reason, *rule, *priority, *status, *team, *assignee, *subject, *resolution;
    struct case_step *h;         /* history, oldest first */
    size_t nh, hcap;
    uint32_t next;               /* index + 1 of the customer node's older case */
};

struct hook {
    char *id, *url, *secret, *events, *description;
    uint64_t mask;               /* bit per enum evt */
    bool enabled;
    int64_t seq, created_ts;
};

/* A delivery waiting in the queue. */
struct dlv {
    int64_t outbox, ts, next_ts;
    uint32_t customer;
    int attempts;
    bool inflight;
    char *webhook, *type, *payload;
};

struct loop {
    /* the rules document */
    char *doc;                   /* as given; NULL: none yet */
    struct alert_rule *rules;
    size_t nrules;
    struct bizcal cal;
    struct tz *tz;
    bool has_cal;
    int64_t def_response[4], def_resolution[4];   /* by priority */
    char *msg_subject, *msg_text;                 /* "you said, we did" */
    int64_t max_age;             /* older signals fire no rule */
    size_t bound_dicts;          /* dictionary sizes the rules were bound to */
    uint64_t bound_tax;
    /* cases: cases[i] has id i + 1 */
    struct kase *cases;
    size_t ncases, casecap;
    uint32_t *head;              /* by customer node: index + 1 of its newest case */
    size_t headcap;
    /* endpoints */
    struct hook *hooks;
    size_t nhooks, hookcap;
    uint64_t want;               /* types some enabled endpoint takes */
    int64_t outbox_last;
    struct dlv *staged;          /* deliveries of the transaction being planned */
    size_t nstaged, stagedcap;
    /* the delivery queue, by outbox id, under omu */
    pthread_mutex_t omu;
    pthread_cond_t ocond;
    struct dlv *q;
    size_t nq, qcap;
    bool wake;
    struct delivery_opts dopt;
    uint32_t rnd;
    uint64_t n_ok, n_retried, n_failed;   /* attempts since start, under omu */
    struct surveys *sv;          /* survey.c */
    /* e-mail settings (config "email"), under the engine lock */
    char *smtp_url, *smtp_from, *smtp_user, *smtp_pass;
    long smtp_timeout;
};

/* A closed-loop change for the writer (ENGINE_LOOP work). */
enum loop_op { LOOP_RULES = 1, LOOP_CASE, LOOP_SLA, LOOP_WEBHOOK, LOOP_WEBHOOK_DEL,
               LOOP_REPLAY, LOOP_DONE, LOOP_EMAIL, LOOP_SURVEY };
struct loop_req {
    enum loop_op op;
    const char *json;            /* RULES, EMAIL: the document */
    size_t len;
    const struct case_change *cc;
    const struct webhook_def *wd;
    bool create;
    const char *id;              /* WEBHOOK_DEL, REPLAY */
    int64_t from, to;
    const struct outbound_result *res;   /* DONE */
    size_t nres;
    void *survey;                /* SURVEY: survey.c's request */
    json_t *out;                 /* the answer, built by the writer */
};

struct group;
/* engine.c: the next seq of the transaction being planned (and its
 * counter), and an interaction planned in it like an ingested one. */
int64_t group_next_seq(struct group *g);
int64_t *group_seq(struct group *g);
/* The profile of node changed: its segment memberships are checked again
 * after the commit. */
void group_touch(struct group *g, uint32_t node);
int engine_plan_record(struct engine *e, struct group *g, const struct event *ev,
                       uint32_t cust, struct cxm_err *err);
/* A new customer, with no identity yet (an anonymous respondent). */
int engine_plan_customer(struct engine *e, struct group *g, int64_t ts, uint32_t *id,
                         struct cxm_err *err);

/* loop.c */
int loop_open(struct engine *e, struct cxm_err *err);
void loop_close(struct engine *e);
/* After a failed commit: everything again from the store. */
int loop_reload(struct engine *e, struct cxm_err *err);
/* Writer, planning: a record (type EV_INTERACTION, EV_FEEDBACK or
 * EV_ORDER; row its store row, text its text or NULL) was planned for
 * customer node cust: its *.created event, and the alert rules on it. */
int loop_record(struct engine *e, struct group *g, int type, const void *row, uint32_t cust,
                const char *text, struct cxm_err *err);
/* Writer, planning: ENGINE_LOOP work. */
int loop_apply(struct engine *e, struct group *g, struct engine_work *w,
               struct cxm_err *err);
/* Runs r as writer work and waits: *out (may be NULL) takes the answer;
 * the request's own error (bad input) or the writer's comes back. */
int loop_run(struct engine *e, struct loop_req *r, json_t **out, struct cxm_err *err);
/* JSON of a case as of now (readers, under the read lock). */
json_t *case_json(const struct engine *e, const struct kase *k, bool full);
/* The profile's latest name (lang false) or language code (lang true)
 * across its nodes; NULL. Under a lock. */
const char *loop_profile_attr(const struct engine *e, uint32_t cust, bool lang);
/* The profile's latest e-mail address; NULL. Under a lock. */
const char *loop_customer_email(const struct engine *e, uint32_t cust);

/* survey.c */
int survey_load(struct engine *e, struct cxm_err *err);
/* Drops the state (keep: replaced survey versions stay alive for the
 * sessions that hold them, as after a failed commit). */
void survey_unload(struct engine *e);
void survey_close(struct engine *e);
int survey_apply(struct engine *e, struct group *g, struct loop_req *r, struct cxm_err *err);
/* Writer, planning: triggers on an interaction or order row; on a case
 * resolved. */
int survey_record(struct engine *e, int type, const void *row, uint32_t cust,
                  struct cxm_err *err);
int survey_case_resolved(struct engine *e, uint32_t cust, int64_t case_id, int reopened,
                         const char *reason, int64_t ts, struct cxm_err *err);

/* Open cases and queued deliveries, attempts' outcomes (engine_stats). */
void loop_stats(struct engine *e, struct engine_stats *st);

/* outbox.c */
int outbox_open(struct engine *e, struct cxm_err *err);
void outbox_close(struct engine *e);
/* Whether some enabled endpoint takes events of type t. */
bool outbox_wants(const struct engine *e, enum evt t);
/* Writer, planning: writes an event (data: stolen) to the outbox and a
 * pending delivery for every enabled endpoint that takes it. */
int outbox_emit(struct engine *e, enum evt t, uint32_t customer, int64_t ts, json_t *data,
                struct cxm_err *err);
/* Writer, planning: customer.created / updated / merged / unmerged
 * (other: the profile merged in or cut off; cause: of a merge) and
 * employee.updated. */
int outbox_customer(struct engine *e, enum evt t, uint32_t customer, uint32_t other,
                    const char *cause, int64_t ts, struct cxm_err *err);
int outbox_employee(struct engine *e, const struct store_employee *se, int64_t ts,
                    struct cxm_err *err);
/* contact.recorded (action and channel may be NULL) and segment.*. */
int outbox_contact(struct engine *e, const struct store_contact *c, const char *channel,
                   struct cxm_err *err);
int outbox_segment(struct engine *e, enum evt t, const char *id, const char *name,
                   const char *rule, int64_t ts, struct cxm_err *err);
/* Writer, planning: an e-mail to send (to, subject, text). */
int outbox_email(struct engine *e, uint32_t customer, int64_t ts, const char *to,
                 const char *subject, const char *text, struct cxm_err *err);
/* Writer, after the commit: the staged deliveries join the queue; after a
 * failed one they are dropped. */
void outbox_committed(struct engine *e);
void outbox_aborted(struct engine *e);
int outbox_apply(struct engine *e, struct group *g, struct loop_req *r, struct cxm_err *err);
int outbox_load(struct engine *e, struct cxm_err *err);
void outbox_unload(struct engine *e);

#endif
