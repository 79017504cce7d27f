/* Engine journeys on hand-built data with known answers: a skipped stage,
 * out-of-order arrival, a gap exactly at the threshold and one second
 * over, one-touchpoint journeys, orders as purchases, merged customers
 * (a merge joins their journeys, unmerge splits them), filters, and the
 * friction lift against a count made here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine_fixture.h"

#define DAY 86400
#define H 3600
#define T0 1767225600            /* 2026-01-01 */

static int nev;

static json_t *touch(const char *email, int64_t t, const char *tp, const char *stage,
                     const char *channel)
{
    char id[16];
    snprintf(id, sizeof id, "e%d", nev++);
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "type", "interaction",
                     "email", email, "event_id", id, "ts", (json_int_t)t, "touchpoint", tp,
                     "stage", stage, "channel", channel);
}

static json_t *nps(const char *email, int64_t t, const char *tp, int score)
{
    char id[16];
    snprintf(id, sizeof id, "e%d", nev++);
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:i}", "type", "feedback", "email",
                     email, "event_id", id, "ts", (json_int_t)t, "touchpoint", tp, "kind",
                     "nps", "score", score);
}

static json_t *order(const char *email, int64_t t)
{
    char id[16];
    snprintf(id, sizeof id, "o%d", nev++);
    return json_pack("{s:s, s:s, s:s, s:I, s:f, s:s}", "type", "order", "email", email,
                     "order_id", id, "ts", (json_int_t)t, "amount", 10.0, "channel", "web");
}

static json_t *view(struct engine *e, const char *v, const char *where)
{
    struct journey_query q = {.view = v, .where = where, .to = INT64_MAX, .gap = 30 * DAY};
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    cr_assert_eq(engine_journeys(e, &q, &doc, &err), 0, "%s: %s", v, err.msg);
    return doc;
}

static json_t *row_of(json_t *doc, const char *key, const char *val)
{
    json_t *row;
    size_t i;
    json_array_foreach(json_object_get(doc, "rows"), i, row)
        if (json_is_string(json_object_get(row, key)) &&
            !strcmp(json_string_value(json_object_get(row, key)), val))
            return row;
    return NULL;
}

static long long ival(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_integer(v), "%s is not an integer", k);
    return json_integer_value(v);
}

static void load(struct engine *e)
{
    json_t *a = json_array();
    /* ann: homepage > search > order: all three stages, one episode; sent
     * newest first (out of order) */
    json_array_append_new(a, order("ann@x.io", T0 + 2 * H));
    json_array_append_new(a, touch("ann@x.io", T0 + H, "search", "consideration", "web"));
    json_array_append_new(a, touch("ann@x.io", T0, "homepage", "awareness", "web"));
    /* bob skips consideration; then comes back exactly 30 days later
     * (same episode) with a detractor answer at the call centre */
    json_array_append_new(a, touch("bob@x.io", T0, "homepage", "awareness", "app"));
    json_array_append_new(a, touch("bob@x.io", T0 + H, "checkout", "purchase", "app"));
    json_array_append_new(a, nps("bob@x.io", T0 + H + 30 * DAY, "call_center", 3));
    /* cid: homepage only, then a second episode one second over the gap */
    json_array_append_new(a, touch("cid@x.io", T0, "homepage", "awareness", "web"));
    json_array_append_new(a, touch("cid@x.io", T0 + 30 * DAY + 1, "call_center", "support",
                                   "phone"));
    json_array_append_new(a, nps("cid@x.io", T0 + 30 * DAY + 2, "call_center", 9));
    fx_ingest(e, a, T0);
    json_decref(a);
}

