/* Reports on the fast path (engine/report.c: feedback metrics by row
 * dimensions, customers by csat_mean, with a filter on row fields and on
 * the profile's country, city, gender, birth year, age and age band)
 * against the rows' path (report_query.rows): the very same documents for
 * many shapes of query over generated customers and answers, including
 * customers without a birth year, answers on both sides of New Year (age
 * bands change there), answers arriving late into old blocks after the
 * first reports, merges (a merged customer's answers count for the root,
 * with the root's attributes), filters that match nothing, and zones with
 * a fixed offset or daylight-saving time. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"
#include "engine/engine.h"
#include "engine_fixture.h"

#define NCUST 400

static const char *const countries[] = {"US", "GB", "DE", NULL};
static const char *const cities[] = {"Paris", "Austin", NULL};
static const char *const genders[] = {"female", "male", NULL};
static const char *const channels[] = {"web", "phone", "chat", "store"};
static const char *const touchpoints[] = {"checkout", "delivery", "returns", "ivr"};
static const char *const stages[] = {"purchase", "support", "onboarding"};
static const char *const kinds[] = {"nps", "csat", "ces", "rating", "text"};

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Customer c's identity: an email for most, a phone for the last 100 (so
 * that an identify record naming both merges two customers). */
static void identity(json_t *o, int c)
{
    char id[40];
    if (c < NCUST - 100) {
        snprintf(id, sizeof id, "c%d@x.io", c);
        json_object_set_new(o, "email", json_string(id));
    } else {
        snprintf(id, sizeof id, "+1555000%04d", c);
        json_object_set_new(o, "phone", json_string(id));
    }
}

/* Customer records: attributes some customers lack (one in eight has no
 * birth year); with again, a second record for some of them that changes
 * their country and birth year (the latest counts). */
