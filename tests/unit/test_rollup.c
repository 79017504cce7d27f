/* Rollups: the cells count what they are given (core/rollup.c), and every
 * report a rollup answers is the very document the rows give: the same
 * groups, values, margins, changes and gaps, for many shapes of query over
 * generated answers, with later answers arriving in between. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rollup.h"
#include "engine/engine.h"
#include "engine_fixture.h"

Test(rollup, cells_count_rows_and_scores)
{
    struct rollup r;
    rollup_init(&r);
    for (int i = 0; i < 5000; i++)   /* enough cells to grow the table */
        cr_assert_eq(rollup_add(&r, (int64_t)(i % 2000) * 86400 + 5, (uint8_t)(i % 2),
                                (uint16_t)(i % 3), (double)(i % 11)), 0);
    cr_assert_eq(rollup_add(&r, 7 * 86400, 2, 9, NAN), 0);
    cr_assert_eq(rollup_add(&r, 7 * 86400 + 86399, 2, 9, 12.0), 0);
    cr_assert_eq(rollup_add(&r, 7 * 86400 + 3600, 2, 9, 4.0), 0);
    uint64_t rows = 0, scored = 0;
    const struct rollup_cell *seven = NULL;
    for (size_t i = 0; i < r.n; i++) {
        rows += r.cell[i].rows;
        for (int s = 0; s < ROLLUP_SCORES; s++)
            scored += r.cell[i].hist[s];
        if (r.cell[i].day == 7 && r.cell[i].kind == 2 && r.cell[i].value == 9)
            seven = &r.cell[i];
    }
    cr_assert_eq(rows, 5003);
    cr_assert_eq(scored, 5001, "NAN and 12 count as rows, not scores");
    cr_assert_not_null(seven, "one cell for the day, kind and value");
    cr_assert_eq(seven->rows, 3);
    cr_assert_eq(seven->hist[4], 1);
    /* (day, kind, value) distinct: i % 2000 days, kinds by parity, values
     * by i % 3: every i < 5000 gives day i % 2000 with kind and value
     * fixed by i; count the distinct triples independently */
    static unsigned char seen[2000][2][3];
    size_t want = 0;
    for (int i = 0; i < 5000; i++)
        if (!seen[i % 2000][i % 2][i % 3]++)
            want++;
    cr_assert_eq(r.n, want + 1);
    rollup_free(&r);
}

static const char *const channels[] = {"web", "phone", "chat", "store"};
static const char *const touchpoints[] = {"checkout", "delivery", "returns", "search", "ivr"};
static const char *const stages[] = {"purchase", "support", "onboarding"};
static const char *const kinds[] = {"nps", "csat", "ces", "text", "rating"};

/* n answers from seed: random kinds, scores, dimensions (some missing) and
 * times over two years, a few with comments only. */
static json_t *answers(int n, uint64_t seed, int first)
{
    uint64_t x = seed;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        char email[32], id[32];
        snprintf(email, sizeof email, "p%d@x.io", (int)(RND() % 400));
        snprintf(id, sizeof id, "a%d", first + i);
        int k = (int)(RND() % 10);
        const char *kind = kinds[k < 4 ? 0 : k < 7 ? 1 : k < 8 ? 2 : k < 9 ? 3 : 4];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "type", "feedback", "email", email,
                              "event_id", id, "kind", kind, "ts",
                              (json_int_t)(1717200000 + (int64_t)(RND() % (730 * 86400))));
        int score = !strcmp(kind, "nps") || !strcmp(kind, "rating") ? (int)(RND() % 11)
                    : !strcmp(kind, "csat") ? 1 + (int)(RND() % 5)
                    : !strcmp(kind, "ces") ? 1 + (int)(RND() % 7) : -1;
        if (score >= 0)
            json_object_set_new(o, "score", json_integer(score));
        static const char *const comments[] = {
            "Great service, thank you", "The delivery was late and the box was damaged",
            "ok", "Refund still not received, very disappointed"};
        if (score < 0 || RND() % 3 == 0)
            json_object_set_new(o, "comment", json_string(comments[RND() % 4]));
        if (RND() % 8)
            json_object_set_new(o, "channel", json_string(channels[RND() % 4]));
        if (RND() % 6)
            json_object_set_new(o, "touchpoint", json_string(touchpoints[RND() % 5]));
        if (RND() % 5)
            json_object_set_new(o, "stage", json_string(stages[RND() % 3]));
        json_array_append_new(arr, o);
    }
