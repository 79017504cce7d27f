/* harness.c - see harness.h. Test code: failures end the test through
 * Criterion after printing what the server logged. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>

/* What harness_fini needs of each server of this test process, kept
 * outside the struct srv (often on a test's stack, gone after a failed
 * assertion). */
#define MAX_SERVERS 16
struct slot {
    bool used;
    pid_t pid;
    int out_fd;
    void *curl;
    char dir[256], log[320], base[64];
};
static struct slot slots[MAX_SERVERS];
static bool curl_ready;

/* The sanitizer build starts (and replays) several times slower. */
#define START_TIMEOUT_S 20.0
#define STOP_TIMEOUT_S 30.0
#define HTTP_TIMEOUT_S 60L

double now_mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

bool sanitized(void)
{
    const char *v = getenv("CXM_SANITIZED");
    return v && strcmp(v, "1") == 0;
}

static const char *cxm_bin(void)
{
    const char *b = getenv("CXM_BIN");
    return b && *b ? b : "./cxm";
}

static void log_tail(const char *path, int lines)
{
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (!f) {
        fprintf(stderr, "(no server log)\n");
        return;
    }
    /* Keep the offsets of the last `lines` line starts in a ring. */
    long *starts = calloc((size_t)lines + 1, sizeof *starts);
    if (!starts) {
        fclose(f);
        return;
    }
    size_t n = 0;
    int c, prev = '\n';
    long pos = 0;
    while ((c = fgetc(f)) != EOF) {
        if (prev == '\n')
            starts[n++ % (size_t)lines] = pos;
        prev = c;
        pos++;
    }
    long from = n == 0 ? 0 : starts[n <= (size_t)lines ? 0 : n % (size_t)lines];
    free(starts);
    fprintf(stderr, "---- last %d lines of %s ----\n", lines, path);
    fseek(f, from, SEEK_SET);
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, k, stderr);
    fprintf(stderr, "---- end of log ----\n");
    fclose(f);
}

void srv_log_tail(const struct srv *s, int lines)
{
    log_tail(s->log, lines);
}

/* Prints the log tail and fails the test with msg. */
static void srv_fail(const struct srv *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void srv_fail(const struct srv *s, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s)
        srv_log_tail(s, 40);
    cr_assert_fail("%s", msg);
    abort();   /* not reached */
}

/* Copies what harness_fini needs into s's slot, taking one if needed. */
static void sync_slot(struct srv *s)
{
    if (!s->slot) {
        for (int i = 0; i < MAX_SERVERS && !s->slot; i++)
            if (!slots[i].used)
                s->slot = i + 1;
        if (!s->slot)
            srv_fail(NULL, "harness: more than %d servers in one test", MAX_SERVERS);
    }
    struct slot *sl = &slots[s->slot - 1];
    sl->used = true;
    sl->pid = s->pid;
    sl->out_fd = s->out_fd;
    sl->curl = s->curl;
    snprintf(sl->dir, sizeof sl->dir, "%s", s->dir);
    snprintf(sl->log, sizeof sl->log, "%s", s->log);
    snprintf(sl->base, sizeof sl->base, "%s", s->base);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void make_dir(struct srv *s)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(s->dir, sizeof s->dir, "%s/cxm-it-XXXXXX",
                     tmp && *tmp ? tmp : "/tmp");
    if (n < 0 || (size_t)n >= sizeof s->dir || !mkdtemp(s->dir))
        srv_fail(NULL, "mkdtemp failed: %s", strerror(errno));
    snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
}

/* Reads one line of the server's stdout before the deadline into line.
 * Returns false on EOF (the server exited) or timeout. */
static bool read_line(int fd, char *line, size_t cap, double deadline)
{
    size_t n = 0;
    for (;;) {
        double left = deadline - now_mono();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return false;
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        if (c == '\n') {
            line[n] = '\0';
            return true;
        }
        if (n + 1 < cap)
            line[n++] = c;
    }
}

