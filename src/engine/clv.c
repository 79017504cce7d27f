/* clv.c - customer lifetime value and churn risk over the model: each
 * profile's purchase summary (x, t_x, T, mean repeat value) from its
 * orders, the BG/NBD + Gamma-Gamma fit (core/clv), the fit's checks, and
 * what is read from the model in use: predictions, the at-risk list and
 * the churn drivers. docs/clv.md says what each number means.
 *
 * Time is counted in whole UTC days; a purchase day is a day with at least
 * one order of the profile, its value the sum of that day's orders. The
 * summaries are built under the read lock; the fit runs without it, and
 * the model is stored through the writer like any other change. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clv.h"
#include "core/timefmt.h"
#include "engine/engine_impl.h"
#include "engine/segments.h"
#include "engine/event.h"

#define DAY 86400
#define HIST_K 7                 /* repeat histogram: 0..6 and 7+ */
#define COMPLAINT_DAYS 90

/* One profile's purchases as of a day. */
struct srow {
    uint32_t root;
    int32_t first_day, last_day; /* purchase days on or before the end */
    struct clv_cust c;           /* x, tx, T in the unit; mx */
    double historic;             /* sum of order amounts up to the horizon end */
    double day_mean;             /* mean purchase-day value, first day included */
    uint32_t hold;               /* purchase days after the end (holdout) */
    uint32_t orders;
};

struct summ {
    struct srow *row;
    size_t n;
    int32_t end_day, hold_end_day, last_day;   /* last_day: latest order day */
    double unit_days;
};

struct dayamt {
    int32_t day;
    double amount;
};

static int32_t day_of(int64_t ts)
{
    return (int32_t)(ts >= 0 ? ts / DAY : -((-ts + DAY - 1) / DAY));
}

static int dayamt_cmp(const void *pa, const void *pb)
{
    const struct dayamt *a = pa, *b = pb;
    return (a->day > b->day) - (a->day < b->day);
}

static void sort_days(struct dayamt *v, size_t n)
{
    if (n > 24) {
        qsort(v, n, sizeof *v, dayamt_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct dayamt t = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1].day > t.day) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = t;
    }
}

static int32_t latest_order_day(const struct model *m)
{
    return m->oc.n ? day_of(m->max_order_ts) : 0;
}

/* The summary of one profile's orders v[0..n), sorted by day, the first on
 * or before end_day: purchase days up to end_day make x, t_x, T and the
 * values; later ones are holdout days. */
static void summary_of(const struct dayamt *v, size_t n, int32_t end_day, double unit_days,
                       struct srow *r)
{
    memset(r, 0, sizeof *r);
    r->first_day = v[0].day;
    r->orders = (uint32_t)n;
    size_t days = 0;
    double repeat = 0, all = 0;
    for (size_t i = 0; i < n;) {
        int32_t d = v[i].day;
        double amt = 0;
        while (i < n && v[i].day == d)
            amt += v[i++].amount;
        r->historic += amt;
        if (d > end_day) {
            r->hold++;
            continue;
        }
        if (days++)
            repeat += amt;
        all += amt;
        r->last_day = d;
    }
    r->c.x = (double)(days - 1);
    r->c.tx = (r->last_day - r->first_day) / unit_days;
    r->c.T = (end_day - r->first_day) / unit_days;
    r->c.mx = days > 1 ? repeat / (double)(days - 1) : 0;
    r->day_mean = all / (double)days;
}

/* Summaries of every profile with a purchase on or before end_day; orders
 * after end_day up to hold_end_day count as holdout purchase days. Roots
 * come out in ascending order. */
static int summarise(const struct model *m, int32_t end_day, int32_t hold_end_day,
                     double unit_days, struct summ *s)
{
    memset(s, 0, sizeof *s);
    s->end_day = end_day;
    s->hold_end_day = hold_end_day;
    s->unit_days = unit_days;
    s->last_day = latest_order_day(m);
    size_t nc = m->ncust + 2;
    uint32_t *start = calloc(nc, sizeof *start);
    uint32_t *root = m->oc.n ? malloc((m->oc.n + 1) * sizeof *root) : NULL;
    if (!start || (m->oc.n && !root)) {
        free(start);
        free(root);
        return CXM_ENOMEM;
    }
    /* counting sort of the orders by profile */
    size_t total = 0;
    for (size_t i = 1; i <= m->oc.n; i++) {
        root[i] = 0;
        if (day_of(m->oc.ts[i]) > hold_end_day)
            continue;
        root[i] = model_root(m, m->oc.cust[i]);
        start[root[i] + 1]++;
        total++;
    }
    size_t profiles = 0;
    for (size_t c = 1; c < nc; c++) {
        profiles += start[c] > 0;
        start[c] += start[c - 1];
    }
    struct dayamt *v = total ? malloc(total * sizeof *v) : NULL;
    uint32_t *fill = malloc(nc * sizeof *fill);
    s->row = profiles ? malloc(profiles * sizeof *s->row) : NULL;
    if ((total && !v) || !fill || (profiles && !s->row)) {
        free(v);
        free(fill);
        free(s->row);
        free(start);
        free(root);
        s->row = NULL;
        return CXM_ENOMEM;
    }
    memcpy(fill, start, nc * sizeof *fill);
    for (size_t i = 1; i <= m->oc.n; i++)
        if (root[i])
            v[fill[root[i]]++] = (struct dayamt){day_of(m->oc.ts[i]), m->oc.amount[i]};
    for (uint32_t c = 1; c <= m->ncust; c++) {
        size_t lo = start[c], hi = start[c + 1];
        if (lo == hi)
            continue;
        sort_days(v + lo, hi - lo);
        if (v[lo].day > end_day)
            continue;            /* not a customer yet at the end */
        summary_of(v + lo, hi - lo, end_day, unit_days, &s->row[s->n]);
        s->row[s->n++].root = c;
    }
    free(v);
    free(fill);
    free(start);
    free(root);
    return CXM_OK;
}

