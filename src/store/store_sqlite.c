/* store_sqlite.c - SQLite backend. One write connection used by the
 * engine's single writer thread; one read connection (behind a mutex) for
 * the few reads that come from request threads: texts and API keys. WAL
 * lets both run at once. A third connection, on its own thread, copies the
 * WAL back into the database (checkpoints), so that the writer never
 * waits for that copy and its fsync. */
#include "store/store_sqlite.h"

#include "core/arena.h"
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
    /* 9: the closed loop: cases and their history, webhook endpoints, the
     * outbox, deliveries and their attempts */
    "CREATE TABLE cases(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
    "  customer INTEGER NOT NULL, source_seq INTEGER NOT NULL, reason TEXT NOT NULL,"
    "  rule TEXT, priority TEXT NOT NULL, status TEXT NOT NULL, team TEXT, assignee TEXT,"
    "  subject TEXT, resolution TEXT, opened_ts INTEGER NOT NULL,"
    "  updated_ts INTEGER NOT NULL, response_due INTEGER NOT NULL,"
    "  resolve_due INTEGER NOT NULL, responded_ts INTEGER NOT NULL,"
    "  resolved_ts INTEGER NOT NULL, closed_ts INTEGER NOT NULL,"
    "  reopened INTEGER NOT NULL, breached INTEGER NOT NULL);"
    "CREATE TABLE case_event(seq INTEGER PRIMARY KEY, case_id INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL, kind TEXT NOT NULL, actor TEXT, body TEXT,"
    "  link_seq INTEGER NOT NULL);"
    "CREATE TABLE webhook(id TEXT PRIMARY KEY, seq INTEGER NOT NULL, url TEXT NOT NULL,"
    "  secret TEXT NOT NULL, events TEXT NOT NULL, description TEXT NOT NULL,"
    "  enabled INTEGER NOT NULL, created_ts INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, type TEXT NOT NULL,"
    "  customer INTEGER NOT NULL, payload TEXT NOT NULL);"
    "CREATE TABLE delivery(webhook TEXT NOT NULL, outbox INTEGER NOT NULL,"
    "  status TEXT NOT NULL, attempts INTEGER NOT NULL, next_ts INTEGER NOT NULL,"
    "  last_code INTEGER NOT NULL, error TEXT, updated_ts INTEGER NOT NULL,"
    "  PRIMARY KEY(webhook, outbox)) WITHOUT ROWID;"
    "CREATE INDEX delivery_pending ON delivery(outbox) WHERE status = 'pending';"
    "CREATE TABLE attempt(webhook TEXT NOT NULL, outbox INTEGER NOT NULL, n INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL, code INTEGER NOT NULL, ms INTEGER NOT NULL, error TEXT,"
    "  PRIMARY KEY(webhook, outbox, n)) WITHOUT ROWID;",
    /* 10: surveys, invitations, answers, scheduled invitations */
    "CREATE TABLE survey(id TEXT PRIMARY KEY, seq INTEGER NOT NULL, doc TEXT NOT NULL,"
    "  created_ts INTEGER NOT NULL, updated_ts INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE invitation(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
    "  survey TEXT NOT NULL, customer INTEGER NOT NULL, channel TEXT NOT NULL,"
    "  status TEXT NOT NULL, reason TEXT, trigger TEXT, context TEXT,"
    "  created_ts INTEGER NOT NULL, expires_ts INTEGER NOT NULL,"
    "  answered_ts INTEGER NOT NULL, completed_ts INTEGER NOT NULL,"
    "  reminded_ts INTEGER NOT NULL);"
    "CREATE TABLE survey_answer(invitation INTEGER NOT NULL, question TEXT NOT NULL,"
    "  ts INTEGER NOT NULL, value TEXT, feedback_seq INTEGER NOT NULL,"
    "  PRIMARY KEY(invitation, question)) WITHOUT ROWID;"
    "CREATE TABLE survey_schedule(id INTEGER PRIMARY KEY, survey TEXT NOT NULL,"
    "  customer INTEGER NOT NULL, source TEXT NOT NULL, due_ts INTEGER NOT NULL,"
    "  status TEXT NOT NULL, context TEXT, UNIQUE(survey, customer, source));",
    /* 11: the last characters of a key, so a list of keys can be told apart */
    "ALTER TABLE api_key ADD COLUMN hint TEXT;",
    /* 12: identities in the order they were linked. A B-tree keyed by
     * (kind, value) took each new identity at a random page: about 17 us
     * an identity and most of a commit's WAL while customers arrive. The
     * engine's in-memory map is what finds an identity (the single writer
     * keeps them unique); replay reads them in seq order. */
    "CREATE TABLE identity_by_seq(seq INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
    "  value TEXT NOT NULL, customer INTEGER NOT NULL);"
    "INSERT INTO identity_by_seq(seq, kind, value, customer)"
    "  SELECT seq, kind, value, customer FROM identity ORDER BY seq;"
    "DROP TABLE identity;"
    "ALTER TABLE identity_by_seq RENAME TO identity;"
    "CREATE INDEX identity_customer ON identity(customer);",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

