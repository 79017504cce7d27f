/* Text analytics and lifetime value over real HTTP: scores at ingest,
 * explanations, pain points, emerging phrases, comment search, the
 * taxonomy; the CLV fit, model, predictions, at-risk list and drivers;
 * roles and errors on each route; the CLI giving the same answers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(text_clv_api, .fini = harness_fini);

#define DAY 86400
#define BASE 1767225600          /* 2026-01-01 */

static const char *const comments[] = {
    "Delivery was quick and the courier was lovely",
    "Staff were rude and the queue was endless",
    "Way too expensive for the quality",
    "The app crashed twice during checkout",
    "Refund arrived quickly, thank you!",
    "Charged twice, still waiting for my money back",
};

static void ingest(struct srv *s)
{
    json_t *arr = json_array();
    for (int i = 0; i < 60; i++) {
        char email[32], id[16];
        snprintf(email, sizeof email, "p%d@x.io", i % 20);
        snprintf(id, sizeof id, "f%d", i);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:I}", "type",
            "feedback", "email", email, "event_id", id, "kind", "nps", "score", i % 11,
            "comment", comments[i % 6], "touchpoint", i % 2 ? "store" : "web",
            "ts", (json_int_t)BASE + (json_int_t)i * DAY));
    }
    /* orders: each customer buys every 9 + (c % 5) days for a while */
    int k = 0;
    for (int c = 0; c < 20; c++)
        for (int d = c; d < 200 - 3 * c; d += 9 + c % 5) {
            char email[32], oid[16];
            snprintf(email, sizeof email, "p%d@x.io", c);
            snprintf(oid, sizeof oid, "o%d", k++);
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:f,s:I}", "type", "order",
                "email", email, "order_id", oid, "amount", 20.0 + c * 3 + d % 7,
                "ts", (json_int_t)BASE + (json_int_t)d * DAY));
        }
    json_decref(post_events(s, s->admin, arr, 200));
    json_decref(arr);
}

static json_t *cli_json(struct srv *s, const char *args)
{
    const char *bin = getenv("CXM_BIN") ? getenv("CXM_BIN") : "./cxm";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s --db %s --format json 2>/dev/null", bin, args, s->db);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    static char out[1 << 20];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s", cmd);
    return jload(out);
}

