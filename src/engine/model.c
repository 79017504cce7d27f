/* model.c - see model.h. Columns grow by doubling through realloc; the
 * untouched tail of a large block is not resident, so memory per row stays
 * close to the column widths. */
#include "engine/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/identity.h"
#include "cxm_limits.h"
#include "engine/event.h"

struct model *model_new(void)
{
    struct model *m = cxm_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    bool ok = (m->ident_map = strmap_new()) && (m->emp_map = strmap_new());
    for (int d = 1; ok && d < DICT_COUNT; d++)
        ok = (m->dict[d] = dict_new(CXM_MAX_DICT)) != NULL;
    for (int d = 0; ok && d < CD_COUNT; d++)
        ok = (m->cdict[d] = dict_new(CXM_MAX_DICT)) != NULL;
    if (!ok) {
        model_free(m);
        return NULL;
    }
    return m;
}

static void attrs_free(struct attrs *a)
{
    free(a->name);
    free(a->attributes);
}

#define FREE_COLS(c, ...) do { void *ptrs_[] = {__VA_ARGS__}; \
    for (size_t k_ = 0; k_ < sizeof ptrs_ / sizeof ptrs_[0]; k_++) free(ptrs_[k_]); \
    (void)(c); } while (0)

void model_free(struct model *m)
{
    if (!m)
        return;
    for (int d = 1; d < DICT_COUNT; d++)
        dict_free(m->dict[d]);
    for (int d = 0; d < CD_COUNT; d++)
        dict_free(m->cdict[d]);
    for (size_t i = 1; i <= m->ncust; i++)
        attrs_free(&m->cust[i].a);
    free(m->cust);
    for (size_t i = 1; i <= m->nident; i++)
        free(m->ident[i].key);
    free(m->ident);
    strmap_free(m->ident_map);
    for (size_t i = 0; i < m->nmerges; i++)
        free(m->merges[i].cause);
    free(m->merges);
    struct icols *ic = &m->ic;
    FREE_COLS(ic, ic->seq, ic->ts, ic->cust, ic->next, ic->duration, ic->channel,
              ic->touchpoint, ic->stage, ic->kind, ic->agent, ic->outcome,
              ic->value, ic->has_text);
    free(m->itx);
    for (int k = 0; k < ROLLUP_DIMS; k++)
        rollup_free(&m->ru[k]);
    free(m->fc.text_rows);
    struct fcols *fc = &m->fc;
    FREE_COLS(fc, fc->bmin, fc->bmax, fc->seq, fc->ts, fc->cust, fc->next, fc->score, fc->survey,
              fc->channel, fc->touchpoint, fc->stage, fc->agent, fc->kind,
              fc->has_text, fc->tx);
    struct ccols *cc = &m->cc;
    FREE_COLS(cc, cc->seq, cc->ts, cc->cust, cc->next, cc->kind, cc->channel);
    struct tcols *tc = &m->tc;
    FREE_COLS(tc, tc->seq, tc->sent, tc->themes, tc->aoff, tc->nasp);
    free(tc->asp);
    struct ocols *oc = &m->oc;
    for (size_t i = 1; i <= oc->n; i++)
        free(oc->order_id[i]);
    FREE_COLS(oc, oc->seq, oc->ts, oc->cust, oc->next, oc->item_off, oc->nitems,
              oc->amount, oc->currency, oc->channel, oc->order_id, oc->sku,
              oc->category, oc->qty, oc->price);
    for (size_t i = 1; i <= m->nemp; i++) {
        free(m->emp[i].id);
        free(m->emp[i].name);
        free(m->emp[i].team);
        free(m->emp[i].role);
    }
    free(m->emp);
    strmap_free(m->emp_map);
    for (size_t i = 0; i < m->nbench; i++) {
        free(m->bench[i].name);
        free(m->bench[i].metric);
        free(m->bench[i].period);
        free(m->bench[i].segment);
    }
    free(m->clv.report);
    for (size_t i = 0; i < m->nthemes; i++)
        free(m->theme_ids[i]);
    free(m->bench);
    idset_free(&m->ids_i);
    idset_free(&m->ids_f);
    idset_free(&m->ids_o);
    for (int k = 0; k < 3; k++)
        free(m->load_ids[k]);
    free(m->ring);
    free(m);
}

/* Grows every column of a table together: a table's capacity is shared,
 * so one failed realloc leaves the others merely larger, never shorter. */
struct colspec {
    void **p;
    size_t elem;
};

static int grow_cols(struct colspec *cols, size_t ncols, size_t *cap, size_t need)
{
    if (need <= *cap)
        return CXM_OK;
    size_t ncap = *cap ? *cap * 2 : 1024;
    while (ncap < need)
        ncap *= 2;
    for (size_t i = 0; i < ncols; i++) {
        size_t bytes;
        if (!cxm_mul_size(ncap, cols[i].elem, &bytes))
            return CXM_ETOOBIG;
        void *np = realloc(*cols[i].p, bytes);
        if (!np)
            return CXM_ENOMEM;
        *cols[i].p = np;
    }
    *cap = ncap;
    return CXM_OK;
}

#define COL(x) {(void **)&(x), sizeof *(x)}

uint32_t model_root(const struct model *m, uint32_t c)
{
    while (c && m->cust[c].parent)
        c = m->cust[c].parent;
    return c;
}

