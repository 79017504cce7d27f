/* store_sqlite.c - SQLite backend. One write connection used by the
 * engine's single writer thread; one read connection (behind a mutex) for
 * the few reads that come from request threads: texts and API keys. WAL
 * lets both run at once. */
#include "store/store_sqlite.h"

#include "cxm_limits.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Migrations in order; migration i brings the schema to version i+1.
 * Append only: a released migration never changes. */
static const char *const migrations[] = {
    /* 1: the tables of DESIGN section 4 */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE dict(dict INTEGER NOT NULL, code INTEGER NOT NULL,"
    "  value TEXT NOT NULL, PRIMARY KEY(dict, code)) WITHOUT ROWID;"
    "CREATE TABLE customer(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
    "  created_ts INTEGER NOT NULL, updated_seq INTEGER NOT NULL, name TEXT,"
    "  birth_year INTEGER, gender TEXT, country TEXT, city TEXT, language TEXT,"
    "  consent_marketing INTEGER, consent_surveys INTEGER,"
    "  consent_personalisation INTEGER, attributes TEXT);"
    "CREATE TABLE identity(kind TEXT NOT NULL, value TEXT NOT NULL,"
    "  customer INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  PRIMARY KEY(kind, value)) WITHOUT ROWID;"
    "CREATE TABLE merge_log(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    "  parent INTEGER NOT NULL, child INTEGER NOT NULL, cause TEXT NOT NULL,"
    "  undone_seq INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE employee(id TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT,"
    "  team TEXT, role TEXT) WITHOUT ROWID;"
    "CREATE TABLE interaction(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    "  customer INTEGER NOT NULL, channel INTEGER, touchpoint INTEGER,"
    "  stage INTEGER, kind INTEGER, agent INTEGER, outcome INTEGER,"
    "  duration INTEGER, value REAL, event_id TEXT, has_text INTEGER NOT NULL);"
    "CREATE TABLE feedback(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    "  customer INTEGER NOT NULL, kind INTEGER NOT NULL, score REAL,"
    "  survey INTEGER, channel INTEGER, touchpoint INTEGER, stage INTEGER,"
    "  agent INTEGER, event_id TEXT, has_text INTEGER NOT NULL);"
    "CREATE TABLE text(seq INTEGER PRIMARY KEY, body TEXT NOT NULL);"
    "CREATE TABLE orders(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    "  customer INTEGER NOT NULL, order_id TEXT NOT NULL, amount REAL NOT NULL,"
    "  currency INTEGER, channel INTEGER);"
    "CREATE TABLE order_item(order_seq INTEGER NOT NULL, line INTEGER NOT NULL,"
    "  sku INTEGER, category INTEGER, qty REAL, price REAL,"
    "  PRIMARY KEY(order_seq, line)) WITHOUT ROWID;"
    "CREATE TABLE event_id(kind INTEGER NOT NULL, id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, PRIMARY KEY(kind, id)) WITHOUT ROWID;"
    "CREATE TABLE api_key(hash TEXT PRIMARY KEY, role TEXT NOT NULL,"
    "  name TEXT, created INTEGER NOT NULL) WITHOUT ROWID;",
    /* 2: look-ups by customer (exports, erasure) and by order id */
    "CREATE INDEX identity_customer ON identity(customer);"
    "CREATE INDEX orders_order_id ON orders(order_id);",
    /* 3: outside figures to compare with */
    "CREATE TABLE benchmark(name TEXT NOT NULL, metric TEXT NOT NULL,"
    "  period TEXT NOT NULL, segment TEXT NOT NULL DEFAULT '', value REAL NOT NULL,"
    "  seq INTEGER NOT NULL, PRIMARY KEY(name, metric, period, segment)) WITHOUT ROWID;",
    /* 4: fitted CLV models, the latest in use */
    "CREATE TABLE clv_model(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    "  calibration_end INTEGER NOT NULL, unit_days REAL NOT NULL,"
    "  r REAL NOT NULL, alpha REAL NOT NULL, a REAL NOT NULL, b REAL NOT NULL,"
    "  p REAL, q REAL, v REAL, report TEXT NOT NULL);",
    /* 5: text analytics: scores per text, full-text search, the taxonomy.
     * Texts stored before have sentiment NULL: the engine scores them. */
    "ALTER TABLE interaction ADD COLUMN sentiment REAL;"
    "ALTER TABLE interaction ADD COLUMN themes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE interaction ADD COLUMN aspects BLOB;"
    "ALTER TABLE feedback ADD COLUMN sentiment REAL;"
    "ALTER TABLE feedback ADD COLUMN themes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE feedback ADD COLUMN aspects BLOB;"
    "CREATE VIRTUAL TABLE text_fts USING fts5(body, content='text',"
    "  content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2');"
    "INSERT INTO text_fts(text_fts) VALUES('rebuild');"
    "CREATE TRIGGER text_ai AFTER INSERT ON text BEGIN"
    "  INSERT INTO text_fts(rowid, body) VALUES(new.seq, new.body); END;"
    "CREATE TRIGGER text_ad AFTER DELETE ON text BEGIN"
    "  INSERT INTO text_fts(text_fts, rowid, body) VALUES('delete', old.seq, old.body); END;"
    "CREATE TABLE taxonomy(id INTEGER PRIMARY KEY CHECK(id = 1), seq INTEGER NOT NULL,"
    "  json TEXT NOT NULL);",
    /* 6: sentiment models trained on the company's own feedback */
    "CREATE TABLE text_model(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    "  model BLOB NOT NULL, report TEXT NOT NULL);",
    /* 7: personalisation: segments, settings documents, contacts made,
     * decisions logged */
    "CREATE TABLE segment(id TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT NOT NULL,"
    "  rule TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
    "  created_ts INTEGER NOT NULL, updated_ts INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE config(name TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE TABLE contact(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    "  customer INTEGER NOT NULL, kind INTEGER NOT NULL, channel INTEGER NOT NULL,"
    "  action TEXT, decision INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE decision(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    "  customer INTEGER NOT NULL, channel TEXT NOT NULL, context TEXT,"
    "  actions TEXT NOT NULL);",
    /* 8: actions held out of a decision (control groups) */
    "ALTER TABLE decision ADD COLUMN held TEXT NOT NULL DEFAULT '';",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

enum stmt_id {
    ST_CLAIM, ST_DICT, ST_CUSTOMER, ST_IDENTITY, ST_MERGE, ST_UNDO_MERGE,
    ST_EMPLOYEE, ST_INTERACTION, ST_FEEDBACK, ST_TEXT, ST_ORDER, ST_ITEM,
    ST_META_SEQ, ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_BENCHMARK, ST_CLV, ST_SCORE_I, ST_SCORE_F,
    ST_TAXONOMY, ST_TEXT_MODEL, ST_SEGMENT, ST_SEGMENT_DEL, ST_CONFIG, ST_CONTACT,
    ST_DECISION, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_CLAIM] = "INSERT OR IGNORE INTO event_id(kind, id, seq) VALUES(?,?,?)",
    [ST_DICT] = "INSERT OR REPLACE INTO dict(dict, code, value) VALUES(?,?,?)",
    [ST_CUSTOMER] = "INSERT OR REPLACE INTO customer(id, seq, created_ts,"
                    " updated_seq, name, birth_year, gender, country, city,"
                    " language, consent_marketing, consent_surveys,"
                    " consent_personalisation, attributes)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_IDENTITY] = "INSERT OR REPLACE INTO identity(kind, value, customer, seq)"
                    " VALUES(?,?,?,?)",
    [ST_MERGE] = "INSERT INTO merge_log(seq, ts, parent, child, cause)"
                 " VALUES(?,?,?,?,?)",
    [ST_UNDO_MERGE] = "UPDATE merge_log SET undone_seq = ? WHERE seq = ?"
                      " AND undone_seq = 0",
    [ST_EMPLOYEE] = "INSERT OR REPLACE INTO employee(id, seq, name, team, role)"
                    " VALUES(?,?,?,?,?)",
    [ST_INTERACTION] = "INSERT INTO interaction(seq, ts, customer, channel,"
                       " touchpoint, stage, kind, agent, outcome, duration,"
                       " value, event_id, has_text, sentiment, themes, aspects)"
                       " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_FEEDBACK] = "INSERT INTO feedback(seq, ts, customer, kind, score, survey,"
                    " channel, touchpoint, stage, agent, event_id, has_text, sentiment,"
                    " themes, aspects) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_TEXT] = "INSERT INTO text(seq, body) VALUES(?,?)",
    [ST_ORDER] = "INSERT INTO orders(seq, ts, customer, order_id, amount,"
                 " currency, channel) VALUES(?,?,?,?,?,?,?)",
    [ST_ITEM] = "INSERT INTO order_item(order_seq, line, sku, category, qty,"
                " price) VALUES(?,?,?,?,?,?)",
    [ST_META_SEQ] = "INSERT OR REPLACE INTO meta(key, value) VALUES('last_seq', ?)",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_BENCHMARK] = "INSERT OR REPLACE INTO benchmark(name, metric, period, segment,"
                     " value, seq) VALUES(?,?,?,?,?,?)",
    [ST_CLV] = "INSERT INTO clv_model(seq, ts, calibration_end, unit_days, r, alpha,"
               " a, b, p, q, v, report) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_SCORE_I] = "UPDATE interaction SET sentiment = ?, themes = ?, aspects = ?"
                   " WHERE seq = ?",
    [ST_SCORE_F] = "UPDATE feedback SET sentiment = ?, themes = ?, aspects = ?"
                   " WHERE seq = ?",
    [ST_TAXONOMY] = "INSERT OR REPLACE INTO taxonomy(id, seq, json) VALUES(1,?,?)",
    [ST_TEXT_MODEL] = "INSERT INTO text_model(seq, ts, model, report) VALUES(?,?,?,?)",
    [ST_SEGMENT] = "INSERT OR REPLACE INTO segment(id, seq, name, rule, description,"
                   " created_ts, updated_ts) VALUES(?,?,?,?,?,?,?)",
    [ST_SEGMENT_DEL] = "DELETE FROM segment WHERE id = ?",
    [ST_CONFIG] = "INSERT OR REPLACE INTO config(name, seq, body) VALUES(?,?,?)",
    [ST_CONTACT] = "INSERT INTO contact(seq, ts, customer, kind, channel, action,"
                   " decision) VALUES(?,?,?,?,?,?,?)",
    [ST_DECISION] = "INSERT INTO decision(id, ts, customer, channel, context, actions,"
                    " held) VALUES(?,?,?,?,?,?,?)",
};

