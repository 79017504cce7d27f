/* report.c - metrics reports. One pass over the feedback columns under the
 * read lock: each row is filtered, keyed by its dimension values (codes)
 * and added to its group's accumulator; the groups are then sorted and
 * turned into rows with values, margins and, for time series, the change
 * from the previous period. Customer dimensions come from the profile the
 * row belongs to (its root), with the latest value any of its sources
 * gave, as profiles show them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/filter.h"
#include "core/metrics.h"
#include "core/themes.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "engine/engine_impl.h"
#include "engine/segments.h"
#include "cxm_limits.h"

#define ENPS_MIN_GROUP 5          /* eNPS groups smaller than this are hidden */

/* Feedback metrics count answers; from M_RETENTION on, metrics count
 * customers by their orders and interactions. */
enum metric {
    M_NPS, M_ENPS, M_CSAT, M_CES, M_RESPONSES, M_SENTIMENT, M_PAIN, M_CUSTOMERS,
    M_CONSISTENCY,
    M_RETENTION, M_CHURN, M_REPEAT, M_CLV, M_LOYALTY, M_COHORT, M_JOURNEY,
    M_P_ALIVE, M_CLV_PRED, M_COUNT
};
static const char *const metric_names[M_COUNT] = {
    "nps", "enps", "csat", "ces", "responses", "sentiment", "pain", "customers",
    "consistency",
    "retention", "churn", "repeat_purchase_rate", "clv_historic",
    "revenue_by_loyalty", "cohort", "journey_satisfaction", "p_alive", "clv_predicted"};

/* Dimensions, which are also the text fields of the filter language. */
enum dim {
    D_CHANNEL, D_TOUCHPOINT, D_STAGE, D_SURVEY, D_AGENT, D_TEAM, D_COUNTRY,
    D_CITY, D_GENDER, D_AGE_BAND, D_NPS_CATEGORY, D_KIND,
    D_DAY, D_WEEK, D_MONTH, D_QUARTER, D_YEAR,
    D_CSAT_MEAN,   /* a profile's mean CSAT over the matching answers, rounded */
    D_THEME,       /* a comment's themes: a row counts in each of its themes */
    D_P_ALIVE_BAND, D_CLV_BAND,   /* the profile's predictions (clv.c), banded */
    D_SEGMENT,     /* the profile's segments: a row counts in each of them */
    D_COUNT
};
/* Number fields of the filter language, numbered after the dimensions. */
enum { F_SCORE = D_COUNT, F_AGE, F_BIRTH_YEAR, F_SENTIMENT, F_P_ALIVE, F_CLV_PRED };
/* Set fields of the filter: segment('id') or segment contains 'id'. */

/* The filter's fields: the text dimensions (ids 0..D_KIND are the same
 * in both numberings), then the numbers; filter_ids maps a filter field
 * id to the id field_of takes. */
#define NFILTER (D_KIND + 1 + 7)
static const int filter_ids[NFILTER] = {
    D_CHANNEL, D_TOUCHPOINT, D_STAGE, D_SURVEY, D_AGENT, D_TEAM, D_COUNTRY,
    D_CITY, D_GENDER, D_AGE_BAND, D_NPS_CATEGORY, D_KIND,
    F_SCORE, F_AGE, F_BIRTH_YEAR, F_SENTIMENT, F_P_ALIVE, F_CLV_PRED, D_SEGMENT};

static const char *const dim_names[D_COUNT] = {
    "channel", "touchpoint", "stage", "survey", "agent", "team", "country",
    "city", "gender", "age_band", "nps_category", "kind",
    "day", "week", "month", "quarter", "year", "csat_mean", "theme", "p_alive_band",
    "clv_band", "segment"};

static const struct filter_field filter_fields[NFILTER] = {
    {"channel", FT_TEXT}, {"touchpoint", FT_TEXT}, {"stage", FT_TEXT},
    {"survey", FT_TEXT}, {"agent", FT_TEXT}, {"team", FT_TEXT},
    {"country", FT_TEXT}, {"city", FT_TEXT}, {"gender", FT_TEXT},
    {"age_band", FT_TEXT}, {"nps_category", FT_TEXT}, {"kind", FT_TEXT},
    {"score", FT_NUMBER}, {"age", FT_NUMBER}, {"birth_year", FT_NUMBER},
    {"sentiment", FT_NUMBER}, {"p_alive", FT_NUMBER}, {"clv_predicted", FT_NUMBER},
    {"segment", FT_SET}};

static const char *const bands[] = {NULL, "18-24", "25-34", "35-44", "45-54",
                                    "55-64", "65+"};
static const char *const categories[] = {NULL, "promoter", "passive", "detractor"};
static const char *const means[] = {NULL, "1", "2", "3", "4", "5"};
static const char *const alive_bands[] = {NULL, "0-0.25", "0.25-0.5", "0.5-0.75", "0.75-1"};
static const char *const clv_bands[] = {NULL, "0-50", "50-200", "200-1000", "1000+"};

#define MAX_DIMS 4
#define MAX_ROWS 100000      /* rows in one answer, gaps filled included */

/* What the report needs of each profile, indexed by customer node: the
 * values of its root's profile. */
struct prof {
    uint32_t root;            /* the profile's id */
    uint16_t country, city, gender;
    uint8_t nps_cat;          /* latest NPS answer's category, 0: none */
    uint8_t csat_mean;        /* D_CSAT_MEAN, 0: none (computed on demand) */
    int16_t birth_year;
};

/* What customer metrics add up per group. */
struct cust_acc {
    uint64_t customers;       /* retention: active in the period; else in the group */
    uint64_t kept;            /* retention: active in the next period too */
    uint64_t buyers, repeat, orders;
    double revenue, revsq;    /* per-customer revenue sums, for the mean's margin */
    uint64_t early, late;     /* revenue_by_loyalty: active before / in the last 90 days */
};

struct group {
    int64_t key[MAX_DIMS];
    union acc {
        struct nps_acc nps;
        struct csat_acc csat;
        struct ces_acc ces;
        struct sent_acc sent;
        struct pain_acc pain;
        uint64_t count;
        struct cust_acc c;
    } acc;
};

struct run {
    const struct model *m;
    struct engine *e;         /* NULL: no cache (fast path) */
    enum metric metric;
    int ndims;
    enum dim dims[MAX_DIMS];
    int time_dim;             /* index in dims, -1 when none */
    enum bucket bucket;
    struct prof *prof;        /* [1..ncust] */
    uint16_t *agent_team;     /* agent code -> team code */
    char **teams;             /* team code - 1 -> name */
    size_t nteams, teamcap;
    /* the row being filtered, and the theme it is counted for (-1: none) */
    size_t row;
    int theme;
    /* groups */
    struct strmap *map;
    struct arena keys;
    struct group *g;
    size_t ng, gcap;
    /* the rows to visit: all, or (one) one profile's rows[0..nrows), or
     * (text_only) the rows with a comment */
    bool one, text_only;
    uint32_t *rows;
    size_t nrows;
    /* M_CUSTOMERS: (group, profile) pairs already counted; when every
     * dimension describes the profile (it is in one group only), a bit
     * per profile instead */
    uint64_t *seen;
    size_t seencap, nseen;
    bool profile_dims;
    uint64_t *counted;
    /* customer metrics: the profile being filtered, and "now" for ages and
     * the last period */
    uint32_t cur;
    int64_t ref_ts;
    const struct tz *tz;      /* zone of calendar buckets; NULL: UTC */
    int64_t fixed;            /* its offset when it has one offset (dense path) */
    bool has_fixed;
    /* prof covers customer ids [prof_base, prof_base + prof_len): every
     * customer, or only the span of one profile's nodes */
    uint32_t prof_base;
    size_t prof_len;
    /* lifetime value predictions by profile root, when the report uses
     * them (NULL otherwise) */
    float *palive, *pclv;
    /* segments in use (segment dimension and filter), under the read lock */
    const struct segset *segs;
    /* the rollup cell being filtered, and whether a rollup answered */
    const struct rollup_cell *cell;
    bool from_rollup;
};

static uint32_t alive_band(float p)
{
    return isnan(p) ? 0 : p < 0.25f ? 1 : p < 0.5f ? 2 : p < 0.75f ? 3 : 4;
}

static uint32_t clv_band(float v)
{
    return isnan(v) ? 0 : v < 50 ? 1 : v < 200 ? 2 : v < 1000 ? 3 : 4;
}

/* The report zone's offset at an instant, and the instant of a wall time. */
static int64_t off_at(const struct run *r, int64_t utc)
{
    return r->has_fixed ? r->fixed : tz_offset(r->tz, utc);
}

static int64_t to_utc(const struct run *r, int64_t local)
{
    return r->has_fixed ? local - r->fixed : tz_local_to_utc(r->tz, local);
}

static inline struct prof *prof_at(const struct run *r, uint32_t c)
{
    return &r->prof[c - r->prof_base];
}

/* Calendar buckets in the report's time zone (a fixed UTC offset). */
static int64_t rb_start(const struct run *r, int64_t ts, enum bucket b)
{
    return to_utc(r, bucket_start(ts + off_at(r, ts), b));
}

static int64_t rb_next(const struct run *r, int64_t start, enum bucket b)
{
    return to_utc(r, bucket_next(start + off_at(r, start), b));
}

static void rb_label(const struct run *r, int64_t start, enum bucket b, char buf[16])
{
    bucket_label(start + off_at(r, start), b, buf);
}

static int parse_metric(const char *s, enum metric *out, struct cxm_err *err)
{
    for (int i = 0; s && i < M_COUNT; i++)
        if (strcmp(s, metric_names[i]) == 0) {
            *out = (enum metric)i;
            return CXM_OK;
        }
    return cxm_err_field(err, CXM_EINVAL, -1, "metric", "unknown metric '%.40s':"
                         " use nps, enps, csat, ces, responses, sentiment, pain, customers,"
                         " consistency, retention, churn, repeat_purchase_rate,"
                         " clv_historic, revenue_by_loyalty, cohort,"
                         " journey_satisfaction, p_alive or clv_predicted",
                         s ? s : "");
}

static int parse_dims(struct run *r, const char *by, struct cxm_err *err)
{
    r->ndims = 0;
    r->time_dim = -1;
    if (!by)
        return CXM_OK;
    const char *p = by;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ')
            end++;
        size_t n = (size_t)(end - p);
        int d = -1;
        for (int i = 0; i < D_COUNT; i++)
            if (strlen(dim_names[i]) == n && strncmp(p, dim_names[i], n) == 0)
                d = i;
        if (d < 0)
            return cxm_err_field(err, CXM_EINVAL, -1, "by", "unknown dimension"
                                 " '%.*s': use channel, touchpoint, stage, survey,"
                                 " agent, team, country, city, gender, age_band,"
                                 " nps_category, kind, csat_mean, day, week,"
                                 " month, quarter or year", (int)(n > 40 ? 40 : n), p);
        for (int i = 0; i < r->ndims; i++)
            if (r->dims[i] == (enum dim)d)
                return cxm_err_field(err, CXM_EINVAL, -1, "by", "dimension '%s'"
                                     " named twice", dim_names[d]);
        if (d >= D_DAY && d <= D_YEAR) {
            if (r->time_dim >= 0)
                return cxm_err_field(err, CXM_EINVAL, -1, "by", "one time"
                                     " dimension at most (day, week, month,"
                                     " quarter or year)");
            r->time_dim = r->ndims;
            r->bucket = (enum bucket)(d - D_DAY);
        }
        if (r->ndims == MAX_DIMS)
            return cxm_err_field(err, CXM_EINVAL, -1, "by", "at most %d"
                                 " dimensions", MAX_DIMS);
        r->dims[r->ndims++] = (enum dim)d;
        p = end;
    }
    return CXM_OK;
}

/* ---- what each profile looks like ------------------------------------ */

/* Fills prof[] for the given nodes (all customers when nodes is NULL): the
 * latest value of each attribute over the nodes of a profile, and the
 * category of its latest NPS answer. */
static int build_profiles(struct run *r, const uint32_t *nodes, size_t nnodes,
                          bool want_nps, bool compact)
{
    const struct model *m = r->m;
    size_t count = nodes ? nnodes : m->ncust;
    r->prof_base = 0;
    r->prof_len = m->ncust + 1;
    if (nodes && compact) {   /* one profile: only the span of its ids */
        uint32_t lo = UINT32_MAX, hi = 0;
        for (size_t k = 0; k < nnodes; k++) {
            lo = nodes[k] < lo ? nodes[k] : lo;
            hi = nodes[k] > hi ? nodes[k] : hi;
        }
        r->prof_base = lo;
        r->prof_len = (size_t)(hi - lo) + 1;
    }
    size_t n = r->prof_len;
    r->prof = cxm_calloc(n, sizeof *r->prof);
    int64_t *seqs = cxm_calloc(n * 4, sizeof *seqs);   /* per root and field */
    if (!r->prof || !seqs) {
        free(seqs);
        return CXM_ENOMEM;
    }
    for (size_t k = 0; k < count; k++) {
        uint32_t c = nodes ? nodes[k] : (uint32_t)(k + 1);
        prof_at(r, c)->root = model_root(m, c);
    }
    for (size_t k = 0; k < count; k++) {
        uint32_t c = nodes ? nodes[k] : (uint32_t)(k + 1);
        const struct attrs *a = &m->cust[c].a;
        uint32_t rt = prof_at(r, c)->root;
        struct prof *p = prof_at(r, rt);
        int64_t *sq = &seqs[(size_t)(rt - r->prof_base) * 4];
        if (a->country && a->updated_seq > sq[0]) { p->country = a->country; sq[0] = a->updated_seq; }
        if (a->city && a->updated_seq > sq[1]) { p->city = a->city; sq[1] = a->updated_seq; }
        if (a->gender && a->updated_seq > sq[2]) { p->gender = a->gender; sq[2] = a->updated_seq; }
        if (a->birth_year && a->updated_seq > sq[3]) {
            p->birth_year = (int16_t)a->birth_year;
            sq[3] = a->updated_seq;
        }
    }
    free(seqs);
    /* latest NPS answer per profile: only when nps_category is asked for,
     * since it reads every NPS row at random places */
    if (want_nps) {
        int64_t *last = cxm_calloc(n * 2, sizeof *last);   /* (ts, seq) per root */
        if (!last)
            return CXM_ENOMEM;
        const struct fcols *f = &m->fc;
        for (size_t x = 1; x <= (nodes ? r->nrows : f->n); x++) {
            size_t i = nodes ? r->rows[x - 1] : x;
            if (f->kind[i] != FB_NPS)
                continue;
            uint32_t rt = prof_at(r, f->cust[i])->root;
            int64_t *sq = &last[(size_t)(rt - r->prof_base) * 2];
            if ((int64_t)f->ts[i] > sq[0] || ((int64_t)f->ts[i] == sq[0] && f->seq[i] > sq[1])) {
                sq[0] = f->ts[i];
                sq[1] = f->seq[i];
                double sc = f->score[i];
                prof_at(r, rt)->nps_cat = sc >= 9 ? 1 : sc >= 7 ? 2 : 3;
            }
        }
        free(last);
    }
    /* every node answers with its root's profile */
    for (size_t k = 0; k < count; k++) {
        uint32_t c = nodes ? nodes[k] : (uint32_t)(k + 1);
        if (prof_at(r, c)->root != c) {
            uint32_t rt = prof_at(r, c)->root;
            *prof_at(r, c) = *prof_at(r, rt);
            prof_at(r, c)->root = rt;
        }
    }
    return CXM_OK;
}

static int build_teams(struct run *r)
{
    const struct model *m = r->m;
    uint32_t na = dict_count(m->dict[DICT_AGENT]);
    r->agent_team = cxm_calloc((size_t)na + 1, sizeof *r->agent_team);
    if (!r->agent_team)
        return CXM_ENOMEM;
    for (uint32_t a = 1; a <= na; a++) {
        const char *id = dict_str(m->dict[DICT_AGENT], a);
        uint32_t e;
        if (!strmap_get(m->emp_map, id, strlen(id), &e) || !m->emp[e].team)
            continue;
        const char *team = m->emp[e].team;
        size_t t = 0;
        while (t < r->nteams && strcmp(r->teams[t], team) != 0)
            t++;
        if (t == r->nteams) {
            if (cxm_grow((void **)&r->teams, &r->teamcap, r->nteams + 1,
                         sizeof *r->teams))
                return CXM_ENOMEM;
            r->teams[r->nteams++] = (char *)team;   /* borrowed from the model */
        }
        r->agent_team[a] = (uint16_t)(t + 1);
    }
    return CXM_OK;
}

/* ---- row fields ------------------------------------------------------- */

static int band_of(int birth_year, int64_t ts)
{
    return metrics_age_band_index(birth_year, ts);   /* indexes match bands[] */
}

/* Is field or dimension d one of the row's profile (built by
 * build_profiles) rather than of the row itself? */
static bool profile_field(int d)
{
    switch (d) {
    case D_COUNTRY: case D_CITY: case D_GENDER: case D_AGE_BAND: case D_NPS_CATEGORY:
    case D_CSAT_MEAN: case D_P_ALIVE_BAND: case D_CLV_BAND: case F_AGE: case F_BIRTH_YEAR:
    case F_P_ALIVE: case F_CLV_PRED:
        return true;
    default:
        return false;
    }
}

/* Value of dimension or filter field d for feedback row i: a code (0:
 * none), a bucket start for time dimensions, or a number. Profile fields
 * read prof[], which exists when the report uses one. */
static double field_of(const struct run *r, int d, size_t i)
{
    const struct model *m = r->m;
    const struct fcols *f = &m->fc;
    uint32_t v = 0;
    switch (d) {
    case D_CHANNEL: v = f->channel[i]; break;
    case D_TOUCHPOINT: v = f->touchpoint[i]; break;
    case D_STAGE: v = f->stage[i]; break;
    case D_SURVEY: v = f->survey[i]; break;
    case D_AGENT: v = f->agent[i]; break;
    case D_TEAM: v = f->agent[i] ? r->agent_team[f->agent[i]] : 0; break;
    case D_KIND: v = f->kind[i]; break;
    case F_SCORE: return f->score[i];
    case F_SENTIMENT: return f->tx[i] ? m->tc.sent[f->tx[i]] : NAN;
    default:
        if (d >= D_DAY && d <= D_YEAR)
            return (double)rb_start(r, (int64_t)f->ts[i], (enum bucket)(d - D_DAY));
        if (!profile_field(d))
            return NAN;
        const struct prof *p = prof_at(r, f->cust[i]);
        switch (d) {
        case D_COUNTRY: v = p->country; break;
        case D_CITY: v = p->city; break;
        case D_GENDER: v = p->gender; break;
        case D_AGE_BAND: v = (uint32_t)band_of(p->birth_year, f->ts[i]); break;
        case D_NPS_CATEGORY: v = p->nps_cat; break;
        case D_CSAT_MEAN: v = p->csat_mean; break;
        case F_AGE: {
            if (!p->birth_year)
                return NAN;
            int y;
            unsigned mo, dd;
            timefmt_civil_from_days((int64_t)f->ts[i] / 86400, &y, &mo, &dd);
            return (double)(y - p->birth_year);
        }
        case F_BIRTH_YEAR: return p->birth_year ? (double)p->birth_year : NAN;
        case D_P_ALIVE_BAND: v = alive_band(r->palive[p->root]); break;
        case D_CLV_BAND: v = clv_band(r->pclv[p->root]); break;
        case F_P_ALIVE: return r->palive[p->root];
        case F_CLV_PRED: return r->pclv[p->root];
        default: return NAN;
        }
    }
    return v ? (double)v : NAN;
}

