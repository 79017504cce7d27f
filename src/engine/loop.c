/* loop.c - alert rules and cases (docs/closed-loop.md). The writer runs
 * the rules on every feedback and interaction it plans; a match opens a
 * case (or attaches the signal to the customer's open case of the same
 * reason) and/or emits an event, in the transaction of the signal. Cases
 * move open -> in_progress -> resolved -> closed (reopen allowed); each
 * step is kept in the case's history and recorded as an interaction of
 * type "case" on channel "cxm", so the customer's timeline shows it. */
#include "engine/loop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/dict.h"
#include "core/policy.h"
#include "core/template.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "cxm_limits.h"
#include "engine/decide.h"
#include "engine/features.h"
#include "engine/segments.h"
#include "log.h"

#define MAX_RULES 100
#define MAX_ROUTES 16
#define MAX_NAME 64              /* ids, reasons, teams, assignees */
#define MAX_TEXT 4096            /* notes, subjects, resolutions */
#define MAX_RULES_DOC (256 * 1024)
#define MAX_STEPS 10000          /* history kept per case */

static const char *const priorities[] = {"low", "normal", "high", "urgent"};
static const char *const statuses[] = {"open", "in_progress", "resolved", "closed"};
enum { ST_OPEN, ST_PROGRESS, ST_RESOLVED, ST_CLOSED };

static int find_name(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

static int status_of(const struct kase *k)
{
    return find_name(statuses, 4, k->status);
}

static bool case_open(const struct kase *k)
{
    int s = status_of(k);
    return s == ST_OPEN || s == ST_PROGRESS;
}

/* Keeps the customer node's count of open cases (a customer feature)
 * after k's status may have changed from was_open. */
static void case_count(struct model *m, const struct kase *k, bool was_open)
{
    bool now = case_open(k);
    uint32_t c = (uint32_t)k->customer;
    if (now == was_open || c < 1 || c > m->ncust)
        return;
    if (now)
        m->cust[c].cases++;
    else if (m->cust[c].cases)
        m->cust[c].cases--;
}

/* ---- signal fields ------------------------------------------------------ */

enum sig_field {
    SF_SOURCE, SF_KIND, SF_TYPE, SF_SCORE, SF_NPS, SF_CSAT, SF_CES, SF_ENPS,
    SF_SENTIMENT, SF_NEGATIVE, SF_CHANNEL, SF_TOUCHPOINT, SF_STAGE, SF_AGENT,
    SF_SURVEY, SF_THEMES, SF_NEGATIVE_THEMES, SF_SEGMENT, SF_COUNT
};

static const struct filter_field sig_fields[SF_COUNT] = {
    {"source", FT_TEXT}, {"kind", FT_TEXT}, {"type", FT_TEXT}, {"score", FT_NUMBER},
    {"nps", FT_NUMBER}, {"csat", FT_NUMBER}, {"ces", FT_NUMBER}, {"enps", FT_NUMBER},
    {"sentiment", FT_NUMBER}, {"negative", FT_NUMBER}, {"channel", FT_TEXT},
    {"touchpoint", FT_TEXT}, {"stage", FT_TEXT}, {"agent", FT_TEXT}, {"survey", FT_TEXT},
    {"themes", FT_SET}, {"negative_themes", FT_SET}, {"segment", FT_SET},
};

#define NFIELDS (SF_COUNT + FF_COUNT)

static struct filter *rule_parse(const char *expr, struct cxm_err *err)
{
    struct filter_field f[NFIELDS];
    memcpy(f, sig_fields, sizeof sig_fields);
    memcpy(f + SF_COUNT, feature_fields, sizeof feature_fields);
    return filter_parse(expr, f, NFIELDS, err);
}

static double bind_cb(void *ctx, int field, const char *text)
{
    struct engine *e = ctx;
    const struct model *m = e->m;
    static const int dicts[] = {[SF_TYPE] = DICT_ITYPE, [SF_CHANNEL] = DICT_CHANNEL,
                                [SF_TOUCHPOINT] = DICT_TOUCHPOINT, [SF_STAGE] = DICT_STAGE,
                                [SF_AGENT] = DICT_AGENT, [SF_SURVEY] = DICT_SURVEY};
    if (field >= SF_COUNT)
        return feat_bind_text(m, field - SF_COUNT, text);
    switch (field) {
    case SF_SOURCE:
        return strcmp(text, "feedback") == 0 ? 1 : strcmp(text, "interaction") == 0 ? 2 : NAN;
    case SF_KIND: {
        int k = event_fkind_parse(text);
        return k ? k : NAN;
    }
    case SF_THEMES:
    case SF_NEGATIVE_THEMES: {
        int t = engine_theme_index(e, text);
        return t >= 0 ? t : NAN;
    }
    case SF_SEGMENT:
        for (size_t i = 0; e->segs && i < e->segs->n; i++)
            if (strcmp(e->segs->s[i].id, text) == 0)
                return (double)i;
        return NAN;
    default: {
        uint32_t c = dict_find(m->dict[dicts[field]], text);
        return c ? c : NAN;
    }
    }
}

/* Sum of the dictionary sizes the rules' texts can name: when it grows,
 * the rules are bound again. */
static size_t dict_sizes(const struct engine *e)
{
    size_t n = e->segs ? e->segs->n : 0;
    for (int d = 1; d < DICT_COUNT; d++)
        n += dict_count(e->m->dict[d]);
    for (int d = 0; d < CD_COUNT; d++)
        n += dict_count(e->m->cdict[d]);
    return n;
}

static void rules_bind(struct engine *e)
{
    struct loop *l = e->loop;
    for (size_t i = 0; i < l->nrules; i++) {
        filter_bind(l->rules[i].when, bind_cb, e);
        for (size_t k = 0; k < l->rules[i].nroutes; k++)
            filter_bind(l->rules[i].routes[k].when, bind_cb, e);
    }
    l->bound_dicts = dict_sizes(e);
    l->bound_tax = e->tax_gen;
}

struct sig {
    struct engine *e;
    const struct store_interaction *i;
    const struct store_feedback *f;
    uint32_t root;
    struct feat_eval x;
    bool loaded;
};

static bool sig_negative(const struct sig *s)
{
    const struct model *m = s->e->m;
    if (s->f) {
        double v = s->f->score;
        switch (s->f->kind) {
        case FB_NPS: if (v <= 6) return true; break;
        case FB_ENPS: return false;   /* an employee's answer, not a customer's */
        case FB_CSAT: if (v <= 2) return true; break;
        case FB_CES: if (v >= 5) return true; break;
        default: break;
        }
    } else if (s->i->kind && (s->i->kind == m->k_complaint)) {
        return true;
    }
    const struct text_scores *sc = s->f ? s->f->sc : s->i->sc;
    return sc && sc->sentiment <= -0.05f;
}

static bool sig_load(struct sig *s)
{
    if (!s->loaded)
        s->loaded = feat_eval_load(&s->x, s->root) == CXM_OK;
    return s->loaded;
}

static double get_cb(void *ctx, int field)
{
    struct sig *s = ctx;
    const struct store_feedback *f = s->f;
    const struct store_interaction *i = s->i;
    if (field >= SF_COUNT)
        return sig_load(s) ? feat_value(&s->x, field - SF_COUNT) : NAN;
    uint32_t code = 0;
    switch (field) {
    case SF_SOURCE: return f ? 1 : 2;
    case SF_KIND: return f ? f->kind : NAN;
    case SF_TYPE: code = i ? i->kind : 0; break;
    case SF_SCORE: return f ? f->score : NAN;
    case SF_NPS: return f && f->kind == FB_NPS ? f->score : NAN;
    case SF_CSAT: return f && f->kind == FB_CSAT ? f->score : NAN;
    case SF_CES: return f && f->kind == FB_CES ? f->score : NAN;
    case SF_ENPS: return f && f->kind == FB_ENPS ? f->score : NAN;
    case SF_SENTIMENT: {
        const struct text_scores *sc = f ? f->sc : i->sc;
        return sc ? sc->sentiment : NAN;
    }
    case SF_NEGATIVE: return sig_negative(s);
    case SF_CHANNEL: code = f ? f->channel : i->channel; break;
    case SF_TOUCHPOINT: code = f ? f->touchpoint : i->touchpoint; break;
    case SF_STAGE: code = f ? f->stage : i->stage; break;
    case SF_AGENT: code = f ? f->agent : i->agent; break;
    case SF_SURVEY: code = f ? f->survey : 0; break;
    default: break;
    }
    return code ? code : NAN;
}

static bool has_cb(void *ctx, int field, double code)
{
    struct sig *s = ctx;
    if (field >= SF_COUNT)
        return sig_load(s) && feat_has(&s->x, field - SF_COUNT, code);
    const struct text_scores *sc = s->f ? s->f->sc : s->i->sc;
    uint32_t t = (uint32_t)code;
    switch (field) {
    case SF_THEMES:
        return sc && t < 32 && (sc->themes >> t & 1u);
    case SF_NEGATIVE_THEMES:
        for (size_t k = 0; sc && k < sc->naspects; k++)
            if (sc->aspect[k].theme == t && sc->aspect[k].sentiment <= -500)
                return true;
        return false;
    case SF_SEGMENT:
        return s->e->segs && t < s->e->segs->n && segment_has(&s->e->segs->s[t], s->root);
    default:
        return false;
    }
}

/* ---- the rules document --------------------------------------------------- */

static void rules_free(struct alert_rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].id);
        free(r[i].name);
        free(r[i].reason);
        free(r[i].priority);
        free(r[i].team);
        free(r[i].assignee);
        filter_free(r[i].when);
        for (size_t k = 0; k < r[i].nroutes; k++) {
            filter_free(r[i].routes[k].when);
            free(r[i].routes[k].team);
        }
        free(r[i].routes);
    }
    free(r);
}

