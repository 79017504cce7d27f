/* demo_data.c - see demo_data.h. An event-driven simulation: every person is
 * a small state machine (struct person, under 128 bytes) and a min-heap on
 * the time of each person's next step yields the records oldest first, so
 * memory grows with people, never with records. Each person draws from a
 * PRNG stream of their own, so one person's story does not depend on how
 * the others interleave; only the id counters are shared, and they follow
 * the deterministic emission order. */
#include "cli/demo_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/demo_text.h"
#include "cxm_limits.h"

#define DAY 86400
#define WINDOW_DAYS 730
#define NEVER INT64_MAX
/* end_ts bounds: a window that starts after 1970 and a four-digit year. */
#define END_MIN 94694400LL          /* 1973-01-01 */
#define END_MAX 253402300799LL      /* 9999-12-31T23:59:59 */
/* One agent per this many people (at least MIN_AGENTS): ~40 for 5000. */
#define PEOPLE_PER_AGENT 125
#define MIN_AGENTS 8
#define TEXT_MAX 512

/* ---- randomness: splitmix64, one stream per person ---------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return mix64(*s);
}

/* Uniform in [0, 1). */
static double unif(uint64_t *s)
{
    return (double)(rnd(s) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n); n > 0. */
static uint32_t below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(((rnd(s) >> 32) * n) >> 32);
}

static bool chance(uint64_t *s, double p)
{
    return unif(s) < p;
}

static double expo(uint64_t *s, double mean)
{
    return -mean * log(1.0 - unif(s));
}

static double normal(uint64_t *s)
{
    double u = unif(s), v = unif(s);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* Index into weights[0..n) with probability proportional to the weight. */
static size_t weighted(uint64_t *s, const unsigned *weights, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    uint32_t r = below(s, total);
    for (size_t i = 0; i < n; i++) {
        if (r < weights[i])
            return i;
        r -= weights[i];
    }
    return n - 1;
}

/* ---- vocabulary ----------------------------------------------------------- */

enum channel { CH_WEB, CH_APP, CH_EMAIL, CH_PHONE, CH_CHAT, CH_STORE, CH_SOCIAL };
static const char *const channel_names[] = {"web", "app", "email", "phone",
                                            "chat", "store", "social"};

enum touchpoint {
    TP_HOME, TP_PRODUCT, TP_SEARCH, TP_CART, TP_CHECKOUT, TP_STATUS, TP_HELP,
    TP_RETURNS, TP_IVR, TP_CALL, TP_CHAT, TP_STORE, TP_NEWS, TP_TWITTER,
    TP_FACEBOOK, TP_DELIVERY
};
static const char *const touchpoint_names[] = {
    "homepage", "product_page", "search", "cart", "checkout", "order_status",
    "help_center", "returns_portal", "ivr", "call_center", "live_chat",
    "store_visit", "newsletter", "twitter", "facebook", "delivery"};

enum stage { ST_AWARE, ST_CONSIDER, ST_PURCHASE, ST_ONBOARD, ST_SUPPORT, ST_LOYALTY };
static const char *const stage_names[] = {"awareness", "consideration", "purchase",
                                          "onboarding", "support", "loyalty"};

enum ikind { K_VISIT, K_CALL, K_CHAT, K_EMAIL, K_COMPLAINT, K_TICKET, K_REVIEW,
             K_SOCIAL, K_PURCHASE };
static const char *const ikind_names[] = {"visit", "call", "chat", "email",
                                          "complaint", "ticket", "review",
                                          "social_mention", "purchase"};

enum outcome { O_NONE, O_RESOLVED, O_UNRESOLVED, O_ESCALATED, O_ABANDONED,
               O_CONVERTED };
static const char *const outcome_names[] = {NULL, "resolved", "unresolved",
                                            "escalated", "abandoned", "converted"};

enum team { TM_SUPPORT, TM_BILLING, TM_RETURNS, TM_SALES, TM_ONBOARDING,
            TM_SOCIAL, TM_COUNT };
static const char *const team_names[] = {"Support", "Billing", "Returns", "Sales",
                                         "Onboarding", "Social Care"};
/* Share of the agents beyond the first of each team, in percent. */
static const unsigned team_weights[] = {32, 14, 16, 12, 10, 16};

/* What went wrong in a support case, and what it is about. */
enum problem { PB_NONE, PB_LATE, PB_QUALITY, PB_RETURN, PB_BILLING,
               PB_CHECKOUT, PB_APP, PB_PRICE, PB_QUESTION };
static const struct {
    enum team team;
    enum demo_theme theme;
    double resolve;     /* chance the first contact solves it */
} problems[] = {
    [PB_NONE] = {TM_SUPPORT, DEMO_TH_DELIVERY, 0.8},
    [PB_LATE] = {TM_SUPPORT, DEMO_TH_DELIVERY, 0.7},
    [PB_QUALITY] = {TM_RETURNS, DEMO_TH_QUALITY, 0.72},
    [PB_RETURN] = {TM_RETURNS, DEMO_TH_RETURNS, 0.78},
    [PB_BILLING] = {TM_BILLING, DEMO_TH_BILLING, 0.6},
    [PB_CHECKOUT] = {TM_SUPPORT, DEMO_TH_WEBSITE, 0.68},
    [PB_APP] = {TM_SUPPORT, DEMO_TH_APP, 0.62},
    [PB_PRICE] = {TM_SALES, DEMO_TH_PRICE, 0.5},
    [PB_QUESTION] = {TM_ONBOARDING, DEMO_TH_QUALITY, 0.9},
};

static const char *const genders[] = {"female", "male", "nonbinary", "unknown"};
static const unsigned gender_weights[] = {49, 47, 2, 2};
static const char *const tiers[] = {"none", "bronze", "silver", "gold"};
static const char *const sources[] = {"web", "store", "app", "referral"};
static const unsigned source_weights[] = {45, 20, 25, 10};
/* Category interest of people, in the order of demo_text_category(). */
static const unsigned category_weights[] = {20, 15, 15, 15, 12, 8, 8, 7};
static const char *const email_domains[] = {
    "example.com", "example.org", "example.net", "mail.example.com",
    "inbox.example.net", "post.example.org"};
#define BRAND_HANDLE "@northfieldsports"

/* ---- state ------------------------------------------------------------------ */

enum mode { M_ANON, M_SIGNUP, M_SHOP, M_SUPPORT, M_NPS, M_LINK };

/* Steps of a shopping journey (M_SHOP). */
enum { S_AWARE, S_CONSIDER, S_STORE, S_CART, S_CHECKOUT, S_CSAT, S_ORDER,
       S_STATUS, S_DELIVERY, S_RATING, S_REVIEW };
/* Steps of a support case (M_SUPPORT). */
enum { U_HELP, U_IVR, U_CONTACT, U_FOLLOWUP, U_SURVEY };

/* Person flags. */
enum {
    F_PHONE = 1u << 0, F_LOYALTY = 1u << 1, F_MKT = 1u << 2, F_SURV = 1u << 3,
    F_PERS = 1u << 4, F_ANON = 1u << 5, F_DEVICE = 1u << 6, F_EMAIL2 = 1u << 7,
    F_EMAIL2_USED = 1u << 8, F_EMAIL2_LINKED = 1u << 9, F_SOCIAL = 1u << 10,
    F_SOCIAL_USED = 1u << 11, F_SOCIAL_LINKED = 1u << 12,
    F_ONEOFF = 1u << 13     /* tends to leave after the first order */
};

/* Flags of the current journey or case. */
enum {
    J_ERROR = 1u << 0,      /* checkout failed */
    J_LATE = 1u << 1,       /* delivery late */
    J_RESOLVED = 1u << 2,   /* the case is solved */
    J_WAIT = 1u << 3,       /* waited long for an answer */
    J_RUDE = 1u << 4,       /* met a rude agent */
    J_STAR = 1u << 5        /* met an outstanding agent */
};

struct person {
    uint64_t rng;
    int64_t next;           /* time of the next step; the heap key */
    uint64_t basket;        /* seed of the basket of the current order */
    float rate;             /* shopping journeys per 30 days */
    uint16_t flags;
    uint16_t first, last;   /* indices into the name lists of group */
    uint16_t birth_year;
    uint16_t agent;         /* agent of the current case */
    uint16_t sku;           /* product of the current journey */
    uint16_t norders;
    uint16_t days;          /* days late or waited in the current journey */
    uint8_t country, city, group, gender, female, lang_en, tier, source;
    uint8_t aff[2];         /* favourite categories */
    uint8_t mode, step, left;   /* left: repeats of the current step */
    uint8_t chan;           /* channel of the current journey */
    uint8_t problem, pending;   /* current and next support case */
    uint8_t contacts;       /* contacts in the current case */
    uint8_t last_ch, last_tp;   /* channel and touchpoint of the last contact */
    uint8_t jflags;
    uint8_t theme_neg, theme_pos;   /* last bad and good experience */
    int8_t mood, base;      /* -100 (furious) .. 100 (delighted) */
    uint8_t nps_q;          /* quarter of the last relationship survey + 1 */
    uint8_t ret;            /* shopping step + 1 to resume after a case */
};

/* The file comment's promise: memory grows by under 128 bytes a person. */
_Static_assert(sizeof(struct person) <= 128, "struct person grew");

struct agent {
    uint16_t first, last;
    uint8_t group, female, team;
    uint8_t skill;          /* 0 ordinary, 1 outstanding, 2 rude */
};

struct gen {
    demo_emit_fn emit;
    void *ctx;
    struct cxm_err *err;
    struct person *p;
    size_t n;
    uint32_t *heap;
    size_t nheap;
    struct agent *agents;
    size_t nagents;
    size_t team_first[TM_COUNT], team_n[TM_COUNT];
    int64_t start, end;
    uint64_t seed;
    uint64_t ids[6];        /* event id counters by record type */
    uint64_t orders;
    bool oom;               /* a JSON value could not be built */
};

/* Record types, for the event id counters and prefixes. */
enum { R_EMPLOYEE, R_CUSTOMER, R_IDENTIFY, R_INTERACTION, R_FEEDBACK, R_ORDER };
static const char *const rec_types[] = {"employee", "customer", "identify",
                                        "interaction", "feedback", "order"};
static const char rec_letters[] = "eclifo";

/* ---- time ------------------------------------------------------------------- */

/* Year and quarter (1-4) of unix seconds t, from the days-to-civil algorithm
 * (H. Hinnant), so no libc time zone or locale is involved. */
static void year_quarter(int64_t t, int *year, int *quarter)
{
    int64_t z = (t >= 0 ? t : t - (DAY - 1)) / DAY + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (month <= 2));
    *quarter = (int)((month - 1) / 3 + 1);
}