static double get_field(void *ctx, int field)
{
    const struct run *r = ctx;
    return field_of(r, filter_ids[field], r->row);
}

static double bind_text(void *ctx, int field, const char *text)
{
    const struct run *r = ctx;
    const struct model *m = r->m;
    uint32_t c = 0;
    switch (filter_ids[field]) {
    case D_CHANNEL: c = dict_find(m->dict[DICT_CHANNEL], text); break;
    case D_TOUCHPOINT: c = dict_find(m->dict[DICT_TOUCHPOINT], text); break;
    case D_STAGE: c = dict_find(m->dict[DICT_STAGE], text); break;
    case D_SURVEY: c = dict_find(m->dict[DICT_SURVEY], text); break;
    case D_AGENT: c = dict_find(m->dict[DICT_AGENT], text); break;
    case D_TEAM:
        for (size_t t = 0; t < r->nteams; t++)
            if (strcmp(r->teams[t], text) == 0)
                c = (uint32_t)t + 1;
        break;
    case D_COUNTRY: c = dict_find(m->cdict[CD_COUNTRY], text); break;
    case D_CITY: c = dict_find(m->cdict[CD_CITY], text); break;
    case D_GENDER: c = dict_find(m->cdict[CD_GENDER], text); break;
    case D_AGE_BAND:
        for (uint32_t b = 1; b <= 6; b++)
            if (strcmp(bands[b], text) == 0)
                c = b;
        break;
    case D_NPS_CATEGORY:
        for (uint32_t b = 1; b <= 3; b++)
            if (strcmp(categories[b], text) == 0)
                c = b;
        break;
    case D_KIND: c = (uint32_t)event_fkind_parse(text); break;
    case D_SEGMENT:
        for (size_t k = 0; r->segs && k < r->segs->n && k < 64; k++)
            if (strcmp(r->segs->s[k].id, text) == 0)
                c = (uint32_t)k + 1;
        break;
    default: break;
    }
    return c ? (double)c : NAN;
}

/* The segments (first 64) profile root is in: bit k for segment k. */
static uint64_t root_segments(const struct run *r, uint32_t root)
{
    uint64_t bits = 0;
    for (size_t k = 0; r->segs && k < r->segs->n && k < 64; k++)
        if (segment_has(&r->segs->s[k], root))
            bits |= 1ull << k;
    return bits;
}

static bool has_row_segment(void *ctx, int field, double code)
{
    const struct run *r = ctx;
    (void)field;
    uint32_t root = model_root(r->m, r->m->fc.cust[r->row]);
    return code >= 1 && code <= 64 && r->segs && (size_t)code <= r->segs->n &&
           segment_has(&r->segs->s[(size_t)code - 1], root);
}

static bool has_cust_segment(void *ctx, int field, double code)
{
    const struct run *r = ctx;
    (void)field;
    return code >= 1 && code <= 64 && r->segs && (size_t)code <= r->segs->n &&
           segment_has(&r->segs->s[(size_t)code - 1], r->cur);
}

/* Text of a value v of text dimension d; NULL for none. */
static const char *dim_text(const struct run *r, enum dim d, int64_t v)
{
    const struct model *m = r->m;
    const char *s = NULL;
    uint32_t c = (uint32_t)v;
    switch (d) {
    case D_CHANNEL: s = dict_str(m->dict[DICT_CHANNEL], c); break;
    case D_TOUCHPOINT: s = dict_str(m->dict[DICT_TOUCHPOINT], c); break;
    case D_STAGE: s = dict_str(m->dict[DICT_STAGE], c); break;
    case D_SURVEY: s = dict_str(m->dict[DICT_SURVEY], c); break;
    case D_AGENT: s = dict_str(m->dict[DICT_AGENT], c); break;
    case D_TEAM: s = c && c <= r->nteams ? r->teams[c - 1] : NULL; break;
    case D_COUNTRY: s = model_str(m, CD_COUNTRY, (uint16_t)c); break;
    case D_CITY: s = model_str(m, CD_CITY, (uint16_t)c); break;
    case D_GENDER: s = model_str(m, CD_GENDER, (uint16_t)c); break;
    case D_AGE_BAND: s = c <= 6 ? bands[c] : NULL; break;
    case D_NPS_CATEGORY: s = c <= 3 ? categories[c] : NULL; break;
    case D_KIND: s = c ? event_fkind_name((int)c) : NULL; break;
    case D_CSAT_MEAN: s = c <= 5 ? means[c] : NULL; break;
    case D_THEME: s = c && c <= m->nthemes ? m->theme_ids[c - 1] : NULL; break;
    case D_SEGMENT:
        s = c && r->segs && c <= r->segs->n ? r->segs->s[c - 1].id : NULL;
        break;
    case D_P_ALIVE_BAND: s = c <= 4 ? alive_bands[c] : NULL; break;
    case D_CLV_BAND: s = c <= 4 ? clv_bands[c] : NULL; break;
    default: break;
    }
    return s;
}

static json_t *dim_json(const struct run *r, enum dim d, int64_t v)
{
    if (d >= D_DAY && d <= D_YEAR) {
        char buf[16];
        rb_label(r, v, (enum bucket)(d - D_DAY), buf);
        return json_string(buf);
    }
    const char *s = dim_text(r, d, v);
    return s ? json_string(s) : json_null();
}

/* ---- groups ----------------------------------------------------------- */

static struct group *group_of(struct run *r, const int64_t key[MAX_DIMS], bool add)
{
    uint32_t idx;
    if (strmap_get(r->map, (const char *)key, sizeof(int64_t) * MAX_DIMS, &idx))
        return &r->g[idx];
    if (!add)
        return NULL;
    if (r->ng >= MAX_ROWS || cxm_grow((void **)&r->g, &r->gcap, r->ng + 1, sizeof *r->g))
        return NULL;
    int64_t *k = arena_alloc(&r->keys, sizeof(int64_t) * MAX_DIMS);
    if (!k)
        return NULL;
    memcpy(k, key, sizeof(int64_t) * MAX_DIMS);
    if (strmap_put(r->map, (const char *)k, sizeof(int64_t) * MAX_DIMS, (uint32_t)r->ng))
        return NULL;
    struct group *g = &r->g[r->ng++];
    memset(g, 0, sizeof *g);
    memcpy(g->key, key, sizeof g->key);
    return g;
}

/* The themes of feedback row i that the taxonomy in use knows. */
static uint32_t row_themes(const struct run *r, size_t i)
{
    size_t n = r->m->nthemes;
    uint32_t known = n >= 32 ? UINT32_MAX : (1u << n) - 1;
    uint32_t t = r->m->fc.tx[i];
    return t ? r->m->tc.themes[t] & known : 0;
}

/* Sentiment of feedback row i (which has scores): of the theme it is
 * counted for when a report is by theme (aspect sentiment), else of the
 * whole comment. */
static double row_sentiment(const struct run *r, size_t i)
{
    const struct tcols *tc = &r->m->tc;
    uint32_t t = r->m->fc.tx[i];
    if (r->theme >= 0)
        for (uint32_t k = 0; k < tc->nasp[t]; k++)
            if (tc->asp[tc->aoff[t] + k].theme == r->theme)
                return tc->asp[tc->aoff[t] + k].sentiment / 10000.0;
    return tc->sent[t];
}

static bool metric_takes(enum metric mt, int kind)
{
    switch (mt) {
    case M_NPS: return kind == FB_NPS;
    case M_ENPS: return kind == FB_ENPS;
    case M_CSAT: return kind == FB_CSAT;
    case M_CES: return kind == FB_CES;
    case M_CONSISTENCY: return kind != FB_TEXT;
    default: return true;
    }
}

/* A feedback score on the common 0-1 scale; NAN for text. */
static double normalised(int kind, double score)
{
    switch (kind) {
    case FB_NPS:
    case FB_ENPS:
    case FB_RATING: return metrics_normalise(SCALE_0_10, score);
    case FB_CSAT: return metrics_normalise(SCALE_1_5, score);
    case FB_CES: return metrics_normalise(SCALE_EFFORT_1_7, score);
    default: return NAN;
    }
}

/* Adds key to the set of counted (group, profile) pairs; false when it was
 * there already. Linear probing over 64-bit keys, load under one half. */
static int seen_add(struct run *r, uint64_t key, bool *added)
{
    if ((r->nseen + 1) * 2 > r->seencap) {
        size_t ncap = r->seencap ? r->seencap * 2 : 4096;
        uint64_t *ns = cxm_calloc(ncap, sizeof *ns);
        if (!ns)
            return CXM_ENOMEM;
        for (size_t i = 0; i < r->seencap; i++) {
            uint64_t k = r->seen[i];
            if (!k)
                continue;
            size_t j = (size_t)(k * 0x9E3779B97F4A7C15ull >> 20) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = k;
        }
        free(r->seen);
        r->seen = ns;
        r->seencap = ncap;
    }
    size_t j = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & (r->seencap - 1);
    while (r->seen[j] && r->seen[j] != key)
        j = (j + 1) & (r->seencap - 1);
    *added = !r->seen[j];
    if (*added) {
        r->seen[j] = key;
        r->nseen++;
    }
    return CXM_OK;
}

static int accumulate(struct run *r, struct group *g, size_t i)
{
    double s = r->m->fc.score[i];
    if (r->metric == M_CUSTOMERS) {
        uint32_t root = prof_at(r, r->m->fc.cust[i])->root;
        if (r->profile_dims) {
            size_t b = root - r->prof_base;
            if (!r->counted && !(r->counted = cxm_calloc(r->prof_len / 64 + 1, 8)))
                return CXM_ENOMEM;
            uint64_t bit = 1ull << (b & 63);
            g->acc.count += !(r->counted[b >> 6] & bit);
            r->counted[b >> 6] |= bit;
            return CXM_OK;
        }
        bool added = false;
        uint64_t key = (uint64_t)(g - r->g + 1) << 32 | root;
        int rc = seen_add(r, key, &added);
        g->acc.count += added;
        return rc;
    }
    switch (r->metric) {
    case M_NPS:
    case M_ENPS: nps_add(&g->acc.nps, (int)s); break;
    case M_CSAT: csat_add(&g->acc.csat, (int)s); break;
    case M_CES: ces_add(&g->acc.ces, (int)s); break;
    case M_SENTIMENT: sent_add(&g->acc.sent, row_sentiment(r, i)); break;
    case M_PAIN: pain_add(&g->acc.pain, row_sentiment(r, i)); break;
    default: g->acc.count++; break;
    }
    return CXM_OK;
}



static int cmp_dim(const struct run *r, int k, int64_t a, int64_t b)
{
    enum dim d = r->dims[k];
    if (d >= D_DAY || d == D_AGE_BAND || d == D_NPS_CATEGORY) {
        if ((a == 0) != (b == 0) && d != D_DAY && d != D_WEEK && d != D_MONTH &&
            d != D_QUARTER && d != D_YEAR)
            return a == 0 ? 1 : -1;  /* "none" last */
        return a < b ? -1 : a > b;   /* time, ordered bands, csat_mean */
    }
    const char *x = a ? dim_text(r, d, a) : NULL, *y = b ? dim_text(r, d, b) : NULL;
    if (!x || !y)                    /* "none" last */
        return x == y ? 0 : x ? -1 : 1;
    return strcmp(x, y);
}

static int cmp_group(const void *pa, const void *pb, void *ctx)
{
    const struct run *r = ctx;
    const struct group *a = pa, *b = pb;
    for (int k = 0; k < r->ndims; k++) {
        int c = cmp_dim(r, k, a->key[k], b->key[k]);
        if (c)
            return c;
    }
    return 0;
}

/* ---- answer ----------------------------------------------------------- */

static void set_value(json_t *row, const char *name, struct metric_value v,
                      bool margin)
{
    json_object_set_new(row, name, v.has_value ? json_real(v.value) : json_null());
    if (margin)
        json_object_set_new(row, "margin", v.has_value && v.has_margin
                                               ? json_real(v.margin) : json_null());
}

static void change_json(json_t *row, struct metric_change c)
{
    json_object_set_new(row, "change", c.has_value ? json_real(c.change) : json_null());
    json_object_set_new(row, "significant", json_boolean(c.has_value && c.significant));
}

static json_t *row_json(const struct run *r, const struct group *g,
                        const struct group *prev)
{
    json_t *row = json_object();
    for (int k = 0; k < r->ndims; k++)
        json_object_set_new(row, dim_names[r->dims[k]], dim_json(r, r->dims[k], g->key[k]));
    struct group empty;
    memset(&empty, 0, sizeof empty);
    if (!prev)
        prev = &empty;
    switch (r->metric) {
    case M_NPS:
    case M_ENPS: {
        const struct nps_acc *a = &g->acc.nps;
        if (r->metric == M_ENPS && a->n < ENPS_MIN_GROUP) {
            /* too few answers to stay anonymous: only that it is hidden */
            json_object_set_new(row, "value", json_null());
            json_object_set_new(row, "n", json_null());
            json_object_set_new(row, "note", json_string("not enough responses"));
            break;
        }
        set_value(row, "value", nps_value(a), true);
        json_object_set_new(row, "n", json_integer((json_int_t)a->n));
        json_object_set_new(row, "promoters", json_integer((json_int_t)a->promoters));
        json_object_set_new(row, "passives", json_integer((json_int_t)a->passives));
        json_object_set_new(row, "detractors", json_integer((json_int_t)a->detractors));
        if (r->time_dim >= 0)
            change_json(row, nps_change(&prev->acc.nps, a));
        break;
    }
    case M_CSAT: {
        const struct csat_acc *a = &g->acc.csat;
        set_value(row, "value", csat_pct(a), true);
        json_object_set_new(row, "n", json_integer((json_int_t)a->n));
        json_object_set_new(row, "satisfied", json_integer((json_int_t)a->top2));
        struct metric_value mean = csat_mean(a);
        json_object_set_new(row, "mean", mean.has_value ? json_real(mean.value) : json_null());
        json_object_set_new(row, "mean_margin", mean.has_margin ? json_real(mean.margin) : json_null());
        if (r->time_dim >= 0)
            change_json(row, csat_pct_change(&prev->acc.csat, a));
        break;
    }
    case M_CES: {
        const struct ces_acc *a = &g->acc.ces;
        set_value(row, "value", ces_mean(a), true);
        json_object_set_new(row, "n", json_integer((json_int_t)a->n));
        json_object_set_new(row, "low_effort", json_integer((json_int_t)a->low));
        struct metric_value low = ces_low_pct(a);
        json_object_set_new(row, "low_effort_pct", low.has_value ? json_real(low.value) : json_null());
        if (r->time_dim >= 0)
            change_json(row, mean_change(prev->acc.ces.sum, prev->acc.ces.sumsq,
                                         prev->acc.ces.n, a->sum, a->sumsq, a->n));
        break;
    }
    case M_SENTIMENT: {
        const struct sent_acc *a = &g->acc.sent;
        set_value(row, "value", sent_mean(a), true);
        json_object_set_new(row, "n", json_integer((json_int_t)a->n));
        json_object_set_new(row, "positive", json_integer((json_int_t)a->pos));
        json_object_set_new(row, "neutral", json_integer((json_int_t)(a->n - a->pos - a->neg)));
        json_object_set_new(row, "negative", json_integer((json_int_t)a->neg));
        struct metric_value pp = sent_pct(a, false), np = sent_pct(a, true);
        json_object_set_new(row, "positive_pct", pp.has_value ? json_real(pp.value) : json_null());
        json_object_set_new(row, "negative_pct", np.has_value ? json_real(np.value) : json_null());
        if (r->time_dim >= 0)
            change_json(row, mean_change(prev->acc.sent.sum, prev->acc.sent.sumsq,
                                         prev->acc.sent.n, a->sum, a->sumsq, a->n));
        break;
    }
    case M_PAIN: {
        const struct pain_acc *a = &g->acc.pain;
        json_object_set_new(row, "value", a->mentions ? json_real(pain_score(a)) : json_null());
        json_object_set_new(row, "n", json_integer((json_int_t)a->mentions));
        json_object_set_new(row, "negative", json_integer((json_int_t)a->negative));
        struct metric_value np = metrics_prop(a->negative, a->mentions);
        set_value(row, "negative_pct", np, false);
        json_object_set_new(row, "negative_pct_margin", np.has_margin ? json_real(np.margin)
                                                                      : json_null());
        json_object_set_new(row, "sentiment", a->mentions ?
                            json_real(a->sent_sum / (double)a->mentions) : json_null());
        if (r->time_dim >= 0)
            change_json(row, pct_change(prev->acc.pain.negative, prev->acc.pain.mentions,
                                        a->negative, a->mentions));
        break;
    }
    case M_RETENTION:
    case M_CHURN: {
        const struct cust_acc *c = &g->acc.c;
        /* the last period's next one is not over yet: unknown */
        bool open = r->time_dim >= 0 && g->key[r->time_dim] >= rb_start(r, r->ref_ts, r->bucket);
        uint64_t k = r->metric == M_RETENTION ? c->kept : c->customers - c->kept;
        struct metric_value v = {0};
        if (c->customers && !open) {
            double q = (double)k / (double)c->customers;
            v = (struct metric_value){.value = 100 * q, .n = c->customers, .has_value = true,
                                      .has_margin = true,
                                      .margin = 196 * sqrt(q * (1 - q) / (double)c->customers)};
        }
        set_value(row, "value", v, true);
        json_object_set_new(row, "n", json_integer((json_int_t)c->customers));
        json_object_set_new(row, "active", json_integer((json_int_t)c->customers));
        json_object_set_new(row, "retained", open ? json_null() : json_integer((json_int_t)c->kept));
        json_object_set_new(row, "churned", open ? json_null()
                                                 : json_integer((json_int_t)(c->customers - c->kept)));
        if (r->time_dim >= 0) {
            const struct cust_acc *pc = &prev->acc.c;   /* never the open one */
            struct metric_change ch = {0};
            if (!open && pc->customers)
                ch = pct_change(r->metric == M_RETENTION ? pc->kept : pc->customers - pc->kept,
                                pc->customers, k, c->customers);
            change_json(row, ch);
        }
        break;
    }
    case M_REPEAT: {
        const struct cust_acc *c = &g->acc.c;
        struct metric_value v = {0};
        if (c->buyers) {
            double q = (double)c->repeat / (double)c->buyers;
            v = (struct metric_value){.value = 100 * q, .n = c->buyers, .has_value = true,
                                      .has_margin = true,
                                      .margin = 196 * sqrt(q * (1 - q) / (double)c->buyers)};
        }
        set_value(row, "value", v, true);
        json_object_set_new(row, "n", json_integer((json_int_t)c->buyers));
        json_object_set_new(row, "buyers", json_integer((json_int_t)c->buyers));
        json_object_set_new(row, "repeat_buyers", json_integer((json_int_t)c->repeat));
        if (r->time_dim >= 0)
            change_json(row, pct_change(prev->acc.c.repeat, prev->acc.c.buyers, c->repeat, c->buyers));
        break;
    }
    case M_CLV: {
        const struct cust_acc *c = &g->acc.c;
        struct csat_acc m = {.n = c->buyers, .sum = c->revenue, .sumsq = c->revsq};
        set_value(row, "value", csat_mean(&m), true);
        json_object_set_new(row, "n", json_integer((json_int_t)c->buyers));
        json_object_set_new(row, "revenue", json_real(c->revenue));
        json_object_set_new(row, "orders", json_integer((json_int_t)c->orders));
        if (r->time_dim >= 0)
            change_json(row, mean_change(prev->acc.c.revenue, prev->acc.c.revsq, prev->acc.c.buyers,
                                         c->revenue, c->revsq, c->buyers));
        break;
    }
    case M_P_ALIVE:
    case M_CLV_PRED: {
        const struct cust_acc *c = &g->acc.c;
        struct csat_acc m = {.n = c->customers, .sum = c->revenue, .sumsq = c->revsq};
        set_value(row, "value", csat_mean(&m), true);
        json_object_set_new(row, "n", json_integer((json_int_t)c->customers));
        if (r->metric == M_CLV_PRED)
            json_object_set_new(row, "total", json_real(c->revenue));
        json_object_set_new(row, "at_risk", json_integer((json_int_t)c->kept));
        struct metric_value ar = metrics_prop(c->kept, c->customers);
        json_object_set_new(row, "at_risk_pct", ar.has_value ? json_real(ar.value) : json_null());
        break;
    }
    case M_LOYALTY: {
        const struct cust_acc *c = &g->acc.c;
        double n = (double)c->customers;
        json_object_set_new(row, "value", c->customers ? json_real(c->revenue / n) : json_null());
        json_object_set_new(row, "n", json_integer((json_int_t)c->customers));
        json_object_set_new(row, "customers", json_integer((json_int_t)c->customers));
        json_object_set_new(row, "revenue", json_real(c->revenue));
        json_object_set_new(row, "revenue_per_customer", c->customers ? json_real(c->revenue / n) : json_null());
        json_object_set_new(row, "orders_per_customer", c->customers ? json_real((double)c->orders / n) : json_null());
        json_object_set_new(row, "retention", c->early ? json_real(100.0 * (double)c->late / (double)c->early)
                                                       : json_null());
        bool detractors = r->dims[0] == D_NPS_CATEGORY && g->key[0] == 3;
        json_object_set_new(row, "revenue_at_risk", detractors ? json_real(c->revenue) : json_null());
        break;
    }
    default:
        json_object_set_new(row, "value", json_integer((json_int_t)g->acc.count));
        json_object_set_new(row, "n", json_integer((json_int_t)g->acc.count));
        if (r->time_dim >= 0) {
            bool has = prev->acc.count > 0 || prev != &empty;
            json_object_set_new(row, "change", has ? json_integer((json_int_t)g->acc.count -
                                                                  (json_int_t)prev->acc.count)
                                                   : json_null());
        }
        break;
    }
    return row;
}