struct rules_doc {
    struct alert_rule *rules;
    size_t n;
    struct bizcal cal;
    struct tz *tz;
    bool has_cal;
    int64_t resp[4], res[4];
    char *subject, *text;
    char *doc;
    int64_t max_age;             /* signals older than this fire no rule */
};

static void doc_free(struct rules_doc *d)
{
    rules_free(d->rules, d->n);
    tz_free(d->tz);
    free(d->subject);
    free(d->text);
    free(d->doc);
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* A string member: *out NULL when absent; CXM_EINVAL when not a string,
 * too long, or (ident) not an identifier. */
static int str_member(const json_t *o, const char *key, const char *where, bool ident,
                      const char **out, struct cxm_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return CXM_OK;
    char field[96];
    snprintf(field, sizeof field, "%s%s%s", where, *where ? "." : "", key);
    if (!json_is_string(v))
        return cxm_err_field(err, CXM_EINVAL, -1, field, "must be a string");
    const char *s = json_string_value(v);
    if (ident && !name_ok(s))
        return cxm_err_field(err, CXM_EINVAL, -1, field, "must be 1-%d letters, digits,"
                             " '_', '-' or '.'", MAX_NAME);
    if (strlen(s) > MAX_TEXT)
        return cxm_err_field(err, CXM_EINVAL, -1, field, "is longer than %d bytes", MAX_TEXT);
    *out = s;
    return CXM_OK;
}

static int bool_member(const json_t *o, const char *key, const char *where, bool dflt,
                       bool *out, struct cxm_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = dflt;
    if (!v)
        return CXM_OK;
    if (!json_is_boolean(v)) {
        char field[96];
        snprintf(field, sizeof field, "%s%s%s", where, *where ? "." : "", key);
        return cxm_err_field(err, CXM_EINVAL, -1, field, "must be true or false");
    }
    *out = json_is_true(v);
    return CXM_OK;
}

static int check_keys(const json_t *o, const char *where, const char *const *known,
                      struct cxm_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = strcmp(known[i], k) == 0;
        if (!ok) {
            char field[96];
            snprintf(field, sizeof field, "%s%s%s", where, *where ? "." : "", k);
            return cxm_err_field(err, CXM_EINVAL, -1, field, "is not a known member");
        }
    }
    return CXM_OK;
}

static int filter_member(const json_t *o, const char *where, bool required,
                         struct filter **out, struct cxm_err *err)
{
    const char *s;
    int rc = str_member(o, "when", where, false, &s, err);
    char field[96];
    snprintf(field, sizeof field, "%s.when", where);
    if (!rc && !s && required)
        rc = cxm_err_field(err, CXM_EINVAL, -1, field, "is required");
    if (rc || !s)
        return rc;
    struct cxm_err fe;
    cxm_err_clear(&fe);
    if (!(*out = rule_parse(s, &fe)))
        return cxm_err_field(err, fe.code ? fe.code : CXM_EINVAL, -1, field, "%s", fe.msg);
    return CXM_OK;
}

static int sla_member(const json_t *o, const char *key, const char *where, int64_t *out,
                      struct cxm_err *err)
{
    const char *s;
    int rc = str_member(o, key, where, false, &s, err);
    *out = 0;
    if (rc || !s)
        return rc;
    struct cxm_err de;
    cxm_err_clear(&de);
    if (sla_parse_duration(s, out, &de)) {
        char field[96];
        snprintf(field, sizeof field, "%s%s%s", where, *where ? "." : "", key);
        return cxm_err_field(err, CXM_EINVAL, -1, field, "%s", de.msg);
    }
    return CXM_OK;
}

static char *dup_or_null(const char *s, int *rc)
{
    if (!s)
        return NULL;
    char *d = cxm_strdup(s);
    if (!d)
        *rc = CXM_ENOMEM;
    return d;
}

static int parse_rule(const json_t *j, const char *where, struct alert_rule *r,
                      struct cxm_err *err)
{
    static const char *const known[] = {"id", "name", "when", "reason", "priority", "team",
                                        "assignee", "routes", "sla", "open_case", "emit",
                                        "enabled", NULL};
    if (!json_is_object(j))
        return cxm_err_field(err, CXM_EINVAL, -1, where, "must be an object");
    const char *id, *name, *reason, *prio, *team, *assignee;
    int rc;
    if ((rc = check_keys(j, where, known, err)) ||
        (rc = str_member(j, "id", where, true, &id, err)) ||
        (rc = str_member(j, "name", where, false, &name, err)) ||
        (rc = str_member(j, "reason", where, true, &reason, err)) ||
        (rc = str_member(j, "priority", where, false, &prio, err)) ||
        (rc = str_member(j, "team", where, true, &team, err)) ||
        (rc = str_member(j, "assignee", where, true, &assignee, err)) ||
        (rc = bool_member(j, "open_case", where, true, &r->open_case, err)) ||
        (rc = bool_member(j, "emit", where, false, &r->emit, err)) ||
        (rc = bool_member(j, "enabled", where, true, &r->enabled, err)))
        return rc;
    char field[96];
    if (!id) {
        snprintf(field, sizeof field, "%s.id", where);
        return cxm_err_field(err, CXM_EINVAL, -1, field, "is required");
    }
    if (prio && find_name(priorities, 4, prio) < 0) {
        snprintf(field, sizeof field, "%s.priority", where);
        return cxm_err_field(err, CXM_EINVAL, -1, field,
                             "must be low, normal, high or urgent");
    }
    if (!r->open_case && !r->emit) {
        snprintf(field, sizeof field, "%s.open_case", where);
        return cxm_err_field(err, CXM_EINVAL, -1, field,
                             "a rule must open a case or emit an event (or both)");
    }
    if ((rc = filter_member(j, where, true, &r->when, err)))
        return rc;
    json_t *sla = json_object_get(j, "sla");
    if (sla) {
        static const char *const sk[] = {"first_response", "resolution", "business_hours",
                                         NULL};
        snprintf(field, sizeof field, "%s.sla", where);
        if (!json_is_object(sla))
            return cxm_err_field(err, CXM_EINVAL, -1, field, "must be an object");
        if ((rc = check_keys(sla, field, sk, err)) ||
            (rc = sla_member(sla, "first_response", field, &r->response, err)) ||
            (rc = sla_member(sla, "resolution", field, &r->resolution, err)) ||
            (rc = bool_member(sla, "business_hours", field, false, &r->business_hours, err)))
            return rc;
    }
    json_t *routes = json_object_get(j, "routes");
    if (routes) {
        snprintf(field, sizeof field, "%s.routes", where);
        if (!json_is_array(routes) || json_array_size(routes) > MAX_ROUTES)
            return cxm_err_field(err, CXM_EINVAL, -1, field,
                                 "must be an array of at most %d routes", MAX_ROUTES);
        if (json_array_size(routes) &&
            !(r->routes = cxm_calloc(json_array_size(routes), sizeof *r->routes)))
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        for (size_t k = 0; k < json_array_size(routes); k++) {
            static const char *const rk[] = {"when", "team", NULL};
            json_t *ro = json_array_get(routes, k);
            char rw[96];
            snprintf(rw, sizeof rw, "%s.routes[%zu]", where, k);
            const char *rteam;
            if (!json_is_object(ro))
                return cxm_err_field(err, CXM_EINVAL, -1, rw, "must be an object");
            r->nroutes = k + 1;
            if ((rc = check_keys(ro, rw, rk, err)) ||
                (rc = str_member(ro, "team", rw, true, &rteam, err)) ||
                (rc = filter_member(ro, rw, true, &r->routes[k].when, err)))
                return rc;
            if (!rteam) {
                char f2[112];
                snprintf(f2, sizeof f2, "%s.team", rw);
                return cxm_err_field(err, CXM_EINVAL, -1, f2, "is required");
            }
            if (!(r->routes[k].team = cxm_strdup(rteam)))
                return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        }
    }
    rc = CXM_OK;
    r->id = dup_or_null(id, &rc);
    r->name = dup_or_null(name ? name : id, &rc);
    r->reason = dup_or_null(reason ? reason : id, &rc);
    r->priority = dup_or_null(prio ? prio : "normal", &rc);
    r->team = dup_or_null(team, &rc);
    r->assignee = dup_or_null(assignee, &rc);
    return rc ? cxm_err_set(err, rc, "out of memory") : CXM_OK;
}

