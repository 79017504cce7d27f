/* model.h - the in-memory model the engine owns: customers and their
 * identity graph, dictionaries, columnar interactions, feedback and orders.
 * Internal to engine/: no locking here (engine.c holds the lock), no SQL. */
#ifndef CXM_MODEL_H
#define CXM_MODEL_H

#include "common.h"
#include "core/dict.h"
#include "core/idset.h"
#include "core/rollup.h"
#include "core/strmap.h"
#include "store/store.h"

#define NONE 0u    /* index 0 is never used: 0 means "none" in links */

/* Customer attributes: one per customer node, set by customer records. */
struct attrs {
    int64_t updated_seq;
    char *name, *attributes;
    uint16_t gender, country, language, city;   /* codes in model.cdict, 0: none */
    int birth_year;
    int consent_m, consent_s, consent_p;
};

/* What segments and the contact policy read of a customer node, kept
 * current as the node's records arrive (features.c adds up a profile's
 * nodes). Times are unix seconds, 0: none. Channel and category codes
 * 1..64 have a bit (c - 1); larger codes are found in the records. */
struct feat {
    double revenue;
    float csat_sum, ces_sum, sent_sum;
    uint32_t csat_n, ces_n, sent_n, orders;
    uint32_t last_order, last_touch, last_answer, last_nps_ts;
    uint32_t last_complaint, last_resolved;
    uint32_t open;             /* complaints and tickets after last_resolved */
    int8_t last_nps;           /* -1: none */
    int64_t last_nps_seq;
    uint64_t channels, categories;
};

/* One customer node. A profile is a tree of nodes: the root is the
 * surviving customer, children were merged into it. Records and identities
 * stay on the node they arrived through, so an unmerge (cutting a child's
 * edge) restores both profiles exactly. */
struct cust {
    uint32_t parent, first_child, next_sibling;
    uint32_t merge;            /* index+1 into merges of the active merge */
    uint32_t ident_head;       /* identities, newest first */
    uint32_t ihead, fhead, ohead;   /* records, newest first */
    uint32_t chead;            /* contacts made, newest first */
    uint32_t cases;            /* cxm cases of this node open or in progress
                                  (engine/loop.c keeps it) */
    int64_t created_ts, seq;
    struct attrs a;
    struct feat f;
};

struct ident {
    char *key;                 /* "kind\0value\0" */
    uint32_t cust, next;
    int64_t seq;
};

struct merge {
    int64_t seq, ts, undone_seq;
    uint32_t parent, child;
    char *cause;
};

/* Columns: struct of arrays, index 1..n (slot 0 unused). */
/* ts columns are unsigned 32-bit unix seconds: ingest accepts 1970..2100. */
struct icols {
    size_t n, cap;
    int64_t *seq;
    uint32_t *ts;
    uint32_t *cust, *next, *duration;   /* duration UINT32_MAX: none */
    uint16_t *channel, *touchpoint, *stage, *kind, *agent, *outcome;
    double *value;                      /* NAN: none; exact as sent */
    uint8_t *has_text;
};

/* Feedback rows come in blocks of FBLOCK rows (row i is in block i >>
 * FBLOCK_SHIFT) whose time span is kept, so a report on a period skips the
 * blocks outside it. */
#define FBLOCK_SHIFT 12
/* The rollups of feedback: by channel, by touchpoint, by stage. */
enum { RU_CHANNEL, RU_TOUCHPOINT, RU_STAGE, ROLLUP_DIMS };

struct fcols {
    size_t n, cap;
    uint32_t *bmin, *bmax;              /* per block: earliest, latest ts */
    size_t bcap;
    int64_t *seq;
    uint32_t *ts;
    uint32_t *cust, *next;
    float *score;                       /* NAN: none */
    uint16_t *survey, *channel, *touchpoint, *stage, *agent;
    uint8_t *kind, *has_text;
    uint32_t *tx;                       /* scores of the comment in tcols; 0: none */
    uint32_t *text_rows;                /* the rows with a comment, in row order */
    size_t ntext, textcap;
};