/* Time series get a row for every period between the first and the last
 * one seen, for every combination of the other dimensions: a period
 * without answers shows n = 0 and value null instead of vanishing. */
static int fill_gaps(struct run *r)
{
    if (r->time_dim < 0 || !r->ng)
        return CXM_OK;
    int t = r->time_dim;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < r->ng; i++) {
        lo = r->g[i].key[t] < lo ? r->g[i].key[t] : lo;
        hi = r->g[i].key[t] > hi ? r->g[i].key[t] : hi;
    }
    size_t n = r->ng;
    for (size_t i = 0; i < n; i++) {
        int64_t key[MAX_DIMS];
        memcpy(key, r->g[i].key, sizeof key);
        for (int64_t b = lo; b <= hi; b = rb_next(r, b, r->bucket)) {
            key[t] = b;
            if (!group_of(r, key, true))
                return CXM_ETOOBIG;
        }
    }
    return CXM_OK;
}

/* The next feedback row to look at (0 at the end): the profile's rows when
 * one is asked for, else every row, skipping whole blocks whose times all
 * lie outside [from, to). *x is the cursor, 0 to start. */
static size_t scan_next(const struct run *r, const struct report_query *q, size_t *x)
{
    const struct fcols *fc = &r->m->fc;
    if (r->one)   /* rows may be NULL: a profile without answers */
        return *x < r->nrows ? r->rows[(*x)++] : 0;
    if (r->text_only) {
        while (*x < fc->ntext) {
            size_t i = fc->text_rows[(*x)++];
            if ((int64_t)fc->ts[i] >= q->from && (int64_t)fc->ts[i] < q->to)
                return i;
        }
        return 0;
    }
    size_t i = *x + 1;
    while (i <= fc->n) {
        size_t b = i >> FBLOCK_SHIFT;
        if ((i == 1 || (i & ((1u << FBLOCK_SHIFT) - 1)) == 0) &&
            ((int64_t)fc->bmax[b] < q->from || (int64_t)fc->bmin[b] >= q->to)) {
            i = (b + 1) << FBLOCK_SHIFT;   /* the whole block is outside */
            continue;
        }
        *x = i;
        return i;
    }
    *x = fc->n;
    return 0;
}

/* Does feedback row i count: in the period, of the metric's kind, through
 * the filter? */
static bool row_counts(struct run *r, const struct report_query *q,
                       const struct filter *f, size_t i, bool any_kind)
{
    const struct fcols *fc = &r->m->fc;
    int64_t ts = fc->ts[i];
    if (ts < q->from || ts >= q->to || (!any_kind && !metric_takes(r->metric, fc->kind[i])))
        return false;
    if ((r->metric == M_SENTIMENT || r->metric == M_PAIN) && !any_kind && !fc->tx[i])
        return false;
    r->row = i;
    return !f || filter_eval_sets(f, get_field, has_row_segment, r);
}

/* D_CSAT_MEAN: each profile's mean CSAT over the answers that count. */
static int csat_means(struct run *r, const struct report_query *q, const struct filter *f)
{
    const struct model *m = r->m;
    const struct fcols *fc = &m->fc;
    size_t n = r->prof_len;
    double *sum = cxm_calloc(n, sizeof *sum);
    uint32_t *cnt = cxm_calloc(n, sizeof *cnt);
    if (!sum || !cnt) {
        free(sum);
        free(cnt);
        return CXM_ENOMEM;
    }
    size_t x = 0, i;
    while ((i = scan_next(r, q, &x))) {
        if (fc->kind[i] != FB_CSAT || !row_counts(r, q, f, i, true))
            continue;
        uint32_t rt = prof_at(r, fc->cust[i])->root;
        sum[rt - r->prof_base] += fc->score[i];
        cnt[rt - r->prof_base]++;
    }
    (void)m;
    for (size_t y = 0; y < (r->one ? r->nrows : n - 1); y++) {
        uint32_t c = r->one ? fc->cust[r->rows[y]] : (uint32_t)y + 1;
        uint32_t rt = prof_at(r, c)->root;
        if (rt && cnt[rt - r->prof_base])
            prof_at(r, c)->csat_mean = (uint8_t)round(sum[rt - r->prof_base] /
                                                      cnt[rt - r->prof_base]);
    }
    free(sum);
    free(cnt);
    return CXM_OK;
}

/* The rows of one profile: every node's feedback chain. */
static int customer_rows(struct run *r, uint32_t id, uint32_t **nodes, size_t *nn)
{
    const struct model *m = r->m;
    r->one = true;
    size_t ncap = 0;
    *nodes = NULL;
    if (model_profile_nodes(m, model_root(m, id), nodes, nn, &ncap))
        return CXM_ENOMEM;
    size_t cap = 0;
    for (size_t k = 0; k < *nn; k++)
        for (uint32_t i = m->cust[(*nodes)[k]].fhead; i; i = m->fc.next[i]) {
            if (cxm_grow((void **)&r->rows, &cap, r->nrows + 1, sizeof *r->rows))
                return CXM_ENOMEM;
            r->rows[r->nrows++] = i;
        }
    return CXM_OK;
}

/* ---- customer metrics ------------------------------------------------- */

static bool is_customer_metric(enum metric m)
{
    return m >= M_RETENTION;
}

static bool customer_dim(int d)
{
    return d == D_COUNTRY || d == D_CITY || d == D_GENDER || d == D_AGE_BAND ||
           d == D_NPS_CATEGORY || d == D_P_ALIVE_BAND || d == D_CLV_BAND ||
           (d >= D_DAY && d <= D_YEAR);
}

/* Customer metrics take customer dimensions and filter fields only;
 * retention and churn are per period (month unless one is given) and
 * revenue_by_loyalty is by nps_category. */
static int check_customer_query(struct run *r, const struct filter *f, struct cxm_err *err)
{
    const char *mn = metric_names[r->metric];
    for (int k = 0; k < r->ndims; k++)
        if (!customer_dim(r->dims[k]) || (r->metric == M_COHORT))
            return cxm_err_field(err, CXM_EINVAL, -1, "by", r->metric == M_COHORT
                                 ? "%s takes no dimensions: its rows are cohorts by"
                                   " months since the first order%s"
                                 : "%s counts customers: '%s' describes answers; use"
                                   " country, city, gender, age_band, nps_category,"
                                   " p_alive_band, clv_band or a period", mn,
                                 r->metric == M_COHORT ? "" : dim_names[r->dims[k]]);
    if ((r->metric == M_P_ALIVE || r->metric == M_CLV_PRED) && r->time_dim >= 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "by", "%s is as of the latest data:"
                             " it takes no period dimension", mn);
    if ((r->metric == M_RETENTION || r->metric == M_CHURN) && r->time_dim < 0) {
        if (r->ndims == MAX_DIMS)
            return cxm_err_field(err, CXM_EINVAL, -1, "by", "at most %d dimensions"
                                 " with the period", MAX_DIMS - 1);
        r->time_dim = r->ndims;
        r->bucket = BUCKET_MONTH;
        r->dims[r->ndims++] = D_MONTH;
    }
    if (r->metric == M_LOYALTY && (r->ndims == 0 || r->dims[0] != D_NPS_CATEGORY)) {
        for (int k = 0; k < r->ndims; k++)
            if (r->dims[k] == D_NPS_CATEGORY)
                return cxm_err_field(err, CXM_EINVAL, -1, "by", "nps_category comes"
                                     " first for revenue_by_loyalty");
        if (r->ndims == MAX_DIMS)
            return cxm_err_field(err, CXM_EINVAL, -1, "by", "at most %d dimensions"
                                 " besides nps_category", MAX_DIMS - 1);
        memmove(&r->dims[1], &r->dims[0], (size_t)r->ndims * sizeof r->dims[0]);
        r->dims[0] = D_NPS_CATEGORY;
        r->ndims++;
        if (r->time_dim >= 0)
            r->time_dim++;
    }
    uint64_t used = f ? filter_fields_used(f) : 0;
    for (int i = 0; i < NFILTER; i++)
        if ((used >> i & 1) && !customer_dim(filter_ids[i]) && filter_ids[i] != D_SEGMENT &&
            filter_ids[i] != F_AGE && filter_ids[i] != F_BIRTH_YEAR &&
            filter_ids[i] != F_P_ALIVE && filter_ids[i] != F_CLV_PRED)
            return cxm_err_field(err, CXM_EINVAL, -1, "where", "where: %s counts"
                                 " customers: '%s' describes answers; filter on"
                                 " country, city, gender, age_band, nps_category,"
                                 " age, birth_year, p_alive or clv_predicted", mn,
                                 filter_fields[i].name);
    return CXM_OK;
}

/* Value of a customer field or dimension for profile root (time
 * dimensions are not asked here). */
static double prof_field(const struct run *r, int d, uint32_t root)
{
    const struct prof *p = &r->prof[root];
    uint32_t v = 0;
    switch (d) {
    case D_COUNTRY: v = p->country; break;
    case D_CITY: v = p->city; break;
    case D_GENDER: v = p->gender; break;
    case D_AGE_BAND: v = (uint32_t)band_of(p->birth_year, r->ref_ts); break;
    case D_NPS_CATEGORY: v = p->nps_cat; break;
    case F_AGE: {
        if (!p->birth_year)
            return NAN;
        int y;
        unsigned mo, dd;
        timefmt_civil_from_days(r->ref_ts / 86400, &y, &mo, &dd);
        return (double)(y - p->birth_year);
    }
    case F_BIRTH_YEAR: return p->birth_year ? (double)p->birth_year : NAN;
    case D_P_ALIVE_BAND: v = alive_band(r->palive[root]); break;
    case D_CLV_BAND: v = clv_band(r->pclv[root]); break;
    case F_P_ALIVE: return r->palive[root];
    case F_CLV_PRED: return r->pclv[root];
    default: return NAN;
    }
    return v ? (double)v : NAN;
}

static double get_cust_field(void *ctx, int field)
{
    const struct run *r = ctx;
    return prof_field(r, filter_ids[field], r->cur);
}

/* An order or interaction of a profile. */
struct act {
    uint32_t root;
    bool order;
    int64_t t;
    double amount;
};

static int act_cmp(const void *a, const void *b)
{
    const struct act *x = a, *y = b;
    if (x->root != y->root)
        return x->root < y->root ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* Orders (and, with interactions, interactions) of every profile in
 * [from, to), sorted by profile and time. */
static int gather(struct run *r, int64_t from, int64_t to, bool interactions,
                  struct act **out, size_t *n)
{
    const struct model *m = r->m;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 1; i <= m->oc.n; i++) {
        int64_t t = m->oc.ts[i];
        uint32_t root = r->prof[m->oc.cust[i]].root;   /* 0: not in the report */
        if (t < from || t >= to || !root)
            continue;
        if (cxm_grow((void **)out, &cap, *n + 1, sizeof **out))
            return CXM_ENOMEM;
        (*out)[(*n)++] = (struct act){root, true, t, m->oc.amount[i]};
    }
    for (size_t i = 1; interactions && i <= m->ic.n; i++) {
        int64_t t = m->ic.ts[i];
        uint32_t root = r->prof[m->ic.cust[i]].root;
        if (t < from || t >= to || !root)
            continue;
        if (cxm_grow((void **)out, &cap, *n + 1, sizeof **out))
            return CXM_ENOMEM;
        (*out)[(*n)++] = (struct act){root, false, t, 0};
    }
    if (*n)
        qsort(*out, *n, sizeof **out, act_cmp);
    return CXM_OK;
}

/* The group of profile root (customer dimensions) in period t. */
static struct group *cust_group(struct run *r, uint32_t root, int64_t t)
{
    int64_t key[MAX_DIMS] = {0};
    for (int k = 0; k < r->ndims; k++) {
        if (k == r->time_dim) {
            key[k] = t;
            continue;
        }
        double v = prof_field(r, r->dims[k], root);
        key[k] = isnan(v) ? 0 : (int64_t)v;
    }
    return group_of(r, key, true);
}

static bool cust_passes(struct run *r, const struct filter *f, uint32_t root)
{
    r->cur = root;
    return !f || filter_eval_sets(f, get_cust_field, has_cust_segment, r);
}

#define DAY 86400

/* p_alive and clv_predicted: every profile with a prediction, as of the
 * latest data (the period does not apply). */
static int prediction_groups(struct run *r, const struct filter *f, struct cxm_err *err)
{
    for (uint32_t c = 1; c <= r->m->ncust; c++) {
        if (r->prof[c].root != c || isnan(r->palive[c]) || !cust_passes(r, f, c))
            continue;
        struct group *g = cust_group(r, c, 0);
        if (!g)
            return cxm_err_set(err, CXM_ETOOBIG, "more than %d groups: use fewer"
                               " dimensions", MAX_ROWS);
        double v = r->metric == M_P_ALIVE ? r->palive[c] : r->pclv[c];
        struct cust_acc *a = &g->acc.c;
        a->customers++;
        a->kept += r->palive[c] < 0.5f;    /* at risk */
        a->revenue += v;
        a->revsq += v * v;
    }
    return CXM_OK;
}

static int customer_groups(struct run *r, const struct report_query *q,
                           const struct filter *f, struct cxm_err *err)
{
    if (r->metric == M_P_ALIVE || r->metric == M_CLV_PRED)
        return prediction_groups(r, f, err);
    bool with_ic = r->metric != M_REPEAT && r->metric != M_CLV;
    struct act *a;
    size_t n;
    if (gather(r, q->from, q->to, with_ic, &a, &n))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    int rc = CXM_OK;
    bool timed = r->time_dim >= 0;
    if (r->metric == M_LOYALTY) {
        /* every profile with an NPS answer or activity, by its category */
        int64_t late = r->ref_ts - 90 * DAY, early = r->ref_ts - 180 * DAY;
        size_t i = 0;
        for (uint32_t c = 1; !rc && c <= r->m->ncust; c++) {
            if (r->prof[c].root != c)
                continue;
            uint64_t orders = 0;
            double revenue = 0;
            bool in_early = false, in_late = false, any = false;
            while (i < n && a[i].root < c)
                i++;
            for (; i < n && a[i].root == c; i++) {
                any = true;
                orders += a[i].order;
                revenue += a[i].order ? a[i].amount : 0;
                in_early |= a[i].t >= early && a[i].t < late;
                in_late |= a[i].t >= late;
            }
            if ((!any && !r->prof[c].nps_cat) || !cust_passes(r, f, c))
                continue;
            struct group *g = cust_group(r, c, 0);
            if (!g) {
                rc = CXM_ETOOBIG;
                break;
            }
            g->acc.c.customers++;
            g->acc.c.orders += orders;
            g->acc.c.revenue += revenue;
            g->acc.c.early += in_early;
            g->acc.c.late += in_early && in_late;
        }
    } else {
        for (size_t i = 0; !rc && i < n;) {
            uint32_t root = a[i].root;
            size_t end = i;
            while (end < n && a[end].root == root)
                end++;
            if (!cust_passes(r, f, root)) {
                i = end;
                continue;
            }
            /* walk the profile's periods (one period when not timed) */
            while (!rc && i < end) {
                int64_t b = timed ? rb_start(r, a[i].t, r->bucket) : 0;
                int64_t nb = timed ? rb_next(r, b, r->bucket) : INT64_MAX;
                uint64_t orders = 0;
                double revenue = 0;
                while (i < end && a[i].t < nb) {
                    orders += a[i].order;
                    revenue += a[i].order ? a[i].amount : 0;
                    i++;
                }
                struct group *g = cust_group(r, root, b);
                if (!g) {
                    rc = CXM_ETOOBIG;
                    break;
                }
                struct cust_acc *c = &g->acc.c;
                if (r->metric == M_RETENTION || r->metric == M_CHURN) {
                    c->customers++;
                    c->kept += i < end && a[i].t < rb_next(r, nb, r->bucket);
                } else if (orders) {
                    c->buyers++;
                    c->repeat += orders >= 2;
                    c->orders += orders;
                    c->revenue += revenue;
                    c->revsq += revenue * revenue;
                }
            }
        }
    }
    free(a);
    if (rc)
        return cxm_err_set(err, rc, "more than %d groups: use fewer dimensions", MAX_ROWS);
    return CXM_OK;
}

