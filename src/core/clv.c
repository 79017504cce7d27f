/* clv.c - see clv.h */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* lgamma_r */
#endif
#include "core/clv.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- special functions -------------------------------------------------- */

/* lgamma_r, not lgamma: lgamma writes the global signgam, a data race when
 * several threads predict at once. */
static double lgam(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

/* Digamma for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10,
 * then the asymptotic series to x^-12, whose first omitted term is below
 * 1e-15 there. */
static double digamma(double x)
{
    double acc = 0;
    while (x < 10) {
        acc -= 1 / x;
        x += 1;
    }
    double f = 1 / (x * x);
    double t = 691.0 / 32760;
    t = f * (-1.0 / 132 + f * t);
    t = f * (1.0 / 240 + t);
    t = f * (-1.0 / 252 + t);
    t = f * (1.0 / 120 + t);
    t = f * (-1.0 / 12 + t);
    return acc + log(x) - 0.5 / x + t;
}

/* log(e^u + e^v) without overflow or underflow. */
static double log_add_exp(double u, double v)
{
    double hi = u > v ? u : v, lo = u > v ? v : u;
    return hi + log1p(exp(lo - hi));
}

/* log B(a, b). */
static double lbeta(double a, double b)
{
    return lgam(a) + lgam(b) - lgam(a + b);
}

static bool pos(double v)
{
    return isfinite(v) && v > 0;
}

/* ---- Gauss hypergeometric series ---------------------------------------- */

/* Terms tried before z is taken as "near 1" and 2F1 switches to the 1 - z
 * form; 20,000 terms sum the series for z up to about 0.998. */
#define SERIES_TRY 20000
/* The most terms summed when no transformation applies. */
#define SERIES_MAX 1000000
/* Stop when the bound on the rest is below this share of the sum: under
 * the rounding error of the sum itself. */
#define SERIES_EPS (0.25 * DBL_EPSILON)

/* sum over n >= n0 of t_n, t_n0 = t0, t_{n+1} = t_n (a+n)(b+n) z / ((c+n)(n+1)):
 * the Gauss series of 2F1(a, b; c; z) from n0 = 0, t0 = 1, or of
 * (2F1 - 1) / b from n0 = 1, t0 = a z / c (the n = 1 term without its
 * factor b, so b may be 0). Once every factor is positive (n > -a, -b, -c)
 * and the ratio rho of successive terms is below 1, the rest after a term t
 * is at most |t| r / (1 - r) with r = max(rho, z): the ratio tends to z from
 * above when a + b > c + 1 (so rho bounds it) and from below otherwise (so
 * z does). *ok is false when max_terms did not reach that bound; the sum
 * then includes the estimate of the rest. */
static double gauss_series(double a, double b, double c, double z, double t0, int n0,
                           int max_terms, bool *ok)
{
    double sum = t0, t = t0, r = 1;
    double nmin = fmax(fmax(-a, -b), fmax(-c, 0.0)) + 1;
    *ok = true;
    for (int k = 0; k < max_terms; k++) {
        double n = (double)(n0 + k);
        double rho = (a + n) * (b + n) * z / ((c + n) * (n + 1));
        t *= rho;
        sum += t;
        if (t == 0)
            return sum; /* a or b a non-positive integer: a polynomial */
        /* |t| r / (1 - r) <= eps |sum|, without a second division a term */
        r = n >= nmin ? fmax(fabs(rho), z) : 1;
        if (r < 1 && fabs(t) * r <= SERIES_EPS * fabs(sum) * (1 - r))
            return sum;
    }
    *ok = false;
    return r < 1 ? sum + t * r / (1 - r) : sum;
}

/* log|Gamma(x)| and its sign; pole true at 0, -1, -2, ... where 1/Gamma is 0. */
struct lgs {
    double l;
    double sign;
    bool pole;
};

static struct lgs lgamma_sign(double x)
{
    struct lgs g = {0, 1, false};
    if (x <= 0 && x == floor(x)) {
        g.pole = true;
        return g;
    }
    int s;
    g.l = lgamma_r(x, &s);
    g.sign = s < 0 ? -1 : 1;
    return g;
}

/* A&S 15.3.6, for z near 1 and c - a - b not an integer:
 * F(a,b;c;z) = G(c)G(s)/(G(c-a)G(c-b)) F(a, b; 1-s; 1-z)
 *            + (1-z)^s G(c)G(-s)/(G(a)G(b)) F(c-a, c-b; 1+s; 1-z),  s = c-a-b.
 * The two terms grow as 1/dist(s, integers) and cancel, so some digits are
 * lost when s is near an integer, some log10(1/distance): the caller keeps
 * s at least 1e-5 away (then the result keeps about 11 digits). */
static double hyp2f1_one_minus(double a, double b, double c, double z)
{
    double s = c - a - b;
    double w = 1 - z; /* exact for z in [0.5, 1] */
    struct lgs gc = lgamma_sign(c), gs = lgamma_sign(s), gms = lgamma_sign(-s);
    struct lgs gca = lgamma_sign(c - a), gcb = lgamma_sign(c - b);
    struct lgs ga = lgamma_sign(a), gb = lgamma_sign(b);
    bool ok;
    double sum = 0;
    if (!gca.pole && !gcb.pole) {
        double k = gc.sign * gs.sign * gca.sign * gcb.sign * exp(gc.l + gs.l - gca.l - gcb.l);
        sum += k * gauss_series(a, b, 1 - s, w, 1.0, 0, SERIES_MAX, &ok);
    }
    if (!ga.pole && !gb.pole) {
        double k = gc.sign * gms.sign * ga.sign * gb.sign *
                   exp(s * log(w) + gc.l + gms.l - ga.l - gb.l);
        sum += k * gauss_series(c - a, c - b, 1 + s, w, 1.0, 0, SERIES_MAX, &ok);
    }
    return sum;
}

double clv_hyp2f1(double a, double b, double c, double z)
{
    if (!isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(z) || !(z < 1))
        return NAN;
    if (c <= 0 && c == floor(c))
        return NAN;
    if (z == 0)
        return 1;
    if (z < 0) {
        /* Pfaff: F(a,b;c;z) = (1-z)^-a F(a, c-b; c; z/(z-1)), z/(z-1) in (0, 1). */
        double f = clv_hyp2f1(a, c - b, c, z / (z - 1));
        return exp(-a * log1p(-z)) * f;
    }
    bool ok;
    double f = gauss_series(a, b, c, z, 1.0, 0, SERIES_TRY, &ok);
    if (ok)
        return f;
    double s = c - a - b;
    if (fabs(s - nearbyint(s)) > 1e-5)
        return hyp2f1_one_minus(a, b, c, z);
    /* s within 1e-5 of an integer: the 1 - z form would lose too much, so
     * the series, whose terms shrink like n^(a+b-c-1) z^n. For s < 0 the
     * Euler transformation F = (1-z)^s F(c-a, c-b; c; z) gives terms like
     * n^(s-1) z^n instead, summed to z = 1 - 1e-5 in a million terms. Left
     * slow: s near 0, where the rest after SERIES_MAX terms is estimated. */
    if (s < 0)
        return exp(s * log1p(-z)) * gauss_series(c - a, c - b, c, z, 1.0, 0, SERIES_MAX, &ok);
    return gauss_series(a, b, c, z, 1.0, 0, SERIES_MAX, &ok);
}

/* ---- BG/NBD: one customer ------------------------------------------------- */

static bool bg_ok(const struct bgnbd *m)
{
    return m && pos(m->r) && pos(m->alpha) && pos(m->a) && pos(m->b);
}

/* x a whole number >= 0, T >= 0 and, when x > 0, 0 <= tx <= T; all finite.
 * tx is not looked at when x == 0. */
static bool cust_ok(double x, double tx, double T)
{
    if (!isfinite(x) || !isfinite(T) || x < 0 || x != floor(x) || T < 0)
        return false;
    return x == 0 || (isfinite(tx) && tx >= 0 && tx <= T);
}

double bgnbd_ll(const struct bgnbd *m, double x, double tx, double T)
{
    if (!bg_ok(m) || !cust_ok(x, tx, T))
        return NAN;
    double r = m->r, al = m->alpha, a = m->a, b = m->b;
    double ll = lgam(r + x) - lgam(r) + r * log(al) + lgam(a + b) + lgam(b + x) - lgam(b) -
                lgam(a + b + x);
    /* Alive at T after x purchases, or dropped out right after the last. */
    double c3 = -(r + x) * log(al + T);
    if (x == 0)
        return ll + c3;
    double c4 = log(a) - log(b + x - 1) - (r + x) * log(al + tx);
    return ll + log_add_exp(c3, c4);
}

/* odds of "dropped out after the last purchase" against "alive":
 * a/(b+x-1) ((alpha+T)/(alpha+tx))^(r+x), for x > 0. The log ratio by
 * log1p, since T and tx are often close; a huge value overflows to inf,
 * which callers turn into P(alive) = 0, the right limit. */
static double drop_odds(const struct bgnbd *m, double x, double tx, double T)
{
    double lr = log1p((T - tx) / (m->alpha + tx));
    return exp(log(m->a) - log(m->b + x - 1) + (m->r + x) * lr);
}

double bgnbd_p_alive(const struct bgnbd *m, double x, double tx, double T)
{
    if (!bg_ok(m) || !cust_ok(x, tx, T))
        return NAN;
    if (x == 0)
        return 1;
    return 1 / (1 + drop_odds(m, x, tx, T));
}

/* The expectations of FHL equations 9 and 10 share one form: with
 * 1 - z = base / (base + t) (base = alpha for a new customer, alpha + T
 * for one with a history),
 *   E = C/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, b+x; C; z)],  C = a+b+x-1,
 * and the Euler transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)
 * turns it into
 *   E = C/e [1 - (1-z)^e 2F1(a+b-1-r, e; C; z)],  e = a-1,
 * whose series has small parameters however large x is (the first form
 * overflows: its 2F1 grows like (1-z)^-(r+x)). Writing
 * 2F1(., e; C; z) = 1 + e S with S summed termwise,
 *   E = -C [expm1(e L)/e + e^(e L) S],  L = log(1-z),
 * which has no 0/0 at a = 1 and no cancellation for a near 1. L comes from
 * the caller as -log1p(t/base), exact also when z is near 1. For z so near
 * 1 that S needs more than SERIES_TRY terms, 2F1 itself (by its 1 - z form)
 * when |e| is not small. */
/* -C (expm1(e L)/e + e^(e L) S), also for e -> 0. */
static double bg_combine(double e, double C, double L, double s)
{
    double u = e * L;
    double em = fabs(u) < 1e-8 ? L * (1 + u / 2 + u * u / 6) : expm1(u) / e;
    return -C * (em + exp(u) * s);
}

static double bg_num(double A, double e, double C, double z, double L)
{
    if (z <= 0)
        return 0;
    if (fabs(C) < 1e-8) {
        /* C -> 0 (x = 0, a + b -> 1): C and the pole of 2F1 at C = 0 cancel;
         * the mean of the two sides is within rounding of the limit. */
        return 0.5 * (bg_num(A, e, 1e-8, z, L) + bg_num(A, e, -1e-8, z, L));
    }
    bool ok;
    double s = gauss_series(A, e, C, z, A * z / C, 1, SERIES_TRY, &ok);
    if (!ok) {
        if (fabs(e) >= 1e-3)
            return C / e * (1 - exp(e * L) * clv_hyp2f1(A, e, C, z));
        s = gauss_series(A, e, C, z, A * z / C, 1, SERIES_MAX, &ok);
    }
    return bg_combine(e, C, L, s);
}

/* bg_num at z[0..m-1] (increasing, L[i] = log(1 - z[i])), for the periods of
 * a horizon: one pass over the terms of S serves every z, so the ratio of
 * successive coefficients, with its division, is computed once a term, not
 * once a term and a period. z[lo] is the smallest z still summing; each
 * leaves when its own bound on the rest is met (the larger z need more
 * terms). Those left after SERIES_TRY terms go through bg_num. */
#define BG_BLOCK 128
static void bg_num_block(double A, double e, double C, const double *z, const double *L, int m,
                         double *out)
{
    if (fabs(C) < 1e-8) {
        for (int i = 0; i < m; i++)
            out[i] = bg_num(A, e, C, z[i], L[i]);
        return;
    }
    double t[BG_BLOCK], sum[BG_BLOCK];
    for (int i = 0; i < m; i++)
        t[i] = sum[i] = A * z[i] / C;
    double nmin = fmax(fmax(-A, -e), fmax(-C, 0.0)) + 1;
    int lo = 0;
    for (int k = 0; k < SERIES_TRY && lo < m; k++) {
        double n = 1 + k;
        double q = (A + n) * (e + n) / ((C + n) * (n + 1));
        for (int i = lo; i < m; i++) {
            t[i] *= q * z[i];
            sum[i] += t[i];
        }
        double qq = fmax(fabs(q), 1);
        while (lo < m && (t[lo] == 0 || (n >= nmin && z[lo] * qq < 1 &&
                                         fabs(t[lo]) * z[lo] * qq <=
                                             SERIES_EPS * fabs(sum[lo]) * (1 - z[lo] * qq))))
            lo++;
    }
    for (int i = 0; i < m; i++)
        out[i] = i < lo ? bg_combine(e, C, L[i], sum[i]) : bg_num(A, e, C, z[i], L[i]);
}

/* bg_num for a customer with x repeat purchases, t periods after a point at
 * distance base - alpha from the first purchase. */
static double bg_num_at(const struct bgnbd *m, double x, double base, double t)
{
    if (t <= 0)
        return 0;
    double a = m->a, b = m->b;
    return bg_num(a + b - 1 - m->r, a - 1, a + b + x - 1, t / (base + t), -log1p(t / base));
}

double bgnbd_expected(const struct bgnbd *m, double t)
{
    if (!bg_ok(m) || !isfinite(t) || t < 0)
        return NAN;
    return bg_num_at(m, 0, m->alpha, t);
}

double bgnbd_cond_expected(const struct bgnbd *m, double t, double x, double tx, double T)
{
    if (!bg_ok(m) || !isfinite(t) || t < 0 || !cust_ok(x, tx, T))
        return NAN;
    double n = bg_num_at(m, x, m->alpha + T, t);
    return x == 0 ? n : n / (1 + drop_odds(m, x, tx, T));
}

/* P(N >= k) for N negative binomial with nb_j = G(r+j)/(G(r) j!) q^r (1-q)^j,
 * lq = log q, lz = log(1-q), k >= 1: 1 - (the head) while the head is at
 * most 1/2, so no digits are lost; otherwise the tail summed directly (the
 * ratio of its terms tends to 1 - q, with the same bound on the rest as
 * gauss_series). */
static double nb_tail(double r, double lq, double lz, int k)
{
    double z1 = exp(lz);
    double term = exp(r * lq), head = term;
    for (int j = 0; j < k - 1; j++) {
        term *= (r + j) / (j + 1) * z1;
        head += term;
    }
    if (head <= 0.5)
        return 1 - head;
    double kd = k;
    term = exp(lgam(r + kd) - lgam(r) - lgam(kd + 1) + r * lq + kd * lz);
    double sum = term;
    for (int i = 0; i < SERIES_MAX; i++) {
        double j = kd + i;
        double rho = (r + j) / (j + 1) * z1;
        term *= rho;
        sum += term;
        double rr = fmax(rho, z1);
        if (term == 0 || (rr < 1 && term * rr / (1 - rr) <= SERIES_EPS * sum))
            break;
    }
    return fmin(sum, 1.0);
}

double bgnbd_pmf(const struct bgnbd *m, double t, int k)
{
    if (!bg_ok(m) || !isfinite(t) || t < 0)
        return NAN;
    if (k < 0)
        return 0;
    if (t == 0)
        return k == 0 ? 1 : 0;
    double r = m->r, al = m->alpha, a = m->a, b = m->b, kd = k;
    double lq = -log1p(t / al); /* log(alpha / (alpha + t)) */
    double lz = -log1p(al / t); /* log(t / (alpha + t)) */
    double lb = lbeta(a, b);
    /* Still alive at t with k purchases, plus dropped out after the k-th. */
    double alive = exp(lbeta(a, b + kd) - lb + lgam(r + kd) - lgam(r) - lgam(kd + 1) + r * lq +
                       kd * lz);
    if (k == 0)
        return alive;
    return alive + exp(lbeta(a + 1, b + kd - 1) - lb) * nb_tail(r, lq, lz, k);
}

/* ---- open addressing on keys of two doubles ------------------------------ */

/* Maps (k0, k1) to dense indexes 0, 1, ... in order of first appearance. */
struct hslot {
    double k0, k1;
    size_t idx;
};
struct htab {
    struct hslot *s;
    size_t mask, len;
};
#define HT_EMPTY SIZE_MAX

static uint64_t dbl_bits(double d)
{
    d += 0.0; /* -0.0 -> +0.0: equal keys hash alike */
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static size_t ht_hash(double k0, double k1)
{
    uint64_t z = dbl_bits(k0) * UINT64_C(0x9E3779B97F4A7C15) ^ dbl_bits(k1);
    z ^= z >> 33;
    z *= UINT64_C(0xFF51AFD7ED558CCD);
    z ^= z >> 33;
    z *= UINT64_C(0xC4CEB9FE1A85EC53);
    z ^= z >> 33;
    return (size_t)z;
}

static int ht_alloc(struct htab *h, size_t cap)
{
    size_t bytes;
    if (!cxm_mul_size(cap, sizeof *h->s, &bytes))
        return CXM_ENOMEM;
    h->s = cxm_malloc(bytes);
    if (!h->s)
        return CXM_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        h->s[i].idx = HT_EMPTY;
    h->mask = cap - 1;
    return CXM_OK;
}

static int ht_init(struct htab *h)
{
    h->len = 0;
    return ht_alloc(h, 1024);
}

static void ht_free(struct htab *h)
{
    free(h->s);
    h->s = NULL;
}

static struct hslot *ht_slot(struct htab *h, double k0, double k1)
{
    size_t i = ht_hash(k0, k1) & h->mask;
    while (h->s[i].idx != HT_EMPTY && (h->s[i].k0 != k0 || h->s[i].k1 != k1))
        i = (i + 1) & h->mask;
    return &h->s[i];
}

/* *idx = the index of (k0, k1); *added tells whether it was absent (its
 * index is then the old h->len). The table grows at a load of 1/2. */
static int ht_put(struct htab *h, double k0, double k1, size_t *idx, bool *added)
{
    k0 += 0.0;
    k1 += 0.0;
    struct hslot *sl = ht_slot(h, k0, k1);
    *added = false;
    if (sl->idx != HT_EMPTY) {
        *idx = sl->idx;
        return CXM_OK;
    }
    if (2 * (h->len + 1) > h->mask + 1) {
        struct htab old = *h;
        size_t cap;
        if (!cxm_mul_size(old.mask + 1, 2, &cap) || ht_alloc(h, cap) != CXM_OK) {
            *h = old;
            return CXM_ENOMEM;
        }
        for (size_t i = 0; i <= old.mask; i++)
            if (old.s[i].idx != HT_EMPTY)
                *ht_slot(h, old.s[i].k0, old.s[i].k1) = old.s[i];
        free(old.s);
        sl = ht_slot(h, k0, k1);
    }
    sl->k0 = k0;
    sl->k1 = k1;
    sl->idx = h->len++;
    *idx = sl->idx;
    *added = true;
    return CXM_OK;
}

/* Makes room for n doubles in *p, which holds cap. */
static int grow_dbl(double **p, size_t *cap, size_t n)
{
    void *v = *p;
    int rc = cxm_grow(&v, cap, n, sizeof **p);
    *p = v;
    return rc;
}

static void *alloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (!cxm_mul_size(n ? n : 1, size, &bytes))
        return NULL;
    return cxm_malloc(bytes);
}

/* ---- expected repeat-purchase histogram ------------------------------------ */

int bgnbd_expected_hist(const struct bgnbd *m, const struct clv_cust *c, size_t n, int K,
                        double *hist)
{
    if (!bg_ok(m) || K < 1 || !hist || (n > 0 && !c))
        return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(c[i].T) || c[i].T < 0)
            return CXM_EINVAL;
    for (int k = 0; k <= K; k++)
        hist[k] = 0;
    /* Customers of the same age share their probabilities. */
    struct htab h;
    if (ht_init(&h) != CXM_OK)
        return CXM_ENOMEM;
    double *Ts = NULL, *cnt = NULL;
    size_t capT = 0, capc = 0;
    int rc = CXM_OK;
    for (size_t i = 0; i < n && rc == CXM_OK; i++) {
        size_t j;
        bool added;
        rc = ht_put(&h, c[i].T, 0, &j, &added);
        if (rc == CXM_OK && added) {
            rc = grow_dbl(&Ts, &capT, h.len);
            if (rc == CXM_OK)
                rc = grow_dbl(&cnt, &capc, h.len);
            if (rc == CXM_OK) {
                Ts[j] = c[i].T;
                cnt[j] = 0;
            }
        }
        if (rc == CXM_OK)
            cnt[j] += 1;
    }
    if (rc == CXM_OK) {
        double sum = 0;
        for (size_t j = 0; j < h.len; j++)
            for (int k = 0; k < K; k++) {
                double p = cnt[j] * bgnbd_pmf(m, Ts[j], k);
                hist[k] += p;
                sum += p;
            }
        hist[K] = fmax((double)n - sum, 0.0);
    }
    free(Ts);
    free(cnt);
    ht_free(&h);
    return rc;
}

