/* api_dashboard.h - the dashboard's static files (web/dashboard/ and
 * ECharts from web/node_modules), compiled into the binary at build time
 * (scripts/gen-dashboard.sh). Serves bytes only: never calls the engine,
 * needs no API key (the data comes from /v1 routes), and reads no file
 * unless CXM_WEB_DIR names a directory to serve /app/ from instead (for
 * working on the dashboard without rebuilding; docs/dashboard.md). */
#ifndef CXM_API_DASHBOARD_H
#define CXM_API_DASHBOARD_H

struct req;

/* GET / (the app's index.html), GET /app/{file} and GET /vendor/{file}:
 * the embedded file with its Content-Type; index.html with no-cache and a
 * strict Content-Security-Policy, the rest cached an hour. An unknown
 * path is 404 plain text. */
void api_dashboard_asset(struct req *r);

#endif