static void launch(struct srv *s)
{
    /* Not thread-safe: done here, in the test's main thread. */
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    const char *argv[8 + SRV_MAX_ARGS + 1];
    size_t a = 0;
    argv[a++] = cxm_bin();
    argv[a++] = "serve";
    argv[a++] = "--db";
    argv[a++] = s->db;
    argv[a++] = "--listen";
    argv[a++] = "127.0.0.1:0";
    for (size_t i = 0; i < SRV_MAX_ARGS && s->args[i]; i++)
        argv[a++] = s->args[i];
    argv[a] = NULL;

    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        srv_fail(NULL, "pipe: %s", strerror(errno));
    int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0)
        srv_fail(NULL, "open %s: %s", s->log, strerror(errno));
    dprintf(logfd, "==== harness: starting %s serve --db %s\n", argv[0], s->db);
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        srv_fail(NULL, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* The server dies with the test, whatever way the test ends. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul < 0 || dup2(nul, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(logfd, 2) < 0)
            _exit(127);
        execv(argv[0], (char *const *)argv);
        dprintf(2, "harness: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    close(logfd);
    s->pid = pid;
    s->out_fd = pfd[0];
    sync_slot(s);

    double deadline = now_mono() + START_TIMEOUT_S;
    char line[512];
    bool key_next = false;
    for (;;) {
        if (!read_line(s->out_fd, line, sizeof line, deadline)) {
            srv_kill9(s, NULL);
            srv_fail(s, "%s did not print its listening line within %.0f s"
                     " (exited or hung)", argv[0], START_TIMEOUT_S);
        }
        if (key_next) {
            snprintf(s->admin, sizeof s->admin, "%.127s", line);
            key_next = false;
        } else if (strstr(line, "first start: admin API key")) {
            key_next = true;
        } else if (strncmp(line, "cxm: listening on http://", 25) == 0) {
            const char *colon = strrchr(line, ':');
            char *end;
            unsigned long p = strtoul(colon + 1, &end, 10);
            if (*end || p == 0 || p > 65535) {
                srv_kill9(s, NULL);
                srv_fail(s, "bad listening line '%s'", line);
            }
            s->port = (unsigned)p;
            snprintf(s->base, sizeof s->base, "http://127.0.0.1:%u", s->port);
            break;
        }
    }
    if (!s->admin[0]) {
        srv_kill9(s, NULL);
        srv_fail(s, "no admin key was printed on first start");
    }
}

void srv_start_args(struct srv *s, const char *const *args)
{
    memset(s, 0, sizeof *s);
    s->out_fd = -1;
    for (size_t i = 0; args && args[i] && i < SRV_MAX_ARGS; i++)
        s->args[i] = args[i];
    make_dir(s);
    sync_slot(s);
    snprintf(s->db, sizeof s->db, "%s/cxm.db", s->dir);
    launch(s);
}

void srv_start(struct srv *s)
{
    srv_start_args(s, NULL);
}

void srv_start_on(struct srv *s, const char *db)
{
    char path[sizeof s->db];
    snprintf(path, sizeof path, "%s", db);   /* db may be s->db itself */
    if (s->pid)
        srv_fail(s, "srv_start_on: the server is still running");
    if (!s->dir[0])
        make_dir(s);
    snprintf(s->db, sizeof s->db, "%s", path);
    launch(s);
}

/* After the process is gone: closes its stdout pipe. */
static void close_out(struct srv *s)
{
    if (s->out_fd >= 0)
        close(s->out_fd);
    s->out_fd = -1;
    sync_slot(s);
}

/* Waits (up to 5 s) until the server's main thread sits in sigwait, so
 * srv_stop tests a clean stop and not the start-up window: up to 67e1ea6
 * a SIGTERM in that window went to the engine's writer thread (started
 * before server_run blocked the signal) and killed the process.
 * http_restart::sigterm_right_after_start_exits_cleanly covers that
 * window on purpose. Linux /proc; when it tells nothing, returns at once. */
static void wait_sigwait(pid_t pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    double deadline = now_mono() + 5.0;
    while (now_mono() < deadline) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        if (strstr(buf, "sigtimedwait"))
            return;
        if (n == 0 || strcmp(buf, "0") == 0)
            return;   /* wchan hidden or the process gone */
        usleep(1000);
    }
}

void srv_stop(struct srv *s)
{
    if (!s->pid)
        srv_fail(s, "srv_stop: no server running");
    pid_t pid = s->pid;
    wait_sigwait(pid);
    kill(pid, SIGTERM);
    double deadline = now_mono() + STOP_TIMEOUT_S;
    int st = 0;
    pid_t r;
    while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_mono() < deadline)
        usleep(5000);
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        s->pid = 0;
        close_out(s);
        srv_fail(s, "the server did not stop within %.0f s of SIGTERM",
                 STOP_TIMEOUT_S);
    }
    s->pid = 0;
    close_out(s);
    if (r < 0)
        srv_fail(s, "waitpid: %s", strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (WIFSIGNALED(st))
            srv_fail(s, "the server died of signal %d after SIGTERM", WTERMSIG(st));
        srv_fail(s, "the server exited with status %d after SIGTERM (want 0)",
                 WEXITSTATUS(st));
    }
}