/* ---- minimisation: BFGS with a strong-Wolfe line search ------------------- */

#define OPT_DIM 4
#define OPT_MAXIT 300
/* Converged when every component of the gradient of the mean negative
 * log-likelihood (in log parameters) is below this ... */
#define OPT_GTOL 1e-8
/* ... or below this when the line search can make no more progress (the
 * gradient is then at its rounding noise). */
#define OPT_GTOL_LOOSE 1e-6
/* Largest change of a log parameter tried in one step (a factor e^2). */
#define OPT_MAXSTEP 2.0

/* The objective: f at th (+inf where not finite) and its gradient in g. */
typedef double (*objfn)(void *ctx, const double *th, double *g);

struct opt {
    double th[OPT_DIM], f, g[OPT_DIM];
    int iters;
    bool conv;
};

static double dot(const double *u, const double *v, int d)
{
    double s = 0;
    for (int i = 0; i < d; i++)
        s += u[i] * v[i];
    return s;
}

static double max_abs(const double *u, int d)
{
    double m = 0;
    for (int i = 0; i < d; i++)
        m = fmax(m, fabs(u[i]));
    return m;
}

/* A point of the line search: step, f, slope along p, position, gradient. */
struct lpt {
    double a, f, d, x[OPT_DIM], g[OPT_DIM];
};

