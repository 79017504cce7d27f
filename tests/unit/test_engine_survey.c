/* Engine surveys: definitions, invitations through the contact policy
 * (skips counted with their reason), tokens that cannot be forged or
 * reused, answers recorded question by question as feedback with the
 * branching followed, expiry, a restart in the middle of a response,
 * triggers that fire once and only once across a restart, and the
 * response figures. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine_fixture.h"

#define NOW 1790000000           /* 2026-09-21T14:13:20Z */
#define DAY 86400

static const char survey_doc[] =
    "{\"id\": \"rel\", \"name\": \"Relationship NPS\", \"kind\": \"relationship\","
    " \"language\": \"en\", \"touchpoint\": \"brand\","
    " \"questions\": ["
    "  {\"id\": \"nps\", \"type\": \"nps\", \"text\": {\"en\": \"How likely...?\","
    "   \"fr\": \"Quelle probabilit\\u00e9...?\"}},"
    "  {\"id\": \"why\", \"type\": \"text\", \"text\": {\"en\": \"What went wrong?\","
    "   \"fr\": \"Qu'est-ce qui n'a pas march\\u00e9 ?\"}, \"show_if\": \"nps <= 6\"},"
    "  {\"id\": \"area\", \"type\": \"single_choice\", \"text\": {\"en\": \"Which area?\","
    "   \"fr\": \"Quel domaine ?\"}, \"choices\": [{\"id\": \"price\", \"label\":"
    "   {\"en\": \"Price\", \"fr\": \"Prix\"}}, {\"id\": \"service\", \"label\":"
    "   {\"en\": \"Service\", \"fr\": \"Service\"}}]}],"
    " \"expiry_days\": 7}";

static void ingest(struct engine *e, const char *json, int64_t now)
{
    json_error_t je;
    json_t *a = json_loads(json, 0, &je);
    cr_assert(a, "bad test JSON: %s", je.text);
    fx_ingest(e, a, now);
    json_decref(a);
}

static void put_survey(struct engine *e, const char *doc)
{
    json_t *out;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(engine_survey_put(e, doc, strlen(doc), true, NULL, &out, &err), 0, "%s",
                 err.msg);
    json_decref(out);
}

/* Invites customers by link: the answer. */
static json_t *invite(struct engine *e, const uint32_t *c, size_t n)
{
    struct invite_req r = {.survey = "rel", .customers = c, .n = n, .channel = "link"};
    json_t *out;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(engine_survey_invite(e, &r, &out, &err), 0, "%s", err.msg);
    return out;
}

static const char *token_of(json_t *inv, size_t i)
{
    const char *url = json_string_value(json_object_get(
        json_array_get(json_object_get(inv, "invitations"), i), "url"));
    cr_assert_not_null(url);
    const char *t = strstr(url, "/s/");
    cr_assert_not_null(t, "%s", url);
    return t + 3;
}

static int answer(struct engine *e, const char *tok, const char *q, const char *v,
                  struct cxm_err *err)
{
    cxm_err_clear(err);
    return engine_survey_answer(e, tok, q, v ? &v : NULL, v ? 1 : 0, err);
}

static double nps_of(struct engine *e, size_t *n)
{
    struct report_query q = {.metric = "nps", .where = "survey = 'rel'", .from = 0,
                             .to = NOW + 365 * DAY};
    json_t *out;
    struct cxm_err err;
    cr_assert_eq(engine_report(e, &q, &out, &err), 0, "%s", err.msg);
    json_t *row = json_array_get(json_object_get(out, "rows"), 0);
    *n = (size_t)json_integer_value(json_object_get(row, "n"));
    double v = json_is_number(json_object_get(row, "value"))
                   ? json_number_value(json_object_get(row, "value")) : NAN;
    json_decref(out);
    return v;
}

TestSuite(engine_survey, .init = fx_setup, .fini = fx_teardown);

