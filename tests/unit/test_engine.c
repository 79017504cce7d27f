/* Engine: identity resolution, merges, unmerge, idempotency and replay,
 * against a real SQLite file in a temp dir. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/timefmt.h"
#include "engine/engine.h"
#include "log.h"

static char dir[64];
static char db[128];

static void setup(void)
{
    log_set_level(LOG_WARN);
    snprintf(dir, sizeof dir, "/tmp/cxm-engine-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/t.db", dir);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert(system(cmd) == 0);
}

static struct engine *open_engine(void)
{
    struct engine *e = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine_opts o = {.sync = STORE_SYNC_NORMAL, .lock = true};
    cr_assert_eq(engine_open(db, &o, &e, &err), 0, "%s", err.msg);
    return e;
}

/* Ingests a JSON array of records; returns the work's rc. unhashed: with
 * the hashes the decoder adds for the writer cleared, as for records the
 * engine builds itself. */
static int ingest_x(struct engine *e, const char *json, struct engine_work *out,
                    bool unhashed)
{
    json_error_t je;
    json_t *arr = json_loads(json, 0, &je);
    cr_assert(arr, "test JSON: %s", je.text);
    size_t n = json_array_size(arr);
    struct event *ev = calloc(n, sizeof *ev);
    struct arena a = {0};
    for (size_t i = 0; i < n; i++) {
        struct cxm_err err;
        cxm_err_clear(&err);
        cr_assert_eq(event_decode(json_array_get(arr, i), (long)i, 1700000000, &a,
                                  &ev[i], &err), 0, "record %zu: %s", i, err.msg);
        if (unhashed) {
            ev[i].idem_hash = 0;
            for (size_t k = 0; k < ev[i].nids; k++)
                ev[i].ids[k].hash = 0;
        }
    }
    struct engine_work w = {.op = ENGINE_INGEST, .ev = ev, .n = n};
    int rc = engine_run(e, &w);
    if (out)
        *out = w;
    free(ev);
    arena_free(&a);
    json_decref(arr);
    return rc;
}

static int ingest(struct engine *e, const char *json, struct engine_work *out)
{
    return ingest_x(e, json, out, false);
}

static char *profile(struct engine *e, uint32_t id)
{
    json_t *doc = NULL;
    struct cxm_err err;
    cr_assert_eq(engine_customer(e, id, &doc, &err), 0, "%s", err.msg);
    json_object_del(doc, "seq");   /* the seq a read reflects moves on */
    char *s = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(doc);
    return s;
}

static char *timeline(struct engine *e, uint32_t id)
{
    json_t *doc = NULL;
    struct cxm_err err;
    cr_assert_eq(engine_timeline(e, id, NULL, 1000, &doc, &err), 0, "%s", err.msg);
    json_object_del(doc, "seq");
    char *s = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(doc);
    return s;
}

static json_int_t root_of(struct engine *e, uint32_t id)
{
    json_t *doc = NULL;
    struct cxm_err err;
    cr_assert_eq(engine_customer(e, id, &doc, &err), 0);
    json_int_t r = json_integer_value(json_object_get(doc, "id"));
    json_decref(doc);
    return r;
}

TestSuite(engine, .init = setup, .fini = teardown);

Test(engine, unknown_identities_create_customers_and_known_ones_resolve)
{
    struct engine *e = open_engine();
    struct engine_work w;
    cr_assert_eq(ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.io\",\"name\":\"A\"},"
                           "{\"type\":\"customer\",\"phone\":\"+15551234567\"},"
                           "{\"type\":\"interaction\",\"email\":\" A@X.IO \",\"channel\":\"web\"}]",
                        &w), 0);
    cr_assert_eq(w.accepted, 3);
    struct engine_stats st;
    engine_stats(e, &st);
    cr_assert_eq(st.customers, 2);
    cr_assert_eq(st.interactions, 1);
    char *p = profile(e, 1);
    cr_assert(strstr(p, "\"interactions\":1"), "%s", p);
    free(p);
    engine_close(e);
}

