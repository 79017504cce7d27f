/* engine.c - lifecycle and the writer. One writer thread drains the queue:
 * all work waiting is planned in one store transaction (identities
 * resolved, customers created and merged under the write lock), committed
 * with one fsync without the lock, and only then are the new records
 * applied to memory and the submitters told. A failed commit rolls back
 * and reloads the model from the store, so memory never holds what the
 * store lost. */
#include "engine/engine_impl.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "cxm_limits.h"
#include "engine/decide.h"
#include "engine/loop.h"
#include "engine/segments.h"
#include "log.h"

/* A record waiting for its commit before it is applied to memory. */
struct pending {
    enum event_type type;
    uint32_t customer;   /* prefetched when applied, with */
    uint64_t idem_hash;  /* the record's id hash */
    union {
        struct store_interaction i;
        struct store_feedback f;
        struct store_order o;
    } u;
};

struct group {
    struct arena a;
    struct strmap *ids[3];       /* ids of interactions, feedback, orders seen
                                  * in this group (borrowed from the work) */
    struct pending *p;
    size_t np, cap;
    int64_t seq;                 /* last seq handed out */
    size_t nevents;              /* events of the group's ingest work */
    uint32_t *touched;           /* customer nodes whose profiles changed */
    size_t nt, tcap;
    bool refresh;                /* run the time-dependent segments again */
};

/* Remembers a node whose profile changed, for the segments. */
static void touch(struct group *g, uint32_t node)
{
    if (node && (g->nt == 0 || g->touched[g->nt - 1] != node) &&
        !cxm_grow((void **)&g->touched, &g->tcap, g->nt + 1, sizeof *g->touched))
        g->touched[g->nt++] = node;
    /* out of memory: the day's refresh brings the segment back in line */
}

static int64_t next_seq(struct group *g)
{
    return ++g->seq;
}

int64_t group_next_seq(struct group *g)
{
    return next_seq(g);
}

int64_t *group_seq(struct group *g)
{
    return &g->seq;
}

void group_touch(struct group *g, uint32_t node)
{
    touch(g, node);
}

static int push_pending(struct group *g, const struct pending *p)
{
    int rc = cxm_grow((void **)&g->p, &g->cap, g->np + 1, sizeof *g->p);
    if (!rc)
        g->p[g->np++] = *p;
    return rc;
}

/* Interns s in dictionary d, writing a new code to the store. */
static int intern(struct engine *e, struct group *g, int d, const char *s,
                  uint32_t *code, struct cxm_err *err)
{
    (void)g;
    *code = 0;
    if (!s)
        return CXM_OK;
    bool added;
    int rc = dict_intern(e->m->dict[d], s, code, &added);
    if (rc)
        return cxm_err_set(err, rc, "dictionary %d is full (%d values)", d,
                           CXM_MAX_DICT);
    if (added)
        return e->store->ops->put_dict(e->store, d, *code, s, err);
    return CXM_OK;
}

static int put_customer_row(struct engine *e, uint32_t id, struct cxm_err *err)
{
    const struct cust *c = &e->m->cust[id];
    struct store_customer sc = {
        .id = id, .seq = c->seq, .created_ts = c->created_ts,
        .updated_seq = c->a.updated_seq ? c->a.updated_seq : c->seq,
        .name = c->a.name, .gender = model_str(e->m, CD_GENDER, c->a.gender),
        .country = model_str(e->m, CD_COUNTRY, c->a.country),
        .city = model_str(e->m, CD_CITY, c->a.city),
        .language = model_str(e->m, CD_LANGUAGE, c->a.language),
        .attributes = c->a.attributes, .birth_year = c->a.birth_year,
        .consent_marketing = c->a.consent_m, .consent_surveys = c->a.consent_s,
        .consent_personalisation = c->a.consent_p};
    return e->store->ops->put_customer(e->store, &sc, err);
}

static int new_customer(struct engine *e, struct group *g, int64_t ts,
                        uint32_t *id, struct cxm_err *err)
{
    if (e->m->ncust >= UINT32_MAX - 1)
        return cxm_err_set(err, CXM_ETOOBIG, "too many customers");
    uint32_t nid = (uint32_t)e->m->ncust + 1;
    int rc = model_add_customer(e->m, nid, ts, next_seq(g));
    if (rc)
        return cxm_err_set(err, rc, "out of memory");
    *id = nid;
    if ((rc = put_customer_row(e, nid, err)))
        return rc;
    return outbox_customer(e, EVT_CUSTOMER_CREATED, nid, 0, NULL, ts, err);
}

/* Finds the customer of an event by customer_id and identities, creating
 * one when none is known, merging profiles the event shows to be one
 * person (the older survives) and linking its new identities. */