static int parse_calendar(const json_t *j, struct rules_doc *d, struct cxm_err *err)
{
    const char *zone = json_string_value(json_object_get(j, "timezone"));
    if (json_object_get(j, "timezone") && !zone)
        return cxm_err_field(err, CXM_EINVAL, -1, "business_hours.timezone",
                             "must be a zone name such as \"Europe/Paris\"");
    if (zone) {
        struct cxm_err ze;
        cxm_err_clear(&ze);
        if (report_parse_tz(zone, &d->tz, &ze))
            return cxm_err_field(err, CXM_EINVAL, -1, "business_hours.timezone", "%s", ze.msg);
    }
    json_t *c = json_deep_copy(j);
    if (!c)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_object_del(c, "timezone");
    struct cxm_err ce;
    cxm_err_clear(&ce);
    int rc = bizcal_parse(c, &d->cal, &ce);
    json_decref(c);
    if (rc) {
        char field[96];
        snprintf(field, sizeof field, "business_hours%s%s", ce.field[0] ? "." : "", ce.field);
        return cxm_err_field(err, CXM_EINVAL, -1, field, "%s", ce.msg);
    }
    d->cal.tz = d->tz;
    d->has_cal = true;
    return CXM_OK;
}

static int parse_defaults(const json_t *j, struct rules_doc *d, struct cxm_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
        char where[64];
        snprintf(where, sizeof where, "sla_defaults.%s", k);
        int p = find_name(priorities, 4, k);
        if (p < 0)
            return cxm_err_field(err, CXM_EINVAL, -1, where,
                                 "is not a priority (low, normal, high, urgent)");
        static const char *const sk[] = {"first_response", "resolution", NULL};
        int rc;
        if (!json_is_object(v))
            return cxm_err_field(err, CXM_EINVAL, -1, where, "must be an object");
        if ((rc = check_keys(v, where, sk, err)) ||
            (rc = sla_member(v, "first_response", where, &d->resp[p], err)) ||
            (rc = sla_member(v, "resolution", where, &d->res[p], err)))
            return rc;
    }
    return CXM_OK;
}

static const char *const msg_vars[] = {"first_name", "name", "case_id", "reason",
                                       "subject", "resolution"};

static int parse_messages(const json_t *j, struct rules_doc *d, struct cxm_err *err)
{
    static const char *const known[] = {"resolved", NULL};
    static const char *const mk[] = {"subject", "text", NULL};
    int rc = check_keys(j, "messages", known, err);
    json_t *r = json_object_get(j, "resolved");
    if (rc || !r)
        return rc;
    const char *subject, *text;
    if (!json_is_object(r))
        return cxm_err_field(err, CXM_EINVAL, -1, "messages.resolved", "must be an object");
    if ((rc = check_keys(r, "messages.resolved", mk, err)) ||
        (rc = str_member(r, "subject", "messages.resolved", false, &subject, err)) ||
        (rc = str_member(r, "text", "messages.resolved", false, &text, err)))
        return rc;
    const char *t[2] = {subject, text};
    const char *f[2] = {"messages.resolved.subject", "messages.resolved.text"};
    for (int i = 0; i < 2; i++) {
        struct cxm_err te;
        cxm_err_clear(&te);
        if (t[i] && tpl_check(t[i], msg_vars, sizeof msg_vars / sizeof *msg_vars, &te))
            return cxm_err_field(err, CXM_EINVAL, -1, f[i], "%s", te.msg);
    }
    rc = CXM_OK;
    d->subject = dup_or_null(subject, &rc);
    d->text = dup_or_null(text, &rc);
    return rc ? cxm_err_set(err, rc, "out of memory") : CXM_OK;
}