Test(engine_journey, known_answers, .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(false);
    struct cxm_err err0;
    load(e);

    /* episodes: ann 1, bob 1 (30 days exactly), cid 2 */
    json_t *f = view(e, "funnel", NULL);
    cr_assert_eq(ival(f, "episodes"), 4);
    json_t *aw = row_of(f, "stage", "awareness"), *co = row_of(f, "stage", "consideration"),
           *pu = row_of(f, "stage", "purchase");
    cr_assert(aw && co && pu, "%s", json_dumps(f, 0));
    cr_assert_eq(ival(aw, "reached"), 3);
    cr_assert_eq(ival(co, "reached"), 1, "bob skipped it");
    cr_assert_eq(ival(pu, "reached"), 2, "ann's order and bob's checkout");
    cr_assert_eq(ival(aw, "converted"), 1, "awareness to consideration: ann only");
    cr_assert_eq(ival(co, "converted"), 1);
    cr_assert_float_eq(json_number_value(json_object_get(co, "median_hours")), 1.0, 1e-9);
    json_decref(f);

    /* flows: links inside episodes only; an order has no touchpoint */
    json_t *fl = view(e, "flows", NULL);
    json_t *l;
    size_t i;
    int hs = 0, hc = 0, cc = 0;
    json_array_foreach(json_object_get(fl, "links"), i, l) {
        const char *a = json_string_value(json_object_get(l, "from"));
        const char *b = json_string_value(json_object_get(l, "to"));
        long long n = ival(l, "count");
        if (!strcmp(a, "homepage") && !strcmp(b, "search"))
            hs += (int)n;
        else if (!strcmp(a, "homepage") && !strcmp(b, "checkout"))
            hc += (int)n;
        else if (!strcmp(a, "checkout") && !strcmp(b, "call_center"))
            cc += (int)n;
        else
            cr_assert_fail("unexpected link %s -> %s", a, b);
    }
    cr_assert_eq(hs, 1);
    cr_assert_eq(hc, 1);
    cr_assert_eq(cc, 1, "bob's answer 30 days later is in the same episode");
    json_decref(fl);

    /* flows of one channel (bob's app steps), and of journeys without a
     * purchase (cid's: no link between different touchpoints) */
    struct journey_query fq = {.view = "flows", .to = INT64_MAX, .gap = 30 * DAY,
                               .channel = "app"};
    json_t *fa = NULL;
    cr_assert_eq(engine_journeys(e, &fq, &fa, &err0), 0, "%s", err0.msg);
    cr_assert_eq(json_array_size(json_object_get(fa, "links")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
        json_object_get(fa, "links"), 0), "to")), "checkout");
    json_decref(fa);
    fq = (struct journey_query){.view = "flows", .to = INT64_MAX, .gap = 30 * DAY,
                                .ended = "no_purchase"};
    cr_assert_eq(engine_journeys(e, &fq, &fa, &err0), 0, "%s", err0.msg);
    cr_assert_eq(json_array_size(json_object_get(fa, "links")), 0);
    json_decref(fa);

    /* drop-offs: cid's two episodes end without a purchase */
    json_t *d = view(e, "dropoffs", NULL);
    cr_assert_eq(ival(d, "abandoned"), 2);
    json_t *r = row_of(d, "last_touchpoint", "homepage");
    cr_assert(r);
    cr_assert_eq(ival(r, "count"), 1);
    json_decref(d);

    /* paths: ann homepage > search, bought */
    json_t *p = view(e, "paths", NULL);
    bool found = false;
    json_array_foreach(json_object_get(p, "rows"), i, r) {
        json_t *path = json_object_get(r, "path");
        if (json_array_size(path) == 2 &&
            !strcmp(json_string_value(json_array_get(path, 1)), "search")) {
            cr_assert_eq(ival(r, "purchases"), 1);
            found = true;
        }
    }
    cr_assert(found);
    json_decref(p);

    /* friction, counted here: call_center is in 2 of 4 episodes; detractors
     * among them 1 (bob), among the other 2 none: lift 50 points */
    json_t *fr = view(e, "friction", NULL);
    json_t *c = row_of(fr, "touchpoint", "call_center");
    cr_assert(c);
    json_t *det = json_object_get(c, "detractor");
    cr_assert_eq(ival(det, "n_with"), 2);
    cr_assert_eq(ival(det, "n_without"), 2);
    cr_assert_float_eq(json_number_value(json_object_get(det, "lift")), 50.0, 1e-9);
    json_decref(fr);

    /* designed vs actual: ann and cid's first journey follow the design;
     * bob skips consideration; cid's support call is at a stage the
     * design does not have */
    struct journey_query cq = {.view = "conformance", .to = INT64_MAX, .gap = 30 * DAY,
        .design = "{\"stages\":[{\"stage\":\"awareness\",\"touchpoints\":[\"homepage\"]},"
                  "{\"stage\":\"consideration\",\"touchpoints\":[\"search\"]},"
                  "{\"stage\":\"purchase\"}]}"};
    json_t *cd = NULL;
    cxm_err_clear(&err0);
    cr_assert_eq(engine_journeys(e, &cq, &cd, &err0), 0, "%s", err0.msg);
    cr_assert_eq(ival(cd, "compared"), 4);
    cr_assert_eq(ival(cd, "conforming"), 2);
    json_t *dv = json_object_get(cd, "deviations");
    cr_assert_eq(json_array_size(json_object_get(dv, "skipped")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
        json_object_get(dv, "skipped"), 0), "stage")), "consideration");
    cr_assert_eq(json_array_size(json_object_get(dv, "undeclared")), 1);
    cr_assert_eq(json_array_size(json_object_get(dv, "backward")), 0);
    json_decref(cd);
    cq.design = "{\"stages\":[{\"stage\":\"nowhere\"}]}";
    cr_assert_eq(engine_journeys(e, &cq, &cd, &err0), CXM_EINVAL);
    cr_assert_str_eq(err0.field, "design");

    /* a period: only its events count (bob's answer, cid's second
     * journey), asked twice (the second from the cached events) */
    for (int round = 0; round < 2; round++) {
        struct journey_query pq = {.view = "funnel", .from = T0 + DAY, .to = INT64_MAX,
                                   .gap = 30 * DAY};
        json_t *pd = NULL;
        cr_assert_eq(engine_journeys(e, &pq, &pd, &err0), 0, "%s", err0.msg);
        cr_assert_eq(ival(pd, "episodes"), 2);
        cr_assert_eq(ival(pd, "events"), 3);
        json_decref(pd);
    }

    /* a customer filter: nobody has a country, so nothing passes */
    json_t *none = view(e, "funnel", "country = 'US'");
    cr_assert_eq(ival(none, "episodes"), 0);
    json_decref(none);
    struct journey_query bad = {.view = "funnel", .where = "score > 3", .to = INT64_MAX,
                                .gap = 30 * DAY};
    struct cxm_err err;
    json_t *doc = NULL;
    cr_assert_eq(engine_journeys(e, &bad, &doc, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "where");
    engine_close(e);
}

