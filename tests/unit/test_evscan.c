/* The ingest body scanner against the jansson path: for every body, both
 * succeed with identical events or fail with the same error, unless the
 * scanner says "fall back" (counted; the jansson result stands). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxm_limits.h"
#include "engine/evscan.h"

struct tally {
    size_t bodies, fallbacks, ok, errors;
    size_t needless;    /* fell back where jansson accepted the body */
};

static bool str_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool dbl_same(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

#define SAME_STR(f) cr_assert(str_same(x->f, y->f), "%s: record %zu: " #f " '%s' vs '%s'", \
                              what, i, x->f ? x->f : "(null)", y->f ? y->f : "(null)")
#define SAME_INT(f) cr_assert_eq(x->f, y->f, "%s: record %zu: " #f, what, i)
#define SAME_DBL(f) cr_assert(dbl_same(x->f, y->f), "%s: record %zu: " #f " %.17g vs %.17g", \
                              what, i, (double)x->f, (double)y->f)

static void same_events(const char *what, const struct event *a, const struct event *b,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct event *x = &a[i], *y = &b[i];
        SAME_INT(type);
        SAME_INT(ts);
        SAME_STR(event_id);
        SAME_INT(customer_id);
        SAME_INT(nids);
        for (size_t k = 0; k < x->nids; k++) {
            cr_assert_str_eq(x->ids[k].kind, y->ids[k].kind, "%s: record %zu", what, i);
            cr_assert_str_eq(x->ids[k].value, y->ids[k].value, "%s: record %zu", what, i);
        }
        SAME_INT(set);
        SAME_STR(name);
        SAME_STR(gender);
        SAME_STR(country);
        SAME_STR(city);
        SAME_STR(language);
        SAME_STR(attributes);
        SAME_INT(birth_year);
        SAME_INT(consent_m);
        SAME_INT(consent_s);
        SAME_INT(consent_p);
        SAME_STR(channel);
        SAME_STR(touchpoint);
        SAME_STR(stage);
        SAME_STR(agent);
        SAME_STR(kind);
        SAME_STR(outcome);
        SAME_STR(text);
        SAME_INT(duration);
        SAME_DBL(value);
        SAME_INT(fkind);
        SAME_DBL(score);
        SAME_STR(survey);
        SAME_STR(order_id);
        SAME_STR(currency);
        SAME_DBL(amount);
        SAME_INT(nitems);
        for (size_t k = 0; k < x->nitems; k++) {
            cr_assert(str_same(x->items[k].sku, y->items[k].sku), "%s: %zu", what, i);
            cr_assert(str_same(x->items[k].category, y->items[k].category), "%s: %zu",
                      what, i);
            cr_assert(dbl_same(x->items[k].qty, y->items[k].qty), "%s: %zu", what, i);
            cr_assert(dbl_same(x->items[k].price, y->items[k].price), "%s: %zu", what, i);
        }
        SAME_STR(employee_id);
        SAME_STR(team);
        SAME_STR(role);
        cr_assert_null(x->sc);
    }
}

/* Runs both paths on an exact-size copy of body (so a read past the end
 * trips ASan); returns the scanner's rc. */
static int differ(const char *body, size_t len, bool nd, const char *route,
                  struct tally *t)
{
    char *copy = malloc(len ? len : 1);
    cr_assert(copy);
    memcpy(copy, body, len);
    char what[120];
    snprintf(what, sizeof what, "body '%.80s'%s", body, len > 80 ? "..." : "");

    struct arena a1 = {0}, a2 = {0};
    struct event *e1 = NULL, *e2 = NULL;
    size_t n1 = 0, n2 = 0;
    struct cxm_err r1, r2;
    cxm_err_clear(&r1);
    cxm_err_clear(&r2);
    json_t *batch = NULL;
    int rc1 = evscan_body(copy, len, nd, route, 1000, &a1, &e1, &n1, &r1);
    int rc2 = evscan_jansson(copy, len, nd, route, 1000, &a2, &batch, &e2, &n2, &r2);
    t->bodies++;
    if (rc1 == EVSCAN_FALLBACK) {
        t->fallbacks++;
        t->needless += rc2 == 0;
        cr_assert_null(e1, "%s", what);
    } else if (rc2 == 0) {
        t->ok++;
        cr_assert_eq(rc1, 0, "%s: scanner says %d %s (field %s)", what, rc1, r1.msg, r1.field);
        cr_assert_eq(n1, n2, "%s", what);
        cr_assert(e1 && e2);
        same_events(what, e1, e2, n1);
    } else {
        t->errors++;
        cr_assert_eq(rc1, rc2, "%s: rc %d vs %d (%s vs %s)", what, rc1, rc2, r1.msg, r2.msg);
        cr_assert_eq(r1.code, r2.code, "%s", what);
        cr_assert_str_eq(r1.msg, r2.msg, "%s", what);
        cr_assert_eq(r1.index, r2.index, "%s: %s", what, r1.msg);
        cr_assert_str_eq(r1.field, r2.field, "%s: %s", what, r1.msg);
    }
    free(e1);
    free(e2);
    json_decref(batch);
    arena_free(&a1);
    arena_free(&a2);
    free(copy);
    return rc1;
}

