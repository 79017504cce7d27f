/* outbox.c - the outbox of events and its deliveries (docs/closed-loop.md).
 * An event is written to the store in the transaction of the change that
 * caused it, with a pending delivery for every enabled endpoint that
 * takes its type; after the commit the deliveries join an in-memory queue
 * (by outbox id) that the delivery thread (src/notify/) takes from. A
 * delivery is never handed out while an earlier event of the same
 * customer to the same endpoint is undelivered, so order per customer
 * holds through retries and restarts (pending deliveries are reloaded
 * from the store at start). */
#include "engine/loop.h"

#include <errno.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/policy.h"
#include "core/timefmt.h"
#include "core/webhook.h"
#include "engine/segments.h"
#include "log.h"

const char *const evt_names[EVT_COUNT] = {
    [EVT_FEEDBACK_CREATED] = "feedback.created",
    [EVT_INTERACTION_CREATED] = "interaction.created",
    [EVT_ORDER_CREATED] = "order.created",
    [EVT_CUSTOMER_CREATED] = "customer.created",
    [EVT_CUSTOMER_UPDATED] = "customer.updated",
    [EVT_CUSTOMER_MERGED] = "customer.merged",
    [EVT_CUSTOMER_UNMERGED] = "customer.unmerged",
    [EVT_EMPLOYEE_UPDATED] = "employee.updated",
    [EVT_CASE_OPENED] = "case.opened",
    [EVT_CASE_UPDATED] = "case.updated",
    [EVT_CASE_RESOLVED] = "case.resolved",
    [EVT_CASE_CLOSED] = "case.closed",
    [EVT_CASE_REOPENED] = "case.reopened",
    [EVT_CASE_SLA_BREACHED] = "case.sla_breached",
    [EVT_ALERT_TRIGGERED] = "alert.triggered",
    [EVT_SURVEY_REQUESTED] = "survey.requested",
    [EVT_WEBHOOK_TEST] = "webhook.test",
    [EVT_EMAIL] = "email",
    [EVT_CONTACT_RECORDED] = "contact.recorded",
    [EVT_SEGMENT_CREATED] = "segment.created",
    [EVT_SEGMENT_UPDATED] = "segment.updated",
    [EVT_SEGMENT_DELETED] = "segment.deleted",
};

#define SMTP_ENDPOINT "smtp"
#define MAX_URL 2048
#define MAX_DESC 1024
#define MAX_HOOKS 64
#define MAX_REPLAY 100000

int evt_parse(const char *s)
{
    for (int i = 0; i < EVT_COUNT; i++)
        if (strcmp(evt_names[i], s) == 0 && i != EVT_EMAIL)
            return i;
    return -1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t next_rnd(struct loop *l)
{
    uint32_t x = l->rnd ? l->rnd : 2463534242u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return l->rnd = x;
}

/* ---- endpoints --------------------------------------------------------------- */

static void hook_free(struct hook *h)
{
    free(h->id);
    free(h->url);
    free(h->secret);
    free(h->events);
    free(h->description);
}

static struct hook *hook_find(const struct loop *l, const char *id)
{
    for (size_t i = 0; i < l->nhooks; i++)
        if (strcmp(l->hooks[i].id, id) == 0)
            return &l->hooks[i];
    return NULL;
}

/* The types of an events list: "*" or comma-separated names. */
static int events_mask(const char *events, uint64_t *mask, struct cxm_err *err)
{
    *mask = 0;
    if (strcmp(events, "*") == 0) {
        *mask = ((UINT64_C(1) << EVT_COUNT) - 1) & ~(UINT64_C(1) << EVT_EMAIL);
        return CXM_OK;
    }
    const char *p = events;
    while (*p) {
        size_t n = strcspn(p, ",");
        char name[64];
        if (n == 0 || n >= sizeof name)
            return cxm_err_field(err, CXM_EINVAL, -1, "events", "an empty or over-long type");
        memcpy(name, p, n);
        name[n] = '\0';
        int t = evt_parse(name);
        if (t < 0)
            return cxm_err_field(err, CXM_EINVAL, -1, "events", "\"%s\" is not an event"
                                 " type (see docs/closed-loop.md: feedback.created,"
                                 " case.opened, ...)", name);
        *mask |= UINT64_C(1) << t;
        p += n + (p[n] == ',');
    }
    if (!*mask)
        return cxm_err_field(err, CXM_EINVAL, -1, "events", "names no event type");
    return CXM_OK;
}

static void want_update(struct loop *l)
{
    l->want = l->smtp_url ? UINT64_C(1) << EVT_EMAIL : 0;
    for (size_t i = 0; i < l->nhooks; i++)
        if (l->hooks[i].enabled)
            l->want |= l->hooks[i].mask;
}

bool outbox_wants(const struct engine *e, enum evt t)
{
    return e->loop && (e->loop->want >> t & 1u);
}

static int hook_set(struct hook *h, const struct store_webhook *w)
{
    struct cxm_err err;
    uint64_t mask;
    if (events_mask(w->events, &mask, &err))
        mask = 0;                /* a type this binary does not know */
    struct hook n = {.mask = mask, .enabled = w->enabled, .seq = w->seq,
                     .created_ts = w->created_ts};
    if (!(n.id = cxm_strdup(w->id)) || !(n.url = cxm_strdup(w->url)) ||
        !(n.secret = cxm_strdup(w->secret)) || !(n.events = cxm_strdup(w->events)) ||
        !(n.description = cxm_strdup(w->description ? w->description : ""))) {
        hook_free(&n);
        return CXM_ENOMEM;
    }
    hook_free(h);
    *h = n;
    return CXM_OK;
}

static int hook_add(struct loop *l, const struct store_webhook *w)
{
    if (cxm_grow((void **)&l->hooks, &l->hookcap, l->nhooks + 1, sizeof *l->hooks))
        return CXM_ENOMEM;
    struct hook *h = &l->hooks[l->nhooks];
    memset(h, 0, sizeof *h);
    int rc = hook_set(h, w);
    if (!rc)
        l->nhooks++;
    return rc;
}

static json_t *hook_json(const struct hook *h, bool secret)
{
    char ts[TIMEFMT_LEN];
    timefmt_format(h->created_ts, ts);
    json_t *ev = json_array();
    if (!ev)
        return NULL;
    if (strcmp(h->events, "*") == 0)
        json_array_append_new(ev, json_string("*"));
    else
        for (int t = 0; t < EVT_COUNT; t++)
            if (h->mask >> t & 1u)
                json_array_append_new(ev, json_string(evt_names[t]));
    json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:b, s:s}", "id", h->id, "url", h->url,
                          "events", ev, "description", h->description, "enabled",
                          h->enabled, "created", ts);
    if (o && secret)
        json_object_set_new(o, "secret", json_string(h->secret));
    return o;
}