Test(engine, chain_of_merges_keeps_the_oldest_root)
{
    struct engine *e = open_engine();
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"email\"},"
                           "{\"type\":\"interaction\",\"phone\":\"+15551234567\",\"channel\":\"phone\"},"
                           "{\"type\":\"interaction\",\"cookie\":\"ck\",\"channel\":\"web\"},"
                           "{\"type\":\"interaction\",\"device\":\"dv\",\"channel\":\"app\"}]", NULL), 0);
    /* C-D first, then B-C, then A-B: roots 3, then 2, then 1 */
    cr_assert_eq(ingest(e, "[{\"type\":\"identify\",\"cookie\":\"ck\",\"device\":\"dv\"}]", NULL), 0);
    cr_assert_eq(root_of(e, 4), 3);
    cr_assert_eq(ingest(e, "[{\"type\":\"identify\",\"phone\":\"+15551234567\",\"cookie\":\"ck\"}]", NULL), 0);
    cr_assert_eq(ingest(e, "[{\"type\":\"identify\",\"email\":\"a@x.io\",\"phone\":\"+1 555 123 4567\"}]", NULL), 0);
    for (uint32_t id = 1; id <= 4; id++)
        cr_assert_eq(root_of(e, id), 1, "customer %u", id);
    struct engine_stats st;
    engine_stats(e, &st);
    cr_assert_eq(st.profiles, 1);
    cr_assert_eq(st.merges, 3);
    char *t = timeline(e, 4);
    cr_assert(strstr(t, "\"total\":4"), "%s", t);
    free(t);
    engine_close(e);
}

Test(engine, one_record_naming_three_customers_merges_all)
{
    struct engine *e = open_engine();
    cr_assert_eq(ingest(e, "[{\"type\":\"identify\",\"email\":\"a@x.io\",\"crm\":\"1\"},"
                           "{\"type\":\"identify\",\"phone\":\"5551234\",\"crm\":\"2\"},"
                           "{\"type\":\"identify\",\"cookie\":\"c\",\"crm\":\"3\"},"
                           "{\"type\":\"feedback\",\"cookie\":\"c\",\"phone\":\"5551234\","
                           "\"email\":\"a@x.io\",\"kind\":\"nps\",\"score\":3}]", NULL), 0);
    cr_assert_eq(root_of(e, 2), 1);
    cr_assert_eq(root_of(e, 3), 1);
    char *p = profile(e, 3);
    cr_assert(strstr(p, "\"merged_from\":[3,2]") || strstr(p, "\"merged_from\":[2,3]"), "%s", p);
    free(p);
    engine_close(e);
}