struct body {
    const char *text;
    bool nd;
    const char *route;
};

#define INTER(extra) "{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\"" extra "}"

static const struct body valid[] = {
    {"[{\"type\":\"interaction\",\"event_id\":\"e1\",\"ts\":1700000000,\"email\":"
     "\"user1@example.com\",\"channel\":\"web\",\"touchpoint\":\"homepage\",\"stage\":"
     "\"awareness\",\"kind\":\"visit\",\"duration\":12}]", false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"name\":\"Zo\\u00eb \xc3\x9cnal\","
     "\"birth_year\":1980,\"gender\":\"f\",\"country\":\"gb\",\"city\":\"London\","
     "\"language\":\"en\",\"consent\":{\"marketing\":true,\"surveys\":false,"
     "\"personalisation\":null},\"attributes\":{\"tier\":\"gold\",\"n\":3,\"tags\":[\"a\","
     "\"b\"],\"deep\":{\"x\":{\"y\":1.5}}}}", false, NULL},
    {"[{\"type\":\"customer\",\"customer_id\":7,\"name\":null,\"birth_year\":null,"
     "\"attributes\":null,\"consent\":{}}]", false, NULL},
    {"[{\"type\":\"order\",\"crm\":\"C1\",\"order_id\":\"o1\",\"currency\":\"EUR\","
     "\"items\":[{\"sku\":\"a\",\"qty\":2,\"price\":1.25},{\"sku\":\"b\",\"category\":"
     "\"c\",\"price\":3}]},{\"type\":\"order\",\"email\":\"b@x.io\",\"order_id\":\"o2\","
     "\"amount\":10.5,\"items\":[]},{\"type\":\"order\",\"loyalty\":\"L9\",\"order_id\":"
     "\"o3\",\"amount\":0,\"channel\":\"store\"}]", false, NULL},
    {"[{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\",\"score\":9,"
     "\"survey\":\"q1\",\"comment\":\"good\\nday\"},"
     "{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"csat\",\"score\":4.0},"
     "{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"rating\",\"score\":7.5},"
     "{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"text\",\"comment\":\"meh\","
     "\"score\":null,\"agent_id\":\"ag\"},"
     "{\"type\":\"feedback\",\"customer_id\":3,\"kind\":\"ces\",\"score\":1E0}]", false, NULL},
    {"{\"type\":\"identify\",\"email\":\"a@x.io\",\"identities\":{\"social:twitter\":"
     "\"@Bo\",\"phone\":\"020 7946 0958\"},\"country\":\"GB\"}", false, NULL},
    {"[{\"type\":\"identify\",\"customer_id\":9,\"device\":\"d1\",\"cookie\":\"c1\"}]",
     false, NULL},
    {INTER(",\"text\":\"q\\\"b\\\\s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u20AC \\ud83d\\ude00 end\","
           "\"kind\":\"k\\u00e9\"") , false, NULL},
    {"{\"typ\\u0065\":\"interaction\",\"em\\u0061il\":\"a@x.io\",\"channel\":\"w\\u0065b\"}",
     false, NULL},
    {"[" INTER(",\"duration\":0,\"value\":-0") "," INTER(",\"value\":1.0") ","
     INTER(",\"value\":1e3") "," INTER(",\"value\":1E+2") "," INTER(",\"value\":1.5e-3")
     "," INTER(",\"ts\":1.7e9") "," INTER(",\"value\":-0.0") ","
     INTER(",\"value\":1e-400") "," INTER(",\"value\":123456789.123456789") ","
     INTER(",\"ts\":\"2024-03-01T10:00:00+01:00\"") "]", false, NULL},
    {" \n\t[ \r\n { \"type\" : \"interaction\" , \"email\" : \"a@x.io\" , \"channel\" :"
     " \"web\" } \n , {\"type\":\"identify\",\"email\":\"a@x.io\",\"crm\":\"x\"}\t] \n ",
     false, NULL},
    {"[]", false, NULL},
    {" [ \n ] ", false, NULL},
    {INTER("") "\r\n\r\n   \n" INTER(",\"stage\":null") "\n\t \n"
     "{\"type\":\"customer\",\"email\":\"b@x.io\",\"city\":\"Paris\"}", true, NULL},
    {INTER("") "\n", true, NULL},
    {"\r" INTER("") "\r\n", true, NULL},
    {"\n\n", true, NULL},
    {"[{\"employee_id\":\"e1\",\"name\":\"A\",\"team\":\"t\",\"role\":\"r\"},"
     "{\"type\":\"employee\",\"employee_id\":\"e2\"},{\"type\":null,\"employee_id\":\"e3\"}]",
     false, "employee"},
    {"{\"employee_id\":\"e1\"}\n{\"employee_id\":\"e2\",\"type\":\"employee\"}", true,
     "employee"},
    {INTER(",\"stage\":null,\"value\":null,\"outcome\":\"ok\"") , false, NULL},
    {INTER(",\"text\":\"na\xc3\xafve caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\""),
     false, NULL},
    {"[{\"type\":5,\"employee_id\":\"e\"}]", false, "employee"},
    {"{\"type\":\"interaction\",\"customer_id\":4294967294,\"channel\":\"web\"}", false, NULL},
};

