/* event.c - strict decoding: unknown fields, wrong types and out-of-range
 * values are errors naming the record and field, so a typo never turns
 * into silently missing data. */
#include "engine/event.h"

#include <math.h>
#include <string.h>

#include "core/identity.h"
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

/* Identity kinds that may appear as top-level fields. */
static const char *const id_fields[] = {"email", "phone", "device", "cookie",
                                        "crm", "loyalty"};

/* Fields each type allows besides the common ones. */
static const char *const common_fields[] = {
    "type", "event_id", "ts", "customer_id", "email", "phone", "device",
    "cookie", "crm", "loyalty", "identities", "country", NULL};
static const char *const customer_fields[] = {
    "name", "birth_year", "gender", "city", "language", "consent",
    "attributes", NULL};
static const char *const identify_fields[] = {NULL};
static const char *const interaction_fields[] = {
    "channel", "touchpoint", "stage", "kind", "agent_id", "duration",
    "outcome", "value", "text", NULL};
static const char *const feedback_fields[] = {
    "survey", "kind", "score", "comment", "channel", "touchpoint", "stage",
    "agent_id", NULL};
static const char *const order_fields[] = {
    "order_id", "amount", "currency", "channel", "items", NULL};
static const char *const employee_fields[] = {"employee_id", "name", "team",
                                              "role", NULL};

static const char *const *const type_fields[] = {
    [EV_CUSTOMER] = customer_fields, [EV_IDENTIFY] = identify_fields,
    [EV_INTERACTION] = interaction_fields, [EV_FEEDBACK] = feedback_fields,
    [EV_ORDER] = order_fields, [EV_EMPLOYEE] = employee_fields};

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

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
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

struct dec {
    json_t *rec;
    long index;
    struct arena *a;
    struct cxm_err *err;
};

#define BAD(d, field, ...) cxm_err_field((d)->err, CXM_EINVAL, (d)->index, field, __VA_ARGS__)

/* A string field: absent -> *out NULL. maxlen bytes; names (multiline
 * false) may not hold control characters. */
static int get_str(struct dec *d, const char *field, size_t maxlen,
                   bool multiline, const char **out)
{
    *out = NULL;
    json_t *v = json_object_get(d->rec, field);
    if (!v || json_is_null(v))
        return CXM_OK;
    if (!json_is_string(v))
        return BAD(d, field, "%s must be a string", field);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
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
    *out = s;
    return CXM_OK;
}

/* A name-like string that must be non-empty when present. */
static int get_name(struct dec *d, const char *field, const char **out)
{
    int rc = get_str(d, field, CXM_MAX_NAME, false, out);
    if (!rc && *out && !**out)
        return BAD(d, field, "%s is empty", field);
    return rc;
}

static int get_num(struct dec *d, const char *field, double lo, double hi,
                   double *out, bool *present)
{
    *present = false;
    json_t *v = json_object_get(d->rec, field);
    if (!v || json_is_null(v))
        return CXM_OK;
    if (!json_is_number(v))
        return BAD(d, field, "%s must be a number", field);
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi)
        return BAD(d, field, "%s %g is out of range [%g, %g]", field, x, lo, hi);
    *out = x;
    *present = true;
    return CXM_OK;
}

