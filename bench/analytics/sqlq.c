/* sqlq.c - the SQLite peer of bench/analytics: runs the queries of
 * queries.sql on the database run.sh loaded (a file, with indexes), times
 * each (median of runs; Q4 per call in microseconds), and writes each
 * answer as canonical text, as q.c does for cxm.
 *
 *   sqlq DB QUERIES.sql OUTDIR RUNS CRM_TYPICAL CRM_HEAVY
 *
 * Prints one JSON object of figures on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#define MAXQ 8
#define MAXSQL 8192

struct query {
    char name[16];
    char fmt[32];            /* one letter a column: t, i, f */
    char sql[MAXSQL];
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fail(const char *what, sqlite3 *db)
{
    fprintf(stderr, "sqlq: %s: %s\n", what, db ? sqlite3_errmsg(db) : strerror(errno));
    exit(1);
}

static void append(char *dst, size_t cap, const char *s, size_t n)
{
    size_t len = strlen(dst);
    if (len + n + 1 > cap) {
        fprintf(stderr, "sqlq: query too long\n");
        exit(1);
    }
    memcpy(dst + len, s, n);
    dst[len + n] = 0;
}

/* queries.sql's date macros in SQLite; @ stands for the argument. */
static const struct { const char *name, *sql; } macros[] = {
    {"MONTH_START(", "strftime('%Y-%m', @, 'unixepoch')"},
    {"MONTH_LABEL(", "@"},
    {"YEAR_UTC(", "CAST(strftime('%Y', @, 'unixepoch') AS INTEGER)"},
};

/* Spells out the macros (arguments without parentheses). */
static void expand(const char *in, char *out, size_t cap)
{
    out[0] = 0;
    for (;;) {
        const char *p = NULL;
        size_t which = 0;
        for (size_t k = 0; k < sizeof macros / sizeof macros[0]; k++) {
            const char *x = strstr(in, macros[k].name);
            if (x && (!p || x < p)) {
                p = x;
                which = k;
            }
        }
        if (!p) {
            append(out, cap, in, strlen(in));
            return;
        }
        append(out, cap, in, (size_t)(p - in));
        const char *arg = p + strlen(macros[which].name), *end = strchr(arg, ')');
        if (!end) {
            fprintf(stderr, "sqlq: unclosed macro\n");
            exit(1);
        }
        for (const char *t = macros[which].sql; *t; t++)
            if (*t == '@')
                append(out, cap, arg, (size_t)(end - arg));
            else
                append(out, cap, t, 1);
        in = end + 1;
    }
}

/* Sections of queries.sql: "-- NAME: FMT" opens one, other comment lines
 * are skipped, the rest is the query. */
static size_t load_queries(const char *path, struct query *q)
{
    FILE *f = fopen(path, "r");
    char line[1024], raw[MAXSQL];
    size_t n = 0;
    if (!f)
        fail(path, NULL);
    raw[0] = 0;
    while (fgets(line, sizeof line, f)) {
        char name[16], fmt[32];
        if (sscanf(line, "-- %15[a-z0-9]: %31[tif]", name, fmt) == 2 &&
            strchr(line, ':')[1] == ' ' && strlen(line) < 40) {
            if (n && raw[0])
                expand(raw, q[n - 1].sql, MAXSQL);
            if (n == MAXQ) {
                fprintf(stderr, "sqlq: too many queries\n");
                exit(1);
            }
            snprintf(q[n].name, sizeof q[n].name, "%s", name);
            snprintf(q[n].fmt, sizeof q[n].fmt, "%s", fmt);
            n++;
            raw[0] = 0;
        } else if (strncmp(line, "--", 2) != 0 && n) {
            append(raw, sizeof raw, line, strlen(line));
        }
    }
    if (n && raw[0])
        expand(raw, q[n - 1].sql, MAXSQL);
    fclose(f);
    return n;
}

static const struct query *find(const struct query *q, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(q[i].name, name) == 0)
            return &q[i];
    fprintf(stderr, "sqlq: no query %s in queries.sql\n", name);
    exit(1);
}

