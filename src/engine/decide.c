/* decide.c - next-best-action. A decision loads the customer's features
 * once, then for every action of the catalogue checks the channel, the
 * eligibility (a segment's rule and the action's own rule, run live on
 * the features), and the contact policy against the profile's contact
 * history, renders the message of those left and ranks them by priority
 * and value. Every action left out carries the rule that excluded it.
 * Decisions are logged without waiting: the log is written by the writer
 * with the next commit. Contacts are checked again and recorded by the
 * writer, so two channels cannot both take the last slot of a cap. */
#include "engine/decide.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/actions.h"
#include "core/policy.h"
#include "core/template.h"
#include "core/timefmt.h"
#include "cxm_limits.h"
#include "engine/features.h"
#include "engine/loop.h"
#include "engine/segments.h"
#include "log.h"

#define DAY 86400
#define MAX_CONTEXT 4096             /* bytes of a decision's context */
#define LOG_MAX 100000               /* decisions waiting to be written */
#define LOG_BATCH 512                /* a full batch is queued as writer work */
static const char RULE_HOLDOUT[] = "holdout";

static const char *const vars[] = {"first_name", "name", "country", "city", "language",
                                   "customer_id", "channel", "top_category", "orders",
                                   "last_nps"};
#define NVARS (sizeof vars / sizeof vars[0])

struct act {
    struct filter *rule;         /* NULL: none */
    int seg;                     /* index in segments, -1: none */
};

struct logged {
    struct store_decision d;
    char *strs;                  /* channel, context, actions, one block */
};

struct nba {
    struct catalogue cat;
    struct act *act;             /* per action */
    char *cat_json;              /* as given (NULL: the empty default) */
    struct policy pol;
    /* decision log: ids handed out and entries waiting for the writer */
    pthread_mutex_t mu;
    int64_t next_id;
    struct logged *log;
    size_t nlog, logcap;
    bool flushing;               /* a flush is queued */
    uint64_t logged, dropped;
};

/* ---- loading ------------------------------------------------------------ */

static void acts_free(struct act *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        filter_free(a[i].rule);
    free(a);
}

/* Compiles the rules of catalogue c and finds its segments. */
static int compile(const struct engine *e, const struct catalogue *c, struct act **out,
                   struct cxm_err *err)
{
    struct act *a = cxm_calloc(c->n ? c->n : 1, sizeof *a);
    if (!a)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->n; i++) {
        a[i].seg = -1;
        const struct action *x = &c->a[i];
        if (x->rule) {
            struct cxm_err perr;
            cxm_err_clear(&perr);
            if (!(a[i].rule = feat_parse(e->m, x->rule, &perr))) {
                acts_free(a, c->n);
                return cxm_err_field(err, perr.code, (long)i, "rule", "action %zu (\"%s\"): %s",
                                     i, x->id, perr.msg);
            }
        }
        if (x->segment) {
            const struct segment *s = segment_find(e, x->segment);
            if (!s) {
                acts_free(a, c->n);
                return cxm_err_field(err, CXM_EINVAL, (long)i, "segment",
                                     "action %zu (\"%s\"): no segment \"%s\"", i, x->id,
                                     x->segment);
            }
            a[i].seg = (int)(s - e->segs->s);
        }
    }
    *out = a;
    return CXM_OK;
}

void nba_rebind(struct engine *e)
{
    struct nba *n = e->nba;
    if (!n)
        return;
    for (size_t i = 0; i < n->cat.n; i++) {
        if (n->act[i].rule)
            feat_bind(e->m, n->act[i].rule);
        const char *sid = n->cat.a[i].segment;
        const struct segment *s = sid ? segment_find(e, sid) : NULL;
        n->act[i].seg = s ? (int)(s - e->segs->s) : -1;
    }
}

const char *nba_segment_user(const struct engine *e, const char *id)
{
    const struct nba *n = e->nba;
    for (size_t i = 0; n && i < n->cat.n; i++)
        if (n->cat.a[i].segment && strcmp(n->cat.a[i].segment, id) == 0)
            return n->cat.a[i].id;
    return NULL;
}

int nba_open(struct engine *e, struct cxm_err *err)
{
    struct nba *n = cxm_calloc(1, sizeof *n);
    if (!n)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    pthread_mutex_init(&n->mu, NULL);
    policy_default(&n->pol);
    e->nba = n;
    struct store *s = e->store;
    char *doc = NULL;
    int rc = s->ops->get_config(s, "contact_policy", &doc, err);
    if (!rc && doc && (rc = policy_parse(doc, strlen(doc), &n->pol, err)))
        log_msg(LOG_WARN, "the stored contact policy is not loaded: %s", err->msg);
    free(doc);
    doc = NULL;
    if (!rc)
        rc = s->ops->get_config(s, "actions", &doc, err);
    if (!rc && doc) {
        struct catalogue c = {0};
        struct act *a = NULL;
        if (actions_parse(doc, strlen(doc), vars, NVARS, &c, err) ||
            compile(e, &c, &a, err)) {
            log_msg(LOG_WARN, "the stored action catalogue is not loaded: %s", err->msg);
            actions_free(&c);
            free(doc);
        } else {
            n->cat = c;
            n->act = a;
            n->cat_json = doc;
        }
    } else {
        free(doc);
    }
    if (!rc)
        rc = s->ops->max_decision(s, &n->next_id, err);
    n->next_id++;
    return rc;
}

