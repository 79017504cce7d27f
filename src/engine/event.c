/* event.c - strict decoding: unknown fields, wrong types and out-of-range
 * values are errors naming the record and field, so a typo never turns
 * into silently missing data. */
#include "engine/event.h"

#include <math.h>
#include <string.h>

#include "core/identity.h"
#include "core/idset.h"
#include "core/timefmt.h"
#include "core/utf8.h"
#include "cxm_limits.h"

/* Unix seconds accepted for ts: 1970 .. 2100. */
#define TS_MAX 4102444800LL

static const char *const type_names[] = {
    [EV_CUSTOMER] = "customer", [EV_IDENTIFY] = "identify",
    [EV_INTERACTION] = "interaction", [EV_FEEDBACK] = "feedback",
    [EV_ORDER] = "order", [EV_EMPLOYEE] = "employee"};

static const char *const fkind_names[] = {
    [FB_NPS] = "nps", [FB_CSAT] = "csat", [FB_CES] = "ces",
    [FB_ENPS] = "enps", [FB_RATING] = "rating", [FB_TEXT] = "text"};

/* Field names by enum evfield. */
static const char *const field_names[EVF_COUNT] = {
    [EVF_TYPE] = "type", [EVF_EVENT_ID] = "event_id", [EVF_TS] = "ts",
    [EVF_CUSTOMER_ID] = "customer_id", [EVF_EMAIL] = "email",
    [EVF_PHONE] = "phone", [EVF_DEVICE] = "device", [EVF_COOKIE] = "cookie",
    [EVF_CRM] = "crm", [EVF_LOYALTY] = "loyalty",
    [EVF_IDENTITIES] = "identities", [EVF_COUNTRY] = "country",
    [EVF_NAME] = "name", [EVF_BIRTH_YEAR] = "birth_year",
    [EVF_GENDER] = "gender", [EVF_CITY] = "city", [EVF_LANGUAGE] = "language",
    [EVF_CONSENT] = "consent", [EVF_ATTRIBUTES] = "attributes",
    [EVF_CHANNEL] = "channel", [EVF_TOUCHPOINT] = "touchpoint",
    [EVF_STAGE] = "stage", [EVF_KIND] = "kind", [EVF_AGENT_ID] = "agent_id",
    [EVF_DURATION] = "duration", [EVF_OUTCOME] = "outcome",
    [EVF_VALUE] = "value", [EVF_TEXT] = "text", [EVF_SURVEY] = "survey",
    [EVF_SCORE] = "score", [EVF_COMMENT] = "comment",
    [EVF_ORDER_ID] = "order_id", [EVF_AMOUNT] = "amount",
    [EVF_CURRENCY] = "currency", [EVF_ITEMS] = "items",
    [EVF_EMPLOYEE_ID] = "employee_id", [EVF_TEAM] = "team", [EVF_ROLE] = "role",
    [EVF_SKU] = "sku", [EVF_CATEGORY] = "category", [EVF_QTY] = "qty",
    [EVF_PRICE] = "price"};

#define BIT(f) (UINT64_C(1) << (f))

/* Identity kinds that may appear as top-level fields. */
static const enum evfield id_fields[] = {EVF_EMAIL, EVF_PHONE, EVF_DEVICE,
                                         EVF_COOKIE, EVF_CRM, EVF_LOYALTY};

/* Fields each type allows besides the common ones. */
static const uint64_t common_fields =
    BIT(EVF_TYPE) | BIT(EVF_EVENT_ID) | BIT(EVF_TS) | BIT(EVF_CUSTOMER_ID) |
    BIT(EVF_EMAIL) | BIT(EVF_PHONE) | BIT(EVF_DEVICE) | BIT(EVF_COOKIE) |
    BIT(EVF_CRM) | BIT(EVF_LOYALTY) | BIT(EVF_IDENTITIES) | BIT(EVF_COUNTRY);
