/* cmd_demo.c - `cxm demo`: generates the demo data set (demo_data.c) and
 * ingests it through the same validation and writer as the API. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/demo_data.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "log.h"

static const char usage_text[] =
    "usage: cxm demo [--db FILE] [--customers N] [--seed S] [--end YYYY-MM-DD]\n\n"
    "Generates a realistic, deterministic data set into the database:\n"
    "customers with demographics, consent and several identities (some\n"
    "shared across channels, so profiles merge), multi-channel journeys\n"
    "through awareness, consideration, purchase, onboarding, support and\n"
    "loyalty, agents in teams, NPS/CSAT/CES feedback with comments, and\n"
    "orders with items. The same seed and end date give the same data.\n\n"
    "  --customers N  people to simulate (default 5000)\n"
    "  --seed S       random seed (default 42)\n"
    "  --end DATE     last day of activity (default today, UTC); the data\n"
    "                 covers the 24 months before it\n";

#define DEMO_BATCH 5000

struct demo_sink {
    struct engine *e;
    json_t *recs;                /* holds the records the events borrow */
    struct event *ev;
    struct arena arena;
    size_t n, stored, total;
    bool tty;
    double t0;
    struct cxm_err err;
};

static int flush(struct demo_sink *s)
{
    if (!s->n)
        return CXM_OK;
    struct engine_work w = {.op = ENGINE_INGEST, .ev = s->ev, .n = s->n};
    int rc = engine_run(s->e, &w);
    if (rc)
        s->err = w.err;
    s->stored += w.accepted;
    s->n = 0;
    json_array_clear(s->recs);
    arena_free(&s->arena);
    if (s->tty)
        fprintf(stderr, "\rcxm demo: %zu records stored (%.0f/s)   ", s->stored,
                (double)s->stored / (cxm_seconds() - s->t0 + 1e-9));
    return rc;
}

static int emit(json_t *rec, void *ctx)
{
    struct demo_sink *s = ctx;
    if (json_array_append(s->recs, rec))
        return cxm_err_set(&s->err, CXM_ENOMEM, "out of memory");
    int rc = event_decode(rec, (long)s->total, 0, &s->arena, &s->ev[s->n], &s->err);
    if (rc)   /* a generator bug: say which record */
        return rc;
    s->n++;
    s->total++;
    return s->n == DEMO_BATCH ? flush(s) : CXM_OK;
}

/* Segments and a catalogue of actions, so decisions and the segment
 * dimension have something to show from the start. */
static int demo_personalise(struct engine *e, struct cxm_err *err)
{
    static const struct segment_def segs[] = {
        {"lapsed", "Lapsed buyers", "orders >= 1 and days_since_last_order > 180",
         "bought before, nothing in six months"},
        {"detractors", "Detractors", "nps_category = 'detractor'", NULL},
        {"promoters", "Promoters", "nps_category = 'promoter'", NULL},
        {"runners", "Runners", "bought_category('running')", NULL},
        {"unhappy-loud", "Unhappy and loud", "nps_category = 'detractor' and complaints_90d >= 1",
         "detractors who complained in the last 90 days"},
    };
    for (size_t i = 0; i < sizeof segs / sizeof segs[0]; i++) {
        json_t *doc = NULL;
        int rc = engine_segment_put(e, &segs[i], SEG_CREATE, &doc, err);
        json_decref(doc);
        if (rc)
            return rc;
    }
    static const char catalogue[] =
        "{\"actions\": ["
        "{\"id\": \"winback\", \"name\": \"Win-back 15%\", \"kind\": \"retention_offer\","
        " \"segment\": \"lapsed\", \"priority\": 5, \"value\": 30, \"holdout\": 0.1,"
        " \"channels\": [\"email\"],"
        " \"subject\": \"We miss you, {first_name|there}\","
        " \"message\": \"Hi {first_name|there}, here is 15% off your next {top_category|order}.\"},"
        "{\"id\": \"care-call\", \"name\": \"Service follow-up\", \"kind\": \"service_follow_up\","
        " \"rule\": \"open_cases > 0\", \"priority\": 9, \"channels\": [\"email\", \"phone\"],"
        " \"message\": \"Hi {first_name|there}, we are following up on your recent issue.\"},"
        "{\"id\": \"nps-survey\", \"name\": \"Relationship NPS\", \"kind\": \"survey\","
        " \"priority\": 3, \"message\": \"How likely are you to recommend us, {first_name|there}?\"},"
        "{\"id\": \"thanks\", \"name\": \"Thank-you note\", \"kind\": \"thank_you\","
        " \"segment\": \"promoters\", \"priority\": 2,"
        " \"message\": \"Thank you for being with us, {first_name|there}!\"},"
        "{\"id\": \"refer\", \"name\": \"Refer a friend\", \"kind\": \"referral\","
        " \"segment\": \"promoters\", \"priority\": 4, \"value\": 20,"
        " \"message\": \"Love running with us? Give a friend 10%, get 10%.\"},"
        "{\"id\": \"running-gear\", \"name\": \"New running gear\", \"kind\": \"promotion\","
        " \"segment\": \"runners\", \"acquisition\": true, \"priority\": 1, \"value\": 15,"
        " \"channels\": [\"web\", \"email\", \"app\"],"
        " \"message\": \"New in {top_category|running}: picked for you, {first_name|there}.\"}"
        "]}";
    return engine_set_actions(e, catalogue, sizeof catalogue - 1, err);
}

