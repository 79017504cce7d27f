/* test_timefmt.c - ISO 8601 parsing and formatting against known unix
 * times, and the civil-date arithmetic over the whole supported range. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"

static int64_t parse_ok(const char *s)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    int64_t t = -12345;
    int rc = timefmt_parse(s, &t, &err);
    cr_assert_eq(rc, 0, "parse '%s' failed: %s", s, err.msg);
    return t;
}

/* Expects a CXM_EINVAL whose message contains want; *out stays put. */
static void parse_bad(const char *s, const char *want)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    int64_t t = 777;
    int rc = timefmt_parse(s, &t, &err);
    cr_assert_eq(rc, CXM_EINVAL, "'%s' accepted", s);
    cr_assert_eq(err.code, CXM_EINVAL);
    cr_assert_eq(t, 777, "'%s' wrote the output on error", s);
    cr_assert(strstr(err.msg, want), "'%s': message '%s' lacks '%s'", s, err.msg, want);
}

Test(timefmt, known_unix_times)
{
    cr_assert_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
    cr_assert_eq(parse_ok("1970-01-01"), 0);
    cr_assert_eq(parse_ok("2000-02-29T12:00:00Z"), 951825600);
    cr_assert_eq(parse_ok("2001-09-09T01:46:40Z"), 1000000000);
    cr_assert_eq(parse_ok("2009-02-13T23:31:30Z"), 1234567890);
    cr_assert_eq(parse_ok("2038-01-19T03:14:07Z"), 2147483647);
    cr_assert_eq(parse_ok("2038-01-19T03:14:08Z"), INT64_C(2147483648));
    cr_assert_eq(parse_ok("1969-12-31T23:59:59Z"), -1);
    cr_assert_eq(parse_ok("1900-01-01T00:00:00Z"), INT64_C(-2208988800));
    cr_assert_eq(parse_ok("2999-12-31T23:59:59Z"), INT64_C(32503679999));
    cr_assert_eq(parse_ok("2000-01-01"), 946684800);
    cr_assert_eq(parse_ok("2024-03-01"), 1709251200);
}

Test(timefmt, separators_fraction_and_case)
{
    cr_assert_eq(parse_ok("2000-02-29 12:00:00Z"), 951825600);
    cr_assert_eq(parse_ok("2000-02-29t12:00:00z"), 951825600);
    cr_assert_eq(parse_ok("2000-02-29T12:00:00.999Z"), 951825600);
    cr_assert_eq(parse_ok("2000-02-29T12:00:00,5Z"), 951825600);
    cr_assert_eq(parse_ok("2000-02-29T12:00:00.123456789+00:00"), 951825600);
}

Test(timefmt, offsets)
{
    /* All of these are 2000-01-01T00:00:00Z. */
    cr_assert_eq(parse_ok("2000-01-01T05:30:00+05:30"), 946684800);
    cr_assert_eq(parse_ok("2000-01-01T05:30:00+0530"), 946684800);
    cr_assert_eq(parse_ok("2000-01-01T05:00:00+05"), 946684800);
    cr_assert_eq(parse_ok("1999-12-31T16:00:00-08:00"), 946684800);
    cr_assert_eq(parse_ok("1999-12-31T16:00:00-0800"), 946684800);
    cr_assert_eq(parse_ok("1999-12-31T16:00:00-08"), 946684800);
    cr_assert_eq(parse_ok("2000-01-01T00:00:00-00:00"), 946684800);
    cr_assert_eq(parse_ok("2000-01-01T00:00:00+00:00"), 946684800);
    /* An offset can move the instant across a day and a year. */
    cr_assert_eq(parse_ok("1999-12-31T23:00:00-01:00"), 946684800);
    cr_assert_eq(parse_ok("2000-01-01T12:45:00+12:45"), 946684800);
}

Test(timefmt, leap_second_rolls_over)
{
    /* 1999-01-01T00:00:00Z is 915148800. */
    cr_assert_eq(parse_ok("1998-12-31T23:59:60Z"), 915148800);
    cr_assert_eq(parse_ok("1999-01-01T00:00:00Z"), 915148800);
}

Test(timefmt, rejects_bad_dates)
{
    parse_bad("2023-02-29", "no such day");
    parse_bad("2023-02-29T00:00:00Z", "no such day");
    parse_bad("1900-02-29", "no such day"); /* century, not leap */
    parse_bad("2100-02-29", "no such day");
    parse_bad("2023-04-31", "no such day");
    parse_bad("2023-01-00", "no such day");
    parse_bad("2023-13-01", "month");
    parse_bad("2023-00-10", "month");
    parse_bad("1899-12-31", "year");
    parse_bad("3000-01-01", "year");
    parse_bad("2023-1-01", "YYYY-MM-DD");
    parse_bad("23-01-01", "YYYY-MM-DD");
    parse_bad("2023/01/01", "YYYY-MM-DD");
    parse_bad("", "YYYY-MM-DD");
    parse_bad("20230101", "YYYY-MM-DD");
    parse_bad("+2023-01-01", "YYYY-MM-DD");
    /* Leap years that are accepted. */
    cr_assert_eq(parse_ok("2000-02-29"), 951782400);
    cr_assert_eq(parse_ok("2024-02-29"), 1709164800);
}

