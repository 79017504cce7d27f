/* Engine CLV: purchase summaries from real ingested orders (merged
 * profiles, same-day orders, holdout), the stored model, predictions in
 * profiles, the at-risk list and the drivers, each checked against an
 * independent computation from the simulated purchases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clv.h"
#include "engine/engine.h"
#include "engine_fixture.h"
#include "log.h"

#define DAY 86400
#define BASE 1767225600          /* 2026-01-01T00:00:00Z */

static json_t *order(const char *email, int day, int sec, double amount, int *seqno)
{
    char id[32];
    snprintf(id, sizeof id, "o%d", (*seqno)++);
    return json_pack("{s:s, s:s, s:s, s:f, s:I}", "type", "order", "email", email,
                     "order_id", id, "amount", amount,
                     "ts", (json_int_t)BASE + (json_int_t)day * DAY + sec);
}

static double num(json_t *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = o;
    for (char *s = buf, *dot; v && s; s = dot) {
        dot = strchr(s, '.');
        if (dot)
            *dot++ = '\0';
        v = json_object_get(v, s);
    }
    cr_assert(json_is_number(v), "%s is not a number", path);
    return json_number_value(v);
}

/* ---- hand-built summaries -------------------------------------------- */

Test(engine_clv, summaries_count_purchase_days_merge_profiles_and_keep_holdout,
     .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(false);
    int k = 0;
    json_t *a = json_array();
    /* ann: two orders on day 0 are one purchase day (10 + 5), then days 7
     * and 14; day 30 is after the calibration end (day 21): holdout */
    json_array_append_new(a, order("ann@x.io", 0, 100, 10, &k));
    json_array_append_new(a, order("ann@x.io", 0, 5000, 5, &k));
    json_array_append_new(a, order("ann@x.io", 7, 0, 20, &k));
    json_array_append_new(a, order("ann@x.io", 14, 86399, 30, &k));
    json_array_append_new(a, order("ann@x.io", 30, 0, 99, &k));
    /* bob buys on day 21 (the end day, included) through a second identity
     * that is merged into him: one profile, x = 1 */
    json_array_append_new(a, order("bob@x.io", 3, 0, 40, &k));
    json_array_append_new(a, order("bob2@x.io", 21, 0, 60, &k));
    json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "type", "identify",
                                       "email", "bob@x.io", "crm", "B1"));
    json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "type", "identify",
                                       "email", "bob2@x.io", "crm", "B1"));
    /* cid first buys after the end: not a customer in calibration */
    json_array_append_new(a, order("cid@x.io", 25, 0, 15, &k));
    /* others, all before the end, so the model can be fitted */
    for (int i = 0; i < 40; i++) {
        char em[32];
        snprintf(em, sizeof em, "f%d@x.io", i);
        json_array_append_new(a, order(em, i % 10, 0, 10 + i, &k));
        if (i % 3 == 0)
            json_array_append_new(a, order(em, 10 + i % 7, 0, 12, &k));
        if (i % 4 == 0)
            json_array_append_new(a, order(em, 18, 0, 8, &k));
    }
    fx_ingest(e, a, 1700000000);
    json_decref(a);

    /* the fit is not the point here, the summaries are: read them back
     * through the fit's counts and predict's rows */
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    struct clv_fit_opts fo = {.calibration_end = BASE + 21 * DAY, .unit = "week"};
    cr_assert_eq(engine_clv_fit(e, &fo, &doc, &err), 0, "%s", err.msg);
    int rep = 2;                 /* ann and bob, then the others' */
    for (int i = 0; i < 40; i++)
        rep += i % 3 == 0 || i % 4 == 0;
    cr_assert_eq(num(doc, "customers"), 42);
    cr_assert_eq(num(doc, "repeat_customers"), rep);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "calibration_end")), "2026-01-22");
    json_t *ho = json_object_get(json_object_get(doc, "checks"), "holdout");
    cr_assert_str_eq(json_string_value(json_object_get(ho, "from")), "2026-01-23");
    cr_assert_str_eq(json_string_value(json_object_get(ho, "to")), "2026-01-31");
    cr_assert_eq(num(ho, "actual"), 1, "ann's day-30 order is the one holdout day");
    json_decref(doc);

    /* predictions are as of the latest order day (day 30): ann x = 3 */
    struct clv_predict_opts po = {.horizon = 52, .top = 100};
    cr_assert_eq(engine_clv_predict(e, &po, &doc, &err), 0, "%s", err.msg);
    cr_assert_eq(num(doc, "customers"), 43, "cid counts once the end moves past day 25");
    json_t *rows = json_object_get(doc, "top"), *row;
    size_t i;
    int seen = 0;
    json_array_foreach(rows, i, row) {
        int id = (int)num(row, "customer");
        if (id == 1) {       /* ann */
            cr_assert_eq(num(row, "x"), 3);
            cr_assert_float_eq(num(row, "t_x"), 30 / 7.0, 1e-4);
            cr_assert_float_eq(num(row, "T"), 30 / 7.0, 1e-4);
            cr_assert_float_eq(num(row, "clv_historic"), 164, 1e-9);
            seen++;
        } else if (id == 2) {   /* bob, merged */
            cr_assert_eq(num(row, "x"), 1);
            cr_assert_float_eq(num(row, "t_x"), 18 / 7.0, 1e-4);
            cr_assert_float_eq(num(row, "T"), 27 / 7.0, 1e-4);
            cr_assert_eq(num(row, "orders"), 2);
            seen++;
        }
    }
    cr_assert_eq(seen, 2);
    json_decref(doc);
    engine_close(e);
}