/* Alert rules, set before the data arrives: the last week's unhappy
 * customers open cases, routed to the demo's teams. */
static const char demo_rules[] =
    "{\"rules\": ["
    "{\"id\": \"detractor\", \"name\": \"Detractor follow-up\", \"when\": \"nps <= 6\","
    " \"priority\": \"high\", \"team\": \"Support\","
    " \"routes\": [{\"when\": \"negative_themes contains 'billing'\", \"team\": \"Billing\"},"
    "  {\"when\": \"channel = 'social'\", \"team\": \"Social\"}],"
    " \"sla\": {\"first_response\": \"4h\", \"resolution\": \"2d\", \"business_hours\": true}},"
    "{\"id\": \"complaint\", \"name\": \"Formal complaint\", \"when\": \"type = 'complaint'\","
    " \"priority\": \"urgent\", \"team\": \"Support\","
    " \"sla\": {\"first_response\": \"1h\", \"resolution\": \"1d\"}},"
    "{\"id\": \"unhappy-csat\", \"name\": \"Unhappy after support\", \"when\": \"csat <= 2\","
    " \"priority\": \"normal\", \"team\": \"Support\", \"emit\": true},"
    "{\"id\": \"valuable-unhappy\", \"name\": \"Valuable customer unhappy\","
    " \"when\": \"negative = 1 and revenue >= 500\", \"priority\": \"high\","
    " \"team\": \"Support\", \"sla\": {\"first_response\": \"2h\", \"resolution\": \"1d\"}}"
    "],"
    " \"business_hours\": {\"timezone\": \"UTC\", \"hours\": {\"mon\": \"08:00-18:00\","
    "  \"tue\": \"08:00-18:00\", \"wed\": \"08:00-18:00\", \"thu\": \"08:00-18:00\","
    "  \"fri\": \"08:00-18:00\", \"sat\": \"09:00-13:00\"}},"
    " \"sla_defaults\": {\"urgent\": {\"first_response\": \"1h\", \"resolution\": \"8h\"},"
    "  \"high\": {\"first_response\": \"4h\", \"resolution\": \"2d\"},"
    "  \"normal\": {\"first_response\": \"1d\", \"resolution\": \"5d\"}}}";

/* An agent of the team: the n-th of them, NULL when the team has none. */
static const char *team_agent(json_t *emps, const char *team, size_t n)
{
    size_t count = 0, i;
    json_t *x;
    json_array_foreach(emps, i, x) {
        const char *t = json_string_value(json_object_get(x, "team"));
        count += t && team && !strcmp(t, team);
    }
    if (!count)
        return NULL;
    n %= count;
    json_array_foreach(emps, i, x) {
        const char *t = json_string_value(json_object_get(x, "team"));
        if (t && team && !strcmp(t, team) && n-- == 0)
            return json_string_value(json_object_get(x, "id"));
    }
    return NULL;
}

/* Work on the demo's cases as a team would have done by now: most
 * assigned, many answered, some resolved and closed; the rest wait. */
static int demo_casework(struct engine *e, int64_t now, struct cxm_err *err)
{
    json_t *emps = NULL, *list = NULL;
    struct case_query q = {.status = "open", .sort = "oldest", .limit = 1000000};
    int rc = engine_employees(e, &emps, err);
    if (!rc)
        rc = engine_cases(e, &q, &list, err);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(list, "cases"), i, c) {
        int64_t id = json_integer_value(json_object_get(c, "id")), opened;
        if (rc || timefmt_parse(json_string_value(json_object_get(c, "opened")), &opened, err))
            break;
        unsigned h = (unsigned)((uint64_t)id * 2654435761u % 100);
        int64_t age = now - opened;
        const char *agent = team_agent(json_object_get(emps, "employees"),
                                       json_string_value(json_object_get(c, "team")),
                                       (size_t)id);
        struct case_change steps[] = {
            {.id = id, .actor = agent, .assignee = agent, .ts = opened + 600 + h * 37},
            {.id = id, .actor = agent, .note = "Called the customer and listened; agreed a fix.",
             .ts = opened + 3600 + (h % 5) * 3600},
            {.id = id, .actor = agent, .status = "resolved",
             .resolution = "refunded the difference and fixed the cause",
             .ts = opened + 86400 + (h % 3) * 43200},
            {.id = id, .actor = agent, .status = "closed", .ts = opened + 3 * 86400 + h * 60},
        };
        unsigned share[] = {85, 70, 55, 30};
        for (size_t k = 0; !rc && agent && k < 4 && h < share[k] && steps[k].ts < now &&
             age > 0; k++) {
            json_t *out = NULL;
            rc = engine_case_change(e, &steps[k], &out, err);
            json_decref(out);
        }
    }
    json_decref(list);
    json_decref(emps);
    return rc;
}

