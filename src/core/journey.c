/* journey.c - see journey.h */
#include "core/journey.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Two-sided 95% quantile of the normal distribution (as metrics.c). */
#define Z95 1.96
/* Below this many events insertion sort beats a merge sort's buffer:
 * most customers have a handful of events. */
#define SORT_INSERTION_MAX 24

/* ---- sorting and episodes ------------------------------------------------ */

static void insertion_sort(struct jevent *ev, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct jevent x = ev[i];
        size_t j = i;
        /* strictly greater: equal times keep their order (stable) */
        while (j > 0 && ev[j - 1].ts > x.ts) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = x;
    }
}

/* Merges the sorted runs a[0..na) and b[0..nb) into out, taking from a on
 * ties so the merge is stable. */
static void merge(const struct jevent *a, size_t na, const struct jevent *b, size_t nb,
                  struct jevent *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb)
        out[k++] = b[j].ts < a[i].ts ? b[j++] : a[i++];
    while (i < na)
        out[k++] = a[i++];
    while (j < nb)
        out[k++] = b[j++];
}

int journey_sort(struct jevent *ev, size_t n)
{
    size_t i = 1;
    while (i < n && ev[i - 1].ts <= ev[i].ts)
        i++;
    if (i >= n)
        return CXM_OK;   /* already in order: the usual case */
    if (n <= SORT_INSERTION_MAX) {
        insertion_sort(ev, n);
        return CXM_OK;
    }
    size_t bytes;
    if (!cxm_mul_size(n, sizeof *ev, &bytes))
        return CXM_ENOMEM;
    struct jevent *tmp = cxm_malloc(bytes);
    if (!tmp)
        return CXM_ENOMEM;
    /* bottom-up: sorted runs of SORT_INSERTION_MAX, then merges that
     * alternate between ev and tmp */
    for (size_t s = 0; s < n; s += SORT_INSERTION_MAX)
        insertion_sort(ev + s, n - s < SORT_INSERTION_MAX ? n - s : SORT_INSERTION_MAX);
    struct jevent *src = ev, *dst = tmp;
    for (size_t w = SORT_INSERTION_MAX; w < n; w = w > n / 2 ? n : 2 * w) {
        for (size_t s = 0; s < n; s += 2 * w) {
            size_t na = n - s < w ? n - s : w;
            size_t nb = n - s - na < w ? n - s - na : w;
            merge(src + s, na, src + s + na, nb, dst + s);
        }
        struct jevent *t = src;
        src = dst;
        dst = t;
    }
    if (src != ev)
        memcpy(ev, src, bytes);
    free(tmp);
    return CXM_OK;
}

size_t journey_episodes(const struct jevent *ev, size_t n, uint32_t gap, uint32_t *starts)
{
    if (n == 0)
        return 0;
    size_t ne = 0;
    starts[ne++] = 0;
    for (size_t i = 1; i < n; i++)
        /* more than the gap; exactly the gap stays in the episode. The
         * subtraction is unsigned: sorted input never wraps. */
        if (ev[i].ts - ev[i - 1].ts > gap)
            starts[ne++] = (uint32_t)i;
    return ne;
}

bool journey_sat(const struct jevent *ep, size_t n, double *mean)
{
    double s = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(ep[i].sat)) {
            s += ep[i].sat;
            k++;
        }
    if (!k)
        return false;
    *mean = s / (double)k;
    return true;
}

static bool any_purchase(const struct jevent *ep, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ep[i].purchase)
            return true;
    return false;
}

/* Percent k / n; 0 when n = 0 (callers say has_* separately). */
static double pct(uint64_t k, uint64_t n)
{
    return n ? 100.0 * (double)k / (double)n : 0;
}

/* ---- funnel -------------------------------------------------------------- */

#define NO_RANK UINT8_MAX

struct times {
    uint32_t *v;
    size_t n, cap;
};

struct funnel {
    size_t nstages;
    uint16_t order[JOURNEY_MAX_STAGES];
    uint8_t *rank;     /* stage code -> position, NO_RANK when not in the order */
    size_t nrank;      /* codes covered by rank */
    uint64_t episodes;
    uint64_t reached[JOURNEY_MAX_STAGES], beyond[JOURNEY_MAX_STAGES];
    uint64_t converted[JOURNEY_MAX_STAGES];
    struct times t[JOURNEY_MAX_STAGES];
};