static const uint64_t type_fields[] = {
    [EV_CUSTOMER] = BIT(EVF_NAME) | BIT(EVF_BIRTH_YEAR) | BIT(EVF_GENDER) |
                    BIT(EVF_CITY) | BIT(EVF_LANGUAGE) | BIT(EVF_CONSENT) |
                    BIT(EVF_ATTRIBUTES),
    [EV_IDENTIFY] = 0,
    [EV_INTERACTION] = BIT(EVF_CHANNEL) | BIT(EVF_TOUCHPOINT) | BIT(EVF_STAGE) |
                       BIT(EVF_KIND) | BIT(EVF_AGENT_ID) | BIT(EVF_DURATION) |
                       BIT(EVF_OUTCOME) | BIT(EVF_VALUE) | BIT(EVF_TEXT),
    [EV_FEEDBACK] = BIT(EVF_SURVEY) | BIT(EVF_KIND) | BIT(EVF_SCORE) |
                    BIT(EVF_COMMENT) | BIT(EVF_CHANNEL) | BIT(EVF_TOUCHPOINT) |
                    BIT(EVF_STAGE) | BIT(EVF_AGENT_ID),
    [EV_ORDER] = BIT(EVF_ORDER_ID) | BIT(EVF_AMOUNT) | BIT(EVF_CURRENCY) |
                 BIT(EVF_CHANNEL) | BIT(EVF_ITEMS),
    [EV_EMPLOYEE] = BIT(EVF_EMPLOYEE_ID) | BIT(EVF_NAME) | BIT(EVF_TEAM) |
                    BIT(EVF_ROLE)};

const char *event_type_name(enum event_type t)
{
    return t >= EV_CUSTOMER && t <= EV_EMPLOYEE ? type_names[t] : "?";
}

const char *event_fkind_name(int k)
{
    return k >= FB_NPS && k <= FB_TEXT ? fkind_names[k] : "?";
}

int event_fkind_parse(const char *s)
{
    for (int k = FB_NPS; k <= FB_TEXT; k++)
        if (strcmp(s, fkind_names[k]) == 0)
            return k;
    return 0;
}

static int json_depth(const json_t *v)
{
    int max = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            int dd = json_depth(x);
            max = dd > max ? dd : max;
            if (max > CXM_MAX_JSON_DEPTH)
                break;
        }
        return max + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach((json_t *)v, i, x) {
            int dd = json_depth(x);
            max = dd > max ? dd : max;
            if (max > CXM_MAX_JSON_DEPTH)
                break;
        }
        return max + 1;
    }
    return 0;
}

static const char *article(enum event_type t)
{
    return t == EV_INTERACTION || t == EV_IDENTIFY || t == EV_ORDER ||
           t == EV_EMPLOYEE ? "an" : "a";
}

/* ---- the field index ----------------------------------------------------- */

int evfield_lookup(const char *k, size_t n)
{
    /* Names by length: a record is decoded field by field, so finding a
     * key must cost a few compares, not a scan of every name. */
    static const unsigned char by_len[12][8] = {
        [2] = {EVF_TS + 1},
        [3] = {EVF_CRM + 1, EVF_SKU + 1, EVF_QTY + 1},
        [4] = {EVF_TYPE + 1, EVF_NAME + 1, EVF_CITY + 1, EVF_KIND + 1,
               EVF_TEXT + 1, EVF_TEAM + 1, EVF_ROLE + 1},
        [5] = {EVF_EMAIL + 1, EVF_PHONE + 1, EVF_STAGE + 1, EVF_VALUE + 1,
               EVF_SCORE + 1, EVF_ITEMS + 1, EVF_PRICE + 1},
        [6] = {EVF_DEVICE + 1, EVF_COOKIE + 1, EVF_GENDER + 1, EVF_SURVEY + 1,
               EVF_AMOUNT + 1},
        [7] = {EVF_LOYALTY + 1, EVF_COUNTRY + 1, EVF_CONSENT + 1,
               EVF_CHANNEL + 1, EVF_OUTCOME + 1, EVF_COMMENT + 1},
        [8] = {EVF_EVENT_ID + 1, EVF_LANGUAGE + 1, EVF_AGENT_ID + 1,
               EVF_DURATION + 1, EVF_ORDER_ID + 1, EVF_CURRENCY + 1,
               EVF_CATEGORY + 1},
        [10] = {EVF_BIRTH_YEAR + 1, EVF_TOUCHPOINT + 1, EVF_ATTRIBUTES + 1,
                EVF_IDENTITIES + 1},
        [11] = {EVF_CUSTOMER_ID + 1, EVF_EMPLOYEE_ID + 1},
    };
    if (n >= sizeof by_len / sizeof by_len[0])
        return -1;
    for (size_t i = 0; i < sizeof by_len[0] && by_len[n][i]; i++) {
        int f = by_len[n][i] - 1;
        if (field_names[f][0] == k[0] && memcmp(field_names[f], k, n) == 0)
            return f;
    }
    return -1;
}

const char *evfield_name(enum evfield f)
{
    return f < EVF_COUNT ? field_names[f] : "?";
}

