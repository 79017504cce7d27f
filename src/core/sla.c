/* sla.c - see sla.h. Business time is walked span by span in UTC: the
 * spans of local day d are its weekday's opening hours mapped through
 * tz_local_to_utc, which is non-decreasing, so the spans of successive
 * days come in order and never overlap. Whole weeks (local Monday 00:00
 * to the next) with one offset throughout are not walked: they hold the
 * week's nominal business seconds less those of their holidays. */
#include "core/sla.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "core/tz.h"

#define DAY INT64_C(86400)
#define WEEK (7 * DAY)
/* Instants handled: far beyond any due time, far within what tz and
 * timefmt accept (and what day * DAY holds). */
#define T_LIMIT (INT64_C(1) << 40)

/* ---- durations ------------------------------------------------------------ */

static const struct unit {
    char c;
    int64_t secs;
} units[] = {{'w', WEEK}, {'d', DAY}, {'h', 3600}, {'m', 60}, {'s', 1}};
#define NUNITS (sizeof units / sizeof units[0])

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

int sla_parse_duration(const char *s, int64_t *out, struct cxm_err *err)
{
    const char *str = s ? s : "";
    const char *p = str;
    while (is_space(*p))
        p++;
    if (!*p)
        return cxm_err_field(err, CXM_EINVAL, -1, "",
                             "empty duration (examples: 90s, 45m, 4h, 1h30m, 2d, 1w)");
    int64_t total = 0;
    size_t next = 0;   /* the largest unit still allowed */
    bool first = true;
    while (*p) {
        if (*p == '-')
            return cxm_err_field(err, CXM_EINVAL, -1, "",
                                 "duration \"%.40s\": must not be negative", str);
        if (!is_digit(*p))
            return cxm_err_field(err, CXM_EINVAL, -1, "",
                                 "duration \"%.40s\": expected a number at \"%.16s\"", str, p);
        int64_t n = 0;
        for (; is_digit(*p); p++)
            if (n <= SLA_DURATION_MAX)   /* past it, it is too long anyway */
                n = n * 10 + (*p - '0');
        const char *after = p;
        while (is_space(*after))
            after++;
        if (!*p || is_space(*p)) {
            if (!first || *after)
                return cxm_err_field(err, CXM_EINVAL, -1, "",
                                     "duration \"%.40s\": a number without a unit "
                                     "(units: w, d, h, m, s)", str);
            total = n;   /* a bare integer: seconds */
            p = after;
            break;
        }
        size_t u = 0;
        while (u < NUNITS && units[u].c != *p)
            u++;
        if (u == NUNITS)
            return cxm_err_field(err, CXM_EINVAL, -1, "",
                                 "duration \"%.40s\": unknown unit '%c' (units: w, d, h, m, s)",
                                 str, *p);
        if (u < next)
            return cxm_err_field(err, CXM_EINVAL, -1, "",
                                 "duration \"%.40s\": units go from largest to smallest, "
                                 "each once (1d4h, 1h30m)", str);
        next = u + 1;
        if (n > SLA_DURATION_MAX || (total += n * units[u].secs) > SLA_DURATION_MAX)
            return cxm_err_field(err, CXM_EINVAL, -1, "",
                                 "duration \"%.40s\": longer than 366 days", str);
        p++;
        while (is_space(*p))
            p++;
        first = false;
    }
    if (total > SLA_DURATION_MAX)
        return cxm_err_field(err, CXM_EINVAL, -1, "",
                             "duration \"%.40s\": longer than 366 days", str);
    if (total <= 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "",
                             "duration \"%.40s\": must be more than 0", str);
    *out = total;
    return CXM_OK;
}

