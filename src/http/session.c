/* session.c - dashboard sessions in a fixed table under one mutex. Ids
 * and CSRF tokens are 32 random bytes (libsodium); ids are compared in
 * constant time. */
#include "http/session.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char id[SESSION_HEX], csrf[SESSION_HEX];
    char key[KEY_HASH_LEN];      /* hash of the key it was opened with */
    enum role role;
    int64_t seen;                /* 0: free */
};

struct sessions {
    pthread_mutex_t mu;
    struct slot slot[SESSION_MAX];
};

struct sessions *sessions_new(void)
{
    if (sodium_init() < 0)
        return NULL;
    struct sessions *s = cxm_calloc(1, sizeof *s);
    if (s)
        pthread_mutex_init(&s->mu, NULL);
    return s;
}

void sessions_free(struct sessions *s)
{
    if (!s)
        return;
    sodium_memzero(s->slot, sizeof s->slot);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void random_hex(char out[SESSION_HEX])
{
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, SESSION_HEX, b, sizeof b);
}

int sessions_create(struct sessions *s, enum role role, const char *key_hash, int64_t now,
                    char id[SESSION_HEX], char csrf[SESSION_HEX])
{
    pthread_mutex_lock(&s->mu);
    /* a free or expired slot, else the least recently used */
    size_t pick = 0;
    for (size_t i = 0; i < SESSION_MAX; i++) {
        const struct slot *x = &s->slot[i];
        if (!x->seen || now - x->seen > SESSION_TTL) {
            pick = i;
            break;
        }
        if (x->seen < s->slot[pick].seen)
            pick = i;
    }
    struct slot *x = &s->slot[pick];
    random_hex(x->id);
    random_hex(x->csrf);
    x->role = role;
    cxm_strlcpy(x->key, key_hash, sizeof x->key);
    x->seen = now;
    memcpy(id, x->id, SESSION_HEX);
    memcpy(csrf, x->csrf, SESSION_HEX);
    pthread_mutex_unlock(&s->mu);
    return CXM_OK;
}

static struct slot *find(struct sessions *s, const char *id)
{
    if (!id || strlen(id) != SESSION_HEX - 1)
        return NULL;
    for (size_t i = 0; i < SESSION_MAX; i++)
        if (s->slot[i].seen && sodium_memcmp(s->slot[i].id, id, SESSION_HEX - 1) == 0)
            return &s->slot[i];
    return NULL;
}

bool sessions_find(struct sessions *s, const char *id, int64_t now, enum role *role,
                   char csrf[SESSION_HEX], char key_hash[KEY_HASH_LEN])
{
    pthread_mutex_lock(&s->mu);
    struct slot *x = find(s, id);
    bool ok = x && now - x->seen <= SESSION_TTL;
    if (x && !ok)
        memset(x, 0, sizeof *x);
    if (ok) {
        x->seen = now;
        *role = x->role;
        if (csrf)
            memcpy(csrf, x->csrf, SESSION_HEX);
        if (key_hash)
            memcpy(key_hash, x->key, KEY_HASH_LEN);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void sessions_delete(struct sessions *s, const char *id)
{
    pthread_mutex_lock(&s->mu);
    struct slot *x = find(s, id);
    if (x)
        memset(x, 0, sizeof *x);
    pthread_mutex_unlock(&s->mu);
}
