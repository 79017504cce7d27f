/* test_journey.c - journey analytics (core/journey.c) against hand-worked
 * answers: sorting (out of order, ties), the episode gap at and one second
 * over the threshold, a funnel with a skipped stage and stages out of
 * order, time quantiles, flows with self-transitions and loops, paths
 * collapsed and capped, drop-offs with and without the goal, friction
 * against counts written out in the test, empty input. Then random events
 * against brute-force computations written from the definitions (not from
 * the accumulators' one-pass bookkeeping), and a fuzz run with codes out
 * of range and random sizes for the sanitizer build. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/journey.h"

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

static bool close_to(double got, double want)
{
    return fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want));
}

#define assert_close(got, want)                                                    \
    cr_assert(close_to((got), (want)), "%s = %.17g, want %.17g", #got, (double)(got), \
              (double)(want))

enum { AW, CO, PU, ON, SU, LO, NSTAGE };
static const uint16_t stage_order[NSTAGE] = {AW, CO, PU, ON, SU, LO};
#define NS JOURNEY_NO_STAGE

/* An event: time, touchpoint, stage, channel, satisfaction, purchase. */
#define EV(t, tp, st, ch, sat, buy)                                                \
    (struct jevent){(uint32_t)(t), (uint16_t)(tp), (uint16_t)(st), (uint16_t)(ch), \
                    (float)(sat), (uint8_t)(buy)}
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- sorting and episodes ----------------------------------------------- */

Test(journey, sort_out_of_order_keeps_ties_in_input_order)
{
    /* touchpoint = input position, to see where each event went */
    struct jevent ev[] = {EV(50, 0, NS, 0, NAN, 0), EV(30, 1, NS, 0, NAN, 0),
                          EV(30, 2, NS, 0, NAN, 0), EV(10, 3, NS, 0, NAN, 0),
                          EV(50, 4, NS, 0, NAN, 0), EV(30, 5, NS, 0, NAN, 0)};
    cr_assert_eq(journey_sort(ev, N(ev)), CXM_OK);
    const uint16_t want_tp[] = {3, 1, 2, 5, 0, 4};
    const uint32_t want_ts[] = {10, 30, 30, 30, 50, 50};
    for (size_t i = 0; i < N(ev); i++) {
        cr_assert_eq(ev[i].touchpoint, want_tp[i], "position %zu", i);
        cr_assert_eq(ev[i].ts, want_ts[i]);
    }
    cr_assert_eq(journey_sort(ev, 0), CXM_OK);
    cr_assert_eq(journey_sort(ev, 1), CXM_OK);
}

/* Long inputs take the merge sort: against a reference that sorts by
 * (ts, input position), which is what stable means. */
static int ref_cmp(const void *a, const void *b)
{
    const struct jevent *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    /* channel holds the input position here */
    return (x->channel > y->channel) - (x->channel < y->channel);
}

Test(journey, sort_long_inputs_stable)
{
    struct rng r = {7};
    static struct jevent ev[5000], ref[5000];
    for (int trial = 0; trial < 60; trial++) {
        size_t n = trial < 40 ? (size_t)trial : 1 + rng_below(&r, 5000);
        unsigned span = 1 + rng_below(&r, trial % 3 ? 50 : 100000);
        for (size_t i = 0; i < n; i++)
            ev[i] = EV(rng_below(&r, span), 0, NS, i, NAN, 0);
        memcpy(ref, ev, n * sizeof *ev);
        qsort(ref, n, sizeof *ref, ref_cmp);
        cr_assert_eq(journey_sort(ev, n), CXM_OK);
        cr_assert_eq(memcmp(ev, ref, n * sizeof *ev), 0, "trial %d n %zu", trial, n);
    }
}

Test(journey, episode_gap_exactly_at_threshold_stays)
{
    const uint32_t g = JOURNEY_DEFAULT_GAP;
    struct jevent ev[] = {
        EV(1000, 0, NS, 0, NAN, 0),
        EV(1000 + g, 1, NS, 0, NAN, 0),          /* exactly the gap: same episode */
        EV(1000 + 2 * g + 1, 2, NS, 0, NAN, 0),  /* one second over: new */
        EV(1000 + 2 * g + 1, 3, NS, 0, NAN, 0),  /* same second: same */
        EV(1000 + 3 * g + 1, 4, NS, 0, NAN, 0),  /* exactly: same */
        EV(1000 + 4 * g + 3, 5, NS, 0, NAN, 0),  /* over: new */
    };
    uint32_t starts[N(ev)];
    cr_assert_eq(journey_episodes(ev, N(ev), g, starts), 3);
    cr_assert_eq(starts[0], 0);
    cr_assert_eq(starts[1], 2);
    cr_assert_eq(starts[2], 5);
    /* gap 0: every distinct second is an episode */
    cr_assert_eq(journey_episodes(ev, N(ev), 0, starts), 5);
    cr_assert_eq(journey_episodes(ev, 0, g, starts), 0);
    cr_assert_eq(journey_episodes(ev, 1, g, starts), 1);
}

Test(journey, journey_sat_skips_nan)
{
    struct jevent ev[] = {EV(0, 0, NS, 0, NAN, 0), EV(1, 0, NS, 0, 0.5, 0),
                          EV(2, 0, NS, 0, 1.0, 0)};
    double m = -1;
    cr_assert(journey_sat(ev, N(ev), &m));
    assert_close(m, 0.75);
    m = -1;
    cr_assert_not(journey_sat(ev, 1, &m));
    cr_assert_eq(m, -1);
    cr_assert_not(journey_sat(ev, 0, &m));
}

/* ---- funnel -------------------------------------------------------------- */

