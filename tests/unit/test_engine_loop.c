/* Engine closed loop: alert rules open cases (deduplicated per customer
 * and reason, routed to a team, with SLA due times in calendar or
 * business hours), cases move through their states, SLA breaches are
 * recorded once at the exact boundary, events reach the outbox in the
 * transaction of their change and the delivery queue hands a customer's
 * events out in order through retries and a restart; the employee side:
 * team performance, the leaderboard and eNPS anonymity. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/webhook.h"
#include "engine/engine.h"
#include "engine_fixture.h"

#define NOW 1790000000           /* 2026-09-21T14:13:20Z, a Monday */

static void ingest(struct engine *e, const char *json)
{
    json_error_t je;
    json_t *a = json_loads(json, 0, &je);
    cr_assert(a, "bad test JSON: %s", je.text);
    fx_ingest(e, a, NOW);
    json_decref(a);
}

static void rules(struct engine *e, const char *json)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(engine_set_alert_rules(e, json, strlen(json), &err), 0, "%s", err.msg);
}

static json_t *cases(struct engine *e, const char *status)
{
    struct case_query q = {.status = status};
    json_t *out;
    struct cxm_err err;
    cr_assert_eq(engine_cases(e, &q, &out, &err), 0, "%s", err.msg);
    return out;
}

static json_t *one_case(struct engine *e, int64_t id)
{
    json_t *out;
    struct cxm_err err;
    cr_assert_eq(engine_case(e, id, &out, &err), 0, "%s", err.msg);
    return out;
}

static int change(struct engine *e, const struct case_change *c, struct cxm_err *err)
{
    json_t *out = NULL;
    cxm_err_clear(err);
    int rc = engine_case_change(e, c, &out, err);
    json_decref(out);
    return rc;
}

