/* cmd_survey.c - `cxm surveys` (docs/surveys.md): list the surveys, show,
 * import and export their documents, send invitations, read the results.
 * The engine checks the documents and decides who is invited; this parses
 * arguments and prints. */
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rows.h"
#include "core/survey.h"
#include "engine/engine.h"

/* Customers one `send --customers` may name, as POST
 * /v1/surveys/{id}/invitations; a segment has no such cap. */
#define SEND_MAX_CUSTOMERS 10000

static const char usage[] =
    "usage: cxm surveys list\n"
    "       cxm surveys show ID\n"
    "       cxm surveys import FILE\n"
    "       cxm surveys export ID [--output FILE]\n"
    "       cxm surveys send ID (--customers N,N,... | --segment S) [--channel email|link]\n"
    "       cxm surveys results ID [--from DATE] [--to DATE] [--period week|month|quarter]\n"
    "every one also takes [--db FILE] [--format table|csv|json].\n\n"
    "list: the surveys with their invited, responded and completed counts.\n"
    "show: the survey's settings, questions and triggers (--format json: the\n"
    "  document). import: creates the survey of the JSON document in FILE, or\n"
    "  replaces the one with its id. export: the normalised document as JSON,\n"
    "  to stdout or --output FILE.\n"
    "send: invites the customers of --customers (1 to 10000 ids) or --segment\n"
    "  who pass the survey's sampling, its quarantine and the contact policy;\n"
    "  prints how many were invited, the others by reason, and with --channel\n"
    "  link (default email: sent through the outbox) each customer's link.\n"
    "results: response and completion rates, median time to respond, by\n"
    "  channel and --period (default month), and the scores, for invitations\n"
    "  sent from --from to --to. DATE is YYYY-MM-DD (UTC; --to includes that\n"
    "  day) or an ISO 8601 time; the default is all time.\n"
    "import and send need the database to themselves; with a server running\n"
    "use the API.\n";

enum { O_DB = 1, O_FORMAT, O_OUTPUT, O_CUSTOMERS, O_SEGMENT, O_CHANNEL, O_FROM, O_TO,
       O_PERIOD, O_HELP };

struct sargs {
    const char *db, *format, *output, *customers, *segment, *channel, *from, *to, *period;
    char **pos;                  /* the subcommand, then its arguments */
    int npos;
    uint32_t *ids;               /* --customers read by send_check; malloc'd */
    size_t nids;
    int64_t t_from, t_to;        /* --from, --to read by results_check */
};

static const struct option sopts[] = {
    {"db", required_argument, NULL, O_DB}, {"format", required_argument, NULL, O_FORMAT},
    {"output", required_argument, NULL, O_OUTPUT},
    {"customers", required_argument, NULL, O_CUSTOMERS},
    {"segment", required_argument, NULL, O_SEGMENT},
    {"channel", required_argument, NULL, O_CHANNEL},
    {"from", required_argument, NULL, O_FROM}, {"to", required_argument, NULL, O_TO},
    {"period", required_argument, NULL, O_PERIOD}, {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0}};

/* Options that take a string, and where it goes. */
static const struct cli_str_opt string_opts[] = {
    {O_DB, offsetof(struct sargs, db)}, {O_FORMAT, offsetof(struct sargs, format)},
    {O_OUTPUT, offsetof(struct sargs, output)},
    {O_CUSTOMERS, offsetof(struct sargs, customers)},
    {O_SEGMENT, offsetof(struct sargs, segment)}, {O_CHANNEL, offsetof(struct sargs, channel)},
    {O_FROM, offsetof(struct sargs, from)}, {O_TO, offsetof(struct sargs, to)},
    {O_PERIOD, offsetof(struct sargs, period)},
};

