/* metrics.c - see metrics.h */
#include "core/metrics.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"

/* Two-sided 95% quantile of the normal distribution. */
#define Z95 1.96
#define SECS_PER_DAY 86400
#define LABEL_LEN 16
/* ISO weeks look up to six days away from a date (its Thursday, its
 * Monday), so dates keep a week's distance from the limit of timefmt. */
#define MAX_DAYS (TIMEFMT_MAX_DAYS - 7)

/* ---- accumulators ------------------------------------------------------ */

void nps_add(struct nps_acc *a, int score)
{
    nps_add_n(a, score, 1);
}

void nps_add_n(struct nps_acc *a, int score, uint64_t n)
{
    if (score < 0 || score > 10)
        return;
    a->n += n;
    if (score >= 9)
        a->promoters += n;
    else if (score >= 7)
        a->passives += n;
    else
        a->detractors += n;
}

void nps_merge(struct nps_acc *into, const struct nps_acc *a)
{
    into->n += a->n;
    into->promoters += a->promoters;
    into->passives += a->passives;
    into->detractors += a->detractors;
}

void csat_add(struct csat_acc *a, int score)
{
    csat_add_n(a, score, 1);
}

void csat_add_n(struct csat_acc *a, int score, uint64_t n)
{
    if (score < 1 || score > 5)
        return;
    double s = (double)score, k = (double)n;
    a->n += n;
    if (score >= 4)
        a->top2 += n;
    a->sum += s * k;
    a->sumsq += s * s * k;
}

void sent_add(struct sent_acc *a, double c)
{
    if (!(c >= -1 && c <= 1))
        return;
    a->n++;
    a->pos += c >= 0.05;
    a->neg += c <= -0.05;
    a->sum += c;
    a->sumsq += c * c;
}

void ces_add(struct ces_acc *a, int score)
{
    ces_add_n(a, score, 1);
}

void ces_add_n(struct ces_acc *a, int score, uint64_t n)
{
    if (score < 1 || score > 7)
        return;
    double s = (double)score, k = (double)n;
    a->n += n;
    if (score <= 3)
        a->low += n;
    a->sum += s * k;
    a->sumsq += s * s * k;
}

/* ---- per-response variances ------------------------------------------- */

/* Variance of one response scored 100 when counted and 0 otherwise:
 * 100^2 q (1 - q). k <= n, n > 0. */
static double prop_var(uint64_t k, uint64_t n)
{
    double q = (double)k / (double)n;
    return 1e4 * q * (1.0 - q);
}

/* Variance of one NPS response (+100 promoter, 0 passive, -100 detractor):
 * E[x^2] - E[x]^2 = 100^2 (p + d - (p - d)^2). It is 0 when every answer is
 * the same, but rounding may leave a hair below 0: clamped. n > 0. */
static double nps_var(const struct nps_acc *a)
{
    double n = (double)a->n;
    double p = (double)a->promoters / n;
    double d = (double)a->detractors / n;
    double v = 1e4 * (p + d - (p - d) * (p - d));
    return v > 0 ? v : 0;
}

/* Sample variance (n - 1) from a sum and a sum of squares, n >= 2. For
 * integer scores the one-pass form is exact when all answers agree (the
 * mean is then an integer), so identical answers give exactly 0. Sums of
 * non-integers carry the caller's rounding, which can leave a hair below
 * 0: clamped, so sqrt never sees a negative. */
static double sample_var(double sum, double sumsq, uint64_t n)
{
    double nd = (double)n;
    double ss = sumsq - sum * (sum / nd);
    return ss > 0 ? ss / (nd - 1) : 0;
}

/* ---- values ------------------------------------------------------------ */

static struct metric_value prop_value(uint64_t k, uint64_t n)
{
    struct metric_value v = {0};
    if (n == 0 || k > n)
        return v;
    v.n = n;
    v.value = 100.0 * (double)k / (double)n;
    v.margin = Z95 * sqrt(prop_var(k, n) / (double)n);
    v.has_value = true;
    v.has_margin = true;
    return v;
}

