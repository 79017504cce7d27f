/* engine_fixture.h - what the engine-level unit tests share: a fresh
 * database in a temp directory per test, an engine on it, and ingest of
 * JSON records through the real decoder and writer. */
#ifndef CXM_ENGINE_FIXTURE_H
#define CXM_ENGINE_FIXTURE_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/engine.h"

extern char fx_dir[64];
extern char fx_db[128];

/* .init / .fini of a test: creates / removes fx_dir with fx_db in it. */
void fx_setup(void);
void fx_teardown(void);
/* An engine on fx_db (sync off, writer lock taken); no_text stores texts
 * unscored. Fails the test when it does not open. */
struct engine *fx_open(bool no_text);
/* Decodes each record of arr (a missing ts is now) and ingests them as
 * one batch, failing the test on any error. */
void fx_ingest(struct engine *e, json_t *arr, int64_t now);

#endif
