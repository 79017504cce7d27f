/* cmd_keys.c - `cxm keys create`: a new API key, printed once. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"

static const char usage_text[] =
    "usage: cxm keys create [--db FILE] --role admin|writer|analyst|agent [--name TEXT]\n\n"
    "Creates an API key and prints only the key on stdout. The database keeps\n"
    "its hash, never the key. Works while a server runs on the database.\n\n"
    "roles: admin (everything), writer (ingest only), agent (customer\n"
    "profiles, search and timelines), analyst (aggregates without personal\n"
    "data: the metrics routes, coming with the metrics engine)\n";

int cmd_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"role", required_argument, NULL, 'r'},
        {"name", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL, *role = NULL, *name = NULL;
    int c;
    optind = 1;
    opterr = 0;   /* our own message below names the option */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'r': role = optarg; break;
        case 'n': name = optarg; break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: return cli_usage("keys", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc || strcmp(argv[optind], "create") != 0)
        return cli_usage("keys", "say 'cxm keys create --role ROLE'");
    if (optind + 1 < argc)
        return cli_usage("keys", "unexpected argument '%s'", argv[optind + 1]);
    enum role r = role_parse(role);
    if (r == ROLE_NONE)
        return cli_usage("keys", "--role must be admin, writer, analyst or agent");
    if (name && strlen(name) > 128)
        return cli_usage("keys", "--name is longer than 128 bytes");
    char key[KEY_LEN];
    struct cxm_err err;
    cxm_err_clear(&err);
    if (keys_create(cli_db(db), r, name, key, &err))
        return cli_fail("keys", &err);
    printf("%s\n", key);
    return EXIT_OK;
}