int sla_format_duration(int64_t seconds, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (seconds <= 0)
        return CXM_EINVAL;
    char best[SLA_DURATION_LEN] = "";
    size_t bestlen = SIZE_MAX;
    /* one candidate per leading unit: the rest is then the normalised
     * remainder, unique */
    for (size_t lead = 0; lead < NUNITS; lead++) {
        if (seconds < units[lead].secs)
            continue;
        char buf[SLA_DURATION_LEN];
        size_t len = 0;
        int64_t r = seconds;
        for (size_t u = lead; u < NUNITS; u++) {
            int64_t n = r / units[u].secs;
            r %= units[u].secs;
            if (!n)
                continue;
            int k = snprintf(buf + len, sizeof buf - len, "%" PRId64 "%c", n, units[u].c);
            if (k < 0 || (size_t)k >= sizeof buf - len)
                return CXM_ETOOBIG;   /* cannot happen: 26 bytes at most */
            len += (size_t)k;
        }
        if (len < bestlen) {
            memcpy(best, buf, len + 1);
            bestlen = len;
        }
    }
    if (bestlen >= cap)
        return CXM_ETOOBIG;
    memcpy(out, best, bestlen + 1);
    return CXM_OK;
}

/* ---- calendars: parsing ------------------------------------------------------ */

