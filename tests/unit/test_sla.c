/* sla: durations, business-hours calendars and SLA states. Expected
 * instants are UTC date-times worked out by hand (and checked with
 * `date -u -d 'TZ="Europe/Paris" ...'` for the Paris ones); the Europe/Paris
 * zone is read from the system tz database (skipped when missing). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/sla.h"
#include "core/timefmt.h"
#include "core/tz.h"

#define H INT64_C(3600)
#define DAYS INT64_C(86400)

/* "2026-03-02T10:00:00Z" as unix seconds. */
static int64_t T(const char *iso)
{
    int64_t t = 0;
    struct cxm_err err;
    cr_assert_eq(timefmt_parse(iso, &t, &err), 0, "%s: %s", iso, err.msg);
    return t;
}

static void cal(struct bizcal *c, const char *json, const struct tz *z)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    cr_assert_not_null(j, "%s: %s", json, je.text);
    struct cxm_err err = {0};
    memset(c, 0, sizeof *c);
    c->tz = z;
    cr_assert_eq(bizcal_parse(j, c, &err), 0, "%s: %s", json, err.msg);
    cr_assert_eq(c->tz, z);
    json_decref(j);
}

static struct tz *paris(void)
{
    FILE *f = fopen("/usr/share/zoneinfo/Europe/Paris", "rb");
    if (!f)
        cr_skip_test("/usr/share/zoneinfo/Europe/Paris missing");
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct tz *z = NULL;
    struct cxm_err err;
    cr_assert_eq(tz_parse_tzif(buf, n, &z, &err), 0, "%s", err.msg);
    return z;
}

#define WEEKDAYS "\"mon\": \"09:00-17:00\", \"tue\": \"09:00-17:00\", \"wed\": \"09:00-17:00\", " \
                 "\"thu\": \"09:00-17:00\", \"fri\": \"09:00-17:00\""
#define OFFICE "{\"hours\": {" WEEKDAYS ", \"sat\": null, \"sun\": \"\"}}"

static void add_is(const struct bizcal *c, const char *start, int64_t secs, const char *want)
{
    int64_t got = bizcal_add(c, T(start), secs);
    char g[TIMEFMT_LEN];
    timefmt_format(got, g);
    cr_assert_eq(got, T(want), "%s + %llds: %s, want %s", start, (long long)secs, g, want);
}

/* ---- durations ------------------------------------------------------------ */

