/* event.h - one ingest record (customer, identify, interaction, feedback,
 * order, employee) decoded from JSON and validated field by field. The
 * shared front door of the HTTP API, imports and the demo. No state. */
#ifndef CXM_EVENT_H
#define CXM_EVENT_H

#include <jansson.h>

#include "common.h"
#include "core/arena.h"

enum event_type {
    EV_CUSTOMER = 1, EV_IDENTIFY, EV_INTERACTION, EV_FEEDBACK, EV_ORDER,
    EV_EMPLOYEE
};

enum fb_kind { FB_NPS = 1, FB_CSAT, FB_CES, FB_ENPS, FB_RATING, FB_TEXT };

/* Which customer attributes a customer record sets (upsert). */
enum {
    CF_NAME = 1u << 0, CF_BIRTH_YEAR = 1u << 1, CF_GENDER = 1u << 2,
    CF_COUNTRY = 1u << 3, CF_CITY = 1u << 4, CF_LANGUAGE = 1u << 5,
    CF_CONSENT_M = 1u << 6, CF_CONSENT_S = 1u << 7, CF_CONSENT_P = 1u << 8,
    CF_ATTRS = 1u << 9
};

struct event_ident {
    const char *kind;       /* "email", "social:twitter", ... */
    const char *value;      /* normalised */
    uint64_t hash;          /* identity_hash(kind, value); 0: not computed */
};

struct event_item {
    const char *sku, *category;
    double qty, price;
};

/* Strings are borrowed from the JSON record or allocated in the arena
 * given to event_decode: keep both alive while the event is used. NULL
 * means absent. */
struct event {
    enum event_type type;
    int64_t ts;
    const char *event_id;
    uint64_t idem_hash;             /* idset_hash of event_id, or of order_id
                                       for an order (0: none or not computed):
                                       hashed where decoded, not by the writer */
    int64_t customer_id;            /* 0: not given */
    size_t nids;
    struct event_ident *ids;
    /* customer */
    unsigned set;                   /* CF_* present in the record */
    const char *name, *gender, *country, *city, *language, *attributes;
    int birth_year;
    int consent_m, consent_s, consent_p;   /* -1 unknown/cleared */
    /* interaction, feedback, order, employee */
    const char *channel, *touchpoint, *stage, *agent, *kind, *outcome, *text;
    int64_t duration;               /* -1: none */
    double value;                   /* NAN: none */
    int fkind;                      /* enum fb_kind */
    double score;                   /* NAN for text feedback */
    const char *survey;
    const char *order_id, *currency;
    double amount;
    size_t nitems;
    struct event_item *items;
    const char *employee_id, *team, *role;
    struct text_scores *sc;         /* of text, set by the engine at submit */
};

/* Decodes record number index of a batch. now fills a missing ts. On error
 * returns CXM_EINVAL / CXM_ETOOBIG with err naming index, field and why.
 * Builds a struct evrec of rec and calls event_decode_rec. */
int event_decode(json_t *rec, long index, int64_t now, struct arena *a,
                 struct event *ev, struct cxm_err *err);

/* ---- the flat record view: one validation for two front ends ----------
 * A record's top-level fields, found by an index per known field name
 * instead of a lookup by name. Built from a jansson object
 * (evrec_from_json) or by the body scanner (engine/evscan.c) straight
 * from the request bytes. */

/* Every field name a record (or an order's item) may hold. */
enum evfield {
    EVF_TYPE, EVF_EVENT_ID, EVF_TS, EVF_CUSTOMER_ID, EVF_EMAIL, EVF_PHONE,
    EVF_DEVICE, EVF_COOKIE, EVF_CRM, EVF_LOYALTY, EVF_IDENTITIES, EVF_COUNTRY,
    EVF_NAME, EVF_BIRTH_YEAR, EVF_GENDER, EVF_CITY, EVF_LANGUAGE, EVF_CONSENT,
    EVF_ATTRIBUTES, EVF_CHANNEL, EVF_TOUCHPOINT, EVF_STAGE, EVF_KIND,
    EVF_AGENT_ID, EVF_DURATION, EVF_OUTCOME, EVF_VALUE, EVF_TEXT, EVF_SURVEY,
    EVF_SCORE, EVF_COMMENT, EVF_ORDER_ID, EVF_AMOUNT, EVF_CURRENCY, EVF_ITEMS,
    EVF_EMPLOYEE_ID, EVF_TEAM, EVF_ROLE,
    /* an order's items */
    EVF_SKU, EVF_CATEGORY, EVF_QTY, EVF_PRICE,
    EVF_COUNT
};

/* The JSON kind of a present value. */
enum evkind {
    EVK_NULL = 1, EVK_STRING, EVK_INTEGER, EVK_REAL, EVK_TRUE, EVK_FALSE,
    EVK_OBJECT, EVK_ARRAY
};

struct evval {
    unsigned char kind;     /* enum evkind */
    bool owned;             /* json was loaded from the span: release it */
    const char *str;        /* STRING: NUL-terminated; OBJECT/ARRAY: the
                               raw span when json is NULL */
    size_t len;             /* bytes at str */
    int64_t i;              /* INTEGER */
    double d;               /* REAL */
    json_t *json;           /* OBJECT/ARRAY: the value (borrowed unless
                               owned), NULL until loaded from the span */
};

/* Fields present are those with their bit in has; order[0..norder) lists
 * them as the record holds them. unknown is the first key that is no
 * enum evfield (NUL-terminated, NULL when none), after unknown_at of the
 * known ones: enough to name the first bad key in record order. */
struct evrec {
    uint64_t has;
    size_t norder, unknown_at;
    unsigned char order[EVF_COUNT];
    const char *unknown;
    struct evval v[EVF_COUNT];
};

/* Returned by event_decode_rec when it loaded a raw span that jansson
 * rejects (a duplicate key, say): the body is not valid JSON, so the
 * caller must let jansson report it. */
#define EVENT_EBADSPAN 100

/* The enum evfield of the n bytes at k, -1 when none. */
int evfield_lookup(const char *k, size_t n);
const char *evfield_name(enum evfield f);

/* Fills rec with a view of the object obj (borrowed: keep obj alive and
 * unchanged while rec is used). */
void evrec_from_json(json_t *obj, struct evrec *rec);

/* event_decode on a view. Values that are raw spans are loaded with
 * jansson when needed (EVENT_EBADSPAN when it refuses one) and kept in
 * rec until evrec_release; strings taken from them are copied into a.
 * Other strings are borrowed from rec's strings. */
int event_decode_rec(struct evrec *rec, long index, int64_t now, struct arena *a,
                     struct event *ev, struct cxm_err *err);
/* Frees what event_decode_rec loaded into rec. */
void evrec_release(struct evrec *rec);

const char *event_type_name(enum event_type t);
const char *event_fkind_name(int k);
/* enum fb_kind of a name, 0 when unknown. */
int event_fkind_parse(const char *s);

#endif
