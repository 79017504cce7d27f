/* Personalisation over real HTTP: segments (create, errors, members in
 * JSON and CSV, update, delete), the catalogue and the policy, a decision
 * with its reasons, contacts refused and recorded, recommendations, roles,
 * and everything still there after a restart. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(personal_api, .fini = harness_fini);

#define NOW_TS 1767225600        /* 2026-01-01 */

static void load(struct srv *s)
{
    json_t *arr = json_array();
    for (int i = 0; i < 12; i++) {
        char email[32], oid[32], name[32];
        snprintf(email, sizeof email, "p%d@x.io", i);
        snprintf(name, sizeof name, "Pat%d <b>", i);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:{s:b,s:b}}", "type",
            "customer", "email", email, "name", name, "country", i % 2 ? "FR" : "DE",
            "consent", "marketing", i % 3 != 0, "surveys", 1));
        for (int k = 0; k <= i % 3; k++) {
            snprintf(oid, sizeof oid, "o%d-%d", i, k);
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:f,s:I,s:[{s:s,s:s,s:i,s:f}]}",
                "type", "order", "email", email, "order_id", oid, "amount", 30.0, "ts",
                (json_int_t)NOW_TS - 86400 * (k + 1), "items", "sku", k ? "TENT-2" : "TENT-1",
                "category", "tents", "qty", 1, "price", 30.0));
        }
    }
    json_decref(post_events(s, s->admin, arr, 200));
    json_decref(arr);
}

