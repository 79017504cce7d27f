/* gen.c - the canonical orders of bench/recommend, deterministic: the same
 * size and seed give the same bytes on any machine (xoshiro256**, integer
 * arithmetic only).
 *
 *   gen OUT.csv [CUSTOMERS [SEED]]      (default 1,000,000 and 42)
 *
 * writes customer,ts,sku,category: one row per line item, customers 1..N
 * in order, each customer's orders in time order, the lines of an order
 * on one ts (whole seconds in the two years before 2026-07-01T00:00:00Z;
 * a customer's orders at least a second apart).
 *
 * The catalogue: 2,000 items in 20 categories of 50 to 200 items. Items
 * are sku 100001..102000 in a shuffled order (the code says nothing about
 * category or popularity); categories are 1..20.
 * Popularity: categories have Zipf weights (1/(c+1)), and within a
 * category the item of rank r has weight 1/(r+1) (Zipf, s = 1).
 * Taste: each customer has one favourite category (60%) or two (40%),
 * drawn by category weight. A line item comes from a favourite 80% of the
 * time (the first 65%, the second 35%), otherwise from any category by
 * weight; then an item of that category by rank.
 * Complements: every item has a companion, 70% in its own category, 30%
 * in its category's fixed complementary category (rank by Zipf there).
 * After an item is added to an order, its companion joins the same order
 * with probability 30% when the order has room.
 * Orders per customer: 1 (45%), 2 (22%), 3 (13%), 4 (8%), 5 (5%), 6..12
 * (1% each): mean 2.5. Lines per order: 1 to 4 (40/30/18/12%), distinct
 * items within an order; the same item may come back in a later order.
 * Times: the first order in the first 16 months, then gaps of 1 to 90
 * days, squeezed when they would pass the end. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rng.h"

#define END_TS 1782864000u               /* 2026-07-01T00:00:00Z, excluded */
#define START_TS 1719792000u             /* 2024-07-01T00:00:00Z */
#define DAY 86400u
#define NCAT 20
#define MAX_ORDERS 12
#define MAX_LINES 4
#define SKU_BASE 100001u

/* A cumulative integer weight table: pick returns i with probability
 * w[i] / total. */
struct cdf {
    uint32_t n;
    uint64_t *cum;      /* cum[i] = w[0] + ... + w[i] */
};

static void *xmalloc(size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    if (!p) {
        fprintf(stderr, "gen: out of memory\n");
        exit(1);
    }
    return p;
}

/* Zipf, s = 1: weight 2^30 / (r + 1), integer. */
static void cdf_zipf(struct cdf *c, uint32_t n)
{
    c->n = n;
    c->cum = xmalloc(n * sizeof *c->cum);
    uint64_t acc = 0;
    for (uint32_t r = 0; r < n; r++)
        c->cum[r] = acc += (UINT64_C(1) << 30) / (r + 1);
}

