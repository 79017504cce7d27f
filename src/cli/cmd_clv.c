/* cmd_clv.c - `cxm clv fit|model|predict` (BG/NBD + Gamma-Gamma lifetime
 * value) and `cxm churn at-risk|drivers` (who is slipping away and which
 * experience problems cost the most). The engine computes; this prints. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rows.h"
#include "engine/engine.h"
#include "log.h"

static const char clv_usage[] =
    "usage: cxm clv fit [--db FILE] [--calibration-end DATE] [--unit day|week|month]\n"
    "                   [--format table|json]\n"
    "       cxm clv model [--db FILE] [--format table|json]\n"
    "       cxm clv predict [--db FILE] [--horizon N] [--discount RATE] [--top N]\n"
    "                       [--format table|csv|json]\n\n"
    "fit: fits BG/NBD (purchase frequency, P(alive)) and Gamma-Gamma (order value)\n"
    "  on every customer's purchase days up to the calibration end (default: the\n"
    "  latest order day; that day included), time in --unit (default week). The\n"
    "  model is stored and used by predictions, profiles and churn until the next\n"
    "  fit. Orders after the calibration end are the holdout the checks compare\n"
    "  with. Needs the database to itself (stop the server, or POST /v1/clv/fit).\n"
    "model: the report of the model in use.\n"
    "predict: expected purchases and predicted CLV over --horizon periods of the\n"
    "  model's unit (default 52), discounted at the annual --discount rate\n"
    "  (default 0), as of the latest order day; totals and the --top N customers\n"
    "  (default 20) by predicted CLV.\n";

static const char churn_usage[] =
    "usage: cxm churn at-risk [--db FILE] [--max-p-alive P] [--min-value V] [--limit N]\n"
    "                         [--horizon N] [--discount RATE] [--format table|csv|json]\n"
    "       cxm churn drivers [--db FILE] [--horizon N] [--format table|csv|json]\n\n"
    "at-risk: customers whose P(alive) is at most --max-p-alive (default 0.5) and\n"
    "  whose historic value or value if alive is at least --min-value (default 0),\n"
    "  ranked by value at risk = (1 - P(alive)) x what they would bring over the\n"
    "  horizon if alive; with their last NPS and CSAT, complaints in the last 90\n"
    "  days and last contact. Needs a fitted model (cxm clv fit).\n"
    "drivers: the share of customers at risk (P(alive) < 0.5) with its 95% margin\n"
    "  and the value at risk, by last NPS category, last CES, complaints and the\n"
    "  channel of the last order.\n";

enum { O_DB = 1, O_FORMAT, O_END, O_UNIT, O_HORIZON, O_DISCOUNT, O_TOP, O_MAXP,
       O_MINV, O_LIMIT, O_HELP };

struct args {
    const char *db, *format, *end, *unit;
    double horizon, discount, max_p, min_value;
    long top, limit;
};

static int num(const char *cmd, const char *opt, const char *s, double *out)
{
    if (!cxm_parse_f64(s, out) || !isfinite(*out))
        return cli_usage(cmd, "%s wants a number, not '%s'", opt, s);
    return EXIT_OK;
}

static int count(const char *cmd, const char *opt, const char *s, long *out)
{
    double d;
    if (!cxm_parse_f64(s, &d) || d < 0 || d > 1e6 || d != floor(d))
        return cli_usage(cmd, "%s wants a whole number 0..1000000, not '%s'", opt, s);
    *out = (long)d;
    return EXIT_OK;
}

/* Parses options after the subcommand; the subcommand stays argv[1]. */
static int parse(const char *cmd, const char *usage, int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, O_DB}, {"format", required_argument, NULL, O_FORMAT},
        {"calibration-end", required_argument, NULL, O_END},
        {"unit", required_argument, NULL, O_UNIT},
        {"horizon", required_argument, NULL, O_HORIZON},
        {"discount", required_argument, NULL, O_DISCOUNT},
        {"top", required_argument, NULL, O_TOP},
        {"max-p-alive", required_argument, NULL, O_MAXP},
        {"min-value", required_argument, NULL, O_MINV},
        {"limit", required_argument, NULL, O_LIMIT},
        {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
    *a = (struct args){.format = "table", .horizon = 52, .max_p = 0.5, .top = 20,
                       .limit = 50};
    int c, rc = EXIT_OK;
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DB: a->db = optarg; break;
        case O_FORMAT: a->format = optarg; break;
        case O_END: a->end = optarg; break;
        case O_UNIT: a->unit = optarg; break;
        case O_HORIZON: rc = num(cmd, "--horizon", optarg, &a->horizon); break;
        case O_DISCOUNT: rc = num(cmd, "--discount", optarg, &a->discount); break;
        case O_MAXP: rc = num(cmd, "--max-p-alive", optarg, &a->max_p); break;
        case O_MINV: rc = num(cmd, "--min-value", optarg, &a->min_value); break;
        case O_TOP: rc = count(cmd, "--top", optarg, &a->top); break;
        case O_LIMIT: rc = count(cmd, "--limit", optarg, &a->limit); break;
        case O_HELP: fputs(usage, stdout); return -1;
        default: return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (rc)
        return rc;
    if (strcmp(a->format, "table") && strcmp(a->format, "csv") && strcmp(a->format, "json"))
        return cli_usage(cmd, "--format wants table, csv or json");
    return EXIT_OK;
}