#undef RND
    return arr;
}

static json_t *run_report(struct engine *e, const char *metric, const char *by,
                          const char *where, int64_t from, int64_t to, bool rows)
{
    struct report_query q = {.metric = metric, .by = by, .where = where, .from = from,
                             .to = to, .rows = rows};
    json_t *doc = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s by %s where %s: %s", metric,
                 by ? by : "-", where ? where : "-", err.msg);
    return doc;
}

/* Every query shape against both paths; returns how many the rollups took. */
static uint64_t compare_all(struct engine *e)
{
    static const char *const metrics[] = {"nps", "csat", "ces", "responses", "sentiment"};
    static const char *const bys[] = {NULL, "month", "week", "day", "quarter", "year",
                                      "channel", "touchpoint", "stage", "kind",
                                      "channel,month", "month,touchpoint", "stage,quarter",
                                      "kind,channel", "kind,week,stage"};
    static const char *const wheres[] = {
        NULL, "channel = 'web'", "touchpoint in ('checkout', 'ivr') and kind = 'nps'",
        "not stage = 'support'", "channel = 'nowhere'", "channel != 'web' or kind = 'csat'",
        "stage in ('purchase', 'onboarding') and not kind = 'ces'"};
    static const int64_t periods[][2] = {
        {0, INT64_MAX}, {1735689600, 1767225600},   /* 2025 */
        {1743465600, 1743552000},                   /* one day */
        {1743465600 + 3600, 1767225600}};           /* not on a day: the rows */
    struct engine_stats st0, st1;
    engine_stats(e, &st0);
    size_t n = 0;
    for (size_t mi = 0; mi < 5; mi++)
        for (size_t bi = 0; bi < sizeof bys / sizeof bys[0]; bi++)
            for (size_t wi = 0; wi < sizeof wheres / sizeof wheres[0]; wi++)
                for (size_t pi = 0; pi < 4; pi++) {
                    json_t *a = run_report(e, metrics[mi], bys[bi], wheres[wi],
                                           periods[pi][0], periods[pi][1], false);
                    json_t *b = run_report(e, metrics[mi], bys[bi], wheres[wi],
                                           periods[pi][0], periods[pi][1], true);
                    if (!json_equal(a, b)) {
                        char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);
                        cr_assert(false, "%s by %s where %s, period %zu:\nrollup %.600s\nrows   %.600s",
                                metrics[mi], bys[bi] ? bys[bi] : "-",
                                wheres[wi] ? wheres[wi] : "-", pi, sa, sb);
                        free(sa);
                        free(sb);
                    }
                    json_decref(a);
                    json_decref(b);
                    n++;
                }
    /* pain, by theme: the comments' rows against every row */
    static const char *const pbys[] = {"theme", "theme,month", "theme,channel"};
    for (size_t bi = 0; bi < 3; bi++)
        for (size_t wi = 0; wi < sizeof wheres / sizeof wheres[0]; wi++) {
            json_t *a = run_report(e, "pain", pbys[bi], wheres[wi], 0, INT64_MAX, false);
            json_t *b = run_report(e, "pain", pbys[bi], wheres[wi], 0, INT64_MAX, true);
            cr_assert(json_equal(a, b), "pain by %s where %s", pbys[bi],
                      wheres[wi] ? wheres[wi] : "-");
            if (!wheres[wi])
                cr_assert(json_array_size(json_object_get(a, "rows")) > 0, "no pain rows");
            json_decref(a);
            json_decref(b);
            n++;
        }
    engine_stats(e, &st1);
    cr_assert_eq(st1.reports_rows - st0.reports_rows + st1.reports_rollup - st0.reports_rollup,
                 2 * n);
    return st1.reports_rollup - st0.reports_rollup;
}

