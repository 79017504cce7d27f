/* Event decoding: every field's validation names the record and field. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/idset.h"
#include "core/strmap.h"
#include "engine/event.h"

static int decode(const char *json, struct event *ev, struct cxm_err *err,
                  struct arena *a, json_t **keep)
{
    json_error_t je;
    json_t *rec = json_loads(json, 0, &je);
    cr_assert(rec, "test JSON: %s", je.text);
    cxm_err_clear(err);
    int rc = event_decode(rec, 3, 1000, a, ev, err);
    *keep = rec;
    return rc;
}

/* Asserts that json fails with field and a message containing text. */
static void bad(const char *json, const char *field, const char *text)
{
    struct event ev;
    struct cxm_err err;
    struct arena a = {0};
    json_t *rec;
    int rc = decode(json, &ev, &err, &a, &rec);
    cr_assert_neq(rc, 0, "accepted: %s", json);
    cr_assert_eq(err.index, 3, "%s", json);
    cr_assert_str_eq(err.field, field, "%s -> %s", json, err.msg);
    cr_assert(strstr(err.msg, text), "%s: message '%s' lacks '%s'", json, err.msg, text);
    json_decref(rec);
    arena_free(&a);
}

Test(event, a_full_feedback_record_decodes)
{
    struct event ev;
    struct cxm_err err;
    struct arena a = {0};
    json_t *rec;
    cr_assert_eq(decode("{\"type\":\"feedback\",\"event_id\":\"e\",\"ts\":\"2024-03-01T10:00:00+01:00\","
                        "\"email\":\" Bo@X.io\",\"phone\":\"020 7946 0958\",\"country\":\"gb\","
                        "\"identities\":{\"social:twitter\":\"@Bo\"},\"kind\":\"nps\",\"score\":7,"
                        "\"comment\":\"ok\\nfine\",\"channel\":\"email\",\"survey\":\"q1\"}",
                        &ev, &err, &a, &rec), 0, "%s", err.msg);
    cr_assert_eq(ev.type, EV_FEEDBACK);
    cr_assert_eq(ev.ts, 1709283600);
    cr_assert_eq(ev.nids, 3);
    cr_assert_str_eq(ev.ids[0].value, "bo@x.io");
    cr_assert_str_eq(ev.ids[1].value, "+442079460958");
    cr_assert_str_eq(ev.ids[2].kind, "social:twitter");
    cr_assert_str_eq(ev.ids[2].value, "bo");
    cr_assert_eq(ev.fkind, FB_NPS);
    cr_assert_eq(ev.score, 7);
    cr_assert_str_eq(ev.text, "ok\nfine");
    /* the hashes the writer looks them up by, computed here */
    for (size_t i = 0; i < ev.nids; i++) {
        char key[128];
        int n = snprintf(key, sizeof key, "%s%c%s", ev.ids[i].kind, 0, ev.ids[i].value);
        cr_assert_eq(ev.ids[i].hash, strmap_hash(key, (size_t)n));
    }
    cr_assert_eq(ev.idem_hash, idset_hash("e", 1));
    json_decref(rec);
    arena_free(&a);
}

Test(event, missing_ts_is_now_and_order_amount_is_the_item_sum)
{
    struct event ev;
    struct cxm_err err;
    struct arena a = {0};
    json_t *rec;
    cr_assert_eq(decode("{\"type\":\"order\",\"crm\":\"C1\",\"order_id\":\"o\",\"currency\":\"EUR\","
                        "\"items\":[{\"sku\":\"a\",\"qty\":2,\"price\":1.25},{\"sku\":\"b\",\"price\":3}]}",
                        &ev, &err, &a, &rec), 0, "%s", err.msg);
    cr_assert_eq(ev.ts, 1000);
    cr_assert_eq(ev.nitems, 2);
    cr_assert_float_eq(ev.amount, 5.5, 1e-9);
    cr_assert_eq(ev.items[1].qty, 1);
    json_decref(rec);
    arena_free(&a);
}

Test(event, scores_are_checked_per_scale)
{
    bad("{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\",\"score\":11}", "score", "0-10");
    bad("{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\",\"score\":7.5}", "score", "integer");
    bad("{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"csat\",\"score\":0}", "score", "1-5");
    bad("{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"ces\",\"score\":8}", "score", "1-7");
    bad("{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"enps\",\"score\":-1}", "score", "0-10");
    bad("{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\"}", "score", "required");
    bad("{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\",\"score\":\"9\"}", "score", "integer");
    bad("{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"stars\",\"score\":3}", "kind", "unknown feedback kind");
    bad("{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"text\"}", "comment", "needs a comment");
}

