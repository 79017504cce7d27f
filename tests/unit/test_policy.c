/* test_policy.c - every rule of the contact policy at its boundaries
 * (the cap at max and max - 1, the window edge to the second, gaps,
 * survey answers and purchases exactly N days old), consent, the rule
 * order, `until` checked against a second check at until - 1 and until,
 * the parser's field errors, and policy_json -> policy_parse round trips. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"

#define NOW INT64_C(1750000000)
#define D INT64_C(86400)
#define MAXH 64

/* ---- helpers ------------------------------------------------------------ */

struct subj {
    struct policy_subject s;
    struct policy_contact h[MAXH];
};

/* A customer who said yes to everything, has no cases, answers or
 * orders, and has not been contacted. */
static void subj_init(struct subj *x)
{
    memset(x, 0, sizeof *x);
    x->s.consent_marketing = 1;
    x->s.consent_surveys = 1;
    x->s.hist = x->h;
}

static void contact(struct subj *x, int kind, int64_t ts)
{
    cr_assert_lt(x->s.nhist, MAXH);
    x->h[x->s.nhist++] = (struct policy_contact){.ts = ts, .kind = (uint8_t)kind};
}

static struct policy defaults(void)
{
    struct policy p;
    policy_default(&p);
    return p;
}

/* A policy with nothing but the rules the test adds. */
static struct policy empty_policy(void)
{
    struct policy p;
    memset(&p, 0, sizeof p);
    return p;
}

static struct policy_verdict check(const struct policy *p, const struct subj *x, int kind,
                                   bool acq, int64_t now)
{
    struct policy_verdict v;
    memset(&v, 0xAB, sizeof v);
    bool ok = policy_check(p, &x->s, kind, acq, now, &v);
    cr_assert_eq(ok, v.rule == PR_OK, "return %d but rule %s", ok, policy_rule_name(v.rule));
    cr_assert_eq(policy_check(p, &x->s, kind, acq, now, NULL), ok, "NULL verdict differs");
    return v;
}

static void assert_ok(const struct policy *p, const struct subj *x, int kind, bool acq,
                      int64_t now)
{
    struct policy_verdict v = check(p, x, kind, acq, now);
    cr_assert_eq(v.rule, PR_OK, "%s excluded by %s[%d]: %s", contact_kind_name(kind),
                 policy_rule_name(v.rule), v.index, v.why);
    cr_assert_eq(v.index, -1);
    cr_assert_eq(v.until, 0);
}

static struct policy_verdict assert_excluded(const struct policy *p, const struct subj *x,
                                             int kind, bool acq, int64_t now,
                                             enum policy_rule rule, int index)
{
    struct policy_verdict v = check(p, x, kind, acq, now);
    cr_assert_eq(v.rule, rule, "%s: want %s, got %s (%s)", contact_kind_name(kind),
                 policy_rule_name(rule), policy_rule_name(v.rule), v.why);
    cr_assert_eq(v.index, index, "index %d, want %d", v.index, index);
    cr_assert(v.why[0], "no why");
    return v;
}

static void assert_why(const struct policy_verdict *v, const char *want)
{
    cr_assert_str_eq(v->why, want);
}

static struct policy parse_ok(const char *json)
{
    struct policy p;
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = policy_parse(json, strlen(json), &p, &err);
    cr_assert_eq(rc, CXM_OK, "'%s': %s (field %s)", json, err.msg, err.field);
    return p;
}

/* Expects CXM_EINVAL naming field, with want in the message; *out kept. */
static void parse_bad(const char *json, const char *field, const char *want)
{
    struct policy p, before;
    memset(&p, 0x5A, sizeof p);
    memcpy(&before, &p, sizeof p);
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = policy_parse(json, strlen(json), &p, &err);
    cr_assert_eq(rc, CXM_EINVAL, "'%s' accepted", json);
    cr_assert_eq(err.code, CXM_EINVAL);
    cr_assert_str_eq(err.field, field, "'%s': field '%s' (%s)", json, err.field, err.msg);
    cr_assert(strstr(err.msg, want), "'%s': message '%s' lacks '%s'", json, err.msg, want);
    cr_assert(memcmp(&p, &before, sizeof p) == 0, "'%s' wrote the output on error", json);
}

static void assert_same(const struct policy *a, const struct policy *b)
{
    cr_assert_eq(a->need_marketing, b->need_marketing);
    cr_assert_eq(a->need_surveys, b->need_surveys);
    cr_assert_eq(a->unknown_is_yes, b->unknown_is_yes);
    cr_assert_eq(a->open_case_suppresses, b->open_case_suppresses);
    cr_assert_eq(a->survey_answered_days, b->survey_answered_days);
    cr_assert_eq(a->recent_purchase_days, b->recent_purchase_days);
    cr_assert_eq(a->ncap, b->ncap);
    for (size_t i = 0; i < a->ncap; i++) {
        cr_assert_eq(a->cap[i].kinds, b->cap[i].kinds, "cap %zu", i);
        cr_assert_eq(a->cap[i].max, b->cap[i].max, "cap %zu", i);
        cr_assert_eq(a->cap[i].days, b->cap[i].days, "cap %zu", i);
    }
    cr_assert_eq(a->ngap, b->ngap);
    for (size_t i = 0; i < a->ngap; i++) {
        cr_assert_eq(a->gap[i].kinds, b->gap[i].kinds, "gap %zu", i);
        cr_assert_eq(a->gap[i].days, b->gap[i].days, "gap %zu", i);
    }
}

