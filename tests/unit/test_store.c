/* Store (SQLite backend): schema migrations, round trips, seq, keys. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_sqlite.h"

static char dir[64], db[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/cxm-store-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/s.db", dir);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert(system(cmd) == 0);
}

TestSuite(store, .init = setup, .fini = teardown);

static int sql_int(const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static void sql_exec(const char *sql)
{
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
}

Test(store, new_file_gets_the_latest_schema)
{
    struct cxm_err err;
    struct store *s = store_open(db, NULL, &err);
    cr_assert(s, "%s", err.msg);
    store_close(s);
    cr_assert_eq(sql_int("SELECT version FROM schema_version"), store_schema_version());
    sqlite3 *h;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(h);
}

Test(store, older_file_is_upgraded_and_keeps_its_data)
{
    struct cxm_err err;
    cr_assert_eq(store_sqlite_create_at(db, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(sql_int("SELECT version FROM schema_version"), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'identity_customer'"), 0);
    sql_exec("INSERT INTO customer(id, seq, created_ts, updated_seq) VALUES(1, 1, 0, 1);"
             "INSERT INTO identity VALUES('email', 'a@x.io', 1, 3);"
             "INSERT INTO identity VALUES('phone', '+441234', 1, 2);"
             "INSERT INTO meta VALUES('last_seq', 3);");
    struct store *s = store_open(db, NULL, &err);
    cr_assert(s, "%s", err.msg);
    cr_assert_eq(s->last_seq, 3);
    store_close(s);
    cr_assert_eq(sql_int("SELECT version FROM schema_version"), store_schema_version());
    cr_assert_eq(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'identity_customer'"), 1);
    cr_assert_eq(sql_int("SELECT customer FROM identity WHERE value = 'a@x.io'"), 1);
    /* version 12 keeps identities in seq order, seq their key */
    cr_assert_eq(sql_int("SELECT seq FROM identity WHERE value = 'a@x.io'"), 3);
    cr_assert_eq(sql_int("SELECT rowid FROM identity WHERE kind = 'phone'"), 2);
    cr_assert_eq(sql_int("SELECT count(*) FROM identity"), 2);
}

Test(store, newer_file_is_refused_with_a_clear_message)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    struct store *s = store_open(db, NULL, &err);
    cr_assert(s);
    store_close(s);
    sql_exec("UPDATE schema_version SET version = 99");
    s = store_open(db, NULL, &err);
    cr_assert_null(s);
    cr_assert_eq(err.code, CXM_ESCHEMA);
    cr_assert(strstr(err.msg, "schema version 99"), "%s", err.msg);
    cr_assert(strstr(err.msg, "upgrade cxm"), "%s", err.msg);
    /* refusing changed nothing */
    cr_assert_eq(sql_int("SELECT version FROM schema_version"), 99);
}

struct seen {
    int customers, identities, interactions, feedback, orders, items, dicts;
    double amount;
    char text_flag;
};

static int c_dict(void *ctx, int d, uint32_t code, const char *v)
{
    struct seen *s = ctx;
    cr_assert_eq(d, DICT_CHANNEL);
    cr_assert_eq(code, 1);
    cr_assert_str_eq(v, "web");
    s->dicts++;
    return 0;
}
static int c_customer(void *ctx, const struct store_customer *c)
{
    struct seen *s = ctx;
    cr_assert_str_eq(c->name, "Zoë");
    cr_assert_eq(c->consent_marketing, 1);
    cr_assert_eq(c->consent_surveys, -1);
    s->customers++;
    return 0;
}
static int c_identity(void *ctx, const struct store_identity *i)
{
    ((struct seen *)ctx)->identities++;
    cr_assert_str_eq(i->kind, "email");
    return 0;
}
static int c_interaction(void *ctx, const struct store_interaction *r)
{
    struct seen *s = ctx;
    cr_assert_eq(r->channel, 1);
    cr_assert_eq(r->duration, -1);
    cr_assert(isnan(r->value));
    s->text_flag = r->text != NULL;
    s->interactions++;
    return 0;
}
static int c_feedback(void *ctx, const struct store_feedback *r)
{
    ((struct seen *)ctx)->feedback++;
    cr_assert_eq(r->score, 7);
    return 0;
}
static int c_order(void *ctx, const struct store_order *r)
{
    struct seen *s = ctx;
    s->orders++;
    s->items += (int)r->nitems;
    s->amount += r->amount;
    return 0;
}

