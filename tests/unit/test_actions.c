/* test_actions.c - the action catalogue: a valid catalogue with its
 * defaults, every member's errors naming the action and the member, the
 * limits at and one past each bound, find, and actions_json ->
 * actions_parse round trips. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/actions.h"
#include "core/policy.h"

static const char *const VARS[] = {"first_name", "top_category", "city"};
#define NVARS (sizeof VARS / sizeof VARS[0])

/* ---- helpers ------------------------------------------------------------ */

static struct catalogue parse_ok(const char *json)
{
    struct catalogue c = {0};
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = actions_parse(json, strlen(json), VARS, NVARS, &c, &err);
    cr_assert_eq(rc, CXM_OK, "'%s': %s (action %ld, field %s)", json, err.msg, err.index,
                 err.field);
    return c;
}

/* Expects rc naming index and field with want in the message; *out kept. */
static void parse_bad_rc(const char *json, int want_rc, long index, const char *field,
                         const char *want)
{
    struct action sentinel;
    struct catalogue c = {&sentinel, 77};
    struct cxm_err err;
    cxm_err_clear(&err);
    int rc = actions_parse(json, strlen(json), VARS, NVARS, &c, &err);
    cr_assert_eq(rc, want_rc, "'%.300s': rc %d (%s)", json, rc, err.msg);
    cr_assert_eq(err.code, want_rc);
    cr_assert_eq(err.index, index, "'%.300s': index %ld (%s)", json, err.index, err.msg);
    cr_assert_str_eq(err.field, field, "'%.300s': field '%s' (%s)", json, err.field, err.msg);
    cr_assert(strstr(err.msg, want), "'%.300s': message '%s' lacks '%s'", json, err.msg, want);
    cr_assert(c.a == &sentinel && c.n == 77, "the output was written on error");
}

static void parse_bad(const char *json, long index, const char *field, const char *want)
{
    parse_bad_rc(json, CXM_EINVAL, index, field, want);
}

/* A catalogue of one good action followed by the action body (the
 * second, index 1, named "b"). */
static void bad_second(const char *body, const char *field, const char *want)
{
    char json[16384];
    int n = snprintf(json, sizeof json,
                     "{\"actions\": [{\"id\": \"a\", \"kind\": \"promotion\", \"message\": \"hi\"},"
                     " {%s}]}", body);
    cr_assert(n > 0 && (size_t)n < sizeof json);
    parse_bad(json, 1, field, want);
}