enum stmt_id {
    ST_CLAIM, ST_DICT, ST_CUSTOMER, ST_IDENTITY, ST_MERGE, ST_UNDO_MERGE,
    ST_EMPLOYEE, ST_INTERACTION, ST_FEEDBACK, ST_TEXT, ST_ORDER, ST_ITEM,
    ST_META_SEQ, ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_BENCHMARK, ST_CLV, ST_SCORE_I, ST_SCORE_F,
    ST_TAXONOMY, ST_TEXT_MODEL, ST_SEGMENT, ST_SEGMENT_DEL, ST_CONFIG, ST_CONTACT,
    ST_DECISION, ST_CASE, ST_CASE_EVENT, ST_WEBHOOK, ST_OUTBOX, ST_DELIVERY, ST_ATTEMPT,
    ST_SURVEY, ST_INVITATION, ST_SURVEY_ANSWER, ST_SCHEDULE_NEW, ST_SCHEDULE_SET, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_CLAIM] = "INSERT OR IGNORE INTO event_id(kind, id, seq) VALUES(?,?,?)",
    [ST_DICT] = "INSERT OR REPLACE INTO dict(dict, code, value) VALUES(?,?,?)",
    [ST_CUSTOMER] = "INSERT OR REPLACE INTO customer(id, seq, created_ts,"
                    " updated_seq, name, birth_year, gender, country, city,"
                    " language, consent_marketing, consent_surveys,"
                    " consent_personalisation, attributes)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_IDENTITY] = "INSERT INTO identity(kind, value, customer, seq)"
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
    [ST_CASE] = "INSERT OR REPLACE INTO cases(id, seq, customer, source_seq, reason, rule,"
                " priority, status, team, assignee, subject, resolution, opened_ts,"
                " updated_ts, response_due, resolve_due, responded_ts, resolved_ts,"
                " closed_ts, reopened, breached)"
                " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_CASE_EVENT] = "INSERT INTO case_event(seq, case_id, ts, kind, actor, body, link_seq)"
                      " VALUES(?,?,?,?,?,?,?)",
    [ST_WEBHOOK] = "INSERT OR REPLACE INTO webhook(id, seq, url, secret, events,"
                   " description, enabled, created_ts) VALUES(?,?,?,?,?,?,?,?)",
    [ST_OUTBOX] = "INSERT INTO outbox(id, ts, type, customer, payload) VALUES(?,?,?,?,?)",
    [ST_DELIVERY] = "INSERT OR REPLACE INTO delivery(webhook, outbox, status, attempts,"
                    " next_ts, last_code, error, updated_ts) VALUES(?,?,?,?,?,?,?,?)",
    /* attempts are numbered in the log in order, across replays (?3, the
       try's number for the backoff, is not the log's) */
    [ST_ATTEMPT] = "INSERT INTO attempt(webhook, outbox, n, ts, code, ms, error)"
                   " VALUES(?1, ?2, (SELECT coalesce(max(n), 0) + 1 + 0 * ?3 FROM attempt"
                   " WHERE webhook = ?1 AND outbox = ?2), ?4, ?5, ?6, ?7)",
    [ST_SURVEY] = "INSERT OR REPLACE INTO survey(id, seq, doc, created_ts, updated_ts)"
                  " VALUES(?,?,?,?,?)",
    [ST_INVITATION] = "INSERT OR REPLACE INTO invitation(id, seq, survey, customer, channel,"
                      " status, reason, trigger, context, created_ts, expires_ts, answered_ts,"
                      " completed_ts, reminded_ts) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_SURVEY_ANSWER] = "INSERT OR REPLACE INTO survey_answer(invitation, question, ts, value,"
                         " feedback_seq) VALUES(?,?,?,?,?)",
    [ST_SCHEDULE_NEW] = "INSERT OR IGNORE INTO survey_schedule(id, survey, customer, source,"
                        " due_ts, status, context) VALUES(?,?,?,?,?,?,?)",
    [ST_SCHEDULE_SET] = "UPDATE survey_schedule SET status = ?2 WHERE id = ?1",
};

/* WAL pages past which the checkpointer copies them back (SQLite's own
 * automatic checkpoint uses the same number). The WAL starts over only
 * when a write transaction begins with every frame copied, which a writer
 * that never pauses rarely sees while the copy runs beside it; so past
 * CKPT_RESTART_PAGES the writer finishes the copy itself and its next
 * transaction starts the WAL over: the file stays within about 16 MB
 * unless a reader holds an old snapshot. */
#define CKPT_PAGES 1000
#define CKPT_RESTART_PAGES (4 * CKPT_PAGES)

/* The rows ingest writes most (interactions, feedback, customers and
 * identities) are inserted ROWS_AT_ONCE rows a statement: one statement's
 * fixed cost spread over many rows (a sixth of an interaction's insert,
 * two fifths of a new customer's here). Rows wait in the store until a
 * batch is full or the transaction is committed; every statement that
 * reads or changes these tables on the writer connection flushes them
 * first. A waiting row borrows its strings from the caller until the
 * commit, except a customer's, copied (the engine replaces a name or
 * attributes in place). */
#define ROWS_AT_ONCE 32

enum { B_INTERACTION, B_FEEDBACK, B_CUSTOMER, B_IDENTITY, B_COUNT };

/* One kind of waiting rows. */
struct batch {
    sqlite3_stmt *many;     /* ROWS_AT_ONCE rows an INSERT */
    size_t n;               /* rows waiting */
    union {
        struct store_interaction i[ROWS_AT_ONCE];
        struct store_feedback f[ROWS_AT_ONCE];
        struct store_customer c[ROWS_AT_ONCE];
        struct store_identity d[ROWS_AT_ONCE];
    } rows;
};

