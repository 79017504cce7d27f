/* policy.c - see policy.h. The check walks the customer's history once per
 * cap or gap and never allocates; a cap's `until` is the moment enough of
 * the contacts in its window have aged out, found by selection over the
 * history (caps allow at most 1000 contacts, histories are short). */
#include "core/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DAY INT64_C(86400)
#define DAYS_MAX 3650
#define CAP_MAX_MAX 1000

static const char *const kind_names[CK_COUNT] = {
    [CK_PROMOTION] = "promotion",
    [CK_SURVEY] = "survey",
    [CK_SERVICE] = "service_follow_up",
    [CK_RETENTION] = "retention_offer",
    [CK_THANKS] = "thank_you",
    [CK_REFERRAL] = "referral",
};

#define KIND_LIST "promotion, survey, service_follow_up, retention_offer, thank_you, referral"

const char *contact_kind_name(int kind)
{
    if (kind <= 0 || kind >= CK_COUNT)
        return NULL;
    return kind_names[kind];
}

int contact_kind_parse(const char *s)
{
    if (!s)
        return 0;
    for (int k = 1; k < CK_COUNT; k++)
        if (strcmp(kind_names[k], s) == 0)
            return k;
    return 0;
}

/* The bit of kind; 0 for an unknown kind, which no rule names. */
static uint32_t kind_bit(int kind)
{
    return kind > 0 && kind < CK_COUNT ? UINT32_C(1) << kind : 0;
}

static uint32_t bits(int a, int b, int c, int d)
{
    return kind_bit(a) | kind_bit(b) | kind_bit(c) | kind_bit(d);
}

void policy_default(struct policy *p)
{
    *p = (struct policy){
        .need_marketing = bits(CK_PROMOTION, CK_RETENTION, CK_REFERRAL, CK_THANKS),
        .need_surveys = bits(CK_SURVEY, 0, 0, 0),
        .unknown_is_yes = false,
        .open_case_suppresses = bits(CK_PROMOTION, CK_REFERRAL, CK_SURVEY, 0),
        .survey_answered_days = 30,
        .recent_purchase_days = 30,
        .cap = {{CK_ALL, 3, 7}, {bits(CK_SURVEY, 0, 0, 0), 1, 30}},
        .ncap = 2,
        .gap = {{bits(CK_PROMOTION, 0, 0, 0), 2}},
        .ngap = 1,
    };
}

const char *policy_rule_name(enum policy_rule r)
{
    switch (r) {
    case PR_OK: return "ok";
    case PR_CONSENT_MARKETING: return "consent.marketing";
    case PR_CONSENT_SURVEYS: return "consent.surveys";
    case PR_OPEN_CASE: return "suppress.open_case";
    case PR_SURVEY_ANSWERED: return "suppress.survey_answered";
    case PR_RECENT_PURCHASE: return "suppress.recent_purchase";
    case PR_CAP: return "cap";
    case PR_GAP: return "gap";
    }
    return "unknown";
}

/* ---- parsing ---------------------------------------------------------------- */

/* Fails unless every member of o is one of names (NULL-terminated); the
 * error names prefix.member. */
static int only_members(json_t *o, const char *prefix, const char *const *names,
                        const char *list, long index, struct cxm_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (size_t i = 0; names[i] && !known; i++)
            known = strcmp(names[i], key) == 0;
        if (!known) {
            char field[64];
            snprintf(field, sizeof field, "%s%s%.40s", prefix, *prefix ? "." : "", key);
            return cxm_err_field(err, CXM_EINVAL, index, field,
                                 "%s: unknown member (members: %s)", field, list);
        }
    }
    return CXM_OK;
}

/* A list of kinds into *out; "all" too when allow_all. An empty list is
 * 0 (the caller decides whether that is allowed). */
