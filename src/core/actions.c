/* actions.c - see actions.h. Each action is checked member by member in
 * the documented order, so the first problem reported is the same
 * whatever order the members were written in; everything parsed goes into
 * a catalogue of its own that replaces *out only when all of it is good. */
#include "core/actions.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"
#include "core/template.h"
#include "core/utf8.h"
#include "cxm_limits.h"

#define ACTION_ID_MAX 64

static const char *const MEMBERS[] = {
    "id", "name", "kind", "acquisition", "segment", "rule", "priority", "value",
    "channels", "subject", "message", "enabled", "holdout", NULL,
};
#define MEMBER_LIST                                                                    \
    "id, name, kind, acquisition, segment, rule, priority, value, channels, subject, "  \
    "message, enabled, holdout"

static bool valid_id(const char *s, size_t n)
{
    if (n == 0 || n > ACTION_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* CXM_EINVAL naming action i (and its id once known) and the member. */
__attribute__((format(printf, 5, 6)))
static int fail(struct cxm_err *err, size_t i, const char *id, const char *field,
                const char *fmt, ...)
{
    if (!err)
        return CXM_EINVAL;
    char msg[CXM_ERR_MSG];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    if (id)
        return cxm_err_field(err, CXM_EINVAL, (long)i, field, "action %zu (\"%s\"): %s", i, id,
                             msg);
    return cxm_err_field(err, CXM_EINVAL, (long)i, field, "action %zu: %s", i, msg);
}

/* The string v when it is one of lo..hi bytes without NUL; NULL if not. */
static const char *string_of(json_t *v, size_t lo, size_t hi)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || n < lo || n > hi)
        return NULL;
    return s;
}

/* An optional string member: absent or null leaves *out NULL. */
static bool optional(json_t *o, const char *member, json_t **v)
{
    *v = json_object_get(o, member);
    return *v && !json_is_null(*v);
}

