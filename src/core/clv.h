/* clv.h - customer lifetime value models as pure arithmetic: BG/NBD
 * (Fader, Hardie & Lee 2005, "Counting your customers the easy way") for
 * how often customers buy and whether they are still customers, and
 * Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value
 * curves") for what they spend, both fitted by maximum likelihood, and
 * the predictions and predicted CLV built on them. No I/O, no globals, no
 * clock: every function is safe to call from several threads at once.
 *
 * Times (t_x, T, horizons) are in the caller's unit (days, weeks, ...),
 * the same for fitting and predicting; the parameter alpha is in that unit.
 * Model parameters that are not finite and > 0 make the prediction
 * functions return NAN. */
#ifndef CXM_CLV_H
#define CXM_CLV_H

#include "common.h"

/* One customer's summary over the calibration period:
 * x   repeat purchases (purchases after the first), a whole number >= 0;
 * tx  recency: time from the first to the last purchase, 0 when x == 0;
 * T   age: time from the first purchase to the calibration end, >= tx;
 * mx  mean value of the repeat purchases, 0 when x == 0. */
struct clv_cust {
    double x, tx, T, mx;
};

/* A fitted BG/NBD model: purchase rates lambda ~ Gamma(r, alpha) (shape,
 * rate), drop-out probabilities p ~ Beta(a, b). loglik is the maximised
 * log-likelihood (natural log, summed over customers); iterations are
 * those of the best of the starting points; converged is true when that
 * run ended on a vanishing gradient. n is the number of customers, rows
 * the number of distinct (x, t_x, T) the likelihood was summed over. */
struct bgnbd {
    double r, alpha, a, b, loglik;
    int iterations;
    bool converged;
    size_t n, rows;
};

/* A fitted Gamma-Gamma spend model: the value of a customer's purchases is
 * Gamma(p, nu), nu ~ Gamma(q, v) across customers (shape, rate), so v is in
 * money units. n is the number of repeat customers fitted on, rows the
 * number of distinct (x, m_x) among them. */
struct gamgam {
    double p, q, v, loglik;
    int iterations;
    bool converged;
    size_t n, rows;
};

/* ---- BG/NBD --------------------------------------------------------------- */

/* Log-likelihood of one customer (FHL 2005 equation 6), with lgamma and a
 * log-sum-exp of its two terms so large x and T neither overflow nor
 * underflow. NAN on invalid input (negative, not finite, x not whole,
 * tx > T when x > 0). */
double bgnbd_ll(const struct bgnbd *m, double x, double tx, double T);

/* Fits r, alpha, a, b by maximum likelihood over c[0..n-1]: BFGS with a
 * strong-Wolfe line search on the logs of the parameters (so they stay
 * > 0), analytic gradients, from several starting points; customers with
 * the same (x, t_x, T) are evaluated once, weighted. For x == 0, tx is
 * ignored. Fills *out (all fields) on CXM_OK. Returns CXM_EINVAL when
 * n == 0, c or out is NULL, a value is negative or not finite, x is not
 * whole, tx > T, or
 * no customer has a repeat purchase (then a and b are not identified) or
 * every T is 0; CXM_ETOOBIG beyond 2^31 customers; CXM_ENOMEM. A run that
 * did not converge still returns CXM_OK, with converged false: check it
 * before using the model. The result does not depend on the order of c. */
int bgnbd_fit(const struct clv_cust *c, size_t n, struct bgnbd *out);

/* E[X(t)]: expected repeat purchases of a new customer in t periods (FHL
 * equation 9), t >= 0. */
double bgnbd_expected(const struct bgnbd *m, double t);

/* P(alive | x, tx, T) (FHL equation 11): 1 for x == 0, since drop-out only
 * follows a purchase. */
double bgnbd_p_alive(const struct bgnbd *m, double x, double tx, double T);

/* E[Y(t) | x, tx, T]: expected purchases in the t periods after the
 * calibration end of a customer with that history (FHL equation 10). */
double bgnbd_cond_expected(const struct bgnbd *m, double t, double x, double tx, double T);

/* P(X(t) = k) for a new customer (FHL equation 8), k >= 0; 0 for k < 0.
 * Takes time linear in k. */
double bgnbd_pmf(const struct bgnbd *m, double t, int k);

/* Expected number of customers with 0, 1, ..., K-1 repeat purchases in
 * their own calibration period and with K or more: hist[k] = sum over
 * customers of P(X(T_i) = k) for k < K, hist[K] = n - the rest (K + 1
 * values). The fitted side of a fitted-vs-observed histogram. K >= 1.
 * CXM_EINVAL on bad arguments or a T that is negative or not finite,
 * CXM_ENOMEM. */
