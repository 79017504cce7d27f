/* gen.c - the canonical data set of bench/analytics, deterministic: the
 * same sizes and seed give the same bytes on any machine (integer PRNG,
 * no libm beyond sqrt, which IEEE 754 rounds exactly).
 *
 *   gen OUTDIR CUSTOMERS FEEDBACK EXTRA [SEED]
 *
 * writes OUTDIR/customers.csv (crm,country,birth_year,gender),
 * OUTDIR/feedback.csv (event_id,ts,crm,kind,score,channel,touchpoint,stage:
 * FEEDBACK responses over the two years before 2026-07-01T00:00:00Z, in
 * time order), OUTDIR/extra.csv (EXTRA more responses over the same two
 * years: late arrivals for the "more data" measure) and OUTDIR/q4 (the
 * two customers Q4 asks about: a typical one and the most active one).
 *
 * The skew: answers per customer follow a 70/30 mix of uniform and a
 * power law (the most active customer answers some thousand times at the
 * full size, many never); channels, touchpoints (Zipf), stages, kinds and
 * countries have uneven volumes; scores lean high (NPS about +20, CSAT
 * about 70% satisfied) and move with the channel, the customer's mood and
 * a slow improvement over the two years; volume grows 50% over the period.
 * Some cells are empty: country, birth year and gender of a few customers,
 * touchpoint and stage of a few responses. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../canon.h"

#define END_TS 1782864000u               /* 2026-07-01T00:00:00Z, excluded */
#define START_TS 1719792000u             /* 2024-07-01T00:00:00Z */

enum { K_NPS, K_CSAT, K_CES };
static const char *const kinds[] = {"nps", "csat", "ces"};
static const unsigned kind_w[] = {40, 45, 15};
static const int score_lo[] = {0, 1, 1}, score_hi[] = {10, 5, 7};
static const char *const nps_names[] = {"0", "1", "2", "3", "4", "5", "6", "7",
                                        "8", "9", "10"};
static const unsigned nps_w[] = {3, 2, 2, 3, 3, 5, 7, 12, 18, 22, 23};
static const unsigned csat_w[] = {6, 8, 14, 36, 36};
static const unsigned ces_w[] = {22, 26, 20, 13, 9, 6, 4};

static const char *const channels[] = {"web", "app", "email", "store", "phone",
                                       "chat", "social", "sms"};
static const unsigned channel_w[] = {30, 24, 15, 11, 8, 7, 3, 2};
/* how each channel moves scores: phone and social answers run lower */
static const int channel_bias[] = {0, 1, 0, 1, -1, 0, -1, 0};

static const char *const touchpoints[] = {
    "checkout", "delivery", "product-page", "search", "returns", "login",
    "signup", "billing", "support-call", "live-chat", "order-tracking",
    "cart", "payment", "invoice", "refund", "store-visit", "click-collect",
    "newsletter", "promo-email", "loyalty-program", "app-home", "push-offer",
    "reviews", "wishlist", "size-guide", "faq", "password-reset",
    "account-settings", "subscription", "cancellation", "installation",
    "warranty", "repair", "trade-in", "gift-card", "price-match",
    "store-pickup", "social-dm", "community", "survey-landing", ""};
static unsigned touchpoint_w[COUNT(touchpoints)];
static const char *const stages[] = {"awareness", "consideration", "purchase",
                                     "onboarding", "usage", "support", ""};
static const unsigned stage_w[] = {5, 10, 29, 10, 25, 18, 3};

static struct table t_kind = {COUNT(kinds), kinds, kind_w, 0};
static struct table t_score[3] = {{COUNT(nps_w), nps_names, nps_w, 0},
                                  {COUNT(csat_w), nps_names, csat_w, 0},
                                  {COUNT(ces_w), nps_names, ces_w, 0}};
static struct table t_channel = {COUNT(channels), channels, channel_w, 0};
static struct table t_touchpoint = {COUNT(touchpoints), touchpoints, touchpoint_w, 0};
static struct table t_stage = {COUNT(stages), stages, stage_w, 0};

struct resp {
    uint32_t ts, cust;
    uint8_t kind, score, channel, touchpoint, stage;
};

static int resp_cmp(const void *pa, const void *pb)
{
    const struct resp *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->cust < b->cust ? -1 : a->cust > b->cust;
}

/* A customer's lasting mood, -2..2, from its number alone. */
static int mood_of(uint32_t cust, uint64_t seed)
{
    uint64_t x = seed ^ ((uint64_t)cust << 20);
    static const int m[10] = {-2, -1, -1, 0, 0, 0, 0, 1, 1, 2};
    return m[splitmix(&x) % 10];
}

