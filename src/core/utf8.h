/* utf8.h - strict UTF-8 validation and control-character checks for
 * imported text. Never decodes, allocates or changes its input. */
#ifndef CXM_UTF8_H
#define CXM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the n bytes at s are well-formed UTF-8 (Unicode 15, table
 * 3-7): rejects overlong forms, surrogates (U+D800..U+DFFF), code points
 * above U+10FFFF and sequences cut short by the end of the input. NUL bytes
 * are valid UTF-8 and are accepted. s may be NULL when n is 0. */
bool utf8_valid(const char *s, size_t n);

/* True when the n bytes at s hold an ASCII control character other than
 * tab, LF and CR: 0x00-0x1F and DEL (0x7F). Bytes >= 0x80 are never
 * controls here, so UTF-8 text passes. s may be NULL when n is 0. */
bool utf8_has_control(const char *s, size_t n);

#endif