static struct policy round_trip(const struct policy *p)
{
    json_t *j = policy_json(p);
    cr_assert(j);
    char *s = json_dumps(j, JSON_COMPACT);
    cr_assert(s);
    struct policy q = parse_ok(s);
    free(s);
    json_decref(j);
    return q;
}

#define B(k) (UINT32_C(1) << (k))

/* ---- kinds and defaults -------------------------------------------------- */

Test(policy, kind_names_round_trip)
{
    static const char *names[] = {NULL, "promotion", "survey", "service_follow_up",
                                  "retention_offer", "thank_you", "referral"};
    for (int k = 1; k < CK_COUNT; k++) {
        cr_assert_str_eq(contact_kind_name(k), names[k]);
        cr_assert_eq(contact_kind_parse(names[k]), k);
    }
    cr_assert_null(contact_kind_name(0));
    cr_assert_null(contact_kind_name(CK_COUNT));
    cr_assert_null(contact_kind_name(-1));
    cr_assert_eq(contact_kind_parse("Promotion"), 0);
    cr_assert_eq(contact_kind_parse("all"), 0);
    cr_assert_eq(contact_kind_parse(""), 0);
    cr_assert_eq(contact_kind_parse(NULL), 0);
    cr_assert_eq(CK_ALL, B(1) | B(2) | B(3) | B(4) | B(5) | B(6));
}

Test(policy, rule_names)
{
    cr_assert_str_eq(policy_rule_name(PR_OK), "ok");
    cr_assert_str_eq(policy_rule_name(PR_CONSENT_MARKETING), "consent.marketing");
    cr_assert_str_eq(policy_rule_name(PR_CONSENT_SURVEYS), "consent.surveys");
    cr_assert_str_eq(policy_rule_name(PR_OPEN_CASE), "suppress.open_case");
    cr_assert_str_eq(policy_rule_name(PR_SURVEY_ANSWERED), "suppress.survey_answered");
    cr_assert_str_eq(policy_rule_name(PR_RECENT_PURCHASE), "suppress.recent_purchase");
    cr_assert_str_eq(policy_rule_name(PR_CAP), "cap");
    cr_assert_str_eq(policy_rule_name(PR_GAP), "gap");
}

Test(policy, default_is_as_documented)
{
    struct policy p = defaults();
    cr_assert_eq(p.need_marketing, B(CK_PROMOTION) | B(CK_RETENTION) | B(CK_REFERRAL) |
                                       B(CK_THANKS));
    cr_assert_eq(p.need_surveys, B(CK_SURVEY));
    cr_assert_not(p.unknown_is_yes);
    cr_assert_eq(p.open_case_suppresses, B(CK_PROMOTION) | B(CK_REFERRAL) | B(CK_SURVEY));
    cr_assert_eq(p.survey_answered_days, 30);
    cr_assert_eq(p.recent_purchase_days, 30);
    cr_assert_eq(p.ncap, 2);
    cr_assert_eq(p.cap[0].kinds, CK_ALL);
    cr_assert_eq(p.cap[0].max, 3);
    cr_assert_eq(p.cap[0].days, 7);
    cr_assert_eq(p.cap[1].kinds, B(CK_SURVEY));
    cr_assert_eq(p.cap[1].max, 1);
    cr_assert_eq(p.cap[1].days, 30);
    cr_assert_eq(p.ngap, 1);
    cr_assert_eq(p.gap[0].kinds, B(CK_PROMOTION));
    cr_assert_eq(p.gap[0].days, 2);
}

Test(policy, a_fresh_customer_may_get_every_kind)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    for (int k = 1; k < CK_COUNT; k++) {
        assert_ok(&p, &x, k, false, NOW);
        assert_ok(&p, &x, k, true, NOW);
    }
    struct policy_verdict v = check(&p, &x, CK_PROMOTION, false, NOW);
    cr_assert_str_eq(v.why, "allowed");
}

/* ---- consent -------------------------------------------------------------- */

Test(policy, consent_withdrawn_excludes_marketing_kinds_only)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    x.s.consent_marketing = 0;
    static const int marketing[] = {CK_PROMOTION, CK_RETENTION, CK_REFERRAL, CK_THANKS};
    for (size_t i = 0; i < 4; i++) {
        struct policy_verdict v =
            assert_excluded(&p, &x, marketing[i], false, NOW, PR_CONSENT_MARKETING, -1);
        assert_why(&v, "no marketing consent");
        cr_assert_eq(v.until, 0, "consent is not a matter of time");
    }
    assert_ok(&p, &x, CK_SERVICE, false, NOW);
    assert_ok(&p, &x, CK_SURVEY, false, NOW);

    subj_init(&x);
    x.s.consent_surveys = 0;
    struct policy_verdict v = assert_excluded(&p, &x, CK_SURVEY, false, NOW,
                                              PR_CONSENT_SURVEYS, -1);
    assert_why(&v, "no survey consent");
    cr_assert_eq(v.until, 0);
    for (int k = 1; k < CK_COUNT; k++)
        if (k != CK_SURVEY)
            assert_ok(&p, &x, k, false, NOW);
}