static void lpt_eval(objfn fn, void *ctx, int dim, const double *x0, const double *p,
                     double a, struct lpt *q)
{
    q->a = a;
    for (int i = 0; i < dim; i++)
        q->x[i] = x0[i] + a * p[i];
    q->f = fn(ctx, q->x, q->g);
    q->d = isfinite(q->f) ? dot(q->g, p, dim) : NAN;
}

/* Nocedal & Wright, algorithms 3.5 and 3.6 (c1 = 1e-4, c2 = 0.9), with
 * safeguarded quadratic interpolation in the zoom, at most 20 evaluations
 * in each phase. A step where f is not
 * finite counts as too long. On success *out is the accepted point; if
 * the strong Wolfe conditions are never met, the best point with sufficient
 * decrease is taken; false when there is none. */
static bool line_search(objfn fn, void *ctx, int dim, const double *x0, double f0, const double *g0,
                        const double *p, double a1, struct lpt *out)
{
    const double c1 = 1e-4, c2 = 0.9;
    double d0 = dot(g0, p, dim);
    struct lpt lo = {.a = 0, .f = f0, .d = d0}, hi = {0}, cur = {0}, best = {.a = 0, .f = f0};
    memcpy(lo.x, x0, sizeof lo.x);
    memcpy(lo.g, g0, sizeof lo.g);
    bool zoom = false;
    double a = a1;
    for (int i = 0; i < 20; i++) {
        lpt_eval(fn, ctx, dim, x0, p, a, &cur);
        if (!(cur.f <= f0 + c1 * a * d0) || (i > 0 && cur.f >= lo.f)) {
            hi = cur;
            zoom = true;
            break;
        }
        best = cur;
        if (fabs(cur.d) <= -c2 * d0) {
            *out = cur;
            return true;
        }
        if (cur.d >= 0) {
            hi = lo;
            lo = cur;
            zoom = true;
            break;
        }
        lo = cur;
        a *= 2;
    }
    for (int j = 0; zoom && j < 20; j++) {
        double span = hi.a - lo.a, aj;
        double den = 2 * (hi.f - lo.f - lo.d * span);
        if (isfinite(hi.f) && den > 0)
            aj = lo.a - lo.d * span * span / den;
        else
            aj = lo.a + 0.5 * span;
        double l = fmin(lo.a, hi.a) + 0.1 * fabs(span), h = fmax(lo.a, hi.a) - 0.1 * fabs(span);
        if (!(aj >= l && aj <= h))
            aj = lo.a + 0.5 * span;
        lpt_eval(fn, ctx, dim, x0, p, aj, &cur);
        if (!(cur.f <= f0 + c1 * aj * d0) || cur.f >= lo.f) {
            hi = cur;
        } else {
            if (cur.f < best.f)
                best = cur;
            if (fabs(cur.d) <= -c2 * d0) {
                *out = cur;
                return true;
            }
            if (cur.d * (hi.a - lo.a) >= 0)
                hi = lo;
            lo = cur;
        }
        if (fabs(hi.a - lo.a) <= 1e-14 * fmax(1.0, fabs(lo.a)))
            break;
    }
    if (best.a > 0 && best.f < f0) {
        *out = best;
        return true;
    }
    return false;
}