static int cell_cmp(const void *pa, const void *pb)
{
    const struct group *a = pa, *b = pb;
    if (a->key[0] != b->key[0])
        return a->key[0] < b->key[0] ? -1 : 1;
    return a->key[1] < b->key[1] ? -1 : a->key[1] > b->key[1];
}

/* cohort: customers by the month of their first order (in [from, to)) and
 * the months since it; value = % of the cohort with an order that month. */
static int cohort_rows(struct run *r, const struct report_query *q, const struct filter *f,
                       json_t *rows, struct cxm_err *err)
{
    struct act *a;
    size_t n;
    if (gather(r, 0, q->to, false, &a, &n))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    /* key: cohort month start, months since */
    r->ndims = 2;
    r->time_dim = -1;
    for (size_t i = 0; i < n;) {
        uint32_t root = a[i].root;
        size_t end = i;
        while (end < n && a[end].root == root)
            end++;
        int64_t cohort = rb_start(r, a[i].t, BUCKET_MONTH);
        if (a[i].t < q->from || !cust_passes(r, f, root)) {
            i = end;
            continue;
        }
        int64_t last = -1;
        for (; i < end; i++) {
            int64_t mb = rb_start(r, a[i].t, BUCKET_MONTH);
            if (mb == last)
                continue;
            last = mb;
            int y1, y2;
            unsigned m1, m2, d;
            timefmt_civil_from_days((cohort + off_at(r, cohort)) / DAY, &y1, &m1, &d);
            timefmt_civil_from_days((mb + off_at(r, mb)) / DAY, &y2, &m2, &d);
            int64_t key[MAX_DIMS] = {cohort, (y2 - y1) * 12 + (int)m2 - (int)m1};
            struct group *g = group_of(r, key, true);
            if (!g) {
                free(a);
                return cxm_err_set(err, CXM_ETOOBIG, "more than %d cohort cells", MAX_ROWS);
            }
            g->acc.c.customers++;
        }
    }
    free(a);
    /* rows in cohort, then month order; the size is month 0's count */
    struct group *g = r->g;
    if (r->ng)
        qsort(g, r->ng, sizeof *g, cell_cmp);
    uint64_t size = 0;
    for (size_t i = 0; i < r->ng; i++) {
        if (g[i].key[1] == 0)
            size = g[i].acc.c.customers;
        char label[16];
        rb_label(r, g[i].key[0], BUCKET_MONTH, label);
        double q2 = size ? (double)g[i].acc.c.customers / (double)size : 0;
        json_array_append_new(rows, json_pack("{s:s, s:I, s:f, s:I, s:I}", "cohort", label,
                                              "months_since", (json_int_t)g[i].key[1],
                                              "value", 100 * q2, "n", (json_int_t)size,
                                              "active", (json_int_t)g[i].acc.c.customers));
    }
    r->ndims = 0;
    return CXM_OK;
}

/* ---- consistency and journey satisfaction ----------------------------- */

static int64_t latest_ts(const struct model *m);

/* Groups in the order of their keys: an index array, since other arrays
 * refer to groups by index. */
static int cmp_group_index(const void *pa, const void *pb, void *ctx)
{
    const struct run *r = ctx;
    return cmp_group(&r->g[*(const size_t *)pa], &r->g[*(const size_t *)pb], ctx);
}

static size_t *sorted_groups(struct run *r)
{
    size_t *ix = cxm_malloc((r->ng ? r->ng : 1) * sizeof *ix);
    if (!ix)
        return NULL;
    for (size_t i = 0; i < r->ng; i++)
        ix[i] = i;
    if (r->ng)
        qsort_r(ix, r->ng, sizeof *ix, cmp_group_index, r);
    return ix;
}

static json_t *dims_row(const struct run *r, const struct group *g)
{
    json_t *row = json_object();
    for (int k = 0; k < r->ndims; k++)
        json_object_set_new(row, dim_names[r->dims[k]], dim_json(r, r->dims[k], g->key[k]));
    return row;
}

static json_t *jnum_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

struct cpoint {
    uint32_t g, root;
    uint16_t ch;
    double s;
};

static int cpoint_cmp(const void *pa, const void *pb)
{
    const struct cpoint *a = pa, *b = pb;
    if (a->g != b->g)
        return a->g < b->g ? -1 : 1;
    if (a->root != b->root)
        return a->root < b->root ? -1 : 1;
    return a->ch < b->ch ? -1 : a->ch > b->ch;
}

/* consistency: among the customers of a group who answered in two or
 * more channels, the volume-weighted spread of the channels' mean
 * normalised satisfaction (0-100 points; 0 = the same everywhere), and the
 * channel furthest below the mean. */
static int consistency_rows(struct run *r, const struct report_query *q,
                            const struct filter *f, json_t *rows, struct cxm_err *err)
{
    for (int k = 0; k < r->ndims; k++)
        if (r->dims[k] == D_CHANNEL)
            return cxm_err_field(err, CXM_EINVAL, -1, "by", "consistency compares"
                                 " channels: it cannot also be grouped by channel");
    const struct fcols *fc = &r->m->fc;
    struct cpoint *pt = NULL;
    size_t np = 0, cap = 0;
    int rc = CXM_OK;
    size_t x = 0, next;
    while (!rc && (next = scan_next(r, q, &x))) {
        size_t i = next;
        double s = normalised(fc->kind[i], fc->score[i]);
        if (isnan(s) || !fc->channel[i] || !row_counts(r, q, f, i, false))
            continue;
        int64_t key[MAX_DIMS] = {0};
        for (int k = 0; k < r->ndims; k++) {
            double v = field_of(r, r->dims[k], i);
            key[k] = isnan(v) ? 0 : (int64_t)v;
        }
        struct group *g = group_of(r, key, true);
        if (!g || cxm_grow((void **)&pt, &cap, np + 1, sizeof *pt))
            rc = g ? CXM_ENOMEM : CXM_ETOOBIG;
        else
            pt[np++] = (struct cpoint){(uint32_t)(g - r->g), prof_at(r, fc->cust[i])->root,
                                       fc->channel[i], s};
    }
    size_t nch = dict_count(r->m->dict[DICT_CHANNEL]) + 1;
    double *sum = cxm_calloc(nch, sizeof *sum), *cnt = cxm_calloc(nch, sizeof *cnt);
    double *mean = cxm_calloc(nch, sizeof *mean), *w = cxm_calloc(nch, sizeof *w);
    uint16_t *chan = cxm_calloc(nch, sizeof *chan);
    json_t **out = cxm_calloc(r->ng ? r->ng : 1, sizeof *out);
    if (!rc && (!sum || !cnt || !mean || !w || !chan || !out))
        rc = CXM_ENOMEM;
    if (!rc && np)
        qsort(pt, np, sizeof *pt, cpoint_cmp);
    for (size_t i = 0; !rc && i < np;) {
        uint32_t g = pt[i].g;
        uint64_t responses = 0, customers = 0;
        memset(sum, 0, nch * sizeof *sum);
        memset(cnt, 0, nch * sizeof *cnt);
        while (i < np && pt[i].g == g) {
            size_t j = i, channels = 0;
            while (j < np && pt[j].g == g && pt[j].root == pt[i].root) {
                channels += j == i || pt[j].ch != pt[j - 1].ch;
                j++;
            }
            if (channels >= 2) {   /* the same customer, several channels */
                customers++;
                for (size_t k = i; k < j; k++) {
                    sum[pt[k].ch] += pt[k].s;
                    cnt[pt[k].ch]++;
                    responses++;
                }
            }
            i = j;
        }
        size_t k = 0;
        for (size_t c = 1; c < nch; c++)
            if (cnt[c]) {
                mean[k] = sum[c] / cnt[c];
                w[k] = cnt[c];
                chan[k++] = (uint16_t)c;
            }
        json_t *row = dims_row(r, &r->g[g]);
        double spread = metrics_weighted_spread(mean, w, k);
        double all = 0, tw = 0;
        size_t low = 0;
        for (size_t c = 0; c < k; c++) {
            all += mean[c] * w[c];
            tw += w[c];
            if (mean[c] < mean[low])
                low = c;
        }
        json_object_set_new(row, "value", k >= 2 ? jnum_or_null(100 * spread) : json_null());
        json_object_set_new(row, "n", json_integer((json_int_t)responses));
        json_object_set_new(row, "customers", json_integer((json_int_t)customers));
        json_object_set_new(row, "channels", json_integer((json_int_t)k));
        json_object_set_new(row, "lowest_channel", k >= 2 ? dim_json(r, D_CHANNEL, chan[low])
                                                           : json_null());
        json_object_set_new(row, "lowest_gap", k >= 2 ? json_real(100 * (all / tw - mean[low]))
                                                       : json_null());
        out[g] = row;
    }
    size_t *ix = rc ? NULL : sorted_groups(r);
    if (!rc && !ix)
        rc = CXM_ENOMEM;
    for (size_t i = 0; !rc && i < r->ng; i++)
        if (out[ix[i]])
            json_array_append_new(rows, out[ix[i]]);
        else {   /* a group whose points all fell away: an empty row */
            json_t *row = dims_row(r, &r->g[ix[i]]);
            json_object_set_new(row, "value", json_null());
            json_object_set_new(row, "n", json_integer(0));
            json_array_append_new(rows, row);
        }
    if (rc)
        for (size_t i = 0; out && i < r->ng; i++)
            json_decref(out[i]);
    free(ix);
    free(out);
    free(pt);
    free(sum);
    free(cnt);
    free(mean);
    free(w);
    free(chan);
    if (rc)
        return cxm_err_set(err, rc, rc == CXM_ETOOBIG ? "more than %d groups" : "out of memory",
                           MAX_ROWS);
    return CXM_OK;
}

/* One event of a profile's history for journeys. */
struct jev {
    uint32_t root;
    uint8_t type;      /* 0 interaction, 1 scored feedback, 2 order */
    int64_t t;
    double s;
};

static int jev_cmp(const void *pa, const void *pb)
{
    const struct jev *a = pa, *b = pb;
    if (a->root != b->root)
        return a->root < b->root ? -1 : 1;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->type < b->type ? -1 : a->type > b->type;
}

/* A predictor value and whether the customer bought again after it. */
struct jobs {
    uint32_t g;
    uint8_t journey;   /* 1 journey-level, 0 touchpoint-level */
    uint8_t bought;
    double s;
};

static int jobs_cmp(const void *pa, const void *pb)
{
    const struct jobs *a = pa, *b = pb;
    if (a->g != b->g)
        return a->g < b->g ? -1 : 1;
    return a->journey < b->journey ? -1 : a->journey > b->journey;
}

struct jacc {
    uint64_t episodes, responses;
    double jsum, tsum;
};

/* Makes acc hold n zeroed-when-new entries. */
static int jacc_reserve(struct jacc **acc, size_t *cap, size_t *have, size_t n)
{
    if (n <= *have)
        return CXM_OK;
    if (cxm_grow((void **)acc, cap, n, sizeof **acc))
        return CXM_ENOMEM;
    memset(*acc + *have, 0, (n - *have) * sizeof **acc);
    *have = n;
    return CXM_OK;
}

#define JOURNEY_GAP (30 * 86400LL)      /* DESIGN section 6 */
#define REPURCHASE_WINDOW (90 * 86400LL)

/* journey_satisfaction: DESIGN section 6 episodes (a gap of 30 days splits
 * them); journey-level = the mean normalised score within an episode,
 * touchpoint-level = each answer's; and how well each predicts that the
 * customer orders within 90 days after it (AUC), where those 90 days are
 * in the data. */
static int journey_rows(struct run *r, const struct report_query *q, const struct filter *f,
                        json_t *rows, struct cxm_err *err)
{
    const struct model *m = r->m;
    struct jev *ev = NULL;
    size_t n = 0, cap = 0;
    int rc = CXM_OK;
#define PUSH(root_, type_, t_, s_) do { \
        if (!(root_)) break; \
        if (cxm_grow((void **)&ev, &cap, n + 1, sizeof *ev)) { rc = CXM_ENOMEM; break; } \
        ev[n++] = (struct jev){(root_), (type_), (t_), (s_)}; } while (0)
    for (size_t i = 1; !rc && i <= m->ic.n; i++)
        PUSH(r->prof[m->ic.cust[i]].root, 0, (int64_t)m->ic.ts[i], NAN);
    for (size_t i = 1; !rc && i <= m->fc.n; i++) {
        double s = normalised(m->fc.kind[i], m->fc.score[i]);
        PUSH(r->prof[m->fc.cust[i]].root, isnan(s) ? 0 : 1, (int64_t)m->fc.ts[i], s);
    }
    for (size_t i = 1; !rc && i <= m->oc.n; i++)
        PUSH(r->prof[m->oc.cust[i]].root, 2, (int64_t)m->oc.ts[i], NAN);
#undef PUSH
    if (!rc && n)
        qsort(ev, n, sizeof *ev, jev_cmp);
    int64_t latest = latest_ts(m);
    struct jobs *ob = NULL;
    struct jacc *acc = NULL;
    size_t nob = 0, obcap = 0, acccap = 0, accn = 0;
    /* the next order after each event of a profile: walk it backwards */
    int64_t *next_order = rc ? NULL : cxm_malloc((n ? n : 1) * sizeof *next_order);
    if (!rc && !next_order)
        rc = CXM_ENOMEM;
    for (size_t i = 0; !rc && i < n;) {
        size_t end = i;
        while (end < n && ev[end].root == ev[i].root)
            end++;
        if (!cust_passes(r, f, ev[i].root)) {
            i = end;
            continue;
        }
        int64_t nxt = INT64_MAX;
        for (size_t k = end; k-- > i;) {
            next_order[k] = nxt;
            if (ev[k].type == 2)
                nxt = ev[k].t;
        }
        /* episodes over interactions and feedback */
        size_t k = i;
        while (!rc && k < end) {
            while (k < end && ev[k].type == 2)
                k++;
            if (k == end)
                break;
            double jsum = 0;
            size_t js = 0, last = k;
            int64_t prev = ev[k].t;
            for (; k < end && (ev[k].type == 2 || ev[k].t - prev <= JOURNEY_GAP); k++) {
                if (ev[k].type == 2)
                    continue;
                prev = ev[k].t;
                last = k;
                if (ev[k].type != 1 || ev[k].t < q->from || ev[k].t >= q->to)
                    continue;
                jsum += ev[k].s;
                js++;
                /* touchpoint level */
                struct group *g = cust_group(r, ev[k].root, r->time_dim >= 0
                                             ? rb_start(r, ev[k].t, r->bucket) : 0);
                if (!g || (rc = jacc_reserve(&acc, &acccap, &accn, r->ng))) {
                    rc = g ? CXM_ENOMEM : CXM_ETOOBIG;
                    break;
                }
                size_t gi = (size_t)(g - r->g);
                acc[gi].responses++;
                acc[gi].tsum += ev[k].s;
                if (ev[k].t + REPURCHASE_WINDOW <= latest) {
                    if (cxm_grow((void **)&ob, &obcap, nob + 1, sizeof *ob)) {
                        rc = CXM_ENOMEM;
                        break;
                    }
                    ob[nob++] = (struct jobs){(uint32_t)gi, 0,
                                              next_order[k] <= ev[k].t + REPURCHASE_WINDOW, ev[k].s};
                }
            }
            if (rc || !js)
                continue;
            int64_t t_end = ev[last].t;
            struct group *g = cust_group(r, ev[last].root, r->time_dim >= 0
                                         ? rb_start(r, t_end, r->bucket) : 0);
            if (!g || (rc = jacc_reserve(&acc, &acccap, &accn, r->ng))) {
                rc = g ? CXM_ENOMEM : CXM_ETOOBIG;
                break;
            }
            size_t gi = (size_t)(g - r->g);
            acc[gi].episodes++;
            acc[gi].jsum += jsum / (double)js;
            if (t_end + REPURCHASE_WINDOW <= latest) {
                if (cxm_grow((void **)&ob, &obcap, nob + 1, sizeof *ob)) {
                    rc = CXM_ENOMEM;
                    break;
                }
                ob[nob++] = (struct jobs){(uint32_t)gi, 1,
                                          next_order[last] <= t_end + REPURCHASE_WINDOW,
                                          jsum / (double)js};
            }
        }
        i = end;
    }
    if (!rc && nob)
        qsort(ob, nob, sizeof *ob, jobs_cmp);
    size_t *ix = rc ? NULL : sorted_groups(r);
    if (!rc && !ix)
        rc = CXM_ENOMEM;
    double *xs = NULL;
    uint8_t *ys = NULL;
    if (!rc && nob && (!(xs = cxm_malloc(nob * sizeof *xs)) || !(ys = cxm_malloc(nob))))
        rc = CXM_ENOMEM;
    for (size_t gi_ = 0; !rc && gi_ < r->ng; gi_++) {
        size_t gi = ix[gi_];
        const struct jacc *a = &acc[gi];
        json_t *row = dims_row(r, &r->g[gi]);
        json_object_set_new(row, "value", a->episodes ? json_real(100 * a->jsum / (double)a->episodes)
                                                      : json_null());
        json_object_set_new(row, "n", json_integer((json_int_t)a->episodes));
        json_object_set_new(row, "touchpoint_satisfaction",
                            a->responses ? json_real(100 * a->tsum / (double)a->responses)
                                         : json_null());
        json_object_set_new(row, "responses", json_integer((json_int_t)a->responses));
        /* this group's observations are contiguous (sorted by group) */
        size_t lo = 0, hi = nob;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ob[mid].g < gi)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (int journey = 1; journey >= 0; journey--) {
            size_t k = 0;
            for (size_t o = lo; o < nob && ob[o].g == gi; o++)
                if (ob[o].journey == journey) {
                    xs[k] = ob[o].s;
                    ys[k++] = ob[o].bought;
                }
            json_object_set_new(row, journey ? "auc_journey" : "auc_touchpoint",
                                k ? jnum_or_null(metrics_auc(xs, ys, k)) : json_null());
            json_object_set_new(row, journey ? "auc_journey_n" : "auc_touchpoint_n",
                                json_integer((json_int_t)k));
        }
        json_array_append_new(rows, row);
    }
    free(xs);
    free(ys);
    free(ix);
    free(next_order);
    free(ev);
    free(ob);
    free(acc);
    if (rc)
        return cxm_err_set(err, rc, rc == CXM_ETOOBIG ? "more than %d groups" : "out of memory",
                           MAX_ROWS);
    return CXM_OK;
}

