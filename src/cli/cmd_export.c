/* cmd_export.c - `cxm export CUSTOMER` and `cxm unmerge CUSTOMER`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "log.h"

static int parse_args(const char *cmd, const char *usage_text, int argc,
                      char **argv, const char **db, uint32_t *id)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;   /* our own message below names the option */
    *db = NULL;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': *db = optarg; break;
        case 'h': fputs(usage_text, stdout); return -1;
        default: return cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage(cmd, "give one CUSTOMER id");
    int64_t v;
    if (!cxm_parse_i64(argv[optind], &v) || v < 1 || v > UINT32_MAX)
        return cli_usage(cmd, "CUSTOMER must be a customer id (a positive integer)");
    *id = (uint32_t)v;
    *db = cli_db(*db);
    log_set_level(LOG_WARN);
    return EXIT_OK;
}

static const char export_usage[] =
    "usage: cxm export [--db FILE] CUSTOMER\n\n"
    "Prints the customer's unified profile (identities, consent, merges,\n"
    "scores, value) and full cross-channel history as JSON on stdout.\n";

int cmd_export(int argc, char **argv)
{
    const char *db;
    uint32_t id;
    int rc = parse_args("export", export_usage, argc, argv, &db, &id);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine *e;
    struct engine_opts eo = {.sync = STORE_SYNC_FULL, .lock = false};
    if (engine_open(db, &eo, &e, &err))
        return cli_fail("export", &err);
    json_t *doc = NULL;
    rc = engine_export(e, id, &doc, &err);
    engine_close(e);
    if (rc)
        return cli_fail("export", &err);
    rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(doc);
    putchar('\n');
    return rc == 0 && fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static const char unmerge_usage[] =
    "usage: cxm unmerge [--db FILE] CUSTOMER\n\n"
    "Splits CUSTOMER (a customer that was merged into another profile, as\n"
    "listed in that profile's merged_from) back into a profile of its own,\n"
    "with the identities and records it brought. Needs the database to\n"
    "itself: with a server running, use POST /v1/customers/ID/unmerge.\n";

int cmd_unmerge(int argc, char **argv)
{
    const char *db;
    uint32_t id;
    int rc = parse_args("unmerge", unmerge_usage, argc, argv, &db, &id);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine *e;
    struct engine_opts eo = {.sync = STORE_SYNC_FULL, .lock = true};
    if (engine_open(db, &eo, &e, &err))
        return cli_fail("unmerge", &err);
    struct engine_work w = {.op = ENGINE_UNMERGE, .customer = id};
    rc = engine_run(e, &w);
    engine_close(e);
    if (rc)
        return cli_fail("unmerge", &w.err);
    printf("customer %u unmerged from %u (seq %lld)\n", id, w.parent, (long long)w.seq);
    return EXIT_OK;
}