static char *ident_key(const char *kind, const char *value, size_t *len)
{
    size_t kl = strlen(kind), vl = strlen(value);
    *len = kl + 1 + vl;
    char *k = cxm_malloc(*len + 1);
    if (!k)
        return NULL;
    memcpy(k, kind, kl + 1);
    memcpy(k + kl + 1, value, vl + 1);
    return k;
}

uint32_t model_find_ident(const struct model *m, const char *kind, const char *value)
{
    return model_find_ident_h(m, kind, value, identity_hash(kind, value));
}

uint32_t model_find_ident_h(const struct model *m, const char *kind, const char *value,
                            uint64_t h)
{
    char buf[CXM_MAX_IDENTITY + 64];
    size_t kl = strlen(kind), vl = strlen(value);
    if (kl + vl + 2 > sizeof buf)
        return NONE;
    memcpy(buf, kind, kl + 1);
    memcpy(buf + kl + 1, value, vl + 1);
    uint32_t i;
    if (!strmap_get_h(m->ident_map, buf, kl + 1 + vl, h, &i))
        return NONE;
    return m->ident[i].cust;
}

void model_prefetch_ident(const struct model *m, uint64_t h)
{
    strmap_prefetch(m->ident_map, h);
}

void model_prefetch_ident_entry(const struct model *m, uint64_t h)
{
    uint32_t i;
    const char *key = strmap_peek(m->ident_map, h, &i);
    if (key) {
        __builtin_prefetch(key);
        __builtin_prefetch(&m->ident[i]);
    }
}

void model_prefetch_ident_cust(const struct model *m, uint64_t h)
{
    uint32_t i;
    if (strmap_peek(m->ident_map, h, &i))
        __builtin_prefetch(&m->cust[m->ident[i].cust]);
}

void model_prefetch_row_id(const struct model *m, int kind, uint64_t h)
{
    idset_prefetch(kind == 0 ? &m->ids_i : kind == 1 ? &m->ids_f : &m->ids_o, h);
}

void model_prefetch_cust(const struct model *m, uint32_t c)
{
    if (c <= m->ncust) {
        __builtin_prefetch(&m->cust[c], 1);
        __builtin_prefetch(&m->cust[c].f, 1);
    }
}

int model_add_customer(struct model *m, uint32_t id, int64_t created_ts,
                       int64_t seq)
{
    if (id != m->ncust + 1)
        return CXM_EINVAL;
    int rc = cxm_grow((void **)&m->cust, &m->custcap, (size_t)id + 1, sizeof *m->cust);
    if (rc)
        return rc;
    if (m->ncust == 0)
        memset(&m->cust[0], 0, sizeof m->cust[0]);
    struct cust *c = &m->cust[id];
    memset(c, 0, sizeof *c);
    c->created_ts = created_ts;
    c->seq = seq;
    c->a.consent_m = c->a.consent_s = c->a.consent_p = -1;
    c->f.last_nps = -1;
    m->ncust = id;
    return CXM_OK;
}

static int set_str(char **dst, const char *src)
{
    char *n = NULL;
    if (src && *src && !(n = cxm_strdup(src)))
        return CXM_ENOMEM;
    free(*dst);
    *dst = n;
    return CXM_OK;
}

int model_set_attrs(struct model *m, const struct store_customer *sc)
{
    if (sc->id < 1 || (size_t)sc->id > m->ncust)
        return CXM_EINVAL;
    struct attrs *a = &m->cust[sc->id].a;
    int rc;
    if ((rc = model_code(m, CD_GENDER, sc->gender, &a->gender)) ||
        (rc = model_code(m, CD_COUNTRY, sc->country, &a->country)) ||
        (rc = model_code(m, CD_LANGUAGE, sc->language, &a->language)) ||
        (rc = model_code(m, CD_CITY, sc->city, &a->city)))
        return rc;
    if (set_str(&a->name, sc->name) || set_str(&a->attributes, sc->attributes))
        return CXM_ENOMEM;
    a->birth_year = sc->birth_year;
    a->consent_m = sc->consent_marketing;
    a->consent_s = sc->consent_surveys;
    a->consent_p = sc->consent_personalisation;
    a->updated_seq = sc->updated_seq;
    return CXM_OK;
}

int model_code(struct model *m, int cd, const char *s, uint16_t *code)
{
    *code = 0;
    if (!s || !*s)
        return CXM_OK;
    uint32_t c;
    bool added;
    int rc = dict_intern(m->cdict[cd], s, &c, &added);
    if (!rc)
        *code = (uint16_t)c;
    return rc;
}

const char *model_str(const struct model *m, int cd, uint16_t code)
{
    return dict_str(m->cdict[cd], code);
}

int model_add_ident(struct model *m, const char *kind, const char *value,
                    uint32_t cust, int64_t seq)
{
    if (cust < 1 || cust > m->ncust)
        return CXM_EINVAL;
    int rc = cxm_grow((void **)&m->ident, &m->identcap, m->nident + 2, sizeof *m->ident);
    if (rc)
        return rc;
    size_t len;
    char *key = ident_key(kind, value, &len);
    if (!key)
        return CXM_ENOMEM;
    uint32_t idx = (uint32_t)m->nident + 1;
    if (strmap_put(m->ident_map, key, len, idx)) {
        free(key);
        return CXM_ENOMEM;
    }
    m->ident[idx] = (struct ident){.key = key, .cust = cust, .seq = seq,
                                   .next = m->cust[cust].ident_head};
    m->cust[cust].ident_head = idx;
    m->nident = idx;
    return CXM_OK;
}