static const char *const day_keys[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* "H:MM", "HH:MM" or "HH:MM:SS" in [p, e) into seconds after midnight;
 * 24:00 allowed (the caller decides where). */
static bool parse_clock(const char *p, const char *e, int32_t *out)
{
    int h, m, sec = 0;
    if (p == e || !is_digit(*p))
        return false;
    h = *p++ - '0';
    if (p < e && is_digit(*p))
        h = h * 10 + (*p++ - '0');
    if (e - p < 3 || *p != ':' || !is_digit(p[1]) || !is_digit(p[2]))
        return false;
    m = (p[1] - '0') * 10 + (p[2] - '0');
    p += 3;
    if (p < e) {
        if (e - p != 3 || *p != ':' || !is_digit(p[1]) || !is_digit(p[2]))
            return false;
        sec = (p[1] - '0') * 10 + (p[2] - '0');
        p += 3;
    }
    if (h > 24 || m > 59 || sec > 59 || (h == 24 && (m || sec)))
        return false;
    *out = h * 3600 + m * 60 + sec;
    return true;
}

/* "HH:MM" (or "HH:MM:SS" when there are seconds) of t. */
static void format_clock(int32_t t, char buf[16])
{
    if (t % 60)
        snprintf(buf, 16, "%02d:%02d:%02d", (int)(t / 3600), (int)(t / 60 % 60), (int)(t % 60));
    else
        snprintf(buf, 16, "%02d:%02d", (int)(t / 3600), (int)(t / 60 % 60));
}

static const char *trim(const char *p, const char **e)
{
    while (p < *e && is_space(*p))
        p++;
    while (*e > p && is_space((*e)[-1]))
        (*e)--;
    return p;
}

/* One weekday's spans from v (a string or null) into spans, sorted. */
static int parse_day(const json_t *v, const char *field, struct bizcal_span *spans, int *nspan,
                     struct cxm_err *err)
{
    *nspan = 0;
    if (json_is_null(v))
        return CXM_OK;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return cxm_err_field(err, CXM_EINVAL, -1, field,
                             "%s: must be opening hours such as \"09:00-17:00\", "
                             "\"09:00-12:00,13:00-17:00\" or \"24h\", or null (closed)", field);
    const char *s = json_string_value(v), *end = s + strlen(s);
    s = trim(s, &end);
    int n = 0;
    while (s < end) {   /* "" or blanks: closed */
        const char *e = memchr(s, ',', (size_t)(end - s));
        const char *next = e ? e + 1 : NULL;
        if (!e)
            e = end;
        const char *p = trim(s, &e);
        int len = (int)(e - p > 40 ? 40 : e - p);
        if (p == e)
            return cxm_err_field(err, CXM_EINVAL, -1, field, "%s: an empty span", field);
        int32_t open = 0, close = 0;
        const char *dash = memchr(p, '-', (size_t)(e - p));
        if (e - p == 3 && memcmp(p, "24h", 3) == 0) {
            close = (int32_t)DAY;
        } else {
            const char *e1 = dash, *p2 = dash ? dash + 1 : NULL, *e2 = e;
            if (!dash || !parse_clock(trim(p, &e1), e1, &open) ||
                !(p2 = trim(p2, &e2), parse_clock(p2, e2, &close)))
                return cxm_err_field(err, CXM_EINVAL, -1, field,
                                     "%s: \"%.*s\" is not a span HH:MM-HH:MM (or \"24h\")",
                                     field, len, p);
        }
        if (open >= close)
            return cxm_err_field(err, CXM_EINVAL, -1, field,
                                 "%s: \"%.*s\" does not close after it opens", field, len, p);
        if (n == BIZCAL_MAX_SPANS)
            return cxm_err_field(err, CXM_EINVAL, -1, field, "%s: more than %d spans", field,
                                 BIZCAL_MAX_SPANS);
        int i = n++;   /* insertion into the sorted spans */
        for (; i > 0 && spans[i - 1].open > open; i--)
            spans[i] = spans[i - 1];
        spans[i] = (struct bizcal_span){open, close};
        if (!next)
            break;
        if (next == end)   /* a trailing comma */
            return cxm_err_field(err, CXM_EINVAL, -1, field, "%s: an empty span", field);
        s = next;
    }
    for (int i = 1; i < n; i++) {
        if (spans[i].open < spans[i - 1].close) {
            char a[16], b[16], c[16], d[16];
            format_clock(spans[i - 1].open, a);
            format_clock(spans[i - 1].close, b);
            format_clock(spans[i].open, c);
            format_clock(spans[i].close, d);
            return cxm_err_field(err, CXM_EINVAL, -1, field, "%s: %s-%s and %s-%s overlap",
                                 field, a, b, c, d);
        }
    }
    *nspan = n;
    return CXM_OK;
}

static int parse_hours(const json_t *h, struct bizcal *c, struct cxm_err *err)
{
    if (!json_is_object(h))
        return cxm_err_field(err, CXM_EINVAL, -1, "hours",
                             "hours: must be an object of weekdays (mon .. sun)");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)h, key, v) {
        int d = 0;
        while (d < 7 && strcmp(day_keys[d], key) != 0)
            d++;
        char field[64];
        snprintf(field, sizeof field, "hours.%.40s", key);
        if (d == 7)
            return cxm_err_field(err, CXM_EINVAL, -1, field,
                                 "%s: unknown weekday (mon, tue, wed, thu, fri, sat, sun)",
                                 field);
        int rc = parse_day(v, field, c->span[d], &c->nspan[d], err);
        if (rc)
            return rc;
    }
    return CXM_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int parse_holidays(const json_t *a, struct bizcal *c, struct cxm_err *err)
{
    if (!json_is_array(a))
        return cxm_err_field(err, CXM_EINVAL, -1, "holidays",
                             "holidays: must be an array of dates (\"2026-12-25\")");
    if (json_array_size(a) > BIZCAL_MAX_HOLIDAYS)
        return cxm_err_field(err, CXM_EINVAL, -1, "holidays", "holidays: %zu dates, at most %d",
                             json_array_size(a), BIZCAL_MAX_HOLIDAYS);
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)a, i, v) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        int64_t t;
        bool ok = json_is_string(v) && json_string_length(v) == 10 && strlen(s) == 10 &&
                  s[4] == '-' && s[7] == '-';
        for (size_t k = 0; ok && k < 10; k++)
            ok = k == 4 || k == 7 || is_digit(s[k]);
        if (!ok || timefmt_parse(s, &t, NULL) != 0) {
            char field[64];
            snprintf(field, sizeof field, "holidays[%zu]", i);
            return cxm_err_field(err, CXM_EINVAL, -1, field,
                                 "%s: \"%.40s\" is not a date YYYY-MM-DD (years 1900-2999)",
                                 field, s);
        }
        c->holiday[i] = (int32_t)(t / DAY);
    }
    size_t n = json_array_size(a);
    qsort(c->holiday, n, sizeof c->holiday[0], cmp_i32);
    size_t u = 0;
    for (i = 0; i < n; i++)
        if (u == 0 || c->holiday[u - 1] != c->holiday[i])
            c->holiday[u++] = c->holiday[i];
    c->nholidays = u;
    for (i = u; i < n; i++)   /* equal calendars compare equal */
        c->holiday[i] = 0;
    return CXM_OK;
}