/* ---- dense aggregation --------------------------------------------------
 * When every dimension has few values, a row's group is an index computed
 * from its codes: no hashing per row. Time dimensions go through a table
 * from day to period. */

#define DENSE_MAX_CELLS (1u << 18)
#define DENSE_MAX_DAYS (366u * 60u)

struct dense {
    size_t card[MAX_DIMS], stride[MAX_DIMS], cells;
    int64_t day0;             /* first day (in the report's zone) of the table */
    size_t ndays;
    uint32_t *day_bucket;     /* day - day0 -> period index */
    int64_t *bstart;          /* period index -> period start */
    size_t nb;
    union acc *acc;           /* [cells] */
};

static size_t dim_card(const struct run *r, enum dim d)
{
    const struct model *m = r->m;
    switch (d) {
    case D_CHANNEL: return dict_count(m->dict[DICT_CHANNEL]) + 1;
    case D_TOUCHPOINT: return dict_count(m->dict[DICT_TOUCHPOINT]) + 1;
    case D_STAGE: return dict_count(m->dict[DICT_STAGE]) + 1;
    case D_SURVEY: return dict_count(m->dict[DICT_SURVEY]) + 1;
    case D_AGENT: return dict_count(m->dict[DICT_AGENT]) + 1;
    case D_TEAM: return r->nteams + 1;
    case D_COUNTRY: return dict_count(m->cdict[CD_COUNTRY]) + 1;
    case D_CITY: return dict_count(m->cdict[CD_CITY]) + 1;
    case D_GENDER: return dict_count(m->cdict[CD_GENDER]) + 1;
    case D_AGE_BAND: return 7;
    case D_NPS_CATEGORY: return 4;
    case D_KIND: return FB_TEXT + 1;
    case D_CSAT_MEAN: return 6;
    case D_THEME: return m->nthemes + 1;
    case D_SEGMENT: return (r->segs ? (r->segs->n < 64 ? r->segs->n : 64) : 0) + 1;
    case D_P_ALIVE_BAND:
    case D_CLV_BAND: return 5;
    default: return 0;   /* time: set up apart */
    }
}

static void dense_free(struct dense *dn)
{
    free(dn->day_bucket);
    free(dn->bstart);
    free(dn->acc);
}

/* Sets dn up; false when the cells or days would be too many (then the
 * hashed path runs) or memory is short. */
static bool dense_setup(struct run *r, const struct report_query *q, struct dense *dn)
{
    memset(dn, 0, sizeof *dn);
    /* days map to periods through one offset: zones with DST take the
     * hashed path, which asks the zone for each row */
    if (r->metric == M_CUSTOMERS || r->ndims == 0 || (r->time_dim >= 0 && !r->has_fixed))
        return false;
    size_t cells = 1;
    for (int k = 0; k < r->ndims; k++) {
        size_t c;
        if (k == r->time_dim) {
            const struct model *m = r->m;
            int64_t lo = q->from > m->min_ts ? q->from : m->min_ts;
            int64_t hi = q->to - 1 < m->max_ts ? q->to - 1 : m->max_ts;
            if (hi < lo)
                return false;
            dn->day0 = (lo + r->fixed) / 86400;
            dn->ndays = (size_t)((hi + r->fixed) / 86400 - dn->day0 + 1);
            if (dn->ndays > DENSE_MAX_DAYS)
                return false;
            dn->day_bucket = cxm_malloc(dn->ndays * sizeof *dn->day_bucket);
            dn->bstart = cxm_malloc(dn->ndays * sizeof *dn->bstart);
            if (!dn->day_bucket || !dn->bstart)
                return false;
            for (size_t day = 0; day < dn->ndays; day++) {
                int64_t t = (dn->day0 + (int64_t)day) * 86400 - r->fixed;
                int64_t b = rb_start(r, t, r->bucket);
                if (!dn->nb || dn->bstart[dn->nb - 1] != b)
                    dn->bstart[dn->nb++] = b;
                dn->day_bucket[day] = (uint32_t)(dn->nb - 1);
            }
            c = dn->nb;
        } else {
            c = dim_card(r, r->dims[k]);
        }
        dn->card[k] = c;
        if (!c || cells > DENSE_MAX_CELLS / c)
            return false;
        cells *= c;
    }
    size_t stride = 1;
    for (int k = r->ndims - 1; k >= 0; k--) {
        dn->stride[k] = stride;
        stride *= dn->card[k];
    }
    dn->cells = cells;
    return (dn->acc = cxm_calloc(cells, sizeof *dn->acc)) != NULL;
}

static int dense_groups(struct run *r, const struct dense *dn, struct cxm_err *err);

static int dense_run(struct run *r, const struct report_query *q, const struct filter *f,
                     struct dense *dn, struct cxm_err *err)
{
    const struct fcols *fc = &r->m->fc;
    size_t x = 0, i;
    while ((i = scan_next(r, q, &x))) {
        if (!row_counts(r, q, f, i, false))
            continue;
        size_t cell = 0;
        int tk = -1;
        for (int k = 0; k < r->ndims; k++) {
            size_t v;
            if (k == r->time_dim) {
                v = dn->day_bucket[((int64_t)fc->ts[i] + r->fixed) / 86400 - dn->day0];
            } else if (r->dims[k] == D_THEME || r->dims[k] == D_SEGMENT) {
                tk = k;
                continue;
            } else {
                double d = field_of(r, r->dims[k], i);
                v = isnan(d) ? 0 : (size_t)d;
            }
            cell += v * dn->stride[k];
        }
        /* a comment counts once in each of its themes (none: theme null),
         * an answer once in each segment of its customer */
        bool seg = tk >= 0 && r->dims[tk] == D_SEGMENT;
        uint64_t bits = tk < 0 ? 0 : seg ? root_segments(r, model_root(r->m, fc->cust[i]))
                                         : row_themes(r, i);
        if (r->metric == M_PAIN && !bits)
            continue;            /* pain is of themes */
        do {
            size_t c = cell;
            r->theme = -1;
            if (tk >= 0 && bits) {
                int b = __builtin_ctzll(bits);
                r->theme = seg ? -1 : b;
                c += (size_t)(b + 1) * dn->stride[tk];
                bits &= bits - 1;
            }
            struct group g;
            g.acc = dn->acc[c];
            accumulate(r, &g, i);
            dn->acc[c] = g.acc;
        } while (bits);
    }
    return dense_groups(r, dn, err);
}

/* The cells that saw rows become groups. */
static int dense_groups(struct run *r, const struct dense *dn, struct cxm_err *err)
{
    for (size_t cell = 0; cell < dn->cells; cell++) {
        const union acc *a = &dn->acc[cell];
        /* n leads nps_acc, csat_acc and ces_acc alike */
        uint64_t n = r->metric == M_RESPONSES ? a->count : a->nps.n;
        if (!n)
            continue;
        int64_t key[MAX_DIMS] = {0};
        size_t rest = cell;
        for (int k = 0; k < r->ndims; k++) {
            size_t v = rest / dn->stride[k];
            rest %= dn->stride[k];
            key[k] = k == r->time_dim ? dn->bstart[v] : (int64_t)v;
        }
        struct group *g = group_of(r, key, true);
        if (!g)
            return cxm_err_set(err, CXM_ETOOBIG, "more than %d groups: use fewer or"
                               " coarser dimensions", MAX_ROWS);
        g->acc = *a;
    }
    return CXM_OK;
}

static int64_t latest_ts(const struct model *m);
static int finish_doc(struct run *r, const struct report_query *q, json_t *rows, json_t **out);
static int finish_groups(struct run *r, const struct report_query *q, json_t *rows,
                         json_t **out, struct cxm_err *err);

/* ---- the fast path --------------------------------------------------------
 * Feedback metrics (NPS, eNPS, CSAT, CES, responses) by row dimensions
 * (channel, touchpoint, stage, survey, agent, kind, a period), and
 * customers by csat_mean, with a filter that reads only row fields with a
 * dictionary (the same) and the profile's country, city, gender, birth
 * year, age and age band. Such a filter's answer for a row depends only on
 * the codes of the row fields it reads (a combination), on the profile's
 * values of the customer fields it reads (a class) and, through ages, on
 * the UTC calendar year of the answer. It is evaluated once for each
 * (class, year, combination) into a table; a row then costs a class (two
 * bytes per customer, read at random) and a table entry, or, for a filter
 * on the customer alone, one byte per customer with a bit per year,
 * instead of a filter evaluation through the profiles. Scores are counted
 * per cell and integer score (as the rollups do): the sums are exact, so
 * the answers are those of the rows, to the last digit. Over many rows
 * two threads share the pass, each with counters of its own, added up
 * after (integers: exact). The classes of every node (2 bytes each), and
 * the year masks of the first filter over them (1 byte each), are kept
 * between reports for one state of the model (struct fast_cache); the
 * rest lives for one call. report_query.rows, one customer, other
 * metrics, dimensions or fields, a zone with daylight-saving time and a
 * period dimension, or too many classes or combinations take the paths
 * above. */

#define FAST_MAX_COMBOS 4096u          /* row-field combinations in a filter */
#define FAST_MAX_CLASSES 65535u        /* distinct customer values (uint16) */
#define FAST_MAX_TABLE (1u << 20)      /* filter evaluations up front */
#define FAST_MAX_YEARS 64u
#define FAST_MAX_CELLS (1u << 16)      /* x 12 counters of 4 bytes */
#define FAST_SCORES 12                 /* 0..10, then "no integer score" */

struct fastf {
    bool any;                 /* a filter to apply */
    int rf[NFILTER];          /* row fields the filter reads (field_of ids) */
    size_t rcard[NFILTER], nrf, ncombo;
    bool cust, ages;          /* reads customer fields; of them, ages */
    uint64_t cmask;           /* which of country, city, gender, birth year */
    uint16_t *cls;            /* [ncust + 1]: class of each node's profile */
    uint64_t *ckey;           /* class -> (country, city, gender, birth year) */
    size_t nclass;
    int y0;                   /* first year */
    size_t nyears;
    int64_t day0;             /* first UTC day of day_year */
    size_t ndays;
    uint8_t *day_year;        /* UTC day - day0 -> year - y0 */
    uint8_t *tab;             /* [(class * nyears + year) * ncombo + combo] */
    uint8_t *ymask;           /* no row field, 8 years at most: [ncust + 1],
                                 bit y: the node's profile passes in year y */
    struct engine *e;         /* of the cache entry in use */
    struct fast_cache *ent;   /* cls, ckey (and ymask when own_ymask is
                                 false) are its; NULL: ours */
    bool own_ymask;
};

/* The engine's cache (e->rcache, under e->rmu): every node's class for the
 * customer fields cmask, for one state of the model, and the year masks
 * of the first filter over those classes. Read only once published; a
 * report holds a reference while it uses it, and the last one frees it. */
struct fast_cache {
    unsigned refs;            /* the engine's and each report's; under rmu */
    const struct model *m;    /* the state: any change to the model */
    int64_t seq;              /* moves one of these */
    uint64_t gen, mgen;
    size_t ncust, nmerged;
    uint64_t cmask;
    uint16_t *cls;
    uint64_t *ckey;
    size_t nclass;
    uint8_t *cm;              /* [nclass]: years passed by class; set once */
    uint8_t *ymask;           /* [ncust + 1]: cm of each node's class */
};

static void fast_cache_put(struct engine *e, struct fast_cache *c)
{
    pthread_mutex_lock(&e->rmu);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&e->rmu);
    if (last) {
        free(c->cls);
        free(c->ckey);
        free(c->cm);
        free(c->ymask);
        free(c);
    }
}

void report_cache_free(struct engine *e)
{
    if (e->rcache)
        fast_cache_put(e, e->rcache);
    e->rcache = NULL;
}

static void fast_free(struct fastf *ff)
{
    if (ff->ent) {
        fast_cache_put(ff->e, ff->ent);
    } else {
        free(ff->cls);
        free(ff->ckey);
    }
    if (ff->own_ymask)
        free(ff->ymask);
    free(ff->day_year);
    free(ff->tab);
}

/* The code of row field d (a dimension with a dictionary, or the kind) of
 * feedback row i. */
static inline size_t fast_code(const struct fcols *fc, int d, size_t i)
{
    switch (d) {
    case D_CHANNEL: return fc->channel[i];
    case D_TOUCHPOINT: return fc->touchpoint[i];
    case D_STAGE: return fc->stage[i];
    case D_SURVEY: return fc->survey[i];
    case D_AGENT: return fc->agent[i];
    default: return fc->kind[i];
    }
}

static bool fast_row_field(int d)
{
    return d == D_CHANNEL || d == D_TOUCHPOINT || d == D_STAGE || d == D_SURVEY ||
           d == D_AGENT || d == D_KIND;
}

static bool fast_cust_field(int d)
{
    return d == D_COUNTRY || d == D_CITY || d == D_GENDER || d == D_AGE_BAND ||
           d == F_AGE || d == F_BIRTH_YEAR;
}

/* Class key parts: country, city, gender, birth year (16 bits each). */
enum { FK_COUNTRY, FK_CITY, FK_GENDER, FK_BIRTH };

/* Every node's class: the values of the customer fields the filter reads
 * in its profile, as build_profiles gives them. false: too many classes
 * or out of memory (*rc). */
static bool fast_classes(struct run *r, struct fastf *ff, int *rc)
{
    const struct model *m = r->m;
    size_t n = m->ncust + 1;
    /* without merges every node is its own profile: its attributes are
     * the profile's, taken as build_profiles takes them */
    if (m->nmerged && (*rc = build_profiles(r, NULL, 0, false, false)))
        return false;
    size_t nslot = 2u * 65536u;
    uint32_t *slot = cxm_calloc(nslot, sizeof *slot);   /* class + 1; 0: empty */
    ff->cls = cxm_malloc(n * sizeof *ff->cls);
    ff->ckey = cxm_malloc(FAST_MAX_CLASSES * sizeof *ff->ckey);
    if (!slot || !ff->cls || !ff->ckey) {
        free(slot);
        *rc = CXM_ENOMEM;
        return false;
    }
    ff->cls[0] = 0;
    uint64_t last = 0;
    uint16_t last_cls = 0;
    bool have_last = false;
    bool ok = true;
    for (size_t c = 1; c < n && ok; c++) {
        uint64_t country, city, gender, by;
        if (r->prof) {
            const struct prof *p = prof_at(r, (uint32_t)c);
            country = p->country;
            city = p->city;
            gender = p->gender;
            by = (uint16_t)p->birth_year;
        } else {
            const struct attrs *a = &m->cust[c].a;
            bool take = a->updated_seq > 0;
            country = take ? a->country : 0;
            city = take ? a->city : 0;
            gender = take ? a->gender : 0;
            by = take && a->birth_year ? (uint16_t)(int16_t)a->birth_year : 0;
        }
        uint64_t key = (ff->cmask >> FK_COUNTRY & 1 ? country : 0) |
                       (ff->cmask >> FK_CITY & 1 ? city << 16 : 0) |
                       (ff->cmask >> FK_GENDER & 1 ? gender << 32 : 0) |
                       (ff->cmask >> FK_BIRTH & 1 ? by << 48 : 0);
        if (!have_last || key != last) {
            size_t j = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & (nslot - 1);
            while (slot[j] && ff->ckey[slot[j] - 1] != key)
                j = (j + 1) & (nslot - 1);
            if (!slot[j]) {
                if (ff->nclass == FAST_MAX_CLASSES) {
                    ok = false;
                    break;
                }
                ff->ckey[ff->nclass++] = key;
                slot[j] = (uint32_t)ff->nclass;
            }
            last = key;
            have_last = true;
            last_cls = (uint16_t)(slot[j] - 1);
        }
        ff->cls[c] = last_cls;
    }
    free(slot);
    return ok;
}

/* Does cache entry c hold the classes of cmask for r's model as it is? */
static bool fast_cache_fits(const struct fast_cache *c, const struct run *r, uint64_t cmask)
{
    const struct model *m = r->m;
    return c->m == m && c->seq == m->last_seq && c->gen == m->gen &&
           c->mgen == r->e->mgen && c->ncust == m->ncust && c->nmerged == m->nmerged &&
           c->cmask == cmask;
}

/* fast_classes from the engine's cache when it holds them for this state
 * of the model; else computed, and then cached in place of the last. */
static bool fast_classes_cached(struct run *r, struct fastf *ff, int *rc)
{
    struct engine *e = r->e;
    if (e) {
        pthread_mutex_lock(&e->rmu);
        struct fast_cache *c = e->rcache;
        if (c && fast_cache_fits(c, r, ff->cmask)) {
            c->refs++;
            ff->e = e;
            ff->ent = c;
            ff->cls = c->cls;
            ff->ckey = c->ckey;
            ff->nclass = c->nclass;
        }
        pthread_mutex_unlock(&e->rmu);
        if (ff->ent)
            return true;
    }
    if (!fast_classes(r, ff, rc))
        return false;
    struct fast_cache *c = e ? cxm_calloc(1, sizeof *c) : NULL;
    if (!c)
        return true;   /* not kept: this report's own */
    uint64_t *ckey = ff->nclass ? cxm_malloc(ff->nclass * sizeof *ckey) : NULL;
    if (ckey) {        /* the table for the classes there are */
        memcpy(ckey, ff->ckey, ff->nclass * sizeof *ckey);
        free(ff->ckey);
        ff->ckey = ckey;
    }
    const struct model *m = r->m;
    *c = (struct fast_cache){.refs = 2, .m = m, .seq = m->last_seq, .gen = m->gen,
                             .mgen = e->mgen, .ncust = m->ncust, .nmerged = m->nmerged,
                             .cmask = ff->cmask, .cls = ff->cls, .ckey = ff->ckey,
                             .nclass = ff->nclass};
    ff->e = e;
    ff->ent = c;
    pthread_mutex_lock(&e->rmu);
    struct fast_cache *old = e->rcache;
    e->rcache = c;
    pthread_mutex_unlock(&e->rmu);
    if (old)
        fast_cache_put(e, old);
    return true;
}

/* The filter's inputs for the table: a value per filter field. */
struct fast_vals {
    double v[NFILTER];
};

static double fast_get(void *ctx, int field)
{
    return ((const struct fast_vals *)ctx)->v[field];
}

static double code_or_nan(uint64_t c)
{
    return c ? (double)c : NAN;
}

/* Sets ff up for filter f (bound) over [lo, hi], the times the rows can
 * have. false: not covered (then *rc is 0) or out of memory (*rc). */