int srv_kill9(struct srv *s, int *status)
{
    if (!s->pid)
        return -1;
    int st = 0;
    pid_t r;
    while ((r = waitpid(s->pid, &st, WNOHANG)) < 0 && errno == EINTR)
        ;
    int rc = 1;   /* exited before we killed it */
    if (r == 0) {
        kill(s->pid, SIGKILL);
        while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
            ;
        rc = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : 1;
    }
    if (status)
        *status = st;
    s->pid = 0;
    close_out(s);
    return rc;
}

/* Removes dir and everything below it. */
static void rm_tree(const char *dir)
{
    if (dir[0])
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int srv_term_now(struct srv *s)
{
    int st = 0;
    if (!s->pid)
        return -1;
    kill(s->pid, SIGTERM);
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
        ;
    s->pid = 0;
    close_out(s);
    return st;
}

void srv_cleanup(struct srv *s)
{
    srv_kill9(s, NULL);
    if (s->curl)
        curl_easy_cleanup(s->curl);
    s->curl = NULL;
    rm_tree(s->dir);
    s->dir[0] = '\0';
    if (s->slot)
        memset(&slots[s->slot - 1], 0, sizeof slots[0]);
    s->slot = 0;
}

void harness_fini(void)
{
    for (size_t i = 0; i < MAX_SERVERS; i++) {
        struct slot *sl = &slots[i];
        if (!sl->used)
            continue;
        if (sl->pid) {
            fprintf(stderr, "harness: server %d on %s was still running at the"
                    " end of the test\n", (int)sl->pid, sl->base);
            log_tail(sl->log, 40);
            kill(sl->pid, SIGKILL);
            while (waitpid(sl->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
        if (sl->out_fd >= 0)
            close(sl->out_fd);
        if (sl->curl)
            curl_easy_cleanup(sl->curl);
        rm_tree(sl->dir);
        memset(sl, 0, sizeof *sl);
    }
    if (curl_ready)
        curl_global_cleanup();
    curl_ready = false;
}

char *srv_key(struct srv *s, const char *role)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        srv_fail(s, "pipe: %s", strerror(errno));
    int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        srv_fail(s, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (dup2(pfd[1], 1) < 0 || (logfd >= 0 && dup2(logfd, 2) < 0))
            _exit(127);
        execl(cxm_bin(), cxm_bin(), "keys", "create", "--db", s->db, "--role",
              role, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    if (logfd >= 0)
        close(logfd);
    char line[256];
    bool got = read_line(pfd[0], line, sizeof line, now_mono() + START_TIMEOUT_S);
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!got || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        srv_fail(s, "cxm keys create --role %s failed (status 0x%x)", role, st);
    char *key = strdup(line);
    cr_assert(key != NULL);
    return key;
}

/* ---- HTTP ---------------------------------------------------------------- */

struct membuf {
    char *p;
    size_t n, cap;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct membuf *b = ud;
    size_t add = size * nmemb;
    if (b->n + add + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap < b->n + add + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np)
            return 0;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, ptr, add);
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

/* One request on handle c (kept alive between calls). ctype_out gets the
 * response's Content-Type. Never asserts: usable from any thread. */
static char *request(CURL *c, const char *base, const char *method,
                     const char *path, const char *key, const char *ctype,
                     const char *body, size_t len, const char *const *headers,
                     long *status, char *ctype_out, size_t ctype_cap)
{
    *status = 0;
    if (ctype_out && ctype_cap)
        ctype_out[0] = '\0';
    curl_easy_reset(c);   /* keeps the live connection */
    char url[1024], auth[256], ct[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    struct curl_slist *h = NULL;
    /* No "Expect: 100-continue" round trip; no implicit Content-Type. */
    h = curl_slist_append(h, "Expect:");
    snprintf(ct, sizeof ct, "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
    h = curl_slist_append(h, ct);
    if (key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        h = curl_slist_append(h, auth);
    }
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    struct membuf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, HTTP_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (strcmp(method, "GET") == 0 && !body) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(body ? len : 0));
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        }
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        free(b.p);
        return NULL;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    char *rct = NULL;
    if (ctype_out && curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &rct) == CURLE_OK && rct)
        snprintf(ctype_out, ctype_cap, "%s", rct);
    if (!b.p)
        b.p = calloc(1, 1);
    return b.p;
}

char *http_ex(struct srv *s, const char *method, const char *path,
              const char *key, const char *ctype, const char *body,
              size_t len, const char *const *headers, long *status)
{
    *status = 0;
    s->ctype[0] = '\0';
    if (!s->curl) {
        if (!(s->curl = curl_easy_init()))
            return NULL;
        sync_slot(s);
    }
    return request(s->curl, s->base, method, path, key, ctype, body, len, headers,
                   status, s->ctype, sizeof s->ctype);
}

char *http_on(void **curl, const char *base, const char *method, const char *path,
              const char *key, const char *ctype, const char *body, long *status)
{
    *status = 0;
    if (!*curl && !(*curl = curl_easy_init()))
        return NULL;
    return request(*curl, base, method, path, key, ctype, body,
                   body ? strlen(body) : 0, NULL, status, NULL, 0);
}

void http_client_free(void **curl)
{
    if (*curl)
        curl_easy_cleanup(*curl);
    *curl = NULL;
}

char *http(struct srv *s, const char *method, const char *path,
           const char *key, const char *ctype, const char *body, long *status)
{
    return http_ex(s, method, path, key, ctype, body, body ? strlen(body) : 0,
                   NULL, status);
}

json_t *http_json(struct srv *s, const char *method, const char *path,
                  const char *key, const char *ctype, const char *body,
                  long want)
{
    long st;
    char *resp = http(s, method, path, key, ctype, body, &st);
    if (!resp)
        srv_fail(s, "%s %s: no response (transport error)", method, path);
    if (st != want) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s %s: status %ld, want %ld; body: %.400s",
                 method, path, st, want, resp);
        free(resp);
        srv_fail(s, "%s", msg);
    }
    json_error_t je;
    json_t *v = json_loads(resp, JSON_DECODE_ANY, &je);
    if (!v) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s %s: answer is not JSON (%s): %.400s",
                 method, path, je.text, resp);
        free(resp);
        srv_fail(s, "%s", msg);
    }
    free(resp);
    return v;
}

