/* store.c - backend dispatch: picks the backend for a spec. */
#include "store/store.h"
#include "store/store_sqlite.h"

struct store *store_open(const char *spec, const struct store_opts *o,
                         struct cxm_err *err)
{
    return store_sqlite_open(spec, o, err);
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

int store_schema_version(void)
{
    return store_sqlite_schema_version();
}
