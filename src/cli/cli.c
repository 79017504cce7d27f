/* cli.c - helpers shared by the commands: see cli.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rows.h"
#include "engine/engine.h"
#include "log.h"

const char *cli_db(const char *flag)
{
    if (flag && *flag)
        return flag;
    const char *env = getenv("CXM_DB");
    return env && *env ? env : "cxm.db";
}

int cli_fail(const char *cmd, const struct cxm_err *err)
{
    fprintf(stderr, "cxm %s: %s\n", cmd, err->msg[0] ? err->msg : cxm_rc_str(err->code));
    return EXIT_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cxm %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nrun 'cxm %s --help' for usage\n", cmd);
    return EXIT_USAGE;
}

int cli_read_file(const char *path, size_t max, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return CXM_EIO;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = CXM_OK;
    for (;;) {
        if ((rc = cxm_grow((void **)&buf, &cap, n + 65537, 1)))
            break;
        size_t got = fread(buf + n, 1, 65536, f);
        n += got;
        if (n > max) {
            rc = CXM_ETOOBIG;
            break;
        }
        if (got < 65536) {
            if (ferror(f))
                rc = CXM_EIO;
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    return CXM_OK;
}

int cli_open_engine(const char *cmd, const char *db, bool write, struct engine **e)
{
    struct cxm_err err;
    cxm_err_clear(&err);
    struct engine_opts eo = {.sync = STORE_SYNC_FULL, .lock = write};
    log_set_level(LOG_WARN);
    if (engine_open(cli_db(db), &eo, e, &err))
        return cli_fail(cmd, &err);
    return EXIT_OK;
}

int cli_whole(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    int64_t v;
    if (!cxm_parse_i64(s, &v) || v < lo || v > hi)
        return cli_usage(cmd, "%s wants a whole number from %ld to %ld", opt, lo, hi);
    *out = (long)v;
    return EXIT_OK;
}

int cli_format(const char *cmd, const char *format)
{
    if (strcmp(format, "table") && strcmp(format, "csv") && strcmp(format, "json"))
        return cli_usage(cmd, "--format wants table, csv or json");
    return EXIT_OK;
}

bool cli_set_str(void *args, const struct cli_str_opt *opts, size_t n, int opt,
                 const char *v)
{
    for (size_t i = 0; i < n; i++)
        if (opts[i].opt == opt) {
            *(const char **)(void *)((char *)args + opts[i].off) = v;
            return true;
        }
    return false;
}

int cli_one_of(const char *opt, const char *v, const char *const *ok, size_t n,
               const char *usage, struct cxm_err *err)
{
    for (size_t i = 0; v && i < n; i++)
        if (!strcmp(v, ok[i]))
            return CXM_OK;
    return v ? cxm_err_set(err, CXM_EINVAL, "%s wants %s", opt, usage) : CXM_OK;
}

int cli_range(const char *from, const char *to, int64_t *t_from, int64_t *t_to,
              struct cxm_err *err)
{
    int rc = CXM_OK;
    *t_from = 0;
    *t_to = INT64_MAX;
    if (from)
        rc = report_parse_bound(from, false, NULL, t_from, err);
    if (!rc && to)
        rc = report_parse_bound(to, true, NULL, t_to, err);
    return rc;
}

int cli_finish(const char *cmd, struct engine *e, json_t *doc, const char *format, int rc,
               const struct cxm_err *err)
{
    if (!rc) {
        if (!strcmp(format, "json")) {
            char *s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
            if (s)
                puts(s);
            free(s);
        } else {
            rows_print(stdout, doc, format);
        }
    }
    json_decref(doc);
    engine_close(e);
    if (!rc)
        return EXIT_OK;
    return rc == CXM_EINVAL ? cli_usage(cmd, "%s", err->msg) : cli_fail(cmd, err);
}