void evrec_from_json(json_t *obj, struct evrec *rec)
{
    rec->has = 0;
    rec->norder = rec->unknown_at = 0;
    rec->unknown = NULL;
    const char *k;
    json_t *x;
    json_object_foreach(obj, k, x) {
        int f = evfield_lookup(k, strlen(k));
        if (f < 0) {
            if (!rec->unknown) {
                rec->unknown = k;
                rec->unknown_at = rec->norder;
            }
            continue;
        }
        struct evval *v = &rec->v[f];
        memset(v, 0, sizeof *v);
        switch (json_typeof(x)) {
        case JSON_NULL: v->kind = EVK_NULL; break;
        case JSON_TRUE: v->kind = EVK_TRUE; break;
        case JSON_FALSE: v->kind = EVK_FALSE; break;
        case JSON_INTEGER: v->kind = EVK_INTEGER; v->i = json_integer_value(x); break;
        case JSON_REAL: v->kind = EVK_REAL; v->d = json_real_value(x); break;
        case JSON_STRING:
            v->kind = EVK_STRING;
            v->str = json_string_value(x);
            v->len = json_string_length(x);
            break;
        case JSON_OBJECT: v->kind = EVK_OBJECT; v->json = x; break;
        case JSON_ARRAY: v->kind = EVK_ARRAY; v->json = x; break;
        }
        rec->has |= BIT(f);
        rec->order[rec->norder++] = (unsigned char)f;
    }
}

void evrec_release(struct evrec *rec)
{
    for (size_t i = 0; i < rec->norder; i++) {
        struct evval *v = &rec->v[rec->order[i]];
        if (v->owned) {
            json_decref(v->json);
            v->json = NULL;
            v->owned = false;
        }
    }
}

/* ---- decoding a view ------------------------------------------------------ */

struct dec {
    struct evrec *rec;
    long index;
    struct arena *a;
    struct cxm_err *err;
    bool copy;          /* strings of rec die with it: copy them into a */
};

#define BAD(d, field, ...) cxm_err_field((d)->err, CXM_EINVAL, (d)->index, field, __VA_ARGS__)

/* The value of field f, NULL when absent. */
static struct evval *val(const struct dec *d, enum evfield f)
{
    return d->rec->has & BIT(f) ? &d->rec->v[f] : NULL;
}

static bool null_or_absent(const struct evval *v)
{
    return !v || v->kind == EVK_NULL;
}

/* The object or array f as a json_t, loading a raw span on first use. */
static int val_json(struct dec *d, enum evfield f, json_t **out)
{
    struct evval *v = &d->rec->v[f];
    if (!v->json) {
        /* The scanner checked the syntax but not duplicate keys: jansson
         * has the last word on whether the body is valid JSON. */
        v->json = json_loadb(v->str, v->len, JSON_REJECT_DUPLICATES, NULL);
        if (!v->json)
            return EVENT_EBADSPAN;
        v->owned = true;
    }
    *out = v->json;
    return CXM_OK;
}

/* A string field: absent -> *out NULL. maxlen bytes; names (multiline
 * false) may not hold control characters. */
static int get_str(struct dec *d, enum evfield f, size_t maxlen, bool multiline,
                   const char **out)
{
    const char *field = field_names[f];
    *out = NULL;
    const struct evval *v = val(d, f);
    if (null_or_absent(v))
        return CXM_OK;
    if (v->kind != EVK_STRING)
        return BAD(d, field, "%s must be a string", field);
    const char *s = v->str;
    size_t n = v->len;
    if (n > maxlen)
        return cxm_err_field(d->err, CXM_EINVAL, d->index, field,
                             "%s is %zu bytes, the limit is %zu", field, n, maxlen);
    if (strlen(s) != n)
        return BAD(d, field, "%s contains a NUL character", field);
    if (!utf8_valid(s, n))
        return BAD(d, field, "%s is not valid UTF-8", field);
    if (!multiline && utf8_has_control(s, n))
        return BAD(d, field, "%s contains control characters", field);
    if (!multiline && strpbrk(s, "\t\r\n"))
        return BAD(d, field, "%s contains tabs or line breaks", field);
    if (d->copy && !(s = arena_strndup(d->a, s, n)))
        return cxm_err_set(d->err, CXM_ENOMEM, "out of memory");
    *out = s;
    return CXM_OK;
}

/* A name-like string that must be non-empty when present. */
static int get_name(struct dec *d, enum evfield f, const char **out)
{
    int rc = get_str(d, f, CXM_MAX_NAME, false, out);
    if (!rc && *out && !**out)
        return BAD(d, field_names[f], "%s is empty", field_names[f]);
    return rc;
}

