/* Engine personalisation: segment memberships kept current by the writer
 * (records, attribute changes, merges, unmerges, the day changing),
 * checked against a plain count over the profiles; next-best-action
 * decisions and the contact policy on real contact histories (merged
 * profiles share caps, an unmerge splits them, consent withdrawn after a
 * decision stops the contact); messages escaped per channel;
 * recommendations that never offer an owned item; and all of it again
 * after a restart. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine_fixture.h"

#define DAY 86400
#define NOW 1790000000           /* 2026-09-21, the engine's clock here */

static void ingest1(struct engine *e, json_t *rec)
{
    json_t *a = json_array();
    json_array_append_new(a, rec);
    fx_ingest(e, a, NOW);
    json_decref(a);
}

static json_t *customer(const char *email, const char *name, const char *country,
                        int marketing)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "type", "customer", "email", email, "name",
                          name, "country", country);
    if (marketing >= 0)
        json_object_set_new(c, "consent", json_pack("{s:b, s:b}", "marketing", marketing,
                                                     "surveys", 1));
    return c;
}

static json_t *order(const char *email, const char *id, int64_t ts, const char *sku,
                     const char *cat)
{
    return json_pack("{s:s, s:s, s:s, s:f, s:I, s:[{s:s, s:s, s:i, s:f}]}", "type", "order",
                     "email", email, "order_id", id, "amount", 20.0, "ts", (json_int_t)ts,
                     "items", "sku", sku, "category", cat, "qty", 1, "price", 20.0);
}

static size_t members(struct engine *e, const char *id)
{
    json_t *doc;
    struct cxm_err err;
    cr_assert_eq(engine_segment(e, id, &doc, &err), 0, "%s", err.msg);
    size_t n = (size_t)json_integer_value(json_object_get(doc, "members"));
    json_decref(doc);
    return n;
}

static void put_segment(struct engine *e, const char *id, const char *rule)
{
    struct segment_def d = {.id = id, .rule = rule};
    json_t *doc;
    struct cxm_err err;
    cr_assert_eq(engine_segment_put(e, &d, SEG_CREATE, &doc, &err), 0, "%s", err.msg);
    json_decref(doc);
}

static void set_doc(struct engine *e, int (*set)(struct engine *, const char *, size_t,
                                                 struct cxm_err *), const char *json)
{
    struct cxm_err err;
    cr_assert_eq(set(e, json, strlen(json), &err), 0, "%s", err.msg);
}

/* The ids of the eligible actions of a decision, comma-separated, and the
 * rule that excluded `which` (NULL: it was eligible). */
static const char *decide(struct engine *e, uint32_t cust, const char *channel,
                          const char *which, char *ids, size_t sz, char *msg, size_t msz)
{
    struct decide_req q = {.customer = cust, .channel = channel, .log = true};
    struct decision d;
    struct cxm_err err;
    cr_assert_eq(engine_decide(e, &q, &d, &err), 0, "%s", err.msg);
    ids[0] = '\0';
    const char *rule = "absent";
    for (size_t i = 0; i < d.n; i++) {
        const char *a = decision_str(&d, d.items[i].action);
        if (d.items[i].eligible) {
            cr_assert_lt(i, d.neligible);
            strncat(ids, *ids ? "," : "", sz - strlen(ids) - 1);
            strncat(ids, a, sz - strlen(ids) - 1);
        }
        if (which && !strcmp(a, which)) {
            rule = d.items[i].eligible ? NULL : d.items[i].rule;
            if (msg && d.items[i].eligible)
                snprintf(msg, msz, "%s", decision_str(&d, d.items[i].message));
        }
    }
    decision_free(&d);
    return rule;
}

static int contact(struct engine *e, uint32_t cust, const char *action, int64_t ts, bool force,
                   struct cxm_err *err)
{
    struct contact_req c = {.customer = cust, .action = action, .channel = "email", .ts = ts,
                            .force = force};
    return engine_contacts(e, &c, 1, NULL, err);
}

