/* test_recommend.c - item-to-item recommendations (core/recommend.c)
 * against hand-worked answers: cosine with shrinkage on a five-customer
 * data set, repeats counted once, pairs under min_together dropped, ties
 * by item code, the neighbour cap, the 200-distinct cap (which items a
 * heavy customer keeps), scores and reasons of rec_recommend written out
 * from the formula, consumables, the cold start and the popular fill.
 * Then random data against a brute force that counts pairs with a double
 * loop over each customer's items (not the inverted index of the module):
 * every neighbour list, and every recommendation's score, reason and
 * `because`; a property test that no owned non-consumable item and no
 * item twice ever comes back; a build from shuffled input that must give
 * the same model; and threads sharing one model. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/recommend.h"

/* ---- helpers ------------------------------------------------------------ */

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

static unsigned rng_below(struct rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

/* Stored similarities are floats: compare at float precision. */
static bool close_f(double got, double want)
{
    return fabs(got - want) <= 1e-6 * fmax(1.0, fabs(want));
}

#define assert_closef(got, want)                                                   \
    cr_assert(close_f((got), (want)), "%s = %.9g, want %.9g", #got, (double)(got), \
              (double)(want))

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Purchase histories as the CSR rec_build takes, grown one customer at a
 * time. */
struct data {
    uint32_t *off, *items;
    size_t nusers, nitems_used, cap_u, cap_i;
};

static void data_add(struct data *d, const uint32_t *it, size_t n)
{
    if (d->nusers + 2 > d->cap_u) {
        d->cap_u = d->cap_u ? 2 * d->cap_u : 16;
        d->off = realloc(d->off, d->cap_u * sizeof *d->off);
        cr_assert_not_null(d->off);
    }
    if (d->nitems_used + n > d->cap_i) {
        while (d->nitems_used + n > d->cap_i)
            d->cap_i = d->cap_i ? 2 * d->cap_i : 64;
        d->items = realloc(d->items, d->cap_i * sizeof *d->items);
        cr_assert_not_null(d->items);
    }
    if (d->nusers == 0)
        d->off[0] = 0;
    memcpy(d->items + d->nitems_used, it, n * sizeof *it);
    d->nitems_used += n;
    d->off[++d->nusers] = (uint32_t)d->nitems_used;
}

static void data_free(struct data *d)
{
    free(d->off);
    free(d->items);
}

#define ADD(d, ...)                                          \
    do {                                                     \
        const uint32_t it_[] = {__VA_ARGS__};                \
        data_add((d), it_, N(it_));                          \
    } while (0)

static struct rec_model *build(const struct data *d, size_t nitems, const uint16_t *cat,
                               size_t ncat, const struct rec_opts *o)
{
    struct rec_model *m = NULL;
    uint32_t zero = 0;
    cr_assert_eq(rec_build(d->nusers ? d->off : &zero, d->items, d->nusers, nitems, cat, ncat,
                           o, &m),
                 CXM_OK);
    cr_assert_not_null(m);
    return m;
}

/* sim by the definition: the cosine c / sqrt(ni nj) times the damping
 * c / (c + shrink), each rounded as the header states them, so that ties
 * in the brute force below are the ties of the module. */
static double sim_def(double c, double ni, double nj, double shrink)
{
    return (c / sqrt(ni * nj)) * (c / (c + shrink));
}

/* ---- the hand-worked data set ---------------------------------------------
 * items 0..4, categories: 0, 1 -> cat 1; 2, 3 -> cat 2; 4 -> cat 1 (never
 * bought). Customers (repeats in the first must count once):
 *   {0,1,0,0,1}  {0,1,2}  {0,1}  {1,2}  {3}
 * n(0) = 3, n(1) = 4, n(2) = 2, n(3) = 1;
 * c(0,1) = 3, c(1,2) = 2, c(0,2) = 1 (under min_together 2: dropped). */

static const uint16_t hand_cat[5] = {1, 1, 2, 2, 1};

static struct data hand_data(void)
{
    struct data d = {0};
    ADD(&d, 0, 1, 0, 0, 1);
    ADD(&d, 0, 1, 2);
    ADD(&d, 0, 1);
    ADD(&d, 1, 2);
    ADD(&d, 3);
    return d;
}

static struct rec_opts hand_opts(void)
{
    struct rec_opts o;
    rec_opts_default(&o);
    o.shrink = 1;
    return o;
}

Test(recommend, defaults)
{
    struct rec_opts o;
    rec_opts_default(&o);
    cr_assert_eq(o.neighbours, 50);
    cr_assert_eq(o.shrink, 5);
    cr_assert_eq(o.category_weight, 0.2);
    cr_assert_eq(o.min_together, 2);
}

Test(recommend, similar_hand_cosine_and_shrinkage)
{
    struct data d = hand_data();
    struct rec_opts o = hand_opts();
    struct rec_model *m = build(&d, 5, hand_cat, 3, &o);
    struct rec_item out[8];

    double s01 = 3 / sqrt(3.0 * 4) * 3 / (3 + 1.0);   /* 0.649519... */
    double s12 = 2 / sqrt(4.0 * 2) * 2 / (2 + 1.0);   /* 0.471404... */
    assert_closef(s01, 0.649519052838329);
    assert_closef(s12, 0.471404520791032);

    cr_assert_eq(rec_similar(m, 0, out, N(out)), 1, "c(0,2) = 1 is under min_together");
    cr_assert_eq(out[0].item, 1);
    assert_closef(out[0].score, s01);
    cr_assert_eq(out[0].reason, REC_TOGETHER);
    cr_assert_eq(out[0].because, 0);
    cr_assert_eq(out[0].together, 3);
    cr_assert_eq(out[0].category, 1);

    cr_assert_eq(rec_similar(m, 1, out, N(out)), 2);
    cr_assert_eq(out[0].item, 0);
    assert_closef(out[0].score, s01);
    cr_assert_eq(out[1].item, 2);
    assert_closef(out[1].score, s12);
    cr_assert_eq(out[1].together, 2);
    cr_assert_eq(out[1].because, 1);
    cr_assert_eq(out[1].category, 2);

    cr_assert_eq(rec_similar(m, 2, out, N(out)), 1);
    cr_assert_eq(out[0].item, 1);
    cr_assert_eq(rec_similar(m, 3, out, N(out)), 0, "bought alone");
    cr_assert_eq(rec_similar(m, 4, out, N(out)), 0, "never bought");
    cr_assert_eq(rec_similar(m, 5, out, N(out)), 0, "unknown item");
    cr_assert_eq(rec_similar(m, UINT32_MAX, out, N(out)), 0, "unknown item");
    cr_assert_eq(rec_similar(m, 1, out, 1), 1, "max respected");
    cr_assert_eq(out[0].item, 0);
    cr_assert_eq(rec_similar(NULL, 1, out, N(out)), 0);

    /* buyers: repeats once; popular by buyers, the never bought left out */
    cr_assert_eq(rec_buyers(m, 0), 3);
    cr_assert_eq(rec_buyers(m, 1), 4);
    cr_assert_eq(rec_buyers(m, 2), 2);
    cr_assert_eq(rec_buyers(m, 3), 1);
    cr_assert_eq(rec_buyers(m, 4), 0);
    cr_assert_eq(rec_buyers(m, 99), 0);
    size_t np;
    const uint32_t *pop = rec_popular(m, &np);
    const uint32_t want_pop[] = {1, 0, 2, 3};
    cr_assert_eq(np, N(want_pop));
    for (size_t i = 0; i < np; i++)
        cr_assert_eq(pop[i], want_pop[i]);
    cr_assert_gt(rec_model_bytes(m), 0);
    cr_assert_eq(rec_model_bytes(NULL), 0);

    rec_free(m);
    /* min_together 1 keeps c(0,2) = 1: 1 / sqrt(3 * 2) * 1 / 2 */
    o.min_together = 1;
    m = build(&d, 5, hand_cat, 3, &o);
    cr_assert_eq(rec_similar(m, 0, out, N(out)), 2);
    cr_assert_eq(out[1].item, 2);
    assert_closef(out[1].score, 1 / sqrt(6.0) / 2);
    cr_assert_eq(out[1].together, 1);
    rec_free(m);
    /* shrink 0: the plain cosine */
    o = hand_opts();
    o.shrink = 0;
    m = build(&d, 5, hand_cat, 3, &o);
    cr_assert_eq(rec_similar(m, 0, out, N(out)), 1);
    assert_closef(out[0].score, 3 / sqrt(12.0));
    rec_free(m);
    data_free(&d);
    rec_free(NULL);
}

Test(recommend, similar_ties_by_item_code_and_neighbour_cap)
{
    /* item 9 is bought with 5 and with 2 by two customers each, and
     * n(5) = n(2) = 2: equal similarity; 2 comes first though 5's customers
     * come first. Item 7 with 9 three times, n(7) = 3: the best. */
    struct data d = {0};
    ADD(&d, 9, 5);
    ADD(&d, 5, 9);
    ADD(&d, 2, 9);
    ADD(&d, 9, 2);
    ADD(&d, 7, 9);
    ADD(&d, 7, 9);
    ADD(&d, 9, 7);
    struct rec_opts o = hand_opts();
    struct rec_model *m = build(&d, 10, NULL, 1, &o);
    struct rec_item out[8];
    cr_assert_eq(rec_similar(m, 9, out, N(out)), 3);
    cr_assert_eq(out[0].item, 7);
    assert_closef(out[0].score, sim_def(3, 7, 3, 1));
    cr_assert_eq(out[1].item, 2);
    cr_assert_eq(out[2].item, 5);
    cr_assert_eq(out[1].score, out[2].score);
    assert_closef(out[1].score, sim_def(2, 7, 2, 1));
    cr_assert_eq(out[0].category, 0, "category NULL: every item in 0");
    rec_free(m);

    o.neighbours = 2;
    m = build(&d, 10, NULL, 1, &o);
    cr_assert_eq(rec_similar(m, 9, out, N(out)), 2);
    cr_assert_eq(out[0].item, 7);
    cr_assert_eq(out[1].item, 2);
    rec_free(m);

    o.neighbours = 0;
    m = build(&d, 10, NULL, 1, &o);
    cr_assert_eq(rec_similar(m, 9, out, N(out)), 0);
    rec_free(m);
    data_free(&d);
}

Test(recommend, distinct_cap_keeps_the_200_most_recent)
{
    struct rec_opts o = hand_opts();
    struct rec_item out[8];
    uint32_t heavy[202];
    for (uint32_t i = 0; i <= 200; i++)
        heavy[i] = i;   /* 201 distinct, item 0 the oldest */

    /* B, C: {0, 1}; D: {0, 2}. Without the cap c(0,1) would be 3 and
     * c(0,2) 2; the heavy customer's oldest item, 0, is not counted:
     * c(0,1) = 2, c(0,2) = 1 (dropped), n(0) = 3 (B, C, D), n(1) = 3
     * (heavy, B, C). */
    struct data d = {0};
    data_add(&d, heavy, 201);
    ADD(&d, 0, 1);
    ADD(&d, 0, 1);
    ADD(&d, 0, 2);
    struct rec_model *m = build(&d, 300, NULL, 1, &o);
    cr_assert_eq(rec_similar(m, 0, out, N(out)), 1);
    cr_assert_eq(out[0].item, 1);
    cr_assert_eq(out[0].together, 2);
    assert_closef(out[0].score, sim_def(2, 3, 3, 1));
    cr_assert_eq(rec_buyers(m, 0), 4, "buyers count every customer");
    rec_free(m);
    data_free(&d);

    /* the heavy customer buys 0 again last: now 0 is recent and 1 the
     * oldest: c(0,2) = 2 (heavy, D), c(0,1) = 2 (B, C), n(0) = 4,
     * n(1) = 2, n(2) = 2 */
    heavy[201] = 0;
    d = (struct data){0};
    data_add(&d, heavy, 202);
    ADD(&d, 0, 1);
    ADD(&d, 0, 1);
    ADD(&d, 0, 2);
    m = build(&d, 300, NULL, 1, &o);
    cr_assert_eq(rec_similar(m, 0, out, N(out)), 2);
    cr_assert_eq(out[0].item, 1);
    cr_assert_eq(out[1].item, 2);
    cr_assert_eq(out[0].together, 2);
    cr_assert_eq(out[1].together, 2);
    assert_closef(out[0].score, sim_def(2, 4, 2, 1));
    rec_free(m);
    data_free(&d);

    /* exactly 200 distinct: nothing dropped, c(0,1) = 3 */
    d = (struct data){0};
    data_add(&d, heavy, 200);
    ADD(&d, 0, 1);
    ADD(&d, 0, 1);
    m = build(&d, 300, NULL, 1, &o);
    cr_assert_eq(rec_similar(m, 0, out, 1), 1);
    cr_assert_eq(out[0].item, 1);
    cr_assert_eq(out[0].together, 3);
    rec_free(m);
    data_free(&d);
}

Test(recommend, out_of_range_input_is_skipped)
{
    /* item 7 >= nitems and category 9 >= ncat */
    struct data d = {0};
    ADD(&d, 0, 7, 1);
    ADD(&d, 1, 0, 7);
    const uint16_t cat[3] = {1, 9, 1};
    struct rec_opts o = hand_opts();
    struct rec_model *m = build(&d, 3, cat, 2, &o);
    struct rec_item out[4];
    cr_assert_eq(rec_similar(m, 0, out, N(out)), 1);
    cr_assert_eq(out[0].item, 1);
    cr_assert_eq(out[0].category, 0, "category out of range: none");
    cr_assert_eq(rec_buyers(m, 7), 0);
    rec_free(m);
    data_free(&d);

    /* no customers at all, o NULL: defaults */
    d = (struct data){0};
    m = build(&d, 4, NULL, 0, NULL);
    size_t np = 99;
    rec_popular(m, &np);
    cr_assert_eq(np, 0);
    const uint32_t popular[] = {3, 2};
    cr_assert_eq(rec_recommend(m, NULL, 0, NULL, popular, 2, out, N(out), NULL), 2);
    cr_assert_eq(out[0].item, 3);
    rec_free(m);
}

/* ---- rec_recommend by hand -------------------------------------------------- */

Test(recommend, recommend_hand_scores_and_reasons)
{
    struct data d = hand_data();
    struct rec_opts o = hand_opts();
    struct rec_model *m = build(&d, 5, hand_cat, 3, &o);
    size_t np;
    const uint32_t *pop = rec_popular(m, &np);   /* 1, 0, 2, 3 */
    struct rec_item out[10];
    double s01 = sim_def(3, 3, 4, 1), s12 = sim_def(2, 4, 2, 1);
    int rc = -1;

    /* owns 0 (cat 1, share 1): 1 by similarity plus 0.2 * 1; cat 1's
     * popular items are 1 and 0 (owned); then the fill: 2, 3 */
    const uint32_t own0[] = {0};
    size_t n = rec_recommend(m, own0, 1, NULL, pop, np, out, N(out), &rc);
    cr_assert_eq(rc, CXM_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(out[0].item, 1);
    assert_closef(out[0].score, s01 + 0.2);
    cr_assert_eq(out[0].reason, REC_TOGETHER);
    cr_assert_eq(out[0].because, 0);
    cr_assert_eq(out[0].together, 3);
    cr_assert_eq(out[0].category, 1);
    cr_assert_eq(out[1].item, 2);
    cr_assert_eq(out[1].reason, REC_POPULAR);
    cr_assert_eq(out[2].item, 3);
    cr_assert_eq(out[2].reason, REC_POPULAR);

    /* owns 3 three times (cat 2, share 1), no neighbours: 2 for its
     * category, 0.2 * 1; then the fill 1, 0 */
    const uint32_t own3[] = {3, 3, 3};
    n = rec_recommend(m, own3, 3, NULL, pop, np, out, N(out), &rc);
    cr_assert_eq(n, 3);
    cr_assert_eq(out[0].item, 2);
    assert_closef(out[0].score, 0.2);
    cr_assert_eq(out[0].reason, REC_CATEGORY);
    cr_assert_eq(out[0].together, 0);
    cr_assert_eq(out[1].item, 1);
    cr_assert_eq(out[2].item, 0);
    cr_assert_eq(out[1].reason, REC_POPULAR);
    rec_free(m);

    /* category_weight 1; owns 1 once and 3 three times: shares cat 1 1/4,
     * cat 2 3/4. 2: s12 + 3/4 (category is the larger part, and it still
     * says which owned item goes with it), 0: s01 + 1/4 (together). */
    o.category_weight = 1;
    m = build(&d, 5, hand_cat, 3, &o);
    pop = rec_popular(m, &np);   /* borrowed from the model: fetch again */
    const uint32_t own13[] = {1, 3, 3, 3};
    n = rec_recommend(m, own13, 4, NULL, pop, np, out, N(out), &rc);
    cr_assert_eq(n, 2, "everything else is owned");
    cr_assert_eq(out[0].item, 2);
    assert_closef(out[0].score, s12 + 0.75);
    cr_assert_eq(out[0].reason, REC_CATEGORY);
    cr_assert_eq(out[0].because, 1);
    cr_assert_eq(out[0].together, 2);
    cr_assert_eq(out[1].item, 0);
    assert_closef(out[1].score, s01 + 0.25);
    cr_assert_eq(out[1].reason, REC_TOGETHER);
    cr_assert_eq(out[1].because, 1);
    cr_assert_eq(out[1].together, 3);

    /* max 1 */
    cr_assert_eq(rec_recommend(m, own13, 4, NULL, pop, np, out, 1, NULL), 1);
    cr_assert_eq(out[0].item, 2);
    cr_assert_eq(rec_recommend(m, own13, 4, NULL, pop, np, out, 0, NULL), 0);
    rec_free(m);

    /* category_weight 0: no category candidates, only similarity */
    o.category_weight = 0;
    m = build(&d, 5, hand_cat, 3, &o);
    n = rec_recommend(m, own3, 3, NULL, NULL, 0, out, N(out), &rc);
    cr_assert_eq(n, 0, "no signal and no popular list");
    rec_free(m);
    data_free(&d);
}

Test(recommend, because_is_the_owned_item_with_the_largest_share)
{
    /* 5 goes with 1 (three customers) more than with 2 (two) */
    struct data d = {0};
    ADD(&d, 1, 5);
    ADD(&d, 1, 5);
    ADD(&d, 5, 1);
    ADD(&d, 2, 5);
    ADD(&d, 2, 5);
    ADD(&d, 1);
    ADD(&d, 2);
    struct rec_opts o = hand_opts();
    struct rec_model *m = build(&d, 6, NULL, 1, &o);
    struct rec_item out[4];
    const uint32_t own[] = {2, 1, 2};
    cr_assert_eq(rec_recommend(m, own, N(own), NULL, NULL, 0, out, N(out), NULL), 1);
    cr_assert_eq(out[0].item, 5);
    cr_assert_eq(out[0].reason, REC_TOGETHER);
    cr_assert_eq(out[0].because, 1);
    cr_assert_eq(out[0].together, 3);
    /* n(1) = 4, n(2) = 3, n(5) = 5; distinct owned items count once */
    assert_closef(out[0].score, sim_def(3, 4, 5, 1) + sim_def(2, 3, 5, 1));
    rec_free(m);
    data_free(&d);
}

Test(recommend, consumable_category_may_come_back)
{
    struct data d = hand_data();
    struct rec_opts o = hand_opts();
    struct rec_model *m = build(&d, 5, hand_cat, 3, &o);
    size_t np;
    const uint32_t *pop = rec_popular(m, &np);
    struct rec_item out[10];
    const bool consumable[3] = {false, true, false};

    /* owns 0, cat 1 consumable: 0 comes back for its category (0.2) */
    const uint32_t own0[] = {0};
    size_t n = rec_recommend(m, own0, 1, consumable, pop, np, out, N(out), NULL);
    cr_assert_eq(n, 4);
    cr_assert_eq(out[0].item, 1);
    cr_assert_eq(out[1].item, 0);
    assert_closef(out[1].score, 0.2);
    cr_assert_eq(out[1].reason, REC_CATEGORY);
    cr_assert_eq(out[2].item, 2);
    cr_assert_eq(out[3].item, 3);

    /* owns 0 and 1: each is the other's neighbour; equal scores, by code */
    const uint32_t own01[] = {0, 1};
    n = rec_recommend(m, own01, 2, consumable, NULL, 0, out, N(out), NULL);
    cr_assert_geq(n, 2);
    cr_assert_eq(out[0].item, 0);
    cr_assert_eq(out[1].item, 1);
    cr_assert_eq(out[0].score, out[1].score);
    cr_assert_eq(out[0].reason, REC_TOGETHER);
    cr_assert_eq(out[0].because, 1);
    cr_assert_eq(out[1].because, 0);

    /* cat 2 is not consumable: owning 2 keeps it out though 1 is its
     * neighbour... and owned 2 never comes back */
    const uint32_t own2[] = {2, 1};
    n = rec_recommend(m, own2, 2, consumable, pop, np, out, N(out), NULL);
    for (size_t i = 0; i < n; i++)
        cr_assert_neq(out[i].item, 2);
    rec_free(m);
    data_free(&d);
}

Test(recommend, cold_start_is_the_popular_list)
{
    struct data d = hand_data();
    struct rec_opts o = hand_opts();
    struct rec_model *m = build(&d, 5, hand_cat, 3, &o);
    struct rec_item out[10];
    /* the caller's list (e.g. their segment's), with a repeat and an item
     * the model does not know */
    const uint32_t popular[] = {3, 2, 3, 42, 0};
    int rc = -1;
    size_t n = rec_recommend(m, NULL, 0, NULL, popular, N(popular), out, N(out), &rc);
    cr_assert_eq(rc, CXM_OK);
    const uint32_t want[] = {3, 2, 42, 0};
    cr_assert_eq(n, N(want));
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(out[i].item, want[i]);
        cr_assert_eq(out[i].reason, REC_POPULAR);
        cr_assert_eq(out[i].score, 0);
    }
    cr_assert_eq(out[0].category, 2);
    cr_assert_eq(out[2].category, 0, "unknown item: no category");
    cr_assert_eq(rec_recommend(m, NULL, 0, NULL, popular, N(popular), out, 2, NULL), 2);

    /* owning only unknown items is no signal; they are still owned */
    const uint32_t own[] = {42};
    n = rec_recommend(m, own, 1, NULL, popular, N(popular), out, N(out), NULL);
    cr_assert_eq(n, 3);
    cr_assert_eq(out[0].item, 3);
    cr_assert_eq(out[1].item, 2);
    cr_assert_eq(out[2].item, 0);
    rec_free(m);
    data_free(&d);
}

/* ---- random data against brute force ---------------------------------------- */

#define RN_ITEMS 120
#define RN_CAT 8

struct world {
    struct data d;
    uint16_t cat[RN_ITEMS];
    uint32_t *co;     /* co[i * RN_ITEMS + j]: customers with both */
    uint32_t n[RN_ITEMS];
};

/* Customers of 1..8 purchases, skewed to low item codes and to a
 * favourite category, so that pairs repeat. */
static void world_make(struct world *w, struct rng *r, size_t nusers)
{
    memset(w, 0, sizeof *w);
    for (size_t i = 0; i < RN_ITEMS; i++)
        w->cat[i] = (uint16_t)(i % RN_CAT);
    for (size_t u = 0; u < nusers; u++) {
        uint32_t it[8];
        size_t k = 1 + rng_below(r, 8);
        unsigned fav = rng_below(r, RN_CAT);
        for (size_t a = 0; a < k; a++) {
            unsigned x = rng_below(r, 3) ? rng_below(r, 1 + rng_below(r, RN_ITEMS / RN_CAT))
                                         : rng_below(r, RN_ITEMS / RN_CAT);
            it[a] = (uint32_t)(x * RN_CAT + (rng_below(r, 4) ? fav : rng_below(r, RN_CAT)));
        }
        data_add(&w->d, it, k);
    }
    /* brute force: each customer's distinct set, every ordered pair */
    w->co = calloc(RN_ITEMS * RN_ITEMS, sizeof *w->co);
    cr_assert_not_null(w->co);
    for (size_t u = 0; u < w->d.nusers; u++) {
        bool has[RN_ITEMS] = {0};
        for (uint32_t x = w->d.off[u]; x < w->d.off[u + 1]; x++)
            has[w->d.items[x]] = true;
        for (size_t i = 0; i < RN_ITEMS; i++) {
            if (!has[i])
                continue;
            w->n[i]++;
            for (size_t j = 0; j < RN_ITEMS; j++)
                if (has[j] && j != i)
                    w->co[i * RN_ITEMS + j]++;
        }
    }
}

static void world_free(struct world *w)
{
    data_free(&w->d);
    free(w->co);
}

static float sim_bf(const struct world *w, size_t i, size_t j, const struct rec_opts *o)
{
    uint32_t c = w->co[i * RN_ITEMS + j];
    if (c == 0 || c < o->min_together)
        return 0;
    return (float)sim_def(c, w->n[i], w->n[j], o->shrink);
}

/* The top neighbours of i by brute force; returns how many. */
static size_t neigh_bf(const struct world *w, size_t i, const struct rec_opts *o,
                       uint32_t *nb)
{
    size_t k = 0;
    bool used[RN_ITEMS] = {0};
    while (k < o->neighbours) {
        size_t best = RN_ITEMS;
        for (size_t j = 0; j < RN_ITEMS; j++) {
            float s = j == i || used[j] ? 0 : sim_bf(w, i, j, o);
            if (s > 0 && (best == RN_ITEMS || s > sim_bf(w, i, best, o)))
                best = j;   /* strictly greater: the smaller code wins ties */
        }
        if (best == RN_ITEMS)
            break;
        used[best] = true;
        nb[k++] = (uint32_t)best;
    }
    return k;
}

Test(recommend, random_similar_against_brute_force)
{
    struct rng r = {42};
    for (int round = 0; round < 4; round++) {
        struct world w;
        world_make(&w, &r, 300 + 400 * (size_t)round);
        struct rec_opts o;
        rec_opts_default(&o);
        o.neighbours = round == 0 ? 5 : 20;
        o.min_together = 1 + (uint32_t)round % 3;
        o.shrink = round * 2.5;
        struct rec_model *m = build(&w.d, RN_ITEMS, w.cat, RN_CAT, &o);
        struct rec_item out[64];
        uint32_t want[64];
        for (size_t i = 0; i < RN_ITEMS; i++) {
            size_t k = rec_similar(m, (uint32_t)i, out, N(out));
            size_t kw = neigh_bf(&w, i, &o, want);
            cr_assert_eq(k, kw, "round %d item %zu: %zu neighbours, want %zu", round, i, k,
                         kw);
            cr_assert_eq(rec_buyers(m, (uint32_t)i), w.n[i]);
            for (size_t a = 0; a < k; a++) {
                cr_assert_eq(out[a].item, want[a], "round %d item %zu rank %zu", round, i, a);
                cr_assert_eq(out[a].score, sim_bf(&w, i, want[a], &o));
                cr_assert_eq(out[a].together, w.co[i * RN_ITEMS + want[a]]);
                cr_assert_eq(out[a].category, w.cat[want[a]]);
            }
        }
        rec_free(m);
        world_free(&w);
    }
}

/* A random purchase history: mostly known items, some repeats, now and
 * then an unknown code. */
static size_t random_owned(struct rng *r, uint32_t *own, size_t max)
{
    size_t k = rng_below(r, (unsigned)max + 1);
    for (size_t a = 0; a < k; a++) {
        if (a && rng_below(r, 5) == 0)
            own[a] = own[rng_below(r, (unsigned)a)];
        else if (rng_below(r, 40) == 0)
            own[a] = RN_ITEMS + rng_below(r, 10);
        else
            own[a] = rng_below(r, RN_ITEMS);
    }
    return k;
}

static bool in(const uint32_t *v, size_t n, uint32_t x)
{
    for (size_t a = 0; a < n; a++)
        if (v[a] == x)
            return true;
    return false;
}

Test(recommend, random_never_owned_never_twice_scores_by_formula)
{
    struct rng r = {7};
    struct world w;
    world_make(&w, &r, 1500);
    struct rec_opts o;
    rec_opts_default(&o);
    o.neighbours = 15;
    struct rec_model *m = build(&w.d, RN_ITEMS, w.cat, RN_CAT, &o);
    size_t np;
    const uint32_t *pop = rec_popular(m, &np);
    struct rec_item out[30];
    uint32_t own[24], nb[64];
    size_t together_seen = 0, category_seen = 0, popular_seen = 0, consumed_again = 0;

    for (int t = 0; t < 3000; t++) {
        size_t nown = random_owned(&r, own, N(own));
        bool consumable[RN_CAT] = {0};
        bool use_cons = rng_below(&r, 2);
        for (size_t c = 0; c < RN_CAT; c++)
            consumable[c] = use_cons && rng_below(&r, 3) == 0;
        size_t max = 1 + rng_below(&r, N(out));
        int rc = -1;
        size_t n = rec_recommend(m, own, nown, use_cons ? consumable : NULL, pop, np, out, max,
                                 &rc);
        cr_assert_eq(rc, CXM_OK);
        cr_assert_leq(n, max);

        /* the customer's distinct known items and category shares */
        uint32_t dist[24];
        size_t nd = 0;
        uint32_t catn[RN_CAT] = {0};
        for (size_t a = 0; a < nown; a++) {
            if (own[a] >= RN_ITEMS)
                continue;
            catn[w.cat[own[a]]]++;
            if (!in(dist, nd, own[a]))
                dist[nd++] = own[a];
        }
        bool filling = false;
        for (size_t i = 0; i < n; i++) {
            uint32_t j = out[i].item;
            for (size_t b = 0; b < i; b++)
                cr_assert_neq(out[b].item, j, "item %u twice", j);
            bool owned = in(own, nown, j);
            if (owned) {
                cr_assert(use_cons && j < RN_ITEMS && consumable[w.cat[j]],
                          "owned non-consumable item %u recommended", j);
                consumed_again++;
            }
            if (j < RN_ITEMS)
                cr_assert_eq(out[i].category, w.cat[j]);
            if (out[i].reason == REC_POPULAR) {
                filling = true;
                popular_seen++;
                continue;
            }
            cr_assert(!filling, "a scored item after the popular fill");
            cr_assert(i == 0 || out[i - 1].score > out[i].score ||
                      (out[i - 1].score == out[i].score && out[i - 1].item < j));
            /* the score from the definition: the neighbour lists of the
             * distinct owned items (brute force), plus the category part */
            double simpart = 0, best = 0;
            uint32_t because = UINT32_MAX;
            for (size_t a = 0; a < nd; a++) {
                size_t k = neigh_bf(&w, dist[a], &o, nb);
                if (!in(nb, k, j))
                    continue;
                float s = sim_bf(&w, dist[a], j, &o);
                simpart += s;
                if (s > best || (s == best && dist[a] < because)) {
                    best = s;
                    because = dist[a];
                }
            }
            double catpart = w.cat[j] ? 0.2 * catn[w.cat[j]] / (double)nown : 0;
            assert_closef(out[i].score, simpart + catpart);
            if (simpart > catpart) {
                cr_assert_eq(out[i].reason, REC_TOGETHER);
                together_seen++;
            } else {
                cr_assert_eq(out[i].reason, REC_CATEGORY);
                category_seen++;
            }
            if (simpart > 0) {
                cr_assert_eq(out[i].because, because);
                cr_assert_eq(out[i].together, w.co[because * RN_ITEMS + j]);
            } else {
                cr_assert_eq(out[i].together, 0);
            }
        }
        /* fewer than max only when the popular list ran out */
        if (n < max)
            for (size_t a = 0; a < np; a++) {
                bool excluded = in(own, nown, pop[a]) &&
                                !(use_cons && consumable[w.cat[pop[a]]]);
                bool listed = false;
                for (size_t i = 0; i < n; i++)
                    listed |= out[i].item == pop[a];
                cr_assert(excluded || listed, "popular %u left out of a short list", pop[a]);
            }
    }
    /* the data exercised every path */
    cr_assert_gt(together_seen, 100);
    cr_assert_gt(category_seen, 100);
    cr_assert_gt(popular_seen, 100);
    cr_assert_gt(consumed_again, 10);
    rec_free(m);
    world_free(&w);
}

Test(recommend, deterministic_and_order_of_input_free)
{
    struct rng r = {2024};
    struct world w;
    world_make(&w, &r, 800);
    struct rec_opts o;
    rec_opts_default(&o);
    o.neighbours = 10;
    struct rec_model *a = build(&w.d, RN_ITEMS, w.cat, RN_CAT, &o);

    /* the customers reversed and each one's items rotated: the same
     * distinct sets (no one is near the cap), so the same model */
    struct data rev = {0};
    for (size_t u = w.d.nusers; u > 0; u--) {
        uint32_t it[8];
        size_t k = w.d.off[u] - w.d.off[u - 1];
        for (size_t x = 0; x < k; x++)
            it[x] = w.d.items[w.d.off[u - 1] + (x + 1) % k];
        data_add(&rev, it, k);
    }
    struct rec_model *b = build(&rev, RN_ITEMS, w.cat, RN_CAT, &o);
    struct rec_item oa[16], ob[16];
    for (uint32_t i = 0; i < RN_ITEMS; i++) {
        size_t na = rec_similar(a, i, oa, N(oa)), nb = rec_similar(b, i, ob, N(ob));
        cr_assert_eq(na, nb);
        for (size_t x = 0; x < na; x++) {
            cr_assert_eq(oa[x].item, ob[x].item);
            cr_assert_eq(oa[x].score, ob[x].score);
            cr_assert_eq(oa[x].together, ob[x].together);
        }
    }
    size_t np;
    const uint32_t *pa = rec_popular(a, &np);
    size_t npb;
    const uint32_t *pb = rec_popular(b, &npb);
    cr_assert_eq(np, npb);
    cr_assert_eq(memcmp(pa, pb, np * sizeof *pa), 0);
    cr_assert_eq(rec_model_bytes(a), rec_model_bytes(b));

    /* the same call twice, and on the other model: the same answer */
    uint32_t own[24];
    for (int t = 0; t < 200; t++) {
        size_t nown = random_owned(&r, own, N(own));
        size_t n1 = rec_recommend(a, own, nown, NULL, pa, np, oa, N(oa), NULL);
        size_t n2 = rec_recommend(b, own, nown, NULL, pa, np, ob, N(ob), NULL);
        cr_assert_eq(n1, n2);
        for (size_t x = 0; x < n1; x++) {
            cr_assert_eq(oa[x].item, ob[x].item);
            cr_assert_eq(oa[x].score, ob[x].score);
            cr_assert_eq(oa[x].reason, ob[x].reason);
            cr_assert_eq(oa[x].because, ob[x].because);
        }
    }
    rec_free(a);
    rec_free(b);
    data_free(&rev);
    world_free(&w);
}

/* ---- one model, several threads ----------------------------------------- */

#define TH_N 4
#define TH_CUST 300

struct th_job {
    const struct rec_model *m;
    const uint32_t (*own)[24];
    const size_t *nown;
    const uint32_t *pop;
    size_t np;
    struct rec_item (*out)[10];
    size_t n[TH_CUST];
    bool failed;
};

static void *th_run(void *arg)
{
    struct th_job *j = arg;
    for (size_t c = 0; c < TH_CUST; c++) {
        int rc;
        j->n[c] = rec_recommend(j->m, j->own[c], j->nown[c], NULL, j->pop, j->np, j->out[c],
                                10, &rc);
        j->failed |= rc != CXM_OK;
    }
    return NULL;
}

Test(recommend, threads_share_a_model)
{
    struct rng r = {11};
    struct world w;
    world_make(&w, &r, 1000);
    struct rec_model *m = build(&w.d, RN_ITEMS, w.cat, RN_CAT, NULL);
    size_t np;
    const uint32_t *pop = rec_popular(m, &np);
    static uint32_t own[TH_CUST][24];
    static size_t nown[TH_CUST];
    for (size_t c = 0; c < TH_CUST; c++)
        nown[c] = random_owned(&r, own[c], 24);

    /* the answers of one thread alone, then of TH_N at once */
    static struct rec_item want[TH_CUST][10], got[TH_N][TH_CUST][10];
    static struct th_job jobs[TH_N + 1];
    jobs[TH_N] = (struct th_job){m, own, nown, pop, np, want, {0}, false};
    th_run(&jobs[TH_N]);
    pthread_t t[TH_N];
    for (size_t i = 0; i < TH_N; i++) {
        jobs[i] = (struct th_job){m, own, nown, pop, np, got[i], {0}, false};
        cr_assert_eq(pthread_create(&t[i], NULL, th_run, &jobs[i]), 0);
    }
    for (size_t i = 0; i < TH_N; i++)
        pthread_join(t[i], NULL);
    for (size_t i = 0; i < TH_N; i++) {
        cr_assert(!jobs[i].failed);
        for (size_t c = 0; c < TH_CUST; c++) {
            cr_assert_eq(jobs[i].n[c], jobs[TH_N].n[c]);
            for (size_t x = 0; x < jobs[i].n[c]; x++) {
                cr_assert_eq(got[i][c][x].item, want[c][x].item);
                cr_assert_eq(got[i][c][x].score, want[c][x].score);
            }
        }
    }
    rec_free(m);
    world_free(&w);
}