static size_t history_count(json_t *c, const char *kind)
{
    size_t n = 0;
    json_t *h = json_object_get(c, "history"), *x;
    size_t i;
    json_array_foreach(h, i, x)
        n += strcmp(json_string_value(json_object_get(x, "kind")), kind) == 0;
    return n;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

TestSuite(engine_loop, .init = fx_setup, .fini = fx_teardown);

Test(engine_loop, bad_rules_name_the_field_and_change_nothing)
{
    struct engine *e = fx_open(true);
    rules(e, "{\"rules\":[{\"id\":\"d\",\"when\":\"nps <= 6\"}]}");
    struct {
        const char *doc, *field;
    } bad[] = {
        {"{\"rules\":[{\"id\":\"d\",\"when\":\"npss <= 6\"}]}", "rules[0].when"},
        {"{\"rules\":[{\"id\":\"d\",\"when\":\"nps <= 6\",\"priority\":\"asap\"}]}",
         "rules[0].priority"},
        {"{\"rules\":[{\"id\":\"d\",\"when\":\"nps <= 6\",\"sla\":{\"first_response\":\"4x\"}}]}",
         "rules[0].sla.first_response"},
        {"{\"rules\":[{\"id\":\"d\",\"when\":\"nps <= 6\",\"sla\":{\"first_response\":\"4h\","
         "\"business_hours\":true}}]}", "business_hours"},
        {"{\"rules\":[{\"id\":\"d\",\"when\":\"nps <= 6\"},{\"id\":\"d\",\"when\":\"csat <= 2\"}]}",
         "rules[1]"},
        {"{\"rules\":[{\"id\":\"d\",\"when\":\"nps <= 6\",\"routes\":[{\"when\":\"channel = 'x'\"}]}]}",
         "rules[0].routes[0].team"},
        {"{\"rulez\":[]}", "rulez"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cxm_err err;
        cxm_err_clear(&err);
        cr_assert_eq(engine_set_alert_rules(e, bad[i].doc, strlen(bad[i].doc), &err),
                     CXM_EINVAL, "case %zu accepted", i);
        cr_assert_str_eq(err.field, bad[i].field, "case %zu: field %s (%s)", i, err.field,
                         err.msg);
    }
    json_t *doc;
    struct cxm_err err;
    cr_assert_eq(engine_alert_rules(e, &doc, &err), 0);
    cr_assert_str_eq(str(json_array_get(json_object_get(doc, "rules"), 0), "when"),
                     "nps <= 6", "a refused document replaced the one in use");
    json_decref(doc);
    engine_close(e);
}

Test(engine_loop, detractors_open_one_case_per_customer_and_reason)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    rules(e, "{\"rules\":[{\"id\":\"detractor\",\"when\":\"nps <= 6\",\"priority\":\"high\","
             "\"team\":\"care\",\"routes\":[{\"when\":\"channel = 'store'\",\"team\":\"retail\"}],"
             "\"sla\":{\"first_response\":\"4h\",\"resolution\":\"2d\"}},"
             "{\"id\":\"complaint\",\"when\":\"type = 'complaint'\",\"team\":\"care\"}]}");
    ingest(e, "[{\"type\":\"feedback\",\"email\":\"a@x.com\",\"kind\":\"nps\",\"score\":3},"
              "{\"type\":\"feedback\",\"email\":\"a@x.com\",\"kind\":\"nps\",\"score\":9},"
              "{\"type\":\"feedback\",\"email\":\"a@x.com\",\"kind\":\"nps\",\"score\":5},"
              "{\"type\":\"feedback\",\"email\":\"b@x.com\",\"kind\":\"nps\",\"score\":6,"
              "\"channel\":\"store\"},"
              "{\"type\":\"interaction\",\"email\":\"a@x.com\",\"kind\":\"complaint\","
              "\"channel\":\"phone\"}]");
    json_t *all = cases(e, "all");
    cr_assert_eq(json_integer_value(json_object_get(all, "total")), 3,
                 "two detractors of a@x.com share a case; b and the complaint have theirs");
    json_decref(all);
    json_t *c1 = one_case(e, 1);
    cr_assert_str_eq(str(c1, "reason"), "detractor");
    cr_assert_str_eq(str(c1, "team"), "care");
    cr_assert_eq(json_array_size(json_object_get(c1, "links")), 2, "both signals linked");
    cr_assert_str_eq(str(json_object_get(c1, "first_response"), "due"), "2026-09-21T18:13:20Z");
    cr_assert_str_eq(str(json_object_get(c1, "resolution"), "due"), "2026-09-23T14:13:20Z");
    json_decref(c1);
    json_t *c2 = one_case(e, 2);
    cr_assert_str_eq(str(c2, "team"), "retail", "routed by channel");
    json_decref(c2);
    /* resolved: the next detractor opens a new case */
    struct cxm_err err;
    struct case_change rs = {.id = 1, .status = "resolved", .resolution = "refund"};
    cr_assert_eq(change(e, &rs, &err), 0, "%s", err.msg);
    ingest(e, "[{\"type\":\"feedback\",\"email\":\"a@x.com\",\"kind\":\"nps\",\"score\":0}]");
    json_t *open = cases(e, NULL);
    cr_assert_eq(json_integer_value(json_object_get(open, "total")), 3);
    json_decref(open);
    /* case work is on the customer's timeline */
    json_t *tl;
    cr_assert_eq(engine_timeline(e, 1, NULL, 100, &tl, &err), 0, "%s", err.msg);
    size_t work = 0, i;
    json_t *it;
    json_array_foreach(json_object_get(tl, "items"), i, it)
        work += str(it, "channel") && strcmp(str(it, "channel"), "cxm") == 0;
    cr_assert_geq(work, 3, "opened, resolved and the new case's opening: %zu", work);
    json_decref(tl);
    engine_close(e);
}

Test(engine_loop, rules_on_themes_and_on_valuable_customers)
{
    struct engine *e = fx_open(false);   /* texts scored: themes and aspects */
    engine_set_clock(e, NOW);
    rules(e, "{\"rules\":[{\"id\":\"billing\",\"when\":\"negative_themes contains 'billing'\","
             "\"team\":\"Billing\"},{\"id\":\"valuable\",\"when\":\"revenue >= 100 and negative"
             " = 1\",\"priority\":\"urgent\"}]}");
    ingest(e, "[{\"type\":\"feedback\",\"email\":\"a@x.com\",\"kind\":\"text\","
              "\"comment\":\"I was charged twice, the billing is a disgrace\"},"
              "{\"type\":\"feedback\",\"email\":\"b@x.com\",\"kind\":\"text\","
              "\"comment\":\"Billing was quick and easy, thank you\"},"
              "{\"type\":\"order\",\"email\":\"c@x.com\",\"order_id\":\"o1\",\"amount\":150},"
              "{\"type\":\"order\",\"email\":\"d@x.com\",\"order_id\":\"o2\",\"amount\":20}]");
    ingest(e, "[{\"type\":\"feedback\",\"email\":\"c@x.com\",\"kind\":\"csat\",\"score\":1},"
              "{\"type\":\"feedback\",\"email\":\"d@x.com\",\"kind\":\"csat\",\"score\":1},"
              "{\"type\":\"feedback\",\"email\":\"c@x.com\",\"kind\":\"csat\",\"score\":5}]");
    json_t *all = cases(e, "all");
    json_t *cs = json_object_get(all, "cases");
    cr_assert_eq(json_array_size(cs), 2, "the angry billing comment and the valuable customer");
    bool billing = false, valuable = false;
    size_t i;
    json_t *c;
    json_array_foreach(cs, i, c) {
        billing |= !strcmp(str(c, "reason"), "billing") && json_integer_value(
                       json_object_get(c, "customer")) == 1 && !strcmp(str(c, "team"), "Billing");
        valuable |= !strcmp(str(c, "reason"), "valuable") && json_integer_value(
                        json_object_get(c, "customer")) == 3 && !strcmp(str(c, "priority"), "urgent");
    }
    cr_assert(billing && valuable);
    json_decref(all);
    engine_close(e);
}

Test(engine_loop, old_signals_open_no_case)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    rules(e, "{\"rules\":[{\"id\":\"d\",\"when\":\"nps <= 6\"}],\"max_signal_age\":\"2d\"}");
    ingest(e, "[{\"type\":\"feedback\",\"email\":\"a@x.com\",\"kind\":\"nps\",\"score\":1,"
              "\"ts\":\"2026-09-18T00:00:00Z\"},"
              "{\"type\":\"feedback\",\"email\":\"b@x.com\",\"kind\":\"nps\",\"score\":1,"
              "\"ts\":\"2026-09-20T00:00:00Z\"}]");
    json_t *all = cases(e, "all");
    cr_assert_eq(json_integer_value(json_object_get(all, "total")), 1,
                 "only the signal within two days opens a case");
    json_decref(all);
    engine_close(e);
}

