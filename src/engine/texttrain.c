/* texttrain.c - training the sentiment model on the company's own
 * feedback: every answer with both a comment and an NPS or CSAT score is a
 * labelled example (the score says how the customer felt), the lexicon's
 * own score of the comment is the baseline, and core/textmodel decides on
 * held-back data whether blending helps. The model goes into use through
 * the writer only when it does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sentiment.h"
#include "core/textmodel.h"
#include "engine/engine_impl.h"
#include "log.h"

struct pick {
    int64_t seq;
    int8_t label;
};

/* NPS 9-10 / CSAT 4-5 positive, NPS 7-8 / CSAT 3 neutral, the rest
 * negative; 2 for answers that are no example. */
static int8_t label_of(int kind, float score)
{
    if (isnan(score))
        return 2;
    if (kind == FB_NPS)
        return score >= 9 ? 1 : score >= 7 ? 0 : -1;
    if (kind == FB_CSAT)
        return score >= 4 ? 1 : score >= 3 ? 0 : -1;
    return 2;
}

static json_t *report_json(const struct tm_report *r)
{
    return json_pack("{s:I, s:I, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:{s:f, s:f, s:f},"
                     " s:{s:f, s:f, s:f}, s:f, s:f, s:b, s:s}",
        "examples", (json_int_t)r->n_examples, "skipped", (json_int_t)r->n_skipped,
        "per_class", "negative", (json_int_t)r->per_class[0],
        "neutral", (json_int_t)r->per_class[1], "positive", (json_int_t)r->per_class[2],
        "train", (json_int_t)r->n_train, "test", (json_int_t)r->n_test,
        "features", (json_int_t)r->features,
        "accuracy", "lexicon", r->acc_lexicon, "model", r->acc_model, "blend", r->acc_blend,
        "macro_f1", "lexicon", r->f1_lexicon, "model", r->f1_model, "blend", r->f1_blend,
        "weight", r->weight, "z", r->z, "used", r->used, "reason", r->reason);
}

int engine_text_train(struct engine *e, json_t **out, struct cxm_err *err)
{
    double t0 = cxm_seconds();
    struct pick *pk = NULL;
    size_t n = 0, cap = 0;
    int rc = CXM_OK;
    pthread_rwlock_rdlock(&e->lock);
    const struct fcols *fc = &e->m->fc;
    for (size_t i = 1; !rc && i <= fc->n; i++) {
        int8_t l = fc->has_text[i] ? label_of(fc->kind[i], fc->score[i]) : 2;
        if (l == 2)
            continue;
        if (n >= TM_MAX_EXAMPLES)
            break;
        if (!(rc = cxm_grow((void **)&pk, &cap, n + 1, sizeof *pk)))
            pk[n++] = (struct pick){fc->seq[i], l};
    }
    pthread_rwlock_unlock(&e->lock);
    struct tm_example *ex = !rc && n ? cxm_calloc(n, sizeof *ex) : NULL;
    if (rc || (n && !ex)) {
        free(pk);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    /* the texts, and the lexicon's score of each: the baseline to beat */
    size_t got = 0;
    for (size_t k = 0; !rc && k < n; k++) {
        char *text = NULL;
        if ((rc = e->store->ops->get_text(e->store, pk[k].seq, &text, err)))
            break;
        if (!text)
            continue;
        struct sentiment s;
        size_t len = strlen(text);
        sentiment_score(text, len, &s, NULL);
        ex[got++] = (struct tm_example){.text = text, .len = len, .label = pk[k].label,
                                        .lexicon = s.compound};
    }
    free(pk);
    double t_read = cxm_seconds() - t0;
    struct textmodel *m = NULL;
    struct tm_report rep;
    memset(&rep, 0, sizeof rep);
    if (!rc && (rc = textmodel_train(ex, got, NULL, &m, &rep)))
        cxm_err_set(err, rc, "training failed: %s", cxm_rc_str(rc));
    for (size_t k = 0; k < got; k++)
        free((char *)ex[k].text);
    free(ex);
    if (rc) {
        textmodel_free(m);
        return rc;
    }
    double t_train = cxm_seconds() - t0 - t_read;
    json_t *doc = report_json(&rep);
    char *rtext = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(8));
    uint8_t *blob = NULL;
    size_t len = 0;
    if (!doc || !rtext) {
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    } else if (rep.used) {
        if ((rc = textmodel_save(m, &blob, &len)))
            cxm_err_set(err, rc, "saving the model failed");
        struct engine_work w = {.op = ENGINE_TEXT_MODEL, .blob = blob, .blob_len = len,
                                .report = rtext};
        if (!rc && (rc = engine_run(e, &w)))
            *err = w.err;
        if (!rc) {
            json_object_set_new(doc, "seq", json_integer(w.seq));
            json_object_set_new(doc, "rescored", json_integer((json_int_t)w.accepted));
        }
    }
    textmodel_free(m);
    free(blob);
    free(rtext);
    if (rc) {
        json_decref(doc);
        return rc;
    }
    json_object_set_new(doc, "seconds", json_pack("{s:f, s:f}", "read",
                        round(t_read * 1000) / 1000, "train", round(t_train * 1000) / 1000));
    *out = doc;
    return CXM_OK;
}
