/* q.c - the cxm side of bench/analytics, in-process: opens the imported
 * database with engine_open (replay time, resident memory before and
 * after), times Q1-Q4 through engine_report (median of runs), writes each
 * answer as canonical text for the comparison with the peers, then
 * ingests the extra responses through the engine and times Q1 again.
 *
 *   q DB OUTDIR RUNS CRM_TYPICAL CRM_HEAVY [EXTRA.csv]
 *
 * Prints one JSON object of figures on stdout. Links the engine's release
 * objects; uses only engine.h and event.h, as the CLI does. */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/arena.h"
#include "../driver.h"
#include "engine/engine.h"
#include "engine/event.h"

#define END_TS 1782864000                 /* 2026-07-01T00:00:00Z (gen.c) */
#define Q3_FROM (END_TS - 90 * 86400)     /* the last 90 days */
#define BATCH 5000                        /* as cxm import */

static void die(const char *what, const struct cxm_err *err)
{
    fprintf(stderr, "q: %s: %s (%s)\n", what, err->msg, cxm_rc_str(err->code));
    exit(1);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs q runs times; returns the median seconds and the last answer. */
static double timed(struct engine *e, const struct report_query *q, size_t runs,
                    json_t **last)
{
    double *t = calloc(runs, sizeof *t);
    if (!t) {
        fprintf(stderr, "q: out of memory\n");
        exit(1);
    }
    *last = NULL;
    for (size_t i = 0; i < runs; i++) {
        struct cxm_err err;
        cxm_err_clear(&err);
        json_decref(*last);
        double t0 = now_s();
        if (engine_report(e, q, last, &err))
            die(q->metric, &err);
        t[i] = now_s() - t0;
    }
    double m = median(t, runs);
    free(t);
    return m;
}

/* ---- canonical text: one row a line, tab-separated, numbers to 6
 * decimals, "null" for none; run.sh sorts the lines ---------------------- */

static void put_text(FILE *f, json_t *v)
{
    if (json_is_string(v))
        fputs(json_string_value(v), f);
    else if (json_is_integer(v))
        fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        fputs("null", f);
}

static void put_int(FILE *f, json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        fputs("null", f);
}

static void put_num(FILE *f, json_t *v)
{
    if (json_is_number(v))
        fprintf(f, "%.6f", json_number_value(v));
    else
        fputs("null", f);
}

static FILE *open_canon(const char *dir, const char *name)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/cxm_%s.txt", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        fprintf(stderr, "q: path too long\n");
        exit(1);
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "q: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

static void close_canon(FILE *f)
{
    if (ferror(f) || fclose(f)) {
        fprintf(stderr, "q: write failed\n");
        exit(1);
    }
}

/* Q1, Q4: [dims...] n promoters passives detractors nps */
static void canon_nps(const char *dir, const char *name, json_t *doc,
                      const char *const *dims, size_t ndims, const char *prefix)
{
    FILE *f = open_canon(dir, name);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "rows"), i, row) {
        if (prefix)
            fprintf(f, "%s\t", prefix);
        for (size_t k = 0; k < ndims; k++) {
            put_text(f, json_object_get(row, dims[k]));
            fputc('\t', f);
        }
        put_int(f, json_object_get(row, "n"));
        fputc('\t', f);
        put_int(f, json_object_get(row, "promoters"));
        fputc('\t', f);
        put_int(f, json_object_get(row, "passives"));
        fputc('\t', f);
        put_int(f, json_object_get(row, "detractors"));
        fputc('\t', f);
        put_num(f, json_object_get(row, "value"));
        fputc('\n', f);
    }
    close_canon(f);
}

/* Q2: touchpoint n satisfied csat% mean */
static void canon_csat(const char *dir, json_t *doc)
{
    FILE *f = open_canon(dir, "q2");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "rows"), i, row) {
        put_text(f, json_object_get(row, "touchpoint"));
        fputc('\t', f);
        put_int(f, json_object_get(row, "n"));
        fputc('\t', f);
        put_int(f, json_object_get(row, "satisfied"));
        fputc('\t', f);
        put_num(f, json_object_get(row, "value"));
        fputc('\t', f);
        put_num(f, json_object_get(row, "mean"));
        fputc('\n', f);
    }
    close_canon(f);
}

