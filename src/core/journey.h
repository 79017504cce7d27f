/* journey.h - journey analytics over touchpoint events as pure functions
 * on plain arrays: episodes, stage funnel, touchpoint flows, common paths,
 * drop-offs and friction. No I/O, no clock, no store.
 *
 * The engine sorts each customer's events (journey_sort), splits them into
 * episodes (journey_episodes) and feeds the accumulators one episode at a
 * time, so all episodes are never held at once. Codes (touchpoint, stage,
 * channel) are small dense integers from the engine's dictionaries; the
 * accumulators index arrays by them, so per-event work is O(1) and the
 * *_add functions do not allocate except to grow the funnel's time lists
 * and the path table. An empty episode (n = 0), or one with a code out of
 * an accumulator's range, is refused whole (CXM_EINVAL) and nothing of it
 * is counted. Constructors return NULL on out of memory or out-of-range
 * sizes; the *_free functions take NULL. */
#ifndef CXM_JOURNEY_H
#define CXM_JOURNEY_H

#include "common.h"

/* One interaction or feedback answer. sat is normalised satisfaction in
 * [0, 1] (metrics_normalise) or NaN when the event carries none; stage is
 * JOURNEY_NO_STAGE when it carries none; purchase is 0 or 1. */
struct jevent {
    uint32_t ts;
    uint16_t touchpoint, stage, channel;
    float sat;
    uint8_t purchase;
};

#define JOURNEY_NO_STAGE UINT16_MAX
/* DESIGN section 6: 30 days without an event ends an episode. */
#define JOURNEY_DEFAULT_GAP (30u * 86400u)

/* Sorts by ts, stable: events at the same second keep their input order
 * (the order the engine read them, which is the best order known).
 * CXM_OK or CXM_ENOMEM (long inputs use a merge sort with a buffer; ev is
 * unchanged on failure). */
int journey_sort(struct jevent *ev, size_t n);

/* Splits ev (sorted by ts) into episodes: a new episode starts at event i
 * when ev[i].ts - ev[i-1].ts > gap. An event exactly gap seconds after the
 * previous one stays in the same episode (as report.c's journey
 * satisfaction). Writes the start index of each episode to starts (room
 * for n) and returns their number; episode e is ev[starts[e]] to
 * ev[starts[e+1]-1] (the last ends at n). 0 when n = 0. */
size_t journey_episodes(const struct jevent *ev, size_t n, uint32_t gap, uint32_t *starts);

/* Mean of an episode's non-NaN sat values: the journey-level satisfaction
 * (docs/metrics.md). false (and *mean untouched) when there is none. */
bool journey_sat(const struct jevent *ep, size_t n, double *mean);

/* ---- stage funnel -------------------------------------------------------- */

/* Stages in order: stage_order[k] is the stage code at position k. An
 * episode reaches position k when it has an event at that stage; stages
 * are as observed (a skipped stage is not reached), with reached_or_beyond
 * for the monotone view. It converts from k to k+1 when an event at k+1
 * comes after (in sequence order) its first event at k; the time is from
 * that first k event to the first k+1 event after it. Stage codes not in
 * the order are ignored. */
struct funnel;
/* NULL on out of memory, or when nstages is 0, over JOURNEY_MAX_STAGES, or
 * names a code twice or JOURNEY_NO_STAGE. */
#define JOURNEY_MAX_STAGES 64
struct funnel *funnel_new(const uint16_t *stage_order, size_t nstages);
void funnel_free(struct funnel *f);
/* CXM_OK, CXM_EINVAL (n = 0), or CXM_ENOMEM (the episode is then counted
 * except for the time that could not be kept). */
int funnel_add(struct funnel *f, const struct jevent *ep, size_t n);
/* funnel_add in two steps, so an episode's part can be kept and added
 * later (the engine keeps it per episode): bit k of reached and converted
 * is position k of the order; time[k] is set for each converted bit.
 * funnel_add_ep counts the episode (CXM_OK, or CXM_ENOMEM as funnel_add). */