Test(engine, unmerge_restores_both_profiles_exactly)
{
    struct engine *e = open_engine();
    cr_assert_eq(ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.io\",\"name\":\"Ann\",\"country\":\"GB\","
                           "\"consent\":{\"marketing\":true},\"attributes\":{\"tier\":\"gold\"}},"
                           "{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o1\",\"amount\":10},"
                           "{\"type\":\"customer\",\"cookie\":\"ck\",\"name\":\"Anonymous\","
                           "\"attributes\":{\"tier\":\"none\",\"src\":\"ad\"}},"
                           "{\"type\":\"interaction\",\"cookie\":\"ck\",\"channel\":\"web\",\"text\":\"hi\"},"
                           "{\"type\":\"interaction\",\"device\":\"d1\",\"channel\":\"app\"},"
                           "{\"type\":\"identify\",\"device\":\"d1\",\"cookie\":\"ck\"}]", NULL), 0);
    /* customer 3 (device) sits under 2 (cookie) before 2 joins 1 */
    cr_assert_eq(root_of(e, 3), 2);
    char *p1 = profile(e, 1), *p2 = profile(e, 2), *t1 = timeline(e, 1), *t2 = timeline(e, 2);
    cr_assert_eq(ingest(e, "[{\"type\":\"feedback\",\"email\":\"a@x.io\",\"cookie\":\"ck\","
                           "\"kind\":\"csat\",\"score\":5}]", NULL), 0);
    cr_assert_eq(root_of(e, 2), 1);
    cr_assert_eq(root_of(e, 3), 1);
    char *merged = profile(e, 1);
    cr_assert(strstr(merged, "\"clv_historic\":10"), "%s", merged);
    cr_assert(strstr(merged, "\"src\":\"ad\""), "attributes union: %s", merged);
    free(merged);

    struct engine_work w = {.op = ENGINE_UNMERGE, .customer = 2};
    cr_assert_eq(engine_run(e, &w), 0, "%s", w.err.msg);
    cr_assert_eq(w.parent, 1);
    cr_assert_eq(root_of(e, 3), 2, "2 takes what was merged into it");
    /* The feedback came through customer 1's email: it stays with 1. */
    char *q2 = profile(e, 2), *u2 = timeline(e, 2);
    cr_assert_str_eq(q2, p2);
    cr_assert_str_eq(u2, t2);
    char *q1 = profile(e, 1);
    cr_assert(strstr(q1, "\"merged_from\":[]"), "%s", q1);
    cr_assert(strstr(q1, "\"feedback\":1"), "%s", q1);
    free(q1);
    /* unmerging again conflicts; unknown customers are not found */
    w = (struct engine_work){.op = ENGINE_UNMERGE, .customer = 2};
    cr_assert_eq(engine_run(e, &w), CXM_ECONFLICT);
    w = (struct engine_work){.op = ENGINE_UNMERGE, .customer = 99};
    cr_assert_eq(engine_run(e, &w), CXM_ENOTFOUND);
    free(p1); free(p2); free(t1); free(t2); free(q2); free(u2);
    engine_close(e);
}

Test(engine, replay_gives_identical_answers)
{
    struct engine *e = open_engine();
    cr_assert_eq(ingest(e, "[{\"type\":\"customer\",\"email\":\"a@x.io\",\"name\":\"Ann Lee\",\"birth_year\":1980},"
                           "{\"type\":\"interaction\",\"cookie\":\"ck\",\"channel\":\"web\",\"touchpoint\":\"home\","
                           "\"stage\":\"awareness\",\"duration\":30,\"value\":1.5,\"ts\":1600000000},"
                           "{\"type\":\"identify\",\"cookie\":\"ck\",\"email\":\"a@x.io\"},"
                           "{\"type\":\"interaction\",\"device\":\"d\",\"channel\":\"app\"},"
                           "{\"type\":\"identify\",\"device\":\"d\",\"email\":\"a@x.io\"},"
                           "{\"type\":\"order\",\"cookie\":\"ck\",\"order_id\":\"o\",\"currency\":\"EUR\","
                           "\"items\":[{\"sku\":\"s1\",\"category\":\"c\",\"qty\":2,\"price\":3.25}]},"
                           "{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\",\"score\":6,\"comment\":\"slow\"},"
                           "{\"type\":\"employee\",\"employee_id\":\"e1\",\"team\":\"Support\"}]", NULL), 0);
    struct engine_work w = {.op = ENGINE_UNMERGE, .customer = 3};
    cr_assert_eq(engine_run(e, &w), 0);
    char *p[4], *t[4];
    for (uint32_t i = 1; i <= 3; i++) {
        p[i] = profile(e, i);
        t[i] = timeline(e, i);
    }
    struct engine_stats a, b;
    engine_stats(e, &a);
    engine_close(e);
    e = open_engine();
    engine_stats(e, &b);
    cr_assert_eq(a.seq, b.seq);
    cr_assert_eq(a.merges, b.merges);
    for (uint32_t i = 1; i <= 3; i++) {
        char *q = profile(e, i), *u = timeline(e, i);
        cr_assert_str_eq(q, p[i]);
        cr_assert_str_eq(u, t[i]);
        free(q); free(u); free(p[i]); free(t[i]);
    }
    /* seq continues after the replayed one */
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\"}]", &w), 0);
    cr_assert_gt(w.seq, a.seq);
    engine_close(e);
}