Test(engine_loop, states_move_as_allowed_and_refuse_the_rest)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.com\",\"name\":\"Ann\"}]");
    struct cxm_err err;
    struct case_change open = {.customer = 1, .reason = "billing", .subject = "Charged twice"};
    cr_assert_eq(change(e, &open, &err), 0, "%s", err.msg);
    struct case_change bad_prio = {.id = 1, .priority = "asap"};
    cr_assert_eq(change(e, &bad_prio, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "priority");
    struct case_change close = {.id = 1, .status = "closed"};
    cr_assert_eq(change(e, &close, &err), 0, "%s", err.msg);
    struct case_change resolve = {.id = 1, .status = "resolved"};
    cr_assert_eq(change(e, &resolve, &err), CXM_ECONFLICT, "closed -> resolved refused");
    struct case_change reopen = {.id = 1, .status = "open"};
    cr_assert_eq(change(e, &reopen, &err), 0, "%s", err.msg);
    struct case_change tell = {.id = 1, .note = "x", .tell_customer = true};
    cr_assert_eq(change(e, &tell, &err), CXM_EINVAL, "tell_customer goes with resolved");
    struct case_change nobody = {.customer = 99, .reason = "x"};
    cr_assert_eq(change(e, &nobody, &err), CXM_ENOTFOUND);
    json_t *c = one_case(e, 1);
    cr_assert_str_eq(str(c, "status"), "open");
    cr_assert_eq(json_integer_value(json_object_get(c, "reopened")), 1);
    cr_assert_eq(history_count(c, "note"), 0, "a refused change left no note");
    json_decref(c);
    engine_close(e);
}