static const struct body invalid[] = {
    /* syntax */
    {"[{\"type\":\"interaction\"", false, NULL},
    {"[{}", false, NULL},
    {"[{},]", false, NULL},
    {"{\"a\":1,}", false, NULL},
    {"[" INTER("") "] x", false, NULL},
    {"[" INTER("") "]]", false, NULL},
    {"[1]", false, NULL},
    {"[[]]", false, NULL},
    {"42", false, NULL},
    {"\"x\"", false, NULL},
    {"null", false, NULL},
    {" ", false, NULL},
    {"[" INTER(",\"duration\":01") "]", false, NULL},
    {"[" INTER(",\"value\":1.") "]", false, NULL},
    {"[" INTER(",\"value\":.5") "]", false, NULL},
    {"[" INTER(",\"value\":-") "]", false, NULL},
    {"[" INTER(",\"value\":1e") "]", false, NULL},
    {"[" INTER(",\"value\":+1") "]", false, NULL},
    {"[" INTER(",\"value\":NaN") "]", false, NULL},
    {"[" INTER(",\"value\":9223372036854775807") "]", false, NULL},
    {"[" INTER(",\"value\":-9223372036854775808") "]", false, NULL},
    {"[" INTER(",\"value\":9223372036854775808") "]", false, NULL},
    {"[" INTER(",\"value\":-9223372036854775809") "]", false, NULL},
    {"[" INTER(",\"value\":1e400") "]", false, NULL},
    {"[" INTER(",\"value\":-1e309") "]", false, NULL},
    {"[" INTER(",\"value\":1.7976931348623157e308") "]", false, NULL},
    {"[" INTER(",\"value\":tru") "]", false, NULL},
    {"[" INTER(",\"value\":truex") "]", false, NULL},
    {"[" INTER(",\"value\":true") "]", false, NULL},
    {"[" INTER(",\"text\":\"\\u0000\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\\ud800\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\\udc00\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\\ud800\\u0041\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\\x\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\\u12G4\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\xc3\x28\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\xed\xa0\x80\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\xf5\x80\x80\x80\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\xc0\xaf\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\xe0\x80\xaf\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"\xf4\x90\x80\x80\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"a\x01\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"a\tb\"") "]", false, NULL},
    {"[" INTER(",\"text\":\"a\"") " \xc3\xa9]", false, NULL},
    {"{\"type\":\"interaction\",\"type\":\"order\"}", false, NULL},
    {INTER(",\"x\":1,\"x\":2"), false, NULL},
    {INTER(",\"x\":1,\"y\":2,\"x\":3"), false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"attributes\":{\"a\":1,\"a\":2}}", false, NULL},
    {"[{\"type\":\"customer\"}," "{\"type\":\"customer\",\"email\":\"a@x.io\",\"x\":{\"a\":1,\"a\":2}}]",
     false, NULL},
    {"[{\"type\":\"visit\"},{\"type\":\"order\",\"email\":\"a@x.io\",\"items\":[{\"a\":1,\"a\":2}]}]",
     false, NULL},
    {"[{\"type\":\"visit\"}," INTER("") ",{]", false, NULL},
    {"[{\"type\":\"visit\"}," INTER(",\"value\":01") "]", false, NULL},
    /* validation */
    {"[" INTER("") ",{\"email\":\"a@x.io\"}]", false, NULL},
    {"[{\"type\":\"visit\",\"email\":\"a@x.io\"}]", false, NULL},
    {"[{\"type\":7}]", false, NULL},
    {"[{\"type\":\"\"}]", false, NULL},
    {"[{\"type\":{\"a\":[1,2]}}]", false, NULL},
    {INTER(",\"colour\":1"), false, NULL},
    {INTER(",\"sku\":\"x\",\"colour\":1"), false, NULL},
    {INTER(",\"colour\":[1,{\"b\":2}],\"sku\":\"x\""), false, NULL},
    {INTER(",\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9"), false, NULL},
    {INTER(",\"col\\u006fur\":1"), false, NULL},
    {"{\"type\":\"interaction\",\"channel\":\"web\"}", false, NULL},
    {"{\"type\":\"interaction\",\"email\":\"a@x.io\"}", false, NULL},
    {"{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":7}", false, NULL},
    {"{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":[]}", false, NULL},
    {"{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"\"}", false, NULL},
    {"{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"w\\neb\"}", false, NULL},
    {"{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"w\\u0001eb\"}", false, NULL},
    {INTER(",\"duration\":-5"), false, NULL},
    {INTER(",\"duration\":1.5"), false, NULL},
    {INTER(",\"duration\":\"5\""), false, NULL},
    {INTER(",\"value\":1e13"), false, NULL},
    {INTER(",\"value\":false"), false, NULL},
    {"{\"type\":\"interaction\",\"email\":\"nope\",\"channel\":\"web\"}", false, NULL},
    {"{\"type\":\"interaction\",\"identities\":{\"fax\":\"1\"},\"channel\":\"web\"}", false, NULL},
    {"{\"type\":\"interaction\",\"identities\":[],\"channel\":\"web\"}", false, NULL},
    {"{\"type\":\"interaction\",\"identities\":{\"crm\":5},\"channel\":\"web\"}", false, NULL},
    {INTER(",\"ts\":\"2024-01-01T10:00:00\""), false, NULL},
    {INTER(",\"ts\":-1"), false, NULL},
    {INTER(",\"ts\":true"), false, NULL},
    {INTER(",\"customer_id\":0"), false, NULL},
    {INTER(",\"customer_id\":4294967295"), false, NULL},
    {INTER(",\"event_id\":\"\""), false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"country\":\"GBR\"}", false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"country\":\"1B\"}", false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"birth_year\":1800}", false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"consent\":{\"sms\":true}}", false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"consent\":{\"surveys\":1}}", false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"consent\":true}", false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"attributes\":[1]}", false, NULL},
    {"{\"type\":\"customer\",\"email\":\"a@x.io\",\"attributes\":{\"a\":{\"b\":{\"c\":{\"d\":"
     "{\"e\":{\"f\":{\"g\":{\"h\":1}}}}}}}}}", false, NULL},
    {"{\"type\":\"identify\",\"email\":\"a@x.io\"}", false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\"}", false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\"}", false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"currency\":\"eur\","
     "\"amount\":1}", false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"items\":[{\"qty\":1}]}",
     false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"items\":[{\"sku\":\"s\","
     "\"price\":-1}]}", false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"items\":[{\"sku\":\"\"}]}",
     false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"items\":[{\"sku\":\"s\","
     "\"size\":1}]}", false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"items\":[5]}", false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"items\":{}}", false, NULL},
    {"{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"items\":[{\"sku\":\"s\","
     "\"qty\":0}]}", false, NULL},
    {"{\"type\":\"employee\",\"name\":\"x\"}", false, NULL},
    {"{\"type\":\"employee\",\"employee_id\":\"e\",\"email\":\"a@x.io\"}", false, NULL},
    {"{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\",\"score\":11}", false, NULL},
    {"{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\",\"score\":7.5}", false, NULL},
    {"{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\"}", false, NULL},
    {"{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"stars\",\"score\":3}", false, NULL},
    {"{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"text\"}", false, NULL},
    {"{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"text\",\"comment\":\"x\","
     "\"score\":1}", false, NULL},
    {"{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"rating\",\"score\":10.5}", false, NULL},
    {"[" INTER("") ",{\"employee_id\":\"e\"}]", false, "employee"},
    {"[{\"type\":\"interaction\",\"employee_id\":\"e\"}]", false, "employee"},
    {"[{\"employee_id\":\"e\",\"colour\":1}]", false, "employee"},
    {"[{\"type\":{\"a\":1,\"a\":2},\"employee_id\":\"e\"}]", false, "employee"},
    {"[1,{\"type\":\"x\"}]", false, NULL},
    {"{\"type\":\"interaction\",\"customer_id\":42,\"channel\":\"web\",\"agent_id\":\"x\x7f\"}",
     false, NULL},
    /* NDJSON */
    {INTER("") "\n[1]\n", true, NULL},
    {INTER("") "\n5\n", true, NULL},
    {INTER("") " " INTER("") "\n", true, NULL},
    {INTER("") "\n\r\r\n", true, NULL},
    {INTER("") "\n{\"type\":\"visit\"}\n{", true, NULL},
    {"{\"type\":\"visit\"}\n" INTER(",\"x\":{\"a\":1,\"a\":2}"), true, NULL},
    {INTER("") "\n" INTER(",\"ts\":-3"), true, NULL},
};

