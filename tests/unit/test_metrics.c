/* test_metrics.c - metric values and margins against independent
 * computations (per-response values, two-pass mean and variance),
 * significance against hand-worked examples, score boundaries, empty and
 * unanimous groups, age bands, and the calendar buckets of every day from
 * 1900 to 2100 against a day-by-day walk. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "core/metrics.h"
#include "core/timefmt.h"

/* ---- helpers ------------------------------------------------------------ */

#define ANY_INT_MAX INT_MAX
#define ANY_INT_MIN INT_MIN

/* splitmix64: a seeded, repeatable stream. */
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

/* Uniform in [lo, hi]. */
static int rng_int(struct rng *r, int lo, int hi)
{
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static bool close_to(double got, double want)
{
    return fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want));
}

#define assert_close(got, want)                                                    \
    cr_assert(close_to((got), (want)), "%s = %.17g, want %.17g", #got, (double)(got), \
              (double)(want))

static void assert_empty(struct metric_value v)
{
    cr_assert_not(v.has_value);
    cr_assert_not(v.has_margin);
    cr_assert_eq(v.n, 0);
    cr_assert_eq(v.value, 0.0);
    cr_assert_eq(v.margin, 0.0);
}

static void assert_finite(struct metric_value v)
{
    cr_assert(isfinite(v.value) && isfinite(v.margin), "value %g margin %g", v.value, v.margin);
}

/* Mean and population variance of x[0..n-1] by two passes. */
static void two_pass(const double *x, size_t n, double *mean, double *pop_var)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - *mean) * (x[i] - *mean);
    *pop_var = ss / (double)n;
}

#define MAXN 400

/* ---- NPS ----------------------------------------------------------------- */

/* NPS is the mean of per-response values +100 / 0 / -100, and its margin
 * 1.96 * sqrt(var / N) with var the population variance of those values:
 * algebraically the DESIGN formula, computed by another route. */
Test(metrics, nps_random_against_per_response_values)
{
    struct rng r = {1};
    double x[MAXN];
    for (int trial = 0; trial < 2000; trial++) {
        int len = rng_int(&r, 0, MAXN);
        struct nps_acc a = {0}, half1 = {0}, half2 = {0};
        size_t n = 0;
        /* Some trials are skewed so unanimous and near-unanimous groups occur. */
        int lo = trial % 5 == 0 ? 9 : -3, hi = trial % 7 == 0 ? 6 : 13;
        if (lo > hi)
            lo = hi = 7;
        for (int i = 0; i < len; i++) {
            int s = rng_int(&r, lo, hi);
            nps_add(&a, s);
            nps_add(i % 2 ? &half1 : &half2, s);
            if (s < 0 || s > 10)
                continue;
            x[n++] = s >= 9 ? 100.0 : s >= 7 ? 0.0 : -100.0;
        }
        struct metric_value v = nps_value(&a);
        assert_finite(v);
        cr_assert_eq(a.n, n);
        cr_assert_eq(a.promoters + a.passives + a.detractors, a.n);
        nps_merge(&half1, &half2);
        cr_assert_eq(memcmp(&half1, &a, sizeof a), 0, "merge differs from one accumulator");
        if (n == 0) {
            assert_empty(v);
            continue;
        }
        double mean, var;
        two_pass(x, n, &mean, &var);
        cr_assert(v.has_value && v.has_margin);
        cr_assert_eq(v.n, n);
        assert_close(v.value, mean);
        assert_close(v.margin, 1.96 * sqrt(var / (double)n));
        cr_assert(v.value >= -100 && v.value <= 100);
    }
}

