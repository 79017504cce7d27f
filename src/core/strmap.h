/* strmap.h - open-addressing hash map from a byte string to a uint32_t.
 * Keys are borrowed: the caller keeps them alive and unchanged while they
 * are in the map. No I/O, no locking: the owner serialises access. */
#ifndef CXM_STRMAP_H
#define CXM_STRMAP_H

#include "common.h"

struct strmap;

struct strmap *strmap_new(void);          /* NULL on OOM */
void strmap_free(struct strmap *m);        /* accepts NULL; keys untouched */
/* Frees the map and every key with free(): for maps that own their keys. */
void strmap_free_keys(struct strmap *m);
size_t strmap_count(const struct strmap *m);
/* true and *val when key (len bytes) is present. */
bool strmap_get(const struct strmap *m, const char *key, size_t len, uint32_t *val);
/* Inserts or replaces. key must outlive its entry. CXM_OK or CXM_ENOMEM. */
int strmap_put(struct strmap *m, const char *key, size_t len, uint32_t val);
/* The same with the key's strmap_hash computed by the caller, who may
 * use it for other tables too. */
bool strmap_get_h(const struct strmap *m, const char *key, size_t len, uint64_t h,
                  uint32_t *val);
int strmap_put_h(struct strmap *m, const char *key, size_t len, uint64_t h, uint32_t val);
/* Makes room for n entries without growing again. CXM_OK or CXM_ENOMEM. */
int strmap_reserve(struct strmap *m, size_t n);
/* Removes key; false when it was absent. */
bool strmap_del(struct strmap *m, const char *key, size_t len);
/* Bytes held by the table itself (not the keys). */
size_t strmap_bytes(const struct strmap *m);
uint64_t strmap_hash(const char *key, size_t len);
/* strmap_hash of a, a NUL byte, then b: a two-part key without building it. */
uint64_t strmap_hash2(const char *a, size_t al, const char *b, size_t bl);
/* For a writer that knows its next keys' hashes: asks the CPU for the slot
 * of h ahead of strmap_get_h. */
void strmap_prefetch(const struct strmap *m, uint64_t h);
/* The key and value in h's home slot when its hash is h (most likely the
 * entry strmap_get_h will find), else NULL: to prefetch what it points to. */
const char *strmap_peek(const struct strmap *m, uint64_t h, uint32_t *val);

#endif