struct funnel_ep {
    uint64_t reached, converted;
    uint32_t time[JOURNEY_MAX_STAGES];
};
void funnel_summarise(const struct funnel *f, const struct jevent *ep, size_t n,
                      struct funnel_ep *out);
int funnel_add_ep(struct funnel *f, const struct funnel_ep *s);
/* The same in bulk: n episodes with these positions reached and
 * converted, their conversion times added apart (funnel_add_times: n
 * times at position k). CXM_OK; funnel_add_times CXM_EINVAL (k out of the
 * order) or CXM_ENOMEM. */
int funnel_add_counts(struct funnel *f, uint64_t reached, uint64_t converted, uint64_t n);
int funnel_add_times(struct funnel *f, size_t k, const uint32_t *time, size_t n);

struct funnel_stage {
    uint16_t stage;             /* code */
    uint64_t reached;           /* episodes with an event at this stage */
    uint64_t reached_or_beyond; /* ... at this stage or a later one */
    /* To the next stage (zero for the last): episodes that converted,
     * converted / reached as a percentage (has_rate false when reached is
     * 0), and the median and 90th percentile of the times in seconds
     * (has_times false when none converted). */
    uint64_t converted;
    double rate;
    double median, p90;
    bool has_rate, has_times;
};
uint64_t funnel_episodes(const struct funnel *f);
/* Fills out[0..nstages-1]. Sorts the time lists in place (the funnel can
 * still be added to). */
void funnel_result(struct funnel *f, struct funnel_stage *out);

/* Quantile q in [0, 1] of x[0..n-1] sorted ascending, interpolated
 * linearly between order statistics (position q (n - 1), the common
 * "type 7" definition): the median of {10, 20, 30, 40} is 25, its p90 37.
 * NaN when n = 0. */
double journey_quantile(const uint32_t *x, size_t n, double q);

/* ---- flows --------------------------------------------------------------- */

/* Transitions between consecutive events of an episode. A self-transition
 * (A then A) is counted in self[] and not as a link, unless self_links is
 * set, when it is an ordinary link too. A one-event episode has no
 * transition. */
struct flows;
/* ntouchpoints in 1..JOURNEY_MAX_FLOW_TP (the link matrix is dense). */
#define JOURNEY_MAX_FLOW_TP 1024
struct flows *flows_new(size_t ntouchpoints, bool self_links);
void flows_free(struct flows *f);
/* CXM_OK / CXM_EINVAL (n = 0, a touchpoint >= ntouchpoints) */
int flows_add(struct flows *f, const struct jevent *ep, size_t n);
/* The same from the episode's touchpoint codes alone. */
int flows_add_tp(struct flows *f, const uint16_t *tp, size_t n);

/* Per touchpoint: events at it (volume), links out of it (out), and
 * self-transitions (self). */
uint64_t flows_volume(const struct flows *f, uint16_t tp);
uint64_t flows_out(const struct flows *f, uint16_t tp);
uint64_t flows_self(const struct flows *f, uint16_t tp);
uint64_t flows_link(const struct flows *f, uint16_t from, uint16_t to);

struct flow_link {
    uint16_t from, to;
    uint64_t count;
    double share;   /* percent of from's outgoing links */
};
/* The k largest links (count descending, then from, to ascending) into
 * out (room for k), *nout of them; the links left out are summed into
 * *other_count over *other_links distinct links. CXM_OK / CXM_ENOMEM. */
int flows_top(const struct flows *f, size_t k, struct flow_link *out, size_t *nout,
              uint64_t *other_count, uint64_t *other_links);

/* ---- paths --------------------------------------------------------------- */

/* An episode's path is its touchpoint sequence with consecutive repeats
 * collapsed (A A B A -> A B A). Longer than max_len, it keeps its first
 * max_len touchpoints and is marked truncated; a truncated path is a
 * different path from the untruncated one of the same prefix. */