Test(metrics, nps_score_boundaries)
{
    static const struct {
        int score;
        int kind; /* 0 detractor, 1 passive, 2 promoter */
    } cases[] = {{0, 0}, {1, 0}, {5, 0}, {6, 0}, {7, 1}, {8, 1}, {9, 2}, {10, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nps_acc a = {0};
        nps_add(&a, cases[i].score);
        cr_assert_eq(a.n, 1);
        cr_assert_eq(a.detractors, cases[i].kind == 0, "score %d", cases[i].score);
        cr_assert_eq(a.passives, cases[i].kind == 1, "score %d", cases[i].score);
        cr_assert_eq(a.promoters, cases[i].kind == 2, "score %d", cases[i].score);
        /* One response: its own value, margin 0 (defined from n = 1). */
        struct metric_value v = nps_value(&a);
        cr_assert(v.has_value && v.has_margin);
        cr_assert_eq(v.value, cases[i].kind == 0 ? -100.0 : cases[i].kind == 1 ? 0.0 : 100.0);
        cr_assert_eq(v.margin, 0.0);
    }
}

Test(metrics, nps_ignores_out_of_range)
{
    struct nps_acc a = {0};
    const int bad[] = {-1, 11, 12, 100, -100, ANY_INT_MIN, ANY_INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        nps_add(&a, bad[i]);
    cr_assert_eq(a.n + a.promoters + a.passives + a.detractors, 0);
    assert_empty(nps_value(&a));
}

Test(metrics, nps_empty_group)
{
    struct nps_acc a = {0};
    assert_empty(nps_value(&a));
    struct nps_acc e = {0};
    nps_merge(&a, &e);
    assert_empty(nps_value(&a));
}

Test(metrics, nps_unanimous_groups_have_zero_margin)
{
    const int scores[] = {10, 9, 8, 7, 6, 0};
    const double want[] = {100, 100, 0, 0, -100, -100};
    for (size_t i = 0; i < sizeof scores / sizeof scores[0]; i++) {
        struct nps_acc a = {0};
        for (int k = 0; k < 1000; k++)
            nps_add(&a, scores[i]);
        struct metric_value v = nps_value(&a);
        cr_assert(v.has_value && v.has_margin);
        cr_assert_eq(v.n, 1000);
        cr_assert_eq(v.value, want[i]);
        cr_assert_eq(v.margin, 0.0, "score %d margin %g", scores[i], v.margin);
    }
}

Test(metrics, nps_hand_worked_value)
{
    /* 40 promoters, 40 passives, 20 detractors: NPS 20. Per-response
     * values: 40 x 100, 40 x 0, 20 x -100; E[x^2] = 6000, E[x]^2 = 400,
     * variance 5600; margin = 1.96 * sqrt(5600 / 100) = 1.96 * 7.48331...
     * = 14.6672969... */
    struct nps_acc a = {0};
    for (int i = 0; i < 40; i++)
        nps_add(&a, 10);
    for (int i = 0; i < 40; i++)
        nps_add(&a, 7);
    for (int i = 0; i < 20; i++)
        nps_add(&a, 3);
    struct metric_value v = nps_value(&a);
    assert_close(v.value, 20.0);
    cr_assert(fabs(v.margin - 14.6672969) < 1e-6, "margin %.9f", v.margin);
}

/* ---- CSAT and CES ---------------------------------------------------------- */

/* Checks a mean against a two-pass mean and sample variance (n - 1). */
static void check_mean(struct metric_value v, const double *x, size_t n)
{
    assert_finite(v);
    if (n == 0) {
        assert_empty(v);
        return;
    }
    double mean, pop;
    two_pass(x, n, &mean, &pop);
    cr_assert(v.has_value);
    cr_assert_eq(v.n, n);
    assert_close(v.value, mean);
    if (n < 2) {
        cr_assert_not(v.has_margin);
        cr_assert_eq(v.margin, 0.0);
        return;
    }
    double s2 = pop * (double)n / (double)(n - 1);
    cr_assert(v.has_margin);
    assert_close(v.margin, 1.96 * sqrt(s2 / (double)n));
}

/* Checks a percentage as the mean of per-response 100 / 0 values, margin
 * from their population variance. */
static void check_pct(struct metric_value v, const double *hit, size_t n)
{
    assert_finite(v);
    if (n == 0) {
        assert_empty(v);
        return;
    }
    double mean, pop;
    two_pass(hit, n, &mean, &pop);
    cr_assert(v.has_value && v.has_margin);
    cr_assert_eq(v.n, n);
    assert_close(v.value, mean);
    assert_close(v.margin, 1.96 * sqrt(pop / (double)n));
}

Test(metrics, csat_random_against_two_pass)
{
    struct rng r = {2};
    double x[MAXN], hit[MAXN];
    for (int trial = 0; trial < 2000; trial++) {
        int len = rng_int(&r, 0, trial < 50 ? 3 : MAXN);
        int lo = trial % 5 == 0 ? 4 : -1, hi = trial % 7 == 0 ? 3 : 7;
        if (lo > hi)
            lo = hi = 3;
        struct csat_acc a = {0};
        size_t n = 0;
        for (int i = 0; i < len; i++) {
            int s = rng_int(&r, lo, hi);
            csat_add(&a, s);
            if (s < 1 || s > 5)
                continue;
            x[n] = s;
            hit[n] = s >= 4 ? 100.0 : 0.0;
            n++;
        }
        cr_assert_eq(a.n, n);
        check_mean(csat_mean(&a), x, n);
        check_pct(csat_pct(&a), hit, n);
    }
}

Test(metrics, ces_random_against_two_pass)
{
    struct rng r = {3};
    double x[MAXN], hit[MAXN];
    for (int trial = 0; trial < 2000; trial++) {
        int len = rng_int(&r, 0, trial < 50 ? 3 : MAXN);
        int lo = trial % 5 == 0 ? 4 : -1, hi = trial % 7 == 0 ? 3 : 9;
        if (lo > hi)
            lo = hi = 4;
        struct ces_acc a = {0};
        size_t n = 0;
        for (int i = 0; i < len; i++) {
            int s = rng_int(&r, lo, hi);
            ces_add(&a, s);
            if (s < 1 || s > 7)
                continue;
            x[n] = s;
            hit[n] = s <= 3 ? 100.0 : 0.0;
            n++;
        }
        cr_assert_eq(a.n, n);
        check_mean(ces_mean(&a), x, n);
        check_pct(ces_low_pct(&a), hit, n);
    }
}

Test(metrics, csat_boundaries_and_range)
{
    for (int s = -2; s <= 7; s++) {
        struct csat_acc a = {0};
        csat_add(&a, s);
        bool in = s >= 1 && s <= 5;
        cr_assert_eq(a.n, in, "score %d", s);
        cr_assert_eq(a.top2, s == 4 || s == 5, "score %d", s);
        struct metric_value pct = csat_pct(&a);
        if (!in) {
            assert_empty(pct);
            assert_empty(csat_mean(&a));
            continue;
        }
        cr_assert_eq(pct.value, s >= 4 ? 100.0 : 0.0, "score %d", s);
        cr_assert(pct.has_margin);
        cr_assert_eq(pct.margin, 0.0);
        struct metric_value m = csat_mean(&a);
        cr_assert(m.has_value);
        cr_assert_eq(m.value, (double)s);
        cr_assert_not(m.has_margin, "one response has no sample deviation");
    }
    struct csat_acc a = {0};
    csat_add(&a, ANY_INT_MIN);
    csat_add(&a, ANY_INT_MAX);
    cr_assert_eq(a.n, 0);
    /* 3 is not satisfied, 4 is: one of each is 50%. */
    csat_add(&a, 3);
    csat_add(&a, 4);
    assert_close(csat_pct(&a).value, 50.0);
}

Test(metrics, ces_boundaries_and_range)
{
    for (int s = -2; s <= 9; s++) {
        struct ces_acc a = {0};
        ces_add(&a, s);
        bool in = s >= 1 && s <= 7;
        cr_assert_eq(a.n, in, "score %d", s);
        cr_assert_eq(a.low, in && s <= 3, "score %d", s);
        if (!in) {
            assert_empty(ces_low_pct(&a));
            assert_empty(ces_mean(&a));
            continue;
        }
        cr_assert_eq(ces_low_pct(&a).value, s <= 3 ? 100.0 : 0.0, "score %d", s);
        cr_assert_eq(ces_mean(&a).value, (double)s);
    }
    struct ces_acc a = {0};
    ces_add(&a, 3);
    ces_add(&a, 4);
    ces_add(&a, 4);
    ces_add(&a, 4);
    assert_close(ces_low_pct(&a).value, 25.0);
    assert_close(ces_mean(&a).value, 3.75);
}

Test(metrics, means_of_identical_answers_have_zero_margin)
{
    /* Up to large counts the margin of identical integer answers is
     * exactly 0. */
    const uint64_t counts[] = {2, 3, 7, 1000, 999983, 3000017};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        for (int s = 1; s <= 7; s++) {
            struct ces_acc a = {0};
            for (uint64_t k = 0; k < counts[i]; k++)
                ces_add(&a, s);
            struct metric_value v = ces_mean(&a);
            cr_assert(v.has_margin);
            cr_assert_eq(v.value, (double)s);
            cr_assert_eq(v.margin, 0.0, "n %lu score %d margin %g", (unsigned long)counts[i], s,
                         v.margin);
        }
    }
}

/* Sums of non-integers (sentiment, say) carry rounding; for identical
 * values sumsq - sum * mean can come out below 0 (0.7 ten times does). The
 * margin must stay a finite, tiny, non-negative number. */
Test(metrics, means_of_non_integer_identical_values)
{
    const double xs[] = {0.1, 0.7, 1.0 / 3, 2.2, -0.35, 0.05};
    const uint64_t ns[] = {2, 3, 10, 1000, 12345};
    int negative = 0;
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
            struct csat_acc a = {.n = ns[j]};
            for (uint64_t k = 0; k < ns[j]; k++) {
                a.sum += xs[i];
                a.sumsq += xs[i] * xs[i];
            }
            negative += a.sumsq - a.sum * (a.sum / (double)a.n) < 0;
            struct metric_value v = csat_mean(&a);
            assert_finite(v);
            cr_assert(v.has_margin);
            cr_assert(v.margin >= 0 && v.margin < 1e-6, "x %g n %lu margin %g", xs[i],
                      (unsigned long)ns[j], v.margin);
            struct metric_change c = mean_change(a.sum, a.sumsq, a.n, a.sum, a.sumsq, a.n);
            cr_assert(c.has_value);
            cr_assert_not(c.significant);
        }
    }
    cr_assert_gt(negative, 0, "the case the clamp exists for did occur");
}

