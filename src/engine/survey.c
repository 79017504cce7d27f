/* survey.c - surveys inside the engine (docs/surveys.md): definitions,
 * invitations (each through sampling, the survey's quarantine and the
 * contact policy; skipped ones kept with their reason), signed tokens,
 * answers recorded question by question as feedback in the transaction
 * that updates the invitation, triggers that schedule invitations in the
 * transaction of the record that fires them, the relationship cadence,
 * reminders, and the survey's response figures. State lives in struct
 * surveys under the engine's lock; the writer changes it. */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/dict.h"
#include "core/filter.h"
#include "core/journey.h"
#include "core/metrics.h"
#include "core/policy.h"
#include "core/survey.h"
#include "core/template.h"
#include "core/timefmt.h"
#include "engine/decide.h"
#include "engine/loop.h"
#include "engine/segments.h"
#include "log.h"

#define DAY 86400
#define MAX_INVITE 100000        /* customers in one invitation request */
#define TRIGGER_MAX_AGE (7 * DAY)   /* older records fire no trigger */

struct sv_def {
    struct survey *s;
    int64_t seq, created, updated;
    struct filter *tf[SURVEY_MAX_TRIGGERS];   /* trigger conditions, bound */
    /* the cadence: profiles scheduled in the current period */
    char cad_label[16];
    uint64_t *cad_bits;
    size_t cad_words;
};

struct inv_answer {
    char *qid;
    struct survey_answer a;      /* text never kept: branching reads scores
                                    and choices only */
};

struct inv {
    int64_t id, customer, created, expires, answered, completed, reminded;
    uint32_t def;                /* index in defs */
    bool skipped;
    char *channel, *reason, *trigger, *ctx;
    struct inv_answer *ans;
    size_t nans;
};

struct sched {
    int64_t id, customer, due;
    uint32_t def;
    char *ctx;
};

struct surveys {
    struct sv_def *defs;
    size_t ndefs, defcap;
    struct survey **old;         /* replaced versions: sessions may hold them */
    size_t nold, oldcap;
    struct inv *invs;            /* invs[i] has id i + 1 */
    size_t ninv, invcap;
    struct sched *sch;           /* pending */
    size_t nsch, schcap;
    int64_t sched_max;
    unsigned char key[32];
    bool has_key;
    char *public_url;
    size_t bound_dicts;
};

static struct surveys *SV(const struct engine *e)
{
    return e->loop->sv;
}

/* ---- definitions ------------------------------------------------------------ */

static int def_find(const struct surveys *sv, const char *id)
{
    for (size_t i = 0; i < sv->ndefs; i++)
        if (strcmp(sv->defs[i].s->id, id) == 0)
            return (int)i;
    return -1;
}

static void def_filters_free(struct sv_def *d)
{
    free(d->cad_bits);
    d->cad_bits = NULL;
    d->cad_words = 0;
    d->cad_label[0] = '\0';
    for (int i = 0; i < SURVEY_MAX_TRIGGERS; i++) {
        filter_free(d->tf[i]);
        d->tf[i] = NULL;
    }
}

enum { TF_TYPE, TF_TOUCHPOINT, TF_CHANNEL, TF_STAGE, TF_AGENT, TF_NI };
static const struct filter_field ifields[TF_NI] = {
    {"type", FT_TEXT}, {"touchpoint", FT_TEXT}, {"channel", FT_TEXT}, {"stage", FT_TEXT},
    {"agent", FT_TEXT}};
static const int idicts[TF_NI] = {DICT_ITYPE, DICT_TOUCHPOINT, DICT_CHANNEL, DICT_STAGE,
                                  DICT_AGENT};
static const struct filter_field ofields[2] = {{"channel", FT_TEXT}, {"amount", FT_NUMBER}};

static double bind_i(void *ctx, int field, const char *text)
{
    const struct model *m = ctx;
    uint32_t c = dict_find(m->dict[idicts[field]], text);
    return c ? c : NAN;
}

static double bind_o(void *ctx, int field, const char *text)
{
    const struct model *m = ctx;
    uint32_t c = field == 0 ? dict_find(m->dict[DICT_CHANNEL], text) : 0;
    return c ? c : NAN;
}

static int def_compile(const struct model *m, struct sv_def *d)
{
    const struct survey *s = d->s;
    for (size_t i = 0; i < s->ntrig; i++) {
        const struct survey_trigger *t = &s->trig[i];
        if (!t->when || (t->on != TR_INTERACTION && t->on != TR_ORDER))
            continue;
        bool io = t->on == TR_INTERACTION;
        if (!(d->tf[i] = filter_parse(t->when, io ? ifields : ofields, io ? TF_NI : 2, NULL)))
            return CXM_EINVAL;   /* survey_parse checked it */
        filter_bind(d->tf[i], io ? bind_i : bind_o, (void *)m);
    }
    return CXM_OK;
}

static size_t dict_total(const struct model *m)
{
    size_t n = 0;
    for (int d = 1; d < DICT_COUNT; d++)
        n += dict_count(m->dict[d]);
    return n;
}

static void defs_rebind(struct engine *e)
{
    struct surveys *sv = SV(e);
    size_t n = dict_total(e->m);
    if (n == sv->bound_dicts)
        return;
    for (size_t i = 0; i < sv->ndefs; i++)
        for (size_t k = 0; k < sv->defs[i].s->ntrig; k++)
            if (sv->defs[i].tf[k])
                filter_bind(sv->defs[i].tf[k], sv->defs[i].s->trig[k].on == TR_INTERACTION
                            ? bind_i : bind_o, e->m);
    sv->bound_dicts = n;
}

/* Adds or replaces the definition; the old version stays alive. */
static int def_set(struct engine *e, struct survey *s, int64_t seq, int64_t created,
                   int64_t updated)
{
    struct surveys *sv = SV(e);
    int at = def_find(sv, s->id);
    struct sv_def d = {.s = s, .seq = seq, .created = created, .updated = updated};
    if (def_compile(e->m, &d) ||
        (at < 0 && cxm_grow((void **)&sv->defs, &sv->defcap, sv->ndefs + 1, sizeof *sv->defs)) ||
        (at >= 0 && cxm_grow((void **)&sv->old, &sv->oldcap, sv->nold + 1, sizeof *sv->old))) {
        def_filters_free(&d);
        return CXM_ENOMEM;
    }
    if (at >= 0) {
        sv->old[sv->nold++] = sv->defs[at].s;
        memcpy(d.cad_label, sv->defs[at].cad_label, sizeof d.cad_label);
        d.cad_bits = sv->defs[at].cad_bits;
        d.cad_words = sv->defs[at].cad_words;
        sv->defs[at].cad_bits = NULL;
        def_filters_free(&sv->defs[at]);
        d.created = sv->defs[at].created;
        sv->defs[at] = d;
    } else {
        sv->defs[sv->ndefs++] = d;
    }
    return CXM_OK;
}

/* ---- invitations ------------------------------------------------------------- */

static struct inv *inv_get(const struct surveys *sv, int64_t id)
{
    return id >= 1 && id <= (int64_t)sv->ninv ? &sv->invs[id - 1] : NULL;
}

static void inv_free(struct inv *v)
{
    free(v->channel);
    free(v->reason);
    free(v->trigger);
    free(v->ctx);
    for (size_t i = 0; i < v->nans; i++) {
        free(v->ans[i].qid);
        survey_answer_clear(&v->ans[i].a);
    }
    free(v->ans);
}

static int inv_add(struct surveys *sv, const struct store_invitation *r)
{
    if (r->id != (int64_t)sv->ninv + 1)
        return CXM_EINVAL;
    int d = def_find(sv, r->survey);
    if (d < 0)
        return CXM_EINVAL;
    if (cxm_grow((void **)&sv->invs, &sv->invcap, sv->ninv + 1, sizeof *sv->invs))
        return CXM_ENOMEM;
    struct inv *v = &sv->invs[sv->ninv];
    *v = (struct inv){.id = r->id, .customer = r->customer, .created = r->created_ts,
                      .expires = r->expires_ts, .answered = r->answered_ts,
                      .completed = r->completed_ts, .reminded = r->reminded_ts,
                      .def = (uint32_t)d, .skipped = r->status && !strcmp(r->status, "skipped")};
    if ((r->channel && !(v->channel = cxm_strdup(r->channel))) ||
        (r->reason && !(v->reason = cxm_strdup(r->reason))) ||
        (r->trigger && !(v->trigger = cxm_strdup(r->trigger))) ||
        (r->context && !(v->ctx = cxm_strdup(r->context)))) {
        inv_free(v);
        return CXM_ENOMEM;
    }
    sv->ninv++;
    return CXM_OK;
}