Test(engine_clv, errors_before_a_model_and_on_bad_input, .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(false);
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    struct clv_fit_opts fo = {.unit = "week"};
    cr_assert_eq(engine_clv_fit(e, &fo, &doc, &err), CXM_EINVAL, "no orders");
    cr_assert_str_eq(err.field, "calibration_end");
    fo.unit = "fortnight";
    cr_assert_eq(engine_clv_fit(e, &fo, &doc, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "unit");
    cr_assert_eq(engine_clv_model(e, &doc, &err), CXM_ENOTFOUND);
    struct clv_predict_opts po = {.horizon = 52};
    cr_assert_eq(engine_clv_predict(e, &po, &doc, &err), CXM_ENOTFOUND);
    struct at_risk_opts ao = {.predict = po, .max_p_alive = 0.5, .limit = 5};
    cr_assert_eq(engine_churn_at_risk(e, &ao, &doc, &err), CXM_ENOTFOUND);
    ao.max_p_alive = 2;
    cr_assert_eq(engine_churn_at_risk(e, &ao, &doc, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "max_p_alive");
    struct report_query rq = {.metric = "p_alive", .from = 0, .to = INT64_MAX};
    cr_assert_eq(engine_report(e, &rq, &doc, &err), CXM_EINVAL, "no model yet");
    cr_assert_str_eq(err.field, "metric");
    engine_close(e);
}

/* ---- a simulated population ------------------------------------------ */

static uint64_t rng_state;

static uint64_t next_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(void)
{
    return ((double)(next_u64() >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
    return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

static double gamma_rv(double shape, double scale)
{
    if (shape < 1)
        return gamma_rv(shape + 1, scale) * pow(unif(), 1 / shape);
    double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal(), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = unif();
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v * scale;
    }
}

#define NSIM 1500
#define END_DAY 196              /* calibration end: 28 weeks after BASE */
#define LAST_DAY 252             /* holdout to day 252 */

struct sim {
    int ndays;
    int day[400];
    double value[400];           /* per purchase day */
};

static struct sim *simulate(json_t *arr)
{
    struct sim *s = calloc(NSIM, sizeof *s);
    cr_assert(s);
    rng_state = 42;
    int k = 0;
    for (int i = 0; i < NSIM; i++) {
        char email[32];
        snprintf(email, sizeof email, "c%d@x.io", i);
        double lambda = gamma_rv(0.5, 1 / 3.0);      /* per week */
        double pa = gamma_rv(1.0, 1), pb = gamma_rv(3.0, 1);
        double p = pa / (pa + pb);
        double nu = gamma_rv(4.0, 1 / 30.0);
        int first = (int)(unif() * 84);
        double t = first;
        int last = -1;
        for (int n = 0; n < 400 && t <= LAST_DAY; n++) {
            int day = (int)t;
            double amount = round(gamma_rv(6.0, 1 / nu) * 100) / 100 + 0.01;
            json_array_append_new(arr, order(email, day, (int)(unif() * 80000), amount, &k));
            if (day != last) {
                s[i].day[s[i].ndays] = day;
                s[i].value[s[i].ndays++] = amount;
                last = day;
            } else {
                s[i].value[s[i].ndays - 1] += amount;
            }
            if (unif() < p)
                break;               /* drops out after this purchase */
            t += -log(unif()) / lambda * 7;
        }
    }
    return s;
}

/* The summary of customer i as of day end, computed here from the
 * simulated purchase days, not by the engine. */
static bool summary(const struct sim *s, int end, struct clv_cust *c, double unit)
{
    int n = 0;
    double rep = 0;
    while (n < s->ndays && s->day[n] <= end) {
        if (n)
            rep += s->value[n];
        n++;
    }
    if (!n)
        return false;
    c->x = n - 1;
    c->tx = (s->day[n - 1] - s->day[0]) / unit;
    c->T = (end - s->day[0]) / unit;
    c->mx = n > 1 ? rep / (n - 1) : 0;
    return true;
}

Test(engine_clv, fit_matches_independent_summaries_and_is_stored, .init = fx_setup,
     .fini = fx_teardown, .timeout = 120)
{
    struct engine *e = fx_open(false);
    json_t *arr = json_array();
    struct sim *s = simulate(arr);
    fx_ingest(e, arr, 1700000000);
    json_decref(arr);

    struct clv_cust *cc = calloc(NSIM, sizeof *cc);
    size_t n = 0;
    int latest = 0;
    for (int i = 0; i < NSIM; i++) {
        if (summary(&s[i], END_DAY, &cc[n], 7))
            n++;
        if (s[i].ndays && s[i].day[s[i].ndays - 1] > latest)
            latest = s[i].day[s[i].ndays - 1];
    }
    struct bgnbd want;
    struct gamgam gwant;
    cr_assert_eq(bgnbd_fit(cc, n, &want), 0);
    cr_assert_eq(gamgam_fit(cc, n, &gwant), 0);

    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    struct clv_fit_opts fo = {.calibration_end = BASE + (int64_t)END_DAY * DAY};
    cr_assert_eq(engine_clv_fit(e, &fo, &doc, &err), 0, "%s", err.msg);
    cr_assert_eq(num(doc, "customers"), (double)n);
    cr_assert_float_eq(num(doc, "bgnbd.r"), want.r, 1e-6 * want.r);
    cr_assert_float_eq(num(doc, "bgnbd.alpha"), want.alpha, 1e-6 * want.alpha);
    cr_assert_float_eq(num(doc, "bgnbd.a"), want.a, 1e-6 * want.a);
    cr_assert_float_eq(num(doc, "bgnbd.b"), want.b, 1e-6 * want.b);
    cr_assert_float_eq(num(doc, "bgnbd.loglik"), want.loglik, 1e-6 * fabs(want.loglik));
    cr_assert_float_eq(num(doc, "gamma_gamma.p"), gwant.p, 1e-6 * gwant.p);
    cr_assert_float_eq(num(doc, "gamma_gamma.q"), gwant.q, 1e-6 * gwant.q);
    cr_assert_float_eq(num(doc, "gamma_gamma.v"), gwant.v, 1e-6 * gwant.v);

    /* the observed repeat histogram sums to the customers; so does the
     * fitted one (within rounding) */
    json_t *h = json_object_get(json_object_get(doc, "checks"), "repeat_histogram"), *row;
    size_t i;
    double obs = 0, exp = 0, obs0 = 0;
    json_array_foreach(h, i, row) {
        obs += num(row, "observed");
        exp += num(row, "expected");
        if (i == 0)
            obs0 = num(row, "observed");
    }
    size_t zero = 0;
    for (size_t j = 0; j < n; j++)
        zero += cc[j].x == 0;
    cr_assert_eq(obs, (double)n);
    cr_assert_eq(obs0, (double)zero);
    cr_assert_float_eq(exp, (double)n, 0.1);
    /* holdout: actual purchase days after the end, counted here */
    double hold = 0;
    for (int c = 0; c < NSIM; c++)
        for (int d = 0; d < s[c].ndays; d++)
            hold += s[c].day[d] > END_DAY && s[c].day[0] <= END_DAY;
    json_t *ho = json_object_get(json_object_get(doc, "checks"), "holdout");
    cr_assert_eq(num(ho, "actual"), hold);
    double pred = num(ho, "predicted");
    cr_assert(pred > 0.5 * hold && pred < 1.5 * hold, "predicted %g vs actual %g", pred, hold);
    json_decref(doc);

    /* the profile of customer 1 predicts as of the latest order day */
    struct bgnbd m = want;
    struct clv_cust one;
    cr_assert(summary(&s[0], latest, &one, 7) || s[0].ndays == 0);
    cr_assert_eq(engine_customer(e, 1, &doc, &err), 0, "%s", err.msg);
    cr_assert_float_eq(num(doc, "p_alive"), bgnbd_p_alive(&m, one.x, one.tx, one.T), 2e-4);
    cr_assert_float_eq(num(doc, "expected_purchases_52w"),
                       bgnbd_cond_expected(&m, 52, one.x, one.tx, one.T), 2e-4);
    double aov = gamgam_aov(&gwant, one.x, one.mx);
    cr_assert_float_eq(num(doc, "clv_predicted"),
                       bgnbd_cond_expected(&m, 52, one.x, one.tx, one.T) * aov,
                       0.01 + 1e-5 * aov);
    json_decref(doc);
    engine_close(e);

    /* the model survives a restart */
    e = fx_open(false);
    cr_assert_eq(engine_clv_model(e, &doc, &err), 0, "%s", err.msg);
    cr_assert_float_eq(num(doc, "bgnbd.r"), want.r, 1e-6 * want.r);
    cr_assert(json_is_integer(json_object_get(doc, "seq")));
    json_decref(doc);

    /* at-risk: only P(alive) <= 0.3, ranked by value at risk, which is
     * (1 - P(alive)) x the value if alive */
    struct at_risk_opts ao = {.predict = {.horizon = 52}, .max_p_alive = 0.3, .limit = 25};
    cr_assert_eq(engine_churn_at_risk(e, &ao, &doc, &err), 0, "%s", err.msg);
    json_t *rows = json_object_get(doc, "rows");
    cr_assert(json_array_size(rows) > 0);
    double prev = INFINITY;
    size_t expect_matched = 0;
    for (int c = 0; c < NSIM; c++) {
        struct clv_cust x;
        if (summary(&s[c], latest, &x, 7) && bgnbd_p_alive(&m, x.x, x.tx, x.T) <= 0.3)
            expect_matched++;
    }
    cr_assert_float_eq(num(doc, "matched"), (double)expect_matched, 3,
                       "P(alive) on the 0.3 line may round either way");
    json_array_foreach(rows, i, row) {
        double pa = num(row, "p_alive"), var = num(row, "value_at_risk");
        cr_assert(pa <= 0.3 + 1e-4);
        cr_assert(var <= prev + 0.01, "ranked by value at risk");
        prev = var;
        /* p_alive comes rounded to 1e-4: its error grows as 1/pa */
        if (pa > 0)
            cr_assert_float_eq(var, (1 - pa) * num(row, "clv_predicted") / pa,
                               0.02 + var * (0.01 + 1e-4 / pa));
        cr_assert(json_object_get(row, "last_contact"));
    }
    json_decref(doc);

    /* drivers: every dimension's groups add up to the customers */
    struct clv_predict_opts po = {.horizon = 52};
    cr_assert_eq(engine_churn_drivers(e, &po, &doc, &err), 0, "%s", err.msg);
    json_t *dims = json_object_get(doc, "drivers"), *d;
    size_t total = (size_t)num(doc, "customers");
    cr_assert_eq(json_array_size(dims), 4);
    json_array_foreach(dims, i, d) {
        double sum = 0;
        json_t *r2;
        size_t j;
        json_array_foreach(json_object_get(d, "rows"), j, r2) {
            sum += num(r2, "n");
            double sh = num(r2, "at_risk_share");
            cr_assert(sh >= 0 && sh <= 1);
        }
        cr_assert_eq(sum, (double)total);
    }
    json_decref(doc);

    /* p_alive and clv_predicted in the metrics engine, against the model
     * applied here to each customer's summary as of the latest day */
    double sp = 0, sv = 0;
    int np = 0, risk = 0;
    for (int c = 0; c < NSIM; c++) {
        struct clv_cust x;
        if (!summary(&s[c], latest, &x, 7))
            continue;
        double pa = bgnbd_p_alive(&m, x.x, x.tx, x.T);
        sp += pa;
        risk += pa < 0.5;
        sv += bgnbd_cond_expected(&m, 52, x.x, x.tx, x.T) * gamgam_aov(&gwant, x.x, x.mx);
        np++;
    }
    struct report_query rq = {.metric = "p_alive", .from = 0, .to = INT64_MAX};
    cr_assert_eq(engine_report(e, &rq, &doc, &err), 0, "%s", err.msg);
    json_t *row0 = json_array_get(json_object_get(doc, "rows"), 0);
    cr_assert_eq(num(row0, "n"), np);
    cr_assert_float_eq(num(row0, "value"), sp / np, 1e-5);
    cr_assert_float_eq(num(row0, "at_risk"), risk, 2);
    json_decref(doc);
    rq.metric = "clv_predicted";
    cr_assert_eq(engine_report(e, &rq, &doc, &err), 0, "%s", err.msg);
    row0 = json_array_get(json_object_get(doc, "rows"), 0);
    cr_assert_float_eq(num(row0, "total"), sv, 1e-5 * sv);
    json_decref(doc);
    /* a feedback metric by p_alive_band needs the model, which is there */
    rq = (struct report_query){.metric = "responses", .by = "p_alive_band", .from = 0,
                               .to = INT64_MAX};
    cr_assert_eq(engine_report(e, &rq, &doc, &err), 0, "%s", err.msg);
    json_decref(doc);
    rq = (struct report_query){.metric = "p_alive", .by = "week", .from = 0, .to = INT64_MAX};
    cr_assert_eq(engine_report(e, &rq, &doc, &err), CXM_EINVAL);
    engine_close(e);
    free(cc);
    free(s);
}
