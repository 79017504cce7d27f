/* Reports: engine_report against a plain recomputation in the test over
 * the same generated responses. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/tz.h"
#include "engine/engine.h"
#include "engine_fixture.h"
#include "log.h"

TestSuite(report, .init = fx_setup, .fini = fx_teardown);

static const char *const channels[] = {"web", "phone", "chat"};
static const char *const countries[] = {"US", "GB", "DE"};

/* Generated data: 300 customers, each with a country, birth year and a
 * few NPS and CSAT answers on random channels and months of 2025. */
struct answer { int cust, kind, score, channel; int64_t ts; };
static struct answer ans[3000];
static int nans;
static int cust_country[300], cust_by[300];

static void generate(struct engine *e)
{
    uint64_t x = 12345;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    json_t *arr = json_array();
    for (int c = 0; c < 300; c++) {
        cust_country[c] = (int)(RND() % 3);
        cust_by[c] = 1950 + (int)(RND() % 55);
        char email[32];
        snprintf(email, sizeof email, "c%d@x.io", c);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i}", "type", "customer",
                                             "email", email, "country",
                                             countries[cust_country[c]], "birth_year",
                                             cust_by[c]));
    }
    nans = 0;
    for (int c = 0; c < 300; c++) {
        int k = 1 + (int)(RND() % 8);
        for (int j = 0; j < k && nans < 3000; j++) {
            struct answer *a = &ans[nans++];
            a->cust = c;
            a->kind = RND() % 3 ? 1 : 2;   /* nps or csat */
            a->score = a->kind == 1 ? (int)(RND() % 11) : 1 + (int)(RND() % 5);
            a->channel = (int)(RND() % 3);
            a->ts = 1735689600 + (int64_t)(RND() % (365 * 86400));   /* 2025 */
            char email[32];
            snprintf(email, sizeof email, "c%d@x.io", c);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}",
                "type", "feedback", "email", email, "kind", a->kind == 1 ? "nps" : "csat",
                "score", a->score, "channel", channels[a->channel], "ts", (json_int_t)a->ts));
        }
    }
    fx_ingest(e, arr, 0);
    json_decref(arr);
#undef RND
}

static json_t *report(struct engine *e, const char *metric, const char *by,
                      const char *where, int64_t from, int64_t to)
{
    struct report_query q = {.metric = metric, .by = by, .where = where,
                             .from = from, .to = to};
    json_t *doc = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s", err.msg);
    return doc;
}

static json_t *find_row(json_t *doc, const char *dim, const char *val)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "rows"), i, row)
        if (!strcmp(json_string_value(json_object_get(row, dim)), val))
            return row;
    return NULL;
}

Test(report, nps_by_channel_matches_a_recount)
{
    struct engine *e = fx_open(false);
    generate(e);
    json_t *doc = report(e, "nps", "channel", NULL, 0, INT64_MAX);
    for (int ch = 0; ch < 3; ch++) {
        double n = 0, sum = 0, sumsq = 0;
        int p = 0, d = 0;
        for (int i = 0; i < nans; i++) {
            if (ans[i].kind != 1 || ans[i].channel != ch)
                continue;
            double v = ans[i].score >= 9 ? 100 : ans[i].score <= 6 ? -100 : 0;
            p += ans[i].score >= 9;
            d += ans[i].score <= 6;
            n++;
            sum += v;
            sumsq += v * v;
        }
        double mean = sum / n, var = sumsq / n - mean * mean;
        json_t *row = find_row(doc, "channel", channels[ch]);
        cr_assert(row, "no row for %s", channels[ch]);
        cr_assert_eq(json_integer_value(json_object_get(row, "n")), (json_int_t)n);
        cr_assert_eq(json_integer_value(json_object_get(row, "promoters")), p);
        cr_assert_eq(json_integer_value(json_object_get(row, "detractors")), d);
        cr_assert_float_eq(json_real_value(json_object_get(row, "value")), mean, 1e-9);
        cr_assert_float_eq(json_real_value(json_object_get(row, "margin")),
                           1.96 * sqrt(var / n), 1e-9);
    }
    json_decref(doc);
    engine_close(e);
}