static int dup(char **dst, const char *s, struct cxm_err *err)
{
    if (!(*dst = cxm_strdup(s)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return CXM_OK;
}

static int parse_channels(json_t *v, size_t i, const char *id, struct action *a,
                          struct cxm_err *err)
{
    if (!json_is_array(v))
        return fail(err, i, id, "channels", "channels must be an array of strings");
    size_t n = json_array_size(v);
    if (n > ACTION_MAX_CHANNELS)
        return fail(err, i, id, "channels", "%zu channels, at most %d", n, ACTION_MAX_CHANNELS);
    if (n == 0)
        return CXM_OK;
    if (!(a->channels = cxm_calloc(n, sizeof *a->channels)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        const char *s = string_of(json_array_get(v, k), 1, CXM_MAX_NAME);
        if (!s || utf8_has_control(s, strlen(s)))
            return fail(err, i, id, "channels",
                        "channel %zu must be a string of 1 to %d bytes with no control "
                        "characters", k, CXM_MAX_NAME);
        for (size_t j = 0; j < k; j++)
            if (strcmp(a->channels[j], s) == 0)
                return fail(err, i, id, "channels", "channel \"%s\" is listed twice", s);
        int rc = dup(&a->channels[k], s, err);
        if (rc)
            return rc;
        a->nchannels = k + 1;
    }
    return CXM_OK;
}

/* A template member (message, subject) checked against vars. */
static int parse_template(json_t *v, const char *member, size_t i, const char *id,
                          const char *const *vars, size_t nvars, char **out, struct cxm_err *err)
{
    const char *s = string_of(v, 1, TPL_MAX);
    if (!s)
        return fail(err, i, id, member, "%s must be a template of 1 to %d bytes", member,
                    TPL_MAX);
    struct cxm_err te;
    cxm_err_clear(&te);
    if (tpl_check(s, vars, nvars, &te))
        return fail(err, i, id, member, "%s: %s", member, te.msg);
    return dup(out, s, err);
}

static int number(json_t *o, const char *member, size_t i, const char *id, double *out,
                  struct cxm_err *err)
{
    json_t *v = json_object_get(o, member);
    if (!v)
        return CXM_OK;
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return fail(err, i, id, member, "%s must be a finite number", member);
    *out = json_number_value(v);
    return CXM_OK;
}

static int boolean(json_t *o, const char *member, size_t i, const char *id, bool *out,
                   struct cxm_err *err)
{
    json_t *v = json_object_get(o, member);
    if (!v)
        return CXM_OK;
    if (!json_is_boolean(v))
        return fail(err, i, id, member, "%s must be true or false", member);
    *out = json_is_true(v);
    return CXM_OK;
}

/* Action i of the document into a (zeroed); prev holds the i before it. */
static int parse_action(json_t *o, size_t i, const struct action *prev,
                        const char *const *vars, size_t nvars, struct action *a,
                        struct cxm_err *err)
{
    if (!json_is_object(o))
        return fail(err, i, NULL, "actions", "an action is an object");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (size_t k = 0; MEMBERS[k] && !known; k++)
            known = strcmp(MEMBERS[k], key) == 0;
        if (!known)
            return fail(err, i, NULL, key, "unknown member \"%.64s\" (members: %s)", key,
                        MEMBER_LIST);
    }

    v = json_object_get(o, "id");
    if (!v)
        return fail(err, i, NULL, "id", "id is missing");
    const char *id = string_of(v, 1, ACTION_ID_MAX);
    if (!id || !valid_id(id, strlen(id)))
        return fail(err, i, NULL, "id", "id must be 1 to %d of a-z, 0-9, _ and -",
                    ACTION_ID_MAX);
    for (size_t j = 0; j < i; j++)
        if (strcmp(prev[j].id, id) == 0)
            return fail(err, i, id, "id", "id \"%s\" is taken by action %zu", id, j);
    int rc = dup(&a->id, id, err);
    if (rc)
        return rc;

    const char *name = id;
    if ((v = json_object_get(o, "name"))) {
        name = string_of(v, 1, CXM_MAX_NAME);
        if (!name || utf8_has_control(name, strlen(name)))
            return fail(err, i, id, "name",
                        "name must be a string of 1 to %d bytes with no control characters",
                        CXM_MAX_NAME);
    }
    if ((rc = dup(&a->name, name, err)))
        return rc;

    v = json_object_get(o, "kind");
    if (!v)
        return fail(err, i, id, "kind", "kind is missing");
    a->kind = json_is_string(v) ? contact_kind_parse(json_string_value(v)) : 0;
    if (!a->kind)
        return fail(err, i, id, "kind",
                    "kind \"%.40s\" is unknown (kinds: promotion, survey, service_follow_up, "
                    "retention_offer, thank_you, referral)",
                    json_is_string(v) ? json_string_value(v) : "(not a string)");

    if ((rc = boolean(o, "acquisition", i, id, &a->acquisition, err)))
        return rc;

    if (optional(o, "segment", &v)) {
        const char *s = string_of(v, 1, ACTION_ID_MAX);
        if (!s || !valid_id(s, strlen(s)))
            return fail(err, i, id, "segment",
                        "segment must be a segment id (1 to %d of a-z, 0-9, _ and -) or null",
                        ACTION_ID_MAX);
        if ((rc = dup(&a->segment, s, err)))
            return rc;
    }

    if (optional(o, "rule", &v)) {
        const char *s = string_of(v, 1, FILTER_MAX_EXPR);
        if (!s)
            return fail(err, i, id, "rule",
                        "rule must be a filter expression of 1 to %d bytes or null",
                        FILTER_MAX_EXPR);
        if ((rc = dup(&a->rule, s, err)))
            return rc;
    }

    if ((rc = number(o, "priority", i, id, &a->priority, err)) ||
        (rc = number(o, "value", i, id, &a->value, err)) ||
        (rc = number(o, "holdout", i, id, &a->holdout, err)))
        return rc;
    if (a->holdout < 0 || a->holdout > 0.5)
        return fail(err, i, id, "holdout", "holdout must be from 0 to 0.5 (a share of the"
                    " eligible customers)");

    if ((v = json_object_get(o, "channels")) && (rc = parse_channels(v, i, id, a, err)))
        return rc;

    if (optional(o, "subject", &v) &&
        (rc = parse_template(v, "subject", i, id, vars, nvars, &a->subject, err)))
        return rc;

    v = json_object_get(o, "message");
    if (!v)
        return fail(err, i, id, "message", "message is missing");
    if ((rc = parse_template(v, "message", i, id, vars, nvars, &a->message, err)))
        return rc;

    a->enabled = true;
    return boolean(o, "enabled", i, id, &a->enabled, err);
}

static int parse_doc(json_t *doc, const char *const *vars, size_t nvars, struct catalogue *c,
                     struct cxm_err *err)
{
    json_t *list = json_is_object(doc) ? json_object_get(doc, "actions") : NULL;
    if (!json_is_array(list))
        return cxm_err_field(err, CXM_EINVAL, -1, "actions",
                             "the catalogue must be an object with an array \"actions\"");
    if (json_object_size(doc) != 1) {
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v) {
            if (strcmp(key, "actions") != 0)
                return cxm_err_field(err, CXM_EINVAL, -1, key,
                                     "unknown member \"%.64s\" (the catalogue has only "
                                     "\"actions\")", key);
        }
    }
    size_t n = json_array_size(list);
    if (n > ACTIONS_MAX)
        return cxm_err_field(err, CXM_EINVAL, -1, "actions", "%zu actions, at most %d", n,
                             ACTIONS_MAX);
    if (n && !(c->a = cxm_calloc(n, sizeof *c->a)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        /* counted first, so a half-parsed action is freed with the rest */
        c->n = i + 1;
        int rc = parse_action(json_array_get(list, i), i, c->a, vars, nvars, &c->a[i], err);
        if (rc)
            return rc;
    }
    return CXM_OK;
}

int actions_parse(const char *json, size_t len, const char *const *vars, size_t nvars,
                  struct catalogue *out, struct cxm_err *err)
{
    json_error_t je;
    json_t *doc = json_loadb(json ? json : "", json ? len : 0, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return cxm_err_field(err, CXM_EINVAL, -1, "", "catalogue JSON, line %d column %d: %s",
                             je.line, je.column, je.text);
    struct catalogue c = {0};
    int rc = parse_doc(doc, vars, nvars, &c, err);
    json_decref(doc);
    if (rc) {
        actions_free(&c);
        return rc;
    }
    *out = c;
    return CXM_OK;
}

static void action_free(struct action *a)
{
    free(a->id);
    free(a->name);
    free(a->segment);
    free(a->rule);
    for (size_t k = 0; k < a->nchannels; k++)
        free(a->channels[k]);
    free(a->channels);
    free(a->subject);
    free(a->message);
}

void actions_free(struct catalogue *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        action_free(&c->a[i]);
    free(c->a);
    c->a = NULL;
    c->n = 0;
}

/* ---- output ----------------------------------------------------------------- */

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *action_json(const struct action *a)
{
    json_t *o = json_object(), *ch = json_array();
    if (!o || !ch || json_object_set_new(o, "id", string_or_null(a->id)) ||
        json_object_set_new(o, "name", string_or_null(a->name)) ||
        json_object_set_new(o, "kind", string_or_null(contact_kind_name(a->kind))) ||
        json_object_set_new(o, "acquisition", json_boolean(a->acquisition)) ||
        json_object_set_new(o, "segment", string_or_null(a->segment)) ||
        json_object_set_new(o, "rule", string_or_null(a->rule)) ||
        json_object_set_new(o, "priority", json_real(a->priority)) ||
        json_object_set_new(o, "value", json_real(a->value)) ||
        json_object_set_new(o, "holdout", json_real(a->holdout)))
        goto fail;
    json_t *chan = ch;
    ch = NULL;          /* owned by o from here, even when setting fails */
    if (json_object_set_new(o, "channels", chan))
        goto fail;
    for (size_t k = 0; k < a->nchannels; k++)
        if (json_array_append_new(chan, json_string(a->channels[k])))
            goto fail;
    if (json_object_set_new(o, "subject", string_or_null(a->subject)) ||
        json_object_set_new(o, "message", string_or_null(a->message)) ||
        json_object_set_new(o, "enabled", json_boolean(a->enabled)))
        goto fail;
    return o;
fail:
    json_decref(ch);
    json_decref(o);
    return NULL;
}

json_t *actions_json(const struct catalogue *c)
{
    json_t *doc = json_object(), *list = json_array();
    if (!doc || !list) {
        json_decref(list);
        goto fail;
    }
    if (json_object_set_new(doc, "actions", list))
        goto fail;
    for (size_t i = 0; i < c->n; i++)
        if (json_array_append_new(list, action_json(&c->a[i])))
            goto fail;
    return doc;
fail:
    json_decref(doc);
    return NULL;
}

int actions_find(const struct catalogue *c, const char *id)
{
    if (!c || !id)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->a[i].id, id) == 0)
            return (int)i;
    return -1;
}
