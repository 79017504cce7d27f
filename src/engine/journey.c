/* journey.c - journey views over the model: every profile's interactions,
 * feedback and orders as one time-ordered event list (gathered with a
 * counting sort by profile, so 10M events cost two passes), split into
 * episodes by the gap, fed to the accumulators of core/journey one episode
 * at a time. docs/journeys.md says what each view means.
 *
 * An order is an event of the purchase stage (its touchpoint is none);
 * events without a touchpoint count for stages and purchases but not in
 * flows, paths, drop-offs or friction, which are about touchpoints. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "core/journey.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "engine/engine_impl.h"
#include "engine/segments.h"
#include "engine/event.h"
#include "log.h"

#define DAY 86400
#define CHURN_DAYS 90

/* What an episode's outcomes need beyond struct jevent: bit flags. */
enum { JF_DETRACTOR = 1, JF_NEGATIVE = 2, JF_EFFORT = 4,
       JF_OPENER = 8,            /* a complaint or a ticket: a support journey starts */
       JF_SUPPORT = 16 };        /* an event at the support stage */
/* Bits 5-6 of the flags: where the event came from (0 interactions, 1
 * feedback, 2 orders), which orders events of the same second. */
#define JF_SRC_SHIFT 5

struct gathered {
    struct jevent *ev;
    uint8_t *flags;
    uint32_t *row;             /* the event's row in its table: with the
                                  table (flags) and the time, its order */
    uint32_t *start;           /* events of root c: [start[c], start[c + 1]) */
    size_t n, ncust;
};

/* A large array for a journey state: asks for huge pages where the
 * kernel gives them on request, since a new state's first touch of some
 * hundred MiB in 4 KiB pages costs more than the work on it. */
static void *big_alloc(size_t n)
{
    void *p = cxm_malloc(n ? n : 1);
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = 2u << 20;
    if (p && n >= 2 * huge) {
        uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t b = ((uintptr_t)p + n) & ~(huge - 1);
        if (b > a)
            (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
    }
#endif
    return p;
}

static void gathered_free(struct gathered *g)
{
    free(g->ev);
    free(g->flags);
    free(g->row);
    free(g->start);
    memset(g, 0, sizeof *g);
}

/* Episodes at the default gap over the whole period, each with what the
 * views need from it, kept with the events (docs/decisions.md, Journeys):
 * a query with the default gap and no period adds these up instead of
 * walking every event. */
struct esum {
    float sat;               /* journey satisfaction; NaN: none */
    uint32_t resolve;        /* a support journey's seconds to resolution */
    uint32_t tpstages;       /* bit s: an event with a touchpoint at stage s < 32 */
    uint8_t flags;           /* the events' JF_ flags, or'ed */
    uint8_t purchase;        /* a purchase event */
    uint8_t reached, converted;   /* the usual funnel: bit k is position k */
};
#define NO_RESOLVE UINT32_MAX
#define EPI_MAX_ORDER 8      /* funnel positions an esum keeps */
/* A delta is built while its events stay under 1/DELTA_SHARE of the
 * base's (plus DELTA_MIN); past that, everything is gathered again. */
#define DELTA_SHARE 8
#define DELTA_MIN 256

struct epi {
    uint16_t order[JOURNEY_MAX_STAGES];   /* the usual funnel's stage order */
    size_t nusual;           /* its stages */
    size_t norder;           /* the same, or 0: not kept (too many stages) */
    uint32_t *first;         /* ncust + 2: profile c's episodes [first[c], first[c + 1]) */
    uint32_t *eoff;          /* nep + 1: episode x's events [eoff[x], eoff[x + 1]) */
    uint32_t *toff;          /* nep + 1: its events with a touchpoint in tp, ch */
    uint32_t *cfirst;        /* ncust + 2: profile c's funnel conversion times are
                                ct[cfirst[c]...], one per converted bit, in order */
    struct esum *s;
    uint16_t *tp, *ch;
    uint32_t *ct;
    size_t nep, ntp, nct, ctcap, maxtp;
};

static void epi_free(struct epi *x)
{
    free(x->first);
    free(x->eoff);
    free(x->toff);
    free(x->cfirst);
    free(x->s);
    free(x->tp);
    free(x->ch);
    free(x->ct);
    memset(x, 0, sizeof *x);
}

/* Events and episodes of some profiles: a base has every profile (slot c
 * is profile c); a delta has the profiles whose events changed since its
 * base (slot j is profile cust[j], ascending). Immutable once built. */
struct part {
    unsigned refs;             /* the states using it; under jmu */
    struct gathered g;         /* g.ncust: the slots */
    struct epi x;
    uint32_t *cust;            /* a delta's profiles (1..g.ncust); NULL in a base */
    int64_t first, latest;     /* its oldest and newest event time */
};

static void part_put(struct part *p)
{
    if (p && --p->refs == 0) {
        gathered_free(&p->g);
        epi_free(&p->x);
        free(p->cust);
        free(p);
    }
}

/* The events of every profile and their episodes for one state of the
 * data: a base, shared by the states that follow it, and the delta of
 * what changed since. Immutable once built: queries hold a reference and
 * run at the same time; the cache drops its own when the data moves on. */
#define JMEMO_MAX 32           /* answers kept per state */
#define JMEMO_KEY 256
struct jstate {
    unsigned refs;             /* the cache's and each query's; under jmu */
    struct part *base, *delta; /* delta: NULL when nothing changed since base */
    uint32_t ncust;            /* profiles 1..ncust */
    int64_t first, latest;     /* the oldest and newest event time */
    size_t maxtp;              /* most touchpoint events in an episode */
    /* answers for this state (under jmu): the dashboard asks the same few
     * again until the data moves on */
    struct { char key[JMEMO_KEY]; json_t *doc; } memo[JMEMO_MAX];
    size_t nmemo;
};

static void state_put(struct jstate *st)
{
    if (st && --st->refs == 0) {
        part_put(st->base);
        part_put(st->delta);
        for (size_t i = 0; i < st->nmemo; i++)
            json_decref(st->memo[i].doc);
        free(st);
    }
}

/* Where profile c's events and episodes are: the part and its slot. The
 * profiles must be asked for in increasing order; *j walks the delta
 * (start it at 1). NULL when the state has no such profile. */
static const struct part *part_next(const struct jstate *st, uint32_t c, size_t *j,
                                    uint32_t *slot)
{
    const struct part *d = st->delta;
    if (d && *j <= d->g.ncust && d->cust[*j] == c) {
        *slot = (uint32_t)(*j)++;
        return d;
    }
    *slot = c;
    return c <= st->base->g.ncust ? st->base : NULL;
}

/* The same for any one profile (a binary search of the delta). */
static const struct part *part_find(const struct jstate *st, uint32_t c, uint32_t *slot)
{
    const struct part *d = st->delta;
    if (d && d->g.ncust) {
        size_t lo = 1, hi = d->g.ncust + 1;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (d->cust[mid] < c)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo <= d->g.ncust && d->cust[lo] == c) {
            *slot = (uint32_t)lo;
            return d;
        }
    }
    *slot = c;
    return c <= st->base->g.ncust ? st->base : NULL;
}

/* The kept answer for key, a copy; NULL when there is none. Under jmu. */
static json_t *memo_get(const struct jstate *st, const char *key)
{
    for (size_t i = 0; i < st->nmemo; i++)
        if (!strcmp(st->memo[i].key, key))
            return json_deep_copy(st->memo[i].doc);
    return NULL;
}

/* Keeps a copy of doc as the answer for key (while there is room). */
static void memo_put(struct jstate *st, const char *key, const json_t *doc)
{
    for (size_t i = 0; i < st->nmemo; i++)
        if (!strcmp(st->memo[i].key, key))
            return;
    json_t *copy = st->nmemo < JMEMO_MAX ? json_deep_copy(doc) : NULL;
    if (!copy)
        return;
    memcpy(st->memo[st->nmemo].key, key, strlen(key) + 1);
    st->memo[st->nmemo++].doc = copy;
}

/* Whether a where may answer differently with no new data: one naming a
 * segment (redefined without new rows) or the CLV model's figures (refit
 * without new rows). By the text, so a quoted value with those letters
 * counts too: such a query is simply not kept. */
static bool where_volatile(const char *where)
{
    static const char *const names[] = {"segment", "alive", "clv"};
    char low[JMEMO_KEY];
    size_t n = strlen(where);
    if (n >= sizeof low)
        return true;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(where[i] >= 'A' && where[i] <= 'Z' ? where[i] + 32 : where[i]);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strstr(low, names[k]))
            return true;
    return false;
}

/* A query's key for the memo: every parameter that shapes the answer;
 * false for the queries not kept (a where that may change without new
 * rows, a design, a forced scan, a long parameter). */
static bool memo_key(const struct journey_query *q, int rank, size_t top, char *key)
{
    const char *where = q->where ? q->where : "";
    if (where_volatile(where) || q->design || q->scan || top > 1000)
        return false;
    int len = snprintf(key, JMEMO_KEY, "%s\x1f%s\x1f%lld\x1f%lld\x1f%lld\x1f%s\x1f%s\x1f%d"
                       "\x1f%zu\x1f%zu\x1f%d\x1f%s\x1f%s", q->view, where, (long long)q->from,
                       (long long)q->to, (long long)q->gap, q->stages ? q->stages : "",
                       q->goal ? q->goal : "", rank, top, q->max_len, q->self_links,
                       q->channel ? q->channel : "", q->ended ? q->ended : "");
    return len > 0 && len < JMEMO_KEY;
}

/* Which state of the model (its address and last_seq) the current state
 * was built for: journey queries on unchanged data skip the gathering,
 * which is most of their time. */
struct jcache {
    const struct model *m;
    int64_t seq;
    uint64_t gen;              /* the model's gen when gathered */
    size_t ni, nf, no;         /* rows of each table gathered */
    size_t nmerges;            /* merges the grouping follows */
    struct jstate *cur;
};