static void print_json(json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    if (s) {
        puts(s);
        free(s);
    }
}

static void print_fit(json_t *doc, const char *format)
{
    if (strcmp(format, "table")) {
        print_json(doc);
        return;
    }
    json_t *b = json_object_get(doc, "bgnbd"), *g = json_object_get(doc, "gamma_gamma");
    printf("customers        %lld (%lld with repeat purchases)\n",
           (long long)json_integer_value(json_object_get(doc, "customers")),
           (long long)json_integer_value(json_object_get(doc, "repeat_customers")));
    printf("calibration      %s .. %s, unit %s\n",
           json_string_value(json_object_get(doc, "first_purchase")),
           json_string_value(json_object_get(doc, "calibration_end")),
           json_string_value(json_object_get(doc, "unit")));
    printf("BG/NBD           r=%.4g alpha=%.4g a=%.4g b=%.4g  loglik=%.6g  %s\n",
           json_number_value(json_object_get(b, "r")),
           json_number_value(json_object_get(b, "alpha")),
           json_number_value(json_object_get(b, "a")),
           json_number_value(json_object_get(b, "b")),
           json_number_value(json_object_get(b, "loglik")),
           json_is_true(json_object_get(b, "converged")) ? "converged" : "NOT converged");
    if (json_is_object(g))
        printf("Gamma-Gamma      p=%.4g q=%.4g v=%.4g  loglik=%.6g  %s (%lld customers)\n",
               json_number_value(json_object_get(g, "p")),
               json_number_value(json_object_get(g, "q")),
               json_number_value(json_object_get(g, "v")),
               json_number_value(json_object_get(g, "loglik")),
               json_is_true(json_object_get(g, "converged")) ? "converged" : "NOT converged",
               (long long)json_integer_value(json_object_get(g, "customers")));
    else
        printf("Gamma-Gamma      not fitted (too few repeat customers with positive spend)\n");
    json_t *checks = json_object_get(doc, "checks");
    printf("\nrepeat purchases in calibration: observed vs fitted customers\n");
    json_t *h = json_object_get(checks, "repeat_histogram");
    json_t *doc2 = json_pack("{s:O}", "rows", h);
    rows_print(stdout, doc2, "table");
    json_decref(doc2);
    json_t *ho = json_object_get(checks, "holdout");
    if (json_is_object(ho)) {
        printf("\nholdout %s .. %s: actual %.0f purchases, predicted %.1f\n",
               json_string_value(json_object_get(ho, "from")),
               json_string_value(json_object_get(ho, "to")),
               json_number_value(json_object_get(ho, "actual")),
               json_number_value(json_object_get(ho, "predicted")));
        doc2 = json_pack("{s:O}", "rows", json_object_get(ho, "by_frequency"));
        rows_print(stdout, doc2, "table");
        json_decref(doc2);
    }
}

static int finish(const char *cmd, int rc, const struct cxm_err *err)
{
    if (!rc)
        return EXIT_OK;
    if (rc == CXM_EINVAL)
        return cli_usage(cmd, "%s", err->msg);
    return cli_fail(cmd, err);
}

static void print_totals(json_t *doc, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++) {
        char cell[64];
        rows_cell(json_object_get(doc, keys[i]), true, cell, sizeof cell);
        printf("%-22s %s\n", keys[i], cell);
    }
    putchar('\n');
}