struct funnel *funnel_new(const uint16_t *stage_order, size_t nstages)
{
    if (nstages == 0 || nstages > JOURNEY_MAX_STAGES)
        return NULL;
    size_t max = 0;
    for (size_t k = 0; k < nstages; k++) {
        if (stage_order[k] == JOURNEY_NO_STAGE)
            return NULL;
        if (stage_order[k] > max)
            max = stage_order[k];
    }
    struct funnel *f = cxm_calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->nrank = max + 1;
    f->rank = cxm_malloc(f->nrank);
    if (!f->rank) {
        free(f);
        return NULL;
    }
    memset(f->rank, NO_RANK, f->nrank);
    f->nstages = nstages;
    for (size_t k = 0; k < nstages; k++) {
        if (f->rank[stage_order[k]] != NO_RANK) {
            funnel_free(f);
            return NULL;
        }
        f->rank[stage_order[k]] = (uint8_t)k;
        f->order[k] = stage_order[k];
    }
    return f;
}

void funnel_free(struct funnel *f)
{
    if (!f)
        return;
    for (size_t k = 0; k < JOURNEY_MAX_STAGES; k++)
        free(f->t[k].v);
    free(f->rank);
    free(f);
}

void funnel_summarise(const struct funnel *f, const struct jevent *ep, size_t n,
                      struct funnel_ep *out)
{
    uint64_t seen = 0, done = 0;
    uint32_t first[JOURNEY_MAX_STAGES];
    for (size_t i = 0; i < n; i++) {
        if (ep[i].stage >= f->nrank || f->rank[ep[i].stage] == NO_RANK)
            continue;
        size_t r = f->rank[ep[i].stage];
        /* conversion into r: the first r event after the first r-1 event */
        if (r > 0 && (seen >> (r - 1) & 1) && !(done >> (r - 1) & 1)) {
            done |= UINT64_C(1) << (r - 1);
            out->time[r - 1] = ep[i].ts - first[r - 1];
        }
        if (!(seen >> r & 1)) {
            seen |= UINT64_C(1) << r;
            first[r] = ep[i].ts;
        }
    }
    out->reached = seen;
    out->converted = done;
}

int funnel_add_counts(struct funnel *f, uint64_t reached, uint64_t converted, uint64_t n)
{
    uint64_t all = f->nstages == 64 ? UINT64_MAX : (UINT64_C(1) << f->nstages) - 1;
    f->episodes += n;
    if ((reached &= all)) {
        int top = 63 - __builtin_clzll(reached);
        for (int k = 0; k <= top; k++)
            f->beyond[k] += n;
        for (uint64_t r = reached; r; r &= r - 1)
            f->reached[__builtin_ctzll(r)] += n;
    }
    for (uint64_t c = converted & all; c; c &= c - 1)
        f->converted[__builtin_ctzll(c)] += n;
    return CXM_OK;
}

int funnel_add_times(struct funnel *f, size_t k, const uint32_t *time, size_t n)
{
    if (k >= f->nstages)
        return CXM_EINVAL;
    struct times *t = &f->t[k];
    if (n && cxm_grow((void **)&t->v, &t->cap, t->n + n, sizeof *t->v))
        return CXM_ENOMEM;
    if (n)
        memcpy(t->v + t->n, time, n * sizeof *time);
    t->n += n;
    return CXM_OK;
}

int funnel_add_ep(struct funnel *f, const struct funnel_ep *s)
{
    int rc = funnel_add_counts(f, s->reached, s->converted, 1);
    uint64_t all = f->nstages == 64 ? UINT64_MAX : (UINT64_C(1) << f->nstages) - 1;
    for (uint64_t c = s->converted & all; c; c &= c - 1) {
        int k = __builtin_ctzll(c);
        int rt = funnel_add_times(f, (size_t)k, &s->time[k], 1);
        rc = rc ? rc : rt;
    }
    return rc;
}

int funnel_add(struct funnel *f, const struct jevent *ep, size_t n)
{
    if (n == 0)
        return CXM_EINVAL;
    struct funnel_ep s;
    funnel_summarise(f, ep, n, &s);
    return funnel_add_ep(f, &s);
}