Test(policy, unknown_consent_counts_as_yes_only_when_the_policy_says_so)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    x.s.consent_marketing = -1;
    x.s.consent_surveys = -1;
    struct policy_verdict v = assert_excluded(&p, &x, CK_PROMOTION, false, NOW,
                                              PR_CONSENT_MARKETING, -1);
    cr_assert(strstr(v.why, "marketing consent unknown"), "%s", v.why);
    v = assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_CONSENT_SURVEYS, -1);
    cr_assert(strstr(v.why, "survey consent unknown"), "%s", v.why);
    assert_ok(&p, &x, CK_SERVICE, false, NOW);

    p.unknown_is_yes = true;
    assert_ok(&p, &x, CK_PROMOTION, false, NOW);
    assert_ok(&p, &x, CK_SURVEY, false, NOW);
    /* an explicit no stays a no */
    x.s.consent_marketing = 0;
    x.s.consent_surveys = 0;
    assert_excluded(&p, &x, CK_PROMOTION, false, NOW, PR_CONSENT_MARKETING, -1);
    assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_CONSENT_SURVEYS, -1);
}

Test(policy, a_kind_needing_both_consents_reports_marketing_first)
{
    struct policy p = defaults();
    p.need_surveys |= B(CK_PROMOTION);
    struct subj x;
    subj_init(&x);
    x.s.consent_marketing = 0;
    x.s.consent_surveys = 0;
    assert_excluded(&p, &x, CK_PROMOTION, false, NOW, PR_CONSENT_MARKETING, -1);
    x.s.consent_marketing = 1;
    assert_excluded(&p, &x, CK_PROMOTION, false, NOW, PR_CONSENT_SURVEYS, -1);
}

/* ---- suppression ------------------------------------------------------------ */

Test(policy, open_case_suppresses_its_kinds)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    x.s.open_cases = 1;
    static const int suppressed[] = {CK_PROMOTION, CK_REFERRAL, CK_SURVEY};
    for (size_t i = 0; i < 3; i++) {
        struct policy_verdict v =
            assert_excluded(&p, &x, suppressed[i], false, NOW, PR_OPEN_CASE, -1);
        assert_why(&v, "open case or complaint");
        cr_assert_eq(v.until, 0);
    }
    assert_ok(&p, &x, CK_SERVICE, false, NOW);
    assert_ok(&p, &x, CK_RETENTION, false, NOW);
    assert_ok(&p, &x, CK_THANKS, false, NOW);
    x.s.open_cases = 3;
    struct policy_verdict v = assert_excluded(&p, &x, CK_PROMOTION, false, NOW, PR_OPEN_CASE,
                                              -1);
    assert_why(&v, "3 open cases or complaints");
    x.s.open_cases = 0;
    assert_ok(&p, &x, CK_PROMOTION, false, NOW);
}

Test(policy, survey_answered_window_edges)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    /* exactly 30 days ago: outside the window (now - 30 d, now] */
    x.s.last_answer_ts = NOW - 30 * D;
    assert_ok(&p, &x, CK_SURVEY, false, NOW);
    /* one second later: inside, until the first second it is 30 days old */
    x.s.last_answer_ts = NOW - 30 * D + 1;
    struct policy_verdict v = assert_excluded(&p, &x, CK_SURVEY, false, NOW,
                                              PR_SURVEY_ANSWERED, -1);
    cr_assert_eq(v.until, NOW + 1);
    assert_why(&v, "answered a survey 29 days ago (surveys suppressed for 30 days)");
    assert_ok(&p, &x, CK_SURVEY, false, v.until);
    assert_excluded(&p, &x, CK_SURVEY, false, v.until - 1, PR_SURVEY_ANSWERED, -1);

    x.s.last_answer_ts = NOW - 12 * D;
    v = assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_SURVEY_ANSWERED, -1);
    assert_why(&v, "answered a survey 12 days ago (surveys suppressed for 30 days)");
    cr_assert_eq(v.until, NOW + 18 * D);
    x.s.last_answer_ts = NOW;
    v = assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_SURVEY_ANSWERED, -1);
    assert_why(&v, "answered a survey less than an hour ago (surveys suppressed for 30 days)");
    /* only surveys */
    for (int k = 1; k < CK_COUNT; k++)
        if (k != CK_SURVEY)
            assert_ok(&p, &x, k, false, NOW);
    /* 0 days: off; 0 ts: never answered */
    p.survey_answered_days = 0;
    assert_ok(&p, &x, CK_SURVEY, false, NOW);
    p.survey_answered_days = 30;
    x.s.last_answer_ts = 0;
    assert_ok(&p, &x, CK_SURVEY, false, NOW);
    p.survey_answered_days = 1;
    x.s.last_answer_ts = NOW - 5 * 3600;
    v = assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_SURVEY_ANSWERED, -1);
    assert_why(&v, "answered a survey 5 hours ago (surveys suppressed for 1 day)");
}

