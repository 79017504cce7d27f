/* eval.c - offline check of src/core/recommend.c: does it predict what a
 * customer buys next better than the most popular items?
 *
 *   eval ORDERS.csv
 *
 * ORDERS.csv: customer,ts,sku,category (integers; a header line is
 * skipped; an empty category is none, a row without sku is skipped). An
 * order is the rows of one customer with one ts. For each customer with
 * two orders or more, the last order (all its rows) is held out; the
 * model is trained on everything else. Each held-out customer gets the
 * top 10 of rec_recommend (owned items excluded, no consumables, the
 * model's popular list as the fill) and of a popularity baseline (the
 * items with most buyers in training that the customer does not own).
 * hit@10: at least one held-out item in the 10. NDCG@10: binary relevance
 * (the held-out distinct items), ideal DCG over min(10, their number).
 * Both once over every held-out item, and once over the items new to the
 * customer (those not bought before the last order), which are the only
 * ones a list without owned items can hit. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/recommend.h"

#define TOP 10

struct row {
    int64_t cust, ts, sku, cat;    /* cat -1: none */
    uint32_t pos;                  /* position in the file: ties in time */
    uint32_t item;                 /* dense code, after loading */
};

static void die(const char *what)
{
    fprintf(stderr, "eval: %s\n", what);
    exit(1);
}

static void *xalloc(size_t count, size_t size)
{
    void *p = cxm_calloc(count, size);
    if (!p)
        die("out of memory");
    return p;
}

/* Parses one integer field ending at ',' or the end of the line; an
 * empty field gives *empty. Returns the position after the field or NULL. */
static char *field(char *p, int64_t *v, bool *empty)
{
    char *stop = p;
    while (*stop && *stop != ',' && *stop != '\n' && *stop != '\r')
        stop++;
    *empty = stop == p;
    if (!*empty) {
        char save = *stop;
        *stop = '\0';
        bool ok = cxm_parse_i64(p, v);
        *stop = save;
        if (!ok)
            return NULL;
    }
    return *stop == ',' ? stop + 1 : stop;
}

static struct row *load(const char *path, size_t *nrows, size_t *skipped)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "eval: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    struct row *rows = NULL;
    size_t n = 0, cap = 0, line_no = 0;
    char *line = NULL;
    size_t lcap = 0;
    *skipped = 0;
    while (getline(&line, &lcap, f) > 0) {
        line_no++;
        int64_t v[4] = {0};
        bool empty[4];
        char *p = line;
        for (int k = 0; k < 4 && p; k++)
            p = field(p, &v[k], &empty[k]);
        if (!p || empty[0] || empty[1]) {
            if (line_no == 1)
                continue;       /* the header */
            fprintf(stderr, "eval: %s:%zu: bad row\n", path, line_no);
            exit(1);
        }
        if (empty[2]) {
            ++*skipped;
            continue;
        }
        if (n == UINT32_MAX)
            die("too many rows");
        if (cxm_grow((void **)&rows, &cap, n + 1, sizeof *rows))
            die("out of memory");
        rows[n] = (struct row){v[0], v[1], v[2], empty[3] ? -1 : v[3], (uint32_t)n, 0};
        n++;
    }
    free(line);
    fclose(f);
    *nrows = n;
    return rows;
}

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->cust != y->cust)
        return x->cust < y->cust ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted distinct values of v[0..n) in place; returns how many. */
static size_t uniq(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, i64_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    return k;
}

static uint32_t code_of(const int64_t *v, size_t n, int64_t x)
{
    const int64_t *p = bsearch(&x, v, n, sizeof *v, i64_cmp);
    if (!p)
        die("value not in its dictionary");
    return (uint32_t)(p - v);
}

/* The data once loaded: training histories of every customer, and the
 * held-out order of some. */
struct data {
    size_t nrows, skipped, ncust, nitems, ncat;
    uint32_t *off, *items;          /* training CSR over ncust customers */
    uint16_t *cat;                  /* item -> category, 0 none */
    size_t nheld;
    uint32_t *held_user;            /* held-out customer -> customer index */
    uint32_t *hoff, *hitems;        /* their held-out rows (items, repeats kept) */
};

