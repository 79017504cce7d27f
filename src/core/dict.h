/* dict.h - dictionary encoding: interns short strings (channels,
 * touchpoints, agents...) to dense codes 1..n. Code 0 means "none". No
 * I/O; the owner serialises access. */
#ifndef CXM_DICT_H
#define CXM_DICT_H

#include "common.h"

struct dict;

struct dict *dict_new(uint32_t max_codes);   /* NULL on OOM */
void dict_free(struct dict *d);              /* accepts NULL */
/* Code of s, 0 when absent. */
uint32_t dict_find(const struct dict *d, const char *s);
/* Code of s, adding it when absent (*added set). CXM_ETOOBIG past max. */
int dict_intern(struct dict *d, const char *s, uint32_t *code, bool *added);
/* Sets code -> s exactly (replay). Codes must arrive as 1, 2, 3, ... */
int dict_load(struct dict *d, uint32_t code, const char *s);
/* String of code, NULL for 0 or unknown. */
const char *dict_str(const struct dict *d, uint32_t code);
uint32_t dict_count(const struct dict *d);
size_t dict_bytes(const struct dict *d);

#endif