Test(policy, recent_purchase_suppresses_acquisition_offers_only)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    x.s.last_order_ts = NOW - 3 * D;
    struct policy_verdict v = assert_excluded(&p, &x, CK_PROMOTION, true, NOW,
                                              PR_RECENT_PURCHASE, -1);
    cr_assert_eq(v.until, NOW + 27 * D);
    assert_why(&v, "bought 3 days ago (acquisition offers suppressed for 30 days after a "
                   "purchase)");
    /* the same kind when it is not an acquisition offer */
    assert_ok(&p, &x, CK_PROMOTION, false, NOW);
    assert_ok(&p, &x, CK_RETENTION, false, NOW);
    /* acquisition applies to any kind the caller flags */
    assert_excluded(&p, &x, CK_REFERRAL, true, NOW, PR_RECENT_PURCHASE, -1);

    x.s.last_order_ts = NOW - 30 * D;
    assert_ok(&p, &x, CK_PROMOTION, true, NOW);
    x.s.last_order_ts = NOW - 30 * D + 1;
    v = assert_excluded(&p, &x, CK_PROMOTION, true, NOW, PR_RECENT_PURCHASE, -1);
    cr_assert_eq(v.until, NOW + 1);
    assert_ok(&p, &x, CK_PROMOTION, true, NOW + 1);
    p.recent_purchase_days = 0;
    assert_ok(&p, &x, CK_PROMOTION, true, NOW);
    p.recent_purchase_days = 30;
    x.s.last_order_ts = 0;
    assert_ok(&p, &x, CK_PROMOTION, true, NOW);
}

/* ---- caps -------------------------------------------------------------------- */

Test(policy, cap_at_max_excludes_and_below_allows)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    contact(&x, CK_SERVICE, NOW - 1 * D);
    contact(&x, CK_THANKS, NOW - 2 * D);
    /* max - 1 = 2 contacts in 7 days: one more is fine */
    assert_ok(&p, &x, CK_SERVICE, false, NOW);
    contact(&x, CK_SERVICE, NOW - 6 * D);
    struct policy_verdict v = assert_excluded(&p, &x, CK_SERVICE, false, NOW, PR_CAP, 0);
    assert_why(&v, "3 contacts in the last 7 days (at most 3 per 7 days)");
    /* the oldest leaves the window 7 days after it was made */
    cr_assert_eq(v.until, NOW + 1 * D);
    /* the cap of every kind counts every kind, whatever the kind asked */
    for (int k = 1; k < CK_COUNT; k++)
        assert_excluded(&p, &x, k, false, NOW, PR_CAP, 0);
}

Test(policy, cap_window_edge_to_the_second)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    contact(&x, CK_SERVICE, NOW - 1 * D);
    contact(&x, CK_SERVICE, NOW - 2 * D);
    contact(&x, CK_SERVICE, NOW - 7 * D);      /* exactly 7 days: outside */
    assert_ok(&p, &x, CK_SERVICE, false, NOW);
    x.h[2].ts = NOW - 7 * D + 1;                /* one second later: inside */
    struct policy_verdict v = assert_excluded(&p, &x, CK_SERVICE, false, NOW, PR_CAP, 0);
    cr_assert_eq(v.until, NOW + 1);
    assert_excluded(&p, &x, CK_SERVICE, false, NOW + 0, PR_CAP, 0);
    assert_ok(&p, &x, CK_SERVICE, false, NOW + 1);
    /* a contact made exactly now is inside */
    x.h[2].ts = NOW;
    v = assert_excluded(&p, &x, CK_SERVICE, false, NOW, PR_CAP, 0);
    cr_assert_eq(v.until, NOW + 5 * D, "the oldest (2 days) leaves in 5 days");
}

Test(policy, cap_until_waits_for_enough_contacts_to_leave)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    /* five in the window, max 3: three must leave, the third oldest last */
    contact(&x, CK_SERVICE, NOW - 2 * D);
    contact(&x, CK_SERVICE, NOW - 6 * D);
    contact(&x, CK_SERVICE, NOW - 4 * D);
    contact(&x, CK_SERVICE, NOW - 3 * D);
    contact(&x, CK_SERVICE, NOW - 5 * D);
    contact(&x, CK_SERVICE, NOW - 9 * D);       /* already outside */
    struct policy_verdict v = assert_excluded(&p, &x, CK_SERVICE, false, NOW, PR_CAP, 0);
    assert_why(&v, "5 contacts in the last 7 days (at most 3 per 7 days)");
    cr_assert_eq(v.until, NOW - 4 * D + 7 * D);
    assert_excluded(&p, &x, CK_SERVICE, false, v.until - 1, PR_CAP, 0);
    assert_ok(&p, &x, CK_SERVICE, false, v.until);

    /* equal times leave together */
    subj_init(&x);
    for (int i = 0; i < 4; i++)
        contact(&x, CK_SERVICE, NOW - 3 * D);
    contact(&x, CK_SERVICE, NOW - 1 * D);
    v = assert_excluded(&p, &x, CK_SERVICE, false, NOW, PR_CAP, 0);
    cr_assert_eq(v.until, NOW + 4 * D);
    assert_ok(&p, &x, CK_SERVICE, false, v.until);
}

Test(policy, contacts_after_now_count_as_inside)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    contact(&x, CK_SERVICE, NOW + 100);
    contact(&x, CK_SERVICE, NOW + 10 * D);
    contact(&x, CK_SERVICE, NOW - D);
    struct policy_verdict v = assert_excluded(&p, &x, CK_SERVICE, false, NOW, PR_CAP, 0);
    cr_assert_eq(v.until, NOW - D + 7 * D);
    /* the gap sees a promotion "in the future" too */
    subj_init(&x);
    contact(&x, CK_PROMOTION, NOW + 60);
    v = assert_excluded(&p, &x, CK_PROMOTION, false, NOW, PR_GAP, 0);
    cr_assert_eq(v.until, NOW + 60 + 2 * D);
}