Test(engine_personal, memberships_follow_records_attributes_and_the_day,
     .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    json_t *a = json_array();
    char em[32], id[32];
    /* 30 customers; customer i orders i % 4 times, the last one i days ago */
    for (int i = 0; i < 30; i++) {
        snprintf(em, sizeof em, "c%d@x.io", i);
        json_array_append_new(a, customer(em, "C", i % 2 ? "FR" : "DE", 1));
        for (int k = 0; k < i % 4; k++) {
            snprintf(id, sizeof id, "o%d-%d", i, k);
            json_array_append_new(a, order(em, id, NOW - (int64_t)(i + k) * DAY, "S1", "shoes"));
        }
    }
    fx_ingest(e, a, NOW);
    json_decref(a);
    put_segment(e, "repeat", "orders >= 2");
    put_segment(e, "fr-recent", "country = 'FR' and days_since_last_order <= 10");
    put_segment(e, "future", "country = 'IT'");
    /* independent counts */
    size_t rep = 0, fr = 0;
    for (int i = 0; i < 30; i++) {
        rep += i % 4 >= 2;
        fr += i % 2 && i % 4 >= 1 && i <= 10;
    }
    cr_assert_eq(members(e, "repeat"), rep);
    cr_assert_eq(members(e, "fr-recent"), fr);
    cr_assert_eq(members(e, "future"), 0);
    /* customer 0 (DE, no orders) buys twice and moves to IT, a country
     * the rule named before the data did */
    ingest1(e, order("c0@x.io", "n1", NOW - DAY, "S2", "bags"));
    ingest1(e, order("c0@x.io", "n2", NOW - DAY, "S2", "bags"));
    cr_assert_eq(members(e, "repeat"), rep + 1);
    ingest1(e, json_pack("{s:s, s:s, s:s}", "type", "customer", "email", "c0@x.io", "country",
                         "IT"));
    cr_assert_eq(members(e, "future"), 1);
    /* two days later, who bought 9 or 10 days ago drops out of fr-recent */
    engine_set_clock(e, NOW + 2 * DAY);
    size_t fr2 = 0;
    for (int i = 0; i < 30; i++)
        fr2 += i % 2 && i % 4 >= 1 && i <= 8;
    cr_assert_lt(fr2, fr);
    cr_assert_eq(members(e, "fr-recent"), fr2);
    /* members list pages through exactly the members */
    json_t *doc;
    struct cxm_err err;
    size_t seen = 0;
    uint32_t cur = 0;
    for (int guard = 0; guard < 100; guard++) {
        cr_assert_eq(engine_segment_members(e, "repeat", cur, 2, &doc, &err), 0, "%s", err.msg);
        seen += json_array_size(json_object_get(doc, "rows"));
        const char *nc = json_string_value(json_object_get(doc, "next_cursor"));
        cur = nc ? (uint32_t)atoi(nc) : 0;
        json_decref(doc);
        if (!nc)
            break;
    }
    cr_assert_eq(seen, rep + 1);
    engine_close(e);
    /* after a restart: the same definitions and counts */
    e = fx_open(true);
    engine_set_clock(e, NOW + 2 * DAY);
    cr_assert_eq(members(e, "repeat"), rep + 1);
    cr_assert_eq(members(e, "fr-recent"), fr2);
    cr_assert_eq(members(e, "future"), 1);
    engine_close(e);
}