Test(engine_survey, definitions_are_checked_and_kept)
{
    struct engine *e = fx_open(true);
    put_survey(e, survey_doc);
    json_t *out;
    struct cxm_err err;
    cr_assert_eq(engine_survey_put(e, survey_doc, strlen(survey_doc), true, NULL, &out, &err),
                 CXM_ECONFLICT, "the id exists");
    const char bad[] = "{\"id\": \"x\", \"questions\": [{\"id\": \"q\", \"type\": \"nps\","
                       " \"text\": \"?\", \"min\": 3}]}";
    cr_assert_eq(engine_survey_put(e, bad, sizeof bad - 1, true, NULL, &out, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "questions[0].min");
    engine_close(e);
    e = fx_open(true);
    cr_assert_eq(engine_survey(e, "rel", &out, &err), 0, "%s", err.msg);
    cr_assert_str_eq(json_string_value(json_object_get(out, "name")), "Relationship NPS");
    json_decref(out);
    engine_close(e);
}

Test(engine_survey, a_response_question_by_question_with_branching)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.com\",\"name\":\"Ann\",\"language\":\"fr\","
              "\"consent\":{\"surveys\":true}},"
              "{\"type\":\"customer\",\"email\":\"b@x.com\",\"consent\":{\"surveys\":false}}]",
           NOW);
    put_survey(e, survey_doc);
    uint32_t who[] = {1, 2};
    json_t *inv = invite(e, who, 2);
    cr_assert_eq(json_integer_value(json_object_get(inv, "invited")), 1);
    json_t *skipped = json_object_get(inv, "skipped");
    cr_assert_eq(json_object_size(skipped), 1, "b has no survey consent");
    char tok[128];
    snprintf(tok, sizeof tok, "%s", token_of(inv, 0));
    json_decref(inv);

    struct survey_session ss;
    struct cxm_err err;
    cr_assert_eq(engine_survey_session(e, tok, "de", &ss, &err), 0);
    cr_assert_eq(ss.state, SVS_OPEN);
    cr_assert_eq(ss.next, 0);
    cr_assert_str_eq(ss.lang, "fr", "the customer's language wins");
    survey_session_free(&ss);

    cr_assert_eq(answer(e, tok, "why", "x", &err), CXM_ECONFLICT, "nps is due first");
    cr_assert_eq(answer(e, tok, "nps", "11", &err), CXM_EINVAL);
    cr_assert_eq(answer(e, tok, "nps", "3", &err), 0, "%s", err.msg);
    size_t n;
    cr_assert_float_eq(nps_of(e, &n), -100.0, 1e-9, "the answer is feedback at once");
    cr_assert_eq(n, 1);

    /* a restart in the middle keeps the place */
    engine_close(e);
    e = fx_open(true);
    engine_set_clock(e, NOW + 60);
    cr_assert_eq(engine_survey_session(e, tok, NULL, &ss, &err), 0);
    cr_assert_eq(ss.next, 1, "a detractor is asked why");
    survey_session_free(&ss);
    cr_assert_eq(answer(e, tok, "why", "Too slow", &err), 0, "%s", err.msg);
    cr_assert_eq(answer(e, tok, "area", NULL, &err), 0, "an optional question skipped");
    cr_assert_eq(engine_survey_session(e, tok, NULL, &ss, &err), 0);
    cr_assert_eq(ss.state, SVS_DONE);
    survey_session_free(&ss);
    cr_assert_eq(answer(e, tok, "nps", "9", &err), CXM_ECONFLICT, "one response per token");
    cr_assert_float_eq(nps_of(e, &n), -100.0, 1e-9);
    cr_assert_eq(n, 1, "not doubled");

    /* forged and expired */
    char forged[128];
    snprintf(forged, sizeof forged, "%s", tok);
    forged[5] = forged[5] == 'A' ? 'B' : 'A';
    cr_assert_eq(engine_survey_session(e, forged, NULL, &ss, &err), 0);
    cr_assert_eq(ss.state, SVS_UNKNOWN);
    survey_session_free(&ss);

    /* the same customer is not invited again while answered within expiry */
    uint32_t one[] = {1};
    inv = invite(e, one, 1);
    cr_assert_eq(json_integer_value(json_object_get(inv, "invited")), 0);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(inv, "skipped"),
                                                    "already_invited")), 1);
    json_decref(inv);

    json_t *res;
    cr_assert_eq(engine_survey_results(e, "rel", 0, NOW + 365 * DAY, NULL, &res, &err), 0,
                 "%s", err.msg);
    cr_assert_eq(json_integer_value(json_object_get(res, "invited")), 1);
    cr_assert_eq(json_integer_value(json_object_get(res, "completed")), 1);
    cr_assert_float_eq(json_real_value(json_object_get(res, "response_rate")), 100.0, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(res, "median_seconds_to_respond")), 0.0,
                       1e-9);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_object_get(res,
                 "metrics"), "nps"), "n")), 1);
    json_decref(res);
    engine_close(e);
}

Test(engine_survey, links_expire)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.com\",\"consent\":{\"surveys\":true}}]",
           NOW);
    put_survey(e, survey_doc);
    uint32_t one[] = {1};
    json_t *inv = invite(e, one, 1);
    char tok[128];
    snprintf(tok, sizeof tok, "%s", token_of(inv, 0));
    json_decref(inv);
    struct survey_session ss;
    struct cxm_err err;
    engine_set_clock(e, NOW + 7 * DAY);
    cr_assert_eq(engine_survey_session(e, tok, NULL, &ss, &err), 0);
    cr_assert_eq(ss.state, SVS_OPEN, "the last second of its life");
    survey_session_free(&ss);
    engine_set_clock(e, NOW + 7 * DAY + 1);
    cr_assert_eq(engine_survey_session(e, tok, NULL, &ss, &err), 0);
    cr_assert_eq(ss.state, SVS_EXPIRED);
    survey_session_free(&ss);
    cr_assert_eq(answer(e, tok, "nps", "9", &err), CXM_ECONFLICT);
    engine_close(e);
}

