/* cmd_benchmarks.c - `cxm benchmarks import FILE.csv` (outside figures:
 * an industry's NPS, a competitor's CSAT) and `cxm benchmarks compare
 * METRIC` (ours against theirs). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rows.h"
#include "core/csv.h"
#include "engine/engine.h"
#include "log.h"

static const char usage_text[] =
    "usage: cxm benchmarks import [--db FILE] FILE.csv\n"
    "       cxm benchmarks compare [--db FILE] METRIC [--format table|csv|json]\n\n"
    "import: loads outside figures to compare with, from a CSV with the header\n"
    "  name,metric,value,period[,segment]  e.g.  Retail UK,nps,32,2026,\n"
    "  period is YYYY, YYYY-Qn or YYYY-MM (empty: all time); metric one of the\n"
    "  report metrics. A row with the same name, metric, period and segment\n"
    "  replaces the earlier one. A bad row stops the file: nothing is stored.\n"
    "  Needs the database to itself (stop the server, as for import).\n"
    "compare: our value of METRIC over each benchmark's period against it,\n"
    "  with the gap (ours - theirs); the same rows as\n"
    "  GET /v1/benchmarks/compare?metric=METRIC.\n";

static size_t file_read(void *ctx, char *buf, size_t cap)
{
    FILE *f = ctx;
    size_t n = fread(buf, 1, cap, f);
    return n == 0 && ferror(f) ? (size_t)-1 : n;
}

/* Reads every row (all or nothing) into an array of benchmarks whose
 * strings live in pool. */
static int read_rows(const char *path, struct store_benchmark **out, size_t *n,
                     json_t *pool, struct cxm_err *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return cxm_err_set(err, CXM_EIO, "%s: %s", path, strerror(errno));
    struct csv_reader *r = csv_new(file_read, f);
    int col[5] = {-1, -1, -1, -1, -1};   /* name, metric, value, period, segment */
    static const char *const names[5] = {"name", "metric", "value", "period", "segment"};
    size_t cap = 0;
    int rc = r ? CXM_OK : cxm_err_set(err, CXM_ENOMEM, "out of memory");
    char **fields;
    size_t nf;
    int got = rc ? -1 : csv_next(r, &fields, &nf, err);
    if (!rc && got <= 0)
        rc = got < 0 ? CXM_EINVAL : cxm_err_set(err, CXM_EINVAL, "%s: empty file", path);
    for (size_t i = 0; !rc && i < nf; i++) {
        int k = 0;
        while (k < 5 && strcmp(fields[i], names[k]))
            k++;
        if (k == 5)
            rc = cxm_err_set(err, CXM_EINVAL, "%s:1: unknown column '%.40s' (name,"
                             " metric, value, period, segment)", path, fields[i]);
        else
            col[k] = (int)i;
    }
    for (int k = 0; !rc && k < 4; k++)
        if (col[k] < 0)
            rc = cxm_err_set(err, CXM_EINVAL, "%s:1: missing column '%s'", path, names[k]);
    while (!rc && (got = csv_next(r, &fields, &nf, err)) > 0) {
        size_t line = csv_line(r);
        const char *v[5] = {0};
        for (int k = 0; k < 5; k++)
            v[k] = col[k] >= 0 && (size_t)col[k] < nf ? fields[col[k]] : "";
        double value;
        if (!cxm_parse_f64(v[2], &value)) {
            rc = cxm_err_set(err, CXM_EINVAL, "%s:%zu: field value: not a number", path, line);
            break;
        }
        /* keep the strings alive in pool */
        json_t *keep = json_pack("[s,s,s,s]", v[0], v[1], v[3], v[4]);
        if (!keep || json_array_append_new(pool, keep) ||
            cxm_grow((void **)out, &cap, *n + 1, sizeof **out)) {
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
            break;
        }
        struct store_benchmark b = {
            .name = json_string_value(json_array_get(keep, 0)),
            .metric = json_string_value(json_array_get(keep, 1)),
            .period = json_string_value(json_array_get(keep, 2)),
            .segment = json_string_value(json_array_get(keep, 3)), .value = value};
        struct cxm_err e;
        cxm_err_clear(&e);
        if (benchmark_check(&b, &e)) {
            rc = cxm_err_set(err, CXM_EINVAL, "%s:%zu: field %s: %s", path, line,
                             e.field, e.msg);
            break;
        }
        (*out)[(*n)++] = b;
    }
    if (!rc && got < 0)
        rc = CXM_EINVAL;
    csv_free(r);
    if (f != stdin)
        fclose(f);
    return rc;
}

int cmd_benchmarks(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"format", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *db = NULL, *format = "table";
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'o': format = optarg; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: return cli_usage("benchmarks", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 2 != argc || (strcmp(argv[optind], "import") && strcmp(argv[optind], "compare")))
        return cli_usage("benchmarks", "say 'import FILE.csv' or 'compare METRIC'");
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        return cli_usage("benchmarks", "--format wants table, csv or json");
    bool import = !strcmp(argv[optind], "import");
    const char *arg = argv[optind + 1];
    log_set_level(LOG_WARN);
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine *e;
    struct engine_opts eo = {.sync = STORE_SYNC_FULL, .lock = import};
    if (engine_open(cli_db(db), &eo, &e, &err))
        return cli_fail("benchmarks", &err);
    int rc;
    if (import) {
        struct store_benchmark *rows = NULL;
        size_t n = 0;
        json_t *pool = json_array();
        rc = read_rows(arg, &rows, &n, pool, &err);
        struct engine_work w = {.op = ENGINE_BENCHMARKS, .bench = rows, .n = n};
        if (!rc && (rc = engine_run(e, &w)))
            err = w.err;
        if (!rc)
            fprintf(stderr, "cxm benchmarks: %zu benchmarks stored from %s\n", w.accepted, arg);
        free(rows);
        json_decref(pool);
    } else {
        json_t *doc = NULL;
        if (!(rc = engine_benchmarks_compare(e, arg, &doc, &err))) {
            rows_print(stdout, doc, format);
            json_decref(doc);
        }
    }
    engine_close(e);
    if (rc)
        return rc == CXM_EINVAL && !import ? cli_usage("benchmarks", "%s", err.msg)
                                           : cli_fail("benchmarks", &err);
    return EXIT_OK;
}