static int get_num(struct dec *d, enum evfield f, double lo, double hi,
                   double *out, bool *present)
{
    const char *field = field_names[f];
    *present = false;
    const struct evval *v = val(d, f);
    if (null_or_absent(v))
        return CXM_OK;
    double x;
    if (v->kind == EVK_INTEGER)
        x = (double)v->i;      /* as json_number_value */
    else if (v->kind == EVK_REAL)
        x = v->d;
    else
        return BAD(d, field, "%s must be a number", field);
    if (!isfinite(x) || x < lo || x > hi)
        return BAD(d, field, "%s %g is out of range [%g, %g]", field, x, lo, hi);
    *out = x;
    *present = true;
    return CXM_OK;
}

static int get_int(struct dec *d, enum evfield f, int64_t lo, int64_t hi,
                   int64_t *out, bool *present)
{
    const char *field = field_names[f];
    *present = false;
    const struct evval *v = val(d, f);
    if (null_or_absent(v))
        return CXM_OK;
    int64_t x;
    if (v->kind == EVK_INTEGER) {
        x = v->i;
    } else if (v->kind == EVK_REAL && v->d == floor(v->d) && fabs(v->d) < 9e15) {
        x = (int64_t)v->d;
    } else {
        return BAD(d, field, "%s must be an integer", field);
    }
    if (x < lo || x > hi)
        return BAD(d, field, "%s %lld is out of range [%lld, %lld]", field,
                   (long long)x, (long long)lo, (long long)hi);
    *out = x;
    *present = true;
    return CXM_OK;
}

static int get_ts(struct dec *d, int64_t now, int64_t *out)
{
    const struct evval *v = val(d, EVF_TS);
    if (null_or_absent(v)) {
        *out = now;
        return CXM_OK;
    }
    if (v->kind == EVK_STRING) {
        struct cxm_err e;
        cxm_err_clear(&e);
        if (timefmt_parse(v->str, out, &e))
            return BAD(d, "ts", "ts: %s", e.msg);
        if (*out < 0 || *out > TS_MAX)
            return BAD(d, "ts", "ts is outside 1970..2100");
        return CXM_OK;
    }
    bool present;
    int rc = get_int(d, EVF_TS, 0, TS_MAX, out, &present);
    if (!rc && !present)
        return BAD(d, "ts", "ts must be unix seconds or an ISO 8601 string");
    return rc;
}

static int add_ident(struct dec *d, struct event *ev, const char *kind,
                     const char *field, const char *value, const char *country)
{
    if (ev->nids >= CXM_MAX_IDENTITIES)
        return cxm_err_field(d->err, CXM_EINVAL, d->index, field,
                             "more than %d identities in one record",
                             CXM_MAX_IDENTITIES);
    char buf[CXM_MAX_IDENTITY + 1];
    struct cxm_err e;
    cxm_err_clear(&e);
    int rc = identity_normalize(kind, value, country, buf, sizeof buf, &e);
    if (rc)   /* a field's own fault, whatever its kind: 400 */
        return cxm_err_field(d->err, CXM_EINVAL, d->index, field, "%s: %s", field,
                             e.msg);
    /* The same identity named twice adds nothing. */
    for (size_t i = 0; i < ev->nids; i++)
        if (strcmp(ev->ids[i].kind, kind) == 0 && strcmp(ev->ids[i].value, buf) == 0)
            return CXM_OK;
    struct event_ident *id = &ev->ids[ev->nids];
    if (!(id->value = arena_strndup(d->a, buf, strlen(buf))) ||
        !(id->kind = arena_strndup(d->a, kind, strlen(kind))))
        return cxm_err_set(d->err, CXM_ENOMEM, "out of memory");
    id->hash = identity_hash(id->kind, id->value);
    ev->nids++;
    return CXM_OK;
}

