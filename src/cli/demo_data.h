/* demo_data.h - deterministic generator of realistic demo records (people,
 * journeys, support, feedback, orders) in the cxm ingest format, oldest first.
 * Never does I/O and never reads the clock: records go to a callback. */
#ifndef CXM_DEMO_DATA_H
#define CXM_DEMO_DATA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common.h"

#define DEMO_DEFAULT_CUSTOMERS 5000
#define DEMO_DEFAULT_SEED 42
/* Phone numbers and loyalty ids are built to stay unique up to this many
 * people, and per-person state (under 128 bytes each) stays modest. */
#define DEMO_MAX_CUSTOMERS 1000000

struct demo_opts {
    size_t customers;     /* people to simulate; 0 means DEMO_DEFAULT_CUSTOMERS */
    uint64_t seed;        /* PRNG seed (DEMO_DEFAULT_SEED by demo_opts_init) */
    int64_t end_ts;       /* unix seconds; all activity lies in the 24 months
                           * (730 days) before end_ts */
};

/* Fills o with the defaults and the given end of the simulated window. */
void demo_opts_init(struct demo_opts *o, int64_t end_ts);

/* Receives one record. The callee borrows rec (it is freed after the call
 * returns; json_incref it to keep it). A non-zero return aborts generation
 * and is returned by demo_generate. */
typedef int (*demo_emit_fn)(json_t *rec, void *ctx);

/* Simulates o->customers people and emits about 30-60 records per person
 * (employees first, then customer, identify, interaction, feedback and order
 * records in ascending ts). Deterministic: the same opts give byte-identical
 * records in the same order, on any locale and clock.
 * Returns 0; CXM_EINVAL when o or emit is NULL, end_ts is out of range
 * (before 1973 or after 9999) or customers exceeds DEMO_MAX_CUSTOMERS;
 * CXM_ENOMEM; or the callback's non-zero return. err may be NULL. */
int demo_generate(const struct demo_opts *o, demo_emit_fn emit, void *ctx,
                  struct cxm_err *err);

#endif
