/* cmd_report.c - `cxm report METRIC`: the metrics of GET /v1/metrics as a
 * terminal table, CSV or JSON. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "engine/engine.h"
#include "log.h"

static const char usage_text[] =
    "usage: cxm report [--db FILE] METRIC [--by DIM,...] [--where EXPR]\n"
    "                  [--from DATE] [--to DATE] [--format table|csv|json]\n\n"
    "Computes a metric over the feedback, grouped and filtered; the same rows\n"
    "as GET /v1/metrics. Definitions and formulas: docs/metrics.md.\n\n"
    "  METRIC        nps, enps, csat, ces or responses\n"
    "  --by DIMS     channel, touchpoint, stage, survey, agent, team, country,\n"
    "                city, gender, age_band, nps_category, kind, and one of day,\n"
    "                week, month, quarter, year (a time series: each row then\n"
    "                carries its change from the previous period and whether\n"
    "                it is significant at 95%)\n"
    "  --where EXPR  a filter, e.g. \"country = 'US' and age_band = '25-34'\"\n"
    "                (fields: the dimensions above, and score, age, birth_year)\n"
    "  --from DATE   first day (or ISO 8601 time) included\n"
    "  --to DATE     last day included (or an ISO 8601 time, excluded)\n"
    "  --format F    table (default), csv or json\n\n"
    "Every row has the dimension values, value, n (responses behind it),\n"
    "margin (95%) and the metric's parts.\n";

/* Column names: the keys of the first row, else the dimensions and value. */
static json_t *columns(json_t *doc)
{
    json_t *rows = json_object_get(doc, "rows"), *cols = json_array();
    json_t *first = json_array_get(rows, 0);
    if (first) {
        const char *k;
        json_t *v;
        json_object_foreach(first, k, v)
            json_array_append_new(cols, json_string(k));
    } else {
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(doc, "by"), i, d)
            json_array_append(cols, d);
        json_array_append_new(cols, json_string("value"));
        json_array_append_new(cols, json_string("n"));
    }
    return cols;
}

/* A cell's text: empty for null; reals with two decimals in a table and
 * full precision in CSV. */
static void cell(json_t *v, bool table, char *out, size_t outsz)
{
    if (!v || json_is_null(v))
        snprintf(out, outsz, "%s", table ? "-" : "");
    else if (json_is_string(v))
        snprintf(out, outsz, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, outsz, table ? "%.2f" : "%.10g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, outsz, "%s", json_is_true(v) ? (table ? "yes" : "true")
                                                   : (table ? "no" : "false"));
    else
        snprintf(out, outsz, "?");
}

static void csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void print_csv(json_t *doc)
{
    json_t *cols = columns(doc), *rows = json_object_get(doc, "rows");
    size_t i, j;
    json_t *c, *row;
    json_array_foreach(cols, j, c) {
        if (j)
            putchar(',');
        csv_field(json_string_value(c));
    }
    fputs("\r\n", stdout);
    json_array_foreach(rows, i, row) {
        json_array_foreach(cols, j, c) {
            char buf[512];
            cell(json_object_get(row, json_string_value(c)), false, buf, sizeof buf);
            if (j)
                putchar(',');
            csv_field(buf);
        }
        fputs("\r\n", stdout);
    }
    json_decref(cols);
}

static void print_table(json_t *doc)
{
    json_t *cols = columns(doc), *rows = json_object_get(doc, "rows");
    size_t nc = json_array_size(cols), nr = json_array_size(rows);
    size_t *w = cxm_calloc(nc, sizeof *w);
    if (!w) {
        json_decref(cols);
        return;
    }
    char buf[512];
    for (size_t j = 0; j < nc; j++) {
        const char *name = json_string_value(json_array_get(cols, j));
        w[j] = strlen(name);
        for (size_t i = 0; i < nr; i++) {
            cell(json_object_get(json_array_get(rows, i), name), true, buf, sizeof buf);
            if (strlen(buf) > w[j])
                w[j] = strlen(buf);
        }
    }
    for (size_t j = 0; j < nc; j++)
        printf("%s%-*s", j ? "  " : "", (int)w[j], json_string_value(json_array_get(cols, j)));
    putchar('\n');
    for (size_t i = 0; i < nr; i++) {
        json_t *row = json_array_get(rows, i);
        for (size_t j = 0; j < nc; j++) {
            json_t *v = json_object_get(row, json_string_value(json_array_get(cols, j)));
            cell(v, true, buf, sizeof buf);
            /* numbers align right, text left */
            bool num = v && (json_is_number(v) || json_is_null(v));
            printf(num ? "%s%*s" : "%s%-*s", j ? "  " : "", (int)w[j], buf);
        }
        putchar('\n');
    }
    if (!nr)
        printf("(no responses match)\n");
    free(w);
    json_decref(cols);
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"by", required_argument, NULL, 'b'},
        {"where", required_argument, NULL, 'w'}, {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'}, {"format", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *db = NULL, *format = "table", *from = NULL, *to = NULL;
    struct report_query q = {.from = 0, .to = INT64_MAX};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'b': q.by = optarg; break;
        case 'w': q.where = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'o': format = optarg; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: return cli_usage("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage("report", "give one METRIC (nps, enps, csat, ces, responses)");
    q.metric = argv[optind];
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        return cli_usage("report", "--format wants table, csv or json");
    struct cxm_err err;
    cxm_err_clear(&err);
    if ((from && report_parse_bound(from, false, &q.from, &err)) ||
        (to && report_parse_bound(to, true, &q.to, &err)))
        return cli_usage("report", "%s", err.msg);
    log_set_level(LOG_WARN);
    struct engine *e;
    struct engine_opts eo = {.sync = STORE_SYNC_FULL, .lock = false};
    if (engine_open(cli_db(db), &eo, &e, &err))
        return cli_fail("report", &err);
    json_t *doc = NULL;
    int rc = engine_report(e, &q, &doc, &err);
    engine_close(e);
    if (rc)
        return rc == CXM_EINVAL ? cli_usage("report", "%s", err.msg) : cli_fail("report", &err);
    if (!strcmp(format, "json"))
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    else if (!strcmp(format, "csv"))
        print_csv(doc);
    else
        print_table(doc);
    if (!strcmp(format, "json"))
        putchar('\n');
    json_decref(doc);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