struct sq {
    struct store base;
    sqlite3 *db;            /* writer connection */
    sqlite3 *rdb;           /* reader connection, guarded by rlock */
    pthread_mutex_t rlock;
    sqlite3_stmt *st[ST_COUNT];
    sqlite3_stmt *get_text, *find_key, *search;
    sqlite3_stmt *get_eid[3];        /* interaction, feedback, orders */
};

static int sq_fail(sqlite3 *db, struct cxm_err *err, const char *what)
{
    return cxm_err_set(err, CXM_EIO, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, struct cxm_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        cxm_err_set(err, CXM_EIO, "sqlite: %s", msg ? msg : "exec failed");
        sqlite3_free(msg);
        return CXM_EIO;
    }
    return CXM_OK;
}

/* Runs a prepared statement that returns no rows, then resets it. */
static int step_done(struct sq *q, sqlite3_stmt *st, struct cxm_err *err,
                     const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sq_fail(q->db, err, what);
    return CXM_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_code(sqlite3_stmt *st, int i, uint32_t code)
{
    if (code)
        sqlite3_bind_int64(st, i, code);
    else
        sqlite3_bind_null(st, i);
}

static void bind_tri(sqlite3_stmt *st, int i, int v)
{
    if (v >= 0)
        sqlite3_bind_int(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static uint32_t col_code(sqlite3_stmt *st, int i)
{
    return (uint32_t)sqlite3_column_int64(st, i);
}

static double col_real(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NAN;
    return sqlite3_column_double(st, i);
}

static int col_tri(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return -1;
    return sqlite3_column_int(st, i);
}

/* ---- schema ------------------------------------------------------------ */

static int read_version(sqlite3 *db, int *version, struct cxm_err *err)
{
    sqlite3_stmt *st = NULL;
    *version = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE"
                           " name = 'schema_version'", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "reading schema");
    int have = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (!have)
        return CXM_OK;
    if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st,
                           NULL) != SQLITE_OK)
        return sq_fail(db, err, "reading schema_version");
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return CXM_OK;
}

/* Brings the schema from its current version up to target, one migration
 * per transaction so a crash leaves a consistent version. */
static int migrate(sqlite3 *db, int target, const char *path, struct cxm_err *err)
{
    int v;
    int rc = read_version(db, &v, err);
    if (rc)
        return rc;
    if (v > NMIGRATIONS)
        return cxm_err_set(err, CXM_ESCHEMA,
                           "%s has schema version %d, newer than this cxm"
                           " understands (%d): upgrade cxm to open it",
                           path, v, NMIGRATIONS);
    while (v < target) {
        if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
            return rc;
        if (v == 0)
            rc = exec(db, "CREATE TABLE schema_version(version INTEGER NOT NULL);"
                          "INSERT INTO schema_version VALUES(0);", err);
        if (!rc)
            rc = exec(db, migrations[v], err);
        char sql[64];
        snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d", v + 1);
        if (!rc)
            rc = exec(db, sql, err);
        if (!rc)
            rc = exec(db, "COMMIT", err);
        if (rc) {
            exec(db, "ROLLBACK", NULL);
            return rc;
        }
        v++;
    }
    return CXM_OK;
}

