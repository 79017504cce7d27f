/* test_smtp.c - the message smtp_format builds (exact headers, CRLF line
 * ends, RFC 2047 subjects folded at character boundaries, display names,
 * quoted-printable for long lines, the checks that make header injection
 * impossible), then real deliveries: a local aiosmtpd server (Debian's
 * python3-aiosmtpd, run by /usr/bin/python3) on a free port stores what it
 * receives in a maildir, which the tests read back; a closed port; a
 * server answering 550 and 451. The server tests are skipped when
 * /usr/bin/python3 cannot import aiosmtpd (scripts/deps.sh installs it). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/utf8.h"
#include "notify/smtp.h"

#define PYTHON "/usr/bin/python3"
#define NOW INT64_C(1614265330)   /* Thu, 25 Feb 2021 15:02:10 +0000 */

/* ---- reading messages ------------------------------------------------------- */

/* The value of header name (first one, case-insensitive) with folding
 * undone (CRLF or LF before a space or tab removed); NULL when absent.
 * Malloc'd. */
static char *header(const char *msg, const char *name)
{
    size_t nl = strlen(name);
    const char *p = msg;
    while (*p && *p != '\r' && *p != '\n') {
        const char *eol = p;
        /* the logical line ends at a line break not followed by WSP */
        for (;;) {
            eol += strcspn(eol, "\r\n");
            const char *next = eol + (eol[0] == '\r' && eol[1] == '\n' ? 2 : eol[0] ? 1 : 0);
            if (*next == ' ' || *next == '\t') {
                eol = next;
                continue;
            }
            if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
                const char *v = p + nl + 1;
                while (*v == ' ')
                    v++;
                char *out = malloc((size_t)(eol - v) + 1);
                cr_assert_not_null(out);
                size_t k = 0;
                for (const char *q = v; q < eol; q++)
                    if (*q != '\r' && *q != '\n')
                        out[k++] = *q;
                out[k] = '\0';
                return out;
            }
            p = next;
            break;
        }
    }
    return NULL;
}

/* The body: what follows the first empty line. */
static const char *body_of(const char *msg)
{
    const char *b = strstr(msg, "\r\n\r\n");
    if (b)
        return b + 4;
    b = strstr(msg, "\n\n");
    cr_assert_not_null(b, "no end of headers");
    return b + 2;
}

/* s with every CR removed (a maildir stores LF line ends). Malloc'd. */
static char *strip_cr(const char *s)
{
    char *o = malloc(strlen(s) + 1);
    cr_assert_not_null(o);
    size_t k = 0;
    for (; *s; s++)
        if (*s != '\r')
            o[k++] = *s;
    o[k] = '\0';
    return o;
}

/* Decodes RFC 2047 "=?UTF-8?B?...?=" words; whitespace between two
 * encoded-words is dropped, other text kept. Malloc'd. */
static char *decode_words(const char *v)
{
    size_t cap = strlen(v) + 1;
    char *o = malloc(cap);
    cr_assert_not_null(o);
    size_t k = 0;
    bool after_word = false;
    while (*v) {
        if (strncmp(v, "=?UTF-8?B?", 10) == 0) {
            const char *e = strstr(v + 10, "?=");
            cr_assert_not_null(e, "unterminated encoded-word");
            size_t got;
            cr_assert_eq(sodium_base642bin((unsigned char *)o + k, cap - k, v + 10,
                                           (size_t)(e - v - 10), NULL, &got, NULL,
                                           sodium_base64_VARIANT_ORIGINAL), 0);
            /* each word holds whole characters (RFC 2047 section 5) */
            cr_assert(utf8_valid(o + k, got), "a word splits a UTF-8 sequence");
            k += got;
            v = e + 2;
            after_word = true;
            continue;
        }
        if (after_word && (*v == ' ' || *v == '\t')) {
            size_t ws = strspn(v, " \t");
            if (strncmp(v + ws, "=?UTF-8?B?", 10) == 0) {
                v += ws;
                continue;
            }
        }
        after_word = false;
        o[k++] = *v++;
    }
    o[k] = '\0';
    return o;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes a quoted-printable body (CRLF or LF line ends); the result has
 * LF line ends. Malloc'd. */
static char *qp_decode(const char *s)
{
    char *o = malloc(strlen(s) + 1);
    cr_assert_not_null(o);
    size_t k = 0;
    while (*s) {
        if (*s == '=') {
            if (s[1] == '\r' && s[2] == '\n') {
                s += 3;
            } else if (s[1] == '\n') {
                s += 2;
            } else {
                int hi = hexval(s[1]), lo = hexval(s[2]);
                cr_assert(hi >= 0 && lo >= 0, "bad escape '%.3s'", s);
                o[k++] = (char)(hi * 16 + lo);
                s += 3;
            }
        } else if (*s == '\r') {
            s++;
        } else {
            o[k++] = *s++;
        }
    }
    o[k] = '\0';
    return o;
}

/* Every line ends in CRLF (no bare CR or LF) and none is longer than max. */
static void assert_lines(const char *msg, size_t len, size_t max)
{
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\r') {
            cr_assert(i + 1 < len && msg[i + 1] == '\n', "bare CR at %zu", i);
            cr_assert_leq(col, max, "line of %zu bytes before %zu", col, i);
            col = 0;
            i++;
        } else {
            cr_assert_neq(msg[i], '\n', "bare LF at %zu", i);
            col++;
        }
    }
    cr_assert_eq(col, 0, "the message does not end in CRLF");
}

