/* text.c - text analytics in the engine: every text is scored (sentiment,
 * themes, aspect sentiment) once, in the thread that submits it, so HTTP
 * threads share the work and the writer only stores the result. The
 * taxonomy in use is engine state: the built-in default until a user sets
 * one; a new taxonomy re-themes every stored text. Texts stored before
 * text analytics existed are scored when the engine opens. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sentiment.h"
#include "core/textmodel.h"
#include "core/themes.h"
#include "engine/engine_impl.h"
#include "log.h"

/* A clause's sentiment for aspects: as the whole text's (ctx: the model). */
static float clause_score(const char *text, size_t len, void *ctx)
{
    struct sentiment s;
    sentiment_score(text, len, &s, NULL);
    return ctx ? textmodel_blend(ctx, text, len, s.compound) : s.compound;
}

static int16_t quantise(double v)
{
    double q = round(v * 10000);
    return (int16_t)(q > 10000 ? 10000 : q < -10000 ? -10000 : q);
}

void text_score(const struct taxonomy *t, const struct textmodel *m, const char *text,
                size_t len, struct text_scores *sc)
{
    struct sentiment s;
    sentiment_score(text, len, &s, NULL);
    sc->sentiment = m ? textmodel_blend(m, text, len, s.compound) : s.compound;
    sc->themes = 0;
    sc->naspects = 0;
    if (!t)
        return;
    struct aspect a[THEMES_MAX];
    size_t n = themes_aspects(t, text, len, clause_score, (void *)m, a, THEMES_MAX);
    for (size_t k = 0; k < n && k < TEXT_ASPECTS_MAX; k++) {
        sc->themes |= 1u << a[k].theme;
        sc->aspect[k] = (struct text_aspect){a[k].theme, quantise(a[k].sentiment)};
        sc->naspects++;
    }
}

/* ---- the taxonomy in use ---------------------------------------------- */

static int publish_themes(struct engine *e, const struct taxonomy *t)
{
    const char *ids[THEMES_MAX];
    size_t n = taxonomy_count(t);
    for (size_t i = 0; i < n && i < THEMES_MAX; i++)
        ids[i] = taxonomy_id(t, i);
    return model_set_themes(e->m, ids, n);
}

int text_theme_ids(struct engine *e)
{
    pthread_rwlock_rdlock(&e->tlock);
    int rc = e->tax ? publish_themes(e, e->tax) : CXM_OK;
    pthread_rwlock_unlock(&e->tlock);
    return rc;
}

struct backfill {
    struct engine *e;
    size_t n;
    int rc;
    struct cxm_err *err;
};

static int backfill_one(void *ctx, int64_t seq, const char *body, size_t len)
{
    struct backfill *b = ctx;
    struct engine *e = b->e;
    struct text_scores sc;
    text_score(e->tax, e->tm, body, len, &sc);
    int rc = e->store->ops->set_text_scores(e->store, seq, &sc, b->err);
    if (!rc && (rc = model_set_scores(e->m, seq, &sc)) == CXM_ENOTFOUND)
        rc = CXM_OK;   /* a text of a record the model does not hold */
    if (rc == CXM_ENOMEM)
        cxm_err_set(b->err, rc, "out of memory");
    b->n++;
    return rc;
}

/* Scores (or re-themes) every stored text from seq from on, in one
 * transaction. Writer thread, or open before the writer starts. */
static int rescore(struct engine *e, int64_t from, size_t *n, struct cxm_err *err)
{
    struct backfill b = {.e = e, .err = err};
    struct store *s = e->store;
    int rc = s->ops->scan_texts(s, from, backfill_one, &b, err);
    *n = b.n;
    return rc;
}

/* Lowest seq of a stored text without scores; 0 when all are scored. */
static int64_t first_unscored(const struct model *m)
{
    int64_t lo = 0;
    for (size_t i = 1; i <= m->ic.n; i++)
        if (m->ic.has_text[i] && !model_itx(m, i)) {
            lo = m->ic.seq[i];
            break;
        }
    for (size_t i = 1; i <= m->fc.n; i++)
        if (m->fc.has_text[i] && !m->fc.tx[i]) {
            if (!lo || m->fc.seq[i] < lo)
                lo = m->fc.seq[i];
            break;
        }
    return lo;
}

