/* rows.c - see rows.h */
#include "cli/rows.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Column names: the keys of the first row, else the dimensions and value. */
json_t *rows_columns(json_t *doc)
{
    json_t *rows = json_object_get(doc, "rows"), *cols = json_array();
    json_t *first = json_array_get(rows, 0);
    if (first) {
        const char *k;
        json_t *v;
        json_object_foreach(first, k, v)
            json_array_append_new(cols, json_string(k));
    } else {
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(doc, "by"), i, d)
            json_array_append(cols, d);
        json_array_append_new(cols, json_string("value"));
        json_array_append_new(cols, json_string("n"));
    }
    return cols;
}

/* A cell's text: empty for null; reals with two decimals in a table and
 * full precision in CSV. */
void rows_cell(json_t *v, bool table, char *out, size_t outsz)
{
    if (!v || json_is_null(v))
        snprintf(out, outsz, "%s", table ? "-" : "");
    else if (json_is_string(v))
        snprintf(out, outsz, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, outsz, table ? "%.2f" : "%.10g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, outsz, "%s", json_is_true(v) ? (table ? "yes" : "true")
                                                   : (table ? "no" : "false"));
    else if (json_is_array(v)) {
        /* a list of plain values, joined: "web,email" */
        size_t used = 0, i;
        json_t *x;
        out[0] = '\0';
        json_array_foreach(v, i, x) {
            char one[256];
            rows_cell(x, false, one, sizeof one);
            int n = snprintf(out + used, outsz - used, "%s%s", i ? "," : "", one);
            if (n < 0 || (size_t)n >= outsz - used)
                break;
            used += (size_t)n;
        }
        if (!used && table)
            snprintf(out, outsz, "-");
    } else
        snprintf(out, outsz, "?");
}

static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void print_csv(FILE *out, json_t *doc)
{
    json_t *cols = rows_columns(doc), *rows = json_object_get(doc, "rows");
    size_t i, j;
    json_t *c, *row;
    json_array_foreach(cols, j, c) {
        if (j)
            fputc(',', out);
        csv_field(out, json_string_value(c));
    }
    fputs("\r\n", out);
    json_array_foreach(rows, i, row) {
        json_array_foreach(cols, j, c) {
            char buf[512];
            rows_cell(json_object_get(row, json_string_value(c)), false, buf, sizeof buf);
            if (j)
                fputc(',', out);
            csv_field(out, buf);
        }
        fputs("\r\n", out);
    }
    json_decref(cols);
}

static void print_table(FILE *out, json_t *doc)
{
    json_t *cols = rows_columns(doc), *rows = json_object_get(doc, "rows");
    size_t nc = json_array_size(cols), nr = json_array_size(rows);
    size_t *w = cxm_calloc(nc, sizeof *w);
    if (!w) {
        json_decref(cols);
        return;
    }
    char buf[512];
    for (size_t j = 0; j < nc; j++) {
        const char *name = json_string_value(json_array_get(cols, j));
        w[j] = strlen(name);
        for (size_t i = 0; i < nr; i++) {
            rows_cell(json_object_get(json_array_get(rows, i), name), true, buf, sizeof buf);
            if (strlen(buf) > w[j])
                w[j] = strlen(buf);
        }
    }
    for (size_t j = 0; j < nc; j++)
        fprintf(out, "%s%-*s", j ? "  " : "", (int)w[j], json_string_value(json_array_get(cols, j)));
    fputc('\n', out);
    for (size_t i = 0; i < nr; i++) {
        json_t *row = json_array_get(rows, i);
        for (size_t j = 0; j < nc; j++) {
            json_t *v = json_object_get(row, json_string_value(json_array_get(cols, j)));
            rows_cell(v, true, buf, sizeof buf);
            /* numbers align right, text left */
            bool num = v && (json_is_number(v) || json_is_null(v));
            fprintf(out, num ? "%s%*s" : "%s%-*s", j ? "  " : "", (int)w[j], buf);
        }
        fputc('\n', out);
    }
    if (!nr)
        fprintf(out, "(no rows)\n");
    free(w);
    json_decref(cols);
}

void rows_print(FILE *out, json_t *doc, const char *format)
{
    if (!strcmp(format, "json")) {
        json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        fputc('\n', out);
    } else if (!strcmp(format, "csv")) {
        print_csv(out, doc);
    } else {
        print_table(out, doc);
    }
}


json_t *rows_flat(json_t *v)
{
    bool nested = json_is_object(v);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
        nested = nested || json_is_object(x) || json_is_array(x);
    if (!nested)
        return v ? json_incref(v) : json_null();
    char *s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_t *t = s ? json_string(s) : json_null();
    free(s);
    return t;
}

void rows_print_doc(FILE *out, json_t *doc, const char *format,
                    json_t *(*table_of)(const char *member, json_t *v),
                    void (*print_part)(FILE *out, json_t *rows, const char *format))
{
    json_t *fields = json_array(), *v, *t;
    const char *k;
    size_t ntables = 0;
    json_object_foreach(doc, k, v) {
        if ((t = table_of(k, v))) {
            ntables++;
            json_decref(t);
            continue;
        }
        /* as text: a column of mixed values reads better aligned left;
         * cell may end inside a UTF-8 sequence: it was cut to fit */
        char cell[512];
        json_t *f = rows_flat(v);
        rows_cell(f, !strcmp(format, "table"), cell, sizeof cell);
        json_decref(f);
        json_array_append_new(fields, json_pack("{s:s, s:o}", "field", k, "value",
                                                json_string_nocheck(cell)));
    }
    bool any = json_array_size(fields) > 0;
    if (any)
        print_part(out, fields, format);
    json_decref(fields);
    json_object_foreach(doc, k, v) {
        if (!(t = table_of(k, v)))
            continue;
        if (any)
            fputc('\n', out);
        if (any || ntables > 1)
            fprintf(out, "%s:\n", k);
        print_part(out, t, format);
        json_decref(t);
        any = true;
    }
}