Test(journey, funnel_skipped_stage_and_order)
{
    struct funnel *f = funnel_new(stage_order, NSTAGE);
    cr_assert_not_null(f);
    /* 1: awareness then purchase, skipping consideration */
    struct jevent e1[] = {EV(0, 0, AW, 0, NAN, 0), EV(100, 1, PU, 0, NAN, 1)};
    /* 2: the whole way to purchase, awareness twice (the first counts),
     * an event without a stage and one of a stage not in the order */
    struct jevent e2[] = {EV(0, 0, AW, 0, NAN, 0), EV(5, 0, NS, 0, NAN, 0),
                          EV(10, 0, AW, 0, NAN, 0), EV(60, 1, CO, 0, NAN, 0),
                          EV(70, 1, 99, 0, NAN, 0), EV(200, 2, PU, 0, NAN, 1),
                          EV(300, 2, CO, 0, NAN, 0)};
    /* 3: consideration before awareness: reached both, converted neither */
    struct jevent e3[] = {EV(0, 1, CO, 0, NAN, 0), EV(50, 0, AW, 0, NAN, 0)};
    /* 4: no stage at all */
    struct jevent e4[] = {EV(0, 3, NS, 0, NAN, 0)};
    cr_assert_eq(funnel_add(f, e1, N(e1)), CXM_OK);
    cr_assert_eq(funnel_add(f, e2, N(e2)), CXM_OK);
    cr_assert_eq(funnel_add(f, e3, N(e3)), CXM_OK);
    cr_assert_eq(funnel_add(f, e4, N(e4)), CXM_OK);
    cr_assert_eq(funnel_add(f, e4, 0), CXM_EINVAL);
    cr_assert_eq(funnel_episodes(f), 4);

    struct funnel_stage s[NSTAGE];
    funnel_result(f, s);
    const uint64_t reached[NSTAGE] = {3, 2, 2, 0, 0, 0};
    const uint64_t beyond[NSTAGE] = {3, 3, 2, 0, 0, 0};
    const uint64_t converted[NSTAGE] = {1, 1, 0, 0, 0, 0};
    for (size_t k = 0; k < NSTAGE; k++) {
        cr_assert_eq(s[k].stage, stage_order[k]);
        cr_assert_eq(s[k].reached, reached[k], "stage %zu", k);
        cr_assert_eq(s[k].reached_or_beyond, beyond[k], "stage %zu", k);
        cr_assert_eq(s[k].converted, converted[k], "stage %zu", k);
    }
    cr_assert(s[0].has_rate && s[0].has_times);
    assert_close(s[0].rate, 100.0 / 3);
    assert_close(s[0].median, 60);   /* e2: first awareness at 0, consideration at 60 */
    cr_assert(s[1].has_rate && s[1].has_times);
    assert_close(s[1].rate, 50);
    assert_close(s[1].median, 140);
    cr_assert(s[2].has_rate);
    cr_assert_not(s[2].has_times);
    cr_assert_eq(s[2].rate, 0);
    cr_assert_not(s[3].has_rate);
    cr_assert_not(s[5].has_rate);   /* the last stage has no next */
    funnel_free(f);
}

Test(journey, funnel_new_rejects_bad_orders)
{
    const uint16_t dup[] = {1, 2, 1};
    const uint16_t none[] = {1, NS};
    cr_assert_null(funnel_new(dup, 3));
    cr_assert_null(funnel_new(none, 2));
    cr_assert_null(funnel_new(dup, 0));
    funnel_free(NULL);
}

Test(journey, funnel_time_quantiles)
{
    const uint16_t order[] = {AW, CO};
    struct funnel *f = funnel_new(order, 2);
    cr_assert_not_null(f);
    const uint32_t d[] = {40, 10, 30, 20};   /* sorted: 10 20 30 40 */
    for (size_t i = 0; i < N(d); i++) {
        struct jevent ep[] = {EV(1000 * i, 0, AW, 0, NAN, 0),
                              EV(1000 * i + d[i], 0, CO, 0, NAN, 0)};
        cr_assert_eq(funnel_add(f, ep, 2), CXM_OK);
    }
    struct funnel_stage s[2];
    funnel_result(f, s);
    cr_assert_eq(s[0].converted, 4);
    assert_close(s[0].rate, 100);
    /* positions 1.5 and 2.7 of 10 20 30 40 */
    assert_close(s[0].median, 25);
    assert_close(s[0].p90, 37);

    const uint32_t one[] = {7}, odd[] = {1, 2, 9};
    assert_close(journey_quantile(one, 1, 0.5), 7);
    assert_close(journey_quantile(one, 1, 0.9), 7);
    assert_close(journey_quantile(odd, 3, 0.5), 2);
    assert_close(journey_quantile(odd, 3, 0.9), 7.6);
    assert_close(journey_quantile(odd, 3, 0), 1);
    assert_close(journey_quantile(odd, 3, 1), 9);
    cr_assert(isnan(journey_quantile(odd, 0, 0.5)));
    funnel_free(f);
}

/* ---- flows --------------------------------------------------------------- */

enum { A, B, C, D, NTP };

Test(journey, flows_self_transitions_and_loops)
{
    struct jevent ep[] = {EV(0, A, NS, 0, NAN, 0), EV(1, B, NS, 0, NAN, 0),
                          EV(2, A, NS, 0, NAN, 0), EV(3, A, NS, 0, NAN, 0),
                          EV(4, C, NS, 0, NAN, 0)};
    struct jevent single[] = {EV(9, D, NS, 0, NAN, 0)};
    for (int self_links = 0; self_links < 2; self_links++) {
        struct flows *f = flows_new(NTP, self_links);
        cr_assert_not_null(f);
        cr_assert_eq(flows_add(f, ep, N(ep)), CXM_OK);
        cr_assert_eq(flows_add(f, single, 1), CXM_OK);
        cr_assert_eq(flows_add(f, single, 0), CXM_EINVAL);
        cr_assert_eq(flows_volume(f, A), 3);
        cr_assert_eq(flows_volume(f, B), 1);
        cr_assert_eq(flows_volume(f, C), 1);
        cr_assert_eq(flows_volume(f, D), 1);
        cr_assert_eq(flows_link(f, A, B), 1);
        cr_assert_eq(flows_link(f, B, A), 1);
        cr_assert_eq(flows_link(f, A, C), 1);
        cr_assert_eq(flows_self(f, A), 1);
        cr_assert_eq(flows_link(f, A, A), (uint64_t)self_links);
        cr_assert_eq(flows_out(f, A), 2u + (unsigned)self_links);
        cr_assert_eq(flows_out(f, D), 0);   /* one-event episode: no transition */
        cr_assert_eq(flows_volume(f, 999), 0);

        struct flow_link top[8];
        size_t nout;
        uint64_t oc, ol;
        cr_assert_eq(flows_top(f, 8, top, &nout, &oc, &ol), CXM_OK);
        cr_assert_eq(nout, 3u + (unsigned)self_links);
        cr_assert_eq(oc, 0);
        cr_assert_eq(ol, 0);
        /* all count 1: by (from, to) */
        if (self_links) {
            cr_assert(top[0].from == A && top[0].to == A);
            cr_assert(top[1].from == A && top[1].to == B);
            assert_close(top[1].share, 100.0 / 3);
        } else {
            cr_assert(top[0].from == A && top[0].to == B);
            assert_close(top[0].share, 50);
            cr_assert(top[1].from == A && top[1].to == C);
            cr_assert(top[2].from == B && top[2].to == A);
            assert_close(top[2].share, 100);
        }
        flows_free(f);
    }
}