static void summ_free(struct summ *s)
{
    free(s->row);
    s->row = NULL;
    s->n = 0;
}

int clv_unit_days(const char *unit, double *out)
{
    if (!unit || !*unit || !strcmp(unit, "week"))
        *out = 7;
    else if (!strcmp(unit, "day"))
        *out = 1;
    else if (!strcmp(unit, "month"))
        *out = 365.25 / 12;
    else
        return CXM_EINVAL;
    return CXM_OK;
}

static const char *unit_name(double d)
{
    return d == 1 ? "day" : d == 7 ? "week" : "month";
}

static json_t *jday(int32_t day)
{
    char buf[32];
    int y;
    unsigned mo, d;
    timefmt_civil_from_days(day, &y, &mo, &d);
    snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, mo, d);
    return json_string(buf);
}

static double round_to(double v, double unit)
{
    return round(v / unit) * unit;
}

/* ---- predictions from the model in use ------------------------------- */

struct pred {
    double p_alive, purchases, aov, clv, clv_alive;
};

static void to_bgnbd(const struct clv_fit *f, struct bgnbd *b, struct gamgam *g)
{
    *b = (struct bgnbd){.r = f->r, .alpha = f->alpha, .a = f->a, .b = f->b};
    *g = (struct gamgam){.p = f->p, .q = f->q, .v = f->v};
}

/* Expected purchases in (0, t] discounted at rate per period. */
static double discounted_purchases(const struct bgnbd *b, const struct clv_cust *c,
                                   double horizon, double rate)
{
    if (rate <= 0)
        return bgnbd_cond_expected(b, horizon, c->x, c->tx, c->T);
    double sum = 0, prev = 0;
    int steps = (int)ceil(horizon);
    for (int i = 1; i <= steps; i++) {
        double t = i < steps ? i : horizon;
        double e = bgnbd_cond_expected(b, t, c->x, c->tx, c->T);
        sum += (e - prev) / pow(1 + rate, i);
        prev = e;
    }
    return sum;
}

/* horizon in periods of the model's unit; rate per period. */
static void predict(const struct clv_fit *f, const struct srow *r, double horizon,
                    double rate, struct pred *p)
{
    struct bgnbd b;
    struct gamgam g;
    to_bgnbd(f, &b, &g);
    p->p_alive = bgnbd_p_alive(&b, r->c.x, r->c.tx, r->c.T);
    p->purchases = bgnbd_cond_expected(&b, horizon, r->c.x, r->c.tx, r->c.T);
    /* without a spend model, the customer's own mean purchase-day value */
    p->aov = isnan(f->p) ? r->day_mean : gamgam_aov(&g, r->c.x, r->c.mx);
    double dp = rate > 0 ? discounted_purchases(&b, &r->c, horizon, rate) : p->purchases;
    p->clv = dp * p->aov;
    p->clv_alive = p->p_alive > 1e-12 ? p->clv / p->p_alive : 0;
}

/* As-of day for predictions: the latest order day, never before the
 * calibration end. Answers depend on the data only, not on the clock. */
static int32_t as_of_day(const struct model *m)
{
    int32_t d = latest_order_day(m), end = day_of(m->clv.calibration_end);
    return d > end ? d : end;
}

/* A profile's summary as of a day: the one-profile form of summarise. */
static int summarise_one(const struct model *m, const uint32_t *nodes, size_t nn,
                         int32_t end_day, double unit_days, struct srow *r, bool *has)
{
    size_t n = 0, cap = 0;
    struct dayamt *v = NULL;
    for (size_t k = 0; k < nn; k++)
        for (uint32_t i = m->cust[nodes[k]].ohead; i; i = m->oc.next[i]) {
            if (day_of(m->oc.ts[i]) > end_day)
                continue;
            if (cxm_grow((void **)&v, &cap, n + 1, sizeof *v)) {
                free(v);
                return CXM_ENOMEM;
            }
            v[n++] = (struct dayamt){day_of(m->oc.ts[i]), m->oc.amount[i]};
        }
    *has = n > 0;
    if (n) {
        sort_days(v, n);
        summary_of(v, n, end_day, unit_days, r);
        r->root = nodes[0];
    }
    free(v);
    return CXM_OK;
}

int clv_profile_predict(const struct model *m, const uint32_t *nodes, size_t nn,
                        float *p_alive, float *value)
{
    *p_alive = *value = NAN;
    if (!m->clv.has)
        return CXM_OK;
    struct srow r;
    bool has;
    if (summarise_one(m, nodes, nn, as_of_day(m), m->clv.unit_days, &r, &has))
        return CXM_ENOMEM;
    if (has) {
        struct pred pr;
        predict(&m->clv, &r, 52 * 7 / m->clv.unit_days, 0, &pr);
        *p_alive = (float)pr.p_alive;
        *value = (float)pr.clv;
    }
    return CXM_OK;
}

