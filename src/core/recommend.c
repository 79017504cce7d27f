/* recommend.c - see recommend.h
 *
 * The pairs are counted one item at a time, not in a pair map: for item i,
 * walk the customers who bought it (an item -> customers index) and, for
 * each, the items they bought, adding into a dense counter of nitems with
 * a list of the counters touched. That is O(sum over customers of k^2)
 * for k distinct items a customer, holds one row of counts at a time, and
 * gives i's co-counts complete, so its top neighbours are chosen on the
 * spot and only they are kept. */
#include "core/recommend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Distinct items counted per customer: the most recent. A customer with
 * thousands of items (a reseller, a test account) would add millions of
 * pairs that say little about what goes with what. */
#define REC_CAP_DISTINCT 200
/* Popular items kept per category at build, the candidates a customer's
 * top categories bring: enough to fill a page after dropping what they own. */
#define REC_CAT_POPULAR 50
/* Categories a customer's candidates are drawn from: their most bought. */
#define REC_TOP_CATS 3

/* One similar item; together is the customers who bought both. */
struct rec_nb {
    uint32_t item;
    uint32_t together;
    float sim;
};

struct rec_model {
    size_t nitems, ncat;
    double cw;              /* rec_opts.category_weight */
    uint16_t *cat;          /* item -> category, 0 where ncat did not cover it */
    uint32_t *buyers;       /* item -> distinct customers (before the cap) */
    size_t *nb_off;         /* item i's neighbours: nb[nb_off[i] .. nb_off[i+1]) */
    struct rec_nb *nb;
    uint32_t *popular;      /* items bought at least once, most buyers first */
    size_t npopular;
    uint32_t *cat_off;      /* category c's top items: cat_top[cat_off[c] .. cat_off[c+1]) */
    uint32_t *cat_top;
    size_t bytes;
};

void rec_opts_default(struct rec_opts *o)
{
    o->neighbours = 50;
    o->shrink = 5;
    o->category_weight = 0.2;
    o->min_together = 2;
}

/* ---- build ---------------------------------------------------------------- */

/* Allocates count elements of size (zeroed), adding to *bytes; NULL on
 * overflow or out of memory. */
static void *alloc_n(size_t count, size_t size, size_t *bytes)
{
    size_t b;
    if (!cxm_mul_size(count, size, &b) || !cxm_add_size(*bytes, b, bytes))
        return NULL;
    return cxm_calloc(count, size);
}

/* Writes a customer's distinct items items[from .. to), most recent first,
 * at most REC_CAP_DISTINCT, into dst and returns how many. seen is all
 * false on entry and again on return. Codes out of range are skipped:
 * they have no row to count in. */
static size_t distinct_recent(const uint32_t *items, uint32_t from, uint32_t to,
                              size_t nitems, bool *seen, uint32_t *dst)
{
    size_t k = 0;
    for (uint32_t x = to; x > from && k < REC_CAP_DISTINCT; x--) {
        uint32_t it = items[x - 1];
        if (it >= nitems || seen[it])
            continue;
        seen[it] = true;
        dst[k++] = it;
    }
    for (size_t a = 0; a < k; a++)
        seen[dst[a]] = false;
    return k;
}

/* Similar items best first, ties by the smaller code: the order
 * rec_similar promises, on the stored (float) value. */
