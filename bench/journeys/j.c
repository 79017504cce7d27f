/* j.c - the cxm side of bench/journeys, in-process: opens the imported
 * database with engine_open (replay time, resident memory before and
 * after), times each journey view through engine_journeys (RUNS calls
 * each: best and median) and writes the answers as canonical text for the
 * comparison with DuckDB (run.sh sorts the lines).
 *
 *   j DB OUTDIR RUNS
 *
 * Views, all with the default 30-day gap over the whole period: funnel
 * (the usual stage order), flows (top 100000: every link), dropoffs (top
 * 100000: every cell), paths (top 100 timed; then one untimed call with
 * a top above the number of distinct paths, for the comparison) and
 * friction (timed only: with interactions alone only churn has cases).
 * Then new data: batches of 1,000 and 10,000 new interactions of existing
 * customers (late arrivals over the whole period) are ingested and the
 * funnel timed right after each: the first call after new data, which
 * extends the cached events instead of gathering them again.
 * Prints one JSON object of figures on stdout. Links the engine's release
 * objects; uses only engine.h, as the CLI does. */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/arena.h"
#include "../driver.h"
#include "engine/engine.h"
#include "engine/event.h"

#define GAP_S (30 * 86400)
#define ALL_ROWS 100000
#define PATHS_TOP 100
#define PATHS_ALL 3000000

static void die(const char *what, const struct cxm_err *err)
{
    fprintf(stderr, "j: %s: %s (%s)\n", what, err->msg, cxm_rc_str(err->code));
    exit(1);
}

struct timing {
    double best, median, first;   /* first: the first run (the engine may
                                     gather the events then) */
    double kept;                  /* the same query again, answered from the
                                     answer the engine keeps */
};

/* Runs the view runs times afresh (fresh: not the answer the engine keeps);
 * the best and median seconds, the last answer; then, with runs > 1, the
 * time of the kept answer. */
static struct timing timed(struct engine *e, const struct journey_query *q, size_t runs,
                           json_t **last)
{
    double *t = calloc(runs, sizeof *t);
    if (!t) {
        fprintf(stderr, "j: out of memory\n");
        exit(1);
    }
    *last = NULL;
    for (size_t i = 0; i < runs; i++) {
        struct cxm_err err;
        cxm_err_clear(&err);
        json_decref(*last);
        *last = NULL;
        /* fresh: the engine keeps answers per state of the data; the
         * runs time the work, not the kept answer */
        struct journey_query fq = *q;
        fq.fresh = true;
        double t0 = now_s();
        if (engine_journeys(e, &fq, last, &err))
            die(q->view, &err);
        t[i] = now_s() - t0;
    }
    double first = t[0];
    qsort(t, runs, sizeof *t, cmp_double);
    struct timing r = {t[0], runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2,
                       first, 0};
    /* then as a client asks: the first answer is kept, the second is it
     * (not for single runs: the check and the calls after new data) */
    for (int k = 0; runs > 1 && k < 2; k++) {
        struct cxm_err err;
        cxm_err_clear(&err);
        json_t *doc = NULL;
        double t0 = now_s();
        if (engine_journeys(e, q, &doc, &err))
            die(q->view, &err);
        r.kept = now_s() - t0;
        json_decref(doc);
    }
    free(t);
    return r;
}

/* ---- canonical text --------------------------------------------------- */

static FILE *open_canon(const char *dir, const char *name)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/cxm_%s.txt", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        fprintf(stderr, "j: path too long\n");
        exit(1);
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "j: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

static void close_canon(FILE *f)
{
    if (ferror(f) || fclose(f)) {
        fprintf(stderr, "j: write failed\n");
        exit(1);
    }
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "null";
}

static long long num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) {
        fprintf(stderr, "j: no integer '%s' in an answer\n", k);
        exit(1);
    }
    return (long long)json_integer_value(v);
}

/* episodes N; stage reached reached_or_beyond converted ("-" for the
 * last); funnel_times: stage median_hours p90_hours */