/* ---- the queue --------------------------------------------------------------- */

static void dlv_free(struct dlv *d)
{
    free(d->webhook);
    free(d->type);
    free(d->payload);
}

static int dlv_make(struct dlv *d, const char *webhook, const struct store_outbox *o,
                    int attempts, int64_t next_ms)
{
    *d = (struct dlv){.outbox = o->id, .ts = o->ts, .next_ts = next_ms,
                      .customer = (uint32_t)o->customer, .attempts = attempts};
    if (!(d->webhook = cxm_strdup(webhook)) || !(d->type = cxm_strdup(o->type)) ||
        !(d->payload = cxm_strdup(o->payload))) {
        dlv_free(d);
        return CXM_ENOMEM;
    }
    return CXM_OK;
}

static int cmp_dlv(const void *a, const void *b)
{
    const struct dlv *x = a, *y = b;
    if (x->outbox != y->outbox)
        return x->outbox < y->outbox ? -1 : 1;
    return strcmp(x->webhook, y->webhook);
}

/* Index of the queued delivery of event outbox to webhook; -1. Under omu. */
static ssize_t q_find(const struct loop *l, int64_t outbox, const char *webhook)
{
    size_t lo = 0, hi = l->nq;
    struct dlv key = {.outbox = outbox, .webhook = (char *)webhook};
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_dlv(&l->q[mid], &key);
        if (c == 0)
            return (ssize_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void q_remove(struct loop *l, size_t i)
{
    dlv_free(&l->q[i]);
    memmove(&l->q[i], &l->q[i + 1], (l->nq - i - 1) * sizeof *l->q);
    l->nq--;
}

static void q_clear(struct loop *l)
{
    for (size_t i = 0; i < l->nq; i++)
        dlv_free(&l->q[i]);
    l->nq = 0;
}

static int stage(struct loop *l, const char *webhook, const struct store_outbox *o)
{
    if (cxm_grow((void **)&l->staged, &l->stagedcap, l->nstaged + 1, sizeof *l->staged))
        return CXM_ENOMEM;
    int rc = dlv_make(&l->staged[l->nstaged], webhook, o, 0, now_ms());
    if (!rc)
        l->nstaged++;
    return rc;
}

void outbox_committed(struct engine *e)
{
    struct loop *l = e->loop;
    if (!l || !l->nstaged)
        return;
    /* one event to several endpoints is staged in endpoint order, which
     * need not be the queue's (outbox id, then endpoint id) */
    if (l->nstaged > 1)
        qsort(l->staged, l->nstaged, sizeof *l->staged, cmp_dlv);
    pthread_mutex_lock(&l->omu);
    bool sorted = !l->nq || cmp_dlv(&l->q[l->nq - 1], &l->staged[0]) < 0;
    if (cxm_grow((void **)&l->q, &l->qcap, l->nq + l->nstaged, sizeof *l->q)) {
        /* kept in the store: a restart delivers them */
        log_msg(LOG_ERROR, "out of memory queueing %zu deliveries", l->nstaged);
        for (size_t i = 0; i < l->nstaged; i++)
            dlv_free(&l->staged[i]);
    } else {
        memcpy(&l->q[l->nq], l->staged, l->nstaged * sizeof *l->q);
        l->nq += l->nstaged;
        if (!sorted)
            qsort(l->q, l->nq, sizeof *l->q, cmp_dlv);
    }
    l->nstaged = 0;
    l->wake = true;
    pthread_cond_broadcast(&l->ocond);
    pthread_mutex_unlock(&l->omu);
}

void outbox_aborted(struct engine *e)
{
    struct loop *l = e->loop;
    for (size_t i = 0; l && i < l->nstaged; i++)
        dlv_free(&l->staged[i]);
    if (l)
        l->nstaged = 0;
}

/* ---- emitting ------------------------------------------------------------------ */

static int emit_to(struct engine *e, enum evt t, uint32_t customer, int64_t ts, json_t *data,
                   const char *only, struct store_outbox *o, char **payload,
                   struct cxm_err *err)
{
    struct loop *l = e->loop;
    char when[TIMEFMT_LEN];
    timefmt_format(ts, when);
    int64_t id = l->outbox_last + 1;
    char mid[32];
    snprintf(mid, sizeof mid, "msg_%lld", (long long)id);
    json_t *env = json_pack("{s:s, s:s, s:s, s:o}", "id", mid, "type", evt_names[t],
                            "timestamp", when, "data", data);
    if (!env || !(*payload = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        json_decref(env);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    json_decref(env);
    *o = (struct store_outbox){.id = id, .ts = ts, .customer = customer,
                               .type = evt_names[t], .payload = *payload};
    int rc = e->store->ops->put_outbox(e->store, o, err);
    if (rc)
        return rc;
    l->outbox_last = id;
    for (size_t i = 0; i < l->nhooks; i++) {
        const struct hook *h = &l->hooks[i];
        if (only ? strcmp(only, h->id) != 0 : !(h->enabled && (h->mask >> t & 1u)))
            continue;
        struct store_delivery d = {.outbox = id, .webhook = h->id, .status = "pending",
                                   .next_ts = now_ms(), .updated_ts = ts};
        if ((rc = e->store->ops->put_delivery(e->store, &d, err)))
            return rc;
        if (stage(l, h->id, o))
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    return CXM_OK;
}

int outbox_emit(struct engine *e, enum evt t, uint32_t customer, int64_t ts, json_t *data,
                struct cxm_err *err)
{
    struct store_outbox o;
    char *payload = NULL;
    int rc = emit_to(e, t, customer, ts, data, NULL, &o, &payload, err);
    free(payload);
    return rc;
}

int outbox_customer(struct engine *e, enum evt t, uint32_t customer, uint32_t other,
                    const char *cause, int64_t ts, struct cxm_err *err)
{
    if (!outbox_wants(e, t))
        return CXM_OK;
    json_t *d = json_pack("{s:I}", "customer", (json_int_t)customer);
    if (d && other)
        json_object_set_new(d, t == EVT_CUSTOMER_MERGED ? "merged" : "cut", json_integer(other));
    if (d && cause)
        json_object_set_new(d, "cause", json_string(cause));
    if (!d)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return outbox_emit(e, t, customer, ts, d, err);
}

int outbox_employee(struct engine *e, const struct store_employee *se, int64_t ts,
                    struct cxm_err *err)
{
    if (!outbox_wants(e, EVT_EMPLOYEE_UPDATED))
        return CXM_OK;
    json_t *d = json_pack("{s:s, s:s?, s:s?, s:s?}", "id", se->id, "name", se->name, "team",
                          se->team, "role", se->role);
    if (!d)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return outbox_emit(e, EVT_EMPLOYEE_UPDATED, 0, ts, d, err);
}

int outbox_contact(struct engine *e, const struct store_contact *c, const char *channel,
                   struct cxm_err *err)
{
    if (!outbox_wants(e, EVT_CONTACT_RECORDED))
        return CXM_OK;
    char ts[TIMEFMT_LEN];
    timefmt_format(c->ts, ts);
    json_t *d = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:I}", "customer",
                          (json_int_t)model_root(e->m, (uint32_t)c->customer), "ts", ts, "kind",
                          contact_kind_name(c->kind), "action", c->action, "channel", channel,
                          "decision", (json_int_t)c->decision);
    if (!d)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return outbox_emit(e, EVT_CONTACT_RECORDED, (uint32_t)c->customer, c->ts, d, err);
}

int outbox_segment(struct engine *e, enum evt t, const char *id, const char *name,
                   const char *rule, int64_t ts, struct cxm_err *err)
{
    if (!outbox_wants(e, t))
        return CXM_OK;
    json_t *d = json_pack("{s:s, s:s?, s:s?}", "id", id, "name", name, "rule", rule);
    if (!d)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return outbox_emit(e, t, 0, ts, d, err);
}

int outbox_email(struct engine *e, uint32_t customer, int64_t ts, const char *to,
                 const char *subject, const char *text, struct cxm_err *err)
{
    struct loop *l = e->loop;
    json_t *d = json_pack("{s:s, s:s, s:s}", "to", to, "subject", subject, "text", text);
    if (!d)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    struct store_outbox o;
    char *payload = NULL;
    int rc = emit_to(e, EVT_EMAIL, customer, ts, d, "", &o, &payload, err);
    struct store_delivery sd = {.outbox = o.id, .webhook = SMTP_ENDPOINT, .status = "pending",
                                .next_ts = now_ms(), .updated_ts = ts};
    if (!rc)
        rc = e->store->ops->put_delivery(e->store, &sd, err);
    if (!rc && stage(l, SMTP_ENDPOINT, &o))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    free(payload);
    return rc;
}

/* ---- load ---------------------------------------------------------------------- */

static int scan_hook(void *ctx, const struct store_webhook *w)
{
    return hook_add(ctx, w);
}

static int scan_pending(void *ctx, const struct store_delivery *d)
{
    struct loop *l = ctx;
    if (cxm_grow((void **)&l->q, &l->qcap, l->nq + 1, sizeof *l->q))
        return CXM_ENOMEM;
    int rc = dlv_make(&l->q[l->nq], d->webhook, &d->ev, (int)d->attempts, d->next_ts);
    if (!rc)
        l->nq++;
    return rc;
}

static void email_clear(struct loop *l)
{
    free(l->smtp_url);
    free(l->smtp_from);
    free(l->smtp_user);
    free(l->smtp_pass);
    l->smtp_url = l->smtp_from = l->smtp_user = l->smtp_pass = NULL;
    l->smtp_timeout = 0;
}

static int email_parse(const char *json, size_t len, const struct loop *old, json_t **doc,
                       struct cxm_err *err);
static int email_set(struct loop *l, json_t *doc);

int outbox_load(struct engine *e, struct cxm_err *err)
{
    struct loop *l = e->loop;
    int rc = e->store->ops->max_outbox(e->store, &l->outbox_last, err);
    char *em = NULL;
    if (!rc)
        rc = e->store->ops->get_config(e->store, "email", &em, err);
    if (!rc && em) {
        json_t *doc = NULL;
        if (!email_parse(em, strlen(em), NULL, &doc, err))
            rc = email_set(l, doc);
        json_decref(doc);
    }
    free(em);
    pthread_mutex_lock(&l->omu);
    struct store_scan cb = {.ctx = l, .webhook = scan_hook, .pending = scan_pending};
    if (!rc)
        rc = e->store->ops->scan(e->store, &cb, err);
    if (!rc && l->nq > 1)
        qsort(l->q, l->nq, sizeof *l->q, cmp_dlv);
    l->wake = true;
    pthread_cond_broadcast(&l->ocond);
    pthread_mutex_unlock(&l->omu);
    want_update(l);
    return rc;
}

void outbox_unload(struct engine *e)
{
    struct loop *l = e->loop;
    pthread_mutex_lock(&l->omu);
    q_clear(l);
    pthread_mutex_unlock(&l->omu);
    for (size_t i = 0; i < l->nhooks; i++)
        hook_free(&l->hooks[i]);
    l->nhooks = 0;
    email_clear(l);
    outbox_aborted(e);
    want_update(l);
}

int outbox_open(struct engine *e, struct cxm_err *err)
{
    (void)err;
    struct loop *l = e->loop;
    pthread_mutex_init(&l->omu, NULL);
    pthread_cond_init(&l->ocond, NULL);
    l->dopt = (struct delivery_opts){.max_attempts = 8, .base_ms = 5000, .max_ms = 3600000};
    l->rnd = (uint32_t)now_ms() | 1u;
    return CXM_OK;
}

void outbox_close(struct engine *e)
{
    struct loop *l = e->loop;
    free(l->q);
    free(l->hooks);
    free(l->staged);
    pthread_mutex_destroy(&l->omu);
    pthread_cond_destroy(&l->ocond);
}

/* ---- e-mail settings --------------------------------------------------------- */

static int email_parse(const char *json, size_t len, const struct loop *old, json_t **doc,
                       struct cxm_err *err)
{
    static const char *const known[] = {"smtp_url", "from", "username", "password",
                                        "timeout_ms", NULL};
    json_error_t je;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    *doc = j;
    if (!j)
        return cxm_err_set(err, CXM_EINVAL, "invalid JSON at line %d column %d: %s",
                           je.line, je.column, je.text);
    if (!json_is_object(j))
        return cxm_err_set(err, CXM_EINVAL, "must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(known[i], k) == 0;
        if (!ok)
            return cxm_err_field(err, CXM_EINVAL, -1, k, "is not a known member");
        if (strcmp(k, "timeout_ms") == 0 ? !json_is_integer(v) || json_integer_value(v) < 100
                                           || json_integer_value(v) > 600000
                                         : !json_is_string(v) || strlen(json_string_value(v))
                                           > 1024 || strpbrk(json_string_value(v), "\r\n"))
            return cxm_err_field(err, CXM_EINVAL, -1, k, strcmp(k, "timeout_ms") == 0 ?
                                 "must be milliseconds from 100 to 600000" :
                                 "must be a one-line string of at most 1024 bytes");
    }
    const char *url = json_string_value(json_object_get(j, "smtp_url"));
    if (!url || (strncmp(url, "smtp://", 7) && strncmp(url, "smtps://", 8)))
        return cxm_err_field(err, CXM_EINVAL, -1, "smtp_url",
                             "must be smtp://host:port or smtps://host:port");
    const char *from = json_string_value(json_object_get(j, "from"));
    if (!from || !strchr(from, '@'))
        return cxm_err_field(err, CXM_EINVAL, -1, "from", "must be an e-mail address");
    /* the password is kept when a change leaves it out */
    if (old && old->smtp_pass && !json_object_get(j, "password"))
        json_object_set_new(j, "password", json_string(old->smtp_pass));
    return CXM_OK;
}

static int email_set(struct loop *l, json_t *doc)
{
    const char *k[4] = {"smtp_url", "from", "username", "password"};
    char *v[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++) {
        const char *s = json_string_value(json_object_get(doc, k[i]));
        if (s && *s && !(v[i] = cxm_strdup(s))) {
            for (int j = 0; j < i; j++)
                free(v[j]);
            return CXM_ENOMEM;
        }
    }
    email_clear(l);
    l->smtp_url = v[0];
    l->smtp_from = v[1];
    l->smtp_user = v[2];
    l->smtp_pass = v[3];
    json_t *t = json_object_get(doc, "timeout_ms");
    l->smtp_timeout = t ? (long)json_integer_value(t) : 10000;
    want_update(l);
    return CXM_OK;
}

static json_t *email_json(const struct loop *l)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "smtp_url", l->smtp_url ? json_string(l->smtp_url) : json_null());
    json_object_set_new(o, "from", l->smtp_from ? json_string(l->smtp_from) : json_null());
    json_object_set_new(o, "username", l->smtp_user ? json_string(l->smtp_user) : json_null());
    json_object_set_new(o, "password_set", json_boolean(l->smtp_pass != NULL));
    json_object_set_new(o, "timeout_ms", json_integer(l->smtp_timeout ? l->smtp_timeout
                                                                       : 10000));
    return o;
}

static int apply_email(struct engine *e, struct group *g, struct loop_req *r,
                       struct cxm_err *err)
{
    json_t *doc = NULL;
    int rc = email_parse(r->json, r->len, e->loop, &doc, err);
    char *s = rc ? NULL : json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!rc && !s)
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!rc)
        rc = e->store->ops->put_config(e->store, "email", s, group_next_seq(g), err);
    if (!rc && email_set(e->loop, doc))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!rc && !(r->out = email_json(e->loop)))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    free(s);
    json_decref(doc);
    return rc;
}

