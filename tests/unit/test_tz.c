/* tz: offsets of named zones checked against the C library's own reading
 * of the same tz database (localtime_r with TZ set, tm_gmtoff) at many
 * instants, the transitions of 2026 at the second, a southern-hemisphere
 * rule, and wall times that happen twice or never. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/tz.h"

#define ZONEINFO "/usr/share/zoneinfo/"

static struct tz *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, ZONEINFO "%s", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s missing: install tzdata (scripts/deps.sh does)", path);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct tz *z = NULL;
    struct cxm_err err;
    cr_assert_eq(tz_parse_tzif(buf, n, &z, &err), 0, "%s: %s", name, err.msg);
    return z;
}

Test(tz, offsets_agree_with_the_c_library)
{
    static const char *const zones[] = {"Europe/Paris", "America/New_York",
                                        "Australia/Sydney", "Asia/Kolkata",
                                        "America/Santiago", "Europe/London", "Asia/Tehran",
                                        "Pacific/Chatham", "America/Sao_Paulo"};
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t k = 0; k < sizeof zones / sizeof zones[0]; k++) {
        struct tz *z = load(zones[k]);
        setenv("TZ", zones[k], 1);
        tzset();
        for (int i = 0; i < 20000; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            /* 1970 to 2099: history from the file, the future from the rule */
            time_t t = (time_t)(s % 4102444800ull);
            struct tm tm;
            localtime_r(&t, &tm);
            cr_assert_eq(tz_offset(z, t), tm.tm_gmtoff, "%s at %lld: %lld, libc %ld",
                         zones[k], (long long)t, (long long)tz_offset(z, t), tm.tm_gmtoff);
        }
        tz_free(z);
    }
    unsetenv("TZ");
}

Test(tz, the_2026_transitions_to_the_second)
{
    struct tz *paris = load("Europe/Paris");
    /* 2026-03-29 01:00 UTC: CET -> CEST; 2026-10-25 01:00 UTC: back */
    cr_assert_eq(tz_offset(paris, 1774746000 - 1), 3600);
    cr_assert_eq(tz_offset(paris, 1774746000), 7200);
    cr_assert_eq(tz_offset(paris, 1792890000 - 1), 7200);
    cr_assert_eq(tz_offset(paris, 1792890000), 3600);
    tz_free(paris);
    struct tz *ny = load("America/New_York");
    /* 2026-03-08 07:00 UTC and 2026-11-01 06:00 UTC */
    cr_assert_eq(tz_offset(ny, 1772953200 - 1), -18000);
    cr_assert_eq(tz_offset(ny, 1772953200), -14400);
    cr_assert_eq(tz_offset(ny, 1793512800 - 1), -14400);
    cr_assert_eq(tz_offset(ny, 1793512800), -18000);
    tz_free(ny);
}

Test(tz, a_southern_rule_and_posix_forms)
{
    struct tz *z;
    struct cxm_err err;
    cr_assert_eq(tz_parse_posix("AEST-10AEDT,M10.1.0,M4.1.0/3", &z, &err), 0);
    /* DST ends Sunday 2026-04-05 03:00 AEDT = 2026-04-04 16:00 UTC, starts
     * Sunday 2026-10-04 02:00 AEST = 2026-10-03 16:00 UTC */
    cr_assert_eq(tz_offset(z, 1775318400 - 1), 39600);
    cr_assert_eq(tz_offset(z, 1775318400), 36000);
    cr_assert_eq(tz_offset(z, 1791043200 - 1), 36000);
    cr_assert_eq(tz_offset(z, 1791043200), 39600);
    cr_assert_eq(tz_offset(z, 1767225600), 39600);   /* New Year: summer */
    int64_t off;
    cr_assert_not(tz_is_fixed(z, &off));
    tz_free(z);
    cr_assert_eq(tz_parse_posix("<+0530>-5:30", &z, &err), 0);
    cr_assert(tz_is_fixed(z, &off));
    cr_assert_eq(off, 19800);
    tz_free(z);
    cr_assert_eq(tz_parse_posix("CET-1CEST,M3.5.0,M13.5.0/3", &z, &err), CXM_EINVAL);
    cr_assert_eq(tz_parse_posix("X1", &z, &err), CXM_EINVAL);
    cr_assert_eq(tz_parse_tzif("TZif2", 5, &z, &err), CXM_EINVAL);
}

Test(tz, wall_times_twice_or_never)
{
    struct tz *paris = load("Europe/Paris");
    /* local midnights around the spring change */
    cr_assert_eq(tz_local_to_utc(paris, 1774742400), 1774738800);   /* 03-29 00:00 -> 03-28 23:00Z */
    cr_assert_eq(tz_local_to_utc(paris, 1774828800), 1774821600);   /* 03-30 00:00 -> 03-29 22:00Z */
    /* 02:30 on 03-29 never happens: the jump, 01:00Z */
    cr_assert_eq(tz_local_to_utc(paris, 1774751400), 1774746000);
    /* 02:30 on 10-25 happens twice: the first, 00:30Z */
    cr_assert_eq(tz_local_to_utc(paris, 1792895400), 1792888200);
    tz_free(paris);
    struct tz *f = tz_fixed(-5 * 3600);
    cr_assert_eq(tz_local_to_utc(f, 0), 5 * 3600);
    cr_assert_eq(tz_offset(f, 123), -5 * 3600);
    tz_free(f);
}
