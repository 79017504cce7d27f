/* test_import.c - the pure parts of `cxm import`: cell conversion of CSV
 * rows to ingest records, order grouping, header checks, CSV quoting for
 * the rejects file and format detection. No database. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/buf.h"

/* CXM_TESTABLE in src/cli/cmd_import.c */
int import_parse_bool(const char *s);
int import_csv_quote(struct buf *b, const char *s, size_t n);
int import_format_of_name(const char *path);
int import_format_sniff(const char *head, size_t n);
long import_csv_records(const char *kind, const char *csv, char **out, struct cxm_err *err);

enum { FMT_AUTO, FMT_CSV, FMT_NDJSON };

/* Runs the CSV through the importer's reader; expects bad_line (0: all
 * good) and, when want is given, the records as compact sorted JSON. */
static void expect_records(const char *kind, const char *csv, long bad_line, const char *want,
                           struct cxm_err *err)
{
    char *got = NULL;
    cxm_err_clear(err);
    long rc = import_csv_records(kind, csv, &got, err);
    cr_assert_eq(rc, bad_line, "line %ld, want %ld (%s: %s)", rc, bad_line, err->field, err->msg);
    if (want) {
        cr_assert_not_null(got);
        cr_assert_str_eq(got, want);
    }
    free(got);
}

Test(import, parse_bool)
{
    cr_assert_eq(import_parse_bool("true"), 1);
    cr_assert_eq(import_parse_bool("YES"), 1);
    cr_assert_eq(import_parse_bool(" 1 "), 1);
    cr_assert_eq(import_parse_bool("False"), 0);
    cr_assert_eq(import_parse_bool("no"), 0);
    cr_assert_eq(import_parse_bool("0"), 0);
    cr_assert_eq(import_parse_bool("y"), -1);
    cr_assert_eq(import_parse_bool(""), -1);
    cr_assert_eq(import_parse_bool("truest"), -1);
}

Test(import, csv_quote)
{
    struct buf b;
    buf_init(&b, 1024);
    cr_assert_eq(import_csv_quote(&b, "plain", 5), 0);
    cr_assert_eq(import_csv_quote(&b, "a,b", 3), 0);
    cr_assert_eq(import_csv_quote(&b, "say \"hi\"", 8), 0);
    cr_assert_eq(import_csv_quote(&b, "two\r\nlines", 10), 0);
    cr_assert_eq(import_csv_quote(&b, "", 0), 0);
    cr_assert_str_eq(b.p, "plain\"a,b\"\"say \"\"hi\"\"\"\"two\r\nlines\"");
    buf_free(&b);

    buf_init(&b, 4);   /* the cap holds */
    cr_assert_eq(import_csv_quote(&b, "a,bcdef", 7), CXM_ETOOBIG);
    buf_free(&b);
}

Test(import, format_detection)
{
    cr_assert_eq(import_format_of_name("a.csv"), FMT_CSV);
    cr_assert_eq(import_format_of_name("dir.x/A.CSV"), FMT_CSV);
    cr_assert_eq(import_format_of_name("a.ndjson"), FMT_NDJSON);
    cr_assert_eq(import_format_of_name("a.jsonl"), FMT_NDJSON);
    cr_assert_eq(import_format_of_name("a.json"), FMT_NDJSON);
    cr_assert_eq(import_format_of_name("a.txt"), FMT_AUTO);
    cr_assert_eq(import_format_of_name("dir.csv/data"), FMT_AUTO);
    cr_assert_eq(import_format_of_name("-"), FMT_AUTO);
    cr_assert_eq(import_format_sniff("\xEF\xBB\xBF\r\n  {\"a\":1}", 14), FMT_NDJSON);
    cr_assert_eq(import_format_sniff("[{}]", 4), FMT_NDJSON);
    cr_assert_eq(import_format_sniff("email,name\n", 11), FMT_CSV);
    cr_assert_eq(import_format_sniff("", 0), FMT_CSV);
    cr_assert_eq(import_format_sniff("   ", 3), FMT_CSV);
}