static int resolve(struct engine *e, struct group *g, const struct event *ev,
                   long index, uint32_t *origin, struct cxm_err *err)
{
    struct model *m = e->m;
    uint32_t found[CXM_MAX_IDENTITIES];
    uint32_t roots[CXM_MAX_IDENTITIES + 1];
    size_t nroots = 0;
    uint32_t o = (uint32_t)ev->customer_id;
    for (size_t i = 0; i < ev->nids; i++) {
        const struct event_ident *id = &ev->ids[i];
        found[i] = id->hash ? model_find_ident_h(m, id->kind, id->value, id->hash)
                            : model_find_ident(m, id->kind, id->value);
        if (found[i] && !o)
            o = found[i];
    }
    int rc;
    if (!o && (rc = new_customer(e, g, ev->ts, &o, err)))
        return rc;
    roots[nroots++] = model_root(m, o);
    for (size_t i = 0; i < ev->nids; i++) {
        if (!found[i])
            continue;
        uint32_t r = model_root(m, found[i]);
        size_t k = 0;
        while (k < nroots && roots[k] != r)
            k++;
        if (k == nroots)
            roots[nroots++] = r;
    }
    if (nroots > 1) {
        size_t s = 0;   /* survivor: the older customer, the lowest id */
        for (size_t k = 1; k < nroots; k++)
            if (roots[k] < roots[s])
                s = k;
        for (size_t k = 0; k < nroots; k++) {
            if (k == s)
                continue;
            char cause[256];
            snprintf(cause, sizeof cause,
                     "%s record %ld%s%.100s%s names identities of customers %u and %u",
                     event_type_name(ev->type), index,
                     ev->event_id ? " (event_id " : "",
                     ev->event_id ? ev->event_id : "", ev->event_id ? ")" : "",
                     roots[s], roots[k]);
            struct store_merge mg = {.seq = next_seq(g), .ts = ev->ts,
                                     .parent = roots[s], .child = roots[k],
                                     .cause = cause};
            if ((rc = model_add_merge(m, &mg)))
                return cxm_err_set(err, rc, "merge failed: %s", cxm_rc_str(rc));
            if ((rc = e->store->ops->put_merge(e->store, &mg, err)) ||
                (rc = outbox_customer(e, EVT_CUSTOMER_MERGED, roots[s], roots[k], cause,
                                      ev->ts, err)))
                return rc;
        }
    }
    for (size_t i = 0; i < ev->nids; i++) {
        if (found[i])
            continue;
        struct store_identity si = {.seq = next_seq(g), .customer = o,
                                    .kind = ev->ids[i].kind,
                                    .value = ev->ids[i].value};
        if ((rc = model_add_ident(m, si.kind, si.value, o, si.seq)))
            return cxm_err_set(err, rc, "out of memory");
        if ((rc = e->store->ops->put_identity(e->store, &si, err)))
            return rc;
    }
    *origin = o;
    return CXM_OK;
}

static int replace_str(char **dst, const char *src)
{
    char *n = NULL;
    if (src && *src && !(n = cxm_strdup(src)))
        return CXM_ENOMEM;
    free(*dst);
    *dst = n;
    return CXM_OK;
}

static int apply_customer(struct engine *e, struct group *g, const struct event *ev,
                          uint32_t id, bool created, struct cxm_err *err)
{
    struct attrs *a = &e->m->cust[id].a;
    unsigned s = ev->set;
    bool oom = ((s & CF_NAME) && replace_str(&a->name, ev->name)) ||
               ((s & CF_ATTRS) && replace_str(&a->attributes, ev->attributes));
    int rc = CXM_OK;
    if (!oom && (s & CF_GENDER))
        rc = model_code(e->m, CD_GENDER, ev->gender, &a->gender);
    if (!oom && !rc && (s & CF_COUNTRY))
        rc = model_code(e->m, CD_COUNTRY, ev->country, &a->country);
    if (!oom && !rc && (s & CF_LANGUAGE))
        rc = model_code(e->m, CD_LANGUAGE, ev->language, &a->language);
    if (!oom && !rc && (s & CF_CITY))
        rc = model_code(e->m, CD_CITY, ev->city, &a->city);
    if (oom || rc)
        return cxm_err_set(err, oom ? CXM_ENOMEM : rc, "customer attributes: %s",
                           cxm_rc_str(oom ? CXM_ENOMEM : rc));
    if (s & CF_BIRTH_YEAR)
        a->birth_year = ev->birth_year;
    if (s & CF_CONSENT_M)
        a->consent_m = ev->consent_m;
    if (s & CF_CONSENT_S)
        a->consent_s = ev->consent_s;
    if (s & CF_CONSENT_P)
        a->consent_p = ev->consent_p;
    a->updated_seq = next_seq(g);
    if ((rc = put_customer_row(e, id, err)))
        return rc;
    /* a customer created by this record: customer.created says it */
    return created ? CXM_OK : outbox_customer(e, EVT_CUSTOMER_UPDATED, id, 0, NULL, ev->ts,
                                              err);
}

