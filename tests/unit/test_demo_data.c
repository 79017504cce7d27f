/* test_demo_data.c - the demo generator: deterministic, every record valid
 * for event_decode, and the shapes the demo is meant to show (anonymous
 * visitors who log in, unhappy detractors, worse channels) really there. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/demo_data.h"
#include "cli/demo_text.h"
#include "core/identity.h"
#include "engine/event.h"
#include "cxm_limits.h"

/* 2026-07-31T23:59:59Z */
#define END_TS 1785542399LL
#define WINDOW (730LL * 86400)

/* Collects records (kept with json_incref) into an array. */
static int collect(json_t *rec, void *ctx)
{
    return json_array_append(ctx, rec) ? CXM_ENOMEM : CXM_OK;
}

static json_t *generate(size_t customers, uint64_t seed)
{
    struct demo_opts o;
    demo_opts_init(&o, END_TS);
    o.customers = customers;
    o.seed = seed;
    json_t *all = json_array();
    cr_assert(all);
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = demo_generate(&o, collect, all, &err);
    cr_assert_eq(rc, CXM_OK, "demo_generate: %s", err.msg);
    return all;
}

static const char *str(json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

static bool is_type(json_t *rec, const char *type)
{
    return strcmp(str(rec, "type"), type) == 0;
}

static bool in_set(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Asserts the n strings in v are pairwise distinct. */
static void assert_unique(const char **v, size_t n, const char *what)
{
    qsort(v, n, sizeof *v, cmp_str);
    for (size_t i = 1; i < n; i++)
        cr_assert_str_neq(v[i - 1], v[i], "duplicate %s %s", what, v[i]);
}

/* The records of a run serialised and joined, for byte comparison. */
static char *serialise(json_t *all)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    cr_assert(buf);
    size_t i;
    json_t *rec;
    json_array_foreach(all, i, rec) {
        char *s = json_dumps(rec, JSON_COMPACT);
        cr_assert(s);
        size_t n = strlen(s);
        while (len + n + 2 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert(buf);
        }
        memcpy(buf + len, s, n);
        len += n;
        buf[len++] = '\n';
        free(s);
    }
    buf[len] = '\0';
    return buf;
}

Test(demo_data, same_options_give_identical_records)
{
    json_t *a = generate(300, 42), *b = generate(300, 42), *c = generate(300, 43);
    char *sa = serialise(a), *sb = serialise(b), *sc = serialise(c);
    cr_assert_gt(json_array_size(a), 300 * 20);
    cr_assert_str_eq(sa, sb, "two runs with the same options differ");
    cr_assert_str_neq(sa, sc, "another seed gave the same records");
    free(sa);
    free(sb);
    free(sc);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

Test(demo_data, every_record_passes_event_decode_in_time_order)
{
    json_t *all = generate(1000, 42);
    struct arena a = {0};
    size_t i, employees = 0;
    json_t *rec;
    int64_t last = 0;
    bool people_started = false;
    json_array_foreach(all, i, rec) {
        struct event ev;
        struct cxm_err err;
        cxm_err_clear(&err);
        int rc = event_decode(rec, (long)i, 0, &a, &ev, &err);
        if (rc) {
            char *s = json_dumps(rec, JSON_COMPACT);
            cr_assert_fail("record %zu rejected (%s: %s): %s", i, err.field, err.msg, s);
        }
        cr_assert_not_null(ev.event_id, "record %zu has no event_id", i);
        cr_assert_eq(ev.customer_id, 0, "record %zu names a customer_id", i);
        cr_assert_geq(ev.ts, END_TS - WINDOW, "record %zu before the window", i);
        cr_assert_leq(ev.ts, END_TS, "record %zu after end_ts", i);
        cr_assert_geq(ev.ts, last, "record %zu goes back in time", i);
        last = ev.ts;
        if (ev.type == EV_EMPLOYEE) {
            cr_assert(!people_started, "employee %zu after the first person", i);
            employees++;
        } else {
            people_started = true;
        }
        if (i % 5000 == 4999)
            arena_free(&a);
    }
    arena_free(&a);
    cr_assert_geq(employees, 8);
    cr_assert_leq(employees, 12);
    json_decref(all);
}

struct teams {
    size_t n;
    bool seen[6];
};

/* Counts the employees and stops at the first person's record. */
static int count_teams(json_t *rec, void *ctx)
{
    static const char *const teams[] = {"Support", "Billing", "Returns", "Sales",
                                        "Onboarding", "Social Care"};
    struct teams *t = ctx;
    if (!is_type(rec, "employee"))
        return CXM_ECONFLICT;
    t->n++;
    for (size_t k = 0; k < 6; k++)
        if (strcmp(str(rec, "team"), teams[k]) == 0)
            t->seen[k] = true;
    return CXM_OK;
}

Test(demo_data, agents_scale_with_customers_and_callback_aborts)
{
    struct demo_opts o;
    demo_opts_init(&o, END_TS);
    struct teams t = {0};
    cr_assert_eq(demo_generate(&o, count_teams, &t, NULL), CXM_ECONFLICT);
    cr_assert_eq(t.n, 40, "%zu agents for 5000 customers", t.n);
    for (size_t k = 0; k < 6; k++)
        cr_assert(t.seen[k], "team %zu has no agent", k);
    o.customers = 10;
    t = (struct teams){0};
    cr_assert_eq(demo_generate(&o, count_teams, &t, NULL), CXM_ECONFLICT);
    cr_assert_eq(t.n, 8);
}

Test(demo_data, bad_options_are_refused)
{
    struct demo_opts o;
    struct cxm_err err;
    demo_opts_init(&o, END_TS);
    cr_assert_eq(o.customers, DEMO_DEFAULT_CUSTOMERS);
    cr_assert_eq(o.seed, DEMO_DEFAULT_SEED);
    cr_assert_eq(demo_generate(NULL, collect, NULL, &err), CXM_EINVAL);
    cr_assert_eq(demo_generate(&o, NULL, NULL, &err), CXM_EINVAL);
    o.end_ts = 0;
    cr_assert_eq(demo_generate(&o, collect, NULL, &err), CXM_EINVAL);
    cr_assert(strstr(err.msg, "1973"), "%s", err.msg);
    o.end_ts = 253402300800LL;
    cr_assert_eq(demo_generate(&o, collect, NULL, &err), CXM_EINVAL);
    o.end_ts = END_TS;
    o.customers = DEMO_MAX_CUSTOMERS + 1;
    cr_assert_eq(demo_generate(&o, collect, NULL, &err), CXM_EINVAL);
}

static const char *const channels[] = {"web", "app", "email", "phone", "chat",
                                       "store", "social", NULL};
static const char *const touchpoints[] = {
    "homepage", "product_page", "search", "cart", "checkout", "order_status",
    "help_center", "returns_portal", "ivr", "call_center", "live_chat",
    "store_visit", "newsletter", "twitter", "facebook", "delivery", NULL};
static const char *const stages[] = {"awareness", "consideration", "purchase",
                                     "onboarding", "support", "loyalty", NULL};
static const char *const ikinds[] = {"visit", "call", "chat", "email", "complaint",
                                     "ticket", "review", "social_mention",
                                     "purchase", NULL};
static const char *const outcomes[] = {"resolved", "unresolved", "escalated",
                                       "abandoned", "converted", NULL};
static const char *const categories[] = {"running", "outdoor", "fitness", "apparel",
                                         "footwear", "accessories", "nutrition",
                                         "electronics", NULL};

static void check_customer(json_t *r)
{
    static const char *const genders[] = {"female", "male", "nonbinary", "unknown", NULL};
    static const char *const countries[] = {"GB", "US", "DE", "FR", "ES", "IE", "NL", NULL};
    static const char *const langs[] = {"en", "de", "fr", "es", "nl", NULL};
    static const char *const tiers[] = {"gold", "silver", "bronze", "none", NULL};
    static const char *const sources[] = {"web", "store", "app", "referral", NULL};
    cr_assert(str(r, "email") && str(r, "crm") && str(r, "name"));
    json_int_t by = json_integer_value(json_object_get(r, "birth_year"));
    cr_assert(2026 - by >= 18 && 2026 - by <= 80, "birth_year %lld", (long long)by);
    cr_assert(in_set(str(r, "gender"), genders));
    cr_assert(in_set(str(r, "country"), countries));
    cr_assert(in_set(str(r, "language"), langs));
    cr_assert(str(r, "city") && *str(r, "city"));
    json_t *c = json_object_get(r, "consent");
    cr_assert(json_is_boolean(json_object_get(c, "marketing")));
    cr_assert(json_is_boolean(json_object_get(c, "surveys")));
    cr_assert(json_is_boolean(json_object_get(c, "personalisation")));
    json_t *at = json_object_get(r, "attributes");
    cr_assert(in_set(str(at, "tier"), tiers));
    cr_assert(in_set(str(at, "signup_source"), sources));
    cr_assert_eq(strcmp(str(at, "tier"), "none") != 0,
                 json_object_get(r, "loyalty") != NULL, "tier without loyalty id");
}

static void check_interaction(json_t *r)
{
    const char *k = str(r, "kind"), *tp = str(r, "touchpoint");
    cr_assert(in_set(str(r, "channel"), channels), "channel %s", str(r, "channel"));
    cr_assert(in_set(tp, touchpoints), "touchpoint %s", tp);
    cr_assert(in_set(str(r, "stage"), stages));
    cr_assert(in_set(k, ikinds));
    if (json_object_get(r, "outcome"))
        cr_assert(in_set(str(r, "outcome"), outcomes));
    bool agent = json_object_get(r, "agent_id") != NULL;
    if (strcmp(k, "chat") == 0 || strcmp(k, "complaint") == 0 ||
        strcmp(k, "ticket") == 0 || (strcmp(k, "call") == 0 && strcmp(tp, "ivr") != 0))
        cr_assert(agent, "%s without agent_id", k);
    if (strcmp(k, "chat") == 0 || strcmp(k, "complaint") == 0 ||
        strcmp(k, "review") == 0 || strcmp(k, "social_mention") == 0)
        cr_assert(str(r, "text") && *str(r, "text"), "%s without text", k);
    json_t *d = json_object_get(r, "duration");
    if (d)
        cr_assert(json_is_integer(d) && json_integer_value(d) >= 0);
    json_t *v = json_object_get(r, "value");
    if (v)
        cr_assert(json_is_number(v) && json_number_value(v) > 0);
}

/* Returns whether the answer has a comment. */
static bool check_feedback(json_t *r)
{
    const char *k = str(r, "kind");
    json_t *s = json_object_get(r, "score");
    cr_assert(json_is_integer(s), "score is not an integer");
    json_int_t v = json_integer_value(s);
    if (strcmp(k, "nps") == 0)
        cr_assert(v >= 0 && v <= 10 && strncmp(str(r, "survey"), "relationship-nps-20", 19) == 0);
    else if (strcmp(k, "csat") == 0 || strcmp(k, "rating") == 0)
        cr_assert(v >= 1 && v <= 5);
    else
        cr_assert(strcmp(k, "ces") == 0 && v >= 1 && v <= 7, "kind %s", k);
    if (strcmp(str(r, "survey"), "post-support-csat") == 0)
        cr_assert(json_object_get(r, "agent_id"), "post-support survey without agent");
    if (json_object_get(r, "channel"))
        cr_assert(in_set(str(r, "channel"), channels));
    return json_object_get(r, "comment") != NULL;
}

static void check_order(json_t *r)
{
    static const char *const currencies[] = {"GBP", "EUR", "USD", NULL};
    static const char *const ochannels[] = {"web", "app", "store", NULL};
    cr_assert(strncmp(str(r, "order_id"), "ORD-", 4) == 0);
    cr_assert(in_set(str(r, "currency"), currencies));
    cr_assert(in_set(str(r, "channel"), ochannels));
    json_t *items = json_object_get(r, "items"), *it;
    cr_assert_gt(json_array_size(items), 0);
    double sum = 0;
    size_t k;
    json_array_foreach(items, k, it) {
        cr_assert(str(it, "sku") && in_set(str(it, "category"), categories));
        json_int_t q = json_integer_value(json_object_get(it, "qty"));
        double p = json_number_value(json_object_get(it, "price"));
        cr_assert(q >= 1 && q <= 5 && p > 0);
        sum += (double)q * p;
    }
    double amount = json_number_value(json_object_get(r, "amount"));
    cr_assert(fabs(amount - sum) <= 0.005, "amount %.2f, items %.2f", amount, sum);
}

Test(demo_data, fields_are_in_range_and_ids_unique)
{
    json_t *all = generate(1000, 42);
    size_t n = json_array_size(all), nid = 0, nord = 0, nfb = 0, ncomment = 0;
    size_t ncust = 0, nphone = 0, nloyalty = 0, nemail = 0;
    const char **ids = calloc(n, sizeof *ids), **orders = calloc(n, sizeof *orders);
    char (*phones)[CXM_MAX_IDENTITY + 1] = calloc(n, sizeof *phones);
    const char **phone_ptrs = calloc(n, sizeof *phone_ptrs), **emails = calloc(n, sizeof *emails);
    cr_assert(ids && orders && phones && phone_ptrs && emails);
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) {
        ids[nid++] = str(r, "event_id");
        if (is_type(r, "customer")) {
            check_customer(r);
            ncust++;
            emails[nemail++] = str(r, "email");
            nloyalty += json_object_get(r, "loyalty") != NULL;
            if (str(r, "phone")) {
                cr_assert_eq(identity_normalize("phone", str(r, "phone"), str(r, "country"),
                                                phones[nphone], sizeof phones[nphone], NULL),
                             CXM_OK, "phone %s", str(r, "phone"));
                cr_assert_eq(phones[nphone][0], '+', "%s is not E.164", phones[nphone]);
                phone_ptrs[nphone] = phones[nphone];
                nphone++;
            }
        } else if (is_type(r, "interaction")) {
            check_interaction(r);
        } else if (is_type(r, "feedback")) {
            nfb++;
            ncomment += check_feedback(r);
        } else if (is_type(r, "order")) {
            check_order(r);
            orders[nord++] = str(r, "order_id");
        }
    }
    assert_unique(ids, nid, "event_id");
    assert_unique(orders, nord, "order_id");
    assert_unique(phone_ptrs, nphone, "phone");
    assert_unique(emails, nemail, "email");
    cr_assert_gt(ncust, 950);
    cr_assert(nphone > ncust * 5 / 10 && nphone < ncust * 7 / 10, "%zu phones", nphone);
    cr_assert(nloyalty > ncust / 4 && nloyalty < ncust * 45 / 100, "%zu loyalty", nloyalty);
    cr_assert(ncomment > nfb / 2 && ncomment < nfb * 7 / 10, "%zu of %zu commented",
              ncomment, nfb);
    cr_assert_gt(nord, 1000);
    free(ids);
    free(orders);
    free(phones);
    free(phone_ptrs);
    free(emails);
    json_decref(all);
}

/* Marks key in the set (a JSON object) with record index i, if new. */
static void mark(json_t *set, const char *key, size_t i)
{
    if (key && !json_object_get(set, key))
        cr_assert_eq(json_object_set_new(set, key, json_integer((json_int_t)i)), 0);
}

static long seen_at(json_t *set, const char *key)
{
    json_t *v = key ? json_object_get(set, key) : NULL;
    return v ? (long)json_integer_value(v) : -1;
}

Test(demo_data, anonymous_visitors_and_second_identities_are_linked_later)
{
    json_t *all = generate(1000, 42);
    json_t *anon = json_object(), *known = json_object(), *handles = json_object(),
           *email2 = json_object();
    size_t i, cookie_links = 0, email_links = 0, social_links = 0;
    json_t *r;
    json_array_foreach(all, i, r) {
        json_t *ids = json_object_get(r, "identities");
        const char *handle = ids ? str(ids, "social:twitter") : NULL;
        const char *cookie = str(r, "cookie") ? str(r, "cookie") : str(r, "device");
        if (is_type(r, "interaction") && !str(r, "email")) {
            mark(anon, cookie, i);
            mark(handles, handle, i);
        } else if (is_type(r, "order")) {
            mark(email2, str(r, "email"), i);
        } else if (is_type(r, "customer")) {
            mark(known, str(r, "email"), i);
            cr_assert_null(cookie, "a customer record names a cookie or device");
        } else if (is_type(r, "identify")) {
            long cust = seen_at(known, str(r, "email"));
            cr_assert_geq(cust, 0, "identify %zu before its customer record", i);
            if (cookie) {
                long first = seen_at(anon, cookie);
                cr_assert_geq(first, 0, "identify %zu links a cookie never seen", i);
                cr_assert_lt(first, cust, "the visitor browsed after signing up");
                cookie_links++;
            } else if (handle) {
                cr_assert_geq(seen_at(handles, handle), 0, "handle never posted");
                social_links++;
            } else {
                const char *other = str(ids, "email");
                cr_assert(other, "identify %zu links nothing", i);
                cr_assert_geq(seen_at(email2, other), 0, "second email never used");
                cr_assert_lt(seen_at(known, other), 0, "second email is a customer's");
                email_links++;
            }
        }
    }
    /* ~30% browse first, ~5% have a second address, ~10% a handle. */
    cr_assert(cookie_links > 200 && cookie_links < 400, "%zu cookie links", cookie_links);
    cr_assert(email_links > 10 && email_links < 80, "%zu email links", email_links);
    cr_assert(social_links > 40 && social_links < 130, "%zu social links", social_links);
    json_decref(anon);
    json_decref(known);
    json_decref(handles);
    json_decref(email2);
    json_decref(all);
}

Test(demo_data, records_per_person_are_in_range)
{
    json_t *all = generate(200, 42);
    size_t i, people = 0;
    json_t *r;
    json_array_foreach(all, i, r)
        people += !is_type(r, "employee");
    cr_assert(people >= 200 * 20 && people <= 200 * 80, "%zu records for 200 people",
              people);
    json_decref(all);
}

Test(demo_data, detractors_and_promoters_say_different_things)
{
    json_t *all = generate(1000, 42);
    json_t *low = json_object(), *high = json_object();
    size_t i, detractors = 0, promoters = 0, total = 0;
    json_t *r;
    json_array_foreach(all, i, r) {
        if (!is_type(r, "feedback") || strcmp(str(r, "kind"), "nps") != 0)
            continue;
        json_int_t s = json_integer_value(json_object_get(r, "score"));
        total++;
        detractors += s <= 6;
        promoters += s >= 9;
        const char *c = str(r, "comment");
        if (c && s <= 4)
            mark(low, c, i);
        else if (c && s >= 9)
            mark(high, c, i);
    }
    cr_assert_gt(detractors, total / 20, "%zu detractors of %zu", detractors, total);
    cr_assert_gt(promoters, total / 5, "%zu promoters of %zu", promoters, total);
    cr_assert_gt(json_object_size(low), 5);
    cr_assert_gt(json_object_size(high), 20);
    const char *key;
    json_t *v;
    json_object_foreach(low, key, v)
        cr_assert_null(json_object_get(high, key), "'%s' said by both", key);
    json_decref(low);
    json_decref(high);
    json_decref(all);
}

Test(demo_data, phone_and_web_checkout_are_measurably_worse)
{
    json_t *all = generate(2000, 42);
    size_t i, co[2] = {0}, co_lost[2] = {0}, ivr = 0, ivr_lost = 0;
    double csat_sum[2] = {0};
    size_t csat_n[2] = {0};
    json_t *r;
    json_array_foreach(all, i, r) {
        if (is_type(r, "interaction")) {
            const char *tp = str(r, "touchpoint"), *out = str(r, "outcome");
            bool lost = out && strcmp(out, "abandoned") == 0;
            if (strcmp(tp, "checkout") == 0) {
                int web = strcmp(str(r, "channel"), "web") == 0;
                co[web]++;
                co_lost[web] += lost;
            } else if (strcmp(tp, "ivr") == 0) {
                ivr++;
                ivr_lost += lost;
            }
        } else if (is_type(r, "feedback") &&
                   strcmp(str(r, "survey"), "post-support-csat") == 0) {
            const char *ch = str(r, "channel");
            int k = strcmp(ch, "phone") == 0 ? 1 : strcmp(ch, "chat") == 0 ? 0 : -1;
            if (k >= 0) {
                csat_sum[k] += (double)json_integer_value(json_object_get(r, "score"));
                csat_n[k]++;
            }
        }
    }
    cr_assert(co[0] > 100 && co[1] > 100);
    cr_assert_gt((double)co_lost[1] / (double)co[1], 1.5 * (double)co_lost[0] / (double)co[0],
                 "web checkout %zu/%zu lost, app %zu/%zu", co_lost[1], co[1], co_lost[0], co[0]);
    cr_assert_gt(ivr_lost * 10, ivr, "%zu of %zu IVR calls abandoned", ivr_lost, ivr);
    cr_assert(csat_n[0] > 20 && csat_n[1] > 20);
    cr_assert_lt(csat_sum[1] / (double)csat_n[1], csat_sum[0] / (double)csat_n[0],
                 "phone support is not rated lower than chat");
    json_decref(all);
}

/* ---- demo_text ---------------------------------------------------------------- */

Test(demo_data, text_tables_are_big_enough_and_fill_their_slots)
{
    for (int b = 0; b < DEMO_BAND_COUNT; b++)
        cr_assert_geq(demo_text_ntemplates((enum demo_band)b), 40, "band %d", b);
    struct demo_slots s = {.product = "Pace Road Running Shoe", .agent = "Priya", .days = 9};
    char out[512];
    for (int b = 0; b < DEMO_BAND_COUNT; b++)
        for (int t = 0; t < DEMO_TH_COUNT; t++)
            for (uint64_t r = 0; r < 12; r++) {
                cr_assert_eq(demo_text_comment((enum demo_band)b, (enum demo_theme)t,
                                               r, &s, out, sizeof out), CXM_OK);
                cr_assert(out[0] && !strchr(out, '{'), "unfilled: %s", out);
                cr_assert_eq(demo_text_chat((enum demo_theme)t, r & 1, r, &s, out,
                                            sizeof out), CXM_OK);
                cr_assert(strstr(out, "Priya") && !strchr(out, '{'), "chat: %s", out);
            }
    cr_assert_eq(demo_text_comment(DEMO_NEGATIVE, DEMO_TH_DELIVERY, 1, NULL, out, 8),
                 CXM_ETOOBIG);
    cr_assert_eq(strlen(out), 7);
    cr_assert_eq(demo_text_comment(DEMO_NEGATIVE, DEMO_TH_DELIVERY, 0, NULL, out,
                                   sizeof out), CXM_OK);
    cr_assert(strstr(out, "several"), "%s", out);
    cr_assert_eq(demo_text_fold("Jürgen Müller-Lüdenscheidt", out, sizeof out), 24);
    cr_assert_str_eq(out, "jurgenmullerludenscheidt");
    demo_text_fold("O'Brien Íñigo Ayşe", out, sizeof out);
    cr_assert_str_eq(out, "obrieninigoayse");
    demo_text_fold("Zoë", out, 3);
    cr_assert_str_eq(out, "zo");
}

Test(demo_data, products_and_phones_are_distinct)
{
    size_t n = demo_text_nproducts(), total = 0;
    cr_assert(n >= 140 && n <= 160, "%zu products", n);
    for (size_t c = 0; c < demo_text_ncategories(); c++) {
        size_t first, count;
        demo_text_category_products(c, &first, &count);
        cr_assert_eq(first, total);
        cr_assert_gt(count, 0);
        total += count;
        for (size_t i = first; i < first + count; i++) {
            struct demo_product p;
            cr_assert_eq(demo_text_product(i, &p), CXM_OK);
            cr_assert_eq(p.category, c);
            cr_assert_gt(p.price_cents, 0);
        }
    }
    cr_assert_eq(total, n);
    for (size_t c = 0; c < demo_text_ncountries(); c++) {
        const struct demo_country *co = demo_text_country(c);
        char prev[CXM_MAX_IDENTITY + 1] = "";
        /* Neighbouring n and the extremes all normalise, all differently. */
        static const uint32_t ns[] = {0, 1, 2, 3, 10, 9999, 10000, 1234567, 7999999};
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            char raw[40], norm[CXM_MAX_IDENTITY + 1];
            cr_assert_eq(demo_text_phone(c, ns[k], raw, sizeof raw), CXM_OK);
            struct cxm_err err;
            cr_assert_eq(identity_normalize("phone", raw, co->iso, norm, sizeof norm, &err),
                         CXM_OK, "%s %s: %s", co->iso, raw, err.msg);
            cr_assert_str_neq(norm, prev, "%s %s", co->iso, raw);
            cxm_strlcpy(prev, norm, sizeof prev);
        }
    }
}