/* The stored taxonomy, else the default, into *out. */
static int load_taxonomy(struct engine *e, struct taxonomy **out, struct cxm_err *err)
{
    char *json = NULL;
    *out = NULL;
    int rc = e->store->ops->get_taxonomy(e->store, &json, err);
    if (rc)
        return rc;
    if (json) {
        rc = taxonomy_parse(json, strlen(json), out, err);
        free(json);
        if (rc) {
            log_msg(LOG_ERROR, "the stored taxonomy does not parse (%s): using the"
                    " default", err->msg);
            cxm_err_clear(err);
        }
    }
    return *out ? CXM_OK : taxonomy_default(out, err);
}

static int load_model(struct engine *e, struct cxm_err *err);

int text_reload(struct engine *e, struct cxm_err *err)
{
    struct taxonomy *t;
    int rc = load_taxonomy(e, &t, err);
    if (rc)
        return rc;
    pthread_rwlock_wrlock(&e->tlock);
    struct taxonomy *old = e->tax;
    struct textmodel *oldm = e->tm;
    char *oldr = e->tm_report;
    e->tax = t;
    e->tm = NULL;
    e->tm_report = NULL;
    rc = load_model(e, err);
    e->tax_gen++;
    pthread_rwlock_unlock(&e->tlock);
    taxonomy_free(old);
    textmodel_free(oldm);
    free(oldr);
    return rc ? rc : publish_themes(e, t);
}

/* The stored sentiment model, if any, into e->tm. A model that does not
 * load is logged and left out: the lexicon alone scores. */
static int load_model(struct engine *e, struct cxm_err *err)
{
    void *blob = NULL;
    size_t len = 0;
    char *report = NULL;
    int rc = e->store->ops->get_text_model(e->store, &blob, &len, &report, err);
    if (rc || !blob)
        return rc;
    struct cxm_err le;
    cxm_err_clear(&le);
    if (textmodel_load(blob, len, &e->tm, &le)) {
        log_msg(LOG_ERROR, "the stored sentiment model does not load (%s): the lexicon"
                " scores alone", le.msg);
        free(report);
    } else {
        e->tm_report = report;
    }
    free(blob);
    return CXM_OK;
}

int text_open(struct engine *e, bool writable, struct cxm_err *err)
{
    int rc = load_taxonomy(e, &e->tax, err);
    if (!rc)
        rc = load_model(e, err);
    if (rc)
        return rc;
    if ((rc = publish_themes(e, e->tax)))
        return cxm_err_set(err, rc, "out of memory");
    int64_t from = writable ? first_unscored(e->m) : 0;
    if (!from)
        return CXM_OK;
    double t0 = cxm_seconds();
    size_t n = 0;
    struct store *s = e->store;
    if (!(rc = s->ops->begin(s, err)) && !(rc = rescore(e, from, &n, err)))
        rc = s->ops->commit(s, e->m->last_seq, err);
    else if (rc)
        s->ops->rollback(s);
    if (!rc)
        log_msg(LOG_INFO, "scored %zu stored texts in %.2f s", n, cxm_seconds() - t0);
    return rc;
}

void text_close(struct engine *e)
{
    taxonomy_free(e->tax);
    e->tax = NULL;
    textmodel_free(e->tm);
    e->tm = NULL;
    free(e->tm_report);
    e->tm_report = NULL;
    themes_thread_release();
}

void text_rescore_stale(struct engine *e, struct engine_work *w)
{
    if (!w->scores || w->tax_gen == e->tax_gen)
        return;
    for (size_t i = 0; i < w->n; i++) {
        struct event *ev = &w->ev[i];
        if (ev->sc)
            text_score(e->tax, e->tm, ev->text, strlen(ev->text), ev->sc);
    }
    w->tax_gen = e->tax_gen;
}