/* Two surveys: a quarterly relationship NPS (a quarter of the customers,
 * e-mailed once an SMTP server is set) and a CSAT after support calls;
 * a few customers already answered the NPS through links. */
static const char demo_rel[] =
    "{\"id\": \"relationship-nps\", \"name\": \"Relationship NPS\", \"kind\": \"relationship\","
    " \"language\": \"en\", \"touchpoint\": \"brand\", \"sample\": 0.25, \"expiry_days\": 14,"
    " \"reminder_days\": 4,"
    " \"title\": {\"en\": \"Tell us how we are doing\", \"fr\": \"Dites-nous ce que vous en pensez\"},"
    " \"questions\": ["
    "  {\"id\": \"nps\", \"type\": \"nps\", \"text\": {\"en\": \"How likely are you to recommend"
    " us to a friend or colleague?\", \"fr\": \"Quelle est la probabilit\u00e9 que vous nous"
    " recommandiez \u00e0 un ami ou un coll\u00e8gue ?\"}, \"min_label\": {\"en\": \"Not at all"
    " likely\", \"fr\": \"Pas du tout probable\"}, \"max_label\": {\"en\": \"Extremely likely\","
    " \"fr\": \"Tr\u00e8s probable\"}},"
    "  {\"id\": \"why\", \"type\": \"text\", \"show_if\": \"nps <= 6\", \"text\": {\"en\": \"What"
    " should we have done better?\", \"fr\": \"Qu'aurions-nous d\u00fb mieux faire ?\"}},"
    "  {\"id\": \"area\", \"type\": \"single_choice\", \"show_if\": \"nps <= 8\", \"text\":"
    " {\"en\": \"What matters most to improve?\", \"fr\": \"Que faut-il am\u00e9liorer d'abord ?\"},"
    " \"choices\": [{\"id\": \"price\", \"label\": {\"en\": \"Prices\", \"fr\": \"Les prix\"}},"
    " {\"id\": \"delivery\", \"label\": {\"en\": \"Delivery\", \"fr\": \"La livraison\"}},"
    " {\"id\": \"service\", \"label\": {\"en\": \"Customer service\", \"fr\": \"Le service client\"}}]}],"
    " \"thanks\": {\"en\": \"Thank you: we read every answer.\", \"fr\": \"Merci : nous lisons"
    " chaque r\u00e9ponse.\"},"
    " \"triggers\": [{\"on\": \"cadence\", \"every\": \"quarter\"}]}";
static const char demo_post[] =
    "{\"id\": \"post-support\", \"name\": \"After a support call\", \"kind\": \"transactional\","
    " \"stage\": \"support\", \"expiry_days\": 7,"
    " \"questions\": ["
    "  {\"id\": \"csat\", \"type\": \"csat\", \"text\": \"How satisfied are you with the help you"
    " got?\", \"min_label\": \"Very dissatisfied\", \"max_label\": \"Very satisfied\"},"
    "  {\"id\": \"ces\", \"type\": \"ces\", \"text\": \"How easy was it to get your issue"
    " solved?\", \"reverse\": true, \"min_label\": \"Very difficult\", \"max_label\": \"Very easy\"},"
    "  {\"id\": \"comment\", \"type\": \"text\", \"text\": \"Anything else you want to tell us?\"}],"
    " \"triggers\": [{\"on\": \"interaction\", \"when\": \"type = 'call' and stage = 'support'\","
    " \"delay\": \"1h\"}, {\"on\": \"case_resolved\", \"delay\": \"1d\"}]}";