/* BFGS on the inverse Hessian, from th0; the first step scaled as Nocedal &
 * Wright (6.20). */
static void bfgs(objfn fn, void *ctx, int dim, const double *th0, struct opt *o)
{
    double x[OPT_DIM], g[OPT_DIM] = {0}, H[OPT_DIM][OPT_DIM], p[OPT_DIM];
    memcpy(x, th0, sizeof x);
    double f = fn(ctx, x, g);
    o->iters = 0;
    o->conv = false;
    bool scaled = false;
    for (int i = 0; i < dim; i++)
        for (int j = 0; j < dim; j++)
            H[i][j] = i == j;
    for (int it = 0; isfinite(f) && it < OPT_MAXIT; it++) {
        if (max_abs(g, dim) <= OPT_GTOL) {
            o->conv = true;
            break;
        }
        for (int i = 0; i < dim; i++)
            p[i] = -dot(H[i], g, dim);
        if (dot(p, g, dim) >= 0) { /* not a descent direction: restart */
            for (int i = 0; i < dim; i++) {
                for (int j = 0; j < dim; j++)
                    H[i][j] = i == j;
                p[i] = -g[i];
            }
            scaled = false;
        }
        /* The quadratic model promises a decrease of -g.p/2: once that is
         * below the rounding error of f, no line search can see progress. */
        if (-dot(g, p, dim) <= 1e-15 * fmax(1.0, fabs(f))) {
            o->conv = max_abs(g, dim) <= OPT_GTOL_LOOSE;
            break;
        }
        double pm = max_abs(p, dim);
        struct lpt nx = {0};
        if (!line_search(fn, ctx, dim, x, f, g, p, pm > OPT_MAXSTEP ? OPT_MAXSTEP / pm : 1, &nx)) {
            o->conv = max_abs(g, dim) <= OPT_GTOL_LOOSE;
            break;
        }
        double s[OPT_DIM], y[OPT_DIM], Hy[OPT_DIM];
        for (int i = 0; i < dim; i++) {
            s[i] = nx.x[i] - x[i];
            y[i] = nx.g[i] - g[i];
        }
        double sy = dot(s, y, dim), yy = dot(y, y, dim);
        if (sy > 1e-12 * sqrt(dot(s, s, dim) * yy)) {
            if (!scaled) {
                for (int i = 0; i < dim; i++)
                    for (int j = 0; j < dim; j++)
                        H[i][j] = i == j ? sy / yy : 0;
                scaled = true;
            }
            double rho = 1 / sy;
            for (int i = 0; i < dim; i++)
                Hy[i] = dot(H[i], y, dim);
            double yHy = dot(y, Hy, dim);
            for (int i = 0; i < dim; i++)
                for (int j = 0; j < dim; j++)
                    H[i][j] += rho * ((1 + rho * yHy) * s[i] * s[j] - Hy[i] * s[j] - s[i] * Hy[j]);
        }
        memcpy(x, nx.x, sizeof x);
        memcpy(g, nx.g, sizeof g);
        f = nx.f;
        o->iters = it + 1;
    }
    memcpy(o->th, x, sizeof o->th);
    memcpy(o->g, g, sizeof o->g);
    o->f = isfinite(f) ? f : INFINITY;
    if (!isfinite(f))
        o->conv = false;
}