/* ---- endpoint changes ------------------------------------------------------ */

static bool url_ok(const char *u)
{
    size_t n = strlen(u);
    if (n > MAX_URL || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)))
        return false;
    const char *host = u + (u[4] == 's' ? 8 : 7);
    if (!*host || *host == '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= ' ' || u[i] == 0x7f)
            return false;
    return true;
}

static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || strcmp(s, SMTP_ENDPOINT) == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static int apply_webhook(struct engine *e, struct group *g, struct loop_req *r,
                         struct cxm_err *err)
{
    struct loop *l = e->loop;
    const struct webhook_def *d = r->wd;
    struct hook *h = d->id ? hook_find(l, d->id) : NULL;
    char gen[32], secret[WEBHOOK_SECRET_LEN];
    if (r->create) {
        if (d->id && !id_ok(d->id))
            return cxm_err_field(err, CXM_EINVAL, -1, "id", "must be 1-64 letters, digits,"
                                 " '_' or '-' (and not \"smtp\")");
        if (h)
            return cxm_err_field(err, CXM_ECONFLICT, -1, "id", "webhook \"%s\" exists", d->id);
        if (l->nhooks >= MAX_HOOKS)
            return cxm_err_set(err, CXM_ETOOBIG, "at most %d webhooks", MAX_HOOKS);
        if (!d->url)
            return cxm_err_field(err, CXM_EINVAL, -1, "url", "is required");
    } else if (!h) {
        return cxm_err_set(err, CXM_ENOTFOUND, "no webhook \"%s\"", d->id ? d->id : "");
    }
    if (d->url && !url_ok(d->url))
        return cxm_err_field(err, CXM_EINVAL, -1, "url", "must be an http:// or https:// URL"
                             " of at most %d bytes without spaces", MAX_URL);
    if (d->description && strlen(d->description) > MAX_DESC)
        return cxm_err_field(err, CXM_EINVAL, -1, "description", "is longer than %d bytes",
                             MAX_DESC);
    uint64_t mask;
    int rc = d->events ? events_mask(d->events, &mask, err) : CXM_OK;
    if (rc)
        return rc;
    if (r->create && !d->id) {
        snprintf(gen, sizeof gen, "wh_%08x%08x", next_rnd(l), next_rnd(l));
    }
    bool made = r->create || d->rotate;
    if (made && webhook_secret_new(secret))
        return cxm_err_set(err, CXM_EIO, "no random secret");
    int64_t now = engine_now(e);
    struct store_webhook w = {
        .seq = group_next_seq(g), .created_ts = h ? h->created_ts : now,
        .id = h ? h->id : d->id ? d->id : gen,
        .url = d->url ? d->url : h->url, .secret = made ? secret : h->secret,
        .events = d->events ? d->events : h ? h->events : "*",
        .description = d->description ? d->description : h ? h->description : "",
        .enabled = d->enabled >= 0 ? d->enabled != 0 : h ? h->enabled : true};
    if ((rc = e->store->ops->put_webhook(e->store, &w, err)))
        return rc;
    /* w borrows h's strings: find it by place, not by its (freed) id */
    size_t at = h ? (size_t)(h - l->hooks) : l->nhooks;
    rc = h ? hook_set(h, &w) : hook_add(l, &w);
    if (rc)
        return cxm_err_set(err, rc, "out of memory");
    h = &l->hooks[at];
    want_update(l);
    if (!(r->out = hook_json(h, made)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    /* deliveries held while it was disabled may go now */
    pthread_mutex_lock(&l->omu);
    l->wake = true;
    pthread_cond_broadcast(&l->ocond);
    pthread_mutex_unlock(&l->omu);
    return CXM_OK;
}

static int apply_delete(struct engine *e, struct loop_req *r, struct cxm_err *err)
{
    struct loop *l = e->loop;
    struct hook *h = hook_find(l, r->id);
    if (!h)
        return cxm_err_set(err, CXM_ENOTFOUND, "no webhook \"%s\"", r->id);
    int rc = e->store->ops->delete_webhook(e->store, r->id, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&l->omu);
    for (size_t i = l->nq; i-- > 0;)
        if (strcmp(l->q[i].webhook, r->id) == 0)
            q_remove(l, i);
    pthread_mutex_unlock(&l->omu);
    hook_free(h);
    size_t i = (size_t)(h - l->hooks);
    memmove(h, h + 1, (l->nhooks - i - 1) * sizeof *h);
    l->nhooks--;
    want_update(l);
    return CXM_OK;
}

struct replay_ctx {
    struct engine *e;
    const struct hook *h;
    size_t n;
    struct cxm_err *err;
};

static int replay_one(void *ctx, const struct store_outbox *o)
{
    struct replay_ctx *x = ctx;
    struct loop *l = x->e->loop;
    int t = evt_parse(o->type);
    if (t < 0 || !(x->h->mask >> t & 1u))
        return CXM_OK;
    pthread_mutex_lock(&l->omu);
    bool queued = q_find(l, o->id, x->h->id) >= 0;
    pthread_mutex_unlock(&l->omu);
    if (queued)
        return CXM_OK;
    struct store_delivery d = {.outbox = o->id, .webhook = x->h->id, .status = "pending",
                               .next_ts = now_ms(), .updated_ts = engine_now(x->e)};
    int rc = x->e->store->ops->put_delivery(x->e->store, &d, x->err);
    if (!rc && stage(l, x->h->id, o))
        rc = cxm_err_set(x->err, CXM_ENOMEM, "out of memory");
    x->n += !rc;
    return rc;
}

static int apply_replay(struct engine *e, struct loop_req *r, struct cxm_err *err)
{
    const struct hook *h = hook_find(e->loop, r->id);
    if (!h)
        return cxm_err_set(err, CXM_ENOTFOUND, "no webhook \"%s\"", r->id);
    if (r->from < 1 || r->to < r->from)
        return cxm_err_field(err, CXM_EINVAL, -1, "from", "give 1 <= from <= to");
    if (r->to - r->from >= MAX_REPLAY)
        return cxm_err_field(err, CXM_EINVAL, -1, "to", "at most %d events at once",
                             MAX_REPLAY);
    struct replay_ctx x = {.e = e, .h = h, .err = err};
    int rc = e->store->ops->scan_outbox(e->store, r->from, r->to, replay_one, &x, err);
    if (!rc && !(r->out = json_pack("{s:s, s:I, s:I, s:I}", "webhook", h->id, "from",
                                     (json_int_t)r->from, "to", (json_int_t)r->to,
                                     "replayed", (json_int_t)x.n)))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return rc;
}

static int record_result(struct engine *e, const struct outbound_result *res,
                         struct cxm_err *err)
{
    struct loop *l = e->loop;
    int64_t now = engine_now(e);
    struct store_attempt a = {.webhook = res->webhook, .outbox = res->outbox, .n = res->attempt,
                              .ts = res->ts, .code = res->code, .ms = res->ms,
                              .error = res->error};
    int rc = e->store->ops->put_attempt(e->store, &a, err);
    if (rc)
        return rc;
    struct store_delivery d = {.outbox = res->outbox, .webhook = res->webhook,
                               .attempts = res->attempt, .last_code = res->code,
                               .error = res->error, .updated_ts = now};
    int64_t next = 0;
    switch (res->verdict) {
    case WH_DELIVERED:
        d.status = "delivered";
        break;
    case WH_RETRY:
        if (res->attempt >= l->dopt.max_attempts) {
            d.status = "failed";
        } else {
            d.status = "pending";
            next = now_ms() + webhook_backoff_ms(res->attempt, l->dopt.base_ms, l->dopt.max_ms,
                                                 next_rnd(l));
        }
        break;
    case WH_GONE:
        d.status = "pending";    /* held until the endpoint is enabled again */
        next = now_ms();
        break;
    default:
        d.status = "failed";
        break;
    }
    d.next_ts = next;
    if ((rc = e->store->ops->put_delivery(e->store, &d, err)))
        return rc;
    pthread_mutex_lock(&l->omu);
    l->n_ok += res->verdict == WH_DELIVERED;
    l->n_retried += !strcmp(d.status, "pending") && res->verdict != WH_DELIVERED;
    l->n_failed += !strcmp(d.status, "failed");
    ssize_t i = q_find(l, res->outbox, res->webhook);
    if (i >= 0) {
        l->q[i].inflight = false;
        l->q[i].attempts = res->attempt;
        l->q[i].next_ts = next;
        if (strcmp(d.status, "pending") != 0)
            q_remove(l, (size_t)i);
    }
    l->wake = true;
    pthread_cond_broadcast(&l->ocond);
    pthread_mutex_unlock(&l->omu);
    return CXM_OK;
}

/* A 410: the endpoint asked to be disabled. */
static int disable_hook(struct engine *e, struct group *g, const char *id, struct cxm_err *err)
{
    struct hook *h = hook_find(e->loop, id);
    if (!h || !h->enabled)
        return CXM_OK;
    struct store_webhook w = {.seq = group_next_seq(g), .created_ts = h->created_ts,
                              .id = h->id, .url = h->url, .secret = h->secret,
                              .events = h->events, .description = h->description,
                              .enabled = false};
    int rc = e->store->ops->put_webhook(e->store, &w, err);
    if (!rc) {
        h->enabled = false;
        want_update(e->loop);
        log_msg(LOG_WARN, "webhook %s answered 410 Gone: disabled", id);
    }
    return rc;
}

static int apply_done(struct engine *e, struct group *g, struct loop_req *r,
                      struct cxm_err *err)
{
    int rc = CXM_OK;
    for (size_t i = 0; !rc && i < r->nres; i++) {
        rc = record_result(e, &r->res[i], err);
        if (!rc && r->res[i].verdict == WH_GONE && strcmp(r->res[i].webhook, SMTP_ENDPOINT))
            rc = disable_hook(e, g, r->res[i].webhook, err);
    }
    return rc;
}

int outbox_apply(struct engine *e, struct group *g, struct loop_req *r, struct cxm_err *err)
{
    switch (r->op) {
    case LOOP_WEBHOOK: return apply_webhook(e, g, r, err);
    case LOOP_WEBHOOK_DEL: return apply_delete(e, r, err);
    case LOOP_REPLAY: return apply_replay(e, r, err);
    case LOOP_DONE: return apply_done(e, g, r, err);
    case LOOP_EMAIL: return apply_email(e, g, r, err);
    default: return cxm_err_set(err, CXM_EINVAL, "unknown closed-loop work %d", r->op);
    }
}

/* ---- the delivery thread's side ---------------------------------------------- */

void outbound_free(struct outbound *o)
{
    free(o->webhook);
    free(o->url);
    free(o->secret);
    free(o->type);
    free(o->payload);
    free(o->from);
    free(o->username);
    free(o->password);
    memset(o, 0, sizeof *o);
}

/* Keys (endpoint, customer) of undelivered events seen so far in a pass
 * over the queue: open addressing; a collision only delays a delivery. */
struct keyset {
    uint64_t *k;
    size_t cap;
};

/* The profile's root, not the record's node: after a merge the events of
 * both records are one customer's. */
static uint64_t key_of(const struct model *m, const struct dlv *d)
{
    uint64_t h = 1469598103934665603u;
    for (const char *p = d->webhook; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    uint32_t c = d->customer <= m->ncust ? model_root(m, d->customer) : d->customer;
    return (h ^ ((uint64_t)c * 0x9e3779b97f4a7c15u)) | 1u;
}

/* Adds k; returns whether it was there. */
static bool keyset_put(struct keyset *s, uint64_t k)
{
    size_t i = (size_t)(k * 0x9e3779b97f4a7c15u) & (s->cap - 1);
    while (s->k[i]) {
        if (s->k[i] == k)
            return true;
        i = (i + 1) & (s->cap - 1);
    }
    s->k[i] = k;
    return false;
}

static int out_fill(const struct loop *l, const struct dlv *d, const struct hook *h,
                    struct outbound *o)
{
    memset(o, 0, sizeof *o);
    *o = (struct outbound){.outbox = d->outbox, .ts = d->ts, .attempt = d->attempts + 1};
    bool smtp = !h;
    const char *url = smtp ? l->smtp_url : h->url;
    if (!(o->webhook = cxm_strdup(d->webhook)) || !(o->type = cxm_strdup(d->type)) ||
        !(o->payload = cxm_strdup(d->payload)) || (url && !(o->url = cxm_strdup(url))) ||
        (!smtp && !(o->secret = cxm_strdup(h->secret))) ||
        (smtp && l->smtp_from && !(o->from = cxm_strdup(l->smtp_from))) ||
        (smtp && l->smtp_user && !(o->username = cxm_strdup(l->smtp_user))) ||
        (smtp && l->smtp_pass && !(o->password = cxm_strdup(l->smtp_pass)))) {
        outbound_free(o);
        return CXM_ENOMEM;
    }
    o->timeout_ms = smtp ? l->smtp_timeout : 0;
    return CXM_OK;
}

/* One pass: hands out what may go now; *wait_until the earliest time a
 * held one may (0: none). Under omu and the engine's read lock. */
static size_t take_pass(const struct model *m, struct loop *l, struct outbound *out,
                        size_t max, int64_t now, int64_t *wait_until)
{
    struct keyset ks = {0};
    size_t n = 0;
    *wait_until = 0;
    ks.cap = 16;
    while (ks.cap < 2 * l->nq)
        ks.cap *= 2;
    if (!(ks.k = cxm_calloc(ks.cap, sizeof *ks.k)))
        return 0;
    for (size_t i = 0; i < l->nq && n < max; i++) {
        struct dlv *d = &l->q[i];
        const struct hook *h = strcmp(d->webhook, SMTP_ENDPOINT) ? hook_find(l, d->webhook)
                                                                   : NULL;
        bool smtp = !h && strcmp(d->webhook, SMTP_ENDPOINT) == 0;
        if ((!h && !smtp) || (h && !h->enabled) || (smtp && !l->smtp_url))
            continue;
        if (d->customer && keyset_put(&ks, key_of(m, d)))
            continue;            /* an earlier event of the customer is undelivered */
        if (d->inflight)
            continue;
        if (d->next_ts > now) {
            if (!*wait_until || d->next_ts < *wait_until)
                *wait_until = d->next_ts;
            continue;
        }
        if (out_fill(l, d, h, &out[n]))
            break;
        d->inflight = true;
        n++;
    }
    free(ks.k);
    return n;
}

/* One pass under the locks (the engine's for endpoints and e-mail
 * settings, then omu, the writer's order); omu stays held. */
static size_t take_locked(struct engine *e, struct outbound *out, size_t max, int64_t *until)
{
    struct loop *l = e->loop;
    pthread_rwlock_rdlock(&e->lock);
    pthread_mutex_lock(&l->omu);
    l->wake = false;
    size_t n = take_pass(e->m, l, out, max, now_ms(), until);
    pthread_rwlock_unlock(&e->lock);
    return n;
}

int engine_outbound_take(struct engine *e, struct outbound *out, size_t max, size_t *n,
                         int wait_ms)
{
    struct loop *l = e->loop;
    int64_t deadline = now_ms() + (wait_ms > 0 ? wait_ms : 0), until;
    *n = take_locked(e, out, max, &until);
    if (!*n && now_ms() < deadline) {
        /* sleep until something may go, a change, or the deadline */
        if (!until || until > deadline)
            until = deadline;
        struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000L};
        while (!l->wake)
            if (pthread_cond_timedwait(&l->ocond, &l->omu, &ts) == ETIMEDOUT)
                break;
        pthread_mutex_unlock(&l->omu);
        *n = take_locked(e, out, max, &until);
    }
    pthread_mutex_unlock(&l->omu);
    return CXM_OK;
}

void engine_outbound_wake(struct engine *e)
{
    struct loop *l = e->loop;
    pthread_mutex_lock(&l->omu);
    l->wake = true;
    pthread_cond_broadcast(&l->ocond);
    pthread_mutex_unlock(&l->omu);
}

int engine_outbound_done(struct engine *e, const struct outbound_result *r, size_t n,
                         struct cxm_err *err)
{
    struct loop_req q = {.op = LOOP_DONE, .res = r, .nres = n};
    return loop_run(e, &q, NULL, err);
}

void engine_set_delivery(struct engine *e, const struct delivery_opts *o)
{
    pthread_rwlock_wrlock(&e->lock);
    struct loop *l = e->loop;
    l->dopt.max_attempts = o->max_attempts > 0 ? o->max_attempts : 8;
    l->dopt.base_ms = o->base_ms > 0 ? o->base_ms : 5000;
    l->dopt.max_ms = o->max_ms > 0 ? o->max_ms : 3600000;
    pthread_rwlock_unlock(&e->lock);
}

/* ---- the API's side ----------------------------------------------------------- */

int engine_webhooks(struct engine *e, json_t **out, struct cxm_err *err)
{
    json_t *a = json_array();
    pthread_rwlock_rdlock(&e->lock);
    for (size_t i = 0; a && i < e->loop->nhooks; i++)
        json_array_append_new(a, hook_json(&e->loop->hooks[i], false));
    pthread_rwlock_unlock(&e->lock);
    *out = a ? json_pack("{s:o}", "webhooks", a) : NULL;
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_webhook(struct engine *e, const char *id, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    const struct hook *h = hook_find(e->loop, id);
    *out = h ? hook_json(h, false) : NULL;
    size_t pending = 0;
    pthread_mutex_lock(&e->loop->omu);
    for (size_t i = 0; h && i < e->loop->nq; i++)
        pending += strcmp(e->loop->q[i].webhook, id) == 0;
    pthread_mutex_unlock(&e->loop->omu);
    pthread_rwlock_unlock(&e->lock);
    if (!h)
        return cxm_err_set(err, CXM_ENOTFOUND, "no webhook \"%s\"", id);
    if (!*out)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_object_set_new(*out, "pending", json_integer((json_int_t)pending));
    return CXM_OK;
}

int engine_webhook_put(struct engine *e, const struct webhook_def *d, bool create,
                       json_t **out, struct cxm_err *err)
{
    struct loop_req r = {.op = LOOP_WEBHOOK, .wd = d, .create = create};
    return loop_run(e, &r, out, err);
}

int engine_webhook_delete(struct engine *e, const char *id, struct cxm_err *err)
{
    struct loop_req r = {.op = LOOP_WEBHOOK_DEL, .id = id};
    return loop_run(e, &r, NULL, err);
}

int engine_webhook_replay(struct engine *e, const char *id, int64_t from, int64_t to,
                          json_t **out, struct cxm_err *err)
{
    struct loop_req r = {.op = LOOP_REPLAY, .id = id, .from = from, .to = to};
    return loop_run(e, &r, out, err);
}

int engine_email_settings(struct engine *e, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    *out = email_json(e->loop);
    pthread_rwlock_unlock(&e->lock);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_set_email_settings(struct engine *e, const char *json, size_t len,
                              struct cxm_err *err)
{
    struct loop_req r = {.op = LOOP_EMAIL, .json = json, .len = len};
    return loop_run(e, &r, NULL, err);
}


static int attempt_row(void *ctx, const struct store_attempt *a)
{
    json_t *arr = ctx;
    char ts[TIMEFMT_LEN];
    timefmt_format(a->ts, ts);
    json_t *o = json_pack("{s:i, s:s, s:i, s:I, s:s?}", "n", a->n, "ts", ts, "code", a->code,
                          "ms", (json_int_t)a->ms, "error", a->error);
    return o && !json_array_append_new(arr, o) ? CXM_OK : CXM_ENOMEM;
}

static int delivery_row(void *ctx, const struct store_delivery *d)
{
    json_t *rows = ctx;
    char ts[TIMEFMT_LEN];
    timefmt_format(d->ev.ts, ts);
    json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:I, s:i, s:s?}", "outbox",
                          (json_int_t)d->outbox, "type", d->ev.type, "ts", ts, "customer",
                          (json_int_t)d->ev.customer, "status", d->status, "attempts",
                          (json_int_t)d->attempts, "last_code", d->last_code, "error",
                          d->error);
    if (!o || json_array_append_new(rows, o))
        return CXM_ENOMEM;
    if (d->next_ts && strcmp(d->status, "pending") == 0) {
        char nx[TIMEFMT_LEN];
        timefmt_format(d->next_ts / 1000, nx);
        json_object_set_new(o, "next_attempt", json_string(nx));
    }
    return CXM_OK;
}

int engine_webhook_deliveries(struct engine *e, const char *id, int64_t before,
                              const char *status, size_t limit, bool attempts,
                              json_t **out, struct cxm_err *err)
{
    if (status && strcmp(status, "pending") && strcmp(status, "delivered") &&
        strcmp(status, "failed"))
        return cxm_err_field(err, CXM_EINVAL, -1, "status",
                             "must be pending, delivered or failed");
    pthread_rwlock_rdlock(&e->lock);
    bool known = strcmp(id, SMTP_ENDPOINT) == 0 || hook_find(e->loop, id);
    pthread_rwlock_unlock(&e->lock);
    if (!known)
        return cxm_err_set(err, CXM_ENOTFOUND, "no webhook \"%s\"", id);
    json_t *rows = json_array();
    if (!rows)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!limit || limit > 500)
        limit = 500;
    /* the rows first: their attempts are read on the same connection */
    int rc = e->store->ops->scan_deliveries(e->store, id, before, status, limit,
                                            delivery_row, rows, err);
    for (size_t i = 0; !rc && attempts && i < json_array_size(rows); i++) {
        json_t *o = json_array_get(rows, i), *arr = json_array();
        if (!arr) {
            rc = CXM_ENOMEM;
            break;
        }
        json_object_set_new(o, "attempts_log", arr);
        rc = e->store->ops->scan_attempts(e->store, id, (int64_t)json_integer_value(
                                          json_object_get(o, "outbox")), attempt_row, arr, err);
    }
    if (rc) {
        json_decref(rows);
        return err && err->code ? rc : cxm_err_set(err, rc, "%s", cxm_rc_str(rc));
    }
    size_t n = json_array_size(rows);
    json_t *last = n ? json_object_get(json_array_get(rows, n - 1), "outbox") : NULL;
    *out = json_pack("{s:s, s:o, s:o}", "webhook", id, "deliveries", rows, "next_before",
                     n == limit && last ? json_integer(json_integer_value(last)) : json_null());
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}
