/* actions.h - the action catalogue of next-best-action: what cxm may
 * propose to a customer (a promotion, a survey invitation, a service
 * follow-up, a retention offer, a thank-you, a referral ask), to whom and
 * on which channels, with which message. Parsing and checking only; the
 * engine decides. Pure: no I/O, no globals. */
#ifndef CXM_ACTIONS_H
#define CXM_ACTIONS_H

#include <jansson.h>

#include "common.h"

#define ACTIONS_MAX 500          /* actions in a catalogue */
#define ACTION_MAX_CHANNELS 16

struct action {
    char *id;                    /* [a-z0-9_-]{1,64}, unique */
    char *name;                  /* for people; defaults to the id */
    int kind;                    /* enum contact_kind (core/policy.h) */
    bool acquisition;            /* an offer to win a new purchase: a recent
                                    purchase suppresses it */
    char *segment;               /* eligibility: members of this segment id;
                                    NULL: no segment condition */
    char *rule;                  /* eligibility: a filter expression on
                                    customer features; NULL: none */
    double priority;             /* higher is proposed first (default 0) */
    double value;                /* expected value; ranks equal priorities
                                    (default 0) */
    char **channels;             /* where it can be delivered; 0: any */
    size_t nchannels;
    char *subject;               /* e-mail subject template; NULL: none */
    char *message;               /* message template (core/template.h) */
    bool enabled;                /* default true */
    double holdout;              /* share of eligible customers it is never
                                    proposed to (a control group, fixed per
                                    customer): 0 to 0.5, default 0 */
};

struct catalogue {
    struct action *a;
    size_t n;
};

/* Parses {"actions": [{"id", "name", "kind", "acquisition", "segment",
 * "rule", "priority", "value", "channels", "subject", "message",
 * "enabled", "holdout"}, ...]}: kind and message required; templates checked against
 * vars (tpl_check). Errors CXM_EINVAL with err->index the action's
 * position and err->field the member ("message", "kind", ...), the
 * message saying why ("action 3 (\"winback\"): ..."); unknown members are
 * errors. Rules and segments are not checked here (the engine knows the
 * fields and segments). *out untouched on error. */
int actions_parse(const char *json, size_t len, const char *const *vars, size_t nvars,
                  struct catalogue *out, struct cxm_err *err);
void actions_free(struct catalogue *c);     /* frees what parse allocated */
/* {"actions": [...]} with every member present. NULL on out of memory. */
json_t *actions_json(const struct catalogue *c);
/* Index of action id, -1 when absent. */
int actions_find(const struct catalogue *c, const char *id);

#endif
