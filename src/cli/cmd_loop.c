/* cmd_loop.c - the closed loop and the employee side from the command
 * line: `cxm cases` (list, show, open and work cases), `cxm alerts` (show
 * or set the alert rules), `cxm webhooks` (endpoints, their deliveries,
 * replays) and `cxm team` (performance, leaderboard, eNPS). The engine
 * decides; this prints. */
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rows.h"
#include "cxm_limits.h"
#include "engine/engine.h"

enum { O_DB = 1, O_FORMAT, O_STATUS, O_TEAM, O_ASSIGNEE, O_CUSTOMER, O_BREACHED, O_SORT,
       O_LIMIT, O_OFFSET, O_REASON, O_SUBJECT, O_PRIORITY, O_RESOLUTION, O_TELL, O_FOLLOW,
       O_ACTOR, O_SHOW, O_SET, O_EVENTS, O_DESC, O_FROM, O_TO, O_PERIOD, O_MIN_N, O_PRIOR_N,
       O_MIN_ENPS, O_HELP };

struct largs {
    const char *db, *format, *status, *team, *assignee, *sort, *reason, *subject, *priority,
        *resolution, *actor, *set, *events, *desc, *from, *to, *period;
    long customer, limit, offset, min_n, min_enps;
    double prior_n;
    bool breached, tell, follow, show;
    char **pos;                  /* positional arguments: the subcommand, its own */
    int npos;
    int64_t num[3];              /* the subcommand's whole-number arguments */
    int64_t t_from, t_to;        /* --from, --to as read by a check */
};

static const struct option lopts[] = {
    {"db", required_argument, NULL, O_DB}, {"format", required_argument, NULL, O_FORMAT},
    {"status", required_argument, NULL, O_STATUS}, {"team", required_argument, NULL, O_TEAM},
    {"assignee", required_argument, NULL, O_ASSIGNEE},
    {"customer", required_argument, NULL, O_CUSTOMER},
    {"breached", no_argument, NULL, O_BREACHED}, {"sort", required_argument, NULL, O_SORT},
    {"limit", required_argument, NULL, O_LIMIT}, {"offset", required_argument, NULL, O_OFFSET},
    {"reason", required_argument, NULL, O_REASON},
    {"subject", required_argument, NULL, O_SUBJECT},
    {"priority", required_argument, NULL, O_PRIORITY},
    {"resolution", required_argument, NULL, O_RESOLUTION},
    {"tell-customer", no_argument, NULL, O_TELL}, {"follow-up", no_argument, NULL, O_FOLLOW},
    {"actor", required_argument, NULL, O_ACTOR}, {"show", no_argument, NULL, O_SHOW},
    {"set", required_argument, NULL, O_SET}, {"events", required_argument, NULL, O_EVENTS},
    {"description", required_argument, NULL, O_DESC},
    {"from", required_argument, NULL, O_FROM}, {"to", required_argument, NULL, O_TO},
    {"period", required_argument, NULL, O_PERIOD}, {"min-n", required_argument, NULL, O_MIN_N},
    {"prior-n", required_argument, NULL, O_PRIOR_N},
    {"min-enps", required_argument, NULL, O_MIN_ENPS}, {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0}};

/* Options that take a string, and where it goes. */
static const struct cli_str_opt string_opts[] = {
    {O_DB, offsetof(struct largs, db)}, {O_FORMAT, offsetof(struct largs, format)},
    {O_STATUS, offsetof(struct largs, status)}, {O_TEAM, offsetof(struct largs, team)},
    {O_ASSIGNEE, offsetof(struct largs, assignee)}, {O_SORT, offsetof(struct largs, sort)},
    {O_REASON, offsetof(struct largs, reason)}, {O_SUBJECT, offsetof(struct largs, subject)},
    {O_PRIORITY, offsetof(struct largs, priority)},
    {O_RESOLUTION, offsetof(struct largs, resolution)},
    {O_ACTOR, offsetof(struct largs, actor)}, {O_SET, offsetof(struct largs, set)},
    {O_EVENTS, offsetof(struct largs, events)}, {O_DESC, offsetof(struct largs, desc)},
    {O_FROM, offsetof(struct largs, from)}, {O_TO, offsetof(struct largs, to)},
    {O_PERIOD, offsetof(struct largs, period)},
};

