/* api_health.c - /healthz, /metrics (Prometheus text) and /openapi.json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "http/route.h"

void api_healthz(struct req *r)
{
    struct engine_stats st;
    engine_stats(r->eng, &st);
    reply_json(r, 200, json_pack("{s:s, s:I}", "status", "ok", "seq", (json_int_t)st.seq));
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

void api_metrics(struct req *r)
{
    struct engine_stats st;
    engine_stats(r->eng, &st);
    struct buf b;
    buf_init(&b, 1u << 20);
    static const char *const gauges[][2] = {
        {"cxm_seq", "Highest committed sequence number reflected in memory."},
        {"cxm_customers", "Customer records, merged ones included."},
        {"cxm_profiles", "Distinct people: customers not merged into another."},
        {"cxm_identities", "Known identities."},
        {"cxm_merges", "Active merges."},
        {"cxm_interactions", "Interaction rows in memory."},
        {"cxm_feedback", "Feedback rows in memory."},
        {"cxm_orders", "Order rows in memory."},
        {"cxm_employees", "Employees."},
        {"cxm_column_bytes", "Bytes reserved by the interaction and feedback columns."},
        {"cxm_replay_seconds", "Time the start-up replay took."},
        {"cxm_replay_rows", "Rows replayed at start-up."},
        {"cxm_segments", "Segments defined."},
        {"cxm_contacts", "Contacts recorded (contact policy)."},
        {"cxm_cases_open", "Cases open or in progress."},
        {"cxm_deliveries_pending", "Webhook and e-mail deliveries waiting to go."},
    };
    double gv[] = {(double)st.seq, (double)st.customers, (double)st.profiles,
                   (double)st.identities, (double)st.merges, (double)st.interactions,
                   (double)st.feedback, (double)st.orders, (double)st.employees,
                   (double)st.column_bytes, st.replay_seconds, (double)st.replay_rows,
                   (double)st.segments, (double)st.contacts, (double)st.cases_open,
                   (double)st.deliveries_pending};
    for (size_t i = 0; i < sizeof gv / sizeof gv[0]; i++)
        buf_printf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", gauges[i][0],
                   gauges[i][1], gauges[i][0], gauges[i][0], gv[i]);
    static const char *const counters[][2] = {
        {"cxm_events_accepted_total", "Records stored."},
        {"cxm_events_duplicate_total", "Records acknowledged as already stored."},
        {"cxm_commits_total", "Store transactions committed (group commits)."},
        {"cxm_commit_failures_total", "Store transactions that failed."},
        {"cxm_commit_seconds_total", "Time spent committing."},
        {"cxm_decisions_total", "Next-best-action decisions logged."},
        {"cxm_decisions_dropped_total", "Decisions not logged: the log queue was full."},
        {"cxm_deliveries_total", "Deliveries that reached their endpoint."},
        {"cxm_delivery_retries_total", "Delivery attempts that failed and will be tried again."},
        {"cxm_deliveries_failed_total", "Deliveries dead-lettered (refused or out of attempts)."},
        {"cxm_reports_rollup_total", "Metric reports answered from the daily rollups."},
        {"cxm_reports_rows_total", "Metric reports that read the rows."},
    };
    double cv[] = {(double)st.events_accepted, (double)st.events_duplicate,
                   (double)st.commits, (double)st.commit_failures, st.commit_seconds,
                   (double)st.decisions_logged, (double)st.decisions_dropped,
                   (double)st.deliveries_ok, (double)st.deliveries_retried,
                   (double)st.deliveries_failed, (double)st.reports_rollup,
                   (double)st.reports_rows};
    for (size_t i = 0; i < sizeof cv / sizeof cv[0]; i++)
        buf_printf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %.17g\n", counters[i][0],
                   counters[i][1], counters[i][0], counters[i][0], cv[i]);
    buf_printf(&b, "# HELP process_resident_memory_bytes Resident memory.\n"
               "# TYPE process_resident_memory_bytes gauge\n"
               "process_resident_memory_bytes %ld\n", resident_bytes());
    server_metrics(r->srv, &b);
    size_t len;
    char *body = buf_take(&b, &len);
    reply_text(r, 200, "text/plain; version=0.0.4", body, len);
}

/* A compact OpenAPI 3.1 description; docs/api.md has the prose. */
static const char openapi[] =
    "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"cxm\",\"version\":\"1\","
    "\"description\":\"Customer Experience Management engine. See docs/api.md.\"},"
    "\"components\":{\"securitySchemes\":{\"key\":{\"type\":\"http\",\"scheme\":\"bearer\"}},"
    "\"schemas\":{\"Error\":{\"type\":\"object\",\"properties\":{\"error\":{\"type\":\"object\","
    "\"properties\":{\"code\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},"
    "\"index\":{\"type\":\"integer\"},\"field\":{\"type\":\"string\"}}}}}}},"
    "\"security\":[{\"key\":[]}],"
    "\"paths\":{"
    "\"/healthz\":{\"get\":{\"security\":[],\"summary\":\"Liveness and the seq served\","
    "\"responses\":{\"200\":{\"description\":\"ok\"}}}},"
    "\"/metrics\":{\"get\":{\"security\":[],\"summary\":\"Prometheus metrics\","
    "\"responses\":{\"200\":{\"description\":\"text exposition format\"}}}},"
    "\"/v1/events\":{\"post\":{\"summary\":\"Ingest a batch of records (admin, writer)\","
    "\"requestBody\":{\"content\":{\"application/json\":{},\"application/x-ndjson\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"{accepted, duplicates, seq}\"},"
    "\"400\":{\"description\":\"invalid record: nothing stored\"},\"401\":{\"description\":\"no key\"},"
    "\"403\":{\"description\":\"role\"},\"413\":{\"description\":\"too big\"},"
    "\"415\":{\"description\":\"content type\"}}}},"
    "\"/v1/customers\":{\"get\":{\"summary\":\"Search by identity, name or email prefix (admin, agent)\","
    "\"parameters\":[{\"name\":\"q\",\"in\":\"query\",\"required\":true},{\"name\":\"limit\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"{q, customers:[...]}\"}}}},"
    "\"/v1/customers/{id}\":{\"get\":{\"summary\":\"Unified profile (admin, agent)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true}],"
    "\"responses\":{\"200\":{\"description\":\"profile\"},\"404\":{\"description\":\"unknown\"}}}},"
    "\"/v1/customers/{id}/timeline\":{\"get\":{\"summary\":\"Cross-channel history, newest first (admin, agent)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true},{\"name\":\"cursor\",\"in\":\"query\"},"
    "{\"name\":\"limit\",\"in\":\"query\"}],\"responses\":{\"200\":{\"description\":\"{items, next_cursor}\"}}}},"
    "\"/v1/customers/{id}/unmerge\":{\"post\":{\"summary\":\"Split a merged customer off its profile (admin)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true}],"
    "\"responses\":{\"200\":{\"description\":\"{customer_id, unmerged_from, seq}\"},"
    "\"409\":{\"description\":\"not merged\"}}}},"
    "\"/v1/metrics\":{\"get\":{\"summary\":\"A metric by dimensions, filtered (admin, analyst)\","
    "\"parameters\":[{\"name\":\"metric\",\"in\":\"query\",\"required\":true},{\"name\":\"by\",\"in\":\"query\"},"
    "{\"name\":\"where\",\"in\":\"query\"},{\"name\":\"from\",\"in\":\"query\"},{\"name\":\"to\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"{metric, by, rows}\"},\"400\":{\"description\":\"bad parameter\"}}}},"
    "\"/v1/customers/{id}/export\":{\"get\":{\"summary\":\"Profile and full history (admin)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true}],"
    "\"responses\":{\"200\":{\"description\":\"export\"}}}},"
    "\"/v1/clv/fit\":{\"post\":{\"summary\":\"Fit and store the BG/NBD + Gamma-Gamma model (admin)\","
    "\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"fit report\"},\"400\":{\"description\":\"too little data, bad unit\"}}}},"
    "\"/v1/clv/model\":{\"get\":{\"summary\":\"The model in use (admin, analyst)\","
    "\"responses\":{\"200\":{\"description\":\"fit report\"},\"404\":{\"description\":\"no model\"}}}},"
    "\"/v1/clv/predict\":{\"get\":{\"summary\":\"Expected purchases and predicted CLV (admin, analyst)\","
    "\"parameters\":[{\"name\":\"horizon\",\"in\":\"query\"},{\"name\":\"discount\",\"in\":\"query\"},"
    "{\"name\":\"top\",\"in\":\"query\"}],\"responses\":{\"200\":{\"description\":\"totals and top customers\"}}}},"
    "\"/v1/churn/at-risk\":{\"get\":{\"summary\":\"Valuable customers slipping away (admin, agent)\","
    "\"parameters\":[{\"name\":\"max_p_alive\",\"in\":\"query\"},{\"name\":\"min_value\",\"in\":\"query\"},"
    "{\"name\":\"limit\",\"in\":\"query\"}],\"responses\":{\"200\":{\"description\":\"ranked by value at risk\"}}}},"
    "\"/v1/churn/drivers\":{\"get\":{\"summary\":\"Churn risk by experience signal (admin, analyst)\","
    "\"responses\":{\"200\":{\"description\":\"groups with n, share at risk, margin\"}}}},"
    "\"/v1/text/sentiment\":{\"get\":{\"summary\":\"Score and explain a text (admin, analyst, agent)\","
    "\"parameters\":[{\"name\":\"text\",\"in\":\"query\",\"required\":true},{\"name\":\"explain\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"compound, label, themes, aspects, terms\"}}},"
    "\"post\":{\"summary\":\"The same with the text as the body\",\"requestBody\":{\"content\":{\"text/plain\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"as GET\"}}}},"
    "\"/v1/text/themes\":{\"get\":{\"summary\":\"Pain points by theme (admin, analyst)\","
    "\"parameters\":[{\"name\":\"by\",\"in\":\"query\"},{\"name\":\"where\",\"in\":\"query\"},"
    "{\"name\":\"from\",\"in\":\"query\"},{\"name\":\"to\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"rows ranked by pain\"}}}},"
    "\"/v1/text/emerging\":{\"get\":{\"summary\":\"Phrases rising against a baseline (admin, analyst, agent)\","
    "\"parameters\":[{\"name\":\"period\",\"in\":\"query\"},{\"name\":\"baseline\",\"in\":\"query\"},"
    "{\"name\":\"theme\",\"in\":\"query\"},{\"name\":\"sentiment\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"phrases with G2 and examples\"}}}},"
    "\"/v1/text/taxonomy\":{\"get\":{\"summary\":\"The theme taxonomy (admin, analyst)\","
    "\"responses\":{\"200\":{\"description\":\"taxonomy JSON\"}}},"
    "\"put\":{\"summary\":\"Replace it and re-theme every comment (admin)\","
    "\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"{rethemed, seq}\"},\"400\":{\"description\":\"invalid taxonomy\"}}}},"
    "\"/v1/journeys/{view}\":{\"get\":{\"summary\":\"Journey views: funnel, flows, paths, dropoffs, friction (admin, analyst)\","
    "\"parameters\":[{\"name\":\"view\",\"in\":\"path\",\"required\":true},{\"name\":\"where\",\"in\":\"query\"},"
    "{\"name\":\"from\",\"in\":\"query\"},{\"name\":\"to\",\"in\":\"query\"},{\"name\":\"gap\",\"in\":\"query\"},"
    "{\"name\":\"stages\",\"in\":\"query\"},{\"name\":\"goal\",\"in\":\"query\"},{\"name\":\"outcome\",\"in\":\"query\"},"
    "{\"name\":\"top\",\"in\":\"query\"},{\"name\":\"max_len\",\"in\":\"query\"},{\"name\":\"self_links\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"the view\"},\"400\":{\"description\":\"bad parameter\"}}}},"
    "\"/v1/customers/{id}/journey\":{\"get\":{\"summary\":\"One profile's episodes (admin, agent)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true},{\"name\":\"gap\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"episodes\"},\"404\":{\"description\":\"unknown\"}}}},"
    "\"/v1/segments\":{\"get\":{\"summary\":\"Segments with live member counts (admin, analyst, agent)\","
    "\"responses\":{\"200\":{\"description\":\"{segments:[...]}\"}}},"
    "\"post\":{\"summary\":\"Create a segment {id, name, rule, description} (admin, analyst)\","
    "\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"201\":{\"description\":\"the segment\"},\"400\":{\"description\":\"bad rule: the column\"},"
    "\"409\":{\"description\":\"id taken\"}}}},"
    "\"/v1/segments/preview\":{\"post\":{\"summary\":\"Check a rule and count its members (admin, analyst)\","
    "\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"{rule, members, profiles}\"},\"400\":{\"description\":\"bad rule\"}}}},"
    "\"/v1/segments/{id}\":{\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true}],"
    "\"get\":{\"summary\":\"One segment (admin, analyst, agent)\",\"responses\":{\"200\":{\"description\":\"the segment\"},"
    "\"404\":{\"description\":\"unknown\"}}},"
    "\"put\":{\"summary\":\"Change name, rule or description (admin, analyst)\","
    "\"requestBody\":{\"content\":{\"application/json\":{}}},\"responses\":{\"200\":{\"description\":\"the segment\"}}},"
    "\"delete\":{\"summary\":\"Delete (admin, analyst)\",\"responses\":{\"200\":{\"description\":\"deleted\"},"
    "\"409\":{\"description\":\"used by an action\"}}}},"
    "\"/v1/segments/{id}/members\":{\"get\":{\"summary\":\"Members, cursor-paginated, JSON or CSV (admin, agent)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true},{\"name\":\"cursor\",\"in\":\"query\"},"
    "{\"name\":\"limit\",\"in\":\"query\"},{\"name\":\"format\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"{segment, members, rows, next_cursor}\"}}}},"
    "\"/v1/actions\":{\"get\":{\"summary\":\"The action catalogue (admin, analyst, agent)\","
    "\"responses\":{\"200\":{\"description\":\"{actions:[...]}\"}}},"
    "\"put\":{\"summary\":\"Replace the catalogue (admin)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"the catalogue\"},\"400\":{\"description\":\"names the action and member\"}}}},"
    "\"/v1/contact-policy\":{\"get\":{\"summary\":\"The contact policy (admin, analyst, agent)\","
    "\"responses\":{\"200\":{\"description\":\"consent, suppress, caps, gaps\"}}},"
    "\"put\":{\"summary\":\"Replace the contact policy (admin)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"the policy\"},\"400\":{\"description\":\"names the member\"}}}},"
    "\"/v1/alert-rules\":{\"get\":{\"summary\":\"The alert rules in use (admin, analyst, agent)\","
    "\"responses\":{\"200\":{\"description\":\"{rules, business_hours, sla_defaults, messages}\"}}},"
    "\"put\":{\"summary\":\"Replace the alert rules (admin)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"the rules\"},\"400\":{\"description\":\"names rules[i].member\"}}}},"
    "\"/v1/cases\":{\"get\":{\"summary\":\"Cases, the most urgent first (admin, agent)\","
    "\"parameters\":[{\"name\":\"status\",\"in\":\"query\"},{\"name\":\"team\",\"in\":\"query\"},"
    "{\"name\":\"assignee\",\"in\":\"query\"},{\"name\":\"customer\",\"in\":\"query\"},"
    "{\"name\":\"breached\",\"in\":\"query\"},{\"name\":\"sort\",\"in\":\"query\"},"
    "{\"name\":\"offset\",\"in\":\"query\"},{\"name\":\"limit\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"{cases, total, next_offset}\"}}},"
    "\"post\":{\"summary\":\"Open a case by hand (admin, agent)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"201\":{\"description\":\"the case\"},\"400\":{\"description\":\"names the field\"}}}},"
    "\"/v1/cases/{id}\":{\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true}],"
    "\"get\":{\"summary\":\"A case with its history and links (admin, agent)\",\"responses\":{\"200\":{\"description\":\"the case\"},\"404\":{\"description\":\"no such case\"}}},"
    "\"patch\":{\"summary\":\"Assign, note, change status, resolve (admin, agent)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"the case\"},\"409\":{\"description\":\"a move the states do not allow\"}}}},"
    "\"/v1/webhooks\":{\"get\":{\"summary\":\"Webhook endpoints (admin)\",\"responses\":{\"200\":{\"description\":\"{webhooks}\"}}},"
    "\"post\":{\"summary\":\"Add an endpoint: {url, events, description} (admin)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"201\":{\"description\":\"the endpoint with its signing secret (shown once)\"}}}},"
    "\"/v1/webhooks/{id}\":{\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true}],"
    "\"get\":{\"summary\":\"An endpoint (admin)\",\"responses\":{\"200\":{\"description\":\"the endpoint and its pending count\"}}},"
    "\"patch\":{\"summary\":\"Change url, events, description, enabled, rotate_secret (admin)\",\"responses\":{\"200\":{\"description\":\"the endpoint\"}}},"
    "\"delete\":{\"summary\":\"Remove it and its deliveries (admin)\",\"responses\":{\"204\":{\"description\":\"removed\"}}}},"
    "\"/v1/webhooks/{id}/deliveries\":{\"get\":{\"summary\":\"Delivery log, newest first, with attempts (admin)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true},{\"name\":\"before\",\"in\":\"query\"},"
    "{\"name\":\"status\",\"in\":\"query\"},{\"name\":\"attempts\",\"in\":\"query\"},{\"name\":\"limit\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"{deliveries, next_before}\"}}}},"
    "\"/v1/webhooks/{id}/replay\":{\"post\":{\"summary\":\"Send events {from, to} (outbox ids) again, in order (admin)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true}],"
    "\"responses\":{\"200\":{\"description\":\"{replayed}\"}}}},"
    "\"/v1/settings/email\":{\"get\":{\"summary\":\"SMTP settings, without the password (admin)\",\"responses\":{\"200\":{\"description\":\"settings\"}}},"
    "\"put\":{\"summary\":\"Set {smtp_url, from, username, password, timeout_ms} (admin)\",\"responses\":{\"200\":{\"description\":\"settings\"}}}},"
    "\"/v1/employees\":{\"get\":{\"summary\":\"Employees and their teams (admin, analyst, agent)\",\"responses\":{\"200\":{\"description\":\"{employees}\"}}}},"
    "\"/v1/team/performance\":{\"get\":{\"summary\":\"Per agent and team: CSAT, NPS, cases, response and resolution times, SLA compliance, reopen rate, weekly trend\","
    "\"responses\":{\"200\":{\"description\":\"{agents, teams, trend}\"}}}},"
    "\"/v1/team/recognition\":{\"get\":{\"summary\":\"Leaderboard by Bayesian-adjusted CSAT and shout-outs\","
    "\"responses\":{\"200\":{\"description\":\"{leaderboard, shoutouts}\"}}}},"
    "\"/v1/team/enps\":{\"get\":{\"summary\":\"eNPS by team and period; small groups hidden\","
    "\"responses\":{\"200\":{\"description\":\"{rows}\"}}}},"
    "\"/v1/surveys\":{\"get\":{\"summary\":\"Surveys with invited, responded, completed (admin, analyst, agent)\","
    "\"responses\":{\"200\":{\"description\":\"{surveys:[...]}\"}}},"
    "\"post\":{\"summary\":\"Create a survey from its document (admin)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"201\":{\"description\":\"the normalised document\"},\"400\":{\"description\":\"field names the member\"},"
    "\"409\":{\"description\":\"id taken\"},\"413\":{\"description\":\"too big\"}}}},"
    "\"/v1/surveys/{id}\":{\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true}],"
    "\"get\":{\"summary\":\"A survey's normalised document (admin, analyst, agent)\",\"responses\":{\"200\":{\"description\":\"the document\"},"
    "\"404\":{\"description\":\"unknown\"}}},"
    "\"put\":{\"summary\":\"Replace it; the document's id must be the path's (admin)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"the normalised document\"},\"400\":{\"description\":\"field names the member\"},"
    "\"404\":{\"description\":\"unknown\"}}}},"
    "\"/v1/surveys/{id}/results\":{\"get\":{\"summary\":\"Response and completion rates, time to respond, scores (admin, analyst)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true},{\"name\":\"from\",\"in\":\"query\"},"
    "{\"name\":\"to\",\"in\":\"query\"},{\"name\":\"period\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"{survey, invited, responded, completed, rates, skipped, by_channel, by_period, metrics}\"},"
    "\"404\":{\"description\":\"unknown\"}}}},"
    "\"/v1/surveys/{id}/invitations\":{\"post\":{\"summary\":\"Invite {customers:[ids]} or {segment}, channel email or link (admin, agent)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true}],\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"{survey, invited, skipped, invitations}\"},\"400\":{\"description\":\"field names the member\"},"
    "\"404\":{\"description\":\"unknown survey or segment\"}}}},"
    "\"/v1/settings/surveys\":{\"get\":{\"summary\":\"Survey settings: public_url (admin)\",\"responses\":{\"200\":{\"description\":\"settings\"}}},"
    "\"put\":{\"summary\":\"Replace them (admin)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"settings\"},\"400\":{\"description\":\"field names the member\"}}}},"
    "\"/v1/decide\":{\"post\":{\"summary\":\"Next best actions for {customer, channel, context, limit, log, explain} (admin, agent)\","
    "\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"200\":{\"description\":\"{decision, customer, channel, ts, actions, excluded}\"},"
    "\"404\":{\"description\":\"unknown customer\"}}}},"
    "\"/v1/contacts\":{\"post\":{\"summary\":\"Record contacts, checked by the contact policy (admin, agent, writer)\","
    "\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"201\":{\"description\":\"{recorded, seq}\"},\"409\":{\"description\":\"refused: field names the rule\"}}}},"
    "\"/v1/customers/{id}/recommendations\":{\"get\":{\"summary\":\"Items for the customer with reasons (admin, agent)\","
    "\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true},{\"name\":\"n\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"{customer, items, model}\"}}}},"
    "\"/v1/items/{sku}/similar\":{\"get\":{\"summary\":\"Items bought by the same customers (admin, analyst, agent)\","
    "\"parameters\":[{\"name\":\"sku\",\"in\":\"path\",\"required\":true},{\"name\":\"n\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"{sku, buyers, similar}\"},\"404\":{\"description\":\"unknown item\"}}}},"
    "\"/v1/features\":{\"get\":{\"summary\":\"Customer features rules can use (admin, analyst, agent)\","
    "\"responses\":{\"200\":{\"description\":\"{features:[{name,type,meaning,time_dependent}]}\"}}}},"
    "\"/v1/decisions/uplift\":{\"get\":{\"summary\":\"Proposed, contacted or not, ordered within days (admin, analyst)\","
    "\"parameters\":[{\"name\":\"action\",\"in\":\"query\",\"required\":true},{\"name\":\"days\",\"in\":\"query\"},"
    "{\"name\":\"from\",\"in\":\"query\"},{\"name\":\"to\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"groups, uplift, margin\"},\"404\":{\"description\":\"unknown action\"}}}},"
    "\"/v1/recommendations/settings\":{\"get\":{\"summary\":\"Consumable categories, refresh interval\","
    "\"responses\":{\"200\":{\"description\":\"settings\"}}},\"put\":{\"summary\":\"Replace them (admin)\","
    "\"requestBody\":{\"content\":{\"application/json\":{}}},\"responses\":{\"200\":{\"description\":\"settings\"}}}},"
    "\"/v1/text/train\":{\"post\":{\"summary\":\"Learn sentiment from scored comments (admin)\","
    "\"responses\":{\"200\":{\"description\":\"training report\"}}}},"
    "\"/v1/keys\":{\"get\":{\"summary\":\"API keys without secrets (admin)\","
    "\"responses\":{\"200\":{\"description\":\"{keys: [{id, role, name, created, hint, current}]}\"}}},"
    "\"post\":{\"summary\":\"Create a key, shown once (admin)\",\"requestBody\":{\"content\":{\"application/json\":{}}},"
    "\"responses\":{\"201\":{\"description\":\"{key, id, role, name, hint}\"}}}},"
    "\"/v1/keys/{id}\":{\"delete\":{\"summary\":\"Revoke a key; its sessions end (admin)\","
    "\"responses\":{\"200\":{\"description\":\"{id, revoked}\"},\"409\":{\"description\":\"the last admin key\"}}}},"
    "\"/v1/session\":{\"get\":{\"summary\":\"Who is signed in, and the CSRF token\",\"security\":[],"
    "\"responses\":{\"200\":{\"description\":\"{role, csrf}\"}}},"
    "\"post\":{\"summary\":\"Sign in with a key for a session cookie\",\"security\":[],"
    "\"requestBody\":{\"content\":{\"application/json\":{}}},\"responses\":{\"200\":{\"description\":\"{role, csrf}\"}}},"
    "\"delete\":{\"summary\":\"Sign out\",\"responses\":{\"204\":{\"description\":\"signed out\"}}}},"
    "\"/v1/dimensions\":{\"get\":{\"summary\":\"Values of channel, touchpoint, stage, country, gender (admin, analyst, agent)\","
    "\"responses\":{\"200\":{\"description\":\"{channel, touchpoint, stage, country, gender, seq}\"}}}},"
    "\"/v1/feedback\":{\"get\":{\"summary\":\"Comments with scores and themes, searchable (admin, agent)\","
    "\"parameters\":[{\"name\":\"search\",\"in\":\"query\"},{\"name\":\"theme\",\"in\":\"query\"},"
    "{\"name\":\"sentiment\",\"in\":\"query\"},{\"name\":\"from\",\"in\":\"query\"},{\"name\":\"to\",\"in\":\"query\"},"
    "{\"name\":\"customer_id\",\"in\":\"query\"},{\"name\":\"channel\",\"in\":\"query\"},"
    "{\"name\":\"touchpoint\",\"in\":\"query\"},{\"name\":\"stage\",\"in\":\"query\"},"
    "{\"name\":\"cursor\",\"in\":\"query\"},{\"name\":\"limit\",\"in\":\"query\"}],"
    "\"responses\":{\"200\":{\"description\":\"{items, next_cursor}\"}}}}}}";

void api_openapi(struct req *r)
{
    char *body = cxm_strdup(openapi);
    if (!body) {
        reply_error(r, 500, "out_of_memory", "out of memory", -1, NULL);
        return;
    }
    reply_text(r, 200, "application/json", body, sizeof openapi - 1);
}