static int decode_identities(struct dec *d, struct event *ev, const char *country)
{
    ev->ids = arena_alloc(d->a, CXM_MAX_IDENTITIES * sizeof *ev->ids);
    if (!ev->ids)
        return cxm_err_set(d->err, CXM_ENOMEM, "out of memory");
    int rc;
    for (size_t i = 0; i < sizeof id_fields / sizeof id_fields[0]; i++) {
        const char *v;
        const char *name = field_names[id_fields[i]];
        if ((rc = get_str(d, id_fields[i], CXM_MAX_IDENTITY, false, &v)))
            return rc;
        if (v && (rc = add_ident(d, ev, name, name, v, country)))
            return rc;
    }
    const struct evval *iv = val(d, EVF_IDENTITIES);
    if (null_or_absent(iv))
        return CXM_OK;
    if (iv->kind != EVK_OBJECT)
        return BAD(d, "identities", "identities must be an object of kind: value");
    json_t *obj;
    if ((rc = val_json(d, EVF_IDENTITIES, &obj)))
        return rc;
    const char *kind;
    json_t *v;
    json_object_foreach(obj, kind, v) {
        char field[64];
        snprintf(field, sizeof field, "identities.%.40s", kind);
        if (!identity_kind_valid(kind))
            return BAD(d, field, "unknown identity kind '%.40s' (email, phone,"
                       " device, cookie, crm, loyalty or social:<network>)", kind);
        if (!json_is_string(v))
            return BAD(d, field, "%s must be a string", field);
        if (json_string_length(v) > CXM_MAX_IDENTITY)
            return cxm_err_field(d->err, CXM_EINVAL, d->index, field,
                                 "%s is longer than %d bytes", field, CXM_MAX_IDENTITY);
        if ((rc = add_ident(d, ev, kind, field, json_string_value(v), country)))
            return rc;
    }
    return CXM_OK;
}

static int get_consent(struct dec *d, struct event *ev)
{
    ev->consent_m = ev->consent_s = ev->consent_p = -1;
    const struct evval *cv = val(d, EVF_CONSENT);
    if (null_or_absent(cv))
        return CXM_OK;
    if (cv->kind != EVK_OBJECT)
        return BAD(d, "consent", "consent must be an object with marketing,"
                   " surveys, personalisation");
    json_t *c;
    int rc = val_json(d, EVF_CONSENT, &c);
    if (rc)
        return rc;
    static const struct { const char *name; unsigned flag; } f[] = {
        {"marketing", CF_CONSENT_M}, {"surveys", CF_CONSENT_S},
        {"personalisation", CF_CONSENT_P}};
    int *dst[] = {&ev->consent_m, &ev->consent_s, &ev->consent_p};
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        size_t i = 0;
        while (i < 3 && strcmp(f[i].name, key) != 0)
            i++;
        char field[64];
        snprintf(field, sizeof field, "consent.%.40s", key);
        if (i == 3)
            return BAD(d, field, "unknown consent '%.40s' (marketing, surveys,"
                       " personalisation)", key);
        if (json_is_null(v))
            *dst[i] = -1;
        else if (json_is_boolean(v))
            *dst[i] = json_is_true(v);
        else
            return BAD(d, field, "%s must be true, false or null", field);
        ev->set |= f[i].flag;
    }
    return CXM_OK;
}

static int decode_customer(struct dec *d, struct event *ev)
{
    int rc;
    const char *s;
    static const struct { enum evfield field; unsigned flag; size_t max; size_t off; } strs[] = {
        {EVF_NAME, CF_NAME, 256, offsetof(struct event, name)},
        {EVF_GENDER, CF_GENDER, 32, offsetof(struct event, gender)},
        {EVF_CITY, CF_CITY, CXM_MAX_NAME, offsetof(struct event, city)},
        {EVF_LANGUAGE, CF_LANGUAGE, 16, offsetof(struct event, language)},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if ((rc = get_str(d, strs[i].field, strs[i].max, false, &s)))
            return rc;
        if (val(d, strs[i].field))
            ev->set |= strs[i].flag;
        memcpy((char *)ev + strs[i].off, &s, sizeof s);
    }
    if (ev->country || val(d, EVF_COUNTRY))
        ev->set |= CF_COUNTRY;
    int64_t by;
    bool present;
    if ((rc = get_int(d, EVF_BIRTH_YEAR, 1900, 2100, &by, &present)))
        return rc;
    if (val(d, EVF_BIRTH_YEAR))
        ev->set |= CF_BIRTH_YEAR;
    ev->birth_year = present ? (int)by : 0;
    if ((rc = get_consent(d, ev)))
        return rc;
    const struct evval *av = val(d, EVF_ATTRIBUTES);
    if (!null_or_absent(av)) {
        if (av->kind != EVK_OBJECT)
            return BAD(d, "attributes", "attributes must be an object");
        json_t *attrs;
        if ((rc = val_json(d, EVF_ATTRIBUTES, &attrs)))
            return rc;
        /* record > attributes > values: the record itself is level 1 */
        if (json_depth(attrs) > CXM_MAX_JSON_DEPTH - 1)
            return BAD(d, "attributes", "attributes nest deeper than %d levels",
                       CXM_MAX_JSON_DEPTH - 1);
        char *txt = json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS);
        if (!txt)
            return cxm_err_set(d->err, CXM_ENOMEM, "out of memory");
        size_t n = strlen(txt);
        if (n > CXM_MAX_ATTRS) {
            free(txt);
            return cxm_err_field(d->err, CXM_EINVAL, d->index, "attributes",
                                 "attributes are %zu bytes, the limit is %u", n,
                                 CXM_MAX_ATTRS);
        }
        ev->attributes = arena_strndup(d->a, txt, n);
        free(txt);
        if (!ev->attributes)
            return cxm_err_set(d->err, CXM_ENOMEM, "out of memory");
    }
    if (av)
        ev->set |= CF_ATTRS;
    return CXM_OK;
}