Test(metrics, mean_of_large_group_with_one_outlier)
{
    /* 10^6 fives and one 1: s^2 = (sum of squared deviations) / (n - 1)
     * computed exactly: mean m = (5n + 1) / (n + 1), deviations 5 - m
     * (n times) and 1 - m. The margin must not be snapped to 0. */
    const uint64_t n5 = 1000000;
    struct csat_acc a = {0};
    for (uint64_t k = 0; k < n5; k++)
        csat_add(&a, 5);
    csat_add(&a, 1);
    double n = (double)(n5 + 1);
    double m = (5.0 * (double)n5 + 1.0) / n;
    double ss = (double)n5 * (5 - m) * (5 - m) + (1 - m) * (1 - m);
    struct metric_value v = csat_mean(&a);
    cr_assert_gt(v.margin, 0.0);
    cr_assert(fabs(v.margin - 1.96 * sqrt(ss / (n - 1) / n)) < 1e-9 * v.margin,
              "margin %.17g", v.margin);
}

Test(metrics, corrupt_counts_give_no_value)
{
    struct csat_acc c = {.n = 2, .top2 = 3, .sum = 10, .sumsq = 50};
    assert_empty(csat_pct(&c));
    struct ces_acc e = {.n = 1, .low = 2, .sum = 1, .sumsq = 1};
    assert_empty(ces_low_pct(&e));
    cr_assert_not(pct_change(3, 2, 1, 2).has_value);
    cr_assert_not(pct_change(1, 2, 3, 2).has_value);
}

/* ---- significance ----------------------------------------------------------- */

static struct nps_acc nps_counts(int promoters, int passives, int detractors)
{
    struct nps_acc a = {0};
    for (int i = 0; i < promoters; i++)
        nps_add(&a, 9);
    for (int i = 0; i < passives; i++)
        nps_add(&a, 8);
    for (int i = 0; i < detractors; i++)
        nps_add(&a, 6);
    return a;
}

Test(metrics, nps_change_hand_worked)
{
    /* prev: 40 P, 40 passive, 20 D of 100 -> NPS 20; p = .4, d = .2,
     *   per-response variance 100^2 (.6 - .2^2) = 5600.
     * cur: 50 P, 40 passive, 10 D of 100 -> NPS 40; p = .5, d = .1,
     *   variance 100^2 (.6 - .4^2) = 4400.
     * threshold = 1.96 sqrt(5600/100 + 4400/100) = 1.96 sqrt(100) = 19.6;
     * change 20 > 19.6: significant (just). */
    struct nps_acc prev = nps_counts(40, 40, 20), cur = nps_counts(50, 40, 10);
    struct metric_change c = nps_change(&prev, &cur);
    cr_assert(c.has_value);
    assert_close(c.change, 20.0);
    cr_assert(c.significant);
    /* The other direction: -20, equally significant. */
    c = nps_change(&cur, &prev);
    assert_close(c.change, -20.0);
    cr_assert(c.significant);
    /* Same shares on 50 each: threshold 1.96 sqrt(5600/50 + 4400/50)
     * = 1.96 sqrt(200) = 27.72 > 20: not significant. */
    prev = nps_counts(20, 20, 10);
    cur = nps_counts(25, 20, 5);
    c = nps_change(&prev, &cur);
    assert_close(c.change, 20.0);
    cr_assert_not(c.significant);
    /* 36 P, 44 passive, 20 D -> NPS 16 vs 40 on 100 each: change 24,
     * variances 100^2 (.56 - .16^2) = 5344 and 4400, threshold
     * 1.96 sqrt(97.44) = 19.35; significant. */
    prev = nps_counts(36, 44, 20);
    cur = nps_counts(50, 40, 10);
    c = nps_change(&prev, &cur);
    assert_close(c.change, 24.0);
    cr_assert(c.significant);
    /* No change at all is never significant. */
    c = nps_change(&cur, &cur);
    cr_assert(c.has_value);
    cr_assert_eq(c.change, 0.0);
    cr_assert_not(c.significant);
}