static int parse_kinds(json_t *v, bool allow_all, const char *field, long index, uint32_t *out,
                       struct cxm_err *err)
{
    if (allow_all && json_is_string(v) && strcmp(json_string_value(v), "all") == 0) {
        *out = CK_ALL;
        return CXM_OK;
    }
    if (!json_is_array(v))
        return cxm_err_field(err, CXM_EINVAL, index, field, "%s: must be %san array of kinds",
                             field, allow_all ? "\"all\" or " : "");
    uint32_t mask = 0;
    size_t i;
    json_t *k;
    json_array_foreach(v, i, k) {
        int kind = json_is_string(k) ? contact_kind_parse(json_string_value(k)) : 0;
        if (!kind || strlen(json_string_value(k)) != json_string_length(k)) {
            char f[64];
            snprintf(f, sizeof f, "%s[%zu]", field, i);
            if (!json_is_string(k))
                return cxm_err_field(err, CXM_EINVAL, index, f, "%s: a kind is a string (%s)", f,
                                     KIND_LIST);
            return cxm_err_field(err, CXM_EINVAL, index, f, "%s: unknown kind \"%.40s\" (kinds: %s)",
                                 f, json_string_value(k), KIND_LIST);
        }
        mask |= kind_bit(kind);
    }
    *out = mask;
    return CXM_OK;
}

/* A whole number lo..hi into *out. */
static int parse_uint(json_t *v, uint32_t lo, uint32_t hi, const char *field, long index,
                      uint32_t *out, struct cxm_err *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return cxm_err_field(err, CXM_EINVAL, index, field, "%s: must be a whole number from %u to %u",
                             field, lo, hi);
    *out = (uint32_t)json_integer_value(v);
    return CXM_OK;
}

static int parse_consent(json_t *c, struct policy *p, struct cxm_err *err)
{
    static const char *const names[] = {"marketing", "surveys", "unknown_is_yes", NULL};
    if (!json_is_object(c))
        return cxm_err_field(err, CXM_EINVAL, -1, "consent", "consent: must be an object");
    int rc = only_members(c, "consent", names, "marketing, surveys, unknown_is_yes", -1, err);
    json_t *v;
    if (!rc && (v = json_object_get(c, "marketing")))
        rc = parse_kinds(v, false, "consent.marketing", -1, &p->need_marketing, err);
    if (!rc && (v = json_object_get(c, "surveys")))
        rc = parse_kinds(v, false, "consent.surveys", -1, &p->need_surveys, err);
    if (!rc && (v = json_object_get(c, "unknown_is_yes"))) {
        if (!json_is_boolean(v))
            return cxm_err_field(err, CXM_EINVAL, -1, "consent.unknown_is_yes",
                                 "consent.unknown_is_yes: must be true or false");
        p->unknown_is_yes = json_is_true(v);
    }
    return rc;
}

static int parse_suppress(json_t *s, struct policy *p, struct cxm_err *err)
{
    static const char *const names[] = {"open_case", "survey_answered_days",
                                        "recent_purchase_days", NULL};
    if (!json_is_object(s))
        return cxm_err_field(err, CXM_EINVAL, -1, "suppress", "suppress: must be an object");
    int rc = only_members(s, "suppress", names,
                          "open_case, survey_answered_days, recent_purchase_days", -1, err);
    json_t *v;
    if (!rc && (v = json_object_get(s, "open_case")))
        rc = parse_kinds(v, false, "suppress.open_case", -1, &p->open_case_suppresses, err);
    if (!rc && (v = json_object_get(s, "survey_answered_days")))
        rc = parse_uint(v, 0, DAYS_MAX, "suppress.survey_answered_days", -1,
                        &p->survey_answered_days, err);
    if (!rc && (v = json_object_get(s, "recent_purchase_days")))
        rc = parse_uint(v, 0, DAYS_MAX, "suppress.recent_purchase_days", -1,
                        &p->recent_purchase_days, err);
    return rc;
}

