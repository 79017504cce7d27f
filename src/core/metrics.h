/* metrics.h - the metric definitions of DESIGN section 6 as pure
 * arithmetic: accumulators, values with 95% margins, period-over-period
 * significance, age bands and calendar buckets (UTC). No I/O, no clock. */
#ifndef CXM_METRICS_H
#define CXM_METRICS_H

#include "common.h"

/* Accumulators start zeroed ({0}); pointers to them must not be NULL.
 * Out-of-range scores are ignored: they are not counted in n. */

/* NPS (and eNPS): 0-10; promoters 9-10, passives 7-8, detractors 0-6. */
struct nps_acc {
    uint64_t n, promoters, passives, detractors;
};
void nps_add(struct nps_acc *a, int score);            /* ignores scores outside 0-10 */
void nps_add_n(struct nps_acc *a, int score, uint64_t n);   /* n answers of score */
void nps_merge(struct nps_acc *into, const struct nps_acc *a);

/* CSAT: 1-5, satisfied = 4 and 5 (top-two-box). */
struct csat_acc {
    uint64_t n, top2;
    double sum, sumsq;
};
void csat_add(struct csat_acc *a, int score);          /* ignores outside 1-5 */
void csat_add_n(struct csat_acc *a, int score, uint64_t n);

/* CES: 1-7; low effort = 1-3 on the default scale (lower is less effort).
 * A survey on the reversed scale is mapped (8 - score) by the caller. */
struct ces_acc {
    uint64_t n, low;
    double sum, sumsq;
};
void ces_add(struct ces_acc *a, int score);            /* ignores outside 1-7 */
void ces_add_n(struct ces_acc *a, int score, uint64_t n);

/* Sentiment: compound scores in [-1, 1]; positive >= 0.05, negative
 * <= -0.05, neutral between (DESIGN section 6). */
struct sent_acc {
    uint64_t n, pos, neg;
    double sum, sumsq;
};
void sent_add(struct sent_acc *a, double compound);   /* ignores NaN, outside [-1, 1] */

/* A metric value: has_value false (and value/margin 0) when n = 0, so no
 * NaN ever reaches an answer. margin is the half-width of the 95%
 * interval; has_margin false where it is not defined: n < 2 for means.
 * For NPS and percentages it is defined from n = 1, and is 0 when every
 * answer is the same (the normal approximation has no spread to use). */
struct metric_value {
    double value, margin;
    uint64_t n;
    bool has_value, has_margin;
};

/* NPS = 100 (P - D) / N in [-100, 100];
 * margin = 1.96 * 100 * sqrt((p + d - (p - d)^2) / N), p = P/N, d = D/N. */
struct metric_value nps_value(const struct nps_acc *a);
/* CSAT% = 100 * top2 / N; margin = 1.96 * 100 * sqrt(q (1 - q) / N), q = top2/N. */
struct metric_value csat_pct(const struct csat_acc *a);
/* Mean score; margin = 1.96 * s / sqrt(N) with the sample standard deviation s
 * (n - 1) from sum and sumsq: identical answers give margin 0, and a
 * variance that rounding leaves below 0 is taken as 0. */
struct metric_value csat_mean(const struct csat_acc *a);
struct metric_value ces_mean(const struct ces_acc *a);
/* A proportion as a percentage: 100 k / n with the 95% margin. */
struct metric_value metrics_prop(uint64_t k, uint64_t n);
/* Mean compound score, margin as for means. */
struct metric_value sent_mean(const struct sent_acc *a);
/* % positive (or negative) = 100 * k / N, margin as for a proportion. */
struct metric_value sent_pct(const struct sent_acc *a, bool negative);
/* % low effort = 100 * low / N, margin as for a proportion. Counts with
 * top2 or low > n (a corrupt accumulator) give has_value false. */
struct metric_value ces_low_pct(const struct ces_acc *a);