Test(metrics, nps_change_small_and_empty_sides)
{
    struct nps_acc empty = {0}, one = nps_counts(1, 0, 0), big = nps_counts(10, 80, 10);
    struct metric_change c = nps_change(&empty, &big);
    cr_assert_not(c.has_value);
    cr_assert_not(c.significant);
    cr_assert_eq(c.change, 0.0);
    c = nps_change(&big, &empty);
    cr_assert_not(c.has_value);
    c = nps_change(&empty, &empty);
    cr_assert_not(c.has_value);
    /* One response on a side: a change, never significant. */
    c = nps_change(&big, &one);
    cr_assert(c.has_value);
    assert_close(c.change, 100.0);
    cr_assert_not(c.significant);
    c = nps_change(&one, &big);
    assert_close(c.change, -100.0);
    cr_assert_not(c.significant);
    /* Small groups: 2 of 3 promoters vs 1 of 3: change 33, not significant. */
    struct nps_acc a = nps_counts(2, 1, 0), b = nps_counts(1, 2, 0);
    c = nps_change(&b, &a);
    cr_assert_not(c.significant);
}

/* significant must agree with a threshold computed from the test's own
 * per-response population variances (away from the knife edge). */
Test(metrics, nps_change_random_against_per_response_values)
{
    struct rng r = {4};
    int sig = 0, not_sig = 0;
    for (int trial = 0; trial < 3000; trial++) {
        struct nps_acc acc[2] = {{0}, {0}};
        double mean[2], var[2];
        size_t n[2];
        for (int side = 0; side < 2; side++) {
            double x[MAXN];
            int len = rng_int(&r, 0, MAXN);
            /* Each side gets its own lean so real differences occur. */
            int lo = rng_int(&r, 0, 6), hi = rng_int(&r, 7, 10);
            n[side] = 0;
            for (int i = 0; i < len; i++) {
                int s = rng_int(&r, lo, hi);
                nps_add(&acc[side], s);
                x[n[side]++] = s >= 9 ? 100.0 : s >= 7 ? 0.0 : -100.0;
            }
            if (n[side])
                two_pass(x, n[side], &mean[side], &var[side]);
        }
        struct metric_change c = nps_change(&acc[0], &acc[1]);
        if (n[0] == 0 || n[1] == 0) {
            cr_assert_not(c.has_value);
            cr_assert_not(c.significant);
            continue;
        }
        cr_assert(c.has_value);
        assert_close(c.change, mean[1] - mean[0]);
        if (n[0] < 2 || n[1] < 2) {
            cr_assert_not(c.significant);
            continue;
        }
        double thr = 1.96 * sqrt(var[0] / (double)n[0] + var[1] / (double)n[1]);
        double gap = fabs(mean[1] - mean[0]) - thr;
        if (fabs(gap) < 1e-9)
            continue;
        cr_assert_eq(c.significant, gap > 0, "trial %d: change %g threshold %g", trial,
                     c.change, thr);
        if (c.significant)
            sig++;
        else
            not_sig++;
    }
    cr_assert(sig > 100 && not_sig > 100, "both outcomes exercised: %d %d", sig, not_sig);
}

Test(metrics, csat_pct_change_hand_worked)
{
    /* 60 of 100 satisfied -> 75 of 100: change 15; variances 100^2 .6 .4
     * = 2400 and 100^2 .75 .25 = 1875; threshold 1.96 sqrt(24 + 18.75) =
     * 1.96 * 6.538 = 12.82 < 15: significant. */
    struct csat_acc prev = {0}, cur = {0};
    for (int i = 0; i < 100; i++) {
        csat_add(&prev, i < 60 ? 5 : 2);
        csat_add(&cur, i < 75 ? 4 : 3);
    }
    struct metric_change c = csat_pct_change(&prev, &cur);
    cr_assert(c.has_value);
    assert_close(c.change, 15.0);
    cr_assert(c.significant);
    /* 12 of 20 -> 15 of 20: threshold 1.96 sqrt(2400/20 + 1875/20) =
     * 1.96 * 14.62 = 28.66 > 15: not significant. */
    c = pct_change(12, 20, 15, 20);
    assert_close(c.change, 15.0);
    cr_assert_not(c.significant);
    struct csat_acc empty = {0};
    cr_assert_not(csat_pct_change(&empty, &cur).has_value);
    cr_assert_not(csat_pct_change(&cur, &empty).has_value);
    c = pct_change(1, 1, 50, 100);
    cr_assert(c.has_value);
    assert_close(c.change, -50.0);
    cr_assert_not(c.significant);
    /* Unanimous on both sides: zero variance, so the sole non-zero change
     * counts (the documented Wald behaviour); no change does not. */
    cr_assert(pct_change(0, 2, 2, 2).significant);
    cr_assert_not(pct_change(2, 2, 4, 4).significant);
}