static int nb_cmp(const void *a, const void *b)
{
    const struct rec_nb *x = a, *y = b;
    if (x->sim != y->sim)
        return x->sim > y->sim ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

/* Most buyers first, ties by the smaller code; ctx is the buyer counts. */
static int pop_cmp(const void *a, const void *b, void *ctx)
{
    const uint32_t *buyers = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (buyers[x] != buyers[y])
        return buyers[x] > buyers[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* The popular list, then each category's first REC_CAT_POPULAR of it. */
static int build_popular(struct rec_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nitems; i++)
        n += m->buyers[i] > 0;
    m->popular = alloc_n(n, sizeof *m->popular, &m->bytes);
    m->cat_off = alloc_n(m->ncat + 1, sizeof *m->cat_off, &m->bytes);
    if (!m->popular || !m->cat_off)
        return CXM_ENOMEM;
    n = 0;
    for (size_t i = 0; i < m->nitems; i++)
        if (m->buyers[i])
            m->popular[n++] = (uint32_t)i;
    m->npopular = n;
    qsort_r(m->popular, n, sizeof *m->popular, pop_cmp, m->buyers);

    /* count per category (capped), prefix sums, then fill in popular order */
    for (size_t a = 0; a < n; a++) {
        uint16_t c = m->cat[m->popular[a]];
        if (m->cat_off[c + 1] < REC_CAT_POPULAR)
            m->cat_off[c + 1]++;
    }
    for (size_t c = 0; c < m->ncat; c++)
        m->cat_off[c + 1] += m->cat_off[c];
    m->cat_top = alloc_n(m->cat_off[m->ncat], sizeof *m->cat_top, &m->bytes);
    uint32_t *fill = cxm_calloc(m->ncat, sizeof *fill);
    if (!m->cat_top || !fill) {
        free(fill);
        return CXM_ENOMEM;
    }
    for (size_t a = 0; a < n; a++) {
        uint16_t c = m->cat[m->popular[a]];
        if (m->cat_off[c] + fill[c] < m->cat_off[c + 1])
            m->cat_top[m->cat_off[c] + fill[c]++] = m->popular[a];
    }
    free(fill);
    return CXM_OK;
}

/* Appends item i's neighbours from its co-counts cnt[touched[..]]
 * (resetting them) to the model. n is the capped buyer counts. */
static int keep_neighbours(struct rec_model *m, size_t *nbcap, uint32_t i, uint32_t *cnt,
                           const uint32_t *touched, size_t ntouched, const uint32_t *n,
                           const struct rec_opts *o, struct rec_nb *cand)
{
    size_t nc = 0;
    for (size_t a = 0; a < ntouched; a++) {
        uint32_t j = touched[a];
        uint32_t c = cnt[j];
        cnt[j] = 0;
        if (c < o->min_together)
            continue;
        double cc = c;
        /* n[i], n[j] >= c > 0: every customer counted in c counted both */
        double cosine = cc / sqrt((double)n[i] * (double)n[j]);
        double damp = cc / (cc + o->shrink);
        cand[nc++] = (struct rec_nb){j, c, (float)(cosine * damp)};
    }
    qsort(cand, nc, sizeof *cand, nb_cmp);
    if (nc > o->neighbours)
        nc = o->neighbours;
    size_t at = m->nb_off[i], need;
    if (!cxm_add_size(at, nc, &need))
        return CXM_ENOMEM;
    int rc = cxm_grow((void **)&m->nb, nbcap, need, sizeof *m->nb);
    if (rc)
        return rc;
    if (nc)
        memcpy(m->nb + at, cand, nc * sizeof *cand);
    m->nb_off[i + 1] = need;
    return CXM_OK;
}

/* Every item's neighbours from the customers' distinct items
 * (ucsr[uoff[u] .. uoff[u+1]), u over the nu customers with two or more). */
static int build_neighbours(struct rec_model *m, const uint32_t *uoff, const uint32_t *ucsr,
                            size_t nu, const uint32_t *n, const struct rec_opts *o)
{
    size_t ni = m->nitems, scratch = 0, nbcap = 0;
    uint32_t *ioff = alloc_n(ni + 1, sizeof *ioff, &scratch);
    uint32_t *cnt = alloc_n(ni, sizeof *cnt, &scratch);
    uint32_t *touched = alloc_n(ni, sizeof *touched, &scratch);
    struct rec_nb *cand = alloc_n(ni, sizeof *cand, &scratch);
    uint32_t *inv = NULL, *fill = NULL;
    int rc = CXM_ENOMEM;
    m->nb_off = alloc_n(ni + 1, sizeof *m->nb_off, &m->bytes);
    if (!ioff || !cnt || !touched || !cand || !m->nb_off)
        goto fail;

    /* item -> customers, over the customers that have pairs */
    for (size_t u = 0; u < nu; u++)
        for (uint32_t x = uoff[u]; x < uoff[u + 1]; x++)
            ioff[ucsr[x] + 1]++;
    for (size_t i = 0; i < ni; i++)
        ioff[i + 1] += ioff[i];
    inv = alloc_n(ioff[ni], sizeof *inv, &scratch);
    fill = alloc_n(ni, sizeof *fill, &scratch);
    if (!inv || !fill)
        goto fail;
    for (size_t u = 0; u < nu; u++)
        for (uint32_t x = uoff[u]; x < uoff[u + 1]; x++) {
            uint32_t it = ucsr[x];
            inv[ioff[it] + fill[it]++] = (uint32_t)u;
        }

    for (size_t i = 0; i < ni; i++) {
        size_t nt = 0;
        for (uint32_t a = ioff[i]; a < ioff[i + 1]; a++) {
            uint32_t u = inv[a];
            for (uint32_t x = uoff[u]; x < uoff[u + 1]; x++) {
                uint32_t j = ucsr[x];
                if (j == i)
                    continue;
                if (cnt[j]++ == 0)
                    touched[nt++] = j;
            }
        }
        rc = keep_neighbours(m, &nbcap, (uint32_t)i, cnt, touched, nt, n, o, cand);
        if (rc)
            goto fail;
    }
    /* the neighbours were grown by doubling: give back the slack */
    size_t total = m->nb_off[ni];
    if (total && total < nbcap) {
        struct rec_nb *p = cxm_realloc(m->nb, total * sizeof *m->nb);
        if (p)
            m->nb = p;
    }
    m->bytes += total * sizeof *m->nb;
    rc = CXM_OK;
fail:
    free(ioff);
    free(cnt);
    free(touched);
    free(cand);
    free(inv);
    free(fill);
    return rc;
}

/* Items out of range are skipped, categories out of range taken as 0 (none)
 * and o NULL as the defaults: the model stays usable on slightly
 * inconsistent input, which the engine's dictionaries can produce while a
 * code is being added. */
int rec_build(const uint32_t *off, const uint32_t *items, size_t nusers, size_t nitems,
              const uint16_t *category, size_t ncat, const struct rec_opts *o,
              struct rec_model **out)
{
    struct rec_opts def;
    if (!o) {
        rec_opts_default(&def);
        o = &def;
    }
    struct rec_opts opt = *o;
    if (!(opt.shrink >= 0))       /* negative or NaN: no damping at all */
        opt.shrink = 0;
    if (ncat > (size_t)UINT16_MAX + 1)  /* codes are uint16_t */
        ncat = (size_t)UINT16_MAX + 1;
    if (ncat == 0)                      /* category 0 (none) always exists */
        ncat = 1;
    if (nitems > UINT32_MAX)       /* codes are uint32_t: the rest is unused */
        nitems = UINT32_MAX;

    struct rec_model *m = cxm_calloc(1, sizeof *m);
    size_t scratch = 0;
    bool *seen = alloc_n(nitems, sizeof *seen, &scratch);
    uint32_t *tmp = alloc_n(REC_CAP_DISTINCT, sizeof *tmp, &scratch);
    uint32_t *n = alloc_n(nitems, sizeof *n, &scratch);
    uint32_t *uoff = NULL, *ucsr = NULL;
    int rc = CXM_ENOMEM;
    if (!m || !seen || !tmp || !n)
        goto fail;
    m->nitems = nitems;
    m->ncat = ncat;
    /* negative or NaN: no category part */
    m->cw = opt.category_weight > 0 && isfinite(opt.category_weight) ? opt.category_weight : 0;
    m->bytes = sizeof *m;
    m->cat = alloc_n(nitems, sizeof *m->cat, &m->bytes);
    m->buyers = alloc_n(nitems, sizeof *m->buyers, &m->bytes);
    if (!m->cat || !m->buyers)
        goto fail;
    for (size_t i = 0; i < nitems && category; i++)
        m->cat[i] = category[i] < ncat ? category[i] : 0;

    /* pass 1: buyers (every distinct item), the counts within the cap
     * (what the cosine divides by: every pair counted is within it), and
     * the size of pass 2, the customers with a pair */
    size_t nu = 0, npairs_items = 0;
    for (size_t u = 0; u < nusers; u++) {
        for (uint32_t x = off[u]; x < off[u + 1]; x++) {
            uint32_t it = items[x];
            if (it < nitems && !seen[it]) {
                seen[it] = true;
                m->buyers[it]++;
            }
        }
        for (uint32_t x = off[u]; x < off[u + 1]; x++)
            if (items[x] < nitems)
                seen[items[x]] = false;
        size_t k = distinct_recent(items, off[u], off[u + 1], nitems, seen, tmp);
        for (size_t a = 0; a < k; a++)
            n[tmp[a]]++;
        if (k >= 2) {
            nu++;
            npairs_items += k;
        }
    }
    /* pass 2: the distinct capped items of customers with a pair (at most
     * the input's length, which fits uint32_t offsets) */
    uoff = alloc_n(nu + 1, sizeof *uoff, &scratch);
    ucsr = alloc_n(npairs_items, sizeof *ucsr, &scratch);
    if (!uoff || !ucsr)
        goto fail;
    size_t v = 0;
    for (size_t u = 0; u < nusers; u++) {
        size_t k = distinct_recent(items, off[u], off[u + 1], nitems, seen, tmp);
        if (k >= 2) {
            memcpy(ucsr + uoff[v], tmp, k * sizeof *tmp);
            uoff[v + 1] = uoff[v] + (uint32_t)k;
            v++;
        }
    }

    rc = build_neighbours(m, uoff, ucsr, nu, n, &opt);
    if (!rc)
        rc = build_popular(m);
    if (rc)
        goto fail;
    free(seen);
    free(tmp);
    free(n);
    free(uoff);
    free(ucsr);
    *out = m;
    return CXM_OK;
fail:
    free(seen);
    free(tmp);
    free(n);
    free(uoff);
    free(ucsr);
    rec_free(m);
    return rc;
}

void rec_free(struct rec_model *m)
{
    if (!m)
        return;
    free(m->cat);
    free(m->buyers);
    free(m->nb_off);
    free(m->nb);
    free(m->popular);
    free(m->cat_off);
    free(m->cat_top);
    free(m);
}

/* ---- queries -------------------------------------------------------------- */

size_t rec_similar(const struct rec_model *m, uint32_t item, struct rec_item *out,
                   size_t max)
{
    if (!m || item >= m->nitems)
        return 0;
    size_t k = 0;
    for (size_t a = m->nb_off[item]; a < m->nb_off[item + 1] && k < max; a++) {
        const struct rec_nb *nb = &m->nb[a];
        out[k++] = (struct rec_item){nb->item, nb->sim, REC_TOGETHER, item, nb->together,
                                     m->cat[nb->item]};
    }
    return k;
}

/* A candidate of one rec_recommend call. */
struct cand {
    uint32_t item;
    uint32_t because, together;   /* the owned item with the largest share */
    float best;                   /* its similarity */
    double sim;                   /* sum over owned items */
    float score;
    enum rec_reason reason;
};

/* Scratch flags per item. */
enum { F_OWNED = 1, F_EXCLUDED = 2 };

struct scratch {
    uint32_t *slot;     /* item -> candidate index + 1, 0 when none */
    uint8_t *flag;
    struct cand *c;
    size_t n, cap;
};

static struct cand *cand_get(struct scratch *s, uint32_t item)
{
    if (s->slot[item])
        return &s->c[s->slot[item] - 1];
    if (cxm_grow((void **)&s->c, &s->cap, s->n + 1, sizeof *s->c))
        return NULL;
    struct cand *c = &s->c[s->n++];
    *c = (struct cand){.item = item};
    s->slot[item] = (uint32_t)s->n;
    return c;
}

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

struct catcount {
    uint16_t cat;
    uint32_t n;
};

/* The REC_TOP_CATS categories bought most (not 0, none), ties by code:
 * kept in a small sorted array so ncat may be large. */
static size_t top_cats(const uint32_t *cnt, size_t ncat, uint16_t *top)
{
    struct catcount best[REC_TOP_CATS];
    size_t k = 0;
    for (size_t c = 1; c < ncat; c++) {
        if (!cnt[c])
            continue;
        size_t at = k;
        while (at > 0 && best[at - 1].n < cnt[c])
            at--;
        if (at >= REC_TOP_CATS)
            continue;
        if (k < REC_TOP_CATS)
            k++;
        memmove(best + at + 1, best + at, (k - 1 - at) * sizeof *best);
        best[at] = (struct catcount){(uint16_t)c, cnt[c]};
    }
    for (size_t a = 0; a < k; a++)
        top[a] = best[a].cat;
    return k;
}

static bool linear_has(const uint32_t *v, size_t n, uint32_t x)
{
    for (size_t a = 0; a < n; a++)
        if (v[a] == x)
            return true;
    return false;
}

static bool out_has(const struct rec_item *out, size_t n, uint32_t x)
{
    for (size_t a = 0; a < n; a++)
        if (out[a].item == x)
            return true;
    return false;
}

/* Scores the candidates into s; the popular fill comes after. The owned
 * items scored are the distinct REC_CAP_DISTINCT most recent, as at build;
 * every owned item is still excluded. */
static int score(const struct rec_model *m, const uint32_t *owned, size_t nowned,
                 const bool *consumable, struct scratch *s, uint32_t *catcnt)
{
    double cw = m->cw;
    size_t nsrc = 0;
    for (size_t x = nowned; x > 0; x--) {
        uint32_t it = owned[x - 1];
        if (it >= m->nitems)
            continue;
        uint16_t c = m->cat[it];
        catcnt[c]++;
        if (!(consumable && consumable[c]))
            s->flag[it] |= F_EXCLUDED;
        if ((s->flag[it] & F_OWNED) || nsrc >= REC_CAP_DISTINCT)
            continue;
        s->flag[it] |= F_OWNED;
        nsrc++;
        for (size_t a = m->nb_off[it]; a < m->nb_off[it + 1]; a++) {
            const struct rec_nb *nb = &m->nb[a];
            /* excluded is only known once every owned item is seen: such
             * candidates are dropped below */
            struct cand *cd = cand_get(s, nb->item);
            if (!cd)
                return CXM_ENOMEM;
            cd->sim += nb->sim;
            if (nb->sim > cd->best || (nb->sim == cd->best && it < cd->because)) {
                cd->best = nb->sim;
                cd->because = it;
                cd->together = nb->together;
            }
        }
    }
    uint16_t top[REC_TOP_CATS];
    size_t ntop = cw > 0 ? top_cats(catcnt, m->ncat, top) : 0;
    for (size_t t = 0; t < ntop; t++)
        for (uint32_t a = m->cat_off[top[t]]; a < m->cat_off[top[t] + 1]; a++)
            if (!cand_get(s, m->cat_top[a]))
                return CXM_ENOMEM;

    /* nowned > 0 here; purchases of unknown items count in the share */
    double total = (double)nowned;
    size_t k = 0;
    for (size_t a = 0; a < s->n; a++) {
        struct cand cd = s->c[a];
        if (s->flag[cd.item] & F_EXCLUDED)
            continue;
        double catpart = cw * (double)catcnt[m->cat[cd.item]] / total;
        if (m->cat[cd.item] == 0)
            catpart = 0;      /* "no category" is no taste */
        double sc = cd.sim + catpart;
        if (!(sc > 0))
            continue;
        cd.score = (float)sc;
        cd.reason = cd.sim > catpart ? REC_TOGETHER : REC_CATEGORY;
        s->c[k++] = cd;
    }
    s->n = k;
    if (k)   /* s->c is NULL when nothing was a candidate */
        qsort(s->c, k, sizeof *s->c, cand_cmp);
    return CXM_OK;
}

/* Candidates: the neighbours of the owned items and the popular items of
 * the customer's REC_TOP_CATS categories, so at most REC_CAP_DISTINCT *
 * neighbours + REC_TOP_CATS * REC_CAT_POPULAR whatever the catalogue.
 * because and together name the owned item with the largest similarity
 * share whenever one contributes, REC_CATEGORY included (a page can show
 * both reasons); otherwise because is the item itself and together 0.
 * The popular fill scores 0. */
size_t rec_recommend(const struct rec_model *m, const uint32_t *owned, size_t nowned,
                     const bool *consumable, const uint32_t *popular, size_t npopular,
                     struct rec_item *out, size_t max, int *rc)
{
    if (rc)
        *rc = CXM_OK;
    if (!m || max == 0)
        return 0;
    struct scratch s = {0};
    uint32_t *catcnt = NULL;
    size_t k = 0;
    if (nowned) {
        s.slot = cxm_calloc(m->nitems, sizeof *s.slot);
        s.flag = cxm_calloc(m->nitems, sizeof *s.flag);
        catcnt = cxm_calloc(m->ncat, sizeof *catcnt);
        if (!s.slot || !s.flag || !catcnt || score(m, owned, nowned, consumable, &s, catcnt)) {
            if (rc)
                *rc = CXM_ENOMEM;
            goto done;
        }
        for (size_t a = 0; a < s.n && k < max; a++) {
            const struct cand *cd = &s.c[a];
            bool why = cd->together > 0;
            out[k++] = (struct rec_item){cd->item,         cd->score,
                                         cd->reason,       why ? cd->because : cd->item,
                                         cd->together,     m->cat[cd->item]};
        }
    }
    /* the fill: never owned (unless consumable), never twice */
    for (size_t a = 0; a < npopular && k < max; a++) {
        uint32_t it = popular[a];
        if (it < m->nitems ? s.flag && (s.flag[it] & F_EXCLUDED)
                           : linear_has(owned, nowned, it))
            continue;   /* unknown to the model: only the owned list can say */
        if (out_has(out, k, it))
            continue;
        out[k++] = (struct rec_item){it, 0, REC_POPULAR, it, 0,
                                     it < m->nitems ? m->cat[it] : 0};
    }
done:
    free(s.slot);
    free(s.flag);
    free(s.c);
    free(catcnt);
    return k;
}

const uint32_t *rec_popular(const struct rec_model *m, size_t *n)
{
    *n = m ? m->npopular : 0;
    return m ? m->popular : NULL;
}

uint32_t rec_buyers(const struct rec_model *m, uint32_t item)
{
    return m && item < m->nitems ? m->buyers[item] : 0;
}

size_t rec_model_bytes(const struct rec_model *m)
{
    return m ? m->bytes : 0;
}
