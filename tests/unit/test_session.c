/* Dashboard sessions: random ids and CSRF tokens, idle expiry at its
 * exact boundary, sign-out, and the least recently used going first when
 * the table is full. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/session.h"

#define T0 1790000000
#define KH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

Test(session, create_find_expire_delete)
{
    struct sessions *s = sessions_new();
    cr_assert_not_null(s);
    char id[SESSION_HEX], csrf[SESSION_HEX], id2[SESSION_HEX], csrf2[SESSION_HEX];
    cr_assert_eq(sessions_create(s, ROLE_ANALYST, KH, T0, id, csrf), 0);
    cr_assert_eq(sessions_create(s, ROLE_ADMIN, KH, T0, id2, csrf2), 0);
    cr_assert_eq(strlen(id), 64);
    cr_assert_str_neq(id, id2, "random ids");
    cr_assert_str_neq(id, csrf, "the token is not the id");
    enum role role;
    char got[SESSION_HEX], key[KEY_HASH_LEN];
    cr_assert(sessions_find(s, id, T0 + 10, &role, got, key));
    cr_assert_eq(role, ROLE_ANALYST);
    cr_assert_str_eq(got, csrf);
    cr_assert_str_eq(key, KH, "the key it was opened with");
    char forged[SESSION_HEX];
    memcpy(forged, id, sizeof forged);
    forged[0] = forged[0] == 'a' ? 'b' : 'a';
    cr_assert(!sessions_find(s, forged, T0 + 10, &role, NULL, NULL));
    cr_assert(!sessions_find(s, "short", T0 + 10, &role, NULL, NULL));
    /* idle for exactly the TTL: still there (and refreshed); one more: gone */
    cr_assert(sessions_find(s, id, T0 + 10 + SESSION_TTL, &role, NULL, NULL));
    cr_assert(!sessions_find(s, id, T0 + 10 + 2 * SESSION_TTL + 1, &role, NULL, NULL));
    cr_assert(!sessions_find(s, id, T0 + 10 + SESSION_TTL, &role, NULL, NULL), "removed for good");
    sessions_delete(s, id2);
    cr_assert(!sessions_find(s, id2, T0 + 11, &role, NULL, NULL), "signed out");
    sessions_free(s);
}

Test(session, a_full_table_drops_the_least_recently_used)
{
    struct sessions *s = sessions_new();
    char first[SESSION_HEX], second[SESSION_HEX], id[SESSION_HEX], csrf[SESSION_HEX];
    cr_assert_eq(sessions_create(s, ROLE_AGENT, KH, T0, first, csrf), 0);
    cr_assert_eq(sessions_create(s, ROLE_AGENT, KH, T0 + 1, second, csrf), 0);
    for (int i = 2; i < SESSION_MAX; i++)
        cr_assert_eq(sessions_create(s, ROLE_AGENT, KH, T0 + 2, id, csrf), 0);
    enum role role;
    cr_assert(sessions_find(s, first, T0 + 3, &role, NULL, NULL), "used again: now recent");
    cr_assert_eq(sessions_create(s, ROLE_AGENT, KH, T0 + 4, id, csrf), 0);
    cr_assert(!sessions_find(s, second, T0 + 4, &role, NULL, NULL), "the least recently used went");
    cr_assert(sessions_find(s, first, T0 + 4, &role, NULL, NULL));
    sessions_free(s);
}