static int inv_put(struct engine *e, struct group *g, const struct inv *v,
                   struct cxm_err *err)
{
    struct store_invitation r = {
        .id = v->id, .seq = group_next_seq(g), .customer = v->customer,
        .created_ts = v->created, .expires_ts = v->expires, .answered_ts = v->answered,
        .completed_ts = v->completed, .reminded_ts = v->reminded,
        .survey = SV(e)->defs[v->def].s->id, .channel = v->channel,
        .status = v->skipped ? "skipped" : "open", .reason = v->reason,
        .trigger = v->trigger, .context = v->ctx};
    return e->store->ops->put_invitation(e->store, &r, err);
}

/* Records an answer (given or skipped) in memory. */
static int inv_answer_set(struct inv *v, const char *qid, const struct survey_answer *a)
{
    for (size_t i = 0; i < v->nans; i++)
        if (strcmp(v->ans[i].qid, qid) == 0)
            return CXM_OK;
    struct inv_answer *n = cxm_realloc(v->ans, (v->nans + 1) * sizeof *n);
    if (!n)
        return CXM_ENOMEM;
    v->ans = n;
    struct inv_answer *x = &n[v->nans];
    if (!(x->qid = cxm_strdup(qid)))
        return CXM_ENOMEM;
    x->a = *a;
    x->a.text = NULL;
    v->nans++;
    return CXM_OK;
}

/* The answer kept as JSON in the store: {"given", "score", "choices"}. */
static char *answer_value(const struct survey_answer *a)
{
    json_t *o = json_pack("{s:b}", "given", a->given);
    if (o && !isnan(a->score))
        json_object_set_new(o, "score", json_real(a->score));
    if (o && a->choices)
        json_object_set_new(o, "choices", json_integer(a->choices));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static int answer_parse(const char *value, struct survey_answer *a)
{
    *a = (struct survey_answer){.score = NAN};
    json_error_t je;
    json_t *o = value ? json_loads(value, 0, &je) : NULL;
    if (!o)
        return CXM_OK;
    a->given = json_is_true(json_object_get(o, "given"));
    json_t *s = json_object_get(o, "score");
    if (json_is_number(s))
        a->score = json_number_value(s);
    a->choices = (uint32_t)json_integer_value(json_object_get(o, "choices"));
    json_decref(o);
    return CXM_OK;
}

/* ---- tokens and links ------------------------------------------------------- */

static int key_ensure(struct engine *e, struct group *g, struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    if (sv->has_key)
        return CXM_OK;
    if (sodium_init() < 0)
        return cxm_err_set(err, CXM_EIO, "no random source");
    randombytes_buf(sv->key, sizeof sv->key);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, sv->key, sizeof sv->key);
    int rc = e->store->ops->put_config(e->store, "survey_key", hex, group_next_seq(g), err);
    if (!rc)
        sv->has_key = true;
    return rc;
}

static int link_of(const struct surveys *sv, const struct inv *v, char *out, size_t cap)
{
    char tok[SURVEY_TOKEN_LEN];
    if (survey_token_make(sv->key, v->id, v->expires, tok))
        return CXM_EINVAL;
    const char *base = sv->public_url ? sv->public_url : "http://127.0.0.1:8080";
    snprintf(out, cap, "%s/s/%s", base, tok);
    return CXM_OK;
}

/* ---- inviting ------------------------------------------------------------------ */

/* Deterministic sampling: the same customer, survey and salt, the same
 * answer. */
