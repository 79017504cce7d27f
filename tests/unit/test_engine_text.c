/* Engine text analytics: comments scored at ingest and kept across
 * restarts, the sentiment metric and the theme dimension against an
 * independent computation with the scorer, pain points, a new taxonomy
 * re-theming stored comments, texts stored unscored being scored at open,
 * the comment list with full-text search, and emerging phrases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sentiment.h"
#include "core/themes.h"
#include "engine/engine.h"
#include "engine_fixture.h"
#include "log.h"

#define DAY 86400
#define BASE 1767225600          /* 2026-01-01T00:00:00Z, a Thursday */

static const char *const comments[] = {
    "The delivery was fast and the courier was friendly",
    "Terrible service, the staff were rude and unhelpful",
    "Price is too high for what you get",
    "I waited 40 minutes on hold, awful",
    "Great product, works perfectly!",
    "The app keeps crashing when I try to pay",
    "Refund took three weeks, not happy",
    "Lovely clean store and helpful staff",
    "fast delivery but rude staff",
    "It was ok",
    "I was charged twice on my card",
    "Never again. Worst experience ever :(",
};
#define NC (sizeof comments / sizeof comments[0])

static json_t *fb(int i, int day, const char *text)
{
    char email[32], id[32];
    snprintf(email, sizeof email, "c%d@x.io", i % 7);
    snprintf(id, sizeof id, "f%d", i);
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:s}", "type", "feedback",
                     "email", email, "event_id", id, "kind", "nps", "score", i % 11,
                     "comment", text, "ts", (json_int_t)BASE + (json_int_t)day * DAY + i,
                     "touchpoint", i % 2 ? "store" : "web");
}

static float clause(const char *text, size_t len, void *ctx)
{
    (void)ctx;
    struct sentiment s;
    sentiment_score(text, len, &s, NULL);
    return s.compound;
}

static json_t *report(struct engine *e, const char *metric, const char *by)
{
    struct report_query q = {.metric = metric, .by = by, .from = 0, .to = INT64_MAX};
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s", err.msg);
    return doc;
}

static json_t *row_where(json_t *doc, const char *key, const char *val)
{
    json_t *row;
    size_t i;
    json_array_foreach(json_object_get(doc, "rows"), i, row) {
        json_t *v = json_object_get(row, key);
        if ((!val && json_is_null(v)) || (val && json_is_string(v) &&
                                          !strcmp(json_string_value(v), val)))
            return row;
    }
    return NULL;
}

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_number(v), "%s is not a number", k);
    return json_number_value(v);
}