Test(sla, durations_parse)
{
    static const struct {
        const char *s;
        int64_t want;
    } ok[] = {
        {"90s", 90},        {"45m", 2700},         {"4h", 14400},       {"2d", 172800},
        {"1w", 604800},     {"1h30m", 5400},       {"1d 4h", 100800},   {"3600", 3600},
        {" 2h ", 7200},     {"0h30m", 1800},       {"1w2d3h4m5s", 788645},
        {"366d", 31622400}, {"31622400", 31622400}, {"1", 1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t out = -1;
        struct cxm_err err = {0};
        cr_assert_eq(sla_parse_duration(ok[i].s, &out, &err), 0, "%s: %s", ok[i].s, err.msg);
        cr_assert_eq(out, ok[i].want, "%s: %lld", ok[i].s, (long long)out);
    }
}

Test(sla, durations_rejected_with_a_reason)
{
    static const struct {
        const char *s, *why;
    } bad[] = {
        {"", "empty"},
        {"   ", "empty"},
        {"4x", "unknown unit 'x'"},
        {"-1h", "negative"},
        {"0", "more than 0"},
        {"0h0m", "more than 0"},
        {"400d", "366 days"},
        {"366d1s", "366 days"},
        {"31622401", "366 days"},
        {"99999999999999999999999h", "366 days"},
        {"9223372036854775808", "366 days"},
        {"30m1h", "largest to smallest"},
        {"1h1h", "largest to smallest"},
        {"1h 30", "without a unit"},
        {"h", "expected a number"},
        {"1.5h", "unknown unit '.'"},
        {"4H", "unknown unit 'H'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t out = 42;
        struct cxm_err err = {0};
        cr_assert_eq(sla_parse_duration(bad[i].s, &out, &err), CXM_EINVAL, "%s", bad[i].s);
        cr_assert_eq(out, 42, "%s: output touched", bad[i].s);
        cr_assert_not_null(strstr(err.msg, bad[i].why), "%s: \"%s\"", bad[i].s, err.msg);
    }
    int64_t out;
    cr_assert_eq(sla_parse_duration(NULL, &out, NULL), CXM_EINVAL);
}

Test(sla, durations_format_shortest_and_round_trip)
{
    static const struct {
        int64_t secs;
        const char *want;
    } fm[] = {
        {14400, "4h"},   {172800, "2d"},  {90, "90s"},       {5400, "90m"},
        {86430, "1d30s"}, {691200, "8d"}, {3661, "61m1s"},   {604800, "1w"},
        {604801, "1w1s"}, {1, "1s"},      {86401, "1d1s"},   {31622400, "366d"},
        {9000, "150m"},   {60, "1m"},     {608400, "1w1h"},
    };
    char buf[SLA_DURATION_LEN];
    for (size_t i = 0; i < sizeof fm / sizeof fm[0]; i++) {
        cr_assert_eq(sla_format_duration(fm[i].secs, buf, sizeof buf), 0);
        cr_assert_str_eq(buf, fm[i].want, "%lld", (long long)fm[i].secs);
    }
    uint64_t s = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        /* round numbers as often as odd ones */
        static const int64_t grain[] = {1, 60, 900, 3600, 86400};
        int64_t g = grain[s % 5];
        int64_t secs = 1 + (int64_t)((s >> 8) % (uint64_t)(SLA_DURATION_MAX / g)) * g;
        int64_t back = 0;
        cr_assert_eq(sla_format_duration(secs, buf, sizeof buf), 0);
        cr_assert_eq(sla_parse_duration(buf, &back, NULL), 0, "%s", buf);
        cr_assert_eq(back, secs, "%lld -> %s -> %lld", (long long)secs, buf, (long long)back);
    }
    cr_assert_eq(sla_format_duration(0, buf, sizeof buf), CXM_EINVAL);
    cr_assert_eq(sla_format_duration(-5, buf, sizeof buf), CXM_EINVAL);
    cr_assert_str_eq(buf, "");
    char small[4];
    cr_assert_eq(sla_format_duration(86430, small, sizeof small), CXM_ETOOBIG);
    cr_assert_str_eq(small, "");
    cr_assert_eq(sla_format_duration(INT64_MAX, buf, sizeof buf), 0);
}

/* ---- calendars: parsing ------------------------------------------------------ */

Test(sla, calendar_parse_errors_name_the_field)
{
    static const struct {
        const char *json, *field, *why;
    } bad[] = {
        {"{\"hours\": {\"tue\": \"09:00-25:00\"}}", "hours.tue", "not a span"},
        {"{\"hours\": {\"tue\": \"9-17\"}}", "hours.tue", "not a span"},
        {"{\"hours\": {\"mon\": \"24:30-24:00\"}}", "hours.mon", "not a span"},
        {"{\"hours\": {\"mon\": \"09:60-10:00\"}}", "hours.mon", "not a span"},
        {"{\"hours\": {\"mon\": \"17:00-09:00\"}}", "hours.mon", "close after it opens"},
        {"{\"hours\": {\"mon\": \"09:00-09:00\"}}", "hours.mon", "close after it opens"},
        {"{\"hours\": {\"wed\": \"13:00-17:00,09:00-13:30\"}}", "hours.wed",
         "09:00-13:30 and 13:00-17:00 overlap"},
        {"{\"hours\": {\"thu\": \"01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,"
         "09:00-10:00\"}}", "hours.thu", "more than 4 spans"},
        {"{\"hours\": {\"fri\": \"09:00-12:00,\"}}", "hours.fri", "empty span"},
        {"{\"hours\": {\"fri\": \"09:00-12:00,,13:00-14:00\"}}", "hours.fri", "empty span"},
        {"{\"hours\": {\"mon\": 9}}", "hours.mon", "opening hours"},
        {"{\"hours\": {\"mon\": \"09:00-17:00\", \"xyz\": \"09:00-17:00\"}}", "hours.xyz",
         "unknown weekday"},
        {"{\"hours\": {\"mon\": \"09:00-17:00\"}, \"tz\": \"UTC\"}", "tz", "unknown member"},
        {"{\"hours\": {\"sun\": null, \"sat\": \"\"}}", "hours", "never open"},
        {"{}", "hours", "never open"},
        {"{\"hours\": []}", "hours", "must be an object"},
        {"{\"hours\": {\"mon\": \"24h\"}, \"holidays\": [\"2026-12-25\", \"2026-13-01\"]}",
         "holidays[1]", "not a date"},
        {"{\"hours\": {\"mon\": \"24h\"}, \"holidays\": [\"2026-01-01\", \"2026-12-25\", "
         "\"2026-02-29\"]}", "holidays[2]", "not a date"},
        {"{\"hours\": {\"mon\": \"24h\"}, \"holidays\": [\"26-12-25\"]}", "holidays[0]",
         "not a date"},
        {"{\"hours\": {\"mon\": \"24h\"}, \"holidays\": [20261225]}", "holidays[0]",
         "not a date"},
        {"{\"hours\": {\"mon\": \"24h\"}, \"holidays\": [\"2026-12-25T00:00:00Z\"]}",
         "holidays[0]", "not a date"},
        {"{\"hours\": {\"mon\": \"24h\"}, \"holidays\": \"2026-12-25\"}", "holidays",
         "array of dates"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i].json, 0, NULL);
        cr_assert_not_null(j, "%s", bad[i].json);
        struct bizcal c;
        memset(&c, 0x5a, sizeof c);
        struct cxm_err err = {0};
        cr_assert_eq(bizcal_parse(j, &c, &err), CXM_EINVAL, "%s", bad[i].json);
        cr_assert_str_eq(err.field, bad[i].field, "%s: field %s (%s)", bad[i].json, err.field,
                         err.msg);
        cr_assert_not_null(strstr(err.msg, bad[i].why), "%s: \"%s\"", bad[i].json, err.msg);
        cr_assert_eq(c.nspan[0], 0x5a5a5a5a, "%s: calendar touched", bad[i].json);
        json_decref(j);
    }
    /* too many holidays */
    json_t *h = json_array();
    for (int i = 0; i <= BIZCAL_MAX_HOLIDAYS; i++) {
        char d[16];
        snprintf(d, sizeof d, "2026-01-%02d", 1 + i % 28);
        json_array_append_new(h, json_string(d));
    }
    json_t *j = json_pack("{s:{s:s}, s:o}", "hours", "mon", "24h", "holidays", h);
    struct bizcal c;
    struct cxm_err err = {0};
    cr_assert_eq(bizcal_parse(j, &c, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "holidays");
    json_decref(j);
    cr_assert_eq(bizcal_parse(NULL, &c, &err), CXM_EINVAL);
}

Test(sla, calendar_parse_sorts_and_writes_back)
{
    struct bizcal c;
    cal(&c,
        "{\"hours\": {\"mon\": \" 13:00-17:30 , 8:30-12:00 \", \"tue\": \"24h\", "
        "\"wed\": \"00:00-24:00\", \"thu\": \"09:00-12:00,12:00-17:00\", \"sun\": null},"
        " \"holidays\": [\"2026-12-25\", \"2026-01-01\", \"2026-12-25\", \"1969-12-31\"]}",
        NULL);
    cr_assert_eq(c.nspan[0], 2);
    cr_assert_eq(c.span[0][0].open, 8 * 3600 + 1800);
    cr_assert_eq(c.span[0][0].close, 12 * 3600);
    cr_assert_eq(c.span[0][1].open, 13 * 3600);
    cr_assert_eq(c.span[0][1].close, 17 * 3600 + 1800);
    cr_assert_eq(c.nspan[1], 1);
    cr_assert_eq(c.span[1][0].open, 0);
    cr_assert_eq(c.span[1][0].close, 86400);
    cr_assert_eq(c.span[2][0].close, 86400);
    cr_assert_eq(c.nspan[3], 2);   /* touching spans are allowed */
    cr_assert_eq(c.nspan[4] + c.nspan[5] + c.nspan[6], 0);
    cr_assert_eq(c.nholidays, 3);
    cr_assert_eq(c.holiday[0], -1);
    cr_assert_eq(c.holiday[1], T("2026-01-01T00:00:00Z") / DAYS);
    cr_assert_eq(c.holiday[2], T("2026-12-25T00:00:00Z") / DAYS);

    json_t *j = bizcal_json(&c);
    cr_assert_not_null(j);
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    cr_assert_str_eq(s, "{\"holidays\":[\"1969-12-31\",\"2026-01-01\",\"2026-12-25\"],"
                        "\"hours\":{\"fri\":null,\"mon\":\"08:30-12:00,13:00-17:30\","
                        "\"sat\":null,\"sun\":null,\"thu\":\"09:00-12:00,12:00-17:00\","
                        "\"tue\":\"24h\",\"wed\":\"24h\"}}");
    struct bizcal back;
    memset(&back, 0, sizeof back);
    cr_assert_eq(bizcal_parse(j, &back, NULL), 0);
    cr_assert_eq(memcmp(&back, &c, sizeof c), 0);
    free(s);
    json_decref(j);
}

/* ---- calendars: time (UTC) ------------------------------------------------------ */

Test(sla, add_within_a_day_and_across_nights_and_weekends)
{
    struct bizcal c;
    cal(&c, OFFICE, NULL);
    /* 2026-03-02 is a Monday */
    add_is(&c, "2026-03-02T10:00:00Z", 2 * H, "2026-03-02T12:00:00Z");
    add_is(&c, "2026-03-02T16:00:00Z", 1 * H, "2026-03-02T17:00:00Z");   /* to the close */
    add_is(&c, "2026-03-02T16:00:00Z", 1 * H + 1, "2026-03-03T09:00:01Z");
    add_is(&c, "2026-03-02T16:00:00Z", 2 * H, "2026-03-03T10:00:00Z");   /* the night */
    add_is(&c, "2026-03-06T16:00:00Z", 2 * H, "2026-03-09T10:00:00Z");   /* the weekend */
    add_is(&c, "2026-03-02T09:00:00Z", 5 * 8 * H, "2026-03-06T17:00:00Z");
    add_is(&c, "2026-03-02T09:00:00Z", 5 * 8 * H + 1, "2026-03-09T09:00:01Z");
    add_is(&c, "2026-03-02T07:00:00Z", 1 * H, "2026-03-02T10:00:00Z");   /* before opening */
    add_is(&c, "2026-03-02T18:00:00Z", 1 * H, "2026-03-03T10:00:00Z");   /* after closing */
    add_is(&c, "2026-03-01T12:00:00Z", 30 * 60, "2026-03-02T09:30:00Z"); /* on a Sunday */
    add_is(&c, "2026-03-07T23:59:59Z", 8 * H, "2026-03-09T17:00:00Z");   /* Saturday night */
    /* zero: the start when open, else the next opening */
    add_is(&c, "2026-03-02T12:34:56Z", 0, "2026-03-02T12:34:56Z");
    add_is(&c, "2026-03-02T09:00:00Z", 0, "2026-03-02T09:00:00Z");
    add_is(&c, "2026-03-02T17:00:00Z", 0, "2026-03-03T09:00:00Z");
    add_is(&c, "2026-03-06T17:00:00Z", -5, "2026-03-09T09:00:00Z");
    cr_assert(bizcal_open_at(&c, T("2026-03-02T09:00:00Z")));
    cr_assert(bizcal_open_at(&c, T("2026-03-02T16:59:59Z")));
    cr_assert_not(bizcal_open_at(&c, T("2026-03-02T17:00:00Z")));
    cr_assert_not(bizcal_open_at(&c, T("2026-03-02T08:59:59Z")));
    cr_assert_not(bizcal_open_at(&c, T("2026-03-07T12:00:00Z")));
    cr_assert_eq(bizcal_elapsed(&c, T("2026-03-06T16:00:00Z"), T("2026-03-09T10:00:00Z")), 2 * H);
    cr_assert_eq(bizcal_elapsed(&c, T("2026-03-02T00:00:00Z"), T("2026-03-09T00:00:00Z")), 40 * H);
    cr_assert_eq(bizcal_elapsed(&c, T("2026-03-02T12:00:00Z"), T("2026-03-02T11:00:00Z")), 0);
}

Test(sla, add_skips_holidays)
{
    struct bizcal c;
    cal(&c, "{\"hours\": {" WEEKDAYS "}, \"holidays\": [\"2026-03-03\", \"2026-03-09\"]}",
        NULL);
    /* Tuesday 03-03 is a holiday */
    add_is(&c, "2026-03-02T18:00:00Z", 1 * H, "2026-03-04T10:00:00Z");
    add_is(&c, "2026-03-03T10:00:00Z", 1 * H, "2026-03-04T10:00:00Z");   /* on the holiday */
    add_is(&c, "2026-03-03T10:00:00Z", 0, "2026-03-04T09:00:00Z");
    /* Friday afternoon over a weekend and a holiday Monday */
    add_is(&c, "2026-03-06T16:00:00Z", 2 * H, "2026-03-10T10:00:00Z");
    cr_assert_not(bizcal_open_at(&c, T("2026-03-03T12:00:00Z")));
    cr_assert_eq(bizcal_elapsed(&c, T("2026-03-02T00:00:00Z"), T("2026-03-16T00:00:00Z")), 64 * H);
}

Test(sla, split_spans_with_a_lunch_break)
{
    struct bizcal c;
    cal(&c, "{\"hours\": {\"mon\": \"09:00-12:00,13:00-17:00\", \"tue\": \"09:00-12:00,13:00-17:00\"}}",
        NULL);
    add_is(&c, "2026-03-02T11:00:00Z", 2 * H, "2026-03-02T14:00:00Z");
    add_is(&c, "2026-03-02T11:30:00Z", 30 * 60, "2026-03-02T12:00:00Z");
    add_is(&c, "2026-03-02T11:30:00Z", 30 * 60 + 1, "2026-03-02T13:00:01Z");
    add_is(&c, "2026-03-02T12:30:00Z", 1 * H, "2026-03-02T14:00:00Z");   /* during lunch */
    add_is(&c, "2026-03-02T12:30:00Z", 0, "2026-03-02T13:00:00Z");
    add_is(&c, "2026-03-02T16:00:00Z", 5 * H, "2026-03-03T14:00:00Z");
    /* Tuesday evening to the next Monday */
    add_is(&c, "2026-03-03T16:00:00Z", 2 * H, "2026-03-09T10:00:00Z");
    cr_assert_not(bizcal_open_at(&c, T("2026-03-02T12:00:00Z")));
    cr_assert_eq(bizcal_elapsed(&c, T("2026-03-02T10:00:00Z"), T("2026-03-02T14:00:00Z")), 3 * H);
}

Test(sla, calendar_time_and_no_calendar)
{
    cr_assert_eq(bizcal_add(NULL, 1000, 500), 1500);
    cr_assert_eq(bizcal_add(NULL, INT64_MAX - 10, 500), INT64_MAX);
    cr_assert_eq(bizcal_elapsed(NULL, 1000, 1500), 500);
    cr_assert_eq(bizcal_elapsed(NULL, 1500, 1000), 0);
    cr_assert_eq(bizcal_elapsed(NULL, INT64_MIN, INT64_MAX), INT64_MAX);
    cr_assert(bizcal_open_at(NULL, 12345));
    /* a calendar built by hand with no open hour never comes due */
    struct bizcal never;
    memset(&never, 0, sizeof never);
    cr_assert_eq(bizcal_add(&never, 1000, 1), INT64_MAX);
    cr_assert_eq(bizcal_elapsed(&never, 0, 1000000), 0);
    cr_assert_not(bizcal_open_at(&never, 1000));
}

Test(sla, whole_days_open)
{
    struct bizcal c;
    cal(&c, "{\"hours\": {\"mon\": \"24h\", \"tue\": \"24h\", \"wed\": \"24h\", \"thu\": \"24h\","
            " \"fri\": \"24h\", \"sat\": \"24h\", \"sun\": \"00:00-24:00\"}}", NULL);
    add_is(&c, "2026-03-02T10:00:00Z", 90 * DAYS + 7, "2026-05-31T10:00:07Z");
    add_is(&c, "2026-03-02T10:00:00Z", 0, "2026-03-02T10:00:00Z");
    add_is(&c, "2026-03-08T23:59:59Z", 1, "2026-03-09T00:00:00Z");
    cr_assert_eq(bizcal_elapsed(&c, T("2026-01-01T03:00:00Z"), T("2026-12-31T05:00:00Z")),
                 364 * DAYS + 2 * H);
    cr_assert(bizcal_open_at(&c, T("2026-03-08T00:00:00Z")));
    /* a holiday takes the whole day out */
    cal(&c, "{\"hours\": {\"mon\": \"24h\", \"tue\": \"24h\", \"wed\": \"24h\", \"thu\": \"24h\","
            " \"fri\": \"24h\", \"sat\": \"24h\", \"sun\": \"24h\"}, \"holidays\": [\"2026-03-03\"]}",
        NULL);
    add_is(&c, "2026-03-02T12:00:00Z", 12 * H, "2026-03-03T00:00:00Z");
    add_is(&c, "2026-03-02T12:00:00Z", 12 * H + 1, "2026-03-04T00:00:01Z");
    cr_assert_not(bizcal_open_at(&c, T("2026-03-03T12:00:00Z")));
}

Test(sla, weeks_skipped_with_holidays_in_a_fixed_zone)
{
    struct bizcal c;
    cal(&c, "{\"hours\": {" WEEKDAYS "}, \"holidays\": [\"2026-01-01\", \"2026-04-03\","
            " \"2026-04-06\", \"2026-05-01\", \"2026-05-14\"]}", NULL);
    /* 20 weeks of 40 h from Monday 01-05 end Friday 05-22 17:00; four
     * weekday holidays in between push it four working days on */
    add_is(&c, "2026-01-05T09:00:00Z", 800 * H, "2026-05-28T17:00:00Z");
    add_is(&c, "2026-01-05T09:00:00Z", 800 * H + 1, "2026-05-29T09:00:01Z");
    cr_assert_eq(bizcal_elapsed(&c, T("2026-01-05T09:00:00Z"), T("2026-05-28T17:00:00Z")), 800 * H);
    /* +05:30: the same hours, 5.5 hours earlier in UTC */
    struct tz *z = tz_fixed(5 * 3600 + 1800);
    c.tz = z;
    add_is(&c, "2026-01-05T03:30:00Z", 800 * H, "2026-05-28T11:30:00Z");
    add_is(&c, "2026-01-05T00:00:00Z", 0, "2026-01-05T03:30:00Z");
    tz_free(z);
}

/* ---- the inverse property -------------------------------------------------------- */

static void check_inverse(const struct bizcal *c, int64_t lo, int64_t span, int n,
                          int64_t maxsecs, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        int64_t start = lo + (int64_t)(s % (uint64_t)span);
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        /* whole minutes half the time: land on openings and closings */
        int64_t secs = (int64_t)(s % (uint64_t)maxsecs);
        if (s & 1)
            secs -= secs % 60;
        if ((s >> 1) % 8 == 0)
            start -= start % 3600;
        int64_t first = bizcal_add(c, start, 0);
        int64_t due = bizcal_add(c, start, secs);
        cr_assert_geq(first, start);
        cr_assert(bizcal_open_at(c, first), "first %lld not open", (long long)first);
        cr_assert_eq(first == start, bizcal_open_at(c, start), "start %lld", (long long)start);
        cr_assert_eq(bizcal_elapsed(c, start, first), 0);
        cr_assert_eq(bizcal_elapsed(c, first, due), secs, "start %lld + %lld: due %lld, elapsed %lld",
                     (long long)start, (long long)secs, (long long)due,
                     (long long)bizcal_elapsed(c, first, due));
        cr_assert_eq(bizcal_elapsed(c, start, due), secs);
        /* and the due time is the earliest such instant */
        if (secs > 0)
            cr_assert_eq(bizcal_elapsed(c, start, due - 1), secs - 1);
    }
}

