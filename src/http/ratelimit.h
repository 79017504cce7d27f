/* ratelimit.h - token buckets per client address for the public routes
 * (the survey pages, the widget): a fixed-size table behind one mutex, so
 * memory stays bounded whatever the number of clients. Never sleeps and
 * never reads the clock: the caller passes the time. */
#ifndef CXM_RATELIMIT_H
#define CXM_RATELIMIT_H

#include "common.h"

struct ratelimit;

/* A limiter allowing per_minute requests a minute per key, with bursts of
 * up to burst (>= 1) at once. NULL on OOM. */
struct ratelimit *ratelimit_new(double per_minute, double burst);
void ratelimit_free(struct ratelimit *rl);   /* accepts NULL */

/* Takes one token from key's bucket (klen <= 16 bytes: an address) at
 * time now (seconds, monotonic). true: allowed. false: over the limit,
 * *retry_after (may be NULL) the whole seconds until a token is back.
 * When the table is full, the least recently seen key nearby is
 * forgotten (it starts again with a full bucket). Thread-safe. */
bool ratelimit_take(struct ratelimit *rl, const void *key, size_t klen, double now,
                    unsigned *retry_after);

#endif