Test(journey, flows_top_k_and_other)
{
    struct flows *f = flows_new(NTP, false);
    cr_assert_not_null(f);
    /* C->D 3 times, A->B twice, B->C once, D->A once */
    struct jevent e1[] = {EV(0, C, NS, 0, NAN, 0), EV(1, D, NS, 0, NAN, 0)};
    struct jevent e2[] = {EV(0, A, NS, 0, NAN, 0), EV(1, B, NS, 0, NAN, 0),
                          EV(2, C, NS, 0, NAN, 0), EV(3, D, NS, 0, NAN, 0),
                          EV(4, A, NS, 0, NAN, 0), EV(5, B, NS, 0, NAN, 0)};
    struct jevent e3[] = {EV(0, C, NS, 0, NAN, 0), EV(1, D, NS, 0, NAN, 0)};
    cr_assert_eq(flows_add(f, e1, 2), CXM_OK);
    cr_assert_eq(flows_add(f, e2, N(e2)), CXM_OK);
    cr_assert_eq(flows_add(f, e3, 2), CXM_OK);
    struct jevent bad[] = {EV(0, A, NS, 0, NAN, 0), EV(1, NTP, NS, 0, NAN, 0)};
    cr_assert_eq(flows_add(f, bad, 2), CXM_EINVAL);
    cr_assert_eq(flows_volume(f, A), 2);   /* the refused episode left nothing */

    struct flow_link top[2];
    size_t nout;
    uint64_t oc, ol;
    cr_assert_eq(flows_top(f, 2, top, &nout, &oc, &ol), CXM_OK);
    cr_assert_eq(nout, 2);
    cr_assert(top[0].from == C && top[0].to == D && top[0].count == 3);
    assert_close(top[0].share, 100);
    cr_assert(top[1].from == A && top[1].to == B && top[1].count == 2);
    cr_assert_eq(oc, 2);   /* B->C and D->A */
    cr_assert_eq(ol, 2);
    cr_assert_eq(flows_top(f, 0, top, &nout, &oc, &ol), CXM_OK);
    cr_assert_eq(nout, 0);
    cr_assert_eq(oc, 7);
    cr_assert_eq(ol, 4);
    flows_free(f);
    cr_assert_null(flows_new(0, false));
    cr_assert_null(flows_new(JOURNEY_MAX_FLOW_TP + 1, false));
}

/* ---- paths --------------------------------------------------------------- */

static void add_path(struct paths *p, const uint16_t *tp, size_t n, float sat, bool buy)
{
    struct jevent ep[64];
    for (size_t i = 0; i < n; i++)
        ep[i] = EV(i, tp[i], NS, 0, i == 0 ? sat : NAN, buy && i + 1 == n);
    cr_assert_eq(paths_add(p, ep, n), CXM_OK);
}

Test(journey, paths_collapse_cap_and_measures)
{
    struct paths *p = paths_new(3);
    cr_assert_not_null(p);
    const uint16_t aaba[] = {A, A, B, A};   /* -> A B A */
    const uint16_t aba[] = {A, B, B, A};    /* -> A B A */
    const uint16_t abcd[] = {A, B, C, D};   /* -> A B C, truncated */
    const uint16_t abcc[] = {A, B, C, C};   /* -> A B C, whole */
    const uint16_t abcab[] = {A, B, C, A, B};   /* -> A B C, truncated */
    const uint16_t dd[] = {D, D};           /* -> D */
    add_path(p, aaba, 4, 1.0f, true);
    add_path(p, aba, 4, 0.5f, false);
    add_path(p, aba, 4, NAN, true);
    add_path(p, abcd, 4, 0.25f, false);   /* sat exact in float */
    add_path(p, abcab, 5, 0.5f, true);
    add_path(p, abcc, 4, NAN, false);
    add_path(p, dd, 2, 0.875f, false);
    cr_assert_eq(paths_add(p, NULL, 0), CXM_EINVAL);
    cr_assert_eq(paths_count(p), 4);

    struct path_row r[8];
    size_t n;
    cr_assert_eq(paths_top(p, 8, r, &n), CXM_OK);
    cr_assert_eq(n, 4);
    /* A B A: 3 episodes, 2 purchases, sat from 2 of them */
    cr_assert_eq(r[0].len, 3);
    cr_assert(r[0].tp[0] == A && r[0].tp[1] == B && r[0].tp[2] == A);
    cr_assert_not(r[0].truncated);
    cr_assert_eq(r[0].episodes, 3);
    cr_assert_eq(r[0].purchases, 2);
    assert_close(r[0].conversion, 200.0 / 3);
    cr_assert_eq(r[0].sat_n, 2);
    assert_close(r[0].sat_mean, 0.75);
    /* A B C truncated: 2 episodes */
    cr_assert_eq(r[1].len, 3);
    cr_assert(r[1].truncated);
    cr_assert_eq(r[1].episodes, 2);
    cr_assert_eq(r[1].purchases, 1);
    assert_close(r[1].sat_mean, 0.375);
    /* ties at 1 episode: A B C before D */
    cr_assert_eq(r[2].len, 3);
    cr_assert_not(r[2].truncated);
    cr_assert_eq(r[2].episodes, 1);
    cr_assert_eq(r[2].sat_n, 0);
    cr_assert_eq(r[2].sat_mean, 0);
    cr_assert_eq(r[3].len, 1);   /* one touchpoint: a path of length 1 */
    cr_assert_eq(r[3].tp[0], D);
    assert_close(r[3].sat_mean, 0.875);

    cr_assert_eq(paths_top(p, 1, r, &n), CXM_OK);
    cr_assert_eq(n, 1);
    paths_free(p);
    cr_assert_null(paths_new(0));
    cr_assert_null(paths_new(JOURNEY_MAX_PATH + 1));
}