Test(report, csat_with_a_filter_on_customer_attributes)
{
    struct engine *e = fx_open(false);
    generate(e);
    /* 2025: ages 20..75; 25-34 means born 1991..2000 */
    json_t *doc = report(e, "csat", "country", "country = 'US' and age_band = '25-34'",
                         0, INT64_MAX);
    int n = 0, top2 = 0;
    double sum = 0;
    for (int i = 0; i < nans; i++) {
        int c = ans[i].cust;
        int age = 2025 - cust_by[c];
        if (ans[i].kind != 2 || cust_country[c] != 0 || age < 25 || age > 34)
            continue;
        n++;
        top2 += ans[i].score >= 4;
        sum += ans[i].score;
    }
    json_t *rows = json_object_get(doc, "rows");
    cr_assert_eq(json_array_size(rows), n ? 1 : 0);
    if (n) {
        json_t *row = json_array_get(rows, 0);
        cr_assert_str_eq(json_string_value(json_object_get(row, "country")), "US");
        cr_assert_eq(json_integer_value(json_object_get(row, "n")), n);
        cr_assert_eq(json_integer_value(json_object_get(row, "satisfied")), top2);
        cr_assert_float_eq(json_real_value(json_object_get(row, "value")), 100.0 * top2 / n, 1e-9);
        cr_assert_float_eq(json_real_value(json_object_get(row, "mean")), sum / n, 1e-9);
    }
    json_decref(doc);
    engine_close(e);
}

Test(report, monthly_series_carry_changes)
{
    struct engine *e = fx_open(false);
    generate(e);
    json_t *doc = report(e, "nps", "month", "channel = 'web'", 1740787200 /* 03-01 */,
                         1748736000 /* 06-01 */);
    json_t *rows = json_object_get(doc, "rows");
    cr_assert_eq(json_array_size(rows), 3, "%s", json_dumps(doc, 0));
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "month")), "2025-03");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 2), "month")), "2025-05");
    json_t *mar = json_array_get(rows, 0), *apr = json_array_get(rows, 1);
    cr_assert(json_is_null(json_object_get(mar, "change")), "the first period has none");
    double expected = json_real_value(json_object_get(apr, "value")) -
                      json_real_value(json_object_get(mar, "value"));
    cr_assert_float_eq(json_real_value(json_object_get(apr, "change")), expected, 1e-9);
    json_decref(doc);
    /* a filter matching nothing gives no rows, not an error */
    doc = report(e, "nps", "channel", "channel = 'fax'", 0, INT64_MAX);
    cr_assert_eq(json_array_size(json_object_get(doc, "rows")), 0);
    json_decref(doc);
    engine_close(e);
}

Test(report, a_period_without_answers_is_a_row_with_n_0)
{
    struct engine *e = fx_open(false);
    json_t *arr = json_array();
    /* 2025-03-10 and 2025-05-10, nothing in April */
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i,s:s,s:I}", "type", "feedback",
        "email", "a@x.io", "kind", "nps", "score", 10, "channel", "web", "ts", (json_int_t)1741564800));
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i,s:s,s:I}", "type", "feedback",
        "email", "a@x.io", "kind", "nps", "score", 0, "channel", "web", "ts", (json_int_t)1746835200));
    fx_ingest(e, arr, 0);
    json_decref(arr);
    json_t *doc = report(e, "nps", "month", NULL, 0, INT64_MAX);
    json_t *rows = json_object_get(doc, "rows");
    cr_assert_eq(json_array_size(rows), 3);
    json_t *apr = json_array_get(rows, 1), *may = json_array_get(rows, 2);
    cr_assert_str_eq(json_string_value(json_object_get(apr, "month")), "2025-04");
    cr_assert_eq(json_integer_value(json_object_get(apr, "n")), 0);
    cr_assert(json_is_null(json_object_get(apr, "value")));
    cr_assert(json_is_null(json_object_get(apr, "margin")));
    cr_assert(json_is_null(json_object_get(may, "change")), "no change from an empty period");
    cr_assert_eq(json_real_value(json_object_get(may, "value")), -100);
    json_decref(doc);
    engine_close(e);
}