static int plan_record(struct engine *e, struct group *g, const struct event *ev,
                       uint32_t cust, struct cxm_err *err)
{
    struct store *s = e->store;
    struct pending p = {.type = ev->type, .customer = cust, .idem_hash = ev->idem_hash};
    int rc = CXM_OK;
    switch (ev->type) {
    case EV_INTERACTION: {
        struct store_interaction *r = &p.u.i;
        *r = (struct store_interaction){.seq = next_seq(g), .ts = ev->ts,
                                        .customer = cust, .duration = ev->duration,
                                        .value = ev->value, .text = ev->text,
                                        .event_id = ev->event_id, .sc = ev->sc};
        if ((rc = intern(e, g, DICT_CHANNEL, ev->channel, &r->channel, err)) ||
            (rc = intern(e, g, DICT_TOUCHPOINT, ev->touchpoint, &r->touchpoint, err)) ||
            (rc = intern(e, g, DICT_STAGE, ev->stage, &r->stage, err)) ||
            (rc = intern(e, g, DICT_ITYPE, ev->kind, &r->kind, err)) ||
            (rc = intern(e, g, DICT_AGENT, ev->agent, &r->agent, err)) ||
            (rc = intern(e, g, DICT_OUTCOME, ev->outcome, &r->outcome, err)) ||
            (rc = s->ops->put_interaction(s, r, err)))
            return rc;
        break;
    }
    case EV_FEEDBACK: {
        struct store_feedback *r = &p.u.f;
        *r = (struct store_feedback){.seq = next_seq(g), .ts = ev->ts,
                                     .customer = cust, .kind = ev->fkind,
                                     .score = ev->score, .comment = ev->text,
                                     .event_id = ev->event_id, .sc = ev->sc};
        if ((rc = intern(e, g, DICT_SURVEY, ev->survey, &r->survey, err)) ||
            (rc = intern(e, g, DICT_CHANNEL, ev->channel, &r->channel, err)) ||
            (rc = intern(e, g, DICT_TOUCHPOINT, ev->touchpoint, &r->touchpoint, err)) ||
            (rc = intern(e, g, DICT_STAGE, ev->stage, &r->stage, err)) ||
            (rc = intern(e, g, DICT_AGENT, ev->agent, &r->agent, err)) ||
            (rc = s->ops->put_feedback(s, r, err)))
            return rc;
        break;
    }
    case EV_ORDER: {
        struct store_order *r = &p.u.o;
        struct store_item *items = NULL;
        if (ev->nitems &&
            !(items = arena_alloc(&g->a, ev->nitems * sizeof *items)))
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        *r = (struct store_order){.seq = next_seq(g), .ts = ev->ts,
                                  .customer = cust, .amount = ev->amount,
                                  .order_id = ev->order_id, .nitems = ev->nitems,
                                  .items = items};
        for (size_t k = 0; k < ev->nitems; k++) {
            items[k].qty = ev->items[k].qty;
            items[k].price = ev->items[k].price;
            if ((rc = intern(e, g, DICT_SKU, ev->items[k].sku, &items[k].sku, err)) ||
                (rc = intern(e, g, DICT_CATEGORY, ev->items[k].category,
                             &items[k].category, err)))
                return rc;
        }
        if ((rc = intern(e, g, DICT_CURRENCY, ev->currency, &r->currency, err)) ||
            (rc = intern(e, g, DICT_CHANNEL, ev->channel, &r->channel, err)) ||
            (rc = s->ops->put_order(s, r, err)))
            return rc;
        break;
    }
    default:
        return CXM_OK;
    }
    if (push_pending(g, &p))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return loop_record(e, g, ev->type, &p.u, cust, ev->type == EV_ORDER ? NULL : ev->text,
                       err);
}

int engine_plan_record(struct engine *e, struct group *g, const struct event *ev,
                       uint32_t cust, struct cxm_err *err)
{
    return plan_record(e, g, ev, cust, err);
}

int engine_plan_customer(struct engine *e, struct group *g, int64_t ts, uint32_t *id,
                         struct cxm_err *err)
{
    int rc = new_customer(e, g, ts, id, err);
    if (!rc)
        touch(g, *id);
    return rc;
}

/* Whether an interaction, feedback or order with this id was stored
 * before: earlier in this group, or committed (the model's idset gives
 * candidate rows, the stored id confirms). Remembers it for the group.
 * One hash serves both tables. */