int clv_profile_json(const struct model *m, const uint32_t *nodes, size_t nn, json_t *p)
{
    if (!m->clv.has)
        return CXM_OK;
    struct srow r;
    bool has;
    int32_t end = as_of_day(m);
    if (summarise_one(m, nodes, nn, end, m->clv.unit_days, &r, &has))
        return CXM_ENOMEM;
    if (!has) {
        json_object_set_new(p, "p_alive", json_null());
        json_object_set_new(p, "expected_purchases_52w", json_null());
        json_object_set_new(p, "clv_predicted", json_null());
        return CXM_OK;
    }
    struct pred pr;
    predict(&m->clv, &r, 52 * 7 / m->clv.unit_days, 0, &pr);
    json_object_set_new(p, "p_alive", json_real(round_to(pr.p_alive, 1e-4)));
    json_object_set_new(p, "expected_purchases_52w", json_real(round_to(pr.purchases, 1e-4)));
    json_object_set_new(p, "clv_predicted", json_real(round_to(pr.clv, 0.01)));
    return CXM_OK;
}

/* ---- the fit ---------------------------------------------------------- */

static json_t *histogram_json(const struct bgnbd *b, const struct summ *s)
{
    /* customers by age in days: the expected histogram sums P(X(T)=k)
     * over customers, and many share an age */
    int32_t span = 0;
    for (size_t i = 0; i < s->n; i++)
        span = s->end_day - s->row[i].first_day > span ? s->end_day - s->row[i].first_day : span;
    uint32_t *age = calloc((size_t)span + 1, sizeof *age);
    if (!age)
        return NULL;
    double obs[HIST_K + 1] = {0}, exp[HIST_K + 1] = {0};
    for (size_t i = 0; i < s->n; i++) {
        age[s->end_day - s->row[i].first_day]++;
        double x = s->row[i].c.x;
        obs[x >= HIST_K ? HIST_K : (int)x]++;
    }
    for (int32_t d = 0; d <= span; d++) {
        if (!age[d])
            continue;
        double T = d / s->unit_days, rest = 1;
        for (int k = 0; k < HIST_K; k++) {
            double pk = bgnbd_pmf(b, T, k);
            exp[k] += age[d] * pk;
            rest -= pk;
        }
        exp[HIST_K] += age[d] * (rest > 0 ? rest : 0);
    }
    free(age);
    json_t *a = json_array();
    for (int k = 0; k <= HIST_K; k++) {
        char lab[8];
        snprintf(lab, sizeof lab, k < HIST_K ? "%d" : "%d+", k);
        json_array_append_new(a, json_pack("{s:s, s:I, s:f}", "x", lab,
                              "observed", (json_int_t)obs[k], "expected",
                              round_to(exp[k], 0.01)));
    }
    return a;
}

static json_t *holdout_json(const struct bgnbd *b, const struct summ *s)
{
    if (s->hold_end_day <= s->end_day)
        return json_null();
    double t = (s->hold_end_day - s->end_day) / s->unit_days;
    double n[HIST_K + 1] = {0}, act[HIST_K + 1] = {0}, pred[HIST_K + 1] = {0};
    double ta = 0, tp = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct srow *r = &s->row[i];
        int k = r->c.x >= HIST_K ? HIST_K : (int)r->c.x;
        double e = bgnbd_cond_expected(b, t, r->c.x, r->c.tx, r->c.T);
        n[k]++;
        act[k] += r->hold;
        pred[k] += e;
        ta += r->hold;
        tp += e;
    }
    json_t *rows = json_array();
    for (int k = 0; k <= HIST_K; k++) {
        char lab[8];
        snprintf(lab, sizeof lab, k < HIST_K ? "%d" : "%d+", k);
        json_array_append_new(rows, json_pack("{s:s, s:I, s:o, s:o}", "x", lab,
            "customers", (json_int_t)n[k],
            "actual_mean", n[k] ? json_real(round_to(act[k] / n[k], 1e-4)) : json_null(),
            "predicted_mean", n[k] ? json_real(round_to(pred[k] / n[k], 1e-4)) : json_null()));
    }
    return json_pack("{s:o, s:o, s:f, s:I, s:f, s:o}", "from", jday(s->end_day + 1),
                     "to", jday(s->hold_end_day), "periods", round_to(t, 1e-4),
                     "actual", (json_int_t)ta, "predicted", round_to(tp, 0.01), "by_frequency", rows);
}

static int persist(struct engine *e, const struct store_clv_model *c, int64_t *seq,
                   struct cxm_err *err)
{
    struct engine_work w = {.op = ENGINE_CLV, .clv = c};
    int rc = engine_run(e, &w);
    if (rc || w.rc) {
        *err = w.err;
        return w.rc ? w.rc : rc;
    }
    *seq = w.seq;
    return CXM_OK;
}