static void link_child(struct model *m, uint32_t parent, uint32_t child)
{
    m->cust[child].parent = parent;
    m->cust[child].next_sibling = m->cust[parent].first_child;
    m->cust[parent].first_child = child;
}

int model_add_merge(struct model *m, const struct store_merge *mg)
{
    uint32_t p = (uint32_t)mg->parent, c = (uint32_t)mg->child;
    if (p < 1 || c < 1 || p > m->ncust || c > m->ncust || p == c)
        return CXM_EINVAL;
    int rc = cxm_grow((void **)&m->merges, &m->mergecap, m->nmerges + 1,
                      sizeof *m->merges);
    if (rc)
        return rc;
    char *cause = cxm_strdup(mg->cause ? mg->cause : "");
    if (!cause)
        return CXM_ENOMEM;
    m->merges[m->nmerges++] = (struct merge){
        .seq = mg->seq, .ts = mg->ts, .undone_seq = mg->undone_seq,
        .parent = p, .child = c, .cause = cause};
    if (!mg->undone_seq) {
        if (m->cust[c].parent)   /* a node has one active merge */
            return CXM_EINVAL;
        link_child(m, p, c);
        m->cust[c].merge = (uint32_t)m->nmerges;
        m->nmerged++;
    }
    return CXM_OK;
}

int model_undo_merge(struct model *m, uint32_t child, int64_t undone_seq)
{
    if (child < 1 || child > m->ncust || !m->cust[child].parent)
        return CXM_ECONFLICT;
    uint32_t p = m->cust[child].parent;
    uint32_t *link = &m->cust[p].first_child;
    while (*link != child)
        link = &m->cust[*link].next_sibling;
    *link = m->cust[child].next_sibling;
    m->cust[child].parent = NONE;
    m->cust[child].next_sibling = NONE;
    m->merges[m->cust[child].merge - 1].undone_seq = undone_seq;
    m->cust[child].merge = NONE;
    m->nmerged--;
    m->gen++;
    return CXM_OK;
}

/* Indexes the id of row in set k (0 interactions, 1 feedback, 2 orders):
 * at once, or gathered for one idset_build at the end of a replay. */
static int index_id(struct model *m, int k, const char *id, uint32_t row)
{
    uint64_t h = idset_hash(id, strlen(id));
    if (!m->loading) {
        struct idset *set[] = {&m->ids_i, &m->ids_f, &m->ids_o};
        return idset_add(set[k], h, row);
    }
    int rc = cxm_grow((void **)&m->load_ids[k], &m->load_cap[k], m->load_n[k] + 1,
                      sizeof *m->load_ids[k]);
    if (!rc)
        m->load_ids[k][m->load_n[k]++] = idset_entry(h, row);
    return rc;
}

static void span(struct model *m, int64_t ts)
{
    if (!m->max_ts && !m->min_ts) {
        m->min_ts = m->max_ts = ts;
        return;
    }
    if (ts < m->min_ts)
        m->min_ts = ts;
    if (ts > m->max_ts)
        m->max_ts = ts;
}

static uint16_t code16(uint32_t c)
{
    return c > UINT16_MAX ? 0 : (uint16_t)c;
}

/* Writes sc into text i, its aspects at the end of the aspect array
 * (room reserved by the caller). */
static void set_scores(struct tcols *c, size_t i, const struct text_scores *sc)
{
    size_t na = sc->naspects < TEXT_ASPECTS_MAX ? sc->naspects : TEXT_ASPECTS_MAX;
    c->sent[i] = sc->sentiment;
    c->themes[i] = sc->themes;
    c->aoff[i] = (uint32_t)c->na;
    c->nasp[i] = (uint8_t)na;
    memcpy(c->asp + c->na, sc->aspect, na * sizeof *c->asp);
    c->na += na;
}

/* ---- features --------------------------------------------------------- */

static void feat_bit(uint64_t *bits, uint32_t code)
{
    if (code >= 1 && code <= 64)
        *bits |= 1ull << (code - 1);
}

static void later(uint32_t *t, uint32_t ts)
{
    if (ts > *t)
        *t = ts;
}

/* Code of s in dictionary d, remembered once the data has named it. */
static uint32_t known(const struct model *m, int d, const char *s, uint32_t *cache)
{
    if (!*cache)
        *cache = dict_find(m->dict[d], s);
    return *cache;
}

/* Complaints and tickets of node cu after its latest resolution. */
static uint32_t count_open(const struct model *m, uint32_t cu)
{
    const struct icols *c = &m->ic;
    uint32_t n = 0, last = m->cust[cu].f.last_resolved;
    for (uint32_t i = m->cust[cu].ihead; i; i = c->next[i])
        if (c->kind[i] && (c->kind[i] == m->k_complaint || c->kind[i] == m->k_ticket) &&
            c->ts[i] > last)
            n++;
    return n;
}