int store_sqlite_schema_version(void)
{
    return NMIGRATIONS;
}

static int configure(sqlite3 *db, enum store_sync sync, struct cxm_err *err)
{
    static const char *const sync_sql[] = {
        "PRAGMA synchronous=OFF", "PRAGMA synchronous=NORMAL",
        "PRAGMA synchronous=FULL"};
    sqlite3_busy_timeout(db, 10000);
    int rc = exec(db, "PRAGMA journal_mode=WAL", err);
    if (!rc)
        rc = exec(db, sync_sql[sync <= STORE_SYNC_FULL ? sync : STORE_SYNC_FULL], err);
    if (!rc)
        rc = exec(db, "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;"
                      " PRAGMA temp_store=MEMORY", err);
    return rc;
}

static int open_db(const char *path, int flags, sqlite3 **out, struct cxm_err *err)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        cxm_err_set(err, CXM_EIO, "cannot open %s: %s", path,
                    db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return CXM_EIO;
    }
    *out = db;
    return CXM_OK;
}

#ifdef CXM_TEST
int store_sqlite_create_at(const char *path, int target, struct cxm_err *err)
{
    sqlite3 *db;
    int rc = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db, err);
    if (rc)
        return rc;
    rc = migrate(db, target, path, err);
    sqlite3_close(db);
    return rc;
}
#endif

/* ---- writes ------------------------------------------------------------ */

#define Q(s) ((struct sq *)(s))

static int sq_begin(struct store *s, struct cxm_err *err)
{
    return step_done(Q(s), Q(s)->st[ST_BEGIN], err, "begin");
}

static int sq_set_sync(struct store *s, enum store_sync sync, struct cxm_err *err)
{
    static const char *const sql[] = {"PRAGMA synchronous=OFF", "PRAGMA synchronous=NORMAL",
                                      "PRAGMA synchronous=FULL"};
    return exec(Q(s)->db, sql[sync], err);
}

static int sq_commit(struct store *s, int64_t last_seq, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_bind_int64(q->st[ST_META_SEQ], 1, last_seq);
    int rc = step_done(q, q->st[ST_META_SEQ], err, "meta");
    if (!rc)
        rc = step_done(q, q->st[ST_COMMIT], err, "commit");
    if (rc)
        return rc;
    s->last_seq = last_seq;
    return CXM_OK;
}

static void sq_rollback(struct store *s)
{
    struct sq *q = Q(s);
    if (!sqlite3_get_autocommit(q->db))
        step_done(q, q->st[ST_ROLLBACK], NULL, "rollback");
}

static int sq_claim(struct store *s, int kind, const char *id, int64_t seq,
                    bool *dup, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_CLAIM];
    sqlite3_bind_int(st, 1, kind);
    bind_text(st, 2, id);
    sqlite3_bind_int64(st, 3, seq);
    int rc = step_done(q, st, err, "event id");
    if (rc)
        return rc;
    *dup = sqlite3_changes(q->db) == 0;
    return CXM_OK;
}

static int sq_put_dict(struct store *s, int dict, uint32_t code,
                       const char *value, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_DICT];
    sqlite3_bind_int(st, 1, dict);
    sqlite3_bind_int64(st, 2, code);
    bind_text(st, 3, value);
    return step_done(q, st, err, "dict");
}

static int sq_put_customer(struct store *s, const struct store_customer *c,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_CUSTOMER];
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_int64(st, 2, c->seq);
    sqlite3_bind_int64(st, 3, c->created_ts);
    sqlite3_bind_int64(st, 4, c->updated_seq);
    bind_text(st, 5, c->name);
    if (c->birth_year)
        sqlite3_bind_int(st, 6, c->birth_year);
    bind_text(st, 7, c->gender);
    bind_text(st, 8, c->country);
    bind_text(st, 9, c->city);
    bind_text(st, 10, c->language);
    bind_tri(st, 11, c->consent_marketing);
    bind_tri(st, 12, c->consent_surveys);
    bind_tri(st, 13, c->consent_personalisation);
    bind_text(st, 14, c->attributes);
    return step_done(q, st, err, "customer");
}

static int sq_put_identity(struct store *s, const struct store_identity *i,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_IDENTITY];
    bind_text(st, 1, i->kind);
    bind_text(st, 2, i->value);
    sqlite3_bind_int64(st, 3, i->customer);
    sqlite3_bind_int64(st, 4, i->seq);
    return step_done(q, st, err, "identity");
}

static int sq_put_merge(struct store *s, const struct store_merge *m,
                        struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_MERGE];
    sqlite3_bind_int64(st, 1, m->seq);
    sqlite3_bind_int64(st, 2, m->ts);
    sqlite3_bind_int64(st, 3, m->parent);
    sqlite3_bind_int64(st, 4, m->child);
    bind_text(st, 5, m->cause);
    return step_done(q, st, err, "merge");
}

static int sq_undo_merge(struct store *s, int64_t merge_seq, int64_t undone_seq,
                         struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_UNDO_MERGE];
    sqlite3_bind_int64(st, 1, undone_seq);
    sqlite3_bind_int64(st, 2, merge_seq);
    int rc = step_done(q, st, err, "unmerge");
    if (!rc && sqlite3_changes(q->db) != 1)
        return cxm_err_set(err, CXM_ECONFLICT, "merge %lld is not active",
                           (long long)merge_seq);
    return rc;
}

static int sq_put_employee(struct store *s, const struct store_employee *e,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_EMPLOYEE];
    bind_text(st, 1, e->id);
    sqlite3_bind_int64(st, 2, e->seq);
    bind_text(st, 3, e->name);
    bind_text(st, 4, e->team);
    bind_text(st, 5, e->role);
    return step_done(q, st, err, "employee");
}

static int put_text(struct sq *q, int64_t seq, const char *text,
                    struct cxm_err *err)
{
    if (!text)
        return CXM_OK;
    sqlite3_stmt *st = q->st[ST_TEXT];
    sqlite3_bind_int64(st, 1, seq);
    bind_text(st, 2, text);
    return step_done(q, st, err, "text");
}

/* Three parameters from i: sentiment, themes, aspects (3 bytes each:
 * theme, sentiment x 10000 as a little-endian int16). NULL: unscored. */