uint64_t funnel_episodes(const struct funnel *f)
{
    return f->episodes;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts x ascending: a radix sort of three 11-bit digits on long lists
 * (linear: a funnel's times are up to one per episode), qsort on short
 * ones or when the buffer cannot be had. */
static void sort_u32(uint32_t *x, size_t n)
{
    uint32_t *tmp = n > 4096 ? cxm_malloc(n * sizeof *tmp) : NULL;
    if (!tmp) {
        qsort(x, n, sizeof *x, u32_cmp);
        return;
    }
    uint32_t *src = x, *dst = tmp;
    for (int shift = 0; shift < 33; shift += 11) {
        size_t count[2048] = {0};
        for (size_t i = 0; i < n; i++)
            count[src[i] >> shift & 2047]++;
        size_t sum = 0;
        for (size_t d = 0; d < 2048; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[src[i] >> shift & 2047]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != x)
        memcpy(x, src, n * sizeof *x);
    free(tmp);
}

double journey_quantile(const uint32_t *x, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo >= n - 1)
        return x[n - 1];
    double frac = pos - (double)lo;
    return (double)x[lo] + frac * ((double)x[lo + 1] - (double)x[lo]);
}

void funnel_result(struct funnel *f, struct funnel_stage *out)
{
    for (size_t k = 0; k < f->nstages; k++) {
        struct funnel_stage *s = &out[k];
        memset(s, 0, sizeof *s);
        s->stage = f->order[k];
        s->reached = f->reached[k];
        s->reached_or_beyond = f->beyond[k];
        if (k + 1 == f->nstages)
            continue;
        s->converted = f->converted[k];
        s->has_rate = s->reached > 0;
        s->rate = pct(s->converted, s->reached);
        struct times *t = &f->t[k];
        if (t->n) {
            sort_u32(t->v, t->n);
            s->median = journey_quantile(t->v, t->n, 0.5);
            s->p90 = journey_quantile(t->v, t->n, 0.9);
            s->has_times = true;
        }
    }
}

/* ---- flows --------------------------------------------------------------- */

struct flows {
    size_t ntp;
    bool self_links;
    uint64_t *link;   /* ntp x ntp, row = from */
    uint64_t *volume, *out, *self;
};

struct flows *flows_new(size_t ntouchpoints, bool self_links)
{
    if (ntouchpoints == 0 || ntouchpoints > JOURNEY_MAX_FLOW_TP)
        return NULL;
    struct flows *f = cxm_calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->ntp = ntouchpoints;
    f->self_links = self_links;
    f->link = cxm_calloc(ntouchpoints * ntouchpoints, sizeof *f->link);
    f->volume = cxm_calloc(ntouchpoints, sizeof *f->volume);
    f->out = cxm_calloc(ntouchpoints, sizeof *f->out);
    f->self = cxm_calloc(ntouchpoints, sizeof *f->self);
    if (!f->link || !f->volume || !f->out || !f->self) {
        flows_free(f);
        return NULL;
    }
    return f;
}

void flows_free(struct flows *f)
{
    if (!f)
        return;
    free(f->link);
    free(f->volume);
    free(f->out);
    free(f->self);
    free(f);
}

/* The transition a -> b (a is 0 before an episode's first event). */
static inline void flows_step(struct flows *f, size_t a, size_t b, bool first)
{
    f->volume[b]++;
    if (first)
        return;
    if (a == b) {
        f->self[a]++;
        if (!f->self_links)
            return;
    }
    f->link[a * f->ntp + b]++;
    f->out[a]++;
}

int flows_add(struct flows *f, const struct jevent *ep, size_t n)
{
    if (n == 0)
        return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (ep[i].touchpoint >= f->ntp)
            return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        flows_step(f, i ? ep[i - 1].touchpoint : 0, ep[i].touchpoint, i == 0);
    return CXM_OK;
}

int flows_add_tp(struct flows *f, const uint16_t *tp, size_t n)
{
    if (n == 0)
        return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (tp[i] >= f->ntp)
            return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        flows_step(f, i ? tp[i - 1] : 0, tp[i], i == 0);
    return CXM_OK;
}

/* Out-of-range codes read as 0, like a touchpoint never seen. */
uint64_t flows_volume(const struct flows *f, uint16_t tp)
{
    return tp < f->ntp ? f->volume[tp] : 0;
}

uint64_t flows_out(const struct flows *f, uint16_t tp)
{
    return tp < f->ntp ? f->out[tp] : 0;
}

uint64_t flows_self(const struct flows *f, uint16_t tp)
{
    return tp < f->ntp ? f->self[tp] : 0;
}

uint64_t flows_link(const struct flows *f, uint16_t from, uint16_t to)
{
    return from < f->ntp && to < f->ntp ? f->link[(size_t)from * f->ntp + to] : 0;
}

static int link_cmp(const void *a, const void *b)
{
    const struct flow_link *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    return (x->to > y->to) - (x->to < y->to);
}

int flows_top(const struct flows *f, size_t k, struct flow_link *out, size_t *nout,
              uint64_t *other_count, uint64_t *other_links)
{
    *nout = 0;
    *other_count = 0;
    *other_links = 0;
    size_t nl = 0;
    for (size_t i = 0; i < f->ntp * f->ntp; i++)
        nl += f->link[i] != 0;
    if (nl == 0)
        return CXM_OK;
    struct flow_link *all = cxm_malloc(nl * sizeof *all);
    if (!all)
        return CXM_ENOMEM;
    size_t m = 0;
    for (size_t a = 0; a < f->ntp; a++)
        for (size_t b = 0; b < f->ntp; b++) {
            uint64_t c = f->link[a * f->ntp + b];
            if (c)
                all[m++] = (struct flow_link){(uint16_t)a, (uint16_t)b, c,
                                              pct(c, f->out[a])};
        }
    qsort(all, nl, sizeof *all, link_cmp);
    size_t take = k < nl ? k : nl;
    memcpy(out, all, take * sizeof *all);
    *nout = take;
    for (size_t i = take; i < nl; i++)
        *other_count += all[i].count;
    *other_links = nl - take;
    free(all);
    return CXM_OK;
}

/* ---- paths --------------------------------------------------------------- */

struct path_entry {
    uint64_t hash;
    uint16_t tp[JOURNEY_MAX_PATH];
    uint8_t len;
    bool truncated;
    uint64_t episodes, purchases, sat_n;
    double sat_sum;
    uint64_t churn_n, churned;   /* episodes whose churn is known; churned */
};

struct paths {
    size_t max_len;
    struct path_entry *e;
    size_t n, cap;
    uint32_t *slot;   /* open addressing: entry index + 1, 0 when empty */
    size_t nslot;     /* power of two, kept at least twice n */
};

struct paths *paths_new(size_t max_len)
{
    if (max_len == 0 || max_len > JOURNEY_MAX_PATH)
        return NULL;
    struct paths *p = cxm_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->max_len = max_len;
    p->nslot = 64;
    p->slot = cxm_calloc(p->nslot, sizeof *p->slot);
    if (!p->slot) {
        free(p);
        return NULL;
    }
    return p;
}

void paths_free(struct paths *p)
{
    if (!p)
        return;
    free(p->e);
    free(p->slot);
    free(p);
}

size_t paths_count(const struct paths *p)
{
    return p->n;
}

/* FNV-1a over the path then a 64-bit finaliser, so the low bits that pick
 * the slot depend on every touchpoint. */
static uint64_t path_hash(const uint16_t *tp, size_t len, bool truncated)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    h = (h ^ (len * 2 + truncated)) * UINT64_C(0x100000001b3);
    for (size_t i = 0; i < len; i++)
        h = (h ^ tp[i]) * UINT64_C(0x100000001b3);
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

static int paths_rehash(struct paths *p)
{
    size_t ns = p->nslot * 2;
    uint32_t *s = cxm_calloc(ns, sizeof *s);
    if (!s)
        return CXM_ENOMEM;
    for (size_t i = 0; i < p->n; i++) {
        size_t j = p->e[i].hash & (ns - 1);
        while (s[j])
            j = (j + 1) & (ns - 1);
        s[j] = (uint32_t)(i + 1);
    }
    free(p->slot);
    p->slot = s;
    p->nslot = ns;
    return CXM_OK;
}

int paths_add(struct paths *p, const struct jevent *ep, size_t n)
{
    return paths_add_churn(p, ep, n, -1);
}

/* Counts one episode whose collapsed path is tp[0..len). */
static int paths_count_one(struct paths *p, const uint16_t *tp, size_t len, bool truncated,
                           bool purchase, const double *sat, int churned)
{
    uint64_t h = path_hash(tp, len, truncated);
    struct path_entry *e = NULL;
    size_t j = h & (p->nslot - 1);
    for (; p->slot[j]; j = (j + 1) & (p->nslot - 1)) {
        struct path_entry *c = &p->e[p->slot[j] - 1];
        if (c->hash == h && c->len == len && c->truncated == truncated &&
            !memcmp(c->tp, tp, len * sizeof *tp)) {
            e = c;
            break;
        }
    }
    if (!e) {
        if (p->n >= UINT32_MAX - 1)
            return CXM_ETOOBIG;
        if (cxm_grow((void **)&p->e, &p->cap, p->n + 1, sizeof *p->e))
            return CXM_ENOMEM;
        /* at most half full, so probes stay short and always end */
        if ((p->n + 1) * 2 > p->nslot) {
            if (paths_rehash(p))
                return CXM_ENOMEM;
            for (j = h & (p->nslot - 1); p->slot[j]; j = (j + 1) & (p->nslot - 1))
                ;
        }
        e = &p->e[p->n];
        memset(e, 0, sizeof *e);
        e->hash = h;
        memcpy(e->tp, tp, len * sizeof *tp);
        e->len = (uint8_t)len;
        e->truncated = truncated;
        p->slot[j] = (uint32_t)++p->n;
    }
    e->episodes++;
    e->purchases += purchase;
    if (churned >= 0) {
        e->churn_n++;
        e->churned += (uint64_t)churned;
    }
    if (sat) {
        e->sat_n++;
        e->sat_sum += *sat;
    }
    return CXM_OK;
}

/* Appends touchpoint t to the collapsed path; false when it is full (the
 * path is then truncated). */
static inline bool path_push(const struct paths *p, uint16_t *path, size_t *len,
                             bool *truncated, uint16_t t)
{
    if (*len && path[*len - 1] == t)
        return true;
    if (*len == p->max_len) {
        *truncated = true;
        return false;
    }
    path[(*len)++] = t;
    return true;
}

int paths_add_churn(struct paths *p, const struct jevent *ep, size_t n, int churned)
{
    if (n == 0 || churned < -1 || churned > 1)
        return CXM_EINVAL;
    uint16_t tp[JOURNEY_MAX_PATH];
    size_t len = 0;
    bool truncated = false;
    for (size_t i = 0; i < n && path_push(p, tp, &len, &truncated, ep[i].touchpoint); i++)
        ;
    double s;
    bool has_sat = journey_sat(ep, n, &s);
    return paths_count_one(p, tp, len, truncated, any_purchase(ep, n), has_sat ? &s : NULL,
                           churned);
}

int paths_add_tp(struct paths *p, const uint16_t *tps, size_t n, bool purchase,
                 const double *sat, int churned)
{
    if (n == 0 || churned < -1 || churned > 1)
        return CXM_EINVAL;
    uint16_t tp[JOURNEY_MAX_PATH];
    size_t len = 0;
    bool truncated = false;
    for (size_t i = 0; i < n && path_push(p, tp, &len, &truncated, tps[i]); i++)
        ;
    return paths_count_one(p, tp, len, truncated, purchase, sat, churned);
}

static int path_cmp(const void *a, const void *b)
{
    const struct path_entry *x = *(const struct path_entry *const *)a;
    const struct path_entry *y = *(const struct path_entry *const *)b;
    if (x->episodes != y->episodes)
        return x->episodes > y->episodes ? -1 : 1;
    size_t m = x->len < y->len ? x->len : y->len;
    for (size_t i = 0; i < m; i++)
        if (x->tp[i] != y->tp[i])
            return x->tp[i] < y->tp[i] ? -1 : 1;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (int)x->truncated - (int)y->truncated;
}

int paths_top(const struct paths *p, size_t k, struct path_row *out, size_t *nout)
{
    *nout = 0;
    if (p->n == 0)
        return CXM_OK;
    const struct path_entry **v = cxm_malloc(p->n * sizeof *v);
    if (!v)
        return CXM_ENOMEM;
    for (size_t i = 0; i < p->n; i++)
        v[i] = &p->e[i];
    qsort(v, p->n, sizeof *v, path_cmp);
    size_t take = k < p->n ? k : p->n;
    for (size_t i = 0; i < take; i++) {
        const struct path_entry *e = v[i];
        struct path_row *r = &out[i];
        memset(r, 0, sizeof *r);
        memcpy(r->tp, e->tp, e->len * sizeof *e->tp);
        r->len = e->len;
        r->truncated = e->truncated;
        r->episodes = e->episodes;
        r->purchases = e->purchases;
        r->conversion = pct(e->purchases, e->episodes);
        r->sat_n = e->sat_n;
        r->sat_mean = e->sat_n ? e->sat_sum / (double)e->sat_n : 0;
        r->churn_n = e->churn_n;
        r->churn = pct(e->churned, e->churn_n);
    }
    *nout = take;
    free(v);
    return CXM_OK;
}

/* ---- drop-offs ----------------------------------------------------------- */

struct dropoffs {
    size_t ntp, nch;
    uint16_t goal;
    uint64_t episodes, abandoned;
    uint64_t *cell;   /* ntp x nch, row = touchpoint */
};

struct dropoffs *dropoffs_new(size_t ntouchpoints, size_t nchannels, uint16_t goal)
{
    size_t cells;
    if (ntouchpoints == 0 || nchannels == 0 || !cxm_mul_size(ntouchpoints, nchannels, &cells) ||
        cells > JOURNEY_MAX_CELLS)
        return NULL;
    struct dropoffs *d = cxm_calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cell = cxm_calloc(cells, sizeof *d->cell);
    if (!d->cell) {
        free(d);
        return NULL;
    }
    d->ntp = ntouchpoints;
    d->nch = nchannels;
    d->goal = goal;
    return d;
}

void dropoffs_free(struct dropoffs *d)
{
    if (!d)
        return;
    free(d->cell);
    free(d);
}

int dropoffs_add(struct dropoffs *d, const struct jevent *ep, size_t n)
{
    if (n == 0)
        return CXM_EINVAL;
    bool reached = false;
    for (size_t i = 0; i < n && !reached; i++)
        reached = d->goal == JOURNEY_GOAL_PURCHASE ? ep[i].purchase != 0
                                                   : ep[i].stage == d->goal;
    return dropoffs_add_last(d, ep[n - 1].touchpoint, ep[n - 1].channel, reached);
}

int dropoffs_add_last(struct dropoffs *d, uint16_t tp, uint16_t channel, bool reached)
{
    if (tp >= d->ntp || channel >= d->nch)
        return CXM_EINVAL;
    d->episodes++;
    if (reached)
        return CXM_OK;
    d->abandoned++;
    d->cell[(size_t)tp * d->nch + channel]++;
    return CXM_OK;
}

uint16_t dropoffs_goal(const struct dropoffs *d)
{
    return d->goal;
}

uint64_t dropoffs_episodes(const struct dropoffs *d)
{
    return d->episodes;
}

uint64_t dropoffs_abandoned(const struct dropoffs *d)
{
    return d->abandoned;
}

uint64_t dropoffs_by_tp(const struct dropoffs *d, uint16_t tp)
{
    uint64_t s = 0;
    if (tp < d->ntp)
        for (size_t c = 0; c < d->nch; c++)
            s += d->cell[(size_t)tp * d->nch + c];
    return s;
}

uint64_t dropoffs_by_channel(const struct dropoffs *d, uint16_t ch)
{
    uint64_t s = 0;
    if (ch < d->nch)
        for (size_t t = 0; t < d->ntp; t++)
            s += d->cell[t * d->nch + ch];
    return s;
}

static int drop_cmp(const void *a, const void *b)
{
    const struct dropoff_row *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->tp != y->tp)
        return x->tp < y->tp ? -1 : 1;
    return (x->channel > y->channel) - (x->channel < y->channel);
}

int dropoffs_top(const struct dropoffs *d, size_t k, struct dropoff_row *out, size_t *nout)
{
    *nout = 0;
    size_t cells = d->ntp * d->nch, nz = 0;
    for (size_t i = 0; i < cells; i++)
        nz += d->cell[i] != 0;
    if (nz == 0)
        return CXM_OK;
    struct dropoff_row *all = cxm_malloc(nz * sizeof *all);
    if (!all)
        return CXM_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < cells; i++)
        if (d->cell[i])
            all[m++] = (struct dropoff_row){(uint16_t)(i / d->nch), (uint16_t)(i % d->nch),
                                            d->cell[i], pct(d->cell[i], d->abandoned)};
    qsort(all, nz, sizeof *all, drop_cmp);
    size_t take = k < nz ? k : nz;
    memcpy(out, all, take * sizeof *all);
    *nout = take;
    free(all);
    return CXM_OK;
}

