/* recommend.c - recommendations in the engine: the item-to-item model
 * (core/recommend.c) built from every profile's orders, kept until orders
 * arrived and it is older than the refresh interval, and asked with the
 * customer's own purchases read live, so what they just bought is never
 * suggested back. A customer without history gets what is popular in
 * their first segment (in the order segments were defined), else overall. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/recommend.h"
#include "engine/decide.h"
#include "engine/segments.h"
#include "log.h"

#define POPULAR_MAX 100
#define SEG_POP_MAX 32               /* segments whose popular lists are kept */

struct seg_pop {
    char *id;
    uint32_t *items;
    size_t n;
};

struct rec_state {
    struct rec_model *model;
    size_t orders;                   /* orders the model was built from */
    double built;                    /* when (cxm_seconds) */
    double build_seconds;
    bool *consumable;                /* by category code; NULL: none */
    size_t nconsumable;
    char **consumable_names;
    double refresh;                  /* seconds */
    struct seg_pop pop[SEG_POP_MAX];
    size_t npop;
};

static void pops_clear(struct rec_state *s)
{
    for (size_t i = 0; i < s->npop; i++) {
        free(s->pop[i].id);
        free(s->pop[i].items);
    }
    s->npop = 0;
}

void rec_state_free(struct engine *e)
{
    struct rec_state *s = e->rec;
    if (!s)
        return;
    rec_free(s->model);
    pops_clear(s);
    free(s->consumable);
    for (size_t i = 0; i < s->nconsumable; i++)
        free(s->consumable_names[i]);
    free(s->consumable_names);
    free(s);
    e->rec = NULL;
}

/* Parses {"consumable_categories": [...], "refresh_seconds": N} into s. */
static int parse_settings(const char *json, size_t len, struct rec_state *s,
                          struct cxm_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return cxm_err_set(err, CXM_EINVAL, "recommendation settings: a JSON object, "
                           "line %d column %d: %s", je.line, je.column, j ? "" : je.text);
    }
    int rc = CXM_OK;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (strcmp(k, "consumable_categories") && strcmp(k, "refresh_seconds")) {
            rc = cxm_err_field(err, CXM_EINVAL, -1, k, "unknown member \"%.64s\"", k);
            break;
        }
    }
    json_t *cats = json_object_get(j, "consumable_categories");
    json_t *ref = json_object_get(j, "refresh_seconds");
    if (!rc && cats && (!json_is_array(cats) || json_array_size(cats) > 1000))
        rc = cxm_err_field(err, CXM_EINVAL, -1, "consumable_categories",
                           "consumable_categories: an array of at most 1000 category names");
    if (!rc && ref && (!json_is_number(ref) || json_number_value(ref) < 0 ||
                       json_number_value(ref) > 86400))
        rc = cxm_err_field(err, CXM_EINVAL, -1, "refresh_seconds",
                           "refresh_seconds: 0 to 86400");
    size_t i;
    json_array_foreach(cats, i, v) {
        if (rc)
            break;
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 128)
            rc = cxm_err_field(err, CXM_EINVAL, (long)i, "consumable_categories",
                               "consumable_categories[%zu]: a category name", i);
    }
    if (!rc) {
        size_t n = cats ? json_array_size(cats) : 0;
        char **names = cxm_calloc(n ? n : 1, sizeof *names);
        for (i = 0; names && i < n; i++)
            if (!(names[i] = cxm_strdup(json_string_value(json_array_get(cats, i))))) {
                while (i--)
                    free(names[i]);
                free(names);
                names = NULL;
            }
        if (!names) {
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        } else {
            for (size_t k2 = 0; k2 < s->nconsumable; k2++)
                free(s->consumable_names[k2]);
            free(s->consumable_names);
            s->consumable_names = names;
            s->nconsumable = n;
            s->refresh = ref ? json_number_value(ref) : 60;
            free(s->consumable);
            s->consumable = NULL;   /* codes looked up at the next build */
        }
    }
    json_decref(j);
    return rc;
}

int rec_state_open(struct engine *e, struct cxm_err *err)
{
    struct rec_state *s = cxm_calloc(1, sizeof *s);
    if (!s)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    s->refresh = 60;
    e->rec = s;
    char *doc = NULL;
    int rc = e->store->ops->get_config(e->store, "recommendations", &doc, err);
    if (!rc && doc && parse_settings(doc, strlen(doc), s, err))
        log_msg(LOG_WARN, "the stored recommendation settings are not loaded: %s", err->msg);
    free(doc);
    return rc;
}

/* What a model is built from, copied out of the model under the read
 * lock, so that the build itself (a second for a million customers) does
 * not hold up the writer. */
