/* smtp.c - see smtp.h */
#include "notify/smtp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/utf8.h"

#define LINE_MAX_SMTP 998    /* RFC 5322 2.1.1: MUST */
#define LINE_SOFT 78         /* RFC 5322 2.1.1: SHOULD */
#define EW_LINE 76           /* RFC 2047 2: a line holding encoded-words */
#define QP_LINE 76           /* RFC 2045 6.7 (5), the "=" included */
#define EW_HEAD "=?UTF-8?B?"
#define EW_TAIL "?="
#define EW_OVERHEAD (sizeof EW_HEAD - 1 + sizeof EW_TAIL - 1)
#define EW_MAX_IN 45         /* bytes per word: 60 base64 chars, 72 in all */
#define DEFAULT_TIMEOUT_MS 10000L
/* a quoted-printable body is at most 3.12 times the text (=XX for every
 * byte, a soft break every 25 bytes); the headers fit in 64 KiB */
#define MAX_MESSAGE (SMTP_MAX_TEXT * 4u + 64u * 1024u)

/* ---- libcurl initialisation ------------------------------------------------- */

/* Written once under pthread_once, then only read. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int notify_global_init(void)
{
    if (pthread_once(&global_once, global_init_once) != 0)
        return CXM_EIO;
    return global_rc == CURLE_OK ? CXM_OK : CXM_EIO;
}

/* ---- checks ------------------------------------------------------------------- */

/* A C0 control other than tab, or DEL. */
static bool is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Header text: no CR or LF (so no header can be injected), no other
 * control character. */
static int check_header_text(const char *s, const char *field, struct cxm_err *err)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\r' || *p == '\n')
            return cxm_err_field(err, CXM_EINVAL, -1, field, "%s contains CR or LF", field);
        if (is_ctl(*p))
            return cxm_err_field(err, CXM_EINVAL, -1, field, "%s contains a control character",
                                 field);
    }
    return CXM_OK;
}

/* RFC 5322 atext. */
static bool is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* local@domain: a dot-atom local part of at most 64 bytes, a domain of
 * LDH labels (1-63 bytes, no hyphen at either end) of at most 253 bytes. */
static bool addr_ok(const char *s, size_t n)
{
    if (n == 0 || n > SMTP_MAX_ADDR)
        return false;
    const char *at = memchr(s, '@', n);
    if (!at)
        return false;
    size_t ln = (size_t)(at - s), dn = n - ln - 1;
    if (ln == 0 || ln > 64 || dn == 0 || dn > 253)
        return false;
    for (size_t i = 0; i < ln; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (i == 0 || i == ln - 1 || s[i - 1] == '.')
                return false;
        } else if (!is_atext(c)) {
            return false;
        }
    }
    const char *d = at + 1;
    size_t label = 0;
    for (size_t i = 0; i < dn; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-')
                return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-') {
            if ((label == 0 && c == '-') || ++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && d[dn - 1] != '-';
}

/* One mailbox: spans of the display name (may be empty) and address. */
struct mbox {
    const char *name, *addr;
    size_t nlen, alen;
};

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* "addr", "<addr>", "Name <addr>" or "\"Name\" <addr>". */
static int parse_mbox(const char *s, const char *field, struct mbox *m, struct cxm_err *err)
{
    if (!s || !*s)
        return cxm_err_field(err, CXM_EINVAL, -1, field, "%s: no address", field);
    int rc = check_header_text(s, field, err);
    if (rc)
        return rc;
    const char *p = s;
    size_t n = strlen(s);
    trim(&p, &n);
    const char *lt = NULL;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '<')
            lt = p + i;
    m->name = p;
    m->nlen = 0;
    if (lt) {
        if (p[n - 1] != '>')
            return cxm_err_field(err, CXM_EINVAL, -1, field, "%s: '<' without '>' at the end",
                                 field);
        m->addr = lt + 1;
        m->alen = (size_t)(p + n - 1 - m->addr);
        m->nlen = (size_t)(lt - p);
        trim(&m->name, &m->nlen);
        if (m->nlen >= 2 && m->name[0] == '"' && m->name[m->nlen - 1] == '"') {
            m->name++;
            m->nlen -= 2;
        }
    } else {
        m->addr = p;
        m->alen = n;
    }
    if (!addr_ok(m->addr, m->alen))
        return cxm_err_field(err, CXM_EINVAL, -1, field,
                             "%s: '%.*s' does not look like local@domain", field,
                             (int)(m->alen > 64 ? 64 : m->alen), m->addr);
    if (m->nlen > SMTP_MAX_NAME)
        return cxm_err_field(err, CXM_ETOOBIG, -1, field, "%s: display name over %d bytes",
                             field, SMTP_MAX_NAME);
    if (!utf8_valid(m->name, m->nlen))
        return cxm_err_field(err, CXM_EINVAL, -1, field, "%s: display name is not UTF-8", field);
    return CXM_OK;
}