/* Text analytics of every scored text (interaction texts and feedback
 * comments alike), index 1..n: most rows have no text, so the rows point
 * here (tx) instead of carrying the columns. A text's aspects are
 * asp[aoff .. aoff + nasp). */
struct tcols {
    size_t n, cap;
    int64_t *seq;
    float *sent;
    uint32_t *themes, *aoff;
    uint8_t *nasp;
    struct text_aspect *asp;
    size_t na, acap;
};

struct ocols {
    size_t n, cap;
    int64_t *seq;
    uint32_t *ts;
    uint32_t *cust, *next, *item_off, *nitems;
    double *amount;
    uint16_t *currency, *channel;
    char **order_id;
    /* items */
    size_t ni, icap;
    uint32_t *sku;
    uint16_t *category;
    float *qty;
    double *price;
};

/* Contacts made to customers (contact policy), index 1..n. */
struct ccols {
    size_t n, cap;
    int64_t *seq;
    uint32_t *ts, *cust, *next;
    uint8_t *kind;
    uint16_t *channel;
};

struct employee {
    char *id, *name, *team, *role;
    int64_t seq;
};

/* Customer attributes with few distinct values, interned in memory only
 * (the store keeps them as text in the customer row). */
enum { CD_GENDER, CD_COUNTRY, CD_LANGUAGE, CD_CITY, CD_COUNT };

struct bench {
    char *name, *metric, *period, *segment;
    double value;
    int64_t seq;
};

/* The CLV model in use: the latest fit (has = false before the first). */
struct clv_fit {
    bool has;
    int64_t seq, ts, calibration_end;
    double unit_days;
    double r, alpha, a, b, p, q, v;     /* p, q, v NAN: no spend model */
    char *report;                       /* the fit's JSON report */
};

struct model {
    struct dict *dict[DICT_COUNT];
    struct dict *cdict[CD_COUNT];
    struct cust *cust;          /* cust[1..ncust] */
    size_t ncust, custcap;
    struct ident *ident;        /* ident[1..nident] */
    size_t nident, identcap;
    struct strmap *ident_map;   /* key -> ident index */
    struct merge *merges;
    size_t nmerges, mergecap;
    struct icols ic;
    struct fcols fc;
    /* feedback by day, kind and one dimension, kept with fc (core/rollup.h) */
    struct rollup ru[ROLLUP_DIMS];
    struct ocols oc;
    struct tcols tc;
    struct ccols cc;
    /* codes of the interaction kinds and outcome the features look for;
     * 0 until the data names them */
    uint32_t k_complaint, k_ticket, k_resolved;
    /* interaction rows with scored texts: (row, index in tcols) pairs by
     * row; most interactions have no text, so no column for them */
    struct itext { uint32_t row, tx; } *itx;
    size_t nitx, itxcap;
    struct employee *emp;
    size_t nemp, empcap;
    struct strmap *emp_map;
    int64_t last_seq;
    int64_t min_ts, max_ts;     /* over interactions, feedback, orders; 0 0: none */
    uint32_t max_order_ts;      /* the latest order; 0: none */
    uint64_t gen;               /* counts changes other than appended rows
                                   and merges: unmerges, texts rescored */
    size_t nmerged;             /* active merges */
    /* idempotency: event ids of interactions and feedback, order ids */
    struct idset ids_i, ids_f, ids_o;
    struct bench *bench;        /* outside figures, in scan order */
    size_t nbench, benchcap;
    struct clv_fit clv;
    /* ids of the themes of the taxonomy in use: bit i of a themes column
     * is theme_ids[i] */
    char *theme_ids[32];
    size_t nthemes;
    /* during model_load: entries gathered for idset_build, and the
     * interactions read but not applied yet (model.c, r_interaction) */
    bool loading;
    uint64_t *load_ids[3];
    size_t load_n[3], load_cap[3];
    struct replay_row *ring;
    size_t ring_at, ring_n;
};