Test(timefmt, rejects_bad_times)
{
    parse_bad("2023-05-01T10:00:00", "offset is required");
    parse_bad("2023-05-01 10:00:00.250", "offset is required");
    parse_bad("2023-05-01T24:00:00Z", "hour");
    parse_bad("2023-05-01T12:60:00Z", "minute");
    parse_bad("2023-05-01T12:00:61Z", "second");
    parse_bad("2023-05-01T10:00Z", "HH:MM:SS");
    parse_bad("2023-05-01T", "HH:MM:SS");
    parse_bad("2023-05-01T1:00:00Z", "HH:MM:SS");
    parse_bad("2023-05-01X10:00:00Z", "'T'");
    parse_bad("2023-05-01T10:00:00.Z", "digits");
    parse_bad("2023-05-01T10:00:00Q", "expected Z");
    parse_bad("2023-05-01T10:00:00+5:30", "offset hours");
    parse_bad("2023-05-01T10:00:00+05:3", "offset minutes");
    parse_bad("2023-05-01T10:00:00+053", "offset minutes");
    parse_bad("2023-05-01T10:00:00+24:00", "offset out of range");
    parse_bad("2023-05-01T10:00:00+05:60", "offset out of range");
    parse_bad("2023-05-01T10:00:00Zjunk", "after the offset");
    parse_bad("2023-05-01T10:00:00+05:30 ", "after the offset");
    parse_bad("2023-05-01 ", "HH:MM:SS");
}

Test(timefmt, format_known)
{
    char buf[TIMEFMT_LEN];
    timefmt_format(0, buf);
    cr_assert_str_eq(buf, "1970-01-01T00:00:00Z");
    timefmt_format(951825600, buf);
    cr_assert_str_eq(buf, "2000-02-29T12:00:00Z");
    timefmt_format(-1, buf);
    cr_assert_str_eq(buf, "1969-12-31T23:59:59Z");
    timefmt_format(INT64_C(-2208988800), buf);
    cr_assert_str_eq(buf, "1900-01-01T00:00:00Z");
    timefmt_format(INT64_C(32503679999), buf);
    cr_assert_str_eq(buf, "2999-12-31T23:59:59Z");
    timefmt_format(1234567890, buf);
    cr_assert_str_eq(buf, "2009-02-13T23:31:30Z");
    /* Extremes do not overflow the buffer. */
    timefmt_format(INT64_MAX, buf);
    cr_assert(strlen(buf) > 20 && strlen(buf) < TIMEFMT_LEN);
    timefmt_format(INT64_MIN, buf);
    cr_assert(strlen(buf) > 20 && strlen(buf) < TIMEFMT_LEN);
    cr_assert_eq(buf[0], '-');
}

Test(timefmt, civil_known)
{
    cr_assert_eq(timefmt_days_from_civil(1970, 1, 1), 0);
    cr_assert_eq(timefmt_days_from_civil(2000, 3, 1), 11017);
    cr_assert_eq(timefmt_days_from_civil(1969, 12, 31), -1);
    cr_assert_eq(timefmt_days_from_civil(1900, 1, 1), -25567);
    cr_assert_eq(timefmt_days_from_civil(0, 3, 1), -719468);
    int y;
    unsigned m, d;
    timefmt_civil_from_days(-719468, &y, &m, &d);
    cr_assert(y == 0 && m == 3 && d == 1);
    timefmt_civil_from_days(-1, &y, &m, &d);
    cr_assert(y == 1969 && m == 12 && d == 31);
}

/* Walks every day from 1900-01-01 to 2999-12-31 with a naive calendar
 * counter and checks both directions of the arithmetic, and that
 * format and parse round-trip at a varying time of day. */
Test(timefmt, round_trip_every_day)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 1900;
    unsigned m = 1, d = 1;
    int64_t z = -25567;
    char buf[TIMEFMT_LEN];
    char want[16];
    while (y < 3000) {
        cr_assert_eq(timefmt_days_from_civil(y, m, d), z, "%d-%u-%u", y, m, d);
        int cy;
        unsigned cm, cd;
        timefmt_civil_from_days(z, &cy, &cm, &cd);
        if (cy != y || cm != m || cd != d)
            cr_assert_fail("day %lld: got %d-%u-%u want %d-%u-%u", (long long)z, cy, cm, cd, y, m, d);

        int64_t t = z * 86400 + (z * 7919 % 86400 + 86400) % 86400;
        timefmt_format(t, buf);
        int n = snprintf(want, sizeof want, "%04d-%02u-%02uT", y, m, d);
        cr_assert(n > 0 && (size_t)n < sizeof want);
        if (strncmp(buf, want, (size_t)n) != 0)
            cr_assert_fail("format %lld gave %s, want prefix %s", (long long)t, buf, want);
        int64_t back = -1;
        if (timefmt_parse(buf, &back, NULL) != 0 || back != t)
            cr_assert_fail("round trip of %s gave %lld want %lld", buf, (long long)back, (long long)t);

        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        unsigned len = m == 2 && leap ? 29 : mdays[m - 1];
        if (++d > len) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
        z++;
    }
    cr_assert_eq(z, timefmt_days_from_civil(3000, 1, 1));
}