static int get_int(struct dec *d, const char *field, int64_t lo, int64_t hi,
                   int64_t *out, bool *present)
{
    *present = false;
    json_t *v = json_object_get(d->rec, field);
    if (!v || json_is_null(v))
        return CXM_OK;
    json_int_t x;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
               fabs(json_real_value(v)) < 9e15) {
        x = (json_int_t)json_real_value(v);
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
    json_t *v = json_object_get(d->rec, "ts");
    if (!v || json_is_null(v)) {
        *out = now;
        return CXM_OK;
    }
    if (json_is_string(v)) {
        struct cxm_err e;
        cxm_err_clear(&e);
        if (timefmt_parse(json_string_value(v), out, &e))
            return BAD(d, "ts", "ts: %s", e.msg);
        if (*out < 0 || *out > TS_MAX)
            return BAD(d, "ts", "ts is outside 1970..2100");
        return CXM_OK;
    }
    bool present;
    int rc = get_int(d, "ts", 0, TS_MAX, out, &present);
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
        if ((rc = get_str(d, id_fields[i], CXM_MAX_IDENTITY, false, &v)))
            return rc;
        if (v && (rc = add_ident(d, ev, id_fields[i], id_fields[i], v, country)))
            return rc;
    }
    json_t *obj = json_object_get(d->rec, "identities");
    if (!obj || json_is_null(obj))
        return CXM_OK;
    if (!json_is_object(obj))
        return BAD(d, "identities", "identities must be an object of kind: value");
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
    json_t *c = json_object_get(d->rec, "consent");
    if (!c || json_is_null(c))
        return CXM_OK;
    if (!json_is_object(c))
        return BAD(d, "consent", "consent must be an object with marketing,"
                   " surveys, personalisation");
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
    static const struct { const char *field; unsigned flag; size_t max; size_t off; } strs[] = {
        {"name", CF_NAME, 256, offsetof(struct event, name)},
        {"gender", CF_GENDER, 32, offsetof(struct event, gender)},
        {"city", CF_CITY, CXM_MAX_NAME, offsetof(struct event, city)},
        {"language", CF_LANGUAGE, 16, offsetof(struct event, language)},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if ((rc = get_str(d, strs[i].field, strs[i].max, false, &s)))
            return rc;
        if (json_object_get(d->rec, strs[i].field))
            ev->set |= strs[i].flag;
        memcpy((char *)ev + strs[i].off, &s, sizeof s);
    }
    if (ev->country || json_object_get(d->rec, "country"))
        ev->set |= CF_COUNTRY;
    int64_t by;
    bool present;
    if ((rc = get_int(d, "birth_year", 1900, 2100, &by, &present)))
        return rc;
    if (json_object_get(d->rec, "birth_year"))
        ev->set |= CF_BIRTH_YEAR;
    ev->birth_year = present ? (int)by : 0;
    if ((rc = get_consent(d, ev)))
        return rc;
    json_t *attrs = json_object_get(d->rec, "attributes");
    if (attrs && !json_is_null(attrs)) {
        if (!json_is_object(attrs))
            return BAD(d, "attributes", "attributes must be an object");
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
    if (attrs)
        ev->set |= CF_ATTRS;
    return CXM_OK;
}

static int decode_dims(struct dec *d, struct event *ev)
{
    int rc = get_name(d, "channel", &ev->channel);
    if (!rc) rc = get_name(d, "touchpoint", &ev->touchpoint);
    if (!rc) rc = get_name(d, "stage", &ev->stage);
    if (!rc) rc = get_name(d, "agent_id", &ev->agent);
    return rc;
}

static int decode_interaction(struct dec *d, struct event *ev)
{
    int rc = decode_dims(d, ev);
    if (!rc && !ev->channel)
        return BAD(d, "channel", "channel is required for an interaction");
    if (!rc) rc = get_name(d, "kind", &ev->kind);
    if (!rc) rc = get_name(d, "outcome", &ev->outcome);
    if (!rc) rc = get_str(d, "text", CXM_MAX_TEXT, true, &ev->text);
    bool present;
    if (!rc) rc = get_int(d, "duration", 0, 366LL * 86400, &ev->duration, &present);
    if (!rc && !present)
        ev->duration = -1;
    if (!rc) rc = get_num(d, "value", -1e12, 1e12, &ev->value, &present);
    if (!rc && !present)
        ev->value = NAN;
    return rc;
}

