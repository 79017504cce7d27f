/* test_csv.c - RFC 4180 reader: quoting, line ends, BOM, line numbers,
 * every error path, limits, and chunked input matching one big read. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "cxm_limits.h"

/* Serves data in reads of at most chunk bytes; fails with (size_t)-1 once
 * fail_at bytes have been served when fail is set. */
struct src {
    const char *data;
    size_t len, pos, chunk;
    bool fail;
    size_t fail_at;
    size_t calls_after_end;
};

static size_t src_read(void *ctx, char *buf, size_t cap)
{
    struct src *s = ctx;
    if (s->fail && s->pos >= s->fail_at)
        return (size_t)-1;
    size_t n = s->len - s->pos;
    if (n == 0)
        s->calls_after_end++;
    if (n > cap)
        n = cap;
    if (s->chunk && n > s->chunk)
        n = s->chunk;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return n;
}

static struct src src_of(const char *data, size_t len, size_t chunk)
{
    return (struct src){.data = data, .len = len, .chunk = chunk};
}

/* Growable text for comparing whole parses. */
struct text {
    char *s;
    size_t len, cap;
};

static void text_add(struct text *t, const char *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        cr_assert_not_null(t->s);
    }
    memcpy(t->s + t->len, p, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_addf(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void text_addf(struct text *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof buf);
    text_add(t, buf, (size_t)n);
}

/* Parses everything into "line:[f1|f2]\n" and "line:E<code> msg\n" lines.
 * Stops at the end or when an error repeats (a sticky error). Caller
 * frees the result. */
static char *dump(const char *data, size_t len, size_t chunk)
{
    struct src s = src_of(data, len, chunk);
    struct csv_reader *r = csv_new(src_read, &s);
    cr_assert_not_null(r);
    struct text t = {0};
    text_add(&t, "", 0);
    char last[CXM_ERR_MSG] = "";
    for (int guard = 0; guard < 100000; guard++) {
        char **f;
        size_t n;
        struct cxm_err err;
        cxm_err_clear(&err);
        int rc = csv_next(r, &f, &n, &err);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (strcmp(last, err.msg) == 0)
                break;
            cxm_strlcpy(last, err.msg, sizeof last);
            text_addf(&t, "%zu:E%d %s\n", csv_line(r), err.code, err.msg);
            continue;
        }
        last[0] = '\0';
        text_addf(&t, "%zu:[", csv_line(r));
        for (size_t i = 0; i < n; i++) {
            if (i)
                text_add(&t, "|", 1);
            text_add(&t, f[i], strlen(f[i]));
        }
        text_add(&t, "]\n", 2);
    }
    csv_free(r);
    return t.s;
}

/* Parses with one big read and with several small chunk sizes, checks all
 * agree, and compares with want. */
static void check(const char *data, size_t len, const char *want)
{
    char *big = dump(data, len, 0);
    cr_assert_str_eq(big, want, "input:\n%s", data);
    static const size_t chunks[] = {1, 2, 3, 5, 7, 64};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        char *small = dump(data, len, chunks[i]);
        cr_assert_str_eq(small, big, "chunk %zu", chunks[i]);
        free(small);
    }
    free(big);
}

#define CHECK(lit, want) check(lit, sizeof(lit) - 1, want)

/* Reads records until csv_next returns something other than 1 and checks
 * it is -1 with code, a message containing msg, and csv_line() == line. */
static void expect_error(const char *data, size_t len, size_t chunk, size_t good,
                         int code, const char *msg, size_t line)
{
    struct src s = src_of(data, len, chunk);
    struct csv_reader *r = csv_new(src_read, &s);
    cr_assert_not_null(r);
    char **f;
    size_t n;
    struct cxm_err err;
    cxm_err_clear(&err);
    for (size_t i = 0; i < good; i++)
        cr_assert_eq(csv_next(r, &f, &n, &err), 1, "record %zu: %s", i, err.msg);
    cr_assert_eq(csv_next(r, &f, &n, &err), -1);
    cr_assert_eq(err.code, code, "code %d msg %s", err.code, err.msg);
    cr_assert(strstr(err.msg, msg), "message '%s' lacks '%s'", err.msg, msg);
    cr_assert_eq(csv_line(r), line);
    csv_free(r);
}