Test(evscan, valid_bodies_decode_without_falling_back)
{
    struct tally t = {0};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        int rc = differ(valid[i].text, strlen(valid[i].text), valid[i].nd, valid[i].route, &t);
        cr_assert_eq(rc, 0, "valid body %zu fell back or failed (%d): %s", i, rc,
                     valid[i].text);
    }
    cr_assert_eq(t.fallbacks, 0);
}

Test(evscan, invalid_bodies_fail_alike_or_fall_back)
{
    struct tally t = {0};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        size_t ok = t.ok;
        differ(invalid[i].text, strlen(invalid[i].text), invalid[i].nd, invalid[i].route, &t);
        cr_assert_eq(t.ok, ok, "invalid body %zu was accepted: %s", i, invalid[i].text);
    }
    /* Record errors are the scanner's own: most bodies must not fall back. */
    cr_assert_gt(t.bodies - t.fallbacks, t.bodies / 2, "%zu of %zu fell back", t.fallbacks,
                 t.bodies);
    fprintf(stderr, "evscan invalid corpus: %zu bodies, %zu fell back, %zu errors compared\n",
            t.bodies, t.fallbacks, t.errors);
}

Test(evscan, deep_nesting_falls_back_or_agrees)
{
    struct tally t = {0};
    static char b[10000];
    for (int depth = 1; depth <= 2100; depth += depth < 40 ? 1 : 500) {
        int n = snprintf(b, sizeof b, "{\"type\":\"customer\",\"email\":\"a@x.io\",\"attributes\":");
        for (int i = 0; i < depth; i++)
            b[n++] = '[';
        for (int i = 0; i < depth; i++)
            b[n++] = ']';
        b[n++] = '}';
        b[n] = '\0';
        differ(b, (size_t)n, false, NULL, &t);
    }
}