static void prepare(struct data *d, struct row *rows, size_t n)
{
    /* dictionaries: sku -> 0..nitems, category -> 1..ncat (0 none) */
    int64_t *v = xalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = rows[i].sku;
    d->nitems = uniq(v, n);
    for (size_t i = 0; i < n; i++)
        rows[i].item = code_of(v, d->nitems, rows[i].sku);
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].cat >= 0)
            v[nc++] = rows[i].cat;
    nc = uniq(v, nc);
    if (nc + 1 > (size_t)UINT16_MAX + 1)
        die("too many categories");
    d->ncat = nc + 1;

    qsort(rows, n, sizeof *rows, row_cmp);
    /* an item's category: that of its first row */
    d->cat = xalloc(d->nitems, sizeof *d->cat);
    bool *done = xalloc(d->nitems, sizeof *done);
    for (size_t i = 0; i < n; i++) {
        uint32_t it = rows[i].item;
        if (done[it])
            continue;
        done[it] = true;
        d->cat[it] = rows[i].cat < 0 ? 0 : (uint16_t)(code_of(v, nc, rows[i].cat) + 1);
    }
    free(done);
    free(v);

    size_t ncust = 0;
    for (size_t i = 0; i < n; i++)
        ncust += i == 0 || rows[i].cust != rows[i - 1].cust;
    d->ncust = ncust;
    d->off = xalloc(ncust + 1, sizeof *d->off);
    d->items = xalloc(n, sizeof *d->items);
    d->held_user = xalloc(ncust, sizeof *d->held_user);
    d->hoff = xalloc(ncust + 1, sizeof *d->hoff);
    d->hitems = xalloc(n, sizeof *d->hitems);
    size_t u = 0, nt = 0, nh = 0, nheld = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && rows[b].cust == rows[a].cust)
            b++;
        size_t h = b;          /* the last order starts at h */
        while (h > a && rows[h - 1].ts == rows[b - 1].ts)
            h--;
        if (h == a)
            h = b;             /* one order: all of it trains */
        for (size_t i = a; i < h; i++)
            d->items[nt++] = rows[i].item;
        d->off[u + 1] = (uint32_t)nt;
        if (h < b) {
            for (size_t i = h; i < b; i++)
                d->hitems[nh++] = rows[i].item;
            d->held_user[nheld] = (uint32_t)u;
            d->hoff[++nheld] = (uint32_t)nh;
        }
        u++;
        a = b;
    }
    d->nheld = nheld;
}

/* ---- evaluation ------------------------------------------------------------ */

struct score {
    size_t n;               /* customers scored */
    double hits, ndcg;
};

static void add(struct score *s, const uint32_t *list, size_t k, const uint32_t *rel,
                uint32_t stamp, size_t nrel)
{
    if (nrel == 0)
        return;
    double dcg = 0, idcg = 0;
    bool hit = false;
    for (size_t r = 0; r < k; r++)
        if (rel[list[r]] == stamp) {
            dcg += 1 / log2((double)r + 2);
            hit = true;
        }
    for (size_t r = 0; r < nrel && r < TOP; r++)
        idcg += 1 / log2((double)r + 2);
    s->n++;
    s->hits += hit;
    s->ndcg += dcg / idcg;
}

struct result {
    struct score all, fresh;
    double seconds;         /* producing the lists */
    size_t reasons[4];      /* items listed, by rec_reason (0: baseline) */
};

/* One method over every held-out customer: the model (m) or, m NULL,
 * popularity from pop. */
static void evaluate(const struct data *d, const struct rec_model *m, const uint32_t *pop,
                     size_t npop, struct result *res, size_t *new_items, size_t *held_items)
{
    memset(res, 0, sizeof *res);
    uint32_t *owned = xalloc(d->nitems, sizeof *owned);   /* stamps */
    uint32_t *rel = xalloc(d->nitems, sizeof *rel), *fresh = xalloc(d->nitems, sizeof *fresh);
    struct rec_item out[TOP];
    uint32_t list[TOP];
    *new_items = *held_items = 0;
    for (size_t h = 0; h < d->nheld; h++) {
        uint32_t stamp = (uint32_t)h + 1, u = d->held_user[h];
        const uint32_t *own = d->items + d->off[u];
        size_t nown = d->off[u + 1] - d->off[u];
        for (size_t a = 0; a < nown; a++)
            owned[own[a]] = stamp;
        size_t nrel = 0, nfresh = 0;
        for (uint32_t a = d->hoff[h]; a < d->hoff[h + 1]; a++) {
            uint32_t it = d->hitems[a];
            if (rel[it] == stamp)
                continue;
            rel[it] = stamp;
            nrel++;
            if (owned[it] != stamp) {
                fresh[it] = stamp;
                nfresh++;
            }
        }
        *held_items += nrel;
        *new_items += nfresh;

        size_t k = 0;
        double t0 = cxm_seconds();
        if (m) {
            int rc;
            k = rec_recommend(m, own, nown, NULL, pop, npop, out, TOP, &rc);
            if (rc)
                die("rec_recommend failed");
            for (size_t r = 0; r < k; r++) {
                list[r] = out[r].item;
                res->reasons[out[r].reason]++;
            }
        } else {
            for (size_t a = 0; a < npop && k < TOP; a++)
                if (owned[pop[a]] != stamp)
                    list[k++] = pop[a];
            res->reasons[0] += k;
        }
        res->seconds += cxm_seconds() - t0;
        add(&res->all, list, k, rel, stamp, nrel);
        add(&res->fresh, list, k, fresh, stamp, nfresh);
    }
    free(owned);
    free(rel);
    free(fresh);
}