static void bind_scores(sqlite3_stmt *st, int i, const struct text_scores *sc)
{
    if (!sc) {
        sqlite3_bind_null(st, i);
        sqlite3_bind_int64(st, i + 1, 0);
        sqlite3_bind_null(st, i + 2);
        return;
    }
    unsigned char buf[3 * TEXT_ASPECTS_MAX];
    size_t n = sc->naspects < TEXT_ASPECTS_MAX ? sc->naspects : TEXT_ASPECTS_MAX;
    for (size_t k = 0; k < n; k++) {
        uint16_t v = (uint16_t)sc->aspect[k].sentiment;
        buf[3 * k] = sc->aspect[k].theme;
        buf[3 * k + 1] = (unsigned char)(v & 0xff);
        buf[3 * k + 2] = (unsigned char)(v >> 8);
    }
    bind_real(st, i, sc->sentiment);
    sqlite3_bind_int64(st, i + 1, sc->themes);
    sqlite3_bind_blob(st, i + 2, buf, (int)(3 * n), SQLITE_TRANSIENT);
}

/* The scores at column i into sc; NULL when the row was not scored. */
static const struct text_scores *col_scores(sqlite3_stmt *st, int i, struct text_scores *sc)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    sc->sentiment = (float)sqlite3_column_double(st, i);
    sc->themes = (uint32_t)sqlite3_column_int64(st, i + 1);
    const unsigned char *b = sqlite3_column_blob(st, i + 2);
    size_t n = (size_t)sqlite3_column_bytes(st, i + 2) / 3;
    sc->naspects = 0;
    for (size_t k = 0; b && k < n && k < TEXT_ASPECTS_MAX; k++) {
        sc->aspect[k].theme = b[3 * k];
        sc->aspect[k].sentiment = (int16_t)(uint16_t)(b[3 * k + 1] | b[3 * k + 2] << 8);
        sc->naspects++;
    }
    return sc;
}

static int sq_put_interaction(struct store *s, const struct store_interaction *r,
                              struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_INTERACTION];
    sqlite3_bind_int64(st, 1, r->seq);
    sqlite3_bind_int64(st, 2, r->ts);
    sqlite3_bind_int64(st, 3, r->customer);
    bind_code(st, 4, r->channel);
    bind_code(st, 5, r->touchpoint);
    bind_code(st, 6, r->stage);
    bind_code(st, 7, r->kind);
    bind_code(st, 8, r->agent);
    bind_code(st, 9, r->outcome);
    if (r->duration >= 0)
        sqlite3_bind_int64(st, 10, r->duration);
    bind_real(st, 11, r->value);
    bind_text(st, 12, r->event_id);
    sqlite3_bind_int(st, 13, r->text != NULL);
    bind_scores(st, 14, r->text ? r->sc : NULL);
    int rc = step_done(q, st, err, "interaction");
    return rc ? rc : put_text(q, r->seq, r->text, err);
}

static int sq_put_feedback(struct store *s, const struct store_feedback *r,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_FEEDBACK];
    sqlite3_bind_int64(st, 1, r->seq);
    sqlite3_bind_int64(st, 2, r->ts);
    sqlite3_bind_int64(st, 3, r->customer);
    sqlite3_bind_int(st, 4, r->kind);
    bind_real(st, 5, r->score);
    bind_code(st, 6, r->survey);
    bind_code(st, 7, r->channel);
    bind_code(st, 8, r->touchpoint);
    bind_code(st, 9, r->stage);
    bind_code(st, 10, r->agent);
    bind_text(st, 11, r->event_id);
    sqlite3_bind_int(st, 12, r->comment != NULL);
    bind_scores(st, 13, r->comment ? r->sc : NULL);
    int rc = step_done(q, st, err, "feedback");
    return rc ? rc : put_text(q, r->seq, r->comment, err);
}

static int sq_put_order(struct store *s, const struct store_order *r,
                        struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_ORDER];
    sqlite3_bind_int64(st, 1, r->seq);
    sqlite3_bind_int64(st, 2, r->ts);
    sqlite3_bind_int64(st, 3, r->customer);
    bind_text(st, 4, r->order_id);
    sqlite3_bind_double(st, 5, r->amount);
    bind_code(st, 6, r->currency);
    bind_code(st, 7, r->channel);
    int rc = step_done(q, st, err, "order");
    for (size_t i = 0; !rc && i < r->nitems; i++) {
        const struct store_item *it = &r->items[i];
        st = q->st[ST_ITEM];
        sqlite3_bind_int64(st, 1, r->seq);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        bind_code(st, 3, it->sku);
        bind_code(st, 4, it->category);
        sqlite3_bind_double(st, 5, it->qty);
        sqlite3_bind_double(st, 6, it->price);
        rc = step_done(q, st, err, "order item");
    }
    return rc;
}

static int sq_put_benchmark(struct store *s, const struct store_benchmark *b,
                            struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_BENCHMARK];
    bind_text(st, 1, b->name);
    bind_text(st, 2, b->metric);
    bind_text(st, 3, b->period);
    bind_text(st, 4, b->segment ? b->segment : "");
    sqlite3_bind_double(st, 5, b->value);
    sqlite3_bind_int64(st, 6, b->seq);
    return step_done(q, st, err, "benchmark");
}

/* ---- replay ------------------------------------------------------------ */

static int scan_query(struct sq *q, const char *sql, sqlite3_stmt **st,
                      struct cxm_err *err)
{
    if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK)
        return sq_fail(q->db, err, "scan");
    return CXM_OK;
}

/* Steps st to the end, calling row for each row; finalizes st. */
static int scan_rows(struct sq *q, sqlite3_stmt *st,
                     int (*row)(sqlite3_stmt *, const struct store_scan *),
                     const struct store_scan *cb, struct cxm_err *err)
{
    int rc, src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if ((rc = row(st, cb))) {
            sqlite3_finalize(st);
            return cxm_err_set(err, rc, "replay stopped: %s", cxm_rc_str(rc));
        }
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE)
        return sq_fail(q->db, err, "scan");
    return CXM_OK;
}

static int row_dict(sqlite3_stmt *st, const struct store_scan *cb)
{
    return cb->dict(cb->ctx, sqlite3_column_int(st, 0), col_code(st, 1),
                    col_text(st, 2));
}

static int row_customer(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_customer c = {
        .id = sqlite3_column_int64(st, 0), .seq = sqlite3_column_int64(st, 1),
        .created_ts = sqlite3_column_int64(st, 2),
        .updated_seq = sqlite3_column_int64(st, 3), .name = col_text(st, 4),
        .birth_year = sqlite3_column_int(st, 5), .gender = col_text(st, 6),
        .country = col_text(st, 7), .city = col_text(st, 8),
        .language = col_text(st, 9), .consent_marketing = col_tri(st, 10),
        .consent_surveys = col_tri(st, 11),
        .consent_personalisation = col_tri(st, 12),
        .attributes = col_text(st, 13)};
    return cb->customer(cb->ctx, &c);
}

static int row_identity(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_identity i = {.kind = col_text(st, 0), .value = col_text(st, 1),
                               .customer = sqlite3_column_int64(st, 2),
                               .seq = sqlite3_column_int64(st, 3)};
    return cb->identity(cb->ctx, &i);
}

