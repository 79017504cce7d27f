/* decide.h - next-best-action inside the engine: the action catalogue and
 * contact policy in use, decisions, contacts and the decision log.
 * Internal to engine/. */
#ifndef CXM_DECIDE_H
#define CXM_DECIDE_H

#include "engine/engine_impl.h"

/* Loads the catalogue and policy from the store (defaults when never
 * set) and the last decision id. */
int nba_open(struct engine *e, struct cxm_err *err);
void nba_close(struct engine *e);
/* Writer: ENGINE_CONFIG (stores and swaps the document), ENGINE_CONTACT
 * (checks and records contacts), ENGINE_DECISIONS (writes the log). */
int nba_apply_config(struct engine *e, struct engine_work *w, int64_t seq,
                     struct cxm_err *err);
int nba_apply_contacts(struct engine *e, struct engine_work *w, int64_t *seq,
                       uint32_t **touched, size_t *nt, size_t *tcap, struct cxm_err *err);
int nba_apply_decisions(struct engine *e, struct engine_work *w, struct cxm_err *err);
/* Decisions logged and dropped (the log full) since start. */
void nba_stats(struct engine *e, uint64_t *logged, uint64_t *dropped);
/* Whether decisions wait to be written (the writer flushes them when
 * idle for a moment, and before it stops). */
bool nba_log_waiting(struct engine *e);
/* Writer: rules bound again after dictionaries grew; segment ids looked
 * up again after segments changed. */
void nba_rebind(struct engine *e);
/* Id of an action whose eligibility names segment id; NULL when none. */
const char *nba_segment_user(const struct engine *e, const char *id);

#endif