Test(engine_personal, rules_errors_name_the_position_and_the_field, .init = fx_setup,
     .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    struct segment_def d = {.id = "x", .rule = "orders >= 2 and contry = 'FR'"};
    json_t *doc = NULL;
    struct cxm_err err;
    cr_assert_eq(engine_segment_put(e, &d, SEG_CREATE, &doc, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "rule");
    cr_assert(strstr(err.msg, "column 17: unknown field 'contry', did you mean 'country'?"),
              "%s", err.msg);
    d.rule = "channels = 'web'";
    cr_assert_eq(engine_segment_put(e, &d, SEG_CREATE, &doc, &err), CXM_EINVAL);
    cr_assert(strstr(err.msg, "channels contains 'x'"), "%s", err.msg);
    d = (struct segment_def){.id = "Bad Id", .rule = "orders > 1"};
    cr_assert_eq(engine_segment_put(e, &d, SEG_CREATE, &doc, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "id");
    put_segment(e, "ok", "orders > 1");
    d = (struct segment_def){.id = "ok", .rule = "orders > 2"};
    cr_assert_eq(engine_segment_put(e, &d, SEG_CREATE, &doc, &err), CXM_ECONFLICT);
    cr_assert_eq(engine_segment_delete(e, "nope", &err), CXM_ENOTFOUND);
    engine_close(e);
}

static const char *actions_doc =
    "{\"actions\": ["
    "{\"id\": \"promo\", \"kind\": \"promotion\", \"priority\": 2, \"message\": "
    "\"Hi {first_name|there}, new {top_category|things}!\"},"
    "{\"id\": \"thanks\", \"kind\": \"thank_you\", \"priority\": 1, \"segment\": \"buyers\","
    " \"message\": \"Thank you {name}\"},"
    "{\"id\": \"care\", \"kind\": \"service_follow_up\", \"priority\": 5, \"rule\":"
    " \"open_cases > 0\", \"channels\": [\"email\", \"phone\"], \"message\": \"About your case\"}"
    "]}";

Test(engine_personal, merged_profiles_share_caps_and_an_unmerge_splits_them,
     .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    json_t *a = json_array();
    json_array_append_new(a, customer("ann@x.io", "Ann", "FR", 1));
    json_array_append_new(a, customer("bob@x.io", "Bob", "FR", 1));
    fx_ingest(e, a, NOW);
    json_decref(a);
    put_segment(e, "buyers", "orders >= 1");
    set_doc(e, engine_set_actions, actions_doc);
    set_doc(e, engine_set_policy, "{\"caps\": [{\"kinds\": \"all\", \"max\": 2, \"days\": 7}],"
                                  " \"gaps\": []}");
    struct cxm_err err;
    char ids[256];
    /* one promotion each, 3 days ago */
    cr_assert_eq(contact(e, 1, "promo", NOW - 3 * DAY, false, &err), 0, "%s", err.msg);
    cr_assert_eq(contact(e, 2, "promo", NOW - 3 * DAY, false, &err), 0, "%s", err.msg);
    cr_assert_null(decide(e, 1, "email", "promo", ids, sizeof ids, NULL, 0));
    cr_assert_null(decide(e, 2, "email", "promo", ids, sizeof ids, NULL, 0));
    /* they turn out to be one person: two contacts in 7 days, at the cap */
    ingest1(e, json_pack("{s:s, s:s, s:s}", "type", "identify", "email", "ann@x.io", "phone",
                         "+33100000000"));
    ingest1(e, json_pack("{s:s, s:s, s:s}", "type", "identify", "email", "bob@x.io", "phone",
                         "+33100000000"));
    cr_assert_str_eq(decide(e, 1, "email", "promo", ids, sizeof ids, NULL, 0), "cap");
    cr_assert_str_eq(decide(e, 2, "email", "promo", ids, sizeof ids, NULL, 0), "cap");
    cr_assert_eq(contact(e, 2, "promo", 0, false, &err), CXM_ECONFLICT);
    cr_assert_str_eq(err.field, "cap");
    /* memberships follow the merge: one order each, two together */
    engine_close(e);
    e = fx_open(true);
    engine_set_clock(e, NOW);
    cr_assert_eq(members(e, "buyers"), 0);
    /* the cap lifts exactly 7 days after the older contact */
    engine_set_clock(e, NOW + 4 * DAY - 1);
    cr_assert_str_eq(decide(e, 1, "email", "promo", ids, sizeof ids, NULL, 0), "cap");
    engine_set_clock(e, NOW + 4 * DAY);
    cr_assert_null(decide(e, 1, "email", "promo", ids, sizeof ids, NULL, 0));
    engine_set_clock(e, NOW);
    put_segment(e, "pair", "orders >= 2");
    ingest1(e, order("ann@x.io", "m1", NOW - DAY, "S1", "shoes"));
    cr_assert_eq(members(e, "pair"), 0);
    ingest1(e, order("bob@x.io", "m2", NOW - DAY, "S1", "shoes"));   /* through node 2 */
    cr_assert_eq(members(e, "pair"), 1);
    cr_assert_eq(members(e, "buyers"), 1, "one profile, not two");
    /* unmerged, each has their own one contact again */
    struct engine_work w = {.op = ENGINE_UNMERGE, .customer = 2};
    cr_assert_eq(engine_run(e, &w), 0, "%s", w.err.msg);
    cr_assert_eq(members(e, "pair"), 0);
    cr_assert_eq(members(e, "buyers"), 2);
    cr_assert_null(decide(e, 1, "email", "promo", ids, sizeof ids, NULL, 0));
    cr_assert_null(decide(e, 2, "email", "promo", ids, sizeof ids, NULL, 0));
    /* a batch that would pass the cap is refused whole */
    struct contact_req two[2] = {{.customer = 1, .action = "promo", .channel = "sms"},
                                 {.customer = 1, .action = "promo", .channel = "web"}};
    cr_assert_eq(engine_contacts(e, two, 2, NULL, &err), CXM_ECONFLICT);
    cr_assert_eq(err.index, 1);
    cr_assert_null(decide(e, 1, "email", "promo", ids, sizeof ids, NULL, 0));
    engine_close(e);
}

Test(engine_personal, consent_withdrawn_after_a_decision_stops_the_contact,
     .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    json_t *a = json_array();
    json_array_append_new(a, customer("ann@x.io", "Ann", "FR", 1));
    json_array_append_new(a, order("ann@x.io", "o1", NOW - 60 * DAY, "S1", "shoes"));
    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:I}", "type", "interaction",
                                       "email", "ann@x.io", "kind", "complaint", "channel",
                                       "phone", "ts", (json_int_t)NOW - DAY));
    fx_ingest(e, a, NOW);
    json_decref(a);
    put_segment(e, "buyers", "orders >= 1");
    set_doc(e, engine_set_actions, actions_doc);
    char ids[256];
    /* an open complaint: the follow-up (email only), no promotion */
    cr_assert_str_eq(decide(e, 1, "sms", "care", ids, sizeof ids, NULL, 0), "channel");
    cr_assert_null(decide(e, 1, "email", "care", ids, sizeof ids, NULL, 0));
    cr_assert_str_eq(decide(e, 1, "email", "promo", ids, sizeof ids, NULL, 0),
                     "suppress.open_case");
    cr_assert_str_eq(ids, "care,thanks");
    /* resolved: promotions are back */
    ingest1(e, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "type", "interaction", "email",
                         "ann@x.io", "kind", "call", "channel", "phone", "outcome", "resolved",
                         "ts", (json_int_t)NOW - 3600));
    cr_assert_null(decide(e, 1, "email", "promo", ids, sizeof ids, NULL, 0));
    cr_assert_str_eq(ids, "promo,thanks");
    /* the promotion is queued; she withdraws marketing consent; sending
     * it now is refused, a service follow-up still goes */
    ingest1(e, json_pack("{s:s, s:s, s:{s:b}}", "type", "customer", "email", "ann@x.io",
                         "consent", "marketing", 0));
    struct cxm_err err;
    cr_assert_eq(contact(e, 1, "promo", 0, false, &err), CXM_ECONFLICT);
    cr_assert_str_eq(err.field, "consent.marketing");
    struct contact_req c = {.customer = 1, .kind = 3 /* service_follow_up */, .channel = "phone"};
    cr_assert_eq(engine_contacts(e, &c, 1, NULL, &err), 0, "%s", err.msg);
    cr_assert_str_eq(decide(e, 1, "email", "thanks", ids, sizeof ids, NULL, 0),
                     "consent.marketing");
    engine_close(e);
}