struct model *model_new(void);
void model_free(struct model *m);

/* Root of the profile that node c belongs to. */
uint32_t model_root(const struct model *m, uint32_t c);
/* The nodes of the profile rooted at root, root first (breadth-first),
 * into the growable array *v (*cap its capacity; reused across calls). */
int model_profile_nodes(const struct model *m, uint32_t root, uint32_t **v, size_t *n,
                        size_t *cap);
/* Node of an identity, 0 when unknown. */
uint32_t model_find_ident(const struct model *m, const char *kind, const char *value);
/* The same with h = identity_hash(kind, value) computed by the caller. */
uint32_t model_find_ident_h(const struct model *m, const char *kind, const char *value,
                            uint64_t h);

/* Prefetching for the writer, which knows the hashes of the identities and
 * ids of the records it will plan next: each asks the CPU for memory a
 * later step reads, and changes nothing. Call them a few records apart, in
 * this order, so that each finds what the one before asked for. */
void model_prefetch_ident(const struct model *m, uint64_t h);        /* its slot */
void model_prefetch_ident_entry(const struct model *m, uint64_t h);  /* key, entry */
void model_prefetch_ident_cust(const struct model *m, uint64_t h);   /* its node */
/* The idset slot of a row id hash; kind 0 interaction, 1 feedback, 2 order. */
void model_prefetch_row_id(const struct model *m, int kind, uint64_t h);
/* What adding a record of node c to memory writes. */
void model_prefetch_cust(const struct model *m, uint32_t c);

/* Mutations, used by replay and by the writer. Return CXM_OK/CXM_ENOMEM. */
int model_add_customer(struct model *m, uint32_t id, int64_t created_ts,
                       int64_t seq);
int model_set_attrs(struct model *m, const struct store_customer *c);
/* Code of s in customer dictionary cd (0 for NULL or ""), adding it. */
int model_code(struct model *m, int cd, const char *s, uint16_t *code);
/* String of a customer dictionary code, NULL for 0. */
const char *model_str(const struct model *m, int cd, uint16_t code);
int model_add_ident(struct model *m, const char *kind, const char *value,
                    uint32_t cust, int64_t seq);
int model_add_merge(struct model *m, const struct store_merge *mg);
/* Cuts the active merge of child; CXM_ECONFLICT when there is none. */
int model_undo_merge(struct model *m, uint32_t child, int64_t undone_seq);
int model_add_interaction(struct model *m, const struct store_interaction *r);
int model_add_feedback(struct model *m, const struct store_feedback *r);
int model_add_order(struct model *m, const struct store_order *r);
int model_put_employee(struct model *m, const struct store_employee *e);
int model_add_contact(struct model *m, const struct store_contact *c);
/* Inserts or replaces (same name, metric, period, segment). */
int model_put_benchmark(struct model *m, const struct store_benchmark *b);

/* Sets (or adds) the scores of the text of the record with this seq;
 * CXM_ENOTFOUND when no interaction or feedback row has it. */
int model_set_scores(struct model *m, int64_t seq, const struct text_scores *sc);
/* Index in tcols of the scores of interaction row i; 0 when none. */
uint32_t model_itx(const struct model *m, size_t i);
/* Scores of interaction (feedback: false) row i, NULL when none. */
const struct text_scores *model_scores(const struct model *m, bool feedback, size_t i,
                                       struct text_scores *buf);
/* Sets the theme ids (copied); CXM_ENOMEM leaves the old ones. */
int model_set_themes(struct model *m, const char *const *ids, size_t n);
/* Replaces the CLV model in use. */
int model_set_clv(struct model *m, const struct store_clv_model *c);

/* Replays the whole store into a new model. */
int model_load(struct store *s, struct model **out, struct cxm_err *err);

/* Bytes held by the record columns and by everything, for /metrics. */
size_t model_column_bytes(const struct model *m);

#endif