struct rec_input {
    uint32_t *off, *items;
    uint16_t *cat;
    size_t nu, nitems, ncat, orders;
    bool *cons;
};

static void input_free(struct rec_input *in)
{
    free(in->off);
    free(in->items);
    free(in->cat);
    free(in->cons);
}

/* Every profile's purchases, oldest first; under the read lock. */
static int gather(const struct model *m, const struct rec_state *s, struct rec_input *in)
{
    memset(in, 0, sizeof *in);
    size_t nu = m->ncust + 1;
    uint32_t *off = cxm_calloc(nu + 1, sizeof *off);
    size_t nitems = (size_t)dict_count(m->dict[DICT_SKU]) + 1;
    size_t ncat = (size_t)dict_count(m->dict[DICT_CATEGORY]) + 1;
    uint16_t *cat = cxm_calloc(nitems, sizeof *cat);
    uint32_t *items = cxm_malloc((m->oc.ni ? m->oc.ni : 1) * sizeof *items);
    uint32_t *root = cxm_calloc(m->oc.n + 1, sizeof *root);
    int rc = off && cat && items && root ? CXM_OK : CXM_ENOMEM;
    /* counting sort of the order items by profile, oldest first */
    for (size_t i = 1; !rc && i <= m->oc.n; i++) {
        root[i] = model_root(m, m->oc.cust[i]);
        off[root[i] + 1] += m->oc.nitems[i];
    }
    for (size_t u = 1; !rc && u <= nu; u++)
        off[u] += off[u - 1];
    uint32_t *fill = rc ? NULL : cxm_malloc((nu + 1) * sizeof *fill);
    if (!rc && !fill)
        rc = CXM_ENOMEM;
    if (!rc)
        memcpy(fill, off, (nu + 1) * sizeof *fill);
    for (size_t i = 1; !rc && i <= m->oc.n; i++)
        for (uint32_t k = 0; k < m->oc.nitems[i]; k++) {
            size_t x = m->oc.item_off[i] + k;
            uint32_t sku = m->oc.sku[x];
            if (sku >= nitems)
                continue;
            items[fill[root[i]]++] = sku;
            cat[sku] = m->oc.category[x];
        }
    /* items skipped above leave holes: compact by using fill as ends */
    if (!rc) {
        size_t w = 0;
        for (size_t u = 0; u < nu; u++) {
            uint32_t a = off[u], b = fill[u];
            off[u] = (uint32_t)w;
            for (uint32_t x = a; x < b; x++)
                items[w++] = items[x];
        }
        off[nu] = (uint32_t)w;
    }
    if (!rc && s->nconsumable && (in->cons = cxm_calloc(ncat, sizeof *in->cons)))
        for (size_t k = 0; k < s->nconsumable; k++) {
            uint32_t c = dict_find(m->dict[DICT_CATEGORY], s->consumable_names[k]);
            if (c && c < ncat)
                in->cons[c] = true;
        }
    free(fill);
    free(root);
    *in = (struct rec_input){.off = off, .items = items, .cat = cat, .nu = nu,
                             .nitems = nitems, .ncat = ncat, .orders = m->oc.n,
                             .cons = in->cons};
    if (rc)
        input_free(in);
    return rc;
}

/* e->recmu held, not the read lock: a model that is fresh enough. */
static int ensure_model(struct engine *e, struct cxm_err *err)
{
    struct rec_state *s = e->rec;
    double t0 = cxm_seconds();
    pthread_rwlock_rdlock(&e->lock);
    if (s->model && (s->orders == e->m->oc.n || t0 - s->built < s->refresh)) {
        pthread_rwlock_unlock(&e->lock);
        return CXM_OK;
    }
    struct rec_input in;
    int rc = gather(e->m, s, &in);
    pthread_rwlock_unlock(&e->lock);
    struct rec_opts o;
    rec_opts_default(&o);
    struct rec_model *model = NULL;
    if (!rc)
        rc = rec_build(in.off, in.items, in.nu, in.nitems, in.cat, in.ncat, &o, &model);
    if (rc) {
        input_free(&in);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory building recommendations");
    }
    free(s->consumable);
    s->consumable = in.cons;
    in.cons = NULL;
    input_free(&in);
    rec_free(s->model);
    s->model = model;
    s->orders = in.orders;
    pops_clear(s);
    s->built = cxm_seconds();
    s->build_seconds = s->built - t0;
    log_msg(LOG_INFO, "recommendations built from %zu orders in %.3f s", s->orders,
            s->build_seconds);
    return CXM_OK;
}

