/* harness.h - integration test harness: runs the real cxm binary on a
 * fresh temp database, talks HTTP to it (libcurl) and reads JSON (jansson).
 * Never includes project headers: it sees cxm only from the outside. */
#ifndef CXM_TEST_HARNESS_H
#define CXM_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define SRV_MAX_ARGS 8

/* One server process: srv_start, use, srv_stop, srv_cleanup. When a test
 * fails halfway, harness_fini (the suites' .fini) kills and cleans up from
 * a copy the harness keeps (the struct itself may be on a stack that is
 * gone); the server also gets SIGKILL if the test process dies
 * (PR_SET_PDEATHSIG on the forking thread), so start servers from the
 * test's main thread. */
struct srv {
    pid_t pid;                      /* 0: not running */
    int out_fd;                     /* read end of the server's stdout */
    unsigned port;
    char dir[256];                  /* mkdtemp dir: database, log */
    char db[320];
    char log[320];                  /* the server's stderr, all runs */
    char admin[128];                /* admin key printed on first start */
    char base[64];                  /* "http://127.0.0.1:PORT" */
    const char *args[SRV_MAX_ARGS + 1];   /* extra serve args, NULL-ended */
    void *curl;                     /* CURL *: one keep-alive connection */
    char ctype[128];                /* Content-Type of the last response */
    int slot;                       /* private: 1 + index of its copy kept
                                       for harness_fini; 0 none */
};

/* Starts a server on a new temp dir database (fails the test on error). */
void srv_start(struct srv *s);
/* Same with extra `cxm serve` arguments (NULL-terminated, borrowed for the
 * life of s), e.g. {"--max-body", "2048", NULL}. */
void srv_start_args(struct srv *s, const char *const *args);
/* (Re)starts on db, typically s->db after srv_stop/srv_kill9: keeps the
 * admin key (printed on first start only), temp dir and extra args. */
void srv_start_on(struct srv *s, const char *db);
/* SIGTERM once the server waits for it (see wait_sigwait in harness.c),
 * waits (30 s), asserts exit status 0. Prints the log tail on failure. */
void srv_stop(struct srv *s);
/* SIGKILL and reap. Returns 0 when SIGKILL ended it, 1 when it had
 * already exited on its own (a crash: *status, if not NULL, gets the wait
 * status), -1 when no server was running. Never asserts: safe from a
 * helper thread while the main thread talks to the server. */
int srv_kill9(struct srv *s, int *status);
/* SIGTERM at once, without srv_stop's wait, and reap: the wait status
 * (-1 when no server ran). Never asserts. */
int srv_term_now(struct srv *s);
/* Kills a running server, frees the curl handle, removes the temp dir. */
void srv_cleanup(struct srv *s);
/* Prints the last lines of the server log to stderr. */
void srv_log_tail(const struct srv *s, int lines);
/* Runs `cxm keys create --db s->db --role role`: the new key, malloc'd. */
char *srv_key(struct srv *s, const char *role);

/* One request over s's keep-alive handle. key: Bearer key or NULL.
 * ctype: Content-Type or NULL (then none is sent). body: NULL for none.
 * *status gets the HTTP status, or 0 on a transport failure (then NULL is
 * returned). Returns the response body, malloc'd and NUL-terminated.
 * Never asserts. */
char *http(struct srv *s, const char *method, const char *path,
           const char *key, const char *ctype, const char *body, long *status);
/* As http with an explicit body length and extra headers (NULL-ended). */
char *http_ex(struct srv *s, const char *method, const char *path,
              const char *key, const char *ctype, const char *body,
              size_t len, const char *const *headers, long *status);
/* As http over a handle of the caller's, for client threads (a struct srv
 * is not shared between threads): *curl is created on first use and freed
 * by http_client_free. base: the server's s->base, copied before the
 * thread starts. Never asserts. */
char *http_on(void **curl, const char *base, const char *method, const char *path,
              const char *key, const char *ctype, const char *body, long *status);
void http_client_free(void **curl);
/* http + asserts the status is want + parses: a new reference. */
json_t *http_json(struct srv *s, const char *method, const char *path,
                  const char *key, const char *ctype, const char *body,
                  long want);
/* GET path with key, asserting 200: a new reference. */
json_t *get_json(struct srv *s, const char *path, const char *key);
/* POSTs doc (dumped compactly) to /v1/events as application/json and
 * asserts the status: the parsed answer, a new reference. */
json_t *post_events(struct srv *s, const char *key, const json_t *doc, long want);

/* Parses text, failing the test when it is not JSON: a new reference. */
json_t *jload(const char *text);
/* Compact dump with sorted keys, malloc'd: for comparisons. */
char *jdump(const json_t *v);
/* Borrowed value at path "a.b[2].c" ("" is v itself; keys hold no "." or
 * "["); NULL when absent. */
json_t *jget(const json_t *v, const char *path);
/* Integer / number / string at path; the test fails when absent or of
 * another type. */
long long jint(const json_t *v, const char *path);
double jnum(const json_t *v, const char *path);
const char *jstr(const json_t *v, const char *path);

/* Value of the sample line "series value" in Prometheus text, where series
 * is a metric name with its labels exactly as printed; NAN when absent. */
double metric_value(const char *text, const char *series);
/* GET /metrics and metric_value; fails the test when absent. */
double srv_metric(struct srv *s, const char *series);

/* Suite .fini: kills and cleans servers a failed test left running
 * (printing their log tails) and frees global state. */
void harness_fini(void);

/* Seconds of the monotonic clock. */
double now_mono(void);
/* True when env CXM_SANITIZED=1: tests scale their work down. */
bool sanitized(void);

#endif