struct sq {
    struct store base;
    sqlite3 *db;            /* writer connection */
    sqlite3 *rdb;           /* reader connection, guarded by rlock */
    pthread_mutex_t rlock;
    sqlite3 *cdb;           /* checkpoint connection, its thread's alone */
    pthread_t ckpt;
    pthread_mutex_t cmu;    /* guards wal_pages, ckpt_busy, writer_ckpt, stopping */
    pthread_cond_t ccv;     /* to the checkpointer: work or stop */
    pthread_cond_t cdone;   /* to the writer: a checkpoint finished */
    int wal_pages;          /* WAL size the writer last reported */
    bool ckpt_busy;         /* the checkpointer is copying */
    bool writer_ckpt;       /* the writer is: the checkpointer waits */
    bool ckpt_running, stopping;
    sqlite3_stmt *st[ST_COUNT];
    sqlite3_stmt *get_text, *find_key, *search;
    sqlite3_stmt *get_eid[3];        /* interaction, feedback, orders */
    struct batch b[B_COUNT];
    struct arena strs;               /* waiting customers' strings */
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

/* step_done for the statements that bind every parameter on each use:
 * clearing the bindings would cost about a fifth of a row's insert. */
static int step_row(struct sq *q, sqlite3_stmt *st, struct cxm_err *err,
                    const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
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

static int flush_rows(struct sq *q, struct cxm_err *err);

static int sq_commit(struct store *s, int64_t last_seq, struct cxm_err *err)
{
    struct sq *q = Q(s);
    int rc = flush_rows(q, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(q->st[ST_META_SEQ], 1, last_seq);
    rc = step_done(q, q->st[ST_META_SEQ], err, "meta");
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
    for (int k = 0; k < B_COUNT; k++)   /* rows not inserted yet go with the rest */
        q->b[k].n = 0;
    arena_free(&q->strs);
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

static void bind_customer(sqlite3_stmt *st, int b, const struct store_customer *c)
{
    sqlite3_bind_int64(st, b + 1, c->id);
    sqlite3_bind_int64(st, b + 2, c->seq);
    sqlite3_bind_int64(st, b + 3, c->created_ts);
    sqlite3_bind_int64(st, b + 4, c->updated_seq);
    bind_text(st, b + 5, c->name);
    if (c->birth_year)
        sqlite3_bind_int(st, b + 6, c->birth_year);
    else
        sqlite3_bind_null(st, b + 6);
    bind_text(st, b + 7, c->gender);
    bind_text(st, b + 8, c->country);
    bind_text(st, b + 9, c->city);
    bind_text(st, b + 10, c->language);
    bind_tri(st, b + 11, c->consent_marketing);
    bind_tri(st, b + 12, c->consent_surveys);
    bind_tri(st, b + 13, c->consent_personalisation);
    bind_text(st, b + 14, c->attributes);
}

static void bind_identity(sqlite3_stmt *st, int b, const struct store_identity *i)
{
    bind_text(st, b + 1, i->kind);
    bind_text(st, b + 2, i->value);
    sqlite3_bind_int64(st, b + 3, i->customer);
    sqlite3_bind_int64(st, b + 4, i->seq);
}

static int put_row(struct sq *q, int kind, const void *row, struct cxm_err *err);

static int sq_put_customer(struct store *s, const struct store_customer *c,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    struct store_customer copy = *c;
    /* gender, country, city and language are the model's dictionary
     * strings, which never change; the name and attributes may */
    if ((c->name && !(copy.name = arena_strndup(&q->strs, c->name, strlen(c->name)))) ||
        (c->attributes &&
         !(copy.attributes = arena_strndup(&q->strs, c->attributes, strlen(c->attributes)))))
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    return put_row(q, B_CUSTOMER, &copy, err);
}

static int sq_put_identity(struct store *s, const struct store_identity *i,
                           struct cxm_err *err)
{
    return put_row(Q(s), B_IDENTITY, i, err);
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

static void bind_interaction(sqlite3_stmt *st, int b, const struct store_interaction *r)
{
    sqlite3_bind_int64(st, b + 1, r->seq);
    sqlite3_bind_int64(st, b + 2, r->ts);
    sqlite3_bind_int64(st, b + 3, r->customer);
    bind_code(st, b + 4, r->channel);
    bind_code(st, b + 5, r->touchpoint);
    bind_code(st, b + 6, r->stage);
    bind_code(st, b + 7, r->kind);
    bind_code(st, b + 8, r->agent);
    bind_code(st, b + 9, r->outcome);
    if (r->duration >= 0)
        sqlite3_bind_int64(st, b + 10, r->duration);
    else
        sqlite3_bind_null(st, b + 10);
    bind_real(st, b + 11, r->value);
    bind_text(st, b + 12, r->event_id);
    sqlite3_bind_int(st, b + 13, r->text != NULL);
    bind_scores(st, b + 14, r->text ? r->sc : NULL);
}

static void bind_feedback(sqlite3_stmt *st, int b, const struct store_feedback *r)
{
    sqlite3_bind_int64(st, b + 1, r->seq);
    sqlite3_bind_int64(st, b + 2, r->ts);
    sqlite3_bind_int64(st, b + 3, r->customer);
    sqlite3_bind_int(st, b + 4, r->kind);
    bind_real(st, b + 5, r->score);
    bind_code(st, b + 6, r->survey);
    bind_code(st, b + 7, r->channel);
    bind_code(st, b + 8, r->touchpoint);
    bind_code(st, b + 9, r->stage);
    bind_code(st, b + 10, r->agent);
    bind_text(st, b + 11, r->event_id);
    sqlite3_bind_int(st, b + 12, r->comment != NULL);
    bind_scores(st, b + 13, r->comment ? r->sc : NULL);
}

/* Binders of a waiting row of each kind, as the batch table calls them. */
static void bind_i(sqlite3_stmt *st, int b, const void *r) { bind_interaction(st, b, r); }
static void bind_f(sqlite3_stmt *st, int b, const void *r) { bind_feedback(st, b, r); }
static void bind_c(sqlite3_stmt *st, int b, const void *r) { bind_customer(st, b, r); }
static void bind_d(sqlite3_stmt *st, int b, const void *r) { bind_identity(st, b, r); }

/* The single-row statement and binding of each kind of batch; a row's
 * parameters are as many as the single-row statement has. */
static const struct {
    int single;
    void (*bind)(sqlite3_stmt *st, int b, const void *row);
    size_t size;
    const char *what;
} kinds[B_COUNT] = {
    [B_INTERACTION] = {ST_INTERACTION, bind_i, sizeof(struct store_interaction),
                       "interaction"},
    [B_FEEDBACK] = {ST_FEEDBACK, bind_f, sizeof(struct store_feedback), "feedback"},
    [B_CUSTOMER] = {ST_CUSTOMER, bind_c, sizeof(struct store_customer), "customer"},
    [B_IDENTITY] = {ST_IDENTITY, bind_d, sizeof(struct store_identity), "identity"},
};

static const void *batch_row(const struct batch *b, int kind, size_t k)
{
    return (const char *)&b->rows + k * kinds[kind].size;
}

/* Inserts the waiting rows: a full batch with the many-row statement, a
 * remainder row by row. Rows of one kind keep their order (a customer
 * written twice in a transaction ends as the second); across kinds the
 * order does not matter, as nothing reads these tables before the commit
 * but a flushing scan. */
static int flush_rows(struct sq *q, struct cxm_err *err)
{
    int rc = CXM_OK;
    for (int kind = 0; kind < B_COUNT; kind++) {
        struct batch *b = &q->b[kind];
        sqlite3_stmt *st = q->st[kinds[kind].single];
        if (!rc && b->n == ROWS_AT_ONCE) {
            int cols = sqlite3_bind_parameter_count(st);
            for (size_t k = 0; k < b->n; k++)
                kinds[kind].bind(b->many, (int)k * cols, batch_row(b, kind, k));
            rc = step_row(q, b->many, err, kinds[kind].what);
        } else {
            for (size_t k = 0; !rc && k < b->n; k++) {
                kinds[kind].bind(st, 0, batch_row(b, kind, k));
                rc = step_row(q, st, err, kinds[kind].what);
            }
        }
        b->n = 0;
    }
    arena_free(&q->strs);
    return rc;
}

static int put_row(struct sq *q, int kind, const void *row, struct cxm_err *err)
{
    struct batch *b = &q->b[kind];
    memcpy((char *)&b->rows + b->n * kinds[kind].size, row, kinds[kind].size);
    return ++b->n == ROWS_AT_ONCE ? flush_rows(q, err) : CXM_OK;
}

static int sq_put_interaction(struct store *s, const struct store_interaction *r,
                              struct cxm_err *err)
{
    struct sq *q = Q(s);
    int rc = put_text(q, r->seq, r->text, err);
    return rc ? rc : put_row(q, B_INTERACTION, r, err);
}

static int sq_put_feedback(struct store *s, const struct store_feedback *r,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    int rc = put_text(q, r->seq, r->comment, err);
    return rc ? rc : put_row(q, B_FEEDBACK, r, err);
}

/* The many-row statements: stmt_sql's single-row INSERT with its VALUES
 * group repeated. */
static int prepare_many(struct sq *q, int single, sqlite3_stmt **out, struct cxm_err *err)
{
    const char *sql = stmt_sql[single];
    const char *v = strstr(sql, " VALUES(");
    if (!v)
        return cxm_err_set(err, CXM_EINVAL, "no VALUES in %s", sql);
    v += 7;   /* the group: "(?,...)" */
    size_t head = (size_t)(v - sql), grp = strlen(v);
    char *buf = cxm_malloc(head + ROWS_AT_ONCE * (grp + 1) + 1);
    if (!buf)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    memcpy(buf, sql, head);
    size_t n = head;
    for (int k = 0; k < ROWS_AT_ONCE; k++) {
        if (k)
            buf[n++] = ',';
        memcpy(buf + n, v, grp);
        n += grp;
    }
    buf[n] = '\0';
    int rc = sqlite3_prepare_v3(q->db, buf, (int)n + 1, SQLITE_PREPARE_PERSISTENT, out,
                                NULL) != SQLITE_OK ? sq_fail(q->db, err, "prepare") : CXM_OK;
    free(buf);
    return rc;
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
    int rc = flush_rows(q, err);
    if (rc)
        return rc;
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

/* ---- closed loop --------------------------------------------------------- */

static int sq_put_case(struct store *s, const struct store_case *c, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_CASE];
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_int64(st, 2, c->seq);
    sqlite3_bind_int64(st, 3, c->customer);
    sqlite3_bind_int64(st, 4, c->source_seq);
    bind_text(st, 5, c->reason);
    bind_text(st, 6, c->rule);
    bind_text(st, 7, c->priority);
    bind_text(st, 8, c->status);
    bind_text(st, 9, c->team);
    bind_text(st, 10, c->assignee);
    bind_text(st, 11, c->subject);
    bind_text(st, 12, c->resolution);
    const int64_t t[] = {c->opened_ts, c->updated_ts, c->response_due, c->resolve_due,
                         c->responded_ts, c->resolved_ts, c->closed_ts};
    for (int i = 0; i < 7; i++)
        sqlite3_bind_int64(st, 13 + i, t[i]);
    sqlite3_bind_int(st, 20, c->reopened);
    sqlite3_bind_int(st, 21, c->breached);
    return step_done(q, st, err, "case");
}

static int sq_put_case_event(struct store *s, const struct store_case_event *ev,
                             struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_CASE_EVENT];
    sqlite3_bind_int64(st, 1, ev->seq);
    sqlite3_bind_int64(st, 2, ev->case_id);
    sqlite3_bind_int64(st, 3, ev->ts);
    bind_text(st, 4, ev->kind);
    bind_text(st, 5, ev->actor);
    bind_text(st, 6, ev->body);
    sqlite3_bind_int64(st, 7, ev->link_seq);
    return step_done(q, st, err, "case event");
}

static int sq_put_webhook(struct store *s, const struct store_webhook *w, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_WEBHOOK];
    bind_text(st, 1, w->id);
    sqlite3_bind_int64(st, 2, w->seq);
    bind_text(st, 3, w->url);
    bind_text(st, 4, w->secret);
    bind_text(st, 5, w->events);
    bind_text(st, 6, w->description ? w->description : "");
    sqlite3_bind_int(st, 7, w->enabled);
    sqlite3_bind_int64(st, 8, w->created_ts);
    return step_done(q, st, err, "webhook");
}

static int sq_delete_webhook(struct store *s, const char *id, struct cxm_err *err)
{
    struct sq *q = Q(s);
    static const char *const sql[] = {"DELETE FROM webhook WHERE id = ?",
                                      "DELETE FROM delivery WHERE webhook = ?",
                                      "DELETE FROM attempt WHERE webhook = ?"};
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(q->db, sql[i], -1, &st, NULL) != SQLITE_OK)
            return sq_fail(q->db, err, "webhook");
        bind_text(st, 1, id);
        int src = sqlite3_step(st);
        sqlite3_finalize(st);
        if (src != SQLITE_DONE)
            return sq_fail(q->db, err, "webhook");
        if (i == 0 && sqlite3_changes(q->db) == 0)
            return cxm_err_set(err, CXM_ENOTFOUND, "no webhook \"%s\"", id);
    }
    return CXM_OK;
}

static int sq_put_outbox(struct store *s, const struct store_outbox *o, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_OUTBOX];
    sqlite3_bind_int64(st, 1, o->id);
    sqlite3_bind_int64(st, 2, o->ts);
    bind_text(st, 3, o->type);
    sqlite3_bind_int64(st, 4, o->customer);
    bind_text(st, 5, o->payload);
    return step_done(q, st, err, "outbox");
}

