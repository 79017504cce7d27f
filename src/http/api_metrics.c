/* api_metrics.c - GET /v1/metrics: the report of `cxm report` as JSON. */
#include <stdint.h>

#include "core/tz.h"
#include "http/route.h"

void api_metrics_report(struct req *r)
{
    struct report_query q = {.metric = req_arg(r, "metric"), .by = req_arg(r, "by"),
                             .where = req_arg(r, "where"), .from = 0, .to = INT64_MAX};
    const char *from = req_arg(r, "from"), *to = req_arg(r, "to");
    const char *cust = req_arg(r, "customer_id");
    struct cxm_err err;
    cxm_err_clear(&err);
    if (!q.metric) {
        reply_error(r, 400, "invalid", "give metric: nps, enps, csat, ces or"
                    " responses", -1, "metric");
        return;
    }
    int64_t id;
    if (cust && (!cxm_parse_i64(cust, &id) || id < 1 || id > UINT32_MAX - 1)) {
        reply_error(r, 400, "invalid", "customer_id must be a customer id", -1,
                    "customer_id");
        return;
    }
    if (cust)
        q.customer = (uint32_t)id;
    json_t *doc = NULL;
    struct tz *zone = NULL;
    if (report_parse_tz(req_arg(r, "tz"), &zone, &err) ||
        (q.tz = zone, from && *from && report_parse_bound(from, false, zone, &q.from, &err)) ||
        (to && *to && report_parse_bound(to, true, zone, &q.to, &err)) ||
        engine_report(r->eng, &q, &doc, &err))
        reply_err(r, &err);
    else
        reply_json(r, 200, doc);
    tz_free(zone);
}

void api_benchmarks_compare(struct req *r)
{
    const char *metric = req_arg(r, "metric");
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (!metric) {
        reply_error(r, 400, "invalid", "give metric", -1, "metric");
        return;
    }
    if (engine_benchmarks_compare(r->eng, metric, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

/* GET /v1/dimensions */
void api_dimensions(struct req *r)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_dimensions(r->eng, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}
