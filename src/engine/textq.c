/* textq.c - reads of text analytics: one text scored and explained, pain
 * points by theme, emerging phrases, and the feedback comments with their
 * scores (full-text search through the store's index). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/sentiment.h"
#include "core/themes.h"
#include "core/timefmt.h"
#include "cxm_limits.h"
#include "engine/engine_impl.h"

static double round4(double v)
{
    return round(v * 10000) / 10000;
}

json_t *text_scores_json(const struct model *m, const struct text_scores *sc)
{
    json_t *o = json_object();
    json_object_set_new(o, "sentiment", json_real(round4(sc->sentiment)));
    json_object_set_new(o, "label", json_string(sentiment_label(sc->sentiment)));
    json_t *themes = json_array(), *asp = json_array();
    for (size_t k = 0; k < sc->naspects; k++) {
        uint8_t t = sc->aspect[k].theme;
        if (t >= m->nthemes)
            continue;
        json_array_append_new(themes, json_string(m->theme_ids[t]));
        json_array_append_new(asp, json_pack("{s:s, s:f}", "theme", m->theme_ids[t],
                                             "sentiment", sc->aspect[k].sentiment / 10000.0));
    }
    json_object_set_new(o, "themes", themes);
    json_object_set_new(o, "aspects", asp);
    return o;
}

/* ---- one text --------------------------------------------------------- */

int engine_text_sentiment(struct engine *e, const char *text, size_t len, bool explain,
                          json_t **out, struct cxm_err *err)
{
    if (len > CXM_MAX_TEXT)
        return cxm_err_field(err, CXM_ETOOBIG, -1, "text", "text: over %u bytes",
                             CXM_MAX_TEXT);
    struct sentiment s;
    struct sent_explain *ex = explain ? cxm_malloc(sizeof *ex) : NULL;
    if (explain && !ex)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    sentiment_score(text, len, &s, ex);
    struct text_scores sc;
    pthread_rwlock_rdlock(&e->tlock);
    text_score(e->tax, e->tm, text, len, &sc);
    float blended = sc.sentiment;
    pthread_rwlock_unlock(&e->tlock);
    /* compound: what ingest would store (blended when a trained model is
     * in use); lexicon: the lexicon's own, which explain explains */
    json_t *doc = json_pack("{s:f, s:s, s:f, s:f, s:f, s:f}", "compound", round4(blended),
                            "label", sentiment_label(blended), "lexicon", round4(s.compound),
                            "pos", round4(s.pos), "neu", round4(s.neu), "neg", round4(s.neg));
    pthread_rwlock_rdlock(&e->lock);
    json_t *ts = text_scores_json(e->m, &sc);
    pthread_rwlock_unlock(&e->lock);
    json_object_set(doc, "themes", json_object_get(ts, "themes"));
    json_object_set(doc, "aspects", json_object_get(ts, "aspects"));
    json_decref(ts);
    if (ex) {
        json_t *terms = json_array();
        for (int i = 0; i < ex->n; i++) {
            json_t *rules = json_array();
            for (unsigned b = 1; b <= SENT_R_PUNCT; b <<= 1)
                if (ex->term[i].rules & b)
                    json_array_append_new(rules, json_string(sentiment_rule_name(b)));
            json_array_append_new(terms, json_pack("{s:s, s:f, s:o}", "word",
                                  ex->term[i].word, "valence", round4(ex->term[i].valence),
                                  "rules", rules));
        }
        json_object_set_new(doc, "terms", terms);
        json_object_set_new(doc, "more_terms", json_integer(ex->more));
        free(ex);
    }
    *out = doc;
    return CXM_OK;
}

/* ---- pain points ------------------------------------------------------ */

static int cmp_pain(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    double x = json_number_value(json_object_get(a, "value"));
    double y = json_number_value(json_object_get(b, "value"));
    if (x != y)
        return x < y ? 1 : -1;
    json_int_t na = json_integer_value(json_object_get(a, "negative"));
    json_int_t nb = json_integer_value(json_object_get(b, "negative"));
    return (na < nb) - (na > nb);
}