/* Steps stmt to the end; with out, writes the rows as canonical text. */
static void run_stmt(sqlite3 *db, sqlite3_stmt *st, const char *fmt, FILE *out,
                     const char *prefix)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out)
            continue;
        if (prefix)
            fprintf(out, "%s\t", prefix);
        for (int c = 0; fmt[c]; c++) {
            if (c)
                fputc('\t', out);
            if (sqlite3_column_type(st, c) == SQLITE_NULL)
                fputs("null", out);
            else if (fmt[c] == 't')
                fputs((const char *)sqlite3_column_text(st, c), out);
            else if (fmt[c] == 'i')
                fprintf(out, "%lld", (long long)sqlite3_column_int64(st, c));
            else
                fprintf(out, "%.6f", sqlite3_column_double(st, c));
        }
        fputc('\n', out);
    }
    if (rc != SQLITE_DONE)
        fail("step", db);
    sqlite3_reset(st);
}

static FILE *open_canon(const char *dir, const char *name)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/sqlite_%s.txt", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        fprintf(stderr, "sqlq: path too long\n");
        exit(1);
    }
    FILE *f = fopen(path, "w");
    if (!f)
        fail(path, NULL);
    return f;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median seconds of runs executions; the first one writes the answer. */
static double timed(sqlite3 *db, const struct query *q, size_t runs, const char *dir,
                    const char *canon, const char *crm)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, q->sql, -1, &st, NULL) != SQLITE_OK)
        fail(q->name, db);
    if (crm && sqlite3_bind_text(st, 1, crm, -1, SQLITE_STATIC) != SQLITE_OK)
        fail("bind", db);
    double *t = calloc(runs, sizeof *t);
    if (!t)
        fail("out of memory", NULL);
    for (size_t i = 0; i < runs; i++) {
        FILE *out = i == 0 ? open_canon(dir, canon) : NULL;
        double t0 = now_s();
        run_stmt(db, st, q->fmt, out, crm);
        t[i] = now_s() - t0;
        if (out && (ferror(out) || fclose(out)))
            fail("write", NULL);
    }
    sqlite3_finalize(st);
    qsort(t, runs, sizeof *t, cmp_double);
    double m = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    free(t);
    return m;
}

/* Q4 per call: as many calls as fit in about two seconds (5-20000). */
static double per_call_us(sqlite3 *db, const struct query *q, const char *dir,
                          const char *canon, const char *crm)
{
    double first = timed(db, q, 1, dir, canon, crm);
    double budget = 2.0 / (first > 1e-7 ? first : 1e-7);
    size_t n = budget < 5 ? 5 : budget > 20000 ? 20000 : (size_t)budget;
    return timed(db, q, n, dir, canon, crm) * 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: sqlq DB QUERIES.sql OUTDIR RUNS CRM_TYPICAL CRM_HEAVY\n");
        return 2;
    }
    static struct query qs[MAXQ];
    size_t nq = load_queries(argv[2], qs);
    const char *dir = argv[3];
    size_t runs = (size_t)strtoul(argv[4], NULL, 10);
    if (runs < 1)
        runs = 1;
    sqlite3 *db;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail(argv[1], db);
    double q1 = timed(db, find(qs, nq, "q1"), runs, dir, "q1", NULL);
    double q2 = timed(db, find(qs, nq, "q2"), runs, dir, "q2", NULL);
    double q3 = timed(db, find(qs, nq, "q3"), runs, dir, "q3", NULL);
    double q4 = per_call_us(db, find(qs, nq, "q4"), dir, "q4", argv[5]);
    double q4h = per_call_us(db, find(qs, nq, "q4"), dir, "q4h", argv[6]);
    printf("{\"q1_s\":%.9f,\"q2_s\":%.9f,\"q3_s\":%.9f,\"q4_us\":%.3f,\"q4h_us\":%.3f,"
           "\"sqlite\":\"%s\"}\n", q1, q2, q3, q4, q4h, sqlite3_libversion());
    sqlite3_close(db);
    return 0;
}