void journey_cache_free(struct engine *e)
{
    struct jcache *jc = e->jcache;
    if (jc)
        state_put(jc->cur);
    free(jc);
    e->jcache = NULL;
}

static uint16_t dict_code(const struct model *m, int d, const char *s)
{
    uint32_t c = dict_find(m->dict[d], s);
    return c > UINT16_MAX ? 0 : (uint16_t)c;
}

static int idx_cmp(const void *pa, const void *pb, void *ctx)
{
    const struct jevent *ev = ctx;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (ev[a].ts != ev[b].ts)
        return ev[a].ts < ev[b].ts ? -1 : 1;
    return (a > b) - (a < b);
}

/* Sorts events [lo, hi) and their flags by (ts, position). */
static int sort_long(struct gathered *g, size_t lo, size_t hi)
{
    size_t n = hi - lo;
    uint32_t *ix = cxm_malloc(n * sizeof *ix);
    struct jevent *ev = cxm_malloc(n * sizeof *ev);
    uint8_t *fl = cxm_malloc(n);
    uint32_t *rw = cxm_malloc(n * sizeof *rw);
    if (!ix || !ev || !fl || !rw) {
        free(ix);
        free(ev);
        free(fl);
        free(rw);
        return CXM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        ix[i] = (uint32_t)i;
    qsort_r(ix, n, sizeof *ix, idx_cmp, g->ev + lo);
    for (size_t i = 0; i < n; i++) {
        ev[i] = g->ev[lo + ix[i]];
        fl[i] = g->flags[lo + ix[i]];
        rw[i] = g->row[lo + ix[i]];
    }
    memcpy(g->ev + lo, ev, n * sizeof *ev);
    memcpy(g->flags + lo, fl, n);
    memcpy(g->row + lo, rw, n * sizeof *rw);
    free(ix);
    free(ev);
    free(fl);
    free(rw);
    return CXM_OK;
}

/* Dictionary codes an event's meaning depends on (0: not in the data). */
struct codes {
    uint16_t purchase_stage, purchase_kind, support, complaint, ticket;
};

static struct codes codes_of(const struct model *m)
{
    return (struct codes){dict_code(m, DICT_STAGE, "purchase"),
                          dict_code(m, DICT_ITYPE, "purchase"),
                          dict_code(m, DICT_STAGE, "support"),
                          dict_code(m, DICT_ITYPE, "complaint"),
                          dict_code(m, DICT_ITYPE, "ticket")};
}

/* Interaction row i as a journey event, and its flags. */
static struct jevent ic_event(const struct model *m, const struct codes *k, size_t i,
                              uint8_t *flags)
{
    uint16_t stage = m->ic.stage[i], kind = m->ic.kind[i];
    uint32_t tx = model_itx(m, i);
    *flags = (tx && m->tc.sent[tx] <= -0.05f ? JF_NEGATIVE : 0) |
             (kind && (kind == k->complaint || kind == k->ticket) ? JF_OPENER : 0) |
             (k->support && stage == k->support ? JF_SUPPORT : 0);
    return (struct jevent){
        .ts = m->ic.ts[i], .touchpoint = m->ic.touchpoint[i],
        .stage = stage ? stage : JOURNEY_NO_STAGE, .channel = m->ic.channel[i], .sat = NAN,
        .purchase = (k->purchase_kind && kind == k->purchase_kind) ||
                    (k->purchase_stage && stage == k->purchase_stage)};
}

/* Feedback row i as a journey event (its score on the 0-1 scale), and its
 * flags. */
static struct jevent fc_event(const struct model *m, const struct codes *k, size_t i,
                              uint8_t *flags)
{
    int kind = m->fc.kind[i];
    float s = m->fc.score[i];
    uint16_t stage = m->fc.stage[i];
    double sat = kind == FB_NPS || kind == FB_RATING ? metrics_normalise(SCALE_0_10, s)
               : kind == FB_CSAT ? metrics_normalise(SCALE_1_5, s)
               : kind == FB_CES ? metrics_normalise(SCALE_EFFORT_1_7, s) : NAN;
    uint32_t tx = m->fc.tx[i];
    *flags = (kind == FB_NPS && s <= 6 ? JF_DETRACTOR : 0) |
             (kind == FB_CES && s >= 5 ? JF_EFFORT : 0) |
             (tx && m->tc.sent[tx] <= -0.05f ? JF_NEGATIVE : 0) |
             (k->support && stage == k->support ? JF_SUPPORT : 0);
    return (struct jevent){
        .ts = m->fc.ts[i], .touchpoint = m->fc.touchpoint[i],
        .stage = stage ? stage : JOURNEY_NO_STAGE, .channel = m->fc.channel[i],
        .sat = (float)sat, .purchase = k->purchase_stage && stage == k->purchase_stage};
}

/* Order row i: a purchase-stage event without a touchpoint. */
static struct jevent oc_event(const struct model *m, const struct codes *k, size_t i,
                              uint8_t *flags)
{
    *flags = 0;
    return (struct jevent){
        .ts = m->oc.ts[i],
        .stage = k->purchase_stage ? k->purchase_stage : JOURNEY_NO_STAGE,
        .channel = m->oc.channel[i], .sat = NAN, .purchase = 1};
}

/* Every event of every profile, grouped by profile (root) and sorted by
 * time: two passes over the rows (count per profile, then place). */
static int gather(const struct model *m, struct gathered *g)
{
    memset(g, 0, sizeof *g);
    size_t nc = m->ncust + 2;
    uint32_t *cnt = cxm_calloc(nc, sizeof *cnt);
    if (!cnt)
        return CXM_ENOMEM;
    struct codes k = codes_of(m);
    for (int place = 0; place < 2; place++) {
        /* pass 0 counts each profile's rows, pass 1 puts them in place */
#define PUT(col, make, src) \
        for (size_t i = 1; i <= m->col.n; i++) { \
            uint32_t r = model_root(m, m->col.cust[i]); \
            if (!place) { \
                cnt[r + 1]++; \
                continue; \
            } \
            uint32_t at = cnt[r]++; \
            g->ev[at] = make(m, &k, i, &g->flags[at]); \
            g->flags[at] |= (src) << JF_SRC_SHIFT; \
            g->row[at] = (uint32_t)i; \
        }
        PUT(ic, ic_event, 0)
        PUT(fc, fc_event, 1)
        PUT(oc, oc_event, 2)
#undef PUT
        if (place)
            break;
        for (size_t c = 1; c < nc; c++)
            cnt[c] += cnt[c - 1];
        g->n = cnt[nc - 1];
        g->ev = big_alloc(g->n * sizeof *g->ev);
        g->flags = big_alloc(g->n);
        g->row = big_alloc(g->n * sizeof *g->row);
        g->start = cxm_malloc(nc * sizeof *g->start);
        if (!g->ev || !g->flags || !g->row || !g->start) {
            free(cnt);
            gathered_free(g);
            return CXM_ENOMEM;
        }
        memcpy(g->start, cnt, nc * sizeof *cnt);
    }
    free(cnt);
    g->ncust = m->ncust;
    /* each profile's events by time, stable, flags with their event:
     * insertion on short runs (three sorted runs: interactions, feedback,
     * orders), an index sort on long ones */
    for (uint32_t c = 1; c <= m->ncust; c++) {
        size_t lo = g->start[c], hi = g->start[c + 1];
        if (hi - lo > 64) {
            if (sort_long(g, lo, hi))
                return CXM_ENOMEM;
            continue;
        }
        for (size_t i = lo + 1; i < hi; i++) {
            struct jevent e = g->ev[i];
            uint8_t f = g->flags[i];
            uint32_t rw = g->row[i];
            size_t j = i;
            while (j > lo && g->ev[j - 1].ts > e.ts) {
                g->ev[j] = g->ev[j - 1];
                g->flags[j] = g->flags[j - 1];
                g->row[j] = g->row[j - 1];
                j--;
            }
            g->ev[j] = e;
            g->flags[j] = f;
            g->row[j] = rw;
        }
    }
    return CXM_OK;
}

/* An event on its way into an extended profile. */
struct xev {
    struct jevent ev;
    uint8_t flags;
    uint32_t row, root;
};

/* The order gather gives within a profile: time, then interactions,
 * feedback, orders, then row. */
static int xev_cmp(const void *pa, const void *pb)
{
    const struct xev *a = pa, *b = pb;
    if (a->root != b->root)
        return a->root < b->root ? -1 : 1;
    if (a->ev.ts != b->ev.ts)
        return a->ev.ts < b->ev.ts ? -1 : 1;
    int sa = a->flags >> JF_SRC_SHIFT, sb = b->flags >> JF_SRC_SHIFT;
    if (sa != sb)
        return sa - sb;
    return (a->row > b->row) - (a->row < b->row);
}

static int epi_build(const struct model *m, const struct gathered *g, struct part *p);

/* Appends profile c's events in state st to xv as root's. */
static void xev_old(const struct jstate *st, uint32_t c, uint32_t root, struct xev *xv,
                    size_t *x)
{
    uint32_t slot;
    const struct part *p = part_find(st, c, &slot);
    if (!p)
        return;
    for (size_t i = p->g.start[slot]; i < p->g.start[slot + 1]; i++)
        xv[(*x)++] = (struct xev){p->g.ev[i], p->g.flags[i], p->g.row[i], root};
}

/* Profile c's event count in state st. */
static size_t count_old(const struct jstate *st, uint32_t c)
{
    uint32_t slot;
    const struct part *p = part_find(st, c, &slot);
    return p ? p->g.start[slot + 1] - p->g.start[slot] : 0;
}

/* The delta for what changed since state cur was built, when that is only
 * new rows and new merges (gen unchanged: no unmerge, no rescoring): the
 * profiles of cur's delta, the profiles with new rows and the profiles
 * merged into others since (which have none left), each with all its
 * events in the order gather gives. The base stays as it is. */
static int delta_build(const struct model *m, const struct jcache *jc,
                       const struct jstate *cur, struct part **out)
{
    const struct part *od = cur->delta;
    size_t nc = m->ncust + 2;
    uint8_t *mark = cxm_calloc(nc, 1);   /* 1 new events, 2 merged away, 3 as in od */
    if (!mark)
        return CXM_ENOMEM;
    size_t d = (m->ic.n - jc->ni) + (m->fc.n - jc->nf) + (m->oc.n - jc->no);
    /* the events to sort: new rows, the moved profiles' and the changed
     * profiles' own */
    size_t nx = d;
    for (size_t k = jc->nmerges; k < m->nmerges; k++)
        nx += count_old(cur, m->merges[k].child);
    for (int t = 0; t < 3; t++) {
        const uint32_t *cu = t == 0 ? m->ic.cust : t == 1 ? m->fc.cust : m->oc.cust;
        size_t from = t == 0 ? jc->ni : t == 1 ? jc->nf : jc->no;
        size_t to = t == 0 ? m->ic.n : t == 1 ? m->fc.n : m->oc.n;
        for (size_t i = from + 1; i <= to; i++)
            mark[model_root(m, cu[i])] = 1;
    }
    for (size_t k = jc->nmerges; k < m->nmerges; k++) {
        uint32_t ch = m->merges[k].child, root = model_root(m, ch);
        mark[ch] = 2;
        if (mark[root] != 2)
            mark[root] = 1;
    }
    for (uint32_t c = 1; c <= m->ncust; c++)
        if (mark[c] == 1)
            nx += count_old(cur, c);
    for (size_t j = 1; od && j <= od->g.ncust; j++)
        if (!mark[od->cust[j]])
            mark[od->cust[j]] = 3;
    struct xev *xv = cxm_malloc((nx ? nx : 1) * sizeof *xv);
    struct part *p = cxm_calloc(1, sizeof *p);
    if (!xv || !p) {
        free(xv);
        free(p);
        free(mark);
        return CXM_ENOMEM;
    }
    struct codes k = codes_of(m);
    size_t x = 0;
#define NEW(col, from, make, src) \
    for (size_t i = (from) + 1; i <= m->col.n; i++, x++) { \
        xv[x].root = model_root(m, m->col.cust[i]); \
        xv[x].row = (uint32_t)i; \
        xv[x].ev = make(m, &k, i, &xv[x].flags); \
        xv[x].flags |= (src) << JF_SRC_SHIFT; \
    }
    NEW(ic, jc->ni, ic_event, 0)
    NEW(fc, jc->nf, fc_event, 1)
    NEW(oc, jc->no, oc_event, 2)
#undef NEW
    for (size_t mg = jc->nmerges; mg < m->nmerges; mg++)
        xev_old(cur, m->merges[mg].child, model_root(m, m->merges[mg].child), xv, &x);
    size_t np = 0, ne = 0;   /* the delta's profiles and events */
    for (uint32_t c = 1; c <= m->ncust; c++) {
        if (mark[c] == 1)
            xev_old(cur, c, c, xv, &x);
        else if (mark[c] == 3)
            ne += count_old(cur, c);
        np += mark[c] != 0;
    }
    ne += x;
    qsort(xv, x, sizeof *xv, xev_cmp);
    struct gathered *g = &p->g;
    g->ev = big_alloc(ne * sizeof *g->ev);
    g->flags = big_alloc(ne);
    g->row = big_alloc(ne * sizeof *g->row);
    g->start = cxm_malloc((np + 2) * sizeof *g->start);
    p->cust = cxm_malloc((np + 2) * sizeof *p->cust);
    int rc = g->ev && g->flags && g->row && g->start && p->cust ? CXM_OK : CXM_ENOMEM;
    size_t w = 0, y = 0, j = 0;
    for (uint32_t c = 1; !rc && c <= m->ncust; c++) {
        if (!mark[c])
            continue;
        p->cust[++j] = c;
        g->start[j] = (uint32_t)w;
        if (mark[c] == 3) {
            uint32_t slot;
            const struct part *q = part_find(cur, c, &slot);
            size_t lo = q->g.start[slot], n = q->g.start[slot + 1] - lo;
            memcpy(g->ev + w, q->g.ev + lo, n * sizeof *g->ev);
            memcpy(g->flags + w, q->g.flags + lo, n);
            memcpy(g->row + w, q->g.row + lo, n * sizeof *g->row);
            w += n;
            continue;
        }
        for (; y < x && xv[y].root == c; y++, w++) {
            g->ev[w] = xv[y].ev;
            g->flags[w] = xv[y].flags;
            g->row[w] = xv[y].row;
        }
    }
    free(xv);
    free(mark);
    if (!rc) {
        g->start[0] = 0;
        g->start[np + 1] = (uint32_t)w;
        p->cust[0] = 0;
        g->n = w;
        g->ncust = np;
        rc = epi_build(m, g, p);
    }
    if (rc) {
        gathered_free(g);
        epi_free(&p->x);
        free(p->cust);
        free(p);
        return rc;
    }
    p->refs = 1;
    *out = p;
    return CXM_OK;
}

/* ---- the views -------------------------------------------------------- */

static json_t *jname(const struct model *m, int d, uint32_t code)
{
    const char *s = code && code != JOURNEY_NO_STAGE ? dict_str(m->dict[d], code) : NULL;
    return s ? json_string(s) : json_null();
}

/* The stage order: the names asked for, else the customer journey's
 * usual stages that the data has, else every stage in the data. */
static int stage_order(const struct model *m, const char *list, uint16_t *out, size_t *n,
                       struct cxm_err *err)
{
    static const char *const usual[] = {"awareness", "consideration", "purchase",
                                        "onboarding", "support", "loyalty"};
    *n = 0;
    if (list && *list) {
        char name[128];
        const char *p = list;
        while (*p) {
            size_t len = strcspn(p, ",");
            if (len == 0 || len >= sizeof name)
                return cxm_err_field(err, CXM_EINVAL, -1, "stages", "stages: a comma-"
                                     "separated list of stage names");
            memcpy(name, p, len);
            name[len] = '\0';
            uint16_t c = dict_code(m, DICT_STAGE, name);
            if (!c)
                return cxm_err_field(err, CXM_EINVAL, -1, "stages", "stages: no stage"
                                     " '%s' in the data", name);
            if (*n == JOURNEY_MAX_STAGES)
                return cxm_err_field(err, CXM_EINVAL, -1, "stages", "stages: at most %d",
                                     JOURNEY_MAX_STAGES);
            out[(*n)++] = c;
            p += len + (p[len] == ',');
        }
        return CXM_OK;
    }
    for (size_t k = 0; k < sizeof usual / sizeof usual[0]; k++) {
        uint16_t c = dict_code(m, DICT_STAGE, usual[k]);
        if (c)
            out[(*n)++] = c;
    }
    if (*n == 0)
        for (uint32_t c = 1; c <= dict_count(m->dict[DICT_STAGE]) && *n < JOURNEY_MAX_STAGES; c++)
            out[(*n)++] = (uint16_t)c;
    return CXM_OK;
}

/* The episode's events that have a touchpoint, into buf. What belongs to
 * the whole episode stays whole: its purchase (an order has no touchpoint)
 * and its satisfaction (answers may have none) ride on the first event. */
static size_t with_touchpoints(const struct jevent *ep, size_t n, struct jevent *buf)
{
    size_t k = 0;
    bool bought = false;
    for (size_t i = 0; i < n; i++) {
        bought |= ep[i].purchase;
        if (ep[i].touchpoint)
            buf[k++] = ep[i];
    }
    double sat;
    bool has_sat = journey_sat(ep, n, &sat);
    for (size_t i = 0; i < k; i++) {
        buf[i].purchase = 0;
        buf[i].sat = NAN;
    }
    if (k) {
        buf[0].purchase = bought;
        buf[0].sat = has_sat ? (float)sat : NAN;
    }
    return k;
}

enum view { V_FUNNEL, V_FLOWS, V_PATHS, V_DROPOFFS, V_FRICTION, V_CONFORMANCE, V_COUNT };
static const char *const view_names[V_COUNT] = {"funnel", "flows", "paths", "dropoffs",
                                                "friction", "conformance"};
enum { O_DETRACTOR, O_NEGATIVE, O_EFFORT, O_CHURN, O_COUNT };
static const char *const outcome_names[O_COUNT] = {"detractor", "negative_sentiment",
                                                   "high_effort", "churn"};

struct views {
    enum view v;
    uint16_t channel;              /* flows, paths: only this channel's steps; 0 all */
    int ended;                     /* flows, paths: 1 episodes with a purchase, 0
                                      those without, -1 all */
    struct funnel *funnel;
    struct flows *flows;
    struct paths *paths;
    struct dropoffs *drop;
    struct friction *fr[O_COUNT];
    struct conformance *conf;
    uint16_t dstages[JOURNEY_MAX_STAGES];
    size_t nds;
    uint64_t episodes, events;
    uint64_t churn_known;          /* episodes whose next 90 days are in the data */
    uint32_t *resolve;             /* support journeys' times to resolution, s */
    size_t nres, rescap;
    /* friction from kept episodes whose touchpoints are all under 64:
     * episodes by outcome class (bits FC_*), and by touchpoint and class */
    uint64_t *fclass;              /* [tp * FC_CLASSES + class] */
    uint64_t fclass_all[32];
    size_t fntp;
};
/* An episode's outcome class: the outcomes it had, and whether its churn
 * is known. */
enum { FC_DETRACTOR = 1, FC_NEGATIVE = 2, FC_EFFORT = 4, FC_CHURNED = 8, FC_KNOWN = 16,
       FC_CLASSES = 32 };

/* A support journey: from its first complaint or ticket to the last
 * support-stage event after it (else the episode's last event). false
 * when the episode has no complaint or ticket. */
static bool resolution_of(const struct jevent *ep, const uint8_t *fl, size_t n, uint32_t *t)
{
    size_t open = n;
    for (size_t i = 0; i < n && open == n; i++)
        if (fl[i] & JF_OPENER)
            open = i;
    if (open == n)
        return false;
    size_t end = n - 1;
    for (size_t i = n; i-- > open + 1;)
        if (fl[i] & JF_SUPPORT) {
            end = i;
            break;
        }
    *t = ep[end].ts - ep[open].ts;
    return true;
}

static int add_resolution(struct views *w, uint32_t t)
{
    if (cxm_grow((void **)&w->resolve, &w->rescap, w->nres + 1, sizeof *w->resolve))
        return CXM_ENOMEM;
    w->resolve[w->nres++] = t;
    return CXM_OK;
}

/* Episodes of g at the default gap and what each view needs of them,
 * into p->x; p->first and p->latest. */
static int epi_build(const struct model *m, const struct gathered *g, struct part *p)
{
    struct epi *x = &p->x;
    memset(x, 0, sizeof *x);
    struct cxm_err err;
    size_t ns = 0;
    struct funnel *f = NULL;
    if (!stage_order(m, NULL, x->order, &ns, &err) && (x->nusual = ns) <= EPI_MAX_ORDER &&
        (f = funnel_new(x->order, ns)))
        x->norder = ns;
    /* count the episodes and the longest profile first */
    size_t nep = 0, longest = 0;
    p->first = INT64_MAX;
    p->latest = 0;
    for (uint32_t c = 1; c <= g->ncust; c++) {
        size_t lo = g->start[c], hi = g->start[c + 1];
        if (lo == hi)
            continue;
        nep++;
        for (size_t i = lo + 1; i < hi; i++)
            nep += g->ev[i].ts - g->ev[i - 1].ts > JOURNEY_DEFAULT_GAP;
        if (hi - lo > longest)
            longest = hi - lo;
        if (g->ev[lo].ts < p->first)
            p->first = g->ev[lo].ts;
        if (g->ev[hi - 1].ts > p->latest)
            p->latest = g->ev[hi - 1].ts;
    }
    size_t n1 = nep + 1, ng = g->n ? g->n : 1;
    uint32_t *starts = cxm_malloc((longest ? longest : 1) * sizeof *starts);
    x->first = cxm_malloc((g->ncust + 2) * sizeof *x->first);
    x->eoff = big_alloc(n1 * sizeof *x->eoff);
    x->toff = big_alloc(n1 * sizeof *x->toff);
    x->cfirst = cxm_malloc((g->ncust + 2) * sizeof *x->cfirst);
    x->s = big_alloc(n1 * sizeof *x->s);
    x->tp = big_alloc(ng * sizeof *x->tp);
    x->ch = big_alloc(ng * sizeof *x->ch);
    int rc = starts && x->first && x->eoff && x->toff && x->cfirst && x->s && x->tp && x->ch
           ? CXM_OK : CXM_ENOMEM;
    size_t e = 0;
    x->first[0] = 0;
    x->cfirst[0] = 0;
    for (uint32_t c = 1; !rc && c <= g->ncust; c++) {
        x->first[c] = (uint32_t)e;
        x->cfirst[c] = (uint32_t)x->nct;
        size_t lo = g->start[c], hi = g->start[c + 1];
        size_t ne = journey_episodes(g->ev + lo, hi - lo, JOURNEY_DEFAULT_GAP, starts);
        for (size_t k = 0; !rc && k < ne; k++, e++) {
            size_t a = lo + starts[k], b = k + 1 < ne ? lo + starts[k + 1] : hi;
            const struct jevent *ep = g->ev + a;
            struct esum *es = &x->s[e];
            memset(es, 0, sizeof *es);
            x->eoff[e] = (uint32_t)a;
            x->toff[e] = (uint32_t)x->ntp;
            double sat;
            es->sat = journey_sat(ep, b - a, &sat) ? (float)sat : NAN;
            if (!resolution_of(ep, g->flags + a, b - a, &es->resolve))
                es->resolve = NO_RESOLVE;
            for (size_t i = a; i < b; i++) {
                const struct jevent *v = &g->ev[i];
                es->flags |= g->flags[i];
                es->purchase |= v->purchase;
                if (!v->touchpoint)
                    continue;
                if (v->stage < 32)
                    es->tpstages |= UINT32_C(1) << v->stage;
                x->tp[x->ntp] = v->touchpoint;
                x->ch[x->ntp++] = v->channel;
            }
            if (x->ntp - x->toff[e] > x->maxtp)
                x->maxtp = x->ntp - x->toff[e];
            if (!f)
                continue;
            struct funnel_ep fe;
            funnel_summarise(f, ep, b - a, &fe);
            es->reached = (uint8_t)fe.reached;
            es->converted = (uint8_t)fe.converted;
            for (size_t k2 = 0; k2 < x->norder; k2++) {
                if (!(fe.converted >> k2 & 1))
                    continue;
                if (cxm_grow((void **)&x->ct, &x->ctcap, x->nct + 1, sizeof *x->ct)) {
                    rc = CXM_ENOMEM;
                    break;
                }
                x->ct[x->nct++] = fe.time[k2];
            }
        }
    }
    if (!rc) {
        x->nep = e;
        x->first[g->ncust + 1] = (uint32_t)e;
        x->eoff[e] = (uint32_t)g->n;
        x->toff[e] = (uint32_t)x->ntp;
        x->cfirst[g->ncust + 1] = (uint32_t)x->nct;
    }
    free(starts);
    funnel_free(f);
    if (rc)
        epi_free(x);
    if (!g->n)
        p->first = p->latest = 0;
    return rc;
}

/* The state for the model's current data: the events extended with what
 * came since when they can be, else gathered afresh, and their episodes;
 * a reference the caller gives back with state_put. Read lock and jmu
 * held. */
/* Whether the usual funnel order is still the one x was built with (a
 * stage the data did not have may have come). */
static bool same_order(const struct model *m, const struct epi *x)
{
    uint16_t order[JOURNEY_MAX_STAGES];
    size_t ns = 0;
    struct cxm_err err;
    return !stage_order(m, NULL, order, &ns, &err) && ns == x->nusual &&
           !memcmp(order, x->order, ns * sizeof *order);
}

static int cache_current(struct engine *e, struct jstate **out)
{
    const struct model *m = e->m;
    struct jcache *jc = e->jcache;
    if (!jc && !(jc = e->jcache = cxm_calloc(1, sizeof *jc)))
        return CXM_ENOMEM;
    if (!jc->cur || jc->m != m || jc->seq != m->last_seq || jc->gen != m->gen) {
        struct jstate *st = cxm_calloc(1, sizeof *st);
        if (!st)
            return CXM_ENOMEM;
        const struct jstate *cur = jc->cur;
        int rc = CXM_ENOMEM;
        /* a delta on the current base while it stays small against it
         * (queries read both); else everything gathered again */
        if (cur && jc->m == m && jc->gen == m->gen && m->ncust >= cur->ncust &&
            same_order(m, &cur->base->x) &&
            m->ic.n >= jc->ni && m->fc.n >= jc->nf && m->oc.n >= jc->no &&
            (cur->delta ? cur->delta->g.n : 0) + (m->ic.n - jc->ni) + (m->fc.n - jc->nf) +
            (m->oc.n - jc->no) <= cur->base->g.n / DELTA_SHARE + DELTA_MIN &&
            !(rc = delta_build(m, jc, cur, &st->delta))) {
            st->base = cur->base;
            st->base->refs++;
        }
        if (rc) {
            struct part *b = cxm_calloc(1, sizeof *b);
            rc = !b ? CXM_ENOMEM : gather(m, &b->g);
            if (!rc)
                rc = epi_build(m, &b->g, b);
            if (rc) {
                if (b)
                    gathered_free(&b->g);
                free(b);
                free(st);
                return rc;
            }
            b->refs = 1;
            st->base = b;
        }
        st->ncust = (uint32_t)m->ncust;
        const struct part *b = st->base, *d = st->delta;
        st->first = b->g.n ? b->first : INT64_MAX;
        st->latest = b->latest;
        st->maxtp = b->x.maxtp;
        if (d && d->g.n) {
            st->first = d->first < st->first ? d->first : st->first;
            st->latest = d->latest > st->latest ? d->latest : st->latest;
            st->maxtp = d->x.maxtp > st->maxtp ? d->x.maxtp : st->maxtp;
        }
        if (st->first == INT64_MAX)
            st->first = 0;
        *jc = (struct jcache){.m = m, .seq = m->last_seq, .gen = m->gen, .ni = m->ic.n,
                              .nf = m->fc.n, .no = m->oc.n, .nmerges = m->nmerges,
                              .cur = jc->cur};
        st->refs = 1;
        state_put(jc->cur);
        jc->cur = st;
    }
    jc->cur->refs++;
    *out = jc->cur;
    return CXM_OK;
}

void engine_journeys_warm(struct engine *e)
{
    double t0 = cxm_seconds();
    pthread_rwlock_rdlock(&e->lock);
    pthread_mutex_lock(&e->jmu);
    struct jstate *st = NULL;
    int rc = cache_current(e, &st);
    size_t n = rc ? 0 : st->base->g.n, nep = rc ? 0 : st->base->x.nep;
    state_put(st);
    pthread_mutex_unlock(&e->jmu);
    pthread_rwlock_unlock(&e->lock);
    if (rc)
        log_msg(LOG_WARN, "journeys: events not gathered ahead: out of memory");
    else
        log_msg(LOG_INFO, "journeys: %zu events in %zu episodes gathered ahead in %.3f s",
                n, nep, cxm_seconds() - t0);
}

static int u32_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return (a > b) - (a < b);
}

