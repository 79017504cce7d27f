/* bench/clv/simstudy.c - derives the bounds of test_clv.c's simulation
 * test (clv/sim_recovery): fits BG/NBD and Gamma-Gamma on REPS cohorts of
 * 100,000 simulated customers (seeds 1..REPS) with known parameters and
 * prints, per parameter, the mean, standard deviation, minimum and maximum
 * of the estimates and the bounds mean +- 4 sd, then the estimates for the
 * test's own seed (not among 1..REPS). The simulation is a copy of the
 * test's: change both together.
 *
 * Usage: simstudy [reps]   (built and run by bench/clv/run.sh simstudy) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clv.h"

/* ---- simulation (kept identical in bench/clv/simstudy.c) ---------------- */

struct rng {
    uint64_t s;
};

/* splitmix64 */
static uint64_t rng_next(struct rng *g)
{
    uint64_t z = (g->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* uniform on (0, 1) */
static double rng_unif(struct rng *g)
{
    return ((double)(rng_next(g) >> 11) + 0.5) * 0x1.0p-53;
}

/* standard normal, Box-Muller (one of the pair) */
static double rng_normal(struct rng *g)
{
    double u = rng_unif(g), v = rng_unif(g);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Gamma(shape k, scale 1): Marsaglia & Tsang (2000); for k < 1 the boost
 * Gamma(k) = Gamma(k + 1) U^(1/k). */
static double rng_gamma(struct rng *g, double k)
{
    if (k < 1)
        return rng_gamma(g, k + 1) * pow(rng_unif(g), 1 / k);
    double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = rng_normal(g), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = rng_unif(g);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

/* The true parameters: the CDNOW estimates. */
#define SIM_R 0.243
#define SIM_ALPHA 4.414
#define SIM_A 0.793
#define SIM_B 2.426
#define SIM_P 6.25
#define SIM_Q 3.74
#define SIM_V 15.44
#define SIM_N 100000

/* A cohort of n customers in weeks, as a store records them: first
 * purchases on whole days so that T is uniform on 27..39 weeks (189..273
 * days), as in the CDNOW cohort; purchases while alive a Poisson process of
 * rate lambda ~ Gamma(r, alpha) a week, drop-out with probability
 * p ~ Beta(a, b) after each repeat purchase; t_x the nearest day of the
 * last purchase (rounding down would shorten every recency by half a day
 * and bias alpha by -2%, 1.5 sd); each purchase worth Gamma(p, nu), nu ~ Gamma(q, v), so m_x, the
 * mean of x of them, is Gamma(p x, nu x). */
static void sim_cohort(uint64_t seed, struct clv_cust *c, size_t n)
{
    struct rng g = {seed};
    for (size_t i = 0; i < n; i++) {
        double lambda = rng_gamma(&g, SIM_R) / SIM_ALPHA;
        double g1 = rng_gamma(&g, SIM_A), g2 = rng_gamma(&g, SIM_B);
        double p = g1 / (g1 + g2);
        double T = (double)(189 + rng_next(&g) % 85) / 7;
        double t = 0, last = 0;
        int x = 0;
        for (;;) {
            t += -log(rng_unif(&g)) / lambda;
            if (t > T)
                break;
            x++;
            last = t;
            if (rng_unif(&g) < p)
                break;
        }
        c[i] = (struct clv_cust){.x = x, .T = T};
        if (x > 0) {
            c[i].tx = round(last * 7) / 7;
            double nu = rng_gamma(&g, SIM_Q) / SIM_V;
            c[i].mx = rng_gamma(&g, SIM_P * x) / (nu * x);
        }
    }
}

/* The seed of clv/sim_recovery. */
#define TEST_SEED 20261122

static int fit(uint64_t seed, struct clv_cust *c, double est[7])
{
    sim_cohort(seed, c, SIM_N);
    struct bgnbd m;
    struct gamgam g;
    if (bgnbd_fit(c, SIM_N, &m) != CXM_OK || gamgam_fit(c, SIM_N, &g) != CXM_OK)
        return -1;
    if (!m.converged || !g.converged)
        fprintf(stderr, "seed %llu: not converged\n", (unsigned long long)seed);
    double e[7] = {m.r, m.alpha, m.a, m.b, g.p, g.q, g.v};
    for (int k = 0; k < 7; k++)
        est[k] = e[k];
    return 0;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 100;
    const char *names[7] = {"r", "alpha", "a", "b", "p", "q", "v"};
    const double truth[7] = {SIM_R, SIM_ALPHA, SIM_A, SIM_B, SIM_P, SIM_Q, SIM_V};
    struct clv_cust *c = malloc(SIM_N * sizeof *c);
    if (!c || reps < 2)
        return 1;
    double sum[7] = {0}, sumsq[7] = {0}, lo[7], hi[7], est[7];
    for (int k = 0; k < 7; k++) {
        lo[k] = INFINITY;
        hi[k] = -INFINITY;
    }
    for (int s = 1; s <= reps; s++) {
        if (fit((uint64_t)s, c, est) != 0)
            return 1;
        for (int k = 0; k < 7; k++) {
            sum[k] += est[k];
            sumsq[k] += est[k] * est[k];
            lo[k] = fmin(lo[k], est[k]);
            hi[k] = fmax(hi[k], est[k]);
        }
    }
    printf("%d replicates of %d customers\n", reps, SIM_N);
    printf("%-6s %8s %9s %9s %9s %9s %9s %9s\n", "param", "true", "mean", "sd", "min", "max",
           "mean-4sd", "mean+4sd");
    for (int k = 0; k < 7; k++) {
        double mean = sum[k] / reps;
        double sd = sqrt((sumsq[k] - reps * mean * mean) / (reps - 1));
        printf("%-6s %8.4f %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f\n", names[k], truth[k], mean, sd,
               lo[k], hi[k], mean - 4 * sd, mean + 4 * sd);
    }
    if (fit(TEST_SEED, c, est) != 0)
        return 1;
    printf("test seed %d:", TEST_SEED);
    for (int k = 0; k < 7; k++)
        printf(" %s %.4f", names[k], est[k]);
    printf("\n");
    free(c);
    return 0;
}