Test(evscan, more_records_than_a_batch_takes_falls_back_to_the_413)
{
    size_t n = CXM_MAX_BATCH + 1, len = 0;
    char *b = malloc(n * 3 + 2);
    cr_assert(b);
    b[len++] = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(b + len, i ? ",{}" : "{}", i ? 3 : 2);
        len += i ? 3 : 2;
    }
    b[len++] = ']';
    struct arena a = {0};
    struct event *evs = NULL;
    size_t got = 0;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(evscan_body(b, len, false, NULL, 0, &a, &evs, &got, &err), EVSCAN_FALLBACK);
    json_t *batch = NULL;
    cr_assert_eq(evscan_jansson(b, len, false, NULL, 0, &a, &batch, &evs, &got, &err),
                 CXM_ETOOBIG);
    arena_free(&a);
    free(b);
}

/* xorshift64*: a fixed seed makes every run test the same bodies. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* One to three random edits of src into dst; returns the length. */
static size_t mutate(const char *src, size_t len, char *dst, size_t cap, uint64_t *s)
{
    static const char bytes[] = "\"\\{}[],: 0-9e.Exu\n\rtnf\x01\x7f\x80\xc3\xa9\xed\xff";
    memcpy(dst, src, len);
    int edits = 1 + (int)(rnd(s) % 3);
    for (int k = 0; k < edits && len; k++) {
        size_t at = rnd(s) % len;
        switch (rnd(s) % 6) {
        case 0:   /* delete a byte */
            memmove(dst + at, dst + at + 1, len - at - 1);
            len--;
            break;
        case 1:   /* insert a byte */
            if (len + 1 < cap) {
                memmove(dst + at + 1, dst + at, len - at);
                dst[at] = bytes[rnd(s) % (sizeof bytes - 1)];
                len++;
            }
            break;
        case 2:   /* replace a byte */
            dst[at] = bytes[rnd(s) % (sizeof bytes - 1)];
            break;
        case 3: { /* copy a slice elsewhere: duplicate keys, records */
            size_t from = rnd(s) % len, n = 1 + rnd(s) % 40;
            if (from + n > len)
                n = len - from;
            if (len + n < cap) {
                char tmp[64];
                memcpy(tmp, dst + from, n);
                memmove(dst + at + n, dst + at, len - at);
                memcpy(dst + at, tmp, n);
                len += n;
            }
            break;
        }
        case 4:   /* a digit: ranges, scales, numbers in odd places */
            dst[at] = (char)('0' + rnd(s) % 10);
            break;
        default:  /* cut the body short */
            len = at;
            break;
        }
    }
    return len;
}