static json_t *resolution_json(struct views *w)
{
    if (!w->nres)
        return json_pack("{s:i, s:n, s:n, s:n}", "journeys", 0, "mean_hours",
                         "median_hours", "p90_hours");
    qsort(w->resolve, w->nres, sizeof *w->resolve, u32_cmp);
    double sum = 0;
    for (size_t i = 0; i < w->nres; i++)
        sum += w->resolve[i];
    return json_pack("{s:I, s:f, s:f, s:f}", "journeys", (json_int_t)w->nres,
                     "mean_hours", round(sum / (double)w->nres / 36) / 100,
                     "median_hours", round(journey_quantile(w->resolve, w->nres, 0.5) / 36) / 100,
                     "p90_hours", round(journey_quantile(w->resolve, w->nres, 0.9) / 36) / 100);
}

static int feed(struct views *w, const struct jevent *ep, const uint8_t *fl, size_t n,
                const struct jevent *next, int64_t latest, struct jevent *buf)
{
    w->episodes++;
    w->events += n;
    if (w->v == V_FUNNEL)
        return funnel_add(w->funnel, ep, n);
    if (w->v == V_CONFORMANCE)
        return conformance_add(w->conf, ep, n);
    uint32_t rt;
    if (w->v == V_FRICTION && resolution_of(ep, fl, n, &rt)) {
        int rr = add_resolution(w, rt);
        if (rr)
            return rr;
    }
    size_t k = with_touchpoints(ep, n, buf);
    if (!k)
        return CXM_OK;
    if ((w->v == V_FLOWS || w->v == V_PATHS) && w->ended >= 0 && buf[0].purchase != w->ended)
        return CXM_OK;
    if ((w->v == V_FLOWS || w->v == V_PATHS) && w->channel) {
        /* the steps on one channel; the episode's purchase and
         * satisfaction stay on the first one kept */
        size_t j = 0;
        for (size_t i = 0; i < k; i++)
            if (buf[i].channel == w->channel) {
                struct jevent x = buf[i];
                x.purchase = buf[0].purchase;
                x.sat = j ? NAN : buf[0].sat;
                buf[j++] = x;
            }
        for (size_t i = 1; i < j; i++)
            buf[i].purchase = 0;
        if (!(k = j))
            return CXM_OK;
    }
    switch (w->v) {
    case V_FLOWS: return flows_add(w->flows, buf, k);
    case V_PATHS: {
        int64_t end = ep[n - 1].ts;
        int churned = end + (int64_t)CHURN_DAYS * DAY > latest ? -1
                    : !next || (int64_t)next->ts > end + (int64_t)CHURN_DAYS * DAY;
        return paths_add_churn(w->paths, buf, k, churned);
    }
    case V_DROPOFFS: return dropoffs_add(w->drop, buf, k);
    case V_FRICTION: {
        uint8_t any = 0;
        for (size_t i = 0; i < n; i++)
            any |= fl[i];
        bool out[O_COUNT] = {any & JF_DETRACTOR, any & JF_NEGATIVE, any & JF_EFFORT, false};
        int rc = CXM_OK;
        for (int o = 0; !rc && o < O_CHURN; o++)
            rc = friction_add(w->fr[o], buf, k, out[o]);
        /* churn: no event in the 90 days after the episode, when those
         * days are in the data */
        int64_t end = ep[n - 1].ts;
        if (!rc && end + (int64_t)CHURN_DAYS * DAY <= latest) {
            w->churn_known++;
            bool churned = !next || (int64_t)next->ts > end + (int64_t)CHURN_DAYS * DAY;
            rc = friction_add(w->fr[O_CHURN], buf, k, churned);
        }
        return rc;
    }
    default: return CXM_OK;
    }
}