Test(metrics, mean_change_hand_worked)
{
    /* prev 1,2,3,4,5 (mean 3, s^2 = 10/4 = 2.5), cur 2,3,4,5,6 (mean 4,
     * s^2 = 2.5): threshold 1.96 sqrt(2.5/5 + 2.5/5) = 1.96 > 1: not
     * significant. */
    double sp = 15, qp = 55, sc = 20, qc = 90;
    struct metric_change c = mean_change(sp, qp, 5, sc, qc, 5);
    cr_assert(c.has_value);
    assert_close(c.change, 1.0);
    cr_assert_not(c.significant);
    /* Each list twenty times (n = 100): s^2 = 20 * 10 / 99 = 2.0202,
     * threshold 1.96 sqrt(2 * 2.0202 / 100) = 0.394 < 1: significant. */
    c = mean_change(20 * sp, 20 * qp, 100, 20 * sc, 20 * qc, 100);
    assert_close(c.change, 1.0);
    cr_assert(c.significant);
    /* Empty side, one response, non-finite sums. */
    cr_assert_not(mean_change(0, 0, 0, sc, qc, 5).has_value);
    cr_assert_not(mean_change(sp, qp, 5, 0, 0, 0).has_value);
    c = mean_change(4, 16, 1, sc, qc, 5);
    cr_assert(c.has_value);
    assert_close(c.change, 0.0);
    cr_assert_not(c.significant);
    c = mean_change(sp, qp, 5, 7, 49, 1);
    assert_close(c.change, 4.0);
    cr_assert_not(c.significant);
    cr_assert_not(mean_change(NAN, qp, 5, sc, qc, 5).has_value);
    cr_assert_not(mean_change(sp, INFINITY, 5, sc, qc, 5).has_value);
    cr_assert_not(mean_change(sp, qp, 5, sc, -INFINITY, 5).has_value);
    /* Two identical groups of identical answers: nothing to see. */
    c = mean_change(400, 1600, 100, 400, 1600, 100);
    cr_assert(c.has_value);
    cr_assert_eq(c.change, 0.0);
    cr_assert_not(c.significant);
}

Test(metrics, mean_values_reject_non_finite_accumulators)
{
    struct csat_acc a = {.n = 3, .sum = NAN, .sumsq = 1};
    assert_empty(csat_mean(&a));
    struct ces_acc e = {.n = 3, .sum = 3, .sumsq = INFINITY};
    assert_empty(ces_mean(&e));
}

/* ---- age bands -------------------------------------------------------------- */

static int64_t at(const char *s)
{
    int64_t t = 0;
    int rc = timefmt_parse(s, &t, NULL);
    cr_assert_eq(rc, 0, "bad test time %s", s);
    return t;
}

static void assert_band(int birth_year, int64_t ts, const char *want)
{
    static const char *const names[] = {NULL, "18-24", "25-34", "35-44", "45-54", "55-64",
                                        "65+"};
    int k = metrics_age_band_index(birth_year, ts);
    cr_assert(k >= 0 && k <= 6);
    cr_assert(want ? names[k] && !strcmp(names[k], want) : !names[k],
              "born %d: index %d, want %s", birth_year, k, want ? want : "none");
    const char *got = metrics_age_band(birth_year, ts);
    if (want == NULL)
        cr_assert_null(got, "born %d: got %s", birth_year, got ? got : "");
    else
        cr_assert(got && strcmp(got, want) == 0, "born %d: got %s, want %s", birth_year,
                  got ? got : "NULL", want);
}

