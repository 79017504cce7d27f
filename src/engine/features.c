/* features.c - see features.h. A profile's features come from the
 * running sums each node keeps (model.c), added up over the profile's
 * nodes: a single-node profile, most of them, costs one struct copy. What
 * depends on a window of time (complaints in 90 days, contacts in 30) or
 * on a fitted model (P(alive), predicted CLV) is computed only when a rule
 * asks for it. */
#include "engine/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/timefmt.h"
#include "engine/engine_impl.h"

#define DAY 86400

const struct filter_field feature_fields[FF_COUNT] = {
    {"country", FT_TEXT}, {"city", FT_TEXT}, {"gender", FT_TEXT},
    {"language", FT_TEXT}, {"nps_category", FT_TEXT}, {"age_band", FT_TEXT},
    {"age", FT_NUMBER}, {"birth_year", FT_NUMBER},
    {"consent_marketing", FT_NUMBER}, {"consent_surveys", FT_NUMBER},
    {"consent_personalisation", FT_NUMBER}, {"last_nps", FT_NUMBER},
    {"csat_mean", FT_NUMBER}, {"ces_mean", FT_NUMBER}, {"sentiment_mean", FT_NUMBER},
    {"orders", FT_NUMBER}, {"revenue", FT_NUMBER},
    {"days_since_last_order", FT_NUMBER}, {"days_since_last_contact", FT_NUMBER},
    {"days_since_signup", FT_NUMBER}, {"open_cases", FT_NUMBER},
    {"complaints_90d", FT_NUMBER}, {"contacts_30d", FT_NUMBER},
    {"clv_predicted", FT_NUMBER}, {"p_alive", FT_NUMBER},
    {"channels", FT_SET}, {"bought_category", FT_SET},
};

/* What each feature means, for people building rules (GET /v1/features). */
static const char *const feature_help[FF_COUNT] = {
    "the profile's country (latest known)", "the profile's city", "the profile's gender",
    "the profile's language", "promoter, passive or detractor, from the latest NPS answer",
    "18-24, 25-34, 35-44, 45-54, 55-64 or 65+ this year", "age in years this year",
    "year of birth", "1 yes, 0 no; missing when never given", "1 yes, 0 no",
    "1 yes, 0 no", "the latest NPS answer, 0-10", "mean of the CSAT answers (1-5)",
    "mean of the CES answers (1-7)", "mean sentiment of comments and texts (-1 to 1)",
    "orders placed", "total amount of the orders",
    "whole days since the latest order", "whole days since the latest interaction or"
    " answer", "whole days since the profile was created",
    "cases open or in progress, plus complaints and tickets after the latest resolved"
    " interaction",
    "complaints in the last 90 days", "contacts made in the last 30 days",
    "predicted value over 52 weeks (fitted CLV model)", "probability the customer is"
    " still active (fitted CLV model)",
    "channels used: channels contains 'app'", "categories bought: bought_category('running')"};

json_t *features_json(void)
{
    static const char *const types[] = {"text", "number", "set"};
    json_t *arr = json_array();
    for (int i = 0; arr && i < FF_COUNT; i++)
        if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "name",
                                                 feature_fields[i].name, "type",
                                                 types[feature_fields[i].type], "meaning",
                                                 feature_help[i], "time_dependent",
                                                 feature_time_dependent(i)))) {
            json_decref(arr);
            return NULL;
        }
    return arr ? json_pack("{s:o}", "features", arr) : NULL;
}

static const char *const bands[] = {NULL, "18-24", "25-34", "35-44", "45-54", "55-64",
                                    "65+"};
static const char *const categories[] = {NULL, "promoter", "passive", "detractor"};

void feat_eval_init(struct feat_eval *x, const struct model *m, int64_t now)
{
    memset(x, 0, sizeof *x);
    x->m = m;
    x->now = now;
}

void feat_eval_free(struct feat_eval *x)
{
    free(x->nodes);
    x->nodes = NULL;
    x->cap = 0;
}

static void latest(uint32_t *t, uint32_t v)
{
    if (v > *t)
        *t = v;
}