int text_prepare(struct engine *e, struct engine_work *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++)
        n += w->ev[i].text && (w->ev[i].type == EV_INTERACTION || w->ev[i].type == EV_FEEDBACK);
    if (!n || e->text_off)
        return CXM_OK;
    struct text_scores *sc = cxm_malloc(n * sizeof *sc);
    if (!sc)
        return CXM_ENOMEM;
    pthread_rwlock_rdlock(&e->tlock);
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        struct event *ev = &w->ev[i];
        if (!ev->text || (ev->type != EV_INTERACTION && ev->type != EV_FEEDBACK))
            continue;
        text_score(e->tax, e->tm, ev->text, strlen(ev->text), &sc[k]);
        ev->sc = &sc[k++];
    }
    w->tax_gen = e->tax_gen;
    pthread_rwlock_unlock(&e->tlock);
    w->scores = sc;
    return CXM_OK;
}

int text_set_taxonomy(struct engine *e, struct engine_work *w, int64_t seq,
                      struct cxm_err *err)
{
    struct taxonomy *t = NULL;
    int rc = taxonomy_parse(w->taxonomy, strlen(w->taxonomy), &t, err);
    if (rc)
        return rc;
    const char *canon = taxonomy_json(t);
    if ((rc = e->store->ops->put_taxonomy(e->store, canon ? canon : w->taxonomy, seq, err))) {
        taxonomy_free(t);
        return rc;
    }
    pthread_rwlock_wrlock(&e->tlock);
    struct taxonomy *old = e->tax;
    e->tax = t;
    e->tax_gen++;
    pthread_rwlock_unlock(&e->tlock);
    size_t n = 0;
    if ((rc = publish_themes(e, t)) || (rc = rescore(e, 0, &n, err))) {
        if (rc == CXM_ENOMEM)
            cxm_err_set(err, rc, "out of memory");
        /* the writer rolls back and reloads; the taxonomy goes back too */
        pthread_rwlock_wrlock(&e->tlock);
        e->tax = old;
        e->tax_gen++;
        pthread_rwlock_unlock(&e->tlock);
        taxonomy_free(t);
        return rc;
    }
    taxonomy_free(old);
    w->accepted = n;
    log_msg(LOG_INFO, "new taxonomy: %zu themes, %zu texts re-themed", taxonomy_count(t), n);
    return CXM_OK;
}

int engine_set_taxonomy(struct engine *e, const char *json, size_t *n, int64_t *seq,
                        struct cxm_err *err)
{
    struct taxonomy *t = NULL;
    int rc = taxonomy_parse(json, strlen(json), &t, err);   /* the precise error */
    taxonomy_free(t);
    if (rc)
        return rc;
    struct engine_work w = {.op = ENGINE_TAXONOMY, .taxonomy = json};
    if ((rc = engine_run(e, &w))) {
        *err = w.err;
        return rc;
    }
    *n = w.accepted;
    *seq = w.seq;
    return CXM_OK;
}

int text_set_model(struct engine *e, struct engine_work *w, int64_t seq,
                   struct cxm_err *err)
{
    struct textmodel *m = NULL;
    char *report = cxm_strdup(w->report ? w->report : "{}");
    int rc = report ? textmodel_load(w->blob, w->blob_len, &m, err)
                    : cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!rc)
        rc = e->store->ops->put_text_model(e->store, seq, (int64_t)time(NULL), w->blob,
                                           w->blob_len, report, err);
    if (rc) {
        textmodel_free(m);
        free(report);
        return rc;
    }
    pthread_rwlock_wrlock(&e->tlock);
    struct textmodel *old = e->tm;
    char *oldr = e->tm_report;
    e->tm = m;
    e->tm_report = report;
    e->tax_gen++;
    pthread_rwlock_unlock(&e->tlock);
    size_t n = 0;
    if ((rc = rescore(e, 0, &n, err))) {
        if (rc == CXM_ENOMEM)
            cxm_err_set(err, rc, "out of memory");
        /* the writer rolls back and reloads, the model with it */
        textmodel_free(old);
        free(oldr);
        return rc;
    }
    textmodel_free(old);
    free(oldr);
    w->accepted = n;
    log_msg(LOG_INFO, "new sentiment model: %zu texts rescored", n);
    return CXM_OK;
}
