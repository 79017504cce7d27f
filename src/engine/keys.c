/* keys.c - API keys: 32 random bytes shown once as "cxm_" + base64url;
 * the store keeps only a BLAKE2b hash (the key has full entropy, so a fast
 * hash is enough and keeps auth cheap). Known hashes are cached. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int put_key(struct store *s, enum role r, const char *name,
                   const char hex[HASH_HEX], struct cxm_err *err)
{
    if (r == ROLE_NONE)
        return cxm_err_set(err, CXM_EINVAL, "role must be admin, writer,"
                           " analyst or agent");
    struct store_key k = {.hash = hex, .role = role_name(r), .name = name,
                          .created = (int64_t)time(NULL)};
    return s->ops->put_key(s, &k, err);
}

int keys_create(const char *db, enum role r, const char *name, char key[KEY_LEN],
                struct cxm_err *err)
{
    char hex[HASH_HEX];
    int rc = make_key(key, hex, err);
    if (rc)
        return rc;
    struct store *s = store_open(db, NULL, err);
    if (!s)
        return err ? err->code : CXM_EIO;
    rc = put_key(s, r, name, hex, err);
    store_close(s);
    return rc;
}

int engine_key_create(struct engine *e, enum role r, const char *name,
                      char key[KEY_LEN], struct cxm_err *err)
{
    /* Its own connection: the writer thread owns the engine's. */
    return keys_create(e->db, r, name, key, err);
}

int engine_key_count(struct engine *e, int64_t *n, struct cxm_err *err)
{
    return e->store->ops->count_keys(e->store, n, err);
}

enum role engine_auth(struct engine *e, const char *key)
{
    if (!key || strncmp(key, "cxm_", 4) != 0 || strlen(key) != KEY_LEN - 1)
        return ROLE_NONE;
    char hex[HASH_HEX];
    key_hash(key, hex);
    uint32_t r;
    pthread_mutex_lock(&e->kmu);
    bool hit = strmap_get(e->keys, hex, strlen(hex), &r);
    pthread_mutex_unlock(&e->kmu);
    if (hit)
        return (enum role)r;
    char role[16];
    if (e->store->ops->find_key(e->store, hex, role, NULL) != CXM_OK)
        return ROLE_NONE;
    enum role found = role_parse(role);
    pthread_mutex_lock(&e->kmu);
    char *copy = cxm_strdup(hex);
    if (copy && !cxm_grow((void **)&e->key_hashes, &e->keycap, e->nkeys + 1,
                          sizeof *e->key_hashes) &&
        !strmap_put(e->keys, copy, strlen(copy), (uint32_t)found)) {
        e->key_hashes[e->nkeys++] = copy;
    } else {
        free(copy);
    }
    pthread_mutex_unlock(&e->kmu);
    return found;
}
