/* decode - times the decoding of one POST /v1/events body of 1000
 * interaction records (as loadgen.c's record() makes them): jansson plus
 * event_decode (evscan_jansson) against the body scanner (evscan_body).
 * No server, no store: the CPU the HTTP threads spend per record.
 *
 * bench/ingest/run.sh builds it (`make build/bench/decode`, on the release
 * objects) and runs it.
 * Run: build/bench/decode [iterations, default 300]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/evscan.h"

#define RECORDS 1000

static const char *const tps[] = {"homepage", "search", "product_page", "cart",
                                  "checkout", "help_center", "live_chat",
                                  "call_center", "order_status", "returns_portal"};
static const char *const stages[] = {"awareness", "consideration", "purchase",
                                     "onboarding", "support", "loyalty"};

/* loadgen.c's record() with its defaults (increasing ids, 100000
 * customers, prefix "lg"). */
static size_t record(char *buf, size_t cap, long q, int r)
{
    unsigned long long x = (unsigned long long)q * 1000003ull + (unsigned)r * 7919ull + 12345;
    x ^= x >> 17;
    x *= 0xed5ad4bbull;
    x ^= x >> 11;
    long cust = (long)(x % 100000ull);
    int n = snprintf(buf, cap,
                     "{\"type\":\"interaction\",\"event_id\":\"lg-%ld-%d\",\"ts\":%lld,"
                     "\"email\":\"user%ld@example.com\",\"channel\":\"web\","
                     "\"touchpoint\":\"%s\",\"stage\":\"%s\",\"kind\":\"visit\","
                     "\"duration\":%d}",
                     q, r, 1700000000LL + (long long)(x % 30000000ull), cust,
                     tps[x % 10], stages[(x >> 8) % 6], (int)((x >> 16) % 600));
    return n > 0 ? (size_t)n : 0;
}

static double run(const char *body, size_t len, bool scanner, int iters)
{
    double t0 = cxm_seconds();
    for (int it = 0; it < iters; it++) {
        struct arena a = {0};
        struct event *evs = NULL;
        size_t n = 0;
        json_t *batch = NULL;
        struct cxm_err err;
        cxm_err_clear(&err);
        int rc = scanner
            ? evscan_body(body, len, false, NULL, 1700000000, &a, &evs, &n, &err)
            : evscan_jansson(body, len, false, NULL, 1700000000, &a, &batch, &evs, &n, &err);
        if (rc || n != RECORDS) {
            fprintf(stderr, "decode failed (%d): %s\n", rc, err.msg);
            exit(1);
        }
        free(evs);
        json_decref(batch);
        arena_free(&a);
    }
    return (cxm_seconds() - t0) / iters / RECORDS * 1e6;
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 300;
    if (iters < 1)
        iters = 1;
    size_t cap = (size_t)RECORDS * 420 + 16, len = 0;
    char *body = malloc(cap);
    if (!body)
        return 1;
    body[len++] = '[';
    for (int r = 0; r < RECORDS; r++) {
        if (r)
            body[len++] = ',';
        len += record(body + len, cap - len, 7, r);
    }
    body[len++] = ']';
    run(body, len, false, 10);   /* warm up caches and the allocator */
    run(body, len, true, 10);
    double old_us = run(body, len, false, iters);
    double new_us = run(body, len, true, iters);
    printf("body: %zu bytes, %d records, %d iterations\n", len, RECORDS, iters);
    printf("jansson + event_decode: %.3f us/record\n", old_us);
    printf("evscan_body:            %.3f us/record (%.1fx)\n", new_us, old_us / new_us);
    free(body);
    return 0;
}
