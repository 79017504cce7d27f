/* limits.h - every input limit in one place, each with its reason.
 * Checked at the edge (http, cli); asserted in core. */
#ifndef CXM_CXM_LIMITS_H
#define CXM_CXM_LIMITS_H

/* Largest request body; a batch of 50k typical events fits. Configurable
 * with serve --max-body. */
#define CXM_MAX_BODY_DEFAULT (16u * 1024u * 1024u)
/* Records in one batch: bounds the work one request holds the writer. */
#define CXM_MAX_BATCH 100000
/* JSON nesting: records are flat objects with at most one level of
 * custom attributes and an items array. */
#define CXM_MAX_JSON_DEPTH 8
/* Short strings: names of channels, touchpoints, stages, agents, surveys. */
#define CXM_MAX_NAME 128
/* Identity values (emails are at most 254 by RFC 5321). */
#define CXM_MAX_IDENTITY 256
/* Identities named by one record. */
#define CXM_MAX_IDENTITIES 16
/* Free text: comments, transcripts excerpts. */
#define CXM_MAX_TEXT (64u * 1024u)
/* Event and order ids used for idempotency. */
#define CXM_MAX_EVENT_ID 128
/* Serialized custom attributes of one customer. */
#define CXM_MAX_ATTRS (16u * 1024u)
/* Line items in one order. */
#define CXM_MAX_ITEMS 1000
/* Rows in one page of a paginated answer. */
#define CXM_MAX_PAGE 1000
/* Comments an emerging-phrases report reads (current and baseline). */
#define CXM_MAX_EMERGING_COMMENTS 200000
#define CXM_DEFAULT_PAGE 50
/* A segment's members as one CSV file: about 5 million rows. */
#define CXM_MAX_CSV_EXPORT (256u * 1024u * 1024u)
/* Distinct values of one dictionary (channel, touchpoint, ...): codes are
 * 16-bit in the columns. */
#define CXM_MAX_DICT 65535
/* One CSV field and one CSV record. */
#define CXM_MAX_CSV_FIELD (64u * 1024u)
#define CXM_MAX_CSV_FIELDS 256
/* Customer search results. */
#define CXM_MAX_SEARCH 100

/* Longest filter expression in bytes: a filter is typed by a person or
 * stored in a segment definition; 4 KiB also bounds the work of parsing. */
#define FILTER_MAX_EXPR 4096
/* Deepest nesting of '(' and 'not' in a filter: bounds the recursion of
 * the parser and compiler, so no input can overflow the stack. */
#define FILTER_MAX_DEPTH 64

/* The public survey routes (no API key, anyone on the Internet):
 * a hosted page's form (a text answer is at most 5,000 bytes, sent
 * percent-encoded: up to 3 bytes each, with room for the other fields). */
#define CXM_MAX_SURVEY_FORM (64u * 1024u)
/* A widget answer: a score, a short comment and a visitor id. */
#define CXM_MAX_WIDGET_BODY (8u * 1024u)
/* Client addresses the rate limiters remember at once (each limiter):
 * bounds their memory (about 40 bytes each); the least recently seen
 * addresses are forgotten first. */
#define CXM_RATELIMIT_SLOTS 4096
/* Widget answers per client address: enough for a person answering on a
 * few pages, too few to flood the feedback tables. */
#define CXM_WIDGET_PER_MINUTE 10.0
#define CXM_WIDGET_BURST 5.0
/* Hosted page answers per client address: a respondent posts one page at
 * a time, while guessing tokens needs millions of tries; a generous
 * limit also serves a shared office address. */
#define CXM_PAGE_PER_MINUTE 60.0
#define CXM_PAGE_BURST 20.0

#endif