/* A time on the day days after now, in waking hours (7:00-22:59 UTC, most
 * in the evening), and always after now. */
static int64_t later(struct person *p, int64_t now, double days)
{
    int64_t day = (now + (int64_t)(days * DAY)) / DAY * DAY;
    static const unsigned hour_weights[] = {2, 4, 5, 6, 7, 8, 8, 6, 6, 7, 8, 10,
                                            10, 9, 7, 4};
    int64_t t = day + (int64_t)(7 + weighted(&p->rng, hour_weights, 16)) * 3600 +
                below(&p->rng, 3600);
    return t > now ? t : t + DAY;
}

/* Seconds later within the same session. */
static int64_t soon(struct person *p, int64_t now, uint32_t lo, uint32_t hi)
{
    return now + lo + below(&p->rng, hi - lo + 1);
}

/* ---- identities --------------------------------------------------------------- */

static const char *first_name(const struct person *p)
{
    return demo_text_first_names((enum demo_group)p->group, p->female).v[p->first];
}

static const char *last_name(const struct person *p)
{
    return demo_text_last_names((enum demo_group)p->group).v[p->last];
}

/* Checks what snprintf returned. */
static int fitted(struct gen *g, int w, size_t size)
{
    if (w < 0 || (size_t)w >= size)
        return cxm_err_set(g->err, CXM_ETOOBIG, "demo value does not fit");
    return CXM_OK;
}

/* The e-mail of person i. Every style ends its local part with i + 1 right
 * after a letter, and the styles differ in '.' and '_', so addresses are
 * unique without a lookup. */
static int email_of(struct gen *g, size_t i, char *out, size_t outsz)
{
    const struct person *p = &g->p[i];
    char f[48], l[48];
    demo_text_fold(first_name(p), f, sizeof f);
    demo_text_fold(last_name(p), l, sizeof l);
    uint64_t h = mix64(g->seed ^ (i * 0x2545f4914f6cdd1dULL));
    const char *dom = email_domains[(h >> 8) % (sizeof email_domains / sizeof email_domains[0])];
    int w;
    switch (h % 4) {
    case 0: w = snprintf(out, outsz, "%s.%s%zu@%s", f, l, i + 1, dom); break;
    case 1: w = snprintf(out, outsz, "%c%s%zu@%s", f[0], l, i + 1, dom); break;
    case 2: w = snprintf(out, outsz, "%s_%s%zu@%s", f, l, i + 1, dom); break;
    default:
        w = snprintf(out, outsz, "%s%02u_%zu@%s", f, (unsigned)(p->birth_year % 100),
                     i + 1, dom);
        break;
    }
    return fitted(g, w, outsz);
}

/* A second, work address: a different domain, so never equal to the first. */
static int email2_of(struct gen *g, size_t i, char *out, size_t outsz)
{
    const struct person *p = &g->p[i];
    char f[48], l[48];
    demo_text_fold(first_name(p), f, sizeof f);
    demo_text_fold(last_name(p), l, sizeof l);
    return fitted(g, snprintf(out, outsz, "%s.%s.%zu@work.example.com", f, l, i + 1),
                  outsz);
}

/* Digits of the phone of person i: a permutation of 0..7999999 (7919 is a
 * prime not dividing 8000000), so distinct people get distinct numbers. */
static uint32_t phone_n(const struct gen *g, size_t i)
{
    return (uint32_t)((i * 7919ULL + (g->seed % 8000000ULL)) % 8000000ULL);
}

/* A permutation of 0..999999999 (3^18 is coprime to 10^9). */
static int loyalty_of(struct gen *g, size_t i, char *out, size_t outsz)
{
    uint64_t n = (i * 387420489ULL + g->seed % 1000000000ULL) % 1000000000ULL;
    return fitted(g, snprintf(out, outsz, "LOY%09llu", (unsigned long long)n), outsz);
}

/* mix64 is a bijection, so the ids of distinct people differ. */
static int cookie_of(struct gen *g, size_t i, char *out, size_t outsz)
{
    unsigned long long h = mix64((uint64_t)i ^ mix64(g->seed));
    bool device = g->p[i].flags & F_DEVICE;
    int w = device ? snprintf(out, outsz, "dev-%08llx-%04llx-%04llx", h >> 32,
                              (h >> 16) & 0xffff, h & 0xffff)
                   : snprintf(out, outsz, "ck_%016llx", h);
    return fitted(g, w, outsz);
}

/* A twitter handle; the base-36 suffix is i. */
static int handle_of(struct gen *g, size_t i, char *out, size_t outsz)
{
    const struct person *p = &g->p[i];
    char f[16], l[8], suffix[16];
    demo_text_fold(first_name(p), f, sizeof f);
    demo_text_fold(last_name(p), l, sizeof l);
    size_t k = sizeof suffix - 1;
    suffix[k] = '\0';
    size_t v = i;
    do {
        suffix[--k] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        v /= 36;
    } while (v && k);
    return fitted(g, snprintf(out, outsz, "%s%c_%s", f, l[0] ? l[0] : 'x',
                              suffix + k), outsz);
}

/* ---- records -------------------------------------------------------------------- */

/* Setters note a failure in g->oom instead of returning it, so a record is
 * built in straight lines and checked once, in emit(). */
static void set(struct gen *g, json_t *o, const char *key, json_t *v)
{
    if (!o || !v || json_object_set_new(o, key, v))
        g->oom = true;   /* json_object_set_new released v */
}

static void set_str(struct gen *g, json_t *o, const char *key, const char *v)
{
    set(g, o, key, json_string(v));
}

static void set_int(struct gen *g, json_t *o, const char *key, int64_t v)
{
    set(g, o, key, json_integer((json_int_t)v));
}

static void set_cents(struct gen *g, json_t *o, const char *key, uint64_t cents)
{
    set(g, o, key, json_real((double)cents / 100.0));
}

/* A new record of type t at ts with its event id. */
static json_t *record(struct gen *g, int t, int64_t ts)
{
    json_t *r = json_object();
    char id[48];
    int w = snprintf(id, sizeof id, "demo-%c-%06llu", rec_letters[t],
                     (unsigned long long)++g->ids[t]);
    if (w < 0 || (size_t)w >= sizeof id)
        g->oom = true;
    set_str(g, r, "type", rec_types[t]);
    set_str(g, r, "event_id", id);
    set_int(g, r, "ts", ts);
    return r;
}

/* Hands r to the callback and releases it. */
static int emit(struct gen *g, json_t *r)
{
    int rc = CXM_OK;
    if (g->oom || !r)
        rc = cxm_err_set(g->err, CXM_ENOMEM, "out of memory building a demo record");
    else
        rc = g->emit(r, g->ctx);
    json_decref(r);
    return rc;
}

/* Which identity a record names the person by. */
enum via { V_EMAIL, V_PHONE, V_STORE, V_COOKIE, V_EMAIL2, V_SOCIAL };

static int set_ids(struct gen *g, json_t *r, size_t i, enum via via)
{
    const struct person *p = &g->p[i];
    char v[CXM_MAX_IDENTITY + 1];
    int rc;
    switch (via) {
    case V_PHONE:
        /* The call centre finds callers by number, or by account number
         * when the customer gave no phone. */
        if (p->flags & F_PHONE) {
            if ((rc = demo_text_phone(p->country, phone_n(g, i), v, sizeof v)))
                return cxm_err_set(g->err, rc, "demo phone does not fit");
            set_str(g, r, "phone", v);
            set_str(g, r, "country", demo_text_country(p->country)->iso);
            return CXM_OK;
        }
        if ((rc = fitted(g, snprintf(v, sizeof v, "CRM-%07zu", i + 1), sizeof v)))
            return rc;
        set_str(g, r, "crm", v);
        return CXM_OK;
    case V_STORE:
        if (p->flags & F_LOYALTY) {
            if ((rc = loyalty_of(g, i, v, sizeof v)))
                return rc;
            set_str(g, r, "loyalty", v);
            return CXM_OK;
        }
        break;
    case V_COOKIE:
        if ((rc = cookie_of(g, i, v, sizeof v)))
            return rc;
        set_str(g, r, p->flags & F_DEVICE ? "device" : "cookie", v);
        return CXM_OK;
    case V_EMAIL2:
        if ((rc = email2_of(g, i, v, sizeof v)))
            return rc;
        set_str(g, r, "email", v);
        return CXM_OK;
    case V_SOCIAL: {
        json_t *ids = json_object();
        if ((rc = handle_of(g, i, v, sizeof v))) {
            json_decref(ids);
            return rc;
        }
        set_str(g, ids, "social:twitter", v);
        set(g, r, "identities", ids);
        return CXM_OK;
    }
    case V_EMAIL:
        break;
    }
    if ((rc = email_of(g, i, v, sizeof v)))
        return rc;
    set_str(g, r, "email", v);
    return CXM_OK;
}

