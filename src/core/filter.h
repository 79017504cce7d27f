/* filter.h - the filter language of reports and segments:
 *   country = 'US' and age_band in ('25-34', '35-44') and not (score < 7)
 * parsed once into a tree, then evaluated per row through callbacks.
 * Pure: no I/O, no globals; the caller says which fields exist. */
#ifndef CXM_FILTER_H
#define CXM_FILTER_H

#include "common.h"

/* FT_SET: a set of texts per row (a customer's channels): read with
 * FIELD contains 'x' or FIELD('x'), evaluated through filter_has_fn. */
enum filter_type { FT_TEXT, FT_NUMBER, FT_SET };

/* A field the caller offers: its name and type. Field ids are indexes
 * into the caller's array. */
struct filter_field {
    const char *name;
    enum filter_type type;
};

struct filter;

/* Parses expr. Grammar (keywords case-insensitive):
 *   expr    := or
 *   or      := and ('or' and)*
 *   and     := unary ('and' unary)*
 *   unary   := 'not' unary | '(' expr ')' | cmp
 *   cmp     := FIELD op literal | FIELD 'in' '(' literal (',' literal)* ')'
 *            | FIELD 'between' literal 'and' literal
 *            | FIELD 'contains' literal | FIELD '(' literal ')'   (FT_SET)
 *   op      := '=' | '!=' | '<>' | '<' | '<=' | '>' | '>='
 *   literal := number | 'single-quoted' | "double-quoted" (a quote inside is
 *              doubled: 'O''Brien')
 * FIELD is [A-Za-z_][A-Za-z0-9_.:-]* (e.g. age_band, attr.tier); names
 * are case-sensitive, and the keywords and, or, not, in, between,
 * contains (in any case) cannot be field names. A number is -?digits[.digits][e[+-]digits]
 * (also .5 and 7.). Text fields take =, !=, in with text literals; number
 * fields every operator with numbers; set fields contains (or the call
 * form) with a text. between includes both ends (and
 * matches nothing when the first is larger).
 * Returns NULL with err set (CXM_EINVAL) on: a syntax error (the message
 * starts "column N: " with the 1-based byte column of the offending token
 * and says what was expected there), an unknown field (err->field is its
 * name; the message lists the known fields and suggests a close one), a
 * type mismatch (err->field names the field), an over-long expression
 * (> 4096 bytes) or nesting of '(' and 'not' deeper than 64; CXM_ENOMEM.
 * err may be NULL. expr NULL, empty or all blank gives a filter that
 * matches everything. fields is borrowed for the call only. */
struct filter *filter_parse(const char *expr, const struct filter_field *fields,
                            size_t nfields, struct cxm_err *err);
void filter_free(struct filter *f);   /* accepts NULL */

/* Turns every text literal into the number the caller compares it as (a
 * dictionary code, say): bind(ctx, field, text) returns it, or NAN when
 * the text can never match (an unknown channel): = is then never true and
 * != true whenever the row has a value. text is unescaped ('O''Brien'
 * arrives as O'Brien) and lives until the call returns. Call after parsing
 * and before evaluating a filter that has text literals (evaluating it
 * unbound is an assertion failure); calling again rebinds from scratch.
 * bind must not be NULL. Returns 0: it cannot fail. */
typedef double (*filter_bind_fn)(void *ctx, int field, const char *text);
int filter_bind(struct filter *f, filter_bind_fn bind, void *ctx);

/* Evaluates the filter on one row: get(ctx, field) returns the field's
 * value for the row (a number, or the code of a text), NAN when the row
 * has none; a comparison with a missing value is false (and 'not' of it
 * true, so "not (x = 1)" holds when x is missing but "x != 1" does not).
 * Comparisons run left to right and stop as soon as the answer is known,
 * so get is called only for fields in filter_fields_used (not always all
 * of them), and a field compared twice is fetched twice. A filter that matches everything
 * never calls get. Never allocates and does not modify f: threads may
 * share one bound filter. */
typedef double (*filter_get_fn)(void *ctx, int field);
bool filter_eval(const struct filter *f, filter_get_fn get, void *ctx);
/* The same for filters with set fields: has(ctx, field, code) says
 * whether the row's set holds the bound code (never called for a text
 * that bound to NAN: that test is false). has may be NULL only when the
 * filter has no set field. */
typedef bool (*filter_has_fn)(void *ctx, int field, double code);
bool filter_eval_sets(const struct filter *f, filter_get_fn get, filter_has_fn has,
                      void *ctx);

/* The fields the filter reads, as a bitmask over field ids 0..63 (for the
 * caller to skip work); bit 63 stands for every id >= 63. */
uint64_t filter_fields_used(const struct filter *f);

#endif