/* Parses and checks a rules document; d is filled (doc_free it). */
static int parse_doc(const char *json, size_t len, struct rules_doc *d, struct cxm_err *err)
{
    static const char *const known[] = {"rules", "business_hours", "sla_defaults",
                                        "messages", "max_signal_age", NULL};
    memset(d, 0, sizeof *d);
    if (len > MAX_RULES_DOC)
        return cxm_err_set(err, CXM_ETOOBIG, "the alert rules are larger than %d bytes",
                           MAX_RULES_DOC);
    json_error_t je;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return cxm_err_set(err, CXM_EINVAL, "invalid JSON at line %d column %d: %s",
                           je.line, je.column, je.text);
    int rc = json_is_object(j) ? check_keys(j, "", known, err)
                               : cxm_err_set(err, CXM_EINVAL, "must be a JSON object");
    json_t *rules = json_object_get(j, "rules");
    if (!rc && rules && (!json_is_array(rules) || json_array_size(rules) > MAX_RULES))
        rc = cxm_err_field(err, CXM_EINVAL, -1, "rules", "must be an array of at most %d"
                           " rules", MAX_RULES);
    size_t n = rules ? json_array_size(rules) : 0;
    if (!rc && n && !(d->rules = cxm_calloc(n, sizeof *d->rules)))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        char where[32];
        snprintf(where, sizeof where, "rules[%zu]", i);
        d->n = i + 1;
        rc = parse_rule(json_array_get(rules, i), where, &d->rules[i], err);
        for (size_t k = 0; !rc && k < i; k++)
            if (strcmp(d->rules[k].id, d->rules[i].id) == 0)
                rc = cxm_err_field(err, CXM_EINVAL, -1, where, "repeats the id \"%s\"",
                                   d->rules[i].id);
    }
    json_t *cal = json_object_get(j, "business_hours");
    if (!rc && cal && !json_is_null(cal))
        rc = json_is_object(cal) ? parse_calendar(cal, d, err)
                                 : cxm_err_field(err, CXM_EINVAL, -1, "business_hours",
                                                 "must be an object");
    for (size_t i = 0; !rc && i < d->n; i++)
        if (d->rules[i].business_hours && !d->has_cal)
            rc = cxm_err_field(err, CXM_EINVAL, -1, "business_hours", "is needed: rule \"%s\""
                               " counts its SLA in business hours", d->rules[i].id);
    json_t *defs = json_object_get(j, "sla_defaults");
    if (!rc && defs)
        rc = json_is_object(defs) ? parse_defaults(defs, d, err)
                                  : cxm_err_field(err, CXM_EINVAL, -1, "sla_defaults",
                                                  "must be an object");
    if (!rc && !(rc = sla_member(j, "max_signal_age", "", &d->max_age, err)) && !d->max_age)
        d->max_age = 7 * 86400;
    json_t *msgs = json_object_get(j, "messages");
    if (!rc && msgs)
        rc = json_is_object(msgs) ? parse_messages(msgs, d, err)
                                  : cxm_err_field(err, CXM_EINVAL, -1, "messages",
                                                  "must be an object");
    if (!rc && !(d->doc = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    json_decref(j);
    return rc;
}

static void doc_swap(struct loop *l, struct rules_doc *d)
{
    struct rules_doc old = {.rules = l->rules, .n = l->nrules, .tz = l->tz,
                            .subject = l->msg_subject, .text = l->msg_text, .doc = l->doc};
    l->rules = d->rules;
    l->nrules = d->n;
    l->cal = d->cal;
    l->tz = d->tz;
    l->has_cal = d->has_cal;
    memcpy(l->def_response, d->resp, sizeof d->resp);
    memcpy(l->def_resolution, d->res, sizeof d->res);
    l->max_age = d->max_age;
    l->msg_subject = d->subject;
    l->msg_text = d->text;
    l->doc = d->doc;
    doc_free(&old);
    memset(d, 0, sizeof *d);
}

/* ---- cases ---------------------------------------------------------------- */

static void step_free(struct case_step *s)
{
    free(s->kind);
    free(s->actor);
    free(s->body);
}

static void case_free(struct kase *k)
{
    for (size_t i = 0; i < k->nh; i++)
        step_free(&k->h[i]);
    free(k->h);
    free(k->reason);
    free(k->rule);
    free(k->priority);
    free(k->status);
    free(k->team);
    free(k->assignee);
    free(k->subject);
    free(k->resolution);
}

static int set_str(char **dst, const char *src)
{
    char *d = NULL;
    if (src && !(d = cxm_strdup(src)))
        return CXM_ENOMEM;
    free(*dst);
    *dst = d;
    return CXM_OK;
}

static int link_customer(struct loop *l, struct kase *k, uint32_t idx)
{
    uint32_t c = (uint32_t)k->customer;
    size_t old = l->headcap;
    if (cxm_grow((void **)&l->head, &l->headcap, (size_t)c + 1, sizeof *l->head))
        return CXM_ENOMEM;
    if (l->headcap > old)
        memset(l->head + old, 0, (l->headcap - old) * sizeof *l->head);
    k->next = l->head[c];
    l->head[c] = idx + 1;
    return CXM_OK;
}

/* Adds the case of a stored row (replay) or a new one; *out its slot. */
static int case_add(struct loop *l, const struct store_case *c, struct kase **out)
{
    if (c->id != (int64_t)l->ncases + 1)
        return CXM_EINVAL;       /* ids are dense: 1, 2, ... */
    if (cxm_grow((void **)&l->cases, &l->casecap, l->ncases + 1, sizeof *l->cases))
        return CXM_ENOMEM;
    struct kase *k = &l->cases[l->ncases];
    *k = (struct kase){.id = c->id, .seq = c->seq, .customer = c->customer,
                       .source_seq = c->source_seq, .opened = c->opened_ts,
                       .updated = c->updated_ts, .response_due = c->response_due,
                       .resolve_due = c->resolve_due, .responded = c->responded_ts,
                       .resolved = c->resolved_ts, .closed = c->closed_ts,
                       .reopened = c->reopened, .breached = c->breached};
    int rc = CXM_OK;
    k->reason = dup_or_null(c->reason, &rc);
    k->rule = dup_or_null(c->rule, &rc);
    k->priority = dup_or_null(c->priority, &rc);
    k->status = dup_or_null(c->status, &rc);
    k->team = dup_or_null(c->team, &rc);
    k->assignee = dup_or_null(c->assignee, &rc);
    k->subject = dup_or_null(c->subject, &rc);
    k->resolution = dup_or_null(c->resolution, &rc);
    if (!rc)
        rc = link_customer(l, k, (uint32_t)l->ncases);
    if (rc) {
        case_free(k);
        return rc;
    }
    l->ncases++;
    *out = k;
    return CXM_OK;
}

static int case_add_step(struct kase *k, const struct store_case_event *ev)
{
    if (k->nh >= MAX_STEPS)
        return CXM_OK;           /* the store keeps them all */
    if (cxm_grow((void **)&k->h, &k->hcap, k->nh + 1, sizeof *k->h))
        return CXM_ENOMEM;
    struct case_step *s = &k->h[k->nh];
    *s = (struct case_step){.seq = ev->seq, .ts = ev->ts, .link = ev->link_seq};
    int rc = CXM_OK;
    s->kind = dup_or_null(ev->kind, &rc);
    s->actor = dup_or_null(ev->actor, &rc);
    s->body = dup_or_null(ev->body, &rc);
    if (rc) {
        step_free(s);
        return rc;
    }
    k->nh++;
    return CXM_OK;
}

static struct kase *case_get(const struct loop *l, int64_t id)
{
    return id >= 1 && id <= (int64_t)l->ncases ? &l->cases[id - 1] : NULL;
}

static int case_put(struct engine *e, const struct kase *k, struct cxm_err *err)
{
    struct store_case c = {
        .id = k->id, .seq = k->seq, .customer = k->customer, .source_seq = k->source_seq,
        .opened_ts = k->opened, .updated_ts = k->updated, .response_due = k->response_due,
        .resolve_due = k->resolve_due, .responded_ts = k->responded,
        .resolved_ts = k->resolved, .closed_ts = k->closed, .reopened = k->reopened,
        .breached = k->breached, .reason = k->reason, .rule = k->rule,
        .priority = k->priority, .status = k->status, .team = k->team,
        .assignee = k->assignee, .subject = k->subject, .resolution = k->resolution};
    return e->store->ops->put_case(e->store, &c, err);
}

/* Records a step of case k in its history (store and memory). */
static int case_step(struct engine *e, struct group *g, struct kase *k, int64_t ts,
                     const char *kind, const char *actor, const char *body, int64_t link,
                     struct cxm_err *err)
{
    struct store_case_event ev = {.seq = group_next_seq(g), .case_id = k->id, .ts = ts,
                                  .kind = kind, .actor = actor, .body = body,
                                  .link_seq = link};
    int rc = e->store->ops->put_case_event(e->store, &ev, err);
    if (rc)
        return rc;
    if (case_add_step(k, &ev))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    k->seq = ev.seq;
    k->updated = ts;
    return CXM_OK;
}

/* The interaction that puts case work on the customer's timeline. */
static int case_work(struct engine *e, struct group *g, const struct kase *k, int64_t ts,
                     const char *what, const char *actor, struct cxm_err *err)
{
    uint32_t v;
    const char *agent = actor && strmap_get(e->m->emp_map, actor, strlen(actor), &v)
                        ? actor : k->assignee;
    struct event ev = {.type = EV_INTERACTION, .ts = ts, .channel = "cxm", .kind = "case",
                       .touchpoint = k->reason, .outcome = what, .agent = agent,
                       .duration = -1, .value = NAN};
    return engine_plan_record(e, g, &ev, (uint32_t)k->customer, err);
}

static int64_t due_after(const struct loop *l, int64_t start, int64_t secs, bool biz)
{
    if (!secs)
        return 0;
    return bizcal_add(biz && l->has_cal ? &l->cal : NULL, start, secs);
}

static json_t *case_event_data(const struct engine *e, const struct kase *k, const char *what)
{
    json_t *d = case_json(e, k, false);
    if (d && what)
        json_object_set_new(d, "change", json_string(what));
    return d;
}

static int emit_case(struct engine *e, enum evt t, const struct kase *k, const char *what,
                     int64_t ts, struct cxm_err *err)
{
    if (!outbox_wants(e, t))
        return CXM_OK;
    json_t *d = case_event_data(e, k, what);
    if (!d)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return outbox_emit(e, t, (uint32_t)k->customer, ts, d, err);
}

/* The open case of this reason in the profile of node cust; NULL. */
static struct kase *open_case_of(struct engine *e, uint32_t cust, const char *reason)
{
    struct loop *l = e->loop;
    uint32_t *nodes = NULL;
    size_t nn = 0, cap = 0;
    struct kase *found = NULL;
    if (model_profile_nodes(e->m, model_root(e->m, cust), &nodes, &nn, &cap)) {
        nodes = NULL;
        nn = 0;
    }
    uint32_t one = cust;
    const uint32_t *v = nn ? nodes : &one;
    size_t n = nn ? nn : 1;
    for (size_t i = 0; i < n && !found; i++)
        for (uint32_t c = v[i] < l->headcap ? l->head[v[i]] : 0; c && !found;
             c = l->cases[c - 1].next)
            if (case_open(&l->cases[c - 1]) && strcmp(l->cases[c - 1].reason, reason) == 0)
                found = &l->cases[c - 1];
    free(nodes);
    return found;
}

struct new_case {
    uint32_t customer;
    int64_t ts, source;
    const char *reason, *rule, *priority, *team, *assignee, *subject, *actor;
    int64_t response, resolution;
    bool biz;
};

static int case_open_new(struct engine *e, struct group *g, const struct new_case *n,
                         struct kase **out, struct cxm_err *err)
{
    struct loop *l = e->loop;
    struct store_case c = {.id = (int64_t)l->ncases + 1, .customer = n->customer,
                           .source_seq = n->source, .opened_ts = n->ts, .updated_ts = n->ts,
                           .response_due = due_after(l, n->ts, n->response, n->biz),
                           .resolve_due = due_after(l, n->ts, n->resolution, n->biz),
                           .reason = n->reason, .rule = n->rule, .priority = n->priority,
                           .status = "open", .team = n->team, .assignee = n->assignee,
                           .subject = n->subject};
    struct kase *k;
    int rc = case_add(l, &c, &k);
    if (rc)
        return cxm_err_set(err, rc, "out of memory");
    case_count(e->m, k, false);
    group_touch(g, n->customer);
    char body[160];
    snprintf(body, sizeof body, "%s%s", n->rule ? "rule " : "by hand", n->rule ? n->rule : "");
    if ((rc = case_step(e, g, k, n->ts, "opened", n->actor, body, n->source, err)) ||
        (rc = case_put(e, k, err)) ||
        (rc = case_work(e, g, k, n->ts, "opened", n->actor, err)) ||
        (rc = emit_case(e, EVT_CASE_OPENED, k, "opened", n->ts, err)))
        return rc;
    *out = k;
    return CXM_OK;
}

/* ---- signals ---------------------------------------------------------------- */

static void put_time(json_t *o, const char *key, int64_t t);

static const char *route_team(struct sig *s, const struct alert_rule *r)
{
    for (size_t k = 0; k < r->nroutes; k++)
        if (filter_eval_sets(r->routes[k].when, get_cb, has_cb, s))
            return r->routes[k].team;
    return r->team;
}

static json_t *signal_json(const struct sig *s, int64_t seq, const struct alert_rule *r)
{
    json_t *d = json_object();
    if (!d)
        return NULL;
    char ts[TIMEFMT_LEN];
    timefmt_format(s->f ? s->f->ts : s->i->ts, ts);
    json_object_set_new(d, "rule", json_string(r->id));
    json_object_set_new(d, "reason", json_string(r->reason));
    json_object_set_new(d, "customer", json_integer(s->root));
    json_object_set_new(d, "source", json_string(s->f ? "feedback" : "interaction"));
    json_object_set_new(d, "seq", json_integer(seq));
    json_object_set_new(d, "ts", json_string(ts));
    if (s->f) {
        json_object_set_new(d, "kind", json_string(event_fkind_name(s->f->kind)));
        if (!isnan(s->f->score))
            json_object_set_new(d, "score", json_real(s->f->score));
    }
    return d;
}

static int rule_fire(struct engine *e, struct group *g, struct sig *s,
                     const struct alert_rule *r, int64_t seq, uint32_t cust, int64_t ts,
                     struct cxm_err *err)
{
    int rc = CXM_OK;
    struct kase *k = NULL;
    if (r->open_case) {
        k = open_case_of(e, cust, r->reason);
        if (k) {
            char body[96];
            snprintf(body, sizeof body, "signal by rule %s", r->id);
            if ((rc = case_step(e, g, k, ts, "linked", NULL, body, seq, err)) ||
                (rc = case_put(e, k, err)) ||
                (rc = emit_case(e, EVT_CASE_UPDATED, k, "linked", ts, err)))
                return rc;
        } else {
            int p = find_name(priorities, 4, r->priority);
            bool defaults = !r->response && !r->resolution;
            struct new_case n = {
                .customer = cust, .ts = ts, .source = seq, .reason = r->reason,
                .rule = r->id, .priority = r->priority, .team = route_team(s, r),
                .assignee = r->assignee, .subject = r->name, .actor = NULL,
                .response = defaults ? e->loop->def_response[p] : r->response,
                .resolution = defaults ? e->loop->def_resolution[p] : r->resolution,
                .biz = defaults ? e->loop->has_cal : r->business_hours};
            if ((rc = case_open_new(e, g, &n, &k, err)))
                return rc;
        }
    }
    if (r->emit && outbox_wants(e, EVT_ALERT_TRIGGERED)) {
        json_t *d = signal_json(s, seq, r);
        if (!d)
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        if (k)
            json_object_set_new(d, "case", json_integer(k->id));
        rc = outbox_emit(e, EVT_ALERT_TRIGGERED, cust, ts, d, err);
    }
    return rc;
}

static void put_code(json_t *o, const struct model *m, const char *key, int d, uint32_t c)
{
    if (c)
        json_object_set_new(o, key, json_string(dict_str(m->dict[d], c)));
}

/* The data of feedback.created, interaction.created and order.created. */
static json_t *record_json(const struct engine *e, int type, const void *row, uint32_t cust,
                           const char *text)
{
    const struct model *m = e->m;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "customer", json_integer(model_root(m, cust)));
    if (type == EV_FEEDBACK) {
        const struct store_feedback *f = row;
        json_object_set_new(o, "seq", json_integer(f->seq));
        put_time(o, "ts", f->ts);
        json_object_set_new(o, "kind", json_string(event_fkind_name(f->kind)));
        json_object_set_new(o, "score", isnan(f->score) ? json_null() : json_real(f->score));
        put_code(o, m, "survey", DICT_SURVEY, f->survey);
        put_code(o, m, "channel", DICT_CHANNEL, f->channel);
        put_code(o, m, "touchpoint", DICT_TOUCHPOINT, f->touchpoint);
        put_code(o, m, "stage", DICT_STAGE, f->stage);
        put_code(o, m, "agent", DICT_AGENT, f->agent);
        if (f->sc)
            json_object_set_new(o, "sentiment", json_real(f->sc->sentiment));
    } else if (type == EV_INTERACTION) {
        const struct store_interaction *i = row;
        json_object_set_new(o, "seq", json_integer(i->seq));
        put_time(o, "ts", i->ts);
        put_code(o, m, "type", DICT_ITYPE, i->kind);
        put_code(o, m, "channel", DICT_CHANNEL, i->channel);
        put_code(o, m, "touchpoint", DICT_TOUCHPOINT, i->touchpoint);
        put_code(o, m, "stage", DICT_STAGE, i->stage);
        put_code(o, m, "agent", DICT_AGENT, i->agent);
        put_code(o, m, "outcome", DICT_OUTCOME, i->outcome);
    } else {
        const struct store_order *r = row;
        json_object_set_new(o, "seq", json_integer(r->seq));
        put_time(o, "ts", r->ts);
        json_object_set_new(o, "order_id", json_string(r->order_id ? r->order_id : ""));
        json_object_set_new(o, "amount", json_real(r->amount));
        put_code(o, m, "currency", DICT_CURRENCY, r->currency);
        put_code(o, m, "channel", DICT_CHANNEL, r->channel);
    }
    if (text)
        json_object_set_new(o, type == EV_FEEDBACK ? "comment" : "text", json_string(text));
    return o;
}

