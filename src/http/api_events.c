/* api_events.c - POST /v1/events: a JSON array (or one object) or NDJSON
 * of records. Every record is decoded and validated before any is
 * submitted: a batch is stored whole or not at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/route.h"
#include "cxm_limits.h"

static bool ctype_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' ||
                                                  ct[n] == ' ');
}

/* NDJSON: one record per line; blank lines are skipped. The error names
 * the record index (counting records) and the line. */
static json_t *parse_ndjson(struct req *r)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    char *p = r->body, *end = r->body + r->len;
    long line = 0;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\t'))
            k++;
        if (k < n) {
            json_error_t je;
            json_t *v = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
            if (!v) {
                char msg[300];
                snprintf(msg, sizeof msg, "line %ld, column %d: %s", line,
                         je.column, je.text);
                reply_error(r, 400, "invalid_json", msg,
                            (long)json_array_size(arr), NULL);
                json_decref(arr);
                return NULL;
            }
            if (json_array_append_new(arr, v)) {
                json_decref(arr);
                reply_error(r, 500, "out_of_memory", "out of memory", -1, NULL);
                return NULL;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return arr;
}

static json_t *parse_json(struct req *r)
{
    json_error_t je;
    json_t *v = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                           &je);
    if (!v) {
        char msg[300];
        snprintf(msg, sizeof msg, "line %d, column %d: %s", je.line, je.column,
                 je.text);
        reply_error(r, 400, "invalid_json", msg, -1, NULL);
        return NULL;
    }
    if (json_is_object(v)) {
        json_t *arr = json_array();
        if (!arr || json_array_append_new(arr, v)) {
            json_decref(arr);
            reply_error(r, 500, "out_of_memory", "out of memory", -1, NULL);
            return NULL;
        }
        return arr;
    }
    if (!json_is_array(v)) {
        json_decref(v);
        reply_error(r, 400, "invalid", "the body must be a JSON array of records,"
                    " one record object, or NDJSON", -1, NULL);
        return NULL;
    }
    return v;
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
    json_t *arr = nd ? parse_ndjson(r) : parse_json(r);
    if (!arr)
        return;
    r->batch = arr;
    size_t n = json_array_size(arr);
    if (n > CXM_MAX_BATCH) {
        char msg[96];
        snprintf(msg, sizeof msg, "%zu records in one batch, the limit is %d", n,
                 CXM_MAX_BATCH);
        reply_error(r, 413, "too_big", msg, -1, NULL);
        return;
    }
    struct event *evs = cxm_calloc(n ? n : 1, sizeof *evs);
    if (!evs) {
        reply_error(r, 500, "out_of_memory", "out of memory", -1, NULL);
        return;
    }
    r->work.ev = evs;   /* freed with the request */
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++) {
        struct cxm_err err;
        cxm_err_clear(&err);
        json_t *rec = json_array_get(arr, i);
        const char *t = json_string_value(json_object_get(rec, "type"));
        if (type && json_is_object(rec) && t && strcmp(t, type)) {
            char msg[96];
            snprintf(msg, sizeof msg, "this route takes %s records only", type);
            reply_error(r, 400, "invalid", msg, (long)i, "type");
            return;
        }
        if (type && json_is_object(rec) && !t)
            json_object_set_new(rec, "type", json_string(type));
        if (event_decode(json_array_get(arr, i), (long)i, now, &r->arena, &evs[i], &err)) {
            if (err.index < 0)
                err.index = (long)i;
            reply_err(r, &err);
            return;
        }
    }
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