static char *repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);
    cr_assert(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

static void assert_same(const struct catalogue *a, const struct catalogue *b)
{
    cr_assert_eq(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct action *x = &a->a[i], *y = &b->a[i];
        cr_assert_str_eq(x->id, y->id);
        cr_assert_str_eq(x->name, y->name);
        cr_assert_eq(x->kind, y->kind);
        cr_assert_eq(x->acquisition, y->acquisition);
        cr_assert_eq(!x->segment, !y->segment);
        if (x->segment)
            cr_assert_str_eq(x->segment, y->segment);
        cr_assert_eq(!x->rule, !y->rule);
        if (x->rule)
            cr_assert_str_eq(x->rule, y->rule);
        cr_assert_eq(x->priority, y->priority);
        cr_assert_eq(x->value, y->value);
        cr_assert_eq(x->nchannels, y->nchannels);
        for (size_t k = 0; k < x->nchannels; k++)
            cr_assert_str_eq(x->channels[k], y->channels[k]);
        cr_assert_eq(!x->subject, !y->subject);
        if (x->subject)
            cr_assert_str_eq(x->subject, y->subject);
        cr_assert_str_eq(x->message, y->message);
        cr_assert_eq(x->enabled, y->enabled);
    }
}

static struct catalogue round_trip(const struct catalogue *c)
{
    json_t *j = actions_json(c);
    cr_assert(j);
    char *s = json_dumps(j, JSON_COMPACT);
    cr_assert(s);
    struct catalogue d = parse_ok(s);
    free(s);
    json_decref(j);
    return d;
}

static const char FULL[] =
    "{\"actions\": ["
    "{\"id\": \"spring-sale\", \"name\": \"Spring sale: 20% off lighting\","
    " \"kind\": \"promotion\", \"acquisition\": true, \"segment\": \"lapsed_90d\","
    " \"rule\": \"clv > 100 and country in ('GB', 'IE')\", \"priority\": 5, \"value\": 12.5,"
    " \"channels\": [\"email\", \"sms\"], \"subject\": \"{first_name|Hello}, 20% off\","
    " \"message\": \"Hi {first_name|there}, your {top_category} picks are in.\","
    " \"enabled\": false},"
    "{\"id\": \"nps_q2\", \"kind\": \"survey\", \"message\": \"How did we do?\"},"
    "{\"id\": \"winback\", \"kind\": \"retention_offer\", \"priority\": -1.25,"
    " \"segment\": null, \"rule\": null, \"subject\": null, \"channels\": [],"
    " \"message\": \"We miss you in {city|town}\"}"
    "]}";

/* ---- parsing ---------------------------------------------------------------- */

Test(actions, parses_a_catalogue_with_defaults)
{
    struct catalogue c = parse_ok(FULL);
    cr_assert_eq(c.n, 3);

    const struct action *a = &c.a[0];
    cr_assert_str_eq(a->id, "spring-sale");
    cr_assert_str_eq(a->name, "Spring sale: 20% off lighting");
    cr_assert_eq(a->kind, CK_PROMOTION);
    cr_assert(a->acquisition);
    cr_assert_str_eq(a->segment, "lapsed_90d");
    cr_assert_str_eq(a->rule, "clv > 100 and country in ('GB', 'IE')");
    cr_assert_eq(a->priority, 5.0);
    cr_assert_eq(a->value, 12.5);
    cr_assert_eq(a->nchannels, 2);
    cr_assert_str_eq(a->channels[0], "email");
    cr_assert_str_eq(a->channels[1], "sms");
    cr_assert_str_eq(a->subject, "{first_name|Hello}, 20% off");
    cr_assert_str_eq(a->message, "Hi {first_name|there}, your {top_category} picks are in.");
    cr_assert_not(a->enabled);

    /* only the required members: everything else defaults */
    a = &c.a[1];
    cr_assert_str_eq(a->id, "nps_q2");
    cr_assert_str_eq(a->name, "nps_q2", "the name defaults to the id");
    cr_assert_eq(a->kind, CK_SURVEY);
    cr_assert_not(a->acquisition);
    cr_assert_null(a->segment);
    cr_assert_null(a->rule);
    cr_assert_eq(a->priority, 0.0);
    cr_assert_eq(a->value, 0.0);
    cr_assert_eq(a->nchannels, 0);
    cr_assert_null(a->channels);
    cr_assert_null(a->subject);
    cr_assert_str_eq(a->message, "How did we do?");
    cr_assert(a->enabled);

    /* null is the same as left out */
    a = &c.a[2];
    cr_assert_eq(a->kind, CK_RETENTION);
    cr_assert_eq(a->priority, -1.25);
    cr_assert_null(a->segment);
    cr_assert_null(a->rule);
    cr_assert_null(a->subject);
    cr_assert_eq(a->nchannels, 0);
    actions_free(&c);
    cr_assert_null(c.a);
    cr_assert_eq(c.n, 0);
}

Test(actions, every_kind_parses)
{
    static const char *kinds[] = {"promotion", "survey", "service_follow_up",
                                  "retention_offer", "thank_you", "referral"};
    for (int k = 0; k < 6; k++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"actions\": [{\"id\": \"x\", \"kind\": \"%s\", \"message\": \"m\"}]}",
                 kinds[k]);
        struct catalogue c = parse_ok(json);
        cr_assert_eq(c.a[0].kind, k + 1);
        cr_assert_eq(c.a[0].kind, contact_kind_parse(kinds[k]));
        actions_free(&c);
    }
}

