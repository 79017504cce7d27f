/* api_journeys.c - GET /v1/journeys/{view} (the views of `cxm journey`)
 * and GET /v1/customers/{id}/journey (one profile's episodes). */
#include <string.h>

#include "http/route.h"

static bool whole_arg(struct req *r, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const char *s = req_arg(r, name);
    if (!s || !*s)
        return true;
    if (!cxm_parse_i64(s, out) || *out < lo || *out > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: a whole number from %lld to %lld", name,
                 (long long)lo, (long long)hi);
        reply_error(r, 400, "invalid", msg, -1, name);
        return false;
    }
    return true;
}

void api_journeys(struct req *r, const char *view)
{
    struct journey_query q = {.view = view, .where = req_arg(r, "where"), .to = INT64_MAX,
                              .gap = 30 * 86400, .stages = req_arg(r, "stages"),
                              .goal = req_arg(r, "goal"), .outcome = req_arg(r, "outcome"),
                              .design = req_arg(r, "design"),
                              .channel = req_arg(r, "channel"), .ended = req_arg(r, "ended")};
    int64_t gap = 30, top = 20, len = 8;
    const char *from = req_arg(r, "from"), *to = req_arg(r, "to"), *self = req_arg(r, "self_links");
    struct cxm_err err;
    cxm_err_clear(&err);
    if (!whole_arg(r, "gap", 1, 365, &gap) || !whole_arg(r, "top", 1, 10000, &top) ||
        !whole_arg(r, "max_len", 1, 32, &len))
        return;
    q.gap = gap * 86400;
    q.top = (size_t)top;
    q.max_len = (size_t)len;
    q.self_links = self && (!strcmp(self, "1") || !strcmp(self, "true"));
    json_t *doc = NULL;
    if ((from && *from && report_parse_bound(from, false, NULL, &q.from, &err)) ||
        (to && *to && report_parse_bound(to, true, NULL, &q.to, &err)) ||
        engine_journeys(r->eng, &q, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

void api_customer_journey(struct req *r, uint32_t id)
{
    int64_t gap = 30;
    if (!whole_arg(r, "gap", 1, 365, &gap))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_customer_journey(r->eng, id, gap * 86400, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}