Test(report, errors_name_their_field)
{
    struct engine *e = fx_open(false);
    struct cxm_err err;
    json_t *doc = NULL;
    struct report_query q = {.metric = "happiness", .from = 0, .to = INT64_MAX};
    cr_assert_eq(engine_report(e, &q, &doc, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "metric");
    q = (struct report_query){.metric = "nps", .by = "channel,colour", .from = 0, .to = INT64_MAX};
    cr_assert_eq(engine_report(e, &q, &doc, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "by");
    cr_assert(strstr(err.msg, "colour"), "%s", err.msg);
    q = (struct report_query){.metric = "nps", .by = "month,week", .from = 0, .to = INT64_MAX};
    cr_assert_eq(engine_report(e, &q, &doc, &err), CXM_EINVAL);
    q = (struct report_query){.metric = "nps", .where = "contry = 'US'", .from = 0, .to = INT64_MAX};
    cr_assert_eq(engine_report(e, &q, &doc, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "where");
    cr_assert(strstr(err.msg, "contry"), "%s", err.msg);
    q = (struct report_query){.metric = "nps", .from = 10, .to = 10};
    cr_assert_eq(engine_report(e, &q, &doc, &err), CXM_EINVAL);
    engine_close(e);
}

Test(report, customers_by_their_rounded_csat_mean)
{
    struct engine *e = fx_open(false);
    generate(e);
    int64_t from = 1735689600 + 200 * 86400;   /* the last ~165 days of 2025 */
    json_t *doc = report(e, "customers", "csat_mean", "kind = 'csat'", from, INT64_MAX);
    /* recount: per customer, mean of CSAT answers in the period */
    int expect[6] = {0};
    for (int c = 0; c < 300; c++) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < nans; i++)
            if (ans[i].cust == c && ans[i].kind == 2 && ans[i].ts >= from) {
                sum += ans[i].score;
                n++;
            }
        if (n)
            expect[(int)round(sum / n)]++;
    }
    int total = 0;
    for (int m = 1; m <= 5; m++) {
        char label[2] = {(char)('0' + m), 0};
        json_t *row = find_row(doc, "csat_mean", label);
        json_int_t got = row ? json_integer_value(json_object_get(row, "value")) : 0;
        cr_assert_eq(got, expect[m], "mean %d: %lld vs %d", m, (long long)got, expect[m]);
        total += expect[m];
    }
    cr_assert_gt(total, 0);
    json_decref(doc);
    /* customers without a dimension: each counted once however often they answered */
    doc = report(e, "customers", NULL, NULL, 0, INT64_MAX);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(doc, "rows"), 0),
                                                    "value")), 300);
    json_decref(doc);
    engine_close(e);
}

Test(report, one_customers_nps)
{
    struct engine *e = fx_open(false);
    generate(e);
    for (uint32_t c = 1; c <= 300; c += 37) {
        struct report_query q = {.metric = "nps", .from = 0, .to = INT64_MAX, .customer = c};
        json_t *doc = NULL;
        struct cxm_err err;
        cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s", err.msg);
        int n = 0, p = 0, d = 0;
        for (int i = 0; i < nans; i++)
            if (ans[i].cust == (int)c - 1 && ans[i].kind == 1) {
                n++;
                p += ans[i].score >= 9;
                d += ans[i].score <= 6;
            }
        json_t *row = json_array_get(json_object_get(doc, "rows"), 0);
        if (!n) {
            cr_assert_null(row);
        } else {
            cr_assert_eq(json_integer_value(json_object_get(row, "n")), n);
            cr_assert_float_eq(json_real_value(json_object_get(row, "value")),
                               100.0 * (p - d) / n, 1e-9);
        }
        json_decref(doc);
    }
    struct report_query q = {.metric = "nps", .from = 0, .to = INT64_MAX, .customer = 9999};
    json_t *doc = NULL;
    struct cxm_err err;
    cr_assert_eq(engine_report(e, &q, &doc, &err), CXM_ENOTFOUND);
    engine_close(e);
}

/* Orders and visits placed by hand: the expected figures are counted in
 * the comments, not computed by the engine's formulas. */