static int sq_put_delivery(struct store *s, const struct store_delivery *d,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_DELIVERY];
    bind_text(st, 1, d->webhook);
    sqlite3_bind_int64(st, 2, d->outbox);
    bind_text(st, 3, d->status);
    sqlite3_bind_int64(st, 4, d->attempts);
    sqlite3_bind_int64(st, 5, d->next_ts);
    sqlite3_bind_int(st, 6, d->last_code);
    bind_text(st, 7, d->error);
    sqlite3_bind_int64(st, 8, d->updated_ts);
    return step_done(q, st, err, "delivery");
}

static int sq_put_attempt(struct store *s, const struct store_attempt *a, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_ATTEMPT];
    bind_text(st, 1, a->webhook);
    sqlite3_bind_int64(st, 2, a->outbox);
    sqlite3_bind_int(st, 3, a->n);
    sqlite3_bind_int64(st, 4, a->ts);
    sqlite3_bind_int(st, 5, a->code);
    sqlite3_bind_int64(st, 6, a->ms);
    bind_text(st, 7, a->error);
    return step_done(q, st, err, "attempt");
}

static int sq_max_outbox(struct store *s, int64_t *out, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    *out = 0;
    int rc = scan_query(q, "SELECT max(id) FROM outbox", &st, err);
    if (rc)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return CXM_OK;
}