Test(policy, survey_cap_counts_surveys_only)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    contact(&x, CK_PROMOTION, NOW - 20 * D);
    contact(&x, CK_SERVICE, NOW - 10 * D);
    assert_ok(&p, &x, CK_SURVEY, false, NOW);
    contact(&x, CK_SURVEY, NOW - 29 * D);
    struct policy_verdict v = assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_CAP, 1);
    assert_why(&v, "1 survey contact in the last 30 days (at most 1 per 30 days)");
    cr_assert_eq(v.until, NOW + D);
    assert_ok(&p, &x, CK_PROMOTION, false, NOW);
    x.h[2].ts = NOW - 30 * D;
    assert_ok(&p, &x, CK_SURVEY, false, NOW);
}

Test(policy, cap_of_some_kinds_says_which)
{
    struct policy p = empty_policy();
    p.cap[0] = (struct policy_cap){B(CK_PROMOTION) | B(CK_REFERRAL), 2, 1};
    p.ncap = 1;
    struct subj x;
    subj_init(&x);
    contact(&x, CK_PROMOTION, NOW - 3600);
    contact(&x, CK_RETENTION, NOW - 60);
    assert_ok(&p, &x, CK_REFERRAL, false, NOW);
    contact(&x, CK_REFERRAL, NOW - 7200);
    struct policy_verdict v = assert_excluded(&p, &x, CK_REFERRAL, false, NOW, PR_CAP, 0);
    assert_why(&v, "2 promotion/referral contacts in the last day (at most 2 per day)");
    cr_assert_eq(v.until, NOW - 7200 + D, "both must leave: the older one last");
    /* a kind the cap does not name is not held by it */
    assert_ok(&p, &x, CK_RETENTION, false, NOW);
}

/* ---- gaps ---------------------------------------------------------------- */

Test(policy, gap_edges)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    contact(&x, CK_PROMOTION, NOW - 2 * D);     /* exactly 2 days: allowed */
    assert_ok(&p, &x, CK_PROMOTION, false, NOW);
    x.h[0].ts = NOW - 2 * D + 1;
    struct policy_verdict v = assert_excluded(&p, &x, CK_PROMOTION, false, NOW, PR_GAP, 0);
    cr_assert_eq(v.until, NOW + 1);
    assert_why(&v, "last promotion contact 1 day ago (at least 2 days between promotion "
                   "contacts)");
    assert_ok(&p, &x, CK_PROMOTION, false, v.until);
    /* the latest promotion decides, in any order of the history */
    contact(&x, CK_PROMOTION, NOW - 5 * 3600);
    contact(&x, CK_PROMOTION, NOW - 40 * D);
    v = assert_excluded(&p, &x, CK_PROMOTION, false, NOW, PR_GAP, 0);
    cr_assert_eq(v.until, NOW - 5 * 3600 + 2 * D);
    cr_assert(strstr(v.why, "5 hours ago"), "%s", v.why);
    /* other kinds are not held by the promotion gap */
    assert_ok(&p, &x, CK_SERVICE, false, NOW);
    subj_init(&x);
    contact(&x, CK_SERVICE, NOW - 60);
    contact(&x, CK_SURVEY, NOW - 60);
    assert_ok(&p, &x, CK_PROMOTION, false, NOW);
}

Test(policy, gap_of_all_kinds)
{
    struct policy p = empty_policy();
    p.gap[0] = (struct policy_gap){CK_ALL, 1};
    p.ngap = 1;
    struct subj x;
    subj_init(&x);
    contact(&x, CK_THANKS, NOW - 10);
    struct policy_verdict v = assert_excluded(&p, &x, CK_SERVICE, false, NOW, PR_GAP, 0);
    assert_why(&v, "last contact less than an hour ago (at least 1 day between contacts)");
    cr_assert_eq(v.until, NOW - 10 + D);
}

/* ---- order -------------------------------------------------------------- */

Test(policy, rules_apply_in_the_documented_order)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    /* everything applies at once to a survey */
    x.s.consent_surveys = 0;
    x.s.open_cases = 1;
    x.s.last_answer_ts = NOW - D;
    for (int i = 0; i < 3; i++)
        contact(&x, CK_SURVEY, NOW - (i + 1) * 3600);
    assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_CONSENT_SURVEYS, -1);
    x.s.consent_surveys = 1;
    assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_OPEN_CASE, -1);
    x.s.open_cases = 0;
    assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_SURVEY_ANSWERED, -1);
    x.s.last_answer_ts = 0;
    /* caps in order: every kind (index 0) before surveys (index 1) */
    assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_CAP, 0);
    x.s.nhist = 1;
    assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_CAP, 1);
    x.s.nhist = 0;
    assert_ok(&p, &x, CK_SURVEY, false, NOW);

    /* an acquisition promotion: consent, case, purchase, cap, gap */
    subj_init(&x);
    x.s.consent_marketing = 0;
    x.s.open_cases = 2;
    x.s.last_order_ts = NOW - D;
    for (int i = 0; i < 3; i++)
        contact(&x, CK_PROMOTION, NOW - (i + 1) * 3600);
    assert_excluded(&p, &x, CK_PROMOTION, true, NOW, PR_CONSENT_MARKETING, -1);
    x.s.consent_marketing = 1;
    assert_excluded(&p, &x, CK_PROMOTION, true, NOW, PR_OPEN_CASE, -1);
    x.s.open_cases = 0;
    assert_excluded(&p, &x, CK_PROMOTION, true, NOW, PR_RECENT_PURCHASE, -1);
    x.s.last_order_ts = 0;
    assert_excluded(&p, &x, CK_PROMOTION, true, NOW, PR_CAP, 0);
    x.s.nhist = 1;
    assert_excluded(&p, &x, CK_PROMOTION, true, NOW, PR_GAP, 0);
}

