/* api_events.c - POST /v1/events: a JSON array (or one object) or NDJSON
 * of records. Every record is decoded and validated before any is
 * submitted: a batch is stored whole or not at all. Decoding is
 * engine/evscan.c's; this maps its outcomes to replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/evscan.h"
#include "http/route.h"

static bool ctype_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' ||
                                                  ct[n] == ' ');
}

/* Decodes and submits the records of the body; type: the one kind of
 * record the route takes (filled in when a record leaves it out), NULL:
 * any. */
static void post_records(struct req *r, const char *type)
{
    const char *ct = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    bool nd = ctype_is(ct, "application/x-ndjson") || ctype_is(ct, "application/jsonl") ||
              ctype_is(ct, "application/x-jsonlines");
    if (!nd && !ctype_is(ct, "application/json")) {
        reply_error(r, 415, "unsupported_media_type", "send Content-Type:"
                    " application/json or application/x-ndjson", -1, NULL);
        return;
    }
    if (!r->len) {
        reply_error(r, 400, "invalid", "the body is empty", -1, NULL);
        return;
    }
    /* The scanner decodes the usual bodies without a JSON tree; whatever
     * it is unsure of, jansson decodes, and its answers are the
     * reference. */
    int64_t now = (int64_t)time(NULL);
    struct event *evs = NULL;
    size_t n = 0;
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = evscan_body(r->body, r->len, nd, type, now, &r->arena, &evs, &n, &err);
    if (rc == EVSCAN_FALLBACK) {
        cxm_err_clear(&err);
        rc = evscan_jansson(r->body, r->len, nd, type, now, &r->arena, &r->batch, &evs,
                            &n, &err);
    }
    if (rc == EVSCAN_EJSON) {
        reply_error(r, 400, "invalid_json", err.msg, err.index, NULL);
        return;
    }
    if (rc) {
        reply_err(r, &err);
        return;
    }
    r->work.ev = evs;   /* freed with the request */
    r->work.op = ENGINE_INGEST;
    r->work.n = n;
    req_submit(r);
}

void api_events_post(struct req *r)
{
    post_records(r, NULL);
}

void api_employees_post(struct req *r)
{
    post_records(r, "employee");
}

void api_work_done(struct req *r)
{
    struct engine_work *w = &r->work;
    if (w->rc) {
        reply_err(r, &w->err);
        return;
    }
    if (w->op == ENGINE_UNMERGE) {
        reply_json(r, 200, json_pack("{s:I, s:I, s:I}", "customer_id",
                                     (json_int_t)w->customer, "unmerged_from",
                                     (json_int_t)w->parent, "seq", (json_int_t)w->seq));
        return;
    }
    reply_json(r, 200, json_pack("{s:I, s:I, s:I}", "accepted", (json_int_t)w->accepted,
                                 "duplicates", (json_int_t)w->duplicates, "seq",
                                 (json_int_t)w->seq));
}
