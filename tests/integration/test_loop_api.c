/* The closed loop over real HTTP: alert rules open a deduplicated case; a
 * local webhook receiver (libmicrohttpd in this process) checks every
 * delivery's Standard Webhooks signature and timestamp with its own HMAC
 * (libsodium), answers 500 to the first tries (cxm retries), is down while
 * cxm restarts (nothing lost, each customer's events in order), and the
 * delivery log shows every attempt; a resolution e-mailed to the customer
 * ("you said, we did") arrives at a real local SMTP server (aiosmtpd);
 * roles; the team views. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

TestSuite(loop_api, .fini = harness_fini);

/* ---- the receiver ------------------------------------------------------ */

#define MAX_GOT 256

struct got {
    long long msg;               /* outbox id from webhook-id "msg_N" */
    long long customer;          /* data.customer; -1 none */
    char type[48];
    int status;                  /* what we answered */
};

struct receiver {
    struct MHD_Daemon *d;
    unsigned port;
    unsigned char key[64];
    size_t klen;
    pthread_mutex_t mu;
    int fail_first;              /* answer 500 to this many requests */
    int requests, bad_signatures;
    struct got got[MAX_GOT];
    size_t ngot;
};

struct body {
    char *p;
    size_t n;
};

/* Independent check of the Standard Webhooks signature. */
static bool signature_ok(struct receiver *r, const char *id, const char *ts, const char *sig,
                         const char *body, size_t n)
{
    if (!id || !ts || !sig || strncmp(sig, "v1,", 3))
        return false;
    long long t = atoll(ts);
    if (llabs((long long)time(NULL) - t) > 300)
        return false;
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, r->key, r->klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, n);
    crypto_auth_hmacsha256_final(&st, mac);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    return strcmp(sig + 3, b64) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *size, void **state)
{
    (void)url;
    (void)method;
    (void)version;
    struct receiver *r = cls;
    struct body *b = *state;
    if (!b) {
        *state = calloc(1, sizeof *b);
        return *state ? MHD_YES : MHD_NO;
    }
    if (*size) {
        char *p = realloc(b->p, b->n + *size + 1);
        if (!p)
            return MHD_NO;
        memcpy(p + b->n, data, *size);
        b->p = p;
        b->n += *size;
        b->p[b->n] = '\0';
        *size = 0;
        return MHD_YES;
    }
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
    const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-timestamp");
    const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-signature");
    pthread_mutex_lock(&r->mu);
    int status = r->requests++ < r->fail_first ? 500 : 200;
    if (!signature_ok(r, id, ts, sig, b->p ? b->p : "", b->n)) {
        r->bad_signatures++;
        status = 400;
    }
    json_error_t je;
    json_t *doc = b->p ? json_loads(b->p, 0, &je) : NULL;
    if (r->ngot < MAX_GOT) {
        struct got *g = &r->got[r->ngot++];
        g->msg = id ? atoll(id + 4) : -1;
        json_t *cu = json_object_get(json_object_get(doc, "data"), "customer");
        g->customer = json_is_integer(cu) ? json_integer_value(cu) : -1;
        snprintf(g->type, sizeof g->type, "%s", json_string_value(json_object_get(doc, "type"))
                                                    ? json_string_value(json_object_get(doc, "type"))
                                                    : "?");
        g->status = status;
    }
    pthread_mutex_unlock(&r->mu);
    json_decref(doc);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"",
                                                                MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static void on_done(void *cls, struct MHD_Connection *c, void **state,
                    enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    (void)why;
    struct body *b = *state;
    if (b) {
        free(b->p);
        free(b);
    }
    *state = NULL;
}

static void receiver_start(struct receiver *r)
{
    r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)r->port, NULL, NULL,
                            on_request, r, MHD_OPTION_NOTIFY_COMPLETED, on_done, r,
                            MHD_OPTION_END);
    cr_assert_not_null(r->d, "receiver did not start on port %u", r->port);
    if (!r->port)
        r->port = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void receiver_stop(struct receiver *r)
{
    if (r->d)
        MHD_stop_daemon(r->d);
    r->d = NULL;
}