/* feed for a kept episode (struct epi): the same counts from its summary
 * and its touchpoint events. cust_end is where its profile's events end
 * (the next episode's first event is the event after it). The funnel
 * has its own loop (kept_funnel). */
static int feed_kept(struct views *w, const struct gathered *g, const struct epi *x,
                     size_t e, size_t cust_end, int64_t latest, uint16_t *buf)
{
    size_t a = x->eoff[e], b = x->eoff[e + 1];
    const struct esum *s = &x->s[e];
    w->episodes++;
    w->events += b - a;
    if (w->v == V_FRICTION && s->resolve != NO_RESOLVE) {
        int rr = add_resolution(w, s->resolve);
        if (rr)
            return rr;
    }
    const uint16_t *tp = x->tp + x->toff[e];
    size_t k = x->toff[e + 1] - x->toff[e];
    if (!k)
        return CXM_OK;
    if ((w->v == V_FLOWS || w->v == V_PATHS) && w->ended >= 0 && s->purchase != w->ended)
        return CXM_OK;
    if ((w->v == V_FLOWS || w->v == V_PATHS) && w->channel) {
        const uint16_t *ch = x->ch + x->toff[e];
        size_t j = 0;
        for (size_t i = 0; i < k; i++)
            if (ch[i] == w->channel)
                buf[j++] = tp[i];
        if (!(k = j))
            return CXM_OK;
        tp = buf;
    }
    int64_t end = g->ev[b - 1].ts;
    const struct jevent *next = b < cust_end ? &g->ev[b] : NULL;
    switch (w->v) {
    case V_FLOWS: return flows_add_tp(w->flows, tp, k);
    case V_PATHS: {
        int churned = end + (int64_t)CHURN_DAYS * DAY > latest ? -1
                    : !next || (int64_t)next->ts > end + (int64_t)CHURN_DAYS * DAY;
        double sat = s->sat;
        return paths_add_tp(w->paths, tp, k, s->purchase, isnan(sat) ? NULL : &sat, churned);
    }
    case V_DROPOFFS: {
        uint16_t goal = dropoffs_goal(w->drop);
        bool reached = goal == JOURNEY_GOAL_PURCHASE ? s->purchase : s->tpstages >> goal & 1;
        size_t last = x->toff[e + 1] - 1;
        return dropoffs_add_last(w->drop, x->tp[last], x->ch[last], reached);
    }
    case V_FRICTION: {
        /* churn: no event in the 90 days after the episode, when those
         * days are in the data */
        bool known = end + (int64_t)CHURN_DAYS * DAY <= latest;
        bool out[O_COUNT] = {s->flags & JF_DETRACTOR, s->flags & JF_NEGATIVE,
                             s->flags & JF_EFFORT,
                             !next || (int64_t)next->ts > end + (int64_t)CHURN_DAYS * DAY};
        bool counted[O_COUNT] = {true, true, true, known};
        w->churn_known += known;
        uint64_t set = 0;
        bool small = w->fclass != NULL;
        for (size_t i = 0; i < k; i++) {
            small &= tp[i] < w->fntp;
            set |= UINT64_C(1) << (tp[i] & 63);
        }
        if (!small)
            return friction_add_tp_each(w->fr, O_COUNT, tp, k, out, counted);
        /* counted by class here, into the accumulators at the end */
        unsigned cls = (out[O_DETRACTOR] ? FC_DETRACTOR : 0) | (out[O_NEGATIVE] ? FC_NEGATIVE : 0) |
                       (out[O_EFFORT] ? FC_EFFORT : 0) | (out[O_CHURN] ? FC_CHURNED : 0) |
                       (known ? FC_KNOWN : 0);
        w->fclass_all[cls]++;
        for (uint64_t bits = set; bits; bits &= bits - 1)
            w->fclass[(size_t)__builtin_ctzll(bits) * FC_CLASSES + cls]++;
        return CXM_OK;
    }
    default: return CXM_OK;
    }
}