static int seen_before(struct engine *e, struct group *g, int kind,
                       const char *id, uint64_t h, bool *dup, struct cxm_err *err)
{
    const struct model *m = e->m;
    size_t len = strlen(id);
    if (len > CXM_MAX_EVENT_ID)
        return cxm_err_set(err, CXM_ETOOBIG, "event id too long");
    *dup = false;
    int t = kind == IDK_INTERACTION ? 0 : kind == IDK_FEEDBACK ? 1 : 2;
    if (!g->ids[t] && (!(g->ids[t] = strmap_new()) ||
                       strmap_reserve(g->ids[t], g->nevents)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!h)
        h = idset_hash(id, len);
    if (strmap_get_h(g->ids[t], id, len, h, NULL)) {
        *dup = true;
        return CXM_OK;
    }
    const struct idset *set = t == 0 ? &m->ids_i : t == 1 ? &m->ids_f : &m->ids_o;
    size_t pos = 0;
    uint32_t row;
    while (!*dup && (row = idset_next(set, h, &pos))) {
        if (kind == IDK_ORDER) {
            *dup = strcmp(m->oc.order_id[row], id) == 0;
            continue;
        }
        char stored[CXM_MAX_EVENT_ID + 1];
        int64_t seq = kind == IDK_INTERACTION ? m->ic.seq[row] : m->fc.seq[row];
        int rc = e->store->ops->get_event_id(e->store, kind, seq, stored, err);
        if (rc)
            return rc;
        *dup = strcmp(stored, id) == 0;
    }
    if (*dup)
        return CXM_OK;
    /* the id stays alive with its work until the group is done */
    if (strmap_put_h(g->ids[t], id, len, h, 1))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return CXM_OK;
}

/* Checks what only the model can tell before anything changes, so a bad
 * record rejects its whole batch without side effects. */
/* The dictionary-coded fields of an event, with their dictionary. */
struct coded {
    struct dict *d;
    const char *field, *value;
};

static size_t coded_fields(const struct model *m, const struct event *ev,
                           struct coded out[12])
{
    size_t n = 0;
#define CODED(dict, f, v) do { if (v) out[n++] = (struct coded){(dict), (f), (v)}; } while (0)
    switch (ev->type) {
    case EV_INTERACTION:
        CODED(m->dict[DICT_ITYPE], "kind", ev->kind);
        CODED(m->dict[DICT_OUTCOME], "outcome", ev->outcome);
        /* fall through */
    case EV_FEEDBACK:
        CODED(m->dict[DICT_CHANNEL], "channel", ev->channel);
        CODED(m->dict[DICT_TOUCHPOINT], "touchpoint", ev->touchpoint);
        CODED(m->dict[DICT_STAGE], "stage", ev->stage);
        CODED(m->dict[DICT_AGENT], "agent_id", ev->agent);
        CODED(m->dict[DICT_SURVEY], "survey", ev->survey);
        break;
    case EV_ORDER:
        CODED(m->dict[DICT_CHANNEL], "channel", ev->channel);
        CODED(m->dict[DICT_CURRENCY], "currency", ev->currency);
        break;
    case EV_CUSTOMER:
        CODED(m->cdict[CD_GENDER], "gender", ev->gender);
        CODED(m->cdict[CD_COUNTRY], "country", ev->country);
        CODED(m->cdict[CD_LANGUAGE], "language", ev->language);
        CODED(m->cdict[CD_CITY], "city", ev->city);
        break;
    default:
        break;
    }
#undef CODED
    return n;
}

/* Would this work add more distinct values than a dictionary holds? Told
 * now, as the work's own 400, so that it cannot fail the commit group it
 * shares with others. Cheap unless a dictionary is nearly full. */
static int precheck_dicts(struct engine *e, struct engine_work *w)
{
    const struct model *m = e->m;
    size_t headroom = CXM_MAX_DICT;
    for (int d = 1; d < DICT_COUNT; d++)
        if (CXM_MAX_DICT - dict_count(m->dict[d]) < headroom)
            headroom = CXM_MAX_DICT - dict_count(m->dict[d]);
    for (int d = 0; d < CD_COUNT; d++)
        if (CXM_MAX_DICT - dict_count(m->cdict[d]) < headroom)
            headroom = CXM_MAX_DICT - dict_count(m->cdict[d]);
    size_t most = 0;   /* new values this work could add to one dictionary */
    for (size_t i = 0; i < w->n; i++)
        most += 1 + w->ev[i].nitems;
    if (most <= headroom)
        return CXM_OK;
    /* Close to a limit: count the truly new values per dictionary. */
    struct strmap *seen = strmap_new();
    size_t added[DICT_COUNT + CD_COUNT] = {0};
    int rc = seen ? CXM_OK : cxm_err_set(&w->err, CXM_ENOMEM, "out of memory");
    char key[CXM_MAX_NAME + 8];
    for (size_t i = 0; !rc && i < w->n; i++) {
        const struct event *ev = &w->ev[i];
        struct coded c[12 + 2 * CXM_MAX_ITEMS];
        size_t nc = coded_fields(m, ev, c);
        for (size_t k = 0; k < ev->nitems && nc + 2 <= sizeof c / sizeof c[0]; k++) {
            c[nc++] = (struct coded){m->dict[DICT_SKU], "items.sku", ev->items[k].sku};
            if (ev->items[k].category)
                c[nc++] = (struct coded){m->dict[DICT_CATEGORY], "items.category",
                                         ev->items[k].category};
        }
        for (size_t k = 0; !rc && k < nc; k++) {
            if (dict_find(c[k].d, c[k].value))
                continue;
            size_t slot = 0;
            for (int d = 1; d < DICT_COUNT; d++)
                if (m->dict[d] == c[k].d)
                    slot = (size_t)d;
            for (int d = 0; d < CD_COUNT; d++)
                if (m->cdict[d] == c[k].d)
                    slot = DICT_COUNT + (size_t)d;
            int kl = snprintf(key, sizeof key, "%zu:%s", slot, c[k].value);
            if (kl < 0 || (size_t)kl >= sizeof key || strmap_get(seen, key, (size_t)kl, NULL))
                continue;
            char *copy = cxm_strndup(key, (size_t)kl);
            if (!copy || strmap_put(seen, copy, (size_t)kl, 1)) {
                free(copy);
                rc = cxm_err_set(&w->err, CXM_ENOMEM, "out of memory");
                break;
            }
            if (++added[slot] > CXM_MAX_DICT - dict_count(c[k].d))
                rc = cxm_err_field(&w->err, CXM_EINVAL, (long)i, c[k].field,
                                   "%s: more than %d distinct values would be"
                                   " stored; reuse existing names", c[k].field,
                                   CXM_MAX_DICT);
        }
    }
    strmap_free_keys(seen);
    return rc;
}

static int precheck(struct engine *e, struct engine_work *w)
{
    for (size_t i = 0; i < w->n; i++) {
        const struct event *ev = &w->ev[i];
        if (ev->customer_id && (size_t)ev->customer_id > e->m->ncust)
            return cxm_err_field(&w->err, CXM_EINVAL, (long)i,
                                 "customer_id", "unknown customer_id %lld",
                                 (long long)ev->customer_id);
    }
    return precheck_dicts(e, w);
}

/* Planning a record reads its strings (written by a request thread, most
 * likely on the other core), its identity's slot, key and entry in the
 * identity map, its customer node and its id's idset slot: all at random
 * places, and together most of the writer's time when each waits for
 * memory in turn. The records ahead are known, and so are their hashes
 * (computed where they were decoded), so the loop asks for each record's
 * memory in three steps ahead of planning it. */
#define AHEAD 8

/* The model's index of row ids a record type uses: 0 interactions, 1
 * feedback, 2 orders. */
static int row_kind(enum event_type t)
{
    return t == EV_INTERACTION ? 0 : t == EV_FEEDBACK ? 1 : 2;
}

static void prefetch_plan(const struct model *m, const struct event *ev, size_t step)
{
    const struct event_ident *id = ev->nids ? &ev->ids[0] : NULL;
    if (step == AHEAD) {
        __builtin_prefetch(ev->event_id ? ev->event_id : ev->order_id);
        __builtin_prefetch(ev->channel);
        __builtin_prefetch(ev->touchpoint);
        if (id) {
            __builtin_prefetch(id);
            __builtin_prefetch(id->value);
        }
        return;
    }
    if (step == AHEAD / 2) {
        if (id && id->hash)
            model_prefetch_ident(m, id->hash);
        if (ev->idem_hash)
            model_prefetch_row_id(m, row_kind(ev->type), ev->idem_hash);
        return;
    }
    if (id && id->hash) {
        if (step == AHEAD / 4)
            model_prefetch_ident_entry(m, id->hash);
        else
            model_prefetch_ident_cust(m, id->hash);
    }
}

static int plan_ingest(struct engine *e, struct group *g, struct engine_work *w,
                       struct cxm_err *err)
{
    struct store *s = e->store;
    const struct model *m = e->m;
    text_rescore_stale(e, w);
    static const size_t steps[] = {AHEAD, AHEAD / 2, AHEAD / 4, 1};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
        for (size_t i = 0; i < steps[k] && i < w->n; i++)
            prefetch_plan(m, &w->ev[i], steps[k]);
    for (size_t i = 0; i < w->n; i++) {
        const struct event *ev = &w->ev[i];
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
            if (i + steps[k] < w->n)
                prefetch_plan(m, &w->ev[i + steps[k]], steps[k]);
        int rc;
        const char *idem = ev->type == EV_ORDER ? ev->order_id : ev->event_id;
        if (idem) {
            static const int idk[] = {
                [EV_CUSTOMER] = IDK_CUSTOMER, [EV_IDENTIFY] = IDK_IDENTIFY,
                [EV_INTERACTION] = IDK_INTERACTION, [EV_FEEDBACK] = IDK_FEEDBACK,
                [EV_ORDER] = IDK_ORDER, [EV_EMPLOYEE] = IDK_EMPLOYEE};
            bool dup;
            int k = idk[ev->type];
            /* High-volume kinds use the in-memory index; the rest the
             * store's claim table. */
            if (k == IDK_INTERACTION || k == IDK_FEEDBACK || k == IDK_ORDER)
                rc = seen_before(e, g, k, idem, ev->idem_hash, &dup, err);
            else
                rc = s->ops->claim(s, k, idem, g->seq + 1, &dup, err);
            if (rc)
                return rc;
            if (dup) {
                w->duplicates++;
                continue;
            }
        }
        if (ev->type == EV_EMPLOYEE) {
            struct store_employee se = {.seq = next_seq(g), .id = ev->employee_id,
                                        .name = ev->name, .team = ev->team,
                                        .role = ev->role};
            if ((rc = s->ops->put_employee(s, &se, err)))
                return rc;
            if ((rc = model_put_employee(e->m, &se)))
                return cxm_err_set(err, rc, "out of memory");
            if ((rc = outbox_employee(e, &se, ev->ts, err)))
                return rc;
        } else {
            uint32_t cust = 0;
            int64_t before = g->seq;
            if ((rc = resolve(e, g, ev, (long)i, &cust, err)))
                return rc;
            touch(g, cust);
            if (ev->type == EV_CUSTOMER)
                rc = apply_customer(e, g, ev, cust, e->m->cust[cust].seq > before, err);
            else if (ev->type == EV_IDENTIFY)
                next_seq(g);
            else
                rc = plan_record(e, g, ev, cust, err);
            if (rc)
                return rc;
        }
        w->accepted++;
        w->seq = g->seq;
    }
    return CXM_OK;
}

static int plan_unmerge(struct engine *e, struct group *g, struct engine_work *w,
                        struct cxm_err *err)
{
    uint32_t c = w->customer;
    if (c < 1 || c > e->m->ncust) {
        w->rc = cxm_err_set(&w->err, CXM_ENOTFOUND, "no customer %u", c);
        return CXM_OK;
    }
    if (!e->m->cust[c].parent) {
        w->rc = cxm_err_set(&w->err, CXM_ECONFLICT,
                            "customer %u is not merged into another profile", c);
        return CXM_OK;
    }
    w->parent = model_root(e->m, c);
    const struct merge *mg = &e->m->merges[e->m->cust[c].merge - 1];
    int64_t seq = next_seq(g);
    int rc = e->store->ops->undo_merge(e->store, mg->seq, seq, err);
    if (rc)
        return rc;
    model_undo_merge(e->m, c, seq);
    if ((rc = outbox_customer(e, EVT_CUSTOMER_UNMERGED, w->parent, c, NULL, engine_now(e),
                              err)))
        return rc;
    touch(g, c);
    touch(g, w->parent);
    w->seq = seq;
    w->accepted = 1;
    return CXM_OK;
}

static int plan_benchmarks(struct engine *e, struct group *g, struct engine_work *w,
                           struct cxm_err *err)
{
    for (size_t i = 0; i < w->n; i++) {
        struct store_benchmark b = w->bench[i];
        b.seq = next_seq(g);
        int rc = e->store->ops->put_benchmark(e->store, &b, err);
        if (!rc && (rc = model_put_benchmark(e->m, &b)))
            cxm_err_set(err, rc, "out of memory");
        if (rc)
            return rc;
        w->accepted++;
        w->seq = b.seq;
    }
    return CXM_OK;
}

static int plan_clv(struct engine *e, struct group *g, struct engine_work *w,
                    struct cxm_err *err)
{
    struct store_clv_model c = *w->clv;
    c.seq = next_seq(g);
    int rc = e->store->ops->put_clv_model(e->store, &c, err);
    if (!rc && (rc = model_set_clv(e->m, &c)))
        cxm_err_set(err, rc, "out of memory");
    if (rc)
        return rc;
    w->accepted = 1;
    w->seq = c.seq;
    return CXM_OK;
}

static int plan_taxonomy(struct engine *e, struct group *g, struct engine_work *w,
                         struct cxm_err *err)
{
    int64_t seq = next_seq(g);
    int rc = text_set_taxonomy(e, w, seq, err);
    if (!rc)
        w->seq = seq;
    return rc;
}

static void apply_pending(struct model *m, const struct group *g)
{
    for (size_t i = 0; i < g->np; i++) {
        const struct pending *p = &g->p[i];
        if (i + AHEAD < g->np) {   /* written at random places */
            const struct pending *a = &g->p[i + AHEAD];
            model_prefetch_cust(m, a->customer);
            if (a->idem_hash)
                model_prefetch_row_id(m, row_kind(a->type), a->idem_hash);
        }
        int rc = CXM_OK;
        switch (p->type) {
        case EV_INTERACTION: rc = model_add_interaction(m, &p->u.i); break;
        case EV_FEEDBACK: rc = model_add_feedback(m, &p->u.f); break;
        case EV_ORDER: rc = model_add_order(m, &p->u.o); break;
        default: break;
        }
        if (rc)   /* committed but not in memory: a restart replays it */
            log_msg(LOG_ERROR, "applying seq %lld to memory failed: %s",
                    (long long)p->u.i.seq, cxm_rc_str(rc));
    }
    if (g->seq > m->last_seq)
        m->last_seq = g->seq;
}

static int reload(struct engine *e)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    struct model *nm;
    int rc = model_load(e->store, &nm, &err);
    if (rc) {
        log_msg(LOG_ERROR, "reload after a failed commit failed: %s", err.msg);
        return rc;
    }
    struct model *old = e->m;
    e->m = nm;
    model_free(old);
    if ((rc = text_reload(e, &err)))
        log_msg(LOG_ERROR, "reloading the taxonomy failed: %s", err.msg);
    return rc;
}

