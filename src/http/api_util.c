/* api_util.c - the request readers and replies the api_*.c handlers share
 * (declared in route.h): query arguments, the JSON body and its members,
 * 400s that name what is wrong. Reads and replies; never calls the engine
 * except through the functions it is given. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "http/route.h"

void reply_invalid(struct req *r, const char *field, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_error(r, 400, "invalid", msg, -1, field);
}

void reply_answer(struct req *r, unsigned status, int rc, json_t *doc,
                  const struct cxm_err *err)
{
    if (rc)
        reply_err(r, err);
    else
        reply_json(r, status, doc);
}

void reply_document(struct req *r, int (*get)(struct engine *, json_t **, struct cxm_err *),
                    int (*set)(struct engine *, const char *, size_t, struct cxm_err *))
{
    struct cxm_err err;
    cxm_err_clear(&err);
    if (!strcmp(r->method, "PUT")) {
        if (!r->body || !r->len || !utf8_valid(r->body, r->len)) {
            reply_error(r, 400, "invalid", "PUT the JSON document as the body", -1, NULL);
            return;
        }
        if (set(r->eng, r->body, r->len, &err)) {
            reply_err(r, &err);
            return;
        }
    }
    json_t *doc = NULL;
    int rc = get(r->eng, &doc, &err);
    reply_answer(r, 200, rc, doc, &err);
}

/* ---- the path and the query --------------------------------------------- */

bool req_path_id(struct req *r, const char *prefix, const char *not_found, char *buf,
                 size_t sz)
{
    const char *p = r->path + strlen(prefix);
    size_t n = strcspn(p, "/");
    if (n == 0 || n >= sz) {
        reply_error(r, 404, "not_found", not_found, -1, NULL);
        return false;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    return true;
}

const char *req_str_arg(struct req *r, const char *name)
{
    const char *s = req_arg(r, name);
    return s && *s ? s : NULL;
}

bool req_choice_arg(struct req *r, const char *name, const char *const *ok, size_t n,
                    const char *usage, const char **out)
{
    *out = req_str_arg(r, name);
    if (!*out)
        return true;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(*out, ok[i]))
            return true;
    reply_invalid(r, name, "%s: %s", name, usage);
    return false;
}

bool req_range_args(struct req *r, int64_t *from, int64_t *to)
{
    const char *f = req_str_arg(r, "from"), *t = req_str_arg(r, "to");
    struct cxm_err err;
    cxm_err_clear(&err);
    *from = 0;
    *to = INT64_MAX;
    if ((f && report_parse_bound(f, false, NULL, from, &err)) ||
        (t && report_parse_bound(t, true, NULL, to, &err))) {
        reply_err(r, &err);
        return false;
    }
    return true;
}

/* ---- the JSON body ------------------------------------------------------ */

json_t *req_body_object(struct req *r, const char *what)
{
    if (!r->body || !r->len) {
        reply_invalid(r, NULL, "send %s as a JSON object", what);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        char msg[200];
        snprintf(msg, sizeof msg, "invalid JSON at line %d column %d: %s", je.line,
                 je.column, je.text);
        reply_error(r, 400, "invalid_json", msg, -1, NULL);
    } else if (!json_is_object(j)) {
        json_decref(j);
        j = NULL;
        reply_invalid(r, NULL, "%s must be a JSON object", what);
    }
    return j;
}

bool req_only_members(struct req *r, json_t *o, const char *const *names, size_t n)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (i < n && strcmp(names[i], k) != 0)
            i++;
        if (i == n) {
            reply_invalid(r, k, "unknown member \"%.64s\"", k);
            return false;
        }
    }
    return true;
}

/* req_str_member and req_nonempty_member: the message names what is
 * wanted, "a string" or "a non-empty string". */
static bool string_member(struct req *r, json_t *o, const char *name, bool nonempty,
                          const char **out)
{
    json_t *v = json_object_get(o, name);
    const char *s = json_string_value(v);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!s || (nonempty && !*s) || strlen(s) != json_string_length(v)) {
        reply_invalid(r, name, "%s must be a %sstring", name, nonempty ? "non-empty " : "");
        return false;
    }
    *out = s;
    return true;
}

bool req_str_member(struct req *r, json_t *o, const char *name, const char **out)
{
    return string_member(r, o, name, false, out);
}

bool req_nonempty_member(struct req *r, json_t *o, const char *name, const char **out)
{
    return string_member(r, o, name, true, out);
}