Test(engine_loop, sla_breach_is_recorded_once_after_the_exact_due_second)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    rules(e, "{\"rules\":[{\"id\":\"d\",\"when\":\"nps <= 6\",\"sla\":{\"first_response\":\"1h\","
             "\"resolution\":\"8h\"}}]}");
    ingest(e, "[{\"type\":\"feedback\",\"email\":\"a@x.com\",\"kind\":\"nps\",\"score\":2}]");
    cr_assert_eq(engine_sla_next(e), NOW + 3600 + 1, "first breach possible one second after due");
    struct cxm_err err;
    engine_set_clock(e, NOW + 3600);
    cr_assert_eq(engine_sla_check(e, &err), 0, "%s", err.msg);
    json_t *c = one_case(e, 1);
    cr_assert_eq(history_count(c, "sla_breached"), 0, "at the due second the SLA holds");
    cr_assert_str_eq(str(json_object_get(c, "first_response"), "state"), "at_risk");
    cr_assert(!json_is_true(json_object_get(c, "breached")));
    json_decref(c);
    engine_set_clock(e, NOW + 3601);
    cr_assert_eq(engine_sla_check(e, &err), 0, "%s", err.msg);
    cr_assert_eq(engine_sla_check(e, &err), 0, "%s", err.msg);
    c = one_case(e, 1);
    cr_assert_eq(history_count(c, "sla_breached"), 1, "recorded once");
    cr_assert_str_eq(str(json_object_get(c, "first_response"), "state"), "breached");
    cr_assert_str_eq(str(json_object_get(c, "resolution"), "state"), "pending");
    json_decref(c);
    cr_assert_eq(engine_sla_next(e), NOW + 8 * 3600 + 1, "the resolution clock is next");
    /* a response exactly at the resolution due time meets it */
    engine_set_clock(e, NOW + 8 * 3600);
    struct case_change rs = {.id = 1, .status = "resolved"};
    cr_assert_eq(change(e, &rs, &err), 0, "%s", err.msg);
    engine_set_clock(e, NOW + 9 * 3600);
    cr_assert_eq(engine_sla_check(e, &err), 0, "%s", err.msg);
    c = one_case(e, 1);
    cr_assert_str_eq(str(json_object_get(c, "resolution"), "state"), "met");
    cr_assert_eq(history_count(c, "sla_breached"), 1);
    json_decref(c);
    cr_assert_eq(engine_sla_next(e), 0);
    engine_close(e);
}

Test(engine_loop, business_hours_push_the_due_time_over_the_weekend)
{
    struct engine *e = fx_open(true);
    /* Friday 2026-09-25 16:00 UTC */
    int64_t fri = 1790352000;
    engine_set_clock(e, fri);
    rules(e, "{\"rules\":[{\"id\":\"d\",\"when\":\"nps <= 6\",\"sla\":{\"first_response\":\"4h\","
             "\"business_hours\":true}}],\"business_hours\":{\"timezone\":\"UTC\",\"hours\":"
             "{\"mon\":\"09:00-17:00\",\"tue\":\"09:00-17:00\",\"wed\":\"09:00-17:00\","
             "\"thu\":\"09:00-17:00\",\"fri\":\"09:00-17:00\"}}}");
    json_t *a = json_pack("[{s:s, s:s, s:s, s:i, s:I}]", "type", "feedback", "email", "a@x.com",
                          "kind", "nps", "score", 1, "ts", (json_int_t)fri);
    fx_ingest(e, a, fri);
    json_decref(a);
    json_t *c = one_case(e, 1);
    /* 1 hour on Friday, 3 on Monday from 09:00 */
    cr_assert_str_eq(str(json_object_get(c, "first_response"), "due"), "2026-09-28T12:00:00Z",
                     "got %s", str(json_object_get(c, "first_response"), "due"));
    json_decref(c);
    engine_close(e);
}

static json_t *take(struct engine *e, size_t max, size_t *n, struct outbound *out)
{
    cr_assert_eq(engine_outbound_take(e, out, max, n, 0), 0);
    json_t *ids = json_array();
    for (size_t i = 0; i < *n; i++)
        json_array_append_new(ids, json_integer(out[i].outbox));
    return ids;
}

static void report(struct engine *e, struct outbound *o, int verdict, int code)
{
    struct outbound_result r = {.outbox = o->outbox, .webhook = o->webhook,
                                .attempt = o->attempt, .code = code, .verdict = verdict,
                                .ts = NOW, .error = verdict == WH_DELIVERED ? NULL : "HTTP 500"};
    struct cxm_err err;
    cr_assert_eq(engine_outbound_done(e, &r, 1, &err), 0, "%s", err.msg);
}