Test(engine_personal, messages_are_escaped_for_the_channel, .init = fx_setup,
     .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    ingest1(e, customer("eve@x.io", "<script>alert(1)</script> & 'Co'", "FR", 1));
    ingest1(e, order("eve@x.io", "o1", NOW - 60 * DAY, "S1", "shoes"));
    put_segment(e, "buyers", "orders >= 1");
    set_doc(e, engine_set_actions, actions_doc);
    char ids[256], msg[512];
    cr_assert_null(decide(e, 1, "web", "thanks", ids, sizeof ids, msg, sizeof msg));
    cr_assert_str_eq(msg, "Thank you &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;Co&#39;");
    cr_assert_null(decide(e, 1, "email", "thanks", ids, sizeof ids, msg, sizeof msg));
    cr_assert_str_eq(msg, "Thank you &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;Co&#39;");
    cr_assert_null(decide(e, 1, "sms", "thanks", ids, sizeof ids, msg, sizeof msg));
    cr_assert_str_eq(msg, "Thank you <script>alert(1)</script> & 'Co'");
    cr_assert_null(decide(e, 1, "web", "promo", ids, sizeof ids, msg, sizeof msg));
    cr_assert_str_eq(msg, "Hi &lt;script&gt;alert(1)&lt;/script&gt;, new shoes!");
    engine_close(e);
}

