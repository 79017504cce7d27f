/* rows.h - prints a report-style document ({"rows":[{...}], "by":[...]})
 * as an aligned table, RFC 4180 CSV or JSON. Used by report and
 * benchmarks; never computes anything. */
#ifndef CXM_ROWS_H
#define CXM_ROWS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Column names: the keys of the first row, else the "by" dimensions with
 * value and n. A new reference. */
json_t *rows_columns(json_t *doc);
/* A cell's text: "-" (table) or "" (CSV) for null; reals with two
 * decimals in a table, full precision in CSV. */
void rows_cell(json_t *v, bool table, char *out, size_t outsz);
/* format: "table", "csv" or "json". */
void rows_print(FILE *out, json_t *doc, const char *format);

#endif
