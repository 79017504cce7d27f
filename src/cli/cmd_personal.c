/* cmd_personal.c - personalisation from the command line: `cxm segments`
 * (list, show, create, update, delete, members, preview), `cxm actions`
 * and `cxm policy` (show or set the catalogue and the contact policy),
 * `cxm decide` (what to propose to a customer now, and why), `cxm
 * contact` (record a contact) and `cxm recommend` (items for a customer,
 * or similar to an item). The engine decides; this prints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rows.h"
#include "core/buf.h"
#include "core/policy.h"
#include "cxm_limits.h"
#include "engine/engine.h"

enum { O_DB = 1, O_FORMAT, O_RULE, O_NAME, O_DESC, O_LIMIT, O_CURSOR, O_CUSTOMER,
       O_CHANNEL, O_CONTEXT, O_NOLOG, O_SIMILAR, O_N, O_ACTION, O_KIND, O_FORCE, O_DAYS,
       O_FROM, O_TO, O_HELP };

struct pargs {
    const char *db, *format, *rule, *name, *desc, *channel, *context, *similar, *action,
        *kind, *from, *to;
    long limit, cursor, customer, n, days;
    bool nolog, force;
    char **pos;                  /* positional arguments */
    int npos;
};

static const struct option popts[] = {
    {"db", required_argument, NULL, O_DB}, {"format", required_argument, NULL, O_FORMAT},
    {"rule", required_argument, NULL, O_RULE}, {"name", required_argument, NULL, O_NAME},
    {"description", required_argument, NULL, O_DESC},
    {"limit", required_argument, NULL, O_LIMIT}, {"cursor", required_argument, NULL, O_CURSOR},
    {"customer", required_argument, NULL, O_CUSTOMER},
    {"channel", required_argument, NULL, O_CHANNEL},
    {"context", required_argument, NULL, O_CONTEXT}, {"no-log", no_argument, NULL, O_NOLOG},
    {"similar", required_argument, NULL, O_SIMILAR}, {"n", required_argument, NULL, O_N},
    {"action", required_argument, NULL, O_ACTION}, {"kind", required_argument, NULL, O_KIND},
    {"force", no_argument, NULL, O_FORCE}, {"days", required_argument, NULL, O_DAYS},
    {"from", required_argument, NULL, O_FROM}, {"to", required_argument, NULL, O_TO},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0}};