/* The funnel over the kept episodes: episodes counted by their (reached,
 * converted) positions and the conversion times by position, then added
 * to the funnel in bulk. */
static int kept_funnel(struct views *w, const struct jstate *st, struct cust_filter *cf)
{
    size_t nhist = (size_t)1 << (2 * EPI_MAX_ORDER);
    uint64_t *hist = cxm_calloc(nhist, sizeof *hist);
    struct { uint32_t *v; size_t n, cap; } t[EPI_MAX_ORDER] = {{0}};
    int rc = hist ? CXM_OK : CXM_ENOMEM;
    size_t j = 1;
    uint32_t slot;
    for (uint32_t c = 1; !rc && c <= st->ncust; c++) {
        const struct part *p = part_next(st, c, &j, &slot);
        if (!p)
            continue;
        const struct epi *x = &p->x;
        size_t e0 = x->first[slot], e1 = x->first[slot + 1];
        if (e0 == e1 || !cust_filter_pass(cf, c))
            continue;
        w->episodes += e1 - e0;
        w->events += p->g.start[slot + 1] - p->g.start[slot];
        const uint32_t *times = x->ct ? x->ct + x->cfirst[slot] : NULL;
        for (size_t e = e0; e < e1; e++) {
            const struct esum *s = &x->s[e];
            hist[s->reached | (size_t)s->converted << EPI_MAX_ORDER]++;
            for (unsigned b = s->converted; b && !rc; b &= b - 1) {
                int k = __builtin_ctz(b);
                if (t[k].n == t[k].cap &&
                    cxm_grow((void **)&t[k].v, &t[k].cap, t[k].n + 1, sizeof *t[k].v))
                    rc = CXM_ENOMEM;
                else
                    t[k].v[t[k].n++] = *times++;
            }
        }
    }
    for (size_t h = 0; !rc && h < nhist; h++)
        if (hist[h])
            rc = funnel_add_counts(w->funnel, h & ((1u << EPI_MAX_ORDER) - 1),
                                   h >> EPI_MAX_ORDER, hist[h]);
    for (size_t k = 0; k < EPI_MAX_ORDER; k++) {
        if (!rc && t[k].n)
            rc = funnel_add_times(w->funnel, k, t[k].v, t[k].n);
        free(t[k].v);
    }
    free(hist);
    return rc;
}

