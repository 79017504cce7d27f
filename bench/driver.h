/* driver.h - what the in-process bench drivers (bench/analytics/q.c,
 * bench/journeys/j.c, bench/decide/d.c) share: a monotonic clock, the
 * process's resident memory, and a double comparison for sorting timings.
 * Header-only: each driver is one file compiled alone. */
#ifndef CXM_BENCH_DRIVER_H
#define CXM_BENCH_DRIVER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Resident memory of this process in bytes (VmRSS), 0 when unknown. */
static inline long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtoll(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb * 1024;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