/* One cap (is_cap) or gap: member i of the array named what. */
static int parse_rule(json_t *r, const char *what, size_t i, bool is_cap, struct policy *p,
                      struct cxm_err *err)
{
    static const char *const cap_names[] = {"kinds", "max", "days", NULL};
    static const char *const gap_names[] = {"kinds", "days", NULL};
    long li = (long)i;
    char prefix[32], field[64];
    snprintf(prefix, sizeof prefix, "%s[%zu]", what, i);
    if (!json_is_object(r))
        return cxm_err_field(err, CXM_EINVAL, li, prefix, "%s: must be an object with %s",
                             prefix, is_cap ? "kinds, max and days" : "kinds and days");
    int rc = only_members(r, prefix, is_cap ? cap_names : gap_names,
                          is_cap ? "kinds, max, days" : "kinds, days", li, err);
    if (rc)
        return rc;
    const char *const *need = is_cap ? cap_names : gap_names;
    for (size_t k = 0; need[k]; k++) {
        if (!json_object_get(r, need[k])) {
            snprintf(field, sizeof field, "%s.%s", prefix, need[k]);
            return cxm_err_field(err, CXM_EINVAL, li, field, "%s: missing", field);
        }
    }
    uint32_t kinds = 0, days = 0, max = 0;
    snprintf(field, sizeof field, "%s.kinds", prefix);
    if ((rc = parse_kinds(json_object_get(r, "kinds"), true, field, li, &kinds, err)))
        return rc;
    if (!kinds)
        return cxm_err_field(err, CXM_EINVAL, li, field, "%s: must name at least one kind",
                             field);
    if (is_cap) {
        snprintf(field, sizeof field, "%s.max", prefix);
        if ((rc = parse_uint(json_object_get(r, "max"), 1, CAP_MAX_MAX, field, li, &max, err)))
            return rc;
    }
    snprintf(field, sizeof field, "%s.days", prefix);
    if ((rc = parse_uint(json_object_get(r, "days"), 1, DAYS_MAX, field, li, &days, err)))
        return rc;
    if (is_cap)
        p->cap[i] = (struct policy_cap){.kinds = kinds, .max = max, .days = days};
    else
        p->gap[i] = (struct policy_gap){.kinds = kinds, .days = days};
    return CXM_OK;
}

static int parse_rules(json_t *a, bool is_cap, struct policy *p, struct cxm_err *err)
{
    const char *what = is_cap ? "caps" : "gaps";
    if (!json_is_array(a))
        return cxm_err_field(err, CXM_EINVAL, -1, what, "%s: must be an array", what);
    if (json_array_size(a) > POLICY_MAX_RULES)
        return cxm_err_field(err, CXM_EINVAL, -1, what, "%s: %zu rules, at most %d", what,
                             json_array_size(a), POLICY_MAX_RULES);
    size_t i;
    json_t *r;
    json_array_foreach(a, i, r) {
        int rc = parse_rule(r, what, i, is_cap, p, err);
        if (rc)
            return rc;
    }
    if (is_cap)
        p->ncap = json_array_size(a);
    else
        p->ngap = json_array_size(a);
    return CXM_OK;
}