int bizcal_parse(const json_t *j, struct bizcal *c, struct cxm_err *err)
{
    if (!json_is_object(j))
        return cxm_err_field(err, CXM_EINVAL, -1, "",
                             "a calendar must be an object with hours and holidays");
    struct bizcal *tmp = cxm_calloc(1, sizeof *tmp);   /* 1.7 kB: off the stack */
    if (!tmp)
        return cxm_err_field(err, CXM_ENOMEM, -1, "", "out of memory");
    int rc = CXM_OK;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        if (strcmp(key, "hours") == 0) {
            rc = parse_hours(v, tmp, err);
        } else if (strcmp(key, "holidays") == 0) {
            rc = parse_holidays(v, tmp, err);
        } else {
            char field[64];
            snprintf(field, sizeof field, "%.40s", key);
            rc = cxm_err_field(err, CXM_EINVAL, -1, field,
                               "%s: unknown member (members: hours, holidays)", field);
        }
        if (rc)
            goto done;
    }
    bool open = false;
    for (int d = 0; d < 7; d++)
        open |= tmp->nspan[d] > 0;
    if (!open) {
        rc = cxm_err_field(err, CXM_EINVAL, -1, "hours",
                           "hours: the calendar is never open (give at least one weekday "
                           "hours such as \"09:00-17:00\")");
        goto done;
    }
    tmp->tz = c->tz;
    *c = *tmp;
done:
    free(tmp);
    return rc;
}

static int nspans(const struct bizcal *c, int wd)
{
    int n = c->nspan[wd];
    return n < 0 ? 0 : n > BIZCAL_MAX_SPANS ? BIZCAL_MAX_SPANS : n;
}

static size_t nholidays(const struct bizcal *c)
{
    return c->nholidays > BIZCAL_MAX_HOLIDAYS ? BIZCAL_MAX_HOLIDAYS : c->nholidays;
}

json_t *bizcal_json(const struct bizcal *c)
{
    json_t *doc = json_object(), *hours = json_object(), *hol = json_array();
    if (!doc || !hours || !hol)
        goto fail;
    for (int d = 0; d < 7; d++) {
        char buf[128];
        size_t len = 0;
        int n = nspans(c, d);
        for (int i = 0; i < n; i++) {
            const struct bizcal_span *sp = &c->span[d][i];
            char a[16], b[16];
            format_clock(sp->open, a);
            format_clock(sp->close, b);
            int k = sp->open == 0 && sp->close == DAY
                        ? snprintf(buf + len, sizeof buf - len, "%s24h", i ? "," : "")
                        : snprintf(buf + len, sizeof buf - len, "%s%s-%s", i ? "," : "", a, b);
            if (k < 0 || (size_t)k >= sizeof buf - len)
                goto fail;   /* 4 spans of 18 bytes fit */
            len += (size_t)k;
        }
        if (json_object_set_new(hours, day_keys[d], n ? json_string(buf) : json_null()))
            goto fail;
    }
    for (size_t i = 0; i < nholidays(c); i++) {
        int y;
        unsigned m, d;
        char buf[32];
        timefmt_civil_from_days(c->holiday[i], &y, &m, &d);
        snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
        if (json_array_append_new(hol, json_string(buf)))
            goto fail;
    }
    /* json_object_set_new takes the value even when it fails */
    int rc = json_object_set_new(doc, "hours", hours);
    hours = NULL;
    if (rc || (rc = json_object_set_new(doc, "holidays", hol), hol = NULL, rc))
        goto fail;
    return doc;
fail:
    json_decref(hours);
    json_decref(hol);
    json_decref(doc);
    return NULL;
}