static void process(struct engine *e, struct engine_work *batch)
{
    struct group g = {.seq = 0};
    struct cxm_err err;
    cxm_err_clear(&err);
    struct store *s = e->store;
    /* A batch that only asks for today's segments touches no store */
    bool refresh_only = true;
    for (struct engine_work *w = batch; w; w = w->next)
        refresh_only &= w->op == ENGINE_REFRESH;
    if (refresh_only) {
        pthread_rwlock_wrlock(&e->lock);
        segments_refresh(e, false);
        pthread_rwlock_unlock(&e->lock);
        while (batch) {
            struct engine_work *next = batch->next;
            batch->next = NULL;
            batch->done(batch);
            batch = next;
        }
        return;
    }
    /* A batch of nothing but decision logs need not wait for the disk: a
     * crash may lose the last of them, never acknowledged data. */
    bool log_only = true;
    for (struct engine_work *w = batch; w; w = w->next)
        log_only &= w->op == ENGINE_DECISIONS;
    bool relaxed = log_only && e->sync > STORE_SYNC_NORMAL &&
                   !s->ops->set_sync(s, STORE_SYNC_NORMAL, &err);
    /* and changes no memory: readers go on while it is written (only
     * this thread writes the model, so it may read it unlocked) */
    if (!log_only) {
        pthread_rwlock_wrlock(&e->lock);
        e->mgen++;
    }
    g.seq = e->m->last_seq;
    for (struct engine_work *w = batch; w; w = w->next)
        if (w->op == ENGINE_INGEST)
            g.nevents += w->n;
    /* room for the records at once (out of memory: push_pending says so) */
    if (g.nevents)
        (void)cxm_grow((void **)&g.p, &g.cap, g.nevents, sizeof *g.p);
    int rc = e->failed ? cxm_err_set(&err, CXM_EUNAVAIL, "the store failed;"
                                     " restart cxm") : s->ops->begin(s, &err);
    for (struct engine_work *w = batch; !rc && w; w = w->next) {
        if (w->rc)
            continue;
        w->seq = g.seq;
        if (w->op == ENGINE_UNMERGE) {
            rc = plan_unmerge(e, &g, w, &err);
        } else if (w->op == ENGINE_BENCHMARKS) {
            rc = plan_benchmarks(e, &g, w, &err);
        } else if (w->op == ENGINE_CLV) {
            rc = plan_clv(e, &g, w, &err);
        } else if (w->op == ENGINE_TAXONOMY) {
            rc = plan_taxonomy(e, &g, w, &err);
        } else if (w->op == ENGINE_SEGMENT) {
            int64_t seq = next_seq(&g);
            if (!(rc = segments_apply(e, w, seq, &err)))
                w->seq = seq;
        } else if (w->op == ENGINE_REFRESH) {
            g.refresh = true;
        } else if (w->op == ENGINE_CONFIG) {
            int64_t seq = next_seq(&g);
            if (!(rc = nba_apply_config(e, w, seq, &err)))
                w->seq = seq;
        } else if (w->op == ENGINE_CONTACT) {
            rc = nba_apply_contacts(e, w, &g.seq, &g.touched, &g.nt, &g.tcap, &err);
        } else if (w->op == ENGINE_LOOP) {
            rc = loop_apply(e, &g, w, &err);
        } else if (w->op == ENGINE_DECISIONS) {
            /* written below, without the lock: readers need not wait */
        } else if (w->op == ENGINE_TEXT_MODEL) {
            int64_t seq = next_seq(&g);
            if (!(rc = text_set_model(e, w, seq, &err)))
                w->seq = seq;
        } else if (!(w->rc = precheck(e, w))) {
            rc = plan_ingest(e, &g, w, &err);
        }
    }
    if (!log_only)
        pthread_rwlock_unlock(&e->lock);

    /* the decision log touches no memory the lock guards */
    for (struct engine_work *w = batch; !rc && w; w = w->next)
        if (w->op == ENGINE_DECISIONS && !w->rc)
            rc = nba_apply_decisions(e, w, &err);
    double t0 = cxm_seconds();
    if (!rc)
        rc = s->ops->commit(s, g.seq, &err);
    double dt = cxm_seconds() - t0;
    if (relaxed && s->ops->set_sync(s, e->sync, &err))
        log_msg(LOG_ERROR, "restoring the store's durability failed: %s", err.msg);

    bool locked = !log_only || rc;
    if (locked) {
        pthread_rwlock_wrlock(&e->lock);
        e->mgen++;
    }
    if (!rc && log_only) {
        /* nothing to apply */
    } else if (!rc) {
        apply_pending(e->m, &g);
        outbox_committed(e);
        segments_touch(e, g.touched, g.nt);
        if (g.refresh || segments_stale(e))
            segments_refresh(e, false);
        nba_rebind(e);
    } else if (!e->failed) {
        s->ops->rollback(s);
        log_msg(LOG_ERROR, "commit failed, reloading from the store: %s", err.msg);
        outbox_aborted(e);
        struct cxm_err lerr;
        cxm_err_clear(&lerr);
        if (reload(e) || loop_reload(e, &lerr))
            e->failed = true;
        else
            segments_refresh(e, true);
        nba_rebind(e);
    }
    if (locked)
        pthread_rwlock_unlock(&e->lock);

    pthread_mutex_lock(&e->qlock);
    e->st.commits += !rc;
    e->st.commit_failures += rc != 0;
    e->st.commit_seconds += dt;
    for (struct engine_work *w = batch; w; w = w->next) {
        if (rc && !w->rc) {
            w->rc = rc;
            w->err = err;
            w->accepted = w->duplicates = 0;
        } else if (!w->rc && w->op == ENGINE_INGEST) {
            e->st.events_accepted += w->accepted;
            e->st.events_duplicate += w->duplicates;
        }
    }
    pthread_mutex_unlock(&e->qlock);

    while (batch) {
        struct engine_work *next = batch->next;
        batch->next = NULL;
        free(batch->scores);
        batch->scores = NULL;
        batch->done(batch);
        batch = next;
    }
    free(g.p);
    free(g.touched);
    for (int t = 0; t < 3; t++)
        strmap_free(g.ids[t]);
    arena_free(&g.a);
}

