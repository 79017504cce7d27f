/* cmd_report.c - `cxm report METRIC`: the metrics of GET /v1/metrics as a
 * terminal table, CSV, JSON or an Excel workbook (libxlsxwriter). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "cli/cli.h"
#include "core/tz.h"
#include "cli/rows.h"
#include "core/buf.h"
#include "engine/engine.h"
#include "log.h"

static const char usage_text[] =
    "usage: cxm report [--db FILE] METRIC [--by DIM,...] [--where EXPR]\n"
    "                  [--from DATE] [--to DATE] [--format table|csv|json|xlsx]\n"
    "                  [--output FILE]\n\n"
    "Computes a metric over the feedback, grouped and filtered; the same rows\n"
    "as GET /v1/metrics. Definitions and formulas: docs/metrics.md.\n\n"
    "  METRIC        over answers: nps, enps, csat, ces, responses, customers\n"
    "                (distinct customers with a matching answer), consistency\n"
    "                (across channels); over customers: retention, churn,\n"
    "                repeat_purchase_rate, clv_historic, revenue_by_loyalty,\n"
    "                cohort, journey_satisfaction\n"
    "  --by DIMS     channel, touchpoint, stage, survey, agent, team, country,\n"
    "                city, gender, age_band, nps_category, kind, csat_mean (a\n"
    "                customer's mean CSAT over the matching answers, rounded),\n"
    "                and one of day, week, month, quarter, year (a time\n"
    "                series: each row then\n"
    "                carries its change from the previous period and whether\n"
    "                it is significant at 95%)\n"
    "  --where EXPR  a filter, e.g. \"country = 'US' and age_band = '25-34'\"\n"
    "                (fields: the dimensions above, and score, age, birth_year)\n"
    "  --from DATE   first day (or ISO 8601 time) included\n"
    "  --to DATE     last day included (or an ISO 8601 time, excluded)\n"
    "  --format F    table (default), csv, json or xlsx (an Excel workbook;\n"
    "                needs --output)\n"
    "  --customer ID only this customer's profile (merged customers included)\n"
    "  --tz ZONE     UTC (default), a fixed offset like +02:00 or a zone like\n"
    "                Europe/Paris (with its daylight-saving time): where days,\n"
    "                weeks, months... and dates of --from/--to begin\n"
    "  --output FILE write to FILE instead of standard output (replaced only\n"
    "                once complete)\n\n"
    "Every row has the dimension values, value, n (responses behind it),\n"
    "margin (95%) and the metric's parts.\n";

/* --- Excel workbook ------------------------------------------------------ */

/* Widest column, in characters: longer text is cut off on screen, not in
 * the cell. */
#define XLSX_MAX_WIDTH 60
/* Room for the autofilter's drop-down button beside a header. */
#define XLSX_FILTER_BUTTON 3

struct xlsx_fmt {
    lxw_format *bold, *count, *dec1, *dec2;
};

static int xlsx_check(lxw_error e, const char *what, struct cxm_err *err)
{
    if (e == LXW_NO_ERROR)
        return 0;
    return cxm_err_set(err, CXM_EIO, "xlsx: %s: %s", what, lxw_strerror(e));
}

/* Reals in score units (CES, CSAT's mean) show two decimals; percentages
 * and NPS points one. */
static bool two_decimals(const char *metric, const char *col)
{
    if (!strncmp(col, "mean", 4))
        return true;
    return !strcmp(metric, "ces") &&
           (!strcmp(col, "value") || !strcmp(col, "margin") || !strcmp(col, "change"));
}

/* Characters a cell shows with the formats below (UTF-8 bytes: roughly). */
static size_t shown_width(json_t *v, bool two)
{
    char buf[512];
    if (json_is_real(v))
        snprintf(buf, sizeof buf, two ? "%.2f" : "%.1f", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "TRUE" : "FALSE");
    else
        rows_cell(v, false, buf, sizeof buf);
    return strlen(buf);
}

/* One cell: numbers as numbers, booleans as TRUE/FALSE, null left empty.
 * Text goes in as a string, never as a formula. */