static void col_outbox(sqlite3_stmt *st, int i, struct store_outbox *o)
{
    *o = (struct store_outbox){.id = sqlite3_column_int64(st, i),
                               .ts = sqlite3_column_int64(st, i + 1),
                               .type = col_text(st, i + 2),
                               .customer = sqlite3_column_int64(st, i + 3),
                               .payload = col_text(st, i + 4)};
}

static int sq_scan_outbox(struct store *s, int64_t from, int64_t to,
                          int (*fn)(void *ctx, const struct store_outbox *o), void *ctx,
                          struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    int rc = scan_query(q, "SELECT id, ts, type, customer, payload FROM outbox"
                        " WHERE id >= ? AND id <= ? ORDER BY id", &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    int src;
    while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_outbox o;
        col_outbox(st, 0, &o);
        rc = fn(ctx, &o);
    }
    if (!rc && src != SQLITE_DONE)
        rc = sq_fail(q->db, err, "outbox");
    sqlite3_finalize(st);
    return rc;
}

/* The columns of a delivery row followed by its event's, from i. */
#define DELIVERY_COLS "d.webhook, d.outbox, d.status, d.attempts, d.next_ts, d.last_code," \
    " d.error, d.updated_ts, o.id, o.ts, o.type, o.customer, o.payload"

static void col_delivery(sqlite3_stmt *st, struct store_delivery *d)
{
    *d = (struct store_delivery){
        .webhook = col_text(st, 0), .outbox = sqlite3_column_int64(st, 1),
        .status = col_text(st, 2), .attempts = sqlite3_column_int64(st, 3),
        .next_ts = sqlite3_column_int64(st, 4), .last_code = sqlite3_column_int(st, 5),
        .error = col_text(st, 6), .updated_ts = sqlite3_column_int64(st, 7)};
    col_outbox(st, 8, &d->ev);
}

static int row_pending(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_delivery d;
    col_delivery(st, &d);
    return cb->pending(cb->ctx, &d);
}

static int row_case(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_case c = {
        .id = sqlite3_column_int64(st, 0), .seq = sqlite3_column_int64(st, 1),
        .customer = sqlite3_column_int64(st, 2), .source_seq = sqlite3_column_int64(st, 3),
        .reason = col_text(st, 4), .rule = col_text(st, 5), .priority = col_text(st, 6),
        .status = col_text(st, 7), .team = col_text(st, 8), .assignee = col_text(st, 9),
        .subject = col_text(st, 10), .resolution = col_text(st, 11),
        .opened_ts = sqlite3_column_int64(st, 12), .updated_ts = sqlite3_column_int64(st, 13),
        .response_due = sqlite3_column_int64(st, 14),
        .resolve_due = sqlite3_column_int64(st, 15),
        .responded_ts = sqlite3_column_int64(st, 16),
        .resolved_ts = sqlite3_column_int64(st, 17), .closed_ts = sqlite3_column_int64(st, 18),
        .reopened = sqlite3_column_int(st, 19), .breached = sqlite3_column_int(st, 20)};
    return cb->kase(cb->ctx, &c);
}

static int row_case_event(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_case_event ev = {
        .seq = sqlite3_column_int64(st, 0), .case_id = sqlite3_column_int64(st, 1),
        .ts = sqlite3_column_int64(st, 2), .kind = col_text(st, 3), .actor = col_text(st, 4),
        .body = col_text(st, 5), .link_seq = sqlite3_column_int64(st, 6)};
    return cb->case_event(cb->ctx, &ev);
}

static int row_webhook(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_webhook w = {
        .id = col_text(st, 0), .seq = sqlite3_column_int64(st, 1), .url = col_text(st, 2),
        .secret = col_text(st, 3), .events = col_text(st, 4), .description = col_text(st, 5),
        .enabled = sqlite3_column_int(st, 6) != 0, .created_ts = sqlite3_column_int64(st, 7)};
    return cb->webhook(cb->ctx, &w);
}

static int sq_put_survey(struct store *s, const struct store_survey *sv, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_SURVEY];
    bind_text(st, 1, sv->id);
    sqlite3_bind_int64(st, 2, sv->seq);
    bind_text(st, 3, sv->doc);
    sqlite3_bind_int64(st, 4, sv->created_ts);
    sqlite3_bind_int64(st, 5, sv->updated_ts);
    return step_done(q, st, err, "survey");
}

