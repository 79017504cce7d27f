/* session.h - dashboard sessions: an API key exchanged for a random
 * session id kept in an HttpOnly cookie, with a CSRF token the page sends
 * back on every state-changing request. Sessions live in memory (a
 * restart signs everyone out), expire after SESSION_TTL of idleness and
 * are bounded in number (the least recently used goes first). Thread-safe. */
#ifndef CXM_SESSION_H
#define CXM_SESSION_H

#include "common.h"
#include "engine/engine.h"

#define SESSION_MAX 4096
#define SESSION_TTL (12 * 3600)  /* seconds idle */
#define SESSION_HEX 65           /* 32 random bytes in hex, NUL */

struct sessions;

struct sessions *sessions_new(void);
void sessions_free(struct sessions *s);   /* accepts NULL */
/* A new session for role, opened with the key of hash key_hash, at time
 * now: its id and CSRF token. CXM_EIO without a random source. */
int sessions_create(struct sessions *s, enum role role, const char *key_hash, int64_t now,
                    char id[SESSION_HEX], char csrf[SESSION_HEX]);
/* The session's role, CSRF token and key hash (csrf, key_hash may be
 * NULL), refreshing its idle time; false when unknown or expired (then
 * removed). The caller checks the key is still valid (engine_key_role). */
bool sessions_find(struct sessions *s, const char *id, int64_t now, enum role *role,
                   char csrf[SESSION_HEX], char key_hash[KEY_HASH_LEN]);
void sessions_delete(struct sessions *s, const char *id);

#endif