Test(actions, an_empty_catalogue_is_fine)
{
    struct catalogue c = parse_ok("{\"actions\": []}");
    cr_assert_eq(c.n, 0);
    cr_assert_eq(actions_find(&c, "x"), -1);
    json_t *j = actions_json(&c);
    char *s = json_dumps(j, JSON_COMPACT);
    cr_assert_str_eq(s, "{\"actions\":[]}");
    free(s);
    json_decref(j);
    actions_free(&c);
    actions_free(NULL);
}

Test(actions, find)
{
    struct catalogue c = parse_ok(FULL);
    cr_assert_eq(actions_find(&c, "spring-sale"), 0);
    cr_assert_eq(actions_find(&c, "nps_q2"), 1);
    cr_assert_eq(actions_find(&c, "winback"), 2);
    cr_assert_eq(actions_find(&c, "Winback"), -1);
    cr_assert_eq(actions_find(&c, "win"), -1);
    cr_assert_eq(actions_find(&c, ""), -1);
    cr_assert_eq(actions_find(&c, NULL), -1);
    cr_assert_eq(actions_find(NULL, "winback"), -1);
    actions_free(&c);
}

/* ---- errors ------------------------------------------------------------------- */

Test(actions, document_errors)
{
    parse_bad("[]", -1, "actions", "an object with an array \"actions\"");
    parse_bad("{}", -1, "actions", "an object with an array \"actions\"");
    parse_bad("{\"actions\": {}}", -1, "actions", "array \"actions\"");
    parse_bad("{\"actions\": [], \"version\": 2}", -1, "version", "unknown member");
    parse_bad("{\"actions\": [", -1, "", "catalogue JSON");
    parse_bad("", -1, "", "catalogue JSON");
    parse_bad("{\"actions\": [], \"actions\": []}", -1, "", "duplicate");
    parse_bad("{\"actions\": [3]}", 0, "actions", "action 0: an action is an object");
    /* no string may hide a NUL */
    parse_bad("{\"actions\": [{\"id\": \"b\\u0000c\", \"kind\": \"survey\", \"message\": \"m\"}]}",
              -1, "", "catalogue JSON");
}

