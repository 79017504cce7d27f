/* smtp.h - outbound e-mail: builds one RFC 5322 plain-text message and
 * sends it through an SMTP server with libcurl. Never queues or retries:
 * the caller decides from the result whether and when to try again. */
#ifndef CXM_SMTP_H
#define CXM_SMTP_H

#include "common.h"

/* Limits (checked by smtp_format; CXM_ETOOBIG past them):
 * a message body: a notification is a few KiB, 1 MiB leaves room for
 * anything a template can produce and bounds what one send holds. */
#define SMTP_MAX_TEXT (1024u * 1024u)
/* A subject: encoded-words fold it, but a subject is a line, not a text. */
#define SMTP_MAX_SUBJECT 1000
/* A display name ("cxm" in "cxm <cx@example.com>"). */
#define SMTP_MAX_NAME 200
/* An address: RFC 5321 section 4.5.3.1.3 (path of 256 with the brackets). */
#define SMTP_MAX_ADDR 254
/* A Message-ID, brackets included: keeps its header line far below 998. */
#define SMTP_MAX_MSGID 250

/* STARTTLS on smtp:// URLs; smtps:// is TLS from the first byte whatever
 * this says. */
enum smtp_tls {
    SMTP_TLS_TRY = 0,   /* STARTTLS when the server offers it, else plain
                           text (credentials too: use REQUIRE with them) */
    SMTP_TLS_NONE,      /* never STARTTLS (a local relay, tests) */
    SMTP_TLS_REQUIRE    /* STARTTLS or fail */
};

struct smtp_conf {
    const char *url;        /* "smtp://127.0.0.1:2525" or "smtps://host:465" */
    const char *from;       /* "cxm <cx@example.com>" or a bare address */
    const char *username, *password;   /* NULL: no login */
    long timeout_ms;        /* whole transaction; 0: 10000 */
    enum smtp_tls tls;      /* 0 (zeroed struct): SMTP_TLS_TRY */
};

struct smtp_msg {
    const char *to;         /* one address, bare or "Name <addr>" */
    const char *subject;    /* UTF-8; NULL: empty */
    const char *text;       /* UTF-8 plain-text body; NULL: empty */
    const char *message_id; /* "<id@domain>" (brackets optional); NULL:
                               generated "<32 random hex digits@cxm>" */
};

/* Initialises libcurl for the whole program: curl_global_init
 * (CURL_GLOBAL_DEFAULT), once, however many threads call it (pthread_once).
 * Call it from main before starting threads; smtp_send calls it too.
 * CXM_OK, or CXM_EIO when libcurl could not initialise (every later call
 * returns CXM_EIO again). */
int notify_global_init(void);

/* The message smtp_send would send: RFC 5322 headers Date (from now, unix
 * seconds, in UTC), From, To, Subject (as is when printable ASCII short
 * enough for one line, else RFC 2047 "=?UTF-8?B?...?=" words folded at
 * character boundaries), Message-ID, MIME-Version, Content-Type text/plain;
 * charset=UTF-8 and Content-Transfer-Encoding 8bit, or quoted-printable
 * when a body line is over 998 bytes; then the body with every line end
 * (LF, CR or CRLF) made CRLF. Every line ends in CRLF and is at most 998
 * bytes; dot-stuffing is left to the SMTP layer (libcurl).
 * Checks: from and to present and each one address (local@domain, ASCII,
 * optionally "Display Name <addr>"); no CR, LF or other control character
 * in from, to, subject or message_id (which is what makes header injection
 * impossible); subject, text and display names valid UTF-8. CXM_EINVAL
 * with err->field naming the field ("from", "to", "subject", "text",
 * "message_id"), CXM_ETOOBIG past a limit above, CXM_ENOMEM. On success
 * *out is a malloc'd NUL-terminated string of *len bytes, the caller's to
 * free; on failure *out and *len are untouched. */
int smtp_format(const struct smtp_conf *c, const struct smtp_msg *m, int64_t now, char **out,
                size_t *len, struct cxm_err *err);

/* Builds the message (smtp_format at the current time) and sends it to
 * m->to through c->url, logging in when c->username is set. Blocks for at
 * most c->timeout_ms. Returns CXM_OK once the server accepted the message;
 * CXM_EINVAL for a bad message or configuration (url not smtp:// or
 * smtps://; err->field "url"), nothing sent; CXM_EUNAVAIL when sending
 * failed, with the curl error text and the last SMTP response code in
 * err->msg: a temporary failure the caller may retry, unless *permanent
 * is set true, which happens only when the server answered 5xx (do not
 * retry). *permanent is false in every other case; permanent may be NULL.
 * CXM_ENOMEM, CXM_EIO (libcurl failed to initialise). */
int smtp_send(const struct smtp_conf *c, const struct smtp_msg *m, bool *permanent,
              struct cxm_err *err);

#endif