Test(engine_journey, a_merge_joins_journeys_and_unmerge_splits_them, .init = fx_setup,
     .fini = fx_teardown)
{
    struct engine *e = fx_open(false);
    json_t *a = json_array();
    /* a web visitor (cookie) and a known customer (email), one journey */
    json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type",
                                       "interaction", "cookie", "ck1", "ts", (json_int_t)T0,
                                       "touchpoint", "homepage", "stage", "awareness",
                                       "channel", "web"));
    json_array_append_new(a, touch("dee@x.io", T0 + H, "checkout", "purchase", "web"));
    fx_ingest(e, a, T0);
    json_decref(a);
    json_t *f = view(e, "funnel", NULL);
    cr_assert_eq(ival(f, "episodes"), 2, "two customers, two journeys");
    json_decref(f);
    a = json_array();
    json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "type", "identify", "cookie", "ck1",
                                       "email", "dee@x.io"));
    fx_ingest(e, a, T0);
    json_decref(a);
    f = view(e, "funnel", NULL);
    cr_assert_eq(ival(f, "episodes"), 1, "merged: one journey");
    /* the stages in the data are awareness and purchase: one conversion */
    cr_assert_eq(ival(row_of(f, "stage", "awareness"), "converted"), 1);
    json_decref(f);
    struct cxm_err err;
    json_t *cj = NULL;
    cr_assert_eq(engine_customer_journey(e, 2, 30 * DAY, &cj, &err), 0, "%s", err.msg);
    json_t *eps = json_object_get(cj, "episodes");
    cr_assert_eq(json_array_size(eps), 1);
    cr_assert_eq(json_array_size(json_object_get(json_array_get(eps, 0), "events")), 2);
    cr_assert(json_is_true(json_object_get(json_array_get(eps, 0), "purchase")));
    json_decref(cj);
    /* unmerge the cookie customer (id 1 is the survivor: the cookie came
     * first, so the email customer 2 was merged into it) */
    struct engine_work w = {.op = ENGINE_UNMERGE, .customer = 2};
    cr_assert_eq(engine_run(e, &w), 0, "%s", w.err.msg);
    f = view(e, "funnel", NULL);
    cr_assert_eq(ival(f, "episodes"), 2, "split again");
    json_decref(f);
    engine_close(e);
}