Test(engine_text, sentiment_metric_and_theme_dimension_match_the_scorer, .init = fx_setup,
     .fini = fx_teardown)
{
    struct engine *e = fx_open(false);
    json_t *a = json_array();
    for (size_t i = 0; i < NC; i++)
        json_array_append_new(a, fb((int)i, (int)i, comments[i]));
    /* a score without a comment counts for NPS, not for sentiment */
    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i}", "type", "feedback", "email",
                                       "z@x.io", "kind", "nps", "score", 3));
    fx_ingest(e, a, 1700000000);
    json_decref(a);

    /* independent: the scorer on each comment */
    double sum = 0;
    int pos = 0, neg = 0;
    for (size_t i = 0; i < NC; i++) {
        struct sentiment s;
        sentiment_score(comments[i], strlen(comments[i]), &s, NULL);
        sum += s.compound;
        pos += s.compound >= 0.05;
        neg += s.compound <= -0.05;
    }
    json_t *doc = report(e, "sentiment", NULL);
    json_t *row = json_array_get(json_object_get(doc, "rows"), 0);
    cr_assert_eq(num(row, "n"), NC);
    cr_assert_eq(num(row, "positive"), pos);
    cr_assert_eq(num(row, "negative"), neg);
    cr_assert_float_eq(num(row, "value"), sum / NC, 1e-5);
    json_decref(doc);

    /* by theme: each comment counts in each theme the taxonomy finds */
    struct taxonomy *t;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(taxonomy_default(&t, &err), 0);
    doc = report(e, "responses", "theme");
    size_t themed = 0;
    for (size_t k = 0; k < taxonomy_count(t); k++) {
        int want = 0;
        for (size_t i = 0; i < NC; i++)
            want += themes_match(t, comments[i], strlen(comments[i])) >> k & 1;
        json_t *r = row_where(doc, "theme", taxonomy_id(t, k));
        cr_assert_eq(r ? num(r, "n") : 0, want, "theme %s", taxonomy_id(t, k));
        themed += (size_t)want;
    }
    cr_assert(themed >= 8, "the default taxonomy finds the themes of these comments");
    json_decref(doc);

    /* aspect sentiment: "fast delivery but rude staff" is positive on
     * delivery and negative on staff, in its own row */
    json_t *items = NULL;
    struct feedback_query fq = {.search = "fast delivery rude", .theme = -1, .from = 0,
                                .to = INT64_MAX, .limit = 10};
    cr_assert_eq(engine_feedback_list(e, &fq, &items, &err), 0, "%s", err.msg);
    json_t *its = json_object_get(items, "items");
    cr_assert_eq(json_array_size(its), 1, "search finds the one comment");
    json_t *asp = json_object_get(json_array_get(its, 0), "aspects"), *x;
    size_t i;
    int seen = 0;
    json_array_foreach(asp, i, x) {
        const char *th = json_string_value(json_object_get(x, "theme"));
        double s = num(x, "sentiment");
        if (strstr(th, "deliver")) {
            cr_assert(s > 0, "delivery %g", s);
            seen++;
        } else if (strstr(th, "staff")) {
            cr_assert(s < 0, "staff %g", s);
            seen++;
        }
    }
    cr_assert_eq(seen, 2, "%s", json_dumps(asp, 0));
    json_decref(items);

    /* pain by theme against the aspects computed here */
    doc = report(e, "pain", "theme");
    for (size_t k = 0; k < taxonomy_count(t); k++) {
        double pain = 0, s_sum = 0;
        int n = 0, negs = 0;
        for (size_t c = 0; c < NC; c++) {
            struct aspect as[THEMES_MAX];
            size_t na = themes_aspects(t, comments[c], strlen(comments[c]), clause, NULL,
                                       as, THEMES_MAX);
            for (size_t j = 0; j < na; j++) {
                if (as[j].theme != k)
                    continue;
                double sv = round(as[j].sentiment * 10000) / 10000;   /* as stored */
                n++;
                negs += sv < -0.05;
                pain += sv < 0 ? -sv : 0;
                s_sum += sv;
            }
        }
        json_t *r = row_where(doc, "theme", taxonomy_id(t, k));
        if (!n) {
            cr_assert_null(r, "theme %s", taxonomy_id(t, k));
            continue;
        }
        cr_assert(r, "theme %s", taxonomy_id(t, k));
        cr_assert_eq(num(r, "n"), n);
        cr_assert_eq(num(r, "negative"), negs);
        cr_assert_float_eq(num(r, "value"), pain, 1e-6);
        cr_assert_float_eq(num(r, "sentiment"), s_sum / n, 1e-6);
    }
    json_decref(doc);

    /* pain: by theme, ranked, only negative mass counts */
    cxm_err_clear(&err);
    struct report_query q = {.from = 0, .to = INT64_MAX};
    cr_assert_eq(engine_text_themes(e, &q, &doc, &err), 0, "%s", err.msg);
    double prev = INFINITY;
    json_array_foreach(json_object_get(doc, "rows"), i, x) {
        double p = num(x, "value");
        cr_assert(p <= prev + 1e-12, "ranked by pain");
        prev = p;
        cr_assert(p >= 0);
        cr_assert(num(x, "negative") <= num(x, "n"));
    }
    json_decref(doc);
    /* pain needs the theme dimension */
    struct report_query bad = {.metric = "pain", .from = 0, .to = INT64_MAX};
    cr_assert_eq(engine_report(e, &bad, &doc, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "by");

    /* the scores survive a restart unchanged */
    doc = report(e, "sentiment", "theme");
    char *before = json_dumps(json_object_get(doc, "rows"), JSON_SORT_KEYS);
    json_decref(doc);
    engine_close(e);
    e = fx_open(false);
    doc = report(e, "sentiment", "theme");
    char *after = json_dumps(json_object_get(doc, "rows"), JSON_SORT_KEYS);
    cr_assert_str_eq(before, after);
    free(before);
    free(after);
    json_decref(doc);
    taxonomy_free(t);
    themes_thread_release();
    engine_close(e);
}

