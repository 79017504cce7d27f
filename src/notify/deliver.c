/* deliver.c - the delivery thread: outbox -> webhooks (libcurl multi) and
 * e-mail (SMTP). Knows nothing of retries or order: the engine decides
 * what may go and what an attempt's outcome means for the next one. */
#include "notify/deliver.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/webhook.h"
#include "log.h"
#include "notify/smtp.h"

#define MAX_PARALLEL 32

struct deliver {
    struct engine *e;
    struct deliver_opts o;
    pthread_t th;
    atomic_bool stop;
};

struct job {
    const struct outbound *o;
    struct outbound_result *r;
    CURL *h;
    struct curl_slist *hdr;
    char err[CURL_ERROR_SIZE];
    double t0;
};

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

static void result_start(const struct outbound *o, struct outbound_result *r)
{
    *r = (struct outbound_result){.outbox = o->outbox, .webhook = o->webhook,
                                  .attempt = o->attempt, .ts = (int64_t)time(NULL)};
}

/* Prepares the signed POST of job j; CXM_ENOMEM or CXM_EINVAL (the
 * secret) with the reason in j->err. */
static int job_prepare(struct job *j, long timeout_ms)
{
    const struct outbound *o = j->o;
    char id[40], ts[40], sig[WEBHOOK_SIG_LEN], line[WEBHOOK_SIG_LEN + 32];
    int64_t now = (int64_t)time(NULL);
    snprintf(id, sizeof id, "msg_%lld", (long long)o->outbox);
    struct cxm_err err;
    cxm_err_clear(&err);
    if (webhook_sign(o->secret, id, now, o->payload, strlen(o->payload), sig, &err)) {
        snprintf(j->err, sizeof j->err, "signing failed: %.200s", err.msg);
        return CXM_EINVAL;
    }
    char hid[64];
    snprintf(hid, sizeof hid, "webhook-id: %s", id);
    snprintf(ts, sizeof ts, "webhook-timestamp: %lld", (long long)now);
    snprintf(line, sizeof line, "webhook-signature: %s", sig);
    const char *h[] = {"Content-Type: application/json", "User-Agent: cxm-webhooks/1",
                       hid, ts, line, "Expect:"};
    for (size_t i = 0; i < sizeof h / sizeof *h; i++) {
        struct curl_slist *n = curl_slist_append(j->hdr, h[i]);
        if (!n)
            return CXM_ENOMEM;
        j->hdr = n;
    }
    if (!(j->h = curl_easy_init()))
        return CXM_ENOMEM;
    CURL *c = j->h;
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->payload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(o->payload));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, j->hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, j->err);
    curl_easy_setopt(c, CURLOPT_PRIVATE, j);
    return CXM_OK;
}

static void job_finish(struct job *j, CURLcode cc)
{
    struct outbound_result *r = j->r;
    long code = 0;
    if (cc == CURLE_OK)
        curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
    r->code = (int)code;
    r->ms = (int64_t)((cxm_seconds() - j->t0) * 1000);
    r->verdict = webhook_classify(cc == CURLE_OK ? code : 0);
    if (cc != CURLE_OK && !j->err[0])
        snprintf(j->err, sizeof j->err, "%s", curl_easy_strerror(cc));
    else if (cc == CURLE_OK && r->verdict != WH_DELIVERED)
        snprintf(j->err, sizeof j->err, "HTTP %ld", code);
    else if (cc == CURLE_OK)
        j->err[0] = '\0';
    r->error = j->err[0] ? j->err : NULL;
}

static void job_free(struct job *j)
{
    if (j->h)
        curl_easy_cleanup(j->h);
    curl_slist_free_all(j->hdr);
}

/* Posts every webhook job at once and waits for all (each bounded by its
 * timeout). */
static void send_webhooks(struct job *jobs, size_t n, long timeout_ms)
{
    CURLM *m = curl_multi_init();
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        struct job *j = &jobs[i];
        j->t0 = cxm_seconds();
        int rc = job_prepare(j, timeout_ms);
        if (!rc && m && curl_multi_add_handle(m, j->h) == CURLM_OK) {
            added++;
            continue;
        }
        j->r->verdict = rc == CXM_EINVAL ? WH_FAILED : WH_RETRY;
        if (!j->err[0])
            snprintf(j->err, sizeof j->err, "out of memory");
        j->r->error = j->err;
    }
    int running = (int)added;
    while (m && running > 0) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct job *j;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            job_finish(j, msg->data.result);
        }
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 200, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (m && jobs[i].h)
            curl_multi_remove_handle(m, jobs[i].h);
        if (jobs[i].h && !jobs[i].r->verdict) {   /* never finished */
            jobs[i].r->verdict = WH_RETRY;
            snprintf(jobs[i].err, sizeof jobs[i].err, "interrupted");
            jobs[i].r->error = jobs[i].err;
        }
        job_free(&jobs[i]);
    }
    if (m)
        curl_multi_cleanup(m);
}