Test(import, customer_cells)
{
    struct cxm_err err;
    expect_records("customers",
                   "email,name,birth_year,consent_marketing,consent_surveys,attr.tier,"
                   "attributes.team,social:twitter,identities.crm,ts\n"
                   "a@b.co,\"Lee, Ann\",1985,yes,0,gold,,@ann,C1,1700000000\n"
                   "c@d.co,,,,,,red,,,2024-01-02T03:04:05Z\n",
                   0,
                   "[{\"attributes\":{\"tier\":\"gold\"},\"birth_year\":1985,"
                   "\"consent\":{\"marketing\":true,\"surveys\":false},\"email\":\"a@b.co\","
                   "\"identities\":{\"crm\":\"C1\",\"social:twitter\":\"@ann\"},"
                   "\"name\":\"Lee, Ann\",\"ts\":1700000000,\"type\":\"customer\"},"
                   "{\"attributes\":{\"team\":\"red\"},\"email\":\"c@d.co\","
                   "\"ts\":\"2024-01-02T03:04:05Z\",\"type\":\"customer\"}]",
                   &err);
}

Test(import, numbers)
{
    struct cxm_err err;
    expect_records("feedback", "customer_id,kind,score\n1,nps, 9 \n2,rating,4.5\n", 0,
                   "[{\"customer_id\":1,\"kind\":\"nps\",\"score\":9,\"type\":\"feedback\"},"
                   "{\"customer_id\":2,\"kind\":\"rating\",\"score\":4.5,\"type\":\"feedback\"}]",
                   &err);
    expect_records("feedback", "customer_id,kind,score\n1,nps,9\n1,nps,nine\n", 3, NULL, &err);
    cr_assert_str_eq(err.field, "score");
    expect_records("feedback", "customer_id,kind,score\n1,nps,0x10\n", 2, NULL, &err);
    expect_records("feedback", "customer_id,kind,score\n1,nps,inf\n", 2, NULL, &err);
    expect_records("interactions", "customer_id,channel,duration\n1,web,1.5\n", 2, NULL, &err);
    cr_assert_str_eq(err.field, "duration");
    expect_records("customers", "email,consent_marketing\na@b.co,maybe\n", 2, NULL, &err);
    cr_assert_str_eq(err.field, "consent_marketing");
}

Test(import, header_checks)
{
    struct cxm_err err;
    char *out = NULL;
    cxm_err_clear(&err);
    cr_assert_eq(import_csv_records("customers", "email,nmae\n", &out, &err), -1);
    cr_assert(strstr(err.msg, "unknown column 'nmae'"), "%s", err.msg);
    free(out);
    out = NULL;
    cr_assert_eq(import_csv_records("customers", "email,email\n", &out, &err), -1);
    cr_assert(strstr(err.msg, "twice"), "%s", err.msg);
    out = NULL;
    /* a field of another kind */
    cr_assert_eq(import_csv_records("customers", "email,score\n", &out, &err), -1);
    out = NULL;
    cr_assert_eq(import_csv_records("events", "email,name\n", &out, &err), -1);
    cr_assert(strstr(err.msg, "type"), "%s", err.msg);
    out = NULL;
    cr_assert_eq(import_csv_records("customers", "email,social:\n", &out, &err), -1);
    /* an empty file has no records */
    expect_records("customers", "", 0, "[]", &err);
    expect_records("customers", "email\n", 0, "[]", &err);
}

Test(import, row_shape)
{
    struct cxm_err err;
    expect_records("interactions", "customer_id,channel\n1,web,x\n", 2, NULL, &err);
    cr_assert(strstr(err.msg, "3 fields"), "%s", err.msg);
    expect_records("interactions", "type,customer_id,channel\nfeedback,1,web\n", 2, NULL, &err);
    cr_assert_str_eq(err.field, "type");
    /* a matching type column is fine, an empty one is filled in */
    expect_records("interactions", "type,customer_id,channel\ninteraction,1,web\n,2,app\n", 0,
                   "[{\"channel\":\"web\",\"customer_id\":1,\"type\":\"interaction\"},"
                   "{\"channel\":\"app\",\"customer_id\":2,\"type\":\"interaction\"}]",
                   &err);
}

