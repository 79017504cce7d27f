/* team.c - the employee side (docs/team.md): what each agent and team
 * handled (CSAT and NPS of their interactions' feedback, case volume,
 * first-response and resolution times, SLA compliance, reopen rate) and
 * its weekly trend; the recognition leaderboard and shout-outs; eNPS by
 * team and period with the anonymity threshold. An agent is named in
 * records by employee id (the `agent` field); its team is the employee's.
 * Reads under the read lock. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dict.h"
#include "core/journey.h"
#include "core/metrics.h"
#include "core/sla.h"
#include "core/strmap.h"
#include "core/team.h"
#include "core/timefmt.h"
#include "engine/loop.h"
#include "engine/segments.h"

#define SHOUT_SCAN 2000          /* comments read looking for shout-outs */

struct times {
    uint32_t *v;
    size_t n, cap;
};

struct agg {
    const char *name;            /* agent id or team name; borrowed */
    const char *team;            /* agents: their team */
    struct csat_acc csat;
    struct nps_acc nps;
    uint32_t cases, met, breached, resolved, reopened;
    struct times fr, rt;         /* first-response and resolution seconds */
};

struct groups {
    struct strmap *ix;
    struct agg *a;
    size_t n, cap;
};

static int groups_get(struct groups *g, const char *name, struct agg **out)
{
    uint32_t i;
    if (strmap_get(g->ix, name, strlen(name), &i)) {
        *out = &g->a[i];
        return CXM_OK;
    }
    if (cxm_grow((void **)&g->a, &g->cap, g->n + 1, sizeof *g->a) ||
        strmap_put(g->ix, name, strlen(name), (uint32_t)g->n))
        return CXM_ENOMEM;
    g->a[g->n] = (struct agg){.name = name};
    *out = &g->a[g->n++];
    return CXM_OK;
}

static void groups_free(struct groups *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->a[i].fr.v);
        free(g->a[i].rt.v);
    }
    free(g->a);
    strmap_free(g->ix);
}

static int times_add(struct times *t, int64_t s)
{
    if (s < 0)
        s = 0;
    if (cxm_grow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v))
        return CXM_ENOMEM;
    t->v[t->n++] = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
    return CXM_OK;
}

static const struct employee *employee_of(const struct model *m, const char *id)
{
    uint32_t i;
    return id && strmap_get(m->emp_map, id, strlen(id), &i) ? &m->emp[i] : NULL;
}

static const char *team_of(const struct model *m, const char *agent)
{
    const struct employee *em = employee_of(m, agent);
    return em && em->team ? em->team : NULL;
}

static json_t *value_json(struct metric_value v)
{
    return json_pack("{s:o, s:o, s:I}", "value", v.has_value ? json_real(v.value) : json_null(),
                     "margin", v.has_margin ? json_real(v.margin) : json_null(), "n",
                     (json_int_t)v.n);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static json_t *times_json(struct times *t)
{
    if (t->n > 1)
        qsort(t->v, t->n, sizeof *t->v, cmp_u32);
    if (!t->n)
        return json_pack("{s:n, s:n, s:i}", "median_seconds", "p90_seconds", "n", 0);
    return json_pack("{s:f, s:f, s:I}", "median_seconds", journey_quantile(t->v, t->n, 0.5),
                     "p90_seconds", journey_quantile(t->v, t->n, 0.9), "n", (json_int_t)t->n);
}

static json_t *agg_json(struct agg *a, bool agent, const struct model *m)
{
    uint32_t judged = a->met + a->breached;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, agent ? "agent" : "team", json_string(a->name));
    if (agent) {
        const struct employee *em = employee_of(m, a->name);
        json_object_set_new(o, "name", em && em->name ? json_string(em->name) : json_null());
        json_object_set_new(o, "team", a->team ? json_string(a->team) : json_null());
    }
    json_object_set_new(o, "csat", value_json(csat_pct(&a->csat)));
    json_object_set_new(o, "nps", value_json(nps_value(&a->nps)));
    json_object_set_new(o, "cases", json_integer(a->cases));
    json_object_set_new(o, "first_response", times_json(&a->fr));
    json_object_set_new(o, "resolution", times_json(&a->rt));
    json_object_set_new(o, "sla_compliance", value_json(metrics_prop(a->met, judged)));
    json_object_set_new(o, "reopen_rate", value_json(metrics_prop(a->reopened, a->resolved)));
    return o;
}