/* Runs bfgs from each start and keeps the best converged run (the best of
 * all when none converged). Once runs from two different starts converge to
 * the same f, that is taken as the maximum and the remaining starts, each
 * as costly as the first, are skipped. */
static void multi_start(objfn fn, void *ctx, int dim, const double (*starts)[OPT_DIM], int ns,
                        struct opt *best)
{
    best->f = INFINITY;
    best->conv = false;
    best->iters = 0;
    memcpy(best->th, starts[0], sizeof best->th);
    for (int k = 0; k < ns; k++) {
        struct opt o;
        bfgs(fn, ctx, dim, starts[k], &o);
        if (o.conv && best->conv && fabs(o.f - best->f) <= 1e-10 * fmax(1.0, fabs(best->f))) {
            if (o.f < best->f)
                *best = o;
            return;
        }
        if ((o.conv && !best->conv) || (o.conv == best->conv && o.f < best->f))
            *best = o;
    }
}

/* Parameters beyond e^+-40 are far outside any data; refusing them keeps
 * exp() and the likelihood finite. */
static bool theta_ok(const double *th, int dim)
{
    for (int i = 0; i < dim; i++)
        if (!(fabs(th[i]) <= 40))
            return false;
    return true;
}

/* ---- BG/NBD: the fit ------------------------------------------------------ */

/* The customers as distinct (x, tx, T) rows with weights w, sorted by x, T,
 * tx, so the sums run in an order that does not depend on the order of the
 * input. Rows of one x form a group (lo..hi), whose terms in x alone are
 * computed once. T and tx are indexes into tv, the distinct times, whose
 * log(alpha + t) and 1/(alpha + t) each evaluation computes once into lt
 * and it: then a row costs one exp, one log1p and one division. */
struct bg_grp {
    double x, W;
    size_t lo, hi;
};
struct bg_rows {
    size_t nrow, ngrp, ntv;
    double *w;
    uint32_t *iT, *itx;
    struct bg_grp *g;
    double *tv, *lt, *it;
    double W, lam; /* total weight; repeat purchases per unit of age */
};

struct key3 {
    double x, T, tx;
};

static int cmp_key3(const void *pa, const void *pb)
{
    const struct key3 *p = pa, *q = pb;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    if (p->T != q->T)
        return p->T < q->T ? -1 : 1;
    if (p->tx != q->tx)
        return p->tx < q->tx ? -1 : 1;
    return 0;
}

static void bg_rows_free(struct bg_rows *R)
{
    free(R->w);
    free(R->iT);
    free(R->itx);
    free(R->g);
    free(R->tv);
    free(R->lt);
    free(R->it);
    memset(R, 0, sizeof *R);
}

/* Index of time t in R->tv through h, appending it when new. */
static int bg_time(struct bg_rows *R, struct htab *h, size_t *cap, double t, uint32_t *out)
{
    size_t j;
    bool added;
    int rc = ht_put(h, t, 0, &j, &added);
    if (rc != CXM_OK)
        return rc;
    if (added) {
        rc = grow_dbl(&R->tv, cap, h->len);
        if (rc != CXM_OK)
            return rc;
        R->tv[j] = t;
    }
    *out = (uint32_t)j;
    return CXM_OK;
}

