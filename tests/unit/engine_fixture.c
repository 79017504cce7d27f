/* engine_fixture.c - see engine_fixture.h */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/arena.h"
#include "engine_fixture.h"
#include "log.h"

char fx_dir[64];
char fx_db[128];

void fx_setup(void)
{
    log_set_level(LOG_WARN);
    snprintf(fx_dir, sizeof fx_dir, "/tmp/cxm-unit-XXXXXX");
    cr_assert(mkdtemp(fx_dir));
    snprintf(fx_db, sizeof fx_db, "%s/t.db", fx_dir);
}

void fx_teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx_dir);
    cr_assert(system(cmd) == 0);
}

struct engine *fx_open(bool no_text)
{
    struct engine *e = NULL;
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine_opts o = {.sync = STORE_SYNC_OFF, .lock = true, .no_text = no_text};
    cr_assert_eq(engine_open(fx_db, &o, &e, &err), 0, "%s", err.msg);
    return e;
}

void fx_ingest(struct engine *e, json_t *arr, int64_t now)
{
    size_t n = json_array_size(arr);
    struct event *ev = calloc(n ? n : 1, sizeof *ev);
    cr_assert(ev);
    struct arena a = {0};
    for (size_t i = 0; i < n; i++) {
        struct cxm_err err;
        cxm_err_clear(&err);
        cr_assert_eq(event_decode(json_array_get(arr, i), (long)i, now, &a, &ev[i], &err),
                     0, "record %zu: %s", i, err.msg);
    }
    struct engine_work w = {.op = ENGINE_INGEST, .ev = ev, .n = n};
    cr_assert_eq(engine_run(e, &w), 0, "%s", w.err.msg);
    free(ev);
    arena_free(&a);
}