static void add_feedback(struct agg *a, int kind, float score)
{
    if (isnan(score))
        return;
    if (kind == FB_CSAT)
        csat_add(&a->csat, (int)score);
    else if (kind == FB_NPS)
        nps_add(&a->nps, (int)score);
}

/* A case's contribution: volume, times, SLA targets judged by now. */
static int add_case(struct agg *a, const struct kase *k, int64_t now)
{
    a->cases++;
    int64_t done[2] = {k->responded, k->resolved ? k->resolved : k->closed};
    int64_t due[2] = {k->response_due, k->resolve_due};
    for (int i = 0; i < 2; i++) {
        if (!due[i])
            continue;
        if (done[i] ? done[i] <= due[i] : false)
            a->met++;
        else if (done[i] || now > due[i])
            a->breached++;
    }
    if (done[1] || k->reopened)
        a->resolved++;
    a->reopened += k->reopened > 0;
    if ((k->responded && times_add(&a->fr, k->responded - k->opened)) ||
        (done[1] && times_add(&a->rt, done[1] - k->opened)))
        return CXM_ENOMEM;
    return CXM_OK;
}

struct perf {
    struct groups agents, teams, trend;   /* trend: "team\x1fweek" */
    char **keys;                 /* trend keys, owned */
    size_t nkeys, kcap;
};

/* A key that lives as long as the report (strmap keys are the caller's). */
static const char *keep(struct perf *p, const char *a, const char *b)
{
    char *k = cxm_malloc(96);
    if (!k || cxm_grow((void **)&p->keys, &p->kcap, p->nkeys + 1, sizeof *p->keys)) {
        free(k);
        return NULL;
    }
    p->keys[p->nkeys++] = k;
    snprintf(k, 96, "%s%s%s", a, b ? "\x1f" : "", b ? b : "");
    return k;
}

static int trend_add(struct perf *p, const char *team, int64_t ts, struct agg **out)
{
    char wk[16];
    bucket_label(ts, BUCKET_WEEK, wk);
    char key[96];
    snprintf(key, sizeof key, "%s\x1f%s", team ? team : "", wk);
    uint32_t i;
    if (strmap_get(p->trend.ix, key, strlen(key), &i)) {
        *out = &p->trend.a[i];
        return CXM_OK;
    }
    const char *k = keep(p, team ? team : "", wk);
    return k ? groups_get(&p->trend, k, out) : CXM_ENOMEM;
}

static int perf_feedback(const struct model *m, const struct team_query *q, struct perf *p)
{
    const struct fcols *fc = &m->fc;
    for (size_t i = 1; i <= fc->n; i++) {
        if (!fc->agent[i] || fc->ts[i] < q->from || fc->ts[i] >= q->to ||
            (fc->kind[i] != FB_CSAT && fc->kind[i] != FB_NPS))
            continue;
        const char *agent = dict_str(m->dict[DICT_AGENT], fc->agent[i]);
        const char *team = team_of(m, agent);
        if (q->team && (!team || strcmp(team, q->team)))
            continue;
        struct agg *a, *t = NULL, *w;
        if (groups_get(&p->agents, agent, &a) || (team && groups_get(&p->teams, team, &t)) ||
            trend_add(p, team, fc->ts[i], &w))
            return CXM_ENOMEM;
        a->team = team;
        add_feedback(a, fc->kind[i], fc->score[i]);
        if (t)
            add_feedback(t, fc->kind[i], fc->score[i]);
        add_feedback(w, fc->kind[i], fc->score[i]);
    }
    return CXM_OK;
}