Test(text_clv_api, text_routes_roles_and_errors)
{
    struct srv s;
    srv_start(&s);
    ingest(&s);
    char *analyst = srv_key(&s, "analyst"), *agent = srv_key(&s, "agent"),
         *writer = srv_key(&s, "writer");
    long st;

    /* one text, explained */
    json_t *d = get_json(&s, "/v1/text/sentiment?text=The%20staff%20were%20NOT%20helpful%20%3A(&explain=1",
                         agent);
    cr_assert(jnum(d, "compound") < -0.05);
    cr_assert_str_eq(jstr(d, "label"), "negative");
    cr_assert(json_array_size(jget(d, "terms")) >= 2, "explained: %s", jdump(d));
    json_decref(d);
    /* POSTed text, and invalid UTF-8 is a 400 naming the field */
    d = http_json(&s, "POST", "/v1/text/sentiment", analyst, "text/plain",
                  "fast delivery but rude staff", 200);
    /* "fast" is also speed: delivery and speed positive, staff negative */
    json_t *x;
    size_t k;
    int checked = 0;
    json_array_foreach(jget(d, "aspects"), k, x) {
        const char *th = jstr(x, "theme");
        if (!strcmp(th, "delivery") || !strcmp(th, "staff")) {
            cr_assert((jnum(x, "sentiment") > 0) == !strcmp(th, "delivery"), "%s", jdump(d));
            checked++;
        }
    }
    cr_assert_eq(checked, 2, "%s", jdump(d));
    json_decref(d);
    char *b = http(&s, "POST", "/v1/text/sentiment", analyst, "text/plain", "bad \xff\xfe", &st);
    cr_assert_eq(st, 400);
    cr_assert(strstr(b, "\"field\":\"text\""), "%s", b);
    free(b);
    b = http(&s, "GET", "/v1/text/sentiment?text=hi", writer, NULL, NULL, &st);
    cr_assert_eq(st, 403);
    free(b);

    /* sentiment is a metric, theme a dimension */
    d = get_json(&s, "/v1/metrics?metric=sentiment&by=touchpoint", analyst);
    cr_assert_eq(json_array_size(jget(d, "rows")), 2);
    json_decref(d);

    /* pain points: analysts yes, agents no; same rows as the CLI */
    d = get_json(&s, "/v1/text/themes", analyst);
    cr_assert(json_array_size(jget(d, "rows")) >= 4, "%s", jdump(d));
    json_t *cli = cli_json(&s, "text themes");
    cr_assert_str_eq(jdump(jget(d, "rows")), jdump(jget(cli, "rows")));
    json_decref(cli);
    json_decref(d);
    b = http(&s, "GET", "/v1/text/themes", agent, NULL, NULL, &st);
    cr_assert_eq(st, 403);
    free(b);
    b = http(&s, "GET", "/v1/text/themes?where=nope%20%3D%201", analyst, NULL, NULL, &st);
    cr_assert_eq(st, 400);
    cr_assert(strstr(b, "\"field\":\"where\""), "%s", b);
    free(b);

    /* comments: agents yes (personal data), analysts no; search; paging */
    d = get_json(&s, "/v1/feedback?search=refund&limit=3", agent);
    cr_assert_eq(json_array_size(jget(d, "items")), 3);
    cr_assert(strstr(jstr(d, "items[0].comment"), "Refund"));
    cr_assert(json_is_string(jget(d, "next_cursor")));
    json_decref(d);
    b = http(&s, "GET", "/v1/feedback", analyst, NULL, NULL, &st);
    cr_assert_eq(st, 403);
    free(b);
    b = http(&s, "GET", "/v1/feedback?theme=nosuch", agent, NULL, NULL, &st);
    cr_assert_eq(st, 400);
    cr_assert(strstr(b, "\"field\":\"theme\""), "%s", b);
    free(b);

    /* the taxonomy: read by analysts, replaced by admins only, checked */
    d = get_json(&s, "/v1/text/taxonomy", analyst);
    cr_assert(json_array_size(jget(d, "themes")) >= 11);
    json_decref(d);
    b = http(&s, "PUT", "/v1/text/taxonomy", analyst, "application/json", "{}", &st);
    cr_assert_eq(st, 403);
    free(b);
    b = http(&s, "PUT", "/v1/text/taxonomy", s.admin, "application/json",
             "{\"themes\":[{\"id\":\"money\",\"name\":\"Money\",\"terms\":[]}]}", &st);
    cr_assert_eq(st, 400, "%s", b);
    free(b);
    d = http_json(&s, "PUT", "/v1/text/taxonomy", s.admin, "application/json",
                  "{\"themes\":[{\"id\":\"money\",\"name\":\"Money\",\"terms\":[\"refund\","
                  "\"expensive\",\"charged\"]}]}", 200);
    cr_assert_eq(jint(d, "rethemed"), 60);
    json_decref(d);
    d = get_json(&s, "/v1/metrics?metric=responses&by=theme", analyst);
    json_t *row;
    size_t i;
    long long money = -1;
    json_array_foreach(jget(d, "rows"), i, row)
        if (json_is_string(json_object_get(row, "theme")))
            money = jint(row, "n");
    cr_assert_eq(money, 30, "refund, expensive and charged: 3 of the 6 comments, %s", jdump(d));
    json_decref(d);

    /* emerging: a period and a baseline */
    d = get_json(&s, "/v1/text/emerging?period=month&baseline=1", analyst);
    cr_assert(json_is_array(jget(d, "rows")));
    json_decref(d);
    b = http(&s, "GET", "/v1/text/emerging?period=fortnight", analyst, NULL, NULL, &st);
    cr_assert_eq(st, 400);
    free(b);

    free(analyst);
    free(agent);
    free(writer);
    srv_stop(&s);
    srv_cleanup(&s);
}

