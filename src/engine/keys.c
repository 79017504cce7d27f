/* keys.c - API keys: 32 random bytes shown once as "cxm_" + base64url;
 * the store keeps only a BLAKE2b hash (the key has full entropy, so a fast
 * hash is enough and keeps auth cheap) with its last 4 characters as a
 * hint. A key's id is the first 16 hex digits of its hash. Known hashes
 * are cached and checked against the store again after KEY_RECHECK
 * seconds, so a key revoked by another process stops working within that;
 * one revoked through this engine stops at once. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"
#include "engine/engine_impl.h"

static const char *const role_names[] = {
    [ROLE_NONE] = "none", [ROLE_ADMIN] = "admin", [ROLE_WRITER] = "writer",
    [ROLE_ANALYST] = "analyst", [ROLE_AGENT] = "agent"};

enum role role_parse(const char *s)
{
    for (int r = ROLE_ADMIN; r <= ROLE_AGENT; r++)
        if (s && strcmp(s, role_names[r]) == 0)
            return (enum role)r;
    return ROLE_NONE;
}

const char *role_name(enum role r)
{
    return r >= ROLE_NONE && r <= ROLE_AGENT ? role_names[r] : "none";
}

#define HASH_HEX (crypto_generichash_BYTES * 2 + 1)
_Static_assert(HASH_HEX == KEY_HASH_LEN, "KEY_HASH_LEN is the hex of a BLAKE2b hash");

static void key_hash(const char *key, char hex[HASH_HEX])
{
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
    sodium_bin2hex(hex, HASH_HEX, h, sizeof h);
}

static int make_key(char key[KEY_LEN], char hex[HASH_HEX], struct cxm_err *err)
{
    if (sodium_init() < 0)
        return cxm_err_set(err, CXM_EIO, "libsodium failed to initialise");
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(key, "cxm_", 4);
    sodium_bin2base64(key + 4, KEY_LEN - 4, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    key_hash(key, hex);
    return CXM_OK;
}

static int put_key(struct store *s, enum role r, const char *name, const char *key,
                   const char hex[HASH_HEX], struct cxm_err *err)
{
    if (r == ROLE_NONE)
        return cxm_err_set(err, CXM_EINVAL, "role must be admin, writer,"
                           " analyst or agent");
    struct store_key k = {.hash = hex, .role = role_name(r), .name = name,
                          .hint = key + strlen(key) - 4, .created = (int64_t)time(NULL)};
    return s->ops->put_key(s, &k, err);
}

int keys_create(const char *db, enum role r, const char *name, char key[KEY_LEN],
                struct cxm_err *err)
{
    if (name && strlen(name) > KEY_NAME_MAX)
        return cxm_err_field(err, CXM_EINVAL, -1, "name", "name: at most %d bytes",
                             KEY_NAME_MAX);
    char hex[HASH_HEX];
    int rc = make_key(key, hex, err);
    if (rc)
        return rc;
    struct store *s = store_open(db, NULL, err);
    if (!s)
        return err ? err->code : CXM_EIO;
    rc = put_key(s, r, name, key, hex, err);
    store_close(s);
    return rc;
}

void key_id(const char *key, char id[KEY_ID_LEN])
{
    char hex[HASH_HEX];
    key_hash(key, hex);
    memcpy(id, hex, KEY_ID_LEN - 1);
    id[KEY_ID_LEN - 1] = '\0';
}

static int key_row(void *ctx, const struct store_key *k)
{
    char ts[TIMEFMT_LEN], id[KEY_ID_LEN];
    timefmt_format(k->created, ts);
    cxm_strlcpy(id, k->hash ? k->hash : "", sizeof id);
    json_t *o = json_pack("{s:s, s:s, s:s?, s:s}", "id", id, "role", k->role ? k->role : "",
                          "name", k->name, "created", ts);
    if (!o || json_array_append_new(ctx, o))
        return CXM_ENOMEM;
    if (k->hint)
        json_object_set_new(o, "hint", json_string(k->hint));
    return CXM_OK;
}

static int list_keys(struct store *s, json_t **out, struct cxm_err *err)
{
    json_t *a = json_array();
    if (!a)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    int rc = s->ops->scan_keys(s, key_row, a, err);
    if (rc == CXM_ENOMEM)
        cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (rc) {
        json_decref(a);
        return rc;
    }
    *out = json_pack("{s:o}", "keys", a);
    return *out ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
}

static bool valid_id(const char *id)
{
    return id && strlen(id) == KEY_ID_LEN - 1 &&
           strspn(id, "0123456789abcdef") == KEY_ID_LEN - 1;
}

static int revoke(const char *db, const char *id, char hash[HASH_HEX], struct cxm_err *err)
{
    if (!valid_id(id))
        return cxm_err_field(err, CXM_EINVAL, -1, "id",
                             "a key's id is 16 lowercase hex digits (cxm keys list)");
    struct store *s = store_open(db, NULL, err);
    if (!s)
        return err ? err->code : CXM_EIO;
    int rc = s->ops->delete_key(s, id, hash, err);
    store_close(s);
    return rc;
}

int keys_list(const char *db, json_t **out, struct cxm_err *err)
{
    struct store_opts so = {.readonly = true};
    struct store *s = store_open(db, &so, err);
    if (!s)
        return err ? err->code : CXM_EIO;
    int rc = list_keys(s, out, err);
    store_close(s);
    return rc;
}

int keys_revoke(const char *db, const char *id, struct cxm_err *err)
{
    char hash[HASH_HEX];
    return revoke(db, id, hash, err);
}

int engine_key_create(struct engine *e, enum role r, const char *name,
                      char key[KEY_LEN], struct cxm_err *err)
{
    /* Its own connection: the writer thread owns the engine's. */
    return keys_create(e->db, r, name, key, err);
}