Test(policy, gaps_in_order)
{
    struct policy p = empty_policy();
    p.gap[0] = (struct policy_gap){B(CK_SURVEY), 3};
    p.gap[1] = (struct policy_gap){CK_ALL, 1};
    p.ngap = 2;
    struct subj x;
    subj_init(&x);
    contact(&x, CK_SERVICE, NOW - 3600);
    assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_GAP, 1);
    contact(&x, CK_SURVEY, NOW - 2 * D);
    assert_excluded(&p, &x, CK_SURVEY, false, NOW, PR_GAP, 0);
}

/* ---- until is the first second allowed ------------------------------------ */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* With one timed rule at a time, a verdict's until is exactly the first
 * second that rule allows: at until - 1 it still excludes. */
Test(policy, until_is_the_first_second_allowed_on_random_histories)
{
    struct rng r = {42};
    for (int iter = 0; iter < 4000; iter++) {
        struct policy p = empty_policy();
        uint32_t days = (uint32_t)(rng_next(&r) % 10) + 1;
        int which = (int)(rng_next(&r) % 2);
        if (which == 0) {
            p.cap[0] = (struct policy_cap){(uint32_t)(rng_next(&r) % CK_ALL) | B(CK_SERVICE),
                                           (uint32_t)(rng_next(&r) % 4) + 1, days};
            p.ncap = 1;
        } else {
            p.gap[0] = (struct policy_gap){(uint32_t)(rng_next(&r) % CK_ALL) | B(CK_SERVICE),
                                           days};
            p.ngap = 1;
        }
        struct subj x;
        subj_init(&x);
        size_t n = rng_next(&r) % 12;
        for (size_t i = 0; i < n; i++)
            contact(&x, (int)(rng_next(&r) % 6) + 1,
                    NOW - (int64_t)(rng_next(&r) % (uint64_t)(12 * D)) + 3600);
        struct policy_verdict v = check(&p, &x, CK_SERVICE, false, NOW);
        if (v.rule == PR_OK)
            continue;
        cr_assert_eq(v.rule, which == 0 ? PR_CAP : PR_GAP);
        cr_assert_gt(v.until, NOW);
        struct policy_verdict w = check(&p, &x, CK_SERVICE, false, v.until - 1);
        cr_assert_eq(w.rule, v.rule, "iter %d: allowed before until", iter);
        w = check(&p, &x, CK_SERVICE, false, v.until);
        cr_assert_eq(w.rule, PR_OK, "iter %d: still excluded at until: %s", iter, w.why);
    }
}

Test(policy, extreme_times_do_not_overflow)
{
    struct policy p = defaults();
    struct subj x;
    subj_init(&x);
    contact(&x, CK_SERVICE, INT64_MAX);
    contact(&x, CK_SERVICE, INT64_MAX - 1);
    contact(&x, CK_SERVICE, INT64_MAX - 2);
    struct policy_verdict v = assert_excluded(&p, &x, CK_SERVICE, false, INT64_MIN + 5, PR_CAP,
                                              0);
    cr_assert_eq(v.until, INT64_MAX);
    /* seconds after the earliest time there is */
    subj_init(&x);
    contact(&x, CK_SERVICE, INT64_MIN);
    contact(&x, CK_SERVICE, INT64_MIN + 1);
    assert_ok(&p, &x, CK_SERVICE, false, INT64_MIN + 5);
    contact(&x, CK_SERVICE, INT64_MIN + 2);
    v = assert_excluded(&p, &x, CK_SERVICE, false, INT64_MIN + 5, PR_CAP, 0);
    cr_assert_eq(v.until, INT64_MIN + 7 * D);
    /* a contact at the earliest time seen from the latest is long gone */
    assert_ok(&p, &x, CK_SERVICE, false, INT64_MAX);
}

/* ---- parsing ---------------------------------------------------------------- */

Test(policy, parse_empty_object_keeps_the_defaults)
{
    struct policy p = parse_ok("{}"), d = defaults();
    assert_same(&p, &d);
    p = parse_ok("{\"consent\": {}, \"suppress\": {}}");
    assert_same(&p, &d);
}