/* ---- writing ------------------------------------------------------------------- */

/* The message being built. The first error sticks and later writes do
 * nothing, so the builder checks once at the end. */
struct out {
    struct buf b;
    size_t col;          /* bytes since the last CRLF */
    int rc;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->rc)
        return;
    o->rc = buf_add(&o->b, s, n);
    if (o->rc)
        return;
    for (size_t i = 0; i < n; i++)
        o->col = s[i] == '\n' ? 0 : o->col + 1;
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* s as RFC 2047 B encoded-words, each within EW_LINE on its line, folded
 * between words (the folding space between two encoded-words is not part
 * of the text) and never splitting a UTF-8 sequence. n > 0. */
static void put_encoded(struct out *o, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t room = EW_LINE > o->col + EW_OVERHEAD ? EW_LINE - o->col - EW_OVERHEAD : 0;
        size_t take = room / 4 * 3;
        if (take > EW_MAX_IN)
            take = EW_MAX_IN;
        if (take < 4 && o->col > 1) {   /* not even one character fits */
            put_str(o, "\r\n ");
            continue;
        }
        if (take > n - i)
            take = n - i;
        while (i + take < n && take > 1 && ((unsigned char)s[i + take] & 0xC0) == 0x80)
            take--;
        char b64[sodium_base64_ENCODED_LEN(EW_MAX_IN, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s + i, take,
                          sodium_base64_VARIANT_ORIGINAL);
        put_str(o, EW_HEAD);
        put_str(o, b64);
        put_str(o, EW_TAIL);
        i += take;
        if (i < n)
            put_str(o, "\r\n ");
    }
}

/* A display name: as atoms when it is made of them, else a quoted
 * string when ASCII, else encoded-words. */
static void put_phrase(struct out *o, const char *s, size_t n)
{
    bool atoms = true, ascii = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            ascii = false;
        if (!(is_atext(c) || c == ' '))
            atoms = false;
    }
    if (atoms && n > 0) {
        put(o, s, n);
    } else if (ascii) {
        put_str(o, "\"");
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"' || s[i] == '\\')
                put_str(o, "\\");
            put(o, s + i, 1);
        }
        put_str(o, "\"");
    } else {
        put_encoded(o, s, n);
    }
}

static void put_mbox(struct out *o, const char *header, const struct mbox *m)
{
    put_str(o, header);
    if (m->nlen > 0) {
        put_phrase(o, m->name, m->nlen);
        if (o->col + 3 + m->alen > LINE_SOFT)
            put_str(o, "\r\n");   /* the space below starts the folded line */
        put_str(o, " <");
        put(o, m->addr, m->alen);
        put_str(o, ">");
    } else {
        put(o, m->addr, m->alen);
    }
    put_str(o, "\r\n");
}

static bool subject_plain(const char *s, size_t n)
{
    if (sizeof "Subject: " - 1 + n > LINE_SOFT || strstr(s, "=?"))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* Length of the line at s (up to n bytes) and of its line break (0 at
 * the end of the text). */
static size_t line_at(const char *s, size_t n, size_t *brk)
{
    size_t i = 0;
    while (i < n && s[i] != '\r' && s[i] != '\n')
        i++;
    *brk = i == n ? 0 : (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
    return i;
}

static bool body_fits_8bit(const char *s, size_t n)
{
    size_t i = 0, brk;
    while (i < n) {
        size_t len = line_at(s + i, n - i, &brk);
        if (len > LINE_MAX_SMTP)
            return false;
        i += len + brk;
    }
    return true;
}

/* The body: each line and a CRLF, also after a last line without its
 * line break. */
static void put_body(struct out *o, const char *s, size_t n, bool qp)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0, brk;
    while (i < n) {
        size_t len = line_at(s + i, n - i, &brk);
        if (!qp) {
            put(o, s + i, len);
        } else {
            for (size_t j = 0; j < len; j++) {
                unsigned char c = (unsigned char)s[i + j];
                bool lit = (c >= 33 && c <= 126 && c != '=') ||
                           ((c == ' ' || c == '\t') && j + 1 < len);
                size_t w = lit ? 1 : 3;
                if (o->col + w > QP_LINE - 1)
                    put_str(o, "=\r\n");   /* soft line break */
                if (lit) {
                    put(o, (const char *)&c, 1);
                } else {
                    char e[3] = {'=', hex[c >> 4], hex[c & 15]};
                    put(o, e, 3);
                }
            }
        }
        put_str(o, "\r\n");
        i += len + brk;
    }
}

static int put_date(struct out *o, int64_t now, struct cxm_err *err)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)now;
    struct tm tm;
    if ((int64_t)t != now || !gmtime_r(&t, &tm) || tm.tm_year < 0 || tm.tm_year > 9999 - 1900)
        return cxm_err_set(err, CXM_EINVAL, "date out of range: %lld", (long long)now);
    char d[64];
    int n = snprintf(d, sizeof d, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
                     days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n < 0 || (size_t)n >= sizeof d)
        return cxm_err_set(err, CXM_EINVAL, "date out of range: %lld", (long long)now);
    put(o, d, (size_t)n);
    return CXM_OK;
}