Test(engine_text, texts_stored_unscored_are_scored_at_open, .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    json_t *a = json_array();
    for (size_t i = 0; i < NC; i++)
        json_array_append_new(a, fb((int)i, 0, comments[i]));
    fx_ingest(e, a, 1700000000);
    json_decref(a);
    json_t *doc = report(e, "sentiment", NULL);
    cr_assert_eq(json_array_size(json_object_get(doc, "rows")), 0, "nothing scored yet");
    json_decref(doc);
    engine_close(e);

    e = fx_open(false);
    doc = report(e, "sentiment", NULL);
    json_t *row = json_array_get(json_object_get(doc, "rows"), 0);
    cr_assert(row);
    cr_assert_eq(num(row, "n"), NC);
    double sum = 0;
    for (size_t i = 0; i < NC; i++) {
        struct sentiment s;
        sentiment_score(comments[i], strlen(comments[i]), &s, NULL);
        sum += s.compound;
    }
    cr_assert_float_eq(num(row, "value"), sum / NC, 1e-5);
    json_decref(doc);
    engine_close(e);
}

Test(engine_text, a_new_taxonomy_rethemes_stored_comments, .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(false);
    json_t *a = json_array();
    for (size_t i = 0; i < NC; i++)
        json_array_append_new(a, fb((int)i, 0, comments[i]));
    fx_ingest(e, a, 1700000000);
    json_decref(a);
    struct cxm_err err;
    cxm_err_clear(&err);
    size_t n = 0;
    int64_t seq = 0;
    /* a bad taxonomy changes nothing and says which field */
    cr_assert_eq(engine_set_taxonomy(e, "{\"themes\":[{\"name\":\"x\",\"terms\":[\"a\"]}]}",
                                     &n, &seq, &err), CXM_EINVAL);
    cr_assert(err.field[0], "the error names a field: %s", err.msg);
    json_t *doc = report(e, "responses", "theme");
    cr_assert(row_where(doc, "theme", "delivery") || json_array_size(json_object_get(doc, "rows")) > 1);
    json_decref(doc);

    const char *tax = "{\"themes\":[{\"id\":\"money\",\"name\":\"Money\","
                      "\"terms\":[\"price\",\"charged\",\"refund\"]},"
                      "{\"id\":\"people\",\"name\":\"People\",\"terms\":[\"staff\",\"courier\"]}]}";
    cxm_err_clear(&err);
    cr_assert_eq(engine_set_taxonomy(e, tax, &n, &seq, &err), 0, "%s", err.msg);
    cr_assert_eq(n, NC, "every stored comment re-themed");
    doc = report(e, "responses", "theme");
    json_t *money = row_where(doc, "theme", "money"), *people = row_where(doc, "theme", "people");
    cr_assert(money && people);
    cr_assert_eq(num(money, "n"), 3);   /* price, refund, charged */
    cr_assert_eq(num(people, "n"), 4);  /* courier, staff x3 */
    cr_assert_null(row_where(doc, "theme", "delivery"));
    json_decref(doc);
    engine_close(e);
    /* the taxonomy and the themes persist */
    e = fx_open(false);
    doc = report(e, "responses", "theme");
    money = row_where(doc, "theme", "money");
    cr_assert(money);
    cr_assert_eq(num(money, "n"), 3);
    json_decref(doc);
    engine_close(e);
}