Test(engine, event_ids_and_order_ids_are_idempotent)
{
    struct engine *e = open_engine();
    const char *batch = "[{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"event_id\":\"e1\"},"
                        "{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"event_id\":\"e1\"},"
                        "{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o1\",\"amount\":5}]";
    struct engine_work w;
    cr_assert_eq(ingest(e, batch, &w), 0);
    cr_assert_eq(w.accepted, 2);
    cr_assert_eq(w.duplicates, 1);
    cr_assert_eq(ingest(e, batch, &w), 0);
    cr_assert_eq(w.accepted, 0);
    cr_assert_eq(w.duplicates, 3);
    struct engine_stats st;
    engine_stats(e, &st);
    cr_assert_eq(st.interactions, 1);
    cr_assert_eq(st.orders, 1);
    /* the same event_id under another type is another record */
    cr_assert_eq(ingest(e, "[{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"nps\",\"score\":9,"
                           "\"event_id\":\"e1\"}]", &w), 0);
    cr_assert_eq(w.accepted, 1);
    engine_close(e);
}

/* The decoder's hashes are hints: records without them (built by the
 * engine itself) find the same customers and the same duplicates. */
Test(engine, records_without_hashes_resolve_and_deduplicate_alike)
{
    struct engine *e = open_engine();
    struct engine_work w;
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\","
                           "\"event_id\":\"e1\"},"
                           "{\"type\":\"order\",\"phone\":\"+15551234567\",\"order_id\":\"o1\","
                           "\"amount\":5}]", &w), 0);
    cr_assert_eq(w.accepted, 2);
    const char *again = "[{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\","
                        "\"event_id\":\"e1\"},"
                        "{\"type\":\"order\",\"phone\":\"+15551234567\",\"order_id\":\"o1\","
                        "\"amount\":5},"
                        "{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\","
                        "\"event_id\":\"e2\"},"
                        "{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\","
                        "\"event_id\":\"e2\"},"
                        "{\"type\":\"feedback\",\"phone\":\"+15551234567\",\"kind\":\"nps\","
                        "\"score\":3}]";
    cr_assert_eq(ingest_x(e, again, &w, true), 0);
    cr_assert_eq(w.accepted, 2);
    cr_assert_eq(w.duplicates, 3);
    struct engine_stats st;
    engine_stats(e, &st);
    cr_assert_eq(st.customers, 2);
    cr_assert_eq(st.interactions, 2);
    cr_assert_eq(st.orders, 1);
    cr_assert_eq(st.feedback, 1);
    /* and the other way round: hashed records after unhashed ones */
    cr_assert_eq(ingest_x(e, "[{\"type\":\"interaction\",\"email\":\"b@x.io\","
                             "\"channel\":\"web\",\"event_id\":\"e3\"}]", &w, true), 0);
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"email\":\"b@x.io\",\"channel\":\"web\","
                           "\"event_id\":\"e3\"}]", &w), 0);
    cr_assert_eq(w.duplicates, 1);
    engine_stats(e, &st);
    cr_assert_eq(st.customers, 3);
    engine_close(e);
}

Test(engine, unknown_customer_id_rejects_the_batch_and_changes_nothing)
{
    struct engine *e = open_engine();
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\"}]", NULL), 0);
    struct engine_stats a, b;
    engine_stats(e, &a);
    struct engine_work w;
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"email\":\"new@x.io\",\"channel\":\"web\"},"
                           "{\"type\":\"interaction\",\"customer_id\":7,\"channel\":\"web\"}]", &w),
                 CXM_EINVAL);
    cr_assert_eq(w.err.index, 1);
    cr_assert_str_eq(w.err.field, "customer_id");
    engine_stats(e, &b);
    cr_assert_eq(a.seq, b.seq);
    cr_assert_eq(a.customers, b.customers);
    cr_assert_eq(a.interactions, b.interactions);
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"customer_id\":1,\"channel\":\"chat\"}]", NULL), 0);
    engine_close(e);
}