/* ---- friction ------------------------------------------------------------ */

struct friction {
    size_t ntp;
    uint64_t episodes, outcomes;
    uint64_t *n_with, *k_with;
    uint64_t *stamp;   /* episode number that last counted the touchpoint */
};

struct friction *friction_new(size_t ntouchpoints)
{
    if (ntouchpoints == 0 || ntouchpoints > JOURNEY_MAX_CELLS)
        return NULL;
    struct friction *f = cxm_calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->ntp = ntouchpoints;
    f->n_with = cxm_calloc(ntouchpoints, sizeof *f->n_with);
    f->k_with = cxm_calloc(ntouchpoints, sizeof *f->k_with);
    f->stamp = cxm_calloc(ntouchpoints, sizeof *f->stamp);
    if (!f->n_with || !f->k_with || !f->stamp) {
        friction_free(f);
        return NULL;
    }
    return f;
}

void friction_free(struct friction *f)
{
    if (!f)
        return;
    free(f->n_with);
    free(f->k_with);
    free(f->stamp);
    free(f);
}

/* Counts touchpoint t for the current episode, once. */
static inline void friction_mark(struct friction *f, size_t t, bool outcome)
{
    if (f->stamp[t] == f->episodes)
        return;
    f->stamp[t] = f->episodes;
    f->n_with[t]++;
    f->k_with[t] += outcome;
}

