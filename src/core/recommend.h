/* recommend.h - item-to-item recommendations from purchase histories.
 * Two items are similar when the same customers buy both: co-occurrence
 * over customers, as cosine c(i,j) / sqrt(n(i) n(j)) damped by shrinkage
 * c / (c + shrink), so pairs seen a few times and very popular items do
 * not dominate. A customer's recommendations add up the similarity of
 * every item they own to each candidate, plus an affinity for the
 * categories they buy most; what they own is left out unless its
 * category is a consumable; a customer with no history gets the popular
 * items (the caller's list, e.g. popular in their segment). Every item
 * says why. Pure: no I/O, no globals; the model is read-only once built
 * and may be shared by threads. */
#ifndef CXM_RECOMMEND_H
#define CXM_RECOMMEND_H

#include "common.h"

struct rec_opts {
    uint32_t neighbours;         /* similar items kept per item (default 50) */
    double shrink;               /* default 5 */
    double category_weight;      /* weight of category affinity against
                                    similarity (default 0.2) */
    uint32_t min_together;       /* pairs seen fewer times are dropped
                                    (default 2) */
};
void rec_opts_default(struct rec_opts *o);

struct rec_model;

/* Builds a model. Customer u bought items[off[u] .. off[u+1]) (u in
 * 0..nusers; repeats allowed, counted once); items are codes < nitems;
 * category[item] is its category code (< ncat; 0: none). Memory and time
 * grow with the pairs per customer: customers with more than 200 distinct
 * items count their 200 most recent (the last in their list). CXM_ENOMEM. */
int rec_build(const uint32_t *off, const uint32_t *items, size_t nusers, size_t nitems,
              const uint16_t *category, size_t ncat, const struct rec_opts *o,
              struct rec_model **out);
void rec_free(struct rec_model *m);     /* accepts NULL */

enum rec_reason {
    REC_TOGETHER = 1,            /* bought together with `because` */
    REC_CATEGORY,                /* the customer often buys its category */
    REC_POPULAR                  /* popular (cold start or filler) */
};

struct rec_item {
    uint32_t item;
    float score;
    enum rec_reason reason;      /* the strongest contribution */
    uint32_t because;            /* REC_TOGETHER: the owned item most similar */
    uint32_t together;           /* REC_TOGETHER: customers who bought both */
    uint16_t category;           /* the item's category */
};

/* The items most similar to item, best first, at most max into out;
 * returns how many (0 for an unknown item). reason REC_TOGETHER with
 * because = item. */
size_t rec_similar(const struct rec_model *m, uint32_t item, struct rec_item *out,
                   size_t max);

/* Recommendations for a customer who owns owned[0..nowned) (their
 * purchases, repeats allowed, oldest first). consumable[cat] (NULL: none)
 * marks categories whose items may be bought again. popular[0..npopular)
 * (best first) fills when the customer's own signal gives fewer than max
 * items, and is all a customer without history gets. Never returns an
 * owned item of a non-consumable category, nor one item twice. Returns
 * how many were written to out (<= max). Thread-safe; allocates a
 * scratch of nitems floats (CXM_ENOMEM: returns 0 and sets *rc when rc
 * is not NULL). */
size_t rec_recommend(const struct rec_model *m, const uint32_t *owned, size_t nowned,
                     const bool *consumable, const uint32_t *popular, size_t npopular,
                     struct rec_item *out, size_t max, int *rc);

/* Items by the number of customers who bought them, most first (all
 * items bought at least once); *n set. Borrowed from the model. */
const uint32_t *rec_popular(const struct rec_model *m, size_t *n);
/* Customers who bought item (0 when unknown). */
uint32_t rec_buyers(const struct rec_model *m, uint32_t item);
size_t rec_model_bytes(const struct rec_model *m);

#endif