static size_t invited(struct engine *e)
{
    json_t *res;
    struct cxm_err err;
    cr_assert_eq(engine_survey_results(e, "post", 0, NOW + 365 * DAY, NULL, &res, &err), 0,
                 "%s", err.msg);
    size_t n = (size_t)json_integer_value(json_object_get(res, "invited"));
    json_decref(res);
    return n;
}

Test(engine_survey, a_trigger_fires_once_and_only_once_across_a_restart)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    struct cxm_err err;
    const char smtp[] = "{\"smtp_url\": \"smtp://127.0.0.1:9\", \"from\": \"cx@shop.example\"}";
    cr_assert_eq(engine_set_email_settings(e, smtp, sizeof smtp - 1, &err), 0, "%s", err.msg);
    const char post[] =
        "{\"id\": \"post\", \"questions\": [{\"id\": \"csat\", \"type\": \"csat\","
        " \"text\": \"How satisfied were you with the call?\"}],"
        " \"triggers\": [{\"on\": \"interaction\", \"when\": \"type = 'call' and"
        " touchpoint = 'support'\", \"delay\": \"1h\"}]}";
    put_survey(e, post);
    ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.com\",\"consent\":{\"surveys\":true}},"
              "{\"type\":\"interaction\",\"email\":\"a@x.com\",\"kind\":\"call\",\"channel\":"
              "\"phone\",\"touchpoint\":\"support\"},"
              "{\"type\":\"interaction\",\"email\":\"a@x.com\",\"kind\":\"call\",\"channel\":"
              "\"phone\",\"touchpoint\":\"sales\"}]", NOW);
    int64_t next;
    engine_set_clock(e, NOW + 3599);
    cr_assert_eq(engine_survey_tick(e, &next, &err), 0, "%s", err.msg);
    cr_assert_eq(invited(e), 0, "not before the delay");
    cr_assert_eq(next, NOW + 3600);
    engine_close(e);
    e = fx_open(true);
    engine_set_clock(e, NOW + 3600);
    cr_assert_eq(engine_survey_tick(e, &next, &err), 0, "%s", err.msg);
    cr_assert_eq(invited(e), 1, "the support call's survey, after a restart");
    cr_assert_eq(engine_survey_tick(e, &next, &err), 0, "%s", err.msg);
    engine_close(e);
    e = fx_open(true);
    engine_set_clock(e, NOW + 7200);
    cr_assert_eq(engine_survey_tick(e, &next, &err), 0, "%s", err.msg);
    cr_assert_eq(invited(e), 1, "once and only once");
    engine_close(e);
}

Test(engine_survey, the_cadence_spreads_each_customer_once_over_the_quarter)
{
    struct engine *e = fx_open(true);
    /* 2026-07-01, the first day of Q3 (92 days) */
    int64_t q3 = 1782864000;
    engine_set_clock(e, q3);
    struct cxm_err err;
    const char smtp[] = "{\"smtp_url\": \"smtp://127.0.0.1:9\", \"from\": \"cx@shop.example\"}";
    cr_assert_eq(engine_set_email_settings(e, smtp, sizeof smtp - 1, &err), 0, "%s", err.msg);
    const char rel[] = "{\"id\": \"post\", \"kind\": \"relationship\", \"questions\": [{\"id\":"
                       " \"nps\", \"type\": \"nps\", \"text\": \"How likely...?\"}],"
                       " \"triggers\": [{\"on\": \"cadence\", \"every\": \"quarter\"}]}";
    put_survey(e, rel);
    json_t *a = json_array();
    for (int i = 0; i < 300; i++) {
        char email[32];
        snprintf(email, sizeof email, "c%d@x.com", i);
        json_array_append_new(a, json_pack("{s:s, s:s, s:{s:b}}", "type", "customer", "email",
                                           email, "consent", "surveys", 1));
    }
    fx_ingest(e, a, q3);
    json_decref(a);
    int64_t next;
    /* after 46 of 92 days, about half were asked (binomial: 150 +- 4 sd) */
    engine_set_clock(e, q3 + 45 * DAY + 3600);
    cr_assert_eq(engine_survey_tick(e, &next, &err), 0, "%s", err.msg);
    size_t half = invited(e);
    cr_assert(half >= 120 && half <= 180, "%zu of 300 by mid-quarter", half);
    engine_close(e);
    e = fx_open(true);
    engine_set_clock(e, q3 + 45 * DAY + 7200);
    cr_assert_eq(engine_survey_tick(e, &next, &err), 0, "%s", err.msg);
    cr_assert_eq(invited(e), half, "no one twice on the same day, restart or not");
    engine_set_clock(e, q3 + 91 * DAY + 3600);
    cr_assert_eq(engine_survey_tick(e, &next, &err), 0, "%s", err.msg);
    cr_assert_eq(invited(e), 300, "everyone once by the quarter's last day");
    cr_assert_eq(engine_survey_tick(e, &next, &err), 0, "%s", err.msg);
    cr_assert_eq(invited(e), 300);
    engine_close(e);
}