Test(policy, parse_a_full_document)
{
    struct policy p = parse_ok(
        "{\"consent\": {\"marketing\": [\"promotion\", \"referral\"], \"surveys\": "
        "[\"survey\", \"thank_you\"], \"unknown_is_yes\": true},"
        " \"suppress\": {\"open_case\": [\"retention_offer\"], \"survey_answered_days\": 0,"
        " \"recent_purchase_days\": 3650},"
        " \"caps\": [{\"kinds\": \"all\", \"max\": 5, \"days\": 14},"
        "            {\"kinds\": [\"survey\", \"promotion\"], \"max\": 1000, \"days\": 1}],"
        " \"gaps\": [{\"kinds\": [\"service_follow_up\"], \"days\": 3650}]}");
    cr_assert_eq(p.need_marketing, B(CK_PROMOTION) | B(CK_REFERRAL));
    cr_assert_eq(p.need_surveys, B(CK_SURVEY) | B(CK_THANKS));
    cr_assert(p.unknown_is_yes);
    cr_assert_eq(p.open_case_suppresses, B(CK_RETENTION));
    cr_assert_eq(p.survey_answered_days, 0);
    cr_assert_eq(p.recent_purchase_days, 3650);
    cr_assert_eq(p.ncap, 2);
    cr_assert_eq(p.cap[0].kinds, CK_ALL);
    cr_assert_eq(p.cap[0].max, 5);
    cr_assert_eq(p.cap[0].days, 14);
    cr_assert_eq(p.cap[1].kinds, B(CK_SURVEY) | B(CK_PROMOTION));
    cr_assert_eq(p.cap[1].max, 1000);
    cr_assert_eq(p.cap[1].days, 1);
    cr_assert_eq(p.ngap, 1);
    cr_assert_eq(p.gap[0].kinds, B(CK_SERVICE));
    cr_assert_eq(p.gap[0].days, 3650);
}

Test(policy, parse_members_left_out_keep_defaults)
{
    struct policy p = parse_ok("{\"consent\": {\"unknown_is_yes\": true}, "
                               "\"suppress\": {\"recent_purchase_days\": 7}}");
    struct policy d = defaults();
    cr_assert(p.unknown_is_yes);
    cr_assert_eq(p.recent_purchase_days, 7);
    d.unknown_is_yes = true;
    d.recent_purchase_days = 7;
    assert_same(&p, &d);
}

Test(policy, parse_empty_arrays_clear)
{
    struct policy p = parse_ok("{\"consent\": {\"marketing\": [], \"surveys\": []},"
                               " \"suppress\": {\"open_case\": []}, \"caps\": [], \"gaps\": []}");
    cr_assert_eq(p.need_marketing, 0);
    cr_assert_eq(p.need_surveys, 0);
    cr_assert_eq(p.open_case_suppresses, 0);
    cr_assert_eq(p.ncap, 0);
    cr_assert_eq(p.ngap, 0);
    /* nothing left to exclude anyone */
    struct subj x;
    subj_init(&x);
    x.s.consent_marketing = 0;
    x.s.consent_surveys = 0;
    x.s.open_cases = 1;
    for (int i = 0; i < 20; i++)
        contact(&x, CK_PROMOTION, NOW - i);
    assert_ok(&p, &x, CK_PROMOTION, false, NOW);
}

Test(policy, parse_all_means_every_kind_and_duplicates_are_harmless)
{
    struct policy p = parse_ok("{\"gaps\": [{\"kinds\": \"all\", \"days\": 1}],"
                               " \"caps\": [{\"kinds\": [\"survey\", \"survey\"], \"max\": 2,"
                               " \"days\": 3}]}");
    cr_assert_eq(p.gap[0].kinds, CK_ALL);
    cr_assert_eq(p.cap[0].kinds, B(CK_SURVEY));
    /* naming all six is the same as "all" */
    p = parse_ok("{\"caps\": [{\"kinds\": [\"promotion\", \"survey\", \"service_follow_up\","
                 " \"retention_offer\", \"thank_you\", \"referral\"], \"max\": 1, \"days\": 1}]}");
    cr_assert_eq(p.cap[0].kinds, CK_ALL);
}