Test(engine, a_second_writer_on_the_same_database_is_refused)
{
    struct engine *e = open_engine(), *e2 = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine_opts o = {.sync = STORE_SYNC_NORMAL, .lock = true};
    cr_assert_eq(engine_open(db, &o, &e2, &err), CXM_ECONFLICT);
    cr_assert(strstr(err.msg, "in use"), "%s", err.msg);
    engine_close(e);
}

Test(engine, search_finds_identities_names_and_email_prefixes)
{
    struct engine *e = open_engine();
    cr_assert_eq(ingest(e, "[{\"type\":\"customer\",\"email\":\"ann.lee@x.io\",\"name\":\"Ann Lee\","
                           "\"phone\":\"020 7946 0958\",\"country\":\"GB\"},"
                           "{\"type\":\"customer\",\"email\":\"bob@y.io\",\"name\":\"Bob Leeds\"}]", NULL), 0);
    json_t *doc;
    struct cxm_err err;
    cr_assert_eq(engine_search(e, "+44 20 7946 0958", 10, &doc, &err), 0);
    json_t *hits = json_object_get(doc, "customers");
    cr_assert_eq(json_array_size(hits), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(hits, 0), "id")), 1);
    json_decref(doc);
    cr_assert_eq(engine_search(e, "lee", 10, &doc, &err), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "customers")), 2, "word prefix");
    json_decref(doc);
    cr_assert_eq(engine_search(e, "BOB@", 10, &doc, &err), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "customers")), 1);
    json_decref(doc);
    engine_close(e);
}

Test(engine, timeline_cursor_walks_every_item_once)
{
    struct engine *e = open_engine();
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"ts\":100},"
                           "{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"ts\":100},"
                           "{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"ces\",\"score\":2,\"ts\":300},"
                           "{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"x\",\"amount\":1,\"ts\":200},"
                           "{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"ts\":50}]", NULL), 0);
    /* pages of 2 give every item once, newest first, ties by seq descending */
    char cursor[64] = "";
    int64_t prev_ts = INT64_MAX, prev_seq = INT64_MAX, seqs[8];
    size_t seen = 0;
    for (int page = 0; page < 10; page++) {
        json_t *doc;
        struct cxm_err err;
        cr_assert_eq(engine_timeline(e, 1, cursor[0] ? cursor : NULL, 2, &doc, &err), 0,
                     "%s", err.msg);
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(doc, "items"), i, it) {
            int64_t seq = json_integer_value(json_object_get(it, "seq"));
            const char *ts = json_string_value(json_object_get(it, "ts"));
            int64_t t;
            cr_assert_eq(timefmt_parse(ts, &t, &err), 0);
            cr_assert(t < prev_ts || (t == prev_ts && seq < prev_seq), "order at %zu", seen);
            for (size_t k = 0; k < seen; k++)
                cr_assert_neq(seqs[k], seq, "seq %lld twice", (long long)seq);
            cr_assert_lt(seen, 8);
            seqs[seen++] = seq;
            prev_ts = t;
            prev_seq = seq;
        }
        const char *next = json_string_value(json_object_get(doc, "next_cursor"));
        snprintf(cursor, sizeof cursor, "%s", next ? next : "");
        json_decref(doc);
        if (!next)
            break;
    }
    cr_assert_eq(seen, 5);
    engine_close(e);
}