static int row_merge(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_merge m = {.seq = sqlite3_column_int64(st, 0),
                            .ts = sqlite3_column_int64(st, 1),
                            .parent = sqlite3_column_int64(st, 2),
                            .child = sqlite3_column_int64(st, 3),
                            .cause = col_text(st, 4),
                            .undone_seq = sqlite3_column_int64(st, 5)};
    return cb->merge(cb->ctx, &m);
}

static int row_benchmark(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_benchmark b = {.name = col_text(st, 0), .metric = col_text(st, 1),
                                .period = col_text(st, 2), .segment = col_text(st, 3),
                                .value = sqlite3_column_double(st, 4),
                                .seq = sqlite3_column_int64(st, 5)};
    return cb->benchmark(cb->ctx, &b);
}

static int sq_put_clv_model(struct store *s, const struct store_clv_model *c,
                            struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_CLV];
    sqlite3_bind_int64(st, 1, c->seq);
    sqlite3_bind_int64(st, 2, c->ts);
    sqlite3_bind_int64(st, 3, c->calibration_end);
    sqlite3_bind_double(st, 4, c->unit_days);
    const double v[7] = {c->r, c->alpha, c->a, c->b, c->p, c->q, c->v};
    for (int i = 0; i < 7; i++) {
        if (isnan(v[i]))
            sqlite3_bind_null(st, 5 + i);
        else
            sqlite3_bind_double(st, 5 + i, v[i]);
    }
    bind_text(st, 12, c->report);
    return step_done(q, st, err, "clv model");
}