static int agent_id(struct gen *g, size_t a, char *out, size_t outsz)
{
    return fitted(g, snprintf(out, outsz, "agt-%03zu", a + 1), outsz);
}

/* One interaction; -1 / O_NONE / NULL leave a field out. */
struct ix {
    enum channel ch;
    enum touchpoint tp;
    enum stage st;
    enum ikind kind;
    enum outcome out;
    enum via via;
    int agent;              /* index into g->agents, or -1 */
    int64_t duration;       /* seconds, or -1 */
    int64_t value_cents;    /* or -1 */
    const char *text;
};

static int interaction(struct gen *g, size_t i, int64_t ts, const struct ix *x)
{
    json_t *r = record(g, R_INTERACTION, ts);
    int rc = set_ids(g, r, i, x->via);
    char a[32];
    set_str(g, r, "channel", channel_names[x->ch]);
    set_str(g, r, "touchpoint", touchpoint_names[x->tp]);
    set_str(g, r, "stage", stage_names[x->st]);
    set_str(g, r, "kind", ikind_names[x->kind]);
    if (!rc && x->agent >= 0 && !(rc = agent_id(g, (size_t)x->agent, a, sizeof a)))
        set_str(g, r, "agent_id", a);
    if (x->duration >= 0)
        set_int(g, r, "duration", x->duration);
    if (x->out != O_NONE)
        set_str(g, r, "outcome", outcome_names[x->out]);
    if (x->value_cents >= 0)
        set_cents(g, r, "value", (uint64_t)x->value_cents);
    if (x->text)
        set_str(g, r, "text", x->text);
    if (rc) {
        json_decref(r);
        return rc;
    }
    return emit(g, r);
}

/* One survey answer. */
struct fb {
    const char *survey, *kind;
    int score;
    const char *comment;    /* or NULL */
    int ch, tp, st;         /* enum values, or -1 */
    int agent;              /* or -1 */
};

static int feedback(struct gen *g, size_t i, int64_t ts, const struct fb *f)
{
    json_t *r = record(g, R_FEEDBACK, ts);
    int rc = set_ids(g, r, i, V_EMAIL);
    char a[32];
    set_str(g, r, "survey", f->survey);
    set_str(g, r, "kind", f->kind);
    set_int(g, r, "score", f->score);
    if (f->comment)
        set_str(g, r, "comment", f->comment);
    if (f->ch >= 0)
        set_str(g, r, "channel", channel_names[f->ch]);
    if (f->tp >= 0)
        set_str(g, r, "touchpoint", touchpoint_names[f->tp]);
    if (f->st >= 0)
        set_str(g, r, "stage", stage_names[f->st]);
    if (!rc && f->agent >= 0 && !(rc = agent_id(g, (size_t)f->agent, a, sizeof a)))
        set_str(g, r, "agent_id", a);
    if (rc) {
        json_decref(r);
        return rc;
    }
    return emit(g, r);
}

/* ---- moods, scores, texts ---------------------------------------------------------- */

static void feel(struct person *p, int delta)
{
    int m = p->mood + delta;
    p->mood = (int8_t)(m < -100 ? -100 : m > 100 ? 100 : m);
}

static void bad_experience(struct person *p, int delta, enum demo_theme t)
{
    feel(p, delta);
    p->theme_neg = (uint8_t)(t + 1);
}

static void good_experience(struct person *p, int delta, enum demo_theme t)
{
    feel(p, delta);
    p->theme_pos = (uint8_t)(t + 1);
}

static int clamp_round(double x, int lo, int hi)
{
    long v = lround(x);
    return v < lo ? lo : v > hi ? hi : (int)v;
}

static int nps_score(struct person *p)
{
    return clamp_round(6.6 + p->mood / 14.0 + 1.3 * normal(&p->rng), 0, 10);
}

/* 1-5, for CSAT and ratings; bonus shifts it for what just happened. */
static int five_score(struct person *p, double bonus)
{
    return clamp_round(3.4 + p->mood / 40.0 + bonus + 0.7 * normal(&p->rng), 1, 5);
}

/* 1-7, lower is less effort. */
static int ces_score(struct person *p, double effort)
{
    return clamp_round(3.4 - p->mood / 50.0 + effort + 0.8 * normal(&p->rng), 1, 7);
}

static enum demo_band band_of(struct person *p, const char *kind, int score)
{
    if (strcmp(kind, "nps") == 0) {
        if (score <= 4)
            return DEMO_NEGATIVE;
        if (score <= 6)
            return chance(&p->rng, 0.6) ? DEMO_NEGATIVE : DEMO_MIXED;
        return score <= 8 ? DEMO_MIXED : DEMO_POSITIVE;
    }
    if (strcmp(kind, "ces") == 0)
        return score >= 5 ? DEMO_NEGATIVE : score == 4 ? DEMO_MIXED : DEMO_POSITIVE;
    return score <= 2 ? DEMO_NEGATIVE : score == 3 ? DEMO_MIXED : DEMO_POSITIVE;
}

/* Band of a free text (review, social post) from the mood, with noise. */
static enum demo_band band_of_mood(struct person *p)
{
    double x = p->mood + 25.0 * normal(&p->rng);
    return x < -10 ? DEMO_NEGATIVE : x < 30 ? DEMO_MIXED : DEMO_POSITIVE;
}

/* The theme a person talks about: the last experience of the band's
 * colour, else a common one. */
static enum demo_theme theme_for(struct person *p, enum demo_band b)
{
    static const enum demo_theme neg[] = {DEMO_TH_PRICE, DEMO_TH_DELIVERY,
                                          DEMO_TH_QUALITY, DEMO_TH_WEBSITE};
    static const enum demo_theme pos[] = {DEMO_TH_QUALITY, DEMO_TH_DELIVERY,
                                          DEMO_TH_PRICE, DEMO_TH_STAFF,
                                          DEMO_TH_APP};
    uint8_t last = b == DEMO_POSITIVE ? p->theme_pos
                 : b == DEMO_NEGATIVE ? p->theme_neg
                 : (chance(&p->rng, 0.5) ? p->theme_neg : p->theme_pos);
    if (last && chance(&p->rng, 0.75))
        return (enum demo_theme)(last - 1);
    return b == DEMO_POSITIVE ? pos[below(&p->rng, sizeof pos / sizeof pos[0])]
                              : neg[below(&p->rng, sizeof neg / sizeof neg[0])];
}

/* Fills out with a comment of band b about theme t, naming the person's
 * current product and agent. */
static int comment(struct gen *g, struct person *p, enum demo_band b,
                   enum demo_theme t, int agent, char *out, size_t outsz)
{
    struct demo_product prod;
    int rc = demo_text_product(p->sku, &prod);
    struct demo_slots s = {.product = prod.name, .days = p->days};
    if (agent >= 0) {
        const struct agent *a = &g->agents[agent];
        s.agent = demo_text_first_names((enum demo_group)a->group, a->female).v[a->first];
    }
    if (!rc)
        rc = demo_text_comment(b, t, rnd(&p->rng), &s, out, outsz);
    return rc ? cxm_err_set(g->err, rc, "demo comment does not fit") : CXM_OK;
}

/* A post on social media: the brand's handle, then a comment. */
static int social_post(struct gen *g, struct person *p, enum demo_band b,
                       enum demo_theme t, char *out, size_t outsz)
{
    size_t n = sizeof BRAND_HANDLE;     /* the handle and a space */
    if (outsz <= n)
        return cxm_err_set(g->err, CXM_ETOOBIG, "demo text does not fit");
    memcpy(out, BRAND_HANDLE " ", n);
    out[n] = '\0';
    return comment(g, p, b, t, -1, out + n, outsz - n);
}

/* A survey comment for a score, or NULL for the ~40% who leave none. */
static int survey_comment(struct gen *g, struct person *p, const char *kind,
                          int score, int theme, int agent, char *out,
                          size_t outsz, const char **res)
{
    *res = NULL;
    if (chance(&p->rng, 0.4))
        return CXM_OK;
    enum demo_band b = band_of(p, kind, score);
    enum demo_theme t = theme >= 0 ? (enum demo_theme)theme : theme_for(p, b);
    int rc = comment(g, p, b, t, agent, out, outsz);
    if (!rc)
        *res = out;
    return rc;
}

/* ---- journeys ------------------------------------------------------------------------- */

static void go(struct person *p, enum mode m, int step, int64_t when)
{
    p->mode = (uint8_t)m;
    p->step = (uint8_t)step;
    p->next = when;
}

static size_t quarter_index(int64_t t)
{
    int y, q;
    year_quarter(t, &y, &q);
    return (size_t)y * 4 + (size_t)q - 1;
}

/* Picks the product a journey is about: mostly a favourite category. */
static void pick_product(struct person *p)
{
    double r = unif(&p->rng);
    size_t cat = r < 0.55 ? p->aff[0] : r < 0.8 ? p->aff[1]
                          : weighted(&p->rng, category_weights, 8);
    size_t first, count;
    demo_text_category_products(cat, &first, &count);
    p->sku = (uint16_t)(first + below(&p->rng, (uint32_t)count));
}

static size_t category_of(size_t sku)
{
    size_t c = 0, first, count;
    for (; c + 1 < demo_text_ncategories(); c++) {
        demo_text_category_products(c, &first, &count);
        if (sku < first + count)
            break;
    }
    return c;
}

static bool app_person(struct person *p)
{
    return (p->flags & F_DEVICE) || p->source == 2;
}

static void start_shop(struct person *p, int64_t when)
{
    bool store = chance(&p->rng, p->source == 1 ? 0.35 : 0.1);
    p->chan = store ? CH_STORE : chance(&p->rng, app_person(p) ? 0.7 : 0.25) ? CH_APP : CH_WEB;
    p->jflags = 0;
    p->days = 0;
    p->ret = 0;
    pick_product(p);
    go(p, M_SHOP, store ? S_STORE : S_AWARE, when);
}