Test(sla, elapsed_is_the_inverse_of_add)
{
    struct bizcal c;
    int64_t lo = T("2025-01-01T00:00:00Z"), span = 3 * 365 * DAYS;
    cal(&c, "{\"hours\": {\"mon\": \"09:00-12:00,13:00-17:00\", \"tue\": \"08:00-18:00\","
            " \"wed\": \"09:00-12:00,13:00-17:00\", \"thu\": \"00:00-02:00,22:00-24:00\","
            " \"fri\": \"09:00-17:00\", \"sat\": \"10:00-11:00\"},"
            " \"holidays\": [\"2025-12-25\", \"2026-01-01\", \"2026-04-06\", \"2026-05-01\","
            " \"2026-07-14\", \"2026-12-25\", \"2027-01-01\"]}", NULL);
    check_inverse(&c, lo, span, 3000, 120 * DAYS / 8, 0x9E3779B97F4A7C15ull);
    check_inverse(&c, lo, span, 300, SLA_DURATION_MAX, 0x2545F4914F6CDD1Dull);
    struct tz *z = tz_fixed(-(9 * 3600 + 1800));
    c.tz = z;
    check_inverse(&c, lo, span, 1500, 30 * DAYS, 0xD1B54A32D192ED03ull);
    tz_free(z);
    struct tz *p = paris();
    c.tz = p;
    check_inverse(&c, lo, span, 3000, 60 * DAYS, 0xA0761D6478BD642Full);
    /* a calendar whose Sunday spans straddle the changes at night */
    cal(&c, "{\"hours\": {\"sun\": \"01:00-05:00,23:00-24:00\", \"mon\": \"00:00-03:30\","
            " \"wed\": \"02:15-02:45\"}}", p);
    check_inverse(&c, lo, span, 3000, 90 * DAYS / 10, 0x8BB84B93962EACC9ull);
    tz_free(p);
}