Test(store, rows_round_trip_through_a_scan)
{
    struct cxm_err err;
    struct store *s = store_open(db, NULL, &err);
    cr_assert(s);
    const struct store_ops *o = s->ops;
    cr_assert_eq(o->begin(s, &err), 0);
    cr_assert_eq(o->put_dict(s, DICT_CHANNEL, 1, "web", &err), 0);
    struct store_customer c = {.id = 1, .seq = 1, .updated_seq = 1, .name = "Zoë",
                               .consent_marketing = 1, .consent_surveys = -1,
                               .consent_personalisation = -1};
    cr_assert_eq(o->put_customer(s, &c, &err), 0);
    struct store_identity id = {.seq = 2, .customer = 1, .kind = "email", .value = "z@x.io"};
    cr_assert_eq(o->put_identity(s, &id, &err), 0);
    struct store_interaction in = {.seq = 3, .ts = 5, .customer = 1, .duration = -1,
                                   .channel = 1, .value = NAN, .text = "héllo\nworld"};
    cr_assert_eq(o->put_interaction(s, &in, &err), 0);
    struct store_feedback fb = {.seq = 4, .customer = 1, .kind = 1, .score = 7};
    cr_assert_eq(o->put_feedback(s, &fb, &err), 0);
    struct store_item items[2] = {{.qty = 1, .price = 2}, {.qty = 3, .price = 4}};
    struct store_order od = {.seq = 5, .customer = 1, .amount = 14, .order_id = "o",
                             .nitems = 2, .items = items};
    cr_assert_eq(o->put_order(s, &od, &err), 0);
    struct store_order od2 = {.seq = 6, .customer = 1, .amount = 1, .order_id = "p"};
    cr_assert_eq(o->put_order(s, &od2, &err), 0);
    bool dup;
    cr_assert_eq(o->claim(s, IDK_ORDER, "o", 5, &dup, &err), 0);
    cr_assert_not(dup);
    cr_assert_eq(o->claim(s, IDK_ORDER, "o", 5, &dup, &err), 0);
    cr_assert(dup);
    cr_assert_eq(o->commit(s, 6, &err), 0);
    store_close(s);

    s = store_open(db, NULL, &err);
    cr_assert_eq(s->last_seq, 6);
    struct seen seen = {0};
    struct store_scan cb = {.ctx = &seen, .dict = c_dict, .customer = c_customer,
                            .identity = c_identity, .interaction = c_interaction,
                            .feedback = c_feedback, .order = c_order};
    cr_assert_eq(s->ops->scan(s, &cb, &err), 0, "%s", err.msg);
    cr_assert_eq(seen.dicts, 1);
    cr_assert_eq(seen.customers, 1);
    cr_assert_eq(seen.identities, 1);
    cr_assert_eq(seen.interactions, 1);
    cr_assert(seen.text_flag);
    cr_assert_eq(seen.feedback, 1);
    cr_assert_eq(seen.orders, 2);
    cr_assert_eq(seen.items, 2);
    cr_assert_float_eq(seen.amount, 15, 1e-9);
    char *t = NULL;
    cr_assert_eq(s->ops->get_text(s, 3, &t, &err), 0);
    cr_assert_str_eq(t, "héllo\nworld");
    free(t);
    cr_assert_eq(s->ops->get_text(s, 4, &t, &err), 0);
    cr_assert_null(t);
    store_close(s);
}