static void start_support(struct gen *g, struct person *p, enum problem pb, int64_t when);

/* After a journey: a pending support case, an identity to link, churn, a
 * relationship survey, or the next shopping journey. */
static void end_journey(struct gen *g, struct person *p, int64_t now, bool may_churn)
{
    p->mood = (int8_t)((p->mood * 9 + p->base) / 10);   /* memories fade */
    if (p->pending) {   /* p->ret, when set, resumes the journey after it */
        enum problem pb = (enum problem)p->pending;
        p->pending = PB_NONE;
        start_support(g, p, pb, later(p, now, expo(&p->rng, 1.0)));
        return;
    }
    if (((p->flags & F_EMAIL2_USED) && !(p->flags & F_EMAIL2_LINKED)) ||
        ((p->flags & F_SOCIAL_USED) && !(p->flags & F_SOCIAL_LINKED))) {
        go(p, M_LINK, 0, later(p, now, 1 + expo(&p->rng, 6)));
        return;
    }
    /* Unhappy people leave; some others just go quiet. */
    double leave = 0.012 + 0.14 * (p->mood < 0 ? -p->mood : 0) / 100.0 +
                   ((p->flags & F_ONEOFF) && p->norders ? 0.35 : 0);
    if (may_churn && chance(&p->rng, leave)) {
        p->next = NEVER;
        return;
    }
    int64_t t = later(p, now, 1 + expo(&p->rng, 30.0 / p->rate));
    size_t q = quarter_index(t) - quarter_index(g->start) + 1;
    if ((p->flags & F_SURV) && q > p->nps_q && chance(&p->rng, 0.3)) {
        go(p, M_NPS, 0, t);
        return;
    }
    start_shop(p, t);
}

/* What happens after the parcel arrived: a problem with it, a review, or
 * nothing more. */
static void after_delivery(struct gen *g, struct person *p, int64_t now)
{
    size_t cat = category_of(p->sku);
    bool wearable = cat == 3 || cat == 4;   /* apparel, footwear: sizes */
    if (chance(&p->rng, 0.04)) {
        bad_experience(p, -15, DEMO_TH_QUALITY);
        p->pending = PB_QUALITY;
    } else if (chance(&p->rng, wearable ? 0.1 : 0.03)) {
        p->pending = PB_RETURN;
    } else if (cat == 7 && chance(&p->rng, 0.25)) {   /* electronics */
        p->pending = PB_QUESTION;
    } else if (!(p->jflags & J_LATE)) {
        good_experience(p, 3, chance(&p->rng, 0.5) ? DEMO_TH_QUALITY : DEMO_TH_DELIVERY);
    }
    if (!p->pending && chance(&p->rng, 0.18)) {
        go(p, M_SHOP, S_REVIEW, later(p, now, 3 + expo(&p->rng, 7)));
        return;
    }
    end_journey(g, p, now, true);
}

/* After the order: a checkout survey, order tracking or the delivery. */
static void to_delivery(struct person *p, int64_t now)
{
    if ((p->jflags & J_LATE) || chance(&p->rng, 0.5)) {
        p->left = (p->jflags & J_LATE) ? (uint8_t)(1 + below(&p->rng, 2)) : 1;
        go(p, M_SHOP, S_STATUS, later(p, now, 1 + unif(&p->rng) * 1.5));
    } else {
        go(p, M_SHOP, S_DELIVERY, later(p, now, 1 + below(&p->rng, 3)));
    }
}

/* Prices in the currency of the person's country, from GBP: whole units
 * converted, the .99 endings kept. */
static uint32_t local_price(const struct person *p, uint32_t gbp_cents)
{
    static const unsigned permille[] = {1000, 1270, 1170, 1170, 1170, 1170, 1170};
    unsigned k = p->country < 7 ? permille[p->country] : 1000;
    uint32_t whole = (gbp_cents + 99) / 100, cents99 = gbp_cents % 100 ? 1 : 0;
    return (uint32_t)((whole * k + 500) / 1000 * 100 - cents99);
}

#define BASKET_MAX 4

struct basket {
    size_t n;
    struct demo_product item[BASKET_MAX];
    unsigned qty[BASKET_MAX];
    uint32_t price[BASKET_MAX];
    uint64_t cents;
};

/* The basket of the current order, drawn again from p->basket so the
 * checkout and the order agree. */
static int basket_of(struct gen *g, struct person *p, struct basket *b)
{
    uint64_t s = p->basket;
    static const unsigned nweights[] = {60, 27, 9, 4};
    size_t want = 1 + weighted(&s, nweights, BASKET_MAX);
    b->n = 0;
    b->cents = 0;
    for (size_t k = 0; k < want; k++) {
        size_t sku = p->sku;
        if (k) {
            double r = unif(&s);
            size_t cat = r < 0.7 ? p->aff[below(&s, 2)] : weighted(&s, category_weights, 8);
            size_t first, count;
            demo_text_category_products(cat, &first, &count);
            sku = first + below(&s, (uint32_t)count);
        }
        bool dup = false;
        struct demo_product *it = &b->item[b->n];
        if (demo_text_product(sku, it))
            return cxm_err_set(g->err, CXM_ETOOBIG, "demo product does not fit");
        for (size_t j = 0; j < b->n; j++)
            dup |= strcmp(b->item[j].sku, it->sku) == 0;
        if (dup)
            continue;
        unsigned q = 1;
        if (it->max_qty > 1 && chance(&s, 0.4))
            q = 2 + below(&s, it->max_qty - 1);
        b->qty[b->n] = q;
        b->price[b->n] = local_price(p, it->price_cents);
        b->cents += (uint64_t)q * b->price[b->n];
        b->n++;
    }
    return CXM_OK;
}

static int order_record(struct gen *g, size_t i, int64_t now)
{
    struct person *p = &g->p[i];
    struct basket b;
    int rc = basket_of(g, p, &b);
    if (rc)
        return rc;
    enum via via = p->chan == CH_STORE ? V_STORE : V_EMAIL;
    /* A guest checkout with the work address makes a second profile that
     * a later identify merges. */
    if (via == V_EMAIL && (p->flags & F_EMAIL2) && !(p->flags & F_EMAIL2_USED) &&
        chance(&p->rng, 0.5)) {
        via = V_EMAIL2;
        p->flags |= F_EMAIL2_USED;
    }
    json_t *r = record(g, R_ORDER, now);
    if ((rc = set_ids(g, r, i, via))) {
        json_decref(r);
        return rc;
    }
    char oid[32];
    if ((rc = fitted(g, snprintf(oid, sizeof oid, "ORD-%06llu",
                                 (unsigned long long)++g->orders), sizeof oid))) {
        json_decref(r);
        return rc;
    }
    set_str(g, r, "order_id", oid);
    set_str(g, r, "currency", demo_text_country(p->country)->currency);
    set_str(g, r, "channel", channel_names[p->chan]);
    json_t *items = json_array();
    for (size_t k = 0; k < b.n; k++) {
        json_t *it = json_object();
        set_str(g, it, "sku", b.item[k].sku);
        set_str(g, it, "category", demo_text_category(b.item[k].category));
        set_int(g, it, "qty", b.qty[k]);
        set_cents(g, it, "price", b.price[k]);
        if (!it || json_array_append_new(items, it))
            g->oom = true;
    }
    set(g, r, "items", items);
    set_cents(g, r, "amount", b.cents);
    p->norders++;
    return emit(g, r);
}