/* Adds the friction counted by outcome class into the four accumulators. */
static int fclass_flush(struct views *w)
{
    if (!w->fclass)
        return CXM_OK;
    size_t ntp = w->fntp;
    uint64_t *nw = cxm_calloc(2 * ntp, sizeof *nw);
    if (!nw)
        return CXM_ENOMEM;
    uint64_t *kw = nw + ntp;
    static const unsigned bit[O_COUNT] = {FC_DETRACTOR, FC_NEGATIVE, FC_EFFORT, FC_CHURNED};
    int rc = CXM_OK;
    for (int o = 0; !rc && o < O_COUNT; o++) {
        memset(nw, 0, 2 * ntp * sizeof *nw);
        uint64_t eps = 0, outs = 0;
        for (unsigned c = 0; c < FC_CLASSES; c++) {
            if (o == O_CHURN && !(c & FC_KNOWN))
                continue;
            bool had = c & bit[o];
            eps += w->fclass_all[c];
            outs += had ? w->fclass_all[c] : 0;
            for (size_t t = 0; t < ntp; t++) {
                uint64_t n = w->fclass[t * FC_CLASSES + c];
                nw[t] += n;
                kw[t] += had ? n : 0;
            }
        }
        rc = friction_add_counts(w->fr[o], nw, kw, ntp, eps, outs);
    }
    free(nw);
    return rc;
}

static json_t *funnel_json(const struct model *m, struct funnel *f, size_t ns)
{
    struct funnel_stage st[JOURNEY_MAX_STAGES];
    funnel_result(f, st);
    json_t *rows = json_array();
    for (size_t k = 0; k < ns; k++) {
        json_t *row = json_pack("{s:o, s:I, s:I}", "stage", jname(m, DICT_STAGE, st[k].stage),
                                "reached", (json_int_t)st[k].reached, "reached_or_beyond",
                                (json_int_t)st[k].reached_or_beyond);
        if (k + 1 < ns) {
            json_object_set_new(row, "next", jname(m, DICT_STAGE, st[k + 1].stage));
            json_object_set_new(row, "converted", json_integer((json_int_t)st[k].converted));
            json_object_set_new(row, "conversion", st[k].has_rate ? json_real(st[k].rate)
                                                                  : json_null());
            json_object_set_new(row, "median_hours", st[k].has_times ?
                                json_real(round(st[k].median / 36) / 100) : json_null());
            json_object_set_new(row, "p90_hours", st[k].has_times ?
                                json_real(round(st[k].p90 / 36) / 100) : json_null());
        }
        json_array_append_new(rows, row);
    }
    return rows;
}

static json_t *flows_json(const struct model *m, struct flows *f, size_t ntp, size_t top)
{
    json_t *nodes = json_array();
    for (size_t t = 1; t < ntp; t++) {
        uint64_t v = flows_volume(f, (uint16_t)t);
        if (v)
            json_array_append_new(nodes, json_pack("{s:o, s:I, s:I, s:I}", "touchpoint",
                                  jname(m, DICT_TOUCHPOINT, (uint32_t)t), "volume",
                                  (json_int_t)v, "out", (json_int_t)flows_out(f, (uint16_t)t),
                                  "self", (json_int_t)flows_self(f, (uint16_t)t)));
    }
    struct flow_link *lk = cxm_malloc((top ? top : 1) * sizeof *lk);
    size_t nl = 0;
    uint64_t oc = 0, ol = 0;
    json_t *links = json_array();
    if (lk && !flows_top(f, top, lk, &nl, &oc, &ol))
        for (size_t k = 0; k < nl; k++)
            json_array_append_new(links, json_pack("{s:o, s:o, s:I, s:f}", "from",
                                  jname(m, DICT_TOUCHPOINT, lk[k].from), "to",
                                  jname(m, DICT_TOUCHPOINT, lk[k].to), "count",
                                  (json_int_t)lk[k].count, "share", lk[k].share));
    free(lk);
    return json_pack("{s:o, s:o, s:{s:I, s:I}}", "nodes", nodes, "links", links, "other",
                     "count", (json_int_t)oc, "links", (json_int_t)ol);
}

static json_t *paths_json(const struct model *m, struct paths *p, size_t top)
{
    struct path_row *pr = cxm_malloc((top ? top : 1) * sizeof *pr);
    size_t n = 0;
    json_t *rows = json_array();
    if (pr && !paths_top(p, top, pr, &n))
        for (size_t k = 0; k < n; k++) {
            json_t *path = json_array();
            for (size_t i = 0; i < pr[k].len; i++)
                json_array_append_new(path, jname(m, DICT_TOUCHPOINT, pr[k].tp[i]));
            json_array_append_new(rows, json_pack("{s:o, s:b, s:I, s:I, s:f, s:o, s:o}",
                "path", path, "truncated", pr[k].truncated, "episodes",
                (json_int_t)pr[k].episodes, "purchases", (json_int_t)pr[k].purchases,
                "conversion", pr[k].conversion, "satisfaction",
                pr[k].sat_n ? json_real(pr[k].sat_mean) : json_null(),
                "churn", pr[k].churn_n ? json_real(pr[k].churn) : json_null()));
        }
    free(pr);
    return rows;
}

static json_t *dropoffs_json(const struct model *m, struct dropoffs *d, size_t top)
{
    struct dropoff_row *dr = cxm_malloc((top ? top : 1) * sizeof *dr);
    size_t n = 0;
    json_t *rows = json_array();
    if (dr && !dropoffs_top(d, top, dr, &n))
        for (size_t k = 0; k < n; k++)
            json_array_append_new(rows, json_pack("{s:o, s:o, s:I, s:f}", "last_touchpoint",
                                  jname(m, DICT_TOUCHPOINT, dr[k].tp), "channel",
                                  jname(m, DICT_CHANNEL, dr[k].channel), "count",
                                  (json_int_t)dr[k].count, "share", dr[k].share));
    free(dr);
    return json_pack("{s:I, s:I, s:o}", "episodes", (json_int_t)dropoffs_episodes(d),
                     "abandoned", (json_int_t)dropoffs_abandoned(d), "rows", rows);
}

struct frow {
    uint16_t tp;
    double lift;
};

static int frow_cmp(const void *pa, const void *pb)
{
    const struct frow *a = pa, *b = pb;
    if (a->lift != b->lift)
        return a->lift < b->lift ? 1 : -1;
    return (a->tp > b->tp) - (a->tp < b->tp);
}

static json_t *friction_json(const struct model *m, struct friction **fr, size_t ntp, int rank)
{
    struct frow *fw = cxm_malloc(ntp * sizeof *fw);
    size_t n = 0;
    for (size_t t = 1; fw && t < ntp; t++) {
        struct friction_row r = friction_result(fr[O_DETRACTOR], (uint16_t)t);
        if (!r.n_with)
            continue;
        struct friction_row rr = friction_result(fr[rank], (uint16_t)t);
        fw[n++] = (struct frow){(uint16_t)t, rr.has_value ? rr.lift : -INFINITY};
    }
    if (fw)
        qsort(fw, n, sizeof *fw, frow_cmp);
    json_t *rows = json_array();
    for (size_t k = 0; k < n; k++) {
        json_t *row = json_pack("{s:o}", "touchpoint", jname(m, DICT_TOUCHPOINT, fw[k].tp));
        for (int o = 0; o < O_COUNT; o++) {
            struct friction_row r = friction_result(fr[o], fw[k].tp);
            json_object_set_new(row, outcome_names[o], json_pack(
                "{s:I, s:o, s:I, s:o, s:o, s:o, s:o}", "n_with", (json_int_t)r.n_with,
                "rate_with", r.n_with ? json_real(r.rate_with) : json_null(),
                "n_without", (json_int_t)r.n_without,
                "rate_without", r.n_without ? json_real(r.rate_without) : json_null(),
                "lift", r.has_value ? json_real(r.lift) : json_null(),
                "lift_low", r.has_value ? json_real(r.lo) : json_null(),
                "lift_high", r.has_value ? json_real(r.hi) : json_null()));
        }
        json_array_append_new(rows, row);
    }
    free(fw);
    return rows;
}

static void views_free(struct views *w)
{
    funnel_free(w->funnel);
    flows_free(w->flows);
    paths_free(w->paths);
    dropoffs_free(w->drop);
    for (int o = 0; o < O_COUNT; o++)
        friction_free(w->fr[o]);
    free(w->resolve);
    free(w->fclass);
    conformance_free(w->conf);
}

/* A designed journey: {"stages": [{"stage": "awareness", "touchpoints":
 * ["homepage", ...]}, ...]} (touchpoints optional: any). Stages must be
 * in the data; touchpoints the data never had are expected in vain. */
static int design_parse(const struct model *m, const char *json, struct views *w,
                        struct cxm_err *err)
{
    if (!json || !*json)
        return cxm_err_field(err, CXM_EINVAL, -1, "design", "conformance needs the designed"
                             " journey: {\"stages\":[{\"stage\":...,\"touchpoints\":[...]}]}");
    json_error_t je;
    json_t *d = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    json_t *st = json_object_get(d, "stages");
    size_t ns = json_array_size(st);
    if (!d)
        return cxm_err_field(err, CXM_EINVAL, -1, "design", "design: %s (line %d)",
                             je.text, je.line);
    if (!json_is_array(st) || ns == 0 || ns > JOURNEY_MAX_STAGES) {
        json_decref(d);
        return cxm_err_field(err, CXM_EINVAL, -1, "design", "design: \"stages\" must be"
                             " a list of 1 to %d stages", JOURNEY_MAX_STAGES);
    }
    size_t ntp = dict_count(m->dict[DICT_TOUCHPOINT]) + 1;
    uint16_t *tps[JOURNEY_MAX_STAGES] = {0};
    size_t ntps[JOURNEY_MAX_STAGES] = {0};
    int rc = CXM_OK;
    for (size_t k = 0; !rc && k < ns; k++) {
        json_t *s = json_array_get(st, k);
        const char *name = json_string_value(json_object_get(s, "stage"));
        json_t *tl = json_object_get(s, "touchpoints");
        uint16_t code = name ? dict_code(m, DICT_STAGE, name) : 0;
        if (!code) {
            rc = cxm_err_field(err, CXM_EINVAL, (long)k, "design", name ?
                               "design: stage %zu '%s' is not a stage of the data" :
                               "design: stage %zu has no \"stage\" name%s", k, name ? name : "");
            break;
        }
        if (tl && !json_is_array(tl)) {
            rc = cxm_err_field(err, CXM_EINVAL, (long)k, "design", "design: stage %zu:"
                               " \"touchpoints\" must be a list of names", k);
            break;
        }
        w->dstages[w->nds++] = code;
        size_t nt = json_array_size(tl);
        if (nt && !(tps[k] = cxm_malloc(nt * sizeof **tps))) {
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < nt; i++) {
            const char *t = json_string_value(json_array_get(tl, i));
            uint16_t c = t ? dict_code(m, DICT_TOUCHPOINT, t) : 0;
            if (!t) {
                rc = cxm_err_field(err, CXM_EINVAL, (long)k, "design", "design: stage %zu:"
                                   " touchpoint %zu is not a string", k, i);
                break;
            }
            if (c)
                tps[k][ntps[k]++] = c;
        }
        /* a stage whose expected touchpoints the data never had expects
         * something no event has: keep it strict with an impossible code */
        if (!rc && nt && !ntps[k])
            tps[k][ntps[k]++] = 0;
    }
    if (!rc) {
        const uint16_t *const *ex = (const uint16_t *const *)tps;
        w->conf = conformance_new(w->dstages, w->nds, ex, ntps, ntp,
                                  dict_count(m->dict[DICT_STAGE]) + 1);
        if (!w->conf)
            rc = cxm_err_field(err, CXM_EINVAL, -1, "design", "design: a stage appears"
                               " twice (or out of memory)");
    }
    for (size_t k = 0; k < ns; k++)
        free(tps[k]);
    json_decref(d);
    return rc;
}