static char *format(const struct smtp_conf *c, const struct smtp_msg *m, size_t *len)
{
    char *out = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(smtp_format(c, m, NOW, &out, len, &err), CXM_OK, "%s", err.msg);
    cr_assert_eq(strlen(out), *len);
    assert_lines(out, *len, 998);
    return out;
}

static const struct smtp_conf CONF = {.url = "smtp://127.0.0.1:1", .from = "cxm <cx@example.com>"};

/* ---- smtp_format ------------------------------------------------------------ */

Test(smtp, format_builds_the_exact_message)
{
    struct smtp_msg m = {.to = "zoe@example.org", .subject = "Merci, Zo\xc3\xa9",
                         .text = "Bonjour Zo\xc3\xa9,\n.une ligne\n.\nmerci\n",
                         .message_id = "<abc.1@cxm>"};
    size_t len;
    char *got = format(&CONF, &m, &len);
    cr_assert_str_eq(got, "Date: Thu, 25 Feb 2021 15:02:10 +0000\r\n"
                          "From: cxm <cx@example.com>\r\n"
                          "To: zoe@example.org\r\n"
                          "Subject: =?UTF-8?B?TWVyY2ksIFpvw6k=?=\r\n"
                          "Message-ID: <abc.1@cxm>\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n"
                          "\r\n"
                          "Bonjour Zo\xc3\xa9,\r\n.une ligne\r\n.\r\nmerci\r\n");
    free(got);
}