int engine_keys_list(struct engine *e, json_t **out, struct cxm_err *err)
{
    return list_keys(e->store, out, err);
}

int engine_key_revoke(struct engine *e, const char *id, struct cxm_err *err)
{
    char hash[HASH_HEX];
    int rc = revoke(e->db, id, hash, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&e->kmu);
    uint32_t i;
    if (strmap_get(e->keys, hash, strlen(hash), &i)) {
        e->kent[i].role = ROLE_NONE;
        e->kent[i].checked = (int64_t)time(NULL);
    }
    pthread_mutex_unlock(&e->kmu);
    return CXM_OK;
}

int engine_key_count(struct engine *e, int64_t *n, struct cxm_err *err)
{
    return e->store->ops->count_keys(e->store, n, err);
}

enum role engine_key_role(struct engine *e, const char *hash)
{
    int64_t now = (int64_t)time(NULL);
    size_t len = hash ? strlen(hash) : 0;
    if (len != HASH_HEX - 1)
        return ROLE_NONE;
    uint32_t i;
    pthread_mutex_lock(&e->kmu);
    bool hit = strmap_get(e->keys, hash, len, &i);
    if (hit && now - e->kent[i].checked < KEY_RECHECK) {
        enum role r = (enum role)e->kent[i].role;
        pthread_mutex_unlock(&e->kmu);
        return r;
    }
    pthread_mutex_unlock(&e->kmu);
    char role[16];
    struct cxm_err err;
    int rc = e->store->ops->find_key(e->store, hash, role, &err);
    if (rc && rc != CXM_ENOTFOUND)
        return ROLE_NONE;   /* the store failed: refuse, look again next time */
    enum role found = rc ? ROLE_NONE : role_parse(role);
    pthread_mutex_lock(&e->kmu);
    if (strmap_get(e->keys, hash, len, &i)) {
        e->kent[i].role = (int)found;
        e->kent[i].checked = now;
    } else if (found != ROLE_NONE) {
        /* only keys that exist are cached: unknown ones cannot fill memory */
        char *copy = cxm_strdup(hash);
        if (copy && !cxm_grow((void **)&e->kent, &e->keycap, e->nkeys + 1, sizeof *e->kent) &&
            !strmap_put(e->keys, copy, len, (uint32_t)e->nkeys)) {
            e->kent[e->nkeys++] = (struct key_entry){.hash = copy, .role = (int)found,
                                                     .checked = now};
        } else {
            free(copy);
        }
    }
    pthread_mutex_unlock(&e->kmu);
    return found;
}

enum role engine_auth_key(struct engine *e, const char *key, char hash[KEY_HASH_LEN])
{
    hash[0] = '\0';
    if (!key || strncmp(key, "cxm_", 4) != 0 || strlen(key) != KEY_LEN - 1)
        return ROLE_NONE;
    key_hash(key, hash);
    return engine_key_role(e, hash);
}

enum role engine_auth(struct engine *e, const char *key)
{
    char hash[KEY_HASH_LEN];
    return engine_auth_key(e, key, hash);
}