static void print_row(const char *name, const struct result *r, const struct result *base,
                      size_t nheld)
{
    double h = r->all.hits / (double)r->all.n, g = r->all.ndcg / (double)r->all.n;
    double hf = r->fresh.hits / (double)r->fresh.n, gf = r->fresh.ndcg / (double)r->fresh.n;
    printf("%-30s %8.4f %8.4f %8.4f %8.4f %10.2f", name, h, g, hf, gf,
           r->seconds / (double)nheld * 1e6);
    if (base && base != r)
        printf("   x%.2f hit, x%.2f NDCG", h / (base->all.hits / (double)base->all.n),
               g / (base->all.ndcg / (double)base->all.n));
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: eval ORDERS.csv\n");
        return 2;
    }
    double t0 = cxm_seconds();
    struct data d = {0};
    struct row *rows = load(argv[1], &d.nrows, &d.skipped);
    prepare(&d, rows, d.nrows);
    free(rows);
    double load_s = cxm_seconds() - t0;
    if (d.nheld == 0)
        die("no customer with two orders");

    size_t ntrain = d.off[d.ncust];
    printf("rows %zu (skipped without sku: %zu), customers %zu, items %zu, categories %zu;"
           " loaded in %.1f s\n",
           d.nrows, d.skipped, d.ncust, d.nitems, d.ncat - 1, load_s);
    printf("held out: the last order of %zu customers (%.1f%% of them), %zu line items;"
           " training: %zu line items\n",
           d.nheld, 100.0 * (double)d.nheld / (double)d.ncust, (size_t)d.hoff[d.nheld], ntrain);

    /* the methods: popularity, the model with the defaults, and without
     * the category part (what similarity alone does) */
    struct rec_opts def, o;
    rec_opts_default(&def);
    o = def;
    struct rec_model *m = NULL;
    t0 = cxm_seconds();
    if (rec_build(d.off, d.items, d.ncust, d.nitems, d.cat, d.ncat, &o, &m))
        die("rec_build failed");
    double build_s = cxm_seconds() - t0;
    size_t npop;
    const uint32_t *pop = rec_popular(m, &npop);

    struct result base, model, simonly;
    size_t new_items, held_items;
    evaluate(&d, NULL, pop, npop, &base, &new_items, &held_items);
    evaluate(&d, m, pop, npop, &model, &new_items, &held_items);

    o.category_weight = 0;
    struct rec_model *m0 = NULL;
    t0 = cxm_seconds();
    if (rec_build(d.off, d.items, d.ncust, d.nitems, d.cat, d.ncat, &o, &m0))
        die("rec_build failed");
    double build0_s = cxm_seconds() - t0;
    evaluate(&d, m0, pop, npop, &simonly, &new_items, &held_items);

    printf("held-out distinct items: %zu, of which new to the customer: %zu (%.1f%%);"
           " customers with a new item: %zu\n",
           held_items, new_items, 100.0 * (double)new_items / (double)held_items,
           simonly.fresh.n);
    printf("model: built in %.3f s (%.3f s with category_weight 0), %.1f MiB,"
           " defaults neighbours %u shrink %g category_weight %g min_together %u\n",
           build_s, build0_s, (double)rec_model_bytes(m) / 1048576.0, def.neighbours,
           def.shrink, def.category_weight, def.min_together);
    size_t listed = model.reasons[REC_TOGETHER] + model.reasons[REC_CATEGORY] +
                    model.reasons[REC_POPULAR];
    printf("model lists: %.1f%% together, %.1f%% category, %.1f%% popular fill\n\n",
           100.0 * (double)model.reasons[REC_TOGETHER] / (double)listed,
           100.0 * (double)model.reasons[REC_CATEGORY] / (double)listed,
           100.0 * (double)model.reasons[REC_POPULAR] / (double)listed);
    printf("%-30s %17s %17s\n", "", "all held-out", "new items only");
    printf("%-30s %8s %8s %8s %8s %10s\n", "method", "hit@10", "NDCG@10", "hit@10", "NDCG@10",
           "us/cust");
    print_row("popularity (not owned)", &base, NULL, d.nheld);
    print_row("recommend (defaults)", &model, &base, d.nheld);
    print_row("recommend, category_weight 0", &simonly, &base, d.nheld);
    /* one line for run.sh to collect */
    printf("\nSUMMARY hit_model=%.4f ndcg_model=%.4f hit_pop=%.4f ndcg_pop=%.4f build_s=%.3f"
           " us_per_customer=%.2f held=%zu\n",
           model.all.hits / (double)model.all.n, model.all.ndcg / (double)model.all.n,
           base.all.hits / (double)base.all.n, base.all.ndcg / (double)base.all.n, build_s,
           model.seconds / (double)d.nheld * 1e6, d.nheld);

    rec_free(m);
    rec_free(m0);
    free(d.off);
    free(d.items);
    free(d.cat);
    free(d.held_user);
    free(d.hoff);
    free(d.hitems);
    return 0;
}
