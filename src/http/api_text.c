/* api_text.c - text analytics: GET|POST /v1/text/sentiment, GET
 * /v1/text/themes, GET /v1/text/emerging, GET|PUT /v1/text/taxonomy and
 * GET /v1/feedback (comments with their scores, searchable). */
#include <math.h>
#include <string.h>

#include "core/tz.h"
#include "core/utf8.h"
#include "cxm_limits.h"
#include "http/route.h"

static bool flag_arg(struct req *r, const char *name)
{
    const char *s = req_arg(r, name);
    return s && (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes"));
}

/* from, to and tz as for /v1/metrics. */
static bool period_args(struct req *r, int64_t *from, int64_t *to, struct tz **tz)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    const char *f = req_arg(r, "from"), *t = req_arg(r, "to");
    *from = 0;
    *to = INT64_MAX;
    if (report_parse_tz(req_arg(r, "tz"), tz, &err) ||
        (f && *f && report_parse_bound(f, false, *tz, from, &err)) ||
        (t && *t && report_parse_bound(t, true, *tz, to, &err))) {
        tz_free(*tz);
        *tz = NULL;
        reply_err(r, &err);
        return false;
    }
    return true;
}

static bool theme_arg(struct req *r, int *out)
{
    const char *s = req_arg(r, "theme");
    *out = -1;
    if (!s || !*s)
        return true;
    if ((*out = engine_theme_index(r->eng, s)) < 0) {
        reply_error(r, 400, "invalid", "theme: not a theme of the taxonomy in use"
                    " (GET /v1/text/taxonomy)", -1, "theme");
        return false;
    }
    return true;
}

void api_text_sentiment(struct req *r)
{
    const char *text = req_arg(r, "text");
    size_t len = text ? strlen(text) : 0;
    if (!strcmp(r->method, "POST")) {
        text = r->body ? r->body : "";
        len = r->len;
    }
    if (!text) {
        reply_error(r, 400, "invalid", "give the text: ?text=... or POST it as the body",
                    -1, "text");
        return;
    }
    if (!utf8_valid(text, len)) {
        reply_error(r, 400, "invalid", "text: not valid UTF-8", -1, "text");
        return;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_text_sentiment(r->eng, text, len, flag_arg(r, "explain"), &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

void api_text_themes(struct req *r)
{
    struct report_query q = {.by = req_arg(r, "by"), .where = req_arg(r, "where")};
    struct tz *zone = NULL;
    if (!period_args(r, &q.from, &q.to, &zone))
        return;
    q.tz = zone;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_text_themes(r->eng, &q, &doc, &err))
        reply_err(r, &err);
    else
        reply_json(r, 200, doc);
    tz_free(zone);
}

void api_text_emerging(struct req *r)
{
    struct emerging_query q = {.period = req_arg(r, "period"),
                               .with_text = r->role != ROLE_ANALYST};
    long baseline, limit;
    const char *at = req_arg(r, "at"), *sent = req_arg(r, "sentiment");
    if (!req_int_arg(r, "baseline", 1, 52, 4, &baseline) || !req_int_arg(r, "limit", 1, 200, 20, &limit) ||
        !theme_arg(r, &q.theme))
        return;
    q.baseline = (int)baseline;
    q.limit = (size_t)limit;
    if (sent && *sent) {
        if (strcmp(sent, "negative")) {
            reply_error(r, 400, "invalid", "sentiment: only 'negative' narrows emerging"
                        " phrases", -1, "sentiment");
            return;
        }
        q.negative = true;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    if (at && *at && report_parse_bound(at, false, NULL, &q.at, &err)) {
        cxm_err_field(&err, CXM_EINVAL, -1, "at", "at: a date or time");
        reply_err(r, &err);
        return;
    }
    json_t *doc = NULL;
    if (engine_text_emerging(r->eng, &q, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

void api_text_taxonomy(struct req *r)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (!strcmp(r->method, "PUT")) {
        if (!r->body || !r->len) {
            reply_error(r, 400, "invalid", "PUT the taxonomy JSON as the body"
                        " (docs/text.md)", -1, NULL);
            return;
        }
        size_t n = 0;
        int64_t seq = 0;
        if (engine_set_taxonomy(r->eng, r->body, &n, &seq, &err)) {
            reply_err(r, &err);
            return;
        }
        reply_json(r, 200, json_pack("{s:I, s:I}", "rethemed", (json_int_t)n,
                                     "seq", (json_int_t)seq));
        return;
    }
    if (engine_taxonomy(r->eng, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

void api_feedback_list(struct req *r)
{
    struct feedback_query q = {.search = req_arg(r, "search"), .label = req_arg(r, "sentiment"),
                               .channel = req_arg(r, "channel"),
                               .touchpoint = req_arg(r, "touchpoint"),
                               .stage = req_arg(r, "stage")};
    long limit;
    int64_t cur = 0, cust = 0;
    struct tz *tz = NULL;
    const char *c = req_arg(r, "cursor"), *cid = req_arg(r, "customer_id");
    if (!req_int_arg(r, "limit", 1, CXM_MAX_PAGE, CXM_DEFAULT_PAGE, &limit) ||
        !theme_arg(r, &q.theme) || !period_args(r, &q.from, &q.to, &tz))
        return;
    tz_free(tz);   /* the period's dates are read; nothing else is by day */
    q.limit = (size_t)limit;
    if (q.label && strcmp(q.label, "positive") && strcmp(q.label, "negative") &&
        strcmp(q.label, "neutral")) {
        reply_error(r, 400, "invalid", "sentiment: positive, negative or neutral", -1,
                    "sentiment");
        return;
    }
    if (c && *c && (!cxm_parse_i64(c, &cur) || cur < 1)) {
        reply_error(r, 400, "invalid", "malformed cursor", -1, "cursor");
        return;
    }
    if (cid && *cid && (!cxm_parse_i64(cid, &cust) || cust < 1 || cust > UINT32_MAX - 1)) {
        reply_error(r, 400, "invalid", "customer_id must be a customer id", -1, "customer_id");
        return;
    }
    if (q.search && strlen(q.search) > 512) {
        reply_error(r, 400, "invalid", "search: at most 512 bytes", -1, "search");
        return;
    }
    q.cursor = cur;
    q.customer = (uint32_t)cust;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_feedback_list(r->eng, &q, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

void api_text_train(struct req *r)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_text_train(r->eng, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}