int bgnbd_expected_hist(const struct bgnbd *m, const struct clv_cust *c, size_t n, int K,
                        double *hist);

/* Gauss hypergeometric function 2F1(a, b; c; z) for z < 1 (z < 0 through
 * the Pfaff transformation), by its power series summed until the bound on
 * the rest is below the rounding error; for z near 1 (beyond about 0.998),
 * where the series would need too many terms, by the linear transformation
 * to 1 - z (A&S 15.3.6), or when c - a - b is within 1e-5 of an integer,
 * where that transformation cancels, by up to a million terms of the series
 * (after Euler's transformation when c - a - b < 0). NAN for z >= 1, c a
 * non-positive integer, or arguments not finite. Relative accuracy about
 * 1e-13; beyond z = 0.998 it loses log10(1/d) digits more when c - a - b is
 * at a distance d > 1e-5 from an integer, and drops to about 1e-7 when z is
 * within 1e-4 of 1 and c - a - b within 1e-5 of 0. */
double clv_hyp2f1(double a, double b, double c, double z);

/* ---- Gamma-Gamma ----------------------------------------------------------- */

/* Log-likelihood of one repeat customer's mean purchase value mx over x
 * purchases (density of m_x). NAN unless x > 0 and mx > 0. */
double gamgam_ll(const struct gamgam *g, double x, double mx);

/* Fits p, q, v by maximum likelihood over the customers with x >= 1
 * (others are skipped): BFGS on the logs of the parameters, analytic
 * gradients, several starting points. CXM_EINVAL when c or out is NULL, no
 * customer has x >= 1, or one with x >= 1 has mx not finite or <= 0
 * (the model has no zero or negative purchases: filter them first), or an
 * x is negative, not whole or not finite; CXM_ENOMEM. */
int gamgam_fit(const struct clv_cust *c, size_t n, struct gamgam *out);

/* Expected value of a purchase of this customer:
 * p (v + x mx) / (p x + q - 1) for x > 0 and mx > 0, the population mean
 * p v / (q - 1) otherwise. NAN where that mean does not exist (q <= 1, or
 * p x + q <= 1). */
double gamgam_aov(const struct gamgam *g, double x, double mx);

/* ---- CLV ------------------------------------------------------------------- */

/* Predicted value of customer c over the next horizon periods:
 * sum over i = 1..horizon of (E[Y(i)] - E[Y(i-1)]) * AOV / (1 + rate)^i,
 * i.e. E[Y(horizon)] * AOV when rate is 0. 0 when horizon <= 0; NAN when
 * rate <= -1 or not finite, c is invalid as for bgnbd_fit, or the AOV is
 * NAN. */
double clv_value(const struct bgnbd *m, const struct gamgam *g, const struct clv_cust *c,
                 int horizon, double rate_per_period);

/* The rate per period of period_days days equivalent to an annual rate:
 * (1 + annual)^(period_days / 365.25) - 1. NAN when annual <= -1 or an
 * argument is not finite. */
double clv_period_rate(double annual, double period_days);

/* Predictions for many customers at once; customers with the same (x, T)
 * share the costly part, so the time grows with the number of distinct
 * (x, T) times the horizon, not with n. */
struct clv_pred {
    double p_alive;  /* bgnbd_p_alive */
    double expected; /* bgnbd_cond_expected over t periods */
    double aov;      /* gamgam_aov */
    double value;    /* clv_value over horizon periods */
};
/* Fills out[0..n-1] for c[0..n-1]: t is the horizon of expected, horizon
 * and rate_per_period those of value (0 when horizon <= 0). CXM_EINVAL when
 * a pointer is NULL (c and out may be NULL when n == 0), a model is
 * invalid, t < 0 or not finite, rate <= -1 or not finite, or a customer is
 * invalid as for bgnbd_fit or has x > 0 and mx not finite; CXM_ENOMEM. */
int clv_predict(const struct bgnbd *m, const struct gamgam *g, const struct clv_cust *c,
                size_t n, double t, int horizon, double rate_per_period, struct clv_pred *out);

#ifdef CXM_TEST
/* The objective the fits maximise, over c[0..n-1] as the fit prepares it
 * (distinct rows, weights): the summed log-likelihood at the parameters
 * exp(theta[i]) and its gradient with respect to theta. BG/NBD theta is
 * log (r, alpha, a, b), Gamma-Gamma log (p, q, v). CXM_EINVAL/ENOMEM as the
 * fits. */
int bgnbd_ll_sum(const struct clv_cust *c, size_t n, const double theta[4], double *ll,
                 double grad[4]);
int gamgam_ll_sum(const struct clv_cust *c, size_t n, const double theta[3], double *ll,
                  double grad[3]);
#endif

#endif
