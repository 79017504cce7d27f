/* engine_impl.h - the engine's private state, shared by engine.c (writer),
 * query.c (reads) and keys.c (auth). Not for other layers. */
#ifndef CXM_ENGINE_IMPL_H
#define CXM_ENGINE_IMPL_H

#include <pthread.h>

#include "core/strmap.h"
#include "engine/engine.h"
#include "engine/model.h"

struct engine {
    struct store *store;
    char *db;                    /* path, for key creation */
    struct model *m;             /* guarded by lock */
    pthread_rwlock_t lock;
    /* writer queue */
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    struct engine_work *qhead, *qtail;
    bool closing;
    bool failed;                 /* the store failed and reload failed */
    pthread_t writer;
    int lockfd;
    /* stats, guarded by qlock */
    struct engine_stats st;
    /* key cache: hash hex -> role; guarded by kmu */
    pthread_mutex_t kmu;
    struct strmap *keys;
    char **key_hashes;
    size_t nkeys, keycap;
};

#endif