Test(engine_loop, deliveries_keep_each_customers_order_through_retries_and_restarts)
{
    struct engine *e = fx_open(true);
    engine_set_delivery(e, &(struct delivery_opts){.max_attempts = 3, .base_ms = 10,
                                                    .max_ms = 20});
    struct webhook_def d = {.id = "crm", .url = "http://127.0.0.1:9/h",
                            .events = "feedback.created", .enabled = -1};
    json_t *w;
    struct cxm_err err;
    cr_assert_eq(engine_webhook_put(e, &d, true, &w, &err), 0, "%s", err.msg);
    const char *secret = str(w, "secret");
    unsigned char key[WEBHOOK_KEY_MAX];
    size_t klen;
    cr_assert_eq(webhook_secret_key(secret, key, &klen, &err), 0, "secret %s", secret);
    json_decref(w);
    /* a1, a2 of one customer, b1 of another */
    ingest(e, "[{\"type\":\"feedback\",\"email\":\"a@x.com\",\"kind\":\"nps\",\"score\":9},"
              "{\"type\":\"feedback\",\"email\":\"a@x.com\",\"kind\":\"nps\",\"score\":8},"
              "{\"type\":\"feedback\",\"email\":\"b@x.com\",\"kind\":\"nps\",\"score\":7}]");
    struct outbound out[8];
    size_t n;
    json_t *ids = take(e, 8, &n, out);
    cr_assert_eq(n, 2, "a1 and b1 go; a2 waits for a1");
    cr_assert_eq(json_integer_value(json_array_get(ids, 0)), 1);
    cr_assert_eq(json_integer_value(json_array_get(ids, 1)), 3);
    json_decref(ids);
    cr_assert(strstr(out[0].payload, "\"type\":\"feedback.created\""));
    report(e, &out[0], WH_RETRY, 500);     /* a1 fails: a2 must still wait */
    report(e, &out[1], WH_DELIVERED, 200);
    for (size_t i = 0; i < n; i++)
        outbound_free(&out[i]);
    engine_close(e);

    /* restart: a1 (one failed attempt) and a2 are still pending */
    e = fx_open(true);
    engine_set_delivery(e, &(struct delivery_opts){.max_attempts = 3, .base_ms = 10,
                                                    .max_ms = 20});
    cr_assert_eq(engine_outbound_take(e, out, 8, &n, 500), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(out[0].outbox, 1, "a1 again, before a2");
    cr_assert_eq(out[0].attempt, 2);
    report(e, &out[0], WH_DELIVERED, 200);
    outbound_free(&out[0]);
    cr_assert_eq(engine_outbound_take(e, out, 8, &n, 500), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(out[0].outbox, 2, "then a2");
    /* a 400 stops: dead letter at once */
    report(e, &out[0], WH_FAILED, 400);
    outbound_free(&out[0]);
    cr_assert_eq(engine_outbound_take(e, out, 8, &n, 50), 0);
    cr_assert_eq(n, 0, "nothing left");
    json_t *log;
    cr_assert_eq(engine_webhook_deliveries(e, "crm", 0, NULL, 10, true, &log, &err), 0, "%s",
                 err.msg);
    json_t *rows = json_object_get(log, "deliveries");
    cr_assert_eq(json_array_size(rows), 3);
    cr_assert_str_eq(str(json_array_get(rows, 0), "status"), "delivered");  /* b1 */
    cr_assert_str_eq(str(json_array_get(rows, 1), "status"), "failed");     /* a2 */
    cr_assert_str_eq(str(json_array_get(rows, 2), "status"), "delivered");  /* a1 */
    cr_assert_eq(json_array_size(json_object_get(json_array_get(rows, 2), "attempts_log")), 2,
                 "a1's two attempts are logged");
    json_decref(log);
    /* replay resends a range, in order */
    json_t *rp;
    cr_assert_eq(engine_webhook_replay(e, "crm", 1, 3, &rp, &err), 0, "%s", err.msg);
    cr_assert_eq(json_integer_value(json_object_get(rp, "replayed")), 3);
    json_decref(rp);
    cr_assert_eq(engine_outbound_take(e, out, 8, &n, 500), 0);
    cr_assert_eq(n, 2, "a1 and b1 again (a2 after a1)");
    for (size_t i = 0; i < n; i++)
        outbound_free(&out[i]);
    engine_close(e);
}

Test(engine_loop, retries_stop_after_the_last_attempt)
{
    struct engine *e = fx_open(true);
    engine_set_delivery(e, &(struct delivery_opts){.max_attempts = 2, .base_ms = 10,
                                                    .max_ms = 10});
    struct webhook_def d = {.id = "x", .url = "http://127.0.0.1:9/h", .events = "*",
                            .enabled = -1};
    json_t *w;
    struct cxm_err err;
    cr_assert_eq(engine_webhook_put(e, &d, true, &w, &err), 0, "%s", err.msg);
    json_decref(w);
    /* a change keeps what it does not name; disabled endpoints get nothing */
    struct webhook_def ch = {.id = "x", .description = "d", .enabled = 0};
    cr_assert_eq(engine_webhook_put(e, &ch, false, &w, &err), 0, "%s", err.msg);
    cr_assert_str_eq(json_string_value(json_object_get(w, "url")), "http://127.0.0.1:9/h");
    cr_assert(json_is_false(json_object_get(w, "enabled")));
    cr_assert_null(json_object_get(w, "secret"), "no secret unless made");
    json_decref(w);
    ch.enabled = 1;
    cr_assert_eq(engine_webhook_put(e, &ch, false, &w, &err), 0, "%s", err.msg);
    json_decref(w);
    struct webhook_def bad = {.url = "ftp://x", .events = "*", .enabled = -1};
    cr_assert_eq(engine_webhook_put(e, &bad, true, &w, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "url");
    struct webhook_def badev = {.url = "http://x/", .events = "case.opened,nope", .enabled = -1};
    cr_assert_eq(engine_webhook_put(e, &badev, true, &w, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "events");
    ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.com\"}]");
    struct outbound out[4];
    size_t n;
    for (int attempt = 1; attempt <= 2; attempt++) {
        cr_assert_eq(engine_outbound_take(e, out, 4, &n, 500), 0);
        cr_assert_eq(n, 1, "attempt %d", attempt);
        cr_assert_eq(out[0].attempt, attempt);
        cr_assert_str_eq(out[0].type, "customer.created");
        report(e, &out[0], WH_RETRY, 503);
        outbound_free(&out[0]);
    }
    cr_assert_eq(engine_outbound_take(e, out, 4, &n, 100), 0);
    cr_assert_eq(n, 0, "dead-lettered after two attempts");
    engine_close(e);
}

Test(engine_loop, team_performance_and_leaderboard)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    /* ann: 45 of 50 satisfied; bob: 2 of 2; cy: 3 answers (under min_n) */
    json_t *a = json_array();
    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "type", "employee", "employee_id",
                                       "ann", "name", "Ann Lee", "team", "care"));
    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "type", "employee", "employee_id",
                                       "bob", "name", "Bob", "team", "care"));
    for (int i = 0; i < 50; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "type", "feedback",
                                           "email", "c@x.com", "kind", "csat", "score",
                                           i < 45 ? 5 : 1, "agent_id", "ann", "ts",
                                           (json_int_t)(NOW - 3600)));
    for (int i = 0; i < 2; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "type", "feedback",
                                           "email", "d@x.com", "kind", "csat", "score", 5,
                                           "agent_id", "bob", "ts", (json_int_t)(NOW - 3600)));
    /* cy, of another team, 15 of 30: the pooled share is 62/82 */
    for (int i = 0; i < 30; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "type", "feedback",
                                           "email", "e@x.com", "kind", "csat", "score",
                                           i % 2 ? 5 : 2, "agent_id", "cy", "ts",
                                           (json_int_t)(NOW - 3600)));
    fx_ingest(e, a, NOW);
    json_decref(a);
    struct team_query q = {.from = NOW - 86400, .to = NOW + 1};
    json_t *out;
    struct cxm_err err;
    cr_assert_eq(engine_team_performance(e, &q, &out, &err), 0, "%s", err.msg);
    json_t *ann = json_array_get(json_object_get(out, "agents"), 0);
    cr_assert_str_eq(str(ann, "agent"), "ann");
    cr_assert_str_eq(str(ann, "team"), "care");
    json_t *cs = json_object_get(ann, "csat");
    cr_assert_float_eq(json_real_value(json_object_get(cs, "value")), 90.0, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(cs, "n")), 50);
    /* margin: 1.96 * 100 * sqrt(0.9 * 0.1 / 50) */
    cr_assert_float_eq(json_real_value(json_object_get(cs, "margin")),
                       1.96 * 100 * sqrt(0.09 / 50), 1e-9);
    json_t *team = json_array_get(json_object_get(out, "teams"), 0);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(team, "csat"), "n")), 52);
    json_decref(out);
    cr_assert_eq(engine_team_recognition(e, &q, &out, &err), 0, "%s", err.msg);
    json_t *lb = json_object_get(out, "leaderboard");
    cr_assert_eq(json_array_size(lb), 2, "bob's two answers are under the minimum of 5");
    json_decref(out);
    q.min_n = 1;
    cr_assert_eq(engine_team_recognition(e, &q, &out, &err), 0, "%s", err.msg);
    lb = json_object_get(out, "leaderboard");
    cr_assert_eq(json_array_size(lb), 3);
    cr_assert_str_eq(str(json_array_get(lb, 0), "agent"), "ann",
                     "2 of 2 does not top 45 of 50 once adjusted");
    /* ann: 100 (45 + 10 p) / (50 + 10), p = 62/82 */
    double p = 62.0 / 82;
    cr_assert_float_eq(json_real_value(json_object_get(json_array_get(lb, 0), "score")),
                       100 * (45 + 10 * p) / 60, 1e-9);
    cr_assert_str_eq(str(json_array_get(lb, 1), "agent"), "bob");
    json_decref(out);
    engine_close(e);
}