/* One step of a shopping journey at now. */
static int step_shop(struct gen *g, size_t i, int64_t now)
{
    struct person *p = &g->p[i];
    enum channel web = p->chan == CH_APP ? CH_APP : CH_WEB;
    struct ix x = {.ch = web, .st = ST_CONSIDER, .kind = K_VISIT, .via = V_EMAIL,
                   .agent = -1, .duration = -1, .value_cents = -1};
    char text[TEXT_MAX];
    int rc;
    switch (p->step) {
    case S_AWARE:
        x.st = ST_AWARE;
        if ((p->flags & F_SOCIAL) &&
            chance(&p->rng, (p->flags & F_SOCIAL_USED) ? 0.06 : 0.35)) {
            /* A public post, known only by the handle until linked. */
            enum demo_band b = band_of_mood(p);
            if ((rc = social_post(g, p, b, theme_for(p, b), text, sizeof text)))
                return rc;
            x = (struct ix){.ch = CH_SOCIAL, .tp = TP_TWITTER, .st = ST_AWARE,
                            .kind = K_SOCIAL, .via = V_SOCIAL, .agent = -1,
                            .duration = -1, .value_cents = -1, .text = text};
            p->flags |= F_SOCIAL_USED;
        } else if ((p->flags & F_MKT) && chance(&p->rng, 0.4)) {
            x.ch = CH_EMAIL;
            x.tp = TP_NEWS;
            x.kind = K_EMAIL;
        } else if (chance(&p->rng, 0.1)) {
            x.ch = CH_SOCIAL;
            x.tp = TP_FACEBOOK;
            x.duration = 5 + below(&p->rng, 60);
        } else {
            x.tp = TP_HOME;
            x.duration = 10 + below(&p->rng, 240);
        }
        if (chance(&p->rng, 0.3)) {
            x.out = x.kind == K_SOCIAL ? O_NONE : O_ABANDONED;
            end_journey(g, p, now, true);
        } else {
            x.out = x.kind == K_SOCIAL ? O_NONE : O_CONVERTED;
            p->left = (uint8_t)(1 + below(&p->rng, 6));
            go(p, M_SHOP, S_CONSIDER, soon(p, now, 20, 600));
        }
        return interaction(g, i, now, &x);
    case S_CONSIDER:
        x.tp = p->left > 1 && chance(&p->rng, 0.5) ? TP_SEARCH : TP_PRODUCT;
        x.duration = 20 + (int64_t)expo(&p->rng, 120);
        if (web == CH_APP && chance(&p->rng, 0.02)) {
            /* The app crashed: some give up, some complain. */
            x.out = O_ABANDONED;
            bad_experience(p, -10, DEMO_TH_APP);
            if (chance(&p->rng, 0.4))
                p->pending = PB_APP;
            end_journey(g, p, now, true);
        } else if (--p->left) {
            go(p, M_SHOP, S_CONSIDER, soon(p, now, 15, 400));
        } else if (chance(&p->rng, 0.35)) {
            x.out = O_ABANDONED;
            end_journey(g, p, now, true);
        } else {
            x.out = O_CONVERTED;
            go(p, M_SHOP, S_CART, soon(p, now, 20, 600));
        }
        return interaction(g, i, now, &x);
    case S_STORE: {
        x = (struct ix){.ch = CH_STORE, .tp = TP_STORE, .st = ST_CONSIDER,
                        .kind = K_VISIT, .via = V_STORE, .agent = -1,
                        .duration = 300 + (int64_t)expo(&p->rng, 900),
                        .value_cents = -1};
        if (chance(&p->rng, 0.5)) {   /* served by a sales assistant */
            size_t a = g->team_first[TM_SALES] + below(&p->rng, (uint32_t)g->team_n[TM_SALES]);
            x.agent = (int)a;
            if (g->agents[a].skill == 2)
                bad_experience(p, -15, DEMO_TH_STAFF);
            else if (g->agents[a].skill == 1)
                good_experience(p, 8, DEMO_TH_STAFF);
        }
        if (chance(&p->rng, 0.7 + p->mood / 1000.0)) {
            x.out = O_CONVERTED;
            p->basket = rnd(&p->rng);
            go(p, M_SHOP, S_ORDER, soon(p, now, 60, 900));
        } else {
            x.out = O_ABANDONED;
            end_journey(g, p, now, true);
        }
        return interaction(g, i, now, &x);
    }
    case S_CART:
        x.tp = TP_CART;
        x.st = ST_PURCHASE;
        x.duration = 10 + below(&p->rng, 180);
        if (chance(&p->rng, 0.22)) {
            x.out = O_ABANDONED;
            if (chance(&p->rng, 0.4))   /* the total put them off */
                bad_experience(p, -3, DEMO_TH_PRICE);
            end_journey(g, p, now, true);
        } else {
            x.out = O_CONVERTED;
            go(p, M_SHOP, S_CHECKOUT, soon(p, now, 20, 300));
        }
        return interaction(g, i, now, &x);
    case S_CHECKOUT: {
        x.tp = TP_CHECKOUT;
        x.st = ST_PURCHASE;
        x.duration = 30 + below(&p->rng, 240);
        /* The web checkout fails far more often than the app's. */
        if (chance(&p->rng, web == CH_APP ? 0.035 : 0.09)) {
            x.out = O_ABANDONED;
            p->jflags |= J_ERROR;
            bad_experience(p, -12, web == CH_APP ? DEMO_TH_APP : DEMO_TH_WEBSITE);
            if ((p->flags & F_SURV) && chance(&p->rng, 0.25)) {
                go(p, M_SHOP, S_CSAT, soon(p, now, 60, 900));
            } else {
                if (chance(&p->rng, 0.45)) {
                    p->pending = web == CH_APP ? PB_APP : PB_CHECKOUT;
                    p->ret = S_CHECKOUT + 1;
                }
                end_journey(g, p, now, true);
                if (p->mode == M_SUPPORT)   /* support is sought right away */
                    p->next = soon(p, now, 120, 1800);
            }
            return interaction(g, i, now, &x);
        }
        struct basket b;
        p->basket = rnd(&p->rng);
        if ((rc = basket_of(g, p, &b)))
            return rc;
        x.kind = K_PURCHASE;
        x.out = O_CONVERTED;
        x.value_cents = (int64_t)b.cents;
        p->jflags &= (uint8_t)~J_ERROR;
        go(p, M_SHOP, S_ORDER, soon(p, now, 2, 60));
        return interaction(g, i, now, &x);
    }
    case S_ORDER:
        if ((rc = order_record(g, i, now)))
            return rc;
        if (chance(&p->rng, 0.025))
            p->pending = PB_BILLING;
        else if (chance(&p->rng, 0.015))
            p->pending = PB_PRICE;
        if (p->chan == CH_STORE) {
            if (!p->pending && chance(&p->rng, 0.15))
                go(p, M_SHOP, S_REVIEW, later(p, now, 3 + expo(&p->rng, 7)));
            else
                end_journey(g, p, now, true);
            return CXM_OK;
        }
        if (chance(&p->rng, 0.12)) {
            p->jflags |= J_LATE;
            p->days = (uint16_t)(2 + expo(&p->rng, 4));
        }
        if ((p->flags & F_SURV) && chance(&p->rng, 0.1))
            go(p, M_SHOP, S_CSAT, soon(p, now, 120, 1800));
        else
            to_delivery(p, now);
        return CXM_OK;
    case S_CSAT: {
        bool err = p->jflags & J_ERROR;
        int score = five_score(p, err ? -1.8 : 0.6);
        const char *c;
        if ((rc = survey_comment(g, p, "csat", score,
                                 web == CH_APP ? DEMO_TH_APP : DEMO_TH_WEBSITE,
                                 -1, text, sizeof text, &c)))
            return rc;
        struct fb f = {.survey = "checkout-csat", .kind = "csat", .score = score,
                       .comment = c, .ch = web, .tp = TP_CHECKOUT,
                       .st = ST_PURCHASE, .agent = -1};
        if (err) {
            if (chance(&p->rng, 0.45)) {
                p->pending = web == CH_APP ? PB_APP : PB_CHECKOUT;
                p->ret = S_CHECKOUT + 1;
            }
            end_journey(g, p, now, true);
        } else {
            to_delivery(p, now);
        }
        return feedback(g, i, now, &f);
    }
    case S_STATUS:
        x.tp = TP_STATUS;
        x.st = ST_ONBOARD;
        x.duration = 15 + below(&p->rng, 120);
        x.out = (p->jflags & J_LATE) ? O_UNRESOLVED : O_RESOLVED;
        if (--p->left) {
            go(p, M_SHOP, S_STATUS, later(p, now, 1));
        } else if ((p->jflags & J_LATE) && chance(&p->rng, 0.6)) {
            /* Chase the parcel; it arrives after the case either way. */
            bad_experience(p, -10, DEMO_TH_DELIVERY);
            p->ret = S_DELIVERY + 1;
            start_support(g, p, PB_LATE, soon(p, now, 60, 3600));
        } else {
            go(p, M_SHOP, S_DELIVERY,
               later(p, now, 1 + below(&p->rng, 2) + ((p->jflags & J_LATE) ? p->days : 0)));
        }
        return interaction(g, i, now, &x);
    case S_DELIVERY:
        x = (struct ix){.ch = CH_EMAIL, .tp = TP_DELIVERY, .st = ST_ONBOARD,
                        .kind = K_EMAIL, .out = O_RESOLVED, .via = V_EMAIL,
                        .agent = -1, .duration = -1, .value_cents = -1};
        if (p->jflags & J_LATE)
            bad_experience(p, -6, DEMO_TH_DELIVERY);
        if ((p->flags & F_SURV) && chance(&p->rng, 0.15))
            go(p, M_SHOP, S_RATING, soon(p, now, 3600, 30 * 3600));
        else
            after_delivery(g, p, now);
        return interaction(g, i, now, &x);
    case S_RATING: {
        bool late = p->jflags & J_LATE;
        int score = five_score(p, late ? -2.0 : 0.8);
        const char *c;
        enum demo_theme t = late && score >= 4 ? DEMO_TH_QUALITY : DEMO_TH_DELIVERY;
        if ((rc = survey_comment(g, p, "rating", score, (int)t, -1, text, sizeof text, &c)))
            return rc;
        struct fb f = {.survey = "delivery-rating", .kind = "rating", .score = score,
                       .comment = c, .ch = CH_EMAIL, .tp = TP_DELIVERY,
                       .st = ST_ONBOARD, .agent = -1};
        after_delivery(g, p, now);
        return feedback(g, i, now, &f);
    }
    default: {   /* S_REVIEW */
        enum demo_band b = band_of_mood(p);
        enum demo_theme t = chance(&p->rng, 0.6) ? DEMO_TH_QUALITY : theme_for(p, b);
        if ((p->flags & F_SOCIAL) && chance(&p->rng, 0.3)) {
            if ((rc = social_post(g, p, b, t, text, sizeof text)))
                return rc;
            x = (struct ix){.ch = CH_SOCIAL, .tp = TP_TWITTER, .st = ST_LOYALTY,
                            .kind = K_SOCIAL, .via = V_SOCIAL, .agent = -1,
                            .duration = -1, .value_cents = -1, .text = text};
            p->flags |= F_SOCIAL_USED;
        } else {
            if ((rc = comment(g, p, b, t, -1, text, sizeof text)))
                return rc;
            x = (struct ix){.ch = web, .tp = TP_PRODUCT, .st = ST_LOYALTY,
                            .kind = K_REVIEW, .via = V_EMAIL, .agent = -1,
                            .duration = 60 + below(&p->rng, 400),
                            .value_cents = -1, .text = text};
        }
        end_journey(g, p, now, true);
        return interaction(g, i, now, &x);
    }
    }
}

/* ---- support cases ------------------------------------------------------------------- */

static size_t agent_of(struct gen *g, struct person *p, enum team t)
{
    return g->team_first[t] + below(&p->rng, (uint32_t)g->team_n[t]);
}