static int bg_prepare(const struct clv_cust *c, size_t n, struct bg_rows *R)
{
    memset(R, 0, sizeof *R);
    if (!c || n == 0)
        return CXM_EINVAL;
    if (n > UINT32_MAX / 2)
        return CXM_ETOOBIG;
    struct key3 *k = alloc_array(n, sizeof *k);
    if (!k)
        return CXM_ENOMEM;
    bool any_x = false, any_T = false;
    for (size_t i = 0; i < n; i++) {
        double x = c[i].x, tx = c[i].tx, T = c[i].T;
        if (!cust_ok(x, tx, T)) {
            free(k);
            return CXM_EINVAL;
        }
        k[i] = (struct key3){x + 0.0, T + 0.0, x > 0 ? tx + 0.0 : 0.0};
        any_x |= x > 0;
        any_T |= T > 0;
    }
    if (!any_x || !any_T) { /* no repeat purchase, or no time to make one */
        free(k);
        return CXM_EINVAL;
    }
    qsort(k, n, sizeof *k, cmp_key3);
    /* summed in sorted order, as everything after: the same bits whatever
     * the order of the input */
    double sx = 0, sT = 0;
    for (size_t i = 0; i < n; i++) {
        sx += k[i].x;
        sT += k[i].T;
    }
    R->W = (double)n;
    R->lam = sx / sT;
    size_t nrow = 1, ngrp = 1;
    for (size_t i = 1; i < n; i++) {
        nrow += cmp_key3(&k[i - 1], &k[i]) != 0;
        ngrp += k[i - 1].x != k[i].x;
    }
    R->w = alloc_array(nrow, sizeof *R->w);
    R->iT = alloc_array(nrow, sizeof *R->iT);
    R->itx = alloc_array(nrow, sizeof *R->itx);
    R->g = alloc_array(ngrp, sizeof *R->g);
    struct htab h = {0};
    int rc = CXM_ENOMEM;
    if (!R->w || !R->iT || !R->itx || !R->g || ht_init(&h) != CXM_OK)
        goto out;
    size_t r = 0, gi = 0, tvcap = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && cmp_key3(&k[i - 1], &k[i]) == 0) {
            R->w[r - 1] += 1;
            R->g[gi - 1].W += 1;
            continue;
        }
        if (i == 0 || k[i - 1].x != k[i].x)
            R->g[gi++] = (struct bg_grp){.x = k[i].x, .W = 0, .lo = r, .hi = r};
        R->w[r] = 1;
        R->g[gi - 1].W += 1;
        R->g[gi - 1].hi = r + 1;
        if ((rc = bg_time(R, &h, &tvcap, k[i].T, &R->iT[r])) != CXM_OK ||
            (rc = bg_time(R, &h, &tvcap, k[i].tx, &R->itx[r])) != CXM_OK)
            goto out;
        r++;
    }
    R->nrow = nrow;
    R->ngrp = ngrp;
    R->ntv = h.len;
    R->lt = alloc_array(R->ntv, sizeof *R->lt);
    R->it = alloc_array(R->ntv, sizeof *R->it);
    rc = R->lt && R->it ? CXM_OK : CXM_ENOMEM;
out:
    ht_free(&h);
    free(k);
    if (rc != CXM_OK)
        bg_rows_free(R);
    return rc;
}

/* Summed log-likelihood (FHL equation 6 for every row, times its weight)
 * at r, alpha, a, b = exp(th), and its gradient with respect to th. */
static double bg_eval(struct bg_rows *R, const double th[4], double grad[4])
{
    double r = exp(th[0]), al = exp(th[1]), a = exp(th[2]), b = exp(th[3]);
    for (size_t j = 0; j < R->ntv; j++) {
        double v = al + R->tv[j];
        R->lt[j] = log(v);
        R->it[j] = 1 / v;
    }
    const double *lt = R->lt, *it = R->it, *w = R->w;
    const uint32_t *iT = R->iT, *itx = R->itx;
    double la = log(al), lga = log(a);
    double lgr = lgam(r), psr = digamma(r), lgab = lgam(a + b), psab = digamma(a + b);
    double lgb = lgam(b), psb = digamma(b);
    double ll = 0, dr = 0, dal = 0, da = 0, db = 0;
    for (size_t gi = 0; gi < R->ngrp; gi++) {
        const struct bg_grp *g = &R->g[gi];
        double x = g->x, W = g->W, rx = r + x;
        double psabx = digamma(a + b + x);
        ll += W * (lgam(rx) - lgr + r * la + lgab + lgam(b + x) - lgb - lgam(a + b + x));
        dr += W * (digamma(rx) - psr + la);
        dal += W * r / al;
        da += W * (psab - psabx);
        db += W * (psab + digamma(b + x) - psb - psabx);
        if (x == 0) { /* only "alive at T": -r log(alpha + T) */
            double sL = 0, sI = 0;
            for (size_t i = g->lo; i < g->hi; i++) {
                sL += w[i] * lt[iT[i]];
                sI += w[i] * it[iT[i]];
            }
            ll -= r * sL;
            dr -= sL;
            dal -= r * sI;
            continue;
        }
        /* log(e^c3 + e^c4) with c3 = -rx log(alpha+T) and
         * c4 = k - rx log(alpha+tx): c3 + softplus(c4 - c3); w4, the share
         * of the second term, weighs the two terms' derivatives. */
        double k = lga - log(b + x - 1);
        double sll = 0, sL = 0, sI = 0, s4 = 0;
        for (size_t i = g->lo; i < g->hi; i++) {
            double lT = lt[iT[i]], lx = lt[itx[i]];
            double d = k - rx * (lx - lT);
            double e = exp(-fabs(d));
            double w4 = d > 0 ? 1 / (1 + e) : e / (1 + e);
            double wi = w[i];
            /* log, not log1p: the sum needs absolute accuracy only, and
             * glibc's log1p costs several times more. */
            sll += wi * (fmax(d, 0.0) + log(1 + e) - rx * lT);
            sL += wi * (lT + w4 * (lx - lT));
            sI += wi * (it[iT[i]] + w4 * (it[itx[i]] - it[iT[i]]));
            s4 += wi * w4;
        }
        ll += sll;
        dr -= sL;
        dal -= rx * sI;
        da += s4 / a;
        db -= s4 / (b + x - 1);
    }
    grad[0] = r * dr;
    grad[1] = al * dal;
    grad[2] = a * da;
    grad[3] = b * db;
    return ll;
}

/* The mean negative log-likelihood, so tolerances do not depend on n. */
static double bg_obj(void *ctx, const double *th, double *g)
{
    struct bg_rows *R = ctx;
    if (!theta_ok(th, 4))
        return INFINITY;
    double grad[4];
    double ll = bg_eval(R, th, grad);
    for (int i = 0; i < 4; i++) {
        g[i] = -grad[i] / R->W;
        if (!isfinite(g[i]))
            return INFINITY;
    }
    return isfinite(ll) ? -ll / R->W : INFINITY;
}