Test(engine_loop, enps_hides_small_groups_and_the_group_the_total_would_reveal)
{
    struct engine *e = fx_open(true);
    json_t *a = json_array();
    const char *teams[] = {"care", "sales", "ops"};
    int sizes[] = {6, 7, 4};     /* ops under 5: hidden; then sales too */
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < sizes[t]; i++) {
            char id[32];
            snprintf(id, sizeof id, "%s%d", teams[t], i);
            json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "type", "employee",
                                               "employee_id", id, "team", teams[t]));
            json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "type",
                                               "feedback", "email", "hr@x.com", "kind", "enps",
                                               "score", 9 - i % 4, "agent_id", id, "ts",
                                               (json_int_t)(NOW - 86400)));
        }
    fx_ingest(e, a, NOW);
    json_decref(a);
    struct team_query q = {.from = NOW - 30 * 86400, .to = NOW};
    json_t *out;
    struct cxm_err err;
    cr_assert_eq(engine_enps(e, &q, &out, &err), 0, "%s", err.msg);
    json_t *rows = json_object_get(out, "rows"), *r;
    size_t i, shown = 0;
    json_array_foreach(rows, i, r) {
        const char *team = str(r, "team");
        bool hidden = json_is_null(json_object_get(r, "value"));
        if (!team)
            cr_assert(!hidden, "the company as a whole (17) is shown");
        else if (!strcmp(team, "ops"))
            cr_assert(hidden && !strcmp(str(r, "note"), "not enough responses"));
        else if (!strcmp(team, "care"))
            cr_assert(hidden, "care (6, the smallest shown) hides too: total - sales = ops");
        shown += !hidden;
    }
    cr_assert_eq(shown, 2, "company and sales");
    json_decref(out);
    /* the metrics report keeps the same anonymity */
    struct report_query rq = {.metric = "enps", .by = "agent", .from = 0, .to = NOW + 1};
    cr_assert_eq(engine_report(e, &rq, &out, &err), CXM_EINVAL, "eNPS by person refused");
    cr_assert_str_eq(err.field, "by");
    rq.by = "team";
    cr_assert_eq(engine_report(e, &rq, &out, &err), 0, "%s", err.msg);
    json_array_foreach(json_object_get(out, "rows"), i, r) {
        bool ops = !strcmp(str(r, "team"), "ops");
        cr_assert_eq(json_is_null(json_object_get(r, "value")), ops, "only ops (4) hidden");
    }
    json_decref(out);
    q.min_enps = 4;
    cr_assert_eq(engine_enps(e, &q, &out, &err), 0, "%s", err.msg);
    json_array_foreach(json_object_get(out, "rows"), i, r)
        cr_assert(!json_is_null(json_object_get(r, "value")), "a threshold of 4 shows all");
    json_decref(out);
    engine_close(e);
}