Test(engine, api_keys_are_stored_hashed_and_checked)
{
    struct engine *e = open_engine();
    char key[KEY_LEN];
    struct cxm_err err;
    cr_assert_eq(keys_create(db, ROLE_WRITER, "ingest", key, &err), 0, "%s", err.msg);
    cr_assert_eq(strncmp(key, "cxm_", 4), 0);
    cr_assert_eq(strlen(key), KEY_LEN - 1);
    cr_assert_eq(engine_auth(e, key), ROLE_WRITER, "a key made while the engine runs works");
    cr_assert_eq(engine_auth(e, key), ROLE_WRITER, "and again from the cache");
    char wrong[KEY_LEN];
    memcpy(wrong, key, KEY_LEN);
    wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
    cr_assert_eq(engine_auth(e, wrong), ROLE_NONE);
    cr_assert_eq(engine_auth(e, ""), ROLE_NONE);
    cr_assert_eq(engine_auth(e, NULL), ROLE_NONE);
    char other[KEY_LEN];
    cr_assert_eq(keys_create(db, ROLE_NONE, NULL, other, &err), CXM_EINVAL);
    engine_close(e);
    /* neither the database nor its log holds the key in the clear */
    const char *suffix[] = {"", "-wal"};
    for (int i = 0; i < 2; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s%s", db, suffix[i]);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        static char data[4 << 20];
        size_t n = fread(data, 1, sizeof data, f);
        fclose(f);
        cr_assert_null(memmem(data, n, key + 4, 20), "%s", path);
    }
}

/* The id of the listed key of this role (the first one). */
static const char *listed_id(json_t *doc, const char *role)
{
    json_t *k;
    size_t i;
    json_array_foreach(json_object_get(doc, "keys"), i, k)
        if (!strcmp(json_string_value(json_object_get(k, "role")), role))
            return json_string_value(json_object_get(k, "id"));
    return NULL;
}

Test(engine, keys_are_listed_without_secrets_and_revoked)
{
    struct engine *e = open_engine();
    char admin[KEY_LEN], analyst[KEY_LEN], id[KEY_ID_LEN];
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(keys_create(db, ROLE_ADMIN, "ops", admin, &err), 0, "%s", err.msg);
    cr_assert_eq(keys_create(db, ROLE_ANALYST, NULL, analyst, &err), 0, "%s", err.msg);
    cr_assert_eq(engine_auth(e, analyst), ROLE_ANALYST);
    json_t *doc = NULL;
    cr_assert_eq(engine_keys_list(e, &doc, &err), 0, "%s", err.msg);
    cr_assert_eq(json_array_size(json_object_get(doc, "keys")), 2);
    char *text = json_dumps(doc, 0);
    cr_assert_null(strstr(text, analyst + 4), "no secret in the list");
    free(text);
    key_id(analyst, id);
    cr_assert_str_eq(listed_id(doc, "analyst"), id, "the id is the hash's first 16 digits");
    json_t *k = json_array_get(json_object_get(doc, "keys"), 0);   /* admin < analyst */
    cr_assert_str_eq(json_string_value(json_object_get(k, "role")), "admin");
    cr_assert_str_eq(json_string_value(json_object_get(k, "name")), "ops");
    cr_assert_str_eq(json_string_value(json_object_get(k, "hint")), admin + KEY_LEN - 5);
    char admin_id[KEY_ID_LEN];
    cxm_strlcpy(admin_id, listed_id(doc, "admin"), sizeof admin_id);
    json_decref(doc);
    /* the last admin key stays; a malformed or unknown id changes nothing */
    cr_assert_eq(engine_key_revoke(e, admin_id, &err), CXM_ECONFLICT);
    cr_assert_eq(engine_key_revoke(e, "ABC", &err), CXM_EINVAL);
    cr_assert_eq(engine_key_revoke(e, "0000000000000000", &err), CXM_ENOTFOUND);
    cr_assert_eq(engine_auth(e, admin), ROLE_ADMIN);
    /* revoked through the engine: refused at once, though cached */
    cr_assert_eq(engine_key_revoke(e, id, &err), 0, "%s", err.msg);
    cr_assert_eq(engine_auth(e, analyst), ROLE_NONE);
    cr_assert_eq(engine_key_revoke(e, id, &err), CXM_ENOTFOUND, "gone");
    /* revoked by another process (the CLI): the cache trusts a key for
     * KEY_RECHECK seconds, then asks the store */
    char writer[KEY_LEN];
    cr_assert_eq(keys_create(db, ROLE_WRITER, "shop", writer, &err), 0);
    cr_assert_eq(engine_auth(e, writer), ROLE_WRITER);
    key_id(writer, id);
    cr_assert_eq(keys_revoke(db, id, &err), 0, "%s", err.msg);
    char hash[KEY_HASH_LEN];
    engine_auth_key(e, writer, hash);
    cr_assert_eq(strlen(hash), KEY_HASH_LEN - 1);
    cr_assert_eq(strncmp(hash, id, KEY_ID_LEN - 1), 0);
    cr_assert_eq(engine_key_role(e, hash), ROLE_WRITER, "still cached");
    engine_close(e);
    e = open_engine();
    cr_assert_eq(engine_auth(e, writer), ROLE_NONE, "a fresh cache asks the store");
    cr_assert_eq(keys_list(db, &doc, &err), 0);
    cr_assert_eq(json_array_size(json_object_get(doc, "keys")), 1, "only the admin key left");
    json_decref(doc);
    engine_close(e);
}