static int demo_surveys(struct engine *e, struct cxm_err *err)
{
    const char *docs[] = {demo_rel, demo_post};
    size_t lens[] = {sizeof demo_rel - 1, sizeof demo_post - 1};
    for (int i = 0; i < 2; i++) {
        json_t *out = NULL;
        int rc = engine_survey_put(e, docs[i], lens[i], true, NULL, &out, err);
        json_decref(out);
        if (rc)
            return rc;
    }
    /* forty customers asked by link (fewer in a tiny demo); most answered */
    struct engine_stats st;
    engine_stats(e, &st);
    uint32_t who[40];
    size_t nwho = st.customers < 40 ? st.customers : 40;
    for (uint32_t i = 0; i < nwho; i++)
        who[i] = 1 + (uint32_t)((i * 97) % st.customers);
    struct invite_req r = {.survey = "relationship-nps", .customers = who, .n = nwho,
                           .channel = "link"};
    json_t *inv = NULL;
    int rc = nwho ? engine_survey_invite(e, &r, &inv, err) : CXM_OK;
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(inv, "invitations"), i, x) {
        const char *url = json_string_value(json_object_get(x, "url"));
        const char *tok = url ? strstr(url, "/s/") : NULL;
        if (rc || !tok || i % 5 == 4)
            continue;            /* a fifth never answer */
        tok += 3;
        char score[4];
        snprintf(score, sizeof score, "%zu", (i * 7 + 3) % 11);
        const char *v = score;
        struct cxm_err ae;
        engine_survey_answer(e, tok, "nps", &v, 1, &ae);
        const char *why = "Delivery took two weeks and nobody told me why.";
        if ((i * 7 + 3) % 11 <= 6)
            engine_survey_answer(e, tok, "why", &why, 1, &ae);
        const char *area = i % 2 ? "delivery" : "price";
        if ((i * 7 + 3) % 11 <= 8)
            engine_survey_answer(e, tok, "area", &area, 1, &ae);
    }
    json_decref(inv);
    return rc;
}

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"customers", required_argument, NULL, 'c'},
        {"seed", required_argument, NULL, 's'}, {"end", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *db = NULL;
    int64_t customers = 5000, seed = 42;
    time_t today = time(NULL);
    int64_t end = ((int64_t)today / 86400) * 86400 + 86399;
    int c;
    optind = 1;
    opterr = 0;   /* our own message below names the option */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'c':
            if (!cxm_parse_i64(optarg, &customers) || customers < 1 ||
                customers > DEMO_MAX_CUSTOMERS)
                return cli_usage("demo", "--customers wants 1 to %d", DEMO_MAX_CUSTOMERS);
            break;
        case 's':
            if (!cxm_parse_i64(optarg, &seed) || seed < 0)
                return cli_usage("demo", "--seed wants a non-negative integer");
            break;
        case 'e': {
            struct cxm_err e;
            if (timefmt_parse(optarg, &end, &e))
                return cli_usage("demo", "--end: %s", e.msg);
            end += 86399;
            break;
        }
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: return cli_usage("demo", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("demo", "unexpected argument '%s'", argv[optind]);
    db = cli_db(db);
    log_set_level(LOG_WARN);   /* the summary line below says what happened */
    struct demo_sink s = {.tty = isatty(2), .t0 = cxm_seconds()};
    cxm_err_clear(&s.err);
    struct engine_opts eo = {.sync = STORE_SYNC_FULL, .lock = true};
    if (engine_open(db, &eo, &s.e, &s.err))
        return cli_fail("demo", &s.err);
    s.recs = json_array();
    s.ev = cxm_calloc(DEMO_BATCH, sizeof *s.ev);
    int rc = !s.recs || !s.ev ? cxm_err_set(&s.err, CXM_ENOMEM, "out of memory") : CXM_OK;
    struct demo_opts o = {.customers = (size_t)customers, .seed = (uint64_t)seed,
                          .end_ts = end};
    if (!rc)
        rc = engine_set_alert_rules(s.e, demo_rules, sizeof demo_rules - 1, &s.err);
    if (!rc)
        rc = demo_generate(&o, emit, &s, &s.err);
    if (!rc)
        rc = flush(&s);
    if (s.tty)
        fputc('\n', stderr);
    /* a lifetime value model on the demo's orders, so profiles, the
     * at-risk list and the drivers have numbers from the start */
    json_t *fit = NULL;
    struct clv_fit_opts fo = {.unit = "week"};
    if (!rc && (rc = engine_clv_fit(s.e, &fo, &fit, &s.err)) == CXM_EINVAL) {
        cxm_err_clear(&s.err);   /* too few orders (a tiny demo): no model */
        rc = CXM_OK;
    }
    json_decref(fit);
    if (!rc)
        rc = demo_personalise(s.e, &s.err);
    if (!rc)
        rc = demo_casework(s.e, (int64_t)today, &s.err);
    if (!rc)
        rc = demo_surveys(s.e, &s.err);
    engine_close(s.e);
    json_decref(s.recs);
    free(s.ev);
    arena_free(&s.arena);
    if (rc)
        return cli_fail("demo", &s.err);
    fprintf(stderr, "cxm demo: %zu records for %lld customers stored in %s in %.1f s\n",
            s.stored, (long long)customers, db, cxm_seconds() - s.t0);
    return EXIT_OK;
}