int policy_parse(const char *json, size_t len, struct policy *out, struct cxm_err *err)
{
    static const char *const names[] = {"consent", "suppress", "caps", "gaps", NULL};
    json_error_t je;
    json_t *doc = json_loadb(json ? json : "", json ? len : 0, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return cxm_err_field(err, CXM_EINVAL, -1, "", "policy JSON, line %d column %d: %s",
                             je.line, je.column, je.text);
    struct policy p;
    policy_default(&p);
    int rc;
    json_t *v;
    if (!json_is_object(doc))
        rc = cxm_err_field(err, CXM_EINVAL, -1, "", "the policy must be a JSON object");
    else
        rc = only_members(doc, "", names, "consent, suppress, caps, gaps", -1, err);
    if (!rc && (v = json_object_get(doc, "consent")))
        rc = parse_consent(v, &p, err);
    if (!rc && (v = json_object_get(doc, "suppress")))
        rc = parse_suppress(v, &p, err);
    if (!rc && (v = json_object_get(doc, "caps")))
        rc = parse_rules(v, true, &p, err);
    if (!rc && (v = json_object_get(doc, "gaps")))
        rc = parse_rules(v, false, &p, err);
    json_decref(doc);
    if (!rc)
        *out = p;
    return rc;
}

/* ---- output ------------------------------------------------------------------ */

/* The kinds of mask as an array, in kind order; "all" for every kind when
 * allow_all. */
static json_t *kinds_json(uint32_t mask, bool allow_all)
{
    if (allow_all && (mask & CK_ALL) == CK_ALL)
        return json_string("all");
    json_t *a = json_array();
    for (int k = 1; a && k < CK_COUNT; k++) {
        if ((mask & kind_bit(k)) && json_array_append_new(a, json_string(kind_names[k]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* The caps (is_cap) or gaps; NULL on out of memory. */
static json_t *rules_json(const struct policy *p, bool is_cap)
{
    json_t *a = json_array();
    size_t n = is_cap ? p->ncap : p->ngap;
    for (size_t i = 0; a && i < n && i < POLICY_MAX_RULES; i++) {
        json_t *r = json_object();
        uint32_t kinds = is_cap ? p->cap[i].kinds : p->gap[i].kinds;
        uint32_t days = is_cap ? p->cap[i].days : p->gap[i].days;
        if (!r || json_array_append_new(a, r) ||
            json_object_set_new(r, "kinds", kinds_json(kinds, true)) ||
            (is_cap && json_object_set_new(r, "max", json_integer(p->cap[i].max))) ||
            json_object_set_new(r, "days", json_integer(days))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *policy_json(const struct policy *p)
{
    json_t *doc = json_object(), *consent = json_object(), *suppress = json_object();
    if (!doc || !consent || !suppress) {
        json_decref(consent);
        json_decref(suppress);
        goto fail;
    }
    if (json_object_set_new(doc, "consent", consent)) {
        json_decref(suppress);
        goto fail;
    }
    if (json_object_set_new(doc, "suppress", suppress))
        goto fail;
    if (json_object_set_new(consent, "marketing", kinds_json(p->need_marketing, false)) ||
        json_object_set_new(consent, "surveys", kinds_json(p->need_surveys, false)) ||
        json_object_set_new(consent, "unknown_is_yes", json_boolean(p->unknown_is_yes)) ||
        json_object_set_new(suppress, "open_case", kinds_json(p->open_case_suppresses, false)) ||
        json_object_set_new(suppress, "survey_answered_days",
                            json_integer(p->survey_answered_days)) ||
        json_object_set_new(suppress, "recent_purchase_days",
                            json_integer(p->recent_purchase_days)) ||
        json_object_set_new(doc, "caps", rules_json(p, true)) ||
        json_object_set_new(doc, "gaps", rules_json(p, false)))
        goto fail;
    return doc;
fail:
    json_decref(doc);
    return NULL;
}

/* ---- checking ----------------------------------------------------------------- */

/* a - b and a + b, saturated: times from callers are not trusted to be
 * far from the ends of int64. */
static int64_t sub_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b > 0 ? INT64_MIN : INT64_MAX;
    return r;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* True when ts is inside the window (now - days, now], or after now:
 * now - ts < days, computed without overflow. */
static bool within(int64_t ts, int64_t now, uint32_t days)
{
    int64_t age;
    if (ts > now)
        return true;
    if (__builtin_sub_overflow(now, ts, &age))
        return false;
    return age < (int64_t)days * DAY;
}

static bool consent_yes(int c, bool unknown_is_yes)
{
    return c == 1 || (c == -1 && unknown_is_yes);
}

__attribute__((format(printf, 5, 6)))
static bool exclude(struct policy_verdict *v, enum policy_rule rule, int index, int64_t until,
                    const char *fmt, ...)
{
    if (!v)
        return false;
    v->rule = rule;
    v->index = index;
    v->until = until;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
    if (n < 0)
        v->why[0] = '\0';
    return false;
}

/* "1 day" or "N days". */
static const char *ndays(uint32_t days, char *buf, size_t n)
{
    snprintf(buf, n, "%u day%s", days, days == 1 ? "" : "s");
    return buf;
}

/* "day" or "N days", after "per" and "in the last". */
static const char *per_days(uint32_t days, char *buf, size_t n)
{
    if (days == 1)
        snprintf(buf, n, "day");
    else
        snprintf(buf, n, "%u days", days);
    return buf;
}

/* How long before now ts was, for people. */
static const char *ago(int64_t now, int64_t ts, char *buf, size_t n)
{
    int64_t secs = sub_sat(now, ts);
    if (secs < 3600) {
        snprintf(buf, n, "less than an hour ago");
    } else if (secs < DAY) {
        long long h = (long long)(secs / 3600);
        snprintf(buf, n, "%lld hour%s ago", h, h == 1 ? "" : "s");
    } else {
        long long d = (long long)(secs / DAY);
        snprintf(buf, n, "%lld day%s ago", d, d == 1 ? "" : "s");
    }
    return buf;
}

/* "" for every kind, else the kinds' names joined by '/' and a space:
 * "survey ", "promotion/referral ". */
static const char *kinds_words(uint32_t kinds, char *buf, size_t n)
{
    buf[0] = '\0';
    if ((kinds & CK_ALL) == CK_ALL)
        return buf;
    size_t len = 0;
    for (int k = 1; k < CK_COUNT; k++) {
        if (!(kinds & kind_bit(k)) || len >= n)
            continue;
        int w = snprintf(buf + len, n - len, "%s%s", len ? "/" : "", kind_names[k]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (len + 1 < n) {
        buf[len] = ' ';
        buf[len + 1] = '\0';
    }
    return buf;
}

static bool counts(const struct policy_contact *h, uint32_t kinds, int64_t now, uint32_t days)
{
    return (kind_bit(h->kind) & kinds) && within(h->ts, now, days);
}

/* The nth newest (1-based) time of the contacts of kinds in the window;
 * when it leaves the window, fewer than nth remain. Repeated passes over
 * the history, one per distinct time among the newest nth; no memory. */
static int64_t nth_newest(const struct policy_subject *s, uint32_t kinds, int64_t now,
                          uint32_t days, uint32_t nth)
{
    int64_t bound = 0;
    bool bounded = false;
    uint64_t seen = 0;
    for (;;) {
        int64_t best = 0;
        uint64_t same = 0;
        for (size_t i = 0; i < s->nhist; i++) {
            const struct policy_contact *h = &s->hist[i];
            if (!counts(h, kinds, now, days) || (bounded && h->ts >= bound))
                continue;
            if (!same || h->ts > best) {
                best = h->ts;
                same = 1;
            } else if (h->ts == best) {
                same++;
            }
        }
        if (!same)
            return bound;      /* fewer than nth: the caller never asks */
        seen += same;
        if (seen >= nth)
            return best;
        bound = best;
        bounded = true;
    }
}

static bool check_cap(const struct policy_cap *c, int index, const struct policy_subject *s,
                      int64_t now, struct policy_verdict *v)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->nhist; i++)
        n += counts(&s->hist[i], c->kinds, now, c->days);
    if (n < c->max)
        return true;
    /* Allowed again once n - max + 1 contacts have left: when the max-th
     * newest is days old. A cap of 0 never allows. */
    int64_t until = 0;
    if (c->max > 0)
        until = add_sat(nth_newest(s, c->kinds, now, c->days, c->max), (int64_t)c->days * DAY);
    char kw[96], last[24], per[24];
    kinds_words(c->kinds, kw, sizeof kw);
    return exclude(v, PR_CAP, index, until, "%llu %scontact%s in the last %s (at most %u per %s)",
                   (unsigned long long)n, kw, n == 1 ? "" : "s",
                   per_days(c->days, last, sizeof last), c->max,
                   per_days(c->days, per, sizeof per));
}

static bool check_gap(const struct policy_gap *g, int index, const struct policy_subject *s,
                      int64_t now, struct policy_verdict *v)
{
    int64_t latest = 0;
    bool any = false;
    for (size_t i = 0; i < s->nhist; i++) {
        const struct policy_contact *h = &s->hist[i];
        if (counts(h, g->kinds, now, g->days) && (!any || h->ts > latest)) {
            latest = h->ts;
            any = true;
        }
    }
    if (!any)
        return true;
    char kw[96], when[40], d[24];
    kinds_words(g->kinds, kw, sizeof kw);
    return exclude(v, PR_GAP, index, add_sat(latest, (int64_t)g->days * DAY),
                   "last %scontact %s (at least %s between %scontacts)", kw,
                   ago(now, latest, when, sizeof when), ndays(g->days, d, sizeof d), kw);
}

bool policy_check(const struct policy *p, const struct policy_subject *s, int kind,
                  bool acquisition, int64_t now, struct policy_verdict *v)
{
    uint32_t bit = kind_bit(kind);
    char when[40], d[24];
    if (v)
        *v = (struct policy_verdict){.rule = PR_OK, .index = -1, .until = 0, .why = "allowed"};

    if ((p->need_marketing & bit) && !consent_yes(s->consent_marketing, p->unknown_is_yes))
        return exclude(v, PR_CONSENT_MARKETING, -1, 0, "%s",
                       s->consent_marketing == -1
                           ? "marketing consent unknown (only an explicit yes counts)"
                           : "no marketing consent");
    if ((p->need_surveys & bit) && !consent_yes(s->consent_surveys, p->unknown_is_yes))
        return exclude(v, PR_CONSENT_SURVEYS, -1, 0, "%s",
                       s->consent_surveys == -1
                           ? "survey consent unknown (only an explicit yes counts)"
                           : "no survey consent");

    if ((p->open_case_suppresses & bit) && s->open_cases > 0) {
        if (s->open_cases == 1)
            return exclude(v, PR_OPEN_CASE, -1, 0, "open case or complaint");
        return exclude(v, PR_OPEN_CASE, -1, 0, "%u open cases or complaints", s->open_cases);
    }

    if (kind == CK_SURVEY && p->survey_answered_days > 0 && s->last_answer_ts != 0 &&
        within(s->last_answer_ts, now, p->survey_answered_days))
        return exclude(v, PR_SURVEY_ANSWERED, -1,
                       add_sat(s->last_answer_ts, (int64_t)p->survey_answered_days * DAY),
                       "answered a survey %s (surveys suppressed for %s)",
                       ago(now, s->last_answer_ts, when, sizeof when),
                       ndays(p->survey_answered_days, d, sizeof d));

    if (acquisition && p->recent_purchase_days > 0 && s->last_order_ts != 0 &&
        within(s->last_order_ts, now, p->recent_purchase_days))
        return exclude(v, PR_RECENT_PURCHASE, -1,
                       add_sat(s->last_order_ts, (int64_t)p->recent_purchase_days * DAY),
                       "bought %s (acquisition offers suppressed for %s after a purchase)",
                       ago(now, s->last_order_ts, when, sizeof when),
                       ndays(p->recent_purchase_days, d, sizeof d));

    for (size_t i = 0; i < p->ncap && i < POLICY_MAX_RULES; i++)
        if ((p->cap[i].kinds & bit) && !check_cap(&p->cap[i], (int)i, s, now, v))
            return false;
    for (size_t i = 0; i < p->ngap && i < POLICY_MAX_RULES; i++)
        if ((p->gap[i].kinds & bit) && !check_gap(&p->gap[i], (int)i, s, now, v))
            return false;
    return true;
}