Test(actions, member_errors_name_the_action_and_the_member)
{
    /* the id */
    bad_second("\"kind\": \"survey\", \"message\": \"m\"", "id", "action 1: id is missing");
    bad_second("\"id\": \"Win\", \"kind\": \"survey\", \"message\": \"m\"", "id",
               "action 1: id must be 1 to 64 of a-z, 0-9, _ and -");
    bad_second("\"id\": \"\", \"kind\": \"survey\", \"message\": \"m\"", "id", "id must be");
    bad_second("\"id\": \"a b\", \"kind\": \"survey\", \"message\": \"m\"", "id", "id must be");
    bad_second("\"id\": 7, \"kind\": \"survey\", \"message\": \"m\"", "id", "id must be");
    bad_second("\"id\": \"a\", \"kind\": \"survey\", \"message\": \"m\"", "id",
               "action 1 (\"a\"): id \"a\" is taken by action 0");
    /* the rest: "b" is named once the id is known */
    bad_second("\"id\": \"b\", \"name\": \"\", \"kind\": \"survey\", \"message\": \"m\"", "name",
               "action 1 (\"b\"): name must be a string of 1 to 128 bytes");
    bad_second("\"id\": \"b\", \"name\": \"a\\u0007b\", \"kind\": \"survey\", \"message\": \"m\"",
               "name", "no control characters");
    bad_second("\"id\": \"b\", \"name\": null, \"kind\": \"survey\", \"message\": \"m\"", "name",
               "name must be");
    bad_second("\"id\": \"b\", \"message\": \"m\"", "kind", "action 1 (\"b\"): kind is missing");
    bad_second("\"id\": \"b\", \"kind\": \"spam\", \"message\": \"m\"", "kind",
               "kind \"spam\" is unknown (kinds: promotion, survey");
    bad_second("\"id\": \"b\", \"kind\": 1, \"message\": \"m\"", "kind", "is unknown");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"acquisition\": \"yes\", \"message\": \"m\"",
               "acquisition", "acquisition must be true or false");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"segment\": \"Big Spenders\", "
               "\"message\": \"m\"", "segment", "segment must be a segment id");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"segment\": \"\", \"message\": \"m\"",
               "segment", "segment must be");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"rule\": \"\", \"message\": \"m\"", "rule",
               "rule must be a filter expression of 1 to 4096 bytes or null");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"rule\": 3, \"message\": \"m\"", "rule",
               "rule must be");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"priority\": \"high\", \"message\": \"m\"",
               "priority", "priority must be a finite number");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"value\": null, \"message\": \"m\"", "value",
               "value must be a finite number");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"channels\": \"email\", \"message\": \"m\"",
               "channels", "channels must be an array of strings");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"channels\": [\"email\", \"sms\", "
               "\"email\"], \"message\": \"m\"", "channels", "channel \"email\" is listed twice");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"channels\": [\"email\", \"\"], "
               "\"message\": \"m\"", "channels", "channel 1 must be a string of 1 to 128 bytes");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"channels\": [null], \"message\": \"m\"",
               "channels", "channel 0 must be");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"subject\": \"Hi {name}\", "
               "\"message\": \"m\"", "subject",
               "action 1 (\"b\"): subject: column 4: unknown variable \"name\" (known: "
               "first_name, top_category, city)");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"subject\": \"\", \"message\": \"m\"",
               "subject", "subject must be a template of 1 to 4096 bytes");
    bad_second("\"id\": \"b\", \"kind\": \"survey\"", "message",
               "action 1 (\"b\"): message is missing");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"message\": \"Hi {first_name\"", "message",
               "message: column 4: '{' is never closed");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"message\": \"50% off }\"", "message",
               "message: column 9: '}' without '{'");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"message\": null", "message",
               "message must be a template");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"message\": \"\"", "message",
               "message must be a template of 1 to");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"message\": \"m\", \"enabled\": 1",
               "enabled", "enabled must be true or false");
    bad_second("\"id\": \"b\", \"kind\": \"survey\", \"message\": \"m\", \"colour\": \"red\"",
               "colour", "action 1: unknown member \"colour\" (members: id, name, kind");
}

Test(actions, errors_follow_the_documented_member_order)
{
    /* several problems: the id comes first, then kind, then message */
    bad_second("\"message\": \"{nope}\", \"kind\": \"spam\", \"id\": \"BAD\"", "id", "id must be");
    bad_second("\"message\": \"{nope}\", \"kind\": \"spam\", \"id\": \"b\"", "kind", "is unknown");
    bad_second("\"message\": \"{nope}\", \"kind\": \"survey\", \"id\": \"b\"", "message",
               "unknown variable");
}

