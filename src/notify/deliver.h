/* deliver.h - the delivery thread of the closed loop (docs/closed-loop.md):
 * takes due deliveries from the engine's outbox, posts webhooks signed per
 * Standard Webhooks (libcurl multi, several at once) and sends e-mail over
 * SMTP, reports each attempt back to the engine (which retries, backs off
 * or dead-letters), and asks the engine to record SLA breaches when they
 * fall due. One per server. */
#ifndef CXM_DELIVER_H
#define CXM_DELIVER_H

#include "common.h"
#include "engine/engine.h"

struct deliver_opts {
    int parallel;                /* requests at once; 0: 8 */
    long timeout_ms;             /* per webhook request; 0: 10000 */
};

struct deliver;

int deliver_start(struct engine *e, const struct deliver_opts *o, struct deliver **out,
                  struct cxm_err *err);
/* Stops after the requests in flight (each bounded by its timeout); what
 * was not sent stays pending in the store. Accepts NULL. */
void deliver_stop(struct deliver *d);

/* Sends one webhook request now (tests, `cxm webhooks test`): fills r. */
void deliver_webhook_once(const struct outbound *o, long timeout_ms,
                          struct outbound_result *r, char *errbuf, size_t errcap);

#endif