static void shop(struct engine *e)
{
    /* months of 2025 as unix seconds at the 10th */
    static const int64_t m[] = {0, 1736467200, 1739145600, 1741564800, 1744243200,
                                1746835200, 1749513600};
    struct { const char *who; int month; double amount; bool order; } a[] = {
        /* ann: orders in Jan, Feb, Mar (twice) */
        {"ann", 1, 10, true}, {"ann", 2, 20, true}, {"ann", 3, 30, true}, {"ann", 3, 5, true},
        /* bob: order in Jan, a visit in Mar (active, not a buyer) */
        {"bob", 1, 100, true}, {"bob", 3, 0, false},
        /* cat: orders in Feb and Mar */
        {"cat", 2, 40, true}, {"cat", 3, 60, true},
        /* dan: one order in Mar */
        {"dan", 3, 7, true},
    };
    json_t *arr = json_array();
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        char email[32], oid[32];
        snprintf(email, sizeof email, "%s@x.io", a[i].who);
        snprintf(oid, sizeof oid, "o%zu", i);
        if (a[i].order)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:f,s:I}", "type", "order",
                "email", email, "order_id", oid, "amount", a[i].amount, "ts", (json_int_t)m[a[i].month]));
        else
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I}", "type", "interaction",
                "email", email, "channel", "web", "ts", (json_int_t)m[a[i].month]));
    }
    /* ann's latest NPS: detractor; cat: promoter */
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i,s:I}", "type", "feedback", "email",
                                         "ann@x.io", "kind", "nps", "score", 3, "ts", (json_int_t)m[3]));
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i,s:I}", "type", "feedback", "email",
                                         "cat@x.io", "kind", "nps", "score", 10, "ts", (json_int_t)m[3]));
    fx_ingest(e, arr, 0);
    json_decref(arr);
}

static json_t *row_at(json_t *doc, size_t i)
{
    return json_array_get(json_object_get(doc, "rows"), i);
}

Test(report, retention_churn_repeat_clv_and_cohorts_on_a_known_shop)
{
    struct engine *e = fx_open(false);
    shop(e);
    /* active: Jan {ann,bob}; Feb {ann,cat}; Mar {ann,bob,cat,dan}.
     * Jan->Feb kept ann: 1 of 2; Feb->Mar kept ann, cat: 2 of 2; Mar is the
     * last month of the data: unknown. */
    json_t *doc = report(e, "retention", NULL, NULL, 0, INT64_MAX);
    cr_assert_eq(json_array_size(json_object_get(doc, "rows")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(row_at(doc, 0), "month")), "2025-01");
    cr_assert_eq(json_integer_value(json_object_get(row_at(doc, 0), "active")), 2);
    cr_assert_float_eq(json_real_value(json_object_get(row_at(doc, 0), "value")), 50, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(row_at(doc, 1), "value")), 100, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(row_at(doc, 2), "active")), 4);
    cr_assert(json_is_null(json_object_get(row_at(doc, 2), "value")), "the last month is open");
    json_decref(doc);
    doc = report(e, "churn", NULL, NULL, 0, INT64_MAX);
    cr_assert_float_eq(json_real_value(json_object_get(row_at(doc, 0), "value")), 50, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(row_at(doc, 1), "value")), 0, 1e-9);
    json_decref(doc);
    /* buyers ann(4 orders), bob(1), cat(2), dan(1): repeat 2 of 4 */
    doc = report(e, "repeat_purchase_rate", NULL, NULL, 0, INT64_MAX);
    cr_assert_eq(json_integer_value(json_object_get(row_at(doc, 0), "buyers")), 4);
    cr_assert_eq(json_integer_value(json_object_get(row_at(doc, 0), "repeat_buyers")), 2);
    cr_assert_float_eq(json_real_value(json_object_get(row_at(doc, 0), "value")), 50, 1e-9);
    json_decref(doc);
    /* revenue per buyer: 65, 100, 100, 7 -> mean 68 */
    doc = report(e, "clv_historic", NULL, NULL, 0, INT64_MAX);
    cr_assert_float_eq(json_real_value(json_object_get(row_at(doc, 0), "value")), 68, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(row_at(doc, 0), "revenue")), 272, 1e-9);
    json_decref(doc);
    /* cohorts: Jan {ann,bob}: month 1 ann (1 of 2 = 50%), month 2 ann
     * (50%); Feb {cat}: month 1 cat (100%); Mar {dan}. */
    doc = report(e, "cohort", NULL, NULL, 0, INT64_MAX);
    json_t *rows = json_object_get(doc, "rows");
    cr_assert_eq(json_array_size(rows), 6, "%s", json_dumps(doc, 0));
    cr_assert_str_eq(json_string_value(json_object_get(row_at(doc, 1), "cohort")), "2025-01");
    cr_assert_eq(json_integer_value(json_object_get(row_at(doc, 1), "months_since")), 1);
    cr_assert_float_eq(json_real_value(json_object_get(row_at(doc, 1), "value")), 50, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(row_at(doc, 4), "months_since")), 1);
    cr_assert_float_eq(json_real_value(json_object_get(row_at(doc, 4), "value")), 100, 1e-9);
    json_decref(doc);
    /* by loyalty: detractor ann 65 revenue (at risk), promoter cat 100,
     * no NPS bob and dan 107 over 2 */
    doc = report(e, "revenue_by_loyalty", NULL, NULL, 0, INT64_MAX);
    json_t *p = find_row(doc, "nps_category", "promoter"), *d = find_row(doc, "nps_category", "detractor");
    cr_assert(p && d);
    cr_assert_float_eq(json_real_value(json_object_get(p, "revenue")), 100, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(d, "revenue_at_risk")), 65, 1e-9);
    cr_assert(json_is_null(json_object_get(p, "revenue_at_risk")));
    cr_assert_float_eq(json_real_value(json_object_get(d, "orders_per_customer")), 4, 1e-9);
    json_t *none = row_at(doc, 2);
    cr_assert(json_is_null(json_object_get(none, "nps_category")), "no category comes last");
    cr_assert_eq(json_integer_value(json_object_get(none, "customers")), 2);
    json_decref(doc);
    engine_close(e);
}

