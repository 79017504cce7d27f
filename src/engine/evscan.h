/* evscan.h - decodes a POST /v1/events body straight into struct events
 * without a jansson tree, and the jansson path it must agree with. Never
 * guesses (EVSCAN_FALLBACK instead); no I/O, no clock. */
#ifndef CXM_EVSCAN_H
#define CXM_EVSCAN_H

#include "engine/event.h"

/* evscan_body: not sure to agree with jansson; run evscan_jansson. */
#define EVSCAN_FALLBACK 1001
/* evscan_jansson: the body is not well-formed JSON (HTTP 400
 * invalid_json); err->msg says where, err->index is the NDJSON record
 * (-1 for a JSON body). */
#define EVSCAN_EJSON 1002

/* Decodes every record of body[0..len) (NDJSON when ndjson) as
 * event_decode would, filling a record's missing ts with now. route_type:
 * the one record type the route takes, filled in when a record has no
 * string type (NULL: any). On 0, *evs (malloc'd, the caller frees it; not
 * NULL even when *n is 0) holds *n events whose strings live in a. Errors,
 * with the precedence of evscan_jansson: EVSCAN_FALLBACK (outputs and err
 * untouched), or a record's error (CXM_EINVAL, CXM_ENOMEM...) in err
 * naming its index and field, reported only once the whole body is known
 * to be well-formed. a may hold garbage after a failure; it is the
 * caller's to free. */
int evscan_body(const char *body, size_t len, bool ndjson, const char *route_type,
                int64_t now, struct arena *a, struct event **evs, size_t *n,
                struct cxm_err *err);

/* The same with a jansson tree: the reference for every outcome. On 0,
 * *batch (the caller's, json_decref) holds the parsed records that the
 * events' strings borrow from; *evs and *n as for evscan_body. Errors:
 * EVSCAN_EJSON, CXM_EINVAL when the body is not an array or object,
 * CXM_ETOOBIG past CXM_MAX_BATCH records, CXM_ENOMEM, or the first
 * record's error from event_decode; outputs untouched then. */
int evscan_jansson(const char *body, size_t len, bool ndjson, const char *route_type,
                   int64_t now, struct arena *a, json_t **batch, struct event **evs,
                   size_t *n, struct cxm_err *err);

#endif