static json_t *customers(uint64_t seed, bool again)
{
    uint64_t x = seed;
    json_t *arr = json_array();
    for (int c = 0; c < NCUST; c++) {
        if (again && rnd(&x) % 5)
            continue;
        json_t *o = json_pack("{s:s}", "type", "customer");
        identity(o, c);
        const char *country = countries[rnd(&x) % 4];
        const char *city = cities[rnd(&x) % 3];
        const char *gender = genders[rnd(&x) % 3];
        if (country)
            json_object_set_new(o, "country", json_string(country));
        if (city)
            json_object_set_new(o, "city", json_string(city));
        if (gender)
            json_object_set_new(o, "gender", json_string(gender));
        if (rnd(&x) % 8)   /* ages around the band edges: 17-70 in 2024 */
            json_object_set_new(o, "birth_year", json_integer(1954 + (int)(rnd(&x) % 54)));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* n answers over 2023-2026, one in four within two days of a New Year,
 * with random kinds, scores and dimensions (some missing). */
static json_t *answers(int n, uint64_t seed, int first)
{
    static const int64_t new_years[] = {1704067200, 1735689600, 1767225600};   /* 2024-26 */
    uint64_t x = seed;
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "f%d", first + i);
        const char *kind = kinds[rnd(&x) % 5];
        int64_t ts = rnd(&x) % 4 == 0
                         ? new_years[rnd(&x) % 3] - 2 * 86400 + (int64_t)(rnd(&x) % (4 * 86400))
                         : 1685577600 + (int64_t)(rnd(&x) % (1095 * 86400));   /* 2023-06 on */
        json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "type", "feedback", "event_id", id,
                              "kind", kind, "ts", (json_int_t)ts);
        identity(o, (int)(rnd(&x) % NCUST));
        int score = !strcmp(kind, "nps") || !strcmp(kind, "rating") ? (int)(rnd(&x) % 11)
                    : !strcmp(kind, "csat") ? 1 + (int)(rnd(&x) % 5)
                    : !strcmp(kind, "ces") ? 1 + (int)(rnd(&x) % 7) : -1;
        if (score >= 0)
            json_object_set_new(o, "score", json_integer(score));
        else
            json_object_set_new(o, "comment", json_string("late again"));
        if (rnd(&x) % 8)
            json_object_set_new(o, "channel", json_string(channels[rnd(&x) % 4]));
        if (rnd(&x) % 6)
            json_object_set_new(o, "touchpoint", json_string(touchpoints[rnd(&x) % 4]));
        if (rnd(&x) % 5)
            json_object_set_new(o, "stage", json_string(stages[rnd(&x) % 3]));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Identify records merging customer a into b's profile or the reverse
 * (the engine keeps the older root), for k pairs from first. */
static json_t *merges(int first, int k)
{
    json_t *arr = json_array();
    for (int i = first; i < first + k; i++) {
        json_t *o = json_pack("{s:s}", "type", "identify");
        identity(o, i);                    /* an email */
        identity(o, NCUST - 100 + i);      /* a phone */
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *report(struct engine *e, const struct report_query *q)
{
    json_t *doc = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(engine_report(e, q, &doc, &err), 0, "%s by %s where %s: %s", q->metric,
                 q->by ? q->by : "-", q->where ? q->where : "-", err.msg);
    return doc;
}

/* Every shape on both paths; returns the number of non-empty answers. */
static size_t compare_all(struct engine *e, const struct tz *zone)
{
    static const char *const metrics[] = {"nps", "csat", "ces", "responses"};
    static const char *const bys[] = {NULL, "touchpoint", "touchpoint,stage", "channel,month",
                                      "kind", "stage,year", "kind,channel,day"};
    static const char *const wheres[] = {
        NULL,
        "country = 'US' and age_band = '25-34'",
        "age_band in ('18-24', '65+') or gender = 'female'",
        "not age_band = '35-44' and channel != 'web'",
        "age >= 40 and age < 50 and touchpoint in ('checkout', 'ivr')",
        "birth_year between 1980 and 1990 or city = 'Paris'",
        "kind = 'csat' and stage = 'support'",
        "country = 'FR'",                       /* no such country: nothing */
        "country = 'US' and country = 'GB'",    /* nothing */
        "age_band != '25-34'",
        "not (country = 'DE') and not (age > 30)",
    };
    static const int64_t periods[][2] = {
        {0, INT64_MAX},
        {1704067200, 1735689600},               /* 2024 */
        {1735600000, 1735780000},               /* around New Year 2025 */
        {1790000000, INT64_MAX},                /* after the data */
    };
    size_t nonempty = 0;
    for (size_t mi = 0; mi < sizeof metrics / sizeof metrics[0]; mi++)
        for (size_t bi = 0; bi < sizeof bys / sizeof bys[0]; bi++)
            for (size_t wi = 0; wi < sizeof wheres / sizeof wheres[0]; wi++)
                for (size_t pi = 0; pi < sizeof periods / sizeof periods[0]; pi++) {
                    struct report_query q = {.metric = metrics[mi], .by = bys[bi],
                                             .where = wheres[wi], .from = periods[pi][0],
                                             .to = periods[pi][1], .tz = zone};
                    json_t *a = report(e, &q);
                    q.rows = true;
                    json_t *b = report(e, &q);
                    if (!json_equal(a, b)) {
                        char *sa = json_dumps(a, JSON_SORT_KEYS);
                        char *sb = json_dumps(b, JSON_SORT_KEYS);
                        cr_assert(false, "%s by %s where %s, period %zu:\nfast %.700s\nrows %.700s",
                                  q.metric, q.by ? q.by : "-", q.where ? q.where : "-", pi,
                                  sa, sb);
                        free(sa);
                        free(sb);
                    }
                    nonempty += json_array_size(json_object_get(a, "rows")) > 0;
                    json_decref(a);
                    json_decref(b);
                }
    /* customers by csat_mean */
    static const char *const cwheres[] = {NULL, "kind = 'csat'", "country = 'US'",
                                          "age_band = '25-34' and kind = 'csat'",
                                          "channel = 'nowhere'"};
    for (size_t wi = 0; wi < sizeof cwheres / sizeof cwheres[0]; wi++)
        for (size_t pi = 0; pi < sizeof periods / sizeof periods[0]; pi++) {
            struct report_query q = {.metric = "customers", .by = "csat_mean",
                                     .where = cwheres[wi], .from = periods[pi][0],
                                     .to = periods[pi][1], .tz = zone};
            json_t *a = report(e, &q);
            q.rows = true;
            json_t *b = report(e, &q);
            if (!json_equal(a, b)) {
                char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);
                cr_assert(false, "customers by csat_mean where %s, period %zu:\nfast %.700s\n"
                          "rows %.700s", q.where ? q.where : "-", pi, sa, sb);
                free(sa);
                free(sb);
            }
            nonempty += json_array_size(json_object_get(a, "rows")) > 0;
            json_decref(a);
            json_decref(b);
        }
    return nonempty;
}

Test(report_fast, answers_equal_the_rows_as_data_arrives, .init = fx_setup,
     .fini = fx_teardown, .timeout = 300)
{
    struct engine *e = fx_open(true);
    json_t *a = customers(0x51ed27a3c1b9e4f7ull, false);
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    a = answers(3000, 0x9e3779b97f4a7c15ull, 0);
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    size_t n0 = compare_all(e, NULL);
    cr_assert(n0 > 200, "most shapes have rows (%zu)", n0);
    /* late answers into old blocks, changed attributes, then merges */
    a = answers(1500, 0x2545f4914f6cdd1dull, 3000);
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    a = customers(0x0123456789abcdefull, true);
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    compare_all(e, NULL);
    a = merges(0, 40);
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    struct engine_stats st;
    engine_stats(e, &st);
    cr_assert_eq(st.merges, 40);
    compare_all(e, NULL);
    /* a fixed offset takes the fast path with periods in that zone; a
     * zone with daylight-saving time takes it without periods */
    struct tz *zone;
    struct cxm_err err;
    cr_assert_eq(report_parse_tz("-05:00", &zone, &err), 0);
    compare_all(e, zone);
    tz_free(zone);
    if (report_parse_tz("Europe/Paris", &zone, &err) == 0) {
        compare_all(e, zone);
        tz_free(zone);
    }
    engine_close(e);
}

Test(report_fast, q2_by_hand, .init = fx_setup, .fini = fx_teardown)
{
    /* csat by touchpoint where country = 'US' and age_band = '25-34': born
     * 1990, the customer is 34 on 2024-12-31 and 35 on 2025-01-01; one
     * without a birth year never matches */
    struct engine *e = fx_open(true);
    json_t *arr = json_pack(
        "[{s:s, s:s, s:s, s:i}, {s:s, s:s, s:s},"
        " {s:s, s:s, s:s, s:i, s:s, s:I}, {s:s, s:s, s:s, s:i, s:s, s:I},"
        " {s:s, s:s, s:s, s:i, s:s, s:I}]",
        "type", "customer", "email", "a@x.io", "country", "US", "birth_year", 1990,
        "type", "customer", "email", "b@x.io", "country", "US",
        "type", "feedback", "email", "a@x.io", "kind", "csat", "score", 5,
        "touchpoint", "checkout", "ts", (json_int_t)1735689599,   /* 2024-12-31T23:59:59Z */
        "type", "feedback", "email", "a@x.io", "kind", "csat", "score", 1,
        "touchpoint", "checkout", "ts", (json_int_t)1735689600,   /* 2025-01-01 */
        "type", "feedback", "email", "b@x.io", "kind", "csat", "score", 2,
        "touchpoint", "checkout", "ts", (json_int_t)1735689599);
    fx_ingest(e, arr, 0);
    json_decref(arr);
    struct report_query q = {.metric = "csat", .by = "touchpoint",
                             .where = "country = 'US' and age_band = '25-34'",
                             .to = INT64_MAX};
    json_t *doc = report(e, &q);
    json_t *rows = json_object_get(doc, "rows");
    cr_assert_eq(json_array_size(rows), 1);
    json_t *row = json_array_get(rows, 0);
    cr_assert_str_eq(json_string_value(json_object_get(row, "touchpoint")), "checkout");
    cr_assert_eq(json_integer_value(json_object_get(row, "n")), 1, "only the 2024 answer");
    cr_assert_eq(json_integer_value(json_object_get(row, "satisfied")), 1);
    json_decref(doc);
    engine_close(e);
}

Test(report_fast, customers_by_csat_mean_past_the_packed_sums, .init = fx_setup,
     .fini = fx_teardown, .timeout = 60)
{
    /* one profile with more CSAT answers than the packed 32-bit sums hold
     * (4,094): the double sums take over, with the same answer */
    struct engine *e = fx_open(true);
    json_t *arr = json_array();
    for (int i = 0; i < 6000; i++) {   /* heavy: 4,628 CSAT answers */
        char who[32];
        snprintf(who, sizeof who, "%s@x.io", i % 10 ? "heavy" : i % 20 ? "b" : "c");
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:I}", "type", "feedback",
                                             "email", who, "kind", i % 7 ? "csat" : "nps",
                                             "score", i % 7 ? 1 + i % 5 : i % 11,
                                             "ts", (json_int_t)(1735689600 + i * 600)));
    }
    fx_ingest(e, arr, 0);
    json_decref(arr);
    static const char *const wheres[] = {NULL, "kind = 'csat'"};
    for (int w = 0; w < 2; w++) {
        struct report_query q = {.metric = "customers", .by = "csat_mean",
                                 .where = wheres[w], .to = INT64_MAX};
        json_t *a = report(e, &q);
        q.rows = true;
        json_t *b = report(e, &q);
        cr_assert(json_equal(a, b), "where %s", wheres[w] ? wheres[w] : "-");
        cr_assert(json_array_size(json_object_get(a, "rows")) > 0);
        json_decref(a);
        json_decref(b);
    }
    engine_close(e);
}