Test(store, rollback_leaves_nothing)
{
    struct cxm_err err;
    struct store *s = store_open(db, NULL, &err);
    cr_assert_eq(s->ops->begin(s, &err), 0);
    struct store_customer c = {.id = 1, .seq = 1, .updated_seq = 1,
                               .consent_marketing = -1, .consent_surveys = -1,
                               .consent_personalisation = -1};
    cr_assert_eq(s->ops->put_customer(s, &c, &err), 0);
    s->ops->rollback(s);
    store_close(s);
    cr_assert_eq(sql_int("SELECT count(*) FROM customer"), 0);
}

Test(store, keys_are_found_by_hash_only)
{
    struct cxm_err err;
    struct store *s = store_open(db, NULL, &err);
    struct store_key k = {.hash = "abc", .role = "writer", .name = "n", .created = 1};
    cr_assert_eq(s->ops->put_key(s, &k, &err), 0);
    char role[16];
    cr_assert_eq(s->ops->find_key(s, "abc", role, &err), 0);
    cr_assert_str_eq(role, "writer");
    cr_assert_eq(s->ops->find_key(s, "abd", role, &err), CXM_ENOTFOUND);
    int64_t n;
    cr_assert_eq(s->ops->count_keys(s, &n, &err), 0);
    cr_assert_eq(n, 1);
    store_close(s);
}

/* Interactions and feedback wait in the store and go in 32 rows a
 * statement: every row must arrive once, with its own values, whatever
 * the mix, the remainder, and a rollback in between. */
struct rows_seen {
    int n_i, n_f;
    int64_t sum_i, sum_f;       /* of seq * (column checks) */
    int bad;
};
static int r_interaction(void *ctx, const struct store_interaction *r)
{
    struct rows_seen *s = ctx;
    s->n_i++;
    s->sum_i += r->seq;
    /* each row's values are a function of its seq */
    if (r->ts != 1000 + r->seq || r->customer != 1 + r->seq % 7 ||
        r->channel != (uint32_t)(r->seq % 3) || r->duration != (r->seq % 5 ? r->seq : -1) ||
        (r->seq % 4 ? r->event_id == NULL || atoll(r->event_id + 1) != r->seq
                    : r->event_id != NULL) ||
        (r->text != NULL) != (r->seq % 6 == 0))
        s->bad++;
    return 0;
}
static int r_feedback(void *ctx, const struct store_feedback *r)
{
    struct rows_seen *s = ctx;
    s->n_f++;
    s->sum_f += r->seq;
    if (r->score != (double)(r->seq % 11) || r->kind != 1 || r->ts != 2000 + r->seq)
        s->bad++;
    return 0;
}

static int put_rows(struct store *s, int64_t from, int64_t to, struct cxm_err *err)
{
    static char ids[4096][16];
    for (int64_t q = from; q <= to; q++) {
        int rc;
        if (q % 3 == 2) {
            struct store_feedback fb = {.seq = q, .ts = 2000 + q, .customer = 1, .kind = 1,
                                        .score = (double)(q % 11)};
            rc = s->ops->put_feedback(s, &fb, err);
        } else {
            snprintf(ids[q % 4096], sizeof ids[0], "e%lld", (long long)q);
            struct store_interaction in = {
                .seq = q, .ts = 1000 + q, .customer = 1 + q % 7,
                .channel = (uint32_t)(q % 3), .duration = q % 5 ? q : -1, .value = NAN,
                .event_id = q % 4 ? ids[q % 4096] : NULL, .text = q % 6 ? NULL : "t"};
            rc = s->ops->put_interaction(s, &in, err);
        }
        if (rc)
            return rc;
    }
    return 0;
}