Test(import, orders_grouped)
{
    struct cxm_err err;
    expect_records("orders",
                   "order_id,customer_id,amount,currency,sku,category,qty,price\n"
                   "o1,1,,EUR,A,shoes,1,50\n"
                   "o1,1,70,EUR,B,socks,2,10\n"
                   "o1,,80,,C,,,5\n"
                   "o2,2,9,USD,,,,\n",
                   0,
                   "[{\"amount\":70,\"currency\":\"EUR\",\"customer_id\":1,\"items\":["
                   "{\"category\":\"shoes\",\"price\":50,\"qty\":1,\"sku\":\"A\"},"
                   "{\"category\":\"socks\",\"price\":10,\"qty\":2,\"sku\":\"B\"},"
                   "{\"price\":5,\"sku\":\"C\"}],\"order_id\":\"o1\",\"type\":\"order\"},"
                   "{\"amount\":9,\"currency\":\"USD\",\"customer_id\":2,\"order_id\":\"o2\","
                   "\"type\":\"order\"}]",
                   &err);
}

Test(import, orders_errors)
{
    struct cxm_err err;
    /* rows of one order apart */
    expect_records("orders", "order_id,customer_id,sku\no1,1,A\no2,1,B\no1,1,C\n", 4, NULL,
                   &err);
    cr_assert_str_eq(err.field, "order_id");
    cr_assert(strstr(err.msg, "continues at line 4 but its rows ended at line 2"), "%s",
              err.msg);
    /* a bad row anywhere in the order names its line */
    expect_records("orders", "order_id,customer_id,sku,qty\no1,1,A,1\no1,1,B,x\n", 3, NULL, &err);
    cr_assert_str_eq(err.field, "qty");
    /* order fields must agree between rows */
    expect_records("orders", "order_id,customer_id,currency,sku\no1,1,EUR,A\no1,1,USD,B\n", 3,
                   NULL, &err);
    cr_assert_str_eq(err.field, "currency");
    /* an item needs a sku */
    expect_records("orders", "order_id,customer_id,sku,qty\no1,1,,2\n", 2, NULL, &err);
    cr_assert_str_eq(err.field, "sku");
    /* item columns only on order rows of an events file */
    expect_records("events", "type,customer_id,channel,sku\ninteraction,1,web,A\n", 2, NULL,
                   &err);
    cr_assert_str_eq(err.field, "sku");
}

Test(import, events_mixed)
{
    struct cxm_err err;
    expect_records("events",
                   "type,customer_id,channel,kind,score,order_id,sku,price\n"
                   "interaction,1,web,visit,,,,\n"
                   "order,1,web,,,o1,A,2\n"
                   "order,1,web,,,o1,B,3\n"
                   "feedback,1,,nps,8,,,\n",
                   0,
                   "[{\"channel\":\"web\",\"customer_id\":1,\"kind\":\"visit\","
                   "\"type\":\"interaction\"},"
                   "{\"channel\":\"web\",\"customer_id\":1,\"items\":[{\"price\":2,\"sku\":\"A\"},"
                   "{\"price\":3,\"sku\":\"B\"}],\"order_id\":\"o1\",\"type\":\"order\"},"
                   "{\"customer_id\":1,\"kind\":\"nps\",\"score\":8,\"type\":\"feedback\"}]",
                   &err);
}

Test(import, csv_reader_errors)
{
    struct cxm_err err;
    /* CSV errors name the line and the column by its header name */
    expect_records("interactions", "customer_id,channel\n1,web\n1,w\xff\n", 3, NULL, &err);
    cr_assert_str_eq(err.field, "channel");
    cr_assert_str_eq(err.msg, "invalid UTF-8");
    /* quoted fields with commas, quotes and line breaks, CRLF and a BOM */
    expect_records("interactions",
                   "\xEF\xBB\xBF" "customer_id,channel,text\r\n1,web,\"a, \"\"b\"\"\r\nc\"\r\n",
                   0, NULL, &err);
}