/* -1: --help printed. */
static int sargs_parse(int argc, char **argv, struct sargs *a)
{
    *a = (struct sargs){.format = "table"};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", sopts, NULL)) != -1) {
        if (cli_set_str(a, string_opts, sizeof string_opts / sizeof string_opts[0], c,
                        optarg))
            continue;
        if (c == O_HELP) {
            fputs(usage, stdout);
            return -1;
        }
        return cli_usage("surveys", "unknown option or missing value: '%s'", argv[optind - 1]);
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    return cli_format("surveys", a->format);
}

/* ---- printing ----------------------------------------------------------- */

/* What a member's table calls its key and value columns: an object member
 * prints one row per key. */
static void key_names(const char *member, const char **key, const char **val)
{
    static const char *const names[][3] = {
        {"skipped", "reason", "n"}, {"metrics", "metric", "value"}};
    *key = "name";
    *val = "value";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(member, names[i][0])) {
            *key = names[i][1];
            *val = names[i][2];
        }
}

/* Member v as the rows of a table (a new reference), NULL when it is a
 * single value: an array of objects as it is, an object of objects as
 * one row per key (key first, then the inner members), an object of
 * values as key and value. */
static json_t *table_of(const char *member, json_t *v)
{
    const char *k, *kname, *vname;
    json_t *x;
    if (json_is_object(json_array_get(v, 0)))
        return json_incref(v);
    if (!json_is_object(v) || !json_object_size(v))
        return NULL;
    key_names(member, &kname, &vname);
    json_t *rows = json_array();
    json_object_foreach(v, k, x) {
        json_t *row = json_is_object(x) ? json_deep_copy(x) : json_pack("{s:O}", vname, x);
        json_t *keyed = json_pack("{s:s}", kname, k);
        json_object_update(keyed, row);
        json_decref(row);
        json_array_append_new(rows, keyed);
    }
    return rows;
}

/* Prints rows as a table or CSV (rows_print) with every key any row has,
 * in order of first appearance, and nested values as compact JSON. */
static void print_table(FILE *fp, json_t *rows, const char *format)
{
    json_t *cols = json_object(), *out = json_array(), *row, *c;
    size_t i;
    const char *k;
    json_array_foreach(rows, i, row) {
        json_object_foreach(row, k, c)
            json_object_set_new(cols, k, json_null());
    }
    json_array_foreach(rows, i, row) {
        json_t *r = json_object();
        json_object_foreach(cols, k, c)
            json_object_set_new(r, k, rows_flat(json_object_get(row, k)));
        json_array_append_new(out, r);
    }
    json_decref(cols);
    if (json_array_size(out)) {
        json_t *doc = json_pack("{s:o}", "rows", out);
        rows_print(fp, doc, format);
        json_decref(doc);
    } else {
        json_decref(out);
        if (!strcmp(format, "table"))
            fputs("(no rows)\n", fp);
    }
}

/* Prints the answer (json: as it is; NULL: printed already), frees it,
 * closes the engine and maps rc to the exit status: CXM_EINVAL from the
 * engine is invalid data (the message names the member), exit 1. */
static int finish(struct engine *e, json_t *doc, const char *format, int rc,
                  const struct cxm_err *err)
{
    if (!rc && doc && !strcmp(format, "json"))
        rows_print(stdout, doc, "json");
    else if (!rc && doc)
        rows_print_doc(stdout, doc, format, table_of, print_table);
    json_decref(doc);
    engine_close(e);
    if (!rc)
        return EXIT_OK;
    size_t fl = strlen(err->field);
    if (fl && strncmp(err->msg, err->field, fl) != 0)
        fprintf(stderr, "cxm surveys: %s: %s\n", err->field, err->msg);
    else
        cli_fail("surveys", err);
    return EXIT_FAIL;
}

/* ---- subcommands -------------------------------------------------------- */

struct sub {
    const char *name;
    const char *args;            /* its arguments, for messages: "ID", "FILE" */
    bool write;                  /* changes the database: the writer lock */
    int (*check)(struct sargs *a, struct cxm_err *err);   /* before opening; NULL */
    int (*run)(struct engine *e, struct sargs *a, json_t **doc, struct cxm_err *err);
};

