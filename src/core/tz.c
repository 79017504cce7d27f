/* tz.c - see tz.h. A zone is its transitions (instant, offset after it)
 * from the TZif file, the offset before the first, and a POSIX rule for
 * every instant after the last transition (tz database files of recent
 * years list few transitions and leave the rest to the rule). */
#include "core/tz.h"

#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"

#define DAY 86400

/* A POSIX rule date: Mm.w.d, Jn (1-365, no Feb 29) or n (0-365). */
struct pdate {
    char kind;                   /* 'M', 'J' or 'N' */
    int m, w, d, n;
    int32_t time;                /* local wall time of the change, seconds */
};

struct posix {
    int32_t std, dst;            /* seconds east of UTC */
    bool has_dst;
    struct pdate start, end;     /* into and out of daylight-saving time */
};

struct tz {
    bool fixed;
    int64_t off;                 /* fixed: the offset */
    int64_t *at;                 /* transitions, ascending */
    int32_t *after;              /* offset from at[i] on */
    size_t n;
    int32_t before;              /* offset before at[0] */
    bool has_rule;
    struct posix rule;           /* after at[n - 1] (or always when n = 0) */
};

struct tz *tz_fixed(int64_t offset)
{
    struct tz *z = cxm_calloc(1, sizeof *z);
    if (z) {
        z->fixed = true;
        z->off = offset;
    }
    return z;
}

void tz_free(struct tz *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->after);
    free(z);
}

bool tz_is_fixed(const struct tz *z, int64_t *off)
{
    if (z->fixed || (z->n == 0 && (!z->has_rule || !z->rule.has_dst))) {
        *off = z->fixed ? z->off : z->has_rule ? z->rule.std : z->before;
        return true;
    }
    return false;
}

/* ---- POSIX rules -------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static const char *name(const char *s)
{
    if (*s == '<') {
        const char *e = strchr(s, '>');
        return e && e - s >= 4 ? e + 1 : NULL;
    }
    const char *p = s;
    while (is_alpha(*p))
        p++;
    return p - s >= 3 ? p : NULL;
}

static const char *number(const char *s, int lo, int hi, int *out)
{
    if (!is_digit(*s))
        return NULL;
    int v = 0;
    while (is_digit(*s) && v <= hi)
        v = v * 10 + (*s++ - '0');
    if (v < lo || v > hi)
        return NULL;
    *out = v;
    return s;
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to maxh. */
static const char *hms(const char *s, int maxh, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!(s = number(s, 0, maxh, &h)))
        return NULL;
    if (*s == ':' && (!(s = number(s + 1, 0, 59, &m)) ||
                      (*s == ':' && !(s = number(s + 1, 0, 59, &sec)))))
        return NULL;
    *out = sign * (h * 3600 + m * 60 + sec);
    return s;
}

static const char *pdate(const char *s, struct pdate *d)
{
    memset(d, 0, sizeof *d);
    if (*s == 'M') {
        d->kind = 'M';
        if (!(s = number(s + 1, 1, 12, &d->m)) || *s != '.' ||
            !(s = number(s + 1, 1, 5, &d->w)) || *s != '.' ||
            !(s = number(s + 1, 0, 6, &d->d)))
            return NULL;
    } else if (*s == 'J') {
        d->kind = 'J';
        if (!(s = number(s + 1, 1, 365, &d->n)))
            return NULL;
    } else {
        d->kind = 'N';
        if (!(s = number(s, 0, 365, &d->n)))
            return NULL;
    }
    d->time = 7200;
    if (*s == '/' && !(s = hms(s + 1, 167, &d->time)))
        return NULL;
    return s;
}