static void canon_funnel(const char *dir, json_t *doc)
{
    FILE *f = open_canon(dir, "funnel"), *ft = open_canon(dir, "funnel_times");
    fprintf(f, "episodes\t%lld\n", num(doc, "episodes"));
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "rows"), i, row) {
        fprintf(f, "%s\t%lld\t%lld\t", str(row, "stage"), num(row, "reached"),
                num(row, "reached_or_beyond"));
        if (json_object_get(row, "converted"))
            fprintf(f, "%lld\n", num(row, "converted"));
        else
            fputs("-\n", f);
        json_t *m = json_object_get(row, "median_hours"), *p = json_object_get(row, "p90_hours");
        if (json_is_number(m) && json_is_number(p))
            fprintf(ft, "%s\t%.2f\t%.2f\n", str(row, "stage"), json_number_value(m),
                    json_number_value(p));
    }
    close_canon(f);
    close_canon(ft);
}

/* link from to count; self tp count (A -> A repeats); volume tp count */
static void canon_flows(const char *dir, json_t *doc)
{
    FILE *f = open_canon(dir, "flows");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "links"), i, row)
        fprintf(f, "link\t%s\t%s\t%lld\n", str(row, "from"), str(row, "to"),
                num(row, "count"));
    json_array_foreach(json_object_get(doc, "nodes"), i, row) {
        if (num(row, "self"))
            fprintf(f, "self\t%s\t%lld\n", str(row, "touchpoint"), num(row, "self"));
        fprintf(f, "volume\t%s\t%lld\n", str(row, "touchpoint"), num(row, "volume"));
    }
    json_t *other = json_object_get(doc, "other");
    if (num(other, "links")) {
        fprintf(stderr, "j: flows left %lld links out; raise ALL_ROWS\n", num(other, "links"));
        exit(1);
    }
    close_canon(f);
}

/* episodes N (with a touchpoint); abandoned N; cell tp channel count */
static void canon_dropoffs(const char *dir, json_t *doc)
{
    FILE *f = open_canon(dir, "dropoffs");
    fprintf(f, "episodes\t%lld\nabandoned\t%lld\n", num(doc, "episodes"),
            num(doc, "abandoned"));
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "rows"), i, row)
        fprintf(f, "cell\t%s\t%s\t%lld\n", str(row, "last_touchpoint"), str(row, "channel"),
                num(row, "count"));
    close_canon(f);
}

/* a>b>c truncated(0/1) episodes purchases; returns the rows */
static size_t canon_paths(const char *dir, json_t *doc)
{
    FILE *f = open_canon(dir, "paths");
    size_t i, k;
    json_t *row, *tp;
    json_t *rows = json_object_get(doc, "rows");
    json_array_foreach(rows, i, row) {
        json_array_foreach(json_object_get(row, "path"), k, tp)
            fprintf(f, "%s%s", k ? ">" : "", json_string_value(tp) ? json_string_value(tp)
                                                                    : "null");
        fprintf(f, "\t%d\t%lld\t%lld\n", json_is_true(json_object_get(row, "truncated")),
                num(row, "episodes"), num(row, "purchases"));
    }
    close_canon(f);
    return json_array_size(rows);
}

static void put_timing(json_t *fig, const char *view, struct timing t)
{
    char k[64];
    snprintf(k, sizeof k, "%s_best", view);
    json_object_set_new(fig, k, json_real(t.best));
    snprintf(k, sizeof k, "%s_median", view);
    json_object_set_new(fig, k, json_real(t.median));
    snprintf(k, sizeof k, "%s_first", view);
    json_object_set_new(fig, k, json_real(t.first));
    snprintf(k, sizeof k, "%s_kept", view);
    json_object_set_new(fig, k, json_real(t.kept));
}

/* Ingests n new interactions of random existing customers (crm ids of
 * the canonical customers) spread over the two years. */