/* Change from a previous period to this one (change = cur - prev) and
 * whether it is significant at 95%:
 * |change| > 1.96 * sqrt(var_prev / n_prev + var_cur / n_cur)
 * (in the metric's units), with var the per-response variance that the
 * margin above uses (NPS: 100^2 (p + d - (p - d)^2); proportions: 100^2
 * q (1 - q); means: s^2). has_value false when either side has n = 0
 * (and for pct_change when k > n, for mean_change when a sum is not
 * finite); significant false when either side has n < 2. When both sides
 * are unanimous the variances are 0 and any non-zero change counts as
 * significant: the known weakness of this (Wald) test at 0% and 100%. */
struct metric_change {
    double change;
    bool has_value, significant;
};
struct metric_change nps_change(const struct nps_acc *prev, const struct nps_acc *cur);
struct metric_change csat_pct_change(const struct csat_acc *prev, const struct csat_acc *cur);
struct metric_change mean_change(double sum_prev, double sumsq_prev, uint64_t n_prev,
                                 double sum_cur, double sumsq_cur, uint64_t n_cur);
struct metric_change pct_change(uint64_t k_prev, uint64_t n_prev, uint64_t k_cur,
                                uint64_t n_cur);

/* Satisfaction on a common 0-1 scale (journey satisfaction, omnichannel
 * consistency): 0-10 scores / 10; 1-5 scores (score - 1) / 4; effort 1-7
 * (lower is better) (7 - score) / 6. NAN outside the scale. */
enum score_scale { SCALE_0_10, SCALE_1_5, SCALE_EFFORT_1_7 };
double metrics_normalise(enum score_scale s, double score);

/* Area under the ROC curve of x as a predictor of y (1 = positive), by
 * ranks (Mann-Whitney U, ties counted half). NAN when y has no positives
 * or no negatives, or on out of memory. */
double metrics_auc(const double *x, const uint8_t *y, size_t n);

/* Volume-weighted spread of group means: sqrt(sum n_i (m_i - M)^2 / sum n_i)
 * with M the volume-weighted mean; NAN when sum n_i = 0. */
double metrics_weighted_spread(const double *mean, const double *n, size_t k);

/* Age band of someone born in birth_year, in the year of ts (UTC):
 * "18-24", "25-34", "35-44", "45-54", "55-64", "65+", or NULL when under 18
 * (birth_year after ts included) or birth_year is 0 (unknown). The age is
 * the year difference: birthdays are not known, so all of a year's births
 * change band on 1 January. The string is static. */
const char *metrics_age_band(int birth_year, int64_t ts);
/* The same as an index: 0 none (unknown, under 18), 1 "18-24" ... 6 "65+". */
int metrics_age_band_index(int birth_year, int64_t ts);

/* Calendar buckets in UTC (proleptic Gregorian, before 1970 too). ts must
 * stay a week inside TIMEFMT_MAX_DAYS days of 1970 (some two billion
 * years; any time timefmt_parse accepts is far inside) and b must be an
 * enum bucket value; both asserted (a release build takes an unknown b
 * as a day). */
enum bucket { BUCKET_DAY, BUCKET_WEEK, BUCKET_MONTH, BUCKET_QUARTER, BUCKET_YEAR };
/* Start (unix seconds) of the bucket holding ts; weeks are ISO weeks
 * starting on Monday. */
int64_t bucket_start(int64_t ts, enum bucket b);
/* Start of the bucket after the one that starts at start. start need not be
 * a bucket start: the result follows the bucket holding start. Month,
 * quarter and year steps follow month lengths and leap years. */
int64_t bucket_next(int64_t start, enum bucket b);
/* Label of the bucket holding ts: "2026-11-22", "2026-W47" (ISO week-year,
 * which differs from the calendar year around New Year: 2024-12-30 is
 * "2025-W01"; two-digit week), "2026-11", "2026-Q4", "2026". Years have at
 * least four digits. buf has at least 16 bytes; a label that would not fit
 * (a day of a year ten characters wide) is written as "". */
void bucket_label(int64_t ts, enum bucket b, char buf[16]);
/* "day", "week", "month", "quarter", "year" (exact, lower case) to enum
 * bucket; -1 when unknown or s is NULL. */
int bucket_parse(const char *s);

#endif