int bgnbd_fit(const struct clv_cust *c, size_t n, struct bgnbd *out)
{
    if (!out)
        return CXM_EINVAL;
    struct bg_rows R;
    int rc = bg_prepare(c, n, &R);
    if (rc != CXM_OK)
        return rc;
    /* Starts spread over the usual range, each with r / alpha (the mean
     * purchase rate) at the observed rate. */
    double L = log(R.lam);
    const double starts[][OPT_DIM] = {
        {0, -L, 0, 0},
        {log(0.25), log(0.25) - L, log(0.5), log(2.0)},
        {log(4.0), log(4.0) - L, log(2.0), log(8.0)},
    };
    struct opt o;
    multi_start(bg_obj, &R, 4, starts, 3, &o);
    *out = (struct bgnbd){
        .r = exp(o.th[0]),
        .alpha = exp(o.th[1]),
        .a = exp(o.th[2]),
        .b = exp(o.th[3]),
        .loglik = -o.f * R.W,
        .iterations = o.iters,
        .converged = o.conv,
        .n = n,
        .rows = R.nrow,
    };
    bg_rows_free(&R);
    return CXM_OK;
}

CXM_TESTABLE int bgnbd_ll_sum(const struct clv_cust *c, size_t n, const double theta[4],
                              double *ll, double grad[4])
{
    struct bg_rows R;
    int rc = bg_prepare(c, n, &R);
    if (rc != CXM_OK)
        return rc;
    *ll = bg_eval(&R, theta, grad);
    bg_rows_free(&R);
    return CXM_OK;
}

/* ---- Gamma-Gamma ----------------------------------------------------------- */

static bool gg_ok(const struct gamgam *g)
{
    return g && pos(g->p) && pos(g->q) && pos(g->v);
}

double gamgam_ll(const struct gamgam *g, double x, double mx)
{
    if (!gg_ok(g) || !pos(x) || !pos(mx))
        return NAN;
    double p = g->p, q = g->q, v = g->v, px = p * x;
    /* m_x | nu ~ Gamma(p x, nu x), nu ~ Gamma(q, v), nu integrated out. */
    return lgam(px + q) - lgam(px) - lgam(q) + q * log(v) + (px - 1) * log(mx) + px * log(x) -
           (px + q) * log(v + x * mx);
}

double gamgam_aov(const struct gamgam *g, double x, double mx)
{
    if (!gg_ok(g) || !isfinite(x) || !isfinite(mx))
        return NAN;
    double p = g->p, q = g->q, v = g->v;
    if (x > 0 && mx > 0) {
        /* The posterior mean of p/nu: the customer's own mean, shrunk to the
         * population mean the more the fewer purchases it rests on. */
        double den = p * x + q - 1;
        return den > 0 ? p * (v + x * mx) / den : NAN;
    }
    return q > 1 ? p * v / (q - 1) : NAN;
}

/* Repeat customers as distinct (x, mx) rows sorted by x then mx; per group
 * of one x the sums of weights and of w log(mx), so an evaluation costs one
 * log and one division a row. */
struct gg_grp {
    double x, lx, W, Slm;
    size_t lo, hi;
};
struct gg_rows {
    size_t nrow, ngrp, n;
    double *xm, *w; /* x * mx, weight */
    struct gg_grp *g;
    double W, mbar;
};

struct key2 {
    double x, m;
};

static int cmp_key2(const void *pa, const void *pb)
{
    const struct key2 *p = pa, *q = pb;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    if (p->m != q->m)
        return p->m < q->m ? -1 : 1;
    return 0;
}

static void gg_rows_free(struct gg_rows *R)
{
    free(R->xm);
    free(R->w);
    free(R->g);
    memset(R, 0, sizeof *R);
}

static int gg_prepare(const struct clv_cust *c, size_t n, struct gg_rows *R)
{
    memset(R, 0, sizeof *R);
    if (!c || n == 0)
        return CXM_EINVAL;
    size_t nrep = 0;
    for (size_t i = 0; i < n; i++) {
        double x = c[i].x;
        if (!isfinite(x) || x < 0 || x != floor(x))
            return CXM_EINVAL;
        if (x >= 1) {
            if (!pos(c[i].mx))
                return CXM_EINVAL;
            nrep++;
        }
    }
    if (nrep == 0)
        return CXM_EINVAL;
    struct key2 *k = alloc_array(nrep, sizeof *k);
    if (!k)
        return CXM_ENOMEM;
    for (size_t i = 0, j = 0; i < n; i++)
        if (c[i].x >= 1)
            k[j++] = (struct key2){c[i].x + 0.0, c[i].mx};
    qsort(k, nrep, sizeof *k, cmp_key2);
    double sm = 0; /* in sorted order: see bg_prepare */
    for (size_t i = 0; i < nrep; i++)
        sm += k[i].m;
    size_t nrow = 1, ngrp = 1;
    for (size_t i = 1; i < nrep; i++) {
        nrow += cmp_key2(&k[i - 1], &k[i]) != 0;
        ngrp += k[i - 1].x != k[i].x;
    }
    R->xm = alloc_array(nrow, sizeof *R->xm);
    R->w = alloc_array(nrow, sizeof *R->w);
    R->g = alloc_array(ngrp, sizeof *R->g);
    if (!R->xm || !R->w || !R->g) {
        free(k);
        gg_rows_free(R);
        return CXM_ENOMEM;
    }
    size_t r = 0, gi = 0;
    for (size_t i = 0; i < nrep; i++) {
        if (i == 0 || k[i - 1].x != k[i].x)
            R->g[gi++] = (struct gg_grp){.x = k[i].x, .lx = log(k[i].x), .lo = r, .hi = r};
        struct gg_grp *g = &R->g[gi - 1];
        g->W += 1;
        g->Slm += log(k[i].m);
        if (i > 0 && cmp_key2(&k[i - 1], &k[i]) == 0) {
            R->w[r - 1] += 1;
            continue;
        }
        R->xm[r] = k[i].x * k[i].m;
        R->w[r] = 1;
        g->hi = ++r;
    }
    free(k);
    R->nrow = nrow;
    R->ngrp = ngrp;
    R->n = nrep;
    R->W = (double)nrep;
    R->mbar = sm / (double)nrep;
    return CXM_OK;
}

static double gg_eval(const struct gg_rows *R, const double th[3], double grad[3])
{
    double p = exp(th[0]), q = exp(th[1]), v = exp(th[2]);
    double lv = log(v), lgq = lgam(q), psq = digamma(q);
    double ll = 0, dp = 0, dq = 0, dv = 0;
    for (size_t gi = 0; gi < R->ngrp; gi++) {
        const struct gg_grp *g = &R->g[gi];
        double x = g->x, W = g->W, px = p * x, pxq = px + q;
        double sL = 0, sI = 0;
        for (size_t i = g->lo; i < g->hi; i++) {
            double u = v + R->xm[i];
            sL += R->w[i] * log(u);
            sI += R->w[i] / u;
        }
        double ps_pxq = digamma(pxq);
        ll += W * (lgam(pxq) - lgam(px) - lgq + q * lv + px * g->lx) + (px - 1) * g->Slm -
              pxq * sL;
        dp += x * (W * (ps_pxq - digamma(px) + g->lx) + g->Slm - sL);
        dq += W * (ps_pxq - psq + lv) - sL;
        dv += W * q / v - pxq * sI;
    }
    grad[0] = p * dp;
    grad[1] = q * dq;
    grad[2] = v * dv;
    return ll;
}

