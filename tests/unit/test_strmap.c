/* strmap and dict: checked against a plain array as the reference. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dict.h"
#include "core/strmap.h"

#define N 20000

Test(strmap, random_puts_and_deletes_match_a_reference)
{
    static char keys[N][16];
    static int present[N];
    static uint32_t vals[N];
    struct strmap *m = strmap_new();
    cr_assert(m);
    uint64_t x = 88172645463325252ull;
    size_t count = 0;
    for (int i = 0; i < N; i++)
        snprintf(keys[i], sizeof keys[i], "k%d", i);
    for (int step = 0; step < 200000; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int k = (int)(x % N);
        size_t len = strlen(keys[k]);
        if ((x >> 32) % 3) {
            cr_assert_eq(strmap_put(m, keys[k], len, (uint32_t)step), 0);
            count += !present[k];
            present[k] = 1;
            vals[k] = (uint32_t)step;
        } else {
            cr_assert_eq(strmap_del(m, keys[k], len), (bool)present[k]);
            count -= present[k];
            present[k] = 0;
        }
    }
    cr_assert_eq(strmap_count(m), count);
    for (int k = 0; k < N; k++) {
        uint32_t v;
        bool got = strmap_get(m, keys[k], strlen(keys[k]), &v);
        cr_assert_eq(got, (bool)present[k], "key %s", keys[k]);
        if (got)
            cr_assert_eq(v, vals[k]);
    }
    strmap_free(m);
}

Test(strmap, keys_are_bytes_not_c_strings)
{
    struct strmap *m = strmap_new();
    const char a[] = "email\0a@x.io", b[] = "email\0b@x.io";
    cr_assert_eq(strmap_put(m, a, sizeof a - 1, 1), 0);
    cr_assert_eq(strmap_put(m, b, sizeof b - 1, 2), 0);
    uint32_t v;
    cr_assert(strmap_get(m, b, sizeof b - 1, &v));
    cr_assert_eq(v, 2);
    cr_assert_not(strmap_get(m, "email", 5, &v));
    strmap_free(m);
}

Test(dict, codes_are_dense_and_stable)
{
    struct dict *d = dict_new(3);
    uint32_t c;
    bool added;
    cr_assert_eq(dict_intern(d, "web", &c, &added), 0);
    cr_assert_eq(c, 1);
    cr_assert(added);
    cr_assert_eq(dict_intern(d, "app", &c, &added), 0);
    cr_assert_eq(c, 2);
    cr_assert_eq(dict_intern(d, "web", &c, &added), 0);
    cr_assert_eq(c, 1);
    cr_assert_not(added);
    cr_assert_str_eq(dict_str(d, 2), "app");
    cr_assert_null(dict_str(d, 0));
    cr_assert_null(dict_str(d, 9));
    cr_assert_eq(dict_intern(d, "x", &c, &added), 0);
    cr_assert_eq(dict_intern(d, "y", &c, &added), CXM_ETOOBIG, "the cap holds");
    cr_assert_eq(dict_find(d, "y"), 0);
    dict_free(d);
    d = dict_new(10);
    cr_assert_eq(dict_load(d, 1, "a"), 0);
    cr_assert_eq(dict_load(d, 3, "c"), CXM_EINVAL, "replay must be dense");
    dict_free(d);
}

Test(strmap, hashed_calls_and_reserve_agree_with_plain_ones)
{
    static char keys[N][16];
    struct strmap *m = strmap_new();
    cr_assert(m);
    cr_assert_eq(strmap_reserve(m, N / 2), 0);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "id-%d", i * 7);
        size_t len = strlen(keys[i]);
        if (i % 2)
            cr_assert_eq(strmap_put_h(m, keys[i], len, strmap_hash(keys[i], len),
                                      (uint32_t)i), 0);
        else
            cr_assert_eq(strmap_put(m, keys[i], len, (uint32_t)i), 0);
    }
    cr_assert_eq(strmap_reserve(m, 10), 0);   /* never shrinks */
    cr_assert_eq(strmap_count(m), N);
    for (int i = 0; i < N; i++) {
        size_t len = strlen(keys[i]);
        uint32_t v = 0, w = 0;
        cr_assert(strmap_get(m, keys[i], len, &v));
        cr_assert(strmap_get_h(m, keys[i], len, strmap_hash(keys[i], len), &w));
        cr_assert_eq(v, (uint32_t)i);
        cr_assert_eq(w, (uint32_t)i);
    }
    cr_assert_not(strmap_get(m, "id-1", 4, NULL));
    strmap_free(m);
}

Test(strmap, a_two_part_hash_is_the_hash_of_the_joined_key)
{
    const char *parts[][2] = {{"email", "a@b.io"}, {"", ""}, {"social:x", ""},
                              {"", "v"}, {"phone", "+441234567890"}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char key[64];
        size_t al = strlen(parts[i][0]), bl = strlen(parts[i][1]);
        memcpy(key, parts[i][0], al);
        key[al] = '\0';
        memcpy(key + al + 1, parts[i][1], bl);
        cr_assert_eq(strmap_hash2(parts[i][0], al, parts[i][1], bl),
                     strmap_hash(key, al + 1 + bl), "%s/%s", parts[i][0], parts[i][1]);
    }
}