static void add_fb(json_t *arr, const char *who, const char *kind, int score,
                   const char *channel, int64_t ts)
{
    char email[32];
    snprintf(email, sizeof email, "%s@x.io", who);
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i,s:s,s:I}", "type", "feedback",
                                         "email", email, "kind", kind, "score", score,
                                         "channel", channel, "ts", (json_int_t)ts));
}

Test(report, consistency_compares_channels_for_the_same_customers)
{
    struct engine *e = fx_open(false);
    json_t *arr = json_array();
    int64_t t = 1735689600;
    add_fb(arr, "a", "csat", 5, "web", t);      /* 1.0 */
    add_fb(arr, "a", "csat", 1, "phone", t);    /* 0.0 */
    add_fb(arr, "b", "csat", 4, "web", t);      /* 0.75 */
    add_fb(arr, "b", "csat", 3, "phone", t);    /* 0.5 */
    add_fb(arr, "c", "csat", 1, "web", t);      /* one channel only: left out */
    fx_ingest(e, arr, 0);
    json_decref(arr);
    /* web 0.875 (n 2), phone 0.25 (n 2): mean 0.5625, spread 0.3125 */
    json_t *doc = report(e, "consistency", NULL, NULL, 0, INT64_MAX);
    json_t *row = row_at(doc, 0);
    cr_assert_float_eq(json_real_value(json_object_get(row, "value")), 31.25, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(row, "customers")), 2);
    cr_assert_eq(json_integer_value(json_object_get(row, "n")), 4);
    cr_assert_str_eq(json_string_value(json_object_get(row, "lowest_channel")), "phone");
    cr_assert_float_eq(json_real_value(json_object_get(row, "lowest_gap")), 31.25, 1e-9);
    json_decref(doc);
    struct report_query q = {.metric = "consistency", .by = "channel", .from = 0, .to = INT64_MAX};
    struct cxm_err err;
    cr_assert_eq(engine_report(e, &q, &doc, &err), CXM_EINVAL);
    engine_close(e);
}