Test(engine_loop, every_state_change_has_its_event)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    struct webhook_def d = {.id = "all", .url = "http://127.0.0.1:9/h",
                            .events = "segment.created,contact.recorded,customer.merged,"
                                      "customer.unmerged,employee.updated",
                            .enabled = -1};
    json_t *w;
    struct cxm_err err;
    cr_assert_eq(engine_webhook_put(e, &d, true, &w, &err), 0, "%s", err.msg);
    json_decref(w);
    ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.com\"},"
              "{\"type\":\"customer\",\"phone\":\"+33612345678\"},"
              "{\"type\":\"identify\",\"email\":\"a@x.com\",\"phone\":\"+33612345678\"},"
              "{\"type\":\"employee\",\"employee_id\":\"ann\",\"team\":\"care\"}]");
    struct segment_def sd = {.id = "fr", .name = "France", .rule = "country = 'FR'"};
    cr_assert_eq(engine_segment_put(e, &sd, SEG_CREATE, &w, &err), 0, "%s", err.msg);
    json_decref(w);
    struct contact_req cr = {.customer = 1, .kind = 3 /* service */, .channel = "email",
                             .force = true};
    int64_t seq;
    cr_assert_eq(engine_contacts(e, &cr, 1, &seq, &err), 0, "%s", err.msg);
    cr_assert_eq(engine_run(e, &(struct engine_work){.op = ENGINE_UNMERGE, .customer = 2}), 0);
    const char *want[] = {"customer.merged", "employee.updated", "segment.created",
                          "contact.recorded", "customer.unmerged"};
    struct outbound out[8];
    size_t n, got = 0;
    /* customer events wait for each other: take and acknowledge in turn */
    for (int round = 0; round < 5 && got < 5; round++) {
        cr_assert_eq(engine_outbound_take(e, out, 8, &n, 200), 0);
        for (size_t i = 0; i < n; i++) {
            bool known = false;
            for (size_t k = 0; k < 5; k++)
                known |= !strcmp(out[i].type, want[k]);
            cr_assert(known, "unexpected %s", out[i].type);
            report(e, &out[i], WH_DELIVERED, 200);
            outbound_free(&out[i]);
            got++;
        }
    }
    cr_assert_eq(got, 5);
    engine_close(e);
}