int cmd_clv(int argc, char **argv)
{
    struct args a;
    int u = parse("clv", clv_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (optind + 1 != argc)
        return cli_usage("clv", "say fit, model or predict");
    const char *sub = argv[optind];
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine *e;
    json_t *doc = NULL;
    int rc;
    if ((!strcmp(sub, "fit") || !strcmp(sub, "model")) && !strcmp(a.format, "csv"))
        return cli_usage("clv", "%s prints a report: --format table or json", sub);
    if (!strcmp(sub, "fit")) {
        struct clv_fit_opts o = {.unit = a.unit};
        double d;
        if (a.unit && clv_unit_days(a.unit, &d))
            return cli_usage("clv", "--unit wants day, week or month");
        if (a.end && report_parse_bound(a.end, false, NULL, &o.calibration_end, &err))
            return cli_usage("clv", "--calibration-end: %s", err.msg);
        if ((rc = cli_open_engine("clv", a.db, true, &e)))
            return rc;
        if (!(rc = engine_clv_fit(e, &o, &doc, &err)))
            print_fit(doc, a.format);
    } else if (!strcmp(sub, "model")) {
        if ((rc = cli_open_engine("clv", a.db, false, &e)))
            return rc;
        if (!(rc = engine_clv_model(e, &doc, &err)))
            print_fit(doc, a.format);
    } else if (!strcmp(sub, "predict")) {
        struct clv_predict_opts o = {.horizon = a.horizon, .discount = a.discount,
                                     .top = (size_t)a.top};
        if ((rc = cli_open_engine("clv", a.db, false, &e)))
            return rc;
        if (!(rc = engine_clv_predict(e, &o, &doc, &err))) {
            if (!strcmp(a.format, "json")) {
                print_json(doc);
            } else {
                if (!strcmp(a.format, "table")) {
                    static const char *const keys[] = {
                        "as_of", "unit", "horizon", "discount", "customers",
                        "expected_purchases", "clv_predicted", "clv_predicted_mean",
                        "p_alive_mean", "clv_historic", NULL};
                    print_totals(doc, keys);
                }
                json_t *d2 = json_pack("{s:O}", "rows", json_object_get(doc, "top"));
                rows_print(stdout, d2, a.format);
                json_decref(d2);
            }
        }
    } else {
        return cli_usage("clv", "unknown subcommand '%s': say fit, model or predict", sub);
    }
    json_decref(doc);
    engine_close(e);
    return finish("clv", rc, &err);
}

int cmd_churn(int argc, char **argv)
{
    struct args a;
    int u = parse("churn", churn_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (optind + 1 != argc)
        return cli_usage("churn", "say at-risk or drivers");
    const char *sub = argv[optind];
    if (strcmp(sub, "at-risk") && strcmp(sub, "drivers"))
        return cli_usage("churn", "unknown subcommand '%s': say at-risk or drivers", sub);
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine *e;
    int rc = cli_open_engine("churn", a.db, false, &e);
    if (rc)
        return rc;
    json_t *doc = NULL;
    struct clv_predict_opts po = {.horizon = a.horizon, .discount = a.discount};
    if (!strcmp(sub, "at-risk")) {
        struct at_risk_opts o = {.predict = po, .max_p_alive = a.max_p,
                                 .min_value = a.min_value, .limit = (size_t)a.limit};
        if (!(rc = engine_churn_at_risk(e, &o, &doc, &err))) {
            if (!strcmp(a.format, "json")) {
                print_json(doc);
            } else {
                if (!strcmp(a.format, "table")) {
                    static const char *const keys[] = {"as_of", "customers", "matched",
                                                       "value_at_risk", NULL};
                    print_totals(doc, keys);
                }
                /* flatten the score objects for a table or CSV */
                json_t *rows = json_object_get(doc, "rows"), *row;
                size_t i;
                json_array_foreach(rows, i, row) {
                    const char *k[] = {"last_nps", "last_csat"};
                    for (int j = 0; j < 2; j++) {
                        json_t *s = json_object_get(row, k[j]);
                        json_object_set(row, k[j], json_is_object(s) ?
                                        json_object_get(s, "score") : json_null());
                    }
                    json_object_del(row, "t_x");
                    json_object_del(row, "T");
                    json_object_del(row, "first_purchase");
                }
                rows_print(stdout, doc, a.format);
            }
        }
    } else if (!(rc = engine_churn_drivers(e, &po, &doc, &err))) {
        if (!strcmp(a.format, "json")) {
            print_json(doc);
        } else {
            if (!strcmp(a.format, "table")) {
                static const char *const keys[] = {"as_of", "customers", "at_risk_share",
                                                   "value_at_risk", NULL};
                print_totals(doc, keys);
            }
            /* one table: a dimension column, then each group */
            json_t *all = json_array(), *dims = json_object_get(doc, "drivers"), *d;
            size_t i;
            json_array_foreach(dims, i, d) {
                json_t *rows = json_object_get(d, "rows"), *row;
                size_t j;
                json_array_foreach(rows, j, row) {
                    json_t *o2 = json_pack("{s:O}", "dimension", json_object_get(d, "dimension"));
                    json_object_update(o2, row);
                    json_array_append_new(all, o2);
                }
            }
            json_t *d2 = json_pack("{s:o}", "rows", all);
            rows_print(stdout, d2, a.format);
            json_decref(d2);
        }
    }
    json_decref(doc);
    engine_close(e);
    return finish("churn", rc, &err);
}
