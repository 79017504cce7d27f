/* test_cli_import.c - `cxm import` from the outside: runs the real binary
 * (CXM_BIN, default ./cxm) on files in a temp directory and checks its exit
 * status, its messages and, with sqlite3, what reached the database. Uses
 * libc, Criterion and SQLite only. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* One test's scratch directory with its database. */
static char imp_dir[256];
static char imp_db[320];

static const char *imp_bin(void)
{
    const char *b = getenv("CXM_BIN");
    return b && *b ? b : "./cxm";
}

static void imp_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(imp_dir, sizeof imp_dir, "%s/cxm-import-it-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert(n > 0 && (size_t)n < sizeof imp_dir);
    cr_assert_not_null(mkdtemp(imp_dir), "mkdtemp: %s", strerror(errno));
    n = snprintf(imp_db, sizeof imp_db, "%s/t.db", imp_dir);
    cr_assert(n > 0 && (size_t)n < sizeof imp_db);
}

static int imp_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void imp_teardown(void)
{
    if (imp_dir[0])
        nftw(imp_dir, imp_rm, 16, FTW_DEPTH | FTW_PHYS);
    imp_dir[0] = '\0';
}

TestSuite(cli_import, .init = imp_setup, .fini = imp_teardown, .timeout = 60);

/* Path of name in the scratch directory (static buffer rotation of 8). */
static const char *imp_path(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    int n = snprintf(b, sizeof bufs[0], "%s/%s", imp_dir, name);
    cr_assert(n > 0 && (size_t)n < sizeof bufs[0]);
    return b;
}