static int decode_feedback(struct dec *d, struct event *ev)
{
    int rc = decode_dims(d, ev);
    if (!rc) rc = get_name(d, "survey", &ev->survey);
    if (!rc) rc = get_str(d, "comment", CXM_MAX_TEXT, true, &ev->text);
    const char *kind;
    if (!rc) rc = get_name(d, "kind", &kind);
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
        if (json_object_get(d->rec, "score") && !json_is_null(json_object_get(d->rec, "score")))
            return BAD(d, "score", "text feedback has no score");
        if (!ev->text || !*ev->text)
            return BAD(d, "comment", "text feedback needs a comment");
        return CXM_OK;
    }
    if (ev->fkind == FB_RATING) {
        rc = get_num(d, "score", 0, 10, &ev->score, &present);
    } else {
        int64_t s;
        rc = get_int(d, "score", lo[ev->fkind], hi[ev->fkind], &s, &present);
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

static int decode_order(struct dec *d, struct event *ev)
{
    int rc = get_str(d, "order_id", CXM_MAX_EVENT_ID, false, &ev->order_id);
    if (!rc && (!ev->order_id || !*ev->order_id))
        return BAD(d, "order_id", "order_id is required for an order");
    if (!rc) rc = get_name(d, "channel", &ev->channel);
    if (!rc) rc = get_name(d, "touchpoint", &ev->touchpoint);
    if (!rc) rc = get_str(d, "currency", 3, false, &ev->currency);
    if (rc)
        return rc;
    if (ev->currency && (strlen(ev->currency) != 3 ||
                         strspn(ev->currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3))
        return BAD(d, "currency", "currency must be an ISO 4217 code like EUR");
    bool have_amount;
    if ((rc = get_num(d, "amount", 0, 1e12, &ev->amount, &have_amount)))
        return rc;
    json_t *items = json_object_get(d->rec, "items");
    double sum = 0;
    if (items && !json_is_null(items)) {
        if (!json_is_array(items))
            return BAD(d, "items", "items must be an array");
        size_t n = json_array_size(items);
        if (n > CXM_MAX_ITEMS)
            return cxm_err_field(d->err, CXM_EINVAL, d->index, "items",
                                 "%zu items, the limit is %d", n, CXM_MAX_ITEMS);
        ev->items = arena_alloc(d->a, n * sizeof *ev->items);
        if (!ev->items)
            return cxm_err_set(d->err, CXM_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            struct dec sub = *d;
            sub.rec = json_array_get(items, i);
            char field[48];
            snprintf(field, sizeof field, "items[%zu]", i);
            if (!json_is_object(sub.rec))
                return BAD(d, field, "%s must be an object with sku, category,"
                           " qty, price", field);
            const char *key;
            json_t *v;
            json_object_foreach(sub.rec, key, v) {
                if (strcmp(key, "sku") && strcmp(key, "category") &&
                    strcmp(key, "qty") && strcmp(key, "price"))
                    return BAD(d, field, "%s: unknown field '%.40s'", field, key);
            }
            struct event_item *it = &ev->items[i];
            bool present;
            /* Name the item in the field of any error below. */
            if ((rc = get_name(&sub, "sku", &it->sku)) ||
                (rc = get_name(&sub, "category", &it->category)) ||
                (rc = get_num(&sub, "qty", 0, 1e9, &it->qty, &present))) {
                char inner[24];
                cxm_strlcpy(inner, d->err ? d->err->field : "", sizeof inner);
                if (d->err)
                    snprintf(d->err->field, sizeof d->err->field, "%.24s.%.24s",
                             field, inner);
                return rc;
            }
            if (!present)
                it->qty = 1;
            if ((rc = get_num(&sub, "price", 0, 1e12, &it->price, &present))) {
                if (d->err)
                    snprintf(d->err->field, sizeof d->err->field, "%.40s.price", field);
                return rc;
            }
            if (!it->sku)
                return BAD(d, field, "%s.sku is required", field);
            if (!it->qty)
                return BAD(d, field, "%s.qty must be more than 0", field);
            sum += it->qty * it->price;
        }
        ev->nitems = n;
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
    int rc = get_name(d, "employee_id", &ev->employee_id);
    if (!rc && !ev->employee_id)
        return BAD(d, "employee_id", "employee_id is required");
    if (!rc) rc = get_str(d, "name", 256, false, &ev->name);
    if (!rc) rc = get_name(d, "team", &ev->team);
    if (!rc) rc = get_name(d, "role", &ev->role);
    return rc;
}

int event_decode(json_t *rec, long index, int64_t now, struct arena *a,
                 struct event *ev, struct cxm_err *err)
{
    struct dec d = {.rec = rec, .index = index, .a = a, .err = err};
    memset(ev, 0, sizeof *ev);
    ev->duration = -1;
    ev->value = ev->score = NAN;
    ev->consent_m = ev->consent_s = ev->consent_p = -1;
    if (!json_is_object(rec))
        return BAD(&d, "", "record %ld is not a JSON object", index);
    const char *type;
    int rc = get_name(&d, "type", &type);
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
    const char *key;
    json_t *v;
    json_object_foreach(rec, key, v) {
        if (!in_list(common_fields, key) && !in_list(type_fields[ev->type], key))
            return BAD(&d, key, "unknown field '%.40s' for %s %s record", key,
                       article(ev->type), type);
    }
    if ((rc = get_str(&d, "event_id", CXM_MAX_EVENT_ID, false, &ev->event_id)))
        return rc;
    if (ev->event_id && !*ev->event_id)
        return BAD(&d, "event_id", "event_id is empty");
    if ((rc = get_ts(&d, now, &ev->ts)))
        return rc;
    bool present;
    if ((rc = get_int(&d, "customer_id", 1, UINT32_MAX - 1, &ev->customer_id, &present)))
        return rc;
    if ((rc = get_str(&d, "country", 2, false, &ev->country)))
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
        static const char *const no[] = {"customer_id", "email", "phone", "device",
                                         "cookie", "crm", "loyalty", "identities",
                                         "country"};
        for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
            if (json_object_get(rec, no[i]))
                return BAD(&d, no[i], "an employee record takes no %s", no[i]);
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
    return CXM_OK;
}