int engine_clv_fit(struct engine *e, const struct clv_fit_opts *o, json_t **out,
                   struct cxm_err *err)
{
    double unit;
    if (clv_unit_days(o->unit, &unit))
        return cxm_err_field(err, CXM_EINVAL, -1, "unit",
                             "unit: '%s' is not day, week or month", o->unit);
    double t0 = cxm_seconds();
    struct summ s;
    pthread_rwlock_rdlock(&e->lock);
    int32_t last = latest_order_day(e->m);
    int32_t end = o->calibration_end ? day_of(o->calibration_end) : last;
    int rc = e->m->oc.n ? summarise(e->m, end, last > end ? last : end, unit, &s)
                        : CXM_EINVAL;
    pthread_rwlock_unlock(&e->lock);
    if (rc == CXM_ENOMEM)
        return cxm_err_set(err, rc, "out of memory");
    if (rc || s.n == 0) {
        if (!rc)
            summ_free(&s);
        return cxm_err_field(err, CXM_EINVAL, -1, "calibration_end",
                             "no customer has an order on or before the calibration end");
    }
    double t_sum = cxm_seconds() - t0;
    struct clv_cust *cc = malloc(s.n * sizeof *cc);
    if (!cc) {
        summ_free(&s);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    size_t repeaters = 0;
    for (size_t i = 0; i < s.n; i++) {
        cc[i] = s.row[i].c;
        repeaters += cc[i].x > 0;
    }
    struct bgnbd b;
    rc = bgnbd_fit(cc, s.n, &b);
    if (rc) {
        free(cc);
        summ_free(&s);
        if (rc == CXM_ENOMEM)
            return cxm_err_set(err, rc, "out of memory");
        return cxm_err_field(err, CXM_EINVAL, -1, "calibration_end",
                             "the BG/NBD model cannot be fitted: %zu customers, %zu"
                             " with repeat purchases before the calibration end",
                             s.n, repeaters);
    }
    struct gamgam g = {.p = NAN, .q = NAN, .v = NAN};
    int grc = gamgam_fit(cc, s.n, &g);
    free(cc);
    if (grc == CXM_ENOMEM) {
        summ_free(&s);
        return cxm_err_set(err, grc, "out of memory");
    }
    if (grc)
        g = (struct gamgam){.p = NAN, .q = NAN, .v = NAN};
    double t_fit = cxm_seconds() - t0 - t_sum;

    json_t *hist = histogram_json(&b, &s);
    json_t *hold = holdout_json(&b, &s);
    if (!hist || !hold) {
        json_decref(hist);
        json_decref(hold);
        summ_free(&s);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    json_t *gg = grc ? json_null() : json_pack("{s:f, s:f, s:f, s:f, s:I, s:b, s:i, s:f}",
        "p", g.p, "q", g.q, "v", g.v, "loglik", g.loglik, "customers", (json_int_t)g.n,
        "converged", g.converged, "iterations", g.iterations,
        "mean_order_value", g.q > 1 ? g.p * g.v / (g.q - 1) : NAN);
    if (!grc && !(g.q > 1))
        json_object_set_new(gg, "mean_order_value", json_null());
    json_t *rep = json_pack("{s:I, s:I, s:s, s:f, s:o, s:{s:f, s:f, s:f, s:f, s:f,"
                            " s:b, s:i}, s:o, s:{s:o, s:o}}",
        "customers", (json_int_t)s.n, "repeat_customers", (json_int_t)repeaters,
        "unit", unit_name(unit), "unit_days", unit,
        "calibration_end", jday(s.end_day),
        "bgnbd", "r", b.r, "alpha", b.alpha, "a", b.a, "b", b.b, "loglik", b.loglik,
        "converged", b.converged, "iterations", b.iterations,
        "gamma_gamma", gg,
        "checks", "repeat_histogram", hist, "holdout", hold);
    /* the earliest first purchase, for the reader */
    int32_t first = s.row[0].first_day;
    for (size_t i = 1; i < s.n; i++)
        first = s.row[i].first_day < first ? s.row[i].first_day : first;
    json_object_set_new(rep, "first_purchase", jday(first));
    summ_free(&s);
    if (!rep)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    char *text = json_dumps(rep, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (!text) {
        json_decref(rep);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    struct store_clv_model c = {
        .ts = (int64_t)time(NULL), .calibration_end = (int64_t)end * DAY,
        .unit_days = unit, .r = b.r, .alpha = b.alpha, .a = b.a, .b = b.b,
        .p = g.p, .q = g.q, .v = g.v, .report = text};
    int64_t seq = 0;
    rc = persist(e, &c, &seq, err);
    free(text);
    if (rc) {
        json_decref(rep);
        return rc;
    }
    json_object_set_new(rep, "seq", json_integer(seq));
    json_object_set_new(rep, "seconds", json_pack("{s:f, s:f}", "summaries",
                        round_to(t_sum, 1e-4), "fit", round_to(t_fit, 1e-4)));
    *out = rep;
    return CXM_OK;
}

int engine_clv_model(struct engine *e, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    const struct clv_fit *f = &e->m->clv;
    int rc = CXM_OK;
    if (!f->has) {
        rc = cxm_err_set(err, CXM_ENOTFOUND, "no CLV model: fit one first"
                         " (cxm clv fit, POST /v1/clv/fit)");
    } else {
        json_error_t je;
        json_t *rep = json_loads(f->report, 0, &je);
        if (!rep) {
            rc = cxm_err_set(err, CXM_EIO, "the stored CLV model is not valid JSON");
        } else {
            json_object_set_new(rep, "seq", json_integer(f->seq));
            char ts[TIMEFMT_LEN];
            timefmt_format(f->ts, ts);
            json_object_set_new(rep, "fitted_at", json_string(ts));
            *out = rep;
        }
    }
    pthread_rwlock_unlock(&e->lock);
    return rc;
}

/* ---- predictions for everyone ----------------------------------------- */

struct prow {
    struct pred p;
    size_t i;                    /* index into the summaries */
    double risk_value;           /* value at risk */
};

static int prow_by_clv(const void *pa, const void *pb)
{
    const struct prow *a = pa, *b = pb;
    if (a->p.clv != b->p.clv)
        return a->p.clv < b->p.clv ? 1 : -1;
    return (a->i > b->i) - (a->i < b->i);
}

static int prow_by_risk(const void *pa, const void *pb)
{
    const struct prow *a = pa, *b = pb;
    if (a->risk_value != b->risk_value)
        return a->risk_value < b->risk_value ? 1 : -1;
    return (a->i > b->i) - (a->i < b->i);
}

static int check_opts(const struct model *m, const struct clv_predict_opts *o,
                      double *horizon, double *rate, struct cxm_err *err)
{
    if (!m->clv.has)
        return cxm_err_set(err, CXM_ENOTFOUND, "no CLV model: fit one first"
                           " (cxm clv fit, POST /v1/clv/fit)");
    if (!(o->horizon >= 1) || o->horizon > 10000 || o->horizon != floor(o->horizon))
        return cxm_err_field(err, CXM_EINVAL, -1, "horizon",
                             "horizon: a whole number of periods, 1 to 10000");
    if (!(o->discount >= 0) || o->discount >= 10)
        return cxm_err_field(err, CXM_EINVAL, -1, "discount",
                             "discount: an annual rate such as 0.1, in [0, 10)");
    *horizon = o->horizon;
    *rate = clv_period_rate(o->discount, m->clv.unit_days);
    return CXM_OK;
}

static json_t *pred_row(const struct srow *r, const struct pred *p)
{
    return json_pack("{s:I, s:I, s:f, s:f, s:f, s:o, s:o, s:f, s:f, s:f, s:f, s:f}",
        "customer", (json_int_t)r->root, "orders", (json_int_t)r->orders,
        "x", r->c.x, "t_x", round_to(r->c.tx, 1e-4), "T", round_to(r->c.T, 1e-4),
        "first_purchase", jday(r->first_day), "last_purchase", jday(r->last_day),
        "p_alive", round_to(p->p_alive, 1e-4),
        "expected_purchases", round_to(p->purchases, 1e-4),
        "expected_order_value", round_to(p->aov, 0.01),
        "clv_predicted", round_to(p->clv, 0.01),
        "clv_historic", round_to(r->historic, 0.01));
}

static int predict_all(const struct clv_fit *f, const struct summ *s, double horizon,
                       double rate, struct prow *pr);

int engine_clv_predict(struct engine *e, const struct clv_predict_opts *o, json_t **out,
                       struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    double horizon, rate;
    int rc = check_opts(m, o, &horizon, &rate, err);
    struct summ s = {0};
    int32_t end = 0;
    if (!rc) {
        end = as_of_day(m);
        if ((rc = summarise(m, end, end, m->clv.unit_days, &s)))
            cxm_err_set(err, rc, "out of memory");
    }
    struct clv_fit f = m->clv;
    f.report = NULL;
    pthread_rwlock_unlock(&e->lock);
    if (rc)
        return rc;
    double t0 = cxm_seconds();
    struct prow *pr = s.n ? malloc(s.n * sizeof *pr) : NULL;
    if (s.n && !pr) {
        summ_free(&s);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    double tot_p = 0, tot_clv = 0, tot_alive = 0, tot_hist = 0;
    if (predict_all(&f, &s, horizon, rate, pr)) {
        free(pr);
        summ_free(&s);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < s.n; i++) {
        tot_p += pr[i].p.purchases;
        tot_clv += pr[i].p.clv;
        tot_alive += pr[i].p.p_alive;
        tot_hist += s.row[i].historic;
    }
    double dt = cxm_seconds() - t0;
    size_t top = o->top < s.n ? o->top : s.n;
    if (top) {
        qsort(pr, s.n, sizeof *pr, prow_by_clv);
    }
    json_t *rows = json_array();
    for (size_t k = 0; k < top; k++)
        json_array_append_new(rows, pred_row(&s.row[pr[k].i], &pr[k].p));
    json_t *doc = json_pack("{s:I, s:o, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o}",
        "customers", (json_int_t)s.n, "as_of", jday(end),
        "unit", unit_name(f.unit_days), "horizon", horizon, "discount", o->discount,
        "expected_purchases", round_to(tot_p, 0.01),
        "clv_predicted", round_to(tot_clv, 0.01),
        "clv_predicted_mean", s.n ? round_to(tot_clv / (double)s.n, 0.01) : 0.0,
        "p_alive_mean", s.n ? round_to(tot_alive / (double)s.n, 1e-4) : 0.0,
        "clv_historic", round_to(tot_hist, 0.01),
        "seconds", round_to(dt, 1e-4), "top", rows);
    free(pr);
    summ_free(&s);
    if (!doc)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_object_set_new(doc, "model_seq", json_integer(f.seq));
    *out = doc;
    return CXM_OK;
}

/* ---- churn: who is slipping away, and what drives it ------------------ */

/* What the at-risk list and the drivers say about a profile besides its
 * purchases: the latest NPS/CSAT/CES, complaints, the last contact. */
struct signals {
    int64_t nps_ts, csat_ts, ces_ts, contact_ts, order_ts;
    int nps, csat, ces;          /* -1: none */
    uint32_t complaints, complaints_recent;   /* ever, last 90 days */
    uint16_t order_channel;      /* channel of the latest order */
};

static void signals_init(struct signals *g)
{
    memset(g, 0, sizeof *g);
    g->nps = g->csat = g->ces = -1;
    g->nps_ts = g->csat_ts = g->ces_ts = g->contact_ts = g->order_ts = -1;
}

static void take_score(int64_t *ts, int *v, int64_t t, float score)
{
    if (t >= *ts && !isnan(score)) {
        *ts = t;
        *v = (int)score;
    }
}

static void add_feedback(const struct model *m, uint32_t i, int64_t end_ts, struct signals *g)
{
    int64_t t = m->fc.ts[i];
    if (t >= end_ts)
        return;
    switch (m->fc.kind[i]) {
    case FB_NPS: take_score(&g->nps_ts, &g->nps, t, m->fc.score[i]); break;
    case FB_CSAT: take_score(&g->csat_ts, &g->csat, t, m->fc.score[i]); break;
    case FB_CES: take_score(&g->ces_ts, &g->ces, t, m->fc.score[i]); break;
    default: break;
    }
    g->contact_ts = t > g->contact_ts ? t : g->contact_ts;
}

static void add_interaction(const struct model *m, uint32_t i, int64_t end_ts,
                            uint16_t complaint, struct signals *g)
{
    int64_t t = m->ic.ts[i];
    if (t >= end_ts)
        return;
    if (complaint && m->ic.kind[i] == complaint) {
        g->complaints++;
        g->complaints_recent += t >= end_ts - (int64_t)COMPLAINT_DAYS * DAY;
    }
    g->contact_ts = t > g->contact_ts ? t : g->contact_ts;
}

static void add_order(const struct model *m, uint32_t i, int64_t end_ts, struct signals *g)
{
    int64_t t = m->oc.ts[i];
    if (t >= end_ts || t < g->order_ts)
        return;
    g->order_ts = t;
    g->order_channel = m->oc.channel[i];
}

static uint16_t complaint_code(const struct model *m)
{
    uint32_t c = dict_find(m->dict[DICT_ITYPE], "complaint");
    return (uint16_t)c;
}

static void signals_of(const struct model *m, const uint32_t *nodes, size_t nn,
                       int64_t end_ts, struct signals *g)
{
    signals_init(g);
    uint16_t complaint = complaint_code(m);
    for (size_t k = 0; k < nn; k++) {
        const struct cust *c = &m->cust[nodes[k]];
        for (uint32_t i = c->fhead; i; i = m->fc.next[i])
            add_feedback(m, i, end_ts, g);
        for (uint32_t i = c->ihead; i; i = m->ic.next[i])
            add_interaction(m, i, end_ts, complaint, g);
        for (uint32_t i = c->ohead; i; i = m->oc.next[i])
            add_order(m, i, end_ts, g);
    }
}

static json_t *score_json(int v, int64_t ts)
{
    if (v < 0)
        return json_null();
    char buf[TIMEFMT_LEN];
    timefmt_format(ts, buf);
    return json_pack("{s:i, s:s}", "score", v, "ts", buf);
}

static json_t *ts_json(int64_t ts)
{
    if (ts < 0)
        return json_null();
    char buf[TIMEFMT_LEN];
    timefmt_format(ts, buf);
    return json_string(buf);
}

/* Predictions for every summary; with a spend model through clv_predict,
 * which shares the work between customers of the same history. */
static int predict_all(const struct clv_fit *f, const struct summ *s, double horizon,
                       double rate, struct prow *pr)
{
    struct bgnbd b;
    struct gamgam g;
    to_bgnbd(f, &b, &g);
    struct clv_cust *c = NULL;
    struct clv_pred *out = NULL;
    bool bulk = !isnan(f->p) && s->n;
    if (bulk && (!(c = malloc(s->n * sizeof *c)) || !(out = malloc(s->n * sizeof *out)))) {
        free(c);
        return CXM_ENOMEM;
    }
    for (size_t i = 0; bulk && i < s->n; i++)
        c[i] = s->row[i].c;
    int rc = bulk ? clv_predict(&b, &g, c, s->n, horizon, (int)horizon, rate, out) : CXM_OK;
    if (rc == CXM_EINVAL)
        bulk = false;            /* e.g. a spend model without a finite mean */
    else if (rc) {
        free(c);
        free(out);
        return rc;
    }
    for (size_t i = 0; i < s->n; i++) {
        pr[i].i = i;
        if (bulk) {
            struct pred *p = &pr[i].p;
            p->p_alive = out[i].p_alive;
            p->purchases = out[i].expected;
            p->aov = out[i].aov;
            p->clv = out[i].value;
            p->clv_alive = p->p_alive > 1e-12 ? p->clv / p->p_alive : 0;
        } else {
            predict(f, &s->row[i], horizon, rate, &pr[i].p);
        }
        pr[i].risk_value = (1 - pr[i].p.p_alive) * pr[i].p.clv_alive;
    }
    free(c);
    free(out);
    return CXM_OK;
}

int engine_churn_at_risk(struct engine *e, const struct at_risk_opts *o, json_t **out,
                         struct cxm_err *err)
{
    if (!(o->max_p_alive > 0 && o->max_p_alive <= 1))
        return cxm_err_field(err, CXM_EINVAL, -1, "max_p_alive",
                             "max_p_alive: must be in (0, 1]");
    if (!(o->min_value >= 0) || isinf(o->min_value))
        return cxm_err_field(err, CXM_EINVAL, -1, "min_value",
                             "min_value: must be a number >= 0");
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    double horizon, rate;
    int rc = check_opts(m, &o->predict, &horizon, &rate, err);
    struct summ s = {0};
    struct prow *pr = NULL;
    int32_t end = 0;
    if (!rc) {
        end = as_of_day(m);
        rc = summarise(m, end, end, m->clv.unit_days, &s);
        if (!rc && s.n && !(pr = malloc(s.n * sizeof *pr)))
            rc = CXM_ENOMEM;
        if (rc)
            cxm_err_set(err, rc, "out of memory");
    }
    json_t *rows = NULL;
    size_t matched = 0;
    double at_risk_value = 0;
    if (!rc && (rc = predict_all(&m->clv, &s, horizon, rate, pr)))
        cxm_err_set(err, rc, "out of memory");
    if (!rc) {
        size_t k = 0;
        for (size_t i = 0; i < s.n; i++) {
            if (pr[i].p.p_alive > o->max_p_alive ||
                fmax(s.row[pr[i].i].historic, pr[i].p.clv_alive) < o->min_value)
                continue;
            at_risk_value += pr[i].risk_value;
            pr[k++] = pr[i];
        }
        matched = k;
        qsort(pr, matched, sizeof *pr, prow_by_risk);
        rows = json_array();
        uint32_t *nodes = NULL;
        size_t nn = 0, ncap = 0;
        int64_t end_ts = ((int64_t)end + 1) * DAY;
        for (size_t j = 0; j < matched && j < o->limit; j++) {
            const struct srow *r = &s.row[pr[j].i];
            if ((rc = model_profile_nodes(m, r->root, &nodes, &nn, &ncap))) {
                cxm_err_set(err, rc, "out of memory");
                break;
            }
            struct signals g;
            signals_of(m, nodes, nn, end_ts, &g);
            json_t *row = pred_row(r, &pr[j].p);
            json_object_set_new(row, "value_at_risk", json_real(round_to(pr[j].risk_value, 0.01)));
            const char *name = m->cust[r->root].a.name;
            for (size_t k2 = 1; !name && k2 < nn; k2++)
                name = m->cust[nodes[k2]].a.name;
            json_object_set_new(row, "name", name ? json_string(name) : json_null());
            json_object_set_new(row, "last_nps", score_json(g.nps, g.nps_ts));
            json_object_set_new(row, "last_csat", score_json(g.csat, g.csat_ts));
            json_object_set_new(row, "complaints_90d", json_integer(g.complaints_recent));
            json_object_set_new(row, "last_contact", ts_json(g.contact_ts));
            json_array_append_new(rows, row);
        }
        free(nodes);
    }
    struct clv_fit f = m->clv;
    pthread_rwlock_unlock(&e->lock);
    size_t customers = s.n;
    free(pr);
    summ_free(&s);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    json_t *doc = json_pack("{s:o, s:s, s:f, s:f, s:f, s:f, s:I, s:I, s:f, s:o}",
        "as_of", jday(end), "unit", unit_name(f.unit_days), "horizon", horizon,
        "discount", o->predict.discount, "max_p_alive", o->max_p_alive,
        "min_value", o->min_value, "customers", (json_int_t)customers, "matched",
        (json_int_t)matched, "value_at_risk", round_to(at_risk_value, 0.01), "rows", rows);
    if (!doc)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_object_set_new(doc, "model_seq", json_integer(f.seq));
    *out = doc;
    return CXM_OK;
}

/* Drivers: groups of customers by one experience signal each. */
enum { DRV_NPS, DRV_CES, DRV_COMPLAINTS, DRV_CHANNEL, DRV_COUNT };
#define DRV_MAX_GROUPS 64

struct dacc {
    double n, at_risk, p_alive, value_at_risk, clv;
};

static int driver_group(const struct model *m, int d, const struct signals *g,
                        const char **label)
{
    static const char *const nps[] = {"none", "promoter", "passive", "detractor"};
    static const char *const ces[] = {"none", "low effort (1-3)", "neutral (4)",
                                      "high effort (5-7)"};
    static const char *const cmp[] = {"none", "1", "2+"};
    int k = 0;
    switch (d) {
    case DRV_NPS:
        k = g->nps < 0 ? 0 : g->nps >= 9 ? 1 : g->nps >= 7 ? 2 : 3;
        *label = nps[k];
        return k;
    case DRV_CES:
        k = g->ces < 0 ? 0 : g->ces <= 3 ? 1 : g->ces == 4 ? 2 : 3;
        *label = ces[k];
        return k;
    case DRV_COMPLAINTS:
        k = g->complaints == 0 ? 0 : g->complaints == 1 ? 1 : 2;
        *label = cmp[k];
        return k;
    default: {
        k = g->order_channel < DRV_MAX_GROUPS ? g->order_channel : 0;
        const char *s = k ? dict_str(m->dict[DICT_CHANNEL], (uint32_t)k) : NULL;
        *label = s ? s : "none";
        return k;
    }
    }
}

int engine_churn_drivers(struct engine *e, const struct clv_predict_opts *o, json_t **out,
                         struct cxm_err *err)
{
    static const char *const dname[DRV_COUNT] = {"nps_category", "ces", "complaints",
                                                 "channel"};
    segments_rdlock(e);
    const struct model *m = e->m;
    /* segments: a customer counts in each of theirs (the first 64) */
    const struct segset *segs = e->segs;
    size_t nseg = segs ? (segs->n < 64 ? segs->n : 64) : 0;
    struct dacc sacc[64];
    memset(sacc, 0, sizeof sacc);
    double horizon, rate;
    int rc = check_opts(m, o, &horizon, &rate, err);
    struct summ s = {0};
    struct prow *pr = NULL;
    struct dacc (*acc)[DRV_MAX_GROUPS] = NULL;
    const char *(*label)[DRV_MAX_GROUPS] = NULL;
    int32_t end = 0;
    if (!rc) {
        end = as_of_day(m);
        rc = summarise(m, end, end, m->clv.unit_days, &s);
        if (!rc && s.n && !(pr = malloc(s.n * sizeof *pr)))
            rc = CXM_ENOMEM;
        if (!rc && (!(acc = calloc(DRV_COUNT, sizeof *acc)) ||
                    !(label = calloc(DRV_COUNT, sizeof *label))))
            rc = CXM_ENOMEM;
        if (rc)
            cxm_err_set(err, rc, "out of memory");
    }
    struct dacc all = {0};
    if (!rc && (rc = predict_all(&m->clv, &s, horizon, rate, pr)))
        cxm_err_set(err, rc, "out of memory");
    if (!rc) {
        uint32_t *nodes = NULL;
        size_t nn = 0, ncap = 0;
        int64_t end_ts = ((int64_t)end + 1) * DAY;
        for (size_t i = 0; !rc && i < s.n; i++) {
            if ((rc = model_profile_nodes(m, s.row[i].root, &nodes, &nn, &ncap))) {
                cxm_err_set(err, rc, "out of memory");
                break;
            }
            struct signals g;
            signals_of(m, nodes, nn, end_ts, &g);
            const struct pred *p = &pr[i].p;
            struct dacc one = {1, p->p_alive < 0.5, p->p_alive, pr[i].risk_value, p->clv};
            for (int d = 0; d < DRV_COUNT; d++) {
                const char *lab;
                int k = driver_group(m, d, &g, &lab);
                label[d][k] = lab;
                struct dacc *a = &acc[d][k];
                a->n += one.n;
                a->at_risk += one.at_risk;
                a->p_alive += one.p_alive;
                a->value_at_risk += one.value_at_risk;
                a->clv += one.clv;
            }
            for (size_t k = 0; k < nseg; k++) {
                if (!segment_has(&segs->s[k], s.row[i].root))
                    continue;
                struct dacc *a = &sacc[k];
                a->n += one.n;
                a->at_risk += one.at_risk;
                a->p_alive += one.p_alive;
                a->value_at_risk += one.value_at_risk;
                a->clv += one.clv;
            }
            all.n++;
            all.at_risk += one.at_risk;
            all.p_alive += one.p_alive;
            all.value_at_risk += one.value_at_risk;
            all.clv += one.clv;
        }
        free(nodes);
    }
    struct clv_fit f = m->clv;
    /* labels point into dictionaries that live as long as the model; copy
     * the rows out before the lock is released */
    json_t *dims = NULL;
    if (!rc) {
        dims = json_array();
        double base = all.n ? all.at_risk / all.n : 0;
        for (int d = 0; d < DRV_COUNT + (nseg > 0); d++) {
            json_t *rows = json_array();
            bool seg = d == DRV_COUNT;
            for (int k = 0; k < (seg ? (int)nseg : DRV_MAX_GROUPS); k++) {
                const struct dacc *a = seg ? &sacc[k] : &acc[d][k];
                if (!a->n)
                    continue;
                double share = a->at_risk / a->n;
                double margin = 1.96 * sqrt(share * (1 - share) / a->n);
                const char *lab = seg ? segs->s[k].id : label[d][k] ? label[d][k] : "none";
                json_array_append_new(rows, json_pack(
                    "{s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
                    "group", lab, "n", (json_int_t)a->n, "at_risk_share", round_to(share, 1e-4),
                    "margin", round_to(margin, 1e-4),
                    "lift", round_to(share - base, 1e-4),
                    "p_alive_mean", round_to(a->p_alive / a->n, 1e-4),
                    "clv_predicted", round_to(a->clv, 0.01),
                    "value_at_risk", round_to(a->value_at_risk, 0.01),
                    "value_at_risk_share", all.value_at_risk > 0 ?
                        round_to(a->value_at_risk / all.value_at_risk, 1e-4) : 0.0));
            }
            json_array_append_new(dims, json_pack("{s:s, s:o}", "dimension",
                                                  seg ? "segment" : dname[d], "rows", rows));
        }
    }
    pthread_rwlock_unlock(&e->lock);
    free(pr);
    free(acc);
    free(label);
    summ_free(&s);
    if (rc) {
        json_decref(dims);
        return rc;
    }
    json_t *doc = json_pack("{s:o, s:s, s:f, s:I, s:f, s:f, s:f, s:o}",
        "as_of", jday(end), "unit", unit_name(f.unit_days), "horizon", horizon,
        "customers", (json_int_t)all.n,
        "at_risk_share", all.n ? round_to(all.at_risk / all.n, 1e-4) : 0.0,
        "value_at_risk", round_to(all.value_at_risk, 0.01),
        "at_risk_threshold", 0.5, "drivers", dims);
    if (!doc)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_object_set_new(doc, "model_seq", json_integer(f.seq));
    *out = doc;
    return CXM_OK;
}

int clv_predictions(const struct model *m, float *p_alive, float *value)
{
    if (!m->clv.has)
        return CXM_ENOTFOUND;
    for (size_t c = 0; c <= m->ncust; c++)
        p_alive[c] = value[c] = NAN;
    struct summ s;
    int32_t end = as_of_day(m);
    int rc = summarise(m, end, end, m->clv.unit_days, &s);
    if (rc)
        return rc;
    struct prow *pr = s.n ? malloc(s.n * sizeof *pr) : NULL;
    double horizon = round(52 * 7 / m->clv.unit_days);
    if (s.n && (!pr || (rc = predict_all(&m->clv, &s, horizon, 0, pr)))) {
        free(pr);
        summ_free(&s);
        return CXM_ENOMEM;
    }
    for (size_t i = 0; i < s.n; i++) {
        p_alive[s.row[i].root] = (float)pr[i].p.p_alive;
        value[s.row[i].root] = (float)pr[i].p.clv;
    }
    free(pr);
    summ_free(&s);
    return CXM_OK;
}