static struct metric_value mean_value(double sum, double sumsq, uint64_t n)
{
    struct metric_value v = {0};
    if (n == 0 || !isfinite(sum) || !isfinite(sumsq))
        return v;
    v.n = n;
    v.value = sum / (double)n;
    v.has_value = true;
    if (n >= 2) {
        v.margin = Z95 * sqrt(sample_var(sum, sumsq, n) / (double)n);
        v.has_margin = true;
    }
    return v;
}

static double nps_of(const struct nps_acc *a)
{
    return 100.0 * ((double)a->promoters - (double)a->detractors) / (double)a->n;
}

struct metric_value nps_value(const struct nps_acc *a)
{
    struct metric_value v = {0};
    if (a->n == 0)
        return v;
    v.n = a->n;
    v.value = nps_of(a);
    v.margin = Z95 * sqrt(nps_var(a) / (double)a->n);
    v.has_value = true;
    v.has_margin = true;
    return v;
}

struct metric_value csat_pct(const struct csat_acc *a)
{
    return prop_value(a->top2, a->n);
}

struct metric_value csat_mean(const struct csat_acc *a)
{
    return mean_value(a->sum, a->sumsq, a->n);
}

struct metric_value ces_mean(const struct ces_acc *a)
{
    return mean_value(a->sum, a->sumsq, a->n);
}

struct metric_value metrics_prop(uint64_t k, uint64_t n)
{
    return prop_value(k, n);
}

struct metric_value sent_mean(const struct sent_acc *a)
{
    return mean_value(a->sum, a->sumsq, a->n);
}

struct metric_value sent_pct(const struct sent_acc *a, bool negative)
{
    return prop_value(negative ? a->neg : a->pos, a->n);
}

struct metric_value ces_low_pct(const struct ces_acc *a)
{
    return prop_value(a->low, a->n);
}

/* ---- period-over-period change ----------------------------------------- */

/* Both sides have n >= 1. The test of the difference of two independent
 * estimates; with n < 2 on a side there is no spread to test against. */
static struct metric_change change_of(double prev, double var_prev, uint64_t n_prev,
                                      double cur, double var_cur, uint64_t n_cur)
{
    struct metric_change c = {0};
    c.change = cur - prev;
    c.has_value = true;
    if (n_prev >= 2 && n_cur >= 2) {
        double se = sqrt(var_prev / (double)n_prev + var_cur / (double)n_cur);
        c.significant = fabs(c.change) > Z95 * se;
    }
    return c;
}

struct metric_change nps_change(const struct nps_acc *prev, const struct nps_acc *cur)
{
    if (prev->n == 0 || cur->n == 0)
        return (struct metric_change){0};
    return change_of(nps_of(prev), nps_var(prev), prev->n, nps_of(cur), nps_var(cur), cur->n);
}

struct metric_change pct_change(uint64_t k_prev, uint64_t n_prev, uint64_t k_cur,
                                uint64_t n_cur)
{
    if (n_prev == 0 || n_cur == 0 || k_prev > n_prev || k_cur > n_cur)
        return (struct metric_change){0};
    return change_of(100.0 * (double)k_prev / (double)n_prev, prop_var(k_prev, n_prev), n_prev,
                     100.0 * (double)k_cur / (double)n_cur, prop_var(k_cur, n_cur), n_cur);
}

struct metric_change csat_pct_change(const struct csat_acc *prev, const struct csat_acc *cur)
{
    return pct_change(prev->top2, prev->n, cur->top2, cur->n);
}