#define EXPECT_ERROR(lit, good, code, msg, line)                         \
    do {                                                                 \
        expect_error(lit, sizeof(lit) - 1, 0, good, code, msg, line);    \
        expect_error(lit, sizeof(lit) - 1, 1, good, code, msg, line);    \
    } while (0)

Test(csv, simple_records_and_end)
{
    struct src s = src_of("a,b,c\n1,2,3\n", 12, 0);
    struct csv_reader *r = csv_new(src_read, &s);
    cr_assert_not_null(r);
    cr_assert_eq(csv_line(r), 0);
    char **f;
    size_t n;
    cr_assert_eq(csv_next(r, &f, &n, NULL), 1);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(f[0], "a");
    cr_assert_str_eq(f[1], "b");
    cr_assert_str_eq(f[2], "c");
    cr_assert_eq(csv_line(r), 1);
    cr_assert_eq(csv_next(r, &f, &n, NULL), 1);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(f[2], "3");
    cr_assert_eq(csv_line(r), 2);
    cr_assert_eq(csv_next(r, &f, &n, NULL), 0);
    cr_assert_eq(csv_next(r, &f, &n, NULL), 0);
    /* The callback is not asked again after it reported the end. */
    cr_assert_eq(s.calls_after_end, 1);
    csv_free(r);
    csv_free(NULL);
}

Test(csv, empty_input)
{
    CHECK("", "");
    CHECK("\n", "");
    CHECK("\r\n\n\r\n", "");
    CHECK("\xEF\xBB\xBF", "");
    CHECK("\xEF\xBB\xBF\n", "");
}

Test(csv, final_record_without_newline)
{
    CHECK("a,b\nc,d", "1:[a|b]\n2:[c|d]\n");
    CHECK("x", "1:[x]\n");
    CHECK("a,", "1:[a|]\n");
    CHECK("\"q\"", "1:[q]\n");
    CHECK("a\r", "1:[a]\n");
}

Test(csv, crlf_line_ends)
{
    CHECK("a,b\r\nc,d\r\n", "1:[a|b]\n2:[c|d]\n");
    CHECK("a,b\r\nc,d\n\"e\"\r\n", "1:[a|b]\n2:[c|d]\n3:[e]\n");
    CHECK("a,\r\n", "1:[a|]\n");
}

Test(csv, bom_stripped_only_at_start)
{
    CHECK("\xEF\xBB\xBFid,name\n1,x\n", "1:[id|name]\n2:[1|x]\n");
    CHECK("\xEF\xBB\xBF\"id\",name\n", "1:[id|name]\n");
    /* Later U+FEFF is data (valid UTF-8). */
    CHECK("a\n\xEF\xBB\xBF" "b\n", "1:[a]\n2:[\xEF\xBB\xBF" "b]\n");
    /* A partial BOM is data, and here invalid UTF-8. */
    CHECK("\xEF\xBB" "a\n", "1:E2 line 1, field 1: invalid UTF-8\n");
}

Test(csv, quoted_fields)
{
    CHECK("\"a,b\",\"say \"\"hi\"\"\",\"\"\n", "1:[a,b|say \"hi\"|]\n");
    CHECK("\"\"\"\"\n", "1:[\"]\n");
    CHECK("\"\"\"\"\"\"\n", "1:[\"\"]\n");
    CHECK("plain,\"quoted\",\"\"\r\n", "1:[plain|quoted|]\n");
    CHECK("\"a\"\"\",b\n", "1:[a\"|b]\n");
    /* Spaces are data; a quote must open the field to quote it. */
    CHECK(" a , b \n", "1:[ a | b ]\n");
}

Test(csv, embedded_newlines_and_line_numbers)
{
    CHECK("id,note\n1,\"line one\nline two\"\n2,x\n3,\"a\r\nb\r\n\"\n4,y\n",
          "1:[id|note]\n2:[1|line one\nline two]\n4:[2|x]\n"
          "5:[3|a\r\nb\r\n]\n8:[4|y]\n");
    CHECK("\"\n\n\n\"\nz\n", "1:[\n\n\n]\n5:[z]\n");
}