static int decode_dims(struct dec *d, struct event *ev)
{
    int rc = get_name(d, EVF_CHANNEL, &ev->channel);
    if (!rc) rc = get_name(d, EVF_TOUCHPOINT, &ev->touchpoint);
    if (!rc) rc = get_name(d, EVF_STAGE, &ev->stage);
    if (!rc) rc = get_name(d, EVF_AGENT_ID, &ev->agent);
    return rc;
}

static int decode_interaction(struct dec *d, struct event *ev)
{
    int rc = decode_dims(d, ev);
    if (!rc && !ev->channel)
        return BAD(d, "channel", "channel is required for an interaction");
    if (!rc) rc = get_name(d, EVF_KIND, &ev->kind);
    if (!rc) rc = get_name(d, EVF_OUTCOME, &ev->outcome);
    if (!rc) rc = get_str(d, EVF_TEXT, CXM_MAX_TEXT, true, &ev->text);
    bool present;
    if (!rc) rc = get_int(d, EVF_DURATION, 0, 366LL * 86400, &ev->duration, &present);
    if (!rc && !present)
        ev->duration = -1;
    if (!rc) rc = get_num(d, EVF_VALUE, -1e12, 1e12, &ev->value, &present);
    if (!rc && !present)
        ev->value = NAN;
    return rc;
}

static int decode_feedback(struct dec *d, struct event *ev)
{
    int rc = decode_dims(d, ev);
    if (!rc) rc = get_name(d, EVF_SURVEY, &ev->survey);
    if (!rc) rc = get_str(d, EVF_COMMENT, CXM_MAX_TEXT, true, &ev->text);
    const char *kind;
    if (!rc) rc = get_name(d, EVF_KIND, &kind);
    if (rc)
        return rc;
    if (!kind)
        return BAD(d, "kind", "kind is required: nps, csat, ces, enps, rating or text");
    if (!(ev->fkind = event_fkind_parse(kind)))
        return BAD(d, "kind", "unknown feedback kind '%.40s' (nps, csat, ces,"
                   " enps, rating, text)", kind);
    static const int64_t lo[] = {[FB_NPS] = 0, [FB_CSAT] = 1, [FB_CES] = 1,
                                 [FB_ENPS] = 0};
    static const int64_t hi[] = {[FB_NPS] = 10, [FB_CSAT] = 5, [FB_CES] = 7,
                                 [FB_ENPS] = 10};
    bool present;
    ev->score = NAN;
    if (ev->fkind == FB_TEXT) {
        if (!null_or_absent(val(d, EVF_SCORE)))
            return BAD(d, "score", "text feedback has no score");
        if (!ev->text || !*ev->text)
            return BAD(d, "comment", "text feedback needs a comment");
        return CXM_OK;
    }
    if (ev->fkind == FB_RATING) {
        rc = get_num(d, EVF_SCORE, 0, 10, &ev->score, &present);
    } else {
        int64_t s;
        rc = get_int(d, EVF_SCORE, lo[ev->fkind], hi[ev->fkind], &s, &present);
        if (!rc && present)
            ev->score = (double)s;
        if (rc)   /* say the scale, not just the range */
            return BAD(d, "score", "%s score must be an integer %lld-%lld",
                       kind, (long long)lo[ev->fkind], (long long)hi[ev->fkind]);
    }
    if (!rc && !present)
        return BAD(d, "score", "score is required for %s feedback", kind);
    return rc;
}