/* ---- DST ------------------------------------------------------------------------ */

Test(sla, paris_across_the_dst_changes)
{
    struct tz *p = paris();
    struct bizcal c;
    cal(&c, "{\"hours\": {" WEEKDAYS ", \"sun\": \"09:00-17:00\"}}", p);
    /* March: Friday 16:00 CET + 2 h = Monday 10:00 CEST; the Sunday of the
     * change is 8 hours, 09:00 CEST = 07:00Z to 17:00 CEST = 15:00Z */
    add_is(&c, "2026-03-27T15:00:00Z", 1 * H, "2026-03-27T16:00:00Z");
    add_is(&c, "2026-03-27T15:00:00Z", 1 * H + 1, "2026-03-29T07:00:01Z");
    add_is(&c, "2026-03-27T15:00:00Z", 9 * H, "2026-03-29T15:00:00Z");
    add_is(&c, "2026-03-27T15:00:00Z", 10 * H, "2026-03-30T08:00:00Z");
    cr_assert_eq(bizcal_elapsed(&c, T("2026-03-28T23:00:00Z"), T("2026-03-29T22:00:00Z")), 8 * H);
    /* October: Friday 16:00 CEST + 2 h + the Sunday = Monday 10:00 CET */
    add_is(&c, "2026-10-23T14:00:00Z", 10 * H, "2026-10-26T09:00:00Z");
    add_is(&c, "2026-10-24T12:00:00Z", 0, "2026-10-25T08:00:00Z");
    cr_assert_eq(bizcal_elapsed(&c, T("2026-10-24T22:00:00Z"), T("2026-10-25T23:00:00Z")), 8 * H);
    cr_assert(bizcal_open_at(&c, T("2026-10-25T15:59:59Z")));
    cr_assert_not(bizcal_open_at(&c, T("2026-10-25T16:00:00Z")));

    /* a span the change falls inside lasts the real time: 01:00-05:00 is
     * 3 hours on 03-29 (00:00Z-03:00Z), 5 on 10-25 (23:00Z-04:00Z) */
    cal(&c, "{\"hours\": {\"sun\": \"01:00-05:00\"}}", p);
    cr_assert_eq(bizcal_elapsed(&c, T("2026-03-28T00:00:00Z"), T("2026-03-30T00:00:00Z")), 3 * H);
    add_is(&c, "2026-03-28T12:00:00Z", 3 * H, "2026-03-29T03:00:00Z");
    add_is(&c, "2026-03-28T12:00:00Z", 3 * H + 1, "2026-04-04T23:00:01Z");
    cr_assert_eq(bizcal_elapsed(&c, T("2026-10-24T00:00:00Z"), T("2026-10-26T00:00:00Z")), 5 * H);
    add_is(&c, "2026-10-24T12:00:00Z", 0, "2026-10-24T23:00:00Z");
    add_is(&c, "2026-10-24T12:00:00Z", 5 * H, "2026-10-25T04:00:00Z");
    add_is(&c, "2026-10-24T12:00:00Z", 5 * H + 1, "2026-11-01T00:00:01Z");

    /* whole days: business time is real time, a local day 23 hours */
    cal(&c, "{\"hours\": {\"mon\": \"24h\", \"tue\": \"24h\", \"wed\": \"24h\", \"thu\": \"24h\","
            " \"fri\": \"24h\", \"sat\": \"24h\", \"sun\": \"24h\"}}", p);
    add_is(&c, "2026-03-28T12:00:00Z", 24 * H, "2026-03-29T12:00:00Z");
    cr_assert_eq(bizcal_elapsed(&c, T("2026-03-28T23:00:00Z"), T("2026-03-29T22:00:00Z")), 23 * H);
    add_is(&c, "2026-01-01T00:00:00Z", 300 * DAYS, "2026-10-28T00:00:00Z");

    /* weeks skipped across the March change: 20 weeks of 40 h from Monday
     * 01-05 09:00 CET end Friday 05-22 17:00 CEST */
    cal(&c, OFFICE, p);
    add_is(&c, "2026-01-05T08:00:00Z", 800 * H, "2026-05-22T15:00:00Z");
    add_is(&c, "2026-01-05T08:00:00Z", 800 * H + 1, "2026-05-25T07:00:01Z");
    cr_assert_eq(bizcal_elapsed(&c, T("2026-01-05T08:00:00Z"), T("2026-05-22T15:00:00Z")), 800 * H);
    tz_free(p);
}