/* -1: --help printed. */
static int pargs_parse(const char *cmd, const char *usage, int argc, char **argv,
                       struct pargs *a)
{
    *a = (struct pargs){.format = "table", .limit = CXM_DEFAULT_PAGE, .n = 10, .days = 30};
    int c, rc = EXIT_OK;
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "", popts, NULL)) != -1) {
        switch (c) {
        case O_DB: a->db = optarg; break;
        case O_FORMAT: a->format = optarg; break;
        case O_RULE: a->rule = optarg; break;
        case O_NAME: a->name = optarg; break;
        case O_DESC: a->desc = optarg; break;
        case O_CHANNEL: a->channel = optarg; break;
        case O_CONTEXT: a->context = optarg; break;
        case O_SIMILAR: a->similar = optarg; break;
        case O_ACTION: a->action = optarg; break;
        case O_KIND: a->kind = optarg; break;
        case O_NOLOG: a->nolog = true; break;
        case O_FORCE: a->force = true; break;
        case O_FROM: a->from = optarg; break;
        case O_TO: a->to = optarg; break;
        case O_DAYS: rc = cli_whole(cmd, "--days", optarg, 1, 365, &a->days); break;
        case O_LIMIT: rc = cli_whole(cmd, "--limit", optarg, 1, CXM_MAX_PAGE, &a->limit); break;
        case O_CURSOR: rc = cli_whole(cmd, "--cursor", optarg, 0, UINT32_MAX, &a->cursor); break;
        case O_CUSTOMER:
            rc = cli_whole(cmd, "--customer", optarg, 1, UINT32_MAX, &a->customer);
            break;
        case O_N: rc = cli_whole(cmd, "--n", optarg, 1, 100, &a->n); break;
        case O_HELP: fputs(usage, stdout); return -1;
        default: return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    return rc ? rc : cli_format(cmd, a->format);
}

/* cli_finish with doc's array member `rows` printed as the rows. */
static int finish(const char *cmd, struct engine *e, json_t *doc, const char *rows,
                  const char *format, int rc, struct cxm_err *err)
{
    if (!rc && strcmp(format, "json")) {
        json_t *r = json_pack("{s:O}", "rows", rows ? json_object_get(doc, rows) : doc);
        json_decref(doc);
        doc = r;
        if (!doc)
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    }
    return cli_finish(cmd, e, doc, format, rc, err);
}

static const char segments_usage[] =
    "usage: cxm segments list [--db FILE] [--format table|csv|json]\n"
    "       cxm segments show ID\n"
    "       cxm segments create ID --rule EXPR [--name TEXT] [--description TEXT]\n"
    "       cxm segments update ID [--rule EXPR] [--name TEXT] [--description TEXT]\n"
    "       cxm segments delete ID\n"
    "       cxm segments members ID [--limit N] [--cursor ID] [--format table|csv|json]\n"
    "       cxm segments preview --rule EXPR\n"
    "       cxm segments features            (what rules can use)\n\n"
    "Segments are named rules over customer features, kept current as data\n"
    "arrives (docs/personalisation.md has the language):\n"
    "  cxm segments create lapsed --rule 'orders >= 1 and days_since_last_order > 180'\n"
    "  cxm segments create runners --rule \"bought_category('running') and\n"
    "      channels contains 'app'\"\n"
    "members pages through the members by profile id (--cursor: the last id of\n"
    "the page before); preview counts who matches a rule without saving it.\n";

int cmd_segments(int argc, char **argv)
{
    struct pargs a;
    int u = pargs_parse("segments", segments_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (a.npos < 1)
        return cli_usage("segments", "give a subcommand: list, show, create, update, delete,"
                         " members or preview");
    const char *sub = a.pos[0];
    bool write = !strcmp(sub, "create") || !strcmp(sub, "update") || !strcmp(sub, "delete");
    bool needs_id = write || !strcmp(sub, "show") || !strcmp(sub, "members");
    if (!strcmp(sub, "features")) {
        struct cxm_err ferr;
        json_t *fd = NULL;
        if (engine_features(&fd, &ferr))
            return cli_fail("segments", &ferr);
        json_t *r = json_pack("{s:O}", "rows", json_object_get(fd, "features"));
        if (strcmp(a.format, "json"))
            rows_print(stdout, r, a.format);
        else {
            char *s = json_dumps(fd, JSON_INDENT(2));
            if (s)
                puts(s);
            free(s);
        }
        json_decref(r);
        json_decref(fd);
        return EXIT_OK;
    }
    if (strcmp(sub, "list") && strcmp(sub, "preview") && !needs_id)
        return cli_usage("segments", "unknown subcommand '%s'", sub);
    if (needs_id && a.npos != 2)
        return cli_usage("segments", "%s takes the segment id", sub);
    if (!needs_id && a.npos != 1)
        return cli_usage("segments", "unexpected argument '%s'", a.pos[1]);
    if ((!strcmp(sub, "create") || !strcmp(sub, "preview")) && !a.rule)
        return cli_usage("segments", "%s needs --rule", sub);
    struct engine *e;
    if (cli_open_engine("segments", a.db, write, &e))
        return EXIT_FAIL;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    const char *rows = NULL;
    int rc;
    const char *id = needs_id ? a.pos[1] : NULL;
    struct segment_def d = {.id = id, .name = a.name, .rule = a.rule, .description = a.desc};
    if (!strcmp(sub, "list")) {
        rc = engine_segments(e, &doc, &err);
        rows = "segments";
    } else if (!strcmp(sub, "show")) {
        rc = engine_segment(e, id, &doc, &err);
    } else if (!strcmp(sub, "create")) {
        rc = engine_segment_put(e, &d, SEG_CREATE, &doc, &err);
    } else if (!strcmp(sub, "update")) {
        rc = engine_segment_put(e, &d, SEG_UPDATE, &doc, &err);
    } else if (!strcmp(sub, "delete")) {
        rc = engine_segment_delete(e, id, &err);
        if (!rc)
            doc = json_pack("{s:s, s:b}", "id", id, "deleted", 1);
    } else if (!strcmp(sub, "members")) {
        rc = engine_segment_members(e, id, (uint32_t)a.cursor, (size_t)a.limit, &doc, &err);
        rows = "rows";
    } else {
        rc = engine_segment_preview(e, a.rule, &doc, &err);
    }
    if (!rc && !strcmp(sub, "members") && strcmp(a.format, "json")) {
        const char *next = json_string_value(json_object_get(doc, "next_cursor"));
        if (next)
            fprintf(stderr, "more members: --cursor %s\n", next);
    }
    if (!rc && !rows && strcmp(a.format, "json")) {
        /* one object: one row */
        json_t *one = json_pack("{s:[O]}", "r", doc);
        json_decref(doc);
        doc = one;
        rows = "r";
    }
    return finish("segments", e, doc, rows, a.format, rc, &err);
}

static const char settings_usage[] =
    "usage: cxm actions [--db FILE] [--set FILE] [--format table|json]\n"
    "       cxm policy [--db FILE] [--set FILE] [--format json]\n\n"
    "Shows the action catalogue of next-best-action or the contact policy in\n"
    "use; --set replaces it with the JSON document in FILE, checked first\n"
    "(docs/personalisation.md has both formats).\n";

static int settings(const char *cmd, int argc, char **argv,
                    int (*get)(struct engine *, json_t **, struct cxm_err *),
                    int (*set)(struct engine *, const char *, size_t, struct cxm_err *))
{
    struct pargs a;
    const char *file = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--set")) {
            file = argv[i + 1];
            memmove(argv + i, argv + i + 2, (size_t)(argc - i - 2) * sizeof *argv);
            argc -= 2;
            break;
        }
    int u = pargs_parse(cmd, settings_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (a.npos)
        return cli_usage(cmd, "unexpected argument '%s'", a.pos[0]);
    char *body = NULL;
    if (file && cli_read_file(file, 4u << 20, &body)) {
        fprintf(stderr, "cxm %s: cannot read %s\n", cmd, file);
        return EXIT_FAIL;
    }
    struct engine *e;
    if (cli_open_engine(cmd, a.db, file != NULL, &e)) {
        free(body);
        return EXIT_FAIL;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = body ? set(e, body, strlen(body), &err) : CXM_OK;
    free(body);
    if (!rc)
        rc = get(e, &doc, &err);
    const char *rows = !strcmp(cmd, "actions") ? "actions" : NULL;
    return finish(cmd, e, doc, rows, rows ? a.format : "json", rc, &err);
}

int cmd_actions(int argc, char **argv)
{
    return settings("actions", argc, argv, engine_actions, engine_set_actions);
}

int cmd_policy(int argc, char **argv)
{
    return settings("policy", argc, argv, engine_policy, engine_set_policy);
}

static const char decide_usage[] =
    "usage: cxm decide --customer ID --channel NAME [--db FILE] [--limit N]\n"
    "                  [--format table|json]\n\n"
    "What next-best-action proposes to the customer on the channel now: the\n"
    "eligible actions ranked, with their messages rendered for the channel, and\n"
    "for every other action the rule that left it out (channel, segment, rule,\n"
    "consent, suppression, a cap or a gap, with when it would allow). The same\n"
    "answer as POST /v1/decide, but not logged (a look, not a decision).\n";

int cmd_decide(int argc, char **argv)
{
    struct pargs a;
    int u = pargs_parse("decide", decide_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (!a.customer || !a.channel)
        return cli_usage("decide", "give --customer and --channel");
    if (a.npos)
        return cli_usage("decide", "unexpected argument '%s'", a.pos[0]);
    struct engine *e;
    if (cli_open_engine("decide", a.db, false, &e))
        return EXIT_FAIL;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct decide_req q = {.customer = (uint32_t)a.customer, .channel = a.channel, .explain = true,
                           .limit = a.limit == CXM_DEFAULT_PAGE ? 0 : (size_t)a.limit};
    struct decision d;
    json_t *doc = NULL;
    int rc = engine_decide(e, &q, &d, &err);
    if (!rc) {   /* the API's answer, read back */
        struct buf b;
        buf_init(&b, 8u << 20);
        if (!decision_write(&d, a.channel, &b))
            doc = json_loadb(b.p, b.len, 0, NULL);
        buf_free(&b);
        decision_free(&d);
        if (!doc)
            rc = cxm_err_set(&err, CXM_ENOMEM, "out of memory");
    }
    if (!rc && strcmp(a.format, "json")) {
        /* two tables: proposed, then left out */
        json_t *r = json_pack("{s:O}", "rows", json_object_get(doc, "actions"));
        printf("proposed to customer %lld on %s:\n",
               (long long)json_integer_value(json_object_get(doc, "customer")), a.channel);
        rows_print(stdout, r, a.format);
        json_decref(r);
        r = json_pack("{s:O}", "rows", json_object_get(doc, "excluded"));
        printf("\nleft out:\n");
        rows_print(stdout, r, a.format);
        json_decref(r);
        json_decref(doc);
        engine_close(e);
        return EXIT_OK;
    }
    return finish("decide", e, doc, NULL, "json", rc, &err);
}

static const char contact_usage[] =
    "usage: cxm contact --customer ID (--action ID | --kind KIND) [--channel NAME]\n"
    "                   [--force] [--db FILE]\n\n"
    "Records a contact made to the customer, so the contact policy's caps count\n"
    "it. Checked against the policy first: refused (exit 1, the rule named) when\n"
    "consent, a suppression or a cap forbids it now, unless --force. KIND:\n"
    "promotion, survey, service_follow_up, retention_offer, thank_you, referral.\n";

int cmd_contact(int argc, char **argv)
{
    struct pargs a;
    int u = pargs_parse("contact", contact_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (!a.customer || (!a.action && !a.kind))
        return cli_usage("contact", "give --customer and --action or --kind");
    int kind = a.kind ? contact_kind_parse(a.kind) : 0;
    if (a.kind && !kind)
        return cli_usage("contact", "unknown kind '%s'", a.kind);
    struct engine *e;
    if (cli_open_engine("contact", a.db, true, &e))
        return EXIT_FAIL;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct contact_req c = {.customer = (uint32_t)a.customer, .kind = kind,
                            .action = a.action, .channel = a.channel, .force = a.force};
    int64_t seq = 0;
    int rc = engine_contacts(e, &c, 1, &seq, &err);
    engine_close(e);
    if (rc)
        return cli_fail("contact", &err);
    printf("recorded (seq %lld)\n", (long long)seq);
    return EXIT_OK;
}

static const char recommend_usage[] =
    "usage: cxm recommend --customer ID [--n N] [--db FILE] [--format table|csv|json]\n"
    "       cxm recommend --similar SKU [--n N]\n\n"
    "Items for a customer from what customers who bought the same things bought\n"
    "(and the categories they buy), never what they already own unless its\n"
    "category is a consumable; each with its reason. --similar lists the items\n"
    "most often bought by the buyers of SKU.\n";

int cmd_recommend(int argc, char **argv)
{
    struct pargs a;
    int u = pargs_parse("recommend", recommend_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (!a.customer == !a.similar)
        return cli_usage("recommend", "give --customer or --similar");
    struct engine *e;
    if (cli_open_engine("recommend", a.db, false, &e))
        return EXIT_FAIL;
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = a.similar ? engine_similar(e, a.similar, (size_t)a.n, &doc, &err)
                       : engine_recommendations(e, (uint32_t)a.customer, (size_t)a.n, &doc,
                                                &err);
    return finish("recommend", e, doc, a.similar ? "similar" : "items", a.format, rc, &err);
}

static const char uplift_usage[] =
    "usage: cxm uplift --action ID [--days N] [--from DATE] [--to DATE] [--db FILE]\n"
    "                  [--format table|json]\n\n"
    "What the decision log says of an action: the customers it was proposed to\n"
    "(their first such decision in the period), split by whether a contact of its\n"
    "kind followed within 7 days, and the share of each group that ordered within\n"
    "--days (default 30) after the decision. Observational: who was contacted was\n"
    "not chosen at random, so the difference is an association.\n";

int cmd_uplift(int argc, char **argv)
{
    struct pargs a;
    int u = pargs_parse("uplift", uplift_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (!a.action)
        return cli_usage("uplift", "give --action");
    if (a.npos)
        return cli_usage("uplift", "unexpected argument '%s'", a.pos[0]);
    struct uplift_query q = {.action = a.action, .days = (int)a.days};
    struct cxm_err err;
    cxm_err_clear(&err);
    if (cli_range(a.from, a.to, &q.from, &q.to, &err))
        return cli_usage("uplift", "%s", err.msg);
    struct engine *e;
    if (cli_open_engine("uplift", a.db, false, &e))
        return EXIT_FAIL;
    json_t *doc = NULL;
    int rc = engine_uplift(e, &q, &doc, &err);
    if (!rc && strcmp(a.format, "json")) {
        /* one row per group */
        json_t *rows = json_array();
        static const char *const g[] = {"contacted", "not_contacted"};
        for (int k = 0; k < 2; k++) {
            json_t *row = json_deep_copy(json_object_get(doc, g[k]));
            json_object_set_new(row, "group", json_string(g[k]));
            json_array_append_new(rows, row);
        }
        printf("action %s, %lld customers proposed to, %lld still inside the %d-day window\n",
               a.action, (long long)json_integer_value(json_object_get(doc, "customers")),
               (long long)json_integer_value(json_object_get(doc, "pending")), q.days);
        json_t *up = json_object_get(doc, "uplift"), *mg = json_object_get(doc, "margin");
        if (json_is_number(up))
            printf("uplift %+.4f +/- %.4f (95%%)%s; observational\n", json_number_value(up),
                   json_number_value(mg),
                   json_is_true(json_object_get(doc, "significant")) ? ", significant" : "");
        json_decref(doc);
        doc = json_pack("{s:o}", "rows", rows);
        return cli_finish("uplift", e, doc, a.format, CXM_OK, &err);
    }
    return cli_finish("uplift", e, doc, "json", rc, &err);
}