Test(rollup, reports_equal_the_rows_as_answers_arrive, .init = fx_setup, .fini = fx_teardown,
     .timeout = 120)
{
    struct engine *e = fx_open(false);   /* comments scored: sentiment and pain */
    json_t *a = answers(3000, 0x9e3779b97f4a7c15ull, 0);
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    uint64_t took = compare_all(e);
    /* the rollups take a shape when its period is on days (3 of 4) and its
     * by and where name at most one of channel, touchpoint, stage: by
     * without one (7 shapes) with any where (7), by channel (3) with where
     * none or channel (1 + 3), by touchpoint (2) with none or touchpoint
     * (1 + 1), by stage (3) with none or stage (1 + 2): 74 of 105, for
     * each of 4 metrics */
    cr_assert_eq(took, (uint64_t)(7 * 7 + 3 * 4 + 2 * 2 + 3 * 3) * 4 * 3);
    /* later answers, some into old days: the rollups follow */
    a = answers(1500, 0x2545f4914f6cdd1dull, 3000);
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    cr_assert(compare_all(e) == took, "the same shapes took the rollups");
    /* a customer field, a second row dimension, a score filter, another
     * metric: the rows */
    struct engine_stats s0, s1;
    engine_stats(e, &s0);
    json_decref(run_report(e, "nps", "country", NULL, 0, INT64_MAX, false));
    json_decref(run_report(e, "nps", "channel,touchpoint", NULL, 0, INT64_MAX, false));
    json_decref(run_report(e, "csat", NULL, "score >= 4", 0, INT64_MAX, false));
    json_decref(run_report(e, "sentiment", "month", NULL, 0, INT64_MAX, false));
    json_decref(run_report(e, "nps", "channel", "stage = 'support'", 0, INT64_MAX, false));
    engine_stats(e, &s1);
    cr_assert_eq(s1.reports_rollup, s0.reports_rollup);
    cr_assert_eq(s1.reports_rows - s0.reports_rows, 5);
    engine_close(e);
}

/* The strings of array member name of doc, joined with commas. */
static void joined(json_t *doc, const char *name, char *out, size_t sz)
{
    out[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, name), i, v) {
        if (i)
            strncat(out, ",", sz - strlen(out) - 1);
        strncat(out, json_string_value(v), sz - strlen(out) - 1);
    }
}

Test(rollup, dimensions_are_where_answers_were_given, .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    json_t *a = json_pack(
        "[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:i, s:s, s:s}, {s:s, s:s, s:s, s:s},"
        " {s:s, s:s, s:s, s:i, s:s, s:s}, {s:s, s:s, s:s}]",
        "type", "customer", "email", "a@x.io", "country", "GB", "gender", "female",
        "type", "feedback", "email", "a@x.io", "kind", "nps", "score", 9, "channel", "web",
        "touchpoint", "checkout",
        "type", "interaction", "email", "b@x.io", "channel", "phone", "touchpoint", "ivr",
        "type", "feedback", "email", "b@x.io", "kind", "csat", "score", 2, "channel", "app",
        "stage", "support",
        "type", "customer", "email", "b@x.io", "country", "US");
    fx_ingest(e, a, 1780000000);
    json_decref(a);
    json_t *doc = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(engine_dimensions(e, &doc, &err), 0, "%s", err.msg);
    char s[256];
    joined(doc, "channel", s, sizeof s);
    cr_assert_str_eq(s, "app,web", "the phone call is no answer");
    joined(doc, "touchpoint", s, sizeof s);
    cr_assert_str_eq(s, "checkout");
    joined(doc, "stage", s, sizeof s);
    cr_assert_str_eq(s, "support");
    joined(doc, "country", s, sizeof s);
    cr_assert_str_eq(s, "GB,US", "the customers' countries, sorted");
    joined(doc, "gender", s, sizeof s);
    cr_assert_str_eq(s, "female");
    json_decref(doc);
    engine_close(e);
}