/* Messages answered 200, as (msg, customer) in arrival order. */
static size_t delivered(struct receiver *r, struct got *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->ngot && n < max; i++)
        if (r->got[i].status == 200)
            out[n++] = r->got[i];
    pthread_mutex_unlock(&r->mu);
    return n;
}

static size_t wait_delivered(struct receiver *r, size_t want, double secs)
{
    struct got g[MAX_GOT];
    double t0 = now_mono();
    size_t n;
    while ((n = delivered(r, g, MAX_GOT)) < want && now_mono() - t0 < secs)
        usleep(50000);
    return n;
}

/* Every customer's messages arrive once each, in increasing outbox order. */
static void assert_order_and_once(struct receiver *r)
{
    struct got g[MAX_GOT];
    size_t n = delivered(r, g, MAX_GOT);
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++) {
            cr_assert_neq(g[i].msg, g[k].msg, "msg_%lld delivered twice", g[i].msg);
            if (g[i].customer >= 0 && g[i].customer == g[k].customer)
                cr_assert_lt(g[i].msg, g[k].msg, "customer %lld: msg_%lld after msg_%lld",
                             g[i].customer, g[k].msg, g[i].msg);
        }
}

static void feedback(struct srv *s, const char *email, int score)
{
    json_t *a = json_pack("[{s:s, s:s, s:s, s:i}]", "type", "feedback", "email", email, "kind",
                          "nps", "score", score);
    json_decref(post_events(s, s->admin, a, 200));
    json_decref(a);
}

static const char *const fast_retries[] = {"--retry-base-ms", "100", "--retry-max-ms", "400",
                                           "--webhook-timeout-ms", "2000", NULL};

