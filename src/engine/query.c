/* query.c - reads answered from memory under the read lock: profiles,
 * search, timelines, exports. Comment texts come from the store by seq. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/identity.h"
#include "core/timefmt.h"
#include "engine/engine_impl.h"
#include "engine/segments.h"
#include "cxm_limits.h"

/* Nodes of the profile rooted at root, root first (depth-first). */
struct nodes {
    uint32_t *v;
    size_t n, cap;
};

static int collect(const struct model *m, uint32_t root, struct nodes *out)
{
    return model_profile_nodes(m, root, &out->v, &out->n, &out->cap);
}

static json_t *jtime(int64_t t)
{
    char buf[TIMEFMT_LEN];
    timefmt_format(t, buf);
    return json_string(buf);
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *jtri(int v)
{
    return v < 0 ? json_null() : json_boolean(v);
}

/* A float column holds about 7 significant digits: print what was sent
 * (7.3), not the binary float's expansion (7.300000191). */
static json_t *jfloat(float f)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", (double)f);
    return json_real(strtod(buf, NULL));
}

static json_t *jdict(const struct model *m, int d, uint32_t code)
{
    return jstr(dict_str(m->dict[d], code));
}

/* Sets key only when v is not NULL/absent: keeps documents small. */
static void set_opt(json_t *o, const char *key, json_t *v)
{
    if (v && !json_is_null(v))
        json_object_set_new(o, key, v);
    else
        json_decref(v);
}

/* The most recently updated node that has the field wins, so a merged
 * profile shows the latest value any of its sources gave. */
static const struct attrs *pick(const struct model *m, const struct nodes *ns,
                                size_t off, bool is_int)
{
    const struct attrs *best = NULL;
    for (size_t i = 0; i < ns->n; i++) {
        const struct attrs *a = &m->cust[ns->v[i]].a;
        const char *p = (const char *)a + off;
        bool has;
        if (is_int) {
            int v;
            memcpy(&v, p, sizeof v);
            has = off == offsetof(struct attrs, birth_year) ? v != 0 : v >= 0;
        } else {
            char *s;
            memcpy(&s, p, sizeof s);
            has = s != NULL;
        }
        if (has && (!best || a->updated_seq > best->updated_seq))
            best = a;
    }
    return best;
}

static json_t *attr_str(const struct model *m, const struct nodes *ns, size_t off)
{
    const struct attrs *a = pick(m, ns, off, false);
    if (!a)
        return json_null();
    char *s;
    memcpy(&s, (const char *)a + off, sizeof s);
    return json_string(s);
}

/* A coded attribute (gender, country, language): latest non-empty wins. */
static json_t *attr_code(const struct model *m, const struct nodes *ns, size_t off,
                         int cd)
{
    const struct attrs *best = NULL;
    uint16_t code = 0;
    for (size_t i = 0; i < ns->n; i++) {
        const struct attrs *a = &m->cust[ns->v[i]].a;
        uint16_t c;
        memcpy(&c, (const char *)a + off, sizeof c);
        if (c && (!best || a->updated_seq > best->updated_seq)) {
            best = a;
            code = c;
        }
    }
    return jstr(model_str(m, cd, code));
}

static int attr_int(const struct model *m, const struct nodes *ns, size_t off,
                    int none)
{
    const struct attrs *a = pick(m, ns, off, true);
    if (!a)
        return none;
    int v;
    memcpy(&v, (const char *)a + off, sizeof v);
    return v;
}

static int ident_cmp(const void *a, const void *b, void *ctx)
{
    const struct model *m = ctx;
    int64_t x = m->ident[*(const uint32_t *)a].seq, y = m->ident[*(const uint32_t *)b].seq;
    return x < y ? -1 : x > y;
}

/* In the order they became known (seq): the same after a restart. */
static json_t *identities_json(const struct model *m, const struct nodes *ns)
{
    json_t *arr = json_array();
    uint32_t *ids = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < ns->n; i++)
        for (uint32_t x = m->cust[ns->v[i]].ident_head; x; x = m->ident[x].next)
            if (!cxm_grow((void **)&ids, &cap, n + 1, sizeof *ids))
                ids[n++] = x;
    if (n)
        qsort_r(ids, n, sizeof *ids, ident_cmp, (void *)m);
    for (size_t k = 0; k < n; k++) {
        const struct ident *id = &m->ident[ids[k]];
        const char *value = id->key + strlen(id->key) + 1;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "kind", id->key,
                                             "value", value, "customer_id",
                                             (json_int_t)id->cust));
    }
    free(ids);
    return arr;
}

