/* ratelimit.c - see ratelimit.h. Open addressing with a short probe
 * window: a key lives in one of RL_PROBE slots after its hash; a new key
 * takes a free one there or evicts the one seen least recently. */
#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cxm_limits.h"

#define RL_KEY 16
#define RL_PROBE 16

struct rl_slot {
    unsigned char key[RL_KEY];
    unsigned char klen;          /* 0: free */
    double tokens;
    double seen;                 /* last refill */
};

struct ratelimit {
    pthread_mutex_t mu;
    double rate;                 /* tokens a second */
    double burst;
    struct rl_slot slot[CXM_RATELIMIT_SLOTS];
};

struct ratelimit *ratelimit_new(double per_minute, double burst)
{
    if (!(per_minute > 0) || !(burst >= 1))
        return NULL;
    struct ratelimit *rl = cxm_calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    if (pthread_mutex_init(&rl->mu, NULL) != 0) {
        free(rl);
        return NULL;
    }
    rl->rate = per_minute / 60.0;
    rl->burst = burst;
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

static size_t rl_hash(const unsigned char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

/* The slot of key: its own, else a free one, else the stalest in the
 * window (reset). */
static struct rl_slot *rl_find(struct ratelimit *rl, const unsigned char *key, size_t klen,
                               double now)
{
    size_t h = rl_hash(key, klen);
    struct rl_slot *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < RL_PROBE; i++) {
        struct rl_slot *s = &rl->slot[(h + i) % CXM_RATELIMIT_SLOTS];
        if (s->klen == klen && !memcmp(s->key, key, klen))
            return s;
        if (!s->klen && !free_slot)
            free_slot = s;
        if (s->klen && (!oldest || s->seen < oldest->seen))
            oldest = s;
    }
    struct rl_slot *s = free_slot ? free_slot : oldest;
    memcpy(s->key, key, klen);
    s->klen = (unsigned char)klen;
    s->tokens = rl->burst;
    s->seen = now;
    return s;
}

bool ratelimit_take(struct ratelimit *rl, const void *key, size_t klen, double now,
                    unsigned *retry_after)
{
    static const unsigned char none[1];
    if (klen == 0) {             /* an unknown address: one shared bucket */
        key = none;
        klen = 1;
    } else if (klen > RL_KEY) {
        klen = RL_KEY;
    }
    pthread_mutex_lock(&rl->mu);
    struct rl_slot *s = rl_find(rl, key, klen, now);
    if (now > s->seen) {
        s->tokens = fmin(rl->burst, s->tokens + (now - s->seen) * rl->rate);
        s->seen = now;
    }
    bool ok = s->tokens >= 1.0;
    if (ok)
        s->tokens -= 1.0;
    double wait = ok ? 0 : ceil((1.0 - s->tokens) / rl->rate);
    pthread_mutex_unlock(&rl->mu);
    if (retry_after)
        *retry_after = wait < 1 ? 1u : (unsigned)wait;
    return ok;
}
