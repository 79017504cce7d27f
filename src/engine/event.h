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
 * returns CXM_EINVAL / CXM_ETOOBIG with err naming index, field and why. */
int event_decode(json_t *rec, long index, int64_t now, struct arena *a,
                 struct event *ev, struct cxm_err *err);

const char *event_type_name(enum event_type t);
const char *event_fkind_name(int k);
/* enum fb_kind of a name, 0 when unknown. */
int event_fkind_parse(const char *s);

#endif