static void feat_interaction(struct model *m, uint32_t cu, size_t i,
                             const struct store_interaction *r)
{
    struct feat *f = &m->cust[cu].f;
    const struct icols *c = &m->ic;
    uint32_t ts = c->ts[i], kind = c->kind[i];
    later(&f->last_touch, ts);
    feat_bit(&f->channels, c->channel[i]);
    uint32_t kc = known(m, DICT_ITYPE, "complaint", &m->k_complaint);
    uint32_t kt = known(m, DICT_ITYPE, "ticket", &m->k_ticket);
    if (kind && (kind == kc || kind == kt)) {
        if (kind == kc)
            later(&f->last_complaint, ts);
        if (ts > f->last_resolved)
            f->open++;
    }
    uint32_t kr = known(m, DICT_OUTCOME, "resolved", &m->k_resolved);
    if (c->outcome[i] && c->outcome[i] == kr && ts >= f->last_resolved) {
        f->last_resolved = ts;
        f->open = count_open(m, cu);
    }
    if (r->text && r->sc && isfinite(r->sc->sentiment)) {
        f->sent_sum += r->sc->sentiment;
        f->sent_n++;
    }
}

static void feat_feedback(struct model *m, uint32_t cu, size_t i,
                          const struct store_feedback *r)
{
    struct feat *f = &m->cust[cu].f;
    const struct fcols *c = &m->fc;
    uint32_t ts = c->ts[i];
    float sc = c->score[i];
    later(&f->last_touch, ts);
    feat_bit(&f->channels, c->channel[i]);
    if (c->kind[i] != FB_ENPS)
        later(&f->last_answer, ts);
    if (c->kind[i] == FB_NPS && isfinite(sc) &&
        (ts > f->last_nps_ts || (ts == f->last_nps_ts && r->seq > f->last_nps_seq))) {
        f->last_nps_ts = ts;
        f->last_nps_seq = r->seq;
        f->last_nps = (int8_t)sc;
    } else if (c->kind[i] == FB_CSAT && isfinite(sc)) {
        f->csat_sum += sc;
        f->csat_n++;
    } else if (c->kind[i] == FB_CES && isfinite(sc)) {
        f->ces_sum += sc;
        f->ces_n++;
    }
    if (r->comment && r->sc && isfinite(r->sc->sentiment)) {
        f->sent_sum += r->sc->sentiment;
        f->sent_n++;
    }
}

static void feat_order(struct model *m, uint32_t cu, size_t i)
{
    struct feat *f = &m->cust[cu].f;
    const struct ocols *c = &m->oc;
    later(&m->max_order_ts, c->ts[i]);
    f->orders++;
    if (isfinite(c->amount[i]))
        f->revenue += c->amount[i];
    later(&f->last_order, c->ts[i]);
    feat_bit(&f->channels, c->channel[i]);
    for (uint32_t k = 0; k < c->nitems[i]; k++)
        feat_bit(&f->categories, c->category[c->item_off[i] + k]);
}

/* A text's sentiment changed from old (NAN: it had none) to now. */
static void feat_rescore(struct model *m, uint32_t cu, float old, float now)
{
    struct feat *f = &m->cust[cu].f;
    if (isfinite(old)) {
        f->sent_sum -= old;
        f->sent_n--;
    }
    if (isfinite(now)) {
        f->sent_sum += now;
        f->sent_n++;
    }
}

static int add_scores(struct model *m, int64_t seq, const struct text_scores *sc,
                      uint32_t *tx)
{
    struct tcols *c = &m->tc;
    struct colspec cols[] = {COL(c->seq), COL(c->sent), COL(c->themes), COL(c->aoff),
                             COL(c->nasp)};
    int rc = grow_cols(cols, sizeof cols / sizeof cols[0], &c->cap, c->n + 2);
    if (rc || (rc = cxm_grow((void **)&c->asp, &c->acap, c->na + sc->naspects + 1,
                             sizeof *c->asp)))
        return rc;
    size_t i = ++c->n;
    c->seq[i] = seq;
    set_scores(c, i, sc);
    *tx = (uint32_t)i;
    return CXM_OK;
}

/* Row of seq in a seq column [1..n] (ascending: rows are added in seq
 * order); 0 when absent. */
