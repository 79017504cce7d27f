/* idset.h - the in-memory idempotency index: maps the 64-bit hash of an
 * event id to the rows that may carry it, in 8 bytes a row (a 32-bit
 * fingerprint and a 32-bit row number). A match is only a candidate: the
 * owner confirms it against the stored id. No I/O, no locking. */
#ifndef CXM_IDSET_H
#define CXM_IDSET_H

#include "common.h"

struct idset {
    uint64_t *slots;          /* 0: empty; else fingerprint << 32 | row */
    size_t cap, count;        /* cap: power of two */
};

uint64_t idset_hash(const char *id, size_t len);
/* Adds row (>= 1) under hash h. CXM_OK or CXM_ENOMEM. */
int idset_add(struct idset *s, uint64_t h, uint32_t row);
/* Iterates the rows whose entry matches h: start with *pos = 0; returns a
 * row, or 0 when there are no more. */
uint32_t idset_next(const struct idset *s, uint64_t h, size_t *pos);
/* Entry for idset_build: what idset_add would store. */
uint64_t idset_entry(uint64_t h, uint32_t row);
/* Builds an empty set from n entries at once (a replay): entries are
 * placed in bucket order, so the table is written front to back instead
 * of at random. Reorders entries. CXM_OK or CXM_ENOMEM. */
int idset_build(struct idset *s, uint64_t *entries, size_t n);
/* Asks the CPU for the first slot idset_next or idset_add will read for h. */
void idset_prefetch(const struct idset *s, uint64_t h);
void idset_free(struct idset *s);
size_t idset_bytes(const struct idset *s);

#endif