/* Upper bound of events in one group: keeps one transaction's memory and
 * the time readers wait for the planning phase bounded. */
#define GROUP_MAX_EVENTS 200000

static void log_done(struct engine_work *w)
{
    (void)w;
}

/* Writes the decisions waiting in the log (writer thread). */
static void flush_log(struct engine *e)
{
    struct engine_work w = {.op = ENGINE_DECISIONS, .done = log_done};
    process(e, &w);
}

/* Decisions are logged in batches: a full batch is queued as work, and
 * what waits longer than this is written when the writer is idle. */
#define LOG_FLUSH_NS 100000000L

static void *writer_main(void *arg)
{
    struct engine *e = arg;
    pthread_setname_np(pthread_self(), "cxm-writer");   /* for top -H, perf */
    for (;;) {
        pthread_mutex_lock(&e->qlock);
        while (!e->qhead && !e->closing) {
            if (!nba_log_waiting(e)) {
                pthread_cond_wait(&e->qcond, &e->qlock);
                continue;
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += LOG_FLUSH_NS;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            if (pthread_cond_timedwait(&e->qcond, &e->qlock, &ts) == ETIMEDOUT &&
                !e->qhead) {
                pthread_mutex_unlock(&e->qlock);
                flush_log(e);
                pthread_mutex_lock(&e->qlock);
            }
        }
        if (!e->qhead) {
            pthread_mutex_unlock(&e->qlock);
            if (nba_log_waiting(e))   /* closing: the log is written first */
                flush_log(e);
            return NULL;
        }
        struct engine_work *batch = e->qhead, *last = batch;
        size_t events = batch->n;
        while (last->next && events + last->next->n <= GROUP_MAX_EVENTS) {
            last = last->next;
            events += last->n;
        }
        e->qhead = last->next;
        if (!e->qhead)
            e->qtail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&e->qlock);
        process(e, batch);
    }
}