static json_t *invite_to(struct engine *e, const char *survey, uint32_t c)
{
    struct invite_req r = {.survey = survey, .customers = &c, .n = 1, .channel = "link"};
    json_t *out;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(engine_survey_invite(e, &r, &out, &err), 0, "%s", err.msg);
    return out;
}

Test(engine_survey, the_contact_policys_caps_hold_at_their_boundaries)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.com\",\"consent\":{\"surveys\":true}}]",
           NOW);
    /* the default policy: one survey per 30 days, every kind 3 per 7 days */
    put_survey(e, "{\"id\": \"a\", \"questions\": [{\"id\": \"q\", \"type\": \"csat\","
                  " \"text\": \"?\"}]}");
    put_survey(e, "{\"id\": \"b\", \"questions\": [{\"id\": \"q\", \"type\": \"csat\","
                  " \"text\": \"?\"}]}");
    json_t *r = invite_to(e, "a", 1);
    cr_assert_eq(json_integer_value(json_object_get(r, "invited")), 1);
    json_decref(r);
    engine_set_clock(e, NOW + 30 * DAY - 1);
    r = invite_to(e, "b", 1);
    cr_assert_eq(json_integer_value(json_object_get(r, "invited")), 0, "29 days 23:59:59 later");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r, "skipped"), "cap")), 1,
                 "skipped by the cap");
    json_decref(r);
    engine_set_clock(e, NOW + 30 * DAY);
    r = invite_to(e, "b", 1);
    cr_assert_eq(json_integer_value(json_object_get(r, "invited")), 1,
                 "exactly 30 days later the first contact has left the window");
    json_decref(r);
    engine_close(e);
}

Test(engine_survey, an_open_link_makes_an_anonymous_respondent)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    put_survey(e, survey_doc);   /* no open link */
    char tok[128];
    struct cxm_err err;
    cr_assert_eq(engine_survey_open(e, "rel", tok, sizeof tok, &err), CXM_ENOTFOUND);
    cr_assert_null(engine_survey_opening(e, "rel"));
    put_survey(e, "{\"id\": \"open\", \"anonymous\": true, \"questions\": [{\"id\": \"nps\","
                  " \"type\": \"nps\", \"text\": \"?\"}]}");
    cr_assert_not_null(engine_survey_opening(e, "open"));
    cr_assert_eq(engine_survey_open(e, "open", tok, sizeof tok, &err), 0, "%s", err.msg);
    char tok2[128];
    cr_assert_eq(engine_survey_open(e, "open", tok2, sizeof tok2, &err), 0, "%s", err.msg);
    cr_assert_str_neq(tok, tok2, "each respondent their own link");
    struct engine_stats st;
    engine_stats(e, &st);
    cr_assert_eq(st.customers, 2, "two anonymous profiles");
    cr_assert_eq(answer(e, tok, "nps", "10", &err), 0, "%s", err.msg);
    struct survey_session ss;
    cr_assert_eq(engine_survey_session(e, tok, NULL, &ss, &err), 0);
    cr_assert_eq(ss.state, SVS_DONE);
    survey_session_free(&ss);
    engine_close(e);
}

Test(engine_survey, a_merged_profile_speaks_its_latest_language)
{
    struct engine *e = fx_open(true);
    engine_set_clock(e, NOW);
    /* the surviving node has no language; the merged one says French */
    ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.com\",\"consent\":{\"surveys\":true}},"
              "{\"type\":\"customer\",\"phone\":\"+33612345678\",\"language\":\"fr\"},"
              "{\"type\":\"identify\",\"email\":\"a@x.com\",\"phone\":\"+33612345678\"}]", NOW);
    put_survey(e, survey_doc);
    uint32_t one[] = {1};
    json_t *inv = invite(e, one, 1);
    char tok[128];
    snprintf(tok, sizeof tok, "%s", token_of(inv, 0));
    json_decref(inv);
    struct survey_session ss;
    struct cxm_err err;
    cr_assert_eq(engine_survey_session(e, tok, "en", &ss, &err), 0);
    cr_assert_str_eq(ss.lang, "fr", "the profile's language, from its merged node");
    survey_session_free(&ss);
    engine_close(e);
}
