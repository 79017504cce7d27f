/* cmd_serve.c - `cxm serve`: open (and replay) the database, make the
 * first admin key when there is none, serve HTTP until a signal. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "http/server.h"
#include "cxm_limits.h"
#include "log.h"
#include "notify/deliver.h"

static const char usage_text[] =
    "usage: cxm serve [--db FILE] [--listen HOST:PORT] [--threads N]\n"
    "                 [--max-body BYTES] [--sync full|normal|off] [--quiet]\n\n"
    "Serves the JSON API over the database (created when missing).\n\n"
    "  --db FILE          database file (env CXM_DB, default cxm.db)\n"
    "  --listen HOST:PORT address to listen on (env CXM_LISTEN,\n"
    "                     default 127.0.0.1:8080; port 0 picks a free port)\n"
    "  --threads N        HTTP worker threads (default: 2 per core)\n"
    "  --max-body BYTES   request body limit (default 16 MiB)\n"
    "  --sync MODE        full (default): an acknowledged write survives power\n"
    "                     loss; normal: survives a crash of cxm, not of the OS;\n"
    "                     off: for throwaway data only (tests, benchmarks)\n"
    "  --quiet            log warnings and errors only\n"
    "  --no-text-analytics  store texts without scoring them (for measuring the\n"
    "                     cost of text analytics; the next start without it\n"
    "                     scores them)\n"
    "  --lazy-journeys    gather the events of journey views at the first journey\n"
    "                     query instead of in the background at start (saves\n"
    "                     about 25 bytes an event when journeys are not used)\n"
    "  --retry-base-ms N  webhook and e-mail retries: first backoff (default 5000,\n"
    "                     doubling with jitter up to --retry-max-ms, default 1 h)\n"
    "  --retry-max-ms N\n"
    "  --max-attempts N   tries before a delivery is dead-lettered (default 8)\n"
    "  --webhook-timeout-ms N  per request (default 10000)\n\n"
    "On first start, with no API key in the database, an admin key is created\n"
    "and printed once. Stop with Ctrl-C or SIGTERM: work already acknowledged\n"
    "is committed; requests in flight finish.\n";

static void *warm_main(void *arg)
{
    engine_journeys_warm(arg);
    return NULL;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'}, {"max-body", required_argument, NULL, 'b'},
        {"sync", required_argument, NULL, 's'}, {"quiet", no_argument, NULL, 'q'},
        {"no-text-analytics", no_argument, NULL, 'n'},
        {"lazy-journeys", no_argument, NULL, 'j'},
        {"retry-base-ms", required_argument, NULL, 'r'},
        {"retry-max-ms", required_argument, NULL, 'R'},
        {"max-attempts", required_argument, NULL, 'a'},
        {"webhook-timeout-ms", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int64_t base_ms = 5000, max_ms = 3600000, attempts = 8, wh_timeout = 10000;
    bool no_text = false, lazy_journeys = false;
    const char *db = NULL, *listen = getenv("CXM_LISTEN");
    int64_t threads = 2 * sysconf(_SC_NPROCESSORS_ONLN), max_body = CXM_MAX_BODY_DEFAULT;
    enum store_sync sync = STORE_SYNC_FULL;
    int c;
    optind = 1;
    opterr = 0;   /* our own message below names the option */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'l': listen = optarg; break;
        case 't':
            if (!cxm_parse_i64(optarg, &threads) || threads < 1 || threads > 1024)
                return cli_usage("serve", "--threads wants 1-1024");
            break;
        case 'b':
            if (!cxm_parse_i64(optarg, &max_body) || max_body < 1024 ||
                max_body > (int64_t)1 << 32)
                return cli_usage("serve", "--max-body wants 1024 bytes to 4 GiB");
            break;
        case 's':
            if (!strcmp(optarg, "full")) sync = STORE_SYNC_FULL;
            else if (!strcmp(optarg, "normal")) sync = STORE_SYNC_NORMAL;
            else if (!strcmp(optarg, "off")) sync = STORE_SYNC_OFF;
            else return cli_usage("serve", "--sync wants full, normal or off");
            break;
        case 'q': log_set_level(LOG_WARN); break;
        case 'n': no_text = true; break;
        case 'j': lazy_journeys = true; break;
        case 'r':
        case 'R':
        case 'w':
            if (!cxm_parse_i64(optarg, c == 'r' ? &base_ms : c == 'R' ? &max_ms : &wh_timeout) ||
                (c == 'r' ? base_ms : c == 'R' ? max_ms : wh_timeout) < 10 ||
                (c == 'r' ? base_ms : c == 'R' ? max_ms : wh_timeout) > 86400000)
                return cli_usage("serve", "%s wants 10 to 86400000 milliseconds",
                                 argv[optind - 1]);
            break;
        case 'a':
            if (!cxm_parse_i64(optarg, &attempts) || attempts < 1 || attempts > 100)
                return cli_usage("serve", "--max-attempts wants 1-100");
            break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        default: return cli_usage("serve", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("serve", "unexpected argument '%s'", argv[optind]);
    if (!listen || !*listen)
        listen = "127.0.0.1:8080";
    db = cli_db(db);

    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine *e;
    struct engine_opts eo = {.sync = sync, .lock = true, .no_text = no_text};
    server_block_signals();   /* before the engine starts its writer thread */
    if (engine_open(db, &eo, &e, &err))
        return cli_fail("serve", &err);
    int64_t nkeys = 0;
    if (engine_key_count(e, &nkeys, &err)) {
        engine_close(e);
        return cli_fail("serve", &err);
    }
    if (nkeys == 0) {
        char key[KEY_LEN];
        if (engine_key_create(e, ROLE_ADMIN, "first admin", key, &err)) {
            engine_close(e);
            return cli_fail("serve", &err);
        }
        printf("cxm: first start: admin API key (shown once, keep it safe):\n%s\n", key);
        fflush(stdout);
    }
    struct server_opts so = {.listen = listen, .threads = (unsigned)threads,
                             .max_body = (size_t)max_body};
    /* the journeys' events, gathered while the server starts answering */
    pthread_t warm;
    bool warming = !lazy_journeys && pthread_create(&warm, NULL, warm_main, e) == 0;
    engine_set_delivery(e, &(struct delivery_opts){.max_attempts = (int)attempts,
                                                   .base_ms = base_ms, .max_ms = max_ms});
    struct deliver *dl = NULL;
    struct deliver_opts dopt = {.timeout_ms = (long)wh_timeout};
    if (deliver_start(e, &dopt, &dl, &err)) {
        engine_close(e);
        return cli_fail("serve", &err);
    }
    int rc = server_run(e, &so, &err);
    deliver_stop(dl);
    if (warming)
        pthread_join(warm, NULL);
    engine_close(e);
    return rc ? cli_fail("serve", &err) : EXIT_OK;
}