/* ---- speed ----------------------------------------------------------------------- */

Test(sla, a_year_of_one_hour_weeks_is_fast)
{
    struct bizcal c;
    cal(&c, "{\"hours\": {\"wed\": \"10:00-11:00\"}}", NULL);
    /* 366 days = 8784 hours = 8784 Wednesdays: the first 2026-01-07, the
     * last 8783 weeks later */
    double t0 = cxm_seconds();
    add_is(&c, "2026-01-05T00:00:00Z", SLA_DURATION_MAX, "2194-05-07T11:00:00Z");
    cr_assert_eq(bizcal_elapsed(&c, T("2026-01-05T00:00:00Z"), T("2194-05-07T11:00:00Z")),
                 SLA_DURATION_MAX);
    cal(&c, "{\"hours\": {\"wed\": \"10:00-11:00\"}, \"holidays\": [\"2026-01-07\","
            " \"2026-02-04\", \"2026-12-30\", \"2026-12-31\"]}", NULL);
    add_is(&c, "2026-01-05T00:00:00Z", SLA_DURATION_MAX, "2194-05-28T11:00:00Z");
    struct tz *p = paris();
    cal(&c, "{\"hours\": {\"wed\": \"10:00-11:00\"}}", p);
    /* Wednesday 2194-05-07 11:00 CEST */
    add_is(&c, "2026-01-04T23:00:00Z", SLA_DURATION_MAX, "2194-05-07T09:00:00Z");
    tz_free(p);
    double dt = cxm_seconds() - t0;
    cr_assert_lt(dt, 0.5, "%.3f s", dt);
}