/* Replaces one member's value or key of src with one from a pool: the
 * body stays well-formed more often than with byte edits, so the
 * validation of both paths is compared, not only their syntax checks. */
static size_t mutate_member(const char *src, size_t len, char *dst, size_t cap,
                            uint64_t *s)
{
    static const char *const values[] = {
        "null", "0", "-0", "1", "7", "-1", "1.0", "1e3", "1E+2", "1.5e-3", "4294967295",
        "9223372036854775807", "1e308", "true", "false", "\"\"", "\"x\"", "\"web\"",
        "\"a@x.io\"", "\"GB\"", "\"EUR\"", "\"nps\"", "\"text\"", "\"rating\"",
        "\"customer\"", "\"order\"", "\"identify\"", "\"feedback\"", "\"employee\"",
        "\"2024-01-01T00:00:00Z\"", "\"\\u00e9\\n\"", "\"a\\tb\"", "{}", "[]",
        "{\"a\":1}", "{\"marketing\":true}", "{\"crm\":\"c\"}", "[{\"sku\":\"s\"}]",
        "[{\"sku\":\"s\",\"qty\":2,\"price\":1.5}]", "[1]", "{\"a\":{\"b\":[1,2]}}"};
    static const char *const keys[] = {
        "type", "event_id", "ts", "customer_id", "email", "phone", "device", "cookie",
        "crm", "loyalty", "identities", "country", "name", "birth_year", "gender", "city",
        "language", "consent", "attributes", "channel", "touchpoint", "stage", "kind",
        "agent_id", "duration", "outcome", "value", "text", "survey", "score", "comment",
        "order_id", "amount", "currency", "items", "employee_id", "team", "role", "sku",
        "qty", "colour", "t\\u0079pe"};
    /* a random ':' outside strings is close enough: the pool decides */
    size_t colons[256], nc = 0;
    bool in_str = false;
    for (size_t i = 0; i < len && nc < 256; i++) {
        if (in_str && src[i] == '\\')
            i++;
        else if (src[i] == '"')
            in_str = !in_str;
        else if (!in_str && src[i] == ':')
            colons[nc++] = i;
    }
    if (!nc)
        return 0;
    size_t c = colons[rnd(s) % nc], from, to;
    const char *with;
    if (rnd(s) % 3 == 0) {   /* the key before the colon */
        to = c;
        while (to > 0 && src[to - 1] != '"')
            to--;
        from = to > 1 ? to - 2 : 0;
        while (from > 0 && src[from] != '"')
            from--;
        from++;
        to = to ? to - 1 : 0;
        with = keys[rnd(s) % (sizeof keys / sizeof keys[0])];
    } else {                 /* the scalar value after it */
        from = c + 1;
        to = from;
        if (to < len && src[to] == '"') {
            for (to++; to < len && src[to] != '"'; to++)
                if (src[to] == '\\')
                    to++;
            to++;
        } else {
            while (to < len && !strchr(",}]\n", src[to]))
                to++;
        }
        with = values[rnd(s) % (sizeof values / sizeof values[0])];
    }
    size_t wn = strlen(with);
    if (to > len || from > to || len - (to - from) + wn >= cap)
        return 0;
    memcpy(dst, src, from);
    memcpy(dst + from, with, wn);
    memcpy(dst + from + wn, src + to, len - to);
    return len - (to - from) + wn;
}

