/* gen.c - the data set of bench/journeys, deterministic: the same sizes
 * and seed give the same bytes on any machine (xoshiro256**, integer
 * arithmetic only).
 *
 *   gen OUTDIR CUSTOMERS INTERACTIONS [SEED]
 *
 * writes OUTDIR/customers.csv (crm,country,birth_year,gender: byte for
 * byte what bench/analytics/gen.c writes for the same count and seed, the
 * canonical customers) and OUTDIR/interactions.csv
 * (event_id,ts,crm,channel,touchpoint,stage,kind: INTERACTIONS rows over
 * the two years before 2026-07-01T00:00:00Z, in time order; the number in
 * event_id is the row's position in the file, 1-based).
 *
 * Who: interactions per customer follow the same 70/30 mix of uniform and
 * power law as bench/analytics (the most active customer has some
 * thousands, many have none). Each customer's interactions come as
 * sessions: a walk over a touchpoint graph (homepage, search,
 * product_page, cart, checkout, help_center, live_chat, call_center,
 * order_status, returns_portal, ...) that starts where the customer's
 * phase sends it (new, considering, just bought, customer) and exits with
 * a probability at every step (drop-outs: most sessions never reach the
 * checkout). The stage follows the touchpoint (homepage is awareness for
 * a new customer, consideration later). Events in a session are seconds
 * to minutes apart, about 0.7% at the same second as the one before
 * (exact ties); sessions are hours to months apart, 1% exactly 30 days
 * (the same episode) and 1% 30 days and a second (a new one). A customer
 * whose sessions would not fit the two years has its gaps between
 * sessions scaled down. Noise: 2% of events without a stage; events
 * without a touchpoint (email opens, purchases completed by phone); a
 * session switches from the customer's usual web or app now and then. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../canon.h"

#define END_TS 1782864000u               /* 2026-07-01T00:00:00Z, excluded */
#define START_TS 1719792000u             /* 2024-07-01T00:00:00Z */
#define DAY 86400u
#define GAP (30u * DAY)
#define MAX_SESSION 30

/* ---- the journeys ----------------------------------------------------- */

enum tp {
    T_NONE, T_HOMEPAGE, T_SOCIAL_AD, T_EMAIL_CAMPAIGN, T_SEARCH, T_PRODUCT_PAGE,
    T_REVIEWS, T_CART, T_CHECKOUT, T_ORDER_CONFIRMATION, T_ORDER_STATUS,
    T_DELIVERY_TRACKING, T_ACCOUNT_SETUP, T_APP_HOME, T_HELP_CENTER, T_LIVE_CHAT,
    T_CALL_CENTER, T_RETURNS_PORTAL, T_LOYALTY_PORTAL, T_NEWSLETTER, T_STORE_VISIT,
    T_COUNT
};
static const char *const tp_name[T_COUNT] = {
    "", "homepage", "social_ad", "email_campaign", "search", "product_page",
    "reviews", "cart", "checkout", "order_confirmation", "order_status",
    "delivery_tracking", "account_setup", "app_home", "help_center", "live_chat",
    "call_center", "returns_portal", "loyalty_portal", "newsletter", "store_visit"};

enum stage { S_NONE, S_AWARENESS, S_CONSIDERATION, S_PURCHASE, S_ONBOARDING, S_SUPPORT,
             S_LOYALTY, S_COUNT };
static const char *const stage_name[S_COUNT] = {"", "awareness", "consideration",
                                                "purchase", "onboarding", "support",
                                                "loyalty"};

enum channel { C_WEB, C_APP, C_EMAIL, C_PHONE, C_CHAT, C_SOCIAL, C_STORE, C_COUNT };
static const char *const channel_name[C_COUNT] = {"web", "app", "email", "phone", "chat",
                                                  "social", "store"};

enum kind { K_PAGE_VIEW, K_CLICK, K_EMAIL_OPEN, K_CALL, K_CHAT, K_PURCHASE, K_VISIT,
            K_COUNT };
static const char *const kind_name[K_COUNT] = {"page_view", "click", "email_open", "call",
                                               "chat", "purchase", "visit"};