/* ---- states ----------------------------------------------------------------------- */

Test(sla, state_boundaries)
{
    /* window 1000 .. 5000: a quarter is 1000, at risk from 4000 */
    cr_assert_eq(sla_state(1000, 0, 0, 2000), SLA_NONE);
    cr_assert_eq(sla_state(1000, 0, 3000, 2000), SLA_NONE);
    cr_assert_eq(sla_state(1000, 5000, 0, 1000), SLA_PENDING);
    cr_assert_eq(sla_state(1000, 5000, 0, 3999), SLA_PENDING);
    cr_assert_eq(sla_state(1000, 5000, 0, 4000), SLA_AT_RISK);
    cr_assert_eq(sla_state(1000, 5000, 0, 5000), SLA_AT_RISK);   /* not yet breached at due */
    cr_assert_eq(sla_state(1000, 5000, 0, 5001), SLA_BREACHED);
    cr_assert_eq(sla_state(1000, 5000, 5000, 9999), SLA_MET);    /* met at due */
    cr_assert_eq(sla_state(1000, 5000, 5001, 5001), SLA_BREACHED);
    cr_assert_eq(sla_state(1000, 5000, 1001, 2000), SLA_MET);
    cr_assert_eq(sla_state(1000, 5000, 4999, 1000), SLA_MET);    /* done decides, not now */
    /* a window of 10: a quarter rounds down to 2 */
    cr_assert_eq(sla_state(0, 10, 0, 7), SLA_PENDING);
    cr_assert_eq(sla_state(0, 10, 0, 8), SLA_AT_RISK);
    cr_assert_eq(sla_state(INT64_MIN, INT64_MAX, 0, 0), SLA_PENDING);
    cr_assert_str_eq(sla_state_name(SLA_NONE), "none");
    cr_assert_str_eq(sla_state_name(SLA_PENDING), "pending");
    cr_assert_str_eq(sla_state_name(SLA_AT_RISK), "at_risk");
    cr_assert_str_eq(sla_state_name(SLA_MET), "met");
    cr_assert_str_eq(sla_state_name(SLA_BREACHED), "breached");
    cr_assert_str_eq(sla_state_name((enum sla_state)99), "unknown");
}
