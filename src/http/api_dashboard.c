/* api_dashboard.c - see api_dashboard.h. A path is looked up exactly in
 * the table that scripts/gen-dashboard.sh generates; nothing on disk is
 * read, so no path can escape it. */
#include "http/api_dashboard.h"

#include <string.h>

#include "common.h"
#include "http/route.h"

struct dashboard_asset {
    const char *path;            /* "/app/app.js", "/vendor/echarts.min.js" */
    const char *ctype;
    const unsigned char *data;
    size_t len;
};

#include "dashboard_assets.h"   /* build/gen: dashboard_assets[] */

/* The page may load only its own scripts, styles and data: no inline code,
 * no framing, no other origin. */
static const char page_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

static const struct dashboard_asset *find(const char *path)
{
    if (!strcmp(path, "/"))
        path = "/app/index.html";
    for (size_t i = 0; i < sizeof dashboard_assets / sizeof dashboard_assets[0]; i++)
        if (!strcmp(dashboard_assets[i].path, path))
            return &dashboard_assets[i];
    return NULL;
}

void api_dashboard_asset(struct req *r)
{
    const struct dashboard_asset *a = find(r->path);
    if (!a) {
        static const char msg[] = "not found\n";
        char *body = cxm_strndup(msg, sizeof msg - 1);
        reply_text(r, body ? 404 : 500, "text/plain; charset=utf-8", body,
                   body ? sizeof msg - 1 : 0);
        return;
    }
    /* reply_text takes a malloc'd body it frees after sending. */
    char *body = cxm_malloc(a->len ? a->len : 1);
    if (!body) {
        reply_error(r, 500, "out_of_memory", "out of memory", -1, NULL);
        return;
    }
    memcpy(body, a->data, a->len);
    if (!strncmp(a->ctype, "text/html", 9)) {
        /* Always revalidated, so a new binary's page is seen at once; the
         * files it names are cached an hour. */
        reply_header(r, "Cache-Control", "no-cache");
        reply_header(r, "Content-Security-Policy", page_csp);
        reply_header(r, "Referrer-Policy", "same-origin");
    } else {
        reply_header(r, "Cache-Control", "public, max-age=3600");
    }
    reply_text(r, 200, a->ctype, body, a->len);
}
