/* Journey views over real HTTP: the same answer as the CLI, roles, errors,
 * and one customer's journey. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(journeys_api, .fini = harness_fini);

Test(journeys_api, views_roles_errors_and_one_customer)
{
    struct srv s;
    srv_start(&s);
    json_t *arr = json_array();
    static const char *const tps[] = {"homepage", "search", "checkout"};
    static const char *const st[] = {"awareness", "consideration", "purchase"};
    for (int i = 0; i < 30; i++) {
        char email[32];
        snprintf(email, sizeof email, "j%d@x.io", i % 10);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "type",
            "interaction", "email", email, "touchpoint", tps[i / 10], "stage", st[i / 10],
            "channel", "web", "ts", (json_int_t)(1767225600 + (i / 10) * 3600 + i)));
    }
    json_decref(post_events(&s, s.admin, arr, 200));
    json_decref(arr);
    char *analyst = srv_key(&s, "analyst"), *agent = srv_key(&s, "agent");
    json_t *f = get_json(&s, "/v1/journeys/funnel", analyst);
    cr_assert_eq(jint(f, "episodes"), 10);
    cr_assert_eq(jint(f, "rows[0].reached"), 10);
    cr_assert_eq(jint(f, "rows[1].converted"), 10);
    /* the CLI gives the same rows */
    const char *bin = getenv("CXM_BIN") ? getenv("CXM_BIN") : "./cxm";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s journey funnel --db %s --format json", bin, s.db);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    static char out[1 << 16];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0);
    json_t *cli = jload(out);
    cr_assert_str_eq(jdump(jget(cli, "rows")), jdump(jget(f, "rows")));
    json_decref(cli);
    json_decref(f);
    long code;
    char *b = http(&s, "GET", "/v1/journeys/funnel", agent, NULL, NULL, &code);
    cr_assert_eq(code, 403);
    free(b);
    b = http(&s, "GET", "/v1/journeys/maze", analyst, NULL, NULL, &code);
    cr_assert_eq(code, 400);
    cr_assert(strstr(b, "\"field\":\"view\""), "%s", b);
    free(b);
    b = http(&s, "GET", "/v1/journeys/flows?gap=0", analyst, NULL, NULL, &code);
    cr_assert_eq(code, 400);
    cr_assert(strstr(b, "\"field\":\"gap\""), "%s", b);
    free(b);
    json_t *cj = get_json(&s, "/v1/customers/1/journey", agent);
    cr_assert_eq(json_array_size(jget(cj, "episodes")), 1);
    cr_assert_eq(json_array_size(jget(cj, "episodes[0].events")), 3);
    json_decref(cj);
    b = http(&s, "GET", "/v1/customers/999/journey", agent, NULL, NULL, &code);
    cr_assert_eq(code, 404);
    free(b);
    free(analyst);
    free(agent);
    srv_stop(&s);
    srv_cleanup(&s);
}