Test(store, rows_in_batches_arrive_once_each)
{
    struct cxm_err err;
    struct store *s = store_open(db, NULL, &err);
    cr_assert(s, "%s", err.msg);
    /* 1..1000 committed; 1001..1100 rolled back; 1001..1077 committed */
    cr_assert_eq(s->ops->begin(s, &err), 0);
    cr_assert_eq(put_rows(s, 1, 1000, &err), 0, "%s", err.msg);
    cr_assert_eq(s->ops->commit(s, 1000, &err), 0, "%s", err.msg);
    cr_assert_eq(s->ops->begin(s, &err), 0);
    cr_assert_eq(put_rows(s, 1001, 1100, &err), 0, "%s", err.msg);
    s->ops->rollback(s);
    cr_assert_eq(s->ops->begin(s, &err), 0);
    cr_assert_eq(put_rows(s, 1001, 1077, &err), 0, "%s", err.msg);
    /* a score update in the same transaction sees the rows before it */
    struct text_scores sc = {.sentiment = 0.5f, .themes = 3};
    cr_assert_eq(s->ops->set_text_scores(s, 1074, &sc, &err), 0, "%s", err.msg);
    cr_assert_eq(s->ops->commit(s, 1077, &err), 0, "%s", err.msg);
    store_close(s);

    cr_assert_eq(sql_int("SELECT themes FROM interaction WHERE seq = 1074"), 3);
    s = store_open(db, NULL, &err);
    cr_assert(s, "%s", err.msg);
    struct rows_seen seen = {0};
    struct store_scan cb = {.ctx = &seen, .interaction = r_interaction, .feedback = r_feedback};
    cr_assert_eq(s->ops->scan(s, &cb, &err), 0, "%s", err.msg);
    store_close(s);
    int64_t want_i = 0, want_f = 0;
    int n_i = 0, n_f = 0;
    for (int64_t q = 1; q <= 1077; q++) {
        if (q % 3 == 2) {
            want_f += q;
            n_f++;
        } else {
            want_i += q;
            n_i++;
        }
    }
    cr_assert_eq(seen.bad, 0);
    cr_assert_eq(seen.n_i, n_i);
    cr_assert_eq(seen.n_f, n_f);
    cr_assert_eq(seen.sum_i, want_i);
    cr_assert_eq(seen.sum_f, want_f);
}

/* The checkpoint thread copies the WAL back while the writer goes on, and
 * the writer starts the WAL over past 4,000 pages: 300,000 rows write
 * about 8,000 pages of frames, the WAL file stays near 4,000. */
Test(store, checkpoints_keep_the_wal_bounded)
{
    struct cxm_err err;
    struct store *s = store_open(db, NULL, &err);
    cr_assert(s, "%s", err.msg);
    int64_t seq = 0;
    for (int c = 0; c < 300; c++) {
        cr_assert_eq(s->ops->begin(s, &err), 0);
        cr_assert_eq(put_rows(s, seq + 1, seq + 1000, &err), 0, "%s", err.msg);
        seq += 1000;
        cr_assert_eq(s->ops->commit(s, seq, &err), 0, "%s", err.msg);
    }
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", db);
    FILE *f = fopen(wal, "rb");
    cr_assert(f);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long wal_bytes = ftell(f);
    fclose(f);
    cr_assert_lt(wal_bytes, 4500L * 4120, "WAL %ld bytes", wal_bytes);
    f = fopen(db, "rb");
    cr_assert(f);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long db_bytes = ftell(f);
    fclose(f);
    cr_assert_gt(db_bytes, 4L << 20, "the rows were copied back: %ld bytes", db_bytes);
    store_close(s);
    cr_assert_eq(sql_int("SELECT count(*) FROM interaction") +
                     sql_int("SELECT count(*) FROM feedback"), 300000);
    cr_assert_neq(access(wal, F_OK), 0, "closing the store removes the WAL");
}

/* Customers and identities wait in batches too: a customer written twice
 * in one transaction keeps the second version, and a name the caller
 * changes after handing it over is stored as it was. */