/* ---- calendars: time ----------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* 0 = Monday; day 0 (1970-01-01) was a Thursday. */
static int weekday(int64_t day)
{
    return (int)(((day + 3) % 7 + 7) % 7);
}

static int64_t to_utc(const struct bizcal *c, int64_t local)
{
    return c->tz ? tz_local_to_utc(c->tz, local) : local;
}

static int64_t local_day(const struct bizcal *c, int64_t t)
{
    return floor_div(t + (c->tz ? tz_offset(c->tz, t) : 0), DAY);
}

/* The index of the first holiday on or after day. */
static size_t holiday_at_or_after(const struct bizcal *c, int64_t day)
{
    size_t lo = 0, hi = nholidays(c);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->holiday[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool is_holiday(const struct bizcal *c, int64_t day)
{
    size_t i = holiday_at_or_after(c, day);
    return i < nholidays(c) && c->holiday[i] == day;
}

/* Nominal business seconds of each weekday and of a week. */
struct nominal {
    int64_t day[7];
    int64_t week;
    bool fixed;          /* the zone has one offset at every instant */
};

static void nominal(const struct bizcal *c, struct nominal *nm)
{
    nm->week = 0;
    for (int d = 0; d < 7; d++) {
        nm->day[d] = 0;
        for (int i = 0; i < nspans(c, d); i++)
            nm->day[d] += c->span[d][i].close - c->span[d][i].open;
        nm->week += nm->day[d];
    }
    int64_t off;
    nm->fixed = !c->tz || tz_is_fixed(c->tz, &off);
}

/* Nominal business seconds the holidays in [from, to) take away. */
static int64_t holiday_loss(const struct bizcal *c, const struct nominal *nm, int64_t from,
                            int64_t to)
{
    int64_t loss = 0;
    for (size_t i = holiday_at_or_after(c, from); i < nholidays(c) && c->holiday[i] < to; i++)
        loss += nm->day[weekday(c->holiday[i])];
    return loss;
}

/* How many of the `want` weeks from local Monday `monday` on keep the
 * offset in force at its start (each probe at a week's end catches a
 * change within the week, the zone changing at most once in 7 days).
 * Over those weeks every span lasts its nominal length. */
static int64_t steady_weeks(const struct bizcal *c, const struct nominal *nm, int64_t monday,
                            int64_t want)
{
    if (nm->fixed)
        return want;
    int64_t u = to_utc(c, monday * DAY), off = tz_offset(c->tz, u);
    for (int64_t k = 1; k <= want; k++)
        if (tz_offset(c->tz, u + k * WEEK) != off)
            return k - 1;
    return want;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

int64_t bizcal_add(const struct bizcal *c, int64_t start, int64_t seconds)
{
    if (seconds < 0)
        seconds = 0;
    if (!c)
        return sat_add(start, seconds);
    if (start < -T_LIMIT || start > T_LIMIT)
        return INT64_MAX;
    struct nominal nm;
    nominal(c, &nm);
    if (nm.week == 0)
        return INT64_MAX;
    int64_t cur = start, rem = seconds;
    /* the spans of the day before may still be running */
    for (int64_t d = local_day(c, start) - 1;; d++) {
        if (d > T_LIMIT / DAY)
            return INT64_MAX;
        int64_t ud;
        while (weekday(d) == 0 && (ud = to_utc(c, d * DAY)) >= cur) {
            /* a whole week ahead: skip as many as surely end before the
             * time runs out (q weeks hold at most q x week seconds) */
            int64_t q = (rem - 1) / nm.week, got;
            if (q > T_LIMIT / WEEK)
                return INT64_MAX;
            if (q == 0) {   /* one week, if its holidays leave it short */
                if (nm.week - holiday_loss(c, &nm, d, d + 7) >= rem ||
                    steady_weeks(c, &nm, d, 1) == 0)
                    break;
                q = 1;
            } else if ((q = steady_weeks(c, &nm, d, q)) == 0) {
                break;
            }
            got = q * nm.week - holiday_loss(c, &nm, d, d + 7 * q);
            rem -= got;
            d += 7 * q;
            cur = ud + q * WEEK;   /* the offset held: exactly q weeks later */
            if (d > T_LIMIT / DAY)
                return INT64_MAX;
        }
        if (is_holiday(c, d))
            continue;
        int wd = weekday(d);
        for (int i = 0; i < nspans(c, wd); i++) {
            int64_t a = to_utc(c, d * DAY + c->span[wd][i].open);
            int64_t b = to_utc(c, d * DAY + c->span[wd][i].close);
            if (b <= cur)
                continue;
            if (a > cur)
                cur = a;
            if (rem <= b - cur)
                return cur + rem;
            rem -= b - cur;
            cur = b;
        }
    }
}

int64_t bizcal_elapsed(const struct bizcal *c, int64_t from, int64_t to)
{
    if (to <= from)
        return 0;
    if (!c) {
        int64_t r;
        return __builtin_sub_overflow(to, from, &r) ? INT64_MAX : r;
    }
    from = from < -T_LIMIT ? -T_LIMIT : from > T_LIMIT ? T_LIMIT : from;
    to = to < -T_LIMIT ? -T_LIMIT : to > T_LIMIT ? T_LIMIT : to;
    if (to <= from)
        return 0;
    struct nominal nm;
    nominal(c, &nm);
    if (nm.week == 0)
        return 0;
    int64_t cur = from, total = 0;
    for (int64_t d = local_day(c, from) - 1;; d++) {
        int64_t ud = to_utc(c, d * DAY);
        if (ud >= to)   /* day d's spans all start at or after ud */
            return total;
        while (weekday(d) == 0 && ud >= cur && (to - ud) / WEEK > 0) {
            int64_t q = steady_weeks(c, &nm, d, (to - ud) / WEEK);
            if (q == 0)
                break;
            total += q * nm.week - holiday_loss(c, &nm, d, d + 7 * q);
            d += 7 * q;
            cur = ud = ud + q * WEEK;
        }
        if (ud >= to)
            return total;
        if (is_holiday(c, d))
            continue;
        int wd = weekday(d);
        for (int i = 0; i < nspans(c, wd); i++) {
            int64_t a = to_utc(c, d * DAY + c->span[wd][i].open);
            int64_t b = to_utc(c, d * DAY + c->span[wd][i].close);
            if (a < cur)
                a = cur;
            if (b > to)
                b = to;
            if (b > a)
                total += b - a;
        }
    }
}

bool bizcal_open_at(const struct bizcal *c, int64_t t)
{
    if (!c)
        return true;
    if (t < -T_LIMIT || t > T_LIMIT)
        return false;
    int64_t d0 = local_day(c, t);
    for (int64_t d = d0 - 1; d <= d0 + 1; d++) {
        if (is_holiday(c, d))
            continue;
        int wd = weekday(d);
        for (int i = 0; i < nspans(c, wd); i++)
            if (to_utc(c, d * DAY + c->span[wd][i].open) <= t &&
                t < to_utc(c, d * DAY + c->span[wd][i].close))
                return true;
    }
    return false;
}

/* ---- states ----------------------------------------------------------------------- */

enum sla_state sla_state(int64_t start, int64_t due, int64_t done, int64_t now)
{
    if (due == 0)
        return SLA_NONE;
    if (done != 0)
        return done <= due ? SLA_MET : SLA_BREACHED;
    if (now > due)
        return SLA_BREACHED;
    int64_t window;
    if (__builtin_sub_overflow(due, start, &window) || window < 0)
        window = 0;
    return now >= due - window / 4 ? SLA_AT_RISK : SLA_PENDING;
}

const char *sla_state_name(enum sla_state s)
{
    switch (s) {
    case SLA_NONE: return "none";
    case SLA_PENDING: return "pending";
    case SLA_AT_RISK: return "at_risk";
    case SLA_MET: return "met";
    case SLA_BREACHED: return "breached";
    }
    return "unknown";
}