Test(report, journey_and_touchpoint_satisfaction_and_their_auc)
{
    struct engine *e = fx_open(false);
    json_t *arr = json_array();
    const int64_t d = 86400, t = 1735689600;
    add_fb(arr, "x", "csat", 5, "web", t);            /* episode 1: 1.0 */
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I}", "type", "interaction", "email",
                                         "x@x.io", "channel", "web", "ts", (json_int_t)(t + 10 * d)));
    add_fb(arr, "x", "nps", 6, "web", t + 20 * d);     /* episode 1: 0.6 */
    add_fb(arr, "x", "csat", 1, "web", t + 60 * d);    /* 40 days later: episode 2: 0.0 */
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:f,s:I}", "type", "order", "email",
                                         "x@x.io", "order_id", "o1", "amount", 10.0, "ts",
                                         (json_int_t)(t + 70 * d)));
    add_fb(arr, "y", "csat", 5, "web", t);             /* 1.0, never buys */
    /* data goes on long enough to see every 90-day window */
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I}", "type", "interaction", "email",
                                         "z@x.io", "channel", "web", "ts", (json_int_t)(t + 300 * d)));
    fx_ingest(e, arr, 0);
    json_decref(arr);
    json_t *doc = report(e, "journey_satisfaction", NULL, NULL, 0, INT64_MAX);
    json_t *row = row_at(doc, 0);
    /* episodes 0.8, 0.0, 1.0 -> 60; answers 1.0, 0.6, 0.0, 1.0 -> 65 */
    cr_assert_eq(json_integer_value(json_object_get(row, "n")), 3);
    cr_assert_float_eq(json_real_value(json_object_get(row, "value")), 60, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(row, "touchpoint_satisfaction")), 65, 1e-9);
    /* journeys: bought after 0.8 and 0.0, not after 1.0: AUC 0 */
    cr_assert_float_eq(json_real_value(json_object_get(row, "auc_journey")), 0, 1e-9);
    /* answers: bought after 1.0, 0.6, 0.0 (x), not after 1.0 (y): 0.5/3 */
    cr_assert_float_eq(json_real_value(json_object_get(row, "auc_touchpoint")), 0.5 / 3, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(row, "auc_touchpoint_n")), 4);
    json_decref(doc);
    engine_close(e);
}

Test(report, months_begin_in_the_time_zone_asked_for)
{
    struct engine *e = fx_open(false);
    json_t *arr = json_array();
    add_fb(arr, "a", "nps", 10, "web", 1738366200);   /* 2025-01-31T23:30:00Z */
    add_fb(arr, "a", "nps", 0, "web", 1738368000);    /* 2025-02-01T00:00:00Z */
    fx_ingest(e, arr, 0);
    json_decref(arr);
    struct report_query q = {.metric = "nps", .by = "month", .from = 0, .to = INT64_MAX};
    json_t *doc;
    struct cxm_err err;
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "rows")), 2, "UTC: January and February");
    json_decref(doc);
    struct tz *zone;
    cr_assert_eq(report_parse_tz("+02:00", &zone, &err), 0);
    int64_t off;
    cr_assert(tz_is_fixed(zone, &off));
    cr_assert_eq(off, 7200);
    q.tz = zone;
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0);
    json_t *rows = json_object_get(doc, "rows");
    cr_assert_eq(json_array_size(rows), 1, "+02:00: both in February");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(rows, 0), "month")), "2025-02");
    json_decref(doc);
    /* a date bound is midnight in the zone: 2025-02-01 +02:00 is 01-31T22:00Z */
    cr_assert_eq(report_parse_bound("2025-02-01", false, q.tz, &q.from, &err), 0);
    cr_assert_eq(q.from, 1738368000 - 7200);
    cr_assert_eq(report_parse_bound("2025-01-31", true, q.tz, &q.to, &err), 0);
    cr_assert_eq(q.to, 1738368000 - 7200);
    tz_free(zone);
    struct tz *bad;
    cr_assert_eq(report_parse_tz("Mars/Olympus", &bad, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "tz");
    cr_assert_eq(report_parse_tz("../etc/passwd", &bad, &err), CXM_EINVAL);
    engine_close(e);
}

