/* segments.c - segments: definitions in the store, rules compiled over
 * the customer features (features.c), and a membership bit per profile
 * that the writer keeps current: after every commit it runs each rule on
 * the profiles the commit touched, so counts and member lists never wait
 * for a nightly job. Rules that read the clock (ages, days since, 90-day
 * windows) are run again over everyone when the day changes. */
#include "engine/segments.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"
#include "cxm_limits.h"
#include "engine/decide.h"
#include "engine/features.h"
#include "engine/loop.h"
#include "log.h"

#define DAY 86400
#define SEG_MAX 200                  /* segments in one engine */
#define SEG_MAX_NAME 128
#define SEG_MAX_DESC 1024

int64_t engine_now(const struct engine *e)
{
    int64_t t = __atomic_load_n(&e->fixed_now, __ATOMIC_RELAXED);
    return t ? t : (int64_t)time(NULL);
}

void engine_set_clock(struct engine *e, int64_t ts)
{
    __atomic_store_n(&e->fixed_now, ts, __ATOMIC_RELAXED);
}

static int64_t today(const struct engine *e)
{
    return engine_now(e) / DAY;
}

/* Grows with the dictionaries a rule can name. */
static uint64_t dict_gen(const struct model *m)
{
    return (uint64_t)dict_count(m->cdict[CD_COUNTRY]) + dict_count(m->cdict[CD_CITY]) +
           dict_count(m->cdict[CD_GENDER]) + dict_count(m->cdict[CD_LANGUAGE]) +
           dict_count(m->dict[DICT_CHANNEL]) + dict_count(m->dict[DICT_CATEGORY]);
}

static void seg_free(struct segment *s)
{
    free(s->id);
    free(s->name);
    free(s->rule);
    free(s->description);
    filter_free(s->f);
    free(s->bits);
}

bool segment_has(const struct segment *s, uint32_t root)
{
    size_t w = root >> 6;
    return w < s->words && (s->bits[w] >> (root & 63)) & 1u;
}

static void set_bit(struct segment *s, uint32_t c, bool on)
{
    size_t w = c >> 6;
    if (w >= s->words)
        return;
    uint64_t b = 1ull << (c & 63);
    bool was = (s->bits[w] & b) != 0;
    if (on && !was) {
        s->bits[w] |= b;
        s->count++;
    } else if (!on && was) {
        s->bits[w] &= ~b;
        s->count--;
    }
}

/* Makes room for ids up to ncust. */
static int fit_bits(struct segment *s, size_t ncust)
{
    size_t words = (ncust >> 6) + 1;
    if (words <= s->words)
        return CXM_OK;
    size_t nw = s->words ? s->words : 16;
    while (nw < words)
        nw *= 2;
    uint64_t *b = cxm_realloc(s->bits, nw * sizeof *b);
    if (!b)
        return CXM_ENOMEM;
    memset(b + s->words, 0, (nw - s->words) * sizeof *b);
    s->bits = b;
    s->words = nw;
    return CXM_OK;
}

/* Runs the rule of s over every profile. */
static int compute(struct engine *e, struct segment *s)
{
    const struct model *m = e->m;
    int rc = fit_bits(s, m->ncust);
    if (rc)
        return rc;
    memset(s->bits, 0, s->words * sizeof *s->bits);
    s->count = 0;
    struct feat_eval x;
    feat_eval_init(&x, m, engine_now(e));
    for (uint32_t c = 1; c <= m->ncust && !rc; c++) {
        if (m->cust[c].parent)
            continue;
        if (!(rc = feat_eval_load(&x, c)) && feat_match(&x, s->f))
            set_bit(s, c, true);
    }
    feat_eval_free(&x);
    return rc;
}

const struct segment *segment_find(const struct engine *e, const char *id)
{
    const struct segset *ss = e->segs;
    for (size_t i = 0; ss && i < ss->n; i++)
        if (strcmp(ss->s[i].id, id) == 0)
            return &ss->s[i];
    return NULL;
}

