/* policy.h - the contact policy (DESIGN section 5): one rule set for every
 * channel and every kind of contact, checked at decision time and again
 * when a contact is recorded: consent, suppression, frequency caps and
 * gaps. Pure: no I/O, no globals; the caller gathers the customer's facts
 * and contact history. Times are unix seconds; windows are half-open,
 * (now - days x 86400, now]: a contact exactly `days` days old is outside. */
#ifndef CXM_POLICY_H
#define CXM_POLICY_H

#include <jansson.h>

#include "common.h"

/* Kinds of contact, which are also the kinds of actions. */
enum contact_kind {
    CK_PROMOTION = 1, CK_SURVEY, CK_SERVICE, CK_RETENTION, CK_THANKS, CK_REFERRAL,
    CK_COUNT
};
#define CK_ALL (((1u << CK_COUNT) - 1u) & ~1u)   /* every kind's bit */

/* "promotion", "survey", "service_follow_up", "retention_offer",
 * "thank_you", "referral"; NULL for an unknown kind. */
const char *contact_kind_name(int kind);
/* The kind named s; 0 when unknown. */
int contact_kind_parse(const char *s);

#define POLICY_MAX_RULES 16

/* At most max contacts of the kinds in the window of days. */
struct policy_cap {
    uint32_t kinds;            /* bitmask of 1u << kind */
    uint32_t max, days;
};
/* At least days between two contacts of the kinds. */
struct policy_gap {
    uint32_t kinds;
    uint32_t days;
};

struct policy {
    uint32_t need_marketing;   /* kinds that need marketing consent */
    uint32_t need_surveys;     /* kinds that need survey consent */
    bool unknown_is_yes;       /* consent never given or refused counts as
                                  yes (default false: only an explicit yes) */
    uint32_t open_case_suppresses;   /* kinds suppressed while the customer
                                        has an open case or complaint */
    uint32_t survey_answered_days;   /* a survey answered in these days
                                        suppresses surveys; 0: off */
    uint32_t recent_purchase_days;   /* a purchase in these days suppresses
                                        acquisition offers; 0: off */
    struct policy_cap cap[POLICY_MAX_RULES];
    size_t ncap;
    struct policy_gap gap[POLICY_MAX_RULES];
    size_t ngap;
};

/* The default policy (docs/personalisation.md):
 *   need_marketing: promotion, retention_offer, referral, thank_you
 *   need_surveys: survey
 *   open_case_suppresses: promotion, referral, survey
 *   survey_answered_days 30, recent_purchase_days 30
 *   caps: every kind 3 per 7 days; survey 1 per 30 days
 *   gaps: promotion 2 days */
void policy_default(struct policy *p);

/* Parses a policy document:
 *   {"consent": {"marketing": [kinds], "surveys": [kinds],
 *                "unknown_is_yes": false},
 *    "suppress": {"open_case": [kinds], "survey_answered_days": 30,
 *                 "recent_purchase_days": 30},
 *    "caps": [{"kinds": [kinds] or "all", "max": 3, "days": 7}, ...],
 *    "gaps": [{"kinds": [kinds] or "all", "days": 2}, ...]}
 * A member left out keeps its default; an empty array clears it. Unknown
 * members, unknown kinds, days outside 1..3650 (0 allowed for the two
 * suppression windows: off), max outside 1..1000, more than
 * POLICY_MAX_RULES caps or gaps: CXM_EINVAL with err->field naming the
 * member ("caps[1].days") and the message saying why. *out is untouched
 * on error. */
int policy_parse(const char *json, size_t len, struct policy *out, struct cxm_err *err);
/* The whole policy in the same format (every member present). NULL on
 * out of memory. */
json_t *policy_json(const struct policy *p);

/* A contact made to the customer (any channel). */
struct policy_contact {
    int64_t ts;
    uint8_t kind;
};

/* What the policy needs to know of the customer. */
struct policy_subject {
    int consent_marketing, consent_surveys;   /* -1 unknown, 0 no, 1 yes */
    uint32_t open_cases;                      /* open cases and complaints */
    int64_t last_answer_ts;                   /* latest survey answer; 0: none */
    int64_t last_order_ts;                    /* latest order; 0: none */
    const struct policy_contact *hist;        /* contacts made, any order */
    size_t nhist;
};

enum policy_rule {
    PR_OK = 0, PR_CONSENT_MARKETING, PR_CONSENT_SURVEYS, PR_OPEN_CASE,
    PR_SURVEY_ANSWERED, PR_RECENT_PURCHASE, PR_CAP, PR_GAP
};
/* "consent.marketing", "consent.surveys", "suppress.open_case",
 * "suppress.survey_answered", "suppress.recent_purchase", "cap", "gap";
 * "ok" for PR_OK. */
const char *policy_rule_name(enum policy_rule r);

struct policy_verdict {
    enum policy_rule rule;
    int index;                 /* PR_CAP, PR_GAP: which cap or gap; else -1 */
    int64_t until;             /* when this rule stops excluding (the
                                  first second it would allow, all else
                                  equal); 0: not by time (consent, case) */
    char why[192];             /* for people: "3 contacts in the last 7 days
                                  (cap: at most 3 per 7 days)" */
};

/* Checks a contact of kind at now (acquisition: the action is an
 * acquisition offer). Rules in this order, the first that excludes wins:
 * consent, open case, survey answered (kind survey), recent purchase
 * (acquisition), caps (in order), gaps (in order). Returns true when
 * allowed (v->rule PR_OK); v may be NULL. Never allocates. */
bool policy_check(const struct policy *p, const struct policy_subject *s, int kind,
                  bool acquisition, int64_t now, struct policy_verdict *v);

#endif