static const char *imp_write(const char *name, const char *content)
{
    const char *p = imp_path(name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "%s: %s", p, strerror(errno));
    size_t n = strlen(content);
    cr_assert_eq(fwrite(content, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
    return p;
}

/* Reads a whole small file into a static buffer. */
static const char *imp_read(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    if (!f) {
        buf[0] = '\0';
        return buf;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Output of the last run. */
static char imp_out[65536], imp_err[65536];

/* Runs cxm with args (NULL-terminated, after "cxm"), stdin from in_path
 * (NULL: /dev/null). Returns the exit status; -1 when it did not exit. */
static int imp_run(const char *in_path, const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = imp_bin();
    for (; *args; args++) {
        cr_assert(n < 31);
        argv[n++] = *args;
    }
    argv[n] = NULL;
    char out_path[512], err_path[512];
    snprintf(out_path, sizeof out_path, "%s/stdout", imp_dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", imp_dir);
    posix_spawn_file_actions_t fa;
    cr_assert_eq(posix_spawn_file_actions_init(&fa), 0);
    posix_spawn_file_actions_addopen(&fa, 0, in_path ? in_path : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot run %s: %s (set CXM_BIN)", argv[0], strerror(rc));
    int st;
    while (waitpid(pid, &st, 0) < 0)
        cr_assert_eq(errno, EINTR);
    const char *o = imp_read(out_path);
    snprintf(imp_out, sizeof imp_out, "%s", o);
    const char *e = imp_read(err_path);
    snprintf(imp_err, sizeof imp_err, "%s", e);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `cxm import --db DB --kind KIND [extra...] FILE...` */
static int imp_import(const char *kind, const char *const *rest)
{
    const char *args[24] = {"import", "--db", imp_db, "--kind", kind};
    size_t n = 5;
    for (; *rest; rest++) {
        cr_assert(n < 23);
        args[n++] = *rest;
    }
    args[n] = NULL;
    return imp_run(NULL, args);
}

/* One integer from a query on the database. */
static long long imp_q(const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(imp_db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK,
                 "open %s", imp_db);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Text of the first column of the first row, in a static buffer. */
static const char *imp_qs(const char *sql)
{
    static char buf[1024];
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(imp_db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(buf, sizeof buf, "%s", t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Three customers (ids 1..3); the BOM, CRLF ends and quoting are part of
 * the test. */
static const char CUSTOMERS[] =
    "\xEF\xBB\xBF" "event_id,email,name,birth_year,country,city,consent_marketing,attr.tier\r\n"
    "c1,ann@example.com,\"Lee, Ann\",1985,GB,London,yes,gold\r\n"
    "c2,bob@example.com,\"Bob \"\"the builder\"\" Smith\",1979,US,\"New York\",no,\r\n"
    "c3,cat@example.com,Cat Jones,,FR,Paris,,silver\r\n";

static const char FEEDBACK_BAD7[] =
    "event_id,customer_id,survey,kind,score,comment\n"
    "f1,1,relationship,nps,9,\"great, thanks\"\n"
    "f2,2,relationship,nps,7,\n"
    "f3,3,relationship,csat,4,\n"
    "f4,1,relationship,nps,10,\n"
    "f5,2,post-call,ces,3,\n"
    "f6,3,relationship,nps,11,too good\n"
    "f7,1,relationship,text,,\"two\nlines\"\n";

static void load_customers(void)
{
    const char *p = imp_write("customers.csv", CUSTOMERS);
    cr_assert_eq(imp_import("customers", ARGS(p)), 0, "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from customer"), 3);
}

Test(cli_import, help_and_usage_errors)
{
    cr_assert_eq(imp_run(NULL, ARGS("import", "--help")), 0);
    cr_assert(strstr(imp_out, "usage: cxm import"), "%s", imp_out);
    cr_assert(strstr(imp_out, "--skip-bad"), "%s", imp_out);
    const char *p = imp_write("x.csv", "email\na@b.co\n");
    cr_assert_eq(imp_run(NULL, ARGS("import", "--db", imp_db, p)), 2, "no --kind");
    cr_assert(strstr(imp_err, "--kind"), "%s", imp_err);
    cr_assert_eq(imp_run(NULL, ARGS("import", "--db", imp_db, "--kind", "people", p)), 2);
    cr_assert_eq(imp_run(NULL, ARGS("import", "--db", imp_db, "--kind", "customers")), 2,
                 "no FILE");
    cr_assert_eq(imp_run(NULL, ARGS("import", "--db", imp_db, "--kind", "customers",
                                    "--bogus", p)), 2);
    cr_assert_eq(imp_run(NULL, ARGS("import", "--db", imp_db, "--kind", "customers",
                                    "--batch", "0", p)), 2);
    cr_assert_eq(imp_run(NULL, ARGS("import", "--db", imp_db, "--kind", "customers",
                                    "--format", "xml", p)), 2);
}

Test(cli_import, customers_csv_quoting_bom_crlf)
{
    load_customers();
    cr_assert_str_eq(imp_qs("select name from customer where id = 1"), "Lee, Ann");
    cr_assert_str_eq(imp_qs("select name from customer where id = 2"),
                     "Bob \"the builder\" Smith");
    cr_assert_str_eq(imp_qs("select city from customer where id = 2"), "New York");
    cr_assert_eq(imp_q("select consent_marketing from customer where id = 1"), 1);
    cr_assert_eq(imp_q("select consent_marketing from customer where id = 2"), 0);
    cr_assert_str_eq(imp_qs("select attributes from customer where id = 3"),
                     "{\"tier\":\"silver\"}");
    cr_assert_eq(imp_q("select count(*) from identity where kind = 'email'"), 3);
    cr_assert(strstr(imp_err, "3 records stored, 0 duplicates, 0 rejected"), "%s", imp_err);
}

Test(cli_import, bad_row_names_line_and_field_and_stores_nothing)
{
    load_customers();
    const char *p = imp_write("fb.csv", FEEDBACK_BAD7);
    cr_assert_eq(imp_import("feedback", ARGS(p)), 1);
    cr_assert(strstr(imp_err, "fb.csv:7: field score:"), "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from feedback"), 0);
    cr_assert_eq(imp_q("select count(*) from event_id"), 3, "only the customers' ids");
}

Test(cli_import, skip_bad_writes_rejects_and_imports_the_rest)
{
    load_customers();
    const char *p = imp_write("fb.csv", FEEDBACK_BAD7);
    const char *rej = imp_path("rejects.csv");
    cr_assert_eq(imp_import("feedback", ARGS("--skip-bad", rej, p)), 0, "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from feedback"), 6);
    cr_assert(strstr(imp_err, "6 records stored, 0 duplicates, 1 rejected"), "%s", imp_err);
    const char *r = imp_read(rej);
    cr_assert(!strncmp(r, "file,line,field,error,record\r\n", 30), "%s", r);
    cr_assert(strstr(r, ",7,score,"), "%s", r);
    cr_assert(strstr(r, "\"f6,3,relationship,nps,11,too good\""), "%s", r);
    /* the multi-line comment of line 8 went in whole */
    cr_assert_eq(imp_q("select count(*) from text where body = 'two\nlines'"), 1);
}

Test(cli_import, reimport_counts_duplicates)
{
    load_customers();
    const char *p = imp_write("int.csv",
                              "event_id,customer_id,channel,kind,duration,value,ts\n"
                              "i1,1,web,visit,30,1.5,1700000000\n"
                              "i2,2,phone,call,300,,2024-01-02T03:04:05Z\n"
                              "i3,3,store,visit,,,\n");
    cr_assert_eq(imp_import("interactions", ARGS(p)), 0, "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from interaction"), 3);
    cr_assert_eq(imp_import("interactions", ARGS(p)), 0, "%s", imp_err);
    cr_assert(strstr(imp_err, "0 records stored, 3 duplicates, 0 rejected"), "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from interaction"), 3);
    /* customers too */
    const char *c = imp_path("customers.csv");
    cr_assert_eq(imp_import("customers", ARGS(c)), 0, "%s", imp_err);
    cr_assert(strstr(imp_err, "0 records stored, 3 duplicates"), "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from customer"), 3);
}

Test(cli_import, ndjson_from_stdin)
{
    load_customers();
    const char *p = imp_write("in.ndjson",
                              "{\"event_id\":\"n1\",\"customer_id\":1,\"channel\":\"web\"}\n"
                              "\n"
                              "{\"event_id\":\"n2\",\"email\":\"ann@example.com\","
                              "\"channel\":\"app\",\"type\":\"interaction\"}\r\n"
                              "{\"event_id\":\"n3\",\"customer_id\":2,\"channel\":\"web\"}\n");
    int rc = imp_run(p, ARGS("import", "--db", imp_db, "--kind", "interactions", "-"));
    cr_assert_eq(rc, 0, "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from interaction"), 3);
    cr_assert(strstr(imp_err, "stdin: 3 records stored"), "%s", imp_err);
    /* a record of another type on stdin, sniffed as NDJSON */
    p = imp_write("wrong.txt", "{\"type\":\"feedback\",\"customer_id\":1,\"kind\":\"nps\","
                               "\"score\":5}\n");
    rc = imp_run(p, ARGS("import", "--db", imp_db, "--kind", "interactions", "-"));
    cr_assert_eq(rc, 1);
    cr_assert(strstr(imp_err, "stdin:1: field type:"), "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from feedback"), 0);
}

Test(cli_import, csv_from_stdin)
{
    load_customers();
    const char *p = imp_write("in.txt", "customer_id,channel\n1,web\n2,web\n");
    int rc = imp_run(p, ARGS("import", "--db", imp_db, "--kind", "interactions", "-"));
    cr_assert_eq(rc, 0, "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from interaction"), 2);
}

Test(cli_import, orders_rows_grouped_into_items)
{
    load_customers();
    const char *p = imp_write("orders.csv",
                              "order_id,ts,customer_id,amount,currency,channel,sku,category,qty,price\n"
                              "o1,1700000000,1,,EUR,web,A1,shoes,1,50\n"
                              "o1,1700000000,1,,EUR,web,B2,socks,2,5\n"
                              "o2,1700000100,2,99.5,EUR,store,C3,hats,1,99.5\n"
                              "o3,1700000200,3,,EUR,web,D4,bags,1,30\n"
                              "o3,,,,,,E5,belts,1,20\n"
                              "o3,,,,,,F6,belts,3,1\n");
    cr_assert_eq(imp_import("orders", ARGS(p)), 0, "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from orders"), 3);
    cr_assert_eq(imp_q("select count(*) from order_item"), 6);
    cr_assert_str_eq(imp_qs("select amount from orders where order_id = 'o1'"), "60.0");
    cr_assert_str_eq(imp_qs("select amount from orders where order_id = 'o3'"), "53.0");
    /* again: the order ids make them duplicates */
    cr_assert_eq(imp_import("orders", ARGS(p)), 0, "%s", imp_err);
    cr_assert(strstr(imp_err, "0 records stored, 3 duplicates"), "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from orders"), 3);
}