int friction_add(struct friction *f, const struct jevent *ep, size_t n, bool outcome)
{
    if (n == 0)
        return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (ep[i].touchpoint >= f->ntp)
            return CXM_EINVAL;
    f->episodes++;
    f->outcomes += outcome;
    for (size_t i = 0; i < n; i++)
        friction_mark(f, ep[i].touchpoint, outcome);
    return CXM_OK;
}

int friction_add_tp(struct friction *f, const uint16_t *tp, size_t n, bool outcome)
{
    if (n == 0)
        return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (tp[i] >= f->ntp)
            return CXM_EINVAL;
    f->episodes++;
    f->outcomes += outcome;
    for (size_t i = 0; i < n; i++)
        friction_mark(f, tp[i], outcome);
    return CXM_OK;
}

int friction_add_tp_each(struct friction *const *f, size_t nf, const uint16_t *tp, size_t n,
                         const bool *outcome, const bool *counted)
{
    if (n == 0)
        return CXM_EINVAL;
    for (size_t o = 0; o < nf; o++)
        for (size_t i = 0; counted[o] && i < n; i++)
            if (tp[i] >= f[o]->ntp)
                return CXM_EINVAL;
    for (size_t o = 0; o < nf; o++)
        if (counted[o]) {
            f[o]->episodes++;
            f[o]->outcomes += outcome[o];
        }
    for (size_t i = 0; i < n; i++)
        for (size_t o = 0; o < nf; o++)
            if (counted[o])
                friction_mark(f[o], tp[i], outcome[o]);
    return CXM_OK;
}

