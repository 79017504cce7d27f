/* timefmt.c - see timefmt.h */
#include "core/timefmt.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

/* Imported data older or newer than this is a unit mistake (milliseconds
 * for seconds, two-digit years), not history. */
#define YEAR_MIN 1900
#define YEAR_MAX 2999

#define SECS_PER_DAY 86400

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30,
                                           31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29u : days[m - 1];
}

int64_t timefmt_days_from_civil(int y, unsigned m, unsigned d)
{
    assert(m >= 1 && m <= 12 && d >= 1 && d <= 31);
    /* Years start in March so the leap day ends the year. */
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    unsigned yoe = (unsigned)(yy - era * 400);                   /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;        /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

/* The int64_t year lets timefmt_format print any int64_t time. */
static void civil64(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                           /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void timefmt_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    assert(z >= -TIMEFMT_MAX_DAYS && z <= TIMEFMT_MAX_DAYS);
    int64_t yy;
    civil64(z, &yy, m, d);
    *y = (int)yy;
}

void timefmt_format(int64_t t, char buf[TIMEFMT_LEN])
{
    int64_t days = t / SECS_PER_DAY;
    int64_t secs = t % SECS_PER_DAY;
    if (secs < 0) { /* floor division: -1 is 23:59:59 of the day before */
        secs += SECS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil64(days, &y, &m, &d);
    unsigned s = (unsigned)secs;
    int n = snprintf(buf, TIMEFMT_LEN, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ",
                     y, m, d, s / 3600, s / 60 % 60, s % 60);
    /* Cannot happen: the widest year from an int64_t has 12 digits. */
    if (n < 0 || n >= TIMEFMT_LEN)
        buf[0] = '\0';
}

/* Reads exactly n ASCII digits. */
static bool take_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool take_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

static int bad(struct cxm_err *err, const char *s, const char *why)
{
    return cxm_err_set(err, CXM_EINVAL, "invalid time '%.64s': %s", s, why);
}

/* Parses the offset after the time: Z, +HH:MM, +HHMM or +HH (or '-').
 * Sets *secs to the offset east of UTC. */
static int parse_offset(const char *s, const char **p, int *secs, struct cxm_err *err)
{
    if (take_char(p, 'Z') || take_char(p, 'z')) {
        *secs = 0;
        return 0;
    }
    int sign;
    if (take_char(p, '+'))
        sign = 1;
    else if (take_char(p, '-'))
        sign = -1;
    else if (**p == '\0')
        return bad(err, s, "a UTC offset is required (Z, +HH:MM or -HH:MM)");
    else
        return bad(err, s, "expected Z, +HH:MM or -HH:MM after the time");
    int oh, om = 0;
    if (!take_digits(p, 2, &oh))
        return bad(err, s, "offset hours must be two digits");
    if (take_char(p, ':')) {
        if (!take_digits(p, 2, &om))
            return bad(err, s, "offset minutes must be two digits");
    } else if (**p >= '0' && **p <= '9') {
        if (!take_digits(p, 2, &om))
            return bad(err, s, "offset minutes must be two digits");
    }
    if (oh > 23 || om > 59)
        return bad(err, s, "offset out of range");
    *secs = sign * (oh * 3600 + om * 60);
    return 0;
}

int timefmt_parse(const char *s, int64_t *out, struct cxm_err *err)
{
    const char *p = s;
    int y, mo, d;
    if (!take_digits(&p, 4, &y) || !take_char(&p, '-') ||
        !take_digits(&p, 2, &mo) || !take_char(&p, '-') || !take_digits(&p, 2, &d))
        return bad(err, s, "expected YYYY-MM-DD");
    if (y < YEAR_MIN || y > YEAR_MAX)
        return bad(err, s, "year must be between 1900 and 2999");
    if (mo < 1 || mo > 12)
        return bad(err, s, "month must be 01-12");
    if (d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo))
        return bad(err, s, "no such day in that month");
    int64_t days = timefmt_days_from_civil(y, (unsigned)mo, (unsigned)d);
    if (*p == '\0') {
        *out = days * SECS_PER_DAY;
        return 0;
    }
    /* RFC 3339 allows lower-case 't' and 'z'; spreadsheets write ' '. */
    if (!take_char(&p, 'T') && !take_char(&p, 't') && !take_char(&p, ' '))
        return bad(err, s, "expected 'T' or ' ' between date and time");
    int h, mi, sec;
    if (!take_digits(&p, 2, &h) || !take_char(&p, ':') || !take_digits(&p, 2, &mi) ||
        !take_char(&p, ':') || !take_digits(&p, 2, &sec))
        return bad(err, s, "expected HH:MM:SS after the date");
    if (h > 23)
        return bad(err, s, "hour must be 00-23");
    if (mi > 59)
        return bad(err, s, "minute must be 00-59");
    if (sec > 60)
        return bad(err, s, "second must be 00-60");
    if (take_char(&p, '.') || take_char(&p, ',')) {
        if (*p < '0' || *p > '9')
            return bad(err, s, "expected digits after the decimal point");
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int off = 0;
    int rc = parse_offset(s, &p, &off, err);
    if (rc)
        return rc;
    if (*p != '\0')
        return bad(err, s, "unexpected characters after the offset");
    /* A leap second (:60) simply counts into the next minute. */
    *out = days * SECS_PER_DAY + h * 3600 + mi * 60 + sec - off;
    return 0;
}