Test(cli_import, order_rows_apart_are_an_error)
{
    load_customers();
    const char *p = imp_write("nc.csv",
                              "order_id,customer_id,sku,qty,price\n"
                              "x1,1,A,1,10\n"
                              "x2,1,B,1,10\n"
                              "x1,1,C,1,10\n");
    cr_assert_eq(imp_import("orders", ARGS(p)), 1);
    cr_assert(strstr(imp_err, "nc.csv:4:"), "%s", imp_err);
    cr_assert(strstr(imp_err, "order x1 continues at line 4 but its rows ended at line 2"),
              "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from orders"), 0);
    /* with --skip-bad the stray row is rejected, the rest stored */
    const char *rej = imp_path("rej.csv");
    cr_assert_eq(imp_import("orders", ARGS("--skip-bad", rej, p)), 0, "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from orders"), 2);
    cr_assert(strstr(imp_read(rej), "nc.csv,4,order_id,"), "%s", imp_read(rej));
}

Test(cli_import, bad_row_rejects_its_whole_order)
{
    load_customers();
    const char *p = imp_write("ob.csv",
                              "order_id,customer_id,currency,sku,qty,price\n"
                              "b1,1,EUR,A,1,10\n"
                              "b1,1,EUR,B,lots,10\n"
                              "b1,1,EUR,C,1,10\n"
                              "b2,2,EUR,A,1,10\n");
    cr_assert_eq(imp_import("orders", ARGS(p)), 1);
    cr_assert(strstr(imp_err, "ob.csv:3: field qty:"), "%s", imp_err);
    const char *rej = imp_path("rej.csv");
    cr_assert_eq(imp_import("orders", ARGS("--skip-bad", rej, p)), 0, "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from orders"), 1);
    cr_assert_eq(imp_q("select count(*) from orders where order_id = 'b2'"), 1);
    const char *r = imp_read(rej);
    cr_assert(strstr(r, "ob.csv,2,qty,"), "%s", r);
    cr_assert(strstr(r, "ob.csv,3,qty,"), "%s", r);
    cr_assert(strstr(r, "ob.csv,4,qty,"), "%s", r);
}