Test(engine_personal, a_segment_in_use_cannot_go_and_settings_survive_a_restart,
     .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    ingest1(e, customer("ann@x.io", "Ann", "FR", 1));
    put_segment(e, "buyers", "orders >= 1");
    struct cxm_err err;
    /* an action naming a segment that does not exist */
    const char *bad = "{\"actions\": [{\"id\": \"a\", \"kind\": \"promotion\", \"segment\":"
                      " \"nobody\", \"message\": \"x\"}]}";
    cr_assert_eq(engine_set_actions(e, bad, strlen(bad), &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "segment");
    cr_assert_eq(err.index, 0);
    set_doc(e, engine_set_actions, actions_doc);
    set_doc(e, engine_set_policy, "{\"suppress\": {\"survey_answered_days\": 14}}");
    cr_assert_eq(engine_segment_delete(e, "buyers", &err), CXM_ECONFLICT);
    char ids[256];
    for (int i = 0; i < 5; i++)
        decide(e, 1, "email", NULL, ids, sizeof ids, NULL, 0);
    engine_close(e);
    e = fx_open(true);
    engine_set_clock(e, NOW);
    json_t *doc;
    cr_assert_eq(engine_actions(e, &doc, &err), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "actions")), 3);
    json_decref(doc);
    cr_assert_eq(engine_policy(e, &doc, &err), 0);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "suppress"),
                                                    "survey_answered_days")), 14);
    json_decref(doc);
    /* the five decisions reached the store's log, and ids go on */
    struct decide_req q = {.customer = 1, .channel = "web", .log = true};
    struct decision d;
    cr_assert_eq(engine_decide(e, &q, &d, &err), 0);
    cr_assert_eq(d.id, 6);
    decision_free(&d);
    engine_close(e);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(fx_db, &db), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*), max(id) FROM decision", -1, &st,
                                    NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 6);
    cr_assert_eq(sqlite3_column_int(st, 1), 6);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