int engine_submit(struct engine *e, struct engine_work *w)
{
    w->rc = CXM_OK;
    cxm_err_clear(&w->err);
    w->accepted = w->duplicates = 0;
    w->seq = 0;
    w->next = NULL;
    w->scores = NULL;
    /* texts are scored here, in the submitting thread, in parallel */
    if (w->op == ENGINE_INGEST && text_prepare(e, w))
        return CXM_ENOMEM;
    pthread_mutex_lock(&e->qlock);
    if (e->closing) {
        pthread_mutex_unlock(&e->qlock);
        return CXM_EUNAVAIL;
    }
    if (e->qtail)
        e->qtail->next = w;
    else
        e->qhead = w;
    e->qtail = w;
    pthread_cond_signal(&e->qcond);
    pthread_mutex_unlock(&e->qlock);
    return CXM_OK;
}

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

static void wake(struct engine_work *w)
{
    struct waiter *wt = w->ctx;
    pthread_mutex_lock(&wt->mu);
    wt->done = true;
    pthread_cond_signal(&wt->cv);
    pthread_mutex_unlock(&wt->mu);
}

int engine_run(struct engine *e, struct engine_work *w)
{
    struct waiter wt = {.done = false};
    pthread_mutex_init(&wt.mu, NULL);
    pthread_cond_init(&wt.cv, NULL);
    w->done = wake;
    w->ctx = &wt;
    int rc = engine_submit(e, w);
    if (!rc) {
        pthread_mutex_lock(&wt.mu);
        while (!wt.done)
            pthread_cond_wait(&wt.cv, &wt.mu);
        pthread_mutex_unlock(&wt.mu);
        rc = w->rc;
    } else {
        cxm_err_set(&w->err, rc, "the engine is shutting down");
    }
    pthread_mutex_destroy(&wt.mu);
    pthread_cond_destroy(&wt.cv);
    return rc;
}

/* One writer per database: a second process writing the same SQLite file
 * would diverge from the first one's memory. */
