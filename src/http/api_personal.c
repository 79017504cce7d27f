/* api_personal.c - personalisation: segments (GET|POST /v1/segments,
 * GET|PUT|DELETE /v1/segments/{id}, GET /v1/segments/{id}/members, POST
 * /v1/segments/preview), next-best-action (GET|PUT /v1/actions, GET|PUT
 * /v1/contact-policy, POST /v1/decide, POST /v1/contacts) and
 * recommendations (GET /v1/customers/{id}/recommendations, GET
 * /v1/items/{sku}/similar). */
#include <string.h>

#include "core/buf.h"
#include "core/policy.h"
#include "core/timefmt.h"
#include "cxm_limits.h"
#include "http/route.h"

/* The {id} of /v1/segments/{id}[/...] into buf; false when malformed. */
static bool segment_id(struct req *r, char *buf, size_t sz)
{
    return req_path_id(r, "/v1/segments/", "no such segment", buf, sz);
}

/* ---- segments ----------------------------------------------------------- */

static void segment_write(struct req *r, const char *path_id, enum segment_mode mode)
{
    json_t *o = req_body_object(r, "the segment");
    if (!o)
        return;
    static const char *const names[] = {"id", "name", "rule", "description"};
    struct segment_def d = {0};
    if (!req_only_members(r, o, names, 4) || !req_str_member(r, o, "id", &d.id) ||
        !req_str_member(r, o, "name", &d.name) || !req_str_member(r, o, "rule", &d.rule) ||
        !req_str_member(r, o, "description", &d.description)) {
        json_decref(o);
        return;
    }
    if (path_id) {
        if (d.id && strcmp(d.id, path_id) != 0) {
            reply_error(r, 400, "invalid", "the id in the body differs from the path's",
                        -1, "id");
            json_decref(o);
            return;
        }
        d.id = path_id;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_segment_put(r->eng, &d, mode, &doc, &err);
    reply_answer(r, mode == SEG_CREATE ? 201 : 200, rc, doc, &err);
    json_decref(o);
}

void api_segments(struct req *r)
{
    if (!strcmp(r->method, "POST")) {
        segment_write(r, NULL, SEG_CREATE);
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_segments(r->eng, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

void api_segment(struct req *r)
{
    char id[80];
    if (!segment_id(r, id, sizeof id))
        return;
    if (!strcmp(r->method, "PUT")) {
        segment_write(r, id, SEG_UPDATE);
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    if (!strcmp(r->method, "DELETE")) {
        if (engine_segment_delete(r->eng, id, &err))
            reply_err(r, &err);
        else
            reply_json(r, 200, json_pack("{s:s, s:b}", "id", id, "deleted", 1));
        return;
    }
    json_t *doc = NULL;
    int rc = engine_segment(r->eng, id, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

static void csv_field(struct buf *b, const char *s)
{
    if (!s)
        return;
    bool quote = strpbrk(s, ",\"\r\n") != NULL || *s == '=' || *s == '+' || *s == '-' ||
                 *s == '@';
    if (!quote) {
        buf_add(b, s, strlen(s));
        return;
    }
    /* quoted; a leading formula character is defused for spreadsheets */
    buf_add(b, "\"", 1);
    if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
        buf_add(b, "'", 1);
    for (; *s; s++) {
        if (*s == '"')
            buf_add(b, "\"", 1);
        buf_add(b, s, 1);
    }
    buf_add(b, "\"", 1);
}

/* The CSV rows of one page of members (doc's "rows") into b; nonzero
 * when b ran out of memory or reached its limit. */
static int members_csv(struct buf *b, json_t *doc)
{
    size_t i;
    json_t *row;
    int rc = 0;
    json_array_foreach(json_object_get(doc, "rows"), i, row) {
        rc |= buf_printf(b, "%lld,", (long long)json_integer_value(json_object_get(row, "id")));
        csv_field(b, json_string_value(json_object_get(row, "name")));
        rc |= buf_add(b, ",", 1);
        csv_field(b, json_string_value(json_object_get(row, "country")));
        json_t *rev = json_object_get(row, "revenue"), *nps = json_object_get(row, "last_nps");
        rc |= buf_printf(b, ",%lld,", (long long)json_integer_value(json_object_get(row, "orders")));
        if (json_is_number(rev))
            rc |= buf_printf(b, "%.2f", json_number_value(rev));
        rc |= buf_add(b, ",", 1);
        if (json_is_integer(nps))
            rc |= buf_printf(b, "%lld", (long long)json_integer_value(nps));
        rc |= buf_add(b, "\r\n", 2);
    }
    return rc;
}

/* GET /v1/segments/{id}/members: a page as JSON; as CSV (format=csv) the
 * page asked for with limit, or without limit every member, read page by
 * page (members that join or leave meanwhile may be missed or listed). */
void api_segment_members(struct req *r)
{
    char id[80];
    long limit, cursor;
    if (!segment_id(r, id, sizeof id) ||
        !req_int_arg(r, "limit", 1, CXM_MAX_PAGE, CXM_DEFAULT_PAGE, &limit) ||
        !req_int_arg(r, "cursor", 0, UINT32_MAX, 0, &cursor))
        return;
    const char *format = req_arg(r, "format");
    bool csv = format && !strcmp(format, "csv");
    if (format && !csv && strcmp(format, "json") != 0) {
        reply_error(r, 400, "invalid", "format: json or csv", -1, "format");
        return;
    }
    bool all = csv && !req_str_arg(r, "limit");
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_segment_members(r->eng, id, (uint32_t)cursor, all ? CXM_MAX_PAGE : (size_t)limit,
                               &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    if (!csv) {
        reply_json(r, 200, doc);
        return;
    }
    struct buf b;
    buf_init(&b, CXM_MAX_CSV_EXPORT);
    int brc = buf_printf(&b, "id,name,country,orders,revenue,last_nps\r\n");
    for (;;) {
        brc |= members_csv(&b, doc);
        const char *next = json_string_value(json_object_get(doc, "next_cursor"));
        int64_t n = 0;
        if (!all || !next || !cxm_parse_i64(next, &n) || brc)
            break;
        json_decref(doc);
        doc = NULL;
        if (engine_segment_members(r->eng, id, (uint32_t)n, CXM_MAX_PAGE, &doc, &err)) {
            buf_free(&b);
            reply_err(r, &err);
            return;
        }
    }
    json_decref(doc);
    size_t len;
    char *body = brc ? NULL : buf_take(&b, &len);
    if (!body) {
        buf_free(&b);
        reply_error(r, 500, "internal", "out of memory or the export is over its size limit",
                    -1, NULL);
        return;
    }
    /* segment ids are letters, digits, '_' and '-': safe in the header */
    char disp[128];
    snprintf(disp, sizeof disp, "attachment; filename=\"segment-%s.csv\"", id);
    reply_header(r, "Content-Disposition", disp);
    reply_text(r, 200, "text/csv; charset=utf-8", body, len);
}

void api_features(struct req *r)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_features(&doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

void api_segment_preview(struct req *r)
{
    json_t *o = req_body_object(r, "{\"rule\": ...}");
    if (!o)
        return;
    static const char *const names[] = {"rule"};
    const char *rule;
    if (!req_only_members(r, o, names, 1) || !req_str_member(r, o, "rule", &rule)) {
        json_decref(o);
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_segment_preview(r->eng, rule ? rule : "", &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
    json_decref(o);
}

/* ---- actions, contact policy -------------------------------------------- */

void api_actions(struct req *r)
{
    reply_document(r, engine_actions, engine_set_actions);
}

void api_policy(struct req *r)
{
    reply_document(r, engine_policy, engine_set_policy);
}

void api_rec_settings(struct req *r)
{
    reply_document(r, engine_rec_settings, engine_set_rec_settings);
}

/* ---- decisions and contacts --------------------------------------------- */

static bool customer_member(struct req *r, json_t *o, long index, uint32_t *out)
{
    json_t *v = json_object_get(o, "customer");
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > UINT32_MAX) {
        char msg[96];
        snprintf(msg, sizeof msg, "customer: the customer id, a whole number >= 1");
        reply_error(r, 400, "invalid", msg, index, "customer");
        return false;
    }
    *out = (uint32_t)json_integer_value(v);
    return true;
}

void api_decide(struct req *r)
{
    json_t *o = req_body_object(r, "{\"customer\", \"channel\", \"context\"}");
    if (!o)
        return;
    static const char *const names[] = {"customer", "channel", "context", "limit", "log",
                                        "explain"};
    struct decide_req q = {.log = true};
    json_t *ctx = json_object_get(o, "context"), *lim = json_object_get(o, "limit"),
           *lg = json_object_get(o, "log"), *ex = json_object_get(o, "explain");
    char *ctxs = NULL;
    if (!req_only_members(r, o, names, 6) || !customer_member(r, o, -1, &q.customer) ||
        !req_str_member(r, o, "channel", &q.channel))
        goto out;
    if (!q.channel) {
        reply_error(r, 400, "invalid", "channel: where the customer is (web, email, ...)",
                    -1, "channel");
        goto out;
    }
    if (ctx && !json_is_object(ctx) && !json_is_null(ctx)) {
        reply_error(r, 400, "invalid", "context must be an object", -1, "context");
        goto out;
    }
    if (lim && (!json_is_integer(lim) || json_integer_value(lim) < 0 ||
                json_integer_value(lim) > 500)) {
        reply_error(r, 400, "invalid", "limit: 0 (all) to 500", -1, "limit");
        goto out;
    }
    if (lg && !json_is_boolean(lg)) {
        reply_error(r, 400, "invalid", "log must be true or false", -1, "log");
        goto out;
    }
    if (ex && !json_is_boolean(ex)) {
        reply_error(r, 400, "invalid", "explain must be true or false", -1, "explain");
        goto out;
    }
    q.explain = json_is_true(ex);
    q.limit = lim ? (size_t)json_integer_value(lim) : 0;
    q.log = !lg || json_is_true(lg);
    if (json_is_object(ctx))
        q.context = ctxs = json_dumps(ctx, JSON_COMPACT | JSON_SORT_KEYS);
    struct cxm_err err;
    cxm_err_clear(&err);
    struct decision d;
    if (engine_decide(r->eng, &q, &d, &err)) {
        reply_err(r, &err);
        goto out;
    }
    struct buf b;
    buf_init(&b, 8u << 20);
    int wrc = decision_write(&d, q.channel, &b);
    decision_free(&d);
    size_t len;
    char *body = wrc ? NULL : buf_take(&b, &len);
    buf_free(&b);
    if (body)
        reply_text(r, 200, "application/json", body, len);
    else
        reply_error(r, 500, "internal", "out of memory", -1, NULL);
out:
    free(ctxs);
    json_decref(o);
}

void api_contacts(struct req *r)
{
    if (!r->body || !r->len) {
        reply_error(r, 400, "invalid", "send a contact object or an array of them", -1, NULL);
        return;
    }
    json_error_t je;
    json_t *j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
    if (!j || !(json_is_object(j) || json_is_array(j))) {
        char msg[200];
        snprintf(msg, sizeof msg, "invalid JSON at line %d column %d: %s", je.line, je.column,
                 j ? "expected an object or an array" : je.text);
        json_decref(j);
        reply_error(r, 400, "invalid", msg, -1, NULL);
        return;
    }
    size_t n = json_is_array(j) ? json_array_size(j) : 1;
    if (n == 0 || n > 1000) {
        json_decref(j);
        reply_error(r, 400, "invalid", "send 1 to 1000 contacts", -1, NULL);
        return;
    }
    struct contact_req *c = cxm_calloc(n, sizeof *c);
    if (!c) {
        json_decref(j);
        reply_error(r, 500, "internal", "out of memory", -1, NULL);
        return;
    }
    static const char *const names[] = {"customer", "kind", "action", "channel", "ts",
                                        "decision", "force"};
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *o = json_is_array(j) ? json_array_get(j, i) : j;
        long idx = json_is_array(j) ? (long)i : -1;
        const char *kind = NULL;
        if (!json_is_object(o)) {
            reply_error(r, 400, "invalid", "each contact is an object", idx, NULL);
            ok = false;
            break;
        }
        ok = req_only_members(r, o, names, 7) && customer_member(r, o, idx, &c[i].customer) &&
             req_str_member(r, o, "kind", &kind) && req_str_member(r, o, "action", &c[i].action) &&
             req_str_member(r, o, "channel", &c[i].channel);
        if (!ok)
            break;
        if (kind && !(c[i].kind = contact_kind_parse(kind))) {
            reply_error(r, 400, "invalid", "kind: promotion, survey, service_follow_up,"
                        " retention_offer, thank_you or referral", idx, "kind");
            ok = false;
            break;
        }
        json_t *ts = json_object_get(o, "ts"), *dec = json_object_get(o, "decision"),
               *force = json_object_get(o, "force");
        int64_t t = 0;
        if (json_is_string(ts)) {
            struct cxm_err terr;
            if (timefmt_parse(json_string_value(ts), &t, &terr)) {
                reply_error(r, 400, "invalid", terr.msg, idx, "ts");
                ok = false;
            }
        } else if (ts && !json_is_integer(ts)) {
            reply_error(r, 400, "invalid", "ts: an ISO 8601 time or unix seconds", idx, "ts");
            ok = false;
        } else if (ts) {
            t = json_integer_value(ts);
        }
        if (!ok) {
            break;
        } else if (dec && !json_is_integer(dec)) {
            reply_error(r, 400, "invalid", "decision: a decision id", idx, "decision");
            ok = false;
        } else if (force && !json_is_boolean(force)) {
            reply_error(r, 400, "invalid", "force must be true or false", idx, "force");
            ok = false;
        }
        c[i].ts = t;
        c[i].decision = dec ? json_integer_value(dec) : 0;
        c[i].force = json_is_true(force);
    }
    if (ok) {
        struct cxm_err err;
        cxm_err_clear(&err);
        int64_t seq = 0;
        if (engine_contacts(r->eng, c, n, &seq, &err))
            reply_err(r, &err);
        else
            reply_json(r, 201, json_pack("{s:I, s:I}", "recorded", (json_int_t)n, "seq",
                                         (json_int_t)seq));
    }
    free(c);
    json_decref(j);
}

/* ---- recommendations ---------------------------------------------------- */

void api_recommendations(struct req *r, uint32_t id)
{
    long n;
    if (!req_int_arg(r, "n", 1, 100, 10, &n))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_recommendations(r->eng, id, (size_t)n, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

void api_similar(struct req *r)
{
    long n;
    const char *p = r->path + strlen("/v1/items/");
    size_t len = strlen(p) - strlen("/similar");
    char sku[CXM_MAX_NAME + 1];
    if (len == 0 || len > CXM_MAX_NAME) {
        reply_error(r, 404, "not_found", "no such item", -1, NULL);
        return;
    }
    memcpy(sku, p, len);
    sku[len] = '\0';
    if (!req_int_arg(r, "n", 1, 100, 10, &n))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_similar(r->eng, sku, (size_t)n, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

void api_uplift(struct req *r)
{
    long days;
    struct uplift_query q = {.action = req_arg(r, "action")};
    if (!req_int_arg(r, "days", 1, 365, 30, &days) || !req_range_args(r, &q.from, &q.to))
        return;
    q.days = (int)days;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_uplift(r->eng, &q, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}