static int sq_put_invitation(struct store *s, const struct store_invitation *iv,
                             struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_INVITATION];
    sqlite3_bind_int64(st, 1, iv->id);
    sqlite3_bind_int64(st, 2, iv->seq);
    bind_text(st, 3, iv->survey);
    sqlite3_bind_int64(st, 4, iv->customer);
    bind_text(st, 5, iv->channel);
    bind_text(st, 6, iv->status);
    bind_text(st, 7, iv->reason);
    bind_text(st, 8, iv->trigger);
    bind_text(st, 9, iv->context);
    const int64_t t[] = {iv->created_ts, iv->expires_ts, iv->answered_ts, iv->completed_ts,
                         iv->reminded_ts};
    for (int i = 0; i < 5; i++)
        sqlite3_bind_int64(st, 10 + i, t[i]);
    return step_done(q, st, err, "invitation");
}

static int sq_put_survey_answer(struct store *s, const struct store_survey_answer *a,
                                struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st = q->st[ST_SURVEY_ANSWER];
    sqlite3_bind_int64(st, 1, a->invitation);
    bind_text(st, 2, a->question);
    sqlite3_bind_int64(st, 3, a->ts);
    bind_text(st, 4, a->value);
    sqlite3_bind_int64(st, 5, a->feedback_seq);
    return step_done(q, st, err, "survey answer");
}

static int sq_put_schedule(struct store *s, const struct store_schedule *sc, bool *dup,
                           struct cxm_err *err)
{
    struct sq *q = Q(s);
    *dup = false;
    if (sc->source) {            /* a new one */
        sqlite3_stmt *st = q->st[ST_SCHEDULE_NEW];
        sqlite3_bind_int64(st, 1, sc->id);
        bind_text(st, 2, sc->survey);
        sqlite3_bind_int64(st, 3, sc->customer);
        bind_text(st, 4, sc->source);
        sqlite3_bind_int64(st, 5, sc->due_ts);
        bind_text(st, 6, sc->status);
        bind_text(st, 7, sc->context);
        int rc = step_done(q, st, err, "schedule");
        *dup = !rc && sqlite3_changes(q->db) == 0;
        return rc;
    }
    sqlite3_stmt *st = q->st[ST_SCHEDULE_SET];   /* its status only */
    sqlite3_bind_int64(st, 1, sc->id);
    bind_text(st, 2, sc->status);
    return step_done(q, st, err, "schedule");
}

static int row_survey(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_survey sv = {.id = col_text(st, 0), .seq = sqlite3_column_int64(st, 1),
                              .doc = col_text(st, 2), .created_ts = sqlite3_column_int64(st, 3),
                              .updated_ts = sqlite3_column_int64(st, 4)};
    return cb->survey(cb->ctx, &sv);
}

static int row_invitation(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_invitation iv = {
        .id = sqlite3_column_int64(st, 0), .seq = sqlite3_column_int64(st, 1),
        .survey = col_text(st, 2), .customer = sqlite3_column_int64(st, 3),
        .channel = col_text(st, 4), .status = col_text(st, 5), .reason = col_text(st, 6),
        .trigger = col_text(st, 7), .context = col_text(st, 8),
        .created_ts = sqlite3_column_int64(st, 9), .expires_ts = sqlite3_column_int64(st, 10),
        .answered_ts = sqlite3_column_int64(st, 11),
        .completed_ts = sqlite3_column_int64(st, 12),
        .reminded_ts = sqlite3_column_int64(st, 13)};
    return cb->invitation(cb->ctx, &iv);
}

static int row_survey_answer(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_survey_answer a = {
        .invitation = sqlite3_column_int64(st, 0), .question = col_text(st, 1),
        .ts = sqlite3_column_int64(st, 2), .value = col_text(st, 3),
        .feedback_seq = sqlite3_column_int64(st, 4)};
    return cb->survey_answer(cb->ctx, &a);
}

static int row_schedule(sqlite3_stmt *st, const struct store_scan *cb)
{
    struct store_schedule s = {
        .id = sqlite3_column_int64(st, 0), .survey = col_text(st, 1),
        .customer = sqlite3_column_int64(st, 2), .source = col_text(st, 3),
        .due_ts = sqlite3_column_int64(st, 4), .status = col_text(st, 5),
        .context = col_text(st, 6)};
    return cb->schedule(cb->ctx, &s);
}

static int sq_scan_deliveries(struct store *s, const char *webhook, int64_t before,
                              const char *status, size_t limit,
                              int (*fn)(void *ctx, const struct store_delivery *d), void *ctx,
                              struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    pthread_mutex_lock(&q->rlock);
    int rc = CXM_OK;
    if (sqlite3_prepare_v2(q->rdb, "SELECT " DELIVERY_COLS " FROM delivery d JOIN outbox o"
                           " ON o.id = d.outbox WHERE d.webhook = ?1 AND (?2 = 0 OR"
                           " d.outbox < ?2) AND (?3 = '' OR d.status = ?3)"
                           " ORDER BY d.outbox DESC LIMIT ?4", -1, &st, NULL) != SQLITE_OK) {
        rc = sq_fail(q->rdb, err, "deliveries");
        pthread_mutex_unlock(&q->rlock);
        return rc;
    }
    bind_text(st, 1, webhook);
    sqlite3_bind_int64(st, 2, before);
    bind_text(st, 3, status ? status : "");
    sqlite3_bind_int64(st, 4, (int64_t)limit);
    int src;
    while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_delivery d;
        col_delivery(st, &d);
        rc = fn(ctx, &d);
    }
    if (!rc && src != SQLITE_DONE)
        rc = sq_fail(q->rdb, err, "deliveries");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->rlock);
    return rc;
}