/* The rows of doc keyed by their dimension values, for the trend. */
static json_t *index_rows(json_t *doc, json_t *by)
{
    json_t *idx = json_object(), *row;
    size_t i;
    json_array_foreach(json_object_get(doc, "rows"), i, row) {
        json_t *key = json_array(), *d;
        size_t k;
        json_array_foreach(by, k, d)
            json_array_append(key, json_object_get(row, json_string_value(d)));
        char *ks = json_dumps(key, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(key);
        if (ks) {
            json_object_set(idx, ks, row);
            free(ks);
        }
    }
    return idx;
}

int engine_text_themes(struct engine *e, const struct report_query *q, json_t **out,
                       struct cxm_err *err)
{
    char by[256];
    if (q->by && *q->by) {
        if (strstr(q->by, "theme"))
            snprintf(by, sizeof by, "%s", q->by);
        else
            snprintf(by, sizeof by, "theme,%s", q->by);
    } else {
        snprintf(by, sizeof by, "theme");
    }
    if (strlen(by) >= sizeof by - 1)
        return cxm_err_field(err, CXM_EINVAL, -1, "by", "by: too long");
    struct report_query rq = *q;
    rq.metric = "pain";
    rq.by = by;
    json_t *doc = NULL;
    int rc = engine_report(e, &rq, &doc, err);
    if (rc)
        return rc;
    /* the trend: the same span just before, when the period is bounded */
    json_t *prev = NULL;
    bool has_time = false;
    static const char *const times[] = {"day", "week", "month", "quarter", "year"};
    for (size_t k = 0; k < 5; k++)
        has_time |= strstr(by, times[k]) != NULL;
    if (!has_time && q->from > 0 && q->to < INT64_MAX && q->to > q->from) {
        struct report_query pq = rq;
        pq.to = q->from;
        pq.from = q->from - (q->to - q->from);
        if (engine_report(e, &pq, &prev, err)) {
            json_decref(doc);
            return err->code;
        }
    }
    json_t *rows = json_object_get(doc, "rows"), *row;
    size_t n = json_array_size(rows), i;
    json_t **v = n ? cxm_malloc(n * sizeof *v) : NULL;
    if (n && !v) {
        json_decref(doc);
        json_decref(prev);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    json_t *pidx = prev ? index_rows(prev, json_object_get(doc, "by")) : NULL;
    pthread_rwlock_rdlock(&e->tlock);
    json_array_foreach(rows, i, row) {
        v[i] = json_incref(row);
        int t = taxonomy_find(e->tax, json_string_value(json_object_get(row, "theme")));
        json_object_set_new(row, "theme_name", t >= 0 ? json_string(taxonomy_name(e->tax,
                                                          (size_t)t)) : json_null());
        if (!pidx)
            continue;
        json_t *key = json_array(), *d;
        size_t k;
        json_array_foreach(json_object_get(doc, "by"), k, d)
            json_array_append(key, json_object_get(row, json_string_value(d)));
        char *ks = json_dumps(key, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(key);
        json_t *p = ks ? json_object_get(pidx, ks) : NULL;
        free(ks);
        uint64_t pn = p ? (uint64_t)json_integer_value(json_object_get(p, "n")) : 0;
        uint64_t pneg = p ? (uint64_t)json_integer_value(json_object_get(p, "negative")) : 0;
        uint64_t cn = (uint64_t)json_integer_value(json_object_get(row, "n"));
        uint64_t cneg = (uint64_t)json_integer_value(json_object_get(row, "negative"));
        struct metric_change ch = pct_change(pneg, pn, cneg, cn);
        json_object_set_new(row, "previous_value", p ? json_incref(json_object_get(p, "value"))
                                                     : json_null());
        json_object_set_new(row, "previous_n", json_integer((json_int_t)pn));
        json_object_set_new(row, "change", ch.has_value ? json_real(ch.change) : json_null());
        json_object_set_new(row, "significant", json_boolean(ch.has_value && ch.significant));
    }
    pthread_rwlock_unlock(&e->tlock);
    if (!has_time && n)
        qsort(v, n, sizeof *v, cmp_pain);
    json_t *sorted = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(sorted, v[i]);
    free(v);
    json_object_set_new(doc, "rows", sorted);
    json_object_set_new(doc, "metric", json_string("pain"));
    if (prev) {
        json_object_set(doc, "previous_from", json_object_get(prev, "from"));
        json_object_set(doc, "previous_to", json_object_get(prev, "to"));
    }
    json_decref(pidx);
    json_decref(prev);
    *out = doc;
    return CXM_OK;
}

/* ---- emerging phrases ------------------------------------------------- */

struct pick {
    int64_t seq;
    bool current;
};

int engine_text_emerging(struct engine *e, const struct emerging_query *q, json_t **out,
                         struct cxm_err *err)
{
    int b = bucket_parse(q->period ? q->period : "week");
    if (b < 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "period",
                             "period: day, week, month, quarter or year");
    if (q->baseline < 1 || q->baseline > 52)
        return cxm_err_field(err, CXM_EINVAL, -1, "baseline",
                             "baseline: 1 to 52 periods");
    size_t limit = q->limit ? q->limit : 20;
    if (limit > 200)
        limit = 200;
    /* the comments of the current period and of the baseline before it */
    pthread_rwlock_rdlock(&e->lock);
    const struct model *m = e->m;
    const struct fcols *fc = &m->fc;
    int64_t at = q->at ? q->at : 0;
    if (!at)
        for (size_t k = 0; k < fc->ntext; k++)
            if ((int64_t)fc->ts[fc->text_rows[k]] > at)
                at = fc->ts[fc->text_rows[k]];
    int64_t cur = bucket_start(at, (enum bucket)b), end = bucket_next(cur, (enum bucket)b);
    int64_t base = cur;
    for (int k = 0; k < q->baseline; k++)
        base = bucket_start(base - 1, (enum bucket)b);
    struct pick *pk = NULL;
    size_t n = 0, cap = 0;
    int rc = CXM_OK;
    for (size_t k = fc->ntext; k >= 1 && !rc; k--) {
        size_t i = fc->text_rows[k - 1];
        int64_t ts = fc->ts[i];
        if (ts < base || ts >= end)
            continue;
        if (q->theme >= 0 && !(fc->tx[i] && (m->tc.themes[fc->tx[i]] >> q->theme & 1)))
            continue;
        if (q->negative && !(fc->tx[i] && m->tc.sent[fc->tx[i]] <= -0.05f))
            continue;
        if (n >= CXM_MAX_EMERGING_COMMENTS)
            break;
        if (!(rc = cxm_grow((void **)&pk, &cap, n + 1, sizeof *pk)))
            pk[n++] = (struct pick){fc->seq[i], ts >= cur};
    }
    pthread_rwlock_unlock(&e->lock);
    struct phrases *ph = rc ? NULL : phrases_new(0);
    if (!rc && !ph)
        rc = CXM_ENOMEM;
    /* current comments first (phrases_add wants them before the baseline) */
    size_t ncur = 0, nbase = 0;
    for (int pass = 0; !rc && pass < 2; pass++)
        for (size_t k = 0; !rc && k < n; k++) {
            if (pk[k].current != (pass == 0))
                continue;
            char *text = NULL;
            if ((rc = e->store->ops->get_text(e->store, pk[k].seq, &text, err)))
                break;
            if (text)
                rc = phrases_add(ph, pass == 0 ? PHRASES_CURRENT : PHRASES_BASELINE, text,
                                 strlen(text), (uint64_t)pk[k].seq);
            free(text);
            pass == 0 ? ncur++ : nbase++;
        }
    struct emerging *em = NULL;
    size_t ne = 0;
    if (!rc && !(em = cxm_malloc(limit * sizeof *em)))
        rc = CXM_ENOMEM;
    if (!rc)
        rc = phrases_top(ph, NULL, em, limit, &ne);
    json_t *rows = NULL;
    if (!rc) {
        rows = json_array();
        for (size_t k = 0; k < ne; k++) {
            json_t *ex = json_array();
            for (int x = 0; x < em[k].n_examples; x++) {
                json_t *one = json_pack("{s:I}", "seq", (json_int_t)em[k].examples[x]);
                char *text = NULL;
                if (q->with_text &&
                    !e->store->ops->get_text(e->store, (int64_t)em[k].examples[x], &text, NULL) &&
                    text)
                    json_object_set_new(one, "comment", json_string(text));
                free(text);
                json_array_append_new(ex, one);
            }
            json_array_append_new(rows, json_pack(
                "{s:s, s:I, s:I, s:f, s:f, s:f, s:o}", "phrase", em[k].phrase,
                "count", (json_int_t)em[k].count, "baseline_count",
                (json_int_t)em[k].base_count, "rate", round4(em[k].rate),
                "baseline_rate", round4(em[k].base_rate), "g2", round(em[k].g2 * 100) / 100,
                "examples", ex));
        }
    }
    free(em);
    phrases_free(ph);
    free(pk);
    if (rc) {
        json_decref(rows);
        if (rc == CXM_ENOMEM)
            return cxm_err_set(err, rc, "out of memory");
        return rc;
    }
    char l1[TIMEFMT_LEN], l2[TIMEFMT_LEN], l3[TIMEFMT_LEN];
    timefmt_format(cur, l1);
    timefmt_format(end, l2);
    timefmt_format(base, l3);
    *out = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "period", q->period ? q->period : "week",
                     "from", l1, "to", l2, "baseline_from", l3,
                     "comments", (json_int_t)ncur, "baseline_comments", (json_int_t)nbase,
                     "rows", rows);
    return CXM_OK;
}

/* ---- the feedback comments ------------------------------------------- */

static size_t feedback_row(const struct model *m, int64_t seq)
{
    size_t lo = 1, hi = m->fc.n;
    while (lo <= hi && hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->fc.seq[mid] == seq)
            return mid;
        if (m->fc.seq[mid] < seq)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

/* The codes of the query's channel, touchpoint and stage (0: any); false
 * when one names a value the data never had, so nothing matches. */
static bool dim_codes(const struct model *m, const struct feedback_query *q, uint32_t code[3])
{
    const char *v[3] = {q->channel, q->touchpoint, q->stage};
    const int d[3] = {DICT_CHANNEL, DICT_TOUCHPOINT, DICT_STAGE};
    for (int k = 0; k < 3; k++) {
        code[k] = 0;
        if (v[k] && *v[k] && !(code[k] = dict_find(m->dict[d[k]], v[k])))
            return false;
    }
    return true;
}

static bool comment_matches(const struct model *m, size_t i, const struct feedback_query *q,
                            const uint32_t code[3])
{
    const struct fcols *fc = &m->fc;
    if (!fc->has_text[i] || (int64_t)fc->ts[i] < q->from || (int64_t)fc->ts[i] >= q->to)
        return false;
    if ((code[0] && fc->channel[i] != code[0]) || (code[1] && fc->touchpoint[i] != code[1]) ||
        (code[2] && fc->stage[i] != code[2]))
        return false;
    if (q->customer && model_root(m, fc->cust[i]) != q->customer)
        return false;   /* q->customer is a root: see engine_feedback_list */
    uint32_t t = fc->tx[i];
    if (q->theme >= 0 && !(t && (m->tc.themes[t] >> q->theme & 1)))
        return false;
    if (q->label) {
        if (!t)
            return false;
        const char *l = sentiment_label(m->tc.sent[t]);
        if (strcmp(l, q->label))
            return false;
    }
    return true;
}

static json_t *comment_json(struct engine *e, const struct model *m, size_t i)
{
    const struct fcols *fc = &m->fc;
    char ts[TIMEFMT_LEN];
    timefmt_format(fc->ts[i], ts);
    json_t *o = json_pack("{s:I, s:s, s:I, s:s}", "seq", (json_int_t)fc->seq[i], "ts", ts,
                          "customer_id", (json_int_t)model_root(m, fc->cust[i]),
                          "kind", event_fkind_name(fc->kind[i]));
    if (!isnan(fc->score[i]))
        json_object_set_new(o, "score", json_real(fc->score[i]));
    const struct { const char *k; int d; uint16_t v; } dims[] = {
        {"survey", DICT_SURVEY, fc->survey[i]}, {"channel", DICT_CHANNEL, fc->channel[i]},
        {"touchpoint", DICT_TOUCHPOINT, fc->touchpoint[i]}, {"stage", DICT_STAGE, fc->stage[i]},
        {"agent_id", DICT_AGENT, fc->agent[i]}};
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        const char *s = dims[k].v ? dict_str(m->dict[dims[k].d], dims[k].v) : NULL;
        if (s)
            json_object_set_new(o, dims[k].k, json_string(s));
    }
    char *text = NULL;
    if (!e->store->ops->get_text(e->store, fc->seq[i], &text, NULL) && text)
        json_object_set_new(o, "comment", json_string(text));
    free(text);
    struct text_scores sc;
    if (model_scores(m, true, i, &sc)) {
        json_t *s = text_scores_json(m, &sc);
        json_object_update(o, s);
        json_decref(s);
    }
    return o;
}

int engine_feedback_list(struct engine *e, const struct feedback_query *q, json_t **out,
                         struct cxm_err *err)
{
    size_t limit = q->limit ? q->limit : CXM_DEFAULT_PAGE;
    if (limit > CXM_MAX_PAGE)
        limit = CXM_MAX_PAGE;
    struct feedback_query rq = *q;
    if (q->customer) {
        pthread_rwlock_rdlock(&e->lock);
        bool known = q->customer <= e->m->ncust;
        rq.customer = known ? model_root(e->m, q->customer) : 0;
        pthread_rwlock_unlock(&e->lock);
        if (!known)
            return cxm_err_field(err, CXM_ENOTFOUND, -1, "customer_id", "no customer %u",
                                 q->customer);
    }
    q = &rq;
    int64_t before = q->cursor > 0 ? q->cursor : INT64_MAX;
    json_t *items = json_array();
    int64_t last = 0;
    bool more = false;
    int rc = CXM_OK;
    if (q->search && *q->search) {
        /* the index gives texts of interactions and feedback, newest
         * first: keep the feedback that matches the rest */
        int64_t *seqs = cxm_malloc(CXM_MAX_PAGE * sizeof *seqs);
        if (!seqs) {
            json_decref(items);
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        }
        while (!rc && json_array_size(items) < limit) {
            size_t n = 0;
            if ((rc = e->store->ops->search_text(e->store, q->search, before, seqs,
                                                 CXM_MAX_PAGE, &n, err)) || !n)
                break;
            pthread_rwlock_rdlock(&e->lock);
            uint32_t code[3];
            if (!dim_codes(e->m, q, code)) {
                pthread_rwlock_unlock(&e->lock);
                break;
            }
            for (size_t k = 0; k < n; k++) {
                size_t i = feedback_row(e->m, seqs[k]);
                before = seqs[k];
                if (!i || !comment_matches(e->m, i, q, code))
                    continue;
                if (json_array_size(items) == limit) {
                    more = true;
                    break;
                }
                json_array_append_new(items, comment_json(e, e->m, i));
                last = seqs[k];
            }
            pthread_rwlock_unlock(&e->lock);
            if (more || n < CXM_MAX_PAGE)
                break;
        }
        free(seqs);
    } else {
        pthread_rwlock_rdlock(&e->lock);
        const struct model *m = e->m;
        uint32_t code[3];
        bool known = dim_codes(m, q, code);
        for (size_t k = m->fc.ntext; known && k >= 1; k--) {   /* the rows with a comment */
            size_t i = m->fc.text_rows[k - 1];
            if (m->fc.seq[i] >= before || !comment_matches(m, i, q, code))
                continue;
            if (json_array_size(items) == limit) {
                more = true;
                break;
            }
            json_array_append_new(items, comment_json(e, m, i));
            last = m->fc.seq[i];
        }
        pthread_rwlock_unlock(&e->lock);
    }
    if (rc) {
        json_decref(items);
        return rc;
    }
    json_t *doc = json_pack("{s:o}", "items", items);
    json_object_set_new(doc, "next_cursor", more && last ? json_sprintf("%lld", (long long)last)
                                                         : json_null());
    *out = doc;
    return CXM_OK;
}

int engine_theme_index(struct engine *e, const char *id)
{
    pthread_rwlock_rdlock(&e->tlock);
    int t = id ? taxonomy_find(e->tax, id) : -1;
    pthread_rwlock_unlock(&e->tlock);
    return t;
}

int engine_taxonomy(struct engine *e, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->tlock);
    const char *j = taxonomy_json(e->tax);
    json_error_t je;
    json_t *doc = j ? json_loads(j, 0, &je) : NULL;
    pthread_rwlock_unlock(&e->tlock);
    if (!doc)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    *out = doc;
    return CXM_OK;
}