static int perf_cases(const struct engine *e, const struct team_query *q, struct perf *p)
{
    const struct loop *l = e->loop;
    int64_t now = engine_now(e);
    for (size_t i = 0; i < l->ncases; i++) {
        const struct kase *k = &l->cases[i];
        if (k->opened < q->from || k->opened >= q->to)
            continue;
        const char *team = k->team ? k->team : team_of(e->m, k->assignee);
        if (q->team && (!team || strcmp(team, q->team)))
            continue;
        struct agg *a, *t, *w;
        if (k->assignee) {
            if (groups_get(&p->agents, k->assignee, &a) || add_case(a, k, now))
                return CXM_ENOMEM;
            if (!a->team)
                a->team = team_of(e->m, k->assignee);
        }
        if (team && (groups_get(&p->teams, team, &t) || add_case(t, k, now)))
            return CXM_ENOMEM;
        if (trend_add(p, team, k->opened, &w))
            return CXM_ENOMEM;
        w->cases++;
    }
    return CXM_OK;
}

static json_t *trend_json(struct perf *p)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < p->trend.n; i++) {
        struct agg *a = &p->trend.a[i];
        const char *sep = strchr(a->name, '\x1f');
        json_t *o = json_pack("{s:s%, s:s, s:o, s:o, s:i}", "team", a->name,
                              (size_t)(sep - a->name), "week", sep + 1, "csat",
                              value_json(csat_pct(&a->csat)), "nps",
                              value_json(nps_value(&a->nps)), "cases", a->cases);
        if (o && !*json_string_value(json_object_get(o, "team")))
            json_object_set_new(o, "team", json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

static int cmp_trend(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    int c = strcmp(json_string_value(json_object_get(a, "week")),
                   json_string_value(json_object_get(b, "week")));
    if (c)
        return c;
    const char *ta = json_string_value(json_object_get(a, "team"));
    const char *tb = json_string_value(json_object_get(b, "team"));
    return strcmp(ta ? ta : "", tb ? tb : "");
}

/* Sorts a JSON array with cmp. */
static void sort_array(json_t *arr, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(arr);
    json_t **v = n ? cxm_malloc(n * sizeof *v) : NULL;
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof *v, cmp);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
}

static int cmp_name(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    const char *ka = json_string_value(json_object_get(a, "agent"));
    const char *kb = json_string_value(json_object_get(b, "agent"));
    if (!ka) {
        ka = json_string_value(json_object_get(a, "team"));
        kb = json_string_value(json_object_get(b, "team"));
    }
    return strcmp(ka ? ka : "", kb ? kb : "");
}

static int check_query(const struct team_query *q, struct cxm_err *err)
{
    if (q->to <= q->from)
        return cxm_err_field(err, CXM_EINVAL, -1, "to", "must be after from");
    if (q->period && bucket_parse(q->period) < BUCKET_WEEK)
        return cxm_err_field(err, CXM_EINVAL, -1, "period", "must be week, month or quarter");
    return CXM_OK;
}

/* The period asked for; an open end (the whole history) is null. */
static json_t *period_json(const struct team_query *q)
{
    char f[TIMEFMT_LEN], t[TIMEFMT_LEN];
    timefmt_format(q->from, f);
    timefmt_format(q->to, t);
    bool open_from = q->from <= 0, open_to = q->to >= (int64_t)1 << 40;
    return json_pack("{s:o, s:o}", "from", open_from ? json_null() : json_string(f), "to",
                     open_to ? json_null() : json_string(t));
}

int engine_team_performance(struct engine *e, const struct team_query *q, json_t **out,
                            struct cxm_err *err)
{
    int rc = check_query(q, err);
    if (rc)
        return rc;
    struct perf p = {0};
    if (!(p.agents.ix = strmap_new()) || !(p.teams.ix = strmap_new()) ||
        !(p.trend.ix = strmap_new()))
        rc = CXM_ENOMEM;
    pthread_rwlock_rdlock(&e->lock);
    if (!rc)
        rc = perf_feedback(e->m, q, &p);
    if (!rc)
        rc = perf_cases(e, q, &p);
    json_t *agents = json_array(), *teams = json_array(), *trend = NULL;
    for (size_t i = 0; !rc && agents && i < p.agents.n; i++)
        json_array_append_new(agents, agg_json(&p.agents.a[i], true, e->m));
    for (size_t i = 0; !rc && teams && i < p.teams.n; i++)
        json_array_append_new(teams, agg_json(&p.teams.a[i], false, e->m));
    if (!rc)
        trend = trend_json(&p);
    pthread_rwlock_unlock(&e->lock);
    groups_free(&p.agents);
    groups_free(&p.teams);
    groups_free(&p.trend);
    for (size_t i = 0; i < p.nkeys; i++)
        free(p.keys[i]);
    free(p.keys);
    if (rc || !agents || !teams || !trend) {
        json_decref(agents);
        json_decref(teams);
        json_decref(trend);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    sort_array(agents, cmp_name);
    sort_array(teams, cmp_name);
    sort_array(trend, cmp_trend);
    *out = period_json(q);
    if (!*out)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_object_set_new(*out, "agents", agents);
    json_object_set_new(*out, "teams", teams);
    json_object_set_new(*out, "trend", trend);
    return CXM_OK;
}

/* ---- recognition ------------------------------------------------------------- */

static int leaderboard(const struct model *m, const struct team_query *q, json_t **out,
                       struct cxm_err *err)
{
    uint32_t na = dict_count(m->dict[DICT_AGENT]);
    struct lb_row *rows = cxm_calloc((size_t)na + 1, sizeof *rows);
    if (!rows)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    const struct fcols *fc = &m->fc;
    for (size_t i = 1; i <= fc->n; i++) {
        uint32_t a = fc->agent[i];
        if (!a || a > na || fc->kind[i] != FB_CSAT || isnan(fc->score[i]) ||
            fc->ts[i] < q->from || fc->ts[i] >= q->to)
            continue;
        if (q->team) {
            const char *t = team_of(m, dict_str(m->dict[DICT_AGENT], a));
            if (!t || strcmp(t, q->team))
                continue;
        }
        rows[a].agent = a;
        rows[a].n++;
        rows[a].top += fc->score[i] >= 4;
    }
    size_t n = 0;
    for (uint32_t a = 1; a <= na; a++)
        if (rows[a].n)
            rows[n++] = rows[a];
    struct lb_opts o = {.min_n = q->min_n, .prior_n = q->prior_n, .prior = NAN};
    int rc = team_leaderboard(rows, &n, &o, err);
    json_t *arr = rc ? NULL : json_array();
    size_t limit = q->limit ? q->limit : 10;
    for (size_t i = 0; arr && i < n && i < limit; i++) {
        const char *id = dict_str(m->dict[DICT_AGENT], rows[i].agent);
        const struct employee *em = employee_of(m, id);
        json_array_append_new(arr, json_pack("{s:i, s:s, s:s?, s:s?, s:i, s:f, s:f, s:f, s:f}",
                                             "rank", (int)i + 1, "agent", id, "name",
                                             em ? em->name : NULL, "team",
                                             em ? em->team : NULL, "n", (int)rows[i].n,
                                             "csat", rows[i].csat, "score", rows[i].score,
                                             "low", rows[i].lo, "high", rows[i].hi));
    }
    free(rows);
    if (rc)
        return rc;
    *out = arr;
    return arr ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

/* Positive comments that name the agent who handled them, newest first. */
static int shoutouts(struct engine *e, const struct team_query *q, json_t **out,
                     struct cxm_err *err)
{
    const struct model *m = e->m;
    const struct fcols *fc = &m->fc;
    json_t *arr = json_array();
    size_t read = 0, limit = q->limit ? q->limit : 10;
    int rc = arr ? CXM_OK : CXM_ENOMEM;
    for (size_t i = fc->n; !rc && i >= 1 && read < SHOUT_SCAN &&
         json_array_size(arr) < limit; i--) {
        if (!fc->agent[i] || !fc->has_text[i] || !fc->tx[i] || fc->ts[i] < q->from ||
            fc->ts[i] >= q->to || m->tc.sent[fc->tx[i]] < 0.05f)
            continue;
        const char *id = dict_str(m->dict[DICT_AGENT], fc->agent[i]);
        const struct employee *em = employee_of(m, id);
        if (q->team && (!em || !em->team || strcmp(em->team, q->team)))
            continue;
        char *text = NULL;
        read++;
        if ((rc = e->store->ops->get_text(e->store, fc->seq[i], &text, err)) || !text)
            continue;
        size_t at;
        const char *name = em && em->name ? em->name : id;
        if (team_praises(text, strlen(text), name, m->tc.sent[fc->tx[i]], &at)) {
            char ts[TIMEFMT_LEN];
            timefmt_format(fc->ts[i], ts);
            json_array_append_new(arr, json_pack("{s:s, s:s?, s:s?, s:I, s:s, s:s, s:f, s:i}",
                                                 "agent", id, "name", em ? em->name : NULL,
                                                 "team", em ? em->team : NULL, "seq",
                                                 (json_int_t)fc->seq[i], "ts", ts, "comment",
                                                 text, "sentiment",
                                                 (double)m->tc.sent[fc->tx[i]], "at",
                                                 (int)at));
        }
        free(text);
    }
    if (rc) {
        json_decref(arr);
        return err && err->code ? rc : cxm_err_set(err, rc, "out of memory");
    }
    *out = arr;
    return CXM_OK;
}

int engine_team_recognition(struct engine *e, const struct team_query *q, json_t **out,
                            struct cxm_err *err)
{
    int rc = check_query(q, err);
    if (rc)
        return rc;
    json_t *lb = NULL, *so = NULL;
    pthread_rwlock_rdlock(&e->lock);
    rc = leaderboard(e->m, q, &lb, err);
    if (!rc)
        rc = shoutouts(e, q, &so, err);
    pthread_rwlock_unlock(&e->lock);
    if (rc) {
        json_decref(lb);
        return rc;
    }
    *out = period_json(q);
    if (!*out) {
        json_decref(lb);
        json_decref(so);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    json_object_set_new(*out, "min_n", json_integer(q->min_n ? q->min_n : 5));
    json_object_set_new(*out, "prior_n", json_real(q->prior_n > 0 ? q->prior_n : 10));
    json_object_set_new(*out, "leaderboard", lb);
    json_object_set_new(*out, "shoutouts", so);
    return CXM_OK;
}

/* ---- eNPS ---------------------------------------------------------------------- */

struct ecell {
    char team[72], period[16];
    struct nps_acc a;
    bool hidden, complementary;
};

static int cmp_cell(const void *x, const void *y)
{
    const struct ecell *a = x, *b = y;
    int c = strcmp(a->period, b->period);
    return c ? c : strcmp(a->team, b->team);
}

/* Hides groups under the threshold, and within a period the next smallest
 * group too when exactly one is hidden (else the total would give it away). */
static void enps_suppress(struct ecell *c, size_t n, int min)
{
    for (size_t i = 0; i < n; i++)
        c[i].hidden = !team_enps_visible((uint32_t)c[i].a.n, min);
    for (size_t s = 0; s < n;) {
        size_t t = s, hidden = 0, small = SIZE_MAX;
        while (t < n && strcmp(c[t].period, c[s].period) == 0) {
            if (c[t].team[0]) {
                hidden += c[t].hidden;
                if (!c[t].hidden && (small == SIZE_MAX || c[t].a.n < c[small].a.n))
                    small = t;
            }
            t++;
        }
        if (hidden == 1 && small != SIZE_MAX)
            c[small].hidden = c[small].complementary = true;
        s = t;
    }
}

static int enps_cell(struct ecell **cells, size_t *n, size_t *cap, const char *team,
                     const char *period, struct ecell **out)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*cells)[i].team, team) == 0 && strcmp((*cells)[i].period, period) == 0) {
            *out = &(*cells)[i];
            return CXM_OK;
        }
    if (cxm_grow((void **)cells, cap, *n + 1, sizeof **cells))
        return CXM_ENOMEM;
    struct ecell *c = &(*cells)[(*n)++];
    memset(c, 0, sizeof *c);
    snprintf(c->team, sizeof c->team, "%s", team);
    snprintf(c->period, sizeof c->period, "%s", period);
    *out = c;
    return CXM_OK;
}