Test(report, days_follow_daylight_saving_time_in_a_named_zone)
{
    struct engine *e = fx_open(false);
    json_t *arr = json_array();
    /* Paris moves to CEST on Sunday 2026-03-29 at 01:00Z: that day is 23 hours */
    add_fb(arr, "a", "nps", 10, "web", 1774732200);   /* 03-28 21:10Z = 22:10 CET, 28th */
    add_fb(arr, "b", "nps", 0, "web", 1774739400);    /* 03-28 23:10Z = 00:10 CET, 29th */
    add_fb(arr, "c", "nps", 10, "web", 1774820400);   /* 03-29 21:40Z = 23:40 CEST, 29th */
    add_fb(arr, "d", "nps", 10, "web", 1774822200);   /* 03-29 22:10Z = 00:10 CEST, 30th */
    /* and back on 2026-10-25 at 01:00Z: 25 hours */
    add_fb(arr, "e", "nps", 0, "web", 1792879800);    /* 10-24 22:10Z = 00:10 CEST, 25th */
    add_fb(arr, "f", "nps", 0, "web", 1792969800);    /* 10-25 23:10Z = 00:10 CET, 26th */
    fx_ingest(e, arr, 0);
    json_decref(arr);
    struct tz *paris;
    struct cxm_err err;
    cr_assert_eq(report_parse_tz("Europe/Paris", &paris, &err), 0, "%s", err.msg);
    struct report_query q = {.metric = "nps", .by = "day", .tz = paris};
    /* the whole of March 2026 in Paris: from its local midnight */
    cr_assert_eq(report_parse_bound("2026-03-28", false, paris, &q.from, &err), 0);
    cr_assert_eq(q.from, 1774652400);                 /* 03-27 23:00Z */
    cr_assert_eq(report_parse_bound("2026-10-26", true, paris, &q.to, &err), 0);
    cr_assert_eq(q.to, 1793055600);                   /* 10-26 23:00Z: 10-27 00:00 CET */
    json_t *doc;
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s", err.msg);
    json_t *rows = json_object_get(doc, "rows");
    static const struct { const char *day; long long n; } want[] = {
        {"2026-03-28", 1}, {"2026-03-29", 2}, {"2026-03-30", 1}, {"2026-10-25", 1},
        {"2026-10-26", 1}};
    size_t i, found = 0;
    json_t *row;
    json_array_foreach(rows, i, row) {
        long long n = json_integer_value(json_object_get(row, "n"));
        if (!n)
            continue;
        const char *day = json_string_value(json_object_get(row, "day"));
        cr_assert_lt(found, 5, "extra day %s", day);
        cr_assert_str_eq(day, want[found].day);
        cr_assert_eq(n, want[found].n, "%s", day);
        found++;
    }
    cr_assert_eq(found, 5);
    json_decref(doc);
    /* weeks start on Monday 00:00 Paris time too */
    q.by = "week";
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s", err.msg);
    rows = json_object_get(doc, "rows");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(rows, 0), "n")), 3,
                 "the week of 03-23: 28th and 29th");
    json_decref(doc);
    tz_free(paris);
    engine_close(e);
}

Test(report, benchmarks_are_stored_replaced_and_compared)
{
    struct engine *e = fx_open(false);
    json_t *arr = json_array();
    add_fb(arr, "a", "nps", 10, "web", 1740787200);   /* 2025-03 */
    add_fb(arr, "b", "nps", 0, "web", 1740787200);
    add_fb(arr, "c", "nps", 9, "web", 1740787200);
    add_fb(arr, "d", "nps", 9, "web", 1767225600);    /* 2026-01: outside 2025 */
    fx_ingest(e, arr, 0);
    json_decref(arr);
    struct store_benchmark b[] = {
        {.name = "Retail", .metric = "nps", .period = "2025", .segment = "", .value = 20},
        {.name = "Retail", .metric = "nps", .period = "2025", .segment = "", .value = 25},
        {.name = "Rival", .metric = "nps", .period = "2025-Q1", .segment = "web", .value = 40},
        {.name = "Retail", .metric = "csat", .period = "", .segment = "", .value = 80},
    };
    struct cxm_err err;
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(benchmark_check(&b[i], &err), 0, "%s", err.msg);
    struct store_benchmark bad = {.name = "x", .metric = "nps", .period = "2025-13", .value = 1};
    cr_assert_eq(benchmark_check(&bad, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "period");
    bad = (struct store_benchmark){.name = "x", .metric = "joy", .period = "2025", .value = 1};
    cr_assert_eq(benchmark_check(&bad, &err), CXM_EINVAL);
    struct engine_work w = {.op = ENGINE_BENCHMARKS, .bench = b, .n = 4};
    cr_assert_eq(engine_run(e, &w), 0, "%s", w.err.msg);
    engine_close(e);
    e = fx_open(false);   /* they survive a restart */
    json_t *doc = NULL;
    cr_assert_eq(engine_benchmarks_compare(e, "nps", &doc, &err), 0, "%s", err.msg);
    json_t *rows = json_object_get(doc, "rows");
    cr_assert_eq(json_array_size(rows), 2, "the second Retail 2025 replaced the first");
    json_t *retail = find_row(doc, "name", "Retail"), *rival = find_row(doc, "name", "Rival");
    cr_assert_float_eq(json_real_value(json_object_get(retail, "value")), 25, 1e-9);
    /* ours in 2025: 2 promoters, 1 detractor of 3 = 33.33; in 2025-Q1 the same */
    cr_assert_float_eq(json_real_value(json_object_get(retail, "ours")), 100.0 / 3, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(retail, "gap")), 100.0 / 3 - 25, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(retail, "ours_n")), 3);
    cr_assert_float_eq(json_real_value(json_object_get(rival, "gap")), 100.0 / 3 - 40, 1e-9);
    cr_assert_str_eq(json_string_value(json_object_get(rival, "segment")), "web");
    json_decref(doc);
    cr_assert_eq(engine_benchmarks_compare(e, "csat", &doc, &err), 0);
    json_t *row = json_array_get(json_object_get(doc, "rows"), 0);
    cr_assert(json_is_null(json_object_get(row, "ours")), "no CSAT answers: no value");
    json_decref(doc);
    engine_close(e);
}