static int sq_scan_attempts(struct store *s, const char *webhook, int64_t outbox,
                            int (*fn)(void *ctx, const struct store_attempt *a), void *ctx,
                            struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    pthread_mutex_lock(&q->rlock);
    int rc = CXM_OK;
    if (sqlite3_prepare_v2(q->rdb, "SELECT n, ts, code, ms, error FROM attempt"
                           " WHERE webhook = ? AND outbox = ? ORDER BY n", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = sq_fail(q->rdb, err, "attempts");
        pthread_mutex_unlock(&q->rlock);
        return rc;
    }
    bind_text(st, 1, webhook);
    sqlite3_bind_int64(st, 2, outbox);
    int src;
    while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_attempt a = {
            .webhook = webhook, .outbox = outbox, .n = sqlite3_column_int(st, 0),
            .ts = sqlite3_column_int64(st, 1), .code = sqlite3_column_int(st, 2),
            .ms = sqlite3_column_int64(st, 3), .error = col_text(st, 4)};
        rc = fn(ctx, &a);
    }
    if (!rc && src != SQLITE_DONE)
        rc = sq_fail(q->rdb, err, "attempts");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->rlock);
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
        {"SELECT id, seq, customer, source_seq, reason, rule, priority, status, team,"
         " assignee, subject, resolution, opened_ts, updated_ts, response_due,"
         " resolve_due, responded_ts, resolved_ts, closed_ts, reopened, breached"
         " FROM cases ORDER BY id", row_case, offsetof(struct store_scan, kase)},
        {"SELECT seq, case_id, ts, kind, actor, body, link_seq FROM case_event"
         " ORDER BY seq", row_case_event, offsetof(struct store_scan, case_event)},
        {"SELECT id, seq, url, secret, events, description, enabled, created_ts"
         " FROM webhook ORDER BY id", row_webhook, offsetof(struct store_scan, webhook)},
        {"SELECT " DELIVERY_COLS " FROM delivery d JOIN outbox o ON o.id = d.outbox"
         " WHERE d.status = 'pending' ORDER BY d.outbox, d.webhook", row_pending,
         offsetof(struct store_scan, pending)},
        {"SELECT id, seq, doc, created_ts, updated_ts FROM survey ORDER BY id", row_survey,
         offsetof(struct store_scan, survey)},
        {"SELECT id, seq, survey, customer, channel, status, reason, trigger, context,"
         " created_ts, expires_ts, answered_ts, completed_ts, reminded_ts FROM invitation"
         " ORDER BY id", row_invitation, offsetof(struct store_scan, invitation)},
        {"SELECT invitation, question, ts, value, feedback_seq FROM survey_answer"
         " ORDER BY ts, invitation", row_survey_answer,
         offsetof(struct store_scan, survey_answer)},
        {"SELECT id, survey, customer, source, due_ts, status, context FROM survey_schedule"
         " ORDER BY id", row_schedule,
         offsetof(struct store_scan, schedule)},
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
    int frc = flush_rows(q, err);
    if (frc)
        return frc;
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
    if (sqlite3_prepare_v2(q->db, "INSERT INTO api_key(hash, role, name, created, hint)"
                           " VALUES(?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(q->db, err, "api key");
    bind_text(st, 1, k->hash);
    bind_text(st, 2, k->role);
    bind_text(st, 3, k->name);
    sqlite3_bind_int64(st, 4, k->created);
    bind_text(st, 5, k->hint);
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

static int sq_scan_keys(struct store *s, int (*fn)(void *ctx, const struct store_key *k),
                        void *ctx, struct cxm_err *err)
{
    struct sq *q = Q(s);
    sqlite3_stmt *st;
    int rc = CXM_OK, src = SQLITE_DONE;
    pthread_mutex_lock(&q->rlock);
    if (sqlite3_prepare_v2(q->rdb, "SELECT hash, role, name, created, hint FROM api_key"
                           " ORDER BY created, role, hash", -1, &st, NULL) != SQLITE_OK) {
        rc = sq_fail(q->rdb, err, "api keys");
        pthread_mutex_unlock(&q->rlock);
        return rc;
    }
    while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_key k = {.hash = col_text(st, 0), .role = col_text(st, 1),
                              .name = col_text(st, 2), .created = sqlite3_column_int64(st, 3),
                              .hint = col_text(st, 4)};
        rc = fn(ctx, &k);
    }
    if (!rc && src != SQLITE_DONE)
        rc = sq_fail(q->rdb, err, "api keys");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->rlock);
    return rc;
}

/* In one write transaction: the key whose hash starts with id, unless it
 * is the last admin key. */
