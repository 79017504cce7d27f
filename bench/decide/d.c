/* d.c - bench/decide in process: opens a cxm database (the canonical
 * customers, feedback and orders that run.sh loads), defines 20 segments
 * and a catalogue of 50 actions, records contacts for a tenth of the
 * customers, then times engine_decide for random customers one by one
 * (each decision alone, logged and not) and reports percentiles. It also
 * reports what keeping the segments current costs per ingested event: the
 * writer runs every rule on each profile an event touches, which is the
 * work of a rule preview divided by the profiles, summed over the rules.
 *
 *   d DB [DECISIONS]        (default 200,000) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../driver.h"
#include "engine/engine.h"

static const char *const segs[20][2] = {
    {"promoters", "nps_category = 'promoter'"},
    {"detractors", "nps_category = 'detractor'"},
    {"passives", "nps_category = 'passive'"},
    {"lapsed", "orders >= 1 and days_since_last_order > 180"},
    {"new", "orders = 1 and days_since_last_order <= 30"},
    {"repeat", "orders >= 3"},
    {"big-spenders", "revenue >= 500"},
    {"us", "country = 'US'"},
    {"eu", "country in ('DE', 'FR', 'GB', 'ES', 'IT', 'NL')"},
    {"young", "age between 18 and 34"},
    {"senior", "age >= 55"},
    {"app-users", "channels contains 'app'"},
    {"web-users", "channels contains 'web'"},
    {"unhappy-csat", "csat_mean < 3"},
    {"high-effort", "ces_mean >= 5"},
    {"cat3", "bought_category('cat3')"},
    {"cat1-not-cat2", "bought_category('cat1') and not bought_category('cat2')"},
    {"silent", "days_since_last_contact > 90"},
    {"marketing-ok", "consent_marketing = 1"},
    {"female-eu-promoters", "gender = 'female' and nps_category = 'promoter' and"
                            " country in ('DE', 'FR', 'GB', 'ES', 'IT', 'NL')"},
};

static const char *const kinds[] = {"promotion", "survey", "service_follow_up",
                                    "retention_offer", "thank_you", "referral"};

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void die(const char *what, const struct cxm_err *err)
{
    fprintf(stderr, "d: %s: %s\n", what, err->msg);
    exit(1);
}

static void run(struct engine *e, size_t n, uint32_t ncust, bool log, const char *label)
{
    double *lat = malloc(n * sizeof *lat);
    size_t eligible = 0;
    struct cxm_err err;
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        struct decide_req q = {.customer = 1 + (uint32_t)(next() % ncust), .channel = "web",
                               .log = log};
        struct decision d;
        double a = now_s();
        if (engine_decide(e, &q, &d, &err))
            die("decide", &err);
        eligible += d.neligible;
        decision_free(&d);
        lat[i] = now_s() - a;
    }
    double total = now_s() - t0;
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("%-22s %8.0f decisions/s  p50 %6.1f us  p99 %6.1f us  p99.9 %6.1f us"
           "  max %7.1f us  (%.1f eligible of 50 on average)\n",
           label, n / total, lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6,
           lat[n * 999 / 1000] * 1e6, lat[n - 1] * 1e6, (double)eligible / n);
    free(lat);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: d DB [DECISIONS]\n");
        return 2;
    }
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
    struct engine *e;
    struct cxm_err err;
    struct engine_opts o = {.sync = STORE_SYNC_NORMAL, .lock = true};
    double t0 = now_s();
    if (engine_open(argv[1], &o, &e, &err))
        die("open", &err);
    struct engine_stats st;
    engine_stats(e, &st);
    printf("opened %s: %zu profiles, %zu feedback, %zu orders in %.1f s\n", argv[1],
           st.profiles, st.feedback, st.orders, now_s() - t0);
    uint32_t ncust = (uint32_t)st.customers;
    /* segments: created once per database, timed */
    json_t *doc;
    double per_event = 0;
    for (int i = 0; i < 20; i++) {
        struct segment_def d = {.id = segs[i][0], .rule = segs[i][1]};
        double a = now_s();
        int rc = engine_segment_put(e, &d, SEG_CREATE, &doc, &err);
        double dt = now_s() - a;
        if (rc && rc != CXM_ECONFLICT)
            die(segs[i][0], &err);
        json_decref(doc);
        a = now_s();
        if (engine_segment_preview(e, segs[i][1], &doc, &err))
            die("preview", &err);
        double pv = now_s() - a;
        per_event += pv / (double)json_integer_value(json_object_get(doc, "profiles"));
        if (!rc)
            printf("segment %-20s %8lld members, created in %.3f s\n", segs[i][0],
                   (long long)json_integer_value(json_object_get(doc, "members")), dt);
        json_decref(doc);
    }
    printf("membership upkeep: %.2f us per ingested event (20 rules on the profile it"
           " touches)\n", per_event * 1e6);
    /* the catalogue: 50 actions over the 20 segments and 10 inline rules */
    char cat[32768];
    size_t len = (size_t)snprintf(cat, sizeof cat, "{\"actions\": [");
    for (int i = 0; i < 50; i++) {
        char elig[160];
        if (i < 40)
            snprintf(elig, sizeof elig, "\"segment\": \"%s\"", segs[i % 20][0]);
        else
            snprintf(elig, sizeof elig, "\"rule\": \"orders >= %d and last_nps >= %d\"",
                     1 + i % 3, i % 10);
        const char *ch = i % 3 == 0 ? ", \"channels\": [\"web\", \"email\"]"
                         : i % 3 == 2 ? ", \"channels\": [\"email\"]" : "";
        len += (size_t)snprintf(cat + len, sizeof cat - len,
                                "%s{\"id\": \"a%02d\", \"kind\": \"%s\", %s, \"priority\": %d,"
                                " \"value\": %d%s, \"message\": \"Hi {first_name|there}, offer"
                                " %d on {top_category|our range}\"}",
                                i ? ", " : "", i, kinds[i % 6], elig, i % 7, 5 + i, ch, i);
    }
    len += (size_t)snprintf(cat + len, sizeof cat - len, "]}");
    if (engine_set_actions(e, cat, len, &err))
        die("actions", &err);
    /* contacts for a tenth of the customers, so caps and gaps have work */
    static struct contact_req cr[1000];
    for (uint32_t c = 1, k = 0; c <= ncust; c += 10) {
        cr[k++] = (struct contact_req){.customer = c, .kind = 1 + (int)(c % 6),
                                       .channel = "email", .force = true};
        if (k == 1000 || c + 10 > ncust) {
            if (engine_contacts(e, cr, k, NULL, &err))
                die("contacts", &err);
            k = 0;
        }
    }
    run(e, n / 10, ncust, false, "warm-up");
    run(e, n, ncust, false, "decide");
    run(e, n, ncust, true, "decide + log");
    engine_close(e);
    return 0;
}
