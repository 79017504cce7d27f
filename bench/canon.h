/* canon.h - the canonical customers of the bench data sets and what the
 * generators need to write them: weighted choices, the customers file
 * (bench/analytics and bench/journeys write the same one, byte for byte,
 * for the same count and seed), output files and count arguments.
 * Header-only: each generator is one file compiled alone. */
#ifndef CXM_BENCH_CANON_H
#define CXM_BENCH_CANON_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A weighted choice among n values; weights are integers. */
struct table {
    int n;
    const char *const *name;
    const unsigned *w;
    unsigned total;
};

static inline int pick(struct rng *r, const struct table *t)
{
    uint32_t x = rng_below(r, t->total);
    for (int i = 0; i < t->n; i++) {
        if (x < t->w[i])
            return i;
        x -= t->w[i];
    }
    return t->n - 1;
}

static inline void table_init(struct table *t)
{
    t->total = 0;
    for (int i = 0; i < t->n; i++)
        t->total += t->w[i];
}

/* "" is an empty cell */
static const char *const countries[] = {
    "US", "GB", "DE", "FR", "CA", "AU", "ES", "IT", "NL", "BR", "MX", "IN",
    "JP", "SE", "PL", "IE", "BE", "CH", "NZ", ""};
static const unsigned country_w[] = {28, 12, 10, 8, 6, 5, 4, 4, 3, 3, 3, 3,
                                     2, 2, 2, 1, 1, 1, 1, 1};
static const char *const genders[] = {"female", "male", "non-binary", ""};
static const unsigned gender_w[] = {49, 47, 1, 3};
static struct table t_country = {COUNT(countries), countries, country_w, 0};
static struct table t_gender = {COUNT(genders), genders, gender_w, 0};

/* dir/name for writing with a large buffer (up to four open at once). */
static inline FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        fprintf(stderr, "gen: path too long\n");
        exit(1);
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    static char bufs[4][1 << 20];
    static int nb;
    setvbuf(f, bufs[nb++ % 4], _IOFBF, sizeof bufs[0]);
    return f;
}

static inline void close_out(FILE *f)
{
    if (ferror(f) || fclose(f)) {
        fprintf(stderr, "gen: write failed: %s\n", strerror(errno));
        exit(1);
    }
}

static inline unsigned long long arg_count(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v > 100000000ull) {
        fprintf(stderr, "gen: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

/* dir/customers.csv (crm,country,birth_year,gender): ncust customers drawn
 * from r, the first draws of the seed. Ages in 2026 about 38 +- 13, 16-90;
 * 4% without a birth year. */
static inline void write_customers(const char *dir, struct rng *r, uint32_t ncust)
{
    table_init(&t_country);
    table_init(&t_gender);
    FILE *f = open_out(dir, "customers.csv");
    fputs("crm,country,birth_year,gender\n", f);
    for (uint32_t c = 1; c <= ncust; c++) {
        const char *country = countries[pick(r, &t_country)];
        int age = 10 + (int)rng_below(r, 24) + (int)rng_below(r, 24) +
                  (int)rng_below(r, 24);
        age = age < 16 ? 16 : age > 90 ? 90 : age;
        bool known = rng_below(r, 100) >= 4;
        const char *gender = genders[pick(r, &t_gender)];
        if (known)
            fprintf(f, "C%07" PRIu32 ",%s,%d,%s\n", c, country, 2026 - age, gender);
        else
            fprintf(f, "C%07" PRIu32 ",%s,,%s\n", c, country, gender);
    }
    close_out(f);
}

#endif