static void ingest_new(struct engine *e, size_t n, size_t ncust, unsigned *seed)
{
    static const char *const tps[] = {"homepage", "search", "product_page", "cart",
                                      "checkout", "help_center"};
    static const char *const st[] = {"awareness", "consideration", "consideration",
                                     "purchase", "purchase", "support"};
    struct event *ev = calloc(n, sizeof *ev);
    json_t *recs = json_array();
    struct arena a = {0};
    struct cxm_err err;
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        unsigned r = *seed >> 4;
        char crm[16], id[32];
        snprintf(crm, sizeof crm, "C%07zu", 1 + (size_t)r % ncust);
        snprintf(id, sizeof id, "new-%u-%zu", *seed, i);
        int k = (int)((r >> 20) % 6);
        json_t *rec = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "type", "interaction",
                                "crm", crm, "event_id", id,
                                "ts", (json_int_t)1719792000 + (json_int_t)(r % 63072000),
                                "touchpoint", tps[k], "stage", st[k], "channel", "web");
        json_array_append_new(recs, rec);
        if (event_decode(rec, (long)i, 0, &a, &ev[i], &err))
            die("event_decode", &err);
    }
    struct engine_work w = {.op = ENGINE_INGEST, .ev = ev, .n = n};
    if (engine_run(e, &w))
        die("ingest", &w.err);
    free(ev);
    arena_free(&a);
    json_decref(recs);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: j DB OUTDIR RUNS\n");
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

    json_t *fig = json_pack("{s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                            "open_s", open_s, "replay_s", st.replay_seconds,
                            "replay_rows", (json_int_t)st.replay_rows,
                            "rss_before", (json_int_t)rss0, "rss_after", (json_int_t)rss1,
                            "interactions", (json_int_t)st.interactions,
                            "customers", (json_int_t)st.customers,
                            "column_bytes", (json_int_t)st.column_bytes,
                            "runs", (json_int_t)runs);
    if (!fig) {
        fprintf(stderr, "j: out of memory\n");
        return 1;
    }
    json_t *doc;
    struct journey_query q = {.view = "funnel", .to = INT64_MAX, .gap = GAP_S};
    put_timing(fig, "funnel", timed(e, &q, runs, &doc));
    canon_funnel(dir, doc);
    json_object_set(fig, "episodes", json_object_get(doc, "episodes"));
    json_object_set(fig, "events", json_object_get(doc, "events"));
    json_decref(doc);

    q = (struct journey_query){.view = "flows", .to = INT64_MAX, .gap = GAP_S,
                               .top = ALL_ROWS};
    put_timing(fig, "flows", timed(e, &q, runs, &doc));
    canon_flows(dir, doc);
    json_decref(doc);

    q = (struct journey_query){.view = "dropoffs", .to = INT64_MAX, .gap = GAP_S,
                               .top = ALL_ROWS};
    put_timing(fig, "dropoffs", timed(e, &q, runs, &doc));
    canon_dropoffs(dir, doc);
    json_decref(doc);

    q = (struct journey_query){.view = "paths", .to = INT64_MAX, .gap = GAP_S,
                               .top = PATHS_TOP};
    put_timing(fig, "paths", timed(e, &q, runs, &doc));
    json_decref(doc);
    q.top = PATHS_ALL;
    struct timing all = timed(e, &q, 1, &doc);
    size_t npaths = canon_paths(dir, doc);
    json_decref(doc);
    if (npaths >= PATHS_ALL) {
        fprintf(stderr, "j: %zu paths or more; raise PATHS_ALL\n", npaths);
        return 1;
    }
    json_object_set_new(fig, "paths_distinct", json_integer((json_int_t)npaths));
    json_object_set_new(fig, "paths_all_s", json_real(all.best));

    q = (struct journey_query){.view = "friction", .to = INT64_MAX, .gap = GAP_S};
    put_timing(fig, "friction", timed(e, &q, runs, &doc));
    json_decref(doc);

    /* new data, then the first call after it */
    unsigned seed = 77;
    size_t sizes[] = {1000, 10000};
    for (size_t s = 0; s < 2; s++) {
        ingest_new(e, sizes[s], st.customers, &seed);
        q = (struct journey_query){.view = "funnel", .to = INT64_MAX, .gap = GAP_S};
        struct timing t = timed(e, &q, 1, &doc);
        json_decref(doc);
        char key[48];
        snprintf(key, sizeof key, "funnel_after_%zu_new_s", sizes[s]);
        json_object_set_new(fig, key, json_real(t.best));
    }

    json_object_set_new(fig, "rss_end", json_integer(rss_bytes()));
    engine_close(e);
    if (json_dumpf(fig, stdout, JSON_COMPACT) || putchar('\n') == EOF)
        return 1;
    json_decref(fig);
    return 0;
}