static double col_real_or_nan(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int row_clv(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_clv_model c = {
        .seq = sqlite3_column_int64(st, 0), .ts = sqlite3_column_int64(st, 1),
        .calibration_end = sqlite3_column_int64(st, 2),
        .unit_days = sqlite3_column_double(st, 3),
        .r = sqlite3_column_double(st, 4), .alpha = sqlite3_column_double(st, 5),
        .a = sqlite3_column_double(st, 6), .b = sqlite3_column_double(st, 7),
        .p = col_real_or_nan(st, 8), .q = col_real_or_nan(st, 9),
        .v = col_real_or_nan(st, 10), .report = col_text(st, 11)};
    return cb->clv_model(cb->ctx, &c);
}

static int row_segment(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_segment sg = {
        .id = col_text(st, 0), .seq = sqlite3_column_int64(st, 1),
        .name = col_text(st, 2), .rule = col_text(st, 3), .description = col_text(st, 4),
        .created_ts = sqlite3_column_int64(st, 5), .updated_ts = sqlite3_column_int64(st, 6)};
    return cb->segment(cb->ctx, &sg);
}

static int row_contact(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_contact c = {
        .seq = sqlite3_column_int64(st, 0), .ts = sqlite3_column_int64(st, 1),
        .customer = sqlite3_column_int64(st, 2), .kind = sqlite3_column_int(st, 3),
        .channel = col_code(st, 4), .action = col_text(st, 5),
        .decision = sqlite3_column_int64(st, 6)};
    return cb->contact(cb->ctx, &c);
}

static int row_employee(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_employee e = {.id = col_text(st, 0),
                               .seq = sqlite3_column_int64(st, 1),
                               .name = col_text(st, 2), .team = col_text(st, 3),
                               .role = col_text(st, 4)};
    return cb->employee(cb->ctx, &e);
}

static int row_interaction(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct text_scores sc;
    struct store_interaction r = {
        .seq = sqlite3_column_int64(st, 0), .ts = sqlite3_column_int64(st, 1),
        .customer = sqlite3_column_int64(st, 2), .channel = col_code(st, 3),
        .touchpoint = col_code(st, 4), .stage = col_code(st, 5),
        .kind = col_code(st, 6), .agent = col_code(st, 7),
        .outcome = col_code(st, 8),
        .duration = sqlite3_column_type(st, 9) == SQLITE_NULL
                        ? -1 : sqlite3_column_int64(st, 9),
        .value = col_real(st, 10), .event_id = col_text(st, 11),
        .text = sqlite3_column_int(st, 12) ? "" : NULL, .sc = col_scores(st, 13, &sc)};
    return cb->interaction(cb->ctx, &r);
}

static int row_feedback(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct text_scores sc;
    struct store_feedback r = {
        .seq = sqlite3_column_int64(st, 0), .ts = sqlite3_column_int64(st, 1),
        .customer = sqlite3_column_int64(st, 2),
        .kind = sqlite3_column_int(st, 3), .score = col_real(st, 4),
        .survey = col_code(st, 5), .channel = col_code(st, 6),
        .touchpoint = col_code(st, 7), .stage = col_code(st, 8),
        .agent = col_code(st, 9), .event_id = col_text(st, 10),
        .comment = sqlite3_column_int(st, 11) ? "" : NULL, .sc = col_scores(st, 12, &sc)};
    return cb->feedback(cb->ctx, &r);
}

/* Orders come with their items: the items query runs alongside, both in
 * seq order, so each order takes its items from the items cursor. */
static int scan_orders(struct sq *q, const struct store_scan *cb,
                       struct cxm_err *err)
{
    sqlite3_stmt *os = NULL, *is = NULL;
    struct store_item *items = NULL;
    size_t cap = 0;
    int rc = scan_query(q, "SELECT seq, ts, customer, order_id, amount, currency,"
                           " channel FROM orders ORDER BY seq", &os, err);
    if (!rc)
        rc = scan_query(q, "SELECT order_seq, sku, category, qty, price FROM"
                           " order_item ORDER BY order_seq, line", &is, err);
    int irc = is ? sqlite3_step(is) : SQLITE_DONE;
    int orc;
    while (!rc && (orc = sqlite3_step(os)) == SQLITE_ROW) {
        struct store_order o = {
            .seq = sqlite3_column_int64(os, 0), .ts = sqlite3_column_int64(os, 1),
            .customer = sqlite3_column_int64(os, 2), .order_id = col_text(os, 3),
            .amount = sqlite3_column_double(os, 4), .currency = col_code(os, 5),
            .channel = col_code(os, 6)};
        size_t n = 0;
        while (irc == SQLITE_ROW && sqlite3_column_int64(is, 0) <= o.seq) {
            if (sqlite3_column_int64(is, 0) == o.seq) {
                if ((rc = cxm_grow((void **)&items, &cap, n + 1, sizeof *items)))
                    break;
                items[n++] = (struct store_item){
                    .sku = col_code(is, 1), .category = col_code(is, 2),
                    .qty = sqlite3_column_double(is, 3),
                    .price = sqlite3_column_double(is, 4)};
            }
            irc = sqlite3_step(is);
        }
        if (rc) {
            cxm_err_set(err, rc, "replay: order items: %s", cxm_rc_str(rc));
            break;
        }
        o.items = items;
        o.nitems = n;
        if ((rc = cb->order(cb->ctx, &o)))
            cxm_err_set(err, rc, "replay stopped: %s", cxm_rc_str(rc));
    }
    if (!rc && orc != SQLITE_DONE)
        rc = sq_fail(q->db, err, "scan orders");
    sqlite3_finalize(os);
    sqlite3_finalize(is);
    free(items);
    return rc;
}

static int sq_scan(struct store *s, const struct store_scan *cb,
                   struct cxm_err *err)
{
    struct sq *q = Q(s);
    static const struct {
        const char *sql;
        int (*row)(sqlite3_stmt *, const struct store_scan *);
        size_t off;
    } parts[] = {
        {"SELECT dict, code, value FROM dict ORDER BY dict, code", row_dict,
         offsetof(struct store_scan, dict)},
        {"SELECT id, seq, created_ts, updated_seq, name, birth_year, gender,"
         " country, city, language, consent_marketing, consent_surveys,"
         " consent_personalisation, attributes FROM customer ORDER BY id",
         row_customer, offsetof(struct store_scan, customer)},
        {"SELECT kind, value, customer, seq FROM identity ORDER BY seq", row_identity,
         offsetof(struct store_scan, identity)},
        {"SELECT seq, ts, parent, child, cause, undone_seq FROM merge_log"
         " ORDER BY seq", row_merge, offsetof(struct store_scan, merge)},
        {"SELECT id, seq, name, team, role FROM employee", row_employee,
         offsetof(struct store_scan, employee)},
        {"SELECT name, metric, period, segment, value, seq FROM benchmark"
         " ORDER BY metric, period, name, segment", row_benchmark,
         offsetof(struct store_scan, benchmark)},
        {"SELECT seq, ts, calibration_end, unit_days, r, alpha, a, b, p, q, v,"
         " report FROM clv_model ORDER BY seq DESC LIMIT 1", row_clv,
         offsetof(struct store_scan, clv_model)},
        {"SELECT seq, ts, customer, channel, touchpoint, stage, kind, agent,"
         " outcome, duration, value, event_id, has_text, sentiment, themes,"
         " aspects FROM interaction ORDER BY seq", row_interaction,
         offsetof(struct store_scan, interaction)},
        {"SELECT seq, ts, customer, kind, score, survey, channel, touchpoint,"
         " stage, agent, event_id, has_text, sentiment, themes, aspects"
         " FROM feedback ORDER BY seq", row_feedback,
         offsetof(struct store_scan, feedback)},
        {"SELECT id, seq, name, rule, description, created_ts, updated_ts FROM segment"
         " ORDER BY id", row_segment, offsetof(struct store_scan, segment)},
        {"SELECT seq, ts, customer, kind, channel, action, decision FROM contact"
         " ORDER BY seq", row_contact, offsetof(struct store_scan, contact)},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        void *fn;
        memcpy(&fn, (const char *)cb + parts[i].off, sizeof fn);
        if (!fn)
            continue;
        sqlite3_stmt *st;
        int rc = scan_query(q, parts[i].sql, &st, err);
        if (!rc)
            rc = scan_rows(q, st, parts[i].row, cb, err);
        if (rc)
            return rc;
    }
    int rc = cb->order ? scan_orders(q, cb, err) : CXM_OK;
    /* The replay read every page once; memory serves reads from now on. */
    sqlite3_db_release_memory(q->db);
    return rc;
}

static int sq_set_text_scores(struct store *s, int64_t seq, const struct text_scores *sc,
                              struct cxm_err *err)
{
    struct sq *q = Q(s);
    for (int k = 0; k < 2; k++) {
        sqlite3_stmt *st = q->st[k ? ST_SCORE_F : ST_SCORE_I];
        bind_scores(st, 1, sc);
        sqlite3_bind_int64(st, 4, seq);
        int rc = step_done(q, st, err, "text scores");
        if (rc)
            return rc;
        if (sqlite3_changes(q->db))
            break;
    }
    return CXM_OK;
}

static int sq_scan_texts(struct store *s, int64_t from_seq,
                         int (*fn)(void *ctx, int64_t seq, const char *body, size_t len),
                         void *ctx, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    int rc = scan_query(q, "SELECT seq, body FROM text WHERE seq >= ? ORDER BY seq", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, from_seq);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *b = (const char *)sqlite3_column_text(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if ((rc = fn(ctx, sqlite3_column_int64(st, 0), b ? b : "", b ? len : 0))) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? CXM_OK : sq_fail(q->db, err, "texts");
}

/* ---- reads from request threads --------------------------------------- */

/* An FTS5 query from free text: every word quoted (so no operator or
 * syntax in it means anything), all of them required. */
static int fts_query(const char *in, char *out, size_t cap)
{
    size_t o = 0, words = 0;
    for (const char *p = in; *p;) {
        while (*p && (unsigned char)*p < 0x80 && !isalnum((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (o + 4 >= cap)
            return -1;
        out[o++] = '"';
        while (*p && !((unsigned char)*p < 0x80 && !isalnum((unsigned char)*p))) {
            if (o + 3 >= cap)
                return -1;
            out[o++] = *p++;
        }
        out[o++] = '"';
        out[o++] = ' ';
        words++;
    }
    out[o] = '\0';
    return (int)words;
}

static int sq_search_text(struct store *s, const char *qs, int64_t before, int64_t *out,
                          size_t max, size_t *n, struct cxm_err *err)
{
    struct sq *q = Q(s);
    char fq[1024];
    *n = 0;
    int words = fts_query(qs, fq, sizeof fq);
    if (words < 0)
        return cxm_err_field(err, CXM_EINVAL, -1, "search", "search: too long");
    if (words == 0)
        return CXM_OK;
    int rc = CXM_OK;
    pthread_mutex_lock(&q->rlock);
    sqlite3_stmt *st = q->search;
    sqlite3_bind_text(st, 1, fq, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW && *n < max)
        out[(*n)++] = sqlite3_column_int64(st, 0);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        rc = sq_fail(q->rdb, err, "search");
    sqlite3_reset(st);
    pthread_mutex_unlock(&q->rlock);
    return rc;
}

/* The text of the first row of sql (arg bound to its parameter, if
 * any) into *out, malloc'd; NULL when there is no row. */
static int query_text(struct sq *q, const char *sql, const char *arg, char **out,
                      const char *what, struct cxm_err *err)
{
    sqlite3_stmt *st;
    *out = NULL;
    int rc = scan_query(q, sql, &st, err);
    if (rc)
        return rc;
    if (arg)
        bind_text(st, 1, arg);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        const char *t = col_text(st, 0);
        if (t && !(*out = cxm_strdup(t)))
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    } else if (src != SQLITE_DONE) {
        rc = sq_fail(q->db, err, what);
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_get_taxonomy(struct store *s, char **out, struct cxm_err *err)
{
    return query_text(Q(s), "SELECT json FROM taxonomy WHERE id = 1", NULL, out, "taxonomy",
                      err);
}

static int sq_put_text_model(struct store *s, int64_t seq, int64_t ts, const void *blob,
                             size_t len, const char *report, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_TEXT_MODEL];
    if (len > INT32_MAX)
        return cxm_err_set(err, CXM_ETOOBIG, "text model over 2 GiB");
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, ts);
    sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
    bind_text(st, 4, report);
    return step_done(q, st, err, "text model");
}

static int sq_get_text_model(struct store *s, void **blob, size_t *len, char **report,
                             struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    *blob = NULL;
    *report = NULL;
    *len = 0;
    int rc = scan_query(q, "SELECT model, report FROM text_model ORDER BY seq DESC"
                           " LIMIT 1", &st, err);
    if (rc)
        return rc;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        const void *b = sqlite3_column_blob(st, 0);
        const char *t = col_text(st, 1);
        if (!(*blob = cxm_malloc(n ? n : 1)) || !(*report = cxm_strdup(t ? t : "{}"))) {
            free(*blob);
            *blob = NULL;
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
        } else {
            if (n)
                memcpy(*blob, b, n);
            *len = n;
        }
    } else if (src != SQLITE_DONE) {
        rc = sq_fail(q->db, err, "text model");
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_put_taxonomy(struct store *s, const char *json, int64_t seq,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_TAXONOMY];
    sqlite3_bind_int64(st, 1, seq);
    bind_text(st, 2, json);
    return step_done(q, st, err, "taxonomy");
}

static int sq_put_segment(struct store *s, const struct store_segment *sg,
                          struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_SEGMENT];
    bind_text(st, 1, sg->id);
    sqlite3_bind_int64(st, 2, sg->seq);
    bind_text(st, 3, sg->name);
    bind_text(st, 4, sg->rule);
    bind_text(st, 5, sg->description ? sg->description : "");
    sqlite3_bind_int64(st, 6, sg->created_ts);
    sqlite3_bind_int64(st, 7, sg->updated_ts);
    return step_done(q, st, err, "segment");
}

static int sq_delete_segment(struct store *s, const char *id, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_SEGMENT_DEL];
    bind_text(st, 1, id);
    int rc = step_done(q, st, err, "segment");
    if (!rc && sqlite3_changes(q->db) == 0)
        rc = cxm_err_set(err, CXM_ENOTFOUND, "no segment \"%s\"", id);
    return rc;
}

static int sq_put_config(struct store *s, const char *name, const char *body, int64_t seq,
                         struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_CONFIG];
    bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, seq);
    bind_text(st, 3, body);
    return step_done(q, st, err, "config");
}