int friction_add_counts(struct friction *f, const uint64_t *n_with, const uint64_t *k_with,
                        size_t ntp, uint64_t episodes, uint64_t outcomes)
{
    if (ntp > f->ntp || outcomes > episodes)
        return CXM_EINVAL;
    for (size_t t = 0; t < ntp; t++)
        if (k_with[t] > n_with[t] || n_with[t] > episodes)
            return CXM_EINVAL;
    for (size_t t = 0; t < ntp; t++) {
        f->n_with[t] += n_with[t];
        f->k_with[t] += k_with[t];
    }
    /* the stamps are of earlier episodes and stay below the count */
    f->episodes += episodes;
    f->outcomes += outcomes;
    return CXM_OK;
}

struct friction_row friction_result(const struct friction *f, uint16_t tp)
{
    struct friction_row r = {0};
    if (tp >= f->ntp) {
        r.n_without = f->episodes;
        r.k_without = f->outcomes;
    } else {
        r.n_with = f->n_with[tp];
        r.k_with = f->k_with[tp];
        r.n_without = f->episodes - r.n_with;
        r.k_without = f->outcomes - r.k_with;
    }
    if (r.n_with == 0 || r.n_without == 0)
        return r;
    double p1 = (double)r.k_with / (double)r.n_with;
    double p0 = (double)r.k_without / (double)r.n_without;
    double se = sqrt(p1 * (1 - p1) / (double)r.n_with + p0 * (1 - p0) / (double)r.n_without);
    r.rate_with = 100 * p1;
    r.rate_without = 100 * p0;
    r.lift = r.rate_with - r.rate_without;
    r.lo = r.lift - Z95 * 100 * se;
    r.hi = r.lift + Z95 * 100 * se;
    r.has_value = true;
    return r;
}

