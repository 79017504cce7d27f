/* engine_impl.h - the engine's private state, shared by engine.c (writer),
 * query.c (reads) and keys.c (auth). Not for other layers. */
#ifndef CXM_ENGINE_IMPL_H
#define CXM_ENGINE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/strmap.h"
#include "engine/engine.h"
#include "engine/model.h"

/* A key the server has seen: its role as the store said at checked (unix
 * seconds); ROLE_NONE once revoked. */
struct key_entry {
    char *hash;
    int role;
    int64_t checked;
};

struct engine {
    struct store *store;
    char *db;                    /* path, for key creation */
    struct model *m;             /* guarded by lock */
    pthread_rwlock_t lock;
    /* writer queue */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    struct engine_work *qhead, *qtail;
    bool closing;
    bool failed;                 /* the store failed and reload failed */
    pthread_t writer;
    int lockfd;
    /* stats, guarded by qlock */
    struct engine_stats st;
    /* reports (report.c) answered from a rollup and from the rows */
    atomic_uint_least64_t reports_rollup, reports_rows;
    /* key cache (keys.c): hash hex -> index in kent; guarded by kmu */
    pthread_mutex_t kmu;
    struct strmap *keys;
    struct key_entry *kent;
    size_t nkeys, keycap;
    /* text analytics (text.c): the taxonomy in use, swapped by the writer
     * under tlock; tax_gen counts the swaps */
    pthread_rwlock_t tlock;
    struct taxonomy *tax;
    struct textmodel *tm;        /* trained sentiment model; NULL: lexicon only */
    char *tm_report;             /* its training report (JSON) */
    uint64_t tax_gen;
    bool text_off;               /* texts stored unscored (benchmarks) */
    enum store_sync sync;        /* durability of acknowledged writes */
    /* journeys (journey.c): every profile's events and episodes for one
     * state of the model, shared by the queries on it; jmu guards which
     * state is current, its references and its kept answers */
    pthread_mutex_t jmu;
    void *jcache;
    /* reports (report.c): the customers' classes of the last fast-path
     * filter on customer fields, for one state of the model (rmu); the
     * writer bumps mgen each time it changes the model */
    pthread_mutex_t rmu;
    void *rcache;
    uint64_t mgen;
    /* personalisation: segments (segments.c) and next-best-action
     * (decide.c), both under lock */
    struct segset *segs;
    struct nba *nba;
    int64_t fixed_now;           /* engine_set_clock; 0: time(NULL) */
    /* recommendations (recommend.c): one model build or query at a time */
    pthread_mutex_t recmu;
    struct rec_state *rec;
    /* the closed loop (loop.c, outbox.c) */
    struct loop *loop;
};

/* recommend.c */
struct rec_state;
int rec_state_open(struct engine *e, struct cxm_err *err);
void rec_state_free(struct engine *e);

/* report.c: a filter over profiles in the filter language of reports, on
 * customer fields only (country, city, gender, age_band at the latest
 * data, nps_category, p_alive_band, clv_band, age, birth_year, p_alive,
 * clv_predicted). where NULL or "": *out NULL, which passes everyone. Use
 * and free under the read lock. */
struct cust_filter;
int cust_filter_new(const struct engine *e, const char *where, struct cust_filter **out,
                    struct cxm_err *err);
bool cust_filter_pass(struct cust_filter *cf, uint32_t root);
void cust_filter_free(struct cust_filter *cf);

/* report.c: frees the reports' cache of customer classes. */
void report_cache_free(struct engine *e);

/* text.c */
struct taxonomy;
struct textmodel;
/* Scores one text: sentiment (the lexicon's, blended with model m when
 * there is one), themes and aspects with taxonomy t. */
void text_score(const struct taxonomy *t, const struct textmodel *m, const char *text,
                size_t len, struct text_scores *sc);
/* Loads the taxonomy in use and, when writable, scores stored texts that
 * have no scores yet (a database from before text analytics). */
int text_open(struct engine *e, bool writable, struct cxm_err *err);
void text_close(struct engine *e);
/* After a reload: the stored taxonomy again, its ids to the model. */
int text_reload(struct engine *e, struct cxm_err *err);
/* Scores the texts of ingest work w in the calling thread (w->scores). */
int text_prepare(struct engine *e, struct engine_work *w);
/* Writer: rescores themes of w when the taxonomy changed since prepare. */
void text_rescore_stale(struct engine *e, struct engine_work *w);
/* Writer: stores the sentiment model of w, swaps it in, rescores every text. */
int text_set_model(struct engine *e, struct engine_work *w, int64_t seq,
                   struct cxm_err *err);
/* Writer: stores the taxonomy of w, swaps it in, re-themes every text. */
int text_set_taxonomy(struct engine *e, struct engine_work *w, int64_t seq,
                      struct cxm_err *err);

/* textq.c: {sentiment, label, themes, aspects} of a text's scores. */
json_t *text_scores_json(const struct model *m, const struct text_scores *sc);

/* journey.c: frees the journeys' event cache. */
void journey_cache_free(struct engine *e);

/* clv.c: adds p_alive, expected_purchases_52w and clv_predicted to a
 * profile (nodes: the profile's customer nodes, root first) when a model
 * exists. */
int clv_profile_json(const struct model *m, const uint32_t *nodes, size_t nn, json_t *p);
/* The same two numbers for one profile; NAN without a model or orders. */
int clv_profile_predict(const struct model *m, const uint32_t *nodes, size_t nn,
                        float *p_alive, float *value);
/* P(alive) and predicted CLV over 52 weeks (whole periods of the model's
 * unit, undiscounted) of every profile, indexed by its root's id (arrays
 * of ncust + 1; NAN for a customer without an order); CXM_ENOTFOUND
 * without a model. */
int clv_predictions(const struct model *m, float *p_alive, float *value);

#endif