/* Adds node feature g into f. */
static void add_feat(struct feat *f, const struct feat *g)
{
    f->revenue += g->revenue;
    f->csat_sum += g->csat_sum;
    f->ces_sum += g->ces_sum;
    f->sent_sum += g->sent_sum;
    f->csat_n += g->csat_n;
    f->ces_n += g->ces_n;
    f->sent_n += g->sent_n;
    f->orders += g->orders;
    latest(&f->last_order, g->last_order);
    latest(&f->last_touch, g->last_touch);
    latest(&f->last_answer, g->last_answer);
    latest(&f->last_complaint, g->last_complaint);
    latest(&f->last_resolved, g->last_resolved);
    if (g->last_nps >= 0 && (f->last_nps < 0 || g->last_nps_ts > f->last_nps_ts ||
                             (g->last_nps_ts == f->last_nps_ts &&
                              g->last_nps_seq > f->last_nps_seq))) {
        f->last_nps = g->last_nps;
        f->last_nps_ts = g->last_nps_ts;
        f->last_nps_seq = g->last_nps_seq;
    }
    f->channels |= g->channels;
    f->categories |= g->categories;
}

int feat_eval_load(struct feat_eval *x, uint32_t root)
{
    const struct model *m = x->m;
    if (model_profile_nodes(m, root, &x->nodes, &x->nn, &x->cap))
        return CXM_ENOMEM;
    struct pfeat *p = &x->p;
    memset(p, 0, sizeof *p);
    p->root = root;
    p->f = m->cust[root].f;
    p->created_ts = m->cust[root].created_ts;
    /* attributes: the most recently updated node that has each wins, as
     * profiles show them */
    int64_t sq[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    p->consent_m = p->consent_s = p->consent_p = -1;
    for (size_t k = 0; k < x->nn; k++) {
        const struct cust *c = &m->cust[x->nodes[k]];
        const struct attrs *a = &c->a;
        if (k) {
            add_feat(&p->f, &c->f);
            if (c->created_ts < p->created_ts)
                p->created_ts = c->created_ts;
        }
        int64_t u = a->updated_seq;
        if (a->country && u > sq[0]) { p->country = a->country; sq[0] = u; }
        if (a->city && u > sq[1]) { p->city = a->city; sq[1] = u; }
        if (a->gender && u > sq[2]) { p->gender = a->gender; sq[2] = u; }
        if (a->language && u > sq[3]) { p->language = a->language; sq[3] = u; }
        if (a->birth_year && u > sq[4]) { p->birth_year = a->birth_year; sq[4] = u; }
        if (a->consent_m >= 0 && u > sq[5]) { p->consent_m = a->consent_m; sq[5] = u; }
        if (a->consent_s >= 0 && u > sq[6]) { p->consent_s = a->consent_s; sq[6] = u; }
        if (a->consent_p >= 0 && u > sq[7]) { p->consent_p = a->consent_p; sq[7] = u; }
    }
    x->have_clv = false;
    x->complaints_90d = x->contacts_30d = x->open = NAN;
    return CXM_OK;
}

static int64_t day_of(int64_t ts)
{
    return ts >= 0 ? ts / DAY : -((-ts + DAY - 1) / DAY);
}

static double days_since(const struct feat_eval *x, uint32_t ts)
{
    return ts ? (double)(day_of(x->now) - day_of(ts)) : NAN;
}

static double mean(float sum, uint32_t n)
{
    return n ? (double)sum / n : NAN;
}

/* The profile's cxm cases open or in progress, and the complaints and
 * tickets recorded after its latest resolution (issues another system
 * tracks); a node keeps its own counts, a merged profile needs its nodes'
 * records. */
static double open_cases(struct feat_eval *x)
{
    const struct model *m = x->m;
    uint32_t cases = 0;
    for (size_t k = 0; k < x->nn; k++)
        cases += m->cust[x->nodes[k]].cases;
    if (x->nn == 1)
        return x->p.f.open + cases;
    uint32_t last = x->p.f.last_resolved, n = cases;
    for (size_t k = 0; k < x->nn; k++)
        for (uint32_t i = m->cust[x->nodes[k]].ihead; i; i = m->ic.next[i]) {
            uint16_t kind = m->ic.kind[i];
            if (kind && (kind == m->k_complaint || kind == m->k_ticket) && m->ic.ts[i] > last)
                n++;
        }
    return n;
}

static double complaints_since(struct feat_eval *x, int64_t since)
{
    const struct model *m = x->m;
    if (!m->k_complaint || (int64_t)x->p.f.last_complaint <= since)
        return 0;
    uint32_t n = 0;
    for (size_t k = 0; k < x->nn; k++)
        for (uint32_t i = m->cust[x->nodes[k]].ihead; i; i = m->ic.next[i])
            n += m->ic.kind[i] == m->k_complaint && (int64_t)m->ic.ts[i] > since;
    return n;
}

static double contacts_since(struct feat_eval *x, int64_t since)
{
    const struct model *m = x->m;
    uint32_t n = 0;
    for (size_t k = 0; k < x->nn; k++)
        for (uint32_t i = m->cust[x->nodes[k]].chead; i; i = m->cc.next[i])
            n += (int64_t)m->cc.ts[i] > since;
    return n;
}

static void load_clv(struct feat_eval *x)
{
    if (!x->have_clv) {
        if (clv_profile_predict(x->m, x->nodes, x->nn, &x->p_alive, &x->clv))
            x->p_alive = x->clv = NAN;   /* out of memory: no answer */
        x->have_clv = true;
    }
}

static int year_of(int64_t ts)
{
    int y;
    unsigned mo, d;
    timefmt_civil_from_days(day_of(ts), &y, &mo, &d);
    return y;
}

double feat_value(struct feat_eval *x, int field)
{
    const struct pfeat *p = &x->p;
    const struct feat *f = &p->f;
    uint32_t v = 0;
    switch (field) {
    case FF_COUNTRY: v = p->country; break;
    case FF_CITY: v = p->city; break;
    case FF_GENDER: v = p->gender; break;
    case FF_LANGUAGE: v = p->language; break;
    case FF_NPS_CATEGORY:
        v = f->last_nps < 0 ? 0 : f->last_nps >= 9 ? 1 : f->last_nps >= 7 ? 2 : 3;
        break;
    case FF_AGE_BAND: v = (uint32_t)metrics_age_band_index(p->birth_year, x->now); break;
    case FF_AGE: return p->birth_year ? (double)(year_of(x->now) - p->birth_year) : NAN;
    case FF_BIRTH_YEAR: return p->birth_year ? (double)p->birth_year : NAN;
    case FF_CONSENT_MARKETING: return p->consent_m < 0 ? NAN : p->consent_m;
    case FF_CONSENT_SURVEYS: return p->consent_s < 0 ? NAN : p->consent_s;
    case FF_CONSENT_PERSONALISATION: return p->consent_p < 0 ? NAN : p->consent_p;
    case FF_LAST_NPS: return f->last_nps < 0 ? NAN : f->last_nps;
    case FF_CSAT_MEAN: return mean(f->csat_sum, f->csat_n);
    case FF_CES_MEAN: return mean(f->ces_sum, f->ces_n);
    case FF_SENTIMENT_MEAN: return mean(f->sent_sum, f->sent_n);
    case FF_ORDERS: return f->orders;
    case FF_REVENUE: return f->revenue;
    case FF_DAYS_SINCE_LAST_ORDER: return days_since(x, f->last_order);
    case FF_DAYS_SINCE_LAST_CONTACT: return days_since(x, f->last_touch);
    case FF_DAYS_SINCE_SIGNUP:
        return p->created_ts > 0 ? (double)(day_of(x->now) - day_of(p->created_ts)) : NAN;
    case FF_OPEN_CASES:
        if (isnan(x->open))
            x->open = open_cases(x);
        return x->open;
    case FF_COMPLAINTS_90D:
        if (isnan(x->complaints_90d))
            x->complaints_90d = complaints_since(x, x->now - 90 * DAY);
        return x->complaints_90d;
    case FF_CONTACTS_30D:
        if (isnan(x->contacts_30d))
            x->contacts_30d = contacts_since(x, x->now - 30 * DAY);
        return x->contacts_30d;
    case FF_CLV_PREDICTED: load_clv(x); return x->clv;
    case FF_P_ALIVE: load_clv(x); return x->p_alive;
    default: return NAN;
    }
    return v ? (double)v : NAN;
}

/* A code past the 64 the bits hold: look in the records. */
static bool has_slow(const struct feat_eval *x, int field, uint32_t c)
{
    const struct model *m = x->m;
    for (size_t k = 0; k < x->nn; k++) {
        const struct cust *cu = &m->cust[x->nodes[k]];
        for (uint32_t i = cu->ohead; i; i = m->oc.next[i]) {
            if (field == FF_CHANNELS && m->oc.channel[i] == c)
                return true;
            for (uint32_t j = 0; field == FF_BOUGHT_CATEGORY && j < m->oc.nitems[i]; j++)
                if (m->oc.category[m->oc.item_off[i] + j] == c)
                    return true;
        }
        if (field != FF_CHANNELS)
            continue;
        for (uint32_t i = cu->ihead; i; i = m->ic.next[i])
            if (m->ic.channel[i] == c)
                return true;
        for (uint32_t i = cu->fhead; i; i = m->fc.next[i])
            if (m->fc.channel[i] == c)
                return true;
    }
    return false;
}

bool feat_has(struct feat_eval *x, int field, double code)
{
    if (!(code >= 1))
        return false;
    uint32_t c = (uint32_t)code;
    uint64_t bits = field == FF_CHANNELS ? x->p.f.channels
                    : field == FF_BOUGHT_CATEGORY ? x->p.f.categories : 0;
    if (c <= 64)
        return (bits >> (c - 1)) & 1u;
    return has_slow(x, field, c);
}

static double get_cb(void *ctx, int field)
{
    return feat_value(ctx, field);
}

static bool has_cb(void *ctx, int field, double code)
{
    return feat_has(ctx, field, code);
}

bool feat_match(struct feat_eval *x, const struct filter *f)
{
    return filter_eval_sets(f, get_cb, has_cb, x);
}

double feat_bind_text(const struct model *m, int field, const char *text)
{
    uint32_t c = 0;
    switch (field) {
    case FF_COUNTRY: c = dict_find(m->cdict[CD_COUNTRY], text); break;
    case FF_CITY: c = dict_find(m->cdict[CD_CITY], text); break;
    case FF_GENDER: c = dict_find(m->cdict[CD_GENDER], text); break;
    case FF_LANGUAGE: c = dict_find(m->cdict[CD_LANGUAGE], text); break;
    case FF_NPS_CATEGORY:
        for (uint32_t i = 1; i <= 3; i++)
            if (strcmp(categories[i], text) == 0)
                c = i;
        break;
    case FF_AGE_BAND:
        for (uint32_t i = 1; i <= 6; i++)
            if (strcmp(bands[i], text) == 0)
                c = i;
        break;
    case FF_CHANNELS: c = dict_find(m->dict[DICT_CHANNEL], text); break;
    case FF_BOUGHT_CATEGORY: c = dict_find(m->dict[DICT_CATEGORY], text); break;
    default: break;
    }
    return c ? (double)c : NAN;
}

static double bind_cb(void *ctx, int field, const char *text)
{
    return feat_bind_text(ctx, field, text);
}

void feat_bind(const struct model *m, struct filter *f)
{
    filter_bind(f, bind_cb, (void *)m);
}

struct filter *feat_parse(const struct model *m, const char *rule, struct cxm_err *err)
{
    struct filter *f = filter_parse(rule, feature_fields, FF_COUNT, err);
    if (f)
        feat_bind(m, f);
    return f;
}

/* Fields whose value moves with the clock alone. */
static const uint64_t TIMED = 1ull << FF_AGE_BAND | 1ull << FF_AGE |
                              1ull << FF_DAYS_SINCE_LAST_ORDER |
                              1ull << FF_DAYS_SINCE_LAST_CONTACT |
                              1ull << FF_DAYS_SINCE_SIGNUP | 1ull << FF_COMPLAINTS_90D |
                              1ull << FF_CONTACTS_30D;

bool feature_time_dependent(int field)
{
    return (TIMED >> field) & 1u;
}

bool feat_time_dependent(const struct filter *f)
{
    return (filter_fields_used(f) & TIMED) != 0;
}