/* ---- designed vs actual ------------------------------------------------ */

struct conformance {
    size_t ns, ntp, nsc;
    int16_t *index;            /* stage code -> design index, -1: undeclared */
    uint8_t *expect;           /* [k * ntp + tp]: 1 expected; row of 0s: any */
    bool *any;                 /* stage k expects any touchpoint */
    uint64_t *skipped, *backward, *unexpected, *undeclared;
    struct conformance_totals t;
};

void conformance_free(struct conformance *c)
{
    if (!c)
        return;
    free(c->index);
    free(c->expect);
    free(c->any);
    free(c->skipped);
    free(c->backward);
    free(c->unexpected);
    free(c->undeclared);
    free(c);
}

struct conformance *conformance_new(const uint16_t *stages, size_t nstages,
                                    const uint16_t *const *expected, const size_t *nexpected,
                                    size_t ntouchpoints, size_t nstage_codes)
{
    if (!stages || nstages == 0 || nstages > JOURNEY_MAX_STAGES || ntouchpoints == 0 ||
        ntouchpoints > JOURNEY_MAX_FLOW_TP || nstage_codes == 0 ||
        nstage_codes > JOURNEY_NO_STAGE)
        return NULL;
    struct conformance *c = cxm_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ns = nstages;
    c->ntp = ntouchpoints;
    c->nsc = nstage_codes;
    c->index = cxm_malloc(nstage_codes * sizeof *c->index);
    c->expect = cxm_calloc(nstages * ntouchpoints, 1);
    c->any = cxm_calloc(nstages, sizeof *c->any);
    c->skipped = cxm_calloc(nstages, sizeof *c->skipped);
    c->backward = cxm_calloc(nstages * nstages, sizeof *c->backward);
    c->unexpected = cxm_calloc(nstages * ntouchpoints, sizeof *c->unexpected);
    c->undeclared = cxm_calloc(nstage_codes, sizeof *c->undeclared);
    if (!c->index || !c->expect || !c->any || !c->skipped || !c->backward ||
        !c->unexpected || !c->undeclared) {
        conformance_free(c);
        return NULL;
    }
    for (size_t s = 0; s < nstage_codes; s++)
        c->index[s] = -1;
    for (size_t k = 0; k < nstages; k++) {
        if (stages[k] >= nstage_codes || c->index[stages[k]] >= 0) {
            conformance_free(c);
            return NULL;
        }
        c->index[stages[k]] = (int16_t)k;
        size_t ne = nexpected ? nexpected[k] : 0;
        c->any[k] = ne == 0;
        for (size_t i = 0; i < ne; i++) {
            if (!expected || !expected[k] || expected[k][i] >= ntouchpoints) {
                conformance_free(c);
                return NULL;
            }
            c->expect[k * ntouchpoints + expected[k][i]] = 1;
        }
    }
    return c;
}

