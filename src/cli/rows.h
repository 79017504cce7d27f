/* rows.h - prints a report-style document ({"rows":[{...}], "by":[...]})
 * as an aligned table, RFC 4180 CSV or JSON, and any document as tables
 * of its parts. Used by the commands; never computes anything. */
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
/* v as a cell rows_print can show: objects, and arrays holding objects or
 * arrays, as compact JSON text; null for NULL. A new reference. */
json_t *rows_flat(json_t *v);
/* Prints doc (format "table" or "csv") in parts: its single values as a
 * field/value table, then each member that is a table under its name (the
 * name only when there is more than one part; parts separated by an empty
 * line). table_of gives a member's rows (a new reference), NULL for a
 * single value; print_part prints rows, the field/value table too. */
void rows_print_doc(FILE *out, json_t *doc, const char *format,
                    json_t *(*table_of)(const char *member, json_t *v),
                    void (*print_part)(FILE *out, json_t *rows, const char *format));

#endif