static void gen_resp(struct rng *r, uint32_t ncust, uint64_t pmul, uint64_t seed,
                     struct resp *o)
{
    /* who: 70% anyone, 30% a power law over a scrambled order */
    uint64_t idx;
    if (rng_below(r, 10) < 7) {
        idx = rng_below(r, ncust);
    } else {
        double u = rng_unit(r);
        idx = (uint64_t)(u * u * (double)ncust);
        if (idx >= ncust)
            idx = ncust - 1;
    }
    o->cust = (uint32_t)(idx * pmul % ncust) + 1;
    /* when: density 1 + a t over the period (volume grows by a) */
    const double a = 0.5;
    double u = rng_unit(r);
    double t = (-1.0 + sqrt(1.0 + 2.0 * a * u * (1.0 + a / 2.0))) / a;
    uint32_t span = END_TS - START_TS;
    uint32_t off = (uint32_t)(t * span);
    o->ts = START_TS + (off < span ? off : span - 1);
    o->kind = (uint8_t)pick(r, &t_kind);
    o->channel = (uint8_t)pick(r, &t_channel);
    o->touchpoint = (uint8_t)pick(r, &t_touchpoint);
    o->stage = (uint8_t)pick(r, &t_stage);
    int k = o->kind;
    int s = score_lo[k] + pick(r, &t_score[k]);
    int shift = mood_of(o->cust, seed) + channel_bias[o->channel] +
                (rng_unit(r) < 0.15 * t ? 1 : 0);
    if (k == K_CES)
        shift = -shift;             /* lower effort is better */
    if (shift && rng_below(r, 10) < 4) {
        s += shift > 2 ? 2 : shift < -2 ? -2 : shift;
        s = s < score_lo[k] ? score_lo[k] : s > score_hi[k] ? score_hi[k] : s;
    }
    o->score = (uint8_t)s;
}

static void write_resps(FILE *f, const struct resp *v, size_t n, uint64_t first_id)
{
    fputs("event_id,ts,crm,kind,score,channel,touchpoint,stage\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct resp *x = &v[i];
        fprintf(f, "F%09" PRIu64 ",%" PRIu32 ",C%07" PRIu32 ",%s,%d,%s,%s,%s\n",
                first_id + i, x->ts, x->cust, kinds[x->kind], x->score,
                channels[x->channel], touchpoints[x->touchpoint], stages[x->stage]);
    }
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: gen OUTDIR CUSTOMERS FEEDBACK EXTRA [SEED]\n");
        return 2;
    }
    const char *dir = argv[1];
    uint32_t ncust = (uint32_t)arg_count(argv[2], "customer count");
    size_t nfb = (size_t)arg_count(argv[3], "feedback count");
    size_t nextra = (size_t)arg_count(argv[4], "extra count");
    uint64_t seed = argc == 6 ? arg_count(argv[5], "seed") : 20260630;
    if (ncust < 1 || ncust > 9999999) {
        fprintf(stderr, "gen: 1-9999999 customers (crm C0000001...)\n");
        return 2;
    }
    for (int i = 0; i < t_touchpoint.n - 1; i++)   /* Zipf, s = 0.9 */
        touchpoint_w[i] = (unsigned)(10000.0 / pow((double)i + 1.0, 0.9));
    touchpoint_w[t_touchpoint.n - 1] = 400;        /* empty: about 2% */
    table_init(&t_country);
    table_init(&t_gender);
    table_init(&t_kind);
    for (int k = 0; k < 3; k++)
        table_init(&t_score[k]);
    table_init(&t_channel);
    table_init(&t_touchpoint);
    table_init(&t_stage);

    struct rng r;
    rng_seed(&r, seed);
    write_customers(dir, &r, ncust);

    /* multiplier for the scrambled order: a prime above any count, so
     * coprime with ncust, which makes idx -> idx * p mod n a permutation */
    uint64_t pmul = 4294967291u % ncust;
    if (pmul == 0)
        pmul = 1;
    size_t total = nfb + nextra;
    struct resp *v = malloc((total ? total : 1) * sizeof *v);
    uint32_t *nps_n = calloc((size_t)ncust + 1, sizeof *nps_n);
    if (!v || !nps_n) {
        fprintf(stderr, "gen: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < total; i++)
        gen_resp(&r, ncust, pmul, seed, &v[i]);
    qsort(v, nfb, sizeof *v, resp_cmp);
    qsort(v + nfb, nextra, sizeof *v, resp_cmp);
    FILE *f = open_out(dir, "feedback.csv");
    write_resps(f, v, nfb, 1);
    close_out(f);
    f = open_out(dir, "extra.csv");
    write_resps(f, v + nfb, nextra, (uint64_t)nfb + 1);
    close_out(f);

    /* Q4's customers: typical = the lowest-numbered one with the median
     * number of NPS answers among those with any; heavy = the most NPS
     * answers (lowest number on a tie). */
    for (size_t i = 0; i < nfb; i++)
        if (v[i].kind == K_NPS)
            nps_n[v[i].cust]++;
    uint32_t maxn = 0, heavy = 1;
    size_t nwith = 0;
    for (uint32_t c = 1; c <= ncust; c++) {
        if (nps_n[c] > maxn) {
            maxn = nps_n[c];
            heavy = c;
        }
        nwith += nps_n[c] > 0;
    }
    uint32_t *hist = calloc((size_t)maxn + 1, sizeof *hist);
    if (!hist) {
        fprintf(stderr, "gen: out of memory\n");
        return 1;
    }
    for (uint32_t c = 1; c <= ncust; c++)
        hist[nps_n[c]]++;
    uint32_t med = 1;
    for (size_t seen = 0; med <= maxn; med++)
        if ((seen += hist[med]) * 2 >= nwith)
            break;
    uint32_t typical = 1;
    while (typical < ncust && nps_n[typical] != med)
        typical++;
    f = open_out(dir, "q4");
    fprintf(f, "C%07" PRIu32 " %" PRIu32 "\nC%07" PRIu32 " %" PRIu32 "\n",
            typical, nps_n[typical], heavy, nps_n[heavy]);
    close_out(f);
    free(hist);
    free(nps_n);
    free(v);
    return 0;
}