Test(engine, idempotency_survives_a_restart)
{
    struct engine *e = open_engine();
    const char *batch = "[{\"type\":\"interaction\",\"email\":\"a@x.io\",\"channel\":\"web\",\"event_id\":\"e1\"},"
                        "{\"type\":\"feedback\",\"email\":\"a@x.io\",\"kind\":\"csat\",\"score\":4,\"event_id\":\"e1\"},"
                        "{\"type\":\"customer\",\"email\":\"a@x.io\",\"name\":\"A\",\"event_id\":\"e1\"},"
                        "{\"type\":\"order\",\"email\":\"a@x.io\",\"order_id\":\"o1\",\"amount\":5}]";
    struct engine_work w;
    cr_assert_eq(ingest(e, batch, &w), 0);
    cr_assert_eq(w.accepted, 4);
    engine_close(e);
    e = open_engine();
    cr_assert_eq(ingest(e, batch, &w), 0);
    cr_assert_eq(w.accepted, 0);
    cr_assert_eq(w.duplicates, 4);
    engine_close(e);
}

Test(engine, a_full_dictionary_rejects_only_the_request_that_overflows_it)
{
    struct engine *e = open_engine();
    /* fill the channel dictionary to one below its limit */
    size_t n = 65534, cap = n * 80 + 16, len = 0;
    char *buf = malloc(cap);
    buf[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s{\"type\":\"interaction\","
                                "\"crm\":\"c\",\"channel\":\"ch%zu\"}", i ? "," : "", i);
    buf[len++] = ']';
    buf[len] = '\0';
    struct engine_work w;
    cr_assert_eq(ingest(e, buf, &w), 0, "%s", w.err.msg);
    free(buf);
    struct engine_stats a, b;
    engine_stats(e, &a);
    /* two new names, one slot: the whole batch is refused, nothing stored */
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"crm\":\"c\",\"channel\":\"new1\"},"
                           "{\"type\":\"interaction\",\"crm\":\"c\",\"channel\":\"ch7\"},"
                           "{\"type\":\"interaction\",\"crm\":\"c\",\"channel\":\"new2\"}]", &w),
                 CXM_EINVAL);
    cr_assert_eq(w.err.index, 2);
    cr_assert_str_eq(w.err.field, "channel");
    engine_stats(e, &b);
    cr_assert_eq(a.seq, b.seq);
    cr_assert_eq(a.commit_failures, b.commit_failures, "no commit failed");
    /* one new name still fits */
    cr_assert_eq(ingest(e, "[{\"type\":\"interaction\",\"crm\":\"c\",\"channel\":\"new1\"}]", &w), 0);
    engine_close(e);
}