static lxw_error xlsx_cell(lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, json_t *v,
                           const struct xlsx_fmt *f, bool two)
{
    if (!v || json_is_null(v))
        return LXW_NO_ERROR;
    if (json_is_string(v))
        return worksheet_write_string(ws, r, c, json_string_value(v), NULL);
    if (json_is_integer(v))
        return worksheet_write_number(ws, r, c, (double)json_integer_value(v), f->count);
    if (json_is_real(v))
        return worksheet_write_number(ws, r, c, json_real_value(v), two ? f->dec2 : f->dec1);
    if (json_is_boolean(v))
        return worksheet_write_boolean(ws, r, c, json_is_true(v), NULL);
    char buf[512];
    rows_cell(v, false, buf, sizeof buf);
    return worksheet_write_string(ws, r, c, buf, NULL);
}

static lxw_error xlsx_width(lxw_worksheet *ws, lxw_col_t c, size_t chars)
{
    if (chars > XLSX_MAX_WIDTH)
        chars = XLSX_MAX_WIDTH;
    return worksheet_set_column(ws, c, c, (double)chars + 1, NULL);
}

/* The report sheet: a bold header row (frozen, with an autofilter) and
 * one row per report row, in the columns of the CSV. */
static int xlsx_report_sheet(lxw_workbook *wb, const struct xlsx_fmt *f, json_t *doc,
                             struct cxm_err *err)
{
    const char *metric = json_string_value(json_object_get(doc, "metric"));
    json_t *rows = json_object_get(doc, "rows");
    json_t *cols = rows_columns(doc);
    size_t nc = json_array_size(cols), nr = json_array_size(rows);
    int rc = 0;
    if (!metric || !cols || !nc) {
        rc = cxm_err_set(err, CXM_EINVAL, "xlsx: the report has no metric or columns");
        goto out;
    }
    /* Excel's limits: 1048576 rows (one is the header), 16384 columns */
    if (nr >= LXW_ROW_MAX || nc > LXW_COL_MAX) {
        rc = cxm_err_set(err, CXM_ETOOBIG, "xlsx: %zu rows of %zu columns do not fit a worksheet",
                         nr, nc);
        goto out;
    }
    lxw_worksheet *ws = workbook_add_worksheet(wb, metric);
    if (!ws) {
        rc = cxm_err_set(err, CXM_EIO, "xlsx: cannot add the worksheet '%s'", metric);
        goto out;
    }
    for (size_t j = 0; j < nc && !rc; j++) {
        const char *name = json_string_value(json_array_get(cols, j));
        bool two = two_decimals(metric, name);
        lxw_col_t c = (lxw_col_t)j;
        size_t w = strlen(name) + XLSX_FILTER_BUTTON;
        rc = xlsx_check(worksheet_write_string(ws, 0, c, name, f->bold), "header", err);
        for (size_t i = 0; i < nr && !rc; i++) {
            json_t *v = json_object_get(json_array_get(rows, i), name);
            rc = xlsx_check(xlsx_cell(ws, (lxw_row_t)(i + 1), c, v, f, two), name, err);
            size_t sw = shown_width(v, two);
            if (sw > w)
                w = sw;
        }
        if (!rc)
            rc = xlsx_check(xlsx_width(ws, c, w), "column width", err);
    }
    if (rc)
        goto out;
    worksheet_freeze_panes(ws, 1, 0);
    rc = xlsx_check(worksheet_autofilter(ws, 0, 0, (lxw_row_t)nr, (lxw_col_t)(nc - 1)),
                    "autofilter", err);
out:
    json_decref(cols);
    return rc;
}

