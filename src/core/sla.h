/* sla.h - service levels of cases: durations ("4h", "2d"), business-hours
 * calendars (weekly opening hours in a time zone, holidays) and the due
 * time of "N working hours after this moment". Pure: no I/O, no clock. */
#ifndef CXM_SLA_H
#define CXM_SLA_H

#include <jansson.h>

#include "common.h"

struct tz;                       /* core/tz.h */

#define BIZCAL_MAX_SPANS 4       /* opening spans per weekday */
#define BIZCAL_MAX_HOLIDAYS 366
#define SLA_DURATION_MAX (366 * INT64_C(86400))
/* Bytes sla_format_duration needs at most, NUL included. */
#define SLA_DURATION_LEN 32

/* Seconds after local midnight, open < close <= 86400. */
struct bizcal_span { int32_t open, close; };

struct bizcal {
    const struct tz *tz;         /* borrowed; NULL: UTC */
    int nspan[7];                /* 0 = Monday ... 6 = Sunday */
    struct bizcal_span span[7][BIZCAL_MAX_SPANS];   /* sorted, non-overlapping */
    size_t nholidays;
    int32_t holiday[BIZCAL_MAX_HOLIDAYS];   /* local dates, days since
                                               1970-01-01, sorted, unique */
};

/* Parses a duration: "90s", "45m", "4h", "2d", "1w", combinations with
 * units from largest to smallest, each once ("1h30m", "1d 4h": spaces
 * between parts allowed), or a bare integer of seconds ("3600"). The
 * result is 0 < *out <= SLA_DURATION_MAX (366 days). s may be NULL.
 * CXM_EINVAL with a message naming what is wrong (err->field cleared:
 * the caller knows the field); *out untouched on error. */
int sla_parse_duration(const char *s, int64_t *out, struct cxm_err *err);

/* Writes seconds (> 0) the way sla_parse_duration reads it, in its
 * shortest exact form: a leading part of any size, then parts each
 * smaller than the unit above (s < 60, m < 60, h < 24, d < 7); of those
 * forms the one with the fewest characters, on a tie the larger leading
 * unit: 14400 "4h", 172800 "2d", 90 "90s", 5400 "90m", 86430 "1d30s",
 * 8 days "8d", 3661 "61m1s". SLA_DURATION_LEN bytes always suffice.
 * CXM_EINVAL when seconds <= 0, CXM_ETOOBIG when cap is too small; out is
 * then "" when cap > 0. */
int sla_format_duration(int64_t seconds, char *out, size_t cap);

/* Parses {"hours": {"mon": "09:00-17:00", "tue": "09:00-12:00,13:00-17:00",
 * ..., "sun": null or ""}, "holidays": ["2026-12-25", ...]} into c. Times
 * are HH:MM (or HH:MM:SS), 24:00 only as a closing time; spans may come in
 * any order and are stored sorted; "24h" is 00:00-24:00. Weekday keys mon
 * .. sun, a missing one is closed; "holidays" may be left out; holidays
 * are stored sorted, duplicates once. c->tz is left as the caller set it
 * (set it before or after). Errors: CXM_EINVAL with err->field naming the
 * member ("hours.tue", "holidays[2]", "hours" for a calendar with no open
 * hour at all, the key itself for an unknown key) and the message saying
 * why: bad times, open >= close, overlapping spans, more than
 * BIZCAL_MAX_SPANS spans, unknown keys, bad or too many dates. c is
 * untouched on error. */
int bizcal_parse(const json_t *j, struct bizcal *c, struct cxm_err *err);

/* c in the format bizcal_parse reads (every weekday present, closed ones
 * null, an all-day span as "24h"). NULL on out of memory. */
json_t *bizcal_json(const struct bizcal *c);

/* Times below: c is a calendar as bizcal_parse makes it (or NULL: plain
 * calendar time, always open); instants beyond 2^40 seconds (about 34,800
 * years) either side of 1970 are out of range. The zone's offset is taken
 * at each span's ends: a 09:00-17:00 span lasts 8 hours even on a DST
 * change day unless the change falls inside it, when it lasts the real
 * elapsed time; an opening or closing time that happens twice is the
 * first. The zone is assumed to change its offset at most once in any
 * 7 days (whole weeks are skipped arithmetically). */

/* The instant at which `seconds` of business time have elapsed after
 * start; a span's closing instant when the time runs out exactly there.
 * When start is outside business hours the count starts at the next
 * opening; seconds 0 (or negative): start itself when inside business
 * hours, else the next opening. INT64_MAX when that is out of range or
 * never (a calendar with no open hour). Whole weeks are skipped: in one
 * step in a fixed zone (plus one step per week with holidays), with one
 * offset lookup per week in a zone with DST; 366 days of a one-hour week
 * take microseconds in UTC, about a millisecond in Europe/Paris. */
int64_t bizcal_add(const struct bizcal *c, int64_t start, int64_t seconds);

/* Business seconds in [from, to) (0 when to <= from); c NULL: to - from
 * (saturated). bizcal_elapsed(c, bizcal_add(c, s, 0), bizcal_add(c, s, n))
 * == n. */
int64_t bizcal_elapsed(const struct bizcal *c, int64_t from, int64_t to);

/* Whether instant t is inside business hours (spans are half-open: open
 * at the opening second, closed at the closing one). c NULL: always. */
bool bizcal_open_at(const struct bizcal *c, int64_t t);

enum sla_state { SLA_NONE = 0, SLA_PENDING, SLA_AT_RISK, SLA_MET, SLA_BREACHED };

/* The state of one SLA clock: due 0 = no SLA (SLA_NONE). done: when the
 * target was met (first response, resolution), 0 = not yet. A target met
 * at exactly due is MET; done > due is BREACHED. Not done: now > due is
 * BREACHED; else AT_RISK when less than a quarter of the window
 * [start, due] remains (now >= due - (due - start) / 4, so now == due is
 * AT_RISK), else PENDING. */
enum sla_state sla_state(int64_t start, int64_t due, int64_t done, int64_t now);

/* "none", "pending", "at_risk", "met", "breached"; "unknown" otherwise. */
const char *sla_state_name(enum sla_state s);

#endif