static int sq_get_config(struct store *s, const char *name, char **out,
                         struct cxm_err *err)
{
    return query_text(Q(s), "SELECT body FROM config WHERE name = ?", name, out, "config",
                      err);
}

static int sq_put_contact(struct store *s, const struct store_contact *c,
                          struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_CONTACT];
    sqlite3_bind_int64(st, 1, c->seq);
    sqlite3_bind_int64(st, 2, c->ts);
    sqlite3_bind_int64(st, 3, c->customer);
    sqlite3_bind_int(st, 4, c->kind);
    sqlite3_bind_int64(st, 5, c->channel);
    bind_text(st, 6, c->action);
    sqlite3_bind_int64(st, 7, c->decision);
    return step_done(q, st, err, "contact");
}

static int sq_put_decision(struct store *s, const struct store_decision *d,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_DECISION];
    sqlite3_bind_int64(st, 1, d->id);
    sqlite3_bind_int64(st, 2, d->ts);
    sqlite3_bind_int64(st, 3, d->customer);
    bind_text(st, 4, d->channel);
    bind_text(st, 5, d->context);
    bind_text(st, 6, d->actions);
    bind_text(st, 7, d->held ? d->held : "");
    return step_done(q, st, err, "decision");
}

static int sq_max_decision(struct store *s, int64_t *out, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    *out = 0;
    int rc = scan_query(q, "SELECT max(id) FROM decision", &st, err);
    if (rc)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return CXM_OK;
}

static int sq_scan_decisions(struct store *s, int64_t from, int64_t to, const char *action,
                             int (*fn)(void *ctx, const struct store_decision *d), void *ctx,
                             struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    pthread_mutex_lock(&q->rlock);
    int rc = CXM_OK;
    if (sqlite3_prepare_v2(q->rdb, "SELECT id, ts, customer, channel, context, actions, held"
                           " FROM decision WHERE ts >= ?1 AND ts < ?2 AND (?3 IS NULL OR"
                           " instr(',' || actions || ',', ',' || ?3 || ',') > 0 OR"
                           " instr(',' || held || ',', ',' || ?3 || ',') > 0)"
                           " ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
        rc = sq_fail(q->rdb, err, "decisions");
        pthread_mutex_unlock(&q->rlock);
        return rc;
    }
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    bind_text(st, 3, action);
    int src;
    while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_decision d = {
            .id = sqlite3_column_int64(st, 0), .ts = sqlite3_column_int64(st, 1),
            .customer = sqlite3_column_int64(st, 2), .channel = col_text(st, 3),
            .context = col_text(st, 4), .actions = col_text(st, 5),
            .held = col_text(st, 6)};
        rc = fn(ctx, &d);
    }
    if (!rc && src != SQLITE_DONE)
        rc = sq_fail(q->rdb, err, "decisions");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->rlock);
    return rc;
}

static int sq_get_text(struct store *s, int64_t seq, char **out,
                       struct cxm_err *err)
{
    struct sq *q = Q(s);
    int rc = CXM_OK;
    *out = NULL;
    pthread_mutex_lock(&q->rlock);
    sqlite3_bind_int64(q->get_text, 1, seq);
    int src = sqlite3_step(q->get_text);
    if (src == SQLITE_ROW) {
        const char *t = col_text(q->get_text, 0);
        if (t && !(*out = cxm_strdup(t)))
            rc = cxm_err_set(err, CXM_ENOMEM, "out of memory");
    } else if (src != SQLITE_DONE) {
        rc = sq_fail(q->rdb, err, "text");
    }
    sqlite3_reset(q->get_text);
    pthread_mutex_unlock(&q->rlock);
    return rc;
}

static int sq_get_event_id(struct store *s, int kind, int64_t seq, char *id,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    int t = kind == IDK_INTERACTION ? 0 : kind == IDK_FEEDBACK ? 1 : kind == IDK_ORDER ? 2 : -1;
    if (t < 0)
        return cxm_err_set(err, CXM_EINVAL, "no event id index for kind %d", kind);
    int rc = CXM_OK;
    id[0] = '\0';
    pthread_mutex_lock(&q->rlock);
    sqlite3_stmt *st = q->get_eid[t];
    sqlite3_bind_int64(st, 1, seq);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        const char *v = col_text(st, 0);
        if (v)
            cxm_strlcpy(id, v, CXM_MAX_EVENT_ID + 1);
    } else if (src != SQLITE_DONE) {
        rc = sq_fail(q->rdb, err, "event id");
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&q->rlock);
    return rc;
}