/* Popular among the members of segment sg (kept per model). */
static const struct seg_pop *segment_popular(struct engine *e, const struct segment *sg)
{
    struct rec_state *s = e->rec;
    for (size_t i = 0; i < s->npop; i++)
        if (!strcmp(s->pop[i].id, sg->id))
            return &s->pop[i];
    if (s->npop == SEG_POP_MAX)
        return NULL;
    const struct model *m = e->m;
    size_t nitems = (size_t)dict_count(m->dict[DICT_SKU]) + 1;
    uint32_t *cnt = cxm_calloc(nitems, sizeof *cnt);
    struct seg_pop *p = &s->pop[s->npop];
    if (!cnt || !(p->id = cxm_strdup(sg->id)) ||
        !(p->items = cxm_malloc(POPULAR_MAX * sizeof *p->items))) {
        free(cnt);
        free(p->id);
        return NULL;
    }
    for (size_t i = 1; i <= m->oc.n; i++)
        if (segment_has(sg, model_root(m, m->oc.cust[i])))
            for (uint32_t k = 0; k < m->oc.nitems[i]; k++) {
                uint32_t sku = m->oc.sku[m->oc.item_off[i] + k];
                if (sku < nitems)
                    cnt[sku]++;
            }
    /* top POPULAR_MAX by count, ties by code */
    p->n = 0;
    for (size_t it = 1; it < nitems; it++) {
        if (!cnt[it])
            continue;
        size_t at = p->n < POPULAR_MAX ? p->n++ : POPULAR_MAX;
        if (at == POPULAR_MAX) {
            if (cnt[it] <= cnt[p->items[POPULAR_MAX - 1]])
                continue;
            at = POPULAR_MAX - 1;
        }
        while (at > 0 && cnt[p->items[at - 1]] < cnt[it]) {
            p->items[at] = p->items[at - 1];
            at--;
        }
        p->items[at] = (uint32_t)it;
    }
    free(cnt);
    s->npop++;
    return p;
}

static json_t *item_json(const struct model *m, const struct rec_item *it, const char *seg)
{
    const char *sku = dict_str(m->dict[DICT_SKU], it->item);
    const char *cat = dict_str(m->dict[DICT_CATEGORY], it->category);
    const char *reason = it->reason == REC_TOGETHER ? "together"
                         : it->reason == REC_CATEGORY ? "category" : "popular";
    char text[320];
    if (it->reason == REC_TOGETHER)
        snprintf(text, sizeof text, "bought together with %s by %u customers",
                 dict_str(m->dict[DICT_SKU], it->because), it->together);
    else if (it->reason == REC_CATEGORY)
        snprintf(text, sizeof text, "you often buy %s", cat ? cat : "this category");
    else if (seg)
        snprintf(text, sizeof text, "popular in segment %s", seg);
    else
        snprintf(text, sizeof text, "popular with customers");
    return json_pack("{s:s?, s:s?, s:f, s:s, s:s?, s:s}", "sku", sku, "category", cat, "score",
                     round(it->score * 1e4) / 1e4, "reason", reason, "because",
                     it->reason == REC_TOGETHER ? dict_str(m->dict[DICT_SKU], it->because)
                                                : NULL,
                     "text", text);
}

int engine_recommendations(struct engine *e, uint32_t customer, size_t n, json_t **out,
                           struct cxm_err *err)
{
    if (n < 1 || n > 100)
        return cxm_err_field(err, CXM_EINVAL, -1, "n", "n must be 1-100");
    pthread_mutex_lock(&e->recmu);
    int rc = ensure_model(e, err);
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    uint32_t *owned = NULL;
    size_t no = 0, cap = 0;
    struct rec_item *items = cxm_calloc(n, sizeof *items);
    json_t *arr = json_array();
    uint32_t *nodes = NULL;
    size_t nn = 0, ncap = 0;
    if (rc)
        goto done;
    if (customer < 1 || customer > m->ncust) {
        rc = cxm_err_field(err, CXM_ENOTFOUND, -1, "customer", "no customer %u", customer);
        goto done;
    }
    if (!items || !arr) {
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        goto done;
    }
    struct rec_state *s = e->rec;
    uint32_t root = model_root(m, customer);
    if (model_profile_nodes(m, root, &nodes, &nn, &ncap)) {
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < nn; k++)
        for (uint32_t i = m->cust[nodes[k]].ohead; i; i = m->oc.next[i])
            for (uint32_t j = 0; j < m->oc.nitems[i]; j++) {
                if (cxm_grow((void **)&owned, &cap, no + 1, sizeof *owned)) {
                    rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
                    goto done;
                }
                owned[no++] = m->oc.sku[m->oc.item_off[i] + j];
            }
    /* chains run newest first; the model wants oldest first */
    for (size_t a = 0, b = no ? no - 1 : 0; a < b; a++, b--) {
        uint32_t t = owned[a];
        owned[a] = owned[b];
        owned[b] = t;
    }
    const uint32_t *pop;
    size_t npop;
    const char *segname = NULL;
    pop = rec_popular(s->model, &npop);
    for (size_t i = 0; i < e->segs->n; i++)
        if (segment_has(&e->segs->s[i], root)) {
            const struct seg_pop *sp = segment_popular(e, &e->segs->s[i]);
            if (sp && sp->n) {
                pop = sp->items;
                npop = sp->n;
                segname = sp->id;
            }
            break;
        }
    int rrc = CXM_OK;
    size_t got = rec_recommend(s->model, owned, no, s->consumable, pop, npop, items, n, &rrc);
    if (rrc) {
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < got; i++)
        json_array_append_new(arr, item_json(m, &items[i], segname));
    *out = json_pack("{s:I, s:o, s:{s:I, s:f}}", "customer", (json_int_t)root, "items", arr,
                     "model", "orders", (json_int_t)s->orders, "age_seconds",
                     round((cxm_seconds() - s->built) * 10) / 10);
    arr = NULL;
    if (!*out)
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
done:
    pthread_rwlock_unlock(&e->lock);
    pthread_mutex_unlock(&e->recmu);
    json_decref(arr);
    free(items);
    free(owned);
    free(nodes);
    return rc;
}