Test(cli_import, unknown_column_is_named_before_any_row)
{
    const char *p = imp_write("u.csv", "email,nmae\na@b.co,Ann\n");
    cr_assert_eq(imp_import("customers", ARGS(p)), 1);
    cr_assert(strstr(imp_err, "u.csv:1: unknown column 'nmae'"), "%s", imp_err);
    cr_assert(strstr(imp_err, "birth_year"), "lists the allowed names: %s", imp_err);
}

Test(cli_import, unknown_customer_id_is_refused)
{
    load_customers();
    const char *p = imp_write("i.csv", "customer_id,channel\n1,web\n4,web\n");
    cr_assert_eq(imp_import("interactions", ARGS(p)), 1);
    cr_assert(strstr(imp_err, "i.csv:3: field customer_id:"), "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from interaction"), 0);
}

Test(cli_import, earlier_files_stay_when_a_later_one_fails)
{
    load_customers();
    const char *good = imp_write("good.csv", "event_id,customer_id,channel\ng1,1,web\n");
    const char *bad = imp_write("bad.csv", "event_id,customer_id,channel\nb1,1,web\nb2,1,\"x\n");
    const char *never = imp_write("never.csv", "event_id,customer_id,channel\nn1,1,web\n");
    cr_assert_eq(imp_import("interactions", ARGS(good, bad, never)), 1);
    cr_assert(strstr(imp_err, "bad.csv:3:"), "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from interaction"), 1);
    cr_assert_eq(imp_q("select count(*) from interaction where event_id = 'g1'"), 1);
}

Test(cli_import, events_file_mixes_types)
{
    load_customers();
    const char *p = imp_write("ev.csv",
                              "type,event_id,customer_id,email,channel,kind,score,order_id,sku,price\n"
                              "customer,e1,,dan@example.com,,,,,,\n"
                              "interaction,e2,1,,web,visit,,,,\n"
                              "feedback,e3,1,,web,nps,8,,,\n"
                              "order,,2,,web,,,eo1,S1,10\n"
                              "order,,2,,web,,,eo1,S2,3\n");
    cr_assert_eq(imp_import("events", ARGS(p)), 0, "%s", imp_err);
    cr_assert_eq(imp_q("select count(*) from customer"), 4);
    cr_assert_eq(imp_q("select count(*) from interaction"), 1);
    cr_assert_eq(imp_q("select count(*) from feedback"), 1);
    cr_assert_eq(imp_q("select count(*) from orders"), 1);
    cr_assert_eq(imp_q("select count(*) from order_item"), 2);
}

Test(cli_import, locked_database_is_refused)
{
    load_customers();
    char lock[400];
    snprintf(lock, sizeof lock, "%s.lock", imp_db);
    int fd = open(lock, O_RDWR | O_CREAT, 0600);
    cr_assert(fd >= 0);
    cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
    const char *p = imp_write("i.csv", "customer_id,channel\n1,web\n");
    cr_assert_eq(imp_import("interactions", ARGS(p)), 1);
    cr_assert(strstr(imp_err, "in use"), "%s", imp_err);
    close(fd);
    cr_assert_eq(imp_q("select count(*) from interaction"), 0);
}