static int sq_put_key(struct store *s, const struct store_key *k,
                      struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(q->db, "INSERT INTO api_key(hash, role, name, created)"
                           " VALUES(?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(q->db, err, "api key");
    bind_text(st, 1, k->hash);
    bind_text(st, 2, k->role);
    bind_text(st, 3, k->name);
    sqlite3_bind_int64(st, 4, k->created);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? CXM_OK : sq_fail(q->db, err, "api key");
}

static int sq_find_key(struct store *s, const char *hash, char role[16],
                       struct cxm_err *err)
{
    struct sq *q = Q(s);
    int rc = CXM_ENOTFOUND;
    pthread_mutex_lock(&q->rlock);
    sqlite3_bind_text(q->find_key, 1, hash, -1, SQLITE_STATIC);
    int src = sqlite3_step(q->find_key);
    if (src == SQLITE_ROW) {
        cxm_strlcpy(role, col_text(q->find_key, 0), 16);
        rc = CXM_OK;
    } else if (src != SQLITE_DONE) {
        rc = sq_fail(q->rdb, err, "api key");
    }
    sqlite3_reset(q->find_key);
    pthread_mutex_unlock(&q->rlock);
    return rc;
}

static int sq_count_keys(struct store *s, int64_t *n, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    int rc = CXM_OK;
    pthread_mutex_lock(&q->rlock);
    if (sqlite3_prepare_v2(q->rdb, "SELECT count(*) FROM api_key", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = sq_fail(q->rdb, err, "api key");
    } else {
        if (sqlite3_step(st) == SQLITE_ROW)
            *n = sqlite3_column_int64(st, 0);
        else
            rc = sq_fail(q->rdb, err, "api key");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->rlock);
    return rc;
}

/* ---- open / close ------------------------------------------------------ */

static void sq_close(struct store *s)
{
    struct sq *q = Q(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_finalize(q->get_text);
    sqlite3_finalize(q->search);
    sqlite3_finalize(q->find_key);
    for (int i = 0; i < 3; i++)
        sqlite3_finalize(q->get_eid[i]);
    sqlite3_close(q->rdb);
    sqlite3_close(q->db);
    pthread_mutex_destroy(&q->rlock);
    free(q);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .set_sync = sq_set_sync,
    .rollback = sq_rollback,
    .claim = sq_claim,
    .put_dict = sq_put_dict,
    .put_customer = sq_put_customer,
    .put_identity = sq_put_identity,
    .put_merge = sq_put_merge,
    .undo_merge = sq_undo_merge,
    .put_employee = sq_put_employee,
    .put_interaction = sq_put_interaction,
    .put_feedback = sq_put_feedback,
    .put_order = sq_put_order,
    .put_benchmark = sq_put_benchmark,
    .put_clv_model = sq_put_clv_model,
    .set_text_scores = sq_set_text_scores,
    .scan_texts = sq_scan_texts,
    .search_text = sq_search_text,
    .get_taxonomy = sq_get_taxonomy,
    .put_text_model = sq_put_text_model,
    .get_text_model = sq_get_text_model,
    .put_taxonomy = sq_put_taxonomy,
    .put_segment = sq_put_segment,
    .delete_segment = sq_delete_segment,
    .put_config = sq_put_config,
    .get_config = sq_get_config,
    .put_contact = sq_put_contact,
    .put_decision = sq_put_decision,
    .max_decision = sq_max_decision,
    .scan_decisions = sq_scan_decisions,
    .scan = sq_scan,
    .get_text = sq_get_text,
    .get_event_id = sq_get_event_id,
    .put_key = sq_put_key,
    .find_key = sq_find_key,
    .count_keys = sq_count_keys,
};

static int read_last_seq(sqlite3 *db, int64_t *out, struct cxm_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'last_seq'",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "meta");
    *out = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return CXM_OK;
}

struct store *store_sqlite_open(const char *path, const struct store_opts *o,
                                struct cxm_err *err)
{
    struct store_opts defaults = {.sync = STORE_SYNC_FULL};
    if (!o)
        o = &defaults;
    struct sq *q = cxm_calloc(1, sizeof *q);
    if (!q) {
        cxm_err_set(err, CXM_ENOMEM, "out of memory");
        return NULL;
    }
    q->base.ops = &sqlite_ops;
    pthread_mutex_init(&q->rlock, NULL);
    int flags = o->readonly ? SQLITE_OPEN_READONLY
                            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = open_db(path, flags, &q->db, err);
    if (!rc && !o->readonly)
        rc = configure(q->db, o->sync, err);
    if (!rc) {
        int v;
        rc = read_version(q->db, &v, err);
        if (!rc && v > NMIGRATIONS)
            rc = migrate(q->db, NMIGRATIONS, path, err);
        else if (!rc && o->readonly && v < NMIGRATIONS)
            rc = cxm_err_set(err, CXM_ESCHEMA, "%s needs an upgrade: open it"
                             " read-write once", path);
        else if (!rc && !o->readonly)
            rc = migrate(q->db, NMIGRATIONS, path, err);
    }
    if (!rc)
        rc = read_last_seq(q->db, &q->base.last_seq, err);
    if (!rc)
        rc = open_db(path, SQLITE_OPEN_READONLY, &q->rdb, err);
    if (!rc)
        sqlite3_busy_timeout(q->rdb, 10000);
    for (int i = 0; !rc && !o->readonly && i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(q->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &q->st[i], NULL) != SQLITE_OK)
            rc = sq_fail(q->db, err, stmt_sql[i]);
    if (!rc && (sqlite3_prepare_v2(q->rdb, "SELECT body FROM text WHERE seq = ?",
                                   -1, &q->get_text, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(q->rdb, "SELECT role FROM api_key WHERE hash = ?",
                                   -1, &q->find_key, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(q->rdb, "SELECT rowid FROM text_fts WHERE text_fts"
                                   " MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?",
                                   -1, &q->search, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(q->rdb, "SELECT event_id FROM interaction WHERE seq = ?",
                                   -1, &q->get_eid[0], NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(q->rdb, "SELECT event_id FROM feedback WHERE seq = ?",
                                   -1, &q->get_eid[1], NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(q->rdb, "SELECT order_id FROM orders WHERE seq = ?",
                                   -1, &q->get_eid[2], NULL) != SQLITE_OK))
        rc = sq_fail(q->rdb, err, "prepare");
    if (rc) {
        sq_close(&q->base);
        return NULL;
    }
    return &q->base;
}