Test(store, customers_and_identities_in_batches)
{
    struct cxm_err err;
    struct store *s = store_open(db, NULL, &err);
    cr_assert(s, "%s", err.msg);
    cr_assert_eq(s->ops->begin(s, &err), 0);
    static char vals[100][24];
    for (int id = 1; id <= 100; id++) {
        char name[32];
        snprintf(name, sizeof name, "first %d", id);
        struct store_customer c = {.id = id, .seq = id, .updated_seq = id, .name = name,
                                   .consent_marketing = -1, .consent_surveys = -1,
                                   .consent_personalisation = -1};
        cr_assert_eq(s->ops->put_customer(s, &c, &err), 0, "%s", err.msg);
        memcpy(name, "XXXXX", 5);   /* the caller reuses its buffer */
        snprintf(vals[id - 1], sizeof vals[0], "u%d@x.io", id);
        struct store_identity i = {.seq = 1000 + id, .customer = id, .kind = "email",
                                   .value = vals[id - 1]};
        cr_assert_eq(s->ops->put_identity(s, &i, &err), 0, "%s", err.msg);
    }
    for (int id = 1; id <= 100; id += 3) {   /* an update in the same transaction */
        char name[32];
        snprintf(name, sizeof name, "second %d", id);
        struct store_customer c = {.id = id, .seq = id, .updated_seq = 2000 + id,
                                   .name = name, .birth_year = 1990,
                                   .consent_marketing = 1, .consent_surveys = -1,
                                   .consent_personalisation = -1};
        cr_assert_eq(s->ops->put_customer(s, &c, &err), 0, "%s", err.msg);
    }
    cr_assert_eq(s->ops->commit(s, 3000, &err), 0, "%s", err.msg);
    store_close(s);
    cr_assert_eq(sql_int("SELECT count(*) FROM customer"), 100);
    cr_assert_eq(sql_int("SELECT count(*) FROM customer WHERE name LIKE 'first %'"), 66);
    cr_assert_eq(sql_int("SELECT count(*) FROM customer WHERE name = 'second ' || id"
                         " AND updated_seq = 2000 + id AND birth_year = 1990"), 34);
    cr_assert_eq(sql_int("SELECT count(*) FROM customer WHERE name LIKE 'first %'"
                         " AND name = 'first ' || id AND birth_year IS NULL"), 66);
    cr_assert_eq(sql_int("SELECT count(*) FROM identity WHERE value = 'u' || customer ||"
                         " '@x.io' AND seq = 1000 + customer"), 100);
}

/* A reader holding an old snapshot (a long backup, say) keeps the WAL from
 * starting over; the writer must go on without waiting for it. */
Test(store, a_long_reader_does_not_stall_commits)
{
    struct cxm_err err;
    struct store *s = store_open(db, NULL, &err);
    cr_assert(s, "%s", err.msg);
    cr_assert_eq(s->ops->begin(s, &err), 0);
    cr_assert_eq(put_rows(s, 1, 10, &err), 0, "%s", err.msg);
    cr_assert_eq(s->ops->commit(s, 10, &err), 0, "%s", err.msg);
    sqlite3 *r;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(db, &r), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(r, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(r, "SELECT count(*) FROM interaction", -1, &st, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int before = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t seq = 10;
    for (int c = 0; c < 200; c++) {   /* past the 4,000 pages of a restart */
        cr_assert_eq(s->ops->begin(s, &err), 0);
        cr_assert_eq(put_rows(s, seq + 1, seq + 1000, &err), 0, "%s", err.msg);
        seq += 1000;
        cr_assert_eq(s->ops->commit(s, seq, &err), 0, "%s", err.msg);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* the busy timeout is 10 s: one commit waiting for the reader shows */
    cr_assert_lt(dt, 8.0, "200 commits took %.1f s beside a reader", dt);
    /* the reader still sees its snapshot */
    cr_assert_eq(sqlite3_prepare_v2(r, "SELECT count(*) FROM interaction", -1, &st, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), before);
    sqlite3_finalize(st);
    sqlite3_exec(r, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(r);
    store_close(s);
    cr_assert_eq(sql_int("SELECT count(*) FROM interaction") +
                     sql_int("SELECT count(*) FROM feedback"), 200010);
}
