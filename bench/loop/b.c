/* b.c - bench/loop in process: what the closed loop costs at ingest. The
 * same feedback (NPS with a comment for one in five, CSAT, complaints) is
 * ingested into fresh databases three times: with no alert rules, with
 * ten rules (a fifth of the signals open or join a case), and with the
 * ten rules and a webhook endpoint taking every event (each record then
 * also writes an outbox row and a delivery). Durable commits (synchronous
 * FULL), batches of 1000, one writer, as the HTTP API does.
 *
 *   b DIR [RECORDS]        (default 200,000) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../driver.h"
#include "core/arena.h"
#include "engine/engine.h"
#include "log.h"

static const char rules[] =
    "{\"rules\": ["
    "{\"id\": \"detractor\", \"when\": \"nps <= 6\", \"priority\": \"high\", \"team\": \"care\","
    " \"routes\": [{\"when\": \"channel = 'store'\", \"team\": \"retail\"}],"
    " \"sla\": {\"first_response\": \"4h\", \"resolution\": \"2d\"}},"
    "{\"id\": \"csat\", \"when\": \"csat <= 2\", \"team\": \"care\"},"
    "{\"id\": \"ces\", \"when\": \"ces >= 6\", \"team\": \"care\"},"
    "{\"id\": \"angry\", \"when\": \"sentiment <= -0.5\", \"team\": \"care\"},"
    "{\"id\": \"billing\", \"when\": \"negative_themes contains 'billing'\", \"team\": \"billing\"},"
    "{\"id\": \"complaint\", \"when\": \"type = 'complaint'\", \"priority\": \"urgent\"},"
    "{\"id\": \"valuable\", \"when\": \"negative = 1 and revenue >= 500\"},"
    "{\"id\": \"store-nps\", \"when\": \"channel = 'store' and nps <= 4\", \"emit\": true,"
    " \"open_case\": false},"
    "{\"id\": \"app\", \"when\": \"channel = 'app' and csat = 1\", \"team\": \"mobile\"},"
    "{\"id\": \"segment\", \"when\": \"negative = 1 and orders >= 3\", \"team\": \"loyalty\"}"
    "]}";

static const char *const comments[] = {
    "Great service, thank you", "The billing is wrong again, charged twice",
    "Delivery was late and nobody answered", "Fine", "Easy to use app",
};

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static json_t *record(long i, int64_t now)
{
    char email[32];
    snprintf(email, sizeof email, "c%" PRIu64 "@x.io", next() % 100000);
    static const char *const ch[] = {"web", "app", "store", "phone"};
    const char *channel = ch[next() % 4];
    uint64_t k = next() % 100;
    json_t *r;
    if (k < 60) {
        r = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "type", "feedback", "email", email,
                      "kind", "nps", "score", (int)(next() % 11), "channel", channel, "ts",
                      (json_int_t)now);
        if (i % 5 == 0)
            json_object_set_new(r, "comment", json_string(comments[next() % 5]));
    } else if (k < 90) {
        r = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "type", "feedback", "email", email,
                      "kind", "csat", "score", 1 + (int)(next() % 5), "channel", channel, "ts",
                      (json_int_t)now);
    } else {
        r = json_pack("{s:s, s:s, s:s, s:s, s:I}", "type", "interaction", "email", email,
                      "kind", k < 93 ? "complaint" : "call", "channel", channel, "ts",
                      (json_int_t)now);
    }
    return r;
}

/* Ingests n records in batches of 1000: records per second. */
static double run(struct engine *e, long n, int64_t now)
{
    rng = 88172645463325252ull;
    double busy = 0;
    struct event ev[1000];
    for (long done = 0; done < n; done += 1000) {
        json_t *arr = json_array();
        for (long i = 0; i < 1000; i++)
            json_array_append_new(arr, record(done + i, now));
        struct arena a = {0};
        for (size_t i = 0; i < 1000; i++) {
            struct cxm_err err;
            if (event_decode(json_array_get(arr, i), (long)i, now, &a, &ev[i], &err)) {
                fprintf(stderr, "decode: %s\n", err.msg);
                exit(1);
            }
        }
        struct engine_work w = {.op = ENGINE_INGEST, .ev = ev, .n = 1000};
        double t0 = now_s();
        if (engine_run(e, &w) || w.rc) {
            fprintf(stderr, "ingest: %s\n", w.err.msg);
            exit(1);
        }
        busy += now_s() - t0;
        arena_free(&a);
        json_decref(arr);
    }
    return (double)n / busy;
}

static double config(const char *dir, const char *name, long n, bool with_rules, bool hook,
                     size_t *cases, size_t *pending)
{
    char db[512];
    snprintf(db, sizeof db, "%s/%s.db", dir, name);
    struct engine *e;
    struct cxm_err err;
    struct engine_opts o = {.sync = STORE_SYNC_FULL, .lock = true};
    if (engine_open(db, &o, &e, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    int64_t now = (int64_t)time(NULL);
    if (with_rules && engine_set_alert_rules(e, rules, sizeof rules - 1, &err)) {
        fprintf(stderr, "rules: %s\n", err.msg);
        exit(1);
    }
    if (hook) {
        struct webhook_def d = {.url = "http://127.0.0.1:9/none", .events = "*", .enabled = -1};
        json_t *out;
        if (engine_webhook_put(e, &d, true, &out, &err)) {
            fprintf(stderr, "webhook: %s\n", err.msg);
            exit(1);
        }
        json_decref(out);
    }
    double rate = run(e, n, now);
    struct engine_stats st;
    engine_stats(e, &st);
    *cases = st.cases_open;
    *pending = st.deliveries_pending;
    engine_close(e);
    return rate;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: b DIR [RECORDS]\n");
        return 2;
    }
    log_set_level(LOG_WARN);
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 200000;
    n = (n + 999) / 1000 * 1000;
    size_t c0, p0, c1, p1, c2, p2;
    double base = config(argv[1], "none", n, false, false, &c0, &p0);
    double ruled = config(argv[1], "rules", n, true, false, &c1, &p1);
    double hooked = config(argv[1], "hook", n, true, true, &c2, &p2);
    printf("records per configuration: %ld (batches of 1000, synchronous=FULL)\n", n);
    printf("%-32s %12s %8s %10s %12s\n", "configuration", "records/s", "ratio", "open cases",
           "deliveries");
    printf("%-32s %12.0f %8.2f %10zu %12zu\n", "no rules", base, 1.0, c0, p0);
    printf("%-32s %12.0f %8.2f %10zu %12zu\n", "10 alert rules", ruled, ruled / base, c1, p1);
    printf("%-32s %12.0f %8.2f %10zu %12zu\n", "10 rules + webhook on every event", hooked,
           hooked / base, c2, p2);
    return 0;
}