Test(personal_api, segments_decisions_contacts_and_recommendations)
{
    struct srv s;
    srv_start(&s);
    load(&s);
    char *analyst = srv_key(&s, "analyst"), *agent = srv_key(&s, "agent");
    long code;
    /* segments: an analyst defines, a rule error names the column */
    json_t *sg = http_json(&s, "POST", "/v1/segments", analyst, "application/json",
                           "{\"id\":\"repeat\",\"name\":\"Repeat buyers\","
                           "\"rule\":\"orders >= 2 and country = 'FR'\"}", 201);
    int want = 0;
    for (int i = 0; i < 12; i++)
        want += i % 2 && i % 3 >= 1;
    cr_assert_eq(jint(sg, "members"), want);
    json_decref(sg);
    char *b = http(&s, "POST", "/v1/segments", analyst, "application/json",
                   "{\"id\":\"x\",\"rule\":\"orders >= 2 and (country = 'FR'\"}", &code);
    cr_assert_eq(code, 400);
    cr_assert(strstr(b, "column 32: expected ')' to close the '(' at column 17"), "%s", b);
    free(b);
    b = http(&s, "POST", "/v1/segments", analyst, "application/json",
             "{\"id\":\"repeat\",\"rule\":\"orders > 0\"}", &code);
    cr_assert_eq(code, 409);
    free(b);
    /* a body that is not well-formed JSON is invalid_json, as on every
     * route; well-formed but not an object is invalid */
    json_t *bad = http_json(&s, "POST", "/v1/segments", analyst, "application/json",
                            "{\"id\":", 400);
    cr_assert_str_eq(jstr(bad, "error.code"), "invalid_json");
    json_decref(bad);
    bad = http_json(&s, "POST", "/v1/segments", analyst, "application/json", "[1]", 400);
    cr_assert_str_eq(jstr(bad, "error.code"), "invalid");
    cr_assert_str_eq(jstr(bad, "error.message"), "the segment must be a JSON object");
    json_decref(bad);
    /* members: agents see people, analysts do not */
    b = http(&s, "GET", "/v1/segments/repeat/members", analyst, NULL, NULL, &code);
    cr_assert_eq(code, 403);
    free(b);
    json_t *m = get_json(&s, "/v1/segments/repeat/members?limit=1", agent);
    cr_assert_eq(json_array_size(jget(m, "rows")), 1);
    cr_assert_not_null(jget(m, "next_cursor"));
    json_decref(m);
    b = http(&s, "GET", "/v1/segments/repeat/members?format=csv", agent, NULL, NULL, &code);
    cr_assert_eq(code, 200);
    cr_assert(strstr(s.ctype, "text/csv"), "%s", s.ctype);
    cr_assert(!strncmp(b, "id,name,country,orders,revenue,last_nps\r\n", 41), "%s", b);
    cr_assert(strstr(b, ",\"Pat1 <b>\",FR,2,60.00,\r\n") || strstr(b, ",Pat1 <b>,FR,2,60.00,\r\n"),
              "%s", b);
    free(b);
    /* without limit the CSV holds every member; with one, that page */
    int lines = 0;
    b = http(&s, "GET", "/v1/segments/repeat/members?format=csv", agent, NULL, NULL, &code);
    for (const char *q = b; (q = strstr(q, "\r\n")); q += 2)
        lines++;
    cr_assert_eq(lines, want + 1, "a header and every member");
    free(b);
    b = http(&s, "GET", "/v1/segments/repeat/members?format=csv&limit=1", agent, NULL, NULL, &code);
    lines = 0;
    for (const char *q = b; (q = strstr(q, "\r\n")); q += 2)
        lines++;
    cr_assert_eq(lines, 2, "a header and one member");
    free(b);
    /* a new order moves a customer in without anyone asking */
    json_t *one = json_pack("[{s:s,s:s,s:s,s:f,s:[{s:s,s:s,s:i,s:f}]}]", "type", "order",
                            "email", "p3@x.io", "order_id", "late-1", "amount", 5.0, "items",
                            "sku", "TENT-1", "category", "tents", "qty", 1, "price", 5.0);
    json_decref(post_events(&s, s.admin, one, 200));
    json_decref(one);
    sg = get_json(&s, "/v1/segments/repeat", agent);
    cr_assert_eq(jint(sg, "members"), want + 1);
    json_decref(sg);
    json_t *fe = get_json(&s, "/v1/features", analyst);
    cr_assert_eq(json_array_size(jget(fe, "features")), 27);
    cr_assert_str_eq(jstr(fe, "features[25].name"), "channels");
    cr_assert_str_eq(jstr(fe, "features[25].type"), "set");
    json_decref(fe);
    json_t *pv = http_json(&s, "POST", "/v1/segments/preview", analyst, "application/json",
                           "{\"rule\":\"bought_category('tents')\"}", 200);
    cr_assert_eq(jint(pv, "members"), 12);
    json_decref(pv);
    /* the catalogue: admin only; a bad template is a 400 naming the action */
    const char *cat = "{\"actions\":[{\"id\":\"thanks\",\"kind\":\"thank_you\",\"segment\":"
                      "\"repeat\",\"priority\":2,\"channels\":[\"web\",\"email\"],\"message\":"
                      "\"Thanks {first_name}!\"},{\"id\":\"svy\",\"kind\":\"survey\","
                      "\"message\":\"Tell us how we did\"}]}";
    b = http(&s, "PUT", "/v1/actions", analyst, "application/json", cat, &code);
    cr_assert_eq(code, 403);
    free(b);
    b = http(&s, "PUT", "/v1/actions", s.admin, "application/json",
             "{\"actions\":[{\"id\":\"a\",\"kind\":\"promotion\",\"message\":\"Hi {nmae}\"}]}",
             &code);
    cr_assert_eq(code, 400);
    cr_assert(strstr(b, "\"index\":0") && strstr(b, "unknown variable"), "%s", b);
    free(b);
    json_decref(http_json(&s, "PUT", "/v1/actions", s.admin, "application/json", cat, 200));
    b = http(&s, "DELETE", "/v1/segments/repeat", analyst, NULL, NULL, &code);
    cr_assert_eq(code, 409);
    free(b);
    /* p1: FR, two orders, marketing yes: thanks on web, escaped */
    json_t *d = http_json(&s, "POST", "/v1/decide", agent, "application/json",
                          "{\"customer\":2,\"channel\":\"web\",\"context\":{\"page\":\"home\"}}",
                          200);
    cr_assert_str_eq(jstr(d, "actions[0].action"), "thanks");
    cr_assert_str_eq(jstr(d, "actions[0].message"), "Thanks Pat1!");
    cr_assert_str_eq(jstr(d, "actions[1].action"), "svy");
    cr_assert_gt(jint(d, "decision"), 0);
    json_decref(d);
    /* the profile lists the segments it is in */
    json_t *pc = get_json(&s, "/v1/customers/2", agent);
    cr_assert_eq(json_array_size(jget(pc, "segments")), 1);
    cr_assert_str_eq(jstr(pc, "segments[0]"), "repeat");
    json_decref(pc);
    /* a channel the action is not on */
    d = http_json(&s, "POST", "/v1/decide", agent, "application/json",
                  "{\"customer\":2,\"channel\":\"sms\"}", 200);
    cr_assert_str_eq(jstr(d, "excluded[0].action"), "thanks");
    cr_assert_str_eq(jstr(d, "excluded[0].rule"), "channel");
    json_decref(d);
    /* contacts: the survey goes once; a second is refused by the cap */
    json_t *c = http_json(&s, "POST", "/v1/contacts", agent, "application/json",
                          "{\"customer\":2,\"action\":\"svy\",\"channel\":\"email\"}", 201);
    json_decref(c);
    b = http(&s, "POST", "/v1/contacts", agent, "application/json",
             "{\"customer\":2,\"action\":\"svy\",\"channel\":\"email\"}", &code);
    cr_assert_eq(code, 409);
    cr_assert(strstr(b, "\"field\":\"cap\""), "%s", b);
    free(b);
    b = http(&s, "POST", "/v1/contacts", agent, "application/json",
             "{\"customer\":2,\"kind\":\"gossip\"}", &code);
    cr_assert_eq(code, 400);
    cr_assert(strstr(b, "\"field\":\"kind\""), "%s", b);
    free(b);
    b = http(&s, "POST", "/v1/decide", agent, "application/json",
             "{\"customer\":999,\"channel\":\"web\"}", &code);
    cr_assert_eq(code, 404);
    free(b);
    d = http_json(&s, "POST", "/v1/decide", agent, "application/json",
                  "{\"customer\":2,\"channel\":\"web\"}", 200);
    cr_assert_str_eq(jstr(d, "excluded[0].action"), "svy");
    cr_assert_str_eq(jstr(d, "excluded[0].rule"), "cap");
    cr_assert_not_null(jget(d, "excluded[0].until"));
    json_decref(d);
    /* recommendations: never an owned tent; similar items */
    json_t *r = get_json(&s, "/v1/customers/1/recommendations?n=5", agent);
    size_t i;
    json_t *it;
    json_array_foreach(jget(r, "items"), i, it)
        cr_assert_str_neq(jstr(it, "sku"), "TENT-1");
    json_decref(r);
    r = get_json(&s, "/v1/items/TENT-1/similar", analyst);
    cr_assert_str_eq(jstr(r, "similar[0].sku"), "TENT-2");
    json_decref(r);
    b = http(&s, "GET", "/v1/items/NOPE/similar", analyst, NULL, NULL, &code);
    cr_assert_eq(code, 404);
    free(b);
    /* metrics by segment answer */
    json_t *rep = get_json(&s, "/v1/metrics?metric=customers&where=segment('repeat')", analyst);
    json_decref(rep);
    /* the decision log, read back: customer 2 was proposed the survey */
    json_t *up = get_json(&s, "/v1/decisions/uplift?action=svy&days=7", analyst);
    cr_assert_eq(jint(up, "customers"), 1);
    cr_assert_eq(jint(up, "pending"), 1);
    json_decref(up);
    b = http(&s, "GET", "/v1/decisions/uplift?action=svy", agent, NULL, NULL, &code);
    cr_assert_eq(code, 403);
    free(b);
    b = http(&s, "GET", "/v1/decisions/uplift?action=svy&days=0", analyst, NULL, NULL, &code);
    cr_assert_eq(code, 400);
    free(b);
    /* the decisions and the contact are counted in /metrics */
    cr_assert_eq(srv_metric(&s, "cxm_contacts"), 1);
    cr_assert_eq(srv_metric(&s, "cxm_segments"), 1);
    cr_assert_eq(srv_metric(&s, "cxm_decisions_total"), 3);
    /* a restart keeps segments, the catalogue and the contact */
    srv_stop(&s);
    srv_start_on(&s, s.db);
    sg = get_json(&s, "/v1/segments/repeat", agent);
    cr_assert_eq(jint(sg, "members"), want + 1);
    json_decref(sg);
    d = http_json(&s, "POST", "/v1/decide", agent, "application/json",
                  "{\"customer\":2,\"channel\":\"web\"}", 200);
    cr_assert_str_eq(jstr(d, "excluded[0].rule"), "cap");
    json_decref(d);
    json_decref(http_json(&s, "DELETE", "/v1/segments/repeat", s.admin, NULL, NULL, 409));
    free(analyst);
    free(agent);
    srv_stop(&s);
    srv_cleanup(&s);
}