/* Where a touchpoint leads: {next, weight} pairs, T_NONE = the session
 * ends. Self transitions (product_page, product_page) are repeats. */
struct step { uint8_t to, w; };
static const struct step next_of[T_COUNT][8] = {
    [T_HOMEPAGE] = {{T_SEARCH, 30}, {T_PRODUCT_PAGE, 25}, {T_HOMEPAGE, 5},
                    {T_HELP_CENTER, 5}, {T_LOYALTY_PORTAL, 3}, {T_NONE, 32}},
    [T_SOCIAL_AD] = {{T_HOMEPAGE, 20}, {T_PRODUCT_PAGE, 40}, {T_NONE, 40}},
    [T_EMAIL_CAMPAIGN] = {{T_PRODUCT_PAGE, 35}, {T_HOMEPAGE, 25}, {T_NONE, 40}},
    [T_SEARCH] = {{T_PRODUCT_PAGE, 50}, {T_SEARCH, 15}, {T_HOMEPAGE, 5}, {T_NONE, 30}},
    [T_PRODUCT_PAGE] = {{T_PRODUCT_PAGE, 25}, {T_REVIEWS, 12}, {T_CART, 18}, {T_SEARCH, 12},
                        {T_HOMEPAGE, 5}, {T_NONE, 28}},
    [T_REVIEWS] = {{T_PRODUCT_PAGE, 40}, {T_CART, 15}, {T_NONE, 45}},
    [T_CART] = {{T_CHECKOUT, 45}, {T_PRODUCT_PAGE, 15}, {T_CART, 5}, {T_NONE, 35}},
    [T_CHECKOUT] = {{T_ORDER_CONFIRMATION, 70}, {T_HELP_CENTER, 5}, {T_LIVE_CHAT, 5},
                    {T_CHECKOUT, 5}, {T_NONE, 15}},
    [T_ORDER_CONFIRMATION] = {{T_ORDER_STATUS, 15}, {T_NONE, 85}},
    [T_ORDER_STATUS] = {{T_DELIVERY_TRACKING, 30}, {T_ORDER_STATUS, 10},
                        {T_HELP_CENTER, 10}, {T_NONE, 50}},
    [T_DELIVERY_TRACKING] = {{T_DELIVERY_TRACKING, 10}, {T_HELP_CENTER, 10},
                             {T_CALL_CENTER, 5}, {T_NONE, 75}},
    [T_ACCOUNT_SETUP] = {{T_APP_HOME, 30}, {T_ACCOUNT_SETUP, 5}, {T_NONE, 65}},
    [T_APP_HOME] = {{T_PRODUCT_PAGE, 30}, {T_SEARCH, 20}, {T_ORDER_STATUS, 10},
                    {T_LOYALTY_PORTAL, 10}, {T_NONE, 30}},
    [T_HELP_CENTER] = {{T_HELP_CENTER, 15}, {T_LIVE_CHAT, 20}, {T_CALL_CENTER, 10},
                       {T_RETURNS_PORTAL, 15}, {T_NONE, 40}},
    [T_LIVE_CHAT] = {{T_CALL_CENTER, 15}, {T_LIVE_CHAT, 5}, {T_NONE, 80}},
    [T_CALL_CENTER] = {{T_CALL_CENTER, 10}, {T_NONE, 90}},
    [T_RETURNS_PORTAL] = {{T_HELP_CENTER, 10}, {T_CALL_CENTER, 10}, {T_NONE, 80}},
    [T_LOYALTY_PORTAL] = {{T_NEWSLETTER, 10}, {T_PRODUCT_PAGE, 20}, {T_NONE, 70}},
    [T_NEWSLETTER] = {{T_PRODUCT_PAGE, 30}, {T_HOMEPAGE, 10}, {T_NONE, 60}},
    [T_STORE_VISIT] = {{T_CHECKOUT, 25}, {T_STORE_VISIT, 5}, {T_NONE, 70}},
};