Test(event, structure_errors_name_the_field)
{
    bad("{\"email\":\"a@x.io\"}", "type", "required");
    bad("{\"type\":\"visit\",\"email\":\"a@x.io\"}", "type", "unknown type");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"colour\":1}", "colour", "unknown field");
    bad("{\"type\":\"interaction\",\"channel\":\"web\"}", "customer_id", "needs customer_id or an identity");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\"}", "channel", "required");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":7}", "channel", "string");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"\"}", "channel", "empty");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"w\\neb\"}", "channel", "line breaks");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"duration\":-5}", "duration", "out of range");
    bad("{\"type\":\"interaction\",\"email\":\"nope\",\"channel\":\"web\"}", "email", "@");
    bad("{\"type\":\"interaction\",\"identities\":{\"fax\":\"1\"},\"channel\":\"web\"}", "identities.fax", "unknown identity kind");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"ts\":\"2024-01-01T10:00:00\"}", "ts", "offset");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"ts\":-1}", "ts", "out of range");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"customer_id\":0}", "customer_id", "out of range");
    bad("{\"type\":\"customer\",\"email\":\"a@x.io\",\"country\":\"GBR\"}", "country", "3 bytes");
    bad("{\"type\":\"customer\",\"email\":\"a@x.io\",\"birth_year\":1800}", "birth_year", "out of range");
    bad("{\"type\":\"customer\",\"email\":\"a@x.io\",\"consent\":{\"sms\":true}}", "consent.sms", "unknown consent");
    bad("{\"type\":\"customer\",\"email\":\"a@x.io\",\"attributes\":[1]}", "attributes", "object");
    bad("{\"type\":\"identify\",\"email\":\"a@x.io\"}", "identities", "at least two");
    bad("{\"type\":\"order\",\"email\":\"a@x.io\"}", "order_id", "required");
    bad("{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\"}", "amount", "amount or items");
    bad("{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"currency\":\"eur\",\"amount\":1}", "currency", "ISO 4217");
    bad("{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"items\":[{\"qty\":1}]}", "items[0]", "sku is required");
    bad("{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o\",\"items\":[{\"sku\":\"s\",\"price\":-1}]}", "items[0].price", "out of range");
    bad("{\"type\":\"employee\",\"name\":\"x\"}", "employee_id", "required");
}

Test(event, size_limits_hold)
{
    char big[70000 + 200];
    int n = snprintf(big, sizeof big, "{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"text\":\"");
    memset(big + n, 'x', 66000);
    strcpy(big + n + 66000, "\"}");
    bad(big, "text", "limit");
    char idj[600];
    n = snprintf(idj, sizeof idj, "{\"type\":\"identify\",\"crm\":\"");
    memset(idj + n, 'c', 300);
    strcpy(idj + n + 300, "\",\"email\":\"a@x.io\"}");
    bad(idj, "crm", "limit");
}

Test(event, the_first_bad_key_in_record_order_is_named)
{
    /* sku is a known name (an item's) but no interaction field */
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"sku\":1,\"colour\":2}", "sku", "unknown field 'sku'");
    bad("{\"type\":\"interaction\",\"email\":\"a@x.io\",\"colour\":2,\"sku\":1}", "colour", "unknown field 'colour'");
    bad("{\"colour\":2,\"type\":\"order\",\"name\":\"x\"}", "colour", "for an order record");
    bad("{\"type\":\"customer\",\"name\":\"x\",\"channel\":\"web\",\"colour\":2}", "channel", "for a customer record");
}

Test(event, every_field_name_has_its_index)
{
    for (int f = 0; f < EVF_COUNT; f++) {
        const char *name = evfield_name((enum evfield)f);
        cr_assert_eq(evfield_lookup(name, strlen(name)), f, "%s", name);
    }
    cr_assert_eq(evfield_lookup("types", 5), -1);
    cr_assert_eq(evfield_lookup("typ", 3), -1);
    cr_assert_eq(evfield_lookup("", 0), -1);
    cr_assert_eq(evfield_lookup("customer_ids", 12), -1);
    cr_assert_eq(evfield_lookup("type\0", 5), -1);
}