static size_t row_of_seq(const int64_t *col, size_t n, int64_t seq)
{
    size_t lo = 1, hi = n;
    while (lo <= hi && hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (col[mid] == seq)
            return mid;
        if (col[mid] < seq)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

/* Position of interaction row i in itx: its pair, or where it would go. */
static size_t itx_find(const struct model *m, size_t i)
{
    size_t lo = 0, hi = m->nitx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->itx[mid].row < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t model_itx(const struct model *m, size_t i)
{
    size_t k = itx_find(m, i);
    return k < m->nitx && m->itx[k].row == i ? m->itx[k].tx : 0;
}

int model_set_scores(struct model *m, int64_t seq, const struct text_scores *sc)
{
    uint32_t *tx = NULL, itx = 0, cu;
    m->gen++;
    size_t i = row_of_seq(m->fc.seq, m->fc.n, seq);
    if (i) {
        tx = &m->fc.tx[i];
        cu = m->fc.cust[i];
    } else if ((i = row_of_seq(m->ic.seq, m->ic.n, seq))) {
        cu = m->ic.cust[i];
        size_t k = itx_find(m, i);
        if (k < m->nitx && m->itx[k].row == i) {
            tx = &m->itx[k].tx;
        } else {
            /* a new pair, kept in row order */
            int rc = add_scores(m, seq, sc, &itx);
            if (!rc && (rc = cxm_grow((void **)&m->itx, &m->itxcap, m->nitx + 1,
                                      sizeof *m->itx)))
                return rc;
            if (rc)
                return rc;
            memmove(m->itx + k + 1, m->itx + k, (m->nitx - k) * sizeof *m->itx);
            m->itx[k] = (struct itext){(uint32_t)i, itx};
            m->nitx++;
            feat_rescore(m, cu, NAN, sc->sentiment);
            return CXM_OK;
        }
    } else {
        return CXM_ENOTFOUND;
    }
    if (!*tx) {
        int rc = add_scores(m, seq, sc, tx);
        if (!rc)
            feat_rescore(m, cu, NAN, sc->sentiment);
        return rc;
    }
    /* new aspects go to the end; the old ones stay as garbage, which a
     * new taxonomy (the only rewrite) leaves once per text */
    struct tcols *c = &m->tc;
    int rc = cxm_grow((void **)&c->asp, &c->acap, c->na + sc->naspects + 1, sizeof *c->asp);
    if (rc)
        return rc;
    feat_rescore(m, cu, c->sent[*tx], sc->sentiment);
    set_scores(c, *tx, sc);
    return CXM_OK;
}

const struct text_scores *model_scores(const struct model *m, bool feedback, size_t i,
                                       struct text_scores *buf)
{
    uint32_t t = feedback ? m->fc.tx[i] : model_itx(m, i);
    if (!t)
        return NULL;
    const struct tcols *c = &m->tc;
    buf->sentiment = c->sent[t];
    buf->themes = c->themes[t];
    buf->naspects = c->nasp[t];
    memcpy(buf->aspect, c->asp + c->aoff[t], c->nasp[t] * sizeof *c->asp);
    return buf;
}

int model_add_interaction(struct model *m, const struct store_interaction *r)
{
    struct icols *c = &m->ic;
    if (r->customer < 1 || (size_t)r->customer > m->ncust)
        return CXM_EINVAL;
    struct colspec cols[] = {COL(c->seq), COL(c->ts), COL(c->cust), COL(c->next),
                             COL(c->duration), COL(c->channel), COL(c->touchpoint),
                             COL(c->stage), COL(c->kind), COL(c->agent),
                             COL(c->outcome), COL(c->value), COL(c->has_text)};
    int rc = grow_cols(cols, sizeof cols / sizeof cols[0], &c->cap, c->n + 2);
    if (rc)
        return rc;
    size_t i = ++c->n;
    uint32_t cu = (uint32_t)r->customer;
    c->seq[i] = r->seq;
    c->ts[i] = (uint32_t)r->ts;
    span(m, r->ts);
    c->cust[i] = cu;
    c->next[i] = m->cust[cu].ihead;
    m->cust[cu].ihead = (uint32_t)i;
    c->duration[i] = r->duration < 0 || r->duration >= UINT32_MAX
                         ? UINT32_MAX : (uint32_t)r->duration;
    c->channel[i] = code16(r->channel);
    c->touchpoint[i] = code16(r->touchpoint);
    c->stage[i] = code16(r->stage);
    c->kind[i] = code16(r->kind);
    c->agent[i] = code16(r->agent);
    c->outcome[i] = code16(r->outcome);
    c->value[i] = r->value;
    c->has_text[i] = r->text != NULL;
    if (r->text && r->sc) {
        uint32_t tx;
        if ((rc = add_scores(m, r->seq, r->sc, &tx)) ||
            (rc = cxm_grow((void **)&m->itx, &m->itxcap, m->nitx + 1, sizeof *m->itx)))
            return rc;
        m->itx[m->nitx++] = (struct itext){(uint32_t)i, tx};   /* rows only grow */
    }
    feat_interaction(m, cu, i, r);
    if (r->event_id && *r->event_id)
        return index_id(m, 0, r->event_id, (uint32_t)i);
    return CXM_OK;
}

int model_add_feedback(struct model *m, const struct store_feedback *r)
{
    struct fcols *c = &m->fc;
    if (r->customer < 1 || (size_t)r->customer > m->ncust)
        return CXM_EINVAL;
    struct colspec cols[] = {COL(c->seq), COL(c->ts), COL(c->cust), COL(c->next),
                             COL(c->score), COL(c->survey), COL(c->channel),
                             COL(c->touchpoint), COL(c->stage), COL(c->agent),
                             COL(c->kind), COL(c->has_text), COL(c->tx)};
    int rc = grow_cols(cols, sizeof cols / sizeof cols[0], &c->cap, c->n + 2);
    if (rc)
        return rc;
    size_t blk = (c->n + 1) >> FBLOCK_SHIFT;
    struct colspec bcols[] = {COL(c->bmin), COL(c->bmax)};
    if ((rc = grow_cols(bcols, 2, &c->bcap, blk + 1)))
        return rc;
    size_t i = ++c->n;
    uint32_t cu = (uint32_t)r->customer;
    c->seq[i] = r->seq;
    c->ts[i] = (uint32_t)r->ts;
    span(m, r->ts);
    if (i == 1 || (i & ((1u << FBLOCK_SHIFT) - 1)) == 0) {
        c->bmin[blk] = c->bmax[blk] = (uint32_t)r->ts;
    } else {
        if ((uint32_t)r->ts < c->bmin[blk])
            c->bmin[blk] = (uint32_t)r->ts;
        if ((uint32_t)r->ts > c->bmax[blk])
            c->bmax[blk] = (uint32_t)r->ts;
    }
    c->cust[i] = cu;
    c->next[i] = m->cust[cu].fhead;
    m->cust[cu].fhead = (uint32_t)i;
    c->score[i] = (float)r->score;
    c->survey[i] = code16(r->survey);
    c->channel[i] = code16(r->channel);
    c->touchpoint[i] = code16(r->touchpoint);
    c->stage[i] = code16(r->stage);
    c->agent[i] = code16(r->agent);
    c->kind[i] = (uint8_t)r->kind;
    c->has_text[i] = r->comment != NULL;
    c->tx[i] = 0;
    if (r->comment) {
        if (cxm_grow((void **)&c->text_rows, &c->textcap, c->ntext + 1, sizeof *c->text_rows))
            return CXM_ENOMEM;
        c->text_rows[c->ntext++] = (uint32_t)i;
    }
    const uint16_t ruv[ROLLUP_DIMS] = {c->channel[i], c->touchpoint[i], c->stage[i]};
    for (int k = 0; k < ROLLUP_DIMS; k++)
        if ((rc = rollup_add(&m->ru[k], (int64_t)c->ts[i], c->kind[i], ruv[k], c->score[i])))
            return rc;
    if (r->comment && r->sc && (rc = add_scores(m, r->seq, r->sc, &c->tx[i])))
        return rc;
    feat_feedback(m, cu, i, r);
    if (r->event_id && *r->event_id)
        return index_id(m, 1, r->event_id, (uint32_t)i);
    return CXM_OK;
}

int model_add_order(struct model *m, const struct store_order *r)
{
    struct ocols *c = &m->oc;
    if (r->customer < 1 || (size_t)r->customer > m->ncust)
        return CXM_EINVAL;
    struct colspec cols[] = {COL(c->seq), COL(c->ts), COL(c->cust), COL(c->next),
                             COL(c->item_off), COL(c->nitems), COL(c->amount),
                             COL(c->currency), COL(c->channel), COL(c->order_id)};
    int rc = grow_cols(cols, sizeof cols / sizeof cols[0], &c->cap, c->n + 2);
    if (rc)
        return rc;
    struct colspec icols[] = {COL(c->sku), COL(c->category), COL(c->qty),
                              COL(c->price)};
    if ((rc = grow_cols(icols, 4, &c->icap, c->ni + r->nitems + 1)))
        return rc;
    char *oid = cxm_strdup(r->order_id ? r->order_id : "");
    if (!oid)
        return CXM_ENOMEM;
    size_t i = ++c->n;
    uint32_t cu = (uint32_t)r->customer;
    c->seq[i] = r->seq;
    c->ts[i] = (uint32_t)r->ts;
    span(m, r->ts);
    c->cust[i] = cu;
    c->next[i] = m->cust[cu].ohead;
    m->cust[cu].ohead = (uint32_t)i;
    c->amount[i] = r->amount;
    c->currency[i] = code16(r->currency);
    c->channel[i] = code16(r->channel);
    c->order_id[i] = oid;
    c->item_off[i] = (uint32_t)c->ni;
    c->nitems[i] = (uint32_t)r->nitems;
    for (size_t k = 0; k < r->nitems; k++) {
        c->sku[c->ni] = r->items[k].sku;
        c->category[c->ni] = code16(r->items[k].category);
        c->qty[c->ni] = (float)r->items[k].qty;
        c->price[c->ni] = r->items[k].price;
        c->ni++;
    }
    feat_order(m, cu, i);
    return index_id(m, 2, oid, (uint32_t)i);
}

int model_add_contact(struct model *m, const struct store_contact *r)
{
    struct ccols *c = &m->cc;
    if (r->customer < 1 || (size_t)r->customer > m->ncust)
        return CXM_EINVAL;
    struct colspec cols[] = {COL(c->seq), COL(c->ts), COL(c->cust), COL(c->next),
                             COL(c->kind), COL(c->channel)};
    int rc = grow_cols(cols, sizeof cols / sizeof cols[0], &c->cap, c->n + 2);
    if (rc)
        return rc;
    size_t i = ++c->n;
    uint32_t cu = (uint32_t)r->customer;
    c->seq[i] = r->seq;
    c->ts[i] = (uint32_t)r->ts;
    c->cust[i] = cu;
    c->next[i] = m->cust[cu].chead;
    m->cust[cu].chead = (uint32_t)i;
    c->kind[i] = (uint8_t)r->kind;
    c->channel[i] = code16(r->channel);
    return CXM_OK;
}

int model_put_employee(struct model *m, const struct store_employee *e)
{
    uint32_t idx;
    size_t len = strlen(e->id);
    if (!strmap_get(m->emp_map, e->id, len, &idx)) {
        int rc = cxm_grow((void **)&m->emp, &m->empcap, m->nemp + 2, sizeof *m->emp);
        if (rc)
            return rc;
        idx = (uint32_t)m->nemp + 1;
        memset(&m->emp[idx], 0, sizeof m->emp[idx]);
        if (!(m->emp[idx].id = cxm_strdup(e->id)))
            return CXM_ENOMEM;
        if (strmap_put(m->emp_map, m->emp[idx].id, len, idx)) {
            free(m->emp[idx].id);
            m->emp[idx].id = NULL;
            return CXM_ENOMEM;
        }
        m->nemp = idx;
    }
    struct employee *em = &m->emp[idx];
    em->seq = e->seq;
    if (set_str(&em->name, e->name) || set_str(&em->team, e->team) ||
        set_str(&em->role, e->role))
        return CXM_ENOMEM;
    return CXM_OK;
}

int model_put_benchmark(struct model *m, const struct store_benchmark *b)
{
    const char *seg = b->segment ? b->segment : "";
    size_t i = 0;
    while (i < m->nbench && !(strcmp(m->bench[i].name, b->name) == 0 &&
                               strcmp(m->bench[i].metric, b->metric) == 0 &&
                               strcmp(m->bench[i].period, b->period) == 0 &&
                               strcmp(m->bench[i].segment, seg) == 0))
        i++;
    if (i == m->nbench) {
        if (cxm_grow((void **)&m->bench, &m->benchcap, m->nbench + 1, sizeof *m->bench))
            return CXM_ENOMEM;
        struct bench *x = &m->bench[i];
        memset(x, 0, sizeof *x);
        if (!(x->name = cxm_strdup(b->name)) || !(x->metric = cxm_strdup(b->metric)) ||
            !(x->period = cxm_strdup(b->period)) || !(x->segment = cxm_strdup(seg))) {
            free(x->name);
            free(x->metric);
            free(x->period);
            free(x->segment);
            return CXM_ENOMEM;
        }
        m->nbench++;
    }
    m->bench[i].value = b->value;
    m->bench[i].seq = b->seq;
    return CXM_OK;
}

/* ---- replay ---------------------------------------------------------- */

static int seen(struct model *m, int64_t seq)
{
    if (seq > m->last_seq)
        m->last_seq = seq;
    return CXM_OK;
}

static int r_dict(void *ctx, int dict, uint32_t code, const char *value)
{
    struct model *m = ctx;
    if (dict < 1 || dict >= DICT_COUNT)
        return CXM_EINVAL;
    return dict_load(m->dict[dict], code, value);
}

static int r_customer(void *ctx, const struct store_customer *c)
{
    struct model *m = ctx;
    int rc = model_add_customer(m, (uint32_t)c->id, c->created_ts, c->seq);
    if (!rc)
        rc = model_set_attrs(m, c);
    seen(m, c->updated_seq);
    return rc ? rc : seen(m, c->seq);
}

static int r_identity(void *ctx, const struct store_identity *i)
{
    struct model *m = ctx;
    seen(m, i->seq);
    return model_add_ident(m, i->kind, i->value, (uint32_t)i->customer, i->seq);
}

static int r_merge(void *ctx, const struct store_merge *mg)
{
    struct model *m = ctx;
    seen(m, mg->seq);
    seen(m, mg->undone_seq);
    return model_add_merge(m, mg);
}

static int r_employee(void *ctx, const struct store_employee *e)
{
    struct model *m = ctx;
    seen(m, e->seq);
    return model_put_employee(m, e);
}

static int ring_flush(struct model *m);

static int r_contact(void *ctx, const struct store_contact *c)
{
    struct model *m = ctx;
    seen(m, c->seq);
    int rc = ring_flush(m);   /* later tables see every interaction */
    return rc ? rc : model_add_contact(m, c);
}

/* The replay applies interactions REPLAY_AHEAD rows behind the scan: each
 * row writes its customer's node, at a random place, and the rows ahead
 * are known, so the node is asked for while the rows before it are
 * applied (a quarter of the replay's time went to waiting for it). A
 * waiting row keeps copies of what the store's buffers hold only until
 * the next row. */
#define REPLAY_AHEAD 8

struct replay_row {
    struct store_interaction r;
    struct text_scores sc;
    char id[CXM_MAX_EVENT_ID + 1];
};

/* Applies the waiting interactions, in order. */
static int ring_flush(struct model *m)
{
    int rc = CXM_OK;
    for (; !rc && m->ring_n; m->ring_n--) {
        rc = model_add_interaction(m, &m->ring[m->ring_at].r);
        m->ring_at = (m->ring_at + 1) % REPLAY_AHEAD;
    }
    m->ring_n = 0;
    return rc;
}

static int r_interaction(void *ctx, const struct store_interaction *r)
{
    struct model *m = ctx;
    seen(m, r->seq);
    size_t idl = r->event_id ? strlen(r->event_id) : 0;
    if ((!m->ring && !(m->ring = cxm_calloc(REPLAY_AHEAD, sizeof *m->ring))) ||
        idl >= sizeof m->ring->id) {
        int rc = ring_flush(m);   /* out of memory or an odd id: row by row */
        return rc ? rc : model_add_interaction(m, r);
    }
    struct replay_row *slot;
    if (m->ring_n == REPLAY_AHEAD) {   /* apply the oldest, take its slot */
        int rc = model_add_interaction(m, &m->ring[m->ring_at].r);
        if (rc)
            return rc;
        slot = &m->ring[m->ring_at];
        m->ring_at = (m->ring_at + 1) % REPLAY_AHEAD;
    } else {
        slot = &m->ring[(m->ring_at + m->ring_n++) % REPLAY_AHEAD];
    }
    slot->r = *r;
    if (r->event_id) {
        memcpy(slot->id, r->event_id, idl + 1);
        slot->r.event_id = slot->id;
    }
    if (r->sc) {
        slot->sc = *r->sc;
        slot->r.sc = &slot->sc;
    }
    model_prefetch_cust(m, (uint32_t)r->customer);
    return CXM_OK;
}

static int r_feedback(void *ctx, const struct store_feedback *r)
{
    struct model *m = ctx;
    seen(m, r->seq);
    int rc = ring_flush(m);
    return rc ? rc : model_add_feedback(m, r);
}

int model_profile_nodes(const struct model *m, uint32_t root, uint32_t **v, size_t *n,
                        size_t *cap)
{
    *n = 0;
    if (cxm_grow((void **)v, cap, 1, sizeof **v))
        return CXM_ENOMEM;
    (*v)[(*n)++] = root;
    for (size_t i = 0; i < *n; i++)
        for (uint32_t c = m->cust[(*v)[i]].first_child; c; c = m->cust[c].next_sibling) {
            if (cxm_grow((void **)v, cap, *n + 1, sizeof **v))
                return CXM_ENOMEM;
            (*v)[(*n)++] = c;
        }
    return CXM_OK;
}

int model_set_themes(struct model *m, const char *const *ids, size_t n)
{
    char *copy[32] = {0};
    if (n > 32)
        return CXM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = cxm_strdup(ids[i]))) {
            for (size_t k = 0; k < i; k++)
                free(copy[k]);
            return CXM_ENOMEM;
        }
    for (size_t i = 0; i < m->nthemes; i++)
        free(m->theme_ids[i]);
    memcpy(m->theme_ids, copy, sizeof copy);
    m->nthemes = n;
    return CXM_OK;
}

int model_set_clv(struct model *m, const struct store_clv_model *c)
{
    char *rep = cxm_strdup(c->report ? c->report : "{}");
    if (!rep)
        return CXM_ENOMEM;
    free(m->clv.report);
    m->clv = (struct clv_fit){
        .has = true, .seq = c->seq, .ts = c->ts, .calibration_end = c->calibration_end,
        .unit_days = c->unit_days, .r = c->r, .alpha = c->alpha, .a = c->a, .b = c->b,
        .p = c->p, .q = c->q, .v = c->v, .report = rep};
    return CXM_OK;
}

static int r_clv(void *ctx, const struct store_clv_model *c)
{
    return model_set_clv(ctx, c);
}

static int r_benchmark(void *ctx, const struct store_benchmark *b)
{
    struct model *m = ctx;
    seen(m, b->seq);
    return model_put_benchmark(m, b);
}

static int r_order(void *ctx, const struct store_order *r)
{
    struct model *m = ctx;
    seen(m, r->seq);
    int rc = ring_flush(m);
    return rc ? rc : model_add_order(m, r);
}

int model_load(struct store *s, struct model **out, struct cxm_err *err)
{
    struct model *m = model_new();
    if (!m)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    struct store_scan cb = {
        .ctx = m, .dict = r_dict, .customer = r_customer, .identity = r_identity,
        .merge = r_merge, .employee = r_employee, .interaction = r_interaction,
        .feedback = r_feedback, .order = r_order, .benchmark = r_benchmark,
        .clv_model = r_clv, .contact = r_contact};
    m->loading = true;
    int rc = s->ops->scan(s, &cb, err);
    if (!rc && (rc = ring_flush(m)))
        cxm_err_set(err, rc, "replay stopped: %s", cxm_rc_str(rc));
    free(m->ring);
    m->ring = NULL;
    struct idset *set[] = {&m->ids_i, &m->ids_f, &m->ids_o};
    for (int k = 0; !rc && k < 3; k++) {
        if ((rc = idset_build(set[k], m->load_ids[k], m->load_n[k])))
            cxm_err_set(err, rc, "out of memory");
        free(m->load_ids[k]);
        m->load_ids[k] = NULL;
    }
    m->loading = false;
    if (rc) {
        model_free(m);
        return rc;
    }
    if (s->last_seq > m->last_seq)
        m->last_seq = s->last_seq;
    *out = m;
    return CXM_OK;
}

size_t model_column_bytes(const struct model *m)
{
    size_t irow = 8 + 4 + 4 * 3 + 2 * 6 + 8 + 1;
    size_t frow = 8 + 4 + 4 * 2 + 4 + 2 * 5 + 1 + 1 + 4;
    size_t trow = 8 + 4 * 3 + 1;
    return m->ic.cap * irow + m->fc.cap * frow + m->tc.cap * trow +
           m->itxcap * sizeof *m->itx +
           m->tc.acap * sizeof *m->tc.asp + idset_bytes(&m->ids_i) +
           idset_bytes(&m->ids_f) + m->fc.textcap * sizeof *m->fc.text_rows + rollup_bytes(&m->ru[RU_CHANNEL]) +
           rollup_bytes(&m->ru[RU_TOUCHPOINT]) + rollup_bytes(&m->ru[RU_STAGE]);
}