Test(report, periods_over_blocks_of_rows_in_any_time_order)
{
    struct engine *e = fx_open(false);
    json_t *arr = json_array();
    uint64_t x = 777;
    int n = 0, p = 0, d = 0;
    const int64_t from = 1740787200, to = 1743465600;   /* March 2025 */
    /* the first 8192 rows (two blocks: January-June, July-December) in
     * time order, so the July-December block is skipped; then rows at
     * random times */
    for (int i = 0; i < 12000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int64_t ts = i < 8192 ? 1735689600 + (int64_t)i * 3849 : 1735689600 + (int64_t)(x % 31536000);
        int score = (int)((x >> 20) % 11);
        char who[16];
        snprintf(who, sizeof who, "p%d", i % 50);
        add_fb(arr, who, "nps", score, "web", ts);
        if (ts >= from && ts < to) {
            n++;
            p += score >= 9;
            d += score <= 6;
        }
    }
    fx_ingest(e, arr, 0);
    json_decref(arr);
    json_t *doc = report(e, "nps", NULL, NULL, from, to);
    json_t *row = row_at(doc, 0);
    cr_assert_eq(json_integer_value(json_object_get(row, "n")), n);
    cr_assert_eq(json_integer_value(json_object_get(row, "promoters")), p);
    cr_assert_eq(json_integer_value(json_object_get(row, "detractors")), d);
    json_decref(doc);
    doc = report(e, "nps", "channel", NULL, from, to);   /* the dense path */
    cr_assert_eq(json_integer_value(json_object_get(row_at(doc, 0), "n")), n);
    json_decref(doc);
    engine_close(e);
}

Test(report, a_customer_without_answers_has_no_rows_not_everyones)
{
    struct engine *e = fx_open(false);
    json_t *arr = json_array();
    add_fb(arr, "a", "nps", 10, "web", 1735689600);
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "type", "interaction", "email",
                                         "quiet@x.io", "channel", "web"));
    add_fb(arr, "b", "nps", 0, "web", 1735689600);
    fx_ingest(e, arr, 0);
    json_decref(arr);
    static const char *const by[] = {NULL, "channel", "nps_category", "csat_mean"};
    for (size_t k = 0; k < 4; k++) {
        struct report_query q = {.metric = "nps", .by = by[k], .from = 0, .to = INT64_MAX,
                                 .customer = 2};
        json_t *doc = NULL;
        struct cxm_err err;
        cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s", err.msg);
        cr_assert_eq(json_array_size(json_object_get(doc, "rows")), 0, "by %s: %s",
                     by[k] ? by[k] : "-", json_dumps(doc, 0));
        json_decref(doc);
    }
    engine_close(e);
}
