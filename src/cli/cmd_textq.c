/* cmd_textq.c - the `cxm text` subcommands that read a database: themes
 * (pain points), emerging (rising phrases), taxonomy (show or set) and
 * feedback (comments, searchable). The engine computes; this prints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rows.h"
#include "core/tz.h"
#include "cxm_limits.h"
#include "engine/engine.h"
#include "log.h"

enum { O_DB = 1, O_FORMAT, O_BY, O_WHERE, O_FROM, O_TO, O_TZ, O_PERIOD, O_BASELINE,
       O_AT, O_THEME, O_SENT, O_LIMIT, O_SEARCH, O_SET, O_CUSTOMER, O_CHANNEL, O_TOUCHPOINT,
       O_STAGE, O_HELP };

struct targs {
    const char *db, *format, *by, *where, *from, *to, *tz, *period, *at, *theme,
        *sentiment, *search, *set, *customer, *channel, *touchpoint, *stage;
    long baseline, limit;
};

static const struct option topts[] = {
    {"db", required_argument, NULL, O_DB}, {"format", required_argument, NULL, O_FORMAT},
    {"by", required_argument, NULL, O_BY}, {"where", required_argument, NULL, O_WHERE},
    {"from", required_argument, NULL, O_FROM}, {"to", required_argument, NULL, O_TO},
    {"tz", required_argument, NULL, O_TZ}, {"period", required_argument, NULL, O_PERIOD},
    {"baseline", required_argument, NULL, O_BASELINE}, {"at", required_argument, NULL, O_AT},
    {"theme", required_argument, NULL, O_THEME},
    {"sentiment", required_argument, NULL, O_SENT},
    {"limit", required_argument, NULL, O_LIMIT}, {"search", required_argument, NULL, O_SEARCH},
    {"set", required_argument, NULL, O_SET}, {"customer", required_argument, NULL, O_CUSTOMER},
    {"channel", required_argument, NULL, O_CHANNEL},
    {"touchpoint", required_argument, NULL, O_TOUCHPOINT},
    {"stage", required_argument, NULL, O_STAGE},
    {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};

/* -1: --help printed. */
static int targs_parse(const char *cmd, const char *usage, int argc, char **argv,
                       struct targs *a)
{
    *a = (struct targs){.format = "table", .baseline = 4, .limit = 20};
    int c, rc = EXIT_OK;
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "", topts, NULL)) != -1) {
        switch (c) {
        case O_DB: a->db = optarg; break;
        case O_FORMAT: a->format = optarg; break;
        case O_BY: a->by = optarg; break;
        case O_WHERE: a->where = optarg; break;
        case O_FROM: a->from = optarg; break;
        case O_TO: a->to = optarg; break;
        case O_TZ: a->tz = optarg; break;
        case O_PERIOD: a->period = optarg; break;
        case O_AT: a->at = optarg; break;
        case O_THEME: a->theme = optarg; break;
        case O_SENT: a->sentiment = optarg; break;
        case O_SEARCH: a->search = optarg; break;
        case O_SET: a->set = optarg; break;
        case O_CUSTOMER: a->customer = optarg; break;
        case O_CHANNEL: a->channel = optarg; break;
        case O_TOUCHPOINT: a->touchpoint = optarg; break;
        case O_STAGE: a->stage = optarg; break;
        case O_BASELINE: rc = cli_whole(cmd, "--baseline", optarg, 1, 52, &a->baseline); break;
        case O_LIMIT: rc = cli_whole(cmd, "--limit", optarg, 1, CXM_MAX_PAGE, &a->limit); break;
        case O_HELP: fputs(usage, stdout); return -1;
        default: return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!rc && optind != argc)
        rc = cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if (!rc && strcmp(a->format, "table") && strcmp(a->format, "csv") &&
        strcmp(a->format, "json"))
        rc = cli_usage(cmd, "--format wants table, csv or json");
    return rc;
}