/* Sends one e-mail of the outbox: payload {"data": {to, subject, text}}. */
static void send_email(const struct outbound *o, struct outbound_result *r, char *errbuf,
                       size_t cap)
{
    json_error_t je;
    json_t *p = json_loads(o->payload, 0, &je);
    json_t *d = json_object_get(p, "data");
    char mid[64];
    snprintf(mid, sizeof mid, "<msg_%lld@cxm>", (long long)o->outbox);
    /* a login never goes in clear: STARTTLS is required with credentials */
    struct smtp_conf c = {.url = o->url, .from = o->from, .username = o->username,
                          .password = o->password, .timeout_ms = o->timeout_ms,
                          .tls = o->username ? SMTP_TLS_REQUIRE : SMTP_TLS_TRY};
    struct smtp_msg msg = {.to = json_string_value(json_object_get(d, "to")),
                           .subject = json_string_value(json_object_get(d, "subject")),
                           .text = json_string_value(json_object_get(d, "text")),
                           .message_id = mid};
    struct cxm_err err;
    cxm_err_clear(&err);
    bool permanent = false;
    double t0 = cxm_seconds();
    int rc = !o->url ? cxm_err_set(&err, CXM_EUNAVAIL, "no SMTP server is set")
             : smtp_send(&c, &msg, &permanent, &err);
    r->ms = (int64_t)((cxm_seconds() - t0) * 1000);
    r->code = rc ? (permanent ? 550 : 0) : 250;
    r->verdict = !rc ? WH_DELIVERED : (rc == CXM_EINVAL || permanent) ? WH_FAILED : WH_RETRY;
    if (rc) {
        snprintf(errbuf, cap, "%s", err.msg);
        r->error = errbuf;
    }
    json_decref(p);
}

void deliver_webhook_once(const struct outbound *o, long timeout_ms,
                          struct outbound_result *r, char *errbuf, size_t errcap)
{
    struct job j = {.o = o, .r = r};
    result_start(o, r);
    send_webhooks(&j, 1, timeout_ms > 0 ? timeout_ms : 10000);
    snprintf(errbuf, errcap, "%s", j.err);
    r->error = r->error ? errbuf : NULL;
}

/* Timed work of the engine: SLA breaches, and the surveys' triggers,
 * cadence and reminders (*survey_next: when they are due again). */
static void ticks(struct engine *e, int64_t *survey_next)
{
    int64_t now = (int64_t)time(NULL), due = engine_sla_next(e);
    struct cxm_err err;
    cxm_err_clear(&err);
    if (due && due <= now && engine_sla_check(e, &err))
        log_msg(LOG_ERROR, "recording SLA breaches failed: %s", err.msg);
    if (*survey_next > now)
        return;
    if (engine_survey_tick(e, survey_next, &err)) {
        log_msg(LOG_ERROR, "survey invitations failed: %s", err.msg);
        *survey_next = now + 60;
    } else if (!*survey_next || *survey_next > now + 60) {
        *survey_next = now + 60;     /* new triggers arrive with the data */
    }
}

static void *deliver_main(void *arg)
{
    struct deliver *d = arg;
    size_t max = (size_t)d->o.parallel;
    struct outbound out[MAX_PARALLEL];
    struct outbound_result res[MAX_PARALLEL];
    struct job jobs[MAX_PARALLEL];
    char errs[MAX_PARALLEL][CURL_ERROR_SIZE];
    int64_t survey_next = 0;
    while (!atomic_load(&d->stop)) {
        ticks(d->e, &survey_next);
        size_t n = 0;
        engine_outbound_take(d->e, out, max, &n, 1000);
        if (!n)
            continue;
        size_t nj = 0;
        for (size_t i = 0; i < n; i++) {
            result_start(&out[i], &res[i]);
            if (strcmp(out[i].webhook, "smtp") == 0)
                send_email(&out[i], &res[i], errs[i], sizeof errs[i]);
            else
                jobs[nj++] = (struct job){.o = &out[i], .r = &res[i]};
        }
        send_webhooks(jobs, nj, d->o.timeout_ms);
        for (size_t i = 0; i < nj; i++)
            if (jobs[i].r->error) {   /* the job's buffer dies with the job */
                size_t k = (size_t)(jobs[i].r - res);
                snprintf(errs[k], sizeof errs[k], "%s", jobs[i].err);
                res[k].error = errs[k];
            }
        struct cxm_err err;
        cxm_err_clear(&err);
        if (engine_outbound_done(d->e, res, n, &err))
            log_msg(LOG_ERROR, "recording %zu delivery attempts failed: %s", n, err.msg);
        for (size_t i = 0; i < n; i++)
            outbound_free(&out[i]);
    }
    return NULL;
}

int deliver_start(struct engine *e, const struct deliver_opts *o, struct deliver **out,
                  struct cxm_err *err)
{
    if (notify_global_init())
        return cxm_err_set(err, CXM_EIO, "libcurl did not initialise");
    struct deliver *d = cxm_calloc(1, sizeof *d);
    if (!d)
        return cxm_err_set(err, CXM_ENOMEM, "out of memory");
    d->e = e;
    d->o = o ? *o : (struct deliver_opts){0};
    if (d->o.parallel <= 0 || d->o.parallel > MAX_PARALLEL)
        d->o.parallel = 8;
    if (d->o.timeout_ms <= 0)
        d->o.timeout_ms = 10000;
    atomic_init(&d->stop, false);
    if (pthread_create(&d->th, NULL, deliver_main, d)) {
        free(d);
        return cxm_err_set(err, CXM_ENOMEM, "cannot start the delivery thread");
    }
    *out = d;
    return CXM_OK;
}

void deliver_stop(struct deliver *d)
{
    if (!d)
        return;
    atomic_store(&d->stop, true);
    engine_outbound_wake(d->e);
    pthread_join(d->th, NULL);
    free(d);
}