static bool fast_filter(struct run *r, const struct filter *f, int64_t lo, int64_t hi,
                        struct fastf *ff, int *rc)
{
    memset(ff, 0, sizeof *ff);
    *rc = CXM_OK;
    ff->ncombo = 1;
    ff->nclass = 1;
    ff->nyears = 1;
    if (!f)
        return true;
    uint64_t used = filter_fields_used(f);
    for (int k = 0; k < NFILTER; k++) {
        if (!(used >> k & 1))
            continue;
        int d = filter_ids[k];
        if (fast_row_field(d)) {
            size_t card = dim_card(r, (enum dim)d);
            if (!card || ff->ncombo > FAST_MAX_COMBOS / card)
                return false;
            ff->rf[ff->nrf] = d;
            ff->rcard[ff->nrf++] = card;
            ff->ncombo *= card;
        } else if (fast_cust_field(d)) {
            ff->cust = true;
            ff->ages |= d == D_AGE_BAND || d == F_AGE;
            ff->cmask |= d == D_COUNTRY ? 1u << FK_COUNTRY : d == D_CITY ? 1u << FK_CITY
                         : d == D_GENDER ? 1u << FK_GENDER : 1u << FK_BIRTH;
        } else {
            return false;
        }
    }
    if (used >> 63)
        return false;
    ff->any = true;
    if (hi < lo)   /* no row can count: a table of one false entry */
        lo = hi = 0;
    if (ff->ages) {
        int ylo, yhi;
        unsigned mo, dd;
        ff->day0 = lo / 86400;
        timefmt_civil_from_days(ff->day0, &ylo, &mo, &dd);
        timefmt_civil_from_days(hi / 86400, &yhi, &mo, &dd);
        if (yhi - ylo + 1 > (int)FAST_MAX_YEARS)
            return false;
        ff->y0 = ylo;
        ff->nyears = (size_t)(yhi - ylo + 1);
        ff->ndays = (size_t)(hi / 86400 - ff->day0 + 1);
        if (!(ff->day_year = cxm_malloc(ff->ndays))) {
            *rc = CXM_ENOMEM;
            return false;
        }
        for (size_t dy = 0; dy < ff->ndays; dy++) {
            int y;
            timefmt_civil_from_days(ff->day0 + (int64_t)dy, &y, &mo, &dd);
            ff->day_year[dy] = (uint8_t)(y - ylo);
        }
    }
    if (ff->cust) {
        ff->nclass = 0;
        if (!fast_classes_cached(r, ff, rc))
            return false;
    }
    size_t cells;
    if (!cxm_mul_size(ff->nclass, ff->nyears, &cells) ||
        !cxm_mul_size(cells, ff->ncombo, &cells) || cells > FAST_MAX_TABLE)
        return false;
    if (!(ff->tab = cxm_malloc(cells))) {
        *rc = CXM_ENOMEM;
        return false;
    }
    struct fast_vals fv;
    for (int k = 0; k < NFILTER; k++)
        fv.v[k] = NAN;
    size_t t = 0;
    for (size_t cl = 0; cl < ff->nclass; cl++) {
        uint64_t key = ff->cust ? ff->ckey[cl] : 0;
        int by = (int16_t)(uint16_t)(key >> 48);
        for (size_t y = 0; y < ff->nyears; y++) {
            /* a time in the year: ages depend on the year only */
            int64_t ts = timefmt_days_from_civil(ff->y0 + (int)y, 7, 1) * 86400;
            for (int k = 0; k < NFILTER; k++) {
                switch (filter_ids[k]) {
                case D_COUNTRY: fv.v[k] = code_or_nan(key & 0xffff); break;
                case D_CITY: fv.v[k] = code_or_nan(key >> 16 & 0xffff); break;
                case D_GENDER: fv.v[k] = code_or_nan(key >> 32 & 0xffff); break;
                case F_BIRTH_YEAR: fv.v[k] = by ? (double)by : NAN; break;
                case D_AGE_BAND:
                    fv.v[k] = code_or_nan((uint64_t)band_of(by, ts));
                    break;
                case F_AGE:
                    fv.v[k] = by ? (double)(ff->y0 + (int)y - by) : NAN;
                    break;
                default: break;
                }
            }
            for (size_t combo = 0; combo < ff->ncombo; combo++, t++) {
                size_t rest = combo;
                for (size_t j = ff->nrf; j-- > 0;) {
                    size_t code = rest % ff->rcard[j];
                    rest /= ff->rcard[j];
                    for (int k = 0; k < NFILTER; k++)
                        if (filter_ids[k] == ff->rf[j])
                            fv.v[k] = code_or_nan(code);
                }
                ff->tab[t] = filter_eval(f, fast_get, &fv);
            }
        }
    }
    /* a filter on the customer alone: one byte per node, read at random
     * instead of a class and then the table */
    if (ff->cust && !ff->nrf && ff->nyears <= 8) {
        size_t n = r->m->ncust + 1;
        uint8_t *cm = cxm_calloc(ff->nclass, 1);   /* class -> years passed */
        if (!cm) {
            *rc = CXM_ENOMEM;
            return false;
        }
        for (size_t cl = 0; cl < ff->nclass; cl++)
            for (size_t y = 0; y < ff->nyears; y++)
                cm[cl] |= (uint8_t)(ff->tab[cl * ff->nyears + y] << y);
        struct fast_cache *c = ff->ent;
        if (c) {   /* the cached masks when they are these */
            pthread_mutex_lock(&ff->e->rmu);
            if (c->cm && memcmp(c->cm, cm, ff->nclass) == 0)
                ff->ymask = c->ymask;
            pthread_mutex_unlock(&ff->e->rmu);
        }
        if (!ff->ymask) {
            if (!(ff->ymask = cxm_malloc(n))) {
                free(cm);
                *rc = CXM_ENOMEM;
                return false;
            }
            ff->own_ymask = true;
            for (size_t x = 0; x < n; x++)
                ff->ymask[x] = cm[ff->cls[x]];
            if (c) {   /* the first masks over these classes are kept */
                pthread_mutex_lock(&ff->e->rmu);
                if (!c->cm) {
                    c->cm = cm;
                    c->ymask = ff->ymask;
                    cm = NULL;
                    ff->own_ymask = false;
                }
                pthread_mutex_unlock(&ff->e->rmu);
            }
        }
        free(cm);
    }
    return true;
}

/* Does feedback row i (in the period) pass the filter? */
static inline bool fast_pass(const struct fastf *ff, const struct fcols *fc, size_t i)
{
    if (!ff->any)
        return true;
    if (ff->ymask)
        return ff->ymask[fc->cust[i]] >> (ff->ages ? ff->day_year[fc->ts[i] / 86400 - ff->day0]
                                                   : 0) & 1;
    size_t t = ff->cust ? ff->cls[fc->cust[i]] : 0;
    if (ff->ages)
        t = t * ff->nyears + ff->day_year[fc->ts[i] / 86400 - ff->day0];
    for (size_t j = 0; j < ff->nrf; j++)
        t = t * ff->rcard[j] + fast_code(fc, ff->rf[j], i);
    return ff->tab[t];
}

/* Blocks of feedback rows (FBLOCK_SHIFT) in the columns. */
static size_t fast_nblocks(const struct fcols *fc)
{
    return fc->n ? (fc->n >> FBLOCK_SHIFT) + 1 : 0;
}

/* The feedback row range [*i, *end) of the next block before block bend
 * that may hold rows of [from, to), and whether all its rows lie in it
 * (*inside); false at the end. */
static bool fast_block(const struct fcols *fc, const struct report_query *q, size_t bend,
                       size_t *b, size_t *i, size_t *end, bool *inside)
{
    for (; *b < bend; (*b)++) {
        if ((int64_t)fc->bmax[*b] < q->from || (int64_t)fc->bmin[*b] >= q->to)
            continue;
        *inside = (int64_t)fc->bmin[*b] >= q->from && (int64_t)fc->bmax[*b] < q->to;
        *i = *b << FBLOCK_SHIFT;
        *i = *i ? *i : 1;
        *end = (*b + 1) << FBLOCK_SHIFT;
        *end = *end > fc->n + 1 ? fc->n + 1 : *end;
        (*b)++;
        return true;
    }
    return false;
}

/* Two threads share a pass over the rows from this many rows of the
 * period on (below it a thread costs more than it saves); unit tests,
 * whose data are small, share any pass of two blocks or more. */
#ifdef CXM_TEST
#define FAST_PAR_ROWS 1u
#else
#define FAST_PAR_ROWS (1u << 20)
#endif

/* The block that splits the blocks holding rows of [from, to) into two
 * halves of as many blocks, or 0 when they are too few to share. */
static size_t fast_split(const struct fcols *fc, const struct report_query *q)
{
    size_t nb = fast_nblocks(fc), k = 0, b = 0, i, end;
    bool inside;
    while (fast_block(fc, q, nb, &b, &i, &end, &inside))
        k++;
    if (k < 2 || k << FBLOCK_SHIFT < FAST_PAR_ROWS)
        return 0;
    b = 0;
    for (size_t j = 0; j < k / 2; j++)
        fast_block(fc, q, nb, &b, &i, &end, &inside);
    return b;
}

/* Runs fn(a0) here and fn(a1) in a thread of its own at the same time,
 * and joins it; when no thread can be had, fn(a1) here after fn(a0)
 * (each writes only its own argument: the same result either way). */
static void fast_two(void *(*fn)(void *), void *a0, void *a1)
{
    pthread_t t;
    bool threaded = pthread_create(&t, NULL, fn, a1) == 0;
    fn(a0);
    if (threaded)
        pthread_join(t, NULL);
    else
        fn(a1);
}

/* Rows ahead whose customer entry is fetched before it is read: the
 * entries are read at random and would otherwise be waited for. */
#define FAST_AHEAD 32

/* One thread's share of a pass over the rows: the blocks [b0, b1), into
 * its own counters. */
struct fast_part {
    const struct run *r;
    const struct report_query *q;
    const struct fastf *ff;
    size_t b0, b1;
    /* fast_feedback */
    const struct dense *dn;
    uint32_t *cnt;            /* [(dn->cells + 1) * FAST_SCORES] */
    /* customers_sums */
    bool packed, ok;
    uint32_t *pk, *n;
    double *sum;
    uint64_t *seen;
};

/* The year index (ff->day_year) of every row of block b, which lies in
 * the period; -1 when its rows span two years or ages are not read. */
static int fast_block_year(const struct fastf *ff, const struct fcols *fc, size_t b)
{
    if (!ff->ages)
        return 0;
    int y0 = ff->day_year[(int64_t)fc->bmin[b] / 86400 - ff->day0];
    int y1 = ff->day_year[(int64_t)fc->bmax[b] / 86400 - ff->day0];
    return y0 == y1 ? y0 : -1;
}

/* Row i's cell in the dense table: its dimensions' codes (the period's
 * bucket only when ok, since a row outside the period has none). */
static inline size_t fast_cell(const struct run *r, const struct dense *dn,
                               const uint16_t *const *col, int nd, const struct fcols *fc,
                               size_t i, int64_t ts, bool ok)
{
    size_t cell = 0;
    for (int k = 0; k < nd; k++) {
        size_t v = col[k] ? col[k][i] : k != r->time_dim ? fc->kind[i]
                   : ok ? dn->day_bucket[(ts + r->fixed) / 86400 - dn->day0] : 0;
        cell += dn->stride[k] * v;
    }
    return cell;
}

/* Counts score s in cell: by integer score, 11 for none. */
static inline void fast_count(uint32_t *cnt, size_t cell, float s)
{
    cnt[cell * FAST_SCORES + (s > -1.0f && s < 11.0f ? (size_t)s : 11)]++;
}

/* fast_feedback's pass over the blocks of one part. The kind and the
 * period are tested without branches (rows of other kinds are interleaved
 * at random): a row that does not count goes to a spare cell. */
static void *fast_feedback_part(void *arg)
{
    struct fast_part *fp = arg;
    const struct run *r = fp->r;
    const struct report_query *q = fp->q;
    const struct fastf *ff = fp->ff;
    const struct dense *dn = fp->dn;
    const struct fcols *fc = &r->m->fc;
    uint32_t *cnt = fp->cnt;
    size_t spare = dn->cells;
    int want = r->metric == M_NPS ? FB_NPS : r->metric == M_ENPS ? FB_ENPS
               : r->metric == M_CSAT ? FB_CSAT : r->metric == M_CES ? FB_CES : 0;
    /* each dimension: a 16-bit column, the kind or the period */
    const uint16_t *col[MAX_DIMS] = {NULL};
    int nd = r->ndims;
    for (int k = 0; k < nd; k++) {
        switch (k == r->time_dim ? D_DAY : r->dims[k]) {
        case D_CHANNEL: col[k] = fc->channel; break;
        case D_TOUCHPOINT: col[k] = fc->touchpoint; break;
        case D_STAGE: col[k] = fc->stage; break;
        case D_SURVEY: col[k] = fc->survey; break;
        case D_AGENT: col[k] = fc->agent; break;
        default: break;
        }
    }
    size_t b = fp->b0, i, end;
    bool inside;
    while (fast_block(fc, q, fp->b1, &b, &i, &end, &inside)) {
        /* no filter, no period dimension, every row in the period: the
         * kind alone decides (the commonest dashboard shape) */
        for (; !ff->any && inside && r->time_dim < 0 && i < end; i++) {
            size_t cell = fast_cell(r, dn, col, nd, fc, i, 0, true);
            fast_count(cnt, !want || fc->kind[i] == want ? cell : spare, fc->score[i]);
        }
        /* a filter on the customer alone: a byte per node, no branch; in
         * a block of the period within one year, that year's bit */
        int yb = ff->ymask && inside ? fast_block_year(ff, fc, b - 1) : -1;
        for (; yb >= 0 && i < end; i++) {
            __builtin_prefetch(&ff->ymask[fc->cust[i + FAST_AHEAD < end ? i + FAST_AHEAD : i]]);
            int64_t ts = fc->ts[i];
            bool ok = (!want || fc->kind[i] == want) & (ff->ymask[fc->cust[i]] >> yb & 1);
            size_t cell = fast_cell(r, dn, col, nd, fc, i, ts, ok);
            fast_count(cnt, ok ? cell : spare, fc->score[i]);
        }
        for (; ff->ymask && i < end; i++) {
            __builtin_prefetch(&ff->ymask[fc->cust[i + FAST_AHEAD < end ? i + FAST_AHEAD : i]]);
            int64_t ts = fc->ts[i];
            bool ok = (!want || fc->kind[i] == want) & (ts >= q->from) & (ts < q->to);
            size_t y = ok && ff->ages ? ff->day_year[ts / 86400 - ff->day0] : 0;
            ok &= ff->ymask[fc->cust[i]] >> y & 1;
            size_t cell = fast_cell(r, dn, col, nd, fc, i, ts, ok);
            fast_count(cnt, ok ? cell : spare, fc->score[i]);
        }
        for (; ff->any && i < end; i++) {
            /* with a filter, most rows stop at a test: branches pay */
            if (ff->cust)
                __builtin_prefetch(&ff->cls[fc->cust[i + FAST_AHEAD < end ? i + FAST_AHEAD : i]]);
            if (want && fc->kind[i] != want)
                continue;
            int64_t ts = fc->ts[i];
            if (ts < q->from || ts >= q->to || !fast_pass(ff, fc, i))
                continue;
            fast_count(cnt, fast_cell(r, dn, col, nd, fc, i, ts, true), fc->score[i]);
        }
        for (; i < end; i++) {
            int64_t ts = fc->ts[i];
            bool ok = (!want || fc->kind[i] == want) & (ts >= q->from) & (ts < q->to);
            size_t cell = fast_cell(r, dn, col, nd, fc, i, ts, ok);
            fast_count(cnt, ok ? cell : spare, fc->score[i]);
        }
    }
    return NULL;
}

/* Feedback metrics by row dimensions into dn (set up), then groups: one
 * pass over the rows, or two threads over a half of the blocks each,
 * each with its own counters (integers: their sum is exact). */
static int fast_feedback(struct run *r, const struct report_query *q,
                         const struct fastf *ff, struct dense *dn, struct cxm_err *err)
{
    const struct fcols *fc = &r->m->fc;
    size_t ncnt = (dn->cells + 1) * FAST_SCORES;
    size_t mid = fast_split(fc, q);
    uint32_t *cnt = cxm_calloc(mid ? 2 * ncnt : ncnt, sizeof *cnt);
    if (!cnt)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    struct fast_part part[2] = {
        {.r = r, .q = q, .ff = ff, .dn = dn, .b0 = 0, .b1 = fast_nblocks(fc), .cnt = cnt},
    };
    if (mid) {
        part[1] = part[0];
        part[0].b1 = part[1].b0 = mid;
        part[1].cnt = cnt + ncnt;
        fast_two(fast_feedback_part, &part[0], &part[1]);
        for (size_t c = 0; c < ncnt; c++)
            cnt[c] += cnt[ncnt + c];
    } else {
        fast_feedback_part(&part[0]);
    }
    for (size_t c = 0; c < dn->cells; c++) {
        const uint32_t *h = &cnt[c * FAST_SCORES];
        union acc *a = &dn->acc[c];
        for (int s = 0; s < FAST_SCORES; s++) {
            if (!h[s])
                continue;
            if (r->metric == M_RESPONSES)
                a->count += h[s];
            else if (s == FAST_SCORES - 1)
                continue;
            else if (r->metric == M_NPS || r->metric == M_ENPS)
                nps_add_n(&a->nps, s, h[s]);
            else if (r->metric == M_CSAT)
                csat_add_n(&a->csat, s, h[s]);
            else
                ces_add_n(&a->ces, s, h[s]);
        }
    }
    free(cnt);
    return dense_groups(r, dn, err);
}

/* Customers by csat_mean: each profile whose answers count, in the group
 * of its mean CSAT over them (csat_means). Integer scores 0-15 (CSAT is
 * 1-5), fewer than 4,095 of them per profile and part, are added up in 32
 * bits per profile (count << 20 | sum: exact, and a small array read at
 * random); otherwise (packed false) a double sum and a count, in row
 * order as csat_means adds them. Marks the profiles seen in seen[]. One
 * part's blocks; fp->ok false: the packed sums do not do (nothing is
 * answered). */
static void *customers_sums(void *arg)
{
    struct fast_part *fp = arg;
    const struct report_query *q = fp->q;
    const struct fastf *ff = fp->ff;
    const struct model *m = fp->r->m;
    const struct fcols *fc = &m->fc;
    uint32_t *pk = fp->pk;
    uint64_t *seen = fp->seen;
    size_t b = fp->b0, i, end;
    bool inside;
    fp->ok = true;
    while (fast_block(fc, q, fp->b1, &b, &i, &end, &inside)) {
        for (; i < end; i++) {
            /* the profile's sums are read at random: fetched ahead (the
             * node's own entry, its profile's unless merged) */
            if (fp->packed)
                __builtin_prefetch(&pk[fc->cust[i + FAST_AHEAD < end ? i + FAST_AHEAD : i]]);
            int64_t ts = fc->ts[i];
            if (ts < q->from || ts >= q->to || !fast_pass(ff, fc, i))
                continue;
            uint32_t rt = m->nmerged ? model_root(m, fc->cust[i]) : fc->cust[i];
            seen[rt >> 6] |= 1ull << (rt & 63);
            if (fc->kind[i] != FB_CSAT)
                continue;
            float s = fc->score[i];
            if (!fp->packed) {
                fp->sum[rt] += s;
                fp->n[rt]++;
                continue;
            }
            if (!(s >= 0.0f && s <= 15.0f) || s != (float)(int)s || pk[rt] >> 20 == 4094) {
                fp->ok = false;
                return NULL;
            }
            pk[rt] += 1u << 20 | (uint32_t)s;
        }
    }
    return NULL;
}

