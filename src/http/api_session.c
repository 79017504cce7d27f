/* api_session.c - dashboard sign-in: an API key exchanged for a session
 * cookie (HttpOnly, SameSite=Strict, Secure behind an https proxy) and a
 * CSRF token; server.c accepts the cookie where a key is asked for, with
 * the token on every state-changing request. */
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/route.h"
#include "http/session.h"
#include "log.h"

#define COOKIE "cxm_session"

static void set_cookie(struct req *r, const char *id, long max_age)
{
    const char *proto = req_header(r, "X-Forwarded-Proto");
    char v[160];
    snprintf(v, sizeof v, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", id,
             max_age, proto && !strcmp(proto, "https") ? "; Secure" : "");
    reply_header(r, "Set-Cookie", v);
}

static json_t *session_json(enum role role, const char *csrf)
{
    return json_pack("{s:s, s:s}", "role", role_name(role), "csrf", csrf);
}

const char *session_cookie(struct req *r)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE);
}

/* The session of the request's cookie, if any and its key is still valid
 * (a revoked key ends its sessions). */
static bool find_session(struct req *r, enum role *role, char csrf[SESSION_HEX],
                         char key[KEY_HASH_LEN])
{
    const char *id = session_cookie(r);
    if (!id || !sessions_find(server_sessions(r->srv), id, (int64_t)time(NULL), role, csrf, key))
        return false;
    if (engine_key_role(r->eng, key) == ROLE_NONE) {
        sessions_delete(server_sessions(r->srv), id);
        return false;
    }
    return true;
}

enum auth_result session_auth(struct req *r, enum role *role, char key_hash[KEY_HASH_LEN])
{
    char csrf[SESSION_HEX];
    if (!find_session(r, role, csrf, key_hash))
        return AUTH_NONE;
    bool safe = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD") ||
                !strcmp(r->method, "OPTIONS");
    const char *token = req_header(r, "X-CSRF-Token");
    if (!safe && (!token || strlen(token) != SESSION_HEX - 1 ||
                  sodium_memcmp(token, csrf, SESSION_HEX - 1) != 0)) {
        reply_error(r, 403, "csrf", "send the session's X-CSRF-Token with this request", -1,
                    NULL);
        return AUTH_REPLIED;
    }
    return AUTH_OK;
}

/* POST /v1/session {"key": "cxm_..."} */
void api_session_new(struct req *r)
{
    if (!req_rate_ok(r, LIMIT_SURVEY_PAGE)) {
        reply_error(r, 429, "too_many", "too many attempts: wait a minute", -1, NULL);
        return;
    }
    json_t *o = req_body_object(r, "{\"key\": ...}");
    static const char *const names[] = {"key"};
    const char *key = NULL;
    if (!o)
        return;
    if (!req_only_members(r, o, names, 1) || !req_nonempty_member(r, o, "key", &key)) {
        json_decref(o);
        return;
    }
    char hash[KEY_HASH_LEN];
    enum role role = key ? engine_auth_key(r->eng, key, hash) : ROLE_NONE;
    json_decref(o);
    if (role == ROLE_NONE) {
        reply_error(r, 401, "unauthorized", "unknown API key", -1, "key");
        return;
    }
    char id[SESSION_HEX], csrf[SESSION_HEX];
    if (sessions_create(server_sessions(r->srv), role, hash, (int64_t)time(NULL), id, csrf)) {
        reply_error(r, 500, "internal", "no session", -1, NULL);
        return;
    }
    set_cookie(r, id, SESSION_TTL);
    reply_json(r, 200, session_json(role, csrf));
}

/* GET /v1/session: who is signed in, and the CSRF token again (a reload
 * of the page). */
void api_session_get(struct req *r)
{
    enum role role;
    char csrf[SESSION_HEX], key[KEY_HASH_LEN];
    if (!find_session(r, &role, csrf, key)) {
        reply_error(r, 401, "unauthorized", "not signed in", -1, NULL);
        return;
    }
    reply_json(r, 200, session_json(role, csrf));
}

/* DELETE /v1/session (the CSRF token checked by server.c) */
void api_session_delete(struct req *r)
{
    const char *id = session_cookie(r);
    if (id)
        sessions_delete(server_sessions(r->srv), id);
    set_cookie(r, "", 0);
    reply_text(r, 204, "text/plain; charset=utf-8", NULL, 0);
}

/* ---- API keys (admin) ------------------------------------------------- */

/* GET /v1/keys: every key without its secret; POST /v1/keys {"role",
 * "name"}: a new key, shown in this answer only. */
void api_keys(struct req *r)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    if (strcmp(r->method, "POST")) {
        json_t *doc = NULL;
        int rc = engine_keys_list(r->eng, &doc, &err);
        /* mark the key this request came with (directly or by its session) */
        json_t *k;
        size_t i;
        if (!rc)
            json_array_foreach(json_object_get(doc, "keys"), i, k) {
                const char *id = json_string_value(json_object_get(k, "id"));
                if (id && r->key_hash[0] && !strncmp(id, r->key_hash, KEY_ID_LEN - 1))
                    json_object_set_new(k, "current", json_true());
            }
        reply_answer(r, 200, rc, doc, &err);
        return;
    }
    json_t *o = req_body_object(r, "{\"role\": ..., \"name\": ...}");
    static const char *const names[] = {"role", "name"};
    const char *role = NULL, *name = NULL;
    if (!o)
        return;
    if (!req_only_members(r, o, names, 2) || !req_nonempty_member(r, o, "role", &role) ||
        !req_str_member(r, o, "name", &name)) {
        json_decref(o);
        return;
    }
    enum role ro = role ? role_parse(role) : ROLE_NONE;
    if (ro == ROLE_NONE) {
        json_decref(o);
        reply_invalid(r, "role", "role must be admin, writer, analyst or agent");
        return;
    }
    char key[KEY_LEN], id[KEY_ID_LEN];
    int rc = engine_key_create(r->eng, ro, name, key, &err);
    json_t *doc = NULL;
    if (!rc) {
        key_id(key, id);
        doc = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "key", key, "id", id, "role",
                        role_name(ro), "name", name, "hint", key + strlen(key) - 4);
        sodium_memzero(key, sizeof key);
        if (!doc)
            rc = cxm_err_set(&err, CXM_ENOMEM, "out of memory");
    }
    json_decref(o);
    if (!rc)
        log_msg(LOG_INFO, "api key %s (%s) created", id, role_name(ro));
    reply_answer(r, 201, rc, doc, &err);
}

/* DELETE /v1/keys/{id}: the key stops working at once, and so do the
 * dashboard sessions opened with it. */
void api_key_delete(struct req *r)
{
    char id[KEY_ID_LEN + 1];
    if (!req_path_id(r, "/v1/keys/", "no such API key", id, sizeof id))
        return;
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = engine_key_revoke(r->eng, id, &err);
    json_t *doc = rc ? NULL : json_pack("{s:s, s:b}", "id", id, "revoked", 1);
    if (!rc)
        log_msg(LOG_INFO, "api key %s revoked", id);
    reply_answer(r, 200, rc, doc, &err);
}
