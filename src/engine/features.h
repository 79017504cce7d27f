/* features.h - a profile's customer features (docs/personalisation.md):
 * the fields of the segment language (profile attributes, scores, orders,
 * recency, complaints, channels, categories bought, predictions) and the
 * evaluation of a rule on one profile. Internal to engine/; use under the
 * read lock (or the writer's lock). */
#ifndef CXM_FEATURES_H
#define CXM_FEATURES_H

#include <jansson.h>

#include "core/filter.h"
#include "engine/model.h"

/* Field ids of the segment language, in the order of feature_fields. */
enum feature_field {
    FF_COUNTRY, FF_CITY, FF_GENDER, FF_LANGUAGE, FF_NPS_CATEGORY, FF_AGE_BAND,
    FF_AGE, FF_BIRTH_YEAR, FF_CONSENT_MARKETING, FF_CONSENT_SURVEYS,
    FF_CONSENT_PERSONALISATION, FF_LAST_NPS, FF_CSAT_MEAN, FF_CES_MEAN,
    FF_SENTIMENT_MEAN, FF_ORDERS, FF_REVENUE, FF_DAYS_SINCE_LAST_ORDER,
    FF_DAYS_SINCE_LAST_CONTACT, FF_DAYS_SINCE_SIGNUP, FF_OPEN_CASES,
    FF_COMPLAINTS_90D, FF_CONTACTS_30D, FF_CLV_PREDICTED, FF_P_ALIVE,
    FF_CHANNELS, FF_BOUGHT_CATEGORY, FF_COUNT
};
extern const struct filter_field feature_fields[FF_COUNT];

/* A profile's features as of now, added up over its nodes. */
struct pfeat {
    uint32_t root;
    struct feat f;               /* sums, latest times, bits of every node */
    uint16_t country, city, gender, language;   /* latest known, 0: none */
    int birth_year;              /* 0: unknown */
    int consent_m, consent_s, consent_p;        /* -1 unknown, 0 no, 1 yes */
    int64_t created_ts;
};

/* One evaluation context: reuse it for many profiles. */
struct feat_eval {
    const struct model *m;
    int64_t now;                 /* unix seconds */
    uint32_t *nodes;             /* the profile's nodes, root first */
    size_t nn, cap;
    struct pfeat p;
    /* computed when a rule first asks */
    bool have_clv;
    float p_alive, clv;
    double complaints_90d, contacts_30d, open;
};

void feat_eval_init(struct feat_eval *x, const struct model *m, int64_t now);
void feat_eval_free(struct feat_eval *x);
/* Gathers the features of the profile rooted at root. CXM_ENOMEM. */
int feat_eval_load(struct feat_eval *x, uint32_t root);
/* Value of field id (enum feature_field, not a set) for the loaded
 * profile: a number, a code for text fields, NAN when none. */
double feat_value(struct feat_eval *x, int field);
/* Whether the loaded profile's set field holds code. */
bool feat_has(struct feat_eval *x, int field, double code);
/* Whether the loaded profile matches f (parsed by feat_parse). */
bool feat_match(struct feat_eval *x, const struct filter *f);

/* Parses a rule over feature_fields and binds its texts to the model's
 * codes (CXM_EINVAL with the position, or the unknown field and the known
 * ones). */
struct filter *feat_parse(const struct model *m, const char *rule, struct cxm_err *err);
/* The code a text literal of field id stands for; NAN when the data
 * never named it. */
double feat_bind_text(const struct model *m, int field, const char *text);
/* Binds again: after the dictionaries gained a value the rule names. */
void feat_bind(const struct model *m, struct filter *f);
/* Whether the rule's answer can change with the clock alone (ages,
 * days since, windows): such segments are evaluated again each day. */
bool feat_time_dependent(const struct filter *f);
bool feature_time_dependent(int field);
/* {"features": [{name, type, meaning, time_dependent}]} */
json_t *features_json(void);

#endif