int conformance_add(struct conformance *c, const struct jevent *ep, size_t n)
{
    if (!ep || n == 0)
        return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((ep[i].stage != JOURNEY_NO_STAGE && ep[i].stage >= c->nsc) ||
            ep[i].touchpoint >= c->ntp)
            return CXM_EINVAL;
    c->t.episodes++;
    bool skip = false, back = false, unexp = false, undecl = false, any = false;
    int prev = -1;
    for (size_t i = 0; i < n; i++) {
        uint16_t s = ep[i].stage;
        if (s == JOURNEY_NO_STAGE)
            continue;
        int k = c->index[s];
        if (k < 0) {
            c->undeclared[s]++;
            undecl = true;
            continue;
        }
        any = true;
        uint16_t tp = ep[i].touchpoint;
        if (tp && !c->any[k] && !c->expect[(size_t)k * c->ntp + tp]) {
            c->unexpected[(size_t)k * c->ntp + tp]++;
            unexp = true;
        }
        if (prev >= 0 && k < prev) {
            c->backward[(size_t)prev * c->ns + (size_t)k]++;
            back = true;
        } else if (prev >= 0 && k > prev + 1) {
            for (int j = prev + 1; j < k; j++)
                c->skipped[j]++;
            skip = true;
        }
        prev = k;
    }
    if (!any && !undecl)
        return CXM_OK;
    c->t.compared++;
    c->t.conforming += any && !skip && !back && !unexp && !undecl;
    c->t.with_skip += skip;
    c->t.with_backward += back;
    c->t.with_unexpected += unexp;
    c->t.with_undeclared += undecl;
    return CXM_OK;
}

void conformance_totals(const struct conformance *c, struct conformance_totals *t)
{
    *t = c->t;
}

uint64_t conformance_skipped(const struct conformance *c, size_t k)
{
    return k < c->ns ? c->skipped[k] : 0;
}

uint64_t conformance_backward(const struct conformance *c, size_t a, size_t b)
{
    return a < c->ns && b < c->ns ? c->backward[a * c->ns + b] : 0;
}

uint64_t conformance_unexpected(const struct conformance *c, size_t k, uint16_t tp)
{
    return k < c->ns && tp < c->ntp ? c->unexpected[k * c->ntp + tp] : 0;
}

uint64_t conformance_undeclared(const struct conformance *c, uint16_t stage)
{
    return stage < c->nsc ? c->undeclared[stage] : 0;
}
