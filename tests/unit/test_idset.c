/* idset: candidates for a hash are every row added under a hash with the
 * same fingerprint; nothing is ever missed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idset.h"

Test(idset, every_added_row_is_found_among_the_candidates)
{
    struct idset s = {0};
    char id[32];
    for (uint32_t row = 1; row <= 100000; row++) {
        int n = snprintf(id, sizeof id, "evt-%u", row);
        cr_assert_eq(idset_add(&s, idset_hash(id, (size_t)n), row), 0);
    }
    size_t extra = 0;
    for (uint32_t row = 1; row <= 100000; row++) {
        int n = snprintf(id, sizeof id, "evt-%u", row);
        size_t pos = 0;
        uint32_t r;
        bool found = false;
        while ((r = idset_next(&s, idset_hash(id, (size_t)n), &pos)))
            if (r == row)
                found = true;
            else
                extra++;
        cr_assert(found, "row %u lost", row);
    }
    /* 32-bit fingerprints: false candidates are rare */
    cr_assert_lt(extra, 10);
    size_t pos = 0;
    cr_assert_eq(idset_next(&s, idset_hash("never-added", 11), &pos), 0);
    idset_free(&s);
}

Test(idset, same_fingerprint_gives_both_rows)
{
    struct idset s = {0};
    uint64_t a = 0xdeadbeef00000001ull, b = 0xdeadbeef7777aaaaull;
    cr_assert_eq(idset_add(&s, a, 5), 0);
    cr_assert_eq(idset_add(&s, b, 9), 0);
    size_t pos = 0;
    uint32_t r1 = idset_next(&s, a, &pos), r2 = idset_next(&s, a, &pos);
    cr_assert((r1 == 5 && r2 == 9) || (r1 == 9 && r2 == 5));
    cr_assert_eq(idset_next(&s, a, &pos), 0);
    idset_free(&s);
    pos = 0;
    cr_assert_eq(idset_next(&s, a, &pos), 0, "an empty set answers nothing");
}

Test(idset, a_built_set_answers_like_an_incremental_one)
{
    struct idset inc = {0}, built = {0};
    size_t n = 50000;
    uint64_t *entries = malloc(n * sizeof *entries);
    char id[32];
    for (uint32_t row = 1; row <= n; row++) {
        int len = snprintf(id, sizeof id, "order-%u", row * 7);
        uint64_t h = idset_hash(id, (size_t)len);
        cr_assert_eq(idset_add(&inc, h, row), 0);
        entries[row - 1] = idset_entry(h, row);
    }
    cr_assert_eq(idset_build(&built, entries, n), 0);
    free(entries);
    for (uint32_t row = 1; row <= n; row++) {
        int len = snprintf(id, sizeof id, "order-%u", row * 7);
        uint64_t h = idset_hash(id, (size_t)len);
        bool found = false;
        size_t pos = 0;
        uint32_t r;
        while ((r = idset_next(&built, h, &pos)))
            found |= r == row;
        cr_assert(found, "row %u", row);
    }
    /* a built set keeps growing like any other */
    cr_assert_eq(idset_add(&built, idset_hash("late", 4), 999999), 0);
    size_t pos = 0;
    cr_assert_eq(idset_next(&built, idset_hash("late", 4), &pos), 999999);
    idset_free(&inc);
    idset_free(&built);
}