Test(actions, limits_at_and_past_each_bound)
{
    char json[20000];
    char *s;

    /* id: 64 bytes fine, 65 not */
    s = repeat('i', 64);
    snprintf(json, sizeof json,
             "{\"actions\": [{\"id\": \"%s\", \"kind\": \"survey\", \"message\": \"m\"}]}", s);
    struct catalogue c = parse_ok(json);
    cr_assert_eq(strlen(c.a[0].id), 64);
    actions_free(&c);
    free(s);
    s = repeat('i', 65);
    snprintf(json, sizeof json, "\"id\": \"%s\", \"kind\": \"survey\", \"message\": \"m\"", s);
    bad_second(json, "id", "id must be");
    free(s);

    /* name: 128 bytes fine, 129 not (bytes, not characters) */
    s = repeat('n', 128);
    snprintf(json, sizeof json,
             "{\"actions\": [{\"id\": \"a\", \"name\": \"%s\", \"kind\": \"survey\","
             " \"message\": \"m\"}]}", s);
    c = parse_ok(json);
    cr_assert_eq(strlen(c.a[0].name), 128);
    actions_free(&c);
    free(s);
    s = repeat('n', 127);
    snprintf(json, sizeof json,
             "\"id\": \"b\", \"name\": \"%s\\u00e9\", \"kind\": \"survey\", \"message\": \"m\"",
             s);
    bad_second(json, "name", "name must be");
    free(s);

    /* a segment is an id: 64 bytes */
    s = repeat('s', 65);
    snprintf(json, sizeof json,
             "\"id\": \"b\", \"kind\": \"survey\", \"segment\": \"%s\", \"message\": \"m\"", s);
    bad_second(json, "segment", "segment must be");
    free(s);

    /* rule: 4096 bytes fine, 4097 not */
    s = repeat('r', 4096);
    snprintf(json, sizeof json,
             "{\"actions\": [{\"id\": \"a\", \"kind\": \"survey\", \"rule\": \"%s\","
             " \"message\": \"m\"}]}", s);
    c = parse_ok(json);
    cr_assert_eq(strlen(c.a[0].rule), 4096);
    actions_free(&c);
    free(s);
    s = repeat('r', 4097);
    snprintf(json, sizeof json,
             "\"id\": \"b\", \"kind\": \"survey\", \"rule\": \"%s\", \"message\": \"m\"", s);
    bad_second(json, "rule", "rule must be");
    free(s);

    /* message: TPL_MAX bytes fine, one more not */
    s = repeat('m', 4096);
    snprintf(json, sizeof json,
             "{\"actions\": [{\"id\": \"a\", \"kind\": \"survey\", \"message\": \"%s\"}]}", s);
    c = parse_ok(json);
    actions_free(&c);
    free(s);
    s = repeat('m', 4097);
    snprintf(json, sizeof json, "\"id\": \"b\", \"kind\": \"survey\", \"message\": \"%s\"", s);
    bad_second(json, "message", "message must be a template of 1 to 4096 bytes");
    free(s);

    /* a channel: 128 bytes fine, 129 not */
    s = repeat('c', 128);
    snprintf(json, sizeof json,
             "{\"actions\": [{\"id\": \"a\", \"kind\": \"survey\", \"channels\": [\"%s\"],"
             " \"message\": \"m\"}]}", s);
    c = parse_ok(json);
    cr_assert_eq(strlen(c.a[0].channels[0]), 128);
    actions_free(&c);
    free(s);
    s = repeat('c', 129);
    snprintf(json, sizeof json,
             "\"id\": \"b\", \"kind\": \"survey\", \"channels\": [\"%s\"], \"message\": \"m\"",
             s);
    bad_second(json, "channels", "channel 0 must be");
    free(s);
}

Test(actions, at_most_sixteen_channels)
{
    char list[512], json[1024];
    for (int n = 16; n <= 17; n++) {
        size_t len = 0;
        list[0] = '\0';
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s\"ch%d\"", i ? "," : "", i);
        snprintf(json, sizeof json,
                 "{\"actions\": [{\"id\": \"a\", \"kind\": \"survey\", \"channels\": [%s],"
                 " \"message\": \"m\"}]}", list);
        if (n == 16) {
            struct catalogue c = parse_ok(json);
            cr_assert_eq(c.a[0].nchannels, 16);
            cr_assert_str_eq(c.a[0].channels[15], "ch15");
            actions_free(&c);
        } else {
            parse_bad(json, 0, "channels", "17 channels, at most 16");
        }
    }
}

Test(actions, at_most_five_hundred_actions)
{
    size_t cap = 600 * 80;
    char *json = malloc(cap);
    cr_assert(json);
    for (int n = ACTIONS_MAX; n <= ACTIONS_MAX + 1; n++) {
        size_t len = (size_t)snprintf(json, cap, "{\"actions\": [");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(json + len, cap - len,
                                    "%s{\"id\": \"a%d\", \"kind\": \"thank_you\", \"message\": "
                                    "\"thanks\"}", i ? "," : "", i);
        snprintf(json + len, cap - len, "]}");
        if (n == ACTIONS_MAX) {
            struct catalogue c = parse_ok(json);
            cr_assert_eq(c.n, ACTIONS_MAX);
            cr_assert_eq(actions_find(&c, "a499"), 499);
            actions_free(&c);
        } else {
            parse_bad(json, -1, "actions", "501 actions, at most 500");
        }
    }
    free(json);
}