Test(csv, empty_fields_and_lines)
{
    CHECK(",,\n", "1:[||]\n");
    CHECK(",a\n", "1:[|a]\n");
    CHECK("\"\",\"\"\n", "1:[|]\n");
    CHECK("\n\na\n\r\n\nb\n\n", "3:[a]\n6:[b]\n");
    /* A line of spaces is not empty. */
    CHECK("a\n \nb\n", "1:[a]\n2:[ ]\n3:[b]\n");
}

Test(csv, error_unterminated_quote)
{
    EXPECT_ERROR("a,b\nc,\"open\nmore\n", 1, CXM_EINVAL,
                 "line 2, column 3: quoted field is never closed", 2);
    EXPECT_ERROR("\"", 0, CXM_EINVAL, "line 1, column 1: quoted field is never closed", 1);
}

Test(csv, error_stray_quote)
{
    EXPECT_ERROR("a,b\nc,d\"e\n", 1, CXM_EINVAL,
                 "line 2, column 4: quote inside an unquoted field", 2);
    EXPECT_ERROR("x\n\"ok\nstill\",ab\"\n", 1, CXM_EINVAL,
                 "line 3, column 10: quote inside an unquoted field", 2);
    /* Columns on line 1 do not count the BOM. */
    EXPECT_ERROR("\xEF\xBB\xBF" "a\"b\n", 0, CXM_EINVAL,
                 "line 1, column 2: quote inside an unquoted field", 1);
}

Test(csv, error_after_closing_quote)
{
    EXPECT_ERROR("a\n\n\"q\"x,b\n", 1, CXM_EINVAL,
                 "line 3, column 4: unexpected character after a closing quote", 3);
    EXPECT_ERROR("\"q\" ,b\n", 0, CXM_EINVAL,
                 "line 1, column 4: unexpected character after a closing quote", 1);
}

Test(csv, error_bare_cr)
{
    EXPECT_ERROR("a\nb\rc\n", 1, CXM_EINVAL,
                 "line 2, column 2: carriage return not followed by a line feed", 2);
    EXPECT_ERROR("a\n\rb\n", 1, CXM_EINVAL,
                 "line 2, column 1: carriage return not followed by a line feed", 1);
}

Test(csv, syntax_errors_are_sticky)
{
    struct src s = src_of("a\"b\nc\n", 6, 0);
    struct csv_reader *r = csv_new(src_read, &s);
    char **f;
    size_t n;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(csv_next(r, &f, &n, &err), -1);
    cr_assert_eq(err.code, CXM_EINVAL);
    cxm_err_clear(&err);
    cr_assert_eq(csv_next(r, &f, &n, &err), -1);
    cr_assert_eq(err.code, CXM_EINVAL);
    cr_assert(strstr(err.msg, "line 1, column 2"));
    csv_free(r);
}

Test(csv, error_invalid_utf8_names_field_and_recovers)
{
    EXPECT_ERROR("ok,fine\n\xC3\xA9,x,\xC3\x28\n", 1, CXM_EINVAL,
                 "line 2, field 3: invalid UTF-8", 2);
    EXPECT_ERROR("\xED\xA0\x80\n", 0, CXM_EINVAL, "line 1, field 1: invalid UTF-8", 1);
    EXPECT_ERROR("\"\xC0\xAF\"\n", 0, CXM_EINVAL, "line 1, field 1: invalid UTF-8", 1);
    /* The line named is the bad field's, after quoted line breaks. */
    EXPECT_ERROR("h\n\"a\nb\",\"c\nd\",\xFF\n", 1, CXM_EINVAL,
                 "line 4, field 3: invalid UTF-8", 2);
    /* The bad record is consumed and reading continues after it. */
    CHECK("a\nb\xFF\nc\n", "1:[a]\n2:E2 line 2, field 1: invalid UTF-8\n3:[c]\n");
    CHECK("\xE2\x82\n", "1:E2 line 1, field 1: invalid UTF-8\n");
}

Test(csv, error_nul_byte)
{
    static const char in[] = "a,b\nc,d\0e\nf\n";
    expect_error(in, sizeof in - 1, 0, 1, CXM_EINVAL, "line 2, column 4 (field 2): NUL byte", 2);
    expect_error(in, sizeof in - 1, 1, 1, CXM_EINVAL, "line 2, column 4 (field 2): NUL byte", 2);
    check(in, sizeof in - 1, "1:[a|b]\n2:E2 line 2, column 4 (field 2): NUL byte in field\n3:[f]\n");
    static const char quoted[] = "\"x\0\"\n";
    check(quoted, sizeof quoted - 1, "1:E2 line 1, column 3 (field 1): NUL byte in field\n");
}