/* "<id>" from m->message_id (brackets added when missing) or a new one. */
static int message_id(const char *given, char out[SMTP_MAX_MSGID + 1], struct cxm_err *err)
{
    if (!given) {
        if (sodium_init() < 0)
            return cxm_err_set(err, CXM_EIO, "libsodium failed to initialise");
        unsigned char r[16];
        char hex[2 * sizeof r + 1];
        randombytes_buf(r, sizeof r);
        sodium_bin2hex(hex, sizeof hex, r, sizeof r);
        snprintf(out, SMTP_MAX_MSGID + 1, "<%s@cxm>", hex);
        return CXM_OK;
    }
    int rc = check_header_text(given, "message_id", err);
    if (rc)
        return rc;
    size_t n = strlen(given);
    const char *p = given;
    if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
        p++;
        n -= 2;
    }
    if (n + 2 > SMTP_MAX_MSGID)
        return cxm_err_field(err, CXM_ETOOBIG, -1, "message_id", "message_id over %d bytes",
                             SMTP_MAX_MSGID);
    const char *at = memchr(p, '@', n);
    if (n == 0 || !at || at == p || at == p + n - 1)
        return cxm_err_field(err, CXM_EINVAL, -1, "message_id",
                             "message_id: not of the form <left@right>");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f || p[i] == '<' ||
            p[i] == '>')
            return cxm_err_field(err, CXM_EINVAL, -1, "message_id",
                                 "message_id: only printable ASCII without spaces or <>");
    snprintf(out, SMTP_MAX_MSGID + 1, "<%.*s>", (int)n, p);
    return CXM_OK;
}

int smtp_format(const struct smtp_conf *c, const struct smtp_msg *m, int64_t now, char **out,
                size_t *len, struct cxm_err *err)
{
    if (!c || !m)
        return cxm_err_set(err, CXM_EINVAL, "smtp: no configuration or message");
    struct mbox from, to;
    int rc = parse_mbox(c->from, "from", &from, err);
    if (rc)
        return rc;
    if ((rc = parse_mbox(m->to, "to", &to, err)))
        return rc;
    const char *subject = m->subject ? m->subject : "";
    const char *text = m->text ? m->text : "";
    size_t slen = strlen(subject), tlen = strlen(text);
    if ((rc = check_header_text(subject, "subject", err)))
        return rc;
    if (slen > SMTP_MAX_SUBJECT)
        return cxm_err_field(err, CXM_ETOOBIG, -1, "subject", "subject over %d bytes",
                             SMTP_MAX_SUBJECT);
    if (!utf8_valid(subject, slen))
        return cxm_err_field(err, CXM_EINVAL, -1, "subject", "subject is not UTF-8");
    if (tlen > SMTP_MAX_TEXT)
        return cxm_err_field(err, CXM_ETOOBIG, -1, "text", "text over %u bytes", SMTP_MAX_TEXT);
    if (!utf8_valid(text, tlen))
        return cxm_err_field(err, CXM_EINVAL, -1, "text", "text is not UTF-8");
    char mid[SMTP_MAX_MSGID + 1];
    if ((rc = message_id(m->message_id, mid, err)))
        return rc;

    struct out o = {.col = 0, .rc = CXM_OK};
    buf_init(&o.b, MAX_MESSAGE);
    if ((rc = put_date(&o, now, err)))
        goto fail;
    put_mbox(&o, "From: ", &from);
    put_mbox(&o, "To: ", &to);
    put_str(&o, "Subject: ");
    if (subject_plain(subject, slen))
        put(&o, subject, slen);
    else
        put_encoded(&o, subject, slen);
    put_str(&o, "\r\nMessage-ID: ");
    put_str(&o, mid);
    bool qp = !body_fits_8bit(text, tlen);
    put_str(&o, "\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=UTF-8\r\n"
                "Content-Transfer-Encoding: ");
    put_str(&o, qp ? "quoted-printable\r\n\r\n" : "8bit\r\n\r\n");
    put_body(&o, text, tlen, qp);
    if (o.rc) {
        rc = cxm_err_set(err, o.rc, "smtp: %s building the message", cxm_rc_str(o.rc));
        goto fail;
    }
    size_t n;
    char *p = buf_take(&o.b, &n);
    if (!p) {
        rc = cxm_err_set(err, CXM_ENOMEM, "smtp: out of memory");
        goto fail;
    }
    *out = p;
    *len = n;
    return CXM_OK;
fail:
    buf_free(&o.b);
    return rc;
}