Test(policy, parse_errors_name_the_field)
{
    parse_bad("{\"caps\": [{\"kinds\": \"all\", \"max\": 3, \"days\": 7},"
              " {\"kinds\": \"all\", \"max\": 3, \"days\": 0}]}",
              "caps[1].days", "1 to 3650");
    parse_bad("{\"caps\": [{\"kinds\": \"all\", \"max\": 3, \"days\": 3651}]}", "caps[0].days",
              "1 to 3650");
    parse_bad("{\"caps\": [{\"kinds\": \"all\", \"max\": 3, \"days\": 7.5}]}", "caps[0].days",
              "whole number");
    parse_bad("{\"caps\": [{\"kinds\": \"all\", \"max\": 0, \"days\": 7}]}", "caps[0].max",
              "1 to 1000");
    parse_bad("{\"caps\": [{\"kinds\": \"all\", \"max\": 1001, \"days\": 7}]}", "caps[0].max",
              "1 to 1000");
    parse_bad("{\"caps\": [{\"kinds\": \"all\", \"max\": \"3\", \"days\": 7}]}", "caps[0].max",
              "whole number");
    parse_bad("{\"caps\": [{\"kinds\": \"all\", \"days\": 7}]}", "caps[0].max", "missing");
    parse_bad("{\"caps\": [{\"max\": 1, \"days\": 7}]}", "caps[0].kinds", "missing");
    parse_bad("{\"caps\": [{\"kinds\": [], \"max\": 1, \"days\": 7}]}", "caps[0].kinds",
              "at least one kind");
    parse_bad("{\"caps\": [{\"kinds\": \"some\", \"max\": 1, \"days\": 7}]}", "caps[0].kinds",
              "\"all\" or an array of kinds");
    parse_bad("{\"caps\": [{\"kinds\": \"all\", \"max\": 1, \"days\": 7, \"per\": 1}]}",
              "caps[0].per", "unknown member");
    parse_bad("{\"caps\": [7]}", "caps[0]", "object");
    parse_bad("{\"caps\": {}}", "caps", "array");
    parse_bad("{\"gaps\": [{\"kinds\": [\"promotion\", \"spam\"], \"days\": 2}]}",
              "gaps[0].kinds[1]", "unknown kind \"spam\"");
    parse_bad("{\"gaps\": [{\"kinds\": [\"promotion\", 3], \"days\": 2}]}", "gaps[0].kinds[1]",
              "string");
    parse_bad("{\"gaps\": [{\"kinds\": \"all\", \"days\": -1}]}", "gaps[0].days", "1 to 3650");
    parse_bad("{\"gaps\": [{\"kinds\": \"all\", \"max\": 1, \"days\": 1}]}", "gaps[0].max",
              "unknown member");
    parse_bad("{\"consent\": {\"marketing\": \"all\"}}", "consent.marketing", "array of kinds");
    parse_bad("{\"consent\": {\"surveys\": [\"poll\"]}}", "consent.surveys[0]", "unknown kind");
    parse_bad("{\"consent\": {\"unknown_is_yes\": 1}}", "consent.unknown_is_yes",
              "true or false");
    parse_bad("{\"consent\": {\"personalisation\": []}}", "consent.personalisation",
              "unknown member");
    parse_bad("{\"consent\": []}", "consent", "object");
    parse_bad("{\"suppress\": {\"survey_answered_days\": 3651}}", "suppress.survey_answered_days",
              "0 to 3650");
    parse_bad("{\"suppress\": {\"recent_purchase_days\": -1}}", "suppress.recent_purchase_days",
              "0 to 3650");
    parse_bad("{\"suppress\": {\"open_case\": [\"complaint\"]}}", "suppress.open_case[0]",
              "unknown kind");
    parse_bad("{\"suppress\": {\"open_cases\": []}}", "suppress.open_cases", "unknown member");
    parse_bad("{\"caps\": [], \"limits\": {}}", "limits", "unknown member");
    parse_bad("[]", "", "object");
    parse_bad("{\"caps\": [", "", "policy JSON");
    parse_bad("", "", "policy JSON");
    parse_bad("{\"caps\": [], \"caps\": []}", "", "duplicate");
}

Test(policy, parse_at_most_sixteen_rules)
{
    char json[4096];
    size_t len = 0;
    for (int n = 16; n <= 17; n++) {
        len = (size_t)snprintf(json, sizeof json, "{\"caps\": [");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(json + len, sizeof json - len,
                                    "%s{\"kinds\": \"all\", \"max\": %d, \"days\": 7}",
                                    i ? "," : "", i + 1);
        snprintf(json + len, sizeof json - len, "]}");
        if (n == 16) {
            struct policy p = parse_ok(json);
            cr_assert_eq(p.ncap, 16);
            cr_assert_eq(p.cap[15].max, 16);
        } else {
            parse_bad(json, "caps", "at most 16");
        }
    }
}

Test(policy, json_has_every_member)
{
    struct policy p = defaults();
    json_t *j = policy_json(&p);
    cr_assert(j);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert_str_eq(
        s, "{\"caps\":[{\"days\":7,\"kinds\":\"all\",\"max\":3},"
           "{\"days\":30,\"kinds\":[\"survey\"],\"max\":1}],"
           "\"consent\":{\"marketing\":[\"promotion\",\"retention_offer\",\"thank_you\","
           "\"referral\"],\"surveys\":[\"survey\"],\"unknown_is_yes\":false},"
           "\"gaps\":[{\"days\":2,\"kinds\":[\"promotion\"]}],"
           "\"suppress\":{\"open_case\":[\"promotion\",\"survey\",\"referral\"],"
           "\"recent_purchase_days\":30,\"survey_answered_days\":30}}");
    free(s);
    json_decref(j);
}

Test(policy, json_round_trips)
{
    struct policy d = defaults();
    struct policy q = round_trip(&d);
    assert_same(&q, &d);

    struct policy e = empty_policy();
    q = round_trip(&e);
    assert_same(&q, &e);

    struct rng r = {7};
    for (int iter = 0; iter < 500; iter++) {
        struct policy p = empty_policy();
        p.need_marketing = (uint32_t)rng_next(&r) & CK_ALL;
        p.need_surveys = (uint32_t)rng_next(&r) & CK_ALL;
        p.unknown_is_yes = rng_next(&r) & 1;
        p.open_case_suppresses = (uint32_t)rng_next(&r) & CK_ALL;
        p.survey_answered_days = (uint32_t)(rng_next(&r) % 3651);
        p.recent_purchase_days = (uint32_t)(rng_next(&r) % 3651);
        p.ncap = rng_next(&r) % (POLICY_MAX_RULES + 1);
        for (size_t i = 0; i < p.ncap; i++)
            p.cap[i] = (struct policy_cap){((uint32_t)rng_next(&r) & CK_ALL) | B(CK_THANKS),
                                           (uint32_t)(rng_next(&r) % 1000) + 1,
                                           (uint32_t)(rng_next(&r) % 3650) + 1};
        p.ngap = rng_next(&r) % (POLICY_MAX_RULES + 1);
        for (size_t i = 0; i < p.ngap; i++)
            p.gap[i] = (struct policy_gap){((uint32_t)rng_next(&r) & CK_ALL) | B(CK_SURVEY),
                                           (uint32_t)(rng_next(&r) % 3650) + 1};
        q = round_trip(&p);
        assert_same(&q, &p);
    }
}