static void start_support(struct gen *g, struct person *p, enum problem pb, int64_t when)
{
    /* Contact channels: phone, chat, email, social, store. */
    unsigned w[5] = {36, 30, 22, (p->flags & F_SOCIAL) ? 14 : 0, 8};
    if (pb == PB_QUALITY || pb == PB_RETURN)
        w[4] = 20;
    if (pb == PB_CHECKOUT || pb == PB_APP) {
        w[0] = 40; w[1] = 45; w[2] = 15; w[3] = 0; w[4] = 0;
    }
    static const enum channel ch[] = {CH_PHONE, CH_CHAT, CH_EMAIL, CH_SOCIAL, CH_STORE};
    p->chan = (uint8_t)ch[weighted(&p->rng, w, 5)];
    p->problem = (uint8_t)pb;
    p->contacts = 0;
    p->jflags &= (uint8_t)~(J_RESOLVED | J_WAIT | J_RUDE | J_STAR);
    p->agent = (uint16_t)agent_of(g, p, p->chan == CH_SOCIAL ? TM_SOCIAL : problems[pb].team);
    int step = p->chan == CH_PHONE ? U_IVR : U_CONTACT;
    if (pb == PB_RETURN || (pb != PB_CHECKOUT && pb != PB_APP && chance(&p->rng, 0.55)))
        step = U_HELP;
    go(p, M_SUPPORT, step, when);
}

static void end_support(struct gen *g, struct person *p, int64_t now)
{
    /* A late parcel comes in the end; a failed checkout is tried again
     * only once the problem is solved. */
    if (p->ret == S_DELIVERY + 1) {
        int64_t left = p->days > 2 ? p->days - 2 : 1;
        go(p, M_SHOP, S_DELIVERY, later(p, now, (double)left));
        p->chan = app_person(p) ? CH_APP : CH_WEB;
    } else if (p->ret && (p->jflags & J_RESOLVED)) {
        p->chan = p->problem == PB_APP ? CH_APP : CH_WEB;
        go(p, M_SHOP, p->ret - 1, later(p, now, 0));
    } else {
        end_journey(g, p, now, true);
    }
    p->ret = 0;
}

/* Decides how a contact ends, with its effect on the mood. */
static enum outcome resolve_contact(struct gen *g, struct person *p, double bonus)
{
    const struct agent *a = &g->agents[p->agent];
    double ok = problems[p->problem].resolve + bonus;
    if (a->skill == 1) {
        ok += 0.15;
        p->jflags |= J_STAR;
        good_experience(p, 8, DEMO_TH_STAFF);
    } else if (a->skill == 2) {
        ok -= 0.25;
        p->jflags |= J_RUDE;
        bad_experience(p, -18, DEMO_TH_STAFF);
    }
    if (p->jflags & J_WAIT)
        ok -= 0.1;
    if (chance(&p->rng, ok)) {
        p->jflags |= J_RESOLVED;
        feel(p, 6);
        return O_RESOLVED;
    }
    bad_experience(p, -14, problems[p->problem].theme);
    return chance(&p->rng, 0.45) ? O_ESCALATED : O_UNRESOLVED;
}

/* After a contact: done, or another try days later. */
static void after_contact(struct person *p, int64_t now, enum outcome o)
{
    if (o == O_RESOLVED || ++p->contacts >= 3) {
        go(p, M_SUPPORT, U_SURVEY, soon(p, now, 1800, 20 * 3600));
        return;
    }
    uint16_t d = (uint16_t)(1 + expo(&p->rng, 3));
    p->days = (uint16_t)(p->days + d);
    go(p, M_SUPPORT, U_FOLLOWUP, later(p, now, d));
}

static int step_support(struct gen *g, size_t i, int64_t now)
{
    struct person *p = &g->p[i];
    enum problem pb = (enum problem)p->problem;
    enum stage st = pb == PB_QUESTION ? ST_ONBOARD : ST_SUPPORT;
    enum demo_theme th = problems[pb].theme;
    char text[TEXT_MAX];
    int rc;
    struct ix x = {.ch = app_person(p) ? CH_APP : CH_WEB, .st = st, .kind = K_VISIT,
                   .via = V_EMAIL, .agent = -1, .duration = -1, .value_cents = -1};
    switch (p->step) {
    case U_HELP:
        x.tp = pb == PB_RETURN ? TP_RETURNS : TP_HELP;
        x.duration = 40 + (int64_t)expo(&p->rng, 180);
        if (chance(&p->rng, pb == PB_RETURN ? 0.7 : pb == PB_QUESTION || pb == PB_LATE ? 0.25 : 0.1)) {
            /* Self-service did it: a return is booked, an answer found. */
            x.out = O_RESOLVED;
            p->jflags |= J_RESOLVED;
            if (pb == PB_RETURN) {
                good_experience(p, 4, DEMO_TH_RETURNS);
                p->days = (uint16_t)(3 + below(&p->rng, 8));
                p->last_ch = x.ch;
                p->last_tp = TP_RETURNS;
                p->agent = UINT16_MAX;
                go(p, M_SUPPORT, U_SURVEY, later(p, now, p->days));
            } else {
                end_support(g, p, now);
            }
        } else {
            x.out = O_UNRESOLVED;
            go(p, M_SUPPORT, p->chan == CH_PHONE ? U_IVR : U_CONTACT,
               soon(p, now, 60, 3 * 3600));
        }
        return interaction(g, i, now, &x);
    case U_IVR: {
        /* The phone queue: waits are long and some hang up. */
        double wait = exp(log(240.0) + 0.9 * normal(&p->rng));
        if (wait > 5400)
            wait = 5400;
        double patience = 60 + expo(&p->rng, 1100);
        x = (struct ix){.ch = CH_PHONE, .tp = TP_IVR, .st = st, .kind = K_CALL,
                        .via = V_PHONE, .agent = -1, .value_cents = -1};
        if (wait > patience) {
            x.out = O_ABANDONED;
            x.duration = (int64_t)patience;
            p->jflags |= J_WAIT;
            bad_experience(p, -8, DEMO_TH_WAITING);
            if (++p->contacts >= 3) {
                end_support(g, p, now);
            } else if (chance(&p->rng, 0.5)) {
                p->chan = CH_CHAT;
                go(p, M_SUPPORT, U_CONTACT, now + x.duration + 60 + below(&p->rng, 3600));
            } else {
                go(p, M_SUPPORT, U_IVR, later(p, now, below(&p->rng, 3)));
            }
        } else {
            x.out = O_ESCALATED;   /* handed to an agent */
            x.duration = (int64_t)wait;
            if (wait > 900) {
                p->jflags |= J_WAIT;
                bad_experience(p, -6, DEMO_TH_WAITING);
            }
            go(p, M_SUPPORT, U_CONTACT, now + x.duration + 5);
        }
        return interaction(g, i, now, &x);
    }
    case U_CONTACT: {
        static const double ch_bonus[] = {[CH_PHONE] = -0.05, [CH_CHAT] = 0.05,
                                          [CH_EMAIL] = -0.08, [CH_SOCIAL] = 0,
                                          [CH_STORE] = 0.08, [CH_WEB] = 0,
                                          [CH_APP] = 0};
        enum outcome o = resolve_contact(g, p, ch_bonus[p->chan]);
        x.agent = p->agent;
        x.out = o;
        x.ch = (enum channel)p->chan;
        switch (p->chan) {
        case CH_PHONE:
            x.tp = TP_CALL;
            x.kind = p->mood < -35 ? K_COMPLAINT : K_CALL;
            x.via = V_PHONE;
            x.duration = (int64_t)exp(log(420.0) + 0.6 * normal(&p->rng));
            if (x.kind == K_COMPLAINT &&
                (rc = comment(g, p, DEMO_NEGATIVE, th, p->agent, text, sizeof text)))
                return rc;
            x.text = x.kind == K_COMPLAINT ? text : NULL;
            break;
        case CH_CHAT: {
            struct demo_product prod;
            const struct agent *a = &g->agents[p->agent];
            if (demo_text_product(p->sku, &prod))
                return cxm_err_set(g->err, CXM_ETOOBIG, "demo product does not fit");
            struct demo_slots s = {
                .product = prod.name, .days = p->days,
                .agent = demo_text_first_names((enum demo_group)a->group, a->female).v[a->first]};
            if (demo_text_chat(th, o == O_RESOLVED, rnd(&p->rng), &s, text, sizeof text))
                return cxm_err_set(g->err, CXM_ETOOBIG, "demo chat does not fit");
            x.tp = TP_CHAT;
            x.kind = K_CHAT;
            x.duration = 180 + (int64_t)expo(&p->rng, 480);
            x.text = text;
            break;
        }
        case CH_EMAIL:
            x.tp = TP_HELP;
            x.kind = K_TICKET;
            if (chance(&p->rng, 0.3)) {   /* the answer took days */
                p->days = (uint16_t)(p->days + 2 + below(&p->rng, 4));
                p->jflags |= J_WAIT;
                bad_experience(p, -5, DEMO_TH_WAITING);
            }
            break;
        case CH_SOCIAL:
            if ((rc = social_post(g, p, DEMO_NEGATIVE, th, text, sizeof text)))
                return rc;
            x.tp = TP_TWITTER;
            x.kind = K_SOCIAL;
            x.via = V_SOCIAL;
            x.text = text;
            p->flags |= F_SOCIAL_USED;
            break;
        default:   /* CH_STORE */
            if ((rc = comment(g, p, DEMO_NEGATIVE, th, -1, text, sizeof text)))
                return rc;
            x.tp = TP_STORE;
            x.kind = K_COMPLAINT;
            x.via = V_STORE;
            x.duration = 180 + (int64_t)expo(&p->rng, 600);
            x.text = text;
            break;
        }
        p->last_ch = (uint8_t)x.ch;
        p->last_tp = (uint8_t)x.tp;
        after_contact(p, now, o);
        return interaction(g, i, now, &x);
    }
    case U_FOLLOWUP: {
        /* A formal complaint, handled by the team lead. */
        enum team t = p->chan == CH_SOCIAL ? TM_SOCIAL : problems[pb].team;
        p->agent = (uint16_t)g->team_first[t];
        bool phone = chance(&p->rng, 0.5);
        x = (struct ix){.ch = phone ? CH_PHONE : CH_EMAIL, .tp = phone ? TP_CALL : TP_HELP,
                        .st = st, .kind = K_COMPLAINT, .via = phone ? V_PHONE : V_EMAIL,
                        .agent = p->agent, .value_cents = -1,
                        .duration = phone ? (int64_t)exp(log(600.0) + 0.5 * normal(&p->rng)) : -1};
        if ((rc = comment(g, p, DEMO_NEGATIVE, th, -1, text, sizeof text)))
            return rc;
        x.text = text;
        x.out = resolve_contact(g, p, 0.1);
        p->last_ch = (uint8_t)x.ch;
        p->last_tp = (uint8_t)x.tp;
        after_contact(p, now, x.out);
        return interaction(g, i, now, &x);
    }
    default: {   /* U_SURVEY */
        if (!(p->flags & F_SURV) || !chance(&p->rng, 0.5)) {
            end_support(g, p, now);
            return CXM_OK;
        }
        bool ok = p->jflags & J_RESOLVED;
        bool ces = pb == PB_RETURN;
        int score = ces ? ces_score(p, (ok ? -0.6 : 1.8) + 0.7 * p->contacts)
                        : five_score(p, (ok ? 0.8 : -1.6) - 0.3 * p->contacts);
        const char *kind = ces ? "ces" : "csat";
        enum demo_band b = band_of(p, kind, score);
        int theme = th;
        if (b == DEMO_NEGATIVE && (p->jflags & J_RUDE))
            theme = DEMO_TH_STAFF;
        else if (b == DEMO_NEGATIVE && (p->jflags & J_WAIT))
            theme = DEMO_TH_WAITING;
        else if (b == DEMO_POSITIVE && ((p->jflags & J_STAR) ||
                                        (pb != PB_RETURN && pb != PB_BILLING)))
            /* Praise after a case is for the people or the speed: "fast
             * delivery" would not fit a late parcel. */
            theme = (p->jflags & J_STAR) || chance(&p->rng, 0.7) ? DEMO_TH_STAFF
                                                                 : DEMO_TH_WAITING;
        int agent = p->agent == UINT16_MAX ? -1 : p->agent;
        const char *c;
        if ((rc = survey_comment(g, p, kind, score, theme, agent, text, sizeof text, &c)))
            return rc;
        struct fb f = {.survey = ces ? "returns-ces" : "post-support-csat", .kind = kind,
                       .score = score, .comment = c, .ch = p->last_ch, .tp = p->last_tp,
                       .st = st, .agent = agent};
        end_support(g, p, now);
        return feedback(g, i, now, &f);
    }
    }
}