/* -1: --help printed. */
static int largs_parse(const char *cmd, const char *usage, int argc, char **argv,
                       struct largs *a)
{
    *a = (struct largs){.format = "table", .limit = CXM_DEFAULT_PAGE};
    int c, rc = EXIT_OK;
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        if (cli_set_str(a, string_opts, sizeof string_opts / sizeof string_opts[0], c,
                        optarg))
            continue;
        switch (c) {
        case O_BREACHED: a->breached = true; break;
        case O_TELL: a->tell = true; break;
        case O_FOLLOW: a->follow = true; break;
        case O_SHOW: a->show = true; break;
        case O_CUSTOMER:
            rc = cli_whole(cmd, "--customer", optarg, 1, UINT32_MAX, &a->customer);
            break;
        case O_LIMIT: rc = cli_whole(cmd, "--limit", optarg, 1, CXM_MAX_PAGE, &a->limit); break;
        case O_OFFSET: rc = cli_whole(cmd, "--offset", optarg, 0, INT32_MAX, &a->offset); break;
        case O_MIN_N: rc = cli_whole(cmd, "--min-n", optarg, 0, 1000000, &a->min_n); break;
        case O_MIN_ENPS:
            rc = cli_whole(cmd, "--min-enps", optarg, 0, 1000000, &a->min_enps);
            break;
        case O_PRIOR_N:
            if (!cxm_parse_f64(optarg, &a->prior_n) || !(a->prior_n >= 0 && a->prior_n <= 1e6))
                rc = cli_usage(cmd, "--prior-n wants a number from 0 to 1000000");
            break;
        case O_HELP: fputs(usage, stdout); return -1;
        default: return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    return rc ? rc : cli_format(cmd, a->format);
}

/* ---- printing ----------------------------------------------------------- */

/* A table column: its header and where its value may be in a row (dotted
 * paths, the first present wins). */
struct col {
    const char *name;
    const char *paths[3];
};

static json_t *path_get(json_t *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

/* Prints an array of objects as one table (or CSV): the columns of cols
 * (NULL: the keys of the first row), nested values as compact JSON. */
static void print_rows(FILE *fp, json_t *rows, const struct col *cols, size_t ncols,
                       const char *format)
{
    json_t *out = json_array(), *row;
    size_t i;
    json_array_foreach(rows, i, row) {
        json_t *r = json_object();
        const char *k;
        json_t *v;
        for (size_t j = 0; j < ncols; j++) {
            json_t *found = NULL;
            for (size_t p = 0; p < 3 && cols[j].paths[p] && !found; p++)
                found = path_get(row, cols[j].paths[p]);
            json_object_set_new(r, cols[j].name, rows_flat(found));
        }
        if (!cols)
            json_object_foreach(row, k, v)
                json_object_set_new(r, k, rows_flat(v));
        json_array_append_new(out, r);
    }
    json_t *doc = json_pack("{s:o}", "rows", out);
    if (doc)
        rows_print(fp, doc, format);
    json_decref(doc);
}

/* A member printed as a table of its own (rows_print_doc): a non-empty
 * array of objects. */
static json_t *table_of(const char *member, json_t *v)
{
    (void)member;
    return json_is_object(json_array_get(v, 0)) ? json_incref(v) : NULL;
}

/* print_rows with every key of the first row as the columns. */
static void print_all(FILE *fp, json_t *rows, const char *format)
{
    print_rows(fp, rows, NULL, 0, format);
}

/* ---- subcommands -------------------------------------------------------- */

struct sub {
    const char *name;
    const char *spec;            /* its arguments: n a whole number, s a string */
    const char *args;            /* their names, for messages: "ID EMPLOYEE" */
    bool write;                  /* changes the database: the writer lock */
    int (*check)(struct largs *a, struct cxm_err *err);   /* before opening; NULL */
    int (*run)(struct engine *e, const struct largs *a, json_t **doc, struct cxm_err *err);
    const char *rows;            /* print this array member as one table; NULL: all */
    const struct col *cols;      /* its columns; NULL: every key */
    size_t ncols;
};

/* Word k of the space-separated names into buf. */
static const char *arg_name(const char *args, int k, char *buf, size_t sz)
{
    while (k-- > 0 && strchr(args, ' '))
        args = strchr(args, ' ') + 1;
    snprintf(buf, sz, "%.*s", (int)strcspn(args, " "), args);
    return buf;
}

/* Hints on stderr that the table does not carry. */
static void hints(json_t *doc)
{
    json_t *next = json_object_get(doc, "next_offset");
    if (json_is_integer(next))
        fprintf(stderr, "more: --offset %lld\n", (long long)json_integer_value(next));
    if (json_is_string(json_object_get(doc, "secret")))
        fprintf(stderr, "keep the secret now: it is never shown again\n");
}

static int print_answer(const char *cmd, struct engine *e, json_t *doc, const struct sub *s,
                        const char *format, int rc, const struct cxm_err *err)
{
    if (rc || !strcmp(format, "json"))
        return cli_finish(cmd, e, doc, "json", rc, err);
    json_t *rows = s->rows ? json_object_get(doc, s->rows) : NULL;
    if (rows)
        print_rows(stdout, rows, s->cols, s->ncols, format);
    else
        rows_print_doc(stdout, doc, format, table_of, print_all);
    hints(doc);
    json_decref(doc);
    engine_close(e);
    return EXIT_OK;
}

/* Parses the arguments, picks the subcommand of subs[0..n), checks it,
 * runs it on the engine and prints its answer. */
static int run(const char *cmd, const char *usage, const struct sub *subs, size_t n, int argc,
               char **argv)
{
    struct largs a;
    int u = largs_parse(cmd, usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (a.npos < 1)
        return cli_usage(cmd, "give a subcommand");
    const struct sub *s = subs;
    while (s < subs + n && strcmp(s->name, a.pos[0]))
        s++;
    if (s == subs + n)
        return cli_usage(cmd, "unknown subcommand '%s'", a.pos[0]);
    if ((size_t)(a.npos - 1) != strlen(s->spec))
        return cli_usage(cmd, "%s takes %s", s->name, *s->args ? s->args : "no arguments");
    for (int k = 0; s->spec[k]; k++) {
        char name[32];
        long v;
        if (s->spec[k] != 'n')
            continue;
        if (cli_whole(cmd, arg_name(s->args, k, name, sizeof name), a.pos[k + 1], 1, LONG_MAX,
                      &v))
            return EXIT_USAGE;
        a.num[k] = v;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    if (s->check && s->check(&a, &err))
        return cli_usage(cmd, "%s", err.msg);
    struct engine *e;
    if (cli_open_engine(cmd, a.db, s->write, &e))
        return EXIT_FAIL;
    json_t *doc = NULL;
    int rc = s->run(e, &a, &doc, &err);
    return print_answer(cmd, e, doc, s, a.format, rc, &err);
}

/* ---- cxm cases ---------------------------------------------------------- */

static const char cases_usage[] =
    "usage: cxm cases list [--status S] [--team T] [--assignee A] [--reason R]\n"
    "                      [--priority P] [--customer N] [--breached]\n"
    "                      [--sort urgency|newest|oldest] [--limit N] [--offset N]\n"
    "       cxm cases show ID\n"
    "       cxm cases open --customer N --reason R [--subject S] [--priority P]\n"
    "                      [--team T] [--assignee A]\n"
    "       cxm cases assign ID EMPLOYEE\n"
    "       cxm cases note ID TEXT\n"
    "       cxm cases status ID STATUS\n"
    "       cxm cases resolve ID [--resolution TEXT] [--tell-customer] [--follow-up]\n"
    "       cxm cases close ID\n"
    "       cxm cases reopen ID\n"
    "every one also takes [--db FILE] [--format table|csv|json]; the changes\n"
    "take [--actor EMPLOYEE] (default \"api\") and --team, --priority, --assignee.\n\n"
    "Cases are opened by the alert rules (cxm alerts) on incoming feedback and\n"
    "interactions, or by hand; each carries a response and a resolution SLA.\n"
    "list: open cases (--status all for every one), the most urgent first;\n"
    "--breached keeps those with a breached SLA. resolve --tell-customer e-mails\n"
    "the resolution to the customer, --follow-up sends a CSAT survey. The changes\n"
    "need the database to themselves; with a server running use the API.\n";

static const struct col case_cols[] = {
    {"id", {"id"}},
    {"status", {"status"}},
    {"priority", {"priority"}},
    {"customer", {"customer"}},
    {"reason", {"reason"}},
    {"team", {"team"}},
    {"assignee", {"assignee"}},
    {"opened", {"opened"}},
    {"response_sla", {"first_response.state"}},
    {"resolution_sla", {"resolution.state"}},
    {"due", {"resolution.due"}},
};

static int cases_list_check(struct largs *a, struct cxm_err *err)
{
    static const char *const sorts[] = {"urgency", "newest", "oldest"};
    return cli_one_of("--sort", a->sort, sorts, 3, "urgency, newest or oldest", err);
}

static int cases_list(struct engine *e, const struct largs *a, json_t **doc,
                      struct cxm_err *err)
{
    struct case_query q = {.status = a->status, .team = a->team, .assignee = a->assignee,
                           .reason = a->reason, .priority = a->priority,
                           .customer = (uint32_t)a->customer, .breached = a->breached,
                           .sort = a->sort, .offset = (size_t)a->offset,
                           .limit = (size_t)a->limit};
    return engine_cases(e, &q, doc, err);
}

static int cases_show(struct engine *e, const struct largs *a, json_t **doc,
                      struct cxm_err *err)
{
    return engine_case(e, a->num[0], doc, err);
}

static int cases_open_check(struct largs *a, struct cxm_err *err)
{
    if (!a->customer || !a->reason)
        return cxm_err_set(err, CXM_EINVAL, "open needs --customer and --reason");
    return CXM_OK;
}

/* open, and every change: the subcommand says what changes. */
static int cases_change(struct engine *e, const struct largs *a, json_t **doc,
                        struct cxm_err *err)
{
    const char *sub = a->pos[0];
    bool open = !strcmp(sub, "open");
    struct case_change c = {.id = open ? 0 : a->num[0], .actor = a->actor, .team = a->team,
                            .priority = a->priority, .assignee = a->assignee,
                            .resolution = a->resolution, .tell_customer = a->tell,
                            .follow_up = a->follow};
    if (open) {
        c.customer = (uint32_t)a->customer;
        c.reason = a->reason;
        c.subject = a->subject;
    } else if (!strcmp(sub, "assign")) {
        c.assignee = a->pos[2];
    } else if (!strcmp(sub, "note")) {
        c.note = a->pos[2];
    } else if (!strcmp(sub, "status")) {
        c.status = a->pos[2];
    } else {
        c.status = !strcmp(sub, "resolve") ? "resolved" : !strcmp(sub, "close") ? "closed"
                                                                                 : "open";
    }
    return engine_case_change(e, &c, doc, err);
}

int cmd_cases(int argc, char **argv)
{
    static const struct sub subs[] = {
        {"list", "", "", false, cases_list_check, cases_list, "cases", case_cols,
         sizeof case_cols / sizeof case_cols[0]},
        {"show", "n", "ID", false, NULL, cases_show, NULL, NULL, 0},
        {"open", "", "", true, cases_open_check, cases_change, NULL, NULL, 0},
        {"assign", "ns", "ID EMPLOYEE", true, NULL, cases_change, NULL, NULL, 0},
        {"note", "ns", "ID TEXT", true, NULL, cases_change, NULL, NULL, 0},
        {"status", "ns", "ID STATUS", true, NULL, cases_change, NULL, NULL, 0},
        {"resolve", "n", "ID", true, NULL, cases_change, NULL, NULL, 0},
        {"close", "n", "ID", true, NULL, cases_change, NULL, NULL, 0},
        {"reopen", "n", "ID", true, NULL, cases_change, NULL, NULL, 0},
    };
    return run("cases", cases_usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}

/* ---- cxm alerts --------------------------------------------------------- */

static const char alerts_usage[] =
    "usage: cxm alerts [--show] [--db FILE]\n"
    "       cxm alerts --set FILE [--db FILE]\n\n"
    "Shows the alert rules in use (the defaults before any --set): which\n"
    "feedback and interactions open a case, with what priority, team and SLA,\n"
    "and the business hours SLAs count in. --set replaces them with the JSON\n"
    "document in FILE, checked first (docs/closed-loop.md has the format), and\n"
    "needs the database to itself; with a server running use PUT\n"
    "/v1/alert-rules.\n";

int cmd_alerts(int argc, char **argv)
{
    struct largs a;
    int u = largs_parse("alerts", alerts_usage, argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (a.npos)
        return cli_usage("alerts", "unexpected argument '%s'", a.pos[0]);
    if (a.show && a.set)
        return cli_usage("alerts", "give --show or --set, not both");
    char *body = NULL;
    if (a.set && cli_read_file(a.set, 4u << 20, &body)) {
        fprintf(stderr, "cxm alerts: cannot read %s\n", a.set);
        return EXIT_FAIL;
    }
    struct engine *e;
    if (cli_open_engine("alerts", a.db, body != NULL, &e)) {
        free(body);
        return EXIT_FAIL;
    }
    struct cxm_err err;
    cxm_err_clear(&err);
    json_t *doc = NULL;
    int rc = body ? engine_set_alert_rules(e, body, strlen(body), &err) : CXM_OK;
    free(body);
    if (!rc)
        rc = engine_alert_rules(e, &doc, &err);
    return cli_finish("alerts", e, doc, "json", rc, &err);
}

/* ---- cxm webhooks ------------------------------------------------------- */

static const char webhooks_usage[] =
    "usage: cxm webhooks list\n"
    "       cxm webhooks add URL [--events TYPE,TYPE...] [--description TEXT]\n"
    "       cxm webhooks remove ID\n"
    "       cxm webhooks deliveries ID [--status pending|delivered|failed] [--limit N]\n"
    "       cxm webhooks replay ID FROM TO\n"
    "every one also takes [--db FILE] [--format table|csv|json].\n\n"
    "Webhook endpoints receive every closed-loop event (case opened, assigned,\n"
    "resolved, SLA breached, ...) signed by the Standard Webhooks convention.\n"
    "add subscribes URL to --events (default \"*\": all) and prints the signing\n"
    "secret, once. deliveries lists what was sent to an endpoint, newest first\n"
    "(--limit at most 500); replay sends the endpoint's events with outbox ids\n"
    "FROM to TO again. add, remove and replay need the database to themselves;\n"
    "with a server running use the API.\n";

static int webhooks_list(struct engine *e, const struct largs *a, json_t **doc,
                         struct cxm_err *err)
{
    (void)a;
    return engine_webhooks(e, doc, err);
}

static int webhooks_add(struct engine *e, const struct largs *a, json_t **doc,
                        struct cxm_err *err)
{
    struct webhook_def d = {.url = a->pos[1], .events = a->events ? a->events : "*",
                            .description = a->desc, .enabled = -1};
    return engine_webhook_put(e, &d, true, doc, err);
}

static int webhooks_remove(struct engine *e, const struct largs *a, json_t **doc,
                           struct cxm_err *err)
{
    int rc = engine_webhook_delete(e, a->pos[1], err);
    if (!rc && !(*doc = json_pack("{s:s, s:b}", "id", a->pos[1], "deleted", 1)))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return rc;
}

static int deliveries_check(struct largs *a, struct cxm_err *err)
{
    static const char *const statuses[] = {"pending", "delivered", "failed"};
    if (a->limit > 500)
        return cxm_err_set(err, CXM_EINVAL, "--limit wants a whole number from 1 to 500");
    return cli_one_of("--status", a->status, statuses, 3, "pending, delivered or failed", err);
}

static int webhooks_deliveries(struct engine *e, const struct largs *a, json_t **doc,
                               struct cxm_err *err)
{
    return engine_webhook_deliveries(e, a->pos[1], 0, a->status, (size_t)a->limit, false,
                                     doc, err);
}

static int replay_check(struct largs *a, struct cxm_err *err)
{
    if (a->num[1] > a->num[2])
        return cxm_err_set(err, CXM_EINVAL, "replay wants FROM <= TO");
    return CXM_OK;
}

static int webhooks_replay(struct engine *e, const struct largs *a, json_t **doc,
                           struct cxm_err *err)
{
    return engine_webhook_replay(e, a->pos[1], a->num[1], a->num[2], doc, err);
}

int cmd_webhooks(int argc, char **argv)
{
    static const struct sub subs[] = {
        {"list", "", "", false, NULL, webhooks_list, "webhooks", NULL, 0},
        {"add", "s", "URL", true, NULL, webhooks_add, NULL, NULL, 0},
        {"remove", "s", "ID", true, NULL, webhooks_remove, NULL, NULL, 0},
        {"deliveries", "s", "ID", false, deliveries_check, webhooks_deliveries, "deliveries",
         NULL, 0},
        {"replay", "snn", "ID FROM TO", true, replay_check, webhooks_replay, NULL, NULL, 0},
    };
    return run("webhooks", webhooks_usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}

/* ---- cxm team ----------------------------------------------------------- */

static const char team_usage[] =
    "usage: cxm team report [--from DATE] [--to DATE] [--team T] [--period P]\n"
    "       cxm team leaderboard [--from DATE] [--to DATE] [--team T] [--min-n N]\n"
    "                            [--prior-n N] [--limit N]\n"
    "       cxm team enps [--from DATE] [--to DATE] [--team T] [--period P]\n"
    "                     [--min-enps N]\n"
    "every one also takes [--db FILE] [--format table|csv|json].\n\n"
    "report: per agent and per team, CSAT and NPS of what they handled, first\n"
    "  response and resolution times, SLA compliance, case volume, reopen rate,\n"
    "  and the trend by --period (week, month or quarter; default week).\n"
    "leaderboard: agents by Bayesian-adjusted CSAT (fewer than --min-n answers,\n"
    "  default 5, left out; --prior-n, default 10, is the prior's weight), then\n"
    "  positive comments naming them.\n"
    "enps: eNPS by team and period; groups with fewer than --min-enps answers\n"
    "  (default 5) are hidden, so no one's answer can be singled out.\n"
    "DATE is YYYY-MM-DD (UTC; --to includes that day) or an ISO 8601 time; the\n"
    "default period is all the data.\n";

static int team_check(struct largs *a, struct cxm_err *err)
{
    static const char *const periods[] = {"week", "month", "quarter"};
    int rc = cli_range(a->from, a->to, &a->t_from, &a->t_to, err);
    return rc ? rc
              : cli_one_of("--period", a->period, periods, 3, "week, month or quarter", err);
}

static int team_run(struct engine *e, const struct largs *a, json_t **doc,
                    struct cxm_err *err)
{
    struct team_query q = {.from = a->t_from, .to = a->t_to, .team = a->team,
                           .min_n = (uint32_t)a->min_n, .prior_n = a->prior_n,
                           .min_enps = (int)a->min_enps, .period = a->period,
                           .limit = (size_t)a->limit};
    const char *sub = a->pos[0];
    if (!strcmp(sub, "report"))
        return engine_team_performance(e, &q, doc, err);
    if (!strcmp(sub, "leaderboard"))
        return engine_team_recognition(e, &q, doc, err);
    return engine_enps(e, &q, doc, err);
}

int cmd_team(int argc, char **argv)
{
    static const struct sub subs[] = {
        {"report", "", "", false, team_check, team_run, NULL, NULL, 0},
        {"leaderboard", "", "", false, team_check, team_run, NULL, NULL, 0},
        {"enps", "", "", false, team_check, team_run, NULL, NULL, 0},
    };
    return run("team", team_usage, subs, sizeof subs / sizeof subs[0], argc, argv);
}