json_t *get_json(struct srv *s, const char *path, const char *key)
{
    return http_json(s, "GET", path, key, NULL, NULL, 200);
}

json_t *post_events(struct srv *s, const char *key, const json_t *doc, long want)
{
    char *body = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    cr_assert(body != NULL);
    json_t *r = http_json(s, "POST", "/v1/events", key, "application/json", body, want);
    free(body);
    return r;
}

/* ---- JSON ---------------------------------------------------------------- */

json_t *jload(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    cr_assert(v != NULL, "not JSON (%s at line %d column %d): %.300s", je.text,
              je.line, je.column, text);
    return v;
}

char *jdump(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
                         JSON_REAL_PRECISION(17));
    cr_assert(s != NULL);
    return s;
}

json_t *jget(const json_t *v, const char *path)
{
    const char *p = path;
    json_t *cur = (json_t *)v;
    while (cur && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            if (*end != ']')
                return NULL;
            cur = json_array_get(cur, i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char key[128];
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = json_object_get(cur, key);
        p += n;
    }
    return cur;
}

long long jint(const json_t *v, const char *path)
{
    json_t *x = jget(v, path);
    cr_assert(json_is_integer(x), "%s is not an integer in %.300s", path,
              json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY));
    return json_integer_value(x);
}

double jnum(const json_t *v, const char *path)
{
    json_t *x = jget(v, path);
    cr_assert(json_is_number(x), "%s is not a number in %.300s", path,
              json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY));
    return json_number_value(x);
}

const char *jstr(const json_t *v, const char *path)
{
    json_t *x = jget(v, path);
    cr_assert(json_is_string(x), "%s is not a string in %.300s", path,
              json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY));
    return json_string_value(x);
}

/* ---- metrics ------------------------------------------------------------- */

double metric_value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            char *end;
            double v = strtod(line + n + 1, &end);
            if (end != line + n + 1)
                return v;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NAN;
}

double srv_metric(struct srv *s, const char *series)
{
    long st;
    char *text = http(s, "GET", "/metrics", NULL, NULL, NULL, &st);
    if (!text || st != 200) {
        free(text);
        srv_fail(s, "GET /metrics: status %ld", st);
    }
    double v = metric_value(text, series);
    free(text);
    if (isnan(v))
        srv_fail(s, "/metrics has no sample '%s'", series);
    return v;
}
