/* tz.h - time zones for calendar buckets: a fixed offset ("+02:00") or a
 * named zone of the tz database ("Europe/Paris") read from its TZif file,
 * with daylight-saving time: the file's transitions and, after the last
 * one, its POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"). Pure: no I/O,
 * no globals; the caller reads the file. Times are unix seconds. */
#ifndef CXM_TZ_H
#define CXM_TZ_H

#include "common.h"

struct tz;

/* A zone that is always offset seconds east of UTC. NULL on ENOMEM. */
struct tz *tz_fixed(int64_t offset);
/* A zone from the bytes of a TZif file (RFC 8536, version 2 or later: the
 * 64-bit data and the footer rule are used). CXM_EINVAL naming what is
 * wrong; CXM_ENOMEM. */
int tz_parse_tzif(const void *data, size_t len, struct tz **out, struct cxm_err *err);
/* A zone from a POSIX TZ rule alone ("EST5EDT,M3.2.0,M11.1.0"). */
int tz_parse_posix(const char *rule, struct tz **out, struct cxm_err *err);
void tz_free(struct tz *z);   /* accepts NULL */

/* Whether z has one offset at every instant (*off set when so). */
bool tz_is_fixed(const struct tz *z, int64_t *off);
/* Seconds east of UTC in force at instant utc. */
int64_t tz_offset(const struct tz *z, int64_t utc);
/* The instant at which the clocks of z show local (seconds since the
 * epoch as read on a wall clock). When that wall time happens twice (the
 * clocks went back), the first; when it never happens (the clocks jumped
 * over it), the instant of the jump: a day or month starts then. */
int64_t tz_local_to_utc(const struct tz *z, int64_t local);

#endif