/* ---- signing up, surveys, links --------------------------------------------------------- */

static int customer_record(struct gen *g, size_t i, int64_t now)
{
    struct person *p = &g->p[i];
    const struct demo_country *c = demo_text_country(p->country);
    json_t *r = record(g, R_CUSTOMER, now);
    char v[CXM_MAX_IDENTITY + 1], name[160];
    int rc = set_ids(g, r, i, V_EMAIL);
    if (!rc)
        rc = fitted(g, snprintf(v, sizeof v, "CRM-%07zu", i + 1), sizeof v);
    if (!rc) {
        set_str(g, r, "crm", v);
        if (p->flags & F_PHONE)
            rc = set_ids(g, r, i, V_PHONE);   /* sets the country too */
        else
            set_str(g, r, "country", c->iso);
    }
    if (!rc && (p->flags & F_LOYALTY))
        rc = set_ids(g, r, i, V_STORE);
    if (!rc)
        rc = fitted(g, snprintf(name, sizeof name, "%s %s", first_name(p), last_name(p)),
                    sizeof name);
    if (rc) {
        json_decref(r);
        return rc;
    }
    set_str(g, r, "name", name);
    set_int(g, r, "birth_year", p->birth_year);
    set_str(g, r, "gender", genders[p->gender]);
    set_str(g, r, "city", c->cities.v[p->city]);
    set_str(g, r, "language", p->lang_en ? "en" : c->language);
    json_t *consent = json_object();
    set(g, consent, "marketing", json_boolean(p->flags & F_MKT));
    set(g, consent, "surveys", json_boolean(p->flags & F_SURV));
    set(g, consent, "personalisation", json_boolean(p->flags & F_PERS));
    set(g, r, "consent", consent);
    json_t *attrs = json_object();
    set_str(g, attrs, "tier", tiers[p->tier]);
    set_str(g, attrs, "signup_source", sources[p->source]);
    set(g, r, "attributes", attrs);
    return emit(g, r);
}

/* An identify naming the person's e-mail and one more identity. */
static int identify(struct gen *g, size_t i, int64_t now, enum via other)
{
    json_t *r = record(g, R_IDENTIFY, now);
    int rc = set_ids(g, r, i, V_EMAIL);
    if (!rc && other == V_EMAIL2) {
        /* Two e-mails: the second goes in the identities object. */
        char v[CXM_MAX_IDENTITY + 1];
        json_t *ids = json_object();
        if (!(rc = email2_of(g, i, v, sizeof v)))
            set_str(g, ids, "email", v);
        set(g, r, "identities", ids);
    } else if (!rc) {
        rc = set_ids(g, r, i, other);
    }
    if (rc) {
        json_decref(r);
        return rc;
    }
    return emit(g, r);
}

static void after_signup(struct gen *g, struct person *p, int64_t now)
{
    if (p->source == 1) {   /* signed up at the till */
        start_shop(p, now);
        p->chan = CH_STORE;
        p->basket = rnd(&p->rng);
        go(p, M_SHOP, S_ORDER, soon(p, now, 60, 600));
    } else if (chance(&p->rng, 0.6)) {
        start_shop(p, now);
        if (p->chan == CH_STORE)
            p->chan = app_person(p) ? CH_APP : CH_WEB;
        p->left = (uint8_t)(1 + below(&p->rng, 2));
        go(p, M_SHOP, S_CONSIDER, soon(p, now, 20, 300));
    } else {
        end_journey(g, p, now, false);
    }
}

static int step_other(struct gen *g, size_t i, int64_t now)
{
    struct person *p = &g->p[i];
    char text[TEXT_MAX];
    int rc;
    switch (p->mode) {
    case M_ANON: {
        /* Browsing before signing up: known only by a cookie or device. */
        struct ix x = {.ch = (p->flags & F_DEVICE) ? CH_APP : CH_WEB,
                       .st = p->step ? ST_CONSIDER : ST_AWARE, .kind = K_VISIT,
                       .via = V_COOKIE, .agent = -1, .value_cents = -1,
                       .duration = 15 + (int64_t)expo(&p->rng, 150)};
        x.tp = p->step ? (chance(&p->rng, 0.6) ? TP_PRODUCT : TP_SEARCH)
                       : (chance(&p->rng, 0.7) ? TP_HOME : TP_SEARCH);
        if (!p->step)
            pick_product(p);
        if (--p->left) {
            go(p, M_ANON, 1, later(p, now, expo(&p->rng, 4)));
        } else {
            x.out = O_CONVERTED;
            go(p, M_SIGNUP, 0, soon(p, now, 60, 900));
        }
        return interaction(g, i, now, &x);
    }
    case M_SIGNUP:
        if (p->step == 0) {
            if (p->flags & F_ANON)
                go(p, M_SIGNUP, 1, soon(p, now, 2, 30));
            else
                after_signup(g, p, now);
            return customer_record(g, i, now);
        }
        /* Logging in ties the browsing history to the account. */
        after_signup(g, p, now);
        return identify(g, i, now, V_COOKIE);
    case M_NPS: {
        int y, q;
        year_quarter(now, &y, &q);
        p->nps_q = (uint8_t)(quarter_index(now) - quarter_index(g->start) + 1);
        char survey[48];
        if ((rc = fitted(g, snprintf(survey, sizeof survey, "relationship-nps-%dq%d", y, q),
                         sizeof survey)))
            return rc;
        int score = nps_score(p);
        const char *c;
        if ((rc = survey_comment(g, p, "nps", score, -1, -1, text, sizeof text, &c)))
            return rc;
        struct fb f = {.survey = survey, .kind = "nps", .score = score, .comment = c,
                       .ch = CH_EMAIL, .tp = -1, .st = ST_LOYALTY, .agent = -1};
        end_journey(g, p, now, true);
        return feedback(g, i, now, &f);
    }
    default: {   /* M_LINK */
        enum via other;
        if ((p->flags & F_EMAIL2_USED) && !(p->flags & F_EMAIL2_LINKED)) {
            p->flags |= F_EMAIL2_LINKED;
            other = V_EMAIL2;
        } else {
            p->flags |= F_SOCIAL_LINKED;
            other = V_SOCIAL;
        }
        end_journey(g, p, now, false);
        return identify(g, i, now, other);
    }
    }
}

/* ---- people and agents ------------------------------------------------------------------ */