static int take_lock(const char *db, int *fd, struct cxm_err *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s.lock", db) >= (int)sizeof path)
        return cxm_err_set(err, CXM_EINVAL, "database path too long");
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return cxm_err_set(err, CXM_EIO, "cannot open %s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        close(*fd);
        *fd = -1;
        return cxm_err_set(err, CXM_ECONFLICT, "%s is in use by another cxm"
                           " process (a running server?): write through its"
                           " HTTP API or stop it first", db);
    }
    return CXM_OK;
}

int engine_open(const char *db, const struct engine_opts *o, struct engine **out,
                struct cxm_err *err)
{
    struct engine_opts defaults = {.sync = STORE_SYNC_FULL, .lock = true};
    if (!o)
        o = &defaults;
    struct engine *e = cxm_calloc(1, sizeof *e);
    if (!e)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    e->lockfd = -1;
    pthread_rwlock_init(&e->lock, NULL);
    pthread_rwlock_init(&e->tlock, NULL);
    pthread_mutex_init(&e->jmu, NULL);
    pthread_mutex_init(&e->rmu, NULL);
    pthread_mutex_init(&e->recmu, NULL);
    e->text_off = o->no_text;
    e->sync = o->sync;
    pthread_mutex_init(&e->qlock, NULL);
    pthread_cond_init(&e->qcond, NULL);
    pthread_mutex_init(&e->kmu, NULL);
    int rc = o->lock ? take_lock(db, &e->lockfd, err) : CXM_OK;
    struct store_opts so = {.sync = o->sync};
    if (!rc && (!(e->keys = strmap_new()) || !(e->db = cxm_strdup(db))))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!rc && !(e->store = store_open(db, &so, err)))
        rc = err ? err->code : CXM_EIO;
    double t0 = cxm_seconds();
    if (!rc)
        rc = model_load(e->store, &e->m, err);
    if (!rc)
        rc = text_open(e, o->lock, err);
    /* the closed loop before the segments: open cases are a feature */
    if (!rc)
        rc = loop_open(e, err);
    if (!rc)
        rc = segments_open(e, err);
    if (!rc)
        rc = nba_open(e, err);
    if (!rc)
        rc = rec_state_open(e, err);
    if (!rc) {
#ifdef __GLIBC__
        malloc_trim(0);   /* hand back what the replay's page cache used */
#endif
        e->st.replay_seconds = cxm_seconds() - t0;
        e->st.replay_rows = e->m->ncust + e->m->nident + e->m->nmerges +
                            e->m->ic.n + e->m->fc.n + e->m->oc.n;
        log_msg(LOG_INFO, "replayed %zu rows (%zu customers, %zu interactions,"
                " %zu feedback, %zu orders) in %.3f s, seq %lld",
                e->st.replay_rows, e->m->ncust, e->m->ic.n, e->m->fc.n,
                e->m->oc.n, e->st.replay_seconds, (long long)e->m->last_seq);
        if (pthread_create(&e->writer, NULL, writer_main, e) != 0)
            rc = cxm_err_set(err, CXM_ENOMEM, "cannot start the writer thread");
    }
    if (rc) {
        loop_close(e);
        text_close(e);
        rec_state_free(e);
        nba_close(e);
        segments_close(e);
        model_free(e->m);
        store_close(e->store);
        strmap_free(e->keys);
        free(e->db);
        if (e->lockfd >= 0)
            close(e->lockfd);
        pthread_rwlock_destroy(&e->lock);
        pthread_rwlock_destroy(&e->tlock);
        pthread_mutex_destroy(&e->jmu);
        pthread_mutex_destroy(&e->rmu);
        pthread_mutex_destroy(&e->recmu);
        pthread_mutex_destroy(&e->qlock);
        pthread_cond_destroy(&e->qcond);
        pthread_mutex_destroy(&e->kmu);
        free(e);
        return rc;
    }
    *out = e;
    return CXM_OK;
}

void engine_close(struct engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->qlock);
    e->closing = true;
    pthread_cond_signal(&e->qcond);
    pthread_mutex_unlock(&e->qlock);
    pthread_join(e->writer, NULL);
    loop_close(e);
    text_close(e);
    rec_state_free(e);
    nba_close(e);
    segments_close(e);
    journey_cache_free(e);
    report_cache_free(e);
    pthread_mutex_destroy(&e->recmu);
    pthread_mutex_destroy(&e->jmu);
    pthread_mutex_destroy(&e->rmu);
    model_free(e->m);
    store_close(e->store);
    for (size_t i = 0; i < e->nkeys; i++)
        free(e->kent[i].hash);
    free(e->kent);
    strmap_free(e->keys);
    free(e->db);
    if (e->lockfd >= 0)
        close(e->lockfd);
    pthread_rwlock_destroy(&e->lock);
    pthread_rwlock_destroy(&e->tlock);
    pthread_mutex_destroy(&e->qlock);
    pthread_cond_destroy(&e->qcond);
    pthread_mutex_destroy(&e->kmu);
    free(e);
}

void engine_stats(struct engine *e, struct engine_stats *st)
{
    pthread_mutex_lock(&e->qlock);
    *st = e->st;
    pthread_mutex_unlock(&e->qlock);
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    st->seq = m->last_seq;
    st->customers = m->ncust;
    st->profiles = m->ncust - m->nmerged;
    st->identities = m->nident;
    st->merges = m->nmerged;
    st->interactions = m->ic.n;
    st->feedback = m->fc.n;
    st->orders = m->oc.n;
    st->employees = m->nemp;
    st->column_bytes = model_column_bytes(m);
    st->reports_rollup = atomic_load(&e->reports_rollup);
    st->reports_rows = atomic_load(&e->reports_rows);
    st->segments = e->segs ? e->segs->n : 0;
    st->contacts = m->cc.n;
    loop_stats(e, st);
    pthread_rwlock_unlock(&e->lock);
    nba_stats(e, &st->decisions_logged, &st->decisions_dropped);
}
