/* rawsqlite - the storage limit: inserts the same interaction rows that
 * loadgen sends straight into SQLite (WAL, synchronous=FULL, prepared
 * statement, 10,000-row transactions) and reports rows/s. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *const tps[] = {"homepage", "search", "product_page", "cart",
                                  "checkout", "help_center", "live_chat",
                                  "call_center", "order_status", "returns_portal"};
static const char *const stages[] = {"awareness", "consideration", "purchase",
                                     "onboarding", "support", "loyalty"};

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rawsqlite DB ROWS [CUSTOMERS]\n");
        return 2;
    }
    long rows = strtol(argv[2], NULL, 10);
    long customers = argc > 3 ? strtol(argv[3], NULL, 10) : 100000;
    sqlite3 *db;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK)
        return 1;
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS interaction(seq INTEGER PRIMARY KEY,"
                     " ts INTEGER, email TEXT, channel TEXT, touchpoint TEXT, stage TEXT,"
                     " kind TEXT, duration INTEGER, event_id TEXT)", NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO interaction(ts, email, channel, touchpoint,"
                           " stage, kind, duration, event_id) VALUES(?,?,?,?,?,?,?,?)",
                       -1, &st, NULL);
    double t0 = now();
    char email[64], eid[64];
    for (long i = 0; i < rows; i++) {
        if (i % 10000 == 0)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        unsigned long long x = (unsigned long long)i * 1000003ull + 12345;
        x ^= x >> 17;
        x *= 0xed5ad4bbull;
        x ^= x >> 11;
        snprintf(email, sizeof email, "user%llu@example.com", x % (unsigned long long)customers);
        snprintf(eid, sizeof eid, "raw-%ld", i);
        sqlite3_bind_int64(st, 1, 1700000000LL + (long long)(x % 30000000ull));
        sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, "web", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, tps[x % 10], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, stages[(x >> 8) % 6], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, "visit", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 7, (int)((x >> 16) % 600));
        sqlite3_bind_text(st, 8, eid, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "rawsqlite: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(st);
        if (i % 10000 == 9999 || i == rows - 1)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double dt = now() - t0;
    printf("{\"rows\":%ld,\"seconds\":%.3f,\"rows_per_s\":%.0f}\n", rows, dt, (double)rows / dt);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