Test(actions, an_error_late_in_the_catalogue_frees_what_came_before)
{
    /* run under the sanitizer build: nothing of the good actions leaks */
    parse_bad("{\"actions\": [{\"id\": \"a\", \"name\": \"A\", \"kind\": \"promotion\","
              " \"segment\": \"s\", \"rule\": \"x > 1\", \"channels\": [\"web\", \"sms\"],"
              " \"subject\": \"s\", \"message\": \"m\"},"
              " {\"id\": \"b\", \"kind\": \"survey\", \"channels\": [\"web\", \"web\"],"
              " \"message\": \"m\"}]}", 1, "channels", "listed twice");
    parse_bad("{\"actions\": [{\"id\": \"a\", \"kind\": \"promotion\", \"message\": \"m\"},"
              " {\"id\": \"b\", \"kind\": \"survey\", \"channels\": [\"web\"],"
              " \"subject\": \"ok\", \"message\": \"{bad\"}]}", 1, "message", "never closed");
}

/* ---- output ----------------------------------------------------------------- */

Test(actions, json_has_every_member)
{
    struct catalogue c = parse_ok(
        "{\"actions\": [{\"id\": \"t\", \"kind\": \"thank_you\", \"message\": \"Thanks!\"}]}");
    json_t *j = actions_json(&c);
    cr_assert(j);
    char *s = json_dumps(j, JSON_COMPACT);
    cr_assert_str_eq(s, "{\"actions\":[{\"id\":\"t\",\"name\":\"t\",\"kind\":\"thank_you\","
                        "\"acquisition\":false,\"segment\":null,\"rule\":null,"
                        "\"priority\":0.0,\"value\":0.0,\"holdout\":0.0,\"channels\":[],\"subject\":null,"
                        "\"message\":\"Thanks!\",\"enabled\":true}]}");
    free(s);
    json_decref(j);
    actions_free(&c);
}

Test(actions, json_round_trips)
{
    struct catalogue c = parse_ok(FULL);
    struct catalogue d = round_trip(&c);
    assert_same(&c, &d);
    /* and again: the output is a fixed point */
    struct catalogue e = round_trip(&d);
    assert_same(&d, &e);
    actions_free(&c);
    actions_free(&d);
    actions_free(&e);

    c = parse_ok("{\"actions\": [{\"id\": \"x\", \"kind\": \"referral\", \"priority\": 1e300,"
                 " \"value\": -0.1, \"name\": \"Caf\\u00e9 \\\"quotes\\\"\", \"message\":"
                 " \"{{literal}} {city|here}\", \"channels\": [\"in_app\"]}]}");
    d = round_trip(&c);
    assert_same(&c, &d);
    cr_assert_str_eq(d.a[0].name, "Caf\xc3\xa9 \"quotes\"");
    actions_free(&c);
    actions_free(&d);
}

Test(actions, holdout_is_a_share_up_to_a_half)
{
    struct catalogue c = {0};
    struct cxm_err err;
    const char *ok = "{\"actions\": [{\"id\": \"a\", \"kind\": \"promotion\", \"holdout\": 0.5,"
                     " \"message\": \"m\"}]}";
    cr_assert_eq(actions_parse(ok, strlen(ok), NULL, 0, &c, &err), 0, "%s", err.msg);
    cr_assert_float_eq(c.a[0].holdout, 0.5, 1e-12);
    actions_free(&c);
    const char *bad = "{\"actions\": [{\"id\": \"a\", \"kind\": \"promotion\", \"holdout\":"
                      " 0.6, \"message\": \"m\"}]}";
    cr_assert_eq(actions_parse(bad, strlen(bad), NULL, 0, &c, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "holdout");
    cr_assert_eq(err.index, 0);
}
