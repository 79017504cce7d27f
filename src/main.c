/* main.c - `cxm <command>`: picks the command. */
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "notify/smtp.h"

#define CXM_VERSION "0.1.0"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"serve", cmd_serve, "run the HTTP API server"},
    {"import", cmd_import, "load customers, interactions, feedback or orders from CSV/NDJSON"},
    {"demo", cmd_demo, "generate a realistic demo data set"},
    {"report", cmd_report, "NPS, CSAT, CES, eNPS and response counts by any dimension"},
    {"benchmarks", cmd_benchmarks, "import outside figures and compare ours with them"},
    {"journey", cmd_journey, "journey funnel, flows, paths, drop-offs and friction"},
    {"clv", cmd_clv, "fit and read customer lifetime value (BG/NBD + Gamma-Gamma)"},
    {"churn", cmd_churn, "customers at risk of churning and what drives churn"},
    {"segments", cmd_segments, "named customer segments with live members"},
    {"actions", cmd_actions, "show or set the next-best-action catalogue"},
    {"policy", cmd_policy, "show or set the contact policy (consent, suppression, caps)"},
    {"decide", cmd_decide, "the next best actions for a customer on a channel, and why"},
    {"contact", cmd_contact, "record a contact made to a customer (checked by the policy)"},
    {"recommend", cmd_recommend, "item recommendations for a customer, or similar items"},
    {"uplift", cmd_uplift, "who ordered after an action was proposed: contacted or not"},
    {"cases", cmd_cases, "list, open, assign, note and resolve closed-loop cases"},
    {"alerts", cmd_alerts, "show or set the alert rules that open cases"},
    {"webhooks", cmd_webhooks, "webhook endpoints, their deliveries, and replays"},
    {"team", cmd_team, "agent and team performance, CSAT leaderboard, eNPS"},
    {"surveys", cmd_surveys, "survey definitions, invitations and response rates"},
    {"keys", cmd_keys, "create API keys"},
    {"export", cmd_export, "print a customer's profile and full history as JSON"},
    {"unmerge", cmd_unmerge, "split a merged customer off its profile"},
    {"text", cmd_text, "text analytics on comments: sentiment, themes, emerging topics"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: cxm <command> [options]\n\n"
               "cxm is a customer experience engine: unified profiles, feedback,\n"
               "journeys and value, in one binary over an embedded database.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nEvery command takes --db FILE (default $CXM_DB or cxm.db) and --help.\n"
               "Exit status: 0 ok, 1 failure, 2 bad usage.\n");
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
    /* Keep large blocks (the model's columns) on mmap: glibc would otherwise
     * raise this threshold after the first free and grow columns on the
     * heap, copying them and keeping the old copies resident. A request's
     * buffers (an ingest body and its decoded records, some hundreds of
     * KiB) stay under it, and the heap keeps up to 8 MiB free instead of
     * handing it back after every request: mapping, faulting in and
     * unmapping them (with a TLB flush on every core) cost a fifth of the
     * request threads' time under batched ingest. The replay's leftovers
     * are trimmed explicitly (engine_open). */
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
#endif
    /* libcurl (webhooks, e-mail) before any thread starts */
    if (notify_global_init())
        fprintf(stderr, "cxm: libcurl did not initialise: webhooks and e-mail will fail\n");
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("cxm %s\n", CXM_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "cxm: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