Test(engine_journey, support_journeys_time_to_resolution, .init = fx_setup,
     .fini = fx_teardown)
{
    struct engine *e = fx_open(false);
    json_t *a = json_array();
    /* eve: a complaint, support 5 hours later, then back to browsing;
     * fay: a ticket and nothing after it (resolved at once: 0 hours);
     * gus: no complaint: not a support journey */
    json_t *c = touch("eve@x.io", T0, "help_center", "support", "web");
    json_object_set_new(c, "kind", json_string("complaint"));
    json_array_append_new(a, c);
    json_array_append_new(a, touch("eve@x.io", T0 + 5 * H, "call_center", "support", "phone"));
    json_array_append_new(a, touch("eve@x.io", T0 + 6 * H, "homepage", "awareness", "web"));
    c = touch("fay@x.io", T0, "help_center", "support", "web");
    json_object_set_new(c, "kind", json_string("ticket"));
    json_array_append_new(a, c);
    json_array_append_new(a, touch("gus@x.io", T0, "homepage", "awareness", "web"));
    fx_ingest(e, a, T0);
    json_decref(a);
    json_t *fr = view(e, "friction", NULL);
    json_t *res = json_object_get(fr, "resolution");
    cr_assert_eq(ival(res, "journeys"), 2, "%s", json_dumps(res, 0));
    cr_assert_float_eq(json_number_value(json_object_get(res, "mean_hours")), 2.5, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(res, "median_hours")), 2.5, 1e-9);
    json_decref(fr);
    engine_close(e);
}

/* The views after new data arrives (the cached events extended with the
 * new rows) equal the views of a fresh engine that gathers everything:
 * late arrivals, events in the same second from every table, new
 * customers, merges of customers who both have events, many rounds. */
static char *dump_views(struct engine *e, bool scan)
{
    /* every view, with the parameters the kept episodes answer and some
     * they leave to the events (a period, another gap, a custom funnel) */
    static const struct journey_query qs[] = {
        {.view = "funnel"}, {.view = "funnel", .stages = "purchase,consideration"},
        {.view = "flows"}, {.view = "flows", .channel = "web"},
        {.view = "flows", .ended = "purchase", .self_links = true},
        {.view = "paths"}, {.view = "paths", .channel = "app", .ended = "no_purchase"},
        {.view = "paths", .max_len = 2},
        {.view = "dropoffs"}, {.view = "dropoffs", .goal = "consideration"},
        {.view = "friction"}, {.view = "friction", .outcome = "churn"},
        {.view = "funnel", .where = "country = 'US'"},
        {.view = "flows", .where = "country != 'US'"},
        {.view = "friction", .where = "country = 'US'"},
        {.view = "funnel", .from = T0 + 5 * DAY},
        {.view = "dropoffs", .gap = 2 * DAY},
    };
    json_t *all = json_array();
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        struct journey_query q = qs[i];
        q.to = INT64_MAX;
        q.gap = q.gap ? q.gap : 30 * DAY;
        q.top = 1000;
        q.scan = scan;
        struct cxm_err err;
        cxm_err_clear(&err);
        json_t *d = NULL;
        cr_assert_eq(engine_journeys(e, &q, &d, &err), 0, "%s: %s", q.view, err.msg);
        json_object_del(d, "seconds");
        json_array_append_new(all, d);
    }
    char *s = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(all);
    return s;
}

