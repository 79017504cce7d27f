/* GET /v1/metrics and `cxm report` give the same rows; roles; errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(metrics_api, .fini = harness_fini);

static void ingest(struct srv *s)
{
    json_t *arr = json_array();
    static const char *const ch[] = {"web", "phone", "chat"};
    for (int i = 0; i < 120; i++) {
        char email[32];
        snprintf(email, sizeof email, "p%d@x.io", i % 40);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i,s:s,s:I}", "type", "feedback",
            "email", email, "kind", i % 4 ? "nps" : "csat", "score", i % 4 ? i % 11 : 1 + i % 5,
            "channel", ch[i % 3], "ts", (json_int_t)(1735689600 + (json_int_t)i * 86400 * 2)));
    }
    for (int i = 0; i < 40; i++) {
        char email[32];
        snprintf(email, sizeof email, "p%d@x.io", i);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "type", "customer", "email",
                                             email, "country", i % 2 ? "GB" : "US"));
    }
    json_decref(post_events(s, s->admin, arr, 200));
    json_decref(arr);
}

/* Runs the CLI report and parses its JSON. */
static json_t *cli_report(struct srv *s, const char *args)
{
    const char *bin = getenv("CXM_BIN") ? getenv("CXM_BIN") : "./cxm";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s report --db %s %s --format json 2>/dev/null", bin,
             s->db, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    static char out[1 << 20];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s", cmd);
    json_t *doc = jload(out);
    cr_assert(doc, "%s", out);
    return doc;
}

Test(metrics_api, api_and_cli_return_the_same_rows)
{
    struct srv s;
    srv_start(&s);
    ingest(&s);
    static const struct { const char *q, *cli; } cases[] = {
        {"metric=nps&by=channel", "nps --by channel"},
        {"metric=nps&by=country,month&from=2025-01-01&to=2025-03-31",
         "nps --by country,month --from 2025-01-01 --to 2025-03-31"},
        {"metric=csat&by=channel&where=country%20%3D%20%27US%27",
         "csat --by channel --where \"country = 'US'\""},
        {"metric=responses&by=kind", "responses --by kind"},
        {"metric=nps&customer_id=3", "nps --customer 3"},
        {"metric=nps&by=month&tz=%2B09:00&from=2025-02-01", "nps --by month --tz +09:00 --from 2025-02-01"},
        {"metric=customers&by=country,csat_mean", "customers --by country,csat_mean"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "/v1/metrics?%s", cases[i].q);
        json_t *api = get_json(&s, path, s.admin);
        json_t *cli = cli_report(&s, cases[i].cli);
        cr_assert(json_array_size(json_object_get(api, "rows")) > 0, "%s", path);
        cr_assert(json_equal(json_object_get(api, "rows"), json_object_get(cli, "rows")),
                  "%s: %s vs %s", path, jdump(json_object_get(api, "rows")),
                  jdump(json_object_get(cli, "rows")));
        json_decref(api);
        json_decref(cli);
    }
    srv_stop(&s);
    srv_cleanup(&s);
}

Test(metrics_api, roles_and_errors)
{
    struct srv s;
    srv_start(&s);
    ingest(&s);
    char *analyst = srv_key(&s, "analyst"), *agent = srv_key(&s, "agent");
    json_t *doc = get_json(&s, "/v1/metrics?metric=nps", analyst);
    cr_assert_eq(json_array_size(json_object_get(doc, "rows")), 1, "no dimension: one row");
    json_decref(doc);
    long st;
    char *body = http(&s, "GET", "/v1/metrics?metric=nps", agent, NULL, NULL, &st);
    cr_assert_eq(st, 403, "agents see customers, not reports");
    free(body);
    body = http(&s, "GET", "/v1/customers/1", analyst, NULL, NULL, &st);
    cr_assert_eq(st, 403, "analysts see no personal data");
    free(body);
    static const struct { const char *q, *field; } bad[] = {
        {"", "metric"}, {"metric=mood", "metric"}, {"metric=nps&by=colour", "by"},
        {"metric=nps&where=score%20%3C", "where"}, {"metric=nps&from=yesterday", "from"},
        {"metric=nps&from=2025-02-01&to=2025-01-01", "to"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "/v1/metrics?%s", bad[i].q);
        json_t *e = http_json(&s, "GET", path, analyst, NULL, NULL, 400);
        cr_assert_str_eq(jstr(e, "error.field"), bad[i].field, "%s", path);
        json_decref(e);
    }
    free(analyst);
    free(agent);
    srv_stop(&s);
    srv_cleanup(&s);
}

Test(metrics_api, benchmarks_import_and_compare)
{
    struct srv s;
    srv_start(&s);
    ingest(&s);
    srv_stop(&s);
    /* import needs the database to itself */
    char csv[512], cmd[1024];
    snprintf(csv, sizeof csv, "%s/bench.csv", s.dir);
    FILE *f = fopen(csv, "w");
    cr_assert(f);
    fputs("name,metric,value,period,segment\r\nIndustry,nps,10,2025,\r\n\"Rival, Inc\",nps,-5,2025-Q1,web\r\n", f);
    fclose(f);
    const char *bin = getenv("CXM_BIN") ? getenv("CXM_BIN") : "./cxm";
    snprintf(cmd, sizeof cmd, "%s benchmarks import --db %s %s 2>/dev/null", bin, s.db, csv);
    cr_assert_eq(system(cmd), 0);
    /* a bad file stores nothing and says where */
    snprintf(csv, sizeof csv, "%s/bad.csv", s.dir);
    f = fopen(csv, "w");
    fputs("name,metric,value,period\nA,nps,1,2025\nB,nps,x,2025\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s benchmarks import --db %s %s 2>&1", bin, s.db, csv);
    FILE *p = popen(cmd, "r");
    char out[512] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_neq(pclose(p), 0);
    cr_assert(strstr(out, "bad.csv:3: field value"), "%s", out);
    srv_start_on(&s, s.db);
    json_t *doc = get_json(&s, "/v1/benchmarks/compare?metric=nps", s.admin);
    json_t *rows = json_object_get(doc, "rows");
    cr_assert_eq(json_array_size(rows), 2, "%s", jdump(doc));
    json_t *m = get_json(&s, "/v1/metrics?metric=nps&from=2025-01-01&to=2025-12-31", s.admin);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (strcmp(jstr(row, "name"), "Industry"))
            continue;
        cr_assert_float_eq(jnum(row, "ours"), jnum(m, "rows[0].value"), 1e-9);
        cr_assert_float_eq(jnum(row, "gap"), jnum(m, "rows[0].value") - 10, 1e-9);
    }
    json_decref(m);
    json_decref(doc);
    char *agent = srv_key(&s, "agent");
    long st;
    free(http(&s, "GET", "/v1/benchmarks/compare?metric=nps", agent, NULL, NULL, &st));
    cr_assert_eq(st, 403);
    free(agent);
    srv_stop(&s);
    srv_cleanup(&s);
}