static int seg_index(const struct segset *ss, const char *id)
{
    for (size_t i = 0; i < ss->n; i++)
        if (strcmp(ss->s[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int load_def(struct segment *s, const struct store_segment *sg, const struct model *m,
                    struct cxm_err *err)
{
    memset(s, 0, sizeof *s);
    s->seq = sg->seq;
    s->created_ts = sg->created_ts;
    s->updated_ts = sg->updated_ts;
    if (!(s->id = cxm_strdup(sg->id)) || !(s->name = cxm_strdup(sg->name)) ||
        !(s->rule = cxm_strdup(sg->rule)) ||
        !(s->description = cxm_strdup(sg->description ? sg->description : ""))) {
        seg_free(s);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    if (!(s->f = feat_parse(m, s->rule, err))) {
        seg_free(s);
        return err ? err->code : CXM_EINVAL;
    }
    s->timed = feat_time_dependent(s->f);
    return CXM_OK;
}

struct scan_ctx {
    struct engine *e;
    struct cxm_err *err;
};

static int on_segment(void *ctx, const struct store_segment *sg)
{
    struct scan_ctx *sc = ctx;
    struct segset *ss = sc->e->segs;
    if (cxm_grow((void **)&ss->s, &ss->cap, ss->n + 1, sizeof *ss->s))
        return cxm_err_set(sc->err, CXM_ENOMEM, "out of memory");
    int rc = load_def(&ss->s[ss->n], sg, sc->e->m, sc->err);
    if (rc) {   /* a rule this binary cannot read: say so, serve the rest */
        log_msg(LOG_WARN, "segment %s is not loaded: %s", sg->id, sc->err->msg);
        return CXM_OK;
    }
    ss->n++;
    return CXM_OK;
}

int segments_open(struct engine *e, struct cxm_err *err)
{
    if (!(e->segs = cxm_calloc(1, sizeof *e->segs)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    struct cxm_err lerr;
    struct scan_ctx sc = {e, &lerr};
    struct store_scan cb = {.ctx = &sc, .segment = on_segment};
    int rc = e->store->ops->scan(e->store, &cb, err);
    if (rc)
        return rc;
    double t0 = cxm_seconds();
    segments_refresh(e, true);
    if (e->segs->n)
        log_msg(LOG_INFO, "%zu segments computed in %.3f s", e->segs->n, cxm_seconds() - t0);
    return CXM_OK;
}

void segments_close(struct engine *e)
{
    if (!e->segs)
        return;
    for (size_t i = 0; i < e->segs->n; i++)
        seg_free(&e->segs->s[i]);
    free(e->segs->s);
    free(e->segs);
    e->segs = NULL;
}

bool segments_stale(const struct engine *e)
{
    return e->segs && e->segs->day != today(e);
}

void segments_refresh(struct engine *e, bool all)
{
    struct segset *ss = e->segs;
    if (!ss)
        return;
    bool newday = ss->day != today(e);
    uint64_t gen = dict_gen(e->m);
    if (gen != ss->dict_gen || all) {
        for (size_t i = 0; i < ss->n; i++)
            feat_bind(e->m, ss->s[i].f);
        ss->dict_gen = gen;
    }
    for (size_t i = 0; i < ss->n; i++)
        if ((all || (newday && ss->s[i].timed)) && compute(e, &ss->s[i]))
            log_msg(LOG_ERROR, "segment %s: out of memory computing members",
                    ss->s[i].id);
    ss->day = today(e);
}

void segments_touch(struct engine *e, const uint32_t *nodes, size_t n)
{
    struct segset *ss = e->segs;
    if (!ss || !ss->n || !n)
        return;
    const struct model *m = e->m;
    uint64_t gen = dict_gen(m);
    if (gen != ss->dict_gen) {
        for (size_t i = 0; i < ss->n; i++)
            feat_bind(m, ss->s[i].f);
        ss->dict_gen = gen;
    }
    for (size_t i = 0; i < ss->n; i++)
        if (fit_bits(&ss->s[i], m->ncust))
            return;   /* out of memory: counts catch up at the next refresh */
    struct feat_eval x;
    feat_eval_init(&x, m, engine_now(e));
    for (size_t k = 0; k < n; k++) {
        uint32_t c = nodes[k];
        if (c < 1 || c > m->ncust)
            continue;
        uint32_t root = model_root(m, c);
        if (feat_eval_load(&x, root))
            break;
        /* nodes merged into root are no longer profiles of their own */
        for (size_t j = 1; j < x.nn; j++)
            for (size_t i = 0; i < ss->n; i++)
                set_bit(&ss->s[i], x.nodes[j], false);
        for (size_t i = 0; i < ss->n; i++)
            set_bit(&ss->s[i], root, feat_match(&x, ss->s[i].f));
    }
    feat_eval_free(&x);
}

/* ---- definitions ------------------------------------------------------ */

static bool valid_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
              s[n] == '-'))
            return false;
    return n >= 1 && n <= 64;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
            return true;
    return false;
}

/* Checks a definition; parses its rule into *f. */
static int check_def(const struct engine *e, const struct segment_def *d, bool need_all,
                     struct filter **f, struct cxm_err *err)
{
    if (!d->id || !valid_id(d->id))
        return cxm_err_field(err, CXM_EINVAL, -1, "id",
                             "id must be 1-64 characters of a-z, 0-9, '_' and '-'");
    if (need_all && (!d->rule || !*d->rule))
        return cxm_err_field(err, CXM_EINVAL, -1, "rule", "a segment needs a rule");
    if (d->name && (strlen(d->name) > SEG_MAX_NAME || has_control(d->name)))
        return cxm_err_field(err, CXM_EINVAL, -1, "name",
                             "name must be at most %d bytes without control characters",
                             SEG_MAX_NAME);
    if (d->description && (strlen(d->description) > SEG_MAX_DESC || has_control(d->description)))
        return cxm_err_field(err, CXM_EINVAL, -1, "description",
                             "description must be at most %d bytes without control"
                             " characters", SEG_MAX_DESC);
    if (d->rule) {
        struct cxm_err perr;
        cxm_err_clear(&perr);
        if (!(*f = feat_parse(e->m, d->rule, &perr))) {
            if (perr.code != CXM_EINVAL)
                return cxm_err_set(err, perr.code, "%s", perr.msg);
            return cxm_err_field(err, CXM_EINVAL, -1, "rule", "%s", perr.msg);
        }
    }
    return CXM_OK;
}

int segments_apply(struct engine *e, struct engine_work *w, int64_t seq, struct cxm_err *err)
{
    struct segset *ss = e->segs;
    const struct segment_def *d = w->seg;
    int at = seg_index(ss, d->id);
    if (w->seg_mode == SEG_DELETE) {
        if (at < 0) {
            w->rc = cxm_err_set(&w->err, CXM_ENOTFOUND, "no segment \"%s\"", d->id);
            return CXM_OK;
        }
        const char *user = nba_segment_user(e, d->id);
        if (user) {
            w->rc = cxm_err_set(&w->err, CXM_ECONFLICT,
                                "segment \"%s\" is the eligibility of action \"%s\";"
                                " change the action first", d->id, user);
            return CXM_OK;
        }
        int rc = e->store->ops->delete_segment(e->store, d->id, err);
        if (!rc)
            rc = outbox_segment(e, EVT_SEGMENT_DELETED, d->id, NULL, NULL, engine_now(e), err);
        if (rc)
            return rc;
        seg_free(&ss->s[at]);
        memmove(ss->s + at, ss->s + at + 1, (ss->n - (size_t)at - 1) * sizeof *ss->s);
        ss->n--;
        w->accepted = 1;
        return CXM_OK;
    }
    if (w->seg_mode == SEG_CREATE && at >= 0) {
        w->rc = cxm_err_field(&w->err, CXM_ECONFLICT, -1, "id",
                              "segment \"%s\" exists; update it with PUT", d->id);
        return CXM_OK;
    }
    if (w->seg_mode == SEG_UPDATE && at < 0) {
        w->rc = cxm_err_set(&w->err, CXM_ENOTFOUND, "no segment \"%s\"", d->id);
        return CXM_OK;
    }
    if (at < 0 && ss->n >= SEG_MAX) {
        w->rc = cxm_err_set(&w->err, CXM_ETOOBIG, "at most %d segments", SEG_MAX);
        return CXM_OK;
    }
    const struct segment *old = at >= 0 ? &ss->s[at] : NULL;
    int64_t now = engine_now(e);
    struct store_segment sg = {
        .seq = seq, .id = d->id,
        .name = d->name ? d->name : old ? old->name : d->id,
        .rule = d->rule ? d->rule : old->rule,
        .description = d->description ? d->description : old ? old->description : "",
        .created_ts = old ? old->created_ts : now, .updated_ts = now};
    struct segment s;
    int rc = load_def(&s, &sg, e->m, err);
    if (rc) {   /* checked before submitting: only out of memory is left */
        w->rc = rc;
        w->err = *err;
        return CXM_OK;
    }
    if ((rc = compute(e, &s)) ||
        (at < 0 && (rc = cxm_grow((void **)&ss->s, &ss->cap, ss->n + 1, sizeof *ss->s)))) {
        seg_free(&s);
        return cxm_err_set(err, rc, "out of memory");
    }
    if ((rc = e->store->ops->put_segment(e->store, &sg, err)) ||
        (rc = outbox_segment(e, at < 0 ? EVT_SEGMENT_CREATED : EVT_SEGMENT_UPDATED, sg.id,
                             sg.name, sg.rule, engine_now(e), err))) {
        seg_free(&s);
        return rc;
    }
    if (at >= 0) {
        seg_free(&ss->s[at]);
        ss->s[at] = s;
    } else {
        ss->s[ss->n++] = s;
    }
    w->accepted = 1;
    return CXM_OK;
}

/* ---- reads -------------------------------------------------------------- */

void segments_rdlock(struct engine *e)
{
    pthread_rwlock_rdlock(&e->lock);
    if (!segments_stale(e))
        return;
    pthread_rwlock_unlock(&e->lock);
    struct engine_work w = {.op = ENGINE_REFRESH};
    engine_run(e, &w);   /* closing: the old memberships will do */
    pthread_rwlock_rdlock(&e->lock);
}

static json_t *seg_json(const struct segment *s)
{
    char c[TIMEFMT_LEN], u[TIMEFMT_LEN];
    timefmt_format(s->created_ts, c);
    timefmt_format(s->updated_ts, u);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:I, s:s, s:s}", "id", s->id, "name",
                     s->name, "rule", s->rule, "description", s->description, "members",
                     (json_int_t)s->count, "time_dependent", s->timed, "seq",
                     (json_int_t)s->seq, "created", c, "updated", u);
}

int engine_segments(struct engine *e, json_t **out, struct cxm_err *err)
{
    segments_rdlock(e);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < e->segs->n; i++)
        if (json_array_append_new(arr, seg_json(&e->segs->s[i])))
            break;
    int64_t seq = e->m->last_seq;
    pthread_rwlock_unlock(&e->lock);
    *out = json_pack("{s:o, s:I}", "segments", arr, "seq", (json_int_t)seq);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_segment(struct engine *e, const char *id, json_t **out, struct cxm_err *err)
{
    segments_rdlock(e);
    const struct segment *s = segment_find(e, id);
    *out = s ? seg_json(s) : NULL;
    pthread_rwlock_unlock(&e->lock);
    if (!s)
        return cxm_err_set(err, CXM_ENOTFOUND, "no segment \"%s\"", id);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(round(v * 100) / 100) : json_null();
}

int engine_segment_members(struct engine *e, const char *id, uint32_t cursor, size_t limit,
                           json_t **out, struct cxm_err *err)
{
    if (limit < 1 || limit > CXM_MAX_PAGE)
        return cxm_err_field(err, CXM_EINVAL, -1, "limit", "limit must be 1-%d", CXM_MAX_PAGE);
    segments_rdlock(e);
    const struct segment *s = segment_find(e, id);
    if (!s) {
        pthread_rwlock_unlock(&e->lock);
        return cxm_err_set(err, CXM_ENOTFOUND, "no segment \"%s\"", id);
    }
    const struct model *m = e->m;
    json_t *arr = json_array();
    struct feat_eval x;
    feat_eval_init(&x, m, engine_now(e));
    uint32_t c = cursor + 1, last = 0;
    int rc = arr ? CXM_OK : CXM_ENOMEM;
    for (; !rc && c <= m->ncust && json_array_size(arr) < limit; c++) {
        if (!segment_has(s, c))
            continue;
        if ((rc = feat_eval_load(&x, c)))
            break;
        const char *name = NULL;
        for (size_t k = 0; k < x.nn && !name; k++)
            name = m->cust[x.nodes[k]].a.name;
        json_t *row = json_pack("{s:I, s:s?, s:s?, s:I, s:o, s:o}", "id", (json_int_t)c,
                                "name", name, "country",
                                model_str(m, CD_COUNTRY, x.p.country), "orders",
                                (json_int_t)x.p.f.orders, "revenue", jnum(x.p.f.revenue),
                                "last_nps", feat_value(&x, FF_LAST_NPS) >= 0
                                    ? json_integer(x.p.f.last_nps) : json_null());
        if (!row || json_array_append_new(arr, row))
            rc = CXM_ENOMEM;
        last = c;
    }
    bool more = false;
    for (uint32_t k = c; !rc && k <= m->ncust && !more; k++)
        more = segment_has(s, k);
    size_t total = s->count;
    pthread_rwlock_unlock(&e->lock);
    feat_eval_free(&x);
    if (rc) {
        json_decref(arr);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    char cur[16];
    snprintf(cur, sizeof cur, "%u", last);
    *out = json_pack("{s:s, s:I, s:o, s:s?}", "segment", id, "members", (json_int_t)total,
                     "rows", arr, "next_cursor", more ? cur : NULL);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_segment_preview(struct engine *e, const char *rule, json_t **out,
                           struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    struct segment_def d = {.id = "preview", .rule = rule};
    struct filter *f = NULL;
    int rc = check_def(e, &d, true, &f, err);
    size_t n = 0, profiles = 0;
    struct feat_eval x;
    feat_eval_init(&x, e->m, engine_now(e));
    for (uint32_t c = 1; !rc && c <= e->m->ncust; c++) {
        if (e->m->cust[c].parent)
            continue;
        profiles++;
        if ((rc = feat_eval_load(&x, c)))
            cxm_err_set(err, rc, "out of memory");
        else
            n += feat_match(&x, f);
    }
    pthread_rwlock_unlock(&e->lock);
    bool timed = f && feat_time_dependent(f);
    feat_eval_free(&x);
    filter_free(f);
    if (rc)
        return rc;
    *out = json_pack("{s:s, s:I, s:I, s:b}", "rule", rule, "members", (json_int_t)n,
                     "profiles", (json_int_t)profiles, "time_dependent", timed);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int engine_segment_put(struct engine *e, const struct segment_def *d, enum segment_mode mode,
                       json_t **out, struct cxm_err *err)
{
    struct filter *f = NULL;
    pthread_rwlock_rdlock(&e->lock);
    int rc = check_def(e, d, mode == SEG_CREATE, &f, err);
    pthread_rwlock_unlock(&e->lock);
    filter_free(f);
    if (rc)
        return rc;
    struct engine_work w = {.op = ENGINE_SEGMENT, .seg = d, .seg_mode = mode};
    if ((rc = engine_run(e, &w))) {
        if (err)
            *err = w.err;
        return rc;
    }
    return engine_segment(e, d->id, out, err);
}

int engine_segment_delete(struct engine *e, const char *id, struct cxm_err *err)
{
    struct segment_def d = {.id = id};
    struct engine_work w = {.op = ENGINE_SEGMENT, .seg = &d, .seg_mode = SEG_DELETE};
    int rc = engine_run(e, &w);
    if (rc && err)
        *err = w.err;
    return rc;
}

int engine_features(json_t **out, struct cxm_err *err)
{
    *out = features_json();
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}