static int parse_rule(const char *s, struct posix *p)
{
    memset(p, 0, sizeof *p);
    int32_t west;
    if (!(s = name(s)) || !(s = hms(s, 24, &west)))
        return CXM_EINVAL;
    p->std = -west;
    if (!*s)
        return CXM_OK;
    if (!(s = name(s)))
        return CXM_EINVAL;
    p->has_dst = true;
    p->dst = p->std + 3600;
    if (*s && *s != ',') {
        if (!(s = hms(s, 24, &west)))
            return CXM_EINVAL;
        p->dst = -west;
    }
    if (!*s) {   /* no dates: the US rule POSIX gives as the default */
        p->start = (struct pdate){'M', 3, 2, 0, 0, 7200};
        p->end = (struct pdate){'M', 11, 1, 0, 0, 7200};
        return CXM_OK;
    }
    if (*s != ',' || !(s = pdate(s + 1, &p->start)) || *s != ',' ||
        !(s = pdate(s + 1, &p->end)) || *s)
        return CXM_EINVAL;
    return CXM_OK;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local midnight (as days since the epoch) of rule date d in year y. */
static int64_t rule_day(const struct pdate *d, int y)
{
    if (d->kind == 'J')
        return timefmt_days_from_civil(y, 1, 1) + d->n - 1 + (leap(y) && d->n >= 60);
    if (d->kind == 'N')
        return timefmt_days_from_civil(y, 1, 1) + d->n;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = timefmt_days_from_civil(y, (unsigned)d->m, 1);
    int dow = (int)(((first % 7) + 11) % 7);   /* 1970-01-01 was a Thursday */
    int day = 1 + (d->d - dow + 7) % 7 + (d->w - 1) * 7;
    int len = mdays[d->m - 1] + (d->m == 2 && leap(y));
    while (day > len)
        day -= 7;
    return first + day - 1;
}

static int32_t rule_offset(const struct posix *p, int64_t t)
{
    if (!p->has_dst)
        return p->std;
    int y;
    unsigned mo, d;
    int64_t local = t + p->std;
    timefmt_civil_from_days(local >= 0 ? local / DAY : -((-local + DAY - 1) / DAY), &y, &mo, &d);
    /* into DST at a standard-time wall clock, out of it at a DST one */
    int64_t start = rule_day(&p->start, y) * DAY + p->start.time - p->std;
    int64_t end = rule_day(&p->end, y) * DAY + p->end.time - p->dst;
    bool dst = start < end ? t >= start && t < end : !(t >= end && t < start);
    return dst ? p->dst : p->std;
}

int tz_parse_posix(const char *rule, struct tz **out, struct cxm_err *err)
{
    struct tz *z = cxm_calloc(1, sizeof *z);
    if (!z)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    if (!rule || parse_rule(rule, &z->rule)) {
        free(z);
        return cxm_err_set(err, CXM_EINVAL, "not a POSIX TZ rule: %.64s", rule ? rule : "");
    }
    z->has_rule = true;
    z->before = z->rule.std;
    *out = z;
    return CXM_OK;
}

/* ---- TZif ---------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct counts {
    uint32_t isut, isstd, leap, time, type, chr;
};

static bool header(const unsigned char *p, size_t len, struct counts *c, int *version)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return false;
    *version = p[4] ? p[4] - '0' : 1;
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chr = be32(p + 40);
    return c->type >= 1 && c->type <= 256 && c->time <= 100000 && c->chr <= 65536 &&
           c->leap <= 10000 && c->isut <= c->type && c->isstd <= c->type;
}

int tz_parse_tzif(const void *data, size_t len, struct tz **out, struct cxm_err *err)
{
    const unsigned char *p = data;
    struct counts c;
    int version;
    if (!header(p, len, &c, &version))
        return cxm_err_set(err, CXM_EINVAL, "not a TZif file");
    if (version < 2)
        return cxm_err_set(err, CXM_EINVAL, "TZif version 1: too old (no 64-bit data)");
    size_t v1 = (size_t)c.time * 5 + (size_t)c.type * 6 + c.chr + (size_t)c.leap * 8 +
                c.isstd + c.isut;
    if (44 + v1 > len || !header(p + 44 + v1, len - 44 - v1, &c, &version))
        return cxm_err_set(err, CXM_EINVAL, "TZif: truncated");
    const unsigned char *b = p + 44 + v1 + 44;
    size_t blen = (size_t)c.time * 9 + (size_t)c.type * 6 + c.chr + (size_t)c.leap * 12 +
                  c.isstd + c.isut;
    if ((size_t)(b - p) + blen > len)
        return cxm_err_set(err, CXM_EINVAL, "TZif: truncated");
    const unsigned char *types = b + (size_t)c.time * 9;
    struct tz *z = cxm_calloc(1, sizeof *z);
    if (!z || (c.time && (!(z->at = cxm_malloc(c.time * sizeof *z->at)) ||
                          !(z->after = cxm_malloc(c.time * sizeof *z->after))))) {
        tz_free(z);
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < c.time; i++) {
        unsigned idx = b[(size_t)c.time * 8 + i];
        if (idx >= c.type || (i && be64(b + (size_t)i * 8) <= z->at[i - 1])) {
            tz_free(z);
            return cxm_err_set(err, CXM_EINVAL, "TZif: bad transition %u", i);
        }
        z->at[i] = be64(b + (size_t)i * 8);
        z->after[i] = (int32_t)be32(types + (size_t)idx * 6);
    }
    z->n = c.time;
    z->before = (int32_t)be32(types);
    /* the footer: "\n<rule>\n" */
    const char *f = (const char *)b + blen;
    size_t flen = len - (size_t)(b - p) - blen;
    if (flen >= 2 && f[0] == '\n') {
        const char *e = memchr(f + 1, '\n', flen - 1);
        if (e && e > f + 1) {
            char rule[128];
            size_t rl = (size_t)(e - f - 1);
            if (rl >= sizeof rule || (memcpy(rule, f + 1, rl), rule[rl] = '\0',
                                      parse_rule(rule, &z->rule))) {
                tz_free(z);
                return cxm_err_set(err, CXM_EINVAL, "TZif: bad footer rule");
            }
            z->has_rule = true;
        }
    }
    *out = z;
    return CXM_OK;
}

/* ---- offsets ------------------------------------------------------------- */

int64_t tz_offset(const struct tz *z, int64_t utc)
{
    if (z->fixed)
        return z->off;
    if (z->n == 0)
        return z->has_rule ? rule_offset(&z->rule, utc) : z->before;
    if (utc < z->at[0])
        return z->before;
    if (utc >= z->at[z->n - 1] && z->has_rule)
        return rule_offset(&z->rule, utc);
    size_t lo = 0, hi = z->n;   /* the last transition at or before utc */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= utc)
            lo = mid;
        else
            hi = mid;
    }
    return z->after[lo];
}

int64_t tz_local_to_utc(const struct tz *z, int64_t local)
{
    if (z->fixed)
        return local - z->off;
    /* the offsets in force a day either side bracket the answer (no zone
     * changes twice within two days) */
    int64_t a = tz_offset(z, local - DAY), b = tz_offset(z, local + DAY);
    int64_t ua = local - a, ub = local - b;
    bool va = tz_offset(z, ua) == a, vb = tz_offset(z, ub) == b;
    if (va && vb)
        return ua < ub ? ua : ub;   /* it happens twice: the first */
    if (va || vb)
        return va ? ua : ub;
    /* it never happens: the clocks jumped over it; the jump's instant,
     * the first whose offset is b, lies between the two */
    int64_t lo = ub < ua ? ub : ua, hi = ub < ua ? ua : ub;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (tz_offset(z, mid) == b)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}