Test(evscan, member_mutations_agree)
{
    struct tally t = {0};
    uint64_t seed = 42;
    char dst[4096], tmp[4096];
    const size_t rounds = 4000;
    for (size_t r = 0; r < rounds; r++) {
        const struct body *b = &valid[rnd(&seed) % (sizeof valid / sizeof valid[0])];
        size_t n = strlen(b->text);
        memcpy(tmp, b->text, n);
        /* one to three members changed */
        for (int k = (int)(rnd(&seed) % 3); k >= 0; k--) {
            size_t m = mutate_member(tmp, n, dst, sizeof dst, &seed);
            if (m) {
                memcpy(tmp, dst, m);
                n = m;
            }
        }
        differ(tmp, n, b->nd, b->route, &t);
    }
    fprintf(stderr, "evscan member mutations: %zu bodies, %zu fell back (%zu that jansson"
            " accepted), %zu accepted alike, %zu failed alike\n", t.bodies, t.fallbacks,
            t.needless, t.ok,
            t.bodies - t.fallbacks - t.ok);
    cr_assert_eq(t.bodies, rounds);
}

Test(evscan, random_mutations_agree)
{
    struct tally t = {0};
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    char dst[4096];
    const size_t rounds = 4000;
    for (size_t r = 0; r < rounds; r++) {
        const struct body *b = &valid[rnd(&seed) % (sizeof valid / sizeof valid[0])];
        size_t len = strlen(b->text);
        cr_assert_lt(len + 200, sizeof dst);
        size_t n = mutate(b->text, len, dst, sizeof dst, &seed);
        if (!n)
            continue;   /* the HTTP layer answers an empty body itself */
        differ(dst, n, b->nd, b->route, &t);
    }
    fprintf(stderr, "evscan mutations: %zu bodies, %zu fell back (%zu that jansson"
            " accepted), %zu accepted alike, %zu failed alike\n", t.bodies, t.fallbacks,
            t.needless, t.ok,
            t.bodies - t.fallbacks - t.ok);
    cr_assert_gt(t.bodies, rounds * 9 / 10);
}

/* As bench/ingest/loadgen.c's record(): the hot path must never fall back. */
Test(evscan, a_loadgen_batch_never_falls_back)
{
    static const char *const tps[] = {"homepage", "search", "product_page", "cart",
                                      "checkout", "help_center", "live_chat",
                                      "call_center", "order_status", "returns_portal"};
    static const char *const stages[] = {"awareness", "consideration", "purchase",
                                         "onboarding", "support", "loyalty"};
    size_t cap = 1000 * 420 + 16, len = 0;
    char *body = malloc(cap);
    cr_assert(body);
    body[len++] = '[';
    for (int r = 0; r < 1000; r++) {
        unsigned long long x = 7ull * 1000003ull + (unsigned)r * 7919ull + 12345;
        x ^= x >> 17;
        x *= 0xed5ad4bbull;
        x ^= x >> 11;
        if (r)
            body[len++] = ',';
        int n = snprintf(body + len, cap - len,
                         "{\"type\":\"interaction\",\"event_id\":\"lg-7-%d\",\"ts\":%lld,"
                         "\"email\":\"user%llu@example.com\",\"channel\":\"web\","
                         "\"touchpoint\":\"%s\",\"stage\":\"%s\",\"kind\":\"visit\","
                         "\"duration\":%d}",
                         r, 1700000000LL + (long long)(x % 30000000ull), x % 100000ull,
                         tps[x % 10], stages[(x >> 8) % 6], (int)((x >> 16) % 600));
        len += (size_t)n;
    }
    body[len++] = ']';
    struct tally t = {0};
    cr_assert_eq(differ(body, len, false, NULL, &t), 0);
    free(body);
}