static bool sampled(const struct survey *s, uint32_t root, const char *salt)
{
    if (s->sample >= 1)
        return true;
    uint64_t h = 1469598103934665603u;
    for (const char *p = s->id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    for (const char *p = salt; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    h = (h ^ root) * 1099511628211u;
    h ^= h >> 29;
    return (double)(h % 1000000) < s->sample * 1000000.0;
}

/* An invitation of this survey still open for the profile, or answered
 * within the survey's expiry. */
static bool quarantined(const struct engine *e, uint32_t def, uint32_t root, int64_t now)
{
    const struct surveys *sv = SV(e);
    const struct survey *s = sv->defs[def].s;
    for (size_t i = sv->ninv; i-- > 0;) {
        const struct inv *v = &sv->invs[i];
        if (v->def != def || v->skipped || model_root(e->m, (uint32_t)v->customer) != root)
            continue;
        if (!v->completed && now <= v->expires)
            return true;
        if (v->answered && now - v->answered < (int64_t)s->expiry_days * DAY)
            return true;
    }
    return false;
}

struct msg_vars {
    const struct engine *e;
    uint32_t root;
    const char *link, *survey;
    char first[128];
};

static const char *var_lookup(void *ctx, const char *name, size_t len)
{
    struct msg_vars *x = ctx;
    const char *full = loop_profile_attr(x->e, x->root, false);
#define IS(s) (len == sizeof(s) - 1 && memcmp(name, s, len) == 0)
    if (IS("link"))
        return x->link;
    if (IS("survey"))
        return x->survey;
    if (IS("name"))
        return full;
    if (IS("first_name") && full) {
        size_t n = strcspn(full, " ");
        snprintf(x->first, sizeof x->first, "%.*s", (int)n, full);
        return x->first;
    }
#undef IS
    return NULL;
}

static const char *customer_lang(const struct engine *e, uint32_t root)
{
    return loop_profile_attr(e, root, true);
}

static int send_email(struct engine *e, const struct inv *v, const char *to, bool reminder,
                      struct cxm_err *err)
{
    const struct surveys *sv = SV(e);
    const struct survey *s = sv->defs[v->def].s;
    uint32_t root = model_root(e->m, (uint32_t)v->customer);
    const char *lang = survey_lang(s, customer_lang(e, root));
    char link[512];
    if (link_of(sv, v, link, sizeof link))
        return cxm_err_set(err, CXM_EINVAL, "no token");
    struct msg_vars x = {.e = e, .root = root, .link = link, .survey = s->name};
    struct buf subj, text;
    buf_init(&subj, 2048);
    buf_init(&text, TPL_MAX_OUT);
    int rc = CXM_OK;
    if (reminder && buf_printf(&subj, "Reminder: "))
        rc = CXM_ENOMEM;
    if (!rc)
        rc = tpl_render(survey_text(s, &s->email_subject, lang), TPL_TEXT, var_lookup, &x, &subj);
    if (!rc)
        rc = tpl_render(survey_text(s, &s->email_text, lang), TPL_TEXT, var_lookup, &x, &text);
    if (!rc && !strstr(survey_text(s, &s->email_text, lang), "{link"))
        rc = buf_printf(&text, "\n\n%s\n", link);
    if (!rc && (!subj.p || !text.p))
        rc = CXM_EINVAL;
    if (rc)
        rc = cxm_err_set(err, rc, "the invitation e-mail did not render: %s", cxm_rc_str(rc));
    else
        rc = outbox_email(e, (uint32_t)v->customer, v->created, to, subj.p, text.p, err);
    buf_free(&subj);
    buf_free(&text);
    return rc;
}

/* Writes an invitation (or a skipped one) and returns it. */
static int inv_new(struct engine *e, struct group *g, uint32_t def, uint32_t cust,
                   const char *channel, const char *reason, const char *trigger,
                   const char *ctx, int64_t now, struct inv **out, struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    const struct survey *s = sv->defs[def].s;
    struct store_invitation r = {
        .id = (int64_t)sv->ninv + 1, .customer = cust, .created_ts = now,
        .expires_ts = now + (int64_t)s->expiry_days * DAY, .survey = s->id,
        .channel = channel, .status = reason ? "skipped" : "open", .reason = reason,
        .trigger = trigger, .context = ctx};
    int rc = inv_add(sv, &r);
    if (rc)
        return cxm_err_set(err, rc, "out of memory");
    *out = &sv->invs[sv->ninv - 1];
    return inv_put(e, g, *out, err);
}

struct invite_out {
    json_t *skipped;             /* reason -> n */
    json_t *list;                /* link: {customer, invitation, url} */
    size_t invited;
};

static void count_skip(struct invite_out *o, const char *reason)
{
    json_t *n = json_object_get(o->skipped, reason);
    json_object_set_new(o->skipped, reason, json_integer(n ? json_integer_value(n) + 1 : 1));
}

/* One customer: every check, then the invitation (and its e-mail). */
static int invite_one(struct engine *e, struct group *g, uint32_t def, uint32_t cust,
                      const char *channel, const char *trigger, const char *ctx,
                      const char *salt, int64_t now, struct invite_out *o,
                      struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    const struct survey *s = sv->defs[def].s;
    uint32_t root = model_root(e->m, cust);
    bool email = strcmp(channel, "email") == 0;
    const char *to = email ? loop_customer_email(e, cust) : NULL;
    /* the sampling rate thins automated invitations; a list or a
     * segment someone chose is asked as chosen */
    bool automated = strcmp(trigger, "manual") != 0;
    const char *why = !s->enabled ? "survey_disabled"
                      : automated && !sampled(s, root, salt) ? "not_sampled"
                      : quarantined(e, def, root, now) ? "already_invited"
                      : email && !e->loop->smtp_url ? "no_smtp_server"
                      : email && !to ? "no_email_address" : NULL;
    struct inv *v = NULL;
    int rc;
    struct contact_req cr = {.customer = cust, .kind = CK_SURVEY, .channel = channel,
                             .ts = now};
    struct engine_work w = {.op = ENGINE_CONTACT, .contact = &cr, .n = 1};
    if (!why) {
        /* the contact policy, last: it records the contact when it allows
         * (w lives on: its error names the refusing rule) */
        uint32_t *touched = NULL;
        size_t nt = 0, tcap = 0;
        rc = nba_apply_contacts(e, &w, group_seq(g), &touched, &nt, &tcap, err);
        free(touched);
        if (rc)
            return rc;
        if (w.rc)
            why = w.err.field[0] ? w.err.field : "contact_policy";
    }
    if ((rc = inv_new(e, g, def, cust, channel, why, trigger, ctx, now, &v, err)))
        return rc;
    if (why) {
        count_skip(o, why);
        return CXM_OK;
    }
    o->invited++;
    if ((rc = key_ensure(e, g, err)))
        return rc;
    if (email)
        return send_email(e, v, to, false, err);
    char link[512];
    if (link_of(sv, v, link, sizeof link))
        return cxm_err_set(err, CXM_EINVAL, "no token");
    json_array_append_new(o->list, json_pack("{s:I, s:I, s:s}", "customer", (json_int_t)root,
                                             "invitation", (json_int_t)v->id, "url", link));
    return CXM_OK;
}

/* ---- triggers ------------------------------------------------------------------ */

static int schedule(struct engine *e, uint32_t def, uint32_t cust, const char *source,
                    int64_t due, const char *ctx, struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    struct store_schedule r = {.id = sv->sched_max + 1, .customer = cust, .due_ts = due,
                               .survey = sv->defs[def].s->id, .source = source,
                               .status = "pending", .context = ctx};
    bool dup;
    int rc = e->store->ops->put_schedule(e->store, &r, &dup, err);
    if (rc || dup)
        return rc;               /* a trigger fires once */
    sv->sched_max = r.id;
    if (cxm_grow((void **)&sv->sch, &sv->schcap, sv->nsch + 1, sizeof *sv->sch))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    struct sched *n = &sv->sch[sv->nsch];
    *n = (struct sched){.id = r.id, .customer = cust, .due = due, .def = def};
    if (ctx && !(n->ctx = cxm_strdup(ctx)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    sv->nsch++;
    return CXM_OK;
}

struct irow {
    const struct model *m;
    const struct store_interaction *i;
    const struct store_order *o;
};

static double iget(void *ctx, int field)
{
    const struct irow *r = ctx;
    if (r->o)
        return field == 0 ? (r->o->channel ? r->o->channel : NAN) : r->o->amount;
    uint32_t c[TF_NI] = {r->i->kind, r->i->touchpoint, r->i->channel, r->i->stage,
                         r->i->agent};
    return c[field] ? c[field] : NAN;
}

static char *context_of(const struct model *m, const struct store_interaction *i)
{
    json_t *o = json_object();
    const uint32_t c[4] = {i->touchpoint, i->channel, i->stage, i->agent};
    const int d[4] = {DICT_TOUCHPOINT, DICT_CHANNEL, DICT_STAGE, DICT_AGENT};
    const char *k[4] = {"touchpoint", "channel", "stage", "agent"};
    for (int x = 0; o && x < 4; x++)
        if (c[x])
            json_object_set_new(o, k[x], json_string(dict_str(m->dict[d[x]], c[x])));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

int survey_record(struct engine *e, int type, const void *row, uint32_t cust,
                  struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    if (!sv || !sv->ndefs || (type != EV_INTERACTION && type != EV_ORDER))
        return CXM_OK;
    defs_rebind(e);
    struct irow r = {.m = e->m, .i = type == EV_INTERACTION ? row : NULL,
                     .o = type == EV_ORDER ? row : NULL};
    int64_t seq = r.i ? r.i->seq : r.o->seq, ts = r.i ? r.i->ts : r.o->ts;
    enum trigger_on want = r.i ? TR_INTERACTION : TR_ORDER;
    if (ts < engine_now(e) - TRIGGER_MAX_AGE)
        return CXM_OK;           /* history being imported invites no one */
    int rc = CXM_OK;
    for (size_t d = 0; !rc && d < sv->ndefs; d++) {
        const struct sv_def *def = &sv->defs[d];
        for (size_t k = 0; !rc && k < def->s->ntrig; k++) {
            const struct survey_trigger *t = &def->s->trig[k];
            if (t->on != want || !def->s->enabled ||
                (def->tf[k] && !filter_eval(def->tf[k], iget, &r)))
                continue;
            char source[48], *ctx = r.i ? context_of(e->m, r.i) : NULL;
            snprintf(source, sizeof source, "%c:%lld", r.i ? 'i' : 'o', (long long)seq);
            rc = schedule(e, (uint32_t)d, cust, source, ts + t->delay, ctx, err);
            free(ctx);
        }
    }
    return rc;
}

int survey_case_resolved(struct engine *e, uint32_t cust, int64_t case_id, int reopened,
                         const char *reason, int64_t ts, struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    int rc = CXM_OK;
    for (size_t d = 0; sv && !rc && d < sv->ndefs; d++)
        for (size_t k = 0; !rc && k < sv->defs[d].s->ntrig; k++) {
            const struct survey_trigger *t = &sv->defs[d].s->trig[k];
            if (t->on != TR_CASE_RESOLVED || !sv->defs[d].s->enabled)
                continue;
            char source[48];
            snprintf(source, sizeof source, "c:%lld:%d", (long long)case_id, reopened);
            json_t *c = json_pack("{s:s}", "touchpoint", reason ? reason : "case");
            char *ctx = c ? json_dumps(c, JSON_COMPACT) : NULL;
            json_decref(c);
            rc = ctx ? schedule(e, (uint32_t)d, cust, source, ts + t->delay, ctx, err)
                     : cxm_err_set(err, CXM_ENOMEM, "out of memory");
            free(ctx);
        }
    return rc;
}

/* ---- the tick: due schedules, cadence, reminders ---------------------------- */

static int run_schedules(struct engine *e, struct group *g, int64_t now,
                         struct invite_out *o, struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    int rc = CXM_OK;
    for (size_t i = 0; !rc && i < sv->nsch;) {
        struct sched *s = &sv->sch[i];
        if (s->due > now) {
            i++;
            continue;
        }
        char trig[32];
        snprintf(trig, sizeof trig, "schedule:%lld", (long long)s->id);
        rc = invite_one(e, g, s->def, (uint32_t)s->customer, "email", trig, s->ctx, trig,
                        now, o, err);
        struct store_schedule done = {.id = s->id, .status = "done"};
        bool dup;
        if (!rc)
            rc = e->store->ops->put_schedule(e->store, &done, &dup, err);
        if (!rc) {
            free(s->ctx);
            sv->sch[i] = sv->sch[--sv->nsch];
        }
    }
    return rc;
}

static int cadence_bucket(const char *every)
{
    return !strcmp(every, "month") ? BUCKET_MONTH : !strcmp(every, "year") ? BUCKET_YEAR
                                                                           : BUCKET_QUARTER;
}

/* Marks profile c as scheduled in period label (a new label clears the
 * marks); whether it was marked before. */
static bool cad_mark(struct sv_def *d, const char *label, uint32_t c, size_t ncust)
{
    if (strcmp(d->cad_label, label)) {
        free(d->cad_bits);
        d->cad_bits = NULL;
        d->cad_words = 0;
        snprintf(d->cad_label, sizeof d->cad_label, "%s", label);
    }
    size_t need = (ncust >> 6) + 1;
    if (d->cad_words < need) {
        uint64_t *b = cxm_realloc(d->cad_bits, need * sizeof *b);
        if (!b)
            return false;        /* the store's unique key still holds */
        memset(b + d->cad_words, 0, (need - d->cad_words) * sizeof *b);
        d->cad_bits = b;
        d->cad_words = need;
    }
    bool was = d->cad_bits[c >> 6] >> (c & 63) & 1u;
    d->cad_bits[c >> 6] |= UINT64_C(1) << (c & 63);
    return was;
}

/* Each customer once per period, on a day of the period their hash picks
 * (so the invitations spread evenly). */
static int run_cadence(struct engine *e, int64_t now, struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    const struct model *m = e->m;
    int rc = CXM_OK;
    for (size_t d = 0; !rc && d < sv->ndefs; d++) {
        const struct survey *s = sv->defs[d].s;
        for (size_t k = 0; !rc && k < s->ntrig; k++) {
            if (s->trig[k].on != TR_CADENCE || !s->enabled)
                continue;
            enum bucket b = (enum bucket)cadence_bucket(s->trig[k].every);
            int64_t start = bucket_start(now, b), days = (bucket_next(start, b) - start) / DAY;
            char label[16], source[32];
            bucket_label(now, b, label);
            snprintf(source, sizeof source, "p:%s", label);
            for (uint32_t c = 1; !rc && c <= m->ncust; c++) {
                if (m->cust[c].parent)
                    continue;    /* profiles only, by their root */
                uint64_t h = 1469598103934665603u;
                for (const char *p = s->id; *p; p++)
                    h = (h ^ (unsigned char)*p) * 1099511628211u;
                h = ((h ^ c) * 1099511628211u) ^ (uint64_t)start;
                h ^= h >> 31;
                int64_t due = start + (int64_t)(h % (uint64_t)days) * DAY;
                /* sampled when invited, with the other automated ones; a
                 * programme started mid-period asks from its first day on,
                 * rather than everyone whose day has passed at once */
                if (due <= now && due + DAY > sv->defs[d].created &&
                    !cad_mark(&sv->defs[d], label, c, m->ncust))
                    rc = schedule(e, (uint32_t)d, c, source, due, NULL, err);
            }
        }
    }
    return rc;
}

static int run_reminders(struct engine *e, struct group *g, int64_t now,
                         struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    int rc = CXM_OK;
    for (size_t i = 0; !rc && i < sv->ninv; i++) {
        struct inv *v = &sv->invs[i];
        const struct survey *s = sv->defs[v->def].s;
        if (v->skipped || v->reminded || v->answered || !s->reminder_days ||
            strcmp(v->channel, "email") || now > v->expires ||
            now < v->created + (int64_t)s->reminder_days * DAY)
            continue;
        v->reminded = now;
        const char *to = loop_customer_email(e, (uint32_t)v->customer);
        if (to && e->loop->smtp_url && sv->has_key)
            rc = send_email(e, v, to, true, err);
        if (!rc)
            rc = inv_put(e, g, v, err);
    }
    return rc;
}

static int64_t next_tick(const struct engine *e, int64_t now)
{
    const struct surveys *sv = SV(e);
    int64_t next = 0;
    for (size_t i = 0; i < sv->nsch; i++)
        if (!next || sv->sch[i].due < next)
            next = sv->sch[i].due;
    for (size_t i = 0; i < sv->ninv; i++) {
        const struct inv *v = &sv->invs[i];
        const struct survey *s = sv->defs[v->def].s;
        if (!v->skipped && !v->reminded && !v->answered && s->reminder_days &&
            !strcmp(v->channel, "email")) {
            int64_t at = v->created + (int64_t)s->reminder_days * DAY;
            if (at <= v->expires && (!next || at < next))
                next = at;
        }
    }
    for (size_t d = 0; d < sv->ndefs; d++)
        for (size_t k = 0; k < sv->defs[d].s->ntrig; k++)
            if (sv->defs[d].s->trig[k].on == TR_CADENCE) {
                int64_t tomorrow = (now / DAY + 1) * DAY;
                if (!next || tomorrow < next)
                    next = tomorrow;
            }
    return next;
}

/* ---- writer work ------------------------------------------------------------- */

struct survey_req {
    int op;                      /* 1 put, 2 invite, 3 answer, 4 tick, 5 settings,
                                    6 open */
    struct survey *s;            /* put: parsed (the writer owns it once applied) */
    bool create;
    const char *id;
    const struct invite_req *ir;
    /* answer */
    int64_t inv, expires;
    const char *qid;
    struct survey_answer a;
    struct event *ev;            /* the feedback; NULL: skipped */
    const char *json;
    size_t len;
    int64_t next;
    char token[SURVEY_TOKEN_LEN];   /* open: the new invitation's */
};

static int apply_put(struct engine *e, struct group *g, struct survey_req *q,
                     struct loop_req *r, struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    if (!q->create && strcmp(q->id, q->s->id))
        return cxm_err_field(err, CXM_EINVAL, -1, "id", "the document's id \"%s\" is not the"
                             " path's \"%s\"", q->s->id, q->id);
    int at = def_find(sv, q->s->id);
    if (q->create && at >= 0)
        return cxm_err_field(err, CXM_ECONFLICT, -1, "id", "survey \"%s\" exists", q->s->id);
    if (!q->create && at < 0)
        return cxm_err_set(err, CXM_ENOTFOUND, "no survey \"%s\"", q->id);
    json_t *doc = survey_json(q->s);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    int64_t now = engine_now(e), seq = group_next_seq(g);
    struct store_survey st = {.seq = seq, .id = q->s->id, .doc = text,
                              .created_ts = at >= 0 ? sv->defs[at].created : now,
                              .updated_ts = now};
    int rc = !text ? cxm_err_set(err, CXM_ENOMEM, "out of memory")
                   : e->store->ops->put_survey(e->store, &st, err);
    free(text);
    if (!rc && def_set(e, q->s, seq, st.created_ts, now))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (rc) {
        json_decref(doc);
        return rc;
    }
    q->s = NULL;                 /* the engine's now */
    r->out = doc;
    return CXM_OK;
}

static int apply_invite(struct engine *e, struct group *g, struct survey_req *q,
                        struct loop_req *r, struct cxm_err *err)
{
    const struct invite_req *ir = q->ir;
    struct surveys *sv = SV(e);
    int d = def_find(sv, ir->survey);
    if (d < 0)
        return cxm_err_set(err, CXM_ENOTFOUND, "no survey \"%s\"", ir->survey);
    const char *channel = ir->channel ? ir->channel : "email";
    if (strcmp(channel, "email") && strcmp(channel, "link"))
        return cxm_err_field(err, CXM_EINVAL, -1, "channel", "must be email or link");
    const struct segment *seg = ir->segment ? segment_find(e, ir->segment) : NULL;
    if (ir->segment && !seg)
        return cxm_err_field(err, CXM_ENOTFOUND, -1, "segment", "no segment \"%s\"",
                             ir->segment);
    if (!ir->segment && (!ir->n || ir->n > MAX_INVITE))
        return cxm_err_field(err, CXM_EINVAL, -1, "customers", "give 1 to %d customers or a"
                             " segment", MAX_INVITE);
    for (size_t i = 0; i < ir->n; i++)
        if (!ir->customers[i] || ir->customers[i] > e->m->ncust)
            return cxm_err_field(err, CXM_ENOTFOUND, (long)i, "customers", "no customer %u",
                                 ir->customers[i]);
    int64_t now = ir->ts ? ir->ts : engine_now(e);
    char salt[24];
    snprintf(salt, sizeof salt, "d%lld", (long long)(now / DAY));
    struct invite_out o = {.skipped = json_object(), .list = json_array()};
    int rc = o.skipped && o.list ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (seg) {
        for (uint32_t c = 1; !rc && c <= e->m->ncust; c++)
            if (!e->m->cust[c].parent && segment_has(seg, c))
                rc = invite_one(e, g, (uint32_t)d, c, channel, "manual", NULL, salt, now, &o,
                                err);
    }
    for (size_t i = 0; !rc && i < ir->n; i++)
        rc = invite_one(e, g, (uint32_t)d, ir->customers[i], channel, "manual", NULL, salt,
                        now, &o, err);
    if (!rc && !(r->out = json_pack("{s:s, s:I, s:O, s:O}", "survey", ir->survey, "invited",
                                    (json_int_t)o.invited, "skipped", o.skipped,
                                    "invitations", o.list)))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_decref(o.skipped);
    json_decref(o.list);
    return rc;
}

/* The invitation's survey and the index of the question it asks next. */
static int next_of(const struct engine *e, const struct inv *v, int *step, int *steps)
{
    const struct survey *s = SV(e)->defs[v->def].s;
    struct survey_answer a[SURVEY_MAX_QUESTIONS];
    bool done[SURVEY_MAX_QUESTIONS];
    for (size_t i = 0; i < s->nq; i++) {
        a[i] = (struct survey_answer){.score = NAN};
        done[i] = false;
        for (size_t k = 0; k < v->nans; k++)
            if (strcmp(v->ans[k].qid, s->q[i].id) == 0) {
                a[i] = v->ans[k].a;
                done[i] = true;
            }
    }
    return survey_next(s, a, done, step, steps);
}

static int apply_answer(struct engine *e, struct group *g, struct survey_req *q,
                        struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    struct inv *v = inv_get(sv, q->inv);
    int64_t now = engine_now(e);
    if (!v || v->skipped || v->expires != q->expires || v->completed || now > v->expires)
        return cxm_err_set(err, CXM_ECONFLICT, "this survey link cannot be answered now");
    const struct survey *s = sv->defs[v->def].s;
    int qi = next_of(e, v, NULL, NULL);
    if (qi < 0 || strcmp(s->q[qi].id, q->qid))
        return cxm_err_set(err, CXM_ECONFLICT, "another question is due");
    int rc = CXM_OK;
    int64_t fseq = 0;
    if (q->ev) {
        fseq = *group_seq(g) + 1;    /* the feedback's: rules may add more after it */
        rc = engine_plan_record(e, g, q->ev, (uint32_t)v->customer, err);
    }
    char *val = rc ? NULL : answer_value(&q->a);
    struct store_survey_answer sa = {.invitation = v->id, .question = q->qid, .ts = now,
                                     .value = val, .feedback_seq = fseq};
    if (!rc && !val)
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!rc)
        rc = e->store->ops->put_survey_answer(e->store, &sa, err);
    free(val);
    if (!rc && inv_answer_set(v, q->qid, &q->a))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (rc)
        return rc;
    if (q->a.given && !v->answered)
        v->answered = now;
    if (next_of(e, v, NULL, NULL) < 0)
        v->completed = now;
    return inv_put(e, g, v, err);
}

static int apply_settings(struct engine *e, struct group *g, struct survey_req *q,
                          struct loop_req *r, struct cxm_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(q->json, q->len, JSON_REJECT_DUPLICATES, &je);
    const char *url = json_string_value(json_object_get(j, "public_url"));
    int rc = CXM_OK;
    if (!j || !json_is_object(j) || json_object_size(j) != 1 || !url)
        rc = cxm_err_field(err, CXM_EINVAL, -1, "public_url", "give {\"public_url\":"
                           " \"https://cx.example.com\"}");
    else if ((strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) || strlen(url) > 200 ||
             strpbrk(url, " \"<>\r\n") || url[strlen(url) - 1] == '/')
        rc = cxm_err_field(err, CXM_EINVAL, -1, "public_url", "must be an http:// or https://"
                           " address without a trailing slash");
    char *s = rc ? NULL : json_dumps(j, JSON_COMPACT);
    if (!rc && !s)
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!rc)
        rc = e->store->ops->put_config(e->store, "surveys", s, group_next_seq(g), err);
    char *copy = rc ? NULL : cxm_strdup(url);
    if (!rc && !copy)
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!rc) {
        free(SV(e)->public_url);
        SV(e)->public_url = copy;
        r->out = json_incref(j);
    }
    free(s);
    json_decref(j);
    return rc;
}

/* An open link's respondent: a new profile and its invitation. */
static int apply_open(struct engine *e, struct group *g, struct survey_req *q,
                      struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    int d = def_find(sv, q->id);
    if (d < 0 || !sv->defs[d].s->anonymous)
        return cxm_err_set(err, CXM_ENOTFOUND, "no open survey \"%s\"", q->id);
    if (!sv->defs[d].s->enabled)
        return cxm_err_set(err, CXM_ECONFLICT, "survey \"%s\" is closed", q->id);
    int64_t now = engine_now(e);
    uint32_t cust;
    struct inv *v;
    int rc = engine_plan_customer(e, g, now, &cust, err);
    if (!rc)
        rc = inv_new(e, g, (uint32_t)d, cust, "link", NULL, "anonymous", NULL, now, &v, err);
    if (!rc)
        rc = key_ensure(e, g, err);
    if (!rc && survey_token_make(sv->key, v->id, v->expires, q->token))
        rc = cxm_err_set(err, CXM_EINVAL, "no token");
    return rc;
}

int survey_apply(struct engine *e, struct group *g, struct loop_req *r, struct cxm_err *err)
{
    struct survey_req *q = r->survey;
    switch (q->op) {
    case 1: return apply_put(e, g, q, r, err);
    case 2: return apply_invite(e, g, q, r, err);
    case 3: return apply_answer(e, g, q, err);
    case 4: {
        int64_t now = engine_now(e);
        struct invite_out o = {.skipped = json_object(), .list = json_array()};
        int rc = o.skipped && o.list ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
        if (!rc)
            rc = run_cadence(e, now, err);
        if (!rc)
            rc = run_schedules(e, g, now, &o, err);
        if (!rc)
            rc = run_reminders(e, g, now, err);
        json_decref(o.skipped);
        json_decref(o.list);
        q->next = next_tick(e, now);
        return rc;
    }
    case 6: return apply_open(e, g, q, err);
    default: return apply_settings(e, g, q, r, err);
    }
}

static int run_survey(struct engine *e, struct survey_req *q, json_t **out,
                      struct cxm_err *err)
{
    struct loop_req r = {.op = LOOP_SURVEY, .survey = q};
    return loop_run(e, &r, out, err);
}

/* ---- load ---------------------------------------------------------------------- */

static int scan_survey(void *ctx, const struct store_survey *st)
{
    struct engine *e = ctx;
    struct survey *s;
    struct cxm_err err;
    if (survey_parse(st->doc, strlen(st->doc), &s, &err)) {
        log_msg(LOG_ERROR, "stored survey %s does not load: %s", st->id, err.msg);
        return CXM_OK;
    }
    int rc = def_set(e, s, st->seq, st->created_ts, st->updated_ts);
    if (rc)
        survey_free(s);
    return rc;
}

static int scan_invitation(void *ctx, const struct store_invitation *iv)
{
    struct engine *e = ctx;
    int rc = inv_add(SV(e), iv);
    return rc == CXM_EINVAL ? CXM_OK : rc;   /* a survey that no longer loads */
}

static int scan_answer(void *ctx, const struct store_survey_answer *sa)
{
    struct engine *e = ctx;
    struct inv *v = inv_get(SV(e), sa->invitation);
    struct survey_answer a = {.score = NAN};
    answer_parse(sa->value, &a);
    return v ? inv_answer_set(v, sa->question, &a) : CXM_OK;
}

static int scan_schedule(void *ctx, const struct store_schedule *st)
{
    struct engine *e = ctx;
    struct surveys *sv = SV(e);
    if (st->id > sv->sched_max)
        sv->sched_max = st->id;
    int d = def_find(sv, st->survey);
    /* the cadence's marks of the current period */
    for (size_t k = 0; d >= 0 && k < sv->defs[d].s->ntrig; k++) {
        const struct survey_trigger *t = &sv->defs[d].s->trig[k];
        char label[16];
        if (t->on != TR_CADENCE || strncmp(st->source, "p:", 2))
            continue;
        bucket_label(engine_now(e), (enum bucket)cadence_bucket(t->every), label);
        if (!strcmp(st->source + 2, label) && st->customer <= (int64_t)e->m->ncust)
            cad_mark(&sv->defs[d], label, (uint32_t)st->customer, e->m->ncust);
    }
    if (d < 0 || strcmp(st->status, "pending"))
        return CXM_OK;
    if (cxm_grow((void **)&sv->sch, &sv->schcap, sv->nsch + 1, sizeof *sv->sch))
        return CXM_ENOMEM;
    struct sched *n = &sv->sch[sv->nsch];
    *n = (struct sched){.id = st->id, .customer = st->customer, .due = st->due_ts,
                        .def = (uint32_t)d};
    if (st->context && !(n->ctx = cxm_strdup(st->context)))
        return CXM_ENOMEM;
    sv->nsch++;
    return CXM_OK;
}

static int load_config(struct engine *e, struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    char *hex = NULL, *set = NULL;
    int rc = e->store->ops->get_config(e->store, "survey_key", &hex, err);
    size_t n;
    if (!rc && hex && sodium_hex2bin(sv->key, sizeof sv->key, hex, strlen(hex), NULL, &n,
                                     NULL) == 0 && n == sizeof sv->key)
        sv->has_key = true;
    if (!rc)
        rc = e->store->ops->get_config(e->store, "surveys", &set, err);
    if (!rc && set) {
        json_error_t je;
        json_t *j = json_loads(set, 0, &je);
        const char *url = json_string_value(json_object_get(j, "public_url"));
        if (url && !(sv->public_url = cxm_strdup(url)))
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        json_decref(j);
    }
    free(hex);
    free(set);
    return rc;
}

void survey_unload(struct engine *e)
{
    struct surveys *sv = SV(e);
    if (!sv)
        return;
    /* sessions in other threads may hold the versions in use: they stay
     * alive, with the replaced ones, until close */
    for (size_t i = 0; i < sv->ndefs; i++) {
        def_filters_free(&sv->defs[i]);
        if (cxm_grow((void **)&sv->old, &sv->oldcap, sv->nold + 1, sizeof *sv->old))
            survey_free(sv->defs[i].s);
        else
            sv->old[sv->nold++] = sv->defs[i].s;
    }
    struct survey **old = sv->old;
    size_t nold = sv->nold, oldcap = sv->oldcap;
    for (size_t i = 0; i < sv->ninv; i++)
        inv_free(&sv->invs[i]);
    for (size_t i = 0; i < sv->nsch; i++)
        free(sv->sch[i].ctx);
    free(sv->defs);
    free(sv->invs);
    free(sv->sch);
    free(sv->public_url);
    memset(sv, 0, sizeof *sv);
    sv->old = old;
    sv->nold = nold;
    sv->oldcap = oldcap;
}

/* Reloads after a failed commit: sessions of this process hold survey
 * versions, so replaced ones are kept (and freed at close). */
int survey_load(struct engine *e, struct cxm_err *err)
{
    struct surveys *sv = SV(e);
    if (!sv && !(sv = e->loop->sv = cxm_calloc(1, sizeof *sv)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    int rc = load_config(e, err);
    struct store_scan a = {.ctx = e, .survey = scan_survey};
    struct store_scan b = {.ctx = e, .invitation = scan_invitation,
                           .survey_answer = scan_answer, .schedule = scan_schedule};
    if (!rc)
        rc = e->store->ops->scan(e->store, &a, err);
    if (!rc)
        rc = e->store->ops->scan(e->store, &b, err);
    sv->bound_dicts = dict_total(e->m);
    return rc;
}

void survey_close(struct engine *e)
{
    survey_unload(e);
    struct surveys *sv = SV(e);
    for (size_t i = 0; sv && i < sv->nold; i++)
        survey_free(sv->old[i]);
    if (sv)
        free(sv->old);
    free(e->loop->sv);
    e->loop->sv = NULL;
}

/* ---- the API's side ----------------------------------------------------------- */

/* The invitation e-mail's templates name only variables they can have. */
static int check_templates(const struct survey *s, struct cxm_err *err)
{
    static const char *const vars[] = {"first_name", "name", "link", "survey"};
    const struct ltext *t[2] = {&s->email_subject, &s->email_text};
    const char *field[2] = {"email.subject", "email.text"};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < t[k]->n; i++) {
            struct cxm_err te;
            cxm_err_clear(&te);
            if (tpl_check(t[k]->text[i], vars, 4, &te))
                return cxm_err_field(err, CXM_EINVAL, -1, field[k], "%s (%s): %s",
                                     field[k], t[k]->lang[i], te.msg);
        }
    return CXM_OK;
}

int engine_survey_put(struct engine *e, const char *json, size_t len, bool create,
                      const char *id, json_t **out, struct cxm_err *err)
{
    struct survey_req q = {.op = 1, .create = create, .id = id};
    int rc = survey_parse(json, len, &q.s, err);
    if (!rc)
        rc = check_templates(q.s, err);
    if (rc) {
        survey_free(q.s);
        return rc;
    }
    rc = run_survey(e, &q, out, err);
    survey_free(q.s);            /* NULL once the engine took it */
    return rc;
}

static json_t *counts_json(const struct engine *e, size_t d)
{
    const struct surveys *sv = SV(e);
    size_t invited = 0, responded = 0, completed = 0;
    for (size_t i = 0; i < sv->ninv; i++) {
        const struct inv *v = &sv->invs[i];
        if (v->def != d || v->skipped)
            continue;
        invited++;
        responded += v->answered != 0;
        completed += v->completed && v->answered;
    }
    const struct survey *s = sv->defs[d].s;
    return json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I}", "id", s->id, "name", s->name,
                     "kind", s->kind == SK_RELATIONSHIP ? "relationship" : "transactional",
                     "enabled", s->enabled, "questions", (json_int_t)s->nq, "invited",
                     (json_int_t)invited, "responded", (json_int_t)responded, "completed",
                     (json_int_t)completed);
}

int engine_surveys(struct engine *e, json_t **out, struct cxm_err *err)
{
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&e->lock);
    for (size_t d = 0; arr && d < SV(e)->ndefs; d++)
        json_array_append_new(arr, counts_json(e, d));
    pthread_rwlock_unlock(&e->lock);
    *out = arr ? json_pack("{s:o}", "surveys", arr) : NULL;
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_survey(struct engine *e, const char *id, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    int d = def_find(SV(e), id);
    *out = d >= 0 ? survey_json(SV(e)->defs[d].s) : NULL;
    pthread_rwlock_unlock(&e->lock);
    if (d < 0)
        return cxm_err_set(err, CXM_ENOTFOUND, "no survey \"%s\"", id);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_survey_invite(struct engine *e, const struct invite_req *r, json_t **out,
                         struct cxm_err *err)
{
    struct survey_req q = {.op = 2, .ir = r};
    return run_survey(e, &q, out, err);
}

int engine_survey_tick(struct engine *e, int64_t *next, struct cxm_err *err)
{
    struct survey_req q = {.op = 4};
    int rc = run_survey(e, &q, NULL, err);
    *next = q.next;
    return rc;
}

int engine_survey_settings(struct engine *e, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    const char *url = SV(e)->public_url;
    *out = json_pack("{s:s}", "public_url", url ? url : "http://127.0.0.1:8080");
    pthread_rwlock_unlock(&e->lock);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_set_survey_settings(struct engine *e, const char *json, size_t len,
                               struct cxm_err *err)
{
    struct survey_req q = {.op = 5, .json = json, .len = len};
    return run_survey(e, &q, NULL, err);
}

/* ---- the hosted page's side -------------------------------------------------- */

struct sess_priv {
    int64_t expires;
};

int engine_survey_session(struct engine *e, const char *token, const char *lang,
                          struct survey_session *out, struct cxm_err *err)
{
    memset(out, 0, sizeof *out);
    out->state = SVS_UNKNOWN;
    out->next = -1;
    int64_t id, expires;
    struct cxm_err terr;
    pthread_rwlock_rdlock(&e->lock);
    struct surveys *sv = SV(e);
    const struct inv *v = NULL;
    if (sv->has_key && token && !survey_token_read(sv->key, token, &id, &expires, &terr))
        v = inv_get(sv, id);
    if (!v || v->skipped || v->expires != expires) {
        pthread_rwlock_unlock(&e->lock);
        return CXM_OK;
    }
    const struct survey *s = sv->defs[v->def].s;
    int rc = CXM_OK;
    out->a = cxm_calloc(s->nq ? s->nq : 1, sizeof *out->a);
    out->answered = cxm_calloc(s->nq ? s->nq : 1, sizeof *out->answered);
    if (!out->a || !out->answered)
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < s->nq; i++) {
        out->a[i] = (struct survey_answer){.score = NAN};
        for (size_t k = 0; k < v->nans; k++)
            if (strcmp(v->ans[k].qid, s->q[i].id) == 0) {
                out->a[i] = v->ans[k].a;
                out->answered[i] = true;
            }
    }
    if (!rc) {
        out->s = s;
        out->invitation = v->id;
        out->next = survey_next(s, out->a, out->answered, &out->step, &out->steps);
        const char *cl = customer_lang(e, model_root(e->m, (uint32_t)v->customer));
        const char *pick = cl ? survey_lang(s, cl) : NULL;
        /* the customer's language when the survey speaks it, else the browser's */
        if (!pick || (strncmp(pick, cl, 2) != 0))
            pick = survey_lang(s, lang);
        out->lang = pick;
        int64_t now = engine_now(e);
        out->state = v->completed || out->next < 0 ? SVS_DONE
                     : !s->enabled ? SVS_CLOSED : now > v->expires ? SVS_EXPIRED : SVS_OPEN;
    }
    pthread_rwlock_unlock(&e->lock);
    if (rc)
        survey_session_free(out);
    return rc;
}

void survey_session_free(struct survey_session *ss)
{
    free(ss->a);                 /* texts are never kept in sessions */
    free(ss->answered);
    memset(ss, 0, sizeof *ss);
}

/* The feedback record of an answer (text scored here, outside the writer). */
static int answer_event(struct engine *e, const struct survey *s, size_t qi,
                        const struct survey_answer *a, const char *ctx, int64_t inv,
                        struct arena *ar, json_t **keep, struct event *ev, struct cxm_err *err)
{
    const struct survey_question *q = &s->q[qi];
    char eid[96];
    snprintf(eid, sizeof eid, "svy:%lld:%s", (long long)inv, q->id);
    json_error_t je;
    json_t *c = ctx ? json_loads(ctx, 0, &je) : NULL;
    const char *tp = json_string_value(json_object_get(c, "touchpoint"));
    const char *ch = json_string_value(json_object_get(c, "channel"));
    const char *st = json_string_value(json_object_get(c, "stage"));
    const char *ag = json_string_value(json_object_get(c, "agent"));
    json_t *r = json_pack("{s:s, s:i, s:s, s:s, s:s}", "type", "feedback", "customer_id", 1,
                          "kind", survey_feedback_kind(q->type), "survey", s->id, "event_id",
                          eid);
    if (!r) {
        json_decref(c);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    if (tp || s->touchpoint)
        json_object_set_new(r, "touchpoint", json_string(tp ? tp : s->touchpoint));
    if (ch || s->channel)
        json_object_set_new(r, "channel", json_string(ch ? ch : s->channel));
    if (st || s->stage)
        json_object_set_new(r, "stage", json_string(st ? st : s->stage));
    if (ag)
        json_object_set_new(r, "agent_id", json_string(ag));
    json_decref(c);
    if (!isnan(a->score)) {
        /* CES is stored on the default scale: 1 = the least effort */
        double v = q->type == Q_CES && q->reverse ? 8 - a->score : a->score;
        json_object_set_new(r, "score", json_integer((json_int_t)v));
    }
    struct buf t;
    buf_init(&t, SURVEY_MAX_ANSWER * 2);
    for (size_t k = 0; k < q->nchoices; k++)
        if (a->choices >> k & 1u)
            buf_printf(&t, "%s%s", t.len ? "; " : "",
                       survey_text(s, &q->choices[k].label, s->lang));
    const char *text = a->text ? a->text : t.len ? t.p : NULL;
    if (text)
        json_object_set_new(r, "comment", json_string(text));
    buf_free(&t);
    int rc = event_decode(r, 0, engine_now(e), ar, ev, err);
    *keep = r;                   /* the event borrows its strings */
    if (rc)
        return rc;
    ev->customer_id = 0;
    if (ev->text && !e->text_off) {
        struct text_scores *sc = arena_alloc(ar, sizeof *sc);
        if (!sc)
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        pthread_rwlock_rdlock(&e->tlock);
        text_score(e->tax, e->tm, ev->text, strlen(ev->text), sc);
        pthread_rwlock_unlock(&e->tlock);
        ev->sc = sc;
    }
    return CXM_OK;
}

int engine_survey_answer(struct engine *e, const char *token, const char *qid,
                         const char *const *values, size_t nvalues, struct cxm_err *err)
{
    struct survey_session ss;
    int rc = engine_survey_session(e, token, NULL, &ss, err);
    if (rc)
        return rc;
    if (ss.state != SVS_OPEN || ss.next < 0 || !qid || strcmp(ss.s->q[ss.next].id, qid)) {
        bool open = ss.state == SVS_OPEN;
        survey_session_free(&ss);
        return cxm_err_set(err, CXM_ECONFLICT, open ? "another question is due"
                                                    : "this survey link cannot be answered now");
    }
    struct survey_answer a = {.score = NAN};
    rc = survey_answer_read(ss.s, (size_t)ss.next, values, nvalues, &a, err);
    struct arena ar = {0};
    json_t *keep = NULL;
    struct event ev;
    char *ctx = NULL;
    if (!rc && a.given) {
        pthread_rwlock_rdlock(&e->lock);
        const struct inv *v = inv_get(SV(e), ss.invitation);
        ctx = v && v->ctx ? cxm_strdup(v->ctx) : NULL;
        pthread_rwlock_unlock(&e->lock);
        rc = answer_event(e, ss.s, (size_t)ss.next, &a, ctx, ss.invitation, &ar, &keep, &ev,
                          err);
    }
    int64_t expires = 0, inv = ss.invitation;
    if (!rc) {
        int64_t id;
        struct cxm_err terr;
        pthread_rwlock_rdlock(&e->lock);
        if (survey_token_read(SV(e)->key, token, &id, &expires, &terr))
            expires = -1;
        pthread_rwlock_unlock(&e->lock);
        struct survey_req q = {.op = 3, .inv = inv, .expires = expires, .qid = qid, .a = a,
                               .ev = a.given ? &ev : NULL};
        rc = run_survey(e, &q, NULL, err);
    }
    survey_answer_clear(&a);
    survey_session_free(&ss);
    json_decref(keep);
    arena_free(&ar);
    free(ctx);
    return rc;
}

int engine_survey_open(struct engine *e, const char *survey, char *token, size_t cap,
                       struct cxm_err *err)
{
    struct survey_req q = {.op = 6, .id = survey};
    int rc = run_survey(e, &q, NULL, err);
    if (!rc && !cxm_strlcpy(token, q.token, cap))
        rc = cxm_err_set(err, CXM_ETOOBIG, "token buffer too small");
    return rc;
}

const struct survey *engine_survey_opening(struct engine *e, const char *survey)
{
    pthread_rwlock_rdlock(&e->lock);
    int d = survey ? def_find(SV(e), survey) : -1;
    const struct survey *s = d >= 0 && SV(e)->defs[d].s->anonymous &&
                             SV(e)->defs[d].s->enabled ? SV(e)->defs[d].s : NULL;
    pthread_rwlock_unlock(&e->lock);
    return s;              /* versions stay alive until close */
}

bool engine_survey_origin_ok(struct engine *e, const char *survey, const char *origin)
{
    bool ok = false;
    pthread_rwlock_rdlock(&e->lock);
    int d = survey && origin ? def_find(SV(e), survey) : -1;
    for (size_t i = 0; d >= 0 && i < SV(e)->defs[d].s->norigins; i++)
        ok |= strcmp(SV(e)->defs[d].s->origins[i], origin) == 0;
    ok = ok && d >= 0 && SV(e)->defs[d].s->enabled;
    pthread_rwlock_unlock(&e->lock);
    return ok;
}

static bool visitor_ok(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n < 8 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '_'))
            return false;
    return true;
}

int engine_survey_widget(struct engine *e, const struct widget_answer *w, json_t **out,
                         struct cxm_err *err)
{
    if (!engine_survey_origin_ok(e, w->survey, w->origin)) {
        pthread_rwlock_rdlock(&e->lock);
        bool known = w->survey && def_find(SV(e), w->survey) >= 0;
        pthread_rwlock_unlock(&e->lock);
        return known ? cxm_err_set(err, CXM_EPERM, "this origin may not post to the survey")
                     : cxm_err_set(err, CXM_ENOTFOUND, "no survey \"%s\"",
                                   w->survey ? w->survey : "");
    }
    if (w->email)
        return cxm_err_field(err, CXM_EINVAL, -1, "email", "the public endpoint takes no"
                             " identities: anyone could claim any address");
    if (!visitor_ok(w->visitor))
        return cxm_err_field(err, CXM_EINVAL, -1, "visitor", "must be 8-64 letters, digits,"
                             " '-' or '_'");
    if (w->comment && strlen(w->comment) > SURVEY_MAX_ANSWER)
        return cxm_err_field(err, CXM_EINVAL, -1, "comment", "is longer than %d bytes",
                             SURVEY_MAX_ANSWER);
    pthread_rwlock_rdlock(&e->lock);
    int d = def_find(SV(e), w->survey);
    if (d < 0) {
        pthread_rwlock_unlock(&e->lock);
        return cxm_err_set(err, CXM_ENOTFOUND, "no survey \"%s\"", w->survey);
    }
    const struct survey *s = SV(e)->defs[d].s;
    int qi = -1;
    for (size_t i = 0; i < s->nq && qi < 0; i++)
        if (w->question ? !strcmp(s->q[i].id, w->question)
                        : s->q[i].type != Q_TEXT && s->q[i].type != Q_MULTI)
            qi = (int)i;
    struct survey_answer a = {.score = NAN};
    int rc = qi < 0 ? cxm_err_field(err, CXM_EINVAL, -1, "question", "no such question")
             : s->q[qi].type == Q_SINGLE || s->q[qi].type == Q_MULTI
             ? cxm_err_field(err, CXM_EINVAL, -1, "question", "the widget asks scored and text"
                             " questions only")
             : survey_answer_read(s, (size_t)qi, &w->value, w->value ? 1 : 0, &a, err);
    if (!rc && !a.given)
        rc = cxm_err_field(err, CXM_EINVAL, -1, "value", "an answer is needed");
    if (rc && !err->field[0])
        snprintf(err->field, sizeof err->field, "value");
    json_t *rec = NULL;
    char *thanks = NULL;
    if (!rc) {
        const struct survey_question *q = &s->q[qi];
        char cookie[80];
        snprintf(cookie, sizeof cookie, "svw:%s", w->visitor);
        rec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "feedback", "cookie", cookie,
                        "kind", survey_feedback_kind(q->type), "survey", s->id, "channel",
                        s->channel ? s->channel : "web");
        if (rec && !isnan(a.score))
            json_object_set_new(rec, "score", json_integer((json_int_t)(
                q->type == Q_CES && q->reverse ? 8 - a.score : a.score)));
        const char *text = a.text ? a.text : w->comment;
        if (rec && text && *text)
            json_object_set_new(rec, "comment", json_string(text));
        if (rec && s->touchpoint)
            json_object_set_new(rec, "touchpoint", json_string(s->touchpoint));
        if (rec && s->stage)
            json_object_set_new(rec, "stage", json_string(s->stage));
        thanks = cxm_strdup(survey_text(s, &s->thanks, NULL));
        if (!rec || !thanks)
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    pthread_rwlock_unlock(&e->lock);
    survey_answer_clear(&a);
    struct arena ar = {0};
    struct event ev;
    if (!rc)
        rc = event_decode(rec, 0, engine_now(e), &ar, &ev, err);
    if (!rc) {
        struct engine_work wk = {.op = ENGINE_INGEST, .ev = &ev, .n = 1};
        rc = engine_run(e, &wk);
        if (!rc && wk.rc) {
            *err = wk.err;
            rc = wk.rc;
        }
    }
    if (!rc && !(*out = json_pack("{s:b, s:s}", "recorded", 1, "thanks", thanks)))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    free(thanks);
    json_decref(rec);
    arena_free(&ar);
    return rc;
}

/* ---- results ------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

struct tally {
    char key[32];
    size_t invited, responded, completed;
};

static struct tally *tally_get(struct tally *t, size_t *n, size_t cap, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(t[i].key, key))
            return &t[i];
    if (*n >= cap)
        return NULL;
    struct tally *x = &t[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->key, sizeof x->key, "%s", key);
    return x;
}

static json_t *tally_json(const struct tally *t, size_t n, const char *name)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:o, s:o}", name, t[i].key,
            "invited", (json_int_t)t[i].invited, "responded", (json_int_t)t[i].responded,
            "completed", (json_int_t)t[i].completed, "response_rate", t[i].invited ?
            json_real(100.0 * (double)t[i].responded / (double)t[i].invited) : json_null(),
            "completion_rate", t[i].responded ? json_real(100.0 * (double)t[i].completed /
            (double)t[i].responded) : json_null()));
    return arr;
}

int engine_survey_results(struct engine *e, const char *id, int64_t from, int64_t to,
                          const char *period, json_t **out, struct cxm_err *err)
{
    int b = period ? bucket_parse(period) : BUCKET_MONTH;
    if (b < BUCKET_WEEK || b > BUCKET_QUARTER)
        return cxm_err_field(err, CXM_EINVAL, -1, "period", "must be week, month or quarter");
    enum { NT = 64 };
    struct tally ch[NT], per[NT], all = {.key = "all"};
    size_t nch = 0, nper = 0;
    json_t *skipped = json_object();
    uint32_t *secs = NULL;
    size_t ns = 0;
    pthread_rwlock_rdlock(&e->lock);
    struct surveys *sv = SV(e);
    int d = def_find(sv, id);
    int rc = d < 0 ? cxm_err_set(err, CXM_ENOTFOUND, "no survey \"%s\"", id)
             : !skipped || (sv->ninv && !(secs = cxm_malloc(sv->ninv * sizeof *secs)))
             ? cxm_err_set(err, CXM_ENOMEM, "out of memory") : CXM_OK;
    bool scored[8] = {false};
    for (size_t i = 0; !rc && d >= 0 && i < sv->defs[d].s->nq; i++)
        scored[sv->defs[d].s->q[i].type] = true;
    for (size_t i = 0; !rc && i < sv->ninv; i++) {
        const struct inv *v = &sv->invs[i];
        if (v->def != (uint32_t)d || v->created < from || v->created >= to)
            continue;
        if (v->skipped) {
            json_t *n = json_object_get(skipped, v->reason);
            json_object_set_new(skipped, v->reason, json_integer(n ? json_integer_value(n) + 1
                                                                   : 1));
            continue;
        }
        char label[16];
        bucket_label(v->created, (enum bucket)b, label);
        struct tally *x[3] = {&all, tally_get(ch, &nch, NT, v->channel),
                              tally_get(per, &nper, NT, label)};
        for (int k = 0; k < 3; k++)
            if (x[k]) {
                x[k]->invited++;
                x[k]->responded += v->answered != 0;
                x[k]->completed += v->completed && v->answered;
            }
        if (v->answered)
            secs[ns++] = (uint32_t)(v->answered - v->created);
    }
    pthread_rwlock_unlock(&e->lock);
    if (rc) {
        json_decref(skipped);
        free(secs);
        return rc;
    }
    if (ns > 1)
        qsort(secs, ns, sizeof *secs, cmp_u32);
    json_t *metrics = json_object();
    static const char *const kinds[] = {[Q_NPS] = "nps", [Q_CSAT] = "csat", [Q_CES] = "ces"};
    char where[128];
    snprintf(where, sizeof where, "survey = '%s'", id);
    for (int t = Q_NPS; metrics && t <= Q_CES; t++) {
        if (!scored[t])
            continue;
        struct report_query rq = {.metric = kinds[t], .where = where, .from = from, .to = to};
        json_t *rep = NULL;
        struct cxm_err rerr;
        if (!engine_report(e, &rq, &rep, &rerr))
            json_object_set_new(metrics, kinds[t], json_incref(json_array_get(
                                    json_object_get(rep, "rows"), 0)));
        json_decref(rep);
    }
    *out = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "survey", id,
                     "invited", (json_int_t)all.invited, "responded", (json_int_t)all.responded,
                     "completed", (json_int_t)all.completed, "response_rate", all.invited ?
                     json_real(100.0 * (double)all.responded / (double)all.invited) : json_null(),
                     "completion_rate", all.responded ? json_real(100.0 * (double)all.completed /
                     (double)all.responded) : json_null(), "median_seconds_to_respond",
                     ns ? json_real(journey_quantile(secs, ns, 0.5)) : json_null(), "skipped",
                     skipped, "by_channel", tally_json(ch, nch, "channel"), "by_period",
                     tally_json(per, nper, "period"), "metrics", metrics ? metrics : json_null());
    free(secs);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}