static json_t *merges_json(const struct model *m, const struct nodes *ns)
{
    json_t *arr = json_array();
    for (size_t i = 1; i < ns->n; i++) {
        const struct cust *c = &m->cust[ns->v[i]];
        const struct merge *mg = &m->merges[c->merge - 1];
        json_t *o = json_pack("{s:I, s:I, s:I, s:o, s:s}", "seq", (json_int_t)mg->seq,
                              "customer_id", (json_int_t)mg->child, "into",
                              (json_int_t)mg->parent, "ts", jtime(mg->ts),
                              "cause", mg->cause);
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *profile_json(const struct model *m, uint32_t root)
{
    struct nodes ns = {0};
    if (collect(m, root, &ns))
        return NULL;
    json_t *p = json_object();
    json_object_set_new(p, "id", json_integer(root));
    int64_t created = m->cust[root].created_ts, first = INT64_MAX, last = INT64_MIN;
    size_t ni = 0, nf = 0, no = 0, nnps = 0, ncsat = 0, nces = 0;
    double csat = 0, ces = 0, clv = 0;
    int64_t nps_ts = INT64_MIN, nps_seq = 0;
    double nps = NAN;
    bool chan[CXM_MAX_DICT + 1];
    memset(chan, 0, sizeof chan);
    for (size_t k = 0; k < ns.n; k++) {
        const struct cust *c = &m->cust[ns.v[k]];
        if (c->created_ts < created)
            created = c->created_ts;
        for (uint32_t i = c->ihead; i; i = m->ic.next[i]) {
            ni++;
            int64_t t = m->ic.ts[i];
            first = t < first ? t : first;
            last = t > last ? t : last;
            chan[m->ic.channel[i]] = true;
        }
        for (uint32_t i = c->fhead; i; i = m->fc.next[i]) {
            nf++;
            int64_t t = m->fc.ts[i];
            first = t < first ? t : first;
            last = t > last ? t : last;
            chan[m->fc.channel[i]] = true;
            double s = m->fc.score[i];
            switch (m->fc.kind[i]) {
            case FB_NPS:
                if (t > nps_ts || (t == nps_ts && m->fc.seq[i] > nps_seq)) {
                    nps_ts = t;
                    nps_seq = m->fc.seq[i];
                    nps = s;
                }
                nnps++;
                break;
            case FB_CSAT: csat += s; ncsat++; break;
            case FB_CES: ces += s; nces++; break;
            default: break;
            }
        }
        for (uint32_t i = c->ohead; i; i = m->oc.next[i]) {
            no++;
            int64_t t = m->oc.ts[i];
            first = t < first ? t : first;
            last = t > last ? t : last;
            chan[m->oc.channel[i]] = true;
            clv += m->oc.amount[i];
        }
    }
    json_object_set_new(p, "created", jtime(created));
    set_opt(p, "name", attr_str(m, &ns, offsetof(struct attrs, name)));
    int by = attr_int(m, &ns, offsetof(struct attrs, birth_year), 0);
    set_opt(p, "birth_year", by ? json_integer(by) : NULL);
    set_opt(p, "gender", attr_code(m, &ns, offsetof(struct attrs, gender), CD_GENDER));
    set_opt(p, "country", attr_code(m, &ns, offsetof(struct attrs, country), CD_COUNTRY));
    set_opt(p, "city", attr_code(m, &ns, offsetof(struct attrs, city), CD_CITY));
    set_opt(p, "language", attr_code(m, &ns, offsetof(struct attrs, language), CD_LANGUAGE));
    json_object_set_new(p, "consent", json_pack("{s:o, s:o, s:o}",
        "marketing", jtri(attr_int(m, &ns, offsetof(struct attrs, consent_m), -1)),
        "surveys", jtri(attr_int(m, &ns, offsetof(struct attrs, consent_s), -1)),
        "personalisation", jtri(attr_int(m, &ns, offsetof(struct attrs, consent_p), -1))));
    /* custom attributes: union over nodes, latest update wins per key */
    json_t *attrs = json_object();
    int64_t *applied = NULL;
    for (size_t round = 0; round < ns.n; round++) {
        const struct attrs *best = NULL;   /* oldest not yet applied */
        for (size_t k = 0; k < ns.n; k++) {
            const struct attrs *a = &m->cust[ns.v[k]].a;
            if (!a->attributes || (applied && a->updated_seq <= *applied))
                continue;
            if (!best || a->updated_seq < best->updated_seq)
                best = a;
        }
        if (!best)
            break;
        json_t *o = json_loads(best->attributes, 0, NULL);
        if (o)
            json_object_update(attrs, o);
        json_decref(o);
        applied = (int64_t *)&best->updated_seq;
    }
    json_object_set_new(p, "attributes", attrs);
    json_object_set_new(p, "identities", identities_json(m, &ns));
    json_t *mf = json_array();
    for (size_t k = 1; k < ns.n; k++)
        json_array_append_new(mf, json_integer(ns.v[k]));
    json_object_set_new(p, "merged_from", mf);
    json_object_set_new(p, "merges", merges_json(m, &ns));
    json_object_set_new(p, "first_seen", jtime(first <= created ? first : created));
    json_object_set_new(p, "last_seen", jtime(last > created ? last : created));
    json_t *chs = json_array();
    for (uint32_t c = 1; c <= dict_count(m->dict[DICT_CHANNEL]) && c <= CXM_MAX_DICT; c++)
        if (chan[c])
            json_array_append_new(chs, jdict(m, DICT_CHANNEL, c));
    json_object_set_new(p, "channels", chs);
    json_object_set_new(p, "counts", json_pack("{s:I, s:I, s:I}",
                        "interactions", (json_int_t)ni, "feedback", (json_int_t)nf,
                        "orders", (json_int_t)no));
    json_object_set_new(p, "latest_nps", isnan(nps) ? json_null() :
                        json_pack("{s:i, s:o}", "score", (int)nps, "ts", jtime(nps_ts)));
    json_object_set_new(p, "nps_responses", json_integer((json_int_t)nnps));
    json_object_set_new(p, "csat_mean", ncsat ? json_real(csat / (double)ncsat) : json_null());
    json_object_set_new(p, "csat_responses", json_integer((json_int_t)ncsat));
    json_object_set_new(p, "ces_mean", nces ? json_real(ces / (double)nces) : json_null());
    json_object_set_new(p, "ces_responses", json_integer((json_int_t)nces));
    json_object_set_new(p, "clv_historic", json_real(round(clv * 100) / 100));
    if (clv_profile_json(m, ns.v, ns.n, p)) {
        json_decref(p);
        p = NULL;
    }
    free(ns.v);
    return p;
}

int engine_customer(struct engine *e, uint32_t id, json_t **out, struct cxm_err *err)
{
    segments_rdlock(e);
    const struct model *m = e->m;
    int rc = CXM_OK;
    if (id < 1 || id > m->ncust) {
        rc = cxm_err_set(err, CXM_ENOTFOUND, "no customer %u", id);
    } else {
        uint32_t root = model_root(m, id);
        json_t *p = profile_json(m, root);
        if (!p) {
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        } else {
            if (root != id)
                json_object_set_new(p, "requested_id", json_integer(id));
            json_t *sg = json_array();
            for (size_t i = 0; sg && e->segs && i < e->segs->n; i++)
                if (segment_has(&e->segs->s[i], root))
                    json_array_append_new(sg, json_string(e->segs->s[i].id));
            json_object_set_new(p, "segments", sg ? sg : json_null());
            json_object_set_new(p, "seq", json_integer(m->last_seq));
            *out = p;
        }
    }
    pthread_rwlock_unlock(&e->lock);
    return rc;
}

static bool prefix_ci(const char *s, const char *q, size_t qn)
{
    return s && strncasecmp(s, q, qn) == 0;
}

/* A name matches when q prefixes the whole name or any word of it. */
static bool name_match(const char *name, const char *q, size_t qn)
{
    if (!name)
        return false;
    for (const char *p = name; *p;) {
        if (prefix_ci(p, q, qn))
            return true;
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    return false;
}

static void add_hit(const struct model *m, json_t *arr, uint32_t node,
                    const char *match, size_t limit)
{
    uint32_t root = model_root(m, node);
    size_t i;
    json_t *v;
    if (json_array_size(arr) >= limit)
        return;
    json_array_foreach(arr, i, v) {
        if ((uint32_t)json_integer_value(json_object_get(v, "id")) == root)
            return;
    }
    struct nodes ns = {0};
    if (collect(m, root, &ns))
        return;
    json_t *hit = json_object();
    json_object_set_new(hit, "id", json_integer(root));
    set_opt(hit, "name", attr_str(m, &ns, offsetof(struct attrs, name)));
    const char *email = NULL;
    for (size_t k = 0; k < ns.n && !email; k++)
        for (uint32_t x = m->cust[ns.v[k]].ident_head; x && !email; x = m->ident[x].next)
            if (strcmp(m->ident[x].key, "email") == 0)
                email = m->ident[x].key + 6;
    set_opt(hit, "email", jstr(email));
    set_opt(hit, "country", attr_code(m, &ns, offsetof(struct attrs, country), CD_COUNTRY));
    json_object_set_new(hit, "matched", json_string(match));
    json_array_append_new(arr, hit);
    free(ns.v);
}

int engine_search(struct engine *e, const char *q, size_t limit, json_t **out,
                  struct cxm_err *err)
{
    size_t qn = strlen(q);
    if (qn == 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "q", "q is empty");
    if (qn > CXM_MAX_IDENTITY)
        return cxm_err_field(err, CXM_EINVAL, -1, "q", "q is longer than %d bytes",
                             CXM_MAX_IDENTITY);
    if (limit < 1 || limit > CXM_MAX_SEARCH)
        limit = CXM_MAX_SEARCH;
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    /* 1. exact identity of any kind, normalised as at ingest */
    static const char *const kinds[] = {"email", "phone", "crm", "loyalty",
                                        "device", "cookie"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char norm[CXM_MAX_IDENTITY + 1];
        if (identity_normalize(kinds[k], q, NULL, norm, sizeof norm, NULL))
            continue;
        uint32_t c = model_find_ident(m, kinds[k], norm);
        if (!c && norm[0] != '+' && strcmp(kinds[k], "phone") == 0 && strlen(norm) < 16) {
            char plus[CXM_MAX_IDENTITY + 2] = "+";
            cxm_strlcpy(plus + 1, norm, sizeof plus - 1);
            c = model_find_ident(m, "phone", plus);
        }
        if (c)
            add_hit(m, arr, c, kinds[k], limit);
    }
    /* 2. prefix of a name (any word) or of an email address */
    for (uint32_t c = 1; c <= m->ncust && json_array_size(arr) < limit; c++)
        if (name_match(m->cust[c].a.name, q, qn))
            add_hit(m, arr, c, "name", limit);
    for (size_t x = 1; x <= m->nident && json_array_size(arr) < limit; x++)
        if (strcmp(m->ident[x].key, "email") == 0 &&
            prefix_ci(m->ident[x].key + 6, q, qn))
            add_hit(m, arr, m->ident[x].cust, "email", limit);
    pthread_rwlock_unlock(&e->lock);
    *out = json_pack("{s:s, s:o}", "q", q, "customers", arr);
    return CXM_OK;
}

/* ---- timeline ---------------------------------------------------------- */

enum { R_INTERACTION, R_FEEDBACK, R_ORDER };

struct ref {
    int64_t ts, seq;
    uint32_t idx;
    int type;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? 1 : -1;
    return x->seq < y->seq ? 1 : (x->seq > y->seq ? -1 : 0);
}

/* The text analytics of a row's text: sentiment, label, themes, aspects. */
static void add_scores(const struct model *m, bool feedback, uint32_t i, json_t *o)
{
    struct text_scores sc;
    if (!model_scores(m, feedback, i, &sc))
        return;
    json_t *s = text_scores_json(m, &sc);
    json_object_update(o, s);
    json_decref(s);
}

static json_t *record_json(struct engine *e, const struct model *m,
                           const struct ref *r)
{
    json_t *o = json_object();
    uint32_t i = r->idx;
    char *text = NULL;
    switch (r->type) {
    case R_INTERACTION:
        json_object_set_new(o, "type", json_string("interaction"));
        json_object_set_new(o, "seq", json_integer(m->ic.seq[i]));
        json_object_set_new(o, "ts", jtime(m->ic.ts[i]));
        json_object_set_new(o, "customer_id", json_integer(m->ic.cust[i]));
        set_opt(o, "channel", jdict(m, DICT_CHANNEL, m->ic.channel[i]));
        set_opt(o, "touchpoint", jdict(m, DICT_TOUCHPOINT, m->ic.touchpoint[i]));
        set_opt(o, "stage", jdict(m, DICT_STAGE, m->ic.stage[i]));
        set_opt(o, "kind", jdict(m, DICT_ITYPE, m->ic.kind[i]));
        set_opt(o, "agent_id", jdict(m, DICT_AGENT, m->ic.agent[i]));
        set_opt(o, "outcome", jdict(m, DICT_OUTCOME, m->ic.outcome[i]));
        if (m->ic.duration[i] != UINT32_MAX)
            json_object_set_new(o, "duration", json_integer(m->ic.duration[i]));
        if (!isnan(m->ic.value[i]))
            json_object_set_new(o, "value", json_real(m->ic.value[i]));
        if (m->ic.has_text[i] &&
            e->store->ops->get_text(e->store, m->ic.seq[i], &text, NULL) == CXM_OK)
            set_opt(o, "text", jstr(text));
        add_scores(m, false, i, o);
        break;
    case R_FEEDBACK:
        json_object_set_new(o, "type", json_string("feedback"));
        json_object_set_new(o, "seq", json_integer(m->fc.seq[i]));
        json_object_set_new(o, "ts", jtime(m->fc.ts[i]));
        json_object_set_new(o, "customer_id", json_integer(m->fc.cust[i]));
        json_object_set_new(o, "kind", json_string(event_fkind_name(m->fc.kind[i])));
        if (!isnan(m->fc.score[i]))
            json_object_set_new(o, "score", m->fc.kind[i] == FB_RATING
                                ? jfloat(m->fc.score[i])
                                : json_integer((json_int_t)m->fc.score[i]));
        set_opt(o, "survey", jdict(m, DICT_SURVEY, m->fc.survey[i]));
        set_opt(o, "channel", jdict(m, DICT_CHANNEL, m->fc.channel[i]));
        set_opt(o, "touchpoint", jdict(m, DICT_TOUCHPOINT, m->fc.touchpoint[i]));
        set_opt(o, "stage", jdict(m, DICT_STAGE, m->fc.stage[i]));
        set_opt(o, "agent_id", jdict(m, DICT_AGENT, m->fc.agent[i]));
        if (m->fc.has_text[i] &&
            e->store->ops->get_text(e->store, m->fc.seq[i], &text, NULL) == CXM_OK)
            set_opt(o, "comment", jstr(text));
        add_scores(m, true, i, o);
        break;
    case R_ORDER: {
        json_object_set_new(o, "type", json_string("order"));
        json_object_set_new(o, "seq", json_integer(m->oc.seq[i]));
        json_object_set_new(o, "ts", jtime(m->oc.ts[i]));
        json_object_set_new(o, "customer_id", json_integer(m->oc.cust[i]));
        json_object_set_new(o, "order_id", json_string(m->oc.order_id[i]));
        json_object_set_new(o, "amount", json_real(m->oc.amount[i]));
        set_opt(o, "currency", jdict(m, DICT_CURRENCY, m->oc.currency[i]));
        set_opt(o, "channel", jdict(m, DICT_CHANNEL, m->oc.channel[i]));
        json_t *items = json_array();
        for (uint32_t k = m->oc.item_off[i]; k < m->oc.item_off[i] + m->oc.nitems[i]; k++) {
            json_t *it = json_object();
            set_opt(it, "sku", jdict(m, DICT_SKU, m->oc.sku[k]));
            set_opt(it, "category", jdict(m, DICT_CATEGORY, m->oc.category[k]));
            json_object_set_new(it, "qty", jfloat(m->oc.qty[k]));
            json_object_set_new(it, "price", json_real(m->oc.price[k]));
            json_array_append_new(items, it);
        }
        json_object_set_new(o, "items", items);
        break;
    }
    }
    free(text);
    return o;
}

/* Cursor "<ts>.<seq>" of the last item served: the next page starts after
 * it in (ts, seq) descending order, stable while new records arrive. */
static int parse_cursor(const char *c, int64_t *ts, int64_t *seq)
{
    char buf[64];
    if (!cxm_strlcpy(buf, c, sizeof buf))
        return CXM_EINVAL;
    char *dot = strchr(buf, '.');
    if (!dot)
        return CXM_EINVAL;
    *dot = '\0';
    return cxm_parse_i64(buf, ts) && cxm_parse_i64(dot + 1, seq) ? CXM_OK : CXM_EINVAL;
}

static int timeline(struct engine *e, uint32_t id, const char *cursor,
                    size_t limit, json_t **out, struct cxm_err *err)
{
    const struct model *m = e->m;
    int64_t cts = INT64_MAX, cseq = INT64_MAX;
    if (cursor && *cursor && parse_cursor(cursor, &cts, &cseq))
        return cxm_err_field(err, CXM_EINVAL, -1, "cursor", "malformed cursor");
    if (id < 1 || id > m->ncust)
        return cxm_err_set(err, CXM_ENOTFOUND, "no customer %u", id);
    struct nodes ns = {0};
    struct ref *refs = NULL;
    size_t n = 0, cap = 0;
    int rc = collect(m, model_root(m, id), &ns);
    for (size_t k = 0; !rc && k < ns.n; k++) {
        const struct cust *c = &m->cust[ns.v[k]];
        for (uint32_t i = c->ihead; !rc && i; i = m->ic.next[i])
            if (!(rc = cxm_grow((void **)&refs, &cap, n + 1, sizeof *refs)))
                refs[n++] = (struct ref){m->ic.ts[i], m->ic.seq[i], i, R_INTERACTION};
        for (uint32_t i = c->fhead; !rc && i; i = m->fc.next[i])
            if (!(rc = cxm_grow((void **)&refs, &cap, n + 1, sizeof *refs)))
                refs[n++] = (struct ref){m->fc.ts[i], m->fc.seq[i], i, R_FEEDBACK};
        for (uint32_t i = c->ohead; !rc && i; i = m->oc.next[i])
            if (!(rc = cxm_grow((void **)&refs, &cap, n + 1, sizeof *refs)))
                refs[n++] = (struct ref){m->oc.ts[i], m->oc.seq[i], i, R_ORDER};
    }
    if (rc) {
        free(ns.v);
        free(refs);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    qsort(refs, n, sizeof *refs, ref_cmp);
    size_t start = 0;
    while (start < n && (refs[start].ts > cts ||
                         (refs[start].ts == cts && refs[start].seq >= cseq)))
        start++;
    json_t *items = json_array();
    size_t end = start + limit < n ? start + limit : n;
    for (size_t i = start; i < end; i++)
        json_array_append_new(items, record_json(e, m, &refs[i]));
    json_t *res = json_pack("{s:I, s:I, s:o}", "customer_id",
                            (json_int_t)model_root(m, id), "total", (json_int_t)n,
                            "items", items);
    if (end < n && end > start) {
        char cur[64];
        snprintf(cur, sizeof cur, "%lld.%lld", (long long)refs[end - 1].ts,
                 (long long)refs[end - 1].seq);
        json_object_set_new(res, "next_cursor", json_string(cur));
    } else {
        json_object_set_new(res, "next_cursor", json_null());
    }
    json_object_set_new(res, "seq", json_integer(m->last_seq));
    free(ns.v);
    free(refs);
    *out = res;
    return CXM_OK;
}

int engine_timeline(struct engine *e, uint32_t id, const char *cursor,
                    size_t limit, json_t **out, struct cxm_err *err)
{
    if (limit < 1)
        limit = CXM_DEFAULT_PAGE;
    if (limit > CXM_MAX_PAGE)
        limit = CXM_MAX_PAGE;
    pthread_rwlock_rdlock(&e->lock);
    int rc = timeline(e, id, cursor, limit, out, err);
    pthread_rwlock_unlock(&e->lock);
    return rc;
}

int engine_export(struct engine *e, uint32_t id, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    int rc = CXM_OK;
    json_t *tl = NULL;
    if (id < 1 || id > e->m->ncust) {
        rc = cxm_err_set(err, CXM_ENOTFOUND, "no customer %u", id);
    } else if (!(rc = timeline(e, id, NULL, SIZE_MAX / 2, &tl, err))) {
        json_t *p = profile_json(e->m, model_root(e->m, id));
        if (!p) {
            json_decref(tl);
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        } else {
            json_object_set(p, "history", json_object_get(tl, "items"));
            json_object_set_new(p, "seq", json_integer(e->m->last_seq));
            json_decref(tl);
            *out = p;
        }
    }
    pthread_rwlock_unlock(&e->lock);
    return rc;
}