int engine_similar(struct engine *e, const char *sku, size_t n, json_t **out,
                   struct cxm_err *err)
{
    if (n < 1 || n > 100)
        return cxm_err_field(err, CXM_EINVAL, -1, "n", "n must be 1-100");
    struct rec_item *items = cxm_calloc(n, sizeof *items);
    if (!items)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    pthread_mutex_lock(&e->recmu);
    int rc = ensure_model(e, err);
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    uint32_t code = dict_find(m->dict[DICT_SKU], sku);
    if (!rc && !code)
        rc = cxm_err_field(err, CXM_ENOTFOUND, -1, "sku", "no item \"%s\" in the orders", sku);
    json_t *arr = rc ? NULL : json_array();
    if (!rc) {
        size_t got = rec_similar(e->rec->model, code, items, n);
        for (size_t i = 0; i < got; i++) {
            json_t *o = json_pack("{s:s?, s:s?, s:f, s:I}", "sku",
                                  dict_str(m->dict[DICT_SKU], items[i].item), "category",
                                  dict_str(m->dict[DICT_CATEGORY], items[i].category),
                                  "similarity", round(items[i].score * 1e4) / 1e4,
                                  "together", (json_int_t)items[i].together);
            json_array_append_new(arr, o);
        }
        *out = json_pack("{s:s, s:I, s:o}", "sku", sku, "buyers",
                         (json_int_t)rec_buyers(e->rec->model, code), "similar", arr);
        if (!*out)
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    pthread_rwlock_unlock(&e->lock);
    pthread_mutex_unlock(&e->recmu);
    free(items);
    return rc;
}

int engine_rec_settings(struct engine *e, json_t **out, struct cxm_err *err)
{
    pthread_mutex_lock(&e->recmu);
    struct rec_state *s = e->rec;
    json_t *cats = json_array();
    for (size_t i = 0; cats && i < s->nconsumable; i++)
        json_array_append_new(cats, json_string(s->consumable_names[i]));
    *out = json_pack("{s:o, s:f}", "consumable_categories", cats, "refresh_seconds",
                     s->refresh);
    pthread_mutex_unlock(&e->recmu);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_set_rec_settings(struct engine *e, const char *json, size_t len,
                            struct cxm_err *err)
{
    struct rec_state tmp = {0};
    int rc = parse_settings(json, len, &tmp, err);
    if (!rc) {
        struct engine_work w = {.op = ENGINE_CONFIG, .config_name = "recommendations",
                                .config = json, .blob_len = len};
        if ((rc = engine_run(e, &w)) && err)
            *err = w.err;
    }
    if (!rc) {
        pthread_mutex_lock(&e->recmu);
        struct rec_state *s = e->rec;
        for (size_t i = 0; i < s->nconsumable; i++)
            free(s->consumable_names[i]);
        free(s->consumable_names);
        s->consumable_names = tmp.consumable_names;
        s->nconsumable = tmp.nconsumable;
        s->refresh = tmp.refresh;
        rec_free(s->model);   /* rebuilt with the new consumables */
        s->model = NULL;
        tmp.consumable_names = NULL;
        tmp.nconsumable = 0;
        pthread_mutex_unlock(&e->recmu);
    }
    for (size_t i = 0; i < tmp.nconsumable; i++)
        free(tmp.consumable_names[i]);
    free(tmp.consumable_names);
    free(tmp.consumable);
    return rc;
}