Test(engine_journey, new_rows_extend_the_gathered_events_exactly, .init = fx_setup,
     .fini = fx_teardown)
{
    static const char *const tps[] = {"homepage", "search", "product", "cart", "checkout"};
    static const char *const stages[] = {"awareness", "consideration", "consideration",
                                         "purchase", "purchase"};
    struct engine *e = fx_open(true);
    unsigned seed = 11;
    char em[32];
    for (int round = 0; round < 10; round++) {
        json_t *a = json_array();
        /* after the first round, a few customers at a time: the others'
         * episodes are kept as they were */
        for (int k = 0; k < (round ? 30 : 240); k++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 8;
            snprintf(em, sizeof em, "j%u@x.io", r % (20 + 10 * round));
            /* times on a coarse grid: many events share a second, and
             * later rounds reach back in time (late arrivals); four
             * clusters 40 days apart: several episodes a customer */
            int64_t t = T0 + (int64_t)((r >> 6) % 40) * 6 * H + (int64_t)((r >> 3) % 4) * 40 * DAY;
            int tp = (int)((r >> 12) % 5);
            if (k % 7 == 3)
                json_array_append_new(a, nps(em, t, tps[tp], (int)(r % 11)));
            else if (k % 11 == 5)
                json_array_append_new(a, order(em, t));
            else
                json_array_append_new(a, touch(em, t, tps[tp], stages[tp],
                                               r & 1 ? "web" : "app"));
        }
        /* two customers found to be one person, each round */
        for (int k = 0; k < 2 && round > 0; k++) {
            char other[32], phone[24];
            snprintf(em, sizeof em, "j%d@x.io", 2 * round + k);
            snprintf(other, sizeof other, "j%d@x.io", 19 - 2 * round - k);
            snprintf(phone, sizeof phone, "+4420790000%02d", 10 * round + k);
            json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "type", "identify", "email",
                                               em, "phone", phone));
            json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "type", "identify", "email",
                                               other, "phone", phone));
        }
        /* some of them in the US, for the where */
        for (int k = 0; round == 0 && k < 10; k++) {
            snprintf(em, sizeof em, "j%d@x.io", 3 * k);
            json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "type", "customer", "email",
                                               em, "country", "US"));
        }
        fx_ingest(e, a, T0);
        json_decref(a);
        char *inc = dump_views(e, false);   /* extended from the last round */
        char *walked = dump_views(e, false); /* the same again: the kept answers */
        char *scan = dump_views(e, true);   /* every event walked */
        /* a second engine on the same file gathers all; e goes on, so
         * its next rounds build on what it has (a base and its delta) */
        struct engine *f = NULL;
        struct engine_opts o = {.sync = STORE_SYNC_OFF, .no_text = true};
        struct cxm_err err;
        cxm_err_clear(&err);
        cr_assert_eq(engine_open(fx_db, &o, &f, &err), 0, "%s", err.msg);
        char *full = dump_views(f, false);
        engine_close(f);
        cr_assert_str_eq(inc, full, "round %d differs", round);
        cr_assert_str_eq(inc, walked, "round %d: kept answer differs", round);
        cr_assert_str_eq(inc, scan, "round %d: kept episodes and events differ", round);
        free(inc);
        free(walked);
        free(scan);
        free(full);
    }
    engine_close(e);
}
