/* server.h - the HTTP front door (libmicrohttpd): listens, authenticates,
 * routes to the api_* handlers, answers errors as JSON. No business logic. */
#ifndef CXM_SERVER_H
#define CXM_SERVER_H

#include "common.h"
#include "engine/engine.h"

struct server_opts {
    const char *listen;       /* "host:port"; port 0 picks a free one */
    unsigned threads;         /* HTTP worker threads */
    size_t max_body;          /* request body limit in bytes */
};

/* Blocks SIGINT and SIGTERM in the calling thread and the threads it
 * starts later, so that server_run's sigwait receives them. Call before
 * any thread is created (the engine's writer included). */
void server_block_signals(void);

/* Serves until SIGINT or SIGTERM, then finishes acknowledged work and
 * returns. Prints "listening on http://host:port" to stdout once ready. */
int server_run(struct engine *e, const struct server_opts *o, struct cxm_err *err);

#endif