/* ---- sending ------------------------------------------------------------------ */

struct reader {
    const char *p;
    size_t left;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
    struct reader *r = ud;
    size_t room = size * nmemb;
    size_t n = r->left < room ? r->left : room;
    memcpy(dst, r->p, n);
    r->p += n;
    r->left -= n;
    return n;
}

static bool url_ok(const char *url)
{
    return url && (strncmp(url, "smtp://", 7) == 0 || strncmp(url, "smtps://", 8) == 0) &&
           !strpbrk(url, " \t\r\n");
}

int smtp_send(const struct smtp_conf *c, const struct smtp_msg *m, bool *permanent,
              struct cxm_err *err)
{
    if (permanent)
        *permanent = false;
    if (!c || !m)
        return cxm_err_set(err, CXM_EINVAL, "smtp: no configuration or message");
    if (!url_ok(c->url))
        return cxm_err_field(err, CXM_EINVAL, -1, "url",
                             "url: smtp://host:port or smtps://host:port expected");
    if ((c->username && check_header_text(c->username, "username", err)) ||
        (c->password && check_header_text(c->password, "password", err)))
        return CXM_EINVAL;
    if (notify_global_init() != CXM_OK)
        return cxm_err_set(err, CXM_EIO, "smtp: libcurl failed to initialise");

    char *msg = NULL;
    size_t len = 0;
    int rc = smtp_format(c, m, (int64_t)time(NULL), &msg, &len, err);
    if (rc)
        return rc;
    /* already checked by smtp_format: these parse */
    struct mbox from, to;
    parse_mbox(c->from, "from", &from, NULL);
    parse_mbox(m->to, "to", &to, NULL);
    char env_from[SMTP_MAX_ADDR + 3], env_to[SMTP_MAX_ADDR + 3];
    snprintf(env_from, sizeof env_from, "<%.*s>", (int)from.alen, from.addr);
    snprintf(env_to, sizeof env_to, "<%.*s>", (int)to.alen, to.addr);

    CURL *h = curl_easy_init();
    struct curl_slist *rcpt = curl_slist_append(NULL, env_to);
    if (!h || !rcpt) {
        rc = cxm_err_set(err, CXM_ENOMEM, "smtp: out of memory");
        goto done;
    }
    struct reader rd = {msg, len};
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = '\0';
    long tls = strncmp(c->url, "smtps://", 8) == 0 ? (long)CURLUSESSL_ALL
               : c->tls == SMTP_TLS_NONE          ? (long)CURLUSESSL_NONE
               : c->tls == SMTP_TLS_REQUIRE       ? (long)CURLUSESSL_ALL
                                                  : (long)CURLUSESSL_TRY;
    CURLcode cc = CURLE_OK;
#define SETOPT(opt, val)                                                                      \
    do {                                                                                      \
        if (cc == CURLE_OK)                                                                   \
            cc = curl_easy_setopt(h, opt, val);                                               \
    } while (0)
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_URL, c->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    SETOPT(CURLOPT_MAIL_FROM, env_from);
    SETOPT(CURLOPT_MAIL_RCPT, rcpt);
    SETOPT(CURLOPT_READFUNCTION, read_cb);
    SETOPT(CURLOPT_READDATA, &rd);
    SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    SETOPT(CURLOPT_UPLOAD, 1L);
    SETOPT(CURLOPT_USE_SSL, tls);
    SETOPT(CURLOPT_TIMEOUT_MS, c->timeout_ms > 0 ? c->timeout_ms : DEFAULT_TIMEOUT_MS);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    if (c->username) {
        SETOPT(CURLOPT_USERNAME, c->username);
        SETOPT(CURLOPT_PASSWORD, c->password ? c->password : "");
    }
#undef SETOPT
    if (cc != CURLE_OK) {
        rc = cxm_err_set(err, CXM_EINVAL, "smtp: libcurl option refused: %s",
                         curl_easy_strerror(cc));
        goto done;
    }
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        long code = 0;
        if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
            code = 0;
        if (permanent)
            *permanent = code >= 500 && code <= 599;
        if (code)
            rc = cxm_err_set(err, CXM_EUNAVAIL, "smtp: %s (SMTP response %ld)",
                             errbuf[0] ? errbuf : curl_easy_strerror(cc), code);
        else
            rc = cxm_err_set(err, CXM_EUNAVAIL, "smtp: %s (no SMTP response)",
                             errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto done;
    }
    rc = CXM_OK;
done:
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    free(msg);
    return rc;
}
