/* api_dashboard.c - see api_dashboard.h. A path is looked up exactly in
 * the table that scripts/gen-dashboard.sh generates. Only with
 * CXM_WEB_DIR set (development) is a file read from disk, and then only a
 * plain name directly in that directory, so no path can escape it. */
#include "http/api_dashboard.h"

#include <stdio.h>
#include <stdlib.h>
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

/* Development: /app/NAME (and /) from the directory CXM_WEB_DIR, where NAME
 * is [a-z0-9_-]+ and one of the dashboard's extensions; never cached. 1:
 * answered; 0: not such a path (the embedded table answers). */
static int from_dir(struct req *r, const char *dir)
{
    const char *name = !strcmp(r->path, "/") ? "index.html"
                       : !strncmp(r->path, "/app/", 5) ? r->path + 5 : NULL;
    if (!name)
        return 0;
    size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-");
    const char *ext = name + len;
    static const struct { const char *ext, *ctype; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"}, {".svg", "image/svg+xml"}};
    const char *ctype = NULL;
    for (size_t i = 0; len && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(ext, types[i].ext))
            ctype = types[i].ctype;
    if (!ctype)
        return 0;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = n > 0 && (size_t)n < sizeof path ? fopen(path, "rb") : NULL;
    if (!f)
        return 0;
    char *body = NULL;
    size_t cap = 0, used = 0;
    for (;;) {
        if (used == cap) {
            char *nb = cap < (8u << 20) ? cxm_realloc(body, cap ? cap * 2 : 65536) : NULL;
            if (!nb) {
                free(body);
                fclose(f);
                reply_error(r, 500, "out_of_memory", "out of memory or file too large", -1,
                            NULL);
                return 1;
            }
            body = nb;
            cap = cap ? cap * 2 : 65536;
        }
        size_t got = fread(body + used, 1, cap - used, f);
        used += got;
        if (got == 0)
            break;
    }
    fclose(f);
    reply_header(r, "Cache-Control", "no-store");
    if (!strncmp(ctype, "text/html", 9)) {
        reply_header(r, "Content-Security-Policy", page_csp);
        reply_header(r, "Referrer-Policy", "same-origin");
    }
    reply_text(r, 200, ctype, body, used);
    return 1;
}

void api_dashboard_asset(struct req *r)
{
    const char *dir = getenv("CXM_WEB_DIR");
    if (dir && *dir && from_dir(r, dir))
        return;
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