Test(engine_personal, recommendations_never_offer_what_is_owned, .init = fx_setup,
     .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    json_t *a = json_array();
    char em[32], id[32], sku[16];
    /* 200 customers over 40 items in 4 categories; category 3 is food */
    static const char *const cats[] = {"shoes", "bags", "tents", "food"};
    unsigned seed = 7;
    int owned[200][40] = {{0}};
    for (int c = 0; c < 200; c++) {
        snprintf(em, sizeof em, "c%d@x.io", c);
        int n = 1 + c % 5;
        for (int k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            int item = (int)((seed >> 16) % 10) + 10 * (c % 4);
            if (k % 2)
                item = (item + 13) % 40;
            snprintf(id, sizeof id, "o%d-%d", c, k);
            snprintf(sku, sizeof sku, "I%02d", item);
            json_array_append_new(a, order(em, id, NOW - (int64_t)(n - k) * DAY, sku,
                                           cats[item / 10]));
            owned[c][item] = 1;
        }
    }
    fx_ingest(e, a, NOW);
    json_decref(a);
    struct cxm_err err;
    json_t *doc;
    size_t consumables_back = 0;
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            set_doc(e, engine_set_rec_settings, "{\"consumable_categories\": [\"food\"]}");
        for (uint32_t c = 1; c <= 200; c++) {
            cr_assert_eq(engine_recommendations(e, c, 10, &doc, &err), 0, "%s", err.msg);
            json_t *items = json_object_get(doc, "items");
            cr_assert_eq(json_array_size(items), 10);
            size_t i;
            json_t *it;
            json_array_foreach(items, i, it) {
                int item = atoi(json_string_value(json_object_get(it, "sku")) + 1);
                bool food = item >= 30;
                if (owned[c - 1][item]) {
                    cr_assert(round == 1 && food, "customer %u was offered owned item %d", c,
                              item);
                    consumables_back++;
                }
                const char *why = json_string_value(json_object_get(it, "reason"));
                if (!strcmp(why, "together")) {
                    int b = atoi(json_string_value(json_object_get(it, "because")) + 1);
                    cr_assert(owned[c - 1][b], "because %d is not owned", b);
                }
            }
            json_decref(doc);
        }
    }
    cr_assert_gt(consumables_back, 0);
    cr_assert_eq(engine_similar(e, "I05", 5, &doc, &err), 0, "%s", err.msg);
    cr_assert_gt(json_array_size(json_object_get(doc, "similar")), 0);
    json_decref(doc);
    cr_assert_eq(engine_similar(e, "nope", 5, &doc, &err), CXM_ENOTFOUND);
    /* churn drivers by segment: each member with orders counts once */
    put_segment(e, "three-plus", "orders >= 3");
    struct clv_fit_opts fo = {.unit = "day"};
    cr_assert_eq(engine_clv_fit(e, &fo, &doc, &err), 0, "%s", err.msg);
    json_decref(doc);
    struct clv_predict_opts po = {.horizon = 30};
    cr_assert_eq(engine_churn_drivers(e, &po, &doc, &err), 0, "%s", err.msg);
    json_t *dims = json_object_get(doc, "drivers"), *dim;
    size_t k;
    bool seen = false;
    json_array_foreach(dims, k, dim) {
        if (strcmp(json_string_value(json_object_get(dim, "dimension")), "segment"))
            continue;
        json_t *row = json_array_get(json_object_get(dim, "rows"), 0);
        cr_assert_str_eq(json_string_value(json_object_get(row, "group")), "three-plus");
        int want = 0;
        for (int c = 0; c < 200; c++)
            want += 1 + c % 5 >= 3;
        cr_assert_eq(json_integer_value(json_object_get(row, "n")), want);
        seen = true;
    }
    cr_assert(seen);
    json_decref(doc);
    engine_close(e);
}

Test(engine_personal, segment_is_a_report_dimension_and_filter, .init = fx_setup,
     .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    json_t *a = json_array();
    char em[32];
    /* 60 customers, scores (i * 7) % 11; FR buy twice */
    int p[2] = {0}, d[2] = {0}, n[2] = {0};
    for (int i = 0; i < 60; i++) {
        snprintf(em, sizeof em, "c%d@x.io", i);
        bool fr = i % 3 == 0;
        json_array_append_new(a, customer(em, "C", fr ? "FR" : "DE", 1));
        int s = (i * 7) % 11;
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:I}", "type", "feedback",
                                           "email", em, "kind", "nps", "score", s, "ts",
                                           (json_int_t)NOW - 10 * DAY));
        /* segment 0: fr, segment 1: everyone with score >= 5 (last_nps) */
        for (int k = 0; k < 2; k++) {
            bool in = k == 0 ? fr : s >= 5;
            if (!in)
                continue;
            n[k]++;
            p[k] += s >= 9;
            d[k] += s <= 6;
        }
    }
    fx_ingest(e, a, NOW);
    json_decref(a);
    put_segment(e, "fr", "country = 'FR'");
    put_segment(e, "warm", "last_nps >= 5");
    struct report_query q = {.metric = "nps", .by = "segment", .from = 0, .to = NOW + DAY};
    json_t *doc;
    struct cxm_err err;
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s", err.msg);
    json_t *rows = json_object_get(doc, "rows");
    size_t i;
    json_t *row;
    int found = 0;
    json_array_foreach(rows, i, row) {
        const char *sg = json_string_value(json_object_get(row, "segment"));
        int k = sg && !strcmp(sg, "fr") ? 0 : sg && !strcmp(sg, "warm") ? 1 : -1;
        if (k < 0)
            continue;
        found++;
        cr_assert_eq(json_integer_value(json_object_get(row, "n")), n[k]);
        double want = 100.0 * (p[k] - d[k]) / n[k];
        cr_assert_float_eq(json_number_value(json_object_get(row, "value")), want, 1e-9);
    }
    cr_assert_eq(found, 2);
    json_decref(doc);
    q.by = NULL;
    q.where = "segment('fr') and not segment contains 'warm'";
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s", err.msg);
    int nn = 0;
    for (int c = 0; c < 60; c++)
        nn += c % 3 == 0 && (c * 7) % 11 < 5;
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(doc, "rows"),
                                                                   0), "n")), nn);
    json_decref(doc);
    q.where = "segment('nope')";
    cr_assert_eq(engine_report(e, &q, &doc, &err), 0, "%s", err.msg);
    cr_assert_eq(json_array_size(json_object_get(doc, "rows")), 0);
    json_decref(doc);
    engine_close(e);
}

