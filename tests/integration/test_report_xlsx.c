/* test_report_xlsx.c - `cxm report --format xlsx --output FILE` from the
 * outside: runs the real binary (CXM_BIN, default ./cxm) on a demo database
 * in a temp directory, opens the workbook with unzip(1) and checks its
 * cells against `--format json`. Uses libc, Criterion and jansson only. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* One test's scratch directory with its database. */
static char rx_dir[256];
static char rx_db[320];

static const char *rx_bin(void)
{
    const char *b = getenv("CXM_BIN");
    return b && *b ? b : "./cxm";
}

static void rx_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(rx_dir, sizeof rx_dir, "%s/cxm-xlsx-it-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert(n > 0 && (size_t)n < sizeof rx_dir);
    cr_assert_not_null(mkdtemp(rx_dir), "mkdtemp: %s", strerror(errno));
    /* paths go into popen command lines in single quotes */
    cr_assert_null(strchr(rx_dir, '\''), "TMPDIR with a quote: %s", rx_dir);
    n = snprintf(rx_db, sizeof rx_db, "%s/t.db", rx_dir);
    cr_assert(n > 0 && (size_t)n < sizeof rx_db);
}

static int rx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rx_teardown(void)
{
    if (rx_dir[0])
        nftw(rx_dir, rx_rm, 16, FTW_DEPTH | FTW_PHYS);
    rx_dir[0] = '\0';
}

TestSuite(report_xlsx, .init = rx_setup, .fini = rx_teardown, .timeout = 120);

/* Path of name in the scratch directory (static buffer rotation of 8). */
static const char *rx_path(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    int n = snprintf(b, sizeof bufs[0], "%s/%s", rx_dir, name);
    cr_assert(n > 0 && (size_t)n < sizeof bufs[0]);
    return b;
}

static bool rx_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Reads all of f (a file or a popen pipe) into a malloc'd,
 * NUL-terminated buffer. */
static char *rx_slurp(FILE *f)
{
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    buf[len] = '\0';
    return buf;
}

static char *rx_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    char *s = rx_slurp(f);
    fclose(f);
    return s;
}

/* Output of the last run. */
static char *rx_out, *rx_err;

/* Runs cxm with args (NULL-terminated, after "cxm"), stdin /dev/null.
 * Returns the exit status; -1 when it did not exit. */
static int rx_run(const char *const *args)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = rx_bin();
    for (; *args; args++) {
        cr_assert(n < 31);
        argv[n++] = *args;
    }
    argv[n] = NULL;
    const char *out_path = rx_path("stdout"), *err_path = rx_path("stderr");
    posix_spawn_file_actions_t fa;
    cr_assert_eq(posix_spawn_file_actions_init(&fa), 0);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot run %s: %s (set CXM_BIN)", argv[0], strerror(rc));
    int st;
    while (waitpid(pid, &st, 0) < 0)
        cr_assert_eq(errno, EINTR);
    free(rx_out);
    free(rx_err);
    rx_out = rx_read(out_path);
    rx_err = rx_read(err_path);
    unlink(out_path);
    unlink(err_path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void rx_demo(void)
{
    int rc = rx_run(ARGS("demo", "--db", rx_db, "--customers", "200", "--seed", "1", "--end",
                         "2026-06-30"));
    cr_assert_eq(rc, 0, "cxm demo: %s", rx_err);
}

/* One member of a zip archive, via `unzip -p`: malloc'd text. */
static char *rx_unzip(const char *zip, const char *member)
{
    char cmd[1200];
    int n = snprintf(cmd, sizeof cmd, "unzip -p '%s' '%s' 2>/dev/null", zip, member);
    cr_assert(n > 0 && (size_t)n < sizeof cmd);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s: %s", cmd, strerror(errno));
    char *s = rx_slurp(p);
    int st = pclose(p);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "unzip -p %s %s failed (is unzip installed? scripts/deps.sh)", zip, member);
    cr_assert(s[0], "%s: %s is empty", zip, member);
    return s;
}