#define JOURNEY_MAX_PATH 32
struct paths;
/* max_len in 1..JOURNEY_MAX_PATH. */
struct paths *paths_new(size_t max_len);
void paths_free(struct paths *p);
/* CXM_OK, CXM_ENOMEM (nothing counted) or CXM_EINVAL (n = 0). */
int paths_add(struct paths *p, const struct jevent *ep, size_t n);
/* The same with the episode's churn: 1 churned, 0 stayed, -1 unknown (the
 * caller's definition, e.g. no event in the 90 days after). */
int paths_add_churn(struct paths *p, const struct jevent *ep, size_t n, int churned);
/* The same from the episode's touchpoint codes, whether it has a purchase
 * and its journey satisfaction (NULL: none). */
int paths_add_tp(struct paths *p, const uint16_t *tp, size_t n, bool purchase,
                 const double *sat, int churned);
size_t paths_count(const struct paths *p);   /* distinct paths */

struct path_row {
    uint16_t tp[JOURNEY_MAX_PATH];
    uint8_t len;
    bool truncated;
    uint64_t episodes;
    uint64_t purchases;   /* episodes with a purchase event */
    double conversion;    /* 100 purchases / episodes */
    uint64_t sat_n;       /* episodes with a journey satisfaction */
    double sat_mean;      /* mean of those (0 when sat_n is 0) */
    uint64_t churn_n;     /* episodes whose churn is known (paths_add_churn) */
    double churn;         /* 100 churned / churn_n (0 when churn_n is 0) */
};
/* The k most common paths (episodes descending, then the sequence
 * lexicographically, a truncated one after its untruncated twin) into out;
 * *nout of them. CXM_OK / CXM_ENOMEM. */
int paths_top(const struct paths *p, size_t k, struct path_row *out, size_t *nout);

/* ---- drop-offs ----------------------------------------------------------- */

/* An episode is abandoned when it has no event at the goal stage, or, with
 * goal JOURNEY_GOAL_PURCHASE, no purchase event. Abandoned episodes are
 * counted by the touchpoint and channel of their last event. */
#define JOURNEY_GOAL_PURCHASE JOURNEY_NO_STAGE
struct dropoffs;
/* ntouchpoints, nchannels >= 1, product at most JOURNEY_MAX_CELLS. */
#define JOURNEY_MAX_CELLS (1u << 24)
struct dropoffs *dropoffs_new(size_t ntouchpoints, size_t nchannels, uint16_t goal);
void dropoffs_free(struct dropoffs *d);
/* CXM_OK / CXM_EINVAL (n = 0, the last event's codes out of range: only
 * the last event's touchpoint and channel are used) */
int dropoffs_add(struct dropoffs *d, const struct jevent *ep, size_t n);
/* The same from the last event's touchpoint and channel and whether the
 * episode reached the goal. */
int dropoffs_add_last(struct dropoffs *d, uint16_t tp, uint16_t channel, bool reached);
uint16_t dropoffs_goal(const struct dropoffs *d);
uint64_t dropoffs_episodes(const struct dropoffs *d);
uint64_t dropoffs_abandoned(const struct dropoffs *d);
uint64_t dropoffs_by_tp(const struct dropoffs *d, uint16_t tp);
uint64_t dropoffs_by_channel(const struct dropoffs *d, uint16_t ch);

struct dropoff_row {
    uint16_t tp, channel;
    uint64_t count;
    double share;   /* percent of all abandoned episodes */
};
/* The k largest (touchpoint, channel) cells (count descending, then tp,
 * channel ascending). CXM_OK / CXM_ENOMEM. */
int dropoffs_top(const struct dropoffs *d, size_t k, struct dropoff_row *out, size_t *nout);

/* ---- friction ------------------------------------------------------------ */

/* Per touchpoint, the rate of an outcome the caller decides per episode
 * (a detractor answer, churn after it) among episodes that include the
 * touchpoint against those that do not. */
