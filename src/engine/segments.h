/* segments.h - segments inside the engine: their definitions, compiled
 * rules and memberships, kept current by the writer as records arrive.
 * Internal to engine/. */
#ifndef CXM_SEGMENTS_H
#define CXM_SEGMENTS_H

#include "core/filter.h"
#include "engine/engine_impl.h"

struct segment {
    char *id, *name, *rule, *description;
    int64_t seq, created_ts, updated_ts;
    struct filter *f;
    bool timed;                  /* answer moves with the clock */
    uint64_t *bits;              /* members by profile root id */
    size_t words;                /* of bits */
    size_t count;
};

struct segset {
    struct segment *s;
    size_t n, cap;
    int64_t day;                 /* the day time-dependent rules were run for */
    uint64_t dict_gen;           /* dictionary sizes the rules were bound to */
};

/* The engine's clock: the fixed time set for tests, else now. */
int64_t engine_now(const struct engine *e);

/* Loads the definitions and computes every membership (at open). */
int segments_open(struct engine *e, struct cxm_err *err);
void segments_close(struct engine *e);
/* Writer, under the write lock, after records of these customer nodes
 * were applied: binds rules to new dictionary values and updates the
 * memberships of their profiles (and of profiles they merged into or
 * were cut from). */
void segments_touch(struct engine *e, const uint32_t *nodes, size_t n);
/* Writer, under the write lock: runs the time-dependent rules again when
 * the day changed; everything after a reload (all = true). */
void segments_refresh(struct engine *e, bool all);
/* Takes the read lock with the time-dependent memberships of today (the
 * writer runs them first when the day changed). */
void segments_rdlock(struct engine *e);
/* Whether time-dependent memberships are from an earlier day. */
bool segments_stale(const struct engine *e);
/* Writer: ENGINE_SEGMENT work (create, update, delete). */
int segments_apply(struct engine *e, struct engine_work *w, int64_t seq, struct cxm_err *err);
/* The segment with this id, NULL when none. Under the read lock. */
const struct segment *segment_find(const struct engine *e, const char *id);
/* Whether profile root is a member. */
bool segment_has(const struct segment *s, uint32_t root);

#endif
