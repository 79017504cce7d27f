/* cmd_keys.c - `cxm keys create|list|revoke`: API keys, a new one printed
 * once; the list shows ids, roles, names and hints, never a secret. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"

static const char usage_text[] =
    "usage: cxm keys create [--db FILE] --role admin|writer|analyst|agent [--name TEXT]\n"
    "       cxm keys list [--db FILE] [--format table|csv|json]\n"
    "       cxm keys revoke [--db FILE] ID\n\n"
    "create makes an API key and prints only the key on stdout. The database\n"
    "keeps its hash, never the key. list shows each key's id, role, name, when\n"
    "it was made and its last 4 characters. revoke deletes the key with that id\n"
    "(not the last admin key); a running server refuses it within "
    "30 seconds.\nAll work while a server runs on the database.\n\n"
    "roles: admin (everything), writer (ingest only), agent (customer\n"
    "profiles, cases, search and timelines), analyst (aggregates without\n"
    "personal data)\n";

int cmd_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"role", required_argument, NULL, 'r'},
        {"name", required_argument, NULL, 'n'}, {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *db = NULL, *role = NULL, *name = NULL, *format = "table";
    int c;
    optind = 1;
    opterr = 0;   /* our own message below names the option */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'r': role = optarg; break;
        case 'n': name = optarg; break;
        case 'f': format = optarg; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: return cli_usage("keys", "unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *verb = optind < argc ? argv[optind] : "";
    int nargs = argc - optind - 1;   /* after the verb */
    struct cxm_err err;
    cxm_err_clear(&err);
    if (!strcmp(verb, "list")) {
        if (nargs > 0)
            return cli_usage("keys", "unexpected argument '%s'", argv[optind + 1]);
        int rc = cli_format("keys", format);
        if (rc)
            return rc;
        json_t *doc = NULL;
        rc = keys_list(cli_db(db), &doc, &err);
        if (!rc && strcmp(format, "json")) {
            /* the table and CSV printers read "rows" */
            json_t *rows = json_pack("{s:O}", "rows", json_object_get(doc, "keys"));
            json_decref(doc);
            doc = rows;
            if (!doc)
                rc = cxm_err_set(&err, CXM_ENOMEM, "out of memory");
        }
        return cli_finish("keys", NULL, doc, format, rc, &err);
    }
    if (!strcmp(verb, "revoke")) {
        if (nargs != 1)
            return cli_usage("keys", "say 'cxm keys revoke ID' (the id from 'cxm keys list')");
        if (keys_revoke(cli_db(db), argv[optind + 1], &err))
            return err.code == CXM_EINVAL ? cli_usage("keys", "%s", err.msg)
                                          : cli_fail("keys", &err);
        printf("revoked %s\n", argv[optind + 1]);
        return EXIT_OK;
    }
    if (strcmp(verb, "create"))
        return cli_usage("keys", "say 'cxm keys create --role ROLE', 'cxm keys list' or "
                                 "'cxm keys revoke ID'");
    if (nargs > 0)
        return cli_usage("keys", "unexpected argument '%s'", argv[optind + 1]);
    enum role r = role_parse(role);
    if (r == ROLE_NONE)
        return cli_usage("keys", "--role must be admin, writer, analyst or agent");
    if (name && strlen(name) > KEY_NAME_MAX)
        return cli_usage("keys", "--name is longer than %d bytes", KEY_NAME_MAX);
    char key[KEY_LEN];
    if (keys_create(cli_db(db), r, name, key, &err))
        return cli_fail("keys", &err);
    printf("%s\n", key);
    return EXIT_OK;
}