static int list_run(struct engine *e, struct sargs *a, json_t **doc, struct cxm_err *err)
{
    (void)a;
    return engine_surveys(e, doc, err);
}

static int show_run(struct engine *e, struct sargs *a, json_t **doc, struct cxm_err *err)
{
    return engine_survey(e, a->pos[1], doc, err);
}

/* The id member of the JSON document text; NULL when it has none. A new
 * reference to keep it alive. */
static json_t *doc_id(const char *text, const char **id)
{
    json_t *j = json_loads(text, 0, NULL);
    *id = json_string_value(json_object_get(j, "id"));
    return j;
}

/* What import answers: in JSON the normalised document under "survey",
 * in a table its name and number of questions. survey is stolen. */
static json_t *import_answer(json_t *survey, bool created, const char *format)
{
    json_t *doc = json_pack("{s:O?, s:s}", "id", json_object_get(survey, "id"), "action",
                            created ? "created" : "replaced");
    if (doc && !strcmp(format, "json")) {
        json_object_set(doc, "survey", survey);
    } else if (doc) {
        json_object_set(doc, "name", json_object_get(survey, "name"));
        json_object_set_new(doc, "questions", json_integer((json_int_t)json_array_size(
                                                  json_object_get(survey, "questions"))));
    }
    json_decref(survey);
    return doc;
}

/* Creates the survey of FILE, or replaces the one with its id. */
static int import_run(struct engine *e, struct sargs *a, json_t **doc, struct cxm_err *err)
{
    char *text = NULL;
    int rc = cli_read_file(a->pos[1], SURVEY_MAX_DOC, &text);
    if (rc == CXM_ETOOBIG)
        return cxm_err_set(err, rc, "%s: over the %d byte limit of a survey", a->pos[1],
                           SURVEY_MAX_DOC);
    if (rc)
        return cxm_err_set(err, rc, "cannot read %s", a->pos[1]);
    json_t *survey = NULL;
    bool created = true;
    rc = engine_survey_put(e, text, strlen(text), true, NULL, &survey, err);
    if (rc == CXM_ECONFLICT) {
        const char *id;
        json_t *j = doc_id(text, &id);
        cxm_err_clear(err);
        created = false;
        rc = engine_survey_put(e, text, strlen(text), false, id, &survey, err);
        json_decref(j);
    }
    free(text);
    if (!rc && !(*doc = import_answer(survey, created, a->format)))
        rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return rc;
}

/* Writes doc as pretty JSON to path (NULL: stdout). */
static int write_json(json_t *doc, const char *path, struct cxm_err *err)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f)
        return cxm_err_set(err, CXM_EIO, "cannot write %s", path);
    int bad = json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) || fputc('\n', f) == EOF;
    if (path)
        bad = fclose(f) || bad;
    else
        bad = fflush(f) || bad;
    return bad ? cxm_err_set(err, CXM_EIO, "cannot write %s", path ? path : "stdout")
               : CXM_OK;
}

/* Prints itself: *doc stays NULL. */
static int export_run(struct engine *e, struct sargs *a, json_t **doc, struct cxm_err *err)
{
    json_t *survey = NULL;
    int rc = engine_survey(e, a->pos[1], &survey, err);
    if (!rc)
        rc = write_json(survey, a->output, err);
    json_decref(survey);
    *doc = NULL;
    return rc;
}

/* --customers "1,2,3" into a->ids. */
static int read_customers(struct sargs *a, struct cxm_err *err)
{
    const char *p = a->customers;
    size_t n = 1;
    for (const char *q = p; *q; q++)
        n += *q == ',';
    if (n > SEND_MAX_CUSTOMERS)
        return cxm_err_set(err, CXM_EINVAL, "--customers takes at most %d ids",
                           SEND_MAX_CUSTOMERS);
    if (!(a->ids = cxm_calloc(n, sizeof *a->ids)))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    for (a->nids = 0; a->nids < n; a->nids++) {
        char one[24];
        size_t len = strcspn(p, ",");
        int64_t v = 0;
        bool ok = len < sizeof one;
        if (ok) {
            memcpy(one, p, len);
            one[len] = '\0';
            ok = cxm_parse_i64(one, &v) && v >= 1 && v <= UINT32_MAX;
        }
        if (!ok)
            return cxm_err_set(err, CXM_EINVAL, "--customers: number %zu, '%.*s', is not a"
                               " customer id", a->nids + 1, (int)(len < 24 ? len : 24), p);
        a->ids[a->nids] = (uint32_t)v;
        p += len + (p[len] == ',');
    }
    return CXM_OK;
}