static void person_init(struct gen *g, size_t i)
{
    struct person *p = &g->p[i];
    memset(p, 0, sizeof *p);
    /* Independent starting points, not one stream shifted per person. */
    p->rng = mix64(g->seed * 0xd1342543de82ef95ULL + 1) ^ mix64(i + 1);
    uint64_t *r = &p->rng;
    unsigned cw[8];
    size_t nc = demo_text_ncountries();
    for (size_t k = 0; k < nc && k < 8; k++)
        cw[k] = demo_text_country(k)->weight;
    p->country = (uint8_t)weighted(r, cw, nc < 8 ? nc : 8);
    const struct demo_country *c = demo_text_country(p->country);
    p->group = (uint8_t)(chance(r, 0.12) ? below(r, DEMO_G_COUNT) : c->group);
    p->gender = (uint8_t)weighted(r, gender_weights, 4);
    p->female = (uint8_t)(p->gender == 0 ? 1 : p->gender == 1 ? 0 : below(r, 2));
    struct demo_list fl = demo_text_first_names((enum demo_group)p->group, p->female);
    p->first = (uint16_t)below(r, (uint32_t)fl.n);
    p->last = (uint16_t)below(r, (uint32_t)demo_text_last_names((enum demo_group)p->group).n);
    int y, q;
    year_quarter(g->end, &y, &q);
    p->birth_year = (uint16_t)(y - 18 - (int)(62 * (unif(r) + unif(r)) / 2));
    uint32_t nct = (uint32_t)c->cities.n, a = below(r, nct), b = below(r, nct);
    p->city = (uint8_t)(a < b ? a : b);   /* big cities more often */
    static const double english[] = {0, 0, 0.12, 0.08, 0.1, 0, 0.25};
    p->lang_en = (uint8_t)(strcmp(c->language, "en") == 0 ||
                           chance(r, english[p->country < 7 ? p->country : 0]));
    if (chance(r, 0.6)) p->flags |= F_PHONE;
    if (chance(r, 0.35)) p->flags |= F_LOYALTY;
    if (chance(r, 0.55)) p->flags |= F_MKT;
    if (chance(r, 0.7)) p->flags |= F_SURV;
    if (chance(r, 0.6)) p->flags |= F_PERS;
    static const unsigned tier_weights[] = {45, 35, 20};
    p->tier = (uint8_t)((p->flags & F_LOYALTY) ? 1 + weighted(r, tier_weights, 3) : 0);
    p->source = (uint8_t)weighted(r, source_weights, 4);
    if (chance(r, 0.3)) {
        p->flags |= F_ANON;
        if (chance(r, 0.4)) {
            p->flags |= F_DEVICE;
            p->source = 2;
        } else {
            p->source = chance(r, 0.85) ? 0 : 3;
        }
    }
    if (chance(r, 0.45)) p->flags |= F_ONEOFF;
    if (chance(r, 0.05)) p->flags |= F_EMAIL2;
    if (chance(r, 0.1)) p->flags |= F_SOCIAL;
    p->aff[0] = (uint8_t)weighted(r, category_weights, 8);
    do
        p->aff[1] = (uint8_t)weighted(r, category_weights, 8);
    while (p->aff[1] == p->aff[0]);
    /* Heavy-tailed appetite: many buy once, a few every week. */
    double rate = exp(log(0.5) + 1.0 * normal(r));
    if (p->aff[0] == 6 || p->aff[1] == 6)   /* nutrition is used up */
        rate *= 1.6;
    if (p->tier == 3)
        rate *= 1.4;
    p->rate = (float)(rate < 0.05 ? 0.05 : rate > 4 ? 4 : rate);
    double m = 25 + 30 * normal(r);
    p->base = p->mood = (int8_t)(m < -80 ? -80 : m > 95 ? 95 : m);
    /* A third are customers already; the others arrive over the window. */
    double day = chance(r, 0.35) ? 45 * unif(r) : (WINDOW_DAYS - 10) * unif(r);
    int64_t t0 = g->start + (int64_t)(day * DAY);
    if (p->flags & F_ANON) {
        p->left = (uint8_t)(1 + below(r, 4));
        go(p, M_ANON, 0, later(p, t0, 0));
    } else {
        go(p, M_SIGNUP, 0, later(p, t0, 0));
    }
}

static int agents_init(struct gen *g)
{
    size_t n = g->n / PEOPLE_PER_AGENT + (g->n % PEOPLE_PER_AGENT != 0);
    g->nagents = n < MIN_AGENTS ? MIN_AGENTS : n;
    if (!(g->agents = cxm_calloc(g->nagents, sizeof *g->agents)))
        return cxm_err_set(g->err, CXM_ENOMEM, "out of memory for %zu agents", g->nagents);
    /* One agent (the lead) per team, the rest shared by weight. */
    size_t extra = g->nagents - TM_COUNT, used = 0;
    for (size_t t = 0; t < TM_COUNT; t++) {
        g->team_n[t] = 1 + extra * team_weights[t] / 100;
        used += g->team_n[t];
    }
    g->team_n[TM_SUPPORT] += g->nagents - used;
    uint64_t r = mix64(g->seed ^ 0x6a09e667f3bcc909ULL);
    size_t a = 0;
    for (size_t t = 0; t < TM_COUNT; t++) {
        g->team_first[t] = a;
        for (size_t k = 0; k < g->team_n[t]; k++, a++) {
            struct agent *ag = &g->agents[a];
            ag->team = (uint8_t)t;
            ag->group = (uint8_t)(chance(&r, 0.7) ? DEMO_G_EN : below(&r, DEMO_G_COUNT));
            ag->female = (uint8_t)below(&r, 2);
            ag->first = (uint16_t)below(&r, (uint32_t)demo_text_first_names(
                (enum demo_group)ag->group, ag->female).n);
            ag->last = (uint16_t)below(&r, (uint32_t)demo_text_last_names(
                (enum demo_group)ag->group).n);
            double s = unif(&r);
            /* Leads are never rude: complaints go to them. */
            ag->skill = (uint8_t)(s < 0.15 ? 1 : s < 0.22 && k ? 2 : 0);
        }
    }
    return CXM_OK;
}

static int employees(struct gen *g)
{
    for (size_t a = 0; a < g->nagents; a++) {
        const struct agent *ag = &g->agents[a];
        char id[32], name[160];
        int rc = agent_id(g, a, id, sizeof id);
        if (!rc)
            rc = fitted(g, snprintf(name, sizeof name, "%s %s",
                                    demo_text_first_names((enum demo_group)ag->group,
                                                          ag->female).v[ag->first],
                                    demo_text_last_names((enum demo_group)ag->group).v[ag->last]),
                        sizeof name);
        if (rc)
            return rc;
        json_t *r = record(g, R_EMPLOYEE, g->start);
        set_str(g, r, "employee_id", id);
        set_str(g, r, "name", name);
        set_str(g, r, "team", team_names[ag->team]);
        set_str(g, r, "role", a == g->team_first[ag->team] ? "team_lead" : "agent");
        if ((rc = emit(g, r)))
            return rc;
    }
    return CXM_OK;
}

/* ---- the schedule: a binary min-heap of people by (next, index) ---------------------------- */

static bool before(const struct gen *g, uint32_t a, uint32_t b)
{
    int64_t ta = g->p[a].next, tb = g->p[b].next;
    return ta < tb || (ta == tb && a < b);
}

static void sift_down(struct gen *g, size_t k)
{
    uint32_t v = g->heap[k];
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= g->nheap)
            break;
        if (c + 1 < g->nheap && before(g, g->heap[c + 1], g->heap[c]))
            c++;
        if (!before(g, g->heap[c], v))
            break;
        g->heap[k] = g->heap[c];
        k = c;
    }
    g->heap[k] = v;
}

static int run(struct gen *g)
{
    while (g->nheap) {
        uint32_t i = g->heap[0];
        struct person *p = &g->p[i];
        int64_t now = p->next;
        int rc = p->mode == M_SHOP ? step_shop(g, i, now)
               : p->mode == M_SUPPORT ? step_support(g, i, now)
               : step_other(g, i, now);
        if (rc)
            return rc;
        /* Every step moves its person's clock on, so the loop ends. */
        if (p->next <= now)
            p->next = now + 1;
        if (p->next > g->end)
            g->heap[0] = g->heap[--g->nheap];
        if (g->nheap)
            sift_down(g, 0);
    }
    return CXM_OK;
}

void demo_opts_init(struct demo_opts *o, int64_t end_ts)
{
    o->customers = DEMO_DEFAULT_CUSTOMERS;
    o->seed = DEMO_DEFAULT_SEED;
    o->end_ts = end_ts;
}

int demo_generate(const struct demo_opts *o, demo_emit_fn emit_fn, void *ctx,
                  struct cxm_err *err)
{
    if (!o || !emit_fn)
        return cxm_err_set(err, CXM_EINVAL, "demo_generate needs options and a callback");
    if (o->end_ts < END_MIN || o->end_ts > END_MAX)
        return cxm_err_set(err, CXM_EINVAL, "demo end %lld is outside 1973..9999",
                           (long long)o->end_ts);
    if (o->customers > DEMO_MAX_CUSTOMERS)
        return cxm_err_set(err, CXM_EINVAL, "demo wants at most %d customers, not %zu",
                           DEMO_MAX_CUSTOMERS, o->customers);
    struct gen g = {.emit = emit_fn, .ctx = ctx, .err = err, .seed = o->seed,
                    .n = o->customers ? o->customers : DEMO_DEFAULT_CUSTOMERS,
                    .end = o->end_ts,
                    .start = o->end_ts - (int64_t)WINDOW_DAYS * DAY};
    int rc = CXM_OK;
    g.p = cxm_calloc(g.n, sizeof *g.p);
    g.heap = cxm_calloc(g.n, sizeof *g.heap);
    if (!g.p || !g.heap) {
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory for %zu people", g.n);
        goto done;
    }
    if ((rc = agents_init(&g)) || (rc = employees(&g)))
        goto done;
    for (size_t i = 0; i < g.n; i++) {
        person_init(&g, i);
        g.heap[i] = (uint32_t)i;
    }
    g.nheap = g.n;
    for (size_t k = g.n / 2; k-- > 0;)
        sift_down(&g, k);
    rc = run(&g);
done:
    free(g.p);
    free(g.heap);
    free(g.agents);
    return rc;
}