Test(engine_personal, uplift_splits_the_proposed_by_contact_and_counts_orders,
     .init = fx_setup, .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    json_t *a = json_array();
    char em[32];
    for (int i = 0; i < 12; i++) {
        snprintf(em, sizeof em, "u%d@x.io", i);
        json_array_append_new(a, customer(em, "U", "FR", 1));
    }
    fx_ingest(e, a, NOW);
    json_decref(a);
    set_doc(e, engine_set_actions, "{\"actions\": [{\"id\": \"svy\", \"kind\": \"survey\","
                                   " \"message\": \"tell us\"}]}");
    set_doc(e, engine_set_policy, "{\"caps\": [], \"gaps\": [], \"consent\": {\"surveys\": []}}");
    char ids[64];
    /* proposed to all twelve (customer 1 twice: counted once, at the first) */
    for (uint32_t c = 1; c <= 12; c++)
        decide(e, c, "email", NULL, ids, sizeof ids, NULL, 0);
    decide(e, 1, "email", NULL, ids, sizeof ids, NULL, 0);
    /* 0-5 contacted (one of them 8 days later: too late to count), 6-11 not;
     * orders: 0, 1, 2 and 6 within 30 days, 7 after 40 days */
    struct cxm_err err;
    for (int i = 0; i < 6; i++) {
        struct contact_req c = {.customer = (uint32_t)i + 1, .kind = 2, .channel = "email",
                                .ts = NOW + (i == 5 ? 8 * DAY : DAY)};
        cr_assert_eq(engine_contacts(e, &c, 1, NULL, &err), 0, "%s", err.msg);
    }
    static const int buyers[] = {0, 1, 2, 6, 7};
    for (int k = 0; k < 5; k++) {
        char id[16];
        snprintf(em, sizeof em, "u%d@x.io", buyers[k]);
        snprintf(id, sizeof id, "up%d", k);
        ingest1(e, order(em, id, NOW + (buyers[k] == 7 ? 40 : 10) * DAY, "S", "shoes"));
    }
    engine_close(e);                     /* the log is written at close */
    e = fx_open(true);
    struct uplift_query q = {.action = "svy", .from = 0, .to = INT64_MAX, .days = 30};
    json_t *doc;
    /* the window is not over yet: everyone pending */
    engine_set_clock(e, NOW + 10 * DAY);
    cr_assert_eq(engine_uplift(e, &q, &doc, &err), 0, "%s", err.msg);
    cr_assert_eq(json_integer_value(json_object_get(doc, "decisions")), 13);
    cr_assert_eq(json_integer_value(json_object_get(doc, "customers")), 12);
    cr_assert_eq(json_integer_value(json_object_get(doc, "pending")), 12);
    json_decref(doc);
    engine_set_clock(e, NOW + 31 * DAY);
    cr_assert_eq(engine_uplift(e, &q, &doc, &err), 0, "%s", err.msg);
    json_t *c = json_object_get(doc, "contacted"), *nc = json_object_get(doc, "not_contacted");
    cr_assert_eq(json_integer_value(json_object_get(c, "customers")), 5);
    cr_assert_eq(json_integer_value(json_object_get(c, "ordered")), 3);
    cr_assert_eq(json_integer_value(json_object_get(nc, "customers")), 7);
    cr_assert_eq(json_integer_value(json_object_get(nc, "ordered")), 1);
    double p1 = 3.0 / 5, p0 = 1.0 / 7;
    cr_assert_float_eq(json_number_value(json_object_get(doc, "uplift")), p1 - p0, 1e-12);
    cr_assert_float_eq(json_number_value(json_object_get(doc, "margin")),
                       1.96 * sqrt(p1 * (1 - p1) / 5 + p0 * (1 - p0) / 7), 1e-12);
    json_decref(doc);
    q.action = "nope";
    cr_assert_eq(engine_uplift(e, &q, &doc, &err), CXM_ENOTFOUND);
    engine_close(e);
}