/* A customer's phase: where its sessions start. */
enum phase { P_NEW, P_CONSIDERING, P_BOUGHT, P_CUSTOMER, P_COUNT };
static const struct step entry_of[P_COUNT][10] = {
    [P_NEW] = {{T_HOMEPAGE, 35}, {T_SOCIAL_AD, 25}, {T_EMAIL_CAMPAIGN, 10}, {T_SEARCH, 25},
               {T_STORE_VISIT, 5}},
    [P_CONSIDERING] = {{T_HOMEPAGE, 25}, {T_SEARCH, 30}, {T_PRODUCT_PAGE, 20},
                       {T_EMAIL_CAMPAIGN, 10}, {T_APP_HOME, 5}, {T_STORE_VISIT, 5},
                       {T_REVIEWS, 5}},
    [P_BOUGHT] = {{T_ORDER_STATUS, 40}, {T_DELIVERY_TRACKING, 25}, {T_ACCOUNT_SETUP, 20},
                  {T_HELP_CENTER, 10}, {T_APP_HOME, 5}},
    [P_CUSTOMER] = {{T_HELP_CENTER, 22}, {T_LIVE_CHAT, 8}, {T_CALL_CENTER, 10},
                    {T_RETURNS_PORTAL, 8}, {T_LOYALTY_PORTAL, 14}, {T_NEWSLETTER, 10},
                    {T_HOMEPAGE, 15}, {T_APP_HOME, 8}, {T_SEARCH, 5}},
};

static int walk(struct rng *r, const struct step *s, int n)
{
    unsigned total = 0;
    for (int i = 0; i < n && s[i].w; i++)
        total += s[i].w;
    uint32_t x = rng_below(r, total);
    for (int i = 0; i < n && s[i].w; i++) {
        if (x < s[i].w)
            return s[i].to;
        x -= s[i].w;
    }
    return T_NONE;
}

static uint8_t stage_of(int tp, int phase)
{
    switch (tp) {
    case T_HOMEPAGE: return phase == P_NEW ? S_AWARENESS : S_CONSIDERATION;
    case T_SOCIAL_AD: case T_EMAIL_CAMPAIGN: return S_AWARENESS;
    case T_SEARCH: case T_PRODUCT_PAGE: case T_REVIEWS: case T_CART: case T_STORE_VISIT:
        return S_CONSIDERATION;
    case T_CHECKOUT: case T_ORDER_CONFIRMATION: return S_PURCHASE;
    case T_ORDER_STATUS: case T_DELIVERY_TRACKING: case T_ACCOUNT_SETUP:
        return S_ONBOARDING;
    case T_APP_HOME: return phase == P_BOUGHT ? S_ONBOARDING : S_LOYALTY;
    case T_HELP_CENTER: case T_LIVE_CHAT: case T_CALL_CENTER: case T_RETURNS_PORTAL:
        return S_SUPPORT;
    case T_LOYALTY_PORTAL: case T_NEWSLETTER: return S_LOYALTY;
    default: return S_NONE;
    }
}

struct ev {
    uint32_t ts, cust, idx;           /* idx: generation order, ties in time */
    uint8_t tp, stage, channel, kind;
};