struct metric_change mean_change(double sum_prev, double sumsq_prev, uint64_t n_prev,
                                 double sum_cur, double sumsq_cur, uint64_t n_cur)
{
    if (n_prev == 0 || n_cur == 0 || !isfinite(sum_prev) || !isfinite(sumsq_prev) ||
        !isfinite(sum_cur) || !isfinite(sumsq_cur))
        return (struct metric_change){0};
    double var_prev = n_prev >= 2 ? sample_var(sum_prev, sumsq_prev, n_prev) : 0;
    double var_cur = n_cur >= 2 ? sample_var(sum_cur, sumsq_cur, n_cur) : 0;
    return change_of(sum_prev / (double)n_prev, var_prev, n_prev,
                     sum_cur / (double)n_cur, var_cur, n_cur);
}

/* ---- calendar ---------------------------------------------------------- */

/* Day number (since 1970-01-01) holding ts, rounding down before 1970. */
static int64_t day_of(int64_t ts)
{
    int64_t day = ts / SECS_PER_DAY;
    if (ts % SECS_PER_DAY < 0)
        day--;
    assert(day >= -MAX_DAYS && day <= MAX_DAYS);
    return day;
}

/* 0 = Monday .. 6 = Sunday; 1970-01-01 was a Thursday. */
static int64_t weekday(int64_t day)
{
    int64_t w = (day + 3) % 7;
    return w < 0 ? w + 7 : w;
}

/* ISO 8601: week 1 is the week holding the year's first Thursday, so every
 * week belongs to the year its Thursday falls in, and is numbered by how
 * many Thursdays of that year precede it. */
static void iso_week(int64_t day, int *week_year, unsigned *week)
{
    int64_t thu = day - weekday(day) + 3;
    int y;
    unsigned m, d;
    timefmt_civil_from_days(thu, &y, &m, &d);
    *week_year = y;
    *week = (unsigned)((thu - timefmt_days_from_civil(y, 1, 1)) / 7 + 1);
}

/* b itself, asserted to be an enum bucket value; a release build treats
 * any other value as a day rather than reading past a switch. */
static enum bucket bucket_checked(enum bucket b)
{
    bool ok = b == BUCKET_DAY || b == BUCKET_WEEK || b == BUCKET_MONTH ||
              b == BUCKET_QUARTER || b == BUCKET_YEAR;
    assert(ok);
    return ok ? b : BUCKET_DAY;
}

/* First month of the bucket holding month m (BUCKET_MONTH and longer). */
static unsigned first_month(unsigned m, enum bucket b)
{
    if (b == BUCKET_QUARTER)
        return (m - 1) / 3 * 3 + 1;
    if (b == BUCKET_YEAR)
        return 1;
    return m;
}

int metrics_age_band_index(int birth_year, int64_t ts)
{
    if (birth_year == 0)
        return 0;
    int y;
    unsigned m, d;
    timefmt_civil_from_days(day_of(ts), &y, &m, &d);
    int64_t age = (int64_t)y - birth_year;
    return age < 18 ? 0 : age <= 24 ? 1 : age <= 34 ? 2 : age <= 44 ? 3 : age <= 54 ? 4
         : age <= 64 ? 5 : 6;
}

const char *metrics_age_band(int birth_year, int64_t ts)
{
    static const char *const names[] = {NULL, "18-24", "25-34", "35-44", "45-54", "55-64",
                                        "65+"};
    return names[metrics_age_band_index(birth_year, ts)];
}

int64_t bucket_start(int64_t ts, enum bucket b)
{
    b = bucket_checked(b);
    int64_t day = day_of(ts);
    if (b == BUCKET_WEEK) {
        day -= weekday(day);
    } else if (b != BUCKET_DAY) {
        int y;
        unsigned m, d;
        timefmt_civil_from_days(day, &y, &m, &d);
        day = timefmt_days_from_civil(y, first_month(m, b), 1);
    }
    return day * SECS_PER_DAY;
}