Test(engine_personal, a_holdout_is_a_fixed_random_control_group, .init = fx_setup,
     .fini = fx_teardown)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    json_t *a = json_array();
    char em[32];
    enum { N = 400 };
    for (int i = 0; i < N; i++) {
        snprintf(em, sizeof em, "h%d@x.io", i);
        json_array_append_new(a, customer(em, "H", "FR", 1));
    }
    fx_ingest(e, a, NOW);
    json_decref(a);
    set_doc(e, engine_set_actions, "{\"actions\": [{\"id\": \"t\", \"kind\": \"thank_you\","
                                   " \"holdout\": 0.3, \"message\": \"thanks\"},"
                                   " {\"id\": \"u\", \"kind\": \"thank_you\", \"holdout\": 0.3,"
                                   " \"message\": \"thanks\"}]}");
    set_doc(e, engine_set_policy, "{\"caps\": [], \"gaps\": []}");
    char ids[64];
    bool held[N + 1], held_u[N + 1];
    int nheld = 0, both = 0;
    for (uint32_t c = 1; c <= N; c++) {
        held[c] = decide(e, c, "web", "t", ids, sizeof ids, NULL, 0) != NULL;
        held_u[c] = decide(e, c, "web", "u", ids, sizeof ids, NULL, 0) != NULL;
        /* the same customer stays in the same group */
        cr_assert_eq(decide(e, c, "email", "t", ids, sizeof ids, NULL, 0) != NULL, held[c]);
        if (held[c])
            cr_assert_str_eq(decide(e, c, "web", "t", ids, sizeof ids, NULL, 0), "holdout");
        nheld += held[c];
        both += held[c] && held_u[c];
    }
    /* about 30% held out (binomial: 120 +- 4.5 sd), the two actions' groups
     * drawn independently (about 9% in both) */
    cr_assert(nheld > 120 - 41 && nheld < 120 + 41, "%d held out of %d", nheld, N);
    cr_assert(both > 36 - 22 && both < 36 + 22, "%d in both groups", both);
    /* orders: every third customer, whatever their group */
    int n_prop = 0, c_prop = 0, n_held = 0, c_held = 0;
    for (int i = 0; i < N; i++) {
        bool buys = i % 3 == 0;
        if (buys) {
            char id[16];
            snprintf(em, sizeof em, "h%d@x.io", i);
            snprintf(id, sizeof id, "ho%d", i);
            ingest1(e, order(em, id, NOW + 5 * DAY, "S", "shoes"));
        }
        if (held[i + 1]) {
            n_held++;
            c_held += buys;
        } else {
            n_prop++;
            c_prop += buys;
        }
    }
    engine_set_clock(e, NOW + 40 * DAY);
    struct uplift_query q = {.action = "t", .from = 0, .to = INT64_MAX, .days = 30};
    json_t *doc;
    struct cxm_err err;
    cr_assert_eq(engine_uplift(e, &q, &doc, &err), 0, "%s", err.msg);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "method")), "holdout");
    json_t *pg = json_object_get(doc, "proposed"), *hg = json_object_get(doc, "held_out");
    cr_assert_eq(json_integer_value(json_object_get(pg, "customers")), n_prop);
    cr_assert_eq(json_integer_value(json_object_get(pg, "ordered")), c_prop);
    cr_assert_eq(json_integer_value(json_object_get(hg, "customers")), n_held);
    cr_assert_eq(json_integer_value(json_object_get(hg, "ordered")), c_held);
    cr_assert_float_eq(json_number_value(json_object_get(doc, "uplift")),
                       (double)c_prop / n_prop - (double)c_held / n_held, 1e-12);
    json_decref(doc);
    engine_close(e);
}