static int ev_cmp(const void *pa, const void *pb)
{
    const struct ev *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* One customer's events: each with the time since the one before, of one
 * of three sorts (within a session, a gap between sessions, an exact
 * 30-day (+1 s) gap that scaling keeps). */
enum { D_INNER, D_SESSION, D_FIXED };
struct cust_ev {
    uint32_t delta;
    uint8_t sort, tp, stage, channel, kind;
};

static struct cust_ev *cbuf;
static size_t ccap;

static void cust_push(size_t k, uint32_t delta, int sort, int tp, int stage, int channel,
                      int kind)
{
    if (k >= ccap) {
        ccap = ccap ? 2 * ccap : 1024;
        cbuf = realloc(cbuf, ccap * sizeof *cbuf);
        if (!cbuf) {
            fprintf(stderr, "gen: out of memory\n");
            exit(1);
        }
    }
    cbuf[k] = (struct cust_ev){delta, (uint8_t)sort, (uint8_t)tp, (uint8_t)stage,
                               (uint8_t)channel, (uint8_t)kind};
}

static uint32_t session_gap(struct rng *r, int *sort)
{
    uint32_t x = rng_below(r, 100);
    *sort = D_SESSION;
    if (x < 35)                                   /* hours */
        return 3600 + rng_below(r, 23 * 3600);
    if (x < 65)                                   /* days */
        return DAY + rng_below(r, 13 * DAY);
    if (x < 85)                                   /* weeks, under the gap */
        return 14 * DAY + rng_below(r, 16 * DAY);
    if (x < 98)                                   /* months: a new episode */
        return GAP + 1 + rng_below(r, 150 * DAY);
    *sort = D_FIXED;                              /* at the threshold */
    return x == 98 ? GAP : GAP + 1;
}

/* Generates the n events of customer c into out (absolute times). */
static size_t gen_customer(struct rng *r, uint32_t c, uint32_t n, struct ev *out,
                           uint32_t *idx)
{
    int phase = (int)rng_below(r, 10);
    phase = phase < 7 ? P_NEW : phase < 9 ? P_CONSIDERING : P_CUSTOMER;
    int pref = rng_below(r, 100) < 55 ? C_WEB : C_APP;
    size_t k = 0;
    uint32_t next_gap = 0;
    int next_sort = D_INNER;
    while (k < n) {
        int tp = walk(r, entry_of[phase], 10);
        int sch = rng_below(r, 100) < 8 ? (pref == C_WEB ? C_APP : C_WEB) : pref;
        if (tp == T_STORE_VISIT)
            sch = C_STORE;
        bool bought = false, shopped = false, onboarded = false;
        for (int len = 0; k < n && tp != T_NONE; len++) {
            uint32_t delta = next_gap;
            int sort = next_sort;
            if (len > 0) {
                /* seconds to minutes; about 0.7% at the same second */
                delta = rng_below(r, 150) == 0 ? 0
                      : 5 + rng_below(r, 60) + rng_below(r, 20) * rng_below(r, 30);
                sort = D_INNER;
            }
            int ch = sch;
            int kind = K_PAGE_VIEW;
            switch (tp) {
            case T_CALL_CENTER: ch = C_PHONE; kind = K_CALL; break;
            case T_LIVE_CHAT: ch = C_CHAT; kind = K_CHAT; break;
            case T_EMAIL_CAMPAIGN: ch = C_EMAIL; kind = K_CLICK; break;
            case T_NEWSLETTER: ch = C_EMAIL; kind = K_EMAIL_OPEN; break;
            case T_SOCIAL_AD: ch = C_SOCIAL; kind = K_CLICK; break;
            case T_STORE_VISIT: ch = C_STORE; kind = K_VISIT; break;
            case T_ORDER_CONFIRMATION: kind = K_PURCHASE; break;
            default: break;
            }
            int st = rng_below(r, 50) == 0 ? S_NONE : stage_of(tp, phase);
            cust_push(k++, delta, sort, tp, st, ch, kind);
            bought |= tp == T_ORDER_CONFIRMATION;
            shopped |= tp == T_PRODUCT_PAGE || tp == T_SEARCH || tp == T_CART;
            onboarded |= stage_of(tp, phase) == S_ONBOARDING;
            /* events without a touchpoint: a checkout completed by phone
             * (a purchase; the session ends), an email opened */
            if (k < n && tp == T_CHECKOUT && rng_below(r, 12) == 0) {
                cust_push(k++, 60 + rng_below(r, 600), D_INNER, T_NONE, S_PURCHASE, C_PHONE,
                          K_PURCHASE);
                bought = true;
                break;
            }
            if (k < n && rng_below(r, 80) == 0)
                cust_push(k++, rng_below(r, 3) == 0 ? 0 : 30 + rng_below(r, 300), D_INNER,
                          T_NONE, phase == P_NEW ? S_AWARENESS : S_LOYALTY, C_EMAIL,
                          K_EMAIL_OPEN);
            tp = len + 1 >= MAX_SESSION ? T_NONE : walk(r, next_of[tp], 8);
        }
        if (bought)
            phase = P_BOUGHT;
        else if (phase == P_NEW && shopped)
            phase = P_CONSIDERING;
        else if (phase == P_BOUGHT && onboarded && rng_below(r, 2))
            phase = P_CUSTOMER;
        else if (phase == P_CUSTOMER && rng_below(r, 10) == 0)
            phase = P_CONSIDERING;
        next_gap = session_gap(r, &next_sort);
    }
    /* the gaps between sessions scaled down when the whole does not fit
     * the period; the exact 30-day gaps kept while they take at most half */
    const uint64_t period = END_TS - START_TS - 1;
    uint64_t sum[3] = {0, 0, 0};
    for (size_t i = 1; i < k; i++)
        sum[cbuf[i].sort] += cbuf[i].delta;
    bool keep_fixed = sum[D_INNER] + sum[D_FIXED] <= period / 2;
    uint64_t var = sum[D_SESSION] + (keep_fixed ? 0 : sum[D_FIXED]);
    uint64_t room = period - sum[D_INNER] - (keep_fixed ? sum[D_FIXED] : 0);
    uint64_t t = 0;
    for (size_t i = 1; i < k; i++) {
        uint64_t d = cbuf[i].delta;
        if (cbuf[i].sort == D_SESSION || (cbuf[i].sort == D_FIXED && !keep_fixed))
            d = var <= room ? d : d * room / var;
        t += d;
        cbuf[i].delta = (uint32_t)t;             /* now: offset from the first */
    }
    if (k)
        cbuf[0].delta = 0;
    uint32_t start = START_TS + rng_below(r, (uint32_t)(period - t + 1));
    for (size_t i = 0; i < k; i++)
        out[i] = (struct ev){start + cbuf[i].delta, c, (*idx)++, cbuf[i].tp, cbuf[i].stage,
                             cbuf[i].channel, cbuf[i].kind};
    return k;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: gen OUTDIR CUSTOMERS INTERACTIONS [SEED]\n");
        return 2;
    }
    const char *dir = argv[1];
    uint32_t ncust = (uint32_t)arg_count(argv[2], "customer count");
    size_t nint = (size_t)arg_count(argv[3], "interaction count");
    uint64_t seed = argc == 5 ? arg_count(argv[4], "seed") : 20260630;
    if (ncust < 1 || ncust > 9999999) {
        fprintf(stderr, "gen: 1-9999999 customers (crm C0000001...)\n");
        return 2;
    }
    table_init(&t_country);
    table_init(&t_gender);

    struct rng r;
    rng_seed(&r, seed);
    write_customers(dir, &r, ncust);

    /* interactions per customer: 70% anyone, 30% a power law over a
     * scrambled order (as bench/analytics picks who answers) */
    uint64_t pmul = 4294967291u % ncust;
    if (pmul == 0)
        pmul = 1;
    uint32_t *cnt = calloc((size_t)ncust + 1, sizeof *cnt);
    struct ev *v = malloc((nint ? nint : 1) * sizeof *v);
    if (!cnt || !v) {
        fprintf(stderr, "gen: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < nint; i++) {
        uint64_t idx;
        if (rng_below(&r, 10) < 7) {
            idx = rng_below(&r, ncust);
        } else {
            /* u * u * n with u in [0, 1): integer form of the same law */
            uint64_t u = rng_next(&r) >> 32;
            idx = (u * u >> 32) * ncust >> 32;
            if (idx >= ncust)
                idx = ncust - 1;
        }
        cnt[idx * pmul % ncust + 1]++;
    }
    size_t n = 0;
    uint32_t idx = 0;
    for (uint32_t c = 1; c <= ncust; c++)
        if (cnt[c])
            n += gen_customer(&r, c, cnt[c], v + n, &idx);
    if (n != nint) {
        fprintf(stderr, "gen: %zu events, not %zu\n", n, nint);
        return 1;
    }
    qsort(v, n, sizeof *v, ev_cmp);
    FILE *f = open_out(dir, "interactions.csv");
    fputs("event_id,ts,crm,channel,touchpoint,stage,kind\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct ev *x = &v[i];
        fprintf(f, "I%09zu,%" PRIu32 ",C%07" PRIu32 ",%s,%s,%s,%s\n", i + 1, x->ts, x->cust,
                channel_name[x->channel], tp_name[x->tp], stage_name[x->stage],
                kind_name[x->kind]);
    }
    close_out(f);
    free(v);
    free(cnt);
    free(cbuf);
    return 0;
}