/* The "about" sheet: what was asked and when the workbook was made. */
static int xlsx_about_sheet(lxw_workbook *wb, const struct xlsx_fmt *f, json_t *doc,
                            struct cxm_err *err)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, "about");
    if (!ws)
        return cxm_err_set(err, CXM_EIO, "xlsx: cannot add the worksheet 'about'");
    char dims[512] = "", when[32] = "";
    size_t i, len = 0;
    json_t *d;
    json_array_foreach(json_object_get(doc, "by"), i, d) {
        int n = snprintf(dims + len, sizeof dims - len, "%s%s", i ? ", " : "",
                         json_string_value(d) ? json_string_value(d) : "?");
        if (n < 0 || (size_t)n >= sizeof dims - len)
            return cxm_err_set(err, CXM_ETOOBIG, "xlsx: too many dimensions");
        len += (size_t)n;
    }
    time_t now = time(NULL);
    struct tm tm;
    if (now == (time_t)-1 || !gmtime_r(&now, &tm) ||
        !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return cxm_err_set(err, CXM_EIO, "xlsx: cannot read the clock");
    static const char *const keys[] = {"metric", "dimensions", "where", "from",
                                       "to", "seq", "generated (UTC)"};
    json_t *vals[] = {json_object_get(doc, "metric"), NULL, json_object_get(doc, "where"),
                      json_object_get(doc, "from"), json_object_get(doc, "to"),
                      json_object_get(doc, "seq"), NULL};
    size_t w0 = 0, w1 = strlen(dims);
    if (strlen(when) > w1)
        w1 = strlen(when);
    int rc = 0;
    for (size_t r = 0; r < sizeof keys / sizeof keys[0] && !rc; r++) {
        lxw_row_t row = (lxw_row_t)r;
        rc = xlsx_check(worksheet_write_string(ws, row, 0, keys[r], f->bold), keys[r], err);
        if (strlen(keys[r]) > w0)
            w0 = strlen(keys[r]);
        if (rc)
            break;
        lxw_error e;
        if (r == 1)
            e = worksheet_write_string(ws, row, 1, dims, NULL);
        else if (r == 6)
            e = worksheet_write_string(ws, row, 1, when, NULL);
        else
            e = xlsx_cell(ws, row, 1, vals[r], f, false);
        rc = xlsx_check(e, keys[r], err);
        if (vals[r] && shown_width(vals[r], false) > w1)
            w1 = shown_width(vals[r], false);
    }
    if (!rc)
        rc = xlsx_check(xlsx_width(ws, 0, w0), "column width", err);
    if (!rc)
        rc = xlsx_check(xlsx_width(ws, 1, w1), "column width", err);
    return rc;
}

/* Writes the report as a workbook at path (created or truncated); errors
 * name shown. On failure path may hold part of a workbook: the caller
 * removes it. */
static int write_xlsx(json_t *doc, const char *path, const char *shown, struct cxm_err *err)
{
    lxw_workbook *wb = workbook_new(path);
    if (!wb)
        return cxm_err_set(err, CXM_ENOMEM, "xlsx: cannot create a workbook");
    struct xlsx_fmt f = {workbook_add_format(wb), workbook_add_format(wb),
                         workbook_add_format(wb), workbook_add_format(wb)};
    int rc = 0;
    if (!f.bold || !f.count || !f.dec1 || !f.dec2) {
        rc = cxm_err_set(err, CXM_ENOMEM, "xlsx: cannot create the cell formats");
        goto fail;
    }
    format_set_bold(f.bold);
    format_set_num_format(f.count, "0");
    format_set_num_format(f.dec1, "0.0");
    format_set_num_format(f.dec2, "0.00");
    if ((rc = xlsx_report_sheet(wb, &f, doc, err)) || (rc = xlsx_about_sheet(wb, &f, doc, err)))
        goto fail;
    /* close writes the file and frees the workbook, failing or not; its
     * codes lose the system's reason, which errno may still hold */
    errno = 0;
    lxw_error e = workbook_close(wb);
    if (e == LXW_NO_ERROR)
        return 0;
    int sys = errno;
    return cxm_err_set(err, CXM_EIO, "cannot write %s: %s%s%s%s", shown, lxw_strerror(e),
                       sys ? " (" : "", sys ? strerror(sys) : "", sys ? ")" : "");
fail:
    lxw_workbook_free(wb);
    return rc;
}