static int decode_items(struct dec *d, struct event *ev, double *sum)
{
    json_t *items;
    int rc = val_json(d, EVF_ITEMS, &items);
    if (rc)
        return rc;
    size_t n = json_array_size(items);
    if (n > CXM_MAX_ITEMS)
        return cxm_err_field(d->err, CXM_EINVAL, d->index, "items",
                             "%zu items, the limit is %d", n, CXM_MAX_ITEMS);
    ev->items = arena_alloc(d->a, n * sizeof *ev->items);
    if (!ev->items)
        return cxm_err_set(d->err, CXM_ENOMEM, "out of memory");
    struct evrec item;
    /* Item strings are borrowed from items: copy them when it was loaded
     * here from a raw span and dies with the view. */
    struct dec sub = *d;
    sub.rec = &item;
    sub.copy = d->rec->v[EVF_ITEMS].owned;
    for (size_t i = 0; i < n; i++) {
        json_t *it_json = json_array_get(items, i);
        char field[48];
        snprintf(field, sizeof field, "items[%zu]", i);
        if (!json_is_object(it_json))
            return BAD(d, field, "%s must be an object with sku, category,"
                       " qty, price", field);
        const char *key;
        json_t *v;
        json_object_foreach(it_json, key, v) {
            if (strcmp(key, "sku") && strcmp(key, "category") &&
                strcmp(key, "qty") && strcmp(key, "price"))
                return BAD(d, field, "%s: unknown field '%.40s'", field, key);
        }
        evrec_from_json(it_json, &item);
        struct event_item *it = &ev->items[i];
        bool present;
        /* Name the item in the field of any error below. */
        if ((rc = get_name(&sub, EVF_SKU, &it->sku)) ||
            (rc = get_name(&sub, EVF_CATEGORY, &it->category)) ||
            (rc = get_num(&sub, EVF_QTY, 0, 1e9, &it->qty, &present))) {
            char inner[24];
            cxm_strlcpy(inner, d->err ? d->err->field : "", sizeof inner);
            if (d->err)
                snprintf(d->err->field, sizeof d->err->field, "%.24s.%.24s",
                         field, inner);
            return rc;
        }
        if (!present)
            it->qty = 1;
        if ((rc = get_num(&sub, EVF_PRICE, 0, 1e12, &it->price, &present))) {
            if (d->err)
                snprintf(d->err->field, sizeof d->err->field, "%.40s.price", field);
            return rc;
        }
        if (!it->sku)
            return BAD(d, field, "%s.sku is required", field);
        if (!it->qty)
            return BAD(d, field, "%s.qty must be more than 0", field);
        *sum += it->qty * it->price;
    }
    ev->nitems = n;
    return CXM_OK;
}