static json_t *conformance_json(const struct model *m, struct views *w, size_t top)
{
    struct conformance_totals t;
    conformance_totals(w->conf, &t);
    struct metric_value share = metrics_prop(t.conforming, t.compared);
    json_t *skipped = json_array(), *back = json_array(), *unexp = json_array(),
           *undecl = json_array();
    for (size_t k = 0; k < w->nds; k++) {
        uint64_t n = conformance_skipped(w->conf, k);
        if (n)
            json_array_append_new(skipped, json_pack("{s:o, s:I}", "stage",
                                  jname(m, DICT_STAGE, w->dstages[k]), "count", (json_int_t)n));
        for (size_t b = 0; b < w->nds; b++)
            if ((n = conformance_backward(w->conf, k, b)))
                json_array_append_new(back, json_pack("{s:o, s:o, s:I}", "from",
                                      jname(m, DICT_STAGE, w->dstages[k]), "to",
                                      jname(m, DICT_STAGE, w->dstages[b]), "count",
                                      (json_int_t)n));
        for (uint32_t tp = 1; tp <= dict_count(m->dict[DICT_TOUCHPOINT]); tp++)
            if ((n = conformance_unexpected(w->conf, k, (uint16_t)tp)) &&
                json_array_size(unexp) < top)
                json_array_append_new(unexp, json_pack("{s:o, s:o, s:I}", "stage",
                                      jname(m, DICT_STAGE, w->dstages[k]), "touchpoint",
                                      jname(m, DICT_TOUCHPOINT, tp), "count", (json_int_t)n));
    }
    for (uint32_t s = 1; s <= dict_count(m->dict[DICT_STAGE]); s++) {
        uint64_t n = conformance_undeclared(w->conf, (uint16_t)s);
        if (n)
            json_array_append_new(undecl, json_pack("{s:o, s:I}", "stage",
                                  jname(m, DICT_STAGE, s), "count", (json_int_t)n));
    }
    return json_pack("{s:I, s:I, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:{s:o, s:o, s:o, s:o}}",
        "compared", (json_int_t)t.compared, "conforming", (json_int_t)t.conforming,
        "conformance_pct", share.has_value ? json_real(share.value) : json_null(),
        "margin", share.has_value ? json_real(share.margin) : json_null(),
        "episodes_with", "skipped_stages", (json_int_t)t.with_skip, "backward_moves",
        (json_int_t)t.with_backward, "unexpected_touchpoints", (json_int_t)t.with_unexpected,
        "undeclared_stages", (json_int_t)t.with_undeclared,
        "deviations", "skipped", skipped, "backward", back, "unexpected", unexp,
        "undeclared", undecl);
}