static uint32_t cdf_pick(struct rng *r, const struct cdf *c)
{
    uint64_t total = c->cum[c->n - 1];
    /* 64-bit draw modulo a total under 2^40: bias below 2^-24 */
    uint64_t x = rng_next(r) % total;
    uint32_t lo = 0, hi = c->n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static uint32_t pick_small(struct rng *r, const unsigned *w, uint32_t n)
{
    unsigned total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += w[i];
    uint32_t x = rng_below(r, total);
    for (uint32_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

/* Items per category, largest first: 2,000 in all. */
static const uint32_t cat_size[NCAT] = {200, 170, 150, 140, 130, 120, 110, 100, 100, 100,
                                        90,  90,  80,  80,  70,  60,  60,  50,  50,  50};
static const unsigned orders_w[MAX_ORDERS] = {45, 22, 13, 8, 5, 1, 1, 1, 1, 1, 1, 1};
static const unsigned lines_w[MAX_LINES] = {40, 30, 18, 12};

struct catalogue {
    uint32_t nitems;
    uint32_t first[NCAT];          /* category c: items first[c] .. + cat_size[c] */
    struct cdf cat;                /* category weights */
    struct cdf rank[NCAT];         /* item rank within a category */
    uint32_t *sku;                 /* item -> sku (shuffled) */
    uint32_t *cat_of;              /* item -> category */
    uint32_t *companion;           /* item -> its companion item */
    uint32_t comp_cat[NCAT];       /* category -> its complementary category */
};

static uint32_t draw_in(struct rng *r, const struct catalogue *k, uint32_t c)
{
    return k->first[c] + cdf_pick(r, &k->rank[c]);
}

static void catalogue_make(struct catalogue *k, struct rng *r)
{
    k->nitems = 0;
    for (uint32_t c = 0; c < NCAT; c++) {
        k->first[c] = k->nitems;
        k->nitems += cat_size[c];
        cdf_zipf(&k->rank[c], cat_size[c]);
    }
    cdf_zipf(&k->cat, NCAT);
    k->sku = xmalloc(k->nitems * sizeof *k->sku);
    k->cat_of = xmalloc(k->nitems * sizeof *k->cat_of);
    k->companion = xmalloc(k->nitems * sizeof *k->companion);
    for (uint32_t i = 0; i < k->nitems; i++)
        k->sku[i] = SKU_BASE + i;
    for (uint32_t i = k->nitems - 1; i > 0; i--) {     /* Fisher-Yates */
        uint32_t j = rng_below(r, i + 1), t = k->sku[i];
        k->sku[i] = k->sku[j];
        k->sku[j] = t;
    }
    for (uint32_t c = 0; c < NCAT; c++) {
        for (uint32_t i = 0; i < cat_size[c]; i++)
            k->cat_of[k->first[c] + i] = c;
        k->comp_cat[c] = (c + 1 + rng_below(r, NCAT - 1)) % NCAT;   /* never c */
    }
    for (uint32_t i = 0; i < k->nitems; i++) {
        uint32_t c = k->cat_of[i], j;
        do
            j = draw_in(r, k, rng_below(r, 10) < 7 ? c : k->comp_cat[c]);
        while (j == i);
        k->companion[i] = j;
    }
}

static bool has(const uint32_t *v, uint32_t n, uint32_t x)
{
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: gen OUT.csv [CUSTOMERS [SEED]]\n");
        return 2;
    }
    uint64_t ncust = 1000000, seed = 42;
    char *end;
    if (argc > 2) {
        errno = 0;
        ncust = strtoull(argv[2], &end, 10);
        if (errno || *end || ncust == 0 || ncust > UINT32_MAX) {
            fprintf(stderr, "gen: bad customer count %s\n", argv[2]);
            return 2;
        }
    }
    if (argc > 3) {
        errno = 0;
        seed = strtoull(argv[3], &end, 10);
        if (errno || *end) {
            fprintf(stderr, "gen: bad seed %s\n", argv[3]);
            return 2;
        }
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        fprintf(stderr, "gen: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof buf);

    struct rng r;
    rng_seed(&r, seed);
    struct catalogue k;
    catalogue_make(&k, &r);

    fprintf(f, "customer,ts,sku,category\n");
    uint64_t rows = 0, orders = 0;
    for (uint64_t cu = 1; cu <= ncust; cu++) {
        uint32_t fav[2], nfav = rng_below(&r, 10) < 6 ? 1 : 2;
        fav[0] = cdf_pick(&r, &k.cat);
        do
            fav[1] = cdf_pick(&r, &k.cat);
        while (fav[1] == fav[0]);
        uint32_t no = 1 + pick_small(&r, orders_w, MAX_ORDERS);

        /* times: first order, then gaps; squeezed into what is left */
        uint32_t ts[MAX_ORDERS];
        uint64_t gap[MAX_ORDERS], total = 0;
        ts[0] = START_TS + rng_below(&r, 16 * 30 * DAY);
        for (uint32_t o = 1; o < no; o++)
            total += gap[o] = DAY + rng_below(&r, 89 * DAY);
        uint64_t avail = END_TS - 1 - ts[0];
        for (uint32_t o = 1; o < no; o++) {
            uint64_t g = total > avail ? gap[o] * avail / total : gap[o];
            ts[o] = ts[o - 1] + (uint32_t)(g ? g : 1);
        }

        for (uint32_t o = 0; o < no; o++) {
            uint32_t want = 1 + pick_small(&r, lines_w, MAX_LINES);
            uint32_t line[MAX_LINES], nl = 0;
            while (nl < want) {
                uint32_t c;
                if (rng_below(&r, 100) < 80)
                    c = nfav == 1 || rng_below(&r, 100) < 65 ? fav[0] : fav[1];
                else
                    c = cdf_pick(&r, &k.cat);
                uint32_t it = draw_in(&r, &k, c);
                for (int t = 0; t < 8 && has(line, nl, it); t++)
                    it = draw_in(&r, &k, c);
                if (has(line, nl, it))
                    break;      /* a tiny category already in the order */
                line[nl++] = it;
                uint32_t comp = k.companion[it];
                if (nl < want && rng_below(&r, 100) < 30 && !has(line, nl, comp))
                    line[nl++] = comp;
            }
            for (uint32_t l = 0; l < nl; l++)
                fprintf(f, "%" PRIu64 ",%" PRIu32 ",%" PRIu32 ",%" PRIu32 "\n", cu, ts[o],
                        k.sku[line[l]], k.cat_of[line[l]] + 1);
            rows += nl;
            orders++;
        }
    }
    if (fflush(f) || ferror(f) || fclose(f)) {
        fprintf(stderr, "gen: %s: write failed\n", argv[1]);
        return 1;
    }
    fprintf(stderr, "gen: %" PRIu64 " customers, %" PRIu64 " orders, %" PRIu64
                    " line items, %" PRIu32 " items in %d categories\n",
            ncust, orders, rows, k.nitems, NCAT);
    return 0;
}
