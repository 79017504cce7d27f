/* api_customers.c - profiles, search, timeline, unmerge and export. */
#include <stdlib.h>
#include <string.h>

#include "http/route.h"
#include "cxm_limits.h"

static void reply_doc(struct req *r, int rc, json_t *doc, const struct cxm_err *err)
{
    if (rc)
        reply_err(r, err);
    else
        reply_json(r, 200, doc);
}

void api_customer_get(struct req *r, uint32_t id)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_customer(r->eng, id, &doc, &err);
    reply_doc(r, rc, doc, &err);
}

/* limit: absent -> def; otherwise 1..max or a 400 naming the field. */
static bool get_limit(struct req *r, size_t def, size_t max, size_t *out)
{
    const char *s = req_arg(r, "limit");
    int64_t v;
    *out = def;
    if (!s)
        return true;
    if (!cxm_parse_i64(s, &v) || v < 1 || (uint64_t)v > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "limit must be an integer 1-%zu", max);
        reply_error(r, 400, "invalid", msg, -1, "limit");
        return false;
    }
    *out = (size_t)v;
    return true;
}

void api_customer_search(struct req *r)
{
    const char *q = req_arg(r, "q");
    if (!q || !*q) {
        reply_error(r, 400, "invalid", "give q: an identity (email, phone,"
                    " crm id, ...) or the start of a name or email", -1, "q");
        return;
    }
    size_t limit;
    if (!get_limit(r, 20, CXM_MAX_SEARCH, &limit))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_search(r->eng, q, limit, &doc, &err);
    reply_doc(r, rc, doc, &err);
}

void api_customer_timeline(struct req *r, uint32_t id)
{
    size_t limit;
    if (!get_limit(r, CXM_DEFAULT_PAGE, CXM_MAX_PAGE, &limit))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_timeline(r->eng, id, req_arg(r, "cursor"), limit, &doc, &err);
    reply_doc(r, rc, doc, &err);
}

void api_customer_unmerge(struct req *r, uint32_t id)
{
    r->work.op = ENGINE_UNMERGE;
    r->work.customer = id;
    req_submit(r);
}

void api_customer_export(struct req *r, uint32_t id)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = engine_export(r->eng, id, &doc, &err);
    reply_doc(r, rc, doc, &err);
}