Test(metrics, age_band_boundaries)
{
    int64_t t = at("2026-06-15T12:00:00Z");
    static const struct {
        int age;
        const char *band;
    } cases[] = {{-5, NULL},    {0, NULL},     {17, NULL},    {18, "18-24"}, {24, "18-24"},
                 {25, "25-34"}, {34, "25-34"}, {35, "35-44"}, {44, "35-44"}, {45, "45-54"},
                 {54, "45-54"}, {55, "55-64"}, {64, "55-64"}, {65, "65+"},   {120, "65+"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_band(2026 - cases[i].age, t, cases[i].band);
    assert_band(0, t, NULL);
    /* The year of ts in UTC decides: born 2008, 17 until the last second
     * of 2025, 18 from the first of 2026. */
    assert_band(2008, at("2025-12-31T23:59:59Z"), NULL);
    assert_band(2008, at("2026-01-01T00:00:00Z"), "18-24");
    assert_band(2008, at("2026-01-01T00:30:00+01:00"), NULL);
    assert_band(1961, at("2025-12-31T23:59:59Z"), "55-64");
    assert_band(1961, at("2026-01-01T00:00:00Z"), "65+");
    /* Before 1970: negative times. */
    assert_band(1940, at("1960-12-31T23:59:59Z"), "18-24");
    assert_band(1943, at("1960-12-31T23:59:59Z"), NULL);
}

/* ---- calendar buckets ----------------------------------------------------- */

static const enum bucket all_buckets[] = {BUCKET_DAY, BUCKET_WEEK, BUCKET_MONTH, BUCKET_QUARTER,
                                          BUCKET_YEAR};
#define NBUCKETS 5

/* A calendar walked one day at a time, knowing nothing but month lengths. */
struct walk {
    int y;
    unsigned m, d;
    int64_t day; /* days since 1970-01-01 */
};

static unsigned walk_month_len(int y, unsigned m)
{
    if (m == 2)
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28;
    return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

static void walk_step(struct walk *w)
{
    w->day++;
    if (++w->d > walk_month_len(w->y, w->m)) {
        w->d = 1;
        if (++w->m > 12) {
            w->m = 1;
            w->y++;
        }
    }
}

/* 0 = Monday: 1970-01-01 (day 0) was a Thursday. */
static int walk_weekday(int64_t day)
{
    int64_t r = (day % 7 + 7) % 7; /* 0 = Thursday */
    return (int)((r + 3) % 7);
}

static void label_of(char *buf, const char *fmt_kind, int a, unsigned b, unsigned c)
{
    int n;
    if (strcmp(fmt_kind, "day") == 0)
        n = snprintf(buf, 16, "%04d-%02u-%02u", a, b, c);
    else if (strcmp(fmt_kind, "week") == 0)
        n = snprintf(buf, 16, "%04d-W%02u", a, b);
    else if (strcmp(fmt_kind, "month") == 0)
        n = snprintf(buf, 16, "%04d-%02u", a, b);
    else if (strcmp(fmt_kind, "quarter") == 0)
        n = snprintf(buf, 16, "%04d-Q%u", a, b);
    else
        n = snprintf(buf, 16, "%04d", a);
    cr_assert(n > 0 && n < 16);
}

/* Every day from 1900-01-01 (a Monday, day -25567) to 2100-12-31, at
 * several times of day: bucket starts and labels against the walk, and at
 * every change of bucket, bucket_next of the old one (aligned and not). ISO
 * weeks by the rule alone: on each Monday, if that week's Thursday lies in
 * a year other than the current week-year, week 1 of that year begins;
 * otherwise the week number goes up by one. */
Test(metrics, buckets_against_day_by_day_walk, .timeout = 120)
{
    struct walk w = {1900, 1, 1, -25567};
    int iso_year = 0;
    unsigned iso_week = 0;
    int64_t start[NBUCKETS] = {0};
    int last_week[300] = {0}; /* weeks in ISO year 1900 + i */
    int jan1_wd[300] = {0};
    bool saw_epoch = false;
    static const int64_t offs[] = {0, 1, 43200, 86399};
    char got[16], want[16];
    for (int first = 1; w.y <= 2100; walk_step(&w), first = 0) {
        int wd = walk_weekday(w.day);
        if (w.y == 1970 && w.m == 1 && w.d == 1) {
            cr_assert_eq(w.day, 0, "walk out of step with the epoch");
            cr_assert_eq(wd, 3, "1970-01-01 was a Thursday");
            saw_epoch = true;
        }
        if (first)
            cr_assert_eq(wd, 0, "1900-01-01 was a Monday");
        if (w.m == 1 && w.d == 1)
            jan1_wd[w.y - 1900] = wd;
        if (wd == 0) {
            struct walk thu = w;
            for (int i = 0; i < 3; i++)
                walk_step(&thu);
            if (thu.y != iso_year) {
                iso_year = thu.y;
                iso_week = 1;
            } else {
                iso_week++;
            }
            last_week[iso_year - 1900] = (int)iso_week;
        }
        int64_t want_start[NBUCKETS] = {
            w.day * 86400,
            (w.day - wd) * 86400,
            w.d == 1 ? w.day * 86400 : start[2],
            w.d == 1 && (w.m - 1) % 3 == 0 ? w.day * 86400 : start[3],
            w.d == 1 && w.m == 1 ? w.day * 86400 : start[4],
        };
        for (int b = 0; b < NBUCKETS; b++) {
            if (!first && want_start[b] != start[b]) {
                cr_assert_eq(bucket_next(start[b], all_buckets[b]), want_start[b],
                             "next of %lld bucket %d", (long long)start[b], b);
                cr_assert_eq(bucket_next(want_start[b] - 1, all_buckets[b]), want_start[b]);
                cr_assert_eq(bucket_next(start[b] + 43200, all_buckets[b]), want_start[b]);
            }
            start[b] = want_start[b];
        }
        for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++) {
            int64_t ts = w.day * 86400 + offs[o];
            for (int b = 0; b < NBUCKETS; b++)
                cr_assert_eq(bucket_start(ts, all_buckets[b]), start[b], "%d-%02u-%02u +%lld b %d",
                             w.y, w.m, w.d, (long long)offs[o], b);
            bucket_label(ts, BUCKET_DAY, got);
            label_of(want, "day", w.y, w.m, w.d);
            cr_assert_str_eq(got, want);
            bucket_label(ts, BUCKET_WEEK, got);
            label_of(want, "week", iso_year, iso_week, 0);
            cr_assert_str_eq(got, want, "%d-%02u-%02u", w.y, w.m, w.d);
            bucket_label(ts, BUCKET_MONTH, got);
            label_of(want, "month", w.y, w.m, 0);
            cr_assert_str_eq(got, want);
            bucket_label(ts, BUCKET_QUARTER, got);
            label_of(want, "quarter", w.y, (w.m - 1) / 3 + 1, 0);
            cr_assert_str_eq(got, want);
            bucket_label(ts, BUCKET_YEAR, got);
            label_of(want, "year", w.y, 0, 0);
            cr_assert_str_eq(got, want);
        }
    }
    cr_assert(saw_epoch);
    /* The walk's week counts against the known rule: a year has 53 ISO
     * weeks when it starts on a Thursday, or is a leap year starting on a
     * Wednesday. (1900..2099; the last ISO year may run past the walk.) */
    for (int y = 1900; y < 2100; y++) {
        bool leap = walk_month_len(y, 2) == 29;
        int j = jan1_wd[y - 1900];
        int want_weeks = j == 3 || (leap && j == 2) ? 53 : 52;
        cr_assert_eq(last_week[y - 1900], want_weeks, "ISO year %d", y);
    }
    cr_assert_eq(last_week[2004 - 1900], 53);
    cr_assert_eq(last_week[2015 - 1900], 53);
    cr_assert_eq(last_week[2020 - 1900], 53);
    cr_assert_eq(last_week[2026 - 1900], 53);
    cr_assert_eq(last_week[2025 - 1900], 52);
}

static void assert_label(const char *when, enum bucket b, const char *want)
{
    char buf[16];
    memset(buf, 'x', sizeof buf);
    bucket_label(at(when), b, buf);
    cr_assert_str_eq(buf, want, "%s", when);
}

Test(metrics, iso_weeks_around_new_year)
{
    assert_label("2024-12-29T23:59:59Z", BUCKET_WEEK, "2024-W52");
    assert_label("2024-12-30T00:00:00Z", BUCKET_WEEK, "2025-W01");
    assert_label("2025-01-05T23:59:59Z", BUCKET_WEEK, "2025-W01");
    assert_label("2025-01-06T00:00:00Z", BUCKET_WEEK, "2025-W02");
    assert_label("2021-01-03T12:00:00Z", BUCKET_WEEK, "2020-W53");
    assert_label("2021-01-04T00:00:00Z", BUCKET_WEEK, "2021-W01");
    assert_label("2026-02-12T08:00:00Z", BUCKET_WEEK, "2026-W07");
    assert_label("2026-11-22T08:00:00Z", BUCKET_WEEK, "2026-W47");
    assert_label("2027-01-01T00:00:00Z", BUCKET_WEEK, "2026-W53");
    assert_label("2010-01-03T00:00:00Z", BUCKET_WEEK, "2009-W53");
    assert_label("2008-12-29T00:00:00Z", BUCKET_WEEK, "2009-W01");
    /* The week of 1969-12-29 holds Thursday 1970-01-01. */
    assert_label("1969-12-29T00:00:00Z", BUCKET_WEEK, "1970-W01");
    assert_label("1969-12-28T23:59:59Z", BUCKET_WEEK, "1969-W52");
    cr_assert_eq(bucket_start(at("2025-01-01T10:00:00Z"), BUCKET_WEEK), at("2024-12-30"));
    cr_assert_eq(bucket_start(0, BUCKET_WEEK), at("1969-12-29"));
    cr_assert_eq(bucket_start(-1, BUCKET_WEEK), at("1969-12-29"));
    cr_assert_eq(bucket_next(at("2024-12-30"), BUCKET_WEEK), at("2025-01-06"));
}

Test(metrics, month_ends_last_second_and_first_second)
{
    static const struct {
        const char *last, *first, *last_month, *first_month;
    } cases[] = {
        {"2023-01-31T23:59:59Z", "2023-02-01T00:00:00Z", "2023-01", "2023-02"},
        {"2023-02-28T23:59:59Z", "2023-03-01T00:00:00Z", "2023-02", "2023-03"},
        {"2024-02-29T23:59:59Z", "2024-03-01T00:00:00Z", "2024-02", "2024-03"},
        {"2000-02-29T23:59:59Z", "2000-03-01T00:00:00Z", "2000-02", "2000-03"},
        {"2100-02-28T23:59:59Z", "2100-03-01T00:00:00Z", "2100-02", "2100-03"},
        {"2024-04-30T23:59:59Z", "2024-05-01T00:00:00Z", "2024-04", "2024-05"},
        {"2024-06-30T23:59:59Z", "2024-07-01T00:00:00Z", "2024-06", "2024-07"},
        {"2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z", "2023-12", "2024-01"},
        {"1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "1969-12", "1970-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t last = at(cases[i].last), first = at(cases[i].first);
        cr_assert_eq(first, last + 1);
        assert_label(cases[i].last, BUCKET_MONTH, cases[i].last_month);
        assert_label(cases[i].first, BUCKET_MONTH, cases[i].first_month);
        cr_assert_lt(bucket_start(last, BUCKET_MONTH), first);
        cr_assert_eq(bucket_start(first, BUCKET_MONTH), first);
        cr_assert_eq(bucket_next(bucket_start(last, BUCKET_MONTH), BUCKET_MONTH), first);
        cr_assert_eq(bucket_next(last, BUCKET_MONTH), first, "unaligned start");
        cr_assert_eq(bucket_start(last, BUCKET_DAY), first - 86400);
        cr_assert_eq(bucket_next(last, BUCKET_DAY), first);
    }
    assert_label("2023-12-31T23:59:59Z", BUCKET_YEAR, "2023");
    assert_label("2024-01-01T00:00:00Z", BUCKET_YEAR, "2024");
    assert_label("2023-12-31T23:59:59Z", BUCKET_QUARTER, "2023-Q4");
    assert_label("2024-01-01T00:00:00Z", BUCKET_QUARTER, "2024-Q1");
    assert_label("2024-03-31T23:59:59Z", BUCKET_QUARTER, "2024-Q1");
    assert_label("2024-04-01T00:00:00Z", BUCKET_QUARTER, "2024-Q2");
    assert_label("2024-06-30T23:59:59Z", BUCKET_QUARTER, "2024-Q2");
    assert_label("2024-07-01T00:00:00Z", BUCKET_QUARTER, "2024-Q3");
    assert_label("2024-09-30T23:59:59Z", BUCKET_QUARTER, "2024-Q3");
    assert_label("2024-10-01T00:00:00Z", BUCKET_QUARTER, "2024-Q4");
    assert_label("2026-11-22T13:14:15Z", BUCKET_DAY, "2026-11-22");
    assert_label("2026-11-22T13:14:15Z", BUCKET_MONTH, "2026-11");
    assert_label("2026-11-22T13:14:15Z", BUCKET_QUARTER, "2026-Q4");
    assert_label("2026-11-22T13:14:15Z", BUCKET_YEAR, "2026");
}

Test(metrics, bucket_next_steps)
{
    static const struct {
        enum bucket b;
        const char *from, *to;
    } cases[] = {
        {BUCKET_MONTH, "2024-01-31T10:00:00Z", "2024-02-01"},
        {BUCKET_MONTH, "2024-02-15T00:00:00Z", "2024-03-01"},
        {BUCKET_MONTH, "2023-02-01T00:00:00Z", "2023-03-01"},
        {BUCKET_MONTH, "2024-12-01T00:00:00Z", "2025-01-01"},
        {BUCKET_QUARTER, "2024-11-30T00:00:00Z", "2025-01-01"},
        {BUCKET_QUARTER, "2024-02-29T00:00:00Z", "2024-04-01"},
        {BUCKET_QUARTER, "2024-07-01T00:00:00Z", "2024-10-01"},
        {BUCKET_YEAR, "2024-02-29T00:00:00Z", "2025-01-01"},
        {BUCKET_YEAR, "1969-06-01T00:00:00Z", "1970-01-01"},
        {BUCKET_DAY, "2024-02-28T12:00:00Z", "2024-02-29"},
        {BUCKET_DAY, "2023-02-28T12:00:00Z", "2023-03-01"},
        {BUCKET_DAY, "1969-12-31T12:00:00Z", "1970-01-01"},
        {BUCKET_WEEK, "2026-02-12T08:00:00Z", "2026-02-16"},
        {BUCKET_WEEK, "2020-12-31T08:00:00Z", "2021-01-04"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(bucket_next(at(cases[i].from), cases[i].b), at(cases[i].to), "%s",
                     cases[i].from);
    /* A year of month steps from 2024-01-01 lands on 2025-01-01 after 366
     * days; twelve from 2023 after 365. */
    int64_t t = at("2024-01-01");
    for (int i = 0; i < 12; i++)
        t = bucket_next(t, BUCKET_MONTH);
    cr_assert_eq(t, at("2024-01-01") + 366 * 86400);
    t = at("2023-01-01");
    for (int i = 0; i < 4; i++)
        t = bucket_next(t, BUCKET_QUARTER);
    cr_assert_eq(t, at("2024-01-01"));
    cr_assert_eq(at("2024-01-01") - at("2023-01-01"), 365 * 86400);
}

Test(metrics, labels_of_far_years)
{
    char buf[16];
    int64_t t = timefmt_days_from_civil(12345, 6, 7) * 86400;
    bucket_label(t, BUCKET_DAY, buf);
    cr_assert_str_eq(buf, "12345-06-07");
    bucket_label(t, BUCKET_QUARTER, buf);
    cr_assert_str_eq(buf, "12345-Q2");
    t = timefmt_days_from_civil(-1000000000, 1, 1) * 86400;
    bucket_label(t, BUCKET_DAY, buf);
    cr_assert_str_eq(buf, "", "a label over 15 bytes is written empty");
    bucket_label(t, BUCKET_YEAR, buf);
    cr_assert_str_eq(buf, "-1000000000");
    bucket_label(t, BUCKET_MONTH, buf);
    cr_assert_str_eq(buf, "-1000000000-01");
    cr_assert_eq(bucket_start(t + 5000, BUCKET_YEAR), t);
    cr_assert_eq(bucket_next(t, BUCKET_YEAR), timefmt_days_from_civil(-999999999, 1, 1) * 86400);
}

Test(metrics, bucket_parse_names)
{
    cr_assert_eq(bucket_parse("day"), BUCKET_DAY);
    cr_assert_eq(bucket_parse("week"), BUCKET_WEEK);
    cr_assert_eq(bucket_parse("month"), BUCKET_MONTH);
    cr_assert_eq(bucket_parse("quarter"), BUCKET_QUARTER);
    cr_assert_eq(bucket_parse("year"), BUCKET_YEAR);
    const char *bad[] = {"", "Day", "days", "dayx", "yea", "hour", " week"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(bucket_parse(bad[i]), -1, "'%s'", bad[i]);
    cr_assert_eq(bucket_parse(NULL), -1);
}

Test(metrics, normalised_scores)
{
    cr_assert_float_eq(metrics_normalise(SCALE_0_10, 7), 0.7, 1e-12);
    cr_assert_float_eq(metrics_normalise(SCALE_1_5, 1), 0, 1e-12);
    cr_assert_float_eq(metrics_normalise(SCALE_1_5, 4), 0.75, 1e-12);
    cr_assert_float_eq(metrics_normalise(SCALE_EFFORT_1_7, 1), 1, 1e-12);
    cr_assert_float_eq(metrics_normalise(SCALE_EFFORT_1_7, 7), 0, 1e-12);
    cr_assert(isnan(metrics_normalise(SCALE_1_5, 0)));
    cr_assert(isnan(metrics_normalise(SCALE_0_10, 11)));
}

/* AUC against the definition: the share of (positive, negative) pairs in
 * which the positive scores higher, ties counting half. */
static double auc_pairs(const double *x, const uint8_t *y, size_t n)
{
    double wins = 0, pairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (y[i] && !y[j]) {
                pairs++;
                wins += x[i] > x[j] ? 1 : x[i] == x[j] ? 0.5 : 0;
            }
    return pairs ? wins / pairs : NAN;
}

Test(metrics, auc_matches_the_pairwise_definition)
{
    struct rng r = {.s = 99};
    for (int round = 0; round < 300; round++) {
        size_t n = 2 + (size_t)(rng_next(&r) % 60);
        double x[64];
        uint8_t y[64];
        for (size_t i = 0; i < n; i++) {
            x[i] = (double)(rng_next(&r) % 7);    /* many ties */
            y[i] = (uint8_t)(rng_next(&r) % 3 == 0);
        }
        double a = metrics_auc(x, y, n), b = auc_pairs(x, y, n);
        if (isnan(b))
            cr_assert(isnan(a));
        else
            cr_assert_float_eq(a, b, 1e-12, "round %d", round);
    }
    double x[] = {1, 2, 3, 4};
    uint8_t y[] = {0, 0, 1, 1};
    cr_assert_float_eq(metrics_auc(x, y, 4), 1, 1e-12, "perfect predictor");
    uint8_t all[] = {1, 1, 1, 1};
    cr_assert(isnan(metrics_auc(x, all, 4)), "no negatives");
}

Test(metrics, weighted_spread)
{
    double m[] = {0.8, 0.4}, n[] = {3, 1};
    /* M = (2.4 + 0.4) / 4 = 0.7; var = (3 * 0.01 + 1 * 0.09) / 4 = 0.03 */
    cr_assert_float_eq(metrics_weighted_spread(m, n, 2), sqrt(0.03), 1e-12);
    double same[] = {0.5, 0.5, 0.5}, w[] = {1, 2, 3};
    cr_assert_float_eq(metrics_weighted_spread(same, w, 3), 0, 1e-12);
    double zero[] = {0, 0};
    cr_assert(isnan(metrics_weighted_spread(m, zero, 2)));
}