/* XML text with the five predefined entities decoded, malloc'd. */
static char *rx_xml_text(const char *s, size_t len)
{
    static const char *const ent[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
    char *out = malloc(len + 1), *o = out;
    cr_assert_not_null(out);
    for (size_t i = 0; i < len;) {
        size_t k;
        for (k = 0; k < 5; k++) {
            size_t el = strlen(ent[k][0]);
            if (i + el <= len && !strncmp(s + i, ent[k][0], el)) {
                *o++ = ent[k][1][0];
                i += el;
                break;
            }
        }
        if (k == 5)
            *o++ = s[i++];
    }
    *o = '\0';
    return out;
}

/* The shared strings table: every <si>'s text runs joined, in order. */
static json_t *rx_sst(const char *xml)
{
    json_t *list = json_array();
    const char *p = xml;
    while ((p = strstr(p, "<si>")) != NULL) {
        const char *end = strstr(p, "</si>");
        cr_assert_not_null(end, "unterminated <si>");
        char text[4096] = "";
        size_t tl = 0;
        for (const char *t = p; (t = strstr(t, "<t")) && t < end;) {
            if (t[2] != '>' && t[2] != ' ') {   /* not <t>: e.g. <tab...> */
                t += 2;
                continue;
            }
            const char *b = strchr(t, '>') + 1, *e = strstr(b, "</t>");
            cr_assert(e && e <= end);
            char *dec = rx_xml_text(b, (size_t)(e - b));
            int n = snprintf(text + tl, sizeof text - tl, "%s", dec);
            free(dec);
            cr_assert(n >= 0 && (size_t)n < sizeof text - tl);
            tl += (size_t)n;
            t = e;
        }
        json_array_append_new(list, json_string(text));
        p = end;
    }
    return list;
}

/* Value of attribute name in the tag starting at tag (up to its '>'):
 * copied to out; false when absent. */
static bool rx_attr(const char *tag, const char *name, char *out, size_t outsz)
{
    const char *close = strchr(tag, '>');
    char pat[64];
    snprintf(pat, sizeof pat, " %s=\"", name);
    const char *a = strstr(tag, pat);
    if (!a || !close || a > close)
        return false;
    a += strlen(pat);
    const char *e = strchr(a, '"');
    cr_assert(e && (size_t)(e - a) < outsz);
    memcpy(out, a, (size_t)(e - a));
    out[e - a] = '\0';
    return true;
}

/* The cells of row r of a worksheet, as an object keyed by column letters
 * ("A", "B", ...): {"t": type ("n" when absent), "v": raw value or null,
 * "s": style index or null}. A row that is absent gives an empty object. */
static json_t *rx_row(const char *sheet, int r)
{
    json_t *cells = json_object();
    char pat[32];
    snprintf(pat, sizeof pat, "<row r=\"%d\"", r);
    const char *row = strstr(sheet, pat);
    if (!row)
        return cells;
    const char *end = strstr(row, "</row>");
    cr_assert_not_null(end);
    for (const char *c = row; (c = strstr(c, "<c ")) && c < end; c++) {
        char ref[16], t[8] = "n", s[8];
        cr_assert(rx_attr(c, "r", ref, sizeof ref), "cell without r");
        rx_attr(c, "t", t, sizeof t);
        bool styled = rx_attr(c, "s", s, sizeof s);
        size_t letters = strspn(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        cr_assert_eq(strtol(ref + letters, NULL, 10), r, "cell %s in row %d", ref, r);
        ref[letters] = '\0';
        json_t *v = json_null();
        const char *gt = strchr(c, '>');
        if (gt[-1] != '/') {
            const char *ce = strstr(c, "</c>"), *vb = strstr(c, "<v>");
            cr_assert(ce && ce < end);
            if (vb && vb < ce) {
                const char *ve = strstr(vb, "</v>");
                cr_assert(ve && ve < ce);
                char *dec = rx_xml_text(vb + 3, (size_t)(ve - vb - 3));
                json_decref(v);
                v = json_string(dec);
                free(dec);
            }
        }
        json_object_set_new(cells, ref, json_pack("{s:s,s:o,s:o}", "t", t, "v", v, "s",
                                                  styled ? json_string(s) : json_null()));
    }
    return cells;
}

/* Column letters of 0-based index j (up to ZZ). */
static const char *rx_col(size_t j)
{
    static char buf[4];
    cr_assert(j < 26 * 27);
    if (j < 26)
        snprintf(buf, sizeof buf, "%c", (char)('A' + j));
    else
        snprintf(buf, sizeof buf, "%c%c", (char)('A' + j / 26 - 1), (char)('A' + j % 26));
    return buf;
}

Test(report_xlsx, workbook_matches_json)
{
    rx_demo();
    const char *xlsx = rx_path("F.xlsx");
    cr_assert_eq(rx_run(ARGS("report", "--db", rx_db, "nps", "--by", "channel,quarter",
                             "--format", "xlsx", "--output", xlsx)),
                 0, "%s", rx_err);
    cr_assert_str_empty(rx_out, "a workbook goes to the file only");
    cr_assert(!rx_exists(rx_path("F.xlsx.tmp")), "the temp file was renamed");
    /* a zip archive: the local file header signature */
    char *raw = rx_read(xlsx);
    cr_assert(!memcmp(raw, "PK\x03\x04", 4), "not a zip file");
    free(raw);

    cr_assert_eq(rx_run(ARGS("report", "--db", rx_db, "nps", "--by", "channel,quarter",
                             "--format", "json")),
                 0, "%s", rx_err);
    json_error_t jerr;
    json_t *doc = json_loads(rx_out, 0, &jerr);
    cr_assert_not_null(doc, "report JSON: %s", jerr.text);
    json_t *rows = json_object_get(doc, "rows"), *first = json_array_get(rows, 0);
    cr_assert_not_null(first, "the demo database gives NPS rows");

    char *wbxml = rx_unzip(xlsx, "xl/workbook.xml");
    cr_assert_not_null(strstr(wbxml, "<sheet name=\"nps\""), "%s", wbxml);
    cr_assert_not_null(strstr(wbxml, "<sheet name=\"about\""), "%s", wbxml);
    free(wbxml);

    char *sstxml = rx_unzip(xlsx, "xl/sharedStrings.xml");
    json_t *sst = rx_sst(sstxml);
    free(sstxml);
    char *sheet = rx_unzip(xlsx, "xl/worksheets/sheet1.xml");
    cr_assert_not_null(strstr(sheet, "state=\"frozen\""), "header row frozen");
    char ref[32];
    snprintf(ref, sizeof ref, "<autoFilter ref=\"A1:%s%zu\"/>",
             rx_col(json_object_size(first) - 1), json_array_size(rows) + 1);
    cr_assert_not_null(strstr(sheet, ref), "no %s", ref);

    /* header: the CSV's columns (the keys of a row, in order), as text */
    json_t *hdr = rx_row(sheet, 1);
    cr_assert_eq(json_object_size(hdr), json_object_size(first));
    const char *key;
    json_t *want;
    size_t j = 0;
    json_object_foreach(first, key, want) {
        json_t *c = json_object_get(hdr, rx_col(j));
        cr_assert_not_null(c, "header cell %s", rx_col(j));
        cr_assert_str_eq(json_string_value(json_object_get(c, "t")), "s");
        size_t idx = strtoul(json_string_value(json_object_get(c, "v")), NULL, 10);
        cr_assert_str_eq(json_string_value(json_array_get(sst, idx)), key,
                         "header column %zu", j);
        j++;
    }
    cr_assert_eq(j, 10, "channel, quarter, value, margin, n, 3 parts, change, significant");

    /* first data row: numbers are numeric cells equal to the JSON values */
    json_t *cells = rx_row(sheet, 2);
    size_t numbers = 0;
    j = 0;
    json_object_foreach(first, key, want) {
        json_t *c = json_object_get(cells, rx_col(j));
        const char *t = c ? json_string_value(json_object_get(c, "t")) : NULL;
        const char *v = c ? json_string_value(json_object_get(c, "v")) : NULL;
        if (json_is_null(want)) {
            cr_assert(!c || !v, "%s: null gives an empty cell", key);
        } else if (json_is_number(want)) {
            cr_assert(c && v, "%s: no cell", key);
            cr_assert_str_eq(t, "n", "%s: a number, not text", key);
            cr_assert_not_null(json_object_get(c, "s"), "%s: has a number format", key);
            char *endp;
            double got = strtod(v, &endp), w = json_number_value(want);
            cr_assert(*endp == '\0', "%s: '%s'", key, v);
            /* the JSON carries 10 significant digits */
            double diff = got > w ? got - w : w - got, mag = w < 0 ? -w : w;
            cr_assert(diff <= 1e-9 * (mag > 1 ? mag : 1), "%s: %.17g, JSON %.17g", key, got, w);
            numbers++;
        } else if (json_is_boolean(want)) {
            cr_assert(c && v, "%s: no cell", key);
            cr_assert_str_eq(t, "b", "%s: a boolean", key);
            cr_assert_str_eq(v, json_is_true(want) ? "1" : "0", "%s", key);
        } else {
            cr_assert(json_is_string(want));
            cr_assert(c && v && !strcmp(t, "s"), "%s: text", key);
            size_t idx = strtoul(v, NULL, 10);
            cr_assert_str_eq(json_string_value(json_array_get(sst, idx)),
                             json_string_value(want), "%s", key);
        }
        j++;
    }
    cr_assert_geq(numbers, 6, "value, margin, n and the parts are numbers");
    /* one worksheet row per report row, nothing after */
    json_t *past = rx_row(sheet, (int)json_array_size(rows) + 2);
    cr_assert_eq(json_object_size(past), 0);

    /* the about sheet names the metric, dimensions and data sequence */
    char *about = rx_unzip(xlsx, "xl/worksheets/sheet2.xml");
    json_t *seq = rx_row(about, 6), *m = rx_row(about, 1);
    cr_assert_str_eq(json_string_value(json_array_get(
                         sst, strtoul(json_string_value(json_object_get(json_object_get(m, "A"), "v")),
                                      NULL, 10))),
                     "metric");
    cr_assert_str_eq(json_string_value(json_array_get(
                         sst, strtoul(json_string_value(json_object_get(json_object_get(m, "B"), "v")),
                                      NULL, 10))),
                     "nps");
    cr_assert_eq(strtoll(json_string_value(json_object_get(json_object_get(seq, "B"), "v")),
                         NULL, 10),
                 json_integer_value(json_object_get(doc, "seq")));
    const char *sstr = json_dumps(sst, 0);
    cr_assert_not_null(strstr(sstr, "\"channel, quarter\""), "%s", sstr);
    cr_assert_not_null(strstr(sstr, "\"generated (UTC)\""), "%s", sstr);
    free((void *)sstr);
    free(about);
    json_decref(seq);
    json_decref(m);
    json_decref(past);
    json_decref(cells);
    json_decref(hdr);
    free(sheet);
    json_decref(sst);
    json_decref(doc);
}

Test(report_xlsx, needs_output)
{
    /* refused before the database is opened: none is needed */
    cr_assert_eq(rx_run(ARGS("report", "--db", rx_db, "nps", "--format", "xlsx")), 2, "%s",
                 rx_err);
    cr_assert_not_null(strstr(rx_err, "--output"), "%s", rx_err);
    cr_assert_str_empty(rx_out, "nothing binary on stdout");
    cr_assert_eq(rx_run(ARGS("report", "--db", rx_db, "nps", "--format", "xls", "--output",
                             rx_path("F.xls"))),
                 2, "%s", rx_err);
    cr_assert(!rx_exists(rx_path("F.xls")));
}

Test(report_xlsx, unwritable_output_leaves_nothing)
{
    rx_demo();
    /* a directory that does not exist */
    const char *missing = rx_path("no-such-dir/F.xlsx");
    cr_assert_eq(rx_run(ARGS("report", "--db", rx_db, "nps", "--by", "channel", "--format",
                             "xlsx", "--output", missing)),
                 1, "%s", rx_err);
    cr_assert_not_null(strstr(rx_err, "cannot write"), "%s", rx_err);
    cr_assert(!rx_exists(rx_path("no-such-dir")));

    /* the workbook is made, then the rename fails: FILE is a directory.
     * Neither FILE.tmp nor anything in FILE remains. */
    const char *dir = rx_path("out.xlsx");
    cr_assert_eq(mkdir(dir, 0700), 0, "%s", strerror(errno));
    cr_assert_eq(rx_run(ARGS("report", "--db", rx_db, "nps", "--by", "channel", "--format",
                             "xlsx", "--output", dir)),
                 1, "%s", rx_err);
    cr_assert_not_null(strstr(rx_err, "cannot write"), "%s", rx_err);
    cr_assert(!rx_exists(rx_path("out.xlsx.tmp")), "temp file left behind");
    cr_assert(!rx_exists(rx_path("out.xlsx/F.xlsx")));
    cr_assert_eq(rmdir(dir), 0, "the directory stays empty: %s", strerror(errno));

    /* the same for text formats */
    cr_assert_eq(rx_run(ARGS("report", "--db", rx_db, "nps", "--format", "csv", "--output",
                             rx_path("no-such-dir/F.csv"))),
                 1, "%s", rx_err);
    cr_assert(!rx_exists(rx_path("no-such-dir")));
}

Test(report_xlsx, output_for_text_formats)
{
    rx_demo();
    cr_assert_eq(rx_run(ARGS("report", "--db", rx_db, "csat", "--by", "channel", "--format",
                             "csv")),
                 0, "%s", rx_err);
    char *want = strdup(rx_out);
    cr_assert_not_null(want);
    cr_assert(want[0]);
    const char *path = rx_path("r.csv");
    cr_assert_eq(rx_run(ARGS("report", "--db", rx_db, "csat", "--by", "channel", "--format",
                             "csv", "--output", path)),
                 0, "%s", rx_err);
    cr_assert_str_empty(rx_out, "--output replaces stdout");
    char *got = rx_read(path);
    cr_assert_str_eq(got, want);
    cr_assert(!rx_exists(rx_path("r.csv.tmp")));
    free(got);
    free(want);
}