static size_t seg_members(struct engine *e, const char *id)
{
    json_t *doc;
    struct cxm_err err;
    cr_assert_eq(engine_segment(e, id, &doc, &err), 0, "%s", err.msg);
    size_t n = (size_t)json_integer_value(json_object_get(doc, "members"));
    json_decref(doc);
    return n;
}

Test(engine_loop, open_cases_is_a_customer_feature_kept_current)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.com\"},"
              "{\"type\":\"customer\",\"email\":\"b@x.com\"}]");
    struct segment_def sd = {.id = "open", .name = "With an open case",
                             .rule = "open_cases >= 1"};
    json_t *w;
    struct cxm_err err;
    cr_assert_eq(engine_segment_put(e, &sd, SEG_CREATE, &w, &err), 0, "%s", err.msg);
    json_decref(w);
    cr_assert_eq(seg_members(e, "open"), 0);
    struct case_change open = {.customer = 2, .reason = "billing"};
    cr_assert_eq(change(e, &open, &err), 0, "%s", err.msg);
    cr_assert_eq(seg_members(e, "open"), 1, "the case makes b a member at once");
    engine_close(e);
    e = fx_open(true);
    engine_set_clock(e, NOW);
    cr_assert_eq(seg_members(e, "open"), 1, "and after a restart");
    struct case_change done = {.id = 1, .status = "resolved"};
    cr_assert_eq(change(e, &done, &err), 0, "%s", err.msg);
    cr_assert_eq(seg_members(e, "open"), 0, "resolved: no longer open");
    struct case_change again = {.id = 1, .status = "open"};
    cr_assert_eq(change(e, &again, &err), 0, "%s", err.msg);
    cr_assert_eq(seg_members(e, "open"), 1, "reopened");
    engine_close(e);
}