static int sq_delete_key(struct store *s, const char *id, char hash[65], struct cxm_err *err)
{
    struct sq *q = Q(s);
    int rc = exec(q->db, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    char role[16] = "";
    int n = 0;
    if (sqlite3_prepare_v2(q->db, "SELECT hash, role FROM api_key WHERE substr(hash, 1, 16) = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq_fail(q->db, err, "api key");
    } else {
        bind_text(st, 1, id);
        int src;
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            if (!n++) {
                cxm_strlcpy(hash, col_text(st, 0), 65);
                cxm_strlcpy(role, col_text(st, 1), sizeof role);
            }
        }
        if (src != SQLITE_DONE)
            rc = sq_fail(q->db, err, "api key");
        sqlite3_finalize(st);
    }
    if (!rc && n == 0)
        rc = cxm_err_field(err, CXM_ENOTFOUND, -1, "id", "no API key %s", id);
    if (!rc && n > 1)
        rc = cxm_err_field(err, CXM_EINVAL, -1, "id", "%s names more than one key", id);
    if (!rc && !strcmp(role, "admin")) {
        int64_t admins = 0;
        if (sqlite3_prepare_v2(q->db, "SELECT count(*) FROM api_key WHERE role = 'admin'", -1,
                               &st, NULL) != SQLITE_OK) {
            rc = sq_fail(q->db, err, "api key");
        } else {
            if (sqlite3_step(st) == SQLITE_ROW)
                admins = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        if (!rc && admins <= 1)
            rc = cxm_err_field(err, CXM_ECONFLICT, -1, "id",
                               "%s is the last admin key: create another admin key first", id);
    }
    if (!rc) {
        if (sqlite3_prepare_v2(q->db, "DELETE FROM api_key WHERE hash = ?", -1, &st, NULL) !=
            SQLITE_OK) {
            rc = sq_fail(q->db, err, "api key");
        } else {
            bind_text(st, 1, hash);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = sq_fail(q->db, err, "api key");
            sqlite3_finalize(st);
        }
    }
    if (!rc)
        return exec(q->db, "COMMIT", err);
    struct cxm_err ignore;
    exec(q->db, "ROLLBACK", &ignore);
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

/* ---- checkpoints --------------------------------------------------------- */

/* Runs in the writer after each commit, with the WAL's size in pages. */
static int wal_hook(void *ctx, sqlite3 *db, const char *name, int pages)
{
    struct sq *q = ctx;
    if (pages >= CKPT_RESTART_PAGES) {
        /* Wait for the checkpointer's copy (which never waits for locks),
         * then copy the rest: the next transaction starts the WAL over.
         * PASSIVE, not RESTART: a reader holding an old snapshot (a long
         * backup) must not stall every commit for the busy timeout; the
         * WAL then grows until it lets go, as with SQLite's own
         * checkpoints. */
        pthread_mutex_lock(&q->cmu);
        q->writer_ckpt = true;
        while (q->ckpt_busy)
            pthread_cond_wait(&q->cdone, &q->cmu);
        pthread_mutex_unlock(&q->cmu);
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&q->cmu);
        q->writer_ckpt = false;
        q->wal_pages = 0;
        pthread_mutex_unlock(&q->cmu);
    } else if (pages >= CKPT_PAGES) {
        pthread_mutex_lock(&q->cmu);
        q->wal_pages = pages;
        pthread_cond_signal(&q->ccv);
        pthread_mutex_unlock(&q->cmu);
    }
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    struct sq *q = arg;
    pthread_setname_np(pthread_self(), "cxm-checkpoint");
    pthread_mutex_lock(&q->cmu);
    for (;;) {
        while (!q->stopping && (q->wal_pages < CKPT_PAGES || q->writer_ckpt))
            pthread_cond_wait(&q->ccv, &q->cmu);
        if (q->stopping)
            break;
        q->wal_pages = 0;
        q->ckpt_busy = true;
        pthread_mutex_unlock(&q->cmu);
        /* PASSIVE copies what no reader still needs and never waits: a
         * busy or partial checkpoint is finished by the next one. */
        sqlite3_wal_checkpoint_v2(q->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&q->cmu);
        q->ckpt_busy = false;
        pthread_cond_broadcast(&q->cdone);
    }
    pthread_mutex_unlock(&q->cmu);
    return NULL;
}

/* Takes checkpoints off the writer: its automatic checkpoint is turned
 * off and a connection of our own does them on its thread. */
static int start_checkpointer(struct sq *q, const char *path, enum store_sync sync,
                              struct cxm_err *err)
{
    int rc = open_db(path, SQLITE_OPEN_READWRITE, &q->cdb, err);
    if (!rc)
        rc = configure(q->cdb, sync, err);
    if (rc)
        return rc;
    if (pthread_create(&q->ckpt, NULL, ckpt_main, q))
        return cxm_err_set(err, CXM_ENOMEM, "cannot start the checkpoint thread");
    q->ckpt_running = true;
    sqlite3_wal_hook(q->db, wal_hook, q);   /* replaces the automatic checkpoint */
    return CXM_OK;
}

static void stop_checkpointer(struct sq *q)
{
    if (q->ckpt_running) {
        sqlite3_wal_hook(q->db, NULL, NULL);
        pthread_mutex_lock(&q->cmu);
        q->stopping = true;
        pthread_cond_signal(&q->ccv);
        pthread_mutex_unlock(&q->cmu);
        pthread_join(q->ckpt, NULL);
        q->ckpt_running = false;
    }
    sqlite3_close(q->cdb);
    q->cdb = NULL;
}

static void sq_close(struct store *s)
{
    struct sq *q = Q(s);
    stop_checkpointer(q);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    sqlite3_finalize(q->get_text);
    sqlite3_finalize(q->search);
    sqlite3_finalize(q->find_key);
    for (int i = 0; i < 3; i++)
        sqlite3_finalize(q->get_eid[i]);
    for (int k = 0; k < B_COUNT; k++)
        sqlite3_finalize(q->b[k].many);
    arena_free(&q->strs);
    sqlite3_close(q->rdb);
    sqlite3_close(q->db);   /* the last connection: checkpoints, removes the WAL */
    pthread_mutex_destroy(&q->rlock);
    pthread_mutex_destroy(&q->cmu);
    pthread_cond_destroy(&q->ccv);
    pthread_cond_destroy(&q->cdone);
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
    .put_case = sq_put_case,
    .put_case_event = sq_put_case_event,
    .put_webhook = sq_put_webhook,
    .delete_webhook = sq_delete_webhook,
    .put_outbox = sq_put_outbox,
    .put_delivery = sq_put_delivery,
    .put_attempt = sq_put_attempt,
    .max_outbox = sq_max_outbox,
    .scan_outbox = sq_scan_outbox,
    .scan_deliveries = sq_scan_deliveries,
    .scan_attempts = sq_scan_attempts,
    .put_survey = sq_put_survey,
    .put_invitation = sq_put_invitation,
    .put_survey_answer = sq_put_survey_answer,
    .put_schedule = sq_put_schedule,
    .scan = sq_scan,
    .get_text = sq_get_text,
    .get_event_id = sq_get_event_id,
    .put_key = sq_put_key,
    .find_key = sq_find_key,
    .count_keys = sq_count_keys,
    .scan_keys = sq_scan_keys,
    .delete_key = sq_delete_key,
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
    pthread_mutex_init(&q->cmu, NULL);
    pthread_cond_init(&q->ccv, NULL);
    pthread_cond_init(&q->cdone, NULL);
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
    if (!rc && !o->readonly)
        rc = start_checkpointer(q, path, o->sync, err);
    if (!rc)
        rc = open_db(path, SQLITE_OPEN_READONLY, &q->rdb, err);
    if (!rc)
        sqlite3_busy_timeout(q->rdb, 10000);
    for (int i = 0; !rc && !o->readonly && i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(q->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &q->st[i], NULL) != SQLITE_OK)
            rc = sq_fail(q->db, err, stmt_sql[i]);
    for (int k = 0; !rc && !o->readonly && k < B_COUNT; k++)
        rc = prepare_many(q, kinds[k].single, &q->b[k].many, err);
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
