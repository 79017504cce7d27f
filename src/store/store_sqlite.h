/* store_sqlite.h - the embedded SQLite backend of store.h (WAL, FULL sync
 * by default). Only store.c calls it. */
#ifndef CXM_STORE_SQLITE_H
#define CXM_STORE_SQLITE_H

#include "store/store.h"

struct store *store_sqlite_open(const char *path, const struct store_opts *o,
                                struct cxm_err *err);
int store_sqlite_schema_version(void);

#ifdef CXM_TEST
/* Creates path with the schema at version target only (migration tests). */
int store_sqlite_create_at(const char *path, int target, struct cxm_err *err);
#endif

#endif