/* Profiles [c0, c1) by mean CSAT from the packed sums of np parts. */
struct fast_means {
    const uint32_t *pk;       /* [np * n] */
    const uint64_t *seen;     /* [np * nw] */
    size_t n, nw, np, c0, c1;
    uint64_t per[17];         /* by mean 0-15; 16: not seen */
};

static void *fast_means_part(void *arg)
{
    struct fast_means *fm = arg;
    const uint32_t *pk = fm->pk;
    const uint64_t *seen = fm->seen;
    bool two = fm->np > 1;
    for (size_t c = fm->c0; c < fm->c1; c++) {
        uint64_t w = seen[c >> 6] | (two ? seen[fm->nw + (c >> 6)] : 0);
        uint32_t p1 = two ? pk[fm->n + c] : 0;
        uint32_t k = (pk[c] >> 20) + (p1 >> 20);
        uint32_t t = (pk[c] & 0xfffff) + (p1 & 0xfffff);
        /* t / k rounded half up, as round() does for these: a tie is
         * exact in either, and a mean that is not one is at least 1 / 2k
         * from it (no profile has answers: mean 0) */
        uint32_t mean = (2 * t + k) / (2 * k + (k == 0));
        fm->per[w >> (c & 63) & 1 ? mean : 16]++;
    }
    return NULL;
}

/* Customers by csat_mean: packed sums over the rows, by two threads over
 * a half of the blocks each (with their own sums: integers, so adding
 * them is exact) when the rows are many; else the double sums in one
 * pass. */
static int fast_customers(struct run *r, const struct report_query *q,
                          const struct fastf *ff, struct cxm_err *err)
{
    size_t n = r->m->ncust + 1, nw = n / 64 + 1;
    size_t mid = fast_split(&r->m->fc, q);
    size_t np = mid ? 2 : 1;
    uint32_t *pk = cxm_calloc(np * n, sizeof *pk);
    uint64_t *seen = cxm_calloc(np * nw, sizeof *seen);
    double *sum = NULL;
    uint32_t *cnt = NULL;
    int rc = CXM_OK;
    if (!pk || !seen) {
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        goto done;
    }
    struct fast_part part[2] = {
        {.r = r, .q = q, .ff = ff, .b0 = 0, .b1 = fast_nblocks(&r->m->fc), .packed = true,
         .pk = pk, .seen = seen},
    };
    if (mid) {
        part[1] = part[0];
        part[0].b1 = part[1].b0 = mid;
        part[1].pk = pk + n;
        part[1].seen = seen + nw;
        fast_two(customers_sums, &part[0], &part[1]);
    } else {
        customers_sums(&part[0]);
    }
    bool packed = part[0].ok && (!mid || part[1].ok);
    if (!packed) {
        free(pk);
        pk = NULL;
        sum = cxm_calloc(n, sizeof *sum);
        cnt = cxm_calloc(n, sizeof *cnt);
        if (!sum || !cnt) {
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
            goto done;
        }
        memset(seen, 0, nw * sizeof *seen);
        struct fast_part one = {.r = r, .q = q, .ff = ff, .b0 = 0,
                                .b1 = fast_nblocks(&r->m->fc), .sum = sum, .n = cnt,
                                .seen = seen};
        customers_sums(&one);
        np = 1;
    }
    uint64_t per[256] = {0};
    if (packed) {
        /* each thread counts the means of a half of the profiles */
        struct fast_means fm[2] = {{.pk = pk, .seen = seen, .n = n, .nw = nw, .np = np,
                                    .c0 = 1, .c1 = n}};
        if (np > 1 && n > 128 && n > FAST_PAR_ROWS / 4) {
            fm[1] = fm[0];
            fm[0].c1 = fm[1].c0 = n / 128 * 64;
            fast_two(fast_means_part, &fm[0], &fm[1]);
        } else {
            fast_means_part(&fm[0]);
        }
        for (int v = 0; v < 16; v++)
            per[v] = fm[0].per[v] + fm[1].per[v];
    } else {
        for (size_t c = 1; c < n; c++) {
            if (!(seen[c >> 6] >> (c & 63) & 1))
                continue;
            per[cnt[c] ? (uint8_t)round(sum[c] / cnt[c]) : 0]++;
        }
    }
    for (int v = 0; v < 256; v++) {
        if (!per[v])
            continue;
        int64_t key[MAX_DIMS] = {v};
        struct group *g = group_of(r, key, true);
        if (!g) {
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
            goto done;
        }
        g->acc.count = per[v];
    }
done:
    free(pk);
    free(sum);
    free(cnt);
    free(seen);
    return rc;
}

/* Answers the report on the fast path when it covers it (*taken), with
 * the rows' answer. */
static int fast_report(struct run *r, const struct report_query *q, struct filter *f,
                       bool *taken, json_t **out, struct cxm_err *err)
{
    *taken = false;
    bool customers = r->metric == M_CUSTOMERS && r->ndims == 1 &&
                     r->dims[0] == D_CSAT_MEAN;
    if (!customers) {
        if (r->metric != M_NPS && r->metric != M_ENPS && r->metric != M_CSAT &&
            r->metric != M_CES && r->metric != M_RESPONSES)
            return CXM_OK;
        for (int k = 0; k < r->ndims; k++)
            if (k != r->time_dim && !fast_row_field(r->dims[k]))
                return CXM_OK;
    }
    const struct model *m = r->m;
    if (m->fc.n >= UINT32_MAX)
        return CXM_OK;
    int rc;
    if (f && (rc = filter_bind(f, bind_text, r)))
        return cxm_err_set(err, rc, "out of memory");
    struct dense dn;
    memset(&dn, 0, sizeof dn);
    if (!customers) {
        if (r->ndims) {
            if (!dense_setup(r, q, &dn) || dn.cells > FAST_MAX_CELLS) {
                dense_free(&dn);
                return CXM_OK;
            }
        } else if (!(dn.acc = cxm_calloc(1, sizeof *dn.acc))) {
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        } else {
            dn.cells = 1;
        }
    }
    int64_t lo = q->from > m->min_ts ? q->from : m->min_ts;
    int64_t hi = q->to - 1 < m->max_ts ? q->to - 1 : m->max_ts;
    struct fastf ff;
    if (!fast_filter(r, f, lo, hi, &ff, &rc)) {
        fast_free(&ff);
        dense_free(&dn);
        free(r->prof);   /* the rows' path builds its own */
        r->prof = NULL;
        return rc ? cxm_err_set(err, rc, "out of memory") : CXM_OK;
    }
    *taken = true;
    r->ref_ts = latest_ts(m) < q->to - 1 ? latest_ts(m) : q->to - 1;
    json_t *rows = NULL;
    if (!(r->map = strmap_new()) || !(rows = json_array()))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    else
        rc = customers ? fast_customers(r, q, &ff, err) : fast_feedback(r, q, &ff, &dn, err);
    fast_free(&ff);
    dense_free(&dn);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    return finish_groups(r, q, rows, out, err);
}

/* ---- the rollup path ---------------------------------------------------- */

/* The rollup (RU_*) that answers the report, or -1 when it needs the rows:
 * one customer, a metric other than NPS, CSAT, CES or responses, a field
 * other than the time, the kind and one of channel, touchpoint or stage
 * (the same in by and where), a zone with an offset, or a period that
 * does not begin and end on UTC days. */
static int rollup_for(const struct run *r, const struct report_query *q, const struct filter *f)
{
    if (q->rows || q->customer ||
        (r->metric != M_NPS && r->metric != M_CSAT && r->metric != M_CES &&
         r->metric != M_RESPONSES) ||
        !r->has_fixed || r->fixed != 0 || (q->from > 0 && q->from % 86400) ||
        (q->to < INT64_MAX && q->to % 86400))
        return -1;
    int dim = -1;
    uint64_t used = f ? filter_fields_used(f) : 0;
    for (int k = 0; k < NFILTER + r->ndims; k++) {
        int d;
        if (k < NFILTER) {
            if (!(used >> k & 1))
                continue;
            d = filter_ids[k];
        } else {
            d = r->dims[k - NFILTER];
            if (d >= D_DAY && d <= D_YEAR)
                continue;
        }
        if (d == D_KIND)
            continue;
        if ((d != D_CHANNEL && d != D_TOUCHPOINT && d != D_STAGE) || (dim >= 0 && dim != d))
            return -1;
        dim = d;
    }
    return dim == D_TOUCHPOINT ? RU_TOUCHPOINT : dim == D_STAGE ? RU_STAGE : RU_CHANNEL;
}

/* A filter field of the cell being filtered: the kind or the rollup's
 * dimension (rollup_for admits no other), as field_of gives them. */
static double cell_field(void *ctx, int field)
{
    const struct run *r = ctx;
    uint32_t v = filter_ids[field] == D_KIND ? r->cell->kind : r->cell->value;
    return v ? (double)v : NAN;
}

/* The groups from the cells of rollup which: the same groups, with the
 * same sums, as the rows would give. */
static int rollup_run(struct run *r, const struct report_query *q, const struct filter *f,
                      int which, struct cxm_err *err)
{
    const struct rollup *ru = &r->m->ru[which];
    for (size_t ci = 0; ci < ru->n; ci++) {
        const struct rollup_cell *c = &ru->cell[ci];
        int64_t t = (int64_t)c->day * 86400;
        if (t < q->from || t >= q->to || !metric_takes(r->metric, c->kind))
            continue;
        r->cell = c;
        if (f && !filter_eval_sets(f, cell_field, has_row_segment, r))
            continue;
        int64_t key[MAX_DIMS] = {0};
        for (int k = 0; k < r->ndims; k++) {
            enum dim d = r->dims[k];
            key[k] = d >= D_DAY && d <= D_YEAR ? rb_start(r, t, (enum bucket)(d - D_DAY))
                     : d == D_KIND ? c->kind : c->value;
        }
        struct group *g = group_of(r, key, true);
        if (!g)
            return cxm_err_set(err, CXM_ETOOBIG, "more than %d groups: use fewer or"
                               " coarser dimensions", MAX_ROWS);
        for (int s = 0; s < ROLLUP_SCORES; s++) {
            if (!c->hist[s])
                continue;
            if (r->metric == M_NPS)
                nps_add_n(&g->acc.nps, s, c->hist[s]);
            else if (r->metric == M_CSAT)
                csat_add_n(&g->acc.csat, s, c->hist[s]);
            else if (r->metric == M_CES)
                ces_add_n(&g->acc.ces, s, c->hist[s]);
        }
        if (r->metric == M_RESPONSES)
            g->acc.count += c->rows;
    }
    return CXM_OK;
}

static int run_report(struct run *r, const struct report_query *q, struct filter *f,
                      json_t **out, struct cxm_err *err)
{
    uint32_t *nodes = NULL;
    size_t nn = 0;
    int rc = CXM_OK;
    int which = rollup_for(r, q, f);
    if (which >= 0) {
        r->from_rollup = true;
        if (f && (rc = filter_bind(f, bind_text, r)))
            return cxm_err_set(err, rc, "out of memory");
        if (!(r->map = strmap_new()))
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        r->ref_ts = latest_ts(r->m) < q->to - 1 ? latest_ts(r->m) : q->to - 1;
        json_t *rows = json_array();
        if (!rows)
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        if ((rc = rollup_run(r, q, f, which, err))) {
            json_decref(rows);
            return rc;
        }
        return finish_groups(r, q, rows, out, err);
    }
    if (!q->rows && !q->customer) {
        bool taken;
        rc = fast_report(r, q, f, &taken, out, err);
        if (rc || taken)
            return rc;
    }
    if (q->customer) {
        if (q->customer > r->m->ncust)
            return cxm_err_field(err, CXM_ENOTFOUND, -1, "customer_id", "no customer %u",
                                 q->customer);
        rc = customer_rows(r, q->customer, &nodes, &nn);
    }
    bool want_nps = r->metric == M_LOYALTY ||
                    (f && (filter_fields_used(f) >> D_NPS_CATEGORY & 1));
    for (int k = 0; k < r->ndims; k++)
        want_nps |= r->dims[k] == D_NPS_CATEGORY;
    /* the profiles' fields, when the report reads any: customer metrics
     * read every customer's entry (full arrays) */
    bool need_prof = q->customer || (r->metric != M_NPS && r->metric != M_CSAT &&
                                     r->metric != M_CES && r->metric != M_RESPONSES &&
                                     r->metric != M_SENTIMENT && r->metric != M_PAIN);
    for (int k = 0; k < r->ndims; k++)
        need_prof |= profile_field(r->dims[k]);
    uint64_t fields = f ? filter_fields_used(f) : 0;
    for (int k = 0; k < NFILTER; k++)
        need_prof |= (fields >> k & 1) && profile_field(filter_ids[k]);
    if (!rc && need_prof)
        rc = build_profiles(r, nodes, nn, want_nps, !is_customer_metric(r->metric));
    free(nodes);
    if (!rc)
        rc = build_teams(r);
    if (rc)
        return cxm_err_set(err, rc, "out of memory");
    bool want_clv = r->metric == M_P_ALIVE || r->metric == M_CLV_PRED;
    uint64_t used = f ? filter_fields_used(f) : 0;
    for (int k = 0; k < NFILTER; k++)
        want_clv |= (used >> k & 1) && (filter_ids[k] == F_P_ALIVE ||
                                       filter_ids[k] == F_CLV_PRED);
    for (int k = 0; k < r->ndims; k++)
        want_clv |= r->dims[k] == D_P_ALIVE_BAND || r->dims[k] == D_CLV_BAND;
    if (want_clv) {
        size_t n = r->m->ncust + 1;
        if (!(r->palive = cxm_malloc(n * sizeof *r->palive)) ||
            !(r->pclv = cxm_malloc(n * sizeof *r->pclv)))
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        if ((rc = clv_predictions(r->m, r->palive, r->pclv)) == CXM_ENOTFOUND)
            return cxm_err_field(err, CXM_EINVAL, -1, r->metric == M_P_ALIVE ||
                                 r->metric == M_CLV_PRED ? "metric" : "by",
                                 "no CLV model: fit one first (cxm clv fit,"
                                 " POST /v1/clv/fit)");
        if (rc)
            return cxm_err_set(err, rc, "out of memory");
    }
    if (f && (rc = filter_bind(f, bind_text, r)))
        return cxm_err_set(err, rc, "out of memory");
    for (int k = 0; k < r->ndims; k++)
        if (r->dims[k] == D_CSAT_MEAN && (rc = csat_means(r, q, f)))
            return cxm_err_set(err, rc, "out of memory");
    if (!(r->map = strmap_new()))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    r->ref_ts = latest_ts(r->m);
    if (q->to - 1 < r->ref_ts)
        r->ref_ts = q->to - 1;
    json_t *rows = json_array();
    if (r->metric == M_COHORT) {
        if ((rc = cohort_rows(r, q, f, rows, err))) {
            json_decref(rows);
            return rc;
        }
        return finish_doc(r, q, rows, out);
    }
    if (r->metric == M_CONSISTENCY || r->metric == M_JOURNEY) {
        rc = r->metric == M_CONSISTENCY ? consistency_rows(r, q, f, rows, err)
                                        : journey_rows(r, q, f, rows, err);
        if (rc) {
            json_decref(rows);
            return rc;
        }
        return finish_doc(r, q, rows, out);
    }
    if (is_customer_metric(r->metric)) {
        if ((rc = customer_groups(r, q, f, err))) {
            json_decref(rows);
            return rc;
        }
        return finish_groups(r, q, rows, out, err);
    }
    /* sentiment and pain are of comments: read only the rows that have one */
    r->text_only = !r->one && !q->rows && (r->metric == M_SENTIMENT || r->metric == M_PAIN);
    struct dense dn;
    if (dense_setup(r, q, &dn)) {
        rc = dense_run(r, q, f, &dn, err);
        dense_free(&dn);
        if (rc) {
            json_decref(rows);
            return rc;
        }
        return finish_groups(r, q, rows, out, err);
    }
    dense_free(&dn);
    size_t x = 0, i;
    while ((i = scan_next(r, q, &x))) {
        if (!row_counts(r, q, f, i, false))
            continue;
        int64_t key[MAX_DIMS] = {0};
        int tk = -1;
        for (int k = 0; k < r->ndims; k++) {
            double v = field_of(r, r->dims[k], i);
            key[k] = isnan(v) ? 0 : (int64_t)v;
            tk = r->dims[k] == D_THEME || r->dims[k] == D_SEGMENT ? k : tk;
        }
        bool seg = tk >= 0 && r->dims[tk] == D_SEGMENT;
        uint64_t bits = tk < 0 ? 0 : seg ? root_segments(r, model_root(r->m, r->m->fc.cust[i]))
                                         : row_themes(r, i);
        if (r->metric == M_PAIN && !bits)
            continue;
        do {
            r->theme = -1;
            if (tk >= 0 && bits) {
                int b = __builtin_ctzll(bits);
                r->theme = seg ? -1 : b;
                key[tk] = b + 1;
                bits &= bits - 1;
            }
            struct group *g = group_of(r, key, true);
            if (!g) {
                json_decref(rows);
                return cxm_err_set(err, CXM_ETOOBIG, "more than %d groups: use"
                                   " fewer or coarser dimensions", MAX_ROWS);
            }
            if (accumulate(r, g, i)) {
                json_decref(rows);
                return cxm_err_set(err, CXM_ENOMEM, "out of memory");
            }
        } while (bits);
    }
    return finish_groups(r, q, rows, out, err);
}

/* The latest time in the data: "now" for the last period and for ages in
 * customer metrics, so that a report on old data reads the same later. */
static int64_t latest_ts(const struct model *m)
{
    return m->max_ts;
}

static int finish_doc(struct run *r, const struct report_query *q, json_t *rows, json_t **out)
{
    json_t *by = json_array();
    for (int k = 0; k < r->ndims; k++)
        json_array_append_new(by, json_string(dim_names[r->dims[k]]));
    json_t *doc = json_pack("{s:s, s:o, s:o, s:I, s:o}", "metric", metric_names[r->metric],
                            "by", by, "where", q->where && *q->where
                                                   ? json_string(q->where) : json_null(),
                            "seq", (json_int_t)r->m->last_seq, "rows", rows);
    if (q->from > 0) {
        char buf[TIMEFMT_LEN];
        timefmt_format(q->from, buf);
        json_object_set_new(doc, "from", json_string(buf));
    }
    if (q->to < INT64_MAX) {
        char buf[TIMEFMT_LEN];
        timefmt_format(q->to, buf);
        json_object_set_new(doc, "to", json_string(buf));
    }
    *out = doc;
    return CXM_OK;
}

