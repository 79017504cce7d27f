/* cmd_journey.c - `cxm journey VIEW`: the stage funnel, touchpoint flows,
 * common paths, drop-offs and friction of GET /v1/journeys/VIEW. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rows.h"
#include "engine/engine.h"
#include "log.h"

static const char usage_text[] =
    "usage: cxm journey funnel|flows|paths|dropoffs|friction|conformance [--db FILE]\n"
    "       [--where EXPR] [--from DATE] [--to DATE] [--gap DAYS] [--stages A,B,...]\n"
    "       [--goal STAGE] [--outcome detractor|negative_sentiment|high_effort|churn]\n"
    "       [--top N] [--max-len N] [--self-links] [--design FILE.json]\n"
    "       [--channel NAME] [--ended purchase|no_purchase]\n"
    "       [--format table|csv|json]\n\n"
    "Every customer's interactions, feedback and orders in the period, split into\n"
    "episodes where --gap days (default 30) pass without an event:\n"
    "  funnel    episodes reaching each stage (--stages in order; default the usual\n"
    "            awareness..loyalty present in the data), conversion to the next,\n"
    "            median and p90 hours between them\n"
    "  flows     touchpoint-to-touchpoint links with counts and shares (--top);\n"
    "            --channel keeps one channel's steps, --ended the journeys that\n"
    "            ended with a purchase or without (also for paths)\n"
    "  paths     the commonest touchpoint sequences (repeats collapsed, --max-len)\n"
    "            with conversion to purchase and mean satisfaction\n"
    "  dropoffs  episodes ending without a purchase (or --goal) by last touchpoint\n"
    "            and channel\n"
    "  friction  per touchpoint, detractor, negative-sentiment, high-effort and\n"
    "            churn rates of episodes with it against those without (lift with\n"
    "            a 95% interval), ranked by --outcome; and support journeys'\n"
    "            time to resolution\n"
    "  conformance  how many journeys follow the designed one (--design: JSON\n"
    "            {\"stages\":[{\"stage\":\"awareness\",\"touchpoints\":[...]},...]}) and\n"
    "            where they deviate: skipped stages, backward moves, unexpected\n"
    "            touchpoints, stages the design does not have\n"
    "--where filters customers (country, age_band, nps_category, p_alive...).\n"
    "Same answers as GET /v1/journeys/VIEW; see docs/journeys.md.\n";

int cmd_journey(int argc, char **argv)
{
    enum { O_DB = 1, O_WHERE, O_FROM, O_TO, O_GAP, O_STAGES, O_GOAL, O_OUT, O_TOP, O_LEN,
           O_SELF, O_FMT, O_DESIGN, O_CHANNEL, O_ENDED, O_HELP };
    static const struct option opts[] = {
        {"db", required_argument, NULL, O_DB}, {"where", required_argument, NULL, O_WHERE},
        {"from", required_argument, NULL, O_FROM}, {"to", required_argument, NULL, O_TO},
        {"gap", required_argument, NULL, O_GAP}, {"stages", required_argument, NULL, O_STAGES},
        {"goal", required_argument, NULL, O_GOAL}, {"outcome", required_argument, NULL, O_OUT},
        {"top", required_argument, NULL, O_TOP}, {"max-len", required_argument, NULL, O_LEN},
        {"self-links", no_argument, NULL, O_SELF}, {"format", required_argument, NULL, O_FMT},
        {"design", required_argument, NULL, O_DESIGN},
        {"channel", required_argument, NULL, O_CHANNEL},
        {"ended", required_argument, NULL, O_ENDED},
        {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
    const char *db = NULL, *format = "table", *from = NULL, *to = NULL, *design = NULL;
    struct journey_query q = {.to = INT64_MAX, .gap = 30 * 86400};
    int64_t v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DB: db = optarg; break;
        case O_WHERE: q.where = optarg; break;
        case O_FROM: from = optarg; break;
        case O_TO: to = optarg; break;
        case O_STAGES: q.stages = optarg; break;
        case O_GOAL: q.goal = optarg; break;
        case O_OUT: q.outcome = optarg; break;
        case O_SELF: q.self_links = true; break;
        case O_FMT: format = optarg; break;
        case O_DESIGN: design = optarg; break;
        case O_CHANNEL: q.channel = optarg; break;
        case O_ENDED: q.ended = optarg; break;
        case O_GAP:
            if (!cxm_parse_i64(optarg, &v) || v < 1 || v > 365)
                return cli_usage("journey", "--gap wants 1-365 days");
            q.gap = v * 86400;
            break;
        case O_TOP:
            if (!cxm_parse_i64(optarg, &v) || v < 1 || v > 10000)
                return cli_usage("journey", "--top wants 1-10000");
            q.top = (size_t)v;
            break;
        case O_LEN:
            if (!cxm_parse_i64(optarg, &v) || v < 1 || v > 32)
                return cli_usage("journey", "--max-len wants 1-32");
            q.max_len = (size_t)v;
            break;
        case O_HELP: fputs(usage_text, stdout); return EXIT_OK;
        default: return cli_usage("journey", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage("journey", "say funnel, flows, paths, dropoffs or friction");
    q.view = argv[optind];
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        return cli_usage("journey", "--format wants table, csv or json");
    struct cxm_err err;
    cxm_err_clear(&err);
    if ((from && report_parse_bound(from, false, NULL, &q.from, &err)) ||
        (to && report_parse_bound(to, true, NULL, &q.to, &err)))
        return cli_usage("journey", "%s", err.msg);
    char *djson = NULL;
    if (design) {
        int frc = cli_read_file(design, 1u << 20, &djson);
        if (frc)
            return cli_usage("journey", "--design: %s: %s", design,
                             frc == CXM_ETOOBIG ? "over 1 MiB" : "cannot read it");
        q.design = djson;
    }
    log_set_level(LOG_WARN);
    struct engine *e;
    struct engine_opts eo = {.sync = STORE_SYNC_FULL, .lock = false};
    if (engine_open(cli_db(db), &eo, &e, &err)) {
        free(djson);
        return cli_fail("journey", &err);
    }
    json_t *doc = NULL;
    int rc = engine_journeys(e, &q, &doc, &err);
    if (!rc) {
        if (!strcmp(format, "json")) {
            char *s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
            if (s)
                puts(s);
            free(s);
        } else {
            if (!json_object_get(doc, "rows") && json_object_get(doc, "deviations")) {
                /* conformance: the totals, then one row per deviation */
                printf("compared %lld, conforming %lld (%.1f%%)\n",
                       (long long)json_integer_value(json_object_get(doc, "compared")),
                       (long long)json_integer_value(json_object_get(doc, "conforming")),
                       json_number_value(json_object_get(doc, "conformance_pct")));
                json_t *all = json_array(), *dv = json_object_get(doc, "deviations"), *x;
                const char *kind;
                json_object_foreach(dv, kind, x) {
                    json_t *y;
                    size_t k;
                    json_array_foreach(x, k, y) {
                        /* one shape for all: stage (or from), detail, count */
                        json_t *st = json_object_get(y, "stage");
                        json_t *detail = json_object_get(y, "touchpoint");
                        if (!st) {
                            st = json_object_get(y, "from");
                            detail = json_object_get(y, "to");
                        }
                        json_array_append_new(all, json_pack("{s:s, s:O, s:O, s:O}",
                            "deviation", kind, "stage", st ? st : json_null(),
                            "detail", detail ? detail : json_null(),
                            "count", json_object_get(y, "count")));
                    }
                }
                json_object_set_new(doc, "rows", all);
            }
            if (!json_object_get(doc, "rows"))
                json_object_set(doc, "rows", json_object_get(doc, "links"));
            json_t *row;
            size_t i;
            json_array_foreach(json_object_get(doc, "rows"), i, row) {
                /* one cell for a path; friction's outcomes flattened */
                json_t *p = json_object_get(row, "path");
                if (json_is_array(p)) {
                    char cell[1024] = "";
                    size_t o = 0;
                    json_t *x;
                    size_t k;
                    json_array_foreach(p, k, x) {
                        const char *s = json_is_string(x) ? json_string_value(x) : "-";
                        int w = snprintf(cell + o, sizeof cell - o, "%s%s", k ? " > " : "", s);
                        if (w < 0 || (size_t)w >= sizeof cell - o)
                            break;
                        o += (size_t)w;
                    }
                    json_object_set_new(row, "path", json_string(cell));
                }
                static const char *const oc[] = {"detractor", "negative_sentiment",
                                                 "high_effort", "churn"};
                for (size_t k = 0; k < 4; k++) {
                    json_t *f = json_object_get(row, oc[k]);
                    if (!json_is_object(f))
                        continue;
                    char key[64];
                    snprintf(key, sizeof key, "%s_lift", oc[k]);
                    json_object_set(row, key, json_object_get(f, "lift"));
                    snprintf(key, sizeof key, "%s_with", oc[k]);
                    json_object_set(row, key, json_object_get(f, "rate_with"));
                    json_object_del(row, oc[k]);
                }
            }
            rows_print(stdout, doc, format);
        }
    }
    json_decref(doc);
    engine_close(e);
    free(djson);
    if (rc)
        return rc == CXM_EINVAL ? cli_usage("journey", "%s", err.msg) : cli_fail("journey", &err);
    return EXIT_OK;
}
