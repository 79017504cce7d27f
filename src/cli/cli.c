/* cli.c - helpers shared by the commands: see cli.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

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