Test(csv, read_error)
{
    struct src s = src_of("a,b\nc,d\n", 8, 4);
    s.fail = true;
    s.fail_at = 4;
    struct csv_reader *r = csv_new(src_read, &s);
    char **f;
    size_t n;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(csv_next(r, &f, &n, &err), 1);
    cr_assert_eq(csv_next(r, &f, &n, &err), -1);
    cr_assert_eq(err.code, CXM_EIO);
    cr_assert(strstr(err.msg, "line 2: read error"), "%s", err.msg);
    cr_assert_eq(csv_next(r, &f, &n, &err), -1);
    csv_free(r);

    struct src s0 = src_of("", 0, 0);
    s0.fail = true;
    r = csv_new(src_read, &s0);
    cr_assert_eq(csv_next(r, &f, &n, &err), -1);
    cr_assert_eq(err.code, CXM_EIO);
    csv_free(r);
}

/* Builds "<pre><field of len bytes><post>"; quoted wraps the field. */
static char *big_input(const char *pre, size_t len, bool quoted, const char *post, size_t *out_len)
{
    size_t pl = strlen(pre), ql = strlen(post);
    size_t total = pl + len + (quoted ? 2 : 0) + ql;
    char *s = malloc(total + 1);
    cr_assert_not_null(s);
    char *p = s;
    memcpy(p, pre, pl);
    p += pl;
    if (quoted)
        *p++ = '"';
    for (size_t i = 0; i < len; i++)
        p[i] = (char)('a' + i % 26);
    p += len;
    if (quoted)
        *p++ = '"';
    memcpy(p, post, ql);
    s[total] = '\0';
    *out_len = total;
    return s;
}

static void field_limit(bool quoted, size_t chunk)
{
    size_t len;
    char *in = big_input("h\nx,", CXM_MAX_CSV_FIELD, quoted, ",y\nnext\n", &len);
    struct src s = src_of(in, len, chunk);
    struct csv_reader *r = csv_new(src_read, &s);
    char **f;
    size_t n;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(csv_next(r, &f, &n, &err), 1);
    cr_assert_eq(csv_next(r, &f, &n, &err), 1, "%s", err.msg);
    cr_assert_eq(n, 3);
    cr_assert_eq(strlen(f[1]), CXM_MAX_CSV_FIELD);
    cr_assert_str_eq(f[2], "y");
    cr_assert_eq(csv_next(r, &f, &n, &err), 1);
    cr_assert_str_eq(f[0], "next");
    cr_assert_eq(csv_line(r), 3);
    csv_free(r);
    free(in);

    in = big_input("h\nx,", CXM_MAX_CSV_FIELD + 1, quoted, ",y\nnext\n", &len);
    s = src_of(in, len, chunk);
    r = csv_new(src_read, &s);
    cr_assert_eq(csv_next(r, &f, &n, &err), 1);
    cr_assert_eq(csv_next(r, &f, &n, &err), -1);
    cr_assert_eq(err.code, CXM_ETOOBIG);
    cr_assert(strstr(err.msg, "line 2, column 3 (field 2): field is longer than 65536 bytes"),
              "%s", err.msg);
    cr_assert_eq(csv_line(r), 2);
    /* The oversized record is skipped whole; the next one reads fine. */
    cr_assert_eq(csv_next(r, &f, &n, &err), 1);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(f[0], "next");
    cr_assert_eq(csv_line(r), 3);
    cr_assert_eq(csv_next(r, &f, &n, &err), 0);
    csv_free(r);
    free(in);
}

Test(csv, field_size_limit)
{
    field_limit(false, 0);
    field_limit(true, 0);
    field_limit(false, 1000);
    field_limit(true, 1);
}

static char *many_fields(size_t count, size_t *len)
{
    struct text t = {0};
    text_add(&t, "first\n", 6);
    for (size_t i = 0; i < count; i++)
        text_addf(&t, "%s%zu", i ? "," : "", i);
    text_add(&t, "\nlast\n", 6);
    *len = t.len;
    return t.s;
}

