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

#endif