int loop_record(struct engine *e, struct group *g, int type, const void *row, uint32_t cust,
                const char *text, struct cxm_err *err)
{
    struct loop *l = e->loop;
    const struct store_interaction *ri = type == EV_INTERACTION ? row : NULL;
    const struct store_feedback *rf = type == EV_FEEDBACK ? row : NULL;
    if (ri && ri->channel && strcmp(dict_str(e->m->dict[DICT_CHANNEL], ri->channel),
                                    "cxm") == 0)
        return CXM_OK;           /* case work itself */
    enum evt t = rf ? EVT_FEEDBACK_CREATED : ri ? EVT_INTERACTION_CREATED : EVT_ORDER_CREATED;
    int rc;
    if (outbox_wants(e, t)) {
        json_t *d = record_json(e, type, row, cust, text);
        int64_t ts = rf ? rf->ts : ri ? ri->ts : ((const struct store_order *)row)->ts;
        if (!d)
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        if ((rc = outbox_emit(e, t, cust, ts, d, err)))
            return rc;
    }
    int64_t now = engine_now(e);
    if ((rc = survey_record(e, type, row, cust, err)))
        return rc;
    if (!l->nrules || (!ri && !rf) || (rf ? rf->ts : ri->ts) < now - l->max_age)
        return CXM_OK;           /* history being imported opens no cases */
    int64_t seq = rf ? rf->seq : ri->seq;
    rc = CXM_OK;
    if (l->bound_dicts != dict_sizes(e) || l->bound_tax != e->tax_gen)
        rules_bind(e);
    struct sig s = {.e = e, .i = ri, .f = rf, .root = model_root(e->m, cust)};
    feat_eval_init(&s.x, e->m, now);
    /* the customer has waited since the signal (never from the future) */
    int64_t ts = rf ? rf->ts : ri->ts;
    if (ts > now)
        ts = now;
    for (size_t i = 0; !rc && i < l->nrules; i++) {
        const struct alert_rule *r = &l->rules[i];
        if (r->enabled && filter_eval_sets(r->when, get_cb, has_cb, &s))
            rc = rule_fire(e, g, &s, r, seq, cust, ts, err);
    }
    feat_eval_free(&s.x);
    return rc;
}

/* ---- changes to cases ---------------------------------------------------- */

/* Whether a case may move from status a to b. */
static bool move_ok(int a, int b)
{
    static const bool ok[4][4] = {
        /* to:       open   progress resolved closed */
        [ST_OPEN] = {false, true, true, true},
        [ST_PROGRESS] = {true, false, true, true},
        [ST_RESOLVED] = {true, true, false, true},
        [ST_CLOSED] = {true, true, false, false},
    };
    return a >= 0 && b >= 0 && ok[a][b];
}

static int check_text(const char *s, const char *field, size_t max, struct cxm_err *err)
{
    if (s && (strlen(s) > max || (max == MAX_NAME && !name_ok(s))))
        return cxm_err_field(err, CXM_EINVAL, -1, field, max == MAX_NAME ?
                             "must be 1-%zu letters, digits, '_', '-' or '.'" :
                             "is longer than %zu bytes", max);
    return CXM_OK;
}

static int check_change(struct engine *e, const struct case_change *c, struct kase *k,
                        struct cxm_err *err)
{
    int rc;
    if ((rc = check_text(c->reason, "reason", MAX_NAME, err)) ||
        (rc = check_text(c->team, "team", MAX_NAME, err)) ||
        (rc = check_text(c->assignee, "assignee", MAX_NAME, err)) ||
        (rc = check_text(c->actor, "actor", MAX_NAME, err)) ||
        (rc = check_text(c->subject, "subject", MAX_TEXT, err)) ||
        (rc = check_text(c->note, "note", MAX_TEXT, err)) ||
        (rc = check_text(c->resolution, "resolution", MAX_TEXT, err)))
        return rc;
    if (c->priority && find_name(priorities, 4, c->priority) < 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "priority",
                             "must be low, normal, high or urgent");
    int to = c->status ? find_name(statuses, 4, c->status) : -1;
    if (c->status && to < 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "status",
                             "must be open, in_progress, resolved or closed");
    if (c->link < 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "link", "must be a record's seq");
    if (!k) {
        if (!c->customer || c->customer > e->m->ncust)
            return cxm_err_field(err, c->customer ? CXM_ENOTFOUND : CXM_EINVAL, -1,
                                 "customer", c->customer ? "no customer %u" :
                                 "is required", c->customer);
        if (!c->reason)
            return cxm_err_field(err, CXM_EINVAL, -1, "reason", "is required");
        if (c->status && to != ST_OPEN)
            return cxm_err_field(err, CXM_EINVAL, -1, "status", "a new case is open");
        return CXM_OK;
    }
    if (c->customer || c->reason || c->subject)
        return cxm_err_field(err, CXM_EINVAL, -1, c->customer ? "customer" :
                             c->reason ? "reason" : "subject",
                             "cannot change once the case is open");
    if (c->status && to != status_of(k) && !move_ok(status_of(k), to))
        return cxm_err_field(err, CXM_ECONFLICT, -1, "status",
                             "a %s case cannot become %s", k->status, c->status);
    if ((c->tell_customer || c->follow_up) && (to != ST_RESOLVED ||
                                               status_of(k) == ST_RESOLVED))
        return cxm_err_field(err, CXM_EINVAL, -1, c->tell_customer ? "tell_customer" :
                             "follow_up", "goes with a change to status \"resolved\"");
    return CXM_OK;
}

const char *loop_customer_email(const struct engine *e, uint32_t cust)
{
    const struct model *m = e->m;
    uint32_t *nodes = NULL;
    size_t nn = 0, cap = 0;
    const char *best = NULL;
    int64_t seq = -1;
    if (model_profile_nodes(m, model_root(m, cust), &nodes, &nn, &cap))
        return NULL;
    for (size_t k = 0; k < nn; k++)
        for (uint32_t i = m->cust[nodes[k]].ident_head; i; i = m->ident[i].next) {
            const char *key = m->ident[i].key;   /* "kind\0value\0" */
            if (strcmp(key, "email") == 0 && m->ident[i].seq > seq) {
                best = key + sizeof "email";
                seq = m->ident[i].seq;
            }
        }
    free(nodes);
    return best;
}