static int send_check(struct sargs *a, struct cxm_err *err)
{
    if (!a->customers == !a->segment)
        return cxm_err_set(err, CXM_EINVAL, "send wants --customers or --segment, one of them");
    static const char *const channels[] = {"email", "link"};
    int rc = cli_one_of("--channel", a->channel, channels, 2, "email or link", err);
    if (!rc && a->customers)
        rc = read_customers(a, err);
    return rc;
}

static int send_run(struct engine *e, struct sargs *a, json_t **doc, struct cxm_err *err)
{
    struct invite_req q = {.survey = a->pos[1], .customers = a->ids, .n = a->nids,
                           .segment = a->segment, .channel = a->channel};
    int rc = engine_survey_invite(e, &q, doc, err);
    /* e-mailed invitations are the outbox's: a table lists only links */
    bool link = a->channel && !strcmp(a->channel, "link");
    if (!rc && !link && strcmp(a->format, "json"))
        json_object_del(*doc, "invitations");
    return rc;
}

static int results_check(struct sargs *a, struct cxm_err *err)
{
    static const char *const periods[] = {"week", "month", "quarter"};
    int rc = cli_range(a->from, a->to, &a->t_from, &a->t_to, err);
    return rc ? rc
              : cli_one_of("--period", a->period, periods, 3, "week, month or quarter", err);
}

static int results_run(struct engine *e, struct sargs *a, json_t **doc, struct cxm_err *err)
{
    return engine_survey_results(e, a->pos[1], a->t_from, a->t_to, a->period, doc, err);
}

static const struct sub subs[] = {
    {"list", "", false, NULL, list_run},
    {"show", "ID", false, NULL, show_run},
    {"import", "FILE", true, NULL, import_run},
    {"export", "ID", false, NULL, export_run},
    {"send", "ID", true, send_check, send_run},
    {"results", "ID", false, results_check, results_run},
};

/* Checks the arguments, runs the subcommand and prints its answer. */
static int run(const struct sub *s, struct sargs *a)
{
    int want = *s->args ? 1 : 0;
    if (a->npos - 1 != want)
        return cli_usage("surveys", "%s takes %s", s->name, want ? s->args : "no arguments");
    struct cxm_err err;
    cxm_err_clear(&err);
    if (s->check && s->check(a, &err))
        return err.code == CXM_EINVAL ? cli_usage("surveys", "%s", err.msg)
                                      : cli_fail("surveys", &err);
    struct engine *e;
    if (cli_open_engine("surveys", a->db, s->write, &e))
        return EXIT_FAIL;
    json_t *doc = NULL;
    int rc = s->run(e, a, &doc, &err);
    return finish(e, doc, a->format, rc, &err);
}

int cmd_surveys(int argc, char **argv)
{
    struct sargs a;
    int u = sargs_parse(argc, argv, &a);
    if (u)
        return u < 0 ? EXIT_OK : u;
    if (a.npos < 1)
        return cli_usage("surveys", "give a subcommand: list, show, import, export, send"
                         " or results");
    size_t n = sizeof subs / sizeof subs[0], i = 0;
    while (i < n && strcmp(subs[i].name, a.pos[0]))
        i++;
    if (i == n)
        return cli_usage("surveys", "unknown subcommand '%s'", a.pos[0]);
    int rc = run(&subs[i], &a);
    free(a.ids);
    return rc;
}