Test(smtp, format_dates_in_utc)
{
    static const struct {
        int64_t t;
        const char *date;
    } cases[] = {
        {0, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"},
        {951782400, "Date: Tue, 29 Feb 2000 00:00:00 +0000\r\n"},
        {NOW, "Date: Thu, 25 Feb 2021 15:02:10 +0000\r\n"},
        {4102444799, "Date: Thu, 31 Dec 2099 23:59:59 +0000\r\n"},
    };
    struct smtp_msg m = {.to = "a@b.c", .subject = "s", .text = "t", .message_id = "x@y"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out;
        size_t len;
        cr_assert_eq(smtp_format(&CONF, &m, cases[i].t, &out, &len, NULL), CXM_OK);
        cr_assert_eq(strncmp(out, cases[i].date, strlen(cases[i].date)), 0, "%.40s", out);
        free(out);
    }
}

Test(smtp, format_line_ends_and_empty_parts)
{
    /* LF, CR and CRLF all become CRLF; a last line without a line break
     * gets one; blank lines stay */
    struct smtp_msg m = {.to = "a@b.c", .subject = "s", .text = "a\r\nb\rc\nd\n\n\ne",
                         .message_id = "x@y"};
    size_t len;
    char *got = format(&CONF, &m, &len);
    cr_assert_str_eq(body_of(got), "a\r\nb\r\nc\r\nd\r\n\r\n\r\ne\r\n");
    cr_assert_not_null(strstr(got, "\r\nMessage-ID: <x@y>\r\n"), "brackets added");
    free(got);
    /* no subject, no text */
    m.subject = NULL;
    m.text = NULL;
    got = format(&CONF, &m, &len);
    cr_assert_not_null(strstr(got, "\r\nSubject: \r\n"));
    cr_assert_str_eq(body_of(got), "");
    cr_assert_eq(got[len - 1], '\n');
    free(got);
}

Test(smtp, format_encodes_subjects)
{
    struct smtp_msg m = {.to = "a@b.c", .text = "t", .message_id = "x@y"};
    size_t len;
    char *got, *v, *d;

    /* printable ASCII that fits: as is */
    m.subject = "Your case #123 is closed (thanks!)";
    got = format(&CONF, &m, &len);
    v = header(got, "Subject");
    cr_assert_str_eq(v, m.subject);
    free(v);
    free(got);

    /* text that looks like an encoded-word, a tab: encoded */
    const char *odd[] = {"=?UTF-8?B?SGk=?=", "a\tb"};
    for (size_t i = 0; i < 2; i++) {
        m.subject = odd[i];
        got = format(&CONF, &m, &len);
        v = header(got, "Subject");
        cr_assert_eq(strncmp(v, "=?UTF-8?B?", 10), 0, "%s", v);
        d = decode_words(v);
        cr_assert_str_eq(d, odd[i]);
        free(d);
        free(v);
        free(got);
    }

    /* long ASCII and long non-ASCII subjects: folded into several words,
     * each line within 76, no word splitting a character */
    char lat[400], mix[400], cjk[400];
    memset(lat, 'x', 300);
    lat[300] = '\0';
    size_t k = 0;
    for (int i = 0; i < 60; i++) {
        memcpy(mix + k, "\xc3\xa9", 2);                      /* é: 2 bytes */
        mix[k + 2] = (char)('a' + i % 26);
        k += 3;
    }
    mix[k] = '\0';
    k = 0;
    for (int i = 0; i < 40; i++) {
        memcpy(cjk + k, i % 2 ? "\xe6\x97\xa5" : "\xf0\x9f\x98\x80", i % 2 ? 3 : 4);
        k += i % 2 ? 3 : 4;
    }
    cjk[k] = '\0';
    const char *longs[] = {lat, mix, cjk};
    for (size_t i = 0; i < 3; i++) {
        m.subject = longs[i];
        got = format(&CONF, &m, &len);
        assert_lines(got, len, 998);
        const char *s = strstr(got, "\r\nSubject: ") + 2;
        const char *end = strstr(s, "\r\nMessage-ID:");
        int words = 0;
        for (const char *line = s; line < end;) {
            const char *eol = strstr(line, "\r\n");
            cr_assert_leq(eol - line, 76, "subject line of %d bytes", (int)(eol - line));
            words++;
            line = eol + 2;
        }
        cr_assert_gt(words, 2);
        v = header(got, "Subject");
        d = decode_words(v);
        cr_assert_str_eq(d, longs[i]);
        free(d);
        free(v);
        free(got);
    }
}

Test(smtp, format_writes_display_names)
{
    static const struct {
        const char *from, *header;
    } cases[] = {
        {"cx@example.com", "cx@example.com"},
        {"<cx@example.com>", "cx@example.com"},
        {"  cxm  <cx@example.com>  ", "cxm <cx@example.com>"},
        {"Customer Care <cx@example.com>", "Customer Care <cx@example.com>"},
        {"\"Care, Inc.\" <cx@example.com>", "\"Care, Inc.\" <cx@example.com>"},
        {"Care, Inc. <cx@example.com>", "\"Care, Inc.\" <cx@example.com>"},
        {"say \"hi\" <cx@example.com>", "\"say \\\"hi\\\"\" <cx@example.com>"},
        {"Zo\xc3\xa9 <zoe@example.org>", "=?UTF-8?B?Wm/DqQ==?= <zoe@example.org>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct smtp_conf c = CONF;
        c.from = cases[i].from;
        struct smtp_msg m = {.to = cases[i].from, .subject = "s", .text = "t",
                             .message_id = "x@y"};
        size_t len;
        char *got = format(&c, &m, &len);
        char *f = header(got, "From"), *t = header(got, "To");
        cr_assert_str_eq(f, cases[i].header, "from '%s'", cases[i].from);
        cr_assert_str_eq(t, cases[i].header, "to '%s'", cases[i].from);
        free(f);
        free(t);
        free(got);
    }
    /* a long non-ASCII name: folded words, the address on its own line */
    char name[200];
    size_t k = 0;
    for (int i = 0; i < 30; i++) {
        memcpy(name + k, "Zo\xc3\xa9 ", 5);
        k += 5;
    }
    memcpy(name + k, "<zoe@example.org>", 18);
    struct smtp_conf c = CONF;
    c.from = name;
    struct smtp_msg m = {.to = "a@b.c", .subject = "s", .text = "t", .message_id = "x@y"};
    size_t len;
    char *got = format(&c, &m, &len);
    assert_lines(got, len, 78);
    char *f = header(got, "From");
    char *d = decode_words(f);
    name[k - 1] = '\0';
    cr_assert(strncmp(d, name, k - 1) == 0 && strcmp(d + k - 1, " <zoe@example.org>") == 0,
              "%s", d);
    free(d);
    free(f);
    free(got);
}

Test(smtp, format_uses_quoted_printable_for_long_lines)
{
    /* a 3000-byte line with '=', non-ASCII, a trailing space and tab */
    static char text[4000];
    size_t k = 0;
    for (int i = 0; i < 1000; i++) {
        const char *piece = i % 3 == 0 ? "a=b" : i % 3 == 1 ? "\xc3\xa9 " : "xyz";
        size_t n = strlen(piece);
        memcpy(text + k, piece, n);
        k += n;
    }
    memcpy(text + k, " \t\nshort line \nlast", 19);
    k += 19;
    text[k] = '\0';
    struct smtp_msg m = {.to = "a@b.c", .subject = "s", .text = text, .message_id = "x@y"};
    size_t len;
    char *got = format(&CONF, &m, &len);
    cr_assert_not_null(strstr(got, "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"));
    const char *b = body_of(got);
    assert_lines(b, strlen(b), 76);
    /* no line ends in a space or tab (RFC 2045 6.7 (3)) */
    for (const char *p = strstr(b, "\r\n"); p; p = strstr(p + 2, "\r\n"))
        cr_assert(p[-1] != ' ' && p[-1] != '\t', "whitespace before a line end");
    char *dec = qp_decode(b);
    char *want = strip_cr(text);
    size_t wl = strlen(want);
    cr_assert_eq(strncmp(dec, want, wl), 0);
    cr_assert_str_eq(dec + wl, "\n", "the last line gets its line break");
    free(want);
    free(dec);
    free(got);
    /* a 998-byte line is still 8bit */
    memset(text, 'y', 998);
    text[998] = '\0';
    got = format(&CONF, &m, &len);
    cr_assert_not_null(strstr(got, "\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"));
    free(got);
    text[998] = 'y';
    text[999] = '\0';
    got = format(&CONF, &m, &len);
    cr_assert_not_null(strstr(got, "quoted-printable"));
    free(got);
}

Test(smtp, format_generates_message_ids)
{
    struct smtp_msg m = {.to = "a@b.c", .subject = "s", .text = "t"};
    size_t len;
    char *a = format(&CONF, &m, &len), *b = format(&CONF, &m, &len);
    char *ia = header(a, "Message-ID"), *ib = header(b, "Message-ID");
    cr_assert_eq(strlen(ia), 1 + 32 + 5, "%s", ia);
    cr_assert_eq(ia[0], '<');
    cr_assert_str_eq(ia + 33, "@cxm>");
    cr_assert_eq(strspn(ia + 1, "0123456789abcdef"), 32, "%s", ia);
    cr_assert_str_neq(ia, ib);
    free(ia);
    free(ib);
    free(a);
    free(b);
}

Test(smtp, format_rejects_header_injection_and_bad_input)
{
    static const struct {
        const char *from, *to, *subject, *text, *id, *field;
    } cases[] = {
        {NULL, NULL, "Hi\r\nBcc: evil@example.net", NULL, NULL, "subject"},
        {NULL, NULL, "Hi\nBcc: evil@example.net", NULL, NULL, "subject"},
        {NULL, NULL, "Hi\r", NULL, NULL, "subject"},
        {NULL, NULL, "bell\a", NULL, NULL, "subject"},
        {NULL, NULL, "caf\xe9", NULL, NULL, "subject"},          /* Latin-1, not UTF-8 */
        {NULL, "zoe@example.org\r\nBcc: evil@example.net", NULL, NULL, NULL, "to"},
        {NULL, "zoe@example.org\n", NULL, NULL, NULL, "to"},
        {"cx@example.com\r\nBcc: evil@example.net", NULL, NULL, NULL, NULL, "from"},
        {"Evil\r\n <cx@example.com>", NULL, NULL, NULL, NULL, "from"},
        {NULL, NULL, NULL, NULL, "<a@b>\r\nBcc: evil@example.net", "message_id"},
        {NULL, NULL, NULL, NULL, "no-at-sign", "message_id"},
        {NULL, NULL, NULL, NULL, "<a b@c>", "message_id"},
        {NULL, NULL, NULL, "caf\xe9\n", NULL, "text"},
        {NULL, "", NULL, NULL, NULL, "to"},
        {"", NULL, NULL, NULL, NULL, "from"},
        {NULL, "zoe", NULL, NULL, NULL, "to"},
        {NULL, "@example.org", NULL, NULL, NULL, "to"},
        {NULL, "zoe@", NULL, NULL, NULL, "to"},
        {NULL, "zoe@@example.org", NULL, NULL, NULL, "to"},
        {NULL, "zoe@example.org, eve@example.net", NULL, NULL, NULL, "to"},
        {NULL, "zoe smith@example.org", NULL, NULL, NULL, "to"},
        {NULL, ".zoe@example.org", NULL, NULL, NULL, "to"},
        {NULL, "zo..e@example.org", NULL, NULL, NULL, "to"},
        {NULL, "zoe@-example.org", NULL, NULL, NULL, "to"},
        {NULL, "zoe@example..org", NULL, NULL, NULL, "to"},
        {NULL, "zoe@example.org.", NULL, NULL, NULL, "to"},
        {NULL, "zo\xc3\xa9@example.org", NULL, NULL, NULL, "to"},
        {NULL, "Zoe <zoe@example.org", NULL, NULL, NULL, "to"},
        {NULL, "Zoe <zoe@example.org> x", NULL, NULL, NULL, "to"},
        {NULL, "Zo\xe9 <zoe@example.org>", NULL, NULL, NULL, "to"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct smtp_conf c = CONF;
        if (cases[i].from)
            c.from = cases[i].from;
        struct smtp_msg m = {.to = cases[i].to ? cases[i].to : "zoe@example.org",
                             .subject = cases[i].subject ? cases[i].subject : "s",
                             .text = cases[i].text ? cases[i].text : "t",
                             .message_id = cases[i].id ? cases[i].id : "x@y"};
        char *out = (char *)"untouched";
        size_t len = 7;
        struct cxm_err err;
        cxm_err_clear(&err);
        cr_assert_eq(smtp_format(&c, &m, NOW, &out, &len, &err), CXM_EINVAL, "case %zu accepted",
                     i);
        cr_assert_str_eq(err.field, cases[i].field, "case %zu: %s", i, err.msg);
        cr_assert_str_eq(out, "untouched");
        cr_assert_eq(len, 7);
    }
    /* the message says why */
    struct smtp_msg m = {.to = "a@b.c", .subject = "Hi\r\nBcc: x@y.z", .text = "t"};
    struct cxm_err err;
    char *out;
    size_t len;
    cr_assert_eq(smtp_format(&CONF, &m, NOW, &out, &len, &err), CXM_EINVAL);
    cr_assert_str_eq(err.msg, "subject contains CR or LF");
    /* a missing recipient, a missing sender, no message at all */
    m = (struct smtp_msg){.subject = "s"};
    cr_assert_eq(smtp_format(&CONF, &m, NOW, &out, &len, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "to");
    struct smtp_conf c = {.url = "smtp://x"};
    m.to = "a@b.c";
    cr_assert_eq(smtp_format(&c, &m, NOW, &out, &len, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "from");
    cr_assert_eq(smtp_format(&CONF, NULL, NOW, &out, &len, NULL), CXM_EINVAL);
    /* limits */
    char *big = malloc(SMTP_MAX_TEXT + 2);
    cr_assert_not_null(big);
    memset(big, 'a', SMTP_MAX_TEXT + 1);
    big[SMTP_MAX_TEXT + 1] = '\0';
    m.text = big;
    cr_assert_eq(smtp_format(&CONF, &m, NOW, &out, &len, &err), CXM_ETOOBIG);
    cr_assert_str_eq(err.field, "text");
    big[SMTP_MAX_TEXT] = '\0';   /* exactly the limit, one line: quoted-printable */
    cr_assert_eq(smtp_format(&CONF, &m, NOW, &out, &len, &err), CXM_OK, "%s", err.msg);
    free(out);
    m.text = "t";
    big[SMTP_MAX_SUBJECT + 1] = '\0';
    m.subject = big;
    cr_assert_eq(smtp_format(&CONF, &m, NOW, &out, &len, &err), CXM_ETOOBIG);
    cr_assert_str_eq(err.field, "subject");
    free(big);
}

/* ---- a local SMTP server ------------------------------------------------------ */

struct server {
    pid_t pid;
    int port;
    char dir[64];      /* temp dir: server.log, and mail/ (the maildir) */
};

/* The test's server, for server_stop in .fini (which also runs after a
 * failed assertion). */
static struct server srv = {.pid = -1};

static int run_quiet(char *const argv[])
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        cr_assert_eq(errno, EINTR);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void skip_without_aiosmtpd(void)
{
    char *argv[] = {(char *)PYTHON, (char *)"-c", (char *)"import aiosmtpd", NULL};
    if (access(PYTHON, X_OK) != 0 || run_quiet(argv) != 0)
        cr_skip_test(PYTHON " cannot import aiosmtpd: install python3-aiosmtpd "
                            "(scripts/deps.sh does)");
}

/* A port nobody listens on right now: the kernel's pick for port 0. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t r;
    while ((r = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            s = realloc(s, cap);
            cr_assert_not_null(s);
        }
    }
    fclose(f);
    s[n] = '\0';
    return s;
}

/* Starts argv (the server command, with "PORT" and "DIR" replaced) and
 * waits until the port accepts connections. */
static void server_start(const char *const *argv)
{
    snprintf(srv.dir, sizeof srv.dir, "/tmp/cxm-smtp-XXXXXX");
    cr_assert_not_null(mkdtemp(srv.dir));
    srv.port = free_port();
    char port[16], listen[32], mail[96], log[96];
    snprintf(port, sizeof port, "%d", srv.port);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", srv.port);
    snprintf(mail, sizeof mail, "%s/mail", srv.dir);
    snprintf(log, sizeof log, "%s/server.log", srv.dir);
    char *av[16];
    size_t n = 0;
    for (; argv[n]; n++) {
        cr_assert_lt(n, 15);
        av[n] = strcmp(argv[n], "LISTEN") == 0 ? listen
                : strcmp(argv[n], "PORT") == 0 ? port
                : strcmp(argv[n], "DIR") == 0  ? mail
                                               : (char *)argv[n];
    }
    av[n] = NULL;
    int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(logfd, 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        /* dies with the test process, should the test die first */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(logfd, 1);
        dup2(logfd, 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execv(av[0], av);
        _exit(127);
    }
    close(logfd);
    srv.pid = pid;
    for (int i = 0; i < 300; i++) {   /* 15 s */
        if (port_accepts(srv.port))
            return;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            srv.pid = -1;
            char *l = slurp(log);
            cr_assert_fail("the SMTP server exited: %s", l ? l : "(no log)");
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cr_assert_fail("the SMTP server did not listen on %d within 15 s", srv.port);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void server_stop(void)
{
    if (srv.pid > 0) {
        kill(srv.pid, SIGTERM);
        int st;
        while (waitpid(srv.pid, &st, 0) < 0 && errno == EINTR)
            ;
        srv.pid = -1;
    }
    if (srv.dir[0]) {
        nftw(srv.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        srv.dir[0] = '\0';
    }
}

static void start_mailbox(void)
{
    skip_without_aiosmtpd();
    static const char *const argv[] = {PYTHON, "-m", "aiosmtpd", "-n", "-l", "LISTEN", "-c",
                                       "aiosmtpd.handlers.Mailbox", "DIR", NULL};
    server_start(argv);
}

/* The messages in the maildir (new/), NUL-terminated each; returns how
 * many (at most max). */
static size_t mailbox(char **msgs, size_t max)
{
    char path[256];
    snprintf(path, sizeof path, "%s/mail/new", srv.dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        cr_assert_lt(n, max, "more messages than expected");
        char file[600];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        msgs[n] = slurp(file);
        cr_assert_not_null(msgs[n], "%s", file);
        n++;
    }
    closedir(d);
    return n;
}

static char *find_by_id(char **msgs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        char *v = header(msgs[i], "Message-ID");
        bool hit = v && strcmp(v, id) == 0;
        free(v);
        if (hit)
            return msgs[i];
    }
    cr_assert_fail("no message %s arrived", id);
    return NULL;
}

static void assert_header(const char *msg, const char *name, const char *want)
{
    char *v = header(msg, name);
    cr_assert_not_null(v, "no %s header", name);
    char *d = decode_words(v);
    cr_assert_str_eq(d, want, "%s: %s", name, v);
    free(d);
    free(v);
}

static struct smtp_conf server_conf(void)
{
    static char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", srv.port);
    return (struct smtp_conf){.url = url, .from = "cxm <cx@example.com>", .timeout_ms = 10000};
}

/* ---- smtp_send ------------------------------------------------------------------ */

Test(smtp, sends_two_messages_through_a_real_server, .fini = server_stop, .timeout = 60)
{
    start_mailbox();
    struct smtp_conf c = server_conf();
    const char *text1 = "Bonjour Zo\xc3\xa9,\n"
                        "\n"
                        ".starts with a dot\n"
                        ".\n"
                        "..two dots\n"
                        "Na\xc3\xafve caf\xc3\xa9 \xe2\x82\xac 5 \xf0\x9f\x98\x80\n"
                        "Merci !";
    struct smtp_msg m1 = {.to = "Zo\xc3\xa9 Martin <zoe@example.org>",
                          .subject = "Merci, Zo\xc3\xa9", .text = text1,
                          .message_id = "<one@cxm.test>"};
    bool perm = true;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(smtp_send(&c, &m1, &perm, &err), CXM_OK, "%s", err.msg);
    cr_assert(!perm);

    /* a plain ASCII message with a line too long for 8bit */
    static char text2[3100];
    memset(text2, 'q', 3000);
    memcpy(text2 + 3000, "=end\n.last", 11);
    struct smtp_conf c2 = c;
    c2.from = "alerts@example.com";
    c2.tls = SMTP_TLS_NONE;
    struct smtp_msg m2 = {.to = "ops@example.net", .subject = "Daily digest", .text = text2};
    perm = true;
    cr_assert_eq(smtp_send(&c2, &m2, &perm, &err), CXM_OK, "%s", err.msg);
    cr_assert(!perm);

    char *msgs[4];
    size_t n = mailbox(msgs, 4);
    cr_assert_eq(n, 2);

    char *a = find_by_id(msgs, n, "<one@cxm.test>");
    assert_header(a, "From", "cxm <cx@example.com>");
    assert_header(a, "To", "Zo\xc3\xa9 Martin <zoe@example.org>");
    assert_header(a, "Subject", "Merci, Zo\xc3\xa9");
    assert_header(a, "Content-Transfer-Encoding", "8bit");
    assert_header(a, "X-MailFrom", "cx@example.com");   /* the envelope, by aiosmtpd */
    assert_header(a, "X-RcptTo", "zoe@example.org");
    char *body = strip_cr(body_of(a));
    char *want = malloc(strlen(text1) + 2);
    cr_assert_not_null(want);
    snprintf(want, strlen(text1) + 2, "%s\n", text1);
    cr_assert_str_eq(body, want, "the body changed on the way:\n%s", body);
    free(want);
    free(body);

    char *b = NULL;
    for (size_t i = 0; i < n; i++)
        if (msgs[i] != a)
            b = msgs[i];
    assert_header(b, "From", "alerts@example.com");
    assert_header(b, "To", "ops@example.net");
    assert_header(b, "Subject", "Daily digest");
    assert_header(b, "Content-Transfer-Encoding", "quoted-printable");
    char *mid = header(b, "Message-ID");
    cr_assert(strlen(mid) == 38 && strcmp(mid + 33, "@cxm>") == 0, "%s", mid);
    free(mid);
    char *dec = qp_decode(body_of(b));
    want = malloc(strlen(text2) + 2);
    cr_assert_not_null(want);
    snprintf(want, strlen(text2) + 2, "%s\n", text2);
    cr_assert_str_eq(dec, want);
    free(want);
    free(dec);
    for (size_t i = 0; i < n; i++)
        free(msgs[i]);
}

Test(smtp, header_injection_is_rejected_without_sending, .fini = server_stop, .timeout = 60)
{
    start_mailbox();
    struct smtp_conf c = server_conf();
    struct cxm_err err;
    bool perm;
    struct smtp_msg m = {.to = "zoe@example.org",
                         .subject = "Hello\r\nBcc: evil@example.net",
                         .text = "hi", .message_id = "<bad@cxm.test>"};
    cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "subject");
    cr_assert_str_eq(err.msg, "subject contains CR or LF");
    m.subject = "Hello\nBcc: evil@example.net";
    cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "subject");
    m.subject = "Hello";
    m.to = "zoe@example.org\r\nBcc: evil@example.net";
    cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "to");
    m.to = "zoe@example.org";
    c.from = "cx@example.com\nBcc: evil@example.net";
    cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_EINVAL);
    cr_assert_str_eq(err.field, "from");
    cr_assert(!perm);

    char *msgs[4];
    cr_assert_eq(mailbox(msgs, 4), 0, "a rejected message was sent");
    /* the server was there all along: a good message gets through */
    c = server_conf();
    m.message_id = "<good@cxm.test>";
    cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_OK, "%s", err.msg);
    size_t n = mailbox(msgs, 4);
    cr_assert_eq(n, 1);
    char *bcc = header(msgs[0], "Bcc");
    cr_assert_null(bcc);
    assert_header(msgs[0], "Subject", "Hello");
    free(msgs[0]);
}

Test(smtp, a_closed_port_is_a_quick_temporary_failure)
{
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", free_port());
    struct smtp_conf c = {.url = url, .from = "cx@example.com", .timeout_ms = 5000};
    struct smtp_msg m = {.to = "zoe@example.org", .subject = "s", .text = "t"};
    bool perm = true;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_EUNAVAIL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(s, 2.0, "took %.2f s", s);
    cr_assert(!perm);
    cr_assert_not_null(strstr(err.msg, "smtp: "), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "no SMTP response"), "%s", err.msg);
}

Test(smtp, send_checks_its_configuration)
{
    struct smtp_msg m = {.to = "zoe@example.org", .subject = "s", .text = "t"};
    const char *bad[] = {NULL, "", "http://127.0.0.1:25", "smtp:/x", "file:///etc/passwd",
                         "smtp://127.0.0.1:25\r\nX: y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct smtp_conf c = {.url = bad[i], .from = "cx@example.com"};
        bool perm = true;
        struct cxm_err err;
        cxm_err_clear(&err);
        cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_EINVAL, "url %zu accepted", i);
        cr_assert_str_eq(err.field, "url");
        cr_assert(!perm);
    }
    cr_assert_eq(smtp_send(NULL, &m, NULL, NULL), CXM_EINVAL);
    cr_assert_eq(notify_global_init(), CXM_OK);
    cr_assert_eq(notify_global_init(), CXM_OK);
}

/* Answers RCPT with 550 for perm@..., 451 for temp@..., else accepts. */
static const char REJECTING_SERVER[] =
    "import asyncio, sys\n"
    "from aiosmtpd.smtp import SMTP\n"
    "class H:\n"
    "    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):\n"
    "        if address.startswith('perm@'):\n"
    "            return '550 5.1.1 no such user'\n"
    "        if address.startswith('temp@'):\n"
    "            return '451 4.3.0 try again later'\n"
    "        envelope.rcpt_tos.append(address)\n"
    "        return '250 OK'\n"
    "    async def handle_DATA(self, server, session, envelope):\n"
    "        return '250 OK'\n"
    "async def main():\n"
    "    loop = asyncio.get_running_loop()\n"
    "    srv = await loop.create_server(lambda: SMTP(H()), '127.0.0.1', int(sys.argv[1]))\n"
    "    await srv.serve_forever()\n"
    "asyncio.run(main())\n";

Test(smtp, a_5xx_answer_is_permanent_a_4xx_is_not, .fini = server_stop, .timeout = 60)
{
    skip_without_aiosmtpd();
    const char *const argv[] = {PYTHON, "-c", REJECTING_SERVER, "PORT", NULL};
    server_start(argv);
    struct smtp_conf c = server_conf();
    struct smtp_msg m = {.to = "perm@example.org", .subject = "s", .text = "t"};
    bool perm = false;
    struct cxm_err err;
    cxm_err_clear(&err);
    cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_EUNAVAIL);
    cr_assert(perm, "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "550"), "%s", err.msg);

    m.to = "temp@example.org";
    perm = true;
    cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_EUNAVAIL);
    cr_assert(!perm, "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "451"), "%s", err.msg);

    m.to = "ok@example.org";
    cr_assert_eq(smtp_send(&c, &m, &perm, &err), CXM_OK, "%s", err.msg);
    cr_assert(!perm);
}