/* Reports that run at once share the cache of customer classes (one entry,
 * replaced when the customer fields differ): each must get the answer it
 * gets alone, whichever report built or replaced the entry it reads. */
struct reader {
    struct engine *e;
    int first;                /* which query it starts with */
    json_t *const *want;      /* [3] */
    int wrong;
};

static const char *const shared_wheres[3] = {
    "country = 'US' and age_band = '25-34'",
    "gender = 'female' or city = 'Paris'",
    "not (country = 'DE') and not (age > 30)",   /* the classes of the first */
};

static void *reader_run(void *arg)
{
    struct reader *rd = arg;
    for (int k = 0; k < 60; k++) {
        int w = (rd->first + k) % 3;
        struct report_query q = {.metric = "csat", .by = "touchpoint",
                                 .where = shared_wheres[w], .to = INT64_MAX};
        json_t *doc = NULL;
        struct cxm_err err;
        cxm_err_clear(&err);
        if (engine_report(rd->e, &q, &doc, &err) ||
            !json_equal(json_object_get(doc, "rows"), json_object_get(rd->want[w], "rows")))
            rd->wrong++;
        json_decref(doc);
    }
    return NULL;
}

Test(report_fast, concurrent_reports_share_the_class_cache, .init = fx_setup,
     .fini = fx_teardown, .timeout = 120)
{
    struct engine *e = fx_open(true);
    json_t *a = customers(0x51ed27a3c1b9e4f7ull, false);
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    a = answers(6000, 0x9e3779b97f4a7c15ull, 0);
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    json_t *want[3];
    for (int w = 0; w < 3; w++) {
        struct report_query q = {.metric = "csat", .by = "touchpoint",
                                 .where = shared_wheres[w], .to = INT64_MAX, .rows = true};
        want[w] = report(e, &q);
        cr_assert(json_array_size(json_object_get(want[w], "rows")) > 0);
    }
    struct reader rd[3];
    pthread_t t[3];
    for (int k = 0; k < 3; k++) {
        rd[k] = (struct reader){.e = e, .first = k, .want = want};
        cr_assert_eq(pthread_create(&t[k], NULL, reader_run, &rd[k]), 0);
    }
    for (int k = 0; k < 3; k++) {
        pthread_join(t[k], NULL);
        cr_assert_eq(rd[k].wrong, 0, "reader %d: %d answers differ", k, rd[k].wrong);
    }
    /* a changed attribute is seen by the next report */
    json_t *c = json_pack("[{s:s, s:s, s:s, s:i}]", "type", "customer", "email", "c0@x.io",
                          "country", "US", "birth_year", 1995);
    fx_ingest(e, c, 1780000000);
    json_decref(c);
    for (int w = 0; w < 3; w++) {
        struct report_query q = {.metric = "csat", .by = "touchpoint",
                                 .where = shared_wheres[w], .to = INT64_MAX};
        json_t *fast = report(e, &q);
        q.rows = true;
        json_t *rows = report(e, &q);
        cr_assert(json_equal(fast, rows), "where %s after a change", shared_wheres[w]);
        json_decref(fast);
        json_decref(rows);
        json_decref(want[w]);
    }
    engine_close(e);
}