Test(text_clv_api, clv_routes_roles_and_errors)
{
    struct srv s;
    srv_start(&s);
    char *analyst = srv_key(&s, "analyst"), *agent = srv_key(&s, "agent");
    long st;
    /* before any order or fit */
    char *b = http(&s, "GET", "/v1/clv/model", analyst, NULL, NULL, &st);
    cr_assert_eq(st, 404);
    free(b);
    b = http(&s, "POST", "/v1/clv/fit", s.admin, NULL, NULL, &st);
    cr_assert_eq(st, 400);
    cr_assert(strstr(b, "\"field\":\"calibration_end\""), "%s", b);
    free(b);
    ingest(&s);
    b = http(&s, "POST", "/v1/clv/fit", analyst, NULL, NULL, &st);
    cr_assert_eq(st, 403);
    free(b);
    b = http(&s, "POST", "/v1/clv/fit", s.admin, "application/json",
             "{\"unit\":\"fortnight\"}", &st);
    cr_assert_eq(st, 400);
    cr_assert(strstr(b, "\"field\":\"unit\""), "%s", b);
    free(b);
    json_t *fit = http_json(&s, "POST", "/v1/clv/fit", s.admin, "application/json",
                            "{\"calibration_end\":\"2026-05-31\",\"unit\":\"week\"}", 200);
    cr_assert_eq(jint(fit, "customers"), 20);
    cr_assert(jnum(fit, "bgnbd.r") > 0 && jnum(fit, "bgnbd.alpha") > 0);
    cr_assert(json_is_object(jget(fit, "checks.holdout")), "orders after May 31: a holdout");
    json_t *model = get_json(&s, "/v1/clv/model", analyst);
    cr_assert_eq(jnum(model, "bgnbd.r"), jnum(fit, "bgnbd.r"));
    cr_assert_eq(jint(model, "seq"), jint(fit, "seq"));
    json_decref(model);
    json_decref(fit);

    /* predictions: analysts see ids only; agents see names at risk */
    json_t *p = get_json(&s, "/v1/clv/predict?top=3&horizon=26", analyst);
    cr_assert_eq(json_array_size(jget(p, "top")), 3);
    cr_assert_null(jget(p, "top[0].name"));
    cr_assert(jnum(p, "top[0].clv_predicted") >= jnum(p, "top[1].clv_predicted"));
    json_decref(p);
    b = http(&s, "GET", "/v1/clv/predict?horizon=-1", analyst, NULL, NULL, &st);
    cr_assert_eq(st, 400);
    cr_assert(strstr(b, "\"field\":\"horizon\""), "%s", b);
    free(b);
    json_t *r = get_json(&s, "/v1/churn/at-risk?max_p_alive=1&limit=5", agent);
    cr_assert(json_array_size(jget(r, "rows")) == 5);
    json_decref(r);
    b = http(&s, "GET", "/v1/churn/at-risk", analyst, NULL, NULL, &st);
    cr_assert_eq(st, 403);
    free(b);
    json_t *dr = get_json(&s, "/v1/churn/drivers", analyst);
    cr_assert_eq(json_array_size(jget(dr, "drivers")), 4);
    json_decref(dr);

    /* the profile gains the predictions */
    json_t *prof = get_json(&s, "/v1/customers/1", agent);
    double pa = jnum(prof, "p_alive");
    cr_assert(pa >= 0 && pa <= 1);
    cr_assert(jnum(prof, "clv_predicted") >= 0);
    json_decref(prof);

    /* the CLI reads the same model */
    json_t *cli = cli_json(&s, "clv model");
    json_t *api = get_json(&s, "/v1/clv/model", analyst);
    cr_assert_eq(jnum(cli, "bgnbd.a"), jnum(api, "bgnbd.a"));
    json_decref(cli);
    json_decref(api);
    free(analyst);
    free(agent);
    srv_stop(&s);
    srv_cleanup(&s);
}
