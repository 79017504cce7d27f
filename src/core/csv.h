/* csv.h - streaming RFC 4180 CSV reader for imports. Bytes come through a
 * caller-supplied callback: the reader never opens, reads or closes files. */
#ifndef CXM_CSV_H
#define CXM_CSV_H

#include <stddef.h>

#include "common.h"

struct csv_reader;

/* Places up to cap bytes in buf and returns how many: 0 means end of input,
 * (size_t)-1 a read error. Called again only while it returns data. */
typedef size_t (*csv_read_fn)(void *ctx, char *buf, size_t cap);

/* New reader pulling from read(ctx, ...); ctx is borrowed for the reader's
 * life. Returns NULL on OOM. */
struct csv_reader *csv_new(csv_read_fn read, void *ctx);
/* Frees r and every record it returned; r may be NULL. */
void csv_free(struct csv_reader *r);

/* Reads the next record. Returns 1 and sets *fields / *nfields: an array of
 * NUL-terminated strings ("" for an empty field) owned by r and valid until
 * the next csv_next or csv_free. Returns 0 at end of input (and on every
 * later call). Returns -1 with err (may be NULL) set, err->msg naming the
 * line and column or field number and why:
 *   CXM_EINVAL  unterminated quoted field, quote inside an unquoted field,
 *               junk after a closing quote, CR without LF, NUL byte,
 *               invalid UTF-8;
 *   CXM_ETOOBIG a field over CXM_MAX_CSV_FIELD bytes or more than
 *               CXM_MAX_CSV_FIELDS fields;
 *   CXM_ENOMEM, CXM_EIO (the callback failed).
 * After a NUL byte, invalid UTF-8, CXM_ETOOBIG or CXM_ENOMEM the bad record
 * has been consumed and the next call reads the record after it. The
 * other errors leave no way to tell where the next record starts: every
 * later call returns the same error. A UTF-8 BOM at the start is skipped,
 * lines end in LF or CRLF, and empty lines are skipped. */
int csv_next(struct csv_reader *r, char ***fields, size_t *nfields, struct cxm_err *err);

/* 1-based physical line on which the last record returned by csv_next
 * started (also when it returned -1 for that record); 0 before any. Line
 * breaks inside quoted fields count. */
size_t csv_line(const struct csv_reader *r);

#endif
