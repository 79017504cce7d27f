/* api_clv.c - lifetime value and churn: POST /v1/clv/fit, GET
 * /v1/clv/model, GET /v1/clv/predict, GET /v1/churn/at-risk, GET
 * /v1/churn/drivers. The same documents as `cxm clv` and `cxm churn`. */
#include <math.h>
#include <string.h>

#include "http/route.h"

/* A number argument within [lo, hi]; def when absent. false: replied 400. */
static bool num_arg(struct req *r, const char *name, double def, double lo, double hi,
                    double *out)
{
    const char *s = req_arg(r, name);
    *out = def;
    if (!s || !*s)
        return true;
    if (!cxm_parse_f64(s, out) || !(*out >= lo && *out <= hi)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: a number in [%g, %g]", name, lo, hi);
        reply_error(r, 400, "invalid", msg, -1, name);
        return false;
    }
    return true;
}

static bool predict_args(struct req *r, struct clv_predict_opts *o)
{
    double top;
    if (!num_arg(r, "horizon", 52, 1, 10000, &o->horizon) ||
        !num_arg(r, "discount", 0, 0, 9.99, &o->discount) ||
        !num_arg(r, "top", 20, 0, 10000, &top))
        return false;
    o->top = (size_t)top;
    return true;
}

void api_clv_fit(struct req *r)
{
    struct clv_fit_opts o = {0};
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *body = NULL;
    const char *end = req_arg(r, "calibration_end");
    o.unit = req_arg(r, "unit");
    if (r->len) {
        json_error_t je;
        body = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(body)) {
            json_decref(body);
            reply_error(r, 400, "invalid", "the body must be a JSON object like"
                        " {\"calibration_end\":\"2026-06-30\",\"unit\":\"week\"}", -1, NULL);
            return;
        }
        json_t *v;
        if ((v = json_object_get(body, "calibration_end")))
            end = json_string_value(v);
        if ((v = json_object_get(body, "unit")))
            o.unit = json_string_value(v);
        if ((json_object_get(body, "calibration_end") && !end) ||
            (json_object_get(body, "unit") && !o.unit)) {
            json_decref(body);
            reply_error(r, 400, "invalid", "calibration_end and unit are strings", -1, NULL);
            return;
        }
    }
    json_t *doc = NULL;
    int rc = end && *end ? report_parse_bound(end, false, NULL, &o.calibration_end, &err) : 0;
    if (rc && !strcmp(err.field, "from"))
        cxm_err_field(&err, CXM_EINVAL, -1, "calibration_end", "calibration_end: %s",
                      strchr(err.msg, ':') ? strchr(err.msg, ':') + 2 : err.msg);
    if (!rc)
        rc = engine_clv_fit(r->eng, &o, &doc, &err);
    json_decref(body);
    if (rc) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

void api_clv_model(struct req *r)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_clv_model(r->eng, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

void api_clv_predict(struct req *r)
{
    struct clv_predict_opts o;
    if (!predict_args(r, &o))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_clv_predict(r->eng, &o, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

void api_churn_at_risk(struct req *r)
{
    struct at_risk_opts o = {0};
    double limit;
    if (!predict_args(r, &o.predict) ||
        !num_arg(r, "max_p_alive", 0.5, 1e-9, 1, &o.max_p_alive) ||
        !num_arg(r, "min_value", 0, 0, 1e15, &o.min_value) ||
        !num_arg(r, "limit", 50, 0, 10000, &limit))
        return;
    o.limit = (size_t)limit;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_churn_at_risk(r->eng, &o, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}

void api_churn_drivers(struct req *r)
{
    struct clv_predict_opts o;
    if (!predict_args(r, &o))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    if (engine_churn_drivers(r->eng, &o, &doc, &err)) {
        reply_err(r, &err);
        return;
    }
    reply_json(r, 200, doc);
}