int64_t bucket_next(int64_t start, enum bucket b)
{
    b = bucket_checked(b);
    int64_t day = day_of(bucket_start(start, b));
    switch (b) {
    case BUCKET_DAY:
        day += 1;
        break;
    case BUCKET_WEEK:
        day += 7;
        break;
    case BUCKET_MONTH:
    case BUCKET_QUARTER:
    case BUCKET_YEAR: {
        int y;
        unsigned m, d;
        timefmt_civil_from_days(day, &y, &m, &d);
        m += b == BUCKET_MONTH ? 1 : b == BUCKET_QUARTER ? 3 : 12;
        if (m > 12) {
            m -= 12;
            y++;
        }
        day = timefmt_days_from_civil(y, m, 1);
        break;
    }
    }
    return day * SECS_PER_DAY;
}

void bucket_label(int64_t ts, enum bucket b, char buf[16])
{
    b = bucket_checked(b);
    int64_t day = day_of(ts);
    int y;
    unsigned m, d;
    int n;
    if (b == BUCKET_WEEK) {
        unsigned w;
        iso_week(day, &y, &w);
        n = snprintf(buf, LABEL_LEN, "%04d-W%02u", y, w);
    } else {
        timefmt_civil_from_days(day, &y, &m, &d);
        if (b == BUCKET_DAY)
            n = snprintf(buf, LABEL_LEN, "%04d-%02u-%02u", y, m, d);
        else if (b == BUCKET_MONTH)
            n = snprintf(buf, LABEL_LEN, "%04d-%02u", y, m);
        else if (b == BUCKET_QUARTER)
            n = snprintf(buf, LABEL_LEN, "%04d-Q%u", y, (m + 2) / 3);
        else
            n = snprintf(buf, LABEL_LEN, "%04d", y);
    }
    /* Only a day label of a year with ten or more characters is too long. */
    if (n < 0 || n >= LABEL_LEN)
        buf[0] = '\0';
}

int bucket_parse(const char *s)
{
    /* Indexed by enum bucket. */
    static const char *const names[] = {"day", "week", "month", "quarter", "year"};
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

double metrics_normalise(enum score_scale s, double score)
{
    switch (s) {
    case SCALE_0_10:
        return score >= 0 && score <= 10 ? score / 10 : NAN;
    case SCALE_1_5:
        return score >= 1 && score <= 5 ? (score - 1) / 4 : NAN;
    case SCALE_EFFORT_1_7:
        return score >= 1 && score <= 7 ? (7 - score) / 6 : NAN;
    }
    return NAN;
}

struct ranked {
    double x;
    uint8_t y;
};

static int ranked_cmp(const void *a, const void *b)
{
    double x = ((const struct ranked *)a)->x, y = ((const struct ranked *)b)->x;
    return x < y ? -1 : x > y;
}

double metrics_auc(const double *x, const uint8_t *y, size_t n)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += y[i] != 0;
    size_t neg = n - pos;
    if (!pos || !neg)
        return NAN;
    struct ranked *r = malloc(n * sizeof *r);
    if (!r)
        return NAN;
    for (size_t i = 0; i < n; i++)
        r[i] = (struct ranked){x[i], (uint8_t)(y[i] != 0)};
    qsort(r, n, sizeof *r, ranked_cmp);
    /* sum of the positives' ranks, ties at their mean rank */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        size_t p = 0;
        while (j < n && r[j].x == r[i].x)
            p += r[j++].y;
        double mean_rank = ((double)i + 1 + (double)j) / 2;
        rank_sum += mean_rank * (double)p;
        i = j;
    }
    free(r);
    double u = rank_sum - (double)pos * ((double)pos + 1) / 2;
    return u / ((double)pos * (double)neg);
}

double metrics_weighted_spread(const double *mean, const double *n, size_t k)
{
    double w = 0, m = 0;
    for (size_t i = 0; i < k; i++) {
        w += n[i];
        m += n[i] * mean[i];
    }
    if (w <= 0)
        return NAN;
    m /= w;
    double v = 0;
    for (size_t i = 0; i < k; i++)
        v += n[i] * (mean[i] - m) * (mean[i] - m);
    return sqrt(v / w);
}