/* Q3: csat_mean customers */
static void canon_customers(const char *dir, json_t *doc)
{
    FILE *f = open_canon(dir, "q3");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "rows"), i, row) {
        put_text(f, json_object_get(row, "csat_mean"));
        fputc('\t', f);
        put_int(f, json_object_get(row, "value"));
        fputc('\n', f);
    }
    close_canon(f);
}

/* cxm's id of the customer with this crm identity. */
static uint32_t customer_id(struct engine *e, const char *crm)
{
    struct cxm_err err;
    json_t *out = NULL;
    cxm_err_clear(&err);
    if (engine_search(e, crm, 1, &out, &err))
        die("search", &err);
    json_t *hit = json_array_get(json_object_get(out, "customers"), 0);
    json_int_t id = json_integer_value(json_object_get(hit, "id"));
    json_decref(out);
    if (id <= 0) {
        fprintf(stderr, "q: no customer with crm %s\n", crm);
        exit(1);
    }
    return (uint32_t)id;
}

/* Q4 per call, in microseconds: as many calls as fit in about two
 * seconds (at least 5, at most 20000), each timed on its own. */
static double q4_us(struct engine *e, const struct report_query *q, const char *dir,
                    const char *name, const char *crm, size_t *calls)
{
    json_t *doc;
    double first = timed(e, q, 1, &doc);
    canon_nps(dir, name, doc, NULL, 0, crm);
    json_decref(doc);
    double budget = 2.0 / (first > 1e-7 ? first : 1e-7);
    size_t n = budget < 5 ? 5 : budget > 20000 ? 20000 : (size_t)budget;
    *calls = n;
    double s = timed(e, q, n, &doc);
    json_decref(doc);
    return s * 1e6;
}

/* ---- the extra responses, through the engine ------------------------- */

struct sink {
    struct engine *e;
    json_t *recs;
    struct event *ev;
    struct arena arena;
    size_t n, stored;
};

static void flush(struct sink *s)
{
    if (!s->n)
        return;
    struct engine_work w = {.op = ENGINE_INGEST, .ev = s->ev, .n = s->n};
    if (engine_run(s->e, &w))
        die("ingest", &w.err);
    s->stored += w.accepted;
    s->n = 0;
    json_array_clear(s->recs);
    arena_free(&s->arena);
}

/* Splits a line of gen.c's feedback.csv (no quoting) into 8 fields. */
static int split(char *line, char *field[8])
{
    int n = 0;
    field[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = 0;
            break;
        }
        if (*p == ',') {
            *p = 0;
            if (n == 8)
                return -1;
            field[n++] = p + 1;
        }
    }
    return n == 8 ? 0 : -1;
}