struct friction;
struct friction *friction_new(size_t ntouchpoints);
void friction_free(struct friction *f);
/* CXM_OK / CXM_EINVAL (n = 0, a touchpoint >= ntouchpoints) */
int friction_add(struct friction *f, const struct jevent *ep, size_t n, bool outcome);
/* The same from the episode's touchpoint codes. */
int friction_add_tp(struct friction *f, const uint16_t *tp, size_t n, bool outcome);
/* friction_add_tp on nf accumulators at once, one pass over the episode:
 * f[o] counts it, with outcome[o], when counted[o]. CXM_EINVAL (n = 0, a
 * touchpoint out of a counted accumulator's range) counts nothing. */
int friction_add_tp_each(struct friction *const *f, size_t nf, const uint16_t *tp, size_t n,
                         const bool *outcome, const bool *counted);
/* Adds counts made elsewhere: episodes of which outcomes had the outcome,
 * and per touchpoint t < ntp the episodes with it (n_with) and of them
 * with the outcome (k_with). CXM_EINVAL (ntp over the accumulator's, or
 * counts that cannot be: k over n, n over episodes) adds nothing. */
int friction_add_counts(struct friction *f, const uint64_t *n_with, const uint64_t *k_with,
                        size_t ntp, uint64_t episodes, uint64_t outcomes);

/* Rates in percent; lift = rate_with - rate_without in points, and its 95%
 * interval by the normal approximation for two independent proportions:
 * lift -+ 1.96 * 100 * sqrt(p1 (1 - p1) / n1 + p0 (1 - p0) / n0).
 * has_value false when either side has no episodes (all fields 0 except
 * the counts); the interval has width 0 when both sides are unanimous. */
struct friction_row {
    uint64_t n_with, k_with, n_without, k_without;
    double rate_with, rate_without, lift, lo, hi;
    bool has_value;
};
struct friction_row friction_result(const struct friction *f, uint16_t tp);

/* ---- designed vs actual ---------------------------------------------------- */

/* Conformance to a designed journey: stages in order, each with the
 * touchpoints expected at it. An episode's events with a stage are
 * compared with the design, in time order:
 * - an event at a stage the design does not have is an undeclared stage;
 * - a touchpoint not expected at its stage (when the stage lists any) is
 *   an unexpected touchpoint (an event without a touchpoint never is);
 * - a move to an earlier designed stage than the previous event's is a
 *   backward move (from, to);
 * - a move forward by more than one stage skips the stages between (an
 *   episode may start and end at any stage: only gaps inside it count).
 * An episode with an event at a designed stage conforms when it has none
 * of these. An episode with no event at any stage is not compared.
 * Events without a stage are ignored. */
struct conformance;
/* stages[k] the design's stage codes (distinct, at most
 * JOURNEY_MAX_STAGES, none JOURNEY_NO_STAGE); expected[k] a list of
 * nexpected[k] touchpoint codes < ntouchpoints (0 entries: any). NULL on
 * bad arguments or out of memory. */
struct conformance *conformance_new(const uint16_t *stages, size_t nstages,
                                    const uint16_t *const *expected, const size_t *nexpected,
                                    size_t ntouchpoints, size_t nstage_codes);
void conformance_free(struct conformance *c);
int conformance_add(struct conformance *c, const struct jevent *ep, size_t n);
struct conformance_totals {
    uint64_t episodes, compared, conforming;
    uint64_t with_skip, with_backward, with_unexpected, with_undeclared;  /* episodes */
};
void conformance_totals(const struct conformance *c, struct conformance_totals *t);
/* Counts of events or moves: skips of design stage k, backward moves
 * from design stage a to b, unexpected touchpoint tp at design stage k,
 * events at undeclared stage code s. */
uint64_t conformance_skipped(const struct conformance *c, size_t k);
uint64_t conformance_backward(const struct conformance *c, size_t a, size_t b);
uint64_t conformance_unexpected(const struct conformance *c, size_t k, uint16_t tp);
uint64_t conformance_undeclared(const struct conformance *c, uint16_t stage);

#endif