/* --- output -------------------------------------------------------------- */

/* Flushes the finished tmp to disk and renames it to path, so path is
 * either the old file or the whole new one. Removes tmp on failure. */
static int commit_output(const char *tmp, const char *path, struct cxm_err *err)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC), e = 0;
    if (fd < 0 || fsync(fd) != 0)
        e = errno;
    if (fd >= 0 && close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (!e)
        return 0;
    unlink(tmp);
    return cxm_err_set(err, CXM_EIO, "cannot write %s: %s", path, strerror(e));
}

/* Writes doc as format to path by way of tmp (path + ".tmp"). */
static int write_output(json_t *doc, const char *format, const char *path,
                        struct cxm_err *err)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return cxm_err_set(err, CXM_EINVAL, "--output: path too long");
    /* Created here first, also for a workbook: libxlsxwriter would only
     * say it could not create the file, not why. */
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return cxm_err_set(err, CXM_EIO, "cannot write %s: %s", path, strerror(errno));
    int rc = 0;
    if (strcmp(format, "xlsx")) {
        rows_print(f, doc, format);
        int e = ferror(f) ? EIO : 0;
        if (fclose(f) != 0 && !e)
            e = errno;
        if (e)
            rc = cxm_err_set(err, CXM_EIO, "cannot write %s: %s", path, strerror(e));
    } else {
        fclose(f);
        rc = write_xlsx(doc, tmp, path, err);
    }
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return commit_output(tmp, path, err);
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"by", required_argument, NULL, 'b'},
        {"where", required_argument, NULL, 'w'}, {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'}, {"format", required_argument, NULL, 'o'},
        {"output", required_argument, NULL, 'O'}, {"help", no_argument, NULL, 'h'},
        {"customer", required_argument, NULL, 'c'}, {"tz", required_argument, NULL, 'z'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL, *format = "table", *from = NULL, *to = NULL, *output = NULL, *tz = NULL;
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
        case 'z': tz = optarg; break;
        case 'c': {
            int64_t id;
            if (!cxm_parse_i64(optarg, &id) || id < 1 || id > UINT32_MAX - 1)
                return cli_usage("report", "--customer wants a customer id");
            q.customer = (uint32_t)id;
            break;
        }
        case 'O': output = optarg; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: return cli_usage("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage("report", "give one METRIC (see --help)");
    q.metric = argv[optind];
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json") &&
        strcmp(format, "xlsx"))
        return cli_usage("report", "--format wants table, csv, json or xlsx");
    if (output && !*output)
        return cli_usage("report", "--output wants a file name");
    /* a workbook is binary: never onto a terminal or into a pipe by default */
    if (!strcmp(format, "xlsx") && !output)
        return cli_usage("report", "--format xlsx needs --output FILE");
    struct cxm_err err;
    cxm_err_clear(&err);
    struct tz *zone = NULL;
    if (report_parse_tz(tz, &zone, &err) ||
        (from && report_parse_bound(from, false, zone, &q.from, &err)) ||
        (to && report_parse_bound(to, true, zone, &q.to, &err))) {
        tz_free(zone);
        return cli_usage("report", "%s", err.msg);
    }
    q.tz = zone;
    log_set_level(LOG_WARN);
    struct engine *e;
    struct engine_opts eo = {.sync = STORE_SYNC_FULL, .lock = false};
    if (engine_open(cli_db(db), &eo, &e, &err)) {
        tz_free(zone);
        return cli_fail("report", &err);
    }
    json_t *doc = NULL;
    int rc = engine_report(e, &q, &doc, &err);
    engine_close(e);
    tz_free(zone);
    if (rc)
        return rc == CXM_EINVAL ? cli_usage("report", "%s", err.msg) : cli_fail("report", &err);
    if (output) {
        rc = write_output(doc, format, output, &err);
        json_decref(doc);
        return rc ? cli_fail("report", &err) : EXIT_OK;
    }
    rows_print(stdout, doc, format);
    json_decref(doc);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}