static void log_clear(struct logged *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i].strs);
}

void nba_close(struct engine *e)
{
    struct nba *n = e->nba;
    if (!n)
        return;
    acts_free(n->act, n->cat.n);
    actions_free(&n->cat);
    free(n->cat_json);
    log_clear(n->log, n->nlog);
    free(n->log);
    pthread_mutex_destroy(&n->mu);
    free(n);
    e->nba = NULL;
}

/* ---- settings ----------------------------------------------------------- */

struct config {
    bool is_policy;
    struct policy pol;
    struct catalogue cat;
    struct act *act;
    char *json;
};

int engine_actions(struct engine *e, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    *out = actions_json(&e->nba->cat);
    pthread_rwlock_unlock(&e->lock);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_policy(struct engine *e, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    *out = policy_json(&e->nba->pol);
    pthread_rwlock_unlock(&e->lock);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

static int submit_config(struct engine *e, const char *name, struct config *c,
                         struct cxm_err *err)
{
    struct engine_work w = {.op = ENGINE_CONFIG, .config_name = name, .config = c};
    int rc = engine_run(e, &w);
    if (rc && err)
        *err = w.err;
    return rc;
}

int engine_set_policy(struct engine *e, const char *json, size_t len, struct cxm_err *err)
{
    struct config c = {.is_policy = true};
    policy_default(&c.pol);
    int rc = policy_parse(json, len, &c.pol, err);
    if (rc)
        return rc;
    json_t *j = policy_json(&c.pol);
    if (!j || !(c.json = json_dumps(j, JSON_COMPACT))) {
        json_decref(j);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    json_decref(j);
    rc = submit_config(e, "contact_policy", &c, err);
    free(c.json);
    return rc;
}

int engine_set_actions(struct engine *e, const char *json, size_t len, struct cxm_err *err)
{
    struct config c = {0};
    int rc = actions_parse(json, len, vars, NVARS, &c.cat, err);
    if (rc)
        return rc;
    if (!(c.json = cxm_strndup(json, len))) {
        actions_free(&c.cat);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    rc = submit_config(e, "actions", &c, err);
    /* on success the writer took the catalogue */
    acts_free(c.act, c.cat.n);
    actions_free(&c.cat);
    free(c.json);
    return rc;
}

int nba_apply_config(struct engine *e, struct engine_work *w, int64_t seq,
                     struct cxm_err *err)
{
    if (!strcmp(w->config_name, "recommendations")) {
        /* checked by the caller, which swaps the settings in */
        char *doc = cxm_strndup(w->config, w->blob_len);
        if (!doc)
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        int rc = e->store->ops->put_config(e->store, w->config_name, doc, seq, err);
        free(doc);
        w->accepted = !rc;
        return rc;
    }
    struct config *c = (struct config *)w->config;
    struct nba *n = e->nba;
    if (!c->is_policy) {
        /* segments are checked here, under the writer, so none can go
         * between the check and the swap */
        struct cxm_err cerr;
        cxm_err_clear(&cerr);
        if ((w->rc = compile(e, &c->cat, &c->act, &cerr))) {
            w->err = cerr;
            return CXM_OK;
        }
    }
    int rc = e->store->ops->put_config(e->store, w->config_name, c->json, seq, err);
    if (rc)
        return rc;
    if (c->is_policy) {
        n->pol = c->pol;
    } else {
        acts_free(n->act, n->cat.n);
        actions_free(&n->cat);
        free(n->cat_json);
        n->cat = c->cat;
        n->act = c->act;
        n->cat_json = c->json;
        c->cat = (struct catalogue){0};
        c->act = NULL;
        c->json = NULL;
    }
    w->accepted = 1;
    return CXM_OK;
}

/* ---- the policy's view of a profile ------------------------------------- */

struct subject {
    struct policy_subject s;
    struct policy_contact *hist;
    size_t nhist, cap;
};

static int subject_load(const struct model *m, struct feat_eval *x, struct subject *sb)
{
    sb->nhist = 0;
    for (size_t k = 0; k < x->nn; k++)
        for (uint32_t i = m->cust[x->nodes[k]].chead; i; i = m->cc.next[i]) {
            if (cxm_grow((void **)&sb->hist, &sb->cap, sb->nhist + 1, sizeof *sb->hist))
                return CXM_ENOMEM;
            sb->hist[sb->nhist++] = (struct policy_contact){m->cc.ts[i], m->cc.kind[i]};
        }
    const struct pfeat *p = &x->p;
    sb->s = (struct policy_subject){
        .consent_marketing = p->consent_m, .consent_surveys = p->consent_s,
        .open_cases = (uint32_t)feat_value(x, FF_OPEN_CASES),
        .last_answer_ts = p->f.last_answer, .last_order_ts = p->f.last_order,
        .hist = sb->hist, .nhist = sb->nhist};
    return CXM_OK;
}

/* ---- decisions ---------------------------------------------------------- */

struct vctx {
    const struct model *m;
    struct feat_eval *x;
    const char *channel;
    char id[16], orders[16], nps[8], first[64];
    const char *top;
    bool top_done;
};

/* The category the profile bought most often (ties: the lowest code). */
static const char *top_category(struct vctx *v)
{
    if (v->top_done)
        return v->top;
    v->top_done = true;
    const struct model *m = v->m;
    uint32_t best = 0, bestn = 0;
    uint32_t seen[32], cnt[32];
    size_t ns = 0;
    for (size_t k = 0; k < v->x->nn; k++)
        for (uint32_t i = m->cust[v->x->nodes[k]].ohead; i; i = m->oc.next[i])
            for (uint32_t j = 0; j < m->oc.nitems[i]; j++) {
                uint32_t c = m->oc.category[m->oc.item_off[i] + j];
                size_t s = 0;
                while (s < ns && seen[s] != c)
                    s++;
                if (s == ns) {
                    if (ns == 32 || !c)
                        continue;
                    seen[ns] = c;
                    cnt[ns++] = 0;
                }
                cnt[s]++;
                if (cnt[s] > bestn || (cnt[s] == bestn && c < best)) {
                    best = c;
                    bestn = cnt[s];
                }
            }
    v->top = best ? dict_str(m->dict[DICT_CATEGORY], best) : NULL;
    return v->top;
}

static const char *lookup(void *ctx, const char *name, size_t len)
{
    struct vctx *v = ctx;
    const struct pfeat *p = &v->x->p;
    const struct model *m = v->m;
#define IS(s) (len == sizeof s - 1 && memcmp(name, s, len) == 0)
    if (IS("first_name") || IS("name")) {
        const char *nm = NULL;
        for (size_t k = 0; k < v->x->nn && !nm; k++)
            nm = m->cust[v->x->nodes[k]].a.name;
        if (!nm || IS("name"))
            return nm;
        size_t n = strcspn(nm, " ");
        if (n >= sizeof v->first)
            n = sizeof v->first - 1;
        memcpy(v->first, nm, n);
        v->first[n] = '\0';
        return v->first;
    }
    if (IS("country"))
        return model_str(m, CD_COUNTRY, p->country);
    if (IS("city"))
        return model_str(m, CD_CITY, p->city);
    if (IS("language"))
        return model_str(m, CD_LANGUAGE, p->language);
    if (IS("customer_id")) {
        snprintf(v->id, sizeof v->id, "%u", p->root);
        return v->id;
    }
    if (IS("channel"))
        return v->channel;
    if (IS("orders")) {
        snprintf(v->orders, sizeof v->orders, "%u", p->f.orders);
        return v->orders;
    }
    if (IS("last_nps")) {
        if (p->f.last_nps < 0)
            return NULL;
        snprintf(v->nps, sizeof v->nps, "%d", p->f.last_nps);
        return v->nps;
    }
    if (IS("top_category"))
        return top_category(v);
#undef IS
    return NULL;
}

/* Appends s and its NUL to the text; its offset, or 0 when it does not
 * fit (offset 0 is the empty string put there first). */
static uint32_t put_str(struct buf *b, const char *s)
{
    size_t off = b->len;
    if (!s || !*s || buf_add(b, s, strlen(s) + 1))
        return 0;
    return (uint32_t)off;
}

/* "<lead> <arg>" */
static uint32_t put_two(struct buf *b, const char *lead, const char *arg)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s %s", lead, arg);
    return put_str(b, tmp);
}

static int rank_cmp(const void *pa, const void *pb, void *ctx)
{
    const struct decision_item *a = pa, *b = pb;
    const struct buf *t = ctx;
    if (a->eligible != b->eligible)
        return a->eligible ? -1 : 1;
    if (a->eligible) {
        if (a->priority != b->priority)
            return a->priority > b->priority ? -1 : 1;
        if (a->value != b->value)
            return a->value > b->value ? -1 : 1;
    }
    return strcmp(t->p + a->action, t->p + b->action);
}

const char *decision_str(const struct decision *d, uint32_t off)
{
    return off ? d->text->p + off : NULL;
}

void decision_free(struct decision *d)
{
    if (!d)
        return;
    free(d->items);
    if (d->text) {
        buf_free(d->text);
        free(d->text);
    }
    memset(d, 0, sizeof *d);
}

/* Whether profile root is in the control group of action id: a fixed
 * draw per (profile, action), so a customer stays in or out across
 * decisions and restarts, and the groups of two actions are independent. */
static bool held_out(uint32_t root, const char *id, double share)
{
    if (share <= 0)
        return false;
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a of the id, then the root */
    for (const char *s = id; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h ^= root;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;   /* splitmix64 finaliser */
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
    return (double)(h >> 11) / 9007199254740992.0 < share;
}

static bool on_channel(const struct action *a, const char *channel)
{
    if (!a->nchannels)
        return true;
    for (size_t i = 0; i < a->nchannels; i++)
        if (strcmp(a->channels[i], channel) == 0)
            return true;
    return false;
}

static void queue_log(struct engine *e, struct decision *d, const char *channel,
                      const char *context);

int engine_decide(struct engine *e, const struct decide_req *q, struct decision *out,
                  struct cxm_err *err)
{
    memset(out, 0, sizeof *out);
    if (!q->channel || !*q->channel || strlen(q->channel) > CXM_MAX_NAME)
        return cxm_err_field(err, CXM_EINVAL, -1, "channel",
                             "channel is required (at most %d bytes)", CXM_MAX_NAME);
    if (q->context && strlen(q->context) > MAX_CONTEXT)
        return cxm_err_field(err, CXM_EINVAL, -1, "context", "context is over %d bytes",
                             MAX_CONTEXT);
    struct buf *text = cxm_calloc(1, sizeof *text);
    if (!text)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    buf_init(text, 4u << 20);
    out->text = text;
    /* most decisions fit: one allocation instead of a doubling series */
    if (cxm_grow((void **)&text->p, &text->cap, 8192, 1) || buf_add(text, "", 1)) {
        decision_free(out);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    enum tpl_escape esc = tpl_escape_for(q->channel);
    int64_t now = engine_now(e);
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    const struct nba *n = e->nba;
    int rc = CXM_OK;
    struct feat_eval x;
    struct subject sb = {0};
    feat_eval_init(&x, m, now);
    if (q->customer < 1 || q->customer > m->ncust) {
        rc = cxm_err_field(err, CXM_ENOTFOUND, -1, "customer", "no customer %u", q->customer);
        goto done;
    }
    uint32_t root = model_root(m, q->customer);
    if ((rc = feat_eval_load(&x, root)) || (rc = subject_load(m, &x, &sb)) ||
        !(out->items = cxm_calloc(n->cat.n ? n->cat.n : 1, sizeof *out->items))) {
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        goto done;
    }
    out->customer = root;
    out->ts = now;
    struct vctx v = {.m = m, .x = &x, .channel = q->channel};
    for (size_t i = 0; i < n->cat.n; i++) {
        const struct action *a = &n->cat.a[i];
        struct decision_item *it = &out->items[out->n++];
        *it = (struct decision_item){.action = put_str(text, a->id),
                                     .name = put_str(text, a->name), .kind = a->kind,
                                     .priority = a->priority, .value = a->value};
        struct policy_verdict pv;
        bool ex = q->explain;
        if (!a->enabled) {
            it->rule = "disabled";
            it->why = ex ? put_str(text, "the action is disabled") : 0;
        } else if (!on_channel(a, q->channel)) {
            it->rule = "channel";
            it->why = ex ? put_two(text, "not offered on", q->channel) : 0;
        } else if (n->act[i].seg >= 0 &&
                   !feat_match(&x, e->segs->s[n->act[i].seg].f)) {
            it->rule = "segment";
            it->why = ex ? put_two(text, "not in segment", a->segment) : 0;
        } else if (n->act[i].rule && !feat_match(&x, n->act[i].rule)) {
            it->rule = "rule";
            it->why = ex ? put_two(text, "does not match:", a->rule) : 0;
        } else if (!policy_check(&n->pol, &sb.s, a->kind, a->acquisition, now, &pv)) {
            it->rule = policy_rule_name(pv.rule);
            it->why = ex ? put_str(text, pv.why) : 0;
            it->until = pv.until;
        } else if (held_out(root, a->id, a->holdout)) {
            /* eligible, and in the action's control group: logged as such */
            it->rule = RULE_HOLDOUT;
            it->why = ex ? put_str(text, "in the control group (held out to measure the"
                                         " action)") : 0;
        } else {
            it->eligible = true;
            out->neligible++;
            size_t off = text->len;
            if (!tpl_render(a->message, esc, lookup, &v, text) && !buf_add(text, "", 1))
                it->message = (uint32_t)off;
            if (a->subject) {
                off = text->len;
                if (!tpl_render(a->subject, esc, lookup, &v, text) && !buf_add(text, "", 1))
                    it->subject = (uint32_t)off;
            }
        }
    }
    qsort_r(out->items, out->n, sizeof *out->items, rank_cmp, text);
    if (q->limit && out->neligible > q->limit) {
        /* the ones past the limit are eligible but not proposed */
        for (size_t i = q->limit; i < out->neligible; i++) {
            out->items[i].eligible = false;
            out->items[i].rule = "limit";
            out->items[i].why = put_str(text, "ranked below the limit");
        }
        out->neligible = q->limit;
    }
done:
    pthread_rwlock_unlock(&e->lock);
    feat_eval_free(&x);
    free(sb.hist);
    if (rc) {
        decision_free(out);
        return rc;
    }
    if (q->log)
        queue_log(e, out, q->channel, q->context);
    return CXM_OK;
}

static json_t *jtime(int64_t t)
{
    char buf[TIMEFMT_LEN];
    timefmt_format(t, buf);
    return json_string(buf);
}

/* The same document written straight into a buffer: a decision answers
 * thousands of requests a second, and building a jansson tree of 50
 * objects cost more than deciding. Strings are valid UTF-8 (checked or
 * rendered so); quotes, backslashes and control characters are escaped. */
static int put_jstr(struct buf *b, const char *s)
{
    if (!s)
        return buf_add(b, "null", 4);
    int rc = buf_add(b, "\"", 1);
    const char *run = s;
    for (; !rc && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = buf_add(b, run, (size_t)(s - run));
        if (!rc)
            rc = c == '"' ? buf_add(b, "\\\"", 2) : c == '\\' ? buf_add(b, "\\\\", 2)
                                                    : buf_printf(b, "\\u%04x", c);
        run = s + 1;
    }
    if (!rc)
        rc = buf_add(b, run, (size_t)(s - run));
    return rc ? rc : buf_add(b, "\"", 1);
}

/* A number that reads back as a real (3.0, not 3), exactly. */
static int put_real(struct buf *b, double v)
{
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof tmp - 2)
        return CXM_EINVAL;
    if (!strpbrk(tmp, ".eEn"))
        memcpy(tmp + n, ".0", 3);
    return buf_add(b, tmp, strlen(tmp));
}

static int put_time(struct buf *b, int64_t t)
{
    char buf[TIMEFMT_LEN];
    timefmt_format(t, buf);
    return put_jstr(b, buf);
}

int decision_write(const struct decision *d, const char *channel, struct buf *b)
{
    int rc = d->id ? buf_printf(b, "{\"decision\":%lld", (long long)d->id)
                   : buf_add(b, "{\"decision\":null", 16);
    if (!rc)
        rc = buf_printf(b, ",\"customer\":%u,\"channel\":", d->customer);
    if (!rc)
        rc = put_jstr(b, channel);
    if (!rc)
        rc = buf_add(b, ",\"ts\":", 6);
    if (!rc)
        rc = put_time(b, d->ts);
    for (int pass = 0; pass < 2 && !rc; pass++) {
        rc = buf_add(b, pass ? "],\"excluded\":[" : ",\"actions\":[", pass ? 14 : 12);
        bool first = true;
        for (size_t i = 0; i < d->n && !rc; i++) {
            const struct decision_item *it = &d->items[i];
            if (it->eligible == (pass == 1))
                continue;
            rc = buf_add(b, first ? "{\"action\":" : ",{\"action\":", first ? 10 : 11);
            first = false;
            if (!rc)
                rc = put_jstr(b, decision_str(d, it->action));
            if (pass == 0) {
                if (!rc && it->name && (rc = buf_add(b, ",\"name\":", 8)) == 0)
                    rc = put_jstr(b, decision_str(d, it->name));
                if (!rc)
                    rc = buf_add(b, ",\"kind\":", 8);
                if (!rc)
                    rc = put_jstr(b, contact_kind_name(it->kind));
                if (!rc)
                    rc = buf_add(b, ",\"priority\":", 12);
                if (!rc)
                    rc = put_real(b, it->priority);
                if (!rc)
                    rc = buf_add(b, ",\"value\":", 9);
                if (!rc)
                    rc = put_real(b, it->value);
                if (!rc && it->subject && (rc = buf_add(b, ",\"subject\":", 11)) == 0)
                    rc = put_jstr(b, decision_str(d, it->subject));
                if (!rc && it->message && (rc = buf_add(b, ",\"message\":", 11)) == 0)
                    rc = put_jstr(b, decision_str(d, it->message));
            } else {
                if (!rc)
                    rc = buf_add(b, ",\"rule\":", 8);
                if (!rc)
                    rc = put_jstr(b, it->rule);
                if (!rc && it->why && (rc = buf_add(b, ",\"reason\":", 10)) == 0)
                    rc = put_jstr(b, decision_str(d, it->why));
                if (!rc)
                    rc = buf_add(b, ",\"until\":", 9);
                if (!rc)
                    rc = it->until ? put_time(b, it->until) : buf_add(b, "null", 4);
            }
            if (!rc)
                rc = buf_add(b, "}", 1);
        }
    }
    return rc ? rc : buf_add(b, "]}", 2);
}

/* ---- the decision log --------------------------------------------------- */

static void flush_done(struct engine_work *w)
{
    free(w);
}

static void queue_log(struct engine *e, struct decision *d, const char *channel,
                      const char *context)
{
    struct nba *n = e->nba;
    /* channel, context, the actions proposed and those held out ("a,b"),
     * one block */
    size_t cl = strlen(channel) + 1, xl = context ? strlen(context) + 1 : 1, al = 2;
    for (size_t i = 0; i < d->n; i++)
        if (i < d->neligible || d->items[i].rule == RULE_HOLDOUT)
            al += strlen(decision_str(d, d->items[i].action)) + 1;
    struct buf b = {.p = cxm_malloc(cl + xl + al), .cap = cl + xl + al, .max = cl + xl + al};
    int rc = b.p ? CXM_OK : CXM_ENOMEM;
    char *held = NULL;
    if (!rc) {
        memcpy(b.p, channel, cl);
        memcpy(b.p + cl, context ? context : "", xl);
        char *a = b.p + cl + xl;
        for (int pass = 0; pass < 2; pass++) {
            if (pass)
                held = a;
            *a = '\0';
            bool first = true;
            for (size_t i = 0; i < d->n; i++) {
                if (pass ? d->items[i].rule != RULE_HOLDOUT : i >= d->neligible)
                    continue;
                const char *id = decision_str(d, d->items[i].action);
                size_t l = strlen(id);
                if (!first)
                    *a++ = ',';
                first = false;
                memcpy(a, id, l + 1);
                a += l;
            }
            a++;
        }
    }
    bool submit = false;
    pthread_mutex_lock(&n->mu);
    if (!rc && n->nlog < LOG_MAX &&
        !cxm_grow((void **)&n->log, &n->logcap, n->nlog + 1, sizeof *n->log)) {
        d->id = n->next_id++;
        n->logged++;
        size_t clen = strlen(channel) + 1;
        const char *ctx = b.p + clen;
        n->log[n->nlog++] = (struct logged){
            .d = {.id = d->id, .ts = d->ts, .customer = d->customer},
            .strs = b.p};
        struct store_decision *sd = &n->log[n->nlog - 1].d;
        sd->channel = b.p;
        sd->context = *ctx ? ctx : NULL;
        sd->actions = ctx + strlen(ctx) + 1;
        sd->held = held;
        b.p = NULL;
        if (!n->flushing && n->nlog >= LOG_BATCH)
            submit = n->flushing = true;
    } else {
        n->dropped++;
    }
    pthread_mutex_unlock(&n->mu);
    buf_free(&b);
    if (submit) {
        struct engine_work *w = cxm_calloc(1, sizeof *w);
        if (w) {
            w->op = ENGINE_DECISIONS;
            w->done = flush_done;
            if (engine_submit(e, w)) {
                free(w);
                w = NULL;
            }
        }
        if (!w) {   /* the next decision tries again */
            pthread_mutex_lock(&n->mu);
            n->flushing = false;
            pthread_mutex_unlock(&n->mu);
        }
    }
}

void nba_stats(struct engine *e, uint64_t *logged, uint64_t *dropped)
{
    struct nba *n = e->nba;
    pthread_mutex_lock(&n->mu);
    *logged = n->logged;
    *dropped = n->dropped;
    pthread_mutex_unlock(&n->mu);
}

bool nba_log_waiting(struct engine *e)
{
    struct nba *n = e->nba;
    if (!n)
        return false;
    pthread_mutex_lock(&n->mu);
    bool waiting = n->nlog > 0;
    pthread_mutex_unlock(&n->mu);
    return waiting;
}

int nba_apply_decisions(struct engine *e, struct engine_work *w, struct cxm_err *err)
{
    struct nba *n = e->nba;
    pthread_mutex_lock(&n->mu);
    struct logged *l = n->log;
    size_t cnt = n->nlog;
    n->log = NULL;
    n->nlog = n->logcap = 0;
    n->flushing = false;
    pthread_mutex_unlock(&n->mu);
    int rc = CXM_OK;
    for (size_t i = 0; !rc && i < cnt; i++)
        rc = e->store->ops->put_decision(e->store, &l[i].d, err);
    log_clear(l, cnt);
    free(l);
    w->accepted = cnt;
    return rc;
}

/* ---- contacts ------------------------------------------------------------ */

static int touch_add(uint32_t **v, size_t *n, size_t *cap, uint32_t c)
{
    if (cxm_grow((void **)v, cap, *n + 1, sizeof **v))
        return CXM_ENOMEM;
    (*v)[(*n)++] = c;
    return CXM_OK;
}

int nba_apply_contacts(struct engine *e, struct engine_work *w, int64_t *seq,
                       uint32_t **touched, size_t *nt, size_t *tcap, struct cxm_err *err)
{
    struct model *m = e->m;
    const struct nba *n = e->nba;
    int64_t now = engine_now(e);
    struct feat_eval x;
    struct subject sb = {0};
    feat_eval_init(&x, m, now);
    int rc = CXM_OK;
    /* check all first: a batch is all or nothing */
    for (size_t i = 0; i < w->n && !w->rc; i++) {
        const struct contact_req *c = &w->contact[i];
        int kind = c->kind;
        bool acq = false;
        if (c->action) {
            int ai = actions_find(&n->cat, c->action);
            if (ai < 0) {
                w->rc = cxm_err_field(&w->err, CXM_EINVAL, (long)i, "action",
                                      "contact %zu: no action \"%s\"", i, c->action);
                break;
            }
            if (!kind)
                kind = n->cat.a[ai].kind;
            acq = n->cat.a[ai].acquisition;
        }
        if (!contact_kind_name(kind)) {
            w->rc = cxm_err_field(&w->err, CXM_EINVAL, (long)i, "kind",
                                  "contact %zu: give a kind or an action", i);
            break;
        }
        if (c->customer < 1 || c->customer > m->ncust) {
            w->rc = cxm_err_field(&w->err, CXM_ENOTFOUND, (long)i, "customer",
                                  "contact %zu: no customer %u", i, c->customer);
            break;
        }
        if (c->force)
            continue;
        if ((rc = feat_eval_load(&x, model_root(m, c->customer))) ||
            (rc = subject_load(m, &x, &sb)))
            break;
        /* earlier contacts of this batch to the same profile count too */
        for (size_t j = 0; j < i; j++) {
            const struct contact_req *p = &w->contact[j];
            if (model_root(m, p->customer) != x.p.root)
                continue;
            if ((rc = cxm_grow((void **)&sb.hist, &sb.cap, sb.nhist + 1, sizeof *sb.hist)))
                break;
            int pk = p->kind ? p->kind : p->action ? n->cat.a[actions_find(&n->cat, p->action)].kind : 0;
            sb.hist[sb.nhist++] = (struct policy_contact){p->ts ? p->ts : now, (uint8_t)pk};
        }
        if (rc)
            break;
        sb.s.hist = sb.hist;
        sb.s.nhist = sb.nhist;
        struct policy_verdict pv;
        if (!policy_check(&n->pol, &sb.s, kind, acq, c->ts ? c->ts : now, &pv))
            w->rc = cxm_err_field(&w->err, CXM_ECONFLICT, (long)i, policy_rule_name(pv.rule),
                                  "contact %zu refused by the contact policy (%s): %s", i,
                                  policy_rule_name(pv.rule), pv.why);
    }
    feat_eval_free(&x);
    free(sb.hist);
    if (rc)
        return cxm_err_set(err, rc, "out of memory");
    if (w->rc)
        return CXM_OK;
    for (size_t i = 0; i < w->n && !rc; i++) {
        const struct contact_req *c = &w->contact[i];
        uint32_t ch = 0;
        if (c->channel && *c->channel) {
            ch = dict_find(m->dict[DICT_CHANNEL], c->channel);
            /* a channel new to the data is interned like any other */
            if (!ch) {
                uint32_t code;
                bool added;
                if ((rc = dict_intern(m->dict[DICT_CHANNEL], c->channel, &code, &added)) ||
                    (rc = e->store->ops->put_dict(e->store, DICT_CHANNEL, code, c->channel,
                                                  err)))
                    break;
                ch = code;
            }
        }
        int kind = c->kind ? c->kind : n->cat.a[actions_find(&n->cat, c->action)].kind;
        struct store_contact sc = {.seq = ++*seq, .ts = c->ts ? c->ts : now,
                                   .customer = c->customer, .decision = c->decision,
                                   .kind = kind, .channel = ch, .action = c->action};
        if ((rc = e->store->ops->put_contact(e->store, &sc, err)) ||
            (rc = outbox_contact(e, &sc, c->channel, err)))
            break;
        if ((rc = model_add_contact(m, &sc)) || (rc = touch_add(touched, nt, tcap, c->customer)))
            cxm_err_set(err, rc, "out of memory");
    }
    if (!rc) {
        w->accepted = w->n;
        w->seq = *seq;
    }
    return rc;
}

int engine_contacts(struct engine *e, const struct contact_req *c, size_t n, int64_t *seq,
                    struct cxm_err *err)
{
    if (n == 0 || n > 1000)
        return cxm_err_set(err, CXM_EINVAL, "send 1 to 1000 contacts");
    for (size_t i = 0; i < n; i++) {
        if (c[i].action && strlen(c[i].action) > 64)
            return cxm_err_field(err, CXM_EINVAL, (long)i, "action", "contact %zu: action id"
                                 " over 64 bytes", i);
        if (c[i].channel && strlen(c[i].channel) > CXM_MAX_NAME)
            return cxm_err_field(err, CXM_EINVAL, (long)i, "channel", "contact %zu: channel"
                                 " over %d bytes", i, CXM_MAX_NAME);
        if (c[i].ts < 0 || c[i].ts > 4102444800)
            return cxm_err_field(err, CXM_EINVAL, (long)i, "ts", "contact %zu: ts out of"
                                 " range", i);
    }
    struct engine_work w = {.op = ENGINE_CONTACT, .contact = c, .n = n};
    int rc = engine_run(e, &w);
    if (rc && err)
        *err = w.err;
    if (!rc && seq)
        *seq = w.seq;
    return rc;
}

/* ---- uplift ------------------------------------------------------------- */

struct proposed {
    int64_t ts;
    uint32_t customer;
    bool held;                   /* in the action's control group */
};

/* Whether the comma-separated list names id. */
static bool lists(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *s = list; s && *s;) {
        size_t l = strcspn(s, ",");
        if (l == n && !memcmp(s, id, n))
            return true;
        s += l + (s[l] == ',');
    }
    return false;
}

struct props {
    struct proposed *v;
    size_t n, cap;
    const char *action;
};

static int on_decision(void *ctx, const struct store_decision *d)
{
    struct props *p = ctx;
    if (d->customer < 1 || d->customer > UINT32_MAX)
        return CXM_OK;
    if (cxm_grow((void **)&p->v, &p->cap, p->n + 1, sizeof *p->v))
        return CXM_ENOMEM;
    p->v[p->n++] = (struct proposed){d->ts, (uint32_t)d->customer,
                                     !lists(d->actions, p->action) && lists(d->held, p->action)};
    return CXM_OK;
}

static int proposed_cmp(const void *pa, const void *pb)
{
    const struct proposed *a = pa, *b = pb;
    if (a->customer != b->customer)
        return a->customer < b->customer ? -1 : 1;
    return (a->ts > b->ts) - (a->ts < b->ts);
}

#define UPLIFT_CONTACT_DAYS 7

static json_t *group_json(uint64_t n, uint64_t conv)
{
    return json_pack("{s:I, s:I, s:o}", "customers", (json_int_t)n, "ordered",
                     (json_int_t)conv, "rate", n ? json_real((double)conv / n) : json_null());
}

int engine_uplift(struct engine *e, const struct uplift_query *q, json_t **out,
                  struct cxm_err *err)
{
    if (!q->action || !*q->action)
        return cxm_err_field(err, CXM_EINVAL, -1, "action", "give the action id");
    if (q->days < 1 || q->days > 365)
        return cxm_err_field(err, CXM_EINVAL, -1, "days", "days must be 1-365");
    if (q->from >= q->to)
        return cxm_err_field(err, CXM_EINVAL, -1, "to", "the period is empty");
    pthread_rwlock_rdlock(&e->lock);
    int ai = actions_find(&e->nba->cat, q->action);
    int kind = ai >= 0 ? e->nba->cat.a[ai].kind : 0;
    pthread_rwlock_unlock(&e->lock);
    if (ai < 0)
        return cxm_err_field(err, CXM_ENOTFOUND, -1, "action", "no action \"%s\" in the"
                             " catalogue", q->action);
    /* decisions still queued are written first, then the log is read
     * without the model lock */
    if (nba_log_waiting(e)) {
        struct engine_work w = {.op = ENGINE_DECISIONS};
        if (engine_run(e, &w) && err) {
            *err = w.err;
            return w.rc;
        }
    }
    struct props p = {.action = q->action};
    int rc = e->store->ops->scan_decisions(e->store, q->from, q->to, q->action, on_decision,
                                           &p, err);
    if (rc) {
        free(p.v);
        return rc == CXM_ENOMEM ? cxm_err_set(err, rc, "out of memory") : rc;
    }
    int64_t now = engine_now(e), window = (int64_t)q->days * DAY;
    /* n, conv: [0] proposed, not contacted; [1] proposed, contacted; [2]
     * held out */
    uint64_t n[3] = {0}, conv[3] = {0}, pending = 0, customers = 0;
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    for (size_t i = 0; i < p.n; i++)   /* decisions name profiles; merged since: their root */
        p.v[i].customer = p.v[i].customer <= m->ncust ? model_root(m, p.v[i].customer) : 0;
    if (p.n > 1)
        qsort(p.v, p.n, sizeof *p.v, proposed_cmp);
    uint32_t *nodes = NULL;
    size_t nn = 0, ncap = 0;
    for (size_t i = 0; i < p.n && !rc; i++) {
        if (!p.v[i].customer || (i && p.v[i].customer == p.v[i - 1].customer))
            continue;   /* each profile once: its first decision */
        customers++;
        int64_t t = p.v[i].ts;
        if (t + window > now) {
            pending++;
            continue;
        }
        if ((rc = model_profile_nodes(m, p.v[i].customer, &nodes, &nn, &ncap))) {
            cxm_err_set(err, rc, "out of memory");
            break;
        }
        bool contacted = false, ordered = false;
        for (size_t k = 0; k < nn; k++) {
            const struct cust *c = &m->cust[nodes[k]];
            for (uint32_t x = c->chead; x && !contacted; x = m->cc.next[x])
                contacted = m->cc.kind[x] == kind && (int64_t)m->cc.ts[x] >= t &&
                            (int64_t)m->cc.ts[x] <= t + UPLIFT_CONTACT_DAYS * DAY;
            for (uint32_t x = c->ohead; x && !ordered; x = m->oc.next[x])
                ordered = (int64_t)m->oc.ts[x] > t && (int64_t)m->oc.ts[x] <= t + window;
        }
        int gi = p.v[i].held ? 2 : contacted;
        n[gi]++;
        conv[gi] += ordered;
    }
    pthread_rwlock_unlock(&e->lock);
    free(nodes);
    free(p.v);
    if (rc)
        return rc;
    /* with a control group: proposed (contacted or not) against held out,
     * an experiment; without: contacted against not, an association */
    bool exp = n[2] > 0;
    uint64_t na = exp ? n[0] + n[1] : n[1], ca = exp ? conv[0] + conv[1] : conv[1];
    uint64_t nb = exp ? n[2] : n[0], cb = exp ? conv[2] : conv[0];
    json_t *diff = json_null(), *margin = json_null();
    bool sig = false;
    if (na && nb) {
        double p1 = (double)ca / na, p0 = (double)cb / nb;
        double mg = 1.96 * sqrt(p1 * (1 - p1) / na + p0 * (1 - p0) / nb);
        diff = json_real(p1 - p0);
        margin = json_real(mg);
        sig = fabs(p1 - p0) > mg;
    }
    /* an open end of the period is null */
    json_t *f = q->from > 0 ? jtime(q->from) : json_null();
    json_t *t = q->to < INT64_MAX ? jtime(q->to) : json_null();
    *out = json_pack("{s:s, s:s, s:i, s:o, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o,"
                     " s:o, s:b, s:s, s:s}",
                     "action", q->action, "kind", contact_kind_name(kind), "days", q->days,
                     "from", f, "to", t, "decisions", (json_int_t)p.n, "customers",
                     (json_int_t)customers, "pending", (json_int_t)pending, "proposed",
                     group_json(n[0] + n[1], conv[0] + conv[1]), "contacted",
                     group_json(n[1], conv[1]), "not_contacted", group_json(n[0], conv[0]),
                     "held_out", group_json(n[2], conv[2]), "uplift", diff, "margin", margin,
                     "significant", sig, "method", exp ? "holdout" : "observational", "note",
                     exp ? "proposed against the held-out control group, drawn at random:"
                           " the difference measures the effect of proposing the action"
                         : "observational: who was contacted was not chosen at random, so"
                           " the difference is an association, not a measured effect");
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}
