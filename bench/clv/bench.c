/* bench/clv/bench.c - times the CLV models of src/core/clv.c on simulated
 * customers: BG/NBD and Gamma-Gamma fits, then P(alive), expected
 * purchases and discounted CLV for every customer (clv_predict).
 *
 * Usage: bench [customers [unit [seed]]]   unit: week (default) or day
 *
 * Customers are drawn from the models themselves with the CDNOW estimates
 * (r 0.243, alpha 4.414 weeks, a 0.793, b 2.426; p 6.25, q 3.74, v 15.44),
 * first purchases spread uniformly over the two years before the
 * calibration end, every time on a whole day as a store records them
 * (day/7 in weeks, as the engine divides days by the unit). Prints the
 * figures README.md quotes. Not a test: it fails only on an error. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clv.h"

/* splitmix64 */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
/* uniform on (0, 1) */
static double unif(void)
{
    return ((double)(rnd() >> 11) + 0.5) * 0x1.0p-53;
}
static double normal(void)
{
    return sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
}
/* Gamma(shape k, scale 1): Marsaglia & Tsang, boosted for k < 1. */
static double gamma1(double k)
{
    if (k < 1)
        return gamma1(k + 1) * pow(unif(), 1 / k);
    double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal(), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = unif();
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

#define R_ 0.243
#define ALPHA_WEEKS 4.414
#define A_ 0.793
#define B_ 2.426
#define P_ 6.25
#define Q_ 3.74
#define V_ 15.44
#define SPAN_DAYS 730

/* One customer in days: purchases as a Poisson process of rate lambda per
 * day, drop-out with probability p after each repeat purchase. */
static void sim_customer(struct clv_cust *c, double unit)
{
    double lambda = gamma1(R_) / (ALPHA_WEEKS * 7);
    double g1 = gamma1(A_), g2 = gamma1(B_);
    double p = g1 / (g1 + g2);
    int T = (int)(rnd() % (SPAN_DAYS + 1)); /* first purchase T days before the end */
    double t = 0, last = 0;
    int x = 0;
    for (;;) {
        t += -log(unif()) / lambda;
        if (t > T)
            break;
        x++;
        last = t;
        if (unif() < p)
            break;
    }
    c->x = x;
    c->tx = x ? round(last) / unit : 0; /* the nearest day of the last purchase */
    c->T = T / unit;
    c->mx = 0;
    if (x) { /* mean of x Gamma(p, nu) values is Gamma(p x, nu x) */
        double nu = gamma1(Q_) / V_;
        c->mx = gamma1(P_ * x) / (nu * x);
    }
}

static double now(void)
{
    return cxm_seconds();
}

static int cmp_xT(const void *pa, const void *pb)
{
    const struct clv_cust *p = pa, *q = pb;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return p->T < q->T ? -1 : p->T > q->T;
}

/* Distinct (x, T): the number of series clv_predict sums per period. */
static size_t distinct_xT(const struct clv_cust *c, size_t n)
{
    struct clv_cust *s = malloc(n * sizeof *s);
    if (!s)
        return 0;
    memcpy(s, c, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_xT);
    size_t d = n > 0;
    for (size_t i = 1; i < n; i++)
        d += cmp_xT(&s[i - 1], &s[i]) != 0;
    free(s);
    return d;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    const char *unit_name = argc > 2 ? argv[2] : "week";
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 42;
    double unit = strcmp(unit_name, "day") == 0 ? 1 : 7;
    struct clv_cust *c = malloc(n * sizeof *c);
    struct clv_pred *pred = malloc(n * sizeof *pred);
    if (!c || !pred || n == 0)
        return 1;
    size_t rep = 0;
    double sx = 0;
    for (size_t i = 0; i < n; i++) {
        sim_customer(&c[i], unit);
        rep += c[i].x > 0;
        sx += c[i].x;
    }
    printf("customers %zu (unit %s): repeaters %zu, mean x %.3f\n", n, unit_name, rep,
           sx / (double)n);

    double t0 = now();
    struct bgnbd m;
    int rc = bgnbd_fit(c, n, &m);
    double t1 = now();
    struct gamgam g;
    int rc2 = gamgam_fit(c, n, &g);
    double t2 = now();
    if (rc != CXM_OK || rc2 != CXM_OK) {
        fprintf(stderr, "fit failed: %s %s\n", cxm_rc_str(rc), cxm_rc_str(rc2));
        return 1;
    }
    double aw = unit == 1 ? 7 : 1; /* alpha back in weeks for the comparison */
    printf("bgnbd fit   %.3f s  rows %zu  r %.4f alpha %.4f (weeks %.4f) a %.4f b %.4f  ll %.1f  "
           "iterations %d converged %d\n",
           t1 - t0, m.rows, m.r, m.alpha, m.alpha / aw, m.a, m.b, m.loglik, m.iterations,
           m.converged);
    printf("gamgam fit  %.3f s  rows %zu of %zu  p %.4f q %.4f v %.4f  ll %.1f  iterations %d "
           "converged %d\n",
           t2 - t1, g.rows, g.n, g.p, g.q, g.v, g.loglik, g.iterations, g.converged);
    printf("fit total   %.3f s\n", t2 - t0);

    /* 52 weeks ahead, 10% a year discount: in days 364 periods at the
     * daily rate. */
    int horizon = unit == 1 ? 364 : 52;
    double rate = clv_period_rate(0.10, unit);
    double t3 = now();
    rc = clv_predict(&m, &g, c, n, horizon, horizon, rate, pred);
    double t4 = now();
    if (rc != CXM_OK) {
        fprintf(stderr, "predict failed: %s\n", cxm_rc_str(rc));
        return 1;
    }
    double spa = 0, se = 0, sv = 0;
    for (size_t i = 0; i < n; i++) {
        spa += pred[i].p_alive;
        se += pred[i].expected;
        sv += pred[i].value;
    }
    printf("predict     %.3f s  (P(alive), E[purchases] and CLV over %d periods at %.5f/period)"
           "  distinct (x, T) %zu  mean P(alive) %.4f  mean E %.4f  mean CLV %.2f\n",
           t4 - t3, horizon, rate, distinct_xT(c, n), spa / (double)n, se / (double)n,
           sv / (double)n);
    free(c);
    free(pred);
    return 0;
}