int engine_enps(struct engine *e, const struct team_query *q, json_t **out,
                struct cxm_err *err)
{
    int rc = check_query(q, err);
    if (rc)
        return rc;
    int b = q->period ? bucket_parse(q->period) : BUCKET_QUARTER;
    struct ecell *cells = NULL;
    size_t n = 0, cap = 0;
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    const struct fcols *fc = &m->fc;
    for (size_t i = 1; !rc && i <= fc->n; i++) {
        if (fc->kind[i] != FB_ENPS || isnan(fc->score[i]) || fc->ts[i] < q->from ||
            fc->ts[i] >= q->to)
            continue;
        const char *team = fc->agent[i] ? team_of(m, dict_str(m->dict[DICT_AGENT],
                                                              fc->agent[i])) : NULL;
        if (q->team && (!team || strcmp(team, q->team)))
            continue;
        char period[16];
        bucket_label(fc->ts[i], (enum bucket)b, period);
        struct ecell *c;
        /* the whole company (team "") and the respondent's team */
        if ((rc = enps_cell(&cells, &n, &cap, "", period, &c)))
            break;
        nps_add(&c->a, (int)fc->score[i]);
        if (team && !(rc = enps_cell(&cells, &n, &cap, team, period, &c)))
            nps_add(&c->a, (int)fc->score[i]);
    }
    pthread_rwlock_unlock(&e->lock);
    if (rc) {
        free(cells);
        return cxm_err_set(err, rc, "out of memory");
    }
    if (n > 1)
        qsort(cells, n, sizeof *cells, cmp_cell);
    int min = q->min_enps > 0 ? q->min_enps : 5;
    enps_suppress(cells, n, min);
    json_t *rows = json_array();
    for (size_t i = 0; rows && i < n; i++) {
        const struct ecell *c = &cells[i];
        json_t *o = json_pack("{s:o, s:s}", "team", c->team[0] ? json_string(c->team)
                              : json_null(), "period", c->period);
        if (!o)
            continue;
        if (c->hidden) {
            json_object_set_new(o, "value", json_null());
            json_object_set_new(o, "n", json_null());
            json_object_set_new(o, "note", json_string(
                c->complementary ? "hidden so that a smaller group cannot be worked out"
                                 : "not enough responses"));
        } else {
            struct metric_value v = nps_value(&c->a);
            json_object_set_new(o, "value", json_real(v.value));
            json_object_set_new(o, "margin", json_real(v.margin));
            json_object_set_new(o, "n", json_integer((json_int_t)c->a.n));
            json_object_set_new(o, "promoters", json_integer((json_int_t)c->a.promoters));
            json_object_set_new(o, "passives", json_integer((json_int_t)c->a.passives));
            json_object_set_new(o, "detractors", json_integer((json_int_t)c->a.detractors));
        }
        json_array_append_new(rows, o);
    }
    free(cells);
    *out = rows ? period_json(q) : NULL;
    if (!*out) {
        json_decref(rows);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    json_object_set_new(*out, "period", json_string(q->period ? q->period : "quarter"));
    json_object_set_new(*out, "min_responses", json_integer(min));
    json_object_set_new(*out, "rows", rows);
    return CXM_OK;
}

int engine_employees(struct engine *e, json_t **out, struct cxm_err *err)
{
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&e->lock);
    for (size_t i = 1; arr && i <= e->m->nemp; i++) {
        const struct employee *em = &e->m->emp[i];
        json_array_append_new(arr, json_pack("{s:s, s:s?, s:s?, s:s?}", "id", em->id, "name",
                                             em->name, "team", em->team, "role", em->role));
    }
    pthread_rwlock_unlock(&e->lock);
    *out = arr ? json_pack("{s:o}", "employees", arr) : NULL;
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}