/* Many distinct paths: the table grows and keeps every count. */
Test(journey, paths_many_distinct)
{
    struct paths *p = paths_new(2);
    cr_assert_not_null(p);
    for (unsigned rep = 0; rep < 3; rep++)
        for (unsigned i = 0; i < 3000; i++) {
            uint16_t tp[2] = {(uint16_t)(i / 60), (uint16_t)(60 + i % 60)};
            add_path(p, tp, 2, NAN, false);
        }
    cr_assert_eq(paths_count(p), 3000);
    static struct path_row r[3000];
    size_t n;
    cr_assert_eq(paths_top(p, 3000, r, &n), CXM_OK);
    cr_assert_eq(n, 3000);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(r[i].episodes, 3);
        cr_assert_eq(r[i].tp[0], i / 60);   /* lexicographic among ties */
        cr_assert_eq(r[i].tp[1], 60 + i % 60);
    }
    paths_free(p);
}

/* ---- drop-offs ----------------------------------------------------------- */

Test(journey, dropoffs_goal_reached_or_not)
{
    struct dropoffs *d = dropoffs_new(NTP, 3, PU);
    cr_assert_not_null(d);
    /* reached the goal: not abandoned, whatever came after */
    struct jevent e1[] = {EV(0, A, AW, 0, NAN, 0), EV(1, B, PU, 1, NAN, 1),
                          EV(2, C, SU, 2, NAN, 0)};
    /* never reached: ends at C by channel 2 */
    struct jevent e2[] = {EV(0, A, AW, 0, NAN, 0), EV(1, C, CO, 2, NAN, 0)};
    /* purchase flag without the stage: abandoned for a stage goal */
    struct jevent e3[] = {EV(0, B, NS, 1, NAN, 1)};
    cr_assert_eq(dropoffs_add(d, e1, 3), CXM_OK);
    cr_assert_eq(dropoffs_add(d, e2, 2), CXM_OK);
    cr_assert_eq(dropoffs_add(d, e2, 2), CXM_OK);
    cr_assert_eq(dropoffs_add(d, e3, 1), CXM_OK);
    struct jevent bad[] = {EV(0, A, AW, 3, NAN, 0)};
    cr_assert_eq(dropoffs_add(d, bad, 1), CXM_EINVAL);
    cr_assert_eq(dropoffs_add(d, bad, 0), CXM_EINVAL);
    cr_assert_eq(dropoffs_episodes(d), 4);
    cr_assert_eq(dropoffs_abandoned(d), 3);
    cr_assert_eq(dropoffs_by_tp(d, C), 2);
    cr_assert_eq(dropoffs_by_tp(d, B), 1);
    cr_assert_eq(dropoffs_by_tp(d, A), 0);
    cr_assert_eq(dropoffs_by_channel(d, 2), 2);
    cr_assert_eq(dropoffs_by_channel(d, 1), 1);
    struct dropoff_row r[4];
    size_t n;
    cr_assert_eq(dropoffs_top(d, 4, r, &n), CXM_OK);
    cr_assert_eq(n, 2);
    cr_assert(r[0].tp == C && r[0].channel == 2 && r[0].count == 2);
    assert_close(r[0].share, 200.0 / 3);
    cr_assert(r[1].tp == B && r[1].channel == 1 && r[1].count == 1);
    assert_close(r[1].share, 100.0 / 3);
    dropoffs_free(d);

    /* goal = the purchase flag: e1 and e3 bought */
    d = dropoffs_new(NTP, 3, JOURNEY_GOAL_PURCHASE);
    cr_assert_not_null(d);
    cr_assert_eq(dropoffs_add(d, e1, 3), CXM_OK);
    cr_assert_eq(dropoffs_add(d, e2, 2), CXM_OK);
    cr_assert_eq(dropoffs_add(d, e3, 1), CXM_OK);
    cr_assert_eq(dropoffs_abandoned(d), 1);
    cr_assert_eq(dropoffs_by_tp(d, C), 1);
    dropoffs_free(d);
}

/* ---- friction ------------------------------------------------------------ */

Test(journey, friction_lift_against_hand_count)
{
    struct friction *f = friction_new(NTP);
    cr_assert_not_null(f);
    /* episodes as touchpoint lists with their outcome (1 = detractor) */
    static const struct {
        uint16_t tp[4];
        size_t n;
        bool out;
    } eps[] = {
        {{A, B}, 2, true},  {{B, B, B}, 3, true}, {{A}, 1, false}, {{C, B}, 2, false},
        {{A, C}, 2, false}, {{C}, 1, false},      {{D, A}, 2, true}, {{B, D, B, D}, 4, true},
    };
    for (size_t e = 0; e < N(eps); e++) {
        struct jevent ep[4];
        for (size_t i = 0; i < eps[e].n; i++)
            ep[i] = EV(i, eps[e].tp[i], NS, 0, NAN, 0);
        cr_assert_eq(friction_add(f, ep, eps[e].n, eps[e].out), CXM_OK);
    }
    /* B is in episodes 1 2 4 8: outcomes 1 1 0 1 -> 3/4; without B:
     * 3 5 6 7 -> 0 0 0 1 -> 1/4. Lift 50 points. */
    struct friction_row r = friction_result(f, B);
    cr_assert(r.has_value);
    cr_assert_eq(r.n_with, 4);
    cr_assert_eq(r.k_with, 3);
    cr_assert_eq(r.n_without, 4);
    cr_assert_eq(r.k_without, 1);
    assert_close(r.rate_with, 75);
    assert_close(r.rate_without, 25);
    assert_close(r.lift, 50);
    double half = 1.96 * 100 * sqrt(0.75 * 0.25 / 4 + 0.25 * 0.75 / 4);
    assert_close(r.lo, 50 - half);
    assert_close(r.hi, 50 + half);
    /* C in 4 5 6: 0/3; without: 1 2 3 7 8 -> 4/5 */
    r = friction_result(f, C);
    cr_assert_eq(r.n_with, 3);
    cr_assert_eq(r.k_with, 0);
    assert_close(r.lift, -80);
    half = 1.96 * 100 * sqrt(0 + 0.8 * 0.2 / 5);
    assert_close(r.hi - r.lift, half);
    /* a touchpoint never seen: no "with" side */
    struct friction *g = friction_new(NTP + 1);
    cr_assert_not_null(g);
    struct jevent one[] = {EV(0, A, NS, 0, NAN, 0)};
    cr_assert_eq(friction_add(g, one, 1, true), CXM_OK);
    r = friction_result(g, NTP);
    cr_assert_not(r.has_value);
    cr_assert_eq(r.n_without, 1);
    cr_assert_eq(r.lift, 0);
    /* every episode has A: no "without" side */
    r = friction_result(g, A);
    cr_assert_not(r.has_value);
    cr_assert_eq(friction_add(g, one, 0, true), CXM_EINVAL);
    friction_free(g);
    friction_free(f);
}