Test(loop_api, webhooks_signed_retried_and_in_order_across_a_restart, .timeout = 120)
{
    cr_assert_eq(sodium_init() < 0, 0);
    struct srv s;
    srv_start_args(&s, fast_retries);
    struct receiver r = {.fail_first = 3};
    pthread_mutex_init(&r.mu, NULL);
    receiver_start(&r);
    json_decref(http_json(&s, "PUT", "/v1/alert-rules", s.admin, "application/json",
                          "{\"rules\":[{\"id\":\"detractor\",\"when\":\"nps <= 6\","
                          "\"priority\":\"high\",\"team\":\"care\",\"sla\":"
                          "{\"first_response\":\"4h\",\"resolution\":\"2d\"}}]}", 200));
    char body[256];
    snprintf(body, sizeof body, "{\"url\":\"http://127.0.0.1:%u/hook\",\"events\":"
             "[\"feedback.created\",\"case.opened\",\"case.updated\"]}", r.port);
    json_t *wh = http_json(&s, "POST", "/v1/webhooks", s.admin, "application/json", body, 201);
    const char *secret = jstr(wh, "secret");
    cr_assert_eq(strncmp(secret, "whsec_", 6), 0);
    cr_assert_eq(sodium_base642bin(r.key, sizeof r.key, secret + 6, strlen(secret + 6), NULL,
                                   &r.klen, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    char id[64];
    snprintf(id, sizeof id, "%s", jstr(wh, "id"));
    json_decref(wh);
    /* a@ (customer 1): detractor, promoter, detractor; b@ (2): promoter */
    feedback(&s, "a@x.com", 3);
    feedback(&s, "a@x.com", 9);
    feedback(&s, "b@x.com", 10);
    feedback(&s, "a@x.com", 2);
    /* 4 feedback.created, 1 case.opened, 1 case.updated (the second
     * detractor joins the open case) */
    cr_assert_eq(wait_delivered(&r, 6, 20), 6, "deliveries through three 500s");
    cr_assert_eq(r.bad_signatures, 0);
    cr_assert_eq(srv_metric(&s, "cxm_delivery_retries_total"), 3);
    cr_assert_eq(srv_metric(&s, "cxm_cases_open"), 1);
    json_t *cases = get_json(&s, "/v1/cases", s.admin);
    cr_assert_eq(jint(cases, "total"), 1, "one case for two detractors");
    json_decref(cases);

    /* the receiver goes down; events keep coming; cxm restarts */
    receiver_stop(&r);
    feedback(&s, "a@x.com", 1);
    feedback(&s, "b@x.com", 4);
    usleep(300000);              /* a few refused attempts */
    srv_stop(&s);
    srv_start_on(&s, s.db);
    receiver_start(&r);
    /* + 2 feedback.created, case.updated (a@), case.opened (b@) */
    cr_assert_eq(wait_delivered(&r, 10, 30), 10, "nothing lost across the restart");
    usleep(300000);
    cr_assert_eq(wait_delivered(&r, 11, 0.1), 10, "and nothing doubled");
    assert_order_and_once(&r);
    cr_assert_eq(r.bad_signatures, 0);

    /* the delivery log: the first message took four attempts */
    char path[160];
    snprintf(path, sizeof path, "/v1/webhooks/%s/deliveries?attempts=true&limit=100", id);
    json_t *log = get_json(&s, path, s.admin);
    json_t *rows = jget(log, "deliveries");
    cr_assert_eq(json_array_size(rows), 10);
    json_t *first = json_array_get(rows, 9);
    cr_assert_eq(jint(first, "outbox"), 1);
    cr_assert_str_eq(jstr(first, "status"), "delivered");
    cr_assert_geq(jint(first, "attempts"), 2, "500s are retried");
    cr_assert_eq(json_array_size(jget(first, "attempts_log")), (size_t)jint(first, "attempts"));
    cr_assert_eq(jint(first, "attempts_log[0].code"), 500);
    json_decref(log);

    /* replay resends a range: outbox 1..2 */
    snprintf(path, sizeof path, "/v1/webhooks/%s/replay", id);
    json_t *rp = http_json(&s, "POST", path, s.admin, "application/json",
                           "{\"from\":1,\"to\":2}", 200);
    cr_assert_eq(jint(rp, "replayed"), 2);
    json_decref(rp);
    cr_assert_eq(wait_delivered(&r, 12, 20), 12);

    /* roles: an analyst sees no webhooks; a writer no cases */
    char *analyst = srv_key(&s, "analyst"), *writer = srv_key(&s, "writer");
    long code;
    free(http(&s, "GET", "/v1/webhooks", analyst, NULL, NULL, &code));
    cr_assert_eq(code, 403);
    free(http(&s, "GET", "/v1/cases", writer, NULL, NULL, &code));
    cr_assert_eq(code, 403);
    /* employees through their own route: a writer may send them */
    json_decref(http_json(&s, "POST", "/v1/employees", writer, "application/json",
                          "[{\"employee_id\":\"ann\",\"name\":\"Ann\",\"team\":\"care\"}]",
                          200));
    char *bad = http(&s, "POST", "/v1/employees", writer, "application/json",
                     "[{\"type\":\"order\",\"order_id\":\"o\"}]", &code);
    cr_assert_eq(code, 400);
    cr_assert(strstr(bad, "\"field\":\"type\""), "%s", bad);
    free(bad);
    json_t *emps = get_json(&s, "/v1/employees", analyst);
    cr_assert_str_eq(jstr(emps, "employees[0].team"), "care");
    json_decref(emps);
    json_t *perf = get_json(&s, "/v1/team/performance", analyst);
    cr_assert(json_is_array(jget(perf, "agents")));
    json_decref(perf);
    free(analyst);
    free(writer);
    srv_stop(&s);
    receiver_stop(&r);
    srv_cleanup(&s);
    pthread_mutex_destroy(&r.mu);
}

/* ---- e-mail ------------------------------------------------------------- */

#define PYTHON "/usr/bin/python3"

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

static pid_t smtp_pid;

static void smtp_kill(void)
{
    if (smtp_pid > 0) {
        kill(smtp_pid, SIGKILL);
        waitpid(smtp_pid, NULL, 0);
        smtp_pid = 0;
    }
}

/* aiosmtpd storing messages in dir/new; skips without it. */
static int smtp_start(const char *dir)
{
    if (access(PYTHON, X_OK) != 0 || system(PYTHON " -c 'import aiosmtpd' 2>/dev/null") != 0)
        cr_skip_test("needs " PYTHON " with aiosmtpd (scripts/deps.sh installs it)");
    int port = free_port();
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    smtp_pid = fork();
    cr_assert_neq(smtp_pid, -1);
    if (smtp_pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(PYTHON, PYTHON, "-m", "aiosmtpd", "-n", "-l", listen, "-c",
              "aiosmtpd.handlers.Mailbox", dir, (char *)NULL);
        _exit(127);
    }
    double t0 = now_mono();
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool up = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (up)
            break;
        cr_assert_lt(now_mono() - t0, 15, "the SMTP server did not start");
        usleep(50000);
    }
    return port;
}

/* The first message in dir/new, malloc'd; NULL when none yet. */
static char *first_mail(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/new", dir);
    DIR *d = opendir(path);
    struct dirent *e;
    char *text = NULL;
    while (d && !text && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        FILE *f = fopen(file, "rb");
        if (!f)
            continue;
        text = calloc(1, 65536);
        if (text)
            fread(text, 1, 65535, f);
        fclose(f);
    }
    if (d)
        closedir(d);
    return text;
}

Test(loop_api, a_resolution_is_emailed_to_the_customer, .timeout = 90, .fini = smtp_kill)
{
    struct srv s;
    srv_start_args(&s, fast_retries);
    char maildir[400];
    snprintf(maildir, sizeof maildir, "%s/mail", s.dir);
    int port = smtp_start(maildir);
    char body[512];
    snprintf(body, sizeof body, "{\"smtp_url\":\"smtp://127.0.0.1:%d\",\"from\":"
             "\"Care <care@shop.example>\",\"password\":\"s3cret\"}", port);
    json_t *st = http_json(&s, "PUT", "/v1/settings/email", s.admin, "application/json", body,
                           200);
    cr_assert(json_is_true(jget(st, "password_set")));
    cr_assert_null(jget(st, "password"), "the password is never returned");
    json_decref(st);
    json_decref(http_json(&s, "PUT", "/v1/alert-rules", s.admin, "application/json",
                          "{\"rules\":[{\"id\":\"billing\",\"when\":\"nps <= 6\"}],"
                          "\"messages\":{\"resolved\":{\"subject\":\"Your {reason} issue\","
                          "\"text\":\"Dear {first_name|customer}, we did: {resolution}.\"}}}",
                          200));
    json_t *a = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:i}]", "type", "customer",
                          "email", "zoe@x.com", "name", "Zoé Martin", "type", "feedback",
                          "email", "zoe@x.com", "kind", "nps", "score", 2);
    json_decref(post_events(&s, s.admin, a, 200));
    json_decref(a);
    char *agent = srv_key(&s, "agent");
    json_t *c = http_json(&s, "PATCH", "/v1/cases/1", agent, "application/json",
                          "{\"status\":\"resolved\",\"resolution\":\"refunded the double "
                          "charge\",\"tell_customer\":true}", 200);
    cr_assert_str_eq(jstr(c, "status"), "resolved");
    json_decref(c);
    char *mail = NULL;
    double t0 = now_mono();
    while (!(mail = first_mail(maildir)) && now_mono() - t0 < 20)
        usleep(100000);
    cr_assert_not_null(mail, "no e-mail arrived");
    cr_assert(strstr(mail, "To: zoe@x.com"), "%s", mail);
    cr_assert(strstr(mail, "Subject: Your billing issue"), "%s", mail);
    cr_assert(strstr(mail, "Dear Zoé, we did: refunded the double charge."), "%s", mail);
    free(mail);
    json_t *k = get_json(&s, "/v1/cases/1", agent);
    json_t *h = jget(k, "history");
    bool sent = false;
    for (size_t i = 0; i < json_array_size(h); i++)
        sent |= !strcmp(jstr(json_array_get(h, i), "kind"), "message_sent");
    cr_assert(sent, "the case history says the message went");
    json_decref(k);
    /* the SMTP delivery log shows the one attempt */
    json_t *log = get_json(&s, "/v1/webhooks/smtp/deliveries", s.admin);
    cr_assert_str_eq(jstr(log, "deliveries[0].status"), "delivered");
    json_decref(log);
    free(agent);
    srv_stop(&s);
    srv_cleanup(&s);
}