/* The profile's latest name (lang false) or language (lang true) over its
 * nodes: the node whose attributes changed last and has one; NULL. */
const char *loop_profile_attr(const struct engine *e, uint32_t cust, bool lang)
{
    const struct model *m = e->m;
    uint32_t *nodes = NULL;
    size_t nn = 0, cap = 0;
    if (model_profile_nodes(m, model_root(m, cust), &nodes, &nn, &cap))
        return NULL;
    const char *best = NULL;
    int64_t at = -1;
    for (size_t k = 0; k < nn; k++) {
        const struct attrs *a = &m->cust[nodes[k]].a;
        const char *v = lang ? model_str(m, CD_LANGUAGE, a->language) : a->name;
        int64_t when = a->updated_seq ? a->updated_seq : m->cust[nodes[k]].seq;
        if (v && *v && when > at) {
            best = v;
            at = when;
        }
    }
    free(nodes);
    return best;
}

struct msg_ctx {
    const struct engine *e;
    const struct kase *k;
    char id[24];
    char first[128];
};

static const char *msg_lookup(void *ctx, const char *name, size_t len)
{
    struct msg_ctx *x = ctx;
    const char *full = loop_profile_attr(x->e, (uint32_t)x->k->customer, false);
#define IS(s) (len == sizeof(s) - 1 && memcmp(name, s, len) == 0)
    if (IS("case_id"))
        return x->id;
    if (IS("reason"))
        return x->k->reason;
    if (IS("subject"))
        return x->k->subject;
    if (IS("resolution"))
        return x->k->resolution;
    if (IS("name"))
        return full;
    if (IS("first_name")) {
        if (!full)
            return NULL;
        size_t n = strcspn(full, " ");
        snprintf(x->first, sizeof x->first, "%.*s", (int)n, full);
        return x->first;
    }
#undef IS
    return NULL;
}

static const char dflt_subject[] = "About your feedback: what we did";
static const char dflt_text[] =
    "Hello {first_name|there},\n\n"
    "You told us about {reason} and we looked into it (case {case_id}).\n\n"
    "What we did: {resolution|we resolved the issue you raised}.\n\n"
    "Thank you for telling us: it helps us do better.\n";

/* "You said, we did": an e-mail to the customer, through the policy. */
static int tell_customer(struct engine *e, struct group *g, struct kase *k, int64_t ts,
                         const char *actor, struct cxm_err *err)
{
    const char *to = loop_customer_email(e, (uint32_t)k->customer);
    const char *why = !e->loop->smtp_url ? "no SMTP server is set (PUT /v1/settings/email)"
                      : !to ? "the customer has no e-mail address" : NULL;
    if (why)
        return case_step(e, g, k, ts, "message_skipped", actor, why, 0, err);
    struct msg_ctx x = {.e = e, .k = k};
    snprintf(x.id, sizeof x.id, "%lld", (long long)k->id);
    struct buf subj, text;
    buf_init(&subj, 4096);
    buf_init(&text, TPL_MAX_OUT);
    int rc = tpl_render(e->loop->msg_subject ? e->loop->msg_subject : dflt_subject, TPL_TEXT,
                        msg_lookup, &x, &subj);
    if (!rc)
        rc = tpl_render(e->loop->msg_text ? e->loop->msg_text : dflt_text, TPL_TEXT,
                        msg_lookup, &x, &text);
    if (!rc && (!subj.p || !text.p))
        rc = CXM_EINVAL;         /* an empty message */
    if (rc) {
        /* the case's change stands; the message is noted as not sent */
        char note[96];
        snprintf(note, sizeof note, "the message did not render: %s", cxm_rc_str(rc));
        rc = rc == CXM_ENOMEM ? cxm_err_set(err, rc, "out of memory")
                              : case_step(e, g, k, ts, "message_skipped", actor, note, 0, err);
    } else {
        rc = outbox_email(e, (uint32_t)k->customer, ts, to, subj.p, text.p, err);
        if (!rc)
            rc = case_step(e, g, k, ts, "message_sent", actor, subj.p, 0, err);
    }
    buf_free(&subj);
    buf_free(&text);
    return rc;
}

/* A follow-up CSAT survey: asked for when the contact policy allows it. */
static int follow_up(struct engine *e, struct group *g, struct kase *k, int64_t ts,
                     const char *actor, struct cxm_err *err)
{
    struct contact_req cr = {.customer = (uint32_t)k->customer, .kind = CK_SURVEY,
                             .channel = "email", .ts = ts};
    struct engine_work w = {.op = ENGINE_CONTACT, .contact = &cr, .n = 1};
    uint32_t *touched = NULL;
    size_t nt = 0, tcap = 0;
    int rc = nba_apply_contacts(e, &w, group_seq(g), &touched, &nt, &tcap, err);
    free(touched);
    if (rc)
        return rc;
    if (w.rc)
        return case_step(e, g, k, ts, "follow_up_skipped", actor, w.err.msg, 0, err);
    if (outbox_wants(e, EVT_SURVEY_REQUESTED)) {
        json_t *d = json_pack("{s:s, s:I, s:I, s:s}", "kind", "csat", "customer",
                              (json_int_t)model_root(e->m, (uint32_t)k->customer), "case",
                              (json_int_t)k->id, "reason", k->reason);
        if (!d || (rc = outbox_emit(e, EVT_SURVEY_REQUESTED, (uint32_t)k->customer, ts, d,
                                    err)))
            return rc ? rc : cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    return case_step(e, g, k, ts, "follow_up_requested", actor, "csat", 0, err);
}

static int change_status(struct engine *e, struct group *g, struct kase *k,
                         const struct case_change *c, int64_t ts, enum evt *t,
                         struct cxm_err *err)
{
    int from = status_of(k), to = find_name(statuses, 4, c->status);
    if (to == from)
        return CXM_OK;
    bool reopen = from >= ST_RESOLVED && to <= ST_PROGRESS, was_open = case_open(k);
    int rc = set_str(&k->status, c->status);
    if (rc)
        return cxm_err_set(err, rc, "out of memory");
    case_count(e->m, k, was_open);
    group_touch(g, (uint32_t)k->customer);
    if (reopen) {
        k->reopened++;
        /* the resolution clock starts again, as long as the first time */
        if (k->resolve_due)
            k->resolve_due = ts + (k->resolve_due - k->opened);
        k->breached &= ~2;
        k->resolved = k->closed = 0;
        *t = EVT_CASE_REOPENED;
    } else if (to == ST_RESOLVED) {
        k->resolved = ts;
        *t = EVT_CASE_RESOLVED;
        if ((rc = survey_case_resolved(e, (uint32_t)k->customer, k->id, k->reopened, k->reason,
                                       ts, err)))
            return rc;
    } else if (to == ST_CLOSED) {
        k->closed = ts;
        if (!k->resolved)
            k->resolved = ts;
        *t = EVT_CASE_CLOSED;
    }
    if (to != ST_OPEN && !k->responded)
        k->responded = ts;
    const char *what = reopen ? "reopened" : c->status;
    if ((rc = case_step(e, g, k, ts, "status", c->actor, what, 0, err)) ||
        (rc = case_work(e, g, k, ts, what, c->actor, err)))
        return rc;
    if (to == ST_RESOLVED && c->tell_customer &&
        (rc = tell_customer(e, g, k, ts, c->actor, err)))
        return rc;
    if (to == ST_RESOLVED && c->follow_up && (rc = follow_up(e, g, k, ts, c->actor, err)))
        return rc;
    return CXM_OK;
}

/* Adds a change's name to the comma-separated list of them. */
static void add_change(char *buf, size_t cap, const char *what)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", n ? "," : "", what);
}

static int change_case(struct engine *e, struct group *g, struct kase *k,
                       const struct case_change *c, int64_t ts, struct cxm_err *err)
{
    enum evt t = EVT_CASE_UPDATED;
    int rc = CXM_OK;
    char what[128] = "";
    if (c->priority && strcmp(c->priority, k->priority) != 0) {
        if ((rc = set_str(&k->priority, c->priority)) ||
            (rc = case_step(e, g, k, ts, "priority", c->actor, c->priority, 0, err)))
            return rc == CXM_ENOMEM ? cxm_err_set(err, rc, "out of memory") : rc;
        add_change(what, sizeof what, "priority");
    }
    if (c->team && (!k->team || strcmp(c->team, k->team) != 0)) {
        if ((rc = set_str(&k->team, c->team)) ||
            (rc = case_step(e, g, k, ts, "team", c->actor, c->team, 0, err)))
            return rc == CXM_ENOMEM ? cxm_err_set(err, rc, "out of memory") : rc;
        add_change(what, sizeof what, "team");
    }
    if (c->assignee && (!k->assignee || strcmp(c->assignee, k->assignee) != 0)) {
        if ((rc = set_str(&k->assignee, c->assignee)) ||
            (rc = case_step(e, g, k, ts, "assigned", c->actor, c->assignee, 0, err)) ||
            (rc = case_work(e, g, k, ts, "assigned", c->actor, err)))
            return rc == CXM_ENOMEM ? cxm_err_set(err, rc, "out of memory") : rc;
        add_change(what, sizeof what, "assigned");
    }
    if (c->link) {
        if ((rc = case_step(e, g, k, ts, "linked", c->actor, NULL, c->link, err)))
            return rc;
        add_change(what, sizeof what, "linked");
    }
    if (c->resolution && (rc = set_str(&k->resolution, c->resolution)))
        return cxm_err_set(err, rc, "out of memory");
    if (c->note) {
        if (!k->responded)
            k->responded = ts;
        if ((rc = case_step(e, g, k, ts, "note", c->actor, c->note, 0, err)) ||
            (rc = case_work(e, g, k, ts, "note", c->actor, err)))
            return rc;
        add_change(what, sizeof what, "note");
    }
    if (c->status && strcmp(c->status, k->status) != 0) {
        bool reopen = status_of(k) >= ST_RESOLVED &&
                      find_name(statuses, 4, c->status) <= ST_PROGRESS;
        if ((rc = change_status(e, g, k, c, ts, &t, err)))
            return rc;
        add_change(what, sizeof what, reopen ? "reopened" : c->status);
    }
    if ((rc = case_put(e, k, err)))
        return rc;
    return *what ? emit_case(e, t, k, what, ts, err) : CXM_OK;
}