static size_t ingest_csv(struct engine *e, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "q: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    struct sink s = {.e = e, .recs = json_array(), .ev = calloc(BATCH, sizeof *s.ev)};
    char line[512];
    long lineno = 0;
    if (!s.recs || !s.ev) {
        fprintf(stderr, "q: out of memory\n");
        exit(1);
    }
    while (fgets(line, sizeof line, f)) {
        char *fl[8];
        if (lineno++ == 0)
            continue;                      /* header */
        if (split(line, fl)) {
            fprintf(stderr, "q: %s:%ld: not a gen.c feedback row\n", path, lineno);
            exit(1);
        }
        json_t *rec = json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:s}",
                                "type", "feedback", "event_id", fl[0],
                                "ts", (json_int_t)strtoll(fl[1], NULL, 10),
                                "crm", fl[2], "kind", fl[3],
                                "score", (json_int_t)strtoll(fl[4], NULL, 10),
                                "channel", fl[5]);
        if (rec && *fl[6])
            json_object_set_new(rec, "touchpoint", json_string(fl[6]));
        if (rec && *fl[7])
            json_object_set_new(rec, "stage", json_string(fl[7]));
        if (!rec || json_array_append_new(s.recs, rec)) {
            fprintf(stderr, "q: out of memory\n");
            exit(1);
        }
        struct cxm_err err;
        cxm_err_clear(&err);
        if (event_decode(rec, lineno, 0, &s.arena, &s.ev[s.n], &err))
            die("decode", &err);
        if (++s.n == BATCH)
            flush(&s);
    }
    flush(&s);
    fclose(f);
    json_decref(s.recs);
    free(s.ev);
    arena_free(&s.arena);
    return s.stored;
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 7) {
        fprintf(stderr, "usage: q DB OUTDIR RUNS CRM_TYPICAL CRM_HEAVY [EXTRA.csv]\n");
        return 2;
    }
    const char *db = argv[1], *dir = argv[2];
    size_t runs = (size_t)strtoul(argv[3], NULL, 10);
    if (runs < 1)
        runs = 1;
    /* as src/main.c: the model's columns stay on mmap */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);

    long long rss0 = rss_bytes();
    struct engine *e;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine_opts eo = {.sync = STORE_SYNC_FULL, .lock = true};
    double t0 = now_s();
    if (engine_open(db, &eo, &e, &err))
        die("engine_open", &err);
    double open_s = now_s() - t0;
    long long rss1 = rss_bytes();
    struct engine_stats st;
    engine_stats(e, &st);

    json_t *doc;
    static const char *const q1_dims[] = {"channel", "month"};
    struct report_query q1 = {.metric = "nps", .by = "channel,month", .to = INT64_MAX};
    double q1_s = timed(e, &q1, runs, &doc);
    canon_nps(dir, "q1", doc, q1_dims, 2, NULL);
    json_decref(doc);
    /* the same over every row, as without the rollups */
    struct report_query q1r = q1;
    q1r.rows = true;
    double q1_rows_s = timed(e, &q1r, runs, &doc);
    json_decref(doc);

    struct report_query q2 = {.metric = "csat", .by = "touchpoint",
                              .where = "country = 'US' and age_band = '25-34'",
                              .to = INT64_MAX};
    double q2_s = timed(e, &q2, runs, &doc);
    canon_csat(dir, doc);
    json_decref(doc);

    struct report_query q3 = {.metric = "customers", .by = "csat_mean",
                              .where = "kind = 'csat'", .from = Q3_FROM,
                              .to = INT64_MAX};
    double q3_s = timed(e, &q3, runs, &doc);
    canon_customers(dir, doc);
    json_decref(doc);

    struct report_query q4 = {.metric = "nps", .to = INT64_MAX,
                              .customer = customer_id(e, argv[4])};
    size_t q4_calls, q4h_calls;
    double q4_t = q4_us(e, &q4, dir, "q4", argv[4], &q4_calls);
    q4.customer = customer_id(e, argv[5]);
    double q4h = q4_us(e, &q4, dir, "q4h", argv[5], &q4h_calls);

    json_t *fig = json_pack("{s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f,"
                            " s:f, s:I, s:I}",
                            "open_s", open_s, "replay_s", st.replay_seconds,
                            "replay_rows", (json_int_t)st.replay_rows,
                            "rss_before", (json_int_t)rss0, "rss_after", (json_int_t)rss1,
                            "feedback", (json_int_t)st.feedback,
                            "column_bytes", (json_int_t)st.column_bytes,
                            "q1_s", q1_s, "q2_s", q2_s, "q3_s", q3_s,
                            "q4_us", q4_t, "q4h_us", q4h,
                            "q4_calls", (json_int_t)q4_calls,
                            "q4h_calls", (json_int_t)q4h_calls);
    json_object_set_new(fig, "q1_rows_s", json_real(q1_rows_s));
    if (argc == 7) {
        /* more data through the engine, then Q1 again on the same process */
        double ti = now_s();
        size_t added = ingest_csv(e, argv[6]);
        double ingest_s = now_s() - ti;
        engine_stats(e, &st);
        double q1b_s = timed(e, &q1, runs, &doc);
        json_decref(doc);
        json_object_set_new(fig, "extra_rows", json_integer((json_int_t)added));
        json_object_set_new(fig, "extra_ingest_s", json_real(ingest_s));
        json_object_set_new(fig, "feedback_after", json_integer((json_int_t)st.feedback));
        json_object_set_new(fig, "q1_after_s", json_real(q1b_s));
        json_object_set_new(fig, "rss_after_extra", json_integer(rss_bytes()));
    }
    engine_close(e);
    if (!fig || json_dumpf(fig, stdout, JSON_COMPACT) || putchar('\n') == EOF)
        return 1;
    json_decref(fig);
    return 0;
}