Test(engine_text, feedback_list_pages_and_filters, .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(false);
    json_t *a = json_array();
    for (int i = 0; i < 30; i++)
        json_array_append_new(a, fb(i, i, comments[(size_t)i % NC]));
    fx_ingest(e, a, 1700000000);
    json_decref(a);
    struct cxm_err err;
    cxm_err_clear(&err);
    /* pages of 7, newest first, no repeats, all 30 */
    struct feedback_query q = {.theme = -1, .from = 0, .to = INT64_MAX, .limit = 7};
    int64_t last = INT64_MAX;
    size_t total = 0;
    for (int page = 0; page < 10; page++) {
        json_t *doc = NULL;
        cr_assert_eq(engine_feedback_list(e, &q, &doc, &err), 0, "%s", err.msg);
        json_t *x;
        size_t i;
        json_array_foreach(json_object_get(doc, "items"), i, x) {
            int64_t s = (int64_t)num(x, "seq");
            cr_assert(s < last);
            last = s;
            total++;
        }
        json_t *c = json_object_get(doc, "next_cursor");
        if (json_is_null(c)) {
            json_decref(doc);
            break;
        }
        cr_assert(cxm_parse_i64(json_string_value(c), &q.cursor));
        json_decref(doc);
    }
    cr_assert_eq(total, 30);
    /* negative only: agrees with the scorer */
    int want = 0;
    for (int i = 0; i < 30; i++) {
        struct sentiment s;
        const char *c = comments[(size_t)i % NC];
        sentiment_score(c, strlen(c), &s, NULL);
        want += s.compound <= -0.05;
    }
    struct feedback_query nq = {.theme = -1, .label = "negative", .from = 0, .to = INT64_MAX,
                                .limit = 100};
    json_t *doc = NULL;
    cr_assert_eq(engine_feedback_list(e, &nq, &doc, &err), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "items")), (size_t)want);
    json_decref(doc);
    /* search is stemmed: "refunds" finds "Refund" */
    struct feedback_query sq = {.search = "refunds", .theme = -1, .from = 0, .to = INT64_MAX,
                                .limit = 100};
    cr_assert_eq(engine_feedback_list(e, &sq, &doc, &err), 0);
    json_t *items = json_object_get(doc, "items");
    cr_assert(json_array_size(items) >= 2);
    json_t *x;
    size_t i;
    json_array_foreach(items, i, x)
        cr_assert(strstr(json_string_value(json_object_get(x, "comment")), "Refund"));
    json_decref(doc);
    /* touchpoint: exactly the odd answers were given in the store; with a
     * search too; a touchpoint the data never had matches nothing */
    struct feedback_query tq = {.touchpoint = "store", .theme = -1, .from = 0,
                                .to = INT64_MAX, .limit = 100};
    cr_assert_eq(engine_feedback_list(e, &tq, &doc, &err), 0);
    items = json_object_get(doc, "items");
    cr_assert_eq(json_array_size(items), 15);
    json_array_foreach(items, i, x)
        cr_assert_str_eq(json_string_value(json_object_get(x, "touchpoint")), "store");
    json_decref(doc);
    int refunds_in_store = 0;
    for (int k = 1; k < 30; k += 2)
        refunds_in_store += strstr(comments[(size_t)k % NC], "Refund") != NULL;
    tq.search = "refunds";
    cr_assert_eq(engine_feedback_list(e, &tq, &doc, &err), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "items")), (size_t)refunds_in_store);
    json_decref(doc);
    tq.search = NULL;
    tq.touchpoint = "moon";
    cr_assert_eq(engine_feedback_list(e, &tq, &doc, &err), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "items")), 0);
    json_decref(doc);
    tq.touchpoint = NULL;
    tq.channel = "web";   /* no answer names a channel */
    cr_assert_eq(engine_feedback_list(e, &tq, &doc, &err), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "items")), 0);
    json_decref(doc);
    engine_close(e);
}

Test(engine_text, emerging_phrases_rise_against_the_baseline, .init = fx_setup,
     .fini = fx_teardown)
{
    struct engine *e = fx_open(false);
    json_t *a = json_array();
    int k = 0;
    /* four weeks of ordinary comments, then a week where a tracking link
     * breaks */
    for (int day = 0; day < 35; day++)
        for (int j = 0; j < 6; j++) {
            const char *c = comments[(size_t)(day * 6 + j) % NC];
            if (day >= 28 && j < 3)
                c = "the tracking link in the email is broken";
            json_array_append_new(a, fb(k++, day - 3, c));   /* BASE - 3 days: a Monday */
        }
    fx_ingest(e, a, 1700000000);
    json_decref(a);
    struct cxm_err err;
    cxm_err_clear(&err);
    struct emerging_query q = {.period = "week", .baseline = 4, .theme = -1, .limit = 5,
                               .with_text = true};
    json_t *doc = NULL;
    cr_assert_eq(engine_text_emerging(e, &q, &doc, &err), 0, "%s", err.msg);
    json_t *top = json_array_get(json_object_get(doc, "rows"), 0);
    cr_assert(top, "%s", json_dumps(doc, 0));
    const char *ph = json_string_value(json_object_get(top, "phrase"));
    cr_assert(strstr(ph, "track") || strstr(ph, "link") || strstr(ph, "broken"), "%s", ph);
    cr_assert_eq(num(top, "baseline_count"), 0);
    cr_assert(num(top, "count") >= 15);
    json_t *ex = json_array_get(json_object_get(top, "examples"), 0);
    cr_assert(strstr(json_string_value(json_object_get(ex, "comment")), "tracking"));
    json_decref(doc);
    engine_close(e);
}