/* ---- empty input --------------------------------------------------------- */

Test(journey, empty_accumulators)
{
    struct funnel *fu = funnel_new(stage_order, NSTAGE);
    struct flows *fl = flows_new(NTP, false);
    struct paths *pa = paths_new(5);
    struct dropoffs *dr = dropoffs_new(NTP, 2, PU);
    struct friction *fr = friction_new(NTP);
    cr_assert(fu && fl && pa && dr && fr);
    struct funnel_stage s[NSTAGE];
    funnel_result(fu, s);
    for (size_t k = 0; k < NSTAGE; k++)
        cr_assert(s[k].reached == 0 && !s[k].has_rate && !s[k].has_times);
    struct flow_link l[1];
    struct path_row p[1];
    struct dropoff_row d[1];
    size_t n = 9;
    uint64_t oc = 9, ol = 9;
    cr_assert_eq(flows_top(fl, 1, l, &n, &oc, &ol), CXM_OK);
    cr_assert(n == 0 && oc == 0 && ol == 0);
    n = 9;
    cr_assert_eq(paths_top(pa, 1, p, &n), CXM_OK);
    cr_assert_eq(n, 0);
    n = 9;
    cr_assert_eq(dropoffs_top(dr, 1, d, &n), CXM_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(dropoffs_abandoned(dr), 0);
    struct friction_row r = friction_result(fr, A);
    cr_assert_not(r.has_value);
    cr_assert_eq(r.n_with + r.n_without, 0);
    funnel_free(fu);
    flows_free(fl);
    paths_free(pa);
    dropoffs_free(dr);
    friction_free(fr);
}

/* ---- random against brute force ------------------------------------------ */

#define RN 4000
#define RTP 7
#define RCH 3

/* Brute-force funnel of one episode, straight from the definition:
 * reached k = some event at k; converted k = some k+1 event after the
 * first k event, time to the first such. */
static void brute_funnel(const struct jevent *ep, size_t n, uint64_t *reached,
                         uint64_t *beyond, uint64_t *conv, uint32_t **times, size_t *ntimes)
{
    int top = -1;
    for (size_t k = 0; k < NSTAGE; k++) {
        size_t first = n;
        for (size_t i = 0; i < n; i++)
            if (ep[i].stage == stage_order[k]) {
                first = i;
                break;
            }
        if (first == n)
            continue;
        reached[k]++;
        top = (int)k;
        if (k + 1 == NSTAGE)
            continue;
        for (size_t j = first + 1; j < n; j++)
            if (ep[j].stage == stage_order[k + 1]) {
                conv[k]++;
                times[k][ntimes[k]++] = ep[j].ts - ep[first].ts;
                break;
            }
    }
    for (int k = 0; k <= top; k++)
        beyond[k]++;
}

static int u32cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Quantile by another route: the weighted mean of the two order
 * statistics around rank 1 + q (n - 1), in 1-based ranks. */
static double brute_quantile(const uint32_t *s, size_t n, double q)
{
    double h = 1 + q * (double)(n - 1);
    double fl = floor(h);
    size_t i = (size_t)fl;
    if (i >= n)
        return s[n - 1];
    return s[i - 1] * (1 - (h - fl)) + s[i] * (h - fl);
}

Test(journey, random_against_brute_force)
{
    struct rng r = {42};
    static struct jevent ev[RN];
    static uint32_t starts[RN], ep_of[RN];
    static uint32_t tbuf[NSTAGE][RN];
    for (int trial = 0; trial < 5; trial++) {
        struct funnel *fu = funnel_new(stage_order, NSTAGE);
        struct flows *fl = flows_new(RTP, trial % 2);
        struct dropoffs *dr = dropoffs_new(RTP, RCH, PU);
        struct friction *fr = friction_new(RTP);
        struct paths *pa = paths_new(4);
        cr_assert(fu && fl && dr && fr && pa);
        uint64_t reached[NSTAGE] = {0}, beyond[NSTAGE] = {0}, conv[NSTAGE] = {0};
        uint32_t *times[NSTAGE];
        size_t ntimes[NSTAGE] = {0};
        for (size_t k = 0; k < NSTAGE; k++)
            times[k] = tbuf[k];
        uint64_t link[RTP][RTP] = {{0}}, vol[RTP] = {0};
        uint64_t drop_cell[RTP][RCH] = {{0}}, abandoned = 0, episodes = 0;
        uint64_t fr_n[RTP] = {0}, fr_k[RTP] = {0}, fr_out = 0;
        uint32_t gap = 1000;

        size_t done = 0;
        while (done < RN) {
            /* one customer: 1-40 events, in random order */
            size_t n = 1 + rng_below(&r, 40);
            if (n > RN - done)
                n = RN - done;
            struct jevent *c = ev + done;
            for (size_t i = 0; i < n; i++) {
                unsigned st = rng_below(&r, NSTAGE + 2);
                c[i] = EV(rng_below(&r, 20000), rng_below(&r, RTP),
                          st < NSTAGE ? st : st == NSTAGE ? NS : 50, rng_below(&r, RCH),
                          rng_below(&r, 3) ? NAN : (float)rng_below(&r, 11) / 10,
                          rng_below(&r, 8) == 0);
            }
            cr_assert_eq(journey_sort(c, n), CXM_OK);
            for (size_t i = 1; i < n; i++)
                cr_assert_leq(c[i - 1].ts, c[i].ts);
            /* episodes by another route: number each event, then compare */
            uint32_t id = 0;
            for (size_t i = 0; i < n; i++) {
                if (i > 0 && (uint64_t)c[i].ts > (uint64_t)c[i - 1].ts + gap)
                    id++;
                ep_of[i] = id;
            }
            size_t ne = journey_episodes(c, n, gap, starts);
            cr_assert_eq(ne, id + 1);
            for (size_t e = 0; e < ne; e++) {
                size_t s = starts[e], end = e + 1 < ne ? starts[e + 1] : n;
                cr_assert_lt(s, end);
                for (size_t i = s; i < end; i++)
                    cr_assert_eq(ep_of[i], e);
                const struct jevent *ep = c + s;
                size_t m = end - s;
                bool outcome = rng_below(&r, 3) == 0;
                cr_assert_eq(funnel_add(fu, ep, m), CXM_OK);
                cr_assert_eq(flows_add(fl, ep, m), CXM_OK);
                cr_assert_eq(dropoffs_add(dr, ep, m), CXM_OK);
                cr_assert_eq(friction_add(fr, ep, m, outcome), CXM_OK);
                cr_assert_eq(paths_add(pa, ep, m), CXM_OK);
                episodes++;
                brute_funnel(ep, m, reached, beyond, conv, times, ntimes);
                for (size_t i = 0; i < m; i++) {
                    vol[ep[i].touchpoint]++;
                    if (i && (trial % 2 || ep[i - 1].touchpoint != ep[i].touchpoint))
                        link[ep[i - 1].touchpoint][ep[i].touchpoint]++;
                }
                bool goal = false;
                for (size_t i = 0; i < m; i++)
                    goal |= ep[i].stage == PU;
                if (!goal) {
                    abandoned++;
                    drop_cell[ep[m - 1].touchpoint][ep[m - 1].channel]++;
                }
                fr_out += outcome;
                for (size_t t = 0; t < RTP; t++) {
                    bool has = false;
                    for (size_t i = 0; i < m; i++)
                        has |= ep[i].touchpoint == t;
                    fr_n[t] += has;
                    fr_k[t] += has && outcome;
                }
            }
            done += n;
        }

        struct funnel_stage s[NSTAGE];
        funnel_result(fu, s);
        cr_assert_eq(funnel_episodes(fu), episodes);
        for (size_t k = 0; k < NSTAGE; k++) {
            cr_assert_eq(s[k].reached, reached[k]);
            cr_assert_eq(s[k].reached_or_beyond, beyond[k]);
            cr_assert_eq(s[k].converted, conv[k]);
            if (k + 1 < NSTAGE && ntimes[k]) {
                qsort(times[k], ntimes[k], sizeof *times[k], u32cmp);
                assert_close(s[k].median, brute_quantile(times[k], ntimes[k], 0.5));
                assert_close(s[k].p90, brute_quantile(times[k], ntimes[k], 0.9));
            }
        }
        uint64_t total = 0;
        for (uint16_t a = 0; a < RTP; a++) {
            cr_assert_eq(flows_volume(fl, a), vol[a]);
            for (uint16_t b = 0; b < RTP; b++) {
                cr_assert_eq(flows_link(fl, a, b), link[a][b], "trial %d %u->%u", trial, a, b);
                total += link[a][b];
            }
        }
        struct flow_link top[RTP * RTP];
        size_t nout;
        uint64_t oc, ol;
        cr_assert_eq(flows_top(fl, 5, top, &nout, &oc, &ol), CXM_OK);
        uint64_t sum = oc;
        for (size_t i = 0; i < nout; i++) {
            sum += top[i].count;
            if (i)
                cr_assert_geq(top[i - 1].count, top[i].count);
        }
        cr_assert_eq(sum, total);

        cr_assert_eq(dropoffs_episodes(dr), episodes);
        cr_assert_eq(dropoffs_abandoned(dr), abandoned);
        for (uint16_t t = 0; t < RTP; t++) {
            uint64_t bt = 0;
            for (size_t ch = 0; ch < RCH; ch++)
                bt += drop_cell[t][ch];
            cr_assert_eq(dropoffs_by_tp(dr, t), bt);
            struct friction_row fx = friction_result(fr, t);
            cr_assert_eq(fx.n_with, fr_n[t]);
            cr_assert_eq(fx.k_with, fr_k[t]);
            cr_assert_eq(fx.n_without, episodes - fr_n[t]);
            cr_assert_eq(fx.k_without, fr_out - fr_k[t]);
        }
        static struct path_row pr[RN];
        size_t np;
        cr_assert_eq(paths_top(pa, RN, pr, &np), CXM_OK);
        cr_assert_eq(np, paths_count(pa));
        uint64_t pe = 0;
        for (size_t i = 0; i < np; i++)
            pe += pr[i].episodes;
        cr_assert_eq(pe, episodes);

        funnel_free(fu);
        flows_free(fl);
        dropoffs_free(dr);
        friction_free(fr);
        paths_free(pa);
    }
}

/* Fuzz: random sizes and codes, some out of range; the accumulators must
 * refuse what is out of range, never read or write outside their arrays
 * (the sanitizer build checks), and keep their totals consistent. */
Test(journey, fuzz_codes_and_sizes)
{
    struct rng r = {99};
    static struct jevent ev[300];
    static uint32_t starts[300];
    for (int trial = 0; trial < 300; trial++) {
        size_t ntp = 1 + rng_below(&r, 20), nch = 1 + rng_below(&r, 4);
        size_t nst = 1 + rng_below(&r, 8);
        uint16_t order[8];
        for (size_t k = 0; k < nst; k++)
            order[k] = (uint16_t)(k * 3 + rng_below(&r, 3));
        struct funnel *fu = funnel_new(order, nst);
        struct flows *fl = flows_new(ntp, rng_below(&r, 2));
        struct paths *pa = paths_new(1 + rng_below(&r, JOURNEY_MAX_PATH));
        struct dropoffs *dr = dropoffs_new(ntp, nch, (uint16_t)rng_below(&r, 30));
        struct friction *fr = friction_new(ntp);
        cr_assert(fu && fl && pa && dr && fr);
        size_t n = rng_below(&r, 300);
        for (size_t i = 0; i < n; i++)
            ev[i] = EV(rng_below(&r, 2) ? rng_below(&r, 100) : rng_next(&r),
                       rng_below(&r, (unsigned)ntp + 2), rng_below(&r, 30),
                       rng_below(&r, (unsigned)nch + 1), NAN, rng_below(&r, 2));
        cr_assert_eq(journey_sort(ev, n), CXM_OK);
        size_t ne = journey_episodes(ev, n, rng_below(&r, 3) ? 20 : UINT32_MAX, starts);
        uint64_t ok_flows = 0, ok_drop = 0;
        for (size_t e = 0; e < ne; e++) {
            size_t s = starts[e], m = (e + 1 < ne ? starts[e + 1] : n) - s;
            cr_assert_eq(funnel_add(fu, ev + s, m), CXM_OK);
            ok_flows += flows_add(fl, ev + s, m) == CXM_OK;
            ok_drop += dropoffs_add(dr, ev + s, m) == CXM_OK;
            (void)friction_add(fr, ev + s, m, rng_below(&r, 2));
            cr_assert_eq(paths_add(pa, ev + s, m), CXM_OK);
        }
        cr_assert_eq(funnel_episodes(fu), ne);
        cr_assert_eq(dropoffs_episodes(dr), ok_drop);
        cr_assert_leq(dropoffs_abandoned(dr), ok_drop);
        struct funnel_stage fs[8];
        funnel_result(fu, fs);
        for (size_t k = 0; k < nst; k++) {
            cr_assert_leq(fs[k].reached, fs[k].reached_or_beyond);
            cr_assert_leq(fs[k].converted, fs[k].reached);
            if (fs[k].has_times)
                cr_assert_leq(fs[k].median, fs[k].p90);
        }
        uint64_t vol = 0;
        for (uint16_t t = 0; t < ntp + 2; t++) {
            vol += flows_volume(fl, t);
            struct friction_row fx = friction_result(fr, t);
            if (fx.has_value)
                cr_assert(fx.lo <= fx.lift && fx.lift <= fx.hi && isfinite(fx.lo));
        }
        cr_assert_leq(ok_flows, ne);
        cr_assert_leq(vol, n);
        struct flow_link l[8];
        struct path_row p[8];
        struct dropoff_row d[8];
        size_t no;
        uint64_t oc, ol;
        cr_assert_eq(flows_top(fl, 8, l, &no, &oc, &ol), CXM_OK);
        cr_assert_eq(paths_top(pa, 8, p, &no), CXM_OK);
        cr_assert_eq(dropoffs_top(dr, 8, d, &no), CXM_OK);
        funnel_free(fu);
        flows_free(fl);
        paths_free(pa);
        dropoffs_free(dr);
        friction_free(fr);
    }
}

/* ---- designed vs actual ---------------------------------------------- */

static struct jevent cev(uint32_t ts, uint16_t tp, uint16_t stage)
{
    return (struct jevent){.ts = ts, .touchpoint = tp, .stage = stage, .sat = NAN};
}

Test(journey, conformance_counts_each_deviation)
{
    enum { SA = 1, SB = 2, SC = 3, SD = 4 };
    const uint16_t stages[] = {SA, SB, SC};
    const uint16_t ea[] = {1, 2}, ec[] = {3};
    const uint16_t *const exp_[] = {ea, NULL, ec};
    const size_t nexp[] = {2, 0, 1};
    struct conformance *c = conformance_new(stages, 3, exp_, nexp, 8, 8);
    cr_assert(c);
    struct jevent e1[] = {cev(1, 1, SA), cev(2, 5, SB), cev(3, 3, SC)};          /* conforms */
    struct jevent e2[] = {cev(1, 1, SA), cev(2, 3, SC)};                        /* skips B */
    struct jevent e3[] = {cev(1, 5, SB), cev(2, 2, SA)};                        /* B -> A */
    struct jevent e4[] = {cev(1, 4, SA)};                                      /* tp 4 at A */
    struct jevent e5[] = {cev(1, 1, SD)};                                      /* undeclared */
    struct jevent e6[] = {cev(1, 1, JOURNEY_NO_STAGE)};                       /* no stage */
    struct jevent e7[] = {cev(1, 0, SC), cev(2, 3, SC)};                        /* starts at C */
    cr_assert_eq(conformance_add(c, e1, 3), 0);
    cr_assert_eq(conformance_add(c, e2, 2), 0);
    cr_assert_eq(conformance_add(c, e3, 2), 0);
    cr_assert_eq(conformance_add(c, e4, 1), 0);
    cr_assert_eq(conformance_add(c, e5, 1), 0);
    cr_assert_eq(conformance_add(c, e6, 1), 0);
    cr_assert_eq(conformance_add(c, e7, 2), 0);
    struct jevent bad[] = {cev(1, 9, SA)};
    cr_assert_eq(conformance_add(c, bad, 1), CXM_EINVAL, "touchpoint out of range");
    struct conformance_totals t;
    conformance_totals(c, &t);
    cr_assert_eq(t.episodes, 7);
    cr_assert_eq(t.compared, 6);
    cr_assert_eq(t.conforming, 2, "e1 and e7 (no touchpoint is never unexpected)");
    cr_assert_eq(t.with_skip, 1);
    cr_assert_eq(t.with_backward, 1);
    cr_assert_eq(t.with_unexpected, 1);
    cr_assert_eq(t.with_undeclared, 1);
    cr_assert_eq(conformance_skipped(c, 1), 1);
    cr_assert_eq(conformance_skipped(c, 0) + conformance_skipped(c, 2), 0);
    cr_assert_eq(conformance_backward(c, 1, 0), 1);
    cr_assert_eq(conformance_unexpected(c, 0, 4), 1);
    cr_assert_eq(conformance_unexpected(c, 1, 5), 0, "B expects any touchpoint");
    cr_assert_eq(conformance_undeclared(c, SD), 1);
    conformance_free(c);
    /* bad designs */
    const uint16_t dup[] = {SA, SA};
    cr_assert_null(conformance_new(dup, 2, NULL, NULL, 8, 8));
    const uint16_t far[] = {9};
    cr_assert_null(conformance_new(far, 1, NULL, NULL, 8, 8));
    cr_assert_null(conformance_new(stages, 0, NULL, NULL, 8, 8));
}

Test(journey, paths_churn_counts_known_episodes_only)
{
    struct paths *p = paths_new(4);
    cr_assert(p);
    struct jevent ep[] = {cev(1, 1, JOURNEY_NO_STAGE), cev(2, 2, JOURNEY_NO_STAGE)};
    cr_assert_eq(paths_add_churn(p, ep, 2, 1), 0);
    cr_assert_eq(paths_add_churn(p, ep, 2, 0), 0);
    cr_assert_eq(paths_add_churn(p, ep, 2, -1), 0);
    cr_assert_eq(paths_add_churn(p, ep, 2, 2), CXM_EINVAL);
    struct path_row r[2];
    size_t n = 0;
    cr_assert_eq(paths_top(p, 2, r, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(r[0].episodes, 3);
    cr_assert_eq(r[0].churn_n, 2);
    cr_assert_float_eq(r[0].churn, 50.0, 1e-12);
    paths_free(p);
}

/* The summary entry points count as the event ones: friction with the
 * touchpoints as a list for several outcomes at once, one left out (not
 * counted), and from counts made here; drop-offs from the last event. */
Test(journey, summary_entry_points_count_as_the_event_ones)
{
    static const struct {
        uint16_t tp[4];
        size_t n;
        bool out[2], counted1;
    } eps[] = {
        {{A, B}, 2, {true, false}, true},  {{B, B, B}, 3, {true, true}, false},
        {{A}, 1, {false, true}, true},     {{C, B}, 2, {false, false}, true},
        {{D, A, D}, 3, {true, true}, true}, {{B, D, B, D}, 4, {false, true}, false},
    };
    struct friction *ev[2], *ls[2], *st[2];
    uint64_t nw[2][NTP] = {{0}}, kw[2][NTP] = {{0}}, ne[2] = {0}, no[2] = {0};
    for (int o = 0; o < 2; o++) {
        ev[o] = friction_new(NTP);
        ls[o] = friction_new(NTP);
        st[o] = friction_new(NTP);
        cr_assert(ev[o] && ls[o] && st[o]);
    }
    for (size_t e = 0; e < N(eps); e++) {
        struct jevent ep[4];
        uint64_t set = 0;
        for (size_t i = 0; i < eps[e].n; i++) {
            ep[i] = EV(i, eps[e].tp[i], NS, 0, NAN, 0);
            set |= UINT64_C(1) << eps[e].tp[i];
        }
        bool counted[2] = {true, eps[e].counted1};
        cr_assert_eq(friction_add(ev[0], ep, eps[e].n, eps[e].out[0]), CXM_OK);
        if (counted[1])
            cr_assert_eq(friction_add(ev[1], ep, eps[e].n, eps[e].out[1]), CXM_OK);
        cr_assert_eq(friction_add_tp_each(ls, 2, eps[e].tp, eps[e].n, eps[e].out, counted),
                     CXM_OK);
        for (int o = 0; o < 2; o++) {
            if (!counted[o])
                continue;
            ne[o]++;
            no[o] += eps[e].out[o];
            for (uint16_t t = 0; t < NTP; t++)
                if (set >> t & 1) {
                    nw[o][t]++;
                    kw[o][t] += eps[e].out[o];
                }
        }
    }
    for (int o = 0; o < 2; o++)
        cr_assert_eq(friction_add_counts(st[o], nw[o], kw[o], NTP, ne[o], no[o]), CXM_OK);
    for (int o = 0; o < 2; o++)
        for (uint16_t t = 0; t < NTP; t++) {
            struct friction_row a = friction_result(ev[o], t), b = friction_result(ls[o], t),
                                c = friction_result(st[o], t);
            cr_assert(a.n_with == b.n_with && a.k_with == b.k_with && a.n_without == b.n_without &&
                      a.k_without == b.k_without, "list, outcome %d, touchpoint %u", o, t);
            cr_assert(a.n_with == c.n_with && a.k_with == c.k_with && a.n_without == c.n_without &&
                      a.k_without == c.k_without, "counts, outcome %d, touchpoint %u", o, t);
        }
    /* out of range or empty: nothing counted */
    bool yes[2] = {true, true}, out[2] = {true, true};
    uint16_t bad[] = {A, NTP};
    cr_assert_eq(friction_add_tp_each(st, 2, bad, 2, out, yes), CXM_EINVAL);
    cr_assert_eq(friction_add_counts(st[0], nw[0], kw[0], NTP + 1, ne[0], no[0]), CXM_EINVAL);
    kw[0][A] = nw[0][A] + 1;
    cr_assert_eq(friction_add_counts(st[0], nw[0], kw[0], NTP, ne[0], no[0]), CXM_EINVAL);
    cr_assert_eq(friction_result(st[0], A).n_with + friction_result(st[0], A).n_without,
                 N(eps));
    for (int o = 0; o < 2; o++) {
        friction_free(ev[o]);
        friction_free(ls[o]);
        friction_free(st[o]);
    }

    /* drop-offs: the last event's touchpoint and channel, the goal reached
     * or not */
    struct dropoffs *d1 = dropoffs_new(NTP, 3, JOURNEY_GOAL_PURCHASE),
                    *d2 = dropoffs_new(NTP, 3, JOURNEY_GOAL_PURCHASE);
    cr_assert(d1 && d2);
    struct jevent dep[] = {EV(0, A, NS, 1, NAN, 0), EV(1, C, NS, 2, NAN, 0)};
    cr_assert_eq(dropoffs_add(d1, dep, 2), CXM_OK);
    cr_assert_eq(dropoffs_add_last(d2, C, 2, false), CXM_OK);
    cr_assert_eq(dropoffs_add_last(d2, NTP, 2, false), CXM_EINVAL);
    cr_assert_eq(dropoffs_abandoned(d1), dropoffs_abandoned(d2));
    cr_assert_eq(dropoffs_by_tp(d1, C), dropoffs_by_tp(d2, C));
    cr_assert_eq(dropoffs_by_channel(d1, 2), 1);
    cr_assert_eq(dropoffs_by_channel(d2, 2), 1);
    dropoffs_free(d1);
    dropoffs_free(d2);
}