static int decode_order(struct dec *d, struct event *ev)
{
    int rc = get_str(d, EVF_ORDER_ID, CXM_MAX_EVENT_ID, false, &ev->order_id);
    if (!rc && (!ev->order_id || !*ev->order_id))
        return BAD(d, "order_id", "order_id is required for an order");
    if (!rc) rc = get_name(d, EVF_CHANNEL, &ev->channel);
    if (!rc) rc = get_name(d, EVF_TOUCHPOINT, &ev->touchpoint);
    if (!rc) rc = get_str(d, EVF_CURRENCY, 3, false, &ev->currency);
    if (rc)
        return rc;
    if (ev->currency && (strlen(ev->currency) != 3 ||
                         strspn(ev->currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3))
        return BAD(d, "currency", "currency must be an ISO 4217 code like EUR");
    bool have_amount;
    if ((rc = get_num(d, EVF_AMOUNT, 0, 1e12, &ev->amount, &have_amount)))
        return rc;
    const struct evval *iv = val(d, EVF_ITEMS);
    double sum = 0;
    if (!null_or_absent(iv)) {
        if (iv->kind != EVK_ARRAY)
            return BAD(d, "items", "items must be an array");
        if ((rc = decode_items(d, ev, &sum)))
            return rc;
    }
    if (!have_amount) {
        if (!ev->nitems)
            return BAD(d, "amount", "an order needs an amount or items");
        ev->amount = sum;
    }
    return CXM_OK;
}

static int decode_employee(struct dec *d, struct event *ev)
{
    int rc = get_name(d, EVF_EMPLOYEE_ID, &ev->employee_id);
    if (!rc && !ev->employee_id)
        return BAD(d, "employee_id", "employee_id is required");
    if (!rc) rc = get_str(d, EVF_NAME, 256, false, &ev->name);
    if (!rc) rc = get_name(d, EVF_TEAM, &ev->team);
    if (!rc) rc = get_name(d, EVF_ROLE, &ev->role);
    return rc;
}

/* The first key of the record, in record order, that its type does not
 * take; NULL when none. */
static const char *first_unknown(const struct evrec *rec, uint64_t allowed)
{
    for (size_t i = 0; i < rec->norder; i++) {
        if (rec->unknown && i == rec->unknown_at)
            return rec->unknown;
        if (!(allowed & BIT(rec->order[i])))
            return field_names[rec->order[i]];
    }
    return rec->unknown;
}

static void event_init(struct event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->duration = -1;
    ev->value = ev->score = NAN;
    ev->consent_m = ev->consent_s = ev->consent_p = -1;
}

int event_decode_rec(struct evrec *rec, long index, int64_t now, struct arena *a,
                     struct event *ev, struct cxm_err *err)
{
    struct dec d = {.rec = rec, .index = index, .a = a, .err = err};
    event_init(ev);
    const char *type;
    int rc = get_name(&d, EVF_TYPE, &type);
    if (rc)
        return rc;
    if (!type)
        return BAD(&d, "type", "type is required: customer, identify,"
                   " interaction, feedback, order or employee");
    for (int t = EV_CUSTOMER; t <= EV_EMPLOYEE; t++)
        if (strcmp(type, type_names[t]) == 0)
            ev->type = (enum event_type)t;
    if (!ev->type)
        return BAD(&d, "type", "unknown type '%.40s' (customer, identify,"
                   " interaction, feedback, order, employee)", type);
    const char *key = first_unknown(rec, common_fields | type_fields[ev->type]);
    if (key)
        return BAD(&d, key, "unknown field '%.40s' for %s %s record", key,
                   article(ev->type), type);
    if ((rc = get_str(&d, EVF_EVENT_ID, CXM_MAX_EVENT_ID, false, &ev->event_id)))
        return rc;
    if (ev->event_id && !*ev->event_id)
        return BAD(&d, "event_id", "event_id is empty");
    if ((rc = get_ts(&d, now, &ev->ts)))
        return rc;
    bool present;
    if ((rc = get_int(&d, EVF_CUSTOMER_ID, 1, UINT32_MAX - 1, &ev->customer_id, &present)))
        return rc;
    if ((rc = get_str(&d, EVF_COUNTRY, 2, false, &ev->country)))
        return rc;
    if (ev->country) {
        char *c = arena_strndup(a, ev->country, 2);
        if (!c)
            return cxm_err_set(err, CXM_ENOMEM, "out of memory");
        for (char *p = c; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        if (strlen(c) != 2 || strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 2)
            return BAD(&d, "country", "country must be an ISO 3166 alpha-2 code like GB");
        ev->country = c;
    }
    if (ev->type == EV_EMPLOYEE) {
        /* An employee is not a customer: identities would be ignored. */
        static const enum evfield no[] = {EVF_CUSTOMER_ID, EVF_EMAIL, EVF_PHONE,
                                          EVF_DEVICE, EVF_COOKIE, EVF_CRM,
                                          EVF_LOYALTY, EVF_IDENTITIES, EVF_COUNTRY};
        for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
            if (val(&d, no[i]))
                return BAD(&d, field_names[no[i]], "an employee record takes no %s",
                           field_names[no[i]]);
    } else if ((rc = decode_identities(&d, ev, ev->country))) {
        return rc;
    }
    switch (ev->type) {
    case EV_CUSTOMER: rc = decode_customer(&d, ev); break;
    case EV_IDENTIFY: rc = CXM_OK; break;
    case EV_INTERACTION: rc = decode_interaction(&d, ev); break;
    case EV_FEEDBACK: rc = decode_feedback(&d, ev); break;
    case EV_ORDER: rc = decode_order(&d, ev); break;
    case EV_EMPLOYEE: rc = decode_employee(&d, ev); break;
    }
    if (rc)
        return rc;
    if (ev->type == EV_IDENTIFY && ev->nids + (ev->customer_id != 0) < 2)
        return BAD(&d, "identities", "identify needs at least two identities"
                   " (or a customer_id and one identity) to link");
    if (ev->type != EV_EMPLOYEE && !ev->nids && !ev->customer_id)
        return BAD(&d, "customer_id", "%s %s record needs customer_id or an"
                   " identity (email, phone, device, cookie, crm, loyalty,"
                   " identities)", article(ev->type), type);
    const char *idem = ev->type == EV_ORDER ? ev->order_id : ev->event_id;
    if (idem)
        ev->idem_hash = idset_hash(idem, strlen(idem));
    return CXM_OK;
}

int event_decode(json_t *rec, long index, int64_t now, struct arena *a,
                 struct event *ev, struct cxm_err *err)
{
    if (!json_is_object(rec)) {
        event_init(ev);
        return cxm_err_field(err, CXM_EINVAL, index, "",
                             "record %ld is not a JSON object", index);
    }
    struct evrec view;
    evrec_from_json(rec, &view);
    /* Nothing in a view of a tree is owned: no evrec_release needed. */
    return event_decode_rec(&view, index, now, a, ev, err);
}
