/* timefmt.h - ISO 8601 / RFC 3339 timestamps to and from unix seconds, by
 * pure calendar arithmetic. Never reads the clock or the time zone. */
#ifndef CXM_TIMEFMT_H
#define CXM_TIMEFMT_H

#include <stdint.h>

#include "common.h"

/* Bytes timefmt_format needs, NUL included (any int64_t fits). */
#define TIMEFMT_LEN 32

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM|+HHMM|+HH)" with 'T'
 * or ' ' as separator, or a date alone "YYYY-MM-DD" (00:00:00 UTC). A
 * date-time without an offset is an error: local time is ambiguous. Years
 * 1900..2999; month, day of month (leap years), hour 0-23, minute 0-59 and
 * second 0-60 are range-checked (60 rolls into the next minute). The
 * fraction is dropped. s must not be NULL. Returns 0 and sets *out, or
 * CXM_EINVAL with err (may be NULL) saying why; *out untouched on error. */
int timefmt_parse(const char *s, int64_t *out, struct cxm_err *err);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf, NUL-terminated. */
void timefmt_format(int64_t t, char buf[TIMEFMT_LEN]);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
 * Hinnant's days_from_civil / civil_from_days). m is 1..12, d is 1..31
 * (not checked against the month). z must lie within the years an int
 * holds (|z| <= TIMEFMT_MAX_DAYS); asserted. */
#define TIMEFMT_MAX_DAYS INT64_C(780000000000)
int64_t timefmt_days_from_civil(int y, unsigned m, unsigned d);
void timefmt_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

#endif