/* Jargon the lexicon does not know, with the scores customers gave. */
static const struct { const char *text; int score; } jargon[] = {
    {"ticket escalated to tier two again", 1},
    {"parcel stuck in the depot for days", 2},
    {"still on the callback list", 0},
    {"smooth checkout and click and collect", 10},
    {"same day dispatch as usual", 9},
    {"express lane at the counter", 10},
    {"order number arrived by post", 8},
    {"the store opens at nine", 7},
};

Test(engine_text, training_learns_the_company_words_and_persists, .init = fx_setup,
     .fini = fx_teardown, .timeout = 120)
{
    struct engine *e = fx_open(false);
    struct cxm_err err;
    cxm_err_clear(&err);
    /* too little data: the lexicon stays, nothing is stored */
    json_t *a = json_array();
    for (int i = 0; i < 50; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:s}", "type", "feedback",
                                           "email", "t@x.io", "kind", "nps", "score",
                                           jargon[i % 8].score, "comment", jargon[i % 8].text));
    fx_ingest(e, a, 1700000000);
    json_decref(a);
    json_t *doc = NULL;
    cr_assert_eq(engine_text_train(e, &doc, &err), 0, "%s", err.msg);
    cr_assert(json_is_false(json_object_get(doc, "used")));
    cr_assert_null(json_object_get(doc, "rescored"));
    json_decref(doc);

    /* enough: 1600 answers, the jargon in many different comments (the
     * held-back part holds texts the training part has not seen) */
    static const char *const pre[] = {"", "my ", "the ", "well ", "so ", "again ", "hm ",
                                      "note: ", "fyi ", "and "};
    static const char *const post[] = {"", " today", " this week", " for order 5",
                                       " at the shop", " as before", " on monday",
                                       " for my mum", " with the app", " in town"};
    a = json_array();
    for (int i = 0; i < 1600; i++) {
        char email[32], text[160];
        snprintf(email, sizeof email, "u%d@x.io", i % 97);
        int j = (i * 7) % 8;
        snprintf(text, sizeof text, "%s%s%s", pre[(i / 8) % 10], jargon[j].text,
                 post[(i / 80) % 10]);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:s}", "type", "feedback",
                                           "email", email, "kind", i % 5 ? "nps" : "csat",
                                           "score", i % 5 ? jargon[j].score
                                                          : 1 + jargon[j].score * 4 / 10,
                                           "comment", text));
    }
    fx_ingest(e, a, 1700000000);
    json_decref(a);
    cr_assert_eq(engine_text_train(e, &doc, &err), 0, "%s", err.msg);
    cr_assert(json_is_true(json_object_get(doc, "used")), "%s", json_dumps(doc, 0));
    double lex = json_number_value(json_object_get(json_object_get(doc, "macro_f1"), "lexicon"));
    double blend = json_number_value(json_object_get(json_object_get(doc, "macro_f1"), "blend"));
    cr_assert(blend > lex + 0.01, "%g vs %g", blend, lex);
    cr_assert_eq(json_integer_value(json_object_get(doc, "rescored")), 1650);
    json_decref(doc);

    /* the blend moves jargon the lexicon calls neutral */
    const char *t = "ticket escalated to tier two again";
    cr_assert_eq(engine_text_sentiment(e, t, strlen(t), false, &doc, &err), 0);
    double c = json_number_value(json_object_get(doc, "compound"));
    double l = json_number_value(json_object_get(doc, "lexicon"));
    cr_assert(c < l - 0.01, "blend %g, lexicon %g", c, l);
    json_decref(doc);
    /* stored scores were rescored: the metric agrees with one text's score */
    struct feedback_query fq = {.search = "escalated", .theme = -1, .from = 0, .to = INT64_MAX,
                                .limit = 1};
    cr_assert_eq(engine_feedback_list(e, &fq, &doc, &err), 0);
    double stored = num(json_array_get(json_object_get(doc, "items"), 0), "sentiment");
    cr_assert(stored < l - 0.01, "stored %g", stored);
    json_decref(doc);
    engine_close(e);

    /* the model is back after a restart */
    e = fx_open(false);
    cr_assert_eq(engine_text_sentiment(e, t, strlen(t), false, &doc, &err), 0);
    cr_assert_float_eq(json_number_value(json_object_get(doc, "compound")), c, 1e-6);
    json_decref(doc);
    engine_close(e);
}