static double gg_obj(void *ctx, const double *th, double *g)
{
    const struct gg_rows *R = ctx;
    if (!theta_ok(th, 3))
        return INFINITY;
    double grad[3];
    double ll = gg_eval(R, th, grad);
    for (int i = 0; i < 3; i++) {
        g[i] = -grad[i] / R->W;
        if (!isfinite(g[i]))
            return INFINITY;
    }
    return isfinite(ll) ? -ll / R->W : INFINITY;
}

int gamgam_fit(const struct clv_cust *c, size_t n, struct gamgam *out)
{
    if (!out)
        return CXM_EINVAL;
    struct gg_rows R;
    int rc = gg_prepare(c, n, &R);
    if (rc != CXM_OK)
        return rc;
    /* Starts with the population mean p v / (q - 1) at the observed mean. */
    double lm = log(R.mbar);
    const double starts[][OPT_DIM] = {
        {0, log(2.0), lm, 0},
        {log(4.0), log(3.0), lm - log(2.0), 0},
        {log(10.0), log(5.0), lm + log(0.4), 0},
    };
    struct opt o;
    multi_start(gg_obj, &R, 3, starts, 3, &o);
    *out = (struct gamgam){
        .p = exp(o.th[0]),
        .q = exp(o.th[1]),
        .v = exp(o.th[2]),
        .loglik = -o.f * R.W,
        .iterations = o.iters,
        .converged = o.conv,
        .n = R.n,
        .rows = R.nrow,
    };
    gg_rows_free(&R);
    return CXM_OK;
}

CXM_TESTABLE int gamgam_ll_sum(const struct clv_cust *c, size_t n, const double theta[3],
                               double *ll, double grad[3])
{
    struct gg_rows R;
    int rc = gg_prepare(c, n, &R);
    if (rc != CXM_OK)
        return rc;
    *ll = gg_eval(&R, theta, grad);
    gg_rows_free(&R);
    return CXM_OK;
}

/* ---- CLV ------------------------------------------------------------------- */

double clv_period_rate(double annual, double period_days)
{
    if (!isfinite(annual) || !isfinite(period_days) || annual <= -1)
        return NAN;
    return expm1(log1p(annual) * period_days / 365.25);
}

/* For a customer with x repeat purchases and age T: *nt = the numerator of
 * E[Y(t)] (bg_num; E[Y] is it times P(alive)) and *val the same for the
 * discounted sum over the horizon, sum_i (N(i) - N(i-1)) / (1+rate)^i:
 * both are linear in the numerator, and the costly part, the series,
 * depends on x and T only. */
static void bg_horizon(const struct bgnbd *m, double x, double T, double t, int horizon,
                       double rate, double *nt, double *val)
{
    double base = m->alpha + T;
    *nt = bg_num_at(m, x, base, t);
    *val = 0;
    if (horizon <= 0)
        return;
    if (rate == 0) {
        *val = t == horizon ? *nt : bg_num_at(m, x, base, horizon);
        return;
    }
    double A = m->a + m->b - 1 - m->r, e = m->a - 1, C = m->a + m->b + x - 1;
    double disc = 1, prev = 0, f = 1 / (1 + rate);
    for (int i0 = 1; i0 <= horizon; i0 += BG_BLOCK) {
        double z[BG_BLOCK], L[BG_BLOCK], N[BG_BLOCK];
        int nb = horizon - i0 + 1 < BG_BLOCK ? horizon - i0 + 1 : BG_BLOCK;
        for (int k = 0; k < nb; k++) {
            double ti = i0 + k;
            z[k] = ti / (base + ti);
            L[k] = -log1p(ti / base);
        }
        bg_num_block(A, e, C, z, L, nb, N);
        for (int k = 0; k < nb; k++) {
            disc *= f;
            *val += disc * (N[k] - prev);
            prev = N[k];
        }
    }
}

double clv_value(const struct bgnbd *m, const struct gamgam *g, const struct clv_cust *c,
                 int horizon, double rate_per_period)
{
    if (!bg_ok(m) || !gg_ok(g) || !c || !cust_ok(c->x, c->tx, c->T) ||
        !isfinite(rate_per_period) || rate_per_period <= -1)
        return NAN;
    if (horizon <= 0)
        return 0;
    double aov = gamgam_aov(g, c->x, c->x > 0 ? c->mx : 0);
    if (isnan(aov))
        return NAN;
    double nt, val;
    bg_horizon(m, c->x, c->T, 0, horizon, rate_per_period, &nt, &val);
    double pa = c->x == 0 ? 1 : 1 / (1 + drop_odds(m, c->x, c->tx, c->T));
    return val * pa * aov;
}

int clv_predict(const struct bgnbd *m, const struct gamgam *g, const struct clv_cust *c,
                size_t n, double t, int horizon, double rate_per_period, struct clv_pred *out)
{
    if (!bg_ok(m) || !gg_ok(g) || (n > 0 && (!c || !out)) || !isfinite(t) || t < 0 ||
        !isfinite(rate_per_period) || rate_per_period <= -1)
        return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!cust_ok(c[i].x, c[i].tx, c[i].T) || (c[i].x > 0 && !isfinite(c[i].mx)))
            return CXM_EINVAL;
    struct htab h;
    if (ht_init(&h) != CXM_OK)
        return CXM_ENOMEM;
    double *nt = NULL, *val = NULL;
    size_t capn = 0, capv = 0;
    int rc = CXM_OK;
    for (size_t i = 0; i < n; i++) {
        double x = c[i].x, T = c[i].T;
        size_t j;
        bool added;
        if ((rc = ht_put(&h, x, T, &j, &added)) != CXM_OK)
            break;
        if (added) {
            if ((rc = grow_dbl(&nt, &capn, h.len)) != CXM_OK ||
                (rc = grow_dbl(&val, &capv, h.len)) != CXM_OK)
                break;
            bg_horizon(m, x, T, t, horizon, rate_per_period, &nt[j], &val[j]);
        }
        double pa = x == 0 ? 1 : 1 / (1 + drop_odds(m, x, c[i].tx, T));
        double aov = gamgam_aov(g, x, x > 0 ? c[i].mx : 0);
        out[i] = (struct clv_pred){
            .p_alive = pa,
            .expected = nt[j] * pa,
            .aov = aov,
            .value = horizon > 0 ? val[j] * pa * aov : 0,
        };
    }
    free(nt);
    free(val);
    ht_free(&h);
    return rc;
}