Test(csv, field_count_limit)
{
    size_t len;
    char *in = many_fields(CXM_MAX_CSV_FIELDS, &len);
    struct src s = src_of(in, len, 0);
    struct csv_reader *r = csv_new(src_read, &s);
    char **f;
    size_t n;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(csv_next(r, &f, &n, &err), 1);
    cr_assert_eq(csv_next(r, &f, &n, &err), 1, "%s", err.msg);
    cr_assert_eq(n, CXM_MAX_CSV_FIELDS);
    cr_assert_str_eq(f[255], "255");
    csv_free(r);
    free(in);

    in = many_fields(CXM_MAX_CSV_FIELDS + 1, &len);
    s = src_of(in, len, 0);
    r = csv_new(src_read, &s);
    cr_assert_eq(csv_next(r, &f, &n, &err), 1);
    cr_assert_eq(csv_next(r, &f, &n, &err), -1);
    cr_assert_eq(err.code, CXM_ETOOBIG);
    cr_assert(strstr(err.msg, "line 2"), "%s", err.msg);
    cr_assert(strstr(err.msg, "more than 256 fields"), "%s", err.msg);
    cr_assert_eq(csv_next(r, &f, &n, &err), 1);
    cr_assert_str_eq(f[0], "last");
    cr_assert_eq(csv_line(r), 3);
    csv_free(r);
    free(in);
}

/* Everything at once, so one-byte reads cross every state boundary. */
Test(csv, one_byte_reads_match_one_read)
{
    static const char in[] =
        "\xEF\xBB\xBF" "id,name,note\r\n"
        "1,\"Zo\xC3\xAB \"\"Z\"\" Smith\",\"multi\r\nline, with comma\"\r\n"
        "\r\n"
        "\n"
        "2,,\n"
        "3,\"\",\"\xE2\x82\xAC\xF0\x9D\x84\x9E\"\n"
        ",,\n"
        "4,bad\xC3,x\n"
        "5,\"\n\n\",end";
    check(in, sizeof in - 1,
          "1:[id|name|note]\n"
          "2:[1|Zo\xC3\xAB \"Z\" Smith|multi\r\nline, with comma]\n"
          "6:[2||]\n"
          "7:[3||\xE2\x82\xAC\xF0\x9D\x84\x9E]\n"
          "8:[||]\n"
          "9:E2 line 9, field 2: invalid UTF-8\n"
          "10:[5|\n\n|end]\n");
}

/* Many rows cross the 64 KiB buffer boundary at varying offsets. */
Test(csv, many_rows_across_buffers)
{
    struct text t = {0};
    text_add(&t, "", 0);
    size_t rows = 20000;
    for (size_t i = 0; i < rows; i++) {
        if (i % 3 == 0)
            text_addf(&t, "%zu,\"multi\nline %zu\",\"q\"\"%zu\"\r\n", i, i, i);
        else
            text_addf(&t, "%zu,plain %zu,x\n", i, i);
    }
    for (size_t pass = 0; pass < 2; pass++) {
        struct src s = src_of(t.s, t.len, pass ? 4093 : 0);
        struct csv_reader *r = csv_new(src_read, &s);
        size_t line = 1;
        char want[64];
        for (size_t i = 0; i < rows; i++) {
            char **f;
            size_t n;
            struct cxm_err err;
            cxm_err_clear(&err);
            cr_assert_eq(csv_next(r, &f, &n, &err), 1, "row %zu: %s", i, err.msg);
            cr_assert_eq(n, 3);
            cr_assert_eq(csv_line(r), line, "row %zu", i);
            snprintf(want, sizeof want, "%zu", i);
            cr_assert_str_eq(f[0], want);
            if (i % 3 == 0) {
                snprintf(want, sizeof want, "multi\nline %zu", i);
                cr_assert_str_eq(f[1], want);
                snprintf(want, sizeof want, "q\"%zu", i);
                cr_assert_str_eq(f[2], want);
                line += 2;
            } else {
                line += 1;
            }
        }
        char **f;
        size_t n;
        cr_assert_eq(csv_next(r, &f, &n, NULL), 0);
        csv_free(r);
    }
    free(t.s);
}