/* Fills the gaps of a series, sorts the groups and turns them into rows. */
static int finish_groups(struct run *r, const struct report_query *q, json_t *rows,
                         json_t **out, struct cxm_err *err)
{
    if (fill_gaps(r)) {
        json_decref(rows);
        return cxm_err_set(err, CXM_ETOOBIG, "more than %d rows with every"
                           " period filled in: use a coarser time dimension or"
                           " a shorter period", MAX_ROWS);
    }
    /* the map's indexes die with the sort; previous periods are looked up
     * after it through a rebuilt map */
    if (r->ng)
        qsort_r(r->g, r->ng, sizeof *r->g, cmp_group, r);
    strmap_free(r->map);
    int rc = (r->map = strmap_new()) ? CXM_OK : CXM_ENOMEM;
    for (size_t i = 0; !rc && i < r->ng; i++)
        rc = strmap_put(r->map, (const char *)r->g[i].key, sizeof r->g[i].key, (uint32_t)i);
    if (rc) {
        json_decref(rows);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->ng; i++) {
        const struct group *prev = NULL;
        if (r->time_dim >= 0) {
            int64_t key[MAX_DIMS];
            memcpy(key, r->g[i].key, sizeof key);
            key[r->time_dim] = rb_start(r, key[r->time_dim] - 1, r->bucket);
            prev = group_of(r, key, false);
        }
        json_array_append_new(rows, row_json(r, &r->g[i], prev));
    }
    return finish_doc(r, q, rows, out);
}

int engine_report(struct engine *e, const struct report_query *q, json_t **out,
                  struct cxm_err *err)
{
    struct run r = {0};
    int rc = parse_metric(q->metric, &r.metric, err);
    if (!rc)
        rc = parse_dims(&r, q->by, err);
    if (rc)
        return rc;
    if (q->from >= q->to)
        return cxm_err_field(err, CXM_EINVAL, -1, "to", "the period is empty:"
                             " 'to' must be after 'from'");
    struct filter *f = NULL;
    if (q->where && *q->where) {
        struct cxm_err fe;
        cxm_err_clear(&fe);
        if (!(f = filter_parse(q->where, filter_fields, NFILTER, &fe))) {
            if (err) {
                cxm_err_field(err, fe.code, -1, "where", "where: %s", fe.msg);
            }
            return fe.code ? fe.code : CXM_EINVAL;
        }
    }
    if (is_customer_metric(r.metric) && (rc = check_customer_query(&r, f, err))) {
        filter_free(f);
        return rc;
    }
    bool by_theme = false, by_segment = false;
    for (int k = 0; k < r.ndims; k++) {
        by_theme |= r.dims[k] == D_THEME;
        by_segment |= r.dims[k] == D_SEGMENT;
    }
    if (by_theme && by_segment) {
        filter_free(f);
        return cxm_err_field(err, CXM_EINVAL, -1, "by", "theme and segment cannot be"
                             " combined: a row counts in several of each");
    }
    if (by_segment && is_customer_metric(r.metric)) {
        filter_free(f);
        return cxm_err_field(err, CXM_EINVAL, -1, "by", "segment is a dimension of"
                             " feedback metrics; filter customer metrics with"
                             " where=segment('id')");
    }
    if (r.metric == M_PAIN && !by_theme) {
        filter_free(f);
        return cxm_err_field(err, CXM_EINVAL, -1, "by", "pain is per theme: add theme"
                             " to by");
    }
    if (by_theme && r.metric != M_SENTIMENT && r.metric != M_PAIN &&
        r.metric != M_RESPONSES && r.metric != M_NPS && r.metric != M_CSAT &&
        r.metric != M_CES && r.metric != M_ENPS) {
        filter_free(f);
        return cxm_err_field(err, CXM_EINVAL, -1, "by", "theme is a dimension of"
                             " feedback metrics only");
    }
    /* eNPS answers are anonymous: never by the person who answered, and no
     * group small enough to point at someone (docs/team.md) */
    for (int k = 0; r.metric == M_ENPS && k < r.ndims; k++)
        if (r.dims[k] == D_AGENT) {
            filter_free(f);
            return cxm_err_field(err, CXM_EINVAL, -1, "by", "eNPS is anonymous: it has no"
                                 " per-person dimension; use team (GET /v1/team/enps hides"
                                 " small groups)");
        }
    r.theme = -1;
    r.profile_dims = true;
    for (int k = 0; k < r.ndims; k++) {
        enum dim d = r.dims[k];
        r.profile_dims &= d == D_COUNTRY || d == D_CITY || d == D_GENDER ||
                          d == D_NPS_CATEGORY || d == D_CSAT_MEAN || d == D_P_ALIVE_BAND ||
                          d == D_CLV_BAND;
    }
    r.tz = q->tz;
    r.has_fixed = !q->tz || tz_is_fixed(q->tz, &r.fixed);
    segments_rdlock(e);
    r.m = e->m;
    r.e = e;
    r.segs = e->segs;
    rc = run_report(&r, q, f, out, err);
    pthread_rwlock_unlock(&e->lock);
    atomic_fetch_add(r.from_rollup ? &e->reports_rollup : &e->reports_rows, 1);
    filter_free(f);
    strmap_free(r.map);
    arena_free(&r.keys);
    free(r.g);
    free(r.prof);
    free(r.agent_team);
    free(r.teams);
    free(r.rows);
    free(r.seen);
    free(r.counted);
    free(r.palive);
    free(r.pclv);
    return rc;
}

int report_parse_bound(const char *s, bool is_to, const struct tz *tz, int64_t *out,
                       struct cxm_err *err)
{
    struct cxm_err e;
    cxm_err_clear(&e);
    if (timefmt_parse(s, out, &e))
        return cxm_err_field(err, CXM_EINVAL, -1, is_to ? "to" : "from", "%s: %s",
                             is_to ? "to" : "from", e.msg);
    if (strlen(s) == 10) {   /* a date: its midnight in the report's zone, or the
                                next midnight (the end of that day) for to */
        int64_t local = *out + (is_to ? 86400 : 0);
        *out = tz ? tz_local_to_utc(tz, local) : local;
    }
    return CXM_OK;
}

/* Where the tz database is: the zone files of Debian's tzdata. */
#define ZONEINFO "/usr/share/zoneinfo/"
#define ZONE_FILE_MAX (1u << 20)

static bool zone_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '/' || strstr(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '/' || s[i] == '_' || s[i] == '-' ||
              s[i] == '+'))
            return false;
    return true;
}

int report_parse_tz(const char *s, struct tz **out, struct cxm_err *err)
{
    *out = NULL;
    if (!s || !*s || !strcmp(s, "UTC") || !strcmp(s, "Z"))
        return CXM_OK;
    int h, m;
    char sign, rest;
    if (sscanf(s, "%c%2d:%2d%c", &sign, &h, &m, &rest) == 3 && (sign == '+' || sign == '-') &&
        strlen(s) == 6 && h >= 0 && h <= 14 && m >= 0 && m < 60) {
        if (!(*out = tz_fixed((sign == '-' ? -1 : 1) * (int64_t)(h * 3600 + m * 60))))
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        return CXM_OK;
    }
    const char *hint = "tz: UTC, a fixed offset like +02:00, or a zone of the tz database"
                       " like Europe/Paris";
    if (!zone_name_ok(s))
        return cxm_err_field(err, CXM_EINVAL, -1, "tz", "%s", hint);
    char path[128];
    snprintf(path, sizeof path, ZONEINFO "%s", s);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cxm_err_field(err, CXM_EINVAL, -1, "tz", "no time zone '%s' (%s)", s, hint);
    unsigned char *buf = cxm_malloc(ZONE_FILE_MAX);
    size_t n = buf ? fread(buf, 1, ZONE_FILE_MAX, f) : 0;
    fclose(f);
    if (!buf)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    struct cxm_err e;
    cxm_err_clear(&e);
    int rc = tz_parse_tzif(buf, n, out, &e);
    free(buf);
    if (rc == CXM_ENOMEM)
        return cxm_err_set(err, rc, "out of memory");
    if (rc)
        return cxm_err_field(err, CXM_EINVAL, -1, "tz", "time zone '%s': %s", s, e.msg);
    return CXM_OK;
}

/* ---- benchmarks -------------------------------------------------------- */

/* [from, to) of a benchmark period: "YYYY", "YYYY-Qn", "YYYY-MM"; "" is
 * everything. */
static int period_range(const char *p, int64_t *from, int64_t *to)
{
    int y, n;
    char c;
    size_t len = strlen(p);
    if (!len) {
        *from = 0;
        *to = INT64_MAX;
        return CXM_OK;
    }
    if (len == 4 && sscanf(p, "%4d%c", &y, &c) == 1 && y >= 1970 && y <= 2100) {
        *from = timefmt_days_from_civil(y, 1, 1) * 86400;
        *to = timefmt_days_from_civil(y + 1, 1, 1) * 86400;
        return CXM_OK;
    }
    if (len == 7 && sscanf(p, "%4d-Q%1d%c", &y, &n, &c) == 2 && y >= 1970 && y <= 2100 &&
        n >= 1 && n <= 4) {
        *from = timefmt_days_from_civil(y, (unsigned)(3 * n - 2), 1) * 86400;
        *to = n == 4 ? timefmt_days_from_civil(y + 1, 1, 1) * 86400
                     : timefmt_days_from_civil(y, (unsigned)(3 * n + 1), 1) * 86400;
        return CXM_OK;
    }
    if (len == 7 && sscanf(p, "%4d-%2d%c", &y, &n, &c) == 2 && y >= 1970 && y <= 2100 &&
        n >= 1 && n <= 12 && p[4] == '-') {
        *from = timefmt_days_from_civil(y, (unsigned)n, 1) * 86400;
        *to = n == 12 ? timefmt_days_from_civil(y + 1, 1, 1) * 86400
                      : timefmt_days_from_civil(y, (unsigned)n + 1, 1) * 86400;
        return CXM_OK;
    }
    return CXM_EINVAL;
}

int benchmark_check(const struct store_benchmark *b, struct cxm_err *err)
{
    enum metric m;
    int64_t f, t;
    if (!b->name || !*b->name || strlen(b->name) > CXM_MAX_NAME)
        return cxm_err_field(err, CXM_EINVAL, -1, "name", "name is empty or longer"
                             " than %d bytes", CXM_MAX_NAME);
    if (parse_metric(b->metric, &m, err))
        return CXM_EINVAL;
    if (m == M_COHORT)
        return cxm_err_field(err, CXM_EINVAL, -1, "metric", "cohort has no single"
                             " value to compare");
    if (!b->period || period_range(b->period, &f, &t))
        return cxm_err_field(err, CXM_EINVAL, -1, "period", "period must be YYYY,"
                             " YYYY-Qn or YYYY-MM (or empty for all time)");
    if (b->segment && strlen(b->segment) > CXM_MAX_NAME)
        return cxm_err_field(err, CXM_EINVAL, -1, "segment", "segment is longer than"
                             " %d bytes", CXM_MAX_NAME);
    if (!isfinite(b->value))
        return cxm_err_field(err, CXM_EINVAL, -1, "value", "value must be a number");
    return CXM_OK;
}

int engine_benchmarks_compare(struct engine *e, const char *metric, json_t **out,
                              struct cxm_err *err)
{
    enum metric m;
    if (parse_metric(metric, &m, err))
        return CXM_EINVAL;
    /* copy this metric's benchmarks, then compute ours without the lock */
    json_t *list = json_array();
    pthread_rwlock_rdlock(&e->lock);
    for (size_t i = 0; i < e->m->nbench; i++) {
        const struct bench *b = &e->m->bench[i];
        if (strcmp(b->metric, metric) == 0)
            json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:f}", "name", b->name,
                                                  "period", b->period, "segment",
                                                  b->segment, "value", b->value));
    }
    pthread_rwlock_unlock(&e->lock);
    size_t i;
    json_t *row;
    json_array_foreach(list, i, row) {
        struct report_query q = {.metric = metric};
        const char *period = json_string_value(json_object_get(row, "period"));
        period_range(period, &q.from, &q.to);
        if (m == M_RETENTION || m == M_CHURN) {
            /* the period's own row; its next period must stay in view */
            size_t pl = strlen(period);
            q.by = pl == 4 ? "year" : pl == 7 && period[5] == 'Q' ? "quarter" : "month";
            q.to = INT64_MAX;
        }
        json_t *doc = NULL;
        int rc = engine_report(e, &q, &doc, err);
        if (rc) {
            json_decref(list);
            return rc;
        }
        json_t *r0 = json_array_get(json_object_get(doc, "rows"), 0);
        json_t *ours = r0 ? json_object_get(r0, "value") : NULL;
        if (ours && json_is_number(ours)) {
            double o = json_number_value(ours);
            json_object_set_new(row, "ours", json_real(o));
            json_object_set_new(row, "ours_n", json_incref(json_object_get(r0, "n")));
            json_object_set_new(row, "gap", json_real(o - json_real_value(json_object_get(row, "value"))));
        } else {
            json_object_set_new(row, "ours", json_null());
            json_object_set_new(row, "ours_n", json_integer(0));
            json_object_set_new(row, "gap", json_null());
        }
        if (json_string_length(json_object_get(row, "segment")) == 0)
            json_object_set_new(row, "segment", json_null());
        json_decref(doc);
    }
    *out = json_pack("{s:s, s:o}", "metric", metric, "rows", list);
    return CXM_OK;
}

/* ---- a filter over profiles, for other reads (journeys) --------------- */

struct cust_filter {
    struct run r;
    struct filter *f;
};

void cust_filter_free(struct cust_filter *cf)
{
    if (!cf)
        return;
    filter_free(cf->f);
    free(cf->r.prof);
    free(cf->r.palive);
    free(cf->r.pclv);
    free(cf);
}

int cust_filter_new(const struct engine *e, const char *where, struct cust_filter **out,
                    struct cxm_err *err)
{
    const struct model *m = e->m;
    *out = NULL;
    if (!where || !*where)
        return CXM_OK;
    struct cust_filter *cf = cxm_calloc(1, sizeof *cf);
    if (!cf)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    struct cxm_err fe;
    cxm_err_clear(&fe);
    if (!(cf->f = filter_parse(where, filter_fields, NFILTER, &fe))) {
        free(cf);
        return cxm_err_field(err, fe.code ? fe.code : CXM_EINVAL, -1, "where", "where: %s",
                             fe.msg);
    }
    uint64_t used = filter_fields_used(cf->f);
    bool nps = false, clv = false;
    for (int i = 0; i < NFILTER; i++) {
        if (!(used >> i & 1))
            continue;
        int d = filter_ids[i];
        nps |= d == D_NPS_CATEGORY;
        clv |= d == D_P_ALIVE_BAND || d == D_CLV_BAND || d == F_P_ALIVE || d == F_CLV_PRED;
        if (!customer_dim(d) && d != F_AGE && d != F_BIRTH_YEAR && d != F_P_ALIVE &&
            d != F_CLV_PRED && d != D_SEGMENT) {
            cust_filter_free(cf);
            return cxm_err_field(err, CXM_EINVAL, -1, "where", "where: '%s' describes"
                                 " answers; filter customers on country, city, gender,"
                                 " age_band, nps_category, p_alive_band, clv_band, age,"
                                 " birth_year, p_alive or clv_predicted",
                                 filter_fields[i].name);
        }
    }
    struct run *r = &cf->r;
    r->m = m;
    r->has_fixed = true;   /* UTC */
    r->segs = e->segs;
    r->ref_ts = latest_ts(m);
    r->theme = -1;
    int rc = build_profiles(r, NULL, 0, nps, false);
    if (!rc && clv) {
        size_t n = m->ncust + 1;
        if (!(r->palive = cxm_malloc(n * sizeof *r->palive)) ||
            !(r->pclv = cxm_malloc(n * sizeof *r->pclv)))
            rc = CXM_ENOMEM;
        else if ((rc = clv_predictions(m, r->palive, r->pclv)) == CXM_ENOTFOUND) {
            cust_filter_free(cf);
            return cxm_err_field(err, CXM_EINVAL, -1, "where", "no CLV model: fit one"
                                 " first (cxm clv fit, POST /v1/clv/fit)");
        }
    }
    if (!rc)
        rc = filter_bind(cf->f, bind_text, r);
    if (rc) {
        cust_filter_free(cf);
        return cxm_err_set(err, rc, "out of memory");
    }
    *out = cf;
    return CXM_OK;
}

bool cust_filter_pass(struct cust_filter *cf, uint32_t root)
{
    return !cf || cust_passes(&cf->r, cf->f, root);
}

/* ---- the values of the dimensions --------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The strings of dictionary d whose codes are marked in used (every code
 * when used is NULL), sorted, as a JSON array. */
static json_t *dict_values(const struct dict *d, const unsigned char *used)
{
    uint32_t n = dict_count(d);
    const char **v = cxm_malloc((n + 1) * sizeof *v);
    json_t *a = json_array();
    if (!v || !a) {
        free(v);
        json_decref(a);
        return NULL;
    }
    size_t k = 0;
    for (uint32_t c = 1; c <= n; c++) {
        const char *s = dict_str(d, c);
        if (s && (!used || used[c]))
            v[k++] = s;
    }
    qsort(v, k, sizeof *v, cmp_str);
    for (size_t i = 0; i < k; i++)
        json_array_append_new(a, json_string(v[i]));
    free(v);
    return a;
}

int engine_dimensions(struct engine *e, json_t **out, struct cxm_err *err)
{
    static const struct { const char *name; int ru, dict; } fb[] = {
        {"channel", RU_CHANNEL, DICT_CHANNEL}, {"touchpoint", RU_TOUCHPOINT, DICT_TOUCHPOINT},
        {"stage", RU_STAGE, DICT_STAGE}};
    json_t *doc = json_object();
    bool ok = doc != NULL;
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    for (size_t k = 0; ok && k < sizeof fb / sizeof fb[0]; k++) {
        /* the values answers were given at: the rollup's cells name them */
        unsigned char *used = cxm_calloc(CXM_MAX_DICT + 1, 1);
        const struct rollup *ru = &m->ru[fb[k].ru];
        for (size_t i = 0; used && i < ru->n; i++)
            used[ru->cell[i].value] = 1;
        json_t *a = used ? dict_values(m->dict[fb[k].dict], used) : NULL;
        free(used);
        ok = a && !json_object_set_new(doc, fb[k].name, a);
    }
    static const struct { const char *name; int cd; } cu[] = {
        {"country", CD_COUNTRY}, {"gender", CD_GENDER}};
    for (size_t k = 0; ok && k < sizeof cu / sizeof cu[0]; k++) {
        json_t *a = dict_values(m->cdict[cu[k].cd], NULL);
        ok = a && !json_object_set_new(doc, cu[k].name, a);
    }
    int64_t seq = m->last_seq;
    pthread_rwlock_unlock(&e->lock);
    if (ok)
        ok = !json_object_set_new(doc, "seq", json_integer(seq));
    if (!ok) {
        json_decref(doc);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    *out = doc;
    return CXM_OK;
}