static int apply_case(struct engine *e, struct group *g, struct loop_req *r,
                      struct cxm_err *err)
{
    const struct case_change *c = r->cc;
    struct loop *l = e->loop;
    struct kase *k = NULL;
    if (c->id && !(k = case_get(l, c->id)))
        return cxm_err_set(err, CXM_ENOTFOUND, "no case %lld", (long long)c->id);
    int rc = check_change(e, c, k, err);
    if (rc)
        return rc;
    int64_t ts = c->ts ? c->ts : engine_now(e);
    if (!k) {
        int p = find_name(priorities, 4, c->priority ? c->priority : "normal");
        struct new_case n = {.customer = c->customer, .ts = ts, .reason = c->reason,
                             .priority = priorities[p], .team = c->team,
                             .assignee = c->assignee, .subject = c->subject,
                             .actor = c->actor, .response = l->def_response[p],
                             .resolution = l->def_resolution[p], .biz = l->has_cal};
        if ((rc = case_open_new(e, g, &n, &k, err)))
            return rc;
        struct case_change rest = {.id = k->id, .actor = c->actor, .note = c->note,
                                   .link = c->link, .ts = ts};
        if ((c->note || c->link) && (rc = change_case(e, g, k, &rest, ts, err)))
            return rc;
    } else if ((rc = change_case(e, g, k, c, ts, err))) {
        return rc;
    }
    if (!(r->out = case_json(e, k, true)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return CXM_OK;
}

/* ---- SLA ------------------------------------------------------------------ */

/* Which of the case's SLA clocks (bit 0 first response, bit 1 resolution)
 * are breached as of now and not yet recorded. */
static int new_breaches(const struct kase *k, int64_t now)
{
    int bits = 0;
    int64_t done[2] = {k->responded, k->resolved ? k->resolved : k->closed};
    int64_t due[2] = {k->response_due, k->resolve_due};
    for (int i = 0; i < 2; i++)
        if (due[i] && !(k->breached >> i & 1) &&
            (done[i] ? done[i] > due[i] : now > due[i]))
            bits |= 1 << i;
    return bits;
}

static int apply_sla(struct engine *e, struct group *g, struct cxm_err *err)
{
    struct loop *l = e->loop;
    int64_t now = engine_now(e);
    int rc = CXM_OK;
    for (size_t i = 0; !rc && i < l->ncases; i++) {
        struct kase *k = &l->cases[i];
        int bits = new_breaches(k, now);
        if (!bits)
            continue;
        k->breached |= bits;
        const char *what = bits == 3 ? "first_response,resolution"
                           : bits == 1 ? "first_response" : "resolution";
        if ((rc = case_step(e, g, k, now, "sla_breached", NULL, what, 0, err)) ||
            (rc = case_put(e, k, err)) ||
            (rc = emit_case(e, EVT_CASE_SLA_BREACHED, k, what, now, err)))
            break;
    }
    return rc;
}

int64_t engine_sla_next(struct engine *e)
{
    pthread_rwlock_rdlock(&e->lock);
    struct loop *l = e->loop;
    int64_t next = 0, now = engine_now(e);
    for (size_t i = 0; l && i < l->ncases; i++) {
        const struct kase *k = &l->cases[i];
        int64_t done[2] = {k->responded, k->resolved ? k->resolved : k->closed};
        int64_t due[2] = {k->response_due, k->resolve_due};
        for (int b = 0; b < 2; b++) {
            if (!due[b] || (k->breached >> b & 1) || (done[b] && done[b] <= due[b]))
                continue;
            int64_t at = done[b] ? now : due[b] + 1;
            if (!next || at < next)
                next = at;
        }
    }
    pthread_rwlock_unlock(&e->lock);
    return next;
}

/* ---- JSON ----------------------------------------------------------------- */

static void put_time(json_t *o, const char *key, int64_t t)
{
    char b[TIMEFMT_LEN];
    if (!t) {
        json_object_set_new(o, key, json_null());
        return;
    }
    timefmt_format(t, b);
    json_object_set_new(o, key, json_string(b));
}

static void put_str(json_t *o, const char *key, const char *s)
{
    json_object_set_new(o, key, s ? json_string(s) : json_null());
}

static json_t *sla_json(int64_t start, int64_t due, int64_t done, int64_t now)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    put_time(o, "due", due);
    put_time(o, "at", done);
    json_object_set_new(o, "state", json_string(sla_state_name(sla_state(start, due, done,
                                                                          now))));
    if (due && !done)
        json_object_set_new(o, "seconds_left", json_integer(due - now));
    return o;
}

json_t *case_json(const struct engine *e, const struct kase *k, bool full)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int64_t now = engine_now(e);
    int64_t resolved = k->resolved ? k->resolved : k->closed;
    json_object_set_new(o, "id", json_integer(k->id));
    json_object_set_new(o, "customer", json_integer(model_root(e->m, (uint32_t)k->customer)));
    put_str(o, "reason", k->reason);
    put_str(o, "rule", k->rule);
    put_str(o, "subject", k->subject);
    put_str(o, "priority", k->priority);
    put_str(o, "status", k->status);
    put_str(o, "team", k->team);
    put_str(o, "assignee", k->assignee);
    put_time(o, "opened", k->opened);
    put_time(o, "updated", k->updated);
    json_object_set_new(o, "first_response", sla_json(k->opened, k->response_due,
                                                      k->responded, now));
    json_object_set_new(o, "resolution", sla_json(k->opened, k->resolve_due, resolved, now));
    json_object_set_new(o, "breached", json_boolean(new_breaches(k, now) || k->breached));
    json_object_set_new(o, "reopened", json_integer(k->reopened));
    put_str(o, "resolution_text", k->resolution);
    json_object_set_new(o, "source_seq", k->source_seq ? json_integer(k->source_seq)
                                                       : json_null());
    json_t *links = json_array();
    for (size_t i = 0; links && i < k->nh; i++)
        if (k->h[i].link)
            json_array_append_new(links, json_integer(k->h[i].link));
    json_object_set_new(o, "links", links ? links : json_null());
    if (!full)
        return o;
    json_t *h = json_array();
    for (size_t i = 0; h && i < k->nh; i++) {
        const struct case_step *s = &k->h[i];
        json_t *x = json_object();
        if (!x)
            break;
        json_object_set_new(x, "seq", json_integer(s->seq));
        put_time(x, "ts", s->ts);
        put_str(x, "kind", s->kind);
        put_str(x, "actor", s->actor);
        put_str(x, "body", s->body);
        if (s->link)
            json_object_set_new(x, "link", json_integer(s->link));
        json_array_append_new(h, x);
    }
    json_object_set_new(o, "history", h ? h : json_null());
    return o;
}

void loop_stats(struct engine *e, struct engine_stats *st)
{
    struct loop *l = e->loop;
    for (size_t i = 0; i < l->ncases; i++)
        st->cases_open += case_open(&l->cases[i]);
    pthread_mutex_lock(&l->omu);
    st->deliveries_pending = l->nq;
    st->deliveries_ok = l->n_ok;
    st->deliveries_retried = l->n_retried;
    st->deliveries_failed = l->n_failed;
    pthread_mutex_unlock(&l->omu);
}

/* ---- load ----------------------------------------------------------------- */

struct scan_ctx {
    struct loop *l;
    struct model *m;
};

static int scan_case(void *ctx, const struct store_case *c)
{
    struct scan_ctx *x = ctx;
    struct kase *k;
    int rc = case_add(x->l, c, &k);
    if (!rc)
        case_count(x->m, k, false);
    return rc;
}

static int scan_case_event(void *ctx, const struct store_case_event *ev)
{
    struct scan_ctx *x = ctx;
    struct kase *k = case_get(x->l, ev->case_id);
    return k ? case_add_step(k, ev) : CXM_OK;
}

static void cases_free(struct loop *l)
{
    for (size_t i = 0; i < l->ncases; i++)
        case_free(&l->cases[i]);
    free(l->cases);
    free(l->head);
    l->cases = NULL;
    l->head = NULL;
    l->ncases = l->casecap = l->headcap = 0;
}