static const char themes_usage[] =
    "usage: cxm text themes [--db FILE] [--by DIM,...] [--where EXPR] [--from DATE]\n"
    "                       [--to DATE] [--tz ZONE] [--format table|csv|json]\n\n"
    "Pain points: for every theme (and group of --by: touchpoint, channel, week...)\n"
    "the comments that mention it, how many of them are negative about it (aspect\n"
    "sentiment), their mean sentiment and the pain score (the sum of how negative\n"
    "each mention is), ranked by pain. With --from and --to and no time dimension,\n"
    "each row carries the change in its negative share against the span just before.\n"
    "The same rows as GET /v1/text/themes.\n";

int text_cmd_themes(int argc, char **argv)
{
    struct targs a;
    int u = targs_parse("text themes", themes_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct report_query q = {.by = a.by, .where = a.where, .from = 0, .to = INT64_MAX};
    struct tz *zone = NULL;
    if (report_parse_tz(a.tz, &zone, &err) ||
        (a.from && report_parse_bound(a.from, false, zone, &q.from, &err)) ||
        (a.to && report_parse_bound(a.to, true, zone, &q.to, &err))) {
        tz_free(zone);
        return cli_usage("text themes", "%s", err.msg);
    }
    q.tz = zone;
    struct engine *e;
    int rc = cli_open_engine("text themes", a.db, false, &e);
    if (rc) {
        tz_free(zone);
        return rc;
    }
    json_t *doc = NULL;
    rc = engine_text_themes(e, &q, &doc, &err);
    tz_free(zone);
    return cli_finish("text themes", e, doc, a.format, rc, &err);
}

static const char emerging_usage[] =
    "usage: cxm text emerging [--db FILE] [--period day|week|month|quarter|year]\n"
    "                         [--baseline N] [--at DATE] [--theme ID]\n"
    "                         [--sentiment negative] [--limit N] [--format table|csv|json]\n\n"
    "Phrases (1-3 words) whose share of comments rose significantly (Dunning's G2,\n"
    "p < 0.001) in the current period (the one holding the latest comment, or --at)\n"
    "against the --baseline periods before it (default 4), with example comments.\n"
    "--sentiment negative: only negative comments (\"what is new in complaints\").\n";

int text_cmd_emerging(int argc, char **argv)
{
    struct targs a;
    int u = targs_parse("text emerging", emerging_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct emerging_query q = {.period = a.period, .baseline = (int)a.baseline,
                               .limit = (size_t)a.limit, .with_text = true, .theme = -1};
    if (a.sentiment && strcmp(a.sentiment, "negative"))
        return cli_usage("text emerging", "--sentiment: only 'negative'");
    q.negative = a.sentiment != NULL;
    if (a.at && report_parse_bound(a.at, false, NULL, &q.at, &err))
        return cli_usage("text emerging", "--at: %s", err.msg);
    struct engine *e;
    int rc = cli_open_engine("text emerging", a.db, false, &e);
    if (rc)
        return rc;
    if (a.theme && (q.theme = engine_theme_index(e, a.theme)) < 0) {
        engine_close(e);
        return cli_usage("text emerging", "--theme: '%s' is not a theme of the taxonomy"
                         " (cxm text taxonomy)", a.theme);
    }
    json_t *doc = NULL;
    rc = engine_text_emerging(e, &q, &doc, &err);
    if (!rc && strcmp(a.format, "json")) {
        /* a table: the first example's comment instead of the list */
        json_t *row;
        size_t i;
        json_array_foreach(json_object_get(doc, "rows"), i, row) {
            json_t *ex = json_array_get(json_object_get(row, "examples"), 0);
            json_t *c = json_object_get(ex, "comment");
            json_object_set(row, "example", c ? c : json_null());
            json_object_del(row, "examples");
        }
    }
    return cli_finish("text emerging", e, doc, a.format, rc, &err);
}

static const char taxonomy_usage[] =
    "usage: cxm text taxonomy [--db FILE] [--set FILE.json]\n\n"
    "Prints the theme taxonomy in use (JSON); --set replaces it with the one in\n"
    "FILE.json (checked first: a bad file changes nothing) and re-themes every\n"
    "stored comment. --set needs the database to itself (or PUT /v1/text/taxonomy).\n";

int text_cmd_taxonomy(int argc, char **argv)
{
    struct targs a;
    int u = targs_parse("text taxonomy", taxonomy_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    struct cxm_err err;
    cxm_err_clear(&err);
    char *json = NULL;
    if (a.set) {
        int frc = cli_read_file(a.set, 4u << 20, &json);
        if (frc)
            return cli_usage("text taxonomy", "--set: %s: %s", a.set,
                             frc == CXM_ETOOBIG ? "over 4 MiB" : "cannot read it");
    }
    struct engine *e;
    int rc = cli_open_engine("text taxonomy", a.db, a.set != NULL, &e);
    if (rc) {
        free(json);
        return rc;
    }
    json_t *doc = NULL;
    if (json) {
        size_t n = 0;
        int64_t seq = 0;
        if (!(rc = engine_set_taxonomy(e, json, &n, &seq, &err)))
            fprintf(stderr, "cxm text taxonomy: set; %zu comments re-themed\n", n);
        free(json);
        engine_close(e);
        if (rc)
            return rc == CXM_EINVAL ? cli_usage("text taxonomy", "%s: %s", a.set, err.msg)
                                    : cli_fail("text taxonomy", &err);
        return EXIT_OK;
    }
    rc = engine_taxonomy(e, &doc, &err);
    return cli_finish("text taxonomy", e, doc, "json", rc, &err);
}

static const char feedback_usage[] =
    "usage: cxm text feedback [--db FILE] [--search WORDS] [--theme ID]\n"
    "                         [--sentiment positive|negative|neutral] [--from DATE]\n"
    "                         [--to DATE] [--customer ID] [--channel NAME]\n"
    "                         [--touchpoint NAME] [--stage NAME] [--limit N]\n"
    "                         [--format table|csv|json]\n\n"
    "Comments, newest first, with their score, sentiment and themes. --search finds\n"
    "comments holding every word (stemmed: 'refunds' finds 'refund'); --channel,\n"
    "--touchpoint and --stage keep the answers given there.\n";

int text_cmd_feedback(int argc, char **argv)
{
    struct targs a;
    int u = targs_parse("text feedback", feedback_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct feedback_query q = {.search = a.search, .label = a.sentiment, .from = 0,
                               .to = INT64_MAX, .limit = (size_t)a.limit, .theme = -1,
                               .channel = a.channel, .touchpoint = a.touchpoint,
                               .stage = a.stage};
    int64_t cust = 0;
    if (a.sentiment && strcmp(a.sentiment, "positive") && strcmp(a.sentiment, "negative") &&
        strcmp(a.sentiment, "neutral"))
        return cli_usage("text feedback", "--sentiment: positive, negative or neutral");
    if (a.customer && (!cxm_parse_i64(a.customer, &cust) || cust < 1 || cust > UINT32_MAX - 1))
        return cli_usage("text feedback", "--customer wants a customer id");
    q.customer = (uint32_t)cust;
    if ((a.from && report_parse_bound(a.from, false, NULL, &q.from, &err)) ||
        (a.to && report_parse_bound(a.to, true, NULL, &q.to, &err)))
        return cli_usage("text feedback", "%s", err.msg);
    struct engine *e;
    int rc = cli_open_engine("text feedback", a.db, false, &e);
    if (rc)
        return rc;
    if (a.theme && (q.theme = engine_theme_index(e, a.theme)) < 0) {
        engine_close(e);
        return cli_usage("text feedback", "--theme: '%s' is not a theme of the taxonomy",
                         a.theme);
    }
    json_t *doc = NULL;
    rc = engine_feedback_list(e, &q, &doc, &err);
    if (!rc) {
        if (strcmp(a.format, "json")) {
            json_object_set(doc, "rows", json_object_get(doc, "items"));
            json_t *row;
            size_t i;
            json_array_foreach(json_object_get(doc, "rows"), i, row) {
                /* lists to one cell */
                json_t *t = json_object_get(row, "themes"), *x;
                size_t k;
                char cell[512] = "";
                size_t o = 0;
                json_array_foreach(t, k, x) {
                    int w = snprintf(cell + o, sizeof cell - o, "%s%s", k ? " " : "",
                                     json_string_value(x));
                    if (w < 0 || (size_t)w >= sizeof cell - o)
                        break;
                    o += (size_t)w;
                }
                json_object_set_new(row, "themes", json_string(cell));
                json_object_del(row, "aspects");
            }
        }
    }
    return cli_finish("text feedback", e, doc, a.format, rc, &err);
}

static const char train_usage[] =
    "usage: cxm text train [--db FILE] [--format table|json]\n\n"
    "Learns the company's own words: every feedback answer with both a comment and\n"
    "an NPS or CSAT score is an example (NPS 9-10 / CSAT 4-5 positive, NPS 7-8 /\n"
    "CSAT 3 neutral, the rest negative). A linear model on stemmed words and word\n"
    "pairs is fitted on 80%% of them and blended with the lexicon only when the\n"
    "blend beats the lexicon on the other 20%%; then every stored text is rescored.\n"
    "With too little data (under 200 examples, or 30 of a class) the lexicon stays.\n"
    "Prints accuracy and macro-F1 before and after. Needs the database to itself\n"
    "(or POST /v1/text/train).\n";

int text_cmd_train(int argc, char **argv)
{
    struct targs a;
    int u = targs_parse("text train", train_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine *e;
    int rc = cli_open_engine("text train", a.db, true, &e);
    if (rc)
        return rc;
    json_t *doc = NULL;
    rc = engine_text_train(e, &doc, &err);
    if (!rc && strcmp(a.format, "json")) {
        json_t *acc = json_object_get(doc, "accuracy"), *f1 = json_object_get(doc, "macro_f1");
        json_t *pc = json_object_get(doc, "per_class");
        printf("examples   %lld (negative %lld, neutral %lld, positive %lld); train %lld,"
               " held back %lld\n",
               (long long)json_integer_value(json_object_get(doc, "examples")),
               (long long)json_integer_value(json_object_get(pc, "negative")),
               (long long)json_integer_value(json_object_get(pc, "neutral")),
               (long long)json_integer_value(json_object_get(pc, "positive")),
               (long long)json_integer_value(json_object_get(doc, "train")),
               (long long)json_integer_value(json_object_get(doc, "test")));
        printf("held back  accuracy  lexicon %.3f  model %.3f  blend %.3f\n",
               json_number_value(json_object_get(acc, "lexicon")),
               json_number_value(json_object_get(acc, "model")),
               json_number_value(json_object_get(acc, "blend")));
        printf("           macro-F1  lexicon %.3f  model %.3f  blend %.3f\n",
               json_number_value(json_object_get(f1, "lexicon")),
               json_number_value(json_object_get(f1, "model")),
               json_number_value(json_object_get(f1, "blend")));
        bool used = json_is_true(json_object_get(doc, "used"));
        printf("%s (weight %.2f): %s\n", used ? "in use" : "not used",
               json_number_value(json_object_get(doc, "weight")),
               json_string_value(json_object_get(doc, "reason")));
        if (used)
            printf("%lld stored texts rescored\n",
                   (long long)json_integer_value(json_object_get(doc, "rescored")));
        json_decref(doc);
        doc = NULL;
        engine_close(e);
        return EXIT_OK;
    }
    return cli_finish("text train", e, doc, "json", rc, &err);
}