int engine_journeys(struct engine *e, const struct journey_query *q, json_t **out,
                    struct cxm_err *err)
{
    struct views w = {.v = V_COUNT, .ended = -1};
    if (q->ended && *q->ended) {
        if (!strcmp(q->ended, "purchase"))
            w.ended = 1;
        else if (!strcmp(q->ended, "no_purchase"))
            w.ended = 0;
        else
            return cxm_err_field(err, CXM_EINVAL, -1, "ended", "ended: purchase or"
                                 " no_purchase");
    }
    for (int v = 0; v < V_COUNT; v++)
        if (q->view && !strcmp(q->view, view_names[v]))
            w.v = (enum view)v;
    if (w.v == V_COUNT)
        return cxm_err_field(err, CXM_EINVAL, -1, "view", "view: funnel, flows, paths,"
                             " dropoffs, friction or conformance");
    if (q->gap < 60 || q->gap > 365LL * DAY)
        return cxm_err_field(err, CXM_EINVAL, -1, "gap", "gap: 1 minute to 365 days");
    int rank = O_DETRACTOR;
    if (q->outcome && *q->outcome) {
        rank = O_COUNT;
        for (int o = 0; o < O_COUNT; o++)
            if (!strcmp(q->outcome, outcome_names[o]))
                rank = o;
        if (rank == O_COUNT)
            return cxm_err_field(err, CXM_EINVAL, -1, "outcome", "outcome: detractor,"
                                 " negative_sentiment, high_effort or churn");
    }
    size_t top = q->top ? q->top : 20;
    double t0 = cxm_seconds();
    segments_rdlock(e);
    const struct model *m = e->m;
    /* every profile's events and episodes, built once per state of the
     * data and kept (struct jstate), which queries share; and the answer
     * kept for this state, when there is one */
    pthread_mutex_lock(&e->jmu);
    struct jstate *st = NULL;
    int rc = cache_current(e, &st);
    if (rc)
        cxm_err_set(err, rc, "out of memory");
    char key[JMEMO_KEY];
    bool keyed = !rc && !q->fresh && memo_key(q, rank, top, key);
    json_t *doc = keyed ? memo_get(st, key) : NULL;
    pthread_mutex_unlock(&e->jmu);
    struct cust_filter *cf = NULL;
    if (!rc && !doc)
        rc = cust_filter_new(e, q->where, &cf, err);
    uint16_t stages[JOURNEY_MAX_STAGES];
    size_t ns = 0;
    size_t ntp = dict_count(m->dict[DICT_TOUCHPOINT]) + 1;
    size_t nch = dict_count(m->dict[DICT_CHANNEL]) + 1;
    uint16_t goal = JOURNEY_GOAL_PURCHASE;
    /* a kept answer's query was checked when it was answered */
    if (!rc && !doc && q->goal && *q->goal && !(goal = dict_code(m, DICT_STAGE, q->goal)))
        rc = cxm_err_field(err, CXM_EINVAL, -1, "goal", "goal: no stage '%s' in the data",
                           q->goal);
    if (!rc && w.v == V_FUNNEL)
        rc = stage_order(m, q->stages, stages, &ns, err);
    if (!rc && w.v == V_CONFORMANCE)
        rc = design_parse(m, q->design, &w, err);
    if (!rc && q->channel && *q->channel && !(w.channel = dict_code(m, DICT_CHANNEL, q->channel)))
        rc = cxm_err_field(err, CXM_EINVAL, -1, "channel", "channel: no channel '%s' in"
                           " the data", q->channel);
    if (!rc && !doc) {
        switch (w.v) {
        case V_FUNNEL: w.funnel = funnel_new(stages, ns); rc = !w.funnel; break;
        case V_FLOWS: w.flows = flows_new(ntp, q->self_links); rc = !w.flows; break;
        case V_PATHS:
            w.paths = paths_new(q->max_len ? q->max_len : 8);
            rc = !w.paths;
            break;
        case V_DROPOFFS: w.drop = dropoffs_new(ntp, nch, goal); rc = !w.drop; break;
        case V_CONFORMANCE: break;
        default:
            for (int o = 0; o < O_COUNT; o++)
                rc |= !(w.fr[o] = friction_new(ntp));
            break;
        }
        if (rc)
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory (or too many touchpoints)");
    }
    int64_t latest = rc ? 0 : st->latest;
    /* the kept episodes answer the default gap over the whole period */
    bool kept = !rc && !doc && !q->scan && q->gap == JOURNEY_DEFAULT_GAP && q->from <= st->first &&
                q->to > st->latest;
    if (kept && w.v == V_FUNNEL)
        kept = st->base->x.norder == ns &&
               !memcmp(st->base->x.order, stages, ns * sizeof *stages);
    if (kept && w.v == V_DROPOFFS)
        kept = goal == JOURNEY_GOAL_PURCHASE || goal < 32;
    if (kept && w.v == V_CONFORMANCE)
        kept = false;
    if (kept && w.v == V_FRICTION) {
        w.fntp = ntp < 64 ? ntp : 64;
        if (!(w.fclass = cxm_calloc(w.fntp * FC_CLASSES, sizeof *w.fclass)))
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    uint32_t *starts = NULL;
    struct jevent *buf = NULL;
    uint16_t *tbuf = kept ? cxm_malloc((st->maxtp ? st->maxtp : 1) * sizeof *tbuf) : NULL;
    if (kept && !tbuf)
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    size_t cap = 0, j = 1;
    uint32_t slot;
    /* the funnel adds up the kept episodes by itself */
    bool done = kept && w.v == V_FUNNEL;
    if (done && !rc && (rc = kept_funnel(&w, st, cf)))
        cxm_err_set(err, rc, "journey accumulation failed: %s", cxm_rc_str(rc));
    for (uint32_t c = 1; kept && !done && !rc && c <= st->ncust; c++) {
        const struct part *p = part_next(st, c, &j, &slot);
        if (!p)
            continue;
        const struct epi *x = &p->x;
        size_t e0 = x->first[slot], e1 = x->first[slot + 1];
        if (e0 == e1 || !cust_filter_pass(cf, c))
            continue;
        for (size_t k = e0; !rc && k < e1; k++)
            if ((rc = feed_kept(&w, &p->g, x, k, p->g.start[slot + 1], latest, tbuf)))
                cxm_err_set(err, rc, "journey accumulation failed: %s", cxm_rc_str(rc));
    }
    for (uint32_t c = 1; !doc && !kept && !rc && c <= st->ncust; c++) {
        const struct part *p = part_next(st, c, &j, &slot);
        if (!p)
            continue;
        const struct gathered *gp = &p->g;
        size_t lo = gp->start[slot], hi = gp->start[slot + 1];
        if (lo == hi || !cust_filter_pass(cf, c))
            continue;
        /* the period: a slice of the time-ordered events */
        size_t all_hi = hi;
        while (lo < hi && (int64_t)gp->ev[lo].ts < q->from)
            lo++;
        while (hi > lo && (int64_t)gp->ev[hi - 1].ts >= q->to)
            hi--;
        size_t n = hi - lo;
        if (!n)
            continue;
        if (n + 1 > cap) {
            cap = n + 1;
            free(starts);
            free(buf);
            starts = cxm_malloc(cap * sizeof *starts);
            buf = cxm_malloc(cap * sizeof *buf);
            if (!starts || !buf) {
                rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
                break;
            }
        }
        size_t ne = journey_episodes(gp->ev + lo, n, (uint32_t)q->gap, starts);
        for (size_t k = 0; !rc && k < ne; k++) {
            size_t a = starts[k], b = k + 1 < ne ? starts[k + 1] : n;
            /* the event after the episode, past the period too (churn) */
            const struct jevent *next = lo + b < all_hi ? &gp->ev[lo + b] : NULL;
            if ((rc = feed(&w, gp->ev + lo + a, gp->flags + lo + a, b - a, next, latest, buf)))
                cxm_err_set(err, rc, "journey accumulation failed: %s", cxm_rc_str(rc));
        }
    }
    free(starts);
    free(buf);
    free(tbuf);
    if (!rc && (rc = fclass_flush(&w)))
        cxm_err_set(err, rc, "journey accumulation failed: %s", cxm_rc_str(rc));
    if (!rc && !doc) {
        doc = json_pack("{s:s, s:I, s:I, s:I}", "view", view_names[w.v], "gap_days",
                        (json_int_t)(q->gap / DAY), "episodes", (json_int_t)w.episodes,
                        "events", (json_int_t)w.events);
        switch (w.v) {
        case V_FUNNEL: json_object_set_new(doc, "rows", funnel_json(m, w.funnel, ns)); break;
        case V_FLOWS: json_object_update_new(doc, flows_json(m, w.flows, ntp, top)); break;
        case V_PATHS: json_object_set_new(doc, "rows", paths_json(m, w.paths, top)); break;
        case V_DROPOFFS: json_object_update_new(doc, dropoffs_json(m, w.drop, top)); break;
        case V_CONFORMANCE: json_object_update_new(doc, conformance_json(m, &w, top)); break;
        default:
            json_object_set_new(doc, "ranked_by", json_string(outcome_names[rank]));
            json_object_set_new(doc, "churn_episodes", json_integer((json_int_t)w.churn_known));
            json_object_set_new(doc, "rows", friction_json(m, w.fr, ntp, rank));
            json_object_set_new(doc, "resolution", resolution_json(&w));
            break;
        }
        json_object_set_new(doc, "seq", json_integer(m->last_seq));
        if (keyed) {
            pthread_mutex_lock(&e->jmu);
            memo_put(st, key, doc);
            pthread_mutex_unlock(&e->jmu);
        }
    }
    if (st) {
        pthread_mutex_lock(&e->jmu);
        state_put(st);
        pthread_mutex_unlock(&e->jmu);
    }
    cust_filter_free(cf);
    pthread_rwlock_unlock(&e->lock);
    views_free(&w);
    if (rc)
        return rc;
    json_object_set_new(doc, "seconds", json_real(round((cxm_seconds() - t0) * 1e4) / 1e4));
    *out = doc;
    return CXM_OK;
}

/* ---- one customer's journey ------------------------------------------- */

int engine_customer_journey(struct engine *e, uint32_t id, int64_t gap, json_t **out,
                            struct cxm_err *err)
{
    if (gap < 60 || gap > 365LL * DAY)
        return cxm_err_field(err, CXM_EINVAL, -1, "gap", "gap: 1 minute to 365 days");
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    int rc = CXM_OK;
    if (id < 1 || id > m->ncust) {
        pthread_rwlock_unlock(&e->lock);
        return cxm_err_set(err, CXM_ENOTFOUND, "no customer %u", id);
    }
    uint32_t root = model_root(m, id);
    /* the profile's nodes, then its events (type 0 interaction, 1
     * feedback, 2 order, with the row) */
    uint32_t *nodes = NULL;
    size_t nn = 0, ncap = 0;
    struct ref { struct jevent ev; uint8_t type; uint32_t row; } *ev = NULL;
    size_t n = 0, cap = 0;
    rc = model_profile_nodes(m, root, &nodes, &nn, &ncap);
    struct codes cd = codes_of(m);
    uint8_t fl;
#define ADD(type_, row_, make) do { \
        if ((rc = cxm_grow((void **)&ev, &cap, n + 1, sizeof *ev))) break; \
        ev[n++] = (struct ref){make(m, &cd, (row_), &fl), (type_), (row_)}; } while (0)
    for (size_t k = 0; !rc && k < nn; k++) {
        const struct cust *c = &m->cust[nodes[k]];
        for (uint32_t i = c->ihead; !rc && i; i = m->ic.next[i])
            ADD(0, i, ic_event);
        for (uint32_t i = c->fhead; !rc && i; i = m->fc.next[i])
            ADD(1, i, fc_event);
        for (uint32_t i = c->ohead; !rc && i; i = m->oc.next[i])
            ADD(2, i, oc_event);
    }
#undef ADD
    /* by time; ties by type then row, the order they were recorded */
    for (size_t i = 1; !rc && i < n; i++) {
        struct ref t = ev[i];
        size_t j = i;
        while (j > 0 && (ev[j - 1].ev.ts > t.ev.ts ||
                         (ev[j - 1].ev.ts == t.ev.ts && (ev[j - 1].type > t.type ||
                          (ev[j - 1].type == t.type && ev[j - 1].row > t.row))))) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = t;
    }
    struct jevent *flat = rc || !n ? NULL : cxm_malloc(n * sizeof *flat);
    uint32_t *starts = rc || !n ? NULL : cxm_malloc(n * sizeof *starts);
    if (!rc && n && (!flat || !starts))
        rc = CXM_ENOMEM;
    json_t *eps = rc ? NULL : json_array();
    for (size_t i = 0; !rc && i < n; i++)
        flat[i] = ev[i].ev;
    size_t ne = rc || !n ? 0 : journey_episodes(flat, n, (uint32_t)gap, starts);
    static const char *const types[] = {"interaction", "feedback", "order"};
    for (size_t k = 0; k < ne; k++) {
        size_t a = starts[k], b = k + 1 < ne ? starts[k + 1] : n;
        json_t *events = json_array(), *stages = json_array();
        bool seen[JOURNEY_MAX_STAGES * 16] = {false};
        bool bought = false;
        for (size_t i = a; i < b; i++) {
            const struct jevent *x = &flat[i];
            char ts[TIMEFMT_LEN];
            timefmt_format(x->ts, ts);
            json_t *o = json_pack("{s:s, s:s, s:I}", "ts", ts, "type", types[ev[i].type],
                                  "seq", (json_int_t)(ev[i].type == 0 ? m->ic.seq[ev[i].row]
                                                    : ev[i].type == 1 ? m->fc.seq[ev[i].row]
                                                    : m->oc.seq[ev[i].row]));
            if (x->touchpoint)
                json_object_set_new(o, "touchpoint", jname(m, DICT_TOUCHPOINT, x->touchpoint));
            if (x->channel)
                json_object_set_new(o, "channel", jname(m, DICT_CHANNEL, x->channel));
            if (x->stage != JOURNEY_NO_STAGE) {
                json_object_set_new(o, "stage", jname(m, DICT_STAGE, x->stage));
                if (x->stage < sizeof seen && !seen[x->stage]) {
                    seen[x->stage] = true;
                    json_array_append_new(stages, jname(m, DICT_STAGE, x->stage));
                }
            }
            if (!isnan(x->sat))
                json_object_set_new(o, "satisfaction", json_real(x->sat));
            bought |= x->purchase;
            json_array_append_new(events, o);
        }
        double sat;
        bool hs = journey_sat(flat + a, b - a, &sat);
        char t0[TIMEFMT_LEN], t1[TIMEFMT_LEN];
        timefmt_format(flat[a].ts, t0);
        timefmt_format(flat[b - 1].ts, t1);
        json_array_append_new(eps, json_pack("{s:s, s:s, s:o, s:b, s:o, s:o}", "start", t0,
                              "end", t1, "stages", stages, "purchase", bought,
                              "satisfaction", hs ? json_real(sat) : json_null(),
                              "events", events));
    }
    pthread_rwlock_unlock(&e->lock);
    free(nodes);
    free(ev);
    free(flat);
    free(starts);
    if (rc) {
        json_decref(eps);
        return cxm_err_set(err, rc, "out of memory");
    }
    *out = json_pack("{s:I, s:I, s:o}", "customer_id", (json_int_t)root, "gap_days",
                     (json_int_t)(gap / DAY), "episodes", eps);
    return CXM_OK;
}