static int load(struct engine *e, struct cxm_err *err)
{
    struct loop *l = e->loop;
    char *doc = NULL;
    int rc = e->store->ops->get_config(e->store, "alert_rules", &doc, err);
    if (!rc && doc) {
        struct rules_doc d;
        if ((rc = parse_doc(doc, strlen(doc), &d, err)))
            log_msg(LOG_ERROR, "the stored alert rules do not load: %s", err->msg);
        else
            doc_swap(l, &d);
        doc_free(&d);
    }
    free(doc);
    if (rc)
        return rc;
    struct scan_ctx x = {.l = l, .m = e->m};
    struct store_scan cb = {.ctx = &x, .kase = scan_case, .case_event = scan_case_event};
    if ((rc = e->store->ops->scan(e->store, &cb, err)))
        return rc;
    rules_bind(e);
    if ((rc = outbox_load(e, err)))
        return rc;
    return survey_load(e, err);
}

static void unload(struct engine *e)
{
    struct loop *l = e->loop;
    struct rules_doc d = {0};
    doc_swap(l, &d);
    doc_free(&d);
    cases_free(l);
    outbox_unload(e);
    survey_unload(e);
}

int loop_open(struct engine *e, struct cxm_err *err)
{
    struct loop *l = cxm_calloc(1, sizeof *l);
    if (!l)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    e->loop = l;
    int rc = outbox_open(e, err);
    if (!rc)
        rc = load(e, err);
    if (rc)
        loop_close(e);
    return rc;
}

void loop_close(struct engine *e)
{
    if (!e->loop)
        return;
    unload(e);
    survey_close(e);
    outbox_close(e);
    free(e->loop);
    e->loop = NULL;
}

int loop_reload(struct engine *e, struct cxm_err *err)
{
    unload(e);
    return load(e, err);
}

/* ---- writer work ----------------------------------------------------------- */

static int apply_rules(struct engine *e, struct group *g, struct loop_req *r,
                       struct cxm_err *err)
{
    struct rules_doc d;
    int rc = parse_doc(r->json, r->len, &d, err);
    if (!rc)
        rc = e->store->ops->put_config(e->store, "alert_rules", d.doc, group_next_seq(g), err);
    if (!rc) {
        doc_swap(e->loop, &d);
        rules_bind(e);
        json_error_t je;
        if (!(r->out = json_loads(e->loop->doc, 0, &je)))
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    doc_free(&d);
    return rc;
}

int loop_apply(struct engine *e, struct group *g, struct engine_work *w, struct cxm_err *err)
{
    struct loop_req *r = w->loop;
    struct cxm_err mine;
    cxm_err_clear(&mine);
    int rc;
    switch (r->op) {
    case LOOP_RULES: rc = apply_rules(e, g, r, &mine); break;
    case LOOP_CASE: rc = apply_case(e, g, r, &mine); break;
    case LOOP_SLA: rc = apply_sla(e, g, &mine); break;
    case LOOP_SURVEY: rc = survey_apply(e, g, r, &mine); break;
    default: rc = outbox_apply(e, g, r, &mine); break;
    }
    /* bad input is the request's own failure; the rest fails the group */
    if (rc == CXM_EINVAL || rc == CXM_ENOTFOUND || rc == CXM_ECONFLICT ||
        rc == CXM_ETOOBIG) {
        w->rc = rc;
        w->err = mine;
        return CXM_OK;
    }
    if (rc)
        *err = mine;
    return rc;
}

/* ---- reads ----------------------------------------------------------------- */

int engine_alert_rules(struct engine *e, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    const char *doc = e->loop->doc;
    json_error_t je;
    *out = doc ? json_loads(doc, 0, &je) : json_pack("{s:[]}", "rules");
    pthread_rwlock_unlock(&e->lock);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

int loop_run(struct engine *e, struct loop_req *r, json_t **out, struct cxm_err *err)
{
    struct engine_work w = {.op = ENGINE_LOOP, .loop = r};
    int rc = engine_run(e, &w);
    if (rc || w.rc) {
        json_decref(r->out);
        if (err)
            *err = w.err;
        return rc ? rc : w.rc;
    }
    if (out)
        *out = r->out;
    else
        json_decref(r->out);
    return CXM_OK;
}

int engine_set_alert_rules(struct engine *e, const char *json, size_t len,
                           struct cxm_err *err)
{
    struct loop_req r = {.op = LOOP_RULES, .json = json, .len = len};
    return loop_run(e, &r, NULL, err);
}

int engine_case_change(struct engine *e, const struct case_change *c, json_t **out,
                       struct cxm_err *err)
{
    struct loop_req r = {.op = LOOP_CASE, .cc = c};
    return loop_run(e, &r, out, err);
}

int engine_sla_check(struct engine *e, struct cxm_err *err)
{
    struct loop_req r = {.op = LOOP_SLA};
    return loop_run(e, &r, NULL, err);
}

int engine_case(struct engine *e, int64_t id, json_t **out, struct cxm_err *err)
{
    pthread_rwlock_rdlock(&e->lock);
    const struct kase *k = case_get(e->loop, id);
    *out = k ? case_json(e, k, true) : NULL;
    pthread_rwlock_unlock(&e->lock);
    if (!k)
        return cxm_err_set(err, CXM_ENOTFOUND, "no case %lld", (long long)id);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

struct order_ctx {
    const struct loop *l;
    int sort;                    /* 0 urgency, 1 newest, 2 oldest */
};

/* The due time that matters next: the first response until it is made,
 * then the resolution; 0 when none is pending. */
static int64_t next_due(const struct kase *k)
{
    if (!case_open(k))
        return 0;
    if (k->response_due && !k->responded)
        return k->response_due;
    return k->resolve_due;
}

static int cmp_urgency(const void *a, const void *b, void *ctx)
{
    const struct order_ctx *o = ctx;
    const struct kase *x = &o->l->cases[*(const uint32_t *)a];
    const struct kase *y = &o->l->cases[*(const uint32_t *)b];
    if (o->sort == 1)
        return x->id < y->id ? 1 : -1;
    if (o->sort == 2)
        return x->id < y->id ? -1 : 1;
    int64_t dx = next_due(x), dy = next_due(y);
    if (dx != dy)
        return !dx ? 1 : !dy ? -1 : dx < dy ? -1 : 1;
    int px = find_name(priorities, 4, x->priority), py = find_name(priorities, 4, y->priority);
    if (px != py)
        return px > py ? -1 : 1;
    return x->id < y->id ? -1 : 1;
}

static bool case_matches(const struct engine *e, const struct kase *k,
                         const struct case_query *q, uint32_t root)
{
    const char *st = q->status ? q->status : "open";
    if (strcmp(st, "open") == 0 ? !case_open(k) : strcmp(st, "all") != 0 &&
        strcmp(st, k->status) != 0)
        return false;
    if ((q->team && (!k->team || strcmp(q->team, k->team))) ||
        (q->assignee && (!k->assignee || strcmp(q->assignee, k->assignee))) ||
        (q->reason && strcmp(q->reason, k->reason)) ||
        (q->priority && strcmp(q->priority, k->priority)))
        return false;
    if (root && model_root(e->m, (uint32_t)k->customer) != root)
        return false;
    return !q->breached || k->breached || new_breaches(k, engine_now(e));
}

int engine_cases(struct engine *e, const struct case_query *q, json_t **out,
                 struct cxm_err *err)
{
    const char *st = q->status;
    if (st && strcmp(st, "open") && strcmp(st, "all") && find_name(statuses, 4, st) < 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "status", "must be open, all, in_progress,"
                             " resolved or closed");
    int sort = !q->sort || strcmp(q->sort, "urgency") == 0 ? 0
               : strcmp(q->sort, "newest") == 0 ? 1 : strcmp(q->sort, "oldest") == 0 ? 2 : -1;
    if (sort < 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "sort", "must be urgency, newest or oldest");
    if (q->priority && find_name(priorities, 4, q->priority) < 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "priority",
                             "must be low, normal, high or urgent");
    pthread_rwlock_rdlock(&e->lock);
    const struct loop *l = e->loop;
    if (q->customer > e->m->ncust) {
        pthread_rwlock_unlock(&e->lock);
        return cxm_err_field(err, CXM_ENOTFOUND, -1, "customer", "no customer %u", q->customer);
    }
    uint32_t root = q->customer ? model_root(e->m, q->customer) : 0;
    uint32_t *idx = l->ncases ? cxm_malloc(l->ncases * sizeof *idx) : NULL;
    size_t n = 0;
    int rc = l->ncases && !idx ? CXM_ENOMEM : CXM_OK;
    for (size_t i = 0; !rc && i < l->ncases; i++)
        if (case_matches(e, &l->cases[i], q, root))
            idx[n++] = (uint32_t)i;
    struct order_ctx oc = {.l = l, .sort = sort};
    if (n > 1)
        qsort_r(idx, n, sizeof *idx, cmp_urgency, &oc);
    size_t limit = q->limit ? q->limit : 50;
    json_t *arr = rc ? NULL : json_array();
    for (size_t i = q->offset; arr && i < n && i < q->offset + limit; i++)
        json_array_append_new(arr, case_json(e, &l->cases[idx[i]], false));
    pthread_rwlock_unlock(&e->lock);
    free(idx);
    if (!arr)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    size_t next = q->offset + limit;
    *out = json_pack("{s:o, s:I, s:o}", "cases", arr, "total", (json_int_t)n, "next_offset",
                     next < n ? json_integer((json_int_t)next) : json_null());
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}
