/* loadgen - posts interaction records to a running cxm over HTTP from C
 * concurrent keep-alive connections and reports records/s and latency.
 * Every record has a unique event_id, so nothing is deduplicated. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct opts {
    const char *url, *key, *prefix;
    int batch, conns;
    int random_ids;           /* UUID-like ids instead of increasing ones */
    int text;                 /* feedback with comments instead of interactions */
    long requests, customers;
};

static struct opts o = {.url = "http://127.0.0.1:8080", .prefix = "lg",
                        .batch = 1000, .conns = 8, .requests = 100,
                        .customers = 100000};
static atomic_long next_req;
static atomic_long failures;
static double *lat;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static const char *const tps[] = {"homepage", "search", "product_page", "cart",
                                  "checkout", "help_center", "live_chat",
                                  "call_center", "order_status", "returns_portal"};
static const char *const stages[] = {"awareness", "consideration", "purchase",
                                     "onboarding", "support", "loyalty"};

/* Comments for --text: realistic, mixed, short and long. */
static const char *const comments[] = {
    "Delivery was quick and the courier was really friendly, thanks!",
    "Waited 45 minutes on hold and nobody could tell me where my parcel is",
    "The app keeps crashing at checkout. Very frustrating.",
    "Great value for money, would definitely recommend to friends",
    "Staff in the store were rude and the place was a mess",
    "I was charged twice and the refund still hasn't arrived after 2 weeks",
    "ok",
    "Not bad, but the website is slow and the search never finds anything",
    "Absolutely love it!!! Best purchase this year :)",
    "Product quality has gone down, the last two items broke within a week",
    "The agent solved my problem in minutes, excellent support",
    "Too expensive compared to other shops, and delivery costs are a joke",
};

/* Appends record number r of request q to buf. */
static size_t record(char *buf, size_t cap, long q, int r)
{
    unsigned long long x = (unsigned long long)q * 1000003ull + (unsigned)r * 7919ull + 12345;
    x ^= x >> 17;
    x *= 0xed5ad4bbull;
    x ^= x >> 11;
    long cust = (long)(x % (unsigned long long)o.customers);
    char eid[64];
    if (o.random_ids)
        snprintf(eid, sizeof eid, "%016llx-%s-%ld-%d", x * 0x9E3779B97F4A7C15ull,
                 o.prefix, q, r);
    else
        snprintf(eid, sizeof eid, "%s-%ld-%d", o.prefix, q, r);
    if (o.text) {
        int n = snprintf(buf, cap,
                         "{\"type\":\"feedback\",\"event_id\":\"%s\",\"ts\":%lld,"
                         "\"email\":\"user%ld@example.com\",\"channel\":\"web\","
                         "\"touchpoint\":\"%s\",\"kind\":\"nps\",\"score\":%d,"
                         "\"comment\":\"%s\"}",
                         eid, 1700000000LL + (long long)(x % 30000000ull), cust,
                         tps[x % 10], (int)((x >> 8) % 11), comments[(x >> 12) % 12]);
        return n > 0 ? (size_t)n : 0;
    }
    int n = snprintf(buf, cap,
                     "{\"type\":\"interaction\",\"event_id\":\"%s\",\"ts\":%lld,"
                     "\"email\":\"user%ld@example.com\",\"channel\":\"web\","
                     "\"touchpoint\":\"%s\",\"stage\":\"%s\",\"kind\":\"visit\","
                     "\"duration\":%d}",
                     eid, 1700000000LL + (long long)(x % 30000000ull), cust,
                     tps[x % 10], stages[(x >> 8) % 6], (int)((x >> 16) % 600));
    return n > 0 ? (size_t)n : 0;
}

static void *worker(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    size_t cap = (size_t)o.batch * 420 + 16;
    char *body = malloc(cap);
    char url[512], auth[256];
    snprintf(url, sizeof url, "%s/v1/events", o.url);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", o.key);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    for (;;) {
        long q = atomic_fetch_add(&next_req, 1);
        if (q >= o.requests)
            break;
        size_t len = 0;
        if (o.batch > 1)
            body[len++] = '[';
        for (int r = 0; r < o.batch; r++) {
            if (r)
                body[len++] = ',';
            len += record(body + len, cap - len, q, r);
        }
        if (o.batch > 1)
            body[len++] = ']';
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        double t0 = now();
        long status = 0;
        if (curl_easy_perform(c) != CURLE_OK ||
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
            status != 200)
            atomic_fetch_add(&failures, 1);
        lat[q] = now() - t0;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(body);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--url")) o.url = v;
        else if (!strcmp(k, "--key")) o.key = v;
        else if (!strcmp(k, "--prefix")) o.prefix = v;
        else if (!strcmp(k, "--batch")) o.batch = (int)strtol(v, NULL, 10);
        else if (!strcmp(k, "--conns")) o.conns = (int)strtol(v, NULL, 10);
        else if (!strcmp(k, "--requests")) o.requests = strtol(v, NULL, 10);
        else if (!strcmp(k, "--customers")) o.customers = strtol(v, NULL, 10);
        else if (!strcmp(k, "--random-ids")) o.random_ids = (int)strtol(v, NULL, 10);
        else if (!strcmp(k, "--text")) o.text = (int)strtol(v, NULL, 10);
        else { fprintf(stderr, "loadgen: unknown option %s\n", k); return 2; }
    }
    if (!o.key || o.batch < 1 || o.conns < 1 || o.requests < 1 || o.customers < 1) {
        fprintf(stderr, "usage: loadgen --key KEY [--url U] [--batch N] [--conns C]"
                        " [--requests R] [--customers K] [--prefix P] [--random-ids 0|1]"
                        " [--text 0|1]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    lat = calloc((size_t)o.requests, sizeof *lat);
    pthread_t *t = calloc((size_t)o.conns, sizeof *t);
    double t0 = now();
    for (int i = 0; i < o.conns; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < o.conns; i++)
        pthread_join(t[i], NULL);
    double dt = now() - t0;
    qsort(lat, (size_t)o.requests, sizeof *lat, cmp);
    long recs = o.requests * o.batch;
    printf("{\"batch\":%d,\"conns\":%d,\"requests\":%ld,\"records\":%ld,\"seconds\":%.3f,"
           "\"records_per_s\":%.0f,\"requests_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
           "\"failures\":%ld}\n",
           o.batch, o.conns, o.requests, recs, dt, (double)recs / dt,
           (double)o.requests / dt, lat[o.requests / 2] * 1e3,
           lat[(long)((double)o.requests * 0.99)] * 1e3, atomic_load(&failures));
    free(lat);
    free(t);
    curl_global_cleanup();
    return atomic_load(&failures) ? 1 : 0;
}
